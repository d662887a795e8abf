/*
 * ssovault send [--port NAME] [send options] FILE...: post SOAP messages
 * (DESIGN section 6).  The options come from the send library's one table
 * (send_option_list), shared with `port create|update`; this file parses
 * them, loads and merges a port, and prints what the library reports: the
 * response bodies (stdout, or --out), one result line per message and a
 * summary on stderr, a progress line on a terminal.  It also prints for
 * `suspended resume`, which sends the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "send/send.h"

/* Shared with cmd_port.c and cmd_suspended.c (defined here). */
struct option *cli_send_longopts(const char *const *only, const struct option *extra,
    size_t nextra);
int cli_send_option(struct cli *c, struct send_settings *s, int o, const char *arg);
int cli_send_port_settings(struct cli *c, const char *name, struct send_settings *ret);
int cli_send_resume(struct cli *c, const char *id, const struct send_settings *over);

#define OPT_BASE 1000		/* getopt values of send options: OPT_BASE + index */

/*
 * The getopt table: the send options (all, or those named in the NULL-ended
 * list only), then the nextra options of the command itself, then --help.
 * free() it.
 */
struct option *
cli_send_longopts(const char *const *only, const struct option *extra, size_t nextra)
{
	const struct send_option *so;
	const char *const *w;
	struct option *t;
	size_t n, i, k = 0;

	so = send_option_list(&n);
	if ((t = calloc(n + nextra + 2, sizeof(*t))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		for (w = only; w != NULL && *w != NULL && strcmp(*w, so[i].name) != 0; w++)
			;
		if (w != NULL && *w == NULL)
			continue;
		t[k].name = so[i].name;
		t[k].has_arg = so[i].optional_arg ? optional_argument : required_argument;
		t[k++].val = OPT_BASE + (int)i;
	}
	for (i = 0; i < nextra; i++)
		t[k++] = extra[i];
	t[k].name = "help";
	t[k].val = 'h';
	return t;
}

/* A settings error r: a usage error, but libcurl missing (send/curl-load.c) is not one */
static int
settings_error(struct cli *c, int r, const char *msg)
{
	return r == SV_ERR_TRANSPORT ? cli_fail(c, r, "%s", msg) : cli_usage(c, "%s", msg);
}

/*
 * Handle getopt's answer o if it is a send option: 0 if handled, -1 if o is
 * not one, else an exit code (usage).  A ticket is wiped from argv once
 * copied, so that it does not stay readable in /proc/PID/cmdline.
 */
int
cli_send_option(struct cli *c, struct send_settings *s, int o, const char *arg)
{
	const struct send_option *so;
	char msg[SV_MSG_MAX];
	size_t n;
	int r;

	so = send_option_list(&n);
	if (o < OPT_BASE || o >= OPT_BASE + (int)n)
		return -1;
	msg[0] = '\0';
	r = send_settings_set(s, so[o - OPT_BASE].name, arg, msg);
	if (arg != NULL && strcmp(so[o - OPT_BASE].name, "ticket") == 0)
		sodium_memzero((char *)arg, strlen(arg));
	if (r != 0)
		return settings_error(c, r, msg);
	return 0;
}

/* A port's settings, as stored (cleared marks kept). */
int
cli_send_port_settings(struct cli *c, const char *name, struct send_settings *ret)
{
	char *json = NULL, *settings = NULL, msg[SV_MSG_MAX];
	json_error_t e;
	json_t *j = NULL;
	int r;

	if ((r = ssovault_port_show(c->h, name, &json)) != 0)
		return cli_fail_h(c, r);
	if ((j = json_loads(json, 0, &e)) == NULL || !json_is_object(json_object_get(j, "settings")) ||
	    (settings = json_dumps(json_object_get(j, "settings"), JSON_COMPACT)) == NULL) {
		r = cli_fail(c, SV_ERR_PROTOCOL, "port '%s': the service sent malformed JSON", name);
		goto out;
	}
	msg[0] = '\0';
	if ((r = send_settings_from_json(settings, ret, msg)) != 0)
		r = cli_fail(c, r, "port '%s' holds unusable settings: %s", name, msg);
out:
	json_decref(j);
	free(json);
	free(settings);
	return r;
}

/* --- printing results ---------------------------------------------------- */

struct out {
	struct cli *c;
	const char *out;		/* --out, or NULL for stdout */
	int out_dir;			/* --out names a directory */
	size_t total;
	int progress_shown;
	int worst;			/* exit code of the worst outcome */
	json_t *results;		/* --json */
};

/* Usage first, then failures (audit, locked, denied, failed), suspended, fault, ok. */
static int
rank(int code)
{
	static const int order[] = { 0, 3, 4, 1, 5, 6, 7, 2 };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i] == code)
			return (int)i;
	return 3;
}

