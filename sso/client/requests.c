/*
 * requests.c: the client API's requests (ssovault.h), one function each:
 * it builds the request's fields, calls the transport (client.c) and
 * decodes the reply.  With the handlers, this is the only place that knows
 * the field layouts of docs/protocol.md; no file above sso/ builds one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"

/* --- vault life ------------------------------------------------------ */

int
ssovault_status(struct ssovault *h, char **ret_json)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_STATUS)) != 0 || (r = sso_client_call(h, -1)) != 0)
		return r;
	return sso_client_reply_string(h, ret_json);
}

static int
unlock(struct ssovault *h, enum sso_unlock_kind kind, const void *secret, size_t len)
{
	int r;

	h->msg[0] = '\0';
	if ((r = sso_proto_unlock(h->req, kind, secret, len)) != 0)
		return r;
	return sso_client_simple(h);
}

int
ssovault_unlock_passphrase(struct ssovault *h, const char *pass, size_t len)
{
	return unlock(h, SSO_UNLOCK_PASSPHRASE, pass, len);
}

int
ssovault_unlock_key(struct ssovault *h, const uint8_t key[32])
{
	return unlock(h, SSO_UNLOCK_KEY, key, 32);
}

int
ssovault_lock(struct ssovault *h)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_LOCK)) != 0)
		return r;
	return sso_client_simple(h);
}

int
ssovault_secret_backup(struct ssovault *h, const char *pw, size_t pwlen,
    const char *hint, uint8_t **ret_blob, size_t *ret_len)
{
	const uint8_t *p;
	uint8_t *blob;
	size_t n;
	int r;

	if ((r = sso_client_begin(h, SSO_OP_SECRET_BACKUP)) != 0 ||
	    (r = svbuf_put_string(h->req, pw, pwlen)) != 0 ||
	    (r = sso_client_nullstr(h->req, hint)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	if ((r = svbuf_get_string_direct(h->reply, &p, &n)) != 0 || (r = sso_client_reply_end(h)) != 0)
		return sv_fail(h->msg, SV_ERR_PROTOCOL, "malformed reply from the service");
	if ((blob = malloc(n == 0 ? 1 : n)) == NULL)
		return SV_ERR_NOMEM;
	memcpy(blob, p, n);
	*ret_blob = blob;
	*ret_len = n;
	return 0;
}

int
ssovault_secret_backup_hint(const uint8_t *blob, size_t len, char **ret_hint)
{
	/* a local read of the blob's clear part: no request, no handle */
	return vault_secret_backup_hint(blob, len, ret_hint);
}

int
ssovault_secret_restore(struct ssovault *h, const uint8_t *blob, size_t len,
    const char *pw, size_t pwlen, const char *newpass, size_t newlen,
    const uint8_t *key)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_SECRET_RESTORE)) != 0 ||
	    (r = svbuf_put_string(h->req, blob, len)) != 0 ||
	    (r = svbuf_put_string(h->req, pw, pwlen)) != 0 ||
	    (r = svbuf_put_string(h->req, newpass, newlen)) != 0 ||
	    (r = svbuf_put_string(h->req, key, key != NULL ? 32 : 0)) != 0)
		return r;
	return sso_client_simple(h);
}

int
ssovault_secret_rotate(struct ssovault *h,
    void (*progress)(void *ctx, size_t done, size_t total), void *ctx)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_SECRET_ROTATE)) != 0)
		return r;
	if (!h->daemon)
		sso_service_set_progress(h->svc, progress, ctx);
	r = sso_client_call(h, -1);
	if (!h->daemon)
		sso_service_set_progress(h->svc, NULL, NULL);
	if (r != 0)
		return r;
	return sso_client_reply_string(h, NULL);
}

int
ssovault_backup(struct ssovault *h, int fd)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_BACKUP)) != 0 || (r = sso_client_call(h, fd)) != 0)
		return r;
	return sso_client_reply_end(h);
}

int
ssovault_restore(struct ssovault *h, int fd)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_RESTORE)) != 0 || (r = sso_client_call(h, fd)) != 0)
		return r;
	return sso_client_reply_end(h);
}

/* --- one-string-in, JSON-out and similar shapes ------------------------ */

