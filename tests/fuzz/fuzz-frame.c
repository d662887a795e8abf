/*
 * fuzz-frame: bytes as they come off a client's socket, through the frame
 * reader (sso_wire_recv() over a socketpair) and every frame's body through
 * the one dispatch, on the filled fuzz vault.  This reaches the request
 * parsing of every operation: names, principals, tickets, JSON app specs
 * and changes, credentials, certificate imports, ENTSSO XML, port settings,
 * suspended messages, audit requests.
 *
 * Input: u8 caller (bit 0: 0 the vault admin, 1 a stranger with no role) |
 * the byte stream: frames of `u32 length | u8 version | body`.  At most
 * FRAMES frames are read; the changes of write operations are rolled back
 * after each input (fuzz-common.h).  The frame reader must end with one of
 * its documented errors and never hand out a descriptor nobody passed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "proto/wire.h"

#define FRAME_CAP 65536		/* the reader's cap here (the daemon's is 64 MiB) */
#define FRAMES 8
#define STREAM_MAX (128 * 1024)	/* what a socketpair takes without a reader */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct svbuf *in, *reply;

/* --- seeds --------------------------------------------------------------- */

static struct svbuf *stream;

static void
frame(struct svbuf *req)
{
	if (svbuf_put_u32(stream, (uint32_t)svbuf_len(req) + 1) != 0 ||
	    svbuf_put_u8(stream, 1) != 0 ||
	    svbuf_put(stream, svbuf_ptr(req), svbuf_len(req)) != 0)
		fuzz_die("out of memory");
	svbuf_free(req);
}

static void
seed_begin(uint8_t caller)
{
	svbuf_reset(stream);
	if (svbuf_put_u8(stream, caller) != 0)
		fuzz_die("out of memory");
}

static void
seed_end(const char *name)
{
	fuzz_seed(name, svbuf_ptr(stream), svbuf_len(stream));
}

/* A seed of one request with up to three string fields. */
static void
seed1(const char *name, uint8_t op, const char *a, const char *b, const char *c)
{
	struct svbuf *q = fuzz_req(op);

	if (a != NULL)
		fuzz_put_cstr(q, a);
	if (b != NULL)
		fuzz_put_cstr(q, b);
	if (c != NULL)
		fuzz_put_cstr(q, c);
	seed_begin(0);
	frame(q);
	seed_end(name);
}

