/*
 * mech.c: the signature mechanisms of the module and what each asks of
 * the service.  Hash-and-sign mechanisms (CKM_SHA256_RSA_PKCS, ...) are
 * hashed here, so the input may be as long as the caller likes; the service
 * is sent the digest.  The single-part ones (CKM_RSA_PKCS, CKM_RSA_PKCS_PSS,
 * CKM_ECDSA) pass their input on as it is, checked for length first.  Raw
 * RSA (CKM_RSA_X_509) is not offered: it would make the key a decryption
 * oracle.  Verification is local, with the certificate's public key.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "p11.h"

static const struct mech {
	CK_MECHANISM_TYPE type;
	CK_KEY_TYPE key;
	int scheme;
	int hash;		/* hashed here; NONE for single-part mechanisms */
	int pss_params;		/* takes CK_RSA_PKCS_PSS_PARAMS */
} mechs[] = {
	{ CKM_RSA_PKCS, CKK_RSA, SSOVAULT_SIGN_RSA_PKCS1, SSOVAULT_HASH_NONE, 0 },
	{ CKM_SHA1_RSA_PKCS, CKK_RSA, SSOVAULT_SIGN_RSA_PKCS1, SSOVAULT_HASH_SHA1, 0 },
	{ CKM_SHA224_RSA_PKCS, CKK_RSA, SSOVAULT_SIGN_RSA_PKCS1, SSOVAULT_HASH_SHA224, 0 },
	{ CKM_SHA256_RSA_PKCS, CKK_RSA, SSOVAULT_SIGN_RSA_PKCS1, SSOVAULT_HASH_SHA256, 0 },
	{ CKM_SHA384_RSA_PKCS, CKK_RSA, SSOVAULT_SIGN_RSA_PKCS1, SSOVAULT_HASH_SHA384, 0 },
	{ CKM_SHA512_RSA_PKCS, CKK_RSA, SSOVAULT_SIGN_RSA_PKCS1, SSOVAULT_HASH_SHA512, 0 },
	{ CKM_RSA_PKCS_PSS, CKK_RSA, SSOVAULT_SIGN_RSA_PSS, SSOVAULT_HASH_NONE, 1 },
	{ CKM_SHA1_RSA_PKCS_PSS, CKK_RSA, SSOVAULT_SIGN_RSA_PSS, SSOVAULT_HASH_SHA1, 1 },
	{ CKM_SHA224_RSA_PKCS_PSS, CKK_RSA, SSOVAULT_SIGN_RSA_PSS, SSOVAULT_HASH_SHA224, 1 },
	{ CKM_SHA256_RSA_PKCS_PSS, CKK_RSA, SSOVAULT_SIGN_RSA_PSS, SSOVAULT_HASH_SHA256, 1 },
	{ CKM_SHA384_RSA_PKCS_PSS, CKK_RSA, SSOVAULT_SIGN_RSA_PSS, SSOVAULT_HASH_SHA384, 1 },
	{ CKM_SHA512_RSA_PKCS_PSS, CKK_RSA, SSOVAULT_SIGN_RSA_PSS, SSOVAULT_HASH_SHA512, 1 },
	{ CKM_ECDSA, CKK_EC, SSOVAULT_SIGN_ECDSA, SSOVAULT_HASH_NONE, 0 },
	{ CKM_ECDSA_SHA1, CKK_EC, SSOVAULT_SIGN_ECDSA, SSOVAULT_HASH_SHA1, 0 },
	{ CKM_ECDSA_SHA224, CKK_EC, SSOVAULT_SIGN_ECDSA, SSOVAULT_HASH_SHA224, 0 },
	{ CKM_ECDSA_SHA256, CKK_EC, SSOVAULT_SIGN_ECDSA, SSOVAULT_HASH_SHA256, 0 },
	{ CKM_ECDSA_SHA384, CKK_EC, SSOVAULT_SIGN_ECDSA, SSOVAULT_HASH_SHA384, 0 },
	{ CKM_ECDSA_SHA512, CKK_EC, SSOVAULT_SIGN_ECDSA, SSOVAULT_HASH_SHA512, 0 },
};
#define NMECHS (sizeof(mechs) / sizeof(mechs[0]))

