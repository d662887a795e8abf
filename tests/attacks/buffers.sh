#!/usr/bin/env bash
# Finding 4: a 5-byte header reserved 64 MiB of locked memory.  The daemon
# allocated a frame's whole body from its length field, before a byte of it
# arrived: 60 connections announcing 64 MiB took 3.3 GB in seconds.
#
# Here: connections announcing 64 MiB bodies (and sending 100 bytes of
# them) leave the daemon's memory far below what they announce while
# another uid is served; with small budgets, one uid's unfinished requests
# stop at its share and all uids' at the daemon's budget (refused with a
# clear error, logged once), while small requests of others still pass;
# requests that do not arrive whole in time are answered "timed out" and
# closed; the shipped unit sets MemoryMax= above the budgets.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"

V=$SSOVAULT
VICTIM=6001
new_vault
install -m 600 "$T_TMP/pass" "$T_TMP/pass.root"
printf '{"username": "alice", "password": "victim-secret-6001"}' > "$T_TMP/creds.json"
"$V" app create payroll --enable --user uid:$VICTIM >/dev/null &&
"$V" mapping create payroll uid:$VICTIM alice >/dev/null &&
"$V" creds set payroll --user uid:$VICTIM --from-file "$T_TMP/creds.json" >/dev/null
ok $? "set-up: payroll maps uid $VICTIM"
mkdir -m 1777 "$T_TMP/drop"

jq() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$@"; }

