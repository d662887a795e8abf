/*
 * Unit tests of the vault core: known-answer vectors for every stored format
 * (sealed record, unlock slot, wrapped master, secret backup), then the
 * vault itself on real directories under /tmp: create, unlock, records,
 * tampering and swapping, cursors, nested transactions, rotation, secret
 * backup and restore, vault backup and restore, file modes, whom
 * directories and secret files may belong to (paths.h), and a scan of the
 * data file for secrets.  Each failing call is followed by a look at the
 * state it must have left.  Argon2id runs with the INTERACTIVE limits except
 * in the one timing of the MODERATE defaults, printed as a TAP comment.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "base/paths.h"
#include "vault/vault.h"
#include "tap.h"

/*
 * The tables these tests give the vault: the same shape as the SSO
 * service's (the vault itself names none but its own).
 */
enum test_table {
	VAULT_TABLE_APPS = 1,
	VAULT_TABLE_MAPPINGS = 2,
	VAULT_TABLE_CERTS = 3,
	VAULT_TABLE_PORTS = 4,
	VAULT_TABLE_SUSPENDED = 5,
	VAULT_TABLE_TICKETS = 6,
	VAULT_TABLE_AUDIT = 7,
	VAULT_TABLE__COUNT = 8,
};
static const char *const test_tables[VAULT_TABLE__COUNT] = {
	"meta", "apps", "mappings", "certs", "ports", "suspended", "tickets", "audit",
};
static const struct vault_schema test_schema = {
	test_tables, VAULT_TABLE__COUNT, 1u << VAULT_TABLE_AUDIT,
};

#define OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEM crypto_pwhash_MEMLIMIT_INTERACTIVE
#define PASS "correct horse battery staple"
#define SECRET_VALUE "TOP-SECRET-VALUE-5f3a9c1e7b2d"

static char tmproot[64];
static unsigned dir_seq;

static void
hex(const void *p, size_t len, char *out)
{
	sodium_bin2hex(out, len * 2 + 1, p, len);
}

static void
fill(uint8_t *p, size_t len, uint8_t start)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(start + i);
}

static int
contains(const char *s, const char *part)
{
	return s != NULL && strstr(s, part) != NULL;
}

static char *
new_dir(void)
{
	char *p = malloc(128);

	snprintf(p, 128, "%s/v%u", tmproot, dir_seq++);
	return p;
}

static struct vault_create_opts
fast_opts(const char *pass, const uint8_t *key)
{
	struct vault_create_opts o;

	memset(&o, 0, sizeof(o));
	o.schema = &test_schema;
	o.passphrase = pass;
	o.passphrase_len = pass != NULL ? strlen(pass) : 0;
	o.key = key;
	o.opslimit = OPS;
	o.memlimit = MEM;
	return o;
}

static struct vault *
make_vault(const char *dir, const char *pass, const uint8_t *key)
{
	struct vault_create_opts o = fast_opts(pass, key);
	struct vault *v = NULL;
	int r;

	if ((r = vault_create(dir, &o, &v)) != 0) {
		printf("# create %s: %s: %s\n", dir, sv_strerror(r), vault_open_errmsg());
		return NULL;
	}
	return v;
}

static int
put(struct vault *v, enum test_table tab, const char *key, const char *val)
{
	struct vault_txn *t = NULL;
	int r;

	if ((r = vault_txn_begin(v, 1, &t)) != 0)
		return r;
	if ((r = vault_record_put(t, tab, key, strlen(key), val, strlen(val), 0)) != 0) {
		vault_txn_abort(t);
		return r;
	}
	return vault_txn_commit(t);
}

/* 0 and the value in buf, or the error of the read. */
static int
get(struct vault *v, enum test_table tab, const char *key, char *buf, size_t max)
{
	struct vault_txn *t = NULL;
	struct svbuf *plain = NULL;
	int r;

	buf[0] = '\0';
	if ((r = vault_txn_begin(v, 0, &t)) != 0)
		return r;
	if ((r = vault_record_get(t, tab, key, strlen(key), &plain)) == 0) {
		if (svbuf_len(plain) >= max) {
			r = SV_ERR_TOO_LARGE;
		} else {
			memcpy(buf, svbuf_ptr(plain), svbuf_len(plain));
			buf[svbuf_len(plain)] = '\0';
		}
	}
	svbuf_free(plain);
	vault_txn_abort(t);
	return r;
}

static int
raw_copy(struct vault *v, enum test_table tab, const char *key, uint8_t *out,
    size_t *len)
{
	struct vault_txn *t = NULL;
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = vault_txn_begin(v, 0, &t)) != 0)
		return r;
	if ((r = vault_raw_get(t, tab, key, strlen(key), &p, &n)) == 0) {
		if (n > *len)
			r = SV_ERR_TOO_LARGE;
		else
			memcpy(out, p, n);
		*len = n;
	}
	vault_txn_abort(t);
	return r;
}

static int
raw_set(struct vault *v, enum test_table tab, const char *key,
    const uint8_t *p, size_t len)
{
	struct vault_txn *t = NULL;
	int r;

	if ((r = vault_txn_begin(v, 1, &t)) != 0)
		return r;
	if ((r = vault_raw_put(t, tab, key, strlen(key), p, len, 0)) != 0) {
		vault_txn_abort(t);
		return r;
	}
	return vault_txn_commit(t);
}

static uint8_t *
read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) != NULL) {
		if (fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		} else {
			*ret_len = (size_t)n;
		}
	}
	fclose(f);
	return p;
}

static mode_t
mode_of(const char *dir, const char *name)
{
	char path[256];
	struct stat sb;

	snprintf(path, sizeof(path), "%s%s%s", dir, name ? "/" : "", name ? name : "");
	if (lstat(path, &sb) != 0)
		return (mode_t)-1;
	return sb.st_mode & 07777;
}

static int
file_exists(const char *dir, const char *name)
{
	return mode_of(dir, name) != (mode_t)-1;
}

/* ---- known-answer vectors ---- */

static void
test_kat_record(void)
{
	static const char want[] =
	    "01" "00000001"
	    "404142434445464748494a4b4c4d4e4f5051525354555657"
	    "a75c6602b5945960ee98f2db20b8dfdd4da601291d0e718e645ee6f5";
	uint8_t key[32], nonce[24];
	struct svbuf *out = svbuf_new(0), *plain = NULL;
	char h[512], why[SV_MSG_MAX];
	uint8_t blob[256];
	size_t blen;
	int r;

	fill(key, sizeof(key), 0x00);
	fill(nonce, sizeof(nonce), 0x40);
	r = vault_keys_record_seal(key, 1, nonce, VAULT_TABLE_APPS, "payroll", 7,
	    "secret value", 12, out);
	is_int(r, 0, "record KAT: seal");
	is_int(svbuf_len(out), VAULT_KEYS_OVERHEAD + 12, "record KAT: length is overhead + plaintext");
	hex(svbuf_ptr(out), svbuf_len(out), h);
	if (!is_str(h, want, "record KAT: exact bytes"))
		printf("# record KAT got %s\n", h);
	blen = svbuf_len(out);
	memcpy(blob, svbuf_ptr(out), blen);

	r = vault_keys_record_open(key, 1, VAULT_TABLE_APPS, "payroll", 7, blob, blen, &plain, why);
	ok(r == 0 && svbuf_len(plain) == 12 && memcmp(svbuf_ptr(plain), "secret value", 12) == 0,
	    "record KAT: opens to the plaintext");
	svbuf_free(plain);
	plain = NULL;

	is_int(vault_keys_record_open(key, 1, VAULT_TABLE_MAPPINGS, "payroll", 7, blob, blen, &plain, why),
	    SV_ERR_INTEGRITY, "record KAT: other table fails");
	is_str(why, "altered or moved", "record KAT: other table reason");
	is_int(vault_keys_record_open(key, 1, VAULT_TABLE_APPS, "payrol", 6, blob, blen, &plain, why),
	    SV_ERR_INTEGRITY, "record KAT: other key fails");
	is_int(vault_keys_record_open(key, 2, VAULT_TABLE_APPS, "payroll", 7, blob, blen, &plain, why),
	    SV_ERR_INTEGRITY, "record KAT: other epoch fails");
	is_str(why, "sealed under key epoch 1, vault is at 2", "record KAT: epoch reason");
	is_int(vault_keys_record_open(key, 1, VAULT_TABLE_APPS, "payroll", 7, blob, VAULT_KEYS_OVERHEAD - 1, &plain, why),
	    SV_ERR_INTEGRITY, "record KAT: truncated fails");
	is_str(why, "truncated", "record KAT: truncated reason");
	blob[0] = 2;
	is_int(vault_keys_record_open(key, 1, VAULT_TABLE_APPS, "payroll", 7, blob, blen, &plain, why),
	    SV_ERR_INTEGRITY, "record KAT: version 2 fails");
	is_str(why, "unknown version 2", "record KAT: version reason");
	ok(plain == NULL, "record KAT: no plaintext handed out on failure");
	svbuf_free(out);
}

static void
test_kat_slot(void)
{
	static const char want_pass[] =
	    "01" "00000002"
	    "01" "0000000000000002" "0000000004000000"
	    "101112131415161718191a1b1c1d1e1f"
	    "303132333435363738393a3b3c3d3e3f4041424344454647"
	    "a07a63325e3cfd5f279214606c37e65808361810b704737073a6e8ddc7fb205c"
	    "bf7385153546e5f5ad9c226319651ca2"
	    "02"
	    "505152535455565758595a5b5c5d5e5f6061626364656667"
	    "ac6980839ff5593a0811af4db70337321786fb61bfb3d49c32aa374ee096604b"
	    "c532747fdb17f1b89934653ec8ca9ab7";
	struct vault_slot s[2], *dec = NULL;
	uint8_t id[16], root[32], salt[16], nonce[24], key[32], out_root[32];
	struct svbuf *out = svbuf_new(0);
	char h[1024];
	size_t n = 0;

	memset(s, 0, sizeof(s));
	fill(id, sizeof(id), 0xa0);
	fill(root, sizeof(root), 0x80);
	fill(salt, sizeof(salt), 0x10);
	fill(nonce, sizeof(nonce), 0x30);
	fill(key, sizeof(key), 0xc0);
	s[0].type = VAULT_SLOT_PASSPHRASE;
	s[0].opslimit = OPS;
	s[0].memlimit = MEM;
	is_int(vault_keys_slot_make(&s[0], id, PASS, strlen(PASS), salt, nonce, root), 0,
	    "slot KAT: passphrase slot made");
	fill(nonce, sizeof(nonce), 0x50);
	s[1].type = VAULT_SLOT_KEY;
	is_int(vault_keys_slot_make(&s[1], id, key, 32, NULL, nonce, root), 0,
	    "slot KAT: key slot made");
	is_int(vault_keys_slots_encode(s, 2, out), 0, "slot KAT: encode");
	hex(svbuf_ptr(out), svbuf_len(out), h);
	if (!is_str(h, want_pass, "slot KAT: exact bytes of vault.slots"))
		printf("# slot KAT got %s\n", h);

	is_int(vault_keys_slots_decode(svbuf_ptr(out), svbuf_len(out), &dec, &n, NULL), 0,
	    "slot KAT: decode");
	ok(n == 2 && dec[0].type == VAULT_SLOT_PASSPHRASE && dec[0].opslimit == OPS &&
	    dec[0].memlimit == MEM && dec[1].type == VAULT_SLOT_KEY, "slot KAT: decoded fields");
	memset(out_root, 0, sizeof(out_root));
	ok(n == 2 && vault_keys_slot_open(&dec[0], id, PASS, strlen(PASS), out_root) == 0 &&
	    memcmp(out_root, root, 32) == 0, "slot KAT: passphrase opens to the root key");
	memset(out_root, 0, sizeof(out_root));
	ok(n == 2 && vault_keys_slot_open(&dec[1], id, key, 32, out_root) == 0 &&
	    memcmp(out_root, root, 32) == 0, "slot KAT: key opens to the root key");
	if (n == 2) {
		is_int(vault_keys_slot_open(&dec[0], id, "wrong", 5, out_root), SV_ERR_WRONG_KEY,
		    "slot KAT: wrong passphrase");
		key[0] ^= 1;
		is_int(vault_keys_slot_open(&dec[1], id, key, 32, out_root), SV_ERR_WRONG_KEY,
		    "slot KAT: wrong key");
		key[0] ^= 1;
		id[0] ^= 1;
		is_int(vault_keys_slot_open(&dec[1], id, key, 32, out_root), SV_ERR_WRONG_KEY,
		    "slot KAT: slot of another vault id does not open");
		id[0] ^= 1;
	}
	free(dec);
	dec = NULL;
	is_int(vault_keys_slots_decode(svbuf_ptr(out), svbuf_len(out) - 1, &dec, &n, NULL),
	    SV_ERR_BAD_FORMAT, "slot KAT: truncated slots refused");
	{
		uint8_t more[512];

		memcpy(more, svbuf_ptr(out), svbuf_len(out));
		more[svbuf_len(out)] = 0;
		is_int(vault_keys_slots_decode(more, svbuf_len(out) + 1, &dec, &n, NULL),
		    SV_ERR_BAD_FORMAT, "slot KAT: trailing byte refused");
		more[5] = 9;
		is_int(vault_keys_slots_decode(more, svbuf_len(out), &dec, &n, NULL),
		    SV_ERR_BAD_FORMAT, "slot KAT: unknown slot type refused");
	}
	ok(dec == NULL, "slot KAT: nothing handed out on failure");
	svbuf_free(out);
}

