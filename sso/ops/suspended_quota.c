/*
 * Per-uid quotas on the suspended queue (DESIGN section 8: each uid has a
 * bounded share of queue space).  Any caller may suspend a message, so
 * without a bound one uid could fill the vault and lock every other user
 * out.  Each uid may keep at most max_count messages and max_size sealed
 * bytes: by default 1000 messages and a quarter of the size the vault may
 * grow to.  A vault admin changes them (`ssovault suspended limits`).
 *
 * What each uid holds is kept in meta "suspended-usage", a sealed JSON
 * object {"UID": {"count": N, "size": BYTES}} changed in the same write
 * transaction as the queue, so that adds, which the store serialises,
 * cannot overshoot.  When it is missing (a vault from before the quotas,
 * or after a damaged message was removed) it is counted again from the
 * queue.  The limits are in meta "suspended-limits"; members not set take
 * their defaults, so the size default follows the vault's size.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define LIMITS_KEY "suspended-limits"
#define USAGE_KEY "suspended-usage"
#define MSG_ID_HEX 32

#define DEFAULT_MAX_COUNT 1000u
#define MAX_COUNT_MAX 1000000000ull
#define MAX_SIZE_MIN 1024ull
#define MAX_SIZE_MAX (1ull << 50)

/* In a limits set request: keep the value / go back to the default. */
#define LIMIT_KEEP 0
#define LIMIT_DEFAULT UINT64_MAX

/*
 * The size the vault may grow to (its ceiling, SSOVAULT_MAX_SIZE), which
 * the default size limit is a quarter of.
 */
static int
queue_vault_size(struct sso_ctx *x, uint64_t *ret)
{
	/* the ceiling the vault may grow to, not the map of the moment */
	*ret = (uint64_t)vault_max_size(x->v);
	return 0;
}

static void
human_size(uint64_t n, char out[32])
{
	if (n >= (1ull << 30))
		snprintf(out, 32, "%.1f GiB", (double)n / (double)(1ull << 30));
	else if (n >= (1ull << 20))
		snprintf(out, 32, "%.1f MiB", (double)n / (double)(1ull << 20));
	else if (n >= 1024)
		snprintf(out, 32, "%.1f KiB", (double)n / 1024.0);
	else
		snprintf(out, 32, "%" PRIu64 " bytes", n);
}

/* A positive integer member of o, or 0. */
static uint64_t
member_u64(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) && json_integer_value(v) > 0 ?
	    (uint64_t)json_integer_value(v) : 0;
}

int
sso_queue_limits_load(struct sso_ctx *x, struct sso_queue_limits *ret)
{
	struct sso_queue_limits l;
	json_t *j = NULL;
	int r;

	memset(&l, 0, sizeof(l));
	r = sso_json_get(x->txn, SSO_TABLE_META, LIMITS_KEY, &j, x->msg);
	if (r == SV_ERR_NOT_FOUND) {
		x->msg[0] = '\0';
		r = 0;
	}
	if (r != 0 || (r = queue_vault_size(x, &l.vault_size)) != 0)
		goto out;
	l.max_count = member_u64(j, "max_count");
	if ((l.count_default = l.max_count == 0))
		l.max_count = DEFAULT_MAX_COUNT;
	l.max_size = member_u64(j, "max_size");
	if ((l.size_default = l.max_size == 0))
		l.max_size = l.vault_size / 4;
	*ret = l;
out:
	json_decref(j);
	return r;
}

/* --- usage ------------------------------------------------------------- */

static void
usage_key(uint32_t uid, char out[16])
{
	snprintf(out, 16, "%" PRIu32, uid);
}

static void
usage_of(json_t *usage, uint32_t uid, uint64_t *ret_count, uint64_t *ret_size)
{
	char k[16];
	json_t *e;

	usage_key(uid, k);
	e = json_object_get(usage, k);
	*ret_count = member_u64(e, "count");
	*ret_size = member_u64(e, "size");
}

/* Set uid's entry; a uid that holds nothing has none. */
static int
usage_set(json_t *usage, uint32_t uid, uint64_t count, uint64_t size)
{
	char k[16];
	json_t *e;

	usage_key(uid, k);
	if (count == 0) {
		json_object_del(usage, k);
		return 0;
	}
	if ((e = json_pack("{s:I,s:I}", "count", (json_int_t)count,
	    "size", (json_int_t)size)) == NULL ||
	    json_object_set_new(usage, k, e) != 0)
		return SV_ERR_NOMEM;
	return 0;
}

static uint64_t
plus(uint64_t v, int64_t d)
{
	if (d < 0)
		return (uint64_t)-d > v ? 0 : v - (uint64_t)-d;
	return v + (uint64_t)d;
}

