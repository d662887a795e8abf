/*
 * The service core: the one policy table and the one dispatch through which
 * every request passes, from the daemon and from embedded handles alike.
 * Nothing outside this file decides whether a caller may run an operation
 * (handlers only refine it where the table cannot: "own mapping or admin").
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <sodium.h>

#include "cert.h"
#include "repeat.h"
#include "sso.h"

/* Who may run an operation. */
enum need {
	NEED_NONE,		/* anyone, even while locked (status, unlock) */
	NEED_ANY,		/* any caller; the handler scopes what it sees */
	NEED_VAULT_ADMIN,
	NEED_AFFILIATE_ADMIN,	/* or vault admin */
	NEED_APP_ADMIN,		/* of the object app, or affiliate admin */
	NEED_APP_MEMBER,	/* app user or admin of the object app, or affiliate admin */
	NEED_CERT_USER,		/* granted use of the object certificate: no implicit grant */
	NEED_CERT_VIEWER,	/* cert user, or vault admin */
};

enum object { OBJ_NONE, OBJ_APP, OBJ_CERT, OBJ_PORT, OBJ_MSG };

#define F_WRITE 0x1		/* runs in a write transaction */
#define F_LOCKED_OK 0x2		/* runs on a locked vault */
#define F_OWN_TXN 0x4		/* the handler manages the vault itself */

struct op_def {
	enum sso_op op;
	const char *name;
	enum need need;
	enum object obj;
	unsigned flags;
	int level;		/* audit level at which it is recorded */
	sso_handler_fn fn;
};

#define L SSO_AUDIT_LOW
#define M SSO_AUDIT_MEDIUM
#define H SSO_AUDIT_HIGH

static const struct op_def ops[] = {
	{ SSO_OP_STATUS, "status", NEED_NONE, OBJ_NONE, F_LOCKED_OK | F_OWN_TXN, H, sso_h_status },
	{ SSO_OP_UNLOCK, "unlock", NEED_NONE, OBJ_NONE, F_LOCKED_OK | F_OWN_TXN, M, sso_h_unlock },
	{ SSO_OP_LOCK, "lock", NEED_VAULT_ADMIN, OBJ_NONE, F_OWN_TXN, L, sso_h_lock },
	{ SSO_OP_SECRET_BACKUP, "secret backup", NEED_VAULT_ADMIN, OBJ_NONE, 0, L, sso_h_secret_backup },
	{ SSO_OP_SECRET_RESTORE, "secret restore", NEED_NONE, OBJ_NONE, F_LOCKED_OK | F_OWN_TXN, L, sso_h_secret_restore },
	{ SSO_OP_SECRET_ROTATE, "secret rotate", NEED_VAULT_ADMIN, OBJ_NONE, F_OWN_TXN, L, sso_h_secret_rotate },
	{ SSO_OP_BACKUP, "backup", NEED_VAULT_ADMIN, OBJ_NONE, F_OWN_TXN, L, sso_h_backup },
	{ SSO_OP_RESTORE, "restore", NEED_VAULT_ADMIN, OBJ_NONE, F_OWN_TXN, L, sso_h_restore },
	{ SSO_OP_ROLE_LIST, "role list", NEED_VAULT_ADMIN, OBJ_NONE, 0, H, sso_h_role_list },
	{ SSO_OP_ROLE_ADD, "role add", NEED_VAULT_ADMIN, OBJ_NONE, F_WRITE, L, sso_h_role_add },
	{ SSO_OP_ROLE_REMOVE, "role remove", NEED_VAULT_ADMIN, OBJ_NONE, F_WRITE, L, sso_h_role_remove },
	{ SSO_OP_APP_CREATE, "app create", NEED_AFFILIATE_ADMIN, OBJ_NONE, F_WRITE, L, sso_h_app_create },
	{ SSO_OP_APP_LIST, "app list", NEED_ANY, OBJ_NONE, 0, H, sso_h_app_list },
	{ SSO_OP_APP_SHOW, "app show", NEED_APP_MEMBER, OBJ_APP, 0, M, sso_h_app_show },
	{ SSO_OP_APP_UPDATE, "app update", NEED_APP_ADMIN, OBJ_APP, F_WRITE, L, sso_h_app_update },
	{ SSO_OP_APP_ENABLE, "app enable", NEED_AFFILIATE_ADMIN, OBJ_APP, F_WRITE, L, sso_h_app_enable },
	{ SSO_OP_APP_DISABLE, "app disable", NEED_AFFILIATE_ADMIN, OBJ_APP, F_WRITE, L, sso_h_app_disable },
	{ SSO_OP_APP_DELETE, "app delete", NEED_AFFILIATE_ADMIN, OBJ_APP, F_WRITE, L, sso_h_app_delete },
	{ SSO_OP_APP_IMPORT, "app import", NEED_AFFILIATE_ADMIN, OBJ_NONE, F_WRITE, L, sso_h_app_import },
	{ SSO_OP_MAPPING_CREATE, "mapping create", NEED_APP_ADMIN, OBJ_APP, F_WRITE, L, sso_h_mapping_create },
	{ SSO_OP_MAPPING_LIST, "mapping list", NEED_ANY, OBJ_NONE, 0, H, sso_h_mapping_list },
	{ SSO_OP_MAPPING_ENABLE, "mapping enable", NEED_APP_MEMBER, OBJ_APP, F_WRITE, L, sso_h_mapping_enable },
	{ SSO_OP_MAPPING_DISABLE, "mapping disable", NEED_APP_MEMBER, OBJ_APP, F_WRITE, L, sso_h_mapping_disable },
	{ SSO_OP_MAPPING_DELETE, "mapping delete", NEED_APP_ADMIN, OBJ_APP, F_WRITE, L, sso_h_mapping_delete },
	{ SSO_OP_CREDS_SET, "creds set", NEED_APP_MEMBER, OBJ_APP, F_WRITE, L, sso_h_creds_set },
	{ SSO_OP_CREDS_GET, "creds get", NEED_APP_MEMBER, OBJ_APP, 0, L, sso_h_creds_get },
	{ SSO_OP_TICKET_ISSUE, "ticket issue", NEED_ANY, OBJ_NONE, 0, M, sso_h_ticket_issue },
	{ SSO_OP_TICKET_REDEEM, "ticket redeem", NEED_APP_ADMIN, OBJ_APP, F_WRITE, L, sso_h_ticket_redeem },
	{ SSO_OP_TICKET_SETTINGS, "ticket settings", NEED_VAULT_ADMIN, OBJ_NONE, F_WRITE, L, sso_h_ticket_settings },
	{ SSO_OP_CERT_IMPORT, "cert import", NEED_VAULT_ADMIN, OBJ_NONE, F_WRITE, L, sso_h_cert_import },
	{ SSO_OP_CERT_LIST, "cert list", NEED_VAULT_ADMIN, OBJ_NONE, 0, H, sso_h_cert_list },
	{ SSO_OP_CERT_SHOW, "cert show", NEED_CERT_VIEWER, OBJ_CERT, 0, M, sso_h_cert_show },
	{ SSO_OP_CERT_EXPORT, "cert export", NEED_CERT_VIEWER, OBJ_CERT, 0, M, sso_h_cert_export },
	{ SSO_OP_CERT_DELETE, "cert delete", NEED_VAULT_ADMIN, OBJ_CERT, F_WRITE, L, sso_h_cert_delete },
	{ SSO_OP_CERT_GRANT, "cert grant", NEED_VAULT_ADMIN, OBJ_CERT, F_WRITE, L, sso_h_cert_grant },
	{ SSO_OP_CERT_REVOKE, "cert revoke", NEED_VAULT_ADMIN, OBJ_CERT, F_WRITE, L, sso_h_cert_revoke },
	{ SSO_OP_CERT_FETCH, "cert fetch", NEED_CERT_USER, OBJ_CERT, 0, L, sso_h_cert_fetch },
	{ SSO_OP_PORT_CREATE, "port create", NEED_AFFILIATE_ADMIN, OBJ_PORT, F_WRITE, L, sso_h_port_create },
	{ SSO_OP_PORT_UPDATE, "port update", NEED_AFFILIATE_ADMIN, OBJ_PORT, F_WRITE, L, sso_h_port_update },
	{ SSO_OP_PORT_SHOW, "port show", NEED_ANY, OBJ_PORT, 0, H, sso_h_port_show },
	{ SSO_OP_PORT_LIST, "port list", NEED_ANY, OBJ_NONE, 0, H, sso_h_port_list },
	{ SSO_OP_PORT_DELETE, "port delete", NEED_AFFILIATE_ADMIN, OBJ_PORT, F_WRITE, L, sso_h_port_delete },
	{ SSO_OP_SUSPENDED_ADD, "suspended add", NEED_ANY, OBJ_NONE, F_WRITE, L, sso_h_suspended_add },
	{ SSO_OP_SUSPENDED_LIST, "suspended list", NEED_ANY, OBJ_NONE, 0, H, sso_h_suspended_list },
	{ SSO_OP_SUSPENDED_SHOW, "suspended show", NEED_ANY, OBJ_MSG, 0, M, sso_h_suspended_show },
	{ SSO_OP_SUSPENDED_GET, "suspended get", NEED_ANY, OBJ_MSG, 0, L, sso_h_suspended_get },
	{ SSO_OP_SUSPENDED_UPDATE, "suspended update", NEED_ANY, OBJ_MSG, F_WRITE, L, sso_h_suspended_update },
	{ SSO_OP_SUSPENDED_REMOVE, "suspended remove", NEED_ANY, OBJ_MSG, F_WRITE, L, sso_h_suspended_remove },
	{ SSO_OP_SUSPENDED_LIMITS, "suspended limits", NEED_ANY, OBJ_NONE, 0, H, sso_h_suspended_limits },
	{ SSO_OP_SUSPENDED_LIMITS_SET, "suspended limits set", NEED_VAULT_ADMIN, OBJ_NONE, F_WRITE, L, sso_h_suspended_limits_set },
	{ SSO_OP_AUDIT_LIST, "audit list", NEED_VAULT_ADMIN, OBJ_NONE, 0, H, sso_h_audit_list },
	{ SSO_OP_AUDIT_VERIFY, "audit verify", NEED_VAULT_ADMIN, OBJ_NONE, 0, M, sso_h_audit_verify },
	{ SSO_OP_AUDIT_PRUNE, "audit prune", NEED_VAULT_ADMIN, OBJ_NONE, F_WRITE, L, sso_h_audit_prune },
	{ SSO_OP_AUDIT_LEVEL, "audit level", NEED_VAULT_ADMIN, OBJ_NONE, F_WRITE, L, sso_h_audit_level },
};