static void
test_kat_master_backup(void)
{
	static const char want_master[] =
	    "01" "00000003"
	    "606162636465666768696a6b6c6d6e6f7071727374757677"
	    "31e1f0d75498aa1d05730940b9b3af1dfac3e02c031f3e50504bbae95f038e11"
	    "d85cedd78a932499b98ca46dc52b0994";
	static const char want_backup[] =
	    "53534f5653454331"
	    "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
	    "0000000000000002" "0000000004000000"
	    "202122232425262728292a2b2c2d2e2f"
	    "00000009" "61736b20416c696365"
	    "707172737475767778797a7b7c7d7e7f8081828384858687"
	    "24249a12470c784654dd4fa56853ba492af9199b3552a596f037f0a30dcc7a63"
	    "41095737c01fc030e5b035ca1f66e339c23e832b";
	uint8_t id[16], root[32], master[32], nonce[24], salt[16], got[32];
	struct vault_backup_info info;
	struct svbuf *out = svbuf_new(0);
	char h[1024], *hint = NULL;
	uint32_t epoch = 0;

	fill(id, sizeof(id), 0xa0);
	fill(root, sizeof(root), 0x80);
	fill(master, sizeof(master), 0xe0);
	fill(nonce, sizeof(nonce), 0x60);
	is_int(vault_keys_master_wrap(root, id, 3, master, nonce, out), 0, "master KAT: wrap");
	hex(svbuf_ptr(out), svbuf_len(out), h);
	if (!is_str(h, want_master, "master KAT: exact bytes of vault.master"))
		printf("# master KAT got %s\n", h);
	ok(vault_keys_master_unwrap(root, id, svbuf_ptr(out), svbuf_len(out), got, &epoch, NULL) == 0 &&
	    memcmp(got, master, 32) == 0 && epoch == 3, "master KAT: unwraps to secret and epoch");
	root[5] ^= 1;
	is_int(vault_keys_master_unwrap(root, id, svbuf_ptr(out), svbuf_len(out), got, &epoch, NULL),
	    SV_ERR_WRONG_KEY, "master KAT: other root key refused");
	root[5] ^= 1;

	svbuf_reset(out);
	fill(salt, sizeof(salt), 0x20);
	fill(nonce, sizeof(nonce), 0x70);
	is_int(vault_keys_backup_make(id, OPS, MEM, salt, nonce, "backup pw", 9, "ask Alice",
	    master, 7, out), 0, "backup KAT: make");
	hex(svbuf_ptr(out), svbuf_len(out), h);
	if (!is_str(h, want_backup, "backup KAT: exact bytes"))
		printf("# backup KAT got %s\n", h);
	ok(vault_keys_backup_hint(svbuf_ptr(out), svbuf_len(out), &hint, NULL) == 0 &&
	    hint != NULL && strcmp(hint, "ask Alice") == 0, "backup KAT: hint without password");
	free(hint);
	memset(got, 0, sizeof(got));
	ok(vault_keys_backup_open(svbuf_ptr(out), svbuf_len(out), "backup pw", 9, got, &info, NULL) == 0 &&
	    memcmp(got, master, 32) == 0 && info.epoch == 7 && memcmp(info.id, id, 16) == 0 &&
	    info.opslimit == OPS && info.memlimit == MEM, "backup KAT: opens to master, epoch, id, limits");
	is_int(vault_keys_backup_open(svbuf_ptr(out), svbuf_len(out), "backup px", 9, got, &info, NULL),
	    SV_ERR_WRONG_KEY, "backup KAT: wrong password");
	svbuf_free(out);
}

/* ---- the vault ---- */

static void
test_create_unlock(void)
{
	char *dir = new_dir(), *empty = new_dir();
	uint8_t key[32], other[32];
	struct vault *v = NULL, *w = NULL;
	struct vault_create_opts o;
	struct vault_info info;
	char buf[64];
	int r;

	randombytes_buf(key, sizeof(key));
	memcpy(other, key, sizeof(other));
	other[31] ^= 0x80;
	ok(!vault_exists(dir), "no vault before create");
	v = make_vault(dir, PASS, key);
	ok(v != NULL && vault_is_unlocked(v), "create: returns an unlocked handle");
	if (v == NULL)
		return;
	ok(vault_exists(dir), "vault_exists after create");
	is_int(vault_epoch(v), 1, "create: epoch 1");
	is_int(mode_of(dir, NULL), 0700, "directory is 0700");
	is_int(mode_of(dir, "data.mdb"), 0600, "data.mdb is 0600");
	is_int(mode_of(dir, "lock.mdb"), 0600, "lock.mdb is 0600");
	is_int(put(v, VAULT_TABLE_APPS, "payroll", "v1"), 0, "put a record");
	is_int(vault_info_get(v, &info), 0, "info");
	ok(info.unlocked && info.format == 1 && info.epoch == 1 && info.passphrase_slots == 1 &&
	    info.key_slots == 1 && info.opslimit == OPS && info.memlimit == MEM &&
	    info.map_size == (size_t)256 << 20 && info.max_size == (size_t)4 << 30 &&
	    info.reserve_bytes == (size_t)64 << 20 && info.used_bytes > 0 &&
	    info.used_bytes <= info.file_bytes && info.file_bytes <= info.map_size &&
	    info.entries[VAULT_TABLE_APPS] == 1 && info.entries[VAULT_TABLE_META] == 6,
	    "info: slots, limits, epoch, sizes, entries");

	o = fast_opts("another", NULL);
	is_int(vault_create(dir, &o, &w), SV_ERR_EXISTS, "create over a vault: SV_ERR_EXISTS");
	ok(contains(vault_open_errmsg(), "already holds a vault"), "create over a vault: message");
	ok(w == NULL && get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "v1") == 0, "create over a vault: the vault is untouched");
	vault_free(v);

	ok(vault_open(dir, &test_schema, &v) == 0 && v != NULL, "open");
	ok(!vault_is_unlocked(v) && vault_epoch(v) == 0, "open: locked, epoch 0");
	is_int(get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)), SV_ERR_LOCKED, "locked read: SV_ERR_LOCKED");
	is_int(put(v, VAULT_TABLE_APPS, "x", "y"), SV_ERR_LOCKED, "locked write: SV_ERR_LOCKED");

	r = vault_unlock_passphrase(v, "wrong horse", 11);
	is_int(r, SV_ERR_WRONG_KEY, "wrong passphrase: SV_ERR_WRONG_KEY");
	is_str(vault_errmsg(v), "wrong passphrase", "wrong passphrase: message");
	ok(!vault_is_unlocked(v), "wrong passphrase: still locked");
	is_int(vault_unlock_key(v, other), SV_ERR_WRONG_KEY, "wrong key file: SV_ERR_WRONG_KEY");
	is_str(vault_errmsg(v), "wrong key file", "wrong key file: message");
	ok(!vault_is_unlocked(v), "wrong key file: still locked");

	is_int(vault_unlock_passphrase(v, PASS, strlen(PASS)), 0, "unlock with passphrase");
	ok(vault_is_unlocked(v) && vault_epoch(v) == 1 &&
	    get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)) == 0 && strcmp(buf, "v1") == 0,
	    "unlocked by passphrase: record readable");
	vault_lock(v);
	ok(!vault_is_unlocked(v) && vault_keys_of(v) == NULL, "lock: keys gone");
	is_int(get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)), SV_ERR_LOCKED, "after lock: SV_ERR_LOCKED");
	is_int(vault_unlock_key(v, key), 0, "unlock with key");
	ok(get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)) == 0 && strcmp(buf, "v1") == 0,
	    "unlocked by key: record readable");
	vault_free(v);
	v = NULL;

	{
		char path[256];

		snprintf(path, sizeof(path), "%s/lock.mdb", dir);
		ok(unlink(path) == 0, "remove lock.mdb");
		ok(vault_open(dir, &test_schema, &v) == 0 && mode_of(dir, "lock.mdb") == 0600,
		    "open remakes a missing lock.mdb 0600");
		vault_free(v);
		v = NULL;
		ok(unlink(path) == 0 && symlink("/tmp/elsewhere", path) == 0, "lock.mdb replaced by a symlink");
		is_int(vault_open(dir, &test_schema, &v), SV_ERR_INVALID, "open refuses a symlinked lock.mdb");
		ok(v == NULL && contains(vault_open_errmsg(), "symbolic link"), "symlinked lock.mdb: message");
		unlink(path);
	}

	mkdir(empty, 0700);
	is_int(vault_open(empty, &test_schema, &v), SV_ERR_NO_VAULT, "open of an empty directory: SV_ERR_NO_VAULT");
	ok(v == NULL && !vault_exists(empty), "empty directory: no handle, no vault");
	{
		char path[256];
		FILE *f;

		snprintf(path, sizeof(path), "%s/data.mdb", empty);
		if ((f = fopen(path, "w")) != NULL) {
			for (r = 0; r < 2000; r++)
				fputs("not an LMDB file ", f);
			fclose(f);
		}
		is_int(vault_open(empty, &test_schema, &v), SV_ERR_BAD_FORMAT, "open of a non-LMDB data.mdb: SV_ERR_BAD_FORMAT");
		ok(v == NULL, "non-LMDB data.mdb: no handle");
	}
	free(empty);
	empty = new_dir();
	is_int(vault_open(empty, &test_schema, &v), SV_ERR_NO_VAULT, "open of a missing directory: SV_ERR_NO_VAULT");
	ok(!file_exists(empty, NULL), "open does not create the directory");
	free(empty);
	free(dir);
}

static void
test_create_refusals(void)
{
	char *dir = new_dir(), *link = new_dir(), *dir2 = new_dir();
	struct vault_create_opts o;
	struct vault *v = NULL;

	o = fast_opts(NULL, NULL);
	is_int(vault_create(dir, &o, &v), SV_ERR_INVALID, "create with no slot refused");
	ok(!file_exists(dir, NULL), "refused create left no directory");
	o = fast_opts("", NULL);
	is_int(vault_create(dir, &o, &v), SV_ERR_INVALID, "empty passphrase refused");
	o = fast_opts(PASS, NULL);
	o.memlimit = 10;
	is_int(vault_create(dir, &o, &v), SV_ERR_INVALID, "out-of-range Argon2id memlimit refused");

	mkdir(dir, 0755);
	ok(symlink(dir, link) == 0, "made a symlink to a directory");
	o = fast_opts(PASS, NULL);
	is_int(vault_create(link, &o, &v), SV_ERR_INVALID, "create through a symlink refused");
	ok(contains(vault_open_errmsg(), "symbolic link") && !file_exists(dir, "data.mdb"),
	    "symlink: message, nothing created behind it");
	v = make_vault(dir, PASS, NULL);
	ok(v != NULL && mode_of(dir, NULL) == 0700, "create in an existing 0755 directory makes it 0700");
	vault_free(v);
	v = NULL;
	is_int(vault_open(link, &test_schema, &v), SV_ERR_INVALID, "open through a symlink refused");

	v = make_vault(dir2, PASS, NULL);
	if (v != NULL) {
		uint8_t key[32] = { 1 };

		vault_lock(v);
		is_int(vault_unlock_key(v, key), SV_ERR_WRONG_KEY, "key on a passphrase-only vault: SV_ERR_WRONG_KEY");
		ok(contains(vault_errmsg(v), "no key file slot"), "key on a passphrase-only vault: message");
	}
	vault_free(v);
	free(dir);
	free(link);
	free(dir2);
}

