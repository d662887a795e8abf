/*
 * Unit tests of signing with a stored key (vault/sign.c): every scheme and
 * hash, on digests and on data, checked by OpenSSL against the
 * certificate's public key alone (another path than the one that signed);
 * a DigestInfo signed without a hash verifies as PKCS#1 v1.5 of its digest;
 * a table of requests that must fail, each with its error and message and
 * nothing appended; the names of algorithms both ways.  The keys come from
 * tests/pki.sh, made afresh for the run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "vault/cert.h"
#include "base/svbuf.h"
#include "tap.h"
#include "tap-files.h"

#ifndef SOURCE_ROOT
#error "SOURCE_ROOT must name the source tree (meson: -DSOURCE_ROOT=\"...\")"
#endif

static char pkidir[] = "/tmp/ssovault-test-sign-XXXXXX";
static struct vault_cert *rsa, *ec;
static EVP_PKEY *rsa_pub, *ec_pub;

static const char *const hash_names[] = { "", "sha1", "sha224", "sha256", "sha384", "sha512" };

static void
remove_pki(void)
{
	char *rm[] = { "rm", "-rf", pkidir, NULL };

	(void)tap_run(rm);
}

static struct vault_cert *
load_cert(const char *pem, const char *key, EVP_PKEY **ret_pub)
{
	struct blob c = tap_slurp(pkidir, pem), k = tap_slurp(pkidir, key);
	struct vault_cert *vc = NULL;
	char msg[SV_MSG_MAX];
	BIO *bio;
	X509 *x;

	if (vault_cert_parse(c.p, c.len, NULL, k.p, k.len, &vc, msg) != 0)
		bail(msg);
	if ((bio = BIO_new_mem_buf(c.p, (int)c.len)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
	    (*ret_pub = X509_get_pubkey(x)) == NULL)
		bail("certificate");
	X509_free(x);
	BIO_free(bio);
	blob_free(&c);
	blob_free(&k);
	return vc;
}

/* Verify sig over digest with the public key only, as a relying party would. */
static int
verify(EVP_PKEY *pub, const struct vault_sign_req *p, const uint8_t *dg, size_t dlen,
    const uint8_t *sig, size_t siglen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	const EVP_MD *md = p->hash != VAULT_HASH_NONE ?
	    EVP_get_digestbyname(hash_names[p->hash]) : NULL;
	int ok = ctx != NULL && EVP_PKEY_verify_init(ctx) > 0 &&
	    (md == NULL || EVP_PKEY_CTX_set_signature_md(ctx, md) > 0);

	if (ok && p->scheme == VAULT_SIGN_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, p->salt == VAULT_SIGN_SALT_DIGEST ?
		    RSA_PSS_SALTLEN_DIGEST : (int)p->salt) > 0 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_get_digestbyname(hash_names[
		    p->mgf1 != VAULT_HASH_NONE ? p->mgf1 : p->hash])) > 0;
	ok = ok && EVP_PKEY_verify(ctx, sig, siglen, dg, dlen) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

static const uint8_t message[] = "<soap:Envelope>a message to sign</soap:Envelope>";

