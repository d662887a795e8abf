/*
 * apps.h: what the files of apps, mappings and credentials (app.c,
 * mapping.c, creds.c, import.c) share with each other and with the ticket
 * handlers (ticket.c), inside sso/ops/ only.
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

#include "handlers.h"

#define SSO_TICKET_TIMEOUT_MAX 525600	/* minutes: one year */

#define APP_FIELDS_MAX 64
#define APP_LABEL_MAX 64
#define APP_TEXT_MAX 1024
#define APP_PRINCIPALS_MAX 256
#define EXTERNAL_USER_MAX 256
#define VALUE_MAX 8192
#define MAPPING_VERSION 2		/* 1: without who disabled it; still read */
#define MAPPING_KEY_MAX (SSO_APP_KEY_MAX + 1 + SSO_PRINCIPAL_MAX)
#define IMPORT_MAX (4u * 1024u * 1024u)
/*
 * A config store app's settings: a record of the mappings table whose
 * principal part is this prefix and the identifier's key (config.c).
 */
#define SSO_CONFIG_PREFIX "config:"

/*
 * Who disabled a mapping: an admin's disable is undone only by an admin, a
 * user's own by that user too.  OFF_UNKNOWN is a version 1 record disabled
 * after its credentials were set, by whom it does not say: an admin's.
 */
enum sso_mapping_off {
	OFF_NONE = 0,		/* enabled, or new and never enabled */
	OFF_USER = 1,		/* by the mapped user */
	OFF_ADMIN = 2,		/* by an app, affiliate or vault admin */
	OFF_UNKNOWN = 3,
};
#define SSO_MAPPING_OFF_UID_NONE UINT32_MAX

struct sso_mapping {
	char principal[SSO_PRINCIPAL_MAX];
	char *external;		/* secure memory */
	int enabled;
	int creds_set;
	enum sso_mapping_off off;
	uint32_t off_uid;	/* who disabled it, or SSO_MAPPING_OFF_UID_NONE */
	uint32_t n;
	char **values;		/* n strings in secure memory */
	struct svbuf *sec;	/* decoded strings live here (one secure block) */
};

typedef int (*sso_mapping_fn)(struct sso_ctx *x, void *ctx, struct vault_cursor *c,
    const char *principal, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl);


/*
 * The mapping of who (a caller, real or made from a ticket's uid) in app:
 * for an individual app the caller's user:NAME or uid:N mapping, for a group
 * app the mapping whose group the caller is in.  ret_principal receives the
 * mapping's principal, and *ret_m (if ret_m is not NULL) the mapping read
 * on the way (NULL for a group app: not read yet).  SV_ERR_NOT_FOUND
 * (message in x->msg) if none.
 */
int sso_mapping_own(struct sso_ctx *x, json_t *app, const struct sso_caller *who,
    char ret_principal[SSO_PRINCIPAL_MAX], struct sso_mapping **ret_m) SV_WUR;

/*
 * Append the credentials of principal's mapping in app (m, taken, if it was
 * read already; NULL: read here) to x->out in the
 * reply layout of ssovault_creds_get(): s app | s principal | s external |
 * u32 n | n x (s label, u8 masked, s value).  Refuses a disabled app or
 * mapping (SV_ERR_DISABLED) and a missing mapping or one whose credentials
 * were never set (SV_ERR_NOT_FOUND), with a message naming both.
 */
int sso_creds_reply(struct sso_ctx *x, json_t *app, const char *principal,
    struct sso_mapping *m) SV_WUR;
/*
 * The reply layout above for m's values.  config: m is a config store app's
 * record (config.c): the identifier is where the principal goes, no
 * external user, and every field is a setting.
 */
int sso_values_reply(struct sso_ctx *x, json_t *app, const struct sso_mapping *m,
    int config) SV_WUR;
/*
 * Read `u32 n | n x (s label, s value)` from req into m's values (labels of
 * app x->app, any case; each at most once); config as above.
 */
int sso_values_take(struct sso_ctx *x, struct svbuf *req, struct sso_mapping *m,
    int config) SV_WUR;

/* 1 if the JSON boolean member name of app is true. */
int sso_app_flag(json_t *app, const char *name);

/* Shared by app.c, mapping.c, creds.c and import.c. */
int sso_app_create(struct sso_ctx *x, json_t *spec);
/* Apply changes (app update's JSON) to app, checking each member's role. */
int sso_app_apply(struct sso_ctx *x, json_t *app, json_t *changes);
int sso_app_store(struct sso_ctx *x, json_t *app, unsigned flags);
int sso_app_is_group(json_t *app);
int sso_app_is_config(json_t *app);
/* 0, or SV_ERR_INVALID saying app is a config store app (which has no mappings). */
int sso_app_not_config(struct sso_ctx *x, json_t *app);
/* 1 unless the JSON boolean member name of app is false (default-on flags). */
int sso_app_flag_on(json_t *app, const char *name);
int sso_app_key_of(struct sso_ctx *x, json_t *app, char key[SSO_APP_KEY_MAX + 1]);
const char *sso_app_name(json_t *app);
int sso_app_visible(struct sso_ctx *x, json_t *app);
int sso_apps_walk(struct sso_ctx *x, int (*fn)(struct sso_ctx *, json_t *, void *),
    void *ctx);
int sso_json_array_has(json_t *arr, const char *s);
int sso_mapping_admin_off(const struct sso_mapping *m);
int sso_mapping_admin_off_deny(struct sso_ctx *x, const struct sso_mapping *m,
    const char *verb);
int sso_mapping_create(struct sso_ctx *x, json_t *app, const char *principal,
    const char *external);
int sso_mapping_external_ok(struct sso_ctx *x, const char *s);
/* A new enabled-less mapping with nvalues empty values; NULL if out of memory. */
struct sso_mapping *sso_mapping_new(const char *principal, const char *external,
    uint32_t nvalues);
void sso_mapping_free(struct sso_mapping *m);
/* Give m n values: the ones it has, then empty ones (secure memory). */
int sso_mapping_resize(struct sso_mapping *m, uint32_t n);
int sso_mapping_get(struct sso_ctx *x, json_t *app, const char *principal,
    struct sso_mapping **ret);
int sso_mapping_key(const char *appkey, const char *principal,
    uint8_t out[MAPPING_KEY_MAX],
    size_t *ret_len);
int sso_mapping_put(struct sso_ctx *x, json_t *app, const struct sso_mapping *m,
    unsigned flags);
void sso_mapping_str_free(const struct sso_mapping *m, char *s);
int sso_mappings_walk(struct sso_ctx *x, json_t *app, sso_mapping_fn fn, void *ctx);
int sso_principal_is_user(const char *p);
int sso_text_ok(const char *s, size_t max);

#endif