/* The hashes: the service's number, PKCS#11's for the digest and for MGF1, OpenSSL's name. */
static const struct hash {
	int id;
	CK_MECHANISM_TYPE ck;
	CK_RSA_PKCS_MGF_TYPE mgf;
	const char *name;
	size_t len;
} hashes[] = {
	{ SSOVAULT_HASH_SHA1, CKM_SHA_1, CKG_MGF1_SHA1, "SHA1", 20 },
	{ SSOVAULT_HASH_SHA224, CKM_SHA224, CKG_MGF1_SHA224, "SHA224", 28 },
	{ SSOVAULT_HASH_SHA256, CKM_SHA256, CKG_MGF1_SHA256, "SHA256", 32 },
	{ SSOVAULT_HASH_SHA384, CKM_SHA384, CKG_MGF1_SHA384, "SHA384", 48 },
	{ SSOVAULT_HASH_SHA512, CKM_SHA512, CKG_MGF1_SHA512, "SHA512", 64 },
};
#define NHASHES (sizeof(hashes) / sizeof(hashes[0]))

/* The longest ECDSA input taken as it is: SHA-512's digest (as the service). */
#define ECDSA_INPUT_MAX 64

static const struct hash *
hash_by_id(int id)
{
	size_t i;

	for (i = 0; i < NHASHES; i++)
		if (hashes[i].id == id)
			return &hashes[i];
	return NULL;
}

static const struct mech *
mech_find(CK_MECHANISM_TYPE type)
{
	size_t i;

	for (i = 0; i < NMECHS; i++)
		if (mechs[i].type == type)
			return &mechs[i];
	return NULL;
}

CK_RV
p11_mech_list(CK_MECHANISM_TYPE *list, CK_ULONG *n)
{
	size_t i;

	if (list == NULL) {
		*n = NMECHS + NHASHES;
		return CKR_OK;
	}
	if (*n < NMECHS + NHASHES) {
		*n = NMECHS + NHASHES;
		return CKR_BUFFER_TOO_SMALL;
	}
	for (i = 0; i < NMECHS; i++)
		list[i] = mechs[i].type;
	for (i = 0; i < NHASHES; i++)
		list[NMECHS + i] = hashes[i].ck;
	*n = NMECHS + NHASHES;
	return CKR_OK;
}

const EVP_MD *
p11_digest_md(CK_MECHANISM_TYPE type)
{
	size_t i;

	for (i = 0; i < NHASHES; i++)
		if (hashes[i].ck == type)
			return EVP_get_digestbyname(hashes[i].name);
	return NULL;
}

CK_RV
p11_mech_info(CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
	const struct mech *m = mech_find(type);

	memset(info, 0, sizeof(*info));
	/* digests are made here, for clients that hash before a single-part signature */
	if (m == NULL && p11_digest_md(type) != NULL) {
		info->flags = CKF_DIGEST;
		return CKR_OK;
	}
	if (m == NULL)
		return CKR_MECHANISM_INVALID;
	info->flags = CKF_SIGN | CKF_VERIFY;
	if (m->key == CKK_RSA) {
		info->ulMinKeySize = 1024;
		info->ulMaxKeySize = 16384;
	} else {
		info->ulMinKeySize = 256;
		info->ulMaxKeySize = 521;
		info->flags |= CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
	}
	return CKR_OK;
}

/* CK_RSA_PKCS_PSS_PARAMS into the service's: hash, MGF1 hash, salt that fits the key. */
static CK_RV
pss_params(struct p11_op *op, const struct mech *m, const CK_MECHANISM *mech,
    const struct p11_cert *c)
{
	const CK_RSA_PKCS_PSS_PARAMS *pp = mech->pParameter;
	const struct hash *h = NULL, *g = NULL;
	size_t i, em = ((size_t)EVP_PKEY_get_bits(c->pub) + 6) / 8;

	if (pp == NULL || mech->ulParameterLen != sizeof(*pp))
		return CKR_MECHANISM_PARAM_INVALID;
	for (i = 0; i < NHASHES; i++) {
		if (hashes[i].ck == pp->hashAlg)
			h = &hashes[i];
		if (hashes[i].mgf == pp->mgf)
			g = &hashes[i];
	}
	/* the hash is the mechanism's own, if it has one */
	if (h == NULL || g == NULL || (m->hash != SSOVAULT_HASH_NONE && h->id != m->hash) ||
	    em < h->len + 2 || pp->sLen > em - h->len - 2)
		return CKR_MECHANISM_PARAM_INVALID;
	op->p.hash = h->id;
	op->p.mgf1 = g->id;
	op->p.salt = (uint32_t)pp->sLen;
	return CKR_OK;
}

