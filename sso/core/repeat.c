/*
 * Repeated failures counted into one audit record (repeat.h).  A flood of
 * refused requests (11,600 a second from one uid grew the trail by 11 MiB
 * in 15 s) costs the trail at most two records per kind of failure and
 * interval, and a bounded number of kinds per uid, instead of one record
 * per request.
 *
 * The table is a fixed array: a slot per kind of failure (uid, operation,
 * object, user, outcome) whose interval is open or whose count is held.  A
 * slot whose interval is over and whose count was written is free again.
 * Slot 0 is kept for the failures that find the table full.  Lookups walk
 * the array: failures are rare next to the requests served, and the walk is
 * short next to a request's own work.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repeat.h"

#define OP_MAX 48
#define SEVERAL "(several)"

enum kind {
	KIND_ONE = 1,		/* one kind of failure */
	KIND_OP = 2,		/* a uid's operation past SSO_REPEAT_OP_KINDS: the rest of it */
	KIND_UID = 3,		/* a uid past SSO_REPEAT_UID_KINDS: all the rest */
	KIND_FULL = 4,		/* slot 0: failures that found the table full */
};

struct entry {
	enum kind kind;			/* 0: never used */
	uid_t uid;
	int outcome;
	char op[OP_MAX];
	char object[SSO_PRINCIPAL_MAX];
	char target[SSO_PRINCIPAL_MAX];
	int64_t window_end;		/* the interval of the first failure recorded */
	int64_t due_at;			/* the pending count is written from then on */
	uint32_t pending;		/* counted, not yet written */
	uint32_t taken;			/* of those, in a record being written */
	int inflight;
	int64_t first_us, last_us;	/* of the pending ones */
	int64_t first_new_us;		/* the first counted while a record was written */
	/* the latest failure counted, for the record */
	gid_t gid;
	pid_t pid;
	int last_outcome;
	char last_op[OP_MAX];
	char last_object[SSO_PRINCIPAL_MAX];
	char exe[sizeof(((struct sso_caller *)0)->exe)];
	char error[SV_MSG_MAX];
};

struct sso_repeat {
	pthread_mutex_t mu;
	_Atomic int64_t next_due;	/* no held count is due before this */
	struct entry e[SSO_REPEAT_SLOTS];
};

static void
copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src != NULL ? src : "");
}

static int
str_is(const char *a, const char *b)
{
	return strcmp(a, b != NULL ? b : "") == 0;
}

int
sso_repeat_new(struct sso_repeat **ret)
{
	struct sso_repeat *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SV_ERR_NOMEM;
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		return SV_ERR_NOMEM;
	}
	atomic_init(&a->next_due, INT64_MAX);
	*ret = a;
	return 0;
}

