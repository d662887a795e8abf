/*
 * ssovaultd's engine: the listening socket, the worker pool that turns
 * frames into sso_dispatch() calls, and the group commit of every write and
 * every audit record of a read (docs/daemon.md).
 *
 * Threads.  Workers share one epoll set holding the listening socket, a
 * stop eventfd and every client connection (EPOLLONESHOT: one worker owns a
 * connection while it reads or serves it).  A worker accepts, reads whatever
 * bytes a connection has (non-blocking, so a slow client never pins it),
 * and once a whole frame is in, dispatches it and writes the reply.  Reads
 * run on the worker in their own LMDB read transaction.  Write requests and
 * the audit records of reads are queued as jobs; the first waiting worker
 * that finds no batch being committed takes up to SSO_DAEMON_BATCH_MAX
 * queued jobs, runs them in one write transaction (each write in a child
 * transaction) and commits once, for every worker that queued meanwhile
 * (group commit without a hand-off to another thread).  A batch with a
 * change commits with a disk sync; the read waits for its record's commit
 * too (fail closed), but a batch of read records only is committed without
 * a disk sync, and the syncer thread flushes it within a second
 * (docs/audit.md: a crash of the process loses no record, a power loss may
 * lose the last read records, never a change).
 * A worker that gets several ready connections from one epoll_wait serves
 * them as a round: it dispatches their reads one after the other, queues
 * all their audit records at once, waits for one commit and only then
 * sends the replies (a write or key change in the round first answers the
 * reads before it).  One wait per round instead of one per request.
 * A worker about to wait for a commit starts an extra worker if none is
 * idle, so waiting on the disk never starves the pool; extra workers leave
 * after a while without work.
 *
 * Keys.  Operations that replace or wipe the vault's keys or data (unlock,
 * lock, rotate, restore, secret restore) take the key lock exclusively;
 * every other request holds it shared until its reply is composed, so a
 * lock never wipes keys under a running request.  The lock prefers writers;
 * a batch runs under the shared hold of the worker that commits it, and the
 * jobs in it come from workers that hold it too.  Unlock and secret restore
 * start shared, let go of the lock while Argon2id runs (key hooks, after the
 * caller's share of key derivations allowed it) and take it exclusively only
 * to install the keys: a wrong passphrase costs others nothing.
 *
 * Shares.  A connection is counted against its uid's share when accepted;
 * a request's buffer grows as its bytes arrive, each growth charged to the
 * uid's and the daemon's budget first; a reaper thread closes connections
 * idle too long and requests that do not arrive whole in time (it shuts
 * their receiving side down: the worker that owns the connection sees the
 * end, answers and closes), and writes the log's summaries.
 */
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
#include "shares.h"
#include "ops/ops.h"
#include "ssovault/ssovault.h"
#include "proto/proto.h"
#include "proto/wire.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

#define HDR_LEN 5			/* u32 length | u8 version */
#define IDLE_RETIRE_MS 10000		/* extra workers leave after this idle */
#define WORKER_STACK (1024 * 1024)
#define SECRET_FILE_MAX 65536
#define SMALL_BUF_KEEP SSO_DAEMON_FREE_BYTES	/* receive buffers above this are freed */
#define READ_FIRST 4096			/* a body's first read; each later one at most doubles it */
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

enum job_kind { JOB_WRITE, JOB_AUDIT };

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

	/* the worker pool */
	pthread_mutex_t pmu;
	pthread_cond_t pcv;		/* a worker left */
	unsigned live;
	unsigned idle;

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

