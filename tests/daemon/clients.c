/*
 * clients: many clients of one ssovaultd at once, through the public client
 * API (ssovault.h), each thread with its own handle and connection.
 *
 *   clients mixed SOCKET THREADS ROUNDS
 *       Every thread adds, checks, and removes affiliate-admin principals of
 *       its own (uid:7TTRRR), reads the role list and the status between,
 *       and checks that every answer is right: its own principal present
 *       after the add, absent after the remove, never a stray error.
 *       Prints "PASS ..." / "FAIL ..." lines.
 *   clients stream SOCKET THREADS MAX [BASE]
 *       Every thread T adds affiliate-admin uid:(BASE + T * 10000 + k) for
 *       k = 0.. until MAX or the first error (the daemon was killed), printing
 *       each principal whose add was acknowledged, one per line, as soon as it
 *       is, and the error that stopped it on stderr.  BASE defaults to
 *       80000000.
 *   clients reads SOCKET THREADS N APP
 *       Every thread reads its caller's credentials for APP (N times at
 *       most, until the first error: the daemon was killed) and prints
 *       "ok" for each read that was answered, as soon as it is.
 *   clients reads-embedded VAULT N APP KEYFILE
 *       One embedded handle on VAULT, unlocked with the 32 raw bytes of
 *       KEYFILE, reads N times (printing "ok" for each), then the process
 *       kills itself with SIGKILL: nothing is closed or flushed.
 *   clients fetch SOCKET THUMBPRINT
 *       ssovault_cert_fetch; prints the error code and message (or "ok").
 *   clients locked SOCKET
 *       On a locked daemon: every operation but status, unlock and secret
 *       restore, sent as raw frames with a valid object, must be refused
 *       with SV_ERR_LOCKED.  Prints "PASS ..." / "FAIL ..." lines.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ssovault/ssovault.h"
#include "base/svbuf.h"
#include "proto/wire.h"

static const char *sock_path;
static const char *read_app;
static int rounds;
static unsigned long stream_base = 80000000UL;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

struct worker {
	pthread_t t;
	int id;
	int failures;
	int max;
	char last[256];
};

static int
open_handle(struct ssovault **ret)
{
	struct ssovault_open_opts o;

	memset(&o, 0, sizeof(o));
	o.socket_path = sock_path;
	o.mode = SSOVAULT_MODE_DAEMON;
	return ssovault_open(&o, ret);
}

static int
has_principal(const char *json, const char *p)
{
	char quoted[80];

	snprintf(quoted, sizeof(quoted), "\"%s\"", p);
	return json != NULL && strstr(json, quoted) != NULL;
}

static void
fail(struct worker *w, const char *what, struct ssovault *h, int r)
{
	w->failures++;
	snprintf(w->last, sizeof(w->last), "%s: %d %s", what, r,
	    h != NULL ? ssovault_errmsg(h) : "");
}

static void *
mixed_main(void *arg)
{
	struct worker *w = arg;
	struct ssovault *h = NULL;
	char p[64], *json = NULL;
	int i, r;

	if ((r = open_handle(&h)) != 0) {
		fail(w, "open", NULL, r);
		return NULL;
	}
	for (i = 0; i < rounds; i++) {
		snprintf(p, sizeof(p), "uid:7%02d%03d", w->id, i);
		if ((r = ssovault_role_add(h, "affiliate-admin", p)) != 0) {
			fail(w, "role add", h, r);
			continue;
		}
		if ((r = ssovault_role_list(h, &json)) != 0)
			fail(w, "role list", h, r);
		else if (!has_principal(json, p))
			fail(w, "role list lacks the principal just added", h, 0);
		free(json);
		json = NULL;
		if ((r = ssovault_status(h, &json)) != 0)
			fail(w, "status", h, r);
		else if (strstr(json, "\"unlocked\":true") == NULL)
			fail(w, "status does not say unlocked", h, 0);
		free(json);
		json = NULL;
		r = ssovault_role_add(h, "affiliate-admin", p);
		if (r != SV_ERR_EXISTS)
			fail(w, "adding it twice is not 'exists'", h, r);
		if ((r = ssovault_role_remove(h, "affiliate-admin", p)) != 0) {
			fail(w, "role remove", h, r);
			continue;
		}
		if ((r = ssovault_role_list(h, &json)) != 0)
			fail(w, "role list", h, r);
		else if (has_principal(json, p))
			fail(w, "role list still has the principal just removed", h, 0);
		free(json);
		json = NULL;
	}
	ssovault_free(h);
	return NULL;
}

static void *
stream_main(void *arg)
{
	struct worker *w = arg;
	struct ssovault *h = NULL;
	char p[64];
	int k;

	if (open_handle(&h) != 0)
		return NULL;
	for (k = 0; k < w->max; k++) {
		snprintf(p, sizeof(p), "uid:%lu", stream_base + (unsigned long)w->id * 10000UL +
		    (unsigned long)k);
		if (ssovault_role_add(h, "affiliate-admin", p) != 0) {
			fprintf(stderr, "%s: %s\n", p, ssovault_errmsg(h));
			break;
		}
		pthread_mutex_lock(&out_mu);
		printf("%s\n", p);
		fflush(stdout);
		pthread_mutex_unlock(&out_mu);
	}
	ssovault_free(h);
	return NULL;
}

/* One "ok" line per answered read, printed before the next read is sent. */
static int
read_once(struct ssovault *h)
{
	struct ssovault_creds *c = NULL;

	if (ssovault_creds_get(h, read_app, NULL, &c) != 0)
		return -1;
	ssovault_creds_free(c);
	pthread_mutex_lock(&out_mu);
	printf("ok\n");
	fflush(stdout);
	pthread_mutex_unlock(&out_mu);
	return 0;
}

