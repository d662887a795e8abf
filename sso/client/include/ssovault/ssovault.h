/*
 * ssovault.h: the client API of the ssovault SSO service.
 *
 * One API, two transports.  A handle either talks to ssovaultd over its Unix
 * socket (daemon mode: the daemon holds the master secret and knows the caller
 * from the kernel) or runs the same service code in-process on a vault
 * directory the caller unlocks itself (embedded mode).  Every call becomes one
 * request through one dispatch and one policy table, in either mode.
 *
 * Conventions:
 * - Functions return 0 or a negative SV_ERR_* code (sverr.h); the detail of
 *   the last failure, one line, is in ssovault_errmsg().  sv_exit_code() maps
 *   codes onto the command line's exit codes.
 * - Outputs are ret_* arguments, set only on success, owned by the caller.
 *   Strings are malloc'd (free()); anything holding a secret has its own
 *   _free() that wipes it (secret bytes live in sodium_malloc memory).
 * - Admin listings and shows return a JSON document (char *, free()); the
 *   shapes are in docs/json.md.  Admin inputs that are objects (an app's
 *   definition, a port's settings) are JSON too.
 * - Principals are "user:NAME", "group:NAME", "uid:N" or "gid:N".  A NULL
 *   user argument means the caller.
 * - A handle is used by one thread at a time; open one per thread.
 */
#ifndef SSOVAULT_H
#define SSOVAULT_H

#include <stddef.h>
#include <stdint.h>

#include "sverr.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ssovault;

enum ssovault_mode {
	SSOVAULT_MODE_AUTO = 0,		/* see ssovault_open() */
	SSOVAULT_MODE_DAEMON = 1,
	SSOVAULT_MODE_EMBEDDED = 2,
};

struct ssovault_open_opts {
	const char *vault_dir;		/* NULL: $SSOVAULT_DIR, else $XDG_DATA_HOME/ssovault */
	const char *socket_path;	/* NULL: $SSOVAULT_SOCKET, else the default path */
	/* AUTO with both vault_dir and socket_path set is SV_ERR_USAGE */
	enum ssovault_mode mode;
};

/*
 * Open a handle.  SSOVAULT_MODE_AUTO picks, explicit before implicit: the
 * vault_dir given (embedded, whatever socket exists), the socket_path
 * given, $SSOVAULT_SOCKET, the first of $XDG_RUNTIME_DIR/ssovault.sock
 * and /run/ssovault/ssovault.sock that exists, else $SSOVAULT_DIR or the
 * default vault directory (SV_ERR_NO_VAULT naming every
 * place looked at if there is none).  In daemon mode nothing is checked until the first request
 * (SV_ERR_UNREACHABLE then, also when the socket is served by another uid
 * than root, the caller's or the one in $SSOVAULT_DAEMON_UID: nothing is
 * sent to it).  In embedded mode the vault is opened locked
 * (SV_ERR_NO_VAULT if there is none): unlock it before other requests.
 */
int ssovault_open(const struct ssovault_open_opts *o, struct ssovault **ret) SV_WUR;
void ssovault_free(struct ssovault *h);
/* Why the last ssovault_open() or ssovault_init() in this thread failed. */
const char *ssovault_open_errmsg(void);
const char *ssovault_errmsg(const struct ssovault *h);
int ssovault_is_daemon(const struct ssovault *h);
/* The vault directory (embedded) or socket path (daemon) in use. */
const char *ssovault_where(const struct ssovault *h);

/* Default paths as DESIGN section 7 and 8 give them (malloc'd). */
char *ssovault_default_vault_dir(void);
char *ssovault_default_socket(void);

/* --- Vault life ------------------------------------------------------ */

