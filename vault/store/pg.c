/*
 * pg.c: the PostgreSQL backend of the storage interface (store.h), for a
 * vault shared by the ssovaultd of many hosts (DESIGN 10, docs/hosts.md).
 *
 * A location is a postgresql:// or postgres:// URI (never with a password:
 * libpq's passfile, peer or certificate authentication).  Four tables,
 * named with a prefix ("ssovault_", "ssovault_stage_" for a staged restore)
 * in the schema the connection's search_path gives:
 *   tables(id, name)          the store's tables, by name
 *   records(tab, k, v)        every key and value, bytewise key order (bytea)
 *   state(gen, bytes)         one row: the generation, bumped by every
 *                             write that changed something, and the bytes
 *                             held (the quota counts them); writers lock it
 *   changes(gen, tab, k)      which keys each generation changed (the
 *                             per-host caches read it; tab -1: everything;
 *                             k NULL: new keys of tab, not named)
 *
 * Writers are serialised across hosts by the lock on the state row, taken
 * when a write transaction begins: a write transaction sees everything
 * committed before it, exactly like LMDB's single writer, so what the
 * layers above do in one (a ticket redeemed, a message resumed, a name
 * taken, the audit chain's head moved) happens exactly once.  Nested
 * transactions are savepoints.
 *
 * Reads are served from a per-process cache of sealed values when it is
 * fresh: it was checked against the state's generation less than
 * PG_FRESH_MS ago (the bound of DESIGN 10).  A read transaction is pinned
 * to the generation of the cache it began with; a miss takes a real
 * REPEATABLE READ snapshot of the database and brings the cache to it,
 * provided nothing the transaction already read changed meanwhile
 * (else SV_ERR_CONFLICT: "try again").  Cursors and counts always read the
 * snapshot.  The cache holds only what the database holds: sealed bytes.
 *
 * Every call to the server has a deadline (PG_QUERY_MS); a server that is
 * down or does not answer gives SV_ERR_UNREACHABLE, "the vault's
 * database is unreachable", and the connection is dropped: the next
 * transaction connects again.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "base/svbuf.h"
#include "store/store.h"

#define PG_QUERY_MS 4000		/* a statement's answer, at most */
#define PG_LOCK_MS 8000		/* the write lock, while another host writes */
#define PG_CONNECT_S "4"		/* libpq's connect_timeout */
#define PG_FRESH_MS 1000		/* the cache is checked at least this often */
#define PG_MAX_CONNS 16
#define PG_BATCH 64			/* rows a cursor fetches at a time */
#define PG_BATCH_STR "64"
#define PG_CACHE_BUCKETS 4096
#define PG_CACHE_MAX_ENTRIES 20000
#define PG_CACHE_MAX_BYTES ((size_t)64 << 20)
#define PG_CHANGES_MAX 2000		/* more changes than this: drop the cache */
#define PG_PRUNE_EVERY 512		/* writes between two prunes of changes */
#define PG_CHANGES_KEEP 100000		/* generations of changes kept */
#define PG_DUMP_MAGIC "ssovault-pg-dump\n"
#define PG_DUMP_VERSION 1
#define PG_OLD_MAX 256			/* changes whose old values the cache keeps */
#define PG_PREFIX "ssovault_"
#define PG_STAGE_PREFIX "ssovault_stage_"

#define PG_PREPARED_MAX 16
#define PG_PEND_MAX 8			/* statements held to go with the next one */
#define PG_DEFER_ROWS 1024		/* deferred puts sent at once, at most */
#define PG_DEFER_BYTES ((size_t)1 << 20)

struct pg_conn {
	PGconn *c;
	struct pg_conn *next;
	/* the statements prepared on this connection, by their template */
	const char *prepared[PG_PREPARED_MAX];
	unsigned nprepared;
};

struct pg_cent {
	struct pg_cent *next;
	unsigned tab;
	uint8_t *k;
	size_t klen;
	uint8_t *v;			/* NULL: known to be absent */
	size_t vlen;
	uint64_t from, until;		/* the generations it holds for */
};

struct pg_txn;

struct pg_store {
	struct vault_store base;
	char *uri;
	char *msg;
	char prefix[24];
	int tabid[VAULT_STORE_MAX_TABLES];
	unsigned ntables;
	size_t quota;			/* bytes the records may take */
	int staged;			/* a staged restore: read only */
	int nocache;			/* SSOVAULT_PG_CACHE=off: every read to the database */

	pthread_mutex_t mu;		/* the pool and the count */
	pthread_cond_t cv;
	struct pg_conn *idle;
	unsigned nconns;
	unsigned live;

	pthread_mutex_t cmu;		/* the cache */
	int cvalid;
	uint64_t cgen;
	uint64_t local_gen;		/* the last generation this process wrote */
	long long checked_ms;
	struct pg_cent *bucket[PG_CACHE_BUCKETS];
	struct pg_txn *readers;		/* live cached reads, by generation */
	size_t centries, cbytes;
	unsigned long trips;		/* round trips to the server (atomic) */
	size_t cclosed;			/* entries that are closed versions */
	unsigned long writes;
};

enum pg_mode { PG_CACHED = 0, PG_DIRECT = 1 };

struct pg_cursor;

struct pg_txn {
	struct vault_store_txn base;
	struct pg_store *s;
	struct pg_txn *parent;
	struct pg_txn *child;
	struct pg_cursor *cursors;
	struct pg_conn *conn;		/* the root's */
	int write;
	int depth;
	int dead;			/* ended with its parent: every call fails */
	int bad;			/* a statement failed (its error): the transaction is doomed */
	char pend[PG_PEND_MAX][48];	/* root: statements that need no answer, not sent yet */
	unsigned npend;
	unsigned long sends;		/* root: times the pending statements were sent */
	unsigned pend_at;		/* child: where its SAVEPOINT is in the root's pend */
	unsigned long pend_sends;	/* child: the root's sends then (equal: still pending) */
	enum pg_mode mode;
	uint64_t snap;			/* the generation it reads */
	uint64_t dbsnap;		/* the database snapshot's, once it has one */
	PGresult *chg;			/* changes after snap, while snap < dbsnap */
	int chg_complete;
	struct pg_txn *rnext, **rprev;	/* in the store's readers */
	uint64_t gen0;			/* write: the generation when the lock came */
	long long bytes0;		/* write: the bytes then */
	long long delta;		/* write: bytes this level added */
	unsigned long wcount;		/* writes so far (cursors refetch after one) */
	size_t nchanges;		/* root: changes noted in the whole tree */
	struct svbuf *changed;		/* write: u32 tab | string key, each change */
	struct svbuf *dtab, *dkey, *dval; /* root: deferred puts not sent yet,
					   as the elements of three arrays */
	unsigned ndefer;
	struct svbuf *readset;		/* cached read: u32 tab | string key */
	PGresult **res;			/* results whose values were handed out */
	size_t nres, ares;
	uint8_t **copies;		/* cached values handed out */
	size_t ncopies, acopies;
};

struct pg_cursor {
	struct vault_store_cursor base;
	struct pg_txn *t;
	struct pg_cursor *next;
	unsigned tab;
	int dead;
	PGresult *batch;
	int row;			/* current row of batch; -1: none */
	int at_end;			/* the batch reached the table's end */
	unsigned long wcount;		/* the txn's writes when batch came */
	uint8_t *cur;			/* the current key (a copy) */
	size_t curlen;
	int has_cur;
};

/* --- small helpers --------------------------------------------------------- */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Did a failure since t0 come at once (a dead connection), not by a deadline? */
static int
quick(long long t0)
{
	return now_ms() - t0 < 1000;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

/* A column of a result as an integer (int2, int4 or int8); 0 if NULL. */
static long long
res_int(const PGresult *r, int row, int col)
{
	const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, col);
	int n = PQgetlength(r, row, col);

	if (PQgetisnull(r, row, col))
		return 0;
	if (PQfformat(r, col) == 0)		/* text, from the simple protocol */
		return strtoll((const char *)p, NULL, 10);
	if (n == 8)
		return (long long)get_be64(p);
	if (n == 4)
		return (int32_t)get_be32(p);
	if (n == 2)
		return (int16_t)(((unsigned)p[0] << 8) | p[1]);
	return 0;
}

/* sql with every '@' replaced by the store's table prefix. */
static void
sql_of(const struct pg_store *s, const char *tmpl, char *out, size_t len)
{
	size_t o = 0, pl = strlen(s->prefix);

	for (; *tmpl != '\0' && o + pl + 1 < len; tmpl++) {
		if (*tmpl == '@') {
			memcpy(out + o, s->prefix, pl);
			o += pl;
		} else
			out[o++] = *tmpl;
	}
	out[o] = '\0';
}

/* 1 if location names a PostgreSQL database. */
int
vault_store_pg_location(const char *location)
{
	return location != NULL && (strncmp(location, "postgresql://", 13) == 0 ||
	    strncmp(location, "postgres://", 11) == 0);
}

/*
 * Refuse a location that would put a password where it is seen: in the URI
 * (argv, the unit file, every message naming the vault) or in PGPASSWORD.
 */
static int
uri_check(const char *uri, char *msg)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	int r = 0;

	if (!vault_store_pg_location(uri))
		return sv_fail(msg, SV_ERR_INVALID,
		    "a database vault's location begins postgresql:// or postgres://");
	if ((opts = PQconninfoParse(uri, &err)) == NULL) {
		PQfreemem(err);		/* it may quote the URI: not shown */
		return sv_fail(msg, SV_ERR_INVALID, "the vault's database URI is not "
		    "a valid PostgreSQL URI (see docs/hosts.md for its form)");
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    o->val[0] != '\0')
			r = sv_fail(msg, SV_ERR_INVALID, "the vault's database URI holds "
			    "a password: remove it and put it in the libpq password "
			    "file (~/.pgpass, mode 0600, or the file PGPASSFILE names), "
			    "or use peer or client-certificate authentication "
			    "(docs/hosts.md)");
	PQconninfoFree(opts);
	if (r == 0 && getenv("PGPASSWORD") != NULL)
		r = sv_fail(msg, SV_ERR_INVALID, "PGPASSWORD is set: a password in the "
		    "environment is refused; put it in the libpq password file "
		    "(~/.pgpass or PGPASSFILE) instead (docs/hosts.md)");
	return r;
}

/* --- connections ----------------------------------------------------------- */

static int
unreachable(char *msg, const char *why)
{
	return sv_fail(msg, SV_ERR_UNREACHABLE,
	    "the vault's database is unreachable: %s", why);
}

/* libpq's message without its trailing newline, quoting no password. */
static void
pq_why(PGconn *c, char *out, size_t len)
{
	const char *m = c != NULL ? PQerrorMessage(c) : "out of memory";
	size_t n;

	snprintf(out, len, "%s", m != NULL && *m != '\0' ? m : "no answer");
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
}

/* Wait until fd is ready for events, or the deadline: 0, or -1 on timeout. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p;
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -1;
		p.fd = fd;
		p.events = events;
		p.revents = 0;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -1;
		if (errno != EINTR)
			return -1;
	}
}

static int
conn_open(struct pg_store *s, const char *uri, char *msg, PGconn **ret)
{
	static const char *const keys[] = {
		"connect_timeout", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "tcp_user_timeout", "application_name",
		"dbname", NULL,
	};
	const char *vals[] = {
		PG_CONNECT_S, "5", "2", "2", "5000", "ssovault", uri, NULL,
	};
	long long deadline = now_ms() + PG_QUERY_MS;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	char why[SV_MSG_MAX];
	PGresult *res;
	PGconn *c;

	(void)s;
	if ((c = PQconnectStartParams(keys, vals, 1)) == NULL)
		return sv_fail(msg, SV_ERR_NOMEM, "out of memory");
	if (PQstatus(c) == CONNECTION_BAD)
		goto bad;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		if (st == PGRES_POLLING_READING || st == PGRES_POLLING_WRITING) {
			if (wait_fd(PQsocket(c), st == PGRES_POLLING_READING ? POLLIN :
			    POLLOUT, deadline) != 0) {
				PQfinish(c);
				return sv_fail(msg, SV_ERR_UNREACHABLE, "the vault's database is "
				    "unreachable: no answer to the connection within %d seconds",
				    PG_QUERY_MS / 1000);
			}
		}
		st = PQconnectPoll(c);
	}
	if (st == PGRES_POLLING_FAILED)
		goto bad;
	/* bytea compares bytewise whatever the collation; keep the session plain */
	res = PQexec(c, "SET client_min_messages TO warning");
	PQclear(res);
	*ret = c;
	return 0;
bad:
	pq_why(c, why, sizeof(why));
	PQfinish(c);
	/* an authentication refusal is not an outage, but both are exit 6 */
	return unreachable(msg, why);
}

/*
 * Is an idle connection still sound?  The server has nothing to say to an
 * idle connection (no LISTEN here): if it said something, it is ending it (a
 * restart or pg_terminate_backend sends FATAL, then closes) or the
 * connection is gone, so the pool drops it and opens a new one rather than
 * fail a request on it.
 */
static int
conn_sound(PGconn *c)
{
	struct pollfd p = { .fd = PQsocket(c), .events = POLLIN };

	if (p.fd < 0 || poll(&p, 1, 0) != 0)
		return 0;
	return PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
}

static int
pool_get(struct pg_store *s, struct pg_conn **ret)
{
	struct pg_conn *pc = NULL;
	struct timespec ts;
	int r;

	pthread_mutex_lock(&s->mu);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += PG_QUERY_MS / 1000;
	for (;;) {
		while (s->idle == NULL && s->nconns >= PG_MAX_CONNS)
			if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) != 0)
				break;
		if ((pc = s->idle) == NULL)
			break;
		s->idle = pc->next;
		pc->next = NULL;
		if (conn_sound(pc->c)) {
			pthread_mutex_unlock(&s->mu);
			*ret = pc;
			return 0;
		}
		/* gone while idle: dropped; the next idle one, or a new one */
		PQfinish(pc->c);
		free(pc);
		s->nconns--;
		pc = NULL;
	}
	if (s->nconns >= PG_MAX_CONNS) {
		pthread_mutex_unlock(&s->mu);
		return sv_fail(s->msg, SV_ERR_TIMEOUT, "every connection to the vault's "
		    "database stayed busy for 8 seconds; try again");
	}
	s->nconns++;
	pthread_mutex_unlock(&s->mu);
	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		r = sv_fail(s->msg, SV_ERR_NOMEM, "out of memory");
	else
		r = conn_open(s, s->uri, s->msg, &pc->c);
	if (r != 0) {
		free(pc);
		pthread_mutex_lock(&s->mu);
		s->nconns--;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		return r;
	}
	*ret = pc;
	return 0;
}

