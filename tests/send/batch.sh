#!/usr/bin/env bash
# Many messages in one call: 200 messages over one connection and one TLS
# handshake (counted in the server's log), --parallel 8 over at most eight,
# one result line each and a summary, responses into --out DIR, a message
# waiting for its retry not holding up the others, and a sender killed
# mid-batch (kill -9) leaving every message delivered (found at the server by
# the SHA-1 of its body) or still on disk and not half-queued, so that sending
# again what was not reported delivered gets all of them there.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

send_servers
send_vault
cd "$T_TMP" || exit 1
mkdir msgs
for i in $(seq 1 200); do msg11 "msgs/m$i.xml" "order $i"; done
TLS=(--cacert "$CA" --cert "$CLIENT_THUMBPRINT")

# --- 200 messages, one connection ------------------------------------------------------------
: > "$ACCESS_LOG"
expect 0 "200 messages with SSO credentials and a client certificate" "$V" send \
    --url "$SOAP_HTTPS/basic" "${TLS[@]}" --sso-app erp msgs/*.xml
is "$(printf '%s\n' "$ERR" | grep -c ': delivered (HTTP 200, ')" "200" "one result line per message"
like "$ERR" "200 messages: 200 delivered, 0 faults, 0 suspended, 0 not sent, 0 failed in [0-9.]+ s" "a summary"
is "$(printf '%s\n' "$OUT" | grep -c EchoResponse)" "200" "200 responses on stdout"
is "$(count requests ' 200 "O=ssovault tests,CN=ssovault test client RSA" "POST /basic HTTP/1.1" "alice"')" "200" \
    "the server got 200 requests, each with the certificate and alice"
is "$(count connections)" "1" "... over one connection (keep-alive)"
is "$(count handshakes)" "1" "... with one TLS handshake"
for i in 1 77 200; do
	grep -q "order $i&lt;" <<< "$OUT"
	ok $? "the answer to message $i is there"
done

# --- --parallel 8 -----------------------------------------------------------------------------------
: > "$ACCESS_LOG"
mkdir out
expect 0 "200 messages, --parallel 8, --out DIR" "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" \
    --sso-app erp --parallel 8 --out out msgs/*.xml
is "$(count requests ' 200 ')" "200" "parallel: 200 requests"
C=$(count connections)
ok $([ "$C" -ge 2 ] && [ "$C" -le 8 ]; echo $?) "parallel: between 2 and 8 connections ($C)"
H=$(( $(count handshakes) + $(count resumed) ))
ok $([ "$H" -le 8 ]; echo $?) "parallel: at most 8 TLS handshakes ($H)"
is "$(ls out | wc -l | tr -d ' ')" "200" "--out DIR: 200 response files"
like "$(cat out/m77.xml.response)" "order 77&lt;" "--out DIR: m77.xml.response answers m77.xml"
is "$OUT" "" "--out DIR: nothing on stdout"

# one message at a time would reuse one kept-alive connection: eight slow
# answers in flight at once need eight connections (no timing: the
# server's log tells the client ports apart)
: > "$ACCESS_LOG"
expect 0 "8 messages of 1 s each, --parallel 8" "$V" send --url "$SOAP_HTTPS/basic/slow/1" "${TLS[@]}" \
    --sso-app erp --parallel 8 msgs/m1.xml msgs/m2.xml msgs/m3.xml msgs/m4.xml msgs/m5.xml msgs/m6.xml msgs/m7.xml msgs/m8.xml
is "$(count requests 'slow/1')" "8" "... the server answered the 8"
is "$(count connections 'slow/1')" "8" "... on 8 connections at once, not one after another"

# --- a retry does not hold up the others -----------------------------------------------------------
# (tests/send/flaky.py answers 503 to a message holding RETRYME, 200 to the rest)
send_bg python3 "$SOURCE_ROOT/tests/send/flaky.py" "$T_TMP/flaky.port" "$T_TMP/flaky.log"
for i in $(seq 1 50); do [ -s "$T_TMP/flaky.port" ] && break; sleep 0.1; done
FLAKY="http://127.0.0.1:$(cat "$T_TMP/flaky.port")/"
msg11 retry.xml RETRYME
S=$(date +%s%N)
expect 4 "one 503 message among three good ones" "$V" send --url "$FLAKY" --retry-count 2 --retry-interval 2s \
    retry.xml msgs/m1.xml msgs/m2.xml msgs/m3.xml
MS=$(( ($(date +%s%N) - S) / 1000000 ))
like "$ERR" "retry.xml: attempt 1 failed \(HTTP 503\); next in 2s" "the retry is announced"
is "$(printf '%s\n' "$ERR" | grep -E '^[^ ]+: (delivered|suspended) ' | sed 's/:.*//' | tr '\n' ' ')" \
    "msgs/m1.xml msgs/m2.xml msgs/m3.xml retry.xml " "the three good ones were delivered while retry.xml waited"
