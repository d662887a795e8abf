/*
 * memo.h: the answers of repeatable reads, kept by a service (memo.c;
 * internal to sso/core/).  A read marks what it starts from, asks; on a
 * miss it runs and, if it succeeded, keeps its answer.
 */
#ifndef SSOVAULT_CORE_MEMO_H
#define SSOVAULT_CORE_MEMO_H

#include <stdint.h>

#include "core/sso.h"

struct sso_memo;

/* What an answer rests on besides the caller and the request. */
struct sso_memo_mark {
	uint64_t version;		/* vault_txn_version() of the read */
	unsigned rgen, ngen;		/* decoded records', names' generations */
};

int sso_memo_new(struct sso_memo **ret) SV_WUR;
/* Wipe every answer (keys changed, vault locked). */
void sso_memo_clear(struct sso_memo *m);
void sso_memo_free(struct sso_memo *m);
/* Before the read: the mark, and the names' horizon starts (names.h). */
void sso_memo_mark(struct sso_memo_mark *mk, uint64_t version);
/*
 * 0 and x->out, x->object, x->target, *ret_wanted as the kept answer left
 * them, if the same caller asked the same request under the same mark
 * within its bound; SV_ERR_NOT_FOUND otherwise.
 */
int sso_memo_get(struct sso_memo *m, struct sso_ctx *x, const struct sso_memo_mark *mk,
    const uint8_t *req, size_t len, int *ret_wanted);
/* Keep a successful read's answer (no bound left, no room: nothing kept). */
void sso_memo_put(struct sso_memo *m, const struct sso_ctx *x, const struct sso_memo_mark *mk,
    const uint8_t *req, size_t len, int wanted);
/* This thread's answers go now, not at its end (a detached thread the process may outlive). */
void sso_memo_thread_end(void);
/* Hits and misses so far (tests, benchmarks). */
void sso_memo_counts(struct sso_memo *m, unsigned long *ret_hits, unsigned long *ret_misses);

#endif
