/*
 * repeat.h: repeated failures counted into one audit record (internal to
 * sso/; docs/audit.md, "Repeated failures").
 *
 * A failure (any negative outcome the audit level records) of one caller
 * uid, operation, object, user and outcome is recorded at once the first
 * time; the same failure again within SSO_REPEAT_INTERVAL_US of that is
 * only counted in memory, and the count goes into the trail as one record
 * of repeats (sso_audit_event.count) when that interval is over, at the
 * latest with the next record written or when the service stops.  So
 * that new names do not make new kinds without end, past
 * SSO_REPEAT_OP_KINDS kinds of one operation of a uid in an interval its
 * further failures of that operation are counted together in one record,
 * and past SSO_REPEAT_UID_KINDS kinds of a uid, all its further failures;
 * callers allowed many kinds (vault admins) are exempt.  The table is per
 * process and bounded: when it is full, failures are counted in one shared
 * record.
 * Every event is in exactly one record: the counts of the records add up
 * to the failures.
 *
 * Thread-safe; takes its own lock.
 */
#ifndef SSOVAULT_REPEAT_H
#define SSOVAULT_REPEAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/sso.h"

#define SSO_REPEAT_INTERVAL_US (60LL * 1000000)
#define SSO_REPEAT_OP_KINDS 8		/* kinds of one operation of a uid per interval */
#define SSO_REPEAT_UID_KINDS 64		/* kinds of a uid per interval */
#define SSO_REPEAT_SLOTS 1024		/* the table, all callers */
#define SSO_REPEAT_TAKE_MAX 16		/* records of repeats written at once */

struct sso_repeat;

int sso_repeat_new(struct sso_repeat **ret) SV_WUR;
/* Takes NULL.  Counts still held are lost: take them all first. */
void sso_repeat_free(struct sso_repeat *a);

/*
 * Note a failure e (e->time_us is now).  1: it was counted for a later
 * record of repeats; 0: record it now, as it is.  many_kinds: the caller is
 * not held to SSO_REPEAT_OP_KINDS and SSO_REPEAT_UID_KINDS.
 */
int sso_repeat_note(struct sso_repeat *a, const struct sso_audit_event *e,
    int many_kinds);

/* Records of repeats taken for writing, and whether each was written. */
struct sso_repeat_take {
	size_t n;
	struct svbuf *rec[SSO_REPEAT_TAKE_MAX];	/* encoded bodies */
	int written[SSO_REPEAT_TAKE_MAX];	/* set by the caller */
	unsigned slot[SSO_REPEAT_TAKE_MAX];
	uint32_t count[SSO_REPEAT_TAKE_MAX];
};

/*
 * Encode the records of repeats that are due at now_us (with all: every
 * count held) into *ret, up to SSO_REPEAT_TAKE_MAX; ret->n may be 0.  Their
 * counts stay held until sso_repeat_done(), which must follow: a record not
 * written is taken again later.
 */
int sso_repeat_take(struct sso_repeat *a, int64_t now_us, int all,
    struct sso_repeat_take *ret) SV_WUR;
void sso_repeat_done(struct sso_repeat *a, struct sso_repeat_take *t);

/* 1 if some count is held (for tests and the stop). */
int sso_repeat_pending(struct sso_repeat *a);

#endif
