/*
 * accounts.c: ENTSSO accounts (CONTOSO\jdoe, "CONTOSO\Domain Users") made
 * into principals the way this host names them (docs/apps.md, "Accounts").
 * A Linux host joined to Active Directory shows the same account as "jdoe"
 * (SSSD, short names), "jdoe@contoso.com" (SSSD, fully qualified) or
 * "CONTOSO\jdoe" (winbind); the importer says which, an account map renames
 * what is left, and the name service says whether it is a user or a group.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import.h"

#define NSS_BUF_MAX (1u << 20)
#define NAME_MAX_LEN (SSO_PRINCIPAL_MAX - 8)	/* sso_name_ok() checked it */

/* An NSS entry: its name as the name service writes it, and its ids. */
struct nss_entry {
	int found;
	char name[SSO_PRINCIPAL_MAX];
	unsigned long id;	/* uid or gid */
	unsigned long gid;	/* a user's primary group */
	int private_of;		/* a group whose only member (if any) is name */
};

/*
 * getpwnam_r (group 0, ent a struct passwd) or getgrnam_r (group 1, a struct
 * group) with a buffer that grows while the entry does not fit; the entry,
 * or NULL.  *ret_buf holds its strings: free() it.
 */
static void *
nss_get(int group, const char *name, void *ent, char **ret_buf)
{
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	size_t cap = 1024;
	char *buf = NULL, *nb;
	int e;

	for (;;) {
		if ((nb = realloc(buf, cap)) == NULL)
			break;
		buf = nb;
		e = group ? getgrnam_r(name, ent, buf, cap, &gr) : getpwnam_r(name, ent, buf, cap, &pw);
		if (e != ERANGE || cap >= NSS_BUF_MAX)
			break;
		cap *= 4;
	}
	*ret_buf = buf;
	return buf == NULL ? NULL : group ? (void *)gr : (void *)pw;
}

static void
nss_user(const char *name, struct nss_entry *ret)
{
	struct passwd pw, *res;
	char *buf = NULL;

	memset(ret, 0, sizeof(*ret));
	res = nss_get(0, name, &pw, &buf);
	if (res != NULL && sso_name_ok(res->pw_name, SSO_PRINCIPAL_MAX - 8)) {
		ret->found = 1;
		snprintf(ret->name, sizeof(ret->name), "%s", res->pw_name);
		ret->id = (unsigned long)res->pw_uid;
		ret->gid = (unsigned long)res->pw_gid;
	}
	free(buf);
}

/* user: the user of that name, to tell a private group (its own) from a shared one. */
static void
nss_group(const char *name, const struct nss_entry *user, struct nss_entry *ret)
{
	struct group gr, *res;
	char *buf = NULL;
	size_t i;

	memset(ret, 0, sizeof(*ret));
	res = nss_get(1, name, &gr, &buf);
	if (res != NULL && sso_name_ok(res->gr_name, SSO_PRINCIPAL_MAX - 8)) {
		ret->found = 1;
		snprintf(ret->name, sizeof(ret->name), "%s", res->gr_name);
		ret->id = (unsigned long)res->gr_gid;
		ret->private_of = user->found && user->gid == ret->id;
		for (i = 0; ret->private_of && res->gr_mem[i] != NULL; i++)
			if (strcmp(res->gr_mem[i], user->name) != 0)
				ret->private_of = 0;
	}
	free(buf);
}

/* A map entry for key (any case), or NULL. */
static const char *
map_get(struct import *im, const char *key)
{
	const char *k;
	json_t *v;

	json_object_foreach(im->map, k, v)
		if (strcasecmp(k, key) == 0 && json_is_string(v))
			return json_string_value(v);
	return NULL;
}

static int
has_kind(const char *s)
{
	static const char *const kinds[] = { "user:", "group:", "uid:", "gid:" };
	size_t i;

	for (i = 0; i < 4; i++)
		if (strncasecmp(s, kinds[i], strlen(kinds[i])) == 0)
			return 1;
	return 0;
}

