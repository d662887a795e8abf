/*
 * ssovault suspended list|show|resume|terminate|limits: the messages `send`
 * kept because they could not be delivered (DESIGN section 6).  Resume
 * sends a message again with its stored settings, as the caller who
 * resumes, and prints as send does (cmd_send.c); limits shows and sets the
 * per-uid quotas of the queue.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "base/units.h"
#include "send/send.h"

/* From cmd_send.c. */
struct option *cli_send_longopts(const char *const *only, const struct option *extra,
    size_t nextra);
int cli_send_option(struct cli *c, struct send_settings *s, int o, const char *arg);
int cli_send_resume(struct cli *c, const char *id, const struct send_settings *over);

/*
 * Print text a sender chose as one line: control characters as '?'.  The
 * service refuses them in new messages; older records may hold them.
 */
static void
put_line(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "-");

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
			putchar('?');
			p += *p == 0xc2;
		} else {
			putchar(*p);
		}
	}
}

static void
list_human(struct cli *c, json_t *j)
{
	json_t *m;
	size_t i;

	if (json_array_size(j) == 0) {
		printf("No suspended messages.\n");
		return;
	}
	printf("%-32s  %-20s  %s\n", "ID", "UPDATED", "ATTEMPTS  SENDER  URL  REASON");
	json_array_foreach(j, i, m) {
		const char *err = json_string_value(json_object_get(m, "error"));
		const char *port = json_string_value(json_object_get(m, "port"));
		const char *url = json_string_value(json_object_get(m, "url"));

		if (err != NULL) {
			printf("%s  %s\n", json_string_value(json_object_get(m, "id")), err);
			continue;
		}
		printf("%s  %s  %lld attempt%s  ",
		    json_string_value(json_object_get(m, "id")),
		    json_string_value(json_object_get(m, "updated")),
		    (long long)json_integer_value(json_object_get(m, "attempts")),
		    json_integer_value(json_object_get(m, "attempts")) == 1 ? "" : "s");
		/* who sent it: a resume by anyone else does not act with their settings */
		put_line(json_string_value(json_object_get(m, "sender")));
		fputs("  ", stdout);
		/* the URL it goes to: a port name is only what the sender wrote */
		put_line(url);
		if (port != NULL) {
			fputs(" (port ", stdout);
			put_line(port);
			putchar(')');
		}
		fputs("  ", stdout);
		put_line(json_string_value(json_object_get(m, "reason")));
		putchar('\n');
	}
}

/*
 * The whole id of a message named by a unique prefix of at least 4 hex
 * digits, as git takes object names: *ret is given itself, or buf (33
 * bytes) with the id it begins.  0 or an exit code.
 */
static int
whole_id(struct cli *c, const char *given, char buf[33], const char **ret)
{
	char *json = NULL, matches[3][33];
	size_t n = strlen(given), i, found = 0;
	json_t *j, *m;
	int r;

	*ret = given;
	if (n >= 32 || strspn(given, "0123456789abcdefABCDEF") != n)
		return 0;	/* the service says what is wrong with it */
	if (n < 4)
		return cli_usage(c, "give at least 4 characters of the message id");
	if ((r = ssovault_suspended_list(c->h, &json)) != 0)
		return cli_fail_h(c, r);
	if ((j = json_loads(json, 0, NULL)) == NULL) {
		free(json);
		return cli_fail(c, SV_ERR_PROTOCOL, "the service sent malformed JSON");
	}
	json_array_foreach(j, i, m) {
		const char *id = json_string_value(json_object_get(m, "id"));

		if (id != NULL && strncasecmp(id, given, n) == 0) {
			if (found < 3)
				snprintf(matches[found], 33, "%s", id);
			found++;
		}
	}
	json_decref(j);
	free(json);
	if (found == 0)
		return cli_fail(c, SV_ERR_NOT_FOUND,
		    "no suspended message whose id begins with %s ('ssovault suspended list')", given);
	if (found > 1)
		return cli_fail(c, SV_ERR_INVALID, "the id %s is ambiguous: it begins %zu messages "
		    "(%s, %s%s); give more of it", given, found, matches[0], matches[1],
		    found > 2 ? ", ..." : "");
	memcpy(buf, matches[0], 33);
	*ret = buf;
	return 0;
}

static int
cmd_suspended_list(struct cli *c, int argc, char **argv)
{
	return cli_list(c, argc, argv, ssovault_suspended_list, list_human);
}

/* One setting as `suspended show` prints it: every stored member, whatever its type. */
static void
setting_human(const char *k, json_t *v)
{
	json_t *e;
	size_t i;
	char *dump;

	if (json_is_array(v) && json_array_size(v) > 0) {
		json_array_foreach(v, i, e)
			setting_human(k, e);
		return;
	}
	printf("  %-20s ", k);
	if (json_is_string(v))
		put_line(json_string_value(v));
	else if (json_is_integer(v))
		printf("%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		fputs(json_is_true(v) ? "yes" : "no", stdout);
	else if (json_is_null(v))
		fputs("(cleared)", stdout);
	else if ((dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_ENSURE_ASCII)) != NULL) {
		put_line(dump);
		free(dump);
	}
	putchar('\n');
}

