/*
 * commit.c: the group commit.  Write requests and the audit records of
 * reads are queued as jobs; the first waiting worker that finds no batch
 * being committed runs up to SSO_DAEMON_BATCH_MAX of them in one write
 * transaction and commits once for all; the syncer flushes batches of read
 * records only within a second.  A round is a worker's reads of one
 * epoll_wait, answered after one commit of all their records.
 */
#include "server.h"

/* --- the writer: group commit --------------------------------------------- */

/* Set in a thread while it commits a batch (it must not queue a job itself). */
static __thread int in_batch;

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
	struct sso_fold f;
	struct job *j;
	int r = 0, writes = 0, grouped;

	if ((r = vault_txn_begin(v, 1, &t)) != 0) {
		snprintf(why, sizeof(why), "%s", vault_errmsg(v));
		batch_fail(batch, r, why);
		return -1;
	}
	/*
	 * The journal of reads first: its records came before every job here.
	 * A fold that fails leaves them in the journal for the next batch.
	 */
	if (sso_service_fold(d->svc, t, &f) != 0)
		memset(&f, 0, sizeof(f));
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
		if (j->kind == JOB_FOLD) {
			j->status = 0;
			continue;
		}
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
	sso_service_folded(d->svc, &f, r == 0);
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
		sso_daemon_log(d, "cannot flush read audit records to disk: %s; will retry",
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

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void writer_queue_wait(struct sso_daemon *d, struct job *first, struct job *last);

/*
 * Fold the journal of reads into the chain: a batch of its own, committed
 * like any other (one committer at a time), under a shared hold of the key
 * lock like a request.
 */
static int
fold_run(struct sso_daemon *d)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	j.kind = JOB_FOLD;
	j.fd = -1;
	pthread_rwlock_rdlock(&d->keylock);
	if (vault_is_unlocked(sso_service_vault(d->svc)))
		writer_queue_wait(d, &j, &j);
	pthread_rwlock_unlock(&d->keylock);
	return j.status;
}

/* The service's fold hooks: a fold is due (the syncer runs it), or wanted now. */
static void
hook_kick(void *ctx, int urgent)
{
	struct sso_daemon *d = ctx;

	pthread_mutex_lock(&d->wmu);
	if (!d->fold_armed) {
		d->fold_armed = 1;
		deadline_after(&d->fold_at, SSO_FOLD_MS);
		pthread_cond_signal(&d->wcv);
	}
	if (urgent && !d->fold_urgent) {
		d->fold_urgent = 1;
		pthread_cond_signal(&d->wcv);
	}
	pthread_mutex_unlock(&d->wmu);
}

/* From a request (audit list, verify): it holds the key lock shared already. */
static int
hook_fold_now(void *ctx)
{
	struct sso_daemon *d = ctx;
	struct job j;

	if (in_batch)
		return SV_ERR_INTERNAL;
	memset(&j, 0, sizeof(j));
	j.kind = JOB_FOLD;
	j.fd = -1;
	writer_queue_wait(d, &j, &j);
	return j.status;
}

const struct sso_fold_hooks sso_daemon_fold_hooks = { hook_kick, hook_fold_now };

/*
 * The syncer: the background thread that flushes read records (committed
 * without a disk sync) to disk within SYNC_INTERVAL_MS, and once more at
 * the end.  Batches themselves are committed by the threads that wait for
 * them (writer_submit).
 */
