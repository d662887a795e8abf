/*
 * Unit tests of the store handlers (h_cert.c, h_port.c, h_suspended.c),
 * driven through sso_dispatch() with synthetic callers, as the daemon would
 * see them: requests are built in the layouts of client.c and replies read
 * as client.c reads them.  Each case checks the status, the message and the
 * state after (what a listing, a show or the vault itself then says).
 *
 * The PKI comes from tests/pki.sh, made afresh in a temporary directory;
 * SOURCE_ROOT (set by meson) locates it.  Callers: uid 5000 made the vault
 * (vault admin), 5001 and 5002 are plain users, 5003 an affiliate admin.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "vault/cert.h"
#include "ops/ops.h"
#include "tap.h"
#include "tap-files.h"

#ifndef SOURCE_ROOT
#error "SOURCE_ROOT must name the source tree (meson: -DSOURCE_ROOT=\"...\")"
#endif

static char tmpdir[] = "/tmp/ssovault-test-store-XXXXXX";
static char pkidir[600];
static char p12pass[128];

static struct sso_service *svc;
static struct svbuf *req, *reply;
static char lastmsg[SV_MSG_MAX + 1];

static struct sso_caller admin, u1, u2, aff;

static struct blob
slurp(const char *name)
{
	return tap_slurp(pkidir, name);
}

static void
caller(struct sso_caller *c, uid_t uid)
{
	memset(c, 0, sizeof(*c));
	c->uid = uid;
	c->gid = uid;
	c->pid = 4242;
	snprintf(c->exe, sizeof(c->exe), "/usr/bin/test-store");
}

/* --- requests in client.c's layouts ------------------------------------ */

static void
chk(int r)
{
	if (r != 0)
		bail("cannot build a request");
}

static void
rq(enum sso_op op)
{
	svbuf_reset(req);
	chk(svbuf_put_u8(req, (uint8_t)op));
}

static void
rs(const char *s)
{
	chk(svbuf_put_cstring(req, s));
}

static void
rb(const void *p, size_t n)
{
	chk(svbuf_put_string(req, p, n));
}

static void
ru32(uint32_t v)
{
	chk(svbuf_put_u32(req, v));
}

static void
ru8(uint8_t v)
{
	chk(svbuf_put_u8(req, v));
}

/* Run the request as c: the status; the reply is left at its payload. */
static int
run(const struct sso_caller *c)
{
	const uint8_t *m;
	size_t n;
	uint32_t status;

	(void)sso_dispatch(svc, c, svbuf_ptr(req), svbuf_len(req), -1, reply);
	if (svbuf_get_u32(reply, &status) != 0 || svbuf_get_string_direct(reply, &m, &n) != 0)
		bail("malformed reply");
	snprintf(lastmsg, sizeof(lastmsg), "%.*s", (int)n, (const char *)m);
	return (int32_t)status;
}

/* The payload as one string (malloc'd), the whole of it; NULL if not. */
static char *
reply_str(void)
{
	char *s = NULL;

	if (svbuf_get_cstring(reply, &s) != 0 || svbuf_len(reply) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static json_t *
reply_json(void)
{
	char *s = reply_str();
	json_t *j;

	if (s == NULL)
		return NULL;
	j = json_loads(s, 0, NULL);
	free(s);
	return j;
}

static int
has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

/* --- operations used again and again ------------------------------------ */

static int cert_import_x(const struct sso_caller *c, const char *file, const char *pw,
    const char *keyfile, const char *const *users, size_t n, int exportable, char sha1[41]);

/* Exportable: these tests fetch the key. */
static int
cert_import(const struct sso_caller *c, const char *file, const char *pw,
    const char *keyfile, const char *const *users, size_t n, char sha1[41])
{
	return cert_import_x(c, file, pw, keyfile, users, n, 1, sha1);
}

static int
cert_import_x(const struct sso_caller *c, const char *file, const char *pw,
    const char *keyfile, const char *const *users, size_t n, int exportable, char sha1[41])
{
	struct blob d = slurp(file), k = { NULL, 0 };
	char *s;
	size_t i;
	int r;

	if (keyfile != NULL)
		k = slurp(keyfile);
	rq(SSO_OP_CERT_IMPORT);
	rb(d.p, d.len);
	rs(pw != NULL ? pw : "");
	rb(k.p, k.len);
	ru32((uint32_t)n);
	for (i = 0; i < n; i++)
		rs(users[i]);
	ru8((uint8_t)exportable);
	r = run(c);
	free(d.p);
	free(k.p);
	if (r == 0) {
		if ((s = reply_str()) == NULL || strlen(s) != 40)
			bail("malformed import reply");
		memcpy(sha1, s, 41);
		free(s);
	}
	return r;
}

static int
obj_op(const struct sso_caller *c, enum sso_op op, const char *obj)
{
	rq(op);
	rs(obj);
	return run(c);
}

static int
obj2_op(const struct sso_caller *c, enum sso_op op, const char *obj, const char *arg)
{
	rq(op);
	rs(obj);
	rs(arg);
	return run(c);
}

static json_t *
list(const struct sso_caller *c, enum sso_op op, int *ret_status)
{
	rq(op);
	*ret_status = run(c);
	return *ret_status == 0 ? reply_json() : NULL;
}

static json_t *
show(const struct sso_caller *c, enum sso_op op, const char *obj, int *ret_status)
{
	*ret_status = obj_op(c, op, obj);
	return *ret_status == 0 ? reply_json() : NULL;
}

static char *
file_text(const char *name)
{
	struct blob b = slurp(name);

	return (char *)b.p;
}

static json_t *
find_by(json_t *arr, const char *member, const char *value)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		if (json_is_string(json_object_get(e, member)) &&
		    strcmp(json_string_value(json_object_get(e, member)), value) == 0)
			return e;
	}
	return NULL;
}

static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* Does the PEM key belong to the PEM certificate (its first block)? */
static int
key_matches(const char *cert_pem, const char *key_pem)
{
	BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
	X509 *x = cb != NULL ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb != NULL ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	int ok_ = x != NULL && k != NULL && X509_check_private_key(x, k) == 1;

	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	ERR_clear_error();
	return ok_;
}

/* json_equal() that takes the reference of want */
static int
jeq(json_t *got, json_t *want)
{
	int r = json_equal(got, want);

	json_decref(want);
	return r;
}

static int64_t fixed_now;

static int64_t
test_clock(void *ctx)
{
	return fixed_now;
}

static json_t *
audit_tail(size_t n)
{
	int st;

	rq(SSO_OP_AUDIT_LIST);
	chk(svbuf_put_u64(req, 0));
	chk(svbuf_put_u64(req, n));
	st = run(&admin);
	return st == 0 ? reply_json() : NULL;
}

/* --- certificates --------------------------------------------------------- */

static char rsa_sha1[41], ec_sha1[41], exp_sha1[41], rsa_sha256[65];

