/*
 * libload.c: open a shared library at its first use and find the
 * functions a loader file forwards to (base/libload.h).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "base/libload.h"

/* one lock for every library: each is opened once, and rarely */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void
lib_open(struct libload *l)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	const char *e;
	size_t i;

	if (h == NULL) {
		e = dlerror();
		snprintf(l->why, sizeof(l->why), "%s", e != NULL ? e : "not found");
		l->missing = l->why;
		return;
	}
	for (i = 0; i < l->nsyms; i++)
		if ((*l->syms[i].slot = dlsym(h, l->syms[i].name)) == NULL) {
			snprintf(l->why, sizeof(l->why), "%s has no %s: too old?", l->soname,
			    l->syms[i].name);
			l->missing = l->why;
			return;	/* h stays open: harmless, and the slots are never used */
		}
	l->handle = h;
	l->missing = NULL;
}

int
libload_ready(struct libload *l)
{
	if (!__atomic_load_n(&l->done, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&mu);
		if (!l->done) {
			lib_open(l);
			__atomic_store_n(&l->done, 1, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&mu);
	}
	return l->missing == NULL;
}

int
libload_need(struct libload *l, char *msg)
{
	if (libload_ready(l))
		return 0;
	return sv_fail(msg, l->err, "%s could not be loaded (%s): install %s", l->what,
	    l->missing, l->package);
}

void *
libload_data(struct libload *l, const char *name)
{
	return libload_ready(l) ? dlsym(l->handle, name) : NULL;
}
