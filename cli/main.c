/*
 * ssovault: one command for admins enrolling apps, services fetching
 * credentials, and sends with SSO.  This file parses the global options and
 * walks the command tables; each cmd_*.c file owns its subcommands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

static const struct cli_cmd top[] = {
	{ "init", NULL, NULL, NULL, NULL, NULL },	/* filled from cli_cmd_vault */
	{ "secret", NULL, cli_cmd_secret, NULL, "back up, restore or rotate the master secret", NULL },
	{ "role", NULL, cli_cmd_role, NULL, "list, add or remove vault and affiliate admins", NULL },
	{ "slot", NULL, cli_cmd_slot, NULL, "unlock slots: one per host or passphrase", NULL },
	{ "store", NULL, cli_cmd_store, NULL, "move a vault between a directory and a database", NULL },
	{ "app", NULL, cli_cmd_app, NULL, "manage affiliate applications", NULL },
	{ "mapping", NULL, cli_cmd_mapping, NULL, "map local users to external accounts", NULL },
	{ "creds", NULL, cli_cmd_creds, NULL, "set or fetch credentials", NULL },
	{ "config", NULL, cli_cmd_config, NULL, "set or read a config store app's settings", NULL },
	{ "ticket", NULL, cli_cmd_ticket, NULL, "issue and redeem single sign-on tickets", NULL },
	{ "cert", NULL, cli_cmd_cert, NULL, "client certificates, keyed by thumbprint", NULL },
	{ "port", NULL, cli_cmd_port, NULL, "named send settings", NULL },
	{ "send", NULL, cli_cmd_send, NULL, "send SOAP messages with SSO credentials and client certificates", NULL },
	{ "suspended", NULL, cli_cmd_suspended, NULL, "messages kept after failed sends", NULL },
	{ "audit", NULL, cli_cmd_audit, NULL, "read, verify and prune the audit trail", NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

static const char global_help[] =
    "Global options:\n"
    "  --vault DIR      open the vault in DIR here, never through a daemon\n"
    "                   (env SSOVAULT_DIR; default $XDG_DATA_HOME/ssovault),\n"
    "                   or a postgresql:// URI of a vault shared by many hosts\n"
    "  --socket PATH    talk to ssovaultd at PATH (env SSOVAULT_SOCKET); only one\n"
    "                   served by root, you, or the uid in SSOVAULT_DAEMON_UID\n"
    "                   Without either: SSOVAULT_SOCKET, then the first of\n"
    "                   $XDG_RUNTIME_DIR/ssovault.sock and /run/ssovault/ssovault.sock\n"
    "                   that exists, else the vault directory.\n"
    "  --json           print data as JSON\n"
    "  --quiet          print nothing but errors and requested data\n"
    "  --strict         a user: or group: name this host does not know is an\n"
    "                   error, not a warning\n"
    "  --help           help for any command: ssovault app create --help\n"
    "  --version        print the version\n"
    "\n"
    "Embedded mode unlocks the vault per command from SSOVAULT_KEY_FILE or\n"
    "SSOVAULT_PASSPHRASE_FILE, else asks on the terminal.\n"
    "\n"
    "Exit codes: 0 ok, 1 failed, 2 usage, 3 SOAP fault, 4 message suspended,\n"
    "5 access denied, 6 vault locked / wrong passphrase / service unreachable,\n"
    "7 audit write failed.\n";

static void
list_level(FILE *f, const char *path, const struct cli_cmd *t, int expand_vault)
{
	const struct cli_cmd *e;

	for (e = t; e->name != NULL; e++) {
		if (expand_vault && e->sub == NULL && e->fn == NULL) {
			list_level(f, path, cli_cmd_vault, 0);
			continue;
		}
		fprintf(f, "  %s%s%-*s %s\n", path, *path ? " " : "",
		    (int)(22 - strlen(path) - (*path ? 1 : 0)), e->name,
		    e->summary != NULL ? e->summary : "");
	}
}

static int
help_level(FILE *f, const char *path, const struct cli_cmd *t, int top_level)
{
	fprintf(f, "usage: ssovault [global options] %s%sCOMMAND [ARGS...]\n\n", path, *path ? " " : "");
	fprintf(f, "Commands:\n");
	list_level(f, path, t, top_level);
	if (top_level)
		fprintf(f, "\n%s", global_help);
	else
		fprintf(f, "\nRun 'ssovault %s COMMAND --help' for a command's options.\n", path);
	return 0;
}

static const struct cli_cmd *
find(const struct cli_cmd *t, const char *name, int top_level)
{
	const struct cli_cmd *e, *v;

	for (e = t; e->name != NULL; e++) {
		if (top_level && e->sub == NULL && e->fn == NULL) {
			if ((v = find(cli_cmd_vault, name, 0)) != NULL)
				return v;
			continue;
		}
		if (strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

/* The command of t nearest to name (at most 2 edits away), or NULL. */
static const char *
closest(const struct cli_cmd *t, const char *name, int top_level)
{
	const struct cli_cmd *e;
	const char *best = NULL, *v;
	size_t d, bestd = 3;

	for (e = t; e->name != NULL; e++) {
		if (top_level && e->sub == NULL && e->fn == NULL) {
			if ((v = closest(cli_cmd_vault, name, 0)) != NULL &&
			    (d = cli_distance(name, v)) < bestd) {
				bestd = d;
				best = v;
			}
			continue;
		}
		if (*e->name != '\0' && (d = cli_distance(name, e->name)) < bestd) {
			bestd = d;
			best = e->name;
		}
	}
	return best;
}

static void
harden(void)
{
	struct rlimit rl = { 0, 0 };

	/* secrets pass through this process: no core dumps, no ptrace by peers */
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vault", required_argument, NULL, 'V' },
		{ "socket", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *t = top, *e = NULL;
	struct cli c;
	char path[256] = "";
	int o, i, r, top_level = 1;

	harden();
	if (sodium_init() < 0) {
		fprintf(stderr, "ssovault: cannot initialise libsodium\n");
		return 1;
	}
	/* the build's generator of ssovault(1); in no table, so in no --help */
	if (argc >= 2 && strcmp(argv[1], "__man") == 0)
		return cli_man(top, argc - 1, argv + 1);
	memset(&c, 0, sizeof(c));
	c.tty = isatty(STDERR_FILENO);
	/* global options come before the command */
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:hqj", opts, NULL)) != -1) {
		switch (o) {
		case 'V': c.vault_dir = optarg; break;
		case 'S': c.socket_path = optarg; break;
		case 'j': c.json = 1; break;
		case 'q': c.quiet = 1; break;
		case 's': c.strict = 1; break;
		case 'h': return help_level(stdout, "", top, 1);
		case 'v': printf("ssovault %s\n", SSOVAULT_VERSION); return 0;
		default:
			if (o == '?' && optopt != 0)
				fprintf(stderr, "ssovault: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "ssovault: %s '%.*s'\n",
				    o == ':' ? "option needs a value:" : "unknown option",
				    (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			fprintf(stderr, "Try 'ssovault --help'.\n");
			return CLI_EXIT_USAGE;
		}
	}
	/* --strict anywhere before "--": checks made while options are read see it */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--strict") == 0)
			c.strict = 1;
	if (c.vault_dir != NULL && c.socket_path != NULL) {
		fprintf(stderr, "ssovault: --vault and --socket name two vaults: give one "
		    "(--vault DIR opens it here, --socket PATH asks the daemon there)\n");
		return CLI_EXIT_USAGE;
	}
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			help_level(stdout, path, t, top_level);
			return 0;
		}
		if ((e = find(t, argv[i], top_level)) == NULL) {
			const char *near = closest(t, argv[i], top_level);

			/* one line, a guess, and where the list is: not the whole help */
			fprintf(stderr, "ssovault: %s%s'%s' is not a command\n",
			    path, *path ? ": " : "", argv[i]);
			if (near != NULL)
				fprintf(stderr, "Did you mean 'ssovault %s%s%s'?\n", path,
				    *path ? " " : "", near);
			fprintf(stderr, "Try 'ssovault %s%s--help' for the commands.\n", path,
			    *path ? " " : "");
			return CLI_EXIT_USAGE;
		}
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%s",
		    *path ? " " : "", e->name);
		if (e->fn != NULL)
			break;
		t = e->sub;
		top_level = 0;
		/* a command with options and no subcommands: one entry, no name */
		if (t[0].name != NULL && t[0].name[0] == '\0' && t[0].fn != NULL) {
			e = &t[0];
			break;
		}
	}
	if (e == NULL || e->fn == NULL) {
		help_level(stderr, path, t, top_level);
		return CLI_EXIT_USAGE;
	}
	c.cmd = e;
	snprintf(c.what, sizeof(c.what), "%s", path);
	/* the leaf sees argv from its own name; its operands refine c.what */
	optind = 0;
	r = e->fn(&c, argc - i, argv + i);
	fflush(stdout);
	if (r == 0)
		cli_warnings_flush(&c);
	ssovault_free(c.h);
	return r;
}
