/*
 * ssovault ticket issue | redeem APP TICKET [--sender P] | settings: single
 * sign-on tickets (ENTSSO IssueTicket / RedeemTicket).  A ticket is a
 * short-lived bearer token: `redeem` also reads it from standard input
 * ("-") so that it need not appear in the process list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "cmd_creds.h"

static int
cmd_ticket_issue(struct cli *c, int argc, char **argv)
{
	char *ticket = NULL;
	json_t *j;
	char *s;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0 || (r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_ticket_issue(c->h, &ticket)) != 0)
		return cli_fail_h(c, r);
	if (c->json) {
		j = json_pack("{s:s}", "ticket", ticket);
		s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
		if (s != NULL)
			printf("%s\n", s);
		free(s);
		json_decref(j);
	} else {
		printf("%s\n", ticket);
	}
	sodium_memzero(ticket, strlen(ticket));
	free(ticket);
	return 0;
}

static int
cmd_ticket_redeem(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sender", required_argument, NULL, 's' },
		{ "field", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sender = NULL, *field = NULL, *app, *ticket;
	struct ssovault_creds *cr = NULL;
	char *in = NULL;
	size_t len = 0;
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if (o == 's')
			sender = optarg;
		else if (o == 'f')
			field = optarg;
	}
	if ((r = cli_operands(c, argc, argv, 2, 2)) != 0)
		return r;
	app = argv[optind];
	ticket = argv[optind + 1];
	cli_what(c, "ticket redeem %s", app);
	if (strcmp(ticket, "-") == 0) {
		if ((r = cli_secret_file(c, "-", NULL, &in, &len)) != 0)
			return r;
		ticket = in;
	}
	if ((r = cli_open(c, 1)) != 0)
		goto out;
	if ((r = ssovault_ticket_redeem(c->h, app, ticket, sender, &cr)) != 0) {
		r = cli_fail_h(c, r);
		goto out;
	}
	r = cli_creds_print(c, cr, field);
out:
	ssovault_creds_free(cr);
	if (in != NULL)
		sodium_free(in);
	return r;
}

static void
settings_human(struct cli *c, json_t *j)
{
	printf("tickets:    %s\n", json_is_true(json_object_get(j, "allow")) ? "allowed" : "disabled");
	printf("validation: %s\n", json_is_true(json_object_get(j, "validate")) ? "on" : "off");
	printf("timeout:    %lld minutes (unless an app sets its own)\n",
	    (long long)json_integer_value(json_object_get(j, "timeout")));
}

static int
yes_no(const char *s)
{
	if (strcmp(s, "yes") == 0)
		return 1;
	if (strcmp(s, "no") == 0)
		return 0;
	return -2;
}

static int
cmd_ticket_settings(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow", required_argument, NULL, 'a' },
		{ "validate", required_argument, NULL, 'v' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int allow = -1, validate = -1, o, r;
	long long timeout = 0;
	char *json = NULL;

	while ((o = cli_getopt(c, argc, argv, "", opts)) != -1) {
		if (o == 'a' && (allow = yes_no(optarg)) < -1)
			return cli_usage(c, "--allow is yes or no");
		if (o == 'v' && (validate = yes_no(optarg)) < -1)
			return cli_usage(c, "--validate is yes or no");
		if (o == 't' && ((timeout = cli_parse_uint(optarg, 525600)) < 1))
			return cli_usage(c, "--timeout takes minutes: 1 to 525600");
	}
	if ((r = cli_operands(c, argc, argv, 0, 0)) != 0 || (r = cli_open(c, 1)) != 0)
		return r;
	if ((r = ssovault_ticket_settings(c->h, allow, validate, (unsigned)timeout, &json)) != 0)
		return cli_fail_h(c, r);
	r = cli_print_json(c, json, settings_human);
	free(json);
	return r;
}

const struct cli_cmd cli_cmd_ticket[] = {
	{ "issue", cmd_ticket_issue, NULL, NULL, "issue a ticket naming you",
	    "Tickets must be allowed ('ticket settings --allow yes').  The token is valid\n"
	    "for the redeeming app's ticket timeout (else the global one, 2 minutes by\n"
	    "default) and, unless the app allows reuse, for one redemption.\n" },
	{ "redeem", cmd_ticket_redeem, NULL, "APP TICKET [--sender P] [--field LABEL] [--json]",
	    "trade a ticket for its issuer's credentials in APP (app admin)",
	    "TICKET '-' reads the ticket from standard input.  --sender names who sent the\n"
	    "ticket; it is required when the app or the global settings validate tickets,\n"
	    "and when given it must match.  Output as 'creds get'.\n" },
	{ "settings", cmd_ticket_settings, NULL,
	    "[--allow yes|no] [--validate yes|no] [--timeout MIN]",
	    "show or change the global ticket settings (vault admin)",
	    "Defaults: tickets disabled, no validation, a 2 minute lifetime.\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
