/*
 * mapping.c: mapping records (sealed binary, apps.h: they hold the
 * credential values, decoded into secure memory only) and the handlers of
 * `mapping create|list|enable|disable|delete`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "apps.h"

/* --- mapping records ------------------------------------------------------ */


/* A string of m: in m->sec (freed with it) or sodium_malloc'd on its own. */
void
sso_mapping_str_free(const struct sso_mapping *m, char *s)
{
	uintptr_t p = (uintptr_t)s, base;

	if (s == NULL)
		return;
	if (m->sec != NULL) {
		base = (uintptr_t)svbuf_ptr(m->sec);
		if (p >= base && p < base + svbuf_len(m->sec))
			return;
	}
	sodium_free(s);
}

void
sso_mapping_free(struct sso_mapping *m)
{
	uint32_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n && m->values != NULL; i++)
		sso_mapping_str_free(m, m->values[i]);
	free(m->values);
	sso_mapping_str_free(m, m->external);
	svbuf_free(m->sec);
	free(m);
}

static char *
secure_strdup(const char *s)
{
	size_t n = strlen(s);
	char *d = sodium_malloc(n + 1);

	if (d != NULL)
		memcpy(d, s, n + 1);
	return d;
}

int
sso_mapping_resize(struct sso_mapping *m, uint32_t n)
{
	char **v;
	uint32_t i;

	for (; m->n > n; m->n--)
		sso_mapping_str_free(m, m->values[m->n - 1]);
	if ((v = realloc(m->values, (n == 0 ? 1 : n) * sizeof(*v))) == NULL)
		return SV_ERR_NOMEM;
	m->values = v;
	for (i = m->n; i < n; i++) {
		if ((m->values[i] = secure_strdup("")) == NULL)
			return SV_ERR_NOMEM;
		m->n = i + 1;
	}
	return 0;
}

struct sso_mapping *
sso_mapping_new(const char *principal, const char *external, uint32_t nvalues)
{
	struct sso_mapping *m = calloc(1, sizeof(*m)), *ret = NULL;
	uint32_t i;

	if (m == NULL)
		return NULL;
	snprintf(m->principal, sizeof(m->principal), "%s", principal);
	m->off = OFF_NONE;
	m->off_uid = SSO_MAPPING_OFF_UID_NONE;
	m->n = nvalues;
	if ((m->values = calloc(nvalues == 0 ? 1 : nvalues, sizeof(*m->values))) == NULL ||
	    (m->external = secure_strdup(external)) == NULL)
		goto out;
	for (i = 0; i < nvalues; i++)
		if ((m->values[i] = secure_strdup("")) == NULL)
			goto out;
	ret = m;
	m = NULL;
out:
	sso_mapping_free(m);
	return ret;
}

/*
 * Take one string of the record into the secure block at *dst (room was
 * made for every string of the record): a NUL inside is damage.
 */
static int
mapping_str_take(struct svbuf *b, uint8_t **dst, char **ret)
{
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = svbuf_get_string_direct(b, &p, &len)) != 0)
		return r;
	if (len > 0 && memchr(p, '\0', len) != NULL)
		return SV_ERR_INVALID;
	if (len > 0)
		memcpy(*dst, p, len);
	(*dst)[len] = '\0';
	*ret = (char *)*dst;
	*dst += len + 1;
	return 0;
}

/*
 * The secret strings go into one secure block rather than one
 * sodium_malloc() each: a credential lookup decodes a mapping, and each
 * sodium_malloc() costs a dozen system calls.
 */
