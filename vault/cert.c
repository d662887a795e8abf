/*
 * Client certificates: what an admin imports (PKCS#12, PEM certificate and
 * key, DER certificate with a separate key), the thumbprint rules, and the
 * versioned byte form kept inside a sealed record.
 *
 * OpenSSL parses; we decide.  Private key bytes we handle ourselves live only
 * in sodium memory (the PKCS#8 encoding, the PEM we hand out); buffers that
 * OpenSSL fills on our behalf are wiped before they are freed.  Every entry
 * point leaves the OpenSSL error queue empty, so that a later, unrelated
 * OpenSSL call (libcurl's TLS, for one) never reports our leftovers.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "vault/cert.h"
#include "base/thumbprint.h"

/* Version byte of the stored encoding. */
#define CERT_FORMAT_VERSION 1

/* Import files are a few kilobytes; refuse the absurd before parsing. */
#define CERT_FILE_MAX (1024u * 1024u)

/* A chain longer than this in a stored record is damage, not a chain. */
#define CERT_CHAIN_MAX 64u

/*
 * The longest thumbprint input worth looking at: 64 digits, each behind a
 * separator of up to three bytes, and some slack for pasted padding.
 */


static const char hexdigits[] = "0123456789ABCDEF";

static void
hex_upper(const uint8_t *p, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hexdigits[p[i] >> 4];
		out[2 * i + 1] = hexdigits[p[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

/* ---- parsing an import ---------------------------------------------- */

/* What an import file yields before we pick the leaf. */
struct import {
	STACK_OF(X509) *certs;		/* in file order */
	EVP_PKEY *pkey;
	int nkeys;
};

static void
import_clear(struct import *im)
{
	sk_X509_pop_free(im->certs, X509_free);
	EVP_PKEY_free(im->pkey);
	im->certs = NULL;
	im->pkey = NULL;
	im->nkeys = 0;
}

static int
has_password(const char *pw)
{
	return pw != NULL && pw[0] != '\0';
}

static int
contains(const void *data, size_t len, const char *needle)
{
	return memmem(data, len, needle, strlen(needle)) != NULL;
}

/*
 * Whether data is a DER SEQUENCE whose header promises more bytes than there
 * are: the signature of a PKCS#12 or DER file cut short.  Only the long length
 * form counts: every certificate file is longer than 127 bytes, and text that
 * happens to start with '0' must not be called a damaged PKCS#12 file.
 */
static int
der_truncated(const uint8_t *p, size_t len)
{
	size_t i, nlen, body = 0;

	if (len < 2 || p[0] != 0x30 || p[1] <= 0x80)
		return 0;
	nlen = p[1] & 0x7f;
	if (nlen == 0 || nlen > 4)
		return 0;
	if (len - 2 < nlen)
		return 1;
	for (i = 0; i < nlen; i++)
		body = body << 8 | p[2 + i];
	return body > len - 2 - nlen;
}

static int
pem_pw_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u;
	size_t n;

	if (pw == NULL || size <= 0)
		return -1;
	n = strlen(pw);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pw, n);
	return (int)n;
}

/* Keep the first key; count them all, as more than one is an error later. */
static void
add_key(struct import *im, EVP_PKEY *pkey)
{
	if (im->pkey == NULL)
		im->pkey = pkey;
	else
		EVP_PKEY_free(pkey);
	im->nkeys++;
}

/* An unencrypted DER private key: PKCS#8 or the traditional RSA/EC forms. */
static EVP_PKEY *
key_from_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey;

	if (len > LONG_MAX)
		return NULL;
	pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
	if (pkey != NULL && p != der + len) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return pkey;
}

/* An encrypted PKCS#8 (EncryptedPrivateKeyInfo) DER key. */
static int
key_from_encrypted_p8(const uint8_t *der, size_t len, const char *pw,
    EVP_PKEY **ret, char *msg)
{
	const unsigned char *p = der;
	X509_SIG *sig = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	EVP_PKEY *pkey = NULL;
	int r;

	if (len > LONG_MAX || (sig = d2i_X509_SIG(NULL, &p, (long)len)) == NULL) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "damaged encrypted private key");
		goto out;
	}
	if (!has_password(pw)) {
		r = sv_fail(msg, SV_ERR_BAD_PASSWORD,
		    "the private key is encrypted and no password was given");
		goto out;
	}
	if ((p8 = PKCS8_decrypt(sig, pw, (int)strlen(pw))) == NULL) {
		r = sv_fail(msg, SV_ERR_BAD_PASSWORD, "wrong private key password");
		goto out;
	}
	if ((pkey = EVP_PKCS82PKEY(p8)) == NULL) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "damaged or unsupported private key");
		goto out;
	}
	*ret = pkey;
	pkey = NULL;
	r = 0;
 out:
	PKCS8_PRIV_KEY_INFO_free(p8);
	X509_SIG_free(sig);
	return r;
}

