/*
 * store: the small storage interface under the vault.
 *
 * An environment of numbered tables holding byte keys and byte values, with
 * read and write transactions (a write transaction may have nested children),
 * get/put/delete and cursors.  vault/ reaches storage only through this
 * header.  Behind it is an ops table (struct vault_store_ops) chosen when
 * the vault is opened, from its location: lmdb.c for a directory.  Another
 * backend (a shared one for many hosts) is one more ops table beside it,
 * and must pass the conformance suite (conformance.h) like LMDB does.
 *
 * Errors are SV_ERR_* codes, translated once here from the backend's own
 * codes; the backend's detail goes into the msg buffer (SV_MSG_MAX) given to
 * vault_store_open(), which the store keeps using for its whole life.
 *
 * Threads: a store may be used by many threads at once; each transaction (and
 * its cursors) belongs to one thread at a time.  Read transactions are not
 * tied to the thread that began them.
 *
 * Size: the map starts at map_size and grows by itself up to max_size (the
 * ceiling).  It grows only while no transaction of this process is open:
 * every top-level transaction holds the store's gate, and a write
 * transaction that finds the map nearly used grows it before it begins,
 * waiting a bounded time for the others to end (docs/keys.md, "How big a
 * vault grows").  A thread that holds a transaction never waits at the gate.
 *
 * Lifetimes: pointers returned by get and by cursors point into the store's
 * map and stay valid until the transaction ends or writes, or, for cursors,
 * until the next call on the cursor.  When a transaction ends, its cursors
 * and any still-open child transaction end with it: their handles stay
 * allocated but every call on them fails with SV_ERR_INVALID, and they must
 * still be closed/aborted to be freed.
 */
#ifndef SSOVAULT_STORE_H
#define SSOVAULT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ssovault/sverr.h"

#define VAULT_STORE_MAX_TABLES 16
#define VAULT_STORE_MAX_KEY 500		/* bytes: the most every backend takes */

/* Flags for vault_store_put(). */
#define VAULT_STORE_NOOVERWRITE 0x1	/* SV_ERR_EXISTS if the key is there */
/*
 * With NOOVERWRITE, for a new key whose answer the caller does not need at
 * once (an audit record): the backend may hold the put and send it with
 * others, at the latest with the transaction's next statement or its
 * commit.  A key that exists then fails that call (SV_ERR_EXISTS) and
 * dooms the transaction: nothing of it is kept.  LMDB puts it at once.
 */
#define VAULT_STORE_DEFER 0x2

enum vault_store_op {
	VAULT_STORE_FIRST = 0,
	VAULT_STORE_NEXT = 1,
	VAULT_STORE_LAST = 2,
	VAULT_STORE_SEEK = 3,		/* first key >= the key given */
	VAULT_STORE_CURRENT = 4,
};

struct vault_store;
struct vault_store_txn;
struct vault_store_cursor;
struct vault_store_ops;

/*
 * Where a store is.  A directory backend works inside dirfd, a directory
 * the vault has checked (owner, mode, no links) and keeps open, so that
 * it stays the same directory; path is how messages name it.
 */
struct vault_store_loc {
	int dirfd;
	const char *path;
};

/*
 * How a store is opened.  tables[0..ntables-1] name the tables, which are
 * then known by their index.  map_size is the size to begin with, max_size
 * the most it grows to (0: it never grows, and a full store names
 * SSOVAULT_MAP_SIZE).  A store that already holds more than max_size opens
 * with its own size plus max_room as the ceiling.
 */
struct vault_store_conf {
	size_t map_size;
	size_t max_size;
	size_t max_room;
	const char *const *tables;
	unsigned ntables;
};

/*
 * The backend for a location: PostgreSQL for a postgresql:// or
 * postgres:// URI (pg.c, docs/hosts.md), LMDB for a directory.
 */
const struct vault_store_ops *vault_store_ops_for(const char *location);
/* 1 if location is a database URI rather than a directory. */
int vault_store_pg_location(const char *location);
/*
 * 0 once libpq is loaded (pq-load.c opens it at the first use), else
 * SV_ERR_STORAGE with msg saying what to install: store.c asks before the
 * PostgreSQL backend is given a location.
 */
int vault_store_pq_need(char *msg) SV_WUR;
/*
 * This process's view of a PostgreSQL store (status): the database's
 * generation now (its count of write transactions; 0 with reachable 0 if
 * it did not answer), the generation the cache has caught up to, how long
 * ago it last checked, open connections and this process's writes.
 * SV_ERR_INVALID for another backend.
 */
struct vault_store_pg_view {
	int reachable;
	uint64_t db_gen, cache_gen;
	long long checked_ms_ago;	/* -1: never */
	unsigned connections;
	unsigned long writes;
	unsigned long round_trips;	/* to the server, before this call's own;
					   statements sent together count once */
};
int vault_store_pg_view(struct vault_store *s, struct vault_store_pg_view *ret) SV_WUR;
const char *vault_store_backend_name(const struct vault_store_ops *ops);

