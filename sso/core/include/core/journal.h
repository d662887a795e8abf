/*
 * journal.h: the audit journal of reads (internal to sso/core/;
 * docs/audit.md, "The journal of reads").
 *
 * A read must not be answered before its audit record is stored, and a
 * write transaction per read costs more than the read.  So a read's record
 * is first written into this process's journal: a file in the vault
 * directory, mapped shared, so that a record stored there is in the
 * operating system's page cache (it survives a crash or kill -9 of the
 * process, as a commit without a sync would) at the cost of a memory copy.
 * Folds move the journal's records into the audit chain (audit.c), many in
 * one write transaction, each record chained and verifiable on its own, and
 * store in the same transaction how far the journal is folded, so that no
 * record is folded twice and none is lost: a journal left behind by a
 * process that died is folded by the next process that opens it.
 *
 * Files: audit.N.journal (N from 0), 0600, each held by one process at a
 * time with an open-file-description lock; a process takes the first one
 * nobody holds.  Layout (little-endian):
 *   header (64 bytes): "SSOVJNL1" | vault id (16) | u64 gen | salt (16) | 0 (16)
 *   entries from offset 64, each at a multiple of 8:
 *     u32 len | u32 0 | u64 mac | u64 gen | body (len bytes, sso_audit_encode()) | padding
 *   mac = SipHash-2-4 (journal key, gen | body), the journal key the first 16
 *   bytes of HMAC(audit key, "ssovault audit journal v1" | salt): only a
 *   holder of the vault's keys writes entries that a fold takes.  An entry
 *   counts if its gen is the header's and its mac matches; the first that
 *   does not ends the journal (a power loss may tear the last ones).
 *   Emptying it (all folded) bumps gen.
 * Progress: a sealed meta record "audit.journal.N" = u64 gen | u64 offset,
 * written in the transaction of each fold.
 *
 * Thread-safe: appends take the journal's lock.  Folds must not run
 * concurrently with each other (the caller serializes them: one write
 * transaction at a time).
 */
#ifndef SSOVAULT_CORE_JOURNAL_H
#define SSOVAULT_CORE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/sso.h"

#define SSO_JOURNAL_HEADER 64
#define SSO_JOURNAL_SALT_BYTES 16
#define SSO_JOURNAL_KEY_BYTES 16
#define SSO_JOURNAL_ENTRY_MAX 4096	/* larger records take the other way */
#define SSO_JOURNAL_FILES 64		/* audit.0.journal ... audit.63.journal */

struct sso_journal;

/*
 * Take the first journal file that no process holds (creating it if there
 * is none) in dir, or with dir NULL in v's directory; v must be unlocked
 * (the entries' key).  dir is a journal directory for a vault at a URI
 * (docs/hosts.md "The journal of reads on a shared vault"): it must be
 * the process's alone (owner, mode 0700, no symbolic link), may hold
 * other vaults' journals (left alone), and the progress records of its
 * journals are named by each journal's salt, not its number, since many
 * hosts fold into one vault.  What a journal left behind holds stays
 * pending, to be folded by this handle.  msg (SV_MSG_MAX) says why not;
 * SV_ERR_NOT_FOUND: a vault without a directory, and no dir, has no journal.
 */
int sso_journal_open(struct vault *v, const char *dir, struct sso_journal **ret,
    char *msg) SV_WUR;
/* Let the file go (what is not folded stays in it for the next holder).  Takes NULL. */
void sso_journal_close(struct sso_journal *j);

/*
 * Store one encoded record.  0: it is in the page cache.  SV_ERR_TOO_LARGE
 * if the journal has no room for it (or it is over SSO_JOURNAL_ENTRY_MAX):
 * the caller stores it another way.  *ret_bytes, if not NULL, gets the
 * bytes that were pending before this record (0: it is the first).
 */
int sso_journal_append(struct sso_journal *j, const uint8_t *rec, size_t len,
    size_t *ret_bytes) SV_WUR;
/* Bytes of records appended and not yet folded (0: nothing to fold). */
size_t sso_journal_pending(struct sso_journal *j);

/*
 * Fold the pending records into the chain within write transaction t (the
 * caller commits it), with the progress record.  *ret_to is where the fold
 * ended: hand it to sso_journal_folded() once t committed (or not).
 * *ret_n gets the records folded.
 */
int sso_journal_fold(struct sso_journal *j, struct vault_txn *t, size_t *ret_to,
    size_t *ret_n) SV_WUR;
/* committed 0 (or not known): the next fold asks the progress record where to start. */
void sso_journal_folded(struct sso_journal *j, size_t to, int committed);

/*
 * Fold the journals of dir (NULL: t's vault directory) that no process
 * holds (left by processes that died) within t; each is emptied once t commits: call
 * sso_journal_adopt_done() with committed.  Journals of another vault are
 * left alone.  *ret_n gets the records folded.
 */
struct sso_journal_orphans;
int sso_journal_adopt(struct vault_txn *t, const char *dir, struct sso_journal_orphans **ret,
    size_t *ret_n) SV_WUR;
void sso_journal_adopt_done(struct sso_journal_orphans *o, int committed);

/*
 * The entries of a journal image p (len bytes, the header included) whose
 * MAC key is key, from offset from on: for each one fn(ctx, body,
 * body_len, offset after it); a non-zero return of fn stops the walk and
 * is returned.  *ret_end is where the valid entries end.
 * SV_ERR_BAD_FORMAT if the header is not a journal's.
 */
/* The MAC key of journal image p's entries in vault v (unlocked). */
int sso_journal_key_of(struct vault *v, const uint8_t *p, size_t len,
    uint8_t out[SSO_JOURNAL_KEY_BYTES]) SV_WUR;
typedef int (*sso_journal_each_fn)(void *ctx, const uint8_t *body, size_t len, size_t next);
int sso_journal_scan(const uint8_t *p, size_t len, const uint8_t key[SSO_JOURNAL_KEY_BYTES],
    size_t from, sso_journal_each_fn fn, void *ctx, size_t *ret_end) SV_WUR;

#endif
