/*
 * dispatch.c: the one dispatch through which every request passes, from the
 * daemon and from embedded handles alike.  It finds the operation in the
 * service's table (ops/table.c), checks the lock state and the caller's
 * role, opens the transaction the operation needs, runs the handler,
 * appends the audit record (failing closed) and composes exactly one reply.
 * Nothing else decides whether a caller may run an operation (handlers only
 * refine it where the table cannot: "own mapping or admin"); every special
 * case is a flag of the operation's row, never its number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vault/cert.h"
#include "service.h"

/*
 * How far an operation's changes may fill the vault (docs/keys.md, "How big
 * a vault grows"): the table's room flags.  The way out may use the
 * reserve: what frees space, and what a vault admin needs to regain control
 * (roles, audit settings, lock and unlock).  A ticket redemption is a
 * credential read whose single-use marker is as small as a record: it may
 * go as far as records.  Everything else stops short of the reserve.
 */
static enum vault_room
op_room(const struct sso_op_def *d)
{
	if (d->flags & SSO_OPF_ROOM_ALL)
		return VAULT_ROOM_ALL;
	if (d->flags & SSO_OPF_ROOM_RECORDS)
		return VAULT_ROOM_RECORDS;
	return VAULT_ROOM_DATA;
}

static int
read_object(struct sso_ctx *x, const struct sso_op_def *d, struct svbuf *req)
{
	char raw[SSO_PRINCIPAL_MAX];
	char hex[VAULT_SHA256_HEX + 1];
	size_t n;
	int r;

	if (d->obj == SSO_OBJ_NONE)
		return 0;
	if ((r = sso_req_name(req, raw, sizeof(raw))) == SV_ERR_INVALID)
		/* too long or holding a NUL: say what a valid one looks like */
		return d->obj == SSO_OBJ_CERT ?
		    sv_fail(x->msg, r, "expected 40 hexadecimal digits") :
		    d->obj == SSO_OBJ_MSG ? sv_fail(x->msg, r,
		    "invalid message id: expected 32 hexadecimal digits") :
		    sv_fail(x->msg, r, "invalid name: 1 to %d characters expected",
		    SSO_NAME_MAX);
	if (r != 0)
		return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    "request lacks a valid object name");
	switch (d->obj) {
	case SSO_OBJ_APP:
		memcpy(x->object, raw, strlen(raw) + 1);	/* fits: both SSO_PRINCIPAL_MAX */
		return sso_app_name_key(raw, (char[SSO_APP_KEY_MAX + 1]){ 0 }, x->msg);
	case SSO_OBJ_CERT:
		if ((r = vault_thumbprint_normalise(raw, hex, &n, x->msg)) != 0)
			return r;
		snprintf(x->object, sizeof(x->object), "%s", hex);
		return 0;
	case SSO_OBJ_PORT:
	case SSO_OBJ_MSG:
		snprintf(x->object, sizeof(x->object), "%s", raw);
		return sso_app_key(raw, (char[SSO_NAME_MAX + 1]){ 0 }, x->msg);
	default:
		return 0;
	}
}

static int
load_app(struct sso_ctx *x, const struct sso_op_def *d)
{
	char key[SSO_APP_KEY_MAX + 1];
	int r;

	if ((r = sso_app_name_key(x->object, key, x->msg)) != 0)
		return r;
	/* handlers of reads only look at the app: they may share the cached one */
	r = (d->flags & SSO_OPF_WRITE) ? sso_json_get(x->txn, SSO_TABLE_APPS, key, &x->app, x->msg) :
	    sso_json_get_shared(x->txn, SSO_TABLE_APPS, key, &x->app, x->msg);
	if (r == SV_ERR_NOT_FOUND)
		return sv_fail(x->msg, r, "no affiliate application '%s'", x->object);
	if (r == 0) {
		/* audit and messages use the name as the app keeps it */
		json_t *n = json_object_get(x->app, "name");

		if (json_is_string(n))
			snprintf(x->object, sizeof(x->object), "%s", json_string_value(n));
	}
	return r;
}

