/*
 * daemon-bench: credential lookups and durable writes, embedded and through
 * a real ssovaultd, each beside a floor measured in the same run: what this
 * machine does for the same work without ssovault's code around it.
 *
 *   daemon-bench SSOVAULTD [--seconds S] [--dir DIR] [--only ROWS]
 *
 * Makes a throwaway vault in a fresh directory under DIR (default $TMPDIR or
 * /tmp; put it on the disk you care about: durable writes are fsyncs) with a
 * random 32-byte unlock key that never leaves this process's secure memory,
 * one app with the caller mapped, and eight more mappings for the writers.
 * Then, S seconds each (default 3), a floor and the rows measured against it:
 *   - floor: LMDB read transaction + mdb_get of the caller's sealed mapping
 *     record, straight from the data file, and an XChaCha20-Poly1305 open of
 *     a record of the same size into secure memory (no policy, no audit);
 *     then embedded: one thread, one handle, ssovault_creds_get() in a loop,
 *     audit at the default level (every credential read is recorded);
 *   - floor: a bare Unix-socket request/reply, 64 bytes in and 256 out,
 *     with 1, 4 and 16 clients against a server process that gives each
 *     connection a thread (blocking recv and send, nothing else); then
 *     ssovaultd (started here, locked, unlocked over the socket with the
 *     key) with 1, 4 and 16 client threads, one handle each;
 *   - floor: one durable LMDB write transaction at a time (a 200-byte put
 *     and a synced commit) on the same filesystem; then durable writes,
 *     ssovault_creds_set() with 1 and 8 writer threads, each on its own
 *     mapping; acknowledged means committed and fsynced.
 * Each ssovault row prints its share of its floor and the target.  Every
 * answer is checked (the password read back, the last value each writer
 * set), and at the end the audit chain must verify and hold at least one
 * record per lookup and per write.  Exit 0 if every check passed, 1 if
 * not.  Figures are not asserted: it is a benchmark.
 *
 * With --pg URI (an empty database; tests/bench/bench.sh starts a server),
 * the same vault is made there too, and rows follow for the PostgreSQL
 * store (docs/hosts.md): embedded lookups; the floor, a prepared
 * primary-key SELECT of the same record on one connection; ssovaultd with
 * 1 and 4 clients with its cache off (SSOVAULT_PG_CACHE=off: every read a
 * round trip) and on; durable writes with 8 writers; and two daemons at
 * once on the same database (two hosts): lookups and writes on both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <lmdb.h>
#include <sodium.h>

#include "ssovault/ssovault.h"

#define APP "bench"
#define PASSWORD "bench-password-0123456789"
#define WRITERS_MAX 16		/* 8 per daemon, two daemons */
#define WRITER_UID_BASE 4200000u
#define LAT_CHUNK (1u << 20)

static double seconds = 3.0;
static const char *only;	/* --only ROWS: a comma list, for profiling one */

