/*
 * conformance: the suite every storage backend must pass (store.h).
 *
 * It drives a backend through its ops table only, so that a new backend
 * (LMDB now, PostgreSQL next) is tested by the same checks: transactions
 * and their isolation, nested aborts, cursors in key order, seek, delete
 * under a cursor, large values, readers beside a writer in other threads,
 * a failed commit that leaves nothing, reopening, and copy/restore.
 *
 * A backend is given by its ops and a constructor of fresh locations:
 * loc_new makes an empty place for one store (a new directory; a new
 * database), loc_free removes it.  Each check reports once through report
 * with its name; the return value is the number of checks that failed.
 */
#ifndef SSOVAULT_STORE_CONFORMANCE_H
#define SSOVAULT_STORE_CONFORMANCE_H

#include "store/store.h"

struct store_conformance_backend {
	const char *name;
	const struct vault_store_ops *ops;
	int (*loc_new)(void *ctx, struct vault_store_loc *ret);
	void (*loc_free)(void *ctx, struct vault_store_loc *loc);
	void *ctx;
};

int store_conformance_run(const struct store_conformance_backend *b,
    void (*report)(void *ctx, int ok, const char *check), void *ctx);

#endif
