/*
 * The shared harness of the fuzz targets (fuzz-common.h): a deterministic
 * process, a filled throwaway vault, requests through the one dispatch with
 * each input's changes rolled back, and the reply contract checked on every
 * answer.  A harness failure is fatal (exit 1 at set-up, abort() later):
 * a target that silently stops exercising the code would be worse.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "fuzz-common.h"

struct fuzz_env fuzz;

static char tmp_root[PATH_MAX];
static char vault_path[PATH_MAX];
static uint8_t *template_data;		/* the filled vault's data.mdb */
static size_t template_len;
static int64_t clock_now = FUZZ_NOW;

void
fuzz_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

void
fuzz_msg_check(const char *what, int r, const char *msg)
{
	size_t i;

	FUZZ_CHECK(msg != NULL && msg[0] != '\0', "%s: error %d (%s) without a message", what,
	    r, sv_strerror(r));
	for (i = 0; msg[i] != '\0'; i++)
		FUZZ_CHECK((unsigned char)msg[i] >= 0x20 && msg[i] != 0x7f,
		    "%s: error message holds control character 0x%02x at %zu: '%s' "
		    "(messages are one printable line)", what, (unsigned char)msg[i], i, msg);
}

static void __attribute__((format(printf, 1, 2), noreturn))
setup_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz: setting up the fuzz vault: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/* --- determinism ------------------------------------------------------ */

/*
 * libsodium's random bytes from ChaCha20 under a fixed key: the same vault
 * (ids, keys, nonces, salts) on every run, so that seeds made from it stay
 * valid and a crash found once happens again.
 */
static uint64_t rng_counter;

static const char *
rng_name(void)
{
	return "ssovault-fuzz-chacha20";
}

static void
rng_buf(void *buf, const size_t n)
{
	static const uint8_t key[crypto_stream_chacha20_KEYBYTES] = "ssovault fuzz: not random at all";
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	uint64_t c = rng_counter++;
	size_t i;

	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(c >> (8 * i));
	if (n > 0)
		crypto_stream_chacha20(buf, n, nonce, key);
}

static uint32_t
rng_random(void)
{
	uint32_t v;

	rng_buf(&v, sizeof(v));
	return v;
}

static struct randombytes_implementation rng_impl = {
	rng_name, rng_random, NULL, NULL, rng_buf, NULL,
};

static int64_t
fixed_clock(void *ctx)
{
	(void)ctx;
	return clock_now;
}

/* Read records go nowhere: reads then leave the vault as it was. */
static int
drop_sink(void *ctx, const uint8_t *rec, size_t len)
{
	(void)ctx;
	(void)rec;
	(void)len;
	return 0;
}

/* --- files -------------------------------------------------------------- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
cleanup(void)
{
	if (fuzz.parent != NULL)
		vault_txn_abort(fuzz.parent);
	fuzz.parent = NULL;
	sso_service_free(fuzz.svc);
	fuzz.svc = NULL;
	if (tmp_root[0] != '\0')
		(void)nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static uint8_t *
read_file(const char *path, size_t *ret_len)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || st.st_size < 0 ||
	    (p = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, p + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	p[got] = '\0';
	*ret_len = got;
	return p;
}

static int
write_file(const char *path, const void *p, size_t len)
{
	const uint8_t *b = p;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	while (len > 0) {
		if ((n = write(fd, b, len)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		b += n;
		len -= (size_t)n;
	}
	return close(fd);
}

void
fuzz_seed(const char *name, const void *p, size_t len)
{
	const char *dir = getenv("FUZZ_SEED_DIR");
	char path[PATH_MAX];

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (write_file(path, p, len) != 0)
		fprintf(stderr, "fuzz: cannot write seed %s: %s\n", path, strerror(errno));
}

uint8_t *
fuzz_pki_file(const char *name, size_t *ret_len)
{
	const char *dir = getenv("FUZZ_PKI_DIR");
	char path[PATH_MAX];

	if (dir == NULL || *dir == '\0')
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return read_file(path, ret_len);
}

/* --- requests and replies ---------------------------------------------- */

static void
must_put(int r)
{
	if (r != 0)
		fuzz_die("cannot build a request: %s", sv_strerror(r));
}

