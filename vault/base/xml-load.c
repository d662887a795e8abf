/*
 * libxml2, loaded at the first XML parsed or written.
 *
 * Only ENTSSO import and export (sso/ops) and the SOAP envelope and faults
 * of a send (send/soap.c) use libxml2; linking it made every `ssovault`
 * process map and relocate it and ICU's data and libstdc++ behind it, a
 * `creds get` through ssovaultd included (issue 15; docs/decisions.md, "The
 * CLI loads libpq, libxml2 and ICU when a command needs them").  Those
 * rooms are built against libxml2's headers; the functions they call are
 * defined here and forward to libxml2.so.2, opened at the first call.  It
 * lives in base/ because both rooms see base/ and nothing else in common.
 * A function they start to call is added to the list, or the link fails.
 */
#include <stddef.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>

#include "base/libload.h"

#ifndef BASE_XML_SONAME
#define BASE_XML_SONAME "libxml2.so.2"
#endif

#define XML_FUNCS(F, V) \
	F(xmlParserCtxtPtr, xmlNewParserCtxt, (void), (), NULL) \
	V(xmlFreeParserCtxt, (xmlParserCtxtPtr c), (c)) \
	F(xmlDocPtr, xmlCtxtReadMemory, (xmlParserCtxtPtr c, const char *b, int n, \
	    const char *u, const char *e, int o), (c, b, n, u, e, o), NULL) \
	F(xmlErrorPtr, xmlCtxtGetLastError, (void *c), (c), NULL) \
	V(xmlFreeDoc, (xmlDocPtr d), (d)) \
	F(xmlNodePtr, xmlDocGetRootElement, (const xmlDoc *d), (d), NULL) \
	F(long, xmlGetLineNo, (const xmlNode *n), (n), -1) \
	F(xmlChar *, xmlNodeGetContent, (const xmlNode *n), (n), NULL) \
	F(xmlChar *, xmlNodeGetLang, (const xmlNode *n), (n), NULL) \
	F(int, xmlStrcasecmp, (const xmlChar *a, const xmlChar *b), (a, b), a == b ? 0 : 1) \
	F(xmlBufferPtr, xmlBufferCreate, (void), (), NULL) \
	V(xmlBufferFree, (xmlBufferPtr b), (b)) \
	F(const xmlChar *, xmlBufferContent, (const xmlBuffer *b), (b), NULL) \
	F(xmlTextWriterPtr, xmlNewTextWriterMemory, (xmlBufferPtr b, int c), (b, c), NULL) \
	V(xmlFreeTextWriter, (xmlTextWriterPtr w), (w)) \
	F(int, xmlTextWriterSetIndent, (xmlTextWriterPtr w, int i), (w, i), -1) \
	F(int, xmlTextWriterSetIndentString, (xmlTextWriterPtr w, const xmlChar *s), (w, s), -1) \
	F(int, xmlTextWriterStartDocument, (xmlTextWriterPtr w, const char *v, const char *e, \
	    const char *s), (w, v, e, s), -1) \
	F(int, xmlTextWriterEndDocument, (xmlTextWriterPtr w), (w), -1) \
	F(int, xmlTextWriterWriteComment, (xmlTextWriterPtr w, const xmlChar *c), (w, c), -1) \
	F(int, xmlTextWriterStartElement, (xmlTextWriterPtr w, const xmlChar *n), (w, n), -1) \
	F(int, xmlTextWriterEndElement, (xmlTextWriterPtr w), (w), -1) \
	F(int, xmlTextWriterWriteElement, (xmlTextWriterPtr w, const xmlChar *n, \
	    const xmlChar *c), (w, n, c), -1) \
	F(int, xmlTextWriterWriteAttribute, (xmlTextWriterPtr w, const xmlChar *n, \
	    const xmlChar *c), (w, n, c), -1)

LIBLOAD_LIBRARY(XML_FUNCS, BASE_XML_SONAME, "libxml2", "libxml2", SV_ERR_INTERNAL)

int
libload_xml_need(char *msg)
{
	return libload_need(&lib, msg);
}

/*
 * libxml2's xmlFree is a variable, its deallocator: what libxml2 returned
 * is freed by the one libxml2 has (nothing else comes here).  It is read
 * in the library itself: a program that also links libxml2 (a fuzz
 * target) makes libxml2 use this variable, whose value must then not lead
 * back here.
 */
static void
xml_free(void *p)
{
	xmlFreeFunc *f;

	if (p != NULL && (f = libload_data(&lib, "xmlFree")) != NULL)
		(*f)(p);
}

xmlFreeFunc xmlFree = xml_free;