/* --- logging ------------------------------------------------------------- */

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void dlog(struct sso_daemon *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void dlog_uid(struct sso_daemon *d, uid_t uid, const char *kind, const char *detail,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A line of the daemon's own: escaped (dlog.c), never held back. */
static void
dlog(struct sso_daemon *d, const char *fmt, ...)
{
	char line[SSO_DLOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (d->dlog != NULL)
		sso_dlog_line(d->dlog, "%s", line);
}

/* The service's own lines (the vault crossing its fill warning), as ours. */
static void
service_log(void *ctx, const char *line)
{
	dlog(ctx, "%s", line);
}

/* A line about what a caller did: escaped, and rate-limited per uid and kind. */
static void
dlog_uid(struct sso_daemon *d, uid_t uid, const char *kind, const char *detail,
    const char *fmt, ...)
{
	char line[SSO_DLOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (d->dlog != NULL)
		sso_dlog_event(d->dlog, uid, mono_ms(), kind, detail, "%s", line);
}

static void
who(const struct sso_caller *c, char *out, size_t len)
{
	snprintf(out, len, "uid %lu (pid %ld%s%.200s)", (unsigned long)c->uid,
	    (long)c->pid, c->exe[0] != '\0' ? ", " : "", c->exe);
}

/* --- sizes and secrets --------------------------------------------------- */

static int
parse_size(const char *s, unsigned long long min, unsigned long long max, size_t *ret)
{
	unsigned long long v = 0, mult = 1;
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 12)
		return SV_ERR_INVALID;
	switch (s[n - 1]) {
	case 'k': case 'K': mult = 1024; n--; break;
	case 'm': case 'M': mult = 1024 * 1024; n--; break;
	case 'g': case 'G': mult = 1024 * 1024 * 1024; n--; break;
	default: break;
	}
	if (n == 0)
		return SV_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SV_ERR_INVALID;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	v *= mult;
	if (v < min || v > max || v > SIZE_MAX)
		return SV_ERR_INVALID;
	*ret = (size_t)v;
	return 0;
}

int
sso_daemon_parse_size(const char *s, size_t *ret)
{
	return parse_size(s, 4096, 1ULL << 30, ret);
}

int
sso_daemon_parse_budget(const char *s, size_t *ret)
{
	return parse_size(s, 1ULL << 20, 1ULL << 36, ret);
}

int
sso_daemon_parse_duration(const char *s, unsigned *ret_ms)
{
	unsigned long long v = 0, mult = 1000;
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 8)
		return SV_ERR_INVALID;
	switch (s[n - 1]) {
	case 's': mult = 1000; n--; break;
	case 'm': mult = 60 * 1000; n--; break;
	case 'h': mult = 60 * 60 * 1000; n--; break;
	default: break;
	}
	if (n == 0)
		return SV_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SV_ERR_INVALID;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	v *= mult;
	if (v < 1000 || v > 24ULL * 60 * 60 * 1000)
		return SV_ERR_INVALID;
	*ret_ms = (unsigned)v;
	return 0;
}

/*
 * Read a secret file into sodium memory: a key file (32 raw bytes, or 64 hex
 * digits and an optional newline) or a passphrase (one trailing newline
 * dropped), refused unless it is a regular file of ours or root's that
 * nobody else may read or write (paths.h).  *ret is sodium_malloc'd.
 */
static int
secret_read(struct sso_daemon *d, const char *path, int is_key, uint8_t **ret,
    size_t *ret_len, char *msg)
{
	uint8_t *buf = NULL, *key = NULL;
	size_t len = 0, bin = 0;
	struct stat st;
	ssize_t n;
	int fd, r;

	(void)d;
	if ((r = vault_path_secret_open(path, is_key ? "key file" : "passphrase file", msg,
	    &fd)) != 0)
		return r;
	if (fstat(fd, &st) != 0 || st.st_size > SECRET_FILE_MAX) {
		r = sv_fail(msg, SV_ERR_INVALID, "%s is larger than %d bytes", path,
		    SECRET_FILE_MAX);
		goto out;
	}
	if ((buf = sodium_malloc(SECRET_FILE_MAX + 1)) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	while (len <= SECRET_FILE_MAX) {
		n = read(fd, buf + len, SECRET_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = sv_fail(msg, SV_ERR_IO, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > SECRET_FILE_MAX) {
		r = sv_fail(msg, SV_ERR_TOO_LARGE, "%s is larger than %d bytes", path,
		    SECRET_FILE_MAX);
		goto out;
	}
	if (is_key) {
		if ((key = sodium_malloc(VAULT_KEY_BYTES)) == NULL) {
			r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (len == VAULT_KEY_BYTES) {
			memcpy(key, buf, VAULT_KEY_BYTES);
		} else if (!((len == 64 || (len == 65 && buf[64] == '\n')) &&
		    sodium_hex2bin(key, VAULT_KEY_BYTES, (const char *)buf, 64, NULL,
		    &bin, NULL) == 0 && bin == VAULT_KEY_BYTES)) {
			r = sv_fail(msg, SV_ERR_INVALID,
			    "key file %s must hold 32 bytes (or 64 hexadecimal digits)", path);
			goto out;
		}
		*ret = key;
		*ret_len = VAULT_KEY_BYTES;
		key = NULL;
	} else {
		if (len > 0 && buf[len - 1] == '\n')
			len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
		if (len == 0) {
			r = sv_fail(msg, SV_ERR_INVALID, "passphrase file %s is empty", path);
			goto out;
		}
		*ret = buf;
		*ret_len = len;
		buf = NULL;
	}
	r = 0;
out:
	if (buf != NULL)
		sodium_free(buf);
	if (key != NULL)
		sodium_free(key);
	close(fd);
	return r;
}

/* --- replies ------------------------------------------------------------- */

/* Write one frame; a client that does not read within the send timeout is dropped. */
static int
frame_send(int fd, const uint8_t *body, size_t len)
{
	return sso_wire_send(fd, body, len, -1);
}

/* An error frame for a request that never reached the dispatch. */
static void
send_error(int fd, int status, const char *message)
{
	struct svbuf *b = svbuf_new(1024);

	if (b == NULL)
		return;
	if (sso_proto_reply(b, status, message, NULL) == 0)
		(void)frame_send(fd, svbuf_ptr(b), svbuf_len(b));
	svbuf_free(b);
}

/* --- the writer: group commit --------------------------------------------- */

static void
batch_fail(struct job *batch, int status, const char *why)
{
	char m[SV_MSG_MAX];
	struct job *j;

	snprintf(m, sizeof(m), "the vault could not commit (%.180s): nothing was changed; try again",
	    why[0] != '\0' ? why : sv_strerror(status));
	for (j = batch; j != NULL; j = j->next) {
		j->status = status;
		if (j->kind == JOB_WRITE && sso_proto_reply(j->reply, status, m, NULL) != 0)
			svbuf_reset(j->reply);
	}
}

/*
 * One write transaction for the whole batch and one commit.  A batch with a
 * change commits durably (one fsync, which also flushes earlier read
 * records); a batch of read records only reaches the operating system (it
 * survives kill -9) and the disk at the next durable commit or periodic sync
 * (docs/audit.md).  Returns 1 if it left data unsynced, 0 after a durable
 * commit, -1 if the batch failed.
 */
static int
batch_run(struct sso_daemon *d, struct job *batch)
{
	struct vault *v = sso_service_vault(d->svc);
	struct vault_txn *t = NULL, *child;
	const uint8_t *recs[SSO_DAEMON_BATCH_MAX];
	size_t lens[SSO_DAEMON_BATCH_MAX], n;
	char why[SV_MSG_MAX];
	struct job *j;
	int r = 0, writes = 0, grouped;

	if ((r = vault_txn_begin(v, 1, &t)) != 0) {
		snprintf(why, sizeof(why), "%s", vault_errmsg(v));
		batch_fail(batch, r, why);
		return -1;
	}
	/* the read records first, all in one child: one trip to the chain's end */
	for (j = batch, n = 0; j != NULL; j = j->next) {
		if (j->kind == JOB_AUDIT) {
			recs[n] = j->p;
			lens[n++] = j->len;
		}
	}
	child = NULL;
	if (n > 0 && (r = vault_txn_begin_nested(t, &child)) == 0 &&
	    (r = sso_audit_append_many(child, recs, lens, n)) == 0) {
		r = vault_txn_commit(child);
		child = NULL;
	}
	vault_txn_abort(child);
	grouped = n > 0 && r == 0;
	for (j = batch; j != NULL; j = j->next) {
		if (j->kind == JOB_WRITE) {
			writes = 1;
			j->status = sso_dispatch_in(d->svc, t, j->caller, j->p, j->len,
			    j->fd, j->reply);
			continue;
		}
		if (grouped) {
			j->status = 0;
			continue;
		}
		/* the group failed: a child per record, so one that fails fails alone */
		child = NULL;
		if ((r = vault_txn_begin_nested(t, &child)) == 0 &&
		    (r = sso_audit_append(child, j->p, j->len)) == 0) {
			r = vault_txn_commit(child);
			child = NULL;
		}
		vault_txn_abort(child);
		j->status = r;
	}
	r = writes ? vault_txn_commit(t) : vault_txn_commit_nosync(t);
	if (r != 0) {
		snprintf(why, sizeof(why), "%s", vault_errmsg(v));
		batch_fail(batch, r, why);
		return -1;
	}
	return writes ? 0 : 1;
}

/*
 * Flush read records to disk; called without wmu.  It holds the key lock
 * shared, like a request: a restore or lock replaces the store under the
 * exclusive hold and must not have it synced meanwhile.
 */
static int
writer_sync(struct sso_daemon *d)
{
	struct vault *v = sso_service_vault(d->svc);
	int r;

	pthread_rwlock_rdlock(&d->keylock);
	if ((r = vault_sync(v)) != 0)
		dlog(d, "cannot flush read audit records to disk: %s; will retry",
		    vault_errmsg(v));
	pthread_rwlock_unlock(&d->keylock);
	return r == 0;
}

static void
deadline_after(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int
deadline_passed(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > ts->tv_sec ||
	    (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/*
 * Called with wmu held; drops it around the sync.  A batch committed while
 * the sync ran may have missed it: then the data stays marked unsynced.
 */
static void
writer_sync_locked(struct sso_daemon *d)
{
	unsigned long seen = d->nosync_batches;
	int ok;

	pthread_mutex_unlock(&d->wmu);
	ok = writer_sync(d);
	pthread_mutex_lock(&d->wmu);
	if (!ok)
		deadline_after(&d->sync_at, SYNC_INTERVAL_MS);
	else if (d->nosync_batches == seen)
		d->unsynced = 0;
}

/*
 * The syncer: the background thread that flushes read records (committed
 * without a disk sync) to disk within SYNC_INTERVAL_MS, and once more at
 * the end.  Batches themselves are committed by the threads that wait for
 * them (writer_submit).
 */
static void *
writer_main(void *arg)
{
	struct sso_daemon *d = arg;

	pthread_mutex_lock(&d->wmu);
	for (;;) {
		while (!d->wstop && !d->unsynced)
			pthread_cond_wait(&d->wcv, &d->wmu);
		if (d->wstop)
			break;
		if (deadline_passed(&d->sync_at))
			writer_sync_locked(d);
		else
			(void)pthread_cond_timedwait(&d->wcv, &d->wmu, &d->sync_at);
	}
	/* every request in flight has its reply by now */
	while (d->committing)
		pthread_cond_wait(&d->dcv, &d->wmu);
	if (d->unsynced)
		writer_sync_locked(d);
	pthread_mutex_unlock(&d->wmu);
	return NULL;
}

static int worker_spawn(struct sso_daemon *d);

/*
 * The caller is about to wait for the disk: if no worker is idle, add one
 * so that other clients are still served meanwhile.
 */
static void
pool_before_wait(struct sso_daemon *d)
{
	pthread_mutex_lock(&d->pmu);
	if (!atomic_load(&d->stopping) && d->idle == 0 && d->live < SSO_DAEMON_THREADS_MAX &&
	    worker_spawn(d) == 0)
		d->live++;
	pthread_mutex_unlock(&d->pmu);
}

/* Set in a thread while it commits a batch (it must not queue a job itself). */
static __thread int in_batch;

/*
 * Commit the jobs at the head of the queue as one batch; called with wmu
 * held by a waiting thread when no batch is being committed.
 */
static void
batch_lead(struct sso_daemon *d)
{
	struct job *batch, *last, *j;
	size_t n;
	int left;

	d->committing = 1;
	batch = last = d->qhead;
	for (n = 1; n < SSO_DAEMON_BATCH_MAX && last->next != NULL; n++)
		last = last->next;
	d->qhead = last->next;
	if (d->qhead == NULL)
		d->qtail = NULL;
	last->next = NULL;
	pthread_mutex_unlock(&d->wmu);
	in_batch = 1;
	left = batch_run(d, batch);
	in_batch = 0;
	pthread_mutex_lock(&d->wmu);
	for (j = batch; j != NULL; j = j->next)
		j->done = 1;
	d->committing = 0;
	if (left == 1) {
		d->nosync_batches++;
		if (!d->unsynced) {
			d->unsynced = 1;
			deadline_after(&d->sync_at, SYNC_INTERVAL_MS);
			pthread_cond_signal(&d->wcv);
		}
	} else if (left == 0) {
		/* a durable commit flushed every earlier commit too */
		d->unsynced = 0;
	}
	pthread_cond_broadcast(&d->dcv);
}

/*
 * Queue a job and return once the batch holding it is committed.  Group
 * commit without a hand-off: the first waiter that finds no batch being
 * committed commits the whole queue (its own job and those of every thread
 * that queued meanwhile), the others wait for it; a thread that finds a
 * commit running waits, and leads the next batch if its job missed this one.
 */
static void
writer_submit_many(struct sso_daemon *d, struct job *first, struct job *last)
{
	struct job *j = first;

	pool_before_wait(d);
	pthread_mutex_lock(&d->wmu);
	if (d->qtail != NULL)
		d->qtail->next = first;
	else
		d->qhead = first;
	d->qtail = last;
	/* batches are taken from the head in order: the last one done is all done */
	while (!last->done) {
		if (d->committing) {
			pthread_cond_wait(&d->dcv, &d->wmu);
			continue;
		}
		/*
		 * Other requests are being served and about to queue theirs:
		 * give them the CPU once, so that one commit carries them too.
		 */
		if (!j->yielded && d->qhead == j && j == last &&
		    atomic_load(&d->serving) > 1) {
			j->yielded = 1;
			pthread_mutex_unlock(&d->wmu);
			sched_yield();
			pthread_mutex_lock(&d->wmu);
			continue;
		}
		batch_lead(d);
	}
	pthread_mutex_unlock(&d->wmu);
}

static int
writer_submit(struct sso_daemon *d, struct job *j)
{
	j->done = 0;
	j->next = NULL;
	writer_submit_many(d, j, j);
	return j->status;
}

/*
 * A round: the plain reads a worker took from one epoll_wait, dispatched one
 * after the other under one shared hold of the key lock.  Their audit
 * records are queued together and their replies are held back until the
 * batch holding the records is committed (fail closed), then sent.  One
 * wait for the commit per round instead of one per request.
 */
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

/* Set in a worker while it dispatches a read of a round. */
static __thread struct round *cur_round;

/* The service's audit sink for reads: the record joins the next batch. */
static int
audit_sink(void *ctx, const uint8_t *rec, size_t len)
{
	struct sso_daemon *d = ctx;
	struct job j;

	/* a batch holds writes and records only: a read inside one would wait on itself */
	if (in_batch)
		return SV_ERR_INTERNAL;
	if (cur_round != NULL) {
		struct round *rd = cur_round;
		struct round_job *rj = malloc(sizeof(*rj) + len);

		if (rj == NULL)
			return SV_ERR_NOMEM;
		memset(rj, 0, sizeof(*rj));
		memcpy(rj->rec, rec, len);
		rj->j.kind = JOB_AUDIT;
		rj->j.p = rj->rec;
		rj->j.len = len;
		rj->j.fd = -1;
		rj->slot = rd->n;
		if (rd->last != NULL) {
			rd->last->j.next = &rj->j;
			rd->last->rnext = rj;
		} else
			rd->first = rj;
		rd->last = rj;
		return 0;
	}
	memset(&j, 0, sizeof(j));
	j.kind = JOB_AUDIT;
	j.p = rec;
	j.len = len;
	j.fd = -1;
	return writer_submit(d, &j);
}

/* --- connections ---------------------------------------------------------- */

/* The caller as the kernel saw it at connect time. */
static int
peer_caller(int fd, struct sso_caller *ret)
{
	struct sso_caller c;
	struct ucred uc;
	gid_t small[64], *g = small;
	socklen_t len = sizeof(uc);
	char path[64];
	size_t count;
	ssize_t n;

	memset(&c, 0, sizeof(c));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 || len != sizeof(uc))
		return SV_ERR_IO;
	c.uid = uc.uid;
	c.gid = uc.gid;
	c.pid = uc.pid;
	len = sizeof(small);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, small, &len) != 0) {
		if (errno == ENOPROTOOPT) {
			len = 0;
		} else if (errno == ERANGE && len > sizeof(small)) {
			/* the kernel said how much it needs */
			if ((g = malloc(len)) == NULL)
				return SV_ERR_NOMEM;
			if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) != 0) {
				free(g);
				return SV_ERR_IO;
			}
		} else {
			return SV_ERR_IO;
		}
	}
	count = len / sizeof(gid_t);
	if (count > SSO_MAX_GROUPS)
		count = SSO_MAX_GROUPS;
	memcpy(c.groups, g, count * sizeof(gid_t));
	c.ngroups = count;
	if (g != small)
		free(g);
	/* best effort: a process in another pid namespace shows pid 0 */
	snprintf(path, sizeof(path), "/proc/%ld/exe", (long)c.pid);
	n = c.pid > 0 ? readlink(path, c.exe, sizeof(c.exe) - 1) : -1;
	c.exe[n > 0 ? n : 0] = '\0';
	*ret = c;
	return 0;
}

static void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	svbuf_free(c->in);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* Give back what the connection's request holds of its uid's bytes. */
static void
conn_uncharge(struct sso_daemon *d, struct conn *c)
{
	if (c->charged > 0)
		sso_shares_bytes_sub(d->shares, c->caller.uid, c->charged);
	c->charged = 0;
}

static void
conn_close(struct sso_daemon *d, struct conn *c)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	pthread_mutex_lock(&d->cmu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	d->nconns--;
	pthread_mutex_unlock(&d->cmu);
	conn_uncharge(d, c);
	if (c->counted)
		sso_shares_conn_close(d->shares, c->caller.uid);
	conn_free(c);
}

static int
conn_arm(struct sso_daemon *d, struct conn *c, int op)
{
	struct epoll_event ev;

	/* from here on another worker, or the reaper, may take it */
	atomic_store(&c->busy, 0);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
	ev.data.ptr = c;
	return epoll_ctl(d->epfd, op, c->fd, &ev);
}

/*
 * Root, the daemon's own uid and the vault admins of an unlocked vault may
 * use the reserve of connections.  The roles record is read only when the
 * reserve is all that is left; have_keylock: this thread holds the key lock
 * shared already (in a round), and must not take it twice.
 */
static int
caller_is_admin(struct sso_daemon *d, const struct sso_caller *c, int have_keylock)
{
	int r;

	if (c->uid == 0 || c->uid == d->self_uid)
		return 1;
	if (!have_keylock)
		pthread_rwlock_rdlock(&d->keylock);
	r = sso_service_is_vault_admin(d->svc, c);
	if (!have_keylock)
		pthread_rwlock_unlock(&d->keylock);
	return r;
}

static void
conn_open(struct sso_daemon *d, int fd, int have_keylock)
{
	struct timeval tv = { SSO_DAEMON_SEND_TIMEOUT, 0 };
	struct conn *c = NULL;
	char m[SV_MSG_MAX], w[300];
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->passed_fd = -1;
	if (peer_caller(fd, &c->caller) != 0) {
		dlog_uid(d, (uid_t)-1, "no peer credentials", NULL,
		    "dropped a connection: cannot read its peer credentials (%s)", strerror(errno));
		conn_free(c);
		return;
	}
	m[0] = '\0';
	r = sso_shares_conn_open(d->shares, c->caller.uid, 0, m);
	if (r == SSO_SHARES_ASK_ADMIN)
		r = sso_shares_conn_open(d->shares, c->caller.uid,
		    caller_is_admin(d, &c->caller, have_keylock) ? 1 : -1, m);
	if (r != 0) {
		who(&c->caller, w, sizeof(w));
		dlog_uid(d, c->caller.uid, "connection refused", m,
		    "refused a connection from %s: %s", w, m);
		/* an empty socket takes a short reply without blocking */
		send_error(fd, SV_ERR_UNREACHABLE, m);
		conn_free(c);
		return;
	}
	c->counted = 1;
	if ((c->in = svbuf_new_secure(d->frame_max)) == NULL) {
		sso_shares_conn_close(d->shares, c->caller.uid);
		conn_free(c);
		return;
	}
	atomic_store(&c->last_ms, mono_ms());
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	pthread_mutex_lock(&d->cmu);
	c->next = d->conns;
	if (d->conns != NULL)
		d->conns->prev = c;
	d->conns = c;
	d->nconns++;
	pthread_mutex_unlock(&d->cmu);
	if (conn_arm(d, c, EPOLL_CTL_ADD) != 0)
		conn_close(d, c);
}

static void
accept_all(struct sso_daemon *d, int have_keylock)
{
	struct epoll_event ev;
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	int fd;

	for (;;) {
		fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_open(d, fd, have_keylock);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			if (atomic_exchange(&d->emfile_logged, 1) == 0)
				dlog(d, "cannot accept connections: %s", strerror(errno));
			/* the listener stays readable: do not spin on it */
			nanosleep(&pause, NULL);
		}
		break;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.ptr = &d->lfd;
	epoll_ctl(d->epfd, EPOLL_CTL_MOD, d->lfd, &ev);
}

/* recvmsg without waiting; keeps the first passed descriptor, closes others. */
static ssize_t
conn_recv(struct conn *c, uint8_t *p, size_t len)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct cmsghdr *h;
	struct msghdr mh;
	struct iovec iov;
	size_t i, nfd;
	ssize_t n;
	int fd;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return n;
	for (h = CMSG_FIRSTHDR(&mh); h != NULL; h = CMSG_NXTHDR(&mh, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
		    h->cmsg_len < CMSG_LEN(0))
			continue;
		nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (c->passed_fd < 0)
				c->passed_fd = fd;
			else
				close(fd);
		}
	}
	return n;
}

/*
 * The length is in (4 bytes): refuse an empty or oversized frame before
 * waiting for more.  The version is in (5 bytes): check it.
 */
static int
frame_header(struct sso_daemon *d, struct conn *c, char *msg)
{
	uint32_t n = (uint32_t)c->hdr[0] << 24 | (uint32_t)c->hdr[1] << 16 |
	    (uint32_t)c->hdr[2] << 8 | c->hdr[3];

	if (n == 0)
		return sv_fail(msg, SV_ERR_PROTOCOL,
		    "empty frame: the length counts the version byte and the body");
	if (n - 1 > d->frame_max)
		return sv_fail(msg, SV_ERR_TOO_LARGE,
		    "frame of %lu bytes is over the limit of %zu bytes (ssovaultd --frame-max)",
		    (unsigned long)(n - 1), d->frame_max);
	if (c->hdr_got < HDR_LEN)
		return 0;
	if (c->hdr[4] != SSO_WIRE_VERSION)
		return sv_fail(msg, SV_ERR_PROTOCOL,
		    "unsupported protocol version %u (ssovaultd speaks version %u)",
		    c->hdr[4], SSO_WIRE_VERSION);
	/* nothing is allocated for the body before its bytes come */
	c->body_len = n - 1;
	c->body_got = 0;
	svbuf_reset(c->in);
	return 0;
}

/* RD_MORE: some bytes came, read on (body_read only). */
enum rd { RD_FRAME, RD_AGAIN, RD_CLOSED, RD_ERROR, RD_MORE };

/*
 * Count total bytes of the request in the uid's share and the daemon's
 * budget before the buffer grows to hold them; the first
 * SSO_DAEMON_FREE_BYTES of a request are not counted (a connection may hold
 * that much anyway).
 */
static int
conn_charge(struct sso_daemon *d, struct conn *c, size_t total, char *msg)
{
	size_t need = total > SSO_DAEMON_FREE_BYTES ? total - SSO_DAEMON_FREE_BYTES : 0;
	int first, r;

	if (need <= c->charged)
		return 0;
	if ((r = sso_shares_bytes_add(d->shares, c->caller.uid, need - c->charged, &first,
	    msg)) != 0) {
		if (first)
			dlog(d, "requests in flight reached --max-buffered (%zu bytes): requests "
			    "that need more are refused until replies free some", d->lim.bytes_max);
		return r;
	}
	c->charged = need;
	return 0;
}

/*
 * The next piece of the body: at most what is in already (at least
 * READ_FIRST), so that the buffer grows as bytes arrive, geometrically, and
 * never from the length field alone.
 */
static enum rd
body_read(struct sso_daemon *d, struct conn *c, int *ret_err, char *msg)
{
	size_t want = c->body_len - c->body_got;
	uint8_t *p;
	ssize_t n;
	int r;

	if (want > READ_FIRST && want > c->body_got)
		want = c->body_got > READ_FIRST ? c->body_got : READ_FIRST;
	if ((r = conn_charge(d, c, c->body_got + want, msg)) != 0) {
		*ret_err = r;
		return RD_ERROR;
	}
	if ((r = svbuf_reserve(c->in, want, &p)) != 0) {
		*ret_err = sv_fail(msg, SV_ERR_NOMEM, "no memory for a frame of %zu bytes",
		    c->body_len);
		return RD_ERROR;
	}
	n = conn_recv(c, p, want);
	if (svbuf_unreserve(c->in, n > 0 ? want - (size_t)n : want) != 0) {
		*ret_err = sv_fail(msg, SV_ERR_INTERNAL, "receive buffer out of step");
		return RD_ERROR;
	}
	if (n > 0) {
		c->body_got += (size_t)n;
		return RD_MORE;
	}
	if (n < 0)
		return errno == EINTR ? RD_MORE : (errno == EAGAIN || errno == EWOULDBLOCK) ?
		    RD_AGAIN : RD_CLOSED;
	*ret_err = sv_fail(msg, SV_ERR_TRUNCATED,
	    "the client closed the connection in the middle of a frame");
	return RD_ERROR;
}

/* Read what the connection has; RD_FRAME once a whole frame is in. */
static enum rd
conn_read(struct sso_daemon *d, struct conn *c, int *ret_err, char *msg)
{
	enum rd rd;
	ssize_t n;
	int r;

	for (;;) {
		if (c->hdr_got == HDR_LEN) {
			if (c->body_got == c->body_len)
				return RD_FRAME;
			if ((rd = body_read(d, c, ret_err, msg)) != RD_MORE)
				return rd;
			atomic_store(&c->last_ms, mono_ms());
			continue;
		}
		n = conn_recv(c, c->hdr + c->hdr_got, HDR_LEN - c->hdr_got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return RD_AGAIN;
			return RD_CLOSED;
		}
		if (n == 0) {
			if (c->hdr_got == 0)
				return RD_CLOSED;
			*ret_err = sv_fail(msg, SV_ERR_TRUNCATED,
			    "the client closed the connection in the middle of a frame");
			return RD_ERROR;
		}
		atomic_store(&c->last_ms, mono_ms());
		if (c->hdr_got == 0)
			atomic_store(&c->frame_ms, atomic_load(&c->last_ms));
		c->hdr_got += (size_t)n;
		if (c->hdr_got >= 4 && (r = frame_header(d, c, msg)) != 0) {
			*ret_err = r;
			return RD_ERROR;
		}
	}
}

/* Ready for the next frame; big buffers are given back, and their bytes' share. */
static int
conn_next(struct sso_daemon *d, struct conn *c)
{
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	c->passed_fd = -1;
	if (c->body_len > SMALL_BUF_KEEP) {
		svbuf_free(c->in);
		c->in = NULL;
	} else {
		svbuf_reset(c->in);
	}
	conn_uncharge(d, c);
	c->hdr_got = c->body_len = c->body_got = 0;
	atomic_store(&c->frame_ms, 0);
	atomic_store(&c->last_ms, mono_ms());
	if (c->in == NULL && (c->in = svbuf_new_secure(d->frame_max)) == NULL)
		return SV_ERR_NOMEM;
	return 0;
}

/* The row of op in the policy table, with the flags the daemon acts on. */
static unsigned
op_flags(int op)
{
	const struct sso_op_def *d = op >= 0 ? sso_op_find((unsigned)op) : NULL;

	return d != NULL ? d->flags : 0;
}

/* What the log says about a request: protocol errors and key changes only. */
static void
frame_log(struct sso_daemon *d, const struct conn *c, int op, const struct svbuf *reply)
{
	const struct sso_op_def *def;
	char m[SV_MSG_MAX], w[300];
	int status = sso_proto_reply_peek(reply, m, sizeof(m));

	if (status == SV_ERR_PROTOCOL || status == SV_ERR_TRUNCATED ||
	    status == SV_ERR_TRAILING) {
		who(&c->caller, w, sizeof(w));
		dlog_uid(d, c->caller.uid, "protocol error", m, "protocol error from %s: %s", w, m);
		return;
	}
	if (!(op_flags(op) & SSO_OPF_KEYS) || status == SV_ERR_LOCKED ||
	    (def = sso_op_find((unsigned)op)) == NULL || def->log == NULL)
		return;
	who(&c->caller, w, sizeof(w));
	if (status != 0 && def->log->refused != NULL)
		dlog_uid(d, c->caller.uid, def->log->refused, m, "%s for %s: %s",
		    def->log->refused, w, m);
	else if (status == 0)
		dlog(d, "%s by %s%s", def->log->ok, w, def->log->ok_tail);
}

/*
 * The key lock as this thread holds it, for the requests whose key hooks
 * let go of it around Argon2id (unlock, secret restore).
 */
enum hold { HOLD_NONE, HOLD_SHARED, HOLD_EXCLUSIVE };

static __thread enum hold key_hold;
static __thread int kdf_counted;	/* this request holds its uid's derivation */

static void
key_release(struct sso_daemon *d)
{
	if (key_hold != HOLD_NONE)
		pthread_rwlock_unlock(&d->keylock);
	key_hold = HOLD_NONE;
}

static void
key_shared(struct sso_daemon *d)
{
	if (key_hold != HOLD_NONE)
		return;
	pthread_rwlock_rdlock(&d->keylock);
	key_hold = HOLD_SHARED;
}

/* The caller's share allows it: no lock that serves others is held meanwhile. */
static int
hook_kdf_begin(void *ctx, const struct sso_caller *c, size_t memory, char *msg)
{
	struct sso_daemon *d = ctx;
	int r;

	if ((r = sso_shares_kdf_begin(d->shares, c->uid, memory, mono_ms(), msg)) != 0)
		return r;
	kdf_counted = 1;
	key_release(d);
	/* this worker is busy for a while: keep one free for the others */
	pool_before_wait(d);
	return 0;
}

static void
hook_kdf_end(void *ctx, const struct sso_caller *c, size_t memory)
{
	struct sso_daemon *d = ctx;

	sso_shares_kdf_end(d->shares, memory);
	key_shared(d);
}

static void
hook_exclusive(void *ctx)
{
	struct sso_daemon *d = ctx;

	if (key_hold == HOLD_EXCLUSIVE)
		return;
	key_release(d);
	pthread_rwlock_wrlock(&d->keylock);
	key_hold = HOLD_EXCLUSIVE;
}

static const struct sso_key_hooks key_hooks = {
	hook_kdf_begin, hook_kdf_end, hook_exclusive,
};

/* One whole frame: dispatch it under the key lock and answer. */
static int
frame_serve(struct sso_daemon *d, struct conn *c, struct svbuf *reply)
{
	const uint8_t *req = svbuf_ptr(c->in);
	size_t len = svbuf_len(c->in);
	int op = len > 0 ? req[0] : -1, r, status;
	struct job j;

	atomic_fetch_add(&d->serving, 1);
	if (sso_request_writes(req, len)) {
		memset(&j, 0, sizeof(j));
		j.kind = JOB_WRITE;
		j.caller = &c->caller;
		j.p = req;
		j.len = len;
		j.fd = c->passed_fd;
		j.reply = reply;
		pthread_rwlock_rdlock(&d->keylock);
		(void)writer_submit(d, &j);
		pthread_rwlock_unlock(&d->keylock);
	} else if (op_flags(op) & SSO_OPF_KDF) {
		/* shared, none around Argon2id, exclusive to install keys (hooks) */
		key_shared(d);
		status = sso_dispatch(d->svc, &c->caller, req, len, c->passed_fd, reply);
		key_release(d);
		if (kdf_counted)
			sso_shares_kdf_done(d->shares, c->caller.uid,
			    status == SV_ERR_WRONG_KEY || status == SV_ERR_DENIED, mono_ms());
		kdf_counted = 0;
	} else if (op_flags(op) & SSO_OPF_KEYS) {
		pthread_rwlock_wrlock(&d->keylock);
		(void)sso_dispatch(d->svc, &c->caller, req, len, c->passed_fd, reply);
		pthread_rwlock_unlock(&d->keylock);
	} else {
		pthread_rwlock_rdlock(&d->keylock);
		(void)sso_dispatch(d->svc, &c->caller, req, len, c->passed_fd, reply);
		pthread_rwlock_unlock(&d->keylock);
	}
	atomic_fetch_sub(&d->serving, 1);
	frame_log(d, c, op, reply);
	r = frame_send(c->fd, svbuf_ptr(reply), svbuf_len(reply));
	/* replies may hold secrets: wipe now, not at the next request */
	svbuf_reset(reply);
	return r;
}

/*
 * Before closing on an error: end our side and discard what the client has
 * already sent, so that it reads the error reply and then a clean end of
 * stream (closing a Unix socket with unread input resets the peer).  Only
 * what is there now, and at most DRAIN_MAX bytes: never wait for a client.
 */
static void
conn_drain(int fd)
{
	uint8_t junk[4096];
	size_t total = 0;
	ssize_t n;

	shutdown(fd, SHUT_WR);
	while (total < DRAIN_MAX) {
		n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	sodium_memzero(junk, sizeof(junk));
}

/*
 * Commit the round's audit records, then send its replies: a reply whose
 * record failed becomes an error, without what was read (fail closed).
 */
static void
round_finish(struct sso_daemon *d, struct round *rd)
{
	struct round_job *rj, *next;
	char m[SV_MSG_MAX];
	unsigned char sent[ROUND_MAX] = { 0 };
	unsigned k;
	int pass;

	if (rd->first != NULL) {
		atomic_fetch_add(&d->serving, 1);
		writer_submit_many(d, &rd->first->j, &rd->last->j);
		atomic_fetch_sub(&d->serving, 1);
	}
	if (rd->locked)
		pthread_rwlock_unlock(&d->keylock);
	rd->locked = 0;
	for (rj = rd->first; rj != NULL; rj = next) {
		next = rj->rnext;
		if (rj->j.status != 0) {
			snprintf(m, sizeof(m),
			    "audit record could not be written (%s): nothing is returned",
			    sv_strerror(rj->j.status));
			if (sso_proto_reply(rd->reply[rj->slot], SV_ERR_AUDIT, m, NULL) != 0)
				svbuf_reset(rd->reply[rj->slot]);
		}
		sodium_memzero(rj->rec, rj->j.len);
		free(rj);
	}
	rd->first = rd->last = NULL;
	/*
	 * Clients that can take their reply now get it first; one that does
	 * not read its socket is answered last, so that it delays nobody
	 * else's reply (each send still ends at the send timeout).
	 */
	for (pass = 0; pass < 2; pass++) {
		for (k = 0; k < rd->n; k++) {
			struct conn *c;
			struct pollfd pf;
			int r;

			/* once answered and re-armed, another worker may own c */
			if (sent[k])
				continue;
			c = rd->conn[k];
			pf.fd = c->fd;
			pf.events = POLLOUT;
			pf.revents = 0;
			if (pass == 0 && (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLOUT)))
				continue;
			frame_log(d, c, rd->op[k], rd->reply[k]);
			r = frame_send(c->fd, svbuf_ptr(rd->reply[k]), svbuf_len(rd->reply[k]));
			/* replies may hold secrets: wipe now */
			svbuf_reset(rd->reply[k]);
			sent[k] = 1;
			if (r != 0 || rd->bad[k] || conn_arm(d, c, EPOLL_CTL_MOD) != 0)
				conn_close(d, c);
		}
	}
	rd->n = 0;
}

/* A plain read joins the round: dispatched now, answered at round_finish. */
static int
round_add(struct sso_daemon *d, struct round *rd, struct conn *c)
{
	const uint8_t *req = svbuf_ptr(c->in);
	size_t len = svbuf_len(c->in);
	int op = len > 0 ? req[0] : -1;
	unsigned k = rd->n;

	if (k >= ROUND_MAX || sso_request_writes(req, len) || (op_flags(op) & SSO_OPF_KEYS))
		return 0;
	if (!rd->locked)
		pthread_rwlock_rdlock(&d->keylock);
	rd->locked = 1;
	atomic_fetch_add(&d->serving, 1);
	cur_round = rd;
	(void)sso_dispatch(d->svc, &c->caller, req, len, c->passed_fd, rd->reply[k]);
	cur_round = NULL;
	atomic_fetch_sub(&d->serving, 1);
	rd->conn[k] = c;
	rd->op[k] = op;
	rd->bad[k] = conn_next(d, c) != 0;
	rd->n = k + 1;
	return 1;
}

static void
conn_serve(struct sso_daemon *d, struct conn *c, struct svbuf *reply, struct round *rd)
{
	char msg[SV_MSG_MAX], w[300];
	int err = 0, expired;

	msg[0] = '\0';
	atomic_store(&c->busy, 1);
	switch (conn_read(d, c, &err, msg)) {
	case RD_AGAIN:
		if (conn_arm(d, c, EPOLL_CTL_MOD) != 0)
			conn_close(d, c);
		return;
	case RD_CLOSED:
		if (atomic_load(&c->expired) == EXP_IDLE) {
			who(&c->caller, w, sizeof(w));
			dlog_uid(d, c->caller.uid, "idle connection closed", NULL,
			    "closed a connection of %s: idle for %u s", w, d->idle_ms / 1000);
		}
		conn_close(d, c);
		return;
	case RD_ERROR:
		who(&c->caller, w, sizeof(w));
		if ((expired = atomic_load(&c->expired)) == EXP_SLOW) {
			/* the reaper ended its receiving side: the request came too slowly */
			err = sv_fail(msg, SV_ERR_PROTOCOL,
			    "timed out: a request must arrive whole within %u s "
			    "(ssovaultd --request-timeout)", d->request_ms / 1000);
			dlog_uid(d, c->caller.uid, "request timed out", NULL,
			    "timed out a request of %s: %zu of %zu bytes in %u s; connection closed",
			    w, c->body_got, c->body_len, d->request_ms / 1000);
		} else if (err == SV_ERR_UNREACHABLE) {
			dlog_uid(d, c->caller.uid, "request refused", msg,
			    "refused a request of %s: %s; connection closed", w, msg);
		} else {
			dlog_uid(d, c->caller.uid, "protocol error", msg,
			    "protocol error from %s: %s; connection closed", w, msg);
		}
		if (err != SV_ERR_TRUNCATED || expired == EXP_SLOW) {
			send_error(c->fd, err, msg);
			conn_drain(c->fd);
		}
		conn_close(d, c);
		return;
	case RD_FRAME:
	case RD_MORE:
		break;
	}
	if (rd != NULL) {
		if (round_add(d, rd, c))
			return;
		/* a write or a key change: answer the round first, in order */
		round_finish(d, rd);
	}
	if (frame_serve(d, c, reply) != 0 || conn_next(d, c) != 0 ||
	    conn_arm(d, c, EPOLL_CTL_MOD) != 0)
		conn_close(d, c);
}

/* --- the worker pool ------------------------------------------------------ */

static void *
worker_main(void *arg)
{
	struct sso_daemon *d = arg;
	struct svbuf *reply = svbuf_new_secure(d->frame_max);
	struct epoll_event evs[ROUND_MAX];
	struct round rd;
	unsigned k;
	int n, i, retire;

	memset(&rd, 0, sizeof(rd));
	for (k = 0; k < ROUND_MAX; k++) {
		if ((rd.reply[k] = svbuf_new_secure(d->frame_max)) == NULL) {
			svbuf_free(reply);
			reply = NULL;
		}
	}
	while (reply != NULL && !atomic_load(&d->stopping)) {
		pthread_mutex_lock(&d->pmu);
		d->idle++;
		pthread_mutex_unlock(&d->pmu);
		n = epoll_wait(d->epfd, evs, ROUND_MAX, IDLE_RETIRE_MS);
		pthread_mutex_lock(&d->pmu);
		d->idle--;
		retire = n == 0 && d->live > d->threads;
		pthread_mutex_unlock(&d->pmu);
		if (retire)
			break;
		if (n < 0 && errno != EINTR) {
			dlog(d, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &d->stopfd)
				continue;
			if (evs[i].data.ptr == &d->lfd) {
				if (!atomic_load(&d->stopping))
					accept_all(d, rd.locked);
				continue;
			}
			/* one request alone is answered as it comes, without a round */
			conn_serve(d, evs[i].data.ptr, reply, n > 1 ? &rd : NULL);
		}
		round_finish(d, &rd);
	}
	svbuf_free(reply);
	for (k = 0; k < ROUND_MAX; k++)
		svbuf_free(rd.reply[k]);
	/*
	 * The thread is detached and the process may exit as soon as live
	 * reaches 0: free this thread's state now, not in its destructors.
	 */
	svbuf_thread_end();
	OPENSSL_thread_stop();
	pthread_mutex_lock(&d->pmu);
	d->live--;
	pthread_cond_broadcast(&d->pcv);
	pthread_mutex_unlock(&d->pmu);
	return NULL;
}

/* Start a detached worker; the caller holds pmu and counts it in live. */
static int
worker_spawn(struct sso_daemon *d)
{
	pthread_attr_t a;
	pthread_t t;
	int r;

	if (pthread_attr_init(&a) != 0)
		return SV_ERR_NOMEM;
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, WORKER_STACK);
	r = pthread_create(&t, &a, worker_main, d);
	pthread_attr_destroy(&a);
	return r == 0 ? 0 : SV_ERR_NOMEM;
}

/* --- the socket ------------------------------------------------------------ */

static int
parse_ulong(const char *s, unsigned long *ret)
{
	unsigned long v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 9)
		return SV_ERR_INVALID;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return SV_ERR_INVALID;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*ret = v;
	return 0;
}