struct svbuf *
fuzz_req(uint8_t op)
{
	struct svbuf *b = svbuf_new_secure(0);

	if (b == NULL)
		fuzz_die("out of memory");
	must_put(svbuf_put_u8(b, op));
	return b;
}

void
fuzz_put_u8(struct svbuf *b, uint8_t v)
{
	must_put(svbuf_put_u8(b, v));
}

void
fuzz_put_u32(struct svbuf *b, uint32_t v)
{
	must_put(svbuf_put_u32(b, v));
}

void
fuzz_put_u64(struct svbuf *b, uint64_t v)
{
	must_put(svbuf_put_u64(b, v));
}

void
fuzz_put_str(struct svbuf *b, const void *p, size_t len)
{
	must_put(svbuf_put_string(b, p, len));
}

void
fuzz_put_cstr(struct svbuf *b, const char *s)
{
	must_put(svbuf_put_cstring(b, s));
}

int
fuzz_reply_payload(struct svbuf *reply)
{
	const uint8_t *m;
	size_t n;
	uint32_t st;

	if (svbuf_get_u32(reply, &st) != 0 || svbuf_get_string_direct(reply, &m, &n) != 0)
		return -1;
	return 0;
}

/*
 * The reply contract (sso.h, DESIGN section 7): a status from the error
 * space, equal to the return value; no message on success; on failure a
 * message of one line, printable, that fits a handle's buffer.
 */
static void
reply_check(int status, const uint8_t *req, size_t len, const struct svbuf *reply)
{
	struct svbuf *b = svbuf_from(svbuf_ptr(reply), svbuf_len(reply));
	const uint8_t *m;
	size_t n, i;
	uint32_t st;
	unsigned op = len > 0 ? req[0] : 0;

	if (b == NULL)
		fuzz_die("out of memory");
	FUZZ_CHECK(svbuf_get_u32(b, &st) == 0 && svbuf_get_string_direct(b, &m, &n) == 0,
	    "op %u: the reply lacks its status or message", op);
	FUZZ_CHECK((int32_t)st == status, "op %u: reply status %d, returned %d", op,
	    (int32_t)st, status);
	FUZZ_CHECK(status <= 0 && status >= SV__ERR_MIN,
	    "op %u: status %d is not in the error space", op, status);
	if (status == 0) {
		FUZZ_CHECK(n == 0, "op %u: success with a message", op);
	} else {
		FUZZ_CHECK(n > 0 && n < SV_MSG_MAX,
		    "op %u: error %d with a message of %zu bytes", op, status, n);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(m[i] >= 0x20 && m[i] != 0x7f,
			    "op %u: error message holds control character 0x%02x at %zu: "
			    "'%.*s' (messages are one printable line)",
			    op, m[i], i, (int)n, (const char *)m);
		FUZZ_CHECK(svbuf_len(b) == 0, "op %u: an error reply with a payload", op);
	}
	svbuf_free(b);
}

/*
 * Operations that run their own transactions (SSO_OPF_OWN_TXN in the
 * operation table: unlock, rotate, backup, slots, ...): they take the write
 * lock themselves, so the input's transaction must go first.  Asked of the
 * table, not listed here, so that a new one cannot deadlock the harness.
 */
static int
own_txn_op(uint8_t op)
{
	const struct sso_op_def *d = sso_op_find(op);

	return d != NULL && (d->flags & SSO_OPF_OWN_TXN) != 0;
}

/* Own-transaction operations that leave the vault as it was. */
static int
own_txn_keeps(uint8_t op)
{
	return op == SSO_OP_STATUS || op == SSO_OP_BACKUP || op == SSO_OP_SLOT_LIST;
}

struct vault *
fuzz_vault(void)
{
	return sso_service_vault(fuzz.svc);
}

int
fuzz_dispatch(const struct sso_caller *c, const uint8_t *req, size_t len,
    struct svbuf *reply)
{
	int status;

