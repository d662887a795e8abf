/*
 * fuzz-audit: the audit trail's readers (audit verify, audit list, audit
 * prune in sso/ops/audit.c) over raw audit values written straight into the
 * audit table, as someone with the vault files could.
 *
 * Input: entries of `u8 how | u16 length | value`:
 *   how & 0x80    delete instead of put
 *   how & 0x03    the key: 0 the next sequence after the chain (and on),
 *                 1 the sequence the value's first 8 bytes claim,
 *                 2 an existing record's (how >> 2 picks which; the
 *                   template's trail is pruned to its last AUDIT_KEEP),
 *                 3 the value's first 1..16 bytes as they are
 * The entries are committed, the three operations run through the dispatch
 * as the vault admin, and the table is put back as it was.  Checks: verify
 * succeeds exactly when nothing changed (a forged record would need the
 * audit key), list always answers with a JSON array, and after the table is
 * put back the chain verifies again.  The seeds are made from the template's
 * last record, a record of repeats (format version 2, with its count).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz-common.h"

#define ENTRIES_MAX 32
#define AUDIT_KEEP 4		/* records left in the template's trail */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct svbuf *reply;

struct undo {
	uint8_t key[16];
	size_t klen;
	uint8_t *old;		/* NULL: the key did not exist */
	size_t oldlen;
};

