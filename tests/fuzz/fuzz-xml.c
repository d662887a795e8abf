/*
 * fuzz-xml: the ENTSSO XML files (`ssovault app import FILE.xml`, `mapping
 * delete-many FILE.xml`) through the dispatch (SSO_OP_APP_IMPORT,
 * SSO_OP_MAPPING_DELETE_MANY), as the vault admin, on the filled fuzz
 * vault.  An input that begins with '<' is the file, imported with the
 * defaults; any other first byte chooses the options and the rest is the
 * file: bit 0 --update, 1 --strict, 2 --dry-run, 3-4 --accounts, 5 an
 * account map, 6 delete-many, 7 commit the import and export the vault.
 * Everything written is rolled back after each input (a committed import
 * by restoring the template vault).  A success must answer
 * {"applications": N, "mappings": M, ..., "warnings": [...]}, and an
 * export after a committed import, as principals and for Windows, must be
 * well-formed XML.
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>

#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct svbuf *reply;

/* `app export` of every app, as principals or for Windows: well-formed XML. */
static void
check_export(int windows)
{
	struct svbuf *q = fuzz_req(SSO_OP_APP_EXPORT);
	const uint8_t *p;
	xmlDocPtr doc;
	size_t n;

	fuzz_put_u32(q, 0);
	fuzz_put_cstr(q, windows ? "CONTOSO" : "");
	FUZZ_CHECK(fuzz_dispatch(NULL, svbuf_ptr(q), svbuf_len(q), reply) == 0,
	    "the export after an import failed");
	svbuf_free(q);
	FUZZ_CHECK(fuzz_reply_payload(reply) == 0 &&
	    svbuf_get_string_direct(reply, &p, &n) == 0, "malformed export reply");
	doc = xmlReadMemory((const char *)p, (int)n, "export.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	FUZZ_CHECK(doc != NULL, "the export is not well-formed XML");
	xmlFreeDoc(doc);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	if ((reply = svbuf_new_secure(0)) == NULL)
		fuzz_die("out of memory");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char map[] =
	    "{\"DOMAIN\\\\*\":\"example.com\",\"domain\\\\WindowsUserName\":\"uid:0\","
	    "\"x\":\"group:Domain Users\"}";
	uint8_t o = size > 0 && data[0] != '<' ? data[0] : 0;
	struct svbuf *q = fuzz_req((o & 0x40) ? SSO_OP_MAPPING_DELETE_MANY : SSO_OP_APP_IMPORT);
	const uint8_t *p;
	json_t *j;
	size_t n;
	int st, export;

	if (size > 0 && data[0] != '<') {
		data++;
		size--;
	}
	fuzz_put_str(q, data, size);
	if (o != 0) {
		if (svbuf_put_u8(q, (o & 0x40) ? 0 : o & 1) != 0 ||
		    svbuf_put_u8(q, (o >> 1) & 3) != 0 || svbuf_put_u8(q, (o >> 3) & 3) != 0)
			fuzz_die("out of memory");
		fuzz_put_str(q, (o & 0x20) ? map : "", (o & 0x20) ? sizeof(map) - 1 : 0);
	}
	/* reads (the export) see only what is committed */
	export = (o & 0xc0) == 0x80;
	if (export)
		fuzz.dirty = 1;
	st = export ? fuzz_dispatch_commit(NULL, svbuf_ptr(q), svbuf_len(q), reply) :
	    fuzz_dispatch(NULL, svbuf_ptr(q), svbuf_len(q), reply);
	svbuf_free(q);
	if (st == 0) {
		FUZZ_CHECK(fuzz_reply_payload(reply) == 0 &&
		    svbuf_get_string_direct(reply, &p, &n) == 0 &&
		    svbuf_len(reply) == 0, "malformed import reply");
		j = json_loadb((const char *)p, n, 0, NULL);
		FUZZ_CHECK(j != NULL && json_is_integer(json_object_get(j, "applications")) &&
		    json_is_integer(json_object_get(j, "mappings")) &&
		    json_is_array(json_object_get(j, "warnings")),
		    "the import reply is not {\"applications\": N, \"mappings\": M, ...}");
		json_decref(j);
		if (export) {
			check_export(0);
			check_export(1);
		}
	}
	fuzz_input_done();
	return 0;
}
