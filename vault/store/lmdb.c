/*
 * The LMDB backend of the storage interface (store.h).  One MDB_env per
 * store, one named database per table, MDB_NOTLS so that read transactions
 * are not bound to threads, default durability (fsync at every commit).
 * LMDB return codes are translated here, once, into SV_ERR_* codes with
 * mdb_strerror()'s text kept in the store's message buffer.
 *
 * LMDB frees a write transaction's cursors and child transactions when the
 * transaction ends, and wants a read transaction's cursors closed by hand;
 * the wrappers below close them all at the end and mark them dead, so that
 * a late close or abort by the caller is harmless instead of a double free.
 *
 * Growth.  mdb_env_set_mapsize() unmaps and maps the file again, so no
 * transaction of this process (nor any call that reads the meta pages) may
 * run meanwhile.  Every top-level transaction and every such call passes the
 * gate (a count under a mutex); a thread that wants to grow closes the gate
 * to newcomers, waits at most GROW_WAIT_MS for the count to drop to zero,
 * remaps, and opens it again.  It gives up rather than wait longer, so a
 * transaction held for long (a backup) delays a growth, never deadlocks it;
 * after a wait in vain, writes go on without one for GROW_BACKOFF_MS or
 * until no transaction is open.
 * A thread that holds a transaction itself never waits at the gate (it
 * would wait for itself) and never grows.  A write grows the map before it
 * begins when less than a quarter of it (and at most GROW_ROOM_MAX) is left
 * beyond the data, or when an earlier write found it full.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include <lmdb.h>

#include "store/store.h"

#define STORE_MAX_DBS 16
#define STORE_MAX_READERS 256
#define STORE_FREE_DBI 0		/* LMDB's free list: readable, never written by us */
#define GROW_WAIT_MS 1000		/* the longest a growth waits for open transactions */
#define GROW_BACKOFF_MS 5000		/* after such a wait in vain, writes go on without one */
#define GROW_ROOM_MAX ((size_t)128 << 20)	/* room kept beyond the data, at most */
#define GROW_ALIGN ((size_t)64 << 10)

struct vault_store {
	MDB_env *env;
	MDB_dbi dbi[VAULT_STORE_MAX_TABLES];
	MDB_dbi main_dbi;		/* the table of tables */
	unsigned ntables;
	char *msg;
	atomic_uint live;
	size_t psize;
	size_t max_size;		/* the map grows up to this */
	int fixed;			/* the map never grows */
	int gate_ok;			/* gmu and gcv are initialised */
	pthread_mutex_t gmu;
	pthread_cond_t gcv;		/* CLOCK_MONOTONIC */
	unsigned active;		/* transactions and map readers past the gate */
	int growing;			/* the gate is closed to newcomers */
	struct timespec grow_after;	/* no growth before (a wait was in vain) */
	atomic_int want_grow;		/* a write found the map full below the ceiling */
};

struct vault_store_txn {
	struct vault_store *s;
	MDB_txn *txn;			/* NULL once ended */
	struct vault_store_txn *parent;	/* NULL for a top-level transaction */
	struct vault_store_txn *child;	/* the open nested transaction */
	struct vault_store_cursor *cursors;
	int write;
	int gated;			/* holds a place past the gate */
};

/*
 * Top-level transactions (of any store) this thread began and has not
 * ended.  Transactions moved between threads may skew it; it only decides
 * whether a thread may wait at the gate or grow, never whether a remap may
 * happen (that is decided by the count under the gate's mutex).
 */
static _Thread_local int store_held;

struct vault_store_cursor {
	struct vault_store_txn *t;	/* NULL once the transaction ended */
	MDB_cursor *mc;
	struct vault_store_cursor *next;
};

