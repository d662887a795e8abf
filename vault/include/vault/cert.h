/*
 * Client certificates: parsing what an admin imports (PKCS#12, or PEM
 * certificate + PEM key), thumbprint normalisation, and the byte encoding
 * stored inside a sealed record.  OpenSSL does the parsing; this file never
 * prints, and private key bytes only ever live in secure (sodium) memory.
 */
#ifndef SSOVAULT_CERT_H
#define SSOVAULT_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "ssovault/sverr.h"
#include "base/svbuf.h"
#include "base/thumbprint.h"

#define VAULT_SHA1_HEX THUMBPRINT_SHA1_HEX
#define VAULT_SHA256_HEX THUMBPRINT_SHA256_HEX

struct vault_cert {
	char sha1[VAULT_SHA1_HEX + 1];		/* upper-case hex */
	char sha256[VAULT_SHA256_HEX + 1];
	char *subject;				/* RFC 2253 one-line form */
	char *issuer;
	char *serial;				/* upper-case hex */
	char *key_type;				/* "RSA 2048", "EC prime256v1" */
	int64_t not_before;			/* Unix time */
	int64_t not_after;
	/* leaf first, then any chain certificates: a sequence of svbuf strings */
	struct svbuf *chain_der;
	size_t chain_count;
	/* PKCS#8 DER private key, secure memory; NULL after vault_cert_decode_public() */
	struct svbuf *key_pkcs8;
};

/*
 * Parse an import.  data is a PKCS#12 file (password pw, may be NULL or "")
 * or a PEM file holding the certificate (and chain, and possibly the key).
 * key, if not NULL, is a separate PEM (or DER) private key file.  RSA and EC
 * keys; the key must match the certificate (SV_ERR_KEY_MISMATCH).  Errors:
 * SV_ERR_BAD_PASSWORD, SV_ERR_BAD_FORMAT (garbage, empty, no certificate, no
 * key), each with a one-line message in msg (SV_MSG_MAX).
 */
int vault_cert_parse(const void *data, size_t len, const char *pw,
    const void *key, size_t keylen, struct vault_cert **ret, char *msg) SV_WUR;

void vault_cert_free(struct vault_cert *c);

/* Encode/decode the stored form (public parts and key). */
int vault_cert_encode(const struct vault_cert *c, struct svbuf *out) SV_WUR;
int vault_cert_decode(struct svbuf *in, struct vault_cert **ret, char *msg) SV_WUR;
/*
 * As vault_cert_decode(), but the key (if any) is skipped, never copied:
 * key_pkcs8 is NULL.  For listing and showing certificates.
 */
int vault_cert_decode_public(struct svbuf *in, struct vault_cert **ret, char *msg) SV_WUR;

/* The public chain as PEM, leaf first. */
int vault_cert_chain_pem(const struct vault_cert *c, struct svbuf *out) SV_WUR;
/* The private key as unencrypted PKCS#8 PEM into out (make it secure). */
int vault_cert_key_pem(const struct vault_cert *c, struct svbuf *out) SV_WUR;

/* 0 if valid at now; SV_ERR_CERT_EXPIRED or SV_ERR_CERT_NOT_YET_VALID. */
int vault_cert_check_time(const struct vault_cert *c, int64_t now);

/*
 * Signatures with a certificate's private key (vault/sign.c), for the
 * service's `cert sign`.  The numbers cross the wire (docs/protocol.md):
 * never renumber.
 */
enum vault_sign_scheme {
	VAULT_SIGN_RSA_PKCS1 = 1,	/* RSASSA-PKCS1-v1_5 */
	VAULT_SIGN_RSA_PSS = 2,		/* RSASSA-PSS with MGF1 */
	VAULT_SIGN_ECDSA = 3,		/* the signature is a DER Ecdsa-Sig-Value */
};
enum vault_hash {
	VAULT_HASH_NONE = 0,		/* the input is signed as it is */
	VAULT_HASH_SHA1 = 1,
	VAULT_HASH_SHA224 = 2,
	VAULT_HASH_SHA256 = 3,
	VAULT_HASH_SHA384 = 4,
	VAULT_HASH_SHA512 = 5,
};
/* PSS salt length: as long as the digest (what TLS uses). */
#define VAULT_SIGN_SALT_DIGEST UINT32_MAX
/* The most data the service hashes itself; larger inputs are hashed by the caller. */
#define VAULT_SIGN_DATA_MAX (1024u * 1024u)

struct vault_sign_req {
	unsigned scheme;		/* enum vault_sign_scheme */
	unsigned hash;			/* enum vault_hash: of the digest, or to apply */
	int data;			/* in is the data, hashed here with hash */
	unsigned mgf1;			/* PSS: MGF1's hash; NONE: the same as hash */
	uint32_t salt;			/* PSS: salt bytes, or VAULT_SIGN_SALT_DIGEST */
};

/*
 * Sign in (a digest of hash, or with hash NONE: RSA PKCS#1 v1.5 pads the
 * bytes as they are, at most the modulus less 11 bytes, which is how a
 * DigestInfo is signed; ECDSA takes a digest of any length up to 64 bytes)
 * with the key of c, and append the signature to sig.  Every mismatch of
 * request, key and input is SV_ERR_INVALID (SV_ERR_TOO_LARGE for data over
 * VAULT_SIGN_DATA_MAX) with a one-line message naming it; c without a key
 * is SV_ERR_NOT_FOUND.
 */
int vault_cert_sign(const struct vault_cert *c, const struct vault_sign_req *p,
    const uint8_t *in, size_t len, struct svbuf *sig, char *msg) SV_WUR;
/* "rsa-pss-sha256", "ecdsa", "rsa-pkcs1": for messages and audit records. */
void vault_sign_name(const struct vault_sign_req *p, char *out, size_t outlen);
/* The inverse, for digests (data 0, PSS salt as long as the digest); SV_ERR_INVALID if unknown. */
int vault_sign_parse(const char *name, struct vault_sign_req *ret) SV_WUR;
/* The digest length of hash, 0 for NONE or an unknown one. */
size_t vault_hash_len(unsigned hash);

#endif
