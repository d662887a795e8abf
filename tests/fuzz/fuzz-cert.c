/*
 * fuzz-cert: certificate import (vault_cert_parse(): PKCS#12 with its
 * password, or PEM certificate and chain with a key, RSA and EC) and the
 * stored encoding (vault_cert_decode(), vault_cert_decode_public()).
 *
 * Input: u8 mode | rest.
 *   mode & 1 == 0  rest is a stored certificate record: decode it (with and
 *                  without the key)
 *   mode & 1 == 1  rest is `u8 pwlen | pw | u16 keylen | key | file`: parse
 *                  the file (pw given only when mode & 2) with the separate
 *                  key file if keylen > 0
 * Checks: what parses has a SHA-1 thumbprint of 40 upper-case hex digits
 * that normalises to itself, a subject, a chain and a key; it encodes, and
 * decodes back to the same thumbprints, names, dates and key; what decodes
 * encodes back to the same bytes.  Failures carry a one-line message.
 *
 * Seeds: the committed ones hold no key.  With FUZZ_PKI_DIR naming a
 * directory made by tests/pki.sh, LLVMFuzzerInitialize() writes seeds from
 * its PKCS#12 and PEM files into $FUZZ_SEED_DIR (tests/fuzz/run does).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault/cert.h"
#include "fuzz-common.h"

#define PW_MAX 255

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
msg_check(int r, const char *msg, const char *what)
{
	FUZZ_CHECK(r < 0 && r >= SV__ERR_MIN, "%s: error %d outside the error space", what, r);
	fuzz_msg_check(what, r, msg);
}

static int
same_buf(const struct svbuf *a, const struct svbuf *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return svbuf_len(a) == svbuf_len(b) &&
	    memcmp(svbuf_ptr(a), svbuf_ptr(b), svbuf_len(a)) == 0;
}

static void
same_cert(const struct vault_cert *a, const struct vault_cert *b, int with_key)
{
	FUZZ_CHECK(strcmp(a->sha1, b->sha1) == 0 && strcmp(a->sha256, b->sha256) == 0,
	    "thumbprints changed on a round trip");
	FUZZ_CHECK(strcmp(a->subject, b->subject) == 0 && strcmp(a->issuer, b->issuer) == 0 &&
	    strcmp(a->serial, b->serial) == 0 && strcmp(a->key_type, b->key_type) == 0,
	    "names changed on a round trip");
	FUZZ_CHECK(a->not_before == b->not_before && a->not_after == b->not_after,
	    "dates changed on a round trip");
	FUZZ_CHECK(a->chain_count == b->chain_count && same_buf(a->chain_der, b->chain_der),
	    "the chain changed on a round trip");
	if (with_key)
		FUZZ_CHECK(same_buf(a->key_pkcs8, b->key_pkcs8), "the key changed on a round trip");
}

/* Encode c, decode it both ways, compare. */
static void
round_trip(const struct vault_cert *c, const uint8_t *want, size_t wantlen)
{
	struct vault_cert *d = NULL;
	struct svbuf *enc = svbuf_new_secure(0), *pem = svbuf_new_secure(0);
	char msg[SV_MSG_MAX], hex[VAULT_SHA256_HEX + 1];
	size_t n;
	int r;

	if (enc == NULL || pem == NULL)
		fuzz_die("out of memory");
	FUZZ_CHECK(vault_thumbprint_normalise(c->sha1, hex, &n, NULL) == 0 &&
	    n == VAULT_SHA1_HEX && strcmp(hex, c->sha1) == 0, "thumbprint '%s'", c->sha1);
	FUZZ_CHECK(vault_thumbprint_normalise(c->sha256, hex, &n, NULL) == 0 &&
	    n == VAULT_SHA256_HEX && strcmp(hex, c->sha256) == 0, "thumbprint '%s'", c->sha256);
	FUZZ_CHECK(c->chain_count >= 1, "no leaf certificate");
	FUZZ_CHECK(vault_cert_encode(c, enc) == 0, "a certificate cannot be encoded");
	if (want != NULL)
		FUZZ_CHECK(svbuf_len(enc) == wantlen && memcmp(svbuf_ptr(enc), want, wantlen) == 0,
		    "a decoded record encodes to other bytes");
	msg[0] = '\0';
	r = vault_cert_decode(enc, &d, msg);
	FUZZ_CHECK(r == 0, "an encoded certificate does not decode: %s", msg);
	same_cert(c, d, 1);
	vault_cert_free(d);
	d = NULL;
	/* a successful decode consumes its input: decode the encoding again */
	svbuf_free(enc);
	if ((enc = svbuf_new_secure(0)) == NULL)
		fuzz_die("out of memory");
	FUZZ_CHECK(vault_cert_encode(c, enc) == 0, "a certificate cannot be encoded twice");
	r = vault_cert_decode_public(enc, &d, msg);
	FUZZ_CHECK(r == 0 && d->key_pkcs8 == NULL, "public decode failed or kept the key");
	same_cert(c, d, 0);
	vault_cert_free(d);
	FUZZ_CHECK(vault_cert_chain_pem(c, pem) == 0 && svbuf_len(pem) > 0, "no chain PEM");
	if (c->key_pkcs8 != NULL) {
		svbuf_reset(pem);
		FUZZ_CHECK(vault_cert_key_pem(c, pem) == 0 && svbuf_len(pem) > 0, "no key PEM");
	}
	(void)vault_cert_check_time(c, FUZZ_NOW);
	svbuf_free(enc);
	svbuf_free(pem);
}

