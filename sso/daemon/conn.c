/*
 * conn.c: ssovaultd's connections: accepting them against the uid's share,
 * reading a frame as its bytes arrive (the buffer grows as they come, each
 * growth charged first), serving it under the key lock (shared; exclusive
 * for the operations that change keys; let go around Argon2id), writing
 * the reply, and closing.
 */
#include "server.h"

/* --- replies ------------------------------------------------------------- */

/* Write one frame; a client that does not read within the send timeout is dropped. */
int
sso_daemon_frame_send(int fd, const uint8_t *body, size_t len)
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
		(void)sso_daemon_frame_send(fd, svbuf_ptr(b), svbuf_len(b));
	svbuf_free(b);
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

void
sso_daemon_conn_free(struct conn *c)
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

void
sso_daemon_conn_close(struct sso_daemon *d, struct conn *c)
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
	sso_daemon_conn_free(c);
}

int
sso_daemon_conn_arm(struct sso_daemon *d, struct conn *c, int op)
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
		sso_daemon_log_uid(d, (uid_t)-1, "no peer credentials", NULL,
		    "dropped a connection: cannot read its peer credentials (%s)", strerror(errno));
		sso_daemon_conn_free(c);
		return;
	}
	m[0] = '\0';
	r = sso_shares_conn_open(d->shares, c->caller.uid, 0, m);
	if (r == SSO_SHARES_ASK_ADMIN)
		r = sso_shares_conn_open(d->shares, c->caller.uid,
		    caller_is_admin(d, &c->caller, have_keylock) ? 1 : -1, m);
	if (r != 0) {
		sso_daemon_who(&c->caller, w, sizeof(w));
		sso_daemon_log_uid(d, c->caller.uid, "connection refused", m,
		    "refused a connection from %s: %s", w, m);
		/* an empty socket takes a short reply without blocking */
		send_error(fd, SV_ERR_UNREACHABLE, m);
		sso_daemon_conn_free(c);
		return;
	}
	c->counted = 1;
	if ((c->in = svbuf_new_secure(d->frame_max)) == NULL) {
		sso_shares_conn_close(d->shares, c->caller.uid);
		sso_daemon_conn_free(c);
		return;
	}
	atomic_store(&c->last_ms, sso_daemon_now_ms());
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	pthread_mutex_lock(&d->cmu);
	c->next = d->conns;
	if (d->conns != NULL)
		d->conns->prev = c;
	d->conns = c;
	d->nconns++;
	pthread_mutex_unlock(&d->cmu);
	if (sso_daemon_conn_arm(d, c, EPOLL_CTL_ADD) != 0)
		sso_daemon_conn_close(d, c);
}

void
sso_daemon_accept_all(struct sso_daemon *d, int have_keylock)
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
				sso_daemon_log(d, "cannot accept connections: %s", strerror(errno));
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
	/* a worker that stays for the next request waits once, up to STICK_MS */
	int flags = c->stick_wait ? 0 : MSG_DONTWAIT;

	c->stick_wait = 0;
	return sso_wire_recvmsg(c->fd, p, len, flags, &c->passed_fd);
}

/*
 * Stay with a connection for its client's next request, rather than give it
 * back to the pool: a client that asks again at once (a service fetching
 * credentials in a loop) is then served as a thread per connection would
 * serve it, with one blocking recv where the pool costs an epoll_ctl, an
 * epoll_wait and a hand-off to another thread (docs/daemon.md,
 * "Performance").  Only while another worker waits on the pool for every
 * other connection (one is started if none does, up to 2 per configured
 * worker), and for STICK_MS at most: the recv times out (SO_RCVTIMEO) and the
 * connection goes back to the pool; the reaper, a stop and a closing
 * client end the wait as they end a read.
 */
static int
conn_stick(struct sso_daemon *d, struct conn *c)
{
	struct timeval tv = { 0, STICK_MS * 1000 };
	int ok;

	if (atomic_load(&d->stopping) || c->passed_fd >= 0)
		return 0;
	ok = atomic_load(&d->idle) > 0;
	if (!ok) {
		pthread_mutex_lock(&d->pmu);
		if (d->live < 2 * d->threads && d->live < SSO_DAEMON_THREADS_MAX &&
		    sso_daemon_worker_spawn(d) == 0) {
			d->live++;
			ok = 1;		/* it waits on the pool as soon as it runs */
		}
		pthread_mutex_unlock(&d->pmu);
	}
	if (!ok)
		return 0;
	if (!c->rcvtimeo_set) {
		if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
			return 0;
		c->rcvtimeo_set = 1;
	}
	c->stick_wait = 1;
	return 1;
}

