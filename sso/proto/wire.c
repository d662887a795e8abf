/*
 * Frame transport over a Unix stream socket, with optional fd passing, and
 * the client's check of who serves the socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/wire.h"

/*
 * SSOVAULT_DAEMON_UID: the one more uid, besides root and our own, whose
 * daemon we talk to.  0 and *ret = (uid_t)-1 if unset.
 */
static int
daemon_uid_from_env(uid_t *ret, char *msg)
{
	const char *e = getenv("SSOVAULT_DAEMON_UID");
	unsigned long v = 0;
	const char *p;

	*ret = (uid_t)-1;
	if (e == NULL || *e == '\0')
		return 0;
	for (p = e; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || p - e >= 10)
			return sv_fail(msg, SV_ERR_INVALID,
			    "SSOVAULT_DAEMON_UID: expected a uid number, got '%.20s'", e);
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v >= (unsigned long)(uid_t)-1)
		return sv_fail(msg, SV_ERR_INVALID,
		    "SSOVAULT_DAEMON_UID: expected a uid number, got '%.20s'", e);
	*ret = (uid_t)v;
	return 0;
}

/*
 * Whoever serves the socket reads every request, passphrases and passwords
 * included: before the first byte, the server must be root (or systemd's
 * socket, which root made), ourselves, or the uid SSOVAULT_DAEMON_UID
 * names.  A socket path anyone could have taken over is then harmless.
 */
static int
peer_check(int s, const char *path, char *msg)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	uid_t extra;
	int r;

	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || len != sizeof(cr))
		return sv_fail(msg, SV_ERR_UNREACHABLE,
		    "cannot tell who serves %s: %s", path, strerror(errno));
	if ((r = daemon_uid_from_env(&extra, msg)) != 0)
		return r;
	if (cr.uid == 0 || cr.uid == geteuid() || cr.uid == extra)
		return 0;
	return sv_fail(msg, SV_ERR_UNREACHABLE,
	    "%s is served by uid %lu, not by root or you (uid %lu): nothing was sent to it "
	    "(if that uid runs your ssovaultd, set SSOVAULT_DAEMON_UID=%lu)",
	    path, (unsigned long)cr.uid, (unsigned long)geteuid(), (unsigned long)cr.uid);
}

int
sso_wire_connect(const char *path, int *ret_sock, char *msg)
{
	struct sockaddr_un sa;
	int s, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return sv_fail(msg, SV_ERR_INVALID, "socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return sv_fail(msg, SV_ERR_UNREACHABLE, "socket: %s", strerror(errno));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(s);
		return sv_fail(msg, SV_ERR_UNREACHABLE,
		    "cannot reach ssovaultd at %s: %s (is the daemon running?)",
		    path, strerror(e));
	}
	if ((r = peer_check(s, path, msg)) != 0) {
		close(s);
		return r;
	}
	*ret_sock = s;
	return 0;
}

/*
 * Write the header and the body, in one sendmsg when the socket takes it
 * all (one system call per request); pass_fd rides with the first bytes.
 */
static int
write_frame(int sock, const uint8_t *hdr, size_t hlen, const uint8_t *body, size_t len,
    int pass_fd)
{
	struct msghdr mh;
	struct iovec iov[2];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	size_t off = 0, total = hlen + len;
	ssize_t n;

	while (off < total) {
		memset(&mh, 0, sizeof(mh));
		if (off < hlen) {
			iov[0].iov_base = (void *)(hdr + off);
			iov[0].iov_len = hlen - off;
			iov[1].iov_base = (void *)body;
			iov[1].iov_len = len;
			mh.msg_iovlen = len > 0 ? 2 : 1;
		} else {
			iov[0].iov_base = (void *)(body + (off - hlen));
			iov[0].iov_len = total - off;
			mh.msg_iovlen = 1;
		}
		mh.msg_iov = iov;
		if (pass_fd >= 0) {
			memset(&cm, 0, sizeof(cm));
			mh.msg_control = cm.buf;
			mh.msg_controllen = sizeof(cm.buf);
			cm.h.cmsg_level = SOL_SOCKET;
			cm.h.cmsg_type = SCM_RIGHTS;
			cm.h.cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(&cm.h), &pass_fd, sizeof(int));
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return SV_ERR_UNREACHABLE;
		pass_fd = -1;
		off += (size_t)n;
	}
	return 0;
}

int
sso_wire_send(int sock, const uint8_t *body, size_t len, int pass_fd)
{
	uint8_t hdr[SSO_FRAME_HDR];
	uint32_t n;

	if (len > UINT32_MAX - 1)
		return SV_ERR_TOO_LARGE;
	n = (uint32_t)len + 1;
	hdr[0] = n >> 24;
	hdr[1] = n >> 16;
	hdr[2] = n >> 8;
	hdr[3] = n;
	hdr[4] = SSO_WIRE_VERSION;
	return write_frame(sock, hdr, sizeof(hdr), body, len, pass_fd);
}