void *
sso_daemon_writer_main(void *arg)
{
	struct sso_daemon *d = arg;

	pthread_mutex_lock(&d->wmu);
	for (;;) {
		while (!d->wstop && !d->unsynced && !d->fold_armed)
			pthread_cond_wait(&d->wcv, &d->wmu);
		if (d->wstop)
			break;
		if (d->fold_armed && (d->fold_urgent || deadline_passed(&d->fold_at))) {
			int failed;

			d->fold_armed = d->fold_urgent = 0;
			pthread_mutex_unlock(&d->wmu);
			failed = fold_run(d) != 0;
			pthread_mutex_lock(&d->wmu);
			/*
			 * Records came during the fold (no kick: the journal was not
			 * empty), or it failed (a database down): fold again, in
			 * SSO_FOLD_MS, or in a second while no fold gets through.
			 */
			if (!d->fold_armed && sso_service_journal_pending(d->svc) > 0 &&
			    vault_is_unlocked(sso_service_vault(d->svc))) {
				d->fold_armed = 1;
				deadline_after(&d->fold_at, failed ? SSO_FOLD_RETRY_MS : SSO_FOLD_MS);
			}
		} else if (d->unsynced && deadline_passed(&d->sync_at)) {
			writer_sync_locked(d);
		} else {
			(void)pthread_cond_timedwait(&d->wcv, &d->wmu,
			    d->fold_armed && (!d->unsynced || ts_before(&d->fold_at, &d->sync_at)) ?
			    &d->fold_at : &d->sync_at);
		}
	}
	/* every request in flight has its reply by now */
	while (d->committing)
		pthread_cond_wait(&d->dcv, &d->wmu);
	if (d->unsynced)
		writer_sync_locked(d);
	pthread_mutex_unlock(&d->wmu);
	return NULL;
}

/*
 * The caller is about to wait for the disk: if no worker is idle, add one
 * so that other clients are still served meanwhile.
 */
void
sso_daemon_pool_before_wait(struct sso_daemon *d)
{
	pthread_mutex_lock(&d->pmu);
	if (!atomic_load(&d->stopping) && atomic_load(&d->idle) == 0 && d->live < SSO_DAEMON_THREADS_MAX &&
	    sso_daemon_worker_spawn(d) == 0)
		d->live++;
	pthread_mutex_unlock(&d->pmu);
}


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
	sso_daemon_pool_before_wait(d);
	writer_queue_wait(d, first, last);
}

/* The queueing and waiting of writer_submit_many(), for threads outside the pool. */
static void
writer_queue_wait(struct sso_daemon *d, struct job *first, struct job *last)
{
	struct job *j = first;

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

int
sso_daemon_writer_submit(struct sso_daemon *d, struct job *j)
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

/* Set in a worker while it dispatches a read of a round. */
static __thread struct round *cur_round;

/* The service's audit sink for reads: the record joins the next batch. */
int
sso_daemon_audit_sink(void *ctx, const uint8_t *rec, size_t len)
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
	return sso_daemon_writer_submit(d, &j);
}

/*
 * Commit the round's audit records, then send its replies: a reply whose
 * record failed becomes an error, without what was read (fail closed).
 */
void
sso_daemon_round_finish(struct sso_daemon *d, struct round *rd)
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
			/* a shared vault's database that is down is said so, exit 6 */
			int st = sso_audit_fail_status(rj->j.status);

			sso_audit_fail_msg(rj->j.status, "nothing is returned", m, sizeof(m));
			if (sso_proto_reply(rd->reply[rj->slot], st, m, NULL) != 0)
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
			sso_daemon_frame_log(d, c, rd->op[k], rd->reply[k]);
			r = sso_daemon_frame_send(c->fd, svbuf_ptr(rd->reply[k]), svbuf_len(rd->reply[k]));
			/* replies may hold secrets: wipe now */
			svbuf_reset(rd->reply[k]);
			sent[k] = 1;
			if (r != 0 || rd->bad[k])
				sso_daemon_conn_close(d, c);
			else if (c->ahead_off < c->ahead_len)
				/* its next frame was read ahead: serve it now, alone */
				sso_daemon_conn_serve(d, c, rd->reply[k], NULL);
			else if (sso_daemon_conn_arm(d, c, EPOLL_CTL_MOD) != 0)
				sso_daemon_conn_close(d, c);
		}
	}
	rd->n = 0;
}

/* A plain read joins the round: dispatched now, answered at round_finish. */
int
sso_daemon_round_add(struct sso_daemon *d, struct round *rd, struct conn *c)
{
	const uint8_t *req = svbuf_ptr(c->in);
	size_t len = svbuf_len(c->in);
	int op = len > 0 ? req[0] : -1;
	unsigned k = rd->n;

	if (k >= ROUND_MAX || sso_request_writes(req, len) || (sso_daemon_op_flags(op) & SSO_OPF_KEYS))
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
	rd->bad[k] = sso_daemon_conn_next(d, c) != 0;
	rd->n = k + 1;
	return 1;
}

