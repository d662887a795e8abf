/*
 * Unit tests of the certificate module: the thumbprint normaliser (a table
 * with a description per row), parsing every import form that tests/pki.sh
 * makes with the openssl command line (PKCS#12 RSA and EC, PEM with separate
 * or inline keys, chains, encrypted keys, DER), each bad input with its exact
 * error, validity checks, and the stored encoding: round trip, known bytes,
 * every truncation, trailing bytes, wrong version and tampering.
 *
 * The PKI is made afresh in a temporary directory for every run; no key is
 * ever part of the source tree.  SOURCE_ROOT (set by meson) locates pki.sh.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "vault/cert.h"
#include "base/svbuf.h"
#include "tap.h"
#include "tap-files.h"

#ifndef SOURCE_ROOT
#error "SOURCE_ROOT must name the source tree (meson: -DSOURCE_ROOT=\"...\")"
#endif

#define PKI_SCRIPT SOURCE_ROOT "/tests/pki.sh"
#define THUMB_ERROR "expected 40 hexadecimal digits"

static char pkidir[] = "/tmp/ssovault-test-cert-XXXXXX";
static char p12pass[128];

static struct blob
slurp(const char *name)
{
	return tap_slurp(pkidir, name);
}

static struct blob
concat(const char *a, const char *b)
{
	struct blob x = slurp(a), y = slurp(b), r;

	if ((r.p = malloc(x.len + y.len + 1)) == NULL)
		bail("out of memory");
	memcpy(r.p, x.p, x.len);
	memcpy(r.p + x.len, y.p, y.len);
	r.len = x.len + y.len;
	blob_free(&x);
	blob_free(&y);
	return r;
}

static X509 *
load_x509(const char *name)
{
	struct blob b = slurp(name);
	BIO *bio = BIO_new_mem_buf(b.p, (int)b.len);
	X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	if (x == NULL)
		bail(name);
	BIO_free(bio);
	blob_free(&b);
	return x;
}

static EVP_PKEY *
load_key(const char *name)
{
	struct blob b = slurp(name);
	BIO *bio = BIO_new_mem_buf(b.p, (int)b.len);
	EVP_PKEY *k = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

	if (k == NULL)
		bail(name);
	BIO_free(bio);
	blob_free(&b);
	return k;
}

/* The *.sha1 file that pki.sh wrote with `openssl x509 -fingerprint`. */
static void
expected_sha1(const char *name, char out[VAULT_SHA1_HEX + 1])
{
	struct blob b = slurp(name);

	if (b.len != VAULT_SHA1_HEX)
		bail(name);
	memcpy(out, b.p, VAULT_SHA1_HEX);
	out[VAULT_SHA1_HEX] = '\0';
	blob_free(&b);
}

static struct blob
bio_blob(BIO *bio)
{
	BUF_MEM *mem = NULL;
	struct blob r;

	if (BIO_get_mem_ptr(bio, &mem) <= 0 || mem == NULL ||
	    (r.p = malloc(mem->length + 1)) == NULL)
		bail("BIO");
	memcpy(r.p, mem->data, mem->length);
	r.len = mem->length;
	r.p[r.len] = '\0';
	return r;
}

static int
queue_empty(void)
{
	return ERR_peek_error() == 0;
}

/* ---- thumbprints ----------------------------------------------------- */

#define H40 "0123456789ABCDEF0123456789ABCDEF01234567"
#define H40_LOWER "0123456789abcdef0123456789abcdef01234567"
#define H64 "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define LRM "\xe2\x80\x8e"
#define RLM "\xe2\x80\x8f"
#define BOM "\xef\xbb\xbf"
#define NBSP "\xc2\xa0"