/* Count every message of the queue into usage: the sealed bytes of each, by sender. */
static int
usage_count(struct sso_ctx *x, json_t *usage)
{
	struct vault_cursor *cur = NULL;
	struct svbuf *plain;
	const uint8_t *k, *v;
	size_t kl, vl;
	uint64_t count, size;
	uint32_t uid;
	int r, more;

	if ((r = vault_cursor_open(x->txn, SSO_TABLE_SUSPENDED, &cur)) != 0)
		return sv_fail(x->msg, r, "cannot count the suspended queue: %s", vault_errmsg(x->v));
	for (more = vault_cursor_seek(cur, NULL, 0, &k, &kl, &v, &vl); more == 1;
	    more = vault_cursor_next(cur, &k, &kl, &v, &vl)) {
		if (kl != MSG_ID_HEX)
			continue;
		plain = NULL;
		r = vault_cursor_unseal(cur, k, kl, v, vl, &plain);
		if (r == SV_ERR_NOMEM || r == SV_ERR_LOCKED)
			goto out;
		if (r == 0)
			r = sso_suspended_record_uid(plain, &uid);
		svbuf_free(plain);
		/* a damaged record is nobody's: an admin removes it */
		if (r != 0)
			continue;
		usage_of(usage, uid, &count, &size);
		if ((r = usage_set(usage, uid, count + 1, size + vl)) != 0)
			goto out;
	}
	r = 0;
	if (more < 0)
		r = sv_fail(x->msg, more, "cannot count the suspended queue: %s", vault_errmsg(x->v));
out:
	vault_cursor_close(cur);
	return r;
}

int
sso_queue_usage_load(struct sso_ctx *x, json_t **ret)
{
	json_t *u = NULL;
	int r;

	r = sso_json_get(x->txn, SSO_TABLE_META, USAGE_KEY, &u, x->msg);
	if (r == 0 && json_is_object(u)) {
		*ret = u;
		return 0;
	}
	json_decref(u);
	/* counts only, derived from the queue: a record that does not open is counted again */
	if (r != 0 && r != SV_ERR_NOT_FOUND && r != SV_ERR_INTEGRITY)
		return r;
	x->msg[0] = '\0';
	if ((u = json_object()) == NULL)
		return SV_ERR_NOMEM;
	if ((r = usage_count(x, u)) != 0) {
		json_decref(u);
		return r;
	}
	*ret = u;
	return 0;
}

int
sso_queue_quota_check(struct sso_ctx *x, const struct sso_queue_limits *l, json_t *usage,
    uint32_t uid, int64_t dcount, int64_t dbytes)
{
	char held[32], max[32], adds[32];
	uint64_t count, size;

	usage_of(usage, uid, &count, &size);
	if (dcount > 0 && plus(count, dcount) > l->max_count)
		return sv_fail(x->msg, SV_ERR_TOO_LARGE,
		    "the suspended queue keeps at most %" PRIu64 " messages per uid and uid %"
		    PRIu32 " holds %" PRIu64 ": resume or terminate some, or ask a vault admin "
		    "to raise --max-count ('ssovault suspended limits')", l->max_count, uid, count);
	if (dbytes > 0 && plus(size, dbytes) > l->max_size) {
		human_size(size, held);
		human_size(l->max_size, max);
		human_size((uint64_t)dbytes, adds);
		return sv_fail(x->msg, SV_ERR_TOO_LARGE,
		    "the suspended queue keeps at most %s per uid: uid %" PRIu32 " holds %s in %"
		    PRIu64 " messages and this one adds %s: resume or terminate some, or ask a "
		    "vault admin to raise --max-size ('ssovault suspended limits')",
		    max, uid, held, count, adds);
	}
	return 0;
}

int
sso_queue_usage_add(struct sso_ctx *x, json_t *usage, uint32_t uid, int64_t dcount,
    int64_t dbytes)
{
	uint64_t count, size;
	int r;

	usage_of(usage, uid, &count, &size);
	if ((r = usage_set(usage, uid, plus(count, dcount), plus(size, dbytes))) != 0)
		return r;
	if ((r = sso_json_put(x->txn, SSO_TABLE_META, USAGE_KEY, usage, 0)) != 0)
		return sv_fail(x->msg, r, "cannot store the queue's usage: %s", vault_errmsg(x->v));
	return 0;
}

int
sso_queue_usage_forget(struct sso_ctx *x)
{
	int r;

	r = vault_record_del(x->txn, SSO_TABLE_META, USAGE_KEY, strlen(USAGE_KEY));
	if (r != 0 && r != SV_ERR_NOT_FOUND)
		return sv_fail(x->msg, r, "cannot reset the queue's usage: %s", vault_errmsg(x->v));
	return 0;
}

/* --- suspended limits [set] --------------------------------------------- */

struct use {
	uint32_t uid;
	uint64_t count, size;
};

static int
use_cmp(const void *a, const void *b)
{
	const struct use *ua = a, *ub = b;

	return ua->uid < ub->uid ? -1 : ua->uid > ub->uid;
}

/*
 * The reply of both: the limits in force and what uids hold, every uid for
 * affiliate admins (who see every message), else the caller's own.
 */
