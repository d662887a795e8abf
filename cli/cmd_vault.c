/*
 * ssovault init | status | unlock | lock | backup | restore, and the
 * `secret` family: the life of the vault itself.
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

/*
 * A passphrase or password from a file (what names it: "passphrase file"),
 * or asked for (twice if confirm).
 */
static int
get_passphrase(struct cli *c, const char *file, const char *what, const char *prompt,
    int confirm, char **ret, size_t *ret_len)
{
	if (file != NULL)
		return cli_secret_file(c, file, what, ret, ret_len);
	return cli_secret_prompt(c, prompt, confirm, ret, ret_len);
}

/*
 * Use the key in path, or make one there (0600) if it does not exist;
 * *ret_made says which, so that a failed init can remove the file it made.
 */
int
cli_key_file_make(struct cli *c, const char *path, uint8_t key[32], int *ret_made)
{
	struct stat st;
	int r;

	*ret_made = 0;
	if (lstat(path, &st) == 0)
		return cli_key_file(c, path, key);
	if (errno != ENOENT)
		return cli_fail(c, SV_ERR_IO, "cannot use key file %s: %s", path, strerror(errno));
	randombytes_buf(key, 32);
	if ((r = cli_write_new_file(c, path, key, 32)) != 0)
		sodium_memzero(key, 32);
	else
		*ret_made = 1;
	return r;
}

static int
cmd_init(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "admin", required_argument, NULL, 'a' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "kdf-limits", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *admins[32], *pfile = NULL, *kfile = NULL;
	struct ssovault_init_opts io;
	size_t nadmins = 0, plen = 0;
	char *pass = NULL, *dir = NULL, *json = NULL;
	uint8_t key[32];
	int o, r, have_key = 0, made_key = 0;

	memset(&io, 0, sizeof(io));
	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		switch (o) {
		case 'a':
			if (nadmins == 32)
				return cli_usage(c, "at most 32 --admin options");
			if ((r = cli_principal_known(c, optarg)) != 0)
				return r;
			admins[nadmins++] = optarg;
			break;
		case 'p': pfile = optarg; break;
		case 'k': kfile = optarg; break;
		case 'L':
			/* for tests and small machines: "interactive" Argon2id limits */
			if (strcmp(optarg, "interactive") == 0) {
				io.opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
				io.memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
			} else if (strcmp(optarg, "moderate") != 0) {
				return cli_usage(c, "--kdf-limits is interactive or moderate");
			}
			break;
		}
	}
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0)
		return r;
	dir = c->vault_dir != NULL ? strdup(c->vault_dir) : ssovault_default_vault_dir();
	if (dir == NULL)
		return cli_fail(c, SV_ERR_NOMEM, "out of memory");
	cli_what(c, "init %s", dir);
	if (kfile != NULL) {
		if ((r = cli_key_file_make(c, kfile, key, &made_key)) != 0)
			goto out;
		have_key = 1;
	}
	if (pfile != NULL || kfile == NULL) {
		if (pfile != NULL)
			r = cli_secret_file(c, pfile, "passphrase file", &pass, &plen);
		else
			r = cli_secret_prompt_min(c, "New vault passphrase: ", 1, 8, &pass, &plen);
		if (r != 0)
			goto out;
		if (plen < 8) {
			r = cli_fail(c, SV_ERR_INVALID, "the passphrase must be at least 8 characters");
			goto out;
		}
	}
	io.passphrase = pass;
	io.passphrase_len = plen;
	io.key = have_key ? key : NULL;
	io.admins = admins;
	io.nadmins = nadmins;
	if ((r = ssovault_init(dir, &io, &c->h)) != 0) {
		r = cli_fail(c, r, "%s", ssovault_open_errmsg());
		goto out;
	}
	if (c->json) {
		if ((r = ssovault_status(c->h, &json)) != 0) {
			r = cli_fail_h(c, r);
			goto out;
		}
		printf("%s\n", json);
	} else if (!c->quiet) {
		printf("Created a vault in %s; you are its first vault admin.\n", dir);
		printf("Next: 'ssovault secret backup FILE' to keep a copy of the master secret.\n");
	}
	r = 0;
out:
	/* a key file made for a vault that was not created would only mislead */
	if (r != 0 && made_key)
		unlink(kfile);
	free(json);
	free(dir);
	if (pass != NULL)
		sodium_free(pass);
	sodium_memzero(key, sizeof(key));
	return r;
}

static void
size_human(json_t *n, char out[32])
{
	double v = (double)json_integer_value(n);

	if (v >= 1 << 30)
		snprintf(out, 32, "%.1f GiB", v / (1 << 30));
	else if (v >= 1 << 20)
		snprintf(out, 32, "%.1f MiB", v / (1 << 20));
	else
		snprintf(out, 32, "%.0f KiB", v / 1024);
}

