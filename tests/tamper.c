/*
 * tamper: alter a vault's LMDB file directly, as an attacker with write
 * access to the files would, so tests can check that each kind of change is
 * caught.  Not installed.
 *
 *   tamper DIR TABLE flip KEY          flip a bit in the value's last byte
 *   tamper DIR TABLE copy KEY KEY2     store KEY's value under KEY2 too
 *   tamper DIR TABLE move KEY TABLE2   store KEY's value in TABLE2 (same key)
 *   tamper DIR TABLE swap KEY KEY2     exchange two values
 *   tamper DIR TABLE del KEY           delete an entry
 *   tamper DIR TABLE keys              print the keys, one per line
 *
 * KEY is text, or seq:N for an audit sequence number (8 bytes big-endian).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

static MDB_env *env;
static MDB_txn *txn;

static void
die(const char *what, int rc)
{
	fprintf(stderr, "tamper: %s: %s\n", what, mdb_strerror(rc));
	exit(1);
}

static MDB_val
key_of(const char *s, unsigned char buf[8])
{
	MDB_val k;
	unsigned long long n;
	int i;

	if (strncmp(s, "seq:", 4) == 0) {
		n = strtoull(s + 4, NULL, 10);
		for (i = 0; i < 8; i++)
			buf[i] = (unsigned char)(n >> (56 - 8 * i));
		k.mv_data = buf;
		k.mv_size = 8;
	} else {
		k.mv_data = (void *)s;
		k.mv_size = strlen(s);
	}
	return k;
}

static MDB_dbi
table(const char *name)
{
	MDB_dbi d;
	int rc;

	if ((rc = mdb_dbi_open(txn, name, 0, &d)) != 0)
		die(name, rc);
	return d;
}

int
main(int argc, char **argv)
{
	unsigned char b1[8], b2[8];
	MDB_val k, k2, v, v2;
	MDB_dbi d;
	void *copy = NULL, *copy2 = NULL;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: tamper DIR TABLE flip|copy|move|swap|del|keys [KEY [KEY2|TABLE2]]\n");
		return 2;
	}
	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 16)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, 1UL << 30)) != 0 ||
	    (rc = mdb_env_open(env, argv[1], 0, 0600)) != 0)
		die("open", rc);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		die("txn", rc);
	d = table(argv[2]);
	if (strcmp(argv[3], "keys") == 0) {
		MDB_cursor *c;
		size_t i;

		mdb_cursor_open(txn, d, &c);
		while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
			for (i = 0; i < k.mv_size; i++) {
				unsigned char ch = ((unsigned char *)k.mv_data)[i];

				if (ch >= 0x20 && ch < 0x7f)
					putchar(ch);
				else
					printf("\\x%02x", ch);
			}
			putchar('\n');
		}
		mdb_cursor_close(c);
		mdb_txn_abort(txn);
		return 0;
	}
	if (argc < 5)
		return 2;
	k = key_of(argv[4], b1);
	if ((rc = mdb_get(txn, d, &k, &v)) != 0)
		die(argv[4], rc);
	if ((copy = malloc(v.mv_size)) == NULL)
		return 1;
	memcpy(copy, v.mv_data, v.mv_size);
	v.mv_data = copy;
	if (strcmp(argv[3], "flip") == 0) {
		((unsigned char *)copy)[v.mv_size - 1] ^= 1;
		rc = mdb_put(txn, d, &k, &v, 0);
	} else if (strcmp(argv[3], "del") == 0) {
		rc = mdb_del(txn, d, &k, NULL);
	} else if (argc >= 6 && strcmp(argv[3], "copy") == 0) {
		k2 = key_of(argv[5], b2);
		rc = mdb_put(txn, d, &k2, &v, 0);
	} else if (argc >= 6 && strcmp(argv[3], "move") == 0) {
		rc = mdb_put(txn, table(argv[5]), &k, &v, 0);
	} else if (argc >= 6 && strcmp(argv[3], "swap") == 0) {
		k2 = key_of(argv[5], b2);
		if ((rc = mdb_get(txn, d, &k2, &v2)) != 0)
			die(argv[5], rc);
		if ((copy2 = malloc(v2.mv_size)) == NULL)
			return 1;
		memcpy(copy2, v2.mv_data, v2.mv_size);
		v2.mv_data = copy2;
		if ((rc = mdb_put(txn, d, &k, &v2, 0)) == 0)
			rc = mdb_put(txn, d, &k2, &v, 0);
	} else {
		fprintf(stderr, "tamper: unknown operation %s\n", argv[3]);
		return 2;
	}
	if (rc != 0)
		die(argv[3], rc);
	if ((rc = mdb_txn_commit(txn)) != 0)
		die("commit", rc);
	mdb_env_close(env);
	free(copy);
	free(copy2);
	return 0;
}
