/*
 * test-caller.h: a made-up caller for the tests of sso/core that go
 * through sso_dispatch() (test-journal.c, test-repeat.c, test-memo.c), and
 * chk() for the requests they build.
 */
#ifndef SSOVAULT_CORE_TEST_CALLER_H
#define SSOVAULT_CORE_TEST_CALLER_H

#include <stdio.h>
#include <string.h>

#include "core/sso.h"

/* uid and gid uid, no groups, pid and executable as given. */
static inline void
test_caller(struct sso_caller *c, uid_t uid, pid_t pid, const char *exe)
{
	memset(c, 0, sizeof(*c));
	c->uid = uid;
	c->gid = uid;
	c->pid = pid;
	snprintf(c->exe, sizeof(c->exe), "%s", exe);
}

/* A request that cannot be built ends the test (bail, tap-files.h). */
#define chk(r) do { if ((r) != 0) bail("cannot build a request"); } while (0)

#endif
