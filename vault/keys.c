/*
 * The vault's key hierarchy and byte formats (keys.h, docs/keys.md): sealed
 * blobs, records, the wrapped master secret, unlock slots and secret
 * backups.  All cryptography is libsodium's: XChaCha20-Poly1305 (IETF) for
 * every seal, Argon2id13 for passwords, crypto_kdf for purpose keys.  Every
 * byte read from storage or from a backup file is parsed through svbuf;
 * every key and plaintext lives in sodium_malloc() memory or in a stack
 * array wiped before return.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"

#define AD_RECORD "ssovault record v1"
#define AD_MASTER "ssovault master v1"
#define AD_SLOT "ssovault slot v1"
#define BACKUP_MAGIC "SSOVSEC1"
#define BACKUP_MAGIC_LEN 8
#define BACKUP_PLAIN_BYTES (VAULT_KEYS_KEY_BYTES + 4)

struct vault_keys *
vault_keys_new(void)
{
	struct vault_keys *k = sodium_malloc(sizeof(*k));

	if (k != NULL)
		sodium_memzero(k, sizeof(*k));
	return k;
}

void
vault_keys_free(struct vault_keys *k)
{
	/* sodium_free() makes the pages writable again and wipes them */
	if (k != NULL)
		sodium_free(k);
}

int
vault_keys_derive(struct vault_keys *k)
{
	if (crypto_kdf_derive_from_key(k->records, sizeof(k->records),
	    VAULT_KEYS_RECORDS_ID, VAULT_KEYS_RECORDS_CTX, k->master) != 0 ||
	    crypto_kdf_derive_from_key(k->tickets, sizeof(k->tickets),
	    VAULT_KEYS_TICKETS_ID, VAULT_KEYS_TICKETS_CTX, k->master) != 0)
		return SV_ERR_CRYPTO;
	return 0;
}

/* SHA-256 of one block: key ^ pad (RFC 2104; a key shorter than the block is zero-padded). */
static void
pad_state(SHA256_CTX *c, const uint8_t key[VAULT_KEYS_KEY_BYTES], uint8_t pad)
{
	uint8_t block[64];
	size_t i;

	for (i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)((i < VAULT_KEYS_KEY_BYTES ? key[i] : 0) ^ pad);
	SHA256_Init(c);
	SHA256_Update(c, block, sizeof(block));
	sodium_memzero(block, sizeof(block));
}

void
vault_keys_freeze(struct vault_keys *k)
{
	pad_state(&k->audit_in, k->audit, 0x36);
	pad_state(&k->audit_out, k->audit, 0x5c);
	/* hardening only: where mprotect is refused the keys stay writable */
	(void)sodium_mprotect_readonly(k);
}

void
vault_keys_audit_mac(const struct vault_keys *k, const void *const *parts,
    const size_t *lens, size_t n, uint8_t out[32])
{
	uint8_t inner[SHA256_DIGEST_LENGTH];
	SHA256_CTX c = k->audit_in;
	size_t i;

	for (i = 0; i < n; i++)
		SHA256_Update(&c, parts[i], lens[i]);
	SHA256_Final(inner, &c);
	c = k->audit_out;
	SHA256_Update(&c, inner, sizeof(inner));
	SHA256_Final(out, &c);
	sodium_memzero(&c, sizeof(c));
	sodium_memzero(inner, sizeof(inner));
}

int
vault_keys_limits_check(uint64_t opslimit, uint64_t memlimit)
{
	/*
	 * Limits are read from slots and backup files that others may have
	 * written: above "sensitive", one unlock or restore could take hours.
	 */
	if (opslimit < crypto_pwhash_OPSLIMIT_MIN ||
	    opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE ||
	    memlimit < crypto_pwhash_MEMLIMIT_MIN ||
	    memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE || memlimit > SIZE_MAX)
		return SV_ERR_INVALID;
	return 0;
}

