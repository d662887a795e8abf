/*
 * fuzz-sign: `cert sign` (docs/protocol.md), the request a cert user sends
 * the daemon for every TLS handshake and every PKCS#11 C_Sign, with any
 * parameters and input.
 *
 * Input: u8 mode | u8 scheme | u8 hash | u8 kind | u8 mgf1 | u32 salt | rest.
 *   mode & 1 == 0  through the dispatch with the vault's EC certificate, as
 *                  its user (the admin) or, with mode & 2, as a stranger:
 *                  `cert sign` with those fields and rest as the input; then
 *                  `cert usable` with rest as the thumbprint
 *   mode & 1 == 1  vault_cert_sign() with an RSA key made at start-up
 * Checks: a stranger is always denied; a signature the service makes
 * verifies with the certificate's public key alone, under the parameters
 * asked for (so no request gets a signature of anything else, and no raw
 * RSA); a refusal is an INVALID or TOO_LARGE with a one-line message and
 * appends nothing; `cert usable` answers a well-formed list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "vault/cert.h"
#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vault_cert *rsa;
static EVP_PKEY *rsa_pub, *ec_pub;
static struct svbuf *reply, *sig;

static const char *const md_names[] = { NULL, "SHA1", "SHA224", "SHA256", "SHA384", "SHA512" };

/* An RSA-1024 key and certificate (small: the fuzzer signs with it often). */
static void
make_rsa(void)
{
	EVP_PKEY *pk = EVP_RSA_gen(1024);
	X509 *x = X509_new();
	BIO *bc = BIO_new(BIO_s_mem()), *bk = BIO_new(BIO_s_mem());
	char msg[SV_MSG_MAX], *c, *k;
	long nc, nk;

	if (pk == NULL || x == NULL || bc == NULL || bk == NULL ||
	    X509_set_version(x, 2) != 1 || ASN1_INTEGER_set(X509_get_serialNumber(x), 7) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"fuzz rsa", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
	    X509_set_pubkey(x, pk) != 1 || X509_sign(x, pk, EVP_sha256()) == 0 ||
	    PEM_write_bio_X509(bc, x) != 1 ||
	    PEM_write_bio_PrivateKey(bk, pk, NULL, NULL, 0, NULL, NULL) != 1)
		fuzz_die("OpenSSL cannot make an RSA certificate");
	nc = BIO_get_mem_data(bc, &c);
	nk = BIO_get_mem_data(bk, &k);
	if (vault_cert_parse(c, (size_t)nc, NULL, k, (size_t)nk, &rsa, msg) != 0)
		fuzz_die("cannot parse the RSA certificate: %s", msg);
	rsa_pub = X509_get_pubkey(x);
	BIO_free(bc);
	BIO_free(bk);
	X509_free(x);
	EVP_PKEY_free(pk);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	BIO *b;
	X509 *x;

	fuzz_init();
	make_rsa();
	if ((b = BIO_new_mem_buf(fuzz.cert_pem, -1)) == NULL ||
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
	    (ec_pub = X509_get_pubkey(x)) == NULL)
		fuzz_die("the vault's certificate does not parse");
	X509_free(x);
	BIO_free(b);
	if ((reply = svbuf_new_secure(0)) == NULL || (sig = svbuf_new(0)) == NULL)
		fuzz_die("out of memory");
	return 0;
}

/* The digest the request signs: in itself, or its hash with data. */
static int
digest_of(const struct vault_sign_req *p, const uint8_t *in, size_t len, uint8_t *out,
    size_t *ret_len)
{
	unsigned int n = 0;

	if (!p->data) {
		if (len > EVP_MAX_MD_SIZE * 8)
			return 0;
		memcpy(out, in, len);
		*ret_len = len;
		return 1;
	}
	if (!EVP_Digest(in, len, out, &n, EVP_get_digestbyname(md_names[p->hash]), NULL))
		return 0;
	*ret_len = n;
	return 1;
}

/* 1 if sig is pub's signature of the request's input under its parameters. */
static int
verifies(EVP_PKEY *pub, const struct vault_sign_req *p, const uint8_t *in, size_t len,
    const uint8_t *s, size_t slen)
{
	uint8_t dg[EVP_MAX_MD_SIZE * 8];
	size_t dlen = 0;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	const EVP_MD *md = p->hash != 0 ? EVP_get_digestbyname(md_names[p->hash]) : NULL;
	int ok = ctx != NULL && digest_of(p, in, len, dg, &dlen) && EVP_PKEY_verify_init(ctx) > 0 &&
	    (md == NULL || EVP_PKEY_CTX_set_signature_md(ctx, md) > 0);

	if (ok && p->scheme == VAULT_SIGN_RSA_PKCS1)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
	if (ok && p->scheme == VAULT_SIGN_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, p->salt == VAULT_SIGN_SALT_DIGEST ?
		    RSA_PSS_SALTLEN_DIGEST : (int)p->salt) > 0 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_get_digestbyname(md_names[p->mgf1 != 0 ?
		    p->mgf1 : p->hash])) > 0;
	ok = ok && EVP_PKEY_verify(ctx, s, slen, dg, dlen) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

