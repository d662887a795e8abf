# Helpers for the attack tests of the sender and the suspended queue
# (planted.sh, http-auth.sh, queue-quota.sh); source after lib-attacks.sh.
#
#   recorder_start        tests/attacks/recorder.py on loopback with the test
#                         PKI; sets REC_HTTP, REC_HTTPS (base URLs) and REC_LOG
#   rec_count [FILTER]    requests the recorder saw (a Python expression over
#                         the entry r, e.g. 'r["basic"] != ""')
#   plant UID SETTINGS BODY   op 90 by hand as UID: "STATUS<TAB>ID|MESSAGE"
#   envelope FILE [TEXT]  a SOAP 1.1 envelope, readable by every uid

REC_PID=""

recorder_stop() {
	[ -n "$REC_PID" ] && kill "$REC_PID" 2>/dev/null && wait "$REC_PID" 2>/dev/null
	return 0
}
at_exit recorder_stop

recorder_start() {
	local i ph ps
	pki
	REC_LOG="$T_TMP/recorder.log"
	: > "$REC_LOG"
	python3 "$ATTACKS_DIR/recorder.py" "$T_TMP/rec.port" "$REC_LOG" \
	    "$T_TMP/pki/server.pem" "$T_TMP/pki/server.key" "$T_TMP/pki/ca.pem" \
	    >/dev/null 2>"$T_TMP/recorder.err" &
	REC_PID=$!
	for i in $(seq 1 50); do [ -s "$T_TMP/rec.port" ] && break; sleep 0.1; done
	if ! read -r ph ps < "$T_TMP/rec.port"; then
		echo "Bail out! the recorder did not start: $(cat "$T_TMP/recorder.err")"
		exit 1
	fi
	REC_HTTP="http://127.0.0.1:$ph"
	REC_HTTPS="https://127.0.0.1:$ps"
}

rec_count() {
	python3 -c '
import json, sys
f = sys.argv[2] if len(sys.argv) > 2 else "True"
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    n += bool(eval(f, {"r": r}))
print(n)' "$REC_LOG" "$@"
}

plant() { attack_py "$ATTACKS_DIR/plant.py" "$@"; }

envelope() {
	printf '<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:Order xmlns:m="urn:test">%s</m:Order></soap:Body></soap:Envelope>\n' \
	    "${2:-order 1}" > "$1"
	chmod 644 "$1"
}
