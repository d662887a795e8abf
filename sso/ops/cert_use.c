/*
 * Using a certificate's key without handing it out: `cert sign` (the
 * service signs for a cert user: the sender's TLS handshakes, the PKCS#11
 * module, `ssovault cert sign`), `cert usable` (the certificates a caller
 * may use, public parts only, for the sender and the module to present),
 * `cert update --non-exportable` (one way), and the count of exportable
 * keys that `status` shows.  The record itself is cert.c's (certrec.h).
 */
#include <stdio.h>
#include <string.h>

#include "base/thumbprint.h"
#include "handlers.h"
#include "certrec.h"

/*
 * request (after the thumbprint): u8 scheme | u8 hash | u8 input (0 digest,
 * 1 data) | u8 mgf1 hash | u32 salt length | s input; reply: s signature.
 * The dispatch has checked that the caller is a user of the certificate.
 */
int
sso_h_cert_sign(struct sso_ctx *x, struct svbuf *req)
{
	struct vault_sign_req p;
	struct vault_cert *c = NULL;
	struct svbuf *sig = NULL;
	struct cert_rec rec;
	const uint8_t *in;
	size_t len;
	uint8_t scheme, hash, data, mgf1;
	int r;

	memset(&rec, 0, sizeof(rec));
	if ((r = svbuf_get_u8(req, &scheme)) != 0 || (r = svbuf_get_u8(req, &hash)) != 0 ||
	    (r = svbuf_get_u8(req, &data)) != 0 || (r = svbuf_get_u8(req, &mgf1)) != 0 ||
	    (r = svbuf_get_u32(req, &p.salt)) != 0 ||
	    (r = svbuf_get_string_direct(req, &in, &len)) != 0)
		return sv_fail(x->msg, r, "malformed signature request");
	if (data > 1)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "malformed signature request: input kind %u (0 digest, 1 data)", data);
	p.scheme = scheme;
	p.hash = hash;
	p.data = data;
	p.mgf1 = mgf1;
	vault_sign_name(&p, x->target, sizeof(x->target));
	if ((r = sso_cert_rec_load(x, &rec)) != 0 ||
	    (r = sso_cert_rec_cert(x, &rec, 1, &c)) != 0 ||
	    (r = sso_cert_in_time(x, c)) != 0)
		goto out;
	if ((sig = svbuf_new(0)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = vault_cert_sign(c, &p, in, len, sig, x->msg)) != 0)
		goto out;
	r = svbuf_put_buf(x->out, sig);
out:
	svbuf_free(sig);
	vault_cert_free(c);
	sso_cert_rec_clear(&rec);
	return r;
}

/* request (after the thumbprint): u8 exportable (0: make the key non-exportable) */
int
sso_h_cert_update(struct sso_ctx *x, struct svbuf *req)
{
	struct cert_rec rec;
	int r, exportable;

	if ((r = svbuf_get_bool(req, &exportable)) != 0)
		return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    "malformed certificate update request");
	if ((r = sso_cert_rec_load(x, &rec)) != 0)
		return r;
	if (exportable && (rec.flags & SSO_CERT_NO_EXPORT))
		r = sv_fail(x->msg, SV_ERR_CONFLICT, "the key of certificate %s is "
		    "non-exportable, and that is for good: to have an exportable key, delete "
		    "the certificate and import it again with --exportable", x->object);
	else if (exportable)
		r = sv_fail(x->msg, SV_ERR_EXISTS, "the key of certificate %s is already "
		    "exportable", x->object);
	else if (rec.flags & SSO_CERT_NO_EXPORT)
		r = sv_fail(x->msg, SV_ERR_EXISTS, "the key of certificate %s is already "
		    "non-exportable", x->object);
	else
		r = sso_cert_rec_store(x, rec.enc, rec.enclen, rec.users,
		    rec.flags | SSO_CERT_NO_EXPORT, 0);
	sso_cert_rec_clear(&rec);
	return r;
}