#undef L
#undef M
#undef H

struct sso_service {
	struct vault *v;
	int64_t (*now)(void *);
	void *now_ctx;
	sso_audit_sink_fn sink;
	void *sink_ctx;
	void (*progress)(void *, size_t, size_t);
	void *progress_ctx;
	int unsynced;		/* read records committed without a disk sync */
	struct sso_repeat *repeat;	/* failures counted for records of repeats */
	void (*log)(void *, const char *);
	void *log_ctx;
	atomic_int full_warned;	/* the fill warning was logged; not since below it */
	const struct sso_key_hooks *hooks;	/* NULL: not shared (embedded) */
	void *hooks_ctx;
};

/*
 * How far an operation's changes may fill the vault (docs/keys.md, "How big
 * a vault grows").  The way out may use the reserve: what frees space, and
 * what a vault admin needs to regain control (roles, audit settings, lock
 * and unlock).  A ticket redemption is a credential read whose single-use
 * marker is as small as a record: it may go as far as records.  Everything
 * else stops short of the reserve.
 */
static enum vault_room
op_room(enum sso_op op)
{
	switch (op) {
	case SSO_OP_LOCK:
	case SSO_OP_UNLOCK:
	case SSO_OP_SECRET_RESTORE:
	case SSO_OP_RESTORE:
	case SSO_OP_ROLE_ADD:
	case SSO_OP_ROLE_REMOVE:
	case SSO_OP_APP_DISABLE:
	case SSO_OP_APP_DELETE:
	case SSO_OP_MAPPING_DISABLE:
	case SSO_OP_MAPPING_DELETE:
	case SSO_OP_CERT_DELETE:
	case SSO_OP_CERT_REVOKE:
	case SSO_OP_PORT_DELETE:
	case SSO_OP_SUSPENDED_REMOVE:
	case SSO_OP_AUDIT_PRUNE:
	case SSO_OP_AUDIT_LEVEL:
		return VAULT_ROOM_ALL;
	case SSO_OP_TICKET_REDEEM:
		return VAULT_ROOM_RECORDS;
	default:
		return VAULT_ROOM_DATA;
	}
}