static void
decode(const uint8_t *data, size_t size)
{
	struct svbuf *in = svbuf_from(data, size);
	struct vault_cert *c = NULL;
	char msg[SV_MSG_MAX];
	int r;

	if (in == NULL)
		fuzz_die("out of memory");
	msg[0] = '\0';
	r = vault_cert_decode(in, &c, msg);
	if (r == 0) {
		round_trip(c, data, size);
		vault_cert_free(c);
	} else {
		FUZZ_CHECK(svbuf_len(in) == size, "a failed decode consumed its input");
		msg_check(r, msg, "vault_cert_decode");
	}
	svbuf_free(in);
	if ((in = svbuf_from(data, size)) == NULL)
		fuzz_die("out of memory");
	c = NULL;
	msg[0] = '\0';
	r = vault_cert_decode_public(in, &c, msg);
	if (r == 0)
		FUZZ_CHECK(c->key_pkcs8 == NULL, "public decode kept the key");
	else
		msg_check(r, msg, "vault_cert_decode_public");
	vault_cert_free(c);
	svbuf_free(in);
}

static void
parse(uint8_t mode, const uint8_t *data, size_t size)
{
	char pw[PW_MAX + 1], msg[SV_MSG_MAX];
	struct vault_cert *c = NULL;
	const uint8_t *key = NULL;
	size_t pwlen, keylen = 0;
	int r;

	if (size < 1)
		return;
	pwlen = data[0];
	if (pwlen > size - 1)
		pwlen = size - 1;
	memcpy(pw, data + 1, pwlen);
	pw[pwlen] = '\0';
	data += 1 + pwlen;
	size -= 1 + pwlen;
	if (size >= 2) {
		keylen = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (keylen > size)
			keylen = size;
		key = data;
		data += keylen;
		size -= keylen;
	}
	msg[0] = '\0';
	r = vault_cert_parse(data, size, (mode & 2) ? pw : NULL, keylen > 0 ? key : NULL,
	    keylen, &c, msg);
	if (r == 0) {
		FUZZ_CHECK(c->key_pkcs8 != NULL && svbuf_len(c->key_pkcs8) > 0,
		    "a parsed import has no key");
		round_trip(c, NULL, 0);
		vault_cert_free(c);
	} else {
		msg_check(r, msg, "vault_cert_parse");
	}
}