/* Is row name selected (no --only: every row)? */
static int
want(const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (only == NULL)
		return 1;
	for (p = only; (p = strstr(p, name)) != NULL; p += n)
		if ((p == only || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
	return 0;
}
static int failures;

struct lat {
	uint32_t *v;		/* nanoseconds, saturated */
	size_t n, cap;
};

static void
lat_add(struct lat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? LAT_CHUNK : l->cap * 2;
		uint32_t *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return;	/* keep counting with the samples we have */
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static pid_t daemon_pid = -1, daemon2_pid = -1;

/*
 * CPU time used so far, in microseconds: this process (the clients, or the
 * embedded service) plus the daemon (from /proc, in clock ticks).  Divided
 * by the operations of a row it gives the CPU cost of one, a figure that a
 * busy machine disturbs less than the rate.
 */
static uint64_t
cpu_us(void)
{
	struct rusage ru;
	uint64_t us = 0;
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	ssize_t n;
	int fd, i;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		us = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
		    (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
	if (daemon_pid <= 0)
		return us;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)daemon_pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return us;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return us;
	buf[n] = '\0';
	/* fields 14 and 15 (utime, stime) follow the ")" that ends field 2 */
	if ((p = strrchr(buf, ')')) == NULL)
		return us;
	for (i = 0; i < 11 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return us;
	ut = strtoul(p + 1, &p, 10);
	st = strtoul(p, NULL, 10);
	return us + (uint64_t)(ut + st) * 1000000u / (uint64_t)sysconf(_SC_CLK_TCK);
}

static void floor_server_stop(void);

static void
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	va_list ap;

	failures++;
	fputs("daemon-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static char tmpdir[4096];

static void
cleanup(void)
{
	char cmd[4200];

	floor_server_stop();
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = -1;
	}
	if (daemon2_pid > 0) {
		kill(daemon2_pid, SIGKILL);
		waitpid(daemon2_pid, NULL, 0);
		daemon2_pid = -1;
	}
	if (tmpdir[0] != '\0' && getenv("BENCH_KEEP") == NULL) {
		/* a directory we made with mkdtemp: no quoting surprises */
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "daemon-bench: could not remove %s\n", tmpdir);
		tmpdir[0] = '\0';
	}
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("daemon-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cleanup();
	exit(1);
}

/* --- one row of the table ------------------------------------------------ */

/*
 * A row: rate, latency, CPU per operation, and for an ssovault row its
 * share of the floor measured just before it (floor 0: a floor row itself).
 * Returns the rate.
 */
static double
row(const char *what, size_t ops, double secs, uint64_t cpu, struct lat *l, double floor,
    const char *target)
{
	double p50 = 0, p99 = 0, max = 0, per = ops > 0 ? (double)cpu / (double)ops : 0;
	double rate = secs > 0 ? (double)ops / secs : 0;
	char share[16] = "-";

	if (l != NULL && l->n > 0) {
		qsort(l->v, l->n, sizeof(l->v[0]), cmp_u32);
		p50 = l->v[l->n / 2] / 1000.0;
		p99 = l->v[(size_t)((double)l->n * 0.99)] / 1000.0;
		max = l->v[l->n - 1] / 1000.0;
	}
	if (floor > 0)
		snprintf(share, sizeof(share), "%.0f%%", 100.0 * rate / floor);
	printf("%-44s %9.0f %8.1f %8.1f %8.1f %7.1f %6s  %s\n", what, rate, p50, p99, max, per,
	    floor > 0 ? share : "", target);
	fflush(stdout);
	return rate;
}

/* --- set-up -------------------------------------------------------------- */

static uint8_t *key;		/* sodium_malloc'd unlock key */
static char vault_dir[4200], sock_path[4200], sock2_path[4200];
static const char *row_prefix = "";	/* "PostgreSQL: " for its rows */
static int two_daemons;			/* clients alternate between the two */
static uid_t me;

static void
check(struct ssovault *h, int r, const char *what)
{
	if (r != 0)
		die("%s: %s (%s)", what, ssovault_errmsg(h), sv_strerror(r));
}

static void
setup_vault(void)
{
	struct ssovault_init_opts io;
	struct ssovault *h = NULL;
	const char *labels[2] = { "username", "password" };
	const char *values[2];
	char spec[2048], p[64], user[64];
	int r, i;

	memset(&io, 0, sizeof(io));
	io.key = key;
	if ((r = ssovault_init(vault_dir, &io, &h)) != 0)
		die("init %s: %s", vault_dir, ssovault_open_errmsg());
	snprintf(spec, sizeof(spec),
	    "{\"name\":\"" APP "\",\"enabled\":true,\"users\":[\"uid:%lu\"],"
	    "\"fields\":[{\"label\":\"username\",\"masked\":false},"
	    "{\"label\":\"password\",\"masked\":true}]}", (unsigned long)me);
	check(h, ssovault_app_create(h, spec), "app create");
	snprintf(p, sizeof(p), "uid:%lu", (unsigned long)me);
	check(h, ssovault_mapping_create(h, APP, p, "bench-user"), "mapping create");
	values[0] = "bench-user";
	values[1] = PASSWORD;
	check(h, ssovault_creds_set(h, APP, p, 2, labels, values), "creds set");
	for (i = 0; i < WRITERS_MAX; i++) {
		snprintf(p, sizeof(p), "uid:%u", WRITER_UID_BASE + (unsigned)i);
		snprintf(user, sizeof(user), "writer-%d", i);
		check(h, ssovault_mapping_create(h, APP, p, user), "mapping create");
	}
	ssovault_free(h);
}

static int
creds_ok(const struct ssovault_creds *c, const char *want)
{
	const char *pw = ssovault_creds_password(c);

	return pw != NULL && strcmp(pw, want) == 0;
}

/* --- embedded ------------------------------------------------------------ */

static size_t
bench_embedded(double floor)
{
	struct ssovault_open_opts o;
	struct ssovault *h = NULL;
	struct ssovault_creds *c;
	struct lat l = { NULL, 0, 0 };
	uint64_t t0, t1, end, c0;
	size_t n = 0;
	int r;

	memset(&o, 0, sizeof(o));
	o.vault_dir = vault_dir;
	o.mode = SSOVAULT_MODE_EMBEDDED;
	if ((r = ssovault_open(&o, &h)) != 0)
		die("open %s: %s", vault_dir, ssovault_open_errmsg());
	check(h, ssovault_unlock_key(h, key), "unlock");
	c0 = cpu_us();
	t0 = now_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	for (t1 = t0; t1 < end; n++) {
		uint64_t a = t1;

		if ((r = ssovault_creds_get(h, APP, NULL, &c)) != 0) {
			fail("embedded creds get: %s", ssovault_errmsg(h));
			break;
		}
		if (!creds_ok(c, PASSWORD))
			fail("embedded creds get returned the wrong password");
		ssovault_creds_free(c);
		t1 = now_ns();
		lat_add(&l, t1 - a);
	}
	{
		char what[80];

		snprintf(what, sizeof(what), "%scredential lookups, embedded, 1 thread", row_prefix);
		row(what, n, (double)(t1 - t0) / 1e9, cpu_us() - c0, &l, floor,
		    row_prefix[0] != '\0' ? "as LMDB" : ">= 60% of the floor");
	}
	free(l.v);
	ssovault_free(h);
	return n;
}

/* --- the floors ------------------------------------------------------------ */

/*
 * What a lookup cannot do without: a read transaction and mdb_get of the
 * caller's sealed mapping record (the first key of "mappings"), and an
 * XChaCha20-Poly1305 open of a record of the same size, with associated
 * data like the vault's, into secure memory.  Sealed here under a key of
 * our own: the vault's keys never leave it.
 */
static double
bench_lmdb(void)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_cursor *cur = NULL;
	MDB_val k, v, kk, vv;
	uint8_t kbuf[512], aead_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES], ad[600];
	uint8_t *sealed = NULL, *plain = NULL;
	unsigned long long plen = 0;
	struct lat l = { NULL, 0, 0 };
	uint64_t t0, t1, end, c0;
	size_t n = 0, klen, adlen, slen;
	double rate;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 16)) != 0 ||
	    (rc = mdb_env_set_maxreaders(env, 256)) != 0 ||
	    (rc = mdb_env_open(env, vault_dir, MDB_RDONLY | MDB_NOTLS, 0600)) != 0)
		die("LMDB open %s: %s", vault_dir, mdb_strerror(rc));
	/* the one mapping record of the caller: the first key of "mappings" */
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "mappings", 0, &dbi)) != 0 ||
	    (rc = mdb_cursor_open(txn, dbi, &cur)) != 0 ||
	    (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) != 0)
		die("LMDB mappings: %s", mdb_strerror(rc));
	klen = k.mv_size < sizeof(kbuf) ? k.mv_size : sizeof(kbuf);
	memcpy(kbuf, k.mv_data, klen);
	/* version | epoch | nonce | ct+tag, as the vault seals (docs/keys.md) */
	slen = v.mv_size;
	if (slen < 1 + 4 + sizeof(nonce) + crypto_aead_xchacha20poly1305_ietf_ABYTES)
		die("LMDB mappings: a record of %zu bytes is not sealed", slen);
	slen -= 1 + 4 + sizeof(nonce);
	mdb_cursor_close(cur);
	/* a database handle outlives its transaction only if that commits */
	if ((rc = mdb_txn_commit(txn)) != 0)
		die("LMDB commit: %s", mdb_strerror(rc));
	/* associated data: format tag, table and record key, as the vault binds them */
	adlen = (size_t)snprintf((char *)ad, sizeof(ad), "ssovault record v1|mappings|");
	memcpy(ad + adlen, kbuf, klen < sizeof(ad) - adlen ? klen : sizeof(ad) - adlen);
	adlen += klen < sizeof(ad) - adlen ? klen : sizeof(ad) - adlen;
	if ((sealed = malloc(slen)) == NULL ||
	    (plain = sodium_malloc(slen - crypto_aead_xchacha20poly1305_ietf_ABYTES)) == NULL)
		die("out of memory");
	randombytes_buf(aead_key, sizeof(aead_key));
	randombytes_buf(nonce, sizeof(nonce));
	randombytes_buf(plain, slen - crypto_aead_xchacha20poly1305_ietf_ABYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(sealed, NULL, plain,
	    slen - crypto_aead_xchacha20poly1305_ietf_ABYTES, ad, adlen, NULL, nonce, aead_key);
	kk.mv_size = klen;
	kk.mv_data = kbuf;
	c0 = cpu_us();
	t0 = now_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	for (t1 = t0; t1 < end; n++) {
		uint64_t a = t1;

		if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
		    (rc = mdb_get(txn, dbi, &kk, &vv)) != 0)
			die("LMDB read: %s", mdb_strerror(rc));
		if (vv.mv_size != slen + 1 + 4 + sizeof(nonce) ||
		    crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, sealed, slen,
		    ad, adlen, nonce, aead_key) != 0)
			fail("LMDB + AEAD floor: the record did not open");
		mdb_txn_abort(txn);
		t1 = now_ns();
		lat_add(&l, t1 - a);
	}
	rate = row("floor: LMDB read + AEAD open of the record", n, (double)(t1 - t0) / 1e9,
	    cpu_us() - c0, &l, 0, "");
	sodium_memzero(aead_key, sizeof(aead_key));
	sodium_free(plain);
	free(sealed);
	free(l.v);
	mdb_env_close(env);
	return rate;
}

