/*
 * fuzz-alloc: big blocks kept for reuse, for the fuzz targets under
 * AddressSanitizer (docs/fuzzing.md, "Where the time went").
 *
 * Every nested LMDB transaction mallocs a 2 MiB dirty list and a 1 MiB
 * free-page list, and frees them when it ends.  AddressSanitizer serves an
 * allocation that large with a fresh mmap and writes its shadow; when the
 * block leaves the quarantine it unmaps it and hands the shadow back to the
 * kernel.  That is 0.6 ms of page faults per nested transaction, where LMDB
 * itself takes 0.1 us, and the dispatch opens two for each write request
 * under the harness's per-input transaction: the targets that go through
 * the dispatch spent most of their time here.
 *
 * This file defines malloc, free and realloc (ASan's are weak aliases of
 * its __interceptor_* functions, so these win, for the shared libraries
 * too) as thin wrappers that keep freed blocks of 1 MiB or more, by exact
 * size, and hand them out again to the next malloc of that size.  A kept
 * block is poisoned, so a use after free is still reported (as
 * use-after-poison); a second free or a realloc of it aborts.  Everything
 * else goes to ASan as before.  Without ASan this file defines nothing.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ALLOC_KEEP 1
#endif
#endif

#ifdef FUZZ_ALLOC_KEEP
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <sanitizer/asan_interface.h>

void *__interceptor_malloc(size_t n);
void __interceptor_free(void *p);
void *__interceptor_realloc(void *p, size_t n);

#define BIG ((size_t)1 << 20)	/* blocks this large or larger are kept */
#define SIZES 4			/* distinct sizes kept */
#define KEEP 4			/* blocks kept per size */
#define OUT 32			/* big blocks followed while in use */

struct block {
	void *p;
	size_t size;
};

static struct block kept[SIZES * KEEP];	/* freed, poisoned, for reuse */
static struct block out[OUT];		/* handed out by malloc() below */
static int followed;			/* blocks in both: 0 takes no lock */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * These run before ASan has mapped its shadow, and ask nothing of ASan but
 * its plain allocator: nothing here is instrumented.
 */
#define RAW __attribute__((no_sanitize("address")))

/* The slot of p in t (or, with p NULL, a free slot); -1 if none. */
RAW static int
slot(const struct block *t, int n, const void *p)
{
	int i;

	for (i = 0; i < n; i++)
		if (t[i].p == p)
			return i;
	return -1;
}

RAW static void
misuse(const char *what, const void *p)
{
	fprintf(stderr, "fuzz-alloc: %s of freed block %p\n", what, p);
	abort();
}

RAW void *
malloc(size_t n)
{
	void *p = NULL;
	int i;

	if (n < BIG)
		return __interceptor_malloc(n);
	pthread_mutex_lock(&mu);
	for (i = 0; i < SIZES * KEEP; i++)
		if (kept[i].p != NULL && kept[i].size == n) {
			p = kept[i].p;
			kept[i].p = NULL;
			followed--;
			break;
		}
	if (p == NULL)
		p = __interceptor_malloc(n);
	if (p != NULL && (i = slot(out, OUT, NULL)) >= 0) {
		out[i].p = p;
		out[i].size = n;
		followed++;
	}
	pthread_mutex_unlock(&mu);
	if (p != NULL)
		ASAN_UNPOISON_MEMORY_REGION(p, n);
	return p;
}

RAW void
free(void *p)
{
	int i, j, same = 0;

	if (p == NULL || __atomic_load_n(&followed, __ATOMIC_RELAXED) == 0) {
		__interceptor_free(p);
		return;
	}
	pthread_mutex_lock(&mu);
	if (slot(kept, SIZES * KEEP, p) >= 0) {
		pthread_mutex_unlock(&mu);
		misuse("double free", p);
	}
	if ((i = slot(out, OUT, p)) >= 0) {
		for (j = 0; j < SIZES * KEEP; j++)
			same += kept[j].p != NULL && kept[j].size == out[i].size;
		if (same < KEEP && (j = slot(kept, SIZES * KEEP, NULL)) >= 0) {
			ASAN_POISON_MEMORY_REGION(p, out[i].size);
			kept[j] = out[i];
			p = NULL;
		} else {
			followed--;
		}
		out[i].p = NULL;
	}
	pthread_mutex_unlock(&mu);
	if (p != NULL)
		__interceptor_free(p);
}

RAW void *
realloc(void *p, size_t n)
{
	int i;

	if (p != NULL && __atomic_load_n(&followed, __ATOMIC_RELAXED) != 0) {
		pthread_mutex_lock(&mu);
		if (slot(kept, SIZES * KEEP, p) >= 0) {
			pthread_mutex_unlock(&mu);
			misuse("realloc", p);
		}
		/* ASan moves or frees it: no longer ours to follow */
		if ((i = slot(out, OUT, p)) >= 0) {
			out[i].p = NULL;
			followed--;
		}
		pthread_mutex_unlock(&mu);
	}
	return __interceptor_realloc(p, n);
}
#endif
