/*
 * The policy table as a matrix: every operation of the service, run through
 * sso_dispatch() by each role (synthetic callers: no NSS needed), must be
 * allowed or denied as DESIGN section 4 says; every denial must name what
 * is missing and leave an audit record.  Then the handler-level rules the
 * table cannot express (app admins change only user lists, ticket flags are
 * vault-admin only, own mapping only), group apps, and tickets with an
 * injected clock: lifetime, per-app timeout, single use, validation,
 * tampering, another vault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "tap.h"
#include "ops/ops.h"

#define PASS "correct horse battery staple"

enum role { R_OUT, R_GROUP, R_USER, R_APPADM, R_AFF, R_VAULT, R__N };

static const char *const role_names[R__N] = {
	"outsider", "group member", "app user", "app admin", "affiliate admin", "vault admin",
};

#define B(r) (1u << (r))
#define ALL (B(R_OUT) | B(R_GROUP) | B(R_USER) | B(R_APPADM) | B(R_AFF) | B(R_VAULT))
#define AFF (B(R_AFF) | B(R_VAULT))
#define ADM (B(R_APPADM) | AFF)
#define MEMBER (B(R_USER) | B(R_GROUP) | ADM)

static struct sso_caller callers[R__N];
static struct sso_service *svc;
static int64_t clock_now;
static char thumb[41];		/* the test certificate, once imported */

static int64_t
test_clock(void *ctx)
{
	return *(int64_t *)ctx;
}

static void
caller_init(struct sso_caller *c, uid_t uid, gid_t extra)
{
	memset(c, 0, sizeof(*c));
	c->uid = uid;
	c->gid = 7000;
	c->pid = getpid();
	if (extra != 0) {
		c->groups[0] = extra;
		c->ngroups = 1;
	}
	snprintf(c->exe, sizeof(c->exe), "/test-policy");
}

/* --- requests -------------------------------------------------------- */

static void
must(int r)
{
	if (r != 0) {
		fprintf(stderr, "test-policy: building a request failed: %s\n", sv_strerror(r));
		exit(2);
	}
}

static struct svbuf *
rq(enum sso_op op)
{
	struct svbuf *b = svbuf_new_secure(0);

	if (b == NULL)
		exit(2);
	must(svbuf_put_u8(b, (uint8_t)op));
	return b;
}

static void
ps(struct svbuf *b, const char *s)
{
	must(svbuf_put_cstring(b, s));
}

static void
pu8(struct svbuf *b, uint8_t v)
{
	must(svbuf_put_u8(b, v));
}

static void
pu32(struct svbuf *b, uint32_t v)
{
	must(svbuf_put_u32(b, v));
}

static void
pu64(struct svbuf *b, uint64_t v)
{
	must(svbuf_put_u64(b, v));
}

struct reply {
	int status;
	char msg[SV_MSG_MAX + 64];
	struct svbuf *payload;	/* what follows the message */
};

/* Dispatch req (consumed) as who; the reply's status, message and payload. */
static int
call(enum role who, struct svbuf *req, struct reply *ret)
{
	struct svbuf *reply = svbuf_new_secure(0);
	const uint8_t *p;
	uint32_t st;
	size_t n;

	if (reply == NULL)
		exit(2);
	sso_dispatch(svc, &callers[who], svbuf_ptr(req), svbuf_len(req), -1, reply);
	svbuf_free(req);
	if (svbuf_get_u32(reply, &st) != 0 || svbuf_get_string_direct(reply, &p, &n) != 0) {
		fprintf(stderr, "test-policy: malformed reply\n");
		exit(2);
	}
	if (ret != NULL) {
		ret->status = (int)(int32_t)st;
		snprintf(ret->msg, sizeof(ret->msg), "%.*s", (int)n, (const char *)p);
		ret->payload = reply;
	} else {
		svbuf_free(reply);
	}
	return (int)(int32_t)st;
}

static int
call_quiet(enum role who, struct svbuf *req)
{
	return call(who, req, NULL);
}

static int
call_msg(enum role who, struct svbuf *req, char *msg, size_t len)
{
	struct reply r;
	int st = call(who, req, &r);

	snprintf(msg, len, "%s", r.msg);
	svbuf_free(r.payload);
	return st;
}

static size_t
table_count(enum sso_table t)
{
	struct vault_info vi;

	/* records of reads wait in the journal for a fold: count them too */
	if (t == SSO_TABLE_AUDIT && sso_service_flush(svc) != 0)
		return (size_t)-1;
	if (vault_info_get(sso_service_vault(svc), &vi) != 0)
		return (size_t)-1;
	return vi.entries[t];
}

/* --- fixtures -------------------------------------------------------- */

static int
app_create(const char *spec)
{
	struct svbuf *b = rq(SSO_OP_APP_CREATE);

	ps(b, spec);
	return call_quiet(R_VAULT, b);
}

static int
mapping_create(const char *app, const char *p, const char *ext)
{
	struct svbuf *b = rq(SSO_OP_MAPPING_CREATE);

	ps(b, app);
	ps(b, p);
	ps(b, ext);
	return call_quiet(R_VAULT, b);
}

static int
creds_set(enum role who, const char *app, const char *user, const char *pw)
{
	struct svbuf *b = rq(SSO_OP_CREDS_SET);

	ps(b, app);
	ps(b, user);
	pu32(b, 1);
	ps(b, "password");
	ps(b, pw);
	return call_quiet(who, b);
}

static int
unlock(void)
{
	struct svbuf *b = rq(SSO_OP_UNLOCK);

	pu8(b, 1);
	must(svbuf_put_string(b, PASS, strlen(PASS)));
	return call_quiet(R_OUT, b);
}

/* A self-signed EC certificate and its key, as one PEM text (malloc). */
static char *
make_cert_pem(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL, *p;
	long len;

	if (k == NULL || x == NULL || bio == NULL)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"policy test",
	    -1, -1, 0);
	X509_set_issuer_name(x, n);
	if (X509_sign(x, k, EVP_sha256()) == 0 || PEM_write_bio_X509(bio, x) != 1 ||
	    PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	len = BIO_get_mem_data(bio, &p);
	if ((pem = malloc((size_t)len + 1)) != NULL) {
		memcpy(pem, p, (size_t)len);
		pem[len] = '\0';
	}
out:
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(k);
	return pem;
}

static char *cert_pem;

