#!/usr/bin/env bash
# Crash loops: kill -9 of the CLI (embedded mode) and of ssovaultd at random
# moments in writes (creds set, app create), in 'secret rotate' and in batch
# sends, many times over.  After each kill the vault opens, 'audit verify'
# passes, no write the CLI acknowledged (exit 0) is missing, and every
# message is delivered, suspended (once, readable) or was never taken.
# Key-file vaults: no Argon2id cost per command.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/faults/lib-faults.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
S=$SSOVAULT
ROUNDS=${FAULT_ROUNDS:-40}

# a random delay of 0..$1 milliseconds
rsleep() { sleep "$(printf '0.%03d' $((RANDOM % ($1 + 1))))"; }

# after_kill WHAT: the vault opens and the chain verifies
after_kill() {
	local what=$1
	run $S app list
	[ "$RC" -eq 0 ] || { echo "#   $what: app list: $ERR"; return 1; }
	run $S audit verify
	[ "$RC" -eq 0 ] || { echo "#   $what: audit verify: $ERR"; return 1; }
	return 0
}

# --- 1. kill -9 of the CLI in embedded mode ---------------------------------------
mkdir "$T_TMP/cli"
key_vault "$T_TMP/cli"
seed_vault
: > "$T_TMP/acked-apps"
last_creds=0 bad=0 killed=0
for i in $(seq 1 "$ROUNDS"); do
	printf '{"user":"alice","password":"pw-%d"}' "$i" > "$T_TMP/c$i.json"
	( exec $S creds set erp --user uid:0 --from-file "$T_TMP/c$i.json" >/dev/null 2>&1 ) &
	p1=$!
	( exec $S app create "crash$i" --field user --field pw:masked >/dev/null 2>&1 ) &
	p2=$!
	rsleep 12
	kill -9 $p1 $p2 2>/dev/null
	wait $p1 2>/dev/null; r1=$?
	wait $p2 2>/dev/null; r2=$?
	[ $r1 -eq 0 ] && last_creds=$i
	[ $r2 -eq 0 ] && echo "crash$i" >> "$T_TMP/acked-apps"
	[ $r1 -eq 137 ] && killed=$((killed + 1))
	[ $r2 -eq 137 ] && killed=$((killed + 1))
	after_kill "CLI round $i" || bad=$((bad + 1))
