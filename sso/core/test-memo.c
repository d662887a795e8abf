/*
 * Unit tests of the memo of lookups (memo.c, dispatch.c's read_try), through
 * sso_dispatch(): a repeated credential lookup is answered from the memo
 * (counted), the answer is the same, and each one still gets its own audit
 * record; anything its answer rests on makes the next lookup run again:
 * new credentials, a revoked grant, another group set for the same uid,
 * another request, a change made through another handle on the vault (as
 * another process would), forgotten names, the names' bound, a lock.  A
 * caller the policy refuses is never answered from another's memo.
 *
 * With SSOVAULT_TEST_PG (tests/pg/with-pg.sh, test memo-pg) the vault is
 * in that database and the service has a journal directory, as ssovaultd
 * does there (without one each read commits its record: a new version, and
 * no memo); a change through another handle (another host) is seen within
 * DESIGN 10's bound, once this host's cache has checked, not at once.
 *
 * Callers: uid 6100 made the vault (vault admin), 6101 an app user of
 * Payroll, 6102 an outsider, 6103 in group 6150 (users of the group app
 * Team).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ops/ops.h"
#include "names.h"
#include "tap.h"
#include "test-caller.h"
#include "tap-files.h"

static char tmpdir[] = "/tmp/ssovault-test-memo-XXXXXX";
static char vdir[600];
static struct sso_service *svc;
static struct svbuf *req, *reply;
static struct sso_caller admin, user, outsider, member;
static const char *pass = "memo test passphrase";
static int on_pg;			/* the vault is at SSOVAULT_TEST_PG */

/* Run req as c on service s; the status, and the reply's payload left in reply. */
static int
run_on(struct sso_service *s, const struct sso_caller *c)
{
	const uint8_t *m;
	size_t n;
	uint32_t status;

	svbuf_reset(reply);
	(void)sso_dispatch(s, c, svbuf_ptr(req), svbuf_len(req), -1, reply);
	if (svbuf_get_u32(reply, &status) != 0 || svbuf_get_string_direct(reply, &m, &n) != 0)
		bail("malformed reply");
	return (int32_t)status;
}

static void
start(enum sso_op op)
{
	svbuf_reset(req);
	chk(svbuf_put_u8(req, (uint8_t)op));
}

static void
put(const char *s)
{
	chk(svbuf_put_cstring(req, s));
}

static int
app_create(const char *spec)
{
	start(SSO_OP_APP_CREATE);
	put(spec);
	return run_on(svc, &admin);
}

static int
app_update(const char *app, const char *spec)
{
	start(SSO_OP_APP_UPDATE);
	put(app);
	put(spec);
	return run_on(svc, &admin);
}

static int
creds_set_on(struct sso_service *s, const char *app, const char *p, const char *pw)
{
	start(SSO_OP_CREDS_SET);
	put(app);
	put(p);
	chk(svbuf_put_u32(req, 1));
	put("password");
	put(pw);
	return run_on(s, &admin);
}

/* creds get of app for user ("" the caller's own) as c: status; the password into pw. */
static int
get_on(struct sso_service *s, const struct sso_caller *c, const char *app, const char *u,
    char *pw, size_t len)
{
	char *a = NULL, *p = NULL, *ext = NULL, *label = NULL, *val = NULL;
	uint32_t n = 0;
	uint8_t masked;
	int st;

	start(SSO_OP_CREDS_GET);
	put(app);
	put(u);
	pw[0] = '\0';
	if ((st = run_on(s, c)) != 0)
		return st;
	if (svbuf_get_cstring(reply, &a) != 0 || svbuf_get_cstring(reply, &p) != 0 ||
	    svbuf_get_cstring(reply, &ext) != 0 || svbuf_get_u32(reply, &n) != 0 || n < 2 ||
	    svbuf_get_cstring(reply, &label) != 0 || svbuf_get_u8(reply, &masked) != 0 ||
	    svbuf_get_cstring(reply, &val) != 0)
		bail("malformed creds reply");
	free(val);
	free(label);
	val = label = NULL;
	if (svbuf_get_cstring(reply, &label) != 0 || svbuf_get_u8(reply, &masked) != 0 ||
	    svbuf_get_cstring(reply, &val) != 0)
		bail("malformed creds reply");
	snprintf(pw, len, "%s", val);
	free(a);
	free(p);
	free(ext);
	free(label);
	free(val);
	return 0;
}

static int
get(const struct sso_caller *c, const char *app, const char *u, char *pw, size_t len)
{
	return get_on(svc, c, app, u, pw, len);
}

static unsigned long
hits(void)
{
	unsigned long h, m;

	sso_service_memo_counts(svc, &h, &m);
	return h;
}