/* Used of the ceiling, the map now, and the warning (on stdout: it is status). */
static void
status_size(json_t *j)
{
	char used[32], max[32], map[32], keep[32];
	const char *warn = json_string_value(json_object_get(j, "warning"));

	size_human(json_object_get(j, "used_bytes"), used);
	size_human(json_object_get(j, "max_size"), max);
	size_human(json_object_get(j, "map_size"), map);
	size_human(json_object_get(j, "reserve_bytes"), keep);
	printf("size:        %s used of %s (%lld%%); map %s%s; last %s kept for freeing space\n",
	    used, max, (long long)json_integer_value(json_object_get(j, "used_percent")),
	    map, json_integer_value(json_object_get(j, "map_size")) <
	    json_integer_value(json_object_get(j, "max_size")) ? ", grows by itself" : "", keep);
	if (warn != NULL)
		printf("warning:     %s\n", warn);
}

/* Keys the service would still hand out (docs/certificates.md). */
static void
status_keys(json_t *j)
{
	json_t *k = json_object_get(j, "certificates");
	long long n = (long long)json_integer_value(json_object_get(k, "count"));
	long long x = (long long)json_integer_value(json_object_get(k, "exportable_keys"));

	if (k == NULL)
		return;
	if (x == 0)
		printf("keys:        %lld certificate(s), no exportable private key\n", n);
	else
		printf("keys:        %lld certificate(s), %lld with an EXPORTABLE private key "
		    "('ssovault cert list' shows which; 'ssovault cert update THUMBPRINT "
		    "--non-exportable' keeps it in the vault)\n", n, x);
}

static void
status_human(struct cli *c, json_t *j)
{
	json_t *e = json_object_get(j, "entries");

	printf("vault:       %s (%s)\n", json_string_value(json_object_get(j, "vault")),
	    ssovault_is_daemon(c->h) ? "through ssovaultd" : "embedded");
	printf("state:       %s\n", json_is_true(json_object_get(j, "unlocked")) ? "unlocked" : "locked");
	printf("format:      %lld, key epoch %lld\n",
	    (long long)json_integer_value(json_object_get(j, "format")),
	    (long long)json_integer_value(json_object_get(j, "epoch")));
	printf("unlock:      %lld passphrase slot(s), %lld key-file slot(s)\n",
	    (long long)json_integer_value(json_object_get(j, "passphrase_slots")),
	    (long long)json_integer_value(json_object_get(j, "key_slots")));
	if (json_object_get(j, "store") != NULL)
		printf("store:       %s\n", json_string_value(json_object_get(j, "store")));
	if (json_array_size(json_object_get(j, "slots")) > 0) {
		json_t *v;
		size_t i;

		printf("slots:      ");
		json_array_foreach(json_object_get(j, "slots"), i, v)
			printf(" %s%s", json_string_value(json_object_get(v, "name")),
			    json_is_true(json_object_get(v, "this")) ? " (this host)" : "");
		printf("\n");
	}
	if (json_is_true(json_object_get(json_object_get(j, "database"), "reachable"))) {
		json_t *d = json_object_get(j, "database");

		printf("database:    generation %" JSON_INTEGER_FORMAT ", this host's cache "
		    "at %" JSON_INTEGER_FORMAT " (checked %" JSON_INTEGER_FORMAT " ms ago), "
		    "%" JSON_INTEGER_FORMAT " connections, %" JSON_INTEGER_FORMAT " writes\n",
		    json_integer_value(json_object_get(d, "generation")),
		    json_integer_value(json_object_get(d, "cache_generation")),
		    json_integer_value(json_object_get(d, "checked_ms_ago")),
		    json_integer_value(json_object_get(d, "connections")),
		    json_integer_value(json_object_get(d, "writes")));
	}
	status_size(j);
	printf("records:     %lld apps, %lld mappings, %lld certificates, %lld ports, "
	    "%lld suspended, %lld audit\n",
	    (long long)json_integer_value(json_object_get(e, "apps")),
	    (long long)json_integer_value(json_object_get(e, "mappings")),
	    (long long)json_integer_value(json_object_get(e, "certs")),
	    (long long)json_integer_value(json_object_get(e, "ports")),
	    (long long)json_integer_value(json_object_get(e, "suspended")),
	    (long long)json_integer_value(json_object_get(e, "audit")));
	status_keys(j);
}

