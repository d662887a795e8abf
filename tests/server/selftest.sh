#!/usr/bin/env bash
# Self-test of the test servers (tests/server), with the curl command line
# only: what the sender's tests rely on must hold before they can mean
# anything.  Client certificates demanded and checked, Basic, Digest and NTLM
# verified (wrong passwords refused), the SOAP answers by version and path,
# keep-alive counted from the logs, the proxy, two instances side by side, and
# stop.sh leaving nothing behind.  TAP output.
. "$SOURCE_ROOT/tests/lib.sh"

server=$SOURCE_ROOT/tests/server
count() { sh "$server/count.sh" "$@"; }

# Two instances started at once, in different directories.
bash "$server/start.sh" "$T_TMP/srv" >"$T_TMP/start1.out" 2>&1 &
p1=$!
bash "$server/start.sh" "$T_TMP/srv2" >"$T_TMP/start2.out" 2>&1 &
p2=$!
wait $p1
ok $? "start.sh starts the servers"
wait $p2
ok $? "a second start.sh in another directory at the same time starts too"
at_exit "sh $server/stop.sh $T_TMP/srv"
at_exit "sh $server/stop.sh $T_TMP/srv2"
if [ ! -f "$T_TMP/srv/env" ]; then
	cat "$T_TMP/start1.out"
	echo "Bail out! the servers did not start"
	exit 1
fi

. "$T_TMP/srv/env"
for v in SOAP_HTTPS SOAP_HTTPS_NOCERT SOAP_HTTP PROXY_URL NTLM_URL SOAP_USER SOAP_PASSWORD_FILE \
    NTLM_USER NTLM_DOMAIN NTLM_PASSWORD_FILE PKI CA ACCESS_LOG NTLM_LOG HTTPD_PID NTLM_PID; do
	eval "val=\${$v:-}"
	[ -n "$val" ]
	ok $? "env names $v"
done
is "$(stat -c %a "$SOAP_PASSWORD_FILE")" 600 "alice's password file is 0600"
ports=$(printf '%s\n' "$SOAP_HTTPS" "$SOAP_HTTPS_NOCERT" "$SOAP_HTTP" "$PROXY_URL" "$NTLM_URL" |
    sed 's#.*:\([0-9]*\).*#\1#' | sort -u | wc -l)
is "$ports" 5 "five distinct ports"
other=$(sed -n "s/^SOAP_HTTPS='\(.*\)'/\1/p" "$T_TMP/srv2/env")
[ -n "$other" ] && [ "$other" != "$SOAP_HTTPS" ]
ok $? "the second instance listens elsewhere ($other)"

pw=$(cat "$SOAP_PASSWORD_FILE")
npw=$(cat "$NTLM_PASSWORD_FILE")
cert=(--cacert "$CA" --cert "$PKI/client-rsa.pem" --key "$PKI/client-rsa.key")
env11=(-H 'Content-Type: text/xml; charset=utf-8' -H 'SOAPAction: "urn:test:ping"')
env12=(-H 'Content-Type: application/soap+xml; charset=utf-8; action="urn:test:ping12"')
msg11='<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:Ping xmlns:m="urn:m">one &amp; two</m:Ping></s:Body></s:Envelope>'
msg12='<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><m:Ping xmlns:m="urn:m">12</m:Ping></s:Body></s:Envelope>'

# post URL CURL-ARGS...: POST msg11; body in $OUT, "status" line last.
post() {
	local url=$1
	shift
	run curl -sS -w '\nstatus=%{http_code}' "$@" -d "$msg11" "$url"
}

