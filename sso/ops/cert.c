/*
 * Certificates for use: the handlers behind `cert import|list|show|export|
 * delete|grant|revoke` and the sender's `cert fetch`, the record they share
 * with cert_use.c (certrec.h), and sso_cert_users(), which the dispatch asks
 * before any operation that only a certificate's users may run.
 *
 * Table certs, key = SHA-1 thumbprint (40 upper-case hex), sealed value:
 *   u8 version (2) | u8 flags | string vault_cert_encode() | u32 n |
 *   n x string principal
 * Version 1 (vaults from before non-exportable keys) has no flags byte: its
 * keys are exportable until an admin runs `cert update --non-exportable`.
 * Plus one sealed index record per certificate, key "sha256:" + 64 hex,
 * value the SHA-1 thumbprint, so that SHA-256 thumbprints find it too.
 * Parsing and the certificate encoding are vault/cert.c's; here is who may
 * use which certificate.  Private keys are only ever in secure buffers: the
 * decrypted record, the decoded PKCS#8 and the PEM of a fetch reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "vault/cert.h"
#include "base/units.h"
#include "handlers.h"
#include "certrec.h"

#define CERT_RECORD_VERSION 2
#define CERT_RECORD_V1 1		/* no flags: every key exportable */
#define CERT_USERS_MAX 1024
#define INDEX_PREFIX "sha256:"
#define INDEX_KEY_LEN (sizeof(INDEX_PREFIX) - 1 + VAULT_SHA256_HEX)

void
sso_cert_rec_clear(struct cert_rec *rec)
{
	svbuf_free(rec->plain);
	json_decref(rec->users);
	memset(rec, 0, sizeof(*rec));
}


int
sso_cert_is_sha1(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	}
	return 1;
}

static int
not_found(struct sso_ctx *x)
{
	return sv_fail(x->msg, SV_ERR_NOT_FOUND,
	    "no certificate with thumbprint %s: see 'ssovault cert list'", x->object);
}

/*
 * Make x->object the SHA-1 thumbprint.  The dispatch normalised it to 40 or
 * 64 upper-case hex digits; a SHA-256 one is looked up in the index.
 */
int
sso_cert_resolve(struct sso_ctx *x)
{
	char key[INDEX_KEY_LEN + 1];
	struct svbuf *b = NULL;
	size_t n = strlen(x->object);
	int r;

	if (n == VAULT_SHA1_HEX && sso_cert_is_sha1(x->object, n))
		return 0;
	if (n != VAULT_SHA256_HEX || !sso_cert_is_sha1(x->object, n))
		return sv_fail(x->msg, SV_ERR_INVALID, "expected 40 hexadecimal digits");
	snprintf(key, sizeof(key), "%s%s", INDEX_PREFIX, x->object);
	r = vault_record_get(x->txn, SSO_TABLE_CERTS, key, INDEX_KEY_LEN, &b);
	if (r == SV_ERR_NOT_FOUND)
		return not_found(x);
	if (r != 0)
		return sv_fail(x->msg, r, "cannot read the SHA-256 index of %s: %s",
		    x->object, vault_errmsg(x->v));
	if (svbuf_len(b) != VAULT_SHA1_HEX ||
	    !sso_cert_is_sha1((const char *)svbuf_ptr(b), VAULT_SHA1_HEX)) {
		svbuf_free(b);
		return sv_fail(x->msg, SV_ERR_INTEGRITY,
		    "the SHA-256 index entry of %s is damaged: delete and import the "
		    "certificate again", x->object);
	}
	memcpy(x->object, svbuf_ptr(b), VAULT_SHA1_HEX);
	x->object[VAULT_SHA1_HEX] = '\0';
	svbuf_free(b);
	return 0;
}

