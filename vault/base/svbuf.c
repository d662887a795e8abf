/*
 * Bounded buffer.  Storage is [data, data+size); unread bytes are
 * [data+off, data+size).  Consumed space is reclaimed lazily when appending.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/svbuf.h"

struct svbuf {
	uint8_t *data;
	size_t off;		/* first unread byte */
	size_t size;		/* end of valid bytes */
	size_t alloc;
	size_t max;
	int secure;
	int readonly;
};

static struct svbuf *
buf_alloc(size_t max, int secure)
{
	struct svbuf *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->max = max == 0 ? SVBUF_MAX_DEFAULT : max;
	b->secure = secure;
	return b;
}

struct svbuf *
svbuf_new(size_t max)
{
	return buf_alloc(max, 0);
}

struct svbuf *
svbuf_new_secure(size_t max)
{
	return buf_alloc(max, 1);
}

struct svbuf *
svbuf_from(const void *p, size_t len)
{
	struct svbuf *b = buf_alloc(len == 0 ? 1 : len, 0);

	if (b == NULL)
		return NULL;
	b->data = (uint8_t *)p;
	b->size = b->alloc = len;
	b->readonly = 1;
	return b;
}

/*
 * sodium_malloc() costs about ten system calls (guard pages, mprotect,
 * mlock) and sodium_free() as many, and secure buffers come and go with
 * every request.  Each thread keeps a few freed secure blocks of the sizes
 * svbuf_reserve() makes (SECURE_FIRST doubled), wiped but still guarded and
 * locked, and hands them out again; they are sodium_free()d when the thread
 * ends.
 */
#define SECURE_FIRST (4096 - 64)
#define SECURE_CLASSES 5		/* SECURE_FIRST .. 16 x SECURE_FIRST */
#define SECURE_PER_CLASS 4

struct secure_cache {
	void *blk[SECURE_CLASSES][SECURE_PER_CLASS];
	unsigned n[SECURE_CLASSES];
	int registered;
};

static __thread struct secure_cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_key_ok;

static void
cache_drop(void *arg)
{
	struct secure_cache *c = arg;
	unsigned i, j;

	for (i = 0; i < SECURE_CLASSES; i++) {
		for (j = 0; j < c->n[i]; j++)
			sodium_free(c->blk[i][j]);
		c->n[i] = 0;
	}
}

void
svbuf_thread_end(void)
{
	cache_drop(&cache);
}

static void
cache_init(void)
{
	cache_key_ok = pthread_key_create(&cache_key, cache_drop) == 0;
}

static int
cache_class(size_t alloc)
{
	int i;

	for (i = 0; i < SECURE_CLASSES; i++)
		if (alloc == (size_t)SECURE_FIRST << i)
			return i;
	return -1;
}

static void *
secure_alloc(size_t alloc)
{
	int i = cache_class(alloc);

	if (i >= 0 && cache.n[i] > 0)
		return cache.blk[i][--cache.n[i]];
	return sodium_malloc(alloc);
}

static void
secure_release(void *p, size_t alloc)
{
	int i = cache_class(alloc);

	if (i >= 0 && cache.n[i] < SECURE_PER_CLASS) {
		if (!cache.registered) {
			/* the key's destructor frees the blocks when the thread ends */
			pthread_once(&cache_once, cache_init);
			if (!cache_key_ok || pthread_setspecific(cache_key, &cache) != 0) {
				sodium_free(p);
				return;
			}
			cache.registered = 1;
		}
		sodium_memzero(p, alloc);
		cache.blk[i][cache.n[i]++] = p;
		return;
	}
	sodium_free(p);
}

static void
storage_free(struct svbuf *b)
{
	if (b->readonly || b->data == NULL)
		return;
	if (b->secure) {
		secure_release(b->data, b->alloc);
	} else {
		sodium_memzero(b->data, b->alloc);
		free(b->data);
	}
}

