/*
 * records.c: the JSON records of the service (apps, ports, settings) read
 * and written through sealed records, the per-thread cache of decoded ones,
 * and the small helpers every handler uses: the request's names, the
 * reply's JSON, a denial's message, an app's key and its members.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "icu-load.h"
#include "service.h"

static const char *const sso_tables[SSO_TABLE__COUNT] = {
	[SSO_TABLE_META] = "meta",
	[SSO_TABLE_APPS] = "apps",
	[SSO_TABLE_MAPPINGS] = "mappings",
	[SSO_TABLE_CERTS] = "certs",
	[SSO_TABLE_PORTS] = "ports",
	[SSO_TABLE_SUSPENDED] = "suspended",
	[SSO_TABLE_TICKETS] = "tickets",
	[SSO_TABLE_AUDIT] = "audit",
};

const struct vault_schema sso_schema = {
	sso_tables, SSO_TABLE__COUNT, 1u << SSO_TABLE_AUDIT,
};

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
	enum sso_table tab;
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

void
sso_records_forget(void)
{
	atomic_fetch_add(&jcache_gen, 1);
}

unsigned
sso_records_generation(void)
{
	return atomic_load(&jcache_gen);
}

/* Keep j for these sealed bytes; a failure only means no caching. */
static void
jcache_put(struct vault *v, enum sso_table tab, const char *key,
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
json_get_shared(struct vault_txn *t, enum sso_table tab, const char *key,
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
sso_json_get_shared(struct vault_txn *t, enum sso_table tab, const char *key,
    json_t **ret, char *msg)
{
	return json_get_shared(t, tab, key, ret, msg);
}

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
sso_json_get(struct vault_txn *t, enum sso_table tab, const char *key,
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
		    vault_table_name(vault_txn_vault(t), tab), key);
	*ret = j;
	return 0;
}

int
sso_json_put(struct vault_txn *t, enum sso_table tab, const char *key,
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

/* NFC of in (n UTF-16 units) into out (cap units); -1 on failure. */
static int32_t
nfc(const UChar *in, int32_t n, UChar *out, int32_t cap)
{
	UErrorCode e = U_ZERO_ERROR;
	const UNormalizer2 *nf = unorm2_getNFCInstance(&e);
	int32_t len;

	if (U_FAILURE(e))
		return -1;
	len = unorm2_normalize(nf, in, n, out, cap, &e);
	return U_FAILURE(e) ? -1 : len;
}

int
sso_app_name_key(const char *name, char out[SSO_APP_KEY_MAX + 1], char *msg)
{
	UChar a[SSO_APP_NAME_MAX * 4], b[SSO_APP_NAME_MAX * 4];
	UErrorCode e = U_ZERO_ERROR;
	size_t n = strlen(name), i;
	int32_t len, klen;
	int r;

	if (!sso_name_ok(name, SSO_APP_NAME_MAX) || name[0] == ' ' || name[n - 1] == ' ')
		return sv_fail(msg, SV_ERR_INVALID,
		    "invalid application name: 1 to %d bytes of UTF-8, without control "
		    "characters or a space at either end", SSO_APP_NAME_MAX);
	/*
	 * ASCII, most names, on every lookup: NFC leaves it as it is and case
	 * folding maps A-Z to a-z and nothing else (the same key as below,
	 * without ICU's cost; issue 15)
	 */
	for (i = 0; i < n && (unsigned char)name[i] < 0x80; i++)
		;
	if (i == n && n <= SSO_APP_KEY_MAX) {
		for (i = 0; i < n; i++)
			out[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
		out[n] = '\0';
		return 0;
	}
	/* canonical caseless form: NFC, case folded, NFC again */
	if ((r = sso_icu_need(msg)) != 0)
		return r;
	u_strFromUTF8(a, (int32_t)(sizeof(a) / sizeof(a[0])), &len, name, (int32_t)n, &e);
	if (U_FAILURE(e) || (len = nfc(a, len, b, (int32_t)(sizeof(b) / sizeof(b[0])))) < 0)
		goto bad;
	len = u_strFoldCase(a, (int32_t)(sizeof(a) / sizeof(a[0])), b, len, U_FOLD_CASE_DEFAULT,
	    &e);
	if (U_FAILURE(e) || (len = nfc(a, len, b, (int32_t)(sizeof(b) / sizeof(b[0])))) < 0)
		goto bad;
	u_strToUTF8(out, SSO_APP_KEY_MAX, &klen, b, len, &e);
	if (U_FAILURE(e) || e == U_STRING_NOT_TERMINATED_WARNING || klen > SSO_APP_KEY_MAX)
		goto bad;
	out[klen] = '\0';
	return 0;
bad:
	return sv_fail(msg, SV_ERR_INVALID,
	    "invalid application name: too long once its case is folded (at most %d bytes)",
	    SSO_APP_KEY_MAX);
}

void
sso_shell_quote(const char *s, char *out, size_t outlen)
{
	size_t i, n = 0;
	int plain = *s != '\0';

	for (i = 0; s[i] != '\0' && plain; i++)
		plain = strchr("@%+=:,./-_", s[i]) != NULL || isalnum((unsigned char)s[i]);
	if (plain) {
		snprintf(out, outlen, "%s", s);
		return;
	}
	if (outlen < 3) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	out[n++] = '\'';
	for (i = 0; s[i] != '\0' && n + 5 < outlen; i++) {
		if (s[i] == '\'') {
			memcpy(out + n, "'\\''", 4);
			n += 4;
		} else {
			out[n++] = s[i];
		}
	}
	out[n++] = '\'';
	out[n] = '\0';
}

int
sso_role_held(struct vault_txn *t, const char *role, const struct sso_caller *c)
{
	json_t *roles = NULL;
	int r, held;

	if ((r = sso_json_get(t, SSO_TABLE_META, "roles", &roles, NULL)) != 0)
		return r == SV_ERR_NOT_FOUND ? 0 : r;
	held = sso_principal_match_any(json_object_get(roles, role), c);
	json_decref(roles);
	return held;
}

int
sso_app_is_admin(struct sso_ctx *x, json_t *app)
{
	return app != NULL &&
	    sso_principal_match_any(json_object_get(app, "admins"), x->caller);
}

int
sso_app_is_user(struct sso_ctx *x, json_t *app)
{
	return app != NULL &&
	    sso_principal_match_any(json_object_get(app, "users"), x->caller);
}

