/*
 * import.h: what the files of ENTSSO XML share (import.c reads the files
 * of ssomanage -createapps, -updateapps, -createmappings and
 * -deletemappings; accounts.c turns ENTSSO accounts into principals;
 * export.c writes the same format), inside sso/ops/ only.
 */
#ifndef SSOVAULT_OPS_IMPORT_H
#define SSOVAULT_OPS_IMPORT_H

#include "apps.h"

/* What a file does (request byte "mode"). */
enum import_mode {
	IMPORT_CREATE = 0,	/* -createapps, -createmappings */
	IMPORT_UPDATE = 1,	/* -updateapps: existing apps change */
	IMPORT_DELETE = 2,	/* -deletemappings (its own operation) */
};

#define IMPORT_STRICT 0x1	/* any warning is an error: nothing is imported */
#define IMPORT_DRY_RUN 0x2	/* do everything, keep nothing, say what would be */

/* How an ENTSSO account DOMAIN\name is written on this host (request byte). */
enum import_accounts {
	ACCOUNTS_NAME = 0,		/* name (SSSD with short names) */
	ACCOUNTS_NAME_AT_DOMAIN = 1,	/* name@domain (SSSD, fully qualified) */
	ACCOUNTS_DOMAIN_NAME = 2,	/* DOMAIN\name (winbind) */
};

struct import {
	struct sso_ctx *x;
	enum import_mode mode;
	unsigned opts;
	enum import_accounts accounts;
	json_t *map;		/* lower-case ENTSSO account -> principal, "DOMAIN\\*" -> domain */
	json_t *warnings;	/* [{"application", "line", "message"}] */
	json_t *skipped_apps;	/* app keys skipped in this file: their mappings follow */
	const char *app;	/* the application being read, for errors */
	const char *warn_app;	/* the application a warning is about */
	size_t apps, updated, mappings, deleted, skipped;
};

/*
 * The XML helpers of import.c: names compared without case (elements and
 * attributes alike); an attribute's value (xmlFree it) or NULL; an element's
 * text trimmed (malloc'd); 1 for text that is not whitespace between
 * elements; a decimal of at most 9 digits or -1; yes/no/true/false/1/0 as
 * 1/0, else -1.
 */
struct _xmlNode;
int import_xml_is(const struct _xmlNode *n, const char *name);
unsigned char *import_xml_attr(const struct _xmlNode *n, const char *name);
char *import_xml_text(const struct _xmlNode *n);
int import_xml_stray(const struct _xmlNode *n);
long long import_xml_uint(const char *s);
int import_xml_bool(const char *s);
/* Prefix im->x->msg with where in the file it happened (line, application); r. */
int import_fail(struct import *im, const struct _xmlNode *n, int r);
/* One <application> (import_app.c). */
int import_application(struct import *im, const struct _xmlNode *node) SV_WUR;

/* Add a warning (one line, with the line number in it) about im->app. */
void import_warn(struct import *im, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * One ENTSSO account (an entry of an "A;B" list, trimmed) as a principal,
 * into out.  kind is "user" or "group" where the place decides it (a
 * mapping's windowsUserId), NULL where the name service does (appUserAccount,
 * appAdminAccount: a user if the account is one, else a group).  Accounts in
 * principal form (user:x, gid:5) are taken as they are; --account-map
 * entries come first; then the name is written as the host writes it
 * (im->accounts) and looked up.  An account that names nothing on this host
 * is kept as kind:name with a warning.  SV_ERR_INVALID (message in x->msg)
 * if it makes no valid principal.
 */
int import_account(struct import *im, long line, const char *acct, const char *kind,
    char out[SSO_PRINCIPAL_MAX]) SV_WUR;

/*
 * The XML of apps (a JSON array of app records) and their mappings; accounts
 * as principals, or as Windows accounts of domain dom if not NULL.
 */
int export_xml(struct sso_ctx *x, json_t *apps, const char *dom, char **ret_xml) SV_WUR;

#endif
