#!/usr/bin/env bash
# `send --out DIR/` (issue 17: the directory is made when it is not there)
# against a hostile local user who was there first.  In a shared sticky
# directory (a /tmp), uid 5721 makes the directory the victim will name,
# and plants in it, under the names the responses will get:
#   - a file of its own, mode 0666: the victim's response must not be
#     written into it (the attacker would read it);
#   - a FIFO: the send must not block on it, nor write into it;
# and points a symlink at a directory of its own: whatever the kernel's
# protected_symlinks says, no response becomes readable by the attacker.
# Each refusal names the file and says to use a directory of one's own.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

A=5721		# the attacker
new_vault
cd "$T_TMP" || exit 1
send_bg python3 "$SOURCE_ROOT/tests/send/flaky.py" "$T_TMP/flaky.port" "$T_TMP/flaky.log"
for i in $(seq 1 50); do [ -s "$T_TMP/flaky.port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$T_TMP/flaky.port")/"
msg11 m.xml "order m"
msg11 n.xml "order n"

mkdir -m 1777 shared
as_user $A $A mkdir -m 755 shared/responses &&
    as_user $A $A sh -c 'umask 0; echo planted > shared/responses/m.xml.response' &&
    as_user $A $A mkfifo -m 666 shared/responses/n.xml.response &&
    as_user $A $A mkdir -m 755 shared/own &&
    as_user $A $A ln -s own shared/elsewhere
ok $? "uid $A made shared/responses/ with a file and a FIFO under the response names, and a symlink"
is "$(stat -c '%u %a' shared/responses/m.xml.response)" "$A 666" "... the planted file is the attacker's, writable by all"

# the victim's response into the attacker's file
expect 1 "send --out shared/responses/ m.xml (the attacker's directory and file)" \
    "$V" send --url "$URL" --out shared/responses/ m.xml
like "$ERR" "m.xml: not writing the response to .*shared/responses/m.xml.response: the file there belongs to uid $A; give --out a directory of your own" \
    "... refused, naming the file and its owner"
is "$(cat shared/responses/m.xml.response)" "planted" "... the attacker's file holds nothing of the response"

# a FIFO the attacker reads
as_user $A $A timeout 20 cat shared/responses/n.xml.response > fifo.got 2>/dev/null &
READER=$!
expect 1 "send --out shared/responses/ n.xml (a FIFO, the attacker reading it)" \
    "$V" send --url "$URL" --out shared/responses/ n.xml
like "$ERR" "n.xml: not writing the response to .*shared/responses/n.xml.response: the file there is not a regular file" \
    "... refused"
kill $READER 2>/dev/null
wait $READER 2>/dev/null
unlike "$(cat fifo.got)" "<ok/>" "... the attacker's reader got nothing of the response"

# a symlink in the sticky directory to the attacker's own
run "$V" send --url "$URL" --out shared/elsewhere/ m.xml
as_user $A $A sh -c "cat shared/own/* 2>/dev/null" > att.got
unlike "$(cat att.got)" "<ok/>" "no response reached the attacker through the symlink"

done_testing
