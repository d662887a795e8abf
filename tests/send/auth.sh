#!/usr/bin/env bash
# ssovault send, the credential side, against servers that demand a client
# certificate: Basic, Digest and NTLM, each with SSO credentials from the
# vault and with --user/--password-file, always with the client certificate
# from the vault; the auth type exactly as asked; tickets redeemed once per
# message; the certificate and credentials fetched before every attempt (the
# audit trail counts them); and no secret in argv, settings or messages.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

send_servers
send_vault
cd "$T_TMP" || exit 1
msg11 m11.xml
msg12 m12.xml
TLS=(--cacert "$CA" --cert "$CLIENT_THUMBPRINT")
CN='clientCert="O=ssovault tests,CN=ssovault test client RSA"'

# an app for NTLM: the external user is DOMAIN\user
"$V" app create ntlm-app --field user --field password:masked --enable --user uid:0 >/dev/null &&
"$V" mapping create ntlm-app uid:0 "$NTLM_DOMAIN\\$NTLM_USER" >/dev/null &&
creds_set ntlm-app uid:0 "$NTLM_DOMAIN\\$NTLM_USER" "$NTLM_PASSWORD_FILE"
ok $? "set-up: app ntlm-app mapped to $NTLM_DOMAIN\\$NTLM_USER"

# --- each auth type, with SSO credentials and a client certificate --------------------
: > "$ACCESS_LOG"
expect 0 "basic + --sso-app + --cert" "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" --sso-app erp m11.xml
like "$OUT" "user=\"alice\" $CN" "basic/sso: the server saw alice and the client certificate"
expect 0 "basic is the default with credentials" "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" --sso-app erp --soap 1.1 m11.xml
expect 0 "basic + SOAP 1.2" "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" --sso-app erp --auth basic m12.xml
like "$OUT" "received version=\"1.2\".*user=\"alice\" $CN" "basic/sso 1.2: version 1.2, alice, certificate"
is "$(count requests ' 401 ')" "0" "basic: sent at once, no 401 round trip"
expect 0 "digest + --sso-app + --cert" "$V" send --url "$SOAP_HTTPS/digest" "${TLS[@]}" --auth digest --sso-app erp m11.xml
like "$OUT" "user=\"alice\" $CN" "digest/sso: the server saw alice and the client certificate"
expect 0 "digest + SOAP 1.2" "$V" send --url "$SOAP_HTTPS/digest" "${TLS[@]}" --auth digest --sso-app erp m12.xml
like "$OUT" "received version=\"1.2\"" "digest/sso 1.2"
: > "$NTLM_LOG"
expect 0 "ntlm + --sso-app + --cert" "$V" send --url "$NTLM_URL" "${TLS[@]}" --auth ntlm --sso-app ntlm-app m11.xml
like "$OUT" "user=\"$NTLM_DOMAIN.$NTLM_USER\" $CN" "ntlm/sso: the verifier saw $NTLM_DOMAIN\\$NTLM_USER and the certificate"
like "$(cat "$NTLM_LOG")" "$NTLM_DOMAIN.$NTLM_USER authenticated" "ntlm/sso: the NTLMv2 response verified"
expect 0 "ntlm + SOAP 1.2" "$V" send --url "$NTLM_URL" "${TLS[@]}" --auth ntlm --sso-app ntlm-app m12.xml
like "$OUT" "received version=\"1.2\"" "ntlm/sso 1.2"

# --- each auth type with --user and --password-file ------------------------------------
expect 0 "basic + --password-file + --cert" "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" \
    --user "$SOAP_USER" --password-file "$SOAP_PASSWORD_FILE" m11.xml
like "$OUT" "user=\"alice\" $CN" "basic/file: alice and the certificate"
expect 0 "digest + --password-file + --cert" "$V" send --url "$SOAP_HTTPS/digest" "${TLS[@]}" --auth digest \
    --user "$SOAP_USER" --password-file "$SOAP_PASSWORD_FILE" m11.xml
like "$OUT" "user=\"alice\" $CN" "digest/file: alice and the certificate"
expect 0 "ntlm + --password-file + --cert" "$V" send --url "$NTLM_URL" "${TLS[@]}" --auth ntlm \
    --user "$NTLM_DOMAIN\\$NTLM_USER" --password-file "$NTLM_PASSWORD_FILE" m11.xml
like "$OUT" "user=\"$NTLM_DOMAIN.$NTLM_USER\" $CN" "ntlm/file: carol and the certificate"
secret_file wrong.pass 'wrong-password'
: > "$ACCESS_LOG"
expect 4 "basic with a wrong password: 401 retried, then kept" "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" \
    --user "$SOAP_USER" --password-file wrong.pass --retry-count 2 --retry-interval 1s m11.xml
like "$ERR" "gave up after 3 attempts: HTTP 401" "... the reason says 401"
is "$(count requests ' 401 ')" "3" "... the server saw three attempts"

# --- exactly the auth type asked for ---------------------------------------------------
: > "$ACCESS_LOG"
expect 4 "--auth basic against a Digest location: no negotiation" "$V" send --url "$SOAP_HTTPS/digest" \
    "${TLS[@]}" --auth basic --sso-app erp --retry-count 0 m11.xml
