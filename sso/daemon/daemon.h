/*
 * daemon.h: the inside of ssovaultd (internal to sso/; the executable's
 * main() in ssovaultd.c is a thin shell around it).
 *
 * A daemon owns one vault and one service (sso_dispatch), a listening Unix
 * socket (bound here, or handed over by systemd socket activation), a pool
 * of worker threads that read frames, dispatch them and write the replies,
 * and a group commit: every write request and the audit records of reads
 * run in shared write transactions (one fsync for many requests), each
 * committed by one of the workers waiting for it, and a syncer thread that
 * flushes read records within a second.  docs/daemon.md describes the
 * threads and the durability rule: no change is acknowledged before it is
 * on disk.
 *
 * The library never prints: every log line goes to the log function of the
 * options (one line, no newline, never a secret or request payload), escaped
 * and rate-limited per uid (dlog.h).
 *
 * No caller can hurt another (DESIGN 8): each uid has a share of the
 * connections (a few are kept for root and vault admins), of the bytes of
 * requests in flight, and of key derivations (shares.h); buffers grow as
 * bytes arrive; idle connections and requests that do not arrive whole in
 * time are closed; unlock and secret restore run Argon2id without holding
 * the key lock.
 */
#ifndef SSOVAULT_DAEMON_H
#define SSOVAULT_DAEMON_H

#include <stddef.h>

#include "ssovault/sverr.h"

#define SSO_DAEMON_THREADS_MAX 128	/* workers, including extra ones */
#define SSO_DAEMON_BATCH_MAX 256	/* requests per group commit */
#define SSO_DAEMON_SEND_TIMEOUT 10	/* seconds a client may take to read a reply */

/* Defaults of the shares (docs/daemon.md "Limits"); they fit the unit's MemoryMax=. */
#define SSO_DAEMON_CONN_MAX 1024	/* open client connections */
#define SSO_DAEMON_CONN_PER_UID 128	/* of them for one uid */
#define SSO_DAEMON_CONN_RESERVED 16	/* of them for root and vault admins only */
#define SSO_DAEMON_BUFFERED_MAX (256u << 20)	/* bytes of requests in flight */
#define SSO_DAEMON_KDF_MEMORY (512u << 20)	/* Argon2id memory at once */
#define SSO_DAEMON_IDLE_TIMEOUT_MS (5u * 60 * 1000)	/* an idle connection is closed */
#define SSO_DAEMON_REQUEST_TIMEOUT_MS (30u * 1000)	/* a request must be in by then */
#define SSO_DAEMON_FREE_BYTES 16384	/* of a request, counted in no budget */

/*
 * Where a daemon on a vault at a URI keeps its journal of reads
 * (docs/hosts.md): this host's own, made mode 0700 if missing.
 */
#define SSO_DAEMON_JOURNAL_DIR "/var/lib/ssovault/journal"

struct sso_daemon_opts {
	const char *vault_dir;		/* NULL: $SSOVAULT_DIR, else $XDG_DATA_HOME/ssovault */
	const char *socket_path;	/* NULL: the default (DESIGN section 8) */
	const char *key_file;		/* unlock at start: 32 raw bytes or 64 hex digits */
	const char *passphrase_file;	/* unlock at start: one trailing newline dropped */
	const char *journal_dir;	/* a URI vault's journal of reads; NULL: SSO_DAEMON_JOURNAL_DIR */
	size_t frame_max;		/* 0: SSO_FRAME_MAX_DEFAULT */
	unsigned threads;		/* 0: 2 x online CPUs, at least 4 */
	unsigned conn_max;		/* 0: SSO_DAEMON_CONN_MAX */
	unsigned conn_per_uid;		/* 0: SSO_DAEMON_CONN_PER_UID */
	unsigned conn_reserved;		/* as set by sso_daemon_opts_init(); 0 is none */
	size_t buffered_max;		/* 0: SSO_DAEMON_BUFFERED_MAX, or frame_max if larger */
	size_t buffered_per_uid;	/* 0: a quarter of buffered_max, at least frame_max */
	size_t kdf_memory;		/* 0: SSO_DAEMON_KDF_MEMORY */
	unsigned idle_timeout_ms;	/* 0: SSO_DAEMON_IDLE_TIMEOUT_MS */
	unsigned request_timeout_ms;	/* 0: SSO_DAEMON_REQUEST_TIMEOUT_MS */
	void (*log)(void *ctx, const char *line);	/* NULL: no log */
	void *log_ctx;
};

/* Every option at its default. */
void sso_daemon_opts_init(struct sso_daemon_opts *o);

struct sso_daemon;

/*
 * Open the vault, take the socket (systemd's fd 3 when LISTEN_PID and
 * LISTEN_FDS say so, else bind the path: SV_ERR_EXISTS if another daemon
 * answers there, a stale socket file is removed), start the writer and
 * unlock the vault if a key or passphrase file is given (through the UNLOCK
 * request, audited as the daemon itself).  On failure msg (SV_MSG_MAX) says
 * what failed and what to do, and nothing is left behind.
 */
int sso_daemon_new(const struct sso_daemon_opts *o, struct sso_daemon **ret,
    char *msg) SV_WUR;

/*
 * Serve until sso_daemon_stop(): start the workers, and when stopped, stop
 * accepting, let every request in flight finish (a writer batch included),
 * and lock the vault.  Returns 0, or an error if no worker could start.
 */
int sso_daemon_run(struct sso_daemon *d, char *msg) SV_WUR;

/* Ask run() to finish; async-signal-safe, callable from any thread. */
void sso_daemon_stop(struct sso_daemon *d);

/* Lock the vault, close everything, remove the socket file it bound.  Takes NULL. */
void sso_daemon_free(struct sso_daemon *d);


/*
 * "64M" -> 67108864: a frame cap with an optional K or M suffix, between
 * 4 KiB and 1 GiB.  SV_ERR_INVALID otherwise.
 */
int sso_daemon_parse_size(const char *s, size_t *ret) SV_WUR;
/* The same for the budgets: 1 MiB to 64 GiB. */
int sso_daemon_parse_budget(const char *s, size_t *ret) SV_WUR;
/* "30s", "5m", "1h" or plain seconds -> milliseconds, 1 s to 24 h. */
int sso_daemon_parse_duration(const char *s, unsigned *ret_ms) SV_WUR;

#endif
