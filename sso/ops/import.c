/*
 * import.c: ENTSSO XML files made into apps and mappings, in the
 * operation's one transaction: `app import` (ssomanage -createapps,
 * -createmappings; -updateapps with --update) and `mapping delete-many`
 * (-deletemappings).  Every element and attribute of ENTSSO's formats is
 * carried over with its meaning or reported per application and line
 * (docs/apps.md has the table); what ssovault cannot do is skipped with a
 * warning and the rest imports, unless --strict makes warnings errors.
 * Errors (malformed XML, a bad value, a conflict) change nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "import.h"

/*
 * Names are compared without case, elements and attributes alike (ENTSSO's
 * own samples write "appUserAccount", "appuserAccount" and "Masked").
 * Entities are never expanded and DTDs are refused, so neither entity bombs
 * nor external entities can do anything; the network is off.
 */
static int
xml_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcasecmp(n->name, BAD_CAST name) == 0;
}

/* The value of attribute name in any case, malloc'd by libxml2 (xmlFree), or NULL. */
static xmlChar *
xml_attr(const xmlNode *n, const char *name)
{
	const xmlAttr *a;

	for (a = n->properties; a != NULL; a = a->next)
		if (xmlStrcasecmp(a->name, BAD_CAST name) == 0)
			return xmlNodeGetContent((const xmlNode *)a);
	return NULL;
}

