/*
 * export.c: `app export`: applications and their mappings as ENTSSO XML,
 * the format `app import` and ENTSSO's ssomanage -createapps and
 * -createmappings read.  Never a secret: no credential and no config
 * setting is written, only what `app show` and `mapping list` show.  The
 * file is the same for the same apps (their key order, no times), so an
 * export, an import into a fresh vault and another export give one file.
 * With a Windows domain, accounts are written as ENTSSO has them
 * (DOMAIN\name, mappings with <windowsDomain>) for ssomanage on Windows.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "base/libload.h"
#include "import.h"

static const char *
yn(int b)
{
	return b ? "yes" : "no";
}

/*
 * A principal as a Windows account of domain dom: the kind dropped, uid:N
 * and gid:N as the name service names them, "name@realm" as dom\name, a
 * name that has its own "D\" keeps it.  The domain into d, the name into n.
 */
static void
windows_account(const char *p, const char *dom, char d[SSO_PRINCIPAL_MAX],
    char n[SSO_PRINCIPAL_MAX])
{
	char buf[4096], *at;
	const char *s = strchr(p, ':') != NULL ? strchr(p, ':') + 1 : p, *bs;
	struct passwd pw, *pp = NULL;
	struct group gr, *gp = NULL;
	unsigned long id = strtoul(s, NULL, 10);

	if (strncmp(p, "uid:", 4) == 0 && getpwuid_r((uid_t)id, &pw, buf, sizeof(buf), &pp) == 0 &&
	    pp != NULL)
		s = pp->pw_name;
	else if (strncmp(p, "gid:", 4) == 0 &&
	    getgrgid_r((gid_t)id, &gr, buf, sizeof(buf), &gp) == 0 && gp != NULL)
		s = gp->gr_name;
	if ((bs = strchr(s, '\\')) != NULL) {
		snprintf(d, SSO_PRINCIPAL_MAX, "%.*s", (int)(bs - s), s);
		snprintf(n, SSO_PRINCIPAL_MAX, "%s", bs + 1);
		return;
	}
	snprintf(d, SSO_PRINCIPAL_MAX, "%s", dom);
	snprintf(n, SSO_PRINCIPAL_MAX, "%s", s);
	if ((at = strrchr(n, '@')) != NULL && at > n)
		*at = '\0';
}

/* Principals as ENTSSO accounts: one "A;B" text, a name with ';' on its own. */
static int
write_accounts(xmlTextWriterPtr w, const char *element, json_t *arr, const char *dom)
{
	char joined[APP_PRINCIPALS_MAX * 16], acct[2 * SSO_PRINCIPAL_MAX + 2];
	char d[SSO_PRINCIPAL_MAX], nm[SSO_PRINCIPAL_MAX];
	size_t i, n = 0;
	json_t *v;
	int r = 0;

	joined[0] = '\0';
	json_array_foreach(arr, i, v) {
		const char *p = json_string_value(v);

		if (dom != NULL) {
			windows_account(p, dom, d, nm);
			snprintf(acct, sizeof(acct), "%s\\%s", d, nm);
			p = acct;
		}

		if (strchr(p, ';') != NULL) {
			r |= xmlTextWriterWriteElement(w, BAD_CAST element, BAD_CAST p) < 0;
			continue;
		}
		if (n + strlen(p) + 2 > sizeof(joined)) {
			r |= xmlTextWriterWriteElement(w, BAD_CAST element, BAD_CAST joined) < 0;
			n = 0;
			joined[0] = '\0';
		}
		n += (size_t)snprintf(joined + n, sizeof(joined) - n, "%s%s", n > 0 ? ";" : "", p);
	}
	if (n > 0)
		r |= xmlTextWriterWriteElement(w, BAD_CAST element, BAD_CAST joined) < 0;
	return r;
}

static int
write_field(xmlTextWriterPtr w, size_t ordinal, const char *label, int masked)
{
	char o[16];

	snprintf(o, sizeof(o), "%zu", ordinal);
	return xmlTextWriterStartElement(w, BAD_CAST "field") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "ordinal", BAD_CAST o) < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "label", BAD_CAST label) < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "masked", BAD_CAST yn(masked)) < 0 ||
	    xmlTextWriterEndElement(w) < 0;
}

