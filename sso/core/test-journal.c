/*
 * Unit tests of the journal of reads (journal.c, service.c's folds) and of
 * the name cache (names.c).
 *
 * Journal: records put in land in the chain at a fold, once; the file is
 * 0600; a journal left by a process that died (a child that exits without
 * folding) is folded by the next service, once; an entry torn by a power
 * loss ends the journal there, and what came before it is folded; reads
 * that come during folds go to the process's other journal, so that a
 * steady stream never fills one; a
 * journal of another vault, a symbolic link and a file others may read are
 * left alone or refused; garbage is not a journal.  The chain verifies.
 * Names: answers are kept (NSS is asked once for many checks), and asked
 * again once SSO_NAMES_TTL_MS has passed.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "ops/ops.h"
#include "core/journal.h"
#include "names.h"
#include "service.h"
#include "tap.h"
#include "test-caller.h"
#include "tap-files.h"

static char tmpdir[] = "/tmp/ssovault-test-journal-XXXXXX";
static char vdir[600];
static const char *pass = "test passphrase";
static struct sso_caller admin;

static struct sso_service *
service_open(void)
{
	struct sso_service *s = NULL;
	struct vault *v = NULL;

	if (vault_open(vdir, &sso_schema, &v) != 0 ||
	    vault_unlock_passphrase(v, pass, strlen(pass)) != 0 || sso_service_new(v, &s) != 0)
		bail("cannot open the vault");
	return s;
}

static size_t
audit_records(struct sso_service *s)
{
	struct vault_info vi;

	if (vault_info_get(sso_service_vault(s), &vi) != 0)
		bail("vault_info_get");
	return vi.entries[SSO_TABLE_AUDIT];
}

/* Made-up read number i's record (object PREFIXi), encoded into b. */
static int
encode_read(struct svbuf *b, const char *prefix, int i)
{
	struct sso_audit_event e;
	char obj[32];

	memset(&e, 0, sizeof(e));
	snprintf(obj, sizeof(obj), "%s%d", prefix, i);
	e.caller = &admin;
	e.time_us = 1700000000000000LL + i;
	e.op = "creds get";
	e.object = obj;
	e.target = "uid:6000";
	e.error = "";
	svbuf_reset(b);
	return sso_audit_encode(&e, b);
}

/* n records of a made-up read, into s's journal; their encoded lengths into lens */
static int
put_reads(struct sso_service *s, int n, size_t *lens)
{
	struct svbuf *b = svbuf_new(0);
	int i, bad = 0;

	for (i = 0; i < n; i++) {
		if (encode_read(b, "app", i) != 0 ||
		    sso_service_journal_put(s, svbuf_ptr(b), svbuf_len(b)) != 0)
			bad++;
		if (lens != NULL)
			lens[i] = svbuf_len(b);
	}
	svbuf_free(b);
	return bad;
}

static int
verify(struct sso_service *s)
{
	struct svbuf *req = svbuf_new(0), *reply = svbuf_new(0);
	uint32_t status = 1;

	if (req == NULL || reply == NULL || svbuf_put_u8(req, SSO_OP_AUDIT_VERIFY) != 0)
		bail("svbuf");
	(void)sso_dispatch(s, &admin, svbuf_ptr(req), svbuf_len(req), -1, reply);
	if (svbuf_get_u32(reply, &status) != 0)
		status = 1;
	svbuf_free(req);
	svbuf_free(reply);
	return (int)status;
}

static void
journal_path(unsigned n, char *out, size_t len)
{
	snprintf(out, len, "%s/audit.%u.journal", vdir, n);
}