static const struct op_def *
op_find(unsigned op)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if ((unsigned)ops[i].op == op)
			return &ops[i];
	return NULL;
}

/*
 * Decoded JSON records that every request reads again (the roles, the audit
 * settings, the app it is about).  Opening one costs a decryption and a
 * JSON parse; instead its sealed bytes are compared with those of the copy
 * kept here: the same bytes under the same vault, table and key are the
 * same record, authenticated when they were first opened (a changed or
 * altered record has other bytes and is opened again, with its check).
 * One small cache per thread, so no locks; a generation counter drops every
 * thread's entries when keys change (unlock, lock, rotate, restore) or a
 * service comes or goes.  Only records that hold no secret come here, and
 * the objects handed out are shared: callers must not change them.
 */
#define JCACHE_SLOTS 8
#define JCACHE_SEALED_MAX 8192

struct jcache_entry {
	unsigned gen;			/* 0: empty */
	const struct vault *v;
	enum vault_table tab;
	char key[SSO_NAME_MAX + 1];
	uint8_t *sealed;
	size_t len;
	json_t *j;
	unsigned long used;
};

struct jcache {
	struct jcache_entry e[JCACHE_SLOTS];
	unsigned long tick;
	int registered;
};

static __thread struct jcache jc;
static atomic_uint jcache_gen = 1;
static pthread_key_t jcache_key;
static pthread_once_t jcache_once = PTHREAD_ONCE_INIT;
static int jcache_key_ok;

static void
jcache_entry_clear(struct jcache_entry *e)
{
	json_decref(e->j);
	free(e->sealed);
	memset(e, 0, sizeof(*e));
}

/* A thread ends: its entries go with it. */
static void
jcache_drop(void *arg)
{
	struct jcache *c = arg;
	size_t i;

	for (i = 0; i < JCACHE_SLOTS; i++)
		jcache_entry_clear(&c->e[i]);
}

static void
jcache_init(void)
{
	jcache_key_ok = pthread_key_create(&jcache_key, jcache_drop) == 0;
}

static void
jcache_forget(void)
{
	atomic_fetch_add(&jcache_gen, 1);
}

/* Keep j for these sealed bytes; a failure only means no caching. */
static void
jcache_put(struct vault *v, enum vault_table tab, const char *key,
    const uint8_t *sealed, size_t len, unsigned gen, json_t *j)
{
	struct jcache_entry *e = &jc.e[0];
	uint8_t *copy;
	size_t i;

	if (len > JCACHE_SEALED_MAX || strlen(key) > SSO_NAME_MAX)
		return;
	if (!jc.registered) {
		pthread_once(&jcache_once, jcache_init);
		if (!jcache_key_ok || pthread_setspecific(jcache_key, &jc) != 0)
			return;
		jc.registered = 1;
	}
	for (i = 1; i < JCACHE_SLOTS; i++)
		if (jc.e[i].used < e->used)
			e = &jc.e[i];
	if ((copy = malloc(len == 0 ? 1 : len)) == NULL)
		return;
	jcache_entry_clear(e);
	memcpy(copy, sealed, len);
	e->gen = gen;
	e->v = v;
	e->tab = tab;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->sealed = copy;
	e->len = len;
	e->j = json_incref(j);
	e->used = ++jc.tick;
}

/*
 * sso_json_get() for readers that do not change what they get: *ret is a
 * reference to an object that may be shared (json_decref() it, nothing else).
 */
static int
json_get_shared(struct vault_txn *t, enum vault_table tab, const char *key,
    json_t **ret, char *msg)
{
	struct vault *v = vault_txn_vault(t);
	unsigned gen = atomic_load(&jcache_gen);
	const uint8_t *p;
	uint8_t *sealed = NULL;
	size_t len, i;
	json_t *j = NULL;
	int r;

	if (vault_raw_get(t, tab, key, strlen(key), &p, &len) != 0)
		return sso_json_get(t, tab, key, ret, msg);	/* its error, its message */
	for (i = 0; i < JCACHE_SLOTS; i++) {
		struct jcache_entry *e = &jc.e[i];

		if (e->gen == gen && e->v == v && e->tab == tab && e->len == len &&
		    strcmp(e->key, key) == 0 && memcmp(e->sealed, p, len) == 0) {
			e->used = ++jc.tick;
			*ret = json_incref(e->j);
			return 0;
		}
	}
	/* p points into the map: keep the bytes that are about to be opened */
	if (len <= JCACHE_SEALED_MAX && (sealed = malloc(len == 0 ? 1 : len)) != NULL)
		memcpy(sealed, p, len);
	if ((r = sso_json_get(t, tab, key, &j, msg)) == 0 && sealed != NULL)
		jcache_put(v, tab, key, sealed, len, gen, j);
	free(sealed);
	if (r == 0)
		*ret = j;
	return r;
}

int
sso_json_get_shared(struct vault_txn *t, enum vault_table tab, const char *key,
    json_t **ret, char *msg)
{
	return json_get_shared(t, tab, key, ret, msg);
}

static int64_t now_us(struct sso_service *s);

/*
 * Write every count of repeated failures still held, in write transactions
 * of their own with a disk sync.  Needs the vault unlocked (the chain's
 * key); the daemon calls it before it locks the vault at its stop.
 */
int
sso_service_flush(struct sso_service *s)
{
	const uint8_t *recs[SSO_REPEAT_TAKE_MAX];
	size_t lens[SSO_REPEAT_TAKE_MAX], i;
	struct sso_repeat_take tk;
	struct vault_txn *t = NULL;
	int r = 0;

	while (r == 0 && vault_is_unlocked(s->v) && sso_repeat_pending(s->repeat)) {
		if ((r = sso_repeat_take(s->repeat, now_us(s), 1, &tk)) != 0)
			break;
		if (tk.n == 0)
			break;		/* the rest is being written by others */
		for (i = 0; i < tk.n; i++) {
			recs[i] = svbuf_ptr(tk.rec[i]);
			lens[i] = svbuf_len(tk.rec[i]);
		}
		if ((r = vault_txn_begin(s->v, 1, &t)) == 0 &&
		    (r = sso_audit_append_room(t, recs, lens, tk.n, VAULT_ROOM_RECORDS)) == 0) {
			r = vault_txn_commit(t);
			t = NULL;
		}
		vault_txn_abort(t);
		t = NULL;
		for (i = 0; i < tk.n; i++)
			tk.written[i] = r == 0;
		sso_repeat_done(s->repeat, &tk);
	}
	return r;
}

