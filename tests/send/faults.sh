#!/usr/bin/env bash
# Network faults (issue 6) against real loopback servers: tests/send/faultserver.py
# (an endpoint that closes before answering, resets, answers half a body,
# never answers, stalls, never finishes a TLS handshake, is not listening,
# answers 20 MiB, answers non-XML with 200, redirects;
# a proxy that refuses; a proxy port where nothing listens) and the Apache
# test server behind the proxy.  Each fault gets its defined outcome (the
# table in docs/send.md) with its exact result line and exit code, the
# server sees exactly the attempts it should, and no message is lost: once
# the servers are healed, every suspended message is resumed and arrives
# byte for byte (SHA-1 of the body the endpoint received).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

send_servers
send_vault
cd "$T_TMP" || exit 1

send_bg python3 "$SOURCE_ROOT/tests/send/faultserver.py" "$T_TMP/fs.port" "$T_TMP/fs.log" \
    "$PKI/server.pem" "$PKI/server.key"
for i in $(seq 1 50); do [ -s "$T_TMP/fs.port" ] && break; sleep 0.1; done
read -r EP PX DEAD < "$T_TMP/fs.port" || { echo "Bail out! the fault server did not start"; exit 1; }
E="http://127.0.0.1:$EP"
touch fs.log
RETRY=(--retry-count 1 --retry-interval 1s)

sha() { sha1sum "$1" | cut -d' ' -f1; }
# attempts FILE: requests the endpoint received holding FILE's exact bytes
attempts() { grep -c " $(sha "$1") " fs.log; }
queued() { susp_ids | wc -l | tr -d ' '; }

SUSPENDED=()		# "id file" of every message kept, resumed at the end

# fault NAME EXIT ATTEMPTS LINE-REGEX SEND-ARGS...: one message m-NAME.xml
# sent with SEND-ARGS; the exit code, its result line (NAME: ... anchored,
# the whole line), the attempts the endpoint saw and, for exit 4, the queue.
fault() {
	local name=$1 code=$2 want=$3 line=$4 before id
	shift 4
	msg11 "m-$name.xml" "fault case $name"
	before=$(queued)
	expect "$code" "$name" "$V" send "$@" "m-$name.xml"
	like "$ERR" "^m-$name.xml: $line\$" "$name: the result line"
	is "$(attempts "m-$name.xml")" "$want" "$name: the endpoint got $want attempt(s)"
	if [ "$code" -eq 4 ]; then
		id=$(susp_id_of "$(printf '%s\n' "$ERR" | grep "^m-$name.xml: suspended ")")
		is "$(queued)" "$((before + 1))" "$name: kept in the suspended queue"
		is "$("$V" --json suspended show "$id" | json_get size)" "$(stat -c %s "m-$name.xml")" \
		    "$name: the queued message has the file's size"
		SUSPENDED+=("$id m-$name.xml")
	else
		is "$(queued)" "$before" "$name: nothing queued"
	fi
}

# --- the endpoint misbehaves ---------------------------------------------------------------
fault close 4 2 "suspended [0-9a-f]{32}: gave up after 2 attempts: Empty reply from server" \
    --url "$E/close" "${RETRY[@]}"
fault reset 4 2 "suspended [0-9a-f]{32}: gave up after 2 attempts: Recv failure: Connection reset by peer" \
    --url "$E/reset" "${RETRY[@]}"
fault half 4 2 "suspended [0-9a-f]{32}: gave up after 2 attempts: transfer closed with 1000 bytes remaining to read" \
    --url "$E/half" "${RETRY[@]}"
# curl says how long it waited: at least the 2 s asked for (a busy machine
# may make it longer, never shorter); and the two timeouts and the 1 s
# retry interval were all waited out (a lower bound, which load cannot break)
S=$(date +%s%N)
fault hang 4 2 "suspended [0-9a-f]{32}: gave up after 2 attempts: Operation timed out after ([2-9][0-9]{3}|[0-9]{5,}) milliseconds with 0 bytes received" \
    --url "$E/hang" --timeout 2s "${RETRY[@]}"