static void
test_fold(void)
{
	struct sso_service *s = service_open();
	struct stat st;
	char path[700];
	size_t before;

	ok(sso_service_journal_start(s, 0) == 0, "a service starts its journal");
	journal_path(0, path, sizeof(path));
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600,
	    "audit.0.journal is a regular file, mode 0600");
	before = audit_records(s);
	is_int(put_reads(s, 50, NULL), 0, "50 records go into the journal");
	ok(sso_service_journal_pending(s) > 0, "they are pending");
	is_int(audit_records(s), before, "the chain does not hold them yet");
	ok(sso_service_flush(s) == 0, "flush folds the journal");
	is_int(audit_records(s), before + 50, "the chain holds the 50 records");
	is_int(sso_service_journal_pending(s), 0, "nothing is pending");
	ok(sso_service_flush(s) == 0, "a second flush");
	is_int(audit_records(s), before + 50, "folds nothing twice");
	is_int(put_reads(s, 3, NULL), 0, "3 more records after the journal was emptied");
	ok(sso_service_flush(s) == 0 && audit_records(s) == before + 53,
	    "they are folded too (a new generation of the journal)");
	is_int(verify(s), 0, "the chain verifies");
	sso_service_free(s);
}

/* A child that puts n records in a journal of its own and dies without folding. */
static void
die_with(int n)
{
	struct sso_service *s, *hold;
	pid_t pid;
	int st = 0;

	/* the parent holds audit.0: the child takes the next free one */
	hold = service_open();
	/* it adopts what is there now, so that it leaves the child's alone */
	if (sso_service_journal_start(hold, 0) != 0 || sso_service_flush(hold) != 0)
		bail("journal start");
	if ((pid = fork()) < 0)
		bail("fork");
	if (pid == 0) {
		s = service_open();
		if (sso_service_journal_start(s, 0) != 0 || put_reads(s, n, NULL) != 0)
			_exit(1);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a child put %d records and died unfolded", n);
	sso_service_free(hold);
}

static void
test_left_behind(void)
{
	struct sso_service *s;
	size_t before;

	s = service_open();
	before = audit_records(s);
	sso_service_free(s);
	die_with(7);
	s = service_open();
	is_int(audit_records(s), before, "its records are not in the chain yet");
	ok(sso_service_flush(s) == 0, "the next service folds what was left");
	is_int(audit_records(s), before + 7, "7 records, once");
	sso_service_free(s);
	s = service_open();
	ok(sso_service_flush(s) == 0 && audit_records(s) == before + 7,
	    "another service finds nothing more to fold");
	is_int(verify(s), 0, "the chain verifies");
	sso_service_free(s);
}

static void
test_torn(void)
{
	struct sso_service *s;
	char path[700];
	size_t before, lens[5], off;
	uint8_t byte;
	int fd, i;

	s = service_open();
	before = audit_records(s);
	sso_service_free(s);
	die_with(5);
	/* a power loss tore the third entry: flip a byte of its body */
	journal_path(1, path, sizeof(path));
	s = service_open();
	/* the lengths of the records as put_reads encodes them */
	{
		struct svbuf *b = svbuf_new(0);
		struct sso_audit_event e;
		char obj[32];

		for (i = 0; i < 5; i++) {
			memset(&e, 0, sizeof(e));
			snprintf(obj, sizeof(obj), "app%d", i);
			e.caller = &admin;
			e.op = "creds get";
			e.object = obj;
			e.target = "uid:6000";
			e.error = "";
			svbuf_reset(b);
			if (sso_audit_encode(&e, b) != 0)
				bail("encode");
			lens[i] = svbuf_len(b);
		}
		svbuf_free(b);
	}
	off = SSO_JOURNAL_HEADER;
	for (i = 0; i < 2; i++)
		off += (24 + lens[i] + 7) & ~(size_t)7;
	if ((fd = open(path, O_RDWR)) < 0 || pread(fd, &byte, 1, (off_t)(off + 28)) != 1)
		bail(path);
	byte ^= 0x40;
	if (pwrite(fd, &byte, 1, (off_t)(off + 28)) != 1)
		bail(path);
	close(fd);
	ok(sso_service_flush(s) == 0, "a journal with a torn third entry is folded");
	is_int(audit_records(s), before + 2, "the two entries before the torn one");
	is_int(verify(s), 0, "the chain verifies");
	sso_service_free(s);
}

/*
 * Reads go on while a fold runs: once the journal in use is a quarter full
 * (or full), records go to the process's other journal while the first is
 * folded to its end and emptied, so that a steady stream (here 120 folds,
 * reads arriving during each) never fills a journal.  With one journal,
 * emptied only when a fold caught up with it, about the 70th fold found it
 * full, and reads committed their records one by one.
 */
static void
test_two(void)
{
	struct sso_service *s = service_open();
	struct vault_txn *t = NULL;
	struct sso_fold f;
	size_t before;
	int i, bad = 0, r;

	ok(sso_service_journal_start(s, 0) == 0, "a service starts its journal");
	before = audit_records(s);
	for (i = 0; i < 120 && bad == 0; i++) {
		bad += put_reads(s, 20, NULL) != 0;
		if ((r = vault_txn_begin(sso_service_vault(s), 1, &t)) != 0 ||
		    (r = sso_service_fold(s, t, &f)) != 0)
			bail("a fold of the journals");
		/* reads that come while the fold's transaction is open */
		bad += put_reads(s, 5, NULL) != 0;
		r = vault_txn_commit(t);
		sso_service_folded(s, &f, r == 0);
		bad += r != 0;
	}
	is_int(bad, 0, "120 folds, 25 reads each, 5 of them during the fold: "
	    "every read went into a journal");
	ok(sso_service_flush(s) == 0, "flush");
	is_int(audit_records(s), before + 120 * 25, "the chain holds every read, once");
	is_int(verify(s), 0, "the chain verifies");
	sso_service_free(s);
}

/*
 * A link planted where the process's second journal goes: when the first
 * is a quarter full and records are to move to the second, the link is
 * not followed; reads go on into the first (and, when it is full, commit
 * one by one), every one of them recorded.
 */
static void
test_two_link(void)
{
	struct sso_service *s;
	char path[700], other[700];
	size_t before;
	int bad;

	/* this test's process will hold audit.0; audit.1 is the second's place */
	journal_path(1, path, sizeof(path));
	(void)unlink(path);
	snprintf(other, sizeof(other), "%s/elsewhere2", tmpdir);
	if (symlink(other, path) != 0)
		bail("symlink");
	s = service_open();
	ok(sso_service_journal_start(s, 0) == 0, "link at the second journal: the first opens");
	before = audit_records(s);
	/* past a quarter of the first: the move to the second is tried */
	bad = put_reads(s, 600, NULL);
	ok(access(other, F_OK) != 0, "nothing was made where the link points");
	{
		struct stat st;

		ok(lstat(path, &st) == 0 && S_ISLNK(st.st_mode), "the link is left as it was");
	}
	is_int(bad, 0, "the 600 records went into the first journal");
	ok(sso_service_flush(s) == 0, "flush");
	is_int(audit_records(s), before + 600, "every one is in the chain");
	sso_service_free(s);
	unlink(path);
}

static void
test_refused(void)
{
	struct sso_service *s;
	struct sso_journal *j = NULL;
	char path[700], other[700], msg[SV_MSG_MAX];
	uint8_t junk[200];
	size_t end;
	int fd;

	/* the first journal's name holds a symbolic link: refused, not followed */
	journal_path(0, path, sizeof(path));
	if (unlink(path) != 0)
		bail(path);
	snprintf(other, sizeof(other), "%s/elsewhere", tmpdir);
	if (symlink(other, path) != 0)
		bail("symlink");
	s = service_open();
	msg[0] = '\0';
	ok(sso_journal_open(sso_service_vault(s), NULL, &j, msg) == SV_ERR_INVALID &&
	    strstr(msg, "symbolic link") != NULL, "a symbolic link in a journal's place is refused (%s)",
	    msg);
	ok(access(other, F_OK) != 0, "and nothing was made where it pointed");
	unlink(path);
	/* a file others may read is not a journal of ours */
	if ((fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644)) < 0 || fchmod(fd, 0644) != 0)
		bail(path);
	close(fd);
	msg[0] = '\0';
	ok(sso_journal_open(sso_service_vault(s), NULL, &j, msg) == SV_ERR_INVALID &&
	    strstr(msg, "mode 0600") != NULL, "a journal others may read is refused (%s)", msg);
	unlink(path);
	ok(sso_journal_open(sso_service_vault(s), NULL, &j, msg) == 0, "the place free again: a journal");
	sso_journal_close(j);
	sso_service_free(s);
	/* not a journal: garbage, a short file */
	randombytes_buf(junk, sizeof(junk));
	ok(sso_journal_scan(junk, sizeof(junk), junk, SSO_JOURNAL_HEADER, NULL, NULL, &end) ==
	    SV_ERR_BAD_FORMAT, "random bytes are not a journal");
	ok(sso_journal_scan(junk, 10, junk, SSO_JOURNAL_HEADER, NULL, NULL, &end) ==
	    SV_ERR_BAD_FORMAT, "10 bytes are not a journal");
}

