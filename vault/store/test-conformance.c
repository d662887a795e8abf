/*
 * test-conformance.c: the storage conformance suite (conformance.c) run
 * against every backend, and against a deliberately broken one, which it
 * must fail, naming the check that caught it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "broken.h"
#include "store/conformance.h"

struct dirs {
	char made[16][64];
	int fds[16];
	unsigned n;
};

/* A fresh directory per store, as the vault gives a directory backend. */
static int
dir_new(void *ctx, struct vault_store_loc *ret)
{
	struct dirs *d = ctx;
	char *p;

	if (d->n >= 16)
		return -1;
	snprintf(d->made[d->n], sizeof(d->made[0]), "/tmp/store-conf.XXXXXX");
	if ((p = mkdtemp(d->made[d->n])) == NULL)
		return -1;
	if ((d->fds[d->n] = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	ret->dirfd = d->fds[d->n];
	ret->path = d->made[d->n];
	d->n++;
	return 0;
}

static void
dir_free(void *ctx, struct vault_store_loc *loc)
{
	char cmd[128];

	(void)ctx;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", loc->path);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", loc->path);
	close(loc->dirfd);
}

static void
report_tap(void *ctx, int good, const char *check)
{
	(void)ctx;
	ok(good, "%s", check);
}

struct seen {
	char failed[8][300];
	unsigned nfailed, n;
};

static void
report_collect(void *ctx, int good, const char *check)
{
	struct seen *s = ctx;

	s->n++;
	if (!good && s->nfailed < 8)
		snprintf(s->failed[s->nfailed++], sizeof(s->failed[0]), "%s", check);
}

int
main(void)
{
	struct dirs d1, d2;
	struct store_conformance_backend lmdb = {
		"lmdb", &vault_store_lmdb, dir_new, dir_free, &d1,
	};
	struct store_conformance_backend broken = {
		"broken", &store_broken_cursor, dir_new, dir_free, &d2,
	};
	struct seen seen;
	unsigned i;
	int failed, named = 0;

	memset(&d1, 0, sizeof(d1));
	memset(&d2, 0, sizeof(d2));
	memset(&seen, 0, sizeof(seen));
	is_int(store_conformance_run(&lmdb, report_tap, NULL), 0,
	    "the LMDB backend passes the conformance suite");
	failed = store_conformance_run(&broken, report_collect, &seen);
	ok(failed > 0 && seen.n > 0,
	    "a backend whose cursor skips an entry fails the suite (%d of %u checks)",
	    failed, seen.n);
	for (i = 0; i < seen.nfailed; i++) {
		printf("# the broken backend failed: %s\n", seen.failed[i]);
		if (strstr(seen.failed[i], "cursor: every entry, in key order") != NULL)
			named = 1;
	}
	ok(named, "the check that fails it is 'cursor: every entry, in key order'");
	return done_testing();
}