static void
test_thumbprint_table(void)
{
	static const struct {
		const char *what;
		const char *in;
		const char *want;		/* NULL: must fail */
	} rows[] = {
		{ "plain lower case", H40_LOWER, H40 },
		{ "plain upper case", H40, H40 },
		{ "mixed case", "0123456789AbCdEf0123456789aBcDeF01234567", H40 },
		{ "spaces between pairs (certmgr style)",
		    "01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67", H40 },
		{ "colons between pairs (openssl style)",
		    "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67", H40 },
		{ "tabs", "\t0123456789abcdef\t0123456789abcdef01234567\t", H40 },
		{ "leading and trailing spaces", "  " H40 "  ", H40 },
		{ "U+200E left-to-right mark before (Windows certmgr copy)", LRM H40_LOWER, H40 },
		{ "U+200F right-to-left mark inside", "0123456789abcdef" RLM "0123456789abcdef01234567", H40 },
		{ "U+FEFF byte order mark before", BOM H40, H40 },
		{ "U+00A0 no-break spaces between pairs",
		    "01" NBSP "23" NBSP "45" NBSP "67" NBSP "89abcdef0123456789abcdef01234567", H40 },
		{ "everything mixed",
		    LRM "01:23 45\t67" NBSP "89:ab" BOM "CD ef" RLM "0123456789ABcdef:01:23:45:67 " LRM, H40 },
		{ "SHA-256, 64 digits", H64, H64 },
		{ "the line openssl x509 -fingerprint prints",
		    "sha1 Fingerprint=01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67", H40 },
		{ "its SHA-256 form, upper case", "SHA256 Fingerprint=" H64, H64 },
		{ "a Thumbprint: label", "Thumbprint: " H40_LOWER, H40 },
		{ "SHA-256 lower case with colons",
		    "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:"
		    "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef", H64 },
		{ "39 digits", "0123456789ABCDEF0123456789ABCDEF0123456", NULL },
		{ "41 digits", H40 "8", NULL },
		{ "48 digits (neither length)", H40 "01234567", NULL },
		{ "63 digits", "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDE", NULL },
		{ "65 digits", H64 "0", NULL },
		{ "non-hex letter g", "0123456789ABCDEF0123456789ABCDEF0123456g", NULL },
		{ "0x prefix", "0x" H40, NULL },
		{ "dashes are not separators", "0123-4567-89AB-CDEF-0123-4567-89AB-CDEF-0123-4567", NULL },
		{ "trailing newline is not stripped", H40 "\n", NULL },
		{ "empty", "", NULL },
		{ "only separators", " : \t" LRM RLM BOM NBSP " ", NULL },
		{ "lone E2 80 before the digits", "\xe2\x80" H40, NULL },
		{ "run of E2 80 pairs", "\xe2\x80\xe2\x80\xe2\x80\xe2\x80", NULL },
		{ "truncated LRM at the end", H40 "\xe2\x80", NULL },
		{ "lone C2 at the end", H40 "\xc2", NULL },
		{ "U+200B zero-width space is not ignored", "\xe2\x80\x8b" H40, NULL },
		{ "fullwidth digit", "\xef\xbc\x90" "123456789ABCDEF0123456789ABCDEF01234567", NULL },
		{ "Latin-1 NBSP byte alone", "\xa0" H40, NULL },
		{ "a label alone", "sha1 Fingerprint=", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[VAULT_SHA256_HEX + 1], msg[SV_MSG_MAX] = "";
		size_t len = 999;
		int r;

		memset(out, 'Z', sizeof(out));
		r = vault_thumbprint_normalise(rows[i].in, out, &len, msg);
		if (rows[i].want != NULL) {
			is_int(r, 0, "thumbprint: %s: accepted", rows[i].what);
			out[VAULT_SHA256_HEX] = '\0';
			is_str(out, rows[i].want, "thumbprint: %s: normalised", rows[i].what);
			is_int(len, strlen(rows[i].want), "thumbprint: %s: length", rows[i].what);
		} else {
			is_int(r, SV_ERR_INVALID, "thumbprint: %s: refused", rows[i].what);
			/* short printable input is said back; anything else is not */
			ok(strcmp(msg, THUMB_ERROR) == 0 || (strncmp(msg, THUMB_ERROR ", not '",
			    strlen(THUMB_ERROR) + 7) == 0 && strstr(msg, rows[i].in) != NULL &&
			    strlen(rows[i].in) <= 80 && strchr(rows[i].in, '\n') == NULL &&
			    strchr(rows[i].in, '\t') == NULL), "thumbprint: %s: message (%s)",
			    rows[i].what, msg);
			ok(len == 999 && out[0] == 'Z' && out[VAULT_SHA256_HEX] == 'Z',
			    "thumbprint: %s: outputs untouched", rows[i].what);
		}
	}
}

static void
test_thumbprint_huge(void)
{
	size_t big = 16u * 1024u * 1024u, len = 999;
	char out[VAULT_SHA256_HEX + 1], msg[SV_MSG_MAX] = "";
	char *in = malloc(big + 1);

	if (in == NULL)
		bail("out of memory");
	/* all hex digits: the worst case for a scanner that does not cap */
	memset(in, 'a', big);
	in[big] = '\0';
	is_int(vault_thumbprint_normalise(in, out, &len, msg), SV_ERR_INVALID,
	    "thumbprint: 16 MiB of hex digits refused");
	/*
	 * Refused cheaply: no byte past the cap is read.  Not a timing (a
	 * loaded machine makes any bound flaky): the input ends at an
	 * unreadable page, with no NUL before it, so a read past the cap
	 * would crash the test.
	 */
	{
		long pg = sysconf(_SC_PAGESIZE);
		char *map = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *edge;

		if (map == MAP_FAILED || mprotect(map + pg, (size_t)pg, PROT_NONE) != 0)
			bail("mmap");
		memset(map, 'a', (size_t)pg);
		edge = map + pg - 1025;		/* 1025 bytes before the guard: the cap + 1 */
		is_int(vault_thumbprint_normalise(edge, out, &len, msg), SV_ERR_INVALID,
		    "thumbprint: huge input refused without reading past the cap");
		munmap(map, (size_t)pg * 2);
	}
	is_str(msg, THUMB_ERROR, "thumbprint: huge input: message does not echo it");
	ok(strlen(msg) < 64, "thumbprint: huge input: message is short");

	/* separators alone, long enough to be refused before scanning */
	memset(in, ' ', 4096);
	memcpy(in + 4096, H40, 40);
	in[4096 + 40] = '\0';
	is_int(vault_thumbprint_normalise(in, out, &len, msg), SV_ERR_INVALID,
	    "thumbprint: 40 digits behind 4096 spaces refused as absurd");
	free(in);

	is_int(vault_thumbprint_normalise(NULL, out, &len, msg), SV_ERR_INVALID,
	    "thumbprint: NULL refused");
	is_int(vault_thumbprint_normalise(H40, out, &len, NULL), 0,
	    "thumbprint: msg may be NULL");
}

/* ---- parsing --------------------------------------------------------- */

static struct vault_cert *
parse_files(const char *file, const char *keyfile, const char *pw, int *ret_r,
    char *msg)
{
	struct blob d = slurp(file), k = { NULL, 0 };
	struct vault_cert *c = NULL;

	if (keyfile != NULL)
		k = slurp(keyfile);
	*ret_r = vault_cert_parse(d.p, d.len, pw, k.p, k.len, &c, msg);
	blob_free(&d);
	blob_free(&k);
	return c;
}

static void
leaf_digest(X509 *x, const EVP_MD *md, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n, i;

	if (!X509_digest(x, md, d, &n))
		bail("X509_digest");
	for (i = 0; i < n; i++)
		out[2 * i] = "0123456789ABCDEF"[d[i] >> 4], out[2 * i + 1] = "0123456789ABCDEF"[d[i] & 15];
	out[2 * n] = '\0';
}

/* The key held in c, loaded back, belongs to the leaf. */
static int
key_matches(const struct vault_cert *c, X509 *leaf)
{
	const unsigned char *p;
	EVP_PKEY *k;
	int m;

	if (c->key_pkcs8 == NULL)
		return 0;
	p = svbuf_ptr(c->key_pkcs8);
	k = d2i_AutoPrivateKey(NULL, &p, (long)svbuf_len(c->key_pkcs8));
	m = k != NULL && X509_check_private_key(leaf, k) == 1;
	EVP_PKEY_free(k);
	ERR_clear_error();
	return m;
}

/* Check c against the PEM certificate it must hold as leaf. */
static void
check_leaf(const char *what, const struct vault_cert *c, const char *pem,
    const char *sha1file)
{
	X509 *x = load_x509(pem);
	char want[VAULT_SHA256_HEX + 1], sha1[VAULT_SHA1_HEX + 1];
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *serial = bn != NULL ? BN_bn2hex(bn) : NULL;

	if (sha1file != NULL) {
		expected_sha1(sha1file, sha1);
		is_str(c->sha1, sha1, "%s: SHA-1 thumbprint equals openssl's %s", what, sha1file);
	}
	leaf_digest(x, EVP_sha1(), want);
	is_str(c->sha1, want, "%s: SHA-1 thumbprint of the leaf", what);
	leaf_digest(x, EVP_sha256(), want);
	is_str(c->sha256, want, "%s: SHA-256 thumbprint of the leaf", what);
	is_str(c->serial, serial, "%s: serial in upper-case hex", what);
	ok(c->not_before < c->not_after, "%s: validity window", what);
	ok(key_matches(c, x), "%s: stored PKCS#8 key matches the leaf", what);
	OPENSSL_free(serial);
	BN_free(bn);
	X509_free(x);
}

static void
test_p12(void)
{
	struct vault_cert *c;
	char msg[SV_MSG_MAX] = "";
	int r;

	c = parse_files("client-rsa.p12", NULL, p12pass, &r, msg);
	is_int(r, 0, "PKCS#12 RSA: parsed (%s)", r ? msg : "ok");
	ok(queue_empty(), "PKCS#12 RSA: OpenSSL error queue empty");
	if (c != NULL) {
		check_leaf("PKCS#12 RSA", c, "client-rsa.pem", "client-rsa.sha1");
		is_str(c->key_type, "RSA 2048", "PKCS#12 RSA: key type");
		is_str(c->subject, "O=ssovault tests,CN=ssovault test client RSA",
		    "PKCS#12 RSA: subject in RFC 2253 form");
		is_str(c->issuer, "O=ssovault tests,CN=ssovault test CA",
		    "PKCS#12 RSA: issuer in RFC 2253 form");
		is_int(c->chain_count, 2, "PKCS#12 RSA: leaf and CA in the chain");
		is_int(vault_cert_check_time(c, (int64_t)time(NULL)), 0, "PKCS#12 RSA: valid now");
	}
	vault_cert_free(c);

	c = parse_files("client-ec.p12", NULL, p12pass, &r, msg);
	is_int(r, 0, "PKCS#12 EC: parsed (%s)", r ? msg : "ok");
	ok(queue_empty(), "PKCS#12 EC: OpenSSL error queue empty");
	if (c != NULL) {
		check_leaf("PKCS#12 EC", c, "client-ec.pem", "client-ec.sha1");
		is_str(c->key_type, "EC prime256v1", "PKCS#12 EC: key type");
		is_str(c->subject, "O=ssovault tests,CN=ssovault test client EC",
		    "PKCS#12 EC: subject");
		is_int(c->chain_count, 2, "PKCS#12 EC: chain");
	}
	vault_cert_free(c);

	c = parse_files("rogue-client.p12", NULL, p12pass, &r, msg);
	is_int(r, 0, "PKCS#12 from another CA: parsed (%s)", r ? msg : "ok");
	if (c != NULL) {
		check_leaf("PKCS#12 rogue", c, "rogue-client.pem", NULL);
		is_str(c->issuer, "O=ssovault tests,CN=ssovault rogue CA", "PKCS#12 rogue: issuer");
	}
	vault_cert_free(c);
}

static void
test_pem(void)
{
	static const struct {
		const char *what;
		const char *file, *file2;	/* file2: appended to file */
		const char *key;
		int pw;				/* give the p12 password */
		const char *leaf;
		size_t chain;
	} rows[] = {
		{ "PEM cert + separate PEM key", "client-rsa.pem", NULL, "client-rsa.key", 0,
		    "client-rsa.pem", 1 },
		{ "PEM EC cert + separate key", "client-ec.pem", NULL, "client-ec.key", 0,
		    "client-ec.pem", 1 },
		{ "PEM chain (leaf, CA) + key", "client-chain.pem", NULL, "client-rsa.key", 0,
		    "client-rsa.pem", 2 },
		{ "PEM chain with the CA first: the key picks the leaf", "ca.pem", "client-rsa.pem",
		    "client-rsa.key", 0, "client-rsa.pem", 2 },
		{ "PEM cert and key in one file", "client-rsa.pem", "client-rsa.key", NULL, 0,
		    "client-rsa.pem", 1 },
		{ "PEM key before the cert in one file", "client-ec.key", "client-ec.pem", NULL, 0,
		    "client-ec.pem", 1 },
		{ "PEM cert + encrypted PKCS#8 key with password", "client-rsa.pem", NULL,
		    "client-rsa-enc.key", 1, "client-rsa.pem", 1 },
		{ "PEM server cert + key", "server.pem", NULL, "server.key", 0, "server.pem", 1 },
		{ "PEM cert with unused password", "client-rsa.pem", NULL, "client-rsa.key", 1,
		    "client-rsa.pem", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct blob d, k = { NULL, 0 };
		struct vault_cert *c = NULL;
		char msg[SV_MSG_MAX] = "";
		int r;

		d = rows[i].file2 != NULL ? concat(rows[i].file, rows[i].file2) : slurp(rows[i].file);
		if (rows[i].key != NULL)
			k = slurp(rows[i].key);
		r = vault_cert_parse(d.p, d.len, rows[i].pw ? p12pass : NULL, k.p, k.len, &c, msg);
		is_int(r, 0, "%s: parsed (%s)", rows[i].what, r ? msg : "ok");
		ok(queue_empty(), "%s: OpenSSL error queue empty", rows[i].what);
		if (c != NULL) {
			check_leaf(rows[i].what, c, rows[i].leaf, NULL);
			is_int(c->chain_count, rows[i].chain, "%s: chain length", rows[i].what);
		}
		vault_cert_free(c);
		blob_free(&d);
		blob_free(&k);
	}
}

/* Keys written by OpenSSL in other forms: traditional PEM (plain, encrypted), DER. */
static struct blob
key_in_form(const char *keyfile, int form, const char *pw)
{
	EVP_PKEY *k = load_key(keyfile);
	BIO *bio = BIO_new(BIO_s_mem());
	struct blob b;
	int okk = 0;

	switch (form) {
	case 0:		/* traditional PEM, plain */
		okk = PEM_write_bio_PrivateKey_traditional(bio, k, NULL, NULL, 0, NULL, NULL);
		break;
	case 1:		/* traditional PEM, Proc-Type: 4,ENCRYPTED */
		okk = PEM_write_bio_PrivateKey_traditional(bio, k, EVP_aes_256_cbc(),
		    (const unsigned char *)pw, (int)strlen(pw), NULL, NULL);
		break;
	case 2:		/* PKCS#8 DER, plain */
		okk = i2d_PKCS8PrivateKey_bio(bio, k, NULL, NULL, 0, NULL, NULL);
		break;
	case 3:		/* PKCS#8 DER, encrypted */
		okk = i2d_PKCS8PrivateKey_bio(bio, k, EVP_aes_256_cbc(), pw, (int)strlen(pw),
		    NULL, NULL);
		break;
	case 4:		/* traditional DER */
		okk = i2d_PrivateKey_bio(bio, k);
		break;
	}
	if (!okk)
		bail("writing a key");
	b = bio_blob(bio);
	BIO_free(bio);
	EVP_PKEY_free(k);
	return b;
}

static void
test_key_forms(void)
{
	static const struct {
		const char *what;
		const char *cert, *key;
		int form;
		const char *pw;			/* "P" = the right password */
		int err;
		const char *msg;
	} rows[] = {
		{ "traditional RSA PEM key", "client-rsa.pem", "client-rsa.key", 0, NULL, 0, NULL },
		{ "traditional EC PEM key", "client-ec.pem", "client-ec.key", 0, NULL, 0, NULL },
		{ "encrypted traditional PEM key, right password", "client-rsa.pem",
		    "client-rsa.key", 1, "P", 0, NULL },
		{ "encrypted traditional PEM key, no password", "client-rsa.pem",
		    "client-rsa.key", 1, NULL, SV_ERR_BAD_PASSWORD,
		    "the private key is encrypted and no password was given" },
		{ "encrypted traditional PEM key, wrong password", "client-rsa.pem",
		    "client-rsa.key", 1, "wrong", SV_ERR_BAD_PASSWORD, "wrong private key password" },
		{ "PKCS#8 DER key", "client-rsa.pem", "client-rsa.key", 2, NULL, 0, NULL },
		{ "PKCS#8 DER EC key", "client-ec.pem", "client-ec.key", 2, NULL, 0, NULL },
		{ "encrypted PKCS#8 DER key, right password", "client-rsa.pem", "client-rsa.key",
		    3, "P", 0, NULL },
		{ "encrypted PKCS#8 DER key, no password", "client-rsa.pem", "client-rsa.key",
		    3, NULL, SV_ERR_BAD_PASSWORD,
		    "the private key is encrypted and no password was given" },
		{ "encrypted PKCS#8 DER key, wrong password", "client-rsa.pem", "client-rsa.key",
		    3, "wrong", SV_ERR_BAD_PASSWORD, "wrong private key password" },
		{ "traditional DER RSA key", "client-rsa.pem", "client-rsa.key", 4, NULL, 0, NULL },
		{ "traditional DER key of another cert", "client-rsa.pem", "other.key", 4, NULL,
		    SV_ERR_KEY_MISMATCH, "private key does not match the certificate" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *pw = rows[i].pw != NULL && strcmp(rows[i].pw, "P") == 0 ?
		    p12pass : rows[i].pw;
		struct blob d = slurp(rows[i].cert);
		struct blob k = key_in_form(rows[i].key, rows[i].form, p12pass);
		struct vault_cert *c = NULL;
		char msg[SV_MSG_MAX] = "";
		int r;

		r = vault_cert_parse(d.p, d.len, pw, k.p, k.len, &c, msg);
		is_int(r, rows[i].err, "%s: result (%s)", rows[i].what, r ? msg : "ok");
		if (rows[i].msg != NULL)
			is_str(msg, rows[i].msg, "%s: message", rows[i].what);
		else if (c != NULL)
			check_leaf(rows[i].what, c, rows[i].cert, NULL);
		ok(queue_empty(), "%s: OpenSSL error queue empty", rows[i].what);
		vault_cert_free(c);
		blob_free(&d);
		blob_free(&k);
	}
}

static void
test_der_cert(void)
{
	X509 *x = load_x509("client-rsa.pem");
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	struct blob k = slurp("client-rsa.key");
	struct vault_cert *c = NULL;
	char msg[SV_MSG_MAX] = "";

	if (n <= 0)
		bail("i2d_X509");
	is_int(vault_cert_parse(der, (size_t)n, NULL, k.p, k.len, &c, msg), 0,
	    "DER certificate + PEM key: parsed (%s)", msg);
	if (c != NULL)
		check_leaf("DER certificate", c, "client-rsa.pem", "client-rsa.sha1");
	vault_cert_free(c);
	c = NULL;
	is_int(vault_cert_parse(der, (size_t)n, NULL, NULL, 0, &c, msg), SV_ERR_BAD_FORMAT,
	    "DER certificate alone: refused");
	is_str(msg, "no private key found (give --key FILE)", "DER certificate alone: message");
	ok(queue_empty(), "DER certificate: OpenSSL error queue empty");
	OPENSSL_free(der);
	X509_free(x);
	blob_free(&k);
}

/* PKCS#12 variants that openssl's command line makes only with effort. */
static struct blob
make_p12(const char *pass, int with_key, int nid, int mac_iter)
{
	X509 *x = load_x509("client-rsa.pem");
	EVP_PKEY *k = load_key("client-rsa.key");
	STACK_OF(X509) *ca = sk_X509_new_null();
	PKCS12 *p12;
	BIO *bio = BIO_new(BIO_s_mem());
	struct blob b;

	if (ca == NULL || bio == NULL || (!with_key && !sk_X509_push(ca, x)))
		bail("make_p12");
	p12 = with_key ? PKCS12_create(pass, "x", k, x, NULL, nid, nid, 0, mac_iter, 0) :
	    PKCS12_create(pass, NULL, NULL, NULL, ca, nid, nid, 0, mac_iter, 0);
	if (p12 == NULL || !i2d_PKCS12_bio(bio, p12))
		bail("PKCS12_create");
	b = bio_blob(bio);
	PKCS12_free(p12);
	BIO_free(bio);
	sk_X509_free(ca);
	EVP_PKEY_free(k);
	X509_free(x);
	return b;
}

static void
test_p12_variants(void)
{
	static const struct {
		const char *what;
		const char *made_with;		/* NULL, "", or "P" = the password */
		int with_key, nid, mac_iter;
		const char *pw;
		const char *key;
		int err;
		const char *msg;
	} rows[] = {
		{ "PKCS#12 without password or encryption, no password given", NULL, 1, -1, 0,
		    NULL, NULL, 0, NULL },
		{ "PKCS#12 without password or encryption, empty password given", NULL, 1, -1, 0,
		    "", NULL, 0, NULL },
		{ "PKCS#12 with empty password, none given", "", 1, 0, 0, NULL, NULL, 0, NULL },
		{ "PKCS#12 with empty password, a password given", "", 1, 0, 0, "wrong", NULL,
		    SV_ERR_BAD_PASSWORD, "wrong PKCS#12 password" },
		{ "PKCS#12 without a MAC", "P", 1, 0, -1, "P", NULL, SV_ERR_BAD_FORMAT,
		    "cannot read a PKCS#12 file without a MAC: export it again with one" },
		{ "PKCS#12 of certificates only", "P", 0, 0, 0, "P", NULL, SV_ERR_BAD_FORMAT,
		    "no private key found (give --key FILE)" },
		{ "PKCS#12 of certificates only, with --key", "P", 0, 0, 0, "P", "client-rsa.key",
		    0, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *mk = rows[i].made_with != NULL && strcmp(rows[i].made_with, "P") == 0 ?
		    p12pass : rows[i].made_with;
		const char *pw = rows[i].pw != NULL && strcmp(rows[i].pw, "P") == 0 ?
		    p12pass : rows[i].pw;
		struct blob d = make_p12(mk, rows[i].with_key, rows[i].nid, rows[i].mac_iter);
		struct blob k = { NULL, 0 };
		struct vault_cert *c = NULL;
		char msg[SV_MSG_MAX] = "";
		int r;

		if (rows[i].key != NULL)
			k = slurp(rows[i].key);
		r = vault_cert_parse(d.p, d.len, pw, k.p, k.len, &c, msg);
		is_int(r, rows[i].err, "%s: result (%s)", rows[i].what, r ? msg : "ok");
		if (rows[i].msg != NULL)
			is_str(msg, rows[i].msg, "%s: message", rows[i].what);
		else if (c != NULL)
			check_leaf(rows[i].what, c, "client-rsa.pem", "client-rsa.sha1");
		ok(queue_empty(), "%s: OpenSSL error queue empty", rows[i].what);
		vault_cert_free(c);
		blob_free(&d);
		blob_free(&k);
	}
}

/*
 * RC2-40 and 3DES, as old Windows exports it: read with OpenSSL's legacy
 * provider, loaded for the parse only.
 */
static void
test_p12_legacy(void)
{
	char path[512];
	struct vault_cert *c = NULL;
	char msg[SV_MSG_MAX] = "";
	int r;

	snprintf(path, sizeof(path), "%s/client-rsa-legacy.p12", pkidir);
	if (access(path, R_OK) != 0) {
		ok(1, "# SKIP legacy PKCS#12: the openssl command here cannot make one");
		return;
	}
	c = parse_files("client-rsa-legacy.p12", NULL, p12pass, &r, msg);
	ok(r == 0 && c != NULL && c->key_pkcs8 != NULL,
	    "legacy PKCS#12 (RC2-40, 3DES): parsed, with its key (%s)", r ? msg : "ok");
	ok(c != NULL && strcmp(c->key_type, "RSA 2048") == 0, "legacy PKCS#12: the RSA key");
	ok(OSSL_PROVIDER_available(NULL, "legacy") == 0,
	    "legacy PKCS#12: the legacy provider is unloaded again");
	ok(queue_empty(), "legacy PKCS#12: OpenSSL error queue empty");
	vault_cert_free(c);
}

static void
test_bad_files(void)
{
	static const struct {
		const char *what;
		const char *file, *file2, *key;
		const char *pw;			/* "P" = the right password */
		int err;
		const char *msg;
	} rows[] = {
		{ "PKCS#12 wrong password", "client-rsa.p12", NULL, NULL, "wrong",
		    SV_ERR_BAD_PASSWORD, "wrong PKCS#12 password" },
		{ "PKCS#12 EC wrong password", "client-ec.p12", NULL, NULL, "wrong",
		    SV_ERR_BAD_PASSWORD, "wrong PKCS#12 password" },
		{ "PKCS#12 no password", "client-rsa.p12", NULL, NULL, NULL,
		    SV_ERR_BAD_PASSWORD, "the PKCS#12 file needs a password" },
		{ "PKCS#12 empty password", "client-rsa.p12", NULL, NULL, "",
		    SV_ERR_BAD_PASSWORD, "the PKCS#12 file needs a password" },
		{ "PKCS#12 with an unrelated --key", "client-rsa.p12", NULL, "other.key", "P",
		    SV_ERR_KEY_MISMATCH, "private key does not match the certificate" },
		{ "PEM cert with an unrelated key", "client-rsa.pem", NULL, "other.key", NULL,
		    SV_ERR_KEY_MISMATCH, "private key does not match the certificate" },
		{ "PEM CA cert with the client key", "ca.pem", NULL, "client-rsa.key", NULL,
		    SV_ERR_KEY_MISMATCH, "private key does not match the certificate" },
		{ "PEM cert and unrelated key in one file", "client-rsa.pem", "other.key", NULL, NULL,
		    SV_ERR_KEY_MISMATCH, "private key does not match the certificate" },
		{ "PEM cert without any key", "client-rsa.pem", NULL, NULL, NULL,
		    SV_ERR_BAD_FORMAT, "no private key found (give --key FILE)" },
		{ "PEM chain without any key", "client-chain.pem", NULL, NULL, NULL,
		    SV_ERR_BAD_FORMAT, "no private key found (give --key FILE)" },
		{ "PEM key alone", "client-rsa.key", NULL, NULL, NULL,
		    SV_ERR_BAD_FORMAT, "no certificate found" },
		{ "PEM key given as the certificate and as --key", "client-rsa.key", NULL,
		    "client-rsa.key", NULL, SV_ERR_BAD_FORMAT, "no certificate found" },
		{ "empty key file", "client-rsa.pem", NULL, "", NULL,
		    SV_ERR_BAD_FORMAT, "empty key file" },
		{ "two keys in the key file", "client-rsa.pem", NULL, "TWO", NULL,
		    SV_ERR_BAD_FORMAT, "more than one private key in the key file" },
		{ "encrypted PEM key, no password", "client-rsa.pem", NULL, "client-rsa-enc.key",
		    NULL, SV_ERR_BAD_PASSWORD, "the private key is encrypted and no password was given" },
		{ "encrypted PEM key, wrong password", "client-rsa.pem", NULL, "client-rsa-enc.key",
		    "wrong", SV_ERR_BAD_PASSWORD, "wrong private key password" },
		{ "encrypted PEM key inline, no password", "client-rsa.pem", "client-rsa-enc.key",
		    NULL, NULL, SV_ERR_BAD_PASSWORD,
		    "the private key is encrypted and no password was given" },
		{ "certificate given as the key file", "client-rsa.pem", NULL, "client-rsa.pem", NULL,
		    SV_ERR_BAD_FORMAT, "no private key found in the key file" },
		{ "PKCS#12 given as the key file", "client-rsa.pem", NULL, "client-rsa.p12", NULL,
		    SV_ERR_BAD_FORMAT, "the key file holds no private key in PEM or DER form" },
		{ "password file given as the certificate", "p12.pass", NULL, NULL, NULL,
		    SV_ERR_BAD_FORMAT, "not a PKCS#12 or PEM certificate file" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *pw = rows[i].pw != NULL && strcmp(rows[i].pw, "P") == 0 ?
		    p12pass : rows[i].pw;
		struct blob d, k = { NULL, 0 };
		struct vault_cert sentinel, *c = &sentinel;
		char msg[SV_MSG_MAX] = "";
		int r;

		d = rows[i].file2 != NULL ? concat(rows[i].file, rows[i].file2) : slurp(rows[i].file);
		if (rows[i].key != NULL && strcmp(rows[i].key, "TWO") == 0)
			k = concat("client-rsa.key", "other.key");
		else if (rows[i].key != NULL && rows[i].key[0] != '\0')
			k = slurp(rows[i].key);
		else if (rows[i].key != NULL && (k.p = calloc(1, 1)) == NULL)
			bail("out of memory");
		r = vault_cert_parse(d.p, d.len, pw, k.p, k.len, &c, msg);
		is_int(r, rows[i].err, "%s: error code", rows[i].what);
		is_str(msg, rows[i].msg, "%s: message", rows[i].what);
		ok(c == &sentinel, "%s: output untouched", rows[i].what);
		ok(queue_empty(), "%s: OpenSSL error queue empty", rows[i].what);
		blob_free(&d);
		blob_free(&k);
	}
}

/* A string literal as bytes and length, NULs included. */
#define B(s) (s), sizeof(s) - 1

static void
test_two_keys_inline(void)
{
	struct blob a = concat("client-rsa.pem", "client-rsa.key"), b = slurp("other.key"), d;
	struct vault_cert *c = NULL;
	char msg[SV_MSG_MAX] = "";

	if ((d.p = malloc(a.len + b.len)) == NULL)
		bail("out of memory");
	memcpy(d.p, a.p, a.len);
	memcpy(d.p + a.len, b.p, b.len);
	d.len = a.len + b.len;
	is_int(vault_cert_parse(d.p, d.len, NULL, NULL, 0, &c, msg), SV_ERR_BAD_FORMAT,
	    "cert and two keys in one file: refused");
	is_str(msg, "more than one private key in the file", "cert and two keys in one file: message");
	ok(c == NULL && queue_empty(), "cert and two keys in one file: no output, queue empty");
	blob_free(&a);
	blob_free(&b);
	blob_free(&d);
}

static void
test_bad_bytes(void)
{
	static const struct {
		const char *what;
		const char *data;
		size_t len;
		int err;
		const char *msg;
	} rows[] = {
		{ "empty input", B(""), SV_ERR_BAD_FORMAT, "empty file" },
		{ "text garbage", B("hello, I am not a certificate\n"),
		    SV_ERR_BAD_FORMAT, "not a PKCS#12 or PEM certificate file" },
		{ "binary garbage", B("\x00\x01\x02\x03\xff\xfe"),
		    SV_ERR_BAD_FORMAT, "not a PKCS#12 or PEM certificate file" },
		{ "text that starts like a DER SEQUENCE", B("0123456789ABCDEF0123456789ABCDEF01234567"),
		    SV_ERR_BAD_FORMAT, "not a PKCS#12 or PEM certificate file" },
		{ "a DER SEQUENCE that is no certificate", B("\x30\x03\x01\x01\xff"),
		    SV_ERR_BAD_FORMAT, "not a PKCS#12 or PEM certificate file" },
		{ "a DER header promising more than there is", B("\x30\x82\x10\x00\x02\x01"),
		    SV_ERR_BAD_FORMAT, "truncated PKCS#12 or DER file" },
		{ "a DER long-form length cut short", B("\x30\x84\x10"),
		    SV_ERR_BAD_FORMAT, "truncated PKCS#12 or DER file" },
		{ "PEM with broken base64",
		    B("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
		    SV_ERR_BAD_FORMAT, "damaged PEM data" },
		{ "PEM without an end line", B("-----BEGIN CERTIFICATE-----\nAAAA\n"),
		    SV_ERR_BAD_FORMAT, "damaged PEM data" },
		{ "PEM certificate block of garbage",
		    B("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		    SV_ERR_BAD_FORMAT, "damaged certificate in PEM data" },
		{ "PEM key block of garbage",
		    B("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
		    SV_ERR_BAD_FORMAT, "damaged or unsupported private key" },
		{ "PEM of another kind only",
		    B("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"),
		    SV_ERR_BAD_FORMAT, "no certificate found" },
		{ "text that mentions -----BEGIN but holds no block",
		    B("see -----BEGIN CERTIFICATE----- in the manual"),
		    SV_ERR_BAD_FORMAT, "no certificate found" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vault_cert sentinel, *c = &sentinel;
		char msg[SV_MSG_MAX] = "";
		int r;

		r = vault_cert_parse(rows[i].data, rows[i].len, NULL, NULL, 0, &c, msg);
		is_int(r, rows[i].err, "%s: error code", rows[i].what);
		is_str(msg, rows[i].msg, "%s: message", rows[i].what);
		ok(c == &sentinel, "%s: output untouched", rows[i].what);
		ok(queue_empty(), "%s: OpenSSL error queue empty", rows[i].what);
	}
}

static void
test_truncated_and_oversized(void)
{
	struct blob d = slurp("client-rsa.p12"), k = slurp("client-rsa.key");
	struct vault_cert *c = NULL;
	char msg[SV_MSG_MAX] = "";
	uint8_t *big;
	size_t n, bad = 0;

	is_int(vault_cert_parse(d.p, d.len / 2, p12pass, NULL, 0, &c, msg), SV_ERR_BAD_FORMAT,
	    "PKCS#12 cut in half: refused");
	is_str(msg, "truncated PKCS#12 or DER file", "PKCS#12 cut in half: message");
	ok(c == NULL && queue_empty(), "PKCS#12 cut in half: no output, queue empty");
	/* every other prefix too: never accepted, never crashes */
	for (n = 1; n < d.len; n++) {
		if (vault_cert_parse(d.p, n, p12pass, NULL, 0, &c, msg) != SV_ERR_BAD_FORMAT ||
		    c != NULL || !queue_empty())
			bad++;
	}
	is_int(bad, 0, "PKCS#12: every prefix refused with SV_ERR_BAD_FORMAT");
	blob_free(&d);

	if ((big = calloc(1, 1024 * 1024 + 1)) == NULL)
		bail("out of memory");
	is_int(vault_cert_parse(big, 1024 * 1024 + 1, NULL, NULL, 0, &c, msg), SV_ERR_TOO_LARGE,
	    "over 1 MiB: refused before parsing");
	d = slurp("client-rsa.pem");
	is_int(vault_cert_parse(d.p, d.len, NULL, big, 1024 * 1024 + 1, &c, msg), SV_ERR_TOO_LARGE,
	    "key over 1 MiB: refused");
	free(big);
	blob_free(&d);
	blob_free(&k);
}

static void
test_times(void)
{
	struct vault_cert *c;
	char msg[SV_MSG_MAX] = "";
	int r;

	c = parse_files("expired.p12", NULL, p12pass, &r, msg);
	is_int(r, 0, "expired PKCS#12: still parses (%s)", r ? msg : "ok");
	if (c != NULL) {
		check_leaf("expired", c, "expired.pem", "expired.sha1");
		is_int(c->not_before, 1577836800, "expired: not before 2020-01-01T00:00:00Z");
		is_int(c->not_after, 1577923200, "expired: not after 2020-01-02T00:00:00Z");
		is_int(vault_cert_check_time(c, (int64_t)time(NULL)), SV_ERR_CERT_EXPIRED,
		    "expired: SV_ERR_CERT_EXPIRED now");
		is_int(vault_cert_check_time(c, 1577923200), 0, "expired: valid at its last second");
		is_int(vault_cert_check_time(c, 1577923201), SV_ERR_CERT_EXPIRED,
		    "expired: expired one second later");
		is_int(vault_cert_check_time(c, 1577836800), 0, "expired: valid at its first second");
		is_int(vault_cert_check_time(c, 1577836799), SV_ERR_CERT_NOT_YET_VALID,
		    "expired: not yet valid one second before");
	}
	vault_cert_free(c);

	c = parse_files("notyet.pem", NULL, NULL, &r, msg);
	is_int(r, SV_ERR_BAD_FORMAT, "not-yet-valid PEM without key: refused");
	c = parse_files("notyet.pem", "notyet.key", NULL, &r, msg);
	is_int(r, 0, "not-yet-valid PEM + key: parses (%s)", r ? msg : "ok");
	if (c != NULL) {
		is_int(c->not_before, 4070908800LL, "notyet: not before 2099-01-01 (GeneralizedTime)");
		is_int(c->not_after, 4102358400LL, "notyet: not after 2099-12-31");
		is_int(vault_cert_check_time(c, (int64_t)time(NULL)), SV_ERR_CERT_NOT_YET_VALID,
		    "notyet: SV_ERR_CERT_NOT_YET_VALID now");
	}
	vault_cert_free(c);
}

/* ---- the stored form ------------------------------------------------- */

static int
same_buf(const struct svbuf *a, const struct svbuf *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return svbuf_len(a) == svbuf_len(b) &&
	    memcmp(svbuf_ptr(a), svbuf_ptr(b), svbuf_len(a)) == 0;
}

static int
same_public(const struct vault_cert *a, const struct vault_cert *b)
{
	return strcmp(a->sha1, b->sha1) == 0 && strcmp(a->sha256, b->sha256) == 0 &&
	    strcmp(a->subject, b->subject) == 0 && strcmp(a->issuer, b->issuer) == 0 &&
	    strcmp(a->serial, b->serial) == 0 && strcmp(a->key_type, b->key_type) == 0 &&
	    a->not_before == b->not_before && a->not_after == b->not_after &&
	    a->chain_count == b->chain_count && same_buf(a->chain_der, b->chain_der);
}

/* Decode a copy of bytes [0, len) and expect err with a message starting so. */
static void
expect_decode(const uint8_t *p, size_t len, int err, const char *msgstart, const char *what)
{
	struct svbuf *in = svbuf_from(p, len);
	struct vault_cert sentinel, *c = &sentinel;
	char msg[SV_MSG_MAX] = "";

	is_int(vault_cert_decode(in, &c, msg), err, "decode: %s: error code", what);
	ok(strncmp(msg, msgstart, strlen(msgstart)) == 0, "decode: %s: message '%s'", what, msg);
	ok(c == &sentinel && svbuf_len(in) == len, "decode: %s: nothing consumed or returned",
	    what);
	ok(queue_empty(), "decode: %s: OpenSSL error queue empty", what);
	svbuf_free(in);
}

static size_t
count_offset(const struct vault_cert *c)
{
	return 1 + (4 + 40) + (4 + 64) + (4 + strlen(c->subject)) + (4 + strlen(c->issuer)) +
	    (4 + strlen(c->serial)) + (4 + strlen(c->key_type)) + 8 + 8;
}

static void
test_encoding(void)
{
	struct vault_cert *c = NULL, *d = NULL, *pub = NULL;
	struct svbuf *enc = svbuf_new_secure(0), *enc2 = svbuf_new_secure(0);
	struct svbuf *in, *small;
	char msg[SV_MSG_MAX] = "";
	uint8_t *copy;
	size_t len, n, bad, off;
	int r;

	c = parse_files("expired.p12", NULL, p12pass, &r, msg);
	if (c == NULL || enc == NULL || enc2 == NULL)
		bail("cannot set up the encoding tests");
	is_int(vault_cert_encode(c, enc), 0, "encode");
	len = svbuf_len(enc);
	if ((copy = malloc(len + 1)) == NULL)
		bail("out of memory");
	memcpy(copy, svbuf_ptr(enc), len);

	/* known bytes: the layout that records on disk rely on */
	ok(copy[0] == 1, "encoding: version byte 1");
	ok(memcmp(copy + 1, "\x00\x00\x00\x28", 4) == 0 && memcmp(copy + 5, c->sha1, 40) == 0,
	    "encoding: SHA-1 thumbprint string first");
	ok(memcmp(copy + 45, "\x00\x00\x00\x40", 4) == 0 && memcmp(copy + 49, c->sha256, 64) == 0,
	    "encoding: SHA-256 thumbprint string second");
	off = count_offset(c);
	ok(memcmp(copy + off - 16, "\x00\x00\x00\x00\x5e\x0b\xe1\x00", 8) == 0,
	    "encoding: not_before 2020-01-01 as big-endian u64");
	ok(memcmp(copy + off - 8, "\x00\x00\x00\x00\x5e\x0d\x32\x80", 8) == 0,
	    "encoding: not_after 2020-01-02 as big-endian u64");
	ok(memcmp(copy + off, "\x00\x00\x00\x02", 4) == 0, "encoding: chain count 2");
	ok(len == off + 4 + svbuf_len(c->chain_der) + 4 + svbuf_len(c->key_pkcs8),
	    "encoding: chain strings then the key string, nothing else");

	/* round trip */
	in = svbuf_from(copy, len);
	is_int(vault_cert_decode(in, &d, msg), 0, "decode: round trip (%s)", msg);
	is_int(svbuf_len(in), 0, "decode: consumed the whole record");
	ok(queue_empty(), "decode: OpenSSL error queue empty");
	svbuf_free(in);
	if (d != NULL) {
		ok(same_public(c, d), "decode: public fields equal");
		ok(same_buf(c->key_pkcs8, d->key_pkcs8), "decode: key bytes equal");
		is_int(vault_cert_encode(d, enc2), 0, "re-encode");
		ok(same_buf(enc, enc2), "re-encoding is byte-identical");
	}

	/* every truncation */
	bad = 0;
	for (n = 0; n < len; n++) {
		struct vault_cert *t = NULL;

		in = svbuf_from(copy, n);
		r = vault_cert_decode(in, &t, msg);
		if (r != SV_ERR_TRUNCATED || t != NULL || svbuf_len(in) != n ||
		    strncmp(msg, "certificate record truncated", 28) != 0)
			bad++;
		vault_cert_free(t);
		svbuf_free(in);
	}
	is_int(bad, 0, "decode: each of the %zu prefixes is SV_ERR_TRUNCATED, nothing consumed", len);
	ok(queue_empty(), "decode: truncations leave the OpenSSL error queue empty");

	copy[len] = 0;
	expect_decode(copy, len + 1, SV_ERR_TRAILING, "certificate record has 1 trailing byte",
	    "one trailing byte");
	copy[0] = 2;
	expect_decode(copy, len, SV_ERR_VERSION, "unsupported certificate record version 2",
	    "version 2");
	copy[0] = 0;
	expect_decode(copy, len, SV_ERR_VERSION, "unsupported certificate record version 0",
	    "version 0");
	copy[0] = 1;

	copy[5] = copy[5] == 'A' ? 'B' : 'A';
	expect_decode(copy, len, SV_ERR_INTEGRITY,
	    "stored thumbprint does not match the stored certificate", "altered SHA-1");
	copy[5] = (uint8_t)c->sha1[0];
	copy[49] = copy[49] == 'A' ? 'B' : 'A';
	expect_decode(copy, len, SV_ERR_INTEGRITY,
	    "stored thumbprint does not match the stored certificate", "altered SHA-256");
	copy[49] = (uint8_t)c->sha256[0];
	copy[5] = 'x';
	expect_decode(copy, len, SV_ERR_INTEGRITY, "certificate record has a malformed SHA-1",
	    "non-hex SHA-1");
	copy[5] = (uint8_t)c->sha1[0];

	/* the last byte of the leaf is in its signature */
	n = off + 4 + 4 + svbuf_ptr(c->chain_der)[3] + 256u * svbuf_ptr(c->chain_der)[2] - 1;
	copy[n] ^= 0x01;
	expect_decode(copy, len, SV_ERR_INTEGRITY, "stored thumbprint does not match",
	    "altered leaf signature");
	copy[n] ^= 0x01;
	copy[off + 4 + 4] ^= 0xff;
	expect_decode(copy, len, SV_ERR_INTEGRITY, "stored certificate is damaged",
	    "leaf DER damaged");
	copy[off + 4 + 4] ^= 0xff;

	memcpy(copy + off, "\x00\x00\x00\x00", 4);
	expect_decode(copy, len, SV_ERR_INTEGRITY, "certificate record has a chain of 0",
	    "chain count 0");
	memcpy(copy + off, "\xff\xff\xff\xff", 4);
	expect_decode(copy, len, SV_ERR_INTEGRITY, "certificate record has a chain of 4294967295",
	    "chain count 2^32-1");
	memcpy(copy + off, "\x00\x00\x00\x02", 4);

	in = svbuf_from(copy, len);
	is_int(vault_cert_decode(in, &pub, msg), 0, "restored bytes decode again");
	svbuf_free(in);
	vault_cert_free(pub);
	pub = NULL;

	/* the public part alone */
	in = svbuf_from(copy, len);
	is_int(vault_cert_decode_public(in, &pub, msg), 0, "decode_public of a full record");
	svbuf_free(in);
	if (pub != NULL) {
		ok(pub->key_pkcs8 == NULL, "decode_public: no key copied");
		ok(same_public(c, pub), "decode_public: public fields equal");
		svbuf_reset(enc2);
		is_int(vault_cert_encode(pub, enc2), 0, "encode without a key");
		is_int(svbuf_len(enc2), len - svbuf_len(c->key_pkcs8),
		    "encoding without a key has an empty key string");
		vault_cert_free(d);
		d = NULL;
		is_int(vault_cert_decode(enc2, &d, msg), 0, "decode of a keyless record");
		ok(d != NULL && d->key_pkcs8 == NULL && same_public(c, d),
		    "decode of a keyless record: no key, same public part");
		small = svbuf_new_secure(0);
		is_int(vault_cert_key_pem(pub, small), SV_ERR_NOT_FOUND,
		    "key_pem without a key: SV_ERR_NOT_FOUND");
		svbuf_free(small);
	}

	/* a failed encode appends nothing */
	small = svbuf_new(100);
	is_int(vault_cert_encode(c, small), SV_ERR_TOO_LARGE, "encode into a too small buffer");
	is_int(svbuf_len(small), 0, "failed encode left the buffer empty");
	svbuf_free(small);

	sodium_memzero(copy, len + 1);
	free(copy);
	vault_cert_free(pub);
	vault_cert_free(d);
	vault_cert_free(c);
	svbuf_free(enc);
	svbuf_free(enc2);
}

/* ---- PEM out --------------------------------------------------------- */

static void
test_pem_out(const char *what, const char *file, const char *key, const char *pw)
{
	struct vault_cert *c = NULL;
	struct svbuf *out = svbuf_new(0), *kout = svbuf_new_secure(0);
	char msg[SV_MSG_MAX] = "", sha1[VAULT_SHA1_HEX + 1];
	struct blob want;
	BIO *bio;
	X509 *x, *leaf = NULL;
	EVP_PKEY *k;
	size_t count = 0;
	int r;

	c = parse_files(file, key, pw, &r, msg);
	if (c == NULL || out == NULL || kout == NULL)
		bail(what);
	is_int(vault_cert_chain_pem(c, out), 0, "%s: chain_pem", what);
	bio = BIO_new_mem_buf(svbuf_ptr(out), (int)svbuf_len(out));
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (count++ == 0)
			leaf = x;
		else
			X509_free(x);
	}
	ERR_clear_error();
	BIO_free(bio);
	is_int(count, c->chain_count, "%s: chain_pem reads back with OpenSSL, every certificate",
	    what);
	if (leaf != NULL) {
		leaf_digest(leaf, EVP_sha1(), sha1);
		is_str(sha1, c->sha1, "%s: chain_pem puts the leaf first", what);
	}

	is_int(vault_cert_key_pem(c, kout), 0, "%s: key_pem", what);
	ok(svbuf_len(kout) > 60 && memcmp(svbuf_ptr(kout), "-----BEGIN PRIVATE KEY-----\n", 28) == 0,
	    "%s: key_pem is unencrypted PKCS#8 PEM", what);
	bio = BIO_new_mem_buf(svbuf_ptr(kout), (int)svbuf_len(kout));
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ok(k != NULL && leaf != NULL && X509_check_private_key(leaf, k) == 1,
	    "%s: key_pem loads with PEM_read_bio_PrivateKey and matches the leaf", what);
	EVP_PKEY_free(k);
	ERR_clear_error();

	if (key != NULL) {
		/* both writers produce PKCS#8 with 64-column base64: the same bytes */
		want = slurp(key);
		ok(want.len == svbuf_len(kout) && memcmp(want.p, svbuf_ptr(kout), want.len) == 0,
		    "%s: key_pem is byte-identical to the openssl-written key", what);
		blob_free(&want);
		want = slurp(file);
		ok(want.len == svbuf_len(out) && memcmp(want.p, svbuf_ptr(out), want.len) == 0,
		    "%s: chain_pem is byte-identical to the openssl-written PEM", what);
		blob_free(&want);
	}
	X509_free(leaf);
	svbuf_free(out);
	svbuf_free(kout);
	vault_cert_free(c);
}

/* The keys made for the run go with it, even after a bail out. */
static void
remove_pki(void)
{
	char *rm[] = { "rm", "-rf", pkidir, NULL };

	if (tap_run(rm) != 0)
		printf("# could not remove %s\n", pkidir);
}

int
main(void)
{
	char *mk[] = { "sh", PKI_SCRIPT, pkidir, NULL };
	struct blob pass;

	if (sodium_init() < 0)
		bail("sodium_init");
	if (mkdtemp(pkidir) == NULL)
		bail("mkdtemp");
	atexit(remove_pki);
	if (tap_run(mk) != 0)
		bail("tests/pki.sh failed");
	pass = slurp("p12.pass");
	if (pass.len == 0 || pass.len >= sizeof(p12pass))
		bail("p12.pass");
	memcpy(p12pass, pass.p, pass.len);
	blob_free(&pass);

	test_thumbprint_table();
	test_thumbprint_huge();
	test_p12();
	test_pem();
	test_key_forms();
	test_der_cert();
	test_p12_variants();
	test_p12_legacy();
	test_bad_files();
	test_two_keys_inline();
	test_bad_bytes();
	test_truncated_and_oversized();
	test_times();
	test_encoding();
	test_pem_out("PEM out RSA", "client-rsa.pem", "client-rsa.key", NULL);
	test_pem_out("PEM out EC", "client-ec.pem", "client-ec.key", NULL);
	test_pem_out("PEM out chain", "client-chain.pem", "client-rsa.key", NULL);
	test_pem_out("PEM out PKCS#12 EC", "client-ec.p12", NULL, p12pass);

	return done_testing();
}