static void
show_human(struct cli *c, json_t *j)
{
	static const char *const keys[] = { "id", "sender", "uid", "created", "updated",
	    "attempts", "size", "reason" };
	json_t *v, *settings = json_object_get(j, "settings");
	const char *k;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = json_object_get(j, keys[i]);
		if (json_is_string(v)) {
			printf("%-10s ", keys[i]);
			put_line(json_string_value(v));
			putchar('\n');
		} else if (json_is_integer(v)) {
			printf("%-10s %lld\n", keys[i], (long long)json_integer_value(v));
		}
	}
	if (json_is_boolean(json_object_get(j, "own")) && !json_is_true(json_object_get(j, "own")))
		printf("Sent by someone else: a resume by you uses none of its credentials,\n"
		    "certificate or files; give your own to 'suspended resume'.\n");
	printf("settings:\n");
	json_object_foreach(settings, k, v)
		setting_human(k, v);
}

static int
cmd_suspended_show(struct cli *c, int argc, char **argv)
{
	char *json = NULL, buf[33];
	const char *id;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	cli_what(c, "suspended show %s", argv[optind]);
	if ((r = cli_open(c, 1)) != 0 || (r = whole_id(c, argv[optind], buf, &id)) != 0)
		return r;
	if ((r = ssovault_suspended_show(c->h, id, &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, show_human);
	free(json);
	return r;
}

static int
cmd_suspended_resume(struct cli *c, int argc, char **argv)
{
	/*
	 * The settings a resume may change; the rest are the stored ones.  A
	 * password file is always given here; credentials, certificate and CA
	 * files of a message someone else sent are too (send_settings_resume).
	 */
	static const char *const only[] = { "ticket", "sender", "retry-count",
	    "retry-interval", "timeout", "out", "sso-app", "cert", "user", "password-file",
	    "proxy-user", "proxy-password-file", "cacert", "capath", "auth",
	    "allow-http-auth", NULL };
	struct send_settings over;
	struct option *lo;
	char buf[33];
	const char *id;
	int o, r = 0;

	if ((lo = cli_send_longopts(only, NULL, 0)) == NULL)
		return cli_fail(c, SV_ERR_NOMEM, "out of memory");
	send_settings_init(&over);
	while ((o = cli_getopt(c, argc, argv, "", lo)) != -1)
		if ((r = cli_send_option(c, &over, o, optarg)) != 0)
			goto out;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		goto out;
	cli_what(c, "suspended resume %s", argv[optind]);
	if ((r = cli_open(c, 1)) != 0 || (r = whole_id(c, argv[optind], buf, &id)) != 0)
		goto out;
	r = cli_send_resume(c, id, &over);
out:
	send_settings_clear(&over);
	free(lo);
	return r;
}

static int
cmd_suspended_terminate(struct cli *c, int argc, char **argv)
{
	char buf[33];
	const char *id;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	cli_what(c, "suspended terminate %s", argv[optind]);
	if ((r = cli_open(c, 1)) != 0 || (r = whole_id(c, argv[optind], buf, &id)) != 0)
		return r;
	if ((r = ssovault_suspended_remove(c->h, id, 0)) != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("Suspended message %s terminated: it will not be sent.\n", id);
	return 0;
}

/* A --max-count or --max-size value: a number, or "default". */
static int
limit_arg(struct cli *c, const char *opt, const char *arg, int size, uint64_t *ret)
{
	unsigned long long v = 0;
	int r;

	if (strcmp(arg, "default") == 0) {
		*ret = SSOVAULT_LIMIT_DEFAULT;
		return 0;
	}
	r = size ? units_parse_size(arg, 1ULL << 53, &v) : units_parse_uint(arg, 1000000000, &v);
	if (r != 0 || v == 0)
		return cli_usage(c, "--%s: %s, or 'default'", opt,
		    size ? "a size (64M, 1G) expected" : "a number from 1 to 1000000000 expected");
	*ret = (uint64_t)v;
	return 0;
}

static void
size_human(uint64_t n, char out[32])
{
	if (n >= (1ull << 30))
		snprintf(out, 32, "%.1f GiB", (double)n / (double)(1ull << 30));
	else if (n >= (1ull << 20))
		snprintf(out, 32, "%.1f MiB", (double)n / (double)(1ull << 20));
	else if (n >= 1024)
		snprintf(out, 32, "%.1f KiB", (double)n / 1024.0);
	else
		snprintf(out, 32, "%" PRIu64 " bytes", n);
}

static void
limits_human(struct cli *c, json_t *j)
{
	char a[32], b[32];
	json_t *u;
	size_t i;

	printf("max-count  %lld messages per uid%s\n",
	    (long long)json_integer_value(json_object_get(j, "max_count")),
	    json_is_true(json_object_get(j, "max_count_default")) ? " (default)" : "");
	size_human((uint64_t)json_integer_value(json_object_get(j, "max_size")), a);
	size_human((uint64_t)json_integer_value(json_object_get(j, "vault_size")), b);
	printf("max-size   %s per uid%s%s%s\n", a,
	    json_is_true(json_object_get(j, "max_size_default")) ?
	    " (default: a quarter of the vault's " : "",
	    json_is_true(json_object_get(j, "max_size_default")) ? b : "",
	    json_is_true(json_object_get(j, "max_size_default")) ? ")" : "");
	printf("%-12s %10s  %s\n", "uid", "messages", "size");
	json_array_foreach(json_object_get(j, "usage"), i, u) {
		size_human((uint64_t)json_integer_value(json_object_get(u, "size")), a);
		printf("%-12lld %10lld  %s\n",
		    (long long)json_integer_value(json_object_get(u, "uid")),
		    (long long)json_integer_value(json_object_get(u, "count")), a);
	}
}

static int
cmd_suspended_limits(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "max-count", required_argument, NULL, 'c' },
		{ "max-size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t count = SSOVAULT_LIMIT_KEEP, size = SSOVAULT_LIMIT_KEEP;
	char *json = NULL;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", lo)) != -1) {
		if (o == 'c' && (r = limit_arg(c, "max-count", optarg, 0, &count)) != 0)
			return r;
		if (o == 's' && (r = limit_arg(c, "max-size", optarg, 1, &size)) != 0)
			return r;
	}
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0)
		return r;
	cli_what(c, "suspended limits");
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if (count == SSOVAULT_LIMIT_KEEP && size == SSOVAULT_LIMIT_KEEP)
		r = ssovault_suspended_limits(c->h, &json);
	else
		r = ssovault_suspended_limits_set(c->h, count, size, &json);
	if (r != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, limits_human);
	free(json);
	return r;
}

const struct cli_cmd cli_cmd_suspended[] = {
	{ "list", cmd_suspended_list, NULL, NULL,
	    "list suspended messages (yours; every one for affiliate admins)",
	    "One line each: id, last attempt, attempts, sender, URL (and port), reason.\n" },
	{ "show", cmd_suspended_show, NULL, "ID",
	    "show a message's sender, reason, attempts, times and every setting (not its body)",
	    NULL },
	{ "resume", cmd_suspended_resume, NULL,
	    "ID [--ticket T [--sender P]] [--sso-app APP] [--cert THUMBPRINT] "
	    "[--user NAME --password-file F] [--proxy-user NAME --proxy-password-file F] "
	    "[--cacert FILE] [--capath DIR] [--auth A] [--allow-http-auth] "
	    "[--retry-count N] [--retry-interval D] [--timeout D] [--out FILE]",
	    "send a suspended message again",
	    "The message is sent with the settings it was suspended with, under the same\n"
	    "checks, as you.  Options here override the stored ones.\n"
	    "\n"
	    "Your own message uses its stored --sso-app and --cert with your mapping and\n"
	    "grant.  A message keeps no password file: give --password-file (and\n"
	    "--proxy-password-file) again.  A message someone else sent uses none of its\n"
	    "--sso-app, --cert, --user, --proxy-user, --cacert, --capath or\n"
	    "--allow-http-auth: they would act with your credentials and files.  Resume\n"
	    "names those it left out (exit 2); give your own, or '' to send without:\n"
	    "  ssovault suspended resume 3f2a... --sso-app payroll --cacert /etc/ssl/erp.pem\n"
	    "  ssovault suspended resume 3f2a... --cert '' --cacert ''\n"
	    "Check its URL and settings with 'suspended show' first.\n"
	    "\n"
	    "Delivered, it leaves the queue (exit 0).  Failed again, it stays with the new\n"
	    "reason and attempt count (exit 4); answered with a SOAP fault, it stays too\n"
	    "(exit 3): terminate it to drop it.  A message sent with a ticket needs a new\n"
	    "one (--ticket): tickets are single-use.\n" },
	{ "terminate", cmd_suspended_terminate, NULL, "ID",
	    "drop a suspended message without sending it", NULL },
	{ "limits", cmd_suspended_limits, NULL, "[--max-count N] [--max-size SIZE]",
	    "show or set how much of the queue each uid may hold",
	    "Each uid may keep at most --max-count messages (default 1000) and --max-size\n"
	    "sealed bytes (default: a quarter of the vault's size) in the queue; a send\n"
	    "whose message would pass either fails (exit 1) and its file stays as it was.\n"
	    "Without options, shows the limits and what uids hold (every uid for affiliate\n"
	    "and vault admins, else your own).  Setting them takes a vault admin; 'default'\n"
	    "goes back to the default.  Sizes take K, M, G.\n"
	    "\n"
	    "Examples:\n"
	    "  ssovault suspended limits\n"
	    "  ssovault suspended limits --max-count 200 --max-size 512M\n"
	    "  ssovault suspended limits --max-size default\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
