# Shared shell helpers for integration tests (TAP output).
# Sourced by tests/integration/*.sh; meson passes SSOVAULT (the CLI),
# SSOVAULTD (the daemon), SOURCE_ROOT and BUILD_ROOT in the environment.
set -u

: "${SSOVAULT:?SSOVAULT must name the ssovault binary}"
T_COUNT=0
T_FAILED=0
T_TMP=$(mktemp -d /tmp/ssovault-test.XXXXXX)
chmod 755 "$T_TMP"
T_CLEANUP=""
trap 't_cleanup' EXIT

t_cleanup() {
	local c
	# a cleanup that fails (a daemon already gone) stops nothing: no set -e here
	for c in $T_CLEANUP; do eval "$c" >/dev/null 2>&1; done
	rm -rf "$T_TMP"
}

# Run a command at exit (e.g. stopping a daemon).
at_exit() { T_CLEANUP="$1 $T_CLEANUP"; }

ok() {	# ok CONDITION-EXIT-STATUS DESCRIPTION
	T_COUNT=$((T_COUNT + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_COUNT - $2"
	else
		echo "not ok $T_COUNT - $2"
		T_FAILED=$((T_FAILED + 1))
	fi
}

# run CMD...: runs it, keeping stdout in $OUT, stderr in $ERR, status in $RC.
run() {
	OUT=$("$@" 2>"$T_TMP/.err")
	RC=$?
	ERR=$(cat "$T_TMP/.err")
}

# expect CODE DESCRIPTION CMD...: the command exits with CODE.
expect() {
	local want=$1 desc=$2
	shift 2
	run "$@"
	[ "$RC" -eq "$want" ]
	ok $? "$desc (exit $want)"
	if [ "$RC" -ne "$want" ]; then
		echo "#   got exit $RC"
		echo "$OUT" | head -5 | sed 's/^/#   stdout: /'
		echo "$ERR" | head -5 | sed 's/^/#   stderr: /'
	fi
}

# wait_for SECONDS CMD...: until CMD succeeds, polling; 0 if it did within
# SECONDS.  For waiting on what a check is about (a file, a log line, a
# descriptor count), never a fixed sleep; the bound only ends a wait that
# would never end, it is no assertion on speed.
wait_for() {
	local n=$(($1 * 20))
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.05
	done
	return 0
}

# like STRING PATTERN DESCRIPTION: grep -E PATTERN matches STRING.
like() {
	printf '%s' "$1" | grep -qE -- "$2"
	ok $? "$3"
	printf '%s' "$1" | grep -qE -- "$2" || echo "#   '$(printf '%s' "$1" | head -3)' does not match /$2/"
}

unlike() {
	! printf '%s' "$1" | grep -qE -- "$2"
	ok $? "$3"
}

# is GOT WANT DESCRIPTION
is() {
	[ "$1" = "$2" ]
	ok $? "$3"
	[ "$1" = "$2" ] || echo "#   got '$1', want '$2'"
}

done_testing() {
	echo "1..$T_COUNT"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}

# A throwaway embedded vault, unlocked per command from a passphrase file.
# Sets SSOVAULT_DIR and SSOVAULT_PASSPHRASE_FILE (the file is root's, 0600:
# key and passphrase files others can read are refused; another uid that
# needs it gets its own copy from secret_copy).
# With SSOVAULT_TEST_VAULT=pg (under tests/pg/with-pg.sh) the vault is the
# PostgreSQL database SSOVAULT_TEST_PG instead of a directory.
new_vault() {
	export SSOVAULT_DIR="$T_TMP/vault"
	if [ "${SSOVAULT_TEST_VAULT:-}" = pg ]; then
		SSOVAULT_DIR=$SSOVAULT_TEST_PG
		echo "# the vault: PostgreSQL, $SSOVAULT_DIR"
	fi
	secret_file "$T_TMP/pass" 'correct horse battery staple'
	export SSOVAULT_PASSPHRASE_FILE="$T_TMP/pass"
	unset SSOVAULT_SOCKET SSOVAULT_KEY_FILE
	"$SSOVAULT" init --kdf-limits interactive --passphrase-file "$T_TMP/pass" "$@" >/dev/null
}

# secret_file FILE TEXT: FILE holds TEXT (no newline), mode 0600, as a key,
# passphrase or password file must be.
secret_file() {
	rm -f "$1"
	(umask 077 && printf '%s' "$2" > "$1")
}

# secret_copy UID FILE: a copy of the secret file FILE that uid UID owns,
# mode 0600 (each reader of a secret file must own it, or root); prints its
# path, FILE.UID.
secret_copy() {
	local uid=$1 f=$2
	rm -f "$f.$uid"
	(umask 077 && cp "$f" "$f.$uid") && chown "$uid:$uid" "$f.$uid" && echo "$f.$uid"
}

# as_user UID GID[,GID...] CMD...: run as another uid/group set (setpriv).
as_user() {
	local uid=$1 groups=$2 gid
	shift 2
	gid=${groups%%,*}
	setpriv --reuid="$uid" --regid="$gid" --groups="$groups" -- "$@"
}

# Generate the test PKI (tests/pki.sh) once into $T_TMP/pki.
pki() {
	[ -f "$T_TMP/pki/ca.pem" ] || sh "$SOURCE_ROOT/tests/pki.sh" "$T_TMP/pki" >/dev/null
}
