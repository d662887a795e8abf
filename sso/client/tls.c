/*
 * tls.c: a TLS client key that the service signs with
 * (ssovault_tls_use_cert()).  The private key OpenSSL is given holds the
 * certificate's public numbers only; a small ENGINE of this library, bound
 * to the key, replaces the RSA and EC signature methods with a call to
 * ssovault_cert_sign() on the caller's handle.  The handshake asks for one
 * signature (CertificateVerify), with its digest, padding and salt already
 * chosen: exactly what `cert sign` takes, so no raw RSA is ever requested.
 *
 * OpenSSL 3.0 still runs keys bound to an engine through these (deprecated)
 * key methods; it is what libp11's PKCS#11 engine does too.  A provider
 * would do the same in more code and, in 3.0, would have to give its key
 * type a name of its own that libssl does not recognise.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "client.h"

/* What a key signs with: the handle and the thumbprint (ex_data of the RSA/EC_KEY). */
struct tls_key {
	struct ssovault *h;
	char sha1[41];
};

static ENGINE *engine;
static EVP_PKEY_METHOD *rsa_meth, *ec_meth;
static int rsa_idx = -1, ec_idx = -1;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static void
key_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	free(ptr);
}

static int
hash_of(const EVP_MD *md)
{
	switch (md != NULL ? EVP_MD_get_type(md) : NID_undef) {
	case NID_undef:
		return SSOVAULT_HASH_NONE;
	case NID_sha1:
		return SSOVAULT_HASH_SHA1;
	case NID_sha224:
		return SSOVAULT_HASH_SHA224;
	case NID_sha256:
		return SSOVAULT_HASH_SHA256;
	case NID_sha384:
		return SSOVAULT_HASH_SHA384;
	case NID_sha512:
		return SSOVAULT_HASH_SHA512;
	default:
		return -1;
	}
}

/* Have the service sign; the OpenSSL error queue says why not. */
static int
service_sign(const struct tls_key *k, const struct ssovault_sign_params *p,
    const unsigned char *tbs, size_t tbslen, unsigned char *sig, size_t *siglen)
{
	uint8_t *out = NULL;
	size_t n = 0;
	int r;

	if ((r = ssovault_cert_sign(k->h, k->sha1, p, tbs, tbslen, &out, &n)) != 0) {
		ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL,
		    "ssovault cert sign %s: %s", k->sha1,
		    *ssovault_errmsg(k->h) != '\0' ? ssovault_errmsg(k->h) : sv_strerror(r));
		return 0;
	}
	if (n > *siglen) {
		free(out);
		ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL,
		    "ssovault cert sign %s: a signature of %zu bytes", k->sha1, n);
		return 0;
	}
	memcpy(sig, out, n);
	*siglen = n;
	free(out);
	return 1;
}

static int
rsa_sign(EVP_PKEY_CTX *ctx, unsigned char *sig, size_t *siglen,
    const unsigned char *tbs, size_t tbslen)
{
	const RSA *rsa = EVP_PKEY_get0_RSA(EVP_PKEY_CTX_get0_pkey(ctx));
	struct ssovault_sign_params p;
	const struct tls_key *k;
	const EVP_MD *md = NULL, *mgf1 = NULL;
	int pad = 0, salt = 0, bits;

	if (rsa == NULL || (k = RSA_get_ex_data(rsa, rsa_idx)) == NULL)
		return 0;
	if (sig == NULL) {
		*siglen = (size_t)RSA_size(rsa);
		return 1;
	}
	memset(&p, 0, sizeof(p));
	if (EVP_PKEY_CTX_get_rsa_padding(ctx, &pad) <= 0 ||
	    EVP_PKEY_CTX_get_signature_md(ctx, &md) <= 0 || (p.hash = hash_of(md)) < 0)
		return 0;
	p.salt = SSOVAULT_SALT_DIGEST;
	if (pad == RSA_PKCS1_PADDING) {
		p.scheme = SSOVAULT_SIGN_RSA_PKCS1;
	} else if (pad == RSA_PKCS1_PSS_PADDING) {
		p.scheme = SSOVAULT_SIGN_RSA_PSS;
		if (EVP_PKEY_CTX_get_rsa_pss_saltlen(ctx, &salt) <= 0 ||
		    EVP_PKEY_CTX_get_rsa_mgf1_md(ctx, &mgf1) <= 0 || (p.mgf1 = hash_of(mgf1)) < 0)
			return 0;
		bits = RSA_bits(rsa);
		if (salt >= 0)
			p.salt = (uint32_t)salt;
		else if (salt != RSA_PSS_SALTLEN_DIGEST && md != NULL &&
		    (bits + 6) / 8 >= EVP_MD_get_size(md) + 2)
			/* the longest salt that fits (RFC 8017 9.1.1) */
			p.salt = (uint32_t)((bits + 6) / 8 - EVP_MD_get_size(md) - 2);
	} else {
		/* raw RSA would let anyone decrypt with the key: never asked for */
		return 0;
	}
	return service_sign(k, &p, tbs, tbslen, sig, siglen);
}

