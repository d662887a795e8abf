/*
 * ops: the SSO service with its operations: the policy table and the
 * handlers behind it.  What the client library (embedded mode), the daemon
 * and the tests need of it; everything else of the service is core/sso.h.
 */
#ifndef SSOVAULT_OPS_H
#define SSOVAULT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "core/sso.h"

/* A service on v (which it takes) running the table of every operation. */
int sso_service_new(struct vault *v, struct sso_service **ret) SV_WUR;

/* The table's row of op (its flags, name, log lines), or NULL if unknown. */
const struct sso_op_def *sso_op_find(unsigned op);

/*
 * 1 if the request (its first byte) is a write operation that the daemon's
 * group commit may run inside a shared transaction, 0 if not or unknown.
 */
int sso_request_writes(const uint8_t *req, size_t len);

#endif
