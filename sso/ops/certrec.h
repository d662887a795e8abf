/*
 * certrec.h: the sealed record of a certificate (cert.c keeps it), shared
 * with the handlers that use its key (cert_use.c).  Internal to sso/ops/.
 */
#ifndef SSOVAULT_OPS_CERTREC_H
#define SSOVAULT_OPS_CERTREC_H

#include "core/sso.h"
#include "vault/cert.h"

/* Record flags (version 2 on). */
#define SSO_CERT_NO_EXPORT 0x01		/* the key never leaves the service */

/* A decrypted record, split into its parts (pointers into plain). */
struct cert_rec {
	struct svbuf *plain;		/* secure: holds the private key */
	const uint8_t *enc;		/* the vault_cert_encode() bytes */
	size_t enclen;
	json_t *users;			/* array of principals */
	unsigned flags;			/* SSO_CERT_*; version 1 records: 0 */
};

/* 1 if s is n upper-case hex digits (a stored thumbprint), else 0. */
int sso_cert_is_sha1(const char *s, size_t n);
/*
 * Make x->object (a normalised thumbprint) the SHA-1 one: a SHA-256
 * thumbprint is looked up in the index.  SV_ERR_NOT_FOUND with the message
 * naming 'ssovault cert list' if there is no such certificate.
 */
int sso_cert_resolve(struct sso_ctx *x) SV_WUR;
/* Resolve x->object and read and split its record into *ret. */
int sso_cert_rec_load(struct sso_ctx *x, struct cert_rec *ret) SV_WUR;
/* Split rec->plain (a decrypted record) into rec; SV_ERR_INTEGRITY if it is not one. */
int sso_cert_rec_split(struct sso_ctx *x, struct cert_rec *rec) SV_WUR;
void sso_cert_rec_clear(struct cert_rec *rec);
/* Seal and store the record of x->object (flags: VAULT_PUT_*). */
int sso_cert_rec_store(struct sso_ctx *x, const uint8_t *enc, size_t enclen,
    json_t *users, unsigned recflags, unsigned flags) SV_WUR;
/* The certificate of a record, with its key or without (vault_cert_free()). */
int sso_cert_rec_cert(struct sso_ctx *x, const struct cert_rec *rec, int with_key,
    struct vault_cert **ret) SV_WUR;
/*
 * Call fn for each certificate record, in thumbprint order, with x->object
 * its thumbprint: err 0 and rec split, or err the reason it does not open
 * (x->msg says it).  fn returning non-zero stops the walk with that value.
 * x->object and x->msg are cleared at the end.
 */
typedef int (*sso_cert_each_fn)(struct sso_ctx *x, struct cert_rec *rec, int err,
    void *ctx);
int sso_cert_foreach(struct sso_ctx *x, sso_cert_each_fn fn, void *ctx) SV_WUR;
/*
 * 0 if c may be used now; else SV_ERR_CERT_EXPIRED or _NOT_YET_VALID with
 * x->msg saying when.
 */
int sso_cert_in_time(struct sso_ctx *x, const struct vault_cert *c) SV_WUR;

#endif
