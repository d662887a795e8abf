/*
 * vault: the encrypted store under ssovault.
 *
 * A vault is a directory holding one store (store.h; 0700 directory, 0600
 * files) with named tables.  Values are sealed records: XChaCha20-Poly1305
 * under a records key derived from the master secret, bound by associated data
 * to the format, the table and the record key, so a value altered, truncated,
 * or moved to another key or table fails to open with SV_ERR_INTEGRITY.  A
 * raw table (the schema says which) holds unsealed values; their integrity
 * is the caller's (an HMAC chain with vault_mac()).
 *
 * Key hierarchy (docs/keys.md): unlock slots (Argon2id passphrase, or a
 * 32-byte key file) wrap a root key; the root key wraps the master secret;
 * purpose keys are derived from the master secret with crypto_kdf.  Rotation
 * makes a new master secret and re-seals every record in one write
 * transaction; secret backups hold the master secret only, so a rotation
 * makes older backups useless.
 *
 * The vault knows nothing of SSO.  Functions return 0 or a negative SV_ERR_*
 * code; the detail of the last failure is in vault_errmsg().  A handle is used
 * by one thread at a time, except that transactions (each owned by one
 * thread) may run concurrently as the store allows: many readers, one writer.
 */
#ifndef SSOVAULT_VAULT_H
#define SSOVAULT_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "ssovault/sverr.h"
#include "base/svbuf.h"

#define VAULT_KEY_BYTES 32		/* key files hold exactly this many bytes */
#define VAULT_ID_BYTES 16
#define VAULT_MAC_BYTES 32
#define VAULT_FORMAT_VERSION 1

/*
 * Tables.  Table 0 is the vault's own ("meta"); the layer above names the
 * others in a schema given to vault_create() and vault_open(), and knows
 * them by their index (only the names are stored).  The values of a raw
 * table are not sealed: their integrity is the caller's (an HMAC chain
 * with vault_mac()), and rotation leaves them as they are.
 */
#define VAULT_TABLE_META 0u
#define VAULT_TABLES_MAX 16

struct vault_schema {
	const char *const *tables;	/* tables[0] is the vault's own: "meta" */
	unsigned n;			/* 1 to VAULT_TABLES_MAX */
	unsigned raw;			/* bit t set: table t holds raw values */
};

/* Purpose keys the layers above may use without ever seeing them. */
enum vault_key {
	VAULT_KEY_TICKETS = 1,		/* derived from the master secret */
	VAULT_KEY_AUDIT = 2,		/* random, stored sealed; survives rotation */
};

/* Flags for vault_record_put() and vault_raw_put(). */
#define VAULT_PUT_NOOVERWRITE 0x1	/* SV_ERR_EXISTS if the key exists */
#define VAULT_PUT_DEFER 0x2		/* with NOOVERWRITE: may be sent later (VAULT_STORE_DEFER) */

struct vault;
struct vault_txn;
struct vault_cursor;

struct vault_create_opts {
	const char *passphrase;		/* NULL: no passphrase slot */
	size_t passphrase_len;
	const uint8_t *key;		/* VAULT_KEY_BYTES or NULL: no key slot */
	unsigned long long opslimit;	/* Argon2id limits; 0 = moderate defaults */
	size_t memlimit;
	size_t map_size;		/* the map to begin with; 0: SSOVAULT_MAP_SIZE or 256 MiB */
	size_t max_size;		/* the ceiling it grows to; 0: SSOVAULT_MAX_SIZE or 4 GiB */
	const struct vault_schema *schema;	/* the tables (copied, the names are not) */
};

/*
 * Create a new vault in dir (created 0700 if missing; it must not already hold
 * a vault: SV_ERR_EXISTS) with at least one unlock slot.  The returned handle
 * is unlocked.
 */
int vault_create(const char *dir, const struct vault_create_opts *o,
    struct vault **ret) SV_WUR;

/*
 * Open an existing vault, locked, with the tables of schema (whose names
 * must outlive the handle).  SV_ERR_NO_VAULT if dir holds none.
 */
