/*
 * Unit tests of the send library: envelope detection and wrapping for SOAP
 * 1.1 and 1.2, the fault parser (well-formed faults, garbage, non-XML,
 * huge and hostile inputs), the settings table (values, JSON round trip,
 * refusal of secret-looking members, merge, checks), the retry
 * classification, and messages refused before they are taken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "send/send.h"
#include "tap.h"

#define ENV11 "<?xml version=\"1.0\"?>\n<s:Envelope xmlns:s=\"" SEND_SOAP11_NS "\"><s:Body>"
#define ENV12 "<?xml version=\"1.0\"?>\n<e:Envelope xmlns:e=\"" SEND_SOAP12_NS "\"><e:Body>"
#define END11 "</s:Body></s:Envelope>"
#define END12 "</e:Body></e:Envelope>"

static const uint8_t *
u(const char *s)
{
	return (const uint8_t *)s;
}

static void
test_envelope_check(void)
{
	static const struct {
		const char *desc, *xml;
		int soap, want, want_soap;
		const char *msg_has;
	} rows[] = {
		{ "1.1 envelope, version from the file", ENV11 "<a/>" END11, 0, 0, 11, NULL },
		{ "1.1 envelope, --soap 1.1", ENV11 "<a/>" END11, 11, 0, 11, NULL },
		{ "1.1 envelope, --soap 1.2 refused", ENV11 "<a/>" END11, 12, SV_ERR_INVALID, 0, "SOAP 1.1 envelope, but --soap 1.2" },
		{ "1.2 envelope, version from the file", ENV12 "<a/>" END12, 0, 0, 12, NULL },
		{ "1.2 envelope, --soap 1.2", ENV12 "<a/>" END12, 12, 0, 12, NULL },
		{ "1.2 envelope, --soap 1.1 refused", ENV12 "<a/>" END12, 11, SV_ERR_INVALID, 0, "SOAP 1.2 envelope, but --soap 1.1" },
		{ "BOM before the envelope", "\xef\xbb\xbf" ENV11 "<a/>" END11, 0, 0, 11, NULL },
		{ "not an envelope", "<order><id>1</id></order>", 0, SV_ERR_INVALID, 0, "add --body" },
		{ "Envelope in another namespace", "<Envelope xmlns=\"urn:x\"><Body/></Envelope>", 0, SV_ERR_INVALID, 0, "neither SOAP 1.1 nor SOAP 1.2" },
		{ "envelope without Body", "<s:Envelope xmlns:s=\"" SEND_SOAP11_NS "\"><s:Header/></s:Envelope>", 0, SV_ERR_INVALID, 0, "no Body" },
		{ "malformed XML", ENV11 "<a>\n<b></a>" END11, 0, SV_ERR_BAD_FORMAT, 0, "line 3" },
		{ "truncated XML", ENV11 "<a>", 0, SV_ERR_BAD_FORMAT, 0, "not well-formed" },
		{ "empty input", "", 0, SV_ERR_BAD_FORMAT, 0, "empty" },
		{ "garbage", "\x01\x02hello", 0, SV_ERR_BAD_FORMAT, 0, "not well-formed" },
		{ "DTD refused", "<!DOCTYPE s:Envelope [<!ENTITY x \"y\">]>" "<s:Envelope xmlns:s=\"" SEND_SOAP11_NS "\"><s:Body>&x;</s:Body></s:Envelope>", 0, SV_ERR_BAD_FORMAT, 0, "DTD" },
		{ "external entity refused", "<!DOCTYPE s:Envelope SYSTEM \"file:///etc/passwd\"><s:Envelope xmlns:s=\"" SEND_SOAP11_NS "\"><s:Body/></s:Envelope>", 0, SV_ERR_BAD_FORMAT, 0, "DTD" },
		{ "Latin-1 declared", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><s:Envelope xmlns:s=\"" SEND_SOAP11_NS "\"><s:Body/></s:Envelope>", 0, SV_ERR_INVALID, 0, "UTF-8" },
		{ "invalid UTF-8", ENV11 "<a>\xff\xfe</a>" END11, 0, SV_ERR_BAD_FORMAT, 0, "not well-formed" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char msg[SV_MSG_MAX] = "";
		int soap = -5, r;

		r = send_envelope_check(u(rows[i].xml), strlen(rows[i].xml), rows[i].soap, &soap, msg);
		is_int(r, rows[i].want, "envelope check: %s", rows[i].desc);
		if (rows[i].want == 0)
			is_int(soap, rows[i].want_soap, "envelope check: %s: version", rows[i].desc);
		else
			is_int(soap, -5, "envelope check: %s: version left alone on failure", rows[i].desc);
		if (rows[i].msg_has != NULL && !ok(strstr(msg, rows[i].msg_has) != NULL,
		    "envelope check: %s: message says '%s'", rows[i].desc, rows[i].msg_has))
			printf("#   message: %s\n", msg);
	}
	{
		/* UTF-16 (NUL bytes) refused before parsing */
		static const uint8_t utf16[] = { 0xff, 0xfe, '<', 0, 'a', 0, '/', 0, '>', 0 };
		char msg[SV_MSG_MAX] = "";
		int soap = 0;

		is_int(send_envelope_check(utf16, sizeof(utf16), 0, &soap, msg), SV_ERR_BAD_FORMAT,
		    "envelope check: UTF-16 refused");
		ok(strstr(msg, "UTF-8") != NULL, "envelope check: UTF-16: message says UTF-8");
	}
}