static void
test_names(void)
{
	unsigned long long a0, a1;
	uid_t u = 12345;
	gid_t g;
	int i, all = 1;

	sso_names_forget();
	a0 = sso_names_asked();
	for (i = 0; i < 1000; i++)
		all &= sso_names_user("root", &u) && u == 0;
	a1 = sso_names_asked();
	ok(all, "user root is uid 0, 1000 times");
	ok(a1 - a0 >= 1 && a1 - a0 < 10, "NSS was asked %llu times for 1000 checks", a1 - a0);
	a0 = sso_names_asked();
	for (i = 0; i < 100; i++)
		all &= !sso_names_group("ssovault-no-such-group", &g);
	ok(all && sso_names_asked() - a0 < 10, "a missing group is remembered missing too");
	/* the other spelling of a mapping's principal (sso_mapping_get) too: asked through the cache */
	sso_names_forget();
	a0 = sso_names_asked();
	for (i = 0; i < 1000; i++) {
		char alias[SSO_PRINCIPAL_MAX];

		all &= sso_principal_alias("uid:0", alias) == 0 && strcmp(alias, "user:root") == 0;
		all &= sso_principal_alias("user:root", alias) == 0 && strcmp(alias, "uid:0") == 0;
	}
	ok(all, "uid:0 and user:root are each other's alias, 1000 times");
	a1 = sso_names_asked();
	ok(a1 - a0 >= 1 && a1 - a0 < 10, "NSS was asked %llu times for 2000 aliases", a1 - a0);
	a0 = sso_names_asked();
	sso_names_forget();
	(void)sso_names_user("root", &u);
	is_int(sso_names_asked() - a0, 1, "forgotten: asked again");
	a0 = sso_names_asked();
	usleep((SSO_NAMES_TTL_MS + 100) * 1000);
	(void)sso_names_user("root", &u);
	is_int(sso_names_asked() - a0, 1, "after SSO_NAMES_TTL_MS the answer is asked again");
}


