/*
 * The suspended queue (DESIGN section 6): messages the sender could not
 * deliver, kept sealed in the vault with the settings they were sent with,
 * so that nothing is lost and `suspended resume` can try again later.
 *
 * Table suspended, key = message id (16 random bytes as 32 lower-case hex),
 * sealed value:
 *   u8 version | string sender principal | u32 uid | string settings JSON |
 *   string body | string reason | u32 attempts | u64 created | u64 updated
 * Any caller may suspend a message; the sender (same uid) and affiliate
 * admins may see, fetch, update and remove it.  Listings never carry bodies.
 *
 * Whoever resumes a message sends it as themselves, so what a message
 * keeps is what its sender chose, checked here because any client can send
 * anything: settings of one printable line each, and never a password file
 * or an output file (a resume would read or write them as the resumer,
 * docs/send.md).  Each uid's share of the queue is bounded
 * (h_suspended_quota.c), in the same write transaction as the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/units.h"
#include "handlers.h"

#define MSG_RECORD_VERSION 1
#define MSG_ID_BYTES 16
#define MSG_ID_HEX (MSG_ID_BYTES * 2)
#define MSG_BODY_MAX (32u * 1024u * 1024u)
#define MSG_SETTINGS_MAX (1024u * 1024u)
#define MSG_REASON_MAX 1024u

/* A decoded record; strings point into plain. */
struct msg {
	struct svbuf *plain;
	char sender[SSO_PRINCIPAL_MAX];
	uint32_t uid;
	const uint8_t *settings;
	size_t settings_len;
	const uint8_t *body;
	size_t body_len;
	const uint8_t *reason;
	size_t reason_len;
	uint32_t attempts;
	uint64_t created;
	uint64_t updated;
};


/* x->object as a message id: 32 hex digits, kept in lower case. */
static int
msg_id(struct sso_ctx *x)
{
	size_t i, n = strlen(x->object);

	for (i = 0; i < n; i++) {
		char ch = x->object[i];

		if (ch >= 'A' && ch <= 'F')
			x->object[i] = (char)(ch - 'A' + 'a');
		else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			break;
	}
	if (n != MSG_ID_HEX || i != n)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "invalid message id: expected 32 hexadecimal digits (see 'ssovault suspended list')");
	return 0;
}

/* Settings a message never keeps: files a resume would read or write. */
static const char *const never_kept[] = {
	"password_file", "proxy_password_file", "out",
};

/* A member name of send settings: lower-case letters, digits and '_'. */
static int
setting_name_ok(const char *k)
{
	size_t i, n = strlen(k);

	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return 0;
	return n > 0 && n <= 64;
}

/*
 * A string value shown to people as one line: no NUL, no C0 or C1 control
 * character (U+0080 to U+009F, 0xc2 0x80-0x9f in UTF-8, which some
 * terminals obey as escapes).
 */
