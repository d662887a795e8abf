#!/usr/bin/env bash
# The CLI does not link libcurl (docs/decisions.md, "The CLI loads libcurl
# for send only"): send/curl-load.c opens it at the first send, so that
# every other command, `creds get` through ssovaultd first of all, starts
# without binding libcurl's thirty libraries.  The send tests show that
# sending still works through it; here, that without libcurl (hidden by a
# bind mount in a mount namespace of the test's own; needs root, as the
# test suite runs) the CLI runs and send says what is missing.
#   tests/layout/needed.sh SSOVAULT
set -u
exe=$1
n=0
t() {	# t STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
needed=$(readelf -d "$exe" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ]
t $? "readelf lists the libraries $exe needs ($(echo $needed | tr '\n' ' '))"
! grep -q '^libcurl' <<<"$needed"
t $? "libcurl is not among them"
grep -q '^libsodium' <<<"$needed"
t $? "libsodium is (the list is the right one)"
"$exe" --version >/dev/null 2>&1
t $? "ssovault --version runs"

# without libcurl (hidden in a mount namespace of our own): every command
# but send runs; send says what is missing, exit 1 (not a usage error)
# (the 64-bit one where several are installed, else the only one)
lib=$(ldconfig -p | awk '$1 == "libcurl.so.4" { if (any == "") any = $NF; if (/x86-64/) best = $NF }
	END { print (best != "" ? best : any) }')
[ -n "$lib" ] && [ -e "$lib" ]
t $? "ldconfig knows libcurl.so.4 ($lib)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo '<a/>' > "$tmp/m.xml"
# shellcheck disable=SC2016
unshare -m sh -c 'mount --bind /dev/null "$1" || exit 99
	SSOVAULT_DIR=$2/none "$3" --version >/dev/null 2>&1; echo "version $?"
	SSOVAULT_DIR=$2/none "$3" send --url http://127.0.0.1:9/x "$2/m.xml" 2>"$2/err"
	echo "send $?"' sh "$lib" "$tmp" "$exe" > "$tmp/out" 2>&1
grep -qx 'version 0' "$tmp/out"
t $? "without libcurl, ssovault --version still runs ($(tr '\n' ' ' < "$tmp/out"))"
grep -qx 'send 1' "$tmp/out"
t $? "and send fails with exit 1"
grep -q 'libcurl could not be loaded (.*): install libcurl4' "$tmp/err"
t $? "saying so: $(head -1 "$tmp/err")"
echo "1..$n"