void
sso_service_set_log(struct sso_service *s, void (*fn)(void *ctx, const char *line),
    void *ctx)
{
	s->log = fn;
	s->log_ctx = ctx;
}

/*
 * After a change: log once when the vault crosses SSO_FULL_WARN_PCT of its
 * ceiling, and once when it is back below (5 points under, so that a vault
 * hovering at the line does not fill the log).
 */
static void
usage_note(struct sso_service *s, size_t used)
{
	char line[SV_MSG_MAX];
	size_t max = vault_max_size(s->v);
	unsigned pct = sso_full_percent(used, max);

	if (s->log == NULL)
		return;
	if (pct >= SSO_FULL_WARN_PCT) {
		if (atomic_exchange(&s->full_warned, 1) == 0 &&
		    sso_full_warning(used, max, line, sizeof(line)))
			s->log(s->log_ctx, line);
	} else if (pct + 5 < SSO_FULL_WARN_PCT && atomic_exchange(&s->full_warned, 0) == 1) {
		snprintf(line, sizeof(line), "vault is %u%% full again, below the %u%% warning",
		    pct, (unsigned)SSO_FULL_WARN_PCT);
		s->log(s->log_ctx, line);
	}
}

static int
default_sink(void *ctx, const uint8_t *rec, size_t len)
{
	struct sso_service *s = ctx;
	struct vault_txn *t = NULL;
	int r;

	/*
	 * A read's record reaches the operating system before the reply (it
	 * survives a crash of this process) and the disk at the next durable
	 * commit or when the service is freed: readers do not pay a disk sync.
	 */
	if ((r = vault_txn_begin(s->v, 1, &t)) != 0 ||
	    (r = sso_audit_append(t, rec, len)) != 0) {
		vault_txn_abort(t);
		return r;
	}
	if ((r = vault_txn_commit_nosync(t)) == 0)
		s->unsynced = 1;
	return r;
}

int
sso_service_new(struct vault *v, struct sso_service **ret)
{
	struct sso_service *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return SV_ERR_NOMEM;
	if (sso_repeat_new(&s->repeat) != 0) {
		free(s);
		return SV_ERR_NOMEM;
	}
	s->v = v;
	s->sink = default_sink;
	s->sink_ctx = s;
	atomic_init(&s->full_warned, 0);
	jcache_forget();
	*ret = s;
	return 0;
}

void
sso_service_free(struct sso_service *s)
{
	if (s == NULL)
		return;
	/* counts of repeated failures are not lost at a clean end (locked: lost) */
	(void)!sso_service_flush(s);
	/* a failed sync leaves them to the next durable commit: nothing to tell */
	if (s->unsynced)
		(void)!vault_sync(s->v);
	vault_free(s->v);
	sso_repeat_free(s->repeat);
	jcache_forget();
	free(s);
}

struct vault *
sso_service_vault(struct sso_service *s)
{
	return s->v;
}

void
sso_service_set_clock(struct sso_service *s, int64_t (*now)(void *), void *ctx)
{
	s->now = now;
	s->now_ctx = ctx;
}

void
sso_service_set_progress(struct sso_service *s,
    void (*fn)(void *ctx, size_t done, size_t total), void *ctx)
{
	s->progress = fn;
	s->progress_ctx = ctx;
}

void
sso_service_progress(struct sso_service *s, size_t done, size_t total)
{
	if (s->progress != NULL)
		s->progress(s->progress_ctx, done, total);
}

void
sso_service_set_audit_sink(struct sso_service *s, sso_audit_sink_fn fn, void *ctx)
{
	s->sink = fn != NULL ? fn : default_sink;
	s->sink_ctx = fn != NULL ? ctx : s;
}

void
sso_service_set_key_hooks(struct sso_service *s, const struct sso_key_hooks *h, void *ctx)
{
	s->hooks = h;
	s->hooks_ctx = ctx;
}

int
sso_service_shared(const struct sso_service *s)
{
	return s->hooks != NULL;
}

int
sso_kdf_begin(struct sso_ctx *x, size_t memory)
{
	struct sso_service *s = x->svc;

	return s->hooks != NULL ? s->hooks->kdf_begin(s->hooks_ctx, x->caller, memory, x->msg) : 0;
}

void
sso_kdf_end(struct sso_ctx *x, size_t memory)
{
	struct sso_service *s = x->svc;

	if (s->hooks != NULL)
		s->hooks->kdf_end(s->hooks_ctx, x->caller, memory);
}

void
sso_keys_exclusive(struct sso_ctx *x)
{
	struct sso_service *s = x->svc;

	if (s->hooks != NULL)
		s->hooks->exclusive(s->hooks_ctx);
}

static int64_t
now_us(struct sso_service *s)
{
	struct timeval tv;

	if (s->now != NULL)
		return s->now(s->now_ctx) * 1000000;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* --- helpers for handlers -------------------------------------------- */

int
sso_deny(struct sso_ctx *x, const char *fmt, ...)
{
	char who[64], what[SV_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	sso_caller_describe(x->caller, who, sizeof(who));
	snprintf(x->msg, sizeof(x->msg), "access denied: %.60s is not %.160s", who, what);
	return SV_ERR_DENIED;
}

int
sso_req_cstring(struct svbuf *req, char **ret)
{
	return svbuf_get_cstring(req, ret);
}

int
sso_req_name(struct svbuf *req, char *out, size_t outlen)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = svbuf_get_string_direct(req, &p, &n)) != 0)
		return r;
	if (n >= outlen || memchr(p, '\0', n) != NULL)
		return SV_ERR_INVALID;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int
sso_out_json(struct sso_ctx *x, json_t *j)
{
	char *s;
	int r;

	if (j == NULL)
		return SV_ERR_NOMEM;
	s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	if (s == NULL)
		return SV_ERR_NOMEM;
	r = svbuf_put_cstring(x->out, s);
	free(s);
	return r;
}