/*
 * One durable LMDB write transaction at a time: a 200-byte put and a
 * synced commit, in an environment of its own beside the vault.
 */
static double
bench_txn_floor(void)
{
	char path[4300];
	uint8_t val[200], kb[8];
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	struct lat l = { NULL, 0, 0 };
	uint64_t t0, t1, end, c0;
	size_t n = 0;
	double rate;
	int rc;

	snprintf(path, sizeof(path), "%s/txn-floor", tmpdir);
	if (mkdir(path, 0700) != 0)
		die("%s: %s", path, strerror(errno));
	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_mapsize(env, 64u << 20)) != 0 ||
	    (rc = mdb_env_open(env, path, 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0 || (rc = mdb_txn_commit(txn)) != 0)
		die("LMDB %s: %s", path, mdb_strerror(rc));
	randombytes_buf(val, sizeof(val));
	c0 = cpu_us();
	t0 = now_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	for (t1 = t0; t1 < end; n++) {
		uint64_t a = t1;

		memcpy(kb, &n, sizeof(kb));
		k.mv_size = sizeof(kb);
		k.mv_data = kb;
		v.mv_size = sizeof(val);
		v.mv_data = val;
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
		    (rc = mdb_put(txn, dbi, &k, &v, 0)) != 0 || (rc = mdb_txn_commit(txn)) != 0)
			die("LMDB write: %s", mdb_strerror(rc));
		t1 = now_ns();
		lat_add(&l, t1 - a);
	}
	rate = row("floor: one durable LMDB write txn at a time", n, (double)(t1 - t0) / 1e9,
	    cpu_us() - c0, &l, 0, "");
	free(l.v);
	mdb_env_close(env);
	return rate;
}