static void
test_cert_import(void)
{
	const char *users[] = { "uid:5001", "UID:5001" };
	char *want, got[41], *before, *after;
	json_t *l, *e;
	int st;

	want = file_text("client-rsa.sha1");
	is_int(cert_import(&admin, "client-rsa.p12", p12pass, NULL, users, 2, rsa_sha1), 0,
	    "import: PKCS#12 RSA by a vault admin");
	is_str(rsa_sha1, want, "import: the reply is the SHA-1 thumbprint of the file");
	free(want);

	is_int(cert_import(&admin, "client-rsa.p12", p12pass, NULL, NULL, 0, got),
	    SV_ERR_EXISTS, "import: the same certificate again is refused");
	ok(has(lastmsg, "already imported"), "import: ... saying it is already imported (%s)", lastmsg);

	want = file_text("client-ec.sha1");
	is_int(cert_import(&admin, "client-ec.p12", p12pass, NULL, NULL, 0, ec_sha1), 0,
	    "import: PKCS#12 EC");
	is_str(ec_sha1, want, "import: EC thumbprint as openssl gives it");
	free(want);

	is_int(cert_import(&u1, "client-rsa.p12", p12pass, NULL, NULL, 0, got), SV_ERR_DENIED,
	    "import: denied to a caller who is not a vault admin");
	ok(has(lastmsg, "access denied") && has(lastmsg, "vault admin"),
	    "import: the denial names the role (%s)", lastmsg);

	l = list(&admin, SSO_OP_CERT_LIST, &st);
	is_int(st, 0, "list: by a vault admin");
	is_int(json_array_size(l), 2, "list: two certificates (index entries are not listed)");
	e = find_by(l, "thumbprint", rsa_sha1);
	ok(e != NULL, "list: has the RSA certificate");
	ok(jeq(json_object_get(e, "users"), json_pack("[s]", "uid:5001")) == 1,
	    "list: users canonicalised, without repeats");
	is_str(json_string_value(json_object_get(e, "status")), "valid", "list: status valid");
	ok(has(json_string_value(json_object_get(e, "key_type")), "RSA"), "list: key_type RSA");
	ok(has(json_string_value(json_object_get(e, "subject")), "ssovault test client RSA"),
	    "list: subject");
	ok(has(json_string_value(json_object_get(e, "issuer")), "ssovault test CA"), "list: issuer");
	ok(json_string_length(json_object_get(e, "not_after")) == 20 &&
	    json_string_value(json_object_get(e, "not_after"))[19] == 'Z',
	    "list: not_after in ISO 8601 UTC (%s)", json_string_value(json_object_get(e, "not_after")));
	is_int(json_string_length(json_object_get(e, "sha256")), 64, "list: sha256 thumbprint");
	snprintf(rsa_sha256, sizeof(rsa_sha256), "%s", json_string_value(json_object_get(e, "sha256")));
	ok(json_object_get(e, "serial") != NULL && json_object_get(e, "not_before") != NULL,
	    "list: serial and not_before");
	e = find_by(l, "thumbprint", ec_sha1);
	ok(e != NULL && has(json_string_value(json_object_get(e, "key_type")), "EC"),
	    "list: has the EC certificate");
	json_decref(l);

	l = list(&u1, SSO_OP_CERT_LIST, &st);
	is_int(st, SV_ERR_DENIED, "list: denied to a cert user (not a vault admin)");
	json_decref(l);

	/* every failed import leaves the list as it was */
	l = list(&admin, SSO_OP_CERT_LIST, &st);
	before = json_dumps(l, JSON_SORT_KEYS);
	json_decref(l);
	is_int(cert_import(&admin, "client-rsa.pem", NULL, "other.key", NULL, 0, got),
	    SV_ERR_KEY_MISMATCH, "import: a key that does not match is refused");
	ok(has(lastmsg, "private key does not match the certificate"), "import: ... %s", lastmsg);
	is_int(cert_import(&admin, "expired.p12", "not the password", NULL, NULL, 0, got),
	    SV_ERR_BAD_PASSWORD, "import: wrong PKCS#12 password");
	is_int(cert_import(&admin, "ca.pem", NULL, NULL, NULL, 0, got), SV_ERR_BAD_FORMAT,
	    "import: a certificate without a key");
	{
		const char *bad[] = { "user:ok", "nobody" };

		is_int(cert_import(&admin, "expired.p12", p12pass, NULL, bad, 2, got),
		    SV_ERR_INVALID, "import: an invalid principal is refused");
		ok(has(lastmsg, "invalid principal"), "import: ... %s", lastmsg);
	}
	rq(SSO_OP_CERT_IMPORT);
	rb("garbage", 7);
	rs("");
	rb(NULL, 0);
	ru32(0);
	ru8(0);
	is_int(run(&admin), SV_ERR_BAD_FORMAT, "import: garbage");
	rq(SSO_OP_CERT_IMPORT);
	rb(NULL, 0);
	rs("");
	rb(NULL, 0);
	ru32(0);
	ru8(0);
	is_int(run(&admin), SV_ERR_BAD_FORMAT, "import: an empty file");
	rq(SSO_OP_CERT_IMPORT);
	rb("x", 1);
	rs("");
	is_int(run(&admin), SV_ERR_PROTOCOL, "import: a truncated request");
	l = list(&admin, SSO_OP_CERT_LIST, &st);
	after = json_dumps(l, JSON_SORT_KEYS);
	json_decref(l);
	ok(before != NULL && after != NULL && strcmp(before, after) == 0,
	    "import: the failures left the list unchanged");
	free(before);
	free(after);
}

static void
test_cert_lookup(void)
{
	char lc[41], colons[80], *p;
	json_t *j;
	size_t i;
	int st;

	for (i = 0; i < 40; i++)
		lc[i] = (char)(rsa_sha1[i] >= 'A' ? rsa_sha1[i] - 'A' + 'a' : rsa_sha1[i]);
	lc[40] = '\0';
	for (i = 0, p = colons; i < 20; i++)
		p += snprintf(p, 4, "%.2s%s", rsa_sha1 + 2 * i, i < 19 ? ":" : "");

	j = show(&admin, SSO_OP_CERT_SHOW, lc, &st);
	is_int(st, 0, "show: lower-case thumbprint, by a vault admin");
	is_str(json_string_value(json_object_get(j, "thumbprint")), rsa_sha1, "show: the RSA certificate");
	json_decref(j);
	j = show(&admin, SSO_OP_CERT_SHOW, colons, &st);
	is_int(st, 0, "show: thumbprint with colons");
	json_decref(j);
	j = show(&admin, SSO_OP_CERT_SHOW, rsa_sha256, &st);
	is_int(st, 0, "show: by SHA-256 thumbprint");
	is_str(json_string_value(json_object_get(j, "thumbprint")), rsa_sha1,
	    "show: SHA-256 finds the SHA-1 record");
	json_decref(j);

	j = show(&u1, SSO_OP_CERT_SHOW, rsa_sha1, &st);
	is_int(st, 0, "show: by a cert user");
	json_decref(j);
	j = show(&u2, SSO_OP_CERT_SHOW, rsa_sha1, &st);
	is_int(st, SV_ERR_DENIED, "show: denied to a caller who is no cert user");
	ok(has(lastmsg, "a user of certificate"), "show: ... %s", lastmsg);

	j = show(&admin, SSO_OP_CERT_SHOW, "0000000000000000000000000000000000000000", &st);
	is_int(st, SV_ERR_NOT_FOUND, "show: unknown thumbprint");
	ok(has(lastmsg, "no certificate with thumbprint 0000"), "show: ... %s", lastmsg);
	j = show(&admin, SSO_OP_CERT_SHOW,
	    "0000000000000000000000000000000000000000000000000000000000000000", &st);
	is_int(st, SV_ERR_NOT_FOUND, "show: unknown SHA-256 thumbprint");
	lc[39] = '\0';
	j = show(&admin, SSO_OP_CERT_SHOW, lc, &st);
	is_int(st, SV_ERR_INVALID, "show: 39 digits");
	ok(has(lastmsg, "expected 40 hexadecimal digits"), "show: ... %s", lastmsg);

	st = obj_op(&admin, SSO_OP_CERT_EXPORT, rsa_sha1);
	is_int(st, 0, "export: by a vault admin");
	p = reply_str();
	ok(p != NULL && count_of(p, "-----BEGIN CERTIFICATE-----") == 2,
	    "export: the chain, leaf and CA");
	ok(p != NULL && !has(p, "PRIVATE KEY"), "export: never the key");
	free(p);
	st = obj_op(&u2, SSO_OP_CERT_EXPORT, rsa_sha1);
	is_int(st, SV_ERR_DENIED, "export: denied to a caller who is no cert user");
}

static void
test_cert_fetch(void)
{
	char *sha1 = NULL, *cert = NULL, *key = NULL, *chain;
	uint64_t na;
	json_t *j, *e;
	size_t i;
	int st, seen;

	st = obj_op(&admin, SSO_OP_CERT_FETCH, rsa_sha1);
	is_int(st, SV_ERR_DENIED, "fetch: a vault admin without a grant is denied");
	ok(has(lastmsg, "a user of certificate"), "fetch: ... %s", lastmsg);
	is_int(svbuf_len(reply), 0, "fetch: a denial carries no payload");

	st = obj_op(&u1, SSO_OP_CERT_FETCH, rsa_sha1);
	is_int(st, 0, "fetch: by a cert user");
	if (svbuf_get_cstring(reply, &sha1) != 0 || svbuf_get_cstring(reply, &cert) != 0 ||
	    svbuf_get_cstring(reply, &key) != 0 || svbuf_get_u64(reply, &na) != 0)
		bail("malformed fetch reply");
	is_int(svbuf_len(reply), 0, "fetch: reply has no trailing bytes");
	is_str(sha1, rsa_sha1, "fetch: the SHA-1");
	ok(has(cert, "-----BEGIN CERTIFICATE-----"), "fetch: the chain as PEM");
	ok(strncmp(key, "-----BEGIN PRIVATE KEY-----", 27) == 0, "fetch: the key as PKCS#8 PEM");
	ok(key_matches(cert, key), "fetch: the key belongs to the certificate");
	ok(na > (uint64_t)time(NULL), "fetch: not_after in the future");
	free(sha1);
	free(cert);
	sodium_memzero(key, strlen(key));
	free(key);

	st = obj_op(&u1, SSO_OP_CERT_FETCH, rsa_sha256);
	is_int(st, 0, "fetch: by SHA-256 thumbprint");
	st = obj_op(&u2, SSO_OP_CERT_FETCH, rsa_sha1);
	is_int(st, SV_ERR_DENIED, "fetch: denied to another user");
	st = obj_op(&u1, SSO_OP_CERT_FETCH, "1111111111111111111111111111111111111111");
	is_int(st, SV_ERR_NOT_FOUND, "fetch: unknown thumbprint");

	/* the audit has the fetch, by thumbprint, and no key material */
	j = audit_tail(20);
	seen = 0;
	json_array_foreach(j, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "op")), "cert fetch") == 0 &&
		    strcmp(json_string_value(json_object_get(e, "object")), rsa_sha1) == 0 &&
		    strcmp(json_string_value(json_object_get(e, "outcome")), "ok") == 0)
			seen++;
	}
	ok(seen == 2, "audit: both fetches recorded under the SHA-1 (%d)", seen);
	chain = json_dumps(j, 0);
	ok(chain != NULL && !has(chain, "PRIVATE") && !has(chain, "MII"),
	    "audit: no key material in the records");
	free(chain);
	json_decref(j);
}

