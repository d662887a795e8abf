/*
 * test-conformance-pg.c: the storage conformance suite (conformance.c) run
 * against the PostgreSQL backend (pg.c), on the database SSOVAULT_TEST_PG
 * names (tests/pg/with-pg.sh gives one), each store in a schema of its own
 * (the URI's options=-csearch_path=...).  Also: a URI holding a password
 * or PGPASSWORD in the environment is refused without a connection, and the
 * message shows no password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "tap.h"
#include "store/conformance.h"

struct schemas {
	const char *base;
	char uris[24][512];
	unsigned n;
};

static int
sql(const char *base, const char *q)
{
	PGconn *c = PQconnectdb(base);
	PGresult *r;
	int ok;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "# %s", PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	r = PQexec(c, q);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "# %s", PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
}

/* A fresh schema per store, as a new database would be. */
static int
schema_new(void *ctx, struct vault_store_loc *ret)
{
	struct schemas *d = ctx;
	char q[128];

	if (d->n >= 24)
		return -1;
	snprintf(q, sizeof(q), "CREATE SCHEMA conf_%u", d->n);
	if (sql(d->base, q) != 0)
		return -1;
	snprintf(d->uris[d->n], sizeof(d->uris[0]), "%s%coptions=-csearch_path%%3Dconf_%u",
	    d->base, strchr(d->base, '?') != NULL ? '&' : '?', d->n);
	ret->dirfd = -1;
	ret->path = d->uris[d->n];
	d->n++;
	return 0;
}

static void
schema_free(void *ctx, struct vault_store_loc *loc)
{
	struct schemas *d = ctx;
	const char *p = strstr(loc->path, "search_path%3D");
	char q[128];

	if (p == NULL)
		return;
	snprintf(q, sizeof(q), "DROP SCHEMA %s CASCADE", p + strlen("search_path%3D"));
	if (sql(d->base, q) != 0)
		fprintf(stderr, "# could not drop %s\n", p);
}

/* The first column of the first row of q, as a number; -1 on failure. */
static long long
sql_num(const char *base, const char *q)
{
	PGconn *c = PQconnectdb(base);
	PGresult *r;
	long long n = -1;

	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, q);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		else
			fprintf(stderr, "# %s", PQerrorMessage(c));
		PQclear(r);
	}
	PQfinish(c);
	return n;
}

/*
 * n new keys in one transaction, deferred or not; the statements that
 * inserted into the records table, as the server counted them (a trigger
 * FOR EACH STATEMENT), or -1.
 */
static long long
statements_for(struct vault_store *s, const char *base, const char *schema, int n,
    unsigned flags, int first)
{
	struct vault_store_txn *t = NULL;
	char q[128], k[16];
	int i, r = 0;

	snprintf(q, sizeof(q), "UPDATE %s.stmts SET n = 0", schema);
	if (sql(base, q) != 0 || vault_store_txn_begin(s, NULL, 1, &t) != 0)
		return -1;
	for (i = 0; r == 0 && i < n; i++) {
		snprintf(k, sizeof(k), "%08d", first + i);
		r = vault_store_put(t, 0, k, strlen(k), "an audit record", 15, flags);
	}
	if (r != 0) {
		vault_store_txn_abort(t);
		return -1;
	}
	if (vault_store_txn_commit(t) != 0)
		return -1;
	snprintf(q, sizeof(q), "SELECT n FROM %s.stmts", schema);
	return sql_num(base, q);
}

/*
 * Deferred puts go to the server together: a transaction of 500 new keys
 * is one INSERT, counted by the server, where puts one by one are 500.
 * And one whose key exists fails the commit with a message that says so.
 */
