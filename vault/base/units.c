/*
 * units.c: the one parser of counts, sizes and durations, and the one
 * printer of times (units.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/units.h"

int
units_parse_uint(const char *s, unsigned long long max, unsigned long long *ret)
{
	unsigned long long v = 0;
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 18)
		return SV_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SV_ERR_INVALID;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > max)
		return SV_ERR_INVALID;
	*ret = v;
	return 0;
}

/* digits with an optional unit letter of units, worth mult[its index] */
static int
parse_suffixed(const char *s, const char *units, const unsigned long long *mult,
    unsigned long long max, unsigned long long *ret)
{
	char num[24];
	size_t n = s != NULL ? strlen(s) : 0;
	unsigned long long m = 1, v;
	const char *u;

	if (n == 0 || n >= sizeof(num))
		return SV_ERR_INVALID;
	memcpy(num, s, n + 1);
	if (num[n - 1] < '0' || num[n - 1] > '9') {
		if ((u = strchr(units, num[n - 1])) == NULL)
			return SV_ERR_INVALID;
		m = mult[u - units];
		num[n - 1] = '\0';
	}
	if (units_parse_uint(num, max / m, &v) != 0)
		return SV_ERR_INVALID;
	*ret = v * m;
	return 0;
}

int
units_parse_size(const char *s, unsigned long long max, unsigned long long *ret)
{
	static const unsigned long long mult[] = { 1024, 1024, 1048576, 1048576,
	    1073741824, 1073741824 };

	return parse_suffixed(s, "KkMmGg", mult, max, ret);
}

int
units_parse_duration(const char *s, unsigned long long max, unsigned long long *ret)
{
	static const unsigned long long mult[] = { 1, 60, 3600 };

	return parse_suffixed(s, "smh", mult, max, ret);
}

void
units_iso_time(int64_t t, char out[UNITS_TIME_STR])
{
	time_t secs = (time_t)t;
	struct tm tm;

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(out, UNITS_TIME_STR, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, UNITS_TIME_STR, "%lld", (long long)t);
}
