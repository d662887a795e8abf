/*
 * restore.c: the vault's data: a consistent hot copy, and a restore from
 * one that must be of this vault (staged, checked, then put in place).
 */
#include "internal.h"

int
vault_backup(struct vault *v, int fd)
{
	if (v->store == NULL)
		return sv_fail(v->msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	return vault_store_copy_fd(v->store, fd);
}


/* Is the restore file a vault, and this one? */
static int
restore_verify(struct vault *v, struct vault_store *s)
{
	struct vault_store_txn *st = NULL;
	uint8_t id[VAULT_ID_BYTES];
	int r;

	if ((r = vault_store_txn_begin(s, NULL, 0, &st)) != 0)
		goto out;
	if ((r = vault_identity_read(v, st, id)) != 0) {
		if (r == SV_ERR_BAD_FORMAT)
			r = sv_fail(v->msg, r, "not a vault backup: it has no vault identity");
		goto out;
	}
	if (memcmp(id, v->id, VAULT_ID_BYTES) != 0) {
		r = sv_fail(v->msg, SV_ERR_CONFLICT, "backup is of another vault");
		goto out;
	}
	r = 0;
out:
	vault_store_txn_abort(st);
	return r;
}

/* After a restore: keep the keys if the root key opens the new data. */
static void
restore_keys(struct vault *v)
{
	struct vault_store_txn *st = NULL;
	struct vault_keys *k = NULL;
	char save[SV_MSG_MAX];

	if (v->keys == NULL)
		return;
	memcpy(save, v->msg, sizeof(save));
	if ((k = vault_keys_new()) == NULL)
		goto out;
	memcpy(k->root, v->keys->root, sizeof(k->root));
	if (vault_store_txn_begin(v->store, NULL, 0, &st) != 0 ||
	    vault_keys_complete(v, st, k) != 0)
		goto out;
	vault_keys_install(v, k);
	k = NULL;
out:
	vault_store_txn_abort(st);
	if (k != NULL) {
		vault_keys_free(k);
		vault_keys_install(v, NULL);
	}
	memcpy(v->msg, save, sizeof(save));
}

int
vault_restore(struct vault *v, int fd)
{
	struct vault_store *check = NULL;
	struct vault_store_loc loc;
	struct vault_store_conf conf;
	int r, swapped = 0;

	if (v->store == NULL)
		return sv_fail(v->msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	if (vault_store_live_txns(v->store) != 0)
		return sv_fail(v->msg, SV_ERR_CONFLICT,
		    "cannot restore while transactions are open");
	vault_data_where(v, &loc, &conf);
	r = vault_store_restore_stage(v->sops, &loc, fd, v->max_size, &conf, v->msg, &check);
	if (r == 0)
		r = restore_verify(v, check);
	vault_store_close(check);
	if (r != 0)
		goto out;
	vault_store_close(v->store);
	v->store = NULL;
	swapped = (r = vault_store_restore_swap(v->sops, &loc, v->msg)) == 0;
	/* reopen whichever data is now in place */
	if (vault_data_open(v, 0) != 0) {
		vault_keys_install(v, NULL);
		if (r == 0)
			r = SV_ERR_STORAGE;
		goto out;
	}
	if (swapped)
		restore_keys(v);
out:
	vault_store_restore_drop(v->sops, &loc);
	return r;
}

/* Every record of table tab from src into dst, as it is. */
static int
copy_table(struct vault *v, struct vault_store_txn *src, struct vault_store_txn *dst,
    unsigned tab, size_t *n)
{
	struct vault_store_cursor *c = NULL;
	const uint8_t *k, *val;
	size_t kl, vl;
	int r;

	if ((r = vault_store_cursor_open(src, tab, &c)) != 0)
		return r;
	for (r = vault_store_cursor_get(c, VAULT_STORE_FIRST, NULL, 0, &k, &kl, &val, &vl);
	    r == 1; r = vault_store_cursor_get(c, VAULT_STORE_NEXT, NULL, 0, &k, &kl, &val, &vl)) {
		if ((r = vault_store_put(dst, tab, k, kl, val, vl, VAULT_STORE_NOOVERWRITE)) != 0)
			break;
		(*n)++;
	}
	vault_store_cursor_close(c);
	return r < 0 ? r : 0;
}

int
vault_copy_to(struct vault *v, const char *to, size_t *ret_n)
{
	const struct vault_store_ops *ops;
	struct vault_store *ds = NULL;
	struct vault_store_txn *src = NULL, *dst = NULL;
	struct vault_store_loc loc, here;
	struct vault_store_conf conf;
	char dmsg[SV_MSG_MAX] = "";
	size_t n = 0;
	unsigned t;
	int r, made = 0, fd = -1;

	if (v->store == NULL)
		return sv_fail(v->msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	if (to == NULL || *to == '\0')
		return sv_fail(v->msg, SV_ERR_INVALID, "no location to copy to");
	if (strcmp(to, v->dir) == 0)
		return sv_fail(v->msg, SV_ERR_INVALID, "the vault is already there");
	ops = vault_store_ops_for(to);
	if ((r = vault_dir_open(to, 1, v->msg, &fd)) != 0)
		return r;
	vault_data_where(v, &here, &conf);
	loc.dirfd = fd;
	loc.path = to;
	r = vault_store_probe(ops, &loc, dmsg);
	if (r != SV_ERR_NO_VAULT) {
		if (r == 0)
			r = sv_fail(v->msg, SV_ERR_EXISTS, "%s already holds a vault", to);
		else
			sv_fail(v->msg, r, "%s", dmsg);
		goto out;
	}
	if ((r = vault_store_create(ops, &loc, &conf, dmsg, &ds)) != 0) {
		sv_fail(v->msg, r, "%s", dmsg);
		goto out;
	}
	made = 1;
	if ((r = vault_store_txn_begin(v->store, NULL, 0, &src)) != 0 ||
	    (r = vault_store_txn_begin(ds, NULL, 1, &dst)) != 0)
		goto fail;
	for (t = 0; t < v->schema.n; t++)
		if ((r = copy_table(v, src, dst, t, &n)) != 0)
			goto fail;
	r = vault_store_txn_commit(dst);
	dst = NULL;
	if (r != 0)
		goto fail;
	made = 0;
	if (ret_n != NULL)
		*ret_n = n;
	goto out;
fail:
	if (dmsg[0] != '\0')
		sv_fail(v->msg, r, "%s: %s", to, dmsg);
out:
	vault_store_txn_abort(dst);
	vault_store_txn_abort(src);
	vault_store_close(ds);
	if (made)
		vault_store_remove(ops, &loc);
	if (fd >= 0)
		close(fd);
	return r;
}
