/*
 * The vault (vault.h): a directory holding one store (store.h) whose values
 * are sealed records under keys kept in secure memory (keys.h).  This file
 * joins the two: it creates and opens vaults, unlocks them through their
 * slots, seals and opens records inside transactions, rotates the master
 * secret, and makes and restores both kinds of backup.  It never includes
 * lmdb.h; every format it writes is defined in keys.c and docs/keys.md.
 *
 * The keys of an unlocked handle are frozen (read-only) while in use, so
 * transactions in several threads may read them at once; lock, rotation and
 * the restores replace them and must not run beside other transactions on
 * the same handle.
 */
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
	char *dir;
	int dirfd;
	const struct vault_store_ops *sops;	/* the backend, from the location */
	size_t map_size;		/* the map to begin with */
	size_t max_size;		/* the ceiling: configured, then the store's */
	int fixed_map;			/* SSOVAULT_MAP_SIZE alone: the map never grows */
	struct vault_store *store;	/* NULL only after a failed restore */
	uint8_t id[VAULT_ID_BYTES];
	struct vault_keys *keys;	/* NULL while locked; frozen */
	char msg[SV_MSG_MAX];
};

struct vault_txn {
	struct vault *v;
	struct vault_store_txn *st;
};

struct vault_cursor {
	struct vault *v;
	enum vault_table tab;
	struct vault_store_cursor *sc;
};

static const char *const table_names[VAULT_TABLE__COUNT] = {
	[VAULT_TABLE_META] = "meta",
	[VAULT_TABLE_APPS] = "apps",
	[VAULT_TABLE_MAPPINGS] = "mappings",
	[VAULT_TABLE_CERTS] = "certs",
	[VAULT_TABLE_PORTS] = "ports",
	[VAULT_TABLE_SUSPENDED] = "suspended",
	[VAULT_TABLE_TICKETS] = "tickets",
	[VAULT_TABLE_AUDIT] = "audit",
};

void
vault_size_str(size_t n, char out[VAULT_SIZE_STR])
{
	if (n >= (size_t)1 << 30)
		snprintf(out, VAULT_SIZE_STR, "%.1f GiB", (double)n / (1 << 30));
	else if (n >= (size_t)1 << 20)
		snprintf(out, VAULT_SIZE_STR, "%.1f MiB", (double)n / (1 << 20));
	else
		snprintf(out, VAULT_SIZE_STR, "%zu KiB", n >> 10);
}

/* Failures of vault_create()/vault_open(), whose handle is gone. */
static _Thread_local char open_msg[SV_MSG_MAX];

const char *
vault_table_name(enum vault_table t)
{
	if ((unsigned)t >= VAULT_TABLE__COUNT)
		return "?";
	return table_names[t];
}

const char *
vault_open_errmsg(void)
{
	return open_msg;
}


