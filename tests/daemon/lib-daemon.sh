# Helpers for the ssovaultd tests; source after tests/lib.sh.
#   daemon_start [ssovaultd options...]   start on $SOCK, wait until it answers
#   daemon_stop                           SIGTERM and wait; exit status in $DRC
#   daemon_kill                           SIGKILL and wait
# The daemon logs to $DLOG; the CLI reaches it through SSOVAULT_SOCKET.

SOCK="$T_TMP/ssovault.sock"
DLOG="$T_TMP/daemon.log"
DPID=""
DRC=""

daemon_cleanup() {
	if [ -n "$DPID" ]; then
		kill -9 "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	if [ -s "$DLOG" ] && [ "$T_FAILED" -ne 0 ]; then
		echo "# daemon log (last 30 lines):"
		tail -30 "$DLOG" | sed 's/^/#   /'
	fi
}
at_exit daemon_cleanup

# Wait until the daemon answers status, or it died; 0 if it answers.
daemon_wait() {
	local i
	for i in $(seq 1 150); do
		if "$SSOVAULT" status >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

daemon_start() {
	# the CLI must reach the daemon, never fall back to embedded mode
	export SSOVAULT_SOCKET="$SOCK"
	unset SSOVAULT_PASSPHRASE_FILE SSOVAULT_KEY_FILE
	# a vault at a URI: the journal of reads in the test's own directory
	local jd=()
	case $SSOVAULT_DIR in
	postgres*://*) jd=(--journal-dir "$T_TMP/journal") ;;
	esac
	"$SSOVAULTD" --vault "$SSOVAULT_DIR" --socket "$SOCK" --log-file "$DLOG" "${jd[@]}" "$@" \
	    >/dev/null 2>>"$DLOG" &
	DPID=$!
	daemon_wait
}

daemon_stop() {
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID"
	DRC=$?
	DPID=""
	return "$DRC"
}

daemon_kill() {
	kill -9 "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=""
}

# The daemon's open file descriptors (the test runs as root).
daemon_fds() { ls "/proc/$DPID/fd" 2>/dev/null | wc -l; }

# payroll_for UID...: app payroll (fields user, password) with those uids as
# its users, uid N mapped to extN / pwN, through the CLI as it reaches the
# vault now ($V).
payroll_for() {
	local u users=()
	for u in "$@"; do users+=(--user "uid:$u"); done
	expect 0 "app create payroll" "$V" app create payroll --enable "${users[@]}" \
	    --field user --field password:masked
	for u in "$@"; do
		printf '{"user": "ext%s", "password": "pw%s"}' "$u" "$u" > "$T_TMP/c$u.json"
		expect 0 "mapping for uid:$u" "$V" mapping create payroll "uid:$u" "ext$u"
		expect 0 "creds set for uid:$u" "$V" creds set payroll --user "uid:$u" \
		    --from-file "$T_TMP/c$u.json"
	done
}

# reads_count: records of answered credential reads of uid 0 in the chain
reads_count() { audit_count uid=0 "op=creds get" outcome=ok; }

# audit_count KEY=VALUE...: audit records (read as the vault admin, root)
# whose fields all match; e.g. audit_count uid=5004 op=lock "outcome=access denied".
audit_count() {
	"$SSOVAULT" --json audit list | python3 -c '
import json, sys
recs = json.load(sys.stdin)
want = [a.split("=", 1) for a in sys.argv[1:]]
print(sum(1 for r in recs if all(str(r.get(k)) == v for k, v in want)))' "$@"
}

# audit_sum KEY=VALUE...: like audit_count, but a record of repeated
# failures counts as many events as it holds (its "count").
audit_sum() {
	"$SSOVAULT" --json audit list | python3 -c '
import json, sys
recs = json.load(sys.stdin)
want = [a.split("=", 1) for a in sys.argv[1:]]
print(sum(r.get("count", 1) for r in recs if all(str(r.get(k)) == v for k, v in want)))' "$@"
}

# json_get KEY: the top-level KEY of the JSON document on stdin.
json_get() {
	python3 -c '
import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# tap_relay FILE: the PASS/FAIL lines a C helper program wrote, as TAP
# checks; its "#" lines as they are.
tap_relay() {
	local line
	while IFS= read -r line; do
		case "$line" in
		PASS\ *) ok 0 "${line#PASS }" ;;
		FAIL\ *) ok 1 "${line#FAIL }" ;;
		\#*) echo "$line" ;;
		esac
	done < "$1"
}
