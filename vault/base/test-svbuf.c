/* Unit tests of the bounded buffer: every getter on short, exact and long input. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/svbuf.h"
#include "tap.h"

static void
test_roundtrip(void)
{
	struct svbuf *b = svbuf_new(0);
	uint8_t u8;
	uint32_t u32;
	uint64_t u64;
	char *s = NULL;
	const uint8_t *p;
	size_t n;

	ok(b != NULL, "new");
	ok(svbuf_put_u8(b, 7) == 0 && svbuf_put_u32(b, 0xdeadbeef) == 0 &&
	    svbuf_put_u64(b, 0x0102030405060708ULL) == 0 &&
	    svbuf_put_cstring(b, "hello") == 0 &&
	    svbuf_put_string(b, "\0x", 2) == 0, "puts");
	is_int(svbuf_len(b), 1 + 4 + 8 + 4 + 5 + 4 + 2, "length of encoding");
	ok(memcmp(svbuf_ptr(b), "\x07\xde\xad\xbe\xef\x01\x02\x03\x04\x05\x06\x07\x08\x00\x00\x00\x05hello", 22) == 0,
	    "known-answer encoding (big-endian, u32 length prefix)");
	ok(svbuf_get_u8(b, &u8) == 0 && u8 == 7, "get u8");
	ok(svbuf_get_u32(b, &u32) == 0 && u32 == 0xdeadbeef, "get u32");
	ok(svbuf_get_u64(b, &u64) == 0 && u64 == 0x0102030405060708ULL, "get u64");
	ok(svbuf_get_cstring(b, &s) == 0 && strcmp(s, "hello") == 0, "get cstring");
	free(s);
	n = svbuf_len(b);
	is_int(svbuf_get_cstring(b, &s), SV_ERR_INVALID, "embedded NUL refused");
	is_int(svbuf_len(b), n, "refused string consumed nothing");
	ok(svbuf_get_string_direct(b, &p, &n) == 0 && n == 2 && p[1] == 'x', "get string direct");
	is_int(svbuf_expect_end(b), 0, "nothing left");
	svbuf_free(b);
}

static void
test_truncated(void)
{
	static const struct {
		const char *what;
		const char *bytes;
		size_t len;
	} cases[] = {
		{ "empty", "", 0 },
		{ "one length byte", "\x00", 1 },
		{ "three length bytes", "\x00\x00\x00", 3 },
		{ "length 5, 4 bytes", "\x00\x00\x00\x05" "abcd", 8 },
		{ "length 2^32-1", "\xff\xff\xff\xff" "ab", 6 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct svbuf *b = svbuf_from(cases[i].bytes, cases[i].len);
		const uint8_t *p;
		size_t n;
		uint32_t u;
		uint64_t q;

		is_int(svbuf_get_string_direct(b, &p, &n), SV_ERR_TRUNCATED, "string: %s", cases[i].what);
		is_int(svbuf_len(b), cases[i].len, "string: %s: nothing consumed", cases[i].what);
		if (cases[i].len < 4)
			is_int(svbuf_get_u32(b, &u), SV_ERR_TRUNCATED, "u32: %s", cases[i].what);
		if (cases[i].len < 8)
			is_int(svbuf_get_u64(b, &q), SV_ERR_TRUNCATED, "u64: %s", cases[i].what);
		svbuf_free(b);
	}
}

static void
test_limits(void)
{
	struct svbuf *b = svbuf_new(10);
	struct svbuf *s = svbuf_new_secure(64);
	uint8_t big[11] = { 0 };
	int v;
	int i, r = 0;

	is_int(svbuf_put(b, big, 11), SV_ERR_TOO_LARGE, "over max refused");
	is_int(svbuf_len(b), 0, "refused put left buffer empty");
	is_int(svbuf_put(b, big, 10), 0, "exactly max accepted");
	is_int(svbuf_put_u8(b, 1), SV_ERR_TOO_LARGE, "one more refused");
	ok(svbuf_consume(b, 6) == 0 && svbuf_put(b, big, 6) == 0, "consumed space is reused");
	is_int(svbuf_consume(b, 11), SV_ERR_TRUNCATED, "consume past end refused");
	svbuf_reset(b);
	ok(svbuf_put_u8(b, 2) == 0 && svbuf_get_bool(b, &v) == SV_ERR_INVALID, "bool other than 0/1 refused");
	for (i = 0; i < 16 && r == 0; i++)
		r = svbuf_put_u32(s, (uint32_t)i);
	is_int(r, 0, "secure buffer grows");
	is_int(svbuf_len(s), 64, "secure buffer holds 64 bytes");
	svbuf_free(b);
	svbuf_free(s);
	svbuf_free(NULL);
}

/* A reservation a short read did not fill is given back, wiped. */
static void
test_unreserve(void)
{
	struct svbuf *b = svbuf_new_secure(0);
	uint8_t *p;

	ok(svbuf_put(b, "ab", 2) == 0 && svbuf_reserve(b, 10, &p) == 0, "reserve 10 after 2 bytes");
	memcpy(p, "cdXXXXXXXX", 10);
	is_int(svbuf_unreserve(b, 8), 0, "give back the 8 not filled");
	ok(svbuf_len(b) == 4 && memcmp(svbuf_ptr(b), "abcd", 4) == 0, "the filled bytes stay");
	ok(p[2] == 0 && p[9] == 0, "the given-back bytes are wiped");
	is_int(svbuf_unreserve(b, 5), SV_ERR_TRUNCATED, "more than is there: refused");
	is_int(svbuf_len(b), 4, "... and nothing changed");
	ok(svbuf_put(b, "e", 1) == 0 && memcmp(svbuf_ptr(b), "abcde", 5) == 0, "appending goes on after");
	svbuf_free(b);
}

/* An empty frame reserves nothing in a buffer that has no storage yet. */
static void
test_reserve_nothing(void)
{
	struct svbuf *b = svbuf_new_secure(1024);
	uint8_t *p = NULL;

	is_int(svbuf_reserve(b, 0, &p), 0, "reserve 0 bytes in a fresh buffer");
	ok(p != NULL, "... gives a pointer (not NULL + 0, which is undefined)");
	is_int(svbuf_len(b), 0, "... and the buffer stays empty");
	ok(svbuf_put(b, "ab", 2) == 0 && memcmp(svbuf_ptr(b), "ab", 2) == 0, "writing goes on after");
	svbuf_free(b);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_roundtrip();
	test_truncated();
	test_limits();
	test_unreserve();
	test_reserve_nothing();
	return done_testing();
}