static void
through_dispatch(uint8_t mode, const struct vault_sign_req *p, const uint8_t *in, size_t len)
{
	const struct sso_caller *who = (mode & 2) ? &fuzz.stranger : NULL;
	struct svbuf *q = fuzz_req(SSO_OP_CERT_SIGN);
	const uint8_t *s;
	size_t slen, i;
	uint32_t n;
	char *thumb;
	int st;

	fuzz_put_cstr(q, fuzz.sha1);
	fuzz_put_u8(q, (uint8_t)p->scheme);
	fuzz_put_u8(q, (uint8_t)p->hash);
	fuzz_put_u8(q, (uint8_t)p->data);
	fuzz_put_u8(q, (uint8_t)p->mgf1);
	fuzz_put_u32(q, p->salt);
	fuzz_put_str(q, in, len);
	st = fuzz_dispatch(who, svbuf_ptr(q), svbuf_len(q), reply);
	svbuf_free(q);
	if (who != NULL)
		FUZZ_CHECK(st == SV_ERR_DENIED, "a stranger's signature: status %d", st);
	if (st == 0) {
		FUZZ_CHECK(fuzz_reply_payload(reply) == 0 &&
		    svbuf_get_string_direct(reply, &s, &slen) == 0 && svbuf_len(reply) == 0,
		    "malformed signature reply");
		FUZZ_CHECK(verifies(ec_pub, p, in, len, s, slen),
		    "the service signed something other than what was asked");
	} else if (who == NULL) {
		FUZZ_CHECK(st == SV_ERR_INVALID || st == SV_ERR_TOO_LARGE || st == SV_ERR_TRUNCATED,
		    "a cert user's signature refused with status %d", st);
	}
	fuzz_input_done();

	/* the same bytes as a thumbprint for cert usable */
	if ((thumb = strndup((const char *)in, len)) == NULL)
		return;
	q = fuzz_req(SSO_OP_CERT_USABLE);
	fuzz_put_cstr(q, len > 0 && in[0] == '!' ? fuzz.sha1 : thumb);
	st = fuzz_dispatch(who, svbuf_ptr(q), svbuf_len(q), reply);
	svbuf_free(q);
	free(thumb);
	if (st == 0) {
		FUZZ_CHECK(fuzz_reply_payload(reply) == 0 && svbuf_get_u32(reply, &n) == 0,
		    "malformed usable reply");
		for (i = 0; i < n; i++) {
			uint64_t nb, na;
			uint8_t e;

			FUZZ_CHECK(svbuf_get_string_direct(reply, &s, &slen) == 0 && slen == 40 &&
			    svbuf_get_u8(reply, &e) == 0 && e <= 1 && svbuf_get_u64(reply, &nb) == 0 &&
			    svbuf_get_u64(reply, &na) == 0 && svbuf_get_string_direct(reply, &s, &slen) == 0,
			    "malformed usable entry");
		}
		FUZZ_CHECK(svbuf_len(reply) == 0 && (who == NULL || n == 0),
		    "usable: trailing bytes, or a stranger sees a certificate");
	}
	fuzz_input_done();
}

static void
direct(const struct vault_sign_req *p, const uint8_t *in, size_t len)
{
	char msg[SV_MSG_MAX] = "";
	int r;

	svbuf_reset(sig);
	r = vault_cert_sign(rsa, p, in, len, sig, msg);
	if (r == 0) {
		FUZZ_CHECK(verifies(rsa_pub, p, in, len, svbuf_ptr(sig), svbuf_len(sig)),
		    "vault_cert_sign() signed something other than what was asked");
		return;
	}
	FUZZ_CHECK(r == SV_ERR_INVALID || r == SV_ERR_TOO_LARGE, "vault_cert_sign(): %d", r);
	FUZZ_CHECK(svbuf_len(sig) == 0, "a refusal appended %zu bytes", svbuf_len(sig));
	fuzz_msg_check("vault_cert_sign", r, msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vault_sign_req p;
	uint8_t mode;

	if (size < 9)
		return 0;
	mode = data[0];
	p.scheme = data[1];
	p.hash = data[2];
	p.data = data[3];
	p.mgf1 = data[4];
	p.salt = (uint32_t)data[5] << 24 | (uint32_t)data[6] << 16 | (uint32_t)data[7] << 8 | data[8];
	if (mode & 1) {
		if (p.data > 1)
			return 0;
		direct(&p, data + 9, size - 9);
	} else {
		through_dispatch(mode, &p, data + 9, size - 9);
	}
	return 0;
}
