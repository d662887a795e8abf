#!/usr/bin/env bash
# The suspended queue: every way a message is kept (certificate unknown, not
# granted, expired; no mapping, disabled mapping, disabled app; ticket
# refused; retries run out against a 503, a closed port and a server that
# demands a certificate nobody gave), each exit 4 and listed; resume after the
# cause is fixed delivers and removes it, resume that fails again keeps it
# with the new count, a fault on resume keeps it; a password file is not kept
# and is given again on resume; terminate; show.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

send_servers
send_vault
cd "$T_TMP" || exit 1
msg11 m11.xml
SUM0=$(sha256sum < m11.xml)
P="$T_TMP/pki"
EC=$(cat "$P/client-ec.sha1")
EXPIRED=$(cat "$P/expired.sha1")
"$V" cert import "$P/client-ec.p12" --password-file "$P/p12.pass" >/dev/null &&
"$V" cert import "$P/expired.p12" --password-file "$P/p12.pass" --user uid:0 >/dev/null &&
"$V" app create hr --field user --field password:masked --enable --user uid:0 >/dev/null
ok $? "set-up: EC certificate (not granted), expired certificate (granted), app hr (no mapping)"
TLS=(--cacert "$CA")
N=0

# kept CODE DESC ARGS...: send m11.xml, expect exit 4, a new queue entry, its id in $ID
kept() {
	local desc=$1
	shift
	expect 4 "$desc" "$V" send --retry-interval 1s "$@" m11.xml
	ID=$(susp_id_of "$ERR")
	N=$((N + 1))
	like "$ID" '^[0-9a-f]{32}$' "$desc: the result line names the id"
	is "$(susp_ids | wc -l | tr -d ' ')" "$N" "$desc: suspended list shows it"
	susp_ids | grep -qx "$ID"
	ok $? "$desc: listed under its id"
}

# --- kept at once: nothing reaches the server ---------------------------------------------
: > "$ACCESS_LOG"
kept "unknown thumbprint" --url "$SOAP_HTTPS/basic" "${TLS[@]}" --cert 0123456789ABCDEF0123456789ABCDEF01234567 --sso-app erp
like "$ERR" "client certificate 0123456789ABCDEF0123456789ABCDEF01234567 cannot be loaded: no certificate" "... the reason says it is unknown"
ID_UNKNOWN=$ID
kept "certificate not granted" --url "$SOAP_HTTPS/basic" "${TLS[@]}" --cert "$EC" --sso-app erp
like "$ERR" "cannot be loaded: access denied: .* is not a user of certificate $EC" "... the reason says access denied"
like "$ERR" "a vault admin grants it with 'ssovault cert grant $EC user:root'" "... and names the grant that is missing"
ID_GRANT=$ID
kept "expired certificate" --url "$SOAP_HTTPS/basic" "${TLS[@]}" --cert "$EXPIRED" --sso-app erp
like "$ERR" "expired" "... the reason says expired"
kept "no mapping" --url "$SOAP_HTTPS/basic" "${TLS[@]}" --cert "$CLIENT_THUMBPRINT" --sso-app hr
like "$ERR" "SSO credentials for 'hr' cannot be had: .*no mapping" "... the reason says there is no mapping"
ID_MAPPING=$ID
"$V" mapping disable erp uid:0 >/dev/null
kept "disabled mapping" --url "$SOAP_HTTPS/basic" "${TLS[@]}" --cert "$CLIENT_THUMBPRINT" --sso-app erp
like "$ERR" "cannot be had: .*disabled" "... the reason says disabled"
ID_DISMAP=$ID
"$V" mapping enable erp uid:0 >/dev/null
"$V" app disable erp >/dev/null
kept "disabled app" --url "$SOAP_HTTPS/basic" "${TLS[@]}" --cert "$CLIENT_THUMBPRINT" --sso-app erp
like "$ERR" "cannot be had: .*disabled" "... the reason says disabled"
ID_DISAPP=$ID
"$V" app enable erp >/dev/null
kept "ticket refused (tickets not allowed)" --url "$SOAP_HTTPS/basic" "${TLS[@]}" --cert "$CLIENT_THUMBPRINT" --sso-app erp --ticket bogus-ticket
like "$ERR" "ticket for 'erp' refused" "... the reason says the ticket was refused"
ID_TICKET=$ID
is "$(count requests)" "0" "none of these reached the server"

