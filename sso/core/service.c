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

static int fold_commit(struct sso_service *s);
static void journal_end(struct sso_service *s);

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

	sso_service_write_begin(s);
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
	/* and the journal's reads, in this thread (the daemon's are stopped or excluded) */
	if (r == 0)
		r = fold_commit(s);
	sso_service_write_end(s);
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
	struct sso_fold f;
	int r;

	/*
	 * A read's record reaches the operating system before the reply (it
	 * survives a crash of this process) and the disk at the next durable
	 * commit or when the service is freed: readers do not pay a disk sync.
	 * Records still in the journal go first, in the same transaction.
	 */
	memset(&f, 0, sizeof(f));
	sso_service_write_begin(s);
	if ((r = vault_txn_begin(s->v, 1, &t)) != 0 ||
	    (r = sso_service_fold(s, t, &f)) != 0 ||
	    (r = sso_audit_append(t, rec, len)) != 0) {
		vault_txn_abort(t);
		sso_service_folded(s, &f, 0);
		sso_service_write_end(s);
		return r;
	}
	if ((r = vault_txn_commit_nosync(t)) == 0)
		s->unsynced = 1;
	sso_service_folded(s, &f, r == 0);
	sso_service_write_end(s);
	return r;
}

static int
mutex_recursive_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int r;

	if (pthread_mutexattr_init(&a) != 0)
		return -1;
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	r = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
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
	if (sso_memo_new(&s->memo) != 0) {
		sso_repeat_free(s->repeat);
		free(s);
		return SV_ERR_NOMEM;
	}
	s->v = v;
	s->tab = tab;
	s->sink = default_sink;
	s->sink_ctx = s;
	atomic_init(&s->full_warned, 0);
	atomic_init(&s->tight, 0);
	s->adopt_due = 1;
	if (mutex_recursive_init(&s->wmu) != 0 || pthread_mutex_init(&s->fmu, NULL) != 0 ||
	    pthread_mutex_init(&s->jmu, NULL) != 0) {
		sso_repeat_free(s->repeat);
		sso_memo_free(s->memo);
		free(s);
		return SV_ERR_NOMEM;
	}
	sso_records_forget();
	*ret = s;
	return 0;
}

void
sso_service_free(struct sso_service *s)
{
	if (s == NULL)
		return;
	/* the folder stops; what the journal holds is folded (locked: left for the next holder) */
	journal_end(s);
	/* counts of repeated failures are not lost at a clean end (locked: lost) */
	(void)!sso_service_flush(s);
	/* a failed sync leaves them to the next durable commit: nothing to tell */
	if (s->unsynced)
		(void)!vault_sync(s->v);
	vault_free(s->v);
	sso_repeat_free(s->repeat);
	sso_memo_free(s->memo);
	free(s->jn_dir);
	sso_records_forget();
	pthread_mutex_destroy(&s->wmu);
	pthread_mutex_destroy(&s->fmu);
	pthread_mutex_destroy(&s->jmu);
	free(s);
}

void
sso_service_thread_end(void)
{
	sso_memo_thread_end();
}

void
sso_service_memo_clear(struct sso_service *s)
{
	sso_memo_clear(s->memo);
}