void
svbuf_free(struct svbuf *b)
{
	if (b == NULL)
		return;
	storage_free(b);
	free(b);
}

void
svbuf_reset(struct svbuf *b)
{
	if (b->readonly) {
		b->off = b->size;
		return;
	}
	/* what was written past size was wiped when size came down */
	if (b->data != NULL)
		sodium_memzero(b->data, b->size);
	b->off = b->size = 0;
}

const uint8_t *
svbuf_ptr(const struct svbuf *b)
{
	return b->data == NULL ? (const uint8_t *)"" : b->data + b->off;
}

size_t
svbuf_len(const struct svbuf *b)
{
	return b->size - b->off;
}

size_t
svbuf_max(const struct svbuf *b)
{
	return b->max;
}

int
svbuf_consume(struct svbuf *b, size_t len)
{
	if (len > svbuf_len(b))
		return SV_ERR_TRUNCATED;
	b->off += len;
	return 0;
}

int
svbuf_reserve(struct svbuf *b, size_t len, uint8_t **ret_p)
{
	static uint8_t nothing[1];
	size_t used, need, nalloc;
	uint8_t *n;

	if (b->readonly)
		return SV_ERR_INTERNAL;
	used = svbuf_len(b);
	if (len > b->max || used > b->max - len)
		return SV_ERR_TOO_LARGE;
	need = used + len;
	if (b->off > 0 && b->size + len > b->alloc) {
		/* slide unread bytes to the front before growing */
		memmove(b->data, b->data + b->off, used);
		sodium_memzero(b->data + used, b->alloc - used);
		b->size = used;
		b->off = 0;
	}
	if (need > b->alloc) {
		/* sodium_malloc() costs whole pages: secure buffers start at one */
		nalloc = b->alloc >= 256 ? b->alloc : b->secure ? SECURE_FIRST : 256;
		while (nalloc < need)
			nalloc = nalloc > SIZE_MAX / 2 ? need : nalloc * 2;
		/* a secure block of a cached size costs no more pages than a smaller one */
		if (nalloc > b->max && !(b->secure && cache_class(nalloc) >= 0))
			nalloc = b->max;
		n = b->secure ? secure_alloc(nalloc) : malloc(nalloc);
		if (n == NULL)
			return SV_ERR_NOMEM;
		if (b->data != NULL)
			memcpy(n, b->data, b->size);
		storage_free(b);
		b->data = n;
		b->alloc = nalloc;
	}
	/* no storage yet (len 0): NULL + 0 is undefined, and NULL no place to read into */
	*ret_p = b->data != NULL ? b->data + b->size : nothing;
	b->size += len;
	return 0;
}

int
svbuf_unreserve(struct svbuf *b, size_t len)
{
	if (b->readonly)
		return SV_ERR_INTERNAL;
	if (len > svbuf_len(b))
		return SV_ERR_TRUNCATED;
	b->size -= len;
	if (len > 0)
		sodium_memzero(b->data + b->size, len);
	return 0;
}

int
svbuf_put(struct svbuf *b, const void *p, size_t len)
{
	uint8_t *d;
	int r;

	if ((r = svbuf_reserve(b, len, &d)) != 0)
		return r;
	if (len > 0)
		memcpy(d, p, len);
	return 0;
}

int
svbuf_put_u8(struct svbuf *b, uint8_t v)
{
	return svbuf_put(b, &v, 1);
}

int
svbuf_put_u32(struct svbuf *b, uint32_t v)
{
	uint8_t d[4] = { v >> 24, v >> 16, v >> 8, v };

	return svbuf_put(b, d, sizeof(d));
}

int
svbuf_put_u64(struct svbuf *b, uint64_t v)
{
	int r;

	if ((r = svbuf_put_u32(b, (uint32_t)(v >> 32))) != 0)
		return r;
	return svbuf_put_u32(b, (uint32_t)v);
}