static int
store_fail(char *msg, int rc, const char *what)
{
	int err;

	switch (rc) {
	case MDB_MAP_FULL:
		err = SV_ERR_MAP_FULL;
		break;
	case EACCES:
	case EROFS:
		err = SV_ERR_READ_ONLY;
		break;
	case ENOSPC:
		err = SV_ERR_NO_SPACE;
		break;
	case MDB_NOTFOUND:
		err = SV_ERR_NOT_FOUND;
		break;
	case MDB_KEYEXIST:
		err = SV_ERR_EXISTS;
		break;
	case ENOMEM:
		err = SV_ERR_NOMEM;
		break;
	case MDB_INVALID:
		err = SV_ERR_BAD_FORMAT;
		break;
	case MDB_VERSION_MISMATCH:
		err = SV_ERR_VERSION;
		break;
	default:
		err = SV_ERR_STORAGE;
		break;
	}
	switch (err) {
	case SV_ERR_MAP_FULL:
		return sv_fail(msg, err, "%s: vault is full (the LMDB map size is "
		    "reached; SSOVAULT_MAP_SIZE sets a larger one)", what);
	case SV_ERR_READ_ONLY:
		return sv_fail(msg, err, "%s: vault is read-only (%s)", what,
		    mdb_strerror(rc));
	case SV_ERR_NO_SPACE:
		return sv_fail(msg, err, "%s: no space left on device", what);
	default:
		return sv_fail(msg, err, "%s: %s", what, mdb_strerror(rc));
	}
}

/* --- the gate ------------------------------------------------------------ */

static void
gate_enter(struct vault_store *s)
{
	pthread_mutex_lock(&s->gmu);
	while (s->growing && store_held <= 0)
		pthread_cond_wait(&s->gcv, &s->gmu);
	s->active++;
	pthread_mutex_unlock(&s->gmu);
	store_held++;
}

static void
gate_leave(struct vault_store *s)
{
	pthread_mutex_lock(&s->gmu);
	if (--s->active == 0) {
		if (s->growing)
			pthread_cond_broadcast(&s->gcv);
		/* whatever held the growth back has ended */
		s->grow_after.tv_sec = 0;
	}
	pthread_mutex_unlock(&s->gmu);
	store_held--;
}

/* The sizes, read from the meta pages; call past the gate or before sharing s. */
static int
sizes_read(struct vault_store *s, struct vault_store_size *ret)
{
	MDB_envinfo info;
	int rc;

	if ((rc = mdb_env_info(s->env, &info)) != 0)
		return rc;
	ret->map_size = info.me_mapsize;
	ret->max_size = s->max_size > info.me_mapsize ? s->max_size : info.me_mapsize;
	ret->file_bytes = ((size_t)info.me_last_pgno + 1) * s->psize;
	return 0;
}

static size_t
grow_room(const struct vault_store *s, size_t map)
{
	size_t room = s->max_size / 16;

	if (room > GROW_ROOM_MAX)
		room = GROW_ROOM_MAX;
	return room > map / 4 ? room : map / 4;
}

/* The map a write should find, or 0 if the one there will do. */
static size_t
grow_target(struct vault_store *s, const struct vault_store_size *z)
{
	size_t room, want;

	if (s->fixed || z->map_size >= s->max_size)
		return 0;
	room = grow_room(s, z->map_size);
	if (!atomic_load(&s->want_grow) && z->map_size > z->file_bytes &&
	    z->map_size - z->file_bytes >= room)
		return 0;
	want = z->file_bytes + 2 * room;
	if (want < z->map_size * 2)
		want = z->map_size * 2;
	want = (want + GROW_ALIGN - 1) / GROW_ALIGN * GROW_ALIGN;
	return want < s->max_size ? want : s->max_size;
}

/*
 * Remap at size bytes (0: enough for the data another process wrote past
 * this map, with room beyond it).  Called with the gate closed and nothing
 * past it, or before s is shared.  LMDB unmaps before it maps again and
 * cannot go back if the new map fails: the address space is tried first.
 */
static int
map_set(struct vault_store *s, size_t size)
{
	struct vault_store_size z;
	void *p;
	int rc;

	if ((rc = sizes_read(s, &z)) != 0)
		return rc;
	if (size == 0) {
		/* the meta pages are within any map; LMDB rounds up to the data */
		size = z.file_bytes + 2 * grow_room(s, z.map_size);
	} else if (size <= z.map_size) {
		return 0;	/* another thread grew it meanwhile */
	}
	size = (size + GROW_ALIGN - 1) / GROW_ALIGN * GROW_ALIGN;
	if (size > s->max_size && z.file_bytes < s->max_size)
		size = s->max_size;
	p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return ENOMEM;
	munmap(p, size);
	return mdb_env_set_mapsize(s->env, size);
}

