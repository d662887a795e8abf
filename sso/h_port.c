/* Placeholder handlers: replaced by the issue that builds them. */
#include "sso.h"

int
sso_h_port_create(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_port_update(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_port_show(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_port_list(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_port_delete(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}