/* Import the test certificate for the app user (a no-op if it is there). */
static void
cert_import(void)
{
	struct svbuf *b = rq(SSO_OP_CERT_IMPORT);
	struct reply r;
	const uint8_t *p;
	size_t n;

	must(svbuf_put_string(b, cert_pem, strlen(cert_pem)));
	ps(b, "");
	must(svbuf_put_string(b, NULL, 0));
	pu32(b, 1);
	ps(b, "uid:5003");
	pu8(b, 1);	/* exportable: the fetch row asks for the key */
	if (call(R_VAULT, b, &r) == 0 && svbuf_get_string_direct(r.payload, &p, &n) == 0 &&
	    n == 40)
		snprintf(thumb, sizeof(thumb), "%.40s", (const char *)p);
	svbuf_free(r.payload);
}

/* --- the matrix ------------------------------------------------------ */

struct row {
	enum sso_op op;
	const char *name;
	unsigned allowed;	/* bit per role */
	const char *missing;	/* what each denial must name */
	void (*build)(struct svbuf *b, int n);	/* fields after the op; may set up */
	void (*after)(void);	/* restore state after an allowed call */
	int cert;		/* needs the test certificate */
};

static void b_none(struct svbuf *b, int n) { }
static void b_unlock(struct svbuf *b, int n) { pu8(b, 1); must(svbuf_put_string(b, PASS, strlen(PASS))); }
static void b_backup_secret(struct svbuf *b, int n) { ps(b, "backup password 123"); ps(b, ""); }
static void
b_restore_secret(struct svbuf *b, int n)
{
	ps(b, "not a backup");
	ps(b, "pw");
	ps(b, "new passphrase 123");
	ps(b, "");
}
static void b_role_add(struct svbuf *b, int n) { ps(b, "affiliate-admin"); ps(b, "uid:9999"); }
static void b_role_remove(struct svbuf *b, int n) { ps(b, "affiliate-admin"); ps(b, "uid:9998"); }
static void
b_app_create(struct svbuf *b, int n)
{
	char spec[128];

	snprintf(spec, sizeof(spec), "{\"name\":\"new-%d\"}", n);
	ps(b, spec);
}
static void b_payroll(struct svbuf *b, int n) { ps(b, "Payroll"); }
static void
b_app_update(struct svbuf *b, int n)
{
	ps(b, "Payroll");
	ps(b, "{\"users\":[\"uid:5003\",\"gid:6000\"]}");
}
static void
b_app_delete(struct svbuf *b, int n)
{
	char spec[256], name[32];

	snprintf(name, sizeof(name), "del-%d", n);
	snprintf(spec, sizeof(spec),
	    "{\"name\":\"%s\",\"admins\":[\"uid:5002\"],\"users\":[\"uid:5003\",\"gid:6000\"]}", name);
	if (app_create(spec) != 0)
		exit(2);
	ps(b, name);
}
static void b_import(struct svbuf *b, int n) { ps(b, "<sso/>"); }
static void b_export(struct svbuf *b, int n) { pu32(b, 0); }
static void b_config_get(struct svbuf *b, int n) { ps(b, "Payroll"); ps(b, ""); }
static void
b_config_set(struct svbuf *b, int n)
{
	ps(b, "Payroll");
	ps(b, "");
	pu32(b, 1);
	ps(b, "password");
	ps(b, "x");
}
static void
b_mapping_create(struct svbuf *b, int n)
{
	char p[32];

	snprintf(p, sizeof(p), "uid:%d", 7100 + n);
	ps(b, "Payroll");
	ps(b, p);
	ps(b, "ext");
}
static void b_all(struct svbuf *b, int n) { ps(b, ""); }
static void b_user_mapping(struct svbuf *b, int n) { ps(b, "Payroll"); ps(b, "uid:5003"); }
static void
b_mapping_delete(struct svbuf *b, int n)
{
	char p[32];

	snprintf(p, sizeof(p), "uid:%d", 7200 + n);
	if (mapping_create("Payroll", p, "doomed") != 0)
		exit(2);
	ps(b, "Payroll");
	ps(b, p);
}
static void
b_creds_set(struct svbuf *b, int n)
{
	ps(b, "Payroll");
	ps(b, "uid:5003");
	pu32(b, 1);
	ps(b, "password");
	ps(b, "pw3");
}
static void b_redeem(struct svbuf *b, int n) { ps(b, "Payroll"); ps(b, "sv1.junk"); ps(b, ""); }
static void b_ticket_settings(struct svbuf *b, int n) { pu8(b, 255); pu8(b, 255); pu32(b, 0); }
static void
b_cert_import(struct svbuf *b, int n)
{
	ps(b, "junk");
	ps(b, "");
	ps(b, "");
	pu32(b, 0);
	pu8(b, 0);
}
static void b_thumb(struct svbuf *b, int n) { ps(b, thumb); }
static void b_thumb_update(struct svbuf *b, int n) { ps(b, thumb); pu8(b, 0); }
static void b_usable(struct svbuf *b, int n) { ps(b, ""); }
static void
b_thumb_sign(struct svbuf *b, int n)
{
	static const uint8_t digest[32];

	ps(b, thumb);
	pu8(b, 1);		/* RSA PKCS#1 v1.5 */
	pu8(b, 3);		/* SHA-256 */
	pu8(b, 0);		/* a digest */
	pu8(b, 0);
	pu32(b, UINT32_MAX);
	must(svbuf_put_string(b, digest, sizeof(digest)));
}
static void b_thumb_grant(struct svbuf *b, int n) { ps(b, thumb); ps(b, "uid:9997"); }
static void b_port(struct svbuf *b, int n) { ps(b, "port1"); ps(b, "{}"); }
static void b_port_name(struct svbuf *b, int n) { ps(b, "port1"); }
static void
b_susp_add(struct svbuf *b, int n)
{
	ps(b, "{}");
	ps(b, "<x/>");
	ps(b, "test");
	pu32(b, 0);
}
static void b_msg(struct svbuf *b, int n) { ps(b, "msg1"); }
static void b_msg_update(struct svbuf *b, int n) { ps(b, "msg1"); ps(b, "again"); pu32(b, 2); }
static void b_msg_remove(struct svbuf *b, int n) { ps(b, "msg1"); pu8(b, 0); }
static void b_audit_list(struct svbuf *b, int n) { pu64(b, 0); pu64(b, 1); }
static void b_audit_prune(struct svbuf *b, int n) { pu64(b, 1000000); }
static void b_limits_set(struct svbuf *b, int n) { pu64(b, 0); pu64(b, 0); }
static void b_audit_level(struct svbuf *b, int n) { ps(b, ""); ps(b, ""); }
static void
b_slot_add(struct svbuf *b, int n)
{
	char name[32];
	uint8_t key[32];

	snprintf(name, sizeof(name), "matrix-%d", n);
	memset(key, n, sizeof(key));
	ps(b, name);
	pu8(b, SSO_UNLOCK_KEY);
	if (svbuf_put_string(b, key, sizeof(key)) != 0)
		exit(2);
}
static void b_slot_remove(struct svbuf *b, int n) { ps(b, "no-such-slot"); }
/* an empty location: refused after the policy check, so nothing is written */
static void b_store_copy(struct svbuf *b, int n) { ps(b, ""); }