static int
json_op(struct ssovault *h, enum sso_op op, const char *obj, char **ret_json)
{
	int r;

	if ((r = sso_client_begin(h, op)) != 0 ||
	    (obj != NULL && (r = svbuf_put_cstring(h->req, obj)) != 0) ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	return sso_client_reply_string(h, ret_json);
}

static int
strings_op(struct ssovault *h, enum sso_op op, const char *a, const char *b,
    const char *c)
{
	int r;

	if ((r = sso_client_begin(h, op)) != 0 ||
	    (a != NULL && (r = svbuf_put_cstring(h->req, a)) != 0) ||
	    (b != NULL && (r = svbuf_put_cstring(h->req, b)) != 0) ||
	    (c != NULL && (r = svbuf_put_cstring(h->req, c)) != 0))
		return r;
	return sso_client_simple(h);
}

int
ssovault_slot_list(struct ssovault *h, char **ret_json)
{
	return json_op(h, SSO_OP_SLOT_LIST, NULL, ret_json);
}

int
ssovault_slot_add(struct ssovault *h, const char *name, int key, const void *secret,
    size_t len)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_SLOT_ADD)) != 0 ||
	    (r = svbuf_put_cstring(h->req, name)) != 0 ||
	    (r = svbuf_put_u8(h->req, key ? SSO_UNLOCK_KEY : SSO_UNLOCK_PASSPHRASE)) != 0 ||
	    (r = svbuf_put_string(h->req, secret, len)) != 0)
		return r;
	return sso_client_simple(h);
}

int
ssovault_slot_remove(struct ssovault *h, const char *name)
{
	return strings_op(h, SSO_OP_SLOT_REMOVE, name, NULL, NULL);
}

int
ssovault_store_copy(struct ssovault *h, const char *to, char **ret_json)
{
	return json_op(h, SSO_OP_STORE_COPY, to, ret_json);
}

int
ssovault_role_list(struct ssovault *h, char **ret_json)
{
	return json_op(h, SSO_OP_ROLE_LIST, NULL, ret_json);
}

int
ssovault_role_add(struct ssovault *h, const char *role, const char *principal)
{
	return strings_op(h, SSO_OP_ROLE_ADD, role, principal, NULL);
}

int
ssovault_role_remove(struct ssovault *h, const char *role, const char *principal)
{
	return strings_op(h, SSO_OP_ROLE_REMOVE, role, principal, NULL);
}

/* --- apps ------------------------------------------------------------ */

int
ssovault_app_create(struct ssovault *h, const char *spec_json)
{
	return strings_op(h, SSO_OP_APP_CREATE, spec_json, NULL, NULL);
}

int
ssovault_app_update(struct ssovault *h, const char *name, const char *changes_json)
{
	return strings_op(h, SSO_OP_APP_UPDATE, name, changes_json, NULL);
}

int
ssovault_app_list(struct ssovault *h, char **ret_json)
{
	return json_op(h, SSO_OP_APP_LIST, NULL, ret_json);
}

int
ssovault_app_show(struct ssovault *h, const char *name, char **ret_json)
{
	return json_op(h, SSO_OP_APP_SHOW, name, ret_json);
}

int
ssovault_app_enable(struct ssovault *h, const char *name, int enable)
{
	return strings_op(h, enable ? SSO_OP_APP_ENABLE : SSO_OP_APP_DISABLE, name, NULL, NULL);
}

int
ssovault_app_delete(struct ssovault *h, const char *name)
{
	return strings_op(h, SSO_OP_APP_DELETE, name, NULL, NULL);
}

int
ssovault_app_import(struct ssovault *h, const char *xml, size_t len, char **ret_json)
{
	return ssovault_app_import_opts(h, xml, len, NULL, ret_json);
}

