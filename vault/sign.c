/*
 * Signatures with a stored private key: the one place where a key that is
 * not exportable is used (the service's `cert sign`, for the sender's TLS
 * handshakes and the PKCS#11 module).  The request is checked against the
 * key and the input before OpenSSL sees it, so that each mismatch has its
 * own message; OpenSSL then signs a digest, never raw RSA: no request can
 * turn the key into a decryption oracle.
 *
 * The key is parsed from the PKCS#8 bytes for each signature and freed (its
 * numbers wiped by OpenSSL) right after; the OpenSSL error queue is left
 * empty.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "vault/cert.h"

/* The longest ECDSA "digest" signed as given (CKM_ECDSA): SHA-512's. */
#define ECDSA_INPUT_MAX 64

static const struct {
	unsigned id;
	const char *name;
	size_t len;
} hashes[] = {
	{ VAULT_HASH_SHA1, "sha1", 20 },
	{ VAULT_HASH_SHA224, "sha224", 28 },
	{ VAULT_HASH_SHA256, "sha256", 32 },
	{ VAULT_HASH_SHA384, "sha384", 48 },
	{ VAULT_HASH_SHA512, "sha512", 64 },
};

static const char *
hash_name(unsigned hash)
{
	size_t i;

	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (hashes[i].id == hash)
			return hashes[i].name;
	return NULL;
}

size_t
vault_hash_len(unsigned hash)
{
	size_t i;

	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (hashes[i].id == hash)
			return hashes[i].len;
	return 0;
}

static const char *
scheme_name(unsigned scheme)
{
	switch (scheme) {
	case VAULT_SIGN_RSA_PKCS1:
		return "rsa-pkcs1";
	case VAULT_SIGN_RSA_PSS:
		return "rsa-pss";
	case VAULT_SIGN_ECDSA:
		return "ecdsa";
	default:
		return NULL;
	}
}

void
vault_sign_name(const struct vault_sign_req *p, char *out, size_t outlen)
{
	const char *s = scheme_name(p->scheme), *h = hash_name(p->hash);

	snprintf(out, outlen, "%s%s%s", s != NULL ? s : "?", h != NULL ? "-" : "",
	    h != NULL ? h : "");
}

int
vault_sign_parse(const char *name, struct vault_sign_req *ret)
{
	static const unsigned schemes[] = { VAULT_SIGN_RSA_PKCS1, VAULT_SIGN_RSA_PSS,
	    VAULT_SIGN_ECDSA };
	const char *sn, *rest;
	size_t i, j, n;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		sn = scheme_name(schemes[i]);
		n = strlen(sn);
		if (strncmp(name, sn, n) != 0 || (name[n] != '\0' && name[n] != '-'))
			continue;
		memset(ret, 0, sizeof(*ret));
		ret->scheme = schemes[i];
		ret->salt = VAULT_SIGN_SALT_DIGEST;
		rest = name + n;
		if (*rest == '\0')
			return schemes[i] == VAULT_SIGN_RSA_PSS ? SV_ERR_INVALID : 0;
		for (j = 0; j < sizeof(hashes) / sizeof(hashes[0]); j++)
			if (strcmp(rest + 1, hashes[j].name) == 0) {
				ret->hash = hashes[j].id;
				return 0;
			}
	}
	return SV_ERR_INVALID;
}

/* The request alone: known scheme and hashes, a hash where one is needed. */
static int
check_request(const struct vault_sign_req *p, char *msg)
{
	if (scheme_name(p->scheme) == NULL)
		return sv_fail(msg, SV_ERR_INVALID, "unknown signature scheme %u: expected "
		    "1 (RSA PKCS#1 v1.5), 2 (RSA-PSS) or 3 (ECDSA)", p->scheme);
	if (p->hash != VAULT_HASH_NONE && hash_name(p->hash) == NULL)
		return sv_fail(msg, SV_ERR_INVALID, "unknown hash algorithm %u", p->hash);
	if (p->hash == VAULT_HASH_NONE && (p->data || p->scheme == VAULT_SIGN_RSA_PSS))
		return sv_fail(msg, SV_ERR_INVALID, "%s needs a hash algorithm",
		    p->data ? "signing data" : "RSA-PSS");
	if (p->scheme != VAULT_SIGN_RSA_PSS && (p->mgf1 != VAULT_HASH_NONE ||
	    p->salt != VAULT_SIGN_SALT_DIGEST))
		return sv_fail(msg, SV_ERR_INVALID,
		    "MGF1 hash and salt length are for RSA-PSS only");
	if (p->mgf1 != VAULT_HASH_NONE && hash_name(p->mgf1) == NULL)
		return sv_fail(msg, SV_ERR_INVALID, "unknown MGF1 hash algorithm %u", p->mgf1);
	return 0;
}

/* The request against the key: its type, and what fits the modulus. */
static int
check_key(const struct vault_sign_req *p, EVP_PKEY *key, const char *sha1, char *msg)
{
	int rsa = EVP_PKEY_is_a(key, "RSA"), bits = EVP_PKEY_get_bits(key);
	size_t em, salt, hlen = vault_hash_len(p->hash);

	if (p->scheme == VAULT_SIGN_ECDSA && !EVP_PKEY_is_a(key, "EC"))
		return sv_fail(msg, SV_ERR_INVALID,
		    "certificate %s has an RSA key: sign with rsa-pkcs1 or rsa-pss", sha1);
	if (p->scheme != VAULT_SIGN_ECDSA && !rsa)
		return sv_fail(msg, SV_ERR_INVALID,
		    "certificate %s has an EC key: sign with ecdsa", sha1);
	if (p->scheme == VAULT_SIGN_RSA_PSS) {
		/* RFC 8017 9.1.1: emLen >= hLen + sLen + 2 (a salt as long as the digest too) */
		salt = p->salt == VAULT_SIGN_SALT_DIGEST ? hlen : p->salt;
		em = bits > 0 ? ((size_t)bits + 6) / 8 : 0;
		if (em < hlen + 2 || salt > em - hlen - 2)
			return sv_fail(msg, SV_ERR_INVALID, "a salt of %zu bytes does not fit "
			    "a %d-bit key with %s", salt, bits, hash_name(p->hash));
	}
	return 0;
}

