/*
 * table.c: the one policy table.  A row per operation: its number (as it
 * crosses the wire), its name (as audit records and messages give it), who
 * may run it, the object it names, its transaction and every special case
 * as a flag (core/sso.h), its audit level and its handler.  Adding an
 * operation is a row here, a handler in the file of its object, a number
 * in proto/proto.h and a function in client/requests.c.
 */
#include <stddef.h>

#include "ops/ops.h"
#include "handlers.h"

#define L SSO_AUDIT_LOW
#define M SSO_AUDIT_MEDIUM
#define H SSO_AUDIT_HIGH

/* The daemon's log lines of the operations that change keys. */
static const struct sso_op_log log_unlock = { "vault unlocked", "", "unlock refused" };
static const struct sso_op_log log_lock = { "vault locked", ": keys wiped", NULL };
static const struct sso_op_log log_secret_restore = { "vault secret restored from a backup", "", "secret restore refused" };
static const struct sso_op_log log_secret_rotate = { "master secret rotated", "", NULL };
static const struct sso_op_log log_restore = { "vault restored from a backup", "", NULL };

static const struct sso_op_def ops[] = {
	{ SSO_OP_STATUS, "status", SSO_NEED_NONE, SSO_OBJ_NONE,
	    SSO_OPF_LOCKED_OK | SSO_OPF_OWN_TXN |
	    SSO_OPF_AUDIT_OPTIONAL, H, sso_h_status, NULL },
	{ SSO_OP_UNLOCK, "unlock", SSO_NEED_NONE, SSO_OBJ_NONE,
	    SSO_OPF_LOCKED_OK | SSO_OPF_OWN_TXN | SSO_OPF_KEYS | SSO_OPF_KDF |
	    SSO_OPF_ADMIN_AFTER_KEYS | SSO_OPF_AUDIT_OPTIONAL | SSO_OPF_AUDIT_LOW_SHARED |
	    SSO_OPF_ROOM_ALL, M, sso_h_unlock, &log_unlock },
	{ SSO_OP_LOCK, "lock", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_OWN_TXN | SSO_OPF_KEYS | SSO_OPF_FLUSH_FIRST | SSO_OPF_AUDIT_FIRST |
	    SSO_OPF_ROOM_ALL, L, sso_h_lock, &log_lock },
	{ SSO_OP_SLOT_LIST, "slot list", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_OWN_TXN, H, sso_h_slot_list, NULL },
	{ SSO_OP_SLOT_ADD, "slot add", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_OWN_TXN, L, sso_h_slot_add, NULL },
	{ SSO_OP_SLOT_REMOVE, "slot remove", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_OWN_TXN | SSO_OPF_ROOM_ALL, L, sso_h_slot_remove, NULL },
	{ SSO_OP_STORE_COPY, "store copy", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_OWN_TXN, L, sso_h_store_copy, NULL },
	{ SSO_OP_SECRET_BACKUP, "secret backup", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    0, L, sso_h_secret_backup, NULL },
	{ SSO_OP_SECRET_RESTORE, "secret restore", SSO_NEED_NONE, SSO_OBJ_NONE,
	    SSO_OPF_LOCKED_OK | SSO_OPF_OWN_TXN | SSO_OPF_KEYS | SSO_OPF_KDF |
	    SSO_OPF_ROOM_ALL, L, sso_h_secret_restore, &log_secret_restore },
	{ SSO_OP_SECRET_ROTATE, "secret rotate", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_OWN_TXN | SSO_OPF_KEYS, L, sso_h_secret_rotate, &log_secret_rotate },
	{ SSO_OP_BACKUP, "backup", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_OWN_TXN, L, sso_h_backup, NULL },
	{ SSO_OP_RESTORE, "restore", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_OWN_TXN | SSO_OPF_KEYS | SSO_OPF_DAMAGED_ROLES_OK |
	    SSO_OPF_ROOM_ALL, L, sso_h_restore, &log_restore },
	{ SSO_OP_ROLE_LIST, "role list", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    0, H, sso_h_role_list, NULL },
	{ SSO_OP_ROLE_ADD, "role add", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_role_add, NULL },
	{ SSO_OP_ROLE_REMOVE, "role remove", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_role_remove, NULL },
	{ SSO_OP_APP_CREATE, "app create", SSO_NEED_AFFILIATE_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_WRITE, L, sso_h_app_create, NULL },
	{ SSO_OP_APP_LIST, "app list", SSO_NEED_ANY, SSO_OBJ_NONE,
	    0, H, sso_h_app_list, NULL },
	{ SSO_OP_APP_SHOW, "app show", SSO_NEED_APP_MEMBER, SSO_OBJ_APP,
	    0, M, sso_h_app_show, NULL },
	{ SSO_OP_APP_UPDATE, "app update", SSO_NEED_APP_ADMIN, SSO_OBJ_APP,
	    SSO_OPF_WRITE, L, sso_h_app_update, NULL },
	{ SSO_OP_APP_ENABLE, "app enable", SSO_NEED_AFFILIATE_ADMIN, SSO_OBJ_APP,
	    SSO_OPF_WRITE, L, sso_h_app_enable, NULL },
	{ SSO_OP_APP_DISABLE, "app disable", SSO_NEED_AFFILIATE_ADMIN, SSO_OBJ_APP,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_app_disable, NULL },
	{ SSO_OP_APP_DELETE, "app delete", SSO_NEED_AFFILIATE_ADMIN, SSO_OBJ_APP,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_app_delete, NULL },
	{ SSO_OP_APP_IMPORT, "app import", SSO_NEED_AFFILIATE_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_WRITE, L, sso_h_app_import, NULL },
	{ SSO_OP_APP_EXPORT, "app export", SSO_NEED_ANY, SSO_OBJ_NONE,
	    0, M, sso_h_app_export, NULL },
	{ SSO_OP_MAPPING_CREATE, "mapping create", SSO_NEED_APP_ADMIN, SSO_OBJ_APP,
	    SSO_OPF_WRITE, L, sso_h_mapping_create, NULL },
	{ SSO_OP_MAPPING_LIST, "mapping list", SSO_NEED_ANY, SSO_OBJ_NONE,
	    0, H, sso_h_mapping_list, NULL },
	{ SSO_OP_MAPPING_ENABLE, "mapping enable", SSO_NEED_APP_MEMBER, SSO_OBJ_APP,
	    SSO_OPF_WRITE, L, sso_h_mapping_enable, NULL },
	{ SSO_OP_MAPPING_DISABLE, "mapping disable", SSO_NEED_APP_MEMBER, SSO_OBJ_APP,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_mapping_disable, NULL },
	{ SSO_OP_MAPPING_DELETE, "mapping delete", SSO_NEED_APP_ADMIN, SSO_OBJ_APP,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_mapping_delete, NULL },
	{ SSO_OP_MAPPING_DELETE_MANY, "mapping delete-many", SSO_NEED_AFFILIATE_ADMIN,
	    SSO_OBJ_NONE, SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_mapping_delete_many, NULL },
	{ SSO_OP_CREDS_SET, "creds set", SSO_NEED_APP_MEMBER, SSO_OBJ_APP,
	    SSO_OPF_WRITE, L, sso_h_creds_set, NULL },
	{ SSO_OP_CREDS_GET, "creds get", SSO_NEED_APP_MEMBER, SSO_OBJ_APP,
	    SSO_OPF_MEMO, L, sso_h_creds_get, NULL },
	{ SSO_OP_CONFIG_SET, "config set", SSO_NEED_APP_ADMIN, SSO_OBJ_APP,
	    SSO_OPF_WRITE, L, sso_h_config_set, NULL },
	{ SSO_OP_CONFIG_GET, "config get", SSO_NEED_APP_MEMBER, SSO_OBJ_APP,
	    0, L, sso_h_config_get, NULL },
	{ SSO_OP_TICKET_ISSUE, "ticket issue", SSO_NEED_ANY, SSO_OBJ_NONE,
	    0, M, sso_h_ticket_issue, NULL },
	{ SSO_OP_TICKET_REDEEM, "ticket redeem", SSO_NEED_APP_ADMIN, SSO_OBJ_APP,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_RECORDS, L, sso_h_ticket_redeem, NULL },
	{ SSO_OP_TICKET_SETTINGS, "ticket settings", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_WRITE, L, sso_h_ticket_settings, NULL },
	{ SSO_OP_CERT_IMPORT, "cert import", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_WRITE, L, sso_h_cert_import, NULL },
	{ SSO_OP_CERT_LIST, "cert list", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    0, H, sso_h_cert_list, NULL },
	{ SSO_OP_CERT_SHOW, "cert show", SSO_NEED_CERT_VIEWER, SSO_OBJ_CERT,
	    0, M, sso_h_cert_show, NULL },
	{ SSO_OP_CERT_EXPORT, "cert export", SSO_NEED_CERT_VIEWER, SSO_OBJ_CERT,
	    0, M, sso_h_cert_export, NULL },
	{ SSO_OP_CERT_DELETE, "cert delete", SSO_NEED_VAULT_ADMIN, SSO_OBJ_CERT,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_cert_delete, NULL },
	{ SSO_OP_CERT_GRANT, "cert grant", SSO_NEED_VAULT_ADMIN, SSO_OBJ_CERT,
	    SSO_OPF_WRITE, L, sso_h_cert_grant, NULL },
	{ SSO_OP_CERT_REVOKE, "cert revoke", SSO_NEED_VAULT_ADMIN, SSO_OBJ_CERT,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_cert_revoke, NULL },
	{ SSO_OP_CERT_FETCH, "cert fetch", SSO_NEED_CERT_USER, SSO_OBJ_CERT,
	    0, L, sso_h_cert_fetch, NULL },
	{ SSO_OP_CERT_SIGN, "cert sign", SSO_NEED_CERT_USER, SSO_OBJ_CERT,
	    0, L, sso_h_cert_sign, NULL },
	{ SSO_OP_CERT_UPDATE, "cert update", SSO_NEED_VAULT_ADMIN, SSO_OBJ_CERT,
	    SSO_OPF_WRITE, L, sso_h_cert_update, NULL },
	{ SSO_OP_CERT_USABLE, "cert usable", SSO_NEED_ANY, SSO_OBJ_NONE,
	    0, M, sso_h_cert_usable, NULL },
	{ SSO_OP_PORT_CREATE, "port create", SSO_NEED_AFFILIATE_ADMIN, SSO_OBJ_PORT,
	    SSO_OPF_WRITE, L, sso_h_port_create, NULL },
	{ SSO_OP_PORT_UPDATE, "port update", SSO_NEED_AFFILIATE_ADMIN, SSO_OBJ_PORT,
	    SSO_OPF_WRITE, L, sso_h_port_update, NULL },
	{ SSO_OP_PORT_SHOW, "port show", SSO_NEED_ANY, SSO_OBJ_PORT,
	    0, H, sso_h_port_show, NULL },
	{ SSO_OP_PORT_LIST, "port list", SSO_NEED_ANY, SSO_OBJ_NONE,
	    0, H, sso_h_port_list, NULL },
	{ SSO_OP_PORT_DELETE, "port delete", SSO_NEED_AFFILIATE_ADMIN, SSO_OBJ_PORT,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_port_delete, NULL },
	{ SSO_OP_SUSPENDED_ADD, "suspended add", SSO_NEED_ANY, SSO_OBJ_NONE,
	    SSO_OPF_WRITE, L, sso_h_suspended_add, NULL },
	{ SSO_OP_SUSPENDED_LIST, "suspended list", SSO_NEED_ANY, SSO_OBJ_NONE,
	    0, H, sso_h_suspended_list, NULL },
	{ SSO_OP_SUSPENDED_SHOW, "suspended show", SSO_NEED_ANY, SSO_OBJ_MSG,
	    0, M, sso_h_suspended_show, NULL },
	{ SSO_OP_SUSPENDED_GET, "suspended get", SSO_NEED_ANY, SSO_OBJ_MSG,
	    0, L, sso_h_suspended_get, NULL },
	{ SSO_OP_SUSPENDED_UPDATE, "suspended update", SSO_NEED_ANY, SSO_OBJ_MSG,
	    SSO_OPF_WRITE, L, sso_h_suspended_update, NULL },
	{ SSO_OP_SUSPENDED_REMOVE, "suspended remove", SSO_NEED_ANY, SSO_OBJ_MSG,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_suspended_remove, NULL },
	{ SSO_OP_SUSPENDED_LIMITS, "suspended limits", SSO_NEED_ANY, SSO_OBJ_NONE,
	    0, H, sso_h_suspended_limits, NULL },
	{ SSO_OP_SUSPENDED_LIMITS_SET, "suspended limits set", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_WRITE, L, sso_h_suspended_limits_set, NULL },
	{ SSO_OP_AUDIT_LIST, "audit list", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_FOLD_FIRST, H, sso_h_audit_list, NULL },
	{ SSO_OP_AUDIT_VERIFY, "audit verify", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_FOLD_FIRST, M, sso_h_audit_verify, NULL },
	{ SSO_OP_AUDIT_PRUNE, "audit prune", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_audit_prune, NULL },
	{ SSO_OP_AUDIT_LEVEL, "audit level", SSO_NEED_VAULT_ADMIN, SSO_OBJ_NONE,
	    SSO_OPF_WRITE | SSO_OPF_ROOM_ALL, L, sso_h_audit_level, NULL },
};

#undef L
#undef M
#undef H

static const struct sso_optab optab = {
	ops, sizeof(ops) / sizeof(ops[0]), sso_cert_users,
};

const struct sso_op_def *
sso_optab_find(const struct sso_optab *tab, unsigned op)
{
	size_t i;

	for (i = 0; i < tab->n; i++)
		if ((unsigned)tab->ops[i].op == op)
			return &tab->ops[i];
	return NULL;
}

const struct sso_op_def *
sso_op_find(unsigned op)
{
	return sso_optab_find(&optab, op);
}

int
sso_service_new(struct vault *v, struct sso_service **ret)
{
	return sso_service_new_with(v, &optab, ret);
}

int
sso_request_writes(const uint8_t *req, size_t len)
{
	const struct sso_op_def *d;

	if (len < 1 || (d = sso_op_find(req[0])) == NULL)
		return 0;
	return (d->flags & SSO_OPF_WRITE) != 0 && !(d->flags & SSO_OPF_OWN_TXN);
}