struct ssovault_init_opts {
	const char *passphrase;		/* secure memory; NULL: no passphrase slot */
	size_t passphrase_len;
	const uint8_t *key;		/* 32 bytes or NULL */
	const char *const *admins;	/* extra vault admins, principals */
	size_t nadmins;
	unsigned long long opslimit;	/* Argon2id; 0 = moderate defaults */
	size_t memlimit;
};
/*
 * Create a vault in dir (embedded only): the caller becomes a vault admin.
 * ret, if not NULL, receives an unlocked embedded handle.
 */
int ssovault_init(const char *dir, const struct ssovault_init_opts *o,
    struct ssovault **ret) SV_WUR;

int ssovault_status(struct ssovault *h, char **ret_json) SV_WUR;
int ssovault_unlock_passphrase(struct ssovault *h, const char *pass, size_t len) SV_WUR;
int ssovault_unlock_key(struct ssovault *h, const uint8_t key[32]) SV_WUR;
int ssovault_lock(struct ssovault *h) SV_WUR;

/* The backup blob of the master secret (bytes to write to a file). */
int ssovault_secret_backup(struct ssovault *h, const char *pw, size_t pwlen,
    const char *hint, uint8_t **ret_blob, size_t *ret_len) SV_WUR;
/*
 * The password hint stored in a secret backup blob, read without any
 * password or vault (malloc'd; "" if the backup has none), for showing
 * before asking for the backup password.  SV_ERR_BAD_FORMAT if blob is
 * not a secret backup.
 */
int ssovault_secret_backup_hint(const uint8_t *blob, size_t len, char **ret_hint) SV_WUR;
int ssovault_secret_restore(struct ssovault *h, const uint8_t *blob, size_t len,
    const char *pw, size_t pwlen, const char *newpass, size_t newlen,
    const uint8_t *key) SV_WUR;
/* progress may be NULL; called with done/total records (embedded only). */
int ssovault_secret_rotate(struct ssovault *h,
    void (*progress)(void *ctx, size_t done, size_t total), void *ctx) SV_WUR;
/* Vault backup into / restore from an open file descriptor. */
int ssovault_backup(struct ssovault *h, int fd) SV_WUR;
int ssovault_restore(struct ssovault *h, int fd) SV_WUR;

/*
 * --- Unlock slots: one per host of a shared vault, or per passphrase ----
 * list gives a JSON array of {"name", "type": "key"|"passphrase", "this"};
 * add takes a passphrase or a 32-byte key (key 1); vault admins only.
 */
int ssovault_slot_list(struct ssovault *h, char **ret_json) SV_WUR;
int ssovault_slot_add(struct ssovault *h, const char *name, int key, const void *secret,
    size_t len) SV_WUR;
int ssovault_slot_remove(struct ssovault *h, const char *name) SV_WUR;

/*
 * Copy the vault to a new location (a directory or a postgresql:// URI),
 * records and audit chain as they are; embedded mode only.  JSON
 * {"to", "records"}.
 */
int ssovault_store_copy(struct ssovault *h, const char *to, char **ret_json) SV_WUR;

/* --- Roles: "vault-admin", "affiliate-admin" -------------------------- */

int ssovault_role_list(struct ssovault *h, char **ret_json) SV_WUR;
int ssovault_role_add(struct ssovault *h, const char *role, const char *principal) SV_WUR;
int ssovault_role_remove(struct ssovault *h, const char *role, const char *principal) SV_WUR;

/* --- Affiliate applications ------------------------------------------ */

/* spec_json: the app object of docs/json.md (name, type, fields, ...). */
int ssovault_app_create(struct ssovault *h, const char *spec_json) SV_WUR;
/* changes_json: the members to change (description, contact, admins, users, flags). */
int ssovault_app_update(struct ssovault *h, const char *name, const char *changes_json) SV_WUR;
int ssovault_app_list(struct ssovault *h, char **ret_json) SV_WUR;
int ssovault_app_show(struct ssovault *h, const char *name, char **ret_json) SV_WUR;
int ssovault_app_enable(struct ssovault *h, const char *name, int enable) SV_WUR;
int ssovault_app_delete(struct ssovault *h, const char *name) SV_WUR;
/* An ENTSSO XML file, all or nothing; ret_json says what was imported. */
int ssovault_app_import(struct ssovault *h, const char *xml, size_t len, char **ret_json) SV_WUR;

