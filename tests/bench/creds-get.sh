#!/usr/bin/env bash
# How long `ssovault creds get APP` takes in embedded mode: each run is a new
# process that opens the vault, unlocks it (Argon2id for a passphrase slot),
# reads the credentials through the dispatch, writes the audit record and
# prints.  Median, p90 and min of N runs for a vault made with interactive
# Argon2id limits, one with the default (moderate) limits, and one unlocked
# by a key file (no Argon2id), so the unlock's share is visible.
#   tests/bench/creds-get.sh [BUILD_DIR] [RUNS]      (default: build, 100)
# Not a test: it prints figures to compare.
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build}
runs=${2:-100}
S=$PWD/$build/cli/ssovault
[ -x "$S" ] || { echo "no $S: build first (ninja -C $build)" >&2; exit 2; }
tmp=$(mktemp -d /tmp/ssovault-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf 'correct horse battery staple' > "$tmp/pass"
chmod 600 "$tmp/pass"	# a passphrase file others may read is refused
unset SSOVAULT_SOCKET SSOVAULT_KEY_FILE SSOVAULT_PASSPHRASE_FILE

setup() {	# setup DIR INIT-OPTIONS...: a vault with app bench and the caller's mapping
	local dir=$1
	shift
	SSOVAULT_DIR=$dir "$S" init "$@" >/dev/null
}

fill() {
	"$S" app create bench --enable --user "uid:$(id -u)" >/dev/null
	"$S" mapping create bench "uid:$(id -u)" bench-user >/dev/null
	echo '{"password": "bench-password"}' | "$S" creds set bench --user "uid:$(id -u)" --from-file - >/dev/null
}

measure() {	# measure LABEL: N timed runs with the current environment
	local label=$1 i t0 t1 out
	: > "$tmp/times"
	out=$("$S" creds get bench --field password)
	[ "$out" = bench-password ] || { echo "creds get failed: $out" >&2; exit 1; }
	for i in $(seq "$runs"); do
		t0=$(date +%s%N)
		"$S" creds get bench --field password >/dev/null
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 )) >> "$tmp/times"
	done
	sort -n "$tmp/times" | awk -v label="$label" '
		{ v[NR] = $1 }
		END {
			med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%-36s runs %4d  median %8.1f ms  p90 %8.1f ms  min %8.1f ms\n",
			    label, NR, med / 1000, v[int(NR * 0.9 + 0.5)] / 1000, v[1] / 1000
		}'
}

export SSOVAULT_PASSPHRASE_FILE=$tmp/pass
export SSOVAULT_DIR=$tmp/interactive
setup "$SSOVAULT_DIR" --kdf-limits interactive --passphrase-file "$tmp/pass"
fill
measure "passphrase, interactive Argon2id"

export SSOVAULT_DIR=$tmp/moderate
setup "$SSOVAULT_DIR" --passphrase-file "$tmp/pass"
fill
measure "passphrase, moderate Argon2id"

unset SSOVAULT_PASSPHRASE_FILE
export SSOVAULT_DIR=$tmp/keyfile SSOVAULT_KEY_FILE=$tmp/key
setup "$SSOVAULT_DIR" --key-file "$tmp/key"
fill
measure "key file (no Argon2id)"

echo "($(nproc) CPUs, $(uname -m); each run also appends one audit record)"
