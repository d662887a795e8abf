/*
 * proto.c: the request and reply shapes that more than one side builds
 * (proto.h), so that no other file writes their bytes by hand.
 */
#include <stdio.h>

#include "proto/proto.h"

int
sso_proto_request(struct svbuf *req, enum sso_op op)
{
	svbuf_reset(req);
	return svbuf_put_u8(req, (uint8_t)op);
}

int
sso_proto_unlock(struct svbuf *req, enum sso_unlock_kind kind, const void *secret,
    size_t len)
{
	int r;

	if ((r = sso_proto_request(req, SSO_OP_UNLOCK)) != 0 ||
	    (r = svbuf_put_u8(req, (uint8_t)kind)) != 0 ||
	    (r = svbuf_put_string(req, secret, len)) != 0)
		return r;
	return 0;
}

int
sso_proto_reply(struct svbuf *reply, int status, const char *msg,
    const struct svbuf *payload)
{
	int r;

	svbuf_reset(reply);
	if ((r = svbuf_put_u32(reply, (uint32_t)status)) != 0 ||
	    (r = svbuf_put_cstring(reply, status == 0 ? "" : msg)) != 0)
		return r;
	if (status == 0 && payload != NULL)
		r = svbuf_put(reply, svbuf_ptr(payload), svbuf_len(payload));
	return r;
}

int
sso_proto_reply_peek(const struct svbuf *reply, char *out, size_t outlen)
{
	struct svbuf *b = svbuf_from(svbuf_ptr(reply), svbuf_len(reply));
	const uint8_t *m;
	uint32_t status = (uint32_t)SV_ERR_INTERNAL;
	size_t n;

	if (outlen > 0)
		out[0] = '\0';
	if (b == NULL)
		return SV_ERR_NOMEM;
	if (svbuf_get_u32(b, &status) == 0 && svbuf_get_string_direct(b, &m, &n) == 0) {
		if (outlen > 0)
			snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1),
			    (const char *)m);
	} else {
		status = (uint32_t)SV_ERR_INTERNAL;
	}
	svbuf_free(b);
	return (int)(int32_t)status;
}
