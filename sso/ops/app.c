/*
 * app.c: affiliate applications: the app record's schema (every member
 * checked, defaults filled in, principals made canonical) and the handlers
 * of `app create|list|show|update|enable|disable|delete`.
 *
 * The dispatch (core/dispatch.c) has already checked the operation's role
 * and loaded the app for app-scoped operations (x->app); handlers refine
 * what the table cannot say ("own mapping, or an admin").  An app is
 * sealed JSON (docs/json.md "app"); record layouts: docs/apps.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "apps.h"

/* --- app JSON ----------------------------------------------------------- */

static const char *const create_members[] = {
	"name", "description", "contact", "type", "enabled", "allow_tickets",
	"validate_tickets", "ticket_timeout", "ticket_reuse",
	"allow_local_accounts", "admins", "users", "fields", "tickets_expire",
	"admin_account_same", NULL,
};

static int
member_known(const char *k, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(k, *list) == 0)
			return 1;
	return 0;
}

int
sso_text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	json_t *t;

	if (n > max)
		return 0;
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	/* text is stored and printed as JSON: it must be UTF-8 */
	if ((t = json_string(s)) == NULL)
		return 0;
	json_decref(t);
	return 1;
}

static int
get_text(struct sso_ctx *x, json_t *obj, const char *k, const char *def,
    const char **ret)
{
	json_t *v = json_object_get(obj, k);

	if (v == NULL) {
		*ret = def;
		return 0;
	}
	if (!json_is_string(v) || !sso_text_ok(json_string_value(v), APP_TEXT_MAX))
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "'%s' must be a string of at most %d characters without control characters",
		    k, APP_TEXT_MAX);
	*ret = json_string_value(v);
	return 0;
}

static int
get_bool(struct sso_ctx *x, json_t *obj, const char *k, int def, int *ret)
{
	json_t *v = json_object_get(obj, k);

	if (v == NULL) {
		*ret = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return sv_fail(x->msg, SV_ERR_INVALID, "'%s' must be true or false", k);
	*ret = json_is_true(v);
	return 0;
}

static int
get_timeout(struct sso_ctx *x, json_t *obj, json_int_t def, json_int_t *ret)
{
	json_t *v = json_object_get(obj, "ticket_timeout");

	if (v == NULL) {
		*ret = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > SSO_TICKET_TIMEOUT_MAX)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "'ticket_timeout' must be 0 (the global setting) or 1 to %d minutes",
		    SSO_TICKET_TIMEOUT_MAX);
	*ret = json_integer_value(v);
	return 0;
}

int
sso_json_array_has(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* A JSON array of principals, canonical and without duplicates. */
static int
principals_norm(struct sso_ctx *x, const char *k, json_t *in, json_t **ret)
{
	char p[SSO_PRINCIPAL_MAX], why[SV_MSG_MAX];
	json_t *out, *v;
	size_t i;

	if (!json_is_array(in) || json_array_size(in) > APP_PRINCIPALS_MAX)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "'%s' must be an array of at most %d principals", k, APP_PRINCIPALS_MAX);
	if ((out = json_array()) == NULL)
		return SV_ERR_NOMEM;
	json_array_foreach(in, i, v) {
		if (!json_is_string(v) || sso_principal_check(json_string_value(v), p, why) != 0) {
			json_decref(out);
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "'%s' entry %zu: invalid principal: expected user:NAME, group:NAME, uid:N or gid:N",
			    k, i + 1);
		}
		if (!sso_json_array_has(out, p) && json_array_append_new(out, json_string(p)) != 0) {
			json_decref(out);
			return SV_ERR_NOMEM;
		}
	}
	*ret = out;
	return 0;
}

static int
get_principals(struct sso_ctx *x, json_t *obj, const char *k, json_t **ret)
{
	json_t *v = json_object_get(obj, k);

	if (v == NULL) {
		if ((v = json_array()) == NULL)
			return SV_ERR_NOMEM;
		*ret = v;
		return 0;
	}
	return principals_norm(x, k, v, ret);
}