static int
mapping_decode(struct svbuf *b, struct sso_mapping **ret)
{
	struct sso_mapping *m = calloc(1, sizeof(*m));
	uint8_t version, enabled, set, off = OFF_NONE, *dst;
	uint32_t i, n, off_uid = SSO_MAPPING_OFF_UID_NONE;
	char *p = NULL;
	int r;

	if (m == NULL)
		return SV_ERR_NOMEM;
	/* every string of the record, each with its NUL, fits in len + fields + 1 */
	if ((m->sec = svbuf_new_secure(0)) == NULL ||
	    svbuf_reserve(m->sec, svbuf_len(b) + APP_FIELDS_MAX + 1, &dst) != 0) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = svbuf_get_u8(b, &version)) != 0 || version < 1 || version > MAPPING_VERSION ||
	    (r = svbuf_get_cstring(b, &p)) != 0 || strlen(p) >= sizeof(m->principal) ||
	    (r = mapping_str_take(b, &dst, &m->external)) != 0 ||
	    (r = svbuf_get_u8(b, &enabled)) != 0 || enabled > 1 ||
	    (r = svbuf_get_u8(b, &set)) != 0 || set > 1 ||
	    (version >= 2 && ((r = svbuf_get_u8(b, &off)) != 0 || off > OFF_UNKNOWN ||
	    (enabled && off != OFF_NONE) || (r = svbuf_get_u32(b, &off_uid)) != 0)) ||
	    (r = svbuf_get_u32(b, &n)) != 0 || n >= APP_FIELDS_MAX) {
		r = SV_ERR_INTEGRITY;
		goto out;
	}
	if (version == 1 && !enabled && set)
		off = OFF_UNKNOWN;
	snprintf(m->principal, sizeof(m->principal), "%s", p);
	m->enabled = enabled;
	m->creds_set = set;
	m->off = (enum sso_mapping_off)off;
	m->off_uid = off_uid;
	if ((m->values = calloc(n == 0 ? 1 : n, sizeof(*m->values))) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	m->n = n;
	for (i = 0; i < n; i++) {
		if ((r = mapping_str_take(b, &dst, &m->values[i])) != 0) {
			r = SV_ERR_INTEGRITY;
			goto out;
		}
	}
	if ((r = svbuf_expect_end(b)) != 0) {
		r = SV_ERR_INTEGRITY;
		goto out;
	}
	*ret = m;
	m = NULL;
out:
	free(p);
	sso_mapping_free(m);
	return r;
}

int
sso_mapping_key(const char *appkey, const char *principal, uint8_t out[MAPPING_KEY_MAX],
    size_t *ret_len)
{
	size_t a = strlen(appkey), p = strlen(principal);

	if (a + 1 + p > MAPPING_KEY_MAX)
		return SV_ERR_INVALID;
	memcpy(out, appkey, a);
	out[a] = '\0';
	memcpy(out + a + 1, principal, p);
	*ret_len = a + 1 + p;
	return 0;
}

int
sso_app_key_of(struct sso_ctx *x, json_t *app, char key[SSO_APP_KEY_MAX + 1])
{
	return sso_app_name_key(sso_app_name(app), key, x->msg);
}

static int mapping_get_key(struct sso_ctx *x, json_t *app, const char *principal,
    struct sso_mapping **ret);

/*
 * The mapping of principal in app, stored under it or under the other
 * spelling of the same account (uid:N for user:NAME and back); its
 * m->principal is the one stored.  SV_ERR_NOT_FOUND (no message) if none.
 */
int
sso_mapping_get(struct sso_ctx *x, json_t *app, const char *principal, struct sso_mapping **ret)
{
	char alias[SSO_PRINCIPAL_MAX];
	int r;

	r = mapping_get_key(x, app, principal, ret);
	if (r == SV_ERR_NOT_FOUND && sso_principal_alias(principal, alias) == 0)
		r = mapping_get_key(x, app, alias, ret);
	return r;
}

static int
mapping_get_key(struct sso_ctx *x, json_t *app, const char *principal, struct sso_mapping **ret)
{
	char appkey[SSO_APP_KEY_MAX + 1];
	uint8_t k[MAPPING_KEY_MAX];
	struct svbuf *b = NULL;
	size_t kl;
	int r;

	if ((r = sso_app_key_of(x, app, appkey)) != 0 ||
	    (r = sso_mapping_key(appkey, principal, k, &kl)) != 0)
		return r;
	if ((r = vault_record_get(x->txn, SSO_TABLE_MAPPINGS, k, kl, &b)) != 0) {
		if (r != SV_ERR_NOT_FOUND)
			sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
		return r;
	}
	r = mapping_decode(b, ret);
	svbuf_free(b);
	if (r == SV_ERR_INTEGRITY)
		return sv_fail(x->msg, r, "the mapping of %s to '%s' is damaged",
		    principal, sso_app_name(app));
	return r;
}

