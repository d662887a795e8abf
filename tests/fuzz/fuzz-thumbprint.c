/*
 * fuzz-thumbprint: vault_thumbprint_normalise() on any bytes (a thumbprint
 * as typed or pasted).  Beyond "no crash", it checks what DESIGN section 3
 * promises: success gives the input's hexadecimal digits, upper-cased and
 * in order, 40 or 64 of them (only spaces, colons and the invisible
 * characters may be dropped, and none of their bytes is a hex digit);
 * normalising the result gives it back; a bare run of 40 or 64 hex digits
 * always succeeds; a failure is SV_ERR_INVALID with a one-line message.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault/cert.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[VAULT_SHA256_HEX + 1], again[VAULT_SHA256_HEX + 1], msg[SV_MSG_MAX];
	char digits[1100];	/* every hex digit of the input (at most 1024 are read) */
	size_t n = 0, n2 = 0, i, len, ndig = 0, other = 0;
	char *in;
	int r;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	len = strlen(in);
	for (i = 0; i < len; i++) {
		if (isxdigit((unsigned char)in[i])) {
			if (ndig < sizeof(digits))
				digits[ndig] = (char)toupper((unsigned char)in[i]);
			ndig++;
		} else {
			other++;
		}
	}
	msg[0] = '\0';
	r = vault_thumbprint_normalise(in, out, &n, msg);
	if (r == 0) {
		FUZZ_CHECK(n == VAULT_SHA1_HEX || n == VAULT_SHA256_HEX,
		    "normalised length %zu", n);
		FUZZ_CHECK(strlen(out) == n, "output length %zu, said %zu", strlen(out), n);
		/* a label before them ("sha1 Fingerprint=") may hold hex letters of its own */
		FUZZ_CHECK(ndig >= n && ndig <= sizeof(digits) && memcmp(out, digits + ndig - n, n) == 0,
		    "output '%s' is not the input's last %zu hex digits upper-cased", out, n);
		FUZZ_CHECK(vault_thumbprint_normalise(out, again, &n2, NULL) == 0 &&
		    n2 == n && strcmp(again, out) == 0, "normalising '%s' again changed it", out);
	} else {
		FUZZ_CHECK(r == SV_ERR_INVALID, "error %d (%s)", r, sv_strerror(r));
		FUZZ_CHECK(msg[0] != '\0', "an error without a message");
		for (i = 0; msg[i] != '\0'; i++)
			FUZZ_CHECK((unsigned char)msg[i] >= 0x20 && msg[i] != 0x7f,
			    "control character in the message");
		FUZZ_CHECK(!(other == 0 && (ndig == VAULT_SHA1_HEX || ndig == VAULT_SHA256_HEX)),
		    "%zu bare hex digits refused: %s", ndig, msg);
	}
	free(in);
	return 0;
}
