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
# is for tests only (a real multi-user setup uses ssovaultd).
share_vault() {
	chmod -R a+rwX "$SSOVAULT_DIR"
}

# run_as UID [GIDS] CMD...: run the CLI as another uid (primary gid 7000).
run_as() {
	local uid=$1 groups=$2
	shift 2
	as_user "$uid" "$groups" "$SSOVAULT" "$@"
}