/* systemd socket activation: fd 3 if LISTEN_PID is us and LISTEN_FDS >= 1. */
static int
activation_fd(void)
{
	unsigned long pid, n;

	if (parse_ulong(getenv("LISTEN_PID"), &pid) != 0 || pid != (unsigned long)getpid() ||
	    parse_ulong(getenv("LISTEN_FDS"), &n) != 0 || n < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3;
}

static int
socket_activated(struct sso_daemon *d, int fd, char *msg)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(int);
	int type = 0, listening = 0, fl;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
	    (len = sizeof(int), getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len)) != 0 ||
	    !listening)
		return sv_fail(msg, SV_ERR_INVALID,
		    "systemd passed fd 3, but it is not a listening stream socket: "
		    "check ssovaultd.socket (ListenStream=)");
	memset(&sa, 0, sizeof(sa));
	len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0 || sa.sun_family != AF_UNIX)
		return sv_fail(msg, SV_ERR_INVALID,
		    "systemd passed fd 3, but it is not a Unix socket: check ssovaultd.socket");
	snprintf(d->sock_path, sizeof(d->sock_path), "%.*s",
	    (int)sizeof(sa.sun_path), sa.sun_path);
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		return sv_fail(msg, SV_ERR_IO, "cannot set up fd 3: %s", strerror(errno));
	d->lfd = fd;
	return 0;
}