static int
cmd_status(struct cli *c, int argc, char **argv)
{
	char *json = NULL;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0)
		return r;
	if ((r = cli_open(c, 0)) != 0)
		return r;
	if ((r = ssovault_status(c->h, &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, status_human);
	free(json);
	return r;
}

static int
cmd_unlock(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pfile = NULL, *kfile = NULL;
	char *pass = NULL;
	size_t plen = 0;
	uint8_t key[32];
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if (o == 'p')
			pfile = optarg;
		else if (o == 'k')
			kfile = optarg;
	}
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0)
		return r;
	if (pfile != NULL && kfile != NULL)
		return cli_usage(c, "give --passphrase-file or --key-file, not both");
	if ((r = cli_open(c, 0)) != 0)
		return r;
	if (kfile != NULL) {
		if ((r = cli_key_file(c, kfile, key)) != 0)
			return r;
		r = ssovault_unlock_key(c->h, key);
		sodium_memzero(key, sizeof(key));
	} else {
		if ((r = get_passphrase(c, pfile, "passphrase file", "Vault passphrase: ", 0,
		    &pass, &plen)) != 0)
			return r;
		r = ssovault_unlock_passphrase(c->h, pass, plen);
		sodium_free(pass);
	}
	if (r != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf(ssovault_is_daemon(c->h) ? "ssovaultd unlocked the vault.\n" :
		    "The passphrase opens the vault (embedded mode unlocks per command).\n");
	return 0;
}

static int
cmd_lock(struct cli *c, int argc, char **argv)
{
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0)
		return r;
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_lock(c->h)) != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("Locked.\n");
	return 0;
}

static int
cmd_backup(struct cli *c, int argc, char **argv)
{
	const char *path;
	int fd, r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	path = argv[optind];
	cli_what(c, "backup %s", path);
	if ((r = cli_open(c, 1)) != 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cli_fail(c, errno == EEXIST ? SV_ERR_EXISTS : SV_ERR_IO,
		    "cannot create %s: %s", path, strerror(errno));
	if ((r = ssovault_backup(c->h, fd)) != 0) {
		close(fd);
		unlink(path);
		return cli_fail_h(c, r);
	}
	if (fsync(fd) != 0) {
		r = cli_fail(c, SV_ERR_IO, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return r;
	}
	close(fd);
	if (!c->quiet)
		printf("Backed up the vault to %s (its records stay encrypted).\n", path);
	return 0;
}

static int
cmd_restore(struct cli *c, int argc, char **argv)
{
	const char *path;
	int fd, r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	path = argv[optind];
	cli_what(c, "restore %s", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cli_fail(c, errno == ENOENT ? SV_ERR_NOT_FOUND : SV_ERR_IO,
		    "cannot read %s: %s", path, strerror(errno));
	if ((r = cli_open(c, 1)) != 0) {
		close(fd);
		return r;
	}
	r = ssovault_restore(c->h, fd);
	close(fd);
	if (r != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("Restored the vault from %s.\n", path);
	return 0;
}

static int
cmd_secret_backup(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ "hint", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pfile = NULL, *hint = NULL, *path;
	uint8_t *blob = NULL;
	size_t blen = 0, plen = 0;
	char *pw = NULL;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if (o == 'p')
			pfile = optarg;
		else if (o == 'H')
			hint = optarg;
	}
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	path = argv[optind];
	cli_what(c, "secret backup %s", path);
	if (access(path, F_OK) == 0)
		return cli_fail(c, SV_ERR_EXISTS, "%s exists; choose a new file name", path);
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = get_passphrase(c, pfile, "password file", "Backup password: ", 1,
	    &pw, &plen)) != 0)
		return r;
	r = ssovault_secret_backup(c->h, pw, plen, hint, &blob, &blen);
	sodium_free(pw);
	if (r != 0)
		return cli_fail_h(c, r);
	r = cli_write_new_file(c, path, blob, blen);
	sodium_memzero(blob, blen);
	free(blob);
	if (r != 0)
		return r;
	if (!c->quiet)
		printf("Wrote the master secret backup to %s. Keep it and its password apart.\n", path);
	return 0;
}

static int
cmd_secret_restore(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ "new-passphrase-file", required_argument, NULL, 'n' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pfile = NULL, *nfile = NULL, *kfile = NULL, *path;
	uint8_t *blob = NULL, key[32];
	size_t blen = 0, plen = 0, nlen = 0;
	char *pw = NULL, *np = NULL, *hint = NULL;
	int o, r, made_key = 0;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if (o == 'p')
			pfile = optarg;
		else if (o == 'n')
			nfile = optarg;
		else if (o == 'k')
			kfile = optarg;
	}
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	path = argv[optind];
	cli_what(c, "secret restore %s", path);
	if ((r = cli_read_file(c, path, 1 << 20, &blob, &blen)) != 0)
		return r;
	/* the vault may be locked: that is why one restores a secret */
	if ((r = cli_open(c, 0)) != 0)
		goto out;
	/* the hint helps whoever types the password, as ENTSSO's restoreSecret shows it */
	if (pfile == NULL && ssovault_secret_backup_hint(blob, blen, &hint) == 0 &&
	    hint[0] != '\0')
		fprintf(stderr, "Password hint: %s\n", hint);
	if ((r = get_passphrase(c, pfile, "password file", "Backup password: ", 0,
	    &pw, &plen)) != 0)
		goto out;
	if (kfile != NULL && (r = cli_key_file_make(c, kfile, key, &made_key)) != 0)
		goto out;
	if ((nfile != NULL || kfile == NULL) &&
	    (r = get_passphrase(c, nfile, "passphrase file", "New vault passphrase: ", 1,
	    &np, &nlen)) != 0)
		goto out;
	if (np != NULL && nlen < 8) {
		r = cli_fail(c, SV_ERR_INVALID, "the passphrase must be at least 8 characters");
		goto out;
	}
	if ((r = ssovault_secret_restore(c->h, blob, blen, pw, plen, np, nlen,
	    kfile != NULL ? key : NULL)) != 0) {
		r = cli_fail_h(c, r);
		goto out;
	}
	if (!c->quiet)
		printf("Restored the master secret; the new passphrase now unlocks the vault.\n");
out:
	if (r != 0 && made_key)
		unlink(kfile);
	free(blob);
	free(hint);
	if (pw != NULL)
		sodium_free(pw);
	if (np != NULL)
		sodium_free(np);
	sodium_memzero(key, sizeof(key));
	return r;
}

