/*
 * cmd_entsso.h: the commands that read and write ENTSSO XML files (cmd_entsso.c),
 * whose rows sit in the tables of their families: `app import`, `app export`
 * (cmd_app.c) and `mapping delete-many` (cmd_mapping.c).
 */
#ifndef SSOVAULT_CMD_ENTSSO_H
#define SSOVAULT_CMD_ENTSSO_H

#include "cli.h"

int cli_app_import(struct cli *c, int argc, char **argv);
int cli_app_export(struct cli *c, int argc, char **argv);
int cli_mapping_delete_many(struct cli *c, int argc, char **argv);

/* The options of the XML file commands, for their help text. */
#define CLI_ENTSSO_FILE_HELP \
	"  --accounts FORM       how this host writes DOMAIN\\name: name (SSSD with\n" \
	"                        short names; the default), name@domain (SSSD, fully\n" \
	"                        qualified) or domain\\name (winbind)\n" \
	"  --account-map FILE    explicit renames, one per line: ACCOUNT = PRINCIPAL\n" \
	"                        (CONTOSO\\jdoe = user:john); DOMAIN\\* = DOMAIN-HERE gives\n" \
	"                        the domain that name@domain writes; a # at the\n" \
	"                        start of a line or after a blank starts a comment\n" \
	"  --strict              any warning is an error: nothing is changed\n" \
	"  --dry-run             check the whole file and report, change nothing\n"

#endif
