/*
 * sso.h: the inside of the SSO service, shared by the files of sso/ only.
 *
 * Every request, from the daemon's socket or from an embedded handle, is a
 * byte string `u8 op | [string object] | fields...` handed to sso_dispatch()
 * with the caller's identity.  The dispatch finds the operation in the one
 * policy table (service.c), checks the lock state, opens the transaction the
 * operation needs, loads its object (app, certificate, port, message),
 * checks the caller's role, runs the handler, appends the audit record (in
 * the same write transaction for changes) and composes exactly one reply:
 * `u32 status | string message | payload`.  Field layouts per operation are
 * in docs/protocol.md; client.c is the only other place that builds them.
 */
#ifndef SSOVAULT_SSO_H
#define SSOVAULT_SSO_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "ssovault/sverr.h"
#include "base/svbuf.h"
#include "vault/vault.h"
#include "proto/proto.h"

#define SSO_JOURNAL_BYTES (256u * 1024)	/* a journal file of read records */


/*
 * The service's tables in the vault (DESIGN 3), as indexes into
 * sso_schema, which vault_create() and vault_open() are given.  The audit
 * table is raw: its records are HMAC-chained, not sealed.
 */
enum sso_table {
	SSO_TABLE_META = VAULT_TABLE_META,
	SSO_TABLE_APPS = 1,
	SSO_TABLE_MAPPINGS = 2,
	SSO_TABLE_CERTS = 3,
	SSO_TABLE_PORTS = 4,
	SSO_TABLE_SUSPENDED = 5,
	SSO_TABLE_TICKETS = 6,
	SSO_TABLE_AUDIT = 7,
	SSO_TABLE__COUNT = 8,
};
extern const struct vault_schema sso_schema;

#define SSO_MAX_GROUPS 256
#define SSO_NAME_MAX 128		/* app, port, label names */
#define SSO_PRINCIPAL_MAX 300
#define SSO_APP_NAME_MAX 128		/* app names: bytes of UTF-8 */
#define SSO_APP_KEY_MAX 200		/* an app name's key: folded, bytes */

/* Who is asking: from SO_PEERCRED/SO_PEERGROUPS, or the process itself. */
struct sso_caller {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	size_t ngroups;
	gid_t groups[SSO_MAX_GROUPS];
	char exe[256];
};

/* The embedded caller: this process's ids and executable. */
int sso_caller_self(struct sso_caller *ret) SV_WUR;

/*
 * Principals.  sso_principal_check() validates and canonicalises ("User:x"
 * -> "user:x"; names keep their case) into out (SSO_PRINCIPAL_MAX).
 * sso_principal_match() is 1 if the caller is that principal (user/uid) or a
 * member of it (group/gid), resolving names now; 0 otherwise.
 * sso_principal_of() is the caller's own principal: "user:NAME" if the uid
 * has a name, else "uid:N".
 */
int sso_principal_check(const char *in, char *out, char *msg) SV_WUR;
/*
 * 1 if s is 1 to max bytes of valid UTF-8 without control characters (C0,
 * DEL, C1): what a principal's NAME may be (DESIGN 4).
 */
int sso_name_ok(const char *s, size_t max);
int sso_principal_match(const char *principal, const struct sso_caller *c);
void sso_principal_of(const struct sso_caller *c, char *out);
/*
 * The other spelling of the same account on this host: uid:N <-> user:NAME,
 * gid:N <-> group:NAME (SSO_PRINCIPAL_MAX bytes into out); SV_ERR_NOT_FOUND
 * if the name service does not know it.
 */
int sso_principal_alias(const char *principal, char *out);
/* 1 if any principal of the JSON array arr matches the caller. */
int sso_principal_match_any(json_t *arr, const struct sso_caller *c);
/* Describe the caller for messages: "uid 1001" or "uid 1001 (alice)". */
void sso_caller_describe(const struct sso_caller *c, char *out, size_t len);

struct sso_service;

/* Audit levels (ENTSSO): an event is recorded if its level <= the setting. */
enum sso_audit_level {
	SSO_AUDIT_NONE = 0,
	SSO_AUDIT_LOW = 1,
	SSO_AUDIT_MEDIUM = 2,
	SSO_AUDIT_HIGH = 3,
};

