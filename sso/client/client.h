/*
 * client.h: what the files of the client library share (internal to
 * sso/client/): the handle, and the plumbing of one request: begin it,
 * append its fields to h->req, call, read the reply's payload from h->reply.
 */
#ifndef SSOVAULT_CLIENT_H
#define SSOVAULT_CLIENT_H

#include <limits.h>

#include "ssovault/ssovault.h"
#include "ops/ops.h"

struct ssovault {
	int daemon;
	char where[PATH_MAX];
	struct sso_service *svc;	/* embedded */
	struct sso_caller caller;
	int sock;			/* daemon: connected lazily */
	size_t frame_max;
	struct svbuf *req;
	struct svbuf *reply;
	char msg[SV_MSG_MAX];
};
/* Start a request for op in h->req. */
int sso_client_begin(struct ssovault *h, enum sso_op op) SV_WUR;
/* Run it; on success h->reply holds the payload, unread; else h->msg says why. */
int sso_client_call(struct ssovault *h, int pass_fd) SV_WUR;
/* The payload is all read: SV_ERR_PROTOCOL if bytes are left. */
int sso_client_reply_end(struct ssovault *h) SV_WUR;
/* A payload of one string (malloc'd into *ret, or dropped if ret is NULL). */
int sso_client_reply_string(struct ssovault *h, char **ret) SV_WUR;
/* Run a request whose reply has no payload. */
int sso_client_simple(struct ssovault *h) SV_WUR;
/* Append s, or "" for NULL. */
int sso_client_nullstr(struct svbuf *b, const char *s) SV_WUR;
/* 0 once libssl is loaded (ssl-load.c), else SV_ERR_CRYPTO with msg saying why */
int sso_client_ssl_need(char *msg) SV_WUR;

#endif
