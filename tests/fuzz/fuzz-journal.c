/*
 * fuzz-journal: the reader of audit journals (sso_journal_scan() in
 * sso/core/journal.c) over any bytes as a journal file, as a process that
 * died (or someone with the vault's files) could leave one.  The seeds are
 * a real journal of the fuzz vault with three records, and the same with
 * its second entry torn.
 * The entries' key is the fuzz vault's for the image's salt, as a fold's.
 * Checks: the walk ends at a multiple of 8 inside the image, at or after
 * where it began; every entry it hands out lies inside the image, is at
 * most SSO_JOURNAL_ENTRY_MAX bytes and follows the one before; walking
 * again from the end finds nothing more; an image that does not start with
 * the journal's magic is SV_ERR_BAD_FORMAT and hands out nothing.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/journal.h"
#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	const uint8_t *base;
	size_t size, last, n;
};

static int
each(void *ctx, const uint8_t *body, size_t len, size_t next)
{
	struct walk *w = ctx;
	size_t off = (size_t)(body - w->base);

	FUZZ_CHECK(body >= w->base && off >= SSO_JOURNAL_HEADER + 24 && off <= w->size,
	    "an entry outside the image (offset %zu of %zu)", off, w->size);
	FUZZ_CHECK(len > 0 && len <= SSO_JOURNAL_ENTRY_MAX && len <= w->size - off,
	    "an entry of %zu bytes at %zu of %zu", len, off, w->size);
	FUZZ_CHECK(off - 24 >= w->last, "entries out of order (%zu after %zu)", off - 24, w->last);
	FUZZ_CHECK(next > off && next <= w->size && next % 8 == 0, "next entry at %zu", next);
	w->last = next;
	w->n++;
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sso_journal *j = NULL;
	struct sso_audit_event e;
	struct sso_caller c;
	struct svbuf *b;
	char msg[SV_MSG_MAX], path[600];
	uint8_t *img, key[SSO_JOURNAL_KEY_BYTES];
	size_t end = 0;
	int i, fd;

	(void)argc;
	(void)argv;
	fuzz_init();
	if (getenv("FUZZ_SEED_DIR") == NULL)
		return 0;
	/* a real journal of the fuzz vault, three records in it */
	if (sso_journal_open(fuzz_vault(), &j, msg) != 0 || (b = svbuf_new(0)) == NULL)
		fuzz_die("journal: %s", msg);
	memset(&c, 0, sizeof(c));
	c.uid = 1000;
	snprintf(c.exe, sizeof(c.exe), "/usr/bin/fuzz");
	for (i = 0; i < 3; i++) {
		memset(&e, 0, sizeof(e));
		e.caller = &c;
		e.time_us = (int64_t)FUZZ_NOW * 1000000 + i;
		e.op = "creds get";
		e.object = "payroll";
		e.target = "uid:1000";
		e.error = "";
		svbuf_reset(b);
		if (sso_audit_encode(&e, b) != 0 ||
		    sso_journal_append(j, svbuf_ptr(b), svbuf_len(b), NULL) != 0)
			fuzz_die("journal append");
	}
	svbuf_free(b);
	snprintf(path, sizeof(path), "%s/audit.0.journal", vault_dir(fuzz_vault()));
	if ((img = malloc(SSO_JOURNAL_BYTES)) == NULL || (fd = open(path, O_RDONLY)) < 0 ||
	    pread(fd, img, SSO_JOURNAL_BYTES, 0) != SSO_JOURNAL_BYTES)
		fuzz_die("cannot read %s", path);
	close(fd);
	sso_journal_close(j);
	if (sso_journal_key_of(fuzz_vault(), img, SSO_JOURNAL_BYTES, key) != 0 ||
	    sso_journal_scan(img, SSO_JOURNAL_BYTES, key, SSO_JOURNAL_HEADER, NULL, NULL, &end) != 0 ||
	    end <= SSO_JOURNAL_HEADER)
		fuzz_die("the seed journal does not scan");
	/* the entries and a little after: a seed need not be the whole file */
	fuzz_seed("journal-three", img, end + 64);
	img[SSO_JOURNAL_HEADER + 48] ^= 0x01;
	fuzz_seed("journal-torn", img, end + 64);
	free(img);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[SSO_JOURNAL_KEY_BYTES];
	struct walk w;
	size_t end = 0, end2 = 0;
	int r;

	memset(&w, 0, sizeof(w));
	w.base = data;
	w.size = size;
	w.last = SSO_JOURNAL_HEADER;
	/* the key as a fold would have it: the fuzz vault's, from the image's salt */
	if (sso_journal_key_of(fuzz_vault(), data, size, key) != 0)
		memset(key, 0, sizeof(key));
	r = sso_journal_scan(data, size, key, SSO_JOURNAL_HEADER, each, &w, &end);
	if (size < SSO_JOURNAL_HEADER || memcmp(data, "SSOVJNL1", 8) != 0) {
		FUZZ_CHECK(r == SV_ERR_BAD_FORMAT && w.n == 0,
		    "not a journal, yet %d and %zu entries", r, w.n);
		return 0;
	}
	FUZZ_CHECK(r == 0, "a journal's walk failed: %d", r);
	FUZZ_CHECK(end >= SSO_JOURNAL_HEADER && end <= size && end % 8 == 0,
	    "the walk ended at %zu of %zu", end, size);
	FUZZ_CHECK(w.n == 0 || w.last == end, "the last entry ends at %zu, the walk at %zu",
	    w.last, end);
	FUZZ_CHECK(sso_journal_scan(data, size, key, end, NULL, NULL, &end2) == 0 && end2 == end,
	    "walking on from the end went to %zu", end2);
	return 0;
}
