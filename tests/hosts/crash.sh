#!/usr/bin/env bash
# Crash loops on a PostgreSQL vault (docs/hosts.md, docs/testing.md): 8
# writers through ssovaultd (clients stream: role adds, the group commit)
# and, at calibrated moments around their acknowledgements
# (tests/lib-kill.sh),
#   pgdaemon   ssovaultd killed with -9; then restarted;
#   pgserver   the database server stopped -m immediate (SIGQUIT, as pg_ctl sends);
#              then started again, while the daemon keeps running.
# After each kill every acknowledged write is stored, no write is half done
# (the stored principals and the "role add" audit records are the same
# set), `audit verify` passes, and after a server stop the same daemon
# serves again by itself.  Each loop then checks that some kills landed
# before an acknowledgement and some after one.
#
# The server is this test's own (pg_start in its temp dir), never the one
# ./run-tests shares: it is stopped on purpose.
#
#   crash.sh DAEMON-CLIENTS
# Environment: FAULT_ROUNDS (40): a tenth of it per loop (at least 4);
# FAULT_ROUNDS_EACH sets it (tests/soak); CRASH_PARTS picks loops (default
# "pgdaemon pgserver"); KILL_WINDOW_MS, KILL_SPREAD, KILL_STATS as in
# tests/lib-kill.sh.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/lib-kill.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/pg/pg.sh"

CLIENTS=$1
V=$SSOVAULT
ROUNDS=${FAULT_ROUNDS_EACH:-$((${FAULT_ROUNDS:-40} / 10))}
[ "$ROUNDS" -ge 4 ] || ROUNDS=4
[ "$ROUNDS" -le 150 ] || ROUNDS=150	# with the extra rounds, runs up to 199: BASE's bound
THREADS=8 MAX=400
PARTS=" ${CRASH_PARTS:-pgdaemon pgserver} "
part() { case $PARTS in *" $1 "*) return 0 ;; esac; return 1; }

# --- a server of our own, and the vault in it
unset PG_DIR PG_SOCK PG_PORT PG_CA
pg_down() {
	pg_stop "$T_TMP/pg" immediate
	[ "$T_FAILED" -ne 0 ] && [ -s "$T_TMP/pg/sock/log" ] && tail -15 "$T_TMP/pg/sock/log" | sed 's/^/# db: /'
	return 0
}
at_exit pg_down
pg_start "$T_TMP/pg" >"$T_TMP/pg-start.log" 2>&1 ||
    { sed 's/^/# /' "$T_TMP/pg-start.log"; echo "Bail out! no PostgreSQL server"; exit 1; }
export SSOVAULT_TEST_VAULT=pg SSOVAULT_TEST_PG

# vault_for PART: a fresh vault (database) for one loop, whose writers
# number their principals from 0 again (clients stream's BASE is bounded)
vault_for() {
	SSOVAULT_TEST_PG=$(pg_db "v_$1") && new_vault --key-file "$T_TMP/key"
	ok $? "$1: a PostgreSQL vault on a server of this test's own"
	: > "$T_TMP/acked"
	ncal=0
}

# pg_up: the server starts again (the postgres user, as pg_start does)
pg_up() {
	setpriv --reuid=postgres --regid=postgres --init-groups -- \
	    "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/sock/log" -w -t 60 start >/dev/null
}

# pg_kill: the server stopped at once: no shutdown checkpoint, backends
# killed (the crash of the database host, as far as the vault can tell).
# What `pg_ctl stop -m immediate` does, SIGQUIT to the postmaster, sent
# from this shell (no process to start: pg_ctl took some ms to send it,
# which a write as fast as a few round trips could finish in, and the kill
# would not land at the moment planned); then wait until it is gone.
pg_kill() {
	local pid n=6000
	read -r pid < "$PG_DIR/data/postmaster.pid" || return 1
	kill -QUIT "$pid" || return 1
	[ -p "$T_TMP/.pg-wait" ] || mkfifo "$T_TMP/.pg-wait"
	while kill -0 "$pid" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		read -rt 0.01 <>"$T_TMP/.pg-wait"
	done
	return 0
}

# stream RUN N: the 8 writers add principals uid:8RRT0kkk (RR = RUN < 200,
# T = thread), up to N each, until the first error, printing each acknowledged
# one to $T_TMP/acked.now, in the background as $CPID
stream() {
	"$CLIENTS" stream "$SOCK" "$THREADS" "$2" $((800000 + $1 * 1000)) > "$T_TMP/acked.now" 2>"$T_TMP/stream.err" &
	CPID=$!
}


# again OUT CMD...: CMD with its output in OUT, tried again (5 times at
# most) while it fails with "conflict": a read that met a change committed
# meanwhile, which the store answers with "try again" (vault/store/pg.c);
# each retry is said in a "#" line.
# Any other failure is shown and ends it.
again() {
	local out=$1 i
	shift
	for i in 1 2 3 4 5; do
		"$@" >"$out" 2>"$T_TMP/again.err" && return 0
		grep -q conflict "$T_TMP/again.err" || break
		echo "#   '${*:2}' met a conflict, tried again: $(head -1 "$T_TMP/again.err")"
	done
	sed 's/^/#   /' "$T_TMP/again.err"
	return 1
}