static int
pem_is_cert(const char *name)
{
	return strcmp(name, PEM_STRING_X509) == 0 ||
	    strcmp(name, PEM_STRING_X509_OLD) == 0 ||
	    strcmp(name, PEM_STRING_X509_TRUSTED) == 0;
}

static int
pem_is_key(const char *name)
{
	return strcmp(name, PEM_STRING_PKCS8INF) == 0 ||
	    strcmp(name, PEM_STRING_PKCS8) == 0 ||
	    strcmp(name, PEM_STRING_RSA) == 0 ||
	    strcmp(name, PEM_STRING_ECPRIVATEKEY) == 0;
}

/* One PEM private key block (already base64-decoded, possibly encrypted). */
static int
pem_key_block(const char *name, char *header, unsigned char *der,
    long *len, const char *pw, EVP_PKEY **ret, char *msg)
{
	EVP_CIPHER_INFO ci;
	EVP_PKEY *pkey;

	if (strcmp(name, PEM_STRING_PKCS8) == 0)
		return key_from_encrypted_p8(der, (size_t)*len, pw, ret, msg);
	/* traditional "Proc-Type: 4,ENCRYPTED" keys carry the cipher in the header */
	if (!PEM_get_EVP_CIPHER_INFO(header, &ci))
		return sv_fail(msg, SV_ERR_BAD_FORMAT, "damaged PEM private key header");
	if (ci.cipher != NULL) {
		if (!has_password(pw))
			return sv_fail(msg, SV_ERR_BAD_PASSWORD,
			    "the private key is encrypted and no password was given");
		if (!PEM_do_header(&ci, der, len, pem_pw_cb, (void *)pw))
			return sv_fail(msg, SV_ERR_BAD_PASSWORD, "wrong private key password");
	}
	if ((pkey = key_from_der(der, (size_t)*len)) == NULL) {
		/* a wrong password can slip past the padding check as garbage */
		if (ci.cipher != NULL)
			return sv_fail(msg, SV_ERR_BAD_PASSWORD, "wrong private key password");
		return sv_fail(msg, SV_ERR_BAD_FORMAT, "damaged or unsupported private key");
	}
	*ret = pkey;
	return 0;
}