static void
deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * Close the gate, wait for the transactions past it to end (at most
 * GROW_WAIT_MS), remap, open the gate.  SV_ERR_TIMEOUT if they did not end.
 */
static int
store_remap(struct vault_store *s, size_t size)
{
	struct timespec until;
	int rc = 0;

	if (store_held > 0)
		return sv_fail(s->msg, SV_ERR_CONFLICT,
		    "the vault's map cannot grow under an open transaction");
	pthread_mutex_lock(&s->gmu);
	if (s->growing) {
		/* another thread is growing it: its size will do */
		while (s->growing)
			pthread_cond_wait(&s->gcv, &s->gmu);
		pthread_mutex_unlock(&s->gmu);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	if (s->active > 0 && (until.tv_sec < s->grow_after.tv_sec ||
	    (until.tv_sec == s->grow_after.tv_sec && until.tv_nsec < s->grow_after.tv_nsec))) {
		/* a long transaction held the last growth back: do not stall every write */
		pthread_mutex_unlock(&s->gmu);
		return sv_fail(s->msg, SV_ERR_TIMEOUT,
		    "the vault's map could not grow: transactions stayed open");
	}
	s->growing = 1;
	deadline_in(&until, GROW_WAIT_MS);
	while (s->active > 0 && rc == 0)
		rc = pthread_cond_timedwait(&s->gcv, &s->gmu, &until);
	if (s->active == 0) {
		rc = map_set(s, size);
	} else {
		rc = ETIMEDOUT;
		deadline_in(&s->grow_after, GROW_BACKOFF_MS);
	}
	s->growing = 0;
	pthread_cond_broadcast(&s->gcv);
	pthread_mutex_unlock(&s->gmu);
	if (rc == ETIMEDOUT)
		return sv_fail(s->msg, SV_ERR_TIMEOUT,
		    "the vault's map could not grow: transactions stayed open");
	if (rc != 0)
		return store_fail(s->msg, rc, "growing the vault's map");
	return 0;
}

/* Before a write begins: grow the map if little of it is left. */
static void
store_grow_ahead(struct vault_store *s)
{
	struct vault_store_size z;
	size_t want;
	int rc;

	if (s->fixed || store_held > 0)
		return;
	gate_enter(s);
	rc = sizes_read(s, &z);
	gate_leave(s);
	if (rc != 0 || (want = grow_target(s, &z)) == 0)
		return;
	/* a failure only means the write runs in the map there is */
	if (store_remap(s, want) == 0)
		atomic_store(&s->want_grow, 0);
}

int
vault_store_grow(struct vault_store *s, size_t room)
{
	struct vault_store_size z;
	size_t want;
	int rc, r;

	if (s->fixed)
		return 0;
	if (store_held > 0)
		return sv_fail(s->msg, SV_ERR_CONFLICT,
		    "the vault's map cannot grow under an open transaction");
	gate_enter(s);
	rc = sizes_read(s, &z);
	gate_leave(s);
	if (rc != 0)
		return store_fail(s->msg, rc, "storage info");
	want = room > s->max_size - z.file_bytes || z.file_bytes > s->max_size ?
	    s->max_size : z.file_bytes + room;
	want = (want + GROW_ALIGN - 1) / GROW_ALIGN * GROW_ALIGN;
	if (want > s->max_size)
		want = s->max_size;
	if (want <= z.map_size)
		return 0;
	r = store_remap(s, want);
	return r == SV_ERR_TIMEOUT ? 0 : r;
}

/*
 * The map is full.  Below the ceiling the next write grows it; at the
 * ceiling, say which setting raises it.
 */
static int
store_full(struct vault_store *s, const char *what)
{
	struct vault_store_size z;
	int rc;

	if (s->fixed)
		return store_fail(s->msg, MDB_MAP_FULL, what);
	memset(&z, 0, sizeof(z));
	/* this thread is inside a transaction: it passes the gate at once */
	gate_enter(s);
	rc = sizes_read(s, &z);
	gate_leave(s);
	if (rc == 0 && z.map_size < s->max_size) {
		atomic_store(&s->want_grow, 1);
		return sv_fail(s->msg, SV_ERR_MAP_FULL, "%s: vault is full for now "
		    "(its map grows at the next write: try again)", what);
	}
	return sv_fail(s->msg, SV_ERR_MAP_FULL, "%s: vault is full (its ceiling is "
	    "reached; SSOVAULT_MAX_SIZE sets a higher one)", what);
}

static int
store_err(struct vault_store *s, int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return store_full(s, what);
	return store_fail(s->msg, rc, what);
}

/*
 * A data file shorter than its meta page says would be mapped past its end,
 * and LMDB would die of SIGBUS on the first read of a missing page: refuse it
 * here, before any transaction touches the map.
 */
static int
store_check_size(struct vault_store *s)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat sb;
	int fd, rc;

	if ((rc = mdb_env_info(s->env, &info)) != 0 ||
	    (rc = mdb_env_stat(s->env, &st)) != 0 ||
	    (rc = mdb_env_get_fd(s->env, &fd)) != 0)
		return store_fail(s->msg, rc, "storage info");
	if (fstat(fd, &sb) != 0)
		return store_fail(s->msg, errno, "storage info");
	if (sb.st_size < 0 || (size_t)info.me_last_pgno >= SIZE_MAX / st.ms_psize ||
	    (size_t)sb.st_size < ((size_t)info.me_last_pgno + 1) * st.ms_psize)
		return sv_fail(s->msg, SV_ERR_BAD_FORMAT,
		    "data file is truncated (%lld bytes, needs %zu)",
		    (long long)sb.st_size,
		    ((size_t)info.me_last_pgno + 1) * st.ms_psize);
	return 0;
}