int
vault_keys_seal(const uint8_t key[VAULT_KEYS_KEY_BYTES], uint32_t epoch,
    const uint8_t *nonce, const void *ad, size_t adlen,
    const void *plain, size_t plen, struct svbuf *out)
{
	uint8_t n[VAULT_KEYS_NONCE_BYTES];
	struct svbuf *hdr = NULL;
	uint8_t *p;
	unsigned long long clen;
	int r;

	if (plen > SIZE_MAX - VAULT_KEYS_OVERHEAD)
		return SV_ERR_TOO_LARGE;
	if (nonce != NULL)
		memcpy(n, nonce, sizeof(n));
	else
		randombytes_buf(n, sizeof(n));
	if ((hdr = svbuf_new(VAULT_KEYS_HEADER_BYTES)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = svbuf_put_u8(hdr, VAULT_KEYS_VERSION)) != 0 ||
	    (r = svbuf_put_u32(hdr, epoch)) != 0 ||
	    (r = svbuf_put(hdr, n, sizeof(n))) != 0)
		goto out;
	/* one reservation, so that a failure leaves out as it was */
	if ((r = svbuf_reserve(out, VAULT_KEYS_OVERHEAD + plen, &p)) != 0)
		goto out;
	memcpy(p, svbuf_ptr(hdr), VAULT_KEYS_HEADER_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(p + VAULT_KEYS_HEADER_BYTES,
	    &clen, plain, plen, ad, adlen, NULL, n, key);
	r = 0;
out:
	svbuf_free(hdr);
	return r;
}

/* Parse the header; on success b is left at the ciphertext. */
static int
sealed_header(struct svbuf *b, uint32_t *ret_epoch, uint8_t nonce[VAULT_KEYS_NONCE_BYTES],
    char *msg)
{
	uint8_t version;

	if (svbuf_len(b) < VAULT_KEYS_OVERHEAD)
		return sv_fail(msg, SV_ERR_INTEGRITY, "truncated");
	if (svbuf_get_u8(b, &version) != 0)
		return SV_ERR_INTERNAL;
	if (version != VAULT_KEYS_VERSION)
		return sv_fail(msg, SV_ERR_INTEGRITY, "unknown version %u", version);
	if (svbuf_get_u32(b, ret_epoch) != 0 ||
	    svbuf_get(b, nonce, VAULT_KEYS_NONCE_BYTES) != 0)
		return SV_ERR_INTERNAL;
	return 0;
}

int
vault_keys_peek(const void *blob, size_t blen, uint32_t *ret_epoch)
{
	struct svbuf *b;
	uint8_t n[VAULT_KEYS_NONCE_BYTES];
	uint32_t epoch;
	int r;

	if ((b = svbuf_from(blob, blen)) == NULL)
		return SV_ERR_NOMEM;
	if ((r = sealed_header(b, &epoch, n, NULL)) == 0)
		*ret_epoch = epoch;
	svbuf_free(b);
	return r;
}

int
vault_keys_open(const uint8_t key[VAULT_KEYS_KEY_BYTES], uint32_t epoch,
    const void *ad, size_t adlen, const void *blob, size_t blen,
    struct svbuf **ret_plain, char *msg)
{
	struct svbuf *b = NULL, *plain = NULL;
	uint8_t n[VAULT_KEYS_NONCE_BYTES], dummy, *p;
	uint32_t seen;
	size_t clen, plen;
	int r;

	if ((b = svbuf_from(blob, blen)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = sealed_header(b, &seen, n, msg)) != 0)
		goto out;
	if (seen != epoch) {
		r = sv_fail(msg, SV_ERR_INTEGRITY,
		    "sealed under key epoch %lu, vault is at %lu",
		    (unsigned long)seen, (unsigned long)epoch);
		goto out;
	}
	clen = svbuf_len(b);
	plen = clen - VAULT_KEYS_TAG_BYTES;
	if ((plain = svbuf_new_secure(plen == 0 ? 1 : plen)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	p = &dummy;
	if (plen > 0 && (r = svbuf_reserve(plain, plen, &p)) != 0)
		goto out;
	/* libsodium checks the tag before it writes a byte of plaintext */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(p,
	    NULL, NULL, svbuf_ptr(b), clen, ad, adlen, n, key) != 0) {
		r = sv_fail(msg, SV_ERR_INTEGRITY, "altered or moved");
		goto out;
	}
	*ret_plain = plain;
	plain = NULL;
	r = 0;
out:
	svbuf_free(plain);
	svbuf_free(b);
	sodium_memzero(n, sizeof(n));
	return r;
}

static int
record_ad(unsigned table, const void *rkey, size_t rklen, struct svbuf **ret)
{
	struct svbuf *ad;
	int r;

	if (table > UINT8_MAX || rklen > UINT32_MAX)
		return SV_ERR_INVALID;
	if ((ad = svbuf_new(0)) == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_put(ad, AD_RECORD, strlen(AD_RECORD))) != 0 ||
	    (r = svbuf_put_u8(ad, (uint8_t)table)) != 0 ||
	    (r = svbuf_put_string(ad, rkey, rklen)) != 0) {
		svbuf_free(ad);
		return r;
	}
	*ret = ad;
	return 0;
}

int
vault_keys_record_seal(const uint8_t key[VAULT_KEYS_KEY_BYTES],
    uint32_t epoch, const uint8_t *nonce, unsigned table,
    const void *rkey, size_t rklen, const void *plain, size_t plen,
    struct svbuf *out)
{
	struct svbuf *ad = NULL;
	int r;

	if ((r = record_ad(table, rkey, rklen, &ad)) != 0)
		return r;
	r = vault_keys_seal(key, epoch, nonce, svbuf_ptr(ad), svbuf_len(ad),
	    plain, plen, out);
	svbuf_free(ad);
	return r;
}

int
vault_keys_record_open(const uint8_t key[VAULT_KEYS_KEY_BYTES],
    uint32_t epoch, unsigned table, const void *rkey, size_t rklen,
    const void *blob, size_t blen, struct svbuf **ret_plain, char *msg)
{
	struct svbuf *ad = NULL;
	int r;

	if ((r = record_ad(table, rkey, rklen, &ad)) != 0)
		return r;
	r = vault_keys_open(key, epoch, svbuf_ptr(ad), svbuf_len(ad),
	    blob, blen, ret_plain, msg);
	svbuf_free(ad);
	return r;
}

static int
master_ad(const uint8_t id[VAULT_KEYS_ID_BYTES], uint32_t epoch,
    struct svbuf **ret)
{
	struct svbuf *ad;
	int r;

	if ((ad = svbuf_new(0)) == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_put(ad, AD_MASTER, strlen(AD_MASTER))) != 0 ||
	    (r = svbuf_put(ad, id, VAULT_KEYS_ID_BYTES)) != 0 ||
	    (r = svbuf_put_u32(ad, epoch)) != 0) {
		svbuf_free(ad);
		return r;
	}
	*ret = ad;
	return 0;
}

