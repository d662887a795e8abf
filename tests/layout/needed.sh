#!/usr/bin/env bash
# The CLI does not link libcurl (docs/decisions.md, "The CLI loads libcurl
# for send only"): send/curl-load.c opens it at the first send, so that
# every other command, `creds get` through ssovaultd first of all, starts
# without binding libcurl's thirty libraries.  The send tests show that
# sending still works through it.
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
echo "1..$n"