int vault_open(const char *dir, const struct vault_schema *schema, struct vault **ret) SV_WUR;

/*
 * The detail of the last failure of vault_create() or vault_open() in the
 * calling thread (which leave no handle to ask); "" if there was none.
 */
const char *vault_open_errmsg(void);

/* 1 if dir holds a vault, else 0. */
int vault_exists(const char *dir);

/* SV_ERR_WRONG_KEY ("wrong passphrase") if no slot opens. */
int vault_unlock_passphrase(struct vault *v, const char *pass, size_t len) SV_WUR;
int vault_unlock_key(struct vault *v, const uint8_t key[VAULT_KEY_BYTES]) SV_WUR;

/*
 * The same unlock in three steps, for a daemon that must not hold a lock
 * that serves others while Argon2id runs (docs/daemon.md):
 * - prepare copies the secret and reads the slots (cheap; the store must
 *   not be replaced meanwhile, as for any transaction);
 * - derive tries the slots: the costly part; it touches no vault state and
 *   may run beside anything, without a lock.  SV_ERR_WRONG_KEY if none
 *   opens;
 * - finish reads the slots again (the one that opened must still be there)
 *   and the master secret, and installs the keys: nothing else may use the
 *   handle meanwhile, as for vault_lock().
 * key is 1 for a key file (len VAULT_KEY_BYTES), 0 for a passphrase.
 * Messages go to msg (SV_MSG_MAX); vault_unlock_free() takes NULL.
 */
struct vault_unlock;
int vault_unlock_prepare(struct vault *v, int key, const void *secret, size_t len,
    struct vault_unlock **ret, char *msg) SV_WUR;
/* The memory Argon2id will take in derive, in bytes; 0 if it runs no Argon2id. */
size_t vault_unlock_cost(const struct vault_unlock *u);
int vault_unlock_derive(struct vault_unlock *u, char *msg) SV_WUR;
int vault_unlock_finish(struct vault *v, struct vault_unlock *u, char *msg) SV_WUR;
void vault_unlock_free(struct vault_unlock *u);
/*
 * Unlock slots by name (docs/hosts.md): a host's own, or "passphrase-1",
 * "key-1" by default.  list gives a malloc'd array (free() it); mine is set
 * on the slot this handle was unlocked with.  add wraps the root key of an
 * unlocked vault for a passphrase (Argon2id with the limits of the first
 * passphrase slot, before any transaction) or a VAULT_KEY_BYTES key;
 * SV_ERR_EXISTS for a name taken.  remove refuses the last slot.
 */
#define VAULT_SLOT_NAME_MAX 64
#define VAULT_SLOTS_MAX 32
struct vault_slot_info {
	char name[VAULT_SLOT_NAME_MAX + 1];
	int key;			/* 1: a key file's, 0: a passphrase's */
	int mine;
};
int vault_slot_list(struct vault *v, struct vault_slot_info **ret, size_t *ret_n) SV_WUR;
int vault_slot_add(struct vault *v, const char *name, int key, const void *secret,
    size_t len) SV_WUR;
int vault_slot_remove(struct vault *v, const char *name) SV_WUR;
/*
 * The name of the slot this handle was unlocked with, for a shared vault
 * (audit records name their host by it); "" otherwise, or if unknown.
 */
const char *vault_slot_mine(const struct vault *v);
/*
 * Another process or host rotated the master secret: stale says so (1)
 * cheaply; refresh (with nothing else using the handle, as for
 * vault_lock()) takes the new one through the root key held, if the slot
 * this handle was unlocked with is still there, and else locks the handle
 * (SV_ERR_LOCKED): a host whose slot was removed is out at the next rotation.
 */
int vault_keys_stale(struct vault *v);
int vault_keys_refresh(struct vault *v) SV_WUR;
/* 1 if the vault is a shared one (a database), 0 for a directory. */
int vault_shared(const struct vault *v);
/*
 * This process's view of a shared vault's database (status): reachable, the
 * database's generation (its count of write transactions), the one this
 * process's cache has caught up to, ms since it last checked (-1: never),
 * open connections, and the writes this process made.  SV_ERR_INVALID for
 * a directory.
 */