	if (c == NULL)
		c = &fuzz.admin;
	if (len > 0 && sso_request_writes(req, len) &&
	    (fuzz.parent != NULL || vault_txn_begin(fuzz_vault(), 1, &fuzz.parent) == 0)) {
		status = sso_dispatch_in(fuzz.svc, fuzz.parent, c, req, len, -1, reply);
	} else {
		if (len > 0 && own_txn_op(req[0])) {
			/* they take the write lock themselves */
			vault_txn_abort(fuzz.parent);
			fuzz.parent = NULL;
			if (!own_txn_keeps(req[0]))
				fuzz.dirty = 1;
		} else if (len > 0 && fuzz.parent != NULL &&
		    (req[0] == SSO_OP_AUDIT_LIST || req[0] == SSO_OP_AUDIT_VERIFY)) {
			/*
			 * they fold the journal of reads first, in a write
			 * transaction of their own: under ours they would wait
			 * for it forever
			 */
			vault_txn_abort(fuzz.parent);
			fuzz.parent = NULL;
			fuzz.dirty = 1;
		}
		status = sso_dispatch(fuzz.svc, c, req, len, -1, reply);
	}
	reply_check(status, req, len, reply);
	return status;
}

int
fuzz_dispatch_commit(const struct sso_caller *c, const uint8_t *req, size_t len,
    struct svbuf *reply)
{
	int status;

	vault_txn_abort(fuzz.parent);
	fuzz.parent = NULL;
	status = sso_dispatch(fuzz.svc, c != NULL ? c : &fuzz.admin, req, len, -1, reply);
	reply_check(status, req, len, reply);
	return status;
}

/* --- the vault's life ----------------------------------------------------- */

static void
service_open(void)
{
	struct vault *v = NULL;
	int r;

	if ((r = vault_open(vault_path, &sso_schema, &v)) != 0)
		fuzz_die("cannot reopen the fuzz vault: %s", vault_open_errmsg());
	if ((r = vault_unlock_key(v, fuzz.key)) != 0)
		fuzz_die("cannot unlock the fuzz vault: %s", vault_errmsg(v));
	if ((r = sso_service_new(v, &fuzz.svc)) != 0)
		fuzz_die("cannot start the service: %s", sv_strerror(r));
	sso_service_set_clock(fuzz.svc, fixed_clock, NULL);
	sso_service_set_audit_sink(fuzz.svc, drop_sink, NULL);
}

/* Close the service and its vault; path receives the vault's data file. */
static void
service_close(char path[PATH_MAX])
{
	vault_txn_abort(fuzz.parent);
	fuzz.parent = NULL;
	sso_service_free(fuzz.svc);
	fuzz.svc = NULL;
	snprintf(path, PATH_MAX, "%s/data.mdb", vault_path);
}

void
fuzz_reset(void)
{
	char path[PATH_MAX];

	service_close(path);
	if (write_file(path, template_data, template_len) != 0)
		fuzz_die("cannot restore %s: %s", path, strerror(errno));
	service_open();
	clock_now = FUZZ_NOW;
	fuzz.dirty = 0;
}

void
fuzz_input_done(void)
{
	vault_txn_abort(fuzz.parent);
	fuzz.parent = NULL;
	fuzz.inputs++;
	if (fuzz.dirty || !vault_is_unlocked(fuzz_vault()) ||
	    fuzz.inputs % FUZZ_RESET_EVERY == 0)
		fuzz_reset();
}

/* --- filling the vault ----------------------------------------------------- */

/* Run a set-up request (committed); return its string payload if wanted. */
static char *
setup_call(struct svbuf *req, int want_string)
{
	struct svbuf *reply = svbuf_new_secure(0);
	const uint8_t *m;
	uint32_t st;
	size_t n;
	char *s = NULL;
	unsigned op = svbuf_ptr(req)[0];

	if (reply == NULL)
		setup_fail("out of memory");
	fuzz_dispatch_commit(NULL, svbuf_ptr(req), svbuf_len(req), reply);
	if (svbuf_get_u32(reply, &st) != 0 || svbuf_get_string_direct(reply, &m, &n) != 0)
		setup_fail("request %u: malformed reply", op);
	if (st != 0)
		setup_fail("request %u failed: %.*s", op, (int)n, (const char *)m);
	if (want_string && svbuf_get_cstring(reply, &s) != 0)
		setup_fail("request %u: no string in the reply", op);
	svbuf_free(reply);
	svbuf_free(req);
	return s;
}

