/*
 * ssovaultd's engine: the listening socket, the worker pool that turns
 * frames into sso_dispatch() calls, and the group commit of every write and
 * every audit record of a read (docs/daemon.md).
 *
 * Threads.  Workers share one epoll set holding the listening socket, a
 * stop eventfd and every client connection (EPOLLONESHOT: one worker owns a
 * connection while it reads or serves it).  A worker accepts, reads whatever
 * bytes a connection has (non-blocking, so a slow client never pins it),
 * and once a whole frame is in, dispatches it and writes the reply; then,
 * while another worker waits on the pool, it waits a few ms for the same
 * client's next request rather than handing the connection back (conn.c,
 * conn_stick).  Reads run on the worker in their own read transaction.  Write requests and
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
#include "server.h"

/* --- logging ------------------------------------------------------------- */

uint64_t
sso_daemon_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A line of the daemon's own: escaped (dlog.c), never held back. */
void
sso_daemon_log(struct sso_daemon *d, const char *fmt, ...)
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
	sso_daemon_log(ctx, "%s", line);
}

/* A line about what a caller did: escaped, and rate-limited per uid and kind. */
void
sso_daemon_log_uid(struct sso_daemon *d, uid_t uid, const char *kind, const char *detail,
    const char *fmt, ...)
{
	char line[SSO_DLOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (d->dlog != NULL)
		sso_dlog_event(d->dlog, uid, sso_daemon_now_ms(), kind, detail, "%s", line);
}

void
sso_daemon_who(const struct sso_caller *c, char *out, size_t len)
{
	snprintf(out, len, "uid %lu (pid %ld%s%.200s)", (unsigned long)c->uid,
	    (long)c->pid, c->exe[0] != '\0' ? ", " : "", c->exe);
}

/* --- sizes and secrets --------------------------------------------------- */

/* A size in [min, max] bytes (base/units.h). */
static int
parse_size(const char *s, unsigned long long min, unsigned long long max, size_t *ret)
{
	unsigned long long v;

	if (units_parse_size(s, max, &v) != 0 || v < min || v > SIZE_MAX)
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
	unsigned long long v;

	if (units_parse_duration(s, 24 * 60 * 60, &v) != 0 || v < 1)
		return SV_ERR_INVALID;
	*ret_ms = (unsigned)(v * 1000);
	return 0;
}

/* The secret of a key or passphrase file (base/secretfile.h), in secure memory. */
static int
secret_read(const char *path, int is_key, uint8_t **ret, size_t *ret_len, char *msg)
{
	uint8_t *key = NULL;
	char *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = secretfile_read(path, is_key ? "key file" : "passphrase file", SECRETFILE_MAX,
	    &buf, &len, msg)) != 0)
		return r;
	if (is_key) {
		if ((key = sodium_malloc(VAULT_KEY_BYTES)) == NULL) {
			r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (secretfile_key(buf, len, key) != 0) {
			r = sv_fail(msg, SV_ERR_INVALID,
			    "key file %s must hold 32 bytes (or 64 hexadecimal digits)", path);
			goto out;
		}
		*ret = key;
		*ret_len = VAULT_KEY_BYTES;
		key = NULL;
	} else {
		if ((len = secretfile_trim(buf, len)) == 0) {
			r = sv_fail(msg, SV_ERR_INVALID, "passphrase file %s is empty", path);
			goto out;
		}
		*ret = (uint8_t *)buf;
		*ret_len = len;
		buf = NULL;
	}
	r = 0;
out:
	if (buf != NULL)
		sodium_free(buf);
	if (key != NULL)
		sodium_free(key);
	return r;
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
		/* no lock shared by every worker around each wait (a preempted holder stalls them all) */
		atomic_fetch_add(&d->idle, 1);
		n = epoll_wait(d->epfd, evs, ROUND_MAX, IDLE_RETIRE_MS);
		atomic_fetch_sub(&d->idle, 1);
		retire = 0;
		if (n == 0) {
			pthread_mutex_lock(&d->pmu);
			retire = d->live > d->threads;
			pthread_mutex_unlock(&d->pmu);
		}
		if (retire)
			break;
		if (n < 0 && errno != EINTR) {
			sso_daemon_log(d, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &d->stopfd)
				continue;
			if (evs[i].data.ptr == &d->lfd) {
				if (!atomic_load(&d->stopping))
					sso_daemon_accept_all(d, rd.locked);
				continue;
			}
			/*
			 * One request alone is answered as it comes, without a round;
			 * so is every read while the journal takes its record (a
			 * round only shares the wait for a commit)
			 */
			sso_daemon_conn_serve(d, evs[i].data.ptr, reply,
			    n > 1 && !sso_service_journal_on(d->svc) ? &rd : NULL);
		}
		sso_daemon_round_finish(d, &rd);
	}
	svbuf_free(reply);
	for (k = 0; k < ROUND_MAX; k++)
		svbuf_free(rd.reply[k]);
	/*
	 * The thread is detached and the process may exit as soon as live
	 * reaches 0: free this thread's state now, not in its destructors.
	 */
	sso_service_thread_end();
	svbuf_thread_end();
	OPENSSL_thread_stop();
	pthread_mutex_lock(&d->pmu);
	d->live--;
	pthread_cond_broadcast(&d->pcv);
	pthread_mutex_unlock(&d->pmu);
	return NULL;
}

