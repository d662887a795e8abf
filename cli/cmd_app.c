/*
 * ssovault app: affiliate applications: create, update, list, show,
 * enable, disable, delete, and the import of ENTSSO XML.  Parses, calls
 * the client API, prints.  Mappings are cmd_mapping.c, credentials
 * cmd_creds.c.
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
#include "cmd_entsso.h"

/* --- printing helpers ------------------------------------------------- */


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
			    cli_jstr(f, "label"), json_is_true(json_object_get(f, "masked")) ? "*" : "");
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
		if ((int)strlen(cli_jstr(a, "name")) > w)
			w = (int)strlen(cli_jstr(a, "name"));
	printf("%-*s  %-10s  %-8s  %-7s  %-24s  %s\n", w, "NAME", "TYPE", "STATE", "TICKETS",
	    "FIELDS (* masked)", "DESCRIPTION");
	json_array_foreach(j, i, a) {
		fields_line(a, fields, sizeof(fields));
		printf("%-*s  %-10s  %-8s  %-7s  %-24s  %s\n", w, cli_jstr(a, "name"),
		    cli_jstr(a, "type"),
		    json_is_true(json_object_get(a, "enabled")) ? "enabled" : "disabled",
		    json_is_true(json_object_get(a, "allow_tickets")) ? "allowed" : "no",
		    fields, cli_jstr(a, "description"));
	}
}

static void
app_show_human(struct cli *c, json_t *a)
{
	json_int_t t = json_integer_value(json_object_get(a, "ticket_timeout"));
	json_t *f;
	size_t i;

	printf("%-22s %s\n", "name:", cli_jstr(a, "name"));
	printf("%-22s %s\n", "description:", cli_jstr(a, "description"));
	printf("%-22s %s\n", "contact:", cli_jstr(a, "contact"));
	printf("%-22s %s\n", "type:", cli_jstr(a, "type"));
	printf("%-22s %s\n", "enabled:", yesno(a, "enabled"));
	printf("%-22s %s\n", "allow tickets:", yesno(a, "allow_tickets"));
	printf("%-22s %s\n", "validate tickets:", yesno(a, "validate_tickets"));
	if (t > 0)
		printf("%-22s %lld minutes\n", "ticket timeout:", (long long)t);
	else
		printf("%-22s %s\n", "ticket timeout:", "the global setting");
	printf("%-22s %s\n", "ticket reuse:", yesno(a, "ticket_reuse"));
	printf("%-22s %s\n", "tickets expire:",
	    json_is_false(json_object_get(a, "tickets_expire")) ? "no" : "yes");
	printf("%-22s %s\n", "allow local accounts:", yesno(a, "allow_local_accounts"));
	if (json_is_true(json_object_get(a, "admin_account_same")))
		printf("%-22s %s\n", "admins:", "the affiliate admins (adminAccountSame)");
	else
		print_list("admins:", json_object_get(a, "admins"));
	print_list("users:", json_object_get(a, "users"));
	printf("%s:\n", strcmp(cli_jstr(a, "type"), "config") == 0 ? "settings" : "fields");
	json_array_foreach(json_object_get(a, "fields"), i, f)
		printf("  %zu  %s%s%s\n", i, cli_jstr(f, "label"),
		    json_is_true(json_object_get(f, "masked")) ? "  (masked)" : "",
		    i == 0 && strcmp(cli_jstr(a, "type"), "config") != 0 ?
		    "  (external user id)" : "");
	print_time("created:", a, "created");
	print_time("updated:", a, "updated");
}

/* --- app create / update options ------------------------------------------ */

