/*
 * memo.c: the answers of repeatable reads (a credential lookup), kept by
 * the service so that the same caller asking the same thing of the same
 * vault gets the same answer without opening, decoding and checking it all
 * again (docs/decisions.md, "The memo of lookups").
 *
 * An answer is a function of what the read transaction saw, the caller's
 * ids, the request's bytes and the names the name service gave (names.c).
 * So an entry is served only while all four are the same:
 *   - the vault version its transaction saw (vault_txn_version(): any commit
 *     by any process or host makes a new one) and the generation of the
 *     decoded-record cache (keys changed: unlock, lock, rotate, restore);
 *   - uid, gid and every supplementary group, compared whole;
 *   - the request, byte for byte (operation, app, user);
 *   - until the first of the names it rested on would have been asked
 *     again (sso_names_horizon()), and never longer than MEMO_MS.
 * Only successful reads are kept; a hit still gets its own audit record,
 * written by the dispatch exactly as for a miss.  Answers hold secrets: they
 * live in secure memory (svbuf_new_secure) and are wiped when evicted, when
 * the keys change or the vault is locked (sso_memo_clear, every thread's),
 * when the service goes, and when their thread ends.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "memo.h"
#include "names.h"
#include "service.h"

#define MEMO_SLOTS 16			/* per thread */
#define MEMO_REQ_MAX 512		/* longer requests are not kept */
#define MEMO_MS 1000			/* at most, whatever the names allow */

struct memo_entry {
	int live;
	uint32_t hash;
	uint64_t version;
	unsigned rgen, ngen;
	uint64_t until_ms;
	uid_t uid;
	gid_t gid;
	size_t ngroups;
	gid_t groups[SSO_MAX_GROUPS];
	size_t reqlen;
	uint8_t req[MEMO_REQ_MAX];
	struct svbuf *out;		/* secure memory */
	char object[SSO_PRINCIPAL_MAX];
	char target[SSO_PRINCIPAL_MAX];
	int wanted;
	unsigned long used;
};

/*
 * Each thread keeps its own table for the service it serves (no lock shared
 * between threads on a lookup: a lock holder preempted on a busy machine
 * would stall every other worker).  The tables are on one list so that a
 * lock, a key change or the service's end can wipe every thread's answers.
 */
struct memo_table {
	pthread_mutex_t mu;		/* the owner's, and a wipe's */
	unsigned long owner;		/* the id of the service memo whose answers it holds */
	unsigned long tick;
	struct memo_table *next, **prev;	/* on tables */
	struct memo_entry e[MEMO_SLOTS];
};

struct sso_memo {
	unsigned long id;		/* from 1, never reused: tables name their memo by it */
	atomic_ulong hits, misses;
};

static pthread_mutex_t tables_mu = PTHREAD_MUTEX_INITIALIZER;
static struct memo_table *tables;
static atomic_ulong memo_ids;
static pthread_key_t table_key;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static int table_key_ok;
static __thread struct memo_table *mine;

static void
entry_clear(struct memo_entry *e)
{
	svbuf_free(e->out);
	sodium_memzero(e, sizeof(*e));
}

static void
table_wipe(struct memo_table *t)
{
	size_t i;

	for (i = 0; i < MEMO_SLOTS; i++)
		entry_clear(&t->e[i]);
}

/* A thread ends: its table goes with it. */
static void
table_drop(void *arg)
{
	struct memo_table *t = arg;

	pthread_mutex_lock(&tables_mu);
	if ((*t->prev = t->next) != NULL)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&tables_mu);
	table_wipe(t);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

void
sso_memo_thread_end(void)
{
	if (mine == NULL)
		return;
	(void)pthread_setspecific(table_key, NULL);
	table_drop(mine);
	mine = NULL;
}

static void
table_init(void)
{
	table_key_ok = pthread_key_create(&table_key, table_drop) == 0;
}

/* This thread's table, holding m's answers, locked; NULL if there is none. */
static struct memo_table *
table_of(const struct sso_memo *m)
{
	struct memo_table *t = mine;

	if (t == NULL) {
		pthread_once(&table_once, table_init);
		if (!table_key_ok || (t = calloc(1, sizeof(*t))) == NULL)
			return NULL;
		if (pthread_mutex_init(&t->mu, NULL) != 0) {
			free(t);
			return NULL;
		}
		if (pthread_setspecific(table_key, t) != 0) {
			pthread_mutex_destroy(&t->mu);
			free(t);
			return NULL;
		}
		pthread_mutex_lock(&tables_mu);
		if ((t->next = tables) != NULL)
			tables->prev = &t->next;
		tables = t;
		t->prev = &tables;
		pthread_mutex_unlock(&tables_mu);
		mine = t;
	}
	pthread_mutex_lock(&t->mu);
	if (t->owner != m->id) {
		/* another service's answers (one thread may serve several handles) */
		table_wipe(t);
		t->owner = m->id;
	}
	return t;
}

int
sso_memo_new(struct sso_memo **ret)
{
	struct sso_memo *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return SV_ERR_NOMEM;
	m->id = atomic_fetch_add(&memo_ids, 1) + 1;
	*ret = m;
	return 0;
}

