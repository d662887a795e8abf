#!/usr/bin/env bash
# Send benchmark: messages per second for one batch of SOAP messages to the
# local test server (tests/server: HTTPS that demands a client certificate,
# Basic auth), sent by `ssovault send` with SSO credentials and a client
# certificate from a throwaway embedded vault (sequentially, and with
# --parallel 8), embedded and through ssovaultd, with the key exportable
# (handed to libcurl, as before non-exportable keys) and with a second
# certificate for the same key kept in the vault (each TLS handshake signed
# by the service), beside the same messages sent by a shell loop of curl
# processes and by one curl process that reuses its connection, all with the
# same certificate, key and password.  Every message must arrive (counted in
# the server's log) or the run fails.  Prints a table; the connections and
# full TLS handshakes columns are counted at the server.  Then what one full
# handshake costs with the key in ssovaultd: HANDSHAKES (default 30) rounds
# of one-message calls through the daemon, one with each kind of key in turn
# (every call a new process, so a new TLS session), beside OpenSSL's own
# RSA-2048 signature time measured in the same run.
#
#   tests/bench/send-bench.sh [MESSAGES]        (default 200)
#
# Each method runs REPEAT times (default 3) after one warm-up message per
# method that is not timed (it starts Apache's workers and fills the page
# cache); the table shows the median.
#
# Environment: SSOVAULT (the CLI; default BUILD_ROOT/cli/ssovault, BUILD_ROOT
# defaulting to build/), SOURCE_ROOT (default: this checkout).
# Exit status: 0 when every message of every run was delivered.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=${SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
ssovault=${SSOVAULT:-${BUILD_ROOT:-$root/build}/cli/ssovault}
n=${1:-200}
parallel=8
repeat=${REPEAT:-3}

die() {
	echo "send-bench: $*" >&2
	exit 1
}
case $n in '' | *[!0-9]*) die "MESSAGES must be a number (got '$n')" ;; esac
case $repeat in '' | *[!0-9]* | 0) die "REPEAT must be a number of at least 1 (got '$repeat')" ;; esac
[ "$n" -ge 1 ] || die "MESSAGES must be at least 1"
[ -x "$ssovault" ] || die "$ssovault not found: build first (meson setup build && ninja -C build) or set SSOVAULT"
command -v curl >/dev/null || die "curl not found: install curl"
"$ssovault" send --help 2>&1 | grep -q -- '--sso-app' ||
    die "this ssovault has no 'send --sso-app' yet: nothing to measure"

