/*
 * internal.h: what the files of the vault share (internal to vault/):
 * the handle and its transactions, the names of the vault's own meta
 * records, and the calls that cross files.
 *   vault.c    the handle's life: the directory, sizes, create, open, lock
 *   keyring.c  the key hierarchy in the store: meta records, unlock slots,
 *              sealed records under given keys, unlocking in steps
 *   records.c  transactions, sealed and raw records, cursors, purpose keys
 *   secret.c   the master secret: backup, restore, rotation
 *   restore.c  the vault's data: backup and restore
 */
#ifndef SSOVAULT_VAULT_INTERNAL_H
#define SSOVAULT_VAULT_INTERNAL_H
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "base/paths.h"
#include "base/units.h"
#include "store/store.h"
#include "vault/vault.h"

#define DEFAULT_MAP_SIZE ((size_t)256 << 20)	/* the map to begin with */
#define DEFAULT_MAX_SIZE ((size_t)4 << 30)	/* the ceiling it grows to */
#define RESERVE_MIN ((size_t)1 << 20)
#define RESERVE_MAX ((size_t)64 << 20)

/* Meta records: the first four are raw, the others sealed; all reserved. */
#define META_PREFIX "vault."
#define META_FORMAT "vault.format"
#define META_ID "vault.id"
#define META_SLOTS "vault.slots"
#define META_MASTER "vault.master"
#define META_CHECK "vault.check"
#define META_AUDITKEY "vault.auditkey"
#define CHECK_TEXT "ssovault check"

#define AD_TICKETS "ssovault tickets v1"
#define AD_AUDIT "ssovault audit v1"

#define KEY_PRINT_MAX 40
#define ROTATE_PROGRESS_EVERY 100

struct vault {
	struct vault_schema schema;	/* the caller's tables (names not copied) */
	char *dir;
	int dirfd;
	const struct vault_store_ops *sops;	/* the backend, from the location */
	size_t map_size;		/* the map to begin with */
	size_t max_size;		/* the ceiling: configured, then the store's */
	int fixed_map;			/* SSOVAULT_MAP_SIZE alone: the map never grows */
	struct vault_store *store;	/* NULL only after a failed restore */
	uint8_t id[VAULT_ID_BYTES];
	struct vault_keys *keys;	/* NULL while locked; frozen */
	uint8_t mine[VAULT_KEYS_NONCE_BYTES];	/* the slot this handle unlocked with */
	int has_mine;
	int stale;			/* a transaction saw another epoch stored (atomic) */
	char mine_name[VAULT_SLOT_NAME_MAX + 1];	/* its name, when shared */
	char msg[SV_MSG_MAX];
};

struct vault_txn {
	struct vault *v;
	struct vault_store_txn *st;
	/*
	 * A shared vault whose secret another host rotated: the keys of the
	 * stored epoch, unwrapped in this transaction with the root key held
	 * (slots.c), so that it reads and seals as the database is.
	 */
	int keys_checked;
	struct vault_keys *nk;		/* NULL: the handle's keys are current */
	int owns_nk;
};

struct vault_cursor {
	struct vault *v;
	const struct vault_keys *keys;	/* the transaction's, at open */
	unsigned tab;
	struct vault_store_cursor *sc;
};


/* vault.c */
/* 1 if table tab of v holds raw values (the schema says so). */
int vault_table_raw(const struct vault *v, unsigned tab);
void vault_key_print(const void *key, size_t klen, char out[KEY_PRINT_MAX + 4]);
int vault_key_reserved(unsigned tab, const void *key, size_t klen);
int vault_meta_is_raw(const void *key, size_t klen);
size_t vault_reserve_of(size_t max_size);
int vault_dir_open(const char *dir, int create, char *msg, int *ret_fd);
void vault_data_where(const struct vault *v, struct vault_store_loc *loc,
    struct vault_store_conf *conf);
int vault_data_open(struct vault *v, int create);

/* keyring.c */
/* Install k (frozen) as the handle's keys, wiping the old ones; NULL locks. */
void vault_keys_install(struct vault *v, struct vault_keys *k);
int vault_meta_raw_get(struct vault *v, struct vault_store_txn *st, const char *name,
    const uint8_t **ret_p, size_t *ret_len);
int vault_meta_put(struct vault_store_txn *st, const char *name, const struct svbuf *b);
int vault_identity_read(struct vault *v, struct vault_store_txn *st,
    uint8_t id[VAULT_ID_BYTES]);
int vault_slots_read(struct vault *v, struct vault_store_txn *st,
    struct vault_slot **ret, size_t *ret_n);
int vault_sealed_open(struct vault *v, const struct vault_keys *k, unsigned tab,
    const void *key, size_t klen, const void *val, size_t vlen,
    struct svbuf **ret_plain);
int vault_sealed_get(struct vault *v, struct vault_store_txn *st,
    const struct vault_keys *k, unsigned tab, const void *key,
    size_t klen, struct svbuf **ret_plain);
int vault_sealed_put(struct vault *v, struct vault_store_txn *st,
    const struct vault_keys *k, unsigned tab, const void *key,
    size_t klen, const void *plain, size_t plen, unsigned flags);
int vault_audit_key_load(struct vault *v, struct vault_store_txn *st,
    struct vault_keys *k);
int vault_master_check(struct vault *v, struct vault_store_txn *st,
    const struct vault_keys *k);
int vault_keys_complete(struct vault *v, struct vault_store_txn *st,
    struct vault_keys *k);
void vault_limits_default(unsigned long long *ops, size_t *mem);
int vault_slots_make(struct vault *v, const struct vault_keys *k, const char *pass,
    size_t passlen, const uint8_t *key, unsigned long long ops, size_t mem,
    struct svbuf *out);
int vault_limits_check(struct vault *v, unsigned long long *ops, size_t *mem);
int vault_records_create(struct vault *v, const struct vault_keys *k,
    const struct svbuf *slots);

/* slots.c */
/* After an unlock: remember the name of the slot that opened (shared vaults). */
void vault_slot_mine_load(struct vault *v, struct vault_store_txn *st);
/* The keys of the epoch stored in st, for a shared vault another host rotated. */
int vault_keys_of_store(struct vault *v, struct vault_store_txn *st,
    struct vault_keys **ret);

/* records.c */
int vault_purpose_key(struct vault *v, enum vault_key k, const uint8_t **ret_key,
    const char **ret_domain, uint32_t *ret_epoch);

#endif
