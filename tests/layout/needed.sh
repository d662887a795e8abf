#!/usr/bin/env bash
# The CLI does not link libcurl (docs/decisions.md, "The CLI loads libcurl
# for send only"): send/curl-load.c opens it at the first send, so that
# every other command, `creds get` through ssovaultd first of all, starts
# without binding libcurl's thirty libraries.  Nor libpq, libxml2 and ICU
# (docs/decisions.md, "The CLI loads libpq, libxml2 and ICU when a command
# needs them"; base/libload.c).  The send, import, export, names and pg
# tests show that each still works through its loader; here, that without
# them (hidden by a bind mount in a mount namespace of the test's own;
# needs root, as the test suite runs) the CLI runs, looks credentials up
# embedded and through ssovaultd, and each command that needs one says
# what is missing.
#   tests/layout/needed.sh SSOVAULT SSOVAULTD
set -u
exe=$1
daemon=$2
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
! grep -q '^libpq' <<<"$needed"
t $? "nor libpq"
! grep -q '^libxml2' <<<"$needed"
t $? "nor libxml2"
! grep -q '^libicu' <<<"$needed"
t $? "nor ICU"
! grep -q '^libssl' <<<"$needed"
t $? "nor libssl (sso/client/ssl-load.c)"
# (a sanitizer build's runtime, libubsan, brings libstdc++ itself)
brought='libpq|libxml2|libicu|libcurl|libssl|libkrb5|libldap'
ldd "$exe" | grep -qE '^\s*lib(asan|ubsan)' || brought="$brought|libstdc\+\+"
! ldd "$exe" | grep -qE "^\s*($brought)"
t $? "nor anything they would have brought (ldd)"
grep -q '^libsodium' <<<"$needed"
t $? "libsodium is (the list is the right one)"
"$exe" --version >/dev/null 2>&1
t $? "ssovault --version runs"

# without libcurl (hidden in a mount namespace of our own): every command
# but send runs; send says what is missing, exit 1 (not a usage error)
# (the 64-bit one where several are installed, else the only one)
libpath() {	# libpath SONAME: where the loader finds it
	ldconfig -p | awk -v so="$1" '$1 == so { if (any == "") any = $NF; if (/x86-64/) best = $NF }
		END { print (best != "" ? best : any) }'
}
lib=$(libpath libcurl.so.4)
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

# without libpq, libxml2, ICU and libcurl at once: a lookup runs, embedded
# and through a daemon that has them; each command that needs one fails
# with exit 1 naming the package to install (the daemon is the same
# binaries' code, started outside the namespace)
icu=$(pkg-config --modversion icu-uc | cut -d. -f1)
pq=$(libpath libpq.so.5) xml=$(libpath libxml2.so.2) uc=$(libpath "libicuuc.so.$icu")
[ -e "$pq" ] && [ -e "$xml" ] && [ -e "$uc" ]
t $? "ldconfig knows libpq.so.5 ($pq), libxml2.so.2 ($xml), libicuuc.so.$icu ($uc)"
export SSOVAULT_DIR=$tmp/v SSOVAULT_KEY_FILE=$tmp/key
unset SSOVAULT_SOCKET SSOVAULT_PASSPHRASE_FILE
me="uid:$(id -u)"
{ "$exe" init --key-file "$tmp/key" && "$exe" app create bench --enable --user "$me" &&
  "$exe" mapping create bench "$me" bench-user &&
  echo '{"password": "pw-1"}' | "$exe" creds set bench --user "$me" --from-file -
} >/dev/null
t $? "a key-file vault with app bench and the caller's credentials"
printf '<sso><application name="x"><fields><field ordinal="0" label="User"/></fields></application></sso>\n' \
    > "$tmp/a.xml"
"$daemon" --vault "$tmp/v" --socket "$tmp/d.sock" --key-file "$tmp/key" \
    --log-file "$tmp/d.log" >/dev/null 2>&1 &
dpid=$!
trap 'kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; rm -rf "$tmp"' EXIT
# shellcheck disable=SC2016
SSOVAULT_SOCKET=$tmp/d.sock timeout 10 sh -c \
    'until "$0" status >/dev/null 2>&1; do sleep 0.05; done' "$exe"
t $? "ssovaultd answers on its socket"
# shellcheck disable=SC2016
E=$exe D=$daemon T=$tmp unshare -m sh -c 'for l in "$@"; do mount --bind /dev/null "$l" || exit 99; done
	for l in "$@"; do [ -s "$l" ] || echo "hidden $l"; done
	"$E" --version >/dev/null 2>&1; echo "version $?"
	"$E" creds get bench --field password 2>&1; echo "embedded $?"
	SSOVAULT_SOCKET=$T/d.sock "$E" creds get bench --field password 2>&1; echo "daemon $?"
	"$E" --vault postgresql://localhost/none status 2>"$T/err-pq"; echo "pq $?"
	"$E" app import "$T/a.xml" 2>"$T/err-import"; echo "import $?"
	"$E" app export bench >/dev/null 2>"$T/err-export"; echo "export $?"
	"$E" app create "Café" 2>"$T/err-icu"; echo "icu $?"
	"$D" --vault postgresql://localhost/none --socket "$T/pq.sock" --log-file "$T/err-daemon" \
	    >/dev/null 2>&1; echo "daemon-pq $?"' \
    sh "$pq" "$xml" "$uc" "$lib" > "$tmp/out2" 2>&1
got=$(tr '\n' ' ' < "$tmp/out2")
[ "$(grep -c '^hidden ' "$tmp/out2")" -eq 4 ]
t $? "in the namespace the four libraries are empty files ($got)"
grep -qx 'version 0' "$tmp/out2"
t $? "without them, ssovault --version runs"
grep -A1 -x 'pw-1' "$tmp/out2" | grep -qx 'embedded 0'
t $? "a lookup in embedded mode runs and prints the password"
sed -n '/^embedded/,$p' "$tmp/out2" | grep -A1 -x 'pw-1' | grep -qx 'daemon 0'
t $? "a lookup through ssovaultd runs and prints the password"
missing() {	# missing TAG WHAT PACKAGE DESCRIPTION: TAG exited 1 saying what to install
	grep -qx "$1 1" "$tmp/out2" &&
	    grep -q "^ssovault: .*$2 could not be loaded (.*): install $3\$" "$tmp/err-$1"
	t $? "$4: exit 1, $(head -1 "$tmp/err-$1")"
}
missing pq libpq libpq5 "a vault at a postgresql:// URI"
missing import libxml2 libxml2 "app import"
missing export libxml2 libxml2 "app export"
missing icu ICU "libicu$icu" "a name that is not ASCII"
grep -qx 'daemon-pq 1' "$tmp/out2" &&
    grep -q 'cannot open the vault in postgresql://localhost/none: libpq could not be loaded (.*): install libpq5$' \
    "$tmp/err-daemon"
t $? "ssovaultd --vault postgresql://...: exit 1, $(tail -1 "$tmp/err-daemon" | sed 's/.*ssovaultd\[[0-9]*\]: //')"
SSOVAULT_SOCKET=$tmp/d.sock "$exe" app create "Café" --user "$me" >/dev/null &&
    SSOVAULT_SOCKET=$tmp/d.sock "$exe" app show "CAFÉ" >/dev/null
t $? "while ssovaultd, which loads ICU itself, folds the same name"
echo "1..$n"