int
sso_cert_rec_split(struct sso_ctx *x, struct cert_rec *rec)
{
	struct svbuf *v = NULL;
	const uint8_t *p;
	size_t n;
	uint32_t count, i;
	uint8_t version, flags = 0;
	int r;

	if ((v = svbuf_from(svbuf_ptr(rec->plain), svbuf_len(rec->plain))) == NULL ||
	    (rec->users = json_array()) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = svbuf_get_u8(v, &version)) != 0)
		goto bad;
	rec->flags = 0;
	if (version == CERT_RECORD_VERSION && (r = svbuf_get_u8(v, &flags)) != 0)
		goto bad;
	if ((version != CERT_RECORD_VERSION && version != CERT_RECORD_V1) ||
	    (flags & ~SSO_CERT_NO_EXPORT) != 0) {
		r = sv_fail(x->msg, SV_ERR_VERSION,
		    "certificate %s has a record of version %u (flags %#x), which this "
		    "ssovault does not read", x->object, (unsigned)version, (unsigned)flags);
		goto out;
	}
	rec->flags = flags;
	if ((r = svbuf_get_string_direct(v, &rec->enc, &rec->enclen)) != 0 ||
	    (r = svbuf_get_u32(v, &count)) != 0)
		goto bad;
	if (count > CERT_USERS_MAX)
		goto bad;
	for (i = 0; i < count; i++) {
		if ((r = svbuf_get_string_direct(v, &p, &n)) != 0 ||
		    n == 0 || n >= SSO_PRINCIPAL_MAX || memchr(p, '\0', n) != NULL)
			goto bad;
		if (json_array_append_new(rec->users, json_stringn((const char *)p, n)) != 0)
			goto bad;
	}
	if (svbuf_expect_end(v) != 0)
		goto bad;
	r = 0;
	goto out;
bad:
	r = sv_fail(x->msg, SV_ERR_INTEGRITY,
	    "the record of certificate %s is damaged: delete it and import the "
	    "certificate again", x->object);
out:
	svbuf_free(v);
	return r;
}

int
sso_cert_rec_load(struct sso_ctx *x, struct cert_rec *ret)
{
	struct cert_rec rec;
	int r;

	memset(&rec, 0, sizeof(rec));
	if ((r = sso_cert_resolve(x)) != 0)
		return r;
	r = vault_record_get(x->txn, SSO_TABLE_CERTS, x->object, VAULT_SHA1_HEX,
	    &rec.plain);
	if (r == SV_ERR_NOT_FOUND)
		return not_found(x);
	if (r == SV_ERR_INTEGRITY)
		return sv_fail(x->msg, r, "the record of certificate %s is damaged (%s): "
		    "delete it and import the certificate again", x->object,
		    vault_errmsg(x->v));
	if (r != 0)
		return sv_fail(x->msg, r, "cannot read certificate %s: %s", x->object,
		    vault_errmsg(x->v));
	if ((r = sso_cert_rec_split(x, &rec)) != 0) {
		sso_cert_rec_clear(&rec);
		return r;
	}
	*ret = rec;
	return 0;
}

int
sso_cert_rec_store(struct sso_ctx *x, const uint8_t *enc, size_t enclen, json_t *users,
    unsigned recflags, unsigned flags)
{
	struct svbuf *b = svbuf_new_secure(0);
	size_t i;
	json_t *u;
	int r;

	if (b == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_put_u8(b, CERT_RECORD_VERSION)) != 0 ||
	    (r = svbuf_put_u8(b, (uint8_t)recflags)) != 0 ||
	    (r = svbuf_put_string(b, enc, enclen)) != 0 ||
	    (r = svbuf_put_u32(b, (uint32_t)json_array_size(users))) != 0)
		goto out;
	json_array_foreach(users, i, u) {
		if ((r = svbuf_put_cstring(b, json_string_value(u))) != 0)
			goto out;
	}
	if ((r = vault_record_put(x->txn, SSO_TABLE_CERTS, x->object, VAULT_SHA1_HEX,
	    svbuf_ptr(b), svbuf_len(b), flags)) != 0)
		sv_fail(x->msg, r, "cannot store certificate %s: %s", x->object,
		    vault_errmsg(x->v));