static void
test_cert_grant(void)
{
	json_t *j;
	int st;

	is_int(obj2_op(&admin, SSO_OP_CERT_GRANT, rsa_sha1, "uid:5000"), 0,
	    "grant: the admin grants itself");
	is_int(obj_op(&admin, SSO_OP_CERT_FETCH, rsa_sha1), 0, "grant: now the admin may fetch");
	is_int(obj2_op(&admin, SSO_OP_CERT_GRANT, rsa_sha1, "uid:5000"), SV_ERR_EXISTS,
	    "grant: twice is refused");
	ok(has(lastmsg, "already a user"), "grant: ... %s", lastmsg);
	is_int(obj2_op(&admin, SSO_OP_CERT_GRANT, rsa_sha256, "Group:staff"), 0,
	    "grant: by SHA-256, a group");
	is_int(obj2_op(&u1, SSO_OP_CERT_GRANT, rsa_sha1, "uid:5002"), SV_ERR_DENIED,
	    "grant: denied to a cert user");
	is_int(obj2_op(&admin, SSO_OP_CERT_GRANT, rsa_sha1, "bogus"), SV_ERR_INVALID,
	    "grant: invalid principal");
	j = show(&admin, SSO_OP_CERT_SHOW, rsa_sha1, &st);
	ok(jeq(json_object_get(j, "users"),
	    json_pack("[s,s,s]", "uid:5001", "uid:5000", "group:staff")) == 1,
	    "grant: users after the grants");
	json_decref(j);

	is_int(obj2_op(&admin, SSO_OP_CERT_REVOKE, rsa_sha1, "uid:5001"), 0, "revoke: a user");
	is_int(obj_op(&u1, SSO_OP_CERT_FETCH, rsa_sha1), SV_ERR_DENIED,
	    "revoke: the user may fetch no more");
	is_int(obj2_op(&admin, SSO_OP_CERT_REVOKE, rsa_sha1, "uid:5001"), SV_ERR_NOT_FOUND,
	    "revoke: a non-user is NOT_FOUND");
	ok(has(lastmsg, "not a user"), "revoke: ... %s", lastmsg);
	is_int(obj2_op(&admin, SSO_OP_CERT_REVOKE, rsa_sha1, "group:staff"), 0,
	    "revoke: the group");
	j = show(&admin, SSO_OP_CERT_SHOW, rsa_sha1, &st);
	ok(jeq(json_object_get(j, "users"), json_pack("[s]", "uid:5000")) == 1,
	    "revoke: users after the revokes");
	json_decref(j);
	is_int(obj2_op(&admin, SSO_OP_CERT_GRANT, rsa_sha1, "uid:5001"), 0, "grant: back again");
	is_int(obj_op(&u1, SSO_OP_CERT_FETCH, rsa_sha1), 0, "grant: the record still holds the key");
}

static void
test_cert_time(void)
{
	const char *users[] = { "uid:5001" };
	json_t *l;
	int st;

	is_int(cert_import(&admin, "expired.p12", p12pass, NULL, users, 1, exp_sha1), 0,
	    "time: an expired certificate is imported");
	is_int(obj_op(&u1, SSO_OP_CERT_FETCH, exp_sha1), SV_ERR_CERT_EXPIRED,
	    "time: fetching it is refused");
	ok(has(lastmsg, "expired on 2020-01-02T00:00:00Z"), "time: ... naming the date (%s)", lastmsg);
	is_int(svbuf_len(reply), 0, "time: nothing returned");
	l = list(&admin, SSO_OP_CERT_LIST, &st);
	is_str(json_string_value(json_object_get(find_by(l, "thumbprint", exp_sha1), "status")),
	    "expired", "time: listed as expired");
	json_decref(l);

	/* a valid certificate, seen from 2020: not yet valid */
	fixed_now = 1577836800 + 86400 * 150;
	sso_service_set_clock(svc, test_clock, NULL);
	is_int(obj_op(&u1, SSO_OP_CERT_FETCH, rsa_sha1), SV_ERR_CERT_NOT_YET_VALID,
	    "time: before not_before, fetch is refused");
	ok(has(lastmsg, "not valid before"), "time: ... %s", lastmsg);
	l = show(&admin, SSO_OP_CERT_SHOW, rsa_sha1, &st);
	is_str(json_string_value(json_object_get(l, "status")), "not yet valid",
	    "time: shown as not yet valid");
	json_decref(l);
	sso_service_set_clock(svc, NULL, NULL);
}

static void
test_cert_damage(void)
{
	struct vault *v = sso_service_vault(svc);
	struct vault_txn *t = NULL;
	struct svbuf *b = NULL;
	char key[80];
	json_t *l, *e;
	int st;

	/* a well-sealed record whose contents are not a certificate record */
	if (vault_txn_begin(v, 1, &t) != 0 ||
	    vault_record_put(t, SSO_TABLE_CERTS, ec_sha1, 40, "\x01junk", 5, 0) != 0 ||
	    vault_txn_commit(t) != 0)
		bail("cannot damage a record");
	is_int(obj_op(&admin, SSO_OP_CERT_SHOW, ec_sha1), SV_ERR_INTEGRITY,
	    "damage: a malformed record is an integrity error");
	ok(has(lastmsg, "damaged"), "damage: ... %s", lastmsg);
	is_int(obj_op(&u1, SSO_OP_CERT_FETCH, ec_sha1), SV_ERR_INTEGRITY,
	    "damage: fetch refuses it");
	l = list(&admin, SSO_OP_CERT_LIST, &st);
	is_int(st, 0, "damage: the list still works");
	e = find_by(l, "thumbprint", ec_sha1);
	is_str(json_string_value(json_object_get(e, "status")), "damaged",
	    "damage: and shows the record as damaged");
	json_decref(l);

	/* bytes altered under the seal */
	if (vault_txn_begin(v, 1, &t) != 0 ||
	    vault_raw_put(t, SSO_TABLE_CERTS, exp_sha1, 40, "garbage that is no sealed record",
	    32, 0) != 0 || vault_txn_commit(t) != 0)
		bail("cannot tamper with a record");
	is_int(obj_op(&u1, SSO_OP_CERT_FETCH, exp_sha1), SV_ERR_INTEGRITY,
	    "damage: a tampered record is an integrity error on fetch");

	is_int(obj_op(&admin, SSO_OP_CERT_DELETE, ec_sha1), 0, "delete: a damaged record");
	is_int(obj_op(&admin, SSO_OP_CERT_DELETE, exp_sha1), 0, "delete: a tampered record");
	l = list(&admin, SSO_OP_CERT_LIST, &st);
	is_int(json_array_size(l), 1, "delete: one certificate left");
	json_decref(l);
	if (vault_txn_begin(v, 0, &t) != 0)
		bail("txn");
	snprintf(key, sizeof(key), "sha256:%s", rsa_sha256);
	is_int(vault_record_get(t, SSO_TABLE_CERTS, key, strlen(key), &b), 0,
	    "delete: the RSA index entry stays");
	svbuf_free(b);
	b = NULL;
	vault_txn_abort(t);

	is_int(obj_op(&u1, SSO_OP_CERT_DELETE, rsa_sha1), SV_ERR_DENIED,
	    "delete: denied to a cert user");
	is_int(obj_op(&admin, SSO_OP_CERT_DELETE, rsa_sha256), 0, "delete: by SHA-256");
	is_int(obj_op(&admin, SSO_OP_CERT_SHOW, rsa_sha1), SV_ERR_NOT_FOUND, "delete: gone");
	is_int(obj_op(&admin, SSO_OP_CERT_DELETE, rsa_sha1), SV_ERR_NOT_FOUND,
	    "delete: twice is NOT_FOUND");
	if (vault_txn_begin(v, 0, &t) != 0)
		bail("txn");
	is_int(vault_record_get(t, SSO_TABLE_CERTS, key, strlen(key), &b), SV_ERR_NOT_FOUND,
	    "delete: the SHA-256 index entry went with it");
	vault_txn_abort(t);
	l = list(&admin, SSO_OP_CERT_LIST, &st);
	is_int(json_array_size(l), 0, "delete: the list is empty");
	json_decref(l);
}

