/*
 * send.h: the SOAP sender of ssovault (DESIGN section 6), as a library the
 * command line drives.
 *
 * Three parts:
 * - settings: one table of send options (`--url`, `--cert`, ...) that the
 *   command line turns into getopt options, that converts to and from the
 *   settings JSON of docs/json.md (a send port's settings and a suspended
 *   message's snapshot), and that never holds a secret value: passwords
 *   come from files named in it, credentials and keys from the vault;
 * - SOAP: envelope detection and wrapping, and fault parsing (libxml2, no
 *   network, no DTD);
 * - transport: send_batch() and send_resume() post messages with libcurl,
 *   fetch the client certificate and the SSO credentials through the client
 *   API (ssovault.h) right before each attempt, retry, and keep what cannot
 *   be delivered in the vault's suspended queue.
 *
 * Functions return 0 or a negative SV_ERR_* code; `msg` arguments receive a
 * one-line detail (SV_MSG_MAX bytes) that never holds a secret.  Nothing in
 * this library prints or exits: results come back through callbacks.
 */
#ifndef SSOVAULT_SEND_H
#define SSOVAULT_SEND_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ssovault/ssovault.h"

#define SEND_UNSET (-1)		/* a number or flag nobody gave */
#define SEND_CLEARED (-2)	/* given empty: back to the default */

#define SEND_SOAP11_NS "http://schemas.xmlsoap.org/soap/envelope/"
#define SEND_SOAP12_NS "http://www.w3.org/2003/05/soap-envelope"

/* Defaults of settings nobody gave. */
#define SEND_DEFAULT_RETRY_COUNT 3
#define SEND_DEFAULT_RETRY_INTERVAL 300
#define SEND_DEFAULT_TIMEOUT 60
#define SEND_DEFAULT_CONNECT_TIMEOUT 30
#define SEND_DEFAULT_MAX_RESPONSE (16LL * 1024 * 1024)
#define SEND_MAX_PARALLEL 64
#define SEND_MAX_HEADERS 64
/* The largest message taken: it must fit a suspended record. */
#define SEND_MAX_MESSAGE (32u * 1024u * 1024u - 64u * 1024u)

enum send_auth {
	SEND_AUTH_ANONYMOUS = 0,
	SEND_AUTH_BASIC = 1,
	SEND_AUTH_DIGEST = 2,
	SEND_AUTH_NTLM = 3,
};

/*
 * Send settings.  Strings are malloc'd (NULL: not given; "": given empty,
 * which clears a port's value); numbers and flags are SEND_UNSET or
 * SEND_CLEARED when not given.  Use send_settings_set() to fill it, so that
 * every value is checked the same way whether it came from argv or JSON.
 */
struct send_settings {
	char *url;
	int soap;			/* 11 or 12; unset: follow the envelope (1.1 for --body) */
	char *action;
	int body;			/* 1: the file is a body fragment to wrap */
	int auth;			/* enum send_auth; unset: basic if credentials given */
	char *user;
	char *password_file;		/* absolute path */
	char *sso_app;
	char *ticket;			/* a ticket to redeem; never written to JSON */
	int uses_ticket;		/* 1: these settings need a ticket */
	char *sender;			/* principal said to have issued the ticket */
	char *cert;			/* thumbprint, normalised upper-case hex */
	int allow_http_auth;		/* 1: credentials may go over plain http:// */
	char *cacert;
	char *capath;
	char *proxy;
	char *proxy_user;
	char *proxy_password_file;
	long long timeout_s;
	long long connect_timeout_s;
	long long max_response_size;
	char **headers;			/* "Name: value" */
	size_t nheaders;
	int headers_set;		/* 1 if headers were given (even none) */
	char *out;
	long long retry_count;
	long long retry_interval_s;
	int suspend_on_fault;
	long long parallel;
	char *source;			/* snapshots: the file the message came from */
	char *port;			/* snapshots: the send port it was sent through */
};

void send_settings_init(struct send_settings *s);
/* Free the members (wiping the ticket); s may be reused after init. */
void send_settings_clear(struct send_settings *s);

/* One send option, for the command line's getopt table and help. */
struct send_option {
	const char *name;		/* long option: "retry-interval" */
	const char *json;		/* JSON member: "retry_interval" */
	int optional_arg;		/* 1: flag with an optional =yes|no */
	const char *metavar;		/* "DURATION", or NULL for flags */
	const char *help;		/* one line */
};
/* The table of send options; *ret_n receives its length. */
const struct send_option *send_option_list(size_t *ret_n);