out:
	svbuf_free(b);
	return r;
}

int
sso_cert_rec_cert(struct sso_ctx *x, const struct cert_rec *rec, int with_key,
    struct vault_cert **ret)
{
	struct svbuf *v = svbuf_from(rec->enc, rec->enclen);
	struct vault_cert *c = NULL;
	char why[SV_MSG_MAX] = "";
	int r;

	if (v == NULL)
		return SV_ERR_NOMEM;
	r = with_key ? vault_cert_decode(v, &c, why) : vault_cert_decode_public(v, &c, why);
	svbuf_free(v);
	if (r == SV_ERR_NOMEM)
		return r;
	if (r != 0)
		return sv_fail(x->msg, SV_ERR_INTEGRITY,
		    "the record of certificate %s is damaged (%s): delete it and import "
		    "the certificate again", x->object, why[0] != '\0' ? why : sv_strerror(r));
	if (strcmp(c->sha1, x->object) != 0) {
		vault_cert_free(c);
		return sv_fail(x->msg, SV_ERR_INTEGRITY,
		    "the record of certificate %s holds another certificate", x->object);
	}
	*ret = c;
	return 0;
}

static const char *
status_name(const struct vault_cert *c, int64_t now)
{
	switch (vault_cert_check_time(c, now)) {
	case 0:
		return "valid";
	case SV_ERR_CERT_EXPIRED:
		return "expired";
	case SV_ERR_CERT_NOT_YET_VALID:
		return "not yet valid";
	default:
		return "unknown";
	}
}

int
sso_cert_in_time(struct sso_ctx *x, const struct vault_cert *c)
{
	char when[32];
	int r;

	switch ((r = vault_cert_check_time(c, x->now))) {
	case SV_ERR_CERT_EXPIRED:
		units_iso_time(c->not_after, when);
		return sv_fail(x->msg, r, "certificate %s expired on %s: import its renewal",
		    c->sha1, when);
	case SV_ERR_CERT_NOT_YET_VALID:
		units_iso_time(c->not_before, when);
		return sv_fail(x->msg, r, "certificate %s is not valid before %s", c->sha1,
		    when);
	default:
		return r;
	}
}

/* The public description of a certificate (docs/cert-usage.md). */
static json_t *
cert_json(struct sso_ctx *x, const struct vault_cert *c, const struct cert_rec *rec)
{
	char nb[32], na[32];

	units_iso_time(c->not_before, nb);
	units_iso_time(c->not_after, na);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:O}",
	    "thumbprint", c->sha1, "sha256", c->sha256,
	    "subject", c->subject != NULL ? c->subject : "",
	    "issuer", c->issuer != NULL ? c->issuer : "",
	    "serial", c->serial != NULL ? c->serial : "",
	    "not_before", nb, "not_after", na,
	    "status", status_name(c, x->now),
	    "key_type", c->key_type != NULL ? c->key_type : "",
	    "exportable", !(rec->flags & SSO_CERT_NO_EXPORT),
	    "users", rec->users);
}

int
sso_cert_users(struct sso_ctx *x, json_t **ret_users)
{
	struct cert_rec rec;
	int r;

	if ((r = sso_cert_rec_load(x, &rec)) != 0)
		return r;
	*ret_users = rec.users;
	rec.users = NULL;
	sso_cert_rec_clear(&rec);
	return 0;
}

