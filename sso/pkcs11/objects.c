/*
 * objects.c: a certificate the caller may use, as the three PKCS#11
 * objects it shows: the certificate (CKO_CERTIFICATE, X.509), its private
 * key (CKO_PRIVATE_KEY: signs, never extracted, every secret attribute
 * sensitive) and its public key (CKO_PUBLIC_KEY, for clients that verify or
 * look the key up by its numbers).  All three share CKA_ID, the 20 bytes of
 * the SHA-1 thumbprint, and CKA_LABEL, the subject's common name.  The
 * attributes are made once from the certificate, with OpenSSL; nothing
 * here holds a secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "p11.h"

static int
add(struct p11_object *o, CK_ATTRIBUTE_TYPE t, const void *v, size_t len)
{
	struct p11_attr *a;

	if (o->nattrs == P11_ATTRS_MAX)
		return 0;
	a = &o->attrs[o->nattrs];
	a->type = t;
	a->len = len;
	if (v == NULL) {
		a->val = NULL;		/* sensitive: exists, never shown */
	} else if ((a->val = malloc(len > 0 ? len : 1)) == NULL) {
		return 0;
	} else {
		memcpy(a->val, v, len);
	}
	o->nattrs++;
	return 1;
}

static int
add_ulong(struct p11_object *o, CK_ATTRIBUTE_TYPE t, CK_ULONG v)
{
	return add(o, t, &v, sizeof(v));
}

static int
add_bool(struct p11_object *o, CK_ATTRIBUTE_TYPE t, int v)
{
	CK_BBOOL b = v ? CK_TRUE : CK_FALSE;

	return add(o, t, &b, sizeof(b));
}

/* A DER encoding by an i2d function, added as t. */
static int
add_der(struct p11_object *o, CK_ATTRIBUTE_TYPE t, int n, unsigned char *der)
{
	int ok = n > 0 && add(o, t, der, (size_t)n);

	OPENSSL_free(der);
	return ok;
}

static int
add_bn(struct p11_object *o, CK_ATTRIBUTE_TYPE t, EVP_PKEY *pk, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char buf[2048];
	int n, ok = 0;

	if (EVP_PKEY_get_bn_param(pk, name, &bn) && (n = BN_num_bytes(bn)) <= (int)sizeof(buf))
		ok = add(o, t, buf, (size_t)BN_bn2bin(bn, buf));
	BN_free(bn);
	return ok;
}

/* What every object of the certificate has: class, id, label, flags. */
static int
add_common(struct p11_object *o, CK_OBJECT_CLASS cls, const unsigned char id[20],
    const char *label)
{
	return add_ulong(o, CKA_CLASS, cls) && add(o, CKA_ID, id, 20) &&
	    add(o, CKA_LABEL, label, strlen(label)) && add_bool(o, CKA_TOKEN, 1) &&
	    add_bool(o, CKA_PRIVATE, 0) && add_bool(o, CKA_MODIFIABLE, 0) &&
	    add_bool(o, CKA_COPYABLE, 0) && add_bool(o, CKA_DESTROYABLE, 0);
}

/*
 * The public numbers of a key object: RSA modulus and exponent, or the EC
 * curve and point.  The EC ones are read from the certificate's encoding,
 * not the key: a program may have made an engine the default for EC keys
 * (curl --engine does), and then the key's parameters may not be asked.
 */
static int
add_numbers(struct p11_object *o, struct p11_cert *c, X509 *x)
{
	const unsigned char *pt;
	unsigned char *der = NULL;
	const X509_ALGOR *alg;
	const void *pval;
	ASN1_OCTET_STRING *os = NULL;
	int ptlen, ptype, n, ok;

	if (c->key_type == CKK_RSA)
		return add_bn(o, CKA_MODULUS, c->pub, OSSL_PKEY_PARAM_RSA_N) &&
		    add_bn(o, CKA_PUBLIC_EXPONENT, c->pub, OSSL_PKEY_PARAM_RSA_E);
	if (!X509_PUBKEY_get0_param(NULL, &pt, &ptlen, (X509_ALGOR **)&alg,
	    X509_get_X509_PUBKEY(x)) || alg == NULL)
		return 0;
	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	if (ptype != V_ASN1_OBJECT ||
	    (n = i2d_ASN1_OBJECT(pval, &der), !add_der(o, CKA_EC_PARAMS, n, der)) ||
	    (os = ASN1_OCTET_STRING_new()) == NULL || !ASN1_OCTET_STRING_set(os, pt, ptlen)) {
		ASN1_OCTET_STRING_free(os);
		return 0;
	}
	der = NULL;
	n = i2d_ASN1_OCTET_STRING(os, &der);
	ok = add_der(o, CKA_EC_POINT, n, der);
	ASN1_OCTET_STRING_free(os);
	return ok;
}