/* Sign the message (as data, or its digest) and verify the result. */
static void
good(const char *what, const struct vault_cert *c, EVP_PKEY *pub, struct vault_sign_req p)
{
	uint8_t dg[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	struct svbuf *sig = svbuf_new(0);
	char msg[SV_MSG_MAX] = "";
	int r;

	EVP_Digest(message, sizeof(message) - 1, dg, &dlen,
	    EVP_get_digestbyname(hash_names[p.hash]), NULL);
	r = p.data ? vault_cert_sign(c, &p, message, sizeof(message) - 1, sig, msg) :
	    vault_cert_sign(c, &p, dg, dlen, sig, msg);
	if (!is_int(r, 0, "%s: signs", what))
		printf("#   %s\n", msg);
	ok(r == 0 && verify(pub, &p, dg, dlen, svbuf_ptr(sig), svbuf_len(sig)),
	    "%s: OpenSSL verifies it with the certificate's public key", what);
	svbuf_free(sig);
}

static struct vault_sign_req
req(unsigned scheme, unsigned hash, int data)
{
	struct vault_sign_req p = { scheme, hash, data, VAULT_HASH_NONE, VAULT_SIGN_SALT_DIGEST };

	return p;
}

static void
test_good(void)
{
	struct vault_sign_req p;
	char what[128];
	unsigned h;
	int data;

	for (h = VAULT_HASH_SHA1; h <= VAULT_HASH_SHA512; h++) {
		for (data = 0; data <= 1; data++) {
			snprintf(what, sizeof(what), "rsa-pkcs1-%s %s", hash_names[h],
			    data ? "data" : "digest");
			good(what, rsa, rsa_pub, req(VAULT_SIGN_RSA_PKCS1, h, data));
			snprintf(what, sizeof(what), "rsa-pss-%s %s", hash_names[h],
			    data ? "data" : "digest");
			good(what, rsa, rsa_pub, req(VAULT_SIGN_RSA_PSS, h, data));
			snprintf(what, sizeof(what), "ecdsa-%s %s", hash_names[h],
			    data ? "data" : "digest");
			good(what, ec, ec_pub, req(VAULT_SIGN_ECDSA, h, data));
		}
	}
	p = req(VAULT_SIGN_RSA_PSS, VAULT_HASH_SHA256, 0);
	p.salt = 0;
	good("rsa-pss-sha256, no salt", rsa, rsa_pub, p);
	p.salt = 256 - 32 - 2;
	good("rsa-pss-sha256, the longest salt a 2048-bit key takes", rsa, rsa_pub, p);
	p.salt = VAULT_SIGN_SALT_DIGEST;
	p.mgf1 = VAULT_HASH_SHA1;
	good("rsa-pss-sha256 with MGF1-SHA1", rsa, rsa_pub, p);
}

/* PKCS#1 v1.5 without a hash pads the DigestInfo given: the same as signing its digest. */
static void
test_digestinfo(void)
{
	static const uint8_t prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86,
	    0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
	struct vault_sign_req p = req(VAULT_SIGN_RSA_PKCS1, VAULT_HASH_NONE, 0);
	struct vault_sign_req v = req(VAULT_SIGN_RSA_PKCS1, VAULT_HASH_SHA256, 0);
	uint8_t di[sizeof(prefix) + 32], dg[32];
	struct svbuf *sig = svbuf_new(0);
	char msg[SV_MSG_MAX] = "";
	unsigned int n;

	EVP_Digest(message, sizeof(message) - 1, dg, &n, EVP_sha256(), NULL);
	memcpy(di, prefix, sizeof(prefix));
	memcpy(di + sizeof(prefix), dg, 32);
	is_int(vault_cert_sign(rsa, &p, di, sizeof(di), sig, msg), 0,
	    "rsa-pkcs1 without a hash signs a DigestInfo");
	ok(verify(rsa_pub, &v, dg, 32, svbuf_ptr(sig), svbuf_len(sig)),
	    "  which verifies as rsa-pkcs1-sha256 of the digest");
	svbuf_reset(sig);
	p = req(VAULT_SIGN_ECDSA, VAULT_HASH_NONE, 0);
	v = req(VAULT_SIGN_ECDSA, VAULT_HASH_NONE, 0);
	is_int(vault_cert_sign(ec, &p, dg, 20, sig, msg), 0,
	    "ecdsa without a hash signs a digest of another length (20 bytes)");
	ok(verify(ec_pub, &v, dg, 20, svbuf_ptr(sig), svbuf_len(sig)), "  and it verifies");
	svbuf_free(sig);
}

struct bad {
	const char *desc;
	int ec;			/* the EC key, else RSA */
	struct vault_sign_req p;
	size_t len;
	int want;
	const char *msg;
};

#define D VAULT_SIGN_SALT_DIGEST
static const struct bad bads[] = {
	{ "scheme 0", 0, { 0, 3, 0, 0, D }, 32, SV_ERR_INVALID, "unknown signature scheme 0" },
	{ "scheme 4", 0, { 4, 3, 0, 0, D }, 32, SV_ERR_INVALID, "unknown signature scheme 4" },
	{ "hash 6", 0, { 1, 6, 0, 0, D }, 32, SV_ERR_INVALID, "unknown hash algorithm 6" },
	{ "hash 255", 0, { 1, 255, 0, 0, D }, 32, SV_ERR_INVALID, "unknown hash algorithm 255" },
	{ "PSS without a hash", 0, { 2, 0, 0, 0, D }, 32, SV_ERR_INVALID, "RSA-PSS needs a hash" },
	{ "data without a hash", 0, { 1, 0, 1, 0, D }, 32, SV_ERR_INVALID, "signing data needs a hash" },
	{ "MGF1 hash on PKCS#1", 0, { 1, 3, 0, 3, D }, 32, SV_ERR_INVALID, "RSA-PSS only" },
	{ "salt on ECDSA", 1, { 3, 3, 0, 0, 20 }, 32, SV_ERR_INVALID, "RSA-PSS only" },
	{ "MGF1 hash 9", 0, { 2, 3, 0, 9, D }, 32, SV_ERR_INVALID, "unknown MGF1 hash algorithm 9" },
	{ "ECDSA on an RSA key", 0, { 3, 3, 0, 0, D }, 32, SV_ERR_INVALID, "has an RSA key" },
	{ "PKCS#1 on an EC key", 1, { 1, 3, 0, 0, D }, 32, SV_ERR_INVALID, "has an EC key" },
	{ "PSS on an EC key", 1, { 2, 3, 0, 0, D }, 32, SV_ERR_INVALID, "has an EC key" },
	{ "salt too long", 0, { 2, 3, 0, 0, 256 - 32 - 1 }, 32, SV_ERR_INVALID, "does not fit a 2048-bit key" },
	{ "salt 2^31", 0, { 2, 3, 0, 0, 0x80000000u }, 32, SV_ERR_INVALID, "does not fit" },
	{ "short digest", 0, { 1, 3, 0, 0, D }, 31, SV_ERR_INVALID, "a sha256 digest is 32 bytes, not 31" },
	{ "long digest", 0, { 2, 1, 0, 0, D }, 21, SV_ERR_INVALID, "a sha1 digest is 20 bytes, not 21" },
	{ "empty digest", 1, { 3, 5, 0, 0, D }, 0, SV_ERR_INVALID, "is 64 bytes, not 0" },
	{ "raw PKCS#1 too long", 0, { 1, 0, 0, 0, D }, 246, SV_ERR_INVALID, "signs 1 to 245 bytes" },
	{ "raw PKCS#1 empty", 0, { 1, 0, 0, 0, D }, 0, SV_ERR_INVALID, "signs 1 to 245 bytes" },
	{ "raw ECDSA too long", 1, { 3, 0, 0, 0, D }, 65, SV_ERR_INVALID, "1 to 64 bytes, not 65" },
	{ "raw ECDSA empty", 1, { 3, 0, 0, 0, D }, 0, SV_ERR_INVALID, "1 to 64 bytes, not 0" },
	{ "data over 1 MiB", 0, { 1, 3, 1, 0, D }, VAULT_SIGN_DATA_MAX + 1, SV_ERR_TOO_LARGE, "hash it and sign the digest" },
};
#undef D

static void
test_bad(void)
{
	static uint8_t in[VAULT_SIGN_DATA_MAX + 1];
	struct svbuf *sig = svbuf_new(0);
	struct vault_cert nokey;
	char msg[SV_MSG_MAX];
	size_t i;
	int r;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		msg[0] = '\0';
		r = vault_cert_sign(bads[i].ec ? ec : rsa, &bads[i].p, in, bads[i].len, sig, msg);
		is_int(r, bads[i].want, "refused: %s", bads[i].desc);
		if (!ok(strstr(msg, bads[i].msg) != NULL, "  says so (%s)", msg))
			printf("#   want '%s'\n", bads[i].msg);
		is_int(svbuf_len(sig), 0, "  and appends nothing");
	}
	/* data of exactly the limit is fine */
	{
		struct vault_sign_req p = req(VAULT_SIGN_RSA_PKCS1, VAULT_HASH_SHA256, 1);

		is_int(vault_cert_sign(rsa, &p, in, VAULT_SIGN_DATA_MAX, sig, msg), 0,
		    "data of exactly 1 MiB is signed");
		svbuf_reset(sig);
	}
	nokey = *rsa;
	nokey.key_pkcs8 = NULL;
	{
		struct vault_sign_req p = req(VAULT_SIGN_RSA_PKCS1, VAULT_HASH_SHA256, 0);

		is_int(vault_cert_sign(&nokey, &p, in, 32, sig, msg), SV_ERR_NOT_FOUND,
		    "a record without a key cannot sign");
		ok(strstr(msg, "holds no private key") != NULL, "  says so (%s)", msg);
	}
	svbuf_free(sig);
}

