/* Placeholder handlers: replaced by the issue that builds them. */
#include "sso.h"

int
sso_h_cert_import(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_cert_list(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_cert_show(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_cert_export(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_cert_delete(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_cert_grant(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_cert_revoke(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_cert_fetch(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int sso_cert_users(struct sso_ctx *x, json_t **ret_users);

int
sso_cert_users(struct sso_ctx *x, json_t **ret_users)
{
	return SV_ERR_NOT_FOUND;
}
