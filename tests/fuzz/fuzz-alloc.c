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
 * use-after-poison); a second free or a realloc of it aborts.  The blocks
 * in use are noted with their addresses hidden, so that LeakSanitizer still
 * reports one that is never freed.  Everything else goes to ASan as
 * before.  Without ASan this file defines nothing.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ALLOC_KEEP 1
#endif
#endif

#ifdef FUZZ_ALLOC_KEEP
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
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

/*
 * A block's address, hidden in out[] (a leak checker takes what looks like
 * an address for a reference) and plain in kept[] (those are ours).
 */
#define HIDE ((uintptr_t)0x5a5a5a5a5a5a5a5aULL)

struct block {
	uintptr_t a;		/* 0: a free slot */
	size_t size;
};

static struct block kept[SIZES * KEEP];	/* freed, poisoned, for reuse */
static struct block out[OUT];		/* handed out by malloc() below, hidden */
static int followed;			/* blocks in both: 0 takes no lock */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * These run before ASan has mapped its shadow, and ask nothing of ASan but
 * its plain allocator: nothing here is instrumented.
 */
#define RAW __attribute__((no_sanitize("address")))

/* The slot of address a in t (or, with a 0, a free slot); -1 if none. */
RAW static int
slot(const struct block *t, int n, uintptr_t a)
{
	int i;

	for (i = 0; i < n; i++)
		if (t[i].a == a)
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
		if (kept[i].a != 0 && kept[i].size == n) {
			p = (void *)kept[i].a;
			kept[i].a = 0;
			followed--;
			break;
		}
	if (p == NULL)
		p = __interceptor_malloc(n);
	if (p != NULL && (i = slot(out, OUT, 0)) >= 0) {
		out[i].a = (uintptr_t)p ^ HIDE;
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
	if (slot(kept, SIZES * KEEP, (uintptr_t)p) >= 0) {
		pthread_mutex_unlock(&mu);
		misuse("double free", p);
	}
	if ((i = slot(out, OUT, (uintptr_t)p ^ HIDE)) >= 0) {
		for (j = 0; j < SIZES * KEEP; j++)
			same += kept[j].a != 0 && kept[j].size == out[i].size;
		if (same < KEEP && (j = slot(kept, SIZES * KEEP, 0)) >= 0) {
			ASAN_POISON_MEMORY_REGION(p, out[i].size);
			kept[j].a = (uintptr_t)p;
			kept[j].size = out[i].size;
			p = NULL;
		} else {
			followed--;
		}
		out[i].a = 0;
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
		if (slot(kept, SIZES * KEEP, (uintptr_t)p) >= 0) {
			pthread_mutex_unlock(&mu);
			misuse("realloc", p);
		}
		/* ASan moves or frees it: no longer ours to follow */
		if ((i = slot(out, OUT, (uintptr_t)p ^ HIDE)) >= 0) {
			out[i].a = 0;
			followed--;
		}
		pthread_mutex_unlock(&mu);
	}
	return __interceptor_realloc(p, n);
}
#endif
