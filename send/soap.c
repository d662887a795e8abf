/*
 * SOAP envelopes and faults, with libxml2.  Messages are checked before
 * they are taken: a whole envelope must be well-formed UTF-8 XML whose root
 * is a SOAP 1.1 or 1.2 Envelope; a body fragment is wrapped in an envelope
 * and the result checked the same way.  Responses are searched for a fault.
 * Every parse runs without network access, without DTDs (SOAP forbids them,
 * and with them go external and expanding entities) and without printing:
 * libxml2's errors are read back from the parser context.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/libload.h"
#include "send/send.h"

#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
#define TEXT_MAX 512

/* Keep libxml2's first error of a parse: the later ones follow from it. */
struct first_error {
	int line;
	char text[200];
};

static void
on_error(void *data, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = data;
	struct first_error *fe = ctxt != NULL ? ctxt->_private : NULL;
	size_t n;

	if (fe == NULL || fe->text[0] != '\0' || e == NULL || e->level < XML_ERR_ERROR)
		return;
	fe->line = e->line;
	snprintf(fe->text, sizeof(fe->text), "%s", e->message != NULL ? e->message : "malformed");
	n = strlen(fe->text);
	while (n > 0 && (fe->text[n - 1] == '\n' || fe->text[n - 1] == ' '))
		fe->text[--n] = '\0';
}

/* Parse data; on failure describe libxml2's first error in msg. */
static int
parse(const uint8_t *data, size_t len, xmlDocPtr *ret, char *msg)
{
	struct first_error fe;
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	int r;

	if (len == 0)
		return sv_fail(msg, SV_ERR_BAD_FORMAT, "empty, not XML");
	if (len > INT_MAX)
		return sv_fail(msg, SV_ERR_TOO_LARGE, "too large to parse");
	if (memchr(data, '\0', len) != NULL)
		return sv_fail(msg, SV_ERR_BAD_FORMAT,
		    "holds NUL bytes (UTF-16 or binary?): SOAP messages are sent as UTF-8");
	if ((r = libload_xml_need(msg)) != 0)
		return r;
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		return SV_ERR_NOMEM;
	memset(&fe, 0, sizeof(fe));
	ctxt->_private = &fe;
	ctxt->sax->serror = on_error;
	doc = xmlCtxtReadMemory(ctxt, (const char *)data, (int)len, NULL, NULL, PARSE_OPTIONS);
	if (doc == NULL || !ctxt->wellFormed) {
		sv_fail(msg, SV_ERR_BAD_FORMAT, "not well-formed XML: line %d: %s", fe.line,
		    fe.text[0] != '\0' ? fe.text : "malformed");
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		return SV_ERR_BAD_FORMAT;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		return sv_fail(msg, SV_ERR_BAD_FORMAT, "a SOAP message must not contain a DTD");
	}
	*ret = doc;
	return 0;
}

static int
is_utf8_name(const char *enc)
{
	return enc == NULL || strcasecmp(enc, "UTF-8") == 0 || strcasecmp(enc, "UTF8") == 0;
}

static int
named(xmlNodePtr n, const char *local, const char *ns)
{
	if (n == NULL || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, local) != 0)
		return 0;
	if (ns == NULL)
		return 1;
	return n->ns != NULL && n->ns->href != NULL && strcmp((const char *)n->ns->href, ns) == 0;
}

