/*
 * ssovault creds: credentials, set and got.  Credential values only ever
 * sit in sodium memory here: read from a file or a prompt into it, written
 * out from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "cmd_creds.h"


#define FIELDS_MAX 64

/* --- credentials: output in secure memory -------------------------------- */

struct sout {
	char *p;		/* sodium memory */
	size_t len;
	size_t cap;
	int err;
};

static void
sout_add(struct sout *o, const char *s, size_t n)
{
	size_t cap;
	char *np;

	if (o->err)
		return;
	if (o->len + n + 1 > o->cap) {
		cap = o->cap == 0 ? 1024 : o->cap;
		while (cap < o->len + n + 1)
			cap *= 2;
		if ((np = sodium_malloc(cap)) == NULL) {
			o->err = 1;
			return;
		}
		if (o->p != NULL) {
			memcpy(np, o->p, o->len);
			sodium_free(o->p);
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
sout_str(struct sout *o, const char *s)
{
	sout_add(o, s, strlen(s));
}

/* s as a JSON string literal. */
static void
sout_json(struct sout *o, const char *s)
{
	char esc[8];

	sout_add(o, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			sout_add(o, esc, 2);
		} else if (ch == '\n') {
			sout_add(o, "\\n", 2);
		} else if (ch == '\t') {
			sout_add(o, "\\t", 2);
		} else if (ch == '\r') {
			sout_add(o, "\\r", 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
			sout_add(o, esc, 6);
		} else {
			sout_add(o, (const char *)&ch, 1);
		}
	}
	sout_add(o, "\"", 1);
}

static int
sout_flush(struct sout *o)
{
	size_t off = 0;
	ssize_t n;
	int r = 0;

	fflush(stdout);
	while (!o->err && off < o->len) {
		n = write(STDOUT_FILENO, o->p + off, o->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = SV_ERR_IO;
			break;
		}
		off += (size_t)n;
	}
	if (o->err)
		r = SV_ERR_NOMEM;
	if (o->p != NULL)
		sodium_free(o->p);
	memset(o, 0, sizeof(*o));
	return r;
}

/* config: a config store app's settings (the identifier where the user goes) */
static int
values_print(struct cli *c, const struct ssovault_creds *cr, const char *field, int config)
{
	struct sout o = { NULL, 0, 0, 0 };
	const char *v;
	size_t i;
	int r;

	if (field != NULL) {
		if ((v = ssovault_creds_value(cr, field)) == NULL)
			return cli_fail(c, SV_ERR_NOT_FOUND, "no field '%s' in '%s'", field, cr->app);
		sout_str(&o, v);
		sout_add(&o, "\n", 1);
	} else if (c->json) {
		sout_str(&o, "{\"app\":");
		sout_json(&o, cr->app);
		sout_str(&o, config ? ",\"identifier\":" : ",\"user\":");
		sout_json(&o, cr->principal);
		if (!config) {
			sout_str(&o, ",\"external_user\":");
			sout_json(&o, cr->external_user);
		}
		sout_str(&o, ",\"fields\":{");
		for (i = 0; i < cr->nfields; i++) {
			if (i > 0)
				sout_add(&o, ",", 1);
			sout_json(&o, cr->fields[i].label);
			sout_add(&o, ":", 1);
			sout_json(&o, cr->fields[i].value);
		}
		sout_str(&o, "}}\n");
	} else {
		for (i = 0; i < cr->nfields; i++) {
			sout_str(&o, cr->fields[i].label);
			sout_str(&o, ": ");
			sout_str(&o, cr->fields[i].value);
			sout_add(&o, "\n", 1);
		}
	}
	if ((r = sout_flush(&o)) != 0)
		return cli_fail(c, r, "cannot write the %s: %s", config ? "settings" : "credentials",
		    sv_strerror(r));
	return 0;
}

int
cli_creds_print(struct cli *c, const struct ssovault_creds *cr, const char *field)
{
	return values_print(c, cr, field, 0);
}

/* --- creds get ------------------------------------------------------------ */

/* creds get and config get: who is --user or --identifier */
static int
values_get(struct cli *c, int argc, char **argv, int config)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "identifier", required_argument, NULL, 'i' },
		{ "field", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *field = NULL, *app;
	struct ssovault_creds *cr = NULL;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if ((o == 'u' && !config) || (o == 'i' && config))
			user = optarg;
		else if (o == 'f')
			field = optarg;
		else
			return cli_usage(c, config ? "config get takes --identifier, not --user" :
			    "creds get takes --user, not --identifier");
	}
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	app = argv[optind];
	cli_what(c, "%s get %s", config ? "config" : "creds", app);
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = config ? ssovault_config_get(c->h, app, user, &cr) :
	    ssovault_creds_get(c->h, app, user, &cr)) != 0)
		return cli_fail_h(c, r);
	r = values_print(c, cr, field, config);
	ssovault_creds_free(cr);
	return r;
}

