/*
 * service.h: what the files of sso/core share about a service (internal to
 * sso/core/): the handle itself, its clock, the fill warning and the
 * decoded-record cache's reset.
 */
#ifndef SSOVAULT_CORE_SERVICE_H
#define SSOVAULT_CORE_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/sso.h"
#include "core/journal.h"
#include "memo.h"
#include "repeat.h"

struct sso_service {
	const struct sso_optab *tab;	/* the operations it runs (ops/table.c) */
	struct vault *v;
	int64_t (*now)(void *);
	void *now_ctx;
	sso_audit_sink_fn sink;
	void *sink_ctx;
	void (*progress)(void *, size_t, size_t);
	void *progress_ctx;
	int unsynced;		/* read records committed without a disk sync */
	struct sso_repeat *repeat;	/* failures counted for records of repeats */
	void (*log)(void *, const char *);
	void *log_ctx;
	atomic_int full_warned;	/* the fill warning was logged; not since below it */
	const struct sso_key_hooks *hooks;	/* NULL: not shared (embedded) */
	void *hooks_ctx;
	/* the journal of reads (journal.h, docs/audit.md) */
	_Atomic(struct sso_journal *) jn;	/* NULL: every read's record commits at once */
	/*
	 * The other journal: while one is folded, records go to the other
	 * (a journal empties only when a fold catches up with it).  NULL until
	 * the first one is a quarter full.
	 */
	_Atomic(struct sso_journal *) jn2;
	int jn2_failed;			/* the second could not be had: not asked again */
	int jn_state;			/* 0: not wanted, 1: wanted (opened unlocked), -1: none */
	int jn_folder;			/* start a folder thread with it */
	char *jn_dir;			/* a URI vault's journal directory; NULL: the vault's */
	pthread_mutex_t jmu;		/* opening it */
	unsigned long reads;		/* read records so far: the journal opens at the second */
	atomic_int tight;		/* the vault is past its data room: no journal */
	int adopt_due;			/* journals left by dead processes: fold them */
	const struct sso_fold_hooks *fh;	/* the daemon folds through its committer */
	void *fh_ctx;
	/* embedded: a folder thread, and the lock of top-level write transactions */
	pthread_mutex_t wmu;		/* recursive; taken only while a folder runs */
	pthread_mutex_t fmu;
	pthread_cond_t fcv;
	pthread_t folder;
	int folder_running, folder_stop, fold_armed, fold_urgent;
	int64_t fold_at_ms;
	struct sso_memo *memo;		/* answers of repeatable reads (memo.c) */
};

/* Unix microseconds from the service clock. */
int64_t sso_service_now_us(struct sso_service *s);
/* After a change that used bytes: the fill warning, logged once each way. */
void sso_service_usage_note(struct sso_service *s, size_t used);
/* Keys or data replaced: every thread's decoded records are stale (records.c). */
void sso_records_forget(void);
/* Changes with every sso_records_forget(). */
unsigned sso_records_generation(void);
/*
 * A read's record into the journal: 0 if it is stored there, else
 * SV_ERR_TOO_LARGE (no journal, the vault is past its data room, or the
 * journal is full): the caller stores it through the sink.
 */
int sso_service_journal_put(struct sso_service *s, const uint8_t *rec, size_t len) SV_WUR;
/* 1 if reads' records go through the service's own sink (no embedder chose one). */
int sso_service_sink_default(const struct sso_service *s);
/* Fold the journal now (audit list and verify see every read): embedded or daemon. */
int sso_service_fold_now(struct sso_service *s);
/* Top-level write transactions of the calling thread and the folder exclude each other. */
void sso_service_write_begin(struct sso_service *s);
void sso_service_write_end(struct sso_service *s);


#endif