static void
check_defer_statements(struct schemas *d, const struct vault_store_conf *conf)
{
	struct vault_store_loc loc = { -1, NULL };
	struct vault_store *s = NULL;
	struct vault_store_txn *t = NULL;
	char msg[SV_MSG_MAX], schema[32], q[1024];
	long long one, each;

	if (schema_new(d, &loc) != 0 ||
	    vault_store_create(&vault_store_pg, &loc, conf, msg, &s) != 0) {
		ok(0, "a store for counting statements");
		return;
	}
	snprintf(schema, sizeof(schema), "conf_%u", d->n - 1);
	snprintf(q, sizeof(q), "CREATE TABLE %s.stmts (n int); "
	    "INSERT INTO %s.stmts VALUES (0); "
	    "CREATE FUNCTION %s.count_stmt() RETURNS trigger LANGUAGE plpgsql AS "
	    "$$BEGIN UPDATE %s.stmts SET n = n + 1; RETURN NULL; END$$; "
	    "CREATE TRIGGER count_stmt AFTER INSERT ON %s.ssovault_records "
	    "FOR EACH STATEMENT EXECUTE FUNCTION %s.count_stmt()", schema, schema, schema,
	    schema, schema, schema);
	ok(sql(d->base, q) == 0, "a trigger counts the statements that insert records");
	each = statements_for(s, d->base, schema, 500, VAULT_STORE_NOOVERWRITE, 0);
	is_int((int)each, 500, "500 new keys put one by one: 500 statements (the count works)");
	one = statements_for(s, d->base, schema, 500,
	    VAULT_STORE_NOOVERWRITE | VAULT_STORE_DEFER, 1000);
	is_int((int)one, 1, "500 new keys deferred: one statement");
	ok(vault_store_txn_begin(s, NULL, 1, &t) == 0 &&
	    vault_store_put(t, 0, "00001000", 8, "again", 5,
	    VAULT_STORE_NOOVERWRITE | VAULT_STORE_DEFER) == 0, "a deferred put of a key "
	    "that exists is held");
	is_int(vault_store_txn_commit(t), SV_ERR_EXISTS, "the commit fails: exists");
	ok(strstr(msg, "already exists") != NULL && strstr(msg, "nothing of the "
	    "transaction is kept") != NULL, "and says so: %s", msg);
	vault_store_close(s);
	schema_free(d, &loc);
}

/*
 * Another connection that holds the records table of the last schema made
 * locked until it is finished: a read of the store that goes to the
 * database waits there (for its deadline); one from the cache does not.
 */
static PGconn *
records_locked(struct schemas *d)
{
	PGconn *c = PQconnectdb(d->base);
	PGresult *res;
	char q[128];

	snprintf(q, sizeof(q), "BEGIN; LOCK TABLE conf_%u.ssovault_records IN ACCESS "
	    "EXCLUSIVE MODE", d->n - 1);
	res = PQexec(c, q);
	ok(PQresultStatus(res) == PGRES_COMMAND_OK, "another connection locks the records");
	PQclear(res);
	return c;
}

/*
 * A transaction of many new keys (an audit fold) does not shut lookups out
 * of the cache: after 25,000 deferred puts (in transactions of 200, as
 * folds of the journal of reads are), a key read once is read again
 * from the cache, while another connection holds the records table locked
 * (a read that went to the database would wait there for its deadline).
 */