static void
test_names(void)
{
	static const char *const names[] = { "rsa-pkcs1", "rsa-pkcs1-sha256", "rsa-pss-sha384",
	    "ecdsa", "ecdsa-sha512", "rsa-pss-sha1", "ecdsa-sha224" };
	static const char *const bad[] = { "", "rsa", "rsa-pss", "rsa-pkcs1-", "rsa-pkcs1-md5",
	    "ecdsa-sha256x", "ECDSA-SHA256", "rsa-pkcs1sha256", "ecdsa--sha256" };
	struct vault_sign_req p;
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		is_int(vault_sign_parse(names[i], &p), 0, "name '%s' parses", names[i]);
		vault_sign_name(&p, out, sizeof(out));
		is_str(out, names[i], "  and comes back the same");
		ok(p.data == 0 && p.salt == VAULT_SIGN_SALT_DIGEST && p.mgf1 == VAULT_HASH_NONE,
		    "  a digest, salt as long as it");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(vault_sign_parse(bad[i], &p), SV_ERR_INVALID, "name '%s' is refused", bad[i]);
	is_int(vault_hash_len(VAULT_HASH_SHA384), 48, "sha384 is 48 bytes");
	is_int(vault_hash_len(VAULT_HASH_NONE), 0, "no hash, no length");
}