static int
store_open_tables(struct vault_store *s, unsigned flags,
    const char *const *tables, unsigned ntables)
{
	MDB_txn *txn = NULL;
	unsigned i, dflags = (flags & VAULT_STORE_CREATE) ? MDB_CREATE : 0;
	int rc, r;

	rc = mdb_txn_begin(s->env, NULL,
	    (flags & VAULT_STORE_CREATE) ? 0 : MDB_RDONLY, &txn);
	if (rc != 0) {
		r = store_fail(s->msg, rc, "begin transaction");
		goto out;
	}
	for (i = 0; i < ntables; i++) {
		if ((rc = mdb_dbi_open(txn, tables[i], dflags, &s->dbi[i])) != 0) {
			r = store_fail(s->msg, rc, tables[i]);
			goto out;
		}
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &s->main_dbi)) != 0) {
		r = store_fail(s->msg, rc, "open tables");
		goto out;
	}
	/* handles opened in a transaction survive only if it commits */
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		r = store_fail(s->msg, rc, "open tables");
		goto out;
	}
	s->ntables = ntables;
	r = 0;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return r;
}

static int
gate_init(struct vault_store *s)
{
	pthread_condattr_t ca;
	int ok;

	if (pthread_condattr_init(&ca) != 0)
		return SV_ERR_NOMEM;
	ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	    pthread_cond_init(&s->gcv, &ca) == 0;
	pthread_condattr_destroy(&ca);
	if (!ok)
		return SV_ERR_NOMEM;
	if (pthread_mutex_init(&s->gmu, NULL) != 0) {
		pthread_cond_destroy(&s->gcv);
		return SV_ERR_NOMEM;
	}
	s->gate_ok = 1;
	return 0;
}

/*
 * The page size, the ceiling, and a first growth if the data left little
 * room in the map; before s is shared, so without the gate.
 */
