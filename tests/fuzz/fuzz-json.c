/*
 * fuzz-json: every JSON document that comes from outside, from one input.
 *
 * - credentials (`creds set --from-file`): parsed the way cli/cmd_creds.c
 *   parses the file (an object of label to string; the CLI gives jansson an
 *   allocator in secure memory, which is not what is fuzzed here and costs
 *   about ten system calls per node, so here jansson allocates through
 *   ASan, which checks more), sent as the CREDS_SET request the CLI builds, for
 *   the admin's own mapping of Payroll; when that succeeds, a CREDS_GET must
 *   give back every value as given, and the old values are put back;
 * - an app definition (APP_CREATE) and app changes (APP_UPDATE of Payroll);
 * - send port settings: PORT_CREATE and PORT_UPDATE through the dispatch,
 *   and send_settings_from_json() in send/, whose result must survive
 *   to_json -> from_json -> to_json unchanged;
 * - a suspended message's settings snapshot (SUSPENDED_ADD).
 * The writes of the dispatch are rolled back after each input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "fuzz-common.h"
#include "send/send.h"

#define FIELDS_MAX 64		/* as cli/cmd_creds.c */

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

/* Put Payroll's credentials back as fuzz_init() set them. */
static void
creds_restore(void)
{
	struct svbuf *q = fuzz_req(SSO_OP_CREDS_SET);

	fuzz_put_cstr(q, FUZZ_APP);
	fuzz_put_cstr(q, "");
	fuzz_put_u32(q, 3);
	fuzz_put_cstr(q, "username");
	fuzz_put_cstr(q, "alice");
	fuzz_put_cstr(q, "password");
	fuzz_put_cstr(q, "s3cret password");
	fuzz_put_cstr(q, "pin");
	fuzz_put_cstr(q, "1234");
	FUZZ_CHECK(fuzz_dispatch_commit(NULL, svbuf_ptr(q), svbuf_len(q), reply) == 0,
	    "cannot put Payroll's credentials back");
	svbuf_free(q);
}

/* Every label given must come back with its value. */
static void
creds_compare(json_t *j)
{
	struct svbuf *q = fuzz_req(SSO_OP_CREDS_GET);
	const uint8_t *p;
	const char *k;
	json_t *v;
	size_t n, i, found;
	uint32_t nf;
	uint8_t masked;
	const uint8_t *labels[FIELDS_MAX], *values[FIELDS_MAX];
	size_t llen[FIELDS_MAX], vlen[FIELDS_MAX];

	fuzz_put_cstr(q, FUZZ_APP);
	fuzz_put_cstr(q, "");
	FUZZ_CHECK(fuzz_dispatch_commit(NULL, svbuf_ptr(q), svbuf_len(q), reply) == 0,
	    "credentials just set cannot be read");
	svbuf_free(q);
	FUZZ_CHECK(fuzz_reply_payload(reply) == 0 &&
	    svbuf_get_string_direct(reply, &p, &n) == 0 &&
	    svbuf_get_string_direct(reply, &p, &n) == 0 &&
	    svbuf_get_string_direct(reply, &p, &n) == 0 &&
	    svbuf_get_u32(reply, &nf) == 0 && nf <= FIELDS_MAX, "malformed credentials reply");
	for (i = 0; i < nf; i++)
		FUZZ_CHECK(svbuf_get_string_direct(reply, &labels[i], &llen[i]) == 0 &&
		    svbuf_get_u8(reply, &masked) == 0 &&
		    svbuf_get_string_direct(reply, &values[i], &vlen[i]) == 0,
		    "malformed credentials reply");
	json_object_foreach(j, k, v) {
		found = 0;
		for (i = 0; i < nf; i++) {
			if (llen[i] != strlen(k) || strncasecmp((const char *)labels[i], k, llen[i]) != 0)
				continue;
			found = 1;
			FUZZ_CHECK(vlen[i] == json_string_length(v) &&
			    memcmp(values[i], json_string_value(v), vlen[i]) == 0,
			    "field '%s' came back changed (%zu bytes set, %zu read)", k,
			    json_string_length(v), vlen[i]);
		}
		FUZZ_CHECK(found, "field '%s' was set but is not read back", k);
	}
}

