/*
 * names.h: the name service through a per-thread cache (internal to
 * sso/core/).  Each answer, found or not, is kept at most SSO_NAMES_TTL_MS,
 * counted from when NSS was asked: a rename, a removal or a new name is
 * seen within that bound (DESIGN 4 allows 2 seconds, DESIGN 10 the same for
 * every cache).
 */
#ifndef SSOVAULT_CORE_NAMES_H
#define SSOVAULT_CORE_NAMES_H

#include <stddef.h>
#include <sys/types.h>

#define SSO_NAMES_TTL_MS 1000

/* 1 and *ret_uid if user name exists, else 0 (*ret_uid untouched). */
int sso_names_user(const char *name, uid_t *ret_uid);
/* 1 and *ret_gid if group name exists, else 0. */
int sso_names_group(const char *name, gid_t *ret_gid);
/* 1 and the user name of uid in out (len bytes) if it has one that fits, else 0. */
int sso_names_of_uid(uid_t uid, char *out, size_t len);
/* Drop every thread's answers (tests; nothing needs it for the bound). */
void sso_names_forget(void);
/* How many times NSS was asked so far, by every thread (tests, benchmarks). */
unsigned long long sso_names_asked(void);

#endif
