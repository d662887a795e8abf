/*
 * apps.h: what the application handlers (h_app.c) share with the ticket
 * handlers (h_ticket.c), inside sso/ only.
 *
 * Records (docs/apps.md):
 * - apps: key = lower-case app name, sealed JSON (docs/json.md "app").
 * - mappings: key = app key | 0x00 | canonical principal, sealed binary
 *   `u8 version (2) | s principal | s external_user | u8 enabled |
 *   u8 creds_set | u8 disabled_by | u32 disabled_by_uid | u32 n | n x s value`
 *   (values of fields 1..n, in the app's field order; field 0's value is
 *   external_user; version 1 records lack the two disabled_by fields).
 *   Values are secrets: they are only ever decoded into secure memory and
 *   never enter a JSON object.
 */
#ifndef SSOVAULT_APPS_H
#define SSOVAULT_APPS_H

#include "sso.h"

#define SSO_TICKET_TIMEOUT_MAX 525600	/* minutes: one year */

/*
 * The mapping of who (a caller, real or made from a ticket's uid) in app:
 * for an individual app the caller's user:NAME or uid:N mapping, for a group
 * app the mapping whose group the caller is in.  ret_principal receives the
 * mapping's principal.  SV_ERR_NOT_FOUND (message in x->msg) if none.
 */
int sso_mapping_own(struct sso_ctx *x, json_t *app, const struct sso_caller *who,
    char ret_principal[SSO_PRINCIPAL_MAX]) SV_WUR;

/*
 * Append the credentials of principal's mapping in app to x->out in the
 * reply layout of ssovault_creds_get(): s app | s principal | s external |
 * u32 n | n x (s label, u8 masked, s value).  Refuses a disabled app or
 * mapping (SV_ERR_DISABLED) and a missing mapping or one whose credentials
 * were never set (SV_ERR_NOT_FOUND), with a message naming both.
 */
int sso_creds_reply(struct sso_ctx *x, json_t *app, const char *principal) SV_WUR;

/* 1 if the JSON boolean member name of app is true. */
int sso_app_flag(json_t *app, const char *name);

#endif
