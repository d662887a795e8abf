#!/usr/bin/env bash
# Bad frames on ssovaultd's socket (tests/daemon/frames.c, a few hundred of
# them, as an unprivileged uid) and what must hold afterwards: the daemon
# lives, leaks no descriptor, still serves the vault admin, keeps the vault
# unlocked, its audit chain verifies, and its log names the peer of each
# protocol error without ever holding a secret sent in a frame.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

FRAMES=$1
V=$SSOVAULT
new_vault --key-file "$T_TMP/key"
daemon_start --key-file "$T_TMP/key" --frame-max 64K
ok $? "ssovaultd starts with --frame-max 64K"
# a refused read is recorded through the journal of reads, which the daemon
# opens at its first record and keeps: one descriptor that is no leak
expect 5 "a refused read (its record opens the journal)" as_user 5099 5099 "$V" audit list
sleep 0.5	# as below: the daemon has closed that connection
FDS_BEFORE=$(daemon_fds)

as_user 5099 5099 "$FRAMES" "$SOCK" 65536 "${FRAMES_SEED:-}" > "$T_TMP/frames.out" 2>&1
FRC=$?
tap_relay "$T_TMP/frames.out"
is "$FRC" "0" "the frames program saw no failure"
[ "$(grep -c "^PASS" "$T_TMP/frames.out")" -ge 90 ]
ok $? "at least 90 checks ran ($(grep -c '^PASS' "$T_TMP/frames.out") passed)"

kill -0 "$DPID" 2>/dev/null
ok $? "the daemon is alive"
# the daemon closes the frames' connections as it gets to them
fds_back() { [ "$(daemon_fds)" = "$FDS_BEFORE" ]; }
wait_for 30 fds_back
is "$(daemon_fds)" "$FDS_BEFORE" "no descriptor leaked (passed ones closed, connections closed)"
expect 0 "the vault admin is still served" "$V" role list
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "true" "the vault is still unlocked"
expect 0 "the audit chain verifies" "$V" audit verify
L=$(cat "$DLOG")
like "$L" "protocol error from uid 5099 \(pid [0-9]+, .*daemon-frames\): unknown operation" \
    "log: a protocol error names the peer and what was wrong"
like "$L" "protocol error from uid 5099 .*over the limit of 65536 bytes \(ssovaultd --frame-max\); connection closed" \
    "log: an oversized frame"
like "$L" "protocol error from uid 5099 .*unsupported protocol version" "log: a wrong version"
like "$L" "in the middle of a frame" "log: a truncated frame"
like "$L" "unlock refused for uid 5099 .*already unlocked" "log: the unlock attempt (never tried: already unlocked)"
unlike "$L" "frames-secret-marker" "log: no byte of a secret sent in a frame"
daemon_stop
is "$DRC" "0" "SIGTERM after the barrage: exit 0"

done_testing
