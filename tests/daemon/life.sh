#!/usr/bin/env bash
# ssovaultd's life: starting locked and unlocking by request, the locked
# daemon refusing everything but status and unlock, lock/unlock rights, wrong
# passphrases, unlocking at start with a key or passphrase file, refusing a
# second daemon on a live socket, removing a stale one, SIGTERM, SIGHUP log
# reopening, socket activation, options, and the hardening a peer can see
# in /proc (core limit, umask, not dumpable, warning when mlock is refused).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

V=$SSOVAULT
CLIENTS=$1
D=$SSOVAULTD
new_vault --key-file "$T_TMP/key"
secret_file "$T_TMP/wrong.pass" 'not the passphrase at all'
(umask 077 && head -c 32 /dev/urandom > "$T_TMP/wrong.key")

# --- options ---------------------------------------------------------------
expect 0 "ssovaultd --help" "$D" --help
like "$OUT" "--frame-max SIZE" "--help lists --frame-max"
like "$OUT" "SIGTERM" "--help says what SIGTERM does"
expect 0 "ssovaultd --version" "$D" --version
like "$OUT" "^ssovaultd [0-9]" "--version prints the version"
expect 2 "an unknown option" "$D" --bogus
expect 2 "--frame-max 1 (under 4K)" "$D" --frame-max 1
like "$ERR" "frame-max takes a size" "... says what --frame-max takes"
expect 2 "--frame-max 2G (over 1G)" "$D" --frame-max 2G
expect 2 "--threads 0" "$D" --threads 0
expect 2 "--threads 500" "$D" --threads 500
expect 2 "both --key-file and --passphrase-file" "$D" --key-file "$T_TMP/key" --passphrase-file "$T_TMP/pass"
# the limits (docs/daemon.md "Limits"): out of range, or contradicting each other
like "$("$D" --help)" "--max-connections-per-uid N" "--help lists the limits"
for bad in "--max-connections 0" "--max-connections 70000" "--max-connections-per-uid x" \
    "--reserved-connections -1" "--max-buffered 10" "--max-buffered 65G" "--kdf-memory 0" \
    "--idle-timeout 0" "--idle-timeout 2d" "--request-timeout 25h" "--request-timeout 1.5s"; do
	# shellcheck disable=SC2086
	expect 2 "bad limit: $bad" "$D" --vault "$SSOVAULT_DIR" --socket "$T_TMP/x.sock" $bad
done
like "$ERR" "--request-timeout takes a duration from 1s to 24h" "... says what it takes"
expect 2 "a uid's share of connections above the total" "$D" --vault "$SSOVAULT_DIR" \
    --socket "$T_TMP/x.sock" --max-connections 10 --max-connections-per-uid 11
like "$ERR" "max-connections-per-uid \(11\) is more than --max-connections \(10\)" "... says so"
expect 2 "a reserve of every connection" "$D" --vault "$SSOVAULT_DIR" --socket "$T_TMP/x.sock" \
    --max-connections 10 --reserved-connections 10
expect 2 "a uid's share of bytes below --frame-max" "$D" --vault "$SSOVAULT_DIR" \
    --socket "$T_TMP/x.sock" --max-buffered-per-uid 8M
like "$ERR" "max-buffered-per-uid \(8388608 bytes\) is less than --frame-max" "... says so"
expect 2 "a total below one uid's share" "$D" --vault "$SSOVAULT_DIR" --socket "$T_TMP/x.sock" \
    --max-buffered 100M --max-buffered-per-uid 200M
[ ! -e "$T_TMP/x.sock" ]; ok $? "... none of them leaves a socket behind"
expect 2 "an operand" "$D" extra
expect 1 "no vault in the directory" "$D" --vault "$T_TMP/novault" --socket "$T_TMP/x.sock"
like "$ERR" "no vault in $T_TMP/novault: create one with" "... says how to make one"
[ ! -e "$T_TMP/x.sock" ]; ok $? "... and leaves no socket behind"

# --- a locked daemon -------------------------------------------------------
daemon_start
ok $? "ssovaultd starts without a key, locked"
is "$(stat -c %a "$SOCK")" "666" "the socket is mode 0666 (access is decided per request)"
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "false" "status answers while locked: unlocked false"
like "$(cat "$DLOG")" "started: .*locked \(run 'ssovault unlock'\)" "log: started locked"

