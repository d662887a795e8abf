# Helpers for the sender's tests; source after tests/lib.sh.
#
#   send_servers          test PKI in $T_TMP/pki, the test servers (tests/server)
#                         in $T_TMP/srv with their env exported ($SOAP_HTTPS, ...)
#   send_vault            an embedded vault with the RSA client certificate
#                         ($CLIENT_THUMBPRINT) granted to uid:0 and app 'erp'
#                         (fields user, password:masked) mapping uid:0 to alice
#   creds_set APP P USER PASSFILE   set a mapping's credentials from a password file
#   msg11 FILE [TEXT] / msg12 FILE [TEXT]   write a SOAP 1.1 / 1.2 envelope
#   count WHAT [PATTERN]  tests/server/count.sh on the access log
#   susp_ids              ids of the suspended messages, one per line
#   json_get KEY          top-level KEY of the JSON on stdin

V=$SSOVAULT
SEND_PIDS=""		# extra processes to end at exit (send_bg)

# One word for at_exit: lib.sh splits its list on spaces.
send_cleanup() {
	local p
	for p in $SEND_PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -f "$T_TMP/srv/env" ] && sh "$SOURCE_ROOT/tests/server/stop.sh" "$T_TMP/srv" >/dev/null 2>&1
	return 0
}
at_exit send_cleanup

# send_bg CMD...: run CMD in the background (output to /dev/null), ended at exit.
send_bg() {
	"$@" >/dev/null 2>&1 </dev/null &
	SEND_PIDS="$SEND_PIDS $!"
}

send_servers() {
	pki
	if ! bash "$SOURCE_ROOT/tests/server/start.sh" "$T_TMP/srv" --pki "$T_TMP/pki" \
	    >"$T_TMP/srv-start.log" 2>&1; then
		echo "Bail out! the test servers did not start: $(tail -3 "$T_TMP/srv-start.log")"
		exit 1
	fi
	set -a
	# shellcheck disable=SC1091
	. "$T_TMP/srv/env"
	set +a
}

creds_set() {	# creds_set APP PRINCIPAL EXTERNAL_USER PASSWORD_FILE
	python3 -c 'import json,sys; print(json.dumps({"user": sys.argv[1], "password": open(sys.argv[2]).read()}))' \
	    "$3" "$4" > "$T_TMP/creds.json"
	"$V" creds set "$1" --user "$2" --from-file "$T_TMP/creds.json" >/dev/null
	local rc=$?
	rm -f "$T_TMP/creds.json"
	return $rc
}

send_vault() {
	new_vault "$@"
	"$V" cert import "$CLIENT_P12" --password-file "$P12_PASSWORD_FILE" --user uid:0 >/dev/null &&
	"$V" app create erp --field user --field password:masked --enable --user uid:0 >/dev/null &&
	"$V" mapping create erp uid:0 alice >/dev/null &&
	creds_set erp uid:0 alice "$SOAP_PASSWORD_FILE"
	if [ $? -ne 0 ]; then
		echo "Bail out! could not set up the vault"
		exit 1
	fi
}

msg11() {
	printf '<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:Order xmlns:m="urn:test">%s</m:Order></soap:Body></soap:Envelope>\n' \
	    "${2:-order 1}" > "$1"
}

msg12() {
	printf '<?xml version="1.0" encoding="utf-8"?>\n<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><m:Order xmlns:m="urn:test">%s</m:Order></env:Body></env:Envelope>\n' \
	    "${2:-order 1}" > "$1"
}

count() { sh "$SOURCE_ROOT/tests/server/count.sh" "$1" "$ACCESS_LOG" ${2:+"$2"}; }

susp_ids() {
	"$V" --json suspended list | python3 -c 'import json,sys; [print(m["id"]) for m in json.load(sys.stdin)]'
}

json_get() {
	python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print(json.dumps(v) if not isinstance(v,str) else v)' "$1"
}

# The id a "NAME: suspended ID: reason" line names.
susp_id_of() { printf '%s\n' "$1" | sed -n 's/^[^ ]*: suspended \([0-9a-f]\{32\}\): .*/\1/p' | head -1; }