/* Give a connection back: kept if it is sound and idle, else closed. */
static void
pool_put(struct pg_store *s, struct pg_conn *pc)
{
	PGresult *res;

	if (pc == NULL)
		return;
	if (PQstatus(pc->c) == CONNECTION_OK &&
	    PQtransactionStatus(pc->c) != PQTRANS_IDLE) {
		__atomic_fetch_add(&s->trips, 1, __ATOMIC_RELAXED);
		res = PQexec(pc->c, "ROLLBACK");
		PQclear(res);
	}
	pthread_mutex_lock(&s->mu);
	if (PQstatus(pc->c) == CONNECTION_OK &&
	    PQtransactionStatus(pc->c) == PQTRANS_IDLE) {
		pc->next = s->idle;
		s->idle = pc;
	} else {
		PQfinish(pc->c);
		free(pc);
		s->nconns--;
	}
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Translate a failed statement's SQLSTATE into the one error space. */
static int
sql_fail(struct pg_store *s, const PGresult *res, PGconn *c, const char *what)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *text = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char why[SV_MSG_MAX];

	if (PQstatus(c) != CONNECTION_OK || state == NULL) {
		pq_why(c, why, sizeof(why));
		return unreachable(s->msg, why);
	}
	if (text == NULL)
		text = "failed";
	if (strcmp(state, "23505") == 0)
		return sv_fail(s->msg, SV_ERR_EXISTS, "%s: %s", what, text);
	if (strcmp(state, "42501") == 0 || strcmp(state, "25006") == 0)
		return sv_fail(s->msg, SV_ERR_READ_ONLY, "%s: the vault's database is "
		    "read-only for this role (%s)", what, text);
	if (strcmp(state, "53100") == 0)
		return sv_fail(s->msg, SV_ERR_NO_SPACE, "%s: the vault's database is out "
		    "of disk space (%s)", what, text);
	if (strncmp(state, "40", 2) == 0 || strcmp(state, "55P03") == 0)
		return sv_fail(s->msg, SV_ERR_CONFLICT, "%s: %s; try again", what, text);
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return unreachable(s->msg, text);
	if (strcmp(state, "42P01") == 0)
		return sv_fail(s->msg, SV_ERR_BAD_FORMAT, "%s: the database holds no "
		    "vault tables (%s)", what, text);
	return sv_fail(s->msg, SV_ERR_STORAGE, "%s: %s (SQLSTATE %s)", what, text, state);
}

/*
 * Run one statement (nparams > 0 or params != NULL: with parameters, text
 * or binary as fmts says; else the simple protocol, where sql may hold
 * several) with a deadline.  Results are binary when binary is set.  The
 * last result is returned in *ret (if not NULL) when every one succeeded.
 */
enum pq_send { PQ_TEXT, PQ_PREPARE, PQ_PREPARED };

/*
 * The connection pq_send_run() last finished in this thread (its deadline
 * passed): compared by address only, never read, so that conn_lost() can
 * forget its caller's pointer to it.
 */
static __thread const PGconn *finished_conn;

static int
pq_send_run(struct pg_store *s, PGconn *c, enum pq_send how, const char *name,
    const char *sql, int nparams, const char *const *vals, const int *lens,
    const int *fmts, int binary, PGresult **ret, const char *what, long ms)
{
	long long deadline = now_ms() + ms;
	PGresult *res, *last = NULL, *err = NULL;
	int sent, r = 0;

	__atomic_fetch_add(&s->trips, 1, __ATOMIC_RELAXED);
	if (how == PQ_PREPARE)
		sent = PQsendPrepare(c, name, sql, nparams, NULL);
	else if (how == PQ_PREPARED)
		sent = PQsendQueryPrepared(c, name, nparams, vals, lens, fmts, binary);
	else if (nparams > 0 || vals != NULL)
		sent = PQsendQueryParams(c, sql, nparams, NULL, vals, lens, fmts, binary);
	else
		sent = PQsendQuery(c, sql);
	if (!sent)
		return sql_fail(s, NULL, c, what);
	for (;;) {
		if (!PQconsumeInput(c)) {
			/* the server's last words (a FATAL before it closed) if any */
			r = sql_fail(s, err, c, what);
			PQclear(err);
			PQclear(last);
			return r;
		}
		if (!PQisBusy(c)) {
			if ((res = PQgetResult(c)) == NULL)
				break;
			switch (PQresultStatus(res)) {
			case PGRES_COMMAND_OK:
			case PGRES_TUPLES_OK:
				PQclear(last);
				last = res;
				break;
			default:
				if (err == NULL)
					err = res;
				else
					PQclear(res);
			}
			continue;
		}
		if (wait_fd(PQsocket(c), POLLIN, deadline) != 0) {
			PQclear(last);
			PQclear(err);
			/* a server that does not answer: this connection is done */
			finished_conn = c;
			PQfinish(c);
			return sv_fail(s->msg, SV_ERR_UNREACHABLE, "the vault's database is "
			    "unreachable: no answer within %d seconds%s", (int)(ms / 1000),
			    ms == PG_LOCK_MS ? " (or another host held the write lock that "
			    "long; try again)" : "");
		}
	}
	if (err != NULL) {
		r = sql_fail(s, err, c, what);
		PQclear(err);
		PQclear(last);
		return r;
	}
	if (last == NULL)
		return sql_fail(s, NULL, c, what);
	if (ret != NULL)
		*ret = last;
	else
		PQclear(last);
	return 0;
}

static int
pq_run_ms(struct pg_store *s, PGconn *c, const char *sql, int nparams,
    const char *const *vals, const int *lens, const int *fmts, int binary,
    PGresult **ret, const char *what, long ms)
{
	return pq_send_run(s, c, PQ_TEXT, NULL, sql, nparams, vals, lens, fmts, binary, ret,
	    what, ms);
}

static int
pq_run(struct pg_store *s, PGconn *c, const char *sql, int nparams,
    const char *const *vals, const int *lens, const int *fmts, PGresult **ret,
    const char *what)
{
	return pq_run_ms(s, c, sql, nparams, vals, lens, fmts, 1, ret, what, PG_QUERY_MS);
}

/*
 * pq_run_ms() above finishes a connection that timed out; this marks it
 * so that pool_put() does not use it again.
 */
static int
conn_lost(struct pg_conn *pc, int r)
{
	if (r == SV_ERR_UNREACHABLE && pc != NULL && pc->c != NULL &&
	    pc->c == finished_conn) {
		/* freed already: its address is all that may be looked at */
		pc->c = NULL;
		finished_conn = NULL;
	}
	return r;
}

/* --- the cache ---------------------------------------------------------------
 *
 * Entries are versions: a value (or "absent") known to hold for every
 * generation in [from, until); until is PG_NOW while it is the current one
 * as far as the cache knows (it knows every change up to cgen).  A change at
 * generation g closes the current version (until = g) rather than dropping
 * it, so that a read transaction pinned to an older generation still finds
 * what it saw; closed versions go once no such transaction is left.
 */
#define PG_NOW UINT64_MAX

static unsigned
cache_hash(unsigned tab, const void *k, size_t klen)
{
	const uint8_t *p = k;
	uint32_t h = 2166136261u ^ tab;
	size_t i;

	for (i = 0; i < klen; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % PG_CACHE_BUCKETS;
}

static int
cent_is(const struct pg_cent *e, unsigned tab, const void *k, size_t klen)
{
	return e->tab == tab && e->klen == klen && memcmp(e->k, k, klen) == 0;
}

/* The version of (tab, k) that holds at generation g, or NULL. */
static struct pg_cent *
cache_find(struct pg_store *s, unsigned tab, const void *k, size_t klen, uint64_t g)
{
	struct pg_cent *e = s->bucket[cache_hash(tab, k, klen)];

	for (; e != NULL; e = e->next)
		if (cent_is(e, tab, k, klen) && e->from <= g && g < e->until)
			return e;
	return NULL;
}

static void
cache_unlink(struct pg_store *s, struct pg_cent **e)
{
	struct pg_cent *x = *e;

	*e = x->next;
	s->centries--;
	s->cclosed -= x->until != PG_NOW;
	s->cbytes -= x->klen + x->vlen;
	free(x->k);
	free(x->v);
	free(x);
}

static void
cache_clear(struct pg_store *s)
{
	size_t i;

	for (i = 0; i < PG_CACHE_BUCKETS; i++)
		while (s->bucket[i] != NULL)
			cache_unlink(s, &s->bucket[i]);
}

/* (tab, k) changed at generation g: its current version ends there. */
static void
cache_changed(struct pg_store *s, unsigned tab, const void *k, size_t klen, uint64_t g)
{
	struct pg_cent *e = s->bucket[cache_hash(tab, k, klen)];

	for (; e != NULL; e = e->next)
		if (cent_is(e, tab, k, klen) && e->from < g && e->until > g) {
			s->cclosed += e->until == PG_NOW;
			e->until = g;
		}
}

/*
 * New keys were added to tab at generation g, not named (a changes row
 * with no key: the deferred puts of a transaction): what the cache knows
 * as absent in tab ends there.  Present keys are not touched: a deferred
 * put only adds keys.
 */
static void
cache_added(struct pg_store *s, unsigned tab, uint64_t g)
{
	struct pg_cent *e;
	size_t i;

	for (i = 0; i < PG_CACHE_BUCKETS; i++)
		for (e = s->bucket[i]; e != NULL; e = e->next)
			if (e->tab == tab && e->v == NULL && e->from < g && e->until > g) {
				s->cclosed += e->until == PG_NOW;
				e->until = g;
			}
}

/* The oldest generation a live cached read still reads; PG_NOW if none. */
static uint64_t
oldest_reader(const struct pg_store *s)
{
	const struct pg_txn *t;
	uint64_t g = PG_NOW;

	for (t = s->readers; t != NULL; t = t->rnext)
		if (t->snap < g)
			g = t->snap;
	return g;
}

/* Drop the versions no live read can see any more. */
static void
cache_purge(struct pg_store *s)
{
	uint64_t old;
	struct pg_cent **e;
	size_t i;

	if (s->cclosed == 0)
		return;		/* every entry is current: nothing to look for */
	old = oldest_reader(s);
	for (i = 0; i < PG_CACHE_BUCKETS; i++)
		for (e = &s->bucket[i]; *e != NULL;) {
			if ((*e)->until != PG_NOW && (*e)->until <= old)
				cache_unlink(s, e);
			else
				e = &(*e)->next;
		}
}

/* A new entry (tab, k) -> v for [from, until), if memory allows. */
static void
cache_insert(struct pg_store *s, unsigned tab, const void *k, size_t klen,
    const void *v, size_t vlen, uint64_t from, uint64_t until)
{
	struct pg_cent *x, **e;

	if ((x = calloc(1, sizeof(*x))) == NULL || (x->k = malloc(klen + 1)) == NULL ||
	    (v != NULL && (x->v = malloc(vlen + 1)) == NULL)) {
		if (x != NULL)
			free(x->k);
		free(x);
		return;
	}
	x->tab = tab;
	memcpy(x->k, k, klen);
	x->klen = klen;
	if (v != NULL) {
		memcpy(x->v, v, vlen);
		x->vlen = vlen;
	}
	x->from = from;
	x->until = until;
	s->cclosed += until != PG_NOW;
	e = &s->bucket[cache_hash(tab, k, klen)];
	x->next = *e;
	*e = x;
	s->centries++;
	s->cbytes += klen + x->vlen;
}

/*
 * Keep (tab, k) -> v (v NULL: absent) as the current version, known since
 * from; called with cmu held, only when v is current at cgen.
 */
static void
cache_put(struct pg_store *s, unsigned tab, const void *k, size_t klen,
    const void *v, size_t vlen, uint64_t from)
{
	struct pg_cent *x;

	for (x = s->bucket[cache_hash(tab, k, klen)]; x != NULL; x = x->next)
		if (cent_is(x, tab, k, klen) && x->until == PG_NOW) {
			if (from < x->from)
				x->from = from;
			return;
		}
	if (s->centries >= PG_CACHE_MAX_ENTRIES || s->cbytes + klen + vlen > PG_CACHE_MAX_BYTES) {
		cache_purge(s);
		/*
		 * Still full: it starts again, empty, and fills with what is
		 * read from here (reads that needed a version dropped go to the
		 * database).  Not refusing every new entry from now on, which
		 * would send every read of what came later to the database.
		 */
		if (s->centries >= PG_CACHE_MAX_ENTRIES ||
		    s->cbytes + klen + vlen > PG_CACHE_MAX_BYTES)
			cache_clear(s);
		if (klen + vlen > PG_CACHE_MAX_BYTES)
			return;
	}
	cache_insert(s, tab, k, klen, v, vlen, from, PG_NOW);
}

/* Keep (tab, k) -> v (NULL: absent) as the closed version [from, until). */
static void
cache_put_closed(struct pg_store *s, unsigned tab, const void *k, size_t klen,
    const void *v, size_t vlen, uint64_t from, uint64_t until)
{
	if (s->centries >= PG_CACHE_MAX_ENTRIES || s->cbytes + klen + vlen > PG_CACHE_MAX_BYTES)
		return;
	cache_insert(s, tab, k, klen, v, vlen, from, until);
}

/*
 * Apply the changes of res (rows: gen, tab, k in columns 1-3) to the cache,
 * which then knows everything up to to; complete 0: some are missing, and
 * every version is dropped (live reads then go to the database).
 */
static void
cache_apply(struct pg_store *s, const PGresult *res, uint64_t to, int complete)
{
	int i, n = PQntuples(res);

	for (i = 0; i < n && complete; i++) {
		if (PQgetisnull(res, i, 1))
			continue;
		if (res_int(res, i, 2) < 0 || (unsigned)res_int(res, i, 2) >= s->ntables) {
			complete = 0;
			break;
		}
		if (PQgetisnull(res, i, 3))
			cache_added(s, (unsigned)res_int(res, i, 2), (uint64_t)res_int(res, i, 1));
		else
			cache_changed(s, (unsigned)res_int(res, i, 2), PQgetvalue(res, i, 3),
			    (size_t)PQgetlength(res, i, 3), (uint64_t)res_int(res, i, 1));
	}
	if (!complete)
		cache_clear(s);
	if (to > s->cgen || !complete)
		s->cgen = to;
	s->cvalid = 1;
}

/* Did (tab, k) change in the rows of res (an incomplete res: maybe)? */
static int
changes_touch(const PGresult *res, int complete, unsigned tab, const void *k, size_t klen)
{
	int i, n;

	if (res == NULL)
		return 0;
	if (!complete)
		return 1;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		if (PQgetisnull(res, i, 1))
			continue;
		if (res_int(res, i, 2) < 0)
			return 1;
		/* new keys of the table, not named: any of its keys may be one */
		if (PQgetisnull(res, i, 3) && (unsigned)res_int(res, i, 2) == tab)
			return 1;
		if (!PQgetisnull(res, i, 3) && (unsigned)res_int(res, i, 2) == tab &&
		    (size_t)PQgetlength(res, i, 3) == klen &&
		    memcmp(PQgetvalue(res, i, 3), k, klen) == 0)
			return 1;
	}
	return 0;
}

/*
 * The changes after gen as one statement's snapshot: row 0 holds the
 * state's generation in column 0 (and, when there are changes, each row
 * holds gen, tab, k in columns 1-3).  *ret_complete is 0 when some
 * generation in between left no row (pruned) or there were too many.
 */
static const char CHANGES_SQL[] =
    "SELECT s.gen, c.gen, c.tab, c.k FROM @state s LEFT JOIN "
    "(SELECT gen, tab, k FROM @changes WHERE gen > $1 ORDER BY gen LIMIT 2001) c "
    "ON true";

/*
 * What the result of CHANGES_SQL (or of the same columns) says: the
 * state's generation, and whether every generation after gen left its
 * rows in it.
 */
static void
changes_read(const PGresult *res, uint64_t gen, uint64_t *ret_gen, int *ret_complete)
{
	uint64_t to = (uint64_t)res_int(res, 0, 0), last = gen, seen = 0, g1;
	int i, n = PQntuples(res);

	for (i = 0; i < n; i++) {
		if (PQgetisnull(res, i, 1))
			continue;
		g1 = (uint64_t)res_int(res, i, 1);
		if (g1 != last) {
			seen++;
			last = g1;
		}
	}
	*ret_complete = n <= PG_CHANGES_MAX && to >= gen && seen == to - gen;
	*ret_gen = to;
}

