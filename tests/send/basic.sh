#!/usr/bin/env bash
# ssovault send, the message side: usage errors, SOAP 1.1 and 1.2 as the
# server receives them (Content-Type, SOAPAction, action=), envelopes sent as
# they are and fragments wrapped, messages refused before they are taken,
# faults (exit 3, not retried), responses to stdout, --out FILE and --out DIR,
# standard input, the response size cap, redirects, timeouts, server
# verification, the proxy, --json, and the exit code of the worst outcome.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

send_servers
send_vault
cd "$T_TMP" || exit 1
msg11 m11.xml
msg12 m12.xml
printf '<m:Order xmlns:m="urn:test">fragment</m:Order>\n' > frag.xml
printf '<?xml version="1.0"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>\n<a><b></a>\n</soap:Body></soap:Envelope>\n' > bad.xml
H=$SOAP_HTTP

# --- usage ---------------------------------------------------------------------
expect 0 "send --help" "$V" send --help
like "$OUT" "--retry-interval DURATION" "--help lists --retry-interval"
like "$OUT" "--sso-app APP" "--help lists --sso-app"
expect 2 "no file" "$V" send --url "$H/anon"
expect 2 "no URL" "$V" send m11.xml
like "$ERR" "give --url URL or --port NAME" "... says what is missing"
expect 2 "--soap 2.0" "$V" send --url "$H/anon" --soap 2.0 m11.xml
expect 2 "--user without --password-file" "$V" send --url "$H/anon" --user bob m11.xml
expect 2 "--password-file that is '-'" "$V" send --url "$H/anon" --user bob --password-file - m11.xml
expect 2 "an unknown option" "$V" send --url "$H/anon" --bogus m11.xml
expect 2 "an Authorization header" "$V" send --url "$H/anon" --header 'Authorization: Basic YWxpY2U6eA==' m11.xml
like "$ERR" "secret" "... says it would be a secret on the command line"
expect 2 "credentials in the URL" "$V" send --url "http://alice:pw@127.0.0.1:1/anon" m11.xml
unlike "$ERR" "pw@" "... and does not repeat them"
expect 2 "--cert with an http:// URL" "$V" send --url "$H/anon" --cert "$CLIENT_THUMBPRINT" m11.xml
expect 2 "--retry-count 1001" "$V" send --url "$H/anon" --retry-count 1001 m11.xml
expect 2 "--retry-interval 5x" "$V" send --url "$H/anon" --retry-interval 5x m11.xml
expect 2 "--out FILE with two messages" "$V" send --url "$H/anon" --out one.resp m11.xml m12.xml
expect 2 "'-' twice" "$V" send --url "$H/anon" - - < m11.xml
expect 1 "a --password-file that is not there" "$V" send --url "$H/basic" --allow-http-auth --user alice \
    --password-file "$T_TMP/none" m11.xml
like "$ERR" "--password-file $T_TMP/none" "... names the file"
is "$(count requests)" "0" "no usage error reached the server"

# --- SOAP 1.1 and 1.2 ------------------------------------------------------------
: > "$ACCESS_LOG"
expect 0 "SOAP 1.1 envelope" "$V" send --url "$H/anon" --action urn:test#Submit m11.xml
like "$OUT" 'received version="1.1" action="urn:test#Submit" soapAction="&quot;urn:test#Submit&quot;" contentType="text/xml; charset=utf-8" method="POST" path="/anon"' \
    "1.1: text/xml; charset=utf-8 and SOAPAction: \"urn:test#Submit\""
like "$OUT" "order 1" "1.1: the server got the body"
like "$ERR" '^m11.xml: delivered \(HTTP 200, [0-9]+ ms\)$' "1.1: one result line"
like "$(cat "$ACCESS_LOG")" '"text/xml; charset=utf-8" "\\"urn:test#Submit\\""' "1.1: headers in the access log"
expect 0 "SOAP 1.2 envelope (version from the file)" "$V" send --url "$H/anon" --action urn:test#Submit m12.xml
like "$OUT" 'received version="1.2" action="urn:test#Submit" soapAction="" contentType="application/soap\+xml; charset=utf-8; action=&quot;urn:test#Submit&quot;"' \
    "1.2: application/soap+xml; charset=utf-8; action=\"urn:test#Submit\", no SOAPAction"
expect 0 "SOAP 1.1 without an action" "$V" send --url "$H/anon" m11.xml
like "$OUT" 'soapAction="&quot;&quot;"' "1.1 without --action: SOAPAction: \"\""
expect 0 "SOAP 1.2 without an action" "$V" send --url "$H/anon" m12.xml
like "$OUT" 'contentType="application/soap\+xml; charset=utf-8"' "1.2 without --action: no action parameter"
expect 0 "the envelope is sent byte for byte" "$V" send --url "$H/anon" m11.xml
like "$OUT" "bytes=\"$(wc -c < m11.xml)\"" "... the server got $(wc -c < m11.xml) bytes"