/* --- the socket floor: a server that does nothing but answer -------------- */

#define FLOOR_IN 64
#define FLOOR_OUT 256

static pid_t floor_pid = -1;
static char floor_sock[4300];

static void *
floor_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t in[FLOOR_IN], out[FLOOR_OUT];

	memset(out, 0x5a, sizeof(out));
	while (recv(fd, in, sizeof(in), MSG_WAITALL) == (ssize_t)sizeof(in))
		if (send(fd, out, sizeof(out), MSG_NOSIGNAL) != (ssize_t)sizeof(out))
			break;
	close(fd);
	return NULL;
}

/* A server process: a thread per connection, blocking recv and send. */
static void
floor_server_start(void)
{
	struct sockaddr_un sa;
	int lfd;

	snprintf(floor_sock, sizeof(floor_sock), "%s/floor.sock", tmpdir);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(floor_sock) >= sizeof(sa.sun_path))
		die("%s: path too long for a socket", floor_sock);
	memcpy(sa.sun_path, floor_sock, strlen(floor_sock));
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 64) != 0)
		die("floor socket %s: %s", floor_sock, strerror(errno));
	if ((floor_pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (floor_pid == 0) {
		for (;;) {
			pthread_t t;
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0)
				continue;
			if (pthread_create(&t, NULL, floor_conn, (void *)(intptr_t)fd) != 0)
				close(fd);
			else
				pthread_detach(t);
		}
	}
	close(lfd);
}

static void
floor_server_stop(void)
{
	if (floor_pid > 0) {
		kill(floor_pid, SIGKILL);
		waitpid(floor_pid, NULL, 0);
		floor_pid = -1;
	}
}

/*
 * What the disk gives: 4 KiB written and fdatasync()ed in a loop on the
 * vault's filesystem.  A durable LMDB commit flushes twice (the data pages,
 * then the meta page that points at them), so a writer that waits for its
 * commit gets at most 1 / (2 x this) commits a second, however it batches.
 */
static void
bench_fsync(void)
{
	char path[4300];
	uint8_t page[4096];
	struct lat l = { NULL, 0, 0 };
	uint64_t t0, t1, end, c0;
	size_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/fsync.test", tmpdir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		die("%s: %s", path, strerror(errno));
	memset(page, 0x5a, sizeof(page));
	c0 = cpu_us();
	t0 = now_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	for (t1 = t0; t1 < end; n++) {
		uint64_t a = t1;

		if (pwrite(fd, page, sizeof(page), (off_t)(n % 16) * 4096) != sizeof(page) ||
		    fdatasync(fd) != 0)
			die("%s: %s", path, strerror(errno));
		t1 = now_ns();
		lat_add(&l, t1 - a);
	}
	close(fd);
	unlink(path);
	row("disk: 4 KiB pwrite + fdatasync", n, (double)(t1 - t0) / 1e9, cpu_us() - c0, &l, 0,
	    "(a durable LMDB commit is 2 of these)");
	free(l.v);
}

/* --- the daemon ------------------------------------------------------------ */

static int
open_daemon_at(const char *sock, struct ssovault **ret)
{
	struct ssovault_open_opts o;

	memset(&o, 0, sizeof(o));
	o.socket_path = sock;
	o.mode = SSOVAULT_MODE_DAEMON;
	return ssovault_open(&o, ret);
}

static int
open_daemon(struct ssovault **ret)
{
	return open_daemon_at(sock_path, ret);
}

/*
 * A daemon on vault_dir at sock; on a PostgreSQL vault, cold: its cache off,
 * and its journal of reads in a directory of its own beside sock, or with
 * no journal (each read commits its record, as before issue 13 item 8).
 */
