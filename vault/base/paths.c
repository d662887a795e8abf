/*
 * Whom a directory or a secret file may belong to (paths.h): the checks
 * behind "refuse what someone else could change" for vault directories,
 * the daemon's socket directory, and key, passphrase and password files.
 *
 * Directories are checked through descriptors, walking ".." from the one
 * that will be used, so that what is checked is what is used: a path with
 * symbolic links in it, or one renamed meanwhile, cannot point the check
 * at one directory and the use at another.  Once every directory of the
 * chain is one that only the caller and root can change, nobody else can
 * move anything in it either.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/paths.h"

#define WALK_MAX 4096		/* directories above; a loop would be a kernel bug */

static int
trusted_uid(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* "not you (uid N) or root", or "not root" for root. */
static const char *
not_trusted(char *out, size_t len)
{
	if (geteuid() == 0)
		snprintf(out, len, "not root");
	else
		snprintf(out, len, "not you (uid %lu) or root", (unsigned long)geteuid());
	return out;
}

/* The path of the directory open at fd, for a message; fallback if unknown. */
static void
fd_name(int fd, const char *fallback, char *out, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, out, len - 1)) <= 0) {
		snprintf(out, len, "%s", fallback);
		return;
	}
	out[n] = '\0';
}

/* A directory above the vault or socket: nobody else may move what is in it. */
static int
check_one_above(int fd, const struct stat *st, const char *path, char *msg)
{
	char name[PATH_MAX], who[48];

	if (!trusted_uid(st->st_uid)) {
		fd_name(fd, "a directory above it", name, sizeof(name));
		return sv_fail(msg, SV_ERR_INVALID,
		    "%s is under %s, which belongs to uid %lu (%s): "
		    "that user could move it away and put another in its place; "
		    "use a directory under ones only you or root own",
		    path, name, (unsigned long)st->st_uid, not_trusted(who, sizeof(who)));
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st->st_mode & S_ISVTX) == 0) {
		fd_name(fd, "a directory above it", name, sizeof(name));
		return sv_fail(msg, SV_ERR_INVALID,
		    "%s is under %s, which group or others may write (mode %04o, not sticky): "
		    "they could move it away and put another in its place; "
		    "run 'chmod go-w %s' (or 'chmod +t %s')",
		    path, name, (unsigned)(st->st_mode & 07777), name, name);
	}
	return 0;
}