done
is "$bad" "0" "CLI kill -9 x $ROUNDS (creds set + app create, $killed processes killed): the vault opens and the chain verifies every time"
[ "$killed" -gt 0 ]
ok $? "some CLI processes were killed mid-command ($killed)"
missing=0
while read -r a; do $S app show "$a" >/dev/null 2>&1 || missing=$((missing + 1)); done < "$T_TMP/acked-apps"
is "$missing" "0" "every acknowledged app create is stored ($(wc -l < "$T_TMP/acked-apps") acknowledged)"
run $S creds get erp --user uid:0 --field password
got=${OUT#pw-}
[ "$OUT" = s3cret ] && got=0	# the seed's value: no later write committed
[ "$RC" -eq 0 ] && [ "${got:-0}" -ge "$last_creds" ] 2>/dev/null
ok $? "the stored credential is the last acknowledged one or a later one (stored $OUT, last acked pw-$last_creds)"
# every app that exists is whole: show works for each
broken=0
for a in $($S --json app list | python3 -c 'import json,sys; [print(a["name"]) for a in json.load(sys.stdin)]'); do
	$S app show "$a" >/dev/null 2>&1 || broken=$((broken + 1))
done
is "$broken" "0" "every stored app reads back whole"

# 'secret rotate' killed: enough records that a rotation takes a while
for i in $(seq 1 300); do
	$S app create "bulk$i" --field user --field pw:masked --description "bulk application $i" >/dev/null
done
bad=0 killed=0 rotated=0
for i in $(seq 1 $((ROUNDS / 2))); do
	e0=$($S --json status | json_get epoch)
	( exec $S secret rotate >/dev/null 2>&1 ) &
	p=$!
	rsleep 25
	kill -9 $p 2>/dev/null
	wait $p 2>/dev/null; r=$?
	[ $r -eq 137 ] && killed=$((killed + 1))
	e1=$($S --json status | json_get epoch)
	[ $r -eq 0 ] && rotated=$((rotated + 1))
	# acknowledged: a new epoch; killed: old or new, nothing between
	if [ $r -eq 0 ] && [ "$e1" -le "$e0" ]; then bad=$((bad + 1)); echo "#   round $i: rotate acked, epoch $e0 -> $e1"; fi
	run $S creds get erp --user uid:0 --field user
	[ "$OUT" = alice ] || { bad=$((bad + 1)); echo "#   round $i: creds after rotate: $ERR"; }
	run $S app show bulk300
	[ "$RC" -eq 0 ] || { bad=$((bad + 1)); echo "#   round $i: bulk300: $ERR"; }
	after_kill "rotate round $i" || bad=$((bad + 1))
done
is "$bad" "0" "secret rotate killed $killed times of $((ROUNDS / 2)) ($rotated completed): records open under the epoch in force, the chain verifies"

# --- 2. kill -9 of ssovaultd during writes from several clients -----------------------
mkdir "$T_TMP/d"
key_vault "$T_TMP/d"
KEY=$SSOVAULT_KEY_FILE
seed_vault
: > "$T_TMP/d-acked"
bad=0 total=0
DROUNDS=$((ROUNDS / 3))
for round in $(seq 1 "$DROUNDS"); do
	daemon_start --key-file "$KEY" || { bad=$((bad + 1)); echo "#   round $round: the daemon did not start"; continue; }
	W=""
	for w in 1 2 3 4; do
		(
			j=0
			while :; do
				j=$((j + 1))
				if [ $((j % 2)) -eq 0 ]; then
					"$SSOVAULT" app create "d${round}w${w}n$j" --field user >/dev/null 2>&1 || break
					echo "app d${round}w${w}n$j"
				else
					"$SSOVAULT" role add affiliate-admin "uid:$((100000 + round * 1000 + w * 100 + j))" >/dev/null 2>&1 || break
					echo "role uid:$((100000 + round * 1000 + w * 100 + j))"
				fi
			done >> "$T_TMP/d-acked.$w"
		) &
		W="$W $!"
	done
	sleep "0.$((2 + RANDOM % 6))"
	daemon_kill
	wait $W
	cat "$T_TMP"/d-acked.? >> "$T_TMP/d-acked"
	rm -f "$T_TMP"/d-acked.?
	unset SSOVAULT_SOCKET
	export SSOVAULT_KEY_FILE=$KEY
	after_kill "daemon round $round" || bad=$((bad + 1))
done
total=$(wc -l < "$T_TMP/d-acked")
is "$bad" "0" "ssovaultd kill -9 x $DROUNDS during 4 writers: the vault opens and the chain verifies every time"
$S --json role list > "$T_TMP/roles.json"
$S --json app list > "$T_TMP/apps.json"
missing=$(python3 - "$T_TMP/d-acked" "$T_TMP/roles.json" "$T_TMP/apps.json" <<'EOF'
import json, sys
roles = set(json.load(open(sys.argv[2]))["affiliate-admin"])
apps = set(a["name"] for a in json.load(open(sys.argv[3])))
miss = 0
for l in open(sys.argv[1]):
    kind, name = l.split()
    if (kind == "role" and name not in roles) or (kind == "app" and name not in apps):
        miss += 1
print(miss)
EOF
)
[ "$total" -gt 0 ]
ok $? "the writers got acknowledgements before each kill ($total in all)"
is "$missing" "0" "every acknowledged write through the daemon survived kill -9"

# a rotation through the daemon, killed
for i in $(seq 1 300); do
	$S app create "dbulk$i" --field user --description "bulk application $i" >/dev/null
done
bad=0 drot=0
for round in $(seq 1 "$DROUNDS"); do
	daemon_start --key-file "$KEY" || { bad=$((bad + 1)); echo "#   round $round: the daemon did not start: $(tail -1 "$DLOG")"; continue; }
	e0=$("$SSOVAULT" --json status | json_get epoch)
	( exec "$SSOVAULT" secret rotate >/dev/null 2>&1 ) &
	p=$!
	rsleep 50
	daemon_kill
	wait $p 2>/dev/null; r=$?
	[ $r -eq 0 ] && drot=$((drot + 1))
	unset SSOVAULT_SOCKET
	export SSOVAULT_KEY_FILE=$KEY
	e1=$($S --json status | json_get epoch)
	if [ $r -eq 0 ] && [ "$e1" -le "$e0" ]; then bad=$((bad + 1)); echo "#   round $round: rotate acked but epoch $e0 -> $e1"; fi
	run $S creds get erp --user uid:0 --field user
	[ "$OUT" = alice ] || { bad=$((bad + 1)); echo "#   round $round: creds: $ERR"; }
	after_kill "daemon rotate round $round" || bad=$((bad + 1))
done
is "$bad" "0" "ssovaultd killed during secret rotate x $DROUNDS ($drot acknowledged first): records open, acknowledged rotations kept, the chain verifies"

# --- 3. batch sends killed ------------------------------------------------------------------
send_bg() { "$@" >/dev/null 2>&1 </dev/null & SINK_PID=$!; }
sink_stop() { [ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null; return 0; }
at_exit sink_stop
send_bg python3 "$SOURCE_ROOT/tests/faults/sink.py" "$T_TMP/sink.port" "$T_TMP/sink.log"
for i in $(seq 1 50); do [ -s "$T_TMP/sink.port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$T_TMP/sink.port")/"
: > "$T_TMP/sink.log"

msg() {	# msg FILE TEXT
	printf '<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:Order xmlns:m="urn:test">%s</m:Order></soap:Body></soap:Envelope>\n' "$2" > "$1"
}

# check_batch TAG RESULTFILE: every "delivered" line is in the server's log,
# every "suspended ID" is in the queue with its body, no message is queued twice
check_batch() {
	python3 - "$1" "$2" "$T_TMP/sink.log" "$T_TMP/susp.json" <<'EOF'
import json, re, sys
tag, results, log, susp = sys.argv[1:5]
seen = {}
for l in open(log):
    st, order = l.split(" ", 1)
    seen.setdefault(order.strip(), set()).add(st)
queue = json.load(open(susp))
ids = {m["id"] for m in queue}
bad = 0
for l in open(results, errors="replace"):
    m = re.match(r"^(?:.*/)?(\S+)\.xml: (delivered|suspended) ?([0-9a-f]{32})?", l)
    if not m:
        continue
    name, what, sid = m.groups()
    order = "%s %s" % (tag, name)
    if what == "delivered" and "200" not in seen.get(order, set()):
        print("# delivered but not at the server:", order); bad += 1
    if what == "suspended" and sid not in ids:
        print("# suspended but not in the queue:", order, sid); bad += 1
print(bad)
EOF
}

queue_whole() {	# every queued message shows, and no order is queued twice
	local id n=0 dup
	for id in $(python3 -c 'import json,sys; [print(m["id"]) for m in json.load(open(sys.argv[1]))]' "$T_TMP/susp.json"); do
		$S suspended show "$id" > "$T_TMP/show" 2>&1 || { n=$((n + 1)); continue; }
		grep -o 'batch[0-9]* m[0-9]*' "$T_TMP/show" | head -1 >> "$T_TMP/queued-orders"
	done
	dup=$(sort "$T_TMP/queued-orders" | uniq -d | wc -l)
	echo $((n + dup))
}

send_round() {	# send_round TAG MS: a batch of 30 (every third suspends), killed after 0..MS ms
	local tag=$1 i d=$T_TMP/$1
	mkdir "$d"
	for i in $(seq 1 30); do
		if [ $((i % 3)) -eq 0 ]; then msg "$d/m$i.xml" "$tag m$i SUSPENDME"; else msg "$d/m$i.xml" "$tag m$i"; fi
	done
	( exec "$SSOVAULT" send --url "$URL" --retry-count 0 "$d"/m*.xml > /dev/null 2> "$d.results" ) &
	SPID=$!
	rsleep "$2"
}

# the CLI killed mid-batch (embedded mode)
unset SSOVAULT_SOCKET
export SSOVAULT_KEY_FILE=$KEY
bad=0
killed=0
: > "$T_TMP/queued-orders"
for round in $(seq 1 $((ROUNDS / 4))); do
	send_round "batch$round" 300
	kill -9 $SPID 2>/dev/null
	wait $SPID 2>/dev/null
	[ $? -eq 137 ] && killed=$((killed + 1))
	after_kill "send round $round" || bad=$((bad + 1))
	$S --json suspended list > "$T_TMP/susp.json"
	b=$(check_batch "batch$round" "$T_TMP/batch$round.results" | tail -1)
	bad=$((bad + b))
done
is "$bad" "0" "send killed x $((ROUNDS / 4)) ($killed mid-batch): delivered ones reached the server, suspended ones are queued, the chain verifies"
is "$(queue_whole)" "0" "every queued message reads back whole, none twice"
dl=$(grep -c '^200 ' "$T_TMP/sink.log")
sq=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T_TMP/susp.json")
echo "# CLI kills: $dl delivered, $sq suspended in all"

# ssovaultd killed mid-batch: the sender suspends through the daemon
bad=0 dfail=0
: > "$T_TMP/queued-orders"
for round in $(seq 1 $((ROUNDS / 4))); do
	daemon_start --key-file "$KEY" || { bad=$((bad + 1)); echo "#   round $round: the daemon did not start: $(tail -1 "$DLOG")"; continue; }
	send_round "dbatch$round" 300
	daemon_kill
	wait $SPID
	r=$?
	unset SSOVAULT_SOCKET
	export SSOVAULT_KEY_FILE=$KEY
	after_kill "daemon send round $round" || bad=$((bad + 1))
	$S --json suspended list > "$T_TMP/susp.json"
	b=$(check_batch "dbatch$round" "$T_TMP/dbatch$round.results" | tail -1)
	bad=$((bad + b))
	# the sender lives on: one result line for each of the 30 (delivered,
	# suspended, or failed with the file left where it was), and a summary
	n=$(grep -cE '^[^ ]*m[0-9]+\.xml: (delivered|suspended|failed|fault|not sent)' "$T_TMP/dbatch$round.results")
	if [ "$n" -ne 30 ] || ! grep -qE '^30 messages: ' "$T_TMP/dbatch$round.results"; then
		bad=$((bad + 1)); echo "#   round $round: exit $r with $n of 30 results"
	fi
	if grep -q ': failed: ' "$T_TMP/dbatch$round.results" && [ $r -eq 0 ]; then
		bad=$((bad + 1)); echo "#   round $round: a message failed but send exited 0"
	fi
	dfail=$((dfail + $(grep -c ': failed: .*could not be suspended' "$T_TMP/dbatch$round.results")))
done
is "$bad" "0" "ssovaultd killed x $((ROUNDS / 4)) during batch sends: delivered ones reached the server, suspended ones are queued, the rest reported failed ($dfail could not be suspended), the chain verifies"
is "$(queue_whole)" "0" "after daemon kills every queued message reads back whole, none twice"

done_testing
