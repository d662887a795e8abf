/*
 * thumbprint.c: a certificate's thumbprint as people type or paste it,
 * normalised in one place for the service and the sender (thumbprint.h).
 */
#include <string.h>
#include <strings.h>

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

/*
 * The length of a label that openssl and other tools print before the
 * digits ("sha1 Fingerprint=", "SHA256 Fingerprint=", "Thumbprint:"), or 0.
 */
static size_t
thumb_label(const char *in)
{
	static const char *const labels[] = { "sha1 fingerprint=", "sha256 fingerprint=",
	    "sha-1 fingerprint=", "sha-256 fingerprint=", "thumbprint:", "thumbprint=", NULL };
	size_t i, n;

	for (i = 0; labels[i] != NULL; i++) {
		n = strlen(labels[i]);
		if (strncasecmp(in, labels[i], n) == 0)
			return n;
	}
	return 0;
}

/* 1 if s is short printable ASCII: what a person typed, safe to say back. */
static int
thumb_echoable(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i == 80 || (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ||
		    s[i] == '\'')
			return 0;
	return 1;
}

int
vault_thumbprint_normalise(const char *in, char out[THUMBPRINT_SHA256_HEX + 1],
    size_t *ret_len, char *msg)
{
	char tmp[THUMBPRINT_SHA256_HEX + 1];
	const unsigned char *p;
	const char *given = in;
	size_t n = 0, skip;
	int r = SV_ERR_INVALID;

	/*
	 * The input may be anything pasted: echo it only when it is short
	 * printable text (thumb_echoable), and bound the scan before looking (strnlen stops at the cap).  The separator test reads
	 * up to two bytes ahead, which stays inside the string because it
	 * stops at the first byte that does not match, and the NUL never does.
	 */
	if (in == NULL || strnlen(in, THUMB_INPUT_MAX + 1) > THUMB_INPUT_MAX)
		goto out;
	in += thumb_label(in);
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
	/* what was read, when it is short printable text; never binary or long input */
	if (r != 0 && given != NULL && *given != '\0' && thumb_echoable(given))
		sv_fail(msg, r, "%s, not '%s'", THUMB_ERROR, given);
	else if (r != 0)
		sv_fail(msg, r, "%s", THUMB_ERROR);
	return r;
}

