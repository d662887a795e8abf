#!/usr/bin/env bash
# Finding 1: a planted suspended message must not make whoever resumes it
# send their secrets.  Any uid may suspend a message with any settings; an
# admin who resumes it sends it as themselves.  uid A plants messages that
# name root's passphrase file as a password file (and as a proxy password
# file), root's payroll mapping, a certificate granted to root, a CA file and
# a root-owned output file, through the CLI (a send that suspends) and by
# hand (op 90).  Root, a vault admin with a payroll mapping and the grant,
# resumes each: the resume is refused and names what it left out, nothing
# secret reaches the planter's recorder, no file is written, the messages
# stay queued; resuming with root's own choice ('' for none) is honoured.
# The daemon keeps no password or output file, refuses control characters,
# and says who sent each message.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"
. "$SOURCE_ROOT/tests/attacks/lib-sender.sh"

V=$SSOVAULT
A=5101
asA() { as_user $A $A "$@"; }
cd "$T_TMP" || exit 1

# --- root's secrets ------------------------------------------------------------------------
new_vault
recorder_start
CA="$T_TMP/pki/ca.pem"
chmod 644 "$CA"
PASSPHRASE=$(cat "$T_TMP/pass")
mkdir -m 700 "$T_TMP/rootonly"
cp "$T_TMP/pass" "$T_TMP/rootonly/pass"
chmod 600 "$T_TMP/rootonly/pass"
OUTFILE="$T_TMP/rootonly/planted.out"
ROOTPAY="root-payroll-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '{"user": "rootpay", "password": "%s"}' "$ROOTPAY" > "$T_TMP/rootonly/creds.json"
THUMB=$("$V" cert import "$T_TMP/pki/client-rsa.p12" --password-file "$T_TMP/pki/p12.pass" --user uid:0)
"$V" app create payroll --field user --field password:masked --enable --user uid:0 >/dev/null &&
"$V" mapping create payroll uid:0 rootpay >/dev/null &&
"$V" creds set payroll --user uid:0 --from-file "$T_TMP/rootonly/creds.json" >/dev/null
ok $? "set-up: root has a payroll mapping and the RSA client certificate ($THUMB)"
daemon_start --passphrase-file "$T_TMP/rootonly/pass"
ok $? "ssovaultd started, unlocked with the root-only passphrase file"

envelope m0.xml "control"
# preconditions: the secrets are root's alone
run asA cat "$T_TMP/rootonly/pass"
ok $([ "$RC" -ne 0 ]; echo $?) "precondition: uid $A cannot read the passphrase file"
expect 5 "precondition: uid $A cannot read root's payroll credentials" asA "$V" creds get payroll
expect 0 "precondition: root can" "$V" creds get payroll --field password
is "$OUT" "$ROOTPAY" "precondition: ... and they are the ones to look for"
expect 0 "precondition: root may use the certificate" "$V" cert show "$THUMB"
like "$OUT" "uid:0" "... it is granted to uid:0"

# the recorder sees what a sender gives it: root's own send, as a control
expect 0 "control: root sends to the recorder with its payroll credentials and certificate" \
    "$V" send --retry-count 0 --url "$REC_HTTPS/control" --cacert "$CA" --sso-app payroll --cert "$THUMB" m0.xml
is "$(rec_count 'r["basic"] == "rootpay:'"$ROOTPAY"'" and "ssovault test client RSA" in r["client_cert"]')" "1" \
    "control: the recorder logged the Basic credentials and the client certificate"

# --- uid A plants ---------------------------------------------------------------------------
envelope m.xml "planted order"
expect 4 "uid $A suspends through the CLI: --sso-app payroll --cert (root's) --cacert" asA "$V" send \
    --url "$REC_HTTPS/cli" --cacert "$CA" --sso-app payroll --cert "$THUMB" --retry-count 0 m.xml
ID_CLI=$(printf '%s\n' "$ERR" | sed -n 's/^m.xml: suspended \([0-9a-f]\{32\}\):.*/\1/p')
like "$ID_CLI" '^[0-9a-f]{32}$' "... it is suspended ($ID_CLI)"

# plant_ok NAME SETTINGS: op 90 as uid A; the id in ID_<NAME>
plant_ok() {
	local res
	res=$(plant $A "$2" m.xml)
	is "${res%%$'\t'*}" "0" "uid $A plants '$1' by hand (op 90)"
	printf -v "ID_$1" '%s' "${res#*$'\t'}"
}
plant_ok PWFILE "{\"retry_count\": 0, \"url\": \"$REC_HTTP/pwfile\", \"user\": \"x\", \"password_file\": \"$T_TMP/rootonly/pass\", \"out\": \"$OUTFILE\"}"
plant_ok SSO "{\"retry_count\": 0, \"url\": \"$REC_HTTPS/sso\", \"sso_app\": \"payroll\", \"cert\": \"$THUMB\", \"cacert\": \"$CA\"}"
plant_ok PROXY "{\"retry_count\": 0, \"url\": \"$REC_HTTP/proxied\", \"proxy\": \"$REC_HTTP\", \"proxy_user\": \"x\", \"proxy_password_file\": \"$T_TMP/rootonly/pass\"}"
plant_ok ANON "{\"retry_count\": 0, \"url\": \"$REC_HTTP/anon\"}"
plant_ok DISGUISED "{\"url\": \"$REC_HTTP/disguised\", \"port\": \"erp-orders\"}"
res=$(plant $A "{\"url\": \"$REC_HTTP/\\u001b]0;owned\\u0007\"}" m.xml)
ok $([ "${res%%$'\t'*}" != "0" ]; echo $?) "a setting with control characters is refused (it would be printed to an admin)"
like "${res#*$'\t'}" "one line of text" "... and says why"

