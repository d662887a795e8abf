/*
 * lmdb.c: the LMDB backend of the storage interface (store.h), and the
 * only file that knows LMDB: its files in the vault directory (data.mdb,
 * lock.mdb), the map and its growth, copy and restore.  One MDB_env per
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
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <time.h>

#include <lmdb.h>

#include "base/paths.h"
#include "store/store.h"

/* Flags of lmdb_open(). */
#define OPEN_CREATE 0x1		/* create missing tables */
#define OPEN_CHECK 0x2		/* path is one file, opened read-only without a
				   lock file (checking a copy) */

/* The files of a vault directory. */
#define DATA_FILE "data.mdb"
#define LOCK_FILE "lock.mdb"
#define RESTORE_FILE "data.mdb.restore"
#define COPY_CHUNK ((size_t)1 << 20)

struct lmdb_store;
static void lmdb_close(struct lmdb_store *s);

#define STORE_MAX_DBS 16
#define STORE_MAX_READERS 256
#define STORE_FREE_DBI 0		/* LMDB's free list: readable, never written by us */
#define GROW_WAIT_MS 1000		/* the longest a growth waits for open transactions */
#define GROW_BACKOFF_MS 5000		/* after such a wait in vain, writes go on without one */
#define GROW_ROOM_MAX ((size_t)128 << 20)	/* room kept beyond the data, at most */
#define GROW_ALIGN ((size_t)64 << 10)