static int
pem_cert_block(const char *name, const unsigned char *der, long len,
    STACK_OF(X509) *certs, char *msg)
{
	const unsigned char *p = der;
	X509 *x;

	if (strcmp(name, PEM_STRING_X509_TRUSTED) == 0)
		x = d2i_X509_AUX(NULL, &p, len);
	else
		x = d2i_X509(NULL, &p, len);
	if (x == NULL)
		return sv_fail(msg, SV_ERR_BAD_FORMAT, "damaged certificate in PEM data");
	if (!sk_X509_push(certs, x)) {
		X509_free(x);
		return sv_fail(msg, SV_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/*
 * Every PEM block of data: certificates (if want_certs) and private
 * keys; other blocks (parameters, requests, public keys) are skipped.  Blocks
 * are read into OpenSSL's secure heap and wiped when freed.
 */
static int
pem_read_all(const void *data, size_t len, const char *pw, struct import *im,
    int want_certs, char *msg)
{
	BIO *bio = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long derlen = 0, dersize = 0;
	unsigned long e;
	EVP_PKEY *pkey;
	int r;

	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ERR_clear_error();
		if (!PEM_read_bio_ex(bio, &name, &header, &der, &derlen,
		    PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE)) {
			e = ERR_peek_last_error();
			if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
				break;
			r = sv_fail(msg, SV_ERR_BAD_FORMAT, "damaged PEM data");
			goto out;
		}
		/* in-place decryption shortens derlen: wipe what was allocated */
		dersize = derlen;
		if (want_certs && pem_is_cert(name)) {
			if ((r = pem_cert_block(name, der, derlen, im->certs, msg)) != 0)
				goto out;
		} else if (pem_is_key(name)) {
			if ((r = pem_key_block(name, header, der, &derlen, pw, &pkey, msg)) != 0)
				goto out;
			add_key(im, pkey);
		}
		OPENSSL_secure_clear_free(der, (size_t)dersize);
		OPENSSL_secure_free(name);
		OPENSSL_secure_free(header);
		der = NULL;
		name = header = NULL;
	}
	ERR_clear_error();
	r = 0;
 out:
	if (der != NULL)
		OPENSSL_secure_clear_free(der, (size_t)dersize);
	OPENSSL_secure_free(name);
	OPENSSL_secure_free(header);
	BIO_free(bio);
	return r;
}

/* Whether OpenSSL failed for want of an algorithm its providers lack. */
static int
queue_has_unsupported(void)
{
	unsigned long e;
	int found = 0;

	while ((e = ERR_get_error()) != 0) {
		if (ERR_GET_REASON(e) == ERR_R_UNSUPPORTED ||
		    ERR_GET_REASON(e) == ERR_R_FETCH_FAILED ||
		    (ERR_GET_LIB(e) == ERR_LIB_EVP &&
		    ERR_GET_REASON(e) == EVP_R_UNSUPPORTED_ALGORITHM))
			found = 1;
	}
	return found;
}

/*
 * PKCS12_parse() once more with OpenSSL's legacy provider loaded, for the
 * RC2 and 3DES that older Windows exports use (and that a key marked
 * non-exportable cannot be exported again without).  The provider is
 * loaded for this parse only and unloaded after it.  1 if it parsed.
 */
static int
parse_legacy(PKCS12 *p12, const char *pw, EVP_PKEY **pkey, X509 **cert,
    STACK_OF(X509) **ca)
{
	OSSL_PROVIDER *legacy, *deflt;
	int ok = 0;

	if (!queue_has_unsupported())
		return 0;
	/* loading one provider by hand would stop the default one loading by itself */
	if ((deflt = OSSL_PROVIDER_load(NULL, "default")) == NULL)
		return 0;
	if ((legacy = OSSL_PROVIDER_load(NULL, "legacy")) != NULL) {
		ERR_clear_error();
		ok = PKCS12_parse(p12, pw, pkey, cert, ca);
		OSSL_PROVIDER_unload(legacy);
	}
	OSSL_PROVIDER_unload(deflt);
	if (!ok)
		ERR_raise(ERR_LIB_EVP, EVP_R_UNSUPPORTED_ALGORITHM);
	return ok;
}

static int
read_p12(PKCS12 *p12, const char *pw, struct import *im, char *msg)
{
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	const char *use = pw;
	int r;

	/*
	 * Check the MAC first: it is what tells a wrong password apart from a
	 * damaged file.  "No password" may mean NULL or "" to whoever wrote it.
	 */
	if (PKCS12_mac_present(p12)) {
		if (has_password(pw)) {
			if (!PKCS12_verify_mac(p12, pw, -1)) {
				r = sv_fail(msg, SV_ERR_BAD_PASSWORD, "wrong PKCS#12 password");
				goto out;
			}
		} else if (PKCS12_verify_mac(p12, NULL, 0)) {
			use = NULL;
		} else if (PKCS12_verify_mac(p12, "", 0)) {
			use = "";
		} else {
			r = sv_fail(msg, SV_ERR_BAD_PASSWORD,
			    "the PKCS#12 file needs a password");
			goto out;
		}
	}
	if (!PKCS12_parse(p12, use, &pkey, &cert, &ca) && !parse_legacy(p12, use, &pkey, &cert, &ca)) {
		if (queue_has_unsupported())
			r = sv_fail(msg, SV_ERR_BAD_FORMAT, "the PKCS#12 file uses a "
			    "legacy cipher (such as RC2-40) that this OpenSSL cannot "
			    "read, even with its legacy provider: export it again with AES-256");
		else if (!PKCS12_mac_present(p12))
			r = sv_fail(msg, SV_ERR_BAD_FORMAT, "cannot read a PKCS#12 "
			    "file without a MAC: export it again with one");
		else
			r = sv_fail(msg, SV_ERR_BAD_FORMAT, "damaged PKCS#12 file");
		goto out;
	}
	if (cert != NULL) {
		if (!sk_X509_push(im->certs, cert)) {
			r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
			goto out;
		}
		cert = NULL;
	}
	while (ca != NULL && sk_X509_num(ca) > 0) {
		X509 *x = sk_X509_shift(ca);

		if (!sk_X509_push(im->certs, x)) {
			X509_free(x);
			r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (pkey != NULL) {
		add_key(im, pkey);
		pkey = NULL;
	}
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	X509_free(cert);
	sk_X509_pop_free(ca, X509_free);
	return r;
}

/* A whole-file DER certificate, for imports that bring the key separately. */
static X509 *
der_cert(const uint8_t *data, size_t len)
{
	const unsigned char *p = data;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	if (x != NULL && p != data + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static int
read_main_file(const uint8_t *data, size_t len, const char *pw,
    struct import *im, char *msg)
{
	const unsigned char *p = data;
	PKCS12 *p12 = NULL;
	X509 *x = NULL;
	int r;

	if (data[0] == 0x30) {
		if ((p12 = d2i_PKCS12(NULL, &p, (long)len)) != NULL) {
			r = read_p12(p12, pw, im, msg);
			goto out;
		}
		if ((x = der_cert(data, len)) != NULL) {
			if (!sk_X509_push(im->certs, x)) {
				r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
				goto out;
			}
			x = NULL;
			r = 0;
			goto out;
		}
		if (der_truncated(data, len)) {
			r = sv_fail(msg, SV_ERR_BAD_FORMAT, "truncated PKCS#12 or DER file");
			goto out;
		}
	}
	if (contains(data, len, "-----BEGIN ")) {
		r = pem_read_all(data, len, pw, im, 1, msg);
		goto out;
	}
	r = sv_fail(msg, SV_ERR_BAD_FORMAT, "not a PKCS#12 or PEM certificate file");
 out:
	X509_free(x);
	PKCS12_free(p12);
	return r;
}

/* The separate key file: PEM, or DER PKCS#8 (plain or encrypted) or traditional. */
static int
read_key_file(const uint8_t *data, size_t len, const char *pw, struct import *im,
    char *msg)
{
	struct import k = { NULL, NULL, 0 };
	EVP_PKEY *pkey = NULL;
	int r;

	if (len == 0) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "empty key file");
		goto out;
	}
	if (len > CERT_FILE_MAX) {
		r = sv_fail(msg, SV_ERR_TOO_LARGE, "key file larger than %u bytes",
		    CERT_FILE_MAX);
		goto out;
	}
	if (contains(data, len, "-----BEGIN ")) {
		if ((r = pem_read_all(data, len, pw, &k, 0, msg)) != 0)
			goto out;
		pkey = k.pkey;
		k.pkey = NULL;
		if (k.nkeys > 1) {
			r = sv_fail(msg, SV_ERR_BAD_FORMAT, "more than one private key in the key file");
			goto out;
		}
	} else if ((pkey = key_from_der(data, len)) == NULL) {
		ERR_clear_error();
		if ((r = key_from_encrypted_p8(data, len, pw, &pkey, msg)) != 0) {
			if (r == SV_ERR_BAD_FORMAT)
				r = sv_fail(msg, SV_ERR_BAD_FORMAT,
				    "the key file holds no private key in PEM or DER form");
			goto out;
		}
	}
	if (pkey == NULL) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "no private key found in the key file");
		goto out;
	}
	/* the separate key file wins over a key inside the certificate file */
	EVP_PKEY_free(im->pkey);
	im->pkey = pkey;
	im->nkeys = 1;
	pkey = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	import_clear(&k);
	return r;
}

/* ---- building the result --------------------------------------------- */

static int
name_string(const X509_NAME *name, char **ret)
{
	BIO *bio = NULL;
	BUF_MEM *mem = NULL;
	char *s = NULL;
	int r = SV_ERR_NOMEM;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0 ||
	    BIO_get_mem_ptr(bio, &mem) <= 0 || mem == NULL)
		goto out;
	if ((s = malloc(mem->length + 1)) == NULL)
		goto out;
	if (mem->length > 0)
		memcpy(s, mem->data, mem->length);
	s[mem->length] = '\0';
	/* RFC 2253 escaping leaves no control bytes, but a NUL would cut the record */
	if (strlen(s) != mem->length) {
		r = SV_ERR_BAD_FORMAT;
		goto out;
	}
	*ret = s;
	s = NULL;
	r = 0;
 out:
	free(s);
	BIO_free(bio);
	return r;
}

static int
serial_string(const X509 *x, char **ret)
{
	BIGNUM *bn = NULL;
	char *hex = NULL, *s = NULL;
	int r = SV_ERR_NOMEM;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL || (s = strdup(hex)) == NULL)
		goto out;
	*ret = s;
	r = 0;
 out:
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

static int
time_unix(const ASN1_TIME *t, int64_t *ret)
{
	struct tm tm;
	time_t v;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return SV_ERR_BAD_FORMAT;
	errno = 0;
	v = timegm(&tm);
	if (errno == EOVERFLOW)
		return SV_ERR_BAD_FORMAT;
	*ret = (int64_t)v;
	return 0;
}

static int
key_type_string(EVP_PKEY *pkey, char **ret, char *msg)
{
	char group[80], buf[128];
	size_t glen = 0;
	int n;

	if (EVP_PKEY_is_a(pkey, "RSA")) {
		n = snprintf(buf, sizeof(buf), "RSA %d", EVP_PKEY_get_bits(pkey));
	} else if (EVP_PKEY_is_a(pkey, "EC")) {
		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
		    group, sizeof(group), &glen))
			return sv_fail(msg, SV_ERR_BAD_FORMAT,
			    "EC key without a named curve is not supported");
		n = snprintf(buf, sizeof(buf), "EC %s", group);
	} else {
		return sv_fail(msg, SV_ERR_BAD_FORMAT,
		    "unsupported key type %.40s: only RSA and EC keys are accepted",
		    EVP_PKEY_get0_type_name(pkey) != NULL ?
		    EVP_PKEY_get0_type_name(pkey) : "(unknown)");
	}
	if (n < 0 || (size_t)n >= sizeof(buf))
		return sv_fail(msg, SV_ERR_INTERNAL, "key type name too long");
	if ((*ret = strdup(buf)) == NULL)
		return sv_fail(msg, SV_ERR_NOMEM, "out of memory");
	return 0;
}

