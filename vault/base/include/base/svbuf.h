/*
 * svbuf: the one bounded byte buffer through which every byte from outside
 * (wire frames, files, sealed records) is read, modelled on OpenSSH's sshbuf.
 *
 * A buffer has a hard maximum size; appending past it fails with
 * SV_ERR_TOO_LARGE.  Getters read from the front and consume what they read;
 * a getter that finds too few bytes returns SV_ERR_TRUNCATED and consumes
 * nothing.  Integers are big-endian.  Strings are a u32 length and the bytes.
 *
 * A buffer made with svbuf_new_secure() keeps its bytes in sodium_malloc()
 * memory; every buffer is wiped when it grows, is reset or is freed.
 * svbuf_from() makes a read-only view of memory the caller owns and must keep
 * alive for as long as the view is used.
 */
#ifndef SSOVAULT_SVBUF_H
#define SSOVAULT_SVBUF_H

#include <stddef.h>
#include <stdint.h>

#include "ssovault/sverr.h"

#define SVBUF_MAX_DEFAULT (64u * 1024u * 1024u)

struct svbuf;

struct svbuf *svbuf_new(size_t max);
/*
 * Free the secure blocks this thread keeps for reuse, now rather than when
 * the thread ends (for detached threads that must be done before their
 * process may exit).
 */
void svbuf_thread_end(void);
struct svbuf *svbuf_new_secure(size_t max);
struct svbuf *svbuf_from(const void *p, size_t len);
void svbuf_free(struct svbuf *b);

/* Drop every byte (wiping them); the buffer stays usable. */
void svbuf_reset(struct svbuf *b);

/* The unread bytes: valid until the next call that modifies b. */
const uint8_t *svbuf_ptr(const struct svbuf *b);
size_t svbuf_len(const struct svbuf *b);
size_t svbuf_max(const struct svbuf *b);

int svbuf_consume(struct svbuf *b, size_t len) SV_WUR;
/* Reserve len writable bytes at the end; *ret_p is valid until next change. */
int svbuf_reserve(struct svbuf *b, size_t len, uint8_t **ret_p) SV_WUR;
/*
 * Give back the last len bytes (wiped): the part of a reservation that was
 * not filled, e.g. by a short read.  SV_ERR_TRUNCATED if fewer are there.
 */
int svbuf_unreserve(struct svbuf *b, size_t len) SV_WUR;

int svbuf_put(struct svbuf *b, const void *p, size_t len) SV_WUR;
int svbuf_put_u8(struct svbuf *b, uint8_t v) SV_WUR;
int svbuf_put_u32(struct svbuf *b, uint32_t v) SV_WUR;
int svbuf_put_u64(struct svbuf *b, uint64_t v) SV_WUR;
int svbuf_put_string(struct svbuf *b, const void *p, size_t len) SV_WUR;
int svbuf_put_cstring(struct svbuf *b, const char *s) SV_WUR;	/* NULL puts "" */
int svbuf_put_buf(struct svbuf *b, const struct svbuf *src) SV_WUR; /* as a string */

int svbuf_get(struct svbuf *b, void *out, size_t len) SV_WUR;
int svbuf_get_u8(struct svbuf *b, uint8_t *ret) SV_WUR;
int svbuf_get_u32(struct svbuf *b, uint32_t *ret) SV_WUR;
int svbuf_get_u64(struct svbuf *b, uint64_t *ret) SV_WUR;
int svbuf_get_bool(struct svbuf *b, int *ret) SV_WUR;	/* u8 0 or 1 only */
/* A string, pointing into the buffer (valid until next change of b). */
int svbuf_get_string_direct(struct svbuf *b, const uint8_t **ret_p, size_t *ret_len) SV_WUR;
/*
 * A string as a fresh NUL-terminated copy (malloc), refusing embedded NULs
 * with SV_ERR_INVALID.  The _secure variant copies into sodium_malloc memory,
 * to be freed with sodium_free().
 */
int svbuf_get_cstring(struct svbuf *b, char **ret) SV_WUR;
int svbuf_get_cstring_secure(struct svbuf *b, char **ret) SV_WUR;

/* SV_ERR_TRAILING if unread bytes remain. */
int svbuf_expect_end(const struct svbuf *b) SV_WUR;

#endif