/* --- keys that stay in the service: sign, usable, update ------------------ */

/* A cert sign request of a digest, as client/certs.c builds it; the status. */
static int
sign_op(const struct sso_caller *c, const char *thumb, uint8_t scheme, uint8_t hash,
    const uint8_t *in, size_t len)
{
	rq(SSO_OP_CERT_SIGN);
	rs(thumb);
	ru8(scheme);
	ru8(hash);
	ru8(0);
	ru8(0);
	ru32(UINT32_MAX);
	rb(in, len);
	return run(c);
}

/* 1 if sig (the reply's string) is an RSA-PSS SHA-256 signature of dg by the certificate's key. */
static int
pss_verifies(const char *cert_pem, const uint8_t dg[32])
{
	BIO *cb = BIO_new_mem_buf(cert_pem, -1);
	X509 *x = cb != NULL ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY_CTX *ctx = x != NULL ? EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL) : NULL;
	const uint8_t *sig;
	size_t n;
	int good = ctx != NULL && svbuf_get_string_direct(reply, &sig, &n) == 0 &&
	    svbuf_len(reply) == 0 && EVP_PKEY_verify_init(ctx) > 0 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
	    EVP_PKEY_verify(ctx, sig, n, dg, 32) == 1;

	EVP_PKEY_CTX_free(ctx);
	X509_free(x);
	BIO_free(cb);
	ERR_clear_error();
	return good;
}

/* `cert usable` as c: the count of entries (first one's exportable byte in *exp), or -status. */
static long
usable(const struct sso_caller *c, const char *thumb, int *exp)
{
	uint32_t n;
	char *sha1 = NULL;
	int st;

	rq(SSO_OP_CERT_USABLE);
	rs(thumb);
	if ((st = run(c)) != 0)
		return st;
	if (svbuf_get_u32(reply, &n) != 0)
		bail("malformed usable reply");
	if (n > 0 && (svbuf_get_cstring(reply, &sha1) != 0 || svbuf_get_bool(reply, exp) != 0))
		bail("malformed usable entry");
	free(sha1);
	return (long)n;
}

static int
exportable_of(const char *thumb)
{
	json_t *j;
	int st, e;

	j = show(&admin, SSO_OP_CERT_SHOW, thumb, &st);
	e = st == 0 ? json_is_true(json_object_get(j, "exportable")) : -1;
	json_decref(j);
	return e;
}

/* Rewrite the record of thumb as ssovault wrote it before flags: version 1, no flags byte. */
static void
make_v1(const char *thumb, int flags)
{
	struct vault *v = sso_service_vault(svc);
	struct vault_txn *t = NULL;
	struct svbuf *b = NULL;
	uint8_t *p;
	size_t n;

	if (vault_txn_begin(v, 1, &t) != 0 || vault_record_get(t, SSO_TABLE_CERTS, thumb, 40, &b) != 0)
		bail("cannot read a certificate record");
	n = svbuf_len(b);
	if (n < 3 || svbuf_ptr(b)[0] != 2 || (p = malloc(n)) == NULL)
		bail("not a version 2 record");
	memcpy(p, svbuf_ptr(b), n);
	if (flags < 0) {
		p[1] = 1;				/* version 1, then the rest */
		if (vault_record_put(t, SSO_TABLE_CERTS, thumb, 40, p + 1, n - 1, 0) != 0)
			bail("cannot write a version 1 record");
	} else {
		p[1] = (uint8_t)flags;
		if (vault_record_put(t, SSO_TABLE_CERTS, thumb, 40, p, n, 0) != 0)
			bail("cannot write the record");
	}
	if (vault_txn_commit(t) != 0)
		bail("commit");
	sodium_memzero(p, n);
	free(p);
	svbuf_free(b);
}

