/*
 * A minimal TAP producer for unit tests: `ok(cond, fmt, ...)`, `is_int`,
 * `is_str`, and `done_testing()` which prints the plan and returns the exit
 * status (non-zero if any test failed).  Header-only; include once per binary.
 */
#ifndef SSOVAULT_TAP_H
#define SSOVAULT_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

__attribute__((format(printf, 2, 3)))
static __attribute__((unused)) int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

#define is_int(got, want, ...) tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

__attribute__((format(printf, 5, 6)))
static __attribute__((unused)) int
tap_is_int(long long got, long long want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char d[512];

	va_start(ap, fmt);
	vsnprintf(d, sizeof(d), fmt, ap);
	va_end(ap);
	if (!ok(got == want, "%s", d))
		printf("#   %s:%d: got %lld, want %lld\n", file, line, got, want);
	return got == want;
}

__attribute__((format(printf, 5, 6)))
static __attribute__((unused)) int
tap_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char d[512];
	int same = got != NULL && want != NULL && strcmp(got, want) == 0;

	va_start(ap, fmt);
	vsnprintf(d, sizeof(d), fmt, ap);
	va_end(ap);
	if (!ok(same, "%s", d))
		printf("#   %s:%d: got '%s', want '%s'\n", file, line,
		    got ? got : "(null)", want ? want : "(null)");
	return same;
}

static __attribute__((unused)) int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_count);
	return tap_failed ? 1 : 0;
}

#endif
