/*
 * Unit tests of the per-uid shares of ssovaultd (shares.h): connections with
 * the admins' reserve, buffered bytes with the log-once flag, key
 * derivations one at a time per uid with a memory budget, the back-off
 * after wrong secrets (driven by a fake clock), forgetting, and the bound on
 * the table of uids.
 */
#include <stdio.h>
#include <string.h>

#include "shares.h"
#include "tap.h"

static struct sso_shares_limits
limits(void)
{
	struct sso_shares_limits l;

	memset(&l, 0, sizeof(l));
	l.conn_max = 10;
	l.conn_per_uid = 4;
	l.conn_reserved = 2;
	l.bytes_max = 1000;
	l.bytes_per_uid = 400;
	l.kdf_memory = 300;
	l.backoff_first_ms = 1000;
	l.backoff_max_ms = 8000;
	l.forget_ms = 60000;
	return l;
}

static void
test_conns(void)
{
	struct sso_shares_limits l = limits();
	struct sso_shares *s = NULL;
	struct sso_shares_usage u;
	char m[SV_MSG_MAX];
	unsigned n;
	size_t b;
	int i, r = 0;

	ok(sso_shares_new(&l, &s) == 0, "conns: new");
	for (i = 0; i < 4 && r == 0; i++)
		r = sso_shares_conn_open(s, 1001, 0, m);
	is_int(r, 0, "uid 1001 opens its share of 4");
	is_int(sso_shares_conn_open(s, 1001, 1, m), SV_ERR_UNREACHABLE, "a 5th: refused, admin or not");
	ok(strstr(m, "uid 1001 has 4 connections") != NULL, "... names the uid and its count");
	for (i = 0; i < 4 && r == 0; i++)
		r = sso_shares_conn_open(s, 1002, 0, m);
	is_int(r, 0, "uid 1002 opens 4 (8 of 10 in all)");
	is_int(sso_shares_conn_open(s, 1003, 0, m), SSO_SHARES_ASK_ADMIN,
	    "the 9th, of another uid: only the reserve is left, ask whether admin");
	is_int(sso_shares_conn_open(s, 1003, -1, m), SV_ERR_UNREACHABLE, "not an admin: refused");
	ok(strstr(m, "kept for vault admins") != NULL, "... says why");
	is_int(sso_shares_conn_open(s, 0, 1, m), 0, "an admin takes the reserve");
	is_int(sso_shares_conn_open(s, 0, 1, m), 0, "... to the end");
	is_int(sso_shares_conn_open(s, 0, 1, m), SV_ERR_UNREACHABLE, "past conn_max: refused, even an admin");
	sso_shares_usage(s, &u);
	is_int(u.conns, 10, "10 counted");
	sso_shares_conn_close(s, 1001);
	sso_shares_uid(s, 1001, &n, &b);
	is_int(n, 3, "a close gives one back");
	is_int(sso_shares_conn_open(s, 1003, 0, m), SSO_SHARES_ASK_ADMIN, "still in the reserve");
	for (i = 0; i < 3; i++)
		sso_shares_conn_close(s, 1001);
	for (i = 0; i < 4; i++)
		sso_shares_conn_close(s, 1002);
	sso_shares_conn_close(s, 0);
	sso_shares_conn_close(s, 0);
	sso_shares_conn_close(s, 4242);
	sso_shares_usage(s, &u);
	ok(u.conns == 0 && u.uids == 0, "all closed: nothing counted, no uid kept (a stray close is ignored)");
	sso_shares_free(s);

	l.conn_reserved = l.conn_max;
	ok(sso_shares_new(&l, &s) == SV_ERR_INVALID, "a reserve of every connection is refused");
}

