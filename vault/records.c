/*
 * records.c: transactions, sealed and raw records, cursors, and the
 * purpose keys (MACs and blobs) that never leave the vault.
 */
#include "internal.h"

int
vault_txn_room(struct vault_txn *t, enum vault_room room, size_t *ret_used,
    char *msg)
{
	char a[VAULT_SIZE_STR], b[VAULT_SIZE_STR], c[VAULT_SIZE_STR];
	size_t used, max = t->v->max_size, keep = vault_reserve_of(max);
	int r;

	if (room == VAULT_ROOM_ALL && ret_used == NULL)
		return 0;
	if ((r = vault_store_txn_used(t->st, &used)) != 0)
		return msg != NULL ? sv_fail(msg, r, "%s", t->v->msg) : r;
	if (ret_used != NULL)
		*ret_used = used;
	if (room == VAULT_ROOM_RECORDS)
		keep /= 2;
	if (room == VAULT_ROOM_ALL || (keep < max && used <= max - keep))
		return 0;
	vault_size_str(used, a);
	vault_size_str(max, b);
	vault_size_str(keep, c);
	return sv_fail(msg != NULL ? msg : t->v->msg, SV_ERR_MAP_FULL,
	    "vault is nearly full: %s of %s in use, and the last %s are kept for "
	    "freeing space: a vault admin can prune the audit trail, terminate "
	    "suspended messages or raise SSOVAULT_MAX_SIZE", a, b, c);
}