static void
a_unlock(void)
{
	if (unlock() != 0)
		exit(2);
}

static void
a_enable_app(void)
{
	struct svbuf *b = rq(SSO_OP_APP_ENABLE);

	ps(b, "Payroll");
	call_quiet(R_VAULT, b);
}

static void
a_enable_mapping(void)
{
	struct svbuf *b = rq(SSO_OP_MAPPING_ENABLE);

	ps(b, "Payroll");
	ps(b, "uid:5003");
	call_quiet(R_VAULT, b);
}

static void
a_cert_import(void)
{
	cert_import();
}

#define CU B(R_USER)	/* the certificate's user */

static const struct row rows[] = {
	{ SSO_OP_STATUS, "status", ALL, NULL, b_none, NULL, 0 },
	{ SSO_OP_UNLOCK, "unlock", ALL, NULL, b_unlock, NULL, 0 },
	{ SSO_OP_LOCK, "lock", B(R_VAULT), "a vault admin", b_none, a_unlock, 0 },
	{ SSO_OP_SLOT_LIST, "slot list", B(R_VAULT), "a vault admin", b_none, NULL, 0 },
	{ SSO_OP_SLOT_ADD, "slot add", B(R_VAULT), "a vault admin", b_slot_add, NULL, 0 },
	{ SSO_OP_SLOT_REMOVE, "slot remove", B(R_VAULT), "a vault admin", b_slot_remove, NULL, 0 },
	{ SSO_OP_STORE_COPY, "store copy", B(R_VAULT), "a vault admin", b_store_copy, NULL, 0 },
	{ SSO_OP_SECRET_BACKUP, "secret backup", B(R_VAULT), "a vault admin", b_backup_secret, NULL, 0 },
	{ SSO_OP_SECRET_RESTORE, "secret restore", ALL, NULL, b_restore_secret, NULL, 0 },
	{ SSO_OP_SECRET_ROTATE, "secret rotate", B(R_VAULT), "a vault admin", b_none, NULL, 0 },
	{ SSO_OP_BACKUP, "backup", B(R_VAULT), "a vault admin", b_none, NULL, 0 },
	{ SSO_OP_RESTORE, "restore", B(R_VAULT), "a vault admin", b_none, NULL, 0 },
	{ SSO_OP_ROLE_LIST, "role list", B(R_VAULT), "a vault admin", b_none, NULL, 0 },
	{ SSO_OP_ROLE_ADD, "role add", B(R_VAULT), "a vault admin", b_role_add, NULL, 0 },
	{ SSO_OP_ROLE_REMOVE, "role remove", B(R_VAULT), "a vault admin", b_role_remove, NULL, 0 },
	{ SSO_OP_APP_CREATE, "app create", AFF, "an affiliate admin", b_app_create, NULL, 0 },
	{ SSO_OP_APP_LIST, "app list", ALL, NULL, b_none, NULL, 0 },
	{ SSO_OP_APP_SHOW, "app show", MEMBER, "an app user or admin of 'Payroll'", b_payroll, NULL, 0 },
	{ SSO_OP_APP_UPDATE, "app update", ADM, "an app admin of 'Payroll'", b_app_update, NULL, 0 },
	{ SSO_OP_APP_ENABLE, "app enable", AFF, "an affiliate admin", b_payroll, NULL, 0 },
	{ SSO_OP_APP_DISABLE, "app disable", AFF, "an affiliate admin", b_payroll, a_enable_app, 0 },
	{ SSO_OP_APP_DELETE, "app delete", AFF, "an affiliate admin", b_app_delete, NULL, 0 },
	{ SSO_OP_APP_IMPORT, "app import", AFF, "an affiliate admin", b_import, NULL, 0 },
	/* anyone: the handler exports only the apps the caller administers */
	{ SSO_OP_APP_EXPORT, "app export", ALL, NULL, b_export, NULL, 0 },
	{ SSO_OP_MAPPING_DELETE_MANY, "mapping delete-many", AFF, "an affiliate admin", b_import, NULL, 0 },
	/* Payroll is no config store app: allowed callers get that error, not a denial */
	{ SSO_OP_CONFIG_SET, "config set", ADM, "an app admin of 'Payroll'", b_config_set, NULL, 0 },
	{ SSO_OP_CONFIG_GET, "config get", MEMBER, "an app user or admin of 'Payroll'", b_config_get, NULL, 0 },
	{ SSO_OP_MAPPING_CREATE, "mapping create", ADM, "an app admin of 'Payroll'", b_mapping_create, NULL, 0 },
	{ SSO_OP_MAPPING_LIST, "mapping list", ALL, NULL, b_all, NULL, 0 },
	/* an app user switches only its own mapping: the group member is refused by the handler */
	{ SSO_OP_MAPPING_ENABLE, "mapping enable", ADM | B(R_USER), "admin of 'Payroll'", b_user_mapping, NULL, 0 },
	{ SSO_OP_MAPPING_DISABLE, "mapping disable", ADM | B(R_USER), "admin of 'Payroll'", b_user_mapping, a_enable_mapping, 0 },
	{ SSO_OP_MAPPING_DELETE, "mapping delete", ADM, "an app admin of 'Payroll'", b_mapping_delete, NULL, 0 },
	{ SSO_OP_CREDS_SET, "creds set", ADM | B(R_USER), "admin of 'Payroll'", b_creds_set, NULL, 0 },
	{ SSO_OP_CREDS_GET, "creds get", ADM | B(R_USER), "admin of 'Payroll'", b_user_mapping, NULL, 0 },
	{ SSO_OP_TICKET_ISSUE, "ticket issue", ALL, NULL, b_none, NULL, 0 },
	{ SSO_OP_TICKET_REDEEM, "ticket redeem", ADM, "an app admin of 'Payroll'", b_redeem, NULL, 0 },
	{ SSO_OP_TICKET_SETTINGS, "ticket settings", B(R_VAULT), "a vault admin", b_ticket_settings, NULL, 0 },
	{ SSO_OP_CERT_IMPORT, "cert import", B(R_VAULT), "a vault admin", b_cert_import, NULL, 0 },
	{ SSO_OP_CERT_LIST, "cert list", B(R_VAULT), "a vault admin", b_none, NULL, 0 },
	{ SSO_OP_CERT_SHOW, "cert show", B(R_VAULT) | CU, "certificate", b_thumb, NULL, 1 },
	{ SSO_OP_CERT_EXPORT, "cert export", B(R_VAULT) | CU, "certificate", b_thumb, NULL, 1 },
	{ SSO_OP_CERT_GRANT, "cert grant", B(R_VAULT), "a vault admin", b_thumb_grant, NULL, 1 },
	{ SSO_OP_CERT_REVOKE, "cert revoke", B(R_VAULT), "a vault admin", b_thumb_grant, NULL, 1 },
	/* no implicit grant: the vault admin may not use the key */
	{ SSO_OP_CERT_FETCH, "cert fetch", CU, "certificate", b_thumb, NULL, 1 },
	{ SSO_OP_CERT_SIGN, "cert sign", CU, "certificate", b_thumb_sign, NULL, 1 },
	{ SSO_OP_CERT_USABLE, "cert usable", ALL, NULL, b_usable, NULL, 0 },
	/* one way: the delete below brings back an exportable key */
	{ SSO_OP_CERT_UPDATE, "cert update", B(R_VAULT), "a vault admin", b_thumb_update, NULL, 1 },
	{ SSO_OP_CERT_DELETE, "cert delete", B(R_VAULT), "a vault admin", b_thumb, a_cert_import, 1 },
	{ SSO_OP_PORT_CREATE, "port create", AFF, "an affiliate admin", b_port, NULL, 0 },
	{ SSO_OP_PORT_UPDATE, "port update", AFF, "an affiliate admin", b_port, NULL, 0 },
	{ SSO_OP_PORT_SHOW, "port show", ALL, NULL, b_port_name, NULL, 0 },
	{ SSO_OP_PORT_LIST, "port list", ALL, NULL, b_none, NULL, 0 },
	{ SSO_OP_PORT_DELETE, "port delete", AFF, "an affiliate admin", b_port_name, NULL, 0 },
	{ SSO_OP_SUSPENDED_ADD, "suspended add", ALL, NULL, b_susp_add, NULL, 0 },
	{ SSO_OP_SUSPENDED_LIST, "suspended list", ALL, NULL, b_none, NULL, 0 },
	{ SSO_OP_SUSPENDED_SHOW, "suspended show", ALL, NULL, b_msg, NULL, 0 },
	{ SSO_OP_SUSPENDED_GET, "suspended get", ALL, NULL, b_msg, NULL, 0 },
	{ SSO_OP_SUSPENDED_UPDATE, "suspended update", ALL, NULL, b_msg_update, NULL, 0 },
	{ SSO_OP_SUSPENDED_REMOVE, "suspended remove", ALL, NULL, b_msg_remove, NULL, 0 },
	{ SSO_OP_SUSPENDED_LIMITS, "suspended limits", ALL, NULL, b_none, NULL, 0 },
	{ SSO_OP_SUSPENDED_LIMITS_SET, "suspended limits set", B(R_VAULT), "a vault admin", b_limits_set, NULL, 0 },
	{ SSO_OP_AUDIT_LIST, "audit list", B(R_VAULT), "a vault admin", b_audit_list, NULL, 0 },
	{ SSO_OP_AUDIT_VERIFY, "audit verify", B(R_VAULT), "a vault admin", b_none, NULL, 0 },
	{ SSO_OP_AUDIT_PRUNE, "audit prune", B(R_VAULT), "a vault admin", b_audit_prune, NULL, 0 },
	{ SSO_OP_AUDIT_LEVEL, "audit level", B(R_VAULT), "a vault admin", b_audit_level, NULL, 0 },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void
matrix(void)
{
	static int serial;
	size_t i, before, after;
	struct svbuf *b;
	char msg[SV_MSG_MAX + 64];
	int who, st, allowed;

	for (i = 0; i < NROWS; i++) {
		const struct row *w = &rows[i];

		if (w->cert && thumb[0] == '\0') {
			ok(1, "%s # SKIP no certificate could be imported", w->name);
			continue;
		}
		/* least privileged first, so that destructive calls come last */
		for (who = R_OUT; who < R__N; who++) {
			allowed = (w->allowed & B(who)) != 0;
			b = rq(w->op);
			w->build(b, ++serial);
			before = table_count(SSO_TABLE_AUDIT);
			st = call_msg((enum role)who, b, msg, sizeof(msg));
			after = table_count(SSO_TABLE_AUDIT);
			if (allowed) {
				if (!ok(st != SV_ERR_DENIED, "%s by %s is allowed", w->name,
				    role_names[who]))
					printf("#   got: %s\n", msg);
				if (w->after != NULL)
					w->after();
				continue;
			}
			if (!ok(st == SV_ERR_DENIED, "%s by %s is denied", w->name, role_names[who]))
				printf("#   got %s: %s\n", sv_strerror(st), msg);
			if (!ok(strstr(msg, "access denied") != NULL && w->missing != NULL &&
			    strstr(msg, w->missing) != NULL,
			    "  and the message names what is missing (%s)", w->missing ? w->missing : "?"))
				printf("#   got: %s\n", msg);
			is_int(after, before + 1, "  and the denial is audited");
		}
	}
}

/* Every operation the dispatch knows has a row above. */
static void
coverage(void)
{
	char msg[SV_MSG_MAX + 64];
	unsigned op, known = 0, missing = 0;
	size_t i;

	for (op = 1; op < 256; op++) {
		int st = call_msg(R_OUT, rq((enum sso_op)op), msg, sizeof(msg));

		if (st == SV_ERR_PROTOCOL && strncmp(msg, "unknown operation", 17) == 0)
			continue;
		known++;
		for (i = 0; i < NROWS && (unsigned)rows[i].op != op; i++)
			;
		if (i == NROWS) {
			missing++;
			printf("# operation %u has no row in the matrix\n", op);
		}
	}
	ok(known >= NROWS && missing == 0, "the matrix covers all %u operations of the dispatch",
	    known);
}

/* --- rules the table cannot express ------------------------------------ */

static void
refinements(void)
{
	char msg[SV_MSG_MAX + 64];
	struct svbuf *b;
	int st;

	b = rq(SSO_OP_APP_UPDATE);
	ps(b, "Payroll");
	ps(b, "{\"description\":\"mine now\"}");
	st = call_msg(R_APPADM, b, msg, sizeof(msg));
	is_int(st, SV_ERR_DENIED, "an app admin may not change the description");
	ok(strstr(msg, "affiliate admin") != NULL, "  the message names the affiliate admin role");

	b = rq(SSO_OP_APP_UPDATE);
	ps(b, "Payroll");
	ps(b, "{\"add_users\":[\"uid:5010\"]}");
	is_int(call_quiet(R_APPADM, b), 0, "an app admin may add a user");

	b = rq(SSO_OP_APP_UPDATE);
	ps(b, "Payroll");
	ps(b, "{\"allow_tickets\":true}");
	st = call_msg(R_AFF, b, msg, sizeof(msg));
	is_int(st, SV_ERR_DENIED, "an affiliate admin may not set ticket flags");
	ok(strstr(msg, "a vault admin") != NULL, "  the message names the vault admin role");

	b = rq(SSO_OP_APP_CREATE);
	ps(b, "{\"name\":\"tix-aff\",\"ticket_timeout\":5}");
	is_int(call_quiet(R_AFF, b), SV_ERR_DENIED,
	    "an affiliate admin may not create an app with ticket flags");

	b = rq(SSO_OP_APP_UPDATE);
	ps(b, "Payroll");
	ps(b, "{\"fields\":[{\"label\":\"x\"}]}");
	is_int(call_quiet(R_VAULT, b), SV_ERR_INVALID, "fields are fixed after creation");

	/* another user's credentials: admins only */
	is_int(mapping_create("Payroll", "uid:5010", "u10"), 0, "a second mapping");
	is_int(creds_set(R_VAULT, "Payroll", "uid:5010", "pw10"), 0, "  with credentials");
	b = rq(SSO_OP_CREDS_GET);
	ps(b, "Payroll");
	ps(b, "uid:5010");
	st = call_msg(R_USER, b, msg, sizeof(msg));
	is_int(st, SV_ERR_DENIED, "an app user may not read another user's credentials");
	is_int(creds_set(R_USER, "Payroll", "uid:5010", "x"), SV_ERR_DENIED,
	    "nor set them");
	is_int(creds_set(R_USER, "Payroll", "", "pw3b"), 0, "an app user sets its own (user \"\")");

	/* a disabled app refuses every read */
	b = rq(SSO_OP_APP_DISABLE);
	ps(b, "Payroll");
	call_quiet(R_VAULT, b);
	b = rq(SSO_OP_CREDS_GET);
	ps(b, "Payroll");
	ps(b, "");
	st = call_msg(R_USER, b, msg, sizeof(msg));
	is_int(st, SV_ERR_DISABLED, "a disabled app gives no credentials");
	ok(strstr(msg, "'Payroll' is disabled") != NULL, "  and says so");
	a_enable_app();
}

/* Group apps: the members of the mapped group share one account. */
static void
group_app(void)
{
	char msg[SV_MSG_MAX + 64];
	struct svbuf *b;
	struct reply r;
	char *ext = NULL, *app = NULL, *p = NULL;

	is_int(app_create("{\"name\":\"Team\",\"type\":\"group\",\"enabled\":true,"
	    "\"admins\":[\"uid:5002\"],\"users\":[\"gid:6000\",\"gid:6001\"]}"), 0, "a group app");
	is_int(mapping_create("Team", "uid:5005", "x"), SV_ERR_INVALID,
	    "a group app refuses a user mapping");
	is_int(mapping_create("Team", "gid:6999", "x"), SV_ERR_INVALID,
	    "and a group that is not one of its users");
	is_int(mapping_create("Team", "gid:6000", "team-account"), 0, "it maps one of its groups");
	is_int(mapping_create("Team", "gid:6001", "other"), SV_ERR_EXISTS, "but only one");
	is_int(creds_set(R_GROUP, "Team", "gid:6000", "x"), SV_ERR_DENIED,
	    "a member may not set the group's credentials");
	is_int(creds_set(R_APPADM, "Team", "gid:6000", "teampw"), 0, "its app admin does");
	b = rq(SSO_OP_CREDS_GET);
	ps(b, "Team");
	ps(b, "");
	if (is_int(call(R_GROUP, b, &r), 0, "a member of the group gets the credentials")) {
		ok(svbuf_get_cstring(r.payload, &app) == 0 &&
		    svbuf_get_cstring(r.payload, &p) == 0 &&
		    svbuf_get_cstring(r.payload, &ext) == 0 &&
		    strcmp(ext, "team-account") == 0 && strcmp(p, "gid:6000") == 0,
		    "  of the group's mapping");
	}
	svbuf_free(r.payload);
	free(app);
	free(p);
	free(ext);
	b = rq(SSO_OP_CREDS_GET);
	ps(b, "Team");
	ps(b, "");
	is_int(call_msg(R_USER, b, msg, sizeof(msg)), SV_ERR_DENIED,
	    "a caller outside the group is denied");
}

/* --- who disabled a mapping (issue 11, finding 10) ----------------------- */

static int
mapping_switch(enum role who, const char *app, const char *principal, int enable)
{
	struct svbuf *b = rq(enable ? SSO_OP_MAPPING_ENABLE : SSO_OP_MAPPING_DISABLE);

	ps(b, app);
	ps(b, principal);
	return call_quiet(who, b);
}

/*
 * The mapping of principal in app as the vault admin lists it:
 * "enabled", or "disabled by BY UID" with BY null or a string.
 */
static void
mapping_state(const char *app, const char *principal, char *out, size_t len)
{
	struct svbuf *b = rq(SSO_OP_MAPPING_LIST);
	json_t *j = NULL, *m, *by, *uid;
	struct reply r;
	char *text = NULL;
	size_t i;

	snprintf(out, len, "(not listed)");
	ps(b, app);
	if (call(R_VAULT, b, &r) == 0 && svbuf_get_cstring(r.payload, &text) == 0 &&
	    (j = json_loads(text, 0, NULL)) != NULL) {
		json_array_foreach(j, i, m) {
			if (strcmp(json_string_value(json_object_get(m, "principal")), principal) != 0)
				continue;
			by = json_object_get(m, "disabled_by");
			uid = json_object_get(m, "disabled_by_uid");
			if (json_is_true(json_object_get(m, "enabled")))
				snprintf(out, len, "enabled");
			else
				snprintf(out, len, "disabled by %s %lld",
				    json_is_string(by) ? json_string_value(by) : "null",
				    json_is_integer(uid) ? (long long)json_integer_value(uid) : -1LL);
		}
	}
	json_decref(j);
	free(text);
	svbuf_free(r.payload);
}

/* A mapping record as version 1 wrote it: no word on who disabled it. */
static int
mapping_put_v1(const char *appkey, const char *principal, int enabled, int creds_set)
{
	struct svbuf *k = svbuf_new(0), *v = svbuf_new_secure(0);
	struct vault_txn *t = NULL;
	int r;

	if (k == NULL || v == NULL)
		exit(2);
	must(svbuf_put(k, appkey, strlen(appkey) + 1));
	must(svbuf_put(k, principal, strlen(principal)));
	pu8(v, 1);
	ps(v, principal);
	ps(v, "legacy-user");
	pu8(v, (uint8_t)enabled);
	pu8(v, (uint8_t)creds_set);
	pu32(v, 1);
	ps(v, creds_set ? "legacy-pw" : "");
	if ((r = vault_txn_begin(sso_service_vault(svc), 1, &t)) == 0 &&
	    (r = vault_record_put(t, SSO_TABLE_MAPPINGS, svbuf_ptr(k), svbuf_len(k),
	    svbuf_ptr(v), svbuf_len(v), 0)) == 0) {
		r = vault_txn_commit(t);
		t = NULL;
	}
	vault_txn_abort(t);
	svbuf_free(k);
	svbuf_free(v);
	return r;
}

static void
mapping_disables(void)
{
	char state[128], msg[SV_MSG_MAX + 64];
	struct svbuf *b;

	is_int(app_create("{\"name\":\"Switch\",\"enabled\":true,\"admins\":[\"uid:5002\"],"
	    "\"users\":[\"uid:5003\"]}"), 0, "app Switch");
	is_int(mapping_create("Switch", "uid:5003", "u3"), 0, "uid:5003 is mapped in Switch");
	is_int(creds_set(R_USER, "Switch", "", "pw3"), 0, "  and sets its credentials, which enables it");

	/* the user's own disable is the user's to undo */
	is_int(mapping_switch(R_USER, "Switch", "uid:5003", 0), 0, "the user disables its mapping");
	mapping_state("Switch", "uid:5003", state, sizeof(state));
	is_str(state, "disabled by user 5003", "  listed as disabled by the user, uid 5003");
	is_int(mapping_switch(R_USER, "Switch", "uid:5003", 1), 0, "  and may enable it again");
	is_int(mapping_switch(R_USER, "Switch", "uid:5003", 0), 0, "disabled by the user again");
	is_int(creds_set(R_USER, "Switch", "", "pw3b"), 0, "  creds set by the user enables it");
	mapping_state("Switch", "uid:5003", state, sizeof(state));
	is_str(state, "enabled", "  enabled");

	/* an admin's disable is an admin's to undo, whoever the admin */
	is_int(mapping_switch(R_APPADM, "Switch", "uid:5003", 0), 0, "the app admin disables it");
	mapping_state("Switch", "uid:5003", state, sizeof(state));
	is_str(state, "disabled by admin 5002", "  listed as disabled by an admin, uid 5002");
	b = rq(SSO_OP_MAPPING_ENABLE);
	ps(b, "Switch");
	ps(b, "uid:5003");
	is_int(call_msg(R_USER, b, msg, sizeof(msg)), SV_ERR_DENIED,
	    "the user may not enable it");
	ok(strstr(msg, "an admin (uid 5002) disabled this mapping") != NULL,
	    "  the message says who disabled it");
	is_int(creds_set(R_USER, "Switch", "", "pw3c"), SV_ERR_DENIED,
	    "  nor enable it by setting its credentials");
	is_int(mapping_switch(R_USER, "Switch", "uid:5003", 0), 0,
	    "  a disable by the user changes nothing");
	mapping_state("Switch", "uid:5003", state, sizeof(state));
	is_str(state, "disabled by admin 5002", "  it stays the admin's");
	is_int(mapping_switch(R_USER, "Switch", "uid:5003", 1), SV_ERR_DENIED,
	    "  so the user still may not enable it");
	is_int(mapping_switch(R_AFF, "Switch", "uid:5003", 1), 0, "an affiliate admin enables it");
	is_int(mapping_switch(R_USER, "Switch", "uid:5003", 0), 0, "the user disables it");
	is_int(mapping_switch(R_VAULT, "Switch", "uid:5003", 0), 0,
	    "  a vault admin disables it too: now an admin's");
	is_int(mapping_switch(R_USER, "Switch", "uid:5003", 1), SV_ERR_DENIED,
	    "  and the user may not enable it");
	is_int(creds_set(R_APPADM, "Switch", "uid:5003", "pw3d"), 0,
	    "the app admin sets its credentials, which enables it");
	mapping_state("Switch", "uid:5003", state, sizeof(state));
	is_str(state, "enabled", "  enabled, and no longer disabled by anyone");
	is_int(mapping_switch(R_USER, "Switch", "uid:5003", 0), 0, "the user disables it");
	is_int(mapping_switch(R_USER, "Switch", "uid:5003", 1), 0, "  and undoes that");

	/* version 1 records: read; disabled after credentials were set counts as an admin's */
	is_int(mapping_put_v1("switch", "uid:5003", 0, 1), 0, "a version 1 record, disabled, with credentials");
	mapping_state("Switch", "uid:5003", state, sizeof(state));
	is_str(state, "disabled by unknown -1", "  is listed as disabled by someone unknown");
	is_int(mapping_switch(R_USER, "Switch", "uid:5003", 1), SV_ERR_DENIED,
	    "  which the user may not undo");
	is_int(mapping_switch(R_APPADM, "Switch", "uid:5003", 1), 0, "  an admin may");
	is_int(mapping_put_v1("switch", "uid:5003", 0, 0), 0, "a version 1 record, new (no credentials)");
	mapping_state("Switch", "uid:5003", state, sizeof(state));
	is_str(state, "disabled by null -1", "  is listed as disabled by nobody");
	is_int(creds_set(R_USER, "Switch", "", "pw3e"), 0, "  and the user's creds set enables it");
	is_int(mapping_put_v1("switch", "uid:5003", 1, 1), 0, "a version 1 record, enabled");
	is_int(mapping_switch(R_USER, "Switch", "uid:5003", 0), 0, "  the user disables it");
	is_int(mapping_switch(R_USER, "Switch", "uid:5003", 1), 0, "  and enables it");
	mapping_state("Switch", "uid:5003", state, sizeof(state));
	is_str(state, "enabled", "  enabled, written as version 2");
}

/* --- tickets ------------------------------------------------------------ */

static int
issue(enum role who, char *out, size_t len)
{
	struct reply r;
	const uint8_t *p;
	size_t n;
	int st = call(who, rq(SSO_OP_TICKET_ISSUE), &r);

	out[0] = '\0';
	if (st == 0 && svbuf_get_string_direct(r.payload, &p, &n) == 0 && n < len)
		snprintf(out, len, "%.*s", (int)n, (const char *)p);
	svbuf_free(r.payload);
	return st;
}

/* Redeem as the app admin; ret_ext (if not NULL) gets the external user. */
static int
redeem(const char *app, const char *ticket, const char *sender, char *ret_ext, size_t len)
{
	struct svbuf *b = rq(SSO_OP_TICKET_REDEEM);
	struct reply r;
	char *a = NULL, *p = NULL, *e = NULL;
	int st;

	ps(b, app);
	ps(b, ticket);
	ps(b, sender);
	st = call(R_APPADM, b, &r);
	if (st == 0 && ret_ext != NULL && svbuf_get_cstring(r.payload, &a) == 0 &&
	    svbuf_get_cstring(r.payload, &p) == 0 && svbuf_get_cstring(r.payload, &e) == 0)
		snprintf(ret_ext, len, "%s", e);
	free(a);
	free(p);
	free(e);
	svbuf_free(r.payload);
	return st;
}

static int
settings(int allow, int validate, unsigned timeout)
{
	struct svbuf *b = rq(SSO_OP_TICKET_SETTINGS);

	pu8(b, (uint8_t)allow);
	pu8(b, (uint8_t)validate);
	pu32(b, timeout);
	return call_quiet(R_VAULT, b);
}

static void
ticket_app(const char *name, const char *flags)
{
	char spec[512];

	snprintf(spec, sizeof(spec),
	    "{\"name\":\"%s\",\"enabled\":true,\"admins\":[\"uid:5002\"],\"users\":[\"uid:5003\"]%s%s}",
	    name, flags, strstr(flags, "validate_tickets") != NULL ? "" :
	    ",\"validate_tickets\":false");
	if (app_create(spec) != 0 || mapping_create(name, "uid:5003", "u3") != 0 ||
	    creds_set(R_VAULT, name, "uid:5003", "pw3") != 0) {
		fprintf(stderr, "test-policy: cannot make app %s\n", name);
		exit(2);
	}
}

static void
tickets(const char *dir)
{
	char t[1024], t2[1024], ext[64] = "", foreign[1024];
	const int64_t t0 = 1800000000;
	struct sso_service *other = NULL, *mine = svc;
	struct vault_create_opts o;
	struct vault *v = NULL;
	char odir[512], msg[SV_MSG_MAX];
	size_t before;

	clock_now = t0;
	is_int(issue(R_USER, t, sizeof(t)), SV_ERR_TICKET_DISABLED, "tickets are off by default");
	is_int(settings(1, 255, 0), 0, "a vault admin allows tickets");
	ticket_app("Tix", ",\"allow_tickets\":true,\"ticket_reuse\":true");
	ticket_app("Tix5", ",\"allow_tickets\":true,\"ticket_reuse\":true,\"ticket_timeout\":5");
	ticket_app("Once", ",\"allow_tickets\":true");
	ticket_app("Valid", ",\"allow_tickets\":true,\"ticket_reuse\":true,\"validate_tickets\":true");
	ticket_app("NoTix", "");
	ticket_app("Forever", ",\"allow_tickets\":true,\"tickets_expire\":false");

	is_int(issue(R_USER, t, sizeof(t)), 0, "the app user issues a ticket at t");
	ok(strncmp(t, "sv1.", 4) == 0, "  it reads sv1.<base64url>");
	clock_now = t0 + 119;
	is_int(redeem("Tix", t, "", ext, sizeof(ext)), 0, "redeemed at t+119s (default 2 min)");
	is_str(ext, "u3", "  for the issuer's credentials");
	clock_now = t0 + 121;
	is_int(redeem("Tix", t, "", NULL, 0), SV_ERR_TICKET_EXPIRED, "expired at t+121s");
	is_int(redeem("Tix5", t, "", NULL, 0), 0, "a 5-minute app still takes it at t+121s");
	clock_now = t0 + 300;
	is_int(redeem("Tix5", t, "", NULL, 0), 0, "  and at t+300s");
	clock_now = t0 + 301;
	is_int(redeem("Tix5", t, "", NULL, 0), SV_ERR_TICKET_EXPIRED, "  but not at t+301s");
	is_int(settings(255, 255, 10), 0, "a global timeout of 10 minutes");
	is_int(redeem("Tix", t, "", NULL, 0), 0, "  makes the ticket good at t+301s for the app");
	is_int(redeem("Tix5", t, "", NULL, 0), SV_ERR_TICKET_EXPIRED,
	    "  while the app's own 5 minutes still win");
	is_int(settings(255, 255, 2), 0, "back to 2 minutes");

	clock_now = t0 + 1000;
	is_int(issue(R_USER, t, sizeof(t)), 0, "a new ticket");
	before = table_count(SSO_TABLE_TICKETS);
	is_int(redeem("Once", t, "", NULL, 0), 0, "a single-use app redeems it");
	is_int(table_count(SSO_TABLE_TICKETS), before + 1, "  and keeps a marker");
	is_int(redeem("Once", t, "", NULL, 0), SV_ERR_TICKET_REUSED, "  a second time: reused");
	is_int(redeem("Tix", t, "", NULL, 0), 0, "an app allowing reuse still takes it");
	is_int(redeem("NoTix", t, "", NULL, 0), SV_ERR_TICKET_DISABLED,
	    "an app that does not allow tickets refuses it");
	is_int(redeem("Valid", t, "", NULL, 0), SV_ERR_TICKET_SENDER,
	    "a validating app wants the sender");
	is_int(redeem("Valid", t, "uid:5004", NULL, 0), SV_ERR_TICKET_SENDER,
	    "  and refuses the wrong one");
	is_int(redeem("Valid", t, "uid:5003", NULL, 0), 0, "  and takes the right one");
	is_int(redeem("Tix", t, "uid:5004", NULL, 0), SV_ERR_TICKET_SENDER,
	    "a wrong sender is refused even without validation");
	is_int(settings(255, 1, 0), 0, "global validation on");
	is_int(redeem("Tix", t, "", NULL, 0), SV_ERR_TICKET_SENDER, "  then every app wants the sender");
	is_int(settings(255, 0, 0), 0, "global validation off");

	/* tampering: one character changed, truncated, another prefix */
	snprintf(t2, sizeof(t2), "%s", t);
	t2[strlen(t2) / 2] = t2[strlen(t2) / 2] == 'A' ? 'B' : 'A';
	is_int(redeem("Tix", t2, "", NULL, 0), SV_ERR_TICKET_TAMPERED, "an altered ticket: tampered");
	t2[0] = '\0';
	snprintf(t2, sizeof(t2), "%.*s", (int)strlen(t) - 4, t);
	is_int(redeem("Tix", t2, "", NULL, 0), SV_ERR_TICKET_TAMPERED, "a truncated ticket: tampered");
	snprintf(t2, sizeof(t2), "sv2.%s", t + 4);
	is_int(redeem("Tix", t2, "", NULL, 0), SV_ERR_TICKET_TAMPERED, "another format: tampered");

	/* expired markers go away on later redemptions */
	clock_now = t0 + 5000;
	is_int(issue(R_USER, t, sizeof(t)), 0, "much later, another ticket");
	before = table_count(SSO_TABLE_TICKETS);
	is_int(redeem("Once", t, "", NULL, 0), 0, "  redeemed once");
	is_int(table_count(SSO_TABLE_TICKETS), before, "  its marker replaces the expired one");

	/* ENTSSO's timeoutTickets="no": never expired, still single-use */
	is_int(issue(R_USER, t, sizeof(t)), 0, "another ticket");
	is_int(redeem("Forever", t, "", NULL, 0), 0, "an app whose tickets never expire redeems it");
	clock_now = t0 + 5000 + 400 * 86400;
	is_int(redeem("Tix", t, "", NULL, 0), SV_ERR_TICKET_EXPIRED, "400 days later another app finds it expired");
	is_int(issue(R_USER, t2, sizeof(t2)), 0, "  a fresh one");
	is_int(redeem("Once", t2, "", NULL, 0), 0, "  redeemed at a single-use app sweeps expired markers");
	is_int(redeem("Forever", t, "", NULL, 0), SV_ERR_TICKET_REUSED,
	    "  while the never-expiring app's marker stays: it is not taken twice");
	is_int(issue(R_USER, t, sizeof(t)), 0, "a ticket issued then");
	clock_now += 10 * 365 * 86400LL;
	is_int(redeem("Forever", t, "", NULL, 0), 0, "  is good ten years later");

	/* a ticket of another vault */
	snprintf(odir, sizeof(odir), "%s/other", dir);
	memset(&o, 0, sizeof(o));
	o.schema = &sso_schema;
	o.passphrase = PASS;
	o.passphrase_len = strlen(PASS);
	o.opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	o.memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	if (vault_create(odir, &o, &v) != 0 || sso_service_new(v, &other) != 0 ||
	    sso_service_bootstrap(other, &callers[R_VAULT], NULL, 0, msg) != 0) {
		ok(0, "a second vault: %s", msg);
		return;
	}
	svc = other;
	is_int(settings(1, 255, 0), 0, "a second vault allows tickets");
	is_int(issue(R_USER, foreign, sizeof(foreign)), 0, "  and issues one");
	svc = mine;
	is_int(redeem("Tix", foreign, "", NULL, 0), SV_ERR_TICKET_FOREIGN,
	    "a ticket of another vault: foreign");
	sso_service_free(other);

	is_int(settings(0, 255, 0), 0, "tickets off again");
	is_int(redeem("Tix", t, "", NULL, 0), SV_ERR_TICKET_DISABLED, "  redeeming is refused");
	is_int(issue(R_USER, t, sizeof(t)), SV_ERR_TICKET_DISABLED, "  and issuing");
}

int
main(void)
{
	char dir[] = "/tmp/ssovault-policy.XXXXXX", cmd[600], msg[SV_MSG_MAX] = "";
	struct vault_create_opts o;
	struct vault *v = NULL;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 2;
	caller_init(&callers[R_VAULT], 5000, 0);
	caller_init(&callers[R_AFF], 5001, 0);
	caller_init(&callers[R_APPADM], 5002, 0);
	caller_init(&callers[R_USER], 5003, 0);
	caller_init(&callers[R_OUT], 5004, 0);
	caller_init(&callers[R_GROUP], 5005, 6000);

	memset(&o, 0, sizeof(o));
	o.schema = &sso_schema;
	o.passphrase = PASS;
	o.passphrase_len = strlen(PASS);
	o.opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	o.memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	/* SSOVAULT_TEST_PG (tests/pg/with-pg.sh): the same matrix on a
	 * PostgreSQL vault */
	if (getenv("SSOVAULT_TEST_PG") != NULL)
		snprintf(cmd, sizeof(cmd), "%s", getenv("SSOVAULT_TEST_PG"));
	else
		snprintf(cmd, sizeof(cmd), "%s/vault", dir);
	printf("# the vault: %s\n", strncmp(cmd, "postgres", 8) == 0 ? "PostgreSQL" : "a directory");
	if (vault_create(cmd, &o, &v) != 0 || sso_service_new(v, &svc) != 0 ||
	    sso_service_bootstrap(svc, &callers[R_VAULT], NULL, 0, msg) != 0) {
		printf("Bail out! cannot make a vault: %s %s\n", vault_open_errmsg(), msg);
		return 1;
	}
	clock_now = 1700000000;
	sso_service_set_clock(svc, test_clock, &clock_now);

	/* the cast: roles, an app with uid/gid principals, a mapping with credentials */
	{
		struct svbuf *b = rq(SSO_OP_ROLE_ADD);

		ps(b, "affiliate-admin");
		ps(b, "uid:5001");
		is_int(call_quiet(R_VAULT, b), 0, "uid 5001 becomes an affiliate admin");
	}
	is_int(app_create("{\"name\":\"Payroll\",\"enabled\":true,\"admins\":[\"uid:5002\"],"
	    "\"users\":[\"uid:5003\",\"gid:6000\"]}"), 0, "app Payroll");
	is_int(mapping_create("Payroll", "uid:5003", "u3"), 0, "uid:5003 is mapped");
	is_int(creds_set(R_VAULT, "Payroll", "uid:5003", "pw3"), 0, "  with credentials");
	if ((cert_pem = make_cert_pem()) != NULL)
		cert_import();

	matrix();
	coverage();
	refinements();
	group_app();
	mapping_disables();
	tickets(dir);

	free(cert_pem);
	sso_service_free(svc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return done_testing();
}
