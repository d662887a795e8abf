/*
 * wire: frames between ssovault clients and ssovaultd (docs/protocol.md).
 *
 *   frame = u32 length | u8 version | body      (length counts version + body)
 *
 * A request body is what sso_dispatch() takes; a reply body is what it
 * makes.  A frame may carry one file descriptor (SCM_RIGHTS) for backup and
 * restore.  Frames longer than the receiver's cap are refused before any
 * allocation.
 */
#ifndef SSOVAULT_WIRE_H
#define SSOVAULT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ssovault/sverr.h"
#include "base/svbuf.h"

#define SSO_WIRE_VERSION 1
#define SSO_FRAME_HDR 5		/* u32 length | u8 version */
#define SSO_FRAME_MAX_DEFAULT (64u * 1024u * 1024u)

/*
 * Connect to a daemon's socket: SV_ERR_UNREACHABLE if nobody listens, or
 * if the server (SO_PEERCRED) is not root, our own uid or the uid in
 * SSOVAULT_DAEMON_UID (then nothing was sent); SV_ERR_INVALID if that
 * variable is not a uid number.
 */
int sso_wire_connect(const char *path, int *ret_sock, char *msg) SV_WUR;
/* Send one frame; pass_fd >= 0 rides along with it. */
int sso_wire_send(int sock, const uint8_t *body, size_t len, int pass_fd) SV_WUR;
/*
 * Receive one frame's body into out (reset first).  *ret_fd (if not NULL)
 * gets a passed descriptor or -1.  SV_ERR_TOO_LARGE for a frame over max,
 * SV_ERR_PROTOCOL for a wrong version, SV_ERR_TRUNCATED if the peer closed
 * mid-frame, SV_ERR_UNREACHABLE if it closed between frames.
 */
int sso_wire_recv(int sock, size_t max, struct svbuf *out, int *ret_fd) SV_WUR;
/*
 * The client's sso_wire_recv() of the one reply to its request: the header
 * and up to 4 KiB of the body in one read.  Bytes past the frame are
 * SV_ERR_PROTOCOL (the service answers one frame per request); a passed
 * descriptor is closed.
 */
int sso_wire_recv_reply(int sock, size_t max, struct svbuf *out) SV_WUR;

/*
 * A frame's header as it comes in, hdr[0..have): nothing to say before its
 * 4 length bytes; then SV_ERR_PROTOCOL for an empty frame and
 * SV_ERR_TOO_LARGE for a body over max (before any of it is read or
 * allocated); once all SSO_FRAME_HDR bytes are in, SV_ERR_PROTOCOL for
 * another version, else 0 with the body's length in *ret_len.  msg (may
 * be NULL) says why.
 */
int sso_frame_header(const uint8_t *hdr, size_t have, size_t max, size_t *ret_len,
    char *msg) SV_WUR;

/*
 * recvmsg() of at most len bytes (flags: MSG_DONTWAIT or 0).  Of the
 * descriptors passed with them, the first is kept in *io_fd if io_fd is
 * not NULL and holds -1; every other one is closed.  recvmsg()'s result,
 * and its errno.
 */
ssize_t sso_wire_recvmsg(int sock, void *p, size_t len, int flags, int *io_fd);

#endif
