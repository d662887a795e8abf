/*
 * Unit tests of repeated failures in the audit trail (repeat.c, and the
 * dispatch's audit paths in service.c), through sso_dispatch() with a test
 * clock: the first failure of a kind is recorded at once, its repeats within
 * the interval are one record written when the interval is over (with the
 * next record), at a lock or when the service is freed; new names stop
 * making new kinds past the limits; vault admins are exempt; successes are
 * never counted together.  Throughout, the counts of a caller's records add
 * up to its failures and the chain verifies.
 *
 * Callers: uid 6000 made the vault (vault admin), 6001 is an outsider,
 * 6002 another one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ops/ops.h"
#include "tap.h"
#include "test-caller.h"
#include "tap-files.h"

static char tmpdir[] = "/tmp/ssovault-test-repeat-XXXXXX";
static char vdir[600];
static struct sso_service *svc;
static struct svbuf *req, *reply;
static struct sso_caller admin, out1, out2;
static int64_t now_s = 1700000000;
static unsigned long failures1;		/* of out1, all phases */

static int64_t
test_clock(void *ctx)
{
	(void)ctx;
	return now_s;
}

static int
run(const struct sso_caller *c)
{
	const uint8_t *m;
	size_t n;
	uint32_t status;

	(void)sso_dispatch(svc, c, svbuf_ptr(req), svbuf_len(req), -1, reply);
	if (svbuf_get_u32(reply, &status) != 0 || svbuf_get_string_direct(reply, &m, &n) != 0)
		bail("malformed reply");
	return (int32_t)status;
}

static int
op0(const struct sso_caller *c, enum sso_op op)
{
	svbuf_reset(req);
	chk(svbuf_put_u8(req, (uint8_t)op));
	return run(c);
}

static int
op1(const struct sso_caller *c, enum sso_op op, const char *obj)
{
	svbuf_reset(req);
	chk(svbuf_put_u8(req, (uint8_t)op));
	chk(svbuf_put_cstring(req, obj));
	return run(c);
}

static int
role_remove(const struct sso_caller *c, const char *principal)
{
	svbuf_reset(req);
	chk(svbuf_put_u8(req, SSO_OP_ROLE_REMOVE));
	chk(svbuf_put_cstring(req, "affiliate-admin"));
	chk(svbuf_put_cstring(req, principal));
	return run(c);
}

/* The trail as the vault admin lists it (not recorded at the default level). */
static json_t *
trail(void)
{
	char *s = NULL;
	json_t *j = NULL;

	svbuf_reset(req);
	chk(svbuf_put_u8(req, SSO_OP_AUDIT_LIST));
	chk(svbuf_put_u64(req, 0));
	chk(svbuf_put_u64(req, 0));
	if (run(&admin) == 0 && svbuf_get_cstring(reply, &s) == 0)
		j = json_loads(s, 0, NULL);
	free(s);
	if (!json_is_array(j))
		bail("audit list");
	return j;
}

/* Records of uid (and op, if not NULL): how many, and the sum of their counts. */
static void
tally(uid_t uid, const char *op, size_t *ret_records, unsigned long *ret_sum)
{
	json_t *j = trail(), *e;
	size_t i;

	*ret_records = 0;
	*ret_sum = 0;
	json_array_foreach(j, i, e) {
		if (json_integer_value(json_object_get(e, "uid")) != (json_int_t)uid ||
		    (op != NULL && strcmp(json_string_value(json_object_get(e, "op")), op) != 0))
			continue;
		(*ret_records)++;
		*ret_sum += (unsigned long)json_integer_value(json_object_get(e, "count"));
	}
	json_decref(j);
}

/* The last record of uid, a new reference. */
static json_t *
last_of(uid_t uid)
{
	json_t *j = trail(), *e, *found = NULL;
	size_t i;

	json_array_foreach(j, i, e)
		if (json_integer_value(json_object_get(e, "uid")) == (json_int_t)uid)
			found = e;
	json_incref(found);
	json_decref(j);
	return found;
}

static int
verifies(void)
{
	return op0(&admin, SSO_OP_AUDIT_VERIFY) == 0;
}

static void
open_service(void)
{
	struct vault *v = NULL;

	if (vault_open(vdir, &sso_schema, &v) != 0 || vault_unlock_passphrase(v, "test passphrase", 15) != 0 ||
	    sso_service_new(v, &svc) != 0)
		bail("cannot open the vault");
	sso_service_set_clock(svc, test_clock, NULL);
}