static int
cert_object(struct p11_object *o, X509 *x, const unsigned char id[20], const char *label)
{
	unsigned char *der = NULL;
	int n;

	return add_common(o, CKO_CERTIFICATE, id, label) &&
	    add_ulong(o, CKA_CERTIFICATE_TYPE, CKC_X_509) && add_bool(o, CKA_TRUSTED, 0) &&
	    add_ulong(o, CKA_CERTIFICATE_CATEGORY, 1) &&	/* token user */
	    add(o, CKA_CHECK_VALUE, id, 3) &&		/* SHA-1 of the value, first 3 bytes */
	    (n = i2d_X509(x, &der), add_der(o, CKA_VALUE, n, der)) &&
	    (der = NULL, n = i2d_X509_NAME(X509_get_subject_name(x), &der),
	    add_der(o, CKA_SUBJECT, n, der)) &&
	    (der = NULL, n = i2d_X509_NAME(X509_get_issuer_name(x), &der),
	    add_der(o, CKA_ISSUER, n, der)) &&
	    (der = NULL, n = i2d_ASN1_INTEGER((ASN1_INTEGER *)X509_get0_serialNumber(x), &der),
	    add_der(o, CKA_SERIAL_NUMBER, n, der));
}

static int
subject_of(struct p11_object *o, X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509_NAME(X509_get_subject_name(x), &der);

	return add_der(o, CKA_SUBJECT, n, der);
}

static int
private_object(struct p11_object *o, struct p11_cert *c, X509 *x,
    const unsigned char id[20], const char *label)
{
	static const CK_ATTRIBUTE_TYPE rsa_secret[] = { CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
	    CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT };
	size_t i;

	if (!add_common(o, CKO_PRIVATE_KEY, id, label) || !subject_of(o, x) ||
	    !add_ulong(o, CKA_KEY_TYPE, c->key_type) || !add_bool(o, CKA_SENSITIVE, 1) ||
	    !add_bool(o, CKA_EXTRACTABLE, 0) || !add_bool(o, CKA_ALWAYS_SENSITIVE, 0) ||
	    !add_bool(o, CKA_NEVER_EXTRACTABLE, !c->exportable) ||
	    !add_bool(o, CKA_SIGN, 1) || !add_bool(o, CKA_SIGN_RECOVER, 0) ||
	    !add_bool(o, CKA_DECRYPT, 0) || !add_bool(o, CKA_UNWRAP, 0) ||
	    !add_bool(o, CKA_DERIVE, 0) || !add_bool(o, CKA_LOCAL, 0) ||
	    !add_bool(o, CKA_ALWAYS_AUTHENTICATE, 0) || !add_bool(o, CKA_WRAP_WITH_TRUSTED, 0) ||
	    !add_numbers(o, c, x))
		return 0;
	if (c->key_type == CKK_EC)
		return add(o, CKA_VALUE, NULL, 0);
	for (i = 0; i < sizeof(rsa_secret) / sizeof(rsa_secret[0]); i++)
		if (!add(o, rsa_secret[i], NULL, 0))
			return 0;
	return 1;
}

static int
public_object(struct p11_object *o, struct p11_cert *c, X509 *x,
    const unsigned char id[20], const char *label)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(c->pub, &der);

	return add_common(o, CKO_PUBLIC_KEY, id, label) && subject_of(o, x) &&
	    add_ulong(o, CKA_KEY_TYPE, c->key_type) && add_bool(o, CKA_VERIFY, 1) &&
	    add_bool(o, CKA_VERIFY_RECOVER, 0) && add_bool(o, CKA_ENCRYPT, 0) &&
	    add_bool(o, CKA_WRAP, 0) && add_bool(o, CKA_DERIVE, 0) &&
	    add_bool(o, CKA_LOCAL, 0) && add_bool(o, CKA_TRUSTED, 0) &&
	    add_der(o, CKA_PUBLIC_KEY_INFO, n, der) &&
	    (c->key_type != CKK_RSA ||
	    add_ulong(o, CKA_MODULUS_BITS, (CK_ULONG)EVP_PKEY_get_bits(c->pub))) &&
	    add_numbers(o, c, x);
}