static void
test_records(struct vault *v)
{
	struct vault_txn *t = NULL, *ro = NULL;
	struct svbuf *plain = NULL;
	const uint8_t *p;
	size_t n;
	char buf[128], longkey[501];

	is_int(put(v, VAULT_TABLE_APPS, "payroll", "first"), 0, "put");
	ok(get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)) == 0 && strcmp(buf, "first") == 0,
	    "get returns what was put");
	is_int(put(v, VAULT_TABLE_APPS, "payroll", "second"), 0, "overwrite");
	ok(get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)) == 0 && strcmp(buf, "second") == 0,
	    "get returns the new value");

	ok(vault_txn_begin(v, 1, &t) == 0, "begin write");
	is_int(vault_record_put(t, VAULT_TABLE_APPS, "payroll", 7, "third", 5, VAULT_PUT_NOOVERWRITE),
	    SV_ERR_EXISTS, "NOOVERWRITE on an existing key: SV_ERR_EXISTS");
	ok(contains(vault_errmsg(v), "apps/payroll already exists"), "NOOVERWRITE: message");
	is_int(vault_record_put(t, VAULT_TABLE_APPS, "hr", 2, "", 0, VAULT_PUT_NOOVERWRITE), 0,
	    "NOOVERWRITE on a new key, empty value");
	is_int(vault_raw_put(t, VAULT_TABLE_AUDIT, "\0\0\0\1", 4, "rec", 3, VAULT_PUT_NOOVERWRITE), 0,
	    "raw put into audit");
	is_int(vault_raw_put(t, VAULT_TABLE_AUDIT, "\0\0\0\1", 4, "rec", 3, VAULT_PUT_NOOVERWRITE),
	    SV_ERR_EXISTS, "raw NOOVERWRITE");
	is_int(vault_record_put(t, VAULT_TABLE_AUDIT, "k", 1, "v", 1, 0), SV_ERR_INVALID,
	    "sealed record into audit refused");
	is_int(vault_record_put(t, VAULT_TABLE_META, "vault.master", 12, "v", 1, 0), SV_ERR_INVALID,
	    "reserved meta key refused (record put)");
	is_int(vault_raw_put(t, VAULT_TABLE_META, "vault.slots", 11, "v", 1, 0), SV_ERR_INVALID,
	    "reserved meta key refused (raw put)");
	is_int(vault_record_get(t, VAULT_TABLE_META, "vault.auditkey", 14, &plain), SV_ERR_INVALID,
	    "the audit key cannot be read as a record");
	memset(longkey, 'k', sizeof(longkey));
	is_int(vault_record_put(t, VAULT_TABLE_APPS, longkey, 501, "v", 1, 0), SV_ERR_INVALID,
	    "501-byte key refused");
	is_int(vault_record_put(t, VAULT_TABLE_APPS, longkey, 500, "v", 1, 0), 0, "500-byte key accepted");
	is_int(vault_record_put(t, VAULT_TABLE_APPS, "", 0, "v", 1, 0), SV_ERR_INVALID, "empty key refused");
	is_int(vault_txn_commit(t), 0, "commit");
	t = NULL;

	ok(vault_txn_begin(v, 0, &ro) == 0, "begin read");
	ok(vault_record_get(ro, VAULT_TABLE_APPS, "payroll", 7, &plain) == 0 &&
	    svbuf_len(plain) == 6 && memcmp(svbuf_ptr(plain), "second", 6) == 0,
	    "NOOVERWRITE left the old value");
	svbuf_free(plain);
	plain = NULL;
	ok(vault_record_get(ro, VAULT_TABLE_APPS, "hr", 2, &plain) == 0 && svbuf_len(plain) == 0,
	    "empty value round trip");
	svbuf_free(plain);
	plain = NULL;
	ok(vault_raw_get(ro, VAULT_TABLE_AUDIT, "\0\0\0\1", 4, &p, &n) == 0 && n == 3 &&
	    memcmp(p, "rec", 3) == 0, "raw get from audit");
	is_int(vault_record_put(ro, VAULT_TABLE_APPS, "x", 1, "v", 1, 0), SV_ERR_INVALID,
	    "write in a read transaction refused");
	is_int(vault_record_get(ro, VAULT_TABLE_APPS, "nope", 4, &plain), SV_ERR_NOT_FOUND,
	    "missing record: SV_ERR_NOT_FOUND");
	ok(plain == NULL && contains(vault_errmsg(v), "apps/nope not found"), "missing record: message");
	vault_txn_abort(ro);

	ok(vault_txn_begin(v, 1, &t) == 0 && vault_record_del(t, VAULT_TABLE_APPS, "hr", 2) == 0 &&
	    vault_record_del(t, VAULT_TABLE_APPS, "hr", 2) == SV_ERR_NOT_FOUND &&
	    vault_txn_commit(t) == 0, "delete, then delete again: SV_ERR_NOT_FOUND");
	is_int(get(v, VAULT_TABLE_APPS, "hr", buf, sizeof(buf)), SV_ERR_NOT_FOUND, "deleted record gone");
	ok(get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)) == 0, "other record still there");
}

static void
test_tamper(struct vault *v)
{
	uint8_t blob[256], orig[256];
	size_t len = sizeof(blob), olen;
	char buf[64];

	is_int(put(v, VAULT_TABLE_APPS, "payroll", "pay-secret"), 0, "tamper: put payroll");
	is_int(put(v, VAULT_TABLE_APPS, "billing", "bill-secret"), 0, "tamper: put billing");
	is_int(raw_copy(v, VAULT_TABLE_APPS, "payroll", blob, &len), 0, "tamper: raw bytes of payroll");
	memcpy(orig, blob, len);
	olen = len;
	ok(len == VAULT_KEYS_OVERHEAD + 10 && blob[0] == 1, "tamper: stored layout version|epoch|nonce|ct");
	ok(memmem(blob, len, "pay-secret", 10) == NULL, "tamper: the stored bytes do not hold the value");

	blob[len - 20] ^= 0x01;
	is_int(raw_set(v, VAULT_TABLE_APPS, "payroll", blob, len), 0, "tamper: flip a ciphertext bit");
	is_int(get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)), SV_ERR_INTEGRITY,
	    "tampered value: SV_ERR_INTEGRITY");
	is_str(vault_errmsg(v), "record apps/payroll failed its integrity check (altered or moved)",
	    "tampered value: message names table and key");
	ok(buf[0] == '\0', "tampered value: nothing returned");

	memcpy(blob, orig, olen);
	blob[4] ^= 0x01;
	is_int(raw_set(v, VAULT_TABLE_APPS, "payroll", blob, olen), 0, "tamper: change the epoch");
	is_int(get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)), SV_ERR_INTEGRITY,
	    "altered epoch: SV_ERR_INTEGRITY");
	ok(contains(vault_errmsg(v), "sealed under key epoch 0, vault is at 1"), "altered epoch: message");

	is_int(raw_set(v, VAULT_TABLE_APPS, "payroll", orig, olen - 1), 0, "tamper: truncate by one byte");
	is_int(get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)), SV_ERR_INTEGRITY,
	    "truncated value: SV_ERR_INTEGRITY");
	is_int(raw_set(v, VAULT_TABLE_APPS, "payroll", orig, 20), 0, "tamper: cut into the header");
	is_int(get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)), SV_ERR_INTEGRITY,
	    "header-short value: SV_ERR_INTEGRITY");
	ok(contains(vault_errmsg(v), "(truncated)"), "header-short value: message");

	is_int(raw_set(v, VAULT_TABLE_APPS, "payroll", orig, olen), 0, "tamper: put the original back");
	ok(get(v, VAULT_TABLE_APPS, "payroll", buf, sizeof(buf)) == 0 && strcmp(buf, "pay-secret") == 0,
	    "the original bytes open again");

	is_int(raw_set(v, VAULT_TABLE_APPS, "billing", orig, olen), 0, "swap: payroll's bytes under billing");
	is_int(get(v, VAULT_TABLE_APPS, "billing", buf, sizeof(buf)), SV_ERR_INTEGRITY,
	    "value moved to another key: SV_ERR_INTEGRITY");
	is_int(raw_set(v, VAULT_TABLE_MAPPINGS, "payroll", orig, olen), 0, "swap: payroll's bytes into mappings");
	is_int(get(v, VAULT_TABLE_MAPPINGS, "payroll", buf, sizeof(buf)), SV_ERR_INTEGRITY,
	    "value moved to another table: SV_ERR_INTEGRITY");
	ok(contains(vault_errmsg(v), "mappings/payroll"), "moved value: message names the table");
	{
		struct vault_txn *t = NULL;

		ok(vault_txn_begin(v, 1, &t) == 0 &&
		    vault_raw_del(t, VAULT_TABLE_MAPPINGS, "payroll", 7) == 0 &&
		    vault_record_put(t, VAULT_TABLE_APPS, "billing", 7, "bill-secret", 11, 0) == 0 &&
		    vault_txn_commit(t) == 0, "tamper: clean up the swapped records");
	}
}

static void
test_nested(struct vault *v)
{
	struct vault_txn *t = NULL, *c = NULL, *ro = NULL;
	char buf[64];

	ok(vault_txn_begin(v, 1, &t) == 0, "nested: begin parent");
	is_int(vault_record_put(t, VAULT_TABLE_PORTS, "x", 1, "X", 1, 0), 0, "nested: parent puts x");
	ok(vault_txn_begin_nested(t, &c) == 0, "nested: begin child");
	is_int(vault_record_put(c, VAULT_TABLE_PORTS, "y", 1, "Y", 1, 0), 0, "nested: child puts y");
	is_int(vault_record_put(t, VAULT_TABLE_PORTS, "w", 1, "W", 1, 0), SV_ERR_INVALID,
	    "nested: the parent is unusable while the child is open");
	vault_txn_abort(c);
	c = NULL;
	ok(vault_txn_begin_nested(t, &c) == 0 &&
	    vault_record_put(c, VAULT_TABLE_PORTS, "z", 1, "Z", 1, 0) == 0 &&
	    vault_txn_commit(c) == 0, "nested: second child puts z and commits");
	is_int(vault_txn_commit(t), 0, "nested: parent commits");
	ok(get(v, VAULT_TABLE_PORTS, "x", buf, sizeof(buf)) == 0 && strcmp(buf, "X") == 0,
	    "nested: parent's write kept");
	is_int(get(v, VAULT_TABLE_PORTS, "y", buf, sizeof(buf)), SV_ERR_NOT_FOUND,
	    "nested: aborted child's write discarded");
	ok(get(v, VAULT_TABLE_PORTS, "z", buf, sizeof(buf)) == 0 && strcmp(buf, "Z") == 0,
	    "nested: committed child's write kept");
	is_int(get(v, VAULT_TABLE_PORTS, "w", buf, sizeof(buf)), SV_ERR_NOT_FOUND,
	    "nested: refused parent write absent");

	ok(vault_txn_begin(v, 0, &ro) == 0, "nested: begin read");
	c = NULL;
	is_int(vault_txn_begin_nested(ro, &c), SV_ERR_INVALID, "nested: a read transaction has no children");
	ok(c == NULL, "nested: no child handle on failure");
	vault_txn_abort(ro);

	/* aborting a parent ends its open child; the child's handle stays safe to abort */
	ok(vault_txn_begin(v, 1, &t) == 0 && vault_txn_begin_nested(t, &c) == 0 &&
	    vault_record_put(c, VAULT_TABLE_PORTS, "q", 1, "Q", 1, 0) == 0, "nested: child of a doomed parent");
	vault_txn_abort(t);
	is_int(vault_record_put(c, VAULT_TABLE_PORTS, "q", 1, "Q", 1, 0), SV_ERR_INVALID,
	    "nested: child of an aborted parent is dead");
	vault_txn_abort(c);
	is_int(get(v, VAULT_TABLE_PORTS, "q", buf, sizeof(buf)), SV_ERR_NOT_FOUND,
	    "nested: nothing of the aborted tree kept");
}

