/*
 * The audit trail: one record per operation, allowed or denied, in the
 * vault's audit table, HMAC-chained with the vault's audit key.
 *
 * Stored value (raw, key = u64 big-endian sequence):
 *   u64 seq | body | mac[32],  mac = HMAC(audit key, prev mac | u64 seq | body)
 * body (sso_audit_encode):
 *   u8 version | u64 time (µs) | u32 uid | u32 gid | u32 pid | string exe |
 *   string op | string object | string target | u32 outcome | string error
 *   and, in version 2 only (a record of repeats, repeat.c):
 *   | u32 count | u64 first time (µs)
 * Sealed meta records keep the chain's two ends: "audit.head" (last seq and
 * mac: a removed tail is seen) and "audit.anchor" (where a prune cut it).
 * Nothing here ever sees a secret value: handlers put only names in events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sso.h"

#define AUDIT_VERSION 1
#define AUDIT_VERSION_REPEAT 2

static const char *const level_names[] = { "none", "low", "medium", "high" };

int
sso_audit_encode(const struct sso_audit_event *e, struct svbuf *out)
{
	int r;

	if ((r = svbuf_put_u8(out, e->count != 0 ? AUDIT_VERSION_REPEAT : AUDIT_VERSION)) != 0 ||
	    (r = svbuf_put_u64(out, (uint64_t)e->time_us)) != 0 ||
	    (r = svbuf_put_u32(out, (uint32_t)e->caller->uid)) != 0 ||
	    (r = svbuf_put_u32(out, (uint32_t)e->caller->gid)) != 0 ||
	    (r = svbuf_put_u32(out, (uint32_t)e->caller->pid)) != 0 ||
	    (r = svbuf_put_cstring(out, e->caller->exe)) != 0 ||
	    (r = svbuf_put_cstring(out, e->op)) != 0 ||
	    (r = svbuf_put_cstring(out, e->object)) != 0 ||
	    (r = svbuf_put_cstring(out, e->target)) != 0 ||
	    (r = svbuf_put_u32(out, (uint32_t)e->outcome)) != 0 ||
	    (r = svbuf_put_cstring(out, e->error)) != 0)
		return r;
	if (e->count != 0 &&
	    ((r = svbuf_put_u32(out, e->count)) != 0 ||
	    (r = svbuf_put_u64(out, (uint64_t)e->first_us)) != 0))
		return r;
	return 0;
}

/* The chain's end ("audit.head") or start ("audit.anchor"); zeros if unset. */
static int
end_get(struct vault_txn *t, const char *name, uint64_t *ret_seq,
    uint8_t ret_mac[VAULT_MAC_BYTES])
{
	struct svbuf *b = NULL;
	int r;

	r = vault_record_get(t, VAULT_TABLE_META, name, strlen(name), &b);
	if (r == SV_ERR_NOT_FOUND) {
		*ret_seq = 0;
		memset(ret_mac, 0, VAULT_MAC_BYTES);
		return 0;
	}
	if (r != 0)
		return r;
	if ((r = svbuf_get_u64(b, ret_seq)) == 0 &&
	    (r = svbuf_get(b, ret_mac, VAULT_MAC_BYTES)) == 0)
		r = svbuf_expect_end(b);
	svbuf_free(b);
	return r == 0 ? 0 : SV_ERR_INTEGRITY;
}

static int
end_put(struct vault_txn *t, const char *name, uint64_t seq,
    const uint8_t mac[VAULT_MAC_BYTES])
{
	uint8_t v[8 + VAULT_MAC_BYTES];
	int i;

	for (i = 0; i < 8; i++)
		v[i] = (uint8_t)(seq >> (56 - 8 * i));
	memcpy(v + 8, mac, VAULT_MAC_BYTES);
	return vault_record_put(t, VAULT_TABLE_META, name, strlen(name), v, sizeof(v), 0);
}

static void
seq_key(uint64_t seq, uint8_t k[8])
{
	int i;

	for (i = 0; i < 8; i++)
		k[i] = (uint8_t)(seq >> (56 - 8 * i));
}

