/*
 * test-client.c: the client library's calls that need no service:
 * ssovault_secret_backup_hint() on a backup made through the API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "tap.h"
#include "ssovault/ssovault.h"

int
main(void)
{
	char dir[] = "/tmp/test-client.XXXXXX", cmd[64], *hint = NULL;
	struct ssovault_init_opts o;
	struct ssovault *h = NULL;
	uint8_t *blob = NULL, *plain = NULL, junk[64];
	size_t len = 0, plen = 0;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 2;
	memset(&o, 0, sizeof(o));
	o.passphrase = "test passphrase";
	o.passphrase_len = 15;
	o.opslimit = 1;
	o.memlimit = 8192;
	is_int(ssovault_init(dir, &o, &h), 0, "an embedded vault");
	is_int(ssovault_secret_backup(h, "backup pw", 9, "the blue notebook", &blob, &len), 0,
	    "a secret backup with a hint");
	is_int(ssovault_secret_backup_hint(blob, len, &hint), 0, "its hint is read");
	is_str(hint, "the blue notebook", "... without a password");
	free(hint);
	hint = NULL;
	is_int(ssovault_secret_backup(h, "backup pw", 9, NULL, &plain, &plen), 0,
	    "a secret backup without a hint");
	is_int(ssovault_secret_backup_hint(plain, plen, &hint), 0, "its hint is read too");
	is_str(hint, "", "... and is empty");
	free(hint);
	hint = NULL;
	memset(junk, 'x', sizeof(junk));
	ok(ssovault_secret_backup_hint(junk, sizeof(junk), &hint) != 0 && hint == NULL,
	    "bytes that are no backup: an error, no hint");
	ok(ssovault_secret_backup_hint(blob, 10, &hint) != 0 && hint == NULL,
	    "a truncated backup: an error, no hint");
	free(blob);
	free(plain);
	ssovault_free(h);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return done_testing();
}