/* s xml | u8 mode | u8 options | u8 accounts | s account map */
static int
xml_op(struct ssovault *h, enum sso_op op, const char *xml, size_t len,
    const struct ssovault_import_opts *o, char **ret_json)
{
	static const struct ssovault_import_opts none;
	int r;

	if (o == NULL)
		o = &none;
	if ((r = sso_client_begin(h, op)) != 0 ||
	    (r = svbuf_put_string(h->req, xml, len)) != 0 ||
	    (r = svbuf_put_u8(h->req, o->update ? 1 : 0)) != 0 ||
	    (r = svbuf_put_u8(h->req, (o->strict ? 1 : 0) | (o->dry_run ? 2 : 0))) != 0 ||
	    (r = svbuf_put_u8(h->req, (uint8_t)o->accounts)) != 0 ||
	    (r = svbuf_put_cstring(h->req, o->account_map_json != NULL ?
	    o->account_map_json : "")) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	return sso_client_reply_string(h, ret_json);
}

int
ssovault_app_import_opts(struct ssovault *h, const char *xml, size_t len,
    const struct ssovault_import_opts *o, char **ret_json)
{
	return xml_op(h, SSO_OP_APP_IMPORT, xml, len, o, ret_json);
}

int
ssovault_mapping_delete_many(struct ssovault *h, const char *xml, size_t len,
    const struct ssovault_import_opts *o, char **ret_json)
{
	struct ssovault_import_opts d;

	if (o != NULL) {
		d = *o;
		d.update = 0;
		o = &d;
	}
	return xml_op(h, SSO_OP_MAPPING_DELETE_MANY, xml, len, o, ret_json);
}

int
ssovault_app_export(struct ssovault *h, const char *const *apps, size_t n,
    const char *windows_domain, char **ret_xml)
{
	size_t i;
	int r;

	if ((r = sso_client_begin(h, SSO_OP_APP_EXPORT)) != 0 ||
	    (r = svbuf_put_u32(h->req, (uint32_t)n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = svbuf_put_cstring(h->req, apps[i])) != 0)
			return r;
	if ((r = svbuf_put_cstring(h->req, windows_domain != NULL ? windows_domain : "")) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	return sso_client_reply_string(h, ret_xml);
}

/* --- mappings and credentials ---------------------------------------- */

int
ssovault_mapping_create(struct ssovault *h, const char *app, const char *principal,
    const char *external_user)
{
	return strings_op(h, SSO_OP_MAPPING_CREATE, app, principal, external_user);
}

int
ssovault_mapping_list(struct ssovault *h, const char *app, char **ret_json)
{
	return json_op(h, SSO_OP_MAPPING_LIST, app == NULL ? "" : app, ret_json);
}

int
ssovault_mapping_list_user(struct ssovault *h, const char *app, const char *user,
    char **ret_json)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_MAPPING_LIST)) != 0 ||
	    (r = svbuf_put_cstring(h->req, app == NULL ? "" : app)) != 0 ||
	    (r = svbuf_put_cstring(h->req, user)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	return sso_client_reply_string(h, ret_json);
}

int
ssovault_mapping_enable(struct ssovault *h, const char *app, const char *principal,
    int enable)
{
	return strings_op(h, enable ? SSO_OP_MAPPING_ENABLE : SSO_OP_MAPPING_DISABLE,
	    app, principal, NULL);
}

int
ssovault_mapping_delete(struct ssovault *h, const char *app, const char *principal)
{
	return strings_op(h, SSO_OP_MAPPING_DELETE, app, principal, NULL);
}

/*
 * A creds as handed out: the public struct first, then the one secure
 * buffer that holds every field value.  One per lookup, not one
 * sodium_malloc() per field (each costs a dozen system calls), and a
 * secure svbuf, whose blocks the thread reuses.
 */
/*
 * One block holds the handle, the fields and every string that is not
 * secret (app, principal, user, labels); the values are in one secure block.
 */
struct creds_priv {
	struct ssovault_creds pub;
	struct svbuf *values;		/* secure; fields[i].value point in */
};

void
ssovault_creds_free(struct ssovault_creds *c)
{
	struct creds_priv *cp = (struct creds_priv *)c;

	if (c == NULL)
		return;
	svbuf_free(cp->values);		/* wipes it */
	free(cp);
}

const char *
ssovault_creds_value(const struct ssovault_creds *c, const char *label)
{
	size_t i;

	for (i = 0; i < c->nfields; i++)
		if (strcasecmp(c->fields[i].label, label) == 0)
			return c->fields[i].value;
	return NULL;
}

const char *
ssovault_creds_password(const struct ssovault_creds *c)
{
	size_t i;

	for (i = 0; i < c->nfields; i++)
		if (c->fields[i].masked)
			return c->fields[i].value;
	return NULL;
}

/* A string of the reply, NUL-free, as a pointer into it. */
static int
get_text(struct svbuf *b, const uint8_t **ret, size_t *ret_len)
{
	int r;

	if ((r = svbuf_get_string_direct(b, ret, ret_len)) != 0)
		return r;
	return *ret_len > 0 && memchr(*ret, '\0', *ret_len) != NULL ? SV_ERR_PROTOCOL : 0;
}

/* Copy a string of the reply to *at, NUL-terminated; returns where it went. */
static char *
put_text(char **at, const uint8_t *p, size_t len)
{
	char *s = *at;

	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	*at += len + 1;
	return s;
}

/* s app | s principal | s external | u32 n | n x (s label, u8 masked, s value) */
static int
reply_creds(struct ssovault *h, struct ssovault_creds **ret)
{
	const uint8_t *t[3], *lab[256], *v[256];
	size_t tl[3], ll[256], vl[256], text = 0, total = 0, off = 0;
	struct creds_priv *cp = NULL;
	struct ssovault_creds *c;
	uint8_t masked[256], *block;
	uint32_t n = 0, i;
	char *at;
	int r;

	/* the reply is read whole first: pointers into it, nothing copied yet */
	for (i = 0; i < 3; i++) {
		if ((r = get_text(h->reply, &t[i], &tl[i])) != 0)
			goto out;
		text += tl[i] + 1;
	}
	if ((r = svbuf_get_u32(h->reply, &n)) != 0)
		goto out;
	if (n > 256) {
		r = SV_ERR_PROTOCOL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = get_text(h->reply, &lab[i], &ll[i])) != 0 ||
		    (r = svbuf_get_u8(h->reply, &masked[i])) != 0 ||
		    (r = get_text(h->reply, &v[i], &vl[i])) != 0)
			goto out;
		text += ll[i] + 1;
		total += vl[i] + 1;
	}
	if ((r = sso_client_reply_end(h)) != 0)
		goto out;
	if ((cp = calloc(1, sizeof(*cp) + (n == 0 ? 1 : n) * sizeof(*c->fields) + text)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	c = &cp->pub;
	c->fields = (struct ssovault_field *)(void *)(cp + 1);
	at = (char *)(c->fields + (n == 0 ? 1 : n));
	c->app = put_text(&at, t[0], tl[0]);
	c->principal = put_text(&at, t[1], tl[1]);
	c->external_user = put_text(&at, t[2], tl[2]);
	/* one reserve: the values never move after */
	if ((cp->values = svbuf_new_secure(0)) == NULL ||
	    svbuf_reserve(cp->values, total == 0 ? 1 : total, &block) != 0) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		c->fields[i].label = put_text(&at, lab[i], ll[i]);
		c->fields[i].masked = masked[i] != 0;
		c->fields[i].value = (char *)block + off;
		if (vl[i] > 0)
			memcpy(block + off, v[i], vl[i]);
		block[off + vl[i]] = '\0';
		off += vl[i] + 1;
	}
	c->nfields = n;
	*ret = c;
	cp = NULL;
out:
	svbuf_reset(h->reply);
	ssovault_creds_free(cp != NULL ? &cp->pub : NULL);
	if (r != 0 && r != SV_ERR_PROTOCOL && r != SV_ERR_NOMEM)
		r = sv_fail(h->msg, SV_ERR_PROTOCOL, "malformed credentials in the reply");
	else if (r == SV_ERR_PROTOCOL)
		sv_fail(h->msg, r, "malformed credentials in the reply");
	return r;
}

