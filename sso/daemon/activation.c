/*
 * activation.c: ssovaultd's listening socket: the one systemd passes
 * (LISTEN_FDS), or one bound here at the configured path, in a directory
 * made and checked first, never over a socket another daemon serves.
 */
#include "server.h"

/* --- the socket ------------------------------------------------------------ */

static int
parse_ulong(const char *s, unsigned long *ret)
{
	unsigned long v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 9)
		return SV_ERR_INVALID;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return SV_ERR_INVALID;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*ret = v;
	return 0;
}

/* systemd socket activation: fd 3 if LISTEN_PID is us and LISTEN_FDS >= 1. */
static int
activation_fd(void)
{
	unsigned long pid, n;

	if (parse_ulong(getenv("LISTEN_PID"), &pid) != 0 || pid != (unsigned long)getpid() ||
	    parse_ulong(getenv("LISTEN_FDS"), &n) != 0 || n < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3;
}

static int
socket_activated(struct sso_daemon *d, int fd, char *msg)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(int);
	int type = 0, listening = 0, fl;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
	    (len = sizeof(int), getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len)) != 0 ||
	    !listening)
		return sv_fail(msg, SV_ERR_INVALID,
		    "systemd passed fd 3, but it is not a listening stream socket: "
		    "check ssovaultd.socket (ListenStream=)");
	memset(&sa, 0, sizeof(sa));
	len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0 || sa.sun_family != AF_UNIX)
		return sv_fail(msg, SV_ERR_INVALID,
		    "systemd passed fd 3, but it is not a Unix socket: check ssovaultd.socket");
	snprintf(d->sock_path, sizeof(d->sock_path), "%.*s",
	    (int)sizeof(sa.sun_path), sa.sun_path);
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		return sv_fail(msg, SV_ERR_IO, "cannot set up fd 3: %s", strerror(errno));
	d->lfd = fd;
	return 0;
}

/* Is something answering at sa (path)?  1 yes, 0 a stale socket, or an error. */
static int
socket_probe(const struct sockaddr_un *sa, const char *path, char *msg)
{
	int s, e;

	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return sv_fail(msg, SV_ERR_IO, "socket: %s", strerror(errno));
	if (connect(s, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		close(s);
		return 1;
	}
	e = errno;
	close(s);
	if (e == ECONNREFUSED)
		return 0;
	return sv_fail(msg, SV_ERR_IO, "cannot check the existing socket %s: %s",
	    path, strerror(e));
}

/* Make /run/ssovault 0755 (the umask is 077), through its descriptor. */
static int
socket_root_dir_make(char *msg)
{
	int fd;

	if (mkdir(DEFAULT_ROOT_DIR, 0755) != 0)
		return 0;	/* there already, or the bind below says why not */
	if ((fd = open(DEFAULT_ROOT_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fchmod(fd, 0755) != 0) {
		if (fd >= 0)
			close(fd);
		return sv_fail(msg, SV_ERR_IO, "cannot make %s: %s", DEFAULT_ROOT_DIR,
		    strerror(errno));
	}
	close(fd);
	return 0;
}

/*
 * Bind the socket at path in a directory that only we and root can change
 * (paths.h), reached through the descriptor of the directory that was
 * checked.  The socket gets its 0666 from the umask at bind(): a chmod by
 * path afterwards would follow whatever stands at the path by then.
 */
static int
socket_bind(struct sso_daemon *d, const char *path, char *msg)
{
	struct sockaddr_un sa;
	char base[NAME_MAX + 1], fdp[64], why[SV_MSG_MAX];
	struct stat st;
	size_t n;
	mode_t old;
	int s = -1, dfd = -1, r, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return sv_fail(msg, SV_ERR_INVALID, "socket path too long (at most %zu bytes): %s",
		    sizeof(sa.sun_path) - 1, path);
	if (strcmp(path, DEFAULT_ROOT_DIR "/ssovault.sock") == 0 &&
	    (r = socket_root_dir_make(msg)) != 0)
		return r;
	if ((r = vault_path_parent_open(path, base, sizeof(base), why, &dfd)) != 0)
		return sv_fail(msg, r == SV_ERR_NOT_FOUND ? SV_ERR_IO : r,
		    "cannot bind %s: %s (give --socket PATH in a directory you may write)",
		    path, why);
	if ((r = vault_path_check_dir(dfd, "socket directory", NULL, msg)) != 0)
		goto out;
	/* the name through the checked directory's descriptor, when it fits */
	n = (size_t)snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d/", dfd);
	if (access(fdp, F_OK) == 0 && n + strlen(base) < sizeof(sa.sun_path)) {
		memcpy(sa.sun_path, fdp, n);
		memcpy(sa.sun_path + n, base, strlen(base) + 1);
	} else {
		memcpy(sa.sun_path, path, strlen(path) + 1);
	}
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			r = sv_fail(msg, SV_ERR_EXISTS,
			    "%s exists and is not a socket: remove it or give another --socket", path);
			goto out;
		}
		if ((r = socket_probe(&sa, path, msg)) < 0)
			goto out;
		if (r == 1) {
			r = sv_fail(msg, SV_ERR_EXISTS,
			    "another ssovaultd answers on %s: stop it first, or give another --socket",
			    path);
			goto out;
		}
		if (unlinkat(dfd, base, 0) != 0) {
			r = sv_fail(msg, SV_ERR_IO, "cannot remove the stale socket %s: %s",
			    path, strerror(errno));
			goto out;
		}
		sso_daemon_log(d, "removed a stale socket at %s", path);
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		r = sv_fail(msg, SV_ERR_IO, "socket: %s", strerror(errno));
		goto out;
	}
	/* anyone may connect: access is decided per request, from SO_PEERCRED */
	old = umask(0111);	/* one thread yet: nobody else creates files now */
	r = bind(s, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	umask(old);
	if (r != 0) {
		r = sv_fail(msg, e == EACCES ? SV_ERR_READ_ONLY : SV_ERR_IO,
		    "cannot bind %s: %s (give --socket PATH in a directory you may write)",
		    path, strerror(e));
		goto out;
	}
	if (listen(s, SOMAXCONN) != 0 || fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		r = sv_fail(msg, SV_ERR_IO, "cannot listen on %s: %s", path, strerror(errno));
		unlinkat(dfd, base, 0);
		goto out;
	}
	if (!S_ISSOCK(st.st_mode)) {
		r = sv_fail(msg, SV_ERR_IO, "%s was replaced while it was being bound", path);
		goto out;
	}
	snprintf(d->sock_path, sizeof(d->sock_path), "%s", path);
	d->lfd = s;
	s = -1;
	d->bound = 1;
	d->sock_dev = st.st_dev;
	d->sock_ino = st.st_ino;
	r = 0;
out:
	if (s >= 0)
		close(s);
	close(dfd);
	return r;
}

int
sso_daemon_socket_setup(struct sso_daemon *d, const struct sso_daemon_opts *o, char *msg)
{
	char *def = NULL;
	int fd, r;

	if ((fd = activation_fd()) >= 0) {
		if ((r = socket_activated(d, fd, msg)) != 0)
			return r;
		sso_daemon_log(d, "listening on %s (socket activation)",
		    d->sock_path[0] != '\0' ? d->sock_path : "fd 3");
		return 0;
	}
	if (o->socket_path == NULL && (def = ssovault_default_socket()) == NULL)
		return sv_fail(msg, SV_ERR_NOMEM, "out of memory");
	r = socket_bind(d, o->socket_path != NULL ? o->socket_path : def, msg);
	free(def);
	return r;
}

