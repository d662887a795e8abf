/*
 * fuzz-soap: the sender's XML parsers (send/soap.c) on any bytes: a server's
 * response through send_fault_parse() and the verdict on it (send_classify()
 * as send.c calls it, under an HTTP status picked from the input's length),
 * a message file through send_envelope_check(), and a body fragment through
 * send_envelope_wrap().
 * Checks: a parsed fault has a code and a reason of one printable line of
 * at most 512 bytes; "not found" is the only other answer; a fault is a
 * fault whatever the status, and a 2xx without one is delivered; an envelope
 * found has the version asked for; what wrap makes is itself an envelope
 * of the version asked for.  No vault is needed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "send/send.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
line_check(const char *what, const char *s)
{
	size_t i, n;

	FUZZ_CHECK(s != NULL, "fault %s is NULL", what);
	n = strlen(s);
	FUZZ_CHECK(n <= 512, "fault %s of %zu bytes", what, n);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f,
		    "fault %s holds control character 0x%02x", what, (unsigned char)s[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *code = NULL, *reason = NULL, msg[SV_MSG_MAX];
	uint8_t *wrapped = NULL;
	size_t wlen = 0;
	int r, soap = 0, again = 0, want;

	static const long statuses[] = { 200, 202, 500, 400, 503, 0 };
	long status = statuses[size % 6];
	enum send_verdict v;

	r = send_fault_parse(data, size, &code, &reason);
	if (r == 0) {
		line_check("code", code);
		line_check("reason", reason);
	} else {
		FUZZ_CHECK(r == SV_ERR_NOT_FOUND, "send_fault_parse gave %d (%s)", r, sv_strerror(r));
	}
	free(code);
	free(reason);
	v = send_classify(0, status, r == 0, 0);
	if (r == 0)
		FUZZ_CHECK(v == SEND_V_FAULT, "a fault under HTTP %ld gave verdict %d", status, v);
	else if (status / 100 == 2)
		FUZZ_CHECK(v == SEND_V_DELIVERED, "HTTP %ld without a fault gave verdict %d", status, v);
	else
		FUZZ_CHECK(v == SEND_V_RETRY || v == SEND_V_KEEP,
		    "HTTP %ld without a fault gave verdict %d", status, v);

	/* the version asked for comes from the length: 0 (either), 11 or 12 */
	want = (int[]){ 0, 11, 12 }[size % 3];
	msg[0] = '\0';
	r = send_envelope_check(data, size, want, &soap, msg);
	if (r == 0)
		FUZZ_CHECK(soap == 11 || soap == 12, "envelope version %d", soap);
	if (r == 0 && want != 0)
		FUZZ_CHECK(soap == want, "asked for SOAP %d, found %d", want, soap);
	if (r != 0)
		fuzz_msg_check("send_envelope_check", r, msg);

	msg[0] = '\0';
	r = send_envelope_wrap(data, size, want, &wrapped, &wlen, msg);
	if (r == 0) {
		FUZZ_CHECK(send_envelope_check(wrapped, wlen, want == 0 ? 11 : want, &again,
		    msg) == 0, "wrap made an envelope that does not check: %s", msg);
		FUZZ_CHECK(again == (want == 0 ? 11 : want), "wrap made SOAP %d", again);
	} else {
		fuzz_msg_check("send_envelope_wrap", r, msg);
	}
	free(wrapped);
	return 0;
}
