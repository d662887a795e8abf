/*
 * libssl, loaded when ssovault_tls_use_cert() is first called.
 *
 * tls.c calls three libssl functions, to put a certificate and the
 * service's signing key into a TLS context that its caller (libcurl, in
 * send/) made with libssl, which is therefore loaded by then.  Linking it
 * made every `ssovault` process map and relocate it, a `creds get` through
 * ssovaultd included (about 0.2 ms of CPU here; issue 15, docs/decisions.md,
 * "The CLI loads libpq, libxml2 and ICU when a command needs them").  They
 * are defined here and forward to libssl.so.<OpenSSL's major version>
 * (base/libload.h); tls.c asks ssovault_ssl_need() first.
 */
#include <stddef.h>

#include <openssl/opensslv.h>
#include <openssl/ssl.h>

#include "base/libload.h"
#include "client.h"

#ifndef SSO_SSL_SONAME
#define SSO_SSL_SONAME "libssl.so." LIBLOAD_STR(OPENSSL_VERSION_MAJOR)
#endif

#define SSL_FUNCS(F, V) \
	F(int, SSL_CTX_use_certificate, (SSL_CTX *c, X509 *x), (c, x), 0) \
	F(int, SSL_CTX_use_PrivateKey, (SSL_CTX *c, EVP_PKEY *k), (c, k), 0) \
	F(long, SSL_CTX_ctrl, (SSL_CTX *c, int cmd, long l, void *p), (c, cmd, l, p), 0)

LIBLOAD_LIBRARY(SSL_FUNCS, SSO_SSL_SONAME, "libssl",
    "libssl" LIBLOAD_STR(OPENSSL_VERSION_MAJOR), SV_ERR_CRYPTO)

int
sso_client_ssl_need(char *msg)
{
	return libload_need(&lib, msg);
}
