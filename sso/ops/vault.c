/*
 * Handlers for the vault's own life: status, unlock and lock, the master
 * secret's backup, restore and rotation, vault backup and restore, and the
 * two global roles.  Policy was checked by the dispatch before these run.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "handlers.h"

unsigned
sso_full_percent(size_t used, size_t max)
{
	if (max == 0)
		return 100;
	return (unsigned)((double)used * 100.0 / (double)max);
}

int
sso_full_warning(size_t used, size_t max, char *out, size_t outlen)
{
	char a[VAULT_SIZE_STR], b[VAULT_SIZE_STR];
	unsigned pct = sso_full_percent(used, max);

	if (pct < SSO_FULL_WARN_PCT)
		return 0;
	vault_size_str(used, a);
	vault_size_str(max, b);
	snprintf(out, outlen, "vault is %u%% full (%s of %s): free space (audit prune, "
	    "suspended terminate) or raise SSOVAULT_MAX_SIZE before ordinary changes "
	    "are refused", pct > 100 ? 100 : pct, a, b);
	return 1;
}

/* The store, and for an unlocked vault its slots (one per host). */
static void
status_hosts(struct sso_ctx *x, json_t *j)
{
	struct vault_slot_info *s = NULL;
	struct vault_db_view dv;
	json_t *arr;
	size_t n, i;

	json_object_set_new(j, "store", json_string(vault_shared(x->v) ? "postgresql" : "lmdb"));
	if (vault_shared_view(x->v, &dv) == 0)
		json_object_set_new(j, "database", json_pack("{s:b,s:I,s:I,s:I,s:i,s:I}",
		    "reachable", dv.reachable, "generation", (json_int_t)dv.db_gen,
		    "cache_generation", (json_int_t)dv.cache_gen,
		    "checked_ms_ago", (json_int_t)dv.checked_ms_ago,
		    "connections", (int)dv.connections, "writes", (json_int_t)dv.writes));
	if (!vault_is_unlocked(x->v) || vault_slot_list(x->v, &s, &n) != 0 ||
	    (arr = json_array()) == NULL) {
		free(s);
		return;
	}
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:b}", "name", s[i].name,
		    "type", s[i].key ? "key" : "passphrase", "this", s[i].mine));
	free(s);
	json_object_set_new(j, "slots", arr);
}

