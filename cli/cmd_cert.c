/*
 * ssovault cert import | list | show | export | delete | grant | revoke:
 * client certificates for sending, keyed by thumbprint.  Thumbprints are
 * passed to the service as typed (it normalises them: case, spaces, colons,
 * invisible characters pasted from Windows); error prefixes never repeat
 * them, as a paste may hold anything.  Import files are read into secure
 * memory: they hold a private key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

/* As vault/cert.c: import files are a few kilobytes. */
#define CERT_FILE_MAX (1024u * 1024u)
#define CERT_USERS_MAX 1024

/* Read a whole import file ("-" is stdin) into sodium memory. */
static int
read_secure(struct cli *c, const char *path, uint8_t **ret, size_t *ret_len)
{
	size_t cap = CERT_FILE_MAX + 1, len = 0;
	uint8_t *buf;
	ssize_t n;
	int fd, e;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cli_fail(c, errno == ENOENT ? SV_ERR_NOT_FOUND : SV_ERR_IO,
		    "cannot read %s: %s", path, strerror(errno));
	if ((buf = sodium_malloc(cap)) == NULL) {
		if (fd != STDIN_FILENO)
			close(fd);
		return cli_fail(c, SV_ERR_NOMEM, "out of memory");
	}
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	e = n < 0 ? errno : 0;
	if (fd != STDIN_FILENO)
		close(fd);
	if (e != 0 || len > CERT_FILE_MAX) {
		sodium_free(buf);
		if (e != 0)
			return cli_fail(c, SV_ERR_IO, "cannot read %s: %s", path, strerror(e));
		return cli_fail(c, SV_ERR_TOO_LARGE, "%s is larger than 1 MiB: not a "
		    "certificate or key file", path);
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/*
 * 1 if a PKCS#12 file names one of PKCS#12's own password-based ciphers
 * (OID 1.2.840.113549.1.12.1.*: RC4, 3DES, 2DES, RC2), all of them weak;
 * modern exports use PBES2 with AES.
 */
static int
p12_legacy_pbe(const uint8_t *data, size_t len)
{
	static const uint8_t oid[] = { 0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
		0x01, 0x0c, 0x01 };
	size_t i;

	if (len < sizeof(oid) || data[0] != 0x30)
		return 0;
	for (i = 0; i + sizeof(oid) <= len; i++)
		if (memcmp(data + i, oid, sizeof(oid)) == 0)
			return 1;
	return 0;
}

static int
cmd_cert_import(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' },
		{ "user", required_argument, NULL, 'u' },
		{ "exportable", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *users[CERT_USERS_MAX], *pwfile = NULL, *keyfile = NULL, *file;
	uint8_t *data = NULL, *key = NULL;
	size_t nusers = 0, dlen = 0, klen = 0, pwlen = 0;
	char *pw = NULL, sha1[41];
	unsigned flags = 0;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		switch (o) {
		case 'p': pwfile = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'x': flags |= SSOVAULT_CERT_EXPORTABLE; break;
		case 'u':
			if (nusers == CERT_USERS_MAX)
				return cli_usage(c, "at most %d --user options", CERT_USERS_MAX);
			if ((r = cli_principal_known(c, optarg)) != 0)
				return r;
			users[nusers++] = optarg;
			break;
		}
	}
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	file = argv[optind];
	cli_what(c, "cert import %s", file);
	if ((r = read_secure(c, file, &data, &dlen)) != 0 ||
	    (keyfile != NULL && (r = read_secure(c, keyfile, &key, &klen)) != 0) ||
	    (pwfile != NULL && (r = cli_secret_file(c, pwfile, "password file", &pw, &pwlen)) != 0) ||
	    (r = cli_open(c, 1)) != 0)
		goto out;
	r = ssovault_cert_import_flags(c->h, data, dlen, pw, key, klen, users, nusers, flags,
	    sha1);
	/* a password-protected file and no --password-file: ask, on a terminal */
	if (r == SV_ERR_BAD_PASSWORD && pwfile == NULL) {
		if (!isatty(STDIN_FILENO)) {
			r = cli_fail(c, r, "%s: give it with --password-file FILE",
			    ssovault_errmsg(c->h));
			goto out;
		}
		if ((r = cli_secret_prompt(c, "Password of the certificate file: ", 0,
		    &pw, &pwlen)) != 0)
			goto out;
		r = ssovault_cert_import_flags(c->h, data, dlen, pw, key, klen, users, nusers,
		    flags, sha1);
	}
	if (r != 0) {
		r = cli_fail_h(c, r);
		goto out;
	}
	if (p12_legacy_pbe(data, dlen))
		cli_warn(c, "%s used weak encryption (PKCS#12 RC2/3DES, as older Windows "
		    "exports it); it was read with OpenSSL's legacy provider for this import "
		    "only.  The vault keeps the key under its own encryption: delete the file",
		    file);
	/* only the thumbprint, so that scripts can capture it */
	if (c->json)
		printf("{\"thumbprint\": \"%s\"}\n", sha1);
	else
		printf("%s\n", sha1);
	r = 0;
out:
	if (data != NULL)
		sodium_free(data);
	if (key != NULL)
		sodium_free(key);
	if (pw != NULL)
		sodium_free(pw);
	return r;
}

/* "2026-11-24T10:00:00Z" -> "2026-11-24" */
static const char *
date_of(json_t *cert, const char *member, char out[11])
{
	const char *s = json_string_value(json_object_get(cert, member));

	snprintf(out, 11, "%s", s != NULL ? s : "-");
	return out;
}

static const char *
str(json_t *j, const char *member)
{
	const char *s = json_string_value(json_object_get(j, member));

	return s != NULL ? s : "";
}

static void
print_users(json_t *users)
{
	json_t *u;
	size_t i;

	if (json_array_size(users) == 0)
		printf("(none)");
	json_array_foreach(users, i, u)
		printf("%s%s", i > 0 ? ", " : "", json_string_value(u));
}

static void
list_human(struct cli *c, json_t *arr)
{
	int w = (int)strlen("SUBJECT");
	char d[11];
	json_t *e;
	size_t i;

	if (json_array_size(arr) == 0) {
		printf("No certificates.  Import one with 'ssovault cert import FILE'.\n");
		return;
	}
	json_array_foreach(arr, i, e) {
		if ((int)strlen(str(e, "subject")) > w)
			w = (int)strlen(str(e, "subject"));
	}
	if (w > 60)
		w = 60;
	printf("%-40s  %-*s  %-10s  %-13s  %-14s  %s\n", "THUMBPRINT", w, "SUBJECT",
	    "NOT AFTER", "STATUS", "KEY", "USERS");
	json_array_foreach(arr, i, e) {
		if (json_object_get(e, "error") != NULL) {
			printf("%-40s  %-*s  %-10s  %-13s  %-14s  %s\n", str(e, "thumbprint"), w,
			    "?", "?", "DAMAGED", "?", str(e, "error"));
			continue;
		}
		printf("%-40s  %-*.*s  %-10s  %-13s  %-14s  ", str(e, "thumbprint"), w, w,
		    str(e, "subject"), date_of(e, "not_after", d),
		    strcmp(str(e, "status"), "valid") == 0 ? "valid" :
		    strcmp(str(e, "status"), "expired") == 0 ? "EXPIRED" : "NOT YET VALID",
		    json_is_true(json_object_get(e, "exportable")) ? "EXPORTABLE" : "not exportable");
		print_users(json_object_get(e, "users"));
		printf("\n");
	}
}

static int
cmd_cert_list(struct cli *c, int argc, char **argv)
{
	return cli_list(c, argc, argv, ssovault_cert_list, list_human);
}

static void
show_human(struct cli *c, json_t *j)
{
	const char *status = str(j, "status");

	if (strcmp(status, "expired") == 0)
		printf("*** EXPIRED on %s: sends with this certificate are refused ***\n\n",
		    str(j, "not_after"));
	else if (strcmp(status, "not yet valid") == 0)
		printf("*** NOT YET VALID: usable from %s on ***\n\n", str(j, "not_before"));
	printf("Thumbprint:  %s\n", str(j, "thumbprint"));
	printf("SHA-256:     %s\n", str(j, "sha256"));
	printf("Subject:     %s\n", str(j, "subject"));
	printf("Issuer:      %s\n", str(j, "issuer"));
	printf("Serial:      %s\n", str(j, "serial"));
	printf("Key:         %s, %s\n", str(j, "key_type"),
	    json_is_true(json_object_get(j, "exportable")) ?
	    "EXPORTABLE: its users may fetch it ('ssovault cert update THUMBPRINT "
	    "--non-exportable' keeps it in the vault)" :
	    "non-exportable: the service signs with it and never hands it out");
	printf("Not before:  %s\n", str(j, "not_before"));
	printf("Not after:   %s\n", str(j, "not_after"));
	printf("Status:      %s\n", strcmp(status, "valid") == 0 ? "valid" :
	    strcmp(status, "expired") == 0 ? "EXPIRED" : "NOT YET VALID");
	printf("Users:       ");
	print_users(json_object_get(j, "users"));
	printf("\n");
}

static int
cmd_cert_show(struct cli *c, int argc, char **argv)
{
	char *json = NULL;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0 || (r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_cert_show(c->h, argv[optind], &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, show_human);
	free(json);
	return r;
}

/* Write all of p to fd 1 with write(2): no stdio buffer keeps a copy. */
static int
write_stdout(struct cli *c, const void *p, size_t len)
{
	const char *q = p;
	ssize_t n;

	fflush(stdout);
	while (len > 0) {
		n = write(STDOUT_FILENO, q, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return cli_fail(c, SV_ERR_IO, "cannot write to standard output: %s",
			    strerror(errno));
		q += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write p to out (a new file) or, for NULL or "-", standard output. */
static int
write_out(struct cli *c, const char *out, const void *p, size_t len)
{
	if (out != NULL && strcmp(out, "-") != 0)
		return cli_write_new_file(c, out, p, len);
	return write_stdout(c, p, len);
}

/* The chain and the key of an exportable key, as one PEM, in secure memory. */
static int
export_key(struct cli *c, const char *thumbprint, const char *out)
{
	struct ssovault_cert_blob *b = NULL;
	char *pem;
	int r;

	if ((r = ssovault_cert_fetch(c->h, thumbprint, &b)) != 0)
		return cli_fail_h(c, r);
	if ((pem = sodium_malloc(b->cert_len + b->key_len + 1)) == NULL) {
		ssovault_cert_blob_free(b);
		return cli_fail(c, SV_ERR_NOMEM, "out of memory");
	}
	memcpy(pem, b->cert_pem, b->cert_len);
	memcpy(pem + b->cert_len, b->key_pem, b->key_len);
	r = write_out(c, out, pem, b->cert_len + b->key_len);
	sodium_free(pem);
	ssovault_cert_blob_free(b);
	return r;
}

static int
cmd_cert_export(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "key", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	char *pem = NULL;
	int o, r, key = 0;

	while ((o = cli_getopt(c, argc, argv, "o:", opts)) != -1) {
		if (o == 'o')
			out = optarg;
		else if (o == 'k')
			key = 1;
	}
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	if (key && c->json)
		return cli_usage(c, "--key writes PEM, not JSON: drop --json");
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if (key)
		return export_key(c, argv[optind], out);
	if ((r = ssovault_cert_export(c->h, argv[optind], &pem)) != 0)
		return cli_fail_h(c, r);
	if (c->json && (out == NULL || strcmp(out, "-") == 0)) {
		/* docs/json.md: {"thumbprint", "pem"}; the PEM as one string */
		json_t *j = json_pack("{s:s, s:s}", "thumbprint", argv[optind], "pem", pem);
		char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

		r = s != NULL && printf("%s\n", s) >= 0 ? 0 :
		    cli_fail(c, SV_ERR_IO, "cannot write to standard output");
		free(s);
		json_decref(j);
	} else {
		r = write_out(c, out, pem, strlen(pem));
	}
	free(pem);
	return r;
}

static int
cmd_cert_update(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "non-exportable", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o, r, lock = 0;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if (o == 'n')
			lock = 1;
	}
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	if (!lock)
		return cli_usage(c, "nothing to change: give --non-exportable");
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_cert_update(c->h, argv[optind], 0)) != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("The private key is now non-exportable: the service signs with it "
		    "and never hands it out.\n");
	return 0;
}

/* The signature algorithm for a key type from cert show: PKCS#1 v1.5 or ECDSA, SHA-256. */
static int
default_alg(struct cli *c, const char *thumbprint, struct ssovault_sign_params *p)
{
	char *json = NULL;
	json_t *j;
	int r, ec;

	if ((r = ssovault_cert_show(c->h, thumbprint, &json)) != 0)
		return cli_fail_h(c, r);
	j = json_loads(json, 0, NULL);
	free(json);
	ec = strncmp(str(j, "key_type"), "EC", 2) == 0;
	json_decref(j);
	return ssovault_sign_params_parse(ec ? "ecdsa-sha256" : "rsa-pkcs1-sha256", p);
}

/* The digest from hex; its length is the hash's, which the service checks. */
static int
digest_hex(struct cli *c, const char *hex, uint8_t *out, size_t *ret_len)
{
	size_t n;

	if (sodium_hex2bin(out, 64, hex, strlen(hex), ":", &n, NULL) != 0 || n == 0)
		return cli_usage(c, "--digest takes 1 to 64 bytes in hexadecimal");
	*ret_len = n;
	return 0;
}

static int
cmd_cert_sign(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "alg", required_argument, NULL, 'a' },
		{ "in", required_argument, NULL, 'i' },
		{ "digest", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ssovault_sign_params p;
	const char *alg = NULL, *in = NULL, *hex = NULL, *out = NULL;
	uint8_t dg[64], *data = NULL, *sig = NULL;
	size_t len = 0, siglen = 0;
	char *b64 = NULL;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "o:", opts)) != -1) {
		switch (o) {
		case 'a': alg = optarg; break;
		case 'i': in = optarg; break;
		case 'd': hex = optarg; break;
		case 'o': out = optarg; break;
		}
	}
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	if ((in == NULL) == (hex == NULL))
		return cli_usage(c, "give the data with --in FILE or its digest with --digest HEX");
	if (alg != NULL && ssovault_sign_params_parse(alg, &p) != 0)
		return cli_usage(c, "unknown --alg '%s': rsa-pkcs1-sha256, rsa-pss-sha256, "
		    "ecdsa-sha256 (or -sha1, -sha224, -sha384, -sha512), rsa-pkcs1, ecdsa", alg);
	if (hex != NULL && (r = digest_hex(c, hex, dg, &len)) != 0)
		return r;
	if ((r = cli_open(c, 1)) != 0 || (alg == NULL && (r = default_alg(c, argv[optind], &p)) != 0))
		return r;
	if (in != NULL) {
		/* one byte more than the service takes, so that too much is its error */
		if ((r = cli_read_file(c, in, SSOVAULT_SIGN_DATA_MAX + 1, &data, &len)) != 0)
			return r;
		p.data = 1;
	}
	r = ssovault_cert_sign(c->h, argv[optind], &p, data != NULL ? data : dg, len, &sig,
	    &siglen);
	free(data);
	if (r != 0)
		return cli_fail_h(c, r);
	if (out != NULL) {
		r = write_out(c, out, sig, siglen);
	} else {
		size_t n = sodium_base64_ENCODED_LEN(siglen, sodium_base64_VARIANT_ORIGINAL);

		if ((b64 = malloc(n)) == NULL) {
			free(sig);
			return cli_fail(c, SV_ERR_NOMEM, "out of memory");
		}
		sodium_bin2base64(b64, n, sig, siglen, sodium_base64_VARIANT_ORIGINAL);
		if (c->json) {
			json_t *j = json_pack("{s:s, s:s}", "thumbprint", argv[optind],
			    "signature", b64);
			char *js = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

			r = js != NULL && printf("%s\n", js) >= 0 ? 0 :
			    cli_fail(c, SV_ERR_IO, "cannot write to standard output");
			free(js);
			json_decref(j);
		} else {
			printf("%s\n", b64);
		}
	}
	free(b64);
	free(sig);
	return r;
}

static int
cmd_cert_delete(struct cli *c, int argc, char **argv)
{
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0 || (r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_cert_delete(c->h, argv[optind])) != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("Certificate deleted.\n");
	return 0;
}

static int
grant(struct cli *c, int argc, char **argv, int add)
{
	const char *p;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 2, 2)) != 0)
		return r;
	p = argv[optind + 1];
	cli_what(c, "cert %s %s", add ? "grant" : "revoke", p);
	if ((add && (r = cli_principal_known(c, p)) != 0) || (r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_cert_grant(c->h, argv[optind], p, add)) != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf(add ? "%s may now use the certificate.\n" :
		    "%s may no longer use the certificate.\n", p);
	return 0;
}

