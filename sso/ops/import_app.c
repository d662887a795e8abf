/*
 * import_app.c: the <application> elements of ENTSSO XML files (import.c
 * reads the file): every flag and element made into the app's members or a
 * warning (docs/apps.md has the table), created, or with --update applied
 * to the existing app (-updateapps).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "import.h"

/* --- <application> --------------------------------------------------------- */

/*
 * ENTSSO's application flags (ISSOAdmin2 GetApplicationInfo2, the
 * ssomanage samples) and what each becomes.  docs/apps.md has the table.
 */
enum flag_kind {
	F_MEMBER,		/* a boolean member of the app, same meaning */
	F_GROUP,		/* groupApp: type group */
	F_CONFIG,		/* configStoreApp: type config */
	F_HOST,			/* hostInitiatedSSO */
	F_WINDOWS,		/* windowsInitiatedSSO */
	F_TIMEOUT,		/* appTicketTimeout, ticketTimeout: minutes */
	F_SAME,			/* either value means what it means here */
	F_UNSUPPORTED_YES,	/* "yes" asks for what ssovault does not do */
	F_UNSUPPORTED_NO,	/* "no" asks for what ssovault does not do */
};

static const struct flag_def {
	const char *name;
	enum flag_kind kind;
	const char *member;	/* F_MEMBER; for the others, what is not supported */
} flags[] = {
	{ "enableApp", F_MEMBER, "enabled" },
	{ "allowTickets", F_MEMBER, "allow_tickets" },
	{ "validateTickets", F_MEMBER, "validate_tickets" },
	{ "timeoutTickets", F_MEMBER, "tickets_expire" },
	{ "allowLocalAccounts", F_MEMBER, "allow_local_accounts" },
	{ "adminAccountSame", F_MEMBER, "admin_account_same" },
	{ "ticketReuse", F_MEMBER, "ticket_reuse" },
	{ "groupApp", F_GROUP, NULL },
	{ "configStoreApp", F_CONFIG, NULL },
	{ "hostInitiatedSSO", F_HOST, NULL },
	{ "windowsInitiatedSSO", F_WINDOWS, NULL },
	{ "appTicketTimeout", F_TIMEOUT, NULL },
	{ "ticketTimeout", F_TIMEOUT, NULL },
	/* host-initiated SSO only, and ssovault never caches credentials */
	{ "validatePassword", F_SAME, NULL },
	{ "disableCredCache", F_SAME, NULL },
	{ "syncFromAdapter", F_UNSUPPORTED_YES, "password synchronization" },
	{ "syncToAdapter", F_UNSUPPORTED_YES, "password synchronization" },
	{ "changeWindowsPassword", F_UNSUPPORTED_YES, "password synchronization" },
	{ "verifyOldPassword", F_UNSUPPORTED_YES, "password synchronization" },
	{ "sendOldPassword", F_UNSUPPORTED_YES, "password synchronization" },
	{ "directPasswordSync", F_UNSUPPORTED_YES, "password synchronization" },
	{ "groupAdapter", F_UNSUPPORTED_YES, "password synchronization adapters" },
	{ "allowMappingConflicts", F_UNSUPPORTED_YES, "mapping conflicts" },
	{ "windowsCreds", F_UNSUPPORTED_YES, "Windows credentials (host-initiated SSO)" },
	{ "restrictedCreds", F_UNSUPPORTED_YES, "restricted credentials" },
	{ "showFilterOnly", F_UNSUPPORTED_YES, "the ENTSSO console's filter" },
	{ "restrictMappingCreate", F_UNSUPPORTED_NO,
	    "users creating their own mappings (ssovault: admins create mappings)" },
	{ NULL, 0, NULL },
};

/* An <application> as read, before it is made or applied. */
struct app_in {
	const xmlNode *node;
	long line;
	json_t *spec;		/* members given, as app create / update take them */
	json_t *slots[APP_FIELDS_MAX + 1];
	int host, windows, host_group;
	int skip;
};

static void
app_in_clear(struct app_in *a)
{
	size_t i;

	json_decref(a->spec);
	for (i = 0; i <= APP_FIELDS_MAX; i++)
		json_decref(a->slots[i]);
}

