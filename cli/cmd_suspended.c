/*
 * ssovault suspended list|show|resume|terminate: the messages `send` kept
 * because they could not be delivered (DESIGN section 6).  Resume sends a
 * message again with its stored settings, as the caller who resumes, and
 * prints as send does (cmd_send.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "send.h"

/* From cmd_send.c. */
struct option *cli_send_longopts(const char *const *only, const struct option *extra,
    size_t nextra);
int cli_send_option(struct cli *c, struct send_settings *s, int o, const char *arg);
int cli_send_resume(struct cli *c, const char *id, const struct send_settings *over);

static void
list_human(struct cli *c, json_t *j)
{
	json_t *m;
	size_t i;

	if (json_array_size(j) == 0) {
		printf("No suspended messages.\n");
		return;
	}
	json_array_foreach(j, i, m) {
		const char *err = json_string_value(json_object_get(m, "error"));
		const char *port = json_string_value(json_object_get(m, "port"));
		const char *url = json_string_value(json_object_get(m, "url"));

		if (err != NULL) {
			printf("%s  %s\n", json_string_value(json_object_get(m, "id")), err);
			continue;
		}
		printf("%s  %s  %lld attempt%s  %s  %s\n",
		    json_string_value(json_object_get(m, "id")),
		    json_string_value(json_object_get(m, "updated")),
		    (long long)json_integer_value(json_object_get(m, "attempts")),
		    json_integer_value(json_object_get(m, "attempts")) == 1 ? "" : "s",
		    port != NULL ? port : url != NULL ? url : "-",
		    json_string_value(json_object_get(m, "reason")));
	}
}

static int
cmd_suspended_list(struct cli *c, int argc, char **argv)
{
	return cli_list(c, argc, argv, ssovault_suspended_list, list_human);
}

static void
show_human(struct cli *c, json_t *j)
{
	static const char *const keys[] = { "id", "sender", "created", "updated", "attempts",
	    "size", "reason" };
	json_t *v, *settings = json_object_get(j, "settings");
	const char *k;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = json_object_get(j, keys[i]);
		if (json_is_string(v))
			printf("%-10s %s\n", keys[i], json_string_value(v));
		else if (json_is_integer(v))
			printf("%-10s %lld\n", keys[i], (long long)json_integer_value(v));
	}
	printf("settings:\n");
	json_object_foreach(settings, k, v) {
		if (json_is_string(v))
			printf("  %-20s %s\n", k, json_string_value(v));
		else if (json_is_integer(v))
			printf("  %-20s %lld\n", k, (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			printf("  %-20s %s\n", k, json_is_true(v) ? "yes" : "no");
		else if (json_is_array(v)) {
			json_t *e;

			json_array_foreach(v, i, e)
				printf("  %-20s %s\n", k, json_string_value(e) ? json_string_value(e) : "?");
		}
	}
}

static int
cmd_suspended_show(struct cli *c, int argc, char **argv)
{
	char *json = NULL;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	cli_what(c, "suspended show %s", argv[optind]);
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_suspended_show(c->h, argv[optind], &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, show_human);
	free(json);
	return r;
}

static int
cmd_suspended_resume(struct cli *c, int argc, char **argv)
{
	/* the few settings a resume may change; the rest are the stored ones */
	static const char *const only[] = { "ticket", "sender", "retry-count",
	    "retry-interval", "timeout", "out", NULL };
	struct send_settings over;
	struct option *lo;
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
	if ((r = cli_open(c, 1)) != 0)
		goto out;
	r = cli_send_resume(c, argv[optind], &over);
out:
	send_settings_clear(&over);
	free(lo);
	return r;
}

static int
cmd_suspended_terminate(struct cli *c, int argc, char **argv)
{
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	cli_what(c, "suspended terminate %s", argv[optind]);
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_suspended_remove(c->h, argv[optind], 0)) != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("Suspended message %s terminated: it will not be sent.\n", argv[optind]);
	return 0;
}

const struct cli_cmd cli_cmd_suspended[] = {
	{ "list", cmd_suspended_list, NULL, NULL,
	    "list suspended messages (yours; every one for affiliate admins)",
	    "One line each: id, last attempt, attempts, port or URL, reason.\n" },
	{ "show", cmd_suspended_show, NULL, "ID",
	    "show a message's reason, attempts, times and settings (not its body)", NULL },
	{ "resume", cmd_suspended_resume, NULL,
	    "ID [--ticket T [--sender P]] [--retry-count N] [--retry-interval D] [--timeout D] [--out FILE]",
	    "send a suspended message again",
	    "The message is sent with the settings it was suspended with, under the same\n"
	    "checks, as you: your certificate grant and your SSO credentials are used.\n"
	    "Delivered, it leaves the queue (exit 0).  Failed again, it stays with the new\n"
	    "reason and attempt count (exit 4); answered with a SOAP fault, it stays too\n"
	    "(exit 3): terminate it to drop it.  A message sent with a ticket needs a new\n"
	    "one (--ticket): tickets are single-use.  Options here override the stored ones.\n" },
	{ "terminate", cmd_suspended_terminate, NULL, "ID",
	    "drop a suspended message without sending it", NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
