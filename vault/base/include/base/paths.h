/*
 * paths: whom a directory or a secret file may belong to (docs/keys.md
 * "Files and who may change them").  Inside the project only.
 *
 * "You" is the effective uid of the process.  A directory that holds a vault
 * or a socket must be one that nobody but you and root can change: owned by
 * you or root and writable by nobody else; and every directory above it must
 * be owned by you or root and not writable by group or others unless it is
 * sticky (/tmp), or its owner could move the directory away and put another
 * in its place.  A secret file (key, passphrase or password file) must be a
 * regular file, not a symbolic link, owned by you or root, with no
 * permission bits for group or others.
 *
 * Every refusal is SV_ERR_INVALID with one line in msg (SV_MSG_MAX) that
 * names the file or directory and says how to fix it.
 */
#ifndef SSOVAULT_PATHS_H
#define SSOVAULT_PATHS_H

#include <stddef.h>

#include "ssovault/sverr.h"

/*
 * Check the directory open at fd (O_PATH will do) and every directory above
 * it, as a vault or socket directory.  what ("vault directory") and path
 * name it in messages (path NULL: the name the kernel has for fd).  0 if it
 * is safe.
 */
int vault_path_check_dir(int fd, const char *what, const char *path, char *msg) SV_WUR;

/*
 * Check the directory open at fd and every directory above it by the rule
 * for the directories above a vault: where one is to be made.
 */
int vault_path_check_above(int fd, const char *path, char *msg) SV_WUR;

/*
 * Open the parent directory of path (O_PATH) into *ret_fd and point
 * *ret_base at path's last component (trailing slashes are not part of
 * it; base is copied into the buffer given, of size len).  "." is the
 * parent of a name without a slash.
 */
int vault_path_parent_open(const char *path, char *base, size_t len, char *msg,
    int *ret_fd) SV_WUR;

/*
 * Open the secret file at path for reading, refusing a symbolic link,
 * anything but a regular file, a file owned by another user, and one that
 * group or others may read or write.  what ("key file", "passphrase file",
 * "password file") names it in messages.  *ret_fd is the open descriptor,
 * the caller's to close.  SV_ERR_NOT_FOUND or SV_ERR_IO if it cannot be
 * opened, SV_ERR_INVALID if it is refused.
 */
int vault_path_secret_open(const char *path, const char *what, char *msg,
    int *ret_fd) SV_WUR;

/* "a/b", malloc'd; NULL if out of memory. */
char *vault_path_join(const char *a, const char *b);

/*
 * A failed system call on a file, as an SV_ERR_* code with "what: strerror"
 * in msg: EACCES, EPERM and EROFS are SV_ERR_READ_ONLY, ENOSPC and EDQUOT
 * SV_ERR_NO_SPACE, ENOMEM SV_ERR_NOMEM, anything else SV_ERR_IO.
 */
int vault_path_fail(char *msg, int e, const char *what);

#endif
