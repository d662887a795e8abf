/*
 * crypto.c: the operations of a session, C_Sign*, C_Verify* and C_Digest*.
 * A signature's input is made here (hashed, or checked for length) and
 * the daemon signs it with the caller's identity; verifying and digesting
 * are done here, with the certificate's public key and OpenSSL.
 */
#include <stdlib.h>
#include <string.h>

#include "p11.h"

/* --- signing and verifying -------------------------------------------------- */

/* Start op with key o, which must be of kind want (or, to verify, any key or certificate). */
static CK_RV
op_start(struct p11_session *s, struct p11_op *op, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE o,
    int signing)
{
	struct p11_slot *sl = &p11_slots[s->slot];
	struct p11_cert *c;
	enum p11_kind k;
	CK_RV rv;

	if (op->active)
		return CKR_OPERATION_ACTIVE;
	if (mech == NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&sl->lock);
	if ((c = p11_object_of(sl, o, &k)) == NULL || (signing && k != P11_PRIVATE))
		rv = CKR_KEY_HANDLE_INVALID;
	else if ((rv = p11_op_init(op, mech, c)) == CKR_OK) {
		op->cert = (size_t)((o - 1) / 4);
		op->active = 1;
	}
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

/* The certificate of a running operation (the registry never shrinks). */
static struct p11_cert *
op_cert(struct p11_session *s, const struct p11_op *op)
{
	struct p11_cert *c;

	pthread_mutex_lock(&p11_slots[s->slot].lock);
	c = p11_slots[s->slot].certs[op->cert];
	pthread_mutex_unlock(&p11_slots[s->slot].lock);
	return c;
}

/*
 * Finish a signature: the length asked for (the operation goes on), a
 * buffer too small (it goes on), or the service's signature (it ends).
 */
static CK_RV
sign_finish(struct p11_session *s, CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	struct p11_cert *c = op_cert(s, &s->sign);
	unsigned char in[P11_RAW_MAX > EVP_MAX_MD_SIZE ? P11_RAW_MAX : EVP_MAX_MD_SIZE];
	uint8_t *out = NULL;
	size_t inlen, outlen = 0, n;
	CK_RV rv;

	if (siglen == NULL) {
		p11_op_end(&s->sign);
		return CKR_ARGUMENTS_BAD;
	}
	if (sig == NULL || *siglen < c->sig_len) {
		rv = sig == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
		*siglen = c->sig_len;
		return rv;
	}
	if ((rv = p11_op_input(&s->sign, c, in, &inlen)) == CKR_OK &&
	    (rv = p11_rv(ssovault_cert_sign(s->h, c->sha1, &s->sign.p, in, inlen, &out,
	    &outlen))) == CKR_OK &&
	    (rv = p11_sig_to_p11(c, out, outlen, sig, &n)) == CKR_OK)
		*siglen = n;
	free(out);
	OPENSSL_cleanse(in, sizeof(in));
	p11_op_end(&s->sign);
	return rv;
}

/* C_SignInit and C_VerifyInit: start the session's signing (or verifying) operation. */
static CK_RV
op_init_call(CK_SESSION_HANDLE hs, int signing, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	rv = op_start(s, signing ? &s->sign : &s->verify, mech, key, signing);
	p11_session_put(s);
	return rv;
}

/* C_SignUpdate and C_VerifyUpdate: a part of the input; an error ends the operation. */
static CK_RV
op_update_call(CK_SESSION_HANDLE hs, int signing, CK_BYTE_PTR part, CK_ULONG len)
{
	struct p11_session *s;
	struct p11_op *op;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	op = signing ? &s->sign : &s->verify;
	if (!op->active)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (part == NULL && len > 0)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = p11_op_update(op, part, len);
	if (rv != CKR_OK && rv != CKR_OPERATION_NOT_INITIALIZED)
		p11_op_end(op);
	p11_session_put(s);
	return rv;
}

CK_RV
C_SignInit(CK_SESSION_HANDLE hs, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
	return op_init_call(hs, 1, mech, key);
}

CK_RV
C_Sign(CK_SESSION_HANDLE hs, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
    CK_ULONG_PTR siglen)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	if (!s->sign.active)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (data == NULL && len > 0)
		rv = CKR_ARGUMENTS_BAD;
	/* a length query must not take the data: it comes again with the buffer */
	else if (sig == NULL || siglen == NULL || *siglen < op_cert(s, &s->sign)->sig_len)
		rv = sign_finish(s, sig, siglen);
	else if ((rv = p11_op_update(&s->sign, data, len)) == CKR_OK)
		rv = sign_finish(s, sig, siglen);
	else
		p11_op_end(&s->sign);
	p11_session_put(s);
	return rv;
}

CK_RV
C_SignUpdate(CK_SESSION_HANDLE hs, CK_BYTE_PTR part, CK_ULONG len)
{
	return op_update_call(hs, 1, part, len);
}

