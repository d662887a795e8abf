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
#include <stdint.h>
#include <sys/types.h>

#define SSO_NAMES_TTL_MS 1000

/* 1 and *ret_uid if user name exists, else 0 (*ret_uid untouched). */
int sso_names_user(const char *name, uid_t *ret_uid);
/* 1 and *ret_gid if group name exists, else 0. */
int sso_names_group(const char *name, gid_t *ret_gid);
/* 1 and the user name of uid in out (len bytes) if it has one that fits, else 0. */
int sso_names_of_uid(uid_t uid, char *out, size_t len);
/*
 * What a cached result may rest on: sso_names_horizon_start() begins
 * counting on this thread; sso_names_horizon() is then the earliest time
 * (CLOCK_MONOTONIC_COARSE, ms) at which an answer handed out since would
 * have been asked again (0: one was not cached; UINT64_MAX: none was
 * handed out).  A result kept no longer than that is no staler than the
 * names it was computed from.  sso_names_now_ms() is that clock;
 * sso_names_generation() changes with sso_names_forget().
 */
void sso_names_horizon_start(void);
/* NSS was asked without this cache: nothing may rest on the answer. */
void sso_names_direct(void);
uint64_t sso_names_horizon(void);
uint64_t sso_names_now_ms(void);
unsigned sso_names_generation(void);
/* Drop every thread's answers (tests; nothing needs it for the bound). */
void sso_names_forget(void);
/* How many times NSS was asked so far, by every thread (tests, benchmarks). */
unsigned long long sso_names_asked(void);

#endif