/* mac = HMAC(prev | seq | body), through the vault (the key stays inside). */
static int
chain_mac(struct vault *v, const uint8_t prev[VAULT_MAC_BYTES], uint64_t seq,
    const uint8_t *body, size_t len, uint8_t out[VAULT_MAC_BYTES])
{
	struct svbuf *b = svbuf_new(0);
	int r;

	if (b == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_put(b, prev, VAULT_MAC_BYTES)) == 0 &&
	    (r = svbuf_put_u64(b, seq)) == 0 &&
	    (r = svbuf_put(b, body, len)) == 0)
		r = vault_mac(v, VAULT_KEY_AUDIT, svbuf_ptr(b), svbuf_len(b), out);
	svbuf_free(b);
	return r;
}

/* Append n records to the chain in t; no check of the room they take. */
static int
append_many(struct vault_txn *t, const uint8_t *const *rec, const size_t *len,
    size_t n)
{
	struct vault *v = vault_txn_vault(t);
	uint8_t prev[VAULT_MAC_BYTES], mac[VAULT_MAC_BYTES], k[8];
	struct svbuf *b = NULL;
	uint64_t seq;
	size_t i;
	int r;

	if (n == 0)
		return 0;
	/* the chain's end is read and sealed once for the lot */
	if ((r = end_get(t, "audit.head", &seq, prev)) != 0)
		return r;
	if (seq == 0 && (r = end_get(t, "audit.anchor", &seq, prev)) != 0)
		return r;
	if ((b = svbuf_new(0)) == NULL)
		return SV_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		seq++;
		svbuf_reset(b);
		seq_key(seq, k);
		if ((r = chain_mac(v, prev, seq, rec[i], len[i], mac)) != 0 ||
		    (r = svbuf_put_u64(b, seq)) != 0 ||
		    (r = svbuf_put(b, rec[i], len[i])) != 0 ||
		    (r = svbuf_put(b, mac, sizeof(mac))) != 0 ||
		    (r = vault_raw_put(t, VAULT_TABLE_AUDIT, k, sizeof(k), svbuf_ptr(b),
		    svbuf_len(b), VAULT_PUT_NOOVERWRITE)) != 0)
			goto out;
		memcpy(prev, mac, sizeof(prev));
	}
	r = end_put(t, "audit.head", seq, prev);
out:
	svbuf_free(b);
	return r;
}

int
sso_audit_append_room(struct vault_txn *t, const uint8_t *const *rec,
    const size_t *len, size_t n, enum vault_room room)
{
	int r;

	if ((r = append_many(t, rec, len, n)) != 0)
		return r;
	/* past what records may take, the caller aborts t: nothing is stored */
	return n == 0 ? 0 : vault_txn_room(t, room, NULL, NULL);
}

int
sso_audit_append_many(struct vault_txn *t, const uint8_t *const *rec,
    const size_t *len, size_t n)
{
	return sso_audit_append_room(t, rec, len, n, VAULT_ROOM_RECORDS);
}

int
sso_audit_append(struct vault_txn *t, const uint8_t *rec, size_t len)
{
	return sso_audit_append_many(t, &rec, &len, 1);
}

int
sso_audit_levels(struct vault_txn *t, int *ret_positive, int *ret_negative)
{
	json_t *j = NULL;
	json_int_t p, n;
	int r;

	if ((r = sso_json_get_shared(t, VAULT_TABLE_META, "audit", &j, NULL)) != 0)
		return r;
	p = json_integer_value(json_object_get(j, "positive"));
	n = json_integer_value(json_object_get(j, "negative"));
	json_decref(j);
	if (p < 0 || p > 3 || n < 0 || n > 3)
		return SV_ERR_INTEGRITY;
	*ret_positive = (int)p;
	*ret_negative = (int)n;
	return 0;
}

int
sso_audit_init_defaults(struct vault_txn *t)
{
	json_t *j = json_pack("{s:i,s:i}", "positive", SSO_AUDIT_LOW,
	    "negative", SSO_AUDIT_HIGH);
	int r;

	if (j == NULL)
		return SV_ERR_NOMEM;
	r = sso_json_put(t, VAULT_TABLE_META, "audit", j, 0);
	json_decref(j);
	return r;
}

