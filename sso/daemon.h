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
 * options (one line, no newline, never a secret or request payload).
 */
#ifndef SSOVAULT_DAEMON_H
#define SSOVAULT_DAEMON_H

#include <stddef.h>

#include "sverr.h"

#define SSO_DAEMON_THREADS_MAX 128	/* workers, including extra ones */
#define SSO_DAEMON_CONN_MAX 1024	/* open client connections */
#define SSO_DAEMON_BATCH_MAX 256	/* requests per group commit */
#define SSO_DAEMON_SEND_TIMEOUT 10	/* seconds a client may take to read a reply */

struct sso_daemon_opts {
	const char *vault_dir;		/* NULL: $SSOVAULT_DIR, else $XDG_DATA_HOME/ssovault */
	const char *socket_path;	/* NULL: the default (DESIGN section 8) */
	const char *key_file;		/* unlock at start: 32 raw bytes or 64 hex digits */
	const char *passphrase_file;	/* unlock at start: one trailing newline dropped */
	size_t frame_max;		/* 0: SSO_FRAME_MAX_DEFAULT */
	unsigned threads;		/* 0: 2 x online CPUs, at least 4 */
	void (*log)(void *ctx, const char *line);	/* NULL: no log */
	void *log_ctx;
};

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

/* The socket path in use ("" if systemd passed an unnamed socket). */
const char *sso_daemon_socket(const struct sso_daemon *d);

/*
 * "64M" -> 67108864: a frame cap with an optional K or M suffix, between
 * 4 KiB and 1 GiB.  SV_ERR_INVALID otherwise.
 */
int sso_daemon_parse_size(const char *s, size_t *ret) SV_WUR;

#endif