static ssize_t
recv_iov(int sock, struct iovec *iov, size_t iovlen, int flags, int *io_fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct cmsghdr *h;
	struct msghdr mh;
	size_t i, nfd;
	ssize_t n;
	int fd;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = iovlen;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return n;
	for (h = CMSG_FIRSTHDR(&mh); h != NULL; h = CMSG_NXTHDR(&mh, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
		    h->cmsg_len < CMSG_LEN(0))
			continue;
		nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (io_fd != NULL && *io_fd < 0)
				*io_fd = fd;
			else
				close(fd);
		}
	}
	return n;
}

ssize_t
sso_wire_recvmsg(int sock, void *p, size_t len, int flags, int *io_fd)
{
	struct iovec iov;

	iov.iov_base = p;
	iov.iov_len = len;
	return recv_iov(sock, &iov, 1, flags, io_fd);
}

int
sso_frame_header(const uint8_t *hdr, size_t have, size_t max, size_t *ret_len, char *msg)
{
	uint32_t n;

	if (have < 4)
		return 0;
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (n == 0)
		return sv_fail(msg, SV_ERR_PROTOCOL,
		    "empty frame: the length counts the version byte and the body");
	if (n - 1 > max)
		return sv_fail(msg, SV_ERR_TOO_LARGE,
		    "frame of %lu bytes is over the limit of %zu bytes (ssovaultd --frame-max)",
		    (unsigned long)(n - 1), max);
	if (have < SSO_FRAME_HDR)
		return 0;
	if (hdr[4] != SSO_WIRE_VERSION)
		return sv_fail(msg, SV_ERR_PROTOCOL,
		    "unsupported protocol version %u (ssovaultd speaks version %u)",
		    hdr[4], SSO_WIRE_VERSION);
	*ret_len = n - 1;
	return 0;
}

#define REPLY_FIRST 4096	/* a reply's first read: its header and a small body */

/* Read exactly len bytes; keep a passed descriptor if one comes. */
static int
read_all(int sock, uint8_t *p, size_t len, int *fd, int *got_any)
{
	ssize_t n;

	while (len > 0) {
		n = sso_wire_recvmsg(sock, p, len, 0, fd);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return SV_ERR_UNREACHABLE;
		if (n == 0)
			return *got_any ? SV_ERR_TRUNCATED : SV_ERR_UNREACHABLE;
		*got_any = 1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
sso_wire_recv(int sock, size_t max, struct svbuf *out, int *ret_fd)
{
	uint8_t hdr[SSO_FRAME_HDR], *dst;
	size_t n = 0;
	int fd = -1, got = 0, r;

	svbuf_reset(out);
	if ((r = read_all(sock, hdr, sizeof(hdr), &fd, &got)) != 0 ||
	    (r = sso_frame_header(hdr, sizeof(hdr), max, &n, NULL)) != 0)
		goto fail;
	if ((r = svbuf_reserve(out, n, &dst)) != 0 ||
	    (r = read_all(sock, dst, n, &fd, &got)) != 0) {
		svbuf_reset(out);
		goto fail;
	}
	if (ret_fd != NULL)
		*ret_fd = fd;
	else if (fd >= 0)
		close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return r;
}

int
sso_wire_recv_reply(int sock, size_t max, struct svbuf *out)
{
	uint8_t hdr[SSO_FRAME_HDR], *dst;
	struct iovec iov[2];
	size_t have = 0, first = max < REPLY_FIRST ? max : REPLY_FIRST, n = 0, body;
	ssize_t k;
	int fd = -1, got = 0, r;

	svbuf_reset(out);
	if ((r = svbuf_reserve(out, first, &dst)) != 0)
		return r;
	/* the header and the first bytes of the body in one read */
	while (have < sizeof(hdr)) {
		iov[0].iov_base = hdr + have;
		iov[0].iov_len = sizeof(hdr) - have;
		iov[1].iov_base = dst;
		iov[1].iov_len = first;
		k = recv_iov(sock, iov, 2, 0, &fd);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = k == 0 && got ? SV_ERR_TRUNCATED : SV_ERR_UNREACHABLE;
			goto fail;
		}
		got = 1;
		have += (size_t)k;
	}
	body = have - sizeof(hdr);
	if ((r = sso_frame_header(hdr, sizeof(hdr), max, &n, NULL)) != 0)
		goto fail;
	/* the service sends one reply per request: more is not a reply */
	if (body > n) {
		r = SV_ERR_PROTOCOL;
		goto fail;
	}
	if ((r = svbuf_unreserve(out, first - body)) != 0)
		goto fail;
	if (n > body && ((r = svbuf_reserve(out, n - body, &dst)) != 0 ||
	    (r = read_all(sock, dst, n - body, &fd, &got)) != 0))
		goto fail;
	if (fd >= 0)
		close(fd);
	return 0;
fail:
	svbuf_reset(out);
	if (fd >= 0)
		close(fd);
	return r;
}