/* Records of "creds get" by uid in the trail (audit list folds the journal first). */
static size_t
lookups_recorded(uid_t uid)
{
	char *s = NULL;
	json_t *j, *e;
	size_t i, n = 0;

	start(SSO_OP_AUDIT_LIST);
	chk(svbuf_put_u64(req, 0));
	chk(svbuf_put_u64(req, 0));
	if (run_on(svc, &admin) != 0 || svbuf_get_cstring(reply, &s) != 0)
		bail("audit list");
	if ((j = json_loads(s, 0, NULL)) == NULL)
		bail("audit list: not JSON");
	free(s);
	json_array_foreach(j, i, e)
		if (json_integer_value(json_object_get(e, "uid")) == (json_int_t)uid &&
		    strcmp(json_string_value(json_object_get(e, "op")), "creds get") == 0 &&
		    strcmp(json_string_value(json_object_get(e, "outcome")), "ok") == 0)
			n++;
	json_decref(j);
	return n;
}

static void
test_hits(void)
{
	char pw[64], pw2[64];
	unsigned long h0 = hits();
	size_t rec0 = lookups_recorded(user.uid);
	int i, same = 0;

	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "hits: a lookup");
	is_str(pw, "pw-1", "hits: the password");
	for (i = 0; i < 50; i++)
		same += get(&user, "Payroll", "", pw2, sizeof(pw2)) == 0 && strcmp(pw, pw2) == 0;
	is_int(same, 50, "hits: 50 more lookups, the same answer");
	/* a fold of the journal of reads is a commit: the lookup after one runs again */
	ok(hits() - h0 >= 40, "hits: they came from the memo (%lu hits of 50)", hits() - h0);
	is_int(lookups_recorded(user.uid) - rec0, 51, "hits: each lookup has its own audit record");
}

static void
test_changes(void)
{
	char pw[64];
	unsigned long h;
	int i;

	/* new credentials */
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "changes: a lookup");
	is_int(creds_set_on(svc, "Payroll", "uid:6101", "pw-2"), 0, "changes: new credentials");
	h = hits();
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "changes: the next lookup");
	is_str(pw, "pw-2", "changes: sees the new password");
	is_int(hits() - h, 0, "changes: not from the memo");

	/* the same request by another caller: its own check */
	is_int(get(&outsider, "Payroll", "", pw, sizeof(pw)), SV_ERR_DENIED,
	    "changes: an outsider asking the same is refused");
	is_int(get(&outsider, "Payroll", "uid:6101", pw, sizeof(pw)), SV_ERR_DENIED,
	    "changes: also naming the user");

	/* a change through another handle on the vault, as another process makes it */
	{
		struct vault *v2 = NULL;
		struct sso_service *s2 = NULL;

		if (vault_open(vdir, &sso_schema, &v2) != 0 ||
		    vault_unlock_passphrase(v2, pass, strlen(pass)) != 0 ||
		    sso_service_new(v2, &s2) != 0)
			bail("a second handle");
		is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "other handle: a lookup");
		is_int(creds_set_on(s2, "Payroll", "uid:6101", "pw-3"), 0,
		    "other handle: sets new credentials");
		is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "other handle: the next lookup here");
		/* another host: within the cache's bound (DESIGN 10: 2 s), polled */
		for (i = 0; on_pg && i < 50 && strcmp(pw, "pw-3") != 0; i++) {
			usleep(50 * 1000);
			(void)get(&user, "Payroll", "", pw, sizeof(pw));
		}
		is_str(pw, "pw-3", "other handle: sees them");
		sso_service_free(s2);
	}

	/* a revoked grant */
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "revoke: a lookup");
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "revoke: another (memo)");
	is_int(app_update("Payroll", "{\"remove_users\":[\"uid:6101\"]}"), 0,
	    "revoke: the user is removed from the app");
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), SV_ERR_DENIED,
	    "revoke: the next lookup is refused");
	is_int(app_update("Payroll", "{\"add_users\":[\"uid:6101\"]}"), 0, "revoke: granted again");
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "revoke: answered again");
}

static void
test_groups(void)
{
	struct sso_caller left = member;
	char pw[64];
	unsigned long h;

	is_int(get(&member, "Team", "", pw, sizeof(pw)), 0, "groups: a member of the group");
	is_str(pw, "team-pw", "groups: gets the group's password");
	is_int(get(&member, "Team", "", pw, sizeof(pw)), 0, "groups: again (memo)");
	/* the same uid and gid without the group: another caller */
	left.ngroups = 0;
	h = hits();
	is_int(get(&left, "Team", "", pw, sizeof(pw)), SV_ERR_DENIED,
	    "groups: the same uid, no longer in the group, is refused");
	is_int(hits() - h, 0, "groups: not from the memo");
	left = member;
	left.groups[left.ngroups++] = 6999;
	is_int(get(&left, "Team", "", pw, sizeof(pw)), 0, "groups: one more group: answered");
	is_int(hits() - h, 0, "groups: by its own check");
}