/* s app | s who | u32 n | n x (s label, s value): creds set and config set */
static int
values_op(struct ssovault *h, enum sso_op op, const char *app, const char *who,
    size_t n, const char *const *labels, const char *const *values)
{
	size_t i;
	int r;

	if ((r = sso_client_begin(h, op)) != 0 ||
	    (r = svbuf_put_cstring(h->req, app)) != 0 ||
	    (r = sso_client_nullstr(h->req, who)) != 0 ||
	    (r = svbuf_put_u32(h->req, (uint32_t)n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = svbuf_put_cstring(h->req, labels[i])) != 0 ||
		    (r = svbuf_put_cstring(h->req, values[i])) != 0)
			return r;
	}
	return sso_client_simple(h);
}

int
ssovault_creds_set(struct ssovault *h, const char *app, const char *user,
    size_t n, const char *const *labels, const char *const *values)
{
	return values_op(h, SSO_OP_CREDS_SET, app, user, n, labels, values);
}

int
ssovault_config_set(struct ssovault *h, const char *app, const char *identifier,
    size_t n, const char *const *labels, const char *const *values)
{
	return values_op(h, SSO_OP_CONFIG_SET, app, identifier, n, labels, values);
}

/* s app | s who -> the creds reply: creds get and config get */
static int
values_get(struct ssovault *h, enum sso_op op, const char *app, const char *who,
    struct ssovault_creds **ret)
{
	int r;