static void
setup_app(const char *spec)
{
	struct svbuf *q = fuzz_req(SSO_OP_APP_CREATE);

	fuzz_put_cstr(q, spec);
	setup_call(q, 0);
}

static void
setup_mapping(const char *app, const char *principal, const char *user,
    const char *password, const char *pin)
{
	struct svbuf *q = fuzz_req(SSO_OP_MAPPING_CREATE);

	fuzz_put_cstr(q, app);
	fuzz_put_cstr(q, principal);
	fuzz_put_cstr(q, user);
	setup_call(q, 0);
	q = fuzz_req(SSO_OP_CREDS_SET);
	fuzz_put_cstr(q, app);
	fuzz_put_cstr(q, principal);
	fuzz_put_u32(q, pin != NULL ? 3 : 2);
	fuzz_put_cstr(q, "username");
	fuzz_put_cstr(q, user);
	fuzz_put_cstr(q, "password");
	fuzz_put_cstr(q, password);
	if (pin != NULL) {
		fuzz_put_cstr(q, "pin");
		fuzz_put_cstr(q, pin);
	}
	setup_call(q, 0);
}

/* An EC P-256 client certificate made here, so none is ever committed. */
static void
make_cert(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	BIO *bc = BIO_new(BIO_s_mem()), *bk = BIO_new(BIO_s_mem());
	time_t now = FUZZ_NOW;
	char *p;
	long n;

	if (pk == NULL || x == NULL || bc == NULL || bk == NULL)
		setup_fail("OpenSSL cannot make a test certificate");
	if (X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 0x5eed) != 1 ||
	    X509_time_adj_ex(X509_getm_notBefore(x), -1, 0, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 3650, 0, &now) == NULL ||
	    (name = X509_get_subject_name(x)) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"ssovault fuzz client", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, pk) != 1 ||
	    X509_sign(x, pk, EVP_sha256()) == 0 ||
	    PEM_write_bio_X509(bc, x) != 1 ||
	    PEM_write_bio_PrivateKey(bk, pk, NULL, NULL, 0, NULL, NULL) != 1)
		setup_fail("OpenSSL cannot make a test certificate");
	n = BIO_get_mem_data(bc, &p);
	fuzz.cert_pem = strndup(p, (size_t)n);
	n = BIO_get_mem_data(bk, &p);
	fuzz.key_pem = strndup(p, (size_t)n);
	if (fuzz.cert_pem == NULL || fuzz.key_pem == NULL)
		setup_fail("out of memory");
	BIO_free(bc);
	BIO_free(bk);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static void
