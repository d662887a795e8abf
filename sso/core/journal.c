/*
 * journal.c: the audit journal of reads (journal.h says what and why;
 * docs/audit.md, "The journal of reads", says what it promises).  Records
 * go into a shared file mapping with a memory copy; folds chain them into
 * the audit table (audit.c) in one write transaction with the progress
 * record that says how far the journal is folded.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/journal.h"
#include "base/paths.h"

#define MAGIC "SSOVJNL1"
#define OFF_ID 8
#define OFF_GEN 24
#define OFF_SALT 32
#define ENTRY_HEAD 24
#define KEY_DOMAIN "ssovault audit journal v1"
#define UNKNOWN ((size_t)-1)

struct sso_journal {
	int fd;
	unsigned n;			/* audit.N.journal */
	uint8_t *map;			/* SSO_JOURNAL_BYTES, shared */
	uint64_t gen;
	uint8_t *key;			/* the MAC key of its entries (secure memory) */
	size_t end;			/* where the next entry goes */
	size_t from;			/* the first entry not folded; UNKNOWN until read */
	size_t own;			/* entries before this came from an earlier holder */
	int apart;			/* in a journal directory of its own, not the vault's */
	pthread_mutex_t mu;
};

static void
le64_put(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
le64_get(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static size_t
entry_size(size_t len)
{
	return (ENTRY_HEAD + len + 7) & ~(size_t)7;
}

/* SipHash-2-4 under the journal's key over gen | body (the bytes after len and mac). */
static uint64_t
entry_mac(const uint8_t key[SSO_JOURNAL_KEY_BYTES], const uint8_t *gen_and_body, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, gen_and_body, 8 + len, key);
	return le64_get(h);
}

int
sso_journal_scan(const uint8_t *p, size_t len, const uint8_t key[SSO_JOURNAL_KEY_BYTES],
    size_t from, sso_journal_each_fn fn, void *ctx, size_t *ret_end)
{
	uint64_t gen;
	size_t off = from, n;
	int r = 0;

	if (len < SSO_JOURNAL_HEADER || memcmp(p, MAGIC, 8) != 0)
		return SV_ERR_BAD_FORMAT;
	if (off < SSO_JOURNAL_HEADER || off % 8 != 0 || off > len)
		return SV_ERR_INVALID;
	gen = le64_get(p + OFF_GEN);
	while (len - off >= ENTRY_HEAD) {
		/* pairs with the release store of append: the entry is whole */
		n = __atomic_load_n((const uint32_t *)(const void *)(p + off), __ATOMIC_ACQUIRE);
		if (n == 0 || n > SSO_JOURNAL_ENTRY_MAX || entry_size(n) > len - off ||
		    le64_get(p + off + 16) != gen ||
		    entry_mac(key, p + off + 16, n) != le64_get(p + off + 8))
			break;
		if (fn != NULL && (r = fn(ctx, p + off + ENTRY_HEAD, n, off + entry_size(n))) != 0)
			break;
		off += entry_size(n);
	}
	*ret_end = off;
	return r;
}

/*
 * The MAC key of a journal's entries: derived from the vault's audit key
 * and the journal's salt, so that only a holder of the vault's keys can
 * write entries a fold takes (DESIGN 10: whoever has the files cannot
 * forge the trail).
 */
static int
journal_key(struct vault *v, const uint8_t *salt, uint8_t *out)
{
	uint8_t in[sizeof(KEY_DOMAIN) - 1 + SSO_JOURNAL_SALT_BYTES], mac[VAULT_MAC_BYTES];
	int r;

	memcpy(in, KEY_DOMAIN, sizeof(KEY_DOMAIN) - 1);
	memcpy(in + sizeof(KEY_DOMAIN) - 1, salt, SSO_JOURNAL_SALT_BYTES);
	if ((r = vault_mac(v, VAULT_KEY_AUDIT, in, sizeof(in), mac)) == 0)
		memcpy(out, mac, SSO_JOURNAL_KEY_BYTES);
	sodium_memzero(mac, sizeof(mac));
	return r;
}

int
sso_journal_key_of(struct vault *v, const uint8_t *p, size_t len,
    uint8_t out[SSO_JOURNAL_KEY_BYTES])
{
	if (len < SSO_JOURNAL_HEADER || memcmp(p, MAGIC, 8) != 0)
		return SV_ERR_BAD_FORMAT;
	return journal_key(v, p + OFF_SALT, out);
}

/* A new (or unreadable) journal: a fresh header, nothing in it. */
static void
header_init(struct sso_journal *j, const uint8_t id[VAULT_ID_BYTES])
{
	j->gen = 0;
	while (j->gen == 0)
		randombytes_buf(&j->gen, sizeof(j->gen));
	memset(j->map, 0, SSO_JOURNAL_HEADER + ENTRY_HEAD);
	memcpy(j->map, MAGIC, 8);
	memcpy(j->map + OFF_ID, id, VAULT_ID_BYTES);
	randombytes_buf(j->map + OFF_SALT, SSO_JOURNAL_SALT_BYTES);
	le64_put(j->map + OFF_GEN, j->gen);
}

static int
lock_take(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

static void
journal_free(struct sso_journal *j)
{
	if (j == NULL)
		return;
	if (j->map != NULL)
		munmap(j->map, SSO_JOURNAL_BYTES);
	if (j->fd >= 0)
		close(j->fd);	/* and the lock with it */
	if (j->key != NULL)
		sodium_free(j->key);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

/*
 * Take journal file N, held by nobody, open at fd (ours now): check it is
 * ours alone, map it, and find where its entries end.  create: a new file
 * may be made into a journal; else an empty one is left alone
 * (SV_ERR_NOT_FOUND).  A journal of another vault is SV_ERR_NOT_FOUND too.
 */
static int
journal_attach(struct vault *v, int fd, unsigned n, int create, int apart,
    struct sso_journal **ret, char *msg)
{
	const uint8_t *id = vault_id(v);
	struct sso_journal *j = NULL;
	struct stat st;
	char name[32];
	size_t end;
	int r, e;

	snprintf(name, sizeof(name), "audit.%u.journal", n);
	if (fstat(fd, &st) != 0) {
		r = vault_path_fail(msg, errno, name);
		goto fail;
	}
	/* the vault directory is checked: a file here that is not ours is tampering */
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0 ||
	    (st.st_size != 0 && st.st_size != SSO_JOURNAL_BYTES)) {
		r = sv_fail(msg, SV_ERR_INVALID, "%s in the vault directory is not a journal of "
		    "this user's (a regular file of %u bytes, mode 0600): remove it", name,
		    SSO_JOURNAL_BYTES);
		goto fail;
	}
	if (st.st_size == 0 && !create) {
		r = SV_ERR_NOT_FOUND;
		goto fail;
	}
	/* blocks for all of it now: a full disk must not fault a store later */
	if (st.st_size == 0 && (e = posix_fallocate(fd, 0, SSO_JOURNAL_BYTES)) != 0) {
		r = vault_path_fail(msg, e, name);
		goto fail;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL || pthread_mutex_init(&j->mu, NULL) != 0) {
		free(j);
		j = NULL;
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto fail;
	}
	j->fd = fd;
	j->n = n;
	j->apart = apart;
	if ((j->key = sodium_malloc(SSO_JOURNAL_KEY_BYTES)) == NULL) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto fail_j;
	}
	j->map = mmap(NULL, SSO_JOURNAL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (j->map == MAP_FAILED) {
		j->map = NULL;
		r = vault_path_fail(msg, errno, name);
		goto fail_j;
	}
	if (memcmp(j->map, MAGIC, 8) != 0 || memcmp(j->map + OFF_ID, id, VAULT_ID_BYTES) != 0) {
		/*
		 * new, torn before its header was whole, or another vault's; a
		 * journal directory may serve several vaults: theirs are theirs
		 */
		if ((!create || apart) && memcmp(j->map, MAGIC, 8) == 0) {
			r = SV_ERR_NOT_FOUND;
			goto fail_j;
		}
		header_init(j, id);
	}
	j->gen = le64_get(j->map + OFF_GEN);
	if ((r = journal_key(v, j->map + OFF_SALT, j->key)) != 0) {
		sv_fail(msg, r, "%s: the vault is locked", name);
		goto fail_j;
	}
	if ((r = sso_journal_scan(j->map, SSO_JOURNAL_BYTES, j->key, SSO_JOURNAL_HEADER, NULL,
	    NULL, &end)) != 0) {
		sv_fail(msg, r, "%s: cannot read it", name);
		goto fail_j;
	}
	j->end = j->own = end;
	j->from = UNKNOWN;
	*ret = j;
	return 0;
fail_j:
	j->fd = -1;
	journal_free(j);
fail:
	close(fd);
	return r;
}

/*
 * The directory of the journals: the vault's, or for a vault at a URI the
 * journal directory the caller names (dir).  That one must be the
 * process's alone: owned by it, nothing for group or others, and every
 * directory above it safe (paths.h); a symbolic link is refused.
 */
static int
dir_open(struct vault *v, const char *dir, char *msg, int *ret_fd)
{
	struct stat st;
	int dfd, r;

	if (dir != NULL) {
		if ((dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return errno == ENOTDIR || errno == ELOOP ? sv_fail(msg, SV_ERR_INVALID,
			    "journal directory %s is not a directory (a symbolic link?)", dir) :
			    vault_path_fail(msg, errno, dir);
		if ((r = vault_path_check_dir(dfd, "journal directory", dir, msg)) != 0) {
			close(dfd);
			return r;
		}
		if (fstat(dfd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
			close(dfd);
			return sv_fail(msg, SV_ERR_INVALID, "journal directory %s must be this "
			    "user's alone (owned by uid %u, mode 0700)", dir, (unsigned)geteuid());
		}
		*ret_fd = dfd;
		return 0;
	}
	dir = vault_dir(v);
	/* a vault in a database (DESIGN 10) has no directory of its own */
	if (dir == NULL || dir[0] == '\0' || strstr(dir, "://") != NULL)
		return sv_fail(msg, SV_ERR_NOT_FOUND, "the vault has no directory for a journal");
	if ((dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return vault_path_fail(msg, errno, dir);
	*ret_fd = dfd;
	return 0;
}

int
sso_journal_open(struct vault *v, const char *dir, struct sso_journal **ret, char *msg)
{
	char name[32];
	unsigned n;
	int dfd, fd, r;

	if ((r = dir_open(v, dir, msg, &dfd)) != 0)
		return r;
	r = SV_ERR_EXISTS;
	for (n = 0; n < SSO_JOURNAL_FILES; n++) {
		snprintf(name, sizeof(name), "audit.%u.journal", n);
		fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			r = errno == ELOOP ? sv_fail(msg, SV_ERR_INVALID,
			    "%s in the %s directory is a symbolic link: remove it", name,
			    dir != NULL ? "journal" : "vault") :
			    vault_path_fail(msg, errno, name);
			break;
		}
		if (!lock_take(fd)) {
			close(fd);
			continue;
		}
		r = journal_attach(v, fd, n, 1, dir != NULL, ret, msg);
		/* another vault's journal in a shared journal directory: the next */
		if (r == SV_ERR_NOT_FOUND && dir != NULL)
			continue;
		break;
	}
	if (n == SSO_JOURNAL_FILES)
		r = sv_fail(msg, SV_ERR_EXISTS, "all %d journals are held by other processes",
		    SSO_JOURNAL_FILES);
	close(dfd);
	return r;
}

void
sso_journal_close(struct sso_journal *j)
{
	journal_free(j);
}

int
sso_journal_append(struct sso_journal *j, const uint8_t *rec, size_t len, size_t *ret_bytes)
{
	uint8_t *p;
	size_t need = entry_size(len);

	if (len == 0 || len > SSO_JOURNAL_ENTRY_MAX)
		return SV_ERR_TOO_LARGE;
	pthread_mutex_lock(&j->mu);
	if (need > SSO_JOURNAL_BYTES - j->end) {
		pthread_mutex_unlock(&j->mu);
		return SV_ERR_TOO_LARGE;
	}
	p = j->map + j->end;
	le32_put(p + 4, 0);
	le64_put(p + 16, j->gen);
	memcpy(p + ENTRY_HEAD, rec, len);
	le64_put(p + 8, entry_mac(j->key, p + 16, len));
	/* the length last: a reader that sees it sees the whole entry */
	__atomic_store_n((uint32_t *)(void *)p, (uint32_t)len, __ATOMIC_RELEASE);
	if (ret_bytes != NULL)
		*ret_bytes = j->end - (j->from == UNKNOWN ? SSO_JOURNAL_HEADER : j->from);
	j->end += need;
	pthread_mutex_unlock(&j->mu);
	return 0;
}

size_t
sso_journal_pending(struct sso_journal *j)
{
	size_t n;

	pthread_mutex_lock(&j->mu);
	n = j->end - (j->from == UNKNOWN ? SSO_JOURNAL_HEADER : j->from);
	pthread_mutex_unlock(&j->mu);
	return n;
}

/* --- folding ------------------------------------------------------------ */

/*
 * The progress record's key.  A vault directory's journals are its own:
 * by number.  Journals in a journal directory (a vault at a URI) are named
 * by their salt: many hosts fold into one vault, each from its own
 * directory, and a journal re-made from scratch starts a new record.
 */
#define PROGRESS_KEY_MAX 64

static void
progress_key(const struct sso_journal *j, char out[PROGRESS_KEY_MAX])
{
	char hex[SSO_JOURNAL_SALT_BYTES * 2 + 1];

	if (!j->apart) {
		snprintf(out, PROGRESS_KEY_MAX, "audit.journal.%u", j->n);
		return;
	}
	sodium_bin2hex(hex, sizeof(hex), j->map + OFF_SALT, SSO_JOURNAL_SALT_BYTES);
	snprintf(out, PROGRESS_KEY_MAX, "audit.journal.%s", hex);
}

/* Where the fold starts: after what the progress record says was folded. */
static int
fold_start(struct sso_journal *j, struct vault_txn *t, size_t end, size_t *ret)
{
	struct svbuf *b = NULL;
	uint64_t gen = 0, off = 0;
	char k[PROGRESS_KEY_MAX];
	int r;

	progress_key(j, k);
	r = vault_record_get(t, SSO_TABLE_META, k, strlen(k), &b);
	if (r == SV_ERR_NOT_FOUND) {
		*ret = SSO_JOURNAL_HEADER;
		return 0;
	}
	if (r != 0)
		return r;
	if ((r = svbuf_get_u64(b, &gen)) == 0 && (r = svbuf_get_u64(b, &off)) == 0)
		r = svbuf_expect_end(b);
	svbuf_free(b);
	if (r != 0)
		return SV_ERR_INTEGRITY;
	/* another generation: all of this one is new */
	if (gen != j->gen || off < SSO_JOURNAL_HEADER || off % 8 != 0 || off > SSO_JOURNAL_BYTES) {
		*ret = SSO_JOURNAL_HEADER;
		return 0;
	}
	/*
	 * Folded past where the valid entries now end: the last ones were
	 * torn after their fold (a power loss of this host while the chain
	 * is in a database elsewhere) or altered.  All that is left was
	 * folded; none again.
	 */
	*ret = off <= end ? (size_t)off : end;
	return 0;
}

struct collect {
	const uint8_t **rec;
	size_t *len;
	size_t n, to, own;
	const uint8_t *base;
};

/* An entry an earlier holder left must be a record body, or it is not folded. */
static int
body_ok(const uint8_t *body, size_t len)
{
	struct sso_audit_rec rec;
	uint8_t *v = malloc(8 + len + VAULT_MAC_BYTES);
	int ok;

	if (v == NULL)
		return 0;
	memset(v, 0, 8 + len + VAULT_MAC_BYTES);
	memcpy(v + 8, body, len);
	ok = sso_audit_parse(v, 8 + len + VAULT_MAC_BYTES, &rec) == 0;
	free(v);
	return ok;
}

static int
collect_one(void *ctx, const uint8_t *body, size_t len, size_t next)
{
	struct collect *c = ctx;
	size_t off = (size_t)(body - c->base) - ENTRY_HEAD;

	if (off >= c->to)
		return 1;	/* appended after the fold began */
	/* not a record (a damaged journal of an earlier holder): dropped */
	if (off < c->own && !body_ok(body, len))
		return 0;
	c->rec[c->n] = body;
	c->len[c->n++] = len;
	(void)next;
	return 0;
}

int
sso_journal_fold(struct sso_journal *j, struct vault_txn *t, size_t *ret_to, size_t *ret_n)
{
	struct collect c;
	struct svbuf *prog = NULL;
	size_t from, to, scanned;
	char k[PROGRESS_KEY_MAX];
	int r;

	*ret_n = 0;
	pthread_mutex_lock(&j->mu);
	from = j->from;
	to = j->end;
	pthread_mutex_unlock(&j->mu);
	if (from == UNKNOWN) {
		if ((r = fold_start(j, t, to, &from)) != 0)
			return r;
		pthread_mutex_lock(&j->mu);
		j->from = from;
		pthread_mutex_unlock(&j->mu);
	}
	*ret_to = to;
	if (from >= to)
		return 0;
	memset(&c, 0, sizeof(c));
	c.base = j->map;
	c.to = to;
	pthread_mutex_lock(&j->mu);
	c.own = j->own;
	pthread_mutex_unlock(&j->mu);
	c.rec = malloc(((to - from) / ENTRY_HEAD + 1) * sizeof(*c.rec));
	c.len = malloc(((to - from) / ENTRY_HEAD + 1) * sizeof(*c.len));
	if (c.rec == NULL || c.len == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	r = sso_journal_scan(j->map, SSO_JOURNAL_BYTES, j->key, from, collect_one, &c, &scanned);
	if (r == 1)
		r = 0;
	/* entries that end early were left torn by a power loss: stop there */
	if (r == 0 && scanned < to)
		to = scanned;
	if (r != 0)
		goto out;
	/* records handed out already: they must land, reserve or not */
	if (c.n > 0 && (r = sso_audit_append_room(t, c.rec, c.len, c.n, VAULT_ROOM_ALL)) != 0)
		goto out;
	if ((prog = svbuf_new(16)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = svbuf_put_u64(prog, j->gen)) != 0 || (r = svbuf_put_u64(prog, to)) != 0)
		goto out;
	progress_key(j, k);
	if ((r = vault_record_put(t, SSO_TABLE_META, k, strlen(k), svbuf_ptr(prog),
	    svbuf_len(prog), 0)) != 0)
		goto out;
	*ret_to = to;
	*ret_n = c.n;
out:
	svbuf_free(prog);
	free(c.rec);
	free(c.len);
	return r;
}

void
sso_journal_folded(struct sso_journal *j, size_t to, int committed)
{
	pthread_mutex_lock(&j->mu);
	if (committed && j->from != UNKNOWN && to >= j->from)
		j->from = to;
	/*
	 * Not committed, or not known to be (a database's answer lost with
	 * its connection): the progress record in the vault says, at the
	 * next fold, whether these were folded.
	 */
	if (!committed)
		j->from = UNKNOWN;
	if (committed && j->from != UNKNOWN && j->from >= j->end) {
		/*
		 * All folded: a new generation from the start.  The old entries no
		 * longer count, and the progress record (old generation) says so.
		 */
		j->gen++;
		if (j->gen == 0)
			j->gen = 1;
		le64_put(j->map + OFF_GEN, j->gen);
		j->end = j->from = j->own = SSO_JOURNAL_HEADER;
	}
	pthread_mutex_unlock(&j->mu);
}

/* --- journals left behind -------------------------------------------------- */

struct sso_journal_orphans {
	size_t n;
	struct sso_journal *j[SSO_JOURNAL_FILES];
	size_t to[SSO_JOURNAL_FILES];
};

int
sso_journal_adopt(struct vault_txn *t, const char *dir, struct sso_journal_orphans **ret,
    size_t *ret_n)
{
	struct vault *v = vault_txn_vault(t);
	struct sso_journal_orphans *o;
	struct sso_journal *j;
	char name[32], msg[SV_MSG_MAX];
	size_t folded;
	unsigned n;
	int dfd, fd, r = 0;

	*ret = NULL;
	*ret_n = 0;
	if (dir_open(v, dir, msg, &dfd) != 0)
		return 0;	/* no directory: no journals */
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		close(dfd);
		return SV_ERR_NOMEM;
	}
	for (n = 0; n < SSO_JOURNAL_FILES && r == 0; n++) {
		snprintf(name, sizeof(name), "audit.%u.journal", n);
		/* journals are made in order and never removed: the first gap ends them */
		if ((fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			if (errno == ENOENT)
				break;
			continue;
		}
		if (!lock_take(fd)) {
			close(fd);
			continue;
		}
		if (journal_attach(v, fd, n, 0, dir != NULL, &j, msg) != 0)
			continue;
		if (j->end == SSO_JOURNAL_HEADER) {
			journal_free(j);
			continue;
		}
		if ((r = sso_journal_fold(j, t, &o->to[o->n], &folded)) != 0) {
			journal_free(j);
			break;
		}
		o->j[o->n++] = j;
		*ret_n += folded;
	}
	close(dfd);
	if (r != 0) {
		sso_journal_adopt_done(o, 0);
		return r;
	}
	*ret = o;
	return 0;
}

void
sso_journal_adopt_done(struct sso_journal_orphans *o, int committed)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < o->n; i++) {
		sso_journal_folded(o->j[i], o->to[i], committed);
		journal_free(o->j[i]);
	}
	free(o);
}
