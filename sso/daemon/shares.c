/*
 * Per-uid shares of ssovaultd's connections, buffered bytes and key
 * derivations (shares.h): a fixed table of uids in hash chains, under one
 * mutex, so that a flood from one uid costs the others one short critical
 * section per event and never a wait behind the flood.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shares.h"

#define BUCKETS 1024
#define NONE (-1)
#define MIB (1024.0 * 1024.0)

struct entry {
	int used;
	uid_t uid;
	unsigned conns;
	size_t bytes;
	int kdf;			/* a derivation's request is not yet answered */
	unsigned failures;		/* wrong secrets in a row */
	uint64_t retry_ms;		/* no derivation before this */
	int next;			/* the bucket's chain, or the free list */
};

struct sso_shares {
	pthread_mutex_t mu;
	struct sso_shares_limits lim;
	unsigned conns;
	size_t bytes;
	size_t kdf_mem;
	unsigned kdf_running;
	int bytes_full;			/* refused for the total since it was under half */
	uint64_t now_ms;		/* the latest time seen, for sweeps */
	unsigned nent;
	int freelist;
	int buckets[BUCKETS];
	struct entry ent[SSO_SHARES_UIDS];
};

int
sso_shares_new(const struct sso_shares_limits *lim, struct sso_shares **ret)
{
	struct sso_shares *s;
	int i;

	if (lim->conn_max == 0 || lim->conn_per_uid == 0 || lim->conn_reserved >= lim->conn_max ||
	    lim->bytes_per_uid == 0 || lim->bytes_max < lim->bytes_per_uid ||
	    lim->backoff_first_ms == 0 || lim->backoff_max_ms < lim->backoff_first_ms)
		return SV_ERR_INVALID;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SV_ERR_NOMEM;
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s);
		return SV_ERR_NOMEM;
	}
	s->lim = *lim;
	for (i = 0; i < BUCKETS; i++)
		s->buckets[i] = NONE;
	for (i = 0; i < SSO_SHARES_UIDS; i++)
		s->ent[i].next = i + 1 < SSO_SHARES_UIDS ? i + 1 : NONE;
	s->freelist = 0;
	*ret = s;
	return 0;
}

