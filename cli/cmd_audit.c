/* ssovault audit list [--since T] [--limit N] | verify | prune --keep N | level */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* "1700000000", "2026-11-24" or "2026-11-24T10:00:00Z" -> Unix time; -1 if invalid. */
static long long
parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	if (cli_parse_uint(s, 1LL << 40) >= 0)
		return cli_parse_uint(s, 1LL << 40);
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (end == NULL || (*end != '\0' && strcmp(end, "Z") != 0))
		return -1;
	return (long long)timegm(&tm);
}

static int
is_principal(const char *s)
{
	return strncmp(s, "user:", 5) == 0 || strncmp(s, "group:", 6) == 0 ||
	    strncmp(s, "uid:", 4) == 0 || strncmp(s, "gid:", 4) == 0;
}

static void
audit_human(struct cli *c, json_t *j)
{
	json_t *e;
	size_t i;

	json_array_foreach(j, i, e) {
		const char *obj = json_string_value(json_object_get(e, "object"));
		const char *user = json_string_value(json_object_get(e, "user"));
		const char *err = json_string_value(json_object_get(e, "error"));
		const char *first = json_string_value(json_object_get(e, "first_time"));
		const char *host = json_string_value(json_object_get(e, "host"));
		char times[96] = "", by[200];

		const char *outcome = json_string_value(json_object_get(e, "outcome"));
		char who[64], target[300] = "";
		size_t olen = outcome != NULL ? strlen(outcome) : 0;

		/* a record of repeated failures: how many, since when */
		if (first != NULL)
			snprintf(times, sizeof(times), " (%lld times since %s)",
			    (long long)json_integer_value(json_object_get(e, "count")), first);
		/* the error repeats the outcome's words: "access denied: access denied: ..." */
		if (err != NULL && outcome != NULL && olen > 0 && strncmp(err, outcome, olen) == 0 &&
		    strncmp(err + olen, ": ", 2) == 0)
			err += olen + 2;
		/* a principal is whom it concerned; anything else says how (terminated) */
		if (user != NULL && *user != '\0')
			snprintf(target, sizeof(target), is_principal(user) ? " user=%s" : " (%s)", user);
		cli_uid_name((long long)json_integer_value(json_object_get(e, "uid")), who, sizeof(who));
		/* a shared vault's records name the host that wrote them */
		snprintf(by, sizeof(by), "%s%s%s", host != NULL ? host : "", host != NULL ? " " : "",
		    who);
		printf("%6lld %s %-18s %-16s %-24s %s%s%s%s%s\n",
		    (long long)json_integer_value(json_object_get(e, "seq")),
		    json_string_value(json_object_get(e, "time")), by,
		    json_string_value(json_object_get(e, "op")),
		    obj != NULL && *obj ? obj : "-",
		    outcome != NULL ? outcome : "", times, target,
		    err != NULL && *err ? ": " : "", err != NULL ? err : "");
	}
}

static int
cmd_audit_list(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long since = 0, limit = 0;
	char *json = NULL;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if (o == 's' && (since = parse_time(optarg)) < 0)
			return cli_usage(c, "--since takes a date (2026-11-24, 2026-11-24T10:00:00Z) or Unix time");
		if (o == 'n' && (limit = cli_parse_uint(optarg, 1LL << 32)) < 0)
			return cli_usage(c, "--limit takes a number");
	}
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0 || (r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_audit_list(c->h, since, (size_t)limit, &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, audit_human);
	free(json);
	return r;
}

static void
verify_human(struct cli *c, json_t *j)
{
	printf("The audit chain verifies: %lld records (%lld to %lld).\n",
	    (long long)json_integer_value(json_object_get(j, "records")),
	    (long long)json_integer_value(json_object_get(j, "first")),
	    (long long)json_integer_value(json_object_get(j, "last")));
}

static int
cmd_audit_verify(struct cli *c, int argc, char **argv)
{
	char *json = NULL;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0 || (r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_audit_verify(c->h, &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, verify_human);
	free(json);
	return r;
}

static void
prune_human(struct cli *c, json_t *j)
{
	printf("Removed %lld audit records; %lld kept.\n",
	    (long long)json_integer_value(json_object_get(j, "removed")),
	    (long long)json_integer_value(json_object_get(j, "kept")));
}

static int
cmd_audit_prune(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keep", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long keep = -1;
	char *json = NULL;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if (o == 'k' && (keep = cli_parse_uint(optarg, 1LL << 48)) < 0)
			return cli_usage(c, "--keep takes a number");
	}
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0)
		return r;
	if (keep < 0)
		return cli_usage(c, "--keep N is required");
	if ((r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_audit_prune(c->h, (uint64_t)keep, &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, prune_human);
	free(json);
	return r;
}

static void
level_human(struct cli *c, json_t *j)
{
	printf("positive: %s\nnegative: %s\n",
	    json_string_value(json_object_get(j, "positive")),
	    json_string_value(json_object_get(j, "negative")));
}

static int
cmd_audit_level(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "positive", required_argument, NULL, 'p' },
		{ "negative", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pos = NULL, *neg = NULL;
	char *json = NULL;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if (o == 'p')
			pos = optarg;
		else if (o == 'n')
			neg = optarg;
	}
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0 || (r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_audit_level(c->h, pos, neg, &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, level_human);
	free(json);
	return r;
}

const struct cli_cmd cli_cmd_audit[] = {
	{ "list", cmd_audit_list, NULL, "[--since T] [--limit N]", "print audit records",
	    "Options:\n"
	    "  --since T    records from T on (2026-11-24, 2026-11-24T10:00:00Z, or Unix time)\n"
	    "  --limit N    only the newest N records\n" },
	{ "verify", cmd_audit_verify, NULL, NULL, "check the HMAC chain; name the first bad record", NULL },
	{ "prune", cmd_audit_prune, NULL, "--keep N", "drop all but the newest N records",
	    "The chain stays verifiable: the cut is anchored in the vault.\n" },
	{ "level", cmd_audit_level, NULL, "[--positive L] [--negative L]",
	    "show or set what is recorded: none, low, medium, high",
	    "Defaults: positive low (credential reads, ticket redemptions, certificate\n"
	    "fetches and every change), negative high (every failure).\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