int
vault_keys_master_wrap(const uint8_t root[VAULT_KEYS_KEY_BYTES],
    const uint8_t id[VAULT_KEYS_ID_BYTES], uint32_t epoch,
    const uint8_t master[VAULT_KEYS_KEY_BYTES], const uint8_t *nonce,
    struct svbuf *out)
{
	struct svbuf *ad = NULL;
	int r;

	if ((r = master_ad(id, epoch, &ad)) != 0)
		return r;
	r = vault_keys_seal(root, epoch, nonce, svbuf_ptr(ad), svbuf_len(ad),
	    master, VAULT_KEYS_KEY_BYTES, out);
	svbuf_free(ad);
	return r;
}

int
vault_keys_master_unwrap(const uint8_t root[VAULT_KEYS_KEY_BYTES],
    const uint8_t id[VAULT_KEYS_ID_BYTES], const void *blob, size_t blen,
    uint8_t master[VAULT_KEYS_KEY_BYTES], uint32_t *ret_epoch, char *msg)
{
	struct svbuf *ad = NULL, *plain = NULL;
	uint32_t epoch;
	int r;

	if ((r = vault_keys_peek(blob, blen, &epoch)) != 0) {
		r = sv_fail(msg, SV_ERR_INTEGRITY, "vault.master is malformed");
		goto out;
	}
	if ((r = master_ad(id, epoch, &ad)) != 0)
		goto out;
	r = vault_keys_open(root, epoch, svbuf_ptr(ad), svbuf_len(ad), blob,
	    blen, &plain, NULL);
	if (r == SV_ERR_INTEGRITY) {
		r = sv_fail(msg, SV_ERR_WRONG_KEY,
		    "the root key does not open vault.master");
		goto out;
	}
	if (r != 0)
		goto out;
	if (svbuf_len(plain) != VAULT_KEYS_KEY_BYTES) {
		r = sv_fail(msg, SV_ERR_INTEGRITY, "vault.master has a bad length");
		goto out;
	}
	memcpy(master, svbuf_ptr(plain), VAULT_KEYS_KEY_BYTES);
	*ret_epoch = epoch;
	r = 0;
out:
	svbuf_free(plain);
	svbuf_free(ad);
	return r;
}

