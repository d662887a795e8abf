/*
 * handlers.h: the handlers of the policy table (table.c), one per
 * operation, each in the file of its object (internal to sso/ops/).
 */
#ifndef SSOVAULT_OPS_HANDLERS_H
#define SSOVAULT_OPS_HANDLERS_H

#include "core/sso.h"

int sso_h_status(struct sso_ctx *x, struct svbuf *req);
int sso_h_unlock(struct sso_ctx *x, struct svbuf *req);
int sso_h_lock(struct sso_ctx *x, struct svbuf *req);
int sso_h_secret_backup(struct sso_ctx *x, struct svbuf *req);
int sso_h_secret_restore(struct sso_ctx *x, struct svbuf *req);
int sso_h_secret_rotate(struct sso_ctx *x, struct svbuf *req);
int sso_h_slot_list(struct sso_ctx *x, struct svbuf *req);
int sso_h_slot_add(struct sso_ctx *x, struct svbuf *req);
int sso_h_slot_remove(struct sso_ctx *x, struct svbuf *req);
int sso_h_store_copy(struct sso_ctx *x, struct svbuf *req);
int sso_h_backup(struct sso_ctx *x, struct svbuf *req);
int sso_h_restore(struct sso_ctx *x, struct svbuf *req);
int sso_h_role_list(struct sso_ctx *x, struct svbuf *req);
int sso_h_role_add(struct sso_ctx *x, struct svbuf *req);
int sso_h_role_remove(struct sso_ctx *x, struct svbuf *req);
int sso_h_app_create(struct sso_ctx *x, struct svbuf *req);
int sso_h_app_list(struct sso_ctx *x, struct svbuf *req);
int sso_h_app_show(struct sso_ctx *x, struct svbuf *req);
int sso_h_app_update(struct sso_ctx *x, struct svbuf *req);
int sso_h_app_enable(struct sso_ctx *x, struct svbuf *req);
int sso_h_app_disable(struct sso_ctx *x, struct svbuf *req);
int sso_h_app_delete(struct sso_ctx *x, struct svbuf *req);
int sso_h_app_import(struct sso_ctx *x, struct svbuf *req);
int sso_h_app_export(struct sso_ctx *x, struct svbuf *req);
int sso_h_mapping_create(struct sso_ctx *x, struct svbuf *req);
int sso_h_mapping_list(struct sso_ctx *x, struct svbuf *req);
int sso_h_mapping_enable(struct sso_ctx *x, struct svbuf *req);
int sso_h_mapping_disable(struct sso_ctx *x, struct svbuf *req);
int sso_h_mapping_delete(struct sso_ctx *x, struct svbuf *req);
int sso_h_mapping_delete_many(struct sso_ctx *x, struct svbuf *req);
int sso_h_creds_set(struct sso_ctx *x, struct svbuf *req);
int sso_h_creds_get(struct sso_ctx *x, struct svbuf *req);
int sso_h_config_set(struct sso_ctx *x, struct svbuf *req);
int sso_h_config_get(struct sso_ctx *x, struct svbuf *req);
int sso_h_ticket_issue(struct sso_ctx *x, struct svbuf *req);
int sso_h_ticket_redeem(struct sso_ctx *x, struct svbuf *req);
int sso_h_ticket_settings(struct sso_ctx *x, struct svbuf *req);
int sso_h_cert_import(struct sso_ctx *x, struct svbuf *req);
int sso_h_cert_list(struct sso_ctx *x, struct svbuf *req);
int sso_h_cert_show(struct sso_ctx *x, struct svbuf *req);
int sso_h_cert_export(struct sso_ctx *x, struct svbuf *req);
int sso_h_cert_delete(struct sso_ctx *x, struct svbuf *req);
int sso_h_cert_grant(struct sso_ctx *x, struct svbuf *req);
int sso_h_cert_revoke(struct sso_ctx *x, struct svbuf *req);
int sso_h_cert_fetch(struct sso_ctx *x, struct svbuf *req);
int sso_h_cert_sign(struct sso_ctx *x, struct svbuf *req);
int sso_h_cert_update(struct sso_ctx *x, struct svbuf *req);
int sso_h_cert_usable(struct sso_ctx *x, struct svbuf *req);
int sso_h_port_create(struct sso_ctx *x, struct svbuf *req);
int sso_h_port_update(struct sso_ctx *x, struct svbuf *req);
int sso_h_port_show(struct sso_ctx *x, struct svbuf *req);
int sso_h_port_list(struct sso_ctx *x, struct svbuf *req);
int sso_h_port_delete(struct sso_ctx *x, struct svbuf *req);
int sso_h_suspended_add(struct sso_ctx *x, struct svbuf *req);
int sso_h_suspended_list(struct sso_ctx *x, struct svbuf *req);
int sso_h_suspended_show(struct sso_ctx *x, struct svbuf *req);
int sso_h_suspended_get(struct sso_ctx *x, struct svbuf *req);
int sso_h_suspended_update(struct sso_ctx *x, struct svbuf *req);
int sso_h_suspended_remove(struct sso_ctx *x, struct svbuf *req);
int sso_h_suspended_limits(struct sso_ctx *x, struct svbuf *req);
int sso_h_suspended_limits_set(struct sso_ctx *x, struct svbuf *req);
int sso_h_audit_list(struct sso_ctx *x, struct svbuf *req);
int sso_h_audit_verify(struct sso_ctx *x, struct svbuf *req);
int sso_h_audit_prune(struct sso_ctx *x, struct svbuf *req);
int sso_h_audit_level(struct sso_ctx *x, struct svbuf *req);

/*
 * The certificates in the vault and how many of their keys are exportable,
 * for status (cert_use.c); opens its own read transaction.
 */
int sso_cert_key_counts(struct sso_ctx *x, size_t *ret_total, size_t *ret_exportable);

/* The users of the object certificate, for the table's SSO_NEED_CERT_* (cert.c). */
int sso_cert_users(struct sso_ctx *x, json_t **ret_users);

#endif