tmp=$(mktemp -d /tmp/ssovault-bench.XXXXXX) || die "cannot make a temporary directory"
cleanup() {
	[ -n "${daemon_pid:-}" ] && kill -TERM "$daemon_pid" 2>/dev/null
	bash "$root/tests/server/stop.sh" "$tmp/srv" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$root/tests/server/start.sh" "$tmp/srv" >"$tmp/start.log" 2>&1 ||
    { cat "$tmp/start.log" >&2; die "the test servers did not start"; }
. "$tmp/srv/env"
url=$SOAP_HTTPS/basic
count() { sh "$root/tests/server/count.sh" "$@"; }

# --- a throwaway embedded vault: app, mapping, credentials, certificate
export SSOVAULT_DIR=$tmp/vault
export SSOVAULT_PASSPHRASE_FILE=$tmp/passphrase
unset SSOVAULT_SOCKET SSOVAULT_KEY_FILE
printf '%s' "$(head -c 18 /dev/urandom | base64)" >"$SSOVAULT_PASSPHRASE_FILE"
chmod 600 "$SSOVAULT_PASSPHRASE_FILE"
me="user:$(id -un)"
app=bench
step() {
	"$@" >"$tmp/step.out" 2>&1 || { cat "$tmp/step.out" >&2; die "set-up failed: $*"; }
}
step "$ssovault" init --kdf-limits interactive --passphrase-file "$SSOVAULT_PASSPHRASE_FILE"
step "$ssovault" app create "$app" --enable --user "$me" --description "send benchmark"
step "$ssovault" mapping create "$app" "$me" "$SOAP_USER"
{ printf '{"password":"'; cat "$SOAP_PASSWORD_FILE"; printf '"}'; } |
    "$ssovault" creds set "$app" --from-file - >"$tmp/step.out" 2>&1 ||
    { cat "$tmp/step.out" >&2; die "set-up failed: creds set"; }
thumb=$("$ssovault" cert import "$CLIENT_P12" --password-file "$P12_PASSWORD_FILE" --exportable 2>"$tmp/step.out") ||
    { cat "$tmp/step.out" >&2; die "set-up failed: cert import"; }
printf '%s' "$thumb" | grep -q "$CLIENT_THUMBPRINT" ||
    die "cert import printed '$thumb', not the thumbprint $CLIENT_THUMBPRINT"
thumb=$CLIENT_THUMBPRINT
step "$ssovault" cert grant "$thumb" "$me"
# A second certificate for the same key, imported non-exportable: ssovaultd
# signs its handshakes.  With one of each, the two are timed in turn, so a
# machine busy with other work slows both alike.
openssl req -new -key "$CLIENT_KEY" -subj "/O=ssovault tests/CN=ssovault bench client kept" \
    -out "$tmp/kept.csr" >"$tmp/step.out" 2>&1 &&
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n' >"$tmp/kept.ext" &&
    openssl x509 -req -in "$tmp/kept.csr" -CA "$CA" -CAkey "$PKI/ca.key" -CAcreateserial \
    -CAserial "$tmp/kept.srl" -days 2 -extfile "$tmp/kept.ext" -out "$tmp/kept.pem" >>"$tmp/step.out" 2>&1 ||
    { cat "$tmp/step.out" >&2; die "set-up failed: the second certificate"; }
kept=$("$ssovault" cert import "$tmp/kept.pem" --key "$CLIENT_KEY" --user "$me" 2>"$tmp/step.out") ||
    { cat "$tmp/step.out" >&2; die "set-up failed: cert import of the kept key"; }
"$ssovault" cert show "$kept" | grep -q 'non-exportable' || die "the second certificate's key is exportable"

# --- N messages of about 1 KiB, each with its own id
mkdir "$tmp/msg"
pad=$(printf '%0800d' 0 | tr 0 x)
for i in $(seq -w "$n"); do
	printf '<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><b:Ping xmlns:b="urn:ssovault:bench"><b:id>%s</b:id><b:pad>%s</b:pad></b:Ping></soap:Body></soap:Envelope>\n' \
	    "$i" "$pad" >"$tmp/msg/m$i.xml"
done
files=("$tmp/msg"/m*.xml)

# curl's options in a config file (0600): the password stays off every
# command line.
umask 077
{
	printf 'silent\nshow-error\nfail\noutput = "/dev/null"\n'
	printf 'cacert = "%s"\ncert = "%s"\nkey = "%s"\n' "$CA" "$CLIENT_CERT" "$CLIENT_KEY"
	printf 'user = "%s:' "$SOAP_USER"
	cat "$SOAP_PASSWORD_FILE"
	printf '"\nheader = "Content-Type: text/xml; charset=utf-8"\n'
	printf 'header = "SOAPAction: \\"urn:ssovault:bench:Ping\\""\n'
} >"$tmp/curl.cfg"
# One process for all messages: one block per message, joined by "next".
sep=""
for f in "${files[@]}"; do
	printf '%s' "$sep"
	cat "$tmp/curl.cfg"
	printf 'url = "%s"\ndata-binary = "@%s"\n' "$url" "$f"
	sep="next
"
done >"$tmp/curl-all.cfg"

now() { date +%s%N; }
rows=()
failed=0

# run NAME CMD...: time CMD $repeat times, check each time that N messages
# reached the server; the row shows the median time.  Connections and
# handshakes are those of the last repetition.
run() {
	local name=$1 t0 t1 rc got conns hs secs rate k times=()
	shift
	for k in $(seq "$repeat"); do
		: >"$ACCESS_LOG"
		t0=$(now)
		"$@" >"$tmp/run.out" 2>"$tmp/run.err"
		rc=$?
		t1=$(now)
		got=$(count requests "$ACCESS_LOG" ' 200 "[^"]*" "POST /basic HTTP/1.1" "alice"')
		conns=$(count connections "$ACCESS_LOG")
		hs=$(count handshakes "$ACCESS_LOG")
		if [ "$rc" -ne 0 ] || [ "$got" -ne "$n" ]; then
			echo "send-bench: $name: exit $rc, $got of $n messages delivered" >&2
			head -5 "$tmp/run.err" >&2
			failed=1
			rows+=("$name|-|FAILED|$conns|$hs")
			return
		fi
		times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')")
	done
	secs=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	rate=$(awk -v s="$secs" -v n="$n" 'BEGIN { printf "%.1f", n / s }')
	rows+=("$name|$secs|$rate|$conns|$hs")
}

loop_curl() {
	local f
	for f in "${files[@]}"; do
		curl -K "$tmp/curl.cfg" --data-binary "@$f" "$url" || return 1
	done
}

opts=(--url "$url" --auth basic --sso-app "$app" --cacert "$CA" --action urn:ssovault:bench:Ping)
send=("$ssovault" send "${opts[@]}" --cert "$thumb")
send_kept=("$ssovault" send "${opts[@]}" --cert "$kept")

# Warm-up, not timed: one message by each method.
"${send[@]}" "${files[0]}" >/dev/null 2>&1 || die "warm-up: ssovault send failed"
"${send_kept[@]}" "${files[0]}" >/dev/null 2>&1 || die "warm-up: ssovault send (key kept) failed"
curl -K "$tmp/curl.cfg" --data-binary "@${files[0]}" "$url" || die "warm-up: curl failed"

echo "Sending $n messages of $(wc -c <"${files[0]}") bytes to $url"
echo "(TLS with a client certificate, HTTP Basic auth, Apache httpd $(/usr/sbin/apache2 -v | sed -n 's/.*Apache\/\([^ ]*\).*/\1/p') on loopback)"
echo "(median of $repeat runs of each method; a machine busy with other work slows them all)"
echo
run "ssovault send (one call, sequential)" "${send[@]}" "${files[@]}"
seq_rate=$(echo "${rows[-1]}" | cut -d'|' -f3)
run "ssovault send --parallel $parallel" "${send[@]}" --parallel "$parallel" "${files[@]}"
par_rate=$(echo "${rows[-1]}" | cut -d'|' -f3)
# lap FILE CMD...: run CMD once through the daemon, add its time in µs to FILE
handshakes=${HANDSHAKES:-30}
lap() {
	local f=$1 t0 t1
	shift
	t0=$(now)
	SSOVAULT_SOCKET="$tmp/sock" "$@" >/dev/null 2>&1 || { echo "send-bench: $* failed" >&2; failed=1; }
	t1=$(now)
	echo "$(( (t1 - t0) / 1000 ))" >>"$f"
}
# median_ms FILE: the median of FILE's times, in ms
median_ms() { sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] / 1000 }'; }
digest=$(printf 'bench' | openssl dgst -sha256 -binary | od -An -v -tx1 | tr -d ' \n')
# The same sends through ssovaultd, unlocked once, as a service would run:
# each call pays no unlock, and each certificate and credential fetch is a
# request on the socket.
ssovaultd=${SSOVAULTD:-$(dirname "$(dirname "$ssovault")")/sso/ssovaultd}
if [ -x "$ssovaultd" ]; then
	"$ssovaultd" --vault "$SSOVAULT_DIR" --socket "$tmp/sock" \
	    --passphrase-file "$SSOVAULT_PASSPHRASE_FILE" >"$tmp/daemon.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 100); do [ -S "$tmp/sock" ] && break; sleep 0.05; done
	[ -S "$tmp/sock" ] || die "ssovaultd did not start: $(cat "$tmp/daemon.log")"
	run "ssovault send through ssovaultd" env SSOVAULT_SOCKET="$tmp/sock" "${send[@]}" "${files[@]}"
	daemon_rate=$(echo "${rows[-1]}" | cut -d'|' -f3)
	run "ssovault send --parallel $parallel, ssovaultd" env SSOVAULT_SOCKET="$tmp/sock" \
	    "${send[@]}" --parallel "$parallel" "${files[@]}"
	# the same key kept in the daemon: it signs each full TLS handshake
	run "ssovault send through ssovaultd, key kept" env SSOVAULT_SOCKET="$tmp/sock" \
	    "${send_kept[@]}" "${files[@]}"
	run "... --parallel $parallel, key kept" env SSOVAULT_SOCKET="$tmp/sock" \
	    "${send_kept[@]}" --parallel "$parallel" "${files[@]}"
	# one message a call, so one full handshake a call, the kinds in turn; and
	# the request a handshake adds, beside another audited read
	for _ in $(seq "$handshakes"); do
		lap "$tmp/t.exportable" "${send[@]}" "${files[0]}"
		lap "$tmp/t.kept" "${send_kept[@]}" "${files[0]}"
		lap "$tmp/t.sign" "$ssovault" cert sign "$kept" --alg rsa-pss-sha256 --digest "$digest"
		lap "$tmp/t.get" "$ssovault" creds get "$app" --field password
	done
	# many signatures in one process, through the PKCS#11 module: the daemon's
	# share of a handshake without a process start in each measurement
	p11drive=$(dirname "$ssovaultd")/../tests/pkcs11/p11drive
	p11mod=$(dirname "$ssovaultd")/pkcs11/libssovault-pkcs11.so
	if [ -x "$p11drive" ] && [ -f "$p11mod" ]; then
		kept_id=$(printf '%s' "$kept" | tr 'A-F' 'a-f')
		signs=()
		for _ in $(seq 200); do signs+=(sign pss 32); done
		got=$(SSOVAULT_SOCKET="$tmp/sock" "$p11drive" "$p11mod" open find "$kept_id" "${signs[@]}" close |
		    grep -c '^sign rv=CKR_OK')
		[ "$got" -eq 200 ] || { echo "send-bench: p11drive made $got of 200 signatures" >&2; failed=1; }
		for _ in $(seq 5); do
			lap "$tmp/t.p11none" "$p11drive" "$p11mod" open find "$kept_id" close
			lap "$tmp/t.p11sign" "$p11drive" "$p11mod" open find "$kept_id" "${signs[@]}" close
		done
		p11_ms=$(awk -v a="$(median_ms "$tmp/t.p11none")" -v b="$(median_ms "$tmp/t.p11sign")" \
		    'BEGIN { printf "%.3f", (b - a) / 200 }')
	fi
	hs_exportable=$(median_ms "$tmp/t.exportable")
	hs_kept=$(median_ms "$tmp/t.kept")
	sign_ms=$(median_ms "$tmp/t.sign")
	show_ms=$(median_ms "$tmp/t.get")
	kill -TERM "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
	run "ssovault send, key kept, signed in-process" "${send_kept[@]}" "${files[@]}"
