/*
 * ENTSSO XML files: `app import` (ssomanage -createapps, -createmappings,
 * and -updateapps with --update), `mapping delete-many` (-deletemappings)
 * and `app export`.  Parses the options and the account map, calls the
 * client API, prints what was done and each warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_entsso.h"

#define XML_FILE_MAX (4u * 1024u * 1024u)
#define ACCOUNT_MAP_MAX (1u * 1024u * 1024u)

enum { O_UPDATE = 0x100, O_STRICT, O_DRY_RUN, O_ACCOUNTS, O_ACCOUNT_MAP, O_OUT, O_DOMAIN };

static const struct option file_opts[] = {
	{ "update", no_argument, NULL, O_UPDATE },
	{ "strict", no_argument, NULL, O_STRICT },
	{ "dry-run", no_argument, NULL, O_DRY_RUN },
	{ "accounts", required_argument, NULL, O_ACCOUNTS },
	{ "account-map", required_argument, NULL, O_ACCOUNT_MAP },
	{ NULL, 0, NULL, 0 },
};

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* An account map file: "ACCOUNT = PRINCIPAL" lines into a JSON object (docs/apps.md). */
static int
account_map(struct cli *c, const char *path, char **ret_json)
{
	uint8_t *buf = NULL;
	char *line, *next, *eq, *k, *v;
	json_t *map = json_object();
	size_t len, n = 0;
	int r = 0;

	if (map == NULL)
		return cli_fail(c, SV_ERR_NOMEM, "out of memory");
	if ((r = cli_read_file(c, path, ACCOUNT_MAP_MAX, &buf, &len)) != 0)
		goto out;
	if (memchr(buf, '\0', len) != NULL) {
		r = cli_fail(c, SV_ERR_INVALID, "%s: not a text file", path);
		goto out;
	}
	buf[len] = '\0';
	for (line = (char *)buf; line != NULL && r == 0; line = next) {
		n++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		/* a comment: the line from '#', at its start or after a blank */
		for (eq = line; (eq = strchr(eq, '#')) != NULL; eq++)
			if (eq == line || eq[-1] == ' ' || eq[-1] == '\t') {
				*eq = '\0';
				break;
			}
		line = trim(line);
		if (*line == '\0')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			r = cli_fail(c, SV_ERR_INVALID,
			    "%s line %zu: expected ACCOUNT = PRINCIPAL (e.g. CONTOSO\\jdoe = user:jdoe)",
			    path, n);
			break;
		}
		*eq = '\0';
		k = trim(line);
		v = trim(eq + 1);
		if (*k == '\0' || *v == '\0' || json_object_get(map, k) != NULL ||
		    json_object_set_new(map, k, json_string(v)) != 0)
			r = cli_fail(c, SV_ERR_INVALID, "%s line %zu: %s", path, n,
			    *k == '\0' || *v == '\0' ? "an account and a principal are both needed" :
			    json_object_get(map, k) != NULL ? "this account is mapped twice" :
			    "not valid UTF-8 text");
	}
	if (r == 0 && (*ret_json = json_dumps(map, JSON_COMPACT)) == NULL)
		r = cli_fail(c, SV_ERR_NOMEM, "out of memory");
out:
	free(buf);
	json_decref(map);
	return r;
}

static void
import_human(struct cli *c, json_t *j)
{
	long long a = json_integer_value(json_object_get(j, "applications"));
	long long u = json_integer_value(json_object_get(j, "updated"));
	long long m = json_integer_value(json_object_get(j, "mappings"));
	long long d = json_integer_value(json_object_get(j, "deleted"));
	long long s = json_integer_value(json_object_get(j, "skipped"));
	const char *verb = json_is_true(json_object_get(j, "dry_run")) ? "Would have" : "";

	if (strcmp(c->cmd->name, "delete-many") == 0)
		printf("%s%seleted %lld mapping(s)", verb, *verb ? " d" : "D", d);
	else
		printf("%s%smported %lld application(s) and %lld mapping(s)", verb,
		    *verb ? " i" : "I", a, m);
	if (u > 0)
		printf(", updated %lld application(s)", u);
	if (s > 0)
		printf(", skipped %lld", s);
	printf("%s.\n", *verb ? " (dry run: nothing was changed)" : "");
}