static void
test_cursor(struct vault *v)
{
	struct vault_txn *t = NULL;
	struct vault_cursor *c = NULL;
	struct svbuf *plain = NULL;
	const uint8_t *k, *val;
	size_t klen, vlen, count = 0;
	char key[16], want[16];
	int i, r, order_ok = 1, values_ok = 1;

	ok(vault_txn_begin(v, 1, &t) == 0, "cursor: begin");
	for (i = 9; i >= 0; i--) {
		snprintf(key, sizeof(key), "k%02d", i);
		snprintf(want, sizeof(want), "value %d", i);
		if (vault_record_put(t, VAULT_TABLE_CERTS, key, 3, want, strlen(want), 0) != 0)
			values_ok = 0;
	}
	ok(values_ok && vault_txn_commit(t) == 0, "cursor: ten records put in reverse order");

	ok(vault_txn_begin(v, 0, &t) == 0 && vault_cursor_open(t, VAULT_TABLE_CERTS, &c) == 0,
	    "cursor: open");
	for (r = vault_cursor_seek(c, NULL, 0, &k, &klen, &val, &vlen); r == 1;
	    r = vault_cursor_next(c, &k, &klen, &val, &vlen)) {
		snprintf(key, sizeof(key), "k%02d", (int)count);
		snprintf(want, sizeof(want), "value %d", (int)count);
		if (klen != 3 || memcmp(k, key, 3) != 0)
			order_ok = 0;
		if (vault_cursor_unseal(c, k, klen, val, vlen, &plain) != 0 ||
		    svbuf_len(plain) != strlen(want) || memcmp(svbuf_ptr(plain), want, strlen(want)) != 0)
			values_ok = 0;
		svbuf_free(plain);
		plain = NULL;
		count++;
	}
	is_int(r, 0, "cursor: walk ends with 0");
	is_int(count, 10, "cursor: ten entries");
	ok(order_ok, "cursor: bytewise key order");
	ok(values_ok, "cursor: every value unseals");
	ok(vault_cursor_seek(c, "k05", 3, &k, &klen, &val, &vlen) == 1 && memcmp(k, "k05", 3) == 0,
	    "cursor: seek to an existing key");
	ok(vault_cursor_seek(c, "k055", 4, &k, &klen, &val, &vlen) == 1 && memcmp(k, "k06", 3) == 0,
	    "cursor: seek between keys lands on the next");
	is_int(vault_cursor_seek(c, "z", 1, &k, &klen, &val, &vlen), 0, "cursor: seek past the end: 0");
	ok(vault_cursor_last(c, &k, &klen, &val, &vlen) == 1 && memcmp(k, "k09", 3) == 0, "cursor: last");
	ok(vault_cursor_seek(c, "k03", 3, &k, &klen, &val, &vlen) == 1, "cursor: back to k03");
	is_int(vault_cursor_unseal(c, (const uint8_t *)"k04", 3, val, vlen, &plain), SV_ERR_INTEGRITY,
	    "cursor: a value unsealed under another key fails");
	is_int(vault_cursor_del(c), SV_ERR_INVALID, "cursor: delete in a read transaction refused");
	vault_txn_abort(t);
	is_int(vault_cursor_next(c, &k, &klen, &val, &vlen), SV_ERR_INVALID,
	    "cursor: use after its transaction ended is an error, not a crash");
	vault_cursor_close(c);
	c = NULL;

	ok(vault_txn_begin(v, 1, &t) == 0 && vault_cursor_open(t, VAULT_TABLE_CERTS, &c) == 0 &&
	    vault_cursor_seek(c, "k03", 3, &k, &klen, &val, &vlen) == 1, "cursor: write cursor at k03");
	is_int(vault_cursor_del(c), 0, "cursor: delete the current entry");
	ok(vault_cursor_next(c, &k, &klen, &val, &vlen) == 1 && memcmp(k, "k04", 3) == 0,
	    "cursor: next after delete is the following entry");
	vault_cursor_close(c);
	c = NULL;
	is_int(vault_txn_commit(t), 0, "cursor: commit the delete");
	{
		char buf[32];

		is_int(get(v, VAULT_TABLE_CERTS, "k03", buf, sizeof(buf)), SV_ERR_NOT_FOUND, "cursor: k03 deleted");
		ok(get(v, VAULT_TABLE_CERTS, "k04", buf, sizeof(buf)) == 0, "cursor: k04 kept");
	}
	ok(vault_txn_begin(v, 1, &t) == 0 && vault_cursor_open(t, VAULT_TABLE_META, &c) == 0 &&
	    vault_cursor_seek(c, "vault.", 6, &k, &klen, &val, &vlen) == 1, "cursor: on a reserved meta key");
	is_int(vault_cursor_del(c), SV_ERR_INVALID, "cursor: reserved meta key not deletable");
	is_int(vault_cursor_unseal(c, k, klen, val, vlen, &plain), SV_ERR_INVALID,
	    "cursor: reserved meta key not unsealable");
	vault_txn_abort(t);
	vault_cursor_close(c);
}

static void
test_mac_blob(struct vault *v)
{
	uint8_t m1[32], m2[32], m3[32];
	struct svbuf *blob = svbuf_new(0), *plain = NULL;
	size_t len;

	ok(vault_mac(v, VAULT_KEY_AUDIT, "abc", 3, m1) == 0 && vault_mac(v, VAULT_KEY_AUDIT, "abc", 3, m2) == 0 &&
	    memcmp(m1, m2, 32) == 0, "mac: deterministic");
	ok(vault_mac(v, VAULT_KEY_TICKETS, "abc", 3, m3) == 0 && memcmp(m1, m3, 32) != 0,
	    "mac: audit and tickets keys differ");
	{
		/* the audit MAC (OpenSSL's SHA-256 from states made at unlock) is HMAC-SHA256 */
		static const size_t sizes[] = { 0, 1, 31, 55, 56, 63, 64, 65, 119, 120, 200, 1000 };
		uint8_t data[1000], want[32], got[32], split[32];
		size_t i, bad = 0;

		struct vault_keys *k = vault_keys_new();

		randombytes_buf(data, sizeof(data));
		randombytes_buf(k->audit, sizeof(k->audit));
		vault_keys_freeze(k);
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			const void *parts[3] = { data, data + sizes[i] / 3, data + sizes[i] / 2 };
			size_t lens[3] = { sizes[i] / 3, sizes[i] / 2 - sizes[i] / 3,
			    sizes[i] - sizes[i] / 2 };

			crypto_auth_hmacsha256(want, data, sizes[i], k->audit);
			vault_keys_audit_mac(k, (const void *[]){ data }, &sizes[i], 1, got);
			vault_keys_audit_mac(k, parts, lens, 3, split);
			if (memcmp(want, got, 32) != 0 || memcmp(want, split, 32) != 0)
				bad++;
		}
		vault_keys_free(k);
		is_int(bad, 0, "mac: the audit MAC is HMAC-SHA256 under the audit key, whole or in parts");
		ok(vault_mac(v, VAULT_KEY_AUDIT, data, 100, got) == 0 &&
		    vault_mac_parts(v, VAULT_KEY_AUDIT, (const void *[]){ data, data + 40 },
		    (const size_t[]){ 40, 60 }, 2, split) == 0 && memcmp(got, split, 32) == 0,
		    "mac: the vault's audit MAC, whole or in parts");
	}
	is_int(vault_blob_seal(v, VAULT_KEY_TICKETS, "ad", 2, "ticket", 6, blob), 0, "blob: seal");
	len = svbuf_len(blob);
	is_int(len, VAULT_KEYS_OVERHEAD + 6, "blob: length");
	ok(vault_blob_open(v, VAULT_KEY_TICKETS, "ad", 2, svbuf_ptr(blob), len, &plain) == 0 &&
	    svbuf_len(plain) == 6 && memcmp(svbuf_ptr(plain), "ticket", 6) == 0, "blob: opens");
	svbuf_free(plain);
	plain = NULL;
	is_int(vault_blob_open(v, VAULT_KEY_TICKETS, "ax", 2, svbuf_ptr(blob), len, &plain), SV_ERR_INTEGRITY,
	    "blob: other associated data fails");
	is_int(vault_blob_open(v, VAULT_KEY_AUDIT, "ad", 2, svbuf_ptr(blob), len, &plain), SV_ERR_INTEGRITY,
	    "blob: other purpose fails");
	ok(plain == NULL, "blob: nothing handed out on failure");
	svbuf_free(blob);
}

struct rot_progress {
	size_t calls, last_done, total;
	int monotonic;
};

static void
on_progress(void *ctx, size_t done, size_t total)
{
	struct rot_progress *p = ctx;

	if (p->calls > 0 && done < p->last_done)
		p->monotonic = 0;
	p->calls++;
	p->last_done = done;
	p->total = total;
}

static int
all_readable(struct vault *v, int n)
{
	static const enum test_table tabs[] = {
		VAULT_TABLE_APPS, VAULT_TABLE_MAPPINGS, VAULT_TABLE_CERTS,
		VAULT_TABLE_SUSPENDED, VAULT_TABLE_TICKETS,
	};
	char key[32], want[64], buf[64];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "rot-%04d", i);
		snprintf(want, sizeof(want), "secret number %d", i);
		if (get(v, tabs[i % 5], key, buf, sizeof(buf)) != 0 || strcmp(buf, want) != 0) {
			printf("# record %s: %s\n", key, vault_errmsg(v));
			return 0;
		}
	}
	return 1;
}

/*
 * Rotation over records of mixed sizes, many on overflow pages: replacing
 * values while a cursor walks the table once moved the cursor back onto
 * records already sealed with the new key ("failed its integrity check").
 */
static void
test_rotate_mixed_sizes(void)
{
	char *dir = new_dir(), key[32];
	struct vault *v = make_vault(dir, PASS, NULL);
	struct vault_txn *t = NULL;
	struct svbuf *plain = NULL;
	static uint8_t val[9000];
	size_t len;
	int i, round, ok_puts = 1, ok_read = 1;

	if (v == NULL)
		return;
	ok(vault_txn_begin(v, 1, &t) == 0, "rotate mixed: begin");
	for (i = 0; i < 64; i++) {
		snprintf(key, sizeof(key), "mixed-%02d", i);
		len = 40 + (size_t)(i * 997 % 8800);
		memset(val, 'a' + i % 26, len);
		if (vault_record_put(t, VAULT_TABLE_CERTS, key, strlen(key), val, len, 0) != 0)
			ok_puts = 0;
	}
	ok(ok_puts && vault_txn_commit(t) == 0, "rotate mixed: 64 records of 40 to 8800 bytes");
	for (round = 1; round <= 3; round++)
		is_int(vault_secret_rotate(v, NULL, NULL), 0, "rotate mixed: rotation %d", round);
	ok(vault_txn_begin(v, 0, &t) == 0, "rotate mixed: read begin");
	for (i = 0; i < 64 && t != NULL; i++) {
		snprintf(key, sizeof(key), "mixed-%02d", i);
		len = 40 + (size_t)(i * 997 % 8800);
		if (vault_record_get(t, VAULT_TABLE_CERTS, key, strlen(key), &plain) != 0 ||
		    svbuf_len(plain) != len || svbuf_ptr(plain)[len - 1] != 'a' + i % 26) {
			printf("# record %s: %s\n", key, vault_errmsg(v));
			ok_read = 0;
		}
		svbuf_free(plain);
		plain = NULL;
	}
	vault_txn_abort(t);
	ok(ok_read, "rotate mixed: every record readable with its size and bytes");
	vault_free(v);
	free(dir);
}