static void
test_cert_use(void)
{
	const char *users[] = { "uid:5001" };
	char rsa[41], ec[41], exp[41], *pem;
	uint8_t dg[32];
	json_t *j, *e;
	size_t i;
	int st, x = -1, seen;

	randombytes_buf(dg, sizeof(dg));
	is_int(cert_import_x(&admin, "client-rsa.p12", p12pass, NULL, users, 1, 0, rsa), 0,
	    "use: import without --exportable");
	is_int(exportable_of(rsa), 0, "use: show says the key is not exportable");
	j = list(&admin, SSO_OP_CERT_LIST, &st);
	ok(json_is_false(json_object_get(find_by(j, "thumbprint", rsa), "exportable")),
	    "use: so does the list");
	json_decref(j);

	is_int(obj_op(&u1, SSO_OP_CERT_FETCH, rsa), SV_ERR_DENIED,
	    "use: a cert user may not fetch a non-exportable key");
	ok(has(lastmsg, "not exportable") && has(lastmsg, "access denied"),
	    "use: ... %s", lastmsg);
	is_int(svbuf_len(reply), 0, "use: and gets no payload");

	is_int(obj_op(&u1, SSO_OP_CERT_EXPORT, rsa), 0, "use: export still gives the chain");
	pem = reply_str();
	ok(has(pem, "BEGIN CERTIFICATE") && !has(pem, "PRIVATE"), "use: ... and no key");

	is_int(sign_op(&u1, rsa, 2, 3, dg, 32), 0, "sign: rsa-pss-sha256 by a cert user");
	ok(pss_verifies(pem, dg), "sign: OpenSSL verifies it with the exported certificate");
	is_int(sign_op(&u2, rsa, 2, 3, dg, 32), SV_ERR_DENIED, "sign: denied to another user");
	ok(has(lastmsg, "a user of certificate"), "sign: ... %s", lastmsg);
	is_int(sign_op(&admin, rsa, 2, 3, dg, 32), SV_ERR_DENIED,
	    "sign: a vault admin has no implicit grant");
	is_int(sign_op(&u1, rsa, 3, 3, dg, 32), SV_ERR_INVALID, "sign: ECDSA on an RSA key");
	is_int(sign_op(&u1, "not a thumbprint", 2, 3, dg, 32), SV_ERR_INVALID,
	    "sign: a malformed thumbprint");
	rq(SSO_OP_CERT_SIGN);
	rs(rsa);
	ru8(1);
	is_int(run(&u1), SV_ERR_TRUNCATED, "sign: a request cut short");
	rq(SSO_OP_CERT_SIGN);
	rs(rsa);
	ru8(1);
	ru8(3);
	ru8(2);
	ru8(0);
	ru32(UINT32_MAX);
	rb(dg, 32);
	is_int(run(&u1), SV_ERR_INVALID, "sign: input kind 2");
	ok(has(lastmsg, "input kind 2"), "sign: ... %s", lastmsg);
	is_int(sign_op(&u1, rsa, 2, 3, dg, 32), 0, "sign: a second rsa-pss-sha256");
	is_int(sign_op(&u1, rsa, 1, 3, dg, 32), 0, "sign: rsa-pkcs1-sha256");
	rq(SSO_OP_CERT_SIGN);
	rs(rsa);
	ru8(1);
	ru8(3);
	ru8(0);
	ru8(0);
	ru32(UINT32_MAX);
	rb(dg, 32);
	ru8(0);
	is_int(run(&u1), SV_ERR_TRAILING, "sign: trailing bytes");

	/* the audit names the algorithm and never the key */
	j = audit_tail(12);
	seen = 0;
	json_array_foreach(j, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "op")), "cert sign") == 0 &&
		    strcmp(json_string_value(json_object_get(e, "outcome")), "ok") == 0 &&
		    strcmp(json_string_value(json_object_get(e, "object")), rsa) == 0 &&
		    strcmp(json_string_value(json_object_get(e, "user")), "rsa-pss-sha256") == 0)
			seen++;
	}
	is_int(seen, 2, "audit: each signature is a 'cert sign' record with its algorithm");
	json_decref(j);

	is_int(usable(&u1, "", &x), 1, "usable: a cert user sees its certificate");
	is_int(x, 0, "usable: ... not exportable");
	is_int(usable(&u2, "", &x), 0, "usable: another user sees none");
	is_int(usable(&admin, "", &x), 0, "usable: nor does a vault admin without a grant");
	is_int(usable(&u2, rsa, &x), SV_ERR_DENIED, "usable: naming it is denied to another user");
	ok(has(lastmsg, "a user of certificate"), "usable: ... %s", lastmsg);
	is_int(usable(&u1, "0000000000000000000000000000000000000000", &x), SV_ERR_NOT_FOUND,
	    "usable: an unknown thumbprint");
	is_int(usable(&u1, "12:34", &x), SV_ERR_INVALID, "usable: a malformed thumbprint");

	/* one way: exportable to not, never back */
	is_int(cert_import_x(&admin, "client-ec.p12", p12pass, NULL, users, 1, 1, ec), 0,
	    "update: import EC with --exportable");
	is_int(exportable_of(ec), 1, "update: show says exportable");
	is_int(obj_op(&u1, SSO_OP_CERT_FETCH, ec), 0, "update: its user may fetch the key");
	is_int(usable(&u1, ec, &x), 1, "update: usable names it");
	is_int(x, 1, "update: ... exportable");
	rq(SSO_OP_CERT_UPDATE);
	rs(ec);
	ru8(0);
	is_int(run(&u1), SV_ERR_DENIED, "update: denied to a cert user");
	rq(SSO_OP_CERT_UPDATE);
	rs(ec);
	ru8(1);
	is_int(run(&admin), SV_ERR_EXISTS, "update: exportable is already so");
	rq(SSO_OP_CERT_UPDATE);
	rs(ec);
	ru8(0);
	is_int(run(&admin), 0, "update: --non-exportable by a vault admin");
	is_int(exportable_of(ec), 0, "update: now not exportable");
	is_int(obj_op(&u1, SSO_OP_CERT_FETCH, ec), SV_ERR_DENIED, "update: fetch refused now");
	rq(SSO_OP_CERT_UPDATE);
	rs(ec);
	ru8(0);
	is_int(run(&admin), SV_ERR_EXISTS, "update: twice is an error");
	rq(SSO_OP_CERT_UPDATE);
	rs(ec);
	ru8(1);
	is_int(run(&admin), SV_ERR_CONFLICT, "update: back to exportable is refused");
	ok(has(lastmsg, "for good"), "update: ... %s", lastmsg);
	rq(SSO_OP_CERT_UPDATE);
	rs(ec);
	ru8(2);
	is_int(run(&admin), SV_ERR_INVALID, "update: a byte that is not 0 or 1");
	is_int(obj2_op(&admin, SSO_OP_CERT_GRANT, ec, "uid:5002"), 0, "update: a grant after it");
	is_int(exportable_of(ec), 0, "update: ... keeps the key non-exportable");

	/* records from before flags: exportable, until updated */
	make_v1(ec, -1);
	is_int(exportable_of(ec), 1, "v1: a record of version 1 is exportable");
	is_int(obj_op(&u1, SSO_OP_CERT_FETCH, ec), 0, "v1: its user may fetch the key");
	rq(SSO_OP_STATUS);
	is_int(run(&u2), 0, "status");
	j = reply_json();
	e = json_object_get(j, "certificates");
	is_int(json_integer_value(json_object_get(e, "count")), 2, "status: two certificates");
	is_int(json_integer_value(json_object_get(e, "exportable_keys")), 1,
	    "status: one exportable key");
	json_decref(j);
	is_int(obj2_op(&admin, SSO_OP_CERT_REVOKE, ec, "uid:5002"), 0, "v1: a revoke rewrites it");
	is_int(exportable_of(ec), 1, "v1: ... still exportable");
	rq(SSO_OP_CERT_UPDATE);
	rs(ec);
	ru8(0);
	is_int(run(&admin), 0, "v1: --non-exportable");
	is_int(exportable_of(ec), 0, "v1: ... done");
	make_v1(ec, 0x80);
	is_int(obj_op(&admin, SSO_OP_CERT_SHOW, ec), SV_ERR_VERSION,
	    "flags this ssovault does not know are refused");
	ok(has(lastmsg, "does not read"), "  ... %s", lastmsg);
	is_int(obj_op(&admin, SSO_OP_CERT_DELETE, ec), 0, "and such a record can be deleted");

	/* at use, the dates are checked as for a fetch */
	is_int(cert_import_x(&admin, "expired.p12", p12pass, NULL, users, 1, 0, exp), 0,
	    "time: an expired certificate");
	is_int(sign_op(&u1, exp, 1, 3, dg, 32), SV_ERR_CERT_EXPIRED, "time: it does not sign");
	ok(has(lastmsg, "expired on"), "time: ... %s", lastmsg);
	is_int(usable(&u1, exp, &x), SV_ERR_CERT_EXPIRED, "time: usable refuses it by name");
	is_int(usable(&u1, "", &x), 2, "time: the list shows it, and the RSA one");
	free(pem);
	is_int(obj_op(&admin, SSO_OP_CERT_DELETE, exp), 0, "time: delete it");
	is_int(obj_op(&admin, SSO_OP_CERT_DELETE, rsa), 0, "use: delete the RSA one");
}

/* --- ports ---------------------------------------------------------------- */

static int
port_op(const struct sso_caller *c, enum sso_op op, const char *name, const char *json)
{
	rq(op);
	rs(name);
	if (json != NULL)
		rs(json);
	return run(c);
}