enum {
	O_TYPE = 0x100, O_DESC, O_CONTACT, O_ADMIN, O_USER, O_FIELD, O_ENABLE,
	O_ALLOW, O_NO_ALLOW, O_VALIDATE, O_NO_VALIDATE, O_TIMEOUT, O_REUSE, O_NO_REUSE,
	O_LOCAL, O_NO_LOCAL, O_ADD_ADMIN, O_REMOVE_ADMIN, O_ADD_USER, O_REMOVE_USER,
	O_EXPIRE, O_NO_EXPIRE, O_ADMIN_SAME,
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
	{ "tickets-expire", no_argument, NULL, O_EXPIRE },
	{ "no-tickets-expire", no_argument, NULL, O_NO_EXPIRE },
	{ "admin-account-same", no_argument, NULL, O_ADMIN_SAME },
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
				if (strcmp(optarg, "individual") != 0 && strcmp(optarg, "group") != 0 &&
				    strcmp(optarg, "config") != 0)
					return cli_usage(c, "--type is individual, group or config");
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
		case O_USER:
			if ((t = cli_principal_known(c, optarg)) != 0)
				return (int)t;
			spec_push(spec, o == O_ADMIN ? "admins" : "users", json_string(optarg));
			break;
		case O_ADD_ADMIN:
		case O_REMOVE_ADMIN:
		case O_ADD_USER:
		case O_REMOVE_USER:
			if (!update)
				return cli_usage(c, "use --admin and --user when creating an app");
			if ((o == O_ADD_ADMIN || o == O_ADD_USER) &&
			    (t = cli_principal_known(c, optarg)) != 0)
				return (int)t;
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
		case O_EXPIRE:
		case O_NO_EXPIRE:
			json_object_set_new(spec, "tickets_expire", json_boolean(o == O_EXPIRE));
			break;
		case O_ADMIN_SAME:
			if (update)
				return cli_usage(c, "--admin-account-same is fixed after the app is created");
			json_object_set_new(spec, "admin_account_same", json_true());
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

const struct cli_cmd cli_cmd_app[] = {
	{ "create", cmd_app_create, NULL,
	    "NAME [--type individual|group|config] [--description D] [--contact C] [--admin P]... "
	    "[--user P]... [--field LABEL[:masked]]... [--enable] [--allow-tickets] "
	    "[--no-validate-tickets] [--ticket-timeout MIN] [--ticket-reuse] [--no-tickets-expire] "
	    "[--allow-local-accounts] [--admin-account-same]",
	    "create an affiliate application (affiliate admin)",
	    "Options:\n"
	    "  --type T              individual (one user, one external account; default),\n"
	    "                        group (one local group shares one external account) or\n"
	    "                        config (ENTSSO's config store app: settings a service\n"
	    "                        reads with 'config get'; every field is a setting)\n"
	    "  --description D, --contact C\n"
	    "  --admin P             an app admin (repeat); principals are user:NAME,\n"
	    "                        group:NAME, uid:N or gid:N; NAME as the name service\n"
	    "                        gives it ('group:domain users@contoso.com')\n"
	    "  --admin-account-same  the affiliate admins are its admins (ENTSSO's\n"
	    "                        adminAccountSame); no --admin then\n"
	    "  --user P              an app user (repeat); a group app maps one of its groups\n"
	    "  --field LABEL[:masked]  a credential field, in order (repeat).  Field 0 is\n"
	    "                        the external user id and is never masked.  Without\n"
	    "                        --field: username and password:masked.  Fixed once created.\n"
	    "  --enable              create it enabled (apps start disabled)\n"
	    "  --allow-tickets, --no-validate-tickets, --ticket-timeout MIN (0 = global),\n"
	    "  --ticket-reuse, --no-tickets-expire\n"
	    "                        ticket flags other than ENTSSO's defaults (no tickets;\n"
	    "                        validated, expiring ones if allowed): vault admins only\n"
	    "  --allow-local-accounts\n"
	    "\nNames are 1 to 128 bytes of UTF-8: letters of any script, digits, spaces and\n"
	    "punctuation, no control characters, no space at either end; they ignore case\n"
	    "and keep it ('Application name1' and 'APPLICATION NAME1' are one app).\n"
	    "\nExample:\n"
	    "  ssovault app create payroll --admin group:payroll-admins --user group:staff \\\n"
	    "      --field username --field password:masked --enable\n" },
	{ "list", cmd_app_list, NULL, NULL, "list the applications you have a role in", NULL },
	{ "show", cmd_app_show, NULL, "NAME", "show an application's settings (no secrets)", NULL },
	{ "update", cmd_app_update, NULL,
	    "NAME [--description D] [--contact C] [--admin P]... [--user P]... "
	    "[--add-admin P] [--remove-admin P] [--add-user P] [--remove-user P] "
	    "[--[no-]allow-tickets] [--[no-]validate-tickets] [--ticket-timeout MIN] "
	    "[--[no-]ticket-reuse] [--[no-]tickets-expire] [--[no-]allow-local-accounts]",
	    "change an application",
	    "--admin and --user replace the whole list; --add-* and --remove-* change one\n"
	    "entry.  An app admin may change only the user list; the rest needs an\n"
	    "affiliate admin, and ticket flags a vault admin.  Name, type and fields are\n"
	    "fixed.\n" },
	{ "enable", cmd_app_enable, NULL, "NAME", "let the application's credentials be used", NULL },
	{ "disable", cmd_app_disable, NULL, "NAME", "refuse every credential read of the application",
	    NULL },
	{ "delete", cmd_app_delete, NULL, "NAME", "delete an application and all its mappings", NULL },
	{ "import", cli_app_import, NULL,
	    "FILE.xml [--update] [--accounts FORM] [--account-map FILE] [--strict] [--dry-run]",
	    "import ENTSSO XML: ssomanage -createapps and -createmappings files (affiliate admin)",
	    "Options:\n"
	    "  --update              an ssomanage -updateapps file: the apps exist and change\n"
	    "                        (fields too, while no mapping holds credentials)\n"
	    CLI_ENTSSO_FILE_HELP
	    "\nAll or nothing: a file with an error changes nothing.  What ssovault cannot\n"
	    "do (host-initiated SSO, password synchronization, unknown flags) is skipped\n"
	    "with a warning naming the application and line; the rest imports.  An\n"
	    "account becomes user:NAME if the name service knows a user of that name,\n"
	    "else group:NAME; one it does not know is imported with a warning.  DTDs and\n"
	    "entities are refused.  docs/apps.md has the table of every ENTSSO element.\n"
	    "\nExample:\n"
	    "  ssovault app import --accounts name@domain --account-map accounts.txt \\\n"
	    "      --dry-run AffiliateApplications.xml\n" },
	{ "export", cli_app_export, NULL, "[APP]... [--windows-domain DOMAIN] [--out FILE]",
	    "write apps and their mappings as ENTSSO XML, never a secret (app admin)",
	    "Without APP: every app you administer.  Accounts are written as principals\n"
	    "(group:staff), which 'app import' reads back exactly.  --windows-domain\n"
	    "CONTOSO writes them as Windows accounts for ENTSSO's ssomanage -createapps /\n"
	    "-createmappings: CONTOSO\\staff ('jdoe@contoso.com' as CONTOSO\\jdoe, a name\n"
	    "with its own DOMAIN\\ keeps it, uid:N as the user's name).\n"
	    "--out FILE creates FILE (mode 0600) instead of writing to standard output.\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

