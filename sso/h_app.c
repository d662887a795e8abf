/* Placeholder handlers: replaced by the issue that builds them. */
#include "sso.h"

int
sso_h_app_create(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_app_list(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_app_show(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_app_update(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_app_enable(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_app_disable(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_app_delete(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_app_import(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_mapping_create(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_mapping_list(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_mapping_enable(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_mapping_disable(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_mapping_delete(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_creds_set(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}

int
sso_h_creds_get(struct sso_ctx *x, struct svbuf *req)
{
	return sv_fail(x->msg, SV_ERR_INTERNAL, "not implemented yet");
}