static void
test_ports(void)
{
	static const char *const secrets[] = {
		"{\"password\":\"x\"}",
		"{\"Proxy_Password\":\"x\"}",
		"{\"ticket\":\"x\"}",
		"{\"basic_password\":\"x\"}",
		"{\"auth\":{\"password\":\"x\"}}",
		"{\"list\":[{\"proxy_password\":\"x\"}]}",
	};
	char *big, *before, *after;
	json_t *j, *s, *l;
	size_t i;
	int st;

	is_int(port_op(&aff, SSO_OP_PORT_CREATE, "Orders",
	    "{\"url\":\"https://h/x\",\"soap\":\"1.2\",\"password_file\":\"/etc/p\"}"), 0,
	    "port: create by an affiliate admin");
	is_int(port_op(&u1, SSO_OP_PORT_CREATE, "mine", "{}"), SV_ERR_DENIED,
	    "port: create denied to a plain user");
	is_int(port_op(&admin, SSO_OP_PORT_CREATE, "ORDERS", "{}"), SV_ERR_EXISTS,
	    "port: a second port of the same name (any case) is refused");
	ok(has(lastmsg, "already exists"), "port: ... %s", lastmsg);
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		is_int(port_op(&aff, SSO_OP_PORT_CREATE, "leaky", secrets[i]), SV_ERR_INVALID,
		    "port: secret member refused: %s", secrets[i]);
		ok(has(lastmsg, "ports never hold secret values: use password_file"),
		    "port: ... %s", lastmsg);
	}
	is_int(port_op(&aff, SSO_OP_PORT_CREATE, "bad", "{\"url\":"), SV_ERR_INVALID,
	    "port: not JSON");
	is_int(port_op(&aff, SSO_OP_PORT_CREATE, "bad", "[1]"), SV_ERR_INVALID,
	    "port: not an object");
	is_int(port_op(&aff, SSO_OP_PORT_CREATE, "a/b", "{}"), SV_ERR_INVALID,
	    "port: a name with a slash");
	big = malloc(70 * 1024);
	memset(big, 'a', 70 * 1024);
	memcpy(big, "{\"h\":\"", 6);
	memcpy(big + 70 * 1024 - 3, "\"}", 3);
	is_int(port_op(&aff, SSO_OP_PORT_CREATE, "big", big), SV_ERR_TOO_LARGE,
	    "port: settings over 64 KiB");
	free(big);
	is_int(obj_op(&u2, SSO_OP_PORT_SHOW, "leaky"), SV_ERR_NOT_FOUND,
	    "port: no failed create left a port");

	j = show(&u2, SSO_OP_PORT_SHOW, "orders", &st);
	is_int(st, 0, "port: show by anyone, any case");
	is_str(json_string_value(json_object_get(j, "name")), "Orders", "port: the name as given");
	s = json_object_get(j, "settings");
	is_str(json_string_value(json_object_get(s, "url")), "https://h/x", "port: settings kept");
	ok(json_is_string(json_object_get(j, "created")) && json_is_string(json_object_get(j, "updated")),
	    "port: created and updated");
	before = json_dumps(j, JSON_SORT_KEYS);
	json_decref(j);

	is_int(port_op(&aff, SSO_OP_PORT_UPDATE, "orders", "{\"password\":\"x\"}"), SV_ERR_INVALID,
	    "port: update with a secret member is refused");
	is_int(port_op(&u1, SSO_OP_PORT_UPDATE, "orders", "{\"soap\":\"1.1\"}"), SV_ERR_DENIED,
	    "port: update denied to a plain user");
	j = show(&u2, SSO_OP_PORT_SHOW, "orders", &st);
	after = json_dumps(j, JSON_SORT_KEYS);
	ok(before != NULL && after != NULL && strcmp(before, after) == 0,
	    "port: the refused updates changed nothing");
	json_decref(j);
	free(before);
	free(after);

	is_int(port_op(&aff, SSO_OP_PORT_UPDATE, "Orders",
	    "{\"soap\":\"1.1\",\"retry_count\":5,\"password_file\":null,\"nothing\":null}"), 0,
	    "port: update merges");
	j = show(&u2, SSO_OP_PORT_SHOW, "orders", &st);
	s = json_object_get(j, "settings");
	is_str(json_string_value(json_object_get(s, "soap")), "1.1", "port: a member replaced");
	is_int(json_integer_value(json_object_get(s, "retry_count")), 5, "port: a member added");
	ok(json_object_get(s, "password_file") == NULL, "port: a member set to null is removed");
	is_str(json_string_value(json_object_get(s, "url")), "https://h/x", "port: others kept");
	json_decref(j);
	is_int(port_op(&aff, SSO_OP_PORT_UPDATE, "nosuch", "{}"), SV_ERR_NOT_FOUND,
	    "port: update of an unknown port");

	is_int(port_op(&aff, SSO_OP_PORT_CREATE, "billing", "{\"url\":\"https://b\"}"), 0,
	    "port: a second port");
	l = list(&u1, SSO_OP_PORT_LIST, &st);
	is_int(st, 0, "port: list by anyone");
	is_int(json_array_size(l), 2, "port: two ports");
	is_str(json_string_value(json_object_get(json_array_get(l, 0), "name")), "billing",
	    "port: in name order");
	json_decref(l);

	is_int(obj_op(&u1, SSO_OP_PORT_DELETE, "orders"), SV_ERR_DENIED,
	    "port: delete denied to a plain user");
	is_int(obj_op(&aff, SSO_OP_PORT_DELETE, "ORDERS"), 0, "port: delete");
	is_int(obj_op(&u1, SSO_OP_PORT_SHOW, "orders"), SV_ERR_NOT_FOUND, "port: gone");
	ok(has(lastmsg, "no send port"), "port: ... %s", lastmsg);
	is_int(obj_op(&aff, SSO_OP_PORT_DELETE, "orders"), SV_ERR_NOT_FOUND,
	    "port: delete twice is NOT_FOUND");
	l = list(&u1, SSO_OP_PORT_LIST, &st);
	is_int(json_array_size(l), 1, "port: one port left");
	json_decref(l);
}

/* --- suspended queue ------------------------------------------------------ */

static int
susp_add(const struct sso_caller *c, const char *settings, const void *body, size_t len,
    const char *reason, uint32_t attempts, char id[33])
{
	char *s;
	int r;

	rq(SSO_OP_SUSPENDED_ADD);
	rs(settings);
	rb(body, len);
	rs(reason);
	ru32(attempts);
	if ((r = run(c)) == 0) {
		if ((s = reply_str()) == NULL || strlen(s) != 32)
			bail("malformed suspend reply");
		memcpy(id, s, 33);
		free(s);
	}
	return r;
}

