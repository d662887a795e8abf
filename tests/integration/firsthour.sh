#!/usr/bin/env bash
# The small things of the first hour (issue 17), each as git, curl or
# systemctl does it: an unknown command is one line and a guess, a misspelt
# app gets "did you mean"; interactive init refuses a short passphrase
# before asking again (a terminal, tmux); completion offers each option
# once; audit lines name the user, say each thing once and label what is
# not a principal; lock and unlock of the daemon are in the audit trail at
# the default levels.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
V=$SSOVAULT
new_vault
cd "$T_TMP" || exit 1

# --- commands and names
expect 2 "ssovault bogus" "$V" bogus
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" "2" "... two lines, not the whole help"
like "$ERR" "Try 'ssovault --help' for the commands" "... and where the list is"
expect 2 "ssovault app shwo" "$V" app shwo
like "$ERR" "Did you mean 'ssovault app show'\?" "... guesses the command meant"
expect 0 "app create payroll" "$V" app create payroll --field username --field password:masked --enable
expect 1 "creds get payrol (misspelt)" "$V" creds get payrol
like "$ERR" "no affiliate application 'payrol'; did you mean 'payroll'\?" "... says the app it probably meant"

# --- completion: each option once
. "$SOURCE_ROOT/cli/ssovault.bash-completion"
COMP_WORDS=("$V" app list --)
COMP_CWORD=3
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
_ssovault_bin=$V
_ssovault 2>/dev/null
is "$(printf '%s\n' "${COMPREPLY[@]}" | grep -cx -- --json)" "1" "completion offers --json once (app list --)"

# --- interactive init: a short passphrase is refused at once
TS="ssovault-firsthour-$$"
at_exit "tmux kill-session -t $TS"
tmux new-session -d -s "$TS" -x 150 -y 20 \
    "'$V' --vault '$T_TMP/v-short' init; echo \"exit=\$?\" > '$T_TMP/init.rc'; sleep 60"
for i in $(seq 1 100); do tmux capture-pane -p -t "$TS" | grep -q "New vault passphrase:" && break; sleep 0.1; done
tmux send-keys -t "$TS" -l "short"
tmux send-keys -t "$TS" Enter
for i in $(seq 1 100); do [ -s "$T_TMP/init.rc" ] && break; sleep 0.1; done
is "$(cat "$T_TMP/init.rc" 2>/dev/null)" "exit=1" "init with a 5-character passphrase on a terminal: exit 1"
PANE=$(tmux capture-pane -p -t "$TS")
like "$PANE" "the passphrase must be at least 8 characters" "... says why"
unlike "$PANE" "Again, to confirm" "... before asking for it a second time"

# --- audit lines
"$V" send --url "http://127.0.0.1:1/none" --retry-count 0 - > /dev/null 2> send.err <<'XML'
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><x/></soap:Body></soap:Envelope>
XML
ID=$(sed -n 's/^-: suspended \([0-9a-f]\{32\}\): .*/\1/p' send.err)
expect 0 "suspended terminate" "$V" suspended terminate "$ID"
expect 0 "audit list" "$V" audit list
like "$OUT" "suspended remove .* ok \(terminated\)" "a terminated message: '(terminated)', not 'user=terminated'"
unlike "$OUT" "user=terminated" "... no user named 'terminated'"
like "$OUT" "uid 0 \(root\) +app create +payroll" "the caller's name beside its uid"

# --- lock and unlock of the daemon, at the default audit levels
daemon_start
ok $? "ssovaultd on the vault (locked)"
expect 0 "unlock" "$V" unlock --passphrase-file "$T_TMP/pass"
expect 5 "uid 5601 tries app create through the daemon" \
    setpriv --reuid=5601 --regid=5601 --clear-groups "$V" app create nope
expect 0 "audit list" "$V" audit list
like "$OUT" "uid 5601 +app create +- +access denied: uid 5601 is not an affiliate admin" "a refusal says 'access denied' once"
unlike "$OUT" "access denied: access denied" "... never twice"
expect 0 "lock" "$V" lock
expect 0 "unlock again" "$V" unlock --passphrase-file "$T_TMP/pass"
run "$V" --json audit list
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(" ".join(e["op"] for e in json.load(sys.stdin) if e["op"] in ("lock", "unlock")))')" \
    "unlock lock unlock" "lock and unlock are in the audit trail, in order"
expect 0 "the audit chain verifies" "$V" audit verify
daemon_stop
is "$DRC" "0" "ssovaultd stops"
done_testing
