#!/usr/bin/env bash
# ssovault send through ssovaultd, as other uids: a user granted the
# certificate and mapped in the app sends with both (allowed); one who is not
# is kept in the queue (denied), sees only their own messages, cannot resume
# or terminate another's; fixed by an admin, resumes; ports are the admins'
# to change and everyone's to use; a locked or stopped daemon makes the send
# fail without losing the message (exit 6).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

send_servers
send_vault
cd "$T_TMP" || exit 1
msg11 m11.xml
mkdir msgs
for i in $(seq 1 20); do msg11 "msgs/m$i.xml" "order $i"; done
chmod -R a+rX "$T_TMP/msgs" m11.xml
U1=1001
U2=1002
"$V" app update erp --add-user uid:$U1 --add-user uid:$U2 >/dev/null &&
"$V" mapping create erp uid:$U1 alice >/dev/null &&
creds_set erp uid:$U1 alice "$SOAP_PASSWORD_FILE" &&
"$V" cert grant "$CLIENT_THUMBPRINT" uid:$U1 >/dev/null &&
"$V" port create erp-orders --url "$SOAP_HTTPS/basic" --cacert "$CA" --cert "$CLIENT_THUMBPRINT" --sso-app erp >/dev/null
ok $? "set-up: uid $U1 mapped in erp and granted the certificate; uid $U2 neither"

. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
daemon_start --passphrase-file "$T_TMP/pass"
ok $? "ssovaultd started, unlocked"
as1() { as_user $U1 $U1 "$@"; }
as2() { as_user $U2 $U2 "$@"; }
TLS=(--cacert "$CA" --cert "$CLIENT_THUMBPRINT")

# --- allowed ---------------------------------------------------------------------------------
: > "$ACCESS_LOG"
expect 0 "uid $U1 sends with SSO credentials and the certificate" as1 "$V" send --url "$SOAP_HTTPS/basic" \
    "${TLS[@]}" --sso-app erp m11.xml
like "$OUT" 'user="alice" clientCert="O=ssovault tests,CN=ssovault test client RSA"' "... the server saw alice and the certificate"
expect 0 "uid $U1 with Digest" as1 "$V" send --url "$SOAP_HTTPS/digest" "${TLS[@]}" --auth digest --sso-app erp m11.xml
expect 0 "uid $U1 through a port" as1 "$V" send --port erp-orders m11.xml
expect 0 "uid $U1: 20 messages through the daemon" as1 "$V" send --port erp-orders msgs/m*.xml
is "$(count connections 'order|POST')" "4" "... 4 calls, 4 connections: one per call"
run "$V" --json audit list
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["op"] == "cert sign" and r["uid"] == int(sys.argv[1]) and r["outcome"] == "ok"))' $U1)" \
    "4" "the audit trail has uid $U1's 4 signatures: one per TLS handshake, not one per message (23)"

# --- denied ------------------------------------------------------------------------------------
: > "$ACCESS_LOG"
expect 4 "uid $U2 (no grant): kept at once" as2 "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" --sso-app erp m11.xml
like "$ERR" "suspended [0-9a-f]{32}: client certificate $CLIENT_THUMBPRINT cannot be loaded: access denied: uid $U2 is not a user of certificate" \
    "... the reason names uid $U2 and the certificate"
ID2=$(susp_id_of "$ERR")
is "$(count requests)" "0" "... nothing reached the server"
expect 4 "uid $U2 without a mapping: kept at once" as2 "$V" send --url "$SOAP_HTTPS_NOCERT/basic" --cacert "$CA" --sso-app erp m11.xml
like "$ERR" "SSO credentials for 'erp' cannot be had: " "... the reason says the credentials cannot be had"
ID3=$(susp_id_of "$ERR")
run as2 "$V" --json suspended list
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "2" "uid $U2 sees its two messages"
run as1 "$V" --json suspended list
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "0" "uid $U1 sees none of them"
is "$(susp_ids | wc -l | tr -d ' ')" "2" "root, an admin, sees both"
expect 5 "uid $U1 cannot resume uid $U2's message" as1 "$V" suspended resume "$ID2"
like "$ERR" "access denied" "... access denied"
expect 5 "uid $U1 cannot terminate it" as1 "$V" suspended terminate "$ID2"
expect 5 "uid $U1 cannot show it" as1 "$V" suspended show "$ID2"
expect 4 "uid $U2 resumes before anything is fixed: still kept" as2 "$V" suspended resume "$ID2"
"$V" cert grant "$CLIENT_THUMBPRINT" uid:$U2 >/dev/null && "$V" mapping create erp uid:$U2 alice >/dev/null &&
creds_set erp uid:$U2 alice "$SOAP_PASSWORD_FILE"
ok $? "an admin grants uid $U2 the certificate and maps it"
expect 0 "uid $U2 resumes: delivered" as2 "$V" suspended resume "$ID2"
like "$OUT" 'user="alice" clientCert=' "... with the credentials and certificate"
expect 0 "uid $U2 terminates the other" as2 "$V" suspended terminate "$ID3"
is "$(susp_ids | wc -l | tr -d ' ')" "0" "the queue is empty"

# --- ports ---------------------------------------------------------------------------------------
expect 5 "uid $U1 cannot create a port" as1 "$V" port create mine --url "$SOAP_HTTP/anon"
expect 5 "uid $U1 cannot update one" as1 "$V" port update erp-orders --retry-count 9
expect 0 "uid $U1 may list ports" as1 "$V" port list
like "$OUT" "erp-orders" "... and sees erp-orders"

# --- the service cannot answer: fail, lose nothing -------------------------------------------
SUM0=$(sha256sum < m11.xml)
"$V" lock >/dev/null
ok $? "root locks the daemon"
: > "$ACCESS_LOG"
expect 6 "uid $U1 sends while the vault is locked" as1 "$V" send --url "$SOAP_HTTPS/basic" "${TLS[@]}" --sso-app erp m11.xml
like "$ERR" "m11.xml: failed: client certificate .* cannot be loaded: .*locked.*; it could not be suspended: .*locked" \
    "... neither sent nor kept, and says why"
is "$(count requests)" "0" "... nothing was sent"
"$V" unlock --passphrase-file "$T_TMP/pass" >/dev/null
ok $? "root unlocks it"
is "$(susp_ids | wc -l | tr -d ' ')" "0" "nothing was kept"
daemon_stop
expect 6 "uid $U1 sends while the daemon is stopped" as1 "$V" send --port erp-orders m11.xml
like "$ERR" "(unreachable|connect|ssovaultd)" "... says the service cannot be reached"
is "$(sha256sum < m11.xml)" "$SUM0" "the message file is untouched: it can be sent again"

done_testing
