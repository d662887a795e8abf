/*
 * proto: what crosses the socket between a client and ssovaultd, written
 * once (docs/protocol.md).  The operation numbers, the unlock kinds, and the
 * few request and reply shapes that more than one side builds: the daemon
 * (its start-up unlock, its refusals before the dispatch), the dispatch and
 * the client library all use these and no literal bytes of their own.
 * Frames themselves (length, version, a passed descriptor) are wire.h.
 */
#ifndef SSOVAULT_PROTO_H
#define SSOVAULT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ssovault/sverr.h"
#include "base/svbuf.h"

/* Operations.  The values cross the wire: never renumber. */
enum sso_op {
	SSO_OP_STATUS = 1,
	SSO_OP_UNLOCK = 2,
	SSO_OP_LOCK = 3,
	SSO_OP_SLOT_LIST = 4,
	SSO_OP_SLOT_ADD = 5,
	SSO_OP_SLOT_REMOVE = 6,
	SSO_OP_STORE_COPY = 7,
	SSO_OP_SECRET_BACKUP = 10,
	SSO_OP_SECRET_RESTORE = 11,
	SSO_OP_SECRET_ROTATE = 12,
	SSO_OP_BACKUP = 13,
	SSO_OP_RESTORE = 14,
	SSO_OP_ROLE_LIST = 20,
	SSO_OP_ROLE_ADD = 21,
	SSO_OP_ROLE_REMOVE = 22,
	SSO_OP_APP_CREATE = 30,
	SSO_OP_APP_LIST = 31,
	SSO_OP_APP_SHOW = 32,
	SSO_OP_APP_UPDATE = 33,
	SSO_OP_APP_ENABLE = 34,
	SSO_OP_APP_DISABLE = 35,
	SSO_OP_APP_DELETE = 36,
	SSO_OP_APP_IMPORT = 37,
	SSO_OP_APP_EXPORT = 38,
	SSO_OP_MAPPING_CREATE = 40,
	SSO_OP_MAPPING_LIST = 41,
	SSO_OP_MAPPING_ENABLE = 42,
	SSO_OP_MAPPING_DISABLE = 43,
	SSO_OP_MAPPING_DELETE = 44,
	SSO_OP_MAPPING_DELETE_MANY = 45,
	SSO_OP_CREDS_SET = 50,
	SSO_OP_CREDS_GET = 51,
	SSO_OP_CONFIG_SET = 52,
	SSO_OP_CONFIG_GET = 53,
	SSO_OP_TICKET_ISSUE = 60,
	SSO_OP_TICKET_REDEEM = 61,
	SSO_OP_TICKET_SETTINGS = 62,
	SSO_OP_CERT_IMPORT = 70,
	SSO_OP_CERT_LIST = 71,
	SSO_OP_CERT_SHOW = 72,
	SSO_OP_CERT_EXPORT = 73,
	SSO_OP_CERT_DELETE = 74,
	SSO_OP_CERT_GRANT = 75,
	SSO_OP_CERT_REVOKE = 76,
	SSO_OP_CERT_FETCH = 77,
	SSO_OP_CERT_SIGN = 78,
	SSO_OP_CERT_UPDATE = 79,
	SSO_OP_PORT_CREATE = 80,
	SSO_OP_PORT_UPDATE = 81,
	SSO_OP_PORT_SHOW = 82,
	SSO_OP_PORT_LIST = 83,
	SSO_OP_PORT_DELETE = 84,
	SSO_OP_SUSPENDED_ADD = 90,
	SSO_OP_SUSPENDED_LIST = 91,
	SSO_OP_SUSPENDED_SHOW = 92,
	SSO_OP_SUSPENDED_GET = 93,
	SSO_OP_SUSPENDED_UPDATE = 94,
	SSO_OP_SUSPENDED_REMOVE = 95,
	SSO_OP_SUSPENDED_LIMITS = 96,
	SSO_OP_SUSPENDED_LIMITS_SET = 97,
	SSO_OP_AUDIT_LIST = 100,
	SSO_OP_AUDIT_VERIFY = 101,
	SSO_OP_AUDIT_PRUNE = 102,
	SSO_OP_AUDIT_LEVEL = 103,
	SSO_OP_CERT_USABLE = 104,
};

/* UNLOCK's first field after the op: what the secret is. */
enum sso_unlock_kind {
	SSO_UNLOCK_PASSPHRASE = 1,
	SSO_UNLOCK_KEY = 2,		/* exactly 32 bytes */
};

/*
 * Requests: `u8 op | fields`.  sso_proto_unlock() appends a whole UNLOCK
 * request to req (reset first).
 */
int sso_proto_request(struct svbuf *req, enum sso_op op) SV_WUR;
int sso_proto_unlock(struct svbuf *req, enum sso_unlock_kind kind, const void *secret,
    size_t len) SV_WUR;

/*
 * Replies: `u32 status | string message | payload`.  sso_proto_reply()
 * writes one into reply (reset first); payload may be NULL.
 * sso_proto_reply_peek() reads the status (the return value, 0 or an
 * SV_ERR_* code) and the message into out (truncated to outlen) without
 * consuming anything; SV_ERR_INTERNAL if reply is not one.
 */
int sso_proto_reply(struct svbuf *reply, int status, const char *msg,
    const struct svbuf *payload) SV_WUR;
int sso_proto_reply_peek(const struct svbuf *reply, char *out, size_t outlen);

#endif