# wait_file F: until F exists (at most 60 s); 0 if it does
wait_file() {
	local i
	for i in $(seq 1 600); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- 40 connections announce 64 MiB each --------------------------------------------
daemon_start --passphrase-file "$T_TMP/pass.root"
ok $? "ssovaultd starts with the default frame limit (64M)"
RSS0=$(daemon_rss_kb)
N=40
attack_py "$ATTACKS_DIR/daemon_attacks.py" hold 6301 $N $((64 * 1024 * 1024)) 100 \
    "$T_TMP/drop/big.json" "$T_TMP/drop/big.release" > "$T_TMP/big.out" &
HOLD=$!
wait_file "$T_TMP/drop/big.json"
ok $? "the attacker reports"
is "$(jq "$T_TMP/drop/big.json" 'd["alive"]')" "$N" \
    "uid 6301 holds $N connections, each with a 64 MiB frame announced and 100 bytes of it sent"
is "$(jq "$T_TMP/drop/big.json" 'd["read"]')" "$N" \
    "... and the daemon has read each one's header and bytes (nothing left on the sockets)"
RSS1=$(daemon_rss_kb)
echo "# daemon RSS before ${RSS0} KiB, with the $N frames ${RSS1} KiB"
[ "$RSS1" -gt 0 ] && [ $((RSS1 - RSS0)) -lt $((64 * 1024)) ]
ok $? "the daemon's memory grew by less than 64 MiB for $N x 64 MiB announced ($(((RSS1 - RSS0) / 1024)) MiB)"
expect 0 "meanwhile the victim's creds get is served" as_user $VICTIM $VICTIM "$V" creds get payroll --field password
is "$OUT" "victim-secret-6001" "... with its password"
expect 0 "... and root's role list" "$V" role list
touch "$T_TMP/drop/big.release"
wait $HOLD
ok $? "the attacker lets go"
daemon_stop

# --- budgets: one uid's share, and the daemon's --------------------------------------
M=$((1024 * 1024))
daemon_start --passphrase-file "$T_TMP/pass.root" --frame-max 4M --max-buffered-per-uid 8M \
    --max-buffered 12M
ok $? "ssovaultd starts with --frame-max 4M --max-buffered-per-uid 8M --max-buffered 12M"
# uid 6302: three requests of 4 MiB, 3 MiB of each sent; uid 6303: one; uid 6304: one
attack_py "$ATTACKS_DIR/daemon_attacks.py" budget "$T_TMP/budget.release" \
    6302:3:$((4 * M)):$((3 * M)) 6303:1:$((4 * M)):$((3 * M)) 6304:2:$((4 * M)):$((3 * M)) \
    > "$T_TMP/budget.json" &
BUD=$!
wait_file "$T_TMP/budget.json"
ok $? "the three uids report"
B=$(cat "$T_TMP/budget.json")
echo "# $B"
is "$(jq "$T_TMP/budget.json" 'd[0][:2]')" "['sent', 'sent']" "uid 6302: two unfinished 4 MiB requests are held (its share is 8 MiB)"
like "$(jq "$T_TMP/budget.json" 'd[0][2]')" "^-11 uid 6302 has [0-9.]+ MiB of requests in ssovaultd already and its share is 8.0 MiB: wait for their replies$" \
    "... its third is refused: its share, said clearly"
is "$(jq "$T_TMP/budget.json" 'd[1]')" "['sent']" "uid 6303: its request is held (11 MiB in all, under 12)"
like "$(jq "$T_TMP/budget.json" 'd[2][0]')" "^-11 ssovaultd holds [0-9.]+ MiB of requests, its limit \(--max-buffered\): try again later$" \
    "uid 6304: refused at the daemon's budget, said clearly"
like "$(jq "$T_TMP/budget.json" 'd[2][1]')" "^-11 ssovaultd holds" "... again"
expect 0 "a small request of another uid still passes: creds get" as_user $VICTIM $VICTIM "$V" creds get payroll --field password
is "$OUT" "victim-secret-6001" "... with its password"
touch "$T_TMP/budget.release"
wait $BUD
ok $? "the budget owners let go"
is "$(grep -c "reached --max-buffered" "$DLOG")" "1" "log: the daemon's budget reached, said once"
like "$(cat "$DLOG")" "refused a request of uid 6302 .*its share is 8.0 MiB" "log: uid 6302's refusal"
expect 0 "once replies free them, a request of 3 MiB of uid 6304 is served again" \
    attack_py - <<'EOF'
import os
from ssowire import Conn, OP, u8, as_uid
pid = os.fork()
if pid == 0:
    as_uid(6304)
    c = Conn(os.environ["SOCK"])
    st, msg, _ = c.call(OP["status"], b"\0" * (3 * 1024 * 1024))
    os._exit(0 if st == -19 else 1)   # the whole request was read: trailing bytes
os._exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
EOF
daemon_stop

# --- requests that do not arrive whole in time ------------------------------------
daemon_start --passphrase-file "$T_TMP/pass.root" --request-timeout 2s
ok $? "ssovaultd starts with --request-timeout 2s"
attack_py "$ATTACKS_DIR/daemon_attacks.py" slow 6305 15 > "$T_TMP/slow.json"
ok $? "uid 6305 sends half a header on one connection, half a body on another, and waits"
for k in "half header" "half body"; do
	is "$(jq "$T_TMP/slow.json" "d['$k']['status']")" "-20" "$k: answered with an error (PROTOCOL)"
	like "$(jq "$T_TMP/slow.json" "d['$k']['message']")" "timed out: a request must arrive whole within 2 s" \
	    "$k: ... that says it timed out"
	is "$(jq "$T_TMP/slow.json" "d['$k']['closed']")" "True" "$k: ... and closed"
done
like "$(cat "$DLOG")" "timed out a request of uid 6305" "log: the timed-out request"
expect 0 "others are served" "$V" status
daemon_stop

# --- the shipped unit --------------------------------------------------------------
UNIT="$SOURCE_ROOT/sso/daemon/ssovaultd.service.in"
MM=$(sed -n 's/^MemoryMax=\([0-9]*\)G$/\1/p' "$UNIT")
[ -n "$MM" ] && [ "$MM" -ge 1 ]; ok $? "the unit sets MemoryMax= (${MM:-none}G)"
# the default budgets: 256M of requests, 512M of key derivation, and the rest
[ "${MM:-0}" -ge 1 ] && [ $(((MM * 1024) - 256 - 512)) -ge 512 ]
ok $? "... with at least 512 MiB above the default budgets"

done_testing
