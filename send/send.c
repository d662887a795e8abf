/*
 * The transport: posting SOAP messages with libcurl, attempt by attempt.
 *
 * One batch is one libcurl multi handle with N easy handles (N = --parallel,
 * 1 by default) that are reused for every message of the call, so that
 * connections stay open (keep-alive) and TLS sessions are resumed; a share
 * handle holds the TLS session and connection caches for all of them.  A
 * message waiting to be retried does not hold up the others.
 *
 * Secrets are fetched through the client API (ssovault.h) as the caller,
 * right before each attempt, and dropped right after it.  A client
 * certificate whose key is not exportable (the default) is given to libcurl
 * through its SSL context callback with a key whose signatures the service
 * makes (ssovault_tls_use_cert()): the key never enters this process.  An
 * exportable key is handed to libcurl as a blob that points into the
 * service's secure memory (CURL_BLOB_NOCOPY) and lives until the transfer
 * ends.  Passwords are read from their files, or from the vault, into secure
 * memory.  libcurl keeps its own copies of user name and password for the
 * transfer (CURLOPT_USERNAME/PASSWORD copy); they are released when the
 * transfer ends, without being wiped: docs/send.md names this residual risk.
 *
 * Every message ends in exactly one result: delivered, answered with a
 * fault, kept in the suspended queue, refused before it was taken, or failed
 * (it could be neither delivered nor kept, and its file is untouched).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "base/paths.h"
#include "base/secretfile.h"
#include "send/send.h"
#include "curl-load.h"
#include "base/svbuf.h"

enum job_state { J_NEW, J_WAITING, J_ACTIVE, J_DONE };

struct job {
	size_t index;
	const char *name;		/* as given, or the message id */
	const char *path;		/* file to read; NULL if body is preset */
	struct svbuf *body;		/* the envelope to post */
	int soap;
	enum job_state state;
	unsigned attempts;
	int64_t due_ms;			/* monotonic time of the next attempt */
	struct ssovault_creds *ticket_creds;	/* redeemed once per message */
	long status;			/* of the last attempt */
	long long ms;
	char last[SV_MSG_MAX];		/* why the last attempt failed */
};

struct slot {
	CURL *e;
	struct job *j;
	struct ssovault_cert_blob *blob;
	struct ssovault_cert_info *signer;	/* a key the service signs with */
	struct ssovault *h;			/* ... through this handle */
	struct ssovault_creds *creds;
	struct svbuf *password;		/* from --password-file, secure */
	struct svbuf *proxy_password;
	struct svbuf *resp;
	int too_large;
	char errbuf[CURL_ERROR_SIZE];
};