/* The slot up to its nonce: what the slot's associated data binds. */
static int
slot_header(const struct vault_slot *s, struct svbuf *b)
{
	int r;

	if ((r = svbuf_put_u8(b, s->type)) != 0)
		return r;
	if (s->type != VAULT_SLOT_PASSPHRASE)
		return 0;
	if ((r = svbuf_put_u64(b, s->opslimit)) != 0 ||
	    (r = svbuf_put_u64(b, s->memlimit)) != 0 ||
	    (r = svbuf_put(b, s->salt, sizeof(s->salt))) != 0)
		return r;
	return 0;
}

static int
slot_ad(const struct vault_slot *s, const uint8_t id[VAULT_KEYS_ID_BYTES],
    struct svbuf **ret)
{
	struct svbuf *ad;
	int r;

	if ((ad = svbuf_new(0)) == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_put(ad, AD_SLOT, strlen(AD_SLOT))) != 0 ||
	    (r = svbuf_put(ad, id, VAULT_KEYS_ID_BYTES)) != 0 ||
	    (r = slot_header(s, ad)) != 0) {
		svbuf_free(ad);
		return r;
	}
	*ret = ad;
	return 0;
}

/* The key that wraps the root key in slot s. */
static int
slot_kek(const struct vault_slot *s, const void *secret, size_t len,
    uint8_t kek[VAULT_KEYS_KEY_BYTES])
{
	switch (s->type) {
	case VAULT_SLOT_PASSPHRASE:
		if (vault_keys_limits_check(s->opslimit, s->memlimit) != 0)
			return SV_ERR_INVALID;
		/* fails only when the memory cannot be had */
		if (crypto_pwhash(kek, VAULT_KEYS_KEY_BYTES, secret, len,
		    s->salt, s->opslimit, (size_t)s->memlimit,
		    crypto_pwhash_ALG_ARGON2ID13) != 0)
			return SV_ERR_NOMEM;
		return 0;
	case VAULT_SLOT_KEY:
		if (len != VAULT_KEYS_KEY_BYTES)
			return SV_ERR_INVALID;
		memcpy(kek, secret, VAULT_KEYS_KEY_BYTES);
		return 0;
	default:
		return SV_ERR_INVALID;
	}
}

int
vault_keys_slot_make(struct vault_slot *s,
    const uint8_t id[VAULT_KEYS_ID_BYTES], const void *secret, size_t len,
    const uint8_t *salt, const uint8_t *nonce,
    const uint8_t root[VAULT_KEYS_KEY_BYTES])
{
	uint8_t kek[VAULT_KEYS_KEY_BYTES];
	struct svbuf *ad = NULL;
	unsigned long long clen;
	int r;

	if (s->type == VAULT_SLOT_PASSPHRASE) {
		if (salt != NULL)
			memcpy(s->salt, salt, sizeof(s->salt));
		else
			randombytes_buf(s->salt, sizeof(s->salt));
	} else {
		memset(s->salt, 0, sizeof(s->salt));
		s->opslimit = s->memlimit = 0;
	}
	if (nonce != NULL)
		memcpy(s->nonce, nonce, sizeof(s->nonce));
	else
		randombytes_buf(s->nonce, sizeof(s->nonce));
	if ((r = slot_kek(s, secret, len, kek)) != 0 ||
	    (r = slot_ad(s, id, &ad)) != 0)
		goto out;
	crypto_aead_xchacha20poly1305_ietf_encrypt(s->wrapped, &clen,
	    root, VAULT_KEYS_KEY_BYTES, svbuf_ptr(ad), svbuf_len(ad), NULL,
	    s->nonce, kek);
	r = 0;
out:
	sodium_memzero(kek, sizeof(kek));
	svbuf_free(ad);
	return r;
}

int
vault_keys_slot_open(const struct vault_slot *s,
    const uint8_t id[VAULT_KEYS_ID_BYTES], const void *secret, size_t len,
    uint8_t root[VAULT_KEYS_KEY_BYTES])
{
	uint8_t kek[VAULT_KEYS_KEY_BYTES];
	struct svbuf *ad = NULL;
	int r;

	if ((r = slot_kek(s, secret, len, kek)) != 0) {
		/* a key of the wrong size is simply not the key */
		if (r == SV_ERR_INVALID)
			r = SV_ERR_WRONG_KEY;
		goto out;
	}
	if ((r = slot_ad(s, id, &ad)) != 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(root, NULL, NULL,
	    s->wrapped, sizeof(s->wrapped), svbuf_ptr(ad), svbuf_len(ad),
	    s->nonce, kek) != 0) {
		r = SV_ERR_WRONG_KEY;
		goto out;
	}
	r = 0;
out:
	sodium_memzero(kek, sizeof(kek));
	svbuf_free(ad);
	return r;
}