struct vault_db_view {
	int reachable;
	uint64_t db_gen, cache_gen;
	long long checked_ms_ago;
	unsigned connections;
	unsigned long writes;
};
int vault_shared_view(struct vault *v, struct vault_db_view *ret);

/* Wipe every key from memory; records can no longer be read or written. */
void vault_lock(struct vault *v);
int vault_is_unlocked(const struct vault *v);
void vault_free(struct vault *v);

const char *vault_errmsg(const struct vault *v);
const char *vault_dir(const struct vault *v);
const uint8_t *vault_id(const struct vault *v);	/* VAULT_ID_BYTES */
uint32_t vault_epoch(const struct vault *v);		/* 0 while locked */

/* What `status` shows: the slots, limits and sizes; no secret. */
struct vault_info {
	int unlocked;
	uint32_t format;
	uint32_t epoch;
	unsigned passphrase_slots;
	unsigned key_slots;
	unsigned long long opslimit;
	size_t memlimit;
	size_t map_size;		/* the store's map now */
	size_t max_size;		/* the ceiling it grows to */
	size_t used_bytes;		/* pages holding data: what the ceiling counts */
	size_t file_bytes;		/* the data file up to the last page ever used */
	size_t reserve_bytes;		/* kept below the ceiling for the way out */
	unsigned ntables;		/* the schema's */
	size_t entries[VAULT_TABLES_MAX];
};
int vault_info_get(struct vault *v, struct vault_info *ret) SV_WUR;
/* The ceiling the map grows to, in bytes (no transaction needed). */
size_t vault_max_size(const struct vault *v);
/* "16.0 MiB": a size as messages show it. */
#define VAULT_SIZE_STR 24
void vault_size_str(size_t n, char out[VAULT_SIZE_STR]);
/* The name of table t of v's schema ("?" if there is none). */
const char *vault_table_name(const struct vault *v, unsigned t);

/*
 * Transactions.  A write transaction excludes other writers (in this and
 * other processes) until commit or abort.  Record functions on a locked vault
 * return SV_ERR_LOCKED.  vault_txn_abort() takes NULL.
 */
int vault_txn_begin(struct vault *v, int write, struct vault_txn **ret) SV_WUR;
/* A child of a write transaction: its changes vanish if it is aborted. */
int vault_txn_begin_nested(struct vault_txn *parent, struct vault_txn **ret) SV_WUR;
int vault_txn_commit(struct vault_txn *t) SV_WUR;
void vault_txn_abort(struct vault_txn *t);
/*
 * Commit a top-level write transaction without waiting for the disk: the
 * data reaches the operating system (it survives a crash of this process,
 * not of the machine) and is flushed by the next ordinary commit or
 * vault_sync().  Only one thread of a process may commit at a time while
 * this is in use (the daemon's single writer).
 */
int vault_txn_commit_nosync(struct vault_txn *t) SV_WUR;
int vault_sync(struct vault *v) SV_WUR;
struct vault *vault_txn_vault(struct vault_txn *t);

/*
 * How far a change may fill the vault (docs/keys.md, "How big a vault
 * grows").  The last reserve_bytes below the ceiling are kept for the way
 * out: ordinary changes stop before them, audit records (so that reads and
 * refusals are still recorded) may use half of them, and what frees space
 * or lets a vault admin regain control may use all of them.
 */
enum vault_room {
	VAULT_ROOM_DATA = 0,
	VAULT_ROOM_RECORDS = 1,
	VAULT_ROOM_ALL = 2,
};
/*
 * Check what t holds, its own changes included, against room:
 * SV_ERR_MAP_FULL "vault is nearly full: ..." (in msg if not NULL, else in
 * the handle's) if it went past.  *ret_used, if not NULL, gets the bytes in
 * use as t sees them.
 */
