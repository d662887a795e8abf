#!/usr/bin/env bash
# Finding 7: logs.  453,000 connect/half-header/close cycles in 15 s wrote
# 81 MB of log and slowed another user; a program whose file name holds a
# newline forged a log line ("vault locked by uid 0").
#
# Here: a uid floods connect/half-header/close for a few seconds while a
# victim uid keeps being served; the log holds a bounded number of lines
# about the flood and, when the daemon stops, one summary that counts what
# was held back.  Then programs named with a newline, an escape sequence and
# a right-to-left override talk to the daemon: every line of the log still
# starts with the log's own prefix, and the names appear escaped.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"

V=$SSOVAULT
VICTIM=6001
new_vault
install -m 600 "$T_TMP/pass" "$T_TMP/pass.root"
install -m 600 -o 6502 -g 6502 "$T_TMP/pass" "$T_TMP/pass.6502"
printf '{"username": "alice", "password": "victim-secret-6001"}' > "$T_TMP/creds.json"
"$V" app create payroll --enable --user uid:$VICTIM >/dev/null &&
"$V" mapping create payroll uid:$VICTIM alice >/dev/null &&
"$V" creds set payroll --user uid:$VICTIM --from-file "$T_TMP/creds.json" >/dev/null
ok $? "set-up: payroll maps uid $VICTIM"

jq() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$@"; }

daemon_start --passphrase-file "$T_TMP/pass.root"
ok $? "ssovaultd starts"

# --- a connect/close flood ------------------------------------------------------------
attack_py "$ATTACKS_DIR/daemon_attacks.py" flood 6501 5 $VICTIM > "$T_TMP/flood.json"
ok $? "uid 6501 floods connect/half-header/close for 5 s"
CYCLES=$(jq "$T_TMP/flood.json" 'd["attacker"].get("cycles", 0)')
[ "$CYCLES" -ge 1000 ]; ok $? "... $CYCLES cycles (at least 1000)"
VOK=$(jq "$T_TMP/flood.json" 'd["victim"].get("ok", 0)')
[ "$VOK" -ge 10 ]; ok $? "the victim's creds get completed $VOK times meanwhile (at least 10)"
is "$(jq "$T_TMP/flood.json" 'd["victim"].get("bad")')" "{}" "... and none failed"
N=$(grep -c "uid 6501" "$DLOG")
[ "$N" -ge 1 ]
ok $? "the log names uid 6501 during the flood ($N lines so far; all of them are counted at the stop)"

# --- forged names ---------------------------------------------------------------------
mkdir -m 755 "$T_TMP/bin"
EVIL="$T_TMP/bin/evil
vault locked by uid 0: keys wiped"
ESC="$T_TMP/bin/esc$(printf '\033')[2Jcleared"
RLO="$T_TMP/bin/rlo$(printf '\342\200\256')dexip"
for f in "$EVIL" "$ESC" "$RLO"; do
	install -m 755 "$V" "$f"
done
ok $? "copies of the CLI under names with a newline, an escape and a right-to-left override"
for f in "$EVIL" "$ESC" "$RLO"; do
	as_user 6502 6502 "$f" unlock --passphrase-file "$T_TMP/pass.6502" >/dev/null 2>&1
done
expect 0 "the vault admin locks" "$V" lock
expect 0 "... and unlocks" "$V" unlock --passphrase-file "$T_TMP/pass.root"
daemon_stop
is "$DRC" "0" "the daemon stops"

PREFIX='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z ssovaultd\[[0-9]+\]: '
BAD=$(grep -cvE "$PREFIX" "$DLOG")
LINES=$(wc -l < "$DLOG")
[ "$LINES" -ge 5 ]
ok $? "the log holds the run's lines ($LINES)"
is "$BAD" "0" "every one of the $LINES lines of the log starts with its prefix: nothing forged"
is "$(grep -cE "^vault locked by uid 0" "$DLOG")" "0" "no line starts 'vault locked by uid 0'"
like "$(cat "$DLOG")" "evil\\\\x0avault locked by uid 0: keys wiped\): the vault is already unlocked" \
    "the newline in the program's name is written \\x0a"
like "$(cat "$DLOG")" "esc\\\\x1b\[2Jcleared" "the escape is written \\x1b"
like "$(cat "$DLOG")" "rlo\\\\xe2\\\\x80\\\\xaedexip" "the right-to-left override is written as bytes"
grep -q "$(printf '\033')" "$DLOG"; is "$?" "1" "no raw escape character in the log"
like "$(cat "$DLOG")" "vault locked by uid 0 \(pid [0-9]+, $T_TMP/bin/.*ssovault\)|vault locked by uid 0 \(pid [0-9]+, .*/cli/ssovault\)" \
    "the real lock is logged as before"
S=$(grep -oE "held back [0-9]+ more '[a-z ]+' lines about uid 6501 in [0-9]+ s \(the first [0-9]+ were written\)" "$DLOG")
like "$S" "^held back [0-9]+ more 'protocol error' lines about uid 6501" \
    "at the stop, a summary counts the protocol errors held back about uid 6501"
HELD=$(echo "$S" | awk '{ n += $3 } END { print n + 0 }')
SHOWN=$(grep -E "uid 6501 \(pid" "$DLOG" | grep -vc "held back")
# counted once the daemon has stopped: no line about the flood can come later
[ "$SHOWN" -ge 1 ] && [ "$SHOWN" -le 20 ]
ok $? "the log holds at least 1 and at most 20 lines about uid 6501 ($SHOWN for $CYCLES cycles)"
[ $((HELD + SHOWN)) -ge $((CYCLES / 2)) ] && [ $((HELD + SHOWN)) -le "$CYCLES" ]
ok $? "... lines written and held back add up to the flood ($SHOWN + $HELD for $CYCLES cycles)"

done_testing