/*
 * 0 if loc holds a store, SV_ERR_NO_VAULT ("no vault in PATH") if it holds
 * none; else another error (a link where the data should be, ...).
 */
int vault_store_probe(const struct vault_store_ops *ops,
    const struct vault_store_loc *loc, char *msg) SV_WUR;
/*
 * Make a new, empty store with the tables at loc (SV_ERR_EXISTS if one is
 * there); its files are 0600 whatever the umask.  On failure nothing is
 * left; vault_store_remove() undoes a create that a later step failed.
 */
int vault_store_create(const struct vault_store_ops *ops,
    const struct vault_store_loc *loc, const struct vault_store_conf *conf,
    char *msg, struct vault_store **ret) SV_WUR;
void vault_store_remove(const struct vault_store_ops *ops,
    const struct vault_store_loc *loc);
/*
 * Open the store at loc.  A missing table fails with SV_ERR_BAD_FORMAT
 * ("... is not a vault").  Errors and the backend's detail go into msg
 * (SV_MSG_MAX), which the store keeps using for its whole life.  A store
 * the caller may read but not write opens read-only: every write fails.
 */
int vault_store_open(const struct vault_store_ops *ops,
    const struct vault_store_loc *loc, const struct vault_store_conf *conf,
    char *msg, struct vault_store **ret) SV_WUR;
/* Takes NULL.  Every transaction must have ended. */
void vault_store_close(struct vault_store *s);

/*
 * Restore in three steps, while no store is open on loc for writing:
 * stage takes a copy made by vault_store_copy_fd() from fd (at most max
 * bytes: SV_ERR_TOO_LARGE) and opens it read-only in *ret_check, for the
 * caller to check what it holds (close it before the next step); swap puts
 * it in place of loc's data (the store must be closed and opened again);
 * drop discards a staged copy, swapped or not (takes one that is not there).
 */
int vault_store_restore_stage(const struct vault_store_ops *ops,
    const struct vault_store_loc *loc, int fd, size_t max,
    const struct vault_store_conf *conf, char *msg,
    struct vault_store **ret_check) SV_WUR;
int vault_store_restore_swap(const struct vault_store_ops *ops,
    const struct vault_store_loc *loc, char *msg) SV_WUR;
void vault_store_restore_drop(const struct vault_store_ops *ops,
    const struct vault_store_loc *loc);

/* Transactions not yet ended (for refusing to close under them). */
unsigned vault_store_live_txns(struct vault_store *s);

/*
 * Begin a transaction; with a parent (which must be a write transaction and
 * is then unusable until the child ends) a nested write transaction whose
 * changes vanish if it is aborted.  commit ends t whether or not it fails;
 * abort takes NULL.
 */
int vault_store_txn_begin(struct vault_store *s, struct vault_store_txn *parent,
    int write, struct vault_store_txn **ret) SV_WUR;
int vault_store_txn_commit(struct vault_store_txn *t) SV_WUR;
/* nosync: written to the OS, not flushed to disk (see vault_txn_commit_nosync). */
int vault_store_txn_commit_flags(struct vault_store_txn *t, int nosync) SV_WUR;
/* Flush everything committed so far to disk. */
int vault_store_sync(struct vault_store *s) SV_WUR;
void vault_store_txn_abort(struct vault_store_txn *t);

/* SV_ERR_NOT_FOUND if absent. */
int vault_store_get(struct vault_store_txn *t, unsigned tab,
    const void *key, size_t klen, const uint8_t **ret_p, size_t *ret_len) SV_WUR;
int vault_store_put(struct vault_store_txn *t, unsigned tab,
    const void *key, size_t klen, const void *val, size_t vlen,
    unsigned flags) SV_WUR;
/* SV_ERR_NOT_FOUND if absent. */
int vault_store_del(struct vault_store_txn *t, unsigned tab,
    const void *key, size_t klen) SV_WUR;
/* Number of entries in a table as this transaction sees it. */
int vault_store_entries(struct vault_store_txn *t, unsigned tab,
    size_t *ret) SV_WUR;

/*
 * Cursors.  vault_store_cursor_get() returns 1 with an entry, 0 if there is
 * none (end of table, or nothing >= the key for SEEK), or an error; key/klen
 * are used only by SEEK.  del deletes the current entry (the next NEXT
 * returns the entry after it).
 */
int vault_store_cursor_open(struct vault_store_txn *t, unsigned tab,
    struct vault_store_cursor **ret) SV_WUR;
int vault_store_cursor_get(struct vault_store_cursor *c, enum vault_store_op op,
    const void *key, size_t klen, const uint8_t **ret_key, size_t *ret_klen,
    const uint8_t **ret_val, size_t *ret_vlen) SV_WUR;
int vault_store_cursor_del(struct vault_store_cursor *c) SV_WUR;
/* Takes NULL; allowed before or after the transaction ended. */
void vault_store_cursor_close(struct vault_store_cursor *c);