int vault_txn_room(struct vault_txn *t, enum vault_room room, size_t *ret_used,
    char *msg) SV_WUR;

/*
 * Sealed records.  vault_record_get() decrypts into a new secure buffer owned
 * by the caller; SV_ERR_NOT_FOUND if absent; SV_ERR_INTEGRITY if it fails to
 * open.  Keys are at most 500 bytes (VAULT_STORE_MAX_KEY: every backend takes them).  Meta keys beginning
 * "vault." belong to the vault itself: every record, raw and cursor call
 * refuses them with SV_ERR_INVALID.
 */
int vault_record_get(struct vault_txn *t, unsigned tab,
    const void *key, size_t klen, struct svbuf **ret_plain) SV_WUR;
int vault_record_put(struct vault_txn *t, unsigned tab,
    const void *key, size_t klen, const void *plain, size_t plen,
    unsigned flags) SV_WUR;
int vault_record_del(struct vault_txn *t, unsigned tab,
    const void *key, size_t klen) SV_WUR;

/*
 * The version of what read transaction t sees (vault_store_txn_version()):
 * equal versions, the same data.  SV_ERR_INVALID where the store cannot
 * tell, or t reads under keys another host rotated in.
 */
int vault_txn_version(struct vault_txn *t, uint64_t *ret) SV_WUR;
/* The version a read transaction begun now would see (none is begun). */
int vault_version(struct vault *v, uint64_t *ret) SV_WUR;

/* Raw values: *ret_p points into the map, valid until the transaction ends. */
int vault_raw_get(struct vault_txn *t, unsigned tab,
    const void *key, size_t klen, const uint8_t **ret_p, size_t *ret_len) SV_WUR;
int vault_raw_put(struct vault_txn *t, unsigned tab,
    const void *key, size_t klen, const void *p, size_t len, unsigned flags) SV_WUR;
int vault_raw_del(struct vault_txn *t, unsigned tab,
    const void *key, size_t klen) SV_WUR;

/*
 * Cursors walk a table in key order (bytewise).  seek positions at the first
 * key >= key (klen 0: the first key); next/prev return 1 with an entry, 0 at
 * the end, or an error.  Pointers are valid until the next cursor call.
 * vault_cursor_unseal() opens a sealed value read through a cursor.
 */
int vault_cursor_open(struct vault_txn *t, unsigned tab,
    struct vault_cursor **ret) SV_WUR;
int vault_cursor_seek(struct vault_cursor *c, const void *key, size_t klen,
    const uint8_t **ret_key, size_t *ret_klen,
    const uint8_t **ret_val, size_t *ret_vlen) SV_WUR;
int vault_cursor_next(struct vault_cursor *c,
    const uint8_t **ret_key, size_t *ret_klen,
    const uint8_t **ret_val, size_t *ret_vlen) SV_WUR;
int vault_cursor_last(struct vault_cursor *c,
    const uint8_t **ret_key, size_t *ret_klen,
    const uint8_t **ret_val, size_t *ret_vlen) SV_WUR;
int vault_cursor_del(struct vault_cursor *c) SV_WUR;	/* the current entry */
void vault_cursor_close(struct vault_cursor *c);
int vault_cursor_unseal(struct vault_cursor *c, const uint8_t *key, size_t klen,
    const uint8_t *val, size_t vlen, struct svbuf **ret_plain) SV_WUR;

/*
 * Purpose-key operations; keys never leave the vault.  A blob is
 * version | epoch | nonce | ciphertext+tag, bound to ad.
 */
int vault_mac(struct vault *v, enum vault_key k, const void *data, size_t len,
    uint8_t out[VAULT_MAC_BYTES]) SV_WUR;
/* The MAC of parts[0] | parts[1] | ... (n of them), without joining them. */
int vault_mac_parts(struct vault *v, enum vault_key k, const void *const *parts,
    const size_t *lens, size_t n, uint8_t out[VAULT_MAC_BYTES]) SV_WUR;