/* A record key as it may appear in a message: printable and short. */
static void
key_print(const void *key, size_t klen, char out[KEY_PRINT_MAX + 4])
{
	const uint8_t *p = key;
	size_t i, n = klen > KEY_PRINT_MAX ? KEY_PRINT_MAX : klen;

	for (i = 0; i < n; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	if (klen > n) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static int
is_reserved(enum vault_table tab, const void *key, size_t klen)
{
	return tab == VAULT_TABLE_META && klen >= strlen(META_PREFIX) &&
	    memcmp(key, META_PREFIX, strlen(META_PREFIX)) == 0;
}

static int
key_is(const void *key, size_t klen, const char *name)
{
	return klen == strlen(name) && memcmp(key, name, klen) == 0;
}

/* The meta records that are not sealed, and so are not re-sealed by rotation. */
static int
is_raw_meta(const void *key, size_t klen)
{
	return key_is(key, klen, META_FORMAT) || key_is(key, klen, META_ID) ||
	    key_is(key, klen, META_SLOTS) || key_is(key, klen, META_MASTER);
}

/*
 * Open (with create: make, 0700) the vault directory, refusing a symbolic
 * link and a directory that anyone but the caller and root could change or
 * move (paths.h); the descriptor pins the directory for the handle's file
 * operations, LMDB's included (store_open_dir).  A new directory is made
 * only where that rule holds, and is made relative to its checked parent.
 */
static int
dir_open(const char *dir, int create, char *msg, int *ret_fd)
{
	char base[NAME_MAX + 1];
	struct stat sb;
	int pfd = -1, fd = -1, r;

	if (create) {
		if ((r = vault_path_parent_open(dir, base, sizeof(base), msg, &pfd)) != 0 ||
		    (r = vault_path_check_above(pfd, dir, msg)) != 0)
			goto out;
		if (mkdirat(pfd, base, 0700) != 0 && errno != EEXIST) {
			r = vault_path_fail(msg, errno, dir);
			goto out;
		}
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	} else {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		/* Linux says ENOTDIR, not ELOOP, for a link with O_DIRECTORY */
		if (errno == ELOOP || (errno == ENOTDIR && lstat(dir, &sb) == 0 &&
		    S_ISLNK(sb.st_mode)))
			r = sv_fail(msg, SV_ERR_INVALID,
			    "%s is a symbolic link; give the real directory", dir);
		else if (errno == ENOENT && !create)
			r = sv_fail(msg, SV_ERR_NO_VAULT, "no vault in %s", dir);
		else if (errno == ENOTDIR)
			r = sv_fail(msg, SV_ERR_INVALID, "%s is not a directory", dir);
		else
			r = vault_path_fail(msg, errno, dir);
		goto out;
	}
	if (fstat(fd, &sb) != 0) {
		r = vault_path_fail(msg, errno, dir);
		goto out;
	}
	/* only a directory of our own is made private; any other is refused below */
	if (create && (sb.st_uid == geteuid() || sb.st_uid == 0) &&
	    (sb.st_mode & 077) != 0 && fchmod(fd, 0700) != 0) {
		r = vault_path_fail(msg, errno, dir);
		goto out;
	}
	if ((r = vault_path_check_dir(fd, "vault directory", dir, msg)) != 0)
		goto out;
	*ret_fd = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	return r;
}




/*
 * Sizes (docs/keys.md, "How big a vault grows").  SSOVAULT_MAX_SIZE is the
 * ceiling the map grows to (default 4 GiB); SSOVAULT_MAP_SIZE the map to
 * begin with (default 256 MiB, at most the ceiling).  Given alone,
 * SSOVAULT_MAP_SIZE is the ceiling too: the map stays at that size, as it
 * did before the map could grow.  Both take bytes with an optional K, M or
 * G suffix, from 64K to 1T.  Tests use tiny ones to make the vault fill up.
 * An existing data file larger than the map still opens (LMDB grows the map
 * to fit it).
 */
#define MAP_SIZE_MIN ((size_t)64 << 10)
#define MAP_SIZE_MAX ((size_t)1 << 40)

/* 0 if name is unset or empty. */
static int
size_from_env(const char *name, size_t *ret)
{
	const char *e = getenv(name);
	unsigned long long n;

	if (e == NULL || *e == '\0') {
		*ret = 0;
		return 0;
	}
	if (units_parse_size(e, MAP_SIZE_MAX, &n) != 0 || n < MAP_SIZE_MIN)
		return sv_fail(open_msg, SV_ERR_INVALID,
		    "%s: expected a size from 64K to 1024G, got '%.40s'", name, e);
	*ret = (size_t)n;
	return 0;
}

/* The map to begin with and the ceiling, from the arguments or the environment. */
static int
sizes_choose(size_t map_size, size_t max_size, size_t *ret_map, size_t *ret_max,
    int *ret_fixed)
{
	char a[VAULT_SIZE_STR], b[VAULT_SIZE_STR];
	size_t env_map, env_max;
	int r;

	if ((r = size_from_env("SSOVAULT_MAP_SIZE", &env_map)) != 0 ||
	    (r = size_from_env("SSOVAULT_MAX_SIZE", &env_max)) != 0)
		return r;
	if (map_size == 0)
		map_size = env_map;
	if (max_size == 0)
		max_size = env_max;
	*ret_fixed = max_size == 0 && map_size != 0;
	if (max_size == 0)
		max_size = map_size != 0 ? map_size : DEFAULT_MAX_SIZE;
	if (map_size == 0)
		map_size = max_size < DEFAULT_MAP_SIZE ? max_size : DEFAULT_MAP_SIZE;
	if (map_size > max_size) {
		vault_size_str(map_size, a);
		vault_size_str(max_size, b);
		return sv_fail(open_msg, SV_ERR_INVALID, "SSOVAULT_MAP_SIZE (%s) is larger "
		    "than SSOVAULT_MAX_SIZE (%s): the map cannot begin above its ceiling", a, b);
	}
	*ret_map = map_size;
	*ret_max = max_size;
	return 0;
}

/*
 * The last bytes below the ceiling, kept for the way out: a sixteenth of
 * it, at least 1 MiB (a quarter of a tiny vault), at most 64 MiB.
 */
static size_t
reserve_of(size_t max_size)
{
	size_t r = max_size / 16, floor = max_size / 4;

	if (floor > RESERVE_MIN)
		floor = RESERVE_MIN;
	if (r > RESERVE_MAX)
		r = RESERVE_MAX;
	return r > floor ? r : floor;
}

static int
vault_alloc(const char *dir, size_t map_size, size_t max_size, struct vault **ret)
{
	struct vault *v;
	int r, fixed;

	if (dir == NULL || *dir == '\0')
		return sv_fail(open_msg, SV_ERR_INVALID, "no vault directory given");
	if ((r = sizes_choose(map_size, max_size, &map_size, &max_size, &fixed)) != 0)
		return r;
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->dir = strdup(dir)) == NULL) {
		free(v);
		return sv_fail(open_msg, SV_ERR_NOMEM, "out of memory");
	}
	v->dirfd = -1;
	v->sops = vault_store_ops_for(dir);
	v->map_size = map_size;
	v->max_size = max_size;
	v->fixed_map = fixed;
	*ret = v;
	return 0;
}