/* The credentials path, as `creds set --from-file` would take it. */
static void
creds(const uint8_t *data, size_t size)
{
	const char *labels[FIELDS_MAX], *k;
	size_t vlens[FIELDS_MAX], n = 0, i;
	const char *values[FIELDS_MAX];
	struct svbuf *q;
	json_error_t e;
	json_t *j, *v;
	int st, ok = 1;

	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL || !json_is_object(j) || json_object_size(j) == 0 ||
	    json_object_size(j) > FIELDS_MAX)
		ok = 0;
	if (ok) {
		json_object_foreach(j, k, v) {
			if (!json_is_string(v)) {
				ok = 0;
				break;
			}
			labels[n] = k;
			values[n] = json_string_value(v);
			vlens[n] = json_string_length(v);
			n++;
		}
	}
	if (ok) {
		q = fuzz_req(SSO_OP_CREDS_SET);
		fuzz_put_cstr(q, FUZZ_APP);
		fuzz_put_cstr(q, "");
		fuzz_put_u32(q, (uint32_t)n);
		for (i = 0; i < n; i++) {
			fuzz_put_cstr(q, labels[i]);
			fuzz_put_str(q, values[i], vlens[i]);
		}
		st = fuzz_dispatch_commit(NULL, svbuf_ptr(q), svbuf_len(q), reply);
		svbuf_free(q);
		if (st == 0) {
			creds_compare(j);
			creds_restore();
		}
	}
	json_decref(j);
}

static void
request(uint8_t op, const char *obj, const uint8_t *data, size_t size)
{
	struct svbuf *q = fuzz_req(op);

	if (obj != NULL)
		fuzz_put_cstr(q, obj);
	fuzz_put_str(q, data, size);
	if (op == SSO_OP_SUSPENDED_ADD) {
		fuzz_put_cstr(q, "<a/>");
		fuzz_put_cstr(q, "fuzz");
		fuzz_put_u32(q, 1);
	}
	(void)fuzz_dispatch(NULL, svbuf_ptr(q), svbuf_len(q), reply);
	svbuf_free(q);
}

/* send/'s settings parser: a parsed document must round-trip exactly. */
static void
settings(const uint8_t *data, size_t size)
{
	struct send_settings s, s2;
	char *text, *j1 = NULL, *j2 = NULL, msg[SV_MSG_MAX];
	int r;

	if ((text = malloc(size + 1)) == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	msg[0] = '\0';
	r = send_settings_from_json(text, &s, msg);
	if (r == 0) {
		FUZZ_CHECK(send_settings_to_json(&s, &j1) == 0, "settings cannot be written back");
		msg[0] = '\0';
		FUZZ_CHECK(send_settings_from_json(j1, &s2, msg) == 0,
		    "settings written back do not parse: %s: %s", msg, j1);
		FUZZ_CHECK(send_settings_to_json(&s2, &j2) == 0 && strcmp(j1, j2) == 0,
		    "settings change on a round trip: %s -> %s", j1, j2 != NULL ? j2 : "(null)");
		send_settings_clear(&s2);
		free(j1);
		free(j2);
		send_settings_clear(&s);
	} else {
		fuzz_msg_check("send_settings_from_json", r, msg);
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	creds(data, size);
	request(SSO_OP_APP_CREATE, NULL, data, size);
	request(SSO_OP_APP_UPDATE, FUZZ_APP, data, size);
	request(SSO_OP_PORT_CREATE, "fuzzport", data, size);
	request(SSO_OP_PORT_UPDATE, FUZZ_PORT, data, size);
	request(SSO_OP_SUSPENDED_ADD, NULL, data, size);
	settings(data, size);
	fuzz_input_done();
	return 0;
}