/* The subject's common name, else the thumbprint. */
static void
label_of(X509 *x, const char *sha1, char *out, size_t outlen)
{
	const X509_NAME *name = X509_get_subject_name(x);
	unsigned char *utf8 = NULL;
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1), n = -1;

	if (i >= 0)
		n = ASN1_STRING_to_UTF8(&utf8,
		    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n > 0 && memchr(utf8, '\0', (size_t)n) == NULL)
		snprintf(out, outlen, "%.*s", n, (const char *)utf8);
	else
		snprintf(out, outlen, "%s", sha1);
	OPENSSL_free(utf8);
}

static int
id_of(const char *sha1, unsigned char id[20])
{
	long v;
	char two[3] = "";
	char *end;
	int i;

	for (i = 0; i < 20; i++) {
		memcpy(two, sha1 + 2 * i, 2);
		v = strtol(two, &end, 16);
		if (*end != '\0')
			return 0;
		id[i] = (unsigned char)v;
	}
	return 1;
}

struct p11_cert *
p11_cert_new(const struct ssovault_cert_info *info)
{
	struct p11_cert *c = calloc(1, sizeof(*c));
	unsigned char id[20];
	char label[256];
	BIO *bio = NULL;
	X509 *x = NULL;
	int ok = 0;

	if (c == NULL || !id_of(info->sha1, id) ||
	    (bio = BIO_new_mem_buf(info->chain_pem, (int)info->chain_len)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
	    (c->pub = X509_get_pubkey(x)) == NULL)
		goto out;
	memcpy(c->sha1, info->sha1, sizeof(c->sha1));
	c->exportable = info->exportable;
	if (EVP_PKEY_is_a(c->pub, "RSA")) {
		c->key_type = CKK_RSA;
		c->sig_len = (size_t)EVP_PKEY_get_size(c->pub);
	} else if (EVP_PKEY_is_a(c->pub, "EC")) {
		c->key_type = CKK_EC;
		c->sig_len = 2 * (((size_t)EVP_PKEY_get_bits(c->pub) + 7) / 8);
	} else {
		goto out;
	}
	label_of(x, c->sha1, label, sizeof(label));
	ok = cert_object(&c->obj[P11_CERT], x, id, label) &&
	    private_object(&c->obj[P11_PRIVATE], c, x, id, label) &&
	    public_object(&c->obj[P11_PUBLIC], c, x, id, label);
out:
	ERR_clear_error();
	X509_free(x);
	BIO_free(bio);
	if (!ok) {
		p11_cert_free(c);
		return NULL;
	}
	return c;
}

void
p11_cert_free(struct p11_cert *c)
{
	size_t i, k;

	if (c == NULL)
		return;
	for (k = 0; k < 3; k++)
		for (i = 0; i < c->obj[k].nattrs; i++)
			free(c->obj[k].attrs[i].val);
	EVP_PKEY_free(c->pub);
	free(c);
}

const struct p11_attr *
p11_attr_find(const struct p11_object *o, CK_ATTRIBUTE_TYPE t)
{
	size_t i;

	for (i = 0; i < o->nattrs; i++)
		if (o->attrs[i].type == t)
			return &o->attrs[i];
	return NULL;
}

int
p11_object_matches(const struct p11_object *o, const CK_ATTRIBUTE *templ, CK_ULONG n)
{
	const struct p11_attr *a;
	CK_ULONG i;

	for (i = 0; i < n; i++) {
		a = p11_attr_find(o, templ[i].type);
		if (a == NULL || a->val == NULL || a->len != templ[i].ulValueLen ||
		    (a->len > 0 && (templ[i].pValue == NULL ||
		    memcmp(a->val, templ[i].pValue, a->len) != 0)))
			return 0;
	}
	return 1;
}

/* PKCS#11 2.40, C_GetAttributeValue: every attribute is answered; the worst case is returned. */
CK_RV
p11_object_get(const struct p11_object *o, CK_ATTRIBUTE *templ, CK_ULONG n)
{
	const struct p11_attr *a;
	CK_RV rv = CKR_OK;
	CK_ULONG i;

	for (i = 0; i < n; i++) {
		a = p11_attr_find(o, templ[i].type);
		if (a == NULL) {
			templ[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
		} else if (a->val == NULL) {
			templ[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			if (rv == CKR_OK)
				rv = CKR_ATTRIBUTE_SENSITIVE;
		} else if (templ[i].pValue == NULL) {
			templ[i].ulValueLen = a->len;
		} else if (templ[i].ulValueLen < a->len) {
			templ[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			if (rv == CKR_OK)
				rv = CKR_BUFFER_TOO_SMALL;
		} else {
			memcpy(templ[i].pValue, a->val, a->len);
			templ[i].ulValueLen = a->len;
		}
	}
	return rv;
}