static int
authorise(struct sso_ctx *x, const struct sso_op_def *d)
{
	json_t *users = NULL;
	int r, ok;

	if (x->roles_err != 0 && d->need != SSO_NEED_NONE && d->need != SSO_NEED_ANY &&
	    d->need != SSO_NEED_CERT_USER) {
		/* a database that cannot be reached is not a damaged record */
		if (x->roles_err == SV_ERR_UNREACHABLE || x->roles_err == SV_ERR_CONFLICT)
			return sv_fail(x->msg, x->roles_err, "%s", vault_errmsg(x->v));
		/* a damaged roles record must not stop the way out of it */
		if (d->flags & SSO_OPF_DAMAGED_ROLES_OK)
			return 0;
		return sv_fail(x->msg, x->roles_err,
		    "the vault's roles record failed its integrity check: "
		    "restore the vault from a backup ('ssovault restore FILE')");
	}
	switch (d->need) {
	case SSO_NEED_NONE:
	case SSO_NEED_ANY:
		return 0;
	case SSO_NEED_VAULT_ADMIN:
		return x->is_vault_admin ? 0 : sso_deny(x, "a vault admin");
	case SSO_NEED_AFFILIATE_ADMIN:
		return x->is_affiliate_admin ? 0 :
		    sso_deny(x, "an affiliate admin or vault admin");
	case SSO_NEED_APP_ADMIN:
		if ((r = load_app(x, d)) != 0)
			return r;
		return x->is_affiliate_admin || sso_app_is_admin(x, x->app) ? 0 :
		    sso_deny(x, "an app admin of '%s'", x->object);
	case SSO_NEED_APP_MEMBER:
		if ((r = load_app(x, d)) != 0)
			return r;
		return x->is_affiliate_admin || sso_app_is_admin(x, x->app) ||
		    sso_app_is_user(x, x->app) ? 0 :
		    sso_deny(x, "an app user or admin of '%s'", x->object);
	case SSO_NEED_CERT_USER:
	case SSO_NEED_CERT_VIEWER:
		if ((r = x->svc->tab->cert_users(x, &users)) != 0) {
			if (r == SV_ERR_NOT_FOUND)
				return sv_fail(x->msg, r, "no certificate with thumbprint %s", x->object);
			return r;
		}
		ok = sso_principal_match_any(users, x->caller) ||
		    (d->need == SSO_NEED_CERT_VIEWER && x->is_vault_admin);
		json_decref(users);
		return ok ? 0 : sso_deny(x, "a user of certificate %s", x->object);
	}
	return SV_ERR_INTERNAL;
}

static int
audit_wanted(struct sso_ctx *x, const struct sso_op_def *d, int outcome,
    struct vault_txn *t)
{
	int pos, neg, level;

	if (t == NULL || !vault_is_unlocked(x->v))
		return 0;
	if (sso_audit_levels(t, &pos, &neg) != 0)
		return 1;	/* unreadable settings: record rather than not */
	level = (d->flags & SSO_OPF_AUDIT_LOW_SHARED) && sso_service_shared(x->svc) ?
	    SSO_AUDIT_LOW : d->level;
	return outcome == 0 ? level <= pos : level <= neg;
}

static void
audit_event(struct sso_ctx *x, const struct sso_op_def *d, int outcome,
    struct sso_audit_event *e)
{
	memset(e, 0, sizeof(*e));
	e->caller = x->caller;
	e->time_us = sso_service_now_us(x->svc);
	e->op = d->name;
	e->object = x->object;
	e->target = x->target;
	e->outcome = outcome;
	e->error = outcome == 0 ? "" : (x->msg[0] != '\0' ? x->msg : sv_strerror(outcome));
	e->host = vault_slot_mine(x->v);
}

/* The records one request writes: the repeats now due, then its own. */
struct audit_out {
	struct sso_repeat_take due;
	struct svbuf *own;		/* NULL: none (not wanted, or counted) */
};

/*
 * What to write for this request: its own record if the level wants one
 * and it is not a repeated failure counted for later, and any records of
 * repeats that are due.  Release with audit_done() whatever it returns.
 */
static int
audit_collect(struct sso_ctx *x, const struct sso_op_def *d, int outcome,
    int wanted, struct audit_out *ao)
{
	struct sso_audit_event e;
	int r;

	memset(ao, 0, sizeof(*ao));
	if (!vault_is_unlocked(x->v))
		return 0;
	audit_event(x, d, outcome, &e);
	if (wanted && (outcome == 0 ||
	    !sso_repeat_note(x->svc->repeat, &e, x->is_vault_admin))) {
		if ((ao->own = svbuf_new(0)) == NULL)
			return SV_ERR_NOMEM;
		if ((r = sso_audit_encode(&e, ao->own)) != 0)
			return r;
	}
	return sso_repeat_take(x->svc->repeat, e.time_us, 0, &ao->due);
}

static int
audit_empty(const struct audit_out *ao)
{
	return ao->own == NULL && ao->due.n == 0;
}