/* Sizes of a store, in bytes. */
struct vault_store_size {
	size_t map_size;		/* the map now */
	size_t max_size;		/* the most it grows to */
	size_t file_bytes;		/* up to the last page ever used */
};
int vault_store_info(struct vault_store *s, struct vault_store_size *ret) SV_WUR;

/*
 * Bytes of the pages holding data as t sees them, its own changes included:
 * every table's pages, the free list's own pages and the two meta pages.
 * Free pages (reused by later writes) are not counted.
 */
int vault_store_txn_used(struct vault_store_txn *t, size_t *ret) SV_WUR;

/*
 * Grow the map, if it is below the ceiling, so that at least room bytes
 * lie beyond the data's end (for a write known to be large, such as a
 * rotation).  Best effort: 0 also when the ceiling or the wait for other
 * transactions stopped it short.  Must not be called while the calling
 * thread holds a transaction (SV_ERR_CONFLICT).
 */
int vault_store_grow(struct vault_store *s, size_t room) SV_WUR;

/* A consistent, compacted copy of the environment written to fd. */
int vault_store_copy_fd(struct vault_store *s, int fd) SV_WUR;

/*
 * The version of what a top-level read transaction t sees: two read
 * transactions of one store with the same version see the same data, and
 * every commit that changed anything gives a new one (LMDB: the id of the
 * last committed write transaction).  SV_ERR_INVALID from a backend
 * that cannot tell (callers then cache nothing on it).
 */
int vault_store_txn_version(struct vault_store_txn *t, uint64_t *ret) SV_WUR;
/* The version a read transaction begun now would see, without beginning one. */
int vault_store_version(struct vault_store *s, uint64_t *ret) SV_WUR;

/*
 * The ops table a backend fills in, with the handles every backend's own
 * structs begin with (so that the functions above find the ops from any
 * handle).  Each entry has the contract of the function above of the same
 * name; the generic functions (store.c) only pass the call on.
 */
struct vault_store { const struct vault_store_ops *ops; };
struct vault_store_txn { const struct vault_store_ops *ops; };
struct vault_store_cursor { const struct vault_store_ops *ops; };

struct vault_store_ops {
	const char *name;
	int (*probe)(const struct vault_store_loc *loc, char *msg);
	int (*create)(const struct vault_store_loc *loc, const struct vault_store_conf *conf,
	    char *msg, struct vault_store **ret);
	void (*remove)(const struct vault_store_loc *loc);
	int (*open)(const struct vault_store_loc *loc, const struct vault_store_conf *conf,
	    char *msg, struct vault_store **ret);
	void (*close)(struct vault_store *s);
	int (*restore_stage)(const struct vault_store_loc *loc, int fd, size_t max,
	    const struct vault_store_conf *conf, char *msg, struct vault_store **ret_check);
	int (*restore_swap)(const struct vault_store_loc *loc, char *msg);
	void (*restore_drop)(const struct vault_store_loc *loc);
	unsigned (*live_txns)(struct vault_store *s);
	int (*txn_begin)(struct vault_store *s, struct vault_store_txn *parent, int write,
	    struct vault_store_txn **ret);
	int (*txn_commit)(struct vault_store_txn *t, int nosync);
	void (*txn_abort)(struct vault_store_txn *t);
	int (*sync)(struct vault_store *s);
	int (*get)(struct vault_store_txn *t, unsigned tab, const void *key, size_t klen,
	    const uint8_t **ret_p, size_t *ret_len);
	int (*put)(struct vault_store_txn *t, unsigned tab, const void *key, size_t klen,
	    const void *val, size_t vlen, unsigned flags);
	int (*del)(struct vault_store_txn *t, unsigned tab, const void *key, size_t klen);
	int (*entries)(struct vault_store_txn *t, unsigned tab, size_t *ret);
	int (*cursor_open)(struct vault_store_txn *t, unsigned tab,
	    struct vault_store_cursor **ret);
	int (*cursor_get)(struct vault_store_cursor *c, enum vault_store_op op,
	    const void *key, size_t klen, const uint8_t **ret_key, size_t *ret_klen,
	    const uint8_t **ret_val, size_t *ret_vlen);
	int (*cursor_del)(struct vault_store_cursor *c);
	void (*cursor_close)(struct vault_store_cursor *c);
	int (*info)(struct vault_store *s, struct vault_store_size *ret);
	int (*txn_used)(struct vault_store_txn *t, size_t *ret);
	int (*grow)(struct vault_store *s, size_t room);
	int (*copy_fd)(struct vault_store *s, int fd);
	int (*txn_version)(struct vault_store_txn *t, uint64_t *ret);	/* may be NULL */
	int (*version)(struct vault_store *s, uint64_t *ret);		/* may be NULL */
};

/* The backends. */
extern const struct vault_store_ops vault_store_lmdb;
extern const struct vault_store_ops vault_store_pg;

#endif
