/*
 * ssovault port create|update|show|list|delete: send ports, named sets of
 * send settings (DESIGN section 6).  A port's settings are the options of
 * `ssovault send`, parsed by the same table (cmd_send.c, send.h) and stored
 * as the settings JSON of docs/json.md: file paths, never secret values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "send/send.h"

/* From cmd_send.c. */
struct option *cli_send_longopts(const char *const *only, const struct option *extra,
    size_t nextra);
int cli_send_option(struct cli *c, struct send_settings *s, int o, const char *arg);
int cli_send_port_settings(struct cli *c, const char *name, struct send_settings *ret);

/* Parse NAME and the send options into given; an exit code. */
static int
port_args(struct cli *c, int argc, char **argv, struct send_settings *given,
    const char **ret_name)
{
	struct option *lo;
	int o, r = 0;

	if ((lo = cli_send_longopts(NULL, NULL, 0)) == NULL)
		return cli_fail(c, SV_ERR_NOMEM, "out of memory");
	while ((o = cli_getopt(c, argc, argv, "", lo)) != -1)
		if ((r = cli_send_option(c, given, o, optarg)) != 0)
			break;
	free(lo);
	if (r != 0 || (r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	*ret_name = argv[optind];
	return 0;
}

/* Check what a port would hold once the changes are in: an exit code. */
static int
port_check(struct cli *c, const struct send_settings *now)
{
	struct send_settings t;
	char msg[SV_MSG_MAX];
	int r;

	send_settings_init(&t);
	if ((r = send_settings_merge(&t, now)) != 0) {
		send_settings_clear(&t);
		return cli_fail(c, r, "out of memory");
	}
	send_settings_normalise(&t);
	msg[0] = '\0';
	r = send_settings_check_port(&t, msg);
	send_settings_clear(&t);
	return r != 0 ? cli_usage(c, "%s", msg) : 0;
}

static int
cmd_port_create(struct cli *c, int argc, char **argv)
{
	struct send_settings given;
	const char *name = NULL;
	char *json = NULL;
	int r;

	send_settings_init(&given);
	if ((r = port_args(c, argc, argv, &given, &name)) != 0)
		goto out;
	cli_what(c, "port create %s", name);
	send_settings_normalise(&given);
	if ((r = port_check(c, &given)) != 0 || (r = cli_open(c, 1)) != 0)
		goto out;
	if ((r = send_settings_to_json(&given, &json)) != 0) {
		r = cli_fail(c, r, "out of memory");
		goto out;
	}
	if ((r = ssovault_port_create(c->h, name, json)) != 0) {
		r = cli_fail_h(c, r);
		goto out;
	}
	if (!c->quiet)
		printf("Send port %s created.\n", name);
out:
	free(json);
	send_settings_clear(&given);
	return r;
}

static int
cmd_port_update(struct cli *c, int argc, char **argv)
{
	struct send_settings given, now;
	const char *name = NULL;
	char *json = NULL;
	int r;

	send_settings_init(&given);
	send_settings_init(&now);
	if ((r = port_args(c, argc, argv, &given, &name)) != 0)
		goto out;
	cli_what(c, "port update %s", name);
	if ((r = cli_open(c, 1)) != 0 || (r = cli_send_port_settings(c, name, &now)) != 0)
		goto out;
	if ((r = send_settings_merge(&now, &given)) != 0) {
		r = cli_fail(c, r, "out of memory");
		goto out;
	}
	if ((r = port_check(c, &now)) != 0)
		goto out;
	/* only the changes travel: given members replace, cleared ones (null) go */
	if ((r = send_settings_to_json(&given, &json)) != 0) {
		r = cli_fail(c, r, "out of memory");
		goto out;
	}
	if ((r = ssovault_port_update(c->h, name, json)) != 0) {
		r = cli_fail_h(c, r);
		goto out;
	}
	if (!c->quiet)
		printf("Send port %s updated.\n", name);
out:
	free(json);
	send_settings_clear(&given);
	send_settings_clear(&now);
	return r;
}

static void
value_print(const char *key, json_t *v)
{
	size_t i;
	json_t *e;

	if (json_is_string(v))
		printf("  %-20s %s\n", key, json_string_value(v));
	else if (json_is_integer(v))
		printf("  %-20s %lld\n", key, (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		printf("  %-20s %s\n", key, json_is_true(v) ? "yes" : "no");
	else if (json_is_array(v))
		json_array_foreach(v, i, e)
			printf("  %-20s %s\n", key, json_string_value(e) ? json_string_value(e) : "?");
}

static void
port_human(struct cli *c, json_t *j)
{
	json_t *settings = json_object_get(j, "settings"), *v;
	const char *k;

	printf("%s\n", json_string_value(json_object_get(j, "name")));
	printf("  %-20s %s\n", "created", json_string_value(json_object_get(j, "created")));
	printf("  %-20s %s\n", "updated", json_string_value(json_object_get(j, "updated")));
	json_object_foreach(settings, k, v)
		value_print(k, v);
}

static int
cmd_port_show(struct cli *c, int argc, char **argv)
{
	char *json = NULL;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	cli_what(c, "port show %s", argv[optind]);
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_port_show(c->h, argv[optind], &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, port_human);
	free(json);
	return r;
}

static void
ports_human(struct cli *c, json_t *j)
{
	json_t *p, *s;
	size_t i;

	if (json_array_size(j) == 0)
		printf("No send ports.\n");
	json_array_foreach(j, i, p) {
		s = json_object_get(p, "settings");
		if (json_object_get(p, "error") != NULL)
			printf("%-24s %s\n", json_string_value(json_object_get(p, "name")),
			    json_string_value(json_object_get(p, "error")));
		else
			printf("%-24s %s\n", json_string_value(json_object_get(p, "name")),
			    json_string_value(json_object_get(s, "url")) != NULL ?
			    json_string_value(json_object_get(s, "url")) : "(no url)");
	}
}

static int
cmd_port_list(struct cli *c, int argc, char **argv)
{
	return cli_list(c, argc, argv, ssovault_port_list, ports_human);
}

static int
cmd_port_delete(struct cli *c, int argc, char **argv)
{
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	cli_what(c, "port delete %s", argv[optind]);
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_port_delete(c->h, argv[optind])) != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("Send port %s deleted.\n", argv[optind]);
	return 0;
}

const struct cli_cmd cli_cmd_port[] = {
	{ "create", cmd_port_create, NULL, "NAME --url URL [send options]",
	    "store a named set of send settings",
	    "Takes the options of 'ssovault send' (see 'ssovault send --help') except\n"
	    "--ticket, which is single-use and given to each send.  No secret value is\n"
	    "stored: passwords stay in the files --password-file names, credentials and\n"
	    "keys in the vault.  Paths are stored absolute.\n"
	    "\n"
	    "Example:\n"
	    "  ssovault port create erp-orders --url https://erp.example/soap --soap 1.2 \\\n"
	    "      --action urn:erp#Submit --sso-app erp --cert 3F2A... --retry-interval 1m\n"
	    "  ssovault send --port erp-orders order.xml\n" },
	{ "update", cmd_port_update, NULL, "NAME [send options]",
	    "change some of a port's settings",
	    "Given options replace the port's; an empty value ('') removes a setting:\n"
	    "  ssovault port update erp-orders --retry-count 10 --cert ''\n"
	    "--header replaces the port's headers as a whole.\n" },
	{ "show", cmd_port_show, NULL, "NAME", "show a port's settings", NULL },
	{ "list", cmd_port_list, NULL, NULL, "list the send ports", NULL },
	{ "delete", cmd_port_delete, NULL, "NAME", "delete a send port",
	    "Messages suspended through it keep their own copy of its settings.\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
