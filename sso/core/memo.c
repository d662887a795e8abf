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
 * the keys change (sso_memo_clear from the dispatch) and when the service
 * goes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "memo.h"
#include "names.h"
#include "service.h"

#define MEMO_SLOTS 32
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

struct sso_memo {
	pthread_mutex_t mu;
	unsigned long tick;
	unsigned long hits, misses;
	struct memo_entry e[MEMO_SLOTS];
};

int
sso_memo_new(struct sso_memo **ret)
{
	struct sso_memo *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return SV_ERR_NOMEM;
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m);
		return SV_ERR_NOMEM;
	}
	*ret = m;
	return 0;
}

static void
entry_clear(struct memo_entry *e)
{
	svbuf_free(e->out);
	sodium_memzero(e, sizeof(*e));
}

void
sso_memo_clear(struct sso_memo *m)
{
	size_t i;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	for (i = 0; i < MEMO_SLOTS; i++)
		entry_clear(&m->e[i]);
	pthread_mutex_unlock(&m->mu);
}

void
sso_memo_free(struct sso_memo *m)
{
	if (m == NULL)
		return;
	sso_memo_clear(m);
	pthread_mutex_destroy(&m->mu);
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
	uint64_t now;
	uint32_t h;
	size_t i;
	int r = SV_ERR_NOT_FOUND;

	if (m == NULL || len > MEMO_REQ_MAX || c->ngroups > SSO_MAX_GROUPS)
		return SV_ERR_NOT_FOUND;
	h = hash_of(c, req, len);
	now = sso_names_now_ms();
	pthread_mutex_lock(&m->mu);
	for (i = 0; i < MEMO_SLOTS; i++) {
		struct memo_entry *e = &m->e[i];

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
		e->used = ++m->tick;
		break;
	}
	if (r == 0)
		m->hits++;
	else
		m->misses++;
	pthread_mutex_unlock(&m->mu);
	return r;
}

void
sso_memo_put(struct sso_memo *m, const struct sso_ctx *x, const struct sso_memo_mark *mk,
    const uint8_t *req, size_t len, int wanted)
{
	const struct sso_caller *c = x->caller;
	uint64_t now = sso_names_now_ms(), until = sso_names_horizon();
	struct memo_entry *e;
	struct svbuf *copy;
	size_t i;

	if (m == NULL || len > MEMO_REQ_MAX || c->ngroups > SSO_MAX_GROUPS)
		return;
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
	pthread_mutex_lock(&m->mu);
	/* the same question's older answer, else the least recently used */
	e = &m->e[0];
	for (i = 0; i < MEMO_SLOTS; i++) {
		if (same(&m->e[i], hash_of(c, req, len), c, req, len) || !m->e[i].live) {
			e = &m->e[i];
			break;
		}
		if (m->e[i].used < e->used)
			e = &m->e[i];
	}
	entry_clear(e);
	e->live = 1;
	e->hash = hash_of(c, req, len);
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
	e->used = ++m->tick;
	pthread_mutex_unlock(&m->mu);
}

void
sso_memo_counts(struct sso_memo *m, unsigned long *ret_hits, unsigned long *ret_misses)
{
	*ret_hits = *ret_misses = 0;
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	*ret_hits = m->hits;
	*ret_misses = m->misses;
	pthread_mutex_unlock(&m->mu);
}
