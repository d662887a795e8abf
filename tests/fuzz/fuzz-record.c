/*
 * fuzz-record: the vault's own decoders of stored bytes, which someone
 * with the vault files (or a backup file) controls.
 *
 * Input: u8 mode | bytes.  mode % 6:
 *   0  a sealed record: the bytes are written raw (vault_raw_put) in place
 *      of a real record (mode / 6 % 4 picks: an app, the roles, a mapping,
 *      a certificate), then read with vault_record_get() and through a
 *      cursor with vault_cursor_unseal(); the write is rolled back
 *   1  vault_secret_backup_hint() on the bytes as a backup file
 *   2  vault_secret_restore() of the bytes with the right backup password
 *   3  unlock slots ("vault.slots") through vault_keys_slots_decode(); key
 *      slots are tried with the vault's key file
 *   4  the wrapped master secret through vault_keys_master_unwrap() with
 *      the vault's root key
 *   5  vault_keys_peek() and vault_keys_open() of any sealed blob
 * Checks: only the exact bytes the vault wrote open (a record, a restore,
 * the master secret) and they give the original back; a decoded slot list
 * encodes back to the same bytes; hints are printable; every failure is
 * one of the documented errors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz-common.h"
#include "keys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct target {
	enum sso_table tab;
	char key[VAULT_SHA1_HEX + SSO_PRINCIPAL_MAX + 16];
	size_t klen;
	uint8_t *sealed;	/* the record as stored */
	size_t slen;
	struct svbuf *plain;	/* and opened */
};

static struct target targets[4];
static uint8_t master_blob[VAULT_KEYS_HEADER_BYTES + 64];
static size_t master_len;

static void
target_load(struct target *tg, enum sso_table tab, const void *key, size_t klen)
{
	struct vault_txn *t = NULL;
	const uint8_t *p;
	size_t n;

	tg->tab = tab;
	memcpy(tg->key, key, klen);
	tg->klen = klen;
	if (vault_txn_begin(fuzz_vault(), 0, &t) != 0 ||
	    vault_raw_get(t, tab, key, klen, &p, &n) != 0 ||
	    (tg->sealed = malloc(n)) == NULL)
		fuzz_die("cannot read the %s record", vault_table_name(fuzz_vault(), tab));
	memcpy(tg->sealed, p, n);
	tg->slen = n;
	if (vault_record_get(t, tab, key, klen, &tg->plain) != 0)
		fuzz_die("cannot open the %s record", vault_table_name(fuzz_vault(), tab));
	vault_txn_abort(t);
}

static void
seed(const char *name, uint8_t mode, const void *p, size_t len)
{
	uint8_t *b = malloc(len + 1);

	if (b == NULL)
		fuzz_die("out of memory");
	b[0] = mode;
	memcpy(b + 1, p, len);
	fuzz_seed(name, b, len + 1);
	free(b);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct vault_keys *k;
	struct svbuf *b;
	char mkey[SSO_NAME_MAX + 1 + SSO_PRINCIPAL_MAX];
	size_t n;
	struct vault_slot slot;
	static const char *const names[] = { "record-app", "record-roles", "record-mapping",
	    "record-cert" };
	int i;

	(void)argc;
	(void)argv;
	fuzz_init();
	target_load(&targets[0], SSO_TABLE_APPS, "payroll", 7);
	target_load(&targets[1], SSO_TABLE_META, "roles", 5);
	n = (size_t)snprintf(mkey, sizeof(mkey), "payroll%c%s", '\0', fuzz.self);
	target_load(&targets[2], SSO_TABLE_MAPPINGS, mkey, n);
	target_load(&targets[3], SSO_TABLE_CERTS, fuzz.sha1, VAULT_SHA1_HEX);
	for (i = 0; i < 4; i++)
		seed(names[i], (uint8_t)(6 * i), targets[i].sealed, targets[i].slen);

	seed("backup-hint", 1, fuzz.backup, fuzz.backup_len);
	seed("backup-restore", 2, fuzz.backup, fuzz.backup_len);

	/* slots and the master blob, made like the vault makes them */
	if ((k = vault_keys_of(fuzz_vault())) == NULL || (b = svbuf_new(0)) == NULL)
		fuzz_die("no keys");
	memset(&slot, 0, sizeof(slot));
	slot.type = VAULT_SLOT_KEY;
	if (vault_keys_slot_make(&slot, vault_id(fuzz_vault()), fuzz.key, sizeof(fuzz.key),
	    NULL, NULL, k->root) != 0 || vault_keys_slots_encode(&slot, 1, b) != 0)
		fuzz_die("cannot make a slot");
	seed("slots-key", 3, svbuf_ptr(b), svbuf_len(b));
	svbuf_reset(b);
	if (vault_keys_master_wrap(k->root, vault_id(fuzz_vault()), k->epoch, k->master,
	    NULL, b) != 0 || svbuf_len(b) > sizeof(master_blob))
		fuzz_die("cannot wrap the master secret");
	memcpy(master_blob, svbuf_ptr(b), svbuf_len(b));
	master_len = svbuf_len(b);
	seed("master", 4, master_blob, master_len);
	seed("sealed", 5, targets[0].sealed, targets[0].slen);
	svbuf_free(b);
	return 0;
}

