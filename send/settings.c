/*
 * Send settings: the one table of send options.  The same table gives the
 * command line its options, checks every value (from argv or from JSON),
 * and converts settings to and from the JSON that send ports and suspended
 * messages keep.  That JSON names files, never secret values: a member that
 * looks like a password, ticket or key is refused on the way in.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "base/paths.h"
#include "base/thumbprint.h"
#include "base/units.h"
#include "send/send.h"
#include "curl-load.h"

enum kind {
	K_URL,		/* http(s) endpoint */
	K_PROXY,	/* proxy URL */
	K_TEXT,		/* one line of printable text */
	K_ACTION,	/* SOAP action: text without '"' */
	K_APP,		/* affiliate application name */
	K_PATH,		/* a file or directory; made absolute */
	K_SECRET_PATH,	/* a file holding a password: not stdin */
	K_THUMB,	/* certificate thumbprint */
	K_TICKET,	/* a ticket: kept in memory only */
	K_SOAP,
	K_AUTH,
	K_BOOL,
	K_COUNT,	/* integer in [min, max] */
	K_DURATION,	/* s/m/h, in [min, max] seconds */
	K_SIZE,		/* K/M/G, in [min, max] bytes */
	K_HEADER,	/* repeatable "Name: value" */
};

struct opt {
	struct send_option pub;
	enum kind kind;
	size_t off;
	long long min, max;
};

#define O(f) offsetof(struct send_settings, f)
#define STR(n, j, k, f, mv, h) { { n, j, 0, mv, h }, k, O(f), 0, 0 }
#define NUM(n, j, k, f, lo, hi, mv, h) { { n, j, 0, mv, h }, k, O(f), lo, hi }
#define FLAG(n, j, f, h) { { n, j, 1, NULL, h }, K_BOOL, O(f), 0, 1 }

static const struct opt opts[] = {
	STR("url", "url", K_URL, url, "URL", "endpoint, http:// or https://"),
	NUM("soap", "soap", K_SOAP, soap, 0, 0, "1.1|1.2", "SOAP version (default: the envelope's; 1.1 for --body)"),
	STR("action", "action", K_ACTION, action, "ACTION", "SOAP action (SOAPAction header, or action= for 1.2)"),
	FLAG("body", "body", body, "each file is a body fragment: wrap it in an envelope"),
	NUM("auth", "auth", K_AUTH, auth, 0, 0, "anonymous|basic|digest|ntlm", "HTTP authentication (default: basic with credentials, else anonymous)"),
	STR("user", "user", K_TEXT, user, "NAME", "user name, with --password-file"),
	STR("password-file", "password_file", K_SECRET_PATH, password_file, "FILE", "file holding the password for --user"),
	STR("sso-app", "sso_app", K_APP, sso_app, "APP", "credentials from your mapping for APP (field 0 user, first masked field password)"),
	STR("ticket", "ticket", K_TICKET, ticket, "TICKET", "redeem this ticket for APP's credentials (once per message)"),
	STR("sender", "sender", K_TEXT, sender, "PRINCIPAL", "who issued the ticket, for apps that validate tickets"),
	STR("cert", "cert", K_THUMB, cert, "THUMBPRINT", "client certificate from the vault, by thumbprint"),
	FLAG("allow-http-auth", "allow_http_auth", allow_http_auth, "allow credentials over plain http:// (they cross the network in clear)"),
	STR("cacert", "cacert", K_PATH, cacert, "FILE", "CA certificates to verify the server with (PEM)"),
	STR("capath", "capath", K_PATH, capath, "DIR", "directory of CA certificates (c_rehash)"),
	STR("proxy", "proxy", K_PROXY, proxy, "URL", "HTTP(S) or SOCKS proxy"),
	STR("proxy-user", "proxy_user", K_TEXT, proxy_user, "NAME", "proxy user, with --proxy-password-file"),
	STR("proxy-password-file", "proxy_password_file", K_SECRET_PATH, proxy_password_file, "FILE", "file holding the proxy password"),
	NUM("timeout", "timeout", K_DURATION, timeout_s, 1, 86400, "DURATION", "limit for one attempt (default 60s)"),
	NUM("connect-timeout", "connect_timeout", K_DURATION, connect_timeout_s, 1, 3600, "DURATION", "limit for connecting (default 30s)"),
	NUM("max-response-size", "max_response_size", K_SIZE, max_response_size, 1024, 1LL << 30, "SIZE", "largest response accepted (default 16M)"),
	STR("header", "headers", K_HEADER, headers, "'NAME: VALUE'", "extra HTTP header (repeatable; '' clears)"),
	STR("out", "out", K_PATH, out, "PATH", "response to FILE, or DIR/<file>.response for each message"),
	NUM("retry-count", "retry_count", K_COUNT, retry_count, 0, 1000, "N", "retries after the first attempt (default 3)"),
	NUM("retry-interval", "retry_interval", K_DURATION, retry_interval_s, 0, 7 * 86400, "DURATION", "wait between attempts (default 5m)"),
	FLAG("suspend-on-fault", "suspend_on_fault", suspend_on_fault, "keep messages answered with a SOAP fault"),
	NUM("parallel", "parallel", K_COUNT, parallel, 1, SEND_MAX_PARALLEL, "N", "send N messages at a time (default 1)"),
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* Headers that the sender sets itself, or that would carry a secret. */
static const char *const own_headers[] = {
	"content-type", "content-length", "soapaction", "transfer-encoding", "expect", "host",
};
static const char *const secret_headers[] = {
	"authorization", "proxy-authorization", "cookie",
};

const struct send_option *
send_option_list(size_t *ret_n)
{
	static struct send_option list[NOPTS];
	size_t i;

	for (i = 0; i < NOPTS; i++)
		list[i] = opts[i].pub;
	*ret_n = NOPTS;
	return list;
}

void
send_settings_init(struct send_settings *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < NOPTS; i++) {
		switch (opts[i].kind) {
		case K_SOAP:
		case K_AUTH:
		case K_BOOL:
			*(int *)((char *)s + opts[i].off) = SEND_UNSET;
			break;
		case K_COUNT:
		case K_DURATION:
		case K_SIZE:
			*(long long *)((char *)s + opts[i].off) = SEND_UNSET;
			break;
		default:
			break;
		}
	}
}