/* What the handler of an operation sees. */
struct sso_ctx {
	struct sso_service *svc;
	struct vault *v;
	const struct sso_caller *caller;
	struct vault_txn *txn;		/* read or write as the operation needs */
	enum sso_op op;
	int64_t now;			/* Unix seconds, from the service clock */
	int fd;				/* a passed file descriptor, or -1 */
	const uint8_t *req;		/* the request as it came (op byte first) */
	size_t req_len;
	char object[SSO_PRINCIPAL_MAX];	/* app / thumbprint / port / message id */
	char target[SSO_PRINCIPAL_MAX];	/* user the operation is about, for audit */
	json_t *app;			/* loaded app for app-scoped operations */
	int is_vault_admin;		/* the caller's roles, computed at dispatch */
	int is_affiliate_admin;		/* (vault admins are affiliate admins too) */
	int roles_err;			/* the roles record could not be read */
	struct svbuf *out;		/* payload of the reply (secure memory) */
	char msg[SV_MSG_MAX];		/* error detail */
};


/*
 * The policy table: one row per operation (ops/table.c holds the one the
 * service runs).  The dispatch reads only the row, never the operation's
 * number: every special case is a flag here.
 */
enum sso_need {
	SSO_NEED_NONE,		/* anyone, even while locked (status, unlock) */
	SSO_NEED_ANY,		/* any caller; the handler scopes what it sees */
	SSO_NEED_VAULT_ADMIN,
	SSO_NEED_AFFILIATE_ADMIN,	/* or vault admin */
	SSO_NEED_APP_ADMIN,	/* of the object app, or affiliate admin */
	SSO_NEED_APP_MEMBER,	/* app user or admin of the object app, or affiliate admin */
	SSO_NEED_CERT_USER,	/* granted use of the object certificate: no implicit grant */
	SSO_NEED_CERT_VIEWER,	/* cert user, or vault admin */
};

/* The object a request names after its op byte. */
enum sso_object { SSO_OBJ_NONE, SSO_OBJ_APP, SSO_OBJ_CERT, SSO_OBJ_PORT, SSO_OBJ_MSG };

#define SSO_OPF_WRITE 0x1		/* runs in a write transaction */
#define SSO_OPF_LOCKED_OK 0x2		/* runs on a locked vault */
#define SSO_OPF_OWN_TXN 0x4		/* the handler manages the vault itself */
#define SSO_OPF_KEYS 0x8		/* changes the keys or replaces the data: no
					   decoded record from before is served after
					   it, and a shared service runs it alone */
#define SSO_OPF_KDF 0x10		/* runs Argon2id on a caller's secret (key hooks) */
#define SSO_OPF_ADMIN_AFTER_KEYS 0x20	/* shared service: only a vault admin, asked
					   of the vault with the new keys (unlock) */
#define SSO_OPF_FLUSH_FIRST 0x40	/* counts of repeats are written first (lock) */
#define SSO_OPF_AUDIT_OPTIONAL 0x80	/* succeeds even if its record cannot be
					   written: hands out nothing secret, and is
					   the way to a restore (status, unlock) */
#define SSO_OPF_DAMAGED_ROLES_OK 0x100	/* runs on a damaged roles record: the way
					   out of it (restore) */
#define SSO_OPF_ROOM_ALL 0x200		/* the way out: may use the whole reserve */
#define SSO_OPF_ROOM_RECORDS 0x400	/* may fill as far as audit records may */
#define SSO_OPF_FOLD_FIRST 0x800	/* reads the trail: the journal of reads is
					   folded into it first */
#define SSO_OPF_AUDIT_FIRST 0x1000	/* its record is written before it runs: it wipes
					   the keys the record needs (lock) */
#define SSO_OPF_AUDIT_LOW_SHARED 0x2000	/* in a shared service (the daemon), recorded at
					   level low: an embedded command's own unlock is not */
#define SSO_OPF_MEMO 0x4000		/* a read whose answer rests only on the vault, the
					   caller's ids, the request and names: repeated
					   answers may come from the memo (core/memo.c) */

struct sso_ctx;
struct svbuf;
typedef int (*sso_handler_fn)(struct sso_ctx *x, struct svbuf *req);

/* The daemon's log lines of an operation: "<ok> by <who><ok_tail>", "<refused> for <who>: <why>". */
struct sso_op_log {
	const char *ok;
	const char *ok_tail;
	const char *refused;		/* NULL: no line for a refusal */
};

