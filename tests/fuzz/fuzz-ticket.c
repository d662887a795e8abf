/*
 * fuzz-ticket: ticket redemption (ENTSSO RedeemTicket and
 * ValidateAndRedeemTicket) with mutated tokens, through the dispatch.
 *
 * Input: u8 flags | rest.
 *   bit 0     0: rest is the token text as sent (any bytes, NULs included);
 *             1: rest edits a real token made at set-up: pairs (position,
 *                byte) overwrite it, and an odd last byte truncates it
 *   bit 1-2   the app: Payroll (single-use), Reuse (validates, reusable),
 *             Ops (a group app), or Payroll redeemed by a stranger
 *   bit 3-4   the sender named: none, the issuer's principal, its uid, another
 *   bit 5     edit the expired token instead of the fresh one
 * Checks: a redemption succeeds only for the bytes of the fresh token (base64
 * may spell them more than one way), never for the expired one, and only
 * with a sender where the app validates; its reply holds the mapping's
 * external user.  An unedited fresh token redeems and an unedited expired
 * one is refused as expired: the harness really reaches the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz-common.h"

#define TOKEN_MAX 8192

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct svbuf *reply;
static uint8_t fresh_bin[TOKEN_MAX];
static size_t fresh_len;
static char uid_principal[32];

/* The binary behind "sv1." + base64url; 0 if text is not one. */
static size_t
token_bin(const char *text, size_t n, uint8_t *out)
{
	size_t len = 0;
	const char *end = NULL;

	if (n < 4 || memcmp(text, "sv1.", 4) != 0)
		return 0;
	if (sodium_base642bin(out, TOKEN_MAX, text + 4, n - 4, NULL, &len, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || end != text + n)
		return 0;
	return len;
}

static void
seed_token(const char *name, uint8_t flags, const char *token)
{
	size_t n = strlen(token);
	uint8_t *p = malloc(n + 1);

	if (p == NULL)
		fuzz_die("out of memory");
	p[0] = flags;
	memcpy(p + 1, token, n);
	fuzz_seed(name, p, n + 1);
	free(p);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t edits[] = { 0x01, 7, 'A', 9, 'z' };
	static const uint8_t expired[] = { 0x21 };
	static const uint8_t fresh[] = { 0x01 };
	static const uint8_t cut[] = { 0x01, 40 };

	(void)argc;
	(void)argv;
	fuzz_init();
	if ((reply = svbuf_new_secure(0)) == NULL)
		fuzz_die("out of memory");
	fresh_len = token_bin(fuzz.ticket, strlen(fuzz.ticket), fresh_bin);
	if (fresh_len == 0)
		fuzz_die("the set-up ticket '%s' does not decode", fuzz.ticket);
	snprintf(uid_principal, sizeof(uid_principal), "uid:%lu", (unsigned long)fuzz.admin.uid);
	seed_token("fresh-payroll", 0x00, fuzz.ticket);
	seed_token("fresh-reuse-sender", 0x02 | 0x08, fuzz.ticket);
	seed_token("fresh-reuse-uid", 0x02 | 0x10, fuzz.ticket);
	seed_token("fresh-group", 0x04, fuzz.ticket);
	seed_token("fresh-stranger", 0x06, fuzz.ticket);
	seed_token("fresh-wrong-sender", 0x18, fuzz.ticket);
	seed_token("expired", 0x00, fuzz.old_ticket);
	fuzz_seed("edit-fresh", fresh, sizeof(fresh));
	fuzz_seed("edit-expired", expired, sizeof(expired));
	fuzz_seed("edit-some", edits, sizeof(edits));
	fuzz_seed("edit-cut", cut, sizeof(cut));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const apps[] = { FUZZ_APP, FUZZ_APP_REUSE, FUZZ_APP_GROUP, FUZZ_APP };
	static const char *const externals[] = { "alice", "alice@reuse", "ops-account", "alice" };
	static uint8_t bin[TOKEN_MAX];
	const struct sso_caller *caller = &fuzz.admin;
	const char *sender, *base;
	struct svbuf *q;
	char text[TOKEN_MAX], *ext = NULL;
	size_t n, i, blen;
	unsigned app;
	uint8_t flags;
	int st, edited = 0;

	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	app = (flags >> 1) & 3;
	if (app == 3)
		caller = &fuzz.stranger;
	switch ((flags >> 3) & 3) {
	case 0:
		sender = "";
		break;
	case 1:
		sender = fuzz.self;
		break;
	case 2:
		sender = uid_principal;
		break;
	default:
		sender = "user:nobody";
		break;
	}
	base = (flags & 0x20) ? fuzz.old_ticket : fuzz.ticket;
	if (flags & 1) {
		n = strlen(base);
		memcpy(text, base, n);
		for (i = 0; i + 1 < size; i += 2) {
			text[data[i] % n] = (char)data[i + 1];
			edited = 1;
		}
		if (i < size) {
			n = data[i] % n;
			edited = 1;
		}
	} else {
		n = size < sizeof(text) ? size : sizeof(text);
		memcpy(text, data, n);
		edited = 1;
	}
	q = fuzz_req(SSO_OP_TICKET_REDEEM);
	fuzz_put_cstr(q, apps[app]);
	fuzz_put_str(q, text, n);
	fuzz_put_cstr(q, sender);
	st = fuzz_dispatch(caller, svbuf_ptr(q), svbuf_len(q), reply);
	svbuf_free(q);

	blen = memchr(text, '\0', n) == NULL ? token_bin(text, n, bin) : 0;
	if (st == 0) {
		FUZZ_CHECK(blen == fresh_len && memcmp(bin, fresh_bin, blen) == 0,
		    "a ticket that is not the fresh one was redeemed (flags 0x%02x)", flags);
		FUZZ_CHECK(app != 1 || sender[0] != '\0',
		    "redeemed for a validating app without a sender");
		FUZZ_CHECK(strcmp(sender, "user:nobody") != 0, "redeemed naming the wrong sender");
		FUZZ_CHECK(fuzz_reply_payload(reply) == 0 &&
		    svbuf_get_string_direct(reply, (const uint8_t **)&ext, &n) == 0 &&
		    svbuf_get_string_direct(reply, (const uint8_t **)&ext, &n) == 0 &&
		    svbuf_get_string_direct(reply, (const uint8_t **)&ext, &n) == 0 &&
		    n == strlen(externals[app]) && memcmp(ext, externals[app], n) == 0,
		    "the redemption's reply does not hold the mapping's credentials");
	}
	if (!edited && caller == &fuzz.admin && app == 0 && sender[0] == '\0') {
		if (base == fuzz.ticket)
			FUZZ_CHECK(st == 0, "the fresh ticket was refused (%d: %s)", st, sv_strerror(st));
		else
			FUZZ_CHECK(st == SV_ERR_TICKET_EXPIRED,
			    "the expired ticket gave %d (%s), not 'expired'", st, sv_strerror(st));
	}
	fuzz_input_done();
	return 0;
}