static int
ec_sign(EVP_PKEY_CTX *ctx, unsigned char *sig, size_t *siglen,
    const unsigned char *tbs, size_t tbslen)
{
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(EVP_PKEY_CTX_get0_pkey(ctx));
	struct ssovault_sign_params p;
	const struct tls_key *k;
	const EVP_MD *md = NULL;

	if (ec == NULL || (k = EC_KEY_get_ex_data(ec, ec_idx)) == NULL)
		return 0;
	if (sig == NULL) {
		*siglen = (size_t)ECDSA_size(ec);
		return 1;
	}
	memset(&p, 0, sizeof(p));
	p.scheme = SSOVAULT_SIGN_ECDSA;
	p.salt = SSOVAULT_SALT_DIGEST;
	if (EVP_PKEY_CTX_get_signature_md(ctx, &md) <= 0 || (p.hash = hash_of(md)) < 0)
		return 0;
	/* a digest of another length is signed as it is, as ECDSA allows */
	if (md != NULL && (size_t)EVP_MD_get_size(md) != tbslen)
		p.hash = SSOVAULT_HASH_NONE;
	return service_sign(k, &p, tbs, tbslen, sig, siglen);
}

/* The built-in method of type, with its sign replaced. */
static EVP_PKEY_METHOD *
method_new(int type, int (*sign)(EVP_PKEY_CTX *, unsigned char *, size_t *,
    const unsigned char *, size_t))
{
	const EVP_PKEY_METHOD *orig = EVP_PKEY_meth_find(type);
	int (*init)(EVP_PKEY_CTX *) = NULL;
	EVP_PKEY_METHOD *m;

	if (orig == NULL || (m = EVP_PKEY_meth_new(type, 0)) == NULL)
		return NULL;
	EVP_PKEY_meth_copy(m, orig);
	EVP_PKEY_meth_get_sign(orig, &init, NULL);
	EVP_PKEY_meth_set_sign(m, init, sign);
	/* nothing but signatures: the key has no private part to do more with */
	EVP_PKEY_meth_set_decrypt(m, NULL, NULL);
	EVP_PKEY_meth_set_derive(m, NULL, NULL);
	return m;
}

static int
pkey_meths(ENGINE *e, EVP_PKEY_METHOD **pmeth, const int **nids, int nid)
{
	static const int list[] = { EVP_PKEY_RSA, EVP_PKEY_EC };

	if (pmeth == NULL) {
		*nids = list;
		return 2;
	}
	*pmeth = nid == EVP_PKEY_RSA ? rsa_meth : nid == EVP_PKEY_EC ? ec_meth : NULL;
	return *pmeth != NULL;
}

static void
engine_make(void)
{
	ENGINE *e;

	rsa_idx = RSA_get_ex_new_index(0, NULL, NULL, NULL, key_free);
	ec_idx = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, key_free);
	rsa_meth = method_new(EVP_PKEY_RSA, rsa_sign);
	ec_meth = method_new(EVP_PKEY_EC, ec_sign);
	if (rsa_idx < 0 || ec_idx < 0 || rsa_meth == NULL || ec_meth == NULL ||
	    (e = ENGINE_new()) == NULL)
		return;
	if (!ENGINE_set_id(e, "ssovault") ||
	    !ENGINE_set_name(e, "ssovault: keys that ssovaultd signs with") ||
	    !ENGINE_set_pkey_meths(e, pkey_meths)) {
		ENGINE_free(e);
		return;
	}
	engine = e;
}

