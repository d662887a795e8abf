/*
 * dlog: ssovaultd's log lines (internal to sso/).
 *
 * Every line the daemon writes passes through here on its way to the sink,
 * so that none can forget two rules:
 * - a line is one line: control characters, invalid UTF-8, the C1 controls
 *   and the Unicode line separators become \xNN (a backslash becomes \\), so
 *   that a program named "x\nvault locked by uid 0" cannot forge a line;
 * - an event a caller can repeat at will (a bad frame, a refused unlock, a
 *   refused connection) is rate-limited per uid and kind of event: the first
 *   `burst` lines of an interval are written, the rest are counted and
 *   summed up in one line when the interval ends ("uid 1001: 4711 more like
 *   this in 60 s: ...").
 * The table of (uid, kind) counters is bounded; when it is full, events of
 * new pairs share one overflow counter.  Thread-safe; the sink gets one
 * line at a time, sometimes with the module's lock held: it must not call
 * back into it.
 */
#ifndef SSOVAULT_DLOG_H
#define SSOVAULT_DLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ssovault/sverr.h"

#define SSO_DLOG_LINE_MAX 512		/* after escaping; longer lines are cut */
#define SSO_DLOG_SLOTS 256		/* (uid, kind) pairs followed at once */

struct sso_dlog;

/* sink NULL: lines are dropped (but still counted).  burst >= 1, interval_ms >= 1. */
int sso_dlog_new(void (*sink)(void *ctx, const char *line), void *ctx,
    unsigned burst, unsigned interval_ms, struct sso_dlog **ret) SV_WUR;
/* Writes the summaries still held back, then frees.  Takes NULL. */
void sso_dlog_free(struct sso_dlog *l);

/* A line that is not rate-limited (start, stop, key changes by admins). */
void sso_dlog_line(struct sso_dlog *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * A line about something uid did, rate-limited per (uid, kind).  kind is a
 * short fixed text naming the event ("protocol error", "unlock refused");
 * detail, if not NULL, refines it (the reply's message: its digits are
 * ignored, so "unknown operation 4" and "unknown operation 5" are one kind).
 * now_ms is a monotonic clock.
 */
void sso_dlog_event(struct sso_dlog *l, uid_t uid, uint64_t now_ms, const char *kind,
    const char *detail, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Write the summaries of intervals that have ended; call now and then. */
void sso_dlog_tick(struct sso_dlog *l, uint64_t now_ms);

/*
 * Escape in into out (outlen >= 8): see above.  Returns the length of out;
 * a line that does not fit is cut at a character boundary and ends "...".
 */
size_t sso_dlog_escape(const char *in, char *out, size_t outlen);

#endif
