/*
 * service.h: what the files of sso/core share about a service (internal to
 * sso/core/): the handle itself, its clock, the fill warning and the
 * decoded-record cache's reset.
 */
#ifndef SSOVAULT_CORE_SERVICE_H
#define SSOVAULT_CORE_SERVICE_H

#include <stdatomic.h>

#include "core/sso.h"
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
};

/* Unix microseconds from the service clock. */
int64_t sso_service_now_us(struct sso_service *s);
/* After a change that used bytes: the fill warning, logged once each way. */
void sso_service_usage_note(struct sso_service *s, size_t used);
/* Keys or data replaced: every thread's decoded records are stale (records.c). */
void sso_records_forget(void);

#endif