/* Labels are what users type (--field, JSON keys): printable, 1..64. */
static int
label_ok(const char *s)
{
	return *s != '\0' && sso_text_ok(s, APP_LABEL_MAX);
}

static int
get_fields(struct sso_ctx *x, json_t *obj, int config, json_t **ret)
{
	json_t *in = json_object_get(obj, "fields"), *out = NULL, *f, *m, *l, *v;
	const char *k;
	size_t i, j;
	int masked;

	if (in == NULL && config)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "a config store app needs its settings: give them with --field LABEL[:masked]");
	if (in == NULL) {
		/* no fields given: a user name and a masked password */
		if ((out = json_pack("[{s:s,s:b},{s:s,s:b}]", "label", "username", "masked", 0,
		    "label", "password", "masked", 1)) == NULL)
			return SV_ERR_NOMEM;
		*ret = out;
		return 0;
	}
	if (!json_is_array(in) || json_array_size(in) < 1 ||
	    json_array_size(in) > APP_FIELDS_MAX)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "'fields' must be an array of 1 to %d fields", APP_FIELDS_MAX);
	if ((out = json_array()) == NULL)
		return SV_ERR_NOMEM;
	json_array_foreach(in, i, f) {
		if (!json_is_object(f)) {
			json_decref(out);
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "field %zu must be an object {\"label\": ..., \"masked\": ...}", i);
		}
		json_object_foreach(f, k, v) {
			if (strcmp(k, "label") != 0 && strcmp(k, "masked") != 0) {
				json_decref(out);
				return sv_fail(x->msg, SV_ERR_INVALID,
				    "unknown member '%.64s' in field %zu", k, i);
			}
		}
		l = json_object_get(f, "label");
		if (!json_is_string(l) || !label_ok(json_string_value(l))) {
			json_decref(out);
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "field %zu: a label of 1 to %d characters without control characters is required",
			    i, APP_LABEL_MAX);
		}
		m = json_object_get(f, "masked");
		if (m != NULL && !json_is_boolean(m)) {
			json_decref(out);
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "field %zu: 'masked' must be true or false", i);
		}
		masked = m != NULL && json_is_true(m);
		if (i == 0 && masked && !config) {
			json_decref(out);
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "field 0 ('%s') is the external user id and cannot be masked",
			    json_string_value(l));
		}
		json_array_foreach(out, j, v) {
			if (strcasecmp(json_string_value(json_object_get(v, "label")),
			    json_string_value(l)) == 0) {
				json_decref(out);
				return sv_fail(x->msg, SV_ERR_INVALID,
				    "field label '%s' is given twice (labels ignore case)",
				    json_string_value(l));
			}
		}
		if (json_array_append_new(out, json_pack("{s:s,s:b}", "label",
		    json_string_value(l), "masked", masked)) != 0) {
			json_decref(out);
			return SV_ERR_NOMEM;
		}
	}
	*ret = out;
	return 0;
}

int
sso_app_flag(json_t *app, const char *name)
{
	return json_is_true(json_object_get(app, name));
}

int
sso_app_is_config(json_t *app)
{
	const char *t = json_string_value(json_object_get(app, "type"));

	return t != NULL && strcmp(t, "config") == 0;
}

int
sso_app_not_config(struct sso_ctx *x, json_t *app)
{
	char q[SSO_QUOTED_MAX];

	if (!sso_app_is_config(app))
		return 0;
	sso_shell_quote(sso_app_name(app), q, sizeof(q));
	return sv_fail(x->msg, SV_ERR_INVALID,
	    "'%s' is a config store app: it has settings, not mappings "
	    "('ssovault config get %s' reads them)", sso_app_name(app), q);
}

int
sso_app_flag_on(json_t *app, const char *name)
{
	return !json_is_false(json_object_get(app, name));
}

int
sso_app_is_group(json_t *app)
{
	const char *t = json_string_value(json_object_get(app, "type"));

	return t != NULL && strcmp(t, "group") == 0;
}