static void
test_rotate(void)
{
	static const enum test_table tabs[] = {
		VAULT_TABLE_APPS, VAULT_TABLE_MAPPINGS, VAULT_TABLE_CERTS,
		VAULT_TABLE_SUSPENDED, VAULT_TABLE_TICKETS,
	};
	char *dir = new_dir(), key[32], val[64];
	struct vault *v = make_vault(dir, PASS, NULL);
	struct svbuf *bk1 = svbuf_new(0), *bk2 = svbuf_new(0), *ticket = svbuf_new(0), *plain = NULL;
	struct rot_progress prog = { 0, 0, 0, 1 };
	struct vault_txn *t = NULL;
	uint8_t mac1[32], mac2[32], master1[32], audit1[32], rkey[32];
	const uint8_t *p;
	size_t n;
	int i, ok_puts = 1;

	if (v == NULL)
		return;
	ok(vault_txn_begin(v, 1, &t) == 0, "rotate: begin");
	for (i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "rot-%04d", i);
		snprintf(val, sizeof(val), "secret number %d", i);
		if (vault_record_put(t, tabs[i % 5], key, strlen(key), val, strlen(val), 0) != 0)
			ok_puts = 0;
	}
	ok(ok_puts && vault_raw_put(t, VAULT_TABLE_AUDIT, "seq1", 4, "audit-1", 7, 0) == 0 &&
	    vault_txn_commit(t) == 0, "rotate: 300 records over five tables, one audit record");
	is_int(vault_secret_backup(v, "backup pw", 9, "before rotation", bk1), 0, "rotate: secret backup before");
	is_int(vault_mac(v, VAULT_KEY_AUDIT, "chain", 5, mac1), 0, "rotate: audit mac before");
	is_int(vault_blob_seal(v, VAULT_KEY_TICKETS, NULL, 0, "t", 1, ticket), 0, "rotate: ticket before");
	memcpy(master1, vault_keys_of(v)->master, 32);
	memcpy(audit1, vault_keys_of(v)->audit, 32);

	is_int(vault_secret_rotate(v, on_progress, &prog), 0, "rotate");
	is_int(vault_epoch(v), 2, "rotate: epoch 2");
	ok(memcmp(master1, vault_keys_of(v)->master, 32) != 0, "rotate: new master secret");
	ok(memcmp(audit1, vault_keys_of(v)->audit, 32) == 0, "rotate: audit key kept");
	ok(prog.calls >= 4 && prog.monotonic && prog.total == 302 && prog.last_done == 302,
	    "rotate: progress reported (calls %zu, total %zu, last %zu)", prog.calls, prog.total, prog.last_done);
	ok(all_readable(v, 300), "rotate: every record readable");
	ok(vault_mac(v, VAULT_KEY_AUDIT, "chain", 5, mac2) == 0 && memcmp(mac1, mac2, 32) == 0,
	    "rotate: audit macs unchanged (chain still verifies)");
	ok(vault_txn_begin(v, 0, &t) == 0 && vault_raw_get(t, VAULT_TABLE_AUDIT, "seq1", 4, &p, &n) == 0 &&
	    n == 7 && memcmp(p, "audit-1", 7) == 0, "rotate: audit record untouched");
	vault_txn_abort(t);
	is_int(vault_blob_open(v, VAULT_KEY_TICKETS, NULL, 0, svbuf_ptr(ticket), svbuf_len(ticket), &plain),
	    SV_ERR_INTEGRITY, "rotate: tickets sealed before rotation are refused");
	ok(contains(vault_errmsg(v), "epoch 1, vault is at 2"), "rotate: ticket message names the epochs");

	vault_lock(v);
	is_int(vault_secret_restore(v, svbuf_ptr(bk1), svbuf_len(bk1), "backup pw", 9, "new pass", 8, NULL),
	    SV_ERR_CONFLICT, "pre-rotation secret backup refused: SV_ERR_CONFLICT");
	is_str(vault_errmsg(v), "backup does not match this vault's data: it was made before the last rotation",
	    "pre-rotation secret backup: message");
	ok(!vault_is_unlocked(v), "refused restore: still locked");
	is_int(vault_unlock_passphrase(v, "new pass", 8), SV_ERR_WRONG_KEY, "refused restore: new passphrase not set");
	is_int(vault_unlock_passphrase(v, PASS, strlen(PASS)), 0, "refused restore: old passphrase still works");
	ok(vault_epoch(v) == 2 && all_readable(v, 300), "refused restore: data intact");

	is_int(vault_secret_backup(v, "backup pw 2", 11, NULL, bk2), 0, "secret backup after rotation");
	vault_lock(v);
	is_int(vault_secret_restore(v, svbuf_ptr(bk2), svbuf_len(bk2), "backup pw", 9, "new pass", 8, NULL),
	    SV_ERR_WRONG_KEY, "secret restore with the wrong password: SV_ERR_WRONG_KEY");
	is_str(vault_errmsg(v), "wrong backup password", "wrong backup password: message");
	ok(!vault_is_unlocked(v) && vault_unlock_passphrase(v, PASS, strlen(PASS)) == 0,
	    "wrong backup password: old passphrase still works");
	vault_lock(v);

	randombytes_buf(rkey, sizeof(rkey));
	is_int(vault_secret_restore(v, svbuf_ptr(bk2), svbuf_len(bk2), "backup pw 2", 11, "new pass", 8, rkey),
	    0, "secret restore after rotation");
	ok(vault_is_unlocked(v) && vault_epoch(v) == 2 && all_readable(v, 300),
	    "secret restore: unlocked, data readable");
	vault_free(v);
	v = NULL;
	ok(vault_open(dir, &test_schema, &v) == 0, "secret restore: reopen");
	is_int(vault_unlock_passphrase(v, PASS, strlen(PASS)), SV_ERR_WRONG_KEY, "secret restore: old passphrase refused");
	is_int(vault_unlock_passphrase(v, "new pass", 8), 0, "secret restore: new passphrase works");
	ok(all_readable(v, 300), "secret restore: records readable after reopen");
	vault_lock(v);
	is_int(vault_unlock_key(v, rkey), 0, "secret restore: the new key slot works");
	{
		struct vault_info info;

		ok(vault_info_get(v, &info) == 0 && info.passphrase_slots == 1 && info.key_slots == 1 &&
		    info.opslimit == OPS && info.epoch == 2, "secret restore: slots replaced, limits kept");
	}

	/* all or nothing: one bad record aborts the whole rotation */
	{
		uint8_t blob[128];
		size_t blen = sizeof(blob);

		ok(raw_copy(v, VAULT_TABLE_APPS, "rot-0000", blob, &blen) == 0 &&
		    raw_set(v, VAULT_TABLE_TICKETS, "rot-9999", blob, blen) == 0, "rotate: plant a moved record");
		memcpy(master1, vault_keys_of(v)->master, 32);
		is_int(vault_secret_rotate(v, NULL, NULL), SV_ERR_INTEGRITY, "rotate over a bad record: SV_ERR_INTEGRITY");
		ok(contains(vault_errmsg(v), "tickets/rot-9999"), "rotate over a bad record: message names it");
		ok(vault_epoch(v) == 2 && memcmp(master1, vault_keys_of(v)->master, 32) == 0,
		    "failed rotation: keys in memory unchanged");
		ok(all_readable(v, 300), "failed rotation: every record still readable");
		vault_free(v);
		v = NULL;
		ok(vault_open(dir, &test_schema, &v) == 0 && vault_unlock_passphrase(v, "new pass", 8) == 0 &&
		    vault_epoch(v) == 2 && all_readable(v, 300), "failed rotation: nothing changed on disk");
		ok(vault_txn_begin(v, 1, &t) == 0 && vault_raw_del(t, VAULT_TABLE_TICKETS, "rot-9999", 8) == 0 &&
		    vault_txn_commit(t) == 0, "rotate: remove the planted record");
		is_int(vault_secret_rotate(v, NULL, NULL), 0, "rotate again");
		ok(vault_epoch(v) == 3 && all_readable(v, 300), "second rotation: epoch 3, records readable");
	}
	vault_free(v);
	svbuf_free(bk1);
	svbuf_free(bk2);
	svbuf_free(ticket);
	free(dir);
}

static void
test_secret_backup_format(struct vault *v)
{
	struct svbuf *b = svbuf_new(0);
	char *hint = NULL, longhint[1100];
	uint8_t tmp[512];
	size_t len;

	is_int(vault_secret_backup(v, "pw", 2, "ask Alice", b), 0, "secret backup with a hint");
	ok(vault_secret_backup_hint(svbuf_ptr(b), svbuf_len(b), &hint) == 0 && strcmp(hint, "ask Alice") == 0,
	    "hint read without the password");
	free(hint);
	hint = NULL;
	ok(memmem(svbuf_ptr(b), svbuf_len(b), vault_keys_of(v)->master, 32) == NULL,
	    "the backup does not hold the master secret in clear");
	len = svbuf_len(b);
	memcpy(tmp, svbuf_ptr(b), len);
	is_int(vault_secret_backup_hint(tmp, len - 1, &hint), SV_ERR_BAD_FORMAT, "truncated backup refused");
	tmp[len] = 0;
	is_int(vault_secret_backup_hint(tmp, len + 1, &hint), SV_ERR_BAD_FORMAT, "trailing byte refused");
	is_int(vault_secret_backup_hint("garbage!garbage!", 16, &hint), SV_ERR_BAD_FORMAT, "garbage refused");
	tmp[len - 1] ^= 1;
	is_int(vault_secret_restore(v, tmp, len, "pw", 2, PASS, strlen(PASS), NULL), SV_ERR_WRONG_KEY,
	    "altered backup does not open");
	ok(hint == NULL, "nothing handed out on failure");
	svbuf_reset(b);
	is_int(vault_secret_backup(v, "pw", 2, NULL, b), 0, "secret backup without a hint");
	ok(vault_secret_backup_hint(svbuf_ptr(b), svbuf_len(b), &hint) == 0 && strcmp(hint, "") == 0,
	    "no hint reads as empty");
	free(hint);
	svbuf_reset(b);
	memset(longhint, 'h', sizeof(longhint) - 1);
	longhint[sizeof(longhint) - 1] = '\0';
	is_int(vault_secret_backup(v, "pw", 2, longhint, b), SV_ERR_TOO_LARGE, "over-long hint refused");
	is_int(vault_secret_backup(v, "pw", 2, "bad\nhint", b), SV_ERR_INVALID, "control character in hint refused");
	ok(svbuf_len(b) == 0, "refused backup appended nothing");
	svbuf_free(b);
}

static int
tmpfile_fd(void)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/backup-XXXXXX", tmproot);
	if ((fd = mkstemp(path)) >= 0)
		unlink(path);
	return fd;
}

static void
test_backup_restore(void)
{
	char *dir = new_dir(), *dir2 = new_dir(), buf[64];
	struct vault *v = make_vault(dir, PASS, NULL), *w = make_vault(dir2, "other", NULL);
	struct svbuf *sb = svbuf_new(0);
	int fd = tmpfile_fd(), fd2 = tmpfile_fd(), bad = tmpfile_fd();
	uint8_t *copy;
	size_t len;
	off_t size;

	if (v == NULL || w == NULL || fd < 0 || fd2 < 0 || bad < 0)
		return;
	is_int(put(v, VAULT_TABLE_APPS, "before", "b"), 0, "backup: record before");
	is_int(vault_backup(v, fd), 0, "backup");
	size = lseek(fd, 0, SEEK_END);
	ok(size > 0, "backup: wrote %lld bytes", (long long)size);
	is_int(put(v, VAULT_TABLE_APPS, "after", "a"), 0, "backup: record after");
	lseek(fd, 0, SEEK_SET);
	is_int(vault_restore(v, fd), 0, "restore");
	ok(vault_is_unlocked(v), "restore: still unlocked (same keys)");
	ok(get(v, VAULT_TABLE_APPS, "before", buf, sizeof(buf)) == 0 && strcmp(buf, "b") == 0,
	    "restore: record from before the backup is there");
	is_int(get(v, VAULT_TABLE_APPS, "after", buf, sizeof(buf)), SV_ERR_NOT_FOUND,
	    "restore: record written after the backup is gone");
	ok(!file_exists(dir, "data.mdb.restore") && mode_of(dir, "data.mdb") == 0600,
	    "restore: no temporary file left, data.mdb 0600");
	is_int(put(v, VAULT_TABLE_APPS, "after2", "a2"), 0, "restore: the vault is writable");

	is_int(vault_backup(w, fd2), 0, "backup of another vault");
	lseek(fd2, 0, SEEK_SET);
	is_int(vault_restore(v, fd2), SV_ERR_CONFLICT, "restore of another vault's backup: SV_ERR_CONFLICT");
	is_str(vault_errmsg(v), "backup is of another vault", "foreign backup: message");
	ok(vault_is_unlocked(v) && get(v, VAULT_TABLE_APPS, "after2", buf, sizeof(buf)) == 0,
	    "foreign backup: data and keys unchanged");
	ok(!file_exists(dir, "data.mdb.restore"), "foreign backup: no temporary file left");

	ok(write(bad, "this is not a vault at all", 26) == 26, "garbage file");
	lseek(bad, 0, SEEK_SET);
	is_int(vault_restore(v, bad), SV_ERR_BAD_FORMAT, "restore of garbage: SV_ERR_BAD_FORMAT");
	ok(get(v, VAULT_TABLE_APPS, "after2", buf, sizeof(buf)) == 0, "garbage: data unchanged");
	if (ftruncate(bad, 0) == 0)
		lseek(bad, 0, SEEK_SET);
	is_int(vault_restore(v, bad), SV_ERR_BAD_FORMAT, "restore of an empty file: SV_ERR_BAD_FORMAT");

	/* the first pages of a real backup: a truncated copy must not crash us */
	lseek(fd, 0, SEEK_SET);
	len = (size_t)size;
	copy = malloc(len);
	if (copy != NULL && pread(fd, copy, len, 0) == (ssize_t)len) {
		if (ftruncate(bad, 0) == 0 && pwrite(bad, copy, len / 2, 0) == (ssize_t)(len / 2)) {
			lseek(bad, 0, SEEK_SET);
			is_int(vault_restore(v, bad), SV_ERR_BAD_FORMAT, "restore of a truncated backup: SV_ERR_BAD_FORMAT");
			ok(get(v, VAULT_TABLE_APPS, "after2", buf, sizeof(buf)) == 0, "truncated backup: data unchanged");
		}
	}
	free(copy);

	/* a backup taken before a secret restore: its slots are the old ones */
	lseek(fd, 0, SEEK_SET);
	if (ftruncate(fd, 0) == 0)
		is_int(vault_backup(v, fd), 0, "backup before a secret restore");
	is_int(vault_secret_backup(v, "bpw", 3, NULL, sb), 0, "secret backup");
	is_int(vault_secret_restore(v, svbuf_ptr(sb), svbuf_len(sb), "bpw", 3, "fresh", 5, NULL), 0,
	    "secret restore: new root key, new passphrase");
	lseek(fd, 0, SEEK_SET);
	is_int(vault_restore(v, fd), 0, "restore the older backup");
	ok(!vault_is_unlocked(v), "restore under another root key: the handle is locked");
	is_int(vault_unlock_passphrase(v, "fresh", 5), SV_ERR_WRONG_KEY, "restored slots: newer passphrase refused");
	is_int(vault_unlock_passphrase(v, PASS, strlen(PASS)), 0, "restored slots: the backup's passphrase works");
	ok(get(v, VAULT_TABLE_APPS, "after2", buf, sizeof(buf)) == 0, "restored data readable");

	close(fd);
	close(fd2);
	close(bad);
	svbuf_free(sb);
	vault_free(v);
	vault_free(w);
	free(dir);
	free(dir2);
}