for cmd in "role list" "role add affiliate-admin uid:5001" "audit list" "audit verify" \
    "audit level" "secret rotate" "ticket settings" "app list" "app show payroll" \
    "mapping list" "creds get payroll" "cert list" "port list" "suspended list" "lock"; do
	# shellcheck disable=SC2086
	expect 6 "locked: $cmd" "$V" $cmd
	like "$ERR" "locked" "locked: $cmd says the vault is locked"
done
expect 6 "locked: backup" "$V" backup "$T_TMP/b.mdb"
expect 6 "locked: secret backup" "$V" secret backup "$T_TMP/s.bak" --password-file "$T_TMP/pass"
# every operation at the wire level, not only those the CLI has
"$CLIENTS" locked "$SOCK" > "$T_TMP/locked.out"
is "$?" "0" "wire: the program checked every operation"
[ "$(grep -c '^PASS' "$T_TMP/locked.out")" -ge 49 ]
ok $? "wire: at least 49 operations refused while locked ($(grep -c '^PASS' "$T_TMP/locked.out"))"
while read -r verdict rest; do
	[ "$verdict" = PASS ]; ok $? "wire: $rest"
done < "$T_TMP/locked.out"

expect 6 "unlock with a wrong passphrase" "$V" unlock --passphrase-file "$T_TMP/wrong.pass"
like "$ERR" "wrong passphrase" "... says wrong passphrase"
expect 6 "unlock with a wrong key file" "$V" unlock --key-file "$T_TMP/wrong.key"
like "$ERR" "wrong key file" "... says wrong key file"
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "false" "still locked after wrong secrets"

# unlocking is a vault-admin request (DESIGN 8): the secret alone is not enough
expect 5 "uid 5004 (no role) with the right passphrase is denied" as_user 5004 5004 "$V" unlock --passphrase-file "$(secret_copy 5004 "$T_TMP/pass")"
like "$ERR" "access denied: uid 5004 is not a vault admin" "... names the missing role"
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "false" "... and the vault stays locked"
# root's wrong passphrase above: the daemon makes a uid wait 1 s before its next try
sleep 1.2
expect 0 "the vault admin (root) unlocks with the passphrase" "$V" unlock --passphrase-file "$T_TMP/pass"
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "true" "status: unlocked"
expect 0 "role list works once unlocked" "$V" role list
expect 5 "uid 5004 may not lock" as_user 5004 5004 "$V" lock
like "$ERR" "access denied: uid 5004 is not a vault admin" "... names the missing role"
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "true" "... and the vault stays unlocked"
expect 1 "uid 5004 with a wrong passphrase: already unlocked, never tried" as_user 5004 5004 "$V" unlock --passphrase-file "$(secret_copy 5004 "$T_TMP/wrong.pass")"
like "$ERR" "already unlocked" "... says so"
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "true" "a wrong unlock attempt leaves an unlocked vault unlocked"
expect 0 "the vault admin locks" "$V" lock
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "false" "status: locked again"
expect 6 "role list refused after lock" "$V" role list
expect 0 "unlock with the key file" "$V" unlock --key-file "$T_TMP/key"
expect 0 "role list works again" "$V" role list
is "$(audit_count uid=5004 op=lock "outcome=access denied")" "1" \
    "audit: the refused lock by uid 5004 is recorded, once"
is "$(audit_count uid=5004 op=unlock "outcome=access denied")" "1" \
    "audit: the refused unlock by uid 5004 is recorded, once"
L=$(cat "$DLOG")
like "$L" "vault unlocked by uid 0 \(pid [0-9]+, .*ssovault\)" "log: who unlocked"
like "$L" "unlock refused for uid 5004 .*not a vault admin" "log: the refused unlock"
like "$L" "vault locked by uid 0 " "log: who locked"
like "$L" "unlock refused for uid 0 .*: wrong passphrase" "log: refused unlock"
unlike "$L" "correct horse|not the passphrase" "log: no passphrase in it"

# --- one daemon per socket -------------------------------------------------
expect 1 "a second daemon on a live socket is refused" "$D" --vault "$SSOVAULT_DIR" --socket "$SOCK"
like "$ERR" "another ssovaultd answers on $SOCK" "... says another daemon answers"
expect 0 "... and the first one still answers" "$V" status

# --- SIGHUP reopens the log --------------------------------------------------
mv "$DLOG" "$DLOG.1"
kill -HUP "$DPID"
# the daemon reopens the log when it gets to the signal, and says so there
wait_for 30 grep -q "log file reopened (SIGHUP)" "$DLOG"
ok $? "SIGHUP: the log file is made again, its first line says why"
expect 0 "lock after SIGHUP" "$V" lock
wait_for 30 grep -q "vault locked by uid 0" "$DLOG"
ok $? "SIGHUP: the log file is reopened (new file has the next event)"
expect 0 "unlock again" "$V" unlock --key-file "$T_TMP/key"