static int
import_flags(struct import *im, struct app_in *a, const xmlNode *n)
{
	const struct flag_def *f;
	const xmlAttr *at;
	xmlChar *val;
	long long t;
	int b, r = 0;

	for (at = n->properties; at != NULL && r == 0; at = at->next) {
		for (f = flags; f->name != NULL; f++)
			if (xmlStrcasecmp(at->name, BAD_CAST f->name) == 0)
				break;
		if (f->name == NULL) {
			import_warn(im, a->line, "unknown flag '%.40s' of '%s' ignored (line %ld)",
			    (const char *)at->name, im->app, xmlGetLineNo(n));
			continue;
		}
		if ((val = xmlNodeGetContent((const xmlNode *)at)) == NULL)
			return SV_ERR_NOMEM;
		if (f->kind == F_TIMEOUT) {
			t = import_xml_uint((const char *)val);
			if (t < 0 || t > SSO_TICKET_TIMEOUT_MAX)
				r = sv_fail(im->x->msg, SV_ERR_INVALID,
				    "%s must be 0 to %d minutes", f->name, SSO_TICKET_TIMEOUT_MAX);
			else
				json_object_set_new(a->spec, "ticket_timeout", json_integer(t));
		} else if ((b = import_xml_bool((const char *)val)) < 0) {
			r = sv_fail(im->x->msg, SV_ERR_INVALID, "%s must be yes or no", f->name);
		} else if (f->kind == F_MEMBER) {
			json_object_set_new(a->spec, f->member, json_boolean(b));
		} else if (f->kind == F_GROUP || f->kind == F_CONFIG) {
			if (b || json_object_get(a->spec, "type") == NULL)
				json_object_set_new(a->spec, "type", json_string(!b ? "individual" :
				    f->kind == F_GROUP ? "group" : "config"));
		} else if (f->kind == F_HOST) {
			a->host = b;
		} else if (f->kind == F_WINDOWS) {
			a->windows = b;
		} else if ((f->kind == F_UNSUPPORTED_YES && b) || (f->kind == F_UNSUPPORTED_NO && !b)) {
			import_warn(im, a->line, "%s is not supported: flag %s=\"%s\" of '%s' ignored "
			    "(line %ld)", f->member, f->name, (const char *)val, im->app,
			    xmlGetLineNo(n));
		}
		xmlFree(val);
	}
	return r;
}

/* A <field ordinal="N" label="..." masked="yes|no"/> into slots[N]. */
static int
import_field(struct import *im, struct app_in *a, const xmlNode *n)
{
	xmlChar *ord = import_xml_attr(n, "ordinal"), *label = import_xml_attr(n, "label");
	xmlChar *masked = import_xml_attr(n, "masked");
	long long o = -1;
	int m = 0, r = 0;

	if (ord != NULL)
		o = import_xml_uint((const char *)ord);
	if (o < 0 || o > APP_FIELDS_MAX)
		r = sv_fail(im->x->msg, SV_ERR_INVALID, "ordinal must be 0 to %d", APP_FIELDS_MAX);
	else if (label == NULL)
		r = sv_fail(im->x->msg, SV_ERR_INVALID, "a field needs a label");
	else if (masked != NULL && (m = import_xml_bool((const char *)masked)) < 0)
		r = sv_fail(im->x->msg, SV_ERR_INVALID, "masked must be yes or no");
	else if (a->slots[o] != NULL)
		r = sv_fail(im->x->msg, SV_ERR_INVALID, "ordinal %lld is given twice", o);
	else if ((a->slots[o] = json_pack("{s:s,s:b}", "label", (const char *)label,
	    "masked", m)) == NULL)
		r = sv_fail(im->x->msg, SV_ERR_INVALID, "the label is not valid UTF-8 text");
	xmlFree(ord);
	xmlFree(label);
	xmlFree(masked);
	return r;
}