/* Start a detached worker; the caller holds pmu and counts it in live. */
int
sso_daemon_worker_spawn(struct sso_daemon *d)
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

	if ((r = secret_read(path, is_key, &secret, &len, msg)) != 0)
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
	sso_daemon_log(d, "vault unlocked at start with the %s %s",
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
	sso_daemon_log(d, "warning: the file descriptor limit is %lu: serving at most %lu connections, "
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
		now = sso_daemon_now_ms();
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

/*
 * A vault at a URI keeps its journal of reads on this host (docs/hosts.md):
 * in --journal-dir, or the default, made here if missing (mode 0700; the
 * default's parent as the daemon's umask leaves it).  The journal checks
 * the directory when it opens.
 */
static int
journal_dir_set(struct sso_daemon *d, struct vault *v, const struct sso_daemon_opts *o,
    char *msg)
{
	const char *dir = o->journal_dir != NULL ? o->journal_dir : SSO_DAEMON_JOURNAL_DIR;
	int r;

	if (!vault_shared(v)) {
		if (o->journal_dir != NULL)
			return sv_fail(msg, SV_ERR_USAGE, "--journal-dir is for a vault at a URI: a "
			    "vault directory keeps its journals of reads beside data.mdb");
		return 0;
	}
	if (o->journal_dir == NULL && mkdir("/var/lib/ssovault", 0755) != 0 && errno != EEXIST)
		sso_daemon_log(d, "cannot make /var/lib/ssovault: %s", strerror(errno));
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		sso_daemon_log(d, "cannot make the journal directory %s: %s", dir, strerror(errno));
	if ((r = sso_service_set_journal_dir(d->svc, dir)) != 0)
		return sv_fail(msg, r, "out of memory");
	sso_daemon_log(d, "journal of reads in %s", dir);
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
	if ((r = vault_open(dir, &sso_schema, &v)) != 0) {
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
	if ((r = sso_daemon_socket_setup(d, o, msg)) != 0 || (r = epoll_setup(d, msg)) != 0)
		goto fail;
	if (pthread_create(&d->writer, NULL, sso_daemon_writer_main, d) != 0) {
		r = sv_fail(msg, SV_ERR_NOMEM, "cannot start the syncer thread");
		goto fail;
	}
	d->writer_running = 1;
	sso_service_set_audit_sink(d->svc, sso_daemon_audit_sink, d);
	/* reads' records go to the journal, folded by the committer (docs/audit.md) */
	sso_service_set_fold_hooks(d->svc, &sso_daemon_fold_hooks, d);
	if ((r = journal_dir_set(d, v, o, msg)) != 0)
		goto fail;
	if (sso_service_journal_start(d->svc, 0) != 0)
		sso_daemon_log(d, "no journal of reads: every read commits its audit record");
	sso_service_set_log(d->svc, service_log, d);
	/* the daemon's own key or passphrase file: the admin configured it, no role check */
	if ((o->key_file != NULL || o->passphrase_file != NULL) &&
	    (r = unlock_at_start(d, o, msg)) != 0)
		goto fail;
	sso_service_set_key_hooks(d->svc, &sso_daemon_key_hooks, d);
	/* what a previous run left in its journal goes into the chain now, not at the first read */
	if (vault_is_unlocked(v))
		sso_daemon_fold_hooks.kick(d, 1);
	sso_daemon_log(d, "started: vault %s, socket %s, %u workers, frame limit %zu bytes, %s",
	    dir, d->sock_path, d->threads, d->frame_max,
	    vault_is_unlocked(v) ? "unlocked" : "locked (run 'ssovault unlock')");
	sso_daemon_log(d, "limits: %u connections, %u per uid, %u kept for admins; %zu bytes of "
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
		if (sso_daemon_worker_spawn(d) == 0)
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
	/* counts of repeated failures and the journal go into the trail before the keys go */
	sso_service_set_fold_hooks(d->svc, NULL, NULL);
	if (sso_service_flush(d->svc) != 0)
		sso_daemon_log(d, "cannot write the counts of repeated failures: %s",
		    vault_errmsg(sso_service_vault(d->svc)));
	sso_service_memo_clear(d->svc);
	vault_lock(sso_service_vault(d->svc));
	sso_daemon_log(d, "stopped: requests in flight finished, vault locked");
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
		sso_daemon_conn_free(c);
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