int
vault_txn_begin(struct vault *v, int write, struct vault_txn **ret)
{
	struct vault_txn *t;
	int r;

	if (v->store == NULL)
		return sv_fail(v->msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
	if ((r = vault_store_txn_begin(v->store, NULL, write, &t->st)) != 0) {
		free(t);
		return r;
	}
	t->v = v;
	*ret = t;
	return 0;
}

int
vault_txn_begin_nested(struct vault_txn *parent, struct vault_txn **ret)
{
	struct vault_txn *t;
	int r;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return sv_fail(parent->v->msg, SV_ERR_NOMEM, "out of memory");
	if ((r = vault_store_txn_begin(parent->v->store, parent->st, 1,
	    &t->st)) != 0) {
		free(t);
		return r;
	}
	t->v = parent->v;
	t->keys_checked = parent->keys_checked;
	t->nk = parent->nk;		/* the parent's: it outlives the child */
	*ret = t;
	return 0;
}

/* The transaction's handle goes, with keys of its own. */
static void
txn_free(struct vault_txn *t)
{
	if (t->owns_nk)
		vault_keys_free(t->nk);
	free(t);
}

int
vault_txn_commit(struct vault_txn *t)
{
	int r;

	if (t == NULL)
		return SV_ERR_INVALID;
	r = vault_store_txn_commit(t->st);
	txn_free(t);
	return r;
}

int
vault_txn_commit_nosync(struct vault_txn *t)
{
	int r;

	if (t == NULL)
		return SV_ERR_INVALID;
	r = vault_store_txn_commit_flags(t->st, 1);
	txn_free(t);
	return r;
}

int
vault_sync(struct vault *v)
{
	if (v->store == NULL)
		return sv_fail(v->msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	return vault_store_sync(v->store);
}

void
vault_txn_abort(struct vault_txn *t)
{
	if (t == NULL)
		return;
	vault_store_txn_abort(t->st);
	txn_free(t);
}

struct vault *
vault_txn_vault(struct vault_txn *t)
{
	return t->v;
}

int
vault_txn_version(struct vault_txn *t, uint64_t *ret)
{
	if (t == NULL || t->nk != NULL)
		return SV_ERR_INVALID;
	return vault_store_txn_version(t->st, ret);
}

int
vault_version(struct vault *v, uint64_t *ret)
{
	/*
	 * A shared vault's keys may change under another host: a version is
	 * the store's generation, which any change there moves (a rotation
	 * too, seen within the cache's bound); a read that finds a newer
	 * epoch than this handle's keys has no version (vault_txn_version).
	 */
	if (v->store == NULL)
		return SV_ERR_INVALID;
	return vault_store_version(v->store, ret);
}

static int
check_key(struct vault *v, unsigned tab, const void *key, size_t klen)
{
	if (tab >= v->schema.n)
		return sv_fail(v->msg, SV_ERR_INVALID, "no table %d", (int)tab);
	if (key == NULL || klen == 0 || klen > VAULT_STORE_MAX_KEY)
		return sv_fail(v->msg, SV_ERR_INVALID,
		    "record keys are 1 to %d bytes", VAULT_STORE_MAX_KEY);
	if (vault_key_reserved(tab, key, klen))
		return sv_fail(v->msg, SV_ERR_INVALID,
		    "meta keys beginning \"%s\" belong to the vault itself",
		    META_PREFIX);
	return 0;
}

/* Arguments of a sealed-record call: an unlocked vault, a sealed table. */
static int
check_record(struct vault_txn *t, unsigned tab, const void *key,
    size_t klen)
{
	int r;

	if (t == NULL)
		return SV_ERR_INVALID;
	if ((r = check_key(t->v, tab, key, klen)) != 0)
		return r;
	if (vault_table_raw(t->v, tab))
		return sv_fail(t->v->msg, SV_ERR_INVALID,
		    "the %s table holds raw values, not sealed records",
		    vault_table_name(t->v, tab));
	if (t->v->keys == NULL)
		return sv_fail(t->v->msg, SV_ERR_LOCKED, "vault is locked");
	return 0;
}

/*
 * The keys a transaction reads and seals with.  In a shared vault another
 * host may have rotated the master secret since this handle took it: the
 * transaction then uses the keys of the epoch it finds stored (so that a
 * record is never sealed under a key nobody holds, nor a new one left
 * unread), while the daemon installs them for good (vault_keys_refresh).
 */
static int
txn_keys(struct vault_txn *t, const struct vault_keys **ret)
{
	const uint8_t *p;
	size_t len;
	uint32_t epoch;
	int r;

	if (!t->keys_checked && vault_shared(t->v)) {
		if ((r = vault_meta_raw_get(t->v, t->st, META_MASTER, &p, &len)) != 0)
			return r;
		if (vault_keys_peek(p, len, &epoch) != 0)
			return sv_fail(t->v->msg, SV_ERR_INTEGRITY, "vault.master is malformed");
		if (epoch != t->v->keys->epoch) {
			__atomic_store_n(&t->v->stale, 1, __ATOMIC_RELAXED);
			if ((r = vault_keys_of_store(t->v, t->st, &t->nk)) != 0)
				return r;
			t->owns_nk = 1;
		}
	}
	t->keys_checked = 1;
	*ret = t->nk != NULL ? t->nk : t->v->keys;
	return 0;
}

int
vault_record_get(struct vault_txn *t, unsigned tab,
    const void *key, size_t klen, struct svbuf **ret_plain)
{
	const struct vault_keys *k;
	int r;

	if ((r = check_record(t, tab, key, klen)) != 0 || (r = txn_keys(t, &k)) != 0)
		return r;
	return vault_sealed_get(t->v, t->st, k, tab, key, klen, ret_plain);
}

int
vault_record_put(struct vault_txn *t, unsigned tab,
    const void *key, size_t klen, const void *plain, size_t plen,
    unsigned flags)
{
	const struct vault_keys *k;
	int r;

	if ((r = check_record(t, tab, key, klen)) != 0 || (r = txn_keys(t, &k)) != 0)
		return r;
	if (plain == NULL && plen > 0)
		return sv_fail(t->v->msg, SV_ERR_INVALID, "no value given");
	return vault_sealed_put(t->v, t->st, k, tab, key, klen, plain, plen,
	    flags);
}

static int
del_msg(struct vault *v, int r, unsigned tab, const void *key,
    size_t klen)
{
	char kp[KEY_PRINT_MAX + 4];

	if (r == SV_ERR_NOT_FOUND) {
		vault_key_print(key, klen, kp);
		sv_fail(v->msg, r, "record %s/%s not found", vault_table_name(v, tab), kp);
	}
	return r;
}

int
vault_record_del(struct vault_txn *t, unsigned tab,
    const void *key, size_t klen)
{
	int r;

	if ((r = check_record(t, tab, key, klen)) != 0)
		return r;
	r = vault_store_del(t->st, tab, key, klen);
	return del_msg(t->v, r, tab, key, klen);
}

int
vault_raw_get(struct vault_txn *t, unsigned tab,
    const void *key, size_t klen, const uint8_t **ret_p, size_t *ret_len)
{
	char kp[KEY_PRINT_MAX + 4];
	int r;

	if (t == NULL)
		return SV_ERR_INVALID;
	if ((r = check_key(t->v, tab, key, klen)) != 0)
		return r;
	r = vault_store_get(t->st, tab, key, klen, ret_p, ret_len);
	if (r == SV_ERR_NOT_FOUND) {
		vault_key_print(key, klen, kp);
		sv_fail(t->v->msg, r, "record %s/%s not found",
		    vault_table_name(t->v, tab), kp);
	}
	return r;
}

int
vault_raw_put(struct vault_txn *t, unsigned tab,
    const void *key, size_t klen, const void *p, size_t len, unsigned flags)
{
	char kp[KEY_PRINT_MAX + 4];
	int r;

	if (t == NULL)
		return SV_ERR_INVALID;
	if ((r = check_key(t->v, tab, key, klen)) != 0)
		return r;
	if (p == NULL && len > 0)
		return sv_fail(t->v->msg, SV_ERR_INVALID, "no value given");
	r = vault_store_put(t->st, tab, key, klen, p, len,
	    ((flags & VAULT_PUT_NOOVERWRITE) ? VAULT_STORE_NOOVERWRITE : 0) |
	    ((flags & VAULT_PUT_DEFER) ? VAULT_STORE_DEFER : 0));
	if (r == SV_ERR_EXISTS) {
		vault_key_print(key, klen, kp);
		sv_fail(t->v->msg, r, "record %s/%s already exists",
		    vault_table_name(t->v, tab), kp);
	}
	return r;
}

int
vault_raw_del(struct vault_txn *t, unsigned tab,
    const void *key, size_t klen)
{
	int r;

	if (t == NULL)
		return SV_ERR_INVALID;
	if ((r = check_key(t->v, tab, key, klen)) != 0)
		return r;
	r = vault_store_del(t->st, tab, key, klen);
	return del_msg(t->v, r, tab, key, klen);
}

int
vault_cursor_open(struct vault_txn *t, unsigned tab,
    struct vault_cursor **ret)
{
	struct vault_cursor *c;
	int r;

	if (t == NULL)
		return SV_ERR_INVALID;
	if (tab >= t->v->schema.n)
		return sv_fail(t->v->msg, SV_ERR_INVALID, "no table %d", (int)tab);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return sv_fail(t->v->msg, SV_ERR_NOMEM, "out of memory");
	if ((r = vault_store_cursor_open(t->st, tab, &c->sc)) != 0) {
		free(c);
		return r;
	}
	c->v = t->v;
	c->tab = tab;
	c->keys = t->v->keys;
	if (t->v->keys != NULL && !vault_table_raw(t->v, tab) &&
	    (r = txn_keys(t, &c->keys)) != 0) {
		vault_store_cursor_close(c->sc);
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int
vault_cursor_seek(struct vault_cursor *c, const void *key, size_t klen,
    const uint8_t **ret_key, size_t *ret_klen,
    const uint8_t **ret_val, size_t *ret_vlen)
{
	if (klen > VAULT_STORE_MAX_KEY || (klen > 0 && key == NULL))
		return sv_fail(c->v->msg, SV_ERR_INVALID,
		    "record keys are 1 to %d bytes", VAULT_STORE_MAX_KEY);
	return vault_store_cursor_get(c->sc,
	    klen == 0 ? VAULT_STORE_FIRST : VAULT_STORE_SEEK, key, klen,
	    ret_key, ret_klen, ret_val, ret_vlen);
}

int
vault_cursor_next(struct vault_cursor *c,
    const uint8_t **ret_key, size_t *ret_klen,
    const uint8_t **ret_val, size_t *ret_vlen)
{
	return vault_store_cursor_get(c->sc, VAULT_STORE_NEXT, NULL, 0,
	    ret_key, ret_klen, ret_val, ret_vlen);
}

int
vault_cursor_last(struct vault_cursor *c,
    const uint8_t **ret_key, size_t *ret_klen,
    const uint8_t **ret_val, size_t *ret_vlen)
{
	return vault_store_cursor_get(c->sc, VAULT_STORE_LAST, NULL, 0,
	    ret_key, ret_klen, ret_val, ret_vlen);
}

int
vault_cursor_del(struct vault_cursor *c)
{
	const uint8_t *k, *val;
	size_t klen, vlen;
	int r;

	if ((r = vault_store_cursor_get(c->sc, VAULT_STORE_CURRENT, NULL, 0,
	    &k, &klen, &val, &vlen)) < 0)
		return r;
	if (r == 0)
		return sv_fail(c->v->msg, SV_ERR_NOT_FOUND, "cursor is at no entry");
	if (vault_key_reserved(c->tab, k, klen))
		return sv_fail(c->v->msg, SV_ERR_INVALID,
		    "meta keys beginning \"%s\" belong to the vault itself",
		    META_PREFIX);
	return vault_store_cursor_del(c->sc);
}

void
vault_cursor_close(struct vault_cursor *c)
{
	if (c == NULL)
		return;
	vault_store_cursor_close(c->sc);
	free(c);
}

int
vault_cursor_unseal(struct vault_cursor *c, const uint8_t *key, size_t klen,
    const uint8_t *val, size_t vlen, struct svbuf **ret_plain)
{
	int r;

	if ((r = check_key(c->v, c->tab, key, klen)) != 0)
		return r;
	if (vault_table_raw(c->v, c->tab))
		return sv_fail(c->v->msg, SV_ERR_INVALID,
		    "the %s table holds raw values, not sealed records",
		    vault_table_name(c->v, c->tab));
	if (c->v->keys == NULL || c->keys == NULL)
		return sv_fail(c->v->msg, SV_ERR_LOCKED, "vault is locked");
	return vault_sealed_open(c->v, c->keys, c->tab, key, klen, val, vlen,
	    ret_plain);
}

/* The key, domain and epoch of a purpose. */
int
vault_purpose_key(struct vault *v, enum vault_key k, const uint8_t **ret_key,
    const char **ret_domain, uint32_t *ret_epoch)
{
	if (v->keys == NULL)
		return sv_fail(v->msg, SV_ERR_LOCKED, "vault is locked");
	switch (k) {
	case VAULT_KEY_TICKETS:
		*ret_key = v->keys->tickets;
		*ret_domain = AD_TICKETS;
		*ret_epoch = v->keys->epoch;
		return 0;
	case VAULT_KEY_AUDIT:
		/* the audit key outlives rotations: its blobs carry epoch 0 */
		*ret_key = v->keys->audit;
		*ret_domain = AD_AUDIT;
		*ret_epoch = 0;
		return 0;
	default:
		return sv_fail(v->msg, SV_ERR_INVALID, "no purpose key %d", (int)k);
	}
}

int
vault_mac_parts(struct vault *v, enum vault_key k, const void *const *parts,
    const size_t *lens, size_t n, uint8_t out[VAULT_MAC_BYTES])
{
	const uint8_t *key = NULL;
	const char *domain = NULL;
	uint32_t epoch = 0;
	crypto_auth_hmacsha256_state st;
	size_t i;
	int r;

	if ((r = vault_purpose_key(v, k, &key, &domain, &epoch)) != 0)
		return r;
	if (k != VAULT_KEY_AUDIT) {
		crypto_auth_hmacsha256_init(&st, key, VAULT_KEYS_KEY_BYTES);
		for (i = 0; i < n; i++)
			crypto_auth_hmacsha256_update(&st, parts[i], lens[i]);
		crypto_auth_hmacsha256_final(&st, out);
		sodium_memzero(&st, sizeof(st));
		return 0;
	}
	/* the audit chain MACs every record: from the states made at unlock */
	vault_keys_audit_mac(v->keys, parts, lens, n, out);
	return 0;
}

int
vault_mac(struct vault *v, enum vault_key k, const void *data, size_t len,
    uint8_t out[VAULT_MAC_BYTES])
{
	return vault_mac_parts(v, k, &data, &len, 1, out);
}

static int
blob_ad(const char *domain, const void *ad, size_t adlen, struct svbuf **ret)
{
	struct svbuf *b;
	int r;

	if (ad == NULL && adlen > 0)
		return SV_ERR_INVALID;
	if ((b = svbuf_new(0)) == NULL)
		return SV_ERR_NOMEM;
	if ((r = svbuf_put(b, domain, strlen(domain))) != 0 ||
	    (r = svbuf_put(b, ad, adlen)) != 0) {
		svbuf_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

int
vault_blob_seal(struct vault *v, enum vault_key k, const void *ad,
    size_t adlen, const void *plain, size_t plen, struct svbuf *out)
{
	struct svbuf *b = NULL;
	const uint8_t *key = NULL;
	const char *domain = NULL;
	uint32_t epoch = 0;
	int r;

	if ((r = vault_purpose_key(v, k, &key, &domain, &epoch)) != 0)
		return r;
	if ((plain == NULL && plen > 0) || (r = blob_ad(domain, ad, adlen, &b)) != 0)
		return sv_fail(v->msg, r != 0 ? r : SV_ERR_INVALID,
		    "cannot seal: bad arguments");
	if ((r = vault_keys_seal(key, epoch, NULL, svbuf_ptr(b), svbuf_len(b),
	    plain, plen, out)) != 0)
		sv_fail(v->msg, r, "cannot seal %zu bytes: %s", plen, sv_strerror(r));
	svbuf_free(b);
	return r;
}

int
vault_blob_open(struct vault *v, enum vault_key k, const void *ad,
    size_t adlen, const void *blob, size_t blen, struct svbuf **ret_plain)
{
	struct svbuf *b = NULL;
	char why[SV_MSG_MAX];
	const uint8_t *key = NULL;
	const char *domain = NULL;
	uint32_t epoch = 0;
	int r;

	if ((r = vault_purpose_key(v, k, &key, &domain, &epoch)) != 0)
		return r;
	if ((r = blob_ad(domain, ad, adlen, &b)) != 0)
		return sv_fail(v->msg, r, "cannot open: bad arguments");
	why[0] = '\0';
	r = vault_keys_open(key, epoch, svbuf_ptr(b), svbuf_len(b), blob, blen,
	    ret_plain, why);
	if (r == SV_ERR_INTEGRITY)
		sv_fail(v->msg, r, "sealed blob failed its integrity check (%s)", why);
	else if (r != 0)
		sv_fail(v->msg, r, "cannot open a sealed blob: %s", sv_strerror(r));
	svbuf_free(b);
	return r;
}