static int
cmd_creds_get(struct cli *c, int argc, char **argv)
{
	return values_get(c, argc, argv, 0);
}

static int
cmd_config_get(struct cli *c, int argc, char **argv)
{
	return values_get(c, argc, argv, 1);
}

/* --- creds set ------------------------------------------------------------ */

struct creds_in {
	size_t n;
	char *labels[FIELDS_MAX];	/* malloc: labels are not secret */
	char *values[FIELDS_MAX];	/* sodium memory */
};

static void
creds_in_clear(struct creds_in *in)
{
	size_t i;

	for (i = 0; i < in->n; i++) {
		free(in->labels[i]);
		if (in->values[i] != NULL)
			sodium_free(in->values[i]);
	}
	in->n = 0;
}

static char *
secure_copy(const char *s, size_t n)
{
	char *d = sodium_malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int
creds_in_add(struct creds_in *in, const char *label, const char *value, size_t vlen)
{
	if (in->n == FIELDS_MAX)
		return SV_ERR_TOO_LARGE;
	if ((in->labels[in->n] = strdup(label)) == NULL)
		return SV_ERR_NOMEM;
	if ((in->values[in->n] = secure_copy(value, vlen)) == NULL) {
		free(in->labels[in->n]);
		return SV_ERR_NOMEM;
	}
	in->n++;
	return 0;
}

/* While a secrets file is parsed, every byte jansson holds is sodium memory. */
static void *
secure_alloc(size_t n)
{
	return sodium_malloc(n == 0 ? 1 : n);
}

static void
secure_release(void *p)
{
	if (p != NULL)
		sodium_free(p);
}

/*
 * A JSON object of label to value from path ("-": stdin).  jansson's error
 * text is never shown: it quotes the input, which holds the secrets.
 */
static int
creds_from_file(struct cli *c, const char *path, struct creds_in *in)
{
	char *buf = NULL;
	size_t len = 0;
	json_error_t e;
	const char *k;
	json_t *j, *v;
	int r = 0;

	if ((r = cli_secret_file(c, path, NULL, &buf, &len)) != 0)
		return r;
	json_set_alloc_funcs(secure_alloc, secure_release);
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL)
		r = cli_fail(c, SV_ERR_INVALID,
		    "%s is not valid JSON (line %d, column %d): give an object of field label to value",
		    strcmp(path, "-") == 0 ? "standard input" : path, e.line, e.column);
	else if (!json_is_object(j) || json_object_size(j) == 0)
		r = cli_fail(c, SV_ERR_INVALID,
		    "%s must hold a JSON object of field label to value, with at least one field",
		    strcmp(path, "-") == 0 ? "standard input" : path);
	else {
		json_object_foreach(j, k, v) {
			if (!json_is_string(v)) {
				r = cli_fail(c, SV_ERR_INVALID,
				    "the value of field '%s' must be a JSON string", k);
				break;
			}
			if ((r = creds_in_add(in, k, json_string_value(v), json_string_length(v))) != 0) {
				r = cli_fail(c, r, "at most %d fields", FIELDS_MAX);
				break;
			}
		}
	}
	json_decref(j);
	json_set_alloc_funcs(malloc, free);
	sodium_free(buf);
	return r;
}