struct sso_op_def {
	enum sso_op op;
	const char *name;		/* as audit records and messages name it */
	enum sso_need need;
	enum sso_object obj;
	unsigned flags;			/* SSO_OPF_* */
	int level;			/* audit level at which it is recorded */
	sso_handler_fn fn;
	const struct sso_op_log *log;	/* the daemon's log lines, or NULL */
};

struct sso_optab {
	const struct sso_op_def *ops;
	size_t n;
	/*
	 * The principals granted a certificate (the object of SSO_NEED_CERT_*
	 * operations): SV_ERR_NOT_FOUND if there is no such certificate.
	 */
	int (*cert_users)(struct sso_ctx *x, json_t **ret_users);
};
/* The row of op, or NULL. */
const struct sso_op_def *sso_optab_find(const struct sso_optab *tab, unsigned op);

/*
 * Service life.  The service takes ownership of v and runs the operations
 * of tab (which must outlive it); ops/ops.h's sso_service_new() gives it
 * the service's own table.
 */
int sso_service_new_with(struct vault *v, const struct sso_optab *tab,
    struct sso_service **ret) SV_WUR;
void sso_service_free(struct sso_service *s);
struct vault *sso_service_vault(struct sso_service *s);
/* Progress of long work (rotation), for an embedded caller's terminal. */
void sso_service_set_progress(struct sso_service *s,
    void (*fn)(void *ctx, size_t done, size_t total), void *ctx);
void sso_service_progress(struct sso_service *s, size_t done, size_t total);
/* A clock for tests (Unix seconds); NULL restores time(). */
void sso_service_set_clock(struct sso_service *s, int64_t (*now)(void *), void *ctx);

/*
 * Make a new vault's SSO state: roles (the caller and admins become vault
 * admins), default ticket and audit settings, and the first audit record.
 */
int sso_service_bootstrap(struct sso_service *s, const struct sso_caller *c,
    const char *const *admins, size_t nadmins, char *msg) SV_WUR;

/*
 * Run one request.  reply receives `u32 status | string message | payload`
 * whatever happens; the return value is the status too.  fd is a file
 * descriptor passed with the request (backup/restore), or -1.
 */
int sso_dispatch(struct sso_service *s, const struct sso_caller *c,
    const uint8_t *req, size_t len, int fd, struct svbuf *reply);

/*
 * Group commit, for the daemon's writer: run a request inside parent (a
 * write transaction the caller commits, with many requests in it).  A write
 * operation runs in a child of parent: its failure (and its audit record's
 * failure) rolls back only its own changes.  Operations that need no write
 * transaction run as sso_dispatch() would.
 */
int sso_dispatch_in(struct sso_service *s, struct vault_txn *parent,
    const struct sso_caller *c, const uint8_t *req, size_t len, int fd,
    struct svbuf *reply);

/*
 * How the dispatch writes the audit records of reads (no write transaction
 * of their own): the default commits one write transaction per record; the
 * daemon installs a sink that groups them.  It must return only once the
 * record is stored (or failed): fail closed.
 */
typedef int (*sso_audit_sink_fn)(void *ctx, const uint8_t *rec, size_t len);
void sso_service_set_audit_sink(struct sso_service *s, sso_audit_sink_fn fn, void *ctx);

/*
 * Write the counts of repeated failures still held in memory (repeat.h).
 * sso_service_free() does it too, if the vault is still unlocked; a daemon
 * that locks the vault at its stop calls it first.
 */
int sso_service_flush(struct sso_service *s) SV_WUR;
/*
 * The journal of reads (core/journal.h, docs/audit.md "The journal of
 * reads"): the records of reads go into a shared file mapping at once and
 * into the chain by folds, many in one transaction.  An embedded service
 * opens one at its second read record, with a folder thread that folds
 * within SSO_FOLD_MS of a record (sooner past SSO_FOLD_BYTES), and at every
 * write, flush and close.  A daemon starts it with folder 0 and folds
 * through its own committer (the hooks): sso_service_fold() in its write
 * transactions, kick() when a fold is due (urgent: past SSO_FOLD_BYTES),
 * fold_now() to fold and wait for it.
 */
