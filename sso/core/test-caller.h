/*
 * test-caller.h: a made-up caller for the tests of sso/core that go
 * through sso_dispatch() (test-journal.c, test-repeat.c, test-memo.c), and
 * chk() for the requests they build, and the options of their vault.
 */
#ifndef SSOVAULT_CORE_TEST_CALLER_H
#define SSOVAULT_CORE_TEST_CALLER_H

#include <stdio.h>
#include <string.h>

#include <sodium.h>

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

/* A new vault's options: the service's tables, passphrase pass, the cheapest Argon2id. */
static inline void
test_vault_opts(struct vault_create_opts *o, const char *pass)
{
	memset(o, 0, sizeof(*o));
	o->schema = &sso_schema;
	o->passphrase = pass;
	o->passphrase_len = strlen(pass);
	o->opslimit = crypto_pwhash_OPSLIMIT_MIN;
	o->memlimit = crypto_pwhash_MEMLIMIT_MIN;
}

/* A request that cannot be built ends the test (bail, tap-files.h). */
#define chk(r) do { if ((r) != 0) bail("cannot build a request"); } while (0)

#endif