fi
run "curl, one process per message" loop_curl
loop_rate=$(echo "${rows[-1]}" | cut -d'|' -f3)
run "curl, one process, --next (reuse)" curl -K "$tmp/curl-all.cfg"

printf '%-40s %9s %10s %12s %11s\n' "method" "seconds" "msg/s" "connections" "handshakes"
printf '%-40s %9s %10s %12s %11s\n' "------" "-------" "-----" "-----------" "----------"
for r in "${rows[@]}"; do
	IFS='|' read -r name secs rate conns hs <<EOF
$r
EOF
	printf '%-40s %9s %10s %12s %11s\n' "$name" "$secs" "$rate" "$conns" "$hs"
done
# What any one ssovault call costs in embedded mode (start, Argon2id unlock,
# one lookup): included once in each ssovault row above.
t0=$(now)
"$ssovault" app show "$app" >/dev/null 2>&1
t1=$(now)
awk -v a="$t0" -v b="$t1" 'BEGIN {
	printf "\nOne ssovault call alone (start, unlock, one lookup) takes %.3f s, included above.\n", (b - a) / 1e9
}'
echo
if [ "$failed" -eq 0 ]; then
	awk -v s="$seq_rate" -v p="$par_rate" -v l="$loop_rate" 'BEGIN {
		printf "ssovault send vs the curl loop: %.1fx sequential, %.1fx with --parallel %d (target: 10x)\n",
		    s / l, p / l, '"$parallel"'
	}'
	[ -n "${daemon_rate:-}" ] && awk -v d="$daemon_rate" -v l="$loop_rate" 'BEGIN {
		printf "through ssovaultd (no unlock per call): %.1fx sequential\n", d / l
	}'