/* The shared body of app import and mapping delete-many. */
static int
xml_file_cmd(struct cli *c, int argc, char **argv, int delete)
{
	struct ssovault_import_opts o;
	const char *mapfile = NULL;
	char *map = NULL, *json = NULL;
	uint8_t *xml = NULL;
	json_t *j = NULL, *w;
	size_t len = 0, i;
	int opt, r;

	memset(&o, 0, sizeof(o));
	while ((opt = cli_getopt(c, argc, argv, "", file_opts)) != -1) {
		switch (opt) {
		case O_UPDATE:
			if (delete)
				return cli_usage(c, "--update is for 'app import'");
			o.update = 1;
			break;
		case O_STRICT:
			o.strict = 1;
			break;
		case O_DRY_RUN:
			o.dry_run = 1;
			break;
		case O_ACCOUNTS:
			if (strcmp(optarg, "name") == 0)
				o.accounts = SSOVAULT_ACCOUNTS_NAME;
			else if (strcmp(optarg, "name@domain") == 0)
				o.accounts = SSOVAULT_ACCOUNTS_NAME_AT_DOMAIN;
			else if (strcmp(optarg, "domain\\name") == 0)
				o.accounts = SSOVAULT_ACCOUNTS_DOMAIN_NAME;
			else
				return cli_usage(c, "--accounts is name, name@domain or domain\\name");
			break;
		case O_ACCOUNT_MAP:
			mapfile = optarg;
			break;
		default:
			return cli_usage(c, NULL);
		}
	}
	if ((r = cli_operands(c, argc, argv, 1, 1)) != 0)
		return r;
	cli_what(c, "%s %s", delete ? "mapping delete-many" : "app import", argv[optind]);
	if ((r = cli_read_file(c, argv[optind], XML_FILE_MAX, &xml, &len)) != 0 ||
	    (mapfile != NULL && (r = account_map(c, mapfile, &map)) != 0) ||
	    (r = cli_open(c, 1)) != 0)
		goto out;
	o.account_map_json = map;
	cli_status(c, "%s %zu bytes of ENTSSO XML (all or nothing)...",
	    delete ? "reading" : "importing", len);
	r = delete ? ssovault_mapping_delete_many(c->h, (const char *)xml, len, &o, &json) :
	    ssovault_app_import_opts(c->h, (const char *)xml, len, &o, &json);
	cli_status(c, NULL);
	if (r != 0) {
		r = cli_fail_h(c, r);
		goto out;
	}
	/* warnings go to stderr, one line each, whatever the output format */
	if ((j = json_loads(json, 0, NULL)) != NULL)
		json_array_foreach(json_object_get(j, "warnings"), i, w)
			fprintf(stderr, "ssovault: %s: warning: %s\n", c->what, cli_jstr(w, "message"));
	r = cli_print_json(c, json, import_human);
out:
	json_decref(j);
	free(json);
	free(map);
	free(xml);
	return r;
}

int
cli_app_import(struct cli *c, int argc, char **argv)
{
	return xml_file_cmd(c, argc, argv, 0);
}

int
cli_mapping_delete_many(struct cli *c, int argc, char **argv)
{
	return xml_file_cmd(c, argc, argv, 1);
}

int
cli_app_export(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, O_OUT },
		{ "windows-domain", required_argument, NULL, O_DOMAIN },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *domain = NULL;
	char *xml = NULL;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1)
		if (o == O_OUT)
			out = optarg;
		else if (o == O_DOMAIN)
			domain = optarg;
	cli_what(c, "app export");
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_app_export(c->h, (const char *const *)argv + optind,
	    (size_t)(argc - optind), domain, &xml)) != 0)
		return cli_fail_h(c, r);
	if (out != NULL)
		r = cli_write_new_file(c, out, xml, strlen(xml));
	else if (fputs(xml, stdout) == EOF || fflush(stdout) != 0)
		r = cli_fail(c, SV_ERR_IO, "cannot write to standard output");
	free(xml);
	return r;
}