void
sso_repeat_free(struct sso_repeat *a)
{
	if (a == NULL)
		return;
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/* Nothing held and the interval over: the slot may take another kind. */
static int
idle(const struct entry *x, int64_t now)
{
	return x->pending == 0 && !x->inflight && now >= x->window_end;
}

static int
same_kind(const struct entry *x, const struct sso_audit_event *e)
{
	return x->kind == KIND_ONE && x->uid == e->caller->uid &&
	    x->outcome == e->outcome && str_is(x->op, e->op) &&
	    str_is(x->object, e->object) && str_is(x->target, e->target);
}

static void
slot_init(struct entry *x, enum kind kind, const struct sso_audit_event *e)
{
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->uid = e->caller->uid;
	x->window_end = e->time_us + SSO_REPEAT_INTERVAL_US;
	if (kind == KIND_ONE || kind == KIND_OP)
		copy_str(x->op, sizeof(x->op), e->op);
	if (kind == KIND_ONE) {
		x->outcome = e->outcome;
		copy_str(x->object, sizeof(x->object), e->object);
		copy_str(x->target, sizeof(x->target), e->target);
	}
}

/* Count e into x for its record of repeats. */
static void
absorb(struct sso_repeat *a, struct entry *x, const struct sso_audit_event *e)
{
	if (x->pending == 0) {
		x->first_us = e->time_us;
		x->due_at = x->window_end;
	}
	else if (x->inflight && x->pending == x->taken)
		x->first_new_us = e->time_us;
	if (x->pending < UINT32_MAX)
		x->pending++;
	x->last_us = e->time_us;
	x->uid = e->caller->uid;
	x->gid = e->caller->gid;
	x->pid = e->caller->pid;
	x->last_outcome = e->outcome;
	copy_str(x->exe, sizeof(x->exe), e->caller->exe);
	copy_str(x->error, sizeof(x->error), e->error);
	copy_str(x->last_op, sizeof(x->last_op), e->op);
	copy_str(x->last_object, sizeof(x->last_object), e->object);
	if (x->due_at < atomic_load(&a->next_due))
		atomic_store(&a->next_due, x->due_at);
}

/* e is of x's kind: counted while x's interval is open, else recorded now. */
static int
hit(struct sso_repeat *a, struct entry *x, const struct sso_audit_event *e)
{
	if (e->time_us < x->window_end) {
		absorb(a, x, e);
		return 1;
	}
	/* a new interval; a count still held stays due at the old one's end */
	x->window_end = e->time_us + SSO_REPEAT_INTERVAL_US;
	return 0;
}

static struct entry *
slot_free(struct sso_repeat *a, int64_t now)
{
	size_t i;

	for (i = 1; i < SSO_REPEAT_SLOTS; i++)
		if (a->e[i].kind == 0 || idle(&a->e[i], now))
			return &a->e[i];
	return NULL;
}

/* A new slot of kind for e: recorded now; the shared slot if the table is full. */
static int
open_slot(struct sso_repeat *a, enum kind kind, const struct sso_audit_event *e)
{
	struct entry *x;

	if ((x = slot_free(a, e->time_us)) != NULL) {
		slot_init(x, kind, e);
		return 0;
	}
	if (a->e[0].kind == 0) {
		slot_init(&a->e[0], KIND_FULL, e);
		return 0;
	}
	return hit(a, &a->e[0], e);
}

int
sso_repeat_note(struct sso_repeat *a, const struct sso_audit_event *e,
    int many_kinds)
{
	struct entry *x, *match = NULL, *op_all = NULL, *uid_all = NULL;
	int64_t now = e->time_us;
	unsigned of_uid = 0, of_op = 0;
	size_t i;
	int r;

	pthread_mutex_lock(&a->mu);
	for (i = 1; i < SSO_REPEAT_SLOTS && match == NULL; i++) {
		x = &a->e[i];
		if (x->kind == 0 || x->uid != e->caller->uid)
			continue;
		if (same_kind(x, e)) {
			match = x;
		} else if (x->kind == KIND_UID) {
			uid_all = x;
		} else if (x->kind == KIND_OP && str_is(x->op, e->op)) {
			op_all = x;
			of_uid += !idle(x, now);
		} else if (!idle(x, now)) {
			of_uid++;
			of_op += x->kind == KIND_ONE && str_is(x->op, e->op);
		}
	}
	if (match != NULL)
		r = hit(a, match, e);
	else if (!many_kinds && of_uid >= SSO_REPEAT_UID_KINDS)
		r = uid_all != NULL ? hit(a, uid_all, e) : open_slot(a, KIND_UID, e);
	else if (!many_kinds && of_op >= SSO_REPEAT_OP_KINDS)
		r = op_all != NULL ? hit(a, op_all, e) : open_slot(a, KIND_OP, e);
	else
		r = open_slot(a, KIND_ONE, e);
	pthread_mutex_unlock(&a->mu);
	return r;
}

static int
encode(const struct entry *x, struct svbuf **ret)
{
	struct sso_audit_event e;
	struct sso_caller c;
	char error[SV_MSG_MAX];
	struct svbuf *b;
	int r;

	memset(&c, 0, sizeof(c));
	c.uid = x->uid;
	c.gid = x->gid;
	c.pid = x->pid;
	copy_str(c.exe, sizeof(c.exe), x->exe);
	memset(&e, 0, sizeof(e));
	e.caller = &c;
	e.time_us = x->last_us;
	e.count = x->pending;
	e.first_us = x->first_us;
	if (x->kind == KIND_ONE) {
		e.op = x->op;
		e.object = x->object;
		e.target = x->target;
		e.outcome = x->outcome;
		e.error = x->error;
	} else {
		snprintf(error, sizeof(error), "%s, counted together; the last: %.32s %.48s: %.64s",
		    x->kind == KIND_OP ? "failures of this operation on many objects" :
		    x->kind == KIND_UID ? "failures of this caller of many kinds" :
		    "failures of many callers (the table of repeats was full)",
		    x->last_op, x->last_object, x->error);
		e.op = x->kind == KIND_OP ? x->op : SEVERAL;
		e.object = SEVERAL;
		e.target = "";
		e.outcome = x->last_outcome;
		e.error = error;
	}
	if ((b = svbuf_new(0)) == NULL)
		return SV_ERR_NOMEM;
	if ((r = sso_audit_encode(&e, b)) != 0) {
		svbuf_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

int
sso_repeat_take(struct sso_repeat *a, int64_t now_us, int all,
    struct sso_repeat_take *ret)
{
	int64_t next = INT64_MAX;
	struct entry *x;
	size_t i;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	/* every request asks: most find nothing due without taking the lock */
	if (!all && now_us < atomic_load_explicit(&a->next_due, memory_order_relaxed))
		return 0;
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < SSO_REPEAT_SLOTS; i++) {
		x = &a->e[i];
		if (x->kind == 0 || x->pending == 0 || x->inflight)
			continue;
		if (!all && now_us < x->due_at) {
			if (x->due_at < next)
				next = x->due_at;
			continue;
		}
		if (ret->n == SSO_REPEAT_TAKE_MAX || r != 0) {
			next = now_us;		/* due still: the next write takes it */
			continue;
		}
		if ((r = encode(x, &ret->rec[ret->n])) != 0)
			continue;
		x->inflight = 1;
		x->taken = x->pending;
		ret->slot[ret->n] = (unsigned)i;
		ret->count[ret->n] = x->pending;
		ret->n++;
	}
	atomic_store(&a->next_due, next);
	pthread_mutex_unlock(&a->mu);
	if (r != 0) {
		/* nothing was written: give back what was taken */
		sso_repeat_done(a, ret);
		return r;
	}
	return 0;
}

void
sso_repeat_done(struct sso_repeat *a, struct sso_repeat_take *t)
{
	struct entry *x;
	size_t i;

	if (t->n == 0)
		return;		/* every read comes here: no lock for nothing */
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < t->n; i++) {
		x = &a->e[t->slot[i]];
		x->inflight = 0;
		if (t->written[i]) {
			x->pending -= t->count[i];
			x->first_us = x->pending != 0 ? x->first_new_us : 0;
			/* counted meanwhile: due with the interval they fell in */
			x->due_at = x->window_end;
		}
		if (x->pending != 0 && x->due_at < atomic_load(&a->next_due))
			atomic_store(&a->next_due, x->due_at);
		svbuf_free(t->rec[i]);
		t->rec[i] = NULL;
	}
	t->n = 0;
	pthread_mutex_unlock(&a->mu);
}

int
sso_repeat_pending(struct sso_repeat *a)
{
	size_t i;
	int held = 0;

	pthread_mutex_lock(&a->mu);
	for (i = 0; i < SSO_REPEAT_SLOTS && !held; i++)
		held = a->e[i].kind != 0 && a->e[i].pending != 0;
	pthread_mutex_unlock(&a->mu);
	return held;
}