static void
check_cache_after_many(struct schemas *d, const struct vault_store_conf *conf)
{
	struct vault_store_loc loc = { -1, NULL };
	struct vault_store *s = NULL;
	struct vault_store_txn *t = NULL;
	const uint8_t *p;
	size_t n;
	char msg[SV_MSG_MAX], k[16];
	PGconn *lock = NULL;
	int i, r = 0;

	if (schema_new(d, &loc) != 0 ||
	    vault_store_create(&vault_store_pg, &loc, conf, msg, &s) != 0) {
		ok(0, "a store for the cache check");
		return;
	}
	ok(vault_store_txn_begin(s, NULL, 1, &t) == 0 &&
	    vault_store_put(t, 0, "looked-up", 9, "value", 5, 0) == 0 &&
	    vault_store_txn_commit(t) == 0, "a key to look up");
	/* a first read: the cache is live (it notes what this process writes) */
	ok(vault_store_txn_begin(s, NULL, 0, &t) == 0 &&
	    vault_store_get(t, 0, "other", 5, &p, &n) == SV_ERR_NOT_FOUND, "a first read");
	vault_store_txn_abort(t);
	for (i = 0; r == 0 && i < 25000; i++) {
		/* folds of 200: small enough that the store notes each key */
		if (i % 200 == 0 && (r = vault_store_txn_begin(s, NULL, 1, &t)) != 0)
			break;
		snprintf(k, sizeof(k), "a%08d", i);
		r = vault_store_put(t, 0, k, strlen(k), "an audit record", 15,
		    VAULT_STORE_NOOVERWRITE | VAULT_STORE_DEFER);
		if (r != 0)
			vault_store_txn_abort(t);
		else if (i % 200 == 199)
			r = vault_store_txn_commit(t);
	}
	ok(r == 0, "25,000 new keys deferred, in 125 transactions");
	ok(vault_store_txn_begin(s, NULL, 0, &t) == 0 &&
	    vault_store_get(t, 0, "looked-up", 9, &p, &n) == 0 && n == 5, "read once");
	vault_store_txn_abort(t);
	lock = records_locked(d);
	r = vault_store_txn_begin(s, NULL, 0, &t);
	if (r == 0)
		r = vault_store_get(t, 0, "looked-up", 9, &p, &n);
	ok(r == 0 && n == 5 && memcmp(p, "value", 5) == 0,
	    "read again from the cache, not the locked table (%d)", r);
	vault_store_txn_abort(t);
	PQfinish(lock);
	vault_store_close(s);
	schema_free(d, &loc);
}

/* Put k = v in one write transaction of s. */
static int
put_one(struct vault_store *s, const char *k, const char *v)
{
	struct vault_store_txn *t = NULL;

	if (vault_store_txn_begin(s, NULL, 1, &t) != 0)
		return -1;
	if (vault_store_put(t, 0, k, strlen(k), v, strlen(v), 0) != 0) {
		vault_store_txn_abort(t);
		return -1;
	}
	return vault_store_txn_commit(t);
}

/* 1 if t reads k as v (NULL: absent), 0 if not, -SV_ERR_* on an error */
static int
reads(struct vault_store_txn *t, const char *k, const char *v)
{
	const uint8_t *p;
	size_t n;
	int r = vault_store_get(t, 0, k, strlen(k), &p, &n);

	if (r == SV_ERR_NOT_FOUND)
		return v == NULL;
	if (r != 0)
		return r < 0 ? r : -r;
	return v != NULL && n == strlen(v) && memcmp(p, v, n) == 0;
}

/* Two hosts: two stores on one new schema (msg buffers kept for their life). */
struct hosts {
	struct vault_store_loc loc;
	struct vault_store *a, *b;
	char msg[SV_MSG_MAX], msg2[SV_MSG_MAX];
};

static int
hosts_open(struct schemas *d, const struct vault_store_conf *conf, struct hosts *h)
{
	memset(h, 0, sizeof(*h));
	h->loc.dirfd = -1;
	if (schema_new(d, &h->loc) != 0 ||
	    vault_store_create(&vault_store_pg, &h->loc, conf, h->msg, &h->a) != 0 ||
	    vault_store_open(&vault_store_pg, &h->loc, conf, h->msg2, &h->b) != 0) {
		ok(0, "two stores on one database");
		return -1;
	}
	return 0;
}

static void
hosts_close(struct schemas *d, struct hosts *h)
{
	vault_store_close(h->a);
	vault_store_close(h->b);
	schema_free(d, &h->loc);
}

