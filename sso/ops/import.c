/*
 * import.c: `app import`: ENTSSO XML files (<sso><application>... and
 * <sso><mapping>...) made into apps and mappings, in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "apps.h"

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
	if ((r = sso_app_create(im->x, spec)) == 0)
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
	if ((r = sso_json_get(im->x->txn, SSO_TABLE_APPS, key, &app, im->x->msg)) != 0) {
		if (r == SV_ERR_NOT_FOUND)
			sv_fail(im->x->msg, r, "no affiliate application '%s'", appname);
		goto out;
	}
	/* a group app's mapping names one of its groups */
	if ((r = account_principal(im, user, sso_app_is_group(app) ? "group" : "user", p)) != 0)
		goto out;
	im->x->msg[0] = '\0';
	if ((r = sso_mapping_create(im->x, app, p, ext)) != 0)
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