: > "$ACCESS_LOG"
expect 1 "a 1.2 envelope with --soap 1.1" "$V" send --url "$H/anon" --soap 1.1 m12.xml
like "$ERR" "m12.xml: not sent: a SOAP 1.2 envelope, but --soap 1.1 was asked" "... says the versions differ"
expect 0 "--body wraps a fragment (1.1 by default)" "$V" send --url "$H/anon" --body frag.xml
like "$OUT" 'received version="1.1"' "--body: a 1.1 envelope"
like "$OUT" "&lt;m:Order xmlns:m=&quot;urn:test&quot;&gt;fragment&lt;/m:Order&gt;" "--body: the fragment is the Body's content"
expect 0 "--body --soap 1.2" "$V" send --url "$H/anon" --body --soap 1.2 frag.xml
like "$OUT" 'received version="1.2"' "--body --soap 1.2: a 1.2 envelope"
expect 1 "--body with a whole envelope" "$V" send --url "$H/anon" --body m11.xml
like "$ERR" "without --body" "... says to drop --body"
expect 1 "a fragment without --body" "$V" send --url "$H/anon" frag.xml
like "$ERR" "frag.xml: not sent: not a SOAP envelope .*add --body" "... says to add --body"
expect 1 "malformed XML" "$V" send --url "$H/anon" bad.xml
like "$ERR" "bad.xml: not sent: not well-formed XML: line 3: " "... with the line of the error"
expect 1 "a file that is not there" "$V" send --url "$H/anon" nothere.xml
like "$ERR" "nothere.xml: not sent: cannot read" "... says it cannot be read"
is "$(count requests 'POST /anon HTTP')" "2" "only the two good messages reached the server"
is "$(susp_ids | wc -l)" "0" "refused messages are not suspended (they were never taken)"

# --- faults ------------------------------------------------------------------------
: > "$ACCESS_LOG"
expect 3 "a SOAP 1.1 fault" "$V" send --url "$H/anon/fault11" --retry-count 3 --retry-interval 1s m11.xml
like "$ERR" '^m11.xml: fault: soap:Server: Test fault from /fault11 \(HTTP 500\)$' "1.1 fault: code and reason printed"
like "$OUT" "<soap:Fault>" "1.1 fault: the fault envelope on stdout"
is "$(count requests 'fault11')" "1" "1.1 fault: not retried"
expect 3 "a SOAP 1.2 fault" "$V" send --url "$H/anon/fault12" m12.xml
like "$ERR" "fault: env:Receiver/t:TestFault: Test fault from /fault12" "1.2 fault: Code/Value, Subcode and Reason/Text"
is "$(susp_ids | wc -l)" "0" "faults are not kept"
expect 4 "a fault with --suspend-on-fault" "$V" send --url "$H/anon/fault" --suspend-on-fault m11.xml
like "$ERR" "m11.xml: suspended [0-9a-f]{32}: fault: soap:Server: Test fault" "... kept, with the fault as the reason"
is "$(susp_ids | wc -l)" "1" "... it is in the suspended queue"

# --- what the server answers ------------------------------------------------------
expect 0 "200 text/plain garbage is delivered" "$V" send --url "$H/anon/notxml" m11.xml
: > "$ACCESS_LOG"
expect 4 "a redirect is not followed: kept at once" "$V" send --url "$H/anon/redirect" --retry-interval 1s m11.xml
like "$ERR" "suspended [0-9a-f]{32}: not retried: HTTP 302" "... the reason says HTTP 302"
is "$(count requests)" "1" "... and it was not retried"
expect 4 "404 is kept at once" "$V" send --url "$H/anon/status/404" --retry-interval 1s m11.xml
expect 1 "a 20 MiB answer over --max-response-size 1M" "$V" send --url "$H/anon/big" --max-response-size 1M m11.xml
like "$ERR" "delivered \(HTTP 200, .*but the response was larger than --max-response-size" "... delivered, but the response dropped"
is "$OUT" "" "... nothing on stdout"
expect 1 "a 20 MiB chunked answer over the default 16M" "$V" send --url "$H/anon/bigchunked" m11.xml
expect 0 "a 20 MiB answer under --max-response-size 32M" "$V" send --url "$H/anon/big" --max-response-size 32M --out big.resp m11.xml
ok $([ "$(stat -c %s big.resp)" -gt 20000000 ]; echo $?) "... all of it in --out"
# kept, not delivered: the 5 s answer was not waited for
expect 4 "--timeout 1s against a 5 s answer" "$V" send --url "$H/anon/slow/5" --timeout 1s --retry-count 0 m11.xml
like "$ERR" "gave up after 1 attempt: .*[Tt]imeout|timed out" "... the reason says it timed out"

