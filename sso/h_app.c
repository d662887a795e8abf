/*
 * Affiliate applications, their mappings and credentials, and the import of
 * ENTSSO XML files: the handlers behind `app`, `mapping` and `creds`.
 *
 * The dispatch (service.c) has already checked the operation's role and
 * loaded the app for app-scoped operations (x->app); handlers refine what
 * the table cannot say ("own mapping, or an admin").  An app is sealed JSON;
 * a mapping is sealed binary (apps.h) because it holds the credential
 * values, which are decoded into secure memory only and leave here only in
 * the reply buffer, itself secure.  Record layouts: docs/apps.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "apps.h"

#define APP_FIELDS_MAX 64
#define APP_LABEL_MAX 64
#define APP_TEXT_MAX 1024
#define APP_PRINCIPALS_MAX 256
#define EXTERNAL_USER_MAX 256
#define VALUE_MAX 8192
#define MAPPING_VERSION 2		/* 1: without who disabled it; still read */
#define MAPPING_KEY_MAX (SSO_NAME_MAX + 1 + SSO_PRINCIPAL_MAX)
#define IMPORT_MAX (4u * 1024u * 1024u)

/* --- app JSON ----------------------------------------------------------- */

static const char *const create_members[] = {
	"name", "description", "contact", "type", "enabled", "allow_tickets",
	"validate_tickets", "ticket_timeout", "ticket_reuse",
	"allow_local_accounts", "admins", "users", "fields", NULL,
};

static int
member_known(const char *k, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(k, *list) == 0)
			return 1;
	return 0;
}

static int
text_ok(const char *s, size_t max)
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
	if (!json_is_string(v) || !text_ok(json_string_value(v), APP_TEXT_MAX))
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

static int
array_has(json_t *arr, const char *s)
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
		if (!array_has(out, p) && json_array_append_new(out, json_string(p)) != 0) {
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
	return *s != '\0' && text_ok(s, APP_LABEL_MAX);
}