fill(void)
{
	struct svbuf *q;
	const uint8_t *p;
	size_t n;
	char spec[1024], *s;

	q = fuzz_req(SSO_OP_TICKET_SETTINGS);
	fuzz_put_u8(q, 1);
	fuzz_put_u8(q, 255);
	fuzz_put_u32(q, 0);
	setup_call(q, 0);

	snprintf(spec, sizeof(spec),
	    "{\"name\":\"%s\",\"description\":\"fuzz target\",\"contact\":\"fuzz@example.invalid\","
	    "\"enabled\":true,\"allow_tickets\":true,\"validate_tickets\":false,\"admins\":[\"%s\"],"
	    "\"users\":[\"%s\",\"uid:4242\"],\"fields\":[{\"label\":\"username\"},"
	    "{\"label\":\"password\",\"masked\":true},{\"label\":\"pin\",\"masked\":true}]}",
	    FUZZ_APP, fuzz.self, fuzz.self);
	setup_app(spec);
	snprintf(spec, sizeof(spec),
	    "{\"name\":\"%s\",\"enabled\":true,\"allow_tickets\":true,\"validate_tickets\":true,"
	    "\"ticket_reuse\":true,\"ticket_timeout\":60,\"users\":[\"%s\"]}",
	    FUZZ_APP_REUSE, fuzz.self);
	setup_app(spec);
	snprintf(spec, sizeof(spec),
	    "{\"name\":\"%s\",\"type\":\"group\",\"enabled\":true,\"users\":[\"%s\"]}",
	    FUZZ_APP_GROUP, fuzz.group);
	setup_app(spec);
	setup_mapping(FUZZ_APP, fuzz.self, "alice", "s3cret password", "1234");
	setup_mapping(FUZZ_APP_REUSE, fuzz.self, "alice@reuse", "another secret", NULL);
	setup_mapping(FUZZ_APP_GROUP, fuzz.group, "ops-account", "group secret", NULL);

	q = fuzz_req(SSO_OP_PORT_CREATE);
	fuzz_put_cstr(q, FUZZ_PORT);
	fuzz_put_cstr(q, "{\"url\":\"https://127.0.0.1:9/soap\",\"soap\":\"1.1\","
	    "\"action\":\"urn:fuzz\",\"retry_count\":1,\"sso_app\":\"" FUZZ_APP "\"}");
	setup_call(q, 0);

	make_cert();
	q = fuzz_req(SSO_OP_CERT_IMPORT);
	fuzz_put_str(q, fuzz.cert_pem, strlen(fuzz.cert_pem));
	fuzz_put_cstr(q, "");
	fuzz_put_str(q, fuzz.key_pem, strlen(fuzz.key_pem));
	fuzz_put_u32(q, 1);
	fuzz_put_cstr(q, fuzz.self);
	fuzz_put_u8(q, 1);	/* exportable: fetch is fuzzed too */
	s = setup_call(q, 1);
	if (strlen(s) != VAULT_SHA1_HEX)
		setup_fail("cert import returned '%s'", s);
	memcpy(fuzz.sha1, s, sizeof(fuzz.sha1));
	free(s);

	q = fuzz_req(SSO_OP_SUSPENDED_ADD);
	fuzz_put_cstr(q, "{\"url\":\"https://127.0.0.1:9/soap\",\"soap\":\"1.1\"}");
	fuzz_put_cstr(q, "<Envelope xmlns=\"http://schemas.xmlsoap.org/soap/envelope/\">"
	    "<Body><ping/></Body></Envelope>");
	fuzz_put_cstr(q, "fuzz: connection refused");
	fuzz_put_u32(q, 1);
	fuzz.msg_id = setup_call(q, 1);

	clock_now = FUZZ_NOW - 2 * 86400;
	fuzz.old_ticket = setup_call(fuzz_req(SSO_OP_TICKET_ISSUE), 1);
	clock_now = FUZZ_NOW;
	fuzz.ticket = setup_call(fuzz_req(SSO_OP_TICKET_ISSUE), 1);

	q = fuzz_req(SSO_OP_SECRET_BACKUP);
	fuzz_put_str(q, FUZZ_BACKUP_PW, strlen(FUZZ_BACKUP_PW));
	fuzz_put_cstr(q, "the fuzz hint");
	{
		struct svbuf *reply = svbuf_new_secure(0);

		if (reply == NULL ||
		    fuzz_dispatch_commit(NULL, svbuf_ptr(q), svbuf_len(q), reply) != 0 ||
		    fuzz_reply_payload(reply) != 0 ||
		    svbuf_get_string_direct(reply, &p, &n) != 0 ||
		    (fuzz.backup = malloc(n)) == NULL)
			setup_fail("secret backup failed");
		memcpy(fuzz.backup, p, n);
		fuzz.backup_len = n;
		svbuf_free(reply);
		svbuf_free(q);
	}

	/* a refusal and its repeat: the trail ends with a record of repeats */
	{
		struct svbuf *reply = svbuf_new_secure(0);
		int k2;

		for (k2 = 0; k2 < 2; k2++) {
			q = fuzz_req(SSO_OP_ROLE_ADD);
			fuzz_put_cstr(q, "vault-admin");
			fuzz_put_cstr(q, "uid:4242");
			if (reply == NULL || fuzz_dispatch_commit(&fuzz.stranger, svbuf_ptr(q),
			    svbuf_len(q), reply) != SV_ERR_DENIED)
				setup_fail("the stranger's role add was not refused");
			svbuf_free(q);
		}
		svbuf_free(reply);
		if (sso_service_flush(fuzz.svc) != 0)
			setup_fail("cannot write the record of repeats");
	}
}