# --- responses ---------------------------------------------------------------------
expect 0 "a message from standard input" "$V" send --url "$H/anon" - < m11.xml
like "$ERR" "^-: delivered" "stdin: the result names '-'"
like "$OUT" "order 1" "stdin: the server got it"
expect 0 "--out FILE" "$V" send --url "$H/anon" --out resp.xml m11.xml
is "$OUT" "" "--out FILE: nothing on stdout"
like "$(cat resp.xml)" "EchoResponse" "--out FILE: the response is in the file"
is "$(stat -c %a resp.xml)" "600" "--out FILE: mode 0600"
mkdir out
msg11 a.xml "first"
msg12 b.xml "second"
expect 0 "--out DIR with two messages" "$V" send --url "$H/anon" --out out a.xml b.xml
like "$(cat out/a.xml.response)" "first" "--out DIR: a.xml.response holds a's answer"
like "$(cat out/b.xml.response)" "second" "--out DIR: b.xml.response holds b's answer"
expect 0 "--out responses/ (not there yet) with two messages" "$V" send --url "$H/anon" --out responses/ a.xml b.xml
like "$(cat responses/a.xml.response 2>&1)" "first" "--out DIR/: the directory is made, the responses are in it"
is "$(stat -c %a responses)" "700" "... mode 0700"
"$V" send --url "$H/anon" m11.xml > one.out 2>/dev/null
is "$(tail -c 1 one.out | od -An -c | tr -d ' ')" '\n' "a response on stdout ends with a newline"
like "$ERR" "2 messages: 2 delivered, 0 faults, 0 suspended, 0 not sent, 0 failed" "several messages: a summary"
mkdir sub
cp a.xml sub/a.xml
expect 2 "--out DIR with two files of the same name" "$V" send --url "$H/anon" --out out a.xml sub/a.xml
expect 0 "two messages to stdout" "$V" send --url "$H/anon" a.xml b.xml
is "$(printf '%s\n' "$OUT" | grep -c EchoResponse)" "2" "stdout: both responses, one after the other"
expect 0 "--quiet" "$V" --quiet send --url "$H/anon" a.xml b.xml
is "$ERR" "" "--quiet: no result lines for delivered messages"

run "$V" --json send --url "$H/anon" a.xml bad.xml
is "$RC" "1" "--json: exit of the worst outcome"
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["results"][0]["outcome"], d["results"][0]["http_status"], d["results"][1]["outcome"], d["summary"]["delivered"], d["summary"]["not_sent"])')" \
    "delivered 200 not-sent 1 1" "--json: results and summary"
like "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["response"])')" "EchoResponse" \
    "--json: the response inside"

# --- the worst outcome decides the exit code ----------------------------------------
expect 1 "delivered + not sent: 1" "$V" send --url "$H/anon" m11.xml bad.xml
expect 1 "suspended + not sent: 1" "$V" send --url "$H/anon/status/404" m11.xml bad.xml
like "$ERR" "1 suspended, 1 not sent" "... the summary counts both"
expect 4 "suspended twice: 4" "$V" send --url "$H/anon/status/404" a.xml b.xml

# --- server verification and the proxy ----------------------------------------------
expect 4 "an HTTPS server not trusted (no --cacert): retried, then kept" \
    "$V" send --url "$SOAP_HTTPS_NOCERT/anon" --retry-count 1 --retry-interval 1s m11.xml
like "$ERR" "gave up after 2 attempts: .*(certificate|SSL)" "... the reason says the certificate was not verified"
expect 0 "the same with --cacert" "$V" send --url "$SOAP_HTTPS_NOCERT/anon" --cacert "$CA" m11.xml
mkdir capath && cp "$CA" capath/ && openssl rehash capath >/dev/null 2>&1
expect 0 "--capath" "$V" send --url "$SOAP_HTTPS_NOCERT/anon" --capath "$T_TMP/capath" m11.xml
expect 0 "through the proxy, with its password file" "$V" send --url "$H/basic" --user "$SOAP_USER" \
    --password-file "$SOAP_PASSWORD_FILE" --proxy "$PROXY_URL" --proxy-user "$PROXY_USER" \
    --proxy-password-file "$PROXY_PASSWORD_FILE" --allow-http-auth m11.xml
like "$OUT" 'user="alice"' "... the server saw alice"
: > "$ACCESS_LOG"
expect 4 "through the proxy without proxy credentials: 407 retried, then kept" "$V" send --url "$H/anon" \
    --proxy "$PROXY_URL" --retry-count 1 --retry-interval 1s m11.xml
like "$ERR" "gave up after 2 attempts: HTTP 407" "... the reason says 407"
is "$(count requests ' 407 ')" "2" "... the proxy saw two attempts"
expect 0 "through the proxy with HTTPS and a client certificate" "$V" send --url "$SOAP_HTTPS/anon" \
    --cacert "$CA" --cert "$CLIENT_THUMBPRINT" --proxy "$PROXY_URL" --proxy-user "$PROXY_USER" \
    --proxy-password-file "$PROXY_PASSWORD_FILE" --allow-http-auth m11.xml
like "$OUT" 'clientCert="O=ssovault tests,CN=ssovault test client RSA"' "... the server got the certificate through the tunnel"

done_testing