/* Is something answering at sa (path)?  1 yes, 0 a stale socket, or an error. */
static int
socket_probe(const struct sockaddr_un *sa, const char *path, char *msg)
{
	int s, e;

	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return sv_fail(msg, SV_ERR_IO, "socket: %s", strerror(errno));
	if (connect(s, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		close(s);
		return 1;
	}
	e = errno;
	close(s);
	if (e == ECONNREFUSED)
		return 0;
	return sv_fail(msg, SV_ERR_IO, "cannot check the existing socket %s: %s",
	    path, strerror(e));
}

/* Make /run/ssovault 0755 (the umask is 077), through its descriptor. */
static int
socket_root_dir_make(char *msg)
{
	int fd;

	if (mkdir(DEFAULT_ROOT_DIR, 0755) != 0)
		return 0;	/* there already, or the bind below says why not */
	if ((fd = open(DEFAULT_ROOT_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fchmod(fd, 0755) != 0) {
		if (fd >= 0)
			close(fd);
		return sv_fail(msg, SV_ERR_IO, "cannot make %s: %s", DEFAULT_ROOT_DIR,
		    strerror(errno));
	}
	close(fd);
	return 0;
}

/*
 * Bind the socket at path in a directory that only we and root can change
 * (paths.h), reached through the descriptor of the directory that was
 * checked.  The socket gets its 0666 from the umask at bind(): a chmod by
 * path afterwards would follow whatever stands at the path by then.
 */
static int
socket_bind(struct sso_daemon *d, const char *path, char *msg)
{
	struct sockaddr_un sa;
	char base[NAME_MAX + 1], fdp[64], why[SV_MSG_MAX];
	struct stat st;
	size_t n;
	mode_t old;
	int s = -1, dfd = -1, r, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return sv_fail(msg, SV_ERR_INVALID, "socket path too long (at most %zu bytes): %s",
		    sizeof(sa.sun_path) - 1, path);
	if (strcmp(path, DEFAULT_ROOT_DIR "/ssovault.sock") == 0 &&
	    (r = socket_root_dir_make(msg)) != 0)
		return r;
	if ((r = vault_path_parent_open(path, base, sizeof(base), why, &dfd)) != 0)
		return sv_fail(msg, r == SV_ERR_NOT_FOUND ? SV_ERR_IO : r,
		    "cannot bind %s: %s (give --socket PATH in a directory you may write)",
		    path, why);
	if ((r = vault_path_check_dir(dfd, "socket directory", NULL, msg)) != 0)
		goto out;
	/* the name through the checked directory's descriptor, when it fits */
	n = (size_t)snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d/", dfd);
	if (access(fdp, F_OK) == 0 && n + strlen(base) < sizeof(sa.sun_path)) {
		memcpy(sa.sun_path, fdp, n);
		memcpy(sa.sun_path + n, base, strlen(base) + 1);
	} else {
		memcpy(sa.sun_path, path, strlen(path) + 1);
	}
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			r = sv_fail(msg, SV_ERR_EXISTS,
			    "%s exists and is not a socket: remove it or give another --socket", path);
			goto out;
		}
		if ((r = socket_probe(&sa, path, msg)) < 0)
			goto out;
		if (r == 1) {
			r = sv_fail(msg, SV_ERR_EXISTS,
			    "another ssovaultd answers on %s: stop it first, or give another --socket",
			    path);
			goto out;
		}
		if (unlinkat(dfd, base, 0) != 0) {
			r = sv_fail(msg, SV_ERR_IO, "cannot remove the stale socket %s: %s",
			    path, strerror(errno));
			goto out;
		}
		dlog(d, "removed a stale socket at %s", path);
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		r = sv_fail(msg, SV_ERR_IO, "socket: %s", strerror(errno));
		goto out;
	}
	/* anyone may connect: access is decided per request, from SO_PEERCRED */
	old = umask(0111);	/* one thread yet: nobody else creates files now */
	r = bind(s, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	umask(old);
	if (r != 0) {
		r = sv_fail(msg, e == EACCES ? SV_ERR_READ_ONLY : SV_ERR_IO,
		    "cannot bind %s: %s (give --socket PATH in a directory you may write)",
		    path, strerror(e));
		goto out;
	}
	if (listen(s, SOMAXCONN) != 0 || fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		r = sv_fail(msg, SV_ERR_IO, "cannot listen on %s: %s", path, strerror(errno));
		unlinkat(dfd, base, 0);
		goto out;
	}
	if (!S_ISSOCK(st.st_mode)) {
		r = sv_fail(msg, SV_ERR_IO, "%s was replaced while it was being bound", path);
		goto out;
	}
	snprintf(d->sock_path, sizeof(d->sock_path), "%s", path);
	d->lfd = s;
	s = -1;
	d->bound = 1;
	d->sock_dev = st.st_dev;
	d->sock_ino = st.st_ino;
	r = 0;
out:
	if (s >= 0)
		close(s);
	close(dfd);
	return r;
}

static int
socket_setup(struct sso_daemon *d, const struct sso_daemon_opts *o, char *msg)
{
	char *def = NULL;
	int fd, r;

	if ((fd = activation_fd()) >= 0) {
		if ((r = socket_activated(d, fd, msg)) != 0)
			return r;
		dlog(d, "listening on %s (socket activation)",
		    d->sock_path[0] != '\0' ? d->sock_path : "fd 3");
		return 0;
	}
	if (o->socket_path == NULL && (def = ssovault_default_socket()) == NULL)
		return sv_fail(msg, SV_ERR_NOMEM, "out of memory");
	r = socket_bind(d, o->socket_path != NULL ? o->socket_path : def, msg);
	free(def);
	return r;
}

/* --- life ---------------------------------------------------------------- */

/* UNLOCK through the dispatch, as the daemon itself, so it is audited. */
static int
unlock_at_start(struct sso_daemon *d, const struct sso_daemon_opts *o, char *msg)
{
	const char *path = o->key_file != NULL ? o->key_file : o->passphrase_file;
	int is_key = o->key_file != NULL;
	struct svbuf *req = NULL, *reply = NULL;
	struct sso_caller self;
	uint8_t *secret = NULL;
	size_t len = 0;
	char m[SV_MSG_MAX];
	int r;

	if ((r = secret_read(d, path, is_key, &secret, &len, msg)) != 0)
		return r;
	if ((req = svbuf_new_secure(0)) == NULL || (reply = svbuf_new_secure(0)) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = sso_caller_self(&self)) != 0 ||
	    (r = sso_proto_unlock(req, is_key ? SSO_UNLOCK_KEY : SSO_UNLOCK_PASSPHRASE,
	    secret, len)) != 0) {
		sv_fail(msg, r, "cannot build the unlock request: %s", sv_strerror(r));
		goto out;
	}
	(void)sso_dispatch(d->svc, &self, svbuf_ptr(req), svbuf_len(req), -1, reply);
	if ((r = sso_proto_reply_peek(reply, m, sizeof(m))) != 0) {
		sv_fail(msg, r, "cannot unlock the vault with %s %s: %s",
		    is_key ? "the key file" : "the passphrase file", path, m);
		goto out;
	}
	dlog(d, "vault unlocked at start with the %s %s",
	    is_key ? "key file" : "passphrase file", path);
out:
	svbuf_free(req);
	svbuf_free(reply);
	if (secret != NULL)
		sodium_free(secret);
	return r;
}

static unsigned
default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 2)
		return 4;
	if (n > SSO_DAEMON_THREADS_MAX / 2)
		return SSO_DAEMON_THREADS_MAX;
	return (unsigned)n * 2 < 4 ? 4 : (unsigned)n * 2;
}

