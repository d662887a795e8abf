#!/usr/bin/env bash
# Sends that are interrupted lose nothing (issue 17): SIGTERM or SIGINT
# during a send keeps the message in flight and the ones waiting to retry in
# the suspended queue (reason "interrupted ..."), keeps a message from
# standard input that was not yet sent, and reports each file not yet read
# as not sent.  On a terminal (tmux) the retry wait is a countdown that says
# Ctrl-C suspends now, and Ctrl-C does.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

new_vault
cd "$T_TMP" || exit 1
# tests/send/flaky.py: 503 for RETRYME, an answer held back for HOLD, else 200
send_bg python3 "$SOURCE_ROOT/tests/send/flaky.py" "$T_TMP/flaky.port" "$T_TMP/flaky.log"
for i in $(seq 1 50); do [ -s "$T_TMP/flaky.port" ] && break; sleep 0.1; done
FLAKY="http://127.0.0.1:$(cat "$T_TMP/flaky.port")/"
at_exit "touch $T_TMP/flaky.log.release"
msg11 a.xml "order a HOLD"
msg11 b.xml "order b"
msg11 in.xml "order from stdin"
msg11 retry.xml "RETRYME"
sha256sum a.xml b.xml > sums

# wait_for FILE PATTERN: until FILE matches (50 s at most); 0 if it did
wait_for() {
	local i
	for i in $(seq 1 500); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# reason ID: the stored reason of a suspended message
reason() { "$V" --json suspended show "$1" | json_get reason; }
# the id on the result line of NAME in FILE
id_of() { sed -n "s/^$1: suspended \([0-9a-f]\{32\}\): .*/\1/p" "$2" | head -1; }

# --- SIGTERM: one in flight, one from stdin and one file not yet read
"$V" send --url "$FLAKY" --parallel 1 a.xml - b.xml < in.xml > /dev/null 2> term.err &
SP=$!
wait_for flaky.log "^held"
ok $? "a.xml is in flight (the server holds its answer)"
kill -TERM $SP
wait $SP
is "$?" "1" "SIGTERM: the send ends at once, exit 1 (a file was not sent)"
touch flaky.log.release
like "$(cat term.err)" "^a.xml: suspended [0-9a-f]{32}: interrupted during attempt 1" "... a.xml, in flight, is suspended"
like "$(cat term.err)" "^-: suspended [0-9a-f]{32}: interrupted before it was sent" "... the message on standard input is suspended, not lost"
like "$(cat term.err)" "^b.xml: not sent: interrupted before it was sent; the file is untouched" "... b.xml is reported not sent"
like "$(cat term.err)" "send: interrupted \(SIGTERM\): nothing was lost" "... and the summary says so"
A=$(id_of a.xml term.err)
S=$(id_of - term.err)
like "$(reason "$A")" "^interrupted during attempt 1" "a.xml's queue entry says interrupted"
expect 0 "the kept standard-input message resumes" "$V" suspended resume "$S"
grep -qx "$(sha1sum < in.xml | cut -d' ' -f1)" flaky.log.sha1
ok $? "... and what reached the server is exactly what was piped in"
unlike "$(cat flaky.log.sha1)" "$(sha1sum < b.xml | cut -d' ' -f1)" "b.xml never reached the server"
sha256sum -c --quiet sums
ok $? "the files are untouched"

# --- SIGINT while waiting to retry (no terminal): kept with its attempt
"$V" send --url "$FLAKY" --retry-interval 5m retry.xml > /dev/null 2> int.err &
SP=$!
wait_for int.err "attempt 1 failed"
ok $? "retry.xml failed once and waits 5 minutes"
kill -INT $SP
wait $SP
is "$?" "4" "SIGINT during the wait: exit 4 (suspended)"
W=$(susp_id_of "$(cat int.err)")
like "$(reason "$W")" "^interrupted while waiting to retry; attempt 1 failed: HTTP 503" "... its reason says interrupted, and why it was waiting"
is "$("$V" --json suspended show "$W" | json_get attempts)" "1" "... with its one attempt"

# --- a terminal: the countdown, then Ctrl-C
command -v tmux >/dev/null
ok $? "tmux is installed (tests run it)"
TS="ssovault-int-$$"
at_exit "tmux kill-session -t $TS"
cat > term.sh <<EOT
cd "$T_TMP"
export SSOVAULT_DIR="$SSOVAULT_DIR" SSOVAULT_PASSPHRASE_FILE="$SSOVAULT_PASSPHRASE_FILE"
"$V" send --url "$FLAKY" - < retry.xml
echo "exit=\$?" > tmux.rc
EOT
tmux new-session -d -s "$TS" -x 160 -y 20 "bash term.sh; sleep 60"
pane() { tmux capture-pane -p -t "$TS"; }
for i in $(seq 1 300); do pane | grep -q "Ctrl-C suspends it now" && break; sleep 0.1; done
like "$(pane)" "-: attempt 2 in [0-9]m [0-9]{2}s; Ctrl-C suspends it now" "the terminal shows the retry wait as a countdown naming Ctrl-C"
tmux send-keys -t "$TS" C-c
wait_for tmux.rc "exit="
is "$(cat tmux.rc)" "exit=4" "Ctrl-C: exit 4"
like "$(pane)" "-: suspended [0-9a-f]{32}: interrupted while waiting to retry" "... the pane shows the message suspended"
K=$(pane | sed -n 's/^-: suspended \([0-9a-f]\{32\}\): .*/\1/p' | head -1)
like "$(reason "$K")" "^interrupted" "... its reason in the queue is 'interrupted ...'"
is "$("$V" --json suspended show "$K" | json_get size)" "$(wc -c < retry.xml | tr -d ' ')" "... and it holds the message read from standard input, all of it"

done_testing
