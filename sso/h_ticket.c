/* Placeholder handlers: replaced by the issue that builds them. */
#include "sso.h"

int
sso_h_ticket_issue(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_ticket_redeem(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_ticket_settings(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}