static int
sync_init(struct sso_daemon *d)
{
	pthread_rwlockattr_t ra;
	int r;

	if (pthread_rwlockattr_init(&ra) != 0)
		return SV_ERR_NOMEM;
	/* a waiting lock/unlock must not starve behind a stream of reads */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	r = pthread_rwlock_init(&d->keylock, &ra);
	pthread_rwlockattr_destroy(&ra);
	if (r != 0 || pthread_mutex_init(&d->wmu, NULL) != 0 ||
	    pthread_cond_init(&d->wcv, NULL) != 0 || pthread_cond_init(&d->dcv, NULL) != 0 ||
	    pthread_mutex_init(&d->pmu, NULL) != 0 || pthread_cond_init(&d->pcv, NULL) != 0 ||
	    pthread_mutex_init(&d->cmu, NULL) != 0)
		return SV_ERR_NOMEM;
	return 0;
}

/* Let systemd-less hosts open many connections: soft fd limit up to the hard one. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Every connection may hold two descriptors (its socket and one passed with
 * a frame), besides the vault's, the log's and the daemon's own: serve no
 * more connections than the descriptor limit allows, rather than fail to
 * accept them later, and say so.
 */
static int
fit_nofile(struct sso_daemon *d, char *msg)
{
	struct rlimit rl;
	unsigned long have, fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	have = (unsigned long)rl.rlim_cur;
	if (have >= 2UL * d->lim.conn_max + FD_SLACK)
		return 0;
	fit = have > FD_SLACK ? (have - FD_SLACK) / 2 : 0;
	if (fit < CONN_FLOOR)
		return sv_fail(msg, SV_ERR_USAGE,
		    "the file descriptor limit is %lu: ssovaultd needs at least %u "
		    "(raise LimitNOFILE= or ulimit -n)", have, 2 * CONN_FLOOR + FD_SLACK);
	dlog(d, "warning: the file descriptor limit is %lu: serving at most %lu connections, "
	    "not %u (raise LimitNOFILE= or ulimit -n to %u)", have, fit, d->lim.conn_max,
	    2 * d->lim.conn_max + FD_SLACK);
	d->lim.conn_max = (unsigned)fit;
	if (d->lim.conn_per_uid > d->lim.conn_max)
		d->lim.conn_per_uid = d->lim.conn_max;
	if (d->lim.conn_reserved > d->lim.conn_max / 4)
		d->lim.conn_reserved = d->lim.conn_max / 4;
	return 0;
}

