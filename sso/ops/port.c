/*
 * Send ports: named sets of send settings (DESIGN section 6), so that
 * `ssovault send --port NAME FILE` needs nothing else.  The sender defines
 * the members (docs/json.md, "send settings"); this file stores the object
 * and holds one rule over it: a port never holds a secret value, only the
 * path of a file that does (password_file, proxy_password_file).
 *
 * Table ports, key = the name in lower case (sso_app_key rules), sealed JSON
 *   {"name": "As Given", "settings": {...}, "created": ISO, "updated": ISO}
 * Ports hold no secrets, so anyone may read them; affiliate admins change
 * them (the policy table in service.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/units.h"
#include "handlers.h"

#define PORT_SETTINGS_MAX (64 * 1024)
#define SETTINGS_DEPTH_MAX 32


static int
secret_name(const char *k)
{
	static const char suffix[] = "_password";
	size_t n = strlen(k), sl = sizeof(suffix) - 1;

	return strcasecmp(k, "password") == 0 || strcasecmp(k, "proxy_password") == 0 ||
	    strcasecmp(k, "ticket") == 0 ||
	    (n >= sl && strcasecmp(k + n - sl, suffix) == 0);
}

/* The first member named for a secret, at any depth; NULL if none. */
static const char *
find_secret(json_t *j, int depth)
{
	const char *k, *found;
	json_t *v;
	size_t i;

	if (depth > SETTINGS_DEPTH_MAX)
		return "(too deeply nested)";
	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (secret_name(k))
				return k;
			if ((found = find_secret(v, depth + 1)) != NULL)
				return found;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if ((found = find_secret(v, depth + 1)) != NULL)
				return found;
		}
	}
	return NULL;
}

/*
 * 0 if settings is a JSON object of at most PORT_SETTINGS_MAX bytes (compact)
 * with no member, at any depth, named for a secret value.
 */
static int
settings_check(json_t *settings, char *msg)
{
	char name[65];
	const char *k;
	size_t i, n;

	if (!json_is_object(settings))
		return sv_fail(msg, SV_ERR_INVALID, "send settings must be a JSON object");
	if ((k = find_secret(settings, 0)) != NULL) {
		/* a member name is no secret, but keep it printable and short */
		n = strlen(k) < sizeof(name) - 1 ? strlen(k) : sizeof(name) - 1;
		for (i = 0; i < n; i++)
			name[i] = k[i] >= 0x20 && k[i] < 0x7f ? k[i] : '?';
		name[n] = '\0';
		return sv_fail(msg, SV_ERR_INVALID,
		    "ports never hold secret values: use password_file (refused member '%s')",
		    name);
	}
	n = json_dumpb(settings, NULL, 0, JSON_COMPACT);
	if (n == 0 || n > PORT_SETTINGS_MAX)
		return sv_fail(msg, SV_ERR_TOO_LARGE,
		    "send settings are larger than %d KiB", PORT_SETTINGS_MAX / 1024);
	return 0;
}

