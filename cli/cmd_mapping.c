/*
 * ssovault mapping: the mapping of local users and groups to external
 * accounts of an application.  Parses, calls the client API, prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
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

/* The uid and the gids of a user principal on this host; 0 if it has them. */
static int
account_ids(const char *p, uid_t *ret_uid, gid_t *gids, int *ngids)
{
	struct passwd *pw = NULL;
	long long id;

	if (strncmp(p, "user:", 5) == 0)
		pw = getpwnam(p + 5);
	else if (strncmp(p, "uid:", 4) == 0 && (id = cli_parse_uint(p + 4, 4294967294LL)) >= 0)
		pw = getpwuid((uid_t)id);
	if (pw == NULL) {
		if (strncmp(p, "uid:", 4) != 0)
			return -1;
		*ret_uid = (uid_t)cli_parse_uint(p + 4, 4294967294LL);
		*ngids = 0;
		return 0;
	}
	*ret_uid = pw->pw_uid;
	if (getgrouplist(pw->pw_name, pw->pw_gid, gids, ngids) < 0)
		*ngids = 0;
	return 0;
}

/* 1 if the user or group principal p is, or is in, the app user principal u. */
static int
principal_covers(const char *u, const char *p, uid_t uid, const gid_t *gids, int ngids,
    int have_ids)
{
	struct passwd *pw;
	struct group *gr;
	gid_t g;
	int i;

	if (strcmp(u, p) == 0)
		return 1;
	if (!have_ids)
		return 0;
	if (strncmp(u, "uid:", 4) == 0)
		return cli_parse_uint(u + 4, 4294967294LL) == (long long)uid;
	if (strncmp(u, "user:", 5) == 0)
		return (pw = getpwnam(u + 5)) != NULL && pw->pw_uid == uid;
	if (strncmp(u, "gid:", 4) == 0)
		g = (gid_t)cli_parse_uint(u + 4, 4294967294LL);
	else if ((gr = getgrnam(u + 6)) != NULL)
		g = gr->gr_gid;
	else
		return 0;
	for (i = 0; i < ngids; i++)
		if (gids[i] == g)
			return 1;
	return 0;
}

/*
 * A mapping for someone outside the app's user list is one nobody can use
 * (DESIGN 4: app users read their own): a warning, an error under --strict.
 * Says nothing when the app cannot be read.
 */
static int
check_app_user(struct cli *c, const char *app, const char *p)
{
	gid_t gids[256];
	int ngids = 256, have_ids, covered = 0;
	char *json = NULL;
	json_t *j, *v;
	uid_t uid = 0;
	size_t i;

	if (strncmp(p, "group:", 6) == 0 || strncmp(p, "gid:", 4) == 0 ||
	    ssovault_app_show(c->h, app, &json) != 0)
		return 0;	/* a group app's mapping is checked by the service */
	if ((j = json_loads(json, 0, NULL)) == NULL) {
		free(json);
		return 0;
	}
	have_ids = account_ids(p, &uid, gids, &ngids) == 0;
	json_array_foreach(json_object_get(j, "users"), i, v)
		if (json_is_string(v) &&
		    principal_covers(json_string_value(v), p, uid, gids, ngids, have_ids))
			covered = 1;
	json_decref(j);
	free(json);
	if (covered)
		return 0;
	if (c->strict)
		return cli_fail(c, SV_ERR_INVALID, "%s is not among the users of '%s' "
		    "(--strict: nothing was changed): 'ssovault app update %s --add-user %s' first",
		    p, app, app, p);
	cli_warn(c, "%s is not among the users of '%s', so it cannot fetch these credentials itself: "
	    "'ssovault app update %s --add-user %s' lets it", p, app, app, p);
	return 0;
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
	if ((r = cli_principal_known(c, p)) != 0 || (r = cli_open(c, 1)) != 0 ||
	    (r = check_app_user(c, app, p)) != 0)
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

