/*
 * certs.c: the client API's requests for using a certificate whose key
 * stays in the service (ssovault.h): cert sign, cert usable, cert update,
 * and the names of signature algorithms.  As requests.c, one function per
 * request; the layouts are docs/protocol.md's.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "vault/cert.h"

/* The public numbers are the wire's, which are the vault's. */
_Static_assert((int)SSOVAULT_SIGN_RSA_PKCS1 == (int)VAULT_SIGN_RSA_PKCS1 &&
    (int)SSOVAULT_SIGN_RSA_PSS == (int)VAULT_SIGN_RSA_PSS &&
    (int)SSOVAULT_SIGN_ECDSA == (int)VAULT_SIGN_ECDSA, "signature schemes");
_Static_assert((int)SSOVAULT_HASH_NONE == (int)VAULT_HASH_NONE &&
    (int)SSOVAULT_HASH_SHA1 == (int)VAULT_HASH_SHA1 &&
    (int)SSOVAULT_HASH_SHA224 == (int)VAULT_HASH_SHA224 &&
    (int)SSOVAULT_HASH_SHA256 == (int)VAULT_HASH_SHA256 &&
    (int)SSOVAULT_HASH_SHA384 == (int)VAULT_HASH_SHA384 &&
    (int)SSOVAULT_HASH_SHA512 == (int)VAULT_HASH_SHA512, "hashes");
_Static_assert(SSOVAULT_SALT_DIGEST == VAULT_SIGN_SALT_DIGEST &&
    SSOVAULT_SIGN_DATA_MAX == VAULT_SIGN_DATA_MAX, "salt, data");

int
ssovault_sign_params_parse(const char *name, struct ssovault_sign_params *ret)
{
	struct vault_sign_req q;

	if (name == NULL || vault_sign_parse(name, &q) != 0)
		return SV_ERR_INVALID;
	ret->scheme = (int)q.scheme;
	ret->hash = (int)q.hash;
	ret->data = q.data;
	ret->mgf1 = (int)q.mgf1;
	ret->salt = q.salt;
	return 0;
}

/* A parameter that does not fit its wire byte is sent as one that is refused. */
static uint8_t
wire_u8(int v)
{
	return v >= 0 && v <= 255 ? (uint8_t)v : 255;
}

int
ssovault_cert_sign(struct ssovault *h, const char *thumbprint,
    const struct ssovault_sign_params *p, const uint8_t *in, size_t len,
    uint8_t **ret_sig, size_t *ret_len)
{
	const uint8_t *sig;
	uint8_t *copy;
	size_t n;
	int r;

	if ((r = sso_client_begin(h, SSO_OP_CERT_SIGN)) != 0 ||
	    (r = svbuf_put_cstring(h->req, thumbprint)) != 0 ||
	    (r = svbuf_put_u8(h->req, wire_u8(p->scheme))) != 0 ||
	    (r = svbuf_put_u8(h->req, wire_u8(p->hash))) != 0 ||
	    (r = svbuf_put_u8(h->req, wire_u8(p->data))) != 0 ||
	    (r = svbuf_put_u8(h->req, wire_u8(p->mgf1))) != 0 ||
	    (r = svbuf_put_u32(h->req, p->salt)) != 0 ||
	    (r = svbuf_put_string(h->req, in, len)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	if ((r = svbuf_get_string_direct(h->reply, &sig, &n)) != 0 || n == 0 ||
	    (r = sso_client_reply_end(h)) != 0) {
		svbuf_reset(h->reply);
		return sv_fail(h->msg, SV_ERR_PROTOCOL, "malformed signature in the reply");
	}
	if ((copy = malloc(n)) == NULL)
		return SV_ERR_NOMEM;
	memcpy(copy, sig, n);
	*ret_sig = copy;
	*ret_len = n;
	return 0;
}

int
ssovault_cert_update(struct ssovault *h, const char *thumbprint, int exportable)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_CERT_UPDATE)) != 0 ||
	    (r = svbuf_put_cstring(h->req, thumbprint)) != 0 ||
	    (r = svbuf_put_u8(h->req, exportable != 0)) != 0)
		return r;
	return sso_client_simple(h);
}

void
ssovault_cert_info_free(struct ssovault_cert_info *c, size_t n)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < n; i++)
		free(c[i].chain_pem);
	free(c);
}

/* One entry: s sha1 | u8 exportable | u64 not_before | u64 not_after | s chain PEM */
static int
info_get(struct svbuf *b, struct ssovault_cert_info *c)
{
	char *sha1 = NULL;
	uint64_t nb, na;
	int r;

	if ((r = svbuf_get_cstring(b, &sha1)) != 0 || (r = svbuf_get_bool(b, &c->exportable)) != 0 ||
	    (r = svbuf_get_u64(b, &nb)) != 0 || (r = svbuf_get_u64(b, &na)) != 0 ||
	    (r = svbuf_get_cstring(b, &c->chain_pem)) != 0 || strlen(sha1) != 40) {
		free(sha1);
		return r != 0 ? r : SV_ERR_PROTOCOL;
	}
	memcpy(c->sha1, sha1, 41);
	free(sha1);
	c->not_before = (int64_t)nb;
	c->not_after = (int64_t)na;
	c->chain_len = strlen(c->chain_pem);
	return 0;
}

int
ssovault_cert_usable(struct ssovault *h, const char *thumbprint,
    struct ssovault_cert_info **ret, size_t *ret_n)
{
	struct ssovault_cert_info *c = NULL;
	uint32_t n = 0, i;
	int r;

	if ((r = sso_client_begin(h, SSO_OP_CERT_USABLE)) != 0 ||
	    (r = svbuf_put_cstring(h->req, thumbprint)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	/* each entry is at least 25 bytes: n cannot ask for more than the reply holds */
	if ((r = svbuf_get_u32(h->reply, &n)) != 0 || n > svbuf_len(h->reply) / 25 ||
	    (c = calloc(n > 0 ? n : 1, sizeof(*c))) == NULL) {
		r = r != 0 ? r : n > svbuf_len(h->reply) / 25 ? SV_ERR_PROTOCOL : SV_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((r = info_get(h->reply, &c[i])) != 0)
			goto out;
	if ((r = sso_client_reply_end(h)) != 0)
		goto out;
	*ret = c;
	*ret_n = n;
	c = NULL;
out:
	if (r != 0) {
		svbuf_reset(h->reply);
		ssovault_cert_info_free(c, n);	/* calloc'd: unset entries are NULL */
		if (r != SV_ERR_NOMEM)
			r = sv_fail(h->msg, SV_ERR_PROTOCOL, "malformed certificate list in the reply");
	}
	return r;
}