#define PG_CACHE_OFF 1
#define PG_NO_JOURNAL 2
static void
start_daemon_at(const char *ssovaultd, const char *sock, pid_t *ret_pid, int cold)
{
	struct ssovault *h = NULL;
	char logf[4300], jdir[4300], *json = NULL;
	pid_t pid;
	int i, r = -1, st;

	snprintf(logf, sizeof(logf), "%s.log", sock);
	/* a path the daemon cannot make a directory at: it has no journal */
	snprintf(jdir, sizeof(jdir), "%s", (cold & PG_NO_JOURNAL) ? "/dev/null/none" : sock);
	if (!(cold & PG_NO_JOURNAL))
		memcpy(jdir + strlen(jdir) - 5, ".jnl\0", 5);	/* x.sock -> x.jnl */
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (cold & PG_CACHE_OFF)
			setenv("SSOVAULT_PG_CACHE", "off", 1);
		if (strstr(vault_dir, "://") != NULL)
			execl(ssovaultd, ssovaultd, "--vault", vault_dir, "--socket", sock,
			    "--log-file", logf, "--journal-dir", jdir, (char *)NULL);
		else
			execl(ssovaultd, ssovaultd, "--vault", vault_dir, "--socket", sock,
			    "--log-file", logf, (char *)NULL);
		fprintf(stderr, "daemon-bench: exec %s: %s\n", ssovaultd, strerror(errno));
		_exit(127);
	}
	*ret_pid = pid;
	if (open_daemon_at(sock, &h) != 0)
		die("open a daemon handle: %s", ssovault_open_errmsg());
	for (i = 0; i < 300; i++) {
		if ((r = ssovault_status(h, &json)) == 0)
			break;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			*ret_pid = -1;
			die("ssovaultd exited at start (see %s)", logf);
		}
		usleep(20000);
	}
	free(json);
	if (r != 0)
		die("ssovaultd does not answer on %s", sock);
	/* it started locked: unlock it over the socket, as an admin would */
	check(h, ssovault_unlock_key(h, key), "unlock through ssovaultd");
	ssovault_free(h);
}

static void
start_daemon(const char *ssovaultd)
{
	start_daemon_at(ssovaultd, sock_path, &daemon_pid, 0);
}

static void
stop_daemon_at(pid_t *pid)
{
	int st = 0;

	kill(*pid, SIGTERM);
	if (waitpid(*pid, &st, 0) != *pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("ssovaultd did not exit 0 on SIGTERM (status %d)", st);
	*pid = -1;
}

static void
stop_daemon(void)
{
	stop_daemon_at(&daemon_pid);
}

enum client_kind { CLIENT_READ, CLIENT_WRITE, CLIENT_FLOOR };

struct client {
	pthread_t t;
	int id;
	enum client_kind kind;
	uint64_t start, end;	/* shared deadline */
	size_t n;
	unsigned last;		/* writers: the last value acknowledged */
	struct lat l;
	int err;
	char msg[300];
};

static pthread_barrier_t go;

/* The socket floor's client: 64 bytes out, 256 back, as fast as it goes. */
static void *
floor_client_main(void *arg)
{
	struct client *c = arg;
	struct sockaddr_un sa;
	uint8_t out[FLOOR_IN], in[FLOOR_OUT];
	uint64_t a, b;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, floor_sock, strlen(floor_sock));
	memset(out, 0xa5, sizeof(out));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		c->err = SV_ERR_UNREACHABLE;
		snprintf(c->msg, sizeof(c->msg), "floor socket: %s", strerror(errno));
	}
	pthread_barrier_wait(&go);
	for (b = now_ns(); c->err == 0 && b < c->end; c->n++) {
		a = b;
		if (send(fd, out, sizeof(out), MSG_NOSIGNAL) != (ssize_t)sizeof(out) ||
		    recv(fd, in, sizeof(in), MSG_WAITALL) != (ssize_t)sizeof(in)) {
			c->err = SV_ERR_IO;
			snprintf(c->msg, sizeof(c->msg), "floor socket: %s", strerror(errno));
			break;
		}
		b = now_ns();
		lat_add(&c->l, b - a);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	struct ssovault *h = NULL;
	struct ssovault_creds *cr;
	const char *labels[1] = { "password" };
	const char *values[1];
	char user[64], val[64], *json = NULL;
	uint64_t a, b;
	int r;

	snprintf(user, sizeof(user), "uid:%u", WRITER_UID_BASE + (unsigned)c->id);
	if ((r = open_daemon_at(two_daemons && c->id % 2 ? sock2_path : sock_path, &h)) == 0) {
		/* connect before the clock starts */
		if (!(c->kind == CLIENT_WRITE) && (r = ssovault_creds_get(h, APP, NULL, &cr)) == 0)
			ssovault_creds_free(cr);
		else if ((c->kind == CLIENT_WRITE) && (r = ssovault_status(h, &json)) == 0)
			free(json);
	}
	if (r != 0) {
		c->err = r;
		snprintf(c->msg, sizeof(c->msg), "%s", h != NULL ? ssovault_errmsg(h) :
		    ssovault_open_errmsg());
	}
	pthread_barrier_wait(&go);
	if (r != 0)
		goto out;
	for (b = now_ns(); b < c->end; c->n++) {
		a = b;
		if ((c->kind == CLIENT_WRITE)) {
			snprintf(val, sizeof(val), "writer-%d-%zu", c->id, c->n);
			values[0] = val;
			r = ssovault_creds_set(h, APP, user, 1, labels, values);
			if (r == 0)
				c->last = (unsigned)c->n;
		} else {
			if ((r = ssovault_creds_get(h, APP, NULL, &cr)) == 0) {
				if (!creds_ok(cr, PASSWORD))
					r = SV_ERR_INTEGRITY;
				ssovault_creds_free(cr);
			}
		}
		if (r != 0) {
			c->err = r;
			snprintf(c->msg, sizeof(c->msg), "%s", ssovault_errmsg(h));
			break;
		}
		b = now_ns();
		lat_add(&c->l, b - a);
	}
out:
	ssovault_free(h);
	return NULL;
}

