/*
 * keyring.c: the key hierarchy as the store holds it (docs/keys.md): the
 * vault's own meta records (format, id, unlock slots, wrapped master
 * secret, check record, audit key), sealed records under given keys, a new
 * vault's first records, and unlocking in three steps.
 */
#include "internal.h"

void
vault_keys_install(struct vault *v, struct vault_keys *k)
{
	if (k != NULL)
		vault_keys_freeze(k);
	vault_keys_free(v->keys);
	v->keys = k;
}

int
vault_meta_raw_get(struct vault *v, struct vault_store_txn *st, const char *name,
    const uint8_t **ret_p, size_t *ret_len)
{
	int r;

	r = vault_store_get(st, VAULT_TABLE_META, name, strlen(name), ret_p, ret_len);
	if (r == SV_ERR_NOT_FOUND)
		return sv_fail(v->msg, SV_ERR_BAD_FORMAT,
		    "%s is not a vault: it has no %s record", v->dir, name);
	return r;
}

int
vault_meta_put(struct vault_store_txn *st, const char *name, const struct svbuf *b)
{
	return vault_store_put(st, VAULT_TABLE_META, name, strlen(name),
	    svbuf_ptr(b), svbuf_len(b), 0);
}

/* Check vault.format and read vault.id of the store st belongs to. */
int
vault_identity_read(struct vault *v, struct vault_store_txn *st,
    uint8_t id[VAULT_ID_BYTES])
{
	struct svbuf *b = NULL;
	const uint8_t *p;
	size_t len;
	uint32_t format;
	int r;

	if ((r = vault_meta_raw_get(v, st, META_FORMAT, &p, &len)) != 0)
		goto out;
	if ((b = svbuf_from(p, len)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if (svbuf_get_u32(b, &format) != 0 || svbuf_expect_end(b) != 0) {
		r = sv_fail(v->msg, SV_ERR_BAD_FORMAT, "vault.format is malformed");
		goto out;
	}
	if (format != VAULT_FORMAT_VERSION) {
		r = sv_fail(v->msg, SV_ERR_VERSION,
		    "vault format %lu is not supported (this build reads %d)",
		    (unsigned long)format, VAULT_FORMAT_VERSION);
		goto out;
	}
	if ((r = vault_meta_raw_get(v, st, META_ID, &p, &len)) != 0)
		goto out;
	if (len != VAULT_ID_BYTES) {
		r = sv_fail(v->msg, SV_ERR_BAD_FORMAT, "vault.id is malformed");
		goto out;
	}
	memcpy(id, p, VAULT_ID_BYTES);
	r = 0;
out:
	svbuf_free(b);
	return r;
}

int
vault_slots_read(struct vault *v, struct vault_store_txn *st,
    struct vault_slot **ret, size_t *ret_n)
{
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = vault_meta_raw_get(v, st, META_SLOTS, &p, &len)) != 0)
		return r;
	return vault_keys_slots_decode(p, len, ret, ret_n, v->msg);
}

/* Open a sealed value of tab/key under the records key of k. */
int
vault_sealed_open(struct vault *v, const struct vault_keys *k, unsigned tab,
    const void *key, size_t klen, const void *val, size_t vlen,
    struct svbuf **ret_plain)
{
	char why[SV_MSG_MAX], kp[KEY_PRINT_MAX + 4];
	int r;

	why[0] = '\0';
	r = vault_keys_record_open(k->records, k->epoch, tab, key, klen, val,
	    vlen, ret_plain, why);
	if (r == 0)
		return 0;
	vault_key_print(key, klen, kp);
	if (r == SV_ERR_INTEGRITY)
		return sv_fail(v->msg, r,
		    "record %s/%s failed its integrity check (%s)",
		    vault_table_name(v, tab), kp, why);
	return sv_fail(v->msg, r, "record %s/%s: %s", vault_table_name(v, tab),
	    kp, sv_strerror(r));
}

int
vault_sealed_get(struct vault *v, struct vault_store_txn *st,
    const struct vault_keys *k, unsigned tab, const void *key,
    size_t klen, struct svbuf **ret_plain)
{
	char kp[KEY_PRINT_MAX + 4];
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = vault_store_get(st, tab, key, klen, &p, &len)) != 0) {
		if (r == SV_ERR_NOT_FOUND) {
			vault_key_print(key, klen, kp);
			sv_fail(v->msg, r, "record %s/%s not found",
			    vault_table_name(v, tab), kp);
		}
		return r;
	}
	/* p points into the map: it is opened here, inside the transaction */
	return vault_sealed_open(v, k, tab, key, klen, p, len, ret_plain);
}