/* Read n principals, canonical and without repeats, into a JSON array. */
static int
read_users(struct sso_ctx *x, struct svbuf *req, json_t **ret)
{
	char in[SSO_PRINCIPAL_MAX], p[SSO_PRINCIPAL_MAX];
	json_t *users = json_array(), *u;
	uint32_t n, i;
	size_t j;
	int r, dup;

	if (users == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_get_u32(req, &n)) != 0)
		goto out;
	if (n > CERT_USERS_MAX) {
		r = sv_fail(x->msg, SV_ERR_INVALID, "at most %d users per certificate",
		    CERT_USERS_MAX);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = sso_req_name(req, in, sizeof(in))) != 0) {
			if (r != SV_ERR_TRUNCATED)
				r = sv_fail(x->msg, SV_ERR_INVALID,
				    "invalid principal: expected user:NAME, group:NAME, uid:N or gid:N");
			goto out;
		}
		if ((r = sso_principal_check(in, p, x->msg)) != 0)
			goto out;
		dup = 0;
		json_array_foreach(users, j, u) {
			if (strcmp(json_string_value(u), p) == 0)
				dup = 1;
		}
		if (!dup && json_array_append_new(users, json_string(p)) != 0) {
			r = SV_ERR_NOMEM;
			goto out;
		}
	}
	*ret = users;
	users = NULL;
	r = 0;
out:
	json_decref(users);
	return r;
}

/*
 * request: s data | s password | s key | u32 n | n x s user | u8 exportable;
 * reply: s sha1
 */
int
sso_h_cert_import(struct sso_ctx *x, struct svbuf *req)
{
	const uint8_t *data, *key, *p;
	size_t dlen, klen, plen;
	char ikey[INDEX_KEY_LEN + 1];
	char *pw = NULL;
	struct vault_cert *c = NULL;
	struct svbuf *enc = NULL;
	json_t *users = NULL;
	int r, exportable;

	if ((r = svbuf_get_string_direct(req, &data, &dlen)) != 0 ||
	    (r = svbuf_get_cstring_secure(req, &pw)) != 0 ||
	    (r = svbuf_get_string_direct(req, &key, &klen)) != 0) {
		r = sv_fail(x->msg, SV_ERR_PROTOCOL, "malformed certificate import request");
		goto out;
	}
	if ((r = read_users(x, req, &users)) != 0)
		goto out;
	if ((r = svbuf_get_bool(req, &exportable)) != 0) {
		r = sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    "malformed certificate import request (exportable)");
		goto out;
	}
	if ((r = vault_cert_parse(data, dlen, pw, klen > 0 ? key : NULL, klen, &c,
	    x->msg)) != 0)
		goto out;
	snprintf(x->object, sizeof(x->object), "%s", c->sha1);
	r = vault_raw_get(x->txn, SSO_TABLE_CERTS, c->sha1, VAULT_SHA1_HEX, &p, &plen);
	if (r == 0) {
		r = sv_fail(x->msg, SV_ERR_EXISTS,
		    "certificate %s is already imported: delete it first to replace it",
		    c->sha1);
		goto out;
	}
	if (r != SV_ERR_NOT_FOUND) {
		sv_fail(x->msg, r, "cannot read the vault: %s", vault_errmsg(x->v));
		goto out;
	}
	if ((enc = svbuf_new_secure(0)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = vault_cert_encode(c, enc)) != 0) {
		sv_fail(x->msg, r, "cannot encode certificate %s", c->sha1);
		goto out;
	}
	if ((r = sso_cert_rec_store(x, svbuf_ptr(enc), svbuf_len(enc), users,
	    exportable ? 0 : SSO_CERT_NO_EXPORT, VAULT_PUT_NOOVERWRITE)) != 0)
		goto out;
	/* a stale index entry (of a record deleted by hand) is simply replaced */
	snprintf(ikey, sizeof(ikey), "%s%s", INDEX_PREFIX, c->sha256);
	if ((r = vault_record_put(x->txn, SSO_TABLE_CERTS, ikey, INDEX_KEY_LEN,
	    c->sha1, VAULT_SHA1_HEX, 0)) != 0) {
		sv_fail(x->msg, r, "cannot store the SHA-256 index of %s: %s", c->sha1,
		    vault_errmsg(x->v));
		goto out;
	}
	r = svbuf_put_cstring(x->out, c->sha1);
