/*
 * server.h: what the files of ssovaultd's engine share (internal to
 * sso/daemon/): the daemon, its connections and jobs, and the calls that
 * cross from one file to another.
 *   server.c      the daemon's life, its log, sizes and secrets, the workers
 *   conn.c        connections: accept, read frames, serve, the key lock
 *   commit.c      the group commit of writes and audit records, and rounds
 *   activation.c  the listening socket: bound here or passed by systemd
 * docs/daemon.md describes the threads and the rules they keep.
 */
#ifndef SSOVAULT_DAEMON_SERVER_H
#define SSOVAULT_DAEMON_SERVER_H
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sodium.h>

#include "daemon.h"
#include "dlog.h"
#include "base/paths.h"
#include "base/secretfile.h"
#include "base/units.h"
#include "shares.h"
#include "ops/ops.h"
#include "ssovault/ssovault.h"
#include "proto/proto.h"
#include "proto/wire.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

#define HDR_LEN SSO_FRAME_HDR
#define IDLE_RETIRE_MS 10000		/* extra workers leave after this idle */
#define STICK_MS 4			/* a worker waits this long for its client's next request */
#define WORKER_STACK (1024 * 1024)
#define SMALL_BUF_KEEP SSO_DAEMON_FREE_BYTES	/* receive buffers above this are freed */
#define READ_FIRST 4096			/* a body's first read; each later one at most doubles it */
#define AHEAD_MAX 512			/* a frame's first read: its header and a small body */
#define DRAIN_MAX (256 * 1024)		/* unread input discarded before a close */
#define FD_SLACK 64			/* descriptors besides two per connection */
#define CONN_FLOOR 8			/* fewer connections than this: do not start */
#define REAPER_TICK_MAX_MS 1000
#define LOG_BURST 5			/* lines per uid and kind of event ... */
#define LOG_INTERVAL_MS 60000		/* ... in this interval; then a summary */
#define BACKOFF_FIRST_MS 1000		/* after a wrong secret; doubles each time */
#define BACKOFF_MAX_MS (5 * 60 * 1000)
#define BACKOFF_FORGET_MS (15 * 60 * 1000)
#define DEFAULT_ROOT_DIR "/run/ssovault"
#define SYNC_INTERVAL_MS 1000		/* read records reach the disk within this */

enum job_kind { JOB_WRITE, JOB_AUDIT, JOB_FOLD };

/* A request or audit record queued for a batch; lives on the waiter's stack. */
struct job {
	enum job_kind kind;
	const struct sso_caller *caller;
	const uint8_t *p;
	size_t len;
	int fd;
	struct svbuf *reply;		/* JOB_WRITE: the reply, replaced on a failed commit */
	int status;
	int done;
	int yielded;
	struct job *next;
};

enum expiry { EXP_NONE, EXP_IDLE, EXP_SLOW };

struct conn {
	int fd;
	struct sso_caller caller;
	uint8_t hdr[HDR_LEN];
	size_t hdr_got;
	size_t body_len;
	size_t body_got;		/* of the body, in `in` */
	struct svbuf *in;		/* secure: requests carry secrets */
	size_t charged;			/* bytes counted in the uid's share */
	int passed_fd;			/* SCM_RIGHTS descriptor of this frame, or -1 */
	uint8_t ahead[AHEAD_MAX];	/* read with the header, not yet taken */
	size_t ahead_off, ahead_len;
	int ahead_fd;			/* the descriptor came with the bytes in ahead */
	int stick_wait;			/* the next recv waits up to STICK_MS (its worker stays) */
	int rcvtimeo_set;		/* SO_RCVTIMEO is STICK_MS */
	int counted;			/* in the uid's share of connections */
	/* for the reaper: set by the worker that owns the connection */
	atomic_int busy;		/* a worker has it */
	atomic_ullong last_ms;		/* the last byte in or reply out */
	atomic_ullong frame_ms;		/* the first byte of the frame coming in, or 0 */
	atomic_int expired;		/* enum expiry: the reaper shut it down */
	struct conn *prev, *next;
};

struct sso_daemon {
	struct sso_service *svc;
	size_t frame_max;
	unsigned threads;
	void (*log)(void *, const char *);
	void *log_ctx;

