#!/usr/bin/env bash
# The PostgreSQL crash loops' own test (tests/hosts/crash.sh, as
# tests/faults/kill-window.sh is for the others): with the kill window
# forced to 0 ms (every kill as the writers start, before they can have a
# write acknowledged), both loops fail, each naming the outcome that never
# happened.  Their passing with the window they measure is hosts-crash.
#
#   crash-window.sh DAEMON-CLIENTS
. "$SOURCE_ROOT/tests/lib.sh"

out=$(CRASH_PARTS="pgdaemon pgserver" FAULT_ROUNDS_EACH=4 KILL_WINDOW_MS=0 \
    bash "$SOURCE_ROOT/tests/hosts/crash.sh" "$1" 2>&1)
rc=$?
[ "$rc" -ne 0 ]
ok $? "the PostgreSQL crash loops with KILL_WINDOW_MS=0 fail (exit $rc)"
like "$out" "not ok [0-9]+ - ssovaultd on PostgreSQL killed during 8 writers: no kill landed after an acknowledgement: every kill came before the command could acknowledge" \
    "the kill -9 loop says that no write was acknowledged before a kill"
like "$out" "not ok [0-9]+ - PostgreSQL stopped -m immediate during 8 writers: no kill landed after an acknowledgement" \
    "the pg_ctl stop -m immediate loop says the same"
like "$out" "\(4 rounds, 0-0 ms, span 0 \(KILL_WINDOW_MS\) ms\)" "it names the rounds and the forced window"
unlike "$out" "more over" "a forced window gets no extra rounds"
# nothing else failed: the only failures are the two it is forced into
is "$(echo "$out" | grep -c '^not ok')" "2" "no other check of the loops failed"
[ "$rc" -ne 0 ] && [ "$(echo "$out" | grep -c '^not ok')" = 2 ] || echo "$out" | grep -v '^ok' | sed 's/^/#   /'

done_testing