# --- vhost A: client certificate required
post "$SOAP_HTTPS/anon" "${cert[@]}" "${env11[@]}"
like "$OUT" 'status=200$' "A /anon with the client certificate: 200"
like "$OUT" 'soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"' "SOAP 1.1 request gets a 1.1 envelope"
like "$OUT" 'action="urn:test:ping"' "the SOAPAction is echoed"
like "$OUT" 'contentType="text/xml; charset=utf-8"' "the Content-Type is echoed"
like "$OUT" 'clientCert="[^"]*CN=ssovault test client RSA' "the client certificate's subject is echoed"
like "$OUT" '<t:echo>&lt;m:Ping xmlns:m=&quot;urn:m&quot;&gt;one &amp;amp; two&lt;/m:Ping&gt;</t:echo>' "the Body content is echoed, escaped"
run curl -sS -w '\nstatus=%{http_code}' "${cert[@]}" "${env12[@]}" -d "$msg12" "$SOAP_HTTPS/anon"
like "$OUT" 'env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"' "SOAP 1.2 request gets a 1.2 envelope"
like "$OUT" 'version="1.2" action="urn:test:ping12"' "the SOAP 1.2 action parameter is echoed"
post "$SOAP_HTTPS/anon" --cacert "$CA" "${env11[@]}"
[ "$RC" -ne 0 ] && printf '%s' "$ERR" | grep -qiE 'certificate required|alert|handshake'
ok $? "A without a client certificate: the TLS handshake fails (curl exit $RC)"
post "$SOAP_HTTPS/anon" --cacert "$CA" --cert "$PKI/rogue-client.pem" --key "$PKI/rogue-client.key" "${env11[@]}"
[ "$RC" -ne 0 ]
ok $? "A with a certificate of another CA: refused (curl exit $RC)"
post "$SOAP_HTTPS/anon" --cacert "$CA" --cert "$PKI/expired.pem" --key "$PKI/expired.key" "${env11[@]}"
[ "$RC" -ne 0 ]
ok $? "A with an expired certificate: refused (curl exit $RC)"
is "$(count requests "$ACCESS_LOG")" 2 "only the two good requests reached the log"