/*
 * Two hosts (two stores on one database): a write transaction on host A,
 * after host B wrote, learns B's changes when it takes the lock, so that
 * it reads a key nobody changed from A's cache (here while another
 * connection holds the records table locked: a read that went to the
 * database would wait there for its deadline), and the key B changed
 * from the database: B's value, not the one A had cached; and a key A
 * knew as absent, once B added it in a deferred put.
 */
static void
check_write_learns(struct schemas *d, const struct vault_store_conf *conf)
{
	struct hosts h;
	struct vault_store *a, *b;
	struct vault_store_txn *t = NULL;
	PGconn *lock = NULL;
	int r;

	if (hosts_open(d, conf, &h) != 0)
		return;
	a = h.a;
	b = h.b;
	ok(put_one(a, "x", "1") == 0 && put_one(a, "y", "1") == 0, "host A writes x and y");
	ok(vault_store_txn_begin(a, NULL, 0, &t) == 0 && reads(t, "x", "1") == 1 &&
	    reads(t, "y", "1") == 1, "host A reads them (its cache keeps them)");
	vault_store_txn_abort(t);
	ok(put_one(b, "y", "2") == 0, "host B changes y");
	lock = records_locked(d);
	t = NULL;
	r = vault_store_txn_begin(a, NULL, 1, &t);
	if (r == 0)
		r = reads(t, "x", "1");
	is_int(r, 1, "host A's next write transaction reads x from its cache");
	PQfinish(lock);		/* the lock goes */
	ok(t != NULL && reads(t, "y", "2") == 1, "and y as host B left it");
	vault_store_txn_abort(t);
	/* a key host A knows as absent, added by host B in a deferred put */
	ok(vault_store_txn_begin(a, NULL, 0, &t) == 0 && reads(t, "new", NULL) == 1,
	    "host A reads a key that is not there (its cache keeps that)");
	vault_store_txn_abort(t);
	t = NULL;
	ok(vault_store_txn_begin(b, NULL, 1, &t) == 0 &&
	    vault_store_put(t, 0, "new", 3, "3", 1,
	    VAULT_STORE_NOOVERWRITE | VAULT_STORE_DEFER) == 0 &&
	    vault_store_txn_commit(t) == 0, "host B adds it, deferred (a row of changes "
	    "with no key)");
	t = NULL;
	ok(vault_store_txn_begin(a, NULL, 1, &t) == 0 && reads(t, "new", "3") == 1,
	    "host A's next write transaction reads it");
	vault_store_txn_abort(t);
	t = NULL;
	ok(vault_store_txn_begin(a, NULL, 0, &t) == 0 && reads(t, "new", "3") == 1,
	    "and so does its next read");
	vault_store_txn_abort(t);
	hosts_close(d, &h);
}

/*
 * The version a memo of answers keys on: a read begun now has the store's
 * version; a write on this host gives a new one, and so does one on
 * another host once this one has seen it (here by taking the write lock,
 * which brings the cache to the database's generation); a write
 * transaction has none.
 */
static void
check_versions(struct schemas *d, const struct vault_store_conf *conf)
{
	struct hosts h;
	struct vault_store *a, *b;
	struct vault_store_txn *t = NULL;
	uint64_t v0 = 0, v1 = 0, v2 = 0, tv = 1;
	int good;

	if (hosts_open(d, conf, &h) != 0)
		return;
	a = h.a;
	b = h.b;
	good = put_one(a, "x", "1") == 0 && vault_store_txn_begin(a, NULL, 0, &t) == 0 &&
	    reads(t, "x", "1") == 1 && vault_store_txn_version(t, &tv) == 0 &&
	    vault_store_version(a, &v0) == 0 && tv == v0;
	ok(good, "a read's version is the store's (%llu, %llu)", (unsigned long long)tv,
	    (unsigned long long)v0);
	vault_store_txn_abort(t);
	ok(put_one(a, "x", "2") == 0 && vault_store_version(a, &v1) == 0 && v1 != v0,
	    "a write here: a new version");
	ok(put_one(b, "y", "1") == 0 && vault_store_version(a, &v2) == 0 && v2 == v1,
	    "another host's write: not seen yet, the same version");
	t = NULL;
	ok(vault_store_txn_begin(a, NULL, 1, &t) == 0 &&
	    vault_store_txn_version(t, &tv) == SV_ERR_INVALID,
	    "a write transaction has no version");
	vault_store_txn_abort(t);
	ok(vault_store_version(a, &v2) == 0 && v2 != v1, "once seen (the write lock "
	    "brought the cache there): a new version");
	hosts_close(d, &h);
}