is "$(count requests 'POST /digest HTTP/1.1" "-"')" "1" "... the server refused it (401, no user)"
expect 4 "--auth digest against a Basic location: no fallback to Basic" "$V" send --url "$SOAP_HTTPS/basic" \
    "${TLS[@]}" --auth digest --sso-app erp --retry-count 0 m11.xml
: > "$NTLM_LOG"
expect 4 "--auth basic against NTLM: no negotiation" "$V" send --url "$NTLM_URL" "${TLS[@]}" --auth basic \
    --sso-app ntlm-app --retry-count 0 m11.xml
unlike "$(cat "$NTLM_LOG")" "authenticated" "... NTLM was not used"
expect 4 "--auth anonymous against Basic: 401, kept" "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" --retry-count 0 m11.xml
expect 2 "--auth anonymous with credentials is a usage error" "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" \
    --auth anonymous --sso-app erp m11.xml
expect 2 "--auth ntlm without credentials is a usage error" "$V" send --url "$NTLM_URL" "${TLS[@]}" --auth ntlm m11.xml

# --- secrets fetched before each attempt, and audited ---------------------------------
# The key is not exportable: before each attempt the sender asks whether it may
# still use the certificate ('cert usable', audited at level medium), and the
# service signs once per TLS handshake ('cert sign', level low).
audit_count() { "$V" --json audit list | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["op"] == sys.argv[1]))' "$1"; }
"$V" audit level --positive medium >/dev/null
F0=$(audit_count "cert usable")
S0=$(audit_count "cert sign")
C0=$(audit_count "creds get")
: > "$ACCESS_LOG"
expect 4 "three attempts against a 503" "$V" send --url "$SOAP_HTTPS/basic/status/503" "${TLS[@]}" --sso-app erp \
    --retry-count 2 --retry-interval 1s m11.xml
is "$(( $(audit_count "cert usable") - F0 ))" "3" "the certificate was checked for each of the 3 attempts"
is "$(( $(audit_count "creds get") - C0 ))" "3" "the credentials were fetched for each of the 3 attempts"
is "$(( $(audit_count "cert sign") - S0 ))" "$(count handshakes)" "... and signed for once per full TLS handshake"
F0=$(audit_count "cert usable")
expect 0 "three messages in one call" "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" --sso-app erp m11.xml m12.xml m11.xml
is "$(( $(audit_count "cert usable") - F0 ))" "3" "... one certificate check per message"
"$V" audit level --positive low >/dev/null

# --- tickets ---------------------------------------------------------------------------------
"$V" ticket settings --allow yes >/dev/null && "$V" app update erp --allow-tickets --no-validate-tickets >/dev/null
ok $? "set-up: tickets allowed for erp"
T=$("$V" ticket issue)
ok $? "a ticket issued"
R0=$(audit_count "ticket redeem")
: > "$ACCESS_LOG"
expect 4 "--ticket, redeemed once though the message is tried three times" "$V" send \
    --url "$SOAP_HTTPS/basic/status/503" "${TLS[@]}" --sso-app erp --ticket "$T" --retry-count 2 --retry-interval 1s m11.xml
is "$(count requests 'status/503')" "3" "... three attempts with the ticket's credentials"
is "$(( $(audit_count "ticket redeem") - R0 ))" "1" "... one redemption"
T=$("$V" ticket issue)
expect 0 "--ticket: delivered with the ticket user's credentials" "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" \
    --sso-app erp --ticket "$T" m11.xml
like "$OUT" "user=\"alice\" $CN" "... alice and the certificate"
expect 4 "the same ticket again: refused, kept" "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" --sso-app erp --ticket "$T" m11.xml
like "$ERR" "ticket for 'erp' refused: .*(redeemed|reused|already)" "... the reason says it was used"
ID=$(susp_id_of "$ERR")
run "$V" --json suspended show "$ID"
unlike "$OUT" "$T" "the kept settings do not hold the ticket"
like "$OUT" '"uses_ticket":true' "... they say a ticket is needed"
expect 2 "--sender without --ticket" "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" --sso-app erp --sender user:root m11.xml

# --- no secret anywhere it could leak ----------------------------------------------------
PW=$(cat "$SOAP_PASSWORD_FILE")
run "$V" --json suspended list
unlike "$OUT" "$PW" "the suspended queue holds no password"
run "$V" --json audit list
unlike "$OUT" "$PW" "the audit trail holds no password"
unlike "$(cat "$T_TMP"/*.err 2>/dev/null; echo "$ERR")" "$PW" "no message printed the password"
T=$("$V" ticket issue)
"$V" send --url "$SOAP_HTTPS/basic/slow/2" "${TLS[@]}" --sso-app erp --ticket "$T" m11.xml >/dev/null 2>&1 &
SP=$!
sleep 1
CMDLINE=$(tr '\0' ' ' < "/proc/$SP/cmdline" 2>/dev/null)
wait $SP
like "$CMDLINE" "--ticket" "while sending, the command line is readable in /proc"
unlike "$CMDLINE" "$T" "... but the ticket in it was wiped"

done_testing
