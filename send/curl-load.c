/*
 * libcurl, loaded when the sender first calls it.
 *
 * libcurl brings in some thirty shared libraries (TLS, Kerberos, LDAP,
 * SSH, IDN, ...), and binding them was most of the start-up of every
 * `ssovault` process, a `creds get` through ssovaultd included: about 6 ms
 * of CPU on the development VM, against a target of 5 ms for the whole
 * command (issue 15; docs/decisions.md, "The CLI loads libcurl for send
 * only").  The send room is therefore built against libcurl's headers only,
 * and this file defines the libcurl functions it calls: the first call
 * opens the same library the linker would have named (SEND_CURL_SONAME,
 * the shared object's name from the build, found through the same loader
 * paths as a linked library) and every call goes to it.
 *
 * If it cannot be loaded, the functions fail as libcurl fails (NULL, an
 * error code), and send_curl_need() says why, for the error message.
 * Only the functions the send room calls are here; a new one is added
 * below, or the link fails (nothing links libcurl itself).
 */
#define CURL_DISABLE_TYPECHECK 1	/* curl_easy_setopt is a function here */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <curl/curl.h>

#include "ssovault/sverr.h"
#include "curl-load.h"

#ifndef SEND_CURL_SONAME
#define SEND_CURL_SONAME "libcurl.so.4"
#endif

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLSH *(*share_init)(void);
	CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
	CURLSHcode (*share_cleanup)(CURLSH *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
	const char *(*url_strerror)(CURLUcode);
	void (*free_)(void *);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *missing = "not loaded yet";
static char why[256];	/* dlerror()'s text, kept */

/* sym: the address of NAME in H into *slot; 0 if it is not there */
static int
sym(void *h, const char *name, void *slot)
{
	void *p = dlsym(h, name);

	if (p == NULL)
		return 0;
	*(void **)slot = p;
	return 1;
}

static void
load(void)
{
	void *h = dlopen(SEND_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		const char *e = dlerror();

		snprintf(why, sizeof(why), "%s", e != NULL ? e : SEND_CURL_SONAME " not found");
		missing = why;
		return;
	}
	if (!sym(h, "curl_global_init", &fn.global_init) ||
	    !sym(h, "curl_easy_init", &fn.easy_init) ||
	    !sym(h, "curl_easy_cleanup", &fn.easy_cleanup) ||
	    !sym(h, "curl_easy_setopt", &fn.easy_setopt) ||
	    !sym(h, "curl_easy_getinfo", &fn.easy_getinfo) ||
	    !sym(h, "curl_easy_strerror", &fn.easy_strerror) ||
	    !sym(h, "curl_multi_init", &fn.multi_init) ||
	    !sym(h, "curl_multi_add_handle", &fn.multi_add_handle) ||
	    !sym(h, "curl_multi_remove_handle", &fn.multi_remove_handle) ||
	    !sym(h, "curl_multi_perform", &fn.multi_perform) ||
	    !sym(h, "curl_multi_poll", &fn.multi_poll) ||
	    !sym(h, "curl_multi_info_read", &fn.multi_info_read) ||
	    !sym(h, "curl_multi_cleanup", &fn.multi_cleanup) ||
	    !sym(h, "curl_share_init", &fn.share_init) ||
	    !sym(h, "curl_share_setopt", &fn.share_setopt) ||
	    !sym(h, "curl_share_cleanup", &fn.share_cleanup) ||
	    !sym(h, "curl_slist_append", &fn.slist_append) ||
	    !sym(h, "curl_slist_free_all", &fn.slist_free_all) ||
	    !sym(h, "curl_url", &fn.url) ||
	    !sym(h, "curl_url_cleanup", &fn.url_cleanup) ||
	    !sym(h, "curl_url_set", &fn.url_set) ||
	    !sym(h, "curl_url_get", &fn.url_get) ||
	    !sym(h, "curl_url_strerror", &fn.url_strerror) ||
	    !sym(h, "curl_free", &fn.free_)) {
		missing = "a libcurl function is missing (libcurl older than 7.80?)";
		return;	/* h stays open: harmless, and fn is never used */
	}
	missing = NULL;
}

/* ready: 1 once libcurl is loaded (loading it on the first call) */
static int
ready(void)
{
	(void)pthread_once(&once, load);
	return missing == NULL;
}

int
send_curl_need(char *msg)
{
	if (ready())
		return 0;
	return sv_fail(msg, SV_ERR_TRANSPORT, "libcurl could not be loaded (%s): install libcurl4",
	    missing);
}

CURLcode
curl_global_init(long flags)
{
	return ready() ? fn.global_init(flags) : CURLE_FAILED_INIT;
}

CURL *
curl_easy_init(void)
{
	return ready() ? fn.easy_init() : NULL;
}

void
curl_easy_cleanup(CURL *e)
{
	if (ready())
		fn.easy_cleanup(e);
}

/*
 * The one argument after the option is a long, an object pointer, a
 * function pointer or a curl_off_t, told by the option's number, as
 * libcurl itself reads it.
 */
CURLcode
curl_easy_setopt(CURL *e, CURLoption opt, ...)
{
	va_list ap;
	CURLcode r;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		r = fn.easy_setopt(e, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		r = fn.easy_setopt(e, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		r = fn.easy_setopt(e, opt, va_arg(ap, void (*)(void)));
	else if (opt < CURLOPTTYPE_BLOB)
		r = fn.easy_setopt(e, opt, va_arg(ap, curl_off_t));
	else
		r = fn.easy_setopt(e, opt, va_arg(ap, void *));
	va_end(ap);
	return r;
}

/* every CURLINFO takes one pointer */
CURLcode
curl_easy_getinfo(CURL *e, CURLINFO info, ...)
{
	va_list ap;
	CURLcode r;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	r = fn.easy_getinfo(e, info, va_arg(ap, void *));
	va_end(ap);
	return r;
}

const char *
curl_easy_strerror(CURLcode c)
{
	return ready() ? fn.easy_strerror(c) : "libcurl could not be loaded";
}

CURLM *
curl_multi_init(void)
{
	return ready() ? fn.multi_init() : NULL;
}

CURLMcode
curl_multi_add_handle(CURLM *m, CURL *e)
{
	return ready() ? fn.multi_add_handle(m, e) : CURLM_BAD_HANDLE;
}

CURLMcode
curl_multi_remove_handle(CURLM *m, CURL *e)
{
	return ready() ? fn.multi_remove_handle(m, e) : CURLM_BAD_HANDLE;
}

CURLMcode
curl_multi_perform(CURLM *m, int *running)
{
	return ready() ? fn.multi_perform(m, running) : CURLM_BAD_HANDLE;
}

CURLMcode
curl_multi_poll(CURLM *m, struct curl_waitfd *extra, unsigned int n, int ms, int *ret)
{
	return ready() ? fn.multi_poll(m, extra, n, ms, ret) : CURLM_BAD_HANDLE;
}

CURLMsg *
curl_multi_info_read(CURLM *m, int *left)
{
	return ready() ? fn.multi_info_read(m, left) : NULL;
}

CURLMcode
curl_multi_cleanup(CURLM *m)
{
	return ready() ? fn.multi_cleanup(m) : CURLM_BAD_HANDLE;
}

CURLSH *
curl_share_init(void)
{
	return ready() ? fn.share_init() : NULL;
}

/* SHARE and UNSHARE take an int (a lock data kind); the others a pointer */
CURLSHcode
curl_share_setopt(CURLSH *sh, CURLSHoption opt, ...)
{
	va_list ap;
	CURLSHcode r;

	if (!ready())
		return CURLSHE_BAD_OPTION;
	va_start(ap, opt);
	if (opt == CURLSHOPT_SHARE || opt == CURLSHOPT_UNSHARE)
		r = fn.share_setopt(sh, opt, va_arg(ap, int));
	else if (opt == CURLSHOPT_LOCKFUNC || opt == CURLSHOPT_UNLOCKFUNC)
		r = fn.share_setopt(sh, opt, va_arg(ap, void (*)(void)));
	else
		r = fn.share_setopt(sh, opt, va_arg(ap, void *));
	va_end(ap);
	return r;
}

CURLSHcode
curl_share_cleanup(CURLSH *sh)
{
	return ready() ? fn.share_cleanup(sh) : CURLSHE_INVALID;
}

struct curl_slist *
curl_slist_append(struct curl_slist *l, const char *s)
{
	return ready() ? fn.slist_append(l, s) : NULL;
}

void
curl_slist_free_all(struct curl_slist *l)
{
	if (ready())
		fn.slist_free_all(l);
}

CURLU *
curl_url(void)
{
	return ready() ? fn.url() : NULL;
}

void
curl_url_cleanup(CURLU *u)
{
	if (ready())
		fn.url_cleanup(u);
}

CURLUcode
curl_url_set(CURLU *u, CURLUPart what, const char *part, unsigned int flags)
{
	return ready() ? fn.url_set(u, what, part, flags) : CURLUE_BAD_HANDLE;
}

/* libcurl 7.88's prototype (Debian 12); later ones take a const CURLU * */
CURLUcode
curl_url_get(CURLU *u, CURLUPart what, char **part, unsigned int flags)
{
	return ready() ? fn.url_get(u, what, part, flags) : CURLUE_BAD_HANDLE;
}

const char *
curl_url_strerror(CURLUcode c)
{
	return ready() ? fn.url_strerror(c) : "libcurl could not be loaded";
}

void
curl_free(void *p)
{
	if (ready())
		fn.free_(p);
}