CK_RV
C_SignFinal(CK_SESSION_HANDLE hs, CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	rv = s->sign.active ? sign_finish(s, sig, siglen) : CKR_OPERATION_NOT_INITIALIZED;
	p11_session_put(s);
	return rv;
}

CK_RV
C_VerifyInit(CK_SESSION_HANDLE hs, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
	return op_init_call(hs, 0, mech, key);
}

static CK_RV
verify_finish(struct p11_session *s, CK_BYTE_PTR sig, CK_ULONG siglen)
{
	CK_RV rv = sig == NULL ? CKR_ARGUMENTS_BAD :
	    p11_op_verify(&s->verify, op_cert(s, &s->verify), sig, siglen);

	p11_op_end(&s->verify);
	return rv;
}

CK_RV
C_Verify(CK_SESSION_HANDLE hs, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
    CK_ULONG siglen)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	if (!s->verify.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
	} else if (data == NULL && len > 0) {
		p11_op_end(&s->verify);
		rv = CKR_ARGUMENTS_BAD;
	} else if ((rv = p11_op_update(&s->verify, data, len)) != CKR_OK) {
		p11_op_end(&s->verify);
	} else {
		rv = verify_finish(s, sig, siglen);
	}
	p11_session_put(s);
	return rv;
}

CK_RV
C_VerifyUpdate(CK_SESSION_HANDLE hs, CK_BYTE_PTR part, CK_ULONG len)
{
	return op_update_call(hs, 0, part, len);
}

CK_RV
C_VerifyFinal(CK_SESSION_HANDLE hs, CK_BYTE_PTR sig, CK_ULONG siglen)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	rv = s->verify.active ? verify_finish(s, sig, siglen) : CKR_OPERATION_NOT_INITIALIZED;
	p11_session_put(s);
	return rv;
}

/* --- digests (made here; some clients hash on the token before they sign) --- */

CK_RV
C_DigestInit(CK_SESSION_HANDLE hs, CK_MECHANISM_PTR mech)
{
	const EVP_MD *md;
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	if (mech == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else if (s->digest != NULL)
		rv = CKR_OPERATION_ACTIVE;
	else if ((md = p11_digest_md(mech->mechanism)) == NULL)
		rv = CKR_MECHANISM_INVALID;
	else if (mech->ulParameterLen != 0)
		rv = CKR_MECHANISM_PARAM_INVALID;
	else if ((s->digest = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(s->digest, md, NULL)) {
		EVP_MD_CTX_free(s->digest);
		s->digest = NULL;
		rv = CKR_HOST_MEMORY;
	}
	p11_session_put(s);
	return rv;
}

static void
digest_end(struct p11_session *s)
{
	EVP_MD_CTX_free(s->digest);
	s->digest = NULL;
}

/* The digest into out: a length query or a buffer too small leaves the operation on. */
static CK_RV
digest_finish(struct p11_session *s, CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	unsigned int n = 0;
	size_t want = (size_t)EVP_MD_CTX_get_size(s->digest);

	if (outlen == NULL) {
		digest_end(s);
		return CKR_ARGUMENTS_BAD;
	}
	if (out == NULL || *outlen < want) {
		*outlen = want;
		return out == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
	}
	if (!EVP_DigestFinal_ex(s->digest, out, &n)) {
		digest_end(s);
		return CKR_FUNCTION_FAILED;
	}
	*outlen = n;
	digest_end(s);
	return CKR_OK;
}

CK_RV
C_Digest(CK_SESSION_HANDLE hs, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR out,
    CK_ULONG_PTR outlen)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	if (s->digest == NULL)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if ((data == NULL && len > 0) || outlen == NULL) {
		digest_end(s);
		rv = CKR_ARGUMENTS_BAD;
	} else if (out == NULL || *outlen < (CK_ULONG)EVP_MD_CTX_get_size(s->digest))
		rv = digest_finish(s, out, outlen);
	else if (!EVP_DigestUpdate(s->digest, data, len)) {
		digest_end(s);
		rv = CKR_FUNCTION_FAILED;
	} else
		rv = digest_finish(s, out, outlen);
	p11_session_put(s);
	return rv;
}

CK_RV
C_DigestUpdate(CK_SESSION_HANDLE hs, CK_BYTE_PTR part, CK_ULONG len)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	if (s->digest == NULL)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if ((part == NULL && len > 0) || !EVP_DigestUpdate(s->digest, part, len)) {
		digest_end(s);
		rv = part == NULL ? CKR_ARGUMENTS_BAD : CKR_FUNCTION_FAILED;
	}
	p11_session_put(s);
	return rv;
}

CK_RV
C_DigestFinal(CK_SESSION_HANDLE hs, CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	rv = s->digest != NULL ? digest_finish(s, out, outlen) : CKR_OPERATION_NOT_INITIALIZED;
	p11_session_put(s);
	return rv;
}