static int
sizes_init(struct vault_store *s, size_t max_size, size_t max_room, int growable)
{
	struct vault_store_size z;
	MDB_stat st;
	size_t want;
	int rc;

	if ((rc = mdb_env_stat(s->env, &st)) != 0)
		return store_fail(s->msg, rc, "storage info");
	s->psize = st.ms_psize;
	if ((rc = sizes_read(s, &z)) != 0)
		return store_fail(s->msg, rc, "storage info");
	s->fixed = !growable || max_size == 0;
	s->max_size = s->fixed || max_size < z.map_size ? z.map_size : max_size;
	if (growable && z.file_bytes >= s->max_size) {
		/* more data than the ceiling: keep room to delete some */
		s->max_size = z.file_bytes + max_room;
		s->fixed = 0;
	}
	/* a failure only means the first write runs in the map there is */
	if ((want = grow_target(s, &z)) != 0)
		(void)map_set(s, want);
	return 0;
}

static int
env_new(struct vault_store *s, size_t map_size, char *msg)
{
	int rc;

	if ((rc = mdb_env_create(&s->env)) != 0) {
		s->env = NULL;
		return store_fail(msg, rc, "create environment");
	}
	if ((rc = mdb_env_set_mapsize(s->env, map_size)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, STORE_MAX_DBS)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, STORE_MAX_READERS)) != 0)
		return store_fail(msg, rc, "configure environment");
	return 0;
}

int
vault_store_open(const char *path, size_t map_size, size_t max_size,
    size_t max_room, unsigned flags, const char *const *tables,
    unsigned ntables, char *msg, struct vault_store **ret)
{
	struct vault_store *s = NULL;
	unsigned eflags = MDB_NOTLS;
	int rc, r, rdonly = 0;

	if (ntables == 0 || ntables > VAULT_STORE_MAX_TABLES || map_size == 0)
		return sv_fail(msg, SV_ERR_INVALID, "storage: bad table count or map size");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return sv_fail(msg, SV_ERR_NOMEM, "out of memory");
	s->msg = msg;
	atomic_init(&s->live, 0);
	atomic_init(&s->want_grow, 0);
	if (gate_init(s) != 0) {
		r = sv_fail(msg, SV_ERR_NOMEM, "cannot create the store's locks");
		goto out;
	}
	if (flags & VAULT_STORE_CHECK)
		eflags |= MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK;
	if ((r = env_new(s, map_size, msg)) != 0)
		goto out;
	rc = mdb_env_open(s->env, path, eflags, 0600);
	if ((rc == EACCES || rc == EROFS) && !(flags & (VAULT_STORE_CREATE | VAULT_STORE_CHECK))) {
		/*
		 * A data file we may read but not write: open it read-only, so
		 * that reads still work and every write fails with "read-only"
		 * at its first transaction.  A failed open leaves the env
		 * unusable; start again with a fresh one.
		 */
		mdb_env_close(s->env);
		s->env = NULL;
		if ((r = env_new(s, map_size, msg)) != 0)
			goto out;
		rc = mdb_env_open(s->env, path, eflags | MDB_RDONLY, 0600);
		rdonly = 1;
	}
	if (rc != 0) {
		r = store_fail(msg, rc, path);
		goto out;
	}
	if ((r = store_check_size(s)) != 0 ||
	    (r = sizes_init(s, max_size, max_room,
	    !rdonly && !(flags & VAULT_STORE_CHECK))) != 0 ||
	    (r = store_open_tables(s, flags, tables, ntables)) != 0)
		goto out;
	*ret = s;
	s = NULL;
	r = 0;
out:
	vault_store_close(s);
	return r;
}

void
vault_store_close(struct vault_store *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->gate_ok) {
		pthread_mutex_destroy(&s->gmu);
		pthread_cond_destroy(&s->gcv);
	}
	free(s);
}

unsigned
vault_store_live_txns(struct vault_store *s)
{
	return atomic_load(&s->live);
}

/* Close t's cursors and end its child; t's own MDB_txn is left to the caller. */
static void
txn_release(struct vault_store_txn *t)
{
	struct vault_store_cursor *c, *next;
	struct vault_store_txn *child = t->child;

	if (child != NULL && child->txn != NULL) {
		txn_release(child);
		mdb_txn_abort(child->txn);
		child->txn = NULL;
		child->parent = NULL;
		atomic_fetch_sub(&t->s->live, 1);
	}
	t->child = NULL;
	for (c = t->cursors; c != NULL; c = next) {
		next = c->next;
		mdb_cursor_close(c->mc);
		c->mc = NULL;
		c->t = NULL;
		c->next = NULL;
	}
	t->cursors = NULL;
}