static int
setting_text_ok(json_t *v)
{
	const unsigned char *p = (const unsigned char *)json_string_value(v);
	size_t i, n = json_string_length(v);

	for (i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

/*
 * Check the shape of a message's settings so that `suspended show` prints
 * every one as a line: names of [a-z0-9_], values that are text, integers,
 * flags, null or arrays of text.  Drop the members a message never keeps.
 */
static int
settings_clean(struct sso_ctx *x, json_t *settings)
{
	const char *k;
	json_t *v, *e;
	void *tmp;
	size_t i, w;

	json_object_foreach_safe(settings, tmp, k, v) {
		if (!setting_name_ok(k))
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "send settings: '%.40s' is not a setting name", k);
		for (w = 0; w < sizeof(never_kept) / sizeof(never_kept[0]); w++)
			if (strcmp(k, never_kept[w]) == 0)
				break;
		if (w < sizeof(never_kept) / sizeof(never_kept[0])) {
			json_object_del(settings, k);
			continue;
		}
		if (json_is_array(v)) {
			json_array_foreach(v, i, e)
				if (!json_is_string(e) || !setting_text_ok(e))
					return sv_fail(x->msg, SV_ERR_INVALID,
					    "send settings: %s: one line of text per entry expected", k);
		} else if (json_is_string(v)) {
			if (!setting_text_ok(v))
				return sv_fail(x->msg, SV_ERR_INVALID,
				    "send settings: %s: one line of text expected", k);
		} else if (!json_is_integer(v) && !json_is_boolean(v) && !json_is_null(v)) {
			return sv_fail(x->msg, SV_ERR_INVALID,
			    "send settings: %s: text, a number or a flag expected", k);
		}
	}
	return 0;
}

static int
msg_decode(struct msg *m)
{
	const uint8_t *p;
	size_t n;
	uint8_t version;

	if (svbuf_get_u8(m->plain, &version) != 0 || version != MSG_RECORD_VERSION ||
	    svbuf_get_string_direct(m->plain, &p, &n) != 0 ||
	    n == 0 || n >= sizeof(m->sender) || memchr(p, '\0', n) != NULL)
		return SV_ERR_INTEGRITY;
	memcpy(m->sender, p, n);
	m->sender[n] = '\0';
	if (svbuf_get_u32(m->plain, &m->uid) != 0 ||
	    svbuf_get_string_direct(m->plain, &m->settings, &m->settings_len) != 0 ||
	    svbuf_get_string_direct(m->plain, &m->body, &m->body_len) != 0 ||
	    svbuf_get_string_direct(m->plain, &m->reason, &m->reason_len) != 0 ||
	    svbuf_get_u32(m->plain, &m->attempts) != 0 ||
	    svbuf_get_u64(m->plain, &m->created) != 0 ||
	    svbuf_get_u64(m->plain, &m->updated) != 0 ||
	    svbuf_expect_end(m->plain) != 0)
		return SV_ERR_INTEGRITY;
	return 0;
}

int
sso_suspended_record_uid(struct svbuf *plain, uint32_t *ret_uid)
{
	struct msg m;
	int r;

	memset(&m, 0, sizeof(m));
	m.plain = plain;
	if ((r = msg_decode(&m)) != 0)
		return r;
	*ret_uid = m.uid;
	return 0;
}

/* The sealed size of message x->object as stored, for the quota. */
static int
msg_sealed_size(struct sso_ctx *x, size_t *ret)
{
	const uint8_t *p;
	int r;

	if ((r = vault_raw_get(x->txn, SSO_TABLE_SUSPENDED, x->object, MSG_ID_HEX, &p, ret)) != 0)
		return sv_fail(x->msg, r, "cannot read message %s: %s", x->object, vault_errmsg(x->v));
	return 0;
}

/* Seal m under x->object.  The body may be large: one copy, in secure memory. */
static int
msg_store(struct sso_ctx *x, const struct msg *m, unsigned flags)
{
	struct svbuf *b = svbuf_new_secure(0);
	int r;

	if (b == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_put_u8(b, MSG_RECORD_VERSION)) != 0 ||
	    (r = svbuf_put_cstring(b, m->sender)) != 0 ||
	    (r = svbuf_put_u32(b, m->uid)) != 0 ||
	    (r = svbuf_put_string(b, m->settings, m->settings_len)) != 0 ||
	    (r = svbuf_put_string(b, m->body, m->body_len)) != 0 ||
	    (r = svbuf_put_string(b, m->reason, m->reason_len)) != 0 ||
	    (r = svbuf_put_u32(b, m->attempts)) != 0 ||
	    (r = svbuf_put_u64(b, m->created)) != 0 ||
	    (r = svbuf_put_u64(b, m->updated)) != 0)
		goto out;
	if ((r = vault_record_put(x->txn, SSO_TABLE_SUSPENDED, x->object, MSG_ID_HEX,
	    svbuf_ptr(b), svbuf_len(b), flags)) != 0)
		sv_fail(x->msg, r, "cannot store message %s: %s", x->object, vault_errmsg(x->v));
out:
	svbuf_free(b);
	return r;
}

/* The caller sent it, or may manage every message. */
static int
msg_owner(struct sso_ctx *x, const struct msg *m)
{
	if ((uid_t)m->uid == x->caller->uid || x->is_affiliate_admin)
		return 0;
	return sso_deny(x, "the sender of message %s or an affiliate admin", x->object);
}

/* Load the message x->object names and check that the caller may touch it. */
static int
msg_load(struct sso_ctx *x, struct msg *m)
{
	int r;

	memset(m, 0, sizeof(*m));
	if ((r = msg_id(x)) != 0)
		return r;
	r = vault_record_get(x->txn, SSO_TABLE_SUSPENDED, x->object, MSG_ID_HEX, &m->plain);
	if (r == SV_ERR_NOT_FOUND)
		return sv_fail(x->msg, r, "no suspended message %s: see 'ssovault suspended list'",
		    x->object);
	if (r == 0 && (r = msg_decode(m)) != 0)
		sv_fail(x->msg, r, "the record of message %s is damaged", x->object);
	else if (r != 0)
		sv_fail(x->msg, r, "cannot read message %s: %s", x->object, vault_errmsg(x->v));
	if (r == 0)
		r = msg_owner(x, m);
	if (r != 0) {
		svbuf_free(m->plain);
		m->plain = NULL;
	}
	return r;
}