static void
headers_free(struct send_settings *s)
{
	size_t i;

	for (i = 0; i < s->nheaders; i++)
		free(s->headers[i]);
	free(s->headers);
	s->headers = NULL;
	s->nheaders = 0;
}

static void
ticket_free(struct send_settings *s)
{
	if (s->ticket != NULL) {
		sodium_memzero(s->ticket, strlen(s->ticket));
		free(s->ticket);
		s->ticket = NULL;
	}
}

void
send_settings_clear(struct send_settings *s)
{
	size_t i;

	if (s == NULL)
		return;
	ticket_free(s);
	for (i = 0; i < NOPTS; i++) {
		if (opts[i].kind == K_HEADER)
			headers_free(s);
		else if (opts[i].kind <= K_TICKET)
			free(*(char **)((char *)s + opts[i].off));
	}
	free(s->source);
	free(s->port);
	send_settings_init(s);
}

static const struct opt *
opt_find(const char *name, int json)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (strcmp(json ? opts[i].pub.json : opts[i].pub.name, name) == 0)
			return &opts[i];
	return NULL;
}

/* --- value parsers ------------------------------------------------------ */

/* s by one of base/units.c's parsers, or -1 if it is none. */
static long long
unit_value(int (*parse)(const char *, unsigned long long, unsigned long long *),
    const char *s, unsigned long long max)
{
	unsigned long long v;

	return parse(s, max, &v) == 0 ? (long long)v : -1;
}