MS=$(( ($(date +%s%N) - S) / 1000000 ))
ok $([ "$MS" -ge 5000 ]; echo $?) "hang: two 2 s timeouts and a 1 s wait ($MS ms, at least 5000)"
fault stall 4 2 "suspended [0-9a-f]{32}: gave up after 2 attempts: Operation timed out after ([2-9][0-9]{3}|[0-9]{5,}) milliseconds with 100 out of 1000 bytes received" \
    --url "$E/stall" --timeout 2s "${RETRY[@]}"
fault tls-hang 4 0 "suspended [0-9a-f]{32}: gave up after 2 attempts: SSL connection timeout" \
    --url "https://127.0.0.1:$EP/ok" --cacert "$CA" --connect-timeout 1s "${RETRY[@]}"
fault refused 4 0 "suspended [0-9a-f]{32}: gave up after 2 attempts: Failed to connect to 127.0.0.1 port $DEAD after [0-9]+ ms: (Couldn't connect to server|Connection refused)" \
    --url "http://127.0.0.1:$DEAD/ok" "${RETRY[@]}"
fault big 1 1 "delivered \(HTTP 200, [0-9]+ ms\), but the response was larger than --max-response-size and was dropped" \
    --url "$E/big" --max-response-size 1M "${RETRY[@]}"
is "$OUT" "" "big: nothing of the response on stdout"
fault big-default 1 1 "delivered \(HTTP 200, [0-9]+ ms\), but the response was larger than --max-response-size and was dropped" \
    --url "$E/big" "${RETRY[@]}"
fault big503 4 2 "suspended [0-9a-f]{32}: gave up after 2 attempts: HTTP 503 with a response larger than the size cap" \
    --url "$E/big503" --max-response-size 1M "${RETRY[@]}"
fault notxml 0 1 "delivered \(HTTP 200, [0-9]+ ms\)" --url "$E/notxml" "${RETRY[@]}"
like "$ERR" "^m-notxml.xml: note: the response \(HTTP 200, text/plain, 32 bytes\) is not XML; delivered all the same" \
    "notxml: a note says so"
is "$OUT" "this is not XML <<< &&& >>> ]]>" "notxml: the response as it came, on stdout"
fault redirect 4 1 "suspended [0-9a-f]{32}: not retried: HTTP 302, a redirect to $E/ok \(redirects are not followed\)" \
    --url "$E/redirect" "${RETRY[@]}"
fault redirect307 4 1 "suspended [0-9a-f]{32}: not retried: HTTP 307, a redirect to $E/ok \(redirects are not followed\)" \
    --url "$E/redirect307" "${RETRY[@]}"
fault redirect-token 4 1 "suspended [0-9a-f]{32}: not retried: HTTP 302, a redirect to $E/ok \(redirects are not followed\)" \
    --url "$E/redirect-token" "${RETRY[@]}"
unlike "$ERR$("$V" suspended list)" "SECRET" "redirect-token: no user info, query or fragment of the Location in the reason"
is "$(grep -c '^endpoint /ok ' fs.log)" "0" "redirects: /ok never got a request"

# --- the proxy refuses ------------------------------------------------------------------------
fault proxy-403 4 0 "suspended [0-9a-f]{32}: gave up after 2 attempts: HTTP 403" \
    --url "$E/ok" --proxy "http://127.0.0.1:$PX" "${RETRY[@]}"
is "$(grep -c "^proxy POST $E/ok refused" fs.log)" "2" "proxy-403: the proxy refused two attempts"
fault proxy-connect 4 0 "suspended [0-9a-f]{32}: gave up after 2 attempts: CONNECT tunnel failed, response 403" \
    --url "$SOAP_HTTPS_NOCERT/anon" --cacert "$CA" --proxy "http://127.0.0.1:$PX" "${RETRY[@]}"