static int
limits_reply(struct sso_ctx *x, const struct sso_queue_limits *l, json_t *usage)
{
	struct use *u = NULL;
	const char *k;
	json_t *arr = NULL, *j, *e;
	size_t n = 0, i;
	unsigned long v;
	char *end;
	int r = SV_ERR_NOMEM;

	if ((u = calloc(json_object_size(usage) + 1, sizeof(*u))) == NULL ||
	    (arr = json_array()) == NULL)
		goto out;
	if (x->is_affiliate_admin) {
		json_object_foreach(usage, k, e) {
			v = strtoul(k, &end, 10);
			if (*k == '\0' || *end != '\0' || v > UINT32_MAX)
				continue;
			u[n].uid = (uint32_t)v;
			usage_of(usage, u[n].uid, &u[n].count, &u[n].size);
			n++;
		}
	} else {
		u[0].uid = (uint32_t)x->caller->uid;
		usage_of(usage, u[0].uid, &u[0].count, &u[0].size);
		n = 1;
	}
	if (n > 1)
		qsort(u, n, sizeof(*u), use_cmp);
	for (i = 0; i < n; i++) {
		if ((e = json_pack("{s:I,s:I,s:I}", "uid", (json_int_t)u[i].uid,
		    "count", (json_int_t)u[i].count, "size", (json_int_t)u[i].size)) == NULL ||
		    json_array_append_new(arr, e) != 0)
			goto out;
	}
	j = json_pack("{s:I,s:b,s:I,s:b,s:I,s:O}",
	    "max_count", (json_int_t)l->max_count, "max_count_default", l->count_default,
	    "max_size", (json_int_t)l->max_size, "max_size_default", l->size_default,
	    "vault_size", (json_int_t)l->vault_size, "usage", arr);
	r = sso_out_json(x, j);
out:
	json_decref(arr);
	free(u);
	return r;
}

/* request: empty; reply: j limits and usage */
int
sso_h_suspended_limits(struct sso_ctx *x, struct svbuf *req)
{
	struct sso_queue_limits l;
	json_t *usage = NULL;
	int r;

	(void)req;
	if ((r = sso_queue_limits_load(x, &l)) != 0 ||
	    (r = sso_queue_usage_load(x, &usage)) != 0)
		return r;
	r = limits_reply(x, &l, usage);
	json_decref(usage);
	return r;
}

/*
 * request: u64 max_count | u64 max_size, each 0 to keep it or UINT64_MAX to
 * go back to the default; reply: as suspended limits.
 */
int
sso_h_suspended_limits_set(struct sso_ctx *x, struct svbuf *req)
{
	struct sso_queue_limits l;
	uint64_t count, size;
	json_t *j = NULL, *usage = NULL;
	int r;

	if (svbuf_get_u64(req, &count) != 0 || svbuf_get_u64(req, &size) != 0)
		return sv_fail(x->msg, SV_ERR_PROTOCOL, "malformed suspended limits request");
	if (count != LIMIT_KEEP && count != LIMIT_DEFAULT && count > MAX_COUNT_MAX)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "--max-count: a number from 1 to %llu expected", MAX_COUNT_MAX);
	if (size != LIMIT_KEEP && size != LIMIT_DEFAULT &&
	    (size < MAX_SIZE_MIN || size > MAX_SIZE_MAX))
		return sv_fail(x->msg, SV_ERR_INVALID, "--max-size: a size from 1K to 1024T expected");
	r = sso_json_get(x->txn, SSO_TABLE_META, LIMITS_KEY, &j, x->msg);
	if (r == SV_ERR_NOT_FOUND) {
		x->msg[0] = '\0';
		r = (j = json_object()) == NULL ? SV_ERR_NOMEM : 0;
	}
	if (r != 0)
		goto out;
	if (count == LIMIT_DEFAULT)
		json_object_del(j, "max_count");
	else if (count != LIMIT_KEEP &&
	    json_object_set_new(j, "max_count", json_integer((json_int_t)count)) != 0)
		r = SV_ERR_NOMEM;
	if (size == LIMIT_DEFAULT)
		json_object_del(j, "max_size");
	else if (size != LIMIT_KEEP &&
	    json_object_set_new(j, "max_size", json_integer((json_int_t)size)) != 0)
		r = SV_ERR_NOMEM;
	if (r != 0)
		goto out;
	if ((r = sso_json_put(x->txn, SSO_TABLE_META, LIMITS_KEY, j, 0)) != 0) {
		sv_fail(x->msg, r, "cannot store the limits: %s", vault_errmsg(x->v));
		goto out;
	}
	if ((r = sso_queue_limits_load(x, &l)) != 0 ||
	    (r = sso_queue_usage_load(x, &usage)) != 0)
		goto out;
	r = limits_reply(x, &l, usage);
out:
	json_decref(usage);
	json_decref(j);
	return r;
}