static int
changes_since(struct pg_store *s, PGconn *c, uint64_t gen, PGresult **ret,
    uint64_t *ret_gen, int *ret_complete)
{
	char sql[512], g[24];
	const char *vals[1] = { g };
	PGresult *res = NULL;
	int r, n;

	snprintf(g, sizeof(g), "%llu", (unsigned long long)gen);
	sql_of(s, CHANGES_SQL, sql, sizeof(sql));
	if ((r = pq_run(s, c, sql, 1, vals, NULL, NULL, &res, "reading the changes")) != 0)
		return r;
	if ((n = PQntuples(res)) < 1) {
		PQclear(res);
		return sv_fail(s->msg, SV_ERR_BAD_FORMAT, "the vault's state row is missing");
	}
	changes_read(res, gen, ret_gen, ret_complete);
	*ret = res;
	return 0;
}

/* Bring the cache up to the database now (outside any transaction). */
static void conn_release(struct pg_store *s, struct pg_conn *pc);

static int
cache_refresh(struct pg_store *s)
{
	struct pg_conn *pc = NULL;
	PGresult *res = NULL;
	uint64_t from, to;
	int r, complete, valid;
	long long t0 = now_ms();

	pthread_mutex_lock(&s->cmu);
	from = s->cgen;
	valid = s->cvalid;
	pthread_mutex_unlock(&s->cmu);
	if ((r = pool_get(s, &pc)) != 0)
		return r;
	r = conn_lost(pc, changes_since(s, pc->c, valid ? from : 0, &res, &to, &complete));
	conn_release(s, pc);	/* pc is gone from here */
	if (r != 0)
		return r;
	pthread_mutex_lock(&s->cmu);
	if (s->cvalid == valid && s->cgen == from) {
		cache_apply(s, res, to, valid && complete);
		s->checked_ms = t0;
		cache_purge(s);
	}
	pthread_mutex_unlock(&s->cmu);
	PQclear(res);
	return 0;
}

/* --- transactions ---------------------------------------------------------- */

static void
txn_results_free(struct pg_txn *t)
{
	size_t i;

	for (i = 0; i < t->nres; i++)
		PQclear(t->res[i]);
	t->nres = 0;
	for (i = 0; i < t->ncopies; i++)
		free(t->copies[i]);
	t->ncopies = 0;
}

static int
txn_keep_res(struct pg_txn *t, PGresult *res)
{
	PGresult **n;

	if (t->nres == t->ares) {
		size_t a = t->ares ? t->ares * 2 : 8;

		if ((n = realloc(t->res, a * sizeof(*n))) == NULL) {
			PQclear(res);
			return sv_fail(t->s->msg, SV_ERR_NOMEM, "out of memory");
		}
		t->res = n;
		t->ares = a;
	}
	t->res[t->nres++] = res;
	return 0;
}

static int
txn_keep_copy(struct pg_txn *t, const void *p, size_t len, const uint8_t **ret)
{
	uint8_t **n, *c;

	if (t->ncopies == t->acopies) {
		size_t a = t->acopies ? t->acopies * 2 : 8;

		if ((n = realloc(t->copies, a * sizeof(*n))) == NULL)
			return sv_fail(t->s->msg, SV_ERR_NOMEM, "out of memory");
		t->copies = n;
		t->acopies = a;
	}
	if ((c = malloc(len + 1)) == NULL)
		return sv_fail(t->s->msg, SV_ERR_NOMEM, "out of memory");
	memcpy(c, p, len);
	t->copies[t->ncopies++] = c;
	*ret = c;
	return 0;
}

/*
 * A change noted for the cache (note_change): tab | string key | u8 had |
 * string old | u8 hasnew | string new, where had and hasnew say what the
 * key held when the transaction began and after this change: 0 not kept,
 * 1 absent, 2 the value given.
 */
struct chg {
	uint32_t tab;
	const uint8_t *k, *old, *nv;
	size_t klen, olen, nlen;
	uint8_t had, hasnew;
};

/* The next change of walk into c: 1, or 0 at the end. */
static int
chg_next(struct svbuf *walk, struct chg *c)
{
	return svbuf_len(walk) > 0 && svbuf_get_u32(walk, &c->tab) == 0 &&
	    svbuf_get_string_direct(walk, &c->k, &c->klen) == 0 &&
	    svbuf_get_u8(walk, &c->had) == 0 &&
	    svbuf_get_string_direct(walk, &c->old, &c->olen) == 0 &&
	    svbuf_get_u8(walk, &c->hasnew) == 0 &&
	    svbuf_get_string_direct(walk, &c->nv, &c->nlen) == 0;
}

static int
chg_is(const struct chg *c, unsigned tab, const void *k, size_t klen)
{
	return c->tab == tab && c->klen == klen && memcmp(c->k, k, klen) == 0;
}

static struct pg_txn *
txn_root(struct pg_txn *t)
{
	while (t->parent != NULL)
		t = t->parent;
	return t;
}

static int
txn_check(struct pg_txn *t)
{
	if (t == NULL || t->dead)
		return sv_fail(t != NULL ? t->s->msg : NULL, SV_ERR_INVALID,
		    "the transaction has ended");
	if (t->child != NULL)
		return sv_fail(t->s->msg, SV_ERR_INVALID,
		    "the transaction has an open child transaction");
	return 0;
}

/*
 * Statements that need no answer (a child's SAVEPOINT, a committed child's
 * RELEASE) are not sent on their own: the root keeps them in order, and
 * they go with the transaction's next statement, in one round trip (as a
 * prefix of a simple query, or in a pipeline before a prepared one).  A
 * child whose SAVEPOINT is still pending when it ends had nothing sent
 * inside it: its SAVEPOINT and what followed are simply dropped.  The
 * root's COMMIT releases every savepoint: RELEASEs pending then are dropped.
 */
static int txn_send_pend(struct pg_txn *t);

static int
pend_add(struct pg_txn *t, const char *what, int depth)
{
	struct pg_txn *root = txn_root(t);
	int r;

	if (root->npend == PG_PEND_MAX && (r = txn_send_pend(t)) != 0)
		return r;
	snprintf(root->pend[root->npend++], sizeof(root->pend[0]), "%s s%d", what, depth);
	return 0;
}

static void
pend_sent(struct pg_txn *root)
{
	root->npend = 0;
	root->sends++;
}

/*
 * The pending statements then sql, as one simple query: "p1; p2; sql"
 * (sql, a template, expanded), or sql alone.
 */
static void
pend_join(struct pg_txn *t, const char *tmpl, char *out, size_t len)
{
	struct pg_txn *root = txn_root(t);
	size_t n = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < root->npend && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s; ", root->pend[i]);
	if (n < len)
		sql_of(t->s, tmpl, out + n, len - n);
}

/*
 * Run several statements in one round trip, in a pipeline (libpq's
 * pipeline mode): each is sent, then one sync, then every result read.
 * The first that fails fails the lot (the ones after it are not run);
 * *ret_failed is its index (n if none).  *ret, if not NULL, gets the last
 * statement's result when all succeeded.
 */
struct pq_item {
	enum pq_send how;
	const char *name, *sql;
	int nparams;
	const char *const *vals;
	const int *lens, *fmts;
};

static int
pq_pipeline(struct pg_store *s, PGconn *c, const struct pq_item *it, int n,
    PGresult **ret, int *ret_failed, const char *what, long ms)
{
	long long deadline = now_ms() + ms;
	PGresult *res, *last = NULL, *err = NULL;
	int i, r = 0, synced = 0, sent, at = 0;

	*ret_failed = n;
	__atomic_fetch_add(&s->trips, 1, __ATOMIC_RELAXED);
	sent = PQenterPipelineMode(c);
	for (i = 0; i < n && sent; i++) {
		if (it[i].how == PQ_PREPARE)
			sent = PQsendPrepare(c, it[i].name, it[i].sql, it[i].nparams, NULL);
		else if (it[i].how == PQ_PREPARED)
			sent = PQsendQueryPrepared(c, it[i].name, it[i].nparams, it[i].vals,
			    it[i].lens, it[i].fmts, 1);
		else
			sent = PQsendQueryParams(c, it[i].sql, it[i].nparams, NULL, it[i].vals,
			    it[i].lens, it[i].fmts, 1);
	}
	if (!sent || !PQpipelineSync(c))
		goto lost;
	while (!synced) {
		if (!PQconsumeInput(c))
			goto lost;
		if (PQisBusy(c)) {
			if (wait_fd(PQsocket(c), POLLIN, deadline) != 0)
				goto late;
			continue;
		}
		if ((res = PQgetResult(c)) == NULL) {
			at++;		/* the end of one statement's results */
			continue;
		}
		switch (PQresultStatus(res)) {
		case PGRES_PIPELINE_SYNC:
			synced = 1;
			PQclear(res);
			break;
		case PGRES_COMMAND_OK:
		case PGRES_TUPLES_OK:
			PQclear(last);
			last = res;
			break;
		case PGRES_PIPELINE_ABORTED:
			PQclear(res);
			break;
		default:
			if (err == NULL) {
				err = res;
				*ret_failed = at;
			} else {
				PQclear(res);
			}
		}
	}
	if (!PQexitPipelineMode(c))
		goto lost;
	if (err != NULL) {
		r = sql_fail(s, err, c, what);
		PQclear(err);
		PQclear(last);
		return r;
	}
	if (ret != NULL)
		*ret = last;
	else
		PQclear(last);
	return 0;
lost:
	/* the connection is in no state to go on: it is done */
	r = sql_fail(s, err, c, what);
	if (r != SV_ERR_UNREACHABLE)
		r = unreachable(s->msg, "the connection failed in a pipeline");
	goto finish;
late:
	r = sv_fail(s->msg, SV_ERR_UNREACHABLE, "the vault's database is unreachable: no "
	    "answer within %d seconds%s", (int)(ms / 1000), ms == PG_LOCK_MS ? " (or another "
	    "host held the write lock that long; try again)" : "");
finish:
	PQclear(err);
	PQclear(last);
	finished_conn = c;
	PQfinish(c);
	return r;
}

/* --- deferred puts -----------------------------------------------------------
 *
 * New keys put with VAULT_STORE_DEFER (audit records: a fold of the journal
 * of reads adds hundreds in one transaction) are not sent one by one: the
 * root keeps them as the elements of three arrays (int4 tables, bytea keys,
 * bytea values, in PostgreSQL's binary array format: each element a u32
 * length and its bytes, which is what svbuf strings are) and sends them as
 * one INSERT, with their rows of changes, in the same round trip as the
 * transaction's next statement of any kind or its commit, or alone when
 * they grow past PG_DEFER_ROWS or PG_DEFER_BYTES or a child transaction
 * begins.  So the database is never read without them, and the ones not
 * sent when a child transaction ends were all put inside it: an aborted
 * child drops them.  A key that exists fails the INSERT (unique
 * violation): the transaction is doomed.  Their rows of changes are one
 * per table, with no key ("new keys in this table"): what other hosts'
 * caches know as absent there ends (cache_added), and a fold of hundreds
 * of records is one row, not hundreds that would push every cache past
 * PG_CHANGES_MAX (and make it drop everything, and make every read that
 * met it start again).  A process before this change takes such a row as
 * "some changes unknown": it drops its cache, which is safe.
 */
static const char PUT_MANY_SQL[] =
    "WITH n AS (SELECT * FROM unnest($1::int4[], $2::bytea[], $3::bytea[]) AS n (tab, k, v)), "
    "ins AS (INSERT INTO @records (tab, k, v) SELECT tab, k, v FROM n), "
    "ch AS (INSERT INTO @changes (gen, tab, k) SELECT DISTINCT $4::int8, tab, NULL::bytea "
    "FROM n) SELECT count(*)::int8 FROM n";

#define PG_OID_INT4 23
#define PG_OID_BYTEA 17

static void
defer_drop(struct pg_txn *t)
{
	struct pg_txn *root = txn_root(t);

	if (root->ndefer == 0)
		return;
	svbuf_reset(root->dtab);
	svbuf_reset(root->dkey);
	svbuf_reset(root->dval);
	root->ndefer = 0;
}

/* A one-dimensional array of n elements (elems) of type oid, no NULLs. */
static struct svbuf *
array_of(uint32_t oid, uint32_t n, const struct svbuf *elems)
{
	struct svbuf *a = svbuf_new(0);

	if (a == NULL || svbuf_put_u32(a, 1) != 0 || svbuf_put_u32(a, 0) != 0 ||
	    svbuf_put_u32(a, oid) != 0 || svbuf_put_u32(a, n) != 0 ||
	    svbuf_put_u32(a, 1) != 0 || svbuf_put(a, svbuf_ptr(elems), svbuf_len(elems)) != 0) {
		svbuf_free(a);
		return NULL;
	}
	return a;
}

/* The deferred puts taken from the root, as PUT_MANY_SQL's parameters. */
struct pg_many {
	struct svbuf *a[3];
	uint8_t gen[8];
	const char *vals[4];
	int lens[4], fmts[4];
};

static void
many_free(struct pg_many *m)
{
	int i;

	for (i = 0; i < 3; i++)
		svbuf_free(m->a[i]);
}

static int
many_take(struct pg_txn *t, struct pg_many *m)
{
	struct pg_txn *root = txn_root(t);
	int i;

	memset(m, 0, sizeof(*m));
	m->a[0] = array_of(PG_OID_INT4, root->ndefer, root->dtab);
	m->a[1] = array_of(PG_OID_BYTEA, root->ndefer, root->dkey);
	m->a[2] = array_of(PG_OID_BYTEA, root->ndefer, root->dval);
	defer_drop(t);
	if (m->a[0] == NULL || m->a[1] == NULL || m->a[2] == NULL) {
		many_free(m);
		return t->bad = sv_fail(t->s->msg, SV_ERR_NOMEM, "out of memory");
	}
	for (i = 0; i < 3; i++) {
		m->vals[i] = (const char *)svbuf_ptr(m->a[i]);
		m->lens[i] = (int)svbuf_len(m->a[i]);
		m->fmts[i] = 1;
	}
	put_be64(m->gen, root->gen0 + 1);
	m->vals[3] = (const char *)m->gen;
	m->lens[3] = 8;
	m->fmts[3] = 1;
	return 0;
}

/* --- sending -------------------------------------------------------------- */

/* A statement for txn_send(): a template, prepared (prep) or not. */
struct pg_stmt {
	const char *tmpl;
	int prep;
	int nparams;
	const char *const *vals;
	const int *lens, *fmts;
};

#define PG_SEND_MAX 4		/* statements txn_send() takes */

/*
 * Send the root's pending statements, then the deferred puts (if many is
 * not NULL), then st[0..n-1], in one round trip, on t's connection.  A
 * prepared statement is prepared first on a connection that has not had
 * it.  *ret: the last one's result.  Any failure dooms t (t->bad).
 */