int
sso_mapping_put(struct sso_ctx *x, json_t *app, const struct sso_mapping *m, unsigned flags)
{
	char appkey[SSO_APP_KEY_MAX + 1];
	uint8_t k[MAPPING_KEY_MAX];
	struct svbuf *b = NULL;
	size_t kl;
	uint32_t i;
	int r;

	if ((r = sso_app_key_of(x, app, appkey)) != 0 ||
	    (r = sso_mapping_key(appkey, m->principal, k, &kl)) != 0)
		return r;
	if ((b = svbuf_new_secure(0)) == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_put_u8(b, MAPPING_VERSION)) != 0 ||
	    (r = svbuf_put_cstring(b, m->principal)) != 0 ||
	    (r = svbuf_put_cstring(b, m->external)) != 0 ||
	    (r = svbuf_put_u8(b, m->enabled ? 1 : 0)) != 0 ||
	    (r = svbuf_put_u8(b, m->creds_set ? 1 : 0)) != 0 ||
	    (r = svbuf_put_u8(b, m->enabled ? OFF_NONE : (uint8_t)m->off)) != 0 ||
	    (r = svbuf_put_u32(b, m->enabled ? SSO_MAPPING_OFF_UID_NONE : m->off_uid)) != 0 ||
	    (r = svbuf_put_u32(b, m->n)) != 0)
		goto out;
	for (i = 0; i < m->n; i++)
		if ((r = svbuf_put_cstring(b, m->values[i])) != 0)
			goto out;
	r = vault_record_put(x->txn, SSO_TABLE_MAPPINGS, k, kl, svbuf_ptr(b), svbuf_len(b),
	    flags);
	if (r == SV_ERR_EXISTS)
		sv_fail(x->msg, r, "%s is already mapped in '%s'", m->principal, sso_app_name(app));
	else if (r != 0)
		sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
out:
	svbuf_free(b);
	return r;
}

/*
 * Walk the mappings of app in key order.  fn gets the principal (from the
 * key) and the cursor positioned on the entry; it returns 0 to go on, 1 to
 * stop, or an error.  It may delete the current entry with vault_cursor_del.
 */

int
sso_mappings_walk(struct sso_ctx *x, json_t *app, sso_mapping_fn fn, void *ctx)
{
	char appkey[SSO_APP_KEY_MAX + 1], principal[SSO_PRINCIPAL_MAX];
	uint8_t prefix[SSO_APP_KEY_MAX + 1];
	struct vault_cursor *c = NULL;
	const uint8_t *k, *v;
	size_t kl, vl, pl;
	int r;

	if ((r = sso_app_key_of(x, app, appkey)) != 0)
		return r;
	pl = strlen(appkey) + 1;
	memcpy(prefix, appkey, pl);	/* with its NUL: the separator */
	if ((r = vault_cursor_open(x->txn, SSO_TABLE_MAPPINGS, &c)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	for (r = vault_cursor_seek(c, prefix, pl, &k, &kl, &v, &vl); r == 1;
	    r = vault_cursor_next(c, &k, &kl, &v, &vl)) {
		if (kl < pl || memcmp(k, prefix, pl) != 0) {
			r = 0;
			break;
		}
		if (kl - pl >= sizeof(principal)) {
			r = sv_fail(x->msg, SV_ERR_INTEGRITY, "a mapping key of '%s' is damaged",
			    sso_app_name(app));
			break;
		}
		memcpy(principal, k + pl, kl - pl);
		principal[kl - pl] = '\0';
		if ((r = fn(x, ctx, c, principal, k, kl, v, vl)) != 0)
			break;
	}
	vault_cursor_close(c);
	if (r < 0 && x->msg[0] == '\0')
		sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return r < 0 ? r : 0;
}

int
sso_principal_is_user(const char *p)
{
	return strncmp(p, "user:", 5) == 0 || strncmp(p, "uid:", 4) == 0;
}

/* The request's principal, canonical, into out; target of the audit record. */
static int
req_principal(struct sso_ctx *x, struct svbuf *req, char out[SSO_PRINCIPAL_MAX])
{
	char in[SSO_PRINCIPAL_MAX];
	int r;

	if (x->app != NULL && (r = sso_app_not_config(x, x->app)) != 0)
		return r;
	if ((r = sso_req_name(req, in, sizeof(in))) != 0)
		return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    r == SV_ERR_TRUNCATED ? "request lacks a valid principal" :
		    "invalid principal: expected user:NAME, group:NAME, uid:N or gid:N");
	if ((r = sso_principal_check(in, out, x->msg)) != 0)
		return r;
	snprintf(x->target, sizeof(x->target), "%s", out);
	return 0;
}

int
sso_mapping_external_ok(struct sso_ctx *x, const char *s)
{
	if (*s == '\0' || !sso_text_ok(s, EXTERNAL_USER_MAX))
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "the external user id must be 1 to %d characters without control characters",
		    EXTERNAL_USER_MAX);
	return 0;
}

