/*
 * thumbprint.c: a certificate's thumbprint as people type or paste it,
 * normalised in one place for the service and the sender (thumbprint.h).
 */
#include <string.h>

#include "base/thumbprint.h"

#define THUMB_INPUT_MAX 1024u
/* the one message for every thumbprint that is not one (DESIGN 3) */
#define THUMB_ERROR "expected 40 hexadecimal digits"

static const char hexdigits[] = "0123456789ABCDEF";

int
thumbprint_hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Bytes of an ignorable separator starting at p (0 if none). */
static size_t
thumb_separator(const unsigned char *p)
{
	if (p[0] == ' ' || p[0] == '\t' || p[0] == ':')
		return 1;
	/* U+00A0 no-break space */
	if (p[0] == 0xc2 && p[1] == 0xa0)
		return 2;
	/* U+200E left-to-right mark, U+200F right-to-left mark */
	if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f))
		return 3;
	/* U+FEFF byte order mark / zero-width no-break space */
	if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		return 3;
	return 0;
}

int
vault_thumbprint_normalise(const char *in, char out[THUMBPRINT_SHA256_HEX + 1],
    size_t *ret_len, char *msg)
{
	char tmp[THUMBPRINT_SHA256_HEX + 1];
	const unsigned char *p;
	size_t n = 0, skip;
	int r = SV_ERR_INVALID;

	/*
	 * The input may be anything pasted: never echo it, and bound the scan
	 * before looking (strnlen stops at the cap).  The separator test reads
	 * up to two bytes ahead, which stays inside the string because it
	 * stops at the first byte that does not match, and the NUL never does.
	 */
	if (in == NULL || strnlen(in, THUMB_INPUT_MAX + 1) > THUMB_INPUT_MAX)
		goto out;
	for (p = (const unsigned char *)in; *p != '\0'; ) {
		if ((skip = thumb_separator(p)) > 0) {
			p += skip;
			continue;
		}
		if (thumbprint_hex_value(*p) < 0 || n == THUMBPRINT_SHA256_HEX)
			goto out;
		tmp[n++] = hexdigits[thumbprint_hex_value(*p)];
		p++;
	}
	if (n != THUMBPRINT_SHA1_HEX && n != THUMBPRINT_SHA256_HEX)
		goto out;
	tmp[n] = '\0';
	memcpy(out, tmp, n + 1);
	*ret_len = n;
	r = 0;
 out:
	if (r != 0)
		sv_fail(msg, r, "%s", THUMB_ERROR);
	return r;
}

