/*
 * store.c: the storage interface's generic side (store.h): which backend a
 * location takes, and every call passed on to the backend's ops table.
 * Nothing here knows a backend's names or files.
 */
#include <stddef.h>

#include "store/store.h"

const struct vault_store_ops *
vault_store_ops_for(const char *location)
{
	if (vault_store_pg_location(location))
		return &vault_store_pg;
	return &vault_store_lmdb;
}

/* 0 if the backend's library is there (libpq is opened at its first use) */
static int
loadable(const struct vault_store_ops *ops, char *msg)
{
	return ops == &vault_store_pg ? vault_store_pq_need(msg) : 0;
}

const char *
vault_store_backend_name(const struct vault_store_ops *ops)
{
	return ops->name;
}

int
vault_store_probe(const struct vault_store_ops *ops, const struct vault_store_loc *loc,
    char *msg)
{
	int r;

	if ((r = loadable(ops, msg)) != 0)
		return r;
	return ops->probe(loc, msg);
}

int
vault_store_create(const struct vault_store_ops *ops, const struct vault_store_loc *loc,
    const struct vault_store_conf *conf, char *msg, struct vault_store **ret)
{
	int r;

	if ((r = loadable(ops, msg)) != 0)
		return r;
	return ops->create(loc, conf, msg, ret);
}

void
vault_store_remove(const struct vault_store_ops *ops, const struct vault_store_loc *loc)
{
	ops->remove(loc);
}

int
vault_store_open(const struct vault_store_ops *ops, const struct vault_store_loc *loc,
    const struct vault_store_conf *conf, char *msg, struct vault_store **ret)
{
	int r;

	if ((r = loadable(ops, msg)) != 0)
		return r;
	return ops->open(loc, conf, msg, ret);
}

void
vault_store_close(struct vault_store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

int
vault_store_restore_stage(const struct vault_store_ops *ops,
    const struct vault_store_loc *loc, int fd, size_t max,
    const struct vault_store_conf *conf, char *msg, struct vault_store **ret_check)
{
	int r;

	if ((r = loadable(ops, msg)) != 0)
		return r;
	return ops->restore_stage(loc, fd, max, conf, msg, ret_check);
}

int
vault_store_restore_swap(const struct vault_store_ops *ops,
    const struct vault_store_loc *loc, char *msg)
{
	return ops->restore_swap(loc, msg);
}

void
vault_store_restore_drop(const struct vault_store_ops *ops,
    const struct vault_store_loc *loc)
{
	ops->restore_drop(loc);
}

unsigned
vault_store_live_txns(struct vault_store *s)
{
	return s->ops->live_txns(s);
}

int
vault_store_txn_begin(struct vault_store *s, struct vault_store_txn *parent,
    int write, struct vault_store_txn **ret)
{
	return s->ops->txn_begin(s, parent, write, ret);
}

int
vault_store_txn_commit(struct vault_store_txn *t)
{
	return t->ops->txn_commit(t, 0);
}

int
vault_store_txn_commit_flags(struct vault_store_txn *t, int nosync)
{
	return t->ops->txn_commit(t, nosync);
}

int
vault_store_sync(struct vault_store *s)
{
	return s->ops->sync(s);
}

void
vault_store_txn_abort(struct vault_store_txn *t)
{
	if (t != NULL)
		t->ops->txn_abort(t);
}

int
vault_store_get(struct vault_store_txn *t, unsigned tab,
    const void *key, size_t klen, const uint8_t **ret_p, size_t *ret_len)
{
	return t->ops->get(t, tab, key, klen, ret_p, ret_len);
}

int
vault_store_put(struct vault_store_txn *t, unsigned tab,
    const void *key, size_t klen, const void *val, size_t vlen, unsigned flags)
{
	return t->ops->put(t, tab, key, klen, val, vlen, flags);
}

int
vault_store_del(struct vault_store_txn *t, unsigned tab, const void *key, size_t klen)
{
	return t->ops->del(t, tab, key, klen);
}

int
vault_store_entries(struct vault_store_txn *t, unsigned tab, size_t *ret)
{
	return t->ops->entries(t, tab, ret);
}

int
vault_store_cursor_open(struct vault_store_txn *t, unsigned tab,
    struct vault_store_cursor **ret)
{
	return t->ops->cursor_open(t, tab, ret);
}

int
vault_store_cursor_get(struct vault_store_cursor *c, enum vault_store_op op,
    const void *key, size_t klen, const uint8_t **ret_key, size_t *ret_klen,
    const uint8_t **ret_val, size_t *ret_vlen)
{
	return c->ops->cursor_get(c, op, key, klen, ret_key, ret_klen, ret_val, ret_vlen);
}

int
vault_store_cursor_del(struct vault_store_cursor *c)
{
	return c->ops->cursor_del(c);
}

void
vault_store_cursor_close(struct vault_store_cursor *c)
{
	if (c != NULL)
		c->ops->cursor_close(c);
}

int
vault_store_info(struct vault_store *s, struct vault_store_size *ret)
{
	return s->ops->info(s, ret);
}

int
vault_store_txn_used(struct vault_store_txn *t, size_t *ret)
{
	return t->ops->txn_used(t, ret);
}

int
vault_store_grow(struct vault_store *s, size_t room)
{
	return s->ops->grow(s, room);
}

int
vault_store_copy_fd(struct vault_store *s, int fd)
{
	return s->ops->copy_fd(s, fd);
}

int
vault_store_txn_version(struct vault_store_txn *t, uint64_t *ret)
{
	if (t->ops->txn_version == NULL)
		return SV_ERR_INVALID;
	return t->ops->txn_version(t, ret);
}

int
vault_store_version(struct vault_store *s, uint64_t *ret)
{
	if (s->ops->version == NULL)
		return SV_ERR_INVALID;
	return s->ops->version(s, ret);
}