static void
make_seeds(void)
{
	struct svbuf *q;

	if ((stream = svbuf_new(0)) == NULL)
		fuzz_die("out of memory");
	seed1("status", SSO_OP_STATUS, NULL, NULL, NULL);
	seed1("role-list", SSO_OP_ROLE_LIST, NULL, NULL, NULL);
	seed1("role-add", SSO_OP_ROLE_ADD, "affiliate-admin", "group:ops", NULL);
	seed1("role-remove", SSO_OP_ROLE_REMOVE, "vault-admin", fuzz.self, NULL);
	seed1("app-list", SSO_OP_APP_LIST, NULL, NULL, NULL);
	seed1("app-show", SSO_OP_APP_SHOW, FUZZ_APP, NULL, NULL);
	seed1("app-create", SSO_OP_APP_CREATE,
	    "{\"name\":\"Fresh\",\"type\":\"individual\",\"admins\":[\"group:adm\"],"
	    "\"users\":[\"user:bob\",\"uid:1001\"],\"fields\":[{\"label\":\"user\"},"
	    "{\"label\":\"secret\",\"masked\":true}],\"enabled\":true}", NULL, NULL);
	seed1("app-update", SSO_OP_APP_UPDATE, FUZZ_APP,
	    "{\"description\":\"new\",\"add_users\":[\"user:carol\"],\"remove_users\":[\"uid:4242\"]}",
	    NULL);
	seed1("app-enable", SSO_OP_APP_ENABLE, FUZZ_APP_GROUP, NULL, NULL);
	seed1("app-disable", SSO_OP_APP_DISABLE, FUZZ_APP, NULL, NULL);
	seed1("app-delete", SSO_OP_APP_DELETE, FUZZ_APP_REUSE, NULL, NULL);
	q = fuzz_req(SSO_OP_APP_IMPORT);
	{
		static const char xml[] =
		    "<sso><application name=\"Imported\"><description>d</description>"
		    "<appUserAccount>DOMAIN\\users</appUserAccount>"
		    "<appAdminAccount>admins</appAdminAccount>"
		    "<field ordinal=\"0\" label=\"User Id\" masked=\"no\"/>"
		    "<field ordinal=\"1\" label=\"Password\" masked=\"yes\"/>"
		    "<flags groupApp=\"no\" enableApp=\"yes\"/></application>"
		    "<mapping><windowsDomain>DOMAIN</windowsDomain><windowsUserId>bob</windowsUserId>"
		    "<externalApplication>Imported</externalApplication>"
		    "<externalUserId>bob-ext</externalUserId></mapping></sso>";

		fuzz_put_str(q, xml, sizeof(xml) - 1);
	}
	seed_begin(0);
	frame(q);
	seed_end("app-import");
	seed1("mapping-create", SSO_OP_MAPPING_CREATE, FUZZ_APP, "uid:4242", "bob");
	seed1("mapping-list", SSO_OP_MAPPING_LIST, "", NULL, NULL);
	seed1("mapping-enable", SSO_OP_MAPPING_ENABLE, FUZZ_APP, fuzz.self, NULL);
	seed1("mapping-disable", SSO_OP_MAPPING_DISABLE, FUZZ_APP, fuzz.self, NULL);
	seed1("mapping-delete", SSO_OP_MAPPING_DELETE, FUZZ_APP, fuzz.self, NULL);
	seed1("creds-get", SSO_OP_CREDS_GET, FUZZ_APP, "", NULL);
	seed1("creds-get-group", SSO_OP_CREDS_GET, FUZZ_APP_GROUP, fuzz.group, NULL);
	q = fuzz_req(SSO_OP_CREDS_SET);
	fuzz_put_cstr(q, FUZZ_APP);
	fuzz_put_cstr(q, "");
	fuzz_put_u32(q, 2);
	fuzz_put_cstr(q, "password");
	fuzz_put_cstr(q, "new secret");
	fuzz_put_cstr(q, "PIN");
	fuzz_put_cstr(q, "9999");
	seed_begin(0);
	frame(q);
	seed_end("creds-set");
	seed1("ticket-issue", SSO_OP_TICKET_ISSUE, NULL, NULL, NULL);
	seed1("ticket-redeem", SSO_OP_TICKET_REDEEM, FUZZ_APP, fuzz.ticket, "");
	seed1("ticket-redeem-sender", SSO_OP_TICKET_REDEEM, FUZZ_APP_REUSE, fuzz.ticket, fuzz.self);
	q = fuzz_req(SSO_OP_TICKET_SETTINGS);
	fuzz_put_u8(q, 1);
	fuzz_put_u8(q, 1);
	fuzz_put_u32(q, 30);
	seed_begin(0);
	frame(q);
	seed_end("ticket-settings");
	seed1("cert-list", SSO_OP_CERT_LIST, NULL, NULL, NULL);
	seed1("cert-show", SSO_OP_CERT_SHOW, fuzz.sha1, NULL, NULL);
	seed1("cert-export", SSO_OP_CERT_EXPORT, fuzz.sha1, NULL, NULL);
	seed1("cert-fetch", SSO_OP_CERT_FETCH, fuzz.sha1, NULL, NULL);
	seed1("cert-grant", SSO_OP_CERT_GRANT, fuzz.sha1, "group:senders", NULL);
	seed1("cert-revoke", SSO_OP_CERT_REVOKE, fuzz.sha1, fuzz.self, NULL);
	seed1("cert-delete", SSO_OP_CERT_DELETE, fuzz.sha1, NULL, NULL);
	q = fuzz_req(SSO_OP_CERT_IMPORT);
	fuzz_put_str(q, fuzz.cert_pem, strlen(fuzz.cert_pem));
	fuzz_put_cstr(q, "");
	fuzz_put_str(q, fuzz.key_pem, strlen(fuzz.key_pem));
	fuzz_put_u32(q, 2);
	fuzz_put_cstr(q, "user:bob");
	fuzz_put_cstr(q, "group:senders");
	fuzz_put_u8(q, 0);
	seed_begin(0);
	frame(q);
	seed_end("cert-import");
	q = fuzz_req(SSO_OP_CERT_SIGN);
	fuzz_put_cstr(q, fuzz.sha1);
	fuzz_put_u8(q, 3);
	fuzz_put_u8(q, 3);
	fuzz_put_u8(q, 1);
	fuzz_put_u8(q, 0);
	fuzz_put_u32(q, UINT32_MAX);
	fuzz_put_cstr(q, "data to sign");
	seed_begin(0);
	frame(q);
	seed_end("cert-sign");
	q = fuzz_req(SSO_OP_CERT_UPDATE);
	fuzz_put_cstr(q, fuzz.sha1);
	fuzz_put_u8(q, 0);
	seed_begin(0);
	frame(q);
	seed_end("cert-update");
	seed1("cert-usable", SSO_OP_CERT_USABLE, "", NULL, NULL);
	seed1("cert-usable-one", SSO_OP_CERT_USABLE, fuzz.sha1, NULL, NULL);
	seed1("port-list", SSO_OP_PORT_LIST, NULL, NULL, NULL);
	seed1("port-show", SSO_OP_PORT_SHOW, FUZZ_PORT, NULL, NULL);
	seed1("port-create", SSO_OP_PORT_CREATE, "invoices",
	    "{\"url\":\"https://example.invalid/x\",\"auth\":\"ntlm\",\"cert\":\"00\","
	    "\"headers\":[\"X-A: b\"],\"retry_interval\":60}", NULL);
	seed1("port-update", SSO_OP_PORT_UPDATE, FUZZ_PORT, "{\"timeout\":5,\"url\":null}", NULL);
	seed1("port-delete", SSO_OP_PORT_DELETE, FUZZ_PORT, NULL, NULL);
	seed1("suspended-list", SSO_OP_SUSPENDED_LIST, NULL, NULL, NULL);
	seed1("suspended-show", SSO_OP_SUSPENDED_SHOW, fuzz.msg_id, NULL, NULL);
	seed1("suspended-get", SSO_OP_SUSPENDED_GET, fuzz.msg_id, NULL, NULL);
	q = fuzz_req(SSO_OP_SUSPENDED_ADD);
	fuzz_put_cstr(q, "{\"url\":\"https://example.invalid/\"}");
	fuzz_put_cstr(q, "<a/>");
	fuzz_put_cstr(q, "HTTP 503\nagain");
	fuzz_put_u32(q, 3);
	seed_begin(0);
	frame(q);
	seed_end("suspended-add");
	q = fuzz_req(SSO_OP_SUSPENDED_UPDATE);
	fuzz_put_cstr(q, fuzz.msg_id);
	fuzz_put_cstr(q, "still down");
	fuzz_put_u32(q, 2);
	seed_begin(0);
	frame(q);
	seed_end("suspended-update");
	q = fuzz_req(SSO_OP_SUSPENDED_REMOVE);
	fuzz_put_cstr(q, fuzz.msg_id);
	fuzz_put_u8(q, 1);
	seed_begin(0);
	frame(q);
	seed_end("suspended-remove");
	q = fuzz_req(SSO_OP_SUSPENDED_ADD);
	fuzz_put_cstr(q, "{\"url\":\"http://example.invalid/\",\"user\":\"x\","
	    "\"password_file\":\"/etc/shadow\",\"out\":\"/etc/x\",\"headers\":[\"X: \\u001b\"]}");
	fuzz_put_cstr(q, "<a/>");
	fuzz_put_cstr(q, "planted");
	fuzz_put_u32(q, 1);
	seed_begin(1);
	frame(q);
	seed_end("suspended-add-planted");
	seed1("suspended-limits", SSO_OP_SUSPENDED_LIMITS, NULL, NULL, NULL);
	q = fuzz_req(SSO_OP_SUSPENDED_LIMITS_SET);
	fuzz_put_u64(q, 5);
	fuzz_put_u64(q, UINT64_MAX);
	seed_begin(0);
	frame(q);
	seed_end("suspended-limits-set");
	q = fuzz_req(SSO_OP_AUDIT_LIST);
	fuzz_put_u64(q, 0);
	fuzz_put_u64(q, 10);
	seed_begin(0);
	frame(q);
	seed_end("audit-list");
	seed1("audit-verify", SSO_OP_AUDIT_VERIFY, NULL, NULL, NULL);
	q = fuzz_req(SSO_OP_AUDIT_PRUNE);
	fuzz_put_u64(q, 3);
	seed_begin(0);
	frame(q);
	seed_end("audit-prune");
	seed1("audit-level", SSO_OP_AUDIT_LEVEL, "high", "none", NULL);
	q = fuzz_req(SSO_OP_SECRET_BACKUP);
	fuzz_put_str(q, "another password", 16);
	fuzz_put_cstr(q, "hint");
	seed_begin(0);
	frame(q);
	seed_end("secret-backup");
	q = fuzz_req(SSO_OP_SECRET_RESTORE);
	fuzz_put_str(q, fuzz.backup, fuzz.backup_len);
	fuzz_put_str(q, FUZZ_BACKUP_PW, strlen(FUZZ_BACKUP_PW));
	fuzz_put_str(q, "", 0);
	fuzz_put_str(q, fuzz.key, sizeof(fuzz.key));
	seed_begin(0);
	frame(q);
	seed_end("secret-restore");
	q = fuzz_req(SSO_OP_UNLOCK);
	fuzz_put_u8(q, 2);
	fuzz_put_str(q, fuzz.key, sizeof(fuzz.key));
	seed_begin(0);
	frame(q);
	seed_end("unlock-key");
	q = fuzz_req(SSO_OP_UNLOCK);
	fuzz_put_u8(q, 1);
	fuzz_put_str(q, FUZZ_PASSPHRASE, strlen(FUZZ_PASSPHRASE));
	seed_begin(0);
	frame(q);
	seed_end("unlock-passphrase");
	seed1("lock", SSO_OP_LOCK, NULL, NULL, NULL);
	seed1("secret-rotate", SSO_OP_SECRET_ROTATE, NULL, NULL, NULL);

	/* a stranger's attempts, and a sequence in one stream */
	q = fuzz_req(SSO_OP_CREDS_GET);
	fuzz_put_cstr(q, FUZZ_APP);
	fuzz_put_cstr(q, "");
	seed_begin(1);
	frame(q);
	seed_end("stranger-creds-get");
	q = fuzz_req(SSO_OP_ROLE_ADD);
	fuzz_put_cstr(q, "vault-admin");
	fuzz_put_cstr(q, "uid:4242");
	seed_begin(1);
	frame(q);
	seed_end("stranger-role-add");
	seed_begin(0);
	q = fuzz_req(SSO_OP_MAPPING_CREATE);
	fuzz_put_cstr(q, FUZZ_APP);
	fuzz_put_cstr(q, "uid:4242");
	fuzz_put_cstr(q, "bob");
	frame(q);
	q = fuzz_req(SSO_OP_CREDS_SET);
	fuzz_put_cstr(q, FUZZ_APP);
	fuzz_put_cstr(q, "uid:4242");
	fuzz_put_u32(q, 1);
	fuzz_put_cstr(q, "password");
	fuzz_put_cstr(q, "bobs secret");
	frame(q);
	q = fuzz_req(SSO_OP_CREDS_GET);
	fuzz_put_cstr(q, FUZZ_APP);
	fuzz_put_cstr(q, "uid:4242");
	frame(q);
	seed_end("sequence");
	svbuf_free(stream);
	stream = NULL;
}