/*
 * Set the option named name (a long option name, without dashes) from its
 * text value as typed (value NULL for a flag given without =).  "" clears
 * the setting.  Paths are made absolute against the current directory.
 * SV_ERR_USAGE with a message for an invalid value or unknown option.
 */
int send_settings_set(struct send_settings *s, const char *name, const char *value,
    char *msg) SV_WUR;

/*
 * Settings from JSON (docs/json.md, "send settings").  Unknown members,
 * wrong types, out-of-range values and members that look like secret values
 * ("password", "ticket", ...) are refused with SV_ERR_INVALID.  JSON null
 * means "cleared".  ret is initialised by this function; on failure it is
 * left empty.
 */
int send_settings_from_json(const char *json, struct send_settings *ret, char *msg) SV_WUR;
/* The settings as JSON: members given only; cleared ones as null.  free(). */
int send_settings_to_json(const struct send_settings *s, char **ret_json) SV_WUR;
/* Copy into base every setting over has (over wins; headers as a whole). */
int send_settings_merge(struct send_settings *base, const struct send_settings *over) SV_WUR;
/* Drop the cleared marks: "" and SEND_CLEARED become not given. */
void send_settings_normalise(struct send_settings *s);
/*
 * Check that normalised settings can send: a URL, credentials that go
 * together, auth that has credentials.  SV_ERR_USAGE with a message.
 */
int send_settings_check(const struct send_settings *s, char *msg) SV_WUR;
/*
 * The same for a send port's settings: no ticket (single-use, given to each
 * send), a sender only with an app.
 */
int send_settings_check_port(const struct send_settings *s, char *msg) SV_WUR;

/*
 * Make a suspended message's stored settings s fit for a resume with the
 * options over (docs/send.md, "Who may resume what").  Password files,
 * --out and --parallel are never taken from a message.  own is 1 if the
 * caller sent it; if not, the settings that would act with the caller's
 * credentials, grants or files (sso_app with sender and a ticket, cert,
 * user, proxy_user, cacert, capath) are dropped, and any that over does not
 * restate (a value, or "" for none) make it SV_ERR_USAGE with msg naming
 * them; allow_http_auth is dropped too unless over gives it.  A user or
 * proxy user kept needs its password file in over.  sender names the
 * message's sender in msg.
 */
int send_settings_resume(struct send_settings *s, const struct send_settings *over, int own,
    const char *sender, char *msg) SV_WUR;

/* --- SOAP ------------------------------------------------------------ */

/*
 * Check that data is one whole SOAP envelope, well-formed UTF-8 XML with no
 * DTD.  soap (11, 12 or 0 for either) must match its namespace.
 * *ret_soap receives the version found.  SV_ERR_BAD_FORMAT with "line N:
 * ..." for malformed XML, SV_ERR_INVALID for a non-envelope or a version
 * mismatch.
 */
int send_envelope_check(const uint8_t *data, size_t len, int soap, int *ret_soap,
    char *msg) SV_WUR;
/*
 * Wrap a body fragment (one or more elements; an XML declaration and BOM
 * are dropped) in an envelope of version soap (11 or 12, 0 = 11).  The
 * result is checked as a whole; a fragment that already is an envelope is
 * refused.  *ret (malloc'd) holds *ret_len bytes.
 */
int send_envelope_wrap(const uint8_t *data, size_t len, int soap, uint8_t **ret,
    size_t *ret_len, char *msg) SV_WUR;

/*
 * Find a SOAP 1.1 (faultcode/faultstring) or 1.2 (Code/Value, Reason/Text)
 * fault in a response.  0 and two malloc'd one-line printable strings
 * (control characters replaced, at most 512 bytes each) if the body is an
 * envelope whose Body holds a Fault; SV_ERR_NOT_FOUND otherwise (not XML,
 * not an envelope, no fault, a DTD).
 */
int send_fault_parse(const uint8_t *data, size_t len, char **ret_code,
    char **ret_reason) SV_WUR;

/* --- what one attempt's outcome means -------------------------------- */