# --- SIGTERM ---------------------------------------------------------------
daemon_stop
is "$DRC" "0" "SIGTERM: exit 0"
[ ! -e "$SOCK" ]; ok $? "SIGTERM: the socket file is removed"
like "$(cat "$DLOG")" "stopped: requests in flight finished, vault locked" "log: stopped, vault locked"

# --- unlocking at start --------------------------------------------------------
daemon_start --key-file "$T_TMP/key"
ok $? "start with --key-file"
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "true" "--key-file: unlocked at start"
# a stale socket: the daemon dies, its socket file stays
daemon_kill
[ -S "$SOCK" ]; ok $? "after kill -9 the socket file is left behind"
(umask 077 && printf 'correct horse battery staple\n' > "$T_TMP/pass-nl")
daemon_start --passphrase-file "$T_TMP/pass-nl"
ok $? "start over a stale socket, with --passphrase-file (trailing newline)"
like "$(cat "$DLOG")" "removed a stale socket at $SOCK" "log: stale socket removed"
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "true" "--passphrase-file: unlocked at start"
daemon_stop

expect 6 "start with a wrong key file" "$D" --vault "$SSOVAULT_DIR" --socket "$SOCK" --key-file "$T_TMP/wrong.key"
like "$ERR" "cannot unlock the vault with the key file .*wrong key file" "... says why"
[ ! -e "$SOCK" ]; ok $? "... and removes its socket"
secret_file "$T_TMP/short.key" '0123'
expect 1 "start with a key file of 4 bytes" "$D" --vault "$SSOVAULT_DIR" --socket "$SOCK" --key-file "$T_TMP/short.key"
like "$ERR" "must hold 32 bytes" "... says what a key file holds"
: > "$T_TMP/regular"
expect 1 "a regular file where the socket should be" "$D" --vault "$SSOVAULT_DIR" --socket "$T_TMP/regular"
like "$ERR" "exists and is not a socket" "... is refused"
[ -f "$T_TMP/regular" ]; ok $? "... and left alone"
expect 1 "a socket path that is too long" "$D" --vault "$SSOVAULT_DIR" --socket "$T_TMP/$(printf 'x%.0s' $(seq 1 120))"
like "$ERR" "socket path too long" "... says so"

# --- systemd socket activation ---------------------------------------------------
ASOCK="$T_TMP/activated.sock"
python3 - "$ASOCK" "$D" "$SSOVAULT_DIR" "$T_TMP/key" "$DLOG" <<'EOF' >/dev/null &
import os, socket, sys
path, daemon, vault, key, log = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, 0o666)
s.listen(16)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = "1"
err = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
os.dup2(err, 2)
os.execv(daemon, [daemon, "--vault", vault, "--key-file", key, "--socket", "/nonexistent/ignored.sock"])
EOF
DPID=$!
for i in $(seq 1 100); do "$V" --socket "$ASOCK" status >/dev/null 2>&1 && break; sleep 0.1; done
expect 0 "socket activation: the daemon answers on the socket it was given" "$V" --socket "$ASOCK" role list
like "$(cat "$DLOG")" "listening on $ASOCK \(socket activation\)" "log: socket activation"
daemon_stop
is "$DRC" "0" "socket activation: SIGTERM exits 0"
[ -S "$ASOCK" ]; ok $? "socket activation: the socket belongs to systemd and is left in place"

# --- hardening a peer can see ------------------------------------------------------
daemon_start --key-file "$T_TMP/key"
grep -qE '^Max core file size +0 +0 ' "/proc/$DPID/limits"
ok $? "RLIMIT_CORE is 0"
grep -qE '^Umask:\s+0077' "/proc/$DPID/status"
ok $? "umask is 077"
daemon_stop

# a daemon run by an ordinary uid: not dumpable means /proc/PID files are root's
U=5010
mkdir -p "$T_TMP/u$U" && chown $U:$U "$T_TMP/u$U"
UPASS=$(secret_copy $U "$T_TMP/pass")
expect 0 "uid $U makes a vault of its own" as_user $U $U "$V" --vault "$T_TMP/u$U/vault" init --kdf-limits interactive --passphrase-file "$UPASS"
# setpriv and prlimit exec: $! is the daemon itself
setpriv --reuid=$U --regid=$U --clear-groups -- prlimit --memlock=0:0 \
    "$D" --vault "$T_TMP/u$U/vault" --socket "$T_TMP/u$U/s.sock" \
    --passphrase-file "$UPASS" >/dev/null 2>"$T_TMP/u$U.log" &