const char *
sso_app_name(json_t *app)
{
	const char *n = json_string_value(json_object_get(app, "name"));

	return n != NULL ? n : "";
}



/*
 * Make the stored app from a create request's definition (or an imported
 * <application>): every member checked, defaults filled in, principals
 * made canonical.  Ticket flags other than their defaults need a vault admin.
 */
static int
app_build(struct sso_ctx *x, json_t *spec, json_t **ret)
{
	json_t *admins = NULL, *users = NULL, *fields = NULL, *app;
	const char *k, *name, *desc, *contact, *type;
	char key[SSO_APP_KEY_MAX + 1];
	int enabled = 0, allow = 0, validate = 1, reuse = 0, local = 0, expire = 1, same = 0, r;
	json_int_t timeout;
	json_t *v;

	if (!json_is_object(spec))
		return sv_fail(x->msg, SV_ERR_INVALID, "the app definition must be a JSON object");
	json_object_foreach(spec, k, v) {
		if (!member_known(k, create_members))
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "unknown member '%.64s' in the app definition", k);
	}
	if (!json_is_string(json_object_get(spec, "name")))
		return sv_fail(x->msg, SV_ERR_INVALID, "the app definition needs a 'name'");
	name = json_string_value(json_object_get(spec, "name"));
	if ((r = sso_app_name_key(name, key, x->msg)) != 0)
		return r;
	snprintf(x->object, sizeof(x->object), "%s", name);
	if ((r = get_text(x, spec, "description", "", &desc)) != 0 ||
	    (r = get_text(x, spec, "contact", "", &contact)) != 0 ||
	    (r = get_text(x, spec, "type", "individual", &type)) != 0 ||
	    (r = get_bool(x, spec, "enabled", 0, &enabled)) != 0 ||
	    (r = get_bool(x, spec, "allow_tickets", 0, &allow)) != 0 ||
	    (r = get_bool(x, spec, "validate_tickets", 1, &validate)) != 0 ||
	    (r = get_bool(x, spec, "tickets_expire", 1, &expire)) != 0 ||
	    (r = get_bool(x, spec, "admin_account_same", 0, &same)) != 0 ||
	    (r = get_timeout(x, spec, 0, &timeout)) != 0 ||
	    (r = get_bool(x, spec, "ticket_reuse", 0, &reuse)) != 0 ||
	    (r = get_bool(x, spec, "allow_local_accounts", 0, &local)) != 0)
		return r;
	if (strcmp(type, "individual") != 0 && strcmp(type, "group") != 0 &&
	    strcmp(type, "config") != 0)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "'type' must be \"individual\", \"group\" or \"config\"");
	/* ENTSSO's defaults: tickets off, validated if on, expiring */
	if ((allow || !validate || reuse || timeout != 0 || !expire) && !x->is_vault_admin)
		return sso_deny(x, "a vault admin: only vault admins set ticket flags "
		    "other than the defaults (no tickets, validated, expiring)");
	if ((r = get_principals(x, spec, "admins", &admins)) != 0 ||
	    (r = get_principals(x, spec, "users", &users)) != 0 ||
	    (r = get_fields(x, spec, strcmp(type, "config") == 0, &fields)) != 0)
		goto out;
	if (same && json_array_size(admins) > 0) {
		r = sv_fail(x->msg, SV_ERR_INVALID,
		    "'admin_account_same': the app's admins are the affiliate admins; give no admins");
		goto out;
	}
	app = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:I,s:b,s:b,s:b,s:b,s:O,s:O,s:O,s:I,s:I}",
	    "name", name, "description", desc, "contact", contact, "type", type,
	    "enabled", enabled, "allow_tickets", allow, "validate_tickets", validate,
	    "ticket_timeout", timeout, "ticket_reuse", reuse, "tickets_expire", expire,
	    "admin_account_same", same,
	    "allow_local_accounts", local, "admins", admins, "users", users,
	    "fields", fields, "created", (json_int_t)x->now, "updated", (json_int_t)x->now);
	if (app == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	*ret = app;
out:
	json_decref(admins);
	json_decref(users);
	json_decref(fields);
	return r;
}