/* fd and every directory above it, up to the root. */
static int
check_chain(int fd, const char *path, char *msg)
{
	struct stat cur, up;
	int dfd = -1, next, r = 0, i;

	if ((dfd = dup(fd)) < 0)
		return sv_fail(msg, SV_ERR_IO, "cannot check the directories above %s: %s",
		    path, strerror(errno));
	if (fstat(dfd, &cur) != 0) {
		r = sv_fail(msg, SV_ERR_IO, "cannot check the directories above %s: %s",
		    path, strerror(errno));
		goto out;
	}
	for (i = 0; i < WALK_MAX; i++) {
		if ((r = check_one_above(dfd, &cur, path, msg)) != 0)
			goto out;
		if ((next = openat(dfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		    fstat(next, &up) != 0) {
			r = sv_fail(msg, SV_ERR_IO, "cannot check the directories above %s: %s",
			    path, strerror(errno));
			if (next >= 0)
				close(next);
			goto out;
		}
		close(dfd);
		dfd = next;
		/* ".." of the root is the root */
		if (up.st_dev == cur.st_dev && up.st_ino == cur.st_ino)
			goto out;
		cur = up;
	}
	r = sv_fail(msg, SV_ERR_IO, "cannot check the directories above %s: too deep", path);
out:
	close(dfd);
	return r;
}

int
vault_path_check_above(int fd, const char *path, char *msg)
{
	return check_chain(fd, path, msg);
}

int
vault_path_check_dir(int fd, const char *what, const char *path, char *msg)
{
	char who[48], name[PATH_MAX];
	struct stat st;
	int up, r;

	if (path == NULL) {
		fd_name(fd, "its directory", name, sizeof(name));
		path = name;
	}
	if (fstat(fd, &st) != 0)
		return sv_fail(msg, SV_ERR_IO, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return sv_fail(msg, SV_ERR_INVALID, "%s is not a directory", path);
	if (!trusted_uid(st.st_uid))
		return sv_fail(msg, SV_ERR_INVALID,
		    "%s %s belongs to uid %lu (%s): "
		    "its owner could swap the files in it; use a directory of your own",
		    what, path, (unsigned long)st.st_uid, not_trusted(who, sizeof(who)));
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return sv_fail(msg, SV_ERR_INVALID,
		    "%s %s can be written by group or others (mode %04o): run 'chmod go-w %s'",
		    what, path, (unsigned)(st.st_mode & 07777), path);
	if ((up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return sv_fail(msg, SV_ERR_IO, "cannot check the directories above %s: %s",
		    path, strerror(errno));
	r = check_chain(up, path, msg);
	close(up);
	return r;
}

int
vault_path_parent_open(const char *path, char *base, size_t len, char *msg, int *ret_fd)
{
	char parent[PATH_MAX];
	size_t n = strlen(path), b;
	int fd;

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (b = n; b > 0 && path[b - 1] != '/'; b--)
		;
	if (n - b + 1 > len || b >= sizeof(parent))
		return sv_fail(msg, SV_ERR_INVALID, "path too long: %s", path);
	if (n == b) {
		/* "/" itself: its own parent */
		snprintf(parent, sizeof(parent), "/");
		snprintf(base, len, ".");
	} else {
		memcpy(base, path + b, n - b);
		base[n - b] = '\0';
		if (b == 0)
			snprintf(parent, sizeof(parent), ".");
		else if (b == 1)
			snprintf(parent, sizeof(parent), "/");
		else
			snprintf(parent, sizeof(parent), "%.*s", (int)(b - 1), path);
	}
	if ((fd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return sv_fail(msg, errno == ENOENT ? SV_ERR_NOT_FOUND : SV_ERR_IO,
		    "%s: %s", parent, strerror(errno));
	*ret_fd = fd;
	return 0;
}

int
vault_path_secret_open(const char *path, const char *what, char *msg, int *ret_fd)
{
	char who[48];
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: a FIFO planted at path must not hang us before the check */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			return sv_fail(msg, SV_ERR_INVALID,
			    "%s %s is a symbolic link: give the file itself", what, path);
		return sv_fail(msg, errno == ENOENT ? SV_ERR_NOT_FOUND : SV_ERR_IO,
		    "cannot read %s %s: %s", what, path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		r = sv_fail(msg, SV_ERR_IO, "cannot read %s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = sv_fail(msg, SV_ERR_INVALID, "%s %s is not a regular file", what, path);
		goto out;
	}
	if (!trusted_uid(st.st_uid)) {
		r = sv_fail(msg, SV_ERR_INVALID,
		    "%s %s belongs to uid %lu (%s): "
		    "that user may know it or change it; use a file of your own "
		    "(or 'chown %lu %s' once you trust what it holds)",
		    what, path, (unsigned long)st.st_uid, not_trusted(who, sizeof(who)),
		    (unsigned long)geteuid(), path);
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		r = sv_fail(msg, SV_ERR_INVALID,
		    "%s %s can be read or written by group or others (mode %04o): "
		    "run 'chmod 600 %s'",
		    what, path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	/* reads of a regular file never block: O_NONBLOCK may stay */
	*ret_fd = fd;
	return 0;
out:
	close(fd);
	return r;
}

int
vault_path_fail(char *msg, int e, const char *what)
{
	int err;

	switch (e) {
	case EACCES:
	case EPERM:
	case EROFS:
		err = SV_ERR_READ_ONLY;
		break;
	case ENOSPC:
	case EDQUOT:
		err = SV_ERR_NO_SPACE;
		break;
	case ENOMEM:
		err = SV_ERR_NOMEM;
		break;
	default:
		err = SV_ERR_IO;
		break;
	}
	return sv_fail(msg, err, "%s: %s", what, strerror(e));
}

char *
vault_path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}