void
sso_shares_free(struct sso_shares *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static unsigned
bucket(uid_t uid)
{
	return (unsigned)(((uint32_t)uid * 2654435761u) >> 22) % BUCKETS;
}

static struct entry *
find(struct sso_shares *s, uid_t uid)
{
	int i;

	for (i = s->buckets[bucket(uid)]; i != NONE; i = s->ent[i].next)
		if (s->ent[i].uid == uid)
			return &s->ent[i];
	return NULL;
}

/* Failures are forgotten a while after the last delay ended. */
static void
forget(struct sso_shares *s, struct entry *e)
{
	if (e->failures > 0 && !e->kdf && s->now_ms >= e->retry_ms + s->lim.forget_ms)
		e->failures = 0;
}

static void
drop(struct sso_shares *s, struct entry *e)
{
	int *pp = &s->buckets[bucket(e->uid)];
	int idx = (int)(e - s->ent);

	while (*pp != idx)
		pp = &s->ent[*pp].next;
	*pp = e->next;
	memset(e, 0, sizeof(*e));
	e->next = s->freelist;
	s->freelist = idx;
	s->nent--;
}

/* Let go of an entry that holds nothing any more. */
static void
maybe_drop(struct sso_shares *s, struct entry *e)
{
	forget(s, e);
	if (e->conns == 0 && e->bytes == 0 && !e->kdf && e->failures == 0)
		drop(s, e);
}

/* uid's entry, made if need be; NULL if the table is full of live ones. */
static struct entry *
get(struct sso_shares *s, uid_t uid)
{
	struct entry *e;
	unsigned b;
	int i;

	if ((e = find(s, uid)) != NULL)
		return e;
	if (s->freelist == NONE) {
		for (i = 0; i < SSO_SHARES_UIDS; i++)
			if (s->ent[i].used)
				maybe_drop(s, &s->ent[i]);
		if (s->freelist == NONE)
			return NULL;
	}
	i = s->freelist;
	e = &s->ent[i];
	s->freelist = e->next;
	memset(e, 0, sizeof(*e));
	e->used = 1;
	e->uid = uid;
	b = bucket(uid);
	e->next = s->buckets[b];
	s->buckets[b] = i;
	s->nent++;
	return e;
}

static int
table_full(char *msg)
{
	return sv_fail(msg, SV_ERR_UNREACHABLE,
	    "ssovaultd follows %d uids already: try again later", SSO_SHARES_UIDS);
}

int
sso_shares_conn_open(struct sso_shares *s, uid_t uid, int admin, char *msg)
{
	struct entry *e;
	int r = 0;

	pthread_mutex_lock(&s->mu);
	if (s->conns >= s->lim.conn_max) {
		r = sv_fail(msg, SV_ERR_UNREACHABLE,
		    "ssovaultd serves %u connections already: try again later", s->conns);
		goto out;
	}
	if ((e = get(s, uid)) == NULL) {
		r = table_full(msg);
		goto out;
	}
	if (e->conns >= s->lim.conn_per_uid) {
		r = sv_fail(msg, SV_ERR_UNREACHABLE,
		    "uid %lu has %u connections to ssovaultd open already, its share: "
		    "close some first", (unsigned long)uid, e->conns);
	} else if (s->conns >= s->lim.conn_max - s->lim.conn_reserved && admin <= 0) {
		r = admin == 0 ? SSO_SHARES_ASK_ADMIN : sv_fail(msg, SV_ERR_UNREACHABLE,
		    "ssovaultd serves %u connections already; the last %u are kept for "
		    "vault admins: try again later", s->conns, s->lim.conn_reserved);
	} else {
		e->conns++;
		s->conns++;
	}
	maybe_drop(s, e);
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

void
sso_shares_conn_close(struct sso_shares *s, uid_t uid)
{
	struct entry *e;

	pthread_mutex_lock(&s->mu);
	if ((e = find(s, uid)) != NULL && e->conns > 0) {
		e->conns--;
		s->conns--;
		maybe_drop(s, e);
	}
	pthread_mutex_unlock(&s->mu);
}

int
sso_shares_bytes_add(struct sso_shares *s, uid_t uid, size_t n, int *ret_first, char *msg)
{
	struct entry *e;
	int r = 0;

	*ret_first = 0;
	pthread_mutex_lock(&s->mu);
	if ((e = get(s, uid)) == NULL) {
		r = table_full(msg);
		goto out;
	}
	if (n > s->lim.bytes_per_uid - e->bytes) {
		r = sv_fail(msg, SV_ERR_UNREACHABLE,
		    "uid %lu has %.1f MiB of requests in ssovaultd already and its share is "
		    "%.1f MiB: wait for their replies", (unsigned long)uid, e->bytes / MIB,
		    s->lim.bytes_per_uid / MIB);
	} else if (n > s->lim.bytes_max - s->bytes) {
		*ret_first = !s->bytes_full;
		s->bytes_full = 1;
		r = sv_fail(msg, SV_ERR_UNREACHABLE,
		    "ssovaultd holds %.1f MiB of requests, its limit (--max-buffered): "
		    "try again later", s->bytes / MIB);
	} else {
		e->bytes += n;
		s->bytes += n;
	}
	maybe_drop(s, e);
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

void
sso_shares_bytes_sub(struct sso_shares *s, uid_t uid, size_t n)
{
	struct entry *e;

	pthread_mutex_lock(&s->mu);
	if ((e = find(s, uid)) != NULL) {
		if (n > e->bytes)
			n = e->bytes;
		e->bytes -= n;
		s->bytes -= n;
		maybe_drop(s, e);
	}
	if (s->bytes < s->lim.bytes_max / 2)
		s->bytes_full = 0;
	pthread_mutex_unlock(&s->mu);
}

static unsigned long
secs_until(uint64_t now_ms, uint64_t then_ms)
{
	return then_ms > now_ms ? (unsigned long)((then_ms - now_ms + 999) / 1000) : 1;
}

int
sso_shares_kdf_begin(struct sso_shares *s, uid_t uid, size_t memory, uint64_t now_ms, char *msg)
{
	struct entry *e;
	int r = 0;

	pthread_mutex_lock(&s->mu);
	if (now_ms > s->now_ms)
		s->now_ms = now_ms;
	if ((e = get(s, uid)) == NULL) {
		r = table_full(msg);
		goto out;
	}
	forget(s, e);
	if (e->kdf) {
		r = sv_fail(msg, SV_ERR_UNREACHABLE,
		    "uid %lu has a key derivation under way already: try again once it is "
		    "answered", (unsigned long)uid);
	} else if (e->failures > 0 && now_ms < e->retry_ms) {
		r = sv_fail(msg, SV_ERR_UNREACHABLE,
		    "after %u wrong secret%s, uid %lu must wait before the next try: "
		    "try again in %lu s", e->failures, e->failures == 1 ? "" : "s",
		    (unsigned long)uid, secs_until(now_ms, e->retry_ms));
	} else if (s->kdf_running > 0 && memory > s->lim.kdf_memory - s->kdf_mem) {
		/* one may always run alone, whatever its size: an admin must unlock */
		r = sv_fail(msg, SV_ERR_UNREACHABLE,
		    "ssovaultd is deriving other keys (%.0f MiB of its %.0f MiB for that): "
		    "try again in 1 s", s->kdf_mem / MIB, s->lim.kdf_memory / MIB);
	} else {
		e->kdf = 1;
		s->kdf_running++;
		s->kdf_mem += memory;
	}
	maybe_drop(s, e);
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

void
sso_shares_kdf_end(struct sso_shares *s, size_t memory)
{
	pthread_mutex_lock(&s->mu);
	if (s->kdf_running > 0)
		s->kdf_running--;
	s->kdf_mem -= memory <= s->kdf_mem ? memory : s->kdf_mem;
	pthread_mutex_unlock(&s->mu);
}

void
sso_shares_kdf_done(struct sso_shares *s, uid_t uid, int failed, uint64_t now_ms)
{
	struct entry *e;
	uint64_t delay;
	unsigned k;

	pthread_mutex_lock(&s->mu);
	if (now_ms > s->now_ms)
		s->now_ms = now_ms;
	if ((e = find(s, uid)) != NULL && e->kdf) {
		e->kdf = 0;
		if (failed) {
			if (e->failures < 64)
				e->failures++;
			delay = s->lim.backoff_first_ms;
			for (k = 1; k < e->failures && delay < s->lim.backoff_max_ms; k++)
				delay *= 2;
			if (delay > s->lim.backoff_max_ms)
				delay = s->lim.backoff_max_ms;
			e->retry_ms = now_ms + delay;
		} else {
			e->failures = 0;
		}
		maybe_drop(s, e);
	}
	pthread_mutex_unlock(&s->mu);
}

void
sso_shares_usage(struct sso_shares *s, struct sso_shares_usage *ret)
{
	pthread_mutex_lock(&s->mu);
	ret->conns = s->conns;
	ret->bytes = s->bytes;
	ret->kdf_memory = s->kdf_mem;
	ret->kdf_running = s->kdf_running;
	ret->uids = s->nent;
	pthread_mutex_unlock(&s->mu);
}

void
sso_shares_uid(struct sso_shares *s, uid_t uid, unsigned *ret_conns, size_t *ret_bytes)
{
	struct entry *e;

	pthread_mutex_lock(&s->mu);
	e = find(s, uid);
	*ret_conns = e != NULL ? e->conns : 0;
	*ret_bytes = e != NULL ? e->bytes : 0;
	pthread_mutex_unlock(&s->mu);
}
