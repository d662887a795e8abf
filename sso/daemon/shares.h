/*
 * shares: what one uid may hold of ssovaultd's resources (internal to sso/;
 * DESIGN 8 "no user can hurt another").
 *
 * - Connections: at most conn_max in all, conn_per_uid for one uid, and the
 *   last conn_reserved of them only for callers the daemon says are admins.
 * - Buffered request bytes (requests not yet whole, or being served): at
 *   most bytes_max in all and bytes_per_uid for one uid.  The daemon charges
 *   a request's buffer as it grows, before it allocates.
 * - Key derivations (Argon2id): one at a time per uid, at most kdf_memory
 *   bytes of them at once (one may always run alone, whatever it takes),
 *   and after a wrong secret a delay before the next that doubles with each
 *   failure, from backoff_first_ms up to backoff_max_ms.  A uid's failures
 *   are forgotten forget_ms after its last delay ended.
 *
 * One table of uids with one mutex; no call waits for anything but that
 * mutex.  Refusals return SV_ERR_UNREACHABLE (the daemon cannot serve this
 * now) with a message that says what was refused and when to try again.
 * Times are monotonic milliseconds from the caller, so tests can drive them.
 * The table holds at most SSO_SHARES_UIDS uids; a uid holds an entry while
 * it has connections, bytes, a derivation or failures not yet forgotten.
 */
#ifndef SSOVAULT_SHARES_H
#define SSOVAULT_SHARES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ssovault/sverr.h"

#define SSO_SHARES_UIDS 4096

struct sso_shares_limits {
	unsigned conn_max;
	unsigned conn_per_uid;
	unsigned conn_reserved;
	size_t bytes_max;
	size_t bytes_per_uid;
	size_t kdf_memory;
	uint64_t backoff_first_ms;
	uint64_t backoff_max_ms;
	uint64_t forget_ms;
};

struct sso_shares;

int sso_shares_new(const struct sso_shares_limits *lim, struct sso_shares **ret) SV_WUR;
void sso_shares_free(struct sso_shares *s);

/*
 * A new connection of uid.  0: counted (sso_shares_conn_close() later).
 * SSO_SHARES_ASK_ADMIN: only the reserve is left; call again with admin set
 * if the caller is an admin.  SV_ERR_UNREACHABLE (msg) if refused.
 */
#define SSO_SHARES_ASK_ADMIN 1
int sso_shares_conn_open(struct sso_shares *s, uid_t uid, int admin, char *msg) SV_WUR;
void sso_shares_conn_close(struct sso_shares *s, uid_t uid);

/*
 * More bytes buffered for uid.  SV_ERR_UNREACHABLE (msg) if that would pass
 * uid's share or the total; *ret_first is then 1 if this is the first
 * refusal since the total was last under half of bytes_max (log it once).
 */
int sso_shares_bytes_add(struct sso_shares *s, uid_t uid, size_t n, int *ret_first,
    char *msg) SV_WUR;
void sso_shares_bytes_sub(struct sso_shares *s, uid_t uid, size_t n);

/*
 * A key derivation of memory bytes for uid may start: 0 (then
 * sso_shares_kdf_end() when it is over, and sso_shares_kdf_done() with the
 * outcome of the request), or SV_ERR_UNREACHABLE (msg: "try again in N s").
 */
int sso_shares_kdf_begin(struct sso_shares *s, uid_t uid, size_t memory, uint64_t now_ms,
    char *msg) SV_WUR;
/* The derivation's memory is free again. */
void sso_shares_kdf_end(struct sso_shares *s, size_t memory);
/* The request is answered: failed (a wrong secret, or refused) or not. */
void sso_shares_kdf_done(struct sso_shares *s, uid_t uid, int failed, uint64_t now_ms);

/* Totals, for the log and for tests. */
struct sso_shares_usage {
	unsigned conns;
	size_t bytes;
	size_t kdf_memory;
	unsigned kdf_running;
	unsigned uids;			/* entries in the table */
};
void sso_shares_usage(struct sso_shares *s, struct sso_shares_usage *ret);
/* One uid's connections and bytes (0 and 0 if it holds nothing). */
void sso_shares_uid(struct sso_shares *s, uid_t uid, unsigned *ret_conns, size_t *ret_bytes);

#endif
