/*
 * ssovault app | mapping | creds: affiliate applications, the mapping of
 * local users to external accounts, and their credentials.  Parses, calls
 * the client API, prints.  Credential values only ever sit in sodium memory
 * here: read from a file or a prompt into it, written out from it.
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

#define APP_IMPORT_MAX (4u * 1024u * 1024u)
#define FIELDS_MAX 64

/* --- printing helpers ------------------------------------------------- */

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static const char *
yesno(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k)) ? "yes" : "no";
}

static void
print_time(const char *label, json_t *o, const char *k)
{
	time_t t = (time_t)json_integer_value(json_object_get(o, k));
	char when[32] = "-";
	struct tm tm;

	if (t > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%-22s %s\n", label, when);
}

static void
print_list(const char *label, json_t *arr)
{
	json_t *v;
	size_t i;

	printf("%-22s ", label);
	if (json_array_size(arr) == 0)
		printf("(none)");
	json_array_foreach(arr, i, v)
		printf("%s%s", i > 0 ? ", " : "", json_string_value(v));
	printf("\n");
}

/* "username, password*" (a star marks masked fields) into out. */
static void
fields_line(json_t *app, char *out, size_t len)
{
	json_t *f;
	size_t i, n = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(app, "fields"), i, f) {
		if (n < len)
			n += (size_t)snprintf(out + n, len - n, "%s%s%s", i > 0 ? ", " : "",
			    jstr(f, "label"), json_is_true(json_object_get(f, "masked")) ? "*" : "");
	}
}

static void
app_list_human(struct cli *c, json_t *j)
{
	char fields[256];
	json_t *a;
	size_t i;
	int w = 4;

	if (json_array_size(j) == 0) {
		printf("No applications you may see.\n");
		return;
	}
	json_array_foreach(j, i, a)
		if ((int)strlen(jstr(a, "name")) > w)
			w = (int)strlen(jstr(a, "name"));
	printf("%-*s  %-10s  %-8s  %-7s  %-24s  %s\n", w, "NAME", "TYPE", "STATE", "TICKETS",
	    "FIELDS (* masked)", "DESCRIPTION");
	json_array_foreach(j, i, a) {
		fields_line(a, fields, sizeof(fields));
		printf("%-*s  %-10s  %-8s  %-7s  %-24s  %s\n", w, jstr(a, "name"),
		    jstr(a, "type"),
		    json_is_true(json_object_get(a, "enabled")) ? "enabled" : "disabled",
		    json_is_true(json_object_get(a, "allow_tickets")) ? "allowed" : "no",
		    fields, jstr(a, "description"));
	}
}

static void
app_show_human(struct cli *c, json_t *a)
{
	json_int_t t = json_integer_value(json_object_get(a, "ticket_timeout"));
	json_t *f;
	size_t i;

	printf("%-22s %s\n", "name:", jstr(a, "name"));
	printf("%-22s %s\n", "description:", jstr(a, "description"));
	printf("%-22s %s\n", "contact:", jstr(a, "contact"));
	printf("%-22s %s\n", "type:", jstr(a, "type"));
	printf("%-22s %s\n", "enabled:", yesno(a, "enabled"));
	printf("%-22s %s\n", "allow tickets:", yesno(a, "allow_tickets"));
	printf("%-22s %s\n", "validate tickets:", yesno(a, "validate_tickets"));
	if (t > 0)
		printf("%-22s %lld minutes\n", "ticket timeout:", (long long)t);
	else
		printf("%-22s %s\n", "ticket timeout:", "the global setting");
	printf("%-22s %s\n", "ticket reuse:", yesno(a, "ticket_reuse"));
	printf("%-22s %s\n", "allow local accounts:", yesno(a, "allow_local_accounts"));
	print_list("admins:", json_object_get(a, "admins"));
	print_list("users:", json_object_get(a, "users"));
	printf("fields:\n");
	json_array_foreach(json_object_get(a, "fields"), i, f)
		printf("  %zu  %s%s%s\n", i, jstr(f, "label"),
		    json_is_true(json_object_get(f, "masked")) ? "  (masked)" : "",
		    i == 0 ? "  (external user id)" : "");
	print_time("created:", a, "created");
	print_time("updated:", a, "updated");
}

