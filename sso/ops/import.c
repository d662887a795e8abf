/*
 * import.c: ENTSSO XML files made into apps and mappings, in the
 * operation's one transaction: `app import` (ssomanage -createapps,
 * -createmappings; -updateapps with --update) and `mapping delete-many`
 * (-deletemappings).  Every element and attribute of ENTSSO's formats is
 * carried over with its meaning or reported per application and line
 * (docs/apps.md has the table); what ssovault cannot do is skipped with a
 * warning and the rest imports, unless --strict makes warnings errors.
 * Errors (malformed XML, a bad value, a conflict) change nothing.  The
 * <application> elements are import_app.c's, accounts accounts.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/libload.h"
#include "import.h"

/*
 * Names are compared without case, elements and attributes alike (ENTSSO's
 * own samples write "appUserAccount", "appuserAccount" and "Masked").
 * Entities are never expanded and DTDs are refused, so neither entity bombs
 * nor external entities can do anything; the network is off.
 */
int
import_xml_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcasecmp(n->name, BAD_CAST name) == 0;
}

/* The value of attribute name in any case, malloc'd by libxml2 (xmlFree), or NULL. */
xmlChar *
import_xml_attr(const xmlNode *n, const char *name)
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
int
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
char *
import_xml_text(const xmlNode *n)
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
int
import_xml_stray(const xmlNode *n)
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
long long
import_xml_uint(const char *s)
{
	long long v = 0;
	size_t n = 0;

	for (; *s >= '0' && *s <= '9' && n < 10; s++, n++)
		v = v * 10 + (*s - '0');
	return n == 0 || n > 9 || *s != '\0' ? -1 : v;
}

/* yes/no/true/false/1/0 (any case) -> 1/0; -1 if none of them. */
int
import_xml_bool(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
		return 1;
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
		return 0;
	return -1;
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
		if (import_xml_stray(n)) {
			r = sv_fail(im->x->msg, SV_ERR_INVALID, "unexpected text in <mapping>");
			bad = map;
			continue;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (import_xml_is(n, "windowsDomain"))
			slot = &domain;
		else if (import_xml_is(n, "windowsUserId"))
			slot = &user;
		else if (import_xml_is(n, "externalApplication"))
			slot = &appname;
		else if (import_xml_is(n, "externalUserId"))
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
		if ((*slot = import_xml_text(n)) == NULL)
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
	if ((r = libload_xml_need(x->msg)) != 0)
		return r;
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
	if (root == NULL || !import_xml_is(root, "sso")) {
		r = sv_fail(x->msg, SV_ERR_BAD_FORMAT,
		    "line %ld: the root element must be <sso>", root != NULL ? xmlGetLineNo(root) : 0L);
		goto out;
	}
	for (n = root->children; n != NULL && r == 0; n = n->next) {
		if (import_xml_stray(n)) {
			x->msg[0] = '\0';
			sv_fail(x->msg, SV_ERR_BAD_FORMAT, "unexpected text in <sso>");
			r = import_fail(im, root, SV_ERR_BAD_FORMAT);
			break;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		x->msg[0] = '\0';
		if (import_xml_is(n, "application"))
			r = import_application(im, n);
		else if (import_xml_is(n, "mapping"))
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