enum send_verdict {
	SEND_V_DELIVERED = 0,	/* 2xx, no fault */
	SEND_V_FAULT = 1,	/* a SOAP fault, whatever the status */
	SEND_V_RETRY = 2,	/* transport, TLS, timeout, 401/403/407/408/429/5xx */
	SEND_V_KEEP = 3,	/* will not get better by retrying: suspend now */
	SEND_V_UNREAD = 4,	/* 2xx, but the response exceeded the size cap */
};
/*
 * curl_code: the CURLcode of the transfer; http_status: the status line's
 * code (0 if none); fault: 1 if a fault was parsed; too_large: 1 if the
 * response was cut at --max-response-size.
 */
enum send_verdict send_classify(int curl_code, long http_status, int fault, int too_large);

/* --- transport ------------------------------------------------------- */

enum send_outcome {
	SEND_DELIVERED = 0,
	SEND_FAULT = 1,		/* answered with a fault, not kept */
	SEND_SUSPENDED = 2,	/* kept in the suspended queue (or kept again) */
	SEND_NOT_TAKEN = 3,	/* refused before it was taken: unreadable, malformed */
	SEND_FAILED = 4,	/* could be neither delivered nor kept; input untouched */
};

struct send_result {
	size_t index;			/* position among the inputs */
	const char *name;		/* the input as given ("-" for stdin), or the id */
	enum send_outcome outcome;
	int err;			/* SV_ERR_* for NOT_TAKEN and FAILED (and UNREAD) */
	long http_status;		/* of the last attempt, 0 if none */
	long long ms;			/* duration of the last attempt */
	unsigned attempts;		/* attempts made by this call */
	const char *id;			/* suspended message id, or NULL */
	const char *reason;		/* one line: why suspended, failed, not taken */
	const char *fault_code;		/* SEND_FAULT (or suspended on a fault) */
	const char *fault_reason;
	const uint8_t *response;	/* the response body, if any; valid in the callback */
	size_t response_len;
};

struct send_callbacks {
	void *ctx;
	/*
	 * One result per message.  Returning non-zero (an SV_ERR_*) marks the
	 * message failed: the caller could not store its response.
	 */
	int (*result)(void *ctx, const struct send_result *r);
	/* Progress after each change: finished, of total, in flight, waiting to retry. */
	void (*progress)(void *ctx, size_t done, size_t total, size_t active, size_t waiting);
	/* A one-line notice: "orders.xml: attempt 1 failed (HTTP 503); again in 5s". */
	void (*notice)(void *ctx, const char *line);
	/*
	 * While nothing is in flight and a message waits for its retry: the
	 * soonest one, its next attempt and the whole seconds left, once a
	 * second at most (a countdown).
	 */
	void (*wait)(void *ctx, const char *name, unsigned next_attempt, long long seconds);
	/*
	 * Set non-zero (by a signal handler) to stop: the messages in flight
	 * and waiting to retry are suspended with a reason that begins
	 * "interrupted", one from standard input not yet sent too, and the
	 * files not yet read are reported not sent.  NULL: never stops.
	 */
	const volatile sig_atomic_t *stop;
};

struct send_summary {
	size_t total;
	size_t delivered;
	size_t faults;
	size_t suspended;
	size_t not_taken;
	size_t failed;
	long long ms;			/* wall time of the batch */
};

/*
 * Send each file (a path, or "-" for one message from standard input) with
 * settings s (normalised and checked: the caller merges a port first).
 * Returns 0 when every message got a result (see the summary for what
 * happened), or an error (and msg) that stopped the batch before any was
 * sent: a password or CA file that cannot be read, libcurl that cannot
 * start.  Messages are read one at a time as they are sent; files are never
 * changed.
 */
int send_batch(struct ssovault *h, const struct send_settings *s,
    const char *const *files, size_t nfiles, const struct send_callbacks *cb,
    struct send_summary *ret, char *msg) SV_WUR;

/*
 * Re-send suspended message id with its stored settings, as the caller of
 * h.  over (may be NULL) may give a ticket, a sender, retry settings, and
 * the credentials, certificate and files that send_settings_resume() does
 * not take from the message (SV_ERR_USAGE and msg if one is missing).
 * Delivered: it leaves the queue.  Failed again or answered with a fault:
 * it stays, with the new reason and attempt count.  An error return (and
 * msg) means the message could not be fetched or its settings are unusable;
 * it stays in the queue untouched.
 */
int send_resume(struct ssovault *h, const char *id, const struct send_settings *over,
    const struct send_callbacks *cb, struct send_summary *ret, char *msg) SV_WUR;

#endif