is "$(grep -c "^proxy CONNECT 127.0.0.1:[0-9]* refused" fs.log)" "2" "proxy-connect: two CONNECTs refused"
fault proxy-down 4 0 "suspended [0-9a-f]{32}: gave up after 2 attempts: proxy http://127.0.0.1:$DEAD: Failed to connect to 127.0.0.1 port $DEAD after [0-9]+ ms: (Couldn't connect to server|Connection refused)" \
    --url "$E/ok" --proxy "http://127.0.0.1:$DEAD" "${RETRY[@]}"

# --- a batch into a fault: every message kept, each on its own ---------------------------------
for i in 1 2 3 4 5 6; do msg11 "b$i.xml" "batch message $i"; done
Q=$(queued)
expect 4 "six messages, --parallel 3, into half answers" "$V" send --url "$E/half" --retry-count 0 \
    --parallel 3 b1.xml b2.xml b3.xml b4.xml b5.xml b6.xml
like "$ERR" "6 messages: 0 delivered, 0 faults, 6 suspended, 0 not sent, 0 failed" "batch: the summary"
is "$(printf '%s\n' "$ERR" | grep -E '^b[1-6]\.xml: suspended [0-9a-f]{32}: gave up after 1 attempt: transfer closed with 1000 bytes remaining to read$' |
    sed 's/: suspended \([0-9a-f]*\):.*/ \1/' | sort -u | awk '{ print $2 }' | sort -u | wc -l | tr -d ' ')" "6" \
    "batch: six result lines, six different ids"
is "$(queued)" "$((Q + 6))" "batch: six more in the queue"
for i in 1 2 3 4 5 6; do
	SUSPENDED+=("$(susp_id_of "$(printf '%s\n' "$ERR" | grep "^b$i.xml: suspended ")") b$i.xml")
done

# --- nothing lost: heal everything, resume every kept message ----------------------------------
[ "${#SUSPENDED[@]}" -ge 5 ]
ok $? "the fault cases above kept messages to resume (${#SUSPENDED[@]}, at least 5)"
is "$(queued)" "${#SUSPENDED[@]}" "the queue holds exactly the ${#SUSPENDED[@]} messages kept above"
curl -s "$E/heal" > /dev/null
ok $? "the servers are healed"
: > fs.log
: > "$ACCESS_LOG"
for s in "${SUSPENDED[@]}"; do
	id=${s%% *}
	f=${s#* }
	run "$V" suspended resume "$id"
	[ "$RC" -eq 0 ] && printf '%s' "$ERR" | grep -q "^$id: delivered (HTTP 200"
	ok $? "resume $f ($id): delivered"
	[ "$RC" -eq 0 ] || echo "#   exit $RC: $ERR"
	if [ "$f" = m-proxy-connect.xml ]; then
		like "$OUT" "bytes=\"$(stat -c %s "$f")\"/><t:echo>&lt;m:Order xmlns:m=&quot;urn:test&quot;&gt;fault case proxy-connect&lt;" \
		    "$f: Apache echoes its body and size"
	fi
done
is "$(queued)" "0" "the queue is empty"
# what arrived is what was taken: the endpoint's SHA-1 of each body, or for
# the one sent through a tunnel to Apache, its echo of the body and size
for s in "${SUSPENDED[@]}"; do
	f=${s#* }
	if [ "$f" = m-proxy-connect.xml ]; then
		continue
	fi
	is "$(attempts "$f")" "1" "$f arrived once, byte for byte"
done
is "$(count requests ' 200 "-" "POST /anon HTTP/1.1"')" "1" "m-proxy-connect.xml arrived at Apache through the tunnel"
is "$(grep -c '^proxy CONNECT .* forwarded' fs.log)" "1" "... by the healed proxy"

done_testing
