#!/usr/bin/env bash
# Which transport the CLI picks (DESIGN section 1): ssovaultd when --socket
# or a non-empty SSOVAULT_SOCKET is given or the default socket exists
# ($XDG_RUNTIME_DIR/ssovault.sock for an ordinary uid), else embedded mode on
# the vault directory.  A socket that is configured or exists but does not
# answer is exit 6, never a silent fallback to the vault directory.  The two
# vaults hold different apps, so each answer shows which one replied.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

V=$SSOVAULT
D=$SSOVAULTD
U=5020
H=$T_TMP/u$U
RUN=$H/run
EV=$H/embedded
DV=$H/daemon
mkdir -p "$RUN" && chown -R $U:$U "$H" && chmod 700 "$RUN"
# uid $U's own passphrase file, 0600: a secret file must be its reader's
secret_file "$T_TMP/pass" 'correct horse battery staple'
chown $U:$U "$T_TMP/pass"

# cli [VAR=VALUE...] -- ARGS...: the CLI as uid $U with a clean environment
cli() {
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	env -i PATH="$PATH" HOME="$H" XDG_RUNTIME_DIR="$RUN" SSOVAULT_DIR="$EV" \
	    SSOVAULT_PASSPHRASE_FILE="$T_TMP/pass" "${envs[@]}" \
	    setpriv --reuid=$U --regid=$U --clear-groups -- "$V" "$@"
}

expect 0 "uid $U makes the vault for embedded mode" cli -- init --kdf-limits interactive --passphrase-file "$T_TMP/pass"
expect 0 "... with app only-embedded" cli -- app create only-embedded
expect 0 "uid $U makes the vault the daemon will serve" cli SSOVAULT_DIR="$DV" -- init --kdf-limits interactive --passphrase-file "$T_TMP/pass"
expect 0 "... with app only-daemon" cli SSOVAULT_DIR="$DV" -- app create only-daemon

# --- nothing configured, no default socket: embedded
expect 0 "no socket anywhere: status" cli -- status
like "$OUT" "\(embedded\)" "... runs embedded"
expect 0 "... app list" cli -- app list
like "$OUT" "only-embedded" "... answers from the vault directory"
: > "$RUN/ssovault.sock"
expect 0 "a regular file at the default socket path: status" cli -- status
like "$OUT" "\(embedded\)" "... is no socket: embedded"
rm -f "$RUN/ssovault.sock"
expect 0 "SSOVAULT_SOCKET set but empty counts as unset" cli SSOVAULT_SOCKET= -- status
like "$OUT" "\(embedded\)" "... embedded"

# --- a daemon of uid $U on its default socket
env -i PATH="$PATH" HOME="$H" XDG_RUNTIME_DIR="$RUN" \
    setpriv --reuid=$U --regid=$U --clear-groups -- \
    "$D" --vault "$DV" --passphrase-file "$T_TMP/pass" >/dev/null 2>"$H/daemon.log" &
DPID=$!
for i in $(seq 1 150); do [ -S "$RUN/ssovault.sock" ] && break; sleep 0.1; done
[ -S "$RUN/ssovault.sock" ]
ok $? "ssovaultd of uid $U listens on \$XDG_RUNTIME_DIR/ssovault.sock by default"
expect 0 "the default socket exists: status" cli -- status
like "$OUT" "\(through ssovaultd\)" "... goes through ssovaultd"
expect 0 "... app list" cli -- app list
like "$OUT" "only-daemon" "... answers from the daemon's vault"
unlike "$OUT" "only-embedded" "... not from the vault directory"
expect 0 "SSOVAULT_SOCKET names it, no XDG_RUNTIME_DIR" cli XDG_RUNTIME_DIR= SSOVAULT_SOCKET="$RUN/ssovault.sock" -- app list
like "$OUT" "only-daemon" "... the daemon answers"
expect 0 "--socket names it" cli XDG_RUNTIME_DIR= -- --socket "$RUN/ssovault.sock" app list
like "$OUT" "only-daemon" "... the daemon answers"

# --- a configured socket that nobody answers on: exit 6, no fallback
expect 6 "--socket to a path where nothing listens" cli -- --socket "$H/none.sock" app list
like "$ERR" "^ssovault: .*cannot reach ssovaultd at $H/none.sock" "... says it cannot reach ssovaultd there"
unlike "$OUT" "only-" "... and does not fall back to the vault directory"
expect 6 "SSOVAULT_SOCKET to a path where nothing listens" cli SSOVAULT_SOCKET="$H/none.sock" -- app list
unlike "$OUT" "only-" "... no fallback either"

# --- the daemon stops: its socket goes, embedded again
kill -TERM $DPID
wait $DPID
is "$?" "0" "ssovaultd stops on SIGTERM with exit 0"
DPID=""
[ ! -e "$RUN/ssovault.sock" ]
ok $? "... and removes its socket"
expect 0 "after it: status" cli -- status
like "$OUT" "\(embedded\)" "... embedded again"

# --- a stale socket (the daemon was killed): it exists, so the daemon is meant
env -i PATH="$PATH" HOME="$H" XDG_RUNTIME_DIR="$RUN" \
    setpriv --reuid=$U --regid=$U --clear-groups -- \
    "$D" --vault "$DV" --passphrase-file "$T_TMP/pass" >/dev/null 2>>"$H/daemon.log" &
DPID=$!
for i in $(seq 1 150); do cli -- status >/dev/null 2>&1 && [ -S "$RUN/ssovault.sock" ] && break; sleep 0.1; done
daemon_kill
[ -S "$RUN/ssovault.sock" ]
ok $? "kill -9 leaves the socket file behind"
expect 6 "a default socket that does not answer" cli -- app list
like "$ERR" "is the daemon running" "... asks whether the daemon runs"
unlike "$OUT" "only-" "... and does not fall back to the vault directory"

done_testing
