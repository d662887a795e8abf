#!/usr/bin/env bash
# Client keys that never leave ssovaultd (DESIGN 3, 6; docs/certificates.md):
# a send through the daemon with a non-exportable key, as another uid, while
# the server holds the answer: the sender's memory (/proc/PID/mem) holds none
# of the key's bytes, and the same scan finds them when the same key is
# exportable (the control).  One 'cert sign' per full TLS handshake, with
# keep-alive and TLS session reuse (--parallel); RSA-PSS (TLS 1.3), RSA
# PKCS#1 v1.5 (a TLS 1.2 server that asks for it) and ECDSA; embedded mode
# signing in-process.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

send_servers
send_vault
cd "$T_TMP" || exit 1
msg11 m11.xml
mkdir msgs
for i in $(seq 1 40); do msg11 "msgs/m$i.xml" "order $i"; done
chmod -R a+rX "$T_TMP/msgs" m11.xml
U1=1001
TLS=(--cacert "$CA" --cert "$CLIENT_THUMBPRINT")
SCAN=$SOURCE_ROOT/tests/send/memscan.py
# sign_count [UID [OP]]: the 'cert sign' (or OP) records that succeeded (as root, a vault admin)
sign_count() {
	"$V" --json audit list | python3 -c 'import json,sys; a=sys.argv; print(sum(1 for r in json.load(sys.stdin) if r["op"] == (a[2] if len(a) > 2 else "cert sign") and r["outcome"] == "ok" and (len(a) < 2 or r["uid"] == int(a[1]))))' "$@"
}

run "$V" cert show "$CLIENT_THUMBPRINT"
like "$OUT" "non-exportable" "set-up: the certificate was imported without --exportable"

# --- embedded mode: the same key object, signed in-process ---------------------------------------
: > "$ACCESS_LOG"
S0=$(sign_count)
expect 0 "embedded: a send with the non-exportable key" "$V" send --url "$SOAP_HTTPS/anon" "${TLS[@]}" m11.xml
like "$OUT" 'clientCert="O=ssovault tests,CN=ssovault test client RSA"' "... the server saw the certificate"
is "$(( $(sign_count) - S0 ))" "1" "... one signature, made in-process and audited"

"$V" cert grant "$CLIENT_THUMBPRINT" uid:$U1 >/dev/null
ok $? "set-up: uid $U1 may use the certificate"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
daemon_start --passphrase-file "$T_TMP/pass"
ok $? "ssovaultd started, unlocked"
as1() { as_user $U1 $U1 "$@"; }

# --- the sender never holds the key -----------------------------------------------------------------
# scan_send LABEL OP: send m11.xml to /slow/4 as uid U1 in the background;
# once the daemon has done OP for it ('cert sign' for the handshake, or
# 'cert fetch' of an exportable key) and a moment more for the handshake,
# the server holds the answer: scan the sender's memory for the key; sets FOUND
scan_send() {
	local s0 pid i
	s0=$(sign_count $U1 "$2")
	# not through as1: a function in the background is a subshell, and $! would be its pid
	setpriv --reuid=$U1 --regid=$U1 --groups=$U1 -- "$V" send --url "$SOAP_HTTPS/anon/slow/4" \
	    "${TLS[@]}" m11.xml >"$T_TMP/scan.out" 2>&1 &
	pid=$!
	for i in $(seq 1 100); do
		[ "$(sign_count $U1 "$2")" -gt "$s0" ] && break
		sleep 0.05
	done
	sleep 0.5
	kill -0 "$pid" 2>/dev/null
	ok $? "$1: the sender is still waiting for its answer when scanned"
	is "$(readlink "/proc/$pid/exe")" "$(readlink -f "$V")" "$1: the process scanned is the sender"
	FOUND=$(python3 "$SCAN" "$CLIENT_KEY" "$pid")
	wait "$pid"
	is "$?" "0" "$1: the message was delivered"
}
FOUND=$(python3 "$SCAN" "$CLIENT_KEY" "$CLIENT_KEY")
like "$FOUND" "^found [1-9]" "the scan finds the key's bytes in the key file (control: $FOUND)"
scan_send "non-exportable" "cert sign"
is "$FOUND" "found 0 of 12" "non-exportable: none of the key's bytes is in the sender's memory"
expect 0 "the same key imported again, exportable" sh -c "'$V' cert delete '$CLIENT_THUMBPRINT' >/dev/null &&
    '$V' cert import '$CLIENT_P12' --password-file '$P12_PASSWORD_FILE' --exportable --user uid:$U1"
