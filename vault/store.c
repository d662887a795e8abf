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
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <lmdb.h>

#include "store.h"

#define STORE_MAX_DBS 16
#define STORE_MAX_READERS 256

struct vault_store {
	MDB_env *env;
	MDB_dbi dbi[VAULT_STORE_MAX_TABLES];
	unsigned ntables;
	char *msg;
	atomic_uint live;
};

struct vault_store_txn {
	struct vault_store *s;
	MDB_txn *txn;			/* NULL once ended */
	struct vault_store_txn *parent;	/* NULL for a top-level transaction */
	struct vault_store_txn *child;	/* the open nested transaction */
	struct vault_store_cursor *cursors;
	int write;
};

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

int
vault_store_open(const char *path, size_t map_size, unsigned flags,
    const char *const *tables, unsigned ntables, char *msg,
    struct vault_store **ret)
{
	struct vault_store *s = NULL;
	unsigned eflags = MDB_NOTLS;
	int rc, r;

	if (ntables == 0 || ntables > VAULT_STORE_MAX_TABLES || map_size == 0)
		return sv_fail(msg, SV_ERR_INVALID, "storage: bad table count or map size");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return sv_fail(msg, SV_ERR_NOMEM, "out of memory");
	s->msg = msg;
	atomic_init(&s->live, 0);
	if (flags & VAULT_STORE_CHECK)
		eflags |= MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK;
	if ((rc = mdb_env_create(&s->env)) != 0) {
		s->env = NULL;
		r = store_fail(msg, rc, "create environment");
		goto out;
	}
	if ((rc = mdb_env_set_mapsize(s->env, map_size)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, STORE_MAX_DBS)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, STORE_MAX_READERS)) != 0) {
		r = store_fail(msg, rc, "configure environment");
		goto out;
	}
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
		if ((rc = mdb_env_create(&s->env)) != 0) {
			s->env = NULL;
			r = store_fail(msg, rc, "create environment");
			goto out;
		}
		if ((rc = mdb_env_set_mapsize(s->env, map_size)) != 0 ||
		    (rc = mdb_env_set_maxdbs(s->env, STORE_MAX_DBS)) != 0 ||
		    (rc = mdb_env_set_maxreaders(s->env, STORE_MAX_READERS)) != 0) {
			r = store_fail(msg, rc, "configure environment");
			goto out;
		}
		rc = mdb_env_open(s->env, path, eflags | MDB_RDONLY, 0600);
	}
	if (rc != 0) {
		r = store_fail(msg, rc, path);
		goto out;
	}
	if ((r = store_check_size(s)) != 0 ||
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
	rc = mdb_txn_begin(s->env, parent != NULL ? parent->txn : NULL,
	    write ? 0 : MDB_RDONLY, &t->txn);
	if (rc != 0) {
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
			r = store_fail(t->s->msg, commit_errno(t->s, rc), "commit");
		if (nosync && t->parent == NULL)
			mdb_env_set_flags(t->s->env, MDB_NOSYNC, 0);
	}
	t->txn = NULL;
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
		return store_fail(t->s->msg, rc, "put");
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
		return store_fail(t->s->msg, rc, "delete");
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
		return store_fail(c->t->s->msg, rc, "replace");
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
		return store_fail(c->t->s->msg, rc, "delete");
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
vault_store_info(struct vault_store *s, size_t *ret_map_size, size_t *ret_used)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc;

	if ((rc = mdb_env_info(s->env, &info)) != 0 ||
	    (rc = mdb_env_stat(s->env, &st)) != 0)
		return store_fail(s->msg, rc, "storage info");
	*ret_map_size = info.me_mapsize;
	*ret_used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
	return 0;
}

int
vault_store_copy_fd(struct vault_store *s, int fd)
{
	int rc;

	if ((rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT)) != 0)
		return store_fail(s->msg, rc, "copy");
	return 0;
}

int
vault_store_sync(struct vault_store *s)
{
	int rc;

	if ((rc = mdb_env_sync(s->env, 1)) != 0)
		return store_fail(s->msg, rc, "sync");
	return 0;
}