/* --- app create / update options ------------------------------------------ */

enum {
	O_TYPE = 0x100, O_DESC, O_CONTACT, O_ADMIN, O_USER, O_FIELD, O_ENABLE,
	O_ALLOW, O_NO_ALLOW, O_VALIDATE, O_NO_VALIDATE, O_TIMEOUT, O_REUSE, O_NO_REUSE,
	O_LOCAL, O_NO_LOCAL, O_ADD_ADMIN, O_REMOVE_ADMIN, O_ADD_USER, O_REMOVE_USER,
};

static const struct option app_opts[] = {
	{ "type", required_argument, NULL, O_TYPE },
	{ "description", required_argument, NULL, O_DESC },
	{ "contact", required_argument, NULL, O_CONTACT },
	{ "admin", required_argument, NULL, O_ADMIN },
	{ "user", required_argument, NULL, O_USER },
	{ "field", required_argument, NULL, O_FIELD },
	{ "enable", no_argument, NULL, O_ENABLE },
	{ "allow-tickets", no_argument, NULL, O_ALLOW },
	{ "no-allow-tickets", no_argument, NULL, O_NO_ALLOW },
	{ "validate-tickets", no_argument, NULL, O_VALIDATE },
	{ "no-validate-tickets", no_argument, NULL, O_NO_VALIDATE },
	{ "ticket-timeout", required_argument, NULL, O_TIMEOUT },
	{ "ticket-reuse", no_argument, NULL, O_REUSE },
	{ "no-ticket-reuse", no_argument, NULL, O_NO_REUSE },
	{ "allow-local-accounts", no_argument, NULL, O_LOCAL },
	{ "no-allow-local-accounts", no_argument, NULL, O_NO_LOCAL },
	{ "add-admin", required_argument, NULL, O_ADD_ADMIN },
	{ "remove-admin", required_argument, NULL, O_REMOVE_ADMIN },
	{ "add-user", required_argument, NULL, O_ADD_USER },
	{ "remove-user", required_argument, NULL, O_REMOVE_USER },
	{ NULL, 0, NULL, 0 },
};

/* Append s to the array member k of spec, making it if needed. */
static void
spec_push(json_t *spec, const char *k, json_t *v)
{
	json_t *arr = json_object_get(spec, k);

	if (arr == NULL) {
		arr = json_array();
		json_object_set_new(spec, k, arr);
	}
	json_array_append_new(arr, v);
}

/*
 * Parse the options of app create (update = 0) or app update into spec,
 * the JSON of docs/json.md.  Returns 0 or an exit code.
 */
