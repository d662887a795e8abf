/*
 * audit.c: `audit list`, `verify`, `prune` and `level`: reading, checking
 * and cutting the chain that core/audit.c writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/units.h"
#include "handlers.h"

static const char *const level_names[] = { "none", "low", "medium", "high" };

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


static json_t *
rec_json(const struct sso_audit_rec *x)
{
	char when[32], first[32];
	json_t *j;

	units_iso_time((int64_t)(x->time_us / 1000000), when);
	j = json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:s,s:o,s:I}",
	    "seq", (json_int_t)x->seq, "time", when,
	    "time_us", (json_int_t)x->time_us,
	    "uid", (json_int_t)x->uid, "gid", (json_int_t)x->gid,
	    "pid", (json_int_t)x->pid,
	    "exe", jstr(x->s[0], x->n[0]), "op", jstr(x->s[1], x->n[1]),
	    "object", jstr(x->s[2], x->n[2]), "user", jstr(x->s[3], x->n[3]),
	    "outcome", x->outcome == 0 ? "ok" : sv_strerror((int32_t)x->outcome),
	    "error", jstr(x->s[4], x->n[4]), "count", (json_int_t)x->count);
	if (j != NULL && x->host != NULL)
		json_object_set_new(j, "host", jstr(x->host, x->host_len));
	if (j != NULL && x->repeat) {
		units_iso_time((int64_t)(x->first_us / 1000000), first);
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
	struct sso_audit_rec rr;
	int r;

	if ((r = svbuf_get_u64(req, &since)) != 0 || (r = svbuf_get_u64(req, &limit)) != 0)
		return r;
	if ((arr = json_array()) == NULL)
		return SV_ERR_NOMEM;
	if ((r = vault_cursor_open(x->txn, SSO_TABLE_AUDIT, &c)) != 0)
		goto out;
	/* with a limit, list the newest records: count first, then skip */
	if (limit != 0) {
		for (r = vault_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
		    r = vault_cursor_next(c, &k, &kl, &v, &vl)) {
			if (sso_audit_parse(v, vl, &rr) == 0 && rr.time_us >= since * 1000000)
				count++;
		}
		if (r < 0)
			goto out;
		skip = count > limit ? count - limit : 0;
	}
	for (r = vault_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	    r = vault_cursor_next(c, &k, &kl, &v, &vl)) {
		if (sso_audit_parse(v, vl, &rr) != 0) {
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
	struct sso_audit_rec rr;
	int r;

	if ((r = sso_audit_end_get(x->txn, "audit.anchor", &seq, prev)) != 0 ||
	    (r = sso_audit_end_get(x->txn, "audit.head", &head_seq, head_mac)) != 0)
		return sv_fail(x->msg, SV_ERR_INTEGRITY, "the audit chain's end records are damaged");
	if ((r = vault_cursor_open(x->txn, SSO_TABLE_AUDIT, &c)) != 0)
		return r;
	for (r = vault_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	    r = vault_cursor_next(c, &k, &kl, &v, &vl)) {
		uint8_t want_key[8];

		if (sso_audit_parse(v, vl, &rr) != 0) {
			r = sv_fail(x->msg, SV_ERR_INTEGRITY,
			    "audit record after %llu is unreadable (altered)",
			    (unsigned long long)seq);
			goto out;
		}
		if (first == 0)
			first = rr.seq;
		sso_audit_seq_key(rr.seq, want_key);
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
		if ((r = sso_audit_chain_mac(x->v, prev, rr.seq, rr.body, rr.body_len, mac)) != 0)
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
	struct sso_audit_rec rr;
	int r;

	if ((r = svbuf_get_u64(req, &keep)) != 0)
		return r;
	if ((r = vault_cursor_open(x->txn, SSO_TABLE_AUDIT, &c)) != 0)
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
		if (sso_audit_parse(v, vl, &rr) != 0) {
			r = sv_fail(x->msg, SV_ERR_INTEGRITY,
			    "an audit record is unreadable: run 'ssovault audit verify'");
			goto out;
		}
		if ((r = sso_audit_end_put(x->txn, "audit.anchor", rr.seq, rr.mac)) != 0 ||
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
		r = sso_json_put(x->txn, SSO_TABLE_META, "audit", j, 0);
		json_decref(j);
		if (r != 0)
			return r;
	}
	return sso_out_json(x, json_pack("{s:s,s:s}", "positive", level_names[p],
	    "negative", level_names[n]));
}
