/*
 * cmd_creds.h: printing fetched credentials, shared by `creds get`
 * (cmd_creds.c, which defines it) and `ticket redeem` (cmd_ticket.c).
 */
#ifndef SSOVAULT_CMD_CREDS_H
#define SSOVAULT_CMD_CREDS_H

#include "cli.h"

/*
 * Print credentials to stdout: with field (a label, any case) just that
 * value and a newline; with --json {"app","user","external_user","fields":
 * {label: value}}; else "label: value" lines.  The text is built in secure
 * memory and written with write(2), so no value lands in stdio's buffers.
 * Returns an exit code (1 and a message if field names no field).
 */
int cli_creds_print(struct cli *c, const struct ssovault_creds *cr, const char *field);

#endif