static void *
reads_main(void *arg)
{
	struct worker *w = arg;
	struct ssovault *h = NULL;
	int k;

	if (open_handle(&h) != 0)
		return NULL;
	for (k = 0; k < w->max && read_once(h) == 0; k++)
		continue;
	ssovault_free(h);
	return NULL;
}

/* Embedded reads, then death without a close: the journal is all that holds them. */
static int
reads_embedded(const char *vault, int n, const char *keyfile)
{
	struct ssovault_open_opts o;
	struct ssovault *h = NULL;
	uint8_t *key = sodium_malloc(32);
	int fd, k;

	if (key == NULL || (fd = open(keyfile, O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	k = read(fd, key, 32) == 32;
	close(fd);
	memset(&o, 0, sizeof(o));
	o.vault_dir = vault;
	o.mode = SSOVAULT_MODE_EMBEDDED;
	if (!k || ssovault_open(&o, &h) != 0 || ssovault_unlock_key(h, key) != 0) {
		fprintf(stderr, "clients: cannot open and unlock %s\n", vault);
		return 1;
	}
	sodium_free(key);
	for (k = 0; k < n; k++)
		if (read_once(h) != 0) {
			fprintf(stderr, "clients: read %d: %s\n", k, ssovault_errmsg(h));
			return 1;
		}
	raise(SIGKILL);
	return 1;
}

static int
run_threads(int n, void *(*fn)(void *), int max)
{
	struct worker *w = calloc((size_t)n, sizeof(*w));
	int i, failures = 0;

	if (w == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		w[i].id = i;
		w[i].max = max;
		if (pthread_create(&w[i].t, NULL, fn, &w[i]) != 0) {
			fprintf(stderr, "clients: cannot start thread %d\n", i);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		if (w[i].failures > 0) {
			printf("# thread %d: %d failures, last: %s\n", i, w[i].failures, w[i].last);
			failures += w[i].failures;
		}
	}
	free(w);
	return failures;
}

/* Every operation number of sso.h, and whether it works while locked. */
static const struct {
	int op;
	int locked_ok;
	int cert;
} all_ops[] = {
	{ 1, 1, 0 }, { 2, 1, 0 }, { 3, 0, 0 }, { 10, 0, 0 }, { 11, 1, 0 }, { 12, 0, 0 },
	{ 13, 0, 0 }, { 14, 0, 0 }, { 20, 0, 0 }, { 21, 0, 0 }, { 22, 0, 0 }, { 30, 0, 0 },
	{ 31, 0, 0 }, { 32, 0, 0 }, { 33, 0, 0 }, { 34, 0, 0 }, { 35, 0, 0 }, { 36, 0, 0 },
	{ 37, 0, 0 }, { 40, 0, 0 }, { 41, 0, 0 }, { 42, 0, 0 }, { 43, 0, 0 }, { 44, 0, 0 },
	{ 50, 0, 0 }, { 51, 0, 0 }, { 60, 0, 0 }, { 61, 0, 0 }, { 62, 0, 0 }, { 70, 0, 0 },
	{ 71, 0, 0 }, { 72, 0, 1 }, { 73, 0, 1 }, { 74, 0, 1 }, { 75, 0, 1 }, { 76, 0, 1 },
	{ 77, 0, 1 }, { 80, 0, 0 }, { 81, 0, 0 }, { 82, 0, 0 }, { 83, 0, 0 }, { 84, 0, 0 },
	{ 90, 0, 0 }, { 91, 0, 0 }, { 92, 0, 0 }, { 93, 0, 0 }, { 94, 0, 0 }, { 95, 0, 0 },
	{ 100, 0, 0 }, { 101, 0, 0 }, { 102, 0, 0 }, { 103, 0, 0 },
};

static int
locked_check(void)
{
	struct svbuf *req = svbuf_new(0), *rep = svbuf_new(0);
	const uint8_t *m;
	size_t i, mlen;
	uint32_t status;
	char msg[SV_MSG_MAX];
	int s = -1, r, failures = 0;

	if (req == NULL || rep == NULL || sso_wire_connect(sock_path, &s, msg) != 0) {
		printf("FAIL connect to %s\n", sock_path);
		return 1;
	}
	for (i = 0; i < sizeof(all_ops) / sizeof(all_ops[0]); i++) {
		if (all_ops[i].locked_ok)
			continue;
		svbuf_reset(req);
		/* an object every operation accepts: read before the lock check */
		if ((r = svbuf_put_u8(req, (uint8_t)all_ops[i].op)) != 0 ||
		    (r = svbuf_put_cstring(req, all_ops[i].cert ?
		    "0123456789ABCDEF0123456789ABCDEF01234567" : "payroll")) != 0 ||
		    (r = sso_wire_send(s, svbuf_ptr(req), svbuf_len(req), -1)) != 0 ||
		    (r = sso_wire_recv(s, SSO_FRAME_MAX_DEFAULT, rep, NULL)) != 0 ||
		    (r = svbuf_get_u32(rep, &status)) != 0 ||
		    (r = svbuf_get_string_direct(rep, &m, &mlen)) != 0) {
			printf("FAIL operation %d: no reply (%s)\n", all_ops[i].op, sv_strerror(r));
			failures++;
			continue;
		}
		if ((int32_t)status == SV_ERR_LOCKED) {
			printf("PASS operation %d refused while locked\n", all_ops[i].op);
		} else {
			printf("FAIL operation %d refused while locked: got %d '%.*s'\n",
			    all_ops[i].op, (int32_t)status, (int)mlen, (const char *)m);
			failures++;
		}
	}
	close(s);
	svbuf_free(req);
	svbuf_free(rep);
	return failures != 0;
}

static int
count(const char *s)
{
	int v = 0;

	if (*s == '\0' || strlen(s) > 6)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

int
main(int argc, char **argv)
{
	struct ssovault_cert_blob *b = NULL;
	struct ssovault *h = NULL;
	int n, r;

	if (sodium_init() < 0 || argc < 3) {
		fprintf(stderr, "usage: clients mixed|stream SOCKET THREADS N | "
		    "reads SOCKET THREADS N APP | reads-embedded VAULT N APP KEYFILE | "
		    "fetch SOCKET THUMBPRINT | locked SOCKET\n");
		return 2;
	}
	sock_path = argv[2];
	if (strcmp(argv[1], "locked") == 0)
		return locked_check();
	if (argc < 4)
		return 2;
	if (strcmp(argv[1], "fetch") == 0) {
		if ((r = open_handle(&h)) != 0)
			return 1;
		r = ssovault_cert_fetch(h, argv[3], &b);
		printf("%s %d %s\n", r == 0 ? "ok" : "error", r, r == 0 ? "" : ssovault_errmsg(h));
		ssovault_cert_blob_free(b);
		ssovault_free(h);
		return 0;
	}
	if (strcmp(argv[1], "reads-embedded") == 0) {
		if (argc < 6 || (n = count(argv[3])) < 1)
			return 2;
		read_app = argv[4];
		return reads_embedded(argv[2], n, argv[5]);
	}
	if (strcmp(argv[1], "reads") == 0) {
		if (argc < 6 || (n = count(argv[3])) < 1 || n > 99 || (rounds = count(argv[4])) < 1)
			return 2;
		read_app = argv[5];
		return run_threads(n, reads_main, rounds) < 0 ? 1 : 0;
	}
	if (argc < 5 || (n = count(argv[3])) < 1 || n > 99 || (rounds = count(argv[4])) < 1 ||
	    rounds > 9999) {
		fprintf(stderr, "clients: THREADS is 1 to 99, N 1 to 9999\n");
		return 2;
	}
	if (strcmp(argv[1], "stream") == 0) {
		if (argc > 5 && (stream_base = (unsigned long)count(argv[5]) * 100UL) < 100)
			return 2;
		return run_threads(n, stream_main, rounds) < 0 ? 1 : 0;
	}
	if (strcmp(argv[1], "mixed") != 0)
		return 2;
	r = run_threads(n, mixed_main, 0);
	printf("%s %d clients, %d rounds each of add/list/status/add-again/remove/list: "
	    "every answer right\n", r == 0 ? "PASS" : "FAIL", n, rounds);
	return r == 0 ? 0 : 1;
}