static int
txn_send(struct pg_txn *t, struct pg_many *many, const struct pg_stmt *st, int n,
    PGresult **ret, const char *what)
{
	struct pg_txn *root = txn_root(t);
	struct pg_conn *pc = root->conn;
	struct pq_item it[PG_PEND_MAX + 2 * (PG_SEND_MAX + 1)] = { { 0 } };
	struct pg_stmt all[PG_SEND_MAX + 1];
	const char *newly[PG_SEND_MAX + 1];
	int owner[PG_PEND_MAX + 2 * (PG_SEND_MAX + 1)];
	char sql[PG_SEND_MAX + 1][1024], name[PG_SEND_MAX + 1][16];
	int i, ni = 0, na = 0, nnew = 0, failed, r, many_at = -1;
	unsigned j, k;

	if (pc == NULL || pc->c == NULL)
		return unreachable(t->s->msg, "the connection was lost");
	if (many != NULL) {
		memset(&all[0], 0, sizeof(all[0]));
		all[0].tmpl = PUT_MANY_SQL;
		all[0].prep = 1;
		all[0].nparams = 4;
		all[0].vals = many->vals;
		all[0].lens = many->lens;
		all[0].fmts = many->fmts;
		many_at = na++;
	}
	for (i = 0; i < n && na <= PG_SEND_MAX; i++)
		all[na++] = st[i];
	for (j = 0; j < root->npend; j++) {
		memset(&it[ni], 0, sizeof(it[ni]));
		it[ni].how = PQ_TEXT;
		it[ni].sql = root->pend[j];
		owner[ni++] = -1;
	}
	for (i = 0; i < na; i++) {
		sql_of(t->s, all[i].tmpl, sql[i], sizeof(sql[i]));
		k = PG_PREPARED_MAX;
		if (all[i].prep) {
			for (k = 0; k < pc->nprepared && pc->prepared[k] != all[i].tmpl; k++)
				;
			for (j = 0; k == pc->nprepared && (int)j < nnew; j++)
				if (newly[j] == all[i].tmpl)
					k = pc->nprepared + j;
			if (k == pc->nprepared && k + (unsigned)nnew < PG_PREPARED_MAX) {
				/* prepared here first, in the same round trip */
				k += (unsigned)nnew;
				snprintf(name[i], sizeof(name[i]), "sv%u", k);
				memset(&it[ni], 0, sizeof(it[ni]));
				it[ni].how = PQ_PREPARE;
				it[ni].name = name[i];
				it[ni].sql = sql[i];
				it[ni].nparams = all[i].nparams;
				owner[ni++] = -2 - nnew;
				newly[nnew++] = all[i].tmpl;
			} else if (k < PG_PREPARED_MAX) {
				snprintf(name[i], sizeof(name[i]), "sv%u", k);
			}
		}
		memset(&it[ni], 0, sizeof(it[ni]));
		it[ni].how = k < PG_PREPARED_MAX ? PQ_PREPARED : PQ_TEXT;
		it[ni].name = k < PG_PREPARED_MAX ? name[i] : NULL;
		it[ni].sql = sql[i];
		it[ni].nparams = all[i].nparams;
		it[ni].vals = all[i].vals;
		it[ni].lens = all[i].lens;
		it[ni].fmts = all[i].fmts;
		owner[ni++] = i;
	}
	pend_sent(root);
	if (ni == 1) {
		r = conn_lost(pc, pq_send_run(t->s, pc->c, it[0].how, it[0].name, it[0].sql,
		    it[0].nparams, it[0].vals, it[0].lens, it[0].fmts, 1, ret, what,
		    PG_QUERY_MS));
		failed = r != 0 ? 0 : 1;
	} else {
		r = conn_lost(pc, pq_pipeline(t->s, pc->c, it, ni, ret, &failed, what,
		    PG_QUERY_MS));
	}
	/* the statements prepared before the one that failed are there (in order) */
	for (i = 0; i < ni && i < failed; i++)
		if (owner[i] <= -2 && pc->c != NULL)
			pc->prepared[pc->nprepared++] = newly[-2 - owner[i]];
	if (r != 0) {
		t->bad = r;
		if (r == SV_ERR_EXISTS && failed < ni && owner[failed] == many_at && many_at >= 0)
			sv_fail(t->s->msg, r, "a record this transaction added (with no "
			    "overwrite) already exists, found when it was sent: nothing of "
			    "the transaction is kept");
	}
	return r;
}

/* Send the pending statements alone (before a multi-statement query). */
static int
txn_send_pend(struct pg_txn *t)
{
	struct pg_txn *root = txn_root(t);
	char sql[PG_PEND_MAX * 48 + 8];
	int r;

	if (root->npend == 0)
		return 0;
	if (root->conn == NULL || root->conn->c == NULL)
		return unreachable(t->s->msg, "the connection was lost");
	pend_join(t, "SELECT 1", sql, sizeof(sql));
	pend_sent(root);
	r = conn_lost(root->conn, pq_run(t->s, root->conn->c, sql, 0, NULL, NULL, NULL, NULL,
	    "a child transaction"));
	if (r != 0)
		t->bad = r;
	return r;
}

/* Send the deferred puts of t's tree now, if any (with the pending statements). */
static int
txn_flush(struct pg_txn *t)
{
	struct pg_many m;
	int r;

	if (txn_root(t)->ndefer == 0)
		return 0;
	if ((r = many_take(t, &m)) != 0)
		return r;
	r = txn_send(t, &m, NULL, 0, NULL, "writing new records");
	many_free(&m);
	return r;
}

/*
 * The transaction's connection: run a statement on it, keeping track of a
 * loss.  One without parameters may hold several (a simple query): the
 * pending statements go as its prefix.
 */
static int
txn_run(struct pg_txn *t, const char *tmpl, int nparams, const char *const *vals,
    const int *lens, const int *fmts, PGresult **ret, const char *what)
{
	struct pg_txn *root = txn_root(t);
	struct pg_stmt st;
	char sql[PG_PEND_MAX * 48 + 1024];
	int r;

	if (root->conn == NULL || root->conn->c == NULL)
		return unreachable(t->s->msg, "the connection was lost");
	if ((r = txn_flush(t)) != 0)
		return r;
	if (nparams > 0 || vals != NULL) {
		memset(&st, 0, sizeof(st));
		st.tmpl = tmpl;
		st.nparams = nparams;
		st.vals = vals;
		st.lens = lens;
		st.fmts = fmts;
		return txn_send(t, NULL, &st, 1, ret, what);
	}
	pend_join(t, tmpl, sql, sizeof(sql));
	pend_sent(root);
	r = conn_lost(root->conn, pq_run(t->s, root->conn->c, sql, 0, NULL, NULL, NULL, ret,
	    what));
	if (r != 0)
		t->bad = r;
	return r;
}

/*
 * txn_run() for the hot statements, whose templates are constants: each is
 * prepared once per connection (parsed and planned once) and then run by
 * name, so that a lookup or a write costs the server only its execution;
 * the pending statements and the deferred puts go in the same round trip.
 */
static int
txn_prep(struct pg_txn *t, const char *tmpl, int nparams, const char *const *vals,
    const int *lens, const int *fmts, PGresult **ret, const char *what)
{
	struct pg_many m;
	struct pg_stmt st;
	int r, many = txn_root(t)->ndefer > 0;

	if (many && (r = many_take(t, &m)) != 0)
		return r;
	memset(&st, 0, sizeof(st));
	st.tmpl = tmpl;
	st.prep = 1;
	st.nparams = nparams;
	st.vals = vals;
	st.lens = lens;
	st.fmts = fmts;
	r = txn_send(t, many ? &m : NULL, &st, 1, ret, what);
	if (many)
		many_free(&m);
	return r;
}

static void
conn_release(struct pg_store *s, struct pg_conn *pc)
{
	if (pc == NULL)
		return;
	if (pc->c == NULL) {
		free(pc);
		pthread_mutex_lock(&s->mu);
		s->nconns--;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		return;
	}
	pool_put(s, pc);
}

/*
 * The database's snapshot for a cached read transaction that needs it (a
 * miss, a cursor, a count): REPEATABLE READ on a connection of its own,
 * and the cache brought to it.  If nothing the transaction read changed
 * since its generation, it moves to the snapshot's; else it stays where it
 * was, and may read from the database only keys that did not change
 * (t->chg keeps the changes for that check).
 */
static int
txn_upgrade(struct pg_txn *t)
{
	struct pg_store *s = t->s;
	PGresult *res = NULL;
	const uint8_t *k;
	uint64_t to;
	size_t klen;
	uint32_t tab;
	int r, complete, hit = 0, first = 1;
	struct svbuf *walk = NULL;

	for (;;) {
		long long t0 = now_ms();

		if ((r = pool_get(s, &t->conn)) != 0)
			return r;
		r = conn_lost(t->conn, pq_run(s, t->conn->c,
		    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL, NULL,
		    NULL, "beginning a read"));
		if (r == 0)
			break;
		conn_release(s, t->conn);
		t->conn = NULL;
		/* a connection the server dropped while idle (found at once): once
		 * more, anew; not after a deadline passed (DESIGN 10: 10 s) */
		if (r != SV_ERR_UNREACHABLE || !first || !quick(t0))
			return r;
		first = 0;
	}
	if ((r = conn_lost(t->conn, changes_since(s, t->conn->c, t->snap, &res, &to,
	    &complete))) != 0)
		return r;
	t->mode = PG_DIRECT;
	t->dbsnap = to;
	if (to != t->snap) {
		if ((walk = svbuf_from(svbuf_ptr(t->readset), svbuf_len(t->readset))) == NULL) {
			PQclear(res);
			return sv_fail(s->msg, SV_ERR_NOMEM, "out of memory");
		}
		while (!hit && svbuf_len(walk) > 0 && svbuf_get_u32(walk, &tab) == 0 &&
		    svbuf_get_string_direct(walk, &k, &klen) == 0)
			hit = changes_touch(res, complete, tab, k, klen);
		svbuf_free(walk);
		pthread_mutex_lock(&s->cmu);
		if (s->cvalid && s->cgen <= to)
			cache_apply(s, res, to, complete && s->cgen >= t->snap);
		pthread_mutex_unlock(&s->cmu);
	}
	if (!hit) {
		t->snap = to;
		PQclear(res);
	} else {
		t->chg = res;
		t->chg_complete = complete;
	}
	return 0;
}

/*
 * A write transaction's start, with a live cache: BEGIN, the lock on the
 * state row and, in the same round trip (a pipeline), the changes since
 * the cache's generation known, read by a statement of its own after the
 * lock came (READ COMMITTED: a snapshot taken then, so every change before
 * the lock is in it).  The cache is then at the lock's generation, and the
 * transaction's reads of keys it did not change come from it (pg_get):
 * without this, every write of a host that takes turns with another read
 * them from the database, under the lock that serialises both.
 */
static const char LOCK_CHANGES_SQL[] =
    "SELECT s.gen, c.gen, c.tab, c.k, s.bytes FROM @state s LEFT JOIN "
    "(SELECT gen, tab, k FROM @changes WHERE gen > $1::int8 ORDER BY gen LIMIT 2001) c "
    "ON true";

static int
lock_changes(struct pg_store *s, PGconn *c, uint64_t known, PGresult **ret)
{
	struct pq_item it[3];
	char lock[128], chg[512];
	uint8_t g[8];
	const char *vals[1] = { (const char *)g };
	int lens[1] = { 8 }, fmts[1] = { 1 }, failed;

	put_be64(g, known);
	sql_of(s, "SELECT 1 FROM @state FOR UPDATE", lock, sizeof(lock));
	sql_of(s, LOCK_CHANGES_SQL, chg, sizeof(chg));
	memset(it, 0, sizeof(it));
	it[0].how = it[1].how = it[2].how = PQ_TEXT;
	it[0].sql = "BEGIN";
	it[1].sql = lock;
	it[2].sql = chg;
	it[2].nparams = 1;
	it[2].vals = vals;
	it[2].lens = lens;
	it[2].fmts = fmts;
	return pq_pipeline(s, c, it, 3, ret, &failed, "beginning a write", PG_LOCK_MS);
}

static void root_end(struct pg_txn *t);
static void txn_free(struct pg_txn *t);

static int
pg_txn_begin(struct vault_store *vs, struct vault_store_txn *vparent, int write,
    struct vault_store_txn **ret)
{
	struct pg_store *s = (struct pg_store *)vs;
	struct pg_txn *parent = (struct pg_txn *)vparent, *t;
	PGresult *res = NULL;
	uint64_t known = 0;
	long long t0;
	int r, first = 1, valid = 0;

	if (parent != NULL) {
		if ((r = txn_check(parent)) != 0)
			return r;
		if (!parent->write)
			return sv_fail(s->msg, SV_ERR_INVALID,
			    "a child transaction needs a write transaction as parent");
	}
	if (write && s->staged)
		return sv_fail(s->msg, SV_ERR_READ_ONLY, "a staged restore is read-only");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return sv_fail(s->msg, SV_ERR_NOMEM, "out of memory");
	t->base.ops = &vault_store_pg;
	t->s = s;
	t->write = write || parent != NULL;
	if (t->write && (t->changed = svbuf_new(0)) == NULL) {
		free(t);
		return sv_fail(s->msg, SV_ERR_NOMEM, "out of memory");
	}
	if (parent != NULL) {
		struct pg_txn *root = txn_root(parent);

		t->parent = parent;
		t->depth = parent->depth + 1;
		t->mode = PG_DIRECT;
		/* the parent's deferred puts are the parent's: sent before the SAVEPOINT */
		if ((r = txn_flush(parent)) != 0 || (r = pend_add(parent, "SAVEPOINT",
		    t->depth)) != 0) {
			svbuf_free(t->changed);
			free(t);
			return r;
		}
		t->pend_at = root->npend - 1;
		t->pend_sends = root->sends;
		parent->child = t;
		*ret = &t->base;
		return 0;
	}
	if (!write) {
		/* a read: from the cache, if it is fresh; else bring it up first */
		long long now = now_ms();
		int fresh;

		pthread_mutex_lock(&s->cmu);
		fresh = s->cvalid && s->cgen >= s->local_gen && now - s->checked_ms < PG_FRESH_MS;
		pthread_mutex_unlock(&s->cmu);
		if (!fresh && (r = cache_refresh(s)) != 0) {
			free(t);
			return r;
		}
		if ((t->readset = svbuf_new(0)) == NULL) {
			free(t);
			return sv_fail(s->msg, SV_ERR_NOMEM, "out of memory");
		}
		pthread_mutex_lock(&s->cmu);
		t->snap = s->cgen;
		t->rnext = s->readers;
		if (s->readers != NULL)
			s->readers->rprev = &t->rnext;
		t->rprev = &s->readers;
		s->readers = t;
		pthread_mutex_unlock(&s->cmu);
		t->mode = PG_CACHED;
		if (s->nocache && (r = txn_upgrade(t)) != 0) {
			pthread_mutex_lock(&s->mu);
			s->live++;		/* root_end() counts it out */
			pthread_mutex_unlock(&s->mu);
			root_end(t);
			txn_free(t);
			return r;
		}
		goto done;
	}
	/* a write: the lock on the state row orders it after every other */
	for (;;) {
		char sql[256];

		t0 = now_ms();
		pthread_mutex_lock(&s->cmu);
		valid = s->cvalid && !s->nocache;
		known = s->cgen;
		pthread_mutex_unlock(&s->cmu);
		if ((r = pool_get(s, &t->conn)) != 0)
			goto fail;
		if (valid) {
			r = conn_lost(t->conn, lock_changes(s, t->conn->c, known, &res));
		} else {
			sql_of(s, "BEGIN; SELECT gen, bytes FROM @state FOR UPDATE", sql,
			    sizeof(sql));
			r = conn_lost(t->conn, pq_run_ms(s, t->conn->c, sql, 0, NULL, NULL, NULL,
			    1, &res, "beginning a write", PG_LOCK_MS));
		}
		if (r == 0)
			break;
		conn_release(s, t->conn);
		t->conn = NULL;
		if (r != SV_ERR_UNREACHABLE || !first || !quick(t0))
			goto fail;
		first = 0;
	}
	if (valid ? PQntuples(res) < 1 : PQntuples(res) != 1) {
		PQclear(res);
		r = sv_fail(s->msg, SV_ERR_BAD_FORMAT, "the vault's state row is missing");
		goto fail;
	}
	t->mode = PG_DIRECT;
	t->gen0 = t->snap = (uint64_t)res_int(res, 0, 0);
	t->bytes0 = res_int(res, 0, valid ? 4 : 1);
	if (valid) {
		uint64_t to;
		int complete;

		changes_read(res, known, &to, &complete);
		pthread_mutex_lock(&s->cmu);
		/* not a check for reads (checked_ms): their bound stays theirs */
		if (s->cvalid && s->cgen == known && to >= known)
			cache_apply(s, res, to, complete);
		pthread_mutex_unlock(&s->cmu);
	}
	PQclear(res);
done:
	pthread_mutex_lock(&s->mu);
	s->live++;
	pthread_mutex_unlock(&s->mu);
	*ret = &t->base;
	return 0;
fail:
	conn_release(s, t->conn);
	svbuf_free(t->changed);
	free(t);
	return r;
}