/* The first and last audit sequences: fuzz-audit appends after the last. */
static void
audit_ends(void)
{
	struct vault_cursor *c = NULL;
	struct vault_txn *t = NULL;
	const uint8_t *k, *v;
	size_t kl, vl, i;

	fuzz.audit_first = fuzz.audit_last = 0;
	if (vault_txn_begin(fuzz_vault(), 0, &t) != 0 ||
	    vault_cursor_open(t, SSO_TABLE_AUDIT, &c) != 0 ||
	    vault_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl) != 1 || kl != 8)
		setup_fail("cannot find the first audit record");
	for (i = 0; i < 8; i++)
		fuzz.audit_first = fuzz.audit_first << 8 | k[i];
	if (vault_cursor_last(c, &k, &kl, &v, &vl) != 1 || kl != 8)
		setup_fail("cannot find the last audit record");
	for (i = 0; i < 8; i++)
		fuzz.audit_last = fuzz.audit_last << 8 | k[i];
	vault_cursor_close(c);
	vault_txn_abort(t);
}

/* Keep the data file as it is now: every reset starts from it. */
void
fuzz_template_save(void)
{
	char path[PATH_MAX];

	service_close(path);
	free(template_data);
	if ((template_data = read_file(path, &template_len)) == NULL)
		setup_fail("cannot read %s: %s", path, strerror(errno));
	service_open();
	audit_ends();
}

void
fuzz_init(void)
{
	const char *base = getenv("FUZZ_TMPDIR");
	struct vault_create_opts o;
	struct vault *v = NULL;
	struct stat st;
	char why[SV_MSG_MAX] = "";
	int r;

	if (randombytes_set_implementation(&rng_impl) != 0 || sodium_init() < 0)
		setup_fail("libsodium failed to start");
	if (base == NULL || *base == '\0')
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(tmp_root, sizeof(tmp_root), "%s/ssovault-fuzz.XXXXXX", base);
	if (mkdtemp(tmp_root) == NULL)
		setup_fail("mkdtemp %s: %s", tmp_root, strerror(errno));
	atexit(cleanup);
	snprintf(vault_path, sizeof(vault_path), "%s/vault", tmp_root);

	memset(fuzz.key, 0x4b, sizeof(fuzz.key));
	memset(&o, 0, sizeof(o));
	o.schema = &sso_schema;
	o.passphrase = FUZZ_PASSPHRASE;
	o.passphrase_len = strlen(FUZZ_PASSPHRASE);
	o.key = fuzz.key;
	/* Argon2id is not what is fuzzed: the cheapest limits it takes */
	o.opslimit = crypto_pwhash_OPSLIMIT_MIN;
	o.memlimit = crypto_pwhash_MEMLIMIT_MIN;
	if ((r = vault_create(vault_path, &o, &v)) != 0)
		setup_fail("vault_create: %s", vault_open_errmsg());
	if ((r = sso_service_new(v, &fuzz.svc)) != 0)
		setup_fail("sso_service_new: %s", sv_strerror(r));
	sso_service_set_clock(fuzz.svc, fixed_clock, NULL);
	sso_service_set_audit_sink(fuzz.svc, drop_sink, NULL);
	if (sso_caller_self(&fuzz.admin) != 0)
		setup_fail("cannot tell who this process is");
	if ((r = sso_service_bootstrap(fuzz.svc, &fuzz.admin, NULL, 0, why)) != 0)
		setup_fail("bootstrap: %s", why[0] != '\0' ? why : sv_strerror(r));
	sso_principal_of(&fuzz.admin, fuzz.self);
	snprintf(fuzz.group, sizeof(fuzz.group), "gid:%lu", (unsigned long)fuzz.admin.gid);
	memset(&fuzz.stranger, 0, sizeof(fuzz.stranger));
	fuzz.stranger.uid = 4242;
	fuzz.stranger.gid = 4242;
	fuzz.stranger.pid = 4242;
	snprintf(fuzz.stranger.exe, sizeof(fuzz.stranger.exe), "/usr/bin/stranger");

	fill();
	fuzz_template_save();
}
