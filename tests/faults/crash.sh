#!/usr/bin/env bash
# Crash loops: kill -9 of the CLI (embedded mode) and of ssovaultd in writes
# (creds set, app create), in 'secret rotate' and in batch sends, many times
# over.  After each kill the vault opens, 'audit verify' passes, no write the
# CLI acknowledged (exit 0) is missing, and every message is delivered,
# suspended (once, readable) or was never taken.
#
# Every loop is calibrated (tests/lib-kill.sh): it first times what it kills
# with a few clean runs, spreads its kill moments over twice that span, and
# at the end checks that some kills landed before an acknowledgement and
# some after one, so that neither check above is made against nothing.
#
# Environment: FAULT_ROUNDS (40) sets the rounds: all of them for the CLI
# writers, a half for rotate, a third for the daemon loops, a quarter for
# the sends (at least 4); FAULT_ROUNDS_EACH gives every loop that many
# (tests/soak); CRASH_PARTS picks loops (default all: cli rotate daemon
# drotate send dsend); KILL_WINDOW_MS, KILL_SPREAD and KILL_STATS as in
# tests/lib-kill.sh.
# Key-file vaults: no Argon2id cost per command.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/lib-kill.sh"
. "$SOURCE_ROOT/tests/faults/lib-faults.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
S=$SSOVAULT
ROUNDS=${FAULT_ROUNDS:-40}
# rounds_for DIVISOR: a loop's share of the rounds
rounds_for() {
	local n=${FAULT_ROUNDS_EACH:-$((ROUNDS / $1))}
	[ "$n" -ge 4 ] || n=4
	echo "$n"
}
PARTS=" ${CRASH_PARTS:-cli rotate daemon drotate send dsend} "
part() { case $PARTS in *" $1 "*) return 0 ;; esac; return 1; }

# after_kill WHAT: the vault opens and the chain verifies
after_kill() {
	local what=$1
	run $S app list
	[ "$RC" -eq 0 ] || { echo "#   $what: app list: $ERR"; return 1; }
	run $S audit verify
	[ "$RC" -eq 0 ] || { echo "#   $what: audit verify: $ERR"; return 1; }
	return 0
}

# exited WHAT STATUS: 0 when STATUS is an acknowledgement (0) or a kill
# (137); else says what else it was, for the round's tally of surprises
exited() {
	case $2 in
	0 | 137) return 0 ;;
	esac
	echo "#   $1 exited $2 without being killed"
	return 1
}

# bulk PREFIX: 300 apps (in one ENTSSO import), so that a rotation has
# records to re-seal
bulk() {
	local i
	{
		echo "<sso>"
		for i in $(seq 1 300); do
			printf '<application name="%s%d"><description>bulk application %d</description><field ordinal="0" label="user" masked="no"/><field ordinal="1" label="pw" masked="yes"/></application>\n' "$1" "$i" "$i"
		done
		echo "</sso>"
	} > "$T_TMP/$1.xml"
	$S app import "$T_TMP/$1.xml" >/dev/null
}

mkdir "$T_TMP/cli"
key_vault "$T_TMP/cli"
seed_vault

# --- 1. kill -9 of the CLI in embedded mode, two writers at once ---------------------

# cli_pair N APP: 'creds set' (password pw-N) and 'app create APP' at once,
# in the background, as $P1 and $P2
cli_pair() {
	printf '{"user":"alice","password":"pw-%s"}' "$1" > "$T_TMP/c$1.json"
	( exec $S creds set erp --user uid:0 --from-file "$T_TMP/c$1.json" >/dev/null 2>&1 ) &
	P1=$!
	( exec $S app create "$2" --field user --field pw:masked >/dev/null 2>&1 ) &
	P2=$!
}
ncal=0
cli_pair_clean() {	# the calibration: pw-0 and app crashcalN, to the end
	local r1 r2
	ncal=$((ncal + 1))
	cli_pair 0 "crashcal$ncal"
	wait $P1; r1=$?
	wait $P2; r2=$?
	[ $r1 -eq 0 ] && [ $r2 -eq 0 ]
}

