/*
 * broken.c: a backend that is wrong on purpose, for the conformance
 * suite's own test (test-conformance.c): the LMDB backend behind a
 * wrapper whose cursors skip an entry (the fourth NEXT of a cursor jumps
 * over one).  Everything else is passed on.  The suite must fail it, and
 * name the cursor check.
 */
#include <stdlib.h>

#include "broken.h"

struct broken_store {
	struct vault_store base;
	struct vault_store *in;
};

struct broken_txn {
	struct vault_store_txn base;
	struct vault_store_txn *in;
};

struct broken_cursor {
	struct vault_store_cursor base;
	struct vault_store_cursor *in;
	unsigned nexts;
};

#define BS(s) ((struct broken_store *)(s))
#define BT(t) ((struct broken_txn *)(t))
#define BC(c) ((struct broken_cursor *)(c))

static int
wrap_store(struct vault_store *in, struct vault_store **ret)
{
	struct broken_store *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		vault_store_close(in);
		return SV_ERR_NOMEM;
	}
	s->base.ops = &store_broken_cursor;
	s->in = in;
	*ret = &s->base;
	return 0;
}

static int
b_probe(const struct vault_store_loc *loc, char *msg)
{
	return vault_store_lmdb.probe(loc, msg);
}

static int
b_create(const struct vault_store_loc *loc, const struct vault_store_conf *conf, char *msg,
    struct vault_store **ret)
{
	struct vault_store *in = NULL;
	int r;

	if ((r = vault_store_lmdb.create(loc, conf, msg, &in)) != 0)
		return r;
	return wrap_store(in, ret);
}

static void
b_remove(const struct vault_store_loc *loc)
{
	vault_store_lmdb.remove(loc);
}

static int
b_open(const struct vault_store_loc *loc, const struct vault_store_conf *conf, char *msg,
    struct vault_store **ret)
{
	struct vault_store *in = NULL;
	int r;

	if ((r = vault_store_lmdb.open(loc, conf, msg, &in)) != 0)
		return r;
	return wrap_store(in, ret);
}

static void
b_close(struct vault_store *s)
{
	vault_store_close(BS(s)->in);
	free(s);
}

static int
b_restore_stage(const struct vault_store_loc *loc, int fd, size_t max,
    const struct vault_store_conf *conf, char *msg, struct vault_store **ret_check)
{
	struct vault_store *in = NULL;
	int r;

	if ((r = vault_store_lmdb.restore_stage(loc, fd, max, conf, msg, &in)) != 0)
		return r;
	return wrap_store(in, ret_check);
}

static int
b_restore_swap(const struct vault_store_loc *loc, char *msg)
{
	return vault_store_lmdb.restore_swap(loc, msg);
}

static void
b_restore_drop(const struct vault_store_loc *loc)
{
	vault_store_lmdb.restore_drop(loc);
}

static unsigned
b_live_txns(struct vault_store *s)
{
	return vault_store_live_txns(BS(s)->in);
}

static int
b_txn_begin(struct vault_store *s, struct vault_store_txn *parent, int write,
    struct vault_store_txn **ret)
{
	struct broken_txn *t = calloc(1, sizeof(*t));
	int r;

	if (t == NULL)
		return SV_ERR_NOMEM;
	if ((r = vault_store_txn_begin(BS(s)->in, parent != NULL ? BT(parent)->in : NULL,
	    write, &t->in)) != 0) {
		free(t);
		return r;
	}
	t->base.ops = &store_broken_cursor;
	*ret = &t->base;
	return 0;
}

static int
b_txn_commit(struct vault_store_txn *t, int nosync)
{
	int r = vault_store_txn_commit_flags(BT(t)->in, nosync);

	free(t);
	return r;
}

static void
b_txn_abort(struct vault_store_txn *t)
{
	vault_store_txn_abort(BT(t)->in);
	free(t);
}