int
vault_sealed_put(struct vault *v, struct vault_store_txn *st,
    const struct vault_keys *k, unsigned tab, const void *key,
    size_t klen, const void *plain, size_t plen, unsigned flags)
{
	char kp[KEY_PRINT_MAX + 4];
	struct svbuf *b;
	int r;

	if ((b = svbuf_new(0)) == NULL)
		return sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
	if ((r = vault_keys_record_seal(k->records, k->epoch, NULL, tab, key,
	    klen, plain, plen, b)) != 0) {
		r = sv_fail(v->msg, r, "cannot seal a record of %zu bytes", plen);
		goto out;
	}
	r = vault_store_put(st, tab, key, klen, svbuf_ptr(b), svbuf_len(b),
	    (flags & VAULT_PUT_NOOVERWRITE) ? VAULT_STORE_NOOVERWRITE : 0);
	if (r == SV_ERR_EXISTS) {
		vault_key_print(key, klen, kp);
		sv_fail(v->msg, r, "record %s/%s already exists",
		    vault_table_name(v, tab), kp);
	}
out:
	svbuf_free(b);
	return r;
}

int
vault_audit_key_load(struct vault *v, struct vault_store_txn *st,
    struct vault_keys *k)
{
	struct svbuf *plain = NULL;
	int r;

	if ((r = vault_sealed_get(v, st, k, VAULT_TABLE_META, META_AUDITKEY,
	    strlen(META_AUDITKEY), &plain)) != 0)
		return r;
	if (svbuf_len(plain) != VAULT_KEYS_KEY_BYTES) {
		r = sv_fail(v->msg, SV_ERR_INTEGRITY, "vault.auditkey has a bad length");
		goto out;
	}
	memcpy(k->audit, svbuf_ptr(plain), VAULT_KEYS_KEY_BYTES);
	r = 0;
out:
	svbuf_free(plain);
	return r;
}

/* Does the master secret in k open vault.check?  0 or SV_ERR_INTEGRITY. */
int
vault_master_check(struct vault *v, struct vault_store_txn *st,
    const struct vault_keys *k)
{
	struct svbuf *plain = NULL;
	size_t tl = strlen(CHECK_TEXT);
	int r;

	if ((r = vault_sealed_get(v, st, k, VAULT_TABLE_META, META_CHECK,
	    strlen(META_CHECK), &plain)) != 0)
		return r;
	if (svbuf_len(plain) != tl + VAULT_ID_BYTES ||
	    memcmp(svbuf_ptr(plain), CHECK_TEXT, tl) != 0 ||
	    memcmp(svbuf_ptr(plain) + tl, v->id, VAULT_ID_BYTES) != 0)
		r = sv_fail(v->msg, SV_ERR_INTEGRITY, "vault.check has unexpected content");
	svbuf_free(plain);
	return r;
}

/*
 * With k->root set, unwrap the master secret stored in st, derive the
 * purpose keys and read the audit key: k becomes the keys of the vault.
 */
int
vault_keys_complete(struct vault *v, struct vault_store_txn *st, struct vault_keys *k)
{
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = vault_meta_raw_get(v, st, META_MASTER, &p, &len)) != 0 ||
	    (r = vault_keys_master_unwrap(k->root, v->id, p, len, k->master,
	    &k->epoch, v->msg)) != 0)
		return r;
	if ((r = vault_keys_derive(k)) != 0)
		return sv_fail(v->msg, r, "cannot derive the purpose keys");
	return vault_audit_key_load(v, st, k);
}

void
vault_limits_default(unsigned long long *ops, size_t *mem)
{
	*ops = crypto_pwhash_OPSLIMIT_MODERATE;
	*mem = crypto_pwhash_MEMLIMIT_MODERATE;
}

/* Make the slots of a passphrase and/or key wrapping k->root. */
int
vault_slots_make(struct vault *v, const struct vault_keys *k, const char *pass,
    size_t passlen, const uint8_t *key, unsigned long long ops, size_t mem,
    struct svbuf *out)
{
	struct vault_slot slots[2];
	size_t n = 0;
	int r;

	memset(slots, 0, sizeof(slots));
	if (pass != NULL) {
		slots[n].type = VAULT_SLOT_PASSPHRASE;
		slots[n].opslimit = ops;
		slots[n].memlimit = mem;
		if ((r = vault_keys_slot_make(&slots[n], v->id, pass, passlen,
		    NULL, NULL, k->root)) != 0)
			return sv_fail(v->msg, r,
			    "cannot derive a key from the passphrase: %s",
			    sv_strerror(r));
		n++;
	}
	if (key != NULL) {
		slots[n].type = VAULT_SLOT_KEY;
		if ((r = vault_keys_slot_make(&slots[n], v->id, key,
		    VAULT_KEY_BYTES, NULL, NULL, k->root)) != 0)
			return sv_fail(v->msg, r, "cannot make the key slot");
		n++;
	}
	return vault_keys_slots_encode(slots, n, out);
}