/* t and everything under it end: children and cursors die, results go. */
static void
txn_end_tree(struct pg_txn *t)
{
	struct pg_cursor *c;

	if (t->child != NULL) {
		txn_end_tree(t->child);
		t->child->dead = 1;
		t->child->parent = NULL;
		t->child = NULL;
	}
	for (c = t->cursors; c != NULL; c = c->next) {
		c->dead = 1;
		c->t = NULL;
		PQclear(c->batch);
		c->batch = NULL;
	}
	t->cursors = NULL;
	txn_results_free(t);
}

static void
txn_free(struct pg_txn *t)
{
	txn_results_free(t);
	free(t->res);
	free(t->copies);
	svbuf_free(t->changed);
	svbuf_free(t->readset);
	svbuf_free(t->dtab);
	svbuf_free(t->dkey);
	svbuf_free(t->dval);
	free(t);
}

/* A root transaction ends: the count, the connection. */
static void
root_end(struct pg_txn *t)
{
	struct pg_store *s = t->s;

	txn_end_tree(t);
	conn_release(s, t->conn);
	t->conn = NULL;
	PQclear(t->chg);
	t->chg = NULL;
	if (t->rprev != NULL) {
		pthread_mutex_lock(&s->cmu);
		*t->rprev = t->rnext;
		if (t->rnext != NULL)
			t->rnext->rprev = t->rprev;
		t->rprev = NULL;
		pthread_mutex_unlock(&s->cmu);
	}
	pthread_mutex_lock(&s->mu);
	s->live--;
	pthread_mutex_unlock(&s->mu);
}

/* After a commit: this host's cache forgets what it changed, at once. */
/* Is there a change of (tab, k) in walk (from where it is)? */
static int
changed_later(const struct svbuf *rest, unsigned tab, const void *k, size_t klen)
{
	struct svbuf *walk = svbuf_from(svbuf_ptr(rest), svbuf_len(rest));
	struct chg c;
	int found = 0;

	if (walk == NULL)
		return 1;
	while (!found && chg_next(walk, &c))
		found = chg_is(&c, tab, k, klen);
	svbuf_free(walk);
	return found;
}

/* Was (tab, key) changed before in t or its ancestors? */
static int
changed_before(const struct pg_txn *t, unsigned tab, const void *key, size_t klen)
{
	for (; t != NULL; t = t->parent)
		if (changed_later(t->changed, tab, key, klen))
			return 1;
	return 0;
}

/*
 * The last change of (tab, key) in t or its ancestors (the deepest has the
 * latest; in one buffer, the last): 1 with it in *ret (pointing into the
 * buffer, valid until t writes or ends), 0 if there is none.
 */
static int
own_change(const struct pg_txn *t, unsigned tab, const void *key, size_t klen,
    struct chg *ret)
{
	struct svbuf *walk;
	struct chg c;
	int found = 0;

	for (; t != NULL && !found; t = t->parent) {
		if ((walk = svbuf_from(svbuf_ptr(t->changed), svbuf_len(t->changed))) == NULL)
			return -1;
		while (chg_next(walk, &c))
			if (chg_is(&c, tab, key, klen)) {
				*ret = c;
				found = 1;
			}
		svbuf_free(walk);
	}
	return found;
}

/*
 * After a commit: this host's cache closes what it changed at once, keeps
 * what the write replaced as the version [gen0, gen_new) (read under the
 * lock that excludes every other writer, it held exactly then: reads still
 * at gen0 may need it), and keeps what it wrote as the current version from
 * gen_new (the next write transaction reads it from here).
 */
static void
cache_after_write(struct pg_store *s, const struct pg_txn *t, uint64_t gen_new)
{
	struct svbuf *walk;
	struct chg c;

	if ((walk = svbuf_from(svbuf_ptr(t->changed), svbuf_len(t->changed))) == NULL) {
		pthread_mutex_lock(&s->cmu);
		cache_clear(s);
		s->cvalid = 0;
		pthread_mutex_unlock(&s->cmu);
		return;
	}
	pthread_mutex_lock(&s->cmu);
	while (chg_next(walk, &c)) {
		if (c.tab == UINT32_MAX) {
			cache_clear(s);
			break;
		}
		cache_changed(s, c.tab, c.k, c.klen, gen_new);
		if (!s->cvalid)
			continue;
		if (c.had != 0 && cache_find(s, c.tab, c.k, c.klen, t->gen0) == NULL)
			cache_put_closed(s, c.tab, c.k, c.klen, c.had == 2 ? c.old : NULL,
			    c.olen, t->gen0, gen_new);
		if (c.hasnew != 0 && !changed_later(walk, c.tab, c.k, c.klen))
			cache_put(s, c.tab, c.k, c.klen, c.hasnew == 2 ? c.nv : NULL, c.nlen,
			    gen_new);
	}
	/*
	 * If no one else wrote between the cache's generation and this write,
	 * the cache is at the new one; else the next read brings it up first,
	 * so that what this process wrote is what it reads next.
	 */
	if (s->cvalid && s->cgen == t->gen0)
		s->cgen = gen_new;
	if (gen_new > s->local_gen)
		s->local_gen = gen_new;
	pthread_mutex_unlock(&s->cmu);
	svbuf_free(walk);
}

static void pg_txn_abort(struct vault_store_txn *vt);

/* The commit of a transaction one of whose statements failed with err. */
static int
doomed(struct pg_store *s, int err, const char *what)
{
	if (err == SV_ERR_UNREACHABLE)
		return sv_fail(s->msg, err, "the vault's database is unreachable: the "
		    "connection was lost during %s: nothing of it was kept", what);
	return sv_fail(s->msg, err < 0 ? err : SV_ERR_STORAGE, "a statement of %s "
	    "failed: nothing of it was kept", what);
}

/*
 * Child t of p ends without its changes: if its SAVEPOINT was never sent,
 * nothing of it was: it is dropped with what came after it; else the
 * database rolls back to it.  Its deferred puts are dropped either way.
 */
static int
child_undo(struct pg_txn *t, struct pg_txn *p, const char *what)
{
	struct pg_txn *root = txn_root(p);
	char sp[80];

	defer_drop(p);
	if (t->pend_sends == root->sends) {
		root->npend = t->pend_at;
		return 0;
	}
	snprintf(sp, sizeof(sp), "ROLLBACK TO SAVEPOINT s%d; RELEASE SAVEPOINT s%d",
	    t->depth, t->depth);
	return txn_run(p, sp, 0, NULL, NULL, NULL, NULL, what);
}

/*
 * The root's commit: the state row and COMMIT in one simple query, or, with
 * deferred puts still to send, all of it in one pipeline.
 */
static int
root_commit(struct pg_txn *t, int nosync, int changed)
{
	struct pg_store *s = t->s;
	struct pg_stmt st[3];
	struct pg_many m;
	char sql[512], tmpl[256];
	int r, n = 0;

	t->npend = 0;		/* RELEASEs: the COMMIT releases every savepoint */
	if (!changed)
		return conn_lost(t->conn, pq_run(s, t->conn->c, "COMMIT", 0, NULL, NULL, NULL,
		    NULL, "committing"));
	snprintf(tmpl, sizeof(tmpl), "UPDATE @state SET gen = %llu, bytes = %lld",
	    (unsigned long long)(t->gen0 + 1), t->bytes0 + t->delta);
	if (t->ndefer == 0) {
		char full[320];

		snprintf(full, sizeof(full), "%s%s; COMMIT",
		    nosync ? "SET LOCAL synchronous_commit TO off; " : "", tmpl);
		sql_of(s, full, sql, sizeof(sql));
		return conn_lost(t->conn, pq_run(s, t->conn->c, sql, 0, NULL, NULL, NULL, NULL,
		    "committing"));
	}
	if ((r = many_take(t, &m)) != 0)
		return r;
	memset(st, 0, sizeof(st));
	if (nosync)
		st[n++].tmpl = "SET LOCAL synchronous_commit TO off";
	st[n++].tmpl = tmpl;
	st[n++].tmpl = "COMMIT";
	r = txn_send(t, &m, st, n, NULL, "committing");
	many_free(&m);
	return r;
}

static int
pg_txn_commit(struct vault_store_txn *vt, int nosync)
{
	struct pg_txn *t = (struct pg_txn *)vt, *p, *root;
	struct pg_store *s;
	int r, changed;

	if (t == NULL)
		return SV_ERR_INVALID;
	s = t->s;
	if (t->dead) {
		r = sv_fail(s->msg, SV_ERR_INVALID, "the transaction has ended");
		txn_free(t);
		return r;
	}
	if (t->child != NULL) {
		pg_txn_abort(&t->child->base);
		t->child = NULL;
	}
	if ((p = t->parent) != NULL) {
		/* a child joins its parent */
		txn_end_tree(t);
		p->child = NULL;
		if (t->bad) {
			(void)child_undo(t, p, "a child transaction");
			r = doomed(s, t->bad, "the child transaction");
			txn_free(t);
			return r;
		}
		/* its RELEASE goes with the parent's next statement; if its
		 * SAVEPOINT is still waiting, nothing was sent since: neither */
		root = txn_root(p);
		if (t->pend_sends == root->sends)
			root->npend = t->pend_at;
		else if ((r = pend_add(p, "RELEASE SAVEPOINT", t->depth)) != 0) {
			p->bad = r;
			txn_free(t);
			return r;
		}
		p->delta += t->delta;
		p->wcount += t->wcount + 1;
		r = 0;
		if (svbuf_len(t->changed) > 0 &&
		    svbuf_put(p->changed, svbuf_ptr(t->changed), svbuf_len(t->changed)) != 0) {
			p->bad = SV_ERR_NOMEM;
			r = sv_fail(s->msg, SV_ERR_NOMEM, "out of memory");
		}
		txn_free(t);
		return r;
	}
	if (!t->write || t->conn == NULL || t->bad) {
		r = t->bad ? doomed(s, t->bad, "the transaction") : 0;
		root_end(t);
		txn_free(t);
		return r;
	}
	changed = svbuf_len(t->changed) > 0;
	r = root_commit(t, nosync, changed);
	if (r == SV_ERR_UNREACHABLE) {
		sv_fail(s->msg, r, "the vault's database is unreachable: the connection "
		    "was lost at the commit, whose outcome is not known");
		/*
		 * It may have committed: the next read checks the database
		 * first, so that this process never serves what was there
		 * before a write that did happen (hosts-crash found role list
		 * missing principals whose records audit list showed).
		 */
		if (changed) {
			pthread_mutex_lock(&s->cmu);
			s->checked_ms = 0;
			pthread_mutex_unlock(&s->cmu);
		}
	}
	if (r == 0 && changed) {
		cache_after_write(s, t, t->gen0 + 1);
		pthread_mutex_lock(&s->cmu);
		s->writes++;
		pthread_mutex_unlock(&s->cmu);
	}
	root_end(t);
	txn_free(t);
	return r;
}

static void
pg_txn_abort(struct vault_store_txn *vt)
{
	struct pg_txn *t = (struct pg_txn *)vt, *p;

	if (t == NULL)
		return;
	if (t->dead) {
		txn_free(t);
		return;
	}
	if (t->child != NULL) {
		pg_txn_abort(&t->child->base);
		t->child = NULL;
	}
	if ((p = t->parent) != NULL) {
		txn_end_tree(t);
		p->child = NULL;
		if (child_undo(t, p, "aborting a child") == 0)
			p->bad = 0;
		p->wcount++;
		txn_free(t);
		return;
	}
	root_end(t);		/* the connection goes back with a ROLLBACK */
	txn_free(t);
}