/* A parsed stored record; strings point into the stored value. */
struct rec {
	uint64_t seq;
	uint64_t time_us;
	uint32_t uid, gid, pid, outcome;
	uint32_t count;		/* events the record stands for: 1, or repeats */
	uint64_t first_us;	/* a record of repeats: the first of them */
	int repeat;
	const uint8_t *body;
	size_t body_len;
	const uint8_t *mac;
	const uint8_t *s[5];	/* exe, op, object, target, error */
	size_t n[5];
};

static int
rec_parse(const uint8_t *p, size_t len, struct rec *ret)
{
	struct svbuf *b;
	struct rec x;
	uint8_t ver;
	int r, i;

	memset(&x, 0, sizeof(x));
	if (len < 8 + 1 + VAULT_MAC_BYTES)
		return SV_ERR_TRUNCATED;
	if ((b = svbuf_from(p, len - VAULT_MAC_BYTES)) == NULL)
		return SV_ERR_NOMEM;
	x.mac = p + len - VAULT_MAC_BYTES;
	x.body = p + 8;
	x.body_len = len - 8 - VAULT_MAC_BYTES;
	if ((r = svbuf_get_u64(b, &x.seq)) != 0 ||
	    (r = svbuf_get_u8(b, &ver)) != 0 ||
	    (r = ver == AUDIT_VERSION || ver == AUDIT_VERSION_REPEAT ? 0 :
	    SV_ERR_VERSION) != 0 ||
	    (r = svbuf_get_u64(b, &x.time_us)) != 0 ||
	    (r = svbuf_get_u32(b, &x.uid)) != 0 ||
	    (r = svbuf_get_u32(b, &x.gid)) != 0 ||
	    (r = svbuf_get_u32(b, &x.pid)) != 0)
		goto out;
	for (i = 0; i < 5; i++) {
		if (i == 4 && (r = svbuf_get_u32(b, &x.outcome)) != 0)
			goto out;
		if ((r = svbuf_get_string_direct(b, &x.s[i], &x.n[i])) != 0)
			goto out;
	}
	x.count = 1;
	if (ver == AUDIT_VERSION_REPEAT) {
		x.repeat = 1;
		if ((r = svbuf_get_u32(b, &x.count)) != 0 ||
		    (r = svbuf_get_u64(b, &x.first_us)) != 0)
			goto out;
		/* written only with a count; a zero would hide events from sums */
		if (x.count == 0) {
			r = SV_ERR_BAD_FORMAT;
			goto out;
		}
	}
	if ((r = svbuf_expect_end(b)) != 0)
		goto out;
	*ret = x;
out:
	svbuf_free(b);
	return r;
}

static json_t *
jstr(const uint8_t *p, size_t n)
{
	json_t *j;

	/* a record is only ever written by us, but never trust bytes to be UTF-8 */
	if (memchr(p, '\0', n) != NULL)
		return json_string("(invalid: holds a NUL byte)");
	j = json_stringn((const char *)p, n);
	return j != NULL ? j : json_string("(invalid UTF-8)");
}

static void
iso_time(uint64_t us, char when[32])
{
	struct tm tm;
	time_t secs = (time_t)(us / 1000000);

	gmtime_r(&secs, &tm);
	strftime(when, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *
rec_json(const struct rec *x)
{
	char when[32], first[32];
	json_t *j;

	iso_time(x->time_us, when);
	j = json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:s,s:o,s:I}",
	    "seq", (json_int_t)x->seq, "time", when,
	    "time_us", (json_int_t)x->time_us,
	    "uid", (json_int_t)x->uid, "gid", (json_int_t)x->gid,
	    "pid", (json_int_t)x->pid,
	    "exe", jstr(x->s[0], x->n[0]), "op", jstr(x->s[1], x->n[1]),
	    "object", jstr(x->s[2], x->n[2]), "user", jstr(x->s[3], x->n[3]),
	    "outcome", x->outcome == 0 ? "ok" : sv_strerror((int32_t)x->outcome),
	    "error", jstr(x->s[4], x->n[4]), "count", (json_int_t)x->count);
	if (j != NULL && x->repeat) {
		iso_time(x->first_us, first);
		json_object_set_new(j, "first_time", json_string(first));
		json_object_set_new(j, "first_time_us", json_integer((json_int_t)x->first_us));
	}
	return j;
}

