# Helpers of the tests/apps scripts, on top of tests/lib.sh.

# jpath EXPR: evaluate a Python expression on the JSON document on stdin,
# bound to d (e.g. jpath 'd["enabled"]'); prints it, "True"/"False" for booleans.
jpath() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}

# share_vault: let other uids run embedded commands on the test vault.
# Embedded mode as another uid needs to read and write the LMDB files; this
# is for tests only (a real multi-user setup uses ssovaultd).  The directory
# stays writable by root alone: a vault directory others may write is
# refused.
share_vault() {
	chmod 755 "$SSOVAULT_DIR" && chmod a+rw "$SSOVAULT_DIR"/*.mdb
}

# run_as UID [GIDS] CMD...: run the CLI as another uid (primary gid 7000),
# with its own copy of the passphrase file (a secret file must be its
# reader's).
run_as() {
	local uid=$1 groups=$2 pf
	shift 2
	if [ -n "${SSOVAULT_PASSPHRASE_FILE:-}" ]; then
		pf=$(secret_copy "$uid" "$SSOVAULT_PASSPHRASE_FILE") || return 1
		as_user "$uid" "$groups" env SSOVAULT_PASSPHRASE_FILE="$pf" "$SSOVAULT" "$@"
	else
		as_user "$uid" "$groups" "$SSOVAULT" "$@"
	fi
}