/* How an ENTSSO account DOMAIN\name is written on this host. */
enum ssovault_accounts {
	SSOVAULT_ACCOUNTS_NAME = 0,		/* name (SSSD, short names) */
	SSOVAULT_ACCOUNTS_NAME_AT_DOMAIN = 1,	/* name@domain (SSSD, fully qualified) */
	SSOVAULT_ACCOUNTS_DOMAIN_NAME = 2,	/* DOMAIN\name (winbind) */
};

struct ssovault_import_opts {
	int update;			/* ssomanage -updateapps: existing apps change */
	int strict;			/* any warning is an error, nothing imported */
	int dry_run;			/* check everything, change nothing */
	enum ssovault_accounts accounts;
	/* NULL, or a JSON object: ENTSSO account (any case) -> principal, and
	   "DOMAIN\\*" -> the domain as this host writes it */
	const char *account_map_json;
};
/*
 * ssovault_app_import() with options (NULL: the defaults).  ret_json is
 * {"applications","updated","mappings","deleted","skipped","dry_run",
 * "warnings": [{"application","line","message"}]} (docs/json.md).
 */
int ssovault_app_import_opts(struct ssovault *h, const char *xml, size_t len,
    const struct ssovault_import_opts *o, char **ret_json) SV_WUR;
/* ssomanage -deletemappings: the mappings a file names are deleted (o->update unused). */
int ssovault_mapping_delete_many(struct ssovault *h, const char *xml, size_t len,
    const struct ssovault_import_opts *o, char **ret_json) SV_WUR;
/*
 * ENTSSO XML of the named apps (n 0: every app the caller administers)
 * and their mappings, never a secret; ret_xml malloc'd.  windows_domain
 * NULL: accounts as principals (what app import reads back exactly); else
 * as the Windows accounts DOMAIN\name that ssomanage resolves.
 */
int ssovault_app_export(struct ssovault *h, const char *const *apps, size_t n,
    const char *windows_domain, char **ret_xml) SV_WUR;

/* --- Mappings and credentials ---------------------------------------- */

int ssovault_mapping_create(struct ssovault *h, const char *app, const char *principal,
    const char *external_user) SV_WUR;
int ssovault_mapping_list(struct ssovault *h, const char *app, char **ret_json) SV_WUR;
/* Only the mappings of principal user (ssomanage -listmappings USER); app may be NULL. */
int ssovault_mapping_list_user(struct ssovault *h, const char *app, const char *user,
    char **ret_json) SV_WUR;
int ssovault_mapping_enable(struct ssovault *h, const char *app, const char *principal,
    int enable) SV_WUR;
int ssovault_mapping_delete(struct ssovault *h, const char *app, const char *principal) SV_WUR;

struct ssovault_field {
	char *label;
	int masked;
	char *value;		/* secure memory */
};

struct ssovault_creds {
	char *app;
	char *principal;	/* the mapping's local principal */
	char *external_user;	/* field 0 */
	size_t nfields;
	struct ssovault_field *fields;	/* in the app's field order; [0] is the user id */
};
void ssovault_creds_free(struct ssovault_creds *c);
/* The value of field label (case-insensitive), or NULL. */
const char *ssovault_creds_value(const struct ssovault_creds *c, const char *label);
/* The first masked field's value (the password, by convention), or NULL. */
const char *ssovault_creds_password(const struct ssovault_creds *c);

/* labels[i] = values[i]; unknown labels are an error.  Setting enables the mapping. */
int ssovault_creds_set(struct ssovault *h, const char *app, const char *user,
    size_t n, const char *const *labels, const char *const *values) SV_WUR;
