/*
 * creds.c: credentials: a caller's own mapping, `creds get` and `creds
 * set`.  Values leave here only in the reply buffer, itself secure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "apps.h"

/* --- credentials ------------------------------------------------------- */

struct own_ctx {
	const struct sso_caller *who;
	char principal[SSO_PRINCIPAL_MAX];
	int found;
};

static int
own_group_mapping(struct sso_ctx *x, void *ctx, struct vault_cursor *c, const char *principal,
    const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct own_ctx *o = ctx;

	if (sso_principal_is_user(principal) || !sso_principal_match(principal, o->who))
		return 0;
	snprintf(o->principal, sizeof(o->principal), "%s", principal);
	o->found = 1;
	return 1;
}

/*
 * The caller's mapping under principal, decoded: read once, here, for the
 * reply too.  0 and *ret_m, SV_ERR_NOT_FOUND, or another error.
 */
static int
mapping_read(struct sso_ctx *x, json_t *app, const char *principal, struct sso_mapping **ret_m)
{
	char m[SV_MSG_MAX];
	int r;

	memcpy(m, x->msg, sizeof(m));
	r = sso_mapping_get(x, app, principal, ret_m);
	/* not found: the caller tries another principal and says it itself */
	if (r == SV_ERR_NOT_FOUND)
		memcpy(x->msg, m, sizeof(m));
	return r;
}

int
sso_mapping_own(struct sso_ctx *x, json_t *app, const struct sso_caller *who,
    char ret_principal[SSO_PRINCIPAL_MAX], struct sso_mapping **ret_m)
{
	struct own_ctx o;
	struct sso_mapping *m = NULL;
	char named[SSO_PRINCIPAL_MAX], uid[SSO_PRINCIPAL_MAX];
	int r;

	memset(&o, 0, sizeof(o));
	o.who = who;
	if (ret_m != NULL)
		*ret_m = NULL;
	sso_principal_of(who, named);
	if (sso_app_is_group(app)) {
		if ((r = sso_mappings_walk(x, app, own_group_mapping, &o)) != 0)
			return r;
		if (!o.found)
			return sv_fail(x->msg, SV_ERR_NOT_FOUND,
			    "no mapping in group app '%s' for a group of %s", sso_app_name(app), named);
		snprintf(ret_principal, SSO_PRINCIPAL_MAX, "%s", o.principal);
		return 0;
	}
	snprintf(uid, sizeof(uid), "uid:%lu", (unsigned long)who->uid);
	/* either spelling finds the mapping stored under the other; the stored one is the principal */
	if ((r = mapping_read(x, app, named, &m)) == 0 ||
	    (r == SV_ERR_NOT_FOUND && (r = mapping_read(x, app, uid, &m)) == 0)) {
		snprintf(ret_principal, SSO_PRINCIPAL_MAX, "%s", m->principal);
	} else if (r == SV_ERR_NOT_FOUND) {
		return sv_fail(x->msg, SV_ERR_NOT_FOUND, "no mapping for %s in '%s'", named,
		    sso_app_name(app));
	}
	if (r != 0)
		return r;
	if (ret_m != NULL)
		*ret_m = m;
	else
		sso_mapping_free(m);
	return 0;
}