fi
# what a full handshake costs when ssovaultd signs it, beside OpenSSL's own signature
if [ -n "${hs_kept:-}" ]; then
	rsa_ms=$(openssl speed -seconds 1 rsa2048 2>/dev/null | awk '$1 == "rsa" && $2 == "2048" { print $4 * 1000 }')
	echo
	awk -v e="$hs_exportable" -v k="$hs_kept" -v r="${rsa_ms:-?}" -v n="$handshakes" \
	    -v sg="$sign_ms" -v sh="$show_ms" -v p="${p11_ms:-}" 'BEGIN {
		printf "One call, one message, one full TLS handshake through ssovaultd (median of %d, in turn):\n", n
		printf "  key exportable (fetched, handed to libcurl): %.2f ms\n", e
		printf "  key kept in ssovaultd (it signs):            %.2f ms (%+.2f ms)\n", k, k - e
		printf "One ssovault process, one request to ssovaultd (median of %d):\n", n
		printf "  cert sign (RSA-PSS, audited):                %.2f ms\n", sg
		printf "  creds get (also audited, no signature):      %.2f ms\n", sh
		if (p != "")
			printf "200 RSA-PSS signatures in one process (PKCS#11 module, median of 5): %.3f ms each\n", p
		printf "An RSA-2048 signature alone (openssl speed, here): %s ms\n", r
	}'
fi
exit $failed