/* A check for vault_secret_restore_finish(): says no, after looking. */
static int
refuse_restore(void *ctx, struct vault *v)
{
	char buf[64];

	/* the backup's keys are in the handle for this call: the data opens */
	*(int *)ctx = get(v, VAULT_TABLE_APPS, "steps", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "v") == 0;
	return SV_ERR_DENIED;
}

/*
 * Unlock and secret restore in steps (a daemon runs Argon2id without its
 * key lock): costs, the checks that come before any key derivation, a slot
 * changed between derive and finish, and a restore its check refuses.
 */
static void
test_steps(void)
{
	char *dir = new_dir(), m[SV_MSG_MAX];
	struct vault *v = make_vault(dir, PASS, NULL);
	struct vault_unlock *u = NULL, *u2 = NULL;
	struct vault_secret_job *j = NULL;
	struct svbuf *bk = svbuf_new(0);
	uint8_t key[32], blob[512];
	size_t len;
	int seen = 0;

	randombytes_buf(key, sizeof(key));
	ok(v != NULL && put(v, VAULT_TABLE_APPS, "steps", "v") == 0 &&
	    vault_secret_backup(v, "backup pw", 9, NULL, bk) == 0, "steps: a vault and a secret backup");
	if (v == NULL)
		goto out;
	vault_lock(v);

	m[0] = '\0';
	is_int(vault_unlock_prepare(v, 0, "wrong horse", 11, &u, m), 0, "unlock prepare");
	is_int(vault_unlock_cost(u), MEM, "a passphrase costs the slot's Argon2id memory");
	is_int(vault_unlock_derive(u, m), SV_ERR_WRONG_KEY, "derive with a wrong passphrase");
	is_str(m, "wrong passphrase", "... says so");
	is_int(vault_unlock_finish(v, u, m), SV_ERR_INTERNAL, "finish without a derived key: refused");
	ok(!vault_is_unlocked(v), "... and the vault stays locked");
	vault_unlock_free(u);
	u = NULL;
	ok(vault_unlock_prepare(v, 1, key, 32, &u, m) == 0 && vault_unlock_cost(u) == 0,
	    "a key file costs no Argon2id");
	is_int(vault_unlock_derive(u, m), SV_ERR_WRONG_KEY, "... and finds no key slot");
	vault_unlock_free(u);
	u = NULL;

	ok(vault_unlock_prepare(v, 0, PASS, strlen(PASS), &u, m) == 0 &&
	    vault_unlock_derive(u, m) == 0, "prepare and derive the right passphrase");
	ok(!vault_is_unlocked(v), "derive installs nothing");
	ok(vault_unlock_prepare(v, 0, PASS, strlen(PASS), &u2, m) == 0 &&
	    vault_unlock_derive(u2, m) == 0, "a second unlock derives too");
	is_int(vault_unlock_finish(v, u, m), 0, "finish the first");
	ok(vault_is_unlocked(v), "... the vault is unlocked");

	/* the slots are replaced before the second finishes */
	is_int(vault_secret_restore(v, svbuf_ptr(bk), svbuf_len(bk), "backup pw", 9, "new pass", 8,
	    NULL), 0, "a secret restore replaces the slots meanwhile");
	vault_lock(v);
	is_int(vault_unlock_finish(v, u2, m), SV_ERR_WRONG_KEY, "the second finish: refused");
	ok(contains(m, "changed meanwhile"), "... its slot changed meanwhile");
	ok(!vault_is_unlocked(v), "... and the vault stays locked");
	vault_unlock_free(u);
	vault_unlock_free(u2);
	u = u2 = NULL;

	/* every check that needs no key comes before the costly part */
	len = svbuf_len(bk);
	ok(len <= sizeof(blob), "a backup blob fits the test buffer");
	memcpy(blob, svbuf_ptr(bk), len);
	blob[8] ^= 1;
	is_int(vault_secret_restore_prepare(v, blob, len, "backup pw", 9, "x", 1, NULL, &j, m),
	    SV_ERR_CONFLICT, "a backup of another vault: refused at prepare");
	is_str(m, "backup is of another vault", "... says so");
	ok(j == NULL, "... and hands out nothing");
	blob[8] ^= 1;
	/* memlimit (8 + 16 + 8 bytes in) asks for far more than the vault's slots */
	blob[8 + 16 + 8 + 4] = 0x40;
	is_int(vault_secret_restore_prepare(v, blob, len, "backup pw", 9, "x", 1, NULL, &j, m),
	    SV_ERR_CONFLICT, "a backup asking for more Argon2id memory than the slots: refused at prepare");
	ok(contains(m, "more Argon2id work"), "... says so");
	memcpy(blob, svbuf_ptr(bk), len);
	is_int(vault_secret_restore_prepare(v, blob, len - 3, "backup pw", 9, "x", 1, NULL, &j, m),
	    SV_ERR_BAD_FORMAT, "a truncated backup: refused at prepare");

	ok(vault_secret_restore_prepare(v, blob, len, "backup pw", 9, "third pass", 10, NULL, &j, m) == 0,
	    "restore prepare");
	is_int(vault_secret_job_cost(j), MEM, "the restore costs the slots' Argon2id memory");
	ok(vault_secret_restore_derive(j, m) == 0, "restore derive");
	is_int(vault_secret_restore_finish(v, j, refuse_restore, &seen, m), SV_ERR_DENIED,
	    "a restore its check refuses: refused");
	ok(seen, "... the check read the vault with the backup's keys");
	ok(!vault_is_unlocked(v), "... the vault stays locked");
	ok(vault_unlock_passphrase(v, "new pass", 8) == 0, "... and the slots stay as they were");
	vault_secret_job_free(j);
	j = NULL;
out:
	vault_unlock_free(u);
	vault_unlock_free(u2);
	vault_secret_job_free(j);
	svbuf_free(bk);
	vault_free(v);
	free(dir);
}

