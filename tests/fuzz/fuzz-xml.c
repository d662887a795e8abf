/*
 * fuzz-xml: the ENTSSO XML import (`ssovault app import FILE.xml`) through
 * the dispatch (SSO_OP_APP_IMPORT), as the vault admin, on the filled fuzz
 * vault: the input is the file.  Everything an import writes is rolled back
 * after each input.  A successful import must answer
 * {"applications": N, "mappings": M}.
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct svbuf *reply;

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
	struct svbuf *q = fuzz_req(SSO_OP_APP_IMPORT);
	const uint8_t *p;
	json_t *j;
	size_t n;
	int st;

	fuzz_put_str(q, data, size);
	st = fuzz_dispatch(NULL, svbuf_ptr(q), svbuf_len(q), reply);
	svbuf_free(q);
	if (st == 0) {
		FUZZ_CHECK(fuzz_reply_payload(reply) == 0 &&
		    svbuf_get_string_direct(reply, &p, &n) == 0 &&
		    svbuf_len(reply) == 0, "malformed import reply");
		j = json_loadb((const char *)p, n, 0, NULL);
		FUZZ_CHECK(j != NULL && json_is_integer(json_object_get(j, "applications")) &&
		    json_is_integer(json_object_get(j, "mappings")),
		    "the import reply is not {\"applications\": N, \"mappings\": M}");
		json_decref(j);
	}
	fuzz_input_done();
	return 0;
}