/* Where the store is, and how it opens. */
static void
store_where(const struct vault *v, struct vault_store_loc *loc, struct vault_store_conf *conf)
{
	loc->dirfd = v->dirfd;
	loc->path = v->dir;
	conf->map_size = v->map_size;
	conf->max_size = v->fixed_map ? 0 : v->max_size;
	conf->max_room = reserve_of(v->max_size);
	conf->tables = table_names;
	conf->ntables = VAULT_TABLE__COUNT;
}

static int
store_open_dir(struct vault *v, int create)
{
	struct vault_store_size z;
	struct vault_store_loc loc;
	struct vault_store_conf conf;
	int r;

	store_where(v, &loc, &conf);
	if ((r = (create ? vault_store_create : vault_store_open)(v->sops, &loc, &conf,
	    v->msg, &v->store)) != 0)
		return r;
	/* the store may have raised the ceiling for data already above it */
	if ((r = vault_store_info(v->store, &z)) != 0) {
		vault_store_close(v->store);
		v->store = NULL;
		return r;
	}
	v->max_size = z.max_size;
	return 0;
}

static void
keys_install(struct vault *v, struct vault_keys *k)
{
	if (k != NULL)
		vault_keys_freeze(k);
	vault_keys_free(v->keys);
	v->keys = k;
}

static int
raw_meta_get(struct vault *v, struct vault_store_txn *st, const char *name,
    const uint8_t **ret_p, size_t *ret_len)
{
	int r;

	r = vault_store_get(st, VAULT_TABLE_META, name, strlen(name), ret_p, ret_len);
	if (r == SV_ERR_NOT_FOUND)
		return sv_fail(v->msg, SV_ERR_BAD_FORMAT,
		    "%s is not a vault: it has no %s record", v->dir, name);
	return r;
}

static int
put_meta(struct vault_store_txn *st, const char *name, const struct svbuf *b)
{
	return vault_store_put(st, VAULT_TABLE_META, name, strlen(name),
	    svbuf_ptr(b), svbuf_len(b), 0);
}

/* Check vault.format and read vault.id of the store st belongs to. */
static int
read_identity(struct vault *v, struct vault_store_txn *st,
    uint8_t id[VAULT_ID_BYTES])
{
	struct svbuf *b = NULL;
	const uint8_t *p;
	size_t len;
	uint32_t format;
	int r;

	if ((r = raw_meta_get(v, st, META_FORMAT, &p, &len)) != 0)
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
	if ((r = raw_meta_get(v, st, META_ID, &p, &len)) != 0)
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

static int
read_slots(struct vault *v, struct vault_store_txn *st,
    struct vault_slot **ret, size_t *ret_n)
{
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = raw_meta_get(v, st, META_SLOTS, &p, &len)) != 0)
		return r;
	return vault_keys_slots_decode(p, len, ret, ret_n, v->msg);
}