# check_vault WHAT: through the running daemon, every acknowledged
# principal is stored, principals and "role add" records are the same set,
# the chain verifies; sets LAST_MISSING
check_vault() {
	local what=$1 missing held recs same
	again "$T_TMP/roles.json" "$V" --json role list &&
	again "$T_TMP/audit.json" "$V" --json audit list
	ok $? "$what: the vault answers"
	missing=$(python3 - "$T_TMP/roles.json" "$T_TMP/acked" <<'EOF'
import json, sys
try:
    held = set(json.load(open(sys.argv[1]))["affiliate-admin"])
except Exception:
    held = set()
acked = [l.strip() for l in open(sys.argv[2]) if l.strip()]
print(sum(1 for p in acked if p not in held))
EOF
)
	LAST_MISSING=$missing
	is "$missing" "0" "$what: every acknowledged write is stored ($(wc -l < "$T_TMP/acked") so far)"
	python3 - "$T_TMP/roles.json" "$T_TMP/audit.json" > "$T_TMP/cmp" <<'EOF'
import json, sys
def ours(p):
    return p.startswith("uid:") and p[4:].isdigit() and int(p[4:]) >= 80000000
try:
    held = sorted(p for p in json.load(open(sys.argv[1]))["affiliate-admin"] if ours(p))
    recs = sorted(r["user"] for r in json.load(open(sys.argv[2]))
                  if r.get("op") == "role add" and r.get("outcome") == "ok" and ours(r["user"]))
except Exception:
    held, recs = [], [None]
print(len(held), len(recs), "same" if held == recs else "differ")
EOF
	read -r held recs same < "$T_TMP/cmp"
	is "$same" "same" "$what: nothing half done: one 'role add' record per stored principal ($held stored, $recs records)"
	again "$T_TMP/verify.out" "$V" audit verify
	ok $? "$what: audit verify"
	like "$(cat "$T_TMP/verify.out")" "The audit chain verifies: [0-9]+ records" "$what: the chain verifies"
}

# round_end PLAN: the writers have stopped; the round's outcome, and the
# errors that stopped them in $T_TMP/errors.PLAN
round_end() {
	local n
	wait "$CPID"
	n=$(wc -l < "$T_TMP/acked.now")
	cat "$T_TMP/acked.now" >> "$T_TMP/acked"
	cat "$T_TMP/stream.err" >> "$T_TMP/errors.$1"
	kill_outcome "$1" "$n" "$(kill_cut_off "$MAX")"
	echo "# $1: kill at $KILL_MS ms: $n writes acknowledged"
}

# --- (a) ssovaultd killed with -9 during writes ------------------------------------
if part pgdaemon; then
	vault_for pgdaemon
	daemon_start --key-file "$T_TMP/key"
	ok $? "pgdaemon: the daemon starts for calibration"
	kill_calibrate pgdaemon 3 kill_stream_clean
	daemon_stop
	kill_plan pgdaemon "$ROUNDS"
	while kill_next pgdaemon; do
		daemon_start --key-file "$T_TMP/key" ||
		    { ok 1 "pgdaemon round $KILL_ROUND: the daemon starts"; continue; }
		stream $((10 + KILL_ROUND)) "$MAX"
		kill_start pgdaemon
		kill_wait pgdaemon
		daemon_kill
		round_end pgdaemon
		daemon_start --key-file "$T_TMP/key"
		ok $? "pgdaemon: after kill -9 at $KILL_MS ms: the daemon restarts"
		check_vault "pgdaemon: after kill -9 at $KILL_MS ms"
		daemon_stop
	done
	kill_lost pgdaemon "${LAST_MISSING:-0}"	# the last check covers every round
	kill_check pgdaemon "ssovaultd on PostgreSQL killed during 8 writers"
fi

# --- (b) the database server stopped -m immediate during writes --------------------
# served: the daemon answers a read from the database
served() { "$V" role list >/dev/null 2>&1; }
if part pgserver; then
	vault_for pgserver
	daemon_start --key-file "$T_TMP/key"
	ok $? "pgserver: the daemon starts"
	kill_calibrate pgserver 3 kill_stream_clean
	kill_plan pgserver "$ROUNDS"
	while kill_next pgserver; do
		stream $((10 + KILL_ROUND)) "$MAX"
		kill_start pgserver
		kill_wait pgserver
		pg_kill
		ok $? "pgserver: stopped -m immediate (SIGQUIT) at $KILL_MS ms"
		round_end pgserver
		pg_up
		ok $? "pgserver: after the stop at $KILL_MS ms: the server starts again"
		wait_for 60 served
		ok $? "pgserver: after the stop at $KILL_MS ms: the same daemon serves again by itself"
		kill -0 "$DPID"
		ok $? "pgserver:   (it was not restarted: pid $DPID)"
		check_vault "pgserver: after the stop at $KILL_MS ms"
	done
	kill_lost pgserver "${LAST_MISSING:-0}"
	kill_check pgserver "PostgreSQL stopped -m immediate during 8 writers"
	# what the writers cut off by a stop were told (DESIGN 10)
	nerr=$(wc -l < "$T_TMP/errors.pgserver")
	other=$(grep -vc "the vault's database is unreachable" "$T_TMP/errors.pgserver")
	[ "$nerr" -gt 0 ] && [ "$other" -eq 0 ]
	ok $? "pgserver: every write cut off by a stop was told the vault's database is unreachable ($nerr cut off, $other told something else)"
	grep -v "the vault's database is unreachable" "$T_TMP/errors.pgserver" | head -3 | sed 's/^/#   /'
	daemon_stop
	is "$DRC" "0" "pgserver: the daemon stops with exit 0"
fi

done_testing