scan_send "exportable (control)" "cert fetch"
like "$FOUND" "^found [1-9]" "exportable: the same scan finds the key in the sender's memory ($FOUND)"
run "$V" status
like "$OUT" "keys: +1 certificate\(s\), 1 with an EXPORTABLE private key .*cert update THUMBPRINT --non-exportable" \
    "status (through the daemon): counts the exportable key and says how to keep it in the vault"
expect 0 "back to non-exportable" "$V" cert update "$CLIENT_THUMBPRINT" --non-exportable
run "$V" --json status
like "$OUT" "\"certificates\": ?\{\"count\": ?1, ?\"exportable_keys\": ?0\}" "status --json: no exportable key left"

# --- one signature per full handshake ---------------------------------------------------------------
: > "$ACCESS_LOG"
S0=$(sign_count $U1)
expect 0 "40 messages, one connection" as1 "$V" send --url "$SOAP_HTTPS/anon" "${TLS[@]}" msgs/*.xml
is "$(count handshakes)" "1" "... one TLS handshake"
is "$(( $(sign_count $U1) - S0 ))" "1" "... one signature for 40 messages"
: > "$ACCESS_LOG"
S0=$(sign_count $U1)
expect 0 "40 messages, --parallel 4" as1 "$V" send --url "$SOAP_HTTPS/anon" "${TLS[@]}" --parallel 4 msgs/*.xml
H=$(count handshakes)
R=$(count resumed)
is "$(( $(sign_count $U1) - S0 ))" "$H" "... one signature per full handshake ($H full, $R resumed, $(count connections) connections)"
ok $([ "$H" -ge 1 ] && [ "$H" -le 4 ]; echo $?) "... at most one full handshake per connection"

# --- the schemes a TLS handshake asks for -------------------------------------------------------------
run "$V" --json audit list
like "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print([r["user"] for r in json.load(sys.stdin) if r["op"] == "cert sign"][-1])')" \
    "^rsa-pss-sha256$" "TLS 1.3 asked for RSA-PSS with SHA-256"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$PORT" -cert "$PKI/server.pem" -key "$PKI/server.key" -CAfile "$CA" \
    -Verify 2 -verify_return_error -tls1_2 -sigalgs RSA+SHA384:ECDSA+SHA256 -client_sigalgs RSA+SHA384 \
    -www </dev/null >"$T_TMP/s_server.log" 2>&1 &
SPID=$!
SEND_PIDS="$SEND_PIDS $SPID"
for i in $(seq 1 50); do grep -q ACCEPT "$T_TMP/s_server.log" && break; sleep 0.1; done
S0=$(sign_count $U1)
run as1 "$V" send --url "https://127.0.0.1:$PORT/" "${TLS[@]}" --retry-count 0 --timeout 2s m11.xml
is "$(( $(sign_count $U1) - S0 ))" "1" "a TLS 1.2 server that asks for RSA PKCS#1 v1.5 with SHA-384: one signature"
run "$V" --json audit list
like "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print([r["user"] for r in json.load(sys.stdin) if r["op"] == "cert sign"][-1])')" \
    "^rsa-pkcs1-sha384$" "... rsa-pkcs1-sha384, as it asked"
grep -q "verify return:1" "$T_TMP/s_server.log"
ok $? "... and the server verified the client certificate"

EC=$("$V" cert import "$PKI/client-ec.p12" --password-file "$P12_PASSWORD_FILE" --user uid:$U1)
ok $? "the EC certificate, non-exportable"
: > "$ACCESS_LOG"
expect 0 "a send with the EC key" as1 "$V" send --url "$SOAP_HTTPS/anon" --cacert "$CA" --cert "$EC" m11.xml
like "$OUT" 'clientCert="O=ssovault tests,CN=ssovault test client EC"' "... the server saw the EC certificate"
run "$V" --json audit list
like "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print([r["user"] for r in json.load(sys.stdin) if r["op"] == "cert sign"][-1])')" \
    "^ecdsa-sha256$" "... signed with ECDSA over SHA-256"

done_testing