static void
test_envelope_wrap(void)
{
	static const struct {
		const char *desc, *frag;
		int soap, want;
		const char *msg_has;
	} rows[] = {
		{ "one element, 1.1", "<m:Order xmlns:m=\"urn:x\"><m:Id>1</m:Id></m:Order>", 11, 0, NULL },
		{ "one element, 1.2", "<m:Order xmlns:m=\"urn:x\"><m:Id>1</m:Id></m:Order>", 12, 0, NULL },
		{ "default version is 1.1", "<a/>", 0, 0, NULL },
		{ "several elements", "<a/>\n<b/>\n", 11, 0, NULL },
		{ "XML declaration dropped", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>x</a>", 11, 0, NULL },
		{ "BOM and declaration dropped", "\xef\xbb\xbf<?xml version='1.0'?><a/>", 12, 0, NULL },
		{ "malformed fragment, line of the file", "<?xml version=\"1.0\"?>\n<a>\n<b></a>", 11, SV_ERR_BAD_FORMAT, "line 3" },
		{ "unclosed element", "<a>", 11, SV_ERR_BAD_FORMAT, "not well-formed" },
		{ "empty fragment", "  \n", 11, SV_ERR_INVALID, "empty" },
		{ "text only", "hello", 11, SV_ERR_INVALID, "text outside elements" },
		{ "a whole envelope", ENV11 "<a/>" END11, 11, SV_ERR_INVALID, "without --body" },
		{ "an envelope without declaration", "<s:Envelope xmlns:s=\"" SEND_SOAP11_NS "\"><s:Body/></s:Envelope>", 11, SV_ERR_INVALID, "without --body" },
		{ "Latin-1 fragment", "<?xml version=\"1.0\" encoding=\"latin1\"?><a/>", 11, SV_ERR_INVALID, "UTF-8" },
		{ "undefined entity", "<a>&nope;</a>", 11, SV_ERR_BAD_FORMAT, "not well-formed" },
		{ "DOCTYPE in a fragment", "<!DOCTYPE a><a/>", 11, SV_ERR_BAD_FORMAT, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char msg[SV_MSG_MAX] = "";
		uint8_t *out = NULL;
		size_t len = 0;
		int r, soap = 0;

		r = send_envelope_wrap(u(rows[i].frag), strlen(rows[i].frag), rows[i].soap, &out, &len, msg);
		is_int(r, rows[i].want, "wrap: %s", rows[i].desc);
		if (r == 0) {
			int want = rows[i].soap == 12 ? 12 : 11;
			char *text = malloc(len + 1);

			memcpy(text, out, len);
			text[len] = '\0';
			is_int(send_envelope_check(out, len, 0, &soap, msg), 0,
			    "wrap: %s: the result is an envelope", rows[i].desc);
			is_int(soap, want, "wrap: %s: of version %d", rows[i].desc, want);
			ok(strstr(text, want == 12 ? SEND_SOAP12_NS : SEND_SOAP11_NS) != NULL,
			    "wrap: %s: carries the version's namespace", rows[i].desc);
			ok(strstr(text, "<?xml version=\"1.0\" encoding=\"utf-8\"?>") == text &&
			    strstr(text + 5, "<?xml") == NULL,
			    "wrap: %s: one XML declaration, ours", rows[i].desc);
			free(text);
		} else {
			ok(out == NULL, "wrap: %s: no output on failure", rows[i].desc);
		}
		if (rows[i].msg_has != NULL && !ok(strstr(msg, rows[i].msg_has) != NULL,
		    "wrap: %s: message says '%s'", rows[i].desc, rows[i].msg_has))
			printf("#   message: %s\n", msg);
		free(out);
	}
	{
		/* the fragment's bytes are kept exactly */
		const char *frag = "<m:Order xmlns:m=\"urn:x\">  <m:Id>1 &amp; 2</m:Id>\n</m:Order>";
		char msg[SV_MSG_MAX];
		uint8_t *out = NULL;
		size_t len = 0;

		if (send_envelope_wrap(u(frag), strlen(frag), 11, &out, &len, msg) == 0)
			ok(memmem(out, len, frag, strlen(frag)) != NULL, "wrap: fragment bytes unchanged");
		else
			ok(0, "wrap: fragment bytes unchanged (wrap failed: %s)", msg);
		free(out);
	}
}

static char *
repeat(const char *s, size_t n)
{
	size_t l = strlen(s), i;
	char *out = malloc(l * n + 1);

	for (i = 0; i < n; i++)
		memcpy(out + i * l, s, l);
	out[l * n] = '\0';
	return out;
}

static void
test_faults(void)
{
	static const struct {
		const char *desc, *xml;
		int want;
		const char *code, *reason;
	} rows[] = {
		{ "1.1 fault", ENV11 "<s:Fault><faultcode>s:Server</faultcode><faultstring>Order rejected</faultstring></s:Fault>" END11,
		    0, "s:Server", "Order rejected" },
		{ "1.1 fault, qualified children", ENV11 "<s:Fault><s:faultcode>s:Client</s:faultcode><s:faultstring xml:lang=\"en\">Bad input</s:faultstring><detail><x/></detail></s:Fault>" END11,
		    0, "s:Client", "Bad input" },
		{ "1.1 fault, whitespace and newlines folded", ENV11 "<s:Fault><faultcode>\n  s:Server \n</faultcode><faultstring>line one\nline\ttwo\r\n</faultstring></s:Fault>" END11,
		    0, "s:Server", "line one line two" },
		{ "1.1 fault, DEL and C1 controls (CSI) removed", ENV11 "<s:Fault><faultcode>c</faultcode><faultstring>a&#x7f;b&#x85;c&#x9b;31md</faultstring></s:Fault>" END11,
		    0, "c", "a b c 31md" },
		{ "1.1 fault, escape character (not XML 1.0) is no fault", ENV11 "<s:Fault><faultcode>c</faultcode><faultstring>a&#x1b;[31mred</faultstring></s:Fault>" END11,
		    SV_ERR_NOT_FOUND, NULL, NULL },
		{ "1.1 fault without faultstring", ENV11 "<s:Fault><faultcode>s:Server</faultcode></s:Fault>" END11,
		    0, "s:Server", "" },
		{ "1.2 fault", ENV12 "<e:Fault><e:Code><e:Value>e:Sender</e:Value></e:Code><e:Reason><e:Text xml:lang=\"en\">Missing id</e:Text></e:Reason></e:Fault>" END12,
		    0, "e:Sender", "Missing id" },
		{ "1.2 fault, subcodes", ENV12 "<e:Fault><e:Code><e:Value>e:Sender</e:Value><e:Subcode><e:Value>m:Timeout</e:Value><e:Subcode><e:Value>m:Late</e:Value></e:Subcode></e:Subcode></e:Code><e:Reason><e:Text xml:lang=\"en\">Late</e:Text></e:Reason></e:Fault>" END12,
		    0, "e:Sender/m:Timeout/m:Late", "Late" },
		{ "1.2 fault, English reason preferred", ENV12 "<e:Fault><e:Code><e:Value>e:Receiver</e:Value></e:Code><e:Reason><e:Text xml:lang=\"de\">Fehler</e:Text><e:Text xml:lang=\"en-GB\">Failure</e:Text></e:Reason></e:Fault>" END12,
		    0, "e:Receiver", "Failure" },
		{ "1.2 fault, first reason if none is English", ENV12 "<e:Fault><e:Code><e:Value>e:Receiver</e:Value></e:Code><e:Reason><e:Text xml:lang=\"fr\">Erreur</e:Text><e:Text xml:lang=\"de\">Fehler</e:Text></e:Reason></e:Fault>" END12,
		    0, "e:Receiver", "Erreur" },
		{ "1.2 fault, UTF-8 kept", ENV12 "<e:Fault><e:Code><e:Value>e:Sender</e:Value></e:Code><e:Reason><e:Text xml:lang=\"en\">Größe ✓</e:Text></e:Reason></e:Fault>" END12,
		    0, "e:Sender", "Größe ✓" },
		{ "1.1 Fault element in the 1.2 namespace", ENV11 "<e:Fault xmlns:e=\"" SEND_SOAP12_NS "\"><faultcode>x</faultcode></e:Fault>" END11,
		    SV_ERR_NOT_FOUND, NULL, NULL },
		{ "normal 1.1 response", ENV11 "<m:OrderResponse xmlns:m=\"urn:x\"><m:Ok>1</m:Ok></m:OrderResponse>" END11,
		    SV_ERR_NOT_FOUND, NULL, NULL },
		{ "normal 1.2 response", ENV12 "<m:R xmlns:m=\"urn:x\"/>" END12, SV_ERR_NOT_FOUND, NULL, NULL },
		{ "Fault not first in Body", ENV11 "<x/><s:Fault><faultcode>a</faultcode></s:Fault>" END11,
		    SV_ERR_NOT_FOUND, NULL, NULL },
		{ "Fault outside an envelope", "<Fault><faultcode>a</faultcode></Fault>", SV_ERR_NOT_FOUND, NULL, NULL },
		{ "HTML error page", "<html><body><h1>503 Service Unavailable</h1></body></html>", SV_ERR_NOT_FOUND, NULL, NULL },
		{ "plain text", "Service Unavailable\n", SV_ERR_NOT_FOUND, NULL, NULL },
		{ "empty", "", SV_ERR_NOT_FOUND, NULL, NULL },
		{ "truncated fault", ENV11 "<s:Fault><faultcode>s:Server</faultcode><faultstr", SV_ERR_NOT_FOUND, NULL, NULL },
		{ "entity expansion (DTD) refused", "<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
		    "<s:Envelope xmlns:s=\"" SEND_SOAP11_NS "\"><s:Body><s:Fault><faultcode>x</faultcode><faultstring>&c;</faultstring></s:Fault></s:Body></s:Envelope>",
		    SV_ERR_NOT_FOUND, NULL, NULL },
		{ "external entity refused", "<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		    "<s:Envelope xmlns:s=\"" SEND_SOAP11_NS "\"><s:Body><s:Fault><faultcode>x</faultcode><faultstring>&x;</faultstring></s:Fault></s:Body></s:Envelope>",
		    SV_ERR_NOT_FOUND, NULL, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *code = (char *)"unset", *reason = (char *)"unset";
		int r = send_fault_parse(u(rows[i].xml), strlen(rows[i].xml), &code, &reason);

		is_int(r, rows[i].want, "fault: %s", rows[i].desc);
		if (r == 0) {
			is_str(code, rows[i].code, "fault: %s: code", rows[i].desc);
			is_str(reason, rows[i].reason, "fault: %s: reason", rows[i].desc);
			free(code);
			free(reason);
		} else {
			ok(strcmp(code, "unset") == 0 && strcmp(reason, "unset") == 0,
			    "fault: %s: outputs untouched", rows[i].desc);
		}
	}
	{
		/* a 4 MiB faultstring is cut to one bounded line */
		char *big = repeat("0123456789abcdef", 256 * 1024);
		size_t n = strlen(ENV11) + strlen(big) + 200;
		char *xml = malloc(n), *code = NULL, *reason = NULL;

		snprintf(xml, n, ENV11 "<s:Fault><faultcode>s:Server</faultcode><faultstring>%s</faultstring></s:Fault>" END11, big);
		is_int(send_fault_parse(u(xml), strlen(xml), &code, &reason), 0, "fault: huge faultstring parsed");
		ok(reason != NULL && strlen(reason) <= 515 && strlen(reason) >= 500,
		    "fault: huge faultstring cut to about 512 bytes (%zu)", reason ? strlen(reason) : 0);
		ok(reason != NULL && strcmp(reason + strlen(reason) - 3, "...") == 0,
		    "fault: huge faultstring ends with '...'");
		free(code);
		free(reason);
		free(xml);
		free(big);
	}
	{
		/* a cut never splits a UTF-8 character */
		char *big = repeat("\xc3\xa9", 600);	/* é */
		size_t n = strlen(big) + 400;
		char *xml = malloc(n), *code = NULL, *reason = NULL;

		snprintf(xml, n, ENV11 "<s:Fault><faultcode>c</faultcode><faultstring>x%s</faultstring></s:Fault>" END11, big);
		if (send_fault_parse(u(xml), strlen(xml), &code, &reason) == 0) {
			char msg[SV_MSG_MAX];
			size_t elen = strlen(reason) + strlen(ENV11) + strlen(END11) + 16;
			char *env = malloc(elen);
			int soap;

			/* valid UTF-8 if libxml2 accepts it as element text */
			snprintf(env, elen, ENV11 "<a>%s</a>" END11, reason);
			is_int(send_envelope_check(u(env), strlen(env), 0, &soap, msg), 0,
			    "fault: cut reason is still valid UTF-8");
			free(env);
		} else {
			ok(0, "fault: cut reason is still valid UTF-8 (no fault found)");
		}
		free(code);
		free(reason);
		free(xml);
		free(big);
	}
	{
		/* deep nesting does not crash or recurse without end */
		char *open = repeat("<a>", 100000), *close = repeat("</a>", 100000);
		size_t n = strlen(open) + strlen(close) + 200;
		char *xml = malloc(n), *code = NULL, *reason = NULL;

		snprintf(xml, n, ENV11 "%s%s" END11, open, close);
		is_int(send_fault_parse(u(xml), strlen(xml), &code, &reason), SV_ERR_NOT_FOUND,
		    "fault: 100000-deep nesting is not a fault");
		free(xml);
		free(open);
		free(close);
	}
}

static void
test_classify(void)
{
	static const struct {
		const char *desc;
		int cc;
		long status;
		int fault, too_large;
		enum send_verdict want;
	} rows[] = {
		{ "200", CURLE_OK, 200, 0, 0, SEND_V_DELIVERED },
		{ "202 accepted", CURLE_OK, 202, 0, 0, SEND_V_DELIVERED },
		{ "204 no content", CURLE_OK, 204, 0, 0, SEND_V_DELIVERED },
		{ "500 with a fault", CURLE_OK, 500, 1, 0, SEND_V_FAULT },
		{ "400 with a 1.2 fault", CURLE_OK, 400, 1, 0, SEND_V_FAULT },
		{ "200 with a fault", CURLE_OK, 200, 1, 0, SEND_V_FAULT },
		{ "503 with a fault is a fault, not a retry", CURLE_OK, 503, 1, 0, SEND_V_FAULT },
		{ "500 without a fault", CURLE_OK, 500, 0, 0, SEND_V_RETRY },
		{ "502", CURLE_OK, 502, 0, 0, SEND_V_RETRY },
		{ "503", CURLE_OK, 503, 0, 0, SEND_V_RETRY },
		{ "504", CURLE_OK, 504, 0, 0, SEND_V_RETRY },
		{ "401", CURLE_OK, 401, 0, 0, SEND_V_RETRY },
		{ "403", CURLE_OK, 403, 0, 0, SEND_V_RETRY },
		{ "407", CURLE_OK, 407, 0, 0, SEND_V_RETRY },
		{ "408", CURLE_OK, 408, 0, 0, SEND_V_RETRY },
		{ "429", CURLE_OK, 429, 0, 0, SEND_V_RETRY },
		{ "400 without a fault", CURLE_OK, 400, 0, 0, SEND_V_KEEP },
		{ "404", CURLE_OK, 404, 0, 0, SEND_V_KEEP },
		{ "405", CURLE_OK, 405, 0, 0, SEND_V_KEEP },
		{ "415", CURLE_OK, 415, 0, 0, SEND_V_KEEP },
		{ "301 (redirects are not followed)", CURLE_OK, 301, 0, 0, SEND_V_KEEP },
		{ "100 as a final status", CURLE_OK, 100, 0, 0, SEND_V_KEEP },
		{ "connection refused", CURLE_COULDNT_CONNECT, 0, 0, 0, SEND_V_RETRY },
		{ "host not found", CURLE_COULDNT_RESOLVE_HOST, 0, 0, 0, SEND_V_RETRY },
		{ "timeout", CURLE_OPERATION_TIMEDOUT, 0, 0, 0, SEND_V_RETRY },
		{ "TLS handshake failed (no client certificate)", CURLE_SSL_CONNECT_ERROR, 0, 0, 0, SEND_V_RETRY },
		{ "TLS 1.3 certificate-required alert on read", CURLE_RECV_ERROR, 0, 0, 0, SEND_V_RETRY },
		{ "server certificate not trusted", CURLE_PEER_FAILED_VERIFICATION, 0, 0, 0, SEND_V_RETRY },
		{ "connection reset while sending", CURLE_SEND_ERROR, 0, 0, 0, SEND_V_RETRY },
		{ "empty reply", CURLE_GOT_NOTHING, 0, 0, 0, SEND_V_RETRY },
		{ "client certificate unusable", CURLE_SSL_CERTPROBLEM, 0, 0, 0, SEND_V_KEEP },
		{ "CA file unusable", CURLE_SSL_CACERT_BADFILE, 0, 0, 0, SEND_V_KEEP },
		{ "malformed URL", CURLE_URL_MALFORMAT, 0, 0, 0, SEND_V_KEEP },
		{ "unsupported protocol", CURLE_UNSUPPORTED_PROTOCOL, 0, 0, 0, SEND_V_KEEP },
		{ "too large, 200", CURLE_WRITE_ERROR, 200, 0, 1, SEND_V_UNREAD },
		{ "too large, 503", CURLE_WRITE_ERROR, 503, 0, 1, SEND_V_RETRY },
		{ "too large, 404", CURLE_WRITE_ERROR, 404, 0, 1, SEND_V_KEEP },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		is_int(send_classify(rows[i].cc, rows[i].status, rows[i].fault, rows[i].too_large),
		    rows[i].want, "classify: %s", rows[i].desc);
}

static int
set(struct send_settings *s, const char *name, const char *value)
{
	char msg[SV_MSG_MAX];

	return send_settings_set(s, name, value, msg);
}

static void
test_settings_values(void)
{
	struct send_settings s;
	char msg[SV_MSG_MAX], cwd[4096], want[4200];

	send_settings_init(&s);
	is_int(s.retry_count, SEND_UNSET, "settings: numbers start unset");
	ok(s.url == NULL && s.soap == SEND_UNSET && s.auth == SEND_UNSET, "settings: strings and enums start unset");
	is_int(set(&s, "retry-interval", "5m"), 0, "set: 5m");
	is_int(s.retry_interval_s, 300, "set: 5m is 300s");
	is_int(set(&s, "retry-interval", "2h"), 0, "set: 2h");
	is_int(s.retry_interval_s, 7200, "set: 2h is 7200s");
	is_int(set(&s, "retry-interval", "1s"), 0, "set: 1s");
	is_int(s.retry_interval_s, 1, "set: 1s is 1");
	is_int(set(&s, "retry-interval", "0"), 0, "set: 0 (no wait)");
	is_int(set(&s, "retry-interval", "5x"), SV_ERR_USAGE, "set: 5x refused");
	is_int(set(&s, "retry-interval", "-1"), SV_ERR_USAGE, "set: -1 refused");
	is_int(s.retry_interval_s, 0, "set: a refused value leaves the old one");
	is_int(set(&s, "timeout", "0"), SV_ERR_USAGE, "set: timeout 0 refused");
	is_int(set(&s, "max-response-size", "16M"), 0, "set: 16M");
	is_int(s.max_response_size, 16 * 1024 * 1024, "set: 16M in bytes");
	is_int(set(&s, "max-response-size", "2G"), SV_ERR_USAGE, "set: 2G over the cap");
	is_int(set(&s, "retry-count", "1000"), 0, "set: retry-count 1000");
	is_int(set(&s, "retry-count", "1001"), SV_ERR_USAGE, "set: retry-count 1001 refused");
	is_int(set(&s, "parallel", "0"), SV_ERR_USAGE, "set: parallel 0 refused");
	is_int(set(&s, "parallel", "65"), SV_ERR_USAGE, "set: parallel 65 refused");
	is_int(set(&s, "soap", "1.2"), 0, "set: soap 1.2");
	is_int(s.soap, 12, "set: soap 1.2 is 12");
	is_int(set(&s, "soap", "2.0"), SV_ERR_USAGE, "set: soap 2.0 refused");
	is_int(set(&s, "auth", "ntlm"), 0, "set: auth ntlm");
	is_int(s.auth, SEND_AUTH_NTLM, "set: auth ntlm stored");
	is_int(set(&s, "auth", "kerberos"), SV_ERR_USAGE, "set: auth kerberos refused");
	is_int(set(&s, "body", NULL), 0, "set: --body without a value");
	is_int(s.body, 1, "set: --body is yes");
	is_int(set(&s, "suspend-on-fault", "no"), 0, "set: --suspend-on-fault=no");
	is_int(s.suspend_on_fault, 0, "set: --suspend-on-fault=no stored");
	is_int(set(&s, "url", NULL), SV_ERR_USAGE, "set: --url without a value refused");
	is_int(set(&s, "url", "https://h.example/svc"), 0, "set: https URL");
	is_int(set(&s, "url", "ftp://h.example/"), SV_ERR_USAGE, "set: ftp URL refused");
	is_int(set(&s, "url", "https://bob:pw@h.example/"), SV_ERR_USAGE, "set: URL with credentials refused");
	is_str(s.url, "https://h.example/svc", "set: refused URLs leave the old one");
	is_int(set(&s, "proxy", "proxy.example:3128"), 0, "set: proxy without scheme");
	is_int(set(&s, "proxy", "http://u:p@proxy.example:3128"), SV_ERR_USAGE, "set: proxy with credentials refused");
	is_int(set(&s, "cert", "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd"), 0, "set: thumbprint with colons");
	is_str(s.cert, "AABBCCDDEEFF00112233445566778899AABBCCDD", "set: thumbprint normalised");
	is_int(send_settings_set(&s, "cert", "xyz", msg), SV_ERR_USAGE, "set: bad thumbprint refused");
	ok(strstr(msg, "40 hexadecimal") != NULL, "set: bad thumbprint message says what is expected");
	is_int(set(&s, "sso-app", "payroll.v2"), 0, "set: sso-app");
	is_int(set(&s, "sso-app", "pay roll"), SV_ERR_USAGE, "set: sso-app with a space refused");
	is_int(set(&s, "action", "urn:x#Do"), 0, "set: action");
	is_int(set(&s, "action", "a\"b"), SV_ERR_USAGE, "set: action with a quote refused");
	is_int(set(&s, "user", "a\nb"), SV_ERR_USAGE, "set: user with a newline refused");
	is_int(set(&s, "password-file", "-"), SV_ERR_USAGE, "set: password file '-' refused");
	is_int(set(&s, "password-file", "pw.txt"), 0, "set: relative password file");
	ok(getcwd(cwd, sizeof(cwd)) != NULL, "getcwd");
	snprintf(want, sizeof(want), "%s/pw.txt", cwd);
	is_str(s.password_file, want, "set: relative path made absolute");
	is_int(set(&s, "header", "X-Trace: 1"), 0, "set: header");
	is_int(set(&s, "header", "X-Other: two words"), 0, "set: second header");
	is_int((long long)s.nheaders, 2, "set: headers accumulate");
	is_int(set(&s, "header", "Authorization: Basic Ym9iOnB3"), SV_ERR_USAGE, "set: Authorization header refused");
	is_int(set(&s, "header", "cookie: a=b"), SV_ERR_USAGE, "set: Cookie header refused");
	is_int(set(&s, "header", "Content-Type: text/plain"), SV_ERR_USAGE, "set: Content-Type header refused");
	is_int(set(&s, "header", "SOAPAction: x"), SV_ERR_USAGE, "set: SOAPAction header refused");
	is_int(set(&s, "header", "NoColon"), SV_ERR_USAGE, "set: header without a colon refused");
	is_int(set(&s, "header", "Bad Name: x"), SV_ERR_USAGE, "set: header name with a space refused");
	is_int((long long)s.nheaders, 2, "set: refused headers are not added");
	is_int(set(&s, "header", ""), 0, "set: empty header clears");
	is_int((long long)s.nheaders, 0, "set: no headers after ''");
	is_int(set(&s, "retry-count", ""), 0, "set: '' clears a number");
	is_int(s.retry_count, SEND_CLEARED, "set: cleared number");
	is_int(set(&s, "colour", "red"), SV_ERR_USAGE, "set: unknown option refused");
	send_settings_clear(&s);
}

static void
test_settings_json(void)
{
	struct send_settings s, back;
	char msg[SV_MSG_MAX] = "", *j1 = NULL, *j2 = NULL;

	send_settings_init(&s);
	ok(set(&s, "url", "https://soap.example:8443/svc?wsdl=no") == 0 &&
	    set(&s, "soap", "1.2") == 0 && set(&s, "action", "urn:orders#Submit") == 0 &&
	    set(&s, "body", NULL) == 0 && set(&s, "auth", "digest") == 0 &&
	    set(&s, "sso-app", "payroll") == 0 && set(&s, "ticket", "T0PSECRETTICKET") == 0 &&
	    set(&s, "sender", "user:alice") == 0 &&
	    set(&s, "cert", "0123456789abcdef0123456789abcdef01234567") == 0 &&
	    set(&s, "cacert", "/etc/ssl/ca.pem") == 0 && set(&s, "capath", "/etc/ssl/certs") == 0 &&
	    set(&s, "proxy", "http://proxy:3128") == 0 && set(&s, "proxy-user", "px") == 0 &&
	    set(&s, "proxy-password-file", "/run/px.pass") == 0 && set(&s, "timeout", "90s") == 0 &&
	    set(&s, "connect-timeout", "5") == 0 && set(&s, "max-response-size", "1M") == 0 &&
	    set(&s, "header", "X-A: 1") == 0 && set(&s, "header", "X-B: 2") == 0 &&
	    set(&s, "out", "/tmp/out") == 0 && set(&s, "retry-count", "7") == 0 &&
	    set(&s, "retry-interval", "1m") == 0 && set(&s, "suspend-on-fault", "yes") == 0 &&
	    set(&s, "parallel", "4") == 0 && set(&s, "allow-http-auth", NULL) == 0,
	    "json: every option set");
	is_int(send_settings_to_json(&s, &j1), 0, "json: to_json");
	ok(j1 != NULL && strstr(j1, "T0PSECRETTICKET") == NULL, "json: the ticket is never written");
	ok(j1 != NULL && strstr(j1, "\"uses_ticket\":true") != NULL, "json: uses_ticket written instead");
	ok(j1 != NULL && strstr(j1, "\"retry_interval\":60") != NULL, "json: durations in seconds");
	ok(j1 != NULL && strstr(j1, "\"soap\":\"1.2\"") != NULL, "json: soap as \"1.2\"");
	ok(j1 != NULL && strstr(j1, "\"headers\":[\"X-A: 1\",\"X-B: 2\"]") != NULL, "json: headers as an array");
	is_int(send_settings_from_json(j1, &back, msg), 0, "json: from_json of to_json");
	is_int(send_settings_to_json(&back, &j2), 0, "json: to_json again");
	is_str(j2, j1, "json: round trip is exact");
	ok(back.uses_ticket == 1 && back.ticket == NULL, "json: read back needs a ticket, has none");
	is_int(back.max_response_size, 1024 * 1024, "json: size read back");
	send_settings_clear(&back);
	free(j1);
	free(j2);
	j1 = j2 = NULL;

	/* empty settings are {} */
	send_settings_clear(&s);
	is_int(send_settings_to_json(&s, &j1), 0, "json: empty settings");
	is_str(j1, "{}", "json: empty settings are {}");
	free(j1);
	j1 = NULL;

	/* cleared values travel as null and come back cleared */
	ok(set(&s, "cert", "") == 0 && set(&s, "retry-count", "") == 0, "json: clear cert and retry-count");
	is_int(send_settings_to_json(&s, &j1), 0, "json: cleared to_json");
	is_str(j1, "{\"cert\":null,\"retry_count\":null}", "json: cleared values are null");
	is_int(send_settings_from_json(j1, &back, msg), 0, "json: nulls accepted");
	ok(back.cert != NULL && back.cert[0] == '\0' && back.retry_count == SEND_CLEARED,
	    "json: nulls read back as cleared");
	send_settings_clear(&back);
	send_settings_clear(&s);
	free(j1);
}

static void
test_settings_json_refused(void)
{
	static const struct {
		const char *desc, *json, *msg_has;
	} rows[] = {
		{ "not JSON", "{url:", "not valid JSON" },
		{ "not an object", "[1]", "JSON object" },
		{ "password", "{\"password\":\"hunter2\"}", "no secret values" },
		{ "proxy_password", "{\"proxy_password\":\"hunter2\"}", "no secret values" },
		{ "ticket", "{\"ticket\":\"abc\"}", "no secret values" },
		{ "Secret", "{\"Secret\":\"abc\"}", "no secret values" },
		{ "api_token", "{\"api_token\":\"abc\"}", "no secret values" },
		{ "private_key", "{\"private_key\":\"-----BEGIN\"}", "no secret values" },
		{ "client_key", "{\"client_key\":\"x\"}", "no secret values" },
		{ "passphrase", "{\"passphrase\":\"x\"}", "no secret values" },
		{ "credentials", "{\"credentials\":{\"u\":\"p\"}}", "no secret values" },
		{ "unknown member", "{\"colour\":\"red\"}", "unknown send setting" },
		{ "duplicate member", "{\"url\":\"https://a/\",\"url\":\"https://b/\"}", "not valid JSON" },
		{ "retry_count as a string", "{\"retry_count\":\"3\"}", "integer" },
		{ "retry_count too large", "{\"retry_count\":5000}", "retry_count" },
		{ "negative timeout", "{\"timeout\":-1}", "non-negative" },
		{ "body as a string", "{\"body\":\"yes\"}", "true or false" },
		{ "ftp URL", "{\"url\":\"ftp://h/\"}", "url: " },
		{ "URL with credentials", "{\"url\":\"https://bob:pw@h/\"}", "credentials do not belong" },
		{ "Authorization header", "{\"headers\":[\"Authorization: Basic Ym9iOnB3\"]}", "secret" },
		{ "headers not an array", "{\"headers\":\"X-A: 1\"}", "array" },
		{ "relative password file", "{\"password_file\":\"pw.txt\"}", "absolute path" },
		{ "empty url", "{\"url\":\"\"}", "non-empty string" },
		{ "bad thumbprint", "{\"cert\":\"nothex\"}", "40 hexadecimal" },
		{ "auth unknown", "{\"auth\":\"kerberos\"}", "auth: " },
		{ "uses_ticket not a flag", "{\"uses_ticket\":1}", "true or false" },
		{ "source over two lines", "{\"source\":\"a\\nb\"}", "one line" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct send_settings s;
		char msg[SV_MSG_MAX] = "";
		int r = send_settings_from_json(rows[i].json, &s, msg);

		is_int(r, SV_ERR_INVALID, "json refused: %s", rows[i].desc);
		if (!ok(strstr(msg, rows[i].msg_has) != NULL, "json refused: %s: message says '%s'",
		    rows[i].desc, rows[i].msg_has))
			printf("#   message: %s\n", msg);
		ok(strstr(msg, "hunter2") == NULL && strstr(msg, "Ym9iOnB3") == NULL,
		    "json refused: %s: no secret value in the message", rows[i].desc);
		ok(s.url == NULL && s.retry_count == SEND_UNSET && s.nheaders == 0,
		    "json refused: %s: output left empty", rows[i].desc);
	}
}

static void
test_merge_check(void)
{
	struct send_settings port, over;
	char msg[SV_MSG_MAX] = "";

	send_settings_init(&port);
	send_settings_init(&over);
	ok(set(&port, "url", "https://a.example/") == 0 && set(&port, "cert", "0123456789abcdef0123456789abcdef01234567") == 0 &&
	    set(&port, "retry-count", "5") == 0 && set(&port, "header", "X-A: 1") == 0 &&
	    set(&port, "sso-app", "payroll") == 0, "merge: port settings");
	ok(set(&over, "retry-count", "1") == 0 && set(&over, "cert", "") == 0 &&
	    set(&over, "action", "urn:x") == 0, "merge: explicit options");
	is_int(send_settings_merge(&port, &over), 0, "merge");
	is_int(port.retry_count, 1, "merge: explicit number wins");
	is_str(port.action, "urn:x", "merge: explicit string added");
	is_str(port.url, "https://a.example/", "merge: port value kept");
	is_int((long long)port.nheaders, 1, "merge: port headers kept when none given");
	send_settings_normalise(&port);
	ok(port.cert == NULL, "merge: '' cleared the port's certificate");
	is_int(send_settings_check(&port, msg), 0, "check: merged settings can send");
	send_settings_clear(&over);
	send_settings_init(&over);
	ok(set(&over, "header", "X-B: 2") == 0 && set(&over, "header", "X-C: 3") == 0, "merge: explicit headers");
	is_int(send_settings_merge(&port, &over), 0, "merge headers");
	ok(port.nheaders == 2 && strcmp(port.headers[0], "X-B: 2") == 0, "merge: explicit headers replace the port's");
	send_settings_clear(&port);
	send_settings_clear(&over);

	{
		static const struct {
			const char *desc;
			const char *opts[8][2];
			int want;
			const char *msg_has;
		} rows[] = {
			{ "no URL", { { "soap", "1.1" } }, SV_ERR_USAGE, "--url" },
			{ "anonymous", { { "url", "https://h/" } }, 0, NULL },
			{ "user and password file", { { "url", "https://h/" }, { "user", "bob" }, { "password-file", "/pw" } }, 0, NULL },
			{ "user without password file", { { "url", "https://h/" }, { "user", "bob" } }, SV_ERR_USAGE, "go together" },
			{ "user and sso-app", { { "url", "https://h/" }, { "user", "bob" }, { "password-file", "/pw" }, { "sso-app", "a" } }, SV_ERR_USAGE, "exclude" },
			{ "ticket without sso-app", { { "url", "https://h/" }, { "ticket", "T" } }, SV_ERR_USAGE, "--sso-app" },
			{ "sender without ticket", { { "url", "https://h/" }, { "sso-app", "a" }, { "sender", "user:x" } }, SV_ERR_USAGE, "--ticket" },
			{ "ticket", { { "url", "https://h/" }, { "sso-app", "a" }, { "ticket", "T" }, { "sender", "user:x" } }, 0, NULL },
			{ "anonymous with credentials", { { "url", "https://h/" }, { "sso-app", "a" }, { "auth", "anonymous" } }, SV_ERR_USAGE, "anonymous" },
			{ "ntlm without credentials", { { "url", "https://h/" }, { "auth", "ntlm" } }, SV_ERR_USAGE, "needs credentials" },
			{ "cert over http", { { "url", "http://h/" }, { "cert", "0123456789abcdef0123456789abcdef01234567" } }, SV_ERR_USAGE, "https" },
			{ "proxy user without proxy", { { "url", "https://h/" }, { "proxy-user", "p" }, { "proxy-password-file", "/p" } }, SV_ERR_USAGE, "--proxy" },
			{ "anonymous over http", { { "url", "http://h/" } }, 0, NULL },
			{ "sso-app over http", { { "url", "http://h/" }, { "sso-app", "a" } }, SV_ERR_USAGE, "--allow-http-auth" },
			{ "password file over http", { { "url", "HTTP://h/" }, { "user", "bob" }, { "password-file", "/pw" } }, SV_ERR_USAGE, "in clear" },
			{ "digest over http", { { "url", "http://h/" }, { "sso-app", "a" }, { "auth", "digest" } }, SV_ERR_USAGE, "--allow-http-auth" },
			{ "ticket over http", { { "url", "http://h/" }, { "sso-app", "a" }, { "ticket", "T" } }, SV_ERR_USAGE, "--allow-http-auth" },
			{ "sso-app over http, allowed", { { "url", "http://h/" }, { "sso-app", "a" }, { "allow-http-auth", "yes" } }, 0, NULL },
			{ "sso-app over http, allow=no", { { "url", "http://h/" }, { "sso-app", "a" }, { "allow-http-auth", "no" } }, SV_ERR_USAGE, "--allow-http-auth" },
			{ "cert over http, allowed", { { "url", "http://h/" }, { "cert", "0123456789abcdef0123456789abcdef01234567" }, { "allow-http-auth", "yes" } }, SV_ERR_USAGE, "https" },
			{ "proxy user, http proxy", { { "url", "https://h/" }, { "proxy", "http://p:3128" }, { "proxy-user", "p" }, { "proxy-password-file", "/p" } }, SV_ERR_USAGE, "proxy password in clear" },
			{ "proxy user, proxy without scheme", { { "url", "https://h/" }, { "proxy", "p:3128" }, { "proxy-user", "p" }, { "proxy-password-file", "/p" } }, SV_ERR_USAGE, "--allow-http-auth" },
			{ "proxy user, https proxy", { { "url", "https://h/" }, { "proxy", "https://p:3128" }, { "proxy-user", "p" }, { "proxy-password-file", "/p" } }, 0, NULL },
			{ "proxy user, http proxy, allowed", { { "url", "https://h/" }, { "proxy", "http://p:3128" }, { "proxy-user", "p" }, { "proxy-password-file", "/p" }, { "allow-http-auth", NULL } }, 0, NULL },
		};
		size_t i, k;

		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct send_settings s;

			send_settings_init(&s);
			for (k = 0; k < 8 && rows[i].opts[k][0] != NULL; k++)
				if (set(&s, rows[i].opts[k][0], rows[i].opts[k][1]) != 0)
					printf("# could not set %s\n", rows[i].opts[k][0]);
			msg[0] = '\0';
			is_int(send_settings_check(&s, msg), rows[i].want, "check: %s", rows[i].desc);
			if (rows[i].msg_has != NULL)
				ok(strstr(msg, rows[i].msg_has) != NULL, "check: %s: message says '%s'",
				    rows[i].desc, rows[i].msg_has);
			send_settings_clear(&s);
		}
	}
	{
		/* a stored snapshot needs a new ticket */
		struct send_settings s;

		ok(send_settings_from_json("{\"url\":\"https://h/\",\"sso_app\":\"a\",\"uses_ticket\":true}", &s, msg) == 0,
		    "check: snapshot with uses_ticket read");
		is_int(send_settings_check(&s, msg), SV_ERR_USAGE, "check: uses_ticket without a ticket refused");
		ok(strstr(msg, "single-use") != NULL, "check: the message says tickets are single-use");
		send_settings_clear(&s);
	}
}

struct seen {
	int n;
	enum send_outcome outcome[4];
	int err[4];
	char reason[4][SV_MSG_MAX * 2];
};

static int
on_result(void *ctx, const struct send_result *r)
{
	struct seen *s = ctx;

	if (s->n < 4) {
		s->outcome[s->n] = r->outcome;
		s->err[s->n] = r->err;
		snprintf(s->reason[s->n], sizeof(s->reason[0]), "%s", r->reason ? r->reason : "");
	}
	s->n++;
	return 0;
}

/* Messages that are refused are never sent, never kept: no vault is touched. */
static void
test_not_taken(void)
{
	char dir[] = "/tmp/test-send.XXXXXX", bad[64], frag[64], missing[64], msg[SV_MSG_MAX] = "";
	const char *files[3];
	struct send_settings s;
	struct send_callbacks cb;
	struct send_summary sum;
	struct seen seen;
	FILE *f;

	ok(mkdtemp(dir) != NULL, "not taken: temp dir");
	snprintf(bad, sizeof(bad), "%s/bad.xml", dir);
	snprintf(frag, sizeof(frag), "%s/frag.xml", dir);
	snprintf(missing, sizeof(missing), "%s/missing.xml", dir);
	f = fopen(bad, "w");
	fputs(ENV11 "<a>\n<b></a>" END11, f);
	fclose(f);
	f = fopen(frag, "w");
	fputs("<order/>", f);
	fclose(f);
	files[0] = bad;
	files[1] = frag;
	files[2] = missing;
	send_settings_init(&s);
	ok(set(&s, "url", "http://127.0.0.1:9/") == 0, "not taken: settings");
	memset(&seen, 0, sizeof(seen));
	memset(&cb, 0, sizeof(cb));
	cb.ctx = &seen;
	cb.result = on_result;
	is_int(send_batch(NULL, &s, files, 3, &cb, &sum, msg), 0, "not taken: batch ran");
	is_int(seen.n, 3, "not taken: three results");
	is_int((long long)sum.not_taken, 3, "not taken: all three refused");
	ok(seen.outcome[0] == SEND_NOT_TAKEN && seen.err[0] == SV_ERR_BAD_FORMAT &&
	    strstr(seen.reason[0], "line 3") != NULL, "not taken: malformed XML, with its line");
	ok(seen.outcome[1] == SEND_NOT_TAKEN && strstr(seen.reason[1], "--body") != NULL,
	    "not taken: a fragment without --body");
	ok(seen.outcome[2] == SEND_NOT_TAKEN && seen.err[2] == SV_ERR_NOT_FOUND,
	    "not taken: a missing file");
	is_int(send_batch(NULL, &s, (const char *[]){ "-", "-" }, 2, &cb, &sum, msg),
	    SV_ERR_USAGE, "not taken: '-' twice refused");
	ok(set(&s, "password-file", "/nonexistent/pw") == 0 && set(&s, "user", "bob") == 0 &&
	    set(&s, "allow-http-auth", NULL) == 0, "not taken: a password file that is not there");
	seen.n = 0;
	is_int(send_batch(NULL, &s, files + 1, 1, &cb, &sum, msg), SV_ERR_NOT_FOUND,
	    "not taken: batch refused before taking anything");
	ok(strstr(msg, "--password-file /nonexistent/pw") != NULL, "not taken: the message names the file");
	is_int(seen.n, 0, "not taken: no message was handled");
	send_settings_clear(&s);
	unlink(bad);
	unlink(frag);
	rmdir(dir);
}

/* Settings from JSON through send_settings_resume(), then merged and checked as a resume does. */
static int
resume(const char *stored, int own, const char *const over_opts[][2], char *msg,
    struct send_settings *ret)
{
	struct send_settings s, over;
	char m[SV_MSG_MAX];
	size_t k;
	int r;

	send_settings_init(&over);
	for (k = 0; over_opts != NULL && over_opts[k][0] != NULL; k++)
		if (set(&over, over_opts[k][0], over_opts[k][1]) != 0)
			printf("# could not set %s\n", over_opts[k][0]);
	if ((r = send_settings_from_json(stored, &s, m)) != 0) {
		printf("# stored settings refused: %s\n", m);
		send_settings_clear(&over);
		return r;
	}
	msg[0] = '\0';
	if ((r = send_settings_resume(&s, &over, own, "uid:5101", msg)) == 0 &&
	    (r = send_settings_merge(&s, &over)) == 0) {
		send_settings_normalise(&s);
		r = send_settings_check(&s, msg);
	}
	send_settings_clear(&over);
	*ret = s;
	return r;
}

static void
test_resume(void)
{
	static const char planted[] = "{\"url\":\"https://h/\",\"sso_app\":\"payroll\","
	    "\"cert\":\"0123456789ABCDEF0123456789ABCDEF01234567\",\"cacert\":\"/etc/evil.pem\","
	    "\"action\":\"urn:a\",\"allow_http_auth\":true}";
	static const char files[] = "{\"url\":\"https://h/\",\"user\":\"x\",\"password_file\":\"/root/pw\","
	    "\"proxy\":\"https://p/\",\"proxy_user\":\"y\",\"proxy_password_file\":\"/root/pw\","
	    "\"out\":\"/etc/passwd\",\"capath\":\"/etc/ssl/certs\"}";
	struct send_settings s;
	char msg[SV_MSG_MAX];

	is_int(resume(planted, 1, NULL, msg, &s), 0, "resume own: stored sso_app and cert are used");
	ok(s.sso_app != NULL && s.cert != NULL && s.cacert != NULL && s.allow_http_auth == 1,
	    "resume own: sso_app, cert, cacert and allow_http_auth kept");
	send_settings_clear(&s);

	is_int(resume(planted, 0, NULL, msg, &s), SV_ERR_USAGE, "resume foreign: refused");
	ok(strstr(msg, "sent by uid:5101: its --sso-app, --cert, --cacert would use your own") != NULL,
	    "resume foreign: names what it left out (%s)", msg);
	ok(s.sso_app == NULL && s.cert == NULL && s.cacert == NULL && s.allow_http_auth == SEND_UNSET,
	    "resume foreign: none of them is left in the settings");
	ok(s.action != NULL && strcmp(s.action, "urn:a") == 0, "resume foreign: the action is kept");
	send_settings_clear(&s);

	is_int(resume(planted, 0, (const char *const [][2]){ { "sso-app", "mine" }, { NULL, NULL } }, msg, &s),
	    SV_ERR_USAGE, "resume foreign: one restated, the others still missing");
	ok(strstr(msg, "its --cert, --cacert ") != NULL, "resume foreign: names the two left (%s)", msg);
	send_settings_clear(&s);

	is_int(resume(planted, 0, (const char *const [][2]){ { "sso-app", "mine" }, { "cert", "" },
	    { "cacert", "/etc/ssl/mine.pem" }, { NULL, NULL } }, msg, &s), 0,
	    "resume foreign: all restated ('' for none)");
	ok(s.sso_app != NULL && strcmp(s.sso_app, "mine") == 0 && s.cert == NULL &&
	    s.cacert != NULL && strcmp(s.cacert, "/etc/ssl/mine.pem") == 0,
	    "resume foreign: the resumer's own values, and no certificate");
	send_settings_clear(&s);

	is_int(resume("{\"url\":\"http://h/\",\"sso_app\":\"a\",\"allow_http_auth\":true}", 0,
	    (const char *const [][2]){ { "sso-app", "mine" }, { NULL, NULL } }, msg, &s), SV_ERR_USAGE,
	    "resume foreign: the sender's --allow-http-auth is not taken");
	ok(strstr(msg, "--allow-http-auth") != NULL, "resume foreign: the http refusal says so");
	send_settings_clear(&s);

	is_int(resume("{\"url\":\"https://h/\",\"action\":\"urn:x\"}", 0, NULL, msg, &s), 0,
	    "resume foreign: an anonymous message needs nothing");
	send_settings_clear(&s);

	is_int(resume(files, 1, NULL, msg, &s), SV_ERR_USAGE, "resume own: a user needs its password file");
	ok(strstr(msg, "keeps no password file: give --password-file FILE for --user x") != NULL,
	    "resume own: says which (%s)", msg);
	ok(s.password_file == NULL && s.proxy_password_file == NULL && s.out == NULL,
	    "resume own: password files and out are never taken from a message");
	send_settings_clear(&s);

	is_int(resume(files, 1, (const char *const [][2]){ { "password-file", "/home/me/pw" }, { NULL, NULL } },
	    msg, &s), SV_ERR_USAGE, "resume own: the proxy user needs its file too");
	ok(strstr(msg, "--proxy-password-file FILE for --proxy-user y") != NULL, "resume own: says so (%s)", msg);
	send_settings_clear(&s);

	is_int(resume(files, 1, (const char *const [][2]){ { "password-file", "/home/me/pw" },
	    { "proxy-password-file", "/home/me/ppw" }, { NULL, NULL } }, msg, &s), 0,
	    "resume own: with both files given");
	ok(s.user != NULL && strcmp(s.password_file, "/home/me/pw") == 0 && s.capath != NULL,
	    "resume own: the stored user and capath with the given file");
	send_settings_clear(&s);

	is_int(resume(files, 0, NULL, msg, &s), SV_ERR_USAGE, "resume foreign: files refused");
	ok(strstr(msg, "its --user/--password-file, --proxy-user/--proxy-password-file, --capath would") != NULL,
	    "resume foreign: names user, proxy user and capath (%s)", msg);
	send_settings_clear(&s);
}

int
main(void)
{
	test_envelope_check();
	test_envelope_wrap();
	test_faults();
	test_classify();
	test_settings_values();
	test_settings_json();
	test_settings_json_refused();
	test_merge_check();
	test_not_taken();
	test_resume();
	return done_testing();
}
