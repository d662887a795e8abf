/*
 * ssovaultd's log lines: escaped, and rate-limited per uid and kind of
 * event (dlog.h).  A flood of bad frames from one uid costs a few lines a
 * minute, not a write per frame: 453,000 connect/close cycles in 15 s once
 * wrote 81 MB of log and slowed every other caller.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlog.h"

#define KIND_MAX 40
#define OVERFLOW_UID ((uid_t)-1)

/* One (uid, kind) pair being followed. */
struct slot {
	int used;
	uid_t uid;
	uint32_t hash;			/* kind and detail, digits left out */
	char kind[KIND_MAX];
	uint64_t start_ms;		/* this interval began */
	uint64_t last_ms;		/* the last event */
	unsigned shown;			/* lines written in this interval */
	unsigned long held;		/* lines held back in this interval */
};

struct sso_dlog {
	pthread_mutex_t mu;
	void (*sink)(void *, const char *);
	void *ctx;
	unsigned burst;
	uint64_t interval_ms;
	struct slot slots[SSO_DLOG_SLOTS];
	struct slot overflow;
};

int
sso_dlog_new(void (*sink)(void *ctx, const char *line), void *ctx, unsigned burst,
    unsigned interval_ms, struct sso_dlog **ret)
{
	struct sso_dlog *l;

	if (burst == 0 || interval_ms == 0)
		return SV_ERR_INVALID;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return SV_ERR_NOMEM;
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l);
		return SV_ERR_NOMEM;
	}
	l->sink = sink;
	l->ctx = ctx;
	l->burst = burst;
	l->interval_ms = interval_ms;
	l->overflow.used = 1;
	l->overflow.uid = OVERFLOW_UID;
	snprintf(l->overflow.kind, sizeof(l->overflow.kind), "other");
	*ret = l;
	return 0;
}

/* --- escaping ------------------------------------------------------------ */

/* The length of the valid UTF-8 sequence at p and its code point; 0 if none. */
static size_t
utf8_seq(const unsigned char *p, uint32_t *ret_cp)
{
	uint32_t cp;
	size_t n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the terminating NUL */
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates and what lies beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

/*
 * Code points a terminal or a log viewer may act on: the C1 controls, the
 * line and paragraph separators, and the marks that reorder text on screen.
 */
static int
cp_unsafe(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t
sso_dlog_escape(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	char rep[16];
	size_t o = 0, n, adv, i;
	uint32_t cp;

	if (outlen < 8) {
		if (outlen > 0)
			out[0] = '\0';
		return 0;
	}
	while (*p != '\0') {
		n = 0;
		if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
			rep[n++] = (char)*p;
			adv = 1;
		} else if (*p == '\\') {
			rep[n++] = '\\';
			rep[n++] = '\\';
			adv = 1;
		} else if (*p >= 0x80 && (adv = utf8_seq(p, &cp)) > 0 && !cp_unsafe(cp)) {
			memcpy(rep, p, adv);
			n = adv;
		} else {
			/* a control, a stray byte, or every byte of an unsafe character */
			adv = *p >= 0x80 && (adv = utf8_seq(p, &cp)) > 0 ? adv : 1;
			for (i = 0; i < adv; i++) {
				rep[n++] = '\\';
				rep[n++] = 'x';
				rep[n++] = hex[p[i] >> 4];
				rep[n++] = hex[p[i] & 0xf];
			}
		}
		/* room for this, and for "..." and the NUL should the next not fit */
		if (o + n + 4 > outlen) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, rep, n);
		o += n;
		p += adv;
	}
	out[o] = '\0';
	return o;
}

/* --- lines --------------------------------------------------------------- */

static void
emit(struct sso_dlog *l, const char *raw)
{
	char line[SSO_DLOG_LINE_MAX];

	if (l->sink == NULL)
		return;
	sso_dlog_escape(raw, line, sizeof(line));
	l->sink(l->ctx, line);
}