static void
test_suspended(void)
{
	static const uint8_t body2[] = { 'a', 0, 'b', 0xff, '\n' };
	char id1[33], id2[33], id3[33], upper[33], *settings = NULL, *big;
	const uint8_t *bp;
	size_t bl, i;
	json_t *l, *e, *j;
	int st, seen;

	fixed_now = 1800000000;
	sso_service_set_clock(svc, test_clock, NULL);
	is_int(susp_add(&u1, "{\"url\":\"https://h/soap\",\"port\":\"billing\"}", "hello", 5,
	    "timeout\nafter 3 tries", 3, id1), 0, "suspended: add by a plain user");
	ok(strspn(id1, "0123456789abcdef") == 32, "suspended: the id is 32 lower-case hex (%s)", id1);
	fixed_now += 10;
	is_int(susp_add(&u2, "{}", body2, sizeof(body2), "refused", 1, id2), 0,
	    "suspended: add by another user");
	is_int(susp_add(&u1, "[]", "x", 1, "r", 1, id3), SV_ERR_INVALID,
	    "suspended: settings must be an object");

	l = list(&u1, SSO_OP_SUSPENDED_LIST, &st);
	is_int(st, 0, "suspended: list by a user");
	is_int(json_array_size(l), 1, "suspended: a user sees only its own messages");
	e = json_array_get(l, 0);
	is_str(json_string_value(json_object_get(e, "id")), id1, "suspended: its message");
	is_str(json_string_value(json_object_get(e, "sender")), "uid:5001", "suspended: sender");
	is_int(json_integer_value(json_object_get(e, "attempts")), 3, "suspended: attempts");
	is_int(json_integer_value(json_object_get(e, "size")), 5, "suspended: size");
	is_str(json_string_value(json_object_get(e, "reason")), "timeout after 3 tries",
	    "suspended: reason on one line");
	is_str(json_string_value(json_object_get(e, "url")), "https://h/soap", "suspended: url");
	is_str(json_string_value(json_object_get(e, "port")), "billing", "suspended: port");
	is_str(json_string_value(json_object_get(e, "created")), "2027-01-15T08:00:00Z",
	    "suspended: created in ISO 8601");
	ok(json_object_get(e, "body") == NULL && json_object_get(e, "settings") == NULL,
	    "suspended: no body or settings in a listing");
	json_decref(l);

	l = list(&aff, SSO_OP_SUSPENDED_LIST, &st);
	is_int(json_array_size(l), 2, "suspended: an affiliate admin sees all");
	is_str(json_string_value(json_object_get(json_array_get(l, 0), "id")), id1,
	    "suspended: oldest first");
	json_decref(l);
	l = list(&admin, SSO_OP_SUSPENDED_LIST, &st);
	is_int(json_array_size(l), 2, "suspended: a vault admin sees all");
	json_decref(l);

	j = show(&u1, SSO_OP_SUSPENDED_SHOW, id1, &st);
	is_int(st, 0, "suspended: show by the sender");
	is_str(json_string_value(json_object_get(json_object_get(j, "settings"), "url")),
	    "https://h/soap", "suspended: show has the settings");
	json_decref(j);
	is_int(obj_op(&u2, SSO_OP_SUSPENDED_SHOW, id1), SV_ERR_DENIED,
	    "suspended: show denied to another user");
	ok(has(lastmsg, "the sender of message") && has(lastmsg, "affiliate admin"),
	    "suspended: ... %s", lastmsg);
	is_int(obj_op(&aff, SSO_OP_SUSPENDED_SHOW, id1), 0, "suspended: show by an affiliate admin");
	for (i = 0; i < 32; i++)
		upper[i] = (char)(id1[i] >= 'a' ? id1[i] - 'a' + 'A' : id1[i]);
	upper[32] = '\0';
	is_int(obj_op(&u1, SSO_OP_SUSPENDED_SHOW, upper), 0, "suspended: the id in upper case");
	is_int(obj_op(&u1, SSO_OP_SUSPENDED_SHOW, "0123"), SV_ERR_INVALID,
	    "suspended: a malformed id");
	is_int(obj_op(&u1, SSO_OP_SUSPENDED_SHOW, "00000000000000000000000000000000"),
	    SV_ERR_NOT_FOUND, "suspended: an unknown id");

	is_int(obj_op(&u2, SSO_OP_SUSPENDED_GET, id2), 0, "suspended: get by the sender");
	if (svbuf_get_cstring(reply, &settings) != 0 ||
	    svbuf_get_string_direct(reply, &bp, &bl) != 0)
		bail("malformed get reply");
	is_str(settings, "{}", "suspended: get returns the settings");
	ok(bl == sizeof(body2) && memcmp(bp, body2, bl) == 0 && svbuf_len(reply) == 0,
	    "suspended: get returns the body, byte for byte");
	free(settings);
	is_int(obj_op(&u1, SSO_OP_SUSPENDED_GET, id2), SV_ERR_DENIED,
	    "suspended: get denied to another user");
	is_int(svbuf_len(reply), 0, "suspended: ... with no payload");

	fixed_now += 100;
	rq(SSO_OP_SUSPENDED_UPDATE);
	rs(id1);
	rs("HTTP 503");
	ru32(4);
	is_int(run(&u1), 0, "suspended: update by the sender");
	j = show(&u1, SSO_OP_SUSPENDED_SHOW, id1, &st);
	is_int(json_integer_value(json_object_get(j, "attempts")), 4, "suspended: attempts updated");
	is_str(json_string_value(json_object_get(j, "reason")), "HTTP 503", "suspended: reason updated");
	is_str(json_string_value(json_object_get(j, "updated")), "2027-01-15T08:01:50Z",
	    "suspended: updated time");
	is_str(json_string_value(json_object_get(j, "created")), "2027-01-15T08:00:00Z",
	    "suspended: created time kept");
	json_decref(j);
	rq(SSO_OP_SUSPENDED_UPDATE);
	rs(id1);
	rs("x");
	ru32(9);
	is_int(run(&u2), SV_ERR_DENIED, "suspended: update denied to another user");

	/* size cap: 32 MiB is kept, one byte more is refused */
	big = malloc(32u * 1024 * 1024 + 1);
	memset(big, 'm', 32u * 1024 * 1024 + 1);
	is_int(susp_add(&u1, "{}", big, 32u * 1024 * 1024 + 1, "big", 1, id3), SV_ERR_TOO_LARGE,
	    "suspended: a body over 32 MiB is refused");
	ok(has(lastmsg, "32 MiB"), "suspended: ... %s", lastmsg);
	is_int(susp_add(&u1, "{}", big, 32u * 1024 * 1024, "big", 1, id3), 0,
	    "suspended: a body of exactly 32 MiB is kept");
	is_int(obj_op(&u1, SSO_OP_SUSPENDED_GET, id3), 0, "suspended: and comes back");
	ok(svbuf_get_string_direct(reply, &bp, &bl) == 0 && svbuf_get_string_direct(reply, &bp, &bl) == 0 &&
	    bl == 32u * 1024 * 1024 && memcmp(bp, big, bl) == 0, "suspended: ... whole");
	free(big);
	rq(SSO_OP_SUSPENDED_REMOVE);
	rs(id3);
	ru8(0);
	is_int(run(&u1), 0, "suspended: remove (terminate) the big one");

	rq(SSO_OP_SUSPENDED_REMOVE);
	rs(id1);
	ru8(1);
	is_int(run(&u2), SV_ERR_DENIED, "suspended: remove denied to another user");
	rq(SSO_OP_SUSPENDED_REMOVE);
	rs(id1);
	ru8(1);
	is_int(run(&u1), 0, "suspended: remove (delivered) by the sender");
	is_int(obj_op(&u1, SSO_OP_SUSPENDED_SHOW, id1), SV_ERR_NOT_FOUND, "suspended: gone");
	rq(SSO_OP_SUSPENDED_REMOVE);
	rs(id1);
	ru8(1);
	is_int(run(&u1), SV_ERR_NOT_FOUND, "suspended: remove twice is NOT_FOUND");
	rq(SSO_OP_SUSPENDED_REMOVE);
	rs(id2);
	ru8(2);
	is_int(run(&u2), SV_ERR_PROTOCOL, "suspended: remove with a bad flag");

	sso_service_set_clock(svc, NULL, NULL);
	l = audit_tail(40);
	seen = 0;
	json_array_foreach(l, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "op")), "suspended remove") == 0 &&
		    strcmp(json_string_value(json_object_get(e, "object")), id1) == 0 &&
		    strcmp(json_string_value(json_object_get(e, "outcome")), "ok") == 0 &&
		    strcmp(json_string_value(json_object_get(e, "user")), "delivered") == 0)
			seen++;
	}
	is_int(seen, 1, "suspended: the audit records the removal as delivered");
	json_decref(l);

	/* a damaged record: only admins see it, and may remove it */
	{
		struct vault *v = sso_service_vault(svc);
		struct vault_txn *t = NULL;
		const char *bad = "ffffffffffffffffffffffffffffffff";

		if (vault_txn_begin(v, 1, &t) != 0 ||
		    vault_record_put(t, SSO_TABLE_SUSPENDED, bad, 32, "\x01", 1, 0) != 0 ||
		    vault_txn_commit(t) != 0)
			bail("cannot damage a message");
		l = list(&u1, SSO_OP_SUSPENDED_LIST, &st);
		is_int(json_array_size(l), 0, "suspended: a user does not see a damaged record");
		json_decref(l);
		l = list(&aff, SSO_OP_SUSPENDED_LIST, &st);
		e = find_by(l, "id", bad);
		ok(e != NULL && json_is_string(json_object_get(e, "error")),
		    "suspended: an admin sees it, marked");
		json_decref(l);
		rq(SSO_OP_SUSPENDED_REMOVE);
		rs(bad);
		ru8(0);
		is_int(run(&u1), SV_ERR_INTEGRITY, "suspended: a user cannot remove it");
		rq(SSO_OP_SUSPENDED_REMOVE);
		rs(bad);
		ru8(0);
		is_int(run(&aff), 0, "suspended: an admin can");
		l = list(&aff, SSO_OP_SUSPENDED_LIST, &st);
		is_int(json_array_size(l), 1, "suspended: one message left");
		json_decref(l);
	}
}

/* The usage entry of uid in a limits reply; count and size, or -1 if none. */
static void
usage_of(json_t *j, uid_t uid, long long *count, long long *size)
{
	json_t *e;
	size_t i;

	*count = *size = -1;
	json_array_foreach(json_object_get(j, "usage"), i, e) {
		if (json_integer_value(json_object_get(e, "uid")) == (json_int_t)uid) {
			*count = json_integer_value(json_object_get(e, "count"));
			*size = json_integer_value(json_object_get(e, "size"));
		}
	}
}

static json_t *
limits(const struct sso_caller *c, int *ret_status)
{
	rq(SSO_OP_SUSPENDED_LIMITS);
	*ret_status = run(c);
	return *ret_status == 0 ? reply_json() : NULL;
}

static int
limits_set(const struct sso_caller *c, uint64_t count, uint64_t size)
{
	rq(SSO_OP_SUSPENDED_LIMITS_SET);
	chk(svbuf_put_u64(req, count));
	chk(svbuf_put_u64(req, size));
	return run(c);
}

