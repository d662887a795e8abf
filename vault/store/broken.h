/*
 * broken.h: a deliberately wrong backend for the conformance suite's own
 * test (broken.c; internal to vault/store/).
 */
#ifndef SSOVAULT_STORE_BROKEN_H
#define SSOVAULT_STORE_BROKEN_H

#include "store/store.h"

/* LMDB, except that a cursor's fourth NEXT skips an entry. */
extern const struct vault_store_ops store_broken_cursor;

#endif
