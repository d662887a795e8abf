/*
 * ssovault slot list | add [--name NAME] [--key-file F | --passphrase-file F]
 * | remove NAME: the unlock slots, one per host of a shared vault
 * (docs/hosts.md) or per passphrase; also the way to change a passphrase.
 * ssovault store copy --to LOCATION: a vault moved between a directory and a
 * database.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

static void
slots_human(struct cli *c, json_t *j)
{
	json_t *v;
	size_t i;

	(void)c;
	json_array_foreach(j, i, v)
		printf("%-24s %-10s%s\n", json_string_value(json_object_get(v, "name")),
		    json_string_value(json_object_get(v, "type")),
		    json_is_true(json_object_get(v, "this")) ? "  (unlocked this handle)" : "");
}

static int
cmd_slot_list(struct cli *c, int argc, char **argv)
{
	return cli_list(c, argc, argv, ssovault_slot_list, slots_human);
}

static int
cmd_slot_add(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *kfile = NULL, *pfile = NULL;
	char host[65], *pass = NULL;
	uint8_t key[32];
	size_t plen = 0;
	int o, r, made = 0;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		switch (o) {
		case 'n': name = optarg; break;
		case 'k': kfile = optarg; break;
		case 'p': pfile = optarg; break;
		}
	}
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0)
		return r;
	if (kfile != NULL && pfile != NULL)
		return cli_usage(c, "give --key-file or --passphrase-file, not both");
	if (name == NULL) {
		/* a host joining with its key file is named after the host */
		if (gethostname(host, sizeof(host) - 1) != 0)
			snprintf(host, sizeof(host), "host");
		host[sizeof(host) - 1] = '\0';
		name = host;
	}
	cli_what(c, "slot add %s", name);
	if (kfile != NULL)
		r = cli_key_file_make(c, kfile, key, &made);
	else if (pfile != NULL)
		r = cli_secret_file(c, pfile, "passphrase file", &pass, &plen);
	else
		r = cli_secret_prompt(c, "Passphrase for the new slot: ", 1, &pass, &plen);
	if (r != 0)
		goto out;
	if (pass != NULL && plen < 8) {
		r = cli_fail(c, SV_ERR_INVALID, "the passphrase must be at least 8 characters");
		goto out;
	}
	if ((r = cli_open(c, 1)) != 0)
		goto out;
	if ((r = pass != NULL ? ssovault_slot_add(c->h, name, 0, pass, plen) :
	    ssovault_slot_add(c->h, name, 1, key, sizeof(key))) != 0) {
		r = cli_fail_h(c, r);
		goto out;
	}
	if (!c->quiet)
		printf("Added the %s slot '%s'%s.\n", pass != NULL ? "passphrase" : "key-file",
		    name, made ? "; its key file was made" : "");
out:
	if (r != 0 && made)
		unlink(kfile);
	if (pass != NULL)
		sodium_free(pass);
	sodium_memzero(key, sizeof(key));
	return r;
}

static int
cmd_slot_remove(struct cli *c, int argc, char **argv)
{
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	cli_what(c, "slot remove %s", argv[optind]);
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_slot_remove(c->h, argv[optind])) != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("Removed the slot '%s'. A host that held it keeps its keys until the "
		    "next 'ssovault secret rotate'.\n", argv[optind]);
	return 0;
}

static int
cmd_store_copy(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *to = NULL;
	char *json = NULL;
	json_t *j;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1)
		if (o == 't')
			to = optarg;
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0)
		return r;
	if (to == NULL)
		return cli_usage(c, "store copy needs --to LOCATION (a directory or a "
		    "postgresql:// URI)");
	cli_what(c, "store copy");
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_store_copy(c->h, to, &json)) != 0)
		return cli_fail_h(c, r);
	if (c->json)
		printf("%s\n", json);
	else if (!c->quiet && (j = json_loads(json, 0, NULL)) != NULL) {
		printf("Copied %lld records to %s, as they are: the audit chain verifies "
		    "there too ('ssovault --vault LOCATION audit verify').\n",
		    (long long)json_integer_value(json_object_get(j, "records")), to);
		json_decref(j);
	}
	free(json);
	return 0;
}

const struct cli_cmd cli_cmd_store[] = {
	{ "copy", cmd_store_copy, NULL, "--to LOCATION",
	    "copy the vault to a new directory or PostgreSQL database",
	    "Records and the audit chain are copied as they are (still sealed); the\n"
	    "location must hold no vault.  Runs in embedded mode (unset SSOVAULT_SOCKET).\n"
	    "\nExamples:\n  ssovault store copy --to postgresql://db1/vault?sslmode=verify-full\n"
	    "  ssovault --vault postgresql://db1/vault store copy --to /var/lib/ssovault2\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cli_cmd cli_cmd_slot[] = {
	{ "list", cmd_slot_list, NULL, NULL, "list the unlock slots", NULL },
	{ "add", cmd_slot_add, NULL, "[--name NAME] [--key-file F | --passphrase-file F]",
	    "add an unlock slot: a host joining a shared vault, or a new passphrase",
	    "A host joins a shared vault with a key file made on that host (it is made\n"
	    "if it does not exist); NAME defaults to the host name.  Changing a\n"
	    "passphrase: add a slot for the new one, then remove the old one.\n"
	    "\nExample:\n  ssovault --vault postgresql://db1/vault slot add --name web2 "
	    "--key-file /etc/ssovault/key\n" },
	{ "remove", cmd_slot_remove, NULL, "NAME", "remove an unlock slot",
	    "The last slot cannot be removed.  To lock a host out, remove its slot and\n"
	    "then run 'ssovault secret rotate'.\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