void
sso_dlog_line(struct sso_dlog *l, const char *fmt, ...)
{
	char raw[SSO_DLOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	emit(l, raw);
}

/* The summary of an interval that held lines back; called with mu held. */
static void
summary(struct sso_dlog *l, struct slot *s, uint64_t now_ms)
{
	char raw[SSO_DLOG_LINE_MAX];
	unsigned long secs = (unsigned long)((now_ms - s->start_ms + 999) / 1000);

	if (s->held == 0)
		return;
	if (s->uid == OVERFLOW_UID)
		snprintf(raw, sizeof(raw), "held back %lu more log lines of other uids and "
		    "events in %lu s", s->held, secs);
	else
		snprintf(raw, sizeof(raw), "held back %lu more '%s' lines about uid %lu in %lu s "
		    "(the first %u were written)", s->held, s->kind, (unsigned long)s->uid,
		    secs, s->shown);
	emit(l, raw);
	s->held = 0;
}

static uint32_t
kind_hash(const char *kind, const char *detail)
{
	uint32_t h = 2166136261u;
	const unsigned char *p;

	for (p = (const unsigned char *)kind; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (p = (const unsigned char *)(detail != NULL ? detail : ""); *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			h = (h ^ *p) * 16777619u;
	return h;
}

/*
 * The slot of (uid, hash), or a free one, or one whose pair has been quiet
 * for two intervals (its summary written first), or the overflow slot.
 */
static struct slot *
slot_find(struct sso_dlog *l, uid_t uid, uint32_t hash, const char *kind, uint64_t now_ms)
{
	struct slot *s, *spare = NULL;
	size_t i;

	for (i = 0; i < SSO_DLOG_SLOTS; i++) {
		s = &l->slots[i];
		if (s->used && s->uid == uid && s->hash == hash)
			return s;
		if (spare == NULL && (!s->used || now_ms - s->last_ms >= 2 * l->interval_ms))
			spare = s;
	}
	if (spare == NULL)
		return &l->overflow;
	if (spare->used)
		summary(l, spare, now_ms);
	memset(spare, 0, sizeof(*spare));
	spare->used = 1;
	spare->uid = uid;
	spare->hash = hash;
	snprintf(spare->kind, sizeof(spare->kind), "%s", kind);
	spare->start_ms = now_ms;
	return spare;
}

void
sso_dlog_event(struct sso_dlog *l, uid_t uid, uint64_t now_ms, const char *kind,
    const char *detail, const char *fmt, ...)
{
	char raw[SSO_DLOG_LINE_MAX];
	struct slot *s;
	va_list ap;
	int show;

	pthread_mutex_lock(&l->mu);
	s = slot_find(l, uid, kind_hash(kind, detail), kind, now_ms);
	if (now_ms - s->start_ms >= l->interval_ms) {
		summary(l, s, now_ms);
		s->start_ms = now_ms;
		s->shown = 0;
	}
	s->last_ms = now_ms;
	show = s->shown < l->burst;
	if (show)
		s->shown++;
	else
		s->held++;
	pthread_mutex_unlock(&l->mu);
	if (!show)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	emit(l, raw);
}

void
sso_dlog_tick(struct sso_dlog *l, uint64_t now_ms)
{
	size_t i;

	pthread_mutex_lock(&l->mu);
	for (i = 0; i < SSO_DLOG_SLOTS; i++) {
		struct slot *s = &l->slots[i];

		if (s->used && s->held > 0 && now_ms - s->start_ms >= l->interval_ms) {
			summary(l, s, now_ms);
			s->start_ms = now_ms;
			s->shown = 0;
		}
	}
	if (l->overflow.held > 0 && now_ms - l->overflow.start_ms >= l->interval_ms) {
		summary(l, &l->overflow, now_ms);
		l->overflow.start_ms = now_ms;
		l->overflow.shown = 0;
	}
	pthread_mutex_unlock(&l->mu);
}

void
sso_dlog_free(struct sso_dlog *l)
{
	size_t i;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	for (i = 0; i < SSO_DLOG_SLOTS; i++)
		if (l->slots[i].used)
			summary(l, &l->slots[i], l->slots[i].last_ms);
	summary(l, &l->overflow, l->overflow.last_ms);
	pthread_mutex_unlock(&l->mu);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
