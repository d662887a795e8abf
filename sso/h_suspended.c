/* Placeholder handlers: replaced by the issue that builds them. */
#include "sso.h"

int
sso_h_suspended_add(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_suspended_list(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_suspended_show(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_suspended_get(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_suspended_update(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_suspended_remove(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}