/*
 * The length is in (4 bytes): refuse an empty or oversized frame before
 * waiting for more.  The version is in (5 bytes): check it.
 */
static int
frame_header(struct sso_daemon *d, struct conn *c, char *msg)
{
	size_t n = 0;
	int r;

	if ((r = sso_frame_header(c->hdr, c->hdr_got, d->frame_max, &n, msg)) != 0 ||
	    c->hdr_got < HDR_LEN)
		return r;
	/* nothing is allocated for the body before its bytes come */
	c->body_len = n;
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
			sso_daemon_log(d, "requests in flight reached --max-buffered (%zu bytes): requests "
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

/* Body bytes read ahead with the header: charged, then into the buffer. */
static enum rd
body_from_ahead(struct sso_daemon *d, struct conn *c, int *ret_err, char *msg)
{
	size_t n = c->ahead_len - c->ahead_off;
	uint8_t *p;
	int r;

	if (n > c->body_len - c->body_got)
		n = c->body_len - c->body_got;
	if ((r = conn_charge(d, c, c->body_got + n, msg)) != 0) {
		*ret_err = r;
		return RD_ERROR;
	}
	if (svbuf_reserve(c->in, n, &p) != 0) {
		*ret_err = sv_fail(msg, SV_ERR_NOMEM, "no memory for a frame of %zu bytes",
		    c->body_len);
		return RD_ERROR;
	}
	memcpy(p, c->ahead + c->ahead_off, n);
	c->ahead_off += n;
	c->body_got += n;
	return RD_MORE;
}

/*
 * Read what the connection has; RD_FRAME once a whole frame is in.  A
 * frame's first read takes up to AHEAD_MAX bytes: a small request comes in
 * one system call, header and body.  What it took past the frame (a client
 * that sends its next request early) waits in ahead for the next frame; a
 * passed descriptor must come alone with its frame (it rides with the
 * first bytes its sender wrote, and a read may join two frames).
 */
static enum rd
conn_read(struct sso_daemon *d, struct conn *c, int *ret_err, char *msg)
{
	enum rd rd;
	size_t n;
	ssize_t got;
	int r, had_fd;

	for (;;) {
		if (c->hdr_got == HDR_LEN) {
			if (c->body_got == c->body_len) {
				if (c->ahead_fd && c->ahead_off < c->ahead_len) {
					*ret_err = sv_fail(msg, SV_ERR_PROTOCOL,
					    "a passed descriptor must come alone with its frame");
					return RD_ERROR;
				}
				return RD_FRAME;
			}
			rd = c->ahead_off < c->ahead_len ? body_from_ahead(d, c, ret_err, msg) :
			    body_read(d, c, ret_err, msg);
			if (rd != RD_MORE)
				return rd;
			atomic_store(&c->last_ms, sso_daemon_now_ms());
			continue;
		}
		if (c->ahead_off == c->ahead_len) {
			had_fd = c->passed_fd >= 0;
			got = conn_recv(c, c->ahead, AHEAD_MAX);
			if (got < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return RD_AGAIN;
				return RD_CLOSED;
			}
			if (got == 0) {
				if (c->hdr_got == 0)
					return RD_CLOSED;
				*ret_err = sv_fail(msg, SV_ERR_TRUNCATED,
				    "the client closed the connection in the middle of a frame");
				return RD_ERROR;
			}
			c->ahead_off = 0;
			c->ahead_len = (size_t)got;
			c->ahead_fd = !had_fd && c->passed_fd >= 0;
			atomic_store(&c->last_ms, sso_daemon_now_ms());
		}
		if (c->hdr_got == 0)
			atomic_store(&c->frame_ms, atomic_load(&c->last_ms));
		n = c->ahead_len - c->ahead_off;
		if (n > HDR_LEN - c->hdr_got)
			n = HDR_LEN - c->hdr_got;
		memcpy(c->hdr + c->hdr_got, c->ahead + c->ahead_off, n);
		c->ahead_off += n;
		c->hdr_got += n;
		if (c->hdr_got >= 4 && (r = frame_header(d, c, msg)) != 0) {
			*ret_err = r;
			return RD_ERROR;
		}
	}
}

/* Ready for the next frame; big buffers are given back, and their bytes' share. */
int
sso_daemon_conn_next(struct sso_daemon *d, struct conn *c)
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
	c->ahead_fd = 0;
	atomic_store(&c->frame_ms, 0);
	atomic_store(&c->last_ms, sso_daemon_now_ms());
	if (c->in == NULL && (c->in = svbuf_new_secure(d->frame_max)) == NULL)
		return SV_ERR_NOMEM;
	return 0;
}

/* The row of op in the policy table, with the flags the daemon acts on. */
unsigned
sso_daemon_op_flags(int op)
{
	const struct sso_op_def *d = op >= 0 ? sso_op_find((unsigned)op) : NULL;

	return d != NULL ? d->flags : 0;
}

/* What the log says about a request: protocol errors and key changes only. */
void
sso_daemon_frame_log(struct sso_daemon *d, const struct conn *c, int op, const struct svbuf *reply)
{
	const struct sso_op_def *def;
	char m[SV_MSG_MAX], w[300];
	int status = sso_proto_reply_peek(reply, m, sizeof(m));

	if (status == SV_ERR_PROTOCOL || status == SV_ERR_TRUNCATED ||
	    status == SV_ERR_TRAILING) {
		sso_daemon_who(&c->caller, w, sizeof(w));
		sso_daemon_log_uid(d, c->caller.uid, "protocol error", m, "protocol error from %s: %s", w, m);
		return;
	}
	if (!(sso_daemon_op_flags(op) & SSO_OPF_KEYS) || status == SV_ERR_LOCKED ||
	    (def = sso_op_find((unsigned)op)) == NULL || def->log == NULL)
		return;
	sso_daemon_who(&c->caller, w, sizeof(w));
	if (status != 0 && def->log->refused != NULL)
		sso_daemon_log_uid(d, c->caller.uid, def->log->refused, m, "%s for %s: %s",
		    def->log->refused, w, m);
	else if (status == 0)
		sso_daemon_log(d, "%s by %s%s", def->log->ok, w, def->log->ok_tail);
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

	if ((r = sso_shares_kdf_begin(d->shares, c->uid, memory, sso_daemon_now_ms(), msg)) != 0)
		return r;
	kdf_counted = 1;
	key_release(d);
	/* this worker is busy for a while: keep one free for the others */
	sso_daemon_pool_before_wait(d);
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

const struct sso_key_hooks sso_daemon_key_hooks = {
	hook_kdf_begin, hook_kdf_end, hook_exclusive,
};

/*
 * A shared vault whose master secret another host rotated: take the new
 * one before serving (docs/hosts.md), under the exclusive key lock, or
 * lock if this host's slot was removed.
 */
static int
keys_stale(struct sso_daemon *d, int have_keylock)
{
	struct vault *v = sso_service_vault(d->svc);
	int stale;

	if (!vault_shared(v))
		return 0;
	if (!have_keylock)
		pthread_rwlock_rdlock(&d->keylock);
	stale = vault_keys_stale(v);
	if (!have_keylock)
		pthread_rwlock_unlock(&d->keylock);
	return stale;
}

static void
keys_follow(struct sso_daemon *d)
{
	struct vault *v = sso_service_vault(d->svc);

	if (!keys_stale(d, 0))
		return;
	pthread_rwlock_wrlock(&d->keylock);
	if (vault_keys_stale(v)) {
		if (vault_keys_refresh(v) == 0)
			sso_daemon_log(d, "took the master secret of epoch %u, rotated on "
			    "another host", (unsigned)vault_epoch(v));
		else
			sso_daemon_log(d, "%s", vault_errmsg(v));
	}
	pthread_rwlock_unlock(&d->keylock);
}

/* One whole frame: dispatch it under the key lock and answer. */
static int
frame_serve(struct sso_daemon *d, struct conn *c, struct svbuf *reply)
{
	const uint8_t *req = svbuf_ptr(c->in);
	size_t len = svbuf_len(c->in);
	int op = len > 0 ? req[0] : -1, r, status;
	struct job j;

	atomic_fetch_add(&d->serving, 1);
	keys_follow(d);
	if (sso_request_writes(req, len)) {
		memset(&j, 0, sizeof(j));
		j.kind = JOB_WRITE;
		j.caller = &c->caller;
		j.p = req;
		j.len = len;
		j.fd = c->passed_fd;
		j.reply = reply;
		pthread_rwlock_rdlock(&d->keylock);
		(void)sso_daemon_writer_submit(d, &j);
		pthread_rwlock_unlock(&d->keylock);
	} else if (sso_daemon_op_flags(op) & SSO_OPF_KDF) {
		/* shared, none around Argon2id, exclusive to install keys (hooks) */
		key_shared(d);
		status = sso_dispatch(d->svc, &c->caller, req, len, c->passed_fd, reply);
		key_release(d);
		if (kdf_counted)
			sso_shares_kdf_done(d->shares, c->caller.uid,
			    status == SV_ERR_WRONG_KEY || status == SV_ERR_DENIED, sso_daemon_now_ms());
		kdf_counted = 0;
	} else if (sso_daemon_op_flags(op) & SSO_OPF_KEYS) {
		pthread_rwlock_wrlock(&d->keylock);
		(void)sso_dispatch(d->svc, &c->caller, req, len, c->passed_fd, reply);
		pthread_rwlock_unlock(&d->keylock);
	} else {
		pthread_rwlock_rdlock(&d->keylock);
		(void)sso_dispatch(d->svc, &c->caller, req, len, c->passed_fd, reply);
		pthread_rwlock_unlock(&d->keylock);
	}
	atomic_fetch_sub(&d->serving, 1);
	sso_daemon_frame_log(d, c, op, reply);
	r = sso_daemon_frame_send(c->fd, svbuf_ptr(reply), svbuf_len(reply));
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

void
sso_daemon_conn_serve(struct sso_daemon *d, struct conn *c, struct svbuf *reply, struct round *rd)
{
	char msg[SV_MSG_MAX], w[300];
	int err = 0, expired;

again:
	msg[0] = '\0';
	atomic_store(&c->busy, 1);
	switch (conn_read(d, c, &err, msg)) {
	case RD_AGAIN:
		if (sso_daemon_conn_arm(d, c, EPOLL_CTL_MOD) != 0)
			sso_daemon_conn_close(d, c);
		return;
	case RD_CLOSED:
		if (atomic_load(&c->expired) == EXP_IDLE) {
			sso_daemon_who(&c->caller, w, sizeof(w));
			sso_daemon_log_uid(d, c->caller.uid, "idle connection closed", NULL,
			    "closed a connection of %s: idle for %u s", w, d->idle_ms / 1000);
		}
		sso_daemon_conn_close(d, c);
		return;
	case RD_ERROR:
		sso_daemon_who(&c->caller, w, sizeof(w));
		if ((expired = atomic_load(&c->expired)) == EXP_SLOW) {
			/* the reaper ended its receiving side: the request came too slowly */
			err = sv_fail(msg, SV_ERR_PROTOCOL,
			    "timed out: a request must arrive whole within %u s "
			    "(ssovaultd --request-timeout)", d->request_ms / 1000);
			sso_daemon_log_uid(d, c->caller.uid, "request timed out", NULL,
			    "timed out a request of %s: %zu of %zu bytes in %u s; connection closed",
			    w, c->body_got, c->body_len, d->request_ms / 1000);
		} else if (err == SV_ERR_UNREACHABLE) {
			sso_daemon_log_uid(d, c->caller.uid, "request refused", msg,
			    "refused a request of %s: %s; connection closed", w, msg);
		} else {
			sso_daemon_log_uid(d, c->caller.uid, "protocol error", msg,
			    "protocol error from %s: %s; connection closed", w, msg);
		}
		if (err != SV_ERR_TRUNCATED || expired == EXP_SLOW) {
			send_error(c->fd, err, msg);
			conn_drain(c->fd);
		}
		sso_daemon_conn_close(d, c);
		return;
	case RD_FRAME:
	case RD_MORE:
		break;
	}
	if (rd != NULL) {
		/* a rotation seen from here: the round ends, frame_serve follows it */
		if (!keys_stale(d, rd->locked) && sso_daemon_round_add(d, rd, c))
			return;
		/* a write or a key change: answer the round first, in order */
		sso_daemon_round_finish(d, rd);
	}
	if (frame_serve(d, c, reply) != 0 || sso_daemon_conn_next(d, c) != 0) {
		sso_daemon_conn_close(d, c);
		return;
	}
	/* the next frame was read ahead: the socket will not say so */
	if (c->ahead_off < c->ahead_len) {
		rd = NULL;
		goto again;
	}
	/* never in a round: its other connections' replies wait for it */
	if (rd == NULL && conn_stick(d, c))
		goto again;
	if (sso_daemon_conn_arm(d, c, EPOLL_CTL_MOD) != 0)
		sso_daemon_conn_close(d, c);
}