int ssovault_creds_get(struct ssovault *h, const char *app, const char *user,
    struct ssovault_creds **ret) SV_WUR;

/* --- Config store applications ------------------------------------------ */

/*
 * ENTSSO's ISSOConfigStore SetConfigInfo / GetConfigInfo: the settings of a
 * config store app (type "config") under identifier (NULL: the default,
 * "ConfigProperties").  Set: app admins; labels[i] = values[i], the others
 * keep their value.  Get: app users and admins; the settings come back as a
 * struct ssovault_creds whose principal is the identifier, external_user
 * is "" and fields are the settings (ssovault_creds_value() reads one).
 */
int ssovault_config_set(struct ssovault *h, const char *app, const char *identifier,
    size_t n, const char *const *labels, const char *const *values) SV_WUR;
int ssovault_config_get(struct ssovault *h, const char *app, const char *identifier,
    struct ssovault_creds **ret) SV_WUR;

/* --- Tickets ----------------------------------------------------------- */

int ssovault_ticket_issue(struct ssovault *h, char **ret_ticket) SV_WUR;
/* sender: the principal the redeemer says sent the ticket (NULL if none). */
int ssovault_ticket_redeem(struct ssovault *h, const char *app, const char *ticket,
    const char *sender, struct ssovault_creds **ret) SV_WUR;
/* allow/validate: -1 keep, 0 no, 1 yes; timeout_min 0 keep. */
int ssovault_ticket_settings(struct ssovault *h, int allow, int validate,
    unsigned timeout_min, char **ret_json) SV_WUR;

/* --- Certificates ---------------------------------------------------- */

/*
 * data: PKCS#12 or PEM; key: separate PEM key or NULL; users: cert users.
 * The key is stored non-exportable: the service signs with it and never
 * hands it out.  _flags with SSOVAULT_CERT_EXPORTABLE stores it exportable
 * (ssovault_cert_fetch() hands it to cert users, as Windows' "mark this key
 * as exportable").
 */
#define SSOVAULT_CERT_EXPORTABLE 0x1
int ssovault_cert_import(struct ssovault *h, const uint8_t *data, size_t len,
    const char *pw, const uint8_t *key, size_t keylen,
    const char *const *users, size_t nusers, char ret_sha1[41]) SV_WUR;
int ssovault_cert_import_flags(struct ssovault *h, const uint8_t *data, size_t len,
    const char *pw, const uint8_t *key, size_t keylen,
    const char *const *users, size_t nusers, unsigned flags, char ret_sha1[41]) SV_WUR;
/*
 * Make a certificate's key non-exportable (exportable 0; vault admin).  One
 * way only: exportable 1 is refused (SV_ERR_CONFLICT) for a non-exportable key.
 */
int ssovault_cert_update(struct ssovault *h, const char *thumbprint, int exportable) SV_WUR;
int ssovault_cert_list(struct ssovault *h, char **ret_json) SV_WUR;
int ssovault_cert_show(struct ssovault *h, const char *thumbprint, char **ret_json) SV_WUR;
/* The public chain as PEM. */
int ssovault_cert_export(struct ssovault *h, const char *thumbprint, char **ret_pem) SV_WUR;
int ssovault_cert_delete(struct ssovault *h, const char *thumbprint) SV_WUR;
int ssovault_cert_grant(struct ssovault *h, const char *thumbprint, const char *principal,
    int grant) SV_WUR;

/* A certificate with its key, for one TLS handshake; the key in secure memory. */
struct ssovault_cert_blob {
	char sha1[41];
	char *cert_pem;		/* chain, leaf first */
	size_t cert_len;
	char *key_pem;		/* PKCS#8 PEM, secure memory */
	size_t key_len;
	int64_t not_after;
};
/*
 * Refuses unknown (NOT_FOUND), not granted (DENIED), expired or corrupt
 * certs, and a key that is not exportable (DENIED: sign with it instead).
 */
