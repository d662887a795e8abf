/*
 * libpq, loaded when a vault at a postgresql:// URI is first opened.
 *
 * Linking libpq made every `ssovault` process map and relocate it and what
 * it needs (Kerberos, LDAP, GnuTLS, SASL, ...), a `creds get` through
 * ssovaultd included, which never calls it (issue 15; docs/decisions.md,
 * "The CLI loads libpq, libxml2 and ICU when a command needs them").  The
 * store room is built against libpq's headers only; the functions pg.c
 * calls are defined here and forward to libpq.so.5, opened at the first
 * call (base/libload.h).  store.c asks vault_store_pq_need() before the
 * PostgreSQL backend touches a location, so that a missing libpq is one
 * clear error and not a failure of the first function pg.c calls.  A
 * function pg.c starts to call is added to the list, or the link fails.
 */
#include <stddef.h>

#include <libpq-fe.h>

#include "base/libload.h"
#include "store/store.h"

#ifndef VAULT_PQ_SONAME
#define VAULT_PQ_SONAME "libpq.so.5"
#endif

#define PQ_FUNCS(F, V) \
	F(PGconn *, PQconnectStartParams, (const char *const *k, const char *const *v, int x), \
	    (k, v, x), NULL) \
	F(PostgresPollingStatusType, PQconnectPoll, (PGconn *c), (c), PGRES_POLLING_FAILED) \
	V(PQfinish, (PGconn *c), (c)) \
	F(PQconninfoOption *, PQconninfoParse, (const char *s, char **err), (s, err), \
	    (*err = NULL, NULL)) \
	V(PQconninfoFree, (PQconninfoOption *o), (o)) \
	F(ConnStatusType, PQstatus, (const PGconn *c), (c), CONNECTION_BAD) \
	F(PGTransactionStatusType, PQtransactionStatus, (const PGconn *c), (c), PQTRANS_UNKNOWN) \
	F(char *, PQerrorMessage, (const PGconn *c), (c), (char *)"libpq could not be loaded") \
	F(int, PQsocket, (const PGconn *c), (c), -1) \
	F(PGresult *, PQexec, (PGconn *c, const char *q), (c, q), NULL) \
	F(int, PQsendQuery, (PGconn *c, const char *q), (c, q), 0) \
	F(int, PQsendQueryParams, (PGconn *c, const char *q, int n, const Oid *t, \
	    const char *const *v, const int *l, const int *f, int rf), (c, q, n, t, v, l, f, rf), 0) \
	F(int, PQsendPrepare, (PGconn *c, const char *s, const char *q, int n, const Oid *t), \
	    (c, s, q, n, t), 0) \
	F(int, PQsendQueryPrepared, (PGconn *c, const char *s, int n, const char *const *v, \
	    const int *l, const int *f, int rf), (c, s, n, v, l, f, rf), 0) \
	F(int, PQenterPipelineMode, (PGconn *c), (c), 0) \
	F(int, PQexitPipelineMode, (PGconn *c), (c), 0) \
	F(int, PQpipelineSync, (PGconn *c), (c), 0) \
	F(PGresult *, PQgetResult, (PGconn *c), (c), NULL) \
	F(int, PQisBusy, (PGconn *c), (c), 0) \
	F(int, PQconsumeInput, (PGconn *c), (c), 0) \
	F(ExecStatusType, PQresultStatus, (const PGresult *r), (r), PGRES_FATAL_ERROR) \
	F(char *, PQresultErrorField, (const PGresult *r, int f), (r, f), NULL) \
	F(int, PQntuples, (const PGresult *r), (r), 0) \
	F(int, PQfformat, (const PGresult *r, int f), (r, f), 0) \
	F(char *, PQgetvalue, (const PGresult *r, int t, int f), (r, t, f), NULL) \
	F(int, PQgetlength, (const PGresult *r, int t, int f), (r, t, f), 0) \
	F(int, PQgetisnull, (const PGresult *r, int t, int f), (r, t, f), 1) \
	V(PQclear, (PGresult *r), (r)) \
	V(PQfreemem, (void *p), (p))

LIBLOAD_LIBRARY(PQ_FUNCS, VAULT_PQ_SONAME, "libpq", "libpq5", SV_ERR_STORAGE)

int
vault_store_pq_need(char *msg)
{
	return libload_need(&lib, msg);
}
