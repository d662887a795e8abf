/*
 * Principals and callers.  A principal names a local identity the way an
 * admin writes it ("user:alice", "group:ops", "uid:1001", "gid:50"); a caller
 * is what the kernel says about a process.  Names are resolved through NSS
 * at check time, as DESIGN section 4 asks, so a group change takes effect
 * without touching the vault.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sso.h"
#include "names.h"

int
sso_caller_self(struct sso_caller *ret)
{
	struct sso_caller c;
	int n;
	ssize_t len;

	memset(&c, 0, sizeof(c));
	c.uid = geteuid();
	c.gid = getegid();
	c.pid = getpid();
	n = getgroups(SSO_MAX_GROUPS, c.groups);
	if (n < 0)
		return SV_ERR_INTERNAL;
	c.ngroups = (size_t)n;
	len = readlink("/proc/self/exe", c.exe, sizeof(c.exe) - 1);
	c.exe[len > 0 ? len : 0] = '\0';
	*ret = c;
	return 0;
}

/*
 * A NAME as the name service gives it (DESIGN 4): on hosts joined to Active
 * Directory that includes spaces, '@', '\\' and non-ASCII letters.  Only
 * what cannot be printed on one line or stored as text is refused: invalid
 * UTF-8 (overlong forms, surrogates, beyond U+10FFFF), C0 and C1 control
 * characters and DEL.
 */
int
sso_name_ok(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, len, k;
	uint32_t cp;

	if (n == 0 || n > max)
		return 0;
	while (i < n) {
		if (p[i] < 0x80) {
			if (p[i] < 0x20 || p[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			len = 2;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			len = 3;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			len = 4;
			cp = p[i] & 0x07;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += len;
	}
	return 1;
}

static int
parse_id(const char *s, unsigned long *ret)
{
	unsigned long v = 0;
	const char *p;

	if (*s == '\0' || strlen(s) > 10)
		return SV_ERR_INVALID;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return SV_ERR_INVALID;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v >= 4294967295UL)	/* (uid_t)-1 is "no id" */
		return SV_ERR_INVALID;
	*ret = v;
	return 0;
}

int
sso_principal_check(const char *in, char *out, char *msg)
{
	static const char *const kinds[] = { "user", "group", "uid", "gid" };
	const char *colon;
	size_t i, klen;
	unsigned long id;

	if (in == NULL || (colon = strchr(in, ':')) == NULL)
		goto bad;
	klen = (size_t)(colon - in);
	for (i = 0; i < 4; i++) {
		if (strlen(kinds[i]) == klen && strncasecmp(in, kinds[i], klen) == 0)
			break;
	}
	if (i == 4)
		goto bad;
	if (i >= 2) {
		if (parse_id(colon + 1, &id) != 0)
			goto bad;
		snprintf(out, SSO_PRINCIPAL_MAX, "%s:%lu", kinds[i], id);
		return 0;
	}
	if (!sso_name_ok(colon + 1, SSO_PRINCIPAL_MAX - 8))
		return sv_fail(msg, SV_ERR_INVALID,
		    "invalid principal: the name after '%s:' must be 1 to %d bytes of UTF-8 "
		    "without control characters", kinds[i], SSO_PRINCIPAL_MAX - 8);
	snprintf(out, SSO_PRINCIPAL_MAX, "%s:%s", kinds[i], colon + 1);
	return 0;
bad:
	return sv_fail(msg, SV_ERR_INVALID,
	    "invalid principal: expected user:NAME, group:NAME, uid:N or gid:N");
}

static int
in_groups(gid_t g, const struct sso_caller *c)
{
	size_t i;

	if (c->gid == g)
		return 1;
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i] == g)
			return 1;
	return 0;
}

int
sso_principal_match(const char *p, const struct sso_caller *c)
{
	unsigned long id;

	if (strncmp(p, "uid:", 4) == 0)
		return parse_id(p + 4, &id) == 0 && (uid_t)id == c->uid;
	if (strncmp(p, "gid:", 4) == 0)
		return parse_id(p + 4, &id) == 0 && in_groups((gid_t)id, c);
	/* names through the cache (names.c): at most SSO_NAMES_TTL_MS old */
	if (strncmp(p, "user:", 5) == 0) {
		uid_t u;

		return sso_names_user(p + 5, &u) && u == c->uid;
	}
	if (strncmp(p, "group:", 6) == 0) {
		gid_t g;

		return sso_names_group(p + 6, &g) && in_groups(g, c);
	}
	return 0;
}

int
sso_principal_match_any(json_t *arr, const struct sso_caller *c)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return 0;
	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && sso_principal_match(json_string_value(v), c))
			return 1;
	}
	return 0;
}

void
sso_principal_of(const struct sso_caller *c, char *out)
{
	char name[SSO_PRINCIPAL_MAX - 8];

	if (sso_names_of_uid(c->uid, name, sizeof(name)) &&
	    sso_name_ok(name, SSO_PRINCIPAL_MAX - 8))
		snprintf(out, SSO_PRINCIPAL_MAX, "user:%s", name);
	else
		snprintf(out, SSO_PRINCIPAL_MAX, "uid:%lu", (unsigned long)c->uid);
}

void
sso_caller_describe(const struct sso_caller *c, char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	/* the name too, where this host has one that fits: "uid 1007 (bob)" */
	sso_names_direct();
	if (getpwuid_r(c->uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL &&
	    sso_name_ok(res->pw_name, 40))
		snprintf(out, len, "uid %lu (%s)", (unsigned long)c->uid, res->pw_name);
	else
		snprintf(out, len, "uid %lu", (unsigned long)c->uid);
}

int
sso_principal_alias(const char *p, char *out)
{
	unsigned long id;

	/* users and groups by name through the cache (names.c), as checks see them */
	if (strncmp(p, "uid:", 4) == 0 && parse_id(p + 4, &id) == 0) {
		char name[SSO_PRINCIPAL_MAX - 8];

		if (!sso_names_of_uid((uid_t)id, name, sizeof(name)) ||
		    !sso_name_ok(name, SSO_PRINCIPAL_MAX - 8))
			return SV_ERR_NOT_FOUND;
		snprintf(out, SSO_PRINCIPAL_MAX, "user:%s", name);
		return 0;
	}
	if (strncmp(p, "user:", 5) == 0) {
		uid_t u;

		if (!sso_names_user(p + 5, &u))
			return SV_ERR_NOT_FOUND;
		snprintf(out, SSO_PRINCIPAL_MAX, "uid:%lu", (unsigned long)u);
		return 0;
	}
	if (strncmp(p, "gid:", 4) == 0 && parse_id(p + 4, &id) == 0) {
		struct group gr, *res = NULL;
		char big[1 << 14];

		sso_names_direct();
		if (getgrgid_r((gid_t)id, &gr, big, sizeof(big), &res) != 0 || res == NULL ||
		    !sso_name_ok(res->gr_name, SSO_PRINCIPAL_MAX - 8))
			return SV_ERR_NOT_FOUND;
		snprintf(out, SSO_PRINCIPAL_MAX, "group:%s", res->gr_name);
		return 0;
	}
	if (strncmp(p, "group:", 6) == 0) {
		gid_t g;

		if (!sso_names_group(p + 6, &g))
			return SV_ERR_NOT_FOUND;
		snprintf(out, SSO_PRINCIPAL_MAX, "gid:%lu", (unsigned long)g);
		return 0;
	}
	return SV_ERR_NOT_FOUND;
}