static void
worse(struct out *o, int code)
{
	if (rank(code) > rank(o->worst))
		o->worst = code;
}

static void
progress_clear(struct out *o)
{
	if (o->progress_shown) {
		fprintf(stderr, "\r\033[K");
		o->progress_shown = 0;
	}
}

static void
on_progress(void *ctx, size_t done, size_t total, size_t active, size_t waiting)
{
	struct out *o = ctx;

	if (!o->c->tty || o->c->quiet || o->c->json || total < 2)
		return;
	fprintf(stderr, "\r\033[Ksend: %zu/%zu done, %zu in flight, %zu waiting to retry",
	    done, total, active, waiting);
	fflush(stderr);
	o->progress_shown = 1;
}

static void
on_notice(void *ctx, const char *line)
{
	struct out *o = ctx;

	if (o->c->quiet)
		return;
	progress_clear(o);
	fprintf(stderr, "%s\n", line);
}

/*
 * The retry wait on a terminal, as a countdown that says what Ctrl-C does:
 * "order.xml: attempt 2 in 4m 59s; Ctrl-C suspends it now".
 */
static void
on_wait(void *ctx, const char *name, unsigned next_attempt, long long secs)
{
	struct out *o = ctx;

	if (!o->c->tty || o->c->quiet || o->c->json)
		return;
	if (secs >= 60)
		fprintf(stderr, "\r\033[K%s: attempt %u in %lldm %02llds; Ctrl-C suspends it now",
		    name, next_attempt, secs / 60, secs % 60);
	else
		fprintf(stderr, "\r\033[K%s: attempt %u in %llds; Ctrl-C suspends it now",
		    name, next_attempt, secs);
	fflush(stderr);
	o->progress_shown = 1;
}

static volatile sig_atomic_t stop_signal;

static void
on_stop_signal(int sig)
{
	stop_signal = sig;
}

/*
 * SIGINT and SIGTERM stop a send without losing a message (send.h: stop).
 * Once: a second signal, while the messages are being kept, has its
 * default effect.  No SA_RESTART, so a wait ends at once.
 */
static void
catch_stop_signals(struct send_callbacks *cb)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = (int)SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	cb->stop = &stop_signal;
	cb->wait = on_wait;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The file a message's response goes to: --out FILE, or DIR/<name>.response. */
static void
response_path(const struct out *o, const char *name, char *path, size_t len)
{
	char copy[4096];

	if (!o->out_dir) {
		snprintf(path, len, "%s", o->out);
		return;
	}
	snprintf(copy, sizeof(copy), "%s", name);
	snprintf(path, len, "%s%s%s.response", o->out,
	    o->out[strlen(o->out) - 1] == '/' ? "" : "/",
	    strcmp(name, "-") == 0 ? "stdin" : basename(copy));
}

/*
 * A response file in an --out directory that was there already must be
 * ours and nobody else's: in a directory another user made (a shared
 * /tmp), a file of theirs (or a second link, a FIFO) would hand them the
 * response.  (--out FILE names the file itself: the caller chose it.)
 */