/* Open a sealed value of tab/key under the records key of k. */
static int
record_open(struct vault *v, const struct vault_keys *k, enum vault_table tab,
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
	key_print(key, klen, kp);
	if (r == SV_ERR_INTEGRITY)
		return sv_fail(v->msg, r,
		    "record %s/%s failed its integrity check (%s)",
		    vault_table_name(tab), kp, why);
	return sv_fail(v->msg, r, "record %s/%s: %s", vault_table_name(tab),
	    kp, sv_strerror(r));
}

static int
record_get(struct vault *v, struct vault_store_txn *st,
    const struct vault_keys *k, enum vault_table tab, const void *key,
    size_t klen, struct svbuf **ret_plain)
{
	char kp[KEY_PRINT_MAX + 4];
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = vault_store_get(st, tab, key, klen, &p, &len)) != 0) {
		if (r == SV_ERR_NOT_FOUND) {
			key_print(key, klen, kp);
			sv_fail(v->msg, r, "record %s/%s not found",
			    vault_table_name(tab), kp);
		}
		return r;
	}
	/* p points into the map: it is opened here, inside the transaction */
	return record_open(v, k, tab, key, klen, p, len, ret_plain);
}

static int
record_put(struct vault *v, struct vault_store_txn *st,
    const struct vault_keys *k, enum vault_table tab, const void *key,
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
		key_print(key, klen, kp);
		sv_fail(v->msg, r, "record %s/%s already exists",
		    vault_table_name(tab), kp);
	}
out:
	svbuf_free(b);
	return r;
}

static int
load_audit_key(struct vault *v, struct vault_store_txn *st,
    struct vault_keys *k)
{
	struct svbuf *plain = NULL;
	int r;