void
sso_daemon_opts_init(struct sso_daemon_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->frame_max = SSO_FRAME_MAX_DEFAULT;
	o->conn_max = SSO_DAEMON_CONN_MAX;
	o->conn_per_uid = SSO_DAEMON_CONN_PER_UID;
	o->conn_reserved = SSO_DAEMON_CONN_RESERVED;
	o->kdf_memory = SSO_DAEMON_KDF_MEMORY;
	o->idle_timeout_ms = SSO_DAEMON_IDLE_TIMEOUT_MS;
	o->request_timeout_ms = SSO_DAEMON_REQUEST_TIMEOUT_MS;
}

/* The limits from the options: defaults for what is 0, and checked together. */
static int
limits_set(struct sso_daemon *d, const struct sso_daemon_opts *o, char *msg)
{
	struct sso_shares_limits *l = &d->lim;

	l->conn_max = o->conn_max != 0 ? o->conn_max : SSO_DAEMON_CONN_MAX;
	l->conn_per_uid = o->conn_per_uid != 0 ? o->conn_per_uid : SSO_DAEMON_CONN_PER_UID;
	l->conn_reserved = o->conn_reserved;
	/* defaults: room for the largest request, and for four uids at their share */
	l->bytes_max = o->buffered_max != 0 ? o->buffered_max :
	    d->frame_max > SSO_DAEMON_BUFFERED_MAX ? d->frame_max : SSO_DAEMON_BUFFERED_MAX;
	l->bytes_per_uid = o->buffered_per_uid != 0 ? o->buffered_per_uid :
	    d->frame_max > l->bytes_max / 4 ? d->frame_max : l->bytes_max / 4;
	l->kdf_memory = o->kdf_memory != 0 ? o->kdf_memory : SSO_DAEMON_KDF_MEMORY;
	l->backoff_first_ms = BACKOFF_FIRST_MS;
	l->backoff_max_ms = BACKOFF_MAX_MS;
	l->forget_ms = BACKOFF_FORGET_MS;
	d->idle_ms = o->idle_timeout_ms != 0 ? o->idle_timeout_ms : SSO_DAEMON_IDLE_TIMEOUT_MS;
	d->request_ms = o->request_timeout_ms != 0 ? o->request_timeout_ms :
	    SSO_DAEMON_REQUEST_TIMEOUT_MS;
	if (l->conn_per_uid > l->conn_max)
		return sv_fail(msg, SV_ERR_USAGE,
		    "--max-connections-per-uid (%u) is more than --max-connections (%u)",
		    l->conn_per_uid, l->conn_max);
	if (l->conn_reserved >= l->conn_max)
		return sv_fail(msg, SV_ERR_USAGE,
		    "--reserved-connections (%u) must be fewer than --max-connections (%u)",
		    l->conn_reserved, l->conn_max);
	/* a request of the largest size must fit in one uid's share */
	if (l->bytes_per_uid < d->frame_max)
		return sv_fail(msg, SV_ERR_USAGE,
		    "--max-buffered-per-uid (%zu bytes) is less than --frame-max (%zu bytes)",
		    l->bytes_per_uid, d->frame_max);
	if (l->bytes_max < l->bytes_per_uid)
		return sv_fail(msg, SV_ERR_USAGE,
		    "--max-buffered (%zu bytes) is less than one uid's share (%zu bytes)",
		    l->bytes_max, l->bytes_per_uid);
	return 0;
}