static unsigned
pg_live_txns(struct vault_store *vs)
{
	struct pg_store *s = (struct pg_store *)vs;
	unsigned n;

	pthread_mutex_lock(&s->mu);
	n = s->live;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static int
pg_sync(struct vault_store *vs)
{
	/*
	 * A commit made with synchronous_commit off reaches the disk within
	 * the server's wal_writer_delay, and before any later durable commit.
	 */
	(void)vs;
	return 0;
}

/* --- records --------------------------------------------------------------- */

static int
check_tab(struct pg_txn *t, unsigned tab)
{
	if (tab >= t->s->ntables)
		return sv_fail(t->s->msg, SV_ERR_INVALID, "no table %u", tab);
	return 0;
}

static int
check_key(struct pg_txn *t, const void *key, size_t klen)
{
	if (key == NULL || klen == 0 || klen > VAULT_STORE_MAX_KEY)
		return sv_fail(t->s->msg, SV_ERR_INVALID,
		    "record keys are 1 to %d bytes", VAULT_STORE_MAX_KEY);
	return 0;
}

/* Parameters: the table's id (int4) and a key (bytea), both binary. */
struct kparams {
	uint8_t tab[4];
	const char *vals[4];
	int lens[4];
	int fmts[4];
};

static void
kparams_set(struct kparams *kp, int tabid, const void *k, size_t klen)
{
	put_be32(kp->tab, (uint32_t)tabid);
	kp->vals[0] = (const char *)kp->tab;
	kp->lens[0] = 4;
	kp->fmts[0] = 1;
	kp->vals[1] = k;
	kp->lens[1] = (int)klen;
	kp->fmts[1] = 1;
}

static const char GET_SQL[] = "SELECT v FROM @records WHERE tab = $1::int4 AND k = $2::bytea";

/* Read (tab, key) from the database in t's snapshot: *ret_res NULL if absent. */
static int
db_get(struct pg_txn *t, unsigned tab, const void *key, size_t klen, PGresult **ret_res)
{
	struct kparams kp;
	PGresult *res = NULL;
	int r;

	kparams_set(&kp, t->s->tabid[tab], key, klen);
	if ((r = txn_prep(t, GET_SQL, 2, kp.vals, kp.lens, kp.fmts, &res,
	    "reading a record")) != 0)
		return r;
	if (PQntuples(res) == 0) {
		PQclear(res);
		res = NULL;
	}
	*ret_res = res;
	return 0;
}

static int
pg_get(struct vault_store_txn *vt, unsigned tab, const void *key, size_t klen,
    const uint8_t **ret_p, size_t *ret_len)
{
	struct pg_txn *t = (struct pg_txn *)vt;
	struct pg_store *s;
	struct pg_cent *e;
	struct chg c;
	PGresult *res = NULL;
	int r, own, keep = 0;

	if ((r = txn_check(t)) != 0 || (r = check_tab(t, tab)) != 0 ||
	    (r = check_key(t, key, klen)) != 0)
		return r;
	s = t->s;
	if (!t->write && !s->nocache) {
		/* the version the transaction's generation sees, if the cache has it */
		pthread_mutex_lock(&s->cmu);
		if ((e = cache_find(s, tab, key, klen, t->snap)) != NULL) {
			if (e->v == NULL)
				r = SV_ERR_NOT_FOUND;
			else
				r = txn_keep_copy(t, e->v, e->vlen, ret_p);
			if (r == 0)
				*ret_len = e->vlen;
			pthread_mutex_unlock(&s->cmu);
			if (t->mode == PG_CACHED && r != SV_ERR_NOMEM &&
			    (svbuf_put_u32(t->readset, tab) != 0 ||
			    svbuf_put_string(t->readset, key, klen) != 0))
				return sv_fail(s->msg, SV_ERR_NOMEM, "out of memory");
			return r;
		}
		pthread_mutex_unlock(&s->cmu);
		if (t->mode == PG_CACHED && (r = txn_upgrade(t)) != 0)
			return r;
	} else if (!s->nocache && txn_root(t)->nchanges < PG_OLD_MAX &&
	    (own = own_change(t, tab, key, klen, &c)) >= 0) {
		/*
		 * A write transaction sees the database as at gen0 (the lock) and
		 * its own changes: a key it changed is what it last wrote there,
		 * if that is known (not a deferred put); a key it did not change
		 * is the cache's version at gen0, if the cache knows every change
		 * up to there.
		 */
		uint64_t g0 = txn_root(t)->gen0;

		if (own && c.hasnew != 0) {
			r = c.hasnew == 1 ? SV_ERR_NOT_FOUND : txn_keep_copy(t, c.nv, c.nlen, ret_p);
			if (r == 0)
				*ret_len = c.nlen;
			return r;
		}
		if (own)
			goto db;
		keep = 1;
		pthread_mutex_lock(&s->cmu);
		if (s->cvalid && s->cgen == g0 && (e = cache_find(s, tab, key, klen, g0)) != NULL) {
			r = e->v == NULL ? SV_ERR_NOT_FOUND : txn_keep_copy(t, e->v, e->vlen, ret_p);
			if (r == 0)
				*ret_len = e->vlen;
			pthread_mutex_unlock(&s->cmu);
			return r;
		}
		pthread_mutex_unlock(&s->cmu);
		/* behind the snapshot: only a key that did not change since */
		if (t->snap != t->dbsnap && changes_touch(t->chg, t->chg_complete, tab, key, klen))
			return sv_fail(s->msg, SV_ERR_CONFLICT, "the vault changed on another "
			    "host while this request read it; try again");
	}
db:
	if ((r = db_get(t, tab, key, klen, &res)) != 0)
		return r;
	if (!t->write && !s->nocache) {
		pthread_mutex_lock(&s->cmu);
		if (s->cvalid && s->cgen == t->dbsnap)
			cache_put(s, tab, key, klen, res != NULL ? PQgetvalue(res, 0, 0) : NULL,
			    res != NULL ? (size_t)PQgetlength(res, 0, 0) : 0, t->snap);
		pthread_mutex_unlock(&s->cmu);
	} else if (keep) {
		/*
		 * A key the write transaction did not change, read under the
		 * lock: the version current at gen0, which the next write (and
		 * reads at gen0 or later) may take from the cache.
		 */
		uint64_t g0 = txn_root(t)->gen0;

		pthread_mutex_lock(&s->cmu);
		if (s->cvalid && s->cgen == g0)
			cache_put(s, tab, key, klen, res != NULL ? PQgetvalue(res, 0, 0) : NULL,
			    res != NULL ? (size_t)PQgetlength(res, 0, 0) : 0, g0);
		pthread_mutex_unlock(&s->cmu);
	}
	if (res == NULL)
		return SV_ERR_NOT_FOUND;
	*ret_p = (const uint8_t *)PQgetvalue(res, 0, 0);
	*ret_len = (size_t)PQgetlength(res, 0, 0);
	return txn_keep_res(t, res);
}

static int
check_write(struct pg_txn *t, unsigned tab, const void *key, size_t klen)
{
	int r;

	if ((r = txn_check(t)) != 0 || (r = check_tab(t, tab)) != 0 ||
	    (r = check_key(t, key, klen)) != 0)
		return r;
	if (!t->write)
		return sv_fail(t->s->msg, SV_ERR_INVALID,
		    "a write in a read-only transaction");
	if (t->bad)
		return sv_fail(t->s->msg, SV_ERR_STORAGE, "an earlier statement of the "
		    "transaction failed: it can only be aborted");
	return 0;
}

/* The bytes a write transaction and its ancestors hold. */
static long long
txn_bytes(const struct pg_txn *t)
{
	long long b = 0;

	for (; t != NULL; t = t->parent) {
		b += t->delta;
		if (t->parent == NULL)
			b += t->bytes0;
	}
	return b;
}

/*
 * Note a change for the cache: tab | key | u8 what the key held when the
 * transaction began (0 unknown, 1 absent, 2 the value that follows) |
 * string value.  old is given (had 1 or 2) on the key's first change only,
 * and only in transactions of at most PG_OLD_MAX changes (a rotation
 * changes everything: its readers then go to the database).
 */
static int
note_change(struct pg_txn *t, unsigned tab, const void *key, size_t klen, int had,
    const void *old, size_t olen, int hasnew, const void *nv, size_t nlen)
{
	struct pg_txn *root = txn_root(t);

	t->wcount++;
	if (root->nchanges >= PG_OLD_MAX)
		had = hasnew = 0;
	else if (had != 0 && changed_before(t, tab, key, klen))
		had = 0;
	root->nchanges++;
	txn_results_free(t);	/* pointers handed out end with a write */
	if (svbuf_put_u32(t->changed, tab) != 0 ||
	    svbuf_put_string(t->changed, key, klen) != 0 ||
	    svbuf_put_u8(t->changed, (uint8_t)had) != 0 ||
	    svbuf_put_string(t->changed, had == 2 ? old : "", had == 2 ? olen : 0) != 0 ||
	    svbuf_put_u8(t->changed, (uint8_t)hasnew) != 0 ||
	    svbuf_put_string(t->changed, hasnew == 2 ? nv : "", hasnew == 2 ? nlen : 0) != 0)
		return sv_fail(t->s->msg, SV_ERR_NOMEM, "out of memory");
	return 0;
}

static const char PUT_SQL[] =
    "WITH old AS (SELECT octet_length(v) AS l, v FROM @records "
    "WHERE tab = $1::int4 AND k = $2::bytea), "
    "up AS (INSERT INTO @records (tab, k, v) VALUES ($1::int4, $2::bytea, $3::bytea) "
    "ON CONFLICT (tab, k) DO UPDATE SET v = EXCLUDED.v), "
    "ch AS (INSERT INTO @changes (gen, tab, k) VALUES ($4::int8, $1::int4, $2::bytea)) "
    "SELECT (SELECT l FROM old)::int8, (SELECT v FROM old)";
static const char PUT_NEW_SQL[] =
    "WITH ins AS (INSERT INTO @records (tab, k, v) VALUES ($1::int4, $2::bytea, $3::bytea) "
    "ON CONFLICT (tab, k) DO NOTHING RETURNING 1), "
    "ch AS (INSERT INTO @changes (gen, tab, k) SELECT $4::int8, $1::int4, $2::bytea FROM ins) "
    "SELECT count(*)::int8 FROM ins";

/* A new key put with VAULT_STORE_DEFER: held, to go with the next statement. */
static int
defer_put(struct pg_txn *t, unsigned tab, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct pg_txn *root = txn_root(t);
	int r;

	if (root->dtab == NULL && ((root->dtab = svbuf_new(0)) == NULL ||
	    (root->dkey = svbuf_new(0)) == NULL || (root->dval = svbuf_new(0)) == NULL))
		return sv_fail(t->s->msg, SV_ERR_NOMEM, "out of memory");
	if (svbuf_put_u32(root->dtab, 4) != 0 ||
	    svbuf_put_u32(root->dtab, (uint32_t)t->s->tabid[tab]) != 0 ||
	    svbuf_put_string(root->dkey, key, klen) != 0 ||
	    svbuf_put_string(root->dval, val != NULL ? val : "", vlen) != 0) {
		/* the arrays no longer line up: nothing of it may be sent */
		defer_drop(t);
		t->bad = SV_ERR_NOMEM;
		return sv_fail(t->s->msg, SV_ERR_NOMEM, "out of memory");
	}
	root->ndefer++;
	t->delta += (long long)(klen + vlen);
	/* no new value for the cache: nobody reads audit records by key, and a
	 * fold's hundreds would push out what lookups read */
	if ((r = note_change(t, tab, key, klen, 0, NULL, 0, 0, NULL, 0)) != 0)
		return r;
	if (root->ndefer >= PG_DEFER_ROWS || svbuf_len(root->dval) >= PG_DEFER_BYTES)
		return txn_flush(t);
	return 0;
}

static int
pg_put(struct vault_store_txn *vt, unsigned tab, const void *key, size_t klen,
    const void *val, size_t vlen, unsigned flags)
{
	struct pg_txn *t = (struct pg_txn *)vt;
	struct kparams kp;
	PGresult *res = NULL;
	uint8_t gen[8];
	long long old = 0, used;
	int r;

	if ((r = check_write(t, tab, key, klen)) != 0)
		return r;
	if (vlen > (size_t)1 << 30)
		return sv_fail(t->s->msg, SV_ERR_TOO_LARGE, "a value over 1 GiB");
	used = txn_bytes(t);
	if (used < 0 || (size_t)used + klen + vlen > t->s->quota)
		return sv_fail(t->s->msg, SV_ERR_MAP_FULL, "writing a record: vault is "
		    "full (its ceiling is %zu bytes; raise SSOVAULT_MAX_SIZE)", t->s->quota);
	if ((flags & VAULT_STORE_DEFER) && (flags & VAULT_STORE_NOOVERWRITE))
		return defer_put(t, tab, key, klen, val, vlen);
	kparams_set(&kp, t->s->tabid[tab], key, klen);
	kp.vals[2] = val != NULL ? val : "";
	kp.lens[2] = (int)vlen;
	kp.fmts[2] = 1;
	put_be64(gen, txn_root(t)->gen0 + 1);
	kp.vals[3] = (const char *)gen;
	kp.lens[3] = 8;
	kp.fmts[3] = 1;
	if ((r = txn_prep(t, (flags & VAULT_STORE_NOOVERWRITE) ? PUT_NEW_SQL : PUT_SQL, 4,
	    kp.vals, kp.lens, kp.fmts, &res, "writing a record")) != 0)
		return r;
	if (flags & VAULT_STORE_NOOVERWRITE) {
		if (res_int(res, 0, 0) == 0) {
			PQclear(res);
			return SV_ERR_EXISTS;
		}
	} else if (!PQgetisnull(res, 0, 0))
		old = res_int(res, 0, 0) + (long long)klen;
	t->delta += (long long)(klen + vlen) - old;
	/* new keys taken with NOOVERWRITE (audit records, names) keep no old
	 * version: nobody reads them by key before they exist */
	if (flags & VAULT_STORE_NOOVERWRITE)
		r = note_change(t, tab, key, klen, 0, NULL, 0, 2, val, vlen);
	else if (PQgetisnull(res, 0, 1))
		r = note_change(t, tab, key, klen, 1, NULL, 0, 2, val, vlen);
	else
		r = note_change(t, tab, key, klen, 2, PQgetvalue(res, 0, 1),
		    (size_t)PQgetlength(res, 0, 1), 2, val, vlen);
	PQclear(res);
	return r;
}

static const char DEL_SQL[] =
    "WITH d AS (DELETE FROM @records WHERE tab = $1::int4 AND "
    "k = $2::bytea RETURNING octet_length(k) + octet_length(v) AS l, v), "
    "ch AS (INSERT INTO @changes (gen, tab, k) SELECT $3::int8, $1::int4, "
    "$2::bytea FROM d) SELECT (SELECT l FROM d)::int8, (SELECT v FROM d)";

static int
pg_del(struct vault_store_txn *vt, unsigned tab, const void *key, size_t klen)
{
	struct pg_txn *t = (struct pg_txn *)vt;
	struct kparams kp;
	PGresult *res = NULL;
	uint8_t gen[8];
	long long n;
	int r;

	if ((r = check_write(t, tab, key, klen)) != 0)
		return r;
	kparams_set(&kp, t->s->tabid[tab], key, klen);
	put_be64(gen, txn_root(t)->gen0 + 1);
	kp.vals[2] = (const char *)gen;
	kp.lens[2] = 8;
	kp.fmts[2] = 1;
	if ((r = txn_prep(t, DEL_SQL, 3, kp.vals, kp.lens, kp.fmts, &res,
	    "deleting a record")) != 0)
		return r;
	if (PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return SV_ERR_NOT_FOUND;
	}
	n = res_int(res, 0, 0);
	t->delta -= n;
	r = note_change(t, tab, key, klen, 2, PQgetvalue(res, 0, 1),
	    (size_t)PQgetlength(res, 0, 1), 1, NULL, 0);
	PQclear(res);
	return r;
}

/* Cursors and counts read the real snapshot. */
static int
txn_direct(struct pg_txn *t)
{
	int r;

	if (t->mode == PG_CACHED && (r = txn_upgrade(t)) != 0)
		return r;
	if (!t->write && t->snap != t->dbsnap)
		return sv_fail(t->s->msg, SV_ERR_CONFLICT, "the vault changed on another "
		    "host while this request read it; try again");
	return 0;
}

static int
pg_entries(struct vault_store_txn *vt, unsigned tab, size_t *ret)
{
	struct pg_txn *t = (struct pg_txn *)vt;
	struct kparams kp;
	PGresult *res = NULL;
	int r;

	if ((r = txn_check(t)) != 0 || (r = check_tab(t, tab)) != 0 ||
	    (r = txn_direct(t)) != 0)
		return r;
	kparams_set(&kp, t->s->tabid[tab], "", 0);
	if ((r = txn_run(t, "SELECT count(*)::int8 FROM @records WHERE tab = $1::int4", 1,
	    kp.vals, kp.lens, kp.fmts, &res, "counting records")) != 0)
		return r;
	*ret = (size_t)res_int(res, 0, 0);
	PQclear(res);
	return 0;
}

/* --- cursors --------------------------------------------------------------- */

static int
pg_cursor_open(struct vault_store_txn *vt, unsigned tab, struct vault_store_cursor **ret)
{
	struct pg_txn *t = (struct pg_txn *)vt;
	struct pg_cursor *c;
	int r;

	if ((r = txn_check(t)) != 0 || (r = check_tab(t, tab)) != 0 ||
	    (r = txn_direct(t)) != 0)
		return r;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return sv_fail(t->s->msg, SV_ERR_NOMEM, "out of memory");
	c->base.ops = &vault_store_pg;
	c->t = t;
	c->tab = tab;
	c->row = -1;
	c->next = t->cursors;
	t->cursors = c;
	*ret = &c->base;
	return 0;
}

/* Fetch rows after (or from: incl) key, or the last row (last). */
static int
cursor_fetch(struct pg_cursor *c, const void *key, size_t klen, int incl, int last)
{
	struct pg_txn *t = c->t;
	static const char last_sql[] = "SELECT k, v FROM @records WHERE tab = $1::int4 "
	    "ORDER BY k DESC LIMIT 1";
	static const char ge_sql[] = "SELECT k, v FROM @records WHERE tab = $1::int4 "
	    "AND k >= $2::bytea ORDER BY k LIMIT " PG_BATCH_STR;
	static const char gt_sql[] = "SELECT k, v FROM @records WHERE tab = $1::int4 "
	    "AND k > $2::bytea ORDER BY k LIMIT " PG_BATCH_STR;
	struct kparams kp;
	PGresult *res = NULL;
	int r;

	kparams_set(&kp, t->s->tabid[c->tab], key, klen);
	if ((r = txn_prep(t, last ? last_sql : incl ? ge_sql : gt_sql, last ? 1 : 2, kp.vals,
	    kp.lens, kp.fmts, &res, "walking a table")) != 0)
		return r;
	PQclear(c->batch);
	c->batch = res;
	c->row = PQntuples(res) > 0 ? 0 : -1;
	c->at_end = last || PQntuples(res) < PG_BATCH;
	c->wcount = t->wcount;
	return 0;
}

static int
cursor_set_current(struct pg_cursor *c)
{
	const char *k;
	size_t n;
	uint8_t *p;

	if (c->row < 0) {
		c->has_cur = 0;
		return 0;
	}
	k = PQgetvalue(c->batch, c->row, 0);
	n = (size_t)PQgetlength(c->batch, c->row, 0);
	if ((p = malloc(n + 1)) == NULL)
		return sv_fail(c->t->s->msg, SV_ERR_NOMEM, "out of memory");
	memcpy(p, k, n);
	free(c->cur);
	c->cur = p;
	c->curlen = n;
	c->has_cur = 1;
	return 0;
}

static int
pg_cursor_get(struct vault_store_cursor *vc, enum vault_store_op op,
    const void *key, size_t klen, const uint8_t **ret_key, size_t *ret_klen,
    const uint8_t **ret_val, size_t *ret_vlen)
{
	struct pg_cursor *c = (struct pg_cursor *)vc;
	int r;

	if (c == NULL || c->dead || c->t == NULL)
		return sv_fail(NULL, SV_ERR_INVALID, "cursor's transaction has ended");
	if ((r = txn_check(c->t)) != 0)
		return r;
	switch (op) {
	case VAULT_STORE_FIRST:
		r = cursor_fetch(c, "", 0, 1, 0);
		break;
	case VAULT_STORE_LAST:
		r = cursor_fetch(c, NULL, 0, 0, 1);
		break;
	case VAULT_STORE_SEEK:
		if (key == NULL && klen > 0)
			return sv_fail(c->t->s->msg, SV_ERR_INVALID, "seek without a key");
		r = cursor_fetch(c, key != NULL ? key : "", klen, 1, 0);
		break;
	case VAULT_STORE_NEXT:
		if (!c->has_cur)
			r = cursor_fetch(c, "", 0, 1, 0);
		else if (c->batch != NULL && c->wcount == c->t->wcount &&
		    c->row >= 0 && c->row + 1 < PQntuples(c->batch)) {
			c->row++;
			r = 0;
		} else if (c->batch != NULL && c->wcount == c->t->wcount && c->at_end) {
			c->row = -1;
			return 0;
		} else
			r = cursor_fetch(c, c->cur, c->curlen, 0, 0);
		break;
	case VAULT_STORE_CURRENT:
		if (!c->has_cur)
			return 0;
		if (c->batch == NULL || c->wcount != c->t->wcount || c->row < 0) {
			if ((r = cursor_fetch(c, c->cur, c->curlen, 1, 0)) != 0)
				return r;
			if (c->row < 0 || (size_t)PQgetlength(c->batch, 0, 0) != c->curlen ||
			    memcmp(PQgetvalue(c->batch, 0, 0), c->cur, c->curlen) != 0) {
				c->row = -1;
				return 0;
			}
		}
		r = 0;
		break;
	default:
		return sv_fail(c->t->s->msg, SV_ERR_INVALID, "bad cursor operation");
	}
	if (r != 0)
		return r;
	if (c->row < 0) {
		if (op != VAULT_STORE_NEXT)
			c->has_cur = 0;
		return 0;
	}
	if ((r = cursor_set_current(c)) != 0)
		return r;
	if (ret_key != NULL)
		*ret_key = (const uint8_t *)PQgetvalue(c->batch, c->row, 0);
	if (ret_klen != NULL)
		*ret_klen = (size_t)PQgetlength(c->batch, c->row, 0);
	if (ret_val != NULL)
		*ret_val = (const uint8_t *)PQgetvalue(c->batch, c->row, 1);
	if (ret_vlen != NULL)
		*ret_vlen = (size_t)PQgetlength(c->batch, c->row, 1);
	return 1;
}

static int
pg_cursor_del(struct vault_store_cursor *vc)
{
	struct pg_cursor *c = (struct pg_cursor *)vc;

	if (c == NULL || c->dead || c->t == NULL)
		return sv_fail(NULL, SV_ERR_INVALID, "cursor's transaction has ended");
	if (!c->has_cur)
		return sv_fail(c->t->s->msg, SV_ERR_INVALID, "the cursor is on no entry");
	return pg_del(&c->t->base, c->tab, c->cur, c->curlen);
}

static void
pg_cursor_close(struct vault_store_cursor *vc)
{
	struct pg_cursor *c = (struct pg_cursor *)vc, **pp;

	if (c == NULL)
		return;
	if (!c->dead && c->t != NULL)
		for (pp = &c->t->cursors; *pp != NULL; pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				break;
			}
	PQclear(c->batch);
	free(c->cur);
	free(c);
}

/* --- sizes ----------------------------------------------------------------- */

static int
pg_txn_used(struct vault_store_txn *vt, size_t *ret)
{
	struct pg_txn *t = (struct pg_txn *)vt;
	PGresult *res = NULL;
	long long b;
	int r;

	if ((r = txn_check(t)) != 0)
		return r;
	if (t->write) {
		b = txn_bytes(t);
		*ret = b > 0 ? (size_t)b : 0;
		return 0;
	}
	if ((r = txn_direct(t)) != 0 ||
	    (r = txn_run(t, "SELECT bytes FROM @state", 0, NULL, NULL, NULL, &res,
	    "reading the vault's size")) != 0)
		return r;
	b = PQntuples(res) == 1 ? res_int(res, 0, 0) : 0;
	PQclear(res);
	*ret = b > 0 ? (size_t)b : 0;
	return 0;
}

static int
pg_info(struct vault_store *vs, struct vault_store_size *ret)
{
	struct pg_store *s = (struct pg_store *)vs;

	ret->map_size = s->quota;
	ret->max_size = s->quota;
	ret->file_bytes = 0;
	return 0;
}

/*
 * The version a memo of answers keys on (store.h; sso/core/memo.c): a
 * read's generation.  Two reads at one generation see the same data,
 * from the cache or from the database's snapshot of it (a read that met a
 * change since is refused: "try again").  A read begun now reads at the
 * cache's generation if the cache is fresh (checked within PG_FRESH_MS,
 * DESIGN 10's bound, exactly as pg_txn_begin() decides); if not, it checks
 * first, and the version is not known without that round trip.
 */
static int
pg_txn_version(struct vault_store_txn *vt, uint64_t *ret)
{
	struct pg_txn *t = (struct pg_txn *)vt;

	if (t == NULL || t->dead || t->write || t->parent != NULL || t->s->nocache)
		return SV_ERR_INVALID;
	*ret = t->snap;
	return 0;
}

static int
pg_version(struct vault_store *vs, uint64_t *ret)
{
	struct pg_store *s = (struct pg_store *)vs;
	long long now = now_ms();
	int fresh;

	pthread_mutex_lock(&s->cmu);
	fresh = !s->nocache && s->cvalid && s->cgen >= s->local_gen &&
	    now - s->checked_ms < PG_FRESH_MS;
	if (fresh)
		*ret = s->cgen;
	pthread_mutex_unlock(&s->cmu);
	return fresh ? 0 : SV_ERR_INVALID;
}

static int
pg_grow(struct vault_store *vs, size_t room)
{
	(void)vs;
	(void)room;
	return 0;		/* the database grows by itself; the quota does not */
}

/* --- open, create, close --------------------------------------------------- */

static int
store_new(const char *uri, const struct vault_store_conf *conf, const char *prefix,
    char *msg, struct pg_store **ret)
{
	struct pg_store *s;

	if (conf->ntables == 0 || conf->ntables > VAULT_STORE_MAX_TABLES)
		return sv_fail(msg, SV_ERR_INVALID, "storage: bad table count");
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->uri = strdup(uri)) == NULL) {
		free(s);
		return sv_fail(msg, SV_ERR_NOMEM, "out of memory");
	}
	s->base.ops = &vault_store_pg;
	s->msg = msg;
	snprintf(s->prefix, sizeof(s->prefix), "%s", prefix);
	s->ntables = conf->ntables;
	s->quota = conf->max_size != 0 ? conf->max_size : conf->map_size;
	s->nocache = getenv("SSOVAULT_PG_CACHE") != NULL &&
	    strcmp(getenv("SSOVAULT_PG_CACHE"), "off") == 0;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->cmu, NULL);
	pthread_cond_init(&s->cv, NULL);
	*ret = s;
	return 0;
}

