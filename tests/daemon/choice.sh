#!/usr/bin/env bash
# The vault you meant (issue 17): --vault and --socket on the command line
# win over the environment and any socket that exists, both at once is a
# usage error, clients look for $XDG_RUNTIME_DIR/ssovault.sock and then the
# system's /run/ssovault/ssovault.sock, and "no vault" names every place
# looked at.  Runs in a mount namespace of its own with a tmpfs on /run, so
# the system daemon's socket is this test's and no real one is touched.
if [ -z "${CHOICE_NS:-}" ]; then
	exec unshare --mount --propagation private env CHOICE_NS=1 bash "$0" "$@"
fi
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

mount -t tmpfs -o mode=755 ssovault-test-run /run
ok $? "a private /run for this test"
mkdir -m 755 /run/ssovault

V=$SSOVAULT
U=5021
H=$T_TMP/u$U
RUN=$H/run
EV=$H/embedded
SV=$T_TMP/system
UV=$H/daemon
mkdir -p "$RUN" && chown -R $U:$U "$H" && chmod 700 "$RUN"
secret_file "$T_TMP/pass" 'correct horse battery staple'
secret_file "$T_TMP/upass" 'correct horse battery staple'
chown $U:$U "$T_TMP/upass"

# cli [VAR=VALUE...] -- ARGS...: the CLI as uid $U, as after an ssh login
cli() {
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	env -i PATH="$PATH" HOME="$H" XDG_RUNTIME_DIR="$RUN" \
	    SSOVAULT_PASSPHRASE_FILE="$T_TMP/upass" "${envs[@]}" \
	    setpriv --reuid=$U --regid=$U --clear-groups -- "$V" "$@"
}

# --- nothing anywhere: every place is named, with the next step
expect 1 "no vault, no daemon: app list" cli -- app list
like "$ERR" "no vault in $H/.local/share/ssovault, no ssovaultd at $RUN/ssovault.sock or /run/ssovault/ssovault.sock" \
    "... names the vault directory and both sockets it looked at"
like "$ERR" "start ssovaultd, set SSOVAULT_SOCKET to its socket, or run 'ssovault init'" \
    "... and the next step for each"

# --- the system daemon (root's, on /run/ssovault) and uid $U's own vault
"$V" --vault "$SV" init --kdf-limits interactive --passphrase-file "$T_TMP/pass" \
    --admin uid:$U >/dev/null
ok $? "root makes the system vault, uid $U a vault admin of it"
SSOVAULT_DIR=$SV SSOVAULT_PASSPHRASE_FILE=$T_TMP/pass "$V" app create only-system >/dev/null
ok $? "... with app only-system"
expect 0 "uid $U makes a vault of its own" cli -- --vault "$EV" init --kdf-limits interactive --passphrase-file "$T_TMP/upass"
expect 0 "... with app only-embedded" cli -- --vault "$EV" app create only-embedded
"$SSOVAULTD" --vault "$SV" --socket /run/ssovault/ssovault.sock --passphrase-file "$T_TMP/pass" \
    --log-file "$DLOG" >/dev/null 2>>"$DLOG" &
DPID=$!
for i in $(seq 1 150); do [ -S /run/ssovault/ssovault.sock ] && break; sleep 0.1; done
[ -S /run/ssovault/ssovault.sock ]
ok $? "root's ssovaultd listens on /run/ssovault/ssovault.sock"

expect 0 "uid $U with XDG_RUNTIME_DIR set and no daemon of its own: status" cli -- status
like "$OUT" "$SV \(through ssovaultd\)" "... finds the system daemon (its vault, through ssovaultd)"
expect 0 "... app list" cli -- app list
like "$OUT" "only-system" "... answered by the system vault"

# --- an explicit --vault is never reached through a daemon
expect 0 "--vault DIR app create while the system socket exists" cli -- --vault "$EV" app create zzz
SSOVAULT_SOCKET=/run/ssovault/ssovault.sock "$V" --json app list >"$T_TMP/sys.json" 2>&1
unlike "$(cat "$T_TMP/sys.json")" '"zzz"' "... the daemon's vault has no zzz"
expect 0 "... the named vault has it" cli -- --vault "$EV" app show zzz
expect 0 "--vault DIR with SSOVAULT_SOCKET set" cli SSOVAULT_SOCKET=/run/ssovault/ssovault.sock -- --vault "$EV" app create yyy
expect 0 "... lands in the named vault" cli -- --vault "$EV" app show yyy
expect 1 "... not in the daemon's" cli -- app show yyy
expect 0 "--vault DIR status" cli SSOVAULT_SOCKET=/run/ssovault/ssovault.sock -- --vault "$EV" status
like "$OUT" "$EV \(embedded\)" "... says it is embedded on DIR"

# --- both named: a usage error, nothing changed
expect 2 "--vault and --socket together" cli -- --vault "$EV" --socket /run/ssovault/ssovault.sock app create both
like "$ERR" "give one" "... says to give one"
expect 1 "... nothing was created in the vault" cli -- --vault "$EV" app show both
expect 1 "... nor in the daemon's" cli -- app show both

# --- --socket beats the environment's directory
expect 0 "--socket with SSOVAULT_DIR set" cli SSOVAULT_DIR="$EV" -- --socket /run/ssovault/ssovault.sock app list
like "$OUT" "only-system" "... the daemon answers"

# --- uid $U's own daemon comes first
setpriv --reuid=$U --regid=$U --clear-groups -- env -i PATH="$PATH" HOME="$H" XDG_RUNTIME_DIR="$RUN" \
    "$SSOVAULTD" --vault "$EV" --passphrase-file "$T_TMP/upass" >/dev/null 2>"$H/daemon.log" &
UPID=$!
at_exit "kill -9 $UPID"
for i in $(seq 1 150); do [ -S "$RUN/ssovault.sock" ] && break; sleep 0.1; done
expect 0 "with a daemon of its own on \$XDG_RUNTIME_DIR/ssovault.sock: app list" cli -- app list
like "$OUT" "only-embedded" "... its own daemon answers first"
kill -TERM $UPID
wait $UPID

daemon_stop
ok $? "the system daemon stops"
done_testing