static void
test_scan(void)
{
	char *dir = new_dir(), path[256];
	struct vault *v = make_vault(dir, PASS, NULL);
	const struct vault_keys *k;
	uint8_t *data;
	size_t len = 0;
	int fd;

	if (v == NULL)
		return;
	is_int(put(v, VAULT_TABLE_MAPPINGS, "alice", SECRET_VALUE), 0, "scan: store a secret");
	k = vault_keys_of(v);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	data = read_file(path, &len);
	ok(data != NULL && len > 0, "scan: read data.mdb (%zu bytes)", len);
	if (data != NULL) {
		ok(memmem(data, len, SECRET_VALUE, strlen(SECRET_VALUE)) == NULL, "scan: no plaintext value");
		ok(memmem(data, len, PASS, strlen(PASS)) == NULL, "scan: no passphrase");
		ok(memmem(data, len, k->master, 32) == NULL, "scan: no master secret");
		ok(memmem(data, len, k->root, 32) == NULL, "scan: no root key");
		ok(memmem(data, len, k->records, 32) == NULL, "scan: no records key");
		ok(memmem(data, len, k->tickets, 32) == NULL, "scan: no tickets key");
		ok(memmem(data, len, k->audit, 32) == NULL, "scan: no audit key");
		ok(memmem(data, len, "alice", 5) != NULL, "scan: (record keys are stored as they are)");
	}
	free(data);
	snprintf(path, sizeof(path), "%s/backup.mdb", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ok(fd >= 0 && vault_backup(v, fd) == 0, "scan: vault backup");
	if (fd >= 0)
		close(fd);
	data = read_file(path, &len);
	ok(data != NULL && memmem(data, len, SECRET_VALUE, strlen(SECRET_VALUE)) == NULL &&
	    memmem(data, len, k->master, 32) == NULL && memmem(data, len, k->records, 32) == NULL,
	    "scan: the backup holds no plaintext, master or records key");
	free(data);
	unlink(path);
	vault_free(v);
	free(dir);
}

/* ---- size: the map grows by itself up to the ceiling; the reserve ---- */

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

static struct vault *
make_sized(const char *dir, size_t map, size_t max)
{
	struct vault_create_opts o = fast_opts(PASS, NULL);
	struct vault *v = NULL;
	int r;

	o.map_size = map;
	o.max_size = max;
	if ((r = vault_create(dir, &o, &v)) != 0) {
		printf("# create %s: %s: %s\n", dir, sv_strerror(r), vault_open_errmsg());
		return NULL;
	}
	return v;
}

static size_t
map_now(struct vault *v)
{
	struct vault_info info;

	return vault_info_get(v, &info) == 0 ? info.map_size : 0;
}

static size_t
used_now(struct vault *v)
{
	struct vault_info info;

	return vault_info_get(v, &info) == 0 ? info.used_bytes : 0;
}

/*
 * A record of n random bytes (apps/key) in a write transaction of its own,
 * committed only if the vault has room for it; a failure's message in msg.
 */
static int
put_sized(struct vault *v, const char *key, size_t n, enum vault_room room, char *msg)
{
	struct vault_txn *t = NULL;
	uint8_t *val = malloc(n);
	int r;

	msg[0] = '\0';
	if (val == NULL)
		return SV_ERR_NOMEM;
	randombytes_buf(val, n);
	if ((r = vault_txn_begin(v, 1, &t)) != 0 ||
	    (r = vault_record_put(t, VAULT_TABLE_APPS, key, strlen(key), val, n, 0)) != 0 ||
	    (r = vault_txn_room(t, room, NULL, msg)) != 0) {
		if (msg[0] == '\0')
			snprintf(msg, SV_MSG_MAX, "%s", vault_errmsg(v));
		vault_txn_abort(t);
	} else if ((r = vault_txn_commit(t)) != 0) {
		snprintf(msg, SV_MSG_MAX, "%s", vault_errmsg(v));
	}
	free(val);
	return r;
}

static int
del_key(struct vault *v, const char *key)
{
	struct vault_txn *t = NULL;
	int r;

	if ((r = vault_txn_begin(v, 1, &t)) != 0)
		return r;
	if ((r = vault_record_del(t, VAULT_TABLE_APPS, key, strlen(key))) != 0 ||
	    (r = vault_txn_room(t, VAULT_ROOM_ALL, NULL, NULL)) != 0) {
		vault_txn_abort(t);
		return r;
	}
	return vault_txn_commit(t);
}

struct size_reader {
	struct vault *v;
	atomic_int *stop;
	long reads;
	int failures;
};

static void *
size_reader_run(void *arg)
{
	struct size_reader *rd = arg;
	char buf[64];

	while (!atomic_load(rd->stop)) {
		if (get(rd->v, VAULT_TABLE_APPS, "anchor", buf, sizeof(buf)) != 0 ||
		    strcmp(buf, "anchor value") != 0)
			rd->failures++;
		rd->reads++;
	}
	return NULL;
}

static void
test_size_settings(void)
{
	struct vault_info info;
	struct vault *v = NULL;
	char *dir = new_dir();

	v = make_vault(dir, PASS, NULL);
	vault_free(v);
	setenv("SSOVAULT_MAP_SIZE", "2M", 1);
	ok(vault_open(dir, &test_schema, &v) == 0 && vault_info_get(v, &info) == 0 &&
	    info.map_size == 2 * MIB && info.max_size == 2 * MIB,
	    "size: SSOVAULT_MAP_SIZE alone is the map and the ceiling (a fixed map, as before)");
	vault_free(v);
	v = NULL;
	setenv("SSOVAULT_MAX_SIZE", "16M", 1);
	ok(vault_open(dir, &test_schema, &v) == 0 && vault_info_get(v, &info) == 0 &&
	    info.map_size >= 2 * MIB && info.map_size <= 16 * MIB && info.max_size == 16 * MIB &&
	    info.reserve_bytes == MIB,
	    "size: with SSOVAULT_MAX_SIZE the map begins at SSOVAULT_MAP_SIZE, ceiling 16M, reserve 1M");
	vault_free(v);
	v = NULL;
	unsetenv("SSOVAULT_MAP_SIZE");
	ok(vault_open(dir, &test_schema, &v) == 0 && vault_info_get(v, &info) == 0 &&
	    info.map_size == 16 * MIB && info.max_size == 16 * MIB,
	    "size: SSOVAULT_MAX_SIZE alone: the default map, at most the ceiling");
	vault_free(v);
	v = NULL;
	setenv("SSOVAULT_MAP_SIZE", "32M", 1);
	is_int(vault_open(dir, &test_schema, &v), SV_ERR_INVALID, "size: a map above the ceiling is refused");
	ok(contains(vault_open_errmsg(), "SSOVAULT_MAP_SIZE (32.0 MiB) is larger than SSOVAULT_MAX_SIZE (16.0 MiB)"),
	    "size: ... with a message naming both: %s", vault_open_errmsg());
	unsetenv("SSOVAULT_MAP_SIZE");
	setenv("SSOVAULT_MAX_SIZE", "12Q", 1);
	is_int(vault_open(dir, &test_schema, &v), SV_ERR_INVALID, "size: a bad SSOVAULT_MAX_SIZE is refused");
	ok(contains(vault_open_errmsg(), "SSOVAULT_MAX_SIZE: expected a size from 64K to 1024G, got '12Q'"),
	    "size: ... with its exact message");
	unsetenv("SSOVAULT_MAX_SIZE");
	ok(v == NULL, "size: no handle from a refused open");
	free(dir);
}

/* The map grows step by step up to the ceiling while readers run. */
static void
test_grow(void)
{
	struct size_reader rd[3];
	pthread_t th[3];
	atomic_int stop;
	struct vault_info info;
	struct vault *v;
	char *dir = new_dir(), key[32], msg[SV_MSG_MAX];
	size_t first, map, prev, top = 0;
	int i, n, r = 0, started = 0, growths = 0, failures = 0;
	long reads = 0;

	v = make_sized(dir, 256 * KIB, 8 * MIB);
	ok(v != NULL && vault_info_get(v, &info) == 0 && info.max_size == 8 * MIB &&
	    info.map_size >= 256 * KIB && info.map_size < 8 * MIB,
	    "grow: a vault with a small map (%zu KiB) and a ceiling of 8 MiB", v ? map_now(v) >> 10 : 0);
	if (v == NULL) {
		free(dir);
		return;
	}
	is_int(put(v, VAULT_TABLE_APPS, "anchor", "anchor value"), 0, "grow: put a record to read");
	first = prev = map_now(v);
	atomic_init(&stop, 0);
	for (i = 0; i < 3; i++) {
		rd[i].v = v;
		rd[i].stop = &stop;
		rd[i].reads = 0;
		rd[i].failures = 0;
		if (pthread_create(&th[i], NULL, size_reader_run, &rd[i]) == 0)
			started++;
	}
	for (i = 0; i < 400; i++) {
		snprintf(key, sizeof(key), "grow%03d", i);
		if ((r = put_sized(v, key, 48 * KIB, VAULT_ROOM_ALL, msg)) != 0)
			break;
		map = map_now(v);
		if (map > prev)
			growths++;
		if (map > top)
			top = map;
		prev = map;
	}
	n = i;
	atomic_store(&stop, 1);
	for (i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		reads += rd[i].reads;
		failures += rd[i].failures;
	}
	ok(started == 3 && reads > 0 && failures == 0,
	    "grow: three readers ran throughout (%ld reads, %d failures)", reads, failures);
	ok(growths >= 2 && top > first,
	    "grow: the map grew by itself, %d times, from %zu KiB to %zu KiB", growths,
	    first >> 10, top >> 10);
	ok(top == 8 * MIB, "grow: ... up to the ceiling and never past it");
	is_int(r, SV_ERR_MAP_FULL, "grow: at the ceiling a write fails: vault is full");
	ok(contains(msg, "vault is full (its ceiling is reached; SSOVAULT_MAX_SIZE sets a higher one)"),
	    "grow: ... and says which setting raises it: %s", msg);
	ok(n > 100, "grow: %d records of 48 KiB went in before that", n);
	{
		char buf[64];

		ok(get(v, VAULT_TABLE_APPS, "anchor", buf, sizeof(buf)) == 0 &&
		    strcmp(buf, "anchor value") == 0 && get(v, VAULT_TABLE_APPS, "grow000", buf,
		    sizeof(buf)) == SV_ERR_TOO_LARGE, "grow: records read back after growing");
	}
	vault_free(v);
	free(dir);
}

struct holder {
	struct vault *v;
	atomic_int ready, release;
	int ok;
};

/* Hold a read transaction until told to let go. */
static void *
holder_run(void *arg)
{
	struct holder *h = arg;
	struct vault_txn *t = NULL;
	const uint8_t *p;
	size_t n;

	h->ok = vault_txn_begin(h->v, 0, &t) == 0 &&
	    vault_raw_get(t, VAULT_TABLE_APPS, "anchor", 6, &p, &n) == 0;
	atomic_store(&h->ready, 1);
	while (!atomic_load(&h->release))
		usleep(1000);
	vault_txn_abort(t);
	return NULL;
}

/* No remap under a live transaction, in this thread or another; no deadlock. */
static void
test_grow_held(void)
{
	struct vault_txn *rt = NULL;
	struct holder h;
	pthread_t th;
	struct vault *v;
	char *dir = new_dir(), key[32], msg[SV_MSG_MAX];
	size_t before, after;
	int i, r = 0;

	v = make_sized(dir, 256 * KIB, 16 * MIB);
	ok(v != NULL && put(v, VAULT_TABLE_APPS, "anchor", "anchor value") == 0,
	    "held: a vault with a small map");
	if (v == NULL) {
		free(dir);
		return;
	}
	/* this thread holds a read transaction and writes */
	ok(vault_txn_begin(v, 0, &rt) == 0, "held: this thread opens a read transaction");
	before = map_now(v);
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "self%03d", i);
		if ((r = put_sized(v, key, 48 * KIB, VAULT_ROOM_ALL, msg)) != 0)
			break;
	}
	after = map_now(v);
	is_int(r, SV_ERR_MAP_FULL, "held: writes under its own read transaction fill the map, not wait");
	ok(contains(msg, "vault is full for now (its map grows at the next write: try again)"),
	    "held: ... and say the map grows next time: %s", msg);
	ok(after == before, "held: the map did not move under the open transaction (%zu KiB)",
	    after >> 10);
	vault_txn_abort(rt);
	snprintf(key, sizeof(key), "self%03d", i);
	is_int(put_sized(v, key, 48 * KIB, VAULT_ROOM_ALL, msg), 0,
	    "held: once it ended, the same write succeeds");
	ok(map_now(v) > before, "held: ... in a map that grew (%zu KiB)", map_now(v) >> 10);

	/* another thread holds one: growth waits a bounded time, then gives up */
	memset(&h, 0, sizeof(h));
	h.v = v;
	atomic_init(&h.ready, 0);
	atomic_init(&h.release, 0);
	if (pthread_create(&th, NULL, holder_run, &h) != 0) {
		ok(0, "held: start a thread");
		vault_free(v);
		free(dir);
		return;
	}
	while (!atomic_load(&h.ready))
		usleep(1000);
	before = map_now(v);
	for (i = 0; i < 400; i++) {
		snprintf(key, sizeof(key), "other%03d", i);
		if ((r = put_sized(v, key, 48 * KIB, VAULT_ROOM_ALL, msg)) != 0)
			break;
	}
	after = map_now(v);
	ok(h.ok, "held: the other thread read inside its transaction");
	is_int(r, SV_ERR_MAP_FULL, "held: with another thread's transaction open, writes fill the map");
	ok(after == before, "held: ... which did not move under it (%zu KiB)", after >> 10);
	atomic_store(&h.release, 1);
	pthread_join(th, NULL);
	snprintf(key, sizeof(key), "other%03d", i);
	is_int(put_sized(v, key, 48 * KIB, VAULT_ROOM_ALL, msg), 0,
	    "held: once that transaction ended, the write succeeds");
	ok(map_now(v) > before, "held: ... in a map that grew (%zu KiB)", map_now(v) >> 10);
	vault_free(v);
	free(dir);
}

