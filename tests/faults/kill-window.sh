#!/usr/bin/env bash
# The crash loops' own test (tests/lib-kill.sh): a loop whose kill window is
# forced too short fails, naming the outcome that never happened; the same
# loop with its measured window passes; and the planner itself spreads its
# moments over the whole window and adds rounds further out when every kill
# came too early.
. "$SOURCE_ROOT/tests/lib.sh"

crash() { bash "$SOURCE_ROOT/tests/faults/crash.sh" 2>&1; }

# 1. a real crash loop (kill -9 of creds set and app create), window forced to 0
out=$(CRASH_PARTS=cli FAULT_ROUNDS=4 KILL_WINDOW_MS=0 crash)
rc=$?
[ "$rc" -ne 0 ]
ok $? "the CLI crash loop with KILL_WINDOW_MS=0 fails (exit $rc)"
like "$out" "not ok [0-9]+ - creds set killed: no kill landed after an acknowledgement: every kill came before the command could acknowledge" \
    "it says that no creds set was acknowledged before its kill"
like "$out" "not ok [0-9]+ - app create killed: no kill landed after an acknowledgement" \
    "and the same of app create"
like "$out" "\(4 rounds, 0-0 ms, span 0 \(KILL_WINDOW_MS\) ms\)" "it names the rounds and the forced window"
unlike "$out" "more over" "a forced window gets no extra rounds"
[ "$rc" -ne 0 ] || echo "$out" | sed 's/^/#   /'

# 2. the same loop with the window it measures passes, with both outcomes
out=$(CRASH_PARTS=cli FAULT_ROUNDS=8 crash)
rc=$?
is "$rc" "0" "the same loop with its measured window passes"
like "$out" "ok [0-9]+ - creds set killed: [0-9]+ rounds \(0-[0-9]+ ms, span [0-9]+ ms\): [1-9][0-9]* kills before an acknowledgement, [1-9][0-9]* after one" \
    "creds set: kills before and after an acknowledgement"
[ "$rc" -eq 0 ] || echo "$out" | grep -v '^ok' | sed 's/^/#   /'

# 3. the planner, with made-up outcomes (each in a subshell: its checks
# are output to look at, not checks of this script)
planner() { ( . "$SOURCE_ROOT/tests/lib-kill.sh"; "$@" ) 2>&1; }

# ten moments over 0..200 ms for a 100 ms span: one in each 20 ms slice
moments() {
	kill_span m 100
	kill_plan m 10
	while kill_next m; do echo $((_KMOM[m] / 20000)); kill_outcome m 1 1; done
}
is "$(planner moments | sort -n | tr '\n' ' ')" "0 1 2 3 4 5 6 7 8 9 " \
    "10 rounds over a 100 ms span: one kill moment in each tenth of 0-200 ms"

# the command takes 30 ms but 10 ms were measured: every planned kill is
# early; the planner adds rounds further out, and the loop passes
slow() {
	kill_span s 10
	kill_plan s 8
	while kill_next s; do
		if [ "${_KMOM[s]}" -ge 30000 ]; then kill_outcome s 1 0; else kill_outcome s 0 1; fi
	done
	kill_check s "slow command"
}
out=$(planner slow)
like "$out" "# s: no kill landed after an acknowledgement in 8 rounds over 0-20 ms; 4 more over 10-40 ms" \
    "every kill too early: 4 more rounds over 10-40 ms, said in a comment"
like "$out" "^ok [0-9]+ - slow command: 12 rounds \(0-40 ms, span 10 ms\): [0-9]+ kills before an acknowledgement, [1-9][0-9]* after one" \
    "and then both outcomes happened"

# kills that always come too late, even after the extra rounds: fails
late() {
	kill_span l 10
	kill_plan l 4
	while kill_next l; do kill_outcome l 1 0; done
	kill_check l "fast command"
}
out=$(planner late)
like "$out" "not ok [0-9]+ - fast command: no kill landed before an acknowledgement: every command had finished, so no crash was tested \(8 rounds" \
    "kills that always land after the acknowledgement fail, saying so"

# two commands killed at once, both always finished: the extra rounds
# come for them too, nearer the start
pair() {
	kill_span two 100
	kill_plan two 4
	while kill_next two; do
		if [ "${_KMOM[two]}" -ge 40000 ]; then
			kill_outcome two:a 1 0; kill_outcome two:b 1 0
		else
			kill_outcome two:a 0 1; kill_outcome two:b 1 0
		fi
	done
	kill_check two:a "first of two"
}
out=$(planner pair)
like "$out" "# two: no kill landed before an acknowledgement in 4 rounds; 4 more over 0-50 ms" \
    "two commands that always finished: 4 more rounds over 0-50 ms"
like "$out" "ok [0-9]+ - first of two: 8 rounds \(0-200 ms, span 100 ms\): [1-9][0-9]* kills before" \
    "and the first of them was cut off before its acknowledgement"

# the figures for the soak
stats() {
	KILL_STATS=$T_TMP/stats
	kill_span f 10
	kill_plan f 2
	kill_next f; kill_outcome f 3 1
	kill_next f; kill_outcome f 0 1
	kill_lost f 0
	kill_messages f 20 10 1 0
	kill_check f "figures"
}
planner stats > /dev/null
is "$(cat "$T_TMP/stats")" "loop=f rounds=2 before=2 after=1 acked=3 cut=2 lost=0 delivered=20 suspended=10 failed=1 msglost=0 span_ms=10 ok=1" \
    "KILL_STATS: one line of figures per loop"

done_testing
