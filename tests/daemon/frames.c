/*
 * frames: throw bad frames at a running ssovaultd and check that each gets
 * the error it should (or a closed connection), that a connection survives
 * what the dispatch refuses, and that the daemon still answers a status
 * request correctly afterwards.  Several hundred frames in all: empty,
 * wrong version, oversized, truncated header and body, trailing bytes,
 * unknown operations, malformed fields, pipelined, byte by byte, with passed
 * descriptors, and random bodies and raw garbage from a seeded generator.
 *
 *   frames SOCKET FRAME_MAX [SEED]
 *
 * Prints one line per check, "PASS description" or "FAIL description"
 * (tests/daemon/frames.sh turns them into TAP), and "# ..." diagnostics.
 * Run it as an unprivileged uid: random frames then cannot lock or rotate.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ssovault/sverr.h"
#include "proto/wire.h"

#define MARKER "frames-secret-marker-7f3a"	/* must never reach the log */

static const char *sock_path;
static size_t frame_max;
static int failures;
static uint64_t rng;

static void check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", cond ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		failures++;
}

static uint32_t
rnd(void)
{
	/* xorshift64*: reproducible from the seed printed at the start */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 2685821657736338717ULL) >> 32);
}

static int
connect_daemon(void)
{
	struct sockaddr_un sa;
	struct timeval tv = { 10, 0 };
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(s);
		return -1;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return s;
}