if part cli; then
	: > "$T_TMP/acked-apps"
	last_creds=0 bad=0
	kill_calibrate cli 3 cli_pair_clean
	kill_plan cli "$(rounds_for 1)"
	while kill_next cli; do
		i=$KILL_ROUND
		cli_pair "$i" "crash$i"
		kill_start cli
		kill_wait cli
		kill -9 $P1 $P2 2>/dev/null
		wait $P1 2>/dev/null; r1=$?
		wait $P2 2>/dev/null; r2=$?
		exited "round $i: creds set" $r1 || bad=$((bad + 1))
		exited "round $i: app create" $r2 || bad=$((bad + 1))
		[ $r1 -eq 0 ] && last_creds=$i
		[ $r2 -eq 0 ] && echo "crash$i" >> "$T_TMP/acked-apps"
		kill_outcome cli:creds $((r1 == 0)) $((r1 == 137))
		kill_outcome cli:app $((r2 == 0)) $((r2 == 137))
		after_kill "CLI round $i" || bad=$((bad + 1))
	done
	is "$bad" "0" "CLI kill -9 x $KILL_ROUND (creds set + app create): each exits 0 or is killed, the vault opens and the chain verifies every time"
	kill_check cli:creds "creds set killed"
	kill_check cli:app "app create killed"
	missing=0
	while read -r a; do $S app show "$a" >/dev/null 2>&1 || missing=$((missing + 1)); done < "$T_TMP/acked-apps"
	kill_lost cli:app "$missing"
	is "$missing" "0" "every acknowledged app create is stored ($(wc -l < "$T_TMP/acked-apps") acknowledged)"
	run $S creds get erp --user uid:0 --field password
	got=${OUT#pw-}
	[ "$RC" -eq 0 ] && [ "$got" != "$OUT" ] && [ "$got" -ge "$last_creds" ] 2>/dev/null
	st=$?
	kill_lost cli:creds "$st"
	ok $st "the stored credential is the last acknowledged one or a later one (stored $OUT, last acknowledged pw-$last_creds)"
	# every app that exists is whole: show works for each
	broken=0 napps=0
	for a in $($S --json app list | python3 -c 'import json,sys; [print(a["name"]) for a in json.load(sys.stdin)]'); do
		napps=$((napps + 1))
		$S app show "$a" >/dev/null 2>&1 || broken=$((broken + 1))
	done
	[ "$napps" -gt 1 ]
	ok $? "the vault holds the seed app and the acknowledged ones ($napps apps)"
	is "$broken" "0" "every stored app reads back whole"
fi

# rotated KEY ROUND STATUS E0: after a killed rotation, whose exit status
# was STATUS and epoch before it E0: an acknowledged rotation left a new
# epoch, and either way the credentials open under the epoch in force;
# the status is the number of failures (each said in a "#" line)
rotated() {
	local key=$1 round=$2 r=$3 e0=$4 e1 n=0
	e1=$($S --json status | json_get epoch)
	if [ "$r" -eq 0 ] && [ "$e1" -le "$e0" ]; then
		n=$((n + 1))
		kill_lost "$key" 1
		echo "#   round $round: rotate acknowledged, epoch $e0 -> $e1"
	fi
	run $S creds get erp --user uid:0 --field user
	[ "$OUT" = alice ] || { n=$((n + 1)); echo "#   round $round: creds after rotate: $ERR"; }
	return $n
}

# --- 'secret rotate' killed ----------------------------------------------------------
if part rotate; then
	bulk bulk
	ok $? "300 apps, so that a rotation has records to re-seal"
	bad=0
	kill_calibrate rotate 3 $S secret rotate
	kill_plan rotate "$(rounds_for 2)"
	while kill_next rotate; do
		i=$KILL_ROUND
		e0=$($S --json status | json_get epoch)
		( exec $S secret rotate >/dev/null 2>&1 ) &
		p=$!
		kill_start rotate
		kill_wait rotate
		kill -9 $p 2>/dev/null
		wait $p 2>/dev/null; r=$?
		exited "round $i: secret rotate" $r || bad=$((bad + 1))
		kill_outcome rotate $((r == 0)) $((r == 137))
		rotated rotate "$i" "$r" "$e0"
		bad=$((bad + $?))
		run $S app show bulk300
		[ "$RC" -eq 0 ] || { bad=$((bad + 1)); echo "#   round $i: bulk300: $ERR"; }
		after_kill "rotate round $i" || bad=$((bad + 1))
	done
	is "$bad" "0" "secret rotate killed x $KILL_ROUND: records open under the epoch in force, acknowledged rotations kept, the chain verifies"
	kill_check rotate "secret rotate killed"
fi

# --- 2. kill -9 of ssovaultd during writes from several clients -----------------------
mkdir "$T_TMP/d"
key_vault "$T_TMP/d"
KEY=$SSOVAULT_KEY_FILE
seed_vault

# back to embedded mode on the vault after a daemon was killed
embedded() {
	unset SSOVAULT_SOCKET
	export SSOVAULT_KEY_FILE=$KEY
}

# writers TAG MAX: 4 clients of the daemon, each writing up to MAX times
# (app create and role add in turn) until the first error, printing each
# acknowledged write to $T_TMP/d-acked.W; their pids in $WRITERS
writers() {
	local tag=$1 max=$2 w
	WRITERS=""
	for w in 1 2 3 4; do
		(
			j=0
			while [ $j -lt "$max" ]; do
				j=$((j + 1))
				if [ $((j % 2)) -eq 0 ]; then
					"$SSOVAULT" app create "d${tag}w${w}n$j" --field user >/dev/null 2>&1 || exit 1
					echo "app d${tag}w${w}n$j"
				else
					u=$(((tag * 10 + w) * 100000 + j))
					"$SSOVAULT" role add affiliate-admin "uid:$u" >/dev/null 2>&1 || exit 1
					echo "role uid:$u"
				fi
			done >> "$T_TMP/d-acked.$w"
		) &
		WRITERS="$WRITERS $!"
	done
}
# one write each: the span of a round is until all four have one acknowledged
writers_clean() {
	local p st=0
	ncal=$((ncal + 1))
	writers "$ncal" 1
	for p in $WRITERS; do wait "$p" || st=1; done
	return $st
}

if part daemon; then
	: > "$T_TMP/d-acked"
	rm -f "$T_TMP"/d-acked.?
	bad=0
	daemon_start --key-file "$KEY"
	ok $? "the daemon starts for calibration"
	kill_calibrate daemon 3 writers_clean
	daemon_stop
	cat "$T_TMP"/d-acked.? >> "$T_TMP/d-acked"
	rm -f "$T_TMP"/d-acked.?
	kill_plan daemon "$(rounds_for 3)"
	while kill_next daemon; do
		round=$KILL_ROUND
		daemon_start --key-file "$KEY" || { bad=$((bad + 1)); echo "#   round $round: the daemon did not start"; continue; }
		writers "$((100 + round))" 99999
		kill_start daemon
		kill_wait daemon
		daemon_kill
		cut=0
		for p in $WRITERS; do wait "$p" || cut=$((cut + 1)); done
		n=$(cat "$T_TMP"/d-acked.? 2>/dev/null | wc -l)
		cat "$T_TMP"/d-acked.? >> "$T_TMP/d-acked" 2>/dev/null
		rm -f "$T_TMP"/d-acked.?
		kill_outcome daemon "$n" "$cut"
		embedded
		after_kill "daemon round $round" || bad=$((bad + 1))
	done
	is "$bad" "0" "ssovaultd kill -9 x $KILL_ROUND during 4 writers: the vault opens and the chain verifies every time"
	kill_check daemon "ssovaultd killed during 4 writers"
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
	kill_lost daemon "$missing"
	is "$missing" "0" "every acknowledged write through the daemon survived kill -9 ($(wc -l < "$T_TMP/d-acked") acknowledged)"
fi

# --- a rotation through the daemon, killed ---------------------------------------------
if part drotate; then
	embedded
	bulk dbulk
	ok $? "300 apps, so that a rotation has records to re-seal"
	bad=0
	daemon_start --key-file "$KEY"
	ok $? "the daemon starts for calibration"
	kill_calibrate drotate 3 "$SSOVAULT" secret rotate
	daemon_stop
	kill_plan drotate "$(rounds_for 3)"
	while kill_next drotate; do
		round=$KILL_ROUND
		daemon_start --key-file "$KEY" || { bad=$((bad + 1)); echo "#   round $round: the daemon did not start: $(tail -1 "$DLOG")"; continue; }
		e0=$("$SSOVAULT" --json status | json_get epoch)
		( exec "$SSOVAULT" secret rotate >/dev/null 2>&1 ) &
		p=$!
		kill_start drotate
		kill_wait drotate
		daemon_kill
		wait $p 2>/dev/null; r=$?
		kill_outcome drotate $((r == 0)) $((r != 0))
		embedded
		rotated drotate "$round" "$r" "$e0"
		bad=$((bad + $?))
		after_kill "daemon rotate round $round" || bad=$((bad + 1))
	done
	is "$bad" "0" "ssovaultd killed during secret rotate x $KILL_ROUND: records open, acknowledged rotations kept, the chain verifies"
	kill_check drotate "ssovaultd killed during secret rotate"
fi

# --- 3. batch sends killed ------------------------------------------------------------------
part send || part dsend || done_testing
send_bg() { "$@" >/dev/null 2>&1 </dev/null & SINK_PID=$!; }
sink_stop() { [ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null; return 0; }
at_exit sink_stop
send_bg python3 "$SOURCE_ROOT/tests/faults/sink.py" "$T_TMP/sink.port" "$T_TMP/sink.log"
for i in $(seq 1 50); do [ -s "$T_TMP/sink.port" ] && break; sleep 0.1; done
[ -s "$T_TMP/sink.port" ]
ok $? "the SOAP sink listens"
URL="http://127.0.0.1:$(cat "$T_TMP/sink.port")/"
: > "$T_TMP/sink.log"

msg() {	# msg FILE TEXT
	printf '<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:Order xmlns:m="urn:test">%s</m:Order></soap:Body></soap:Envelope>\n' "$2" > "$1"
}

# check_batch TAG RESULTFILE: every "delivered" line is in the server's
# log, every "suspended ID" is in the queue; prints "DELIVERED SUSPENDED
# FAILED LOST" (lost: reported delivered or suspended, and not there)
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
n = {"delivered": 0, "suspended": 0, "failed": 0}
lost = 0
for l in open(results, errors="replace"):
    m = re.match(r"^(?:.*/)?(\S+)\.xml: (delivered|suspended|failed) ?([0-9a-f]{32})?", l)
    if not m:
        continue
    name, what, sid = m.groups()
    n[what] += 1
    order = "%s %s" % (tag, name)
    if what == "delivered" and "200" not in seen.get(order, set()):
        print("# delivered but not at the server:", order); lost += 1
    if what == "suspended" and sid not in ids:
        print("# suspended but not in the queue:", order, sid); lost += 1
print(n["delivered"], n["suspended"], n["failed"], lost)
EOF
}

# queue_whole WHAT: every queued message shows, and no order is queued twice
queue_whole() {
	local id n=0 dup all=0
	: > "$T_TMP/queued-orders"
	for id in $(python3 -c 'import json,sys; [print(m["id"]) for m in json.load(open(sys.argv[1]))]' "$T_TMP/susp.json"); do
		all=$((all + 1))
		$S suspended show "$id" > "$T_TMP/show" 2>&1 || { n=$((n + 1)); continue; }
		grep -oE '[a-z]*batch[0-9a-z]* m[0-9]+' "$T_TMP/show" | head -1 >> "$T_TMP/queued-orders"
	done
	dup=$(sort "$T_TMP/queued-orders" | uniq -d | wc -l)
	[ "$all" -gt 0 ]
	ok $? "$1: the queue holds messages to check ($all)"
	is "$((n + dup))" "0" "$1: every queued message reads back whole, none twice"
}

send_round() {	# send_round TAG: a batch of 30 (every third suspends) in the background, $SPID
	local tag=$1 i d=$T_TMP/$1
	mkdir "$d"
	for i in $(seq 1 30); do
		if [ $((i % 3)) -eq 0 ]; then msg "$d/m$i.xml" "$tag m$i SUSPENDME"; else msg "$d/m$i.xml" "$tag m$i"; fi
	done
	( exec "$SSOVAULT" send --url "$URL" --retry-count 0 "$d"/m*.xml > /dev/null 2> "$d.results" ) &
	SPID=$!
}
# a whole batch: 20 delivered and 10 suspended, exit 4
send_clean() {
	ncal=$((ncal + 1))
	send_round "batchcal$ncal"
	wait $SPID
	[ $? -eq 4 ] && grep -qE '^30 messages: 20 delivered, 0 faults, 10 suspended' "$T_TMP/batchcal$ncal.results"
}
# batch_checked KEY TAG: after a killed batch TAG, the vault opens, the
# chain verifies, and each message reported delivered or suspended is where
# it should be; adds the messages to KEY's figures and sets
# BATCH_SUSPENDED; the status is the number of failures
batch_checked() {
	local key=$1 tag=$2 n=0 dl sq fl lost
	after_kill "$tag" || n=1
	$S --json suspended list > "$T_TMP/susp.json"
	read -r dl sq fl lost < <(check_batch "$tag" "$T_TMP/$tag.results" | tee "$T_TMP/cb" | tail -1)
	grep '^#' "$T_TMP/cb"
	kill_messages "$key" "$dl" "$sq" "$fl" "$lost"
	BATCH_SUSPENDED=$sq
	return $((n + lost))
}
reported() {	# reported RESULTFILE: result lines in it
	grep -cE '^[^ ]*m[0-9]+\.xml: (delivered|suspended|failed|fault|not sent)' "$1"
}

# the CLI killed mid-batch (embedded mode)
embedded
if part send; then
	bad=0
	kill_calibrate send 3 send_clean
	kill_plan send "$(rounds_for 4)"
	while kill_next send; do
		round=$KILL_ROUND
		send_round "batch$round"
		kill_start send
		kill_wait send
		kill -9 $SPID 2>/dev/null
		wait $SPID 2>/dev/null; r=$?
		case $r in 0 | 4 | 137) ;; *) bad=$((bad + 1)); echo "#   round $round: send exited $r" ;; esac
		n=$(reported "$T_TMP/batch$round.results")
		kill_outcome send "$n" $((30 - n))
		batch_checked send "batch$round"
		bad=$((bad + $?))
	done
	is "$bad" "0" "send killed x $KILL_ROUND: delivered ones reached the server, suspended ones are queued, the chain verifies"
	kill_check send "send killed mid-batch"
	queue_whole "after CLI kills"
	dl=$(grep -c '^200 ' "$T_TMP/sink.log")
	sq=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T_TMP/susp.json")
	echo "# CLI kills: $dl delivered, $sq suspended in all"