int
sso_app_store(struct sso_ctx *x, json_t *app, unsigned flags)
{
	char key[SSO_APP_KEY_MAX + 1];
	int r;

	if ((r = sso_app_name_key(sso_app_name(app), key, x->msg)) != 0)
		return r;
	r = sso_json_put(x->txn, SSO_TABLE_APPS, key, app, flags);
	if (r == SV_ERR_EXISTS)
		return sv_fail(x->msg, r, "an application named '%s' already exists (names ignore case)",
		    sso_app_name(app));
	if (r != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return 0;
}

/* Create from a definition: the create request and each imported app. */
int
sso_app_create(struct sso_ctx *x, json_t *spec)
{
	json_t *app = NULL;
	int r;

	if ((r = app_build(x, spec, &app)) != 0)
		return r;
	r = sso_app_store(x, app, VAULT_PUT_NOOVERWRITE);
	json_decref(app);
	return r;
}

int
sso_h_app_create(struct sso_ctx *x, struct svbuf *req)
{
	const uint8_t *p;
	json_error_t e;
	json_t *spec;
	size_t n;
	int r;

	if ((r = svbuf_get_string_direct(req, &p, &n)) != 0)
		return r;
	if ((spec = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "the app definition is not valid JSON: %s (line %d)", e.text, e.line);
	r = sso_app_create(x, spec);
	json_decref(spec);
	return r;
}

/* --- app list, show, update, enable, disable ------------------------------- */

/* Whether the caller may see app in a listing: any role on it. */
int
sso_app_visible(struct sso_ctx *x, json_t *app)
{
	return (x->is_affiliate_admin || sso_app_is_admin(x, app)) || sso_app_is_user(x, app);
}

/* Call fn for every app, in key order; fn returns 0 to go on, < 0 to stop. */
int
sso_apps_walk(struct sso_ctx *x, int (*fn)(struct sso_ctx *, json_t *, void *), void *ctx)
{
	struct vault_cursor *c = NULL;
	const uint8_t *k, *v;
	struct svbuf *b = NULL;
	size_t kl, vl;
	json_t *app;
	int r;

	if ((r = vault_cursor_open(x->txn, SSO_TABLE_APPS, &c)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	for (r = vault_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	    r = vault_cursor_next(c, &k, &kl, &v, &vl)) {
		if ((r = vault_cursor_unseal(c, k, kl, v, vl, &b)) != 0) {
			sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
			break;
		}
		app = json_loadb((const char *)svbuf_ptr(b), svbuf_len(b), 0, NULL);
		svbuf_free(b);
		b = NULL;
		if (app == NULL) {
			r = sv_fail(x->msg, SV_ERR_INTEGRITY, "an app record does not hold valid JSON");
			break;
		}
		r = fn(x, app, ctx);
		json_decref(app);
		if (r != 0)
			break;
	}
	vault_cursor_close(c);
	if (r < 0 && x->msg[0] == '\0')
		sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return r < 0 ? r : 0;
}

static int
list_one(struct sso_ctx *x, json_t *app, void *ctx)
{
	if (!sso_app_visible(x, app))
		return 0;
	return json_array_append(ctx, app) == 0 ? 0 : SV_ERR_NOMEM;
}

int
sso_h_app_list(struct sso_ctx *x, struct svbuf *req)
{
	json_t *arr = json_array();
	int r;

	if (arr == NULL)
		return SV_ERR_NOMEM;
	if ((r = sso_apps_walk(x, list_one, arr)) != 0) {
		json_decref(arr);
		return r;
	}
	return sso_out_json(x, arr);
}

int
sso_h_app_show(struct sso_ctx *x, struct svbuf *req)
{
	return sso_out_json(x, json_incref(x->app));
}

/* Apply a principals change: replace (k), add_k or remove_k. */
static int
update_principals(struct sso_ctx *x, json_t *app, json_t *changes, const char *k)
{
	char add[32], rem[32];
	json_t *cur = json_object_get(app, k), *in, *v, *keep;
	size_t i;
	int r;

	snprintf(add, sizeof(add), "add_%s", k);
	snprintf(rem, sizeof(rem), "remove_%s", k);
	if ((in = json_object_get(changes, k)) != NULL) {
		if ((r = principals_norm(x, k, in, &v)) != 0)
			return r;
		json_object_set_new(app, k, v);
		cur = v;
	}
	if ((in = json_object_get(changes, add)) != NULL) {
		if ((r = principals_norm(x, add, in, &v)) != 0)
			return r;
		json_array_foreach(v, i, keep) {
			if (!sso_json_array_has(cur, json_string_value(keep)))
				json_array_append(cur, keep);
		}
		json_decref(v);
		if (json_array_size(cur) > APP_PRINCIPALS_MAX)
			return sv_fail(x->msg, SV_ERR_INVALID, "at most %d %s",
			    APP_PRINCIPALS_MAX, k);
	}
	if ((in = json_object_get(changes, rem)) != NULL) {
		if ((r = principals_norm(x, rem, in, &v)) != 0)
			return r;
		if ((keep = json_array()) == NULL) {
			json_decref(v);
			return SV_ERR_NOMEM;
		}
		json_array_foreach(cur, i, in) {
			if (!sso_json_array_has(v, json_string_value(in)))
				json_array_append(keep, in);
		}
		json_decref(v);
		json_object_set_new(app, k, keep);
	}
	return 0;
}

static const char *const update_members[] = {
	"description", "contact", "enabled", "allow_local_accounts",
	"admins", "add_admins", "remove_admins",
	"users", "add_users", "remove_users",
	"allow_tickets", "validate_tickets", "ticket_timeout", "ticket_reuse",
	"tickets_expire", NULL,
};
static const char *const user_list_members[] = {
	"users", "add_users", "remove_users", NULL,
};
static const char *const ticket_members[] = {
	"allow_tickets", "validate_tickets", "ticket_timeout", "ticket_reuse",
	"tickets_expire", NULL,
};
static const char *const fixed_members[] = {
	"name", "type", "fields", "created", "updated", "admin_account_same", NULL,
};
static const char *const bool_members[] = {
	"enabled", "allow_local_accounts", "allow_tickets", "validate_tickets",
	"ticket_reuse", "tickets_expire", NULL,
};

/* A member's value, with the default of members older records lack. */
static json_t *
member_value(json_t *app, const char *k)
{
	json_t *v = json_object_get(app, k);

	/* jansson's true is a singleton: nothing to release */
	return v == NULL && strcmp(k, "tickets_expire") == 0 ? json_true() : v;
}

int
sso_app_apply(struct sso_ctx *x, json_t *app, json_t *changes)
{
	const char *const *bk;
	const char *k, *s;
	json_int_t t;
	json_t *v;
	int b = 0, r;

	json_object_foreach(changes, k, v) {
		if (member_known(k, fixed_members))
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "'%s' cannot be changed after the app is created", k);
		if (!member_known(k, update_members))
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "unknown member '%.64s' in the app changes", k);
		if (member_known(k, user_list_members))
			continue;
		if (!x->is_affiliate_admin)
			return sso_deny(x,
			    "an affiliate admin: an app admin may change only the user list of '%s'",
			    sso_app_name(app));
		if (member_known(k, ticket_members) && !x->is_vault_admin &&
		    !json_equal(v, member_value(app, k)))
			return sso_deny(x, "a vault admin: only vault admins set ticket flags");
		if (sso_app_flag(app, "admin_account_same") && (strcmp(k, "admins") == 0 ||
		    strcmp(k, "add_admins") == 0 || strcmp(k, "remove_admins") == 0))
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "the admins of '%s' are the affiliate admins (adminAccountSame): "
			    "its admin list cannot be set", sso_app_name(app));
	}
	if ((r = get_text(x, changes, "description",
	    json_string_value(json_object_get(app, "description")), &s)) != 0)
		return r;
	json_object_set_new(app, "description", json_string(s));
	if ((r = get_text(x, changes, "contact",
	    json_string_value(json_object_get(app, "contact")), &s)) != 0)
		return r;
	json_object_set_new(app, "contact", json_string(s));
	for (bk = bool_members; *bk != NULL; bk++) {
		if ((r = get_bool(x, changes, *bk, json_is_true(member_value(app, *bk)), &b)) != 0)
			return r;
		json_object_set_new(app, *bk, json_boolean(b));
	}
	if ((r = get_timeout(x, changes,
	    json_integer_value(json_object_get(app, "ticket_timeout")), &t)) != 0)
		return r;
	json_object_set_new(app, "ticket_timeout", json_integer(t));
	if ((r = update_principals(x, app, changes, "admins")) != 0 ||
	    (r = update_principals(x, app, changes, "users")) != 0)
		return r;
	json_object_set_new(app, "updated", json_integer((json_int_t)x->now));
	return 0;
}

int
sso_h_app_update(struct sso_ctx *x, struct svbuf *req)
{
	const uint8_t *p;
	json_error_t e;
	json_t *changes, *app;
	size_t n;
	int r;

	if ((r = svbuf_get_string_direct(req, &p, &n)) != 0)
		return r;
	if ((changes = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "the app changes are not valid JSON: %s (line %d)", e.text, e.line);
	if (!json_is_object(changes) || json_object_size(changes) == 0) {
		json_decref(changes);
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "nothing to change: give a JSON object of the members to change");
	}
	/* work on a copy: a refused change leaves the loaded app as it was */
	if ((app = json_deep_copy(x->app)) == NULL) {
		json_decref(changes);
		return SV_ERR_NOMEM;
	}
	if ((r = sso_app_apply(x, app, changes)) == 0)
		r = sso_app_store(x, app, 0);
	json_decref(changes);
	json_decref(app);
	return r;
}

/*
 * The object app of an operation whose role check did not load it
 * (enable, disable and delete need an affiliate admin, not an app role).
 */
static int
app_load(struct sso_ctx *x)
{
	char key[SSO_APP_KEY_MAX + 1];
	int r;

	if (x->app != NULL)
		return 0;
	if ((r = sso_app_name_key(x->object, key, x->msg)) != 0)
		return r;
	if ((r = sso_json_get(x->txn, SSO_TABLE_APPS, key, &x->app, x->msg)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			return sv_fail(x->msg, r, "no affiliate application '%s'", x->object);
		return r;
	}
	snprintf(x->object, sizeof(x->object), "%s", sso_app_name(x->app));
	return 0;
}

static int
app_set_enabled(struct sso_ctx *x, int enabled)
{
	int r;

	if ((r = app_load(x)) != 0)
		return r;
	json_object_set_new(x->app, "enabled", json_boolean(enabled));
	json_object_set_new(x->app, "updated", json_integer((json_int_t)x->now));
	return sso_app_store(x, x->app, 0);
}

int
sso_h_app_enable(struct sso_ctx *x, struct svbuf *req)
{
	return app_set_enabled(x, 1);
}

int
sso_h_app_disable(struct sso_ctx *x, struct svbuf *req)
{
	return app_set_enabled(x, 0);
}

/* --- app delete -------------------------------------------------------- */

static int
delete_mapping(struct sso_ctx *x, void *ctx, struct vault_cursor *c, const char *principal,
    const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	size_t *count = ctx;
	int r;

	if ((r = vault_cursor_del(c)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	(*count)++;
	return 0;
}

int
sso_h_app_delete(struct sso_ctx *x, struct svbuf *req)
{
	char key[SSO_APP_KEY_MAX + 1];
	size_t count = 0;
	int r;

	if ((r = app_load(x)) != 0 ||
	    (r = sso_mappings_walk(x, x->app, delete_mapping, &count)) != 0 ||
	    (r = sso_app_key_of(x, x->app, key)) != 0)
		return r;
	if ((r = vault_record_del(x->txn, SSO_TABLE_APPS, key, strlen(key))) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return 0;
}