int
sso_h_status(struct sso_ctx *x, struct svbuf *req)
{
	struct vault_info vi;
	json_t *j, *ent;
	char id[VAULT_ID_BYTES * 2 + 1] = "", warn[SV_MSG_MAX];
	size_t certs, exportable;
	int r, t;

	if ((r = vault_info_get(x->v, &vi)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	if (vi.unlocked)
		sodium_bin2hex(id, sizeof(id), vault_id(x->v), VAULT_ID_BYTES);
	if ((ent = json_object()) == NULL)
		return SV_ERR_NOMEM;
	for (t = 0; t < (int)vi.ntables; t++)
		json_object_set_new(ent, vault_table_name(x->v, (unsigned)t),
		    json_integer((json_int_t)vi.entries[t]));
	j = json_pack("{s:s,s:b,s:i,s:i,s:s,s:i,s:i,s:{s:I,s:I},s:I,s:I,s:o}",
	    "vault", vault_dir(x->v), "unlocked", vi.unlocked,
	    "format", (int)vi.format, "epoch", (int)vi.epoch, "id", id,
	    "passphrase_slots", (int)vi.passphrase_slots, "key_slots", (int)vi.key_slots,
	    "kdf", "opslimit", (json_int_t)vi.opslimit, "memlimit", (json_int_t)vi.memlimit,
	    "map_size", (json_int_t)vi.map_size, "used_bytes", (json_int_t)vi.used_bytes,
	    "entries", ent);
	/* how full: what the ceiling counts, and what is kept for the way out */
	if (j != NULL) {
		json_object_set_new(j, "max_size", json_integer((json_int_t)vi.max_size));
		json_object_set_new(j, "file_bytes", json_integer((json_int_t)vi.file_bytes));
		json_object_set_new(j, "reserve_bytes", json_integer((json_int_t)vi.reserve_bytes));
		json_object_set_new(j, "used_percent",
		    json_integer((json_int_t)sso_full_percent(vi.used_bytes, vi.max_size)));
		if (sso_full_warning(vi.used_bytes, vi.max_size, warn, sizeof(warn)))
			json_object_set_new(j, "warning", json_string(warn));
		status_hosts(x, j);
	}
	/* keys that can still be handed out: vaults from before non-exportable keys */
	if (j != NULL && vi.unlocked && sso_cert_key_counts(x, &certs, &exportable) == 0)
		json_object_set_new(j, "certificates", json_pack("{s:I,s:I}",
		    "count", (json_int_t)certs, "exportable_keys", (json_int_t)exportable));
	x->object[0] = '\0';
	x->msg[0] = '\0';
	return sso_out_json(x, j);
}

/*
 * Cheap checks first, the key derivation outside the daemon's key lock
 * (sso_kdf_begin), the keys installed under it held exclusively.  An
 * unlocked vault answers without looking at the secret: trying it would
 * tell anyone whether it is right.
 */
int
sso_h_unlock(struct sso_ctx *x, struct svbuf *req)
{
	struct vault_unlock *u = NULL;
	const uint8_t *secret;
	size_t len, cost;
	uint8_t kind;
	int r;

	if ((r = svbuf_get_u8(req, &kind)) != 0 ||
	    (r = svbuf_get_string_direct(req, &secret, &len)) != 0)
		return r;
	if (svbuf_len(req) != 0)
		return sv_fail(x->msg, SV_ERR_TRAILING, "request has trailing bytes");
	if (kind != SSO_UNLOCK_PASSPHRASE && !(kind == SSO_UNLOCK_KEY && len == VAULT_KEY_BYTES))
		return sv_fail(x->msg, SV_ERR_INVALID, "a key file must hold exactly %d bytes",
		    VAULT_KEY_BYTES);
	if (vault_is_unlocked(x->v))
		return sv_fail(x->msg, SV_ERR_CONFLICT,
		    "the vault is already unlocked (the %s was not checked)",
		    kind == SSO_UNLOCK_PASSPHRASE ? "passphrase" : "key");
	if ((r = vault_unlock_prepare(x->v, kind == SSO_UNLOCK_KEY, secret, len, &u, x->msg)) != 0)
		return r;
	if ((cost = vault_unlock_cost(u)) > 0) {
		if ((r = sso_kdf_begin(x, cost)) != 0)
			goto out;
		r = vault_unlock_derive(u, x->msg);
		sso_kdf_end(x, cost);
	} else {
		r = vault_unlock_derive(u, x->msg);
	}
	if (r != 0)
		goto out;
	sso_keys_exclusive(x);
	/* another unlock may have finished while this one derived its key */
	if (vault_is_unlocked(x->v))
		r = sv_fail(x->msg, SV_ERR_CONFLICT, "the vault is already unlocked");
	else
		r = vault_unlock_finish(x->v, u, x->msg);
out:
	vault_unlock_free(u);
	return r;
}

int
sso_h_lock(struct sso_ctx *x, struct svbuf *req)
{
	vault_lock(x->v);
	return 0;
}

int
sso_h_secret_backup(struct sso_ctx *x, struct svbuf *req)
{
	const uint8_t *pw;
	size_t pwlen;
	char hint[SV_MSG_MAX];
	struct svbuf *blob = NULL;
	int r;

	if ((r = svbuf_get_string_direct(req, &pw, &pwlen)) != 0 ||
	    (r = sso_req_name(req, hint, sizeof(hint))) != 0)
		return r;
	if (pwlen < 8)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "the backup password must be at least 8 characters");
	if ((blob = svbuf_new(0)) == NULL)
		return SV_ERR_NOMEM;
	if ((r = vault_secret_backup(x->v, (const char *)pw, pwlen, hint, blob)) != 0)
		sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	else
		r = svbuf_put_buf(x->out, blob);
	svbuf_free(blob);
	return r;
}

/* In a shared service only a vault admin of the backup's vault may restore it. */
static int
restore_authorise(void *ctx, struct vault *v)
{
	struct sso_ctx *x = ctx;
	struct vault_txn *t = NULL;
	int r;

	if ((r = vault_txn_begin(v, 0, &t)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(v));
	r = sso_role_held(t, "vault-admin", x->caller);
	vault_txn_abort(t);
	if (r < 0)
		return sv_fail(x->msg, r, "the roles record cannot be read: restore refused");
	return r ? 0 : sso_deny(x, "a vault admin: nothing was restored");
}

/* As unlock: every check that needs no key, then Argon2id without a lock. */
int
sso_h_secret_restore(struct sso_ctx *x, struct svbuf *req)
{
	struct vault_secret_job *j = NULL;
	const uint8_t *blob, *pw, *np, *key;
	size_t bl, pl, nl, kl, cost;
	int r;

	if ((r = svbuf_get_string_direct(req, &blob, &bl)) != 0 ||
	    (r = svbuf_get_string_direct(req, &pw, &pl)) != 0 ||
	    (r = svbuf_get_string_direct(req, &np, &nl)) != 0 ||
	    (r = svbuf_get_string_direct(req, &key, &kl)) != 0)
		return r;
	if (svbuf_len(req) != 0)
		return sv_fail(x->msg, SV_ERR_TRAILING, "request has trailing bytes");
	if (kl != 0 && kl != VAULT_KEY_BYTES)
		return sv_fail(x->msg, SV_ERR_INVALID, "a key file must hold exactly %d bytes",
		    VAULT_KEY_BYTES);
	if (nl == 0 && kl == 0)
		return sv_fail(x->msg, SV_ERR_INVALID, "a new passphrase is required");
	if ((r = vault_secret_restore_prepare(x->v, blob, bl, (const char *)pw, pl,
	    nl != 0 ? (const char *)np : NULL, nl, kl != 0 ? key : NULL, &j, x->msg)) != 0)
		return r;
	cost = vault_secret_job_cost(j);
	if ((r = sso_kdf_begin(x, cost)) != 0)
		goto out;
	r = vault_secret_restore_derive(j, x->msg);
	sso_kdf_end(x, cost);
	if (r != 0)
		goto out;
	sso_keys_exclusive(x);
	r = vault_secret_restore_finish(x->v, j,
	    sso_service_shared(x->svc) ? restore_authorise : NULL, x, x->msg);
out:
	vault_secret_job_free(j);
	return r;
}

static void
rotate_progress(void *ctx, size_t done, size_t total)
{
	struct sso_ctx *x = ctx;

	sso_service_progress(x->svc, done, total);
}

int
sso_h_secret_rotate(struct sso_ctx *x, struct svbuf *req)
{
	int r;

	if ((r = vault_secret_rotate(x->v, rotate_progress, x)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return sso_out_json(x, json_pack("{s:i}", "epoch", (int)vault_epoch(x->v)));
}

/* The unlock slots, one per host or passphrase (docs/hosts.md). */
int
sso_h_slot_list(struct sso_ctx *x, struct svbuf *req)
{
	struct vault_slot_info *s = NULL;
	json_t *arr;
	size_t n, i;
	int r;

	if ((r = vault_slot_list(x->v, &s, &n)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	if ((arr = json_array()) == NULL) {
		free(s);
		return SV_ERR_NOMEM;
	}
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:b}", "name", s[i].name,
		    "type", s[i].key ? "key" : "passphrase", "this", s[i].mine));
	free(s);
	return sso_out_json(x, arr);
}

/*
 * string name | u8 kind (SSO_UNLOCK_PASSPHRASE or _KEY) | string secret.
 * Argon2id runs under the shared key lock, which only lock, unlock and
 * rotation wait for.
 */
int
sso_h_slot_add(struct sso_ctx *x, struct svbuf *req)
{
	char name[VAULT_SLOT_NAME_MAX + 2];
	const uint8_t *secret;
	size_t len;
	uint8_t kind;
	int r;

	if ((r = sso_req_name(req, name, sizeof(name))) != 0 ||
	    (r = svbuf_get_u8(req, &kind)) != 0 ||
	    (r = svbuf_get_string_direct(req, &secret, &len)) != 0)
		return r;
	if (svbuf_len(req) != 0)
		return sv_fail(x->msg, SV_ERR_TRAILING, "request has trailing bytes");
	if (kind != SSO_UNLOCK_PASSPHRASE && kind != SSO_UNLOCK_KEY)
		return sv_fail(x->msg, SV_ERR_INVALID, "a slot is for a passphrase or a key");
	snprintf(x->object, sizeof(x->object), "%s", name);
	if ((r = vault_slot_add(x->v, name, kind == SSO_UNLOCK_KEY, secret, len)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return 0;
}

int
sso_h_slot_remove(struct sso_ctx *x, struct svbuf *req)
{
	char name[VAULT_SLOT_NAME_MAX + 2];
	int r;

	if ((r = sso_req_name(req, name, sizeof(name))) != 0)
		return r;
	if (svbuf_len(req) != 0)
		return sv_fail(x->msg, SV_ERR_TRAILING, "request has trailing bytes");
	snprintf(x->object, sizeof(x->object), "%s", name);
	if ((r = vault_slot_remove(x->v, name)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return 0;
}

/*
 * string location.  Embedded mode only: a daemon would write where a caller
 * names with its own rights (docs/hosts.md).
 */
int
sso_h_store_copy(struct sso_ctx *x, struct svbuf *req)
{
	char to[1024];
	size_t n = 0;
	int r;

	if ((r = sso_req_name(req, to, sizeof(to))) != 0)
		return r;
	if (svbuf_len(req) != 0)
		return sv_fail(x->msg, SV_ERR_TRAILING, "request has trailing bytes");
	if (sso_service_shared(x->svc))
		return sv_fail(x->msg, SV_ERR_INVALID, "store copy runs in embedded mode, "
		    "with your own rights: unset SSOVAULT_SOCKET and unlock with the "
		    "vault's passphrase or key file");
	/* named only once it worked: a refused URI may hold a password */
	if ((r = vault_copy_to(x->v, to, &n)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	snprintf(x->object, sizeof(x->object), "%.*s", (int)sizeof(x->object) - 1, to);
	return sso_out_json(x, json_pack("{s:s,s:I}", "to", to, "records", (json_int_t)n));
}

int
sso_h_backup(struct sso_ctx *x, struct svbuf *req)
{
	int r;

	if (x->fd < 0)
		return sv_fail(x->msg, SV_ERR_INVALID, "no file was passed for the backup");
	if ((r = vault_backup(x->v, x->fd)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return 0;
}

int
sso_h_restore(struct sso_ctx *x, struct svbuf *req)
{
	int r;

	if (x->fd < 0)
		return sv_fail(x->msg, SV_ERR_INVALID, "no file was passed for the restore");
	if ((r = vault_restore(x->v, x->fd)) != 0)
		return sv_fail(x->msg, r, "%s", vault_errmsg(x->v));
	return 0;
}

int
sso_h_role_list(struct sso_ctx *x, struct svbuf *req)
{
	json_t *roles = NULL;
	int r;

	if ((r = sso_json_get(x->txn, SSO_TABLE_META, "roles", &roles, x->msg)) != 0)
		return r;
	return sso_out_json(x, roles);
}

static int
role_change(struct sso_ctx *x, struct svbuf *req, int add)
{
	char role[32], in[SSO_PRINCIPAL_MAX], p[SSO_PRINCIPAL_MAX];
	json_t *roles = NULL, *arr, *v;
	size_t i, found = (size_t)-1;
	int r;

	if ((r = sso_req_name(req, role, sizeof(role))) != 0 ||
	    (r = sso_req_name(req, in, sizeof(in))) != 0)
		return sv_fail(x->msg, r == SV_ERR_TRUNCATED ? r : SV_ERR_INVALID,
		    "invalid role or principal");
	if (strcmp(role, "vault-admin") != 0 && strcmp(role, "affiliate-admin") != 0)
		return sv_fail(x->msg, SV_ERR_INVALID,
		    "unknown role '%.32s': expected vault-admin or affiliate-admin", role);
	if ((r = sso_principal_check(in, p, x->msg)) != 0)
		return r;
	snprintf(x->target, sizeof(x->target), "%s", p);
	snprintf(x->object, sizeof(x->object), "%s", role);
	if ((r = sso_json_get(x->txn, SSO_TABLE_META, "roles", &roles, x->msg)) != 0)
		return r;
	arr = json_object_get(roles, role);
	json_array_foreach(arr, i, v) {
		if (strcmp(json_string_value(v), p) == 0)
			found = i;
	}
	if (add && found != (size_t)-1)
		r = sv_fail(x->msg, SV_ERR_EXISTS, "%s already holds %s", p, role);
	else if (!add && found == (size_t)-1)
		r = sv_fail(x->msg, SV_ERR_NOT_FOUND, "%s does not hold %s", p, role);
	else if (!add && strcmp(role, "vault-admin") == 0 && json_array_size(arr) == 1)
		r = sv_fail(x->msg, SV_ERR_CONFLICT,
		    "%s is the last vault admin: add another one first", p);
	else if (add)
		r = json_array_append_new(arr, json_string(p)) == 0 ? 0 : SV_ERR_NOMEM;
	else
		r = json_array_remove(arr, found) == 0 ? 0 : SV_ERR_INTERNAL;
	if (r == 0)
		r = sso_json_put(x->txn, SSO_TABLE_META, "roles", roles, 0);
	json_decref(roles);
	return r;
}

int
sso_h_role_add(struct sso_ctx *x, struct svbuf *req)
{
	return role_change(x, req, 1);
}

int
sso_h_role_remove(struct sso_ctx *x, struct svbuf *req)
{
	return role_change(x, req, 0);
}
