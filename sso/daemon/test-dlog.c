/*
 * Unit tests of ssovaultd's log lines (dlog.h): a table of inputs that must
 * come out as one printable line (controls, invalid UTF-8, C1 controls,
 * line separators, bidi marks, a forged newline), the cut of long lines,
 * and the rate limit per uid and kind of event with its summaries, driven by
 * a fake clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlog.h"
#include "tap.h"

#define MAXLINES 2048

static char lines[MAXLINES][SSO_DLOG_LINE_MAX];
static int nlines;

static void
sink(void *ctx, const char *line)
{
	(void)ctx;
	if (nlines < MAXLINES)
		snprintf(lines[nlines], sizeof(lines[nlines]), "%s", line);
	nlines++;
}

static int
count(const char *part)
{
	int i, n = 0;

	for (i = 0; i < nlines && i < MAXLINES; i++)
		if (strstr(lines[i], part) != NULL)
			n++;
	return n;
}

static void
test_escape(void)
{
	static const struct {
		const char *what, *in, *out;
	} cases[] = {
		{ "plain text", "vault unlocked by uid 0", "vault unlocked by uid 0" },
		{ "a forged newline", "/tmp/x\nvault locked by uid 0", "/tmp/x\\x0avault locked by uid 0" },
		{ "CR, tab, ESC, DEL", "a\rb\tc\x1b[2Jd\x7f", "a\\x0db\\x09c\\x1b[2Jd\\x7f" },
		{ "a backslash", "a\\x0a", "a\\\\x0a" },
		{ "UTF-8 is kept", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91" },
		{ "a stray byte", "a\xff" "b", "a\\xffb" },
		{ "a cut sequence", "a\xe2\x82", "a\\xe2\\x82" },
		{ "an overlong NUL", "a\xc0\x80" "b", "a\\xc0\\x80b" },
		{ "a surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80" },
		{ "a C1 control (U+009B)", "a\xc2\x9b" "b", "a\\xc2\\x9bb" },
		{ "the line separator", "a\xe2\x80\xa8" "b", "a\\xe2\\x80\\xa8b" },
		{ "a right-to-left override", "a\xe2\x80\xae" "b", "a\\xe2\\x80\\xaeb" },
	};
	char out[SSO_DLOG_LINE_MAX], big[2000], small[16];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = sso_dlog_escape(cases[i].in, out, sizeof(out));
		is_str(out, cases[i].out, "escape: %s", cases[i].what);
		is_int(n, strlen(cases[i].out), "escape: %s: length", cases[i].what);
	}
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = sso_dlog_escape(big, out, sizeof(out));
	ok(n < sizeof(out) && strlen(out) == n, "a long line is cut to the buffer");
	ok(n >= 3 && strcmp(out + n - 3, "...") == 0, "... and ends with ...");
	ok(strchr(out, '\n') == NULL, "... holding no newline");
	sso_dlog_escape("abcd\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", small, sizeof(small));
	ok(strlen(small) < sizeof(small) && strstr(small, "...") != NULL &&
	    strstr(small, "\xc3...") == NULL, "a cut never splits a character: %s", small);
}

static void
test_rate(void)
{
	struct sso_dlog *l = NULL;
	uint64_t t = 5000;
	int i;

	ok(sso_dlog_new(sink, NULL, 3, 10000, &l) == 0, "rate: new, 3 lines per 10 s");
	for (i = 0; i < 100; i++)
		sso_dlog_event(l, 1001, t, "protocol error", "unknown operation 7",
		    "protocol error from uid 1001: unknown operation %d", i);
	is_int(nlines, 3, "100 events of one kind: 3 lines");
	sso_dlog_event(l, 1001, t, "protocol error", "unknown operation 99999", "x");
	is_int(nlines, 3, "the digits of the detail do not make a new kind");
	sso_dlog_event(l, 1001, t, "protocol error", "empty request", "protocol error from uid 1001: empty");
	is_int(nlines, 4, "another detail is another kind: written");
	sso_dlog_event(l, 1002, t, "protocol error", "unknown operation 7", "from uid 1002");
	is_int(nlines, 5, "another uid is not held back by 1001");
	sso_dlog_line(l, "vault locked by uid 0 (pid 1, /usr/bin/ssovault)");
	is_int(nlines, 6, "the daemon's own lines are never held back");
	sso_dlog_tick(l, t + 9999);
	is_int(nlines, 6, "no summary before the interval ends");
	sso_dlog_tick(l, t + 10000);
	is_int(nlines, 7, "one summary when it ends");
	is_int(count("held back 98 more 'protocol error' lines about uid 1001 in 10 s"), 1,
	    "... counting what was held back: %s", lines[6]);
	sso_dlog_tick(l, t + 20000);
	is_int(nlines, 7, "nothing held back: no summary");
	for (i = 0; i < 5; i++)
		sso_dlog_event(l, 1001, t + 20000, "protocol error", "unknown operation 7", "again %d", i);
	is_int(nlines, 10, "a new interval writes the first 3 again");
	sso_dlog_line(l, "a\nb");
	is_int(count("a\\x0ab"), 1, "plain lines are escaped too");
	sso_dlog_free(l);
	is_int(count("held back 2 more 'protocol error' lines about uid 1001"), 1,
	    "free writes what is still held back");
}

static void
test_overflow(void)
{
	struct sso_dlog *l = NULL;
	uid_t u;

	nlines = 0;
	ok(sso_dlog_new(sink, NULL, 1, 10000, &l) == 0, "overflow: new, 1 line per 10 s");
	for (u = 0; u < SSO_DLOG_SLOTS; u++)
		sso_dlog_event(l, 2000 + u, 100, "connection refused", NULL, "uid %u", (unsigned)u);
	is_int(nlines, SSO_DLOG_SLOTS, "%d uids: a line each", SSO_DLOG_SLOTS);
	for (u = 0; u < 1000; u++)
		sso_dlog_event(l, 9000 + u, 100, "connection refused", NULL, "more %u", (unsigned)u);
	is_int(nlines, SSO_DLOG_SLOTS + 1, "1000 more uids while the table is full: one line");
	sso_dlog_tick(l, 10100);
	is_int(count("held back 999 more log lines of other uids and events"), 1,
	    "... and one summary for all of them");
	for (u = 0; u < 5; u++)
		sso_dlog_event(l, 7000 + u, 20100 + 1, "x", NULL, "after %u", (unsigned)u);
	is_int(count("after "), 5, "quiet pairs make room again");
	sso_dlog_free(l);
	sso_dlog_free(NULL);
}

int
main(void)
{
	test_escape();
	test_rate();
	test_overflow();
	return done_testing();
}