/*
 * LMDB reports a short write of its pages as EIO ("which error code?" says
 * its source): on a filesystem with no blocks left, call it what it is.
 */
static int
commit_errno(struct vault_store *s, int rc)
{
	struct statvfs sv;
	int fd;

	if (rc == EIO && mdb_env_get_fd(s->env, &fd) == 0 &&
	    fstatvfs(fd, &sv) == 0 && sv.f_bavail == 0)
		return ENOSPC;
	return rc;
}

static int
txn_dead(const struct vault_store_txn *t)
{
	return t == NULL || t->txn == NULL || t->child != NULL;
}

static int
txn_dead_fail(const struct vault_store_txn *t)
{
	if (t != NULL && t->txn != NULL && t->child != NULL)
		return sv_fail(t->s->msg, SV_ERR_INVALID,
		    "transaction used while a nested one is open");
	return sv_fail(t != NULL ? t->s->msg : NULL, SV_ERR_INVALID,
	    "transaction has already ended");
}

int
vault_store_txn_begin(struct vault_store *s, struct vault_store_txn *parent,
    int write, struct vault_store_txn **ret)
{
	struct vault_store_txn *t;
	int rc;

	if (parent != NULL) {
		if (txn_dead(parent))
			return txn_dead_fail(parent);
		if (!parent->write)
			return sv_fail(s->msg, SV_ERR_INVALID,
			    "a nested transaction needs a write transaction as parent");
		write = 1;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return sv_fail(s->msg, SV_ERR_NOMEM, "out of memory");
	t->s = s;
	t->write = write != 0;
	if (parent == NULL) {
		if (write)
			store_grow_ahead(s);
		gate_enter(s);
		t->gated = 1;
	}
	rc = mdb_txn_begin(s->env, parent != NULL ? parent->txn : NULL,
	    write ? 0 : MDB_RDONLY, &t->txn);
	if (rc == MDB_MAP_RESIZED && t->gated && store_held == 1) {
		/* another process grew the data past this map: take its size */
		gate_leave(s);
		(void)store_remap(s, 0);
		gate_enter(s);
		rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	}
	if (rc != 0) {
		if (t->gated)
			gate_leave(s);
		free(t);
		return store_fail(s->msg, rc, "begin transaction");
	}
	atomic_fetch_add(&s->live, 1);
	if (parent != NULL) {
		t->parent = parent;
		parent->child = t;
	}
	*ret = t;
	return 0;
}

static void
txn_unlink(struct vault_store_txn *t)
{
	if (t->parent != NULL && t->parent->child == t)
		t->parent->child = NULL;
	t->parent = NULL;
}

int
vault_store_txn_commit(struct vault_store_txn *t)
{
	return vault_store_txn_commit_flags(t, 0);
}

int
vault_store_txn_commit_flags(struct vault_store_txn *t, int nosync)
{
	int rc, r = 0;

	if (t == NULL)
		return SV_ERR_INVALID;
	if (t->txn == NULL) {
		r = txn_dead_fail(t);
		txn_unlink(t);
		free(t);
		return r;
	}
	if (t->child != NULL) {
		r = sv_fail(t->s->msg, SV_ERR_INVALID,
		    "commit with a nested transaction still open: aborted");
		txn_release(t);
		mdb_txn_abort(t->txn);
	} else {
		txn_release(t);
		/* the env flag is per process; only one thread commits at a time */
		if (nosync && t->parent == NULL)
			mdb_env_set_flags(t->s->env, MDB_NOSYNC, 1);
		if ((rc = mdb_txn_commit(t->txn)) != 0)
			r = store_err(t->s, commit_errno(t->s, rc), "commit");
		if (nosync && t->parent == NULL)
			mdb_env_set_flags(t->s->env, MDB_NOSYNC, 0);
	}
	t->txn = NULL;
	if (t->gated)
		gate_leave(t->s);
	atomic_fetch_sub(&t->s->live, 1);
	txn_unlink(t);
	free(t);
	return r;
}

void
vault_store_txn_abort(struct vault_store_txn *t)
{
	if (t == NULL)
		return;
	if (t->txn != NULL) {
		txn_release(t);
		mdb_txn_abort(t->txn);
		t->txn = NULL;
		if (t->gated)
			gate_leave(t->s);
		atomic_fetch_sub(&t->s->live, 1);
	}
	txn_unlink(t);
	free(t);
}

int
vault_store_txn_is_write(const struct vault_store_txn *t)
{
	return t->write;
}

static int
check_tab(struct vault_store_txn *t, unsigned tab)
{
	if (txn_dead(t))
		return txn_dead_fail(t);
	if (tab >= t->s->ntables)
		return sv_fail(t->s->msg, SV_ERR_INVALID, "no table %u", tab);
	return 0;
}

static int
check_write(struct vault_store_txn *t, unsigned tab)
{
	int r;

	if ((r = check_tab(t, tab)) != 0)
		return r;
	if (!t->write)
		return sv_fail(t->s->msg, SV_ERR_INVALID,
		    "write in a read-only transaction");
	return 0;
}

int
vault_store_get(struct vault_store_txn *t, unsigned tab,
    const void *key, size_t klen, const uint8_t **ret_p, size_t *ret_len)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc, r;

	if ((r = check_tab(t, tab)) != 0)
		return r;
	if ((rc = mdb_get(t->txn, t->s->dbi[tab], &k, &v)) != 0)
		return store_fail(t->s->msg, rc, "get");
	*ret_p = v.mv_data;
	*ret_len = v.mv_size;
	return 0;
}

