/*
 * slots.c: the unlock slots as hosts see them (docs/hosts.md): each slot
 * has a name (a host's, or "passphrase-1", "key-1" by default), slots are
 * listed, added and removed while the vault is unlocked, and a handle
 * whose master secret another host rotated takes the new one, through the
 * root key it holds, only while the slot it was unlocked with is still
 * there.  Names are kept in the sealed meta record "vault.slotnames":
 * u32 count | (24-byte slot nonce | string name)...
 */
#include "internal.h"

#define META_SLOTNAMES "vault.slotnames"
#define NONCE_BYTES VAULT_KEYS_NONCE_BYTES

struct names {
	size_t n;
	uint8_t nonce[VAULT_SLOTS_MAX][NONCE_BYTES];
	char name[VAULT_SLOTS_MAX][VAULT_SLOT_NAME_MAX + 1];
};

static int
names_read(struct vault *v, struct vault_store_txn *st, struct names *ret)
{
	struct svbuf *b = NULL;
	const uint8_t *p;
	size_t len;
	uint32_t n, i;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = vault_sealed_get(v, st, v->keys, VAULT_TABLE_META, META_SLOTNAMES,
	    strlen(META_SLOTNAMES), &b);
	if (r == SV_ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return r;
	if ((r = svbuf_get_u32(b, &n)) != 0 || n > VAULT_SLOTS_MAX)
		goto bad;
	for (i = 0; i < n; i++) {
		if (svbuf_get(b, ret->nonce[i], NONCE_BYTES) != 0 ||
		    svbuf_get_string_direct(b, &p, &len) != 0 || len > VAULT_SLOT_NAME_MAX)
			goto bad;
		memcpy(ret->name[i], p, len);
		ret->name[i][len] = '\0';
	}
	ret->n = n;
	svbuf_free(b);
	return 0;
bad:
	svbuf_free(b);
	return sv_fail(v->msg, SV_ERR_INTEGRITY, "the slot names record is malformed");
}

static int
names_write(struct vault *v, struct vault_store_txn *st, const struct names *nm)
{
	struct svbuf *b = svbuf_new(0);
	size_t i;
	int r;

	if (b == NULL)
		return sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
	r = svbuf_put_u32(b, (uint32_t)nm->n);
	for (i = 0; i < nm->n && r == 0; i++)
		if ((r = svbuf_put(b, nm->nonce[i], NONCE_BYTES)) == 0)
			r = svbuf_put_cstring(b, nm->name[i]);
	if (r == 0)
		r = vault_sealed_put(v, st, v->keys, VAULT_TABLE_META, META_SLOTNAMES,
		    strlen(META_SLOTNAMES), svbuf_ptr(b), svbuf_len(b), 0);
	svbuf_free(b);
	return r;
}

/* The name of slots[i]: its own, or its type and rank ("key-2"). */
static void
slot_name(const struct vault_slot *slots, size_t i, const struct names *nm,
    char out[VAULT_SLOT_NAME_MAX + 1])
{
	size_t j, rank = 0;

	for (j = 0; j < nm->n; j++)
		if (memcmp(nm->nonce[j], slots[i].nonce, NONCE_BYTES) == 0) {
			snprintf(out, VAULT_SLOT_NAME_MAX + 1, "%s", nm->name[j]);
			return;
		}
	for (j = 0; j <= i; j++)
		rank += slots[j].type == slots[i].type;
	snprintf(out, VAULT_SLOT_NAME_MAX + 1, "%s-%zu",
	    slots[i].type == VAULT_SLOT_KEY ? "key" : "passphrase", rank);
}

static int
need_unlocked(struct vault *v)
{
	if (v->keys == NULL)
		return sv_fail(v->msg, SV_ERR_LOCKED, "vault is locked");
	if (v->store == NULL)
		return sv_fail(v->msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	return 0;
}

int
vault_slot_list(struct vault *v, struct vault_slot_info **ret, size_t *ret_n)
{
	struct vault_store_txn *st = NULL;
	struct vault_slot *slots = NULL;
	struct vault_slot_info *out = NULL;
	struct names nm;
	size_t n = 0, i;
	int r;

	if ((r = need_unlocked(v)) != 0)
		return r;
	if ((r = vault_store_txn_begin(v->store, NULL, 0, &st)) != 0 ||
	    (r = vault_slots_read(v, st, &slots, &n)) != 0 ||
	    (r = names_read(v, st, &nm)) != 0)
		goto out;
	if ((out = calloc(n, sizeof(*out))) == NULL) {
		r = sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		slot_name(slots, i, &nm, out[i].name);
		out[i].key = slots[i].type == VAULT_SLOT_KEY;
		out[i].mine = v->has_mine && memcmp(v->mine, slots[i].nonce, NONCE_BYTES) == 0;
	}
	*ret = out;
	*ret_n = n;
	out = NULL;
out:
	vault_store_txn_abort(st);
	free(out);
	free(slots);
	return r;
}

/* A name a slot may take: 1 to VAULT_SLOT_NAME_MAX printable, no spaces. */
static int
name_check(struct vault *v, const char *name)
{
	const char *p;

	if (name == NULL || *name == '\0' || strlen(name) > VAULT_SLOT_NAME_MAX)
		return sv_fail(v->msg, SV_ERR_INVALID,
		    "a slot name is 1 to %d characters", VAULT_SLOT_NAME_MAX);
	for (p = name; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return sv_fail(v->msg, SV_ERR_INVALID,
			    "a slot name has no spaces or control characters");
	return 0;
}

/* Write slots and their names in st and commit it (st ends either way). */
static int
slots_commit(struct vault *v, struct vault_store_txn *st, const struct vault_slot *slots,
    size_t n, const struct names *nm)
{
	struct svbuf *b;
	int r;

	if ((b = svbuf_new(0)) == NULL)
		r = sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
	else if ((r = vault_keys_slots_encode(slots, n, b)) == 0 &&
	    (r = vault_meta_put(st, META_SLOTS, b)) == 0 &&
	    (r = names_write(v, st, nm)) == 0) {
		r = vault_store_txn_commit(st);
		st = NULL;
	}
	vault_store_txn_abort(st);
	svbuf_free(b);
	return r;
}

int
vault_slot_add(struct vault *v, const char *name, int key, const void *secret, size_t len)
{
	struct vault_store_txn *st = NULL;
	struct vault_slot *slots = NULL, *more, add;
	struct names nm;
	char have[VAULT_SLOT_NAME_MAX + 1];
	size_t n = 0, i;
	int r;

	memset(&add, 0, sizeof(add));
	if ((r = need_unlocked(v)) != 0 || (r = name_check(v, name)) != 0)
		return r;
	if (secret == NULL || (key && len != VAULT_KEY_BYTES) || (!key && len == 0))
		return sv_fail(v->msg, SV_ERR_INVALID, key ? "a key must hold %d bytes" :
		    "empty passphrase", VAULT_KEY_BYTES);
	/* a passphrase slot takes the limits of the vault's first one */
	if ((r = vault_store_txn_begin(v->store, NULL, 0, &st)) != 0 ||
	    (r = vault_slots_read(v, st, &slots, &n)) != 0)
		goto out;
	vault_store_txn_abort(st);
	st = NULL;
	add.type = key ? VAULT_SLOT_KEY : VAULT_SLOT_PASSPHRASE;
	{
		unsigned long long ops;
		size_t mem;

		vault_limits_default(&ops, &mem);
		add.opslimit = ops;
		add.memlimit = mem;
	}
	for (i = 0; i < n; i++)
		if (slots[i].type == VAULT_SLOT_PASSPHRASE) {
			add.opslimit = slots[i].opslimit;
			add.memlimit = slots[i].memlimit;
			break;
		}
	free(slots);
	slots = NULL;
	if (key) {
		add.opslimit = 0;
		add.memlimit = 0;
	}
	/* Argon2id before the write transaction: nobody waits for it */
	if ((r = vault_keys_slot_make(&add, v->id, secret, len, NULL, NULL, v->keys->root)) != 0) {
		r = sv_fail(v->msg, r, "cannot make the slot: %s", sv_strerror(r));
		goto out;
	}
	if ((r = vault_store_txn_begin(v->store, NULL, 1, &st)) != 0 ||
	    (r = vault_slots_read(v, st, &slots, &n)) != 0 ||
	    (r = names_read(v, st, &nm)) != 0)
		goto out;
	if (n >= VAULT_SLOTS_MAX) {
		r = sv_fail(v->msg, SV_ERR_INVALID, "the vault has %d slots, the most it takes",
		    VAULT_SLOTS_MAX);
		goto out;
	}
	for (i = 0; i < n; i++) {
		slot_name(slots, i, &nm, have);
		if (strcmp(have, name) == 0) {
			r = sv_fail(v->msg, SV_ERR_EXISTS, "a slot named '%s' already exists", name);
			goto out;
		}
	}
	if ((more = realloc(slots, (n + 1) * sizeof(*slots))) == NULL) {
		r = sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	slots = more;
	slots[n++] = add;
	memcpy(nm.nonce[nm.n], add.nonce, NONCE_BYTES);
	snprintf(nm.name[nm.n], sizeof(nm.name[0]), "%s", name);
	nm.n++;
	r = slots_commit(v, st, slots, n, &nm);
	st = NULL;
out:
	vault_store_txn_abort(st);
	sodium_memzero(&add, sizeof(add));
	if (slots != NULL)
		sodium_memzero(slots, n * sizeof(*slots));
	free(slots);
	return r;
}

int
vault_slot_remove(struct vault *v, const char *name)
{
	struct vault_store_txn *st = NULL;
	struct vault_slot *slots = NULL;
	struct names nm;
	char have[VAULT_SLOT_NAME_MAX + 1];
	size_t n = 0, i, j, gone = (size_t)-1;
	int r;

	if ((r = need_unlocked(v)) != 0)
		return r;
	if ((r = vault_store_txn_begin(v->store, NULL, 1, &st)) != 0 ||
	    (r = vault_slots_read(v, st, &slots, &n)) != 0 ||
	    (r = names_read(v, st, &nm)) != 0)
		goto out;
	for (i = 0; i < n && gone == (size_t)-1; i++) {
		slot_name(slots, i, &nm, have);
		if (strcmp(have, name) == 0)
			gone = i;
	}
	if (gone == (size_t)-1) {
		r = sv_fail(v->msg, SV_ERR_NOT_FOUND, "no slot named '%.64s' ('ssovault slot "
		    "list' shows them)", name);
		goto out;
	}
	if (n == 1) {
		r = sv_fail(v->msg, SV_ERR_CONFLICT, "'%s' is the vault's last unlock slot: "
		    "add another first", name);
		goto out;
	}
	/* names by nonce, so the default names of the others do not move */
	for (i = 0; i < n; i++) {
		int named = 0;

		for (j = 0; j < nm.n; j++)
			named |= memcmp(nm.nonce[j], slots[i].nonce, NONCE_BYTES) == 0;
		if (!named && i != gone && nm.n < VAULT_SLOTS_MAX) {
			slot_name(slots, i, &nm, nm.name[nm.n]);
			memcpy(nm.nonce[nm.n++], slots[i].nonce, NONCE_BYTES);
		}
	}
	for (j = 0; j < nm.n; j++)
		if (memcmp(nm.nonce[j], slots[gone].nonce, NONCE_BYTES) == 0) {
			memmove(&nm.nonce[j], &nm.nonce[j + 1], (nm.n - j - 1) * NONCE_BYTES);
			memmove(&nm.name[j], &nm.name[j + 1], (nm.n - j - 1) * sizeof(nm.name[0]));
			nm.n--;
			break;
		}
	memmove(&slots[gone], &slots[gone + 1], (n - gone - 1) * sizeof(*slots));
	n--;
	r = slots_commit(v, st, slots, n, &nm);
	st = NULL;
out:
	vault_store_txn_abort(st);
	if (slots != NULL)
		sodium_memzero(slots, n * sizeof(*slots));
	free(slots);
	return r;
}

int
vault_keys_stale(struct vault *v)
{
	struct vault_store_txn *st = NULL;
	const uint8_t *p;
	size_t len;
	uint32_t epoch;
	int stale = 0;

	if (v->keys == NULL || v->store == NULL)
		return 0;
	if (__atomic_load_n(&v->stale, __ATOMIC_RELAXED))
		return 1;
	if (vault_store_txn_begin(v->store, NULL, 0, &st) == 0 &&
	    vault_meta_raw_get(v, st, META_MASTER, &p, &len) == 0 &&
	    vault_keys_peek(p, len, &epoch) == 0)
		stale = epoch != v->keys->epoch;
	vault_store_txn_abort(st);
	return stale;
}

/* Is the slot this handle was unlocked with still in st?  0, or SV_ERR_LOCKED. */
static int
mine_present(struct vault *v, struct vault_store_txn *st)
{
	struct vault_slot *slots = NULL;
	size_t n = 0, i;
	int r;

	if (!v->has_mine)
		return 0;
	if ((r = vault_slots_read(v, st, &slots, &n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if (memcmp(slots[i].nonce, v->mine, NONCE_BYTES) == 0)
			break;
	if (slots != NULL)
		sodium_memzero(slots, n * sizeof(*slots));
	free(slots);
	if (i == n)
		return sv_fail(v->msg, SV_ERR_LOCKED, "the master secret was rotated after "
		    "this host's unlock slot was removed: the vault is locked here");
	return 0;
}

int
vault_keys_of_store(struct vault *v, struct vault_store_txn *st, struct vault_keys **ret)
{
	struct vault_keys *k = NULL;
	int r;

	if ((r = mine_present(v, st)) != 0)
		return r;
	if ((k = vault_keys_new()) == NULL)
		return sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
	memcpy(k->root, v->keys->root, sizeof(k->root));
	if ((r = vault_keys_complete(v, st, k)) != 0) {
		vault_keys_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

int
vault_keys_refresh(struct vault *v)
{
	struct vault_store_txn *st = NULL;
	struct vault_keys *k = NULL;
	int r;

	if ((r = need_unlocked(v)) != 0)
		return r;
	if ((r = vault_store_txn_begin(v->store, NULL, 0, &st)) != 0)
		return r;
	__atomic_store_n(&v->stale, 0, __ATOMIC_RELAXED);
	r = vault_keys_of_store(v, st, &k);
	vault_store_txn_abort(st);
	if (r == SV_ERR_LOCKED)
		vault_keys_install(v, NULL);
	if (r != 0)
		return r;
	vault_keys_install(v, k);
	return 0;
}

void
vault_slot_mine_load(struct vault *v, struct vault_store_txn *st)
{
	struct vault_slot *slots = NULL;
	struct names nm;
	size_t n = 0, i;

	v->mine_name[0] = '\0';
	if (!vault_shared(v) || !v->has_mine || vault_slots_read(v, st, &slots, &n) != 0)
		return;
	if (names_read(v, st, &nm) == 0)
		for (i = 0; i < n; i++)
			if (memcmp(slots[i].nonce, v->mine, NONCE_BYTES) == 0)
				slot_name(slots, i, &nm, v->mine_name);
	free(slots);
}

const char *
vault_slot_mine(const struct vault *v)
{
	return v->mine_name;
}

int
vault_shared(const struct vault *v)
{
	return vault_store_pg_location(v->dir);
}

int
vault_shared_view(struct vault *v, struct vault_db_view *ret)
{
	struct vault_store_pg_view pv;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!vault_shared(v) || v->store == NULL)
		return SV_ERR_INVALID;
	if ((r = vault_store_pg_view(v->store, &pv)) != 0)
		return r;
	ret->reachable = pv.reachable;
	ret->db_gen = pv.db_gen;
	ret->cache_gen = pv.cache_gen;
	ret->checked_ms_ago = pv.checked_ms_ago;
	ret->connections = pv.connections;
	ret->writes = pv.writes;
	return 0;
}