int
svbuf_put_string(struct svbuf *b, const void *p, size_t len)
{
	uint8_t *d;
	int r;

	if (len > UINT32_MAX - 4)
		return SV_ERR_TOO_LARGE;
	if ((r = svbuf_reserve(b, 4 + len, &d)) != 0)
		return r;
	d[0] = len >> 24;
	d[1] = len >> 16;
	d[2] = len >> 8;
	d[3] = len;
	if (len > 0)
		memcpy(d + 4, p, len);
	return 0;
}

int
svbuf_put_cstring(struct svbuf *b, const char *s)
{
	return svbuf_put_string(b, s == NULL ? "" : s, s == NULL ? 0 : strlen(s));
}

int
svbuf_put_buf(struct svbuf *b, const struct svbuf *src)
{
	return svbuf_put_string(b, svbuf_ptr(src), svbuf_len(src));
}

int
svbuf_get(struct svbuf *b, void *out, size_t len)
{
	if (len > svbuf_len(b))
		return SV_ERR_TRUNCATED;
	if (len > 0)
		memcpy(out, svbuf_ptr(b), len);
	b->off += len;
	return 0;
}

int
svbuf_get_u8(struct svbuf *b, uint8_t *ret)
{
	return svbuf_get(b, ret, 1);
}

int
svbuf_get_u32(struct svbuf *b, uint32_t *ret)
{
	const uint8_t *p = svbuf_ptr(b);

	if (svbuf_len(b) < 4)
		return SV_ERR_TRUNCATED;
	*ret = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	b->off += 4;
	return 0;
}

int
svbuf_get_u64(struct svbuf *b, uint64_t *ret)
{
	uint32_t hi, lo;

	if (svbuf_len(b) < 8)
		return SV_ERR_TRUNCATED;
	if (svbuf_get_u32(b, &hi) != 0 || svbuf_get_u32(b, &lo) != 0)
		return SV_ERR_INTERNAL;
	*ret = (uint64_t)hi << 32 | lo;
	return 0;
}

int
svbuf_get_bool(struct svbuf *b, int *ret)
{
	const uint8_t *p = svbuf_ptr(b);

	if (svbuf_len(b) < 1)
		return SV_ERR_TRUNCATED;
	if (p[0] > 1)
		return SV_ERR_INVALID;
	*ret = p[0];
	b->off++;
	return 0;
}

int
svbuf_get_string_direct(struct svbuf *b, const uint8_t **ret_p, size_t *ret_len)
{
	const uint8_t *p = svbuf_ptr(b);
	size_t avail = svbuf_len(b);
	uint32_t len;

	if (avail < 4)
		return SV_ERR_TRUNCATED;
	len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	if (avail - 4 < len)
		return SV_ERR_TRUNCATED;
	*ret_p = p + 4;
	*ret_len = len;
	b->off += 4 + (size_t)len;
	return 0;
}

static int
get_cstring(struct svbuf *b, int secure, char **ret)
{
	const uint8_t *p;
	size_t len, save = b->off;
	char *s;
	int r;

	if ((r = svbuf_get_string_direct(b, &p, &len)) != 0)
		return r;
	if (len > 0 && memchr(p, '\0', len) != NULL) {
		b->off = save;
		return SV_ERR_INVALID;
	}
	s = secure ? sodium_malloc(len + 1) : malloc(len + 1);
	if (s == NULL) {
		b->off = save;
		return SV_ERR_NOMEM;
	}
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	*ret = s;
	return 0;
}

int
svbuf_get_cstring(struct svbuf *b, char **ret)
{
	return get_cstring(b, 0, ret);
}

int
svbuf_get_cstring_secure(struct svbuf *b, char **ret)
{
	return get_cstring(b, 1, ret);
}

int
svbuf_expect_end(const struct svbuf *b)
{
	return svbuf_len(b) == 0 ? 0 : SV_ERR_TRAILING;
}