out:
	if (pw != NULL)
		sodium_free(pw);
	svbuf_free(enc);
	vault_cert_free(c);
	json_decref(users);
	return r;
}

/* A listing entry for a record that does not open: visible, so it can be deleted. */
static json_t *
damaged_json(const char *sha1, const char *why)
{
	return json_pack("{s:s,s:s,s:s}", "thumbprint", sha1, "status", "damaged",
	    "error", why);
}

int
sso_cert_foreach(struct sso_ctx *x, sso_cert_each_fn fn, void *ctx)
{
	struct vault_cursor *cur = NULL;
	struct cert_rec rec;
	const uint8_t *k, *v;
	size_t kl, vl;
	int r, more;

	memset(&rec, 0, sizeof(rec));
	if ((r = vault_cursor_open(x->txn, SSO_TABLE_CERTS, &cur)) != 0)
		return sv_fail(x->msg, r, "cannot list certificates: %s", vault_errmsg(x->v));
	for (more = vault_cursor_seek(cur, NULL, 0, &k, &kl, &v, &vl); more == 1;
	    more = vault_cursor_next(cur, &k, &kl, &v, &vl)) {
		/* index entries ("sha256:...") and anything else are not certificates */
		if (kl != VAULT_SHA1_HEX || !sso_cert_is_sha1((const char *)k, kl))
			continue;
		memcpy(x->object, k, kl);
		x->object[kl] = '\0';
		x->msg[0] = '\0';
		r = vault_cursor_unseal(cur, k, kl, v, vl, &rec.plain);
		if (r == SV_ERR_NOMEM || r == SV_ERR_LOCKED)
			goto out;
		if (r != 0)
			sv_fail(x->msg, r, "the record does not open (%s)", vault_errmsg(x->v));
		else
			r = sso_cert_rec_split(x, &rec);
		if (r == SV_ERR_NOMEM || (r = fn(x, &rec, r, ctx)) != 0)
			goto out;
		sso_cert_rec_clear(&rec);
	}
	if (more < 0) {
		r = sv_fail(x->msg, more, "cannot list certificates: %s", vault_errmsg(x->v));
		goto out;
	}
	/* the listing is about no one certificate */
	x->object[0] = '\0';
	x->msg[0] = '\0';
	r = 0;
out:
	sso_cert_rec_clear(&rec);
	vault_cursor_close(cur);
	return r;
}

static int
list_one(struct sso_ctx *x, struct cert_rec *rec, int err, void *ctx)
{
	struct vault_cert *c = NULL;
	json_t *e;

	if (err == 0 && (err = sso_cert_rec_cert(x, rec, 0, &c)) == SV_ERR_NOMEM)
		return err;
	e = err == 0 ? cert_json(x, c, rec) : damaged_json(x->object, x->msg);
	vault_cert_free(c);
	return e != NULL && json_array_append_new(ctx, e) == 0 ? 0 : SV_ERR_NOMEM;
}

int
sso_h_cert_list(struct sso_ctx *x, struct svbuf *req)
{
	json_t *arr = json_array();
	int r;

	if (arr == NULL)
		return SV_ERR_NOMEM;
	if ((r = sso_cert_foreach(x, list_one, arr)) != 0) {
		json_decref(arr);
		return r;
	}
	return sso_out_json(x, arr);
}

int
sso_h_cert_show(struct sso_ctx *x, struct svbuf *req)
{
	struct vault_cert *c = NULL;
	struct cert_rec rec;
	int r;

	if ((r = sso_cert_rec_load(x, &rec)) != 0)
		return r;
	if ((r = sso_cert_rec_cert(x, &rec, 0, &c)) == 0)
		r = sso_out_json(x, cert_json(x, c, &rec));
	vault_cert_free(c);
	sso_cert_rec_clear(&rec);
	return r;
}