/* The key as PKCS#8 DER in a new secure buffer. */
static int
key_pkcs8(EVP_PKEY *pkey, struct svbuf **ret, char *msg)
{
	OSSL_ENCODER_CTX *ctx = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem = NULL;
	struct svbuf *b = NULL;
	int r;

	/*
	 * The memory BIO wipes its storage when freed (BUF_MEM_free clears, and
	 * the secmem flavour uses OpenSSL's secure heap where one is set up),
	 * so the one transient copy outside sodium memory does not linger.
	 */
	ctx = OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR, "DER",
	    "PrivateKeyInfo", NULL);
	if (ctx == NULL || OSSL_ENCODER_CTX_get_num_encoders(ctx) == 0 ||
	    (bio = BIO_new(BIO_s_secmem())) == NULL ||
	    !OSSL_ENCODER_to_bio(ctx, bio) ||
	    BIO_get_mem_ptr(bio, &mem) <= 0 || mem == NULL || mem->length == 0) {
		r = sv_fail(msg, SV_ERR_CRYPTO, "cannot encode the private key as PKCS#8");
		goto out;
	}
	if ((b = svbuf_new_secure(mem->length)) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = svbuf_put(b, mem->data, mem->length)) != 0) {
		r = sv_fail(msg, r, "cannot hold the private key");
		goto out;
	}
	*ret = b;
	b = NULL;
	r = 0;
 out:
	svbuf_free(b);
	BIO_free(bio);
	OSSL_ENCODER_CTX_free(ctx);
	return r;
}