int vault_blob_seal(struct vault *v, enum vault_key k, const void *ad,
    size_t adlen, const void *plain, size_t plen, struct svbuf *out) SV_WUR;
/* SV_ERR_INTEGRITY if the blob was altered or sealed under another key. */
int vault_blob_open(struct vault *v, enum vault_key k, const void *ad,
    size_t adlen, const void *blob, size_t blen, struct svbuf **ret_plain) SV_WUR;

/*
 * The master secret, backed up under a separate password (Argon2id) with an
 * optional clear-text hint, appended to out as one self-describing blob.
 */
int vault_secret_backup(struct vault *v, const char *pw, size_t pwlen,
    const char *hint, struct svbuf *out) SV_WUR;
/* The hint stored in a backup blob (malloc'd, "" if none), without a password. */
int vault_secret_backup_hint(const void *blob, size_t len, char **ret_hint) SV_WUR;
/*
 * Restore from a backup blob on a locked or unlocked vault: the blob must
 * match this vault's data (SV_ERR_CONFLICT for a backup taken before a
 * rotation or of another vault).  Makes a new root key, replaces every unlock
 * slot with one for newpass (and one for key, if not NULL), and leaves the
 * vault unlocked.
 */
int vault_secret_restore(struct vault *v, const void *blob, size_t len,
    const char *pw, size_t pwlen, const char *newpass, size_t newlen,
    const uint8_t *key) SV_WUR;

/*
 * The same restore in three steps, as for unlocking.  prepare does every
 * check that needs no key: the blob's format, its vault id, and its
 * Argon2id limits, which may not be higher than those of this vault's own
 * passphrase slots (SV_ERR_CONFLICT: it was not made by this vault).
 * derive runs Argon2id twice (the backup password, then the new
 * passphrase's slot), without a lock.  finish checks the master secret
 * against the data, asks check (if not NULL) whether the restore may go on,
 * with the backup's keys in the handle for that call only, and then writes
 * the new slots and installs the keys.
 */
struct vault_secret_job;
int vault_secret_restore_prepare(struct vault *v, const void *blob, size_t len,
    const char *pw, size_t pwlen, const char *newpass, size_t newlen,
    const uint8_t *key, struct vault_secret_job **ret, char *msg) SV_WUR;
/* The memory the larger of derive's two Argon2id runs takes, in bytes. */
size_t vault_secret_job_cost(const struct vault_secret_job *j);
int vault_secret_restore_derive(struct vault_secret_job *j, char *msg) SV_WUR;
int vault_secret_restore_finish(struct vault *v, struct vault_secret_job *j,
    int (*check)(void *ctx, struct vault *v), void *ctx, char *msg) SV_WUR;
void vault_secret_job_free(struct vault_secret_job *j);

/*
 * Rotate the master secret: every sealed record is re-sealed under the new
 * one in a single write transaction (all or nothing).  progress, if not NULL,
 * is called now and then with records done and total.
 */
int vault_secret_rotate(struct vault *v,
    void (*progress)(void *ctx, size_t done, size_t total), void *ctx) SV_WUR;

/* A consistent, compacted hot copy of the environment into fd. */
int vault_backup(struct vault *v, int fd) SV_WUR;
/*
 * Replace this vault's data with a copy made by vault_backup(), read from fd.
 * The copy must be a vault of the same id (SV_ERR_CONFLICT otherwise).  The
 * handle stays unlocked if its keys open the restored data, else it is locked.
 * Other processes with the vault open must reopen it.
 */
int vault_restore(struct vault *v, int fd) SV_WUR;
/*
 * Copy the vault to a new location of either kind (a directory made 0700,
 * or a database URI): every table's records as they are, sealed records and
 * the audit chain alike, from one read snapshot in one write transaction.
 * The location must hold no vault (SV_ERR_EXISTS); on failure nothing is
 * left there.  *ret_n, if not NULL, gets the number of records copied.
 */
int vault_copy_to(struct vault *v, const char *to, size_t *ret_n) SV_WUR;

#endif