/* Append them all in t (one call: all or nothing), within room. */
static int
audit_write_txn(struct vault_txn *t, struct audit_out *ao, enum vault_room room)
{
	const uint8_t *recs[SSO_REPEAT_TAKE_MAX + 1];
	size_t lens[SSO_REPEAT_TAKE_MAX + 1], n, i;

	for (n = 0; n < ao->due.n; n++) {
		recs[n] = svbuf_ptr(ao->due.rec[n]);
		lens[n] = svbuf_len(ao->due.rec[n]);
	}
	if (ao->own != NULL) {
		recs[n] = svbuf_ptr(ao->own);
		lens[n++] = svbuf_len(ao->own);
	}
	for (i = 0; i < ao->due.n; i++)
		ao->due.written[i] = 0;
	return n == 0 ? 0 : sso_audit_append_room(t, recs, lens, n, room);
}

/* A read's record: into the journal, or where it has no room, through the sink. */
static int
audit_store(struct sso_service *s, const struct svbuf *rec)
{
	if (sso_service_journal_put(s, svbuf_ptr(rec), svbuf_len(rec)) == 0)
		return 0;
	return s->sink(s->sink_ctx, svbuf_ptr(rec), svbuf_len(rec));
}

/* One by one; only the request's own record decides. */
static int
audit_write_sink(struct sso_ctx *x, struct audit_out *ao)
{
	struct sso_service *s = x->svc;
	size_t i;

	for (i = 0; i < ao->due.n; i++)
		ao->due.written[i] = audit_store(s, ao->due.rec[i]) == 0;
	if (ao->own == NULL)
		return 0;
	/*
	 * An embedded service opens its journal at its second read record: a
	 * command that reads once commits once, a program that reads on
	 * stops paying a commit per read (unless it chose a sink of its own).
	 */
	if (!sso_service_shared(s) && sso_service_sink_default(s) && ++s->reads == 2)
		(void)!sso_service_journal_start(s, 1);
	return audit_store(s, ao->own);
}

/* written: the transaction holding the records committed (-1: as the sink said). */
static void
audit_done(struct sso_ctx *x, struct audit_out *ao, int written)
{
	size_t i;

	if (written >= 0)
		for (i = 0; i < ao->due.n; i++)
			ao->due.written[i] = written;
	sso_repeat_done(x->svc->repeat, &ao->due);
	svbuf_free(ao->own);
	ao->own = NULL;
}

/*
 * The room of a request's own record: the way out's records may use all
 * of the reserve when a vault admin (or, for unlock and secret restore, a
 * holder of the secret) did it; every other record may use half of it, so
 * that a caller cannot spend the rest by repeating a way-out operation.
 */
static enum vault_room
audit_room(const struct sso_ctx *x, const struct sso_op_def *d, int outcome)
{
	if (op_room(d) != VAULT_ROOM_ALL)
		return VAULT_ROOM_RECORDS;
	if (x->is_vault_admin || (d->need == SSO_NEED_NONE && outcome == 0))
		return VAULT_ROOM_ALL;
	return VAULT_ROOM_RECORDS;
}

/*
 * The caller's global roles.  An unreadable roles record grants nothing and
 * is remembered, so that operations which need roles fail with the
 * integrity error rather than a misleading "access denied".
 */
static void
roles_load(struct sso_ctx *x)
{
	json_t *roles = NULL;
	int r, va = 0, aa = 0;

	/* one read of the record for both roles: every request comes here */
	r = sso_json_get_shared(x->txn, SSO_TABLE_META, "roles", &roles, NULL);
	if (r == 0) {
		va = sso_principal_match_any(json_object_get(roles, "vault-admin"), x->caller);
		aa = va || sso_principal_match_any(json_object_get(roles, "affiliate-admin"),
		    x->caller);
		json_decref(roles);
	} else if (r != SV_ERR_NOT_FOUND) {
		va = aa = r;
	}
	x->roles_err = va < 0 ? va : 0;
	x->is_vault_admin = va > 0;
	x->is_affiliate_admin = va > 0 || aa > 0;
}

/*
 * In a shared service, unlock is a vault-admin request (DESIGN 8), and who
 * is one is written in the vault: asked right after the key opened it,
 * while the daemon holds its key lock exclusively, so that no other request
 * sees the keys first.  A refusal is audited with the keys still there, and
 * then they are wiped.
 */