static int
put_der(struct svbuf *b, X509 *x)
{
	unsigned char *der = NULL;
	int n, r;

	if ((n = i2d_X509(x, &der)) <= 0)
		return SV_ERR_CRYPTO;
	r = svbuf_put_string(b, der, (size_t)n);
	OPENSSL_free(der);
	return r;
}

static int
leaf_digests(X509 *leaf, struct vault_cert *c)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;

	if (!X509_digest(leaf, EVP_sha1(), md, &n) || n != VAULT_SHA1_HEX / 2)
		return SV_ERR_CRYPTO;
	hex_upper(md, n, c->sha1);
	if (!X509_digest(leaf, EVP_sha256(), md, &n) || n != VAULT_SHA256_HEX / 2)
		return SV_ERR_CRYPTO;
	hex_upper(md, n, c->sha256);
	return 0;
}

/* Fill the public fields of c from the leaf. */
static int
describe_leaf(X509 *leaf, struct vault_cert *c, char *msg)
{
	int r;

	if ((r = leaf_digests(leaf, c)) != 0)
		return sv_fail(msg, r, "cannot compute the certificate thumbprint");
	if ((r = name_string(X509_get_subject_name(leaf), &c->subject)) != 0 ||
	    (r = name_string(X509_get_issuer_name(leaf), &c->issuer)) != 0)
		return sv_fail(msg, r, "cannot read the certificate names");
	if ((r = serial_string(leaf, &c->serial)) != 0)
		return sv_fail(msg, r, "cannot read the certificate serial number");
	if ((r = time_unix(X509_get0_notBefore(leaf), &c->not_before)) != 0 ||
	    (r = time_unix(X509_get0_notAfter(leaf), &c->not_after)) != 0)
		return sv_fail(msg, r, "cannot read the certificate validity dates");
	return 0;
}

static int
build(struct import *im, struct vault_cert **ret, char *msg)
{
	struct vault_cert *c = NULL;
	X509 *leaf = NULL;
	int i, r;

	if (sk_X509_num(im->certs) <= 0) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "no certificate found");
		goto out;
	}
	if (im->pkey == NULL) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "no private key found (give --key FILE)");
		goto out;
	}
	if (im->nkeys > 1) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "more than one private key in the file");
		goto out;
	}
	for (i = 0; i < sk_X509_num(im->certs); i++) {
		X509 *x = sk_X509_value(im->certs, i);
		EVP_PKEY *pub = X509_get0_pubkey(x);

		if (pub != NULL && EVP_PKEY_eq(pub, im->pkey) == 1) {
			leaf = x;
			break;
		}
	}
	if (leaf == NULL) {
		r = sv_fail(msg, SV_ERR_KEY_MISMATCH, "private key does not match the certificate");
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = key_type_string(im->pkey, &c->key_type, msg)) != 0 ||
	    (r = describe_leaf(leaf, c, msg)) != 0)
		goto out;
	if ((c->chain_der = svbuf_new(0)) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = put_der(c->chain_der, leaf)) != 0)
		goto fail_chain;
	c->chain_count = 1;
	for (i = 0; i < sk_X509_num(im->certs); i++) {
		X509 *x = sk_X509_value(im->certs, i);

		if (x == leaf)
			continue;
		if ((r = put_der(c->chain_der, x)) != 0)
			goto fail_chain;
		c->chain_count++;
	}
	if ((r = key_pkcs8(im->pkey, &c->key_pkcs8, msg)) != 0)
		goto out;
	*ret = c;
	c = NULL;
	r = 0;
	goto out;
 fail_chain:
	r = sv_fail(msg, r, "cannot encode the certificate chain");
 out:
	vault_cert_free(c);
	return r;
}