/* Round trips to the server so far, before the view's own. */
static long
trips(struct vault_store *s)
{
	struct vault_store_pg_view v;

	return vault_store_pg_view(s, &v) == 0 ? (long)v.round_trips : -1000;
}

/*
 * Round trips, as the store counts them: a transaction of two nested
 * children, three puts (one deferred) is 4 (the lock, the SAVEPOINTs with
 * the first put, the RELEASE with the deferred put and the third, the
 * commit); statement by statement it was 8.  A fold of 300 records and
 * its head is 3 (the lock, the records with the head, the commit), not
 * 300 and more.
 */
static void
check_round_trips(struct schemas *d, const struct vault_store_conf *conf)
{
	struct vault_store_loc loc = { -1, NULL };
	struct vault_store *s = NULL;
	struct vault_store_txn *t = NULL, *c1 = NULL, *c2 = NULL;
	char msg[SV_MSG_MAX], k[16], q[256];
	long before, n;
	int i, r;

	if (schema_new(d, &loc) != 0 ||
	    vault_store_create(&vault_store_pg, &loc, conf, msg, &s) != 0) {
		ok(0, "a store for counting round trips");
		return;
	}
	ok(put_one(s, "k1", "0") == 0 && vault_store_txn_begin(s, NULL, 0, &t) == 0 &&
	    reads(t, "k1", "0") == 1, "a write and a read: a connection, a live cache");
	vault_store_txn_abort(t);
	before = trips(s);
	r = vault_store_txn_begin(s, NULL, 1, &t);
	if (r == 0 && (r = vault_store_txn_begin(s, t, 1, &c1)) == 0 &&
	    (r = vault_store_txn_begin(s, c1, 1, &c2)) == 0 &&
	    (r = vault_store_put(c2, 0, "k1", 2, "1", 1, 0)) == 0 &&
	    (r = vault_store_txn_commit(c2)) == 0 &&
	    (r = vault_store_put(c1, 0, "d1", 2, "1", 1,
	    VAULT_STORE_NOOVERWRITE | VAULT_STORE_DEFER)) == 0 &&
	    (r = vault_store_put(c1, 0, "k2", 2, "1", 1, 0)) == 0 &&
	    (r = vault_store_txn_commit(c1)) == 0)
		r = vault_store_txn_commit(t);
	else
		vault_store_txn_abort(t);
	n = trips(s) - before - 1;
	ok(r == 0 && n <= 4, "two nested children, three puts: %ld round trips", n);
	ok(vault_store_txn_begin(s, NULL, 0, &t) == 0 && reads(t, "k1", "1") == 1 &&
	    reads(t, "d1", "1") == 1 && reads(t, "k2", "1") == 1, "all three are there");
	vault_store_txn_abort(t);
	before = trips(s);
	r = vault_store_txn_begin(s, NULL, 1, &t);
	for (i = 0; r == 0 && i < 300; i++) {
		snprintf(k, sizeof(k), "r%05d", i);
		r = vault_store_put(t, 0, k, strlen(k), "a record", 8,
		    VAULT_STORE_NOOVERWRITE | VAULT_STORE_DEFER);
	}
	if (r == 0 && (r = vault_store_put(t, 0, "head", 4, "r00299", 6, 0)) == 0)
		r = vault_store_txn_commit(t);
	else
		vault_store_txn_abort(t);
	n = trips(s) - before - 1;
	ok(r == 0 && n <= 3, "300 records and a head: %ld round trips", n);
	snprintf(q, sizeof(q), "SELECT count(*) FROM conf_%u.ssovault_changes WHERE gen = "
	    "(SELECT gen FROM conf_%u.ssovault_state)", d->n - 1, d->n - 1);
	is_int((int)sql_num(d->base, q), 2, "and 2 rows of changes: the head, and new "
	    "keys in its table");
	vault_store_close(s);
	schema_free(d, &loc);
}