static int
response_file_ours(struct out *o, const struct send_result *r, int fd, const char *path)
{
	struct stat st;
	char why[64];

	if (fstat(fd, &st) != 0)
		return cli_fail(o->c, SV_ERR_IO, "%s: cannot write the response to %s: %s",
		    r->name, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		snprintf(why, sizeof(why), "is not a regular file");
	else if (st.st_uid != geteuid())
		snprintf(why, sizeof(why), "belongs to uid %lu", (unsigned long)st.st_uid);
	else if (st.st_nlink != 1)
		snprintf(why, sizeof(why), "has another name (a hard link)");
	else
		return 0;
	return cli_fail(o->c, SV_ERR_IO, "%s: not writing the response to %s: the file there %s; "
	    "give --out a directory of your own", r->name, path, why);
}

/* Write a response where it goes; an exit code. */
static int
store_response(struct out *o, const struct send_result *r)
{
	char path[4200];
	int fd, r2;

	if (r->response == NULL)
		return 0;
	if (o->out == NULL) {
		if (o->c->json)
			return 0;	/* in the JSON result instead */
		fflush(stdout);
		/* a response ends its line, as a shell prompt after it expects */
		if (write_all(STDOUT_FILENO, r->response, r->response_len) != 0 ||
		    (r->response_len > 0 && r->response[r->response_len - 1] != '\n' &&
		    write_all(STDOUT_FILENO, (const uint8_t *)"\n", 1) != 0))
			return cli_fail(o->c, SV_ERR_IO, "%s: cannot write the response: %s",
			    r->name, strerror(errno));
		return 0;
	}
	response_path(o, r->name, path, sizeof(path));
	/* in a directory: truncated only once known to be ours (no FIFO wait before) */
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    (o->out_dir ? O_NONBLOCK : O_TRUNC), 0600);
	if (fd >= 0 && o->out_dir && (r2 = response_file_ours(o, r, fd, path)) != 0) {
		close(fd);
		return r2;
	}
	if (fd < 0 || (o->out_dir && ftruncate(fd, 0) != 0) ||
	    write_all(fd, r->response, r->response_len) != 0 || close(fd) != 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return cli_fail(o->c, e == ENOSPC ? SV_ERR_NO_SPACE : SV_ERR_IO,
		    "%s: cannot write the response to %s: %s", r->name, path, strerror(e));
	}
	return 0;
}

static const char *
outcome_name(const struct send_result *r)
{
	static const char *const names[] = { "delivered", "fault", "suspended", "not-sent", "failed" };

	return names[r->outcome];
}

static void
result_json(struct out *o, const struct send_result *r)
{
	json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:I}", "file", r->name,
	    "outcome", outcome_name(r), "http_status", (json_int_t)r->http_status,
	    "ms", (json_int_t)r->ms, "attempts", (json_int_t)r->attempts);

	if (j == NULL)
		return;
	if (r->id != NULL)
		json_object_set_new(j, "id", json_string(r->id));
	if (r->reason != NULL)
		json_object_set_new(j, "reason", json_string(r->reason));
	if (r->err != 0)
		json_object_set_new(j, "error", json_string(sv_strerror(r->err)));
	if (r->fault_code != NULL)
		json_object_set_new(j, "fault", json_pack("{s:s,s:s}", "code", r->fault_code,
		    "reason", r->fault_reason != NULL ? r->fault_reason : ""));
	if (r->response != NULL && o->out == NULL) {
		json_t *body = json_stringn((const char *)r->response, r->response_len);

		if (body != NULL)
			json_object_set_new(j, "response", body);
		else
			json_object_set_new(j, "response_omitted",
			    json_string("not UTF-8 text: use --out to keep it"));
	}
	json_array_append_new(o->results, j);
}