int
vault_keys_slots_encode(const struct vault_slot *slots, size_t n,
    struct svbuf *out)
{
	struct svbuf *b;
	size_t i;
	int r;

	if (n == 0 || n > VAULT_KEYS_MAX_SLOTS)
		return SV_ERR_INVALID;
	if ((b = svbuf_new(0)) == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_put_u8(b, VAULT_KEYS_VERSION)) != 0 ||
	    (r = svbuf_put_u32(b, (uint32_t)n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = slot_header(&slots[i], b)) != 0 ||
		    (r = svbuf_put(b, slots[i].nonce, sizeof(slots[i].nonce))) != 0 ||
		    (r = svbuf_put(b, slots[i].wrapped, sizeof(slots[i].wrapped))) != 0)
			goto out;
	}
	r = svbuf_put(out, svbuf_ptr(b), svbuf_len(b));
out:
	svbuf_free(b);
	return r;
}

/* One slot; SV_ERR_TRUNCATED if the bytes run out, SV_ERR_BAD_FORMAT if wrong. */
static int
slot_decode(struct svbuf *b, struct vault_slot *s, uint32_t i, char *msg)
{
	if (svbuf_get_u8(b, &s->type) != 0)
		return SV_ERR_TRUNCATED;
	if (s->type == VAULT_SLOT_PASSPHRASE) {
		if (svbuf_get_u64(b, &s->opslimit) != 0 ||
		    svbuf_get_u64(b, &s->memlimit) != 0 ||
		    svbuf_get(b, s->salt, sizeof(s->salt)) != 0)
			return SV_ERR_TRUNCATED;
		if (vault_keys_limits_check(s->opslimit, s->memlimit) != 0)
			return sv_fail(msg, SV_ERR_BAD_FORMAT,
			    "slot %lu has bad Argon2id limits", (unsigned long)i);
	} else if (s->type != VAULT_SLOT_KEY) {
		return sv_fail(msg, SV_ERR_BAD_FORMAT, "slot %lu has unknown type %u",
		    (unsigned long)i, s->type);
	}
	if (svbuf_get(b, s->nonce, sizeof(s->nonce)) != 0 ||
	    svbuf_get(b, s->wrapped, sizeof(s->wrapped)) != 0)
		return SV_ERR_TRUNCATED;
	return 0;
}

int
vault_keys_slots_decode(const void *p, size_t len, struct vault_slot **ret,
    size_t *ret_n, char *msg)
{
	struct svbuf *b = NULL;
	struct vault_slot *slots = NULL;
	uint8_t version;
	uint32_t n, i;
	int r;

	if ((b = svbuf_from(p, len)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if (svbuf_get_u8(b, &version) != 0 || svbuf_get_u32(b, &n) != 0) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "vault.slots is truncated");
		goto out;
	}
	if (version != VAULT_KEYS_VERSION) {
		r = sv_fail(msg, SV_ERR_VERSION, "vault.slots has version %u", version);
		goto out;
	}
	if (n == 0 || n > VAULT_KEYS_MAX_SLOTS) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "vault.slots holds %lu slots",
		    (unsigned long)n);
		goto out;
	}
	if ((slots = calloc(n, sizeof(*slots))) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = slot_decode(b, &slots[i], i, msg)) == SV_ERR_TRUNCATED) {
			r = sv_fail(msg, SV_ERR_BAD_FORMAT, "vault.slots is truncated");
			goto out;
		}
		if (r != 0)
			goto out;
	}
	if (svbuf_expect_end(b) != 0) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT,
		    "vault.slots is followed by trailing bytes");
		goto out;
	}
	*ret = slots;
	*ret_n = n;
	slots = NULL;
	r = 0;
out:
	free(slots);
	svbuf_free(b);
	return r;
}

static int
hint_check(const uint8_t *p, size_t len)
{
	size_t i;

	if (len > VAULT_KEYS_HINT_MAX)
		return SV_ERR_TOO_LARGE;
	/* shown on terminals: no control characters, no NUL */
	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return SV_ERR_INVALID;
	return 0;
}