int
vault_store_put(struct vault_store_txn *t, unsigned tab,
    const void *key, size_t klen, const void *val, size_t vlen,
    unsigned flags)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc, r;

	if ((r = check_write(t, tab)) != 0)
		return r;
	rc = mdb_put(t->txn, t->s->dbi[tab], &k, &v,
	    (flags & VAULT_STORE_NOOVERWRITE) ? MDB_NOOVERWRITE : 0);
	if (rc != 0)
		return store_err(t->s, rc, "put");
	return 0;
}

int
vault_store_del(struct vault_store_txn *t, unsigned tab,
    const void *key, size_t klen)
{
	MDB_val k = { klen, (void *)key };
	int rc, r;

	if ((r = check_write(t, tab)) != 0)
		return r;
	if ((rc = mdb_del(t->txn, t->s->dbi[tab], &k, NULL)) != 0)
		return store_err(t->s, rc, "delete");
	return 0;
}

int
vault_store_entries(struct vault_store_txn *t, unsigned tab, size_t *ret)
{
	MDB_stat st;
	int rc, r;

	if ((r = check_tab(t, tab)) != 0)
		return r;
	if ((rc = mdb_stat(t->txn, t->s->dbi[tab], &st)) != 0)
		return store_fail(t->s->msg, rc, "table statistics");
	*ret = st.ms_entries;
	return 0;
}

int
vault_store_cursor_open(struct vault_store_txn *t, unsigned tab,
    struct vault_store_cursor **ret)
{
	struct vault_store_cursor *c;
	int rc, r;

	if ((r = check_tab(t, tab)) != 0)
		return r;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return sv_fail(t->s->msg, SV_ERR_NOMEM, "out of memory");
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[tab], &c->mc)) != 0) {
		free(c);
		return store_fail(t->s->msg, rc, "open cursor");
	}
	c->t = t;
	c->next = t->cursors;
	t->cursors = c;
	*ret = c;
	return 0;
}

static int
cursor_check(struct vault_store_cursor *c)
{
	if (c == NULL || c->t == NULL)
		return sv_fail(NULL, SV_ERR_INVALID, "cursor's transaction has ended");
	if (txn_dead(c->t))
		return txn_dead_fail(c->t);
	return 0;
}