static int
send_all(int s, const void *p, size_t len)
{
	const uint8_t *q = p;
	ssize_t n;

	while (len > 0) {
		n = send(s, q, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		q += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
recv_all(int s, void *p, size_t len)
{
	uint8_t *q = p;
	ssize_t n;

	while (len > 0) {
		n = recv(s, q, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		q += n;
		len -= (size_t)n;
	}
	return 1;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A whole frame: header (length counts the version byte) and body. */
static int
send_frame(int s, uint8_t version, const void *body, size_t len)
{
	uint8_t *buf = malloc(len + 5);
	int r;

	if (buf == NULL)
		return -1;
	put32(buf, (uint32_t)len + 1);
	buf[4] = version;
	if (len > 0)
		memcpy(buf + 5, body, len);
	r = send_all(s, buf, len + 5);
	free(buf);
	return r;
}

struct reply {
	int32_t status;
	char msg[512];
	size_t payload;		/* bytes after the message */
	char text[4096];	/* the payload's first string, if any */
};

/*
 * Read one reply frame: 1 with a well-formed reply, 0 if the daemon closed
 * the connection, -1 on a timeout or a malformed reply.
 */
static int
read_reply(int s, struct reply *ret)
{
	uint8_t hdr[5], *body;
	uint32_t n, mlen, tlen;
	int r;

	memset(ret, 0, sizeof(*ret));
	/* a reset between frames is the daemon closing while input was unread */
	if ((r = recv_all(s, hdr, 5)) <= 0)
		return r == 0 || errno == ECONNRESET ? 0 : -1;
	n = get32(hdr);
	if (n < 1 + 8 || hdr[4] != SSO_WIRE_VERSION || n > (64u << 20))
		return -1;
	if ((body = malloc(n - 1)) == NULL)
		return -1;
	if (recv_all(s, body, n - 1) != 1) {
		free(body);
		return -1;
	}
	ret->status = (int32_t)get32(body);
	mlen = get32(body + 4);
	if (mlen > n - 1 - 8 || ret->status > 0 || ret->status < SV__ERR_MIN) {
		free(body);
		return -1;
	}
	snprintf(ret->msg, sizeof(ret->msg), "%.*s", (int)mlen, (const char *)body + 8);
	ret->payload = n - 1 - 8 - mlen;
	if (ret->payload >= 4) {
		tlen = get32(body + 8 + mlen);
		if (tlen <= ret->payload - 4)
			snprintf(ret->text, sizeof(ret->text), "%.*s", (int)tlen,
			    (const char *)body + 12 + mlen);
	}
	free(body);
	return 1;
}

/* 1 if the daemon closes the connection (EOF) within the timeout. */
static int
closed_by_daemon(int s)
{
	uint8_t b[256];
	ssize_t n;

	for (;;) {
		n = recv(s, b, sizeof(b), 0);
		if (n == 0)
			return 1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ECONNRESET;
	}
}

static int
status_ok(int s, const char *what)
{
	uint8_t op = 1;
	struct reply rp;
	int r;

	if (send_frame(s, SSO_WIRE_VERSION, &op, 1) != 0) {
		check(0, "%s: status request sent", what);
		return 0;
	}
	r = read_reply(s, &rp);
	check(r == 1 && rp.status == 0 && strstr(rp.text, "\"unlocked\":true") != NULL,
	    "%s: status answers, unlocked", what);
	if (!(r == 1 && rp.status == 0))
		printf("#   read %d, status %d '%s'\n", r, rp.status, rp.msg);
	return r == 1 && rp.status == 0;
}

/* --- header errors: an error reply, then the connection is closed ---- */

static void
header_case(const char *what, const uint8_t *bytes, size_t len, int32_t want,
    const char *want_msg)
{
	struct reply rp;
	int s = connect_daemon(), r;

	if (s < 0) {
		check(0, "%s: connect", what);
		return;
	}
	if (send_all(s, bytes, len) != 0) {
		check(0, "%s: send", what);
		close(s);
		return;
	}
	r = read_reply(s, &rp);
	check(r == 1 && rp.status == want && strstr(rp.msg, want_msg) != NULL,
	    "%s: error reply %s", what, sv_strerror(want));
	if (!(r == 1 && rp.status == want))
		printf("#   read %d, status %d '%s'\n", r, rp.status, rp.msg);
	check(closed_by_daemon(s), "%s: connection closed after it", what);
	close(s);
}

static void
header_errors(void)
{
	uint8_t b[16];
	uint8_t *big;
	int s, v;

	put32(b, 0);
	b[4] = SSO_WIRE_VERSION;
	header_case("empty frame (length 0)", b, 4, SV_ERR_PROTOCOL, "empty frame");
	for (v = 0; v < 256; v += 51) {
		char what[64];

		if (v == SSO_WIRE_VERSION)
			continue;
		put32(b, 2);
		b[4] = (uint8_t)v;
		b[5] = 1;
		snprintf(what, sizeof(what), "wrong version %d", v);
		header_case(what, b, 6, SV_ERR_PROTOCOL, "unsupported protocol version");
	}
	put32(b, (uint32_t)frame_max + 2);
	b[4] = SSO_WIRE_VERSION;
	header_case("one byte over --frame-max, before the body", b, 5, SV_ERR_TOO_LARGE,
	    "over the limit");
	put32(b, 0xffffffffu);
	header_case("length 4 GiB", b, 5, SV_ERR_TOO_LARGE, "over the limit");
	put32(b, 0x80000000u);
	header_case("length 2 GiB", b, 5, SV_ERR_TOO_LARGE, "over the limit");

	/* exactly at the limit is accepted: the dispatch then sees trailing bytes */
	if ((big = calloc(1, frame_max)) == NULL || (s = connect_daemon()) < 0) {
		check(0, "frame of exactly --frame-max: setup");
		free(big);
		return;
	}
	big[0] = 1;
	{
		struct reply rp;
		int r = send_frame(s, SSO_WIRE_VERSION, big, frame_max) == 0 ?
		    read_reply(s, &rp) : -1;

		check(r == 1 && rp.status == SV_ERR_TRAILING,
		    "frame of exactly --frame-max bytes: read whole, trailing bytes refused");
		status_ok(s, "after a frame at the limit, same connection");
	}
	close(s);
	free(big);
}

/* --- truncated frames: the daemon drops the connection and lives on ---- */

static void
truncated(void)
{
	uint8_t b[64];
	size_t cut;
	int s;

	for (cut = 1; cut < 5; cut++) {
		put32(b, 20);
		b[4] = SSO_WIRE_VERSION;
		if ((s = connect_daemon()) < 0 || send_all(s, b, cut) != 0) {
			check(0, "header cut after %zu bytes: send", cut);
			if (s >= 0)
				close(s);
			continue;
		}
		shutdown(s, SHUT_WR);
		check(closed_by_daemon(s), "header cut after %zu bytes: connection closed", cut);
		close(s);
	}
	for (cut = 0; cut < 40; cut += 13) {
		memset(b, 'x', sizeof(b));
		put32(b, 50);
		b[4] = SSO_WIRE_VERSION;
		b[5] = 1;
		if ((s = connect_daemon()) < 0 || send_all(s, b, 5 + cut) != 0) {
			check(0, "body cut after %zu of 49 bytes: send", cut);
			if (s >= 0)
				close(s);
			continue;
		}
		shutdown(s, SHUT_WR);
		check(closed_by_daemon(s), "body cut after %zu of 49 bytes: connection closed", cut);
		close(s);
	}
	/* a client that vanishes mid-frame without a shutdown */
	for (cut = 0; cut < 20; cut++) {
		if ((s = connect_daemon()) < 0)
			continue;
		put32(b, 1000);
		b[4] = SSO_WIRE_VERSION;
		(void)send_all(s, b, 5 + (cut % 7));
		close(s);
	}
	s = connect_daemon();
	if (s >= 0) {
		status_ok(s, "after 20 clients vanished mid-frame");
		close(s);
	}
}

/* --- what the dispatch refuses: the connection stays usable ------------- */

struct body_case {
	const char *what;
	const uint8_t *body;
	size_t len;
	int32_t want;
	const char *want_msg;
};

static void
body_errors(void)
{
	static const uint8_t unlock_short[] = { 2, 1 };
	static const uint8_t unlock_badkey[] = { 2, 2, 0, 0, 0, 5, 1, 2, 3, 4, 5 };
	static const uint8_t unlock_hugelen[] = { 2, 1, 0xff, 0xff, 0xff, 0xff, 'a', 'b' };
	static const uint8_t unlock_kind[] = { 2, 9, 0, 0, 0, 1, 'a' };
	static const uint8_t show_hugename[] = { 32, 0x7f, 0xff, 0xff, 0xff, 'a' };
	static const uint8_t show_nul[] = { 32, 0, 0, 0, 3, 'a', 0, 'b' };
	static const uint8_t show_toolong_hdr[] = { 32, 0, 0, 1, 0 };
	static const uint8_t status_trail[] = { 1, 0 };
	uint8_t unlock_marker[64], trail_marker[64];
	struct body_case cases[16];
	struct reply rp;
	size_t n = 0, i, ml = strlen(MARKER);
	int s, r, op;
	static const int unknown[] = { 0, 8, 9, 15, 19, 23, 29, 39, 46, 49, 54, 59,
	    63, 64, 69, 85, 88, 89, 99, 105, 106, 110, 128, 200, 254, 255 };

	/*
	 * a passphrase carrying the marker, to the unlocked vault: answered
	 * "already unlocked" without being tried (no oracle), and not logged
	 */
	unlock_marker[0] = 2;
	unlock_marker[1] = 1;
	put32(unlock_marker + 2, (uint32_t)ml);
	memcpy(unlock_marker + 6, MARKER, ml);
	trail_marker[0] = 1;
	memcpy(trail_marker + 1, MARKER, ml);

	cases[n++] = (struct body_case){ "empty request (version byte only)", NULL, 0,
	    SV_ERR_TRUNCATED, "empty request" };
	cases[n++] = (struct body_case){ "status with a trailing byte", status_trail,
	    sizeof(status_trail), SV_ERR_TRAILING, "trailing" };
	cases[n++] = (struct body_case){ "status with a trailing secret", trail_marker,
	    1 + ml, SV_ERR_TRAILING, "trailing" };
	cases[n++] = (struct body_case){ "unlock without its secret field", unlock_short,
	    sizeof(unlock_short), SV_ERR_TRUNCATED, "" };
	cases[n++] = (struct body_case){ "unlock with a string longer than the frame",
	    unlock_hugelen, sizeof(unlock_hugelen), SV_ERR_TRUNCATED, "" };
	cases[n++] = (struct body_case){ "unlock with a 5-byte key", unlock_badkey,
	    sizeof(unlock_badkey), SV_ERR_INVALID, "32 bytes" };
	cases[n++] = (struct body_case){ "unlock of an unknown kind", unlock_kind,
	    sizeof(unlock_kind), SV_ERR_INVALID, "" };
	cases[n++] = (struct body_case){ "unlock of the unlocked vault", unlock_marker,
	    6 + ml, SV_ERR_CONFLICT, "already unlocked" };
	cases[n++] = (struct body_case){ "app show with a 2 GiB name", show_hugename,
	    sizeof(show_hugename), SV_ERR_TRUNCATED, "object name" };
	cases[n++] = (struct body_case){ "app show with a NUL in the name", show_nul,
	    sizeof(show_nul), SV_ERR_INVALID, "invalid name: 1 to" };
	cases[n++] = (struct body_case){ "app show with a name cut short", show_toolong_hdr,
	    sizeof(show_toolong_hdr), SV_ERR_TRUNCATED, "object name" };

	if ((s = connect_daemon()) < 0) {
		check(0, "body errors: connect");
		return;
	}
	for (i = 0; i < n; i++) {
		r = send_frame(s, SSO_WIRE_VERSION, cases[i].body, cases[i].len) == 0 ?
		    read_reply(s, &rp) : -1;
		check(r == 1 && rp.status == cases[i].want && strstr(rp.msg, cases[i].want_msg) != NULL,
		    "%s: %s, connection kept", cases[i].what, sv_strerror(cases[i].want));
		if (!(r == 1 && rp.status == cases[i].want))
			printf("#   read %d, status %d '%s'\n", r, rp.status, rp.msg);
	}
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		uint8_t b[3];

		op = unknown[i];
		b[0] = (uint8_t)op;
		b[1] = 'z';
		b[2] = 'z';
		r = send_frame(s, SSO_WIRE_VERSION, b, 1 + i % 3) == 0 ? read_reply(s, &rp) : -1;
		check(r == 1 && rp.status == SV_ERR_PROTOCOL && strstr(rp.msg, "unknown operation") != NULL,
		    "unknown operation %d: refused, connection kept", op);
	}
	status_ok(s, "after every refusal, same connection");
	close(s);
}

/* --- many frames in one write, and a frame one byte at a time ---------- */

static void
pipelined(void)
{
	uint8_t buf[40 * 7];
	struct reply rp;
	size_t len = 0;
	int s, i, r, good = 1;

	/* even: status with a trailing byte; odd: an empty request */
	for (i = 0; i < 40; i++) {
		if (i % 2 == 0) {
			put32(buf + len, 3);
			buf[len + 4] = SSO_WIRE_VERSION;
			buf[len + 5] = 1;
			buf[len + 6] = 0;
			len += 7;
		} else {
			put32(buf + len, 1);
			buf[len + 4] = SSO_WIRE_VERSION;
			len += 5;
		}
	}
	if ((s = connect_daemon()) < 0 || send_all(s, buf, len) != 0) {
		check(0, "40 pipelined frames: send");
		if (s >= 0)
			close(s);
		return;
	}
	for (i = 0; i < 40; i++) {
		r = read_reply(s, &rp);
		if (r != 1 || rp.status != (i % 2 == 0 ? SV_ERR_TRAILING : SV_ERR_TRUNCATED)) {
			printf("#   reply %d: read %d status %d '%s'\n", i, r, rp.status, rp.msg);
			good = 0;
			break;
		}
	}
	check(good, "40 pipelined frames in one write: 40 replies, in order");
	status_ok(s, "after pipelined frames");
	close(s);
}

static void
byte_by_byte(void)
{
	static const uint8_t b[] = { 0, 0, 0, 2, SSO_WIRE_VERSION, 1 };
	struct timespec t = { 0, 5 * 1000 * 1000 };
	struct reply rp;
	size_t i;
	int s, r;

	if ((s = connect_daemon()) < 0) {
		check(0, "status one byte at a time: connect");
		return;
	}
	for (i = 0; i < sizeof(b); i++) {
		(void)send_all(s, b + i, 1);
		nanosleep(&t, NULL);
	}
	r = read_reply(s, &rp);
	check(r == 1 && rp.status == 0 && strstr(rp.text, "\"unlocked\":true") != NULL,
	    "status sent one byte at a time: answered");
	close(s);
}

/* --- descriptors riding along ---------------------------------------------- */

static int
send_with_fds(int s, const uint8_t *frame, size_t len, const int *fds, size_t nfd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 8)];
	} cm;
	struct msghdr mh;
	struct iovec iov;

	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)frame;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfd);
	cm.h.cmsg_level = SOL_SOCKET;
	cm.h.cmsg_type = SCM_RIGHTS;
	cm.h.cmsg_len = CMSG_LEN(sizeof(int) * nfd);
	memcpy(CMSG_DATA(&cm.h), fds, sizeof(int) * nfd);
	return sendmsg(s, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static void
passed_fds(void)
{
	static const uint8_t status[] = { 0, 0, 0, 2, SSO_WIRE_VERSION, 1 };
	static const uint8_t unknown[] = { 0, 0, 0, 2, SSO_WIRE_VERSION, 250 };
	struct reply rp;
	int fds[4], s, r, i;

	for (i = 0; i < 4; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if ((s = connect_daemon()) < 0) {
		check(0, "passed descriptors: connect");
		return;
	}
	r = send_with_fds(s, status, sizeof(status), fds, 1) == 0 ? read_reply(s, &rp) : -1;
	check(r == 1 && rp.status == 0, "status with a passed descriptor: answered");
	r = send_with_fds(s, status, sizeof(status), fds, 4) == 0 ? read_reply(s, &rp) : -1;
	check(r == 1 && rp.status == 0, "status with four passed descriptors: answered");
	r = send_with_fds(s, unknown, sizeof(unknown), fds, 2) == 0 ? read_reply(s, &rp) : -1;
	check(r == 1 && rp.status == SV_ERR_PROTOCOL,
	    "unknown operation with passed descriptors: refused");
	/* a descriptor with a frame that is then cut off */
	r = send_with_fds(s, status, 3, fds, 1);
	close(s);
	check(r == 0, "descriptor on a frame cut short: sent");
	for (i = 0; i < 4; i++)
		close(fds[i]);
}

/* --- random bodies and raw garbage -------------------------------------- */

static const uint8_t known_ops[] = { 1, 2, 3, 10, 11, 12, 13, 14, 20, 21, 22, 30, 31,
    32, 33, 34, 35, 36, 37, 40, 41, 42, 43, 44, 50, 51, 60, 61, 62, 70, 71, 72, 73,
    74, 75, 76, 77, 80, 81, 82, 83, 84, 90, 91, 92, 93, 94, 95, 100, 101, 102, 103 };

static void
random_body(uint8_t *b, size_t *len)
{
	size_t i, n = rnd() % 200;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
	/* half start with a real operation so the handlers' parsers see them */
	if (n > 0 && rnd() % 2 == 0)
		b[0] = known_ops[rnd() % sizeof(known_ops)];
	/* and some carry plausible string lengths */
	if (n > 5 && rnd() % 3 == 0)
		put32(b + 1, rnd() % 64);
	*len = n;
}

static void
random_frames(void)
{
	uint8_t b[256];
	struct reply rp;
	size_t len;
	int i, j, s, r, bad = 0, replies = 0;

	/* 150 on a connection each */
	for (i = 0; i < 150; i++) {
		random_body(b, &len);
		if ((s = connect_daemon()) < 0) {
			bad++;
			continue;
		}
		r = send_frame(s, SSO_WIRE_VERSION, b, len) == 0 ? read_reply(s, &rp) : -1;
		if (r != 1) {
			printf("#   random frame %d (op %d, %zu bytes): read %d\n", i,
			    len > 0 ? b[0] : -1, len, r);
			bad++;
		} else {
			replies++;
		}
		close(s);
	}
	check(bad == 0, "150 random frames, one per connection: %d well-formed replies", replies);
	/* 150 more, 15 per connection */
	bad = replies = 0;
	for (i = 0; i < 10; i++) {
		if ((s = connect_daemon()) < 0) {
			bad++;
			continue;
		}
		for (j = 0; j < 15; j++) {
			random_body(b, &len);
			r = send_frame(s, SSO_WIRE_VERSION, b, len) == 0 ? read_reply(s, &rp) : -1;
			if (r != 1) {
				printf("#   random frame %d.%d (op %d, %zu bytes): read %d\n", i, j,
				    len > 0 ? b[0] : -1, len, r);
				bad++;
				break;
			}
			replies++;
		}
		if (j == 15)
			status_ok(s, "after 15 random frames on one connection");
		close(s);
	}
	check(bad == 0, "150 random frames, 15 per connection: %d well-formed replies", replies);
}

static void
raw_garbage(void)
{
	uint8_t b[128];
	struct reply rp;
	size_t n, i;
	int k, s, r, bad = 0;

	for (k = 0; k < 60; k++) {
		n = 1 + rnd() % sizeof(b);
		for (i = 0; i < n; i++)
			b[i] = (uint8_t)rnd();
		if ((s = connect_daemon()) < 0) {
			bad++;
			continue;
		}
		(void)send_all(s, b, n);
		shutdown(s, SHUT_WR);
		/* whatever comes back must be well-formed replies, then the end */
		while ((r = read_reply(s, &rp)) == 1)
			;
		if (r != 0) {
			printf("#   garbage %d (%zu bytes): read %d\n", k, n, r);
			bad++;
		}
		close(s);
	}
	check(bad == 0, "60 connections of raw garbage: only well-formed replies, then closed");
}

int
main(int argc, char **argv)
{
	unsigned long long seed;
	char *end;
	int s;

	if (argc < 3) {
		fprintf(stderr, "usage: frames SOCKET FRAME_MAX [SEED]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sock_path = argv[1];
	frame_max = (size_t)strtoull(argv[2], &end, 10);
	seed = argc > 3 && argv[3][0] != '\0' ? strtoull(argv[3], NULL, 10) :
	    (unsigned long long)time(NULL);
	rng = seed != 0 ? seed : 1;
	printf("# frames: seed %llu (rerun: frames %s %zu %llu)\n", seed, sock_path,
	    frame_max, seed);
	if ((s = connect_daemon()) < 0) {
		check(0, "connect to %s", sock_path);
		return 1;
	}
	status_ok(s, "before anything");
	close(s);
	header_errors();
	truncated();
	body_errors();
	pipelined();
	byte_by_byte();
	passed_fds();
	random_frames();
	raw_garbage();
	if ((s = connect_daemon()) >= 0) {
		status_ok(s, "at the end, new connection");
		close(s);
	} else {
		check(0, "at the end: connect");
	}
	return failures == 0 ? 0 : 1;
}