/* The flags every export writes, in this order; on: absent means yes. */
static const struct {
	const char *attr, *member;
	int on;
} app_flags[] = {
	{ "allowTickets", "allow_tickets", 0 },
	{ "validateTickets", "validate_tickets", 0 },
	{ "allowLocalAccounts", "allow_local_accounts", 0 },
	{ "timeoutTickets", "tickets_expire", 1 },
	{ "adminAccountSame", "admin_account_same", 0 },
	{ "enableApp", "enabled", 0 },
	{ NULL, NULL, 0 },
};

static int
write_app(xmlTextWriterPtr w, json_t *app, const char *dom)
{
	int config = sso_app_is_config(app), r;
	json_int_t t = json_integer_value(json_object_get(app, "ticket_timeout"));
	size_t i, base = config ? 1 : 0;
	char tt[24];
	json_t *f;

	r = xmlTextWriterStartElement(w, BAD_CAST "application") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST sso_app_name(app)) < 0 ||
	    xmlTextWriterWriteElement(w, BAD_CAST "description",
	    BAD_CAST json_string_value(json_object_get(app, "description"))) < 0 ||
	    xmlTextWriterWriteElement(w, BAD_CAST "contact",
	    BAD_CAST json_string_value(json_object_get(app, "contact"))) < 0;
	r |= write_accounts(w, "appUserAccount", json_object_get(app, "users"), dom);
	r |= write_accounts(w, "appAdminAccount", json_object_get(app, "admins"), dom);
	/* ENTSSO's config store apps keep field 0 reserved */
	if (config)
		r |= write_field(w, 0, "Reserved", 0);
	json_array_foreach(json_object_get(app, "fields"), i, f)
		r |= write_field(w, i + base, json_string_value(json_object_get(f, "label")),
		    sso_app_flag(f, "masked"));
	r |= xmlTextWriterStartElement(w, BAD_CAST "flags") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "groupApp", BAD_CAST yn(sso_app_is_group(app))) < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "configStoreApp", BAD_CAST yn(config)) < 0;
	for (i = 0; app_flags[i].attr != NULL; i++)
		r |= xmlTextWriterWriteAttribute(w, BAD_CAST app_flags[i].attr,
		    BAD_CAST yn(app_flags[i].on ? sso_app_flag_on(app, app_flags[i].member) :
		    sso_app_flag(app, app_flags[i].member))) < 0;
	r |= (sso_app_flag(app, "ticket_reuse") &&
	    xmlTextWriterWriteAttribute(w, BAD_CAST "ticketReuse", BAD_CAST "yes") < 0) ||
	    xmlTextWriterEndElement(w) < 0;
	if (t > 0) {
		snprintf(tt, sizeof(tt), "%lld", (long long)t);
		r |= xmlTextWriterWriteElement(w, BAD_CAST "appTicketTimeout", BAD_CAST tt) < 0;
	}
	r |= xmlTextWriterEndElement(w) < 0;
	return r ? SV_ERR_NOMEM : 0;
}

struct export_ctx {
	xmlTextWriterPtr w;
	json_t *app;
	const char *dom;	/* NULL: accounts as principals */
};

static int
write_mapping(struct sso_ctx *x, void *ctx, struct vault_cursor *c, const char *principal,
    const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct export_ctx *e = ctx;
	struct sso_mapping *m = NULL;
	char d[SSO_PRINCIPAL_MAX], n[SSO_PRINCIPAL_MAX];
	int r;

	if ((r = sso_mapping_get(x, e->app, principal, &m)) != 0)
		return r;
	if (e->dom != NULL)
		windows_account(m->principal, e->dom, d, n);
	r = xmlTextWriterStartElement(e->w, BAD_CAST "mapping") < 0 ||
	    (e->dom != NULL &&
	    xmlTextWriterWriteElement(e->w, BAD_CAST "windowsDomain", BAD_CAST d) < 0) ||
	    xmlTextWriterWriteElement(e->w, BAD_CAST "windowsUserId",
	    BAD_CAST (e->dom != NULL ? n : m->principal)) < 0 ||
	    xmlTextWriterWriteElement(e->w, BAD_CAST "externalApplication",
	    BAD_CAST sso_app_name(e->app)) < 0 ||
	    xmlTextWriterWriteElement(e->w, BAD_CAST "externalUserId", BAD_CAST m->external) < 0 ||
	    xmlTextWriterEndElement(e->w) < 0 ? SV_ERR_NOMEM : 0;
	sso_mapping_free(m);
	return r;
}

