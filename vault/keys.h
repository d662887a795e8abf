/*
 * keys: the vault's key hierarchy and byte formats (internal to vault/).
 *
 * Unlock slots wrap a root key; the root key wraps the master secret; the
 * records and tickets keys are derived from the master secret; the audit key
 * is random and kept as a sealed record.  This file holds the formats and
 * the cryptography of each layer and nothing of storage: the functions take
 * keys and bytes and give bytes, so that tests can pin every format with
 * known-answer vectors (the nonce and salt arguments, NULL in real use, are
 * for that).  docs/keys.md describes every format byte by byte.
 *
 * Every sealed thing has one layout:
 *   u8 version (1) | u32 epoch | 24-byte nonce | XChaCha20-Poly1305 ct+tag
 * and differs only in its key and associated data.  Integers are big-endian.
 *
 * Conventions: functions that append to a struct svbuf either append all or
 * nothing.  Plaintext comes back in new secure buffers (svbuf_new_secure())
 * owned by the caller.  Messages go to msg (SV_MSG_MAX, may be NULL).
 */
#ifndef SSOVAULT_KEYS_H
#define SSOVAULT_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "ssovault/sverr.h"
#include "base/svbuf.h"

#include <sodium.h>
/* SHA256_CTX: the audit chain's HMAC runs on OpenSSL's SHA-256 (SHA-NI) */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

struct vault;

#define VAULT_KEYS_KEY_BYTES 32
#define VAULT_KEYS_ID_BYTES 16
#define VAULT_KEYS_NONCE_BYTES 24
#define VAULT_KEYS_TAG_BYTES 16
#define VAULT_KEYS_SALT_BYTES 16
#define VAULT_KEYS_VERSION 1
#define VAULT_KEYS_HEADER_BYTES (1 + 4 + VAULT_KEYS_NONCE_BYTES)
#define VAULT_KEYS_OVERHEAD (VAULT_KEYS_HEADER_BYTES + VAULT_KEYS_TAG_BYTES)
#define VAULT_KEYS_HINT_MAX 1024
#define VAULT_KEYS_MAX_SLOTS 64

/* Subkey ids and contexts of crypto_kdf_derive_from_key(). */
#define VAULT_KEYS_RECORDS_ID 1
#define VAULT_KEYS_RECORDS_CTX "ssvrecrd"
#define VAULT_KEYS_TICKETS_ID 2
#define VAULT_KEYS_TICKETS_CTX "ssvticks"

/* The keys of an unlocked vault; only ever in sodium_malloc() memory. */
struct vault_keys {
	uint32_t epoch;
	uint8_t root[VAULT_KEYS_KEY_BYTES];
	uint8_t master[VAULT_KEYS_KEY_BYTES];
	uint8_t records[VAULT_KEYS_KEY_BYTES];
	uint8_t tickets[VAULT_KEYS_KEY_BYTES];
	uint8_t audit[VAULT_KEYS_KEY_BYTES];
	/*
	 * HMAC-SHA256 under audit with its key blocks (key ^ ipad, key ^ opad)
	 * hashed in: set by freeze.  OpenSSL's SHA-256 uses the CPU's SHA
	 * instructions where libsodium's does not: a chained record's MAC
	 * costs a fifth (docs/decisions.md "The audit chain's MAC on OpenSSL's
	 * SHA-256").
	 */
	SHA256_CTX audit_in, audit_out;
};

/* Zeroed, in guarded sodium_malloc() memory; NULL if out of memory. */
struct vault_keys *vault_keys_new(void);
/* Wipes and frees; takes NULL and read-only (frozen) keys. */
void vault_keys_free(struct vault_keys *k);
/* Fill records and tickets from master. */
int vault_keys_derive(struct vault_keys *k) SV_WUR;
/*
 * Make k read-only: it is shared by every thread until freed.  First the
 * audit key's HMAC state is made (every chained record starts from it).
 */
/* HMAC-SHA256 under k->audit of parts[0] | parts[1] | ... (after freeze). */
void vault_keys_audit_mac(const struct vault_keys *k, const void *const *parts,
    const size_t *lens, size_t n, uint8_t out[32]);
void vault_keys_freeze(struct vault_keys *k);
/* 0 if the limits are within Argon2id's minimum and "sensitive", else SV_ERR_INVALID. */
int vault_keys_limits_check(uint64_t opslimit, uint64_t memlimit);

/*
 * The common sealed layout.  seal appends version | epoch | nonce | ct+tag
 * (nonce NULL: random).  peek reads a blob's epoch without opening it.
 * open checks the version and that the blob's epoch is epoch, then
 * decrypts; every failure is SV_ERR_INTEGRITY with the reason in msg:
 * "truncated", "unknown version N", "sealed under key epoch N, vault is at
 * M", or "altered or moved".
 */
int vault_keys_seal(const uint8_t key[VAULT_KEYS_KEY_BYTES], uint32_t epoch,
    const uint8_t *nonce, const void *ad, size_t adlen,
    const void *plain, size_t plen, struct svbuf *out) SV_WUR;
int vault_keys_peek(const void *blob, size_t blen, uint32_t *ret_epoch) SV_WUR;
int vault_keys_open(const uint8_t key[VAULT_KEYS_KEY_BYTES], uint32_t epoch,
    const void *ad, size_t adlen, const void *blob, size_t blen,
    struct svbuf **ret_plain, char *msg) SV_WUR;

/*
 * Sealed records: associated data "ssovault record v1" | u8 table |
 * u32 key length | key.
 */