# --- kept when retries run out --------------------------------------------------------------
: > "$ACCESS_LOG"
kept "retries run out against a 503" --url "$SOAP_HTTPS/basic/status/503" "${TLS[@]}" --cert "$CLIENT_THUMBPRINT" --sso-app erp --retry-count 2
like "$ERR" "gave up after 3 attempts: HTTP 503" "... the reason says 3 attempts, HTTP 503"
is "$(count requests 'status/503')" "3" "... the server saw 3 attempts (--retry-count 2)"
ID_503=$ID
run "$V" --json suspended show "$ID_503"
is "$(printf '%s' "$OUT" | json_get attempts)" "3" "suspended show: attempts 3"
like "$(printf '%s' "$OUT" | json_get settings)" "\"cert\": \"$CLIENT_THUMBPRINT\"" "suspended show: the settings it was sent with"
like "$(printf '%s' "$OUT" | json_get settings)" "\"source\": \"m11.xml\"" "suspended show: the file it came from"
expect 0 "suspended show, human" "$V" suspended show "$ID_503"
like "$OUT" "reason +gave up after 3 attempts: HTTP 503" "... gives the reason"
like "$OUT" "attempts +3" "... and the attempts"
kept "retries run out against a closed port" --url "https://127.0.0.1:1/soap" "${TLS[@]}" --retry-count 1
like "$ERR" "gave up after 2 attempts: .*(Couldn't connect|refused)" "... the reason says the connection was refused"
kept "a server that demands a certificate nobody gave" --url "$SOAP_HTTPS/anon" "${TLS[@]}" --retry-count 1
like "$ERR" "gave up after 2 attempts: .*(SSL|TLS|alert|certificate|handshake|Recv)" "... the reason is the TLS failure"
like "$ERR" "TLS: the server demands a client certificate \(.*\): give one with --cert THUMBPRINT" "... explained, with the option that fixes it"
ID_NOCERT=$ID
kept "a server whose CA was not given" --url "$SOAP_HTTPS_NOCERT/anon" --retry-count 0
like "$ERR" "TLS: the server's certificate is not trusted \(.*\): give the CA that signed it with --cacert FILE" "... explained: give --cacert"
kept "a server that the CA given did not sign" --url "$SOAP_HTTPS_NOCERT/anon" --cacert "$CLIENT_CERT" --retry-count 0
like "$ERR" "TLS: the server's certificate is not signed by the CA given \(.*\): give the server's CA with --cacert FILE" "... explained: the server's CA"

expect 0 "suspended list, human" "$V" suspended list
is "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" "$((N + 1))" "... a header and one line per message"
like "$(printf '%s\n' "$OUT" | head -1)" "^ID +UPDATED +ATTEMPTS +SENDER +URL +REASON$" "... the header names the columns"
like "$OUT" "$ID_503 .* 3 attempts .*status/503 +gave up after 3 attempts" "... with time, attempts, URL and reason"

# --- resume after fixing the cause -------------------------------------------------------
"$V" cert grant "$EC" uid:0 >/dev/null
: > "$ACCESS_LOG"
expect 0 "resume after the grant" "$V" suspended resume "$ID_GRANT"
like "$ERR" "^$ID_GRANT: delivered \(HTTP 200" "... delivered"
like "$OUT" 'clientCert="O=ssovault tests,CN=ssovault test client EC"' "... with the EC certificate"
expect 1 "... and it left the queue" "$V" suspended show "$ID_GRANT"
like "$ERR" "no suspended message" "... show says so"
"$V" mapping create hr uid:0 alice >/dev/null && creds_set hr uid:0 alice "$SOAP_PASSWORD_FILE"
expect 0 "resume after mapping and credentials" "$V" suspended resume "$ID_MAPPING"
like "$OUT" 'user="alice"' "... sent as alice"
expect 0 "resume after enabling the mapping" "$V" suspended resume "$ID_DISMAP"
expect 0 "resume after enabling the app" "$V" suspended resume "$ID_DISAPP"
expect 2 "resume of a ticket message without a new ticket" "$V" suspended resume "$ID_TICKET"
like "$ERR" "single-use: give --ticket" "... says a new ticket is needed"
"$V" ticket settings --allow yes >/dev/null && "$V" app update erp --allow-tickets --no-validate-tickets >/dev/null
T=$("$V" ticket issue)
expect 0 "resume with a fresh ticket" "$V" suspended resume "$ID_TICKET" --ticket "$T"
N=$((N - 5))
is "$(susp_ids | wc -l | tr -d ' ')" "$N" "the five resumed messages are gone, the others stay"