/*
 * n threads against the daemon (or the socket floor's server); returns the
 * operations done, and the rate in *ret_rate if not NULL.
 */
static size_t
bench_clients(int n, enum client_kind kind, double floor, double *ret_rate)
{
	const int write = kind == CLIENT_WRITE;
	double rate;
	struct client cl[32];
	struct lat all = { NULL, 0, 0 };
	char what[80];
	size_t total = 0, i;
	uint64_t start, c0;
	int k;

	memset(cl, 0, sizeof(cl));
	if (pthread_barrier_init(&go, NULL, (unsigned)n + 1) != 0)
		die("pthread_barrier_init");
	for (k = 0; k < n; k++) {
		cl[k].id = k;
		cl[k].kind = kind;
		cl[k].end = UINT64_MAX;
		if (pthread_create(&cl[k].t, NULL, kind == CLIENT_FLOOR ? floor_client_main :
		    client_main, &cl[k]) != 0)
			die("pthread_create");
	}
	/* the deadline is set before the barrier releases the clients */
	start = now_ns();
	for (k = 0; k < n; k++)
		cl[k].end = start + (uint64_t)(seconds * 1e9);
	c0 = cpu_us();
	pthread_barrier_wait(&go);
	start = now_ns();
	for (k = 0; k < n; k++)
		pthread_join(cl[k].t, NULL);
	c0 = cpu_us() - c0;
	for (k = 0; k < n; k++) {
		if (cl[k].err != 0)
			fail("client %d: %s (%s)", k, cl[k].msg, sv_strerror(cl[k].err));
		total += cl[k].n;
		for (i = 0; i < cl[k].l.n; i++)
			lat_add(&all, cl[k].l.v[i]);
		free(cl[k].l.v);
	}
	pthread_barrier_destroy(&go);
	if (kind == CLIENT_FLOOR)
		snprintf(what, sizeof(what), "floor: Unix socket 64 B -> 256 B, %d client%s", n,
		    n == 1 ? "" : "s");
	else if (write)
		snprintf(what, sizeof(what), "%sdurable writes (creds set), %d writer%s%s", row_prefix,
		    n, n == 1 ? "" : "s", two_daemons ? ", 2 hosts" : "");
	else
		snprintf(what, sizeof(what), "%scredential lookups, ssovaultd, %d client%s%s",
		    row_prefix, n, n == 1 ? "" : "s", two_daemons ? ", 2 hosts" : "");
	rate = row(what, total, (double)(now_ns() - start) / 1e9, c0, &all, floor,
	    kind == CLIENT_FLOOR ? "" : row_prefix[0] != '\0' ?
	    (write ? (n >= 8 ? ">= 1000/s per host pair" : "") : "as the LMDB rows (warm)") :
	    write ? (n == 8 ? ">= 400% of the floor" : "") :
	    n == 4 ? ">= 60% of the floor, p99 < 1 ms" : n == 1 ? ">= 70% of the floor" :
	    "p99 < 1 ms");
	if (ret_rate != NULL)
		*ret_rate = rate;
	free(all.v);
	/* what the writers were told is stored must be there */
	if (write) {
		struct ssovault *h = NULL;
		struct ssovault_creds *c;
		char user[64], want[64];

		if (open_daemon(&h) != 0)
			die("open a daemon handle: %s", ssovault_open_errmsg());
		for (k = 0; k < n; k++) {
			if (cl[k].n == 0)
				continue;
			snprintf(user, sizeof(user), "uid:%u", WRITER_UID_BASE + (unsigned)k);
			snprintf(want, sizeof(want), "writer-%d-%u", k, cl[k].last);
			if (ssovault_creds_get(h, APP, user, &c) != 0) {
				fail("reading back %s: %s", user, ssovault_errmsg(h));
				continue;
			}
			if (!creds_ok(c, want))
				fail("%s holds %s, not the last acknowledged %s", user,
				    ssovault_creds_password(c), want);
			ssovault_creds_free(c);
		}
		ssovault_free(h);
	}
	return total;
}

/* --- PostgreSQL ------------------------------------------------------------- */

/*
 * The floor for the PostgreSQL rows: a prepared primary-key SELECT of the
 * caller's mapping record (the same bytes a lookup reads) on one connection.
 */