	if ((r = sso_client_begin(h, op)) != 0 ||
	    (r = svbuf_put_cstring(h->req, app)) != 0 ||
	    (r = sso_client_nullstr(h->req, who)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	return reply_creds(h, ret);
}

int
ssovault_creds_get(struct ssovault *h, const char *app, const char *user,
    struct ssovault_creds **ret)
{
	return values_get(h, SSO_OP_CREDS_GET, app, user, ret);
}

int
ssovault_config_get(struct ssovault *h, const char *app, const char *identifier,
    struct ssovault_creds **ret)
{
	return values_get(h, SSO_OP_CONFIG_GET, app, identifier, ret);
}

/* --- tickets ----------------------------------------------------------- */

int
ssovault_ticket_issue(struct ssovault *h, char **ret_ticket)
{
	return json_op(h, SSO_OP_TICKET_ISSUE, NULL, ret_ticket);
}

int
ssovault_ticket_redeem(struct ssovault *h, const char *app, const char *ticket,
    const char *sender, struct ssovault_creds **ret)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_TICKET_REDEEM)) != 0 ||
	    (r = svbuf_put_cstring(h->req, app)) != 0 ||
	    (r = svbuf_put_cstring(h->req, ticket)) != 0 ||
	    (r = sso_client_nullstr(h->req, sender)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	return reply_creds(h, ret);
}

int
ssovault_ticket_settings(struct ssovault *h, int allow, int validate,
    unsigned timeout_min, char **ret_json)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_TICKET_SETTINGS)) != 0 ||
	    (r = svbuf_put_u8(h->req, allow < 0 ? 255 : (uint8_t)allow)) != 0 ||
	    (r = svbuf_put_u8(h->req, validate < 0 ? 255 : (uint8_t)validate)) != 0 ||
	    (r = svbuf_put_u32(h->req, timeout_min)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	return sso_client_reply_string(h, ret_json);
}

/* --- certificates ---------------------------------------------------- */

int
ssovault_cert_import(struct ssovault *h, const uint8_t *data, size_t len,
    const char *pw, const uint8_t *key, size_t keylen,
    const char *const *users, size_t nusers, char ret_sha1[41])
{
	return ssovault_cert_import_flags(h, data, len, pw, key, keylen, users, nusers, 0,
	    ret_sha1);
}