struct batch {
	struct ssovault *h;
	const struct send_settings *s;
	const struct send_callbacks *cb;
	CURLM *m;
	CURLSH *sh;
	struct curl_slist *hdrs11, *hdrs12;
	struct slot *slots;
	size_t nslots;
	struct job *jobs;
	size_t njobs;
	size_t next_new;
	size_t done, active, waiting;
	struct send_summary sum;
	const char *resume_id;		/* resume: the queued message */
	unsigned prior_attempts;	/* resume: attempts before this call */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
or_default(long long v, long long def)
{
	return v >= 0 ? v : def;
}

static long long
retry_count(const struct batch *b)
{
	return or_default(b->s->retry_count, SEND_DEFAULT_RETRY_COUNT);
}

/* --- results ----------------------------------------------------------- */

static void
progress(struct batch *b)
{
	if (b->cb->progress != NULL)
		b->cb->progress(b->cb->ctx, b->done, b->njobs, b->active, b->waiting);
}

static void
notice(struct batch *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
notice(struct batch *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (b->cb->notice == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	b->cb->notice(b->cb->ctx, line);
}

/* Hand one result out and retire the job. */
static void
finish(struct batch *b, struct job *j, struct send_result *res)
{
	int r = 0;

	res->index = j->index;
	res->name = j->name;
	res->attempts = j->attempts;
	res->http_status = j->status;
	res->ms = j->ms;
	if (b->cb->result != NULL)
		r = b->cb->result(b->cb->ctx, res);
	if (r != 0 && (res->outcome == SEND_DELIVERED || res->outcome == SEND_FAULT))
		b->sum.failed++;	/* the response could not be stored */
	else if (res->outcome == SEND_DELIVERED && res->err == 0)
		b->sum.delivered++;
	else if (res->outcome == SEND_DELIVERED)
		b->sum.failed++;
	else if (res->outcome == SEND_FAULT)
		b->sum.faults++;
	else if (res->outcome == SEND_SUSPENDED)
		b->sum.suspended++;
	else if (res->outcome == SEND_NOT_TAKEN)
		b->sum.not_taken++;
	else
		b->sum.failed++;
	if (j->state == J_WAITING)
		b->waiting--;
	j->state = J_DONE;
	svbuf_free(j->body);
	j->body = NULL;
	ssovault_creds_free(j->ticket_creds);
	j->ticket_creds = NULL;
	b->done++;
	progress(b);
}

static void
not_taken(struct batch *b, struct job *j, int err, const char *why)
{
	struct send_result res;

	memset(&res, 0, sizeof(res));
	res.outcome = SEND_NOT_TAKEN;
	res.err = err;
	res.reason = why;
	finish(b, j, &res);
}

/* The settings kept with a suspended message: what is needed to resume it. */
static int
snapshot(struct batch *b, struct job *j, char **ret_json)
{
	struct send_settings snap;
	char *p;
	int r;

	send_settings_init(&snap);
	if ((r = send_settings_merge(&snap, b->s)) == 0) {
		snap.soap = j->soap;
		snap.body = SEND_UNSET;		/* the stored body is the whole envelope */
		free(snap.out);
		snap.out = NULL;		/* responses of a resume go where it says */
		/* a resume reads no password file from a message: it is named again */
		free(snap.password_file);
		snap.password_file = NULL;
		free(snap.proxy_password_file);
		snap.proxy_password_file = NULL;
		snap.parallel = SEND_UNSET;
		free(snap.source);
		snap.source = strdup(strcmp(j->name, "-") == 0 ? "(standard input)" : j->name);
		r = snap.source == NULL ? SV_ERR_NOMEM : 0;
	}
	if (r == 0) {
		/* a file name is any bytes; what the queue keeps is one line */
		for (p = snap.source; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		r = send_settings_to_json(&snap, ret_json);
	}
	send_settings_clear(&snap);
	return r;
}

/*
 * Keep the message: add it to the suspended queue (or, for a resume, record
 * the new failure on its entry).  If that fails too, the message failed: it
 * was neither delivered nor kept, and its file is untouched.
 */
static void
keep(struct batch *b, struct job *j, const char *reason, const char *fcode,
    const char *freason, enum send_outcome fault_outcome)
{
	struct send_result res;
	char *json = NULL, *id = NULL, why[SV_MSG_MAX * 2];
	int r;

	memset(&res, 0, sizeof(res));
	res.reason = reason;
	res.fault_code = fcode;
	res.fault_reason = freason;
	if (b->resume_id != NULL) {
		r = ssovault_suspended_update(b->h, b->resume_id, reason,
		    b->prior_attempts + j->attempts);
		res.id = b->resume_id;
	} else if ((r = snapshot(b, j, &json)) == 0) {
		r = ssovault_suspended_add(b->h, json, svbuf_ptr(j->body), svbuf_len(j->body),
		    reason, j->attempts, &id);
		res.id = id;
	}
	if (r != 0) {
		snprintf(why, sizeof(why), "%s; it could not be %s: %s", reason,
		    b->resume_id != NULL ? "updated in the suspended queue" : "suspended",
		    *ssovault_errmsg(b->h) != '\0' ? ssovault_errmsg(b->h) : sv_strerror(r));
		res.outcome = SEND_FAILED;
		res.err = r;
		res.reason = why;
		res.id = b->resume_id;
	} else {
		res.outcome = fault_outcome;
	}
	finish(b, j, &res);
	free(json);
	free(id);
}

/* --- reading and preparing a message --------------------------------- */

static int
job_load(struct batch *b, struct job *j)
{
	struct svbuf *raw = NULL;
	uint8_t *wrapped = NULL, chunk[65536];
	char why[SV_MSG_MAX + 64], m[SV_MSG_MAX];
	size_t wlen = 0;
	ssize_t n;
	int fd = -1, r, soap = b->s->soap > 0 ? b->s->soap : 0;

	m[0] = '\0';
	if (strcmp(j->path, "-") == 0) {
		fd = STDIN_FILENO;
	} else if ((fd = open(j->path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, sizeof(why), "cannot read %s: %s", j->path, strerror(errno));
		not_taken(b, j, errno == ENOENT ? SV_ERR_NOT_FOUND : SV_ERR_IO, why);
		return -1;
	}
	if ((raw = svbuf_new(SEND_MAX_MESSAGE)) == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, sizeof(why), "cannot read %s: %s", j->path, strerror(errno));
			r = SV_ERR_IO;
			goto refused;
		}
		if (n == 0)
			break;
		if (svbuf_put(raw, chunk, (size_t)n) != 0) {
			snprintf(why, sizeof(why), "too large: a message has at most %u MiB",
			    SEND_MAX_MESSAGE >> 20);
			r = SV_ERR_TOO_LARGE;
			goto refused;
		}
	}
	if (b->s->body == 1) {
		r = send_envelope_wrap(svbuf_ptr(raw), svbuf_len(raw), soap, &wrapped, &wlen, m);
		if (r == 0) {
			svbuf_reset(raw);
			r = svbuf_put(raw, wrapped, wlen);
			soap = soap != 0 ? soap : 11;
		}
	} else {
		r = send_envelope_check(svbuf_ptr(raw), svbuf_len(raw), soap, &soap, m);
	}
	if (r != 0) {
		snprintf(why, sizeof(why), "%s", m[0] != '\0' ? m : sv_strerror(r));
		goto refused;
	}
	j->body = raw;
	j->soap = soap;
	raw = NULL;
	r = 0;
	goto out;
refused:
	not_taken(b, j, r, why);
	r = -1;
out:
	if (fd >= 0 && fd != STDIN_FILENO)
		close(fd);
	svbuf_free(raw);
	free(wrapped);
	sodium_memzero(chunk, sizeof(chunk));
	return r;
}

/* --- secrets for one attempt -------------------------------------------- */

/* A password file into secure memory, NUL-terminated, one trailing newline dropped. */
static int
password_read(const char *path, struct svbuf **ret, char *why, size_t whylen)
{
	struct svbuf *b = NULL;
	char m[SV_MSG_MAX], *p = NULL;
	size_t len = 0;
	int r;

	/* the rule of every key, passphrase and password file (base/secretfile.h) */
	if ((r = secretfile_read(path, "password file", SECRETFILE_MAX, &p, &len, m)) != 0) {
		if (r == SV_ERR_TOO_LARGE)
			snprintf(why, whylen, "password file %s is too large", path);
		else
			snprintf(why, whylen, "%s", m);
		return r;
	}
	len = secretfile_trim(p, len);
	if (len == 0 || memchr(p, '\0', len) != NULL) {
		snprintf(why, whylen, "password file %s is empty or holds a NUL byte", path);
		r = SV_ERR_INVALID;
	} else if ((b = svbuf_new_secure(len + 1)) == NULL ||
	    svbuf_put(b, p, len + 1) != 0 || svbuf_unreserve(b, 1) != 0) {
		/* the NUL was put and given back: it stays, wiped, past the length */
		r = SV_ERR_NOMEM;
	}
	sodium_free(p);
	if (r != 0) {
		svbuf_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

/* Drop everything secret an attempt held; libcurl gives back its copies. */
static void
slot_wipe(struct slot *sl)
{
	curl_easy_setopt(sl->e, CURLOPT_USERNAME, NULL);
	curl_easy_setopt(sl->e, CURLOPT_PASSWORD, NULL);
	curl_easy_setopt(sl->e, CURLOPT_PROXYPASSWORD, NULL);
	curl_easy_setopt(sl->e, CURLOPT_SSLKEY_BLOB, NULL);
	curl_easy_setopt(sl->e, CURLOPT_SSLCERT_BLOB, NULL);
	curl_easy_setopt(sl->e, CURLOPT_SSL_CTX_FUNCTION, NULL);
	ssovault_cert_blob_free(sl->blob);
	sl->blob = NULL;
	ssovault_cert_info_free(sl->signer, 1);
	sl->signer = NULL;
	ssovault_creds_free(sl->creds);
	sl->creds = NULL;
	svbuf_free(sl->password);
	sl->password = NULL;
	svbuf_free(sl->proxy_password);
	sl->proxy_password = NULL;
}

/* "user:NAME" of the caller, or "uid:N" if it has no name. */
static const char *
self_principal(void)
{
	static __thread char p[300];
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res != NULL &&
	    strlen(pw.pw_name) < sizeof(p) - 5)
		snprintf(p, sizeof(p), "user:%s", pw.pw_name);
	else
		snprintf(p, sizeof(p), "uid:%lu", (unsigned long)geteuid());
	return p;
}

/* libcurl's SSL context callback: a new connection presents the signer's certificate. */
static CURLcode
signer_install(CURL *e, void *ssl_ctx, void *arg)
{
	struct slot *sl = arg;

	return ssovault_tls_use_cert(sl->h, sl->signer, ssl_ctx) == 0 ? CURLE_OK :
	    CURLE_SSL_CERTPROBLEM;
}

/*
 * The client certificate: a key the service signs with, or an exportable
 * one handed over as a blob.  Either way checked by the service now (the
 * caller's grant, the dates).
 */
static int
attempt_cert(struct batch *b, struct slot *sl, char *reason, size_t rlen)
{
	const struct send_settings *s = b->s;
	struct curl_blob cert, key;
	size_t n = 0;
	int r;

	if ((r = ssovault_cert_usable(b->h, s->cert, &sl->signer, &n)) == 0 &&
	    !sl->signer->exportable) {
		sl->h = b->h;
		if (curl_easy_setopt(sl->e, CURLOPT_SSL_CTX_DATA, sl) != CURLE_OK ||
		    curl_easy_setopt(sl->e, CURLOPT_SSL_CTX_FUNCTION, signer_install) != CURLE_OK) {
			snprintf(reason, rlen, "client certificate %s: this libcurl cannot take a "
			    "key that the service signs with (it needs OpenSSL)", s->cert);
			return SV_ERR_INTERNAL;
		}
		return 0;
	}
	ssovault_cert_info_free(sl->signer, n);
	sl->signer = NULL;
	if (r == 0)
		r = ssovault_cert_fetch(b->h, s->cert, &sl->blob);
	if (r != 0) {
		char grant[400] = "";

		/* the grant that is missing, as the admin would type it */
		if (r == SV_ERR_DENIED)
			snprintf(grant, sizeof(grant), "; a vault admin grants it with "
			    "'ssovault cert grant %s %s'", s->cert, self_principal());
		snprintf(reason, rlen, "client certificate %s cannot be loaded: %s%s", s->cert,
		    *ssovault_errmsg(b->h) != '\0' ? ssovault_errmsg(b->h) : sv_strerror(r),
		    grant);
		return r;
	}
	cert.data = sl->blob->cert_pem;
	cert.len = sl->blob->cert_len;
	cert.flags = CURL_BLOB_NOCOPY;
	key.data = sl->blob->key_pem;
	key.len = sl->blob->key_len;
	key.flags = CURL_BLOB_NOCOPY;
	curl_easy_setopt(sl->e, CURLOPT_SSLCERT_BLOB, &cert);
	curl_easy_setopt(sl->e, CURLOPT_SSLCERTTYPE, "PEM");
	curl_easy_setopt(sl->e, CURLOPT_SSLKEY_BLOB, &key);
	curl_easy_setopt(sl->e, CURLOPT_SSLKEYTYPE, "PEM");
	return 0;
}

/*
 * Fetch what this attempt needs from the vault and the password files.
 * On failure, reason says why and the message is to be kept at once.
 */
static int
attempt_secrets(struct batch *b, struct slot *sl, struct job *j, char *reason, size_t rlen)
{
	const struct send_settings *s = b->s;
	const char *user = NULL, *pass = NULL;
	int r;

	if (s->cert != NULL && (r = attempt_cert(b, sl, reason, rlen)) != 0)
		return r;
	if (s->uses_ticket && j->ticket_creds == NULL) {
		/* a ticket is single-use: redeemed once for all attempts of this message */
		if ((r = ssovault_ticket_redeem(b->h, s->sso_app, s->ticket, s->sender,
		    &j->ticket_creds)) != 0) {
			snprintf(reason, rlen, "ticket for '%s' refused: %s", s->sso_app,
			    *ssovault_errmsg(b->h) != '\0' ? ssovault_errmsg(b->h) : sv_strerror(r));
			return r;
		}
	}
	if (s->uses_ticket || s->sso_app != NULL) {
		const struct ssovault_creds *c = j->ticket_creds;

		if (c == NULL) {
			if ((r = ssovault_creds_get(b->h, s->sso_app, NULL, &sl->creds)) != 0) {
				snprintf(reason, rlen, "SSO credentials for '%s' cannot be had: %s",
				    s->sso_app, *ssovault_errmsg(b->h) != '\0' ?
				    ssovault_errmsg(b->h) : sv_strerror(r));
				return r;
			}
			c = sl->creds;
		}
		user = c->nfields > 0 && c->fields[0].value != NULL ? c->fields[0].value :
		    c->external_user;
		if ((pass = ssovault_creds_password(c)) == NULL) {
			snprintf(reason, rlen, "SSO credentials for '%s' have no masked field "
			    "to use as the password", s->sso_app);
			return SV_ERR_INVALID;
		}
	} else if (s->user != NULL) {
		if ((r = password_read(s->password_file, &sl->password, reason, rlen)) != 0)
			return r;
		user = s->user;
		pass = (const char *)svbuf_ptr(sl->password);
	}
	if (user != NULL) {
		curl_easy_setopt(sl->e, CURLOPT_USERNAME, user);
		curl_easy_setopt(sl->e, CURLOPT_PASSWORD, pass);
	}
	if (s->proxy_user != NULL) {
		if ((r = password_read(s->proxy_password_file, &sl->proxy_password,
		    reason, rlen)) != 0)
			return r;
		curl_easy_setopt(sl->e, CURLOPT_PROXYUSERNAME, s->proxy_user);
		curl_easy_setopt(sl->e, CURLOPT_PROXYPASSWORD,
		    (const char *)svbuf_ptr(sl->proxy_password));
	}
	return 0;
}

/* --- attempts ------------------------------------------------------------ */

static size_t
on_write(char *p, size_t size, size_t n, void *ctx)
{
	struct slot *sl = ctx;

	if (svbuf_put(sl->resp, p, size * n) != 0) {
		sl->too_large = 1;
		return 0;	/* aborts the transfer */
	}
	return size * n;
}

/* Start one attempt in a free slot; 0 if it runs, else the job was settled. */
static int
attempt_start(struct batch *b, struct slot *sl, struct job *j)
{
	char reason[SV_MSG_MAX * 2];

	if (j->state == J_WAITING)
		b->waiting--;
	j->state = J_ACTIVE;
	reason[0] = '\0';
	sl->j = j;
	if (attempt_secrets(b, sl, j, reason, sizeof(reason)) != 0) {
		slot_wipe(sl);
		sl->j = NULL;
		keep(b, j, reason, NULL, NULL, SEND_SUSPENDED);
		return -1;
	}
	svbuf_reset(sl->resp);
	sl->too_large = 0;
	sl->errbuf[0] = '\0';
	curl_easy_setopt(sl->e, CURLOPT_POSTFIELDS, (const char *)svbuf_ptr(j->body));
	curl_easy_setopt(sl->e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)svbuf_len(j->body));
	curl_easy_setopt(sl->e, CURLOPT_HTTPHEADER, j->soap == 12 ? b->hdrs12 : b->hdrs11);
	j->attempts++;
	if (curl_multi_add_handle(b->m, sl->e) != CURLM_OK) {
		slot_wipe(sl);
		sl->j = NULL;
		keep(b, j, "libcurl could not start the transfer", NULL, NULL, SEND_SUSPENDED);
		return -1;
	}
	b->active++;
	progress(b);
	return 0;
}

/* Up to len - 1 bytes of src with anything but printable ASCII as '?'. */
static void
printable_copy(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < len; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

/*
 * Where a redirect pointed, without user info, query or fragment (a
 * server's Location may carry a token; the reason is stored and printed).
 */
static void
redirect_target(const char *loc, char *out, size_t len)
{
	CURLU *u = curl_url();
	char *clean = NULL;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, loc, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &clean, 0) == CURLUE_OK)
		printable_copy(out, len, clean);
	else
		printable_copy(out, len, "(an unparsable Location)");
	curl_free(clean);
	curl_url_cleanup(u);
}

/*
 * A TLS failure explained with the option that fixes it; libcurl's words
 * stay in brackets.  0 if cc is no TLS failure this knows.
 */
static int
tls_explain(const struct send_settings *s, CURLcode cc, const char *err, char *out,
    size_t len)
{
	int cert_asked = strstr(err, "certificate required") != NULL ||
	    strstr(err, "alert handshake failure") != NULL;

	if (cc == CURLE_PEER_FAILED_VERIFICATION) {
		if (strstr(err, "subject name") != NULL || strstr(err, "does not match") != NULL)
			snprintf(out, len, "TLS: the server's certificate is not for this "
			    "host name (%.100s): use the name it was issued to in the URL", err);
		else if (strstr(err, "expired") != NULL)
			snprintf(out, len, "TLS: the server's certificate has expired "
			    "(%.100s): its administrator must renew it", err);
		else if (s->cacert != NULL || s->capath != NULL)
			snprintf(out, len, "TLS: the server's certificate is not signed by the "
			    "CA given (%.100s): give the server's CA with --cacert FILE", err);
		else
			snprintf(out, len, "TLS: the server's certificate is not trusted (%.100s): "
			    "give the CA that signed it with --cacert FILE (or --capath DIR)", err);
		return 1;
	}
	if (cc == CURLE_SSL_CACERT_BADFILE) {
		snprintf(out, len, "TLS: --cacert/--capath could not be read as PEM CA "
		    "certificates (%.100s)", err);
		return 1;
	}
	if ((cc == CURLE_RECV_ERROR || cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SEND_ERROR) &&
	    s->cert == NULL && cert_asked) {
		snprintf(out, len, "TLS: the server demands a client certificate (%.100s): "
		    "give one with --cert THUMBPRINT ('ssovault cert list')", err);
		return 1;
	}
	if ((cc == CURLE_RECV_ERROR || cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SEND_ERROR) &&
	    s->cert != NULL && (cert_asked || strstr(err, "unknown ca") != NULL ||
	    strstr(err, "bad certificate") != NULL)) {
		snprintf(out, len, "TLS: the server refused client certificate %.40s (%.80s): "
		    "it must trust the CA that issued it", s->cert, err);
		return 1;
	}
	return 0;
}

/*
 * One line on why an attempt failed, naming the proxy when it was the proxy
 * that could not be reached, and where a redirect pointed (redirects are
 * not followed: a POST must not turn into a GET elsewhere).
 */
static void
describe_failure(const struct batch *b, struct slot *sl, CURLcode cc, long status, char *out,
    size_t len)
{
	const char *err = sl->errbuf[0] != '\0' ? sl->errbuf : curl_easy_strerror(cc);
	char *loc = NULL, where[200];

	if (sl->too_large)
		snprintf(out, len, "HTTP %ld with a response larger than the size cap", status);
	else if (cc != CURLE_OK && b->s->proxy != NULL &&
	    (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_PROXY))
		snprintf(out, len, "proxy %.80s: %.160s", b->s->proxy, err);
	else if (cc != CURLE_OK && tls_explain(b->s, cc, err, out, len))
		;
	else if (cc != CURLE_OK)
		snprintf(out, len, "%s", err);
	else if (status >= 300 && status <= 399 &&
	    curl_easy_getinfo(sl->e, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc != NULL) {
		redirect_target(loc, where, sizeof(where));
		snprintf(out, len, "HTTP %ld, a redirect to %.180s (redirects are not followed)",
		    status, where);
	} else
		snprintf(out, len, "HTTP %ld", status);
}

/* A non-empty 2xx answer that does not say it is XML is worth a word. */
static void
note_not_xml(struct batch *b, struct slot *sl, const struct job *j)
{
	char *ct = NULL, type[100];
	size_t n;

	if (svbuf_len(sl->resp) == 0 ||
	    curl_easy_getinfo(sl->e, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK)
		return;
	if (ct != NULL) {
		n = strcspn(ct, ";");
		if ((n >= 4 && strncasecmp(ct + n - 4, "/xml", 4) == 0) ||
		    (n >= 4 && strncasecmp(ct + n - 4, "+xml", 4) == 0))
			return;
	}
	printable_copy(type, sizeof(type), ct != NULL ? ct : "no Content-Type");
	notice(b, "%s: note: the response (HTTP %ld, %s, %zu bytes) is not XML; "
	    "delivered all the same", j->name, j->status, type, svbuf_len(sl->resp));
}

static void
attempt_end(struct batch *b, struct slot *sl, CURLcode cc)
{
	struct job *j = sl->j;
	struct send_result res;
	char *fcode = NULL, *freason = NULL, reason[SV_MSG_MAX * 2], fline[SV_MSG_MAX * 2];
	curl_off_t us = 0;
	long status = 0;
	enum send_verdict v;
	int fault = 0;

	curl_multi_remove_handle(b->m, sl->e);
	b->active--;
	slot_wipe(sl);
	sl->j = NULL;
	curl_easy_getinfo(sl->e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(sl->e, CURLINFO_TOTAL_TIME_T, &us);
	j->status = status;
	j->ms = (long long)(us / 1000);
	if (!sl->too_large && svbuf_len(sl->resp) > 0 &&
	    send_fault_parse(svbuf_ptr(sl->resp), svbuf_len(sl->resp), &fcode, &freason) == 0)
		fault = 1;
	v = send_classify((int)cc, status, fault, sl->too_large);
	memset(&res, 0, sizeof(res));
	res.response = svbuf_ptr(sl->resp);
	res.response_len = svbuf_len(sl->resp);
	switch (v) {
	case SEND_V_DELIVERED:
	case SEND_V_UNREAD:
		if (v == SEND_V_UNREAD) {
			res.err = SV_ERR_TOO_LARGE;
			res.reason = "the response was larger than --max-response-size and was dropped";
			res.response = NULL;
			res.response_len = 0;
		}
		res.outcome = SEND_DELIVERED;
		if (v == SEND_V_DELIVERED)
			note_not_xml(b, sl, j);
		if (b->resume_id != NULL) {
			res.id = b->resume_id;
			if (ssovault_suspended_remove(b->h, b->resume_id, 1) != 0) {
				snprintf(reason, sizeof(reason),
				    "delivered, but it could not be removed from the suspended queue "
				    "(%s): terminate it with 'ssovault suspended terminate %s'",
				    ssovault_errmsg(b->h), b->resume_id);
				res.err = SV_ERR_CONFLICT;
				res.reason = reason;
			}
		}
		finish(b, j, &res);
		break;
	case SEND_V_FAULT:
		snprintf(fline, sizeof(fline), "fault: %s: %s", fcode, freason);
		if (b->s->suspend_on_fault == 1 || b->resume_id != NULL) {
			/* a resumed message stays queued on a fault: terminate drops it */
			keep(b, j, fline, fcode, freason,
			    b->s->suspend_on_fault == 1 ? SEND_SUSPENDED : SEND_FAULT);
		} else {
			res.outcome = SEND_FAULT;
			res.fault_code = fcode;
			res.fault_reason = freason;
			res.reason = fline;
			finish(b, j, &res);
		}
		break;
	case SEND_V_RETRY:
		describe_failure(b, sl, cc, status, j->last, sizeof(j->last));
		if (j->attempts <= (unsigned)retry_count(b)) {
			long long wait = or_default(b->s->retry_interval_s, SEND_DEFAULT_RETRY_INTERVAL);

			j->state = J_WAITING;
			j->due_ms = now_ms() + wait * 1000;
			b->waiting++;
			notice(b, "%s: attempt %u failed (%s); next in %llds", j->name, j->attempts,
			    j->last, wait);
			progress(b);
			break;
		}
		snprintf(reason, sizeof(reason), "gave up after %u attempt%s: %s", j->attempts,
		    j->attempts == 1 ? "" : "s", j->last);
		keep(b, j, reason, NULL, NULL, SEND_SUSPENDED);
		break;
	case SEND_V_KEEP:
		describe_failure(b, sl, cc, status, j->last, sizeof(j->last));
		snprintf(reason, sizeof(reason), "not retried: %s", j->last);
		keep(b, j, reason, NULL, NULL, SEND_SUSPENDED);
		break;
	}
	svbuf_reset(sl->resp);
	free(fcode);
	free(freason);
}

/* --- the loop -------------------------------------------------------------- */

/* The next job to start: a retry that is due, else the next new message. */
static struct job *
pick(struct batch *b, int64_t now)
{
	struct job *best = NULL;
	size_t i;

	for (i = 0; b->waiting > 0 && i < b->njobs; i++)
		if (b->jobs[i].state == J_WAITING && b->jobs[i].due_ms <= now &&
		    (best == NULL || b->jobs[i].due_ms < best->due_ms))
			best = &b->jobs[i];
	if (best != NULL)
		return best;
	while (b->next_new < b->njobs) {
		struct job *j = &b->jobs[b->next_new++];

		if (j->body != NULL || job_load(b, j) == 0)
			return j;
	}
	return NULL;
}

static void
fill(struct batch *b)
{
	struct job *j;
	size_t i;

	for (i = 0; i < b->nslots; i++) {
		while (b->slots[i].j == NULL && (j = pick(b, now_ms())) != NULL)
			(void)attempt_start(b, &b->slots[i], j);
	}
}

static int
drain(struct batch *b)
{
	struct CURLMsg *msg;
	struct slot *sl;
	int left, running;

	if (curl_multi_perform(b->m, &running) != CURLM_OK)
		return SV_ERR_TRANSPORT;
	while ((msg = curl_multi_info_read(b->m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		sl = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
		attempt_end(b, sl, msg->data.result);
	}
	return 0;
}

/* How long to wait for network activity: until the next retry is due, at most 1s. */
static int
wait_ms(struct batch *b)
{
	int64_t now = now_ms(), next = now + 1000;
	size_t i;

	for (i = 0; b->waiting > 0 && i < b->njobs; i++)
		if (b->jobs[i].state == J_WAITING && b->jobs[i].due_ms < next)
			next = b->jobs[i].due_ms;
	return next <= now ? 0 : (int)(next - now);
}

static int
stopped(const struct batch *b)
{
	return b->cb->stop != NULL && *b->cb->stop != 0;
}

/*
 * Stopped by a signal: nothing is lost.  What was in flight or waiting to
 * retry is kept with its attempts, a message from standard input is read
 * and kept (it exists nowhere else), and the files not yet read are
 * reported one by one, untouched.
 */
static void
interrupt(struct batch *b)
{
	char reason[SV_MSG_MAX * 2];
	struct slot *sl;
	struct job *j;
	size_t i;

	for (i = 0; i < b->nslots; i++) {
		sl = &b->slots[i];
		if ((j = sl->j) == NULL)
			continue;
		curl_multi_remove_handle(b->m, sl->e);
		b->active--;
		slot_wipe(sl);
		sl->j = NULL;
		snprintf(reason, sizeof(reason), "interrupted during attempt %u", j->attempts);
		keep(b, j, reason, NULL, NULL, SEND_SUSPENDED);
	}
	for (i = 0; b->waiting > 0 && i < b->njobs; i++) {
		j = &b->jobs[i];
		if (j->state != J_WAITING)
			continue;
		snprintf(reason, sizeof(reason), "interrupted while waiting to retry; "
		    "attempt %u failed: %s", j->attempts, j->last);
		keep(b, j, reason, NULL, NULL, SEND_SUSPENDED);
	}
	while (b->next_new < b->njobs) {
		j = &b->jobs[b->next_new++];
		if (j->state == J_DONE)
			continue;
		if (j->body != NULL || (j->path != NULL && strcmp(j->path, "-") == 0)) {
			/* a resume's message, or one only standard input held */
			if (j->body != NULL || job_load(b, j) == 0)
				keep(b, j, "interrupted before it was sent", NULL, NULL,
				    SEND_SUSPENDED);
		} else {
			not_taken(b, j, SV_ERR_CONFLICT,
			    "interrupted before it was sent; the file is untouched");
		}
	}
}

/* Tell how long until the soonest retry, when that is all there is to do. */
static void
countdown(struct batch *b, long long *shown)
{
	struct job *next = NULL;
	long long secs;
	size_t i;

	if (b->cb->wait == NULL || b->active > 0 || b->waiting == 0)
		return;
	for (i = 0; i < b->njobs; i++)
		if (b->jobs[i].state == J_WAITING &&
		    (next == NULL || b->jobs[i].due_ms < next->due_ms))
			next = &b->jobs[i];
	if (next == NULL)
		return;
	secs = (next->due_ms - now_ms() + 999) / 1000;
	if (secs < 0)
		secs = 0;
	if (secs != *shown)
		b->cb->wait(b->cb->ctx, next->name, next->attempts + 1, secs);
	*shown = secs;
}

static int
run(struct batch *b)
{
	long long shown = -1;
	int r;

	progress(b);
	for (;;) {
		if (stopped(b)) {
			/* transfers that finished are settled first: a delivered one stays delivered */
			if (b->active > 0)
				(void)drain(b);
			interrupt(b);
			return 0;
		}
		fill(b);
		if (b->active > 0 && (r = drain(b)) != 0)
			return r;
		if (b->done == b->njobs)
			return 0;
		if (stopped(b))
			continue;
		fill(b);
		countdown(b, &shown);
		/* a signal ends the wait early (EINTR), or the next second does */
		if (curl_multi_poll(b->m, NULL, 0, wait_ms(b), NULL) != CURLM_OK)
			return SV_ERR_TRANSPORT;
	}
}

/* --- set-up ---------------------------------------------------------------- */

static struct curl_slist *
soap_headers(const struct send_settings *s, int soap)
{
	struct curl_slist *l = NULL, *n;
	char line[2300];
	size_t i;

	if (soap == 12)
		snprintf(line, sizeof(line), "Content-Type: application/soap+xml; charset=utf-8%s%s%s",
		    s->action != NULL ? "; action=\"" : "", s->action != NULL ? s->action : "",
		    s->action != NULL ? "\"" : "");
	else
		snprintf(line, sizeof(line), "Content-Type: text/xml; charset=utf-8");
	if ((l = curl_slist_append(l, line)) == NULL)
		return NULL;
	if (soap != 12) {
		snprintf(line, sizeof(line), "SOAPAction: \"%s\"", s->action != NULL ? s->action : "");
		if ((n = curl_slist_append(l, line)) == NULL)
			goto fail;
		l = n;
	}
	/* no 100-continue round trip: SOAP endpoints take the body at once */
	if ((n = curl_slist_append(l, "Expect:")) == NULL)
		goto fail;
	l = n;
	for (i = 0; i < s->nheaders; i++) {
		if ((n = curl_slist_append(l, s->headers[i])) == NULL)
			goto fail;
		l = n;
	}
	return l;
fail:
	curl_slist_free_all(l);
	return NULL;
}

static long
auth_bits(const struct send_settings *s)
{
	int creds = s->user != NULL || s->sso_app != NULL;
	int a = s->auth >= 0 ? s->auth : creds ? SEND_AUTH_BASIC : SEND_AUTH_ANONYMOUS;

	switch (a) {
	case SEND_AUTH_BASIC:
		return (long)CURLAUTH_BASIC;
	case SEND_AUTH_DIGEST:
		return (long)CURLAUTH_DIGEST;
	case SEND_AUTH_NTLM:
		return (long)CURLAUTH_NTLM;
	default:
		return (long)CURLAUTH_NONE;
	}
}

static int
slot_init(struct batch *b, struct slot *sl, char *msg)
{
	const struct send_settings *s = b->s;
	CURL *e;
	int ok = 1;

	if ((e = sl->e = curl_easy_init()) == NULL ||
	    (sl->resp = svbuf_new((size_t)or_default(s->max_response_size,
	    SEND_DEFAULT_MAX_RESPONSE))) == NULL)
		return sv_fail(msg, SV_ERR_NOMEM, "libcurl could not start");
	ok &= curl_easy_setopt(e, CURLOPT_URL, s->url) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
	/*
	 * Redirects are not followed (docs/send.md); should that change, none
	 * may lead to plain http or carry credentials to another host.
	 */
	ok &= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https") == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_SHARE, b->sh) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)sl) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)sl) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, sl->errbuf) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_USERAGENT, "ssovault/" SSOVAULT_VERSION) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)or_default(s->timeout_s,
	    SEND_DEFAULT_TIMEOUT)) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)or_default(s->connect_timeout_s,
	    SEND_DEFAULT_CONNECT_TIMEOUT)) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_HTTPAUTH, auth_bits(s)) == CURLE_OK;
	if (s->cacert != NULL)
		ok &= curl_easy_setopt(e, CURLOPT_CAINFO, s->cacert) == CURLE_OK;
	if (s->capath != NULL)
		ok &= curl_easy_setopt(e, CURLOPT_CAPATH, s->capath) == CURLE_OK;
	if (s->proxy != NULL) {
		ok &= curl_easy_setopt(e, CURLOPT_PROXY, s->proxy) == CURLE_OK;
		ok &= curl_easy_setopt(e, CURLOPT_PROXYAUTH, (long)CURLAUTH_ANY) == CURLE_OK;
	}
	if (!ok)
		return sv_fail(msg, SV_ERR_TRANSPORT,
		    "this libcurl lacks a feature the sender needs (7.85 or later is required)");
	return 0;
}

/* Files named in the settings must be there before any message is taken. */
static int
check_files(const struct send_settings *s, char *msg)
{
	const char *files[] = { s->password_file, s->proxy_password_file, s->cacert };
	const char *what[] = { "--password-file", "--proxy-password-file", "--cacert" };
	char m[SV_MSG_MAX];
	size_t i;
	int fd, r;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i] == NULL)
			continue;
		if (access(files[i], R_OK) != 0)
			return sv_fail(msg, errno == ENOENT ? SV_ERR_NOT_FOUND : SV_ERR_IO,
			    "%s %s: %s", what[i], files[i], strerror(errno));
		/* a password file others may read or change: refused before taking anything */
		if (i < 2) {
			if ((r = vault_path_secret_open(files[i], "password file", m, &fd)) != 0)
				return sv_fail(msg, r, "%s: %s", what[i], m);
			close(fd);
		}
	}
	if (s->capath != NULL && access(s->capath, R_OK | X_OK) != 0)
		return sv_fail(msg, SV_ERR_IO, "--capath %s: %s", s->capath, strerror(errno));
	return 0;
}

