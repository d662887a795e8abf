#!/usr/bin/env bash
# Finding 2 (the suspended queue): one uid must not fill the vault with
# suspended messages and lock everyone out.  On a 64 MiB vault (so that the
# default quota, a quarter of it, is 16 MiB) uid A suspends 3 MiB messages
# until the quota stops it: the send fails (exit 1) with a message that
# names the limit, what A holds and what to do, and the message file stays
# as it was.  Another uid still suspends; the admin raises the limit and A
# suspends again; a count limit stops a uid at N messages; N concurrent adds
# from one uid cannot overshoot; a non-admin cannot change the limits and
# sees only its own usage; terminating releases the space.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"
. "$SOURCE_ROOT/tests/attacks/lib-sender.sh"

V=$SSOVAULT
A=5201
B=5202
C=5203
asA() { as_user $A $A "$@"; }
asB() { as_user $B $B "$@"; }
MiB=1048576
cd "$T_TMP" || exit 1
new_vault
export SSOVAULT_MAP_SIZE=64M
daemon_start --passphrase-file "$T_TMP/pass"
ok $? "ssovaultd started on a vault with a 64 MiB map"
unset SSOVAULT_MAP_SIZE

# big FILE TEXT: a 3 MiB SOAP envelope, readable by everyone
big() {
	python3 -c '
import sys
pad = "x" * (3 * 1024 * 1024 - 300)
open(sys.argv[1], "w").write("<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><m:Order xmlns:m=\"urn:test\">%s %s</m:Order></soap:Body></soap:Envelope>" % (sys.argv[2], pad))' "$1" "$2"
	chmod 644 "$1"
}
for i in 1 2 3 4 5 6 7; do big "a$i.xml" "a$i"; done
big b1.xml b1
envelope small.xml
DEAD=(--url http://127.0.0.1:1/ --retry-count 0)
usage_of() {	# usage_of UID FIELD: from root's (an admin's) suspended limits --json
	"$V" --json suspended limits | python3 -c '
import json, sys
u = [e for e in json.load(sys.stdin)["usage"] if e["uid"] == int(sys.argv[1])]
print(u[0][sys.argv[2]] if u else 0)' "$1" "$2" 2>/dev/null || echo "(no usage)"
}

# --- the default: a quarter of the vault ------------------------------------------------------
expect 0 "suspended limits --json" "$V" --json suspended limits
VS=$(printf '%s' "$OUT" | json_get vault_size)
is "$VS" "$((64 * MiB))" "the vault's size is the 64 MiB map"
is "$(printf '%s' "$OUT" | json_get max_size)" "$((VS / 4))" "the default size limit is a quarter of it"
is "$(printf '%s' "$OUT" | json_get max_size_default)" "true" "... and says it is the default"
is "$(printf '%s' "$OUT" | json_get max_count)" "1000" "the default count limit is 1000"

# --- uid A fills its share ---------------------------------------------------------------------
SUM=$(sha256sum < a6.xml)
expect 1 "uid $A suspends six 3 MiB messages: the sixth does not fit" \
    asA "$V" send "${DEAD[@]}" a1.xml a2.xml a3.xml a4.xml a5.xml a6.xml
like "$ERR" "6 messages: 0 delivered, 0 faults, 5 suspended, 0 not sent, 1 failed" "... five kept, one failed"
like "$ERR" "a6.xml: failed: .*it could not be suspended: the suspended queue keeps at most 16.0 MiB per uid: uid $A holds 15\.[0-9] MiB in 5 messages" \
    "... the error names the limit and what uid $A holds"
like "$ERR" "resume or terminate some, or ask a vault admin to raise --max-size \('ssovault suspended limits'\)" \
    "... and what to do"
is "$(sha256sum < a6.xml)" "$SUM" "... the message file is still there, unchanged"
is "$(usage_of $A count)" "5" "uid $A holds 5 messages"
AS=$(usage_of $A size)
ok $([ "$AS" -le $((VS / 4)) ] 2>/dev/null && [ "$((AS + 3 * MiB))" -gt $((VS / 4)) ]; echo $?) \
    "... as much of its quota as 3 MiB messages fill"
expect 1 "uid $A once more: refused again" asA "$V" send "${DEAD[@]}" a7.xml
is "$(usage_of $A count)" "5" "... still 5"

# --- others are not locked out --------------------------------------------------------------------
expect 4 "uid $B still suspends a 3 MiB message" asB "$V" send "${DEAD[@]}" b1.xml
expect 0 "root still writes to the vault" "$V" app create after-flood --field user
run asA "$V" --json suspended limits
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print([e["uid"] for e in json.load(sys.stdin)["usage"]])')" \
    "[$A]" "uid $A sees its own usage only"
expect 5 "uid $A cannot raise its limit" asA "$V" suspended limits --max-size 1G
like "$ERR" "access denied: .* is not a vault admin" "... access denied"

# --- the admin raises the limit; it applies at once -------------------------------------------
expect 0 "root raises --max-size to 32M" "$V" suspended limits --max-size 32M
like "$OUT" "max-size +32.0 MiB per uid$" "... and it shows"
expect 4 "uid $A suspends again" asA "$V" send "${DEAD[@]}" a6.xml
is "$(usage_of $A count)" "6" "... 6 messages now"
expect 0 "root sets it back to the default" "$V" suspended limits --max-size default
like "$OUT" "max-size +16.0 MiB per uid \(default" "... the default again"

# --- a count limit --------------------------------------------------------------------------------
expect 0 "root sets --max-count 2" "$V" suspended limits --max-count 2
expect 4 "uid $B: a second message fits" asB "$V" send "${DEAD[@]}" small.xml
expect 1 "uid $B: a third does not" asB "$V" send "${DEAD[@]}" small.xml
like "$ERR" "keeps at most 2 messages per uid and uid $B holds 2: .*--max-count" "... names --max-count"

# --- concurrent adds cannot overshoot --------------------------------------------------------------
RES=$(attack_py - "$C" "$T_TMP/small.xml" <<'EOF'
import os, sys, threading
from ssowire import OP, as_uid, call, s, u32
uid, body = int(sys.argv[1]), open(sys.argv[2], "rb").read()
if os.fork() == 0:
    as_uid(uid)
    out = []
    def add():
        try:
            st, _, _ = call(os.environ["SOCK"], OP["suspended add"],
                            s('{"url": "http://127.0.0.1:1/"}'), s(body), s("concurrent"), u32(1))
        except OSError:
            st = -1
        out.append(st)
    ts = [threading.Thread(target=add) for _ in range(6)]
    for t in ts: t.start()
    for t in ts: t.join()
    print(sum(1 for st in out if st == 0), len(out))
    sys.stdout.flush()
    os._exit(0)
os.wait()
EOF
)
is "$RES" "2 6" "6 concurrent adds by uid $C: exactly 2 taken"
is "$(usage_of $C count)" "2" "... the usage says 2"
is "$("$V" --json suspended list | python3 -c 'import json,sys; print(sum(1 for m in json.load(sys.stdin) if m["sender"] == "uid:'$C'"))')" \
    "2" "... and the queue holds 2 of uid $C's"

# --- terminating releases ---------------------------------------------------------------------------
ID=$("$V" --json suspended list | python3 -c 'import json,sys; print([m["id"] for m in json.load(sys.stdin) if m["sender"] == "uid:'$B'"][0])')
before=$(usage_of $B size)
expect 0 "root terminates one of uid $B's messages" "$V" suspended terminate "$ID"
is "$(usage_of $B count)" "1" "uid $B holds one message less"
ok $([ "$(usage_of $B size)" -lt "$before" ] 2>/dev/null; echo $?) "... and fewer bytes"
expect 4 "uid $B may suspend again" asB "$V" send "${DEAD[@]}" small.xml

done_testing