static int
on_result(void *ctx, const struct send_result *r)
{
	struct out *o = ctx;
	char more[64] = "";
	int code, rc;

	progress_clear(o);
	if ((rc = store_response(o, r)) != 0)
		worse(o, rc);
	switch (r->outcome) {
	case SEND_DELIVERED:
		code = r->err != 0 ? sv_exit_code(r->err) : 0;
		break;
	case SEND_FAULT:
		code = 3;
		break;
	case SEND_SUSPENDED:
		code = 4;
		break;
	default:
		code = sv_exit_code(r->err != 0 ? r->err : SV_ERR_INTERNAL);
		break;
	}
	worse(o, code);
	if (o->c->json) {
		result_json(o, r);
		return rc != 0 ? SV_ERR_IO : 0;
	}
	if (r->attempts > 1)
		snprintf(more, sizeof(more), ", attempt %u", r->attempts);
	switch (r->outcome) {
	case SEND_DELIVERED:
		if (r->err != 0)
			fprintf(stderr, "%s: delivered (HTTP %ld, %lld ms%s), but %s\n", r->name,
			    r->http_status, r->ms, more, r->reason);
		else if (!o->c->quiet)
			fprintf(stderr, "%s: delivered (HTTP %ld, %lld ms%s)\n", r->name,
			    r->http_status, r->ms, more);
		break;
	case SEND_FAULT:
		fprintf(stderr, "%s: fault: %s: %s (HTTP %ld%s)%s%s%s\n", r->name, r->fault_code,
		    r->fault_reason, r->http_status, more,
		    r->id != NULL ? "; still suspended as " : "", r->id != NULL ? r->id : "",
		    r->id != NULL ? " (terminate it to drop it)" : "");
		break;
	case SEND_SUSPENDED:
		if (strcmp(r->name, r->id) == 0)	/* a resume that failed again */
			fprintf(stderr, "%s: still suspended: %s\n", r->name, r->reason);
		else
			fprintf(stderr, "%s: suspended %s: %s\n", r->name, r->id, r->reason);
		break;
	case SEND_NOT_TAKEN:
		fprintf(stderr, "%s: not sent: %s\n", r->name, r->reason);
		break;
	case SEND_FAILED:
		fprintf(stderr, "%s: failed: %s\n", r->name, r->reason);
		break;
	}
	return rc != 0 ? SV_ERR_IO : 0;
}

static void
summary(struct out *o, const struct send_summary *sum)
{
	double secs = (double)sum->ms / 1000.0;

	if (o->c->json) {
		json_t *j = json_pack("{s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I}}", "results", o->results,
		    "summary", "total", (json_int_t)sum->total, "delivered", (json_int_t)sum->delivered,
		    "faults", (json_int_t)sum->faults, "suspended", (json_int_t)sum->suspended,
		    "not_sent", (json_int_t)sum->not_taken, "failed", (json_int_t)sum->failed,
		    "ms", (json_int_t)sum->ms);
		char *s;

		o->results = NULL;
		if (j != NULL && (s = json_dumps(j, JSON_COMPACT)) != NULL) {
			printf("%s\n", s);
			free(s);
		}
		json_decref(j);
		return;
	}
	if (o->c->quiet || sum->total < 2)
		return;
	fprintf(stderr, "%zu messages: %zu delivered, %zu faults, %zu suspended, %zu not sent, "
	    "%zu failed in %.2f s (%.1f/s)\n", sum->total, sum->delivered, sum->faults,
	    sum->suspended, sum->not_taken, sum->failed, secs,
	    secs > 0 ? (double)sum->total / secs : 0.0);
}

/* --out: a directory takes every response; a file takes one message's. */
static int
out_setup(struct cli *c, struct out *o, const char *out, char **files, size_t n)
{
	struct stat st;
	size_t i, k;
	char a[4096], b[4096];

	o->out = out;
	if (out == NULL)
		return 0;
	/* "DIR/" that is not there: a directory to make (0700, one level, as curl's --create-dirs) */
	if (*out != '\0' && out[strlen(out) - 1] == '/' && stat(out, &st) != 0 && errno == ENOENT) {
		if (mkdir(out, 0700) != 0)
			return cli_fail(c, errno == ENOENT ? SV_ERR_NOT_FOUND : SV_ERR_IO,
			    "cannot make the directory %s for the responses: %s", out,
			    strerror(errno));
	}
	o->out_dir = stat(out, &st) == 0 && S_ISDIR(st.st_mode);
	if (!o->out_dir && n > 1)
		return cli_usage(c, "--out %s is not a directory: with several messages, "
		    "give a directory (each response goes to DIR/<file>.response)", out);
	for (i = 0; o->out_dir && i < n; i++)
		for (k = i + 1; k < n; k++) {
			snprintf(a, sizeof(a), "%s", files[i]);
			snprintf(b, sizeof(b), "%s", files[k]);
			if (strcmp(basename(a), basename(b)) == 0)
				return cli_usage(c, "%s and %s would both answer into %s/%s.response",
				    files[i], files[k], out, basename(a));
		}
	return 0;
}

