/*
 * What every command of `ssovault` shares: errors in one format, secrets
 * from files or a no-echo prompt (never argv or env values), opening the
 * service, printing JSON, and the parsers of durations and sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "base/paths.h"
#include "base/secretfile.h"
#include "base/units.h"
#include "send/send.h"

void
cli_what(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->what, sizeof(c->what), fmt, ap);
	va_end(ap);
}

/*
 * Print s to stderr with control bytes as \xNN, so that a name given by
 * anyone cannot move the cursor or recolour the terminal of whoever reads
 * the error; more than max bytes end in "...".
 */
static void
put_clean(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i == max) {
			fputs("...", stderr);
			return;
		}
		if (ch < 0x20 || ch == 0x7f) {
			fprintf(stderr, "\\x%02x", ch);
		} else if (ch == 0xc2 && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			/* a C1 control in UTF-8: terminals obey NEL, CSI, OSC too */
			fprintf(stderr, "\\x%02x\\x%02x", ch, (unsigned char)s[++i]);
		} else {
			fputc(ch, stderr);
		}
	}
}

int
cli_fail(struct cli *c, int err, const char *fmt, ...)
{
	char m[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	fputs("ssovault: ", stderr);
	put_clean(c->what, 200);
	fputs(": ", stderr);
	put_clean(m, sizeof(m));
	fputc('\n', stderr);
	return sv_exit_code(err);
}

/*
 * "no affiliate application 'payrol'": the caller's nearest app name (at
 * most 2 edits away) into out, or "".
 */
static void
app_guess(struct cli *c, const char *m, char *out, size_t len)
{
	static const char pre[] = "no affiliate application '";
	char name[256], *json = NULL;
	size_t n, i, d, best = 3;
	json_t *j, *a;

	out[0] = '\0';
	if (strncmp(m, pre, sizeof(pre) - 1) != 0 || c->h == NULL)
		return;
	m += sizeof(pre) - 1;
	if ((n = strcspn(m, "'")) >= sizeof(name) || m[n] != '\'')
		return;
	memcpy(name, m, n);
	name[n] = '\0';
	if (ssovault_app_list(c->h, &json) != 0 || (j = json_loads(json, 0, NULL)) == NULL) {
		free(json);
		return;
	}
	json_array_foreach(j, i, a) {
		const char *v = json_string_value(json_object_get(a, "name"));

		if (v != NULL && (d = cli_distance(name, v)) < best) {
			best = d;
			snprintf(out, len, "%s", v);
		}
	}
	json_decref(j);
	free(json);
}

int
cli_fail_h(struct cli *c, int err)
{
	const char *m = c->h != NULL ? ssovault_errmsg(c->h) : ssovault_open_errmsg();
	char copy[SV_MSG_MAX], near[256];

	if (m == NULL || *m == '\0')
		return cli_fail(c, err, "%s", sv_strerror(err));
	if (err == SV_ERR_NOT_FOUND) {
		snprintf(copy, sizeof(copy), "%s", m);	/* the next request replaces it */
		app_guess(c, copy, near, sizeof(near));
		if (near[0] != '\0')
			return cli_fail(c, err, "%s; did you mean '%s'?", copy, near);
		return cli_fail(c, err, "%s", copy);
	}
	return cli_fail(c, err, "%s", m);
}

static void
print_usage(FILE *f, const struct cli *c)
{
	fprintf(f, "usage: ssovault %s%s%s\n", c->what,
	    c->cmd->args != NULL ? " " : "", c->cmd->args != NULL ? c->cmd->args : "");
}

int
cli_usage(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		fprintf(stderr, "ssovault: %s: ", c->what);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n");
	}
	print_usage(stderr, c);
	fprintf(stderr, "Try 'ssovault %s --help' for more.\n", c->what);
	return CLI_EXIT_USAGE;
}

/* Options every command takes after its name as well as before it. */
#define OPT_JSON 0x1001
#define OPT_QUIET 0x1002
#define OPT_STRICT 0x1003	/* read by main.c before the command runs */