/* Another process grows the data past this one's map: the next transaction adopts it. */
static void
test_grow_other_process(void)
{
	struct vault *v, *w;
	char *dir = new_dir(), key[32], msg[SV_MSG_MAX], buf[64];
	size_t before;
	pid_t pid;
	int i, status = -1;

	v = make_sized(dir, 256 * KIB, 32 * MIB);
	ok(v != NULL && put(v, VAULT_TABLE_APPS, "anchor", "anchor value") == 0,
	    "process: a vault with a small map");
	if (v == NULL) {
		free(dir);
		return;
	}
	before = map_now(v);
	if ((pid = fork()) == 0) {
		/* the child's own handle; the parent's is left alone */
		int fails = 0;

		if (vault_open(dir, &test_schema, &w) != 0 || vault_unlock_passphrase(w, PASS, strlen(PASS)) != 0)
			_exit(2);
		for (i = 0; i < 80; i++) {
			snprintf(key, sizeof(key), "child%03d", i);
			fails += put_sized(w, key, 64 * KIB, VAULT_ROOM_ALL, msg) != 0;
		}
		_exit(fails == 0 ? 0 : 1);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	ok(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "process: another process wrote 5 MiB through its own handle");
	ok(get(v, VAULT_TABLE_APPS, "anchor", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "anchor value") == 0, "process: this handle still reads");
	ok(used_now(v) > 5 * MIB && map_now(v) > before && map_now(v) <= 32 * MIB,
	    "process: ... in a map grown to fit, within its own ceiling (%zu KiB, was %zu KiB)",
	    map_now(v) >> 10, before >> 10);
	is_int(put_sized(v, "after", 64 * KIB, VAULT_ROOM_ALL, msg), 0, "process: and writes");
	vault_free(v);
	free(dir);
}

/* The last part below the ceiling is kept for the way out. */
static void
test_reserve(void)
{
	struct vault_info info;
	struct vault *v;
	char *dir = new_dir(), key[32], msg[SV_MSG_MAX], buf[64];
	size_t used_data, used_rec;
	int i, r = 0, data = 0, recs = 0, all = 0;

	v = make_sized(dir, 0, 4 * MIB);
	ok(v != NULL && vault_info_get(v, &info) == 0 && info.max_size == 4 * MIB &&
	    info.reserve_bytes == MIB, "reserve: a vault of 4 MiB keeps 1 MiB");
	if (v == NULL) {
		free(dir);
		return;
	}
	for (i = 0; i < 400; i++, data++) {
		snprintf(key, sizeof(key), "data%03d", i);
		if ((r = put_sized(v, key, 16 * KIB, VAULT_ROOM_DATA, msg)) != 0)
			break;
	}
	used_data = used_now(v);
	is_int(r, SV_ERR_MAP_FULL, "reserve: ordinary changes stop with SV_ERR_MAP_FULL");
	ok(contains(msg, "vault is nearly full:") && contains(msg, "of 4.0 MiB in use") &&
	    contains(msg, "SSOVAULT_MAX_SIZE"), "reserve: ... saying so: %s", msg);
	ok(used_data <= 3 * MIB && used_data > 3 * MIB - 64 * KIB,
	    "reserve: ... just short of the reserve (%zu KiB used)", used_data >> 10);
	ok(get(v, VAULT_TABLE_APPS, key, buf, sizeof(buf)) == SV_ERR_NOT_FOUND,
	    "reserve: the refused record is not there");
	for (i = 0; i < 2000; i++, recs++) {
		snprintf(key, sizeof(key), "rec%04d", i);
		if ((r = put_sized(v, key, 200, VAULT_ROOM_RECORDS, msg)) != 0)
			break;
	}
	used_rec = used_now(v);
	ok(recs > 100 && r == SV_ERR_MAP_FULL && used_rec > used_data &&
	    used_rec <= 4 * MIB - MIB / 2,
	    "reserve: records go on into half of it (%d more, %zu KiB used), then stop", recs,
	    used_rec >> 10);
	is_int(put_sized(v, "data-again", 16 * KIB, VAULT_ROOM_DATA, msg), SV_ERR_MAP_FULL,
	    "reserve: ordinary changes are still refused");
	for (i = 0; i < 2000; i++, all++) {
		snprintf(key, sizeof(key), "all%04d", i);
		if ((r = put_sized(v, key, 200, VAULT_ROOM_ALL, msg)) != 0)
			break;
	}
	ok(all > 100, "reserve: the way out may use the rest (%d records)", all);
	is_int(r, SV_ERR_MAP_FULL, "reserve: ... up to the true end");
	ok(contains(msg, "vault is full (its ceiling is reached"), "reserve: ... where LMDB is full: %s",
	    msg);
	for (i = 0; i < data; i += 2) {
		snprintf(key, sizeof(key), "data%03d", i);
		if ((r = del_key(v, key)) != 0)
			break;
	}
	is_int(r, 0, "reserve: deletes work at the true end (%d records of 16 KiB)", data / 2);
	is_int(put_sized(v, "data-again", 16 * KIB, VAULT_ROOM_DATA, msg), 0,
	    "reserve: with space freed, ordinary changes work again");
	vault_free(v);
	free(dir);
}

struct reader {
	struct vault *v;
	int failures;
};

static void *
reader_run(void *arg)
{
	struct reader *rd = arg;
	char buf[64];
	int i;

	for (i = 0; i < 500; i++)
		if (get(rd->v, VAULT_TABLE_APPS, "shared", buf, sizeof(buf)) != 0 || strcmp(buf, "value") != 0)
			rd->failures++;
	return NULL;
}

static void
test_threads(struct vault *v)
{
	struct reader rd[4];
	pthread_t th[4];
	int i, failures = 0, started = 0;

	is_int(put(v, VAULT_TABLE_APPS, "shared", "value"), 0, "threads: put");
	for (i = 0; i < 4; i++) {
		rd[i].v = v;
		rd[i].failures = 0;
		if (pthread_create(&th[i], NULL, reader_run, &rd[i]) == 0)
			started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		failures += rd[i].failures;
	}
	ok(started == 4 && failures == 0, "threads: four concurrent readers, %d failures", failures);
}

static double
ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

static void
test_timing(void)
{
	char *dir = new_dir();
	struct vault_create_opts o;
	struct vault *v = NULL;
	struct timespec t0;
	double create_ms, unlock_ms;

	memset(&o, 0, sizeof(o));
	o.schema = &test_schema;
	o.passphrase = PASS;
	o.passphrase_len = strlen(PASS);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(vault_create(dir, &o, &v), 0, "timing: create with the MODERATE defaults");
	create_ms = ms_since(&t0);
	if (v == NULL)
		return;
	vault_lock(v);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(vault_unlock_passphrase(v, PASS, strlen(PASS)), 0, "timing: unlock with the MODERATE defaults");
	unlock_ms = ms_since(&t0);
	printf("# create: %.0f ms, unlock: %.0f ms (Argon2id opslimit %u, memlimit %u MiB)\n",
	    create_ms, unlock_ms, (unsigned)crypto_pwhash_OPSLIMIT_MODERATE,
	    (unsigned)(crypto_pwhash_MEMLIMIT_MODERATE >> 20));
	{
		struct vault_info info;

		ok(vault_info_get(v, &info) == 0 && info.opslimit == crypto_pwhash_OPSLIMIT_MODERATE &&
		    info.memlimit == crypto_pwhash_MEMLIMIT_MODERATE, "timing: defaults are MODERATE");
	}
	vault_free(v);
	free(dir);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Whom directories and secret files may belong to (paths.h). */
static void
test_paths(void)
{
	struct { const char *path, *base; } split[] = {
		{ "x", "x" }, { "a/b/", "b" }, { "/x", "x" }, { "/", "." }, { "a//b", "b" },
	};
	char msg[SV_MSG_MAX], base[256], d[256], f[300], l[300];
	struct stat a, b;
	struct vault *v = NULL;
	struct vault_create_opts o = fast_opts(PASS, NULL);
	size_t i;
	int fd = -1, root = geteuid() == 0;

	snprintf(d, sizeof(d), "%s/a", tmproot);
	ok(mkdir(d, 0700) == 0 && chdir(tmproot) == 0, "in %s, with a directory a", tmproot);
	for (i = 0; i < sizeof(split) / sizeof(split[0]); i++) {
		fd = -1;
		is_int(vault_path_parent_open(split[i].path, base, sizeof(base), msg, &fd), 0,
		    "parent of '%s' opens", split[i].path);
		is_str(base, split[i].base, "  base '%s'", split[i].base);
		if (fd >= 0)
			close(fd);
	}
	ok(chdir("/") == 0, "back in /");
	ok(vault_path_parent_open("/tmp/x", base, sizeof(base), msg, &fd) == 0 &&
	    fstat(fd, &a) == 0 && stat("/tmp", &b) == 0 && a.st_ino == b.st_ino,
	    "parent of /tmp/x is /tmp");
	close(fd);

	/* directories */
	snprintf(d, sizeof(d), "%s/pd", tmproot);
	ok(mkdir(d, 0700) == 0 && (fd = open(d, O_RDONLY | O_DIRECTORY)) >= 0, "a directory of ours");
	is_int(vault_path_check_dir(fd, "vault directory", d, msg), 0, "  is accepted");
	chmod(d, 0770);
	is_int(vault_path_check_dir(fd, "vault directory", d, msg), SV_ERR_INVALID,
	    "  group-writable: refused");
	ok(contains(msg, "can be written by group or others (mode 0770): run 'chmod go-w"),
	    "  the message says how to fix it");
	chmod(d, 0700);
	chmod(tmproot, 0777);
	is_int(vault_path_check_dir(fd, "vault directory", d, msg), SV_ERR_INVALID,
	    "  under a world-writable directory: refused");
	ok(contains(msg, "is under ") && contains(msg, tmproot) && contains(msg, "not sticky"),
	    "  the message names the directory above");
	chmod(tmproot, 01777);
	is_int(vault_path_check_dir(fd, "vault directory", d, msg), 0,
	    "  under a sticky world-writable one: accepted");
	chmod(tmproot, 0700);
	if (root) {
		ok(chown(d, 5601, 5601) == 0, "  handed to uid 5601");
		is_int(vault_path_check_dir(fd, "vault directory", d, msg), SV_ERR_INVALID,
		    "  then refused");
		ok(contains(msg, "belongs to uid 5601"), "  naming the owner");
		is_int(vault_create(d, &o, &v), SV_ERR_INVALID, "vault_create there is refused");
		ok(v == NULL && contains(vault_open_errmsg(), "belongs to uid 5601"),
		    "  with the same message");
		is_int(vault_open(d, &test_schema, &v), SV_ERR_INVALID, "  vault_open too");
		ok(chown(d, 0, 0) == 0, "  given back to root");
	}
	close(fd);

	/* secret files */
	snprintf(f, sizeof(f), "%s/secret", tmproot);
	fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0 && write(fd, "k", 1) == 1 && close(fd) == 0, "a secret file, 0600");
	fd = -1;
	is_int(vault_path_secret_open(f, "key file", msg, &fd), 0, "  is opened");
	ok(fd >= 0 && read(fd, base, 2) == 1, "  and read");
	if (fd >= 0)
		close(fd);
	chmod(f, 0640);
	is_int(vault_path_secret_open(f, "key file", msg, &fd), SV_ERR_INVALID, "  0640: refused");
	ok(contains(msg, "key file") && contains(msg, "(mode 0640): run 'chmod 600"),
	    "  saying 'chmod 600'");
	chmod(f, 0600);
	if (root) {
		ok(chown(f, 5601, 5601) == 0, "  handed to uid 5601");
		is_int(vault_path_secret_open(f, "key file", msg, &fd), SV_ERR_INVALID, "  refused");
		ok(contains(msg, "belongs to uid 5601") && contains(msg, "chown 0"),
		    "  naming its owner and 'chown'");
		ok(chown(f, 0, 0) == 0, "  given back");
	}
	snprintf(l, sizeof(l), "%s/link", tmproot);
	ok(symlink(f, l) == 0, "a symbolic link to it");
	is_int(vault_path_secret_open(l, "passphrase file", msg, &fd), SV_ERR_INVALID, "  is refused");
	ok(contains(msg, "is a symbolic link"), "  saying so");
	is_int(vault_path_secret_open(d, "passphrase file", msg, &fd), SV_ERR_INVALID,
	    "a directory is refused");
	ok(contains(msg, "is not a regular file"), "  as not a regular file");
	snprintf(l, sizeof(l), "%s/fifo", tmproot);
	ok(mkfifo(l, 0600) == 0, "a FIFO");
	is_int(vault_path_secret_open(l, "passphrase file", msg, &fd), SV_ERR_INVALID,
	    "  is refused without waiting for a writer");
	snprintf(l, sizeof(l), "%s/nothing", tmproot);
	is_int(vault_path_secret_open(l, "passphrase file", msg, &fd), SV_ERR_NOT_FOUND,
	    "a missing file: not found");
}

int
main(void)
{
	char *dir;
	struct vault *v;

	if (sodium_init() < 0) {
		printf("Bail out! sodium_init\n");
		return 1;
	}
	snprintf(tmproot, sizeof(tmproot), "/tmp/ssovault-test-vault-XXXXXX");
	if (mkdtemp(tmproot) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_kat_record();
	test_kat_slot();
	test_kat_master_backup();
	test_create_unlock();
	test_create_refusals();
	test_paths();

	dir = new_dir();
	v = make_vault(dir, PASS, NULL);
	ok(v != NULL, "shared vault created");
	if (v != NULL) {
		test_records(v);
		test_tamper(v);
		test_nested(v);
		test_cursor(v);
		test_mac_blob(v);
		test_secret_backup_format(v);
		test_threads(v);
		vault_lock(v);
		{
			uint8_t m[32];
			struct svbuf *b = svbuf_new(0);

			is_int(vault_mac(v, VAULT_KEY_AUDIT, "x", 1, m), SV_ERR_LOCKED, "locked: mac refused");
			is_int(vault_blob_seal(v, VAULT_KEY_TICKETS, NULL, 0, "x", 1, b), SV_ERR_LOCKED,
			    "locked: blob seal refused");
			is_int(vault_secret_rotate(v, NULL, NULL), SV_ERR_LOCKED, "locked: rotate refused");
			is_int(vault_secret_backup(v, "pw", 2, NULL, b), SV_ERR_LOCKED, "locked: secret backup refused");
			svbuf_free(b);
		}
	}
	vault_free(v);
	free(dir);

	test_size_settings();
	test_grow();
	test_grow_held();
	test_grow_other_process();
	test_reserve();
	test_rotate();
	test_rotate_mixed_sizes();
	test_backup_restore();
	test_steps();
	test_scan();
	test_timing();

	nftw(tmproot, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