static int
printable_line(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
check_url(const char *v, int proxy, char *msg, const char *what)
{
	static const char *const web[] = { "http", "https", NULL };
	static const char *const prox[] = { "http", "https", "socks4", "socks4a", "socks5",
	    "socks5h", NULL };
	const char *const *ok = proxy ? prox : web;
	char *scheme = NULL, *part = NULL;
	CURLU *u;
	CURLUcode uc;
	int r;

	if ((r = send_curl_need(msg)) != 0)
		return r;
	if ((u = curl_url()) == NULL)
		return SV_ERR_NOMEM;
	uc = curl_url_set(u, CURLUPART_URL, v, proxy ? CURLU_DEFAULT_SCHEME : 0);
	if (uc != CURLUE_OK) {
		r = sv_fail(msg, SV_ERR_USAGE, "--%s: not a valid URL (%s)", what,
		    curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		scheme = NULL;
	while (scheme != NULL && *ok != NULL && strcasecmp(*ok, scheme) != 0)
		ok++;
	if (scheme == NULL || *ok == NULL) {
		r = sv_fail(msg, SV_ERR_USAGE, "--%s: scheme %.20s is not supported%s", what,
		    scheme != NULL ? scheme : "(none)", proxy ? "" : ": use http:// or https://");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
		r = sv_fail(msg, SV_ERR_USAGE,
		    "--%s: credentials do not belong in a URL: use %s", what,
		    proxy ? "--proxy-user and --proxy-password-file" :
		    "--user and --password-file, or --sso-app");
		goto out;
	}
out:
	curl_free(scheme);
	curl_free(part);
	curl_url_cleanup(u);
	return r;
}

static int
check_header(const char *v, char *msg)
{
	const char *colon = strchr(v, ':');
	size_t n, i;

	if (colon == NULL || colon == v)
		return sv_fail(msg, SV_ERR_USAGE, "--header: expected 'Name: value'");
	n = (size_t)(colon - v);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && strchr("!#$%&'*+-.^_`|~", v[i]) == NULL)
			return sv_fail(msg, SV_ERR_USAGE, "--header: '%.*s' is not a header name",
			    (int)(n > 64 ? 64 : n), v);
	if (!printable_line(colon))
		return sv_fail(msg, SV_ERR_USAGE, "--header: the value must be one line");
	for (i = 0; i < sizeof(own_headers) / sizeof(own_headers[0]); i++)
		if (strlen(own_headers[i]) == n && strncasecmp(v, own_headers[i], n) == 0)
			return sv_fail(msg, SV_ERR_USAGE,
			    "--header: the sender sets %.*s itself (see --soap and --action)",
			    (int)n, v);
	for (i = 0; i < sizeof(secret_headers) / sizeof(secret_headers[0]); i++)
		if (strlen(secret_headers[i]) == n && strncasecmp(v, secret_headers[i], n) == 0)
			return sv_fail(msg, SV_ERR_USAGE,
			    "--header: %.*s would put a secret in the command line or a port: "
			    "use --auth with --password-file or --sso-app", (int)n, v);
	return 0;
}

static int
check_app(const char *v, char *msg)
{
	size_t i, n = strlen(v);

	if (n > 128)
		return sv_fail(msg, SV_ERR_USAGE, "--sso-app: names have at most 128 characters");
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && strchr("._-", v[i]) == NULL)
			return sv_fail(msg, SV_ERR_USAGE,
			    "--sso-app: use letters, digits, '.', '_' and '-' only");
	return 0;
}

static int
absolute_path(const char *v, char **ret)
{
	char cwd[4096];

	if (v[0] == '/')
		return (*ret = strdup(v)) != NULL ? 0 : SV_ERR_NOMEM;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return SV_ERR_IO;
	*ret = vault_path_join(strcmp(cwd, "/") == 0 ? "" : cwd, v);
	return *ret != NULL ? 0 : SV_ERR_NOMEM;
}

static int
headers_add(struct send_settings *s, const char *v)
{
	char **n;

	if (s->nheaders >= SEND_MAX_HEADERS)
		return SV_ERR_TOO_LARGE;
	if ((n = realloc(s->headers, (s->nheaders + 1) * sizeof(*n))) == NULL)
		return SV_ERR_NOMEM;
	s->headers = n;
	if ((n[s->nheaders] = strdup(v)) == NULL)
		return SV_ERR_NOMEM;
	s->nheaders++;
	return 0;
}

/* Store a string member, replacing what was there. */
static int
put_string(struct send_settings *s, const struct opt *o, const char *v)
{
	char **slot = (char **)((char *)s + o->off);
	char *copy;

	if ((copy = strdup(v)) == NULL)
		return SV_ERR_NOMEM;
	if (o->kind == K_TICKET)
		ticket_free(s);
	else
		free(*slot);
	*slot = copy;
	return 0;
}

static int
set_text(struct send_settings *s, const struct opt *o, const char *v, int from_json,
    char *msg)
{
	char hex[THUMBPRINT_SHA256_HEX + 1], tmsg[SV_MSG_MAX];
	char *path = NULL;
	size_t n;
	int r;

	switch (o->kind) {
	case K_URL:
	case K_PROXY:
		if ((r = check_url(v, o->kind == K_PROXY, msg, o->pub.name)) != 0)
			return r;
		break;
	case K_ACTION:
		if (strchr(v, '"') != NULL)
			return sv_fail(msg, SV_ERR_USAGE, "--action: a SOAP action has no '\"'");
		/* fall through */
	case K_TEXT:
	case K_TICKET:
		if (!printable_line(v) || strlen(v) > 2048)
			return sv_fail(msg, SV_ERR_USAGE, "--%s: one line of at most 2048 characters expected",
			    o->pub.name);
		break;
	case K_APP:
		if ((r = check_app(v, msg)) != 0)
			return r;
		break;
	case K_THUMB:
		if ((r = vault_thumbprint_normalise(v, hex, &n, tmsg)) != 0)
			return sv_fail(msg, SV_ERR_USAGE, "--cert: %s", tmsg);
		return put_string(s, o, hex);
	case K_SECRET_PATH:
		if (strcmp(v, "-") == 0)
			return sv_fail(msg, SV_ERR_USAGE,
			    "--%s: name a file (it is read again before each attempt)", o->pub.name);
		/* fall through */
	case K_PATH:
		if (!printable_line(v))
			return sv_fail(msg, SV_ERR_USAGE, "--%s: not a usable path", o->pub.name);
		if (from_json && v[0] != '/')
			return sv_fail(msg, SV_ERR_INVALID, "%s: an absolute path is expected", o->pub.json);
		if ((r = absolute_path(v, &path)) != 0)
			return sv_fail(msg, r, "--%s: cannot make %.100s absolute", o->pub.name, v);
		r = put_string(s, o, path);
		free(path);
		return r;
	default:
		return SV_ERR_INTERNAL;
	}
	if ((r = put_string(s, o, v)) != 0)
		return r;
	if (o->kind == K_TICKET)
		s->uses_ticket = 1;
	return 0;
}

static int
set_value(struct send_settings *s, const struct opt *o, const char *v, int from_json,
    char *msg)
{
	int *ip = (int *)((char *)s + o->off);
	long long *lp = (long long *)((char *)s + o->off);
	long long n;

	if (o->kind == K_HEADER) {
		if (!s->headers_set || *v == '\0')
			headers_free(s);
		s->headers_set = 1;
		if (*v == '\0')
			return 0;
		if ((n = check_header(v, msg)) != 0)
			return (int)n;
		return headers_add(s, v) == 0 ? 0 :
		    sv_fail(msg, SV_ERR_USAGE, "--header: at most %d headers", SEND_MAX_HEADERS);
	}
	if (*v == '\0') {
		/* given empty: clear (a port's value, or back to the default) */
		if (o->kind <= K_TICKET) {
			if (o->kind == K_TICKET)
				s->uses_ticket = 0;
			return put_string(s, o, "");
		}
		if (o->kind == K_COUNT || o->kind == K_DURATION || o->kind == K_SIZE)
			*lp = SEND_CLEARED;
		else
			*ip = SEND_CLEARED;
		return 0;
	}
	switch (o->kind) {
	case K_SOAP:
		if (strcmp(v, "1.1") == 0 || strcmp(v, "11") == 0)
			*ip = 11;
		else if (strcmp(v, "1.2") == 0 || strcmp(v, "12") == 0)
			*ip = 12;
		else
			return sv_fail(msg, SV_ERR_USAGE, "--soap: 1.1 or 1.2 expected");
		return 0;
	case K_AUTH:
		if (strcmp(v, "anonymous") == 0 || strcmp(v, "none") == 0)
			*ip = SEND_AUTH_ANONYMOUS;
		else if (strcmp(v, "basic") == 0)
			*ip = SEND_AUTH_BASIC;
		else if (strcmp(v, "digest") == 0)
			*ip = SEND_AUTH_DIGEST;
		else if (strcmp(v, "ntlm") == 0)
			*ip = SEND_AUTH_NTLM;
		else
			return sv_fail(msg, SV_ERR_USAGE,
			    "--auth: anonymous, basic, digest or ntlm expected");
		return 0;
	case K_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
			*ip = 1;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
			*ip = 0;
		else
			return sv_fail(msg, SV_ERR_USAGE, "--%s: yes or no expected", o->pub.name);
		return 0;
	case K_COUNT:
		n = unit_value(units_parse_uint, v, (unsigned long long)o->max);
		if (n < o->min)
			return sv_fail(msg, SV_ERR_USAGE, "--%s: a number from %lld to %lld expected",
			    o->pub.name, o->min, o->max);
		*lp = n;
		return 0;
	case K_DURATION:
		n = unit_value(units_parse_duration, v, 1ULL << 53);
		if (n < o->min || n > o->max)
			return sv_fail(msg, SV_ERR_USAGE,
			    "--%s: a duration from %llds to %llds expected (30, 30s, 5m, 1h)",
			    o->pub.name, o->min, o->max);
		*lp = n;
		return 0;
	case K_SIZE:
		n = unit_value(units_parse_size, v, 1ULL << 53);
		if (n < o->min || n > o->max)
			return sv_fail(msg, SV_ERR_USAGE,
			    "--%s: a size from 1K to 1G expected (64K, 16M)", o->pub.name);
		*lp = n;
		return 0;
	default:
		return set_text(s, o, v, from_json, msg);
	}
}

int
send_settings_set(struct send_settings *s, const char *name, const char *value, char *msg)
{
	const struct opt *o = opt_find(name, 0);

	if (o == NULL)
		return sv_fail(msg, SV_ERR_USAGE, "unknown send option --%.64s", name);
	if (value == NULL) {
		if (o->kind != K_BOOL)
			return sv_fail(msg, SV_ERR_USAGE, "--%s needs a value", name);
		value = "yes";
	}
	return set_value(s, o, value, 0, msg);
}

/* --- JSON ---------------------------------------------------------------- */

/* 1 if an unknown member's name suggests it holds a secret value. */
static int
looks_secret(const char *name)
{
	static const char *const words[] = {
		"password", "passwd", "passphrase", "secret", "token", "ticket",
		"credential", "private", "authorization", "cookie", "pass", "pwd", "key",
	};
	char low[64];
	size_t i, n = strlen(name);

	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(low, words[i]) != NULL)
			return 1;
	return 0;
}