CK_RV
p11_op_init(struct p11_op *op, const CK_MECHANISM *mech, const struct p11_cert *c)
{
	const struct mech *m = mech_find(mech->mechanism);
	CK_RV rv;

	if (m == NULL)
		return CKR_MECHANISM_INVALID;
	if (m->key != c->key_type)
		return CKR_KEY_TYPE_INCONSISTENT;
	memset(op, 0, sizeof(*op));
	op->mech = m->type;
	op->p.scheme = m->scheme;
	op->p.hash = m->hash;
	op->p.mgf1 = SSOVAULT_HASH_NONE;
	op->p.salt = SSOVAULT_SALT_DIGEST;
	if (m->pss_params) {
		if ((rv = pss_params(op, m, mech, c)) != CKR_OK)
			return rv;
	} else if (mech->ulParameterLen != 0) {
		return CKR_MECHANISM_PARAM_INVALID;
	}
	if (m->hash != SSOVAULT_HASH_NONE) {
		if ((op->md = EVP_get_digestbyname(hash_by_id(m->hash)->name)) == NULL ||
		    (op->mdctx = EVP_MD_CTX_new()) == NULL ||
		    !EVP_DigestInit_ex(op->mdctx, op->md, NULL)) {
			p11_op_end(op);
			return CKR_HOST_MEMORY;
		}
	}
	return CKR_OK;
}

void
p11_op_end(struct p11_op *op)
{
	EVP_MD_CTX_free(op->mdctx);
	OPENSSL_cleanse(op->raw, sizeof(op->raw));
	memset(op, 0, sizeof(*op));
}

CK_RV
p11_op_update(struct p11_op *op, const unsigned char *p, size_t len)
{
	if (op->mdctx != NULL)
		return EVP_DigestUpdate(op->mdctx, p, len) ? CKR_OK : CKR_FUNCTION_FAILED;
	if (len > sizeof(op->raw) - op->rawlen) {
		op->too_long = 1;
		return CKR_OK;
	}
	memcpy(op->raw + op->rawlen, p, len);
	op->rawlen += len;
	return CKR_OK;
}

CK_RV
p11_op_input(struct p11_op *op, const struct p11_cert *c, unsigned char *out,
    size_t *ret_len)
{
	const struct hash *h = hash_by_id(op->p.hash);
	unsigned int n = 0;
	size_t len = op->rawlen;

	if (op->mdctx != NULL) {
		if (!EVP_DigestFinal_ex(op->mdctx, out, &n))
			return CKR_FUNCTION_FAILED;
		*ret_len = n;
		return CKR_OK;
	}
	/* single-part: the length rules of the service, said in PKCS#11's words */
	if (op->too_long || len == 0 ||
	    (op->p.scheme == SSOVAULT_SIGN_RSA_PSS && (h == NULL || len != h->len)) ||
	    (op->p.scheme == SSOVAULT_SIGN_RSA_PKCS1 && len + 11 > c->sig_len) ||
	    (op->p.scheme == SSOVAULT_SIGN_ECDSA && len > ECDSA_INPUT_MAX))
		return CKR_DATA_LEN_RANGE;
	memcpy(out, op->raw, len);
	*ret_len = len;
	return CKR_OK;
}

