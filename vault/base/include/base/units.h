/*
 * units: numbers with units as people type and read them, parsed and
 * printed in one place for the whole tree: the CLI's and the sender's
 * options, ssovaultd's limits, and the times that replies show.
 *
 * Parsers take digits only (at most 18, no sign, no spaces) with an
 * optional one-letter unit, and return 0 with *ret set, or SV_ERR_INVALID
 * (nothing set) for anything else or a value over max.
 */
#ifndef SSOVAULT_UNITS_H
#define SSOVAULT_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "ssovault/sverr.h"

/* A plain count: "123". */
int units_parse_uint(const char *s, unsigned long long max, unsigned long long *ret) SV_WUR;
/* Bytes: "4096", "64K", "16m", "1G" (K, M, G: powers of 1024, either case). */
int units_parse_size(const char *s, unsigned long long max, unsigned long long *ret) SV_WUR;
/* Seconds: "30", "30s", "5m", "1h". */
int units_parse_duration(const char *s, unsigned long long max, unsigned long long *ret) SV_WUR;

/* Unix seconds as "2026-01-31T12:00:00Z" (UTC); the number itself if out of range. */
#define UNITS_TIME_STR 32
void units_iso_time(int64_t t, char out[UNITS_TIME_STR]);

#endif