int
vault_store_cursor_get(struct vault_store_cursor *c, enum vault_store_op op,
    const void *key, size_t klen, const uint8_t **ret_key, size_t *ret_klen,
    const uint8_t **ret_val, size_t *ret_vlen)
{
	MDB_val k = { klen, (void *)key }, v = { 0, NULL };
	MDB_cursor_op mop;
	int rc, r;

	if ((r = cursor_check(c)) != 0)
		return r;
	switch (op) {
	case VAULT_STORE_FIRST:
		mop = MDB_FIRST;
		break;
	case VAULT_STORE_NEXT:
		mop = MDB_NEXT;
		break;
	case VAULT_STORE_LAST:
		mop = MDB_LAST;
		break;
	case VAULT_STORE_SEEK:
		mop = MDB_SET_RANGE;
		break;
	case VAULT_STORE_CURRENT:
		mop = MDB_GET_CURRENT;
		break;
	default:
		return sv_fail(c->t->s->msg, SV_ERR_INVALID, "bad cursor operation");
	}
	rc = mdb_cursor_get(c->mc, &k, &v, mop);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail(c->t->s->msg, rc, "cursor");
	*ret_key = k.mv_data;
	*ret_klen = k.mv_size;
	*ret_val = v.mv_data;
	*ret_vlen = v.mv_size;
	return 1;
}

int
vault_store_cursor_put_current(struct vault_store_cursor *c,
    const void *val, size_t vlen)
{
	MDB_val k, old, v = { vlen, (void *)val };
	int rc, r;

	if ((r = cursor_check(c)) != 0)
		return r;
	if (!c->t->write)
		return sv_fail(c->t->s->msg, SV_ERR_INVALID,
		    "write in a read-only transaction");
	/* MDB_CURRENT wants the current key passed back unchanged */
	if ((rc = mdb_cursor_get(c->mc, &k, &old, MDB_GET_CURRENT)) != 0 ||
	    (rc = mdb_cursor_put(c->mc, &k, &v, MDB_CURRENT)) != 0)
		return store_err(c->t->s, rc, "replace");
	return 0;
}

int
vault_store_cursor_del(struct vault_store_cursor *c)
{
	int rc, r;

	if ((r = cursor_check(c)) != 0)
		return r;
	if (!c->t->write)
		return sv_fail(c->t->s->msg, SV_ERR_INVALID,
		    "write in a read-only transaction");
	if ((rc = mdb_cursor_del(c->mc, 0)) != 0)
		return store_err(c->t->s, rc, "delete");
	return 0;
}

void
vault_store_cursor_close(struct vault_store_cursor *c)
{
	struct vault_store_cursor **pp;

	if (c == NULL)
		return;
	if (c->t != NULL) {
		for (pp = &c->t->cursors; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == c) {
				*pp = c->next;
				break;
			}
		}
		mdb_cursor_close(c->mc);
	}
	free(c);
}

int
vault_store_info(struct vault_store *s, struct vault_store_size *ret)
{
	struct vault_store_size z;
	int rc;

	gate_enter(s);
	rc = sizes_read(s, &z);
	gate_leave(s);
	if (rc != 0)
		return store_fail(s->msg, rc, "storage info");
	*ret = z;
	return 0;
}

int
vault_store_txn_used(struct vault_store_txn *t, size_t *ret)
{
	MDB_stat st;
	size_t pages = 2;	/* the meta pages */
	unsigned i;
	int rc;

	if (txn_dead(t))
		return txn_dead_fail(t);
	for (i = 0; i < t->s->ntables + 2; i++) {
		MDB_dbi dbi = i < t->s->ntables ? t->s->dbi[i] :
		    i == t->s->ntables ? t->s->main_dbi : STORE_FREE_DBI;

		if ((rc = mdb_stat(t->txn, dbi, &st)) != 0)
			return store_fail(t->s->msg, rc, "table statistics");
		pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
	}
	*ret = pages * t->s->psize;
	return 0;
}

int
vault_store_copy_fd(struct vault_store *s, int fd)
{
	int rc;

	/* the copy runs a read transaction of its own: past the gate */
	gate_enter(s);
	rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
	gate_leave(s);
	if (rc != 0)
		return store_fail(s->msg, rc, "copy");
	return 0;
}

int
vault_store_sync(struct vault_store *s)
{
	int rc;

	gate_enter(s);
	rc = mdb_env_sync(s->env, 1);
	gate_leave(s);
	if (rc != 0)
		return store_fail(s->msg, rc, "sync");
	return 0;
}