/* reply: s PEM chain, leaf first; never the key */
int
sso_h_cert_export(struct sso_ctx *x, struct svbuf *req)
{
	struct vault_cert *c = NULL;
	struct svbuf *pem = NULL;
	struct cert_rec rec;
	int r;

	if ((r = sso_cert_rec_load(x, &rec)) != 0)
		return r;
	if ((r = sso_cert_rec_cert(x, &rec, 0, &c)) != 0)
		goto out;
	if ((pem = svbuf_new(0)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = vault_cert_chain_pem(c, pem)) != 0 || (r = svbuf_put_buf(x->out, pem)) != 0)
		goto out;
out:
	svbuf_free(pem);
	vault_cert_free(c);
	sso_cert_rec_clear(&rec);
	return r;
}

/* Remove the SHA-256 index entries that point at sha1. */
static int
index_drop(struct sso_ctx *x, const char *sha1)
{
	struct vault_cursor *cur = NULL;
	struct svbuf *plain = NULL;
	const uint8_t *k, *v;
	size_t kl, vl, i;
	json_t *drop = json_array(), *e;
	int r, more;

	if (drop == NULL)
		return SV_ERR_NOMEM;
	if ((r = vault_cursor_open(x->txn, SSO_TABLE_CERTS, &cur)) != 0)
		goto out;
	for (more = vault_cursor_seek(cur, INDEX_PREFIX, strlen(INDEX_PREFIX),
	    &k, &kl, &v, &vl); more == 1; more = vault_cursor_next(cur, &k, &kl, &v, &vl)) {
		if (kl < strlen(INDEX_PREFIX) || memcmp(k, INDEX_PREFIX, strlen(INDEX_PREFIX)) != 0)
			break;
		/* an entry that does not open points nowhere useful: drop it too */
		r = vault_cursor_unseal(cur, k, kl, v, vl, &plain);
		if (r == SV_ERR_NOMEM || r == SV_ERR_LOCKED)
			goto out;
		if (r != 0 || (svbuf_len(plain) == VAULT_SHA1_HEX &&
		    memcmp(svbuf_ptr(plain), sha1, VAULT_SHA1_HEX) == 0)) {
			if (json_array_append_new(drop, json_stringn((const char *)k, kl)) != 0) {
				r = SV_ERR_NOMEM;
				goto out;
			}
		}
		svbuf_free(plain);
		plain = NULL;
	}
	if ((r = more) < 0)
		goto out;
	vault_cursor_close(cur);
	cur = NULL;
	json_array_foreach(drop, i, e) {
		if ((r = vault_record_del(x->txn, SSO_TABLE_CERTS, json_string_value(e),
		    json_string_length(e))) != 0)
			goto out;
	}
	r = 0;
out:
	if (r != 0)
		sv_fail(x->msg, r, "cannot update the SHA-256 index: %s", vault_errmsg(x->v));
	svbuf_free(plain);
	vault_cursor_close(cur);
	json_decref(drop);
	return r;
}

/* Deletes even a damaged record: an admin must be able to clean up. */
int
sso_h_cert_delete(struct sso_ctx *x, struct svbuf *req)
{
	int r;

	if ((r = sso_cert_resolve(x)) != 0)
		return r;
	r = vault_record_del(x->txn, SSO_TABLE_CERTS, x->object, VAULT_SHA1_HEX);
	if (r == SV_ERR_NOT_FOUND)
		return not_found(x);
	if (r != 0)
		return sv_fail(x->msg, r, "cannot delete certificate %s: %s", x->object,
		    vault_errmsg(x->v));
	return index_drop(x, x->object);
}