static int
app_options(struct cli *c, int argc, char **argv, int update, json_t *spec)
{
	const char *colon;
	long long t;
	int o;

	while ((o = cli_getopt(c, argc, argv, "", app_opts)) != -1) {
		switch (o) {
		case O_TYPE:
		case O_FIELD:
			if (update)
				return cli_usage(c, "%s is fixed after the app is created",
				    o == O_TYPE ? "the type" : "the field list");
			if (o == O_TYPE) {
				if (strcmp(optarg, "individual") != 0 && strcmp(optarg, "group") != 0)
					return cli_usage(c, "--type is individual or group");
				json_object_set_new(spec, "type", json_string(optarg));
				break;
			}
			colon = strrchr(optarg, ':');
			if (colon != NULL && strcmp(colon, ":masked") == 0)
				spec_push(spec, "fields", json_pack("{s:s%,s:b}", "label", optarg,
				    (size_t)(colon - optarg), "masked", 1));
			else
				spec_push(spec, "fields", json_pack("{s:s,s:b}", "label", optarg,
				    "masked", 0));
			break;
		case O_DESC:
			json_object_set_new(spec, "description", json_string(optarg));
			break;
		case O_CONTACT:
			json_object_set_new(spec, "contact", json_string(optarg));
			break;
		case O_ADMIN:
			spec_push(spec, "admins", json_string(optarg));
			break;
		case O_USER:
			spec_push(spec, "users", json_string(optarg));
			break;
		case O_ADD_ADMIN:
		case O_REMOVE_ADMIN:
		case O_ADD_USER:
		case O_REMOVE_USER:
			if (!update)
				return cli_usage(c, "use --admin and --user when creating an app");
			spec_push(spec, o == O_ADD_ADMIN ? "add_admins" : o == O_REMOVE_ADMIN ?
			    "remove_admins" : o == O_ADD_USER ? "add_users" : "remove_users",
			    json_string(optarg));
			break;
		case O_ENABLE:
			if (update)
				return cli_usage(c, "use 'ssovault app enable NAME'");
			json_object_set_new(spec, "enabled", json_true());
			break;
		case O_ALLOW:
		case O_NO_ALLOW:
			json_object_set_new(spec, "allow_tickets", json_boolean(o == O_ALLOW));
			break;
		case O_VALIDATE:
		case O_NO_VALIDATE:
			json_object_set_new(spec, "validate_tickets", json_boolean(o == O_VALIDATE));
			break;
		case O_REUSE:
		case O_NO_REUSE:
			json_object_set_new(spec, "ticket_reuse", json_boolean(o == O_REUSE));
			break;
		case O_LOCAL:
		case O_NO_LOCAL:
			json_object_set_new(spec, "allow_local_accounts", json_boolean(o == O_LOCAL));
			break;
		case O_TIMEOUT:
			if ((t = cli_parse_uint(optarg, 525600)) < 0)
				return cli_usage(c,
				    "--ticket-timeout takes minutes: 0 (the global setting) or 1 to 525600");
			json_object_set_new(spec, "ticket_timeout", json_integer(t));
			break;
		default:
			return cli_usage(c, NULL);
		}
	}
	return 0;
}

/*
 * jansson refuses strings that are not UTF-8 (json_string() gives NULL), so
 * such an option would silently vanish from the definition: refuse it here.
 */
static int
args_utf8(struct cli *c, int argc, char **argv)
{
	char shown[4 * 32 + 4];
	size_t n, k;
	json_t *t;
	int i;

	for (i = 1; i < argc; i++) {
		if ((t = json_string(argv[i])) != NULL) {
			json_decref(t);
			continue;
		}
		/* show it with every byte that is not printable ASCII as \xNN */
		for (n = k = 0; argv[i][k] != '\0' && k < 32; k++) {
			unsigned char ch = (unsigned char)argv[i][k];

			if (ch < 0x20 || ch >= 0x7f)
				n += (size_t)snprintf(shown + n, sizeof(shown) - n, "\\x%02x", ch);
			else
				shown[n++] = (char)ch;
		}
		snprintf(shown + n, sizeof(shown) - n, "%s", argv[i][k] != '\0' ? "..." : "");
		return cli_fail(c, SV_ERR_INVALID, "'%s' is not valid UTF-8 text", shown);
	}
	return 0;
}

static int
cmd_app_create(struct cli *c, int argc, char **argv)
{
	json_t *spec = json_object();
	char *s = NULL;
	int r;

	if (spec == NULL)
		return cli_fail(c, SV_ERR_NOMEM, "out of memory");
	if ((r = app_options(c, argc, argv, 0, spec)) != 0 ||
	    (r = cli_operands(c, argc, argv, 1, 1)) != 0)
		goto out;
	cli_what(c, "app create %s", argv[optind]);
	if ((r = args_utf8(c, argc, argv)) != 0)
		goto out;
	json_object_set_new(spec, "name", json_string(argv[optind]));
	if ((s = json_dumps(spec, JSON_COMPACT)) == NULL) {
		r = cli_fail(c, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = cli_open(c, 1)) != 0)
		goto out;
	if ((r = ssovault_app_create(c->h, s)) != 0) {
		r = cli_fail_h(c, r);
		goto out;
	}
	if (!c->quiet)
		printf("Created application '%s'%s.\n", argv[optind],
		    json_is_true(json_object_get(spec, "enabled")) ? "" :
		    " (disabled: 'ssovault app enable' turns it on)");
out:
	free(s);
	json_decref(spec);
	return r;
}