void
sso_service_memo_counts(struct sso_service *s, unsigned long *ret_hits,
    unsigned long *ret_misses)
{
	sso_memo_counts(s->memo, ret_hits, ret_misses);
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

int
sso_service_sink_default(const struct sso_service *s)
{
	return s->sink == default_sink;
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

/* --- the journal of reads --------------------------------------------- */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sso_service_write_begin(struct sso_service *s)
{
	if (s->folder_running)
		pthread_mutex_lock(&s->wmu);
}

void
sso_service_write_end(struct sso_service *s)
{
	if (s->folder_running)
		pthread_mutex_unlock(&s->wmu);
}

/* Is the vault past its data room?  Then every read commits its record at once. */
static void
room_note(struct sso_service *s, struct vault_txn *t)
{
	char m[SV_MSG_MAX];

	atomic_store(&s->tight, vault_txn_room(t, VAULT_ROOM_DATA, NULL, m) != 0);
}

int
sso_service_fold(struct sso_service *s, struct vault_txn *t, struct sso_fold *ret)
{
	struct vault_txn *child = NULL;
	struct sso_journal *jn, *jn2;
	size_t adopted = 0, n1 = 0, n2 = 0;
	int r;

	/* both as one swap left them (journal_swap): never one journal twice */
	pthread_mutex_lock(&s->jmu);
	jn = atomic_load(&s->jn);
	jn2 = atomic_load(&s->jn2);
	pthread_mutex_unlock(&s->jmu);
	memset(ret, 0, sizeof(*ret));
	if (jn == NULL && !s->adopt_due)
		return 0;
	if ((r = vault_txn_begin_nested(t, &child)) != 0)
		return r;
	if (s->adopt_due && (r = sso_journal_adopt(child, s->jn_dir, &ret->orphans, &adopted)) != 0)
		goto fail;
	if (jn == NULL && ret->orphans == NULL) {
		/*
		 * No directory for journals (a vault at a URI without one, or one
		 * refused): nothing is ever left to adopt, and each batch need not
		 * ask again (on a database, a savepoint and its round trips).
		 */
		s->adopt_due = 0;
		vault_txn_abort(child);
		memset(ret, 0, sizeof(*ret));
		return 0;
	}
	/* the one records went to before the last swap first: it holds older ones */
	if (jn2 != NULL) {
		if ((r = sso_journal_fold(jn2, child, &ret->to2, &n2)) != 0)
			goto fail;
		ret->j2 = jn2;
	}
	if (jn != NULL) {
		if ((r = sso_journal_fold(jn, child, &ret->to, &n1)) != 0)
			goto fail;
		ret->j = jn;
	}
	room_note(s, child);
	if ((r = vault_txn_commit(child)) != 0) {
		child = NULL;
		goto fail;
	}
	ret->n = n1 + n2 + adopted;
	return 0;
fail:
	vault_txn_abort(child);
	sso_journal_adopt_done(ret->orphans, 0);
	memset(ret, 0, sizeof(*ret));
	return r;
}

void
sso_service_folded(struct sso_service *s, struct sso_fold *f, int committed)
{
	/* the journals folded, wherever a swap since has put them */
	if (f->j != NULL)
		sso_journal_folded(f->j, f->to, committed);
	if (f->j2 != NULL)
		sso_journal_folded(f->j2, f->to2, committed);
	if (f->orphans != NULL && committed)
		s->adopt_due = 0;
	sso_journal_adopt_done(f->orphans, committed);
	memset(f, 0, sizeof(*f));
}

int
sso_service_journal_on(struct sso_service *s)
{
	return atomic_load(&s->jn) != NULL && !atomic_load(&s->tight);
}

size_t
sso_service_journal_pending(struct sso_service *s)
{
	struct sso_journal *jn = atomic_load(&s->jn), *jn2 = atomic_load(&s->jn2);

	return (jn != NULL ? sso_journal_pending(jn) : 0) +
	    (jn2 != NULL ? sso_journal_pending(jn2) : 0);
}

/* Fold in a write transaction of its own, committed without a disk sync. */
static int
fold_commit(struct sso_service *s)
{
	struct vault_txn *t = NULL;
	struct sso_fold f;
	int r;

	sso_service_write_begin(s);
	if (!vault_is_unlocked(s->v) || (atomic_load(&s->jn) == NULL && !s->adopt_due) ||
	    (sso_service_journal_pending(s) == 0 && !s->adopt_due)) {
		sso_service_write_end(s);
		return 0;
	}
	if ((r = vault_txn_begin(s->v, 1, &t)) == 0 && (r = sso_service_fold(s, t, &f)) == 0) {
		if (f.n == 0 && f.orphans == NULL && f.j == NULL && f.j2 == NULL) {
			vault_txn_abort(t);
		} else {
			r = vault_txn_commit_nosync(t);
			if (r == 0)
				s->unsynced = 1;
			sso_service_folded(s, &f, r == 0);
		}
		t = NULL;
	}
	vault_txn_abort(t);
	sso_service_write_end(s);
	return r;
}

int
sso_service_fold_now(struct sso_service *s)
{
	if (s->fh != NULL)
		return s->fh->fold_now(s->fh_ctx);
	return fold_commit(s);
}

static void
kick(struct sso_service *s, int urgent)
{
	if (s->fh != NULL) {
		s->fh->kick(s->fh_ctx, urgent);
		return;
	}
	if (!s->folder_running)
		return;		/* folded at the next write, flush or close */
	pthread_mutex_lock(&s->fmu);
	if (!s->fold_armed) {
		s->fold_armed = 1;
		s->fold_at_ms = mono_ms() + SSO_FOLD_MS;
	}
	s->fold_urgent |= urgent;
	pthread_cond_signal(&s->fcv);
	pthread_mutex_unlock(&s->fmu);
}

static int journal_open(struct sso_service *s);

/*
 * Records go to the other journal from now on, if it is empty (folded to its
 * end), or can be had: the full one is folded meanwhile.  1 if they do.
 */
static int
journal_swap(struct sso_service *s, struct sso_journal *full)
{
	struct sso_journal *other;
	char m[SV_MSG_MAX];
	int swapped = 0;

	pthread_mutex_lock(&s->jmu);
	if (atomic_load(&s->jn) != full) {
		swapped = 1;		/* another thread did it */
		goto out;
	}
	if ((other = atomic_load(&s->jn2)) == NULL) {
		if (s->jn2_failed)
			goto out;
		if (sso_journal_open(s->v, s->jn_dir, &other, m) != 0) {
			s->jn2_failed = 1;	/* one journal then, as before */
			if (s->log != NULL) {
				char line[SV_MSG_MAX + 120];

				snprintf(line, sizeof(line), "one journal of reads, not two (reads "
				    "may commit their records at once while it is folded): %s", m);
				s->log(s->log_ctx, line);
			}
			goto out;
		}
		atomic_store(&s->jn2, other);
	}
	if (sso_journal_pending(other) != 0)
		goto out;
	/* under jmu, as a fold reads the two: no fold sees half a swap */
	atomic_store(&s->jn2, full);
	atomic_store(&s->jn, other);
	swapped = 1;
out:
	pthread_mutex_unlock(&s->jmu);
	return swapped;
}

int
sso_service_journal_put(struct sso_service *s, const uint8_t *rec, size_t len)
{
	struct sso_journal *jn = atomic_load(&s->jn);
	size_t before = 0;
	int r;

	if (jn == NULL && (s->jn_state <= 0 || journal_open(s) != 0 ||
	    (jn = atomic_load(&s->jn)) == NULL))
		return SV_ERR_TOO_LARGE;
	if (atomic_load(&s->tight))
		return SV_ERR_TOO_LARGE;
	if ((r = sso_journal_append(jn, rec, len, &before)) != 0) {
		/* full: the other one, if it is empty; else the caller commits it */
		if (!journal_swap(s, jn) ||
		    sso_journal_append(atomic_load(&s->jn), rec, len, &before) != 0) {
			kick(s, 1);
			return r;
		}
		kick(s, 1);
		return 0;
	}
	/* the first pending record starts the clock; crossing the threshold folds now */
	if (before == 0) {
		kick(s, 0);
	} else if (before < SSO_FOLD_BYTES && before + len >= SSO_FOLD_BYTES) {
		/* and the next records go to the other journal while this one is folded */
		(void)journal_swap(s, jn);
		kick(s, 1);
	}
	return 0;
}

/* The embedded folder: folds SSO_FOLD_MS after a record comes, or at once when urgent. */
static void *
folder_main(void *arg)
{
	struct sso_service *s = arg;
	struct timespec ts;
	int64_t now;

	pthread_mutex_lock(&s->fmu);
	while (!s->folder_stop) {
		if (!s->fold_armed) {
			pthread_cond_wait(&s->fcv, &s->fmu);
			continue;
		}
		now = mono_ms();
		if (!s->fold_urgent && now < s->fold_at_ms) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (s->fold_at_ms - now) / 1000;
			ts.tv_nsec += ((s->fold_at_ms - now) % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			(void)pthread_cond_timedwait(&s->fcv, &s->fmu, &ts);
			continue;
		}
		s->fold_armed = s->fold_urgent = 0;
		pthread_mutex_unlock(&s->fmu);
		/* a failure leaves the records pending: the next record, flush or close tries again */
		(void)fold_commit(s);
		pthread_mutex_lock(&s->fmu);
	}
	pthread_mutex_unlock(&s->fmu);
	return NULL;
}

static int
folder_start(struct sso_service *s)
{
	pthread_condattr_t ca;
	int r;

	if (pthread_condattr_init(&ca) != 0)
		return SV_ERR_NOMEM;
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	r = pthread_cond_init(&s->fcv, &ca);
	pthread_condattr_destroy(&ca);
	if (r != 0)
		return SV_ERR_NOMEM;
	if (pthread_create(&s->folder, NULL, folder_main, s) != 0) {
		pthread_cond_destroy(&s->fcv);
		return SV_ERR_NOMEM;
	}
	s->folder_running = 1;
	return 0;
}

/*
 * Open the journal (its entries' key comes from the unlocked vault): once;
 * a journal that cannot be had (no directory, 64 held) is not asked again.
 */
static int
journal_open(struct sso_service *s)
{
	struct sso_journal *jn = NULL;
	char m[SV_MSG_MAX];
	int r = 0;

	pthread_mutex_lock(&s->jmu);
	if (atomic_load(&s->jn) != NULL || s->jn_state <= 0)
		goto out;
	if (!vault_is_unlocked(s->v)) {
		r = SV_ERR_LOCKED;
		goto out;
	}
	if ((r = sso_journal_open(s->v, s->jn_dir, &jn, m)) != 0 ||
	    (s->jn_folder && (r = folder_start(s)) != 0)) {
		sso_journal_close(jn);
		s->jn_state = -1;
		/* a vault without a directory has none, and nothing to say */
		if (s->log != NULL && r != SV_ERR_NOT_FOUND) {
			char line[SV_MSG_MAX + 80];

			snprintf(line, sizeof(line),
			    "no journal of reads (each read commits its audit record): %s", m);
			s->log(s->log_ctx, line);
		}
		goto out;
	}
	atomic_store(&s->jn, jn);
out:
	pthread_mutex_unlock(&s->jmu);
	return r;
}

int
sso_service_journal_start(struct sso_service *s, int folder)
{
	if (s->jn_state != 0)
		return s->jn_state > 0 ? 0 : SV_ERR_NOT_FOUND;
	s->jn_folder = folder;
	s->jn_state = 1;
	/* a locked vault: at the first record, which only an unlocked one writes */
	return journal_open(s) == SV_ERR_LOCKED ? 0 : s->jn_state > 0 ? 0 : SV_ERR_NOT_FOUND;
}

int
sso_service_set_journal_dir(struct sso_service *s, const char *dir)
{
	char *d = NULL;

	if (s->jn_state != 0)
		return SV_ERR_INVALID;
	if (dir != NULL && (d = strdup(dir)) == NULL)
		return SV_ERR_NOMEM;
	free(s->jn_dir);
	s->jn_dir = d;
	return 0;
}

void
sso_service_set_fold_hooks(struct sso_service *s, const struct sso_fold_hooks *h, void *ctx)
{
	s->fh = h;
	s->fh_ctx = ctx;
}

/* Stop the folder and fold what is left (the vault still unlocked), then let the journal go. */
static void
journal_end(struct sso_service *s)
{
	if (s->folder_running) {
		pthread_mutex_lock(&s->fmu);
		s->folder_stop = 1;
		pthread_cond_signal(&s->fcv);
		pthread_mutex_unlock(&s->fmu);
		pthread_join(s->folder, NULL);
		s->folder_running = 0;
		pthread_cond_destroy(&s->fcv);
	}
	if (atomic_load(&s->jn) != NULL)
		(void)fold_commit(s);
	sso_journal_close(atomic_load(&s->jn));
	atomic_store(&s->jn, NULL);
	sso_journal_close(atomic_load(&s->jn2));
	atomic_store(&s->jn2, NULL);
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

