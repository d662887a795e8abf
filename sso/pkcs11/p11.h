/*
 * p11.h: what the files of libssovault-pkcs11.so share (internal to
 * sso/pkcs11/).  The module is a client of ssovaultd like any other: it
 * uses the public client API (ssovault.h) in daemon mode only, one handle
 * per session, as the calling process (the daemon knows it from the
 * socket).  Slots are daemons; a slot's objects are the certificates the
 * caller is a user of; signatures are `cert sign` requests.
 */
#ifndef SSOVAULT_P11_H
#define SSOVAULT_P11_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>
#include <openssl/evp.h>

#include "ssovault/ssovault.h"

#define P11_SLOTS_MAX 8
#define P11_CERTS_MAX 1024		/* certificates a slot ever names */
#define P11_ATTRS_MAX 40
#define P11_RAW_MAX 512			/* input of a single-part mechanism */

/* Object handles: 4 per certificate, base + kind. */
enum p11_kind { P11_CERT = 0, P11_PRIVATE = 1, P11_PUBLIC = 2 };
#define P11_HANDLE(index, kind) ((CK_OBJECT_HANDLE)(index) * 4 + 1 + (kind))

struct p11_attr {
	CK_ATTRIBUTE_TYPE type;
	unsigned char *val;	/* NULL: the attribute is sensitive */
	size_t len;
};

struct p11_object {
	size_t nattrs;
	struct p11_attr attrs[P11_ATTRS_MAX];
};

/* A certificate the caller may use, as the three objects it shows. */
struct p11_cert {
	char sha1[41];
	int live;		/* in the last listing */
	int exportable;
	CK_KEY_TYPE key_type;	/* CKK_RSA or CKK_EC */
	size_t sig_len;		/* RSA: modulus bytes; EC: 2 x the order's bytes */
	EVP_PKEY *pub;		/* for C_Verify */
	struct p11_object obj[3];
};

struct p11_slot {
	char socket[PATH_MAX];
	pthread_mutex_t lock;	/* certs, ncerts, logged_in */
	struct p11_cert *certs[P11_CERTS_MAX];
	size_t ncerts;
	int logged_in;
};

/* One operation in progress on a session (sign or verify). */
struct p11_op {
	int active;
	CK_MECHANISM_TYPE mech;
	size_t cert;			/* index in the slot */
	struct ssovault_sign_params p;
	const EVP_MD *md;		/* hashed here (hash-and-sign mechanisms), or NULL */
	EVP_MD_CTX *mdctx;
	unsigned char raw[P11_RAW_MAX];	/* single-part input gathered by Update */
	size_t rawlen;
	int too_long;
};

/* --- module.c: slots and sessions -------------------------------------------------- */

/* A session: its connection to the daemon, its search, its operations. */
struct p11_session {
	CK_SLOT_ID slot;
	CK_FLAGS flags;
	pthread_mutex_t lock;	/* one call at a time on a session */
	struct ssovault *h;
	CK_OBJECT_HANDLE found[3 * P11_CERTS_MAX];
	size_t nfound, pos;
	int finding;
	struct p11_op sign, verify;
	EVP_MD_CTX *digest;	/* C_Digest*, or NULL */
};

extern struct p11_slot p11_slots[P11_SLOTS_MAX];
/* The session, locked; NULL with *rv set otherwise (not initialised, unknown handle). */
struct p11_session *p11_session_get(CK_SESSION_HANDLE hs, CK_RV *rv);
void p11_session_put(struct p11_session *s);
/* The live certificate and kind of an object handle (slot lock held), or NULL. */
struct p11_cert *p11_object_of(struct p11_slot *s, CK_OBJECT_HANDLE o, enum p11_kind *ret_kind);

/* --- objects.c ----------------------------------------------------------- */

/* The objects of a certificate from the service (NULL if its chain does not parse). */
struct p11_cert *p11_cert_new(const struct ssovault_cert_info *c);
void p11_cert_free(struct p11_cert *c);
/* The attribute of o, or NULL. */
const struct p11_attr *p11_attr_find(const struct p11_object *o, CK_ATTRIBUTE_TYPE t);
/* 1 if o has every attribute of templ with the same value. */
int p11_object_matches(const struct p11_object *o, const CK_ATTRIBUTE *templ, CK_ULONG n);
/* C_GetAttributeValue on o. */
CK_RV p11_object_get(const struct p11_object *o, CK_ATTRIBUTE *templ, CK_ULONG n);

/* --- mech.c -------------------------------------------------------------- */

/* The mechanisms, for C_GetMechanismList and _Info. */
CK_RV p11_mech_list(CK_MECHANISM_TYPE *list, CK_ULONG *n);
CK_RV p11_mech_info(CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info);
/* The digest of a digest mechanism (CKM_SHA256, ...), or NULL. */
const EVP_MD *p11_digest_md(CK_MECHANISM_TYPE type);
/* Check mech against a key of the certificate and set op up (not active yet). */
CK_RV p11_op_init(struct p11_op *op, const CK_MECHANISM *mech, const struct p11_cert *c);
void p11_op_end(struct p11_op *op);
/* Take a part of the input (hash it, or gather it). */
CK_RV p11_op_update(struct p11_op *op, const unsigned char *p, size_t len);
/*
 * The input for the service (or for verifying): a digest made here, or the
 * gathered bytes.  out holds EVP_MAX_MD_SIZE or P11_RAW_MAX bytes.
 */
CK_RV p11_op_input(struct p11_op *op, const struct p11_cert *c, unsigned char *out,
    size_t *ret_len);
/* A signature from the service (DER for ECDSA) as PKCS#11 gives it (r | s). */
CK_RV p11_sig_to_p11(const struct p11_cert *c, const unsigned char *sig, size_t len,
    unsigned char *out, size_t *ret_len);
/* Verify sig over the op's input with the certificate's public key. */
CK_RV p11_op_verify(struct p11_op *op, const struct p11_cert *c, const unsigned char *sig,
    size_t siglen);
/* The PKCS#11 return value for a failed request to the service. */
CK_RV p11_rv(int err);

#endif