int
vault_limits_check(struct vault *v, unsigned long long *ops, size_t *mem)
{
	unsigned long long dops;
	size_t dmem;

	vault_limits_default(&dops, &dmem);
	if (*ops == 0)
		*ops = dops;
	if (*mem == 0)
		*mem = dmem;
	if (vault_keys_limits_check(*ops, *mem) != 0)
		return sv_fail(v->msg, SV_ERR_INVALID,
		    "Argon2id limits out of range (opslimit %llu, memlimit %zu)",
		    *ops, *mem);
	return 0;
}

int
vault_records_create(struct vault *v, const struct vault_keys *k,
    const struct svbuf *slots)
{
	struct vault_store_txn *st = NULL;
	struct svbuf *b = NULL, *check = NULL;
	int r;

	if ((b = svbuf_new(0)) == NULL || (check = svbuf_new(0)) == NULL) {
		r = sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = vault_store_txn_begin(v->store, NULL, 1, &st)) != 0 ||
	    (r = svbuf_put_u32(b, VAULT_FORMAT_VERSION)) != 0 ||
	    (r = vault_meta_put(st, META_FORMAT, b)) != 0 ||
	    (r = vault_store_put(st, VAULT_TABLE_META, META_ID,
	    strlen(META_ID), v->id, VAULT_ID_BYTES, 0)) != 0 ||
	    (r = vault_meta_put(st, META_SLOTS, slots)) != 0)
		goto out;
	svbuf_reset(b);
	if ((r = vault_keys_master_wrap(k->root, v->id, k->epoch, k->master,
	    NULL, b)) != 0 ||
	    (r = vault_meta_put(st, META_MASTER, b)) != 0 ||
	    (r = svbuf_put(check, CHECK_TEXT, strlen(CHECK_TEXT))) != 0 ||
	    (r = svbuf_put(check, v->id, VAULT_ID_BYTES)) != 0 ||
	    (r = vault_sealed_put(v, st, k, VAULT_TABLE_META, META_CHECK,
	    strlen(META_CHECK), svbuf_ptr(check), svbuf_len(check), 0)) != 0 ||
	    (r = vault_sealed_put(v, st, k, VAULT_TABLE_META, META_AUDITKEY,
	    strlen(META_AUDITKEY), k->audit, VAULT_KEYS_KEY_BYTES, 0)) != 0)
		goto out;
	r = vault_store_txn_commit(st);
	st = NULL;
out:
	vault_store_txn_abort(st);
	svbuf_free(check);
	svbuf_free(b);
	return r;
}

/*
 * An unlock in steps (vault.h): prepare copies the slots and the secret,
 * derive finds the slot the secret opens and the root key in it, finish
 * completes the keys from the store and installs them.
 */
struct vault_unlock {
	uint8_t type;
	uint8_t id[VAULT_ID_BYTES];
	struct vault_slot *slots;
	size_t n;
	uint8_t *secret;		/* sodium_malloc'd; wiped once derived */
	size_t len;
	struct vault_keys *k;		/* k->root once derived */
	size_t opened;			/* the slot that opened */
	int derived;
};

void
vault_unlock_free(struct vault_unlock *u)
{
	if (u == NULL)
		return;
	if (u->secret != NULL)
		sodium_free(u->secret);
	vault_keys_free(u->k);
	if (u->slots != NULL)
		sodium_memzero(u->slots, u->n * sizeof(*u->slots));
	free(u->slots);
	free(u);
}

int
vault_unlock_prepare(struct vault *v, int key, const void *secret, size_t len,
    struct vault_unlock **ret, char *msg)
{
	struct vault_store_txn *st = NULL;
	struct vault_unlock *u = NULL;
	int r;

	if (secret == NULL || (key && len != VAULT_KEY_BYTES))
		return sv_fail(msg, SV_ERR_INVALID, key ? "a key must hold %d bytes" :
		    "no passphrase given", VAULT_KEY_BYTES);
	if (v->store == NULL)
		return sv_fail(msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->secret = sodium_malloc(len == 0 ? 1 : len)) == NULL ||
	    (u->k = vault_keys_new()) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	u->type = key ? VAULT_SLOT_KEY : VAULT_SLOT_PASSPHRASE;
	memcpy(u->id, v->id, VAULT_ID_BYTES);
	if (len > 0)
		memcpy(u->secret, secret, len);
	u->len = len;
	if ((r = vault_store_txn_begin(v->store, NULL, 0, &st)) != 0 ||
	    (r = vault_slots_read(v, st, &u->slots, &u->n)) != 0) {
		sv_fail(msg, r, "%s", v->msg);
		goto out;
	}
	*ret = u;
	u = NULL;
out:
	vault_store_txn_abort(st);
	vault_unlock_free(u);
	return r;
}