static int
cmd_secret_rotate(struct cli *c, int argc, char **argv)
{
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0)
		return r;
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_secret_rotate(c->h, cli_progress, c)) != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("Rotated the master secret; every record is re-sealed. "
		    "Older secret backups no longer work: make a new one.\n");
	return 0;
}

const struct cli_cmd cli_cmd_vault[] = {
	{ "init", cmd_init, NULL,
	    "[--admin PRINCIPAL]... [--passphrase-file F] [--key-file F]",
	    "create a vault; you become its first vault admin",
	    "Options:\n"
	    "  --admin P              another vault admin (user:NAME, group:NAME, uid:N, gid:N)\n"
	    "  --passphrase-file F    read the passphrase from F (else asked twice)\n"
	    "  --key-file F           also unlock with the 32-byte key in F (made 0600 if missing)\n"
	    "  --kdf-limits L         interactive or moderate (default) Argon2id limits\n"
	    "\nExample:\n  ssovault init --passphrase-file /root/pass --admin group:ssoadmins\n" },
	{ "status", cmd_status, NULL, NULL, "show the vault's state, slots and sizes",
	    "Size: what is used of the ceiling (SSOVAULT_MAX_SIZE), the map now and the\n"
	    "reserve kept for freeing space; a warning line from 80% of the ceiling.\n" },
	{ "unlock", cmd_unlock, NULL, "[--passphrase-file F | --key-file F]",
	    "unlock ssovaultd (or check a passphrase in embedded mode)", NULL },
	{ "lock", cmd_lock, NULL, NULL, "lock ssovaultd: wipe its keys from memory", NULL },
	{ "backup", cmd_backup, NULL, "FILE", "write a consistent copy of the vault to FILE",
	    "The copy is compacted and stays encrypted; FILE must not exist.\n" },
	{ "restore", cmd_restore, NULL, "FILE", "replace the vault's data with a backup",
	    "The backup must be of this vault. Stop other embedded users first.\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cli_cmd cli_cmd_secret[] = {
	{ "backup", cmd_secret_backup, NULL, "FILE [--password-file F] [--hint TEXT]",
	    "write the master secret, wrapped under a backup password, to FILE",
	    "Options:\n"
	    "  --password-file F    read the backup password from F (else asked twice)\n"
	    "  --hint TEXT          a reminder stored in clear beside the wrapped secret\n" },
	{ "restore", cmd_secret_restore, NULL,
	    "FILE [--password-file F] [--new-passphrase-file F] [--key-file F]",
	    "set a new passphrase from a secret backup (for a lost passphrase)",
	    "Options:\n"
	    "  --password-file F        the backup password\n"
	    "  --new-passphrase-file F  the new vault passphrase (else asked twice)\n"
	    "  --key-file F             also unlock with this key file (made if missing)\n"
	    "\nEvery other unlock slot is replaced. A backup made before the last\n"
	    "'secret rotate' is refused.\n" },
	{ "rotate", cmd_secret_rotate, NULL, NULL,
	    "make a new master secret and re-seal every record", NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