void
sso_memo_clear(struct sso_memo *m)
{
	struct memo_table *t;

	if (m == NULL)
		return;
	pthread_mutex_lock(&tables_mu);
	for (t = tables; t != NULL; t = t->next) {
		pthread_mutex_lock(&t->mu);
		if (t->owner == m->id)
			table_wipe(t);
		pthread_mutex_unlock(&t->mu);
	}
	pthread_mutex_unlock(&tables_mu);
}

void
sso_memo_free(struct sso_memo *m)
{
	if (m == NULL)
		return;
	sso_memo_clear(m);
	free(m);
}

static uint32_t
hash_of(const struct sso_caller *c, const uint8_t *req, size_t len)
{
	uint32_t h = 2166136261u ^ (uint32_t)c->uid;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ req[i]) * 16777619u;
	return h;
}

static int
same(const struct memo_entry *e, uint32_t h, const struct sso_caller *c,
    const uint8_t *req, size_t len)
{
	return e->live && e->hash == h && e->reqlen == len && e->uid == c->uid &&
	    e->gid == c->gid && e->ngroups == c->ngroups &&
	    memcmp(e->req, req, len) == 0 &&
	    memcmp(e->groups, c->groups, c->ngroups * sizeof(c->groups[0])) == 0;
}

void
sso_memo_mark(struct sso_memo_mark *mk, uint64_t version)
{
	mk->version = version;
	mk->rgen = sso_records_generation();
	mk->ngen = sso_names_generation();
	sso_names_horizon_start();
}

int
sso_memo_get(struct sso_memo *m, struct sso_ctx *x, const struct sso_memo_mark *mk,
    const uint8_t *req, size_t len, int *ret_wanted)
{
	const struct sso_caller *c = x->caller;
	struct memo_table *t;
	uint64_t now;
	uint32_t h;
	size_t i;
	int r = SV_ERR_NOT_FOUND;

	if (m == NULL || len > MEMO_REQ_MAX || c->ngroups > SSO_MAX_GROUPS ||
	    (t = table_of(m)) == NULL)
		return SV_ERR_NOT_FOUND;
	h = hash_of(c, req, len);
	now = sso_names_now_ms();
	for (i = 0; i < MEMO_SLOTS; i++) {
		struct memo_entry *e = &t->e[i];

		if (!same(e, h, c, req, len))
			continue;
		if (e->version != mk->version || e->rgen != mk->rgen ||
		    e->ngen != mk->ngen || now >= e->until_ms) {
			entry_clear(e);
			break;
		}
		svbuf_reset(x->out);
		if ((r = svbuf_put(x->out, svbuf_ptr(e->out), svbuf_len(e->out))) != 0) {
			svbuf_reset(x->out);
			break;
		}
		memcpy(x->object, e->object, sizeof(x->object));
		memcpy(x->target, e->target, sizeof(x->target));
		*ret_wanted = e->wanted;
		e->used = ++t->tick;
		break;
	}
	pthread_mutex_unlock(&t->mu);
	atomic_fetch_add(r == 0 ? &m->hits : &m->misses, 1);
	return r;
}

void
sso_memo_put(struct sso_memo *m, const struct sso_ctx *x, const struct sso_memo_mark *mk,
    const uint8_t *req, size_t len, int wanted)
{
	const struct sso_caller *c = x->caller;
	uint64_t now = sso_names_now_ms(), until = sso_names_horizon();
	struct memo_table *t;
	struct memo_entry *e;
	struct svbuf *copy;
	uint32_t h;
	size_t i;

	if (m == NULL || len > MEMO_REQ_MAX || c->ngroups > SSO_MAX_GROUPS)
		return;
	h = hash_of(c, req, len);
	if (until > now + MEMO_MS)
		until = now + MEMO_MS;
	if (until <= now)
		return;		/* rests on an answer that was not cached */
	if ((copy = svbuf_new_secure(0)) == NULL)
		return;
	if (svbuf_put(copy, svbuf_ptr(x->out), svbuf_len(x->out)) != 0) {
		svbuf_free(copy);
		return;
	}
	if ((t = table_of(m)) == NULL) {
		svbuf_free(copy);
		return;
	}
	/* the same question's older answer, else the least recently used */
	e = &t->e[0];
	for (i = 0; i < MEMO_SLOTS; i++) {
		if (same(&t->e[i], h, c, req, len) || !t->e[i].live) {
			e = &t->e[i];
			break;
		}
		if (t->e[i].used < e->used)
			e = &t->e[i];
	}
	entry_clear(e);
	e->live = 1;
	e->hash = h;
	e->version = mk->version;
	e->rgen = mk->rgen;
	e->ngen = mk->ngen;
	e->until_ms = until;
	e->uid = c->uid;
	e->gid = c->gid;
	e->ngroups = c->ngroups;
	memcpy(e->groups, c->groups, c->ngroups * sizeof(c->groups[0]));
	e->reqlen = len;
	memcpy(e->req, req, len);
	e->out = copy;
	memcpy(e->object, x->object, sizeof(e->object));
	memcpy(e->target, x->target, sizeof(e->target));
	e->wanted = wanted;
	e->used = ++t->tick;
	pthread_mutex_unlock(&t->mu);
}

void
sso_memo_counts(struct sso_memo *m, unsigned long *ret_hits, unsigned long *ret_misses)
{
	*ret_hits = *ret_misses = 0;
	if (m == NULL)
		return;
	*ret_hits = atomic_load(&m->hits);
	*ret_misses = atomic_load(&m->misses);
}