/* Set from a JSON value's text; messages name the member, not the option. */
static int
json_set(struct send_settings *s, const struct opt *o, const char *text, char *msg)
{
	char m[SV_MSG_MAX];
	const char *why;
	int r;

	m[0] = '\0';
	if ((r = set_value(s, o, text, 1, m)) == 0)
		return 0;
	why = strncmp(m, "--", 2) == 0 && strstr(m, ": ") != NULL ? strstr(m, ": ") + 2 : m;
	return sv_fail(msg, SV_ERR_INVALID, "%s: %s", o->pub.json, why);
}

static int
member_from_json(struct send_settings *s, const struct opt *o, json_t *v, char *msg)
{
	char num[32];
	size_t i;
	json_t *e;
	int r;

	if (json_is_null(v))
		return json_set(s, o, "", msg);
	switch (o->kind) {
	case K_BOOL:
		if (!json_is_boolean(v))
			return sv_fail(msg, SV_ERR_INVALID, "%s: true or false expected", o->pub.json);
		return json_set(s, o, json_is_true(v) ? "yes" : "no", msg);
	case K_COUNT:
	case K_DURATION:
	case K_SIZE:
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return sv_fail(msg, SV_ERR_INVALID, "%s: a non-negative integer expected",
			    o->pub.json);
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return json_set(s, o, num, msg);
	case K_HEADER:
		if (!json_is_array(v))
			return sv_fail(msg, SV_ERR_INVALID, "headers: an array of strings expected");
		headers_free(s);
		s->headers_set = 1;
		json_array_foreach(v, i, e) {
			if (!json_is_string(e) || json_string_length(e) == 0)
				return sv_fail(msg, SV_ERR_INVALID,
				    "headers: an array of 'Name: value' strings expected");
			if ((r = json_set(s, o, json_string_value(e), msg)) != 0)
				return r;
		}
		return 0;
	default:
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return sv_fail(msg, SV_ERR_INVALID, "%s: a non-empty string expected",
			    o->pub.json);
		return json_set(s, o, json_string_value(v), msg);
	}
}