int ssovault_cert_fetch(struct ssovault *h, const char *thumbprint,
    struct ssovault_cert_blob **ret) SV_WUR;
void ssovault_cert_blob_free(struct ssovault_cert_blob *b);

/* The public part of a certificate the caller may use. */
struct ssovault_cert_info {
	char sha1[41];
	int exportable;			/* ssovault_cert_fetch() would hand out the key */
	int64_t not_before;		/* Unix time */
	int64_t not_after;
	char *chain_pem;		/* leaf first */
	size_t chain_len;
};
/*
 * The certificates the caller is a user of (thumbprint NULL or ""), expired
 * ones too; or the one named, refused as ssovault_cert_fetch() refuses
 * (unknown, not granted, expired), whatever its key.  *ret_n entries.
 */
int ssovault_cert_usable(struct ssovault *h, const char *thumbprint,
    struct ssovault_cert_info **ret, size_t *ret_n) SV_WUR;
void ssovault_cert_info_free(struct ssovault_cert_info *c, size_t n);

/*
 * Signatures made by the service with a certificate's key, for its users
 * (exportable or not).  The numbers are those of the wire (docs/protocol.md).
 */
enum ssovault_sign_scheme {
	SSOVAULT_SIGN_RSA_PKCS1 = 1,	/* RSASSA-PKCS1-v1_5 */
	SSOVAULT_SIGN_RSA_PSS = 2,	/* RSASSA-PSS, MGF1 */
	SSOVAULT_SIGN_ECDSA = 3,	/* a DER Ecdsa-Sig-Value */
};
enum ssovault_hash {
	SSOVAULT_HASH_NONE = 0,
	SSOVAULT_HASH_SHA1 = 1,
	SSOVAULT_HASH_SHA224 = 2,
	SSOVAULT_HASH_SHA256 = 3,
	SSOVAULT_HASH_SHA384 = 4,
	SSOVAULT_HASH_SHA512 = 5,
};
#define SSOVAULT_SALT_DIGEST UINT32_MAX	/* PSS salt as long as the digest */
#define SSOVAULT_SIGN_DATA_MAX (1024u * 1024u)
struct ssovault_sign_params {
	int scheme;			/* enum ssovault_sign_scheme */
	int hash;			/* of the digest given, or to apply to data */
	int data;			/* 1: in is the data (at most SSOVAULT_SIGN_DATA_MAX) */
	int mgf1;			/* PSS: MGF1's hash; NONE: the same as hash */
	uint32_t salt;			/* PSS: salt bytes, or SSOVAULT_SALT_DIGEST */
};
/*
 * Sign: in is a digest of hash (or, with SSOVAULT_HASH_NONE, RSA PKCS#1
 * v1.5's bytes to pad, a DigestInfo; ECDSA's digest of any length up to 64
 * bytes), or the data itself with p->data.  *ret_sig (malloc'd) is the
 * signature.  Refused like ssovault_cert_fetch(), and INVALID for a request
 * that does not fit the key; every use is audited ("cert sign").
 */
int ssovault_cert_sign(struct ssovault *h, const char *thumbprint,
    const struct ssovault_sign_params *p, const uint8_t *in, size_t len,
    uint8_t **ret_sig, size_t *ret_len) SV_WUR;
/*
 * Parameters from a name: "rsa-pkcs1-sha256", "rsa-pss-sha384", "ecdsa-sha256"
 * (SHA-1, -224, -256, -384, -512), or "rsa-pkcs1" / "ecdsa" for no hash;
 * data 0, PSS salt as long as the digest.  SV_ERR_INVALID if unknown.
 */
int ssovault_sign_params_parse(const char *name, struct ssovault_sign_params *ret) SV_WUR;