static int
b_sync(struct vault_store *s)
{
	return vault_store_sync(BS(s)->in);
}

static int
b_get(struct vault_store_txn *t, unsigned tab, const void *key, size_t klen,
    const uint8_t **ret_p, size_t *ret_len)
{
	return vault_store_get(BT(t)->in, tab, key, klen, ret_p, ret_len);
}

static int
b_put(struct vault_store_txn *t, unsigned tab, const void *key, size_t klen,
    const void *val, size_t vlen, unsigned flags)
{
	return vault_store_put(BT(t)->in, tab, key, klen, val, vlen, flags);
}

static int
b_del(struct vault_store_txn *t, unsigned tab, const void *key, size_t klen)
{
	return vault_store_del(BT(t)->in, tab, key, klen);
}

static int
b_entries(struct vault_store_txn *t, unsigned tab, size_t *ret)
{
	return vault_store_entries(BT(t)->in, tab, ret);
}

static int
b_cursor_open(struct vault_store_txn *t, unsigned tab, struct vault_store_cursor **ret)
{
	struct broken_cursor *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL)
		return SV_ERR_NOMEM;
	if ((r = vault_store_cursor_open(BT(t)->in, tab, &c->in)) != 0) {
		free(c);
		return r;
	}
	c->base.ops = &store_broken_cursor;
	*ret = &c->base;
	return 0;
}

/* The fault: the fourth NEXT of a cursor skips an entry. */
static int
b_cursor_get(struct vault_store_cursor *c, enum vault_store_op op, const void *key,
    size_t klen, const uint8_t **ret_key, size_t *ret_klen, const uint8_t **ret_val,
    size_t *ret_vlen)
{
	struct broken_cursor *bc = BC(c);
	int r;

	if (op == VAULT_STORE_NEXT && ++bc->nexts == 4 &&
	    (r = vault_store_cursor_get(bc->in, op, key, klen, ret_key, ret_klen, ret_val,
	    ret_vlen)) != 1)
		return r;
	return vault_store_cursor_get(bc->in, op, key, klen, ret_key, ret_klen, ret_val,
	    ret_vlen);
}

static int
b_cursor_del(struct vault_store_cursor *c)
{
	return vault_store_cursor_del(BC(c)->in);
}

static void
b_cursor_close(struct vault_store_cursor *c)
{
	vault_store_cursor_close(BC(c)->in);
	free(c);
}

static int
b_info(struct vault_store *s, struct vault_store_size *ret)
{
	return vault_store_info(BS(s)->in, ret);
}

static int
b_txn_used(struct vault_store_txn *t, size_t *ret)
{
	return vault_store_txn_used(BT(t)->in, ret);
}

static int
b_grow(struct vault_store *s, size_t room)
{
	return vault_store_grow(BS(s)->in, room);
}

static int
b_copy_fd(struct vault_store *s, int fd)
{
	return vault_store_copy_fd(BS(s)->in, fd);
}

const struct vault_store_ops store_broken_cursor = {
	.name = "lmdb with a cursor that skips an entry",
	.probe = b_probe,
	.create = b_create,
	.remove = b_remove,
	.open = b_open,
	.close = b_close,
	.restore_stage = b_restore_stage,
	.restore_swap = b_restore_swap,
	.restore_drop = b_restore_drop,
	.live_txns = b_live_txns,
	.txn_begin = b_txn_begin,
	.txn_commit = b_txn_commit,
	.txn_abort = b_txn_abort,
	.sync = b_sync,
	.get = b_get,
	.put = b_put,
	.del = b_del,
	.entries = b_entries,
	.cursor_open = b_cursor_open,
	.cursor_get = b_cursor_get,
	.cursor_del = b_cursor_del,
	.cursor_close = b_cursor_close,
	.info = b_info,
	.txn_used = b_txn_used,
	.grow = b_grow,
	.copy_fd = b_copy_fd,
};