static int
cmd_send(struct cli *c, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "port", required_argument, NULL, 'P' },
	};
	struct send_settings s, given;
	struct send_callbacks cb;
	struct send_summary sum;
	struct option *lo;
	struct out o;
	const char *port = NULL;
	char msg[SV_MSG_MAX];
	int opt, r;

	send_settings_init(&s);
	send_settings_init(&given);
	memset(&o, 0, sizeof(o));
	if ((lo = cli_send_longopts(NULL, extra, 1)) == NULL)
		return cli_fail(c, SV_ERR_NOMEM, "out of memory");
	while ((opt = cli_getopt(c, argc, argv, "", lo)) != -1) {
		if (opt == 'P')
			port = optarg;
		else if ((r = cli_send_option(c, &given, opt, optarg)) != 0)
			goto out;
	}
	if ((r = cli_operands(c, argc, argv, 1, -1)) != 0)
		goto out;
	if ((r = cli_open(c, 1)) != 0)
		goto out;
	if (port != NULL) {
		if ((r = cli_send_port_settings(c, port, &s)) != 0)
			goto out;
		free(s.port);
		if ((s.port = strdup(port)) == NULL) {
			r = cli_fail(c, SV_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((r = send_settings_merge(&s, &given)) != 0) {
		r = cli_fail(c, r, "out of memory");
		goto out;
	}
	send_settings_normalise(&s);
	msg[0] = '\0';
	if ((r = send_settings_check(&s, msg)) != 0) {
		r = settings_error(c, r, msg);
		goto out;
	}
	o.c = c;
	o.total = (size_t)(argc - optind);
	if ((r = out_setup(c, &o, s.out, argv + optind, o.total)) != 0)
		goto out;
	if (c->json && (o.results = json_array()) == NULL) {
		r = cli_fail(c, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	memset(&cb, 0, sizeof(cb));
	cb.ctx = &o;
	cb.result = on_result;
	cb.progress = on_progress;
	cb.notice = on_notice;
	catch_stop_signals(&cb);
	msg[0] = '\0';
	r = send_batch(c->h, &s, (const char *const *)(argv + optind), o.total, &cb, &sum, msg);
	progress_clear(&o);
	if (r != 0) {
		r = cli_fail(c, r, "%s", msg[0] != '\0' ? msg : sv_strerror(r));
		goto out;
	}
	summary(&o, &sum);
	if (stop_signal != 0 && !c->quiet && !c->json)
		fprintf(stderr, "send: interrupted (%s): nothing was lost; "
		    "'ssovault suspended list' shows what was kept\n",
		    stop_signal == SIGINT ? "Ctrl-C" : "SIGTERM");
	r = o.worst;
out:
	json_decref(o.results);
	send_settings_clear(&s);
	send_settings_clear(&given);
	free(lo);
	return r;
}

/* suspended resume ID: send it again and print as send does. */
int
cli_send_resume(struct cli *c, const char *id, const struct send_settings *over)
{
	struct send_callbacks cb;
	struct send_summary sum;
	struct out o;
	char msg[SV_MSG_MAX];
	int r;

	memset(&o, 0, sizeof(o));
	o.c = c;
	o.total = 1;
	if ((r = out_setup(c, &o, over->out, NULL, 0)) != 0)
		return r;
	if (o.out_dir)
		return cli_usage(c, "--out %s is a directory: give a file for the response", over->out);
	if (c->json && (o.results = json_array()) == NULL)
		return cli_fail(c, SV_ERR_NOMEM, "out of memory");
	memset(&cb, 0, sizeof(cb));
	cb.ctx = &o;
	cb.result = on_result;
	cb.notice = on_notice;
	catch_stop_signals(&cb);
	msg[0] = '\0';
	r = send_resume(c->h, id, over, &cb, &sum, msg);
	if (r != 0) {
		json_decref(o.results);
		return cli_fail(c, r, "%s", msg[0] != '\0' ? msg : sv_strerror(r));
	}
	summary(&o, &sum);
	json_decref(o.results);
	return o.worst;
}

/*
 * A command with options and no subcommands: main.c runs the table's one
 * entry, whose name is empty, for `ssovault send ...`.
 */
const struct cli_cmd cli_cmd_send[] = {
	{ "", cmd_send, NULL, "[--port NAME | --url URL ...] [options] FILE...",
	    "send SOAP messages with SSO credentials and client certificates",
	    "Each FILE is a whole SOAP envelope (sent as it is) or, with --body, a body\n"
	    "fragment to wrap; '-' reads one message from standard input.\n"
	    "\n"
	    "Options (a port's settings are the same options; explicit ones win):\n"
	    "  --port NAME                  the settings of send port NAME\n"
	    "  --url URL                    endpoint, http:// or https://\n"
	    "  --soap 1.1|1.2               SOAP version (default: the envelope's; 1.1 for --body)\n"
	    "  --action ACTION              SOAPAction (1.1) or the action parameter (1.2)\n"
	    "  --body[=yes|no]              wrap each file, a body fragment, in an envelope\n"
	    "  --auth anonymous|basic|digest|ntlm\n"
	    "                               HTTP authentication (default: basic with credentials)\n"
	    "  --user NAME --password-file F   credentials from a file (never on the command line)\n"
	    "  --sso-app APP                your mapping's credentials for APP from the vault\n"
	    "  --ticket T [--sender P]      redeem ticket T for APP's credentials (once per message)\n"
	    "  --cert THUMBPRINT            client certificate from the vault\n"
	    "  --allow-http-auth[=yes|no]   allow credentials over plain http:// (sent in clear)\n"
	    "  --cacert FILE, --capath DIR  CA certificates to verify the server (always verified)\n"
	    "  --proxy URL [--proxy-user NAME --proxy-password-file F]\n"
	    "  --timeout DURATION           limit per attempt (default 60s; s/m/h)\n"
	    "  --connect-timeout DURATION   limit for connecting (default 30s)\n"
	    "  --max-response-size SIZE     largest response accepted (default 16M; K/M/G)\n"
	    "  --header 'NAME: VALUE'       extra header, repeatable ('' clears a port's)\n"
	    "  --out PATH                   the response to FILE, or DIR/<file>.response each\n"
	    "  --retry-count N              retries after the first attempt (default 3, 0-1000)\n"
	    "  --retry-interval DURATION    wait between attempts (default 5m)\n"
	    "  --suspend-on-fault[=yes|no]  keep messages answered with a SOAP fault\n"
	    "  --parallel N                 send N messages at a time (default 1, at most 64)\n"
	    "\n"
	    "An empty value ('') drops the port's setting for this send.\n"
	    "\n"
	    "Credentials (--sso-app, --user, a ticket) over a plain http:// URL, and\n"
	    "--proxy-user with a proxy that is not https://, are refused (exit 2, nothing\n"
	    "sent) unless --allow-http-auth says the network may see them; --cert needs\n"
	    "https://.  Redirects are never followed.\n"
	    "\n"
	    "Responses go to stdout (or --out); one result line per message and, for\n"
	    "several, a summary go to stderr:\n"
	    "  orders.xml: delivered (HTTP 200, 12 ms)\n"
	    "  bad.xml: fault: soap:Server: Order rejected (HTTP 500)\n"
	    "  late.xml: suspended 3f2a...: gave up after 4 attempts: HTTP 503\n"
	    "\n"
	    "Retried: transport and TLS errors, timeouts, HTTP 401/403/407/408/429/5xx\n"
	    "without a fault.  Kept in the suspended queue (exit 4): when retries run out,\n"
	    "at once when the certificate or SSO credentials cannot be had.  Every message\n"
	    "is delivered, answered, suspended, or refused before it was taken (malformed\n"
	    "XML, unreadable file: exit 1); files are never changed.\n"
	    "\n"
	    "Exit: the worst outcome, in this order: 2 usage, 7 audit, 6 locked or\n"
	    "unreachable, 5 denied, 1 failed or not sent, 4 suspended, 3 fault, 0.\n"
	    "\n"
	    "Examples:\n"
	    "  ssovault send --url https://erp.example/soap --sso-app erp --cert 3F2A... order.xml\n"
	    "  ssovault send --port erp-orders --parallel 8 --out responses/ orders/*.xml\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