struct lmdb_store {
	struct vault_store base;	/* first: the generic handle */
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

struct lmdb_txn {
	struct vault_store_txn base;	/* first: the generic handle */
	struct lmdb_store *s;
	MDB_txn *txn;			/* NULL once ended */
	struct lmdb_txn *parent;	/* NULL for a top-level transaction */
	struct lmdb_txn *child;	/* the open nested transaction */
	struct lmdb_cursor *cursors;
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

struct lmdb_cursor {
	struct vault_store_cursor base;	/* first: the generic handle */
	struct lmdb_txn *t;	/* NULL once the transaction ended */
	MDB_cursor *mc;
	struct lmdb_cursor *next;
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
gate_enter(struct lmdb_store *s)
{
	pthread_mutex_lock(&s->gmu);
	while (s->growing && store_held <= 0)
		pthread_cond_wait(&s->gcv, &s->gmu);
	s->active++;
	pthread_mutex_unlock(&s->gmu);
	store_held++;
}

static void
gate_leave(struct lmdb_store *s)
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
sizes_read(struct lmdb_store *s, struct vault_store_size *ret)
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
grow_room(const struct lmdb_store *s, size_t map)
{
	size_t room = s->max_size / 16;

	if (room > GROW_ROOM_MAX)
		room = GROW_ROOM_MAX;
	return room > map / 4 ? room : map / 4;
}

/* The map a write should find, or 0 if the one there will do. */
static size_t
grow_target(struct lmdb_store *s, const struct vault_store_size *z)
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
map_set(struct lmdb_store *s, size_t size)
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
store_remap(struct lmdb_store *s, size_t size)
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
store_grow_ahead(struct lmdb_store *s)
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

static int
lmdb_grow(struct lmdb_store *s, size_t room)
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
store_full(struct lmdb_store *s, const char *what)
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
store_err(struct lmdb_store *s, int rc, const char *what)
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
store_check_size(struct lmdb_store *s)
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
store_open_tables(struct lmdb_store *s, unsigned flags,
    const char *const *tables, unsigned ntables)
{
	MDB_txn *txn = NULL;
	unsigned i, dflags = (flags & OPEN_CREATE) ? MDB_CREATE : 0;
	int rc, r;

	rc = mdb_txn_begin(s->env, NULL,
	    (flags & OPEN_CREATE) ? 0 : MDB_RDONLY, &txn);
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
gate_init(struct lmdb_store *s)
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
sizes_init(struct lmdb_store *s, size_t max_size, size_t max_room, int growable)
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
env_new(struct lmdb_store *s, size_t map_size, char *msg)
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

static int
lmdb_open(const char *path, size_t map_size, size_t max_size,
    size_t max_room, unsigned flags, const char *const *tables,
    unsigned ntables, char *msg, struct lmdb_store **ret)
{
	struct lmdb_store *s = NULL;
	unsigned eflags = MDB_NOTLS;
	int rc, r, rdonly = 0;

	if (ntables == 0 || ntables > VAULT_STORE_MAX_TABLES || map_size == 0)
		return sv_fail(msg, SV_ERR_INVALID, "storage: bad table count or map size");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return sv_fail(msg, SV_ERR_NOMEM, "out of memory");
	s->base.ops = &vault_store_lmdb;
	s->msg = msg;
	atomic_init(&s->live, 0);
	atomic_init(&s->want_grow, 0);
	if (gate_init(s) != 0) {
		r = sv_fail(msg, SV_ERR_NOMEM, "cannot create the store's locks");
		goto out;
	}
	if (flags & OPEN_CHECK)
		eflags |= MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK;
	if ((r = env_new(s, map_size, msg)) != 0)
		goto out;
	rc = mdb_env_open(s->env, path, eflags, 0600);
	if ((rc == EACCES || rc == EROFS) && !(flags & (OPEN_CREATE | OPEN_CHECK))) {
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
	    !rdonly && !(flags & OPEN_CHECK))) != 0 ||
	    (r = store_open_tables(s, flags, tables, ntables)) != 0)
		goto out;
	*ret = s;
	s = NULL;
	r = 0;
out:
	lmdb_close(s);
	return r;
}

static void
lmdb_close(struct lmdb_store *s)
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

static unsigned
lmdb_live_txns(struct lmdb_store *s)
{
	return atomic_load(&s->live);
}

/* Close t's cursors and end its child; t's own MDB_txn is left to the caller. */
static void
txn_release(struct lmdb_txn *t)
{
	struct lmdb_cursor *c, *next;
	struct lmdb_txn *child = t->child;

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
commit_errno(struct lmdb_store *s, int rc)
{
	struct statvfs sv;
	int fd;

	if (rc == EIO && mdb_env_get_fd(s->env, &fd) == 0 &&
	    fstatvfs(fd, &sv) == 0 && sv.f_bavail == 0)
		return ENOSPC;
	return rc;
}

static int
txn_dead(const struct lmdb_txn *t)
{
	return t == NULL || t->txn == NULL || t->child != NULL;
}

static int
txn_dead_fail(const struct lmdb_txn *t)
{
	if (t != NULL && t->txn != NULL && t->child != NULL)
		return sv_fail(t->s->msg, SV_ERR_INVALID,
		    "transaction used while a nested one is open");
	return sv_fail(t != NULL ? t->s->msg : NULL, SV_ERR_INVALID,
	    "transaction has already ended");
}

static int
lmdb_txn_begin(struct lmdb_store *s, struct lmdb_txn *parent,
    int write, struct lmdb_txn **ret)
{
	struct lmdb_txn *t;
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
	t->base.ops = &vault_store_lmdb;
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
txn_unlink(struct lmdb_txn *t)
{
	if (t->parent != NULL && t->parent->child == t)
		t->parent->child = NULL;
	t->parent = NULL;
}

static int
lmdb_txn_commit_flags(struct lmdb_txn *t, int nosync)
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

static void
lmdb_txn_abort(struct lmdb_txn *t)
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

static int
check_tab(struct lmdb_txn *t, unsigned tab)
{
	if (txn_dead(t))
		return txn_dead_fail(t);
	if (tab >= t->s->ntables)
		return sv_fail(t->s->msg, SV_ERR_INVALID, "no table %u", tab);
	return 0;
}

static int
check_write(struct lmdb_txn *t, unsigned tab)
{
	int r;

	if ((r = check_tab(t, tab)) != 0)
		return r;
	if (!t->write)
		return sv_fail(t->s->msg, SV_ERR_INVALID,
		    "write in a read-only transaction");
	return 0;
}

static int
lmdb_get(struct lmdb_txn *t, unsigned tab,
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

static int
lmdb_put(struct lmdb_txn *t, unsigned tab,
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

static int
lmdb_del(struct lmdb_txn *t, unsigned tab,
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

static int
lmdb_entries(struct lmdb_txn *t, unsigned tab, size_t *ret)
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

static int
lmdb_cursor_open(struct lmdb_txn *t, unsigned tab,
    struct lmdb_cursor **ret)
{
	struct lmdb_cursor *c;
	int rc, r;

	if ((r = check_tab(t, tab)) != 0)
		return r;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return sv_fail(t->s->msg, SV_ERR_NOMEM, "out of memory");
	c->base.ops = &vault_store_lmdb;
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
cursor_check(struct lmdb_cursor *c)
{
	if (c == NULL || c->t == NULL)
		return sv_fail(NULL, SV_ERR_INVALID, "cursor's transaction has ended");
	if (txn_dead(c->t))
		return txn_dead_fail(c->t);
	return 0;
}

static int
lmdb_cursor_get(struct lmdb_cursor *c, enum vault_store_op op,
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

static int
lmdb_cursor_del(struct lmdb_cursor *c)
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

static void
lmdb_cursor_close(struct lmdb_cursor *c)
{
	struct lmdb_cursor **pp;

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

static int
lmdb_info(struct lmdb_store *s, struct vault_store_size *ret)
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

static int
lmdb_txn_used(struct lmdb_txn *t, size_t *ret)
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

static int
lmdb_copy_fd(struct lmdb_store *s, int fd)
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

static int
lmdb_sync(struct lmdb_store *s)
{
	int rc;

	gate_enter(s);
	rc = mdb_env_sync(s->env, 1);
	gate_leave(s);
	if (rc != 0)
		return store_fail(s->msg, rc, "sync");
	return 0;
}

/* --- the vault directory's files ------------------------------------------ */

/*
 * The path for LMDB to open the directory (name NULL) or a file in it by:
 * through /proc/self/fd, so that it reaches the directory the vault checked
 * and pinned even if a name on the way to it changes.  LMDB opens its
 * files by path, without O_NOFOLLOW; in a checked directory nobody else can
 * plant a link.  Without /proc, the path as given.
 */
static void
loc_path(const struct vault_store_loc *loc, const char *name, char *out, size_t len)
{
	char fdp[64];
	const char *base = fdp;

	snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", loc->dirfd);
	if (access(fdp, F_OK) != 0)
		base = loc->path;
	if (name == NULL)
		snprintf(out, len, "%s", base);
	else
		snprintf(out, len, "%s/%s", base, name);
}

/* LMDB's messages name the path it opened: name the vault's instead. */
static void
msg_fix(char *msg, const char *opened, const char *shown)
{
	char save[SV_MSG_MAX];
	size_t n = strlen(opened);

	if (strcmp(opened, shown) == 0 || strncmp(msg, opened, n) != 0)
		return;
	memcpy(save, msg, sizeof(save));
	snprintf(msg, SV_MSG_MAX, "%s%s", shown, save + n);
}

/*
 * Make a store file 0600 (O_EXCL) before LMDB opens it, so that its mode
 * does not depend on the umask and a planted symbolic link is refused.
 */
static int
file_make(const struct vault_store_loc *loc, const char *name, char *msg)
{
	int fd;

	fd = openat(loc->dirfd, name,
	    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return sv_fail(msg, SV_ERR_EXISTS, "%s already holds a vault", loc->path);
		return vault_path_fail(msg, errno, name);
	}
	/* 0600 is already the mode unless the umask took bits away */
	if (fchmod(fd, 0600) != 0) {
		close(fd);
		return vault_path_fail(msg, errno, name);
	}
	close(fd);
	return 0;
}

/*
 * Make lock.mdb if it is missing.  An existing one is never opened here:
 * closing any descriptor of it would drop the fcntl locks LMDB holds on it
 * for another handle of this process.  With a stale one (create after a
 * crash, no data.mdb) it is replaced.
 */
static int
lock_file_ensure(const struct vault_store_loc *loc, int replace, char *msg)
{
	struct stat sb;
	int r;

	if (fstatat(loc->dirfd, LOCK_FILE, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(sb.st_mode))
			return sv_fail(msg, SV_ERR_INVALID,
			    "%s/%s is a symbolic link", loc->path, LOCK_FILE);
		if (!replace)
			return 0;
		if (unlinkat(loc->dirfd, LOCK_FILE, 0) != 0)
			return vault_path_fail(msg, errno, LOCK_FILE);
	} else if (errno != ENOENT) {
		return vault_path_fail(msg, errno, LOCK_FILE);
	}
	/* another process may have made it in between: that one will do */
	if ((r = file_make(loc, LOCK_FILE, msg)) == SV_ERR_EXISTS && !replace)
		return 0;
	return r;
}

static int
dir_probe(const struct vault_store_loc *loc, char *msg)
{
	struct stat sb;

	if (fstatat(loc->dirfd, DATA_FILE, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return sv_fail(msg, SV_ERR_NO_VAULT, "no vault in %s", loc->path);
		return vault_path_fail(msg, errno, DATA_FILE);
	}
	if (S_ISLNK(sb.st_mode))
		return sv_fail(msg, SV_ERR_INVALID, "%s/%s is a symbolic link",
		    loc->path, DATA_FILE);
	if (!S_ISREG(sb.st_mode))
		return sv_fail(msg, SV_ERR_BAD_FORMAT, "%s/%s is not a file",
		    loc->path, DATA_FILE);
	return 0;
}

static int
dir_env_open(const struct vault_store_loc *loc, const struct vault_store_conf *conf,
    unsigned flags, char *msg, struct vault_store **ret)
{
	struct lmdb_store *s = NULL;
	char path[PATH_MAX];
	int r;

	loc_path(loc, NULL, path, sizeof(path));
	if ((r = lmdb_open(path, conf->map_size, conf->max_size, conf->max_room, flags,
	    conf->tables, conf->ntables, msg, &s)) != 0) {
		msg_fix(msg, path, loc->path);
		return r;
	}
	*ret = &s->base;
	return 0;
}

static void
dir_remove(const struct vault_store_loc *loc)
{
	unlinkat(loc->dirfd, DATA_FILE, 0);
	unlinkat(loc->dirfd, LOCK_FILE, 0);
}

static int
dir_create(const struct vault_store_loc *loc, const struct vault_store_conf *conf,
    char *msg, struct vault_store **ret)
{
	int r;

	if ((r = file_make(loc, DATA_FILE, msg)) != 0)
		return r;
	if ((r = lock_file_ensure(loc, 1, msg)) != 0 ||
	    (r = dir_env_open(loc, conf, OPEN_CREATE, msg, ret)) != 0)
		dir_remove(loc);
	return r;
}

static int
dir_open(const struct vault_store_loc *loc, const struct vault_store_conf *conf,
    char *msg, struct vault_store **ret)
{
	char why[SV_MSG_MAX];
	int r;

	if ((r = dir_probe(loc, msg)) != 0 || (r = lock_file_ensure(loc, 0, msg)) != 0)
		return r;
	if ((r = dir_env_open(loc, conf, 0, msg, ret)) == SV_ERR_NOT_FOUND) {
		memcpy(why, msg, sizeof(why));
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "%s/%s is not a vault (%s)",
		    loc->path, DATA_FILE, why);
	}
	return r;
}

/* Copy all of fd into the restore file, at most max bytes. */
static int
restore_copy(const struct vault_store_loc *loc, int fd, size_t max, char *msg)
{
	uint8_t *buf = NULL;
	size_t total = 0, off;
	ssize_t n, w;
	int out_fd = -1, r;

	if (unlinkat(loc->dirfd, RESTORE_FILE, 0) != 0 && errno != ENOENT)
		return vault_path_fail(msg, errno, RESTORE_FILE);
	out_fd = openat(loc->dirfd, RESTORE_FILE,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out_fd < 0)
		return vault_path_fail(msg, errno, RESTORE_FILE);
	if ((buf = malloc(COPY_CHUNK)) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		if ((n = read(fd, buf, COPY_CHUNK)) < 0) {
			if (errno == EINTR)
				continue;
			r = vault_path_fail(msg, errno, "reading the backup");
			goto out;
		}
		if (n == 0)
			break;
		if ((size_t)n > max - total) {
			r = sv_fail(msg, SV_ERR_TOO_LARGE,
			    "backup is larger than the vault's ceiling (%zu bytes)", max);
			goto out;
		}
		total += (size_t)n;
		for (off = 0; off < (size_t)n; off += (size_t)w) {
			if ((w = write(out_fd, buf + off, (size_t)n - off)) < 0) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				r = vault_path_fail(msg, errno, RESTORE_FILE);
				goto out;
			}
		}
	}
	if (fsync(out_fd) != 0) {
		r = vault_path_fail(msg, errno, RESTORE_FILE);
		goto out;
	}
	r = 0;
out:
	free(buf);
	if (out_fd >= 0 && close(out_fd) != 0 && r == 0)
		r = vault_path_fail(msg, errno, RESTORE_FILE);
	return r;
}

static int
dir_restore_stage(const struct vault_store_loc *loc, int fd, size_t max,
    const struct vault_store_conf *conf, char *msg, struct vault_store **ret_check)
{
	struct lmdb_store *s = NULL;
	char path[PATH_MAX], shown[PATH_MAX], why[SV_MSG_MAX];
	int r;

	if ((r = restore_copy(loc, fd, max, msg)) != 0)
		return r;
	loc_path(loc, RESTORE_FILE, path, sizeof(path));
	if ((r = lmdb_open(path, conf->map_size, 0, 0, OPEN_CHECK, conf->tables,
	    conf->ntables, msg, &s)) != 0) {
		snprintf(shown, sizeof(shown), "%s/%s", loc->path, RESTORE_FILE);
		msg_fix(msg, path, shown);
		if (r != SV_ERR_NOMEM) {
			memcpy(why, msg, sizeof(why));
			r = sv_fail(msg, SV_ERR_BAD_FORMAT, "not a vault backup (%s)", why);
		}
		return r;
	}
	*ret_check = &s->base;
	return 0;
}

static int
dir_restore_swap(const struct vault_store_loc *loc, char *msg)
{
	if (renameat(loc->dirfd, RESTORE_FILE, loc->dirfd, DATA_FILE) != 0)
		return vault_path_fail(msg, errno, "replacing data.mdb");
	if (fsync(loc->dirfd) != 0)
		return vault_path_fail(msg, errno, loc->path);
	return 0;
}

static void
dir_restore_drop(const struct vault_store_loc *loc)
{
	unlinkat(loc->dirfd, RESTORE_FILE, 0);
}

/* --- the ops table ---------------------------------------------------------- */

#define S(s) ((struct lmdb_store *)(s))
#define T(t) ((struct lmdb_txn *)(t))
#define C(c) ((struct lmdb_cursor *)(c))

static void
op_close(struct vault_store *s)
{
	lmdb_close(S(s));
}

static unsigned
op_live_txns(struct vault_store *s)
{
	return lmdb_live_txns(S(s));
}

static int
op_txn_begin(struct vault_store *s, struct vault_store_txn *parent, int write,
    struct vault_store_txn **ret)
{
	struct lmdb_txn *t = NULL;
	int r;

	if ((r = lmdb_txn_begin(S(s), T(parent), write, &t)) != 0)
		return r;
	*ret = &t->base;
	return 0;
}

static int
op_txn_commit(struct vault_store_txn *t, int nosync)
{
	return lmdb_txn_commit_flags(T(t), nosync);
}

static void
op_txn_abort(struct vault_store_txn *t)
{
	lmdb_txn_abort(T(t));
}

static int
op_sync(struct vault_store *s)
{
	return lmdb_sync(S(s));
}

static int
op_get(struct vault_store_txn *t, unsigned tab, const void *key, size_t klen,
    const uint8_t **ret_p, size_t *ret_len)
{
	return lmdb_get(T(t), tab, key, klen, ret_p, ret_len);
}

static int
op_put(struct vault_store_txn *t, unsigned tab, const void *key, size_t klen,
    const void *val, size_t vlen, unsigned flags)
{
	return lmdb_put(T(t), tab, key, klen, val, vlen, flags);
}

static int
op_del(struct vault_store_txn *t, unsigned tab, const void *key, size_t klen)
{
	return lmdb_del(T(t), tab, key, klen);
}

static int
op_entries(struct vault_store_txn *t, unsigned tab, size_t *ret)
{
	return lmdb_entries(T(t), tab, ret);
}

static int
op_cursor_open(struct vault_store_txn *t, unsigned tab, struct vault_store_cursor **ret)
{
	struct lmdb_cursor *c = NULL;
	int r;

	if ((r = lmdb_cursor_open(T(t), tab, &c)) != 0)
		return r;
	*ret = &c->base;
	return 0;
}

static int
op_cursor_get(struct vault_store_cursor *c, enum vault_store_op op, const void *key,
    size_t klen, const uint8_t **ret_key, size_t *ret_klen, const uint8_t **ret_val,
    size_t *ret_vlen)
{
	return lmdb_cursor_get(C(c), op, key, klen, ret_key, ret_klen, ret_val, ret_vlen);
}

static int
op_cursor_del(struct vault_store_cursor *c)
{
	return lmdb_cursor_del(C(c));
}

static void
op_cursor_close(struct vault_store_cursor *c)
{
	lmdb_cursor_close(C(c));
}

static int
op_info(struct vault_store *s, struct vault_store_size *ret)
{
	return lmdb_info(S(s), ret);
}

static int
op_txn_used(struct vault_store_txn *t, size_t *ret)
{
	return lmdb_txn_used(T(t), ret);
}

static int
op_grow(struct vault_store *s, size_t room)
{
	return lmdb_grow(S(s), room);
}

static int
op_copy_fd(struct vault_store *s, int fd)
{
	return lmdb_copy_fd(S(s), fd);
}

/* A read transaction sees the data as the last write transaction left it. */
static int
op_txn_version(struct vault_store_txn *vt, uint64_t *ret)
{
	struct lmdb_txn *t = T(vt);

	if (txn_dead(t) || t->write || t->parent != NULL)
		return SV_ERR_INVALID;
	*ret = (uint64_t)mdb_txn_id(t->txn);
	return 0;
}

/* The last committed write transaction's id, from the meta pages (past the gate). */
static int
op_version(struct vault_store *vs, uint64_t *ret)
{
	struct lmdb_store *s = S(vs);
	MDB_envinfo info;
	int rc;

	gate_enter(s);
	rc = mdb_env_info(s->env, &info);
	gate_leave(s);
	if (rc != 0)
		return store_fail(s->msg, rc, "reading the version");
	*ret = (uint64_t)info.me_last_txnid;
	return 0;
}

const struct vault_store_ops vault_store_lmdb = {
	.name = "lmdb",
	.probe = dir_probe,
	.create = dir_create,
	.remove = dir_remove,
	.open = dir_open,
	.close = op_close,
	.restore_stage = dir_restore_stage,
	.restore_swap = dir_restore_swap,
	.restore_drop = dir_restore_drop,
	.live_txns = op_live_txns,
	.txn_begin = op_txn_begin,
	.txn_commit = op_txn_commit,
	.txn_abort = op_txn_abort,
	.sync = op_sync,
	.get = op_get,
	.put = op_put,
	.del = op_del,
	.entries = op_entries,
	.cursor_open = op_cursor_open,
	.cursor_get = op_cursor_get,
	.cursor_del = op_cursor_del,
	.cursor_close = op_cursor_close,
	.info = op_info,
	.txn_used = op_txn_used,
	.grow = op_grow,
	.copy_fd = op_copy_fd,
	.txn_version = op_txn_version,
	.version = op_version,
};