/* name as the host writes it: account is DOMAIN\name or a bare name. */
static void
host_name(struct import *im, const char *account, char *out, size_t len)
{
	const char *bs = strchr(account, '\\'), *dom;
	char key[SSO_PRINCIPAL_MAX + 4];

	if (bs == NULL || im->accounts == ACCOUNTS_DOMAIN_NAME) {
		snprintf(out, len, "%s", account);
		return;
	}
	if (im->accounts == ACCOUNTS_NAME) {
		snprintf(out, len, "%s", bs + 1);
		return;
	}
	/* name@domain: the map may say what the NetBIOS domain is called here */
	snprintf(key, sizeof(key), "%.*s\\*", (int)(bs - account), account);
	if ((dom = map_get(im, key)) != NULL)
		snprintf(out, len, "%s@%s", bs + 1, dom);
	else
		snprintf(out, len, "%s@%.*s", bs + 1, (int)(bs - account), account);
}

int
import_account(struct import *im, long line, const char *acct, const char *kind,
    char out[SSO_PRINCIPAL_MAX])
{
	char name[SSO_PRINCIPAL_MAX], p[SSO_PRINCIPAL_MAX + 16];
	struct nss_entry u, g;
	const char *mapped, *bs, *took;

	if ((mapped = map_get(im, acct)) == NULL && (bs = strchr(acct, '\\')) != NULL)
		mapped = map_get(im, bs + 1);
	if (mapped != NULL || has_kind(acct)) {
		if (sso_principal_check(mapped != NULL ? mapped : acct, out, im->x->msg) != 0)
			return sv_fail(im->x->msg, SV_ERR_INVALID,
			    "account '%.64s'%s is not a valid principal: expected user:NAME, "
			    "group:NAME, uid:N or gid:N", mapped != NULL ? mapped : acct,
			    mapped != NULL ? " (from the account map)" : "");
		snprintf(name, sizeof(name), "%s", strchr(out, ':') + 1);
		if (strncmp(out, "user:", 5) == 0)
			nss_user(name, &u);
		else if (strncmp(out, "group:", 6) == 0)
			nss_group(name, &(struct nss_entry){ 0 }, &u);
		else
			return 0;
		if (!u.found)
			import_warn(im, line, "%s names nothing on this host: kept as it is (line %ld)",
			    out, line);
		return 0;
	}
	host_name(im, acct, name, sizeof(name));
	if (!sso_name_ok(name, SSO_PRINCIPAL_MAX - 8))
		return sv_fail(im->x->msg, SV_ERR_INVALID,
		    "account '%.64s' does not make a valid principal name (1 to %d bytes of UTF-8 "
		    "without control characters)", acct, SSO_PRINCIPAL_MAX - 8);
	nss_user(name, &u);
	nss_group(name, &u, &g);
	if (kind == NULL) {
		/* an app account: a person, or a group of them */
		if (u.found && (!g.found || g.private_of)) {
			snprintf(out, SSO_PRINCIPAL_MAX, "user:%.*s", NAME_MAX_LEN, u.name);
			return 0;
		}
		if (g.found) {
			if (u.found)
				import_warn(im, line,
				    "account '%s' names both a user and a group on this host: took "
				    "group:%s (an --account-map entry chooses) (line %ld)", acct, g.name,
				    line);
			snprintf(out, SSO_PRINCIPAL_MAX, "group:%.*s", NAME_MAX_LEN, g.name);
			return 0;
		}
		kind = "group";		/* ENTSSO's app accounts are groups */
	} else if (strcmp(kind, "user") == 0 ? u.found : g.found) {
		snprintf(out, SSO_PRINCIPAL_MAX, "%s:%.*s", kind, NAME_MAX_LEN,
		    strcmp(kind, "user") == 0 ? u.name : g.name);
		return 0;
	}
	snprintf(p, sizeof(p), "%s:%s", kind, name);
	if (sso_principal_check(p, out, im->x->msg) != 0)
		return SV_ERR_INVALID;
	took = strcmp(acct, name) == 0 ? "" : " (looked up as '";
	import_warn(im, line, "account '%s'%s%s%s names no %s on this host: imported as %s "
	    "(line %ld)", acct, took, *took != '\0' ? name : "", *took != '\0' ? "')" : "",
	    kind, out, line);
	return 0;
}