static void
test_one_kind(void)
{
	size_t n;
	unsigned long sum;
	json_t *r;
	int i, denied = 0;

	for (i = 0; i < 5; i++)
		denied += op0(&out1, SSO_OP_ROLE_LIST) == SV_ERR_DENIED;
	failures1 += 5;
	is_int(denied, 5, "one kind: five role lists by an outsider are all refused");
	tally(out1.uid, "role list", &n, &sum);
	ok(n == 1 && sum == 1, "one kind: the first is recorded at once, the rest counted (%zu records)", n);
	now_s += 30;
	for (i = 0; i < 3; i++)
		(void)op0(&out1, SSO_OP_ROLE_LIST);
	failures1 += 3;
	tally(out1.uid, "role list", &n, &sum);
	ok(n == 1, "one kind: still one record 30 s later");
	/* a change by the outsider: refused in a write transaction, same rules */
	svbuf_reset(req);
	chk(svbuf_put_u8(req, SSO_OP_ROLE_ADD));
	chk(svbuf_put_cstring(req, "vault-admin"));
	chk(svbuf_put_cstring(req, "uid:6001"));
	is_int(run(&out1), SV_ERR_DENIED, "one kind: a role add by the outsider is refused");
	is_int(run(&out1), SV_ERR_DENIED, "one kind: ... twice");
	failures1 += 2;
	tally(out1.uid, "role add", &n, &sum);
	ok(n == 1 && sum == 1, "one kind: a refused change is a kind of its own, recorded once");

	/* after the interval: the repeats are due, written with the next record */
	now_s += 31;
	(void)op0(&out1, SSO_OP_ROLE_LIST);
	failures1 += 1;
	tally(out1.uid, "role list", &n, &sum);
	ok(n == 3 && sum == 9, "one kind: after 60 s the next one is recorded and the 7 repeats "
	    "as one record (%zu records, counts %lu)", n, sum);
	r = last_of(out1.uid);
	ok(r != NULL && json_integer_value(json_object_get(r, "count")) >= 1, "one kind: the last record has a count");
	json_decref(r);
	{
		json_t *j = trail(), *e;
		size_t i2;
		int seen = 0;

		json_array_foreach(j, i2, e) {
			if (json_integer_value(json_object_get(e, "count")) == 7 &&
			    strcmp(json_string_value(json_object_get(e, "op")), "role list") == 0 &&
			    strcmp(json_string_value(json_object_get(e, "outcome")), "access denied") == 0 &&
			    json_integer_value(json_object_get(e, "first_time_us")) == (json_int_t)(now_s - 61) * 1000000 &&
			    json_integer_value(json_object_get(e, "time_us")) == (json_int_t)(now_s - 31) * 1000000 &&
			    json_is_string(json_object_get(e, "first_time")))
				seen++;
		}
		is_int(seen, 1, "one kind: the record of repeats: count 7, first and last time, outcome");
		json_decref(j);
	}
	/* a record written for another caller takes a due count along too */
	now_s += 61;
	tally(out1.uid, "role add", &n, &sum);
	ok(n == 1 && sum == 1, "one kind: the refused role add's repeat is held");
	(void)op0(&out2, SSO_OP_ROLE_LIST);
	tally(out1.uid, "role add", &n, &sum);
	ok(n == 2 && sum == 2, "one kind: another caller's record brought the due repeat along");
	ok(verifies(), "one kind: the chain verifies");
}

static void
test_many_names(void)
{
	char name[32];
	size_t n;
	unsigned long sum;
	int i;

	now_s += 100;
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "nosuch%02d", i);
		(void)op1(&out1, SSO_OP_APP_SHOW, name);
	}
	failures1 += 20;
	tally(out1.uid, "app show", &n, &sum);
	ok(n == 9 && sum == 9, "names: 20 new names: 8 kinds recorded, the 9th at once for the rest "
	    "(%zu records)", n);
	now_s += 61;
	(void)op0(&out2, SSO_OP_ROLE_LIST);
	tally(out1.uid, "app show", &n, &sum);
	ok(n == 10 && sum == 20, "names: the other 11 in one record (%zu records, counts %lu)", n, sum);

	/* more than 64 kinds of one uid: the rest is counted together */
	now_s += 100;
	{
		static const enum sso_op ops[] = { SSO_OP_APP_SHOW, SSO_OP_APP_UPDATE,
		    SSO_OP_APP_ENABLE, SSO_OP_APP_DISABLE, SSO_OP_APP_DELETE,
		    SSO_OP_MAPPING_CREATE, SSO_OP_MAPPING_ENABLE, SSO_OP_MAPPING_DISABLE,
		    SSO_OP_MAPPING_DELETE, SSO_OP_CREDS_SET };
		size_t k, before, total = 0;
		unsigned long bsum;
		json_t *r;

		tally(out1.uid, NULL, &before, &bsum);
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
			for (i = 0; i < 8; i++) {
				snprintf(name, sizeof(name), "k%zu-%d", k, i);
				(void)op1(&out1, ops[k], name);
				total++;
			}
		}
		failures1 += total;
		tally(out1.uid, NULL, &n, &sum);
		ok(n - before == 65, "kinds: %zu failures of 80 kinds are %zu records (64 kinds, then one "
		    "for the rest)", total, n - before);
		now_s += 61;
		(void)op0(&out2, SSO_OP_ROLE_LIST);
		tally(out1.uid, NULL, &n, &sum);
		ok(n - before == 66 && sum - bsum == total,
		    "kinds: the rest is one record of repeats; counts add up to %zu", total);
		r = last_of(out1.uid);
		ok(r != NULL && strcmp(json_string_value(json_object_get(r, "op")), "(several)") == 0 &&
		    json_integer_value(json_object_get(r, "count")) == (json_int_t)(total - 65) &&
		    strstr(json_string_value(json_object_get(r, "error")), "counted together") != NULL,
		    "kinds: that record says '(several)', its count and why");
		json_decref(r);
	}
	ok(verifies(), "names: the chain verifies");
}

