#!/usr/bin/env bash
# How long `ssovault creds get APP` takes as a process: in embedded mode each
# run opens the vault, unlocks it (Argon2id for a passphrase slot), reads
# the credentials through the dispatch, writes the audit record and prints;
# through ssovaultd it connects, asks and prints.  Median, p90 and min of N
# runs for a vault made with interactive Argon2id limits, one with the
# default (moderate) limits, one unlocked by a key file (no Argon2id), and
# the same key-file vault through a running ssovaultd (target: 5 ms), beside
# `pass show` of a password (if pass is installed; else a plain `cat` of a
# file), so the process's own cost is visible.
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

measure() {	# measure LABEL [COMMAND...]: N timed runs (default: creds get)
	local label=$1 i t0 t1 out
	shift
	[ $# -gt 0 ] || set -- "$S" creds get bench --field password
	: > "$tmp/times"
	out=$("$@")
	[ "$out" = bench-password ] || { echo "$label: got '$out'" >&2; exit 1; }
	# bash's own clock: a `date` process per reading would add its fork
	# and exec (about 1 ms here) to every figure
	for i in $(seq "$runs"); do
		t0=${EPOCHREALTIME/[.,]/}
		"$@" >/dev/null
		t1=${EPOCHREALTIME/[.,]/}
		echo $(( t1 - t0 )) >> "$tmp/times"
	done
	sort -n "$tmp/times" | awk -v label="$label" -v target="${TARGET:-}" '
		{ v[NR] = $1 }
		END {
			med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%-40s runs %4d  median %8.1f ms  p90 %8.1f ms  min %8.1f ms  %s\n",
			    label, NR, med / 1000, v[int(NR * 0.9 + 0.5)] / 1000, v[1] / 1000, target
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

# the same vault through ssovaultd: the CLI only connects, asks and prints
D=${SSOVAULTD:-$PWD/$build/sso/ssovaultd}
"$D" --vault "$SSOVAULT_DIR" --socket "$tmp/d.sock" --key-file "$tmp/key" \
    --log-file "$tmp/d.log" >/dev/null 2>&1 &
dpid=$!
trap 'kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; rm -rf "$tmp"' EXIT
for i in $(seq 1 100); do
	SSOVAULT_SOCKET=$tmp/d.sock "$S" status >/dev/null 2>&1 && break
	sleep 0.05
done
SSOVAULT_SOCKET=$tmp/d.sock TARGET="<= 5 ms" measure "through ssovaultd (key-file vault)"
kill "$dpid"
wait "$dpid" || [ $? -eq 143 ]	# stopped by our SIGTERM
trap 'rm -rf "$tmp"' EXIT

# beside it, a process that fetches a password with no daemon between
if command -v pass >/dev/null 2>&1 && command -v gpg >/dev/null 2>&1; then
	export GNUPGHOME=$tmp/gnupg PASSWORD_STORE_DIR=$tmp/pass-store
	mkdir -m 700 "$GNUPGHOME"
	gpg --batch --quiet --passphrase '' --quick-gen-key "bench <bench@localhost>" \
	    default default never 2>/dev/null
	pass init "bench@localhost" >/dev/null
	echo bench-password | pass insert -e bench >/dev/null
	measure "pass show (gpg, no daemon)" pass show bench
	gpgconf --kill gpg-agent 2>/dev/null
else
	printf 'bench-password\n' > "$tmp/plain"
	measure "cat of a file (pass is not installed)" cat "$tmp/plain"
fi

echo "($(nproc) CPUs, $(uname -m); each ssovault run also appends one audit record)"