int
sso_json_get(struct vault_txn *t, enum vault_table tab, const char *key,
    json_t **ret, char *msg)
{
	struct svbuf *b = NULL;
	json_error_t e;
	json_t *j;
	int r;

	if ((r = vault_record_get(t, tab, key, strlen(key), &b)) != 0) {
		if (r != SV_ERR_NOT_FOUND && msg != NULL)
			snprintf(msg, SV_MSG_MAX, "%s", vault_errmsg(vault_txn_vault(t)));
		return r;
	}
	j = json_loadb((const char *)svbuf_ptr(b), svbuf_len(b), JSON_REJECT_DUPLICATES, &e);
	svbuf_free(b);
	if (j == NULL)
		return sv_fail(msg, SV_ERR_INTEGRITY, "record %s/%.64s does not hold valid JSON",
		    vault_table_name(tab), key);
	*ret = j;
	return 0;
}

int
sso_json_put(struct vault_txn *t, enum vault_table tab, const char *key,
    json_t *j, unsigned flags)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	int r;

	if (s == NULL)
		return SV_ERR_NOMEM;
	r = vault_record_put(t, tab, key, strlen(key), s, strlen(s), flags);
	free(s);
	return r;
}

int
sso_app_key(const char *name, char out[SSO_NAME_MAX + 1], char *msg)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > SSO_NAME_MAX)
		return sv_fail(msg, SV_ERR_INVALID,
		    "invalid name: 1 to %d characters expected", SSO_NAME_MAX);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (!(isalnum(ch) || ch == '.' || ch == '_' || ch == '-'))
			return sv_fail(msg, SV_ERR_INVALID,
			    "invalid name: use letters, digits, '.', '_' and '-' only");
		out[i] = (char)tolower(ch);
	}
	out[n] = '\0';
	return 0;
}

int
sso_role_held(struct vault_txn *t, const char *role, const struct sso_caller *c)
{
	json_t *roles = NULL;
	int r, held;

	if ((r = sso_json_get(t, VAULT_TABLE_META, "roles", &roles, NULL)) != 0)
		return r == SV_ERR_NOT_FOUND ? 0 : r;
	held = sso_principal_match_any(json_object_get(roles, role), c);
	json_decref(roles);
	return held;
}

int
sso_app_is_admin(struct sso_ctx *x)
{
	return x->app != NULL &&
	    sso_principal_match_any(json_object_get(x->app, "admins"), x->caller);
}

int
sso_app_is_user(struct sso_ctx *x)
{
	return x->app != NULL &&
	    sso_principal_match_any(json_object_get(x->app, "users"), x->caller);
}

/* --- bootstrap -------------------------------------------------------- */

int
sso_service_bootstrap(struct sso_service *s, const struct sso_caller *c,
    const char *const *admins, size_t nadmins, char *msg)
{
	struct vault_txn *t = NULL;
	struct svbuf *rec = NULL;
	json_t *roles = NULL, *va;
	char p[SSO_PRINCIPAL_MAX];
	struct sso_audit_event e;
	size_t i;
	int r;

	roles = json_pack("{s:[],s:[]}", "vault-admin", "affiliate-admin");
	if (roles == NULL)
		return SV_ERR_NOMEM;
	va = json_object_get(roles, "vault-admin");
	sso_principal_of(c, p);
	json_array_append_new(va, json_string(p));
	for (i = 0; i < nadmins; i++) {
		if ((r = sso_principal_check(admins[i], p, msg)) != 0)
			goto out;
		json_array_append_new(va, json_string(p));
	}
	memset(&e, 0, sizeof(e));
	e.caller = c;
	e.time_us = now_us(s);
	e.op = "init";
	if ((rec = svbuf_new(0)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = vault_txn_begin(s->v, 1, &t)) != 0 ||
	    (r = sso_json_put(t, VAULT_TABLE_META, "roles", roles, 0)) != 0 ||
	    (r = sso_audit_init_defaults(t)) != 0 ||
	    (r = sso_audit_encode(&e, rec)) != 0 ||
	    (r = sso_audit_append(t, svbuf_ptr(rec), svbuf_len(rec))) != 0 ||
	    (r = vault_txn_commit(t)) != 0) {
		vault_txn_abort(t);
		if (msg != NULL && msg[0] == '\0')
			snprintf(msg, SV_MSG_MAX, "%s", vault_errmsg(s->v));
		goto out;
	}
out:
	svbuf_free(rec);
	json_decref(roles);
	return r;
}

/* --- dispatch --------------------------------------------------------- */

static int
read_object(struct sso_ctx *x, const struct op_def *d, struct svbuf *req)
{
	char raw[SSO_PRINCIPAL_MAX];
	char hex[VAULT_SHA256_HEX + 1];
	size_t n;
	int r;

	if (d->obj == OBJ_NONE)
		return 0;
	if ((r = sso_req_name(req, raw, sizeof(raw))) == SV_ERR_INVALID)
		/* too long or holding a NUL: say what a valid one looks like */
		return d->obj == OBJ_CERT ?
		    sv_fail(x->msg, r, "expected 40 hexadecimal digits") :
		    d->obj == OBJ_MSG ? sv_fail(x->msg, r,
		    "invalid message id: expected 32 hexadecimal digits") :
		    sv_fail(x->msg, r, "invalid name: 1 to %d characters expected",
		    SSO_NAME_MAX);
	if (r != 0)
		return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    "request lacks a valid object name");
	switch (d->obj) {
	case OBJ_APP:
		snprintf(x->object, sizeof(x->object), "%s", raw);
		return sso_app_key(raw, (char[SSO_NAME_MAX + 1]){ 0 }, x->msg);
	case OBJ_CERT:
		if ((r = vault_thumbprint_normalise(raw, hex, &n, x->msg)) != 0)
			return r;
		snprintf(x->object, sizeof(x->object), "%s", hex);
		return 0;
	case OBJ_PORT:
	case OBJ_MSG:
		snprintf(x->object, sizeof(x->object), "%s", raw);
		return sso_app_key(raw, (char[SSO_NAME_MAX + 1]){ 0 }, x->msg);
	default:
		return 0;
	}
}