/* A legacy RSA or EC key with the public numbers of pub, bound to k. */
static EVP_PKEY *
key_new(EVP_PKEY *pub, struct tls_key *k)
{
	EVP_PKEY *pk = EVP_PKEY_new();
	BIGNUM *n = NULL, *e = NULL;
	RSA *rsa = NULL;
	EC_KEY *ec = NULL;
	unsigned char pt[133];
	char group[64];
	size_t ptlen = 0, glen = 0;

	if (pk == NULL)
		return NULL;
	if (EVP_PKEY_is_a(pub, "RSA")) {
		if (!EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n) ||
		    !EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) ||
		    (rsa = RSA_new()) == NULL || !RSA_set0_key(rsa, n, e, NULL))
			goto fail;
		n = e = NULL;
		if (!RSA_set_ex_data(rsa, rsa_idx, k))
			goto fail;
		k = NULL;
		if (!EVP_PKEY_assign_RSA(pk, rsa))
			goto fail;
		rsa = NULL;
	} else if (EVP_PKEY_is_a(pub, "EC")) {
		const EC_GROUP *g;
		EC_POINT *q = NULL;

		if (!EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME,
		    group, sizeof(group), &glen) ||
		    !EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
		    pt, sizeof(pt), &ptlen) ||
		    (ec = EC_KEY_new_by_curve_name(OBJ_sn2nid(group))) == NULL ||
		    (g = EC_KEY_get0_group(ec)) == NULL || (q = EC_POINT_new(g)) == NULL ||
		    !EC_POINT_oct2point(g, q, pt, ptlen, NULL) || !EC_KEY_set_public_key(ec, q)) {
			EC_POINT_free(q);
			goto fail;
		}
		EC_POINT_free(q);
		if (!EC_KEY_set_ex_data(ec, ec_idx, k))
			goto fail;
		k = NULL;
		if (!EVP_PKEY_assign_EC_KEY(pk, ec))
			goto fail;
		ec = NULL;
	} else {
		goto fail;
	}
	if (!EVP_PKEY_set1_engine(pk, engine))
		goto fail;
	return pk;
fail:
	free(k);
	BN_free(n);
	BN_free(e);
	RSA_free(rsa);
	EC_KEY_free(ec);
	EVP_PKEY_free(pk);
	return NULL;
}

int
ssovault_tls_use_cert(struct ssovault *h, const struct ssovault_cert_info *c,
    void *ssl_ctx)
{
	SSL_CTX *ctx = ssl_ctx;
	struct tls_key *k = NULL;
	EVP_PKEY *pk = NULL;
	X509 *leaf = NULL, *x;
	BIO *bio = NULL;
	int r;

	if (h == NULL || c == NULL || ctx == NULL || c->chain_pem == NULL)
		return SV_ERR_INVALID;
	if ((r = sso_client_ssl_need(h->msg)) != 0)
		return r;
	if (pthread_once(&engine_once, engine_make) != 0 || engine == NULL) {
		r = sv_fail(h->msg, SV_ERR_CRYPTO, "OpenSSL refused the signing key's methods");
		goto out;
	}
	if ((bio = BIO_new_mem_buf(c->chain_pem, c->chain_len > INT_MAX ? -1 :
	    (int)c->chain_len)) == NULL ||
	    (leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		r = sv_fail(h->msg, SV_ERR_CRYPTO, "certificate %s: its chain does not parse",
		    c->sha1);
		goto out;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	k->h = h;
	memcpy(k->sha1, c->sha1, sizeof(k->sha1));
	pk = key_new(X509_get0_pubkey(leaf), k);
	k = NULL;	/* the key owns it now, or it is freed */
	if (pk == NULL || SSL_CTX_use_certificate(ctx, leaf) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, pk) != 1) {
		r = sv_fail(h->msg, SV_ERR_CRYPTO, "certificate %s: OpenSSL refused it as "
		    "a client certificate", c->sha1);
		goto out;
	}
	/* the rest of the chain, if any: end of the PEM data ends it */
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			r = sv_fail(h->msg, SV_ERR_CRYPTO, "certificate %s: OpenSSL refused "
			    "its chain", c->sha1);
			goto out;
		}
	}
	r = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pk);
	X509_free(leaf);
	BIO_free(bio);
	return r;
}