int
export_xml(struct sso_ctx *x, json_t *apps, const char *dom, char **ret_xml)
{
	struct export_ctx e = { NULL, NULL, dom };
	xmlBufferPtr buf = NULL;
	json_t *app;
	size_t i;
	int r;

	if ((r = libload_xml_need(x->msg)) != 0)
		return r;
	r = SV_ERR_NOMEM;
	if ((buf = xmlBufferCreate()) == NULL || (e.w = xmlNewTextWriterMemory(buf, 0)) == NULL)
		goto out;
	if (xmlTextWriterSetIndent(e.w, 1) < 0 ||
	    xmlTextWriterSetIndentString(e.w, BAD_CAST "  ") < 0 ||
	    xmlTextWriterStartDocument(e.w, "1.0", "UTF-8", NULL) < 0 ||
	    xmlTextWriterWriteComment(e.w, BAD_CAST " ssovault app export: ENTSSO applications "
	    "and mappings, without credentials ") < 0 ||
	    xmlTextWriterStartElement(e.w, BAD_CAST "sso") < 0)
		goto out;
	json_array_foreach(apps, i, app)
		if ((r = write_app(e.w, app, dom)) != 0)
			goto out;
	json_array_foreach(apps, i, app) {
		if (sso_app_is_config(app))
			continue;
		e.app = app;
		if ((r = sso_mappings_walk(x, app, write_mapping, &e)) != 0)
			goto out;
	}
	r = SV_ERR_NOMEM;
	if (xmlTextWriterEndDocument(e.w) < 0)
		goto out;
	xmlFreeTextWriter(e.w);
	e.w = NULL;
	if ((*ret_xml = strdup((const char *)xmlBufferContent(buf))) == NULL)
		goto out;
	r = 0;
out:
	xmlFreeTextWriter(e.w);
	xmlBufferFree(buf);
	return r;
}

/* Apps the caller administers (affiliate admins: all), in key order. */
static int
export_one(struct sso_ctx *x, json_t *app, void *ctx)
{
	if (!x->is_affiliate_admin && !sso_app_is_admin(x, app))
		return 0;
	return json_array_append(ctx, app) == 0 ? 0 : SV_ERR_NOMEM;
}

/*
 * `u32 n | n x s app | s domain`; no app: every app the caller administers;
 * an empty domain: accounts as principals.
 */
int
sso_h_app_export(struct sso_ctx *x, struct svbuf *req)
{
	char name[SSO_APP_NAME_MAX + 2], key[SSO_APP_KEY_MAX + 1], dom[SSO_PRINCIPAL_MAX];
	json_t *apps = json_array(), *app = NULL;
	char *xml = NULL;
	uint32_t n, i;
	int r;

	if (apps == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_get_u32(req, &n)) != 0)
		goto out;
	if (n == 0)
		r = sso_apps_walk(x, export_one, apps);
	for (i = 0; i < n && r == 0; i++) {
		if ((r = sso_req_name(req, name, sizeof(name))) != 0) {
			r = sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
			    "invalid application name");
			break;
		}
		snprintf(x->object, sizeof(x->object), "%s", name);
		if ((r = sso_app_name_key(name, key, x->msg)) != 0)
			break;
		if ((r = sso_json_get(x->txn, SSO_TABLE_APPS, key, &app, x->msg)) != 0) {
			if (r == SV_ERR_NOT_FOUND)
				sv_fail(x->msg, r, "no affiliate application '%s'", name);
			break;
		}
		snprintf(x->object, sizeof(x->object), "%s", sso_app_name(app));
		if (!x->is_affiliate_admin && !sso_app_is_admin(x, app))
			r = sso_deny(x, "an app admin of '%s'", sso_app_name(app));
		else if (json_array_append(apps, app) != 0)
			r = SV_ERR_NOMEM;
		json_decref(app);
		app = NULL;
	}
	if (r == 0 && n != 1)
		x->object[0] = '\0';
	if (r == 0 && (r = sso_req_name(req, dom, sizeof(dom))) != 0)
		r = sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    "invalid Windows domain");
	if (r == 0 && dom[0] != '\0' && (!sso_name_ok(dom, 64) || strpbrk(dom, "\\;@") != NULL))
		r = sv_fail(x->msg, SV_ERR_INVALID, "invalid Windows domain: 1 to 64 bytes "
		    "of UTF-8 without control characters, '\\', ';' or '@'");
	if (r == 0 && (r = export_xml(x, apps, dom[0] != '\0' ? dom : NULL, &xml)) == 0)
		r = svbuf_put_cstring(x->out, xml);
out:
	free(xml);
	json_decref(apps);
	return r;
}
