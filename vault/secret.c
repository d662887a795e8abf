/*
 * secret.c: the master secret: its backup under a separate password (with
 * a hint), its restore in three steps, and its rotation, which re-seals
 * every record in one write transaction.
 */
#include "internal.h"

/* The limits of the first passphrase slot, else the moderate defaults. */
static int
slot_limits(struct vault *v, struct vault_store_txn *st,
    unsigned long long *ret_ops, size_t *ret_mem)
{
	struct vault_slot *slots = NULL;
	size_t n = 0, i;
	int r;

	vault_limits_default(ret_ops, ret_mem);
	if ((r = vault_slots_read(v, st, &slots, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (slots[i].type == VAULT_SLOT_PASSPHRASE) {
			*ret_ops = slots[i].opslimit;
			*ret_mem = (size_t)slots[i].memlimit;
			break;
		}
	}
	free(slots);
	return 0;
}

int
vault_secret_backup(struct vault *v, const char *pw, size_t pwlen,
    const char *hint, struct svbuf *out)
{
	struct vault_store_txn *st = NULL;
	unsigned long long ops;
	size_t mem;
	int r;

	if (v->keys == NULL)
		return sv_fail(v->msg, SV_ERR_LOCKED, "vault is locked");
	if (pw == NULL || pwlen == 0)
		return sv_fail(v->msg, SV_ERR_INVALID, "empty backup password");
	if (v->store == NULL)
		return sv_fail(v->msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	if ((r = vault_store_txn_begin(v->store, NULL, 0, &st)) != 0 ||
	    (r = slot_limits(v, st, &ops, &mem)) != 0)
		goto out;
	vault_store_txn_abort(st);
	st = NULL;
	r = vault_keys_backup_make(v->id, ops, mem, NULL, NULL, pw, pwlen, hint,
	    v->keys->master, v->keys->epoch, out);
	if (r == SV_ERR_TOO_LARGE)
		r = sv_fail(v->msg, r, "the hint is too long (at most %d bytes)",
		    VAULT_KEYS_HINT_MAX);
	else if (r == SV_ERR_INVALID)
		r = sv_fail(v->msg, r, "the hint holds control characters");
	else if (r != 0)
		r = sv_fail(v->msg, r, "cannot make the secret backup: %s",
		    sv_strerror(r));
out:
	vault_store_txn_abort(st);
	return r;
}

int
vault_secret_backup_hint(const void *blob, size_t len, char **ret_hint)
{
	if (blob == NULL)
		return SV_ERR_INVALID;
	return vault_keys_backup_hint(blob, len, ret_hint, NULL);
}

/*
 * Does the master secret of a backup (in k) match this vault's data?  Also
 * loads the audit key into k.
 */
static int
restore_check(struct vault *v, struct vault_store_txn *st, struct vault_keys *k)
{
	int r;

	if ((r = vault_master_check(v, st, k)) == SV_ERR_INTEGRITY ||
	    r == SV_ERR_NOT_FOUND)
		return sv_fail(v->msg, SV_ERR_CONFLICT,
		    "backup does not match this vault's data: it was made "
		    "before the last rotation");
	if (r != 0)
		return r;
	return vault_audit_key_load(v, st, k);
}

/*
 * A secret restore in steps (vault.h): the inputs copied at prepare, with
 * the limits of the slots to make; derive fills k and the new slots and
 * wrapped master secret; finish writes them.
 */
struct vault_secret_job {
	struct vault *v;		/* for its id only, until finish */
	uint8_t *blob;
	size_t blen;
	char *pw;			/* sodium_malloc'd, as the two below */
	size_t pwlen;
	char *newpass;			/* NULL: no passphrase slot */
	size_t newlen;
	uint8_t *key;			/* NULL: no key slot */
	unsigned long long ops;		/* the new passphrase slot's limits */
	size_t mem;
	uint64_t backup_mem;		/* the backup's own memory limit */
	struct vault_keys *k;
	struct svbuf *slots, *master;
	int derived;
};

void
vault_secret_job_free(struct vault_secret_job *j)
{
	if (j == NULL)
		return;
	free(j->blob);
	if (j->pw != NULL)
		sodium_free(j->pw);
	if (j->newpass != NULL)
		sodium_free(j->newpass);
	if (j->key != NULL)
		sodium_free(j->key);
	vault_keys_free(j->k);
	svbuf_free(j->slots);
	svbuf_free(j->master);
	free(j);
}

static void *
secure_copy(const void *p, size_t len)
{
	void *c = sodium_malloc(len == 0 ? 1 : len);

	if (c != NULL && len > 0)
		memcpy(c, p, len);
	return c;
}

/*
 * The limits of the slots a restore makes (the first passphrase slot's) and
 * the most any passphrase slot asks for, which a backup of this vault
 * cannot exceed: it was made with the limits of a slot of its time.  A
 * vault without a passphrase slot made its backups with the defaults.
 */
static int
restore_limits(struct vault *v, struct vault_store_txn *st,
    unsigned long long *ret_ops, size_t *ret_mem, uint64_t *ret_max_ops,
    uint64_t *ret_max_mem)
{
	struct vault_slot *slots = NULL;
	size_t n = 0, i;
	int r, seen = 0;

	if ((r = slot_limits(v, st, ret_ops, ret_mem)) != 0 ||
	    (r = vault_slots_read(v, st, &slots, &n)) != 0)
		return r;
	*ret_max_ops = *ret_ops;
	*ret_max_mem = *ret_mem;
	for (i = 0; i < n; i++) {
		if (slots[i].type != VAULT_SLOT_PASSPHRASE)
			continue;
		if (!seen || slots[i].opslimit > *ret_max_ops)
			*ret_max_ops = slots[i].opslimit;
		if (!seen || slots[i].memlimit > *ret_max_mem)
			*ret_max_mem = slots[i].memlimit;
		seen = 1;
	}
	free(slots);
	return 0;
}

int
vault_secret_restore_prepare(struct vault *v, const void *blob, size_t len,
    const char *pw, size_t pwlen, const char *newpass, size_t newlen,
    const uint8_t *key, struct vault_secret_job **ret, char *msg)
{
	struct vault_store_txn *st = NULL;
	struct vault_secret_job *j = NULL;
	struct vault_backup_info info;
	uint64_t max_ops, max_mem;
	int r;

	if (blob == NULL || pw == NULL)
		return sv_fail(msg, SV_ERR_INVALID, "no backup or password given");
	if (newpass != NULL && newlen == 0)
		return sv_fail(msg, SV_ERR_INVALID, "empty passphrase");
	if (newpass == NULL && key == NULL)
		return sv_fail(msg, SV_ERR_INVALID, "a new passphrase or key is needed");
	if (v->store == NULL)
		return sv_fail(msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	/* every check that needs no key comes before the key derivation */
	if ((r = vault_keys_backup_peek(blob, len, &info, msg)) != 0)
		return r;
	if (memcmp(info.id, v->id, VAULT_ID_BYTES) != 0)
		return sv_fail(msg, SV_ERR_CONFLICT, "backup is of another vault");
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = vault_store_txn_begin(v->store, NULL, 0, &st)) != 0 ||
	    (r = restore_limits(v, st, &j->ops, &j->mem, &max_ops, &max_mem)) != 0) {
		sv_fail(msg, r, "%s", v->msg);
		goto out;
	}
	if (info.opslimit > max_ops || info.memlimit > max_mem) {
		r = sv_fail(msg, SV_ERR_CONFLICT,
		    "the backup asks for more Argon2id work (opslimit %llu, memlimit %llu) "
		    "than this vault's slots (%llu, %llu): it was not made of this vault",
		    (unsigned long long)info.opslimit, (unsigned long long)info.memlimit,
		    (unsigned long long)max_ops, (unsigned long long)max_mem);
		goto out;
	}
	if (vault_keys_limits_check(j->ops, j->mem) != 0) {
		j->ops = info.opslimit;
		j->mem = (size_t)info.memlimit;
	}
	j->v = v;
	j->backup_mem = info.memlimit;
	j->blen = len;
	if ((j->blob = malloc(len == 0 ? 1 : len)) == NULL ||
	    (j->pw = secure_copy(pw, pwlen)) == NULL ||
	    (newpass != NULL && (j->newpass = secure_copy(newpass, newlen)) == NULL) ||
	    (key != NULL && (j->key = secure_copy(key, VAULT_KEY_BYTES)) == NULL) ||
	    (j->k = vault_keys_new()) == NULL || (j->slots = svbuf_new(0)) == NULL ||
	    (j->master = svbuf_new(0)) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(j->blob, blob, len);
	j->pwlen = pwlen;
	j->newlen = newlen;
	*ret = j;
	j = NULL;
	r = 0;
out:
	vault_store_txn_abort(st);
	vault_secret_job_free(j);
	return r;
}

size_t
vault_secret_job_cost(const struct vault_secret_job *j)
{
	size_t mem = j->newpass != NULL ? j->mem : 0;

	return j->backup_mem > mem ? (size_t)j->backup_mem : mem;
}

/* Argon2id twice, touching nothing but j: it runs without any lock. */
int
vault_secret_restore_derive(struct vault_secret_job *j, char *msg)
{
	struct vault_backup_info info;
	struct vault_keys *k = j->k;
	int r;

	r = vault_keys_backup_open(j->blob, j->blen, j->pw, j->pwlen, k->master,
	    &info, msg);
	sodium_memzero(j->pw, j->pwlen);
	if (r != 0)
		return r;
	k->epoch = info.epoch;
	if ((r = vault_keys_derive(k)) != 0)
		return sv_fail(msg, r, "cannot derive the purpose keys");
	randombytes_buf(k->root, sizeof(k->root));
	if ((r = vault_slots_make(j->v, k, j->newpass, j->newlen, j->key, j->ops, j->mem,
	    j->slots)) != 0 ||
	    (r = vault_keys_master_wrap(k->root, j->v->id, k->epoch, k->master,
	    NULL, j->master)) != 0)
		return sv_fail(msg, r, "cannot make the new unlock slots: %s", sv_strerror(r));
	j->derived = 1;
	return 0;
}

int
vault_secret_restore_finish(struct vault *v, struct vault_secret_job *j,
    int (*check)(void *ctx, struct vault *v), void *ctx, char *msg)
{
	struct vault_store_txn *st = NULL;
	struct vault_keys *old;
	int r;

	if (!j->derived || j->v != v)
		return sv_fail(msg, SV_ERR_INTERNAL, "secret restore finished out of turn");
	if (v->store == NULL)
		return sv_fail(msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	if (check != NULL) {
		if ((r = vault_store_txn_begin(v->store, NULL, 0, &st)) != 0 ||
		    (r = restore_check(v, st, j->k)) != 0) {
			sv_fail(msg, r, "%s", v->msg);
			goto out;
		}
		vault_store_txn_abort(st);
		st = NULL;
		/* the backup's keys read the vault for this question only */
		old = v->keys;
		v->keys = j->k;
		r = check(ctx, v);
		v->keys = old;
		if (r != 0)
			goto out;
	}
	/* under the write lock: a rotation may have come in between */
	if ((r = vault_store_txn_begin(v->store, NULL, 1, &st)) != 0 ||
	    (r = restore_check(v, st, j->k)) != 0 ||
	    (r = vault_meta_put(st, META_SLOTS, j->slots)) != 0 ||
	    (r = vault_meta_put(st, META_MASTER, j->master)) != 0) {
		sv_fail(msg, r, "%s", v->msg);
		goto out;
	}
	r = vault_store_txn_commit(st);
	st = NULL;
	if (r != 0) {
		sv_fail(msg, r, "%s", v->msg);
		goto out;
	}
	vault_keys_install(v, j->k);
	j->k = NULL;
out:
	vault_store_txn_abort(st);
	return r;
}

int
vault_secret_restore(struct vault *v, const void *blob, size_t len,
    const char *pw, size_t pwlen, const char *newpass, size_t newlen,
    const uint8_t *key)
{
	struct vault_secret_job *j = NULL;
	char m[SV_MSG_MAX] = "";
	int r;

	if ((r = vault_secret_restore_prepare(v, blob, len, pw, pwlen, newpass, newlen,
	    key, &j, m)) == 0 && (r = vault_secret_restore_derive(j, m)) == 0)
		r = vault_secret_restore_finish(v, j, NULL, NULL, m);
	vault_secret_job_free(j);
	if (r != 0)
		snprintf(v->msg, sizeof(v->msg), "%s", m);
	return r;
}

/* Re-seal every sealed record of st under nk; *done counts them. */
static int
rotate_records(struct vault *v, struct vault_store_txn *st,
    const struct vault_keys *nk, size_t total, size_t *done,
    void (*progress)(void *ctx, size_t done, size_t total), void *ctx)
{
	struct vault_store_cursor *c = NULL;
	struct svbuf *plain = NULL, *b = NULL, *keys = NULL, *walk = NULL;
	const uint8_t *key, *val;
	size_t klen, vlen;
	unsigned tab;
	int r = 0;

	if ((b = svbuf_new(0)) == NULL || (keys = svbuf_new(0)) == NULL) {
		r = sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (tab = 0; tab < v->schema.n; tab++) {
		if (vault_table_raw(v, tab))
			continue;
		/*
		 * First the keys, then the records: replacing values under a
		 * cursor that walks the same table can split pages and move the
		 * cursor back onto a record already sealed with the new key.
		 */
		svbuf_reset(keys);
		if ((r = vault_store_cursor_open(st, tab, &c)) != 0)
			goto out;
		for (r = vault_store_cursor_get(c, VAULT_STORE_FIRST, NULL, 0,
		    &key, &klen, &val, &vlen); r == 1;
		    r = vault_store_cursor_get(c, VAULT_STORE_NEXT, NULL, 0,
		    &key, &klen, &val, &vlen)) {
			if (tab == VAULT_TABLE_META && vault_meta_is_raw(key, klen))
				continue;
			if (svbuf_put_string(keys, key, klen) != 0) {
				r = sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
				goto out;
			}
		}
		if (r < 0)
			goto out;
		vault_store_cursor_close(c);
		c = NULL;
		if ((walk = svbuf_from(svbuf_ptr(keys), svbuf_len(keys))) == NULL) {
			r = sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
			goto out;
		}
		while (svbuf_len(walk) > 0) {
			if (svbuf_get_string_direct(walk, &key, &klen) != 0) {
				r = sv_fail(v->msg, SV_ERR_INTERNAL, "rotation key list");
				goto out;
			}
			svbuf_reset(b);
			if ((r = vault_store_get(st, tab, key, klen, &val, &vlen)) != 0 ||
			    (r = vault_sealed_open(v, v->keys, tab, key, klen, val,
			    vlen, &plain)) != 0)
				goto out;
			if ((r = vault_keys_record_seal(nk->records, nk->epoch,
			    NULL, tab, key, klen, svbuf_ptr(plain),
			    svbuf_len(plain), b)) != 0 ||
			    (r = vault_store_put(st, tab, key, klen, svbuf_ptr(b),
			    svbuf_len(b), 0)) != 0)
				goto out;
			svbuf_free(plain);
			plain = NULL;
			if (++*done % ROTATE_PROGRESS_EVERY == 0 && progress != NULL)
				progress(ctx, *done, total);
		}
		svbuf_free(walk);
		walk = NULL;
	}
	r = 0;
out:
	vault_store_cursor_close(c);
	svbuf_free(plain);
	svbuf_free(walk);
	svbuf_free(keys);
	svbuf_free(b);
	return r;
}

int
vault_secret_rotate(struct vault *v,
    void (*progress)(void *ctx, size_t done, size_t total), void *ctx)
{
	struct vault_store_txn *st = NULL;
	struct vault_keys *nk = NULL;
	struct svbuf *master = NULL;
	const uint8_t *p;
	size_t len, n, i, total = 0, done = 0;
	uint32_t stored;
	int r;

	if (v->keys == NULL)
		return sv_fail(v->msg, SV_ERR_LOCKED, "vault is locked");
	if (v->store == NULL)
		return sv_fail(v->msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	if (v->keys->epoch == UINT32_MAX)
		return sv_fail(v->msg, SV_ERR_INVALID, "key epochs are exhausted");
	if ((nk = vault_keys_new()) == NULL || (master = svbuf_new(0)) == NULL) {
		r = sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(nk->root, v->keys->root, sizeof(nk->root));
	memcpy(nk->audit, v->keys->audit, sizeof(nk->audit));
	randombytes_buf(nk->master, sizeof(nk->master));
	nk->epoch = v->keys->epoch + 1;
	if ((r = vault_keys_derive(nk)) != 0 ||
	    (r = vault_keys_master_wrap(nk->root, v->id, nk->epoch, nk->master,
	    NULL, master)) != 0)
		goto out;
	/* every page is written again in one transaction: room for a copy */
	if ((r = vault_store_txn_begin(v->store, NULL, 0, &st)) != 0 ||
	    (r = vault_store_txn_used(st, &len)) != 0)
		goto out;
	vault_store_txn_abort(st);
	st = NULL;
	if ((r = vault_store_grow(v->store, len + len / 2)) != 0 ||
	    (r = vault_store_txn_begin(v->store, NULL, 1, &st)) != 0 ||
	    (r = vault_meta_raw_get(v, st, META_MASTER, &p, &len)) != 0)
		goto out;
	if (vault_keys_peek(p, len, &stored) != 0 || stored != v->keys->epoch) {
		r = sv_fail(v->msg, SV_ERR_CONFLICT,
		    "the vault was rotated by another process: unlock it again");
		goto out;
	}
	for (i = 0; i < v->schema.n; i++) {
		if (vault_table_raw(v, (unsigned)i))
			continue;
		if ((r = vault_store_entries(st, (unsigned)i, &n)) != 0)
			goto out;
		total += n;
	}
	total = total >= 4 ? total - 4 : 0;	/* the raw meta records */
	if (progress != NULL)
		progress(ctx, 0, total);
	if ((r = rotate_records(v, st, nk, total, &done, progress, ctx)) != 0 ||
	    (r = vault_meta_put(st, META_MASTER, master)) != 0)
		goto out;
	r = vault_store_txn_commit(st);
	st = NULL;
	if (r != 0)
		goto out;
	if (progress != NULL && done % ROTATE_PROGRESS_EVERY != 0)
		progress(ctx, done, total);
	vault_keys_install(v, nk);
	nk = NULL;
out:
	vault_store_txn_abort(st);
	vault_keys_free(nk);
	svbuf_free(master);
	return r;
}