	int lfd;			/* listening socket */
	int epfd;
	int stopfd;			/* eventfd, level-triggered in every worker's set */
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int bound;			/* we bound sock_path: remove it at the end */
	dev_t sock_dev;
	ino_t sock_ino;
	atomic_int stopping;
	atomic_uint serving;		/* requests being dispatched right now */

	pthread_rwlock_t keylock;

	/* the queue of jobs, the batch being committed, and the syncer thread */
	pthread_t writer;
	int writer_running;
	pthread_mutex_t wmu;
	pthread_cond_t wcv;		/* jobs queued, or stop */
	pthread_cond_t dcv;		/* a batch finished */
	struct job *qhead, *qtail;
	int wstop;
	int committing;			/* a thread is committing a batch */
	int unsynced;			/* read records committed without a disk sync */
	unsigned long nosync_batches;	/* batches committed without one, ever */
	struct timespec sync_at;	/* when they must be on disk */
	int fold_armed, fold_urgent;	/* the journal of reads holds records: fold them */
	struct timespec fold_at;	/* by then (urgent: now) */

	/* the worker pool */
	pthread_mutex_t pmu;
	pthread_cond_t pcv;		/* a worker left */
	unsigned live;
	atomic_uint idle;		/* workers in epoll_wait (read without pmu) */

	/* connections, for the count and for closing them at the end */
	pthread_mutex_t cmu;
	struct conn *conns;
	unsigned nconns;
	atomic_int emfile_logged;

	/* what each uid may hold, and the log */
	struct sso_shares *shares;
	struct sso_shares_limits lim;
	struct sso_dlog *dlog;
	uid_t self_uid;
	unsigned idle_ms;
	unsigned request_ms;
	pthread_t reaper;
	int reaper_running;
};


#define ROUND_MAX 16

struct round_job {
	struct job j;			/* j.next is the queue's: others link after ours */
	struct round_job *rnext;	/* the round's own list */
	unsigned slot;
	uint8_t rec[];
};

struct round {
	unsigned n;			/* requests dispatched in this round */
	int locked;			/* this thread holds keylock shared */
	struct conn *conn[ROUND_MAX];
	struct svbuf *reply[ROUND_MAX];
	int op[ROUND_MAX];
	int bad[ROUND_MAX];		/* conn_next failed: close after the reply */
	struct round_job *first, *last;
};


/* server.c */
uint64_t sso_daemon_now_ms(void);
void sso_daemon_log(struct sso_daemon *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sso_daemon_log_uid(struct sso_daemon *d, uid_t uid, const char *kind, const char *detail,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void sso_daemon_who(const struct sso_caller *c, char *out, size_t len);
int sso_daemon_worker_spawn(struct sso_daemon *d);

/* conn.c */
extern const struct sso_key_hooks sso_daemon_key_hooks;
extern const struct sso_fold_hooks sso_daemon_fold_hooks;
int sso_daemon_frame_send(int fd, const uint8_t *body, size_t len);
void sso_daemon_conn_free(struct conn *c);
void sso_daemon_conn_close(struct sso_daemon *d, struct conn *c);
int sso_daemon_conn_arm(struct sso_daemon *d, struct conn *c, int op);
void sso_daemon_accept_all(struct sso_daemon *d, int have_keylock);
int sso_daemon_conn_next(struct sso_daemon *d, struct conn *c);
unsigned sso_daemon_op_flags(int op);
void sso_daemon_frame_log(struct sso_daemon *d, const struct conn *c, int op,
    const struct svbuf *reply);
void sso_daemon_conn_serve(struct sso_daemon *d, struct conn *c, struct svbuf *reply,
    struct round *rd);

/* commit.c */
void *sso_daemon_writer_main(void *arg);
void sso_daemon_pool_before_wait(struct sso_daemon *d);
int sso_daemon_writer_submit(struct sso_daemon *d, struct job *j);
int sso_daemon_audit_sink(void *ctx, const uint8_t *rec, size_t len);
void sso_daemon_round_finish(struct sso_daemon *d, struct round *rd);
int sso_daemon_round_add(struct sso_daemon *d, struct round *rd, struct conn *c);

/* activation.c */
int sso_daemon_socket_setup(struct sso_daemon *d, const struct sso_daemon_opts *o,
    char *msg);

#endif