static int
unlock_authorise(struct sso_ctx *x)
{
	int r;

	if ((r = vault_txn_begin(x->v, 0, &x->txn)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	roles_load(x);
	vault_txn_abort(x->txn);
	x->txn = NULL;
	if (x->roles_err != 0)
		return sv_fail(x->msg, x->roles_err,
		    "the vault's roles record failed its integrity check: unlock refused "
		    "(start ssovaultd with --key-file, then 'ssovault restore FILE')");
	return x->is_vault_admin ? 0 : sso_deny(x, "a vault admin: the vault stays locked");
}

int
sso_service_is_vault_admin(struct sso_service *s, const struct sso_caller *c)
{
	struct sso_ctx x;
	int r;

	if (!vault_is_unlocked(s->v))
		return 0;
	memset(&x, 0, sizeof(x));
	x.svc = s;
	x.v = s->v;
	x.caller = c;
	if (vault_txn_begin(s->v, 0, &x.txn) != 0)
		return 0;
	roles_load(&x);
	vault_txn_abort(x.txn);
	r = x.is_vault_admin;
	sodium_memzero(&x, sizeof(x));
	return r;
}

/* The record of an own-transaction operation, in a write transaction of its own. */
static int
own_audit(struct sso_ctx *x, const struct sso_op_def *d, int r)
{
	struct vault_txn *t = NULL;
	struct audit_out ao;
	int a, written = 0;

	memset(&ao, 0, sizeof(ao));
	a = vault_txn_begin(x->v, 1, &t);
	if (a == 0 && ((a = audit_collect(x, d, r, audit_wanted(x, d, r, t), &ao)) != 0 ||
	    (a = audit_write_txn(t, &ao, audit_room(x, d, r))) != 0)) {
		vault_txn_abort(t);
		t = NULL;
	}
	if (a == 0 && t != NULL) {
		if (audit_empty(&ao))
			vault_txn_abort(t);
		else
			a = vault_txn_commit(t);
		written = a == 0;
	}
	audit_done(x, &ao, written);
	return a;
}

static int
run_own_txn_locked(struct sso_ctx *x, const struct sso_op_def *d, struct svbuf *req);

/* An embedded folder must not fold under a handler that changes keys or data. */
static int
run_own_txn(struct sso_ctx *x, const struct sso_op_def *d, struct svbuf *req)
{
	int r;

	sso_service_write_begin(x->svc);
	r = run_own_txn_locked(x, d, req);
	sso_service_write_end(x->svc);
	return r;
}

/*
 * Run a handler that manages its own transactions (unlock, rotate, ...),
 * then record the event in a write transaction of its own.
 */
static int
run_own_txn_locked(struct sso_ctx *x, const struct sso_op_def *d, struct svbuf *req)
{
	int r, a, wipe = 0;

	if (d->need != SSO_NEED_NONE) {
		if ((r = vault_txn_begin(x->v, 0, &x->txn)) != 0)
			return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
		roles_load(x);
		r = authorise(x, d);
		vault_txn_abort(x->txn);
		x->txn = NULL;
	} else {
		r = 0;
	}
	/* the keys go with a lock: counts of repeated failures are written first */
	if (r == 0 && (d->flags & SSO_OPF_FLUSH_FIRST))
		(void)!sso_service_flush(x->svc);
	/* a lock cannot fail, and must not be refused for want of a record */
	if (r == 0 && (d->flags & SSO_OPF_AUDIT_FIRST) && vault_is_unlocked(x->v))
		(void)!own_audit(x, d, 0);
	if (r == 0) {
		r = d->fn(x, req);
		if (r == 0 && svbuf_len(req) != 0)
			r = sv_fail(x->msg, SV_ERR_TRAILING, "request has trailing bytes");
	}
	/* keys or data replaced: no decoded record or answer from before may be served */
	if (d->flags & SSO_OPF_KEYS) {
		sso_records_forget();
		sso_memo_clear(x->svc->memo);
	}
	if (r == 0 && (d->flags & SSO_OPF_ADMIN_AFTER_KEYS) && sso_service_shared(x->svc))
		wipe = (r = unlock_authorise(x)) != 0;
	if (!vault_is_unlocked(x->v) || (r == 0 && (d->flags & SSO_OPF_AUDIT_FIRST)))
		return r;
	a = own_audit(x, d, r);
	/* a refused unlock is on record: now the keys go */
	if (wipe) {
		sso_memo_clear(x->svc->memo);
		vault_lock(x->v);
		sso_records_forget();
	}
	/*
	 * Unlocking hands out nothing secret, and refusing it would bar the way
	 * to 'restore' when the audit chain itself is what got damaged.
	 */
	if (a != 0 && r == 0 && !(d->flags & SSO_OPF_AUDIT_OPTIONAL)) {
		svbuf_reset(x->out);
		return sv_fail(x->msg, SV_ERR_AUDIT, "audit record could not be written: %s",
		    sv_strerror(a));
	}
	return r;
}

/* Run a handler in a write transaction; its audit record joins it. */
static int
run_write(struct sso_ctx *x, const struct sso_op_def *d, struct svbuf *req,
    struct vault_txn *parent)
{
	struct vault_txn *outer = NULL;
	struct audit_out ao;
	struct sso_fold f;
	size_t used = 0;
	int r, a = 0, measured = 0, written = 0;

	memset(&ao, 0, sizeof(ao));
	memset(&f, 0, sizeof(f));
	if (parent == NULL)
		sso_service_write_begin(x->svc);
	if ((r = parent != NULL ? vault_txn_begin_nested(parent, &outer) :
	    vault_txn_begin(x->v, 1, &outer)) != 0) {
		if (parent == NULL)
			sso_service_write_end(x->svc);
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	}
	/* reads recorded before this change go into the chain before it (a batch folds its own) */
	if (parent == NULL)
		(void)!sso_service_fold(x->svc, outer, &f);
	/* the handler's changes go in a child so a failure can still be audited */
	if ((r = vault_txn_begin_nested(outer, &x->txn)) != 0) {
		sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
		goto out;
	}
	roles_load(x);
	if ((r = authorise(x, d)) == 0 && (r = d->fn(x, req)) == 0 && svbuf_len(req) != 0)
		r = sv_fail(x->msg, SV_ERR_TRAILING, "request has trailing bytes");
	/* an ordinary change must leave the reserve to the way out */
	if (r == 0 && (r = vault_txn_room(x->txn, op_room(d), &used, x->msg)) == 0)
		measured = 1;
	if (r == 0) {
		if ((r = vault_txn_commit(x->txn)) != 0)
			sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	} else {
		vault_txn_abort(x->txn);
	}
	x->txn = NULL;
	if ((a = audit_collect(x, d, r, audit_wanted(x, d, r, outer), &ao)) != 0 ||
	    (a = audit_write_txn(outer, &ao, audit_room(x, d, r))) != 0)
		goto out;
	a = vault_txn_commit(outer);
	outer = NULL;
	written = a == 0;
out:
	vault_txn_abort(outer);
	sso_service_folded(x->svc, &f, written);
	if (parent == NULL)
		sso_service_write_end(x->svc);
	audit_done(x, &ao, written);
	if (a != 0) {
		svbuf_reset(x->out);
		sso_audit_fail_msg(a, "nothing was changed", x->msg, sizeof(x->msg));
		return sso_audit_fail_status(a);
	}
	if (measured && r == 0)
		sso_service_usage_note(x->svc, used);
	return r;
}

/* Tries of a shared vault's read that met a change made meanwhile. */
#define READ_TRIES 4

/*
 * One try of a read: its transaction, the caller's roles, the check and the
 * handler.  Returns the outcome; *wanted is the audit level decision, or -1
 * when no transaction began (nothing to record).
 */
static int
read_try(struct sso_ctx *x, const struct sso_op_def *d, struct svbuf *req, int *wanted)
{
	struct sso_memo_mark mk;
	uint64_t version;
	int r, memo;

	*wanted = -1;
	/*
	 * The same request by the same caller (uid, gid, every group) of the
	 * same vault version, within the names' bound, has the same answer as
	 * the check and the handler gave it last time: it is served from the
	 * memo (memo.c), and audited below like any other.  The version is
	 * read without a transaction; a miss reads it again in its own.
	 */
	memo = (d->flags & SSO_OPF_MEMO) && x->fd < 0 && vault_version(x->v, &version) == 0;
	if (memo) {
		sso_memo_mark(&mk, version);
		if (sso_memo_get(x->svc->memo, x, &mk, x->req, x->req_len, wanted) == 0)
			return 0;
	}
	if ((r = vault_txn_begin(x->v, 0, &x->txn)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	if (memo && (memo = vault_txn_version(x->txn, &version) == 0))
		sso_memo_mark(&mk, version);
	roles_load(x);
	if ((r = authorise(x, d)) == 0 && (r = d->fn(x, req)) == 0 && svbuf_len(req) != 0)
		r = sv_fail(x->msg, SV_ERR_TRAILING, "request has trailing bytes");
	*wanted = audit_wanted(x, d, r, x->txn);
	if (memo && r == 0)
		sso_memo_put(x->svc->memo, x, &mk, x->req, x->req_len, *wanted);
	vault_txn_abort(x->txn);
	x->txn = NULL;
	return r;
}

/* Run a handler in a read transaction; its audit record goes to the sink. */
static int
run_read(struct sso_ctx *x, const struct sso_op_def *d, struct svbuf *req)
{
	struct audit_out ao;
	struct svbuf *view;
	const uint8_t *body = svbuf_ptr(req);
	size_t body_len = svbuf_len(req);
	int r, a = 0, wanted, i;

	/* what reads the trail sees every read before it (a failure: what is folded) */
	if (d->flags & SSO_OPF_FOLD_FIRST)
		(void)sso_service_fold_now(x->svc);
	r = read_try(x, d, req, &wanted);
	/*
	 * A shared vault's read that met a change committed meanwhile (by
	 * another host, or a fold of the journal of reads) is refused by the
	 * store with "try again" (vault/store/pg.c): nothing was written, so
	 * it runs again on the request as it came, a few times, before the
	 * caller is told.  Not with a passed descriptor: what went to it stays.
	 */
	for (i = 1; r == SV_ERR_CONFLICT && wanted >= 0 && i < READ_TRIES &&
	    x->fd < 0 && vault_shared(x->v); i++) {
		if ((view = svbuf_from(body, body_len)) == NULL)
			break;
		svbuf_reset(x->out);
		x->msg[0] = '\0';
		json_decref(x->app);
		x->app = NULL;
		r = read_try(x, d, view, &wanted);
		svbuf_free(view);
	}
	if (wanted < 0)
		return r;
	if ((a = audit_collect(x, d, r, wanted, &ao)) == 0)
		a = audit_write_sink(x, &ao);
	audit_done(x, &ao, -1);
	if (a != 0) {
		/* fail closed: nothing read is returned without its record */
		svbuf_reset(x->out);
		sso_audit_fail_msg(a, "nothing is returned", x->msg, sizeof(x->msg));
		return sso_audit_fail_status(a);
	}
	return r;
}

int
sso_dispatch(struct sso_service *s, const struct sso_caller *c,
    const uint8_t *req, size_t len, int fd, struct svbuf *reply)
{
	return sso_dispatch_in(s, NULL, c, req, len, fd, reply);
}

int
sso_dispatch_in(struct sso_service *s, struct vault_txn *parent,
    const struct sso_caller *c, const uint8_t *req, size_t len, int fd,
    struct svbuf *reply)
{
	struct svbuf *in = svbuf_from(req, len);
	const struct sso_op_def *d = NULL;
	struct sso_ctx x;
	uint8_t op;
	int r;

	memset(&x, 0, sizeof(x));
	x.svc = s;
	x.v = s->v;
	x.caller = c;
	x.fd = fd;
	x.req = req;
	x.req_len = len;
	x.now = sso_service_now_us(s) / 1000000;
	x.out = svbuf_new_secure(0);
	if (in == NULL || x.out == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = svbuf_get_u8(in, &op)) != 0) {
		sv_fail(x.msg, r, "empty request");
		goto out;
	}
	if ((d = sso_optab_find(s->tab, op)) == NULL) {
		r = sv_fail(x.msg, SV_ERR_PROTOCOL, "unknown operation %u", op);
		goto out;
	}
	x.op = d->op;
	if ((r = read_object(&x, d, in)) != 0)
		goto out;
	if (!(d->flags & SSO_OPF_LOCKED_OK) && !vault_is_unlocked(s->v)) {
		r = sv_fail(x.msg, SV_ERR_LOCKED,
		    "the vault is locked: run 'ssovault unlock' first");
		goto out;
	}
	if (d->flags & SSO_OPF_OWN_TXN)
		r = run_own_txn(&x, d, in);
	else if (d->flags & SSO_OPF_WRITE)
		r = run_write(&x, d, in, parent);
	else
		r = run_read(&x, d, in);
out:
	if (sso_proto_reply(reply, r, x.msg[0] != '\0' ? x.msg : sv_strerror(r), x.out) != 0)
		r = sso_proto_reply(reply, SV_ERR_NOMEM, "reply too large", NULL);
	json_decref(x.app);
	svbuf_free(x.out);
	svbuf_free(in);
	sodium_memzero(&x, sizeof(x));
	return r;
}
