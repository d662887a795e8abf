#!/usr/bin/env bash
# The journal of reads (docs/audit.md, "The journal of reads"): the record of
# every answered read is in the audit chain after the process that answered
# it dies, however it dies.
#   - ssovaultd killed with SIGKILL in the middle of a stream of reads from
#     4 clients: after a restart, the chain holds a record for every read
#     that was answered, and none twice (at most one more per client: a read
#     whose record was stored and whose answer the kill cut off);
#   - the same with SIGTERM: exactly one record per answered read;
#   - an embedded program that reads 300 times and kills itself with
#     SIGKILL (no close, no flush): the next command folds its journal,
#     300 records, once.
# On a PostgreSQL vault (daemon-journal-pg) the daemon's journal is in its
# journal directory (docs/hosts.md) and the folds go to the database's
# chain; an embedded process on a URI has no journal (each read commits).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

CLIENTS=$1
V=$SSOVAULT
new_vault --key-file "$T_TMP/key"
JDIR=$SSOVAULT_DIR
[ "${SSOVAULT_TEST_VAULT:-}" = pg ] && JDIR=$T_TMP/journal
payroll_for 0


# stream SIGNAL DELAY: 4 clients read until the daemon is stopped with
# SIGNAL after DELAY seconds; ACKED: the reads answered
stream() {
	local sig=$1 delay=$2
	daemon_start --key-file "$T_TMP/key" || return 1
	"$CLIENTS" reads "$SOCK" 4 200000 payroll > "$T_TMP/acked" 2>/dev/null &
	local cpid=$!
	sleep "$delay"
	if [ "$sig" = KILL ]; then daemon_kill; else daemon_stop; fi
	wait "$cpid"
	acked=$(wc -l < "$T_TMP/acked")
}

before=$(reads_count)
stream KILL 0.5
[ "$acked" -gt 0 ]
ok $? "kill -9 in a stream of reads: $acked reads were answered before it"
ls "$JDIR"/audit.*.journal >/dev/null 2>&1
ok $? "the daemon's journal is left in $JDIR"
run stat -c '%a %u' "$JDIR/audit.0.journal"
is "$OUT" "600 0" "the journal is 0600, the daemon's uid's"
daemon_start --key-file "$T_TMP/key"
ok $? "the daemon restarts"
after=$(reads_count)
got=$((after - before))
echo "# answered $acked, recorded $got"
[ "$got" -ge "$acked" ]
ok $? "every answered read is in the chain after kill -9 ($got records, $acked answered)"
[ "$got" -le $((acked + 4)) ]
ok $? "and none twice (at most one unanswered read per client more)"
expect 0 "audit verify" "$V" audit verify
like "$OUT" "The audit chain verifies" "the chain verifies"
before=$(reads_count)
daemon_stop

stream TERM 0.5
[ "$acked" -gt 0 ]
ok $? "SIGTERM in a stream of reads: $acked reads were answered before it"
is "$DRC" "0" "the daemon exits 0"
daemon_start --key-file "$T_TMP/key"
after=$(reads_count)
got=$((after - before))
[ "$got" -ge "$acked" ] && [ "$got" -le $((acked + 4)) ]
ok $? "after SIGTERM: one record per read ($got records, $acked answered)"
expect 0 "audit verify" "$V" audit verify
daemon_stop

# embedded: 300 reads, then SIGKILL of the process itself
unset SSOVAULT_SOCKET
export SSOVAULT_KEY_FILE="$T_TMP/key"
unset SSOVAULT_PASSPHRASE_FILE
before=$(reads_count)
"$CLIENTS" reads-embedded "$SSOVAULT_DIR" 300 payroll "$T_TMP/key" > "$T_TMP/acked" 2>"$T_TMP/err"
is "$?" "137" "the embedded reader killed itself (SIGKILL)"
is "$(wc -l < "$T_TMP/acked")" "300" "it was answered 300 times"
after=$(reads_count)
is "$((after - before))" "300" "the next command folds its journal: 300 records"
is "$(reads_count)" "$after" "folded once: a second look finds no more"
expect 0 "audit verify (embedded)" "$V" audit verify
like "$OUT" "The audit chain verifies" "the chain verifies"

done_testing