/* One entry of a `cert usable` reply: s sha1 | u8 exportable | u64 nb | u64 na | s chain */
static int
usable_put(struct sso_ctx *x, const struct cert_rec *rec, struct svbuf *out)
{
	struct vault_cert *c = NULL;
	struct svbuf *chain = NULL;
	int r;

	if ((r = sso_cert_rec_cert(x, rec, 0, &c)) != 0)
		return r;
	if ((chain = svbuf_new(0)) == NULL)
		r = SV_ERR_NOMEM;
	else if ((r = vault_cert_chain_pem(c, chain)) == 0 &&
	    (r = svbuf_put_cstring(out, c->sha1)) == 0 &&
	    (r = svbuf_put_u8(out, !(rec->flags & SSO_CERT_NO_EXPORT))) == 0 &&
	    (r = svbuf_put_u64(out, (uint64_t)c->not_before)) == 0 &&
	    (r = svbuf_put_u64(out, (uint64_t)c->not_after)) == 0)
		r = svbuf_put_buf(out, chain);
	svbuf_free(chain);
	vault_cert_free(c);
	return r;
}

struct usable_walk {
	struct svbuf *entries;
	uint32_t n;
};

/* Damaged records and other people's certificates are left out. */
static int
usable_one(struct sso_ctx *x, struct cert_rec *rec, int err, void *ctx)
{
	struct usable_walk *w = ctx;
	int r;

	if (err != 0 || !sso_principal_match_any(rec->users, x->caller))
		return 0;
	if ((r = usable_put(x, rec, w->entries)) == SV_ERR_NOMEM)
		return r;
	w->n += r == 0;
	return 0;
}

/*
 * request: s thumbprint ("" for every certificate the caller may use);
 * reply: u32 n | n x entry (usable_put).  One thumbprint is refused as a
 * fetch would be: unknown, not a user (no implicit grant), expired.
 */
int
sso_h_cert_usable(struct sso_ctx *x, struct svbuf *req)
{
	struct usable_walk w = { NULL, 0 };
	struct vault_cert *c = NULL;
	struct cert_rec rec;
	char in[SSO_PRINCIPAL_MAX], norm[THUMBPRINT_SHA256_HEX + 1];
	size_t n;
	int r;

	memset(&rec, 0, sizeof(rec));
	if ((r = sso_req_name(req, in, sizeof(in))) != 0)
		return r == SV_ERR_TRUNCATED ? r :
		    sv_fail(x->msg, SV_ERR_INVALID, "expected 40 hexadecimal digits");
	if ((w.entries = svbuf_new(0)) == NULL)
		return SV_ERR_NOMEM;
	if (in[0] == '\0') {
		if ((r = sso_cert_foreach(x, usable_one, &w)) != 0)
			goto out;
	} else {
		if ((r = vault_thumbprint_normalise(in, norm, &n, x->msg)) != 0)
			goto out;
		snprintf(x->object, sizeof(x->object), "%s", norm);
		if ((r = sso_cert_rec_load(x, &rec)) != 0)
			goto out;
		if (!sso_principal_match_any(rec.users, x->caller)) {
			r = sso_deny(x, "a user of certificate %s", x->object);
			goto out;
		}
		if ((r = sso_cert_rec_cert(x, &rec, 0, &c)) != 0 ||
		    (r = sso_cert_in_time(x, c)) != 0 ||
		    (r = usable_put(x, &rec, w.entries)) != 0)
			goto out;
		w.n = 1;
	}
	if ((r = svbuf_put_u32(x->out, w.n)) != 0 ||
	    (r = svbuf_put(x->out, svbuf_ptr(w.entries), svbuf_len(w.entries))) != 0)
		goto out;
out:
	if (r != 0)
		svbuf_reset(x->out);
	vault_cert_free(c);
	sso_cert_rec_clear(&rec);
	svbuf_free(w.entries);
	return r;
}

struct key_count {
	size_t total, exportable;
};

static int
count_one(struct sso_ctx *x, struct cert_rec *rec, int err, void *ctx)
{
	struct key_count *k = ctx;

	if (err == 0) {
		k->total++;
		k->exportable += !(rec->flags & SSO_CERT_NO_EXPORT);
	}
	return 0;
}

int
sso_cert_key_counts(struct sso_ctx *x, size_t *ret_total, size_t *ret_exportable)
{
	struct key_count k = { 0, 0 };
	int r;

	if ((r = vault_txn_begin(x->v, 0, &x->txn)) != 0)
		return r;
	r = sso_cert_foreach(x, count_one, &k);
	vault_txn_abort(x->txn);
	x->txn = NULL;
	if (r != 0)
		return r;
	*ret_total = k.total;
	*ret_exportable = k.exportable;
	return 0;
}