static int
load_app(struct sso_ctx *x, const struct op_def *d)
{
	char key[SSO_NAME_MAX + 1];
	int r;

	if ((r = sso_app_key(x->object, key, x->msg)) != 0)
		return r;
	/* handlers of reads only look at the app: they may share the cached one */
	r = (d->flags & F_WRITE) ? sso_json_get(x->txn, VAULT_TABLE_APPS, key, &x->app, x->msg) :
	    json_get_shared(x->txn, VAULT_TABLE_APPS, key, &x->app, x->msg);
	if (r == SV_ERR_NOT_FOUND)
		return sv_fail(x->msg, r, "no affiliate application '%s'", x->object);
	if (r == 0) {
		/* audit and messages use the name as the app keeps it */
		json_t *n = json_object_get(x->app, "name");

		if (json_is_string(n))
			snprintf(x->object, sizeof(x->object), "%s", json_string_value(n));
	}
	return r;
}

/* Cert users, from h_cert.c: SV_ERR_NOT_FOUND if no such certificate. */
int sso_cert_users(struct sso_ctx *x, json_t **ret_users);

static int
authorise(struct sso_ctx *x, const struct op_def *d)
{
	json_t *users = NULL;
	int r, ok;

	if (x->roles_err != 0 && d->need != NEED_NONE && d->need != NEED_ANY &&
	    d->need != NEED_CERT_USER) {
		/* a damaged roles record must not stop the way out of it */
		if (d->op == SSO_OP_RESTORE)
			return 0;
		return sv_fail(x->msg, x->roles_err,
		    "the vault's roles record failed its integrity check: "
		    "restore the vault from a backup ('ssovault restore FILE')");
	}
	switch (d->need) {
	case NEED_NONE:
	case NEED_ANY:
		return 0;
	case NEED_VAULT_ADMIN:
		return x->is_vault_admin ? 0 : sso_deny(x, "a vault admin");
	case NEED_AFFILIATE_ADMIN:
		return x->is_affiliate_admin ? 0 :
		    sso_deny(x, "an affiliate admin or vault admin");
	case NEED_APP_ADMIN:
		if ((r = load_app(x, d)) != 0)
			return r;
		return x->is_affiliate_admin || sso_app_is_admin(x) ? 0 :
		    sso_deny(x, "an app admin of '%s'", x->object);
	case NEED_APP_MEMBER:
		if ((r = load_app(x, d)) != 0)
			return r;
		return x->is_affiliate_admin || sso_app_is_admin(x) ||
		    sso_app_is_user(x) ? 0 :
		    sso_deny(x, "an app user or admin of '%s'", x->object);
	case NEED_CERT_USER:
	case NEED_CERT_VIEWER:
		if ((r = sso_cert_users(x, &users)) != 0) {
			if (r == SV_ERR_NOT_FOUND)
				return sv_fail(x->msg, r, "no certificate with thumbprint %s", x->object);
			return r;
		}
		ok = sso_principal_match_any(users, x->caller) ||
		    (d->need == NEED_CERT_VIEWER && x->is_vault_admin);
		json_decref(users);
		return ok ? 0 : sso_deny(x, "a user of certificate %s", x->object);
	}
	return SV_ERR_INTERNAL;
}

static int
audit_wanted(struct sso_ctx *x, const struct op_def *d, int outcome,
    struct vault_txn *t)
{
	int pos, neg;

	if (t == NULL || !vault_is_unlocked(x->v))
		return 0;
	if (sso_audit_levels(t, &pos, &neg) != 0)
		return 1;	/* unreadable settings: record rather than not */
	return outcome == 0 ? d->level <= pos : d->level <= neg;
}

static void
audit_event(struct sso_ctx *x, const struct op_def *d, int outcome,
    struct sso_audit_event *e)
{
	memset(e, 0, sizeof(*e));
	e->caller = x->caller;
	e->time_us = now_us(x->svc);
	e->op = d->name;
	e->object = x->object;
	e->target = x->target;
	e->outcome = outcome;
	e->error = outcome == 0 ? "" : (x->msg[0] != '\0' ? x->msg : sv_strerror(outcome));
}

/* The records one request writes: the repeats now due, then its own. */
struct audit_out {
	struct sso_repeat_take due;
	struct svbuf *own;		/* NULL: none (not wanted, or counted) */
};

/*
 * What to write for this request: its own record if the level wants one
 * and it is not a repeated failure counted for later, and any records of
 * repeats that are due.  Release with audit_done() whatever it returns.
 */
static int
audit_collect(struct sso_ctx *x, const struct op_def *d, int outcome,
    int wanted, struct audit_out *ao)
{
	struct sso_audit_event e;
	int r;

	memset(ao, 0, sizeof(*ao));
	if (!vault_is_unlocked(x->v))
		return 0;
	audit_event(x, d, outcome, &e);
	if (wanted && (outcome == 0 ||
	    !sso_repeat_note(x->svc->repeat, &e, x->is_vault_admin))) {
		if ((ao->own = svbuf_new(0)) == NULL)
			return SV_ERR_NOMEM;
		if ((r = sso_audit_encode(&e, ao->own)) != 0)
			return r;
	}
	return sso_repeat_take(x->svc->repeat, e.time_us, 0, &ao->due);
}

static int
audit_empty(const struct audit_out *ao)
{
	return ao->own == NULL && ao->due.n == 0;
}

/* Append them all in t (one call: all or nothing), within room. */
static int
audit_write_txn(struct vault_txn *t, struct audit_out *ao, enum vault_room room)
{
	const uint8_t *recs[SSO_REPEAT_TAKE_MAX + 1];
	size_t lens[SSO_REPEAT_TAKE_MAX + 1], n, i;

	for (n = 0; n < ao->due.n; n++) {
		recs[n] = svbuf_ptr(ao->due.rec[n]);
		lens[n] = svbuf_len(ao->due.rec[n]);
	}
	if (ao->own != NULL) {
		recs[n] = svbuf_ptr(ao->own);
		lens[n++] = svbuf_len(ao->own);
	}
	for (i = 0; i < ao->due.n; i++)
		ao->due.written[i] = 0;
	return n == 0 ? 0 : sso_audit_append_room(t, recs, lens, n, room);
}