# --- Basic and Digest
post "$SOAP_HTTPS/basic" "${cert[@]}" "${env11[@]}" -u "alice:$pw"
like "$OUT" 'status=200$' "Basic with alice's password: 200"
like "$OUT" 'user="alice"' "the authenticated user is echoed"
post "$SOAP_HTTPS/basic" "${cert[@]}" "${env11[@]}" -u "alice:wrong$pw"
like "$OUT" 'status=401$' "Basic with a wrong password: 401"
post "$SOAP_HTTPS/basic" "${cert[@]}" "${env11[@]}"
like "$OUT" 'status=401$' "Basic without credentials: 401"
post "$SOAP_HTTPS/basic" "${cert[@]}" "${env11[@]}" -u "bob:$(cat "$PROXY_PASSWORD_FILE")"
like "$OUT" 'status=401$' "Basic as bob (a proxy user only): 401"
post "$SOAP_HTTPS/digest" "${cert[@]}" "${env11[@]}" --digest -u "alice:$pw"
like "$OUT" 'status=200$' "Digest with alice's password: 200"
like "$OUT" 'user="alice"' "Digest: the authenticated user is echoed"
post "$SOAP_HTTPS/digest" "${cert[@]}" "${env11[@]}" --digest -u "alice:wrong$pw"
like "$OUT" 'status=401$' "Digest with a wrong password: 401"
post "$SOAP_HTTPS/digest" "${cert[@]}" "${env11[@]}" --basic -u "alice:$pw"
like "$OUT" 'status=401$' "Basic credentials on the Digest location: 401"
is "$(count requests "$ACCESS_LOG" ' 200 "[^"]*" "POST /digest HTTP/1.1" "alice"')" 1 "the log names the Digest user of the one good request"

# --- behaviours by path
post "$SOAP_HTTPS/basic/fault11" "${cert[@]}" "${env12[@]}" -u "alice:$pw"
like "$OUT" 'status=500$' "/fault11: HTTP 500"
like "$OUT" '<faultcode>soap:Server</faultcode><faultstring>Test fault from /fault11</faultstring>' "/fault11: a SOAP 1.1 fault"
run curl -sS -o /dev/null -w '%{content_type}' "${cert[@]}" "${env11[@]}" -d "$msg11" "$SOAP_HTTPS/anon/fault12"
is "$OUT" "application/soap+xml; charset=utf-8" "/fault12: SOAP 1.2 content type"
post "$SOAP_HTTPS/anon/fault12" "${cert[@]}" "${env11[@]}"
like "$OUT" '<env:Value>env:Receiver</env:Value>.*<env:Text xml:lang="en">Test fault from /fault12</env:Text>' "/fault12: a SOAP 1.2 fault"
post "$SOAP_HTTPS/anon/fault" "${cert[@]}" "${env12[@]}"
like "$OUT" 'env:Fault' "/fault: a fault of the request's version (1.2)"
post "$SOAP_HTTPS/anon/status/503" "${cert[@]}" "${env11[@]}"
like "$OUT" 'status=503$' "/status/503: HTTP 503"
unlike "$OUT" 'Fault' "/status/503: no fault"
post "$SOAP_HTTPS/anon/status/429" "${cert[@]}" "${env11[@]}"
like "$OUT" 'status=429$' "/status/429: HTTP 429"
post "$SOAP_HTTPS/anon/notxml" "${cert[@]}" "${env11[@]}"
like "$OUT" 'status=200$' "/notxml: 200"
like "$OUT" '^this is not XML <<<' "/notxml: garbage"
run curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "${cert[@]}" "${env11[@]}" -d "$msg11" "$SOAP_HTTPS/basic/redirect" -u "alice:$pw"
is "$OUT" "302 $SOAP_HTTPS/anon" "/redirect: 302 to /anon"
post "$SOAP_HTTPS/anon" "${cert[@]}" -H 'Content-Type: application/json'
like "$OUT" 'status=415$' "an unknown Content-Type: 415"
start=$(date +%s%N)
post "$SOAP_HTTPS/anon/slow/1" "${cert[@]}" "${env11[@]}"
elapsed=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed" -ge 1000 ] && printf '%s' "$OUT" | grep -q 'status=200$'
ok $? "/slow/1 answers after a second (${elapsed} ms)"
post "$SOAP_HTTPS/anon/slow" "${cert[@]}" "${env11[@]}" --max-time 1
is "$RC" 28 "/slow takes longer than a 1 s timeout (curl exit 28)"
run curl -sS -o /dev/null -D - -w 'size=%{size_download}' "${cert[@]}" "${env11[@]}" -d "$msg11" "$SOAP_HTTPS/anon/big"
size=$(printf '%s' "$OUT" | sed -n 's/.*size=//p')
[ "${size:-0}" -gt $((20 * 1024 * 1024)) ]
ok $? "/big: more than 20 MB ($size bytes)"
like "$OUT" "Content-Length: $size" "/big: announced with a Content-Length"
run curl -sS -o /dev/null -D - -w 'size=%{size_download}' "${cert[@]}" "${env11[@]}" -d "$msg11" "$SOAP_HTTPS/anon/bigchunked"
like "$OUT" 'Transfer-Encoding: chunked' "/bigchunked: chunked, no length"

# --- keep-alive, counted at the server
: >"$ACCESS_LOG"
run curl -sS -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null "${cert[@]}" "${env11[@]}" \
    -d "$msg11" -u "alice:$pw" "$SOAP_HTTPS/basic" "$SOAP_HTTPS/basic" "$SOAP_HTTPS/basic" "$SOAP_HTTPS/basic" "$SOAP_HTTPS/basic"
is "$(count requests "$ACCESS_LOG" ' 200 ')" 5 "one curl, five requests: five logged"
is "$(count connections "$ACCESS_LOG")" 1 "one curl, five requests: one connection"
is "$(count handshakes "$ACCESS_LOG")" 1 "one curl, five requests: one full TLS handshake"
like "$(awk '{ print $2 }' "$ACCESS_LOG" | tr '\n' ' ')" '^0 1 2 3 4 $' "keep-alive counts 0..4 on that connection"
: >"$ACCESS_LOG"
for _ in 1 2 3; do
	curl -sS -o /dev/null "${cert[@]}" "${env11[@]}" -d "$msg11" "$SOAP_HTTPS/anon"
done
is "$(count connections "$ACCESS_LOG")" 3 "three curl processes: three connections"
is "$(count handshakes "$ACCESS_LOG")" 3 "three curl processes: three full handshakes"

# --- vhosts B (no client certificate) and C (plain HTTP)
post "$SOAP_HTTPS_NOCERT/anon" --cacert "$CA" "${env11[@]}"
like "$OUT" 'status=200$' "B without a client certificate: 200"
like "$OUT" 'clientCert=""' "B: no client certificate echoed"
post "$SOAP_HTTP/basic" "${env11[@]}" -u "alice:$pw"
like "$OUT" 'status=200$' "C (plain HTTP) with Basic: 200"
like "$OUT" 'user="alice"' "C: alice authenticated"

# --- forward proxy
ppw=$(cat "$PROXY_PASSWORD_FILE")
: >"$ACCESS_LOG"
post "$SOAP_HTTPS/anon" "${cert[@]}" "${env11[@]}" -x "$PROXY_URL" --proxy-user "bob:$ppw"
like "$OUT" 'status=200$' "HTTPS through the proxy with proxy auth: 200"
pport=${PROXY_URL##*:}
is "$(count requests "$ACCESS_LOG" "^[0-9]+ [0-9]+ [^ ]+ $pport 200 .*\"CONNECT 127.0.0.1:")" 1 "the proxy logged the CONNECT"
post "$SOAP_HTTPS/anon" "${cert[@]}" "${env11[@]}" -x "$PROXY_URL"
like "$ERR" '407' "the proxy without proxy auth: 407"
post "$SOAP_HTTPS/anon" "${cert[@]}" "${env11[@]}" -x "$PROXY_URL" --proxy-user "bob:wrong"
like "$ERR" '407' "the proxy with a wrong proxy password: 407"
run curl -sS -o /dev/null -w '%{http_code}' -x "$PROXY_URL" --proxy-user "bob:$ppw" http://192.0.2.1/
is "$OUT" 403 "the proxy reaches nothing but this server"

# --- NTLM
ntlm=(--ntlm -u "$NTLM_DOMAIN\\$NTLM_USER:$npw")
: >"$NTLM_LOG"
post "$NTLM_URL" "${cert[@]}" "${env11[@]}" "${ntlm[@]}"
like "$OUT" 'status=200$' "NTLM with the right password: 200"
like "$OUT" "user=\"$NTLM_DOMAIN\\\\$NTLM_USER\"" "NTLM: the authenticated user is echoed"
like "$OUT" 'clientCert="[^"]*CN=ssovault test client RSA' "NTLM: the client certificate's subject is echoed"
like "$(cat "$NTLM_LOG")" "^[0-9]+ - challenge \"POST /soap\" 401
[0-9]+ $NTLM_DOMAIN.$NTLM_USER authenticated \"POST /soap\" 200" "NTLM: challenge, then verified"
is "$(count connections "$NTLM_LOG")" 1 "NTLM: the handshake ran on one connection"
: >"$NTLM_LOG"
post "$NTLM_URL" "${cert[@]}" "${env11[@]}" --ntlm -u "$NTLM_DOMAIN\\$NTLM_USER:wrong$npw"
like "$OUT" 'status=401$' "NTLM with a wrong password: 401"
is "$(count requests "$NTLM_LOG" ' rejected-password ')" 1 "NTLM: the wrong password is logged as such"
post "$NTLM_URL" "${cert[@]}" "${env11[@]}" --ntlm -u "OTHERDOM\\$NTLM_USER:$npw"
is "$(count requests "$NTLM_LOG" ' rejected-user ')" 1 "NTLM: another domain is refused"
post "$NTLM_URL" "${cert[@]}" "${env11[@]}"
like "$OUT" 'status=401$' "NTLM endpoint without credentials: 401"
post "$NTLM_URL" --cacert "$CA" "${env11[@]}" "${ntlm[@]}"
[ "$RC" -ne 0 ]
ok $? "NTLM endpoint without a client certificate: TLS fails (curl exit $RC)"
is "$(count requests "$NTLM_LOG" ' tls-failed ')" 1 "NTLM: the failed handshake is logged"
: >"$NTLM_LOG"
run curl -sS -o /dev/null -o /dev/null -o /dev/null -w '%{http_code}\n' "${cert[@]}" "${env12[@]}" \
    "${ntlm[@]}" -d "$msg12" "$NTLM_URL" "$NTLM_URL" "$NTLM_URL/fault12"
is "$(printf '%s' "$OUT" | tr '\n' ' ')" "200 200 500" "NTLM: three requests, one curl: 200 200 500"
is "$(count connections "$NTLM_LOG")" 1 "NTLM: one connection for all three"
is "$(count requests "$NTLM_LOG" ' connection ')" 2 "NTLM: later requests ride the authenticated connection"
run python3 "$server/ntlm_server.py" --selftest
is "$RC" 0 "NTLM verifier known answers (MD4, NTLMv2) and refusals (NTLMv1, tampering)"
[ "$RC" -eq 0 ] || printf '%s\n' "$OUT" | grep -v '^ok' | sed 's/^/#   /'

# --- stop
sh "$server/stop.sh" "$T_TMP/srv"
ok $? "stop.sh succeeds"
sleep 0.2
# alive PID: running and not a zombie waiting to be reaped
alive() { ps -o stat= -p "$1" 2>/dev/null | grep -qv '^Z'; }
! alive "$HTTPD_PID" && ! alive "$NTLM_PID"
ok $? "Apache and the NTLM server are gone"
! grep -qsF -- "$T_TMP/srv/httpd.conf" /proc/[0-9]*/cmdline
ok $? "no Apache child is left"
[ ! -e "$T_TMP/srv/env" ]
ok $? "env is removed"
run curl -sS "${cert[@]}" "$SOAP_HTTPS/anon"
[ "$RC" -ne 0 ]
ok $? "nothing answers on the old port"
sh "$server/stop.sh" "$T_TMP/srv"
ok $? "stop.sh again is harmless"
sh "$server/stop.sh" "$T_TMP/srv2"
ok $? "the second instance stops"

done_testing
