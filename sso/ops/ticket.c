/*
 * Single sign-on tickets (ENTSSO IssueTicket, RedeemTicket and
 * ValidateAndRedeemTicket): a caller gets a token naming itself; an app
 * admin of an app that allows tickets trades it, once and within its
 * lifetime, for that caller's credentials in the app.
 *
 * Token: "sv1." + base64url (no padding) of
 *   vault id (16) | vault_blob_seal(tickets key, ad = "ssovault ticket v1" | vault id,
 *                                   payload)
 *   payload = u8 version | 16-byte random ticket id | s issuer principal |
 *             u32 issuer uid | u64 issued (Unix seconds)
 * The lifetime is not in the token: it is the app's ticket_timeout, or the
 * global one, at redemption.  A single-use ticket leaves a sealed marker
 * (key = ticket id, value = u64 expiry) in the tickets table until it
 * expires.  Global settings: sealed JSON meta "tickets".  docs/apps.md.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "apps.h"

#define TICKET_VERSION 1
#define TICKET_ID_BYTES 16
#define TICKET_PREFIX "sv1."
#define TICKET_AD "ssovault ticket v1"
#define TICKET_TEXT_MAX 4096
#define TICKET_TIMEOUT_DEFAULT 2	/* minutes */
#define TICKET_SWEEP_SCAN 32		/* markers looked at per redemption */

struct ticket_settings {
	int allow;
	int validate;
	uint32_t timeout;	/* minutes */
};

static int
settings_get(struct sso_ctx *x, struct ticket_settings *ret)
{
	json_t *j = NULL, *v;
	int r;

	ret->allow = 0;
	ret->validate = 0;
	ret->timeout = TICKET_TIMEOUT_DEFAULT;
	if ((r = sso_json_get(x->txn, SSO_TABLE_META, "tickets", &j, x->msg)) != 0)
		return r == SV_ERR_NOT_FOUND ? 0 : r;
	ret->allow = json_is_true(json_object_get(j, "allow"));
	ret->validate = json_is_true(json_object_get(j, "validate"));
	v = json_object_get(j, "timeout");
	if (json_is_integer(v) && json_integer_value(v) >= 1 &&
	    json_integer_value(v) <= SSO_TICKET_TIMEOUT_MAX)
		ret->timeout = (uint32_t)json_integer_value(v);
	json_decref(j);
	return 0;
}

static json_t *
settings_json(const struct ticket_settings *s)
{
	return json_pack("{s:b,s:b,s:I}", "allow", s->allow, "validate", s->validate,
	    "timeout", (json_int_t)s->timeout);
}

int
sso_h_ticket_settings(struct sso_ctx *x, struct svbuf *req)
{
	struct ticket_settings s;
	uint8_t allow, validate;
	uint32_t timeout;
	json_t *j;
	int r;

	if ((r = svbuf_get_u8(req, &allow)) != 0 ||
	    (r = svbuf_get_u8(req, &validate)) != 0 ||
	    (r = svbuf_get_u32(req, &timeout)) != 0)
		return r;
	if ((allow > 1 && allow != 255) || (validate > 1 && validate != 255))
		return sv_fail(x->msg, SV_ERR_INVALID, "allow and validate are yes or no");
	if (timeout > SSO_TICKET_TIMEOUT_MAX)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "the ticket timeout is 1 to %d minutes", SSO_TICKET_TIMEOUT_MAX);
	if ((r = settings_get(x, &s)) != 0)
		return r;
	if (allow != 255)
		s.allow = allow;
	if (validate != 255)
		s.validate = validate;
	if (timeout != 0)
		s.timeout = timeout;
	if ((j = settings_json(&s)) == NULL)
		return SV_ERR_NOMEM;
	if (allow != 255 || validate != 255 || timeout != 0) {
		r = sso_json_put(x->txn, SSO_TABLE_META, "tickets", j, 0);
		if (r != 0) {
			json_decref(j);
			return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
		}
	}
	return sso_out_json(x, j);
}

