#!/usr/bin/env bash
# Crash safety of ssovaultd: kill -9 during a stream of writes from 8
# clients (the daemon's group commit), at moments spread over a span the
# test measures first (tests/lib-kill.sh), and SIGTERM during another
# stream.  Every write that was acknowledged is there after a restart, the
# audit trail holds exactly one record per stored write (no more, no
# fewer), and the chain verifies; some kills landed before any write was
# acknowledged and some after.  A stream of audited reads killed the same
# way keeps a record for every read that was answered.
#
# FAULT_ROUNDS (40) scales the kill rounds (a fifth of it, at least 6);
# FAULT_ROUNDS_EACH sets them (tests/soak).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/lib-kill.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

CLIENTS=$1
V=$SSOVAULT
ROUNDS=${FAULT_ROUNDS_EACH:-$((${FAULT_ROUNDS:-40} / 5))}
[ "$ROUNDS" -ge 6 ] || ROUNDS=6
[ "$ROUNDS" -le 150 ] || ROUNDS=150	# with the extra rounds, the principals have room: runs up to 199
THREADS=8 MAX=400
new_vault --key-file "$T_TMP/key"
: > "$T_TMP/acked"

# stream RUN N: the 8 writers add principals uid:8RRT0kkk (RR = RUN, T =
# thread), up to N each, until the first error, printing each acknowledged
# one to $T_TMP/acked.now, in the background as $CPID
stream() {
	"$CLIENTS" stream "$SOCK" "$THREADS" "$2" $((800000 + $1 * 1000)) > "$T_TMP/acked.now" 2>/dev/null &
	CPID=$!
}

ncal=0

# roles and audit agree: the principals stored, and the "role add" records
check_all() {
	local what=$1 missing held recs same
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
	LAST_MISSING=$missing
	is "$missing" "0" "$what: every acknowledged write is stored ($(wc -l < "$T_TMP/acked") so far)"
	"$V" --json audit list > "$T_TMP/audit.json"
	python3 - "$T_TMP/roles.json" "$T_TMP/audit.json" > "$T_TMP/cmp" <<'EOF'
import json, sys
def ours(p):
    return p.startswith("uid:") and p[4:].isdigit() and int(p[4:]) >= 80000000
held = sorted(p for p in json.load(open(sys.argv[1]))["affiliate-admin"] if ours(p))
recs = sorted(r["user"] for r in json.load(open(sys.argv[2]))
              if r.get("op") == "role add" and r.get("outcome") == "ok" and ours(r["user"]))
print(len(held), len(recs), "same" if held == recs else "differ")
EOF
	read -r held recs same < "$T_TMP/cmp"
	is "$same" "same" "$what: one 'role add' record per stored principal ($held stored, $recs records)"
	expect 0 "$what: audit verify" "$V" audit verify
	like "$OUT" "The audit chain verifies: [0-9]+ records" "$what: the chain verifies"
	daemon_stop
	is "$DRC" "0" "$what: stops with exit 0"
}

daemon_start --key-file "$T_TMP/key"
ok $? "the daemon starts for calibration"
kill_calibrate stream 3 kill_stream_clean
daemon_stop
kill_plan stream "$ROUNDS"
while kill_next stream; do
	daemon_start --key-file "$T_TMP/key" || { ok 1 "round $KILL_ROUND: the daemon starts"; continue; }
	stream $((10 + KILL_ROUND)) "$MAX"
	kill_start stream
	kill_wait stream
	daemon_kill
	wait "$CPID"
	n=$(wc -l < "$T_TMP/acked.now")
	cat "$T_TMP/acked.now" >> "$T_TMP/acked"
	kill_outcome stream "$n" "$(kill_cut_off "$MAX")"
	echo "# kill -9 at $KILL_MS ms: $n writes acknowledged"
	check_all "after kill -9 at $KILL_MS ms"
done
kill_lost stream "$LAST_MISSING"	# the last check covers every round
kill_check stream "ssovaultd killed during 8 writers (group commit)"

# has_lines FILE N: FILE has N lines or more
has_lines() { [ "$(wc -l < "$1")" -ge "$2" ]; }

# SIGTERM once writes are being acknowledged, and while more are in flight
daemon_start --key-file "$T_TMP/key"
stream 5 "$MAX"
wait_for 60 has_lines "$T_TMP/acked.now" 1
ok $? "writes are acknowledged before the SIGTERM"
daemon_stop
wait "$CPID"
n=$(wc -l < "$T_TMP/acked.now")
cat "$T_TMP/acked.now" >> "$T_TMP/acked"
echo "# SIGTERM: $n writes acknowledged"
[ "$n" -lt $((THREADS * MAX)) ]
ok $? "the SIGTERM came while writes were in flight ($n of $((THREADS * MAX)) acknowledged)"
is "$DRC" "0" "SIGTERM with 8 writers in flight: exit 0"
like "$(cat "$DLOG")" "stopping on SIGTERM" "log: stopping on SIGTERM"
check_all "after SIGTERM"

# reads, each with its record, killed mid-stream once some were answered
daemon_start --key-file "$T_TMP/key"
expect 0 "audit level: positive high (every read recorded)" "$V" audit level --positive high
: > "$T_TMP/reads"
PIDS=""
for i in 1 2 3 4 5 6; do
	( while "$V" role list >/dev/null 2>&1; do echo read; done >> "$T_TMP/reads" ) &
	PIDS="$PIDS $!"
done
wait_for 60 has_lines "$T_TMP/reads" 12
ok $? "reads are answered before the kill"
daemon_kill
wait $PIDS
answered=$(wc -l < "$T_TMP/reads")
daemon_start --key-file "$T_TMP/key"
ok $? "restart after kill -9 during audited reads"
expect 0 "the chain still verifies" "$V" audit verify
recs=$(audit_count "op=role list" outcome=ok)
[ "$answered" -gt 0 ] && [ "$recs" -ge "$answered" ]
ok $? "every answered read has its record ($answered answered, $recs records)"
daemon_stop

done_testing