/* --- fuzzing ------------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	if ((in = svbuf_new_secure(FRAME_CAP)) == NULL || (reply = svbuf_new_secure(0)) == NULL)
		fuzz_die("out of memory");
	make_seeds();
	return 0;
}

static void
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) <= 0)
			fuzz_die("socketpair write failed");
		p += n;
		len -= (size_t)n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sso_caller *caller;
	int sv[2], fd, r, i, sndbuf = STREAM_MAX * 2;

	if (size < 1)
		return 0;
	caller = (data[0] & 1) ? &fuzz.stranger : &fuzz.admin;
	data++;
	size--;
	if (size > STREAM_MAX)
		size = STREAM_MAX;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		fuzz_die("socketpair failed");
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	write_all(sv[0], data, size);
	shutdown(sv[0], SHUT_WR);
	for (i = 0; i < FRAMES; i++) {
		fd = -2;
		r = sso_wire_recv(sv[1], FRAME_CAP, in, &fd);
		if (r != 0) {
			FUZZ_CHECK(r == SV_ERR_TRUNCATED || r == SV_ERR_UNREACHABLE ||
			    r == SV_ERR_TOO_LARGE || r == SV_ERR_PROTOCOL,
			    "sso_wire_recv: unexpected error %d (%s)", r, sv_strerror(r));
			FUZZ_CHECK(svbuf_len(in) == 0, "a failed read left %zu bytes", svbuf_len(in));
			break;
		}
		FUZZ_CHECK(fd == -1, "sso_wire_recv handed out descriptor %d", fd);
		FUZZ_CHECK(svbuf_len(in) <= FRAME_CAP, "frame over the cap");
		(void)fuzz_dispatch(caller, svbuf_ptr(in), svbuf_len(in), reply);
	}
	close(sv[0]);
	close(sv[1]);
	svbuf_reset(in);
	fuzz_input_done();
	return 0;
}
