#!/usr/bin/env bash
# Send ports: create, show, list, update (merge; '' removes), delete; send
# --port with nothing else, explicit options winning over the port's; the
# port named in the suspended queue; no secret value ever stored; the same
# option checks as send.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

send_servers
send_vault
cd "$T_TMP" || exit 1
msg11 m11.xml
msg12 m12.xml
cp "$SOAP_PASSWORD_FILE" alice.pass

# --- create, show, list -------------------------------------------------------------------
expect 0 "port create with SSO credentials and a certificate" "$V" port create erp-orders \
    --url "$SOAP_HTTPS/basic" --cacert "$CA" --cert "$CLIENT_THUMBPRINT" --sso-app erp \
    --action urn:test#Submit --retry-count 1 --retry-interval 1s --header 'X-Trace: t1'
like "$OUT" "Send port erp-orders created" "... says so"
run "$V" --json port show erp-orders
is "$RC" "0" "port show --json"
S=$(printf '%s' "$OUT" | json_get settings)
like "$S" "\"url\": \"$SOAP_HTTPS/basic\"" "... url stored"
like "$S" "\"cert\": \"$CLIENT_THUMBPRINT\"" "... cert stored"
like "$S" '"sso_app": "erp"' "... sso_app stored"
like "$S" '"retry_interval": 1' "... durations in seconds"
like "$S" '"headers": \[' "... headers as a list"
expect 0 "port show, human" "$V" port show erp-orders
like "$OUT" "^erp-orders" "... starts with the name"
like "$OUT" "action +urn:test#Submit" "... one setting a line"
expect 0 "port create with a password file (relative)" "$V" port create basic-file \
    --url "$SOAP_HTTPS_NOCERT/basic" --cacert "$CA" --user alice --password-file alice.pass
run "$V" --json port show basic-file
like "$OUT" "\"password_file\":\"$T_TMP/alice.pass\"" "... the path is stored absolute"
unlike "$OUT" "$(cat "$SOAP_PASSWORD_FILE")" "... and the password itself is not stored"
expect 0 "port list" "$V" port list
like "$OUT" "basic-file +$SOAP_HTTPS_NOCERT/basic" "... lists basic-file with its URL"
like "$OUT" "erp-orders +$SOAP_HTTPS/basic" "... lists erp-orders with its URL"

expect 1 "port create an existing name" "$V" port create erp-orders --url "$SOAP_HTTP/anon"
like "$ERR" "already exists" "... says so"
expect 2 "port create without --url" "$V" port create nourl --sso-app erp
expect 2 "port create with --ticket" "$V" port create tk --url "$SOAP_HTTP/anon" --sso-app erp --ticket abc
like "$ERR" "single-use" "... tickets belong to each send"
expect 2 "port create with an Authorization header" "$V" port create hdr --url "$SOAP_HTTP/anon" --header 'Authorization: Basic eA=='
expect 2 "port create with credentials in the URL" "$V" port create inurl --url "https://a:b@127.0.0.1/"
expect 2 "port create with --user but no password file" "$V" port create nopw --url "$SOAP_HTTP/anon" --user bob
expect 1 "port create with a bad name" "$V" port create 'bad name' --url "$SOAP_HTTP/anon"
is "$("$V" --json port list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "2" "refused ports were not stored"

# --- send --port ---------------------------------------------------------------------------------
: > "$ACCESS_LOG"
expect 0 "send --port with nothing else" "$V" send --port erp-orders m11.xml
like "$OUT" 'action="urn:test#Submit".*user="alice" clientCert="O=ssovault tests,CN=ssovault test client RSA"' \
    "... the port's action, credentials and certificate"
expect 0 "send --port with a password-file port" "$V" send --port basic-file m12.xml
like "$OUT" 'version="1.2".*user="alice"' "... alice, SOAP 1.2 from the file"
expect 3 "an explicit --url wins over the port's" "$V" send --port erp-orders --url "$SOAP_HTTPS/basic/fault11" m11.xml
like "$ERR" "fault: soap:Server" "... the fault location answered"
expect 0 "an explicit --action wins" "$V" send --port erp-orders --action urn:other m11.xml
like "$OUT" 'action="urn:other"' "... the explicit action was sent"
expect 4 "--cert '' drops the port's certificate for this send" "$V" send --port erp-orders --cert '' --retry-count 0 m11.xml
like "$ERR" "(alert|certificate required|SSL|TLS)" "... the server wanted a certificate"
expect 4 "a port send that is kept names the port" "$V" send --port erp-orders --url "$SOAP_HTTPS/basic/status/503" m11.xml
run "$V" --json suspended list
like "$OUT" '"port":"erp-orders"' "suspended list: the port it went through"
ID=$(susp_ids | tail -1)
run "$V" --json suspended show "$ID"
like "$(printf '%s' "$OUT" | json_get settings)" '"retry_count": 1' "the snapshot holds the port's settings"
expect 1 "send --port that does not exist" "$V" send --port nope m11.xml
like "$ERR" "no send port 'nope'" "... says so"
expect 2 "send --port and a usage error in the options" "$V" send --port erp-orders --retry-count x m11.xml

# --- update: merge, '' removes ---------------------------------------------------------------------
expect 0 "port update: retry count, clear the certificate and header" "$V" port update erp-orders \
    --retry-count 0 --cert '' --header ''
run "$V" --json port show erp-orders
S=$(printf '%s' "$OUT" | json_get settings)
like "$S" '"retry_count": 0' "... retry_count changed"
unlike "$S" '"cert"' "... cert removed"
like "$S" '"sso_app": "erp"' "... the rest kept"
like "$S" '"action": "urn:test#Submit"' "... action kept"
unlike "$S" 'X-Trace' "... the header list emptied"
expect 4 "send --port now goes without a certificate" "$V" send --port erp-orders m11.xml
expect 0 "port update: the certificate back" "$V" port update erp-orders --cert "$CLIENT_THUMBPRINT"
expect 0 "send --port works again" "$V" send --port erp-orders m11.xml
expect 2 "port update that would break the port (--user without a password file)" "$V" port update erp-orders --sso-app '' --user bob
run "$V" --json port show erp-orders
like "$OUT" '"sso_app":"erp"' "... and nothing was changed"
expect 2 "port update with --url ''" "$V" port update erp-orders --url ''
expect 1 "port update of a port that does not exist" "$V" port update nope --retry-count 1

# --- delete ------------------------------------------------------------------------------------------
expect 0 "port delete" "$V" port delete basic-file
expect 1 "port show after delete" "$V" port show basic-file
expect 1 "port delete twice" "$V" port delete basic-file
expect 0 "the suspended message of a deleted port can still be resumed (it keeps a copy)" sh -c \
    "'$V' port delete erp-orders >/dev/null && '$V' suspended show $ID >/dev/null"
expect 0 "port list with no ports" "$V" port list
like "$OUT" "No send ports" "... says so"

done_testing