/* What a message keeps (no password or output file, one line each), and the per-uid limits. */
static void
test_suspended_limits(void)
{
	struct sso_caller u3;
	char id[33], id2[33], body[3000];
	long long count, size, c0, s0;
	json_t *j, *l, *e, *st_set;
	size_t i, total;
	int st;

	caller(&u3, 5004);
	/* the usage was forgotten when the damaged record went: counted again, it matches the queue */
	l = list(&aff, SSO_OP_SUSPENDED_LIST, &st);
	j = limits(&aff, &st);
	is_int(st, 0, "limits: shown to an affiliate admin");
	total = 0;
	json_array_foreach(json_object_get(j, "usage"), i, e)
		total += (size_t)json_integer_value(json_object_get(e, "count"));
	is_int((long long)total, (long long)json_array_size(l), "limits: usage counted again matches the queue");
	ok(json_is_true(json_object_get(j, "max_count_default")) &&
	    json_integer_value(json_object_get(j, "max_count")) == 1000, "limits: 1000 messages by default");
	ok(json_is_true(json_object_get(j, "max_size_default")) &&
	    json_integer_value(json_object_get(j, "max_size")) ==
	    json_integer_value(json_object_get(j, "vault_size")) / 4,
	    "limits: a quarter of the vault's size by default");
	json_decref(j);
	json_decref(l);

	/* what a message keeps */
	is_int(susp_add(&u3, "{\"url\":\"http://h/\",\"user\":\"x\",\"password_file\":\"/root/pw\","
	    "\"proxy_user\":\"y\",\"proxy_password_file\":\"/root/pw\",\"out\":\"/etc/passwd\","
	    "\"headers\":[\"X-A: b\"],\"retry_count\":0,\"suspend_on_fault\":true,\"auth\":null}",
	    "b", 1, "r", 1, id), 0, "keep: a message with password and output files is kept");
	j = show(&u3, SSO_OP_SUSPENDED_SHOW, id, &st);
	e = json_object_get(j, "settings");
	ok(json_object_get(e, "password_file") == NULL && json_object_get(e, "proxy_password_file") == NULL &&
	    json_object_get(e, "out") == NULL, "keep: without them");
	ok(json_is_string(json_object_get(e, "user")) && json_is_string(json_object_get(e, "proxy_user")) &&
	    json_is_array(json_object_get(e, "headers")), "keep: the rest as sent");
	ok(json_is_true(json_object_get(j, "own")) && json_integer_value(json_object_get(j, "uid")) == 5004,
	    "keep: show says uid 5004 sent it, and it is the caller's own");
	json_decref(j);
	j = show(&aff, SSO_OP_SUSPENDED_SHOW, id, &st);
	ok(json_is_false(json_object_get(j, "own")), "keep: not the affiliate admin's own");
	json_decref(j);
	{
		static const struct {
			const char *desc, *settings, *why;
		} bad[] = {
			{ "a control character", "{\"url\":\"http://h/\\u001b[2J\"}", "one line of text" },
			{ "a newline", "{\"action\":\"a\\nb\"}", "one line of text" },
			{ "a C1 control character", "{\"url\":\"http://h/\\u009b2J\"}", "one line of text" },
			{ "a NUL", "{\"url\":\"a\\u0000b\"}", "not valid JSON" },
			{ "a control character in a header", "{\"headers\":[\"X: \\u0007\"]}", "per entry" },
			{ "a number in a list", "{\"headers\":[1]}", "per entry" },
			{ "an object", "{\"proxy\":{\"a\":1}}", "text, a number or a flag" },
			{ "a real number", "{\"timeout\":1.5}", "text, a number or a flag" },
			{ "a name in capitals", "{\"URL\":\"http://h/\"}", "not a setting name" },
			{ "a name with a space", "{\"a b\":1}", "not a setting name" },
		};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			is_int(susp_add(&u3, bad[i].settings, "b", 1, "r", 1, id2), SV_ERR_INVALID,
			    "keep: %s is refused", bad[i].desc);
			ok(has(lastmsg, bad[i].why), "keep: ... %s", lastmsg);
		}
	}

	/* a count limit */
	is_int(limits_set(&u3, 2, 0), SV_ERR_DENIED, "limits: a plain user cannot set them");
	is_int(limits_set(&aff, 2, 0), SV_ERR_DENIED, "limits: nor an affiliate admin");
	is_int(limits_set(&admin, 2, 0), 0, "limits: a vault admin sets --max-count 2");
	st_set = reply_json();
	ok(json_integer_value(json_object_get(st_set, "max_count")) == 2 &&
	    json_is_false(json_object_get(st_set, "max_count_default")) &&
	    json_is_true(json_object_get(st_set, "max_size_default")), "limits: the reply shows it");
	json_decref(st_set);
	is_int(susp_add(&u3, "{}", "b", 1, "r", 1, id2), 0, "limits: a second message fits");
	is_int(susp_add(&u3, "{}", "b", 1, "r", 1, id2), SV_ERR_TOO_LARGE, "limits: a third does not");
	ok(has(lastmsg, "at most 2 messages per uid and uid 5004 holds 2") && has(lastmsg, "--max-count") &&
	    has(lastmsg, "resume or terminate some"), "limits: ... %s", lastmsg);
	is_int(susp_add(&u2, "{}", "b", 1, "r", 1, id2), 0, "limits: another uid is not held back");

	/* a size limit, counted in sealed bytes */
	is_int(limits_set(&admin, UINT64_MAX, 4096), 0, "limits: --max-size 4K");
	memset(body, 'x', sizeof(body));
	is_int(susp_add(&u1, "{}", body, sizeof(body), "r", 1, id2), 0, "limits: a 3000-byte message fits for uid 5001");
	is_int(susp_add(&u1, "{}", body, sizeof(body), "r", 1, id2), SV_ERR_TOO_LARGE,
	    "limits: a second does not");
	ok(has(lastmsg, "at most 4.0 KiB per uid: uid 5001 holds") && has(lastmsg, "--max-size"),
	    "limits: ... %s", lastmsg);
	j = limits(&u1, &st);
	is_int(st, 0, "limits: a plain user sees them");
	is_int((long long)json_array_size(json_object_get(j, "usage")), 1, "limits: ... with its own usage only");
	usage_of(j, 5001, &c0, &s0);
	ok(s0 > 3000 && s0 <= 4096, "limits: it holds its sealed bytes (%lld)", s0);
	json_decref(j);

	/* removing releases; the usage follows every change */
	rq(SSO_OP_SUSPENDED_REMOVE);
	rs(id);
	ru8(0);
	is_int(run(&u3), 0, "limits: uid 5004 terminates one");
	j = limits(&u3, &st);
	usage_of(j, 5004, &count, &size);
	is_int(count, 1, "limits: it holds one message");
	json_decref(j);
	is_int(susp_add(&u3, "{}", "b", 1, "r", 1, id2), 0, "limits: and may suspend another");

	/* the usage record gone: counted again, the same */
	j = limits(&aff, &st);
	usage_of(j, 5001, &c0, &s0);
	json_decref(j);
	{
		struct vault_txn *t = NULL;

		if (vault_txn_begin(sso_service_vault(svc), 1, &t) != 0 ||
		    vault_record_del(t, SSO_TABLE_META, "suspended-usage", 15) != 0 ||
		    vault_txn_commit(t) != 0)
			bail("cannot drop the usage record");
	}
	j = limits(&aff, &st);
	usage_of(j, 5001, &count, &size);
	ok(count == c0 && size == s0, "limits: counted again from the queue, the same (%lld, %lld)", count, size);
	json_decref(j);

	/* bad values; back to the defaults */
	is_int(limits_set(&admin, 2000000000, 0), SV_ERR_INVALID, "limits: --max-count over 10^9 refused");
	is_int(limits_set(&admin, 0, 10), SV_ERR_INVALID, "limits: --max-size under 1K refused");
	is_int(limits_set(&admin, UINT64_MAX, UINT64_MAX), 0, "limits: both back to the default");
	j = limits(&admin, &st);
	ok(json_is_true(json_object_get(j, "max_count_default")) && json_is_true(json_object_get(j, "max_size_default")),
	    "limits: defaults again");
	json_decref(j);
	rq(SSO_OP_SUSPENDED_LIMITS_SET);
	chk(svbuf_put_u64(req, 1));
	is_int(run(&admin), SV_ERR_PROTOCOL, "limits: a request cut short");
}

int
main(void)
{
	struct vault_create_opts o;
	struct vault *v = NULL;
	char vdir[700], *pass;
	char *argv[] = { "sh", SOURCE_ROOT "/tests/pki.sh", pkidir, NULL };
	int st;

	if (sodium_init() < 0)
		bail("sodium_init");
	if (mkdtemp(tmpdir) == NULL)
		bail("mkdtemp");
	snprintf(pkidir, sizeof(pkidir), "%s/pki", tmpdir);
	if (tap_run(argv) != 0)
		bail("tests/pki.sh failed");
	pass = file_text("p12.pass");
	snprintf(p12pass, sizeof(p12pass), "%s", pass);
	free(pass);

	caller(&admin, 5000);
	caller(&u1, 5001);
	caller(&u2, 5002);
	caller(&aff, 5003);

	memset(&o, 0, sizeof(o));
	o.schema = &sso_schema;
	o.passphrase = "test passphrase";
	o.passphrase_len = strlen(o.passphrase);
	o.opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	o.memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	snprintf(vdir, sizeof(vdir), "%s/vault", tmpdir);
	if (vault_create(vdir, &o, &v) != 0 || sso_service_new(v, &svc) != 0 ||
	    sso_service_bootstrap(svc, &admin, NULL, 0, NULL) != 0)
		bail("cannot make a vault");
	req = svbuf_new_secure(0);
	reply = svbuf_new_secure(0);
	if (req == NULL || reply == NULL)
		bail("svbuf");
	rq(SSO_OP_ROLE_ADD);
	rs("affiliate-admin");
	rs("uid:5003");
	if ((st = run(&admin)) != 0)
		bail(lastmsg);

	test_cert_import();
	test_cert_lookup();
	test_cert_fetch();
	test_cert_grant();
	test_cert_time();
	test_cert_damage();
	test_cert_use();
	test_ports();
	test_suspended();
	test_suspended_limits();

	svbuf_free(req);
	svbuf_free(reply);
	sso_service_free(svc);
	{
		char *rm[] = { "rm", "-rf", tmpdir, NULL };

		(void)tap_run(rm);
	}
	return done_testing();
}