/*
 * The reaper: closes connections idle for longer than idle_ms and requests
 * that have not come whole within request_ms, and writes the log's
 * summaries.  It never closes a descriptor a worker may be using: it shuts
 * the receiving side down, and the worker that gets the connection next
 * sees the end of it, answers (a slow request: why) and closes.
 */
static void *
reaper_main(void *arg)
{
	struct sso_daemon *d = arg;
	unsigned tick = d->idle_ms < d->request_ms ? d->idle_ms : d->request_ms;
	struct pollfd pf;
	struct conn *c;
	uint64_t now, f;

	tick = tick / 4 < REAPER_TICK_MAX_MS ? tick / 4 : REAPER_TICK_MAX_MS;
	pf.fd = d->stopfd;
	pf.events = POLLIN;
	while (!atomic_load(&d->stopping)) {
		pf.revents = 0;
		if (poll(&pf, 1, (int)tick) != 0)
			continue;
		now = mono_ms();
		pthread_mutex_lock(&d->cmu);
		for (c = d->conns; c != NULL; c = c->next) {
			if (atomic_load(&c->busy) || atomic_load(&c->expired) != EXP_NONE)
				continue;
			f = atomic_load(&c->frame_ms);
			if (f != 0 && now - f >= d->request_ms)
				atomic_store(&c->expired, EXP_SLOW);
			else if (f == 0 && now - atomic_load(&c->last_ms) >= d->idle_ms)
				atomic_store(&c->expired, EXP_IDLE);
			else
				continue;
			/* queued bytes still reach the worker, then the end */
			shutdown(c->fd, SHUT_RD);
		}
		pthread_mutex_unlock(&d->cmu);
		sso_dlog_tick(d->dlog, now);
	}
	return NULL;
}

