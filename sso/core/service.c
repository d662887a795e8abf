/*
 * service.c: a service's life: its handle, clock, hooks and sinks, the
 * counts of repeated failures it flushes, the fill warning, and the
 * bootstrap of a new vault's SSO state.  The dispatch is dispatch.c.
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

#include "service.h"

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
		if ((r = sso_repeat_take(s->repeat, sso_service_now_us(s), 1, &tk)) != 0)
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
void
sso_service_usage_note(struct sso_service *s, size_t used)
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
sso_service_new_with(struct vault *v, const struct sso_optab *tab, struct sso_service **ret)
{
	struct sso_service *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return SV_ERR_NOMEM;
	if (sso_repeat_new(&s->repeat) != 0) {
		free(s);
		return SV_ERR_NOMEM;
	}
	s->v = v;
	s->tab = tab;
	s->sink = default_sink;
	s->sink_ctx = s;
	atomic_init(&s->full_warned, 0);
	sso_records_forget();
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
	sso_records_forget();
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

int64_t
sso_service_now_us(struct sso_service *s)
{
	struct timeval tv;

	if (s->now != NULL)
		return s->now(s->now_ctx) * 1000000;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
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
	e.time_us = sso_service_now_us(s);
	e.op = "init";
	if ((rec = svbuf_new(0)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	if ((r = vault_txn_begin(s->v, 1, &t)) != 0 ||
	    (r = sso_json_put(t, SSO_TABLE_META, "roles", roles, 0)) != 0 ||
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

