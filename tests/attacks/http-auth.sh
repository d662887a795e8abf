#!/usr/bin/env bash
# Finding 8: credentials over plain http.  Whoever is on the path of a plain
# http:// request reads a Basic password and can crack a Digest or NTLM
# answer offline.  Against a recording listener: SSO credentials, a password
# file, Digest and proxy credentials over plain http are refused before
# anything is sent (exit 2, the message says how to allow it); with
# --allow-http-auth they are sent; a port created with it keeps it, and
# `--allow-http-auth=no` takes it back; a https URL that redirects to http
# carries nothing there (redirects are not followed).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"
. "$SOURCE_ROOT/tests/attacks/lib-sender.sh"

V=$SSOVAULT
cd "$T_TMP" || exit 1
new_vault
recorder_start
CA="$T_TMP/pki/ca.pem"
ERPPW="erp-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '{"user": "erpuser", "password": "%s"}' "$ERPPW" > creds.json
printf 'file-password-%s' "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')" > pw.txt
chmod 600 pw.txt
FILEPW=$(cat pw.txt)
"$V" app create erp --field user --field password:masked --enable --user uid:0 >/dev/null &&
"$V" mapping create erp uid:0 erpuser >/dev/null &&
"$V" creds set erp --user uid:0 --from-file creds.json >/dev/null
ok $? "set-up: app erp with root's credentials"
daemon_start --passphrase-file "$T_TMP/pass"
ok $? "ssovaultd started"
envelope m.xml
H=$REC_HTTP

# --- refused over plain http, before anything is sent ---------------------------------------
: > "$REC_LOG"
expect 2 "--sso-app over http://" "$V" send --retry-count 0 --url "$H/sso" --sso-app erp m.xml
like "$ERR" "in clear: .*--allow-http-auth" "... says the credentials would go in clear and how to allow it"
expect 2 "--user --password-file over http://" "$V" send --retry-count 0 --url "$H/file" --user u --password-file pw.txt m.xml
expect 2 "--auth digest --sso-app over http://" "$V" send --retry-count 0 --url "$H/digest" --auth digest --sso-app erp m.xml
expect 2 "--auth ntlm --sso-app over http://" "$V" send --retry-count 0 --url "$H/ntlm" --auth ntlm --sso-app erp m.xml
expect 2 "--proxy-user with an http:// proxy" "$V" send --retry-count 0 --url "$REC_HTTPS/through" --cacert "$CA" \
    --proxy "$H" --proxy-user p --proxy-password-file pw.txt m.xml
like "$ERR" "proxy password in clear: .*--allow-http-auth" "... says so for the proxy"
expect 2 "--cert over http://" "$V" send --retry-count 0 --url "$H/cert" --cert 0123456789ABCDEF0123456789ABCDEF01234567 m.xml
is "$(rec_count)" "0" "the listener saw nothing of these"
is "$("$V" --json suspended list)" "[]" "... and nothing was suspended (nothing was taken)"
expect 0 "anonymous over http:// is fine" "$V" send --retry-count 0 --url "$H/anon" m.xml
is "$(rec_count 'r["target"] == "/anon" and r["authorization"] == ""')" "1" "... it arrived, without credentials"

# --- allowed when asked ------------------------------------------------------------------------
: > "$REC_LOG"
expect 0 "--sso-app over http:// with --allow-http-auth" "$V" send --retry-count 0 --url "$H/sso" --sso-app erp --allow-http-auth m.xml
is "$(rec_count 'r["basic"] == "erpuser:'"$ERPPW"'"')" "1" "... the listener got the Basic credentials"
expect 0 "--auth digest with --allow-http-auth" "$V" send --retry-count 0 --url "$H/digest" --auth digest --sso-app erp \
    --allow-http-auth m.xml
is "$(rec_count 'r["authorization"].startswith("Digest ") and "erpuser" in r["authorization"]')" "1" \
    "... the listener got a Digest answer"
expect 0 "--password-file with --allow-http-auth" "$V" send --retry-count 0 --url "$H/file" --user u --password-file pw.txt \
    --allow-http-auth m.xml
is "$(rec_count 'r["basic"] == "u:'"$FILEPW"'"')" "1" "... the listener got u and the file's password"
expect 0 "proxy credentials with --allow-http-auth" "$V" send --retry-count 0 --url "$H/proxied" --proxy "$H" \
    --proxy-user p --proxy-password-file pw.txt --allow-http-auth m.xml

# --- ports record it --------------------------------------------------------------------------
expect 2 "port create: http:// with --sso-app, without the flag" "$V" port create plain --url "$H/port" --sso-app erp
like "$ERR" "--allow-http-auth" "... says how to allow it"
expect 0 "port create with --allow-http-auth" "$V" port create plain --url "$H/port" --sso-app erp --allow-http-auth
run "$V" --json port show plain
like "$OUT" '"allow_http_auth":true' "... the port records it"
: > "$REC_LOG"
expect 0 "send --port: the port's flag is used" "$V" send --retry-count 0 --port plain m.xml
is "$(rec_count 'r["target"] == "/port" and r["basic"] == "erpuser:'"$ERPPW"'"')" "1" "... sent with credentials"
expect 2 "send --port --allow-http-auth=no: taken back for this send" "$V" send --retry-count 0 --port plain --allow-http-auth=no m.xml
expect 2 "port update --allow-http-auth '': refused, the port would send in clear" \
    "$V" port update plain --allow-http-auth ''
is "$(rec_count)" "1" "only the allowed send arrived"

# --- redirects from https to http carry nothing -------------------------------------------------
: > "$REC_LOG"
expect 4 "a https URL that redirects (302) to http://: not followed, kept" "$V" send --retry-count 0 --url "$REC_HTTPS/to-http" \
    --cacert "$CA" --sso-app erp --retry-count 0 m.xml
like "$ERR" "HTTP 302, a redirect to $H/landing \(redirects are not followed\)" "... the reason names the target"
expect 4 "the same with a 307" "$V" send --retry-count 0 --url "$REC_HTTPS/to-http307" --cacert "$CA" --sso-app erp --retry-count 0 m.xml
is "$(rec_count 'r["listener"] == "https"')" "2" "the https listener saw the two requests"
is "$(rec_count 'r["listener"] == "http"')" "0" "the http listener saw nothing: no credentials went there"
unlike "$(grep '"listener": "http"' "$REC_LOG")" "$ERPPW" "the password never crossed plain http"

done_testing