int
sso_creds_reply(struct sso_ctx *x, json_t *app, const char *principal, struct sso_mapping *m)
{
	json_t *fields = json_object_get(app, "fields");
	char qa[SSO_QUOTED_MAX], qp[SSO_QUOTED_MAX];
	int r;

	snprintf(x->target, sizeof(x->target), "%s", principal);
	sso_shell_quote(sso_app_name(app), qa, sizeof(qa));
	sso_shell_quote(principal, qp, sizeof(qp));
	if ((r = sso_app_not_config(x, app)) != 0) {
		sso_mapping_free(m);
		return r;
	}
	if (!sso_app_flag(app, "enabled")) {
		sso_mapping_free(m);
		return sv_fail(x->msg, SV_ERR_DISABLED,
		    "application '%s' is disabled: an affiliate admin can enable it with 'ssovault app enable %s'",
		    sso_app_name(app), qa);
	}
	if (m == NULL && (r = sso_mapping_get(x, app, principal, &m)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			return sv_fail(x->msg, r, "no mapping for %s in '%s'", principal, sso_app_name(app));
		return r;
	}
	if (!m->creds_set) {
		r = sv_fail(x->msg, SV_ERR_NOT_FOUND,
		    "no credentials are set for %s in '%s': set them with 'ssovault creds set %s --user %s'",
		    principal, sso_app_name(app), qa, qp);
		goto out;
	}
	if (!m->enabled) {
		r = sv_fail(x->msg, SV_ERR_DISABLED, "the mapping of %s to '%s' is disabled",
		    principal, sso_app_name(app));
		goto out;
	}
	if (json_array_size(fields) != (size_t)m->n + 1) {
		r = sv_fail(x->msg, SV_ERR_INTEGRITY,
		    "the mapping of %s to '%s' does not match the app's fields", principal,
		    sso_app_name(app));
		goto out;
	}
	r = sso_values_reply(x, app, m, 0);
out:
	sso_mapping_free(m);
	return r;
}

int
sso_values_reply(struct sso_ctx *x, json_t *app, const struct sso_mapping *m, int config)
{
	json_t *fields = json_object_get(app, "fields"), *f;
	size_t i;
	int r;

	/* a config store app's record keeps its identifier where a mapping has the user id */
	if ((r = svbuf_put_cstring(x->out, sso_app_name(app))) != 0 ||
	    (r = svbuf_put_cstring(x->out, config ? m->external : m->principal)) != 0 ||
	    (r = svbuf_put_cstring(x->out, config ? "" : m->external)) != 0 ||
	    (r = svbuf_put_u32(x->out, (uint32_t)json_array_size(fields))) != 0)
		goto out;
	json_array_foreach(fields, i, f) {
		if ((r = svbuf_put_cstring(x->out,
		    json_string_value(json_object_get(f, "label")))) != 0 ||
		    (r = svbuf_put_u8(x->out, sso_app_flag(f, "masked") ? 1 : 0)) != 0 ||
		    (r = svbuf_put_cstring(x->out, config ? m->values[i] :
		    i == 0 ? m->external : m->values[i - 1])) != 0)
			goto out;
	}
out:
	if (r != 0)
		svbuf_reset(x->out);
	return r;
}

/*
 * The mapping a creds request is about: the caller's own (user "") or the
 * named one.  ret_own is set when it is the caller's (a user principal that
 * is the caller, or for a group app, a group the caller is in).
 */
static int
creds_principal(struct sso_ctx *x, struct svbuf *req, char ret_principal[SSO_PRINCIPAL_MAX],
    int *ret_own, struct sso_mapping **ret_m)
{
	char in[SSO_PRINCIPAL_MAX], p[SSO_PRINCIPAL_MAX];
	int own, r;

	if ((r = sso_app_not_config(x, x->app)) != 0)
		return r;
	if ((r = sso_req_name(req, in, sizeof(in))) != 0)
		return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    r == SV_ERR_TRUNCATED ? "request lacks a valid user" :
		    "invalid principal: expected user:NAME, group:NAME, uid:N or gid:N");
	if (in[0] == '\0') {
		own = 1;
		r = sso_mapping_own(x, x->app, x->caller, p, ret_m);
	} else if ((r = sso_principal_check(in, p, x->msg)) == 0) {
		own = sso_principal_match(p, x->caller);
	}
	if (r != 0) {
		/* the audit record still says whose credentials were asked for */
		if (in[0] == '\0')
			sso_principal_of(x->caller, x->target);
		return r;
	}
	snprintf(x->target, sizeof(x->target), "%s", p);
	snprintf(ret_principal, SSO_PRINCIPAL_MAX, "%s", p);
	*ret_own = own;
	return 0;
}

int
sso_h_creds_get(struct sso_ctx *x, struct svbuf *req)
{
	char p[SSO_PRINCIPAL_MAX];
	struct sso_mapping *m = NULL;
	int own = 0, r;

	/* the caller's own mapping comes back read: it is not read again */
	if ((r = creds_principal(x, req, p, &own, &m)) != 0)
		return r;
	if (!own && !(x->is_affiliate_admin || sso_app_is_admin(x, x->app))) {
		sso_mapping_free(m);
		return sso_deny(x, "an app admin of '%s': only admins read another user's credentials",
		    x->object);
	}
	return sso_creds_reply(x, x->app, p, m);
}

/* The field index of label (case-insensitive), or -1. */
static int
field_index(json_t *app, const char *label)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(app, "fields"), i, f)
		if (strcasecmp(json_string_value(json_object_get(f, "label")), label) == 0)
			return (int)i;
	return -1;
}