int
ssovault_cert_import_flags(struct ssovault *h, const uint8_t *data, size_t len,
    const char *pw, const uint8_t *key, size_t keylen,
    const char *const *users, size_t nusers, unsigned flags, char ret_sha1[41])
{
	char *s = NULL;
	size_t i;
	int r;

	if ((r = sso_client_begin(h, SSO_OP_CERT_IMPORT)) != 0 ||
	    (r = svbuf_put_string(h->req, data, len)) != 0 ||
	    (r = sso_client_nullstr(h->req, pw)) != 0 ||
	    (r = svbuf_put_string(h->req, key, key != NULL ? keylen : 0)) != 0 ||
	    (r = svbuf_put_u32(h->req, (uint32_t)nusers)) != 0)
		return r;
	for (i = 0; i < nusers; i++)
		if ((r = svbuf_put_cstring(h->req, users[i])) != 0)
			return r;
	if ((r = svbuf_put_u8(h->req, (flags & SSOVAULT_CERT_EXPORTABLE) != 0)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0 || (r = sso_client_reply_string(h, &s)) != 0)
		return r;
	if (strlen(s) != 40) {
		free(s);
		return sv_fail(h->msg, SV_ERR_PROTOCOL, "malformed thumbprint in the reply");
	}
	memcpy(ret_sha1, s, 41);
	free(s);
	return 0;
}

int
ssovault_cert_list(struct ssovault *h, char **ret_json)
{
	return json_op(h, SSO_OP_CERT_LIST, NULL, ret_json);
}

int
ssovault_cert_show(struct ssovault *h, const char *thumbprint, char **ret_json)
{
	return json_op(h, SSO_OP_CERT_SHOW, thumbprint, ret_json);
}

int
ssovault_cert_export(struct ssovault *h, const char *thumbprint, char **ret_pem)
{
	return json_op(h, SSO_OP_CERT_EXPORT, thumbprint, ret_pem);
}

int
ssovault_cert_delete(struct ssovault *h, const char *thumbprint)
{
	return strings_op(h, SSO_OP_CERT_DELETE, thumbprint, NULL, NULL);
}

int
ssovault_cert_grant(struct ssovault *h, const char *thumbprint, const char *principal,
    int grant)
{
	return strings_op(h, grant ? SSO_OP_CERT_GRANT : SSO_OP_CERT_REVOKE,
	    thumbprint, principal, NULL);
}

void
ssovault_cert_blob_free(struct ssovault_cert_blob *b)
{
	if (b == NULL)
		return;
	free(b->cert_pem);
	if (b->key_pem != NULL)
		sodium_free(b->key_pem);
	free(b);
}

/* s sha1 | s cert pem | s key pem | u64 not_after */
int
ssovault_cert_fetch(struct ssovault *h, const char *thumbprint,
    struct ssovault_cert_blob **ret)
{
	struct ssovault_cert_blob *b;
	char *sha1 = NULL;
	uint64_t na;
	int r;

	if ((r = sso_client_begin(h, SSO_OP_CERT_FETCH)) != 0 ||
	    (r = svbuf_put_cstring(h->req, thumbprint)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_get_cstring(h->reply, &sha1)) != 0 ||
	    (r = svbuf_get_cstring(h->reply, &b->cert_pem)) != 0 ||
	    (r = svbuf_get_cstring_secure(h->reply, &b->key_pem)) != 0 ||
	    (r = svbuf_get_u64(h->reply, &na)) != 0 ||
	    (r = sso_client_reply_end(h)) != 0 || strlen(sha1) != 40) {
		svbuf_reset(h->reply);
		free(sha1);
		ssovault_cert_blob_free(b);
		return sv_fail(h->msg, SV_ERR_PROTOCOL, "malformed certificate in the reply");
	}
	memcpy(b->sha1, sha1, 41);
	free(sha1);
	b->cert_len = strlen(b->cert_pem);
	b->key_len = strlen(b->key_pem);
	b->not_after = (int64_t)na;
	*ret = b;
	return 0;
}

/* --- ports ------------------------------------------------------------- */

int
ssovault_port_create(struct ssovault *h, const char *name, const char *settings_json)
{
	return strings_op(h, SSO_OP_PORT_CREATE, name, settings_json, NULL);
}

int
ssovault_port_update(struct ssovault *h, const char *name, const char *settings_json)
{
	return strings_op(h, SSO_OP_PORT_UPDATE, name, settings_json, NULL);
}

int
ssovault_port_show(struct ssovault *h, const char *name, char **ret_json)
{
	return json_op(h, SSO_OP_PORT_SHOW, name, ret_json);
}

int
ssovault_port_list(struct ssovault *h, char **ret_json)
{
	return json_op(h, SSO_OP_PORT_LIST, NULL, ret_json);
}

int
ssovault_port_delete(struct ssovault *h, const char *name)
{
	return strings_op(h, SSO_OP_PORT_DELETE, name, NULL, NULL);
}

/* --- suspended queue ------------------------------------------------- */

int
ssovault_suspended_add(struct ssovault *h, const char *settings_json,
    const uint8_t *body, size_t len, const char *reason, unsigned attempts,
    char **ret_id)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_SUSPENDED_ADD)) != 0 ||
	    (r = svbuf_put_cstring(h->req, settings_json)) != 0 ||
	    (r = svbuf_put_string(h->req, body, len)) != 0 ||
	    (r = sso_client_nullstr(h->req, reason)) != 0 ||
	    (r = svbuf_put_u32(h->req, attempts)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	return sso_client_reply_string(h, ret_id);
}