/* An appUserAccount / appAdminAccount: "A;B" is several accounts. */
static int
import_accounts(struct import *im, struct app_in *a, const xmlNode *n, const char *k,
    const char *text)
{
	char p[SSO_PRINCIPAL_MAX], *dup, *tok, *save = NULL, *t;
	json_t *arr = json_object_get(a->spec, k);
	size_t len;
	int r = 0;

	if (arr == NULL) {
		arr = json_array();
		json_object_set_new(a->spec, k, arr);
	}
	if ((dup = strdup(text)) == NULL)
		return SV_ERR_NOMEM;
	for (tok = strtok_r(dup, ";", &save); tok != NULL && r == 0;
	    tok = strtok_r(NULL, ";", &save)) {
		for (t = tok; *t == ' ' || *t == '\t' || *t == '\r' || *t == '\n'; t++)
			;
		for (len = strlen(t); len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t' ||
		    t[len - 1] == '\r' || t[len - 1] == '\n'); len--)
			t[len - 1] = '\0';
		if (*t == '\0')
			continue;
		if ((r = import_account(im, xmlGetLineNo(n), t, NULL, p)) == 0 &&
		    !sso_json_array_has(arr, p))
			json_array_append_new(arr, json_string(p));
	}
	free(dup);
	return r;
}

/* The fields of slots, ordinals 0..n-1 without a gap, into a->spec. */
static int
app_fields(struct import *im, struct app_in *a)
{
	size_t nf = 0, i, first;
	json_t *fields;
	const char *l;

	while (nf <= APP_FIELDS_MAX && a->slots[nf] != NULL)
		nf++;
	for (i = nf; i <= APP_FIELDS_MAX; i++)
		if (a->slots[i] != NULL)
			return sv_fail(im->x->msg, SV_ERR_INVALID,
			    "field ordinals must run from 0 without gaps (%zu is missing)", nf);
	if (nf == 0)
		return 0;
	/* a config store app's field 0 is ENTSSO's reserved one: no setting */
	first = 0;
	if (sso_app_is_config(a->spec)) {
		l = json_string_value(json_object_get(a->slots[0], "label"));
		if (l != NULL && strcasecmp(l, "reserved") != 0)
			import_warn(im, a->line, "field 0 ('%s') of config store app '%s' is ENTSSO's "
			    "reserved field: not imported as a setting (line %ld)", l, im->app,
			    a->line);
		first = 1;
	}
	if (nf - first > APP_FIELDS_MAX)
		return sv_fail(im->x->msg, SV_ERR_INVALID, "at most %d fields", APP_FIELDS_MAX);
	if (nf == first)
		return 0;
	if ((fields = json_array()) == NULL)
		return SV_ERR_NOMEM;
	for (i = first; i < nf; i++)
		json_array_append(fields, a->slots[i]);
	json_object_set_new(a->spec, "fields", fields);
	return 0;
}

