/*
 * audit.c: the audit chain (the handlers of `audit list|verify|prune|level`
 * are ops/audit.c).  The audit trail: one record per operation, allowed or denied, in the
 * vault's audit table, HMAC-chained with the vault's audit key.
 *
 * Stored value (raw, key = u64 big-endian sequence):
 *   u64 seq | body | mac[32],  mac = HMAC(audit key, prev mac | u64 seq | body)
 * body (sso_audit_encode):
 *   u8 version | u64 time (µs) | u32 uid | u32 gid | u32 pid | string exe |
 *   string op | string object | string target | u32 outcome | string error
 *   and, in versions 2 and 4 (a record of repeats, repeat.c):
 *   | u32 count | u64 first time (µs)
 *   and, in versions 3 and 4 (a shared vault, docs/hosts.md): | string host
 *   (the name of the unlock slot the writing process was unlocked with)
 * Sealed meta records keep the chain's two ends: "audit.head" (last seq and
 * mac: a removed tail is seen) and "audit.anchor" (where a prune cut it).
 * Nothing here ever sees a secret value: handlers put only names in events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/sso.h"

#define AUDIT_VERSION 1
#define AUDIT_VERSION_REPEAT 2
#define AUDIT_VERSION_HOST 3
#define AUDIT_VERSION_REPEAT_HOST 4

int
sso_audit_encode(const struct sso_audit_event *e, struct svbuf *out)
{
	int r, host = e->host != NULL && e->host[0] != '\0';

	if ((r = svbuf_put_u8(out, e->count != 0 ?
	    (host ? AUDIT_VERSION_REPEAT_HOST : AUDIT_VERSION_REPEAT) :
	    (host ? AUDIT_VERSION_HOST : AUDIT_VERSION))) != 0 ||
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
	if (host && (r = svbuf_put_cstring(out, e->host)) != 0)
		return r;
	return 0;
}

/*
 * An audit record that could not be written fails the request closed:
 * exit 7, except when the cause is the vault's own state that the caller
 * must hear about as such (a shared vault's database unreachable, the
 * vault locked here): exit 6 with that said first.
 */
int
sso_audit_fail_status(int err)
{
	return err == SV_ERR_UNREACHABLE || err == SV_ERR_LOCKED ? err : SV_ERR_AUDIT;
}

void
sso_audit_fail_msg(int err, const char *what, char *out, size_t len)
{
	if (err == SV_ERR_UNREACHABLE)
		snprintf(out, len, "the vault's database is unreachable: the audit record "
		    "could not be written, so %s; try again when it is back", what);
	else if (err == SV_ERR_LOCKED)
		snprintf(out, len, "the vault is locked here: the audit record could not "
		    "be written, so %s; run 'ssovault unlock'", what);
	else
		snprintf(out, len, "audit record could not be written (%s): %s",
		    sv_strerror(err), what);
}

/* The chain's end ("audit.head") or start ("audit.anchor"); zeros if unset. */
int
sso_audit_end_get(struct vault_txn *t, const char *name, uint64_t *ret_seq,
    uint8_t ret_mac[VAULT_MAC_BYTES])
{
	struct svbuf *b = NULL;
	int r;

	r = vault_record_get(t, SSO_TABLE_META, name, strlen(name), &b);
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

int
sso_audit_end_put(struct vault_txn *t, const char *name, uint64_t seq,
    const uint8_t mac[VAULT_MAC_BYTES])
{
	uint8_t v[8 + VAULT_MAC_BYTES];
	int i;

	for (i = 0; i < 8; i++)
		v[i] = (uint8_t)(seq >> (56 - 8 * i));
	memcpy(v + 8, mac, VAULT_MAC_BYTES);
	return vault_record_put(t, SSO_TABLE_META, name, strlen(name), v, sizeof(v), 0);
}

void
sso_audit_seq_key(uint64_t seq, uint8_t k[8])
{
	int i;

	for (i = 0; i < 8; i++)
		k[i] = (uint8_t)(seq >> (56 - 8 * i));
}

/* mac = HMAC(prev | seq | body), through the vault (the key stays inside). */
int
sso_audit_chain_mac(struct vault *v, const uint8_t prev[VAULT_MAC_BYTES], uint64_t seq,
    const uint8_t *body, size_t len, uint8_t out[VAULT_MAC_BYTES])
{
	uint8_t s[8];
	const void *parts[3] = { prev, s, body };
	const size_t lens[3] = { VAULT_MAC_BYTES, sizeof(s), len };

	sso_audit_seq_key(seq, s);	/* big-endian, as svbuf_put_u64 writes it */
	return vault_mac_parts(v, VAULT_KEY_AUDIT, parts, lens, 3, out);
}

/*
 * Append n records to the chain in t; no check of the room they take.  The
 * records are new keys whose answer nobody needs before the commit: they
 * are deferred (VAULT_PUT_DEFER), so that a shared vault's store sends a
 * fold's hundreds as one statement; a sequence number taken already (a
 * chain written behind the head's back) fails the commit instead.
 */
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
	if ((r = sso_audit_end_get(t, "audit.head", &seq, prev)) != 0)
		return r;
	if (seq == 0 && (r = sso_audit_end_get(t, "audit.anchor", &seq, prev)) != 0)
		return r;
	if ((b = svbuf_new(0)) == NULL)
		return SV_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		seq++;
		svbuf_reset(b);
		sso_audit_seq_key(seq, k);
		if ((r = sso_audit_chain_mac(v, prev, seq, rec[i], len[i], mac)) != 0 ||
		    (r = svbuf_put_u64(b, seq)) != 0 ||
		    (r = svbuf_put(b, rec[i], len[i])) != 0 ||
		    (r = svbuf_put(b, mac, sizeof(mac))) != 0 ||
		    (r = vault_raw_put(t, SSO_TABLE_AUDIT, k, sizeof(k), svbuf_ptr(b),
		    svbuf_len(b), VAULT_PUT_NOOVERWRITE | VAULT_PUT_DEFER)) != 0)
			goto out;
		memcpy(prev, mac, sizeof(prev));
	}
	r = sso_audit_end_put(t, "audit.head", seq, prev);
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

	if ((r = sso_json_get_shared(t, SSO_TABLE_META, "audit", &j, NULL)) != 0)
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
	r = sso_json_put(t, SSO_TABLE_META, "audit", j, 0);
	json_decref(j);
	return r;
}

int
sso_audit_parse(const uint8_t *p, size_t len, struct sso_audit_rec *ret)
{
	struct svbuf *b;
	struct sso_audit_rec x;
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
	    (r = ver >= AUDIT_VERSION && ver <= AUDIT_VERSION_REPEAT_HOST ? 0 :
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
	if (ver == AUDIT_VERSION_REPEAT || ver == AUDIT_VERSION_REPEAT_HOST) {
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
	if ((ver == AUDIT_VERSION_HOST || ver == AUDIT_VERSION_REPEAT_HOST) &&
	    (r = svbuf_get_string_direct(b, &x.host, &x.host_len)) != 0)
		goto out;
	if ((r = svbuf_expect_end(b)) != 0)
		goto out;
	*ret = x;
out:
	svbuf_free(b);
	return r;
}