static void
pg_close(struct vault_store *vs)
{
	struct pg_store *s = (struct pg_store *)vs;
	struct pg_conn *pc;

	if (s == NULL)
		return;
	while ((pc = s->idle) != NULL) {
		s->idle = pc->next;
		PQfinish(pc->c);
		free(pc);
	}
	cache_clear(s);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->cmu);
	pthread_cond_destroy(&s->cv);
	free(s->uri);
	free(s);
}

/* One statement on a connection of its own, outside any transaction. */
static int
store_exec(struct pg_store *s, const char *tmpl, int nparams, const char *const *vals,
    PGresult **ret, const char *what)
{
	struct pg_conn *pc = NULL;
	char sql[2048];
	int r;

	if ((r = pool_get(s, &pc)) != 0)
		return r;
	sql_of(s, tmpl, sql, sizeof(sql));
	r = conn_lost(pc, pq_run_ms(s, pc->c, sql, nparams, vals, NULL, NULL, 0, ret, what,
	    PG_QUERY_MS));
	conn_release(s, pc);
	return r;
}

int
vault_store_pg_view(struct vault_store *vs, struct vault_store_pg_view *ret)
{
	struct pg_store *s = (struct pg_store *)vs;
	PGresult *res = NULL;

	memset(ret, 0, sizeof(*ret));
	if (vs == NULL || vs->ops != &vault_store_pg)
		return SV_ERR_INVALID;
	ret->round_trips = __atomic_load_n(&s->trips, __ATOMIC_RELAXED);
	if (store_exec(s, "SELECT gen FROM @state", 0, NULL, &res, "reading the generation") == 0 &&
	    PQntuples(res) == 1) {
		ret->reachable = 1;
		ret->db_gen = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	}
	PQclear(res);
	pthread_mutex_lock(&s->cmu);
	ret->cache_gen = s->cvalid ? s->cgen : 0;
	ret->checked_ms_ago = s->checked_ms > 0 ? now_ms() - s->checked_ms : -1;
	ret->writes = s->writes;
	pthread_mutex_unlock(&s->cmu);
	pthread_mutex_lock(&s->mu);
	ret->connections = s->nconns;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* Map the conf's tables to the database's ids: a missing one is no vault. */
static int
tables_map(struct pg_store *s, const struct vault_store_conf *conf, const char *uri)
{
	PGresult *res = NULL;
	unsigned i;
	int r, j, n;

	if ((r = store_exec(s, "SELECT id, name FROM @tables", 0, NULL, &res,
	    "reading the vault's tables")) != 0) {
		if (r == SV_ERR_BAD_FORMAT)
			return sv_fail(s->msg, SV_ERR_NO_VAULT, "no vault in %s", uri);
		return r;
	}
	n = PQntuples(res);
	for (i = 0; i < conf->ntables; i++) {
		s->tabid[i] = -1;
		for (j = 0; j < n; j++)
			if (strcmp(PQgetvalue(res, j, 1), conf->tables[i]) == 0)
				s->tabid[i] = atoi(PQgetvalue(res, j, 0));
		if (s->tabid[i] < 0) {
			PQclear(res);
			return sv_fail(s->msg, SV_ERR_BAD_FORMAT,
			    "%s is not a vault: it has no table %s", uri, conf->tables[i]);
		}
	}
	PQclear(res);
	return 0;
}

static int
open_prefix(const char *uri, const struct vault_store_conf *conf, const char *prefix,
    char *msg, struct pg_store **ret)
{
	struct pg_store *s = NULL;
	int r;

	if ((r = uri_check(uri, msg)) != 0 ||
	    (r = store_new(uri, conf, prefix, msg, &s)) != 0)
		return r;
	if ((r = tables_map(s, conf, uri)) != 0) {
		pg_close(&s->base);
		return r;
	}
	*ret = s;
	return 0;
}

static int
pg_open(const struct vault_store_loc *loc, const struct vault_store_conf *conf,
    char *msg, struct vault_store **ret)
{
	struct pg_store *s = NULL;
	int r;

	if ((r = open_prefix(loc->path, conf, PG_PREFIX, msg, &s)) != 0)
		return r;
	*ret = &s->base;
	return 0;
}

static int
pg_probe(const struct vault_store_loc *loc, char *msg)
{
	static const char *const none[] = { "meta" };
	struct vault_store_conf conf = { 1, 1, 0, none, 1 };
	struct pg_store *s = NULL;
	PGresult *res = NULL;
	int r;

	if ((r = uri_check(loc->path, msg)) != 0 ||
	    (r = store_new(loc->path, &conf, PG_PREFIX, msg, &s)) != 0)
		return r;
	r = store_exec(s, "SELECT to_regclass('@state') IS NOT NULL", 0, NULL, &res,
	    "looking for a vault");
	if (r == 0) {
		if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
			r = sv_fail(msg, SV_ERR_NO_VAULT, "no vault in %s", loc->path);
		PQclear(res);
	}
	pg_close(&s->base);
	return r;
}

static const char CREATE_SQL[] =
    "BEGIN; "
    "CREATE TABLE @tables (id integer PRIMARY KEY, name text NOT NULL UNIQUE); "
    "CREATE TABLE @records (tab integer NOT NULL, k bytea NOT NULL, v bytea NOT NULL, "
    "PRIMARY KEY (tab, k)); "
    "CREATE TABLE @state (one boolean PRIMARY KEY DEFAULT true CHECK (one), "
    "gen bigint NOT NULL, bytes bigint NOT NULL); "
    "CREATE TABLE @changes (gen bigint NOT NULL, tab integer NOT NULL, k bytea); "
    "CREATE INDEX @changes_gen ON @changes (gen); "
    "INSERT INTO @state (gen, bytes) VALUES (0, 0); ";

static int
create_prefix(const char *uri, const struct vault_store_conf *conf, const char *prefix,
    char *msg, struct pg_store **ret)
{
	struct pg_store *s = NULL;
	struct pg_conn *pc = NULL;
	char sql[2048], id[16];
	const char *vals[2];
	unsigned i;
	int r;

	if ((r = uri_check(uri, msg)) != 0 ||
	    (r = store_new(uri, conf, prefix, msg, &s)) != 0)
		return r;
	if ((r = pool_get(s, &pc)) != 0)
		goto out;
	sql_of(s, CREATE_SQL, sql, sizeof(sql));
	if ((r = conn_lost(pc, pq_run(s, pc->c, sql, 0, NULL, NULL, NULL, NULL,
	    "creating the vault's tables"))) != 0) {
		if (r == SV_ERR_STORAGE && strstr(msg, "42P07") != NULL)
			r = sv_fail(msg, SV_ERR_EXISTS, "%s already holds a vault", uri);
		goto out;
	}
	sql_of(s, "INSERT INTO @tables (id, name) VALUES ($1::int4, $2)", sql, sizeof(sql));
	for (i = 0; i < conf->ntables; i++) {
		snprintf(id, sizeof(id), "%u", i);
		vals[0] = id;
		vals[1] = conf->tables[i];
		s->tabid[i] = (int)i;
		if ((r = conn_lost(pc, pq_run_ms(s, pc->c, sql, 2, vals, NULL, NULL, 0, NULL,
		    "creating the vault's tables", PG_QUERY_MS))) != 0)
			goto out;
	}
	r = conn_lost(pc, pq_run(s, pc->c, "COMMIT", 0, NULL, NULL, NULL, NULL,
	    "creating the vault's tables"));
out:
	conn_release(s, pc);
	if (r != 0) {
		pg_close(&s->base);
		return r;
	}
	*ret = s;
	return 0;
}

static int
pg_create(const struct vault_store_loc *loc, const struct vault_store_conf *conf,
    char *msg, struct vault_store **ret)
{
	struct pg_store *s = NULL;
	int r;

	if ((r = create_prefix(loc->path, conf, PG_PREFIX, msg, &s)) != 0)
		return r;
	*ret = &s->base;
	return 0;
}

static void
drop_prefix(const char *uri, const char *prefix)
{
	static const char *const none[] = { "meta" };
	struct vault_store_conf conf = { 1, 1, 0, none, 1 };
	char msg[SV_MSG_MAX];
	struct pg_store *s = NULL;

	if (uri_check(uri, msg) != 0 || store_new(uri, &conf, prefix, msg, &s) != 0)
		return;
	(void)store_exec(s, "DROP TABLE IF EXISTS @changes, @state, @records, @tables",
	    0, NULL, NULL, "removing the vault's tables");
	pg_close(&s->base);
}

static void
pg_remove(const struct vault_store_loc *loc)
{
	drop_prefix(loc->path, PG_PREFIX);
}

/* --- copy and restore ------------------------------------------------------ */

static int
fd_write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, b, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The dump (docs/hosts.md): magic | u32 version | u32 ntables |
 * (u32 id | string name)... | (u8 1 | u32 tab | string k | string v)... |
 * u8 0 | u64 bytes.  Written from one REPEATABLE READ snapshot.
 */
static int
pg_copy_fd(struct vault_store *vs, int fd)
{
	struct pg_store *s = (struct pg_store *)vs;
	struct vault_store_txn *vt = NULL;
	struct pg_txn *t;
	struct svbuf *b = NULL;
	PGresult *res = NULL;
	uint8_t last[VAULT_STORE_MAX_KEY];
	size_t lastlen = 0;
	int r, i, n, more = 1, lasttab = -1;
	char tmpl[256], lt[16];
	const char *vals[2];
	int lens[2], fmts[2] = { 0, 1 };

	if ((b = svbuf_new(0)) == NULL)
		return sv_fail(s->msg, SV_ERR_NOMEM, "out of memory");
	if ((r = pg_txn_begin(vs, NULL, 0, &vt)) != 0)
		goto out;
	t = (struct pg_txn *)vt;
	if ((r = txn_direct(t)) != 0 ||
	    (r = txn_run(t, "SELECT id, name FROM @tables ORDER BY id", 0, NULL, NULL,
	    NULL, &res, "reading the vault's tables")) != 0)
		goto out;
	n = PQntuples(res);
	if ((r = svbuf_put(b, PG_DUMP_MAGIC, strlen(PG_DUMP_MAGIC))) != 0 ||
	    (r = svbuf_put_u32(b, PG_DUMP_VERSION)) != 0 ||
	    (r = svbuf_put_u32(b, (uint32_t)n)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = svbuf_put_u32(b, (uint32_t)res_int(res, i, 0))) != 0 ||
		    (r = svbuf_put_cstring(b, PQgetvalue(res, i, 1))) != 0)
			goto out;
	PQclear(res);
	res = NULL;
	/* in pages of rows, so that a large vault is never all in memory */
	while (more) {
		snprintf(lt, sizeof(lt), "%d", lasttab);
		vals[0] = lt;
		lens[0] = 0;
		vals[1] = (const char *)last;
		lens[1] = (int)lastlen;
		snprintf(tmpl, sizeof(tmpl), "SELECT tab, k, v FROM @records WHERE "
		    "(tab, k) > ($1::int4, $2::bytea) ORDER BY tab, k LIMIT 512");
		if ((r = txn_run(t, tmpl, 2, vals, lens, fmts, &res, "copying the vault")) != 0)
			goto out;
		n = PQntuples(res);
		more = n == 512;
		for (i = 0; i < n; i++) {
			if ((r = svbuf_put_u8(b, 1)) != 0 ||
			    (r = svbuf_put_u32(b, (uint32_t)res_int(res, i, 0))) != 0 ||
			    (r = svbuf_put_string(b, PQgetvalue(res, i, 1),
			    (size_t)PQgetlength(res, i, 1))) != 0 ||
			    (r = svbuf_put_string(b, PQgetvalue(res, i, 2),
			    (size_t)PQgetlength(res, i, 2))) != 0)
				goto out;
		}
		if (n > 0) {
			lasttab = (int)res_int(res, n - 1, 0);
			lastlen = (size_t)PQgetlength(res, n - 1, 1);
			if (lastlen > sizeof(last))
				lastlen = sizeof(last);
			memcpy(last, PQgetvalue(res, n - 1, 1), lastlen);
		}
		PQclear(res);
		res = NULL;
		if (fd_write_all(fd, svbuf_ptr(b), svbuf_len(b)) != 0) {
			r = sv_fail(s->msg, errno == ENOSPC ? SV_ERR_NO_SPACE : SV_ERR_IO,
			    "writing the copy: %s", strerror(errno));
			goto out;
		}
		svbuf_reset(b);
	}
	if ((r = txn_run(t, "SELECT bytes FROM @state", 0, NULL, NULL, NULL, &res,
	    "reading the vault's size")) != 0 ||
	    (r = svbuf_put_u8(b, 0)) != 0 ||
	    (r = svbuf_put_u64(b, (uint64_t)res_int(res, 0, 0))) != 0)
		goto out;
	if (fd_write_all(fd, svbuf_ptr(b), svbuf_len(b)) != 0 || fsync(fd) != 0)
		r = sv_fail(s->msg, errno == ENOSPC ? SV_ERR_NO_SPACE : SV_ERR_IO,
		    "writing the copy: %s", strerror(errno));
out:
	PQclear(res);
	pg_txn_abort(vt);
	svbuf_free(b);
	return r;
}

/* Read all of fd (at most max bytes) into a new buffer. */
static int
fd_read_all(int fd, size_t max, char *msg, struct svbuf **ret)
{
	struct svbuf *b = svbuf_new(max + 1);
	uint8_t *p;
	ssize_t n;
	int r;

	if (b == NULL)
		return sv_fail(msg, SV_ERR_NOMEM, "out of memory");
	for (;;) {
		if ((r = svbuf_reserve(b, 65536, &p)) != 0) {
			svbuf_free(b);
			return sv_fail(msg, SV_ERR_TOO_LARGE, "the copy is larger than %zu bytes",
			    max);
		}
		n = read(fd, p, 65536);
		if (n < 0 && errno == EINTR)
			n = 0;
		if (n < 0) {
			r = sv_fail(msg, SV_ERR_IO, "reading the copy: %s", strerror(errno));
			svbuf_free(b);
			return r;
		}
		if (svbuf_unreserve(b, 65536 - (size_t)n) != 0) {
			svbuf_free(b);
			return sv_fail(msg, SV_ERR_INTERNAL, "reading the copy");
		}
		if (n == 0)
			break;
		if (svbuf_len(b) > max) {
			svbuf_free(b);
			return sv_fail(msg, SV_ERR_TOO_LARGE, "the copy is larger than %zu bytes",
			    max);
		}
	}
	*ret = b;
	return 0;
}

/* Load a dump into the (fresh, staged) tables of s, in one transaction. */
static int
dump_load(struct pg_store *s, const struct vault_store_conf *conf, struct svbuf *b)
{
	struct vault_store_txn *vt = NULL;
	struct pg_txn *t;
	const uint8_t *k, *v;
	size_t klen, vlen, ml = strlen(PG_DUMP_MAGIC);
	uint32_t ver, n, i, tab, ids[VAULT_STORE_MAX_TABLES];
	int to[VAULT_STORE_MAX_TABLES];
	uint64_t bytes;
	uint8_t more;
	char *name = NULL;
	unsigned j;
	int r;

	if (svbuf_len(b) < ml || memcmp(svbuf_ptr(b), PG_DUMP_MAGIC, ml) != 0 ||
	    svbuf_consume(b, ml) != 0)
		return sv_fail(s->msg, SV_ERR_BAD_FORMAT,
		    "not a copy of a PostgreSQL vault (made by ssovault backup)");
	if (svbuf_get_u32(b, &ver) != 0 || ver != PG_DUMP_VERSION ||
	    svbuf_get_u32(b, &n) != 0 || n > VAULT_STORE_MAX_TABLES)
		return sv_fail(s->msg, SV_ERR_BAD_FORMAT, "the copy's header is damaged");
	/* the dump's table ids, mapped by name to this store's */
	for (i = 0; i < n; i++) {
		if (svbuf_get_u32(b, &ids[i]) != 0 || svbuf_get_cstring(b, &name) != 0)
			return sv_fail(s->msg, SV_ERR_BAD_FORMAT, "the copy's tables are damaged");
		to[i] = -1;
		for (j = 0; j < conf->ntables; j++)
			if (strcmp(conf->tables[j], name) == 0)
				to[i] = s->tabid[j];
		free(name);
		name = NULL;
	}
	if ((r = pg_txn_begin(&s->base, NULL, 1, &vt)) != 0)
		return r;
	t = (struct pg_txn *)vt;
	for (;;) {
		struct kparams kp;

		if (svbuf_get_u8(b, &more) != 0) {
			r = sv_fail(s->msg, SV_ERR_TRUNCATED, "the copy is truncated");
			goto out;
		}
		if (more == 0)
			break;
		if (more != 1 || svbuf_get_u32(b, &tab) != 0 ||
		    svbuf_get_string_direct(b, &k, &klen) != 0 ||
		    svbuf_get_string_direct(b, &v, &vlen) != 0 ||
		    klen == 0 || klen > VAULT_STORE_MAX_KEY) {
			r = sv_fail(s->msg, SV_ERR_BAD_FORMAT, "the copy's records are damaged");
			goto out;
		}
		for (i = 0; i < n && ids[i] != tab; i++)
			;
		if (i == n || to[i] < 0) {
			r = sv_fail(s->msg, SV_ERR_BAD_FORMAT,
			    "the copy holds a table this vault does not have");
			goto out;
		}
		kparams_set(&kp, to[i], k, klen);
		kp.vals[2] = (const char *)v;
		kp.lens[2] = (int)vlen;
		kp.fmts[2] = 1;
		if ((r = txn_run(t, "INSERT INTO @records (tab, k, v) VALUES ($1::int4, "
		    "$2::bytea, $3::bytea)", 3, kp.vals, kp.lens, kp.fmts, NULL,
		    "loading the copy")) != 0)
			goto out;
		t->delta += (long long)(klen + vlen);
	}
	if (svbuf_get_u64(b, &bytes) != 0 || svbuf_expect_end(b) != 0) {
		r = sv_fail(s->msg, SV_ERR_BAD_FORMAT, "the copy's end is damaged");
		goto out;
	}
	if ((r = note_change(t, UINT32_MAX, "*", 1, 0, NULL, 0, 0, NULL, 0)) != 0)
		goto out;
	r = pg_txn_commit(vt, 0);
	vt = NULL;
out:
	pg_txn_abort(vt);
	return r;
}

static int
pg_restore_stage(const struct vault_store_loc *loc, int fd, size_t max,
    const struct vault_store_conf *conf, char *msg, struct vault_store **ret_check)
{
	struct pg_store *s = NULL;
	struct svbuf *b = NULL;
	struct vault_store_conf all = *conf;
	int r;

	if ((r = uri_check(loc->path, msg)) != 0 ||
	    (r = fd_read_all(fd, max, msg, &b)) != 0)
		return r;
	drop_prefix(loc->path, PG_STAGE_PREFIX);
	/* the staged tables carry the dump's table ids: make them as they were */
	if ((r = create_prefix(loc->path, &all, PG_STAGE_PREFIX, msg, &s)) != 0)
		goto out;
	if ((r = dump_load(s, &all, b)) != 0)
		goto out;
	s->staged = 1;
	*ret_check = &s->base;
	s = NULL;
out:
	svbuf_free(b);
	if (s != NULL) {
		pg_close(&s->base);
		drop_prefix(loc->path, PG_STAGE_PREFIX);
	}
	return r;
}

static int
pg_restore_swap(const struct vault_store_loc *loc, char *msg)
{
	static const char *const none[] = { "meta" };
	struct vault_store_conf conf = { 1, 1, 0, none, 1 };
	struct pg_store *s = NULL;
	int r;

	if ((r = uri_check(loc->path, msg)) != 0 ||
	    (r = store_new(loc->path, &conf, PG_PREFIX, msg, &s)) != 0)
		return r;
	/* one transaction: every host sees the old vault or the restored one */
	r = store_exec(s, "BEGIN; "
	    "SELECT gen FROM " PG_PREFIX "state FOR UPDATE; "
	    "DELETE FROM " PG_PREFIX "records; "
	    "INSERT INTO " PG_PREFIX "records (tab, k, v) SELECT t.id, r.k, r.v FROM "
	    PG_STAGE_PREFIX "records r JOIN " PG_STAGE_PREFIX "tables st ON st.id = r.tab "
	    "JOIN " PG_PREFIX "tables t ON t.name = st.name; "
	    "UPDATE " PG_PREFIX "state SET gen = gen + 1, bytes = (SELECT bytes FROM "
	    PG_STAGE_PREFIX "state); "
	    "INSERT INTO " PG_PREFIX "changes (gen, tab, k) SELECT gen, -1, NULL FROM "
	    PG_PREFIX "state; "
	    "COMMIT", 0, NULL, NULL, "putting the restored copy in place");
	pg_close(&s->base);
	return r;
}

static void
pg_restore_drop(const struct vault_store_loc *loc)
{
	drop_prefix(loc->path, PG_STAGE_PREFIX);
}

const struct vault_store_ops vault_store_pg = {
	.name = "postgresql",
	.probe = pg_probe,
	.create = pg_create,
	.remove = pg_remove,
	.open = pg_open,
	.close = pg_close,
	.restore_stage = pg_restore_stage,
	.restore_swap = pg_restore_swap,
	.restore_drop = pg_restore_drop,
	.live_txns = pg_live_txns,
	.txn_begin = pg_txn_begin,
	.txn_commit = pg_txn_commit,
	.txn_abort = pg_txn_abort,
	.sync = pg_sync,
	.get = pg_get,
	.put = pg_put,
	.del = pg_del,
	.entries = pg_entries,
	.cursor_open = pg_cursor_open,
	.cursor_get = pg_cursor_get,
	.cursor_del = pg_cursor_del,
	.cursor_close = pg_cursor_close,
	.info = pg_info,
	.txn_used = pg_txn_used,
	.grow = pg_grow,
	.copy_fd = pg_copy_fd,
	.txn_version = pg_txn_version,
	.version = pg_version,
};