int
sso_h_audit_list(struct sso_ctx *x, struct svbuf *req)
{
	struct vault_cursor *c = NULL;
	const uint8_t *k, *v;
	size_t kl, vl, count = 0, skip = 0;
	uint64_t since, limit;
	json_t *arr = NULL;
	struct rec rr;
	int r;

	if ((r = svbuf_get_u64(req, &since)) != 0 || (r = svbuf_get_u64(req, &limit)) != 0)
		return r;
	if ((arr = json_array()) == NULL)
		return SV_ERR_NOMEM;
	if ((r = vault_cursor_open(x->txn, VAULT_TABLE_AUDIT, &c)) != 0)
		goto out;
	/* with a limit, list the newest records: count first, then skip */
	if (limit != 0) {
		for (r = vault_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
		    r = vault_cursor_next(c, &k, &kl, &v, &vl)) {
			if (rec_parse(v, vl, &rr) == 0 && rr.time_us >= since * 1000000)
				count++;
		}
		if (r < 0)
			goto out;
		skip = count > limit ? count - limit : 0;
	}
	for (r = vault_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	    r = vault_cursor_next(c, &k, &kl, &v, &vl)) {
		if (rec_parse(v, vl, &rr) != 0) {
			json_array_append_new(arr, json_pack("{s:s}", "error",
			    "unreadable record: run 'ssovault audit verify'"));
			continue;
		}
		if (rr.time_us < since * 1000000)
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		json_array_append_new(arr, rec_json(&rr));
	}
	if (r < 0)
		goto out;
	vault_cursor_close(c);
	c = NULL;
	r = sso_out_json(x, arr);
	arr = NULL;
out:
	vault_cursor_close(c);
	json_decref(arr);
	return r;
}

int
sso_h_audit_verify(struct sso_ctx *x, struct svbuf *req)
{
	uint8_t prev[VAULT_MAC_BYTES], mac[VAULT_MAC_BYTES], head_mac[VAULT_MAC_BYTES];
	struct vault_cursor *c = NULL;
	uint64_t seq, head_seq, count = 0, first = 0;
	const uint8_t *k, *v;
	size_t kl, vl;
	struct rec rr;
	int r;

	if ((r = end_get(x->txn, "audit.anchor", &seq, prev)) != 0 ||
	    (r = end_get(x->txn, "audit.head", &head_seq, head_mac)) != 0)
		return sv_fail(x->msg, SV_ERR_INTEGRITY, "the audit chain's end records are damaged");
	if ((r = vault_cursor_open(x->txn, VAULT_TABLE_AUDIT, &c)) != 0)
		return r;
	for (r = vault_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	    r = vault_cursor_next(c, &k, &kl, &v, &vl)) {
		uint8_t want_key[8];

		if (rec_parse(v, vl, &rr) != 0) {
			r = sv_fail(x->msg, SV_ERR_INTEGRITY,
			    "audit record after %llu is unreadable (altered)",
			    (unsigned long long)seq);
			goto out;
		}
		if (first == 0)
			first = rr.seq;
		seq_key(rr.seq, want_key);
		if (rr.seq != seq + 1) {
			r = sv_fail(x->msg, SV_ERR_INTEGRITY,
			    rr.seq > seq + 1 ? "audit record %llu is missing (removed)" :
			    "audit record %llu is out of order (reordered)",
			    (unsigned long long)(seq + 1));
			goto out;
		}
		if (kl != 8 || memcmp(k, want_key, 8) != 0) {
			r = sv_fail(x->msg, SV_ERR_INTEGRITY,
			    "audit record %llu is stored under another sequence (reordered)",
			    (unsigned long long)rr.seq);
			goto out;
		}
		if ((r = chain_mac(x->v, prev, rr.seq, rr.body, rr.body_len, mac)) != 0)
			goto out;
		if (sodium_memcmp(mac, rr.mac, VAULT_MAC_BYTES) != 0) {
			r = sv_fail(x->msg, SV_ERR_INTEGRITY,
			    "audit record %llu was altered", (unsigned long long)rr.seq);
			goto out;
		}
		memcpy(prev, mac, sizeof(prev));
		seq = rr.seq;
		count++;
	}
	if (r < 0)
		goto out;
	if (seq != head_seq || sodium_memcmp(prev, head_mac, VAULT_MAC_BYTES) != 0) {
		r = sv_fail(x->msg, SV_ERR_INTEGRITY,
		    "audit records after %llu were removed (the chain ends at %llu)",
		    (unsigned long long)seq, (unsigned long long)head_seq);
		goto out;
	}
	r = sso_out_json(x, json_pack("{s:b,s:I,s:I,s:I}", "ok", 1,
	    "records", (json_int_t)count, "first", (json_int_t)first,
	    "last", (json_int_t)seq));
out:
	vault_cursor_close(c);
	return r;
}