int vault_keys_record_seal(const uint8_t key[VAULT_KEYS_KEY_BYTES],
    uint32_t epoch, const uint8_t *nonce, unsigned table,
    const void *rkey, size_t rklen, const void *plain, size_t plen,
    struct svbuf *out) SV_WUR;
int vault_keys_record_open(const uint8_t key[VAULT_KEYS_KEY_BYTES],
    uint32_t epoch, unsigned table, const void *rkey, size_t rklen,
    const void *blob, size_t blen, struct svbuf **ret_plain, char *msg) SV_WUR;

/*
 * The master secret under the root key ("vault.master"): associated data
 * "ssovault master v1" | vault id | u32 epoch.  unwrap writes the secret
 * into master (caller's secure memory) and its epoch into *ret_epoch;
 * SV_ERR_WRONG_KEY if root does not open it, SV_ERR_INTEGRITY if malformed.
 */
int vault_keys_master_wrap(const uint8_t root[VAULT_KEYS_KEY_BYTES],
    const uint8_t id[VAULT_KEYS_ID_BYTES], uint32_t epoch,
    const uint8_t master[VAULT_KEYS_KEY_BYTES], const uint8_t *nonce,
    struct svbuf *out) SV_WUR;
int vault_keys_master_unwrap(const uint8_t root[VAULT_KEYS_KEY_BYTES],
    const uint8_t id[VAULT_KEYS_ID_BYTES], const void *blob, size_t blen,
    uint8_t master[VAULT_KEYS_KEY_BYTES], uint32_t *ret_epoch, char *msg) SV_WUR;

/*
 * Unlock slots ("vault.slots": u8 version | u32 count | slots).  A slot is
 * u8 type | (passphrase only: u64 opslimit | u64 memlimit | 16-byte salt) |
 * 24-byte nonce | 48 bytes (the root key sealed under the slot's key, with
 * associated data "ssovault slot v1" | vault id | the slot up to its nonce).
 */
enum vault_slot_type {
	VAULT_SLOT_PASSPHRASE = 1,	/* key = Argon2id13(passphrase, salt, limits) */
	VAULT_SLOT_KEY = 2,		/* key = the 32 bytes of a key file */
};

struct vault_slot {
	uint8_t type;
	uint64_t opslimit;		/* passphrase slots only */
	uint64_t memlimit;
	uint8_t salt[VAULT_KEYS_SALT_BYTES];
	uint8_t nonce[VAULT_KEYS_NONCE_BYTES];
	uint8_t wrapped[VAULT_KEYS_KEY_BYTES + VAULT_KEYS_TAG_BYTES];
};

/*
 * Wrap root into s, whose type (and for a passphrase, limits) the caller has
 * set; secret is the passphrase, or the VAULT_KEYS_KEY_BYTES of a key.  salt
 * and nonce NULL: random.
 */
int vault_keys_slot_make(struct vault_slot *s,
    const uint8_t id[VAULT_KEYS_ID_BYTES], const void *secret, size_t len,
    const uint8_t *salt, const uint8_t *nonce,
    const uint8_t root[VAULT_KEYS_KEY_BYTES]) SV_WUR;
/* SV_ERR_WRONG_KEY if secret does not open s; root is written on success. */
int vault_keys_slot_open(const struct vault_slot *s,
    const uint8_t id[VAULT_KEYS_ID_BYTES], const void *secret, size_t len,
    uint8_t root[VAULT_KEYS_KEY_BYTES]) SV_WUR;
int vault_keys_slots_encode(const struct vault_slot *slots, size_t n,
    struct svbuf *out) SV_WUR;
/* *ret is a malloc'd array of *ret_n (>= 1) slots; SV_ERR_BAD_FORMAT if malformed. */
int vault_keys_slots_decode(const void *p, size_t len,
    struct vault_slot **ret, size_t *ret_n, char *msg) SV_WUR;

/*
 * Secret backups: "SSOVSEC1" | vault id | u64 opslimit | u64 memlimit |
 * 16-byte salt | string hint | 24-byte nonce | ct+tag of master | u32 epoch
 * under Argon2id13(password), with everything before the nonce as
 * associated data.
 */
struct vault_backup_info {
	uint8_t id[VAULT_KEYS_ID_BYTES];
	uint64_t opslimit;
	uint64_t memlimit;
	uint32_t epoch;
};

int vault_keys_backup_make(const uint8_t id[VAULT_KEYS_ID_BYTES],
    uint64_t opslimit, uint64_t memlimit, const uint8_t *salt,
    const uint8_t *nonce, const char *pw, size_t pwlen, const char *hint,
    const uint8_t master[VAULT_KEYS_KEY_BYTES], uint32_t epoch,
    struct svbuf *out) SV_WUR;
/* SV_ERR_BAD_FORMAT if blob is not a backup; *ret_hint malloc'd. */
int vault_keys_backup_hint(const void *blob, size_t len, char **ret_hint,
    char *msg) SV_WUR;
/*
 * What a backup says about itself, without its password: the vault id and
 * the Argon2id limits (epoch 0: it is sealed).  SV_ERR_BAD_FORMAT as for
 * the hint.  For the checks that must come before the costly derivation.
 */
int vault_keys_backup_peek(const void *blob, size_t len,
    struct vault_backup_info *ret_info, char *msg) SV_WUR;
/* SV_ERR_WRONG_KEY ("wrong backup password"); master is caller's secure memory. */
int vault_keys_backup_open(const void *blob, size_t len, const char *pw,
    size_t pwlen, uint8_t master[VAULT_KEYS_KEY_BYTES],
    struct vault_backup_info *ret_info, char *msg) SV_WUR;

/* Tests only: the keys of an unlocked handle (NULL while locked). */
const struct vault_keys *vault_keys_of(const struct vault *v);

#endif
