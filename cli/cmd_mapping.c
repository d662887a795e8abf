/*
 * ssovault mapping: the mapping of local users and groups to external
 * accounts of an application.  Parses, calls the client API, prints.
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
#include "cmd_entsso.h"


/* --- mappings ------------------------------------------------------------ */

/* "enabled", "disabled", or who disabled it: "disabled by admin uid 0". */
static void
mapping_state(json_t *m, char *out, size_t len)
{
	const char *by = cli_jstr(m, "disabled_by");
	json_t *uid = json_object_get(m, "disabled_by_uid");

	if (json_is_true(json_object_get(m, "enabled")))
		snprintf(out, len, "enabled");
	else if (*by == '\0')
		snprintf(out, len, "disabled");
	else if (strcmp(by, "unknown") == 0)
		snprintf(out, len, "disabled (admin only)");
	else if (json_is_integer(uid))
		snprintf(out, len, "disabled by %s uid %lld", by,
		    (long long)json_integer_value(uid));
	else
		snprintf(out, len, "disabled by %s", by);
}

static void
mapping_list_human(struct cli *c, json_t *j)
{
	int wa = 3, wp = 9, we = 13, ws = 8;
	char state[64];
	json_t *m;
	size_t i;

	if (json_array_size(j) == 0) {
		printf("No mappings you may see.\n");
		return;
	}
	json_array_foreach(j, i, m) {
		if ((int)strlen(cli_jstr(m, "app")) > wa)
			wa = (int)strlen(cli_jstr(m, "app"));
		if ((int)strlen(cli_jstr(m, "principal")) > wp)
			wp = (int)strlen(cli_jstr(m, "principal"));
		if ((int)strlen(cli_jstr(m, "external_user")) > we)
			we = (int)strlen(cli_jstr(m, "external_user"));
		mapping_state(m, state, sizeof(state));
		if ((int)strlen(state) > ws)
			ws = (int)strlen(state);
	}
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", wa, "APP", wp, "PRINCIPAL", we, "EXTERNAL USER",
	    ws, "STATE", "CREDENTIALS");
	json_array_foreach(j, i, m) {
		mapping_state(m, state, sizeof(state));
		printf("%-*s  %-*s  %-*s  %-*s  %s\n", wa, cli_jstr(m, "app"), wp, cli_jstr(m, "principal"),
		    we, cli_jstr(m, "external_user"), ws, state,
		    json_is_true(json_object_get(m, "credentials_set")) ? "set" : "not set");
	}
}

static int
cmd_mapping_create(struct cli *c, int argc, char **argv)
{
	const char *app, *p, *ext;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 3, 3)) != 0)
		return r;
	app = argv[optind];
	p = argv[optind + 1];
	ext = argv[optind + 2];
	cli_what(c, "mapping create %s %s", app, p);
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_mapping_create(c->h, app, p, ext)) != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("Mapped %s to '%s' in '%s' (disabled until its credentials are set).\n",
		    p, ext, app);
	return 0;
}

static int
cmd_mapping_list(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	const char *app = NULL, *user = NULL;
	char *json = NULL;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1)
		if (o == 'u')
			user = optarg;
	if ((r = cli_operands(c, argc, argv, 0, 1)) != 0)
		return r;
	if (optind < argc) {
		app = argv[optind];
		cli_what(c, "mapping list %s", app);
	}
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = user != NULL ? ssovault_mapping_list_user(c->h, app, user, &json) :
	    ssovault_mapping_list(c->h, app, &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, mapping_list_human);
	free(json);
	return r;
}

enum mapping_verb { M_ENABLE, M_DISABLE, M_DELETE };

static int
mapping_change(struct cli *c, int argc, char **argv, enum mapping_verb verb)
{
	static const char *const names[] = { "enable", "disable", "delete" };
	static const char *const done[] = { "enabled", "disabled", "deleted" };
	const char *app, *p;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 2, 2)) != 0)
		return r;
	app = argv[optind];
	p = argv[optind + 1];
	cli_what(c, "mapping %s %s %s", names[verb], app, p);
	if ((r = cli_open(c, 1)) != 0)
		return r;
	r = verb == M_DELETE ? ssovault_mapping_delete(c->h, app, p) :
	    ssovault_mapping_enable(c->h, app, p, verb == M_ENABLE);
	if (r != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("The mapping of %s in '%s' is %s.\n", p, app, done[verb]);
	return 0;
}

static int
cmd_mapping_enable(struct cli *c, int argc, char **argv)
{
	return mapping_change(c, argc, argv, M_ENABLE);
}

static int
cmd_mapping_disable(struct cli *c, int argc, char **argv)
{
	return mapping_change(c, argc, argv, M_DISABLE);
}

static int
cmd_mapping_delete(struct cli *c, int argc, char **argv)
{
	return mapping_change(c, argc, argv, M_DELETE);
}

const struct cli_cmd cli_cmd_mapping[] = {
	{ "create", cmd_mapping_create, NULL, "APP PRINCIPAL EXTERNAL_USER",
	    "map a local user (or a group app's group) to an external account (app admin)",
	    "The new mapping is disabled until its credentials are set with 'creds set'.\n"
	    "Individual apps map user:NAME or uid:N; a group app maps one of its user\n"
	    "groups (group:NAME or gid:N), once.\n"
	    "\nExample:\n  ssovault mapping create payroll user:alice alice@payroll\n" },
	{ "list", cmd_mapping_list, NULL, "[APP] [--user PRINCIPAL]",
	    "list mappings: admins see all of an app's, users their own (no values)",
	    "--user P lists only P's mappings (ssomanage -listmappings USER).\n" },
	{ "enable", cmd_mapping_enable, NULL, "APP PRINCIPAL",
	    "enable a mapping (app admin, or the mapped user)", NULL },
	{ "disable", cmd_mapping_disable, NULL, "APP PRINCIPAL",
	    "disable a mapping (app admin, or the mapped user)", NULL },
	{ "delete", cmd_mapping_delete, NULL, "APP PRINCIPAL",
	    "delete a disabled mapping (app admin)", "Disable the mapping first.\n" },
	{ "delete-many", cli_mapping_delete_many, NULL,
	    "FILE.xml [--accounts FORM] [--account-map FILE] [--strict] [--dry-run]",
	    "delete the mappings an ENTSSO XML file names (ssomanage -deletemappings)",
	    "Options:\n" CLI_ENTSSO_FILE_HELP
	    "\nThe file is an <sso><mapping>... file; each mapping must be disabled\n"
	    "first (an enabled one is kept, with a warning).  Affiliate admins.\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