int
send_settings_from_json(const char *json, struct send_settings *ret, char *msg)
{
	struct send_settings s;
	const struct opt *o;
	const char *name;
	json_error_t e;
	json_t *j, *v;
	int r = 0;

	send_settings_init(&s);
	send_settings_init(ret);
	if ((j = json_loads(json, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return sv_fail(msg, SV_ERR_INVALID, "send settings are not valid JSON: %.100s", e.text);
	if (!json_is_object(j)) {
		r = sv_fail(msg, SV_ERR_INVALID, "send settings must be a JSON object");
		goto out;
	}
	json_object_foreach(j, name, v) {
		if (strcmp(name, "uses_ticket") == 0) {
			if (!json_is_boolean(v)) {
				r = sv_fail(msg, SV_ERR_INVALID, "uses_ticket: true or false expected");
				goto out;
			}
			s.uses_ticket = json_is_true(v);
			continue;
		}
		if (strcmp(name, "source") == 0 || strcmp(name, "port") == 0) {
			char **slot = name[0] == 's' ? &s.source : &s.port;

			if (!json_is_string(v) || !printable_line(json_string_value(v))) {
				r = sv_fail(msg, SV_ERR_INVALID, "%s: one line of text expected", name);
				goto out;
			}
			free(*slot);
			if ((*slot = strdup(json_string_value(v))) == NULL) {
				r = SV_ERR_NOMEM;
				goto out;
			}
			continue;
		}
		if ((o = opt_find(name, 1)) == NULL || o->kind == K_TICKET) {
			if (o != NULL || looks_secret(name))
				r = sv_fail(msg, SV_ERR_INVALID,
				    "send settings hold no secret values: drop '%.40s' "
				    "(name a file, e.g. password_file, or use the vault)", name);
			else
				r = sv_fail(msg, SV_ERR_INVALID, "unknown send setting '%.40s'", name);
			goto out;
		}
		if ((r = member_from_json(&s, o, v, msg)) != 0)
			goto out;
	}
	*ret = s;
	send_settings_init(&s);
out:
	send_settings_clear(&s);
	json_decref(j);
	return r;
}

static json_t *
member_to_json(const struct send_settings *s, const struct opt *o)
{
	static const char *const auths[] = { "anonymous", "basic", "digest", "ntlm" };
	const char *str;
	json_t *a;
	size_t i;
	int iv;
	long long lv;

	switch (o->kind) {
	case K_TICKET:
		return NULL;
	case K_HEADER:
		if (!s->headers_set)
			return NULL;
		if ((a = json_array()) == NULL)
			return NULL;
		for (i = 0; i < s->nheaders; i++)
			json_array_append_new(a, json_string(s->headers[i]));
		return a;
	case K_SOAP:
	case K_AUTH:
	case K_BOOL:
		iv = *(const int *)((const char *)s + o->off);
		if (iv == SEND_UNSET)
			return NULL;
		if (iv == SEND_CLEARED)
			return json_null();
		if (o->kind == K_BOOL)
			return json_boolean(iv);
		if (o->kind == K_SOAP)
			return json_string(iv == 12 ? "1.2" : "1.1");
		return json_string(auths[iv]);
	case K_COUNT:
	case K_DURATION:
	case K_SIZE:
		lv = *(const long long *)((const char *)s + o->off);
		if (lv == SEND_UNSET)
			return NULL;
		return lv == SEND_CLEARED ? json_null() : json_integer(lv);
	default:
		str = *(char *const *)((const char *)s + o->off);
		if (str == NULL)
			return NULL;
		return *str == '\0' ? json_null() : json_string(str);
	}
}

int
send_settings_to_json(const struct send_settings *s, char **ret_json)
{
	json_t *j = json_object(), *v;
	char *out;
	size_t i;

	if (j == NULL)
		return SV_ERR_NOMEM;
	for (i = 0; i < NOPTS; i++)
		if ((v = member_to_json(s, &opts[i])) != NULL)
			json_object_set_new(j, opts[i].pub.json, v);
	if (s->uses_ticket)
		json_object_set_new(j, "uses_ticket", json_true());
	if (s->source != NULL)
		json_object_set_new(j, "source", json_string(s->source));
	if (s->port != NULL)
		json_object_set_new(j, "port", json_string(s->port));
	out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(j);
	if (out == NULL)
		return SV_ERR_NOMEM;
	*ret_json = out;
	return 0;
}

int
send_settings_merge(struct send_settings *base, const struct send_settings *over)
{
	const struct opt *o;
	const char *str;
	size_t i;
	int r;

	for (o = opts; o < opts + NOPTS; o++) {
		switch (o->kind) {
		case K_HEADER:
			if (!over->headers_set)
				break;
			headers_free(base);
			base->headers_set = 1;
			for (i = 0; i < over->nheaders; i++)
				if ((r = headers_add(base, over->headers[i])) != 0)
					return r;
			break;
		case K_SOAP:
		case K_AUTH:
		case K_BOOL:
			if (*(const int *)((const char *)over + o->off) != SEND_UNSET)
				*(int *)((char *)base + o->off) = *(const int *)((const char *)over + o->off);
			break;
		case K_COUNT:
		case K_DURATION:
		case K_SIZE:
			if (*(const long long *)((const char *)over + o->off) != SEND_UNSET)
				*(long long *)((char *)base + o->off) =
				    *(const long long *)((const char *)over + o->off);
			break;
		default:
			str = *(char *const *)((const char *)over + o->off);
			if (str != NULL && (r = put_string(base, o, str)) != 0)
				return r;
			break;
		}
	}
	if (over->ticket != NULL || over->uses_ticket)
		base->uses_ticket = over->uses_ticket;
	if (over->source != NULL) {
		free(base->source);
		if ((base->source = strdup(over->source)) == NULL)
			return SV_ERR_NOMEM;
	}
	if (over->port != NULL) {
		free(base->port);
		if ((base->port = strdup(over->port)) == NULL)
			return SV_ERR_NOMEM;
	}
	return 0;
}

void
send_settings_normalise(struct send_settings *s)
{
	const struct opt *o;
	char **sp;

	for (o = opts; o < opts + NOPTS; o++) {
		switch (o->kind) {
		case K_HEADER:
			s->headers_set = s->nheaders > 0;
			break;
		case K_SOAP:
		case K_AUTH:
		case K_BOOL:
			if (*(int *)((char *)s + o->off) == SEND_CLEARED)
				*(int *)((char *)s + o->off) = SEND_UNSET;
			break;
		case K_COUNT:
		case K_DURATION:
		case K_SIZE:
			if (*(long long *)((char *)s + o->off) == SEND_CLEARED)
				*(long long *)((char *)s + o->off) = SEND_UNSET;
			break;
		default:
			sp = (char **)((char *)s + o->off);
			if (*sp != NULL && **sp == '\0') {
				free(*sp);
				*sp = NULL;
			}
			break;
		}
	}
}

/* 1 if url (checked: http, https or a proxy scheme) is not https://. */
static int
in_clear(const char *url)
{
	return url != NULL && strncasecmp(url, "https:", 6) != 0;
}

static int
check(const struct send_settings *s, int port, char *msg)
{
	int creds = s->user != NULL || s->sso_app != NULL;

	if (s->url == NULL)
		return sv_fail(msg, SV_ERR_USAGE, port ? "a port needs --url URL" :
		    "no endpoint: give --url URL or --port NAME");
	if (s->user != NULL && s->sso_app != NULL)
		return sv_fail(msg, SV_ERR_USAGE, "--user and --sso-app exclude each other");
	if ((s->user != NULL) != (s->password_file != NULL))
		return sv_fail(msg, SV_ERR_USAGE, "--user and --password-file go together");
	if (port && (s->ticket != NULL || s->uses_ticket))
		return sv_fail(msg, SV_ERR_USAGE,
		    "a ticket is single-use: give --ticket to send, not to a port");
	if (s->ticket != NULL && s->sso_app == NULL)
		return sv_fail(msg, SV_ERR_USAGE, "--ticket needs --sso-app APP");
	if (!port && s->uses_ticket && s->ticket == NULL)
		return sv_fail(msg, SV_ERR_USAGE,
		    "these settings redeem a ticket, which is single-use: give --ticket T");
	if (!port && s->sender != NULL && !s->uses_ticket)
		return sv_fail(msg, SV_ERR_USAGE, "--sender goes with --ticket");
	if (port && s->sender != NULL && s->sso_app == NULL)
		return sv_fail(msg, SV_ERR_USAGE, "--sender needs --sso-app APP");
	if (s->auth == SEND_AUTH_ANONYMOUS && creds)
		return sv_fail(msg, SV_ERR_USAGE,
		    "--auth anonymous sends no credentials: drop --user/--sso-app or pick an auth");
	if (s->auth > SEND_AUTH_ANONYMOUS && !creds)
		return sv_fail(msg, SV_ERR_USAGE,
		    "--auth needs credentials: --user with --password-file, or --sso-app APP");
	if ((s->proxy_user != NULL) != (s->proxy_password_file != NULL))
		return sv_fail(msg, SV_ERR_USAGE,
		    "--proxy-user and --proxy-password-file go together");
	if (s->proxy_user != NULL && s->proxy == NULL)
		return sv_fail(msg, SV_ERR_USAGE, "--proxy-user needs --proxy");
	if (s->cert != NULL && strncasecmp(s->url, "https:", 6) != 0)
		return sv_fail(msg, SV_ERR_USAGE, "--cert needs an https:// URL");
	/*
	 * Basic sends the password itself; Digest and NTLM answers can be
	 * cracked offline.  Over plain http anyone on the path reads them.
	 */
	if ((creds || s->uses_ticket) && in_clear(s->url) && s->allow_http_auth != 1)
		return sv_fail(msg, SV_ERR_USAGE,
		    "%s over plain http:// would send the credentials in clear: use an "
		    "https:// URL, or add --allow-http-auth if that is acceptable",
		    s->user != NULL ? "--user" : "--sso-app");
	if (s->proxy_user != NULL && in_clear(s->proxy) && s->allow_http_auth != 1)
		return sv_fail(msg, SV_ERR_USAGE,
		    "--proxy-user with a proxy that is not https:// would send the proxy "
		    "password in clear: use an https:// proxy, or add --allow-http-auth");
	if (s->soap == 11 || s->soap == 12 || s->soap == SEND_UNSET)
		return 0;
	return sv_fail(msg, SV_ERR_USAGE, "--soap: 1.1 or 1.2 expected");
}

/* Drop a string setting; 1 if it was there. */
static int
drop(char **slot)
{
	int was = *slot != NULL;

	free(*slot);
	*slot = NULL;
	return was;
}

static void
note(char *list, size_t len, const char *what)
{
	size_t n = strlen(list);

	snprintf(list + n, len - n, "%s%s", n > 0 ? ", " : "", what);
}

int
send_settings_resume(struct send_settings *s, const struct send_settings *over, int own,
    const char *sender, char *msg)
{
	char left[160];
	int had;

	/* never taken from a message: files read or written as whoever resumes it */
	drop(&s->password_file);
	drop(&s->proxy_password_file);
	drop(&s->out);
	s->parallel = SEND_UNSET;
	left[0] = '\0';
	if (!own) {
		/*
		 * The sender chose these; used as they stand, they would be the
		 * resumer's mapping, grant, password or trust.  Each must be
		 * said again (or dropped with '') by the one who resumes.
		 */
		had = drop(&s->sso_app);
		had |= drop(&s->sender);
		had |= s->uses_ticket == 1;
		s->uses_ticket = 0;
		if (had && over->sso_app == NULL)
			note(left, sizeof(left), "--sso-app");
		if (drop(&s->cert) && over->cert == NULL)
			note(left, sizeof(left), "--cert");
		if (drop(&s->user) && over->user == NULL)
			note(left, sizeof(left), "--user/--password-file");
		if (drop(&s->proxy_user) && over->proxy_user == NULL)
			note(left, sizeof(left), "--proxy-user/--proxy-password-file");
		if (drop(&s->cacert) && over->cacert == NULL)
			note(left, sizeof(left), "--cacert");
		if (drop(&s->capath) && over->capath == NULL)
			note(left, sizeof(left), "--capath");
		/* dropping it only makes the send stricter: no need to ask */
		s->allow_http_auth = SEND_UNSET;
		if (left[0] != '\0')
			return sv_fail(msg, SV_ERR_USAGE,
			    "sent by %.40s: its %s would use your own credentials or files "
			    "and are left out: restate them, or '' for none (see 'suspended show')",
			    sender != NULL ? sender : "another user", left);
	}
	if (s->user != NULL && over->user == NULL && over->password_file == NULL)
		return sv_fail(msg, SV_ERR_USAGE,
		    "a suspended message keeps no password file: give --password-file FILE "
		    "for --user %.60s (or --user '' to send without)", s->user);
	if (s->proxy_user != NULL && over->proxy_user == NULL && over->proxy_password_file == NULL)
		return sv_fail(msg, SV_ERR_USAGE,
		    "a suspended message keeps no password file: give --proxy-password-file "
		    "FILE for --proxy-user %.60s", s->proxy_user);
	return 0;
}

int
send_settings_check(const struct send_settings *s, char *msg)
{
	return check(s, 0, msg);
}

int
send_settings_check_port(const struct send_settings *s, char *msg)
{
	return check(s, 1, msg);
}