/* request: s principal */
static int
grant(struct sso_ctx *x, struct svbuf *req, int add)
{
	char in[SSO_PRINCIPAL_MAX], p[SSO_PRINCIPAL_MAX];
	struct cert_rec rec;
	size_t i, found = (size_t)-1;
	json_t *u;
	int r;

	memset(&rec, 0, sizeof(rec));
	if ((r = sso_req_name(req, in, sizeof(in))) != 0)
		return r == SV_ERR_TRUNCATED ? r : sv_fail(x->msg, SV_ERR_INVALID,
		    "invalid principal: expected user:NAME, group:NAME, uid:N or gid:N");
	if ((r = sso_principal_check(in, p, x->msg)) != 0)
		return r;
	snprintf(x->target, sizeof(x->target), "%s", p);
	if ((r = sso_cert_rec_load(x, &rec)) != 0)
		return r;
	json_array_foreach(rec.users, i, u) {
		if (strcmp(json_string_value(u), p) == 0)
			found = i;
	}
	if (add && found != (size_t)-1)
		r = sv_fail(x->msg, SV_ERR_EXISTS, "%s is already a user of certificate %s",
		    p, x->object);
	else if (!add && found == (size_t)-1)
		r = sv_fail(x->msg, SV_ERR_NOT_FOUND, "%s is not a user of certificate %s",
		    p, x->object);
	else if (add && json_array_size(rec.users) >= CERT_USERS_MAX)
		r = sv_fail(x->msg, SV_ERR_INVALID, "at most %d users per certificate",
		    CERT_USERS_MAX);
	else if (add)
		r = json_array_append_new(rec.users, json_string(p)) == 0 ? 0 : SV_ERR_NOMEM;
	else
		r = json_array_remove(rec.users, found) == 0 ? 0 : SV_ERR_INTERNAL;
	if (r == 0)
		r = sso_cert_rec_store(x, rec.enc, rec.enclen, rec.users, rec.flags, 0);
	sso_cert_rec_clear(&rec);
	return r;
}

int
sso_h_cert_grant(struct sso_ctx *x, struct svbuf *req)
{
	return grant(x, req, 1);
}

int
sso_h_cert_revoke(struct sso_ctx *x, struct svbuf *req)
{
	return grant(x, req, 0);
}

/*
 * reply: s sha1 | s cert PEM | s key PEM | u64 not_after.  The dispatch has
 * checked that the caller is a user of the certificate (no implicit grant).
 */
int
sso_h_cert_fetch(struct sso_ctx *x, struct svbuf *req)
{
	struct vault_cert *c = NULL;
	struct svbuf *chain = NULL, *key = NULL;
	struct cert_rec rec;
	int r;

	if ((r = sso_cert_rec_load(x, &rec)) != 0)
		return r;
	if (rec.flags & SSO_CERT_NO_EXPORT) {
		r = sv_fail(x->msg, SV_ERR_DENIED, "access denied: the private key of "
		    "certificate %s is not exportable: the service only signs with it ('cert export' without "
		    "--key gives the certificate chain)", x->object);
		goto out;
	}
	if ((r = sso_cert_rec_cert(x, &rec, 1, &c)) != 0 ||
	    (r = sso_cert_in_time(x, c)) != 0)
		goto out;
	if ((chain = svbuf_new(0)) == NULL || (key = svbuf_new_secure(0)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = vault_cert_chain_pem(c, chain)) != 0)
		goto out;
	if ((r = vault_cert_key_pem(c, key)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			r = sv_fail(x->msg, SV_ERR_INTEGRITY,
			    "the record of certificate %s holds no private key: delete it "
			    "and import the certificate again", x->object);
		goto out;
	}
	if ((r = svbuf_put_cstring(x->out, c->sha1)) != 0 ||
	    (r = svbuf_put_buf(x->out, chain)) != 0 ||
	    (r = svbuf_put_buf(x->out, key)) != 0 ||
	    (r = svbuf_put_u64(x->out, (uint64_t)c->not_after)) != 0)
		goto out;
out:
	if (r != 0)
		svbuf_reset(x->out);
	svbuf_free(key);
	svbuf_free(chain);
	vault_cert_free(c);
	sso_cert_rec_clear(&rec);
	return r;
}