/* Parse the settings of a request (s JSON); SV_ERR_INVALID if not JSON. */
static int
req_settings(struct sso_ctx *x, struct svbuf *req, json_t **ret)
{
	const uint8_t *p;
	size_t n;
	json_error_t e;
	json_t *j;
	int r;

	if ((r = svbuf_get_string_direct(req, &p, &n)) != 0)
		return r;
	if (n > PORT_SETTINGS_MAX)
		return sv_fail(x->msg, SV_ERR_TOO_LARGE,
		    "send settings are larger than %d KiB", PORT_SETTINGS_MAX / 1024);
	if ((j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "send settings are not valid JSON (line %d: %.80s)", e.line, e.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return sv_fail(x->msg, SV_ERR_INVALID, "send settings must be a JSON object");
	}
	*ret = j;
	return 0;
}

/* Load the port x->object names; keeps the name as the port stores it. */
static int
port_load(struct sso_ctx *x, char key[SSO_NAME_MAX + 1], json_t **ret)
{
	json_t *port = NULL, *n;
	int r;

	if ((r = sso_app_key(x->object, key, x->msg)) != 0)
		return r;
	r = sso_json_get(x->txn, SSO_TABLE_PORTS, key, &port, x->msg);
	if (r == SV_ERR_NOT_FOUND)
		return sv_fail(x->msg, r, "no send port '%s': see 'ssovault port list'",
		    x->object);
	if (r != 0)
		return r;
	if (!json_is_object(json_object_get(port, "settings"))) {
		json_decref(port);
		return sv_fail(x->msg, SV_ERR_INTEGRITY, "the record of port '%s' is damaged",
		    x->object);
	}
	if (json_is_string(n = json_object_get(port, "name")))
		snprintf(x->object, sizeof(x->object), "%s", json_string_value(n));
	*ret = port;
	return 0;
}

/* request: object name | s settings JSON */
int
sso_h_port_create(struct sso_ctx *x, struct svbuf *req)
{
	char key[SSO_NAME_MAX + 1], now[32];
	json_t *settings = NULL, *port = NULL;
	int r;

	if ((r = sso_app_key(x->object, key, x->msg)) != 0 ||
	    (r = req_settings(x, req, &settings)) != 0 ||
	    (r = settings_check(settings, x->msg)) != 0)
		goto out;
	units_iso_time(x->now, now);
	if ((port = json_pack("{s:s,s:O,s:s,s:s}", "name", x->object, "settings", settings,
	    "created", now, "updated", now)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	r = sso_json_put(x->txn, SSO_TABLE_PORTS, key, port, VAULT_PUT_NOOVERWRITE);
	if (r == SV_ERR_EXISTS)
		sv_fail(x->msg, r, "send port '%s' already exists: change it with "
		    "'ssovault port update'", x->object);
	else if (r != 0)
		sv_fail(x->msg, r, "cannot store port '%s': %s", x->object, vault_errmsg(x->v));
out:
	json_decref(settings);
	json_decref(port);
	return r;
}

/* request: object name | s changes JSON: members replace, null removes */
int
sso_h_port_update(struct sso_ctx *x, struct svbuf *req)
{
	char key[SSO_NAME_MAX + 1], now[32];
	json_t *changes = NULL, *port = NULL, *settings, *v;
	const char *k;
	int r;

	if ((r = req_settings(x, req, &changes)) != 0 ||
	    (r = port_load(x, key, &port)) != 0)
		goto out;
	settings = json_object_get(port, "settings");
	json_object_foreach(changes, k, v) {
		if (json_is_null(v))
			json_object_del(settings, k);
		else if (json_object_set(settings, k, v) != 0) {
			r = SV_ERR_NOMEM;
			goto out;
		}
	}
	if ((r = settings_check(settings, x->msg)) != 0)
		goto out;
	units_iso_time(x->now, now);
	if (json_object_set_new(port, "updated", json_string(now)) != 0) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = sso_json_put(x->txn, SSO_TABLE_PORTS, key, port, 0)) != 0)
		sv_fail(x->msg, r, "cannot store port '%s': %s", x->object, vault_errmsg(x->v));
out:
	json_decref(changes);
	json_decref(port);
	return r;
}

int
sso_h_port_show(struct sso_ctx *x, struct svbuf *req)
{
	char key[SSO_NAME_MAX + 1];
	json_t *port = NULL;
	int r;

	if ((r = port_load(x, key, &port)) != 0)
		return r;
	return sso_out_json(x, port);
}

/* Every port in name order; a record that does not open is listed with "error". */
int
sso_h_port_list(struct sso_ctx *x, struct svbuf *req)
{
	struct vault_cursor *cur = NULL;
	struct svbuf *plain = NULL;
	const uint8_t *k, *v;
	size_t kl, vl;
	json_error_t e;
	json_t *arr = json_array(), *port;
	int r, more;

	if (arr == NULL)
		return SV_ERR_NOMEM;
	if ((r = vault_cursor_open(x->txn, SSO_TABLE_PORTS, &cur)) != 0) {
		sv_fail(x->msg, r, "cannot list ports: %s", vault_errmsg(x->v));
		goto out;
	}
	for (more = vault_cursor_seek(cur, NULL, 0, &k, &kl, &v, &vl); more == 1;
	    more = vault_cursor_next(cur, &k, &kl, &v, &vl)) {
		port = NULL;
		r = vault_cursor_unseal(cur, k, kl, v, vl, &plain);
		if (r == SV_ERR_NOMEM || r == SV_ERR_LOCKED)
			goto out;
		if (r == 0)
			port = json_loadb((const char *)svbuf_ptr(plain), svbuf_len(plain),
			    JSON_REJECT_DUPLICATES, &e);
		svbuf_free(plain);
		plain = NULL;
		if (port == NULL || !json_is_object(json_object_get(port, "settings"))) {
			json_decref(port);
			port = json_pack("{s:s%,s:s}", "name", (const char *)k, kl,
			    "error", "the record is damaged: delete the port and create it again");
		}
		if (port == NULL || json_array_append_new(arr, port) != 0) {
			r = SV_ERR_NOMEM;
			goto out;
		}
	}
	if (more < 0) {
		r = sv_fail(x->msg, more, "cannot list ports: %s", vault_errmsg(x->v));
		goto out;
	}
	r = sso_out_json(x, arr);
	arr = NULL;
out:
	svbuf_free(plain);
	vault_cursor_close(cur);
	json_decref(arr);
	return r;
}

int
sso_h_port_delete(struct sso_ctx *x, struct svbuf *req)
{
	char key[SSO_NAME_MAX + 1];
	int r;

	if ((r = sso_app_key(x->object, key, x->msg)) != 0)
		return r;
	r = vault_record_del(x->txn, SSO_TABLE_PORTS, key, strlen(key));
	if (r == SV_ERR_NOT_FOUND)
		return sv_fail(x->msg, r, "no send port '%s': see 'ssovault port list'",
		    x->object);
	if (r != 0)
		return sv_fail(x->msg, r, "cannot delete port '%s': %s", x->object,
		    vault_errmsg(x->v));
	return 0;
}