void
import_warn(struct import *im, long line, const char *fmt, ...)
{
	char raw[SV_MSG_MAX], m[SV_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* names from the file end up on a terminal: one printable line */
	sv_fail(m, 0, "%s", raw);
	json_array_append_new(im->warnings, json_pack("{s:s?,s:I,s:s}", "application",
	    im->warn_app, "line", (json_int_t)line, "message", m));
}

/* Prefix x->msg with where in the file it happened. */
static int
import_fail(struct import *im, const xmlNode *n, int r)
{
	char m[SV_MSG_MAX];

	snprintf(m, sizeof(m), "%s", im->x->msg[0] != '\0' ? im->x->msg : sv_strerror(r));
	if (im->app != NULL)
		return sv_fail(im->x->msg, r, "line %ld: application '%.64s': %.140s",
		    xmlGetLineNo(n), im->app, m);
	return sv_fail(im->x->msg, r, "line %ld: <%.40s>: %.180s", xmlGetLineNo(n),
	    (const char *)n->name, m);
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

/* yes/no/true/false/1/0 (any case) -> 1/0; -1 if none of them. */
static int
xml_bool(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
		return 1;
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
		return 0;
	return -1;
}

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
			t = xml_uint((const char *)val);
			if (t < 0 || t > SSO_TICKET_TIMEOUT_MAX)
				r = sv_fail(im->x->msg, SV_ERR_INVALID,
				    "%s must be 0 to %d minutes", f->name, SSO_TICKET_TIMEOUT_MAX);
			else
				json_object_set_new(a->spec, "ticket_timeout", json_integer(t));
		} else if ((b = xml_bool((const char *)val)) < 0) {
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
	xmlChar *ord = xml_attr(n, "ordinal"), *label = xml_attr(n, "label");
	xmlChar *masked = xml_attr(n, "masked");
	long long o = -1;
	int m = 0, r = 0;

	if (ord != NULL)
		o = xml_uint((const char *)ord);
	if (o < 0 || o > APP_FIELDS_MAX)
		r = sv_fail(im->x->msg, SV_ERR_INVALID, "ordinal must be 0 to %d", APP_FIELDS_MAX);
	else if (label == NULL)
		r = sv_fail(im->x->msg, SV_ERR_INVALID, "a field needs a label");
	else if (masked != NULL && (m = xml_bool((const char *)masked)) < 0)
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
		if (xml_stray(n)) {
			*ret_bad = app;
			r = sv_fail(im->x->msg, SV_ERR_INVALID, "unexpected text in <application>");
			break;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xml_is(n, "field")) {
			r = import_field(im, a, n);
			continue;
		}
		if (xml_is(n, "flags")) {
			r = import_flags(im, a, n);
			continue;
		}
		if ((s = xml_text(n)) == NULL) {
			r = SV_ERR_NOMEM;
			continue;
		}
		if (xml_is(n, "description") || xml_is(n, "contact")) {
			if (json_object_set_new(a->spec, xml_is(n, "contact") ? "contact" :
			    "description", json_string(s)) != 0)
				r = sv_fail(im->x->msg, SV_ERR_INVALID, "not valid UTF-8 text");
		} else if (xml_is(n, "appUserAccount") || xml_is(n, "appAdminAccount") ||
		    xml_is(n, "userGroup") || xml_is(n, "appAdminGroup")) {
			/* userGroup, appAdminGroup: as BizTalk's adapter guides write them */
			r = import_accounts(im, a, n, xml_is(n, "appUserAccount") ||
			    xml_is(n, "userGroup") ? "users" : "admins", s);
		} else if (xml_is(n, "windowsAccount")) {
			a->host_group = 1;
		} else if (xml_is(n, "appTicketTimeout") || xml_is(n, "ticketTimeout")) {
			long long t = xml_uint(s);

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

static int
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
	if ((name = xml_attr(node, "name")) == NULL) {
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

/* --- <mapping> -------------------------------------------------------------- */

static int
mapping_delete(struct import *im, json_t *app, const char *p, long line)
{
	char appkey[SSO_APP_KEY_MAX + 1];
	uint8_t k[MAPPING_KEY_MAX];
	struct sso_mapping *m = NULL;
	size_t kl;
	int r, enabled;

	if ((r = sso_mapping_get(im->x, app, p, &m)) == SV_ERR_NOT_FOUND) {
		import_warn(im, line, "no mapping of %s in '%s': nothing to delete (line %ld)", p,
		    sso_app_name(app), line);
		return 0;
	}
	if (r != 0)
		return r;
	enabled = m->enabled;
	sso_mapping_free(m);
	if (enabled) {
		import_warn(im, line, "the mapping of %s to '%s' is enabled: not deleted (disable "
		    "it first) (line %ld)", p, sso_app_name(app), line);
		im->skipped++;
		return 0;
	}
	if ((r = sso_app_key_of(im->x, app, appkey)) != 0 ||
	    (r = sso_mapping_key(appkey, p, k, &kl)) != 0)
		return r;
	if ((r = vault_record_del(im->x->txn, SSO_TABLE_MAPPINGS, k, kl)) != 0)
		return sv_fail(im->x->msg, r, "%s", vault_errmsg(im->x->v));
	im->deleted++;
	return 0;
}

/* -updateapps files may repeat a mapping: the same one is kept, another is reported. */
static int
mapping_exists(struct import *im, json_t *app, const char *p, const char *ext, long line)
{
	struct sso_mapping *m = NULL;
	int r;

	if ((r = sso_mapping_get(im->x, app, p, &m)) != 0)
		return r == SV_ERR_NOT_FOUND ? 0 : r;
	if (strcmp(m->external, ext) != 0)
		import_warn(im, line, "%s is already mapped in '%s' to another external user: "
		    "kept (line %ld)", p, sso_app_name(app), line);
	sso_mapping_free(m);
	return 1;
}

static int
import_mapping(struct import *im, const xmlNode *map)
{
	char *domain = NULL, *user = NULL, *appname = NULL, *ext = NULL, **slot;
	char key[SSO_APP_KEY_MAX + 1], p[SSO_PRINCIPAL_MAX], acct[2 * SSO_PRINCIPAL_MAX];
	const xmlNode *n, *bad = map;
	long line = xmlGetLineNo(map);
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
			import_warn(im, xmlGetLineNo(n), "unknown element <%.40s> of a mapping "
			    "ignored (line %ld)", (const char *)n->name, xmlGetLineNo(n));
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
	if (user == NULL || appname == NULL || (ext == NULL && im->mode != IMPORT_DELETE)) {
		r = sv_fail(im->x->msg, SV_ERR_INVALID,
		    "a mapping needs windowsUserId, externalApplication and externalUserId");
		goto out;
	}
	im->warn_app = appname;
	if ((r = sso_app_name_key(appname, key, im->x->msg)) != 0)
		goto out;
	if (json_object_get(im->skipped_apps, key) != NULL) {
		import_warn(im, line, "the mapping of '%s' to '%s' is skipped with its application "
		    "(line %ld)", user, appname, line);
		im->skipped++;
		goto out;
	}
	if ((r = sso_json_get(im->x->txn, SSO_TABLE_APPS, key, &app, im->x->msg)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			sv_fail(im->x->msg, r, "no affiliate application '%s'", appname);
		goto out;
	}
	if ((r = sso_app_not_config(im->x, app)) != 0)
		goto out;
	/* <windowsDomain>D</windowsDomain><windowsUserId>u</...> is the account D\u */
	if (domain != NULL && *domain != '\0' && strchr(user, '\\') == NULL &&
	    strchr(user, ':') == NULL)
		snprintf(acct, sizeof(acct), "%s\\%s", domain, user);
	else
		snprintf(acct, sizeof(acct), "%s", user);
	/* a group app's mapping names one of its groups */
	if ((r = import_account(im, line, acct, sso_app_is_group(app) ? "group" : "user", p)) != 0)
		goto out;
	im->x->msg[0] = '\0';
	if (im->mode == IMPORT_DELETE) {
		r = mapping_delete(im, app, p, line);
		goto out;
	}
	if (im->mode == IMPORT_UPDATE && (r = mapping_exists(im, app, p, ext, line)) != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	if ((r = sso_mapping_create(im->x, app, p, ext)) != 0)
		goto out;
	im->mappings++;
out:
	im->warn_app = NULL;
	json_decref(app);
	free(domain);
	free(user);
	free(appname);
	free(ext);
	return r == 0 ? 0 : import_fail(im, bad, r);
}

/* --- the file ---------------------------------------------------------------- */

/* `s xml [| u8 mode | u8 options | u8 accounts | s account map (JSON)]` */
static int
import_request(struct import *im, struct svbuf *req, const uint8_t **ret_xml,
    size_t *ret_len)
{
	uint8_t mode = IMPORT_CREATE, opts = 0, acc = ACCOUNTS_NAME;
	const uint8_t *m;
	json_error_t e;
	size_t ml = 0;
	int r;

	if ((r = svbuf_get_string_direct(req, ret_xml, ret_len)) != 0)
		return r;
	if (svbuf_len(req) > 0 &&
	    ((r = svbuf_get_u8(req, &mode)) != 0 || (r = svbuf_get_u8(req, &opts)) != 0 ||
	    (r = svbuf_get_u8(req, &acc)) != 0 || (r = svbuf_get_string_direct(req, &m, &ml)) != 0))
		return r;
	if (mode > IMPORT_UPDATE || (opts & ~(IMPORT_STRICT | IMPORT_DRY_RUN)) != 0 ||
	    acc > ACCOUNTS_DOMAIN_NAME)
		return sv_fail(im->x->msg, SV_ERR_INVALID, "unknown import options");
	if (im->mode != IMPORT_DELETE)
		im->mode = (enum import_mode)mode;
	else if (mode != IMPORT_CREATE)
		return sv_fail(im->x->msg, SV_ERR_INVALID, "a deletion takes no --update");
	im->opts = opts;
	im->accounts = (enum import_accounts)acc;
	if (ml == 0)
		im->map = json_object();
	else if ((im->map = json_loadb((const char *)m, ml, JSON_REJECT_DUPLICATES, &e)) == NULL ||
	    !json_is_object(im->map))
		return sv_fail(im->x->msg, SV_ERR_INVALID,
		    "the account map is not a JSON object of account to principal");
	return im->map == NULL ? SV_ERR_NOMEM : 0;
}

/*
 * Internet Explorer showed XML with "- " before each element it could fold,
 * and files copied from it keep them (ENTSSO's own host-initiated SSO sample
 * does).  A copy of p with the "- " or "+ " that begins a line before a
 * tag made blank, or NULL if there is none (or no memory).
 */
static char *
ie_markers_blanked(const uint8_t *p, size_t len, size_t *ret_count)
{
	char *c = malloc(len + 1);
	size_t i = 0, k, n = 0;

	if (c == NULL)
		return NULL;
	memcpy(c, p, len);
	c[len] = '\0';
	while (i < len) {
		for (k = i; k < len && (c[k] == ' ' || c[k] == '\t'); k++)
			;
		if (k + 2 < len && (c[k] == '-' || c[k] == '+') && c[k + 1] == ' ' &&
		    memchr(c + k + 2, '<', len - k - 2) != NULL) {
			size_t t = k + 2;

			while (t < len && (c[t] == ' ' || c[t] == '\t'))
				t++;
			if (t < len && c[t] == '<') {
				c[k] = ' ';
				n++;
			}
		}
		while (i < len && c[i] != '\n')
			i++;
		i++;
	}
	if (n == 0) {
		free(c);
		return NULL;
	}
	*ret_count = n;
	return c;
}

static xmlDocPtr
parse(xmlParserCtxtPtr ctxt, const char *p, size_t len)
{
	return xmlCtxtReadMemory(ctxt, p, (int)len, "import.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
}

static int
import_file(struct import *im, const uint8_t *p, size_t len)
{
	struct sso_ctx *x = im->x;
	xmlParserCtxtPtr ctxt = NULL;
	const xmlNode *root, *n;
	xmlDocPtr doc = NULL;
	const xmlError *e;
	char *blanked = NULL;
	size_t markers = 0;
	int r = 0;

	if (len > IMPORT_MAX)
		return sv_fail(x->msg, SV_ERR_TOO_LARGE, "the file is larger than 4 MiB");
	/* refused before parsing: nothing in a DTD is ever looked at */
	if (memmem(p, len, "<!DOCTYPE", 9) != NULL || memmem(p, len, "<!ENTITY", 8) != NULL)
		return sv_fail(x->msg, SV_ERR_BAD_FORMAT,
		    "DTDs are not accepted: remove the <!DOCTYPE ...> declaration");
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		return SV_ERR_NOMEM;
	doc = parse(ctxt, (const char *)p, len);
	if ((doc == NULL || !ctxt->wellFormed) &&
	    (blanked = ie_markers_blanked(p, len, &markers)) != NULL) {
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		if ((ctxt = xmlNewParserCtxt()) == NULL) {
			free(blanked);
			return SV_ERR_NOMEM;
		}
		if ((doc = parse(ctxt, blanked, len)) != NULL && ctxt->wellFormed)
			import_warn(im, 1, "the file holds %zu of Internet Explorer's XML view "
			    "markers ('- ' before a tag): read without them (line 1)", markers);
	}
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
	for (n = root->children; n != NULL && r == 0; n = n->next) {
		if (xml_stray(n)) {
			x->msg[0] = '\0';
			sv_fail(x->msg, SV_ERR_BAD_FORMAT, "unexpected text in <sso>");
			r = import_fail(im, root, SV_ERR_BAD_FORMAT);
			break;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		x->msg[0] = '\0';
		if (xml_is(n, "application"))
			r = import_application(im, n);
		else if (xml_is(n, "mapping"))
			r = import_mapping(im, n);
		else
			import_warn(im, xmlGetLineNo(n), "unknown element <%.40s> ignored (line %ld)",
			    (const char *)n->name, xmlGetLineNo(n));
	}
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	free(blanked);
	return r;
}

/* The shared body of `app import` and `mapping delete-many`. */
static int
import_run(struct sso_ctx *x, struct svbuf *req, enum import_mode mode)
{
	struct import im;
	struct vault_txn *outer = x->txn, *trial = NULL;
	const uint8_t *p;
	json_t *w;
	size_t len;
	int r;

	memset(&im, 0, sizeof(im));
	im.x = x;
	im.mode = mode;
	if ((im.warnings = json_array()) == NULL || (im.skipped_apps = json_object()) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = import_request(&im, req, &p, &len)) != 0)
		goto out;
	/* a dry run works in a child transaction it throws away */
	if ((im.opts & IMPORT_DRY_RUN) && (r = vault_txn_begin_nested(outer, &trial)) != 0) {
		r = sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
		goto out;
	}
	if (trial != NULL)
		x->txn = trial;
	r = import_file(&im, p, len);
	x->txn = outer;
	vault_txn_abort(trial);
	if (r != 0)
		goto out;
	if ((im.opts & IMPORT_STRICT) && json_array_size(im.warnings) > 0) {
		w = json_array_get(im.warnings, 0);
		r = sv_fail(x->msg, SV_ERR_INVALID, "--strict: %zu warning(s), nothing was changed; "
		    "the first: %.160s", json_array_size(im.warnings),
		    json_string_value(json_object_get(w, "message")));
		goto out;
	}
	x->object[0] = '\0';
	r = sso_out_json(x, json_pack("{s:I,s:I,s:I,s:I,s:I,s:b,s:O}",
	    "applications", (json_int_t)im.apps, "updated", (json_int_t)im.updated,
	    "mappings", (json_int_t)im.mappings, "deleted", (json_int_t)im.deleted,
	    "skipped", (json_int_t)im.skipped, "dry_run", (im.opts & IMPORT_DRY_RUN) != 0,
	    "warnings", im.warnings));
out:
	json_decref(im.warnings);
	json_decref(im.skipped_apps);
	json_decref(im.map);
	return r;
}

int
sso_h_app_import(struct sso_ctx *x, struct svbuf *req)
{
	return import_run(x, req, IMPORT_CREATE);
}

int
sso_h_mapping_delete_many(struct sso_ctx *x, struct svbuf *req)
{
	return import_run(x, req, IMPORT_DELETE);
}