static int
get_fields(struct sso_ctx *x, json_t *obj, json_t **ret)
{
	json_t *in = json_object_get(obj, "fields"), *out = NULL, *f, *m, *l, *v;
	const char *k;
	size_t i, j;
	int masked;

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
		if (i == 0 && masked) {
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

static int
app_is_group(json_t *app)
{
	const char *t = json_string_value(json_object_get(app, "type"));

	return t != NULL && strcmp(t, "group") == 0;
}

static const char *
app_name(json_t *app)
{
	const char *n = json_string_value(json_object_get(app, "name"));

	return n != NULL ? n : "";
}

static int
caller_is_app_admin(struct sso_ctx *x, json_t *app)
{
	return x->is_affiliate_admin ||
	    sso_principal_match_any(json_object_get(app, "admins"), x->caller);
}

static int
caller_is_app_user(struct sso_ctx *x, json_t *app)
{
	return sso_principal_match_any(json_object_get(app, "users"), x->caller);
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
	char key[SSO_NAME_MAX + 1];
	int enabled = 0, allow = 0, validate = 0, reuse = 0, local = 0, r;
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
	if ((r = sso_app_key(name, key, x->msg)) != 0)
		return r;
	snprintf(x->object, sizeof(x->object), "%s", name);
	if ((r = get_text(x, spec, "description", "", &desc)) != 0 ||
	    (r = get_text(x, spec, "contact", "", &contact)) != 0 ||
	    (r = get_text(x, spec, "type", "individual", &type)) != 0 ||
	    (r = get_bool(x, spec, "enabled", 0, &enabled)) != 0 ||
	    (r = get_bool(x, spec, "allow_tickets", 0, &allow)) != 0 ||
	    (r = get_bool(x, spec, "validate_tickets", 0, &validate)) != 0 ||
	    (r = get_timeout(x, spec, 0, &timeout)) != 0 ||
	    (r = get_bool(x, spec, "ticket_reuse", 0, &reuse)) != 0 ||
	    (r = get_bool(x, spec, "allow_local_accounts", 0, &local)) != 0)
		return r;
	if (strcmp(type, "individual") != 0 && strcmp(type, "group") != 0)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "'type' must be \"individual\" or \"group\"");
	if ((allow || validate || reuse || timeout != 0) && !x->is_vault_admin)
		return sso_deny(x, "a vault admin: only vault admins set ticket flags");
	if ((r = get_principals(x, spec, "admins", &admins)) != 0 ||
	    (r = get_principals(x, spec, "users", &users)) != 0 ||
	    (r = get_fields(x, spec, &fields)) != 0)
		goto out;
	app = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:I,s:b,s:b,s:O,s:O,s:O,s:I,s:I}",
	    "name", name, "description", desc, "contact", contact, "type", type,
	    "enabled", enabled, "allow_tickets", allow, "validate_tickets", validate,
	    "ticket_timeout", timeout, "ticket_reuse", reuse,
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

static int
app_store(struct sso_ctx *x, json_t *app, unsigned flags)
{
	char key[SSO_NAME_MAX + 1];
	int r;

	if ((r = sso_app_key(app_name(app), key, x->msg)) != 0)
		return r;
	r = sso_json_put(x->txn, VAULT_TABLE_APPS, key, app, flags);
	if (r == SV_ERR_EXISTS)
		return sv_fail(x->msg, r, "an application named '%s' already exists (names ignore case)",
		    app_name(app));
	if (r != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return 0;
}

/* Create from a definition: the create request and each imported app. */
static int
app_create(struct sso_ctx *x, json_t *spec)
{
	json_t *app = NULL;
	int r;

	if ((r = app_build(x, spec, &app)) != 0)
		return r;
	r = app_store(x, app, VAULT_PUT_NOOVERWRITE);
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
	r = app_create(x, spec);
	json_decref(spec);
	return r;
}

/* --- app list, show, update, enable, disable ------------------------------- */

/* Whether the caller may see app in a listing: any role on it. */
static int
app_visible(struct sso_ctx *x, json_t *app)
{
	return caller_is_app_admin(x, app) || caller_is_app_user(x, app);
}

/* Call fn for every app, in key order; fn returns 0 to go on, < 0 to stop. */
static int
apps_walk(struct sso_ctx *x, int (*fn)(struct sso_ctx *, json_t *, void *), void *ctx)
{
	struct vault_cursor *c = NULL;
	const uint8_t *k, *v;
	struct svbuf *b = NULL;
	size_t kl, vl;
	json_t *app;
	int r;

	if ((r = vault_cursor_open(x->txn, VAULT_TABLE_APPS, &c)) != 0)
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
	if (!app_visible(x, app))
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
	if ((r = apps_walk(x, list_one, arr)) != 0) {
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
			if (!array_has(cur, json_string_value(keep)))
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
			if (!array_has(v, json_string_value(in)))
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
	"allow_tickets", "validate_tickets", "ticket_timeout", "ticket_reuse", NULL,
};
static const char *const user_list_members[] = {
	"users", "add_users", "remove_users", NULL,
};
static const char *const ticket_members[] = {
	"allow_tickets", "validate_tickets", "ticket_timeout", "ticket_reuse", NULL,
};
static const char *const fixed_members[] = {
	"name", "type", "fields", "created", "updated", NULL,
};
static const char *const bool_members[] = {
	"enabled", "allow_local_accounts", "allow_tickets", "validate_tickets",
	"ticket_reuse", NULL,
};

/* Apply changes (a JSON object) to app, checking each member's role. */
static int
app_apply(struct sso_ctx *x, json_t *app, json_t *changes)
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
			    app_name(app));
		if (member_known(k, ticket_members) && !x->is_vault_admin &&
		    !json_equal(v, json_object_get(app, k)))
			return sso_deny(x, "a vault admin: only vault admins set ticket flags");
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
		if ((r = get_bool(x, changes, *bk, sso_app_flag(app, *bk), &b)) != 0)
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
	if ((r = app_apply(x, app, changes)) == 0)
		r = app_store(x, app, 0);
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
	char key[SSO_NAME_MAX + 1];
	int r;

	if (x->app != NULL)
		return 0;
	if ((r = sso_app_key(x->object, key, x->msg)) != 0)
		return r;
	if ((r = sso_json_get(x->txn, VAULT_TABLE_APPS, key, &x->app, x->msg)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			return sv_fail(x->msg, r, "no affiliate application '%s'", x->object);
		return r;
	}
	snprintf(x->object, sizeof(x->object), "%s", app_name(x->app));
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
	return app_store(x, x->app, 0);
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

/* --- mapping records ------------------------------------------------------ */

/*
 * Who disabled a mapping: an admin's disable is undone only by an admin, a
 * user's own by that user too.  OFF_UNKNOWN is a version 1 record disabled
 * after its credentials were set, by whom it does not say: an admin's.
 */
enum mapping_off {
	OFF_NONE = 0,		/* enabled, or new and never enabled */
	OFF_USER = 1,		/* by the mapped user */
	OFF_ADMIN = 2,		/* by an app, affiliate or vault admin */
	OFF_UNKNOWN = 3,
};
#define OFF_UID_NONE UINT32_MAX

struct mapping {
	char principal[SSO_PRINCIPAL_MAX];
	char *external;		/* secure memory */
	int enabled;
	int creds_set;
	enum mapping_off off;
	uint32_t off_uid;	/* who disabled it, or OFF_UID_NONE */
	uint32_t n;
	char **values;		/* n strings in secure memory */
	struct svbuf *sec;	/* decoded strings live here (one secure block) */
};

/* A string of m: in m->sec (freed with it) or sodium_malloc'd on its own. */
static void
mapping_str_free(const struct mapping *m, char *s)
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

static void
mapping_free(struct mapping *m)
{
	uint32_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n && m->values != NULL; i++)
		mapping_str_free(m, m->values[i]);
	free(m->values);
	mapping_str_free(m, m->external);
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

/* A new mapping with nvalues empty values; NULL if out of memory. */
static struct mapping *
mapping_new(const char *principal, const char *external, uint32_t nvalues)
{
	struct mapping *m = calloc(1, sizeof(*m)), *ret = NULL;
	uint32_t i;

	if (m == NULL)
		return NULL;
	snprintf(m->principal, sizeof(m->principal), "%s", principal);
	m->off = OFF_NONE;
	m->off_uid = OFF_UID_NONE;
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
	mapping_free(m);
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
mapping_decode(struct svbuf *b, struct mapping **ret)
{
	struct mapping *m = calloc(1, sizeof(*m));
	uint8_t version, enabled, set, off = OFF_NONE, *dst;
	uint32_t i, n, off_uid = OFF_UID_NONE;
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
	m->off = (enum mapping_off)off;
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
	mapping_free(m);
	return r;
}

static int
mapping_key(const char *appkey, const char *principal, uint8_t out[MAPPING_KEY_MAX],
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

static int
app_key_of(struct sso_ctx *x, json_t *app, char key[SSO_NAME_MAX + 1])
{
	return sso_app_key(app_name(app), key, x->msg);
}

/* The mapping of principal in app; SV_ERR_NOT_FOUND (no message) if none. */
static int
mapping_get(struct sso_ctx *x, json_t *app, const char *principal, struct mapping **ret)
{
	char appkey[SSO_NAME_MAX + 1];
	uint8_t k[MAPPING_KEY_MAX];
	struct svbuf *b = NULL;
	size_t kl;
	int r;

	if ((r = app_key_of(x, app, appkey)) != 0 ||
	    (r = mapping_key(appkey, principal, k, &kl)) != 0)
		return r;
	if ((r = vault_record_get(x->txn, VAULT_TABLE_MAPPINGS, k, kl, &b)) != 0) {
		if (r != SV_ERR_NOT_FOUND)
			sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
		return r;
	}
	r = mapping_decode(b, ret);
	svbuf_free(b);
	if (r == SV_ERR_INTEGRITY)
		return sv_fail(x->msg, r, "the mapping of %s to '%s' is damaged",
		    principal, app_name(app));
	return r;
}

static int
mapping_put(struct sso_ctx *x, json_t *app, const struct mapping *m, unsigned flags)
{
	char appkey[SSO_NAME_MAX + 1];
	uint8_t k[MAPPING_KEY_MAX];
	struct svbuf *b = NULL;
	size_t kl;
	uint32_t i;
	int r;

	if ((r = app_key_of(x, app, appkey)) != 0 ||
	    (r = mapping_key(appkey, m->principal, k, &kl)) != 0)
		return r;
	if ((b = svbuf_new_secure(0)) == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_put_u8(b, MAPPING_VERSION)) != 0 ||
	    (r = svbuf_put_cstring(b, m->principal)) != 0 ||
	    (r = svbuf_put_cstring(b, m->external)) != 0 ||
	    (r = svbuf_put_u8(b, m->enabled ? 1 : 0)) != 0 ||
	    (r = svbuf_put_u8(b, m->creds_set ? 1 : 0)) != 0 ||
	    (r = svbuf_put_u8(b, m->enabled ? OFF_NONE : (uint8_t)m->off)) != 0 ||
	    (r = svbuf_put_u32(b, m->enabled ? OFF_UID_NONE : m->off_uid)) != 0 ||
	    (r = svbuf_put_u32(b, m->n)) != 0)
		goto out;
	for (i = 0; i < m->n; i++)
		if ((r = svbuf_put_cstring(b, m->values[i])) != 0)
			goto out;
	r = vault_record_put(x->txn, VAULT_TABLE_MAPPINGS, k, kl, svbuf_ptr(b), svbuf_len(b),
	    flags);
	if (r == SV_ERR_EXISTS)
		sv_fail(x->msg, r, "%s is already mapped in '%s'", m->principal, app_name(app));
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
typedef int (*mapping_fn)(struct sso_ctx *x, void *ctx, struct vault_cursor *c,
    const char *principal, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl);

static int
mappings_walk(struct sso_ctx *x, json_t *app, mapping_fn fn, void *ctx)
{
	char appkey[SSO_NAME_MAX + 1], principal[SSO_PRINCIPAL_MAX];
	uint8_t prefix[SSO_NAME_MAX + 1];
	struct vault_cursor *c = NULL;
	const uint8_t *k, *v;
	size_t kl, vl, pl;
	int r;

	if ((r = app_key_of(x, app, appkey)) != 0)
		return r;
	pl = strlen(appkey) + 1;
	memcpy(prefix, appkey, pl);	/* with its NUL: the separator */
	if ((r = vault_cursor_open(x->txn, VAULT_TABLE_MAPPINGS, &c)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	for (r = vault_cursor_seek(c, prefix, pl, &k, &kl, &v, &vl); r == 1;
	    r = vault_cursor_next(c, &k, &kl, &v, &vl)) {
		if (kl < pl || memcmp(k, prefix, pl) != 0) {
			r = 0;
			break;
		}
		if (kl - pl >= sizeof(principal)) {
			r = sv_fail(x->msg, SV_ERR_INTEGRITY, "a mapping key of '%s' is damaged",
			    app_name(app));
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

static int
is_user_principal(const char *p)
{
	return strncmp(p, "user:", 5) == 0 || strncmp(p, "uid:", 4) == 0;
}

/* The request's principal, canonical, into out; target of the audit record. */
static int
req_principal(struct sso_ctx *x, struct svbuf *req, char out[SSO_PRINCIPAL_MAX])
{
	char in[SSO_PRINCIPAL_MAX];
	int r;

	if ((r = sso_req_name(req, in, sizeof(in))) != 0)
		return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    r == SV_ERR_TRUNCATED ? "request lacks a valid principal" :
		    "invalid principal: expected user:NAME, group:NAME, uid:N or gid:N");
	if ((r = sso_principal_check(in, out, x->msg)) != 0)
		return r;
	snprintf(x->target, sizeof(x->target), "%s", out);
	return 0;
}

static int
external_ok(struct sso_ctx *x, const char *s)
{
	if (*s == '\0' || !text_ok(s, EXTERNAL_USER_MAX))
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
static int
mapping_create(struct sso_ctx *x, json_t *app, const char *principal, const char *external)
{
	struct first_ctx f = { "", 0 };
	struct mapping *m;
	json_t *fields = json_object_get(app, "fields");
	int r;

	if ((r = external_ok(x, external)) != 0)
		return r;
	if (app_is_group(app)) {
		if (is_user_principal(principal))
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "'%s' is a group app: map one of its user groups (group:NAME or gid:N), not %s",
			    app_name(app), principal);
		if (!array_has(json_object_get(app, "users"), principal))
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "%s is not a user of group app '%s': add it with 'ssovault app update %s --add-user %s'",
			    principal, app_name(app), app_name(app), principal);
		if ((r = mappings_walk(x, app, first_mapping, &f)) != 0)
			return r;
		if (f.found)
			return sv_fail(x->msg, SV_ERR_EXISTS,
			    "group app '%s' already has its one mapping (%s): delete it first",
			    app_name(app), f.principal);
	} else if (!is_user_principal(principal)) {
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "'%s' is an individual app: map a user (user:NAME or uid:N), not %s",
		    app_name(app), principal);
	}
	if ((m = mapping_new(principal, external,
	    (uint32_t)(json_array_size(fields) > 0 ? json_array_size(fields) - 1 : 0))) == NULL)
		return SV_ERR_NOMEM;
	r = mapping_put(x, app, m, VAULT_PUT_NOOVERWRITE);
	mapping_free(m);
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
	return mapping_create(x, x->app, p, ext);
}

/* 1 if only an admin may turn m back on. */
static int
mapping_admin_off(const struct mapping *m)
{
	return !m->enabled && (m->off == OFF_ADMIN || m->off == OFF_UNKNOWN);
}

static int
mapping_admin_off_deny(struct sso_ctx *x, const struct mapping *m, const char *verb)
{
	if (m->off == OFF_ADMIN && m->off_uid != OFF_UID_NONE)
		return sso_deny(x, "an app admin of '%s': an admin (uid %lu) disabled this mapping; "
		    "only an admin may %s", x->object, (unsigned long)m->off_uid, verb);
	return sso_deny(x, "an app admin of '%s': an admin disabled this mapping; "
	    "only an admin may %s", x->object, verb);
}

static int
mapping_set_enabled(struct sso_ctx *x, struct svbuf *req, int enabled)
{
	struct mapping *m = NULL;
	char p[SSO_PRINCIPAL_MAX];
	int admin, r;

	if ((r = req_principal(x, req, p)) != 0)
		return r;
	/* app users may switch their own mapping; a group's is its admins' */
	admin = caller_is_app_admin(x, x->app);
	if (!admin && !(is_user_principal(p) && sso_principal_match(p, x->caller)))
		return sso_deny(x, "an app admin of '%s': app users may %s only their own mapping",
		    x->object, enabled ? "enable" : "disable");
	if ((r = mapping_get(x, x->app, p, &m)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			return sv_fail(x->msg, r, "no mapping for %s in '%s'", p, x->object);
		return r;
	}
	if (!admin && enabled && mapping_admin_off(m)) {
		r = mapping_admin_off_deny(x, m, "enable it");
		mapping_free(m);
		return r;
	}
	if (enabled && !m->creds_set) {
		mapping_free(m);
		return sv_fail(x->msg, SV_ERR_CONFLICT,
		    "the credentials of %s in '%s' were never set: 'ssovault creds set %s --user %s' sets and enables them",
		    p, x->object, x->object, p);
	}
	if (enabled) {
		m->off = OFF_NONE;
		m->off_uid = OFF_UID_NONE;
	} else if (admin || !mapping_admin_off(m)) {
		/* a user's disable never turns an admin's into one the user may undo */
		m->off = admin ? OFF_ADMIN : OFF_USER;
		m->off_uid = (uint32_t)x->caller->uid;
	}
	m->enabled = enabled;
	r = mapping_put(x, x->app, m, 0);
	mapping_free(m);
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
	char appkey[SSO_NAME_MAX + 1], p[SSO_PRINCIPAL_MAX];
	uint8_t k[MAPPING_KEY_MAX];
	struct mapping *m = NULL;
	size_t kl;
	int r;

	if ((r = req_principal(x, req, p)) != 0)
		return r;
	if ((r = mapping_get(x, x->app, p, &m)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			return sv_fail(x->msg, r, "no mapping for %s in '%s'", p, x->object);
		return r;
	}
	r = m->enabled;
	mapping_free(m);
	if (r)
		return sv_fail(x->msg, SV_ERR_CONFLICT,
		    "the mapping of %s to '%s' is enabled: disable the mapping first", p, x->object);
	if ((r = app_key_of(x, x->app, appkey)) != 0 ||
	    (r = mapping_key(appkey, p, k, &kl)) != 0)
		return r;
	if ((r = vault_record_del(x->txn, VAULT_TABLE_MAPPINGS, k, kl)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return 0;
}

struct list_ctx {
	json_t *arr;
	json_t *app;
	int all;		/* the caller may see every mapping of the app */
};

static int
list_mapping(struct sso_ctx *x, void *ctx, struct vault_cursor *c, const char *principal,
    const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct list_ctx *l = ctx;
	struct mapping *m = NULL;
	struct svbuf *b = NULL;
	int r;

	if (!l->all && !sso_principal_match(principal, x->caller))
		return 0;
	if ((r = vault_cursor_unseal(c, k, kl, v, vl, &b)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	r = mapping_decode(b, &m);
	svbuf_free(b);
	if (r != 0)
		return sv_fail(x->msg, r, "the mapping of %s to '%s' is damaged",
		    principal, app_name(l->app));
	if (json_array_append_new(l->arr, json_pack("{s:s,s:s,s:s,s:b,s:b,s:o,s:o}",
	    "app", app_name(l->app), "principal", m->principal,
	    "external_user", m->external, "enabled", m->enabled,
	    "credentials_set", m->creds_set,
	    "disabled_by", m->enabled || m->off == OFF_NONE ? json_null() :
	    json_string(m->off == OFF_USER ? "user" : m->off == OFF_ADMIN ? "admin" : "unknown"),
	    "disabled_by_uid", m->enabled || m->off_uid == OFF_UID_NONE ? json_null() :
	    json_integer((json_int_t)m->off_uid))) != 0)
		r = SV_ERR_NOMEM;
	mapping_free(m);
	return r;
}

static int
list_app_mappings(struct sso_ctx *x, json_t *app, void *ctx)
{
	struct list_ctx *l = ctx;

	if (!app_visible(x, app))
		return 0;
	l->app = app;
	l->all = caller_is_app_admin(x, app);
	return mappings_walk(x, app, list_mapping, l);
}

int
sso_h_mapping_list(struct sso_ctx *x, struct svbuf *req)
{
	char name[SSO_PRINCIPAL_MAX], key[SSO_NAME_MAX + 1];
	struct list_ctx l = { NULL, NULL, 0 };
	json_t *app = NULL;
	int r;

	if ((r = sso_req_name(req, name, sizeof(name))) != 0)
		return r == SV_ERR_TRUNCATED ? sv_fail(x->msg, r, "request lacks a valid app name") :
		    sv_fail(x->msg, SV_ERR_INVALID, "invalid name: 1 to %d characters expected",
		    SSO_NAME_MAX);
	if ((l.arr = json_array()) == NULL)
		return SV_ERR_NOMEM;
	if (name[0] == '\0') {
		r = apps_walk(x, list_app_mappings, &l);
		goto out;
	}
	snprintf(x->object, sizeof(x->object), "%s", name);
	if ((r = sso_app_key(name, key, x->msg)) != 0)
		goto out;
	if ((r = sso_json_get(x->txn, VAULT_TABLE_APPS, key, &app, x->msg)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			sv_fail(x->msg, r, "no affiliate application '%s'", name);
		goto out;
	}
	snprintf(x->object, sizeof(x->object), "%s", app_name(app));
	if (!app_visible(x, app)) {
		r = sso_deny(x, "an app user or admin of '%s'", app_name(app));
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

	if (is_user_principal(principal) || !sso_principal_match(principal, o->who))
		return 0;
	snprintf(o->principal, sizeof(o->principal), "%s", principal);
	o->found = 1;
	return 1;
}

static int
mapping_exists(struct sso_ctx *x, json_t *app, const char *principal)
{
	char appkey[SSO_NAME_MAX + 1];
	uint8_t k[MAPPING_KEY_MAX];
	const uint8_t *v;
	size_t kl, vl;

	if (app_key_of(x, app, appkey) != 0 || mapping_key(appkey, principal, k, &kl) != 0)
		return 0;
	return vault_raw_get(x->txn, VAULT_TABLE_MAPPINGS, k, kl, &v, &vl) == 0;
}

int
sso_mapping_own(struct sso_ctx *x, json_t *app, const struct sso_caller *who,
    char ret_principal[SSO_PRINCIPAL_MAX])
{
	struct own_ctx o;
	char named[SSO_PRINCIPAL_MAX], uid[SSO_PRINCIPAL_MAX];
	int r;

	memset(&o, 0, sizeof(o));
	o.who = who;
	sso_principal_of(who, named);
	if (app_is_group(app)) {
		if ((r = mappings_walk(x, app, own_group_mapping, &o)) != 0)
			return r;
		if (!o.found)
			return sv_fail(x->msg, SV_ERR_NOT_FOUND,
			    "no mapping in group app '%s' for a group of %s", app_name(app), named);
		snprintf(ret_principal, SSO_PRINCIPAL_MAX, "%s", o.principal);
		return 0;
	}
	snprintf(uid, sizeof(uid), "uid:%lu", (unsigned long)who->uid);
	if (mapping_exists(x, app, named)) {
		snprintf(ret_principal, SSO_PRINCIPAL_MAX, "%s", named);
		return 0;
	}
	if (mapping_exists(x, app, uid)) {
		snprintf(ret_principal, SSO_PRINCIPAL_MAX, "%s", uid);
		return 0;
	}
	return sv_fail(x->msg, SV_ERR_NOT_FOUND, "no mapping for %s in '%s'", named, app_name(app));
}

int
sso_creds_reply(struct sso_ctx *x, json_t *app, const char *principal)
{
	json_t *fields = json_object_get(app, "fields"), *f;
	struct mapping *m = NULL;
	size_t i;
	int r;

	snprintf(x->target, sizeof(x->target), "%s", principal);
	if (!sso_app_flag(app, "enabled"))
		return sv_fail(x->msg, SV_ERR_DISABLED,
		    "application '%s' is disabled: an affiliate admin can enable it with 'ssovault app enable %s'",
		    app_name(app), app_name(app));
	if ((r = mapping_get(x, app, principal, &m)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			return sv_fail(x->msg, r, "no mapping for %s in '%s'", principal, app_name(app));
		return r;
	}
	if (!m->creds_set) {
		r = sv_fail(x->msg, SV_ERR_NOT_FOUND,
		    "no credentials are set for %s in '%s': set them with 'ssovault creds set %s --user %s'",
		    principal, app_name(app), app_name(app), principal);
		goto out;
	}
	if (!m->enabled) {
		r = sv_fail(x->msg, SV_ERR_DISABLED, "the mapping of %s to '%s' is disabled",
		    principal, app_name(app));
		goto out;
	}
	if (json_array_size(fields) != (size_t)m->n + 1) {
		r = sv_fail(x->msg, SV_ERR_INTEGRITY,
		    "the mapping of %s to '%s' does not match the app's fields", principal,
		    app_name(app));
		goto out;
	}
	if ((r = svbuf_put_cstring(x->out, app_name(app))) != 0 ||
	    (r = svbuf_put_cstring(x->out, m->principal)) != 0 ||
	    (r = svbuf_put_cstring(x->out, m->external)) != 0 ||
	    (r = svbuf_put_u32(x->out, (uint32_t)json_array_size(fields))) != 0)
		goto out;
	json_array_foreach(fields, i, f) {
		if ((r = svbuf_put_cstring(x->out,
		    json_string_value(json_object_get(f, "label")))) != 0 ||
		    (r = svbuf_put_u8(x->out, sso_app_flag(f, "masked") ? 1 : 0)) != 0 ||
		    (r = svbuf_put_cstring(x->out, i == 0 ? m->external : m->values[i - 1])) != 0)
			goto out;
	}
out:
	if (r != 0)
		svbuf_reset(x->out);
	mapping_free(m);
	return r;
}

/*
 * The mapping a creds request is about: the caller's own (user "") or the
 * named one.  ret_own is set when it is the caller's (a user principal that
 * is the caller, or for a group app, a group the caller is in).
 */
static int
creds_principal(struct sso_ctx *x, struct svbuf *req, char ret_principal[SSO_PRINCIPAL_MAX],
    int *ret_own)
{
	char in[SSO_PRINCIPAL_MAX], p[SSO_PRINCIPAL_MAX];
	int own, r;

	if ((r = sso_req_name(req, in, sizeof(in))) != 0)
		return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    r == SV_ERR_TRUNCATED ? "request lacks a valid user" :
		    "invalid principal: expected user:NAME, group:NAME, uid:N or gid:N");
	if (in[0] == '\0') {
		own = 1;
		r = sso_mapping_own(x, x->app, x->caller, p);
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
	int own = 0, r;

	if ((r = creds_principal(x, req, p, &own)) != 0)
		return r;
	if (!own && !caller_is_app_admin(x, x->app))
		return sso_deny(x, "an app admin of '%s': only admins read another user's credentials",
		    x->object);
	return sso_creds_reply(x, x->app, p);
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
	char p[SSO_PRINCIPAL_MAX], label[APP_LABEL_MAX + 2];
	uint8_t seen[APP_FIELDS_MAX];
	struct mapping *m = NULL;
	const uint8_t *v;
	size_t vl;
	uint32_t n, i;
	char *val;
	int own = 0, idx, r;

	if ((r = creds_principal(x, req, p, &own)) != 0)
		return r;
	/* users set their own; a group's credentials are its admins' */
	if (!caller_is_app_admin(x, x->app) && !(own && is_user_principal(p)))
		return sso_deny(x, "an app admin of '%s': app users may set only their own credentials",
		    x->object);
	if ((r = svbuf_get_u32(req, &n)) != 0)
		return r;
	if (n == 0 || n > APP_FIELDS_MAX)
		return sv_fail(x->msg, SV_ERR_INVALID, "give 1 to %d field values", APP_FIELDS_MAX);
	if ((r = mapping_get(x, x->app, p, &m)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			return sv_fail(x->msg, r,
			    "no mapping for %s in '%s': an app admin can create one with 'ssovault mapping create %s %s EXTERNAL_USER'",
			    p, x->object, x->object, p);
		return r;
	}
	/* setting credentials enables the mapping: not one an admin turned off */
	if (!caller_is_app_admin(x, x->app) && mapping_admin_off(m)) {
		r = mapping_admin_off_deny(x, m, "set its credentials");
		goto out;
	}
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		if ((r = sso_req_name(req, label, sizeof(label))) != 0) {
			r = sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
			    "request has an invalid field label");
			goto out;
		}
		if ((r = svbuf_get_string_direct(req, &v, &vl)) != 0)
			goto out;
		if ((idx = field_index(x->app, label)) < 0) {
			r = sv_fail(x->msg, SV_ERR_INVALID, "no field '%s' in '%s'", label, x->object);
			goto out;
		}
		if (seen[idx]++) {
			r = sv_fail(x->msg, SV_ERR_INVALID, "field '%s' is given twice", label);
			goto out;
		}
		if (vl > VALUE_MAX || memchr(v, '\0', vl) != NULL) {
			r = sv_fail(x->msg, SV_ERR_INVALID,
			    "the value of field '%s' must be at most %d bytes, without NUL bytes",
			    label, VALUE_MAX);
			goto out;
		}
		if ((val = sodium_malloc(vl + 1)) == NULL) {
			r = SV_ERR_NOMEM;
			goto out;
		}
		memcpy(val, v, vl);
		val[vl] = '\0';
		if (idx == 0) {
			if ((r = external_ok(x, val)) != 0) {
				sodium_free(val);
				goto out;
			}
			mapping_str_free(m, m->external);
			m->external = val;
		} else if ((uint32_t)idx <= m->n) {
			mapping_str_free(m, m->values[idx - 1]);
			m->values[idx - 1] = val;
		} else {
			sodium_free(val);
			r = sv_fail(x->msg, SV_ERR_INTEGRITY,
			    "the mapping of %s to '%s' does not match the app's fields", p, x->object);
			goto out;
		}
	}
	m->creds_set = 1;
	m->enabled = 1;
	m->off = OFF_NONE;
	m->off_uid = OFF_UID_NONE;
	r = mapping_put(x, x->app, m, 0);
out:
	mapping_free(m);
	return r;
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
	char key[SSO_NAME_MAX + 1];
	size_t count = 0;
	int r;

	if ((r = app_load(x)) != 0 ||
	    (r = mappings_walk(x, x->app, delete_mapping, &count)) != 0 ||
	    (r = app_key_of(x, x->app, key)) != 0)
		return r;
	if ((r = vault_record_del(x->txn, VAULT_TABLE_APPS, key, strlen(key))) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return 0;
}

/* --- ENTSSO XML import ------------------------------------------------- */

/*
 * ENTSSO's ssomanage files: <sso> holding <application name="..."> and
 * <mapping> elements (element names compared without case, as ENTSSO's own
 * samples mix "appUserAccount" and "appuserAccount").  Entities are never
 * expanded and DTDs are refused, so neither entity bombs nor external
 * entities can do anything; the network is off.  Everything happens in the
 * operation's one write transaction: any error aborts all of it.
 */

struct import {
	struct sso_ctx *x;
	size_t apps;
	size_t mappings;
};

static int
xml_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcasecmp(n->name, BAD_CAST name) == 0;
}

/* Prefix x->msg with where in the file it happened. */
static int
import_fail(struct import *im, const xmlNode *n, int r)
{
	char m[SV_MSG_MAX];

	snprintf(m, sizeof(m), "%s", im->x->msg[0] != '\0' ? im->x->msg : sv_strerror(r));
	snprintf(im->x->msg, sizeof(im->x->msg), "line %ld: <%.40s>: %.180s",
	    xmlGetLineNo(n), (const char *)n->name, m);
	return r;
}

/* Element text, trimmed, malloc'd ("" if empty). */
static char *
xml_text(const xmlNode *n)
{
	xmlChar *c = xmlNodeGetContent(n);
	const char *s = c != NULL ? (const char *)c : "";
	size_t len;
	char *out;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
	    s[len - 1] == '\n'))
		len--;
	out = strndup(s, len);
	xmlFree(c);
	return out;
}

/* Only whitespace text, comments and elements may sit between elements. */
static int
xml_stray(const xmlNode *n)
{
	const xmlChar *p;

	if (n->type == XML_COMMENT_NODE || n->type == XML_ELEMENT_NODE ||
	    n->type == XML_PI_NODE)
		return 0;
	if (n->type != XML_TEXT_NODE)
		return 1;
	for (p = n->content; p != NULL && *p != '\0'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return 1;
	return 0;
}

/* A decimal number of at most 9 digits; -1 if s is not one. */
static long long
xml_uint(const char *s)
{
	long long v = 0;
	size_t n = 0;

	for (; *s >= '0' && *s <= '9' && n < 10; s++, n++)
		v = v * 10 + (*s - '0');
	return n == 0 || n > 9 || *s != '\0' ? -1 : v;
}

/* yes/no/true/false/1/0 -> 1/0; -1 if none of them. */
static int
xml_bool(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
		return 1;
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
		return 0;
	return -1;
}

/*
 * An account as ENTSSO writes it ("DOMAIN\name" or "name") -> kind:name; one
 * already in principal form (uid:0, group:ops) is taken as it is.
 */
static int
account_principal(struct import *im, const char *acct, const char *kind,
    char out[SSO_PRINCIPAL_MAX])
{
	const char *bs = strrchr(acct, '\\');
	char p[SSO_PRINCIPAL_MAX + 16];

	if (strchr(acct, ':') != NULL)
		return sso_principal_check(acct, out, im->x->msg);
	snprintf(p, sizeof(p), "%s:%s", kind, bs != NULL ? bs + 1 : acct);
	if (sso_principal_check(p, out, NULL) != 0)
		return sv_fail(im->x->msg, SV_ERR_INVALID,
		    "account '%.64s' does not make a valid principal (names take letters, digits, '.', '_', '-', '@', '$')",
		    acct);
	return 0;
}

static const char *const flag_attrs[][2] = {
	{ "groupApp", NULL },
	{ "enableApp", "enabled" },
	{ "allowTickets", "allow_tickets" },
	{ "validateTickets", "validate_tickets" },
	{ "allowLocalAccounts", "allow_local_accounts" },
	{ "ticketReuse", "ticket_reuse" },
	{ "timeoutTickets", NULL },	/* ours always time out */
	{ "adminAccountSame", NULL },
	{ "configStoreApp", NULL },
	{ "ticketTimeout", NULL },
	{ NULL, NULL },
};

static int
import_flags(struct import *im, const xmlNode *n, json_t *spec)
{
	const xmlAttr *a;
	xmlChar *val;
	size_t i;
	long long t;
	int b, r = 0;

	for (a = n->properties; a != NULL && r == 0; a = a->next) {
		for (i = 0; flag_attrs[i][0] != NULL; i++)
			if (xmlStrcasecmp(a->name, BAD_CAST flag_attrs[i][0]) == 0)
				break;
		if (flag_attrs[i][0] == NULL)
			return sv_fail(im->x->msg, SV_ERR_INVALID, "unknown flag '%.40s'",
			    (const char *)a->name);
		if ((val = xmlNodeGetContent((const xmlNode *)a)) == NULL)
			return SV_ERR_NOMEM;
		if (strcmp(flag_attrs[i][0], "ticketTimeout") == 0) {
			t = xml_uint((const char *)val);
			if (t < 0 || t > SSO_TICKET_TIMEOUT_MAX)
				r = sv_fail(im->x->msg, SV_ERR_INVALID,
				    "ticketTimeout must be 0 to %d minutes", SSO_TICKET_TIMEOUT_MAX);
			else
				json_object_set_new(spec, "ticket_timeout", json_integer(t));
		} else if ((b = xml_bool((const char *)val)) < 0) {
			r = sv_fail(im->x->msg, SV_ERR_INVALID, "%s must be yes or no",
			    flag_attrs[i][0]);
		} else if (strcmp(flag_attrs[i][0], "groupApp") == 0) {
			json_object_set_new(spec, "type", json_string(b ? "group" : "individual"));
		} else if (strcmp(flag_attrs[i][0], "configStoreApp") == 0 && b) {
			r = sv_fail(im->x->msg, SV_ERR_INVALID,
			    "config store applications are not supported");
		} else if (flag_attrs[i][1] != NULL) {
			json_object_set_new(spec, flag_attrs[i][1], json_boolean(b));
		}
		xmlFree(val);
	}
	return r;
}

/* A <field ordinal="N" label="..." masked="yes|no"/> into slots[N]. */
static int
import_field(struct import *im, const xmlNode *n, json_t **slots)
{
	xmlChar *ord = xmlGetProp(n, BAD_CAST "ordinal");
	xmlChar *label = xmlGetProp(n, BAD_CAST "label");
	xmlChar *masked = xmlGetProp(n, BAD_CAST "masked");
	long long o = -1;
	int m = 0, r = 0;

	if (ord != NULL)
		o = xml_uint((const char *)ord);
	if (o < 0 || o >= APP_FIELDS_MAX)
		r = sv_fail(im->x->msg, SV_ERR_INVALID, "ordinal must be 0 to %d",
		    APP_FIELDS_MAX - 1);
	else if (label == NULL)
		r = sv_fail(im->x->msg, SV_ERR_INVALID, "a field needs a label");
	else if (masked != NULL && (m = xml_bool((const char *)masked)) < 0)
		r = sv_fail(im->x->msg, SV_ERR_INVALID, "masked must be yes or no");
	else if (slots[o] != NULL)
		r = sv_fail(im->x->msg, SV_ERR_INVALID, "ordinal %lld is given twice", o);
	else if ((slots[o] = json_pack("{s:s,s:b}", "label", (const char *)label,
	    "masked", m)) == NULL)
		r = SV_ERR_NOMEM;
	xmlFree(ord);
	xmlFree(label);
	xmlFree(masked);
	return r;
}

static int
import_application(struct import *im, const xmlNode *app)
{
	json_t *slots[APP_FIELDS_MAX], *spec = NULL, *fields = NULL, *admins, *users;
	char p[SSO_PRINCIPAL_MAX];
	const xmlNode *n, *bad = app;
	xmlChar *name;
	size_t i, nf = 0;
	char *s = NULL;
	int r = 0;

	memset(slots, 0, sizeof(slots));
	if ((name = xmlGetProp(app, BAD_CAST "name")) == NULL) {
		sv_fail(im->x->msg, SV_ERR_INVALID, "an application needs a name attribute");
		return import_fail(im, app, SV_ERR_INVALID);
	}
	spec = json_pack("{s:s,s:[],s:[]}", "name", (const char *)name, "admins", "users");
	xmlFree(name);
	if (spec == NULL)
		return SV_ERR_NOMEM;
	admins = json_object_get(spec, "admins");
	users = json_object_get(spec, "users");
	for (n = app->children; n != NULL && r == 0; n = n->next) {
		bad = n;
		if (xml_stray(n)) {
			r = sv_fail(im->x->msg, SV_ERR_INVALID, "unexpected text in <application>");
			bad = app;
			continue;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xml_is(n, "field")) {
			r = import_field(im, n, slots);
			continue;
		}
		if (xml_is(n, "flags")) {
			r = import_flags(im, n, spec);
			continue;
		}
		if ((s = xml_text(n)) == NULL) {
			r = SV_ERR_NOMEM;
			continue;
		}
		if (xml_is(n, "description") || xml_is(n, "contact")) {
			json_object_set_new(spec, xml_is(n, "contact") ? "contact" : "description",
			    json_string(s));
		} else if (xml_is(n, "appUserAccount") || xml_is(n, "appAdminAccount")) {
			if ((r = account_principal(im, s, "group", p)) == 0)
				json_array_append_new(xml_is(n, "appUserAccount") ? users : admins,
				    json_string(p));
		} else if (xml_is(n, "ticketTimeout")) {
			long long t = xml_uint(s);

			if (t < 0 || t > SSO_TICKET_TIMEOUT_MAX)
				r = sv_fail(im->x->msg, SV_ERR_INVALID,
				    "ticketTimeout must be 0 to %d minutes", SSO_TICKET_TIMEOUT_MAX);
			else
				json_object_set_new(spec, "ticket_timeout", json_integer(t));
		} else {
			r = sv_fail(im->x->msg, SV_ERR_INVALID, "unknown element in <application>");
		}
		free(s);
		s = NULL;
	}
	if (r != 0)
		goto out;
	bad = app;
	/* ordinals must run 0..n-1 without a gap */
	while (nf < APP_FIELDS_MAX && slots[nf] != NULL)
		nf++;
	for (i = nf; i < APP_FIELDS_MAX; i++) {
		if (slots[i] != NULL) {
			r = sv_fail(im->x->msg, SV_ERR_INVALID,
			    "field ordinals must run from 0 without gaps (%zu is missing)", nf);
			goto out;
		}
	}
	if (nf > 0) {
		if ((fields = json_array()) == NULL) {
			r = SV_ERR_NOMEM;
			goto out;
		}
		for (i = 0; i < nf; i++) {
			json_array_append_new(fields, slots[i]);
			slots[i] = NULL;
		}
		json_object_set_new(spec, "fields", fields);
	}
	im->x->msg[0] = '\0';
	if ((r = app_create(im->x, spec)) == 0)
		im->apps++;
out:
	for (i = 0; i < APP_FIELDS_MAX; i++)
		json_decref(slots[i]);
	json_decref(spec);
	/* a refusal keeps its "access denied" message as it is */
	return r == 0 || r == SV_ERR_DENIED ? r : import_fail(im, bad, r);
}

static int
import_mapping(struct import *im, const xmlNode *map)
{
	char *domain = NULL, *user = NULL, *appname = NULL, *ext = NULL, **slot;
	char key[SSO_NAME_MAX + 1], p[SSO_PRINCIPAL_MAX];
	const xmlNode *n, *bad = map;
	json_t *app = NULL;
	int r = 0;

	for (n = map->children; n != NULL && r == 0; n = n->next) {
		bad = n;
		if (xml_stray(n)) {
			r = sv_fail(im->x->msg, SV_ERR_INVALID, "unexpected text in <mapping>");
			bad = map;
			continue;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xml_is(n, "windowsDomain"))
			slot = &domain;
		else if (xml_is(n, "windowsUserId"))
			slot = &user;
		else if (xml_is(n, "externalApplication"))
			slot = &appname;
		else if (xml_is(n, "externalUserId"))
			slot = &ext;
		else {
			r = sv_fail(im->x->msg, SV_ERR_INVALID, "unknown element in <mapping>");
			continue;
		}
		if (*slot != NULL) {
			r = sv_fail(im->x->msg, SV_ERR_INVALID, "element given twice in <mapping>");
			continue;
		}
		if ((*slot = xml_text(n)) == NULL)
			r = SV_ERR_NOMEM;
	}
	if (r != 0)
		goto out;
	bad = map;
	if (user == NULL || appname == NULL || ext == NULL) {
		r = sv_fail(im->x->msg, SV_ERR_INVALID,
		    "a mapping needs windowsUserId, externalApplication and externalUserId");
		goto out;
	}
	if ((r = sso_app_key(appname, key, im->x->msg)) != 0)
		goto out;
	if ((r = sso_json_get(im->x->txn, VAULT_TABLE_APPS, key, &app, im->x->msg)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			sv_fail(im->x->msg, r, "no affiliate application '%s'", appname);
		goto out;
	}
	/* a group app's mapping names one of its groups */
	if ((r = account_principal(im, user, app_is_group(app) ? "group" : "user", p)) != 0)
		goto out;
	im->x->msg[0] = '\0';
	if ((r = mapping_create(im->x, app, p, ext)) != 0)
		goto out;
	im->mappings++;
out:
	json_decref(app);
	free(domain);
	free(user);
	free(appname);
	free(ext);
	return r == 0 ? 0 : import_fail(im, bad, r);
}

int
sso_h_app_import(struct sso_ctx *x, struct svbuf *req)
{
	struct import im = { x, 0, 0 };
	xmlParserCtxtPtr ctxt = NULL;
	const xmlNode *root, *n;
	xmlDocPtr doc = NULL;
	const uint8_t *p;
	const xmlError *e;
	size_t len;
	int r;

	if ((r = svbuf_get_string_direct(req, &p, &len)) != 0)
		return r;
	if (len > IMPORT_MAX)
		return sv_fail(x->msg, SV_ERR_TOO_LARGE, "the file is larger than 4 MiB");
	/* refused before parsing: nothing in a DTD is ever looked at */
	if (memmem(p, len, "<!DOCTYPE", 9) != NULL || memmem(p, len, "<!ENTITY", 8) != NULL)
		return sv_fail(x->msg, SV_ERR_BAD_FORMAT,
		    "DTDs are not accepted: remove the <!DOCTYPE ...> declaration");
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		return SV_ERR_NOMEM;
	doc = xmlCtxtReadMemory(ctxt, (const char *)p, (int)len, "import.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (doc == NULL || !ctxt->wellFormed) {
		e = xmlCtxtGetLastError(ctxt);
		r = sv_fail(x->msg, SV_ERR_BAD_FORMAT, "not well-formed XML: line %d: %.120s",
		    e != NULL ? e->line : 0,
		    e != NULL && e->message != NULL ? e->message : "parse error");
		/* libxml2's messages end in a newline: keep the one line */
		x->msg[strcspn(x->msg, "\r\n")] = '\0';
		goto out;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		r = sv_fail(x->msg, SV_ERR_BAD_FORMAT, "DTDs are not accepted");
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !xml_is(root, "sso")) {
		r = sv_fail(x->msg, SV_ERR_BAD_FORMAT,
		    "line %ld: the root element must be <sso>", root != NULL ? xmlGetLineNo(root) : 0L);
		goto out;
	}
	for (n = root->children; n != NULL; n = n->next) {
		if (xml_stray(n)) {
			x->msg[0] = '\0';
			r = sv_fail(x->msg, SV_ERR_BAD_FORMAT, "unexpected text in <sso>");
			r = import_fail(&im, root, r);
			goto out;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		x->msg[0] = '\0';
		if (xml_is(n, "application"))
			r = import_application(&im, n);
		else if (xml_is(n, "mapping"))
			r = import_mapping(&im, n);
		else {
			sv_fail(x->msg, SV_ERR_INVALID,
			    "unknown element: expected <application> or <mapping>");
			r = import_fail(&im, n, SV_ERR_INVALID);
		}
		if (r != 0)
			goto out;
	}
	x->object[0] = '\0';
	r = sso_out_json(x, json_pack("{s:I,s:I}", "applications", (json_int_t)im.apps,
	    "mappings", (json_int_t)im.mappings));
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return r;
}