/* A prompt on the terminal fd (without echo unless echo); the answer in sodium memory. */
static int
prompt_line(int fd, const char *prompt, int echo, char **ret, size_t *ret_len)
{
	struct termios old, quiet;
	char *buf = sodium_malloc(1025);
	size_t len = 0;
	int r = 0, tty;
	char ch;

	if (buf == NULL)
		return SV_ERR_NOMEM;
	tty = tcgetattr(fd, &old) == 0;
	if (!echo && tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		r = SV_ERR_IO;
	while (r == 0 && read(fd, &ch, 1) == 1 && ch != '\n')
		if (len < 1024)
			buf[len++] = ch;
	ch = 0;
	if (!echo && tty) {
		tcsetattr(fd, TCSAFLUSH, &old);
		if (write(fd, "\n", 1) < 0)
			r = SV_ERR_IO;
	}
	buf[len] = '\0';
	if (r != 0) {
		sodium_free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* A masked field: asked twice without echo; an empty answer is not confirmed. */
static int
prompt_masked(int fd, const char *prompt, char **ret, size_t *ret_len)
{
	char *a = NULL, *b = NULL;
	size_t al, bl;
	int r;

	if ((r = prompt_line(fd, prompt, 0, &a, &al)) != 0)
		return r;
	if (al > 0) {
		if ((r = prompt_line(fd, "Again, to confirm: ", 0, &b, &bl)) != 0) {
			sodium_free(a);
			return r;
		}
		r = al != bl || sodium_memcmp(a, b, al) != 0;
		sodium_free(b);
		if (r) {
			sodium_free(a);
			return SV_ERR_INVALID;
		}
	}
	*ret = a;
	*ret_len = al;
	return 0;
}

/* Ask for each field of the app; an empty answer keeps the stored value. */
static int
creds_from_prompts(struct cli *c, const char *app, int config, struct creds_in *in)
{
	char *json = NULL, *val = NULL, prompt[160];
	json_t *j = NULL, *f;
	size_t i, vl;
	int fd = -1, r;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0)
		return cli_fail(c, SV_ERR_USAGE,
		    "no terminal to ask for the credentials: give them with --from-file FILE "
		    "(a JSON object of label to value; '-' reads standard input)");
	if ((r = ssovault_app_show(c->h, app, &json)) != 0) {
		r = cli_fail_h(c, r);
		goto out;
	}
	if ((j = json_loads(json, 0, NULL)) == NULL) {
		r = cli_fail(c, SV_ERR_PROTOCOL, "the service sent malformed JSON");
		goto out;
	}
	dprintf(fd, "%s for '%s' (an empty answer keeps the stored value):\n",
	    config ? "Settings" : "Credentials", app);
	json_array_foreach(json_object_get(j, "fields"), i, f) {
		const char *label = cli_jstr(f, "label");

		if (json_is_true(json_object_get(f, "masked"))) {
			snprintf(prompt, sizeof(prompt), "%.64s (hidden): ", label);
			r = prompt_masked(fd, prompt, &val, &vl);
		} else {
			snprintf(prompt, sizeof(prompt), "%.64s%s: ", label,
			    i == 0 && !config ? " (external user id)" : "");
			r = prompt_line(fd, prompt, 1, &val, &vl);
		}
		if (r != 0) {
			r = cli_fail(c, r, r == SV_ERR_INVALID ? "the two entries of '%s' differ" :
			    "cannot read '%s' from the terminal", label);
			goto out;
		}
		if (vl > 0 && (r = creds_in_add(in, label, val, vl)) != 0)
			r = cli_fail(c, r, "out of memory");
		sodium_free(val);
		val = NULL;
		if (r != 0)
			goto out;
	}
	if (in->n == 0)
		r = cli_fail(c, SV_ERR_INVALID, "nothing entered: nothing was changed");
out:
	if (fd >= 0)
		close(fd);
	json_decref(j);
	free(json);
	return r;
}

/* creds set and config set: who is --user or --identifier */
static int
values_set(struct cli *c, int argc, char **argv, int config)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "identifier", required_argument, NULL, 'i' },
		{ "from-file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *file = NULL, *app;
	struct creds_in in;
	int o, r;

	memset(&in, 0, sizeof(in));
	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if ((o == 'u' && !config) || (o == 'i' && config))
			user = optarg;
		else if (o == 'f')
			file = optarg;
		else
			return cli_usage(c, config ? "config set takes --identifier, not --user" :
			    "creds set takes --user, not --identifier");
	}
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	app = argv[optind];
	cli_what(c, "%s set %s", config ? "config" : "creds", app);
	/* the file first: a bad file should not cost an unlock */
	if (file != NULL && (r = creds_from_file(c, file, &in)) != 0)
		goto out;
	if ((r = cli_open(c, 1)) != 0)
		goto out;
	if (file == NULL && (r = creds_from_prompts(c, app, config, &in)) != 0)
		goto out;
	r = config ? ssovault_config_set(c->h, app, user, in.n, (const char *const *)in.labels,
	    (const char *const *)in.values) : ssovault_creds_set(c->h, app, user, in.n,
	    (const char *const *)in.labels, (const char *const *)in.values);
	if (r != 0) {
		r = cli_fail_h(c, r);
		goto out;
	}
	if (!c->quiet && config)
		printf("Settings '%s' of '%s' set.\n", user != NULL ? user : "ConfigProperties", app);
	else if (!c->quiet)
		printf("Credentials of %s in '%s' set; the mapping is enabled.\n",
		    user != NULL ? user : "your mapping", app);
out:
	creds_in_clear(&in);
	return r;
}