int
ssovault_suspended_list(struct ssovault *h, char **ret_json)
{
	return json_op(h, SSO_OP_SUSPENDED_LIST, NULL, ret_json);
}

int
ssovault_suspended_show(struct ssovault *h, const char *id, char **ret_json)
{
	return json_op(h, SSO_OP_SUSPENDED_SHOW, id, ret_json);
}

int
ssovault_suspended_get(struct ssovault *h, const char *id, char **ret_settings_json,
    uint8_t **ret_body, size_t *ret_len)
{
	const uint8_t *p;
	uint8_t *body;
	char *settings = NULL;
	size_t n;
	int r;

	if ((r = sso_client_begin(h, SSO_OP_SUSPENDED_GET)) != 0 ||
	    (r = svbuf_put_cstring(h->req, id)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	if ((r = svbuf_get_cstring(h->reply, &settings)) != 0 ||
	    (r = svbuf_get_string_direct(h->reply, &p, &n)) != 0 ||
	    (r = sso_client_reply_end(h)) != 0) {
		free(settings);
		return sv_fail(h->msg, SV_ERR_PROTOCOL, "malformed message in the reply");
	}
	if ((body = malloc(n == 0 ? 1 : n)) == NULL) {
		free(settings);
		return SV_ERR_NOMEM;
	}
	memcpy(body, p, n);
	*ret_settings_json = settings;
	*ret_body = body;
	*ret_len = n;
	return 0;
}

int
ssovault_suspended_update(struct ssovault *h, const char *id, const char *reason,
    unsigned attempts)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_SUSPENDED_UPDATE)) != 0 ||
	    (r = svbuf_put_cstring(h->req, id)) != 0 ||
	    (r = sso_client_nullstr(h->req, reason)) != 0 ||
	    (r = svbuf_put_u32(h->req, attempts)) != 0)
		return r;
	return sso_client_simple(h);
}

int
ssovault_suspended_remove(struct ssovault *h, const char *id, int delivered)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_SUSPENDED_REMOVE)) != 0 ||
	    (r = svbuf_put_cstring(h->req, id)) != 0 ||
	    (r = svbuf_put_u8(h->req, delivered ? 1 : 0)) != 0)
		return r;
	return sso_client_simple(h);
}

int
ssovault_suspended_limits(struct ssovault *h, char **ret_json)
{
	return json_op(h, SSO_OP_SUSPENDED_LIMITS, NULL, ret_json);
}

int
ssovault_suspended_limits_set(struct ssovault *h, uint64_t max_count, uint64_t max_size,
    char **ret_json)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_SUSPENDED_LIMITS_SET)) != 0 ||
	    (r = svbuf_put_u64(h->req, max_count)) != 0 ||
	    (r = svbuf_put_u64(h->req, max_size)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	return sso_client_reply_string(h, ret_json);
}

/* --- audit ------------------------------------------------------------- */

int
ssovault_audit_list(struct ssovault *h, int64_t since, size_t limit, char **ret_json)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_AUDIT_LIST)) != 0 ||
	    (r = svbuf_put_u64(h->req, since < 0 ? 0 : (uint64_t)since)) != 0 ||
	    (r = svbuf_put_u64(h->req, (uint64_t)limit)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	return sso_client_reply_string(h, ret_json);
}

int
ssovault_audit_verify(struct ssovault *h, char **ret_json)
{
	return json_op(h, SSO_OP_AUDIT_VERIFY, NULL, ret_json);
}

int
ssovault_audit_prune(struct ssovault *h, uint64_t keep, char **ret_json)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_AUDIT_PRUNE)) != 0 ||
	    (r = svbuf_put_u64(h->req, keep)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	return sso_client_reply_string(h, ret_json);
}

int
ssovault_audit_level(struct ssovault *h, const char *positive, const char *negative,
    char **ret_json)
{
	int r;

	if ((r = sso_client_begin(h, SSO_OP_AUDIT_LEVEL)) != 0 ||
	    (r = sso_client_nullstr(h->req, positive)) != 0 ||
	    (r = sso_client_nullstr(h->req, negative)) != 0 ||
	    (r = sso_client_call(h, -1)) != 0)
		return r;
	return sso_client_reply_string(h, ret_json);
}
