/*
 * config.c: config store applications (ENTSSO's configStoreApp, read and
 * written through ISSOConfigStore GetConfigInfo / SetConfigInfo): `config
 * set` and `config get`.  An app of type "config" holds, per identifier, one
 * value for each of its fields: settings a service reads, sealed and audited
 * like credentials.  A record lives in the mappings table under the app's
 * key range, its principal part SSO_CONFIG_PREFIX and the identifier's key;
 * it is a mapping record (apps.h) whose external user is the identifier as
 * given and whose values are every field's, so it is decoded only into
 * secure memory and deleted with the app.
 */
#include <stdio.h>
#include <string.h>

#include "apps.h"

/* ENTSSO's SSOConfigStore helpers and BizTalk's tools use this identifier. */
#define CONFIG_DEFAULT_ID "ConfigProperties"

static int
config_record(struct sso_ctx *x, struct svbuf *req, char id[SSO_APP_NAME_MAX + 2],
    char ret_principal[SSO_PRINCIPAL_MAX])
{
	char key[SSO_APP_KEY_MAX + 1], q[SSO_QUOTED_MAX];
	int r;

	if (!sso_app_is_config(x->app)) {
		sso_shell_quote(x->object, q, sizeof(q));
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "'%s' is not a config store app: its credentials are read with "
		    "'ssovault creds get %s'", x->object, q);
	}
	if ((r = sso_req_name(req, id, SSO_APP_NAME_MAX + 2)) != 0)
		return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    "invalid identifier: 1 to %d bytes of UTF-8 expected", SSO_APP_NAME_MAX);
	if (id[0] == '\0')
		snprintf(id, SSO_APP_NAME_MAX + 2, "%s", CONFIG_DEFAULT_ID);
	/* identifiers follow the rule of app names: any case is the same one */
	if ((r = sso_app_name_key(id, key, NULL)) != 0)
		return sv_fail(x->msg, r, "invalid identifier: 1 to %d bytes of UTF-8, without "
		    "control characters or a space at either end", SSO_APP_NAME_MAX);
	snprintf(ret_principal, SSO_PRINCIPAL_MAX, "%s%s", SSO_CONFIG_PREFIX, key);
	snprintf(x->target, sizeof(x->target), "%s%s", SSO_CONFIG_PREFIX, id);
	return 0;
}

int
sso_h_config_set(struct sso_ctx *x, struct svbuf *req)
{
	char id[SSO_APP_NAME_MAX + 2], p[SSO_PRINCIPAL_MAX];
	size_t n = json_array_size(json_object_get(x->app, "fields"));
	struct sso_mapping *m = NULL;
	int r;

	if ((r = config_record(x, req, id, p)) != 0)
		return r;
	if ((r = sso_mapping_get(x, x->app, p, &m)) == SV_ERR_NOT_FOUND) {
		x->msg[0] = '\0';
		if ((m = sso_mapping_new(p, id, (uint32_t)n)) == NULL)
			return SV_ERR_NOMEM;
	} else if (r != 0) {
		return r;
	}
	if (m->n != n) {
		r = sv_fail(x->msg, SV_ERR_INTEGRITY,
		    "the settings of '%s' do not match the app's fields", x->object);
		goto out;
	}
	if ((r = sso_values_take(x, req, m, 1)) != 0)
		goto out;
	m->enabled = 1;
	m->creds_set = 1;
	r = sso_mapping_put(x, x->app, m, 0);
out:
	sso_mapping_free(m);
	return r;
}

int
sso_h_config_get(struct sso_ctx *x, struct svbuf *req)
{
	char id[SSO_APP_NAME_MAX + 2], p[SSO_PRINCIPAL_MAX], qa[SSO_QUOTED_MAX];
	char qi[SSO_QUOTED_MAX];
	struct sso_mapping *m = NULL;
	int r;

	if ((r = config_record(x, req, id, p)) != 0)
		return r;
	sso_shell_quote(x->object, qa, sizeof(qa));
	sso_shell_quote(id, qi, sizeof(qi));
	if (!sso_app_flag(x->app, "enabled"))
		return sv_fail(x->msg, SV_ERR_DISABLED,
		    "application '%s' is disabled: an affiliate admin can enable it with "
		    "'ssovault app enable %s'", x->object, qa);
	if ((r = sso_mapping_get(x, x->app, p, &m)) == SV_ERR_NOT_FOUND)
		return sv_fail(x->msg, r, "no settings '%s' in '%s': an app admin sets them with "
		    "'ssovault config set %s --identifier %s'", id, x->object, qa, qi);
	if (r != 0)
		return r;
	if (m->n != json_array_size(json_object_get(x->app, "fields")))
		r = sv_fail(x->msg, SV_ERR_INTEGRITY,
		    "the settings of '%s' do not match the app's fields", x->object);
	else
		r = sso_values_reply(x, x->app, m, 1);
	sso_mapping_free(m);
	return r;
}