DPID=$!
# root's client talks to a daemon of another uid only when told to trust it
export SSOVAULT_DAEMON_UID=$U
for i in $(seq 1 100); do "$V" --socket "$T_TMP/u$U/s.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
expect 0 "the uid $U daemon answers" as_user $U $U "$V" --socket "$T_TMP/u$U/s.sock" role list
is "$(cat "/proc/$DPID/comm") $(awk '/^Uid:/ {print $2}' "/proc/$DPID/status")" "ssovaultd $U" \
    "the process is ssovaultd running as uid $U"
is "$(stat -c %u "/proc/$DPID/environ")" "0" "PR_SET_DUMPABLE 0: /proc/PID/environ of a uid $U daemon belongs to root"
if grep -q __asan_init "$D"; then
	# AddressSanitizer turns mlock into a no-op: nothing is refused
	echo "ok $((T_COUNT += 1)) - mlock refused (memlock 0): a warning # SKIP mlock is a no-op under ASan"
else
	like "$(cat "$T_TMP/u$U.log")" "warning: cannot lock memory" "mlock refused (memlock 0): a warning, and it runs"
fi
expect 5 "root has no implicit role in uid $U's vault" "$V" --socket "$T_TMP/u$U/s.sock" role list
like "$ERR" "access denied: uid 0 \(root\) is not a vault admin" "... names the missing role"
unset SSOVAULT_DAEMON_UID
daemon_stop
is "$DRC" "0" "the uid $U daemon stops with exit 0"

# --- the daemon's own secret file needs no role ----------------------------------
# uid 5011 makes a vault, makes uid 5012 its vault admin and drops its own role;
# a daemon of uid 5011 still unlocks at start with its --passphrase-file (the
# admin who configured it chose the file), but 5011's unlock by request is denied
U=5011
mkdir -p "$T_TMP/u$U" && chown $U:$U "$T_TMP/u$U"
install -m 600 -o $U -g $U "$T_TMP/pass" "$T_TMP/u$U/pass"
install -m 600 -o 5012 -g 5012 "$T_TMP/pass" "$T_TMP/pass.5012"
EMB=(env -u SSOVAULT_SOCKET SSOVAULT_PASSPHRASE_FILE="$T_TMP/u$U/pass" "$V" --vault "$T_TMP/u$U/vault")
as_user $U $U "${EMB[@]}" init --kdf-limits interactive --passphrase-file "$T_TMP/u$U/pass" >/dev/null &&
as_user $U $U "${EMB[@]}" role add vault-admin uid:5012 >/dev/null &&
as_user $U $U "${EMB[@]}" role remove vault-admin uid:$U >/dev/null
ok $? "uid $U makes a vault, makes uid 5012 its vault admin and drops its own role"
setpriv --reuid=$U --regid=$U --clear-groups -- "$D" --vault "$T_TMP/u$U/vault" \
    --socket "$T_TMP/u$U/s.sock" --passphrase-file "$T_TMP/u$U/pass" >/dev/null 2>"$T_TMP/u$U.log" &
DPID=$!
# root and uid 5012 trust a daemon served by uid 5011 only when told to
export SSOVAULT_DAEMON_UID=$U
for i in $(seq 1 100); do "$V" --socket "$T_TMP/u$U/s.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
run "$V" --socket "$T_TMP/u$U/s.sock" --json status
is "$(echo "$OUT" | json_get unlocked)" "true" "a daemon of uid $U (no role) unlocks at start with its own passphrase file"
expect 0 "uid 5012 (vault admin) locks it" as_user 5012 5012 "$V" --socket "$T_TMP/u$U/s.sock" lock
expect 5 "uid $U's unlock by request is a vault-admin request: denied" \
    as_user $U $U "$V" --socket "$T_TMP/u$U/s.sock" unlock --passphrase-file "$T_TMP/u$U/pass"
expect 0 "uid 5012 unlocks it" as_user 5012 5012 "$V" --socket "$T_TMP/u$U/s.sock" unlock --passphrase-file "$T_TMP/pass.5012"
unset SSOVAULT_DAEMON_UID
daemon_stop
is "$DRC" "0" "the uid $U daemon stops with exit 0"

done_testing