like "$ERR" "retry.xml: suspended [0-9a-f]{32}: gave up after 3 attempts: HTTP 503" "retry.xml kept after 3 attempts"
ok $([ "$MS" -ge 4000 ]; echo $?) "... which took the two intervals ($MS ms)"
is "$(grep -c ' 503$' "$T_TMP/flaky.log")" "3" "the endpoint saw retry.xml three times"
is "$(grep -c ' 200$' "$T_TMP/flaky.log")" "3" "... and each good message once"

# --- killed mid-batch ---------------------------------------------------------------------------------
# Every message must be accounted for: reported delivered and in the server's
# log (the log's last field is the SHA-1 of the body it received), or not
# reported delivered and its file untouched on disk, nothing half-kept in the
# queue.  Then the operator's recovery (send again what was not reported
# delivered) gets every one of the 20 to the server.
for i in $(seq 1 20); do sha256sum "msgs/m$i.xml"; done > sums
Q=$(susp_ids | wc -l | tr -d ' ')
: > "$ACCESS_LOG"
"$V" send --url "$SOAP_HTTPS/basic/slow/1" "${TLS[@]}" --sso-app erp $(for i in $(seq 1 20); do echo "msgs/m$i.xml"; done) \
    > killed.out 2> killed.err &
KP=$!
# killed once the first message is reported delivered (1 s each, one at a
# time: 19 are still to come), not after a guessed delay
for i in $(seq 1 600); do grep -q ': delivered' killed.err && break; sleep 0.05; done
kill -9 $KP
wait $KP 2>/dev/null
D=$(grep -c ': delivered' killed.err)
ok $([ "$D" -ge 1 ] && [ "$D" -lt 20 ]; echo $?) "killed mid-batch after $D of 20 deliveries"
sha256sum -c --quiet sums
ok $? "every message file is still on disk, unchanged"
is "$(susp_ids | wc -l | tr -d ' ')" "$Q" "nothing half-sent went to the queue"
R=$(count requests 'slow/1')
ok $([ "$R" -ge "$D" ] && [ "$R" -le $((D + 1)) ]; echo $?) "the server saw the $D delivered and at most the one in flight ($R)"
at_server() { grep -c " 200 .*\"POST /basic/slow/1 HTTP/1.1\" .* $(sha1sum "$1" | cut -d' ' -f1)\$" "$ACCESS_LOG"; }
bad=""
for i in $(seq 1 20); do
	if grep -q "^msgs/m$i.xml: delivered (HTTP 200" killed.err; then
		[ "$(at_server "msgs/m$i.xml")" = 1 ] || bad="$bad m$i(delivered,not-at-server)"
	fi
done
is "$bad" "" "each message reported delivered is in the server's log, by its SHA-1"
UNDELIVERED=()
for i in $(seq 1 20); do
	grep -q "^msgs/m$i.xml: delivered" killed.err || UNDELIVERED+=("msgs/m$i.xml")
done
is "$(( D + ${#UNDELIVERED[@]} ))" "20" "delivered + not reported delivered = 20"
expect 0 "recovery: the ${#UNDELIVERED[@]} not reported delivered, sent again" "$V" send \
    --url "$SOAP_HTTPS/basic/slow/1" "${TLS[@]}" --sso-app erp --parallel 8 "${UNDELIVERED[@]}"
bad=""
for i in $(seq 1 20); do
	[ "$(at_server "msgs/m$i.xml")" -ge 1 ] || bad="$bad m$i"
done
is "$bad" "" "every one of the 20 messages reached the server"

# killed while a message waits for its retry: not delivered, not queued, its file on disk
: > "$ACCESS_LOG"
msg11 waiting.xml "waits for a retry"
sha256sum waiting.xml > wsum
"$V" send --url "$SOAP_HTTPS/basic/status/503" "${TLS[@]}" --sso-app erp --retry-interval 1m waiting.xml \
    > /dev/null 2> waiting.err &
KP=$!
for i in $(seq 1 50); do grep -q 'attempt 1 failed' waiting.err && break; sleep 0.1; done
kill -9 $KP
wait $KP 2>/dev/null
like "$(cat waiting.err)" "^waiting.xml: attempt 1 failed \(HTTP 503\); next in 60s" "killed while waiting to retry"
is "$(susp_ids | wc -l | tr -d ' ')" "$Q" "... nothing went to the queue"
sha256sum -c --quiet wsum
ok $? "... the file is on disk, unchanged"
is "$(count requests 'status/503')" "1" "... the server saw the one attempt"

done_testing