static int
backup_kek(const char *pw, size_t pwlen, const uint8_t *salt, uint64_t ops,
    uint64_t mem, uint8_t kek[VAULT_KEYS_KEY_BYTES])
{
	if (vault_keys_limits_check(ops, mem) != 0)
		return SV_ERR_INVALID;
	if (crypto_pwhash(kek, VAULT_KEYS_KEY_BYTES, pw, pwlen, salt, ops,
	    (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return SV_ERR_NOMEM;
	return 0;
}

int
vault_keys_backup_make(const uint8_t id[VAULT_KEYS_ID_BYTES],
    uint64_t opslimit, uint64_t memlimit, const uint8_t *salt,
    const uint8_t *nonce, const char *pw, size_t pwlen, const char *hint,
    const uint8_t master[VAULT_KEYS_KEY_BYTES], uint32_t epoch,
    struct svbuf *out)
{
	uint8_t s[VAULT_KEYS_SALT_BYTES], n[VAULT_KEYS_NONCE_BYTES];
	uint8_t kek[VAULT_KEYS_KEY_BYTES], *p;
	struct svbuf *b = NULL, *plain = NULL;
	size_t adlen, hlen = hint == NULL ? 0 : strlen(hint);
	unsigned long long clen;
	int r;

	if ((r = hint_check((const uint8_t *)hint, hlen)) != 0)
		goto out;
	if (salt != NULL)
		memcpy(s, salt, sizeof(s));
	else
		randombytes_buf(s, sizeof(s));
	if (nonce != NULL)
		memcpy(n, nonce, sizeof(n));
	else
		randombytes_buf(n, sizeof(n));
	if ((b = svbuf_new(0)) == NULL ||
	    (plain = svbuf_new_secure(BACKUP_PLAIN_BYTES)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = svbuf_put(b, BACKUP_MAGIC, BACKUP_MAGIC_LEN)) != 0 ||
	    (r = svbuf_put(b, id, VAULT_KEYS_ID_BYTES)) != 0 ||
	    (r = svbuf_put_u64(b, opslimit)) != 0 ||
	    (r = svbuf_put_u64(b, memlimit)) != 0 ||
	    (r = svbuf_put(b, s, sizeof(s))) != 0 ||
	    (r = svbuf_put_string(b, hint == NULL ? "" : hint, hlen)) != 0 ||
	    (r = svbuf_put(plain, master, VAULT_KEYS_KEY_BYTES)) != 0 ||
	    (r = svbuf_put_u32(plain, epoch)) != 0 ||
	    (r = backup_kek(pw, pwlen, s, opslimit, memlimit, kek)) != 0)
		goto out;
	/* the associated data is everything before the nonce */
	adlen = svbuf_len(b);
	if ((r = svbuf_put(b, n, sizeof(n))) != 0 ||
	    (r = svbuf_reserve(b, BACKUP_PLAIN_BYTES + VAULT_KEYS_TAG_BYTES,
	    &p)) != 0)
		goto out;
	crypto_aead_xchacha20poly1305_ietf_encrypt(p, &clen, svbuf_ptr(plain),
	    svbuf_len(plain), svbuf_ptr(b), adlen, NULL, n, kek);
	r = svbuf_put(out, svbuf_ptr(b), svbuf_len(b));
out:
	sodium_memzero(kek, sizeof(kek));
	svbuf_free(plain);
	svbuf_free(b);
	return r;
}

struct backup_parts {
	uint8_t id[VAULT_KEYS_ID_BYTES];
	uint64_t opslimit;
	uint64_t memlimit;
	uint8_t salt[VAULT_KEYS_SALT_BYTES];
	const uint8_t *hint;
	size_t hintlen;
	size_t adlen;
	uint8_t nonce[VAULT_KEYS_NONCE_BYTES];
	const uint8_t *ct;
	size_t ctlen;
};

static int
backup_parse(const void *blob, size_t len, struct backup_parts *bp, char *msg)
{
	struct svbuf *b;
	uint8_t magic[BACKUP_MAGIC_LEN];
	int r;

	if ((b = svbuf_from(blob, len)) == NULL)
		return SV_ERR_NOMEM;
	if (svbuf_get(b, magic, sizeof(magic)) != 0 ||
	    memcmp(magic, BACKUP_MAGIC, BACKUP_MAGIC_LEN) != 0) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "not an ssovault secret backup");
		goto out;
	}
	if (svbuf_get(b, bp->id, sizeof(bp->id)) != 0 ||
	    svbuf_get_u64(b, &bp->opslimit) != 0 ||
	    svbuf_get_u64(b, &bp->memlimit) != 0 ||
	    svbuf_get(b, bp->salt, sizeof(bp->salt)) != 0 ||
	    svbuf_get_string_direct(b, &bp->hint, &bp->hintlen) != 0) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "secret backup is truncated");
		goto out;
	}
	if (hint_check(bp->hint, bp->hintlen) != 0) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "secret backup has a bad hint");
		goto out;
	}
	if (vault_keys_limits_check(bp->opslimit, bp->memlimit) != 0) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT,
		    "secret backup has bad Argon2id limits");
		goto out;
	}
	bp->adlen = len - svbuf_len(b);
	if (svbuf_get(b, bp->nonce, sizeof(bp->nonce)) != 0 ||
	    svbuf_len(b) < BACKUP_PLAIN_BYTES + VAULT_KEYS_TAG_BYTES) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT, "secret backup is truncated");
		goto out;
	}
	if (svbuf_len(b) > BACKUP_PLAIN_BYTES + VAULT_KEYS_TAG_BYTES) {
		r = sv_fail(msg, SV_ERR_BAD_FORMAT,
		    "secret backup is followed by trailing bytes");
		goto out;
	}
	bp->ct = svbuf_ptr(b);
	bp->ctlen = svbuf_len(b);
	r = 0;
