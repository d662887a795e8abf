# Helpers for the attack tests (tests/attacks/): source after tests/lib.sh
# and tests/daemon/lib-daemon.sh.  Each attack test plays a hostile local
# user against a real ssovaultd, as real uids (setpriv, or os.setuid in a
# forked Python child), and checks that the defence holds.
#
#   attack_py SCRIPT ARGS...   run a Python attack with tests/attacks on its
#                              path (import ssowire) and the daemon's socket
#                              in $SOCK
#   daemon_rss_kb              the daemon's resident memory, in KiB
#   vault_bytes                the size of the vault's files, in bytes

ATTACKS_DIR="$SOURCE_ROOT/tests/attacks"

attack_py() {
	PYTHONPATH="$ATTACKS_DIR${PYTHONPATH:+:$PYTHONPATH}" SOCK="$SOCK" python3 "$@"
}

daemon_rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status" 2>/dev/null || echo 0
}

vault_bytes() {
	du -sb "$SSOVAULT_DIR" 2>/dev/null | cut -f1
}