/* A parse seed: mode | u8 pwlen | pw | u16 keylen | key | file. */
static void
seed_parse(const char *name, uint8_t mode, const char *pw, const char *keyfile,
    const char *file)
{
	uint8_t *k = NULL, *f, *b;
	size_t kl = 0, fl, pl = pw != NULL ? strlen(pw) : 0, n;

	if ((f = fuzz_pki_file(file, &fl)) == NULL)
		return;
	if (keyfile != NULL && (k = fuzz_pki_file(keyfile, &kl)) == NULL) {
		free(f);
		return;
	}
	if (pl > PW_MAX || kl > 65535 || (b = malloc(4 + pl + kl + fl)) == NULL)
		fuzz_die("seed %s too large", name);
	n = 0;
	b[n++] = mode;
	b[n++] = (uint8_t)pl;
	if (pl > 0)
		memcpy(b + n, pw, pl);
	n += pl;
	b[n++] = (uint8_t)(kl >> 8);
	b[n++] = (uint8_t)kl;
	if (kl > 0)
		memcpy(b + n, k, kl);
	n += kl;
	memcpy(b + n, f, fl);
	n += fl;
	fuzz_seed(name, b, n);
	free(b);
	free(k);
	free(f);
}

/* A decode seed: the stored form of what a PKI file parses to. */
static void
seed_decode(const char *name, const char *pw, const char *keyfile, const char *file)
{
	uint8_t *f, *k = NULL, *b;
	size_t fl, kl = 0;
	struct vault_cert *c = NULL;
	struct svbuf *enc;

	if ((f = fuzz_pki_file(file, &fl)) == NULL)
		return;
	if (keyfile != NULL)
		k = fuzz_pki_file(keyfile, &kl);
	if (vault_cert_parse(f, fl, pw, k, kl, &c, NULL) == 0 &&
	    (enc = svbuf_new_secure(0)) != NULL) {
		if (vault_cert_encode(c, enc) == 0 && (b = malloc(svbuf_len(enc) + 1)) != NULL) {
			b[0] = 0;
			memcpy(b + 1, svbuf_ptr(enc), svbuf_len(enc));
			fuzz_seed(name, b, svbuf_len(enc) + 1);
			free(b);
		}
		svbuf_free(enc);
	}
	vault_cert_free(c);
	free(f);
	free(k);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t *p;
	size_t n;
	char pw[PW_MAX + 1] = "";

	(void)argc;
	(void)argv;
	if ((p = fuzz_pki_file("p12.pass", &n)) != NULL) {
		if (n > PW_MAX)
			n = PW_MAX;
		memcpy(pw, p, n);
		pw[n] = '\0';
		free(p);
	}
	seed_parse("p12-rsa", 3, pw, NULL, "client-rsa.p12");
	seed_parse("p12-ec", 3, pw, NULL, "client-ec.p12");
	seed_parse("p12-legacy", 3, pw, NULL, "client-rsa-legacy.p12");
	seed_parse("p12-expired", 3, pw, NULL, "expired.p12");
	seed_parse("p12-no-password", 1, NULL, NULL, "client-ec.p12");
	seed_parse("pem-rsa", 1, NULL, "client-rsa.key", "client-rsa.pem");
	seed_parse("pem-ec", 1, NULL, "client-ec.key", "client-ec.pem");
	seed_parse("pem-chain", 1, NULL, "client-rsa.key", "client-chain.pem");
	seed_parse("pem-encrypted-key", 3, pw, "client-rsa-enc.key", "client-rsa.pem");
	seed_parse("pem-mismatch", 1, NULL, "other.key", "client-rsa.pem");
	seed_decode("stored-rsa", NULL, "client-rsa.key", "client-chain.pem");
	seed_decode("stored-ec", NULL, "client-ec.key", "client-ec.pem");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		parse(data[0], data + 1, size - 1);
	else
		decode(data + 1, size - 1);
	return 0;
}