/*
 * Present certificate c (from ssovault_cert_usable()) in the handshakes of
 * an OpenSSL SSL_CTX (ssl_ctx is an SSL_CTX *): its chain, and a private key
 * whose signatures the service makes, through h as this caller: one
 * ssovault_cert_sign() per full handshake.  The key never enters this
 * process.  h must stay open as long as the SSL_CTX may handshake, and be
 * used by the handshaking thread only.  For libcurl: call it from
 * CURLOPT_SSL_CTX_FUNCTION.  SV_ERR_CRYPTO (errmsg says why) if OpenSSL
 * refuses the certificate.
 */
int ssovault_tls_use_cert(struct ssovault *h, const struct ssovault_cert_info *c,
    void *ssl_ctx) SV_WUR;

/* --- Send ports (settings JSON as docs/json.md; never secret values) ---- */

int ssovault_port_create(struct ssovault *h, const char *name, const char *settings_json) SV_WUR;
int ssovault_port_update(struct ssovault *h, const char *name, const char *settings_json) SV_WUR;
int ssovault_port_show(struct ssovault *h, const char *name, char **ret_json) SV_WUR;
int ssovault_port_list(struct ssovault *h, char **ret_json) SV_WUR;
int ssovault_port_delete(struct ssovault *h, const char *name) SV_WUR;

/* --- Suspended queue -------------------------------------------------- */

/*
 * Keep a message: settings_json is the send settings snapshot, reason one
 * line.  ret_id (malloc'd) names it.  The sender is the caller.
 */
int ssovault_suspended_add(struct ssovault *h, const char *settings_json,
    const uint8_t *body, size_t len, const char *reason, unsigned attempts,
    char **ret_id) SV_WUR;
int ssovault_suspended_list(struct ssovault *h, char **ret_json) SV_WUR;
int ssovault_suspended_show(struct ssovault *h, const char *id, char **ret_json) SV_WUR;
/* The message body and settings, for a resume. */
int ssovault_suspended_get(struct ssovault *h, const char *id, char **ret_settings_json,
    uint8_t **ret_body, size_t *ret_len) SV_WUR;
/* Record another failed attempt (resume that failed again). */
int ssovault_suspended_update(struct ssovault *h, const char *id, const char *reason,
    unsigned attempts) SV_WUR;
/* Remove it: after a successful resume, or terminate. */
int ssovault_suspended_remove(struct ssovault *h, const char *id, int delivered) SV_WUR;
/*
 * The per-uid limits of the queue and what uids hold (every uid for
 * affiliate admins, else the caller's), as JSON (docs/json.md).  _set
 * (vault admin): each limit SSOVAULT_LIMIT_KEEP, SSOVAULT_LIMIT_DEFAULT or
 * the new value; the reply is the same JSON.
 */
#define SSOVAULT_LIMIT_KEEP 0
#define SSOVAULT_LIMIT_DEFAULT UINT64_MAX
int ssovault_suspended_limits(struct ssovault *h, char **ret_json) SV_WUR;
int ssovault_suspended_limits_set(struct ssovault *h, uint64_t max_count, uint64_t max_size,
    char **ret_json) SV_WUR;

/* --- Audit ------------------------------------------------------------- */

/* since: Unix time, 0 for all; limit 0 for all. */
int ssovault_audit_list(struct ssovault *h, int64_t since, size_t limit, char **ret_json) SV_WUR;
/* 0 if the chain verifies; SV_ERR_INTEGRITY with the first bad sequence in errmsg. */
int ssovault_audit_verify(struct ssovault *h, char **ret_json) SV_WUR;
int ssovault_audit_prune(struct ssovault *h, uint64_t keep, char **ret_json) SV_WUR;
/* positive/negative: "none"|"low"|"medium"|"high", or NULL to keep. */
int ssovault_audit_level(struct ssovault *h, const char *positive, const char *negative,
    char **ret_json) SV_WUR;

#ifdef __cplusplus
}
#endif

#endif