static void
batch_free(struct batch *b)
{
	size_t i;

	for (i = 0; b->slots != NULL && i < b->nslots; i++) {
		if (b->slots[i].e != NULL) {
			if (b->slots[i].j != NULL)
				curl_multi_remove_handle(b->m, b->slots[i].e);
			slot_wipe(&b->slots[i]);
			curl_easy_cleanup(b->slots[i].e);
		}
		svbuf_free(b->slots[i].resp);
	}
	free(b->slots);
	for (i = 0; b->jobs != NULL && i < b->njobs; i++) {
		svbuf_free(b->jobs[i].body);
		ssovault_creds_free(b->jobs[i].ticket_creds);
	}
	free(b->jobs);
	curl_slist_free_all(b->hdrs11);
	curl_slist_free_all(b->hdrs12);
	if (b->m != NULL)
		curl_multi_cleanup(b->m);
	if (b->sh != NULL)
		curl_share_cleanup(b->sh);
}

static int
batch_init(struct batch *b, struct ssovault *h, const struct send_settings *s,
    const struct send_callbacks *cb, size_t njobs, char *msg)
{
	static const struct send_callbacks none;
	size_t i;
	int r;

	memset(b, 0, sizeof(*b));
	b->h = h;
	b->s = s;
	b->cb = cb != NULL ? cb : &none;
	if ((r = send_settings_check(s, msg)) != 0 || (r = check_files(s, msg)) != 0)
		return r;
	if ((r = send_curl_need(msg)) != 0)
		return r;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return sv_fail(msg, SV_ERR_TRANSPORT, "libcurl could not start");
	b->njobs = njobs;
	b->nslots = (size_t)or_default(s->parallel, 1);
	if (b->nslots > njobs)
		b->nslots = njobs > 0 ? njobs : 1;
	b->sum.total = njobs;
	if ((b->jobs = calloc(njobs > 0 ? njobs : 1, sizeof(*b->jobs))) == NULL ||
	    (b->slots = calloc(b->nslots, sizeof(*b->slots))) == NULL ||
	    (b->m = curl_multi_init()) == NULL || (b->sh = curl_share_init()) == NULL ||
	    (b->hdrs11 = soap_headers(s, 11)) == NULL || (b->hdrs12 = soap_headers(s, 12)) == NULL)
		return sv_fail(msg, SV_ERR_NOMEM, "out of memory setting up the transfer");
	curl_share_setopt(b->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(b->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(b->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	for (i = 0; i < b->nslots; i++)
		if ((r = slot_init(b, &b->slots[i], msg)) != 0)
			return r;
	return 0;
}

int
send_batch(struct ssovault *h, const struct send_settings *s,
    const char *const *files, size_t nfiles, const struct send_callbacks *cb,
    struct send_summary *ret, char *msg)
{
	struct batch b;
	int64_t t0 = now_ms();
	size_t i, stdin_count = 0;
	int r;

	for (i = 0; i < nfiles; i++)
		stdin_count += strcmp(files[i], "-") == 0;
	if (stdin_count > 1)
		return sv_fail(msg, SV_ERR_USAGE, "'-' (standard input) may be given once");
	if ((r = batch_init(&b, h, s, cb, nfiles, msg)) != 0)
		goto out;
	for (i = 0; i < nfiles; i++) {
		b.jobs[i].index = i;
		b.jobs[i].name = files[i];
		b.jobs[i].path = files[i];
	}
	if ((r = run(&b)) != 0) {
		sv_fail(msg, r, "the transfer loop failed");
		goto out;
	}
	b.sum.ms = now_ms() - t0;
	*ret = b.sum;
out:
	batch_free(&b);
	return r;
}

/* What the queue says of a message besides its settings. */
struct queued {
	unsigned attempts;		/* recorded before this resume */
	int own;			/* 1 if the caller sent it */
	char sender[128];		/* who did, for messages */
};

/*
 * Ask the service who sent message id and how often it was tried.  The
 * service decides "own" from the kernel's uid of the caller; a reply that
 * does not say counts as someone else's.
 */
static void
queued_info(struct ssovault *h, const char *id, struct queued *ret)
{
	json_t *j, *a;
	char *json = NULL;

	memset(ret, 0, sizeof(*ret));
	snprintf(ret->sender, sizeof(ret->sender), "another user");
	if (ssovault_suspended_show(h, id, &json) != 0)
		return;
	if ((j = json_loads(json, 0, NULL)) != NULL) {
		a = json_object_get(j, "attempts");
		if (json_is_integer(a) && json_integer_value(a) > 0 &&
		    json_integer_value(a) < 1000000)
			ret->attempts = (unsigned)json_integer_value(a);
		ret->own = json_is_true(json_object_get(j, "own"));
		if (json_is_string(json_object_get(j, "sender")))
			snprintf(ret->sender, sizeof(ret->sender), "%s",
			    json_string_value(json_object_get(j, "sender")));
		json_decref(j);
	}
	free(json);
}

int
send_resume(struct ssovault *h, const char *id, const struct send_settings *over,
    const struct send_callbacks *cb, struct send_summary *ret, char *msg)
{
	struct send_settings s, none;
	struct queued q;
	struct batch b;
	char *json = NULL, m[SV_MSG_MAX];
	uint8_t *body = NULL;
	size_t len = 0;
	int64_t t0 = now_ms();
	int r, soap = 0;

	send_settings_init(&s);
	send_settings_init(&none);
	memset(&b, 0, sizeof(b));
	queued_info(h, id, &q);
	if ((r = ssovault_suspended_get(h, id, &json, &body, &len)) != 0) {
		sv_fail(msg, r, "%s", ssovault_errmsg(h));
		goto out;
	}
	m[0] = '\0';
	if ((r = send_settings_from_json(json, &s, m)) != 0) {
		sv_fail(msg, r, "its stored settings are unusable: %s", m);
		goto out;
	}
	if (over == NULL)
		over = &none;
	if ((r = send_settings_resume(&s, over, q.own, q.sender, msg)) != 0 ||
	    (r = send_settings_merge(&s, over)) != 0)
		goto out;
	send_settings_normalise(&s);
	s.body = SEND_UNSET;
	if ((r = send_envelope_check(body, len, s.soap > 0 ? s.soap : 0, &soap, m)) != 0) {
		sv_fail(msg, r, "the stored message is not a usable envelope: %s", m);
		goto out;
	}
	if ((r = batch_init(&b, h, &s, cb, 1, msg)) != 0)
		goto out;
	b.resume_id = id;
	b.prior_attempts = q.attempts;
	b.jobs[0].name = id;
	b.jobs[0].soap = soap;
	if ((b.jobs[0].body = svbuf_new(SEND_MAX_MESSAGE)) == NULL ||
	    (r = svbuf_put(b.jobs[0].body, body, len)) != 0) {
		r = sv_fail(msg, SV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = run(&b)) != 0) {
		sv_fail(msg, r, "the transfer loop failed");
		goto out;
	}
	b.sum.ms = now_ms() - t0;
	*ret = b.sum;
out:
	batch_free(&b);
	send_settings_clear(&s);
	free(json);
	free(body);
	return r;
}