/* Read an <application> into a. */
static int
app_read(struct import *im, const xmlNode *app, struct app_in *a, const xmlNode **ret_bad)
{
	const xmlNode *n;
	char *s = NULL;
	int r = 0;

	a->line = xmlGetLineNo(app);
	a->windows = 1;
	a->host = 0;
	for (n = app->children; n != NULL && r == 0; n = n->next) {
		*ret_bad = n;
		if (import_xml_stray(n)) {
			*ret_bad = app;
			r = sv_fail(im->x->msg, SV_ERR_INVALID, "unexpected text in <application>");
			break;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (import_xml_is(n, "field")) {
			r = import_field(im, a, n);
			continue;
		}
		if (import_xml_is(n, "flags")) {
			r = import_flags(im, a, n);
			continue;
		}
		if ((s = import_xml_text(n)) == NULL) {
			r = SV_ERR_NOMEM;
			continue;
		}
		if (import_xml_is(n, "description") || import_xml_is(n, "contact")) {
			if (json_object_set_new(a->spec, import_xml_is(n, "contact") ? "contact" :
			    "description", json_string(s)) != 0)
				r = sv_fail(im->x->msg, SV_ERR_INVALID, "not valid UTF-8 text");
		} else if (import_xml_is(n, "appUserAccount") || import_xml_is(n, "appAdminAccount") ||
		    import_xml_is(n, "userGroup") || import_xml_is(n, "appAdminGroup")) {
			/* userGroup, appAdminGroup: as BizTalk's adapter guides write them */
			r = import_accounts(im, a, n, import_xml_is(n, "appUserAccount") ||
			    import_xml_is(n, "userGroup") ? "users" : "admins", s);
		} else if (import_xml_is(n, "windowsAccount")) {
			a->host_group = 1;
		} else if (import_xml_is(n, "appTicketTimeout") || import_xml_is(n, "ticketTimeout")) {
			long long t = import_xml_uint(s);

			if (t < 0 || t > SSO_TICKET_TIMEOUT_MAX)
				r = sv_fail(im->x->msg, SV_ERR_INVALID,
				    "%s must be 0 to %d minutes", (const char *)n->name,
				    SSO_TICKET_TIMEOUT_MAX);
			else
				json_object_set_new(a->spec, "ticket_timeout", json_integer(t));
		} else {
			import_warn(im, xmlGetLineNo(n), "unknown element <%.40s> of '%s' ignored "
			    "(line %ld)", (const char *)n->name, im->app, xmlGetLineNo(n));
		}
		free(s);
		s = NULL;
	}
	if (r != 0)
		return r;
	*ret_bad = app;
	/* ssovault looks credentials up for Windows (here: local) users only */
	if (a->host_group || !a->windows) {
		import_warn(im, a->line, "host-initiated SSO is not supported: skipped '%s' (line %ld)",
		    im->app, a->line);
		a->skip = 1;
		return 0;
	}
	if (a->host)
		import_warn(im, a->line, "host-initiated SSO is not supported: '%s' is imported for "
		    "Windows-initiated SSO only (line %ld)", im->app, a->line);
	if (sso_app_flag(a->spec, "admin_account_same") &&
	    json_array_size(json_object_get(a->spec, "admins")) > 0) {
		import_warn(im, a->line, "adminAccountSame: the admins of '%s' are the affiliate "
		    "admins; its appAdminAccount is ignored (line %ld)", im->app, a->line);
		json_object_del(a->spec, "admins");
	}
	return app_fields(im, a);
}

static int
fields_equal(json_t *a, json_t *b)
{
	size_t i;

	if (json_array_size(a) != json_array_size(b))
		return 0;
	for (i = 0; i < json_array_size(a); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(a, i), "label")),
		    json_string_value(json_object_get(json_array_get(b, i), "label"))) != 0 ||
		    json_is_true(json_object_get(json_array_get(a, i), "masked")) !=
		    json_is_true(json_object_get(json_array_get(b, i), "masked")))
			return 0;
	return 1;
}

struct refield {
	size_t held;		/* mappings with credentials */
	uint32_t n;		/* the new count of values */
	int rewrite;
};

/* Count mappings holding credentials, or give each the new count of empty values. */
static int
refield_mapping(struct sso_ctx *x, void *ctx, struct vault_cursor *c, const char *principal,
    const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct refield *f = ctx;
	struct sso_mapping *m = NULL;
	int r;

	/* a config store app's settings are values too */
	if (strncmp(principal, SSO_CONFIG_PREFIX, strlen(SSO_CONFIG_PREFIX)) == 0) {
		f->held += f->rewrite ? 0 : 1;
		return 0;
	}
	if ((r = sso_mapping_get(x, x->app, principal, &m)) != 0)
		return r;
	if (!f->rewrite) {
		f->held += m->creds_set ? 1 : 0;
	} else {
		/* no values were ever set: the new fields start empty */
		r = sso_mapping_resize(m, f->n);
		if (r == 0)
			r = sso_mapping_put(x, x->app, m, 0);
	}
	sso_mapping_free(m);
	return r;
}