struct first_ctx {
	char principal[SSO_PRINCIPAL_MAX];
	int found;
};

static int
first_mapping(struct sso_ctx *x, void *ctx, struct vault_cursor *c, const char *principal,
    const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct first_ctx *f = ctx;

	snprintf(f->principal, sizeof(f->principal), "%s", principal);
	f->found = 1;
	return 1;
}

/* Create a mapping in app (the request and each imported <mapping>). */
int
sso_mapping_create(struct sso_ctx *x, json_t *app, const char *principal, const char *external)
{
	struct first_ctx f = { "", 0 };
	struct sso_mapping *m;
	json_t *fields = json_object_get(app, "fields");
	int r;

	char qa[SSO_QUOTED_MAX], qp[SSO_QUOTED_MAX];

	if ((r = sso_app_not_config(x, app)) != 0 ||
	    (r = sso_mapping_external_ok(x, external)) != 0)
		return r;
	sso_shell_quote(sso_app_name(app), qa, sizeof(qa));
	sso_shell_quote(principal, qp, sizeof(qp));
	if (sso_app_is_group(app)) {
		if (sso_principal_is_user(principal))
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "'%s' is a group app: map one of its user groups (group:NAME or gid:N), not %s",
			    sso_app_name(app), principal);
		if (!sso_json_array_has(json_object_get(app, "users"), principal))
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "%s is not a user of group app '%s': add it with 'ssovault app update %s --add-user %s'",
			    principal, sso_app_name(app), qa, qp);
		if ((r = sso_mappings_walk(x, app, first_mapping, &f)) != 0)
			return r;
		if (f.found)
			return sv_fail(x->msg, SV_ERR_EXISTS,
			    "group app '%s' already has its one mapping (%s): delete it first",
			    sso_app_name(app), f.principal);
	} else if (!sso_principal_is_user(principal)) {
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "'%s' is an individual app: map a user (user:NAME or uid:N), not %s",
		    sso_app_name(app), principal);
	}
	/* one account, one mapping: not a second one under its other spelling */
	if ((r = sso_mapping_get(x, app, principal, &m)) == 0) {
		r = sv_fail(x->msg, SV_ERR_EXISTS, "%s is already mapped in '%s'%s%s%s",
		    principal, sso_app_name(app), strcmp(m->principal, principal) != 0 ? " (as " : "",
		    strcmp(m->principal, principal) != 0 ? m->principal : "",
		    strcmp(m->principal, principal) != 0 ? ")" : "");
		sso_mapping_free(m);
		return r;
	}
	if (r != SV_ERR_NOT_FOUND)
		return r;
	if ((m = sso_mapping_new(principal, external,
	    (uint32_t)(json_array_size(fields) > 0 ? json_array_size(fields) - 1 : 0))) == NULL)
		return SV_ERR_NOMEM;
	r = sso_mapping_put(x, app, m, VAULT_PUT_NOOVERWRITE);
	sso_mapping_free(m);
	return r;
}

/* --- mapping handlers -------------------------------------------------- */

int
sso_h_mapping_create(struct sso_ctx *x, struct svbuf *req)
{
	char p[SSO_PRINCIPAL_MAX], ext[EXTERNAL_USER_MAX + 2];
	int r;

	if ((r = req_principal(x, req, p)) != 0)
		return r;
	if ((r = sso_req_name(req, ext, sizeof(ext))) != 0)
		return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    "the external user id must be 1 to %d characters without control characters",
		    EXTERNAL_USER_MAX);
	return sso_mapping_create(x, x->app, p, ext);
}

/* 1 if only an admin may turn m back on. */
int
sso_mapping_admin_off(const struct sso_mapping *m)
{
	return !m->enabled && (m->off == OFF_ADMIN || m->off == OFF_UNKNOWN);
}