static int
cmd_app_update(struct cli *c, int argc, char **argv)
{
	json_t *spec = json_object();
	char *s = NULL;
	int r;

	if (spec == NULL)
		return cli_fail(c, SV_ERR_NOMEM, "out of memory");
	if ((r = app_options(c, argc, argv, 1, spec)) != 0 ||
	    (r = cli_operands(c, argc, argv, 1, 1)) != 0)
		goto out;
	cli_what(c, "app update %s", argv[optind]);
	if ((r = args_utf8(c, argc, argv)) != 0)
		goto out;
	if (json_object_size(spec) == 0) {
		r = cli_usage(c, "nothing to change: give at least one option");
		goto out;
	}
	if ((s = json_dumps(spec, JSON_COMPACT)) == NULL) {
		r = cli_fail(c, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = cli_open(c, 1)) != 0)
		goto out;
	if ((r = ssovault_app_update(c->h, argv[optind], s)) != 0) {
		r = cli_fail_h(c, r);
		goto out;
	}
	if (!c->quiet)
		printf("Updated application '%s'.\n", argv[optind]);
out:
	free(s);
	json_decref(spec);
	return r;
}

static int
cmd_app_list(struct cli *c, int argc, char **argv)
{
	return cli_list(c, argc, argv, ssovault_app_list, app_list_human);
}

/* The shape of every "VERB NAME" command: one operand, the app. */
static int
app_name_operand(struct cli *c, int argc, char **argv, const char *verb, const char **ret)
{
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	*ret = argv[optind];
	cli_what(c, "app %s %s", verb, *ret);
	return cli_open(c, 1);
}