# --- resume that fails again ------------------------------------------------------------------
: > "$ACCESS_LOG"
expect 4 "resume against the same 503" "$V" suspended resume "$ID_503" --retry-count 1 --retry-interval 1s
like "$ERR" "^$ID_503: still suspended: gave up after 2 attempts: HTTP 503" "... still suspended, with the new reason"
is "$(count requests 'status/503')" "2" "... two more attempts (--retry-count 1 on resume)"
run "$V" --json suspended show "$ID_503"
is "$(printf '%s' "$OUT" | json_get attempts)" "5" "... attempts now 3 + 2"
expect 4 "resume the unknown certificate: still unknown" "$V" suspended resume "$ID_UNKNOWN"
is "$(susp_ids | wc -l | tr -d ' ')" "$N" "... both still in the queue"

# --- a fault on resume keeps it -----------------------------------------------------------
kept "a fault kept with --suspend-on-fault" --url "$SOAP_HTTPS/anon/fault11" "${TLS[@]}" --cert "$CLIENT_THUMBPRINT" --suspend-on-fault
ID_FAULT=$ID
expect 4 "resume: the fault again, kept (--suspend-on-fault stored)" "$V" suspended resume "$ID_FAULT"
like "$ERR" "still suspended: fault: soap:Server: Test fault" "... with the fault as reason"

# --- a password file is named again on resume ----------------------------------------------
printf 'wrong-password' > wrong.pass && chmod 600 wrong.pass
kept "a wrong password file: 401" --url "$SOAP_HTTPS/basic" "${TLS[@]}" --cert "$CLIENT_THUMBPRINT" \
    --user "$SOAP_USER" --password-file wrong.pass --retry-count 0
ID_PW=$ID
run "$V" --json suspended show "$ID_PW"
unlike "$OUT" "password_file" "the message keeps no password file"
like "$OUT" "\"user\":\"$SOAP_USER\"" "... but keeps its user"
is "$(printf '%s' "$OUT" | json_get own)" "true" "... and says it is the caller's own"
expect 2 "resume without --password-file" "$V" suspended resume "$ID_PW"
like "$ERR" "keeps no password file: give --password-file FILE for --user $SOAP_USER" "... says to give it again"
expect 0 "resume with the right --password-file: delivered" "$V" suspended resume "$ID_PW" \
    --password-file "$SOAP_PASSWORD_FILE"
like "$OUT" 'user="alice"' "... as alice, with the stored certificate (the caller's own message)"
N=$((N - 1))

# --- terminate ----------------------------------------------------------------------------------
expect 0 "terminate" "$V" suspended terminate "$ID_503"
like "$OUT" "terminated" "... says so"
expect 1 "terminated: show fails" "$V" suspended show "$ID_503"
expect 1 "terminate it twice" "$V" suspended terminate "$ID_503"
expect 1 "resume a terminated message" "$V" suspended resume "$ID_503"
expect 1 "a malformed id" "$V" suspended show not-an-id
like "$ERR" "32 hexadecimal digits" "... says what an id is"
# ids as git takes object names: a unique beginning of at least 4 characters
expect 0 "suspended show by the first 8 characters of an id" "$V" --json suspended show "${ID_NOCERT:0:8}"
like "$OUT" "\"id\": ?\"$ID_NOCERT\"" "... shows that message"
expect 2 "an id of 3 characters" "$V" suspended show "${ID_NOCERT:0:3}"
like "$ERR" "at least 4 characters" "... is too short to name one"
expect 1 "a beginning no id has" "$V" suspended show ffffffffffff
like "$ERR" "no suspended message whose id begins with ffffffffffff" "... says so"
N=$((N - 1))
is "$(susp_ids | wc -l | tr -d ' ')" "$N" "terminate removed exactly one"
for id in $(susp_ids); do "$V" suspended terminate "$id" >/dev/null; done
expect 0 "all terminated: the list is empty" "$V" suspended list
like "$OUT" "No suspended messages" "... and says so"
is "$(sha256sum < m11.xml)" "$SUM0" "the message file is untouched throughout"

done_testing
