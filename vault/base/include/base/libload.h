/*
 * libload: a shared library opened at its first use instead of linked.
 *
 * libpq, libxml2, ICU and libssl (like libcurl in send/) bring shared
 * libraries that the dynamic loader would map and relocate in every
 * `ssovault` process, a `creds get` through ssovaultd included, which uses
 * none of them (issue 15; docs/decisions.md, "The CLI loads libpq, libxml2
 * and ICU when a command needs them").  A loader file (vault/store/pq-load.c,
 * xml-load.c here, sso/core/icu-load.c, sso/client/ssl-load.c) defines the
 * functions its room calls; each forwards to the library opened here, by
 * its shared object name, through the same loader search a linked library
 * gets.
 */
#ifndef SSOVAULT_LIBLOAD_H
#define SSOVAULT_LIBLOAD_H

#include <stddef.h>

#include "ssovault/sverr.h"

/* one function (or variable) to find: its name in the library, where to keep it */
struct libload_sym {
	const char *name;
	void **slot;
};

/*
 * A library to open once: a static struct with the first six members set;
 * the rest is libload_ready()'s.
 */
struct libload {
	const char *soname;		/* "libpq.so.5" */
	const char *what;		/* for messages: "libpq" */
	const char *package;		/* what to install: "libpq5" */
	int err;			/* the error code when it cannot be loaded */
	const struct libload_sym *syms;
	size_t nsyms;
	int done;			/* tried (read with acquire) */
	void *handle;			/* dlopen's, once loaded */
	const char *missing;		/* NULL once loaded, else why not */
	char why[200];
};

/*
 * 1 once every symbol of l is found (opening the library on the first
 * call; thread-safe), else 0.  A library that is there but lacks a symbol
 * counts as missing; its slots are then never used.
 */
int libload_ready(struct libload *l);

/*
 * 0 if l is loaded (libload_ready()), else l->err with msg (SV_MSG_MAX)
 * "WHAT could not be loaded (why): install PACKAGE".
 */
int libload_need(struct libload *l, char *msg) SV_WUR;

/*
 * The address of NAME (a variable) in l itself, not in the program: NULL
 * if l is not loaded or has no NAME.
 */
void *libload_data(struct libload *l, const char *name);

/*
 * A loader file, from one list of the functions it defines:
 *
 *   #define FUNCS(F, V) \
 *	F(int, PQsocket, (const PGconn *c), (c), -1) \
 *	V(PQfinish, (PGconn *c), (c))
 *   LIBLOAD_LIBRARY(FUNCS, "libpq.so.5", "libpq", "libpq5", SV_ERR_STORAGE)
 *
 * F: a function returning a value (the last argument, when the library is
 * missing); V: one returning nothing.  This defines `static struct libload
 * lib` and every function of the list, forwarding to the library.  A name
 * the library's headers make a macro (ICU's versioned names) is defined
 * and looked up as expanded.
 */
#define LIBLOAD_STR_(x) #x
#define LIBLOAD_STR(x) LIBLOAD_STR_(x)
#define LIBLOAD_PTR(ret, name, params, args, none) static ret (*libload_p_##name) params;
#define LIBLOAD_PTRV(name, params, args) static void (*libload_p_##name) params;
#define LIBLOAD_SYM(ret, name, params, args, none) \
	{ LIBLOAD_STR(name), (void **)&libload_p_##name },
#define LIBLOAD_SYMV(name, params, args) { LIBLOAD_STR(name), (void **)&libload_p_##name },
#define LIBLOAD_DEF(ret, name, params, args, none) \
	ret name params { return libload_ready(&lib) ? libload_p_##name args : none; }
#define LIBLOAD_DEFV(name, params, args) \
	void name params { if (libload_ready(&lib)) libload_p_##name args; }
#define LIBLOAD_LIBRARY(FUNCS, SONAME, WHAT, PACKAGE, ERR) \
	FUNCS(LIBLOAD_PTR, LIBLOAD_PTRV) \
	static const struct libload_sym libload_syms[] = { FUNCS(LIBLOAD_SYM, LIBLOAD_SYMV) }; \
	static struct libload lib = { .soname = SONAME, .what = WHAT, .package = PACKAGE, \
	    .err = ERR, .syms = libload_syms, \
	    .nsyms = sizeof(libload_syms) / sizeof(libload_syms[0]) }; \
	FUNCS(LIBLOAD_DEF, LIBLOAD_DEFV)

/*
 * libxml2, for the rooms that parse or write XML (sso/ops import and
 * export, send/soap.c): 0 once it is loaded, else SV_ERR_INTERNAL with msg
 * saying what to install.  Each of their entry points asks first, so that a
 * missing libxml2 is that message, not an "out of memory" of a forwarder.
 */
int libload_xml_need(char *msg) SV_WUR;

#endif