int
vault_cert_parse(const void *data, size_t len, const char *pw,
    const void *key, size_t keylen, struct vault_cert **ret, char *msg)
{
	struct import im = { NULL, NULL, 0 };
	int r;

	ERR_clear_error();
	if (sodium_init() < 0) {
		r = sv_fail(msg, SV_ERR_CRYPTO, "libsodium failed to start");
		goto out;
	}
	if (data == NULL || len == 0) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "empty file");
		goto out;
	}
	if (len > CERT_FILE_MAX) {
		r = sv_fail(msg, SV_ERR_TOO_LARGE, "certificate file larger than %u bytes",
		    CERT_FILE_MAX);
		goto out;
	}
	if ((im.certs = sk_X509_new_null()) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = read_main_file(data, len, pw, &im, msg)) != 0)
		goto out;
	if (key != NULL && (r = read_key_file(key, keylen, pw, &im, msg)) != 0)
		goto out;
	r = build(&im, ret, msg);
 out:
	import_clear(&im);
	ERR_clear_error();
	return r;
}

void
vault_cert_free(struct vault_cert *c)
{
	if (c == NULL)
		return;
	free(c->subject);
	free(c->issuer);
	free(c->serial);
	free(c->key_type);
	svbuf_free(c->chain_der);
	svbuf_free(c->key_pkcs8);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* ---- the stored form ------------------------------------------------- */

/*
 * Version 1:
 *   u8 version
 *   string sha1, string sha256, string subject, string issuer,
 *   string serial, string key_type
 *   u64 not_before, u64 not_after (two's complement of the int64)
 *   u32 chain count, then that many strings (DER, leaf first)
 *   string key (PKCS#8 DER; empty when the record holds no key)
 */

int
vault_cert_encode(const struct vault_cert *c, struct svbuf *out)
{
	struct svbuf *tmp = NULL, *chain = NULL;
	const uint8_t *p;
	size_t i, n;
	int r;

	if (c == NULL || out == NULL || c->chain_der == NULL || c->chain_count == 0 ||
	    c->chain_count > CERT_CHAIN_MAX)
		return SV_ERR_INVALID;
	/* secure, as the encoding holds the key; copied out only when whole */
	if ((tmp = svbuf_new_secure(svbuf_max(out))) == NULL ||
	    (chain = svbuf_from(svbuf_ptr(c->chain_der), svbuf_len(c->chain_der))) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = svbuf_put_u8(tmp, CERT_FORMAT_VERSION)) != 0 ||
	    (r = svbuf_put_cstring(tmp, c->sha1)) != 0 ||
	    (r = svbuf_put_cstring(tmp, c->sha256)) != 0 ||
	    (r = svbuf_put_cstring(tmp, c->subject)) != 0 ||
	    (r = svbuf_put_cstring(tmp, c->issuer)) != 0 ||
	    (r = svbuf_put_cstring(tmp, c->serial)) != 0 ||
	    (r = svbuf_put_cstring(tmp, c->key_type)) != 0 ||
	    (r = svbuf_put_u64(tmp, (uint64_t)c->not_before)) != 0 ||
	    (r = svbuf_put_u64(tmp, (uint64_t)c->not_after)) != 0 ||
	    (r = svbuf_put_u32(tmp, (uint32_t)c->chain_count)) != 0)
		goto out;
	/* re-frame each certificate, so a chain_der out of step with chain_count fails here */
	for (i = 0; i < c->chain_count; i++) {
		if ((r = svbuf_get_string_direct(chain, &p, &n)) != 0 ||
		    (r = svbuf_put_string(tmp, p, n)) != 0)
			goto out;
	}
	if ((r = svbuf_expect_end(chain)) != 0)
		goto out;
	if (c->key_pkcs8 != NULL)
		r = svbuf_put_buf(tmp, c->key_pkcs8);
	else
		r = svbuf_put_string(tmp, NULL, 0);
	if (r != 0 || (r = svbuf_put(out, svbuf_ptr(tmp), svbuf_len(tmp))) != 0)
		goto out;
	r = 0;
 out:
	svbuf_free(chain);
	svbuf_free(tmp);
	return r;
}

static int
decode_err(char *msg, int r, const char *what)
{
	switch (r) {
	case SV_ERR_TRUNCATED:
		return sv_fail(msg, r, "certificate record truncated in %s", what);
	case SV_ERR_INVALID:
		return sv_fail(msg, SV_ERR_INTEGRITY,
		    "certificate record has a NUL byte in %s", what);
	case SV_ERR_NOMEM:
		return sv_fail(msg, r, "out of memory");
	default:
		return sv_fail(msg, r, "cannot read %s of the certificate record", what);
	}
}

