#!/usr/bin/env bash
# Crash safety of ssovaultd: kill -9 at three moments during a stream of
# writes from 8 clients, and SIGTERM during another.  Every write that was
# acknowledged is there after a restart, the audit trail holds exactly one
# record per stored write (no more, no fewer), and the chain verifies.  A
# stream of audited reads killed the same way leaves a chain that verifies.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

CLIENTS=$1
V=$SSOVAULT
new_vault --key-file "$T_TMP/key"
: > "$T_TMP/acked"

# stream_then SIGNAL DELAY RUN: 8 writers of principals uid:80RT0kkk (R = RUN,
# T = thread); after DELAY seconds send SIGNAL to the daemon
stream_then() {
	local sig=$1 delay=$2 run=$3 n
	daemon_start --key-file "$T_TMP/key" || return 1
	"$CLIENTS" stream "$SOCK" 8 400 $((800000 + run * 1000)) > "$T_TMP/acked.now" 2>/dev/null &
	local cpid=$!
	sleep "$delay"
	if [ "$sig" = KILL ]; then
		daemon_kill
		DRC=137
	else
		daemon_stop
	fi
	wait "$cpid"
	n=$(wc -l < "$T_TMP/acked.now")
	cat "$T_TMP/acked.now" >> "$T_TMP/acked"
	echo "# SIG$sig after ${delay}s: $n writes acknowledged"
	[ "$n" -gt 0 ]
}

# roles and audit agree: the principals stored, and the "role add" records
check_all() {
	local what=$1 missing recs held
	daemon_start --key-file "$T_TMP/key"
	ok $? "$what: the daemon restarts"
	"$V" --json role list > "$T_TMP/roles.json"
	missing=$(python3 - "$T_TMP/roles.json" "$T_TMP/acked" <<'EOF'
import json, sys
held = set(json.load(open(sys.argv[1]))["affiliate-admin"])
acked = [l.strip() for l in open(sys.argv[2]) if l.strip()]
print(sum(1 for p in acked if p not in held))
EOF
)
	is "$missing" "0" "$what: every acknowledged write is stored ($(wc -l < "$T_TMP/acked") so far)"
	"$V" --json audit list > "$T_TMP/audit.json"
	python3 - "$T_TMP/roles.json" "$T_TMP/audit.json" > "$T_TMP/cmp" <<'EOF'
import json, sys
held = sorted(p for p in json.load(open(sys.argv[1]))["affiliate-admin"] if p.startswith("uid:8"))
recs = sorted(r["user"] for r in json.load(open(sys.argv[2]))
              if r.get("op") == "role add" and r.get("outcome") == "ok" and r["user"].startswith("uid:8"))
print(len(held), len(recs), "same" if held == recs else "differ")
EOF
	read -r held recs same < "$T_TMP/cmp"
	is "$same" "same" "$what: one 'role add' record per stored principal ($held stored, $recs records)"
	expect 0 "$what: audit verify" "$V" audit verify
	like "$OUT" "The audit chain verifies: [0-9]+ records" "$what: the chain verifies"
	daemon_stop
	is "$DRC" "0" "$what: stops with exit 0"
}

stream_then KILL 0.3 1
ok $? "kill -9 after 0.3s: writes were acknowledged before it"
check_all "after kill -9 at 0.3s"
stream_then KILL 0.7 2
ok $? "kill -9 after 0.7s: writes were acknowledged before it"
check_all "after kill -9 at 0.7s"
stream_then KILL 1.1 3
ok $? "kill -9 after 1.1s: writes were acknowledged before it"
check_all "after kill -9 at 1.1s"

stream_then TERM 0.5 4
ok $? "SIGTERM after 0.5s: writes were acknowledged before it"
is "$DRC" "0" "SIGTERM with 8 writers in flight: exit 0"
like "$(cat "$DLOG")" "stopping on SIGTERM" "log: stopping on SIGTERM"
check_all "after SIGTERM"

# reads, each with its record, killed mid-stream
daemon_start --key-file "$T_TMP/key"
expect 0 "audit level: positive high (every read recorded)" "$V" audit level --positive high
PIDS=""
for i in 1 2 3 4 5 6; do
	( while :; do "$V" role list >/dev/null 2>&1 || break; done ) &
	PIDS="$PIDS $!"
done
sleep 0.8
daemon_kill
wait $PIDS
daemon_start --key-file "$T_TMP/key"
ok $? "restart after kill -9 during audited reads"
expect 0 "the chain still verifies" "$V" audit verify
[ "$(audit_count "op=role list" outcome=ok)" -gt 0 ]
ok $? "records of reads made before the kill are there"
daemon_stop

done_testing