/*
 * A 1024-bit key (fuzz-sign found it): RSA-PSS with SHA-512 and a salt as
 * long as the digest needs 64 + 64 + 2 bytes, more than its 128, and is
 * refused as a request that does not fit, not failed in OpenSSL.
 */
static void
test_small_key(void)
{
	char key[sizeof(pkidir) + 16], pem[sizeof(pkidir) + 16];
	char *mk[] = { "openssl", "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", key,
	    "-out", pem, "-subj", "/CN=small", "-days", "1", NULL };
	struct vault_sign_req p = req(VAULT_SIGN_RSA_PSS, VAULT_HASH_SHA512, 0);
	struct svbuf *sig = svbuf_new(0);
	uint8_t dg[64] = { 0 };
	char msg[SV_MSG_MAX] = "";
	struct vault_cert *small;
	EVP_PKEY *small_pub;

	snprintf(key, sizeof(key), "%s/small.key", pkidir);
	snprintf(pem, sizeof(pem), "%s/small.pem", pkidir);
	if (tap_run(mk) != 0)
		bail("openssl cannot make a 1024-bit certificate");
	small = load_cert("small.pem", "small.key", &small_pub);
	is_int(vault_cert_sign(small, &p, dg, sizeof(dg), sig, msg), SV_ERR_INVALID,
	    "rsa-pss-sha512 on a 1024-bit key, salt as long as the digest: refused");
	if (!ok(strstr(msg, "a salt of 64 bytes does not fit a 1024-bit key with sha512") != NULL,
	    "  says why"))
		printf("#   %s\n", msg);
	is_int(svbuf_len(sig), 0, "  and appends nothing");
	p.salt = 128 - 64 - 2;
	good("rsa-pss-sha512 on a 1024-bit key, the longest salt it takes", small, small_pub, p);
	svbuf_free(sig);
	vault_cert_free(small);
	EVP_PKEY_free(small_pub);
}

int
main(void)
{
	char *mk[] = { "sh", SOURCE_ROOT "/tests/pki.sh", pkidir, NULL };

	if (sodium_init() < 0)
		bail("sodium_init");
	if (mkdtemp(pkidir) == NULL)
		bail("mkdtemp");
	atexit(remove_pki);
	if (tap_run(mk) != 0)
		bail("tests/pki.sh failed");
	rsa = load_cert("client-rsa.pem", "client-rsa.key", &rsa_pub);
	ec = load_cert("client-ec.pem", "client-ec.key", &ec_pub);

	test_good();
	test_digestinfo();
	test_bad();
	test_names();
	test_small_key();

	vault_cert_free(rsa);
	vault_cert_free(ec);
	EVP_PKEY_free(rsa_pub);
	EVP_PKEY_free(ec_pub);
	return done_testing();
}