size_t
vault_unlock_cost(const struct vault_unlock *u)
{
	size_t i, mem = 0;

	/* the slots are tried one after the other: the largest is what it takes */
	for (i = 0; i < u->n && u->type == VAULT_SLOT_PASSPHRASE; i++)
		if (u->slots[i].type == VAULT_SLOT_PASSPHRASE && u->slots[i].memlimit > mem)
			mem = (size_t)u->slots[i].memlimit;
	return mem;
}

/*
 * Try every slot of the type; Argon2id for each passphrase slot.  Touches
 * nothing but u: it runs without any lock.
 */
int
vault_unlock_derive(struct vault_unlock *u, char *msg)
{
	const char *what = u->type == VAULT_SLOT_PASSPHRASE ? "passphrase" : "key file";
	size_t i, tried = 0;
	int r = SV_ERR_WRONG_KEY;

	for (i = 0; i < u->n && r == SV_ERR_WRONG_KEY; i++) {
		if (u->slots[i].type != u->type)
			continue;
		tried++;
		if ((r = vault_keys_slot_open(&u->slots[i], u->id, u->secret, u->len,
		    u->k->root)) == 0)
			u->opened = i;
	}
	sodium_memzero(u->secret, u->len);
	if (r == SV_ERR_WRONG_KEY) {
		if (tried == 0)
			return sv_fail(msg, r, "wrong %s: the vault has no %s slot", what, what);
		return sv_fail(msg, r, "wrong %s", what);
	}
	if (r != 0)
		return sv_fail(msg, r, "cannot derive a key from the %s: %s", what,
		    sv_strerror(r));
	u->derived = 1;
	return 0;
}

static int
slot_same(const struct vault_slot *a, const struct vault_slot *b)
{
	return a->type == b->type && a->opslimit == b->opslimit &&
	    a->memlimit == b->memlimit && memcmp(a->salt, b->salt, sizeof(a->salt)) == 0 &&
	    memcmp(a->nonce, b->nonce, sizeof(a->nonce)) == 0 &&
	    memcmp(a->wrapped, b->wrapped, sizeof(a->wrapped)) == 0;
}

/*
 * The master secret is read now, not at prepare: a rotation or a secret
 * restore by another process in between is seen, and a slot removed in
 * between no longer unlocks.
 */
int
vault_unlock_finish(struct vault *v, struct vault_unlock *u, char *msg)
{
	struct vault_store_txn *st = NULL;
	struct vault_slot *slots = NULL;
	size_t n = 0, i;
	int r;

	if (!u->derived)
		return sv_fail(msg, SV_ERR_INTERNAL, "unlock finished before its key was derived");
	if (v->store == NULL)
		return sv_fail(msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	if ((r = vault_store_txn_begin(v->store, NULL, 0, &st)) != 0 ||
	    (r = vault_slots_read(v, st, &slots, &n)) != 0) {
		sv_fail(msg, r, "%s", v->msg);
		goto out;
	}
	for (i = 0; i < n && !slot_same(&slots[i], &u->slots[u->opened]); i++)
		;
	if (i == n) {
		r = sv_fail(msg, SV_ERR_WRONG_KEY,
		    "the unlock slot changed meanwhile: try again");
		goto out;
	}
	if ((r = vault_keys_complete(v, st, u->k)) != 0) {
		sv_fail(msg, r, "%s", v->msg);
		goto out;
	}
	vault_keys_install(v, u->k);
	u->k = NULL;
	memcpy(v->mine, slots[i].nonce, sizeof(v->mine));
	v->has_mine = 1;
	vault_slot_mine_load(v, st);
out:
	vault_store_txn_abort(st);
	if (slots != NULL)
		sodium_memzero(slots, n * sizeof(*slots));
	free(slots);
	return r;
}

/* The three steps in a row, for a handle used by one thread. */
static int
unlock_with(struct vault *v, int key, const void *secret, size_t len)
{
	struct vault_unlock *u = NULL;
	char m[SV_MSG_MAX] = "";
	int r;

	if ((r = vault_unlock_prepare(v, key, secret, len, &u, m)) == 0 &&
	    (r = vault_unlock_derive(u, m)) == 0)
		r = vault_unlock_finish(v, u, m);
	vault_unlock_free(u);
	if (r != 0)
		snprintf(v->msg, sizeof(v->msg), "%s", m);
	return r;
}

int
vault_unlock_passphrase(struct vault *v, const char *pass, size_t len)
{
	if (pass == NULL)
		return sv_fail(v->msg, SV_ERR_INVALID, "no passphrase given");
	return unlock_with(v, 0, pass, len);
}

int
vault_unlock_key(struct vault *v, const uint8_t key[VAULT_KEY_BYTES])
{
	if (key == NULL)
		return sv_fail(v->msg, SV_ERR_INVALID, "no key given");
	return unlock_with(v, 1, key, VAULT_KEY_BYTES);
}