int
sso_h_audit_prune(struct sso_ctx *x, struct svbuf *req)
{
	struct vault_cursor *c = NULL;
	uint64_t keep, total = 0, removed = 0;
	const uint8_t *k, *v;
	size_t kl, vl;
	struct rec rr;
	int r;

	if ((r = svbuf_get_u64(req, &keep)) != 0)
		return r;
	if ((r = vault_cursor_open(x->txn, VAULT_TABLE_AUDIT, &c)) != 0)
		return r;
	for (r = vault_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	    r = vault_cursor_next(c, &k, &kl, &v, &vl))
		total++;
	if (r < 0)
		goto out;
	/* drop the oldest; the last one dropped becomes the chain's anchor */
	for (r = vault_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl);
	    r == 1 && total - removed > keep;
	    r = vault_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl)) {
		if (rec_parse(v, vl, &rr) != 0) {
			r = sv_fail(x->msg, SV_ERR_INTEGRITY,
			    "an audit record is unreadable: run 'ssovault audit verify'");
			goto out;
		}
		if ((r = end_put(x->txn, "audit.anchor", rr.seq, rr.mac)) != 0 ||
		    (r = vault_cursor_del(c)) != 0)
			goto out;
		removed++;
	}
	if (r < 0)
		goto out;
	r = sso_out_json(x, json_pack("{s:I,s:I}", "removed", (json_int_t)removed,
	    "kept", (json_int_t)(total - removed)));
out:
	vault_cursor_close(c);
	return r;
}

static int
level_parse(const char *s, int *ret)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*ret = i;
			return 0;
		}
	}
	return SV_ERR_INVALID;
}

int
sso_h_audit_level(struct sso_ctx *x, struct svbuf *req)
{
	char pos[16], neg[16];
	int p, n, r;
	json_t *j;

	if ((r = sso_req_name(req, pos, sizeof(pos))) != 0 ||
	    (r = sso_req_name(req, neg, sizeof(neg))) != 0)
		return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    "invalid audit level: expected none, low, medium or high");
	if ((r = sso_audit_levels(x->txn, &p, &n)) != 0)
		return r;
	if ((pos[0] != '\0' && level_parse(pos, &p) != 0) ||
	    (neg[0] != '\0' && level_parse(neg, &n) != 0))
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "invalid audit level: expected none, low, medium or high");
	if (pos[0] != '\0' || neg[0] != '\0') {
		if ((j = json_pack("{s:i,s:i}", "positive", p, "negative", n)) == NULL)
			return SV_ERR_NOMEM;
		r = sso_json_put(x->txn, VAULT_TABLE_META, "audit", j, 0);
		json_decref(j);
		if (r != 0)
			return r;
	}
	return sso_out_json(x, json_pack("{s:s,s:s}", "positive", level_names[p],
	    "negative", level_names[n]));
}