# --- what the daemon kept -------------------------------------------------------------------
run "$V" --json suspended show "$ID_PWFILE"
S=$(printf '%s' "$OUT" | json_get settings)
unlike "$S" "password_file" "the daemon kept no password file"
unlike "$S" '"out"' "... and no output file"
like "$S" '"user": "x"' "... the rest as planted"
is "$(printf '%s' "$OUT" | json_get uid)" "$A" "show: uid $A sent it (from the kernel)"
is "$(printf '%s' "$OUT" | json_get sender)" "uid:$A" "show: sender uid:$A"
is "$(printf '%s' "$OUT" | json_get own)" "false" "show: not root's own"
run "$V" --json suspended show "$ID_PROXY"
unlike "$OUT" "proxy_password_file" "no proxy password file kept either"
expect 0 "suspended show, human" "$V" suspended show "$ID_SSO"
like "$OUT" "sso_app +payroll" "... every setting: sso_app"
like "$OUT" "cert +$THUMB" "... cert"
like "$OUT" "cacert +$CA" "... cacert"
like "$OUT" "url +$REC_HTTPS/sso" "... url"
like "$OUT" "Sent by someone else" "... and that it is someone else's"
expect 0 "suspended list" "$V" suspended list
like "$OUT" "$ID_SSO .* uid:$A " "... names the sender of each message"
like "$OUT" "$ID_DISGUISED .* $REC_HTTP/disguised \(port erp-orders\)" \
    "... and the URL each goes to, not only the port name the sender wrote"

# --- root resumes: refused, nothing leaves ----------------------------------------------------
: > "$REC_LOG"
expect 2 "root resumes the CLI-planted message: refused" "$V" suspended resume "$ID_CLI"
like "$ERR" "sent by uid:$A: its --sso-app, --cert, --cacert would use your own" "... names what it left out"
like "$ERR" "restate them, or '' for none" "... and how to restate them"
expect 2 "root resumes the password-file message: refused" "$V" suspended resume "$ID_PWFILE"
like "$ERR" "its --user/--password-file would use your own" "... names --user/--password-file"
expect 2 "root resumes the sso_app + cert message: refused" "$V" suspended resume "$ID_SSO"
like "$ERR" "its --sso-app, --cert, --cacert" "... names --sso-app, --cert, --cacert"
expect 2 "root resumes the proxy message: refused" "$V" suspended resume "$ID_PROXY"
like "$ERR" "its --proxy-user/--proxy-password-file" "... names the proxy credentials"
is "$(rec_count)" "0" "the recorder saw no request at all"

# restated: root's own choices are used, and only those
expect 0 "root resumes the CLI-planted message with --sso-app '' --cert '' --cacert (its own)" \
    "$V" suspended resume "$ID_CLI" --sso-app '' --cert '' --cacert "$CA"
is "$(rec_count 'r["target"] == "/cli"')" "1" "... delivered to the recorder"
expect 0 "root resumes an anonymous planted message: nothing to restate" "$V" suspended resume "$ID_ANON"
expect 0 "root resumes the password-file message with --user '' (no credentials)" \
    "$V" suspended resume "$ID_PWFILE" --user ''
is "$(rec_count 'r["target"] == "/pwfile"')" "1" "... delivered to the recorder, without them"

# --- the proof -------------------------------------------------------------------------------
LOGTEXT=$(cat "$REC_LOG")
unlike "$LOGTEXT" "$PASSPHRASE" "the passphrase never reached the planter's server"
unlike "$LOGTEXT" "$ROOTPAY" "root's payroll password never reached it"
unlike "$LOGTEXT" "rootpay" "... nor root's payroll user"
is "$(rec_count 'r["client_cert"] != ""')" "0" "root's client certificate was never presented to it"
is "$(rec_count 'r["authorization"] != "" or r["proxy_authorization"] != ""')" "0" \
    "no request carried credentials of any kind"
ok $([ ! -e "$OUTFILE" ]; echo $?) "the planted output file was not written"

# --- the sender's own resume may use its own choices ---------------------------------------
expect 4 "uid $A resumes its own sso_app message: its own mapping is asked for (none), kept" \
    asA "$V" suspended resume "$ID_SSO"
like "$ERR" "client certificate $THUMB cannot be loaded: access denied: uid $A" "... with uid $A's grant (none)"
expect 2 "uid $A resumes its own password-file message: no password file is kept" asA "$V" suspended resume "$ID_PROXY"
like "$ERR" "keeps no password file: give --proxy-password-file" "... it must give it again"
is "$(rec_count 'r["authorization"] != "" or r["proxy_authorization"] != ""')" "0" "still no credentials anywhere"

done_testing
