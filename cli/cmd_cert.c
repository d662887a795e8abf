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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *users[CERT_USERS_MAX], *pwfile = NULL, *keyfile = NULL, *file;
	uint8_t *data = NULL, *key = NULL;
	size_t nusers = 0, dlen = 0, klen = 0, pwlen = 0;
	char *pw = NULL, sha1[41];
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		switch (o) {
		case 'p': pwfile = optarg; break;
		case 'k': keyfile = optarg; break;
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
	r = ssovault_cert_import(c->h, data, dlen, pw, key, klen, users, nusers, sha1);
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
		r = ssovault_cert_import(c->h, data, dlen, pw, key, klen, users, nusers, sha1);
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
	printf("%-40s  %-*s  %-10s  %-13s  %s\n", "THUMBPRINT", w, "SUBJECT", "NOT AFTER",
	    "STATUS", "USERS");
	json_array_foreach(arr, i, e) {
		if (json_object_get(e, "error") != NULL) {
			printf("%-40s  %-*s  %-10s  %-13s  %s\n", str(e, "thumbprint"), w,
			    "?", "?", "DAMAGED", str(e, "error"));
			continue;
		}
		printf("%-40s  %-*.*s  %-10s  %-13s  ", str(e, "thumbprint"), w, w,
		    str(e, "subject"), date_of(e, "not_after", d),
		    strcmp(str(e, "status"), "valid") == 0 ? "valid" :
		    strcmp(str(e, "status"), "expired") == 0 ? "EXPIRED" : "NOT YET VALID");
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
	printf("Key:         %s\n", str(j, "key_type"));
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

static int
cmd_cert_export(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	char *pem = NULL;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "o:", opts)) != -1) {
		if (o == 'o')
			out = optarg;
	}
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0 || (r = cli_open(c, 1)) != 0)
		return r;
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
	} else if (out != NULL && strcmp(out, "-") != 0)
		r = cli_write_new_file(c, out, pem, strlen(pem));
	else if (fputs(pem, stdout) == EOF)
		r = cli_fail(c, SV_ERR_IO, "cannot write to standard output");
	free(pem);
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
	    "\nOnly the SHA-1 thumbprint is printed (--json: {\"thumbprint\": ...}), so:\n"
	    "  t=$(ssovault cert import client.p12 --password-file pw --user user:etl)\n" },
	{ "list", cmd_cert_list, NULL, NULL,
	    "list certificates: thumbprint, subject, expiry, status, users", NULL },
	{ "show", cmd_cert_show, NULL, "THUMBPRINT",
	    "show a certificate; flags it when expired or not yet valid", THUMB_HELP },
	{ "export", cmd_cert_export, NULL, "THUMBPRINT [--out FILE]",
	    "print the certificate chain as PEM (never the key)",
	    "Options:\n"
	    "  --out FILE   write a new file (mode 0600) instead of standard output\n"
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