static void
bench_pg_floor(const char *uri)
{
	const char *keys[] = { "dbname", NULL }, *vals[] = { uri, NULL };
	const char *params[2];
	int lens[2], fmts[2] = { 0, 1 };
	struct lat l = { NULL, 0, 0 };
	uint64_t t0, t1, end, c0;
	PGresult *res;
	PGconn *c;
	char tab[16];
	uint8_t k[512];
	size_t n = 0, klen;

	c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK)
		die("floor: %s", PQerrorMessage(c));
	res = PQexecParams(c, "SELECT r.tab, r.k FROM ssovault_records r JOIN ssovault_tables t "
	    "ON t.id = r.tab WHERE t.name = 'mappings' ORDER BY r.k LIMIT 1", 0, NULL, NULL,
	    NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		die("floor: no mapping record: %s", PQerrorMessage(c));
	snprintf(tab, sizeof(tab), "%u", (unsigned)ntohl(*(uint32_t *)PQgetvalue(res, 0, 0)));
	klen = (size_t)PQgetlength(res, 0, 1) < sizeof(k) ? (size_t)PQgetlength(res, 0, 1) : sizeof(k);
	memcpy(k, PQgetvalue(res, 0, 1), klen);
	PQclear(res);
	res = PQprepare(c, "get", "SELECT v FROM ssovault_records WHERE tab = $1::int4 AND "
	    "k = $2::bytea", 2, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		die("floor: prepare: %s", PQerrorMessage(c));
	PQclear(res);
	params[0] = tab;
	params[1] = (const char *)k;
	lens[0] = 0;
	lens[1] = (int)klen;
	c0 = cpu_us();
	t0 = now_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	for (t1 = t0; t1 < end; n++) {
		uint64_t a = t1;

		res = PQexecPrepared(c, "get", 2, params, lens, fmts, 1);
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
			die("floor: %s", PQerrorMessage(c));
		PQclear(res);
		t1 = now_ns();
		lat_add(&l, t1 - a);
	}
	row("PostgreSQL: primary-key SELECT (floor)", n, (double)(t1 - t0) / 1e9,
	    cpu_us() - c0, &l, 0, "one round trip, same connection");
	free(l.v);
	PQfinish(c);
}

/* A group of PostgreSQL rows: "pg" selects them all, "pg-NAME" one group. */
static int
want_pg(const char *group)
{
	char name[32];

	snprintf(name, sizeof(name), "pg-%s", group);
	return want("pg") || want(name);
}

/*
 * The PostgreSQL rows: the same vault made at uri, then the same rows, in
 * groups (--only pg-cold, pg-nojournal, pg-warm, pg-w8, pg-2hosts).
 */
static size_t
bench_pg(const char *ssovaultd, const char *uri)
{
	size_t ops = 0;

	snprintf(vault_dir, sizeof(vault_dir), "%s", uri);
	snprintf(sock_path, sizeof(sock_path), "%s/pg-a.sock", tmpdir);
	snprintf(sock2_path, sizeof(sock2_path), "%s/pg-b.sock", tmpdir);
	setup_vault();
	printf("\nthe same on a PostgreSQL vault (%s)\n", uri);
	row_prefix = "PostgreSQL: ";
	if (want("pg"))
		ops += bench_embedded(0);
	bench_pg_floor(uri);
	if (want_pg("nojournal")) {
		start_daemon_at(ssovaultd, sock_path, &daemon_pid, PG_CACHE_OFF | PG_NO_JOURNAL);
		row_prefix = "PostgreSQL, cache off, no journal: ";
		ops += bench_clients(1, CLIENT_READ, 0, NULL);
		ops += bench_clients(4, CLIENT_READ, 0, NULL);
		stop_daemon();
		start_daemon_at(ssovaultd, sock_path, &daemon_pid, PG_NO_JOURNAL);
		row_prefix = "PostgreSQL, cache on, no journal: ";
		ops += bench_clients(1, CLIENT_READ, 0, NULL);
		ops += bench_clients(4, CLIENT_READ, 0, NULL);
		stop_daemon();
	}
	if (want_pg("cold")) {
		start_daemon_at(ssovaultd, sock_path, &daemon_pid, PG_CACHE_OFF);
		row_prefix = "PostgreSQL, cache off: ";
		ops += bench_clients(1, CLIENT_READ, 0, NULL);
		ops += bench_clients(4, CLIENT_READ, 0, NULL);
		stop_daemon();
	}
	start_daemon_at(ssovaultd, sock_path, &daemon_pid, 0);
	if (want_pg("warm")) {
		row_prefix = "PostgreSQL, cache on: ";
		ops += bench_clients(1, CLIENT_READ, 0, NULL);
		ops += bench_clients(4, CLIENT_READ, 0, NULL);
	}
	row_prefix = "PostgreSQL: ";
	if (want_pg("w8"))
		ops += bench_clients(8, CLIENT_WRITE, 0, NULL);
	if (want_pg("2hosts")) {
		/* a second host: another daemon on the same database */
		start_daemon_at(ssovaultd, sock2_path, &daemon2_pid, 0);
		two_daemons = 1;
		ops += bench_clients(8, CLIENT_READ, 0, NULL);
		ops += bench_clients(16, CLIENT_WRITE, 0, NULL);
		two_daemons = 0;
		stop_daemon_at(&daemon2_pid);
	}
	stop_daemon();
	row_prefix = "";
	return ops;
}

/* --- after: the audit chain ------------------------------------------------ */

static void
audit_check(size_t ops)
{
	struct ssovault_open_opts o;
	struct ssovault *h = NULL;
	char *json = NULL, *p;
	unsigned long long records = 0;
	int r;

	memset(&o, 0, sizeof(o));
	o.vault_dir = vault_dir;
	o.mode = SSOVAULT_MODE_EMBEDDED;
	if ((r = ssovault_open(&o, &h)) != 0)
		die("open %s: %s", vault_dir, ssovault_open_errmsg());
	check(h, ssovault_unlock_key(h, key), "unlock");
	if ((r = ssovault_audit_verify(h, &json)) != 0) {
		fail("audit verify: %s", ssovault_errmsg(h));
	} else if ((p = strstr(json, "\"records\":")) == NULL ||
	    (records = strtoull(p + 10, NULL, 10)) < ops) {
		fail("audit holds %llu records, fewer than the %zu operations measured",
		    records, ops);
	} else {
		printf("\naudit chain verifies: %llu records for %zu measured operations\n",
		    records, ops);
	}
	free(json);
	ssovault_free(h);
}

static const char *
fs_name(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) != 0)
		return "?";
	switch ((unsigned long)sf.f_type) {
	case 0xEF53: return "ext4";
	case 0x58465342: return "xfs";
	case 0x9123683E: return "btrfs";
	case 0x01021994: return "tmpfs (fsync does nothing here!)";
	case 0x794c7630: return "overlayfs";
	default: return "other";
	}
}