static int
cmd_app_show(struct cli *c, int argc, char **argv)
{
	const char *name;
	char *json = NULL;
	int r;

	if ((r = app_name_operand(c, argc, argv, "show", &name)) != 0)
		return r;
	if ((r = ssovault_app_show(c->h, name, &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, app_show_human);
	free(json);
	return r;
}

static int
app_enable(struct cli *c, int argc, char **argv, int enable)
{
	const char *name;
	int r;

	if ((r = app_name_operand(c, argc, argv, enable ? "enable" : "disable", &name)) != 0)
		return r;
	if ((r = ssovault_app_enable(c->h, name, enable)) != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("Application '%s' is %s.\n", name, enable ? "enabled" : "disabled");
	return 0;
}

static int
cmd_app_enable(struct cli *c, int argc, char **argv)
{
	return app_enable(c, argc, argv, 1);
}

static int
cmd_app_disable(struct cli *c, int argc, char **argv)
{
	return app_enable(c, argc, argv, 0);
}

static int
cmd_app_delete(struct cli *c, int argc, char **argv)
{
	const char *name;
	int r;

	if ((r = app_name_operand(c, argc, argv, "delete", &name)) != 0)
		return r;
	if ((r = ssovault_app_delete(c->h, name)) != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("Deleted application '%s' and its mappings.\n", name);
	return 0;
}

static void
import_human(struct cli *c, json_t *j)
{
	printf("Imported %lld application(s) and %lld mapping(s).\n",
	    (long long)json_integer_value(json_object_get(j, "applications")),
	    (long long)json_integer_value(json_object_get(j, "mappings")));
}

static int
cmd_app_import(struct cli *c, int argc, char **argv)
{
	uint8_t *xml = NULL;
	char *json = NULL;
	size_t len = 0;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	cli_what(c, "app import %s", argv[optind]);
	if ((r = cli_read_file(c, argv[optind], APP_IMPORT_MAX, &xml, &len)) != 0)
		return r;
	if ((r = cli_open(c, 1)) == 0) {
		cli_status(c, "importing %zu bytes of ENTSSO XML (all or nothing)...", len);
		r = ssovault_app_import(c->h, (const char *)xml, len, &json);
		cli_status(c, NULL);
		if (r != 0)
			r = cli_fail_h(c, r);
		else
			r = cli_print_json(c, json, import_human);
	}
	free(json);
	free(xml);
	return r;
}

const struct cli_cmd cli_cmd_app[] = {
	{ "create", cmd_app_create, NULL,
	    "NAME [--type individual|group] [--description D] [--contact C] [--admin P]... "
	    "[--user P]... [--field LABEL[:masked]]... [--enable] [--allow-tickets] "
	    "[--validate-tickets] [--ticket-timeout MIN] [--ticket-reuse] [--allow-local-accounts]",
	    "create an affiliate application (affiliate admin)",
	    "Options:\n"
	    "  --type T              individual (one user, one external account; default) or\n"
	    "                        group (one local group shares one external account)\n"
	    "  --description D, --contact C\n"
	    "  --admin P             an app admin (repeat); principals are user:NAME,\n"
	    "                        group:NAME, uid:N or gid:N\n"
	    "  --user P              an app user (repeat); a group app maps one of its groups\n"
	    "  --field LABEL[:masked]  a credential field, in order (repeat).  Field 0 is\n"
	    "                        the external user id and is never masked.  Without\n"
	    "                        --field: username and password:masked.  Fixed once created.\n"
	    "  --enable              create it enabled (apps start disabled)\n"
	    "  --allow-tickets, --validate-tickets, --ticket-timeout MIN (0 = global),\n"
	    "  --ticket-reuse        ticket flags: vault admins only\n"
	    "  --allow-local-accounts\n"
	    "\nNames are letters, digits, '.', '_' and '-'; they ignore case and keep it.\n"
	    "\nExample:\n"
	    "  ssovault app create payroll --admin group:payroll-admins --user group:staff \\\n"
	    "      --field username --field password:masked --enable\n" },
	{ "list", cmd_app_list, NULL, NULL, "list the applications you have a role in", NULL },
	{ "show", cmd_app_show, NULL, "NAME", "show an application's settings (no secrets)", NULL },
	{ "update", cmd_app_update, NULL,
	    "NAME [--description D] [--contact C] [--admin P]... [--user P]... "
	    "[--add-admin P] [--remove-admin P] [--add-user P] [--remove-user P] "
	    "[--[no-]allow-tickets] [--[no-]validate-tickets] [--ticket-timeout MIN] "
	    "[--[no-]ticket-reuse] [--[no-]allow-local-accounts]",
	    "change an application",
	    "--admin and --user replace the whole list; --add-* and --remove-* change one\n"
	    "entry.  An app admin may change only the user list; the rest needs an\n"
	    "affiliate admin, and ticket flags a vault admin.  Name, type and fields are\n"
	    "fixed.\n" },
	{ "enable", cmd_app_enable, NULL, "NAME", "let the application's credentials be used", NULL },
	{ "disable", cmd_app_disable, NULL, "NAME", "refuse every credential read of the application",
	    NULL },
	{ "delete", cmd_app_delete, NULL, "NAME", "delete an application and all its mappings", NULL },
	{ "import", cmd_app_import, NULL, "FILE.xml",
	    "import ENTSSO <sso><application>... and <sso><mapping>... files",
	    "All or nothing: a file with any error changes nothing.  DTDs and entities are\n"
	    "refused.  DOMAIN\\name accounts become group:name (app accounts) or user:name\n"
	    "(mapping users).  See docs/apps.md for the full table.\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* --- mappings ------------------------------------------------------------ */

/* "enabled", "disabled", or who disabled it: "disabled by admin uid 0". */
static void
mapping_state(json_t *m, char *out, size_t len)
{
	const char *by = jstr(m, "disabled_by");
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
		if ((int)strlen(jstr(m, "app")) > wa)
			wa = (int)strlen(jstr(m, "app"));
		if ((int)strlen(jstr(m, "principal")) > wp)
			wp = (int)strlen(jstr(m, "principal"));
		if ((int)strlen(jstr(m, "external_user")) > we)
			we = (int)strlen(jstr(m, "external_user"));
		mapping_state(m, state, sizeof(state));
		if ((int)strlen(state) > ws)
			ws = (int)strlen(state);
	}
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", wa, "APP", wp, "PRINCIPAL", we, "EXTERNAL USER",
	    ws, "STATE", "CREDENTIALS");
	json_array_foreach(j, i, m) {
		mapping_state(m, state, sizeof(state));
		printf("%-*s  %-*s  %-*s  %-*s  %s\n", wa, jstr(m, "app"), wp, jstr(m, "principal"),
		    we, jstr(m, "external_user"), ws, state,
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
	const char *app = NULL;
	char *json = NULL;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 0, 1)) != 0)
		return r;
	if (optind < argc) {
		app = argv[optind];
		cli_what(c, "mapping list %s", app);
	}
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_mapping_list(c->h, app, &json)) != 0)
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
	{ "list", cmd_mapping_list, NULL, "[APP]",
	    "list mappings: admins see all of an app's, users their own (no values)", NULL },
	{ "enable", cmd_mapping_enable, NULL, "APP PRINCIPAL",
	    "enable a mapping (app admin, or the mapped user)", NULL },
	{ "disable", cmd_mapping_disable, NULL, "APP PRINCIPAL",
	    "disable a mapping (app admin, or the mapped user)", NULL },
	{ "delete", cmd_mapping_delete, NULL, "APP PRINCIPAL",
	    "delete a disabled mapping (app admin)", "Disable the mapping first.\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

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

int
cli_creds_print(struct cli *c, const struct ssovault_creds *cr, const char *field)
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
		sout_str(&o, ",\"user\":");
		sout_json(&o, cr->principal);
		sout_str(&o, ",\"external_user\":");
		sout_json(&o, cr->external_user);
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
		return cli_fail(c, r, "cannot write the credentials: %s", sv_strerror(r));
	return 0;
}

/* --- creds get ------------------------------------------------------------ */

static int
cmd_creds_get(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "field", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *field = NULL, *app;
	struct ssovault_creds *cr = NULL;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if (o == 'u')
			user = optarg;
		else if (o == 'f')
			field = optarg;
	}
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	app = argv[optind];
	cli_what(c, "creds get %s", app);
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_creds_get(c->h, app, user, &cr)) != 0)
		return cli_fail_h(c, r);
	r = cli_creds_print(c, cr, field);
	ssovault_creds_free(cr);
	return r;
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
creds_from_prompts(struct cli *c, const char *app, struct creds_in *in)
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
	dprintf(fd, "Credentials for '%s' (an empty answer keeps the stored value):\n", app);
	json_array_foreach(json_object_get(j, "fields"), i, f) {
		const char *label = jstr(f, "label");

		if (json_is_true(json_object_get(f, "masked"))) {
			snprintf(prompt, sizeof(prompt), "%.64s (hidden): ", label);
			r = prompt_masked(fd, prompt, &val, &vl);
		} else {
			snprintf(prompt, sizeof(prompt), "%.64s%s: ", label,
			    i == 0 ? " (external user id)" : "");
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

static int
cmd_creds_set(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "from-file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *file = NULL, *app;
	struct creds_in in;
	int o, r;

	memset(&in, 0, sizeof(in));
	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if (o == 'u')
			user = optarg;
		else if (o == 'f')
			file = optarg;
	}
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	app = argv[optind];
	cli_what(c, "creds set %s", app);
	/* the file first: a bad file should not cost an unlock */
	if (file != NULL && (r = creds_from_file(c, file, &in)) != 0)
		goto out;
	if ((r = cli_open(c, 1)) != 0)
		goto out;
	if (file == NULL && (r = creds_from_prompts(c, app, &in)) != 0)
		goto out;
	if ((r = ssovault_creds_set(c->h, app, user, in.n, (const char *const *)in.labels,
	    (const char *const *)in.values)) != 0) {
		r = cli_fail_h(c, r);
		goto out;
	}
	if (!c->quiet)
		printf("Credentials of %s in '%s' set; the mapping is enabled.\n",
		    user != NULL ? user : "your mapping", app);
out:
	creds_in_clear(&in);
	return r;
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
