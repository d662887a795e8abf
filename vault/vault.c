/*
 * vault.c: the vault's handle (vault.h): a directory holding one store
 * (store/store.h) whose values are sealed records under keys kept in
 * secure memory (keys.h).  This file makes and opens the handle: the
 * checked directory, the sizes, the store behind the location, create,
 * open, lock and free, and what status shows.  The rest of the vault is
 * keyring.c, records.c, secret.c and restore.c (internal.h).  No file of
 * the vault knows the store's backend; every format it writes is defined
 * in keys.c and docs/keys.md.
 *
 * The keys of an unlocked handle are frozen (read-only) while in use, so
 * transactions in several threads may read them at once; lock, rotation and
 * the restores replace them and must not run beside other transactions on
 * the same handle.
 */
#include "internal.h"


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
vault_table_name(const struct vault *v, unsigned t)
{
	if (t >= v->schema.n)
		return "?";
	return v->schema.tables[t];
}

int
vault_table_raw(const struct vault *v, unsigned tab)
{
	return tab < v->schema.n && (v->schema.raw & (1u << tab)) != 0;
}

const char *
vault_open_errmsg(void)
{
	return open_msg;
}


/* A record key as it may appear in a message: printable and short. */
void
vault_key_print(const void *key, size_t klen, char out[KEY_PRINT_MAX + 4])
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

int
vault_key_reserved(unsigned tab, const void *key, size_t klen)
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
int
vault_meta_is_raw(const void *key, size_t klen)
{
	return key_is(key, klen, META_FORMAT) || key_is(key, klen, META_ID) ||
	    key_is(key, klen, META_SLOTS) || key_is(key, klen, META_MASTER);
}

/*
 * Open (with create: make, 0700) the vault directory, refusing a symbolic
 * link and a directory that anyone but the caller and root could change or
 * move (paths.h); the descriptor pins the directory for the handle's file
 * operations, the store's included (vault_data_open).  A new directory is made
 * only where that rule holds, and is made relative to its checked parent.
 */
int
vault_dir_open(const char *dir, int create, char *msg, int *ret_fd)
{
	char base[NAME_MAX + 1];
	struct stat sb;
	int pfd = -1, fd = -1, r;

	/* a database holds the vault: no directory to check or pin */
	if (vault_store_pg_location(dir)) {
		*ret_fd = -1;
		return 0;
	}
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
 * An existing store larger than the map still opens (the store grows the
 * map to fit it).
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
size_t
vault_reserve_of(size_t max_size)
{
	size_t r = max_size / 16, floor = max_size / 4;

	if (floor > RESERVE_MIN)
		floor = RESERVE_MIN;
	if (r > RESERVE_MAX)
		r = RESERVE_MAX;
	return r > floor ? r : floor;
}

static int
vault_alloc(const char *dir, size_t map_size, size_t max_size,
    const struct vault_schema *schema, struct vault **ret)
{
	struct vault *v;
	int r, fixed;

	if (dir == NULL || *dir == '\0')
		return sv_fail(open_msg, SV_ERR_INVALID, "no vault directory given");
	if (schema == NULL || schema->n < 1 || schema->n > VAULT_TABLES_MAX ||
	    (schema->raw & 1u) != 0)
		return sv_fail(open_msg, SV_ERR_INVALID, "no valid table schema given");
	if ((r = sizes_choose(map_size, max_size, &map_size, &max_size, &fixed)) != 0)
		return r;
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->dir = strdup(dir)) == NULL) {
		free(v);
		return sv_fail(open_msg, SV_ERR_NOMEM, "out of memory");
	}
	v->dirfd = -1;
	v->schema = *schema;
	v->sops = vault_store_ops_for(dir);
	v->map_size = map_size;
	v->max_size = max_size;
	v->fixed_map = fixed;
	*ret = v;
	return 0;
}



/* Where the store is, and how it opens. */
void
vault_data_where(const struct vault *v, struct vault_store_loc *loc, struct vault_store_conf *conf)
{
	loc->dirfd = v->dirfd;
	loc->path = v->dir;
	conf->map_size = v->map_size;
	conf->max_size = v->fixed_map ? 0 : v->max_size;
	conf->max_room = vault_reserve_of(v->max_size);
	conf->tables = v->schema.tables;
	conf->ntables = v->schema.n;
}

int
vault_data_open(struct vault *v, int create)
{
	struct vault_store_size z;
	struct vault_store_loc loc;
	struct vault_store_conf conf;
	int r;

	vault_data_where(v, &loc, &conf);
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
	if ((r = vault_alloc(dir, o->map_size, o->max_size, o->schema, &v)) != 0)
		return r;
	ops = o->opslimit;
	mem = o->memlimit;
	if ((r = vault_limits_check(v, &ops, &mem)) != 0 ||
	    (r = vault_dir_open(dir, 1, v->msg, &v->dirfd)) != 0)
		goto out;
	/* refuse an existing vault before spending a second on Argon2id */
	vault_data_where(v, &loc, &conf);
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
	    (r = vault_slots_make(v, k, o->passphrase, o->passphrase_len, o->key,
	    ops, mem, slots)) != 0)
		goto out;
	if ((r = vault_data_open(v, 1)) != 0)
		goto out;
	made = 1;
	if ((r = vault_records_create(v, k, slots)) != 0)
		goto out;
	vault_keys_install(v, k);
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
vault_open(const char *dir, const struct vault_schema *schema, struct vault **ret)
{
	struct vault *v = NULL;
	struct vault_store_txn *st = NULL;
	int r;

	open_msg[0] = '\0';
	if (sodium_init() < 0)
		return sv_fail(open_msg, SV_ERR_CRYPTO, "libsodium failed to start");
	if ((r = vault_alloc(dir, 0, 0, schema, &v)) != 0)
		return r;
	if ((r = vault_dir_open(dir, 0, v->msg, &v->dirfd)) != 0 ||
	    (r = vault_data_open(v, 0)) != 0)
		goto out;
	if ((r = vault_store_txn_begin(v->store, NULL, 0, &st)) != 0 ||
	    (r = vault_identity_read(v, st, v->id)) != 0)
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
	if (vault_store_pg_location(dir)) {
		loc.dirfd = -1;
		loc.path = dir;
		return vault_store_probe(vault_store_ops_for(dir), &loc, msg) == 0;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	loc.dirfd = fd;
	loc.path = dir;
	r = vault_store_probe(vault_store_ops_for(dir), &loc, msg);
	close(fd);
	return r == 0;
}

void
vault_lock(struct vault *v)
{
	if (v != NULL)
		vault_keys_install(v, NULL);
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
	    (r = vault_slots_read(v, st, &slots, &n)) != 0 ||
	    (r = vault_meta_raw_get(v, st, META_MASTER, &p, &len)) != 0)
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
	info.ntables = v->schema.n;
	for (i = 0; i < v->schema.n; i++)
		if ((r = vault_store_entries(st, (unsigned)i, &info.entries[i])) != 0)
			goto out;
	if ((r = vault_store_txn_used(st, &info.used_bytes)) != 0 ||
	    (r = vault_store_info(v->store, &z)) != 0)
		goto out;
	info.map_size = z.map_size;
	info.max_size = z.max_size;
	info.file_bytes = z.file_bytes;
	info.reserve_bytes = vault_reserve_of(z.max_size);
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

