/*
 * Files and child processes for unit tests that work on generated test
 * material (tests/pki.sh): bail out, run a command, read a whole file.
 * Header-only, next to tap.h; include once per binary.
 */
#ifndef SSOVAULT_TAP_FILES_H
#define SSOVAULT_TAP_FILES_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

struct blob {
	uint8_t *p;
	size_t len;
};

/* The test cannot go on: say so in TAP and stop. */
static __attribute__((unused, noreturn)) void
bail(const char *what)
{
	printf("Bail out! %s\n", what);
	exit(1);
}

/* Run argv[0] (searched in PATH) and wait: its exit status, or -1. */
static __attribute__((unused)) int
tap_run(char *const argv[])
{
	pid_t pid;
	int status;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* All of dir/name, with a NUL after it; bails out if it cannot be read. */
static __attribute__((unused)) struct blob
tap_slurp(const char *dir, const char *name)
{
	char path[800];
	struct blob b = { NULL, 0 };
	FILE *f;
	long n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    (f = fopen(path, "rb")) == NULL)
		bail(name);
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		bail(name);
	/* one spare byte so that an empty file still has a buffer */
	if ((b.p = malloc((size_t)n + 1)) == NULL ||
	    fread(b.p, 1, (size_t)n, f) != (size_t)n)
		bail(name);
	b.len = (size_t)n;
	b.p[b.len] = '\0';
	fclose(f);
	return b;
}

/* Wipe (test keys are keys too) and free. */
static __attribute__((unused)) void
blob_free(struct blob *b)
{
	if (b->p != NULL)
		sodium_memzero(b->p, b->len);
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

#endif