static void
ticket_ad(struct vault *v, uint8_t ad[sizeof(TICKET_AD) - 1 + VAULT_ID_BYTES])
{
	memcpy(ad, TICKET_AD, sizeof(TICKET_AD) - 1);
	memcpy(ad + sizeof(TICKET_AD) - 1, vault_id(v), VAULT_ID_BYTES);
}

static int
tickets_disabled(struct sso_ctx *x)
{
	return sv_fail(x->msg, SV_ERR_TICKET_DISABLED,
	    "tickets are disabled: a vault admin can enable them with 'ssovault ticket settings --allow yes'");
}

int
sso_h_ticket_issue(struct sso_ctx *x, struct svbuf *req)
{
	uint8_t ad[sizeof(TICKET_AD) - 1 + VAULT_ID_BYTES], id[TICKET_ID_BYTES];
	char issuer[SSO_PRINCIPAL_MAX], *text = NULL;
	struct svbuf *payload = NULL, *tok = NULL;
	struct ticket_settings s;
	size_t tlen;
	int r;

	sso_principal_of(x->caller, issuer);
	snprintf(x->target, sizeof(x->target), "%s", issuer);
	if ((r = settings_get(x, &s)) != 0)
		return r;
	if (!s.allow)
		return tickets_disabled(x);
	randombytes_buf(id, sizeof(id));
	if ((payload = svbuf_new(0)) == NULL || (tok = svbuf_new(0)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	ticket_ad(x->v, ad);
	if ((r = svbuf_put_u8(payload, TICKET_VERSION)) != 0 ||
	    (r = svbuf_put(payload, id, sizeof(id))) != 0 ||
	    (r = svbuf_put_cstring(payload, issuer)) != 0 ||
	    (r = svbuf_put_u32(payload, (uint32_t)x->caller->uid)) != 0 ||
	    (r = svbuf_put_u64(payload, (uint64_t)x->now)) != 0 ||
	    (r = svbuf_put(tok, vault_id(x->v), VAULT_ID_BYTES)) != 0)
		goto out;
	if ((r = vault_blob_seal(x->v, VAULT_KEY_TICKETS, ad, sizeof(ad),
	    svbuf_ptr(payload), svbuf_len(payload), tok)) != 0) {
		sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
		goto out;
	}
	tlen = sizeof(TICKET_PREFIX) - 1 +
	    sodium_base64_ENCODED_LEN(svbuf_len(tok), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if ((text = malloc(tlen)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	memcpy(text, TICKET_PREFIX, sizeof(TICKET_PREFIX) - 1);
	sodium_bin2base64(text + sizeof(TICKET_PREFIX) - 1, tlen - (sizeof(TICKET_PREFIX) - 1),
	    svbuf_ptr(tok), svbuf_len(tok), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	r = svbuf_put_cstring(x->out, text);
out:
	if (text != NULL) {
		sodium_memzero(text, tlen);
		free(text);
	}
	svbuf_free(payload);
	svbuf_free(tok);
	return r;
}

struct ticket {
	uint8_t id[TICKET_ID_BYTES];
	char issuer[SSO_PRINCIPAL_MAX];
	uint32_t uid;
	uint64_t issued;
};

static int
tampered(struct sso_ctx *x)
{
	return sv_fail(x->msg, SV_ERR_TICKET_TAMPERED,
	    "the ticket is malformed or was altered: ask the sender for a new one");
}

/* Parse and open a token; every way it can be wrong has its own error. */
static int
ticket_open(struct sso_ctx *x, const char *text, struct ticket *ret)
{
	uint8_t ad[sizeof(TICKET_AD) - 1 + VAULT_ID_BYTES];
	struct svbuf *plain = NULL;
	uint8_t *bin = NULL;
	size_t n = strlen(text), binlen = 0;
	const char *end = NULL;
	char *issuer = NULL, canon[SSO_PRINCIPAL_MAX];
	uint8_t version;
	int r;

	if (n <= sizeof(TICKET_PREFIX) - 1 || n > TICKET_TEXT_MAX ||
	    memcmp(text, TICKET_PREFIX, sizeof(TICKET_PREFIX) - 1) != 0)
		return tampered(x);
	text += sizeof(TICKET_PREFIX) - 1;
	n -= sizeof(TICKET_PREFIX) - 1;
	if ((bin = malloc(n)) == NULL)
		return SV_ERR_NOMEM;
	if (sodium_base642bin(bin, n, text, n, NULL, &binlen, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || end != text + n ||
	    binlen <= VAULT_ID_BYTES) {
		r = tampered(x);
		goto out;
	}
	if (sodium_memcmp(bin, vault_id(x->v), VAULT_ID_BYTES) != 0) {
		r = sv_fail(x->msg, SV_ERR_TICKET_FOREIGN,
		    "the ticket was issued by another vault");
		goto out;
	}
	ticket_ad(x->v, ad);
	if (vault_blob_open(x->v, VAULT_KEY_TICKETS, ad, sizeof(ad), bin + VAULT_ID_BYTES,
	    binlen - VAULT_ID_BYTES, &plain) != 0) {
		r = tampered(x);
		goto out;
	}
	if (svbuf_get_u8(plain, &version) != 0 || version != TICKET_VERSION ||
	    svbuf_get(plain, ret->id, sizeof(ret->id)) != 0 ||
	    svbuf_get_cstring(plain, &issuer) != 0 ||
	    sso_principal_check(issuer, canon, NULL) != 0 ||
	    svbuf_get_u32(plain, &ret->uid) != 0 ||
	    svbuf_get_u64(plain, &ret->issued) != 0 ||
	    svbuf_expect_end(plain) != 0) {
		r = tampered(x);
		goto out;
	}
	snprintf(ret->issuer, sizeof(ret->issuer), "%s", canon);
	r = 0;
out:
	free(issuer);
	svbuf_free(plain);
	free(bin);
	return r;
}

/* The sender the redeemer names must be the ticket's issuer. */
static int
sender_matches(const struct ticket *t, const char *sender)
{
	char canon[SSO_PRINCIPAL_MAX], uid[SSO_PRINCIPAL_MAX];

	if (sso_principal_check(sender, canon, NULL) != 0)
		return 0;
	snprintf(uid, sizeof(uid), "uid:%lu", (unsigned long)t->uid);
	return strcmp(canon, t->issuer) == 0 || strcmp(canon, uid) == 0;
}

/* The issuer as a caller: its uid and, from NSS now, its groups. */
static void
caller_of(const struct ticket *t, struct sso_caller *ret)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	int n = SSO_MAX_GROUPS;

	memset(ret, 0, sizeof(*ret));
	ret->uid = (uid_t)t->uid;
	ret->gid = (gid_t)-1;	/* no principal names gid 4294967295 */
	if (getpwuid_r(ret->uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return;
	ret->gid = res->pw_gid;
	if (getgrouplist(res->pw_name, res->pw_gid, ret->groups, &n) >= 0 && n >= 0)
		ret->ngroups = (size_t)n;
}

static void
be64(uint64_t v, uint8_t out[8])
{
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* Drop a few markers whose tickets have expired; errors are not fatal. */
static void
markers_sweep(struct sso_ctx *x)
{
	struct vault_cursor *c = NULL;
	const uint8_t *k, *v;
	struct svbuf *b = NULL;
	size_t kl, vl, seen = 0;
	uint64_t expiry;
	int r;

	if (vault_cursor_open(x->txn, SSO_TABLE_TICKETS, &c) != 0)
		return;
	for (r = vault_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl);
	    r == 1 && seen < TICKET_SWEEP_SCAN;
	    r = vault_cursor_next(c, &k, &kl, &v, &vl), seen++) {
		if (vault_cursor_unseal(c, k, kl, v, vl, &b) != 0)
			continue;
		/* a ticket that never expires (timeoutTickets="no") keeps its marker */
		if (svbuf_get_u64(b, &expiry) == 0 && x->now >= 0 && expiry < (uint64_t)x->now &&
		    vault_cursor_del(c) != 0) {
			svbuf_free(b);
			break;
		}
		svbuf_free(b);
		b = NULL;
	}
	vault_cursor_close(c);
}

int
sso_h_ticket_redeem(struct sso_ctx *x, struct svbuf *req)
{
	char text[TICKET_TEXT_MAX + 1], sender[SSO_PRINCIPAL_MAX];
	char principal[SSO_PRINCIPAL_MAX];
	struct ticket_settings s;
	struct svbuf *found = NULL;
	struct sso_caller issuer;
	struct sso_mapping *m = NULL;
	struct ticket t;
	uint64_t lifetime, expiry;
	uint8_t marker[8];
	json_int_t app_timeout;
	int r;

	if ((r = sso_req_name(req, text, sizeof(text))) != 0) {
		if (r == SV_ERR_TRUNCATED)
			return r;
		return tampered(x);
	}
	if ((r = sso_req_name(req, sender, sizeof(sender))) != 0)
		return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    "invalid sender: expected user:NAME, group:NAME, uid:N or gid:N");
	if ((r = ticket_open(x, text, &t)) != 0)
		return r;
	snprintf(x->target, sizeof(x->target), "%s", t.issuer);
	if ((r = settings_get(x, &s)) != 0)
		return r;
	if ((r = sso_app_not_config(x, x->app)) != 0)
		return r;
	if (!sso_app_flag(x->app, "allow_tickets")) {
		char qa[SSO_QUOTED_MAX];

		sso_shell_quote(x->object, qa, sizeof(qa));
		return sv_fail(x->msg, SV_ERR_TICKET_DISABLED,
		    "application '%s' does not allow tickets: a vault admin can allow them with 'ssovault app update %s --allow-tickets'",
		    x->object, qa);
	}
	if (!s.allow)
		return tickets_disabled(x);
	app_timeout = json_integer_value(json_object_get(x->app, "ticket_timeout"));
	lifetime = 60 * (uint64_t)(app_timeout > 0 ? app_timeout : (json_int_t)s.timeout);
	/* ENTSSO's timeoutTickets="no": this app's tickets never expire */
	expiry = sso_app_flag_on(x->app, "tickets_expire") ? t.issued + lifetime : UINT64_MAX;
	if (x->now < 0 || (uint64_t)x->now > expiry)
		return sv_fail(x->msg, SV_ERR_TICKET_EXPIRED,
		    "the ticket expired %llu seconds ago (lifetime %llu minutes): ask the sender for a new one",
		    (unsigned long long)((uint64_t)x->now - expiry),
		    (unsigned long long)(lifetime / 60));
	/* a named sender must match even when validation is off */
	if (sender[0] != '\0' && !sender_matches(&t, sender))
		return sv_fail(x->msg, SV_ERR_TICKET_SENDER,
		    "the ticket was not issued by %s", sender);
	if (sender[0] == '\0' && (s.validate || sso_app_flag(x->app, "validate_tickets")))
		return sv_fail(x->msg, SV_ERR_TICKET_SENDER,
		    "'%s' validates tickets: name the sender with --sender PRINCIPAL", x->object);
	if (!sso_app_flag(x->app, "ticket_reuse")) {
		r = vault_record_get(x->txn, SSO_TABLE_TICKETS, t.id, sizeof(t.id), &found);
		svbuf_free(found);
		if (r == 0)
			return sv_fail(x->msg, SV_ERR_TICKET_REUSED,
			    "the ticket was already redeemed: tickets for '%s' are single-use",
			    x->object);
		if (r != SV_ERR_NOT_FOUND)
			return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
		markers_sweep(x);
		be64(expiry, marker);
		if ((r = vault_record_put(x->txn, SSO_TABLE_TICKETS, t.id, sizeof(t.id),
		    marker, sizeof(marker), VAULT_PUT_NOOVERWRITE)) != 0)
			return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	}
	caller_of(&t, &issuer);
	if ((r = sso_mapping_own(x, x->app, &issuer, principal, &m)) != 0)
		return r;
	return sso_creds_reply(x, x->app, principal, m);
}