/*
 * A reason is one line of text for people: control characters become
 * spaces, invalid UTF-8 becomes '?', and it is cut (on a character
 * boundary) at MSG_REASON_MAX bytes.  The result is in out (MSG_REASON_MAX + 1).
 */
static size_t
reason_clean(const uint8_t *p, size_t n, char *out)
{
	size_t i = 0, o = 0, len, k;

	while (i < n && o < MSG_REASON_MAX) {
		uint8_t ch = p[i];

		if (ch < 0x80) {
			out[o++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
			i++;
			continue;
		}
		len = ch >= 0xf0 && ch < 0xf5 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc2 ? 2 : 0;
		if (ch >= 0xf5)
			len = 0;
		for (k = 1; len != 0 && k < len; k++) {
			if (i + k >= n || (p[i + k] & 0xc0) != 0x80)
				len = 0;
		}
		/* jansson is the judge of the rest (overlong forms, surrogates) */
		if (len != 0) {
			json_t *t = json_stringn((const char *)p + i, len);

			if (t == NULL)
				len = 0;
			json_decref(t);
		}
		if (len == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		if (o + len > MSG_REASON_MAX)
			break;
		memcpy(out + o, p + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	return o;
}

/* The listing entry of a message; with_settings for show. */
static json_t *
msg_json(struct sso_ctx *x, const char *id, const struct msg *m, int with_settings)
{
	char created[32], updated[32];
	const char *url, *port;
	json_t *settings, *j;
	json_error_t e;

	settings = json_loadb((const char *)m->settings, m->settings_len, 0, &e);
	if (settings == NULL)
		settings = json_object();
	url = json_string_value(json_object_get(settings, "url"));
	port = json_string_value(json_object_get(settings, "port"));
	units_iso_time((int64_t)m->created, created);
	units_iso_time((int64_t)m->updated, updated);
	/* own: whether a resume may use the message's credential settings */
	j = json_pack("{s:s,s:s,s:I,s:b,s:s,s:s,s:I,s:s%,s:I,s:s?,s:s?}",
	    "id", id, "sender", m->sender, "uid", (json_int_t)m->uid,
	    "own", (uid_t)m->uid == x->caller->uid, "created", created, "updated", updated,
	    "attempts", (json_int_t)m->attempts,
	    "reason", (const char *)m->reason, m->reason_len,
	    "size", (json_int_t)m->body_len, "url", url, "port", port);
	if (j != NULL && with_settings && json_object_set(j, "settings", settings) != 0) {
		json_decref(j);
		j = NULL;
	}
	json_decref(settings);
	return j;
}

/* request: s settings JSON | s body | s reason | u32 attempts; reply: s id */
int
sso_h_suspended_add(struct sso_ctx *x, struct svbuf *req)
{
	struct sso_queue_limits lim;
	uint8_t raw[MSG_ID_BYTES];
	char *reason = NULL, *kept = NULL;
	const uint8_t *rp;
	size_t rlen, sealed;
	json_t *settings = NULL, *usage = NULL;
	json_error_t e;
	struct msg m;
	int r;

	memset(&m, 0, sizeof(m));
	if ((r = svbuf_get_string_direct(req, &m.settings, &m.settings_len)) != 0 ||
	    (r = svbuf_get_string_direct(req, &m.body, &m.body_len)) != 0 ||
	    (r = svbuf_get_string_direct(req, &rp, &rlen)) != 0 ||
	    (r = svbuf_get_u32(req, &m.attempts)) != 0) {
		r = sv_fail(x->msg, SV_ERR_PROTOCOL, "malformed suspend request");
		goto out;
	}
	if (m.body_len > MSG_BODY_MAX) {
		r = sv_fail(x->msg, SV_ERR_TOO_LARGE,
		    "a message of %zu bytes is larger than the %u MiB the suspended queue keeps",
		    m.body_len, MSG_BODY_MAX / (1024u * 1024u));
		goto out;
	}
	if (m.settings_len > MSG_SETTINGS_MAX) {
		r = sv_fail(x->msg, SV_ERR_TOO_LARGE, "send settings are larger than %u KiB",
		    MSG_SETTINGS_MAX / 1024u);
		goto out;
	}
	if ((settings = json_loadb((const char *)m.settings, m.settings_len,
	    JSON_REJECT_DUPLICATES, &e)) == NULL) {
		r = sv_fail(x->msg, SV_ERR_INVALID,
		    "send settings are not valid JSON (line %d: %.80s)", e.line, e.text);
		goto out;
	}
	if (!json_is_object(settings)) {
		r = sv_fail(x->msg, SV_ERR_INVALID, "send settings must be a JSON object");
		goto out;
	}
	if ((r = settings_clean(x, settings)) != 0)
		goto out;
	if ((kept = json_dumps(settings, JSON_COMPACT | JSON_ENSURE_ASCII)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	m.settings = (const uint8_t *)kept;
	m.settings_len = strlen(kept);
	if ((reason = malloc(MSG_REASON_MAX + 1)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	m.reason_len = reason_clean(rp, rlen, reason);
	m.reason = (const uint8_t *)reason;
	sso_principal_of(x->caller, m.sender);
	m.uid = (uint32_t)x->caller->uid;
	m.created = m.updated = (uint64_t)x->now;
	/* the cheap test first; the exact one once the sealed size is known */
	if ((r = sso_queue_limits_load(x, &lim)) != 0 ||
	    (r = sso_queue_usage_load(x, &usage)) != 0 ||
	    (r = sso_queue_quota_check(x, &lim, usage, m.uid, 1,
	    (int64_t)(m.body_len + m.settings_len))) != 0)
		goto out;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(x->object, sizeof(x->object), raw, sizeof(raw));
	if ((r = msg_store(x, &m, VAULT_PUT_NOOVERWRITE)) != 0 ||
	    (r = msg_sealed_size(x, &sealed)) != 0 ||
	    (r = sso_queue_quota_check(x, &lim, usage, m.uid, 1, (int64_t)sealed)) != 0 ||
	    (r = sso_queue_usage_add(x, usage, m.uid, 1, (int64_t)sealed)) != 0 ||
	    (r = svbuf_put_cstring(x->out, x->object)) != 0)
		goto out;
out:
	free(reason);
	free(kept);
	json_decref(usage);
	json_decref(settings);
	return r;
}

/* Own messages; every message for affiliate admins.  Oldest first. */
struct entry {
	uint64_t created;
	json_t *j;
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *ea = a, *eb = b;

	if (ea->created != eb->created)
		return ea->created < eb->created ? -1 : 1;
	return strcmp(json_string_value(json_object_get(ea->j, "id")),
	    json_string_value(json_object_get(eb->j, "id")));
}

int
sso_h_suspended_list(struct sso_ctx *x, struct svbuf *req)
{
	struct vault_cursor *cur = NULL;
	struct entry *ents = NULL, *grown;
	size_t n = 0, cap = 0, i, kl, vl;
	const uint8_t *k, *v;
	char id[MSG_ID_HEX + 1];
	json_t *arr = NULL, *j;
	struct msg m;
	int r, more;

	memset(&m, 0, sizeof(m));
	if ((r = vault_cursor_open(x->txn, SSO_TABLE_SUSPENDED, &cur)) != 0) {
		sv_fail(x->msg, r, "cannot list suspended messages: %s", vault_errmsg(x->v));
		goto out;
	}
	for (more = vault_cursor_seek(cur, NULL, 0, &k, &kl, &v, &vl); more == 1;
	    more = vault_cursor_next(cur, &k, &kl, &v, &vl)) {
		if (kl != MSG_ID_HEX)
			continue;
		memcpy(id, k, kl);
		id[kl] = '\0';
		memset(&m, 0, sizeof(m));
		r = vault_cursor_unseal(cur, k, kl, v, vl, &m.plain);
		if (r == SV_ERR_NOMEM || r == SV_ERR_LOCKED)
			goto out;
		if (r == 0)
			r = msg_decode(&m);
		j = NULL;
		if (r == 0 && ((uid_t)m.uid == x->caller->uid || x->is_affiliate_admin)) {
			/* msg_json() reads from m.plain: free it after */
			if ((j = msg_json(x, id, &m, 0)) == NULL) {
				r = SV_ERR_NOMEM;
				goto out;
			}
		} else if (r != 0 && x->is_affiliate_admin) {
			/* whose it was cannot be known: only admins see it, to remove it */
			if ((j = json_pack("{s:s,s:s}", "id", id, "error", "the record is "
			    "damaged: remove it with 'ssovault suspended terminate'")) == NULL) {
				r = SV_ERR_NOMEM;
				goto out;
			}
		}
		svbuf_free(m.plain);
		m.plain = NULL;
		if (j == NULL)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((grown = realloc(ents, cap * sizeof(*ents))) == NULL) {
				json_decref(j);
				r = SV_ERR_NOMEM;
				goto out;
			}
			ents = grown;
		}
		ents[n].created = r == 0 ? m.created : 0;
		ents[n++].j = j;
	}
	if (more < 0) {
		r = sv_fail(x->msg, more, "cannot list suspended messages: %s", vault_errmsg(x->v));
		goto out;
	}
	if (n > 1)
		qsort(ents, n, sizeof(*ents), entry_cmp);
	if ((arr = json_array()) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		r = json_array_append(arr, ents[i].j);
		if (r != 0) {
			r = SV_ERR_NOMEM;
			goto out;
		}
	}
	r = sso_out_json(x, arr);
	arr = NULL;
out:
	for (i = 0; i < n; i++)
		json_decref(ents[i].j);
	free(ents);
	svbuf_free(m.plain);
	vault_cursor_close(cur);
	json_decref(arr);
	return r;
}

int
sso_h_suspended_show(struct sso_ctx *x, struct svbuf *req)
{
	struct msg m;
	json_t *j;
	int r;

	if ((r = msg_load(x, &m)) != 0)
		return r;
	j = msg_json(x, x->object, &m, 1);
	svbuf_free(m.plain);
	return sso_out_json(x, j);
}

/* reply: s settings JSON | s body */
int
sso_h_suspended_get(struct sso_ctx *x, struct svbuf *req)
{
	struct msg m;
	int r;

	if ((r = msg_load(x, &m)) != 0)
		return r;
	if ((r = svbuf_put_string(x->out, m.settings, m.settings_len)) != 0 ||
	    (r = svbuf_put_string(x->out, m.body, m.body_len)) != 0)
		svbuf_reset(x->out);
	svbuf_free(m.plain);
	return r;
}

/* request: s reason | u32 attempts */
int
sso_h_suspended_update(struct sso_ctx *x, struct svbuf *req)
{
	char reason[MSG_REASON_MAX + 1];
	const uint8_t *rp;
	size_t rlen, before, after;
	uint32_t attempts;
	json_t *usage = NULL;
	struct msg m;
	int r;

	if ((r = svbuf_get_string_direct(req, &rp, &rlen)) != 0 ||
	    (r = svbuf_get_u32(req, &attempts)) != 0)
		return sv_fail(x->msg, SV_ERR_PROTOCOL, "malformed suspended update request");
	if ((r = msg_load(x, &m)) != 0)
		return r;
	m.reason_len = reason_clean(rp, rlen, reason);
	m.reason = (const uint8_t *)reason;
	m.attempts = attempts;
	m.updated = (uint64_t)x->now;
	/* a new reason changes the size a little: charged, never refused */
	if ((r = sso_queue_usage_load(x, &usage)) == 0 &&
	    (r = msg_sealed_size(x, &before)) == 0 &&
	    (r = msg_store(x, &m, 0)) == 0 &&
	    (r = msg_sealed_size(x, &after)) == 0)
		r = sso_queue_usage_add(x, usage, m.uid, 0, (int64_t)after - (int64_t)before);
	json_decref(usage);
	svbuf_free(m.plain);
	return r;
}

/*
 * request: u8 delivered.  The audit record says which way it left the
 * queue.  A record that does not open can still be removed by an admin.
 */
int
sso_h_suspended_remove(struct sso_ctx *x, struct svbuf *req)
{
	json_t *usage = NULL;
	struct msg m;
	size_t sealed = 0;
	int r, delivered, damaged = 0;

	if ((r = svbuf_get_bool(req, &delivered)) != 0)
		return sv_fail(x->msg, SV_ERR_PROTOCOL, "malformed suspended remove request");
	snprintf(x->target, sizeof(x->target), "%s", delivered ? "delivered" : "terminated");
	r = msg_load(x, &m);
	svbuf_free(m.plain);
	if (r == SV_ERR_INTEGRITY && x->is_affiliate_admin) {
		/* whose it was is unknown: the usage is counted again without it */
		x->msg[0] = '\0';
		if ((r = sso_queue_usage_forget(x)) != 0)
			return r;
		damaged = 1;
	}
	if (r != 0)
		return r;
	x->msg[0] = '\0';
	if (!damaged && ((r = sso_queue_usage_load(x, &usage)) != 0 ||
	    (r = msg_sealed_size(x, &sealed)) != 0))
		goto out;
	if ((r = vault_record_del(x->txn, SSO_TABLE_SUSPENDED, x->object, MSG_ID_HEX)) != 0) {
		sv_fail(x->msg, r, "cannot remove message %s: %s", x->object, vault_errmsg(x->v));
		goto out;
	}
	if (!damaged)
		r = sso_queue_usage_add(x, usage, m.uid, -1, -(int64_t)sealed);
out:
	json_decref(usage);
	return r;
}