/* The stored leaf must still be the certificate the thumbprints name. */
static int
verify_leaf(const struct vault_cert *c, char *msg)
{
	struct svbuf *chain = NULL;
	struct vault_cert check;
	const uint8_t *der;
	const unsigned char *p;
	size_t n;
	X509 *leaf = NULL;
	int r;

	memset(&check, 0, sizeof(check));
	if ((chain = svbuf_from(svbuf_ptr(c->chain_der), svbuf_len(c->chain_der))) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = svbuf_get_string_direct(chain, &der, &n)) != 0 || n > LONG_MAX) {
		r = sv_fail(msg, SV_ERR_INTEGRITY, "certificate record has no leaf certificate");
		goto out;
	}
	p = der;
	if ((leaf = d2i_X509(NULL, &p, (long)n)) == NULL || p != der + n) {
		r = sv_fail(msg, SV_ERR_INTEGRITY, "stored certificate is damaged");
		goto out;
	}
	if ((r = leaf_digests(leaf, &check)) != 0) {
		r = sv_fail(msg, r, "cannot compute the certificate thumbprint");
		goto out;
	}
	if (strcmp(check.sha1, c->sha1) != 0 || strcmp(check.sha256, c->sha256) != 0) {
		r = sv_fail(msg, SV_ERR_INTEGRITY,
		    "stored thumbprint does not match the stored certificate");
		goto out;
	}
	r = 0;
 out:
	X509_free(leaf);
	svbuf_free(chain);
	return r;
}

