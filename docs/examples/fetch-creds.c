/*
 * fetch-creds: a small service that fetches its credentials for an
 * affiliate application through the installed ssovault client library.
 * Build it against an installed ssovault with:
 *
 *   cc fetch-creds.c $(pkg-config --cflags --libs ssovault) -o fetch-creds
 *
 *   ./fetch-creds payroll              the caller's own mapping in payroll
 *   ./fetch-creds payroll user:alice   alice's (the caller is an app admin)
 *
 * It talks to ssovaultd when SSOVAULT_SOCKET is set or the default socket
 * exists; the daemon learns the caller's uid and groups from the kernel and
 * answers only what they may see.  Otherwise it opens the vault in
 * SSOVAULT_DIR itself (embedded mode) and unlocks it from SSOVAULT_KEY_FILE
 * or SSOVAULT_PASSPHRASE_FILE, as the ssovault command does.
 *
 * It prints the external user and every field, but only the length of a
 * masked one: a real service hands the password to its HTTP or database
 * client and lets ssovault_creds_free() wipe it.  Exit codes are those of
 * the ssovault command (sv_exit_code): 1 not found or disabled, 5 access
 * denied, 6 locked or unreachable, ...
 */
/* explicit_bzero() is a BSD and glibc function: declared under -std=c11 too */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ssovault.h>

/* Read a small secret file into buf (NUL-terminated), dropping one newline. */
static int
read_secret(const char *path, char *buf, size_t cap, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	int r;

	if (f == NULL)
		return SV_ERR_IO;
	n = fread(buf, 1, cap - 1, f);
	r = n == cap - 1 && fgetc(f) != EOF ? SV_ERR_TOO_LARGE : ferror(f) ? SV_ERR_IO : 0;
	fclose(f);
	if (r != 0) {		/* unreadable, or longer than buf */
		explicit_bzero(buf, cap);
		return r;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	*ret_len = n;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Embedded mode only: unlock with the key file (32 raw bytes or 64 hex
 * digits) or the passphrase file the environment names.  On a failure
 * before the library is asked, *ret_msg says why.
 */
static int
unlock_from_env(struct ssovault *h, const char **ret_msg)
{
	const char *kf = getenv("SSOVAULT_KEY_FILE");
	const char *pf = getenv("SSOVAULT_PASSPHRASE_FILE");
	char buf[1025];
	uint8_t key[32];
	size_t len = 0, i;
	int r;

	if (kf != NULL && *kf != '\0') {
		if ((r = read_secret(kf, buf, sizeof(buf), &len)) != 0) {
			*ret_msg = "cannot read the file SSOVAULT_KEY_FILE names";
			return r;
		}
		r = SV_ERR_INVALID;
		if (len == 32) {
			memcpy(key, buf, 32);
			r = 0;
		} else if (len == 64) {
			for (i = 0, r = 0; i < 32 && r == 0; i++) {
				if (hexval(buf[2 * i]) < 0 || hexval(buf[2 * i + 1]) < 0)
					r = SV_ERR_INVALID;
				else
					key[i] = (uint8_t)(hexval(buf[2 * i]) << 4 | hexval(buf[2 * i + 1]));
			}
		}
		if (r == 0)
			r = ssovault_unlock_key(h, key);
		else
			*ret_msg = "SSOVAULT_KEY_FILE must hold 32 bytes or 64 hexadecimal digits";
		explicit_bzero(key, sizeof(key));
	} else if (pf != NULL && *pf != '\0') {
		if ((r = read_secret(pf, buf, sizeof(buf), &len)) != 0) {
			*ret_msg = "cannot read the file SSOVAULT_PASSPHRASE_FILE names";
			return r;
		}
		r = ssovault_unlock_passphrase(h, buf, len);
	} else {
		*ret_msg = "the vault is locked: set SSOVAULT_KEY_FILE or "
		    "SSOVAULT_PASSPHRASE_FILE, or run ssovaultd";
		return SV_ERR_LOCKED;
	}
	explicit_bzero(buf, sizeof(buf));
	return r;
}

int
main(int argc, char **argv)
{
	struct ssovault_open_opts o;
	struct ssovault *h = NULL;
	struct ssovault_creds *creds = NULL;
	const char *app, *user, *password, *what = "open", *msg = NULL;
	size_t i;
	int r;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: fetch-creds APP [PRINCIPAL]\n");
		return 2;
	}
	app = argv[1];
	user = argc == 3 ? argv[2] : NULL;	/* NULL: the caller's own mapping */

	memset(&o, 0, sizeof(o));
	o.mode = SSOVAULT_MODE_AUTO;	/* vault and socket from the environment */
	if ((r = ssovault_open(&o, &h)) != 0) {
		fprintf(stderr, "fetch-creds: open: %s\n", ssovault_open_errmsg());
		return sv_exit_code(r);
	}
	if (!ssovault_is_daemon(h)) {
		what = "unlock";
		if ((r = unlock_from_env(h, &msg)) != 0)
			goto out;
	}
	what = "creds get";
	if ((r = ssovault_creds_get(h, app, user, &creds)) != 0)
		goto out;

	printf("app: %s\n", creds->app);
	printf("principal: %s\n", creds->principal);
	printf("user: %s\n", creds->external_user);
	for (i = 1; i < creds->nfields; i++) {
		if (creds->fields[i].masked)
			printf("%s: (%zu characters)\n", creds->fields[i].label,
			    strlen(creds->fields[i].value));
		else
			printf("%s: %s\n", creds->fields[i].label,
			    ssovault_creds_value(creds, creds->fields[i].label));
	}
	password = ssovault_creds_password(creds);
	printf("password %s\n", password != NULL ? "present" : "absent");
out:
	if (r != 0) {
		const char *m = msg != NULL ? msg : ssovault_errmsg(h);

		/* the message names what failed and why; never a secret */
		fprintf(stderr, "fetch-creds: %s %s: %s\n", what, app,
		    m != NULL && *m != '\0' ? m : sv_strerror(r));
	}
	ssovault_creds_free(creds);
	ssovault_free(h);
	return sv_exit_code(r);
}