/*
 * The "--name[=value]" argument getopt_long just consumed: the one before
 * a separate value (optarg is then that whole argument), else the last.
 */
static const char *
long_given(char **argv, int optind_now)
{
	int k = optind_now - 1;

	if (optarg != NULL && k >= 2 && optarg == argv[k])
		k--;
	return k >= 1 && strncmp(argv[k], "--", 2) == 0 ? argv[k] : "";
}

/* 1 if the option consumed was written in full, not abbreviated. */
static int
long_exact(char **argv, int optind_now, const char *name)
{
	const char *g = long_given(argv, optind_now);
	size_t n;

	if (*g == '\0')
		return 1;
	g += 2;
	n = strcspn(g, "=");
	return n == strlen(name) && strncmp(g, name, n) == 0;
}

int
cli_getopt(struct cli *c, int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	struct option all[64];
	char sopts[128];
	size_t n = 0;
	int o;

	while (longopts != NULL && longopts[n].name != NULL && n < 60) {
		all[n] = longopts[n];
		n++;
	}
	all[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	all[n++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
	all[n++] = (struct option){ "quiet", no_argument, NULL, OPT_QUIET };
	all[n++] = (struct option){ "strict", no_argument, NULL, OPT_STRICT };
	all[n] = (struct option){ NULL, 0, NULL, 0 };
	snprintf(sopts, sizeof(sopts), ":%sh", shortopts != NULL ? shortopts : "");
	for (;;) {
		int li = -1;

		optarg = NULL;
		o = getopt_long(argc, argv, sopts, all, &li);
		if (li >= 0 && !long_exact(argv, optind, all[li].name)) {
			/*
			 * getopt_long takes "--password" for "--password-file":
			 * a secret typed after it would be read as a file name
			 * and echoed in errors.  Options are never abbreviated.
			 */
			cli_usage(c, "unknown option '%.*s' (options are not abbreviated)",
			    (int)strcspn(long_given(argv, optind), "="),
			    long_given(argv, optind));
			exit(CLI_EXIT_USAGE);
		}
		if (o == OPT_JSON)
			c->json = 1;
		else if (o == OPT_QUIET)
			c->quiet = 1;
		else if (o != OPT_STRICT)
			break;
	}
	if (o == 'h') {
		print_usage(stdout, c);
		printf("\n%s\n", c->cmd->summary);
		if (c->cmd->help != NULL)
			printf("\n%s", c->cmd->help);
		exit(0);
	}
	if (o == '?') {
		/* never echo a value given with '=': it may be a secret */
		cli_usage(c, "unknown option '%.*s'", (int)strcspn(argv[optind - 1], "="),
		    argv[optind - 1]);
		exit(CLI_EXIT_USAGE);
	}
	if (o == ':') {
		cli_usage(c, "option '%s' needs a value", argv[optind - 1]);
		exit(CLI_EXIT_USAGE);
	}
	return o;
}

int
cli_operands(struct cli *c, int argc, char **argv, int min, int max)
{
	int n = argc - optind;

	if (n < min)
		return cli_usage(c, "missing argument");
	if (max >= 0 && n > max)
		return cli_usage(c, "unexpected argument '%s'", argv[optind + max]);
	return 0;
}

int
cli_open(struct cli *c, int unlock)
{
	struct ssovault_open_opts o;
	const char *kf = getenv("SSOVAULT_KEY_FILE");
	const char *pf = getenv("SSOVAULT_PASSPHRASE_FILE");
	char *pass = NULL;
	size_t len = 0;
	uint8_t key[32];
	int r;

	memset(&o, 0, sizeof(o));
	o.vault_dir = c->vault_dir;
	o.socket_path = c->socket_path;
	o.mode = SSOVAULT_MODE_AUTO;
	if ((r = ssovault_open(&o, &c->h)) != 0)
		return cli_fail(c, r, "%s", ssovault_open_errmsg());
	if (!unlock || ssovault_is_daemon(c->h))
		return 0;
	if (kf != NULL && *kf != '\0') {
		if ((r = cli_key_file(c, kf, key)) != 0)
			return r;
		r = ssovault_unlock_key(c->h, key);
		sodium_memzero(key, sizeof(key));
	} else {
		if (pf != NULL && *pf != '\0')
			r = cli_secret_file(c, pf, "passphrase file", &pass, &len);
		else
			r = cli_secret_prompt(c, "Vault passphrase: ", 0, &pass, &len);
		if (r != 0)
			return r;
		r = ssovault_unlock_passphrase(c->h, pass, len);
		sodium_free(pass);
	}
	if (r != 0)
		return cli_fail_h(c, r);
	return 0;
}


static int
open_input(struct cli *c, const char *path, int *ret_fd)
{
	int fd;

	if (strcmp(path, "-") == 0) {
		*ret_fd = STDIN_FILENO;
		return 0;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cli_fail(c, errno == ENOENT ? SV_ERR_NOT_FOUND : SV_ERR_IO,
		    "cannot read %s: %s", path, strerror(errno));
	*ret_fd = fd;
	return 0;
}

/*
 * A key, passphrase or password file: only one that nobody but the caller
 * and root can read or change (vault/paths.h); "-" is stdin.
 */
static int
open_secret(struct cli *c, const char *path, const char *what, int *ret_fd)
{
	char m[SV_MSG_MAX];
	int r;

	if (what == NULL || strcmp(path, "-") == 0)
		return open_input(c, path, ret_fd);
	if ((r = vault_path_secret_open(path, what, m, ret_fd)) != 0)
		return cli_fail(c, r, "%s", m);
	return 0;
}

int
cli_secret_file(struct cli *c, const char *path, const char *what, char **ret,
    size_t *ret_len)
{
	char *s = NULL;
	size_t len = 0;
	int fd, r;

	if ((r = open_secret(c, path, what, &fd)) != 0)
		return r;
	r = secretfile_read_fd(fd, 64 * 1024, 1, &s, &len);
	if (fd != STDIN_FILENO)
		close(fd);
	if (r != 0)
		return cli_fail(c, r, "cannot read secret file %s: %s", path, sv_strerror(r));
	len = secretfile_trim(s, len);
	if (len == 0) {
		sodium_free(s);
		return cli_fail(c, SV_ERR_INVALID, "secret file %s is empty", path);
	}
	*ret = s;
	*ret_len = len;
	return 0;
}

static int
prompt_once(const char *prompt, char **ret, size_t *ret_len)
{
	struct termios old, quiet;
	char *buf = sodium_malloc(1025);
	size_t len = 0;
	int fd, r = 0;
	char ch;

	if (buf == NULL)
		return SV_ERR_NOMEM;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0) {
		sodium_free(buf);
		return SV_ERR_USAGE;
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		r = SV_ERR_IO;
	tcgetattr(fd, &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	while (r == 0 && read(fd, &ch, 1) == 1 && ch != '\n') {
		if (len < 1024)
			buf[len++] = ch;
	}
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		r = SV_ERR_IO;
	close(fd);
	ch = 0;
	buf[len] = '\0';
	if (r != 0) {
		sodium_free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int
cli_secret_prompt(struct cli *c, const char *prompt, int confirm, char **ret,
    size_t *ret_len)
{
	return cli_secret_prompt_min(c, prompt, confirm, 1, ret, ret_len);
}

int
cli_secret_prompt_min(struct cli *c, const char *prompt, int confirm, size_t min,
    char **ret, size_t *ret_len)
{
	char *a = NULL, *b = NULL;
	size_t al, bl;
	int r;

	if ((r = prompt_once(prompt, &a, &al)) != 0)
		return cli_fail(c, r == SV_ERR_USAGE ? SV_ERR_LOCKED : r,
		    "no terminal to ask for a secret: give it in a file "
		    "(--passphrase-file, or SSOVAULT_PASSPHRASE_FILE / SSOVAULT_KEY_FILE)");
	if (al == 0) {
		sodium_free(a);
		return cli_fail(c, SV_ERR_INVALID, "an empty secret is not accepted");
	}
	/* too short is said at once, not after the confirmation was typed too */
	if (al < min) {
		sodium_free(a);
		return cli_fail(c, SV_ERR_INVALID, "the passphrase must be at least %zu characters",
		    min);
	}
	if (confirm) {
		if ((r = prompt_once("Again, to confirm: ", &b, &bl)) != 0) {
			sodium_free(a);
			return cli_fail(c, r, "could not read the confirmation");
		}
		r = al != bl || sodium_memcmp(a, b, al) != 0;
		sodium_free(b);
		if (r) {
			sodium_free(a);
			return cli_fail(c, SV_ERR_INVALID, "the two entries differ");
		}
	}
	*ret = a;
	*ret_len = al;
	return 0;
}

int
cli_key_file(struct cli *c, const char *path, uint8_t key[32])
{
	char *s = NULL;
	size_t len = 0;
	int fd, r;

	if ((r = open_secret(c, path, "key file", &fd)) != 0)
		return r;
	r = secretfile_read_fd(fd, 1024, 1, &s, &len);
	if (fd != STDIN_FILENO)
		close(fd);
	if (r != 0)
		return cli_fail(c, r, "cannot read key file %s: %s", path, sv_strerror(r));
	if (secretfile_key(s, len, key) == 0) {
		r = 0;
	} else {
		r = cli_fail(c, SV_ERR_INVALID,
		    "key file %s must hold 32 bytes (or 64 hexadecimal digits)", path);
	}
	sodium_free(s);
	return r;
}

int
cli_read_file(struct cli *c, const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
	char *s = NULL;
	size_t len = 0;
	int fd, r;

	if ((r = open_input(c, path, &fd)) != 0)
		return r;
	r = secretfile_read_fd(fd, max, 0, &s, &len);
	if (fd != STDIN_FILENO)
		close(fd);
	if (r != 0)
		return cli_fail(c, r, "cannot read %s: %s", path,
		    r == SV_ERR_TOO_LARGE ? "file too large" : sv_strerror(r));
	*ret = (uint8_t *)s;
	*ret_len = len;
	return 0;
}

int
cli_write_new_file(struct cli *c, const char *path, const void *p, size_t len)
{
	const char *q = p;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cli_fail(c, errno == EEXIST ? SV_ERR_EXISTS : SV_ERR_IO,
		    "cannot create %s: %s", path, strerror(errno));
	while (len > 0) {
		n = write(fd, q, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;

			close(fd);
			unlink(path);
			return cli_fail(c, e == ENOSPC ? SV_ERR_NO_SPACE : SV_ERR_IO,
			    "cannot write %s: %s", path, strerror(e));
		}
		q += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(path);
		return cli_fail(c, SV_ERR_IO, "cannot write %s: %s", path, strerror(errno));
	}
	return 0;
}

int
cli_print_json(struct cli *c, const char *json, void (*human)(struct cli *, json_t *))
{
	json_error_t e;
	json_t *j;

	if (c->json || human == NULL) {
		if (!c->quiet || c->json)
			printf("%s\n", json);
		return 0;
	}
	if ((j = json_loads(json, 0, &e)) == NULL)
		return cli_fail(c, SV_ERR_PROTOCOL, "the service sent malformed JSON");
	if (!c->quiet)
		human(c, j);
	json_decref(j);
	return 0;
}

int
cli_list(struct cli *c, int argc, char **argv,
    int (*fetch)(struct ssovault *, char **), void (*human)(struct cli *, json_t *))
{
	char *json = NULL;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0 || (r = cli_open(c, 1)) != 0)
		return r;
	if ((r = fetch(c->h, &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, human);
	free(json);
	return r;
}

void
cli_progress(void *ctx, size_t done, size_t total)
{
	struct cli *c = ctx;

	if (!c->tty || c->quiet || c->json)
		return;
	fprintf(stderr, "\r%s: %zu/%zu", c->what, done, total);
	if (done >= total)
		fprintf(stderr, "\n");
	fflush(stderr);
}

void
cli_status(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->tty || c->quiet || c->json)
		return;
	fputs("\r\033[K", stderr);
	if (fmt != NULL) {
		fprintf(stderr, "%s: ", c->what);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fflush(stderr);
}

long long
cli_parse_uint(const char *s, long long max)
{
	unsigned long long v;

	return units_parse_uint(s, (unsigned long long)max, &v) == 0 ? (long long)v : -1;
}

const char *
cli_jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* Levenshtein distance of a and b, capped at 9 (names are short). */
size_t
cli_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 9;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb] > 9 ? 9 : prev[lb];
}

/* The closest user (group) name to name on this host, within 2 edits. */
static void
closest_account(const char *name, int group, char *out, size_t len)
{
	size_t best = 3, d;
	const char *n;

	out[0] = '\0';
	for (;;) {
		if (group) {
			struct group *g = getgrent();

			n = g != NULL ? g->gr_name : NULL;
		} else {
			struct passwd *pw = getpwent();

			n = pw != NULL ? pw->pw_name : NULL;
		}
		if (n == NULL)
			break;
		if ((d = cli_distance(name, n)) < best) {
			best = d;
			snprintf(out, len, "%s", n);
		}
	}
	if (group)
		endgrent();
	else
		endpwent();
}

int
cli_principal_known(struct cli *c, const char *p)
{
	int group = strncmp(p, "group:", 6) == 0;
	const char *name = p + (group ? 6 : 5);
	char near[256], hint[300] = "";
	int known;

	if ((!group && strncmp(p, "user:", 5) != 0) || *name == '\0')
		return 0;	/* uid:N and gid:N need no name service; bad syntax is the service's */
	known = group ? getgrnam(name) != NULL : getpwnam(name) != NULL;
	if (known)
		return 0;
	closest_account(name, group, near, sizeof(near));
	if (near[0] != '\0')
		snprintf(hint, sizeof(hint), "; did you mean %s:%s?", group ? "group" : "user", near);
	if (c->strict)
		return cli_fail(c, SV_ERR_NOT_FOUND, "%s '%s' does not exist on this host%s "
		    "(--strict: nothing was changed)", group ? "group" : "user", name, hint);
	cli_warn(c, "%s '%s' does not exist on this host%s (stored all the same; "
	    "--strict refuses it)", group ? "group" : "user", name, hint);
	return 0;
}

void
cli_warn(struct cli *c, const char *fmt, ...)
{
	size_t n = strlen(c->warnings);
	va_list ap;

	if (n + 2 >= sizeof(c->warnings))
		return;
	va_start(ap, fmt);
	vsnprintf(c->warnings + n, sizeof(c->warnings) - n - 1, fmt, ap);
	va_end(ap);
	n += strlen(c->warnings + n);
	c->warnings[n] = '\n';
	c->warnings[n + 1] = '\0';
}

void
cli_warnings_flush(struct cli *c)
{
	char *line = c->warnings, *nl;

	while ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		fputs("ssovault: ", stderr);
		put_clean(c->what, 200);
		fputs(": warning: ", stderr);
		put_clean(line, 1024);
		fputc('\n', stderr);
		line = nl + 1;
	}
	c->warnings[0] = '\0';
}

/* 1 if s holds a C0 or C1 control or DEL (put_clean's rule) */
static int
has_controls(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || ((unsigned char)s[0] == 0xc2 &&
		    (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f))
			return 1;
	return 0;
}

void
cli_uid_name(long long uid, char *out, size_t len)
{
	struct passwd *pw = uid >= 0 && uid < 4294967295LL ? getpwuid((uid_t)uid) : NULL;

	/* the name beside the number, unless it could steer the terminal */
	if (pw != NULL && !has_controls(pw->pw_name))
		snprintf(out, len, "uid %lld (%.32s)", uid, pw->pw_name);
	else
		snprintf(out, len, "uid %lld", uid);
}