out:
	svbuf_free(b);
	return r;
}

int
vault_keys_backup_hint(const void *blob, size_t len, char **ret_hint, char *msg)
{
	struct backup_parts bp;
	char *h;
	int r;

	if ((r = backup_parse(blob, len, &bp, msg)) != 0)
		return r;
	if ((h = malloc(bp.hintlen + 1)) == NULL)
		return SV_ERR_NOMEM;
	if (bp.hintlen > 0)
		memcpy(h, bp.hint, bp.hintlen);
	h[bp.hintlen] = '\0';
	*ret_hint = h;
	return 0;
}

int
vault_keys_backup_peek(const void *blob, size_t len,
    struct vault_backup_info *ret_info, char *msg)
{
	struct backup_parts bp;
	int r;

	if ((r = backup_parse(blob, len, &bp, msg)) != 0)
		return r;
	memset(ret_info, 0, sizeof(*ret_info));
	memcpy(ret_info->id, bp.id, sizeof(bp.id));
	ret_info->opslimit = bp.opslimit;
	ret_info->memlimit = bp.memlimit;
	return 0;
}

int
vault_keys_backup_open(const void *blob, size_t len, const char *pw,
    size_t pwlen, uint8_t master[VAULT_KEYS_KEY_BYTES],
    struct vault_backup_info *ret_info, char *msg)
{
	struct backup_parts bp;
	struct svbuf *plain = NULL, *view = NULL;
	uint8_t kek[VAULT_KEYS_KEY_BYTES], *p;
	uint32_t epoch;
	int r;

	if ((r = backup_parse(blob, len, &bp, msg)) != 0)
		goto out;
	if ((r = backup_kek(pw, pwlen, bp.salt, bp.opslimit, bp.memlimit, kek)) != 0) {
		r = sv_fail(msg, r, "cannot derive the backup key");
		goto out;
	}
	if ((plain = svbuf_new_secure(BACKUP_PLAIN_BYTES)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = svbuf_reserve(plain, BACKUP_PLAIN_BYTES, &p)) != 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(p, NULL, NULL, bp.ct,
	    bp.ctlen, blob, bp.adlen, bp.nonce, kek) != 0) {
		r = sv_fail(msg, SV_ERR_WRONG_KEY, "wrong backup password");
		goto out;
	}
	if ((view = svbuf_from(p + VAULT_KEYS_KEY_BYTES, 4)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = svbuf_get_u32(view, &epoch)) != 0)
		goto out;
	memcpy(master, p, VAULT_KEYS_KEY_BYTES);
	memcpy(ret_info->id, bp.id, sizeof(bp.id));
	ret_info->opslimit = bp.opslimit;
	ret_info->memlimit = bp.memlimit;
	ret_info->epoch = epoch;
	r = 0;
out:
	sodium_memzero(kek, sizeof(kek));
	svbuf_free(view);
	svbuf_free(plain);
	return r;
}
