/*
 * thumbprint: certificate thumbprints as typed or pasted (DESIGN 3), for
 * every layer that takes one: the service (vault/cert.c, sso/ops/cert.c)
 * and the sender's --cert.
 */
#ifndef SSOVAULT_THUMBPRINT_H
#define SSOVAULT_THUMBPRINT_H

#include <stddef.h>

#include "ssovault/sverr.h"

#define THUMBPRINT_SHA1_HEX 40
#define THUMBPRINT_SHA256_HEX 64

/*
 * Normalise a thumbprint as typed or pasted: drop case, spaces, colons and
 * the invisible U+200E, U+200F, U+FEFF and U+00A0; the rest must be 40 (SHA-1)
 * or 64 (SHA-256) hexadecimal digits, else SV_ERR_INVALID with the message
 * "expected 40 hexadecimal digits".  out receives upper-case hex;
 * *ret_len is 40 or 64.
 */
int vault_thumbprint_normalise(const char *in, char out[THUMBPRINT_SHA256_HEX + 1],
    size_t *ret_len, char *msg) SV_WUR;

/* The value of a hexadecimal digit (either case), or -1. */
int thumbprint_hex_value(unsigned char ch);

#endif