static int
same(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static void
opened_check(const struct target *tg, int r, struct svbuf *plain,
    const uint8_t *data, size_t size, const char *how)
{
	if (r == 0) {
		FUZZ_CHECK(same(data, size, tg->sealed, tg->slen),
		    "%s: bytes that the vault did not write opened as %s", how,
		    vault_table_name(fuzz_vault(), tg->tab));
		FUZZ_CHECK(same(svbuf_ptr(plain), svbuf_len(plain), svbuf_ptr(tg->plain),
		    svbuf_len(tg->plain)), "%s: the record opened to other bytes", how);
	} else {
		FUZZ_CHECK(r == SV_ERR_INTEGRITY, "%s: error %d (%s), not 'integrity'", how, r,
		    sv_strerror(r));
	}
	svbuf_free(plain);
}

static void
sealed_record(unsigned which, const uint8_t *data, size_t size)
{
	const struct target *tg = &targets[which];
	struct vault_cursor *c = NULL;
	struct vault_txn *t = NULL;
	struct svbuf *plain = NULL;
	const uint8_t *k, *v;
	size_t kl, vl;
	int r;

	if (vault_txn_begin(fuzz_vault(), 1, &t) != 0)
		fuzz_die("cannot begin a write transaction");
	if (vault_raw_put(t, tg->tab, tg->key, tg->klen, data, size, 0) != 0) {
		vault_txn_abort(t);
		return;
	}
	r = vault_record_get(t, tg->tab, tg->key, tg->klen, &plain);
	opened_check(tg, r, plain, data, size, "vault_record_get");
	plain = NULL;
	if (vault_cursor_open(t, tg->tab, &c) != 0)
		fuzz_die("cannot open a cursor");
	r = vault_cursor_seek(c, tg->key, tg->klen, &k, &kl, &v, &vl);
	FUZZ_CHECK(r == 1 && same(k, kl, tg->key, tg->klen) && same(v, vl, data, size),
	    "the cursor does not find the record just written");
	r = vault_cursor_unseal(c, k, kl, v, vl, &plain);
	opened_check(tg, r, plain, data, size, "vault_cursor_unseal");
	vault_cursor_close(c);
	vault_txn_abort(t);
}

static void
backup_hint(const uint8_t *data, size_t size)
{
	char *hint = NULL;
	size_t i;
	int r = vault_secret_backup_hint(data, size, &hint);

	if (r == 0) {
		FUZZ_CHECK(strlen(hint) <= VAULT_KEYS_HINT_MAX, "a hint of %zu bytes", strlen(hint));
		for (i = 0; hint[i] != '\0'; i++)
			FUZZ_CHECK((unsigned char)hint[i] >= 0x20 && hint[i] != 0x7f,
			    "the hint holds control character 0x%02x", (unsigned char)hint[i]);
		free(hint);
	} else {
		FUZZ_CHECK(r == SV_ERR_BAD_FORMAT || r == SV_ERR_INVALID,
		    "backup hint: error %d (%s)", r, sv_strerror(r));
	}
}

static void
restore(const uint8_t *data, size_t size)
{
	int r;

	r = vault_secret_restore(fuzz_vault(), data, size, FUZZ_BACKUP_PW,
	    strlen(FUZZ_BACKUP_PW), NULL, 0, fuzz.key);
	if (r == 0) {
		FUZZ_CHECK(same(data, size, fuzz.backup, fuzz.backup_len),
		    "a backup that the vault did not write was restored");
		/* it replaced the unlock slots: start again from the template */
		fuzz.dirty = 1;
	} else {
		FUZZ_CHECK(r == SV_ERR_BAD_FORMAT || r == SV_ERR_WRONG_KEY ||
		    r == SV_ERR_CONFLICT || r == SV_ERR_NOMEM || r == SV_ERR_VERSION,
		    "secret restore: error %d (%s): %s", r, sv_strerror(r),
		    vault_errmsg(fuzz_vault()));
	}
}

static void
slots(const uint8_t *data, size_t size)
{
	const struct vault_keys *k = vault_keys_of(fuzz_vault());
	struct vault_slot *s = NULL;
	uint8_t root[VAULT_KEYS_KEY_BYTES];
	struct svbuf *b;
	size_t n = 0, i;
	char msg[SV_MSG_MAX];
	int r;

	msg[0] = '\0';
	r = vault_keys_slots_decode(data, size, &s, &n, msg);
	if (r != 0) {
		FUZZ_CHECK(r == SV_ERR_BAD_FORMAT || r == SV_ERR_VERSION || r == SV_ERR_NOMEM,
		    "slots decode: error %d (%s)", r, sv_strerror(r));
		FUZZ_CHECK(msg[0] != '\0' || r == SV_ERR_NOMEM, "slots decode: no message");
		return;
	}
	FUZZ_CHECK(n >= 1 && n <= VAULT_KEYS_MAX_SLOTS, "%zu slots decoded", n);
	if ((b = svbuf_new(0)) == NULL)
		fuzz_die("out of memory");
	FUZZ_CHECK(vault_keys_slots_encode(s, n, b) == 0 &&
	    same(svbuf_ptr(b), svbuf_len(b), data, size),
	    "decoded slots do not encode back to the same bytes");
	svbuf_free(b);
	for (i = 0; i < n; i++) {
		if (s[i].type != VAULT_SLOT_KEY)
			continue;
		r = vault_keys_slot_open(&s[i], vault_id(fuzz_vault()), fuzz.key,
		    sizeof(fuzz.key), root);
		if (r == 0)
			FUZZ_CHECK(sodium_memcmp(root, k->root, sizeof(root)) == 0,
			    "a key slot opened to another root key");
		else
			FUZZ_CHECK(r == SV_ERR_WRONG_KEY, "slot open: error %d (%s)", r,
			    sv_strerror(r));
	}
	sodium_memzero(root, sizeof(root));
	free(s);
}

static void
master(const uint8_t *data, size_t size)
{
	const struct vault_keys *k = vault_keys_of(fuzz_vault());
	uint8_t m[VAULT_KEYS_KEY_BYTES];
	uint32_t epoch = 0;
	int r;

	r = vault_keys_master_unwrap(k->root, vault_id(fuzz_vault()), data, size, m, &epoch, NULL);
	if (r == 0)
		FUZZ_CHECK(sodium_memcmp(m, k->master, sizeof(m)) == 0 && epoch == k->epoch,
		    "bytes unwrapped to another master secret");
	else
		FUZZ_CHECK(r == SV_ERR_WRONG_KEY || r == SV_ERR_INTEGRITY,
		    "master unwrap: error %d (%s)", r, sv_strerror(r));
	sodium_memzero(m, sizeof(m));
}

static void
sealed_blob(const uint8_t *data, size_t size)
{
	const struct vault_keys *k = vault_keys_of(fuzz_vault());
	struct svbuf *plain = NULL;
	uint32_t epoch;
	int r;

	if (vault_keys_peek(data, size, &epoch) == 0)
		FUZZ_CHECK(size >= VAULT_KEYS_HEADER_BYTES, "peeked into %zu bytes", size);
	r = vault_keys_open(k->records, k->epoch, "fuzz", 4, data, size, &plain, NULL);
	FUZZ_CHECK(r == SV_ERR_INTEGRITY, "a blob sealed with other associated data opened: %d", r);
	svbuf_free(plain);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	switch (mode % 6) {
	case 0:
		sealed_record((mode / 6) % 4, data, size);
		break;
	case 1:
		backup_hint(data, size);
		break;
	case 2:
		restore(data, size);
		break;
	case 3:
		slots(data, size);
		break;
	case 4:
		master(data, size);
		break;
	default:
		sealed_blob(data, size);
		break;
	}
	fuzz_input_done();
	return 0;
}