CK_RV
p11_sig_to_p11(const struct p11_cert *c, const unsigned char *sig, size_t len,
    unsigned char *out, size_t *ret_len)
{
	const unsigned char *p = sig;
	const BIGNUM *r, *s;
	ECDSA_SIG *es;
	size_t half = c->sig_len / 2;
	int ok;

	if (c->key_type == CKK_RSA) {
		if (len != c->sig_len)
			return CKR_DEVICE_ERROR;
		memcpy(out, sig, len);
		*ret_len = len;
		return CKR_OK;
	}
	if ((es = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return CKR_DEVICE_ERROR;
	ECDSA_SIG_get0(es, &r, &s);
	ok = BN_bn2binpad(r, out, (int)half) == (int)half &&
	    BN_bn2binpad(s, out + half, (int)half) == (int)half;
	ECDSA_SIG_free(es);
	*ret_len = c->sig_len;
	return ok ? CKR_OK : CKR_DEVICE_ERROR;
}

/* r | s as DER, for OpenSSL's ECDSA verification. */
static unsigned char *
ecdsa_der(const struct p11_cert *c, const unsigned char *sig, size_t *ret_len)
{
	size_t half = c->sig_len / 2;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)half, NULL), *s = BN_bin2bn(sig + half, (int)half, NULL);
	unsigned char *der = NULL;
	int n = -1;

	if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s)) {
		r = s = NULL;
		n = i2d_ECDSA_SIG(es, &der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return NULL;
	*ret_len = (size_t)n;
	return der;
}

CK_RV
p11_op_verify(struct p11_op *op, const struct p11_cert *c, const unsigned char *sig,
    size_t siglen)
{
	unsigned char in[P11_RAW_MAX > EVP_MAX_MD_SIZE ? P11_RAW_MAX : EVP_MAX_MD_SIZE];
	unsigned char *der = NULL;
	const struct hash *h = hash_by_id(op->p.hash), *g = hash_by_id(op->p.mgf1);
	EVP_PKEY_CTX *ctx = NULL;
	size_t inlen, dlen = siglen;
	CK_RV rv;
	int ok = 0;

	if ((rv = p11_op_input(op, c, in, &inlen)) != CKR_OK)
		return rv;
	if (siglen != c->sig_len)
		return CKR_SIGNATURE_LEN_RANGE;
	if (c->key_type == CKK_EC && (der = ecdsa_der(c, sig, &dlen)) == NULL)
		return CKR_HOST_MEMORY;
	if ((ctx = EVP_PKEY_CTX_new(c->pub, NULL)) != NULL && EVP_PKEY_verify_init(ctx) > 0 &&
	    (h == NULL || EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(h->name)) > 0)) {
		if (op->p.scheme == SSOVAULT_SIGN_RSA_PKCS1)
			ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
		else if (op->p.scheme == SSOVAULT_SIGN_RSA_PSS)
			ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
			    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, op->p.salt == SSOVAULT_SALT_DIGEST ?
			    RSA_PSS_SALTLEN_DIGEST : (int)op->p.salt) > 0 &&
			    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_get_digestbyname((g != NULL ?
			    g : h)->name)) > 0;
		else
			ok = 1;
		ok = ok && EVP_PKEY_verify(ctx, der != NULL ? der : sig, dlen, in, inlen) == 1;
	}
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_free(der);
	ERR_clear_error();
	return ok ? CKR_OK : CKR_SIGNATURE_INVALID;
}

CK_RV
p11_rv(int err)
{
	switch (err) {
	case 0:
		return CKR_OK;
	case SV_ERR_NOMEM:
		return CKR_HOST_MEMORY;
	case SV_ERR_UNREACHABLE:
	case SV_ERR_PROTOCOL:
		return CKR_DEVICE_REMOVED;
	case SV_ERR_DENIED:
	case SV_ERR_CERT_EXPIRED:
	case SV_ERR_CERT_NOT_YET_VALID:
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	case SV_ERR_NOT_FOUND:
		return CKR_KEY_HANDLE_INVALID;
	case SV_ERR_INVALID:
	case SV_ERR_TOO_LARGE:
		return CKR_DATA_LEN_RANGE;
	case SV_ERR_LOCKED:
	case SV_ERR_AUDIT:
		return CKR_DEVICE_ERROR;
	default:
		return CKR_FUNCTION_FAILED;
	}
}