/* The input against the request and the key. */
static int
check_input(const struct vault_sign_req *p, EVP_PKEY *key, size_t len, char *msg)
{
	size_t hlen = vault_hash_len(p->hash), k = (size_t)EVP_PKEY_get_size(key);

	if (p->data)
		return len > VAULT_SIGN_DATA_MAX ? sv_fail(msg, SV_ERR_TOO_LARGE,
		    "more than %u bytes of data to sign: hash it and sign the digest",
		    VAULT_SIGN_DATA_MAX) : 0;
	if (hlen != 0 && len != hlen)
		return sv_fail(msg, SV_ERR_INVALID, "a %s digest is %zu bytes, not %zu",
		    hash_name(p->hash), hlen, len);
	if (hlen == 0 && p->scheme == VAULT_SIGN_RSA_PKCS1 && (len == 0 || k < 11 ||
	    len > k - 11))
		return sv_fail(msg, SV_ERR_INVALID, "rsa-pkcs1 without a hash signs 1 to "
		    "%zu bytes (a DigestInfo) with this key, not %zu", k < 11 ? 0 : k - 11, len);
	if (hlen == 0 && p->scheme == VAULT_SIGN_ECDSA && (len == 0 || len > ECDSA_INPUT_MAX))
		return sv_fail(msg, SV_ERR_INVALID,
		    "ecdsa without a hash signs a digest of 1 to %d bytes, not %zu",
		    ECDSA_INPUT_MAX, len);
	return 0;
}

static const EVP_MD *
md_of(unsigned hash)
{
	const char *n = hash_name(hash);

	return n != NULL ? EVP_get_digestbyname(n) : NULL;
}

/* Set up ctx for p on its key. */
static int
ctx_setup(EVP_PKEY_CTX *ctx, const struct vault_sign_req *p)
{
	const EVP_MD *md = md_of(p->hash);

	if (EVP_PKEY_sign_init(ctx) <= 0)
		return 0;
	if (md != NULL && EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
		return 0;
	if (p->scheme == VAULT_SIGN_RSA_PKCS1)
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
	if (p->scheme == VAULT_SIGN_RSA_PSS)
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, p->salt == VAULT_SIGN_SALT_DIGEST ?
		    RSA_PSS_SALTLEN_DIGEST : (int)p->salt) > 0 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md_of(p->mgf1 != VAULT_HASH_NONE ?
		    p->mgf1 : p->hash)) > 0;
	return 1;
}

int
vault_cert_sign(const struct vault_cert *c, const struct vault_sign_req *p,
    const uint8_t *in, size_t len, struct svbuf *sig, char *msg)
{
	const unsigned char *der;
	uint8_t digest[EVP_MAX_MD_SIZE], *out;
	unsigned int dlen = 0;
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t siglen = 0, bound;
	int r;

	if (c == NULL || p == NULL || sig == NULL || (in == NULL && len != 0))
		return SV_ERR_INVALID;
	if ((r = check_request(p, msg)) != 0)
		return r;
	if (c->key_pkcs8 == NULL || svbuf_len(c->key_pkcs8) == 0)
		return sv_fail(msg, SV_ERR_NOT_FOUND, "certificate %s holds no private key",
		    c->sha1);
	der = svbuf_ptr(c->key_pkcs8);
	if (svbuf_len(c->key_pkcs8) > LONG_MAX ||
	    (key = d2i_AutoPrivateKey(NULL, &der, (long)svbuf_len(c->key_pkcs8))) == NULL) {
		r = sv_fail(msg, SV_ERR_INTEGRITY, "the private key of certificate %s does "
		    "not parse", c->sha1);
		goto out;
	}
	if ((r = check_key(p, key, c->sha1, msg)) != 0 ||
	    (r = check_input(p, key, len, msg)) != 0)
		goto out;
	if (p->data) {
		if (!EVP_Digest(in, len, digest, &dlen, md_of(p->hash), NULL)) {
			r = sv_fail(msg, SV_ERR_CRYPTO, "cannot hash the data");
			goto out;
		}
		in = digest;
		len = dlen;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) == NULL ||
	    !ctx_setup(ctx, p) || EVP_PKEY_sign(ctx, NULL, &siglen, in, len) <= 0) {
		r = sv_fail(msg, SV_ERR_CRYPTO, "cannot set up the signature");
		goto out;
	}
	bound = siglen;
	if ((r = svbuf_reserve(sig, bound, &out)) != 0)
		goto out;
	if (EVP_PKEY_sign(ctx, out, &siglen, in, len) <= 0 || siglen > bound) {
		(void)!svbuf_unreserve(sig, bound);
		r = sv_fail(msg, SV_ERR_CRYPTO, "the signature failed");
		goto out;
	}
	/* ECDSA's DER is often shorter than its bound */
	r = svbuf_unreserve(sig, bound - siglen);
 out:
	sodium_memzero(digest, sizeof(digest));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return r;
}
