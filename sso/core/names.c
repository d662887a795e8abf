/*
 * names.c: the name service, asked through a short-lived cache.  Every
 * policy check resolves the names it meets (user:NAME, group:NAME, and the
 * caller's own name), and asking NSS each time costs an open, a read and a
 * close of /etc/passwd or /etc/group, or a round trip to SSSD, per check.
 * An answer, found or not found, is kept here for SSO_NAMES_TTL_MS at most
 * (DESIGN 4 allows 2 seconds): a renamed or removed user or group, or a new
 * one, is seen within that bound.  One small cache per thread, so no locks;
 * principal.c is the only user, and the way names are parsed stays there.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "names.h"

#define NAMES_SLOTS 32
#define NAMES_KEY_MAX 300

enum names_kind { NK_USER = 1, NK_GROUP = 2, NK_UID = 3 };

struct names_entry {
	enum names_kind kind;		/* 0: empty */
	unsigned gen;
	uint64_t until_ms;		/* good before this (monotonic) */
	unsigned long id;		/* NK_USER, NK_GROUP: the id; NK_UID: the uid */
	int found;
	char name[NAMES_KEY_MAX];	/* NK_USER, NK_GROUP: the key; NK_UID: the answer */
	unsigned long used;
};

struct names_cache {
	struct names_entry e[NAMES_SLOTS];
	unsigned long tick;
};

static __thread struct names_cache *nc;
static __thread uint64_t horizon = UINT64_MAX;	/* see sso_names_horizon() */
static atomic_uint names_gen = 1;
static atomic_ullong names_asked;
static pthread_key_t names_key;
static pthread_once_t names_once = PTHREAD_ONCE_INIT;
static int names_key_ok;

static void
names_drop(void *arg)
{
	free(arg);
}

static void
names_init(void)
{
	names_key_ok = pthread_key_create(&names_key, names_drop) == 0;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	/* the coarse clock is read without a system call; a tick is a few ms */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* This thread's cache; NULL if there is none (then every answer is asked). */
static struct names_cache *
cache(void)
{
	if (nc != NULL)
		return nc;
	pthread_once(&names_once, names_init);
	if (!names_key_ok || (nc = calloc(1, sizeof(*nc))) == NULL)
		return NULL;
	if (pthread_setspecific(names_key, nc) != 0) {
		free(nc);
		nc = NULL;
	}
	return nc;
}

static struct names_entry *
find(struct names_cache *c, enum names_kind kind, const char *name, unsigned long id)
{
	unsigned gen = atomic_load(&names_gen);
	uint64_t now = now_ms();
	size_t i;

	for (i = 0; i < NAMES_SLOTS; i++) {
		struct names_entry *e = &c->e[i];

		if (e->kind != kind || e->gen != gen || now >= e->until_ms)
			continue;
		if (kind == NK_UID ? e->id == id : strcmp(e->name, name) == 0) {
			e->used = ++c->tick;
			if (e->until_ms < horizon)
				horizon = e->until_ms;
			return e;
		}
	}
	return NULL;
}

static struct names_entry *
slot(struct names_cache *c)
{
	struct names_entry *e = &c->e[0];
	size_t i;

	for (i = 1; i < NAMES_SLOTS; i++)
		if (c->e[i].used < e->used)
			e = &c->e[i];
	memset(e, 0, sizeof(*e));
	return e;
}

static void
keep(struct names_cache *c, enum names_kind kind, const char *name, unsigned long id,
    int found, uint64_t asked_ms)
{
	struct names_entry *e;

	/* an answer not kept is asked again at once: nothing may rest on it */
	if (c == NULL || strlen(name) >= NAMES_KEY_MAX) {
		horizon = 0;
		return;
	}
	if (asked_ms + SSO_NAMES_TTL_MS < horizon)
		horizon = asked_ms + SSO_NAMES_TTL_MS;
	e = slot(c);
	e->kind = kind;
	e->gen = atomic_load(&names_gen);
	/* the bound counts from when NSS was asked, not from when it answered */
	e->until_ms = asked_ms + SSO_NAMES_TTL_MS;
	e->id = id;
	e->found = found;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->used = ++c->tick;
}

static int
ask_user(const char *name, unsigned long *ret)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	atomic_fetch_add(&names_asked, 1);
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return 0;
	*ret = (unsigned long)res->pw_uid;
	return 1;
}

static int
ask_group(const char *name, unsigned long *ret)
{
	struct group gr, *res = NULL;
	char buf[1024], *big = NULL;
	int found;

	atomic_fetch_add(&names_asked, 1);
	/* group entries can be long: retry with a larger buffer once */
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) == ERANGE) {
		if ((big = malloc(1 << 16)) == NULL)
			return 0;
		if (getgrnam_r(name, &gr, big, 1 << 16, &res) != 0)
			res = NULL;
	}
	found = res != NULL;
	if (found)
		*ret = (unsigned long)res->gr_gid;
	free(big);
	return found;
}

static int
ask_uid(uid_t uid, char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	atomic_fetch_add(&names_asked, 1);
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL ||
	    strlen(res->pw_name) >= len)
		return 0;
	snprintf(out, len, "%s", res->pw_name);
	return 1;
}

/* A name's id: from this thread's cache, or asked (and kept, found or not). */
static int
id_of(enum names_kind kind, const char *name, int (*ask)(const char *, unsigned long *),
    unsigned long *ret)
{
	struct names_cache *c = cache();
	struct names_entry *e = c != NULL ? find(c, kind, name, 0) : NULL;
	uint64_t asked = now_ms();
	unsigned long id = 0;
	int found;

	if (e != NULL) {
		if (e->found)
			*ret = e->id;
		return e->found;
	}
	found = ask(name, &id);
	keep(c, kind, name, id, found, asked);
	if (found)
		*ret = id;
	return found;
}

int
sso_names_user(const char *name, uid_t *ret_uid)
{
	unsigned long id;

	if (!id_of(NK_USER, name, ask_user, &id))
		return 0;
	*ret_uid = (uid_t)id;
	return 1;
}

int
sso_names_group(const char *name, gid_t *ret_gid)
{
	unsigned long id;

	if (!id_of(NK_GROUP, name, ask_group, &id))
		return 0;
	*ret_gid = (gid_t)id;
	return 1;
}

int
sso_names_of_uid(uid_t uid, char *out, size_t len)
{
	struct names_cache *c = cache();
	struct names_entry *e = c != NULL ? find(c, NK_UID, NULL, (unsigned long)uid) : NULL;
	uint64_t asked = now_ms();
	char name[NAMES_KEY_MAX];
	int found;

	if (e != NULL) {
		if (!e->found || strlen(e->name) >= len)
			return 0;
		snprintf(out, len, "%s", e->name);
		return 1;
	}
	found = ask_uid(uid, name, sizeof(name));
	keep(c, NK_UID, found ? name : "", (unsigned long)uid, found, asked);
	if (!found || strlen(name) >= len)
		return 0;
	snprintf(out, len, "%s", name);
	return 1;
}

void
sso_names_horizon_start(void)
{
	horizon = UINT64_MAX;
}

void
sso_names_direct(void)
{
	horizon = 0;
}

uint64_t
sso_names_horizon(void)
{
	return horizon;
}

uint64_t
sso_names_now_ms(void)
{
	return now_ms();
}

unsigned
sso_names_generation(void)
{
	return atomic_load(&names_gen);
}

void
sso_names_forget(void)
{
	atomic_fetch_add(&names_gen, 1);
}

unsigned long long
sso_names_asked(void)
{
	return atomic_load(&names_asked);
}