static void
test_bytes(void)
{
	struct sso_shares_limits l = limits();
	struct sso_shares *s = NULL;
	struct sso_shares_usage u;
	char m[SV_MSG_MAX];
	int first = -1;

	ok(sso_shares_new(&l, &s) == 0, "bytes: new");
	ok(sso_shares_bytes_add(s, 1, 300, &first, m) == 0 && first == 0, "uid 1: 300");
	is_int(sso_shares_bytes_add(s, 1, 101, &first, m), SV_ERR_UNREACHABLE, "uid 1: 101 more passes 400");
	ok(first == 0 && strstr(m, "its share") != NULL, "... its share, not the total (no log-once)");
	ok(sso_shares_bytes_add(s, 1, 100, &first, m) == 0, "uid 1: exactly 400");
	ok(sso_shares_bytes_add(s, 2, 400, &first, m) == 0, "uid 2: 400 (800 in all)");
	is_int(sso_shares_bytes_add(s, 3, 201, &first, m), SV_ERR_UNREACHABLE, "uid 3: 201 passes the total");
	ok(first == 1 && strstr(m, "--max-buffered") != NULL, "... the first refusal of the total: log it");
	is_int(sso_shares_bytes_add(s, 3, 201, &first, m), SV_ERR_UNREACHABLE, "again");
	is_int(first, 0, "... not logged twice");
	ok(sso_shares_bytes_add(s, 3, 200, &first, m) == 0, "uid 3: 200 fits (1000)");
	sso_shares_bytes_sub(s, 1, 400);
	sso_shares_bytes_sub(s, 2, 400);
	is_int(sso_shares_bytes_add(s, 3, 1, &first, m), 0, "under half again");
	sso_shares_bytes_sub(s, 3, 201);
	sso_shares_usage(s, &u);
	ok(u.bytes == 0 && u.uids == 0, "all given back");
	ok(sso_shares_bytes_add(s, 4, 1000, &first, m) == SV_ERR_UNREACHABLE && first == 0,
	    "one uid never takes more than its share");
	sso_shares_free(s);
}

static void
test_kdf(void)
{
	struct sso_shares_limits l = limits();
	struct sso_shares *s = NULL;
	struct sso_shares_usage u;
	char m[SV_MSG_MAX];
	uint64_t t = 100000;

	ok(sso_shares_new(&l, &s) == 0, "kdf: new");
	is_int(sso_shares_kdf_begin(s, 7, 200, t, m), 0, "uid 7 derives (200 of 300)");
	is_int(sso_shares_kdf_begin(s, 7, 1, t, m), SV_ERR_UNREACHABLE, "uid 7 again at once: refused");
	ok(strstr(m, "under way already") != NULL, "... one at a time per uid");
	is_int(sso_shares_kdf_begin(s, 8, 200, t, m), SV_ERR_UNREACHABLE, "uid 8: 200 more passes 300");
	ok(strstr(m, "try again in 1 s") != NULL, "... try again in 1 s");
	is_int(sso_shares_kdf_begin(s, 8, 100, t, m), 0, "uid 8: 100 fits");
	sso_shares_kdf_end(s, 200);
	sso_shares_kdf_end(s, 100);
	sso_shares_kdf_done(s, 8, 0, t);
	is_int(sso_shares_kdf_begin(s, 9, 5000, t, m), 0, "one larger than the budget may run alone");
	sso_shares_kdf_end(s, 5000);
	sso_shares_kdf_done(s, 9, 0, t);

	/* uid 7's derivation failed: 1 s, 2 s, 4 s, 8 s, 8 s */
	sso_shares_kdf_done(s, 7, 1, t);
	is_int(sso_shares_kdf_begin(s, 7, 1, t + 999, m), SV_ERR_UNREACHABLE, "1st failure: refused before 1 s");
	ok(strstr(m, "after 1 wrong secret,") != NULL && strstr(m, "try again in 1 s") != NULL,
	    "... says how many and when: %s", m);
	is_int(sso_shares_kdf_begin(s, 8, 1, t + 999, m), 0, "another uid is not held back");
	sso_shares_kdf_end(s, 1);
	sso_shares_kdf_done(s, 8, 0, t + 999);
	t += 1000;
	is_int(sso_shares_kdf_begin(s, 7, 1, t, m), 0, "after 1 s: allowed");
	sso_shares_kdf_end(s, 1);
	sso_shares_kdf_done(s, 7, 1, t);
	is_int(sso_shares_kdf_begin(s, 7, 1, t + 1999, m), SV_ERR_UNREACHABLE, "2nd failure: 2 s");
	ok(strstr(m, "try again in 1 s") != NULL, "... 1 ms before: try again in 1 s");
	t += 2000;
	ok(sso_shares_kdf_begin(s, 7, 1, t, m) == 0, "after 2 s: allowed");
	sso_shares_kdf_end(s, 1);
	sso_shares_kdf_done(s, 7, 1, t);
	is_int(sso_shares_kdf_begin(s, 7, 1, t + 3999, m), SV_ERR_UNREACHABLE, "3rd failure: 4 s");
	t += 4000;
	ok(sso_shares_kdf_begin(s, 7, 1, t, m) == 0, "after 4 s: allowed");
	sso_shares_kdf_end(s, 1);
	sso_shares_kdf_done(s, 7, 1, t);
	is_int(sso_shares_kdf_begin(s, 7, 1, t + 1, m), SV_ERR_UNREACHABLE, "4th failure: 8 s");
	ok(strstr(m, "after 4 wrong secrets,") != NULL && strstr(m, "try again in 8 s") != NULL,
	    "... says how many and when: %s", m);
	is_int(sso_shares_kdf_begin(s, 7, 1, t + 7999, m), SV_ERR_UNREACHABLE, "... up to 8 s");
	t += 8000;
	ok(sso_shares_kdf_begin(s, 7, 1, t, m) == 0, "after 8 s: allowed");
	sso_shares_kdf_end(s, 1);
	sso_shares_kdf_done(s, 7, 1, t);
	is_int(sso_shares_kdf_begin(s, 7, 1, t + 7999, m), SV_ERR_UNREACHABLE, "5th failure: capped at 8 s");
	is_int(sso_shares_kdf_begin(s, 7, 1, t + 8000, m), 0, "... not 16");
	sso_shares_kdf_end(s, 1);
	sso_shares_kdf_done(s, 7, 0, t + 8000);
	is_int(sso_shares_kdf_begin(s, 7, 1, t + 8000, m), 0, "a success clears the failures");
	sso_shares_kdf_end(s, 1);
	sso_shares_kdf_done(s, 7, 1, t + 8000);
	t += 8000;
	is_int(sso_shares_kdf_begin(s, 7, 1, t + 999, m), SV_ERR_UNREACHABLE, "a failure after it: 1 s again");
	ok(sso_shares_kdf_begin(s, 7, 1, t + 1000 + 60000, m) == 0,
	    "failures are forgotten a while after the delay");
	sso_shares_kdf_end(s, 1);
	sso_shares_kdf_done(s, 7, 0, t + 61000);
	sso_shares_usage(s, &u);
	ok(u.kdf_running == 0 && u.kdf_memory == 0 && u.uids == 0, "nothing left running or held");
	sso_shares_free(s);
}