/* Copy a fixed-size hex thumbprint string out of the record. */
static int
get_thumb(struct svbuf *b, char *out, size_t want, char *msg, const char *what)
{
	const uint8_t *p;
	size_t n, i;
	int r;

	if ((r = svbuf_get_string_direct(b, &p, &n)) != 0)
		return decode_err(msg, r, what);
	if (n != want)
		return sv_fail(msg, SV_ERR_INTEGRITY,
		    "certificate record has a %s of the wrong length", what);
	for (i = 0; i < n; i++) {
		if (thumbprint_hex_value(p[i]) < 0 || (p[i] >= 'a' && p[i] <= 'f'))
			return sv_fail(msg, SV_ERR_INTEGRITY,
			    "certificate record has a malformed %s", what);
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int
decode(struct svbuf *in, int want_key, struct vault_cert **ret, char *msg)
{
	struct svbuf *b = NULL;
	struct vault_cert *c = NULL;
	const uint8_t *p;
	size_t n;
	uint64_t nb, na;
	uint32_t count, i;
	uint8_t version;
	int r;

	ERR_clear_error();
	if (in == NULL) {
		r = sv_fail(msg, SV_ERR_INVALID, "no certificate record");
		goto out;
	}
	if (sodium_init() < 0) {
		r = sv_fail(msg, SV_ERR_CRYPTO, "libsodium failed to start");
		goto out;
	}
	/* read through a view, so that a failure leaves in untouched */
	if ((b = svbuf_from(svbuf_ptr(in), svbuf_len(in))) == NULL ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = svbuf_get_u8(b, &version)) != 0) {
		r = decode_err(msg, r, "the version");
		goto out;
	}
	if (version != CERT_FORMAT_VERSION) {
		r = sv_fail(msg, SV_ERR_VERSION,
		    "unsupported certificate record version %u", (unsigned)version);
		goto out;
	}
	if ((r = get_thumb(b, c->sha1, VAULT_SHA1_HEX, msg, "SHA-1 thumbprint")) != 0 ||
	    (r = get_thumb(b, c->sha256, VAULT_SHA256_HEX, msg, "SHA-256 thumbprint")) != 0)
		goto out;
	if ((r = svbuf_get_cstring(b, &c->subject)) != 0) {
		r = decode_err(msg, r, "the subject");
		goto out;
	}
	if ((r = svbuf_get_cstring(b, &c->issuer)) != 0) {
		r = decode_err(msg, r, "the issuer");
		goto out;
	}
	if ((r = svbuf_get_cstring(b, &c->serial)) != 0) {
		r = decode_err(msg, r, "the serial number");
		goto out;
	}
	if ((r = svbuf_get_cstring(b, &c->key_type)) != 0) {
		r = decode_err(msg, r, "the key type");
		goto out;
	}
	if ((r = svbuf_get_u64(b, &nb)) != 0 || (r = svbuf_get_u64(b, &na)) != 0) {
		r = decode_err(msg, r, "the validity dates");
		goto out;
	}
	c->not_before = (int64_t)nb;
	c->not_after = (int64_t)na;
	if ((r = svbuf_get_u32(b, &count)) != 0) {
		r = decode_err(msg, r, "the chain length");
		goto out;
	}
	if (count == 0 || count > CERT_CHAIN_MAX) {
		r = sv_fail(msg, SV_ERR_INTEGRITY,
		    "certificate record has a chain of %u certificates", (unsigned)count);
		goto out;
	}
	if ((c->chain_der = svbuf_new(0)) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < count; i++) {
		if ((r = svbuf_get_string_direct(b, &p, &n)) != 0) {
			r = decode_err(msg, r, "the certificate chain");
			goto out;
		}
		if ((r = svbuf_put_string(c->chain_der, p, n)) != 0) {
			r = decode_err(msg, r, "the certificate chain");
			goto out;
		}
	}
	c->chain_count = count;
	if ((r = svbuf_get_string_direct(b, &p, &n)) != 0) {
		r = decode_err(msg, r, "the private key");
		goto out;
	}
	if (want_key && n > 0) {
		if ((c->key_pkcs8 = svbuf_new_secure(n)) == NULL) {
			r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((r = svbuf_put(c->key_pkcs8, p, n)) != 0) {
			r = decode_err(msg, r, "the private key");
			goto out;
		}
	}
	if ((r = svbuf_expect_end(b)) != 0) {
		r = sv_fail(msg, r, "certificate record has %zu trailing byte%s",
		    svbuf_len(b), svbuf_len(b) == 1 ? "" : "s");
		goto out;
	}
	if ((r = verify_leaf(c, msg)) != 0)
		goto out;
	if ((r = svbuf_consume(in, svbuf_len(in))) != 0) {
		r = sv_fail(msg, r, "cannot consume the certificate record");
		goto out;
	}
	*ret = c;
	c = NULL;
	r = 0;
 out:
	vault_cert_free(c);
	svbuf_free(b);
	ERR_clear_error();
	return r;
}

int
vault_cert_decode(struct svbuf *in, struct vault_cert **ret, char *msg)
{
	return decode(in, 1, ret, msg);
}

int
vault_cert_decode_public(struct svbuf *in, struct vault_cert **ret, char *msg)
{
	return decode(in, 0, ret, msg);
}

/* ---- PEM out ---------------------------------------------------------- */

/*
 * Append one PEM block to out.  The base64 is written by libsodium straight
 * into out's own storage, 48 bytes (one 64-character line) at a time, so no
 * other copy of the bytes is ever made.
 */
static int
pem_armor(struct svbuf *out, const char *label, const uint8_t *der, size_t len)
{
	uint8_t *d;
	size_t off, chunk, enc;
	int r;

	if ((r = svbuf_put(out, "-----BEGIN ", 11)) != 0 ||
	    (r = svbuf_put(out, label, strlen(label))) != 0 ||
	    (r = svbuf_put(out, "-----\n", 6)) != 0)
		return r;
	for (off = 0; off < len; off += chunk) {
		chunk = len - off < 48 ? len - off : 48;
		/* ENCODED_LEN counts the NUL, which becomes the newline */
		enc = sodium_base64_ENCODED_LEN(chunk, sodium_base64_VARIANT_ORIGINAL);
		if ((r = svbuf_reserve(out, enc, &d)) != 0)
			return r;
		sodium_bin2base64((char *)d, enc, der + off, chunk,
		    sodium_base64_VARIANT_ORIGINAL);
		d[enc - 1] = '\n';
	}
	if ((r = svbuf_put(out, "-----END ", 9)) != 0 ||
	    (r = svbuf_put(out, label, strlen(label))) != 0 ||
	    (r = svbuf_put(out, "-----\n", 6)) != 0)
		return r;
	return 0;
}

int
vault_cert_chain_pem(const struct vault_cert *c, struct svbuf *out)
{
	struct svbuf *chain = NULL, *tmp = NULL;
	const uint8_t *p;
	size_t i, n;
	int r;

	if (c == NULL || out == NULL || c->chain_der == NULL)
		return SV_ERR_INVALID;
	if ((chain = svbuf_from(svbuf_ptr(c->chain_der), svbuf_len(c->chain_der))) == NULL ||
	    (tmp = svbuf_new(svbuf_max(out))) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < c->chain_count; i++) {
		if ((r = svbuf_get_string_direct(chain, &p, &n)) != 0 ||
		    (r = pem_armor(tmp, "CERTIFICATE", p, n)) != 0)
			goto out;
	}
	/* appended whole or not at all */
	r = svbuf_put(out, svbuf_ptr(tmp), svbuf_len(tmp));
 out:
	svbuf_free(tmp);
	svbuf_free(chain);
	return r;
}

int
vault_cert_key_pem(const struct vault_cert *c, struct svbuf *out)
{
	struct svbuf *tmp = NULL;
	int r;

	if (c == NULL || out == NULL)
		return SV_ERR_INVALID;
	if (c->key_pkcs8 == NULL || svbuf_len(c->key_pkcs8) == 0)
		return SV_ERR_NOT_FOUND;
	if (sodium_init() < 0)
		return SV_ERR_CRYPTO;
	if ((tmp = svbuf_new_secure(svbuf_max(out))) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = pem_armor(tmp, "PRIVATE KEY", svbuf_ptr(c->key_pkcs8),
	    svbuf_len(c->key_pkcs8))) != 0)
		goto out;
	r = svbuf_put(out, svbuf_ptr(tmp), svbuf_len(tmp));
 out:
	svbuf_free(tmp);
	return r;
}

int
vault_cert_check_time(const struct vault_cert *c, int64_t now)
{
	if (c == NULL)
		return SV_ERR_INVALID;
	if (now < c->not_before)
		return SV_ERR_CERT_NOT_YET_VALID;
	if (now > c->not_after)
		return SV_ERR_CERT_EXPIRED;
	return 0;
}