static int
cmd_cert_grant(struct cli *c, int argc, char **argv)
{
	return grant(c, argc, argv, 1);
}

static int
cmd_cert_revoke(struct cli *c, int argc, char **argv)
{
	return grant(c, argc, argv, 0);
}

#define THUMB_HELP \
    "THUMBPRINT is the SHA-1 thumbprint (40 hexadecimal digits, as Windows shows\n" \
    "it) or the SHA-256 one (64).  Case, spaces, colons and the invisible marks\n" \
    "that Windows dialogs paste (U+200E, U+200F, U+FEFF, no-break space) are\n" \
    "ignored.\n"

const struct cli_cmd cli_cmd_cert[] = {
	{ "import", cmd_cert_import, NULL,
	    "FILE [--password-file F] [--key FILE] [--user P]...",
	    "store a client certificate and its private key; prints its thumbprint",
	    "FILE is PKCS#12 (.p12/.pfx), PEM (certificate, chain, maybe the key) or a\n"
	    "DER certificate; RSA and EC keys.  The key must match the certificate.\n"
	    "\nOptions:\n"
	    "  --password-file F   the PKCS#12 (or encrypted key) password, from a file;\n"
	    "                      without it, asked for on a terminal when needed\n"
	    "  --key FILE          the private key, when FILE holds the certificate only\n"
	    "  --user P            may use the certificate for sending (repeatable):\n"
	    "                      user:NAME, group:NAME, uid:N, gid:N\n"
	    "  --exportable        let its users fetch the private key too (as Windows'\n"
	    "                      \"mark this key as exportable\"); without it the key\n"
	    "                      never leaves the vault: the service signs with it\n"
	    "\nOnly the SHA-1 thumbprint is printed (--json: {\"thumbprint\": ...}), so:\n"
	    "  t=$(ssovault cert import client.p12 --password-file pw --user user:etl)\n" },
	{ "list", cmd_cert_list, NULL, NULL,
	    "list certificates: thumbprint, subject, expiry, status, key, users",
	    "KEY is EXPORTABLE for a key its users may fetch (imported with --exportable,\n"
	    "or before ssovault had non-exportable keys), else \"not exportable\".\n" },
	{ "show", cmd_cert_show, NULL, "THUMBPRINT",
	    "show a certificate; flags it when expired or not yet valid", THUMB_HELP },
	{ "export", cmd_cert_export, NULL, "THUMBPRINT [--key] [--out FILE]",
	    "print the certificate chain as PEM (with --key, an exportable key too)",
	    "Options:\n"
	    "  --out FILE   write a new file (mode 0600) instead of standard output\n"
	    "  --key        the private key too, after the chain (PKCS#8 PEM): for users\n"
	    "               of the certificate, and only if its key is exportable; a\n"
	    "               non-exportable key is refused (exit 5)\n"
	    "\n" THUMB_HELP },
	{ "update", cmd_cert_update, NULL, "THUMBPRINT --non-exportable",
	    "make a certificate's private key non-exportable, for good",
	    "Keys imported before ssovault had non-exportable keys, and keys imported\n"
	    "with --exportable, can be fetched by the certificate's users.  After this,\n"
	    "the service only signs with the key.  There is no way back: to have an\n"
	    "exportable key again, delete the certificate and import it again.\n"
	    "\n" THUMB_HELP },
	{ "sign", cmd_cert_sign, NULL,
	    "THUMBPRINT (--in FILE | --digest HEX) [--alg ALG] [--out FILE]",
	    "have the service sign with a certificate's key (for its users)",
	    "The key stays in the vault; every signature is audited (\"cert sign\").\n"
	    "\nOptions:\n"
	    "  --in FILE      the data to sign (\"-\": standard input; at most 1 MiB)\n"
	    "  --digest HEX   or its digest, made by the algorithm's hash\n"
	    "  --alg ALG      rsa-pkcs1-sha256 (RSA keys) or ecdsa-sha256 (EC keys) unless\n"
	    "                 given: rsa-pkcs1-, rsa-pss- or ecdsa- with sha1, sha224,\n"
	    "                 sha256, sha384 or sha512; RSA-PSS salts as long as the digest\n"
	    "  --out FILE     write the signature (raw bytes; ECDSA in DER) to a new file;\n"
	    "                 without it, it is printed in base64\n"
	    "\nVerify with OpenSSL, e.g.:\n"
	    "  ssovault cert export T > cert.pem && openssl x509 -in cert.pem -pubkey -noout > pub.pem\n"
	    "  ssovault cert sign T --in data --out sig && openssl dgst -sha256 -verify pub.pem -signature sig data\n"
	    "\n" THUMB_HELP },
	{ "delete", cmd_cert_delete, NULL, "THUMBPRINT", "delete a certificate and its key",
	    THUMB_HELP },
	{ "grant", cmd_cert_grant, NULL, "THUMBPRINT PRINCIPAL",
	    "let a principal use a certificate for sending",
	    "Every use of a private key is by explicit grant: vault admins grant\n"
	    "themselves like anyone else.\n\n" THUMB_HELP },
	{ "revoke", cmd_cert_revoke, NULL, "THUMBPRINT PRINCIPAL",
	    "take the use of a certificate away", THUMB_HELP },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