/* Through the sink, one by one; only the request's own record decides. */
static int
audit_write_sink(struct sso_ctx *x, struct audit_out *ao)
{
	struct sso_service *s = x->svc;
	size_t i;

	for (i = 0; i < ao->due.n; i++)
		ao->due.written[i] = s->sink(s->sink_ctx, svbuf_ptr(ao->due.rec[i]),
		    svbuf_len(ao->due.rec[i])) == 0;
	if (ao->own == NULL)
		return 0;
	return s->sink(s->sink_ctx, svbuf_ptr(ao->own), svbuf_len(ao->own));
}

/* written: the transaction holding the records committed (-1: as the sink said). */
static void
audit_done(struct sso_ctx *x, struct audit_out *ao, int written)
{
	size_t i;

	if (written >= 0)
		for (i = 0; i < ao->due.n; i++)
			ao->due.written[i] = written;
	sso_repeat_done(x->svc->repeat, &ao->due);
	svbuf_free(ao->own);
	ao->own = NULL;
}

/*
 * The room of a request's own record: the way out's records may use all
 * of the reserve when a vault admin (or, for unlock and secret restore, a
 * holder of the secret) did it; every other record may use half of it, so
 * that a caller cannot spend the rest by repeating a way-out operation.
 */
static enum vault_room
audit_room(const struct sso_ctx *x, const struct op_def *d, int outcome)
{
	if (op_room(d->op) != VAULT_ROOM_ALL)
		return VAULT_ROOM_RECORDS;
	if (x->is_vault_admin || (d->need == NEED_NONE && outcome == 0))
		return VAULT_ROOM_ALL;
	return VAULT_ROOM_RECORDS;
}

static int
reply_put(struct svbuf *reply, int status, const char *msg, const struct svbuf *payload)
{
	int r;

	svbuf_reset(reply);
	if ((r = svbuf_put_u32(reply, (uint32_t)status)) != 0 ||
	    (r = svbuf_put_cstring(reply, status == 0 ? "" : msg)) != 0)
		return r;
	if (status == 0 && payload != NULL)
		r = svbuf_put(reply, svbuf_ptr(payload), svbuf_len(payload));
	return r;
}

/*
 * The caller's global roles.  An unreadable roles record grants nothing and
 * is remembered, so that operations which need roles fail with the
 * integrity error rather than a misleading "access denied".
 */
static void
roles_load(struct sso_ctx *x)
{
	json_t *roles = NULL;
	int r, va = 0, aa = 0;

	/* one read of the record for both roles: every request comes here */
	r = json_get_shared(x->txn, VAULT_TABLE_META, "roles", &roles, NULL);
	if (r == 0) {
		va = sso_principal_match_any(json_object_get(roles, "vault-admin"), x->caller);
		aa = va || sso_principal_match_any(json_object_get(roles, "affiliate-admin"),
		    x->caller);
		json_decref(roles);
	} else if (r != SV_ERR_NOT_FOUND) {
		va = aa = r;
	}
	x->roles_err = va < 0 ? va : 0;
	x->is_vault_admin = va > 0;
	x->is_affiliate_admin = va > 0 || aa > 0;
}

/*
 * In a shared service, unlock is a vault-admin request (DESIGN 8), and who
 * is one is written in the vault: asked right after the key opened it,
 * while the daemon holds its key lock exclusively, so that no other request
 * sees the keys first.  A refusal is audited with the keys still there, and
 * then they are wiped.
 */