int
sso_mapping_admin_off_deny(struct sso_ctx *x, const struct sso_mapping *m, const char *verb)
{
	if (m->off == OFF_ADMIN && m->off_uid != SSO_MAPPING_OFF_UID_NONE)
		return sso_deny(x, "an app admin of '%s': an admin (uid %lu) disabled this mapping; "
		    "only an admin may %s", x->object, (unsigned long)m->off_uid, verb);
	return sso_deny(x, "an app admin of '%s': an admin disabled this mapping; "
	    "only an admin may %s", x->object, verb);
}

static int
mapping_set_enabled(struct sso_ctx *x, struct svbuf *req, int enabled)
{
	struct sso_mapping *m = NULL;
	char p[SSO_PRINCIPAL_MAX];
	int admin, r;

	if ((r = req_principal(x, req, p)) != 0)
		return r;
	/* app users may switch their own mapping; a group's is its admins' */
	admin = (x->is_affiliate_admin || sso_app_is_admin(x, x->app));
	if (!admin && !(sso_principal_is_user(p) && sso_principal_match(p, x->caller)))
		return sso_deny(x, "an app admin of '%s': app users may %s only their own mapping",
		    x->object, enabled ? "enable" : "disable");
	if ((r = sso_mapping_get(x, x->app, p, &m)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			return sv_fail(x->msg, r, "no mapping for %s in '%s'", p, x->object);
		return r;
	}
	if (!admin && enabled && sso_mapping_admin_off(m)) {
		r = sso_mapping_admin_off_deny(x, m, "enable it");
		sso_mapping_free(m);
		return r;
	}
	if (enabled && !m->creds_set) {
		char qa[SSO_QUOTED_MAX], qp[SSO_QUOTED_MAX];

		sso_mapping_free(m);
		sso_shell_quote(x->object, qa, sizeof(qa));
		sso_shell_quote(p, qp, sizeof(qp));
		return sv_fail(x->msg, SV_ERR_CONFLICT,
		    "the credentials of %s in '%s' were never set: 'ssovault creds set %s --user %s' sets and enables them",
		    p, x->object, qa, qp);
	}
	if (enabled) {
		m->off = OFF_NONE;
		m->off_uid = SSO_MAPPING_OFF_UID_NONE;
	} else if (admin || !sso_mapping_admin_off(m)) {
		/* a user's disable never turns an admin's into one the user may undo */
		m->off = admin ? OFF_ADMIN : OFF_USER;
		m->off_uid = (uint32_t)x->caller->uid;
	}
	m->enabled = enabled;
	r = sso_mapping_put(x, x->app, m, 0);
	sso_mapping_free(m);
	return r;
}

int
sso_h_mapping_enable(struct sso_ctx *x, struct svbuf *req)
{
	return mapping_set_enabled(x, req, 1);
}

int
sso_h_mapping_disable(struct sso_ctx *x, struct svbuf *req)
{
	return mapping_set_enabled(x, req, 0);
}

int
sso_h_mapping_delete(struct sso_ctx *x, struct svbuf *req)
{
	char appkey[SSO_APP_KEY_MAX + 1], p[SSO_PRINCIPAL_MAX];
	uint8_t k[MAPPING_KEY_MAX];
	struct sso_mapping *m = NULL;
	size_t kl;
	int r;

	if ((r = req_principal(x, req, p)) != 0)
		return r;
	if ((r = sso_mapping_get(x, x->app, p, &m)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			return sv_fail(x->msg, r, "no mapping for %s in '%s'", p, x->object);
		return r;
	}
	r = m->enabled;
	snprintf(p, sizeof(p), "%s", m->principal);	/* as stored: uid:N or user:NAME */
	sso_mapping_free(m);
	if (r)
		return sv_fail(x->msg, SV_ERR_CONFLICT,
		    "the mapping of %s to '%s' is enabled: disable the mapping first", p, x->object);
	if ((r = sso_app_key_of(x, x->app, appkey)) != 0 ||
	    (r = sso_mapping_key(appkey, p, k, &kl)) != 0)
		return r;
	if ((r = vault_record_del(x->txn, SSO_TABLE_MAPPINGS, k, kl)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return 0;
}

struct list_ctx {
	json_t *arr;
	json_t *app;
	int all;		/* the caller may see every mapping of the app */
	char user[SSO_PRINCIPAL_MAX];	/* only this principal's, or "" */
};

static int
list_mapping(struct sso_ctx *x, void *ctx, struct vault_cursor *c, const char *principal,
    const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct list_ctx *l = ctx;
	struct sso_mapping *m = NULL;
	struct svbuf *b = NULL;
	int r;

	if (!l->all && !sso_principal_match(principal, x->caller))
		return 0;
	if (l->user[0] != '\0' && strcmp(principal, l->user) != 0)
		return 0;
	if ((r = vault_cursor_unseal(c, k, kl, v, vl, &b)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	r = mapping_decode(b, &m);
	svbuf_free(b);
	if (r != 0)
		return sv_fail(x->msg, r, "the mapping of %s to '%s' is damaged",
		    principal, sso_app_name(l->app));
	if (json_array_append_new(l->arr, json_pack("{s:s,s:s,s:s,s:b,s:b,s:o,s:o}",
	    "app", sso_app_name(l->app), "principal", m->principal,
	    "external_user", m->external, "enabled", m->enabled,
	    "credentials_set", m->creds_set,
	    "disabled_by", m->enabled || m->off == OFF_NONE ? json_null() :
	    json_string(m->off == OFF_USER ? "user" : m->off == OFF_ADMIN ? "admin" : "unknown"),
	    "disabled_by_uid", m->enabled || m->off_uid == SSO_MAPPING_OFF_UID_NONE ? json_null() :
	    json_integer((json_int_t)m->off_uid))) != 0)
		r = SV_ERR_NOMEM;
	sso_mapping_free(m);
	return r;
}

static int
list_app_mappings(struct sso_ctx *x, json_t *app, void *ctx)
{
	struct list_ctx *l = ctx;

	/* a config store app's records are its settings, not mappings */
	if (!sso_app_visible(x, app) || sso_app_is_config(app))
		return 0;
	l->app = app;
	l->all = (x->is_affiliate_admin || sso_app_is_admin(x, app));
	return sso_mappings_walk(x, app, list_mapping, l);
}

int
sso_h_mapping_list(struct sso_ctx *x, struct svbuf *req)
{
	char name[SSO_PRINCIPAL_MAX], key[SSO_APP_KEY_MAX + 1];
	struct list_ctx l = { NULL, NULL, 0, "" };
	char in[SSO_PRINCIPAL_MAX];
	json_t *app = NULL;
	int r;

	if ((r = sso_req_name(req, name, sizeof(name))) != 0)
		return r == SV_ERR_TRUNCATED ? sv_fail(x->msg, r, "request lacks a valid app name") :
		    sv_fail(x->msg, SV_ERR_INVALID, "invalid name: 1 to %d characters expected",
		    SSO_NAME_MAX);
	/* -listmappings USER: one principal's mappings (optional field) */
	if (svbuf_len(req) > 0) {
		if ((r = sso_req_name(req, in, sizeof(in))) != 0)
			return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
			    "invalid principal: expected user:NAME, group:NAME, uid:N or gid:N");
		if ((r = sso_principal_check(in, l.user, x->msg)) != 0)
			return r;
		snprintf(x->target, sizeof(x->target), "%s", l.user);
	}
	if ((l.arr = json_array()) == NULL)
		return SV_ERR_NOMEM;
	if (name[0] == '\0') {
		r = sso_apps_walk(x, list_app_mappings, &l);
		goto out;
	}
	snprintf(x->object, sizeof(x->object), "%s", name);
	if ((r = sso_app_name_key(name, key, x->msg)) != 0)
		goto out;
	if ((r = sso_json_get(x->txn, SSO_TABLE_APPS, key, &app, x->msg)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			sv_fail(x->msg, r, "no affiliate application '%s'", name);
		goto out;
	}
	snprintf(x->object, sizeof(x->object), "%s", sso_app_name(app));
	if (!sso_app_visible(x, app)) {
		r = sso_deny(x, "an app user or admin of '%s'", sso_app_name(app));
		goto out;
	}
	r = list_app_mappings(x, app, &l);
out:
	json_decref(app);
	if (r != 0) {
		json_decref(l.arr);
		return r;
	}
	return sso_out_json(x, l.arr);
}

