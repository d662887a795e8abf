/*
 * secretfile: the one reader of key, passphrase and password files, for
 * the CLI, ssovaultd and the sender alike (DESIGN 7, docs/keys.md "Key
 * and passphrase files").  The file is opened by the rule of
 * vault_path_secret_open() (base/paths.h: a regular file, no symbolic
 * link, owned by the caller or root, that nobody else may read or change),
 * read whole into secure memory, and never echoed into a message.
 */
#ifndef SSOVAULT_SECRETFILE_H
#define SSOVAULT_SECRETFILE_H

#include <stddef.h>
#include <stdint.h>

#include "ssovault/sverr.h"

#define SECRETFILE_MAX 65536		/* bytes of a passphrase or password file */
#define SECRETFILE_KEY_BYTES 32

/*
 * Read all of fd, at most max bytes, into a new NUL-terminated buffer:
 * sodium_malloc'd if secure (free it with sodium_free()), else malloc'd.
 * SV_ERR_TOO_LARGE past max, SV_ERR_IO, SV_ERR_NOMEM; fd is not closed.
 */
int secretfile_read_fd(int fd, size_t max, int secure, char **ret, size_t *ret_len) SV_WUR;

/*
 * Open path by the rule of secret files (what names it in messages: "key
 * file") and read it as above, into secure memory.  On failure msg says
 * why: the rule's own message, "PATH is larger than MAX bytes", or
 * "cannot read WHAT PATH: ...".
 */
int secretfile_read(const char *path, const char *what, size_t max, char **ret,
    size_t *ret_len, char *msg) SV_WUR;

/* Drop one trailing "\n", then one "\r", writing the NUL anew; the new length. */
size_t secretfile_trim(char *s, size_t len);

/*
 * A key file's content: exactly 32 bytes, or 64 hexadecimal digits with
 * an optional newline.  SV_ERR_INVALID for anything else.
 */
int secretfile_key(const void *p, size_t len, uint8_t key[SECRETFILE_KEY_BYTES]) SV_WUR;

#endif