static void
report_tap(void *ctx, int good, const char *check)
{
	(void)ctx;
	ok(good, "%s", check);
}

int
main(void)
{
	static const char *const tabs[] = { "meta" };
	struct vault_store_conf conf = { 1 << 20, 0, 0, tabs, 1 };
	struct vault_store_loc loc = { -1, NULL };
	struct schemas d;
	struct store_conformance_backend pg = {
		"postgresql", &vault_store_pg, schema_new, schema_free, &d,
	};
	struct vault_store *s = NULL;
	char msg[SV_MSG_MAX];
	const char *base = getenv("SSOVAULT_TEST_PG");

	if (base == NULL) {
		printf("1..0 # SKIP no SSOVAULT_TEST_PG (tests/pg/with-pg.sh gives one)\n");
		return 0;
	}
	memset(&d, 0, sizeof(d));
	d.base = base;
	ok(vault_store_ops_for(base) == &vault_store_pg, "a postgresql:// URI takes the PostgreSQL backend");
	ok(vault_store_ops_for("postgres://h/db") == &vault_store_pg, "so does postgres://");
	ok(vault_store_ops_for("/var/lib/ssovault") == &vault_store_lmdb, "a directory takes LMDB");

	loc.path = "postgresql://alice:Sup3rSecret@127.0.0.1:1/db";
	is_int(vault_store_open(&vault_store_pg, &loc, &conf, msg, &s), SV_ERR_INVALID,
	    "a URI with a password is refused");
	ok(strstr(msg, "Sup3rSecret") == NULL && strstr(msg, ".pgpass") != NULL,
	    "the refusal shows no password and says where it goes: %s", msg);
	loc.path = "postgresql://127.0.0.1:1/db?password=Sup3rSecret";
	is_int(vault_store_probe(&vault_store_pg, &loc, msg), SV_ERR_INVALID,
	    "a password as a URI parameter is refused too");
	ok(strstr(msg, "Sup3rSecret") == NULL, "and not shown");
	setenv("PGPASSWORD", "Sup3rSecret", 1);
	loc.path = base;
	is_int(vault_store_probe(&vault_store_pg, &loc, msg), SV_ERR_INVALID,
	    "PGPASSWORD in the environment is refused");
	ok(strstr(msg, "Sup3rSecret") == NULL && strstr(msg, "PGPASSWORD") != NULL,
	    "naming the variable, not its value: %s", msg);
	unsetenv("PGPASSWORD");
	loc.path = "postgresql:///nodb?host=/nonexistent&connect_timeout=2";
	is_int(vault_store_probe(&vault_store_pg, &loc, msg), SV_ERR_UNREACHABLE,
	    "a server that is not there: unreachable");
	ok(strstr(msg, "the vault's database is unreachable") != NULL, "says so: %s", msg);
	loc.path = base;
	is_int(vault_store_probe(&vault_store_pg, &loc, msg), SV_ERR_NO_VAULT,
	    "an empty database holds no vault");

	is_int(store_conformance_run(&pg, report_tap, NULL), 0,
	    "the PostgreSQL backend passes the conformance suite");
	check_defer_statements(&d, &conf);
	check_cache_after_many(&d, &conf);
	check_write_learns(&d, &conf);
	check_round_trips(&d, &conf);
	check_versions(&d, &conf);
	return done_testing();
}