/* fold j in a write transaction of its own, committed; the records folded */
static size_t
fold_once(struct sso_service *s, struct sso_journal *j, size_t *ret_to)
{
	struct vault_txn *t = NULL;
	size_t n = 0;

	if (vault_txn_begin(sso_service_vault(s), 1, &t) != 0 ||
	    sso_journal_fold(j, t, ret_to, &n) != 0 || vault_txn_commit(t) != 0)
		bail("fold");
	return n;
}

/*
 * A journal directory apart from the vault (a vault at a URI, docs/hosts.md):
 * checked as the process's own; a fold whose commit's outcome is not known
 * is not folded again (the progress record says it was).
 */
static void
test_apart(void)
{
	struct sso_service *s = service_open();
	struct sso_journal *j = NULL;
	struct svbuf *b = svbuf_new(0);
	char jdir[700], link[700], path[760], msg[SV_MSG_MAX];
	size_t before, to;
	int i, bad = 0;

	snprintf(jdir, sizeof(jdir), "%s/jnl", tmpdir);
	if (mkdir(jdir, 0755) != 0 || b == NULL)
		bail("mkdir");
	msg[0] = '\0';
	ok(sso_journal_open(sso_service_vault(s), jdir, &j, msg) == SV_ERR_INVALID &&
	    strstr(msg, "mode 0700") != NULL, "a journal directory others may read is refused (%s)",
	    msg);
	if (chmod(jdir, 0700) != 0)
		bail("chmod");
	snprintf(link, sizeof(link), "%s/jnl-link", tmpdir);
	if (symlink(jdir, link) != 0)
		bail("symlink");
	ok(sso_journal_open(sso_service_vault(s), link, &j, msg) == SV_ERR_INVALID,
	    "a journal directory that is a symbolic link is refused (%s)", msg);
	ok(sso_journal_open(sso_service_vault(s), jdir, &j, msg) == 0,
	    "a journal directory of its own, mode 0700: a journal");
	snprintf(path, sizeof(path), "%s/audit.0.journal", jdir);
	ok(access(path, F_OK) == 0, "  in that directory");
	before = audit_records(s);
	for (i = 0; i < 5; i++) {
		if (encode_read(b, "apart", i) != 0)
			bail("sso_audit_encode");
		bad += sso_journal_append(j, svbuf_ptr(b), svbuf_len(b), NULL) != 0;
	}
	ok(bad == 0, "5 records into it");
	ok(fold_once(s, j, &to) == 5, "a fold takes the 5, committed");
	/* the commit's answer lost (a database's connection): not known */
	sso_journal_folded(j, to, 0);
	ok(fold_once(s, j, &to) == 0, "after an outcome not known, the next fold asks the "
	    "progress record and folds none again");
	ok(audit_records(s) == before + 5, "the 5 are in the chain once");
	ok(verify(s) == 0, "the chain verifies");
	/* the process dies before it empties the journal (no sso_journal_folded) */
	sso_journal_close(j);
	j = NULL;
	/* and the last entry is torn after its fold (a power loss): none is folded again */
	{
		uint8_t head[4];
		size_t off = SSO_JOURNAL_HEADER;
		int fd = open(path, O_RDWR), k;

		for (k = 0; fd >= 0 && k < 4; k++) {
			if (pread(fd, head, 4, (off_t)off) != 4)
				bail("pread");
			off += (24 + (head[0] | head[1] << 8 | (size_t)head[2] << 16) + 7) & ~(size_t)7;
		}
		if (fd < 0 || pread(fd, head, 1, (off_t)off + 8) != 1)
			bail("pread");
		head[0] ^= 1;
		if (pwrite(fd, head, 1, (off_t)off + 8) != 1)
			bail("pwrite");
		close(fd);
	}
	ok(sso_journal_open(sso_service_vault(s), jdir, &j, msg) == 0, "the journal again, its "
	    "last entry torn");
	ok(fold_once(s, j, &to) == 0, "  a fold takes none of the 4 before it again");
	sso_journal_folded(j, to, 1);
	ok(audit_records(s) == before + 5, "  the chain still holds the 5 once");
	sso_journal_close(j);
	svbuf_free(b);
	sso_service_free(s);
}

int
main(void)
{
	struct vault_create_opts o;
	struct vault *v = NULL;
	struct sso_service *s = NULL;

	if (sodium_init() < 0)
		bail("sodium_init");
	if (mkdtemp(tmpdir) == NULL)
		bail("mkdtemp");
	test_caller(&admin, 6000, 4242, "/usr/bin/test-journal");
	test_vault_opts(&o, pass);
	snprintf(vdir, sizeof(vdir), "%s/vault", tmpdir);
	if (vault_create(vdir, &o, &v) != 0 || sso_service_new(v, &s) != 0 ||
	    sso_service_bootstrap(s, &admin, NULL, 0, NULL) != 0)
		bail("cannot make a vault");
	sso_service_free(s);

	test_fold();
	test_left_behind();
	test_torn();
	test_two();
	test_two_link();
	test_refused();
	test_apart();
	test_names();
	{
		char *rm[] = { "rm", "-rf", tmpdir, NULL };

		(void)tap_run(rm);
	}
	return done_testing();
}