	if ((r = record_get(v, st, k, VAULT_TABLE_META, META_AUDITKEY,
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
static int
check_master(struct vault *v, struct vault_store_txn *st,
    const struct vault_keys *k)
{
	struct svbuf *plain = NULL;
	size_t tl = strlen(CHECK_TEXT);
	int r;

	if ((r = record_get(v, st, k, VAULT_TABLE_META, META_CHECK,
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
static int
keys_complete(struct vault *v, struct vault_store_txn *st, struct vault_keys *k)
{
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = raw_meta_get(v, st, META_MASTER, &p, &len)) != 0 ||
	    (r = vault_keys_master_unwrap(k->root, v->id, p, len, k->master,
	    &k->epoch, v->msg)) != 0)
		return r;
	if ((r = vault_keys_derive(k)) != 0)
		return sv_fail(v->msg, r, "cannot derive the purpose keys");
	return load_audit_key(v, st, k);
}

static void
limits_default(unsigned long long *ops, size_t *mem)
{
	*ops = crypto_pwhash_OPSLIMIT_MODERATE;
	*mem = crypto_pwhash_MEMLIMIT_MODERATE;
}

/* Make the slots of a passphrase and/or key wrapping k->root. */
static int
slots_make(struct vault *v, const struct vault_keys *k, const char *pass,
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

static int
check_limits(struct vault *v, unsigned long long *ops, size_t *mem)
{
	unsigned long long dops;
	size_t dmem;

	limits_default(&dops, &dmem);
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

static int
create_records(struct vault *v, const struct vault_keys *k,
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
	    (r = put_meta(st, META_FORMAT, b)) != 0 ||
	    (r = vault_store_put(st, VAULT_TABLE_META, META_ID,
	    strlen(META_ID), v->id, VAULT_ID_BYTES, 0)) != 0 ||
	    (r = put_meta(st, META_SLOTS, slots)) != 0)
		goto out;
	svbuf_reset(b);
	if ((r = vault_keys_master_wrap(k->root, v->id, k->epoch, k->master,
	    NULL, b)) != 0 ||
	    (r = put_meta(st, META_MASTER, b)) != 0 ||
	    (r = svbuf_put(check, CHECK_TEXT, strlen(CHECK_TEXT))) != 0 ||
	    (r = svbuf_put(check, v->id, VAULT_ID_BYTES)) != 0 ||
	    (r = record_put(v, st, k, VAULT_TABLE_META, META_CHECK,
	    strlen(META_CHECK), svbuf_ptr(check), svbuf_len(check), 0)) != 0 ||
	    (r = record_put(v, st, k, VAULT_TABLE_META, META_AUDITKEY,
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

int
vault_create(const char *dir, const struct vault_create_opts *o,
    struct vault **ret)
{
	struct vault *v = NULL;
	struct vault_keys *k = NULL;
	struct svbuf *slots = NULL;
	struct vault_store_loc loc;
	struct vault_store_conf conf;
	unsigned long long ops;
	size_t mem;
	int r, made = 0;

	open_msg[0] = '\0';
	if (sodium_init() < 0)
		return sv_fail(open_msg, SV_ERR_CRYPTO, "libsodium failed to start");
	if (o == NULL || (o->passphrase == NULL && o->key == NULL))
		return sv_fail(open_msg, SV_ERR_INVALID,
		    "a passphrase or a key is needed to create a vault");
	if (o->passphrase != NULL && o->passphrase_len == 0)
		return sv_fail(open_msg, SV_ERR_INVALID, "empty passphrase");
	if ((r = vault_alloc(dir, o->map_size, o->max_size, &v)) != 0)
		return r;
	ops = o->opslimit;
	mem = o->memlimit;
	if ((r = check_limits(v, &ops, &mem)) != 0 ||
	    (r = dir_open(dir, 1, v->msg, &v->dirfd)) != 0)
		goto out;
	/* refuse an existing vault before spending a second on Argon2id */
	store_where(v, &loc, &conf);
	r = vault_store_probe(v->sops, &loc, v->msg);
	if (r != SV_ERR_NO_VAULT) {
		if (r == 0)
			r = sv_fail(v->msg, SV_ERR_EXISTS, "%s already holds a vault", dir);
		goto out;
	}
	if ((k = vault_keys_new()) == NULL || (slots = svbuf_new(0)) == NULL) {
		r = sv_fail(v->msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	randombytes_buf(v->id, sizeof(v->id));
	randombytes_buf(k->root, sizeof(k->root));
	randombytes_buf(k->master, sizeof(k->master));
	randombytes_buf(k->audit, sizeof(k->audit));
	k->epoch = 1;
	if ((r = vault_keys_derive(k)) != 0 ||
	    (r = slots_make(v, k, o->passphrase, o->passphrase_len, o->key,
	    ops, mem, slots)) != 0)
		goto out;
	if ((r = store_open_dir(v, 1)) != 0)
		goto out;
	made = 1;
	if ((r = create_records(v, k, slots)) != 0)
		goto out;
	keys_install(v, k);
	k = NULL;
	*ret = v;
	v = NULL;
	r = 0;
out:
	if (v != NULL) {
		memcpy(open_msg, v->msg, sizeof(open_msg));
		if (made) {
			vault_store_close(v->store);
			v->store = NULL;
			vault_store_remove(v->sops, &loc);
		}
	}
	vault_keys_free(k);
	svbuf_free(slots);
	vault_free(v);
	return r;
}

int
vault_open(const char *dir, size_t map_size, struct vault **ret)
{
	struct vault *v = NULL;
	struct vault_store_txn *st = NULL;
	int r;

	open_msg[0] = '\0';
	if (sodium_init() < 0)
		return sv_fail(open_msg, SV_ERR_CRYPTO, "libsodium failed to start");
	if ((r = vault_alloc(dir, map_size, 0, &v)) != 0)
		return r;
	if ((r = dir_open(dir, 0, v->msg, &v->dirfd)) != 0 ||
	    (r = store_open_dir(v, 0)) != 0)
		goto out;
	if ((r = vault_store_txn_begin(v->store, NULL, 0, &st)) != 0 ||
	    (r = read_identity(v, st, v->id)) != 0)
		goto out;
	*ret = v;
	v = NULL;
	r = 0;
out:
	vault_store_txn_abort(st);
	if (v != NULL)
		memcpy(open_msg, v->msg, sizeof(open_msg));
	vault_free(v);
	return r;
}

int
vault_exists(const char *dir)
{
	struct vault_store_loc loc;
	char msg[SV_MSG_MAX];
	int fd, r;

	if (dir == NULL)
		return 0;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	loc.dirfd = fd;
	loc.path = dir;
	r = vault_store_probe(vault_store_ops_for(dir), &loc, msg);
	close(fd);
	return r == 0;
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
	    (r = read_slots(v, st, &u->slots, &u->n)) != 0) {
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
	    (r = read_slots(v, st, &slots, &n)) != 0) {
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
	if ((r = keys_complete(v, st, u->k)) != 0) {
		sv_fail(msg, r, "%s", v->msg);
		goto out;
	}
	keys_install(v, u->k);
	u->k = NULL;
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

void
vault_lock(struct vault *v)
{
	if (v != NULL)
		keys_install(v, NULL);
}

int
vault_is_unlocked(const struct vault *v)
{
	return v != NULL && v->keys != NULL;
}

void
vault_free(struct vault *v)
{
	if (v == NULL)
		return;
	vault_keys_free(v->keys);
	vault_store_close(v->store);
	if (v->dirfd >= 0)
		close(v->dirfd);
	free(v->dir);
	free(v);
}

const char *
vault_errmsg(const struct vault *v)
{
	return v->msg;
}

const char *
vault_dir(const struct vault *v)
{
	return v->dir;
}

const uint8_t *
vault_id(const struct vault *v)
{
	return v->id;
}

uint32_t
vault_epoch(const struct vault *v)
{
	return v->keys != NULL ? v->keys->epoch : 0;
}

const struct vault_keys *
vault_keys_of(const struct vault *v)
{
	return v->keys;
}

int
vault_info_get(struct vault *v, struct vault_info *ret)
{
	struct vault_info info;
	struct vault_store_size z;
	struct vault_store_txn *st = NULL;
	struct vault_slot *slots = NULL;
	const uint8_t *p;
	size_t n = 0, i, len;
	int r;

	if (v->store == NULL)
		return sv_fail(v->msg, SV_ERR_STORAGE, "vault is closed: a restore failed");
	memset(&info, 0, sizeof(info));
	info.unlocked = v->keys != NULL;
	info.format = VAULT_FORMAT_VERSION;
	if ((r = vault_store_txn_begin(v->store, NULL, 0, &st)) != 0 ||
	    (r = read_slots(v, st, &slots, &n)) != 0 ||
	    (r = raw_meta_get(v, st, META_MASTER, &p, &len)) != 0)
		goto out;
	if ((r = vault_keys_peek(p, len, &info.epoch)) != 0) {
		r = sv_fail(v->msg, SV_ERR_INTEGRITY, "vault.master is malformed");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (slots[i].type == VAULT_SLOT_KEY) {
			info.key_slots++;
		} else if (info.passphrase_slots++ == 0) {
			info.opslimit = slots[i].opslimit;
			info.memlimit = (size_t)slots[i].memlimit;
		}
	}
	for (i = 0; i < VAULT_TABLE__COUNT; i++)
		if ((r = vault_store_entries(st, (unsigned)i, &info.entries[i])) != 0)
			goto out;
	if ((r = vault_store_txn_used(st, &info.used_bytes)) != 0 ||
	    (r = vault_store_info(v->store, &z)) != 0)
		goto out;
	info.map_size = z.map_size;
	info.max_size = z.max_size;
	info.file_bytes = z.file_bytes;
	info.reserve_bytes = reserve_of(z.max_size);
	*ret = info;
	r = 0;
out:
	vault_store_txn_abort(st);
	free(slots);
	return r;
}

size_t
vault_max_size(const struct vault *v)
{
	return v->max_size;
}

int
vault_txn_room(struct vault_txn *t, enum vault_room room, size_t *ret_used,
    char *msg)
{
	char a[VAULT_SIZE_STR], b[VAULT_SIZE_STR], c[VAULT_SIZE_STR];
	size_t used, max = t->v->max_size, keep = reserve_of(max);
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
	*ret = t;
	return 0;
}

int
vault_txn_commit(struct vault_txn *t)
{
	int r;

	if (t == NULL)
		return SV_ERR_INVALID;
	r = vault_store_txn_commit(t->st);
	free(t);
	return r;
}

int
vault_txn_commit_nosync(struct vault_txn *t)
{
	int r;

	if (t == NULL)
		return SV_ERR_INVALID;
	r = vault_store_txn_commit_flags(t->st, 1);
	free(t);
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
	free(t);
}

struct vault *
vault_txn_vault(struct vault_txn *t)
{
	return t->v;
}

static int
check_key(struct vault *v, enum vault_table tab, const void *key, size_t klen)
{
	if ((unsigned)tab >= VAULT_TABLE__COUNT)
		return sv_fail(v->msg, SV_ERR_INVALID, "no table %d", (int)tab);
	if (key == NULL || klen == 0 || klen > VAULT_STORE_MAX_KEY)
		return sv_fail(v->msg, SV_ERR_INVALID,
		    "record keys are 1 to %d bytes", VAULT_STORE_MAX_KEY);
	if (is_reserved(tab, key, klen))
		return sv_fail(v->msg, SV_ERR_INVALID,
		    "meta keys beginning \"%s\" belong to the vault itself",
		    META_PREFIX);
	return 0;
}

/* Arguments of a sealed-record call: an unlocked vault, a sealed table. */
static int
check_record(struct vault_txn *t, enum vault_table tab, const void *key,
    size_t klen)
{
	int r;

	if (t == NULL)
		return SV_ERR_INVALID;
	if ((r = check_key(t->v, tab, key, klen)) != 0)
		return r;
	if (tab == VAULT_TABLE_AUDIT)
		return sv_fail(t->v->msg, SV_ERR_INVALID,
		    "the audit table holds raw values, not sealed records");
	if (t->v->keys == NULL)
		return sv_fail(t->v->msg, SV_ERR_LOCKED, "vault is locked");
	return 0;
}

int
vault_record_get(struct vault_txn *t, enum vault_table tab,
    const void *key, size_t klen, struct svbuf **ret_plain)
{
	int r;

	if ((r = check_record(t, tab, key, klen)) != 0)
		return r;
	return record_get(t->v, t->st, t->v->keys, tab, key, klen, ret_plain);
}

int
vault_record_put(struct vault_txn *t, enum vault_table tab,
    const void *key, size_t klen, const void *plain, size_t plen,
    unsigned flags)
{
	int r;

	if ((r = check_record(t, tab, key, klen)) != 0)
		return r;
	if (plain == NULL && plen > 0)
		return sv_fail(t->v->msg, SV_ERR_INVALID, "no value given");
	return record_put(t->v, t->st, t->v->keys, tab, key, klen, plain, plen,
	    flags);
}

static int
del_msg(struct vault *v, int r, enum vault_table tab, const void *key,
    size_t klen)
{
	char kp[KEY_PRINT_MAX + 4];

	if (r == SV_ERR_NOT_FOUND) {
		key_print(key, klen, kp);
		sv_fail(v->msg, r, "record %s/%s not found", vault_table_name(tab), kp);
	}
	return r;
}

int
vault_record_del(struct vault_txn *t, enum vault_table tab,
    const void *key, size_t klen)
{
	int r;

	if ((r = check_record(t, tab, key, klen)) != 0)
		return r;
	r = vault_store_del(t->st, tab, key, klen);
	return del_msg(t->v, r, tab, key, klen);
}

int
vault_raw_get(struct vault_txn *t, enum vault_table tab,
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
		key_print(key, klen, kp);
		sv_fail(t->v->msg, r, "record %s/%s not found",
		    vault_table_name(tab), kp);
	}
	return r;
}

int
vault_raw_put(struct vault_txn *t, enum vault_table tab,
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
	    (flags & VAULT_PUT_NOOVERWRITE) ? VAULT_STORE_NOOVERWRITE : 0);
	if (r == SV_ERR_EXISTS) {
		key_print(key, klen, kp);
		sv_fail(t->v->msg, r, "record %s/%s already exists",
		    vault_table_name(tab), kp);
	}
	return r;
}

int
vault_raw_del(struct vault_txn *t, enum vault_table tab,
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
vault_cursor_open(struct vault_txn *t, enum vault_table tab,
    struct vault_cursor **ret)
{
	struct vault_cursor *c;
	int r;

	if (t == NULL)
		return SV_ERR_INVALID;
	if ((unsigned)tab >= VAULT_TABLE__COUNT)
		return sv_fail(t->v->msg, SV_ERR_INVALID, "no table %d", (int)tab);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return sv_fail(t->v->msg, SV_ERR_NOMEM, "out of memory");
	if ((r = vault_store_cursor_open(t->st, tab, &c->sc)) != 0) {
		free(c);
		return r;
	}
	c->v = t->v;
	c->tab = tab;
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
	if (is_reserved(c->tab, k, klen))
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
	if (c->tab == VAULT_TABLE_AUDIT)
		return sv_fail(c->v->msg, SV_ERR_INVALID,
		    "the audit table holds raw values, not sealed records");
	if (c->v->keys == NULL)
		return sv_fail(c->v->msg, SV_ERR_LOCKED, "vault is locked");
	return record_open(c->v, c->v->keys, c->tab, key, klen, val, vlen,
	    ret_plain);
}

/* The key, domain and epoch of a purpose. */
static int
purpose(struct vault *v, enum vault_key k, const uint8_t **ret_key,
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
vault_mac(struct vault *v, enum vault_key k, const void *data, size_t len,
    uint8_t out[VAULT_MAC_BYTES])
{
	const uint8_t *key = NULL;
	const char *domain = NULL;
	uint32_t epoch = 0;
	int r;

	if ((r = purpose(v, k, &key, &domain, &epoch)) != 0)
		return r;
	crypto_auth_hmacsha256(out, data, len, key);
	return 0;
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

	if ((r = purpose(v, k, &key, &domain, &epoch)) != 0)
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

	if ((r = purpose(v, k, &key, &domain, &epoch)) != 0)
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

/* The limits of the first passphrase slot, else the moderate defaults. */
static int
slot_limits(struct vault *v, struct vault_store_txn *st,
    unsigned long long *ret_ops, size_t *ret_mem)
{
	struct vault_slot *slots = NULL;
	size_t n = 0, i;
	int r;

	limits_default(ret_ops, ret_mem);
	if ((r = read_slots(v, st, &slots, &n)) != 0)
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

	if ((r = check_master(v, st, k)) == SV_ERR_INTEGRITY ||
	    r == SV_ERR_NOT_FOUND)
		return sv_fail(v->msg, SV_ERR_CONFLICT,
		    "backup does not match this vault's data: it was made "
		    "before the last rotation");
	if (r != 0)
		return r;
	return load_audit_key(v, st, k);
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
	    (r = read_slots(v, st, &slots, &n)) != 0)
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
	if ((r = slots_make(j->v, k, j->newpass, j->newlen, j->key, j->ops, j->mem,
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
	    (r = put_meta(st, META_SLOTS, j->slots)) != 0 ||
	    (r = put_meta(st, META_MASTER, j->master)) != 0) {
		sv_fail(msg, r, "%s", v->msg);
		goto out;
	}
	r = vault_store_txn_commit(st);
	st = NULL;
	if (r != 0) {
		sv_fail(msg, r, "%s", v->msg);
		goto out;
	}
	keys_install(v, j->k);
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
	for (tab = 0; tab < VAULT_TABLE__COUNT; tab++) {
		if (tab == VAULT_TABLE_AUDIT)
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
			if (tab == VAULT_TABLE_META && is_raw_meta(key, klen))
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
			    (r = record_open(v, v->keys, tab, key, klen, val,
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
	    (r = raw_meta_get(v, st, META_MASTER, &p, &len)) != 0)
		goto out;
	if (vault_keys_peek(p, len, &stored) != 0 || stored != v->keys->epoch) {
		r = sv_fail(v->msg, SV_ERR_CONFLICT,
		    "the vault was rotated by another process: unlock it again");
		goto out;
	}
	for (i = 0; i < VAULT_TABLE__COUNT; i++) {
		if (i == VAULT_TABLE_AUDIT)
			continue;
		if ((r = vault_store_entries(st, (unsigned)i, &n)) != 0)
			goto out;
		total += n;
	}
	total = total >= 4 ? total - 4 : 0;	/* the raw meta records */
	if (progress != NULL)
		progress(ctx, 0, total);
	if ((r = rotate_records(v, st, nk, total, &done, progress, ctx)) != 0 ||
	    (r = put_meta(st, META_MASTER, master)) != 0)
		goto out;
	r = vault_store_txn_commit(st);
	st = NULL;
	if (r != 0)
		goto out;
	if (progress != NULL && done % ROTATE_PROGRESS_EVERY != 0)
		progress(ctx, done, total);
	keys_install(v, nk);
	nk = NULL;
out:
	vault_store_txn_abort(st);
	vault_keys_free(nk);
	svbuf_free(master);
	return r;
}

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
	if ((r = read_identity(v, st, id)) != 0) {
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
	    keys_complete(v, st, k) != 0)
		goto out;
	keys_install(v, k);
	k = NULL;
out:
	vault_store_txn_abort(st);
	if (k != NULL) {
		vault_keys_free(k);
		keys_install(v, NULL);
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
	store_where(v, &loc, &conf);
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
	if (store_open_dir(v, 0) != 0) {
		keys_install(v, NULL);
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