int
main(int argc, char **argv)
{
	const char *ssovaultd, *base = getenv("TMPDIR"), *pg_uri = NULL;
	struct utsname un;
	double load[3], floor;
	size_t ops = 0;
	int i;

	if (argc < 2)
		die("usage: daemon-bench SSOVAULTD [--seconds S] [--dir DIR] [--only ROWS] [--pg URI]\n"
		    "  ROWS: a comma list of embedded, d1, d4, d16, w1, w8, fsync, pg (or of its\n"
		    "  groups: pg-cold, pg-nojournal, pg-warm, pg-w8, pg-2hosts)");
	ssovaultd = argv[1];
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			base = argv[++i];
		else if (strcmp(argv[i], "--pg") == 0 && i + 1 < argc)
			pg_uri = argv[++i];
		else
			die("unknown argument %s", argv[i]);
	}
	if (!(seconds >= 0.1 && seconds <= 600))
		die("--seconds takes 0.1 to 600");
	if (access(ssovaultd, X_OK) != 0)
		die("%s: %s", ssovaultd, strerror(errno));
	if (sodium_init() < 0)
		die("sodium_init");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/ssovault-bench.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL) {
		tmpdir[0] = '\0';
		die("mkdtemp under %s: %s", base, strerror(errno));
	}
	snprintf(vault_dir, sizeof(vault_dir), "%s/vault", tmpdir);
	snprintf(sock_path, sizeof(sock_path), "%s/ssovault.sock", tmpdir);
	if ((key = sodium_malloc(32)) == NULL)
		die("out of memory");
	randombytes_buf(key, 32);
	me = getuid();
	uname(&un);

	setup_vault();
	printf("ssovault daemon benchmark: %ld CPUs, %s %s, vault on %s (%s), %.1f s per row\n",
	    sysconf(_SC_NPROCESSORS_ONLN), un.sysname, un.machine, tmpdir, fs_name(tmpdir),
	    seconds);
	/* other work on the machine shows in every figure: say how much there was */
	if (getloadavg(load, 3) == 3)
		printf("load average before the run: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
	printf("cpu us: CPU time of this process and ssovaultd per operation; floor: the row's\n"
	    "rate as a share of the floor measured right before it\n\n");
	printf("%-44s %9s %8s %8s %8s %7s %6s  %s\n", "", "ops/s", "p50 us", "p99 us", "max us",
	    "cpu us", "floor", "target");
	if (want("embedded")) {
		floor = bench_lmdb();
		ops += bench_embedded(floor);
	}
	if (want("d1") || want("d4") || want("d16") || want("w1") || want("w8")) {
		floor_server_start();
		start_daemon(ssovaultd);
		for (i = 0; i < 3; i++) {
			static const int nc[3] = { 1, 4, 16 };
			static const char *const name[3] = { "d1", "d4", "d16" };

			if (!want(name[i]))
				continue;
			/* the floor right before the row it is the floor of */
			(void)bench_clients(nc[i], CLIENT_FLOOR, 0, &floor);
			ops += bench_clients(nc[i], CLIENT_READ, floor, NULL);
		}
		floor_server_stop();
		if (want("w1") || want("w8")) {
			if (want("fsync"))
				bench_fsync();
			floor = bench_txn_floor();
			if (want("w1"))
				ops += bench_clients(1, CLIENT_WRITE, floor, NULL);
			if (want("w8"))
				ops += bench_clients(8, CLIENT_WRITE, floor, NULL);
		}
		stop_daemon();
	}
	audit_check(ops);
	if (pg_uri != NULL && (want_pg("cold") || want_pg("nojournal") || want_pg("warm") ||
	    want_pg("w8") || want_pg("2hosts"))) {
		ops = bench_pg(ssovaultd, pg_uri);
		audit_check(ops);
	}
	sodium_free(key);
	cleanup();
	if (failures != 0) {
		fprintf(stderr, "daemon-bench: %d check%s failed\n", failures,
		    failures == 1 ? "" : "s");
		return 1;
	}
	return 0;
}