static int
cmd_creds_set(struct cli *c, int argc, char **argv)
{
	return values_set(c, argc, argv, 0);
}

static int
cmd_config_set(struct cli *c, int argc, char **argv)
{
	return values_set(c, argc, argv, 1);
}

const struct cli_cmd cli_cmd_creds[] = {
	{ "set", cmd_creds_set, NULL, "APP [--user PRINCIPAL] [--from-file F]",
	    "set credentials of a mapping; setting them enables it",
	    "Options:\n"
	    "  --user P        whose mapping (default: your own); app admins set anyone's\n"
	    "  --from-file F   a JSON object of field label to value ('-' reads stdin),\n"
	    "                  e.g. {\"username\": \"alice@payroll\", \"password\": \"...\"}\n"
	    "Without --from-file each field is asked for on the terminal, masked fields\n"
	    "without echo; an empty answer keeps the stored value.  Field 0 is the\n"
	    "external user id.  Values never go on the command line.\n" },
	{ "get", cmd_creds_get, NULL, "APP [--user PRINCIPAL] [--field LABEL] [--json]",
	    "print credentials: your own, or (app admins) a mapped user's",
	    "Output: 'label: value' lines, masked fields included; --field LABEL prints\n"
	    "only that value; --json prints {\"app\",\"user\",\"external_user\",\"fields\"}.\n"
	    "\nExample:\n  ssovault creds get payroll --field password\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cli_cmd cli_cmd_config[] = {
	{ "set", cmd_config_set, NULL, "APP [--identifier ID] [--from-file F]",
	    "set settings of a config store app (app admin)",
	    "A config store app (app create --type config, or ENTSSO's configStoreApp)\n"
	    "holds, per identifier, one value for each of its fields: settings that\n"
	    "services read (ENTSSO's ISSOConfigStore SetConfigInfo).\n"
	    "Options:\n"
	    "  --identifier ID  which set of settings (default: ConfigProperties, what\n"
	    "                   BizTalk's SSO configuration tools use)\n"
	    "  --from-file F    a JSON object of field label to value ('-' reads stdin)\n"
	    "Without --from-file each field is asked for on the terminal, masked ones\n"
	    "without echo; an empty answer keeps the stored value.\n" },
	{ "get", cmd_config_get, NULL, "APP [--identifier ID] [--field LABEL] [--json]",
	    "print settings of a config store app (app users and admins)",
	    "Output: 'label: value' lines; --field LABEL prints only that value; --json\n"
	    "prints {\"app\",\"identifier\",\"fields\"}.  From C: ssovault_config_get()\n"
	    "(docs/examples/read-config.c).\n"
	    "\nExample:\n  ssovault config get orders-adapter --field endpoint\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