static void
test_table(void)
{
	struct sso_shares_limits l = limits();
	struct sso_shares *s = NULL;
	struct sso_shares_usage u;
	char m[SV_MSG_MAX];
	uid_t i;
	int r = 0;

	l.conn_max = 2 * SSO_SHARES_UIDS;
	l.conn_per_uid = 1;
	l.conn_reserved = 0;
	ok(sso_shares_new(&l, &s) == 0, "table: new");
	for (i = 0; i < SSO_SHARES_UIDS && r == 0; i++)
		r = sso_shares_conn_open(s, 10000 + i, 0, m);
	is_int(r, 0, "%d uids with a connection each", SSO_SHARES_UIDS);
	is_int(sso_shares_conn_open(s, 99999, 0, m), SV_ERR_UNREACHABLE, "one more uid: refused");
	ok(strstr(m, "uids already") != NULL, "... the table is bounded");
	sso_shares_conn_close(s, 10000);
	is_int(sso_shares_conn_open(s, 99999, 0, m), 0, "one leaves: a new uid gets its entry");
	/* an entry held only by failures is taken back once they are forgotten */
	sso_shares_conn_close(s, 10001);
	ok(sso_shares_kdf_begin(s, 555, 1, 1000, m) == 0, "uid 555 derives");
	sso_shares_kdf_end(s, 1);
	sso_shares_kdf_done(s, 555, 1, 1000);
	is_int(sso_shares_conn_open(s, 77777, 0, m), SV_ERR_UNREACHABLE,
	    "its failures hold the last entry");
	is_int(sso_shares_kdf_begin(s, 666, 1, 1000 + 1000 + 60000, m), 0,
	    "later uid 555's failures are forgotten: another uid gets the entry");
	sso_shares_kdf_end(s, 1);
	sso_shares_kdf_done(s, 666, 0, 1000 + 1000 + 60000);
	is_int(sso_shares_conn_open(s, 77777, 0, m), 0, "... and gives it back when done");
	sso_shares_usage(s, &u);
	is_int(u.uids, SSO_SHARES_UIDS, "the table holds at most %d uids", SSO_SHARES_UIDS);
	sso_shares_free(s);
}

int
main(void)
{
	test_conns();
	test_bytes();
	test_kdf();
	test_table();
	return done_testing();
}