#define SSO_FOLD_MS 20
#define SSO_FOLD_RETRY_MS 1000	/* the daemon, while its folds fail */
#define SSO_FOLD_BYTES (SSO_JOURNAL_BYTES / 4)
struct sso_fold_hooks {
	void (*kick)(void *ctx, int urgent);
	int (*fold_now)(void *ctx);
};
int sso_service_journal_start(struct sso_service *s, int folder) SV_WUR;
/*
 * Before sso_service_journal_start(): the journals of a vault at a URI go
 * in dir (copied), the host's own (journal.h says what it must be); NULL,
 * the default, keeps them in the vault's directory, and a vault at a URI
 * then has none (each read commits its record).
 */
int sso_service_set_journal_dir(struct sso_service *s, const char *dir) SV_WUR;
void sso_service_set_fold_hooks(struct sso_service *s, const struct sso_fold_hooks *h,
    void *ctx);
/* What a fold took: hand it to sso_service_folded() once t committed or not. */
struct sso_journal_orphans;
struct sso_fold {
	size_t n;			/* records folded */
	struct sso_journal *j, *j2;	/* the journals folded, NULL: none (two per process: docs/audit.md) */
	size_t to, to2;			/* how far each */
	struct sso_journal_orphans *orphans;
};
/*
 * Fold the journal's pending records (and journals left by dead processes)
 * into write transaction t before anything else in it; notes whether the
 * vault is past its data room (then reads commit their records at once).
 * A failure leaves t usable and the records pending.
 */
int sso_service_fold(struct sso_service *s, struct vault_txn *t, struct sso_fold *ret) SV_WUR;
void sso_service_folded(struct sso_service *s, struct sso_fold *f, int committed);
/* 1 if reads' records go to the journal now (not past the data room). */
int sso_service_journal_on(struct sso_service *s);
/* Bytes of records in the journal not yet folded. */
size_t sso_service_journal_pending(struct sso_service *s);

/* Where the service logs a line (the vault crossing its fill warning); NULL: nowhere. */
void sso_service_set_log(struct sso_service *s, void (*fn)(void *ctx, const char *line),
    void *ctx);

/* Status warns, and the daemon logs once, from this share of the ceiling on. */
#define SSO_FULL_WARN_PCT 80
/* used as a whole percentage of max, rounded down. */
unsigned sso_full_percent(size_t used, size_t max);
/* The warning line for used of max; 0 (and out untouched) below SSO_FULL_WARN_PCT. */
int sso_full_warning(size_t used, size_t max, char *out, size_t outlen);

/*
 * A service shared by many callers (the daemon) installs key hooks.  The
 * requests that run Argon2id (unlock with a passphrase, secret restore)
 * call kdf_begin before it, with the memory it takes: the daemon may refuse
 * (one derivation at a time per uid, a growing delay after wrong secrets, a
 * memory budget: an error and a message saying when to try again) or let
 * go of its key lock, so that no lock serving others is held while it runs;
 * kdf_end takes the lock back, shared.  exclusive takes it exclusively,
 * before keys are installed.  With hooks, unlock and secret restore also
 * need a vault admin, asked of the vault with the new keys before any other
 * request can see them (DESIGN 8); without them (embedded mode) the caller
 * holds the handle alone and possession of the secret is enough.
 */
struct sso_key_hooks {
	int (*kdf_begin)(void *ctx, const struct sso_caller *c, size_t memory, char *msg);
	void (*kdf_end)(void *ctx, const struct sso_caller *c, size_t memory);
	void (*exclusive)(void *ctx);
};
void sso_service_set_key_hooks(struct sso_service *s, const struct sso_key_hooks *h,
    void *ctx);
/* 1 if key hooks are installed: the service is shared. */
int sso_service_shared(const struct sso_service *s);
/* A thread that served requests ends: what it kept of their answers goes now. */
void sso_service_thread_end(void);
/* Wipe the answers a service keeps (before its vault is locked). */
void sso_service_memo_clear(struct sso_service *s);
/* Answers served from the service's memo, and reads that asked it and missed. */
void sso_service_memo_counts(struct sso_service *s, unsigned long *ret_hits,
    unsigned long *ret_misses);
/*
 * 1 if the vault is unlocked and its roles record names the caller a vault
 * admin, else 0 (for the daemon's reserve of connections).
 */