static void
test_bounds(void)
{
	char pw[64];
	unsigned long h;

	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "names: a lookup");
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "names: another");
	sso_names_forget();
	h = hits();
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "names: after the names are forgotten");
	is_int(hits() - h, 0, "names: not from the memo");
	h = hits();
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "names: then");
	is_int(hits() - h, 1, "names: from the memo again");
	/* past the names' bound (SSO_NAMES_TTL_MS): asked again */
	usleep((SSO_NAMES_TTL_MS + 100) * 1000);
	h = hits();
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "names: past the names' bound");
	is_int(hits() - h, 0, "names: not from the memo");

	/* a lock wipes the memo: after unlock, the first lookup runs again */
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "lock: a lookup");
	start(SSO_OP_LOCK);
	is_int(run_on(svc, &admin), 0, "lock: the vault admin locks");
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), SV_ERR_LOCKED,
	    "lock: a locked vault answers nothing");
	start(SSO_OP_UNLOCK);
	chk(svbuf_put_u8(req, 1));
	chk(svbuf_put_string(req, pass, strlen(pass)));
	is_int(run_on(svc, &admin), 0, "lock: unlocked again");
	h = hits();
	is_int(get(&user, "Payroll", "", pw, sizeof(pw)), 0, "lock: the next lookup");
	is_int(hits() - h, 0, "lock: not from the memo");
}

static int
verifies(void)
{
	start(SSO_OP_AUDIT_VERIFY);
	return run_on(svc, &admin) == 0;
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
	test_caller(&admin, 6100, 4444, "/usr/bin/test-memo");
	test_caller(&user, 6101, 4444, "/usr/bin/test-memo");
	test_caller(&outsider, 6102, 4444, "/usr/bin/test-memo");
	test_caller(&member, 6103, 4444, "/usr/bin/test-memo");
	member.groups[0] = 6150;
	member.ngroups = 1;
	test_vault_opts(&o, pass);
	snprintf(vdir, sizeof(vdir), "%s/vault", tmpdir);
	req = svbuf_new(0);
	reply = svbuf_new_secure(0);
	if (req == NULL || reply == NULL)
		bail("out of memory");
	if (getenv("SSOVAULT_TEST_PG") != NULL) {
		char jdir[700];

		on_pg = 1;
		snprintf(vdir, sizeof(vdir), "%s", getenv("SSOVAULT_TEST_PG"));
		snprintf(jdir, sizeof(jdir), "%s/journal", tmpdir);
		if (mkdir(jdir, 0700) != 0)
			bail("mkdir journal");
		if (vault_create(vdir, &o, &v) != 0 || sso_service_new(v, &svc) != 0 ||
		    sso_service_set_journal_dir(svc, jdir) != 0 ||
		    sso_service_journal_start(svc, 1) != 0 ||
		    sso_service_bootstrap(svc, &admin, NULL, 0, NULL) != 0)
			bail("cannot make the vault");
	} else if (vault_create(vdir, &o, &v) != 0 || sso_service_new(v, &svc) != 0 ||
	    sso_service_bootstrap(svc, &admin, NULL, 0, NULL) != 0)
		bail("cannot make the vault");
	if (app_create("{\"name\":\"Payroll\",\"enabled\":true,\"users\":[\"uid:6101\"]}") != 0 ||
	    app_create("{\"name\":\"Team\",\"type\":\"group\",\"enabled\":true,"
	    "\"users\":[\"gid:6150\"]}") != 0)
		bail("cannot create the apps");
	start(SSO_OP_MAPPING_CREATE);
	put("Payroll");
	put("uid:6101");
	put("u1");
	if (run_on(svc, &admin) != 0 || creds_set_on(svc, "Payroll", "uid:6101", "pw-1") != 0)
		bail("cannot map the user");
	start(SSO_OP_MAPPING_CREATE);
	put("Team");
	put("gid:6150");
	put("team-account");
	if (run_on(svc, &admin) != 0 || creds_set_on(svc, "Team", "gid:6150", "team-pw") != 0)
		bail("cannot map the group");

	test_hits();
	test_changes();
	test_groups();
	test_bounds();
	ok(verifies(), "the chain verifies");

	sso_service_free(svc);
	svbuf_free(req);
	svbuf_free(reply);
	{
		char *rm[] = { "rm", "-rf", tmpdir, NULL };

		(void)tap_run(rm);
	}
	return done_testing();
}