static void
test_exempt(void)
{
	char p[32];
	size_t n;
	unsigned long sum;
	int i;

	now_s += 100;
	for (i = 0; i < 20; i++) {
		snprintf(p, sizeof(p), "uid:%d", 7000 + i);
		(void)role_remove(&admin, p);
	}
	tally(admin.uid, "role remove", &n, &sum);
	ok(n == 20 && sum == 20, "exempt: a vault admin's 20 failures of 20 kinds are 20 records");
	for (i = 0; i < 3; i++)
		(void)role_remove(&admin, "uid:7000");
	tally(admin.uid, "role remove", &n, &sum);
	ok(n == 20, "exempt: but its repeats are counted too");
	{
		size_t added0, added;

		tally(admin.uid, "role add", &added0, &sum);
		for (i = 0; i < 3; i++) {
			svbuf_reset(req);
			chk(svbuf_put_u8(req, SSO_OP_ROLE_ADD));
			chk(svbuf_put_cstring(req, "affiliate-admin"));
			chk(svbuf_put_cstring(req, "uid:8000"));
			(void)run(&admin);
			(void)role_remove(&admin, "uid:8000");
		}
		tally(admin.uid, "role add", &added, &sum);
		ok(added - added0 == 3, "successes: each is recorded, never counted together");
	}
	is_int(op0(&admin, SSO_OP_LOCK), 0, "lock: the vault admin locks the vault");
	sso_service_free(svc);
	open_service();
	tally(admin.uid, "role remove", &n, &sum);
	ok(n == 24 && sum == 26, "lock: the repeats held were written before the keys went");
}

static void
test_free(void)
{
	size_t n0, n;
	unsigned long s0, sum;
	int i;

	now_s += 100;
	tally(out2.uid, "port show", &n0, &s0);
	for (i = 0; i < 50; i++)
		(void)op1(&out2, SSO_OP_PORT_SHOW, "nosuchport");
	tally(out2.uid, "port show", &n, &sum);
	ok(n - n0 == 1, "free: 50 failures, one record so far");
	sso_service_free(svc);
	open_service();
	tally(out2.uid, "port show", &n, &sum);
	ok(n - n0 == 2 && sum - s0 == 50, "free: the service wrote the 49 repeats when freed");
	tally(out1.uid, NULL, &n, &sum);
	is_int(sum, failures1, "the outsider's records count all its %lu failures", failures1);
	ok(verifies(), "free: the chain verifies");
}

int
main(void)
{
	struct vault_create_opts o;
	struct vault *v = NULL;

	if (sodium_init() < 0)
		bail("sodium_init");
	if (mkdtemp(tmpdir) == NULL)
		bail("mkdtemp");
	test_caller(&admin, 6000, 4343, "/usr/bin/test-repeat");
	test_caller(&out1, 6001, 4343, "/usr/bin/test-repeat");
	test_caller(&out2, 6002, 4343, "/usr/bin/test-repeat");
	test_vault_opts(&o, "test passphrase");
	snprintf(vdir, sizeof(vdir), "%s/vault", tmpdir);
	if (vault_create(vdir, &o, &v) != 0 || sso_service_new(v, &svc) != 0 ||
	    sso_service_bootstrap(svc, &admin, NULL, 0, NULL) != 0)
		bail("cannot make a vault");
	sso_service_set_clock(svc, test_clock, NULL);
	req = svbuf_new_secure(0);
	reply = svbuf_new_secure(0);
	if (req == NULL || reply == NULL)
		bail("svbuf");

	test_one_kind();
	test_many_names();
	test_exempt();
	test_free();

	sso_service_free(svc);
	svbuf_free(req);
	svbuf_free(reply);
	{
		char *rm[] = { "rm", "-rf", tmpdir, NULL };

		(void)tap_run(rm);
	}
	return done_testing();
}