int sso_service_is_vault_admin(struct sso_service *s, const struct sso_caller *c);
/* For handlers: the hooks, or nothing without them. */
int sso_kdf_begin(struct sso_ctx *x, size_t memory) SV_WUR;
void sso_kdf_end(struct sso_ctx *x, size_t memory);
void sso_keys_exclusive(struct sso_ctx *x);

/* --- helpers for handlers (records.c) -------------------------------- */

/* A role check failed: fills x->msg "access denied: <who> is not <what>". */
int sso_deny(struct sso_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Read a string field into a fixed buffer. */
int sso_req_name(struct svbuf *req, char *out, size_t outlen) SV_WUR;
/* Append a JSON value to x->out as a string field; takes the reference. */
int sso_out_json(struct sso_ctx *x, json_t *j) SV_WUR;
/* Load / store JSON records (apps, ports, settings) through sealed records. */
int sso_json_get(struct vault_txn *t, enum sso_table tab, const char *key,
    json_t **ret, char *msg) SV_WUR;
int sso_json_put(struct vault_txn *t, enum sso_table tab, const char *key,
    json_t *j, unsigned flags) SV_WUR;
/*
 * sso_json_get() for a reader that does not change what it gets: the object
 * may be shared with a per-thread cache of decoded records (no secrets);
 * json_decref() it and nothing else.
 */
int sso_json_get_shared(struct vault_txn *t, enum sso_table tab, const char *key,
    json_t **ret, char *msg) SV_WUR;
/* The lower-case key of a port name or message id; SV_ERR_INVALID if it is not a name. */
int sso_app_key(const char *name, char out[SSO_NAME_MAX + 1], char *msg) SV_WUR;
/*
 * The key of an application name (docs/apps.md): names are 1 to
 * SSO_APP_NAME_MAX bytes of UTF-8, any letters, digits, spaces and
 * punctuation, no control characters, no space at either end.  The key is
 * the name in Unicode NFC with its case folded (ICU), so names that differ
 * only in case are one app; ASCII names keep the keys they always had.
 * SV_ERR_INVALID with a message saying the rule if name is not one.
 */
int sso_app_name_key(const char *name, char out[SSO_APP_KEY_MAX + 1], char *msg) SV_WUR;
/*
 * s quoted for a POSIX shell if it needs it ('it''s' style), into out, for
 * messages that show a command to run next; truncated to outlen.
 */
void sso_shell_quote(const char *s, char *out, size_t outlen);
#define SSO_QUOTED_MAX 160		/* enough for the names messages quote */
/*
 * Roles from meta: 1 if the caller holds role ("vault-admin" or
 * "affiliate-admin"), 0 if not, a negative error if the record is unreadable.
 */
int sso_role_held(struct vault_txn *t, const char *role, const struct sso_caller *c);
/*
 * 1 if app (the loaded x->app, or another) names the caller among its
 * admins / users; global roles are not counted.  0 for a NULL app.
 */
int sso_app_is_admin(struct sso_ctx *x, json_t *app);
int sso_app_is_user(struct sso_ctx *x, json_t *app);

/* --- audit (audit.c) ------------------------------------------------- */

struct sso_audit_event {
	const struct sso_caller *caller;
	int64_t time_us;
	const char *op;
	const char *object;
	const char *target;
	int outcome;			/* 0 or SV_ERR_* */
	const char *error;		/* one line, never a secret */
	uint32_t count;			/* 0: one event; else a record of this many repeats */
	int64_t first_us;		/* with count: when the first of them happened */
	const char *host;		/* NULL or "": not named (a single-host vault) */
};
/* Encode an event as an (unchained) record body; audit_append chains it. */
int sso_audit_encode(const struct sso_audit_event *e, struct svbuf *out) SV_WUR;
/*
 * Append an encoded record to the chain inside write transaction t.  Records
 * may fill the vault up to VAULT_ROOM_RECORDS: past it they fail with
 * SV_ERR_MAP_FULL and t must be aborted (fail closed).
 */
int sso_audit_append(struct vault_txn *t, const uint8_t *rec, size_t len) SV_WUR;
/*
 * A failed audit write fails its request closed: the status to answer
 * (SV_ERR_AUDIT, or SV_ERR_UNREACHABLE / SV_ERR_LOCKED as they are, exit 6)
 * and its message, ending in what ("nothing is returned").
 */
int sso_audit_fail_status(int err);
void sso_audit_fail_msg(int err, const char *what, char *out, size_t len);

/* The same for n records in order, reading and sealing the chain's end once. */
int sso_audit_append_many(struct vault_txn *t, const uint8_t *const *rec,
    const size_t *len, size_t n) SV_WUR;
/* The same with the room they may take (VAULT_ROOM_ALL: the way out's records). */
int sso_audit_append_room(struct vault_txn *t, const uint8_t *const *rec,
    const size_t *len, size_t n, enum vault_room room) SV_WUR;
/* Current levels (defaults if unset). */
int sso_audit_levels(struct vault_txn *t, int *ret_positive, int *ret_negative) SV_WUR;
int sso_audit_init_defaults(struct vault_txn *t) SV_WUR;

/* A parsed stored record; strings point into the stored value. */
struct sso_audit_rec {
	uint64_t seq;
	uint64_t time_us;
	uint32_t uid, gid, pid, outcome;
	uint32_t count;		/* events the record stands for: 1, or repeats */
	uint64_t first_us;	/* a record of repeats: the first of them */
	int repeat;
	const uint8_t *body;
	size_t body_len;
	const uint8_t *mac;
	const uint8_t *s[5];	/* exe, op, object, target, error */
	size_t n[5];
	const uint8_t *host;	/* versions 3 and 4: the host that wrote it */
	size_t host_len;
};

/* Parse a stored record (key's value: u64 seq | body | mac). */
int sso_audit_parse(const uint8_t *p, size_t len, struct sso_audit_rec *ret) SV_WUR;
/* The chain's end ("audit.head") or start ("audit.anchor"); zeros if unset. */
int sso_audit_end_get(struct vault_txn *t, const char *name, uint64_t *ret_seq,
    uint8_t ret_mac[VAULT_MAC_BYTES]) SV_WUR;
int sso_audit_end_put(struct vault_txn *t, const char *name, uint64_t seq,
    const uint8_t mac[VAULT_MAC_BYTES]) SV_WUR;
/* The table key of sequence number seq (big-endian). */
void sso_audit_seq_key(uint64_t seq, uint8_t k[8]);
/* mac = HMAC(prev | seq | body) under the audit key, through the vault. */
int sso_audit_chain_mac(struct vault *v, const uint8_t prev[VAULT_MAC_BYTES], uint64_t seq,
    const uint8_t *body, size_t len, uint8_t out[VAULT_MAC_BYTES]) SV_WUR;

/* --- the suspended queue's per-uid quotas (h_suspended_quota.c) ------ */

struct sso_queue_limits {
	uint64_t max_count;		/* messages one uid may keep */
	uint64_t max_size;		/* sealed bytes one uid may keep */
	int count_default;		/* 1: not set by an admin */
	int size_default;
	uint64_t vault_size;		/* what the default size is a quarter of */
};
/* The limits in force, from meta (defaults where unset). */
int sso_queue_limits_load(struct sso_ctx *x, struct sso_queue_limits *ret) SV_WUR;
/*
 * Per-uid usage, a JSON object {"UID": {"count": N, "size": BYTES}} kept in
 * meta and changed in the same write transaction as the queue.  Load it
 * before changing a message: when it is missing it is counted from the
 * queue as it stands.
 */
int sso_queue_usage_load(struct sso_ctx *x, json_t **ret) SV_WUR;
/*
 * 0 if uid may keep dcount more messages of dbytes more sealed bytes; else
 * SV_ERR_TOO_LARGE with x->msg naming the limit, what uid holds and what to do.
 */
int sso_queue_quota_check(struct sso_ctx *x, const struct sso_queue_limits *l,
    json_t *usage, uint32_t uid, int64_t dcount, int64_t dbytes) SV_WUR;
/* Add dcount and dbytes (negative: release) to uid's usage and store it. */
int sso_queue_usage_add(struct sso_ctx *x, json_t *usage, uint32_t uid, int64_t dcount,
    int64_t dbytes) SV_WUR;
/* Drop the usage record: the next load counts it again from the queue. */
int sso_queue_usage_forget(struct sso_ctx *x) SV_WUR;
/* The sender's uid of a message record (h_suspended.c); plain is consumed. */
int sso_suspended_record_uid(struct svbuf *plain, uint32_t *ret_uid) SV_WUR;

#endif
