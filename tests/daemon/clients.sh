#!/usr/bin/env bash
# Many clients of one ssovaultd at once: 8 threads (own connections) adding,
# listing, re-adding and removing roles with every answer checked, reads
# audited at the high level so their records go through the group commit,
# and the audit trail counted record for record afterwards; 8 processes of
# different uids refused at once, each with its own name in its message.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

CLIENTS=$1
V=$SSOVAULT
new_vault --key-file "$T_TMP/key"
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts"

# every read is recorded: its record waits for the writer's batch
expect 0 "audit level: positive high" "$V" audit level --positive high
run "$V" --json audit list
BEFORE=$(echo "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')

THREADS=8 ROUNDS=40
"$CLIENTS" mixed "$SOCK" $THREADS $ROUNDS > "$T_TMP/mixed.out" 2>&1
MRC=$?
tap_relay "$T_TMP/mixed.out"
is "$MRC" "0" "the clients program exits 0"

run "$V" --json role list
unlike "$OUT" '"uid:7[0-9]{5}"' "no principal of the clients is left over"
# per round: add, list, status, add again (refused), remove, list
run "$V" --json audit list
AFTER=$(echo "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
is "$((AFTER - BEFORE))" "$((THREADS * ROUNDS * 6 + 2))" \
    "one audit record per request: $THREADS x $ROUNDS x 6, the first audit list, the role list"
is "$(audit_count "op=role add" "outcome=already exists")" "$((THREADS * ROUNDS))" \
    "the refused second adds are each recorded"
is "$(audit_count "op=role remove" outcome=ok)" "$((THREADS * ROUNDS))" "every remove is recorded"
expect 0 "the audit chain verifies" "$V" audit verify

# 8 processes, 8 uids, refused at the same moment
PIDS=""
for i in 1 2 3 4 5 6 7 8; do
	u=$((5100 + i))
	( as_user $u $u "$V" role list >/dev/null 2>"$T_TMP/deny.$u"; echo $? > "$T_TMP/rc.$u" ) &
	PIDS="$PIDS $!"
done
wait $PIDS	# not a bare wait: the daemon is a child too
for i in 1 2 3 4 5 6 7 8; do
	u=$((5100 + i))
	is "$(cat "$T_TMP/rc.$u")" "5" "uid $u: refused (exit 5)"
	like "$(cat "$T_TMP/deny.$u")" "access denied: uid $u is not a vault admin" "uid $u: its own uid in the message"
	is "$(audit_count uid=$u "op=role list" "outcome=access denied")" "1" "uid $u: one audit record"
done

daemon_stop
is "$DRC" "0" "SIGTERM: exit 0"
done_testing