fi

# ssovaultd killed mid-batch: the sender suspends through the daemon, and
# its acknowledgements are the suspends (deliveries do not need it)
if part dsend; then
	bad=0 dfail=0
	daemon_start --key-file "$KEY"
	ok $? "the daemon starts for calibration"
	kill_calibrate dsend 3 send_clean
	daemon_stop
	kill_plan dsend "$(rounds_for 4)"
	while kill_next dsend; do
		round=$KILL_ROUND
		daemon_start --key-file "$KEY" || { bad=$((bad + 1)); echo "#   round $round: the daemon did not start: $(tail -1 "$DLOG")"; continue; }
		send_round "dbatch$round"
		kill_start dsend
		kill_wait dsend
		daemon_kill
		wait $SPID
		r=$?
		embedded
		batch_checked dsend "dbatch$round"
		bad=$((bad + $?))
		# the sender lives on: one result line for each of the 30 (delivered,
		# suspended, or failed with the file left where it was), and a summary
		n=$(reported "$T_TMP/dbatch$round.results")
		if [ "$n" -ne 30 ] || ! grep -qE '^30 messages: ' "$T_TMP/dbatch$round.results"; then
			bad=$((bad + 1)); echo "#   round $round: exit $r with $n of 30 results"
		fi
		if grep -q ': failed: ' "$T_TMP/dbatch$round.results" && [ $r -eq 0 ]; then
			bad=$((bad + 1)); echo "#   round $round: a message failed but send exited 0"
		fi
		cut=$(grep -c ': failed: .*could not be suspended' "$T_TMP/dbatch$round.results")
		dfail=$((dfail + cut))
		kill_outcome dsend "$BATCH_SUSPENDED" "$cut"
	done
	is "$bad" "0" "ssovaultd killed x $KILL_ROUND during batch sends: delivered ones reached the server, suspended ones are queued, the rest reported failed ($dfail could not be suspended), the chain verifies"
	kill_check dsend "ssovaultd killed during batch sends"
	queue_whole "after daemon kills"
fi

done_testing