static xmlNodePtr
first_element(xmlNodePtr n)
{
	for (n = n != NULL ? n->children : NULL; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

static xmlNodePtr
child(xmlNodePtr parent, const char *local, const char *ns)
{
	xmlNodePtr n;

	for (n = parent != NULL ? parent->children : NULL; n != NULL; n = n->next)
		if (named(n, local, ns))
			return n;
	return NULL;
}

/* The SOAP version of an Envelope root, or 0. */
static int
envelope_version(xmlNodePtr root)
{
	if (named(root, "Envelope", SEND_SOAP11_NS))
		return 11;
	if (named(root, "Envelope", SEND_SOAP12_NS))
		return 12;
	return 0;
}

static const char *
ns_of(int soap)
{
	return soap == 12 ? SEND_SOAP12_NS : SEND_SOAP11_NS;
}

/* Check a parsed document: an envelope of the right version with a Body. */
static int
check_doc(xmlDocPtr doc, int soap, int *ret_soap, char *msg)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	int v;

	if (!is_utf8_name((const char *)doc->encoding))
		return sv_fail(msg, SV_ERR_INVALID,
		    "declares encoding %.40s: SOAP messages are sent as UTF-8 (convert it with iconv)",
		    (const char *)doc->encoding);
	if ((v = envelope_version(root)) == 0) {
		if (named(root, "Envelope", NULL))
			return sv_fail(msg, SV_ERR_INVALID,
			    "the Envelope's namespace is %.100s, neither SOAP 1.1 nor SOAP 1.2",
			    root->ns != NULL && root->ns->href != NULL ?
			    (const char *)root->ns->href : "(none)");
		return sv_fail(msg, SV_ERR_INVALID,
		    "not a SOAP envelope (the root element is <%.60s>): "
		    "add --body to wrap it as a body fragment",
		    root != NULL ? (const char *)root->name : "?");
	}
	if (soap != 0 && soap != v)
		return sv_fail(msg, SV_ERR_INVALID,
		    "a SOAP %s envelope, but --soap %s was asked", v == 12 ? "1.2" : "1.1",
		    soap == 12 ? "1.2" : "1.1");
	if (child(root, "Body", ns_of(v)) == NULL)
		return sv_fail(msg, SV_ERR_INVALID, "the SOAP envelope has no Body");
	*ret_soap = v;
	return 0;
}

int
send_envelope_check(const uint8_t *data, size_t len, int soap, int *ret_soap, char *msg)
{
	xmlDocPtr doc = NULL;
	int r, v = 0;

	if ((r = parse(data, len, &doc, msg)) != 0)
		return r;
	r = check_doc(doc, soap, &v, msg);
	xmlFreeDoc(doc);
	if (r == 0)
		*ret_soap = v;
	return r;
}

/*
 * Skip a BOM and an XML declaration at the start of a fragment (keeping
 * what follows, so that line numbers stay those of the file).  A declared
 * encoding other than UTF-8 is refused.
 */
static int
skip_declaration(const uint8_t *p, size_t len, size_t *ret_off, char *msg)
{
	const char *end, *enc;
	char decl[256], q;
	size_t off = 0, n;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	if (len - off < 6 || memcmp(p + off, "<?xml", 5) != 0 ||
	    strchr(" \t\r\n", p[off + 5]) == NULL) {
		*ret_off = off;
		return 0;
	}
	n = len - off < sizeof(decl) - 1 ? len - off : sizeof(decl) - 1;
	memcpy(decl, p + off, n);
	decl[n] = '\0';
	if ((end = strstr(decl, "?>")) == NULL)
		return sv_fail(msg, SV_ERR_BAD_FORMAT,
		    "not well-formed XML: line 1: the XML declaration is not closed");
	if ((enc = strstr(decl, "encoding")) != NULL && enc < end) {
		enc += strlen("encoding");
		while (*enc == ' ' || *enc == '=')
			enc++;
		q = *enc++;
		n = strcspn(enc, "'\"");
		if ((q == '"' || q == '\'') && enc[n] == q) {
			char name[64];

			snprintf(name, sizeof(name), "%.*s", (int)(n < 63 ? n : 63), enc);
			if (!is_utf8_name(name))
				return sv_fail(msg, SV_ERR_INVALID,
				    "declares encoding %s: SOAP messages are sent as UTF-8 "
				    "(convert it with iconv)", name);
		}
	}
	*ret_off = off + (size_t)(end + 2 - decl);
	return 0;
}

/* 1 if the Body holds nothing but whitespace, comments and elements; 0 if text. */
static int
body_content_ok(xmlNodePtr body, int *ret_elements)
{
	xmlNodePtr n;
	const xmlChar *c;

	*ret_elements = 0;
	for (n = body->children; n != NULL; n = n->next) {
		if (n->type == XML_ELEMENT_NODE)
			(*ret_elements)++;
		if (n->type != XML_TEXT_NODE && n->type != XML_CDATA_SECTION_NODE)
			continue;
		for (c = n->content; c != NULL && *c != '\0'; c++)
			if (strchr(" \t\r\n", *c) == NULL)
				return 0;
	}
	return 1;
}

int
send_envelope_wrap(const uint8_t *data, size_t len, int soap, uint8_t **ret,
    size_t *ret_len, char *msg)
{
	char head[256], m[SV_MSG_MAX];
	static const char tail[] = "</soap:Body></soap:Envelope>\n";
	xmlDocPtr doc = NULL;
	xmlNodePtr body, first;
	uint8_t *out = NULL;
	size_t off = 0, hlen, n;
	int r, v = 0, elements = 0;

	if (soap == 0)
		soap = 11;
	if ((r = skip_declaration(data, len, &off, msg)) != 0)
		return r;
	hlen = (size_t)snprintf(head, sizeof(head),
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<soap:Envelope xmlns:soap=\"%s\"><soap:Body>", ns_of(soap));
	if (len - off > SEND_MAX_MESSAGE)
		return sv_fail(msg, SV_ERR_TOO_LARGE, "too large: at most %u bytes",
		    SEND_MAX_MESSAGE);
	n = hlen + (len - off) + sizeof(tail) - 1;
	if ((out = malloc(n)) == NULL)
		return SV_ERR_NOMEM;
	memcpy(out, head, hlen);
	memcpy(out + hlen, data + off, len - off);
	memcpy(out + hlen + (len - off), tail, sizeof(tail) - 1);
	m[0] = '\0';
	if ((r = parse(out, n, &doc, m)) != 0) {
		sv_fail(msg, r, "the body fragment is %s", m);
		goto out;
	}
	if ((r = check_doc(doc, soap, &v, msg)) != 0)
		goto out;
	body = child(xmlDocGetRootElement(doc), "Body", ns_of(soap));
	if (!body_content_ok(body, &elements)) {
		r = sv_fail(msg, SV_ERR_INVALID,
		    "the body fragment has text outside elements: give one or more elements");
		goto out;
	}
	if (elements == 0) {
		r = sv_fail(msg, SV_ERR_INVALID, "the body fragment is empty");
		goto out;
	}
	first = first_element(body);
	if (envelope_version(first) != 0) {
		r = sv_fail(msg, SV_ERR_INVALID,
		    "already a whole SOAP envelope: send it without --body");
		goto out;
	}
	*ret = out;
	*ret_len = n;
	out = NULL;
out:
	xmlFreeDoc(doc);
	free(out);
	return r;
}

/* --- faults ---------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t want, i;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0 && p[0] >= 0xc2)
		want = 2;
	else if ((p[0] & 0xf0) == 0xe0)
		want = 3;
	else if ((p[0] & 0xf8) == 0xf0 && p[0] <= 0xf4)
		want = 4;
	else
		return 0;
	if (want > n)
		return 0;
	for (i = 1; i < want; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return want;
}

/*
 * One printable line from text: runs of whitespace and control characters
 * (C0, DEL, C1) become one space, invalid bytes '?', cut at TEXT_MAX bytes
 * on a character boundary with "..." after.
 */
static char *
one_line(const char *text)
{
	const unsigned char *p = (const unsigned char *)(text != NULL ? text : "");
	size_t n = strlen((const char *)p), i = 0, o = 0, k;
	char *out = malloc(TEXT_MAX + 4);
	int space = 0;

	if (out == NULL)
		return NULL;
	while (i < n) {
		k = utf8_len(p + i, n - i);
		if (k == 1 && (p[i] < 0x20 || p[i] == 0x7f || p[i] == ' ')) {
			space = o > 0;
			i++;
			continue;
		}
		if (k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			space = o > 0;
			i += 2;
			continue;
		}
		if (o + space + (k == 0 ? 1 : k) > TEXT_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (space)
			out[o++] = ' ';
		space = 0;
		if (k == 0) {
			out[o++] = '?';
			i++;
		} else {
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
		}
	}
	out[o] = '\0';
	return out;
}

static char *
node_line(xmlNodePtr n)
{
	xmlChar *c = n != NULL ? xmlNodeGetContent(n) : NULL;
	char *s = one_line((const char *)c);

	xmlFree(c);
	return s;
}

/* SOAP 1.2: Code/Value, and the Values of nested Subcodes, joined by '/'. */
static char *
code12(xmlNodePtr fault)
{
	xmlNodePtr code = child(fault, "Code", SEND_SOAP12_NS), sub;
	char buf[TEXT_MAX + 1], *part;
	size_t o = 0;

	buf[0] = '\0';
	for (sub = code; sub != NULL; sub = child(sub, "Subcode", SEND_SOAP12_NS)) {
		if ((part = node_line(child(sub, "Value", SEND_SOAP12_NS))) == NULL)
			return NULL;
		if (*part != '\0' && o < sizeof(buf) - 1)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", o > 0 ? "/" : "", part);
		free(part);
		if (o >= sizeof(buf))
			o = sizeof(buf) - 1;
	}
	return one_line(buf);
}

/* SOAP 1.2: the English Reason/Text if there is one, else the first. */
static char *
reason12(xmlNodePtr fault)
{
	xmlNodePtr reason = child(fault, "Reason", SEND_SOAP12_NS), n, pick = NULL;
	xmlChar *lang;

	for (n = reason != NULL ? reason->children : NULL; n != NULL; n = n->next) {
		if (!named(n, "Text", SEND_SOAP12_NS))
			continue;
		if (pick == NULL)
			pick = n;
		lang = xmlNodeGetLang(n);
		if (lang != NULL && strncasecmp((const char *)lang, "en", 2) == 0) {
			xmlFree(lang);
			pick = n;
			break;
		}
		xmlFree(lang);
	}
	return node_line(pick);
}

int
send_fault_parse(const uint8_t *data, size_t len, char **ret_code, char **ret_reason)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, body, fault;
	char *code = NULL, *reason = NULL;
	int v, r = SV_ERR_NOT_FOUND;

	if (parse(data, len, &doc, NULL) != 0)
		return SV_ERR_NOT_FOUND;
	root = xmlDocGetRootElement(doc);
	if ((v = envelope_version(root)) == 0 ||
	    (body = child(root, "Body", ns_of(v))) == NULL ||
	    (fault = first_element(body)) == NULL || !named(fault, "Fault", ns_of(v)))
		goto out;
	if (v == 11) {
		/* faultcode and faultstring are unqualified; some servers qualify them */
		code = node_line(child(fault, "faultcode", NULL));
		reason = node_line(child(fault, "faultstring", NULL));
	} else {
		code = code12(fault);
		reason = reason12(fault);
	}
	if (code == NULL || reason == NULL) {
		r = SV_ERR_NOMEM;
		goto out;
	}
	*ret_code = code;
	*ret_reason = reason;
	code = reason = NULL;
	r = 0;
out:
	free(code);
	free(reason);
	xmlFreeDoc(doc);
	return r;
}

/* --- retry classification --------------------------------------------- */

/* Transfer errors that retrying cannot cure. */
static const CURLcode hopeless[] = {
	CURLE_UNSUPPORTED_PROTOCOL,
	CURLE_URL_MALFORMAT,
	CURLE_NOT_BUILT_IN,
	CURLE_OUT_OF_MEMORY,
	CURLE_ABORTED_BY_CALLBACK,
	CURLE_BAD_FUNCTION_ARGUMENT,
	CURLE_TOO_MANY_REDIRECTS,
	CURLE_UNKNOWN_OPTION,
	CURLE_SSL_ENGINE_NOTFOUND,
	CURLE_SSL_CERTPROBLEM,		/* our client certificate is unusable */
	CURLE_FILESIZE_EXCEEDED,
	CURLE_SSL_CACERT_BADFILE,
};

static int
retryable_status(long st)
{
	return st == 401 || st == 403 || st == 407 || st == 408 || st == 429 ||
	    (st >= 500 && st <= 599);
}

enum send_verdict
send_classify(int curl_code, long http_status, int fault, int too_large)
{
	size_t i;

	if (too_large) {
		if (http_status >= 200 && http_status <= 299)
			return SEND_V_UNREAD;
		return retryable_status(http_status) ? SEND_V_RETRY : SEND_V_KEEP;
	}
	if (curl_code != 0) {
		for (i = 0; i < sizeof(hopeless) / sizeof(hopeless[0]); i++)
			if (curl_code == (int)hopeless[i])
				return SEND_V_KEEP;
		return SEND_V_RETRY;
	}
	if (fault)
		return SEND_V_FAULT;
	if (http_status >= 200 && http_status <= 299)
		return SEND_V_DELIVERED;
	return retryable_status(http_status) ? SEND_V_RETRY : SEND_V_KEEP;
}
