/*
 * fuzz-alloc-check: what tests/fuzz/run checks of fuzz-alloc.c before it
 * fuzzes, one property per run (the runner looks at how each one ends):
 *
 *   fuzz-alloc-check reuse          a freed 2 MiB block is handed out again,
 *                                   whole and writable: exit 0
 *   fuzz-alloc-check use-after-free a write into a kept block: ASan reports
 *                                   use-after-poison
 *   fuzz-alloc-check double-free    a kept block freed again: aborts with
 *                                   "double free"
 *   fuzz-alloc-check leak           a 2 MiB block never freed: LeakSanitizer
 *                                   reports it
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE ((size_t)2 << 20)

/* The compiler must not drop an allocation that seems unused. */
static void
escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

int
main(int argc, char **argv)
{
	char *p, *q;
	uintptr_t was;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-alloc-check reuse|use-after-free|double-free|leak\n");
		return 2;
	}
	if (strcmp(argv[1], "leak") == 0) {
		if ((p = malloc(SIZE)) == NULL)
			return 1;
		memset(p, 1, SIZE);
		escape(p);
		p = NULL;
		return 0;
	}
	if ((p = malloc(SIZE)) == NULL)
		return 1;
	memset(p, 1, SIZE);
	escape(p);
	/* kept as a number: the compiler may take a freed pointer as unequal to all */
	was = (uintptr_t)p;
	free(p);
	if (strcmp(argv[1], "reuse") == 0) {
		if ((q = malloc(SIZE)) == NULL)
			return 1;
		memset(q, 2, SIZE);
		escape(q);
		printf("%s\n", (uintptr_t)q == was ? "reused" : "not reused");
		free(q);
		return (uintptr_t)q == was ? 0 : 1;
	}
	if (strcmp(argv[1], "use-after-free") == 0) {
		((volatile char *)p)[SIZE / 2] = 3;
		return 0;
	}
	if (strcmp(argv[1], "double-free") == 0) {
		free(p);
		return 0;
	}
	return 2;
}