static int
epoll_setup(struct sso_daemon *d, char *msg)
{
	struct epoll_event ev;

	if ((d->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (d->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return sv_fail(msg, SV_ERR_IO, "epoll: %s", strerror(errno));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;		/* level-triggered: every worker sees the stop */
	ev.data.ptr = &d->stopfd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->stopfd, &ev) != 0)
		return sv_fail(msg, SV_ERR_IO, "epoll: %s", strerror(errno));
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.ptr = &d->lfd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->lfd, &ev) != 0)
		return sv_fail(msg, SV_ERR_IO, "epoll: %s", strerror(errno));
	return 0;
}

int
sso_daemon_new(const struct sso_daemon_opts *o, struct sso_daemon **ret, char *msg)
{
	struct sso_daemon *d;
	struct vault *v = NULL;
	char *dir = NULL;
	int r;

	if (o->key_file != NULL && o->passphrase_file != NULL)
		return sv_fail(msg, SV_ERR_USAGE, "give --key-file or --passphrase-file, not both");
	if (o->threads > SSO_DAEMON_THREADS_MAX)
		return sv_fail(msg, SV_ERR_USAGE, "--threads is 1 to %d", SSO_DAEMON_THREADS_MAX);
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return sv_fail(msg, SV_ERR_NOMEM, "out of memory");
	d->lfd = d->epfd = d->stopfd = -1;
	d->frame_max = o->frame_max != 0 ? o->frame_max : SSO_FRAME_MAX_DEFAULT;
	d->threads = o->threads != 0 ? o->threads : default_threads();
	d->log = o->log;
	d->log_ctx = o->log_ctx;
	d->self_uid = geteuid();
	if ((r = sync_init(d)) != 0) {
		free(d);
		return sv_fail(msg, r, "cannot create locks");
	}
	if ((r = limits_set(d, o, msg)) != 0) {
		sso_daemon_free(d);
		return r;
	}
	if ((r = sso_dlog_new(d->log, d->log_ctx, LOG_BURST, LOG_INTERVAL_MS, &d->dlog)) != 0) {
		sso_daemon_free(d);
		return sv_fail(msg, r, "cannot start the log");
	}
	raise_nofile();
	if ((r = fit_nofile(d, msg)) != 0 ||
	    (r = sso_shares_new(&d->lim, &d->shares)) != 0) {
		if (msg[0] == '\0')
			sv_fail(msg, r, "cannot set up the limits: %s", sv_strerror(r));
		sso_daemon_free(d);
		return r;
	}
	dir = o->vault_dir != NULL ? strdup(o->vault_dir) : ssovault_default_vault_dir();
	if (dir == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((r = vault_open(dir, 0, &v)) != 0) {
		if (r == SV_ERR_NO_VAULT)
			sv_fail(msg, r, "no vault in %s: create one with 'ssovault --vault %s init'",
			    dir, dir);
		else
			sv_fail(msg, r, "cannot open the vault in %s: %s", dir,
			    vault_open_errmsg()[0] != '\0' ? vault_open_errmsg() : sv_strerror(r));
		goto fail;
	}
	if ((r = sso_service_new(v, &d->svc)) != 0) {
		vault_free(v);
		sv_fail(msg, r, "cannot start the service: %s", sv_strerror(r));
		goto fail;
	}
	if ((r = socket_setup(d, o, msg)) != 0 || (r = epoll_setup(d, msg)) != 0)
		goto fail;
	if (pthread_create(&d->writer, NULL, writer_main, d) != 0) {
		r = sv_fail(msg, SV_ERR_NOMEM, "cannot start the syncer thread");
		goto fail;
	}
	d->writer_running = 1;
	sso_service_set_audit_sink(d->svc, audit_sink, d);
	sso_service_set_log(d->svc, service_log, d);
	/* the daemon's own key or passphrase file: the admin configured it, no role check */
	if ((o->key_file != NULL || o->passphrase_file != NULL) &&
	    (r = unlock_at_start(d, o, msg)) != 0)
		goto fail;
	sso_service_set_key_hooks(d->svc, &key_hooks, d);
	dlog(d, "started: vault %s, socket %s, %u workers, frame limit %zu bytes, %s",
	    dir, d->sock_path, d->threads, d->frame_max,
	    vault_is_unlocked(v) ? "unlocked" : "locked (run 'ssovault unlock')");
	dlog(d, "limits: %u connections, %u per uid, %u kept for admins; %zu bytes of "
	    "requests, %zu per uid; %zu bytes of key derivation; idle timeout %u s, "
	    "request timeout %u s", d->lim.conn_max, d->lim.conn_per_uid, d->lim.conn_reserved,
	    d->lim.bytes_max, d->lim.bytes_per_uid, d->lim.kdf_memory, d->idle_ms / 1000,
	    d->request_ms / 1000);
	free(dir);
	*ret = d;
	return 0;
fail:
	free(dir);
	sso_daemon_free(d);
	return r;
}

int
sso_daemon_run(struct sso_daemon *d, char *msg)
{
	unsigned i;
	int r = 0;

	if (pthread_create(&d->reaper, NULL, reaper_main, d) != 0)
		return sv_fail(msg, SV_ERR_NOMEM, "cannot start the reaper thread");
	d->reaper_running = 1;
	pthread_mutex_lock(&d->pmu);
	for (i = 0; i < d->threads; i++)
		if (worker_spawn(d) == 0)
			d->live++;
	if (d->live == 0)
		r = sv_fail(msg, SV_ERR_NOMEM, "cannot start any worker thread");
	while (d->live > 0)
		pthread_cond_wait(&d->pcv, &d->pmu);
	pthread_mutex_unlock(&d->pmu);
	if (r == 0 && !atomic_load(&d->stopping))
		r = sv_fail(msg, SV_ERR_INTERNAL, "every worker thread failed");
	/* every request in flight has its reply: let the syncer flush and go */
	pthread_mutex_lock(&d->wmu);
	d->wstop = 1;
	pthread_cond_signal(&d->wcv);
	pthread_mutex_unlock(&d->wmu);
	if (d->writer_running) {
		pthread_join(d->writer, NULL);
		d->writer_running = 0;
	}
	if (d->reaper_running) {
		sso_daemon_stop(d);
		pthread_join(d->reaper, NULL);
		d->reaper_running = 0;
	}
	/* counts of repeated failures go into the trail before the keys go */
	if (sso_service_flush(d->svc) != 0)
		dlog(d, "cannot write the counts of repeated failures: %s",
		    vault_errmsg(sso_service_vault(d->svc)));
	vault_lock(sso_service_vault(d->svc));
	dlog(d, "stopped: requests in flight finished, vault locked");
	return r;
}

void
sso_daemon_stop(struct sso_daemon *d)
{
	uint64_t one = 1;

	atomic_store(&d->stopping, 1);
	if (d->stopfd >= 0 && write(d->stopfd, &one, sizeof(one)) < 0) {
		/* the counter is already set: the workers will see it */
	}
}

const char *
sso_daemon_socket(const struct sso_daemon *d)
{
	return d->sock_path;
}

void
sso_daemon_free(struct sso_daemon *d)
{
	struct conn *c, *next;
	struct stat st;

	if (d == NULL)
		return;
	if (d->writer_running) {
		pthread_mutex_lock(&d->wmu);
		d->wstop = 1;
		pthread_cond_signal(&d->wcv);
		pthread_mutex_unlock(&d->wmu);
		pthread_join(d->writer, NULL);
	}
	if (d->reaper_running) {
		sso_daemon_stop(d);
		pthread_join(d->reaper, NULL);
	}
	for (c = d->conns; c != NULL; c = next) {
		next = c->next;
		conn_free(c);
	}
	if (d->svc != NULL) {
		vault_lock(sso_service_vault(d->svc));
		sso_service_free(d->svc);
	}
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->stopfd >= 0)
		close(d->stopfd);
	if (d->lfd >= 0)
		close(d->lfd);
	/* remove the socket only if it is still ours, not a successor's */
	if (d->bound && lstat(d->sock_path, &st) == 0 && st.st_dev == d->sock_dev &&
	    st.st_ino == d->sock_ino)
		unlink(d->sock_path);
	pthread_rwlock_destroy(&d->keylock);
	pthread_mutex_destroy(&d->wmu);
	pthread_cond_destroy(&d->wcv);
	pthread_cond_destroy(&d->dcv);
	pthread_mutex_destroy(&d->pmu);
	pthread_cond_destroy(&d->pcv);
	pthread_mutex_destroy(&d->cmu);
	sso_shares_free(d->shares);
	/* last: what it held back is written now */
	sso_dlog_free(d->dlog);
	free(d);
}