static void
be64(uint64_t v, uint8_t out[8])
{
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int
run(uint8_t op, int with_args, uint64_t a, uint64_t b)
{
	struct svbuf *q = fuzz_req(op);
	int st;

	if (with_args >= 1)
		fuzz_put_u64(q, a);
	if (with_args >= 2)
		fuzz_put_u64(q, b);
	st = fuzz_dispatch(NULL, svbuf_ptr(q), svbuf_len(q), reply);
	svbuf_free(q);
	return st;
}

static void
list_check(uint64_t limit)
{
	const uint8_t *p;
	size_t n, i, records = 0;
	json_t *j, *e;
	int st = run(SSO_OP_AUDIT_LIST, 2, 0, limit);

	FUZZ_CHECK(st == 0, "audit list failed: %d (%s)", st, sv_strerror(st));
	FUZZ_CHECK(fuzz_reply_payload(reply) == 0 &&
	    svbuf_get_string_direct(reply, &p, &n) == 0, "malformed audit list reply");
	/* the CLI reads it without JSON_ALLOW_NUL */
	j = json_loadb((const char *)p, n, 0, NULL);
	FUZZ_CHECK(json_is_array(j), "audit list did not answer a JSON array the CLI can read");
	/* unreadable records are listed as errors beyond the limit */
	json_array_foreach(j, i, e) {
		FUZZ_CHECK(json_is_object(e), "audit list entry %zu is not an object", i);
		if (json_object_get(e, "seq") != NULL)
			records++;
		else
			FUZZ_CHECK(json_is_string(json_object_get(e, "error")),
			    "audit list entry %zu is neither a record nor an error", i);
	}
	FUZZ_CHECK(limit == 0 || records <= limit,
	    "audit list gave %zu records, limit %llu", records, (unsigned long long)limit);
	json_decref(j);
}

static void
seed(const char *name, uint8_t how, const uint8_t *v, size_t len)
{
	uint8_t *p = malloc(len + 3);

	if (p == NULL)
		fuzz_die("out of memory");
	p[0] = how;
	p[1] = (uint8_t)(len >> 8);
	p[2] = (uint8_t)len;
	memcpy(p + 3, v, len);
	fuzz_seed(name, p, len + 3);
	free(p);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vault_txn *t = NULL;
	struct svbuf *q;
	const uint8_t *v;
	uint8_t k[8], *copy;
	size_t vl;

	(void)argc;
	(void)argv;
	fuzz_init();
	if ((reply = svbuf_new_secure(0)) == NULL)
		fuzz_die("out of memory");
	/*
	 * A short trail: every input lists it twice, and listing is most of
	 * the time.  The prune leaves an anchor, so the pruned chain is what
	 * the fuzzed records are checked against.
	 */
	q = fuzz_req(SSO_OP_AUDIT_PRUNE);
	fuzz_put_u64(q, AUDIT_KEEP);
	FUZZ_CHECK(fuzz_dispatch_commit(NULL, svbuf_ptr(q), svbuf_len(q), reply) == 0,
	    "cannot prune the template's audit trail");
	svbuf_free(q);
	fuzz_template_save();
	FUZZ_CHECK(run(SSO_OP_AUDIT_VERIFY, 0, 0, 0) == 0, "the new chain does not verify");
	/* seeds: real records, put back as they are, moved, appended again */
	be64(fuzz.audit_last, k);
	if (vault_txn_begin(fuzz_vault(), 0, &t) != 0 ||
	    vault_raw_get(t, SSO_TABLE_AUDIT, k, 8, &v, &vl) != 0 || vl > 65535 ||
	    (copy = malloc(vl)) == NULL)
		fuzz_die("cannot read the last audit record");
	memcpy(copy, v, vl);
	vault_txn_abort(t);
	seed("same-last", 0x01, copy, vl);
	seed("append-copy", 0x00, copy, vl);
	seed("overwrite-first", 0x02, copy, vl);
	seed("delete-second", 0x80 | 0x02 | 0x04, copy, 0);
	copy[vl / 2] ^= 1;
	seed("flip-last", 0x01, copy, vl);
	free(copy);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct undo u[ENTRIES_MAX];
	struct vault_txn *t = NULL;
	const uint8_t *old, *val;
	size_t nu = 0, off = 0, len, ol, i, j;
	uint8_t how;
	int changed = 0, r, st;

	if (vault_txn_begin(fuzz_vault(), 1, &t) != 0)
		fuzz_die("cannot begin a write transaction");
	while (off + 3 <= size && nu < ENTRIES_MAX) {
		how = data[off];
		len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		val = data + off;
		off += len;

		memset(&u[nu], 0, sizeof(u[nu]));
		switch (how & 3) {
		case 0:
			be64(fuzz.audit_last + 1 + nu, u[nu].key);
			u[nu].klen = 8;
			break;
		case 1:
			if (len < 8)
				continue;
			memcpy(u[nu].key, val, 8);
			u[nu].klen = 8;
			break;
		case 2:
			be64(fuzz.audit_first + (uint64_t)(how >> 2) %
			    (fuzz.audit_last - fuzz.audit_first + 1), u[nu].key);
			u[nu].klen = 8;
			break;
		default:
			if (len == 0)
				continue;
			u[nu].klen = len < 16 ? len : 16;
			memcpy(u[nu].key, val, u[nu].klen);
			break;
		}
		r = vault_raw_get(t, SSO_TABLE_AUDIT, u[nu].key, u[nu].klen, &old, &ol);
		if (r == 0) {
			if ((u[nu].old = malloc(ol == 0 ? 1 : ol)) == NULL)
				fuzz_die("out of memory");
			memcpy(u[nu].old, old, ol);
			u[nu].oldlen = ol;
		} else if (r != SV_ERR_NOT_FOUND) {
			continue;
		}
		if (how & 0x80)
			r = u[nu].old != NULL ?
			    vault_raw_del(t, SSO_TABLE_AUDIT, u[nu].key, u[nu].klen) : 1;
		else
			r = vault_raw_put(t, SSO_TABLE_AUDIT, u[nu].key, u[nu].klen, val, len, 0);
		if (r != 0) {
			free(u[nu].old);
			continue;
		}
		nu++;
	}
	/* changed: some key's final value differs from what it was at first */
	for (i = 0; i < nu && !changed; i++) {
		for (j = 0; j < i; j++)
			if (u[j].klen == u[i].klen && memcmp(u[j].key, u[i].key, u[i].klen) == 0)
				break;
		if (j < i)
			continue;
		r = vault_raw_get(t, SSO_TABLE_AUDIT, u[i].key, u[i].klen, &old, &ol);
		if (r != 0 && r != SV_ERR_NOT_FOUND)
			fuzz_die("cannot read the audit table: %s", sv_strerror(r));
		if ((r == 0) != (u[i].old != NULL) ||
		    (r == 0 && (ol != u[i].oldlen || memcmp(old, u[i].old, ol) != 0)))
			changed = 1;
	}
	if (vault_txn_commit(t) != 0)
		fuzz_die("cannot commit the audit entries");

	st = run(SSO_OP_AUDIT_VERIFY, 0, 0, 0);
	if (changed)
		FUZZ_CHECK(st != 0, "audit verify passed a chain that was changed");
	else
		FUZZ_CHECK(st == 0, "audit verify failed on an unchanged chain: %d", st);
	list_check(0);
	list_check(1 + (size > 0 ? data[0] % 8 : 0));
	(void)run(SSO_OP_AUDIT_PRUNE, 1, size > 1 ? data[1] % 16 : 2, 0);
	fuzz_input_done();

	/* put the table back, newest change first */
	if (vault_txn_begin(fuzz_vault(), 1, &t) != 0)
		fuzz_die("cannot begin a write transaction");
	for (i = nu; i-- > 0;) {
		r = u[i].old != NULL ?
		    vault_raw_put(t, SSO_TABLE_AUDIT, u[i].key, u[i].klen, u[i].old, u[i].oldlen, 0) :
		    vault_raw_del(t, SSO_TABLE_AUDIT, u[i].key, u[i].klen);
		if (r != 0 && r != SV_ERR_NOT_FOUND)
			fuzz_die("cannot put the audit table back: %s", sv_strerror(r));
		free(u[i].old);
	}
	if (vault_txn_commit(t) != 0)
		fuzz_die("cannot commit the audit table's restoration");
	if (changed && fuzz.inputs % 64 == 0)
		FUZZ_CHECK(run(SSO_OP_AUDIT_VERIFY, 0, 0, 0) == 0,
		    "the chain does not verify after the table was put back");
	return 0;
}