static int
unlock_authorise(struct sso_ctx *x)
{
	int r;

	if ((r = vault_txn_begin(x->v, 0, &x->txn)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	roles_load(x);
	vault_txn_abort(x->txn);
	x->txn = NULL;
	if (x->roles_err != 0)
		return sv_fail(x->msg, x->roles_err,
		    "the vault's roles record failed its integrity check: unlock refused "
		    "(start ssovaultd with --key-file, then 'ssovault restore FILE')");
	return x->is_vault_admin ? 0 : sso_deny(x, "a vault admin: the vault stays locked");
}

int
sso_service_is_vault_admin(struct sso_service *s, const struct sso_caller *c)
{
	struct sso_ctx x;
	int r;

	if (!vault_is_unlocked(s->v))
		return 0;
	memset(&x, 0, sizeof(x));
	x.svc = s;
	x.v = s->v;
	x.caller = c;
	if (vault_txn_begin(s->v, 0, &x.txn) != 0)
		return 0;
	roles_load(&x);
	vault_txn_abort(x.txn);
	r = x.is_vault_admin;
	sodium_memzero(&x, sizeof(x));
	return r;
}

/*
 * Run a handler that manages its own transactions (unlock, rotate, ...),
 * then record the event in a write transaction of its own.
 */
static int
run_own_txn(struct sso_ctx *x, const struct op_def *d, struct svbuf *req)
{
	struct vault_txn *t = NULL;
	struct audit_out ao;
	int r, a, written = 0, wipe = 0;

	memset(&ao, 0, sizeof(ao));
	if (d->need != NEED_NONE) {
		if ((r = vault_txn_begin(x->v, 0, &x->txn)) != 0)
			return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
		roles_load(x);
		r = authorise(x, d);
		vault_txn_abort(x->txn);
		x->txn = NULL;
	} else {
		r = 0;
	}
	/* the keys go with a lock: counts of repeated failures are written first */
	if (r == 0 && d->op == SSO_OP_LOCK)
		(void)!sso_service_flush(x->svc);
	if (r == 0) {
		r = d->fn(x, req);
		if (r == 0 && svbuf_len(req) != 0)
			r = sv_fail(x->msg, SV_ERR_TRAILING, "request has trailing bytes");
	}
	/* keys or data replaced: no decoded record from before may be served */
	if (d->op == SSO_OP_UNLOCK || d->op == SSO_OP_LOCK || d->op == SSO_OP_SECRET_ROTATE ||
	    d->op == SSO_OP_SECRET_RESTORE || d->op == SSO_OP_RESTORE)
		jcache_forget();
	if (r == 0 && d->op == SSO_OP_UNLOCK && sso_service_shared(x->svc))
		wipe = (r = unlock_authorise(x)) != 0;
	if (!vault_is_unlocked(x->v))
		return r;
	a = vault_txn_begin(x->v, 1, &t);
	if (a == 0 && ((a = audit_collect(x, d, r, audit_wanted(x, d, r, t), &ao)) != 0 ||
	    (a = audit_write_txn(t, &ao, audit_room(x, d, r))) != 0)) {
		vault_txn_abort(t);
		t = NULL;
	}
	if (a == 0 && t != NULL) {
		if (audit_empty(&ao))
			vault_txn_abort(t);
		else
			a = vault_txn_commit(t);
		written = a == 0;
	}
	audit_done(x, &ao, written);
	/* a refused unlock is on record: now the keys go */
	if (wipe) {
		vault_lock(x->v);
		jcache_forget();
	}
	/*
	 * Unlocking hands out nothing secret, and refusing it would bar the way
	 * to 'restore' when the audit chain itself is what got damaged.
	 */
	if (a != 0 && r == 0 && d->op != SSO_OP_UNLOCK && d->op != SSO_OP_STATUS) {
		svbuf_reset(x->out);
		return sv_fail(x->msg, SV_ERR_AUDIT, "audit record could not be written: %s",
		    sv_strerror(a));
	}
	return r;
}

/* Run a handler in a write transaction; its audit record joins it. */
static int
run_write(struct sso_ctx *x, const struct op_def *d, struct svbuf *req,
    struct vault_txn *parent)
{
	struct vault_txn *outer = NULL;
	struct audit_out ao;
	size_t used = 0;
	int r, a = 0, measured = 0, written = 0;

	memset(&ao, 0, sizeof(ao));
	if ((r = parent != NULL ? vault_txn_begin_nested(parent, &outer) :
	    vault_txn_begin(x->v, 1, &outer)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	/* the handler's changes go in a child so a failure can still be audited */
	if ((r = vault_txn_begin_nested(outer, &x->txn)) != 0) {
		sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
		goto out;
	}
	roles_load(x);
	if ((r = authorise(x, d)) == 0 && (r = d->fn(x, req)) == 0 && svbuf_len(req) != 0)
		r = sv_fail(x->msg, SV_ERR_TRAILING, "request has trailing bytes");
	/* an ordinary change must leave the reserve to the way out */
	if (r == 0 && (r = vault_txn_room(x->txn, op_room(d->op), &used, x->msg)) == 0)
		measured = 1;
	if (r == 0) {
		if ((r = vault_txn_commit(x->txn)) != 0)
			sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	} else {
		vault_txn_abort(x->txn);
	}
	x->txn = NULL;
	if ((a = audit_collect(x, d, r, audit_wanted(x, d, r, outer), &ao)) != 0 ||
	    (a = audit_write_txn(outer, &ao, audit_room(x, d, r))) != 0)
		goto out;
	a = vault_txn_commit(outer);
	outer = NULL;
	written = a == 0;
out:
	vault_txn_abort(outer);
	audit_done(x, &ao, written);
	if (a != 0) {
		svbuf_reset(x->out);
		return sv_fail(x->msg, SV_ERR_AUDIT,
		    "audit record could not be written (%s): nothing was changed",
		    sv_strerror(a));
	}
	if (measured && r == 0)
		usage_note(x->svc, used);
	return r;
}

/* Run a handler in a read transaction; its audit record goes to the sink. */
static int
run_read(struct sso_ctx *x, const struct op_def *d, struct svbuf *req)
{
	struct audit_out ao;
	int r, a = 0, wanted;

	if ((r = vault_txn_begin(x->v, 0, &x->txn)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	roles_load(x);
	if ((r = authorise(x, d)) == 0 && (r = d->fn(x, req)) == 0 && svbuf_len(req) != 0)
		r = sv_fail(x->msg, SV_ERR_TRAILING, "request has trailing bytes");
	wanted = audit_wanted(x, d, r, x->txn);
	vault_txn_abort(x->txn);
	x->txn = NULL;
	if ((a = audit_collect(x, d, r, wanted, &ao)) == 0)
		a = audit_write_sink(x, &ao);
	audit_done(x, &ao, -1);
	if (a != 0) {
		/* fail closed: nothing read is returned without its record */
		svbuf_reset(x->out);
		return sv_fail(x->msg, SV_ERR_AUDIT,
		    "audit record could not be written (%s): nothing is returned",
		    sv_strerror(a));
	}
	return r;
}

int
sso_request_writes(const uint8_t *req, size_t len)
{
	const struct op_def *d;

	if (len < 1 || (d = op_find(req[0])) == NULL)
		return 0;
	return (d->flags & F_WRITE) != 0 && !(d->flags & F_OWN_TXN);
}

int
sso_dispatch(struct sso_service *s, const struct sso_caller *c,
    const uint8_t *req, size_t len, int fd, struct svbuf *reply)
{
	return sso_dispatch_in(s, NULL, c, req, len, fd, reply);
}

int
sso_dispatch_in(struct sso_service *s, struct vault_txn *parent,
    const struct sso_caller *c, const uint8_t *req, size_t len, int fd,
    struct svbuf *reply)
{
	struct svbuf *in = svbuf_from(req, len);
	const struct op_def *d = NULL;
	struct sso_ctx x;
	uint8_t op;
	int r;

	memset(&x, 0, sizeof(x));
	x.svc = s;
	x.v = s->v;
	x.caller = c;
	x.fd = fd;
	x.now = now_us(s) / 1000000;
	x.out = svbuf_new_secure(0);
	if (in == NULL || x.out == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = svbuf_get_u8(in, &op)) != 0) {
		sv_fail(x.msg, r, "empty request");
		goto out;
	}
	if ((d = op_find(op)) == NULL) {
		r = sv_fail(x.msg, SV_ERR_PROTOCOL, "unknown operation %u", op);
		goto out;
	}
	x.op = d->op;
	if ((r = read_object(&x, d, in)) != 0)
		goto out;
	if (!(d->flags & F_LOCKED_OK) && !vault_is_unlocked(s->v)) {
		r = sv_fail(x.msg, SV_ERR_LOCKED,
		    "the vault is locked: run 'ssovault unlock' first");
		goto out;
	}
	if (d->flags & F_OWN_TXN)
		r = run_own_txn(&x, d, in);
	else if (d->flags & F_WRITE)
		r = run_write(&x, d, in, parent);
	else
		r = run_read(&x, d, in);
out:
	if (reply_put(reply, r, x.msg[0] != '\0' ? x.msg : sv_strerror(r), x.out) != 0)
		r = reply_put(reply, SV_ERR_NOMEM, "reply too large", NULL);
	json_decref(x.app);
	svbuf_free(x.out);
	svbuf_free(in);
	sodium_memzero(&x, sizeof(x));
	return r;
}
