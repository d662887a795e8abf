#!/usr/bin/env bash
# Issue 17 made clients look for the system socket /run/ssovault/ssovault.sock
# after $XDG_RUNTIME_DIR/ssovault.sock, and made --vault DIR never go through
# a daemon.  A hostile local user (uid 5702) goes after both:
#   - a host where /run/ssovault was left writable by anyone: it listens at
#     the system socket path before the real daemon.  A victim (uid 5703)
#     with no daemon of its own finds that socket by default; its creds set
#     must send the fake daemon not one byte and exit 6 naming the uid.
#   - a socket planted at the victim's --vault DIR path, or a symlink to
#     the attacker's socket there: --vault DIR never talks to it.
# In a mount namespace with a tmpfs on /run, so no real /run/ssovault is
# touched.
if [ -z "${DEFSOCK_NS:-}" ]; then
	exec unshare --mount --propagation private env DEFSOCK_NS=1 bash "$0" "$@"
fi
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"

S=$SSOVAULT
A=5702		# the attacker
VIC=5703	# a victim with credentials to set
mount -t tmpfs -o mode=755 defsock-run /run
ok $? "a private /run"
mkdir -m 1777 /run/ssovault		# the misconfiguration the attacker needs
RUN=$T_TMP/run-$VIC
mkdir -m 700 "$RUN" && chown $VIC:$VIC "$RUN"

FAKE=/run/ssovault/ssovault.sock
attack_py "$ATTACKS_DIR/fake-daemon.py" "$FAKE" $A 40 > "$T_TMP/fake.out" 2>"$T_TMP/fake.err" &
FPID=$!
at_exit "kill $FPID"
for i in $(seq 1 100); do [ -S "$FAKE" ] && break; sleep 0.1; done
is "$(stat -c '%u %F' "$FAKE" 2>/dev/null)" "$A socket" "precondition: uid $A listens at the system socket path"
conns() { grep -c '^conn ' "$T_TMP/fake.out"; }
bytes() { awk '/^conn / { n += $2 } END { print n + 0 }' "$T_TMP/fake.out"; }

printf '{"password": "victim secret"}' > "$T_TMP/victim.json" && chmod 644 "$T_TMP/victim.json"
expect 6 "the victim's creds set, finding the system socket by default, exits 6" \
    as_user $VIC $VIC env -u SSOVAULT_SOCKET -u SSOVAULT_DIR XDG_RUNTIME_DIR="$RUN" HOME="$T_TMP" \
    "$S" creds set payroll --from-file "$T_TMP/victim.json"
like "$ERR" "$FAKE is served by uid $A, not by root or you \(uid $VIC\): nothing was sent to it" \
    "... naming the socket and the uid that serves it"
for i in $(seq 1 50); do [ "$(conns)" -ge 1 ] && break; sleep 0.1; done
[ "$(conns)" -ge 1 ]
ok $? "precondition: the victim's client really connected to the fake daemon"
is "$(bytes)" 0 "... and the fake daemon got not one byte of the credentials"

# --vault DIR: never a daemon, whatever is at DIR or at the sockets
N0=$(conns)
mkdir -m 700 "$T_TMP/victim-vault" && chown $VIC:$VIC "$T_TMP/victim-vault"
ln -s "$FAKE" "$T_TMP/victim-vault/ssovault.sock"
expect 1 "the victim's --vault DIR (no vault in it yet) while the fake daemon listens" \
    as_user $VIC $VIC env -u SSOVAULT_SOCKET XDG_RUNTIME_DIR="$RUN" HOME="$T_TMP" \
    "$S" --vault "$T_TMP/victim-vault" creds set payroll --from-file "$T_TMP/victim.json"
like "$ERR" "no vault in $T_TMP/victim-vault" "... opens the directory itself and says there is no vault"
# the control: one more connection by default; the fake serves them in
# order, so an earlier one from --vault would be counted before it
as_user $VIC $VIC env -u SSOVAULT_SOCKET -u SSOVAULT_DIR XDG_RUNTIME_DIR="$RUN" HOME="$T_TMP" \
    "$S" status > /dev/null 2>&1
for i in $(seq 1 50); do [ "$(conns)" -ge $((N0 + 1)) ] && break; sleep 0.1; done
is "$(conns)" "$((N0 + 1))" "... and never connected to the fake daemon (one control connection after it)"
done_testing
