/*
 * fuzz-common: what the libFuzzer targets of tests/fuzz share (docs/fuzzing.md).
 *
 * A target calls fuzz_init() from LLVMFuzzerInitialize().  It makes the
 * process deterministic (libsodium's random bytes come from a fixed ChaCha20
 * stream, the service clock stands still at FUZZ_NOW), creates a throwaway
 * vault under $FUZZ_TMPDIR (default /dev/shm), unlocked, with minimal Argon2id
 * limits, and fills it through the dispatch: ticket settings, three apps
 * with mappings and credentials, a send port, a certificate made in process,
 * a suspended message, two tickets, a secret backup, and a refused request
 * and its repeat (so that the audit trail ends with a record of repeats).
 * The filled vault's data file is kept as a template.
 *
 * Inputs then run through fuzz_dispatch(): write operations run inside one
 * write transaction per input that fuzz_input_done() aborts, so every input
 * sees the same vault; operations that manage their own transactions
 * (lock, rotate, restore, ...) make the vault "dirty" and the template is
 * copied back after the input.  The audit records of reads go to a sink that
 * drops them.  Every reply is checked against the contract: a status from
 * the error space, an empty message on success, and on failure a message of
 * one line without control characters.  A broken property aborts the
 * process, which libFuzzer reports as a crash with the input saved.
 *
 * With FUZZ_SEED_DIR set, fuzz_seed() writes seed inputs built from the live
 * vault (valid tickets, sealed records, backups) into that directory; the
 * runner (tests/fuzz/run) does this once before each run.
 */
#ifndef SSOVAULT_FUZZ_COMMON_H
#define SSOVAULT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"
#include "vault/cert.h"
#include "vault/vault.h"

#define FUZZ_NOW 1767225600		/* 2026-01-01T00:00:00Z */
#define FUZZ_PASSPHRASE "fuzz passphrase"
#define FUZZ_BACKUP_PW "fuzz backup password"
#define FUZZ_RESET_EVERY 2000		/* inputs between resets (audit growth) */

/* Names of what fuzz_init() puts in the vault. */
#define FUZZ_APP "Payroll"		/* individual, tickets single-use */
#define FUZZ_APP_REUSE "Reuse"		/* individual, tickets reusable and validated */
#define FUZZ_APP_GROUP "Ops"		/* group app, mapped to the admin's group */
#define FUZZ_PORT "orders"

struct fuzz_env {
	struct sso_service *svc;
	struct sso_caller admin;	/* this process: the vault admin */
	struct sso_caller stranger;	/* uid 4242: no role at all */
	char self[SSO_PRINCIPAL_MAX];	/* the admin's principal */
	char group[SSO_PRINCIPAL_MAX];	/* the admin's group principal */
	char sha1[VAULT_SHA1_HEX + 1];	/* the imported certificate */
	char *cert_pem;			/* and its PEM parts */
	char *key_pem;
	char *msg_id;			/* the suspended message */
	char *ticket;			/* the admin's ticket, issued at FUZZ_NOW */
	char *old_ticket;		/* issued two days earlier: expired */
	uint8_t *backup;		/* secret backup under FUZZ_BACKUP_PW */
	size_t backup_len;
	uint8_t key[VAULT_KEY_BYTES];	/* the vault's key-file slot */
	uint64_t audit_first;		/* sequence of the template's first audit record */
	uint64_t audit_last;		/* and of its last */
	struct vault_txn *parent;	/* the input's write transaction */
	int dirty;			/* restore the template after this input */
	unsigned long inputs;
};

extern struct fuzz_env fuzz;

/* Set up everything above; on any failure print why and exit(1). */
void fuzz_init(void);

/* The vault under the service (valid until the next reset). */
struct vault *fuzz_vault(void);

/*
 * Run one request as caller c (NULL: the admin).  reply (caller's buffer)
 * receives `u32 status | string message | payload`; the status is returned.
 * Aborts if the reply breaks the contract.
 */
int fuzz_dispatch(const struct sso_caller *c, const uint8_t *req, size_t len,
    struct svbuf *reply);

/* The same, always committed at top level (as an embedded client does). */
int fuzz_dispatch_commit(const struct sso_caller *c, const uint8_t *req,
    size_t len, struct svbuf *reply);

/* End of an input: abort its transaction; restore the template if needed. */
void fuzz_input_done(void);

/* Copy the template back and reopen the vault now. */
void fuzz_reset(void);

/*
 * Make the vault as it is now the template (after a target's own set-up,
 * committed with fuzz_dispatch_commit()); audit_first and audit_last are
 * found again.
 */
void fuzz_template_save(void);

/* A new request buffer holding op (aborts when out of memory). */
struct svbuf *fuzz_req(uint8_t op);
void fuzz_put_u8(struct svbuf *b, uint8_t v);
void fuzz_put_u32(struct svbuf *b, uint32_t v);
void fuzz_put_u64(struct svbuf *b, uint64_t v);
void fuzz_put_str(struct svbuf *b, const void *p, size_t len);
void fuzz_put_cstr(struct svbuf *b, const char *s);

/* After fuzz_dispatch(): skip status and message; 0 if they were there. */
int fuzz_reply_payload(struct svbuf *reply);

/* Write a seed into $FUZZ_SEED_DIR (nothing if unset). */
void fuzz_seed(const char *name, const void *p, size_t len);
/* A file of $FUZZ_PKI_DIR (malloc'd, NULL if unset or unreadable). */
uint8_t *fuzz_pki_file(const char *name, size_t *ret_len);

/* A failure's message: present, and one printable line. */
void fuzz_msg_check(const char *what, int r, const char *msg);

/* A broken property or harness failure: print and abort(). */
void fuzz_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define FUZZ_CHECK(cond, ...) do { if (!(cond)) fuzz_die(__VA_ARGS__); } while (0)

#endif