/* -updateapps: change what the file gives of an existing app. */
static int
app_update(struct import *im, struct app_in *a, json_t *app)
{
	json_t *changes = NULL, *v, *fields;
	struct refield f = { 0, 0, 0 };
	const char *type;
	int r;

	type = json_string_value(json_object_get(a->spec, "type"));
	if (type != NULL && strcmp(type, json_string_value(json_object_get(app, "type"))) != 0) {
		import_warn(im, a->line, "the type of '%s' cannot change (it is %s, the file says %s): "
		    "skipped (line %ld)", im->app, json_string_value(json_object_get(app, "type")),
		    type, a->line);
		im->skipped++;
		return 0;
	}
	if ((v = json_object_get(a->spec, "admin_account_same")) != NULL &&
	    json_is_true(v) != sso_app_flag(app, "admin_account_same")) {
		import_warn(im, a->line, "adminAccountSame of '%s' cannot change: skipped (line %ld)",
		    im->app, a->line);
		im->skipped++;
		return 0;
	}
	fields = json_object_get(a->spec, "fields");
	if (fields != NULL && !fields_equal(fields, json_object_get(app, "fields"))) {
		json_t *saved = im->x->app;

		im->x->app = app;
		r = sso_mappings_walk(im->x, app, refield_mapping, &f);
		if (r == 0 && f.held > 0) {
			im->x->app = saved;
			import_warn(im, a->line, "the fields of '%s' cannot change while %zu mapping(s) "
			    "hold credentials: skipped (line %ld)", im->app, f.held, a->line);
			im->skipped++;
			return 0;
		}
		f.rewrite = 1;
		f.n = (uint32_t)(json_array_size(fields) - (sso_app_is_config(app) ? 0 : 1));
		if (r == 0)
			r = sso_mappings_walk(im->x, app, refield_mapping, &f);
		im->x->app = saved;
		if (r != 0)
			return r;
		json_object_set(app, "fields", fields);
	}
	if ((changes = json_deep_copy(a->spec)) == NULL)
		return SV_ERR_NOMEM;
	json_object_del(changes, "name");
	json_object_del(changes, "type");
	json_object_del(changes, "fields");
	json_object_del(changes, "admin_account_same");
	r = 0;
	if (json_object_size(changes) > 0)
		r = sso_app_apply(im->x, app, changes);
	else
		json_object_set_new(app, "updated", json_integer((json_int_t)im->x->now));
	json_decref(changes);
	if (r == 0 && (r = sso_app_store(im->x, app, 0)) == 0)
		im->updated++;
	return r;
}

int
import_application(struct import *im, const xmlNode *node)
{
	char key[SSO_APP_KEY_MAX + 1];
	const xmlNode *bad = node;
	xmlChar *name;
	size_t w0 = json_array_size(im->warnings);
	struct app_in a;
	json_t *app = NULL;
	int r;

	memset(&a, 0, sizeof(a));
	im->app = NULL;
	if ((name = import_xml_attr(node, "name")) == NULL) {
		sv_fail(im->x->msg, SV_ERR_INVALID, "an application needs a name attribute");
		return import_fail(im, node, SV_ERR_INVALID);
	}
	a.spec = json_pack("{s:s}", "name", (const char *)name);
	xmlFree(name);
	if (a.spec == NULL) {
		sv_fail(im->x->msg, SV_ERR_INVALID, "the name is not valid UTF-8 text");
		return import_fail(im, node, SV_ERR_INVALID);
	}
	im->app = im->warn_app = sso_app_name(a.spec);
	if (im->mode == IMPORT_DELETE) {
		import_warn(im, xmlGetLineNo(node), "a -deletemappings file holds mappings: "
		    "application '%s' ignored (line %ld)", im->app, xmlGetLineNo(node));
		r = 0;
		goto out;
	}
	if ((r = sso_app_name_key(im->app, key, im->x->msg)) != 0 ||
	    (r = app_read(im, node, &a, &bad)) != 0)
		goto out;
	if (a.skip) {
		/* what the skipped app would have been is no news: keep the skip */
		json_t *skip = json_incref(json_array_get(im->warnings,
		    json_array_size(im->warnings) - 1));

		while (json_array_size(im->warnings) > w0)
			json_array_remove(im->warnings, json_array_size(im->warnings) - 1);
		json_array_append_new(im->warnings, skip);
		im->skipped++;
		json_object_set_new(im->skipped_apps, key, json_true());
		goto out;
	}
	im->x->msg[0] = '\0';
	if (im->mode == IMPORT_CREATE) {
		r = sso_app_create(im->x, a.spec);
		if (r == SV_ERR_EXISTS)
			sv_fail(im->x->msg, r, "an application named '%s' already exists "
			    "(names ignore case): 'ssovault app import --update' updates it", im->app);
		if (r == 0)
			im->apps++;
		goto out;
	}
	if ((r = sso_json_get(im->x->txn, SSO_TABLE_APPS, key, &app, im->x->msg)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			sv_fail(im->x->msg, r, "no affiliate application '%s' to update: an import "
			    "without --update creates it", im->app);
		goto out;
	}
	r = app_update(im, &a, app);
out:
	json_decref(app);
	if (r != 0)
		r = import_fail(im, bad, r);
	app_in_clear(&a);
	im->app = im->warn_app = NULL;
	return r;
}

