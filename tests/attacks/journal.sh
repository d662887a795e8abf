#!/usr/bin/env bash
# The journal of reads against hostile local users (docs/SECURITY.md, "The
# journal of reads"; docs/audit.md).
#   - A link planted where the daemon's journal goes is not followed: the
#     daemon writes nothing where it points, and every read is recorded all
#     the same (committed one by one).
#   - Another uid cannot read or change the journal (0600, the daemon's).
#   - A flood: uid 5502 reads its credentials from 4 connections as fast as
#     the daemon answers (20,000 reads), so that its records fill the
#     journal over and over, while uid 5503 reads 200 times: every answered
#     read of both is in the chain, once, and the chain verifies.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"

V=$SSOVAULT
CLIENTS=$BUILD_ROOT/tests/daemon/daemon-clients
[ -x "$CLIENTS" ] || { echo "Bail out! $CLIENTS is not built"; exit 1; }
new_vault --key-file "$T_TMP/key"
payroll_for 5502 5503
chmod 755 "$T_TMP"

# --- a planted link ---------------------------------------------------------------
ln -s "$T_TMP/planted-target" "$SSOVAULT_DIR/audit.0.journal"
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts with a link where its journal goes"
for i in 1 2 3; do
	expect 0 "uid 5503 reads ($i)" as_user 5503 100 "$V" creds get payroll --field password
done
[ ! -e "$T_TMP/planted-target" ]
ok $? "nothing was written where the link points"
like "$(cat "$DLOG")" "symbolic link" "the daemon's log says why it has no journal"
is "$(audit_count uid=5503 "op=creds get" outcome=ok)" "3" "the 3 reads are recorded all the same"
daemon_stop
rm -f "$SSOVAULT_DIR/audit.0.journal"

# --- another uid and the journal file --------------------------------------------
daemon_start --key-file "$T_TMP/key"
expect 0 "uid 5503 reads" as_user 5503 100 "$V" creds get payroll --field password
expect 0 "and again (the daemon's journal is in use)" as_user 5503 100 "$V" creds get payroll --field password
run stat -c '%a %U' "$SSOVAULT_DIR/audit.0.journal"
is "$OUT" "600 root" "the journal is 0600, root's"
as_user 5501 100 cat "$SSOVAULT_DIR/audit.0.journal" >/dev/null 2>&1
ok $((! $?)) "uid 5501 cannot read it"
as_user 5501 100 sh -c ": > '$SSOVAULT_DIR/audit.0.journal'" 2>/dev/null
ok $((! $?)) "uid 5501 cannot write it"

# --- a flood of reads -------------------------------------------------------------
b2=$(audit_count uid=5502 "op=creds get" outcome=ok)
b3=$(audit_count uid=5503 "op=creds get" outcome=ok)
as_user 5502 100 "$CLIENTS" reads "$SOCK" 4 5000 payroll > "$T_TMP/flood" 2>/dev/null &
fpid=$!
as_user 5503 100 "$CLIENTS" reads "$SOCK" 1 200 payroll > "$T_TMP/victim" 2>/dev/null
wait "$fpid"
n2=$(wc -l < "$T_TMP/flood")
n3=$(wc -l < "$T_TMP/victim")
echo "# uid 5502 was answered $n2 times, uid 5503 $n3 times"
is "$n2" "20000" "the flood was answered 20000 times"
is "$n3" "200" "uid 5503 was answered 200 times beside it"
is "$(( $(audit_count uid=5502 "op=creds get" outcome=ok) - b2 ))" "$n2" \
    "every read of the flood is in the chain, once"
is "$(( $(audit_count uid=5503 "op=creds get" outcome=ok) - b3 ))" "$n3" \
    "every read of uid 5503 is in the chain, once"
expect 0 "audit verify" "$V" audit verify
like "$OUT" "The audit chain verifies" "the chain verifies"
daemon_stop
is "$DRC" "0" "the daemon stops with exit 0"
done_testing