int
sso_h_creds_set(struct sso_ctx *x, struct svbuf *req)
{
	char p[SSO_PRINCIPAL_MAX];
	struct sso_mapping *m = NULL;
	int own = 0, r;

	if ((r = creds_principal(x, req, p, &own, NULL)) != 0)
		return r;
	/* users set their own; a group's credentials are its admins' */
	if (!(x->is_affiliate_admin || sso_app_is_admin(x, x->app)) && !(own && sso_principal_is_user(p)))
		return sso_deny(x, "an app admin of '%s': app users may set only their own credentials",
		    x->object);
	if ((r = sso_mapping_get(x, x->app, p, &m)) != 0) {
		char qa[SSO_QUOTED_MAX], qp[SSO_QUOTED_MAX];

		sso_shell_quote(x->object, qa, sizeof(qa));
		sso_shell_quote(p, qp, sizeof(qp));
		if (r == SV_ERR_NOT_FOUND)
			return sv_fail(x->msg, r,
			    "no mapping for %s in '%s': an app admin can create one with 'ssovault mapping create %s %s EXTERNAL_USER'",
			    p, x->object, qa, qp);
		return r;
	}
	/* setting credentials enables the mapping: not one an admin turned off */
	if (!(x->is_affiliate_admin || sso_app_is_admin(x, x->app)) && sso_mapping_admin_off(m)) {
		r = sso_mapping_admin_off_deny(x, m, "set its credentials");
		goto out;
	}
	if ((r = sso_values_take(x, req, m, 0)) != 0)
		goto out;
	m->creds_set = 1;
	m->enabled = 1;
	m->off = OFF_NONE;
	m->off_uid = SSO_MAPPING_OFF_UID_NONE;
	r = sso_mapping_put(x, x->app, m, 0);
out:
	sso_mapping_free(m);
	return r;
}

int
sso_values_take(struct sso_ctx *x, struct svbuf *req, struct sso_mapping *m, int config)
{
	char label[APP_LABEL_MAX + 2];
	uint8_t seen[APP_FIELDS_MAX];
	const uint8_t *v;
	size_t vl;
	uint32_t n, i;
	char *val;
	int idx, r;

	if ((r = svbuf_get_u32(req, &n)) != 0)
		return r;
	if (n == 0 || n > APP_FIELDS_MAX)
		return sv_fail(x->msg, SV_ERR_INVALID, "give 1 to %d field values", APP_FIELDS_MAX);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		if ((r = sso_req_name(req, label, sizeof(label))) != 0)
			return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
			    "request has an invalid field label");
		if ((r = svbuf_get_string_direct(req, &v, &vl)) != 0)
			return r;
		if ((idx = field_index(x->app, label)) < 0)
			return sv_fail(x->msg, SV_ERR_INVALID, "no field '%s' in '%s'", label, x->object);
		if (seen[idx]++)
			return sv_fail(x->msg, SV_ERR_INVALID, "field '%s' is given twice", label);
		if (vl > VALUE_MAX || memchr(v, '\0', vl) != NULL)
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "the value of field '%s' must be at most %d bytes, without NUL bytes",
			    label, VALUE_MAX);
		if ((val = sodium_malloc(vl + 1)) == NULL)
			return SV_ERR_NOMEM;
		memcpy(val, v, vl);
		val[vl] = '\0';
		if (config && (uint32_t)idx < m->n) {
			sso_mapping_str_free(m, m->values[idx]);
			m->values[idx] = val;
		} else if (config) {
			sodium_free(val);
			return sv_fail(x->msg, SV_ERR_INTEGRITY,
			    "the settings of '%s' do not match the app's fields", x->object);
		} else if (idx == 0) {
			if ((r = sso_mapping_external_ok(x, val)) != 0) {
				sodium_free(val);
				return r;
			}
			sso_mapping_str_free(m, m->external);
			m->external = val;
		} else if ((uint32_t)idx <= m->n) {
			sso_mapping_str_free(m, m->values[idx - 1]);
			m->values[idx - 1] = val;
		} else {
			sodium_free(val);
			return sv_fail(x->msg, SV_ERR_INTEGRITY,
			    "the mapping of %s to '%s' does not match the app's fields",
			    m->principal, x->object);
		}
	}
	return 0;
}

