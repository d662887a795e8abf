#!/usr/bin/env bash
# The keys that stay in ssovaultd, attacked by local users (docs/SECURITY.md
# row 15; docs/certificates.md): a user with no grant signs (exit 5,
# audited, repeats counted); a granted user asks for the key itself, or to
# make it exportable again; garbage `cert sign`, `cert usable` and `cert
# update` requests and 60 MiB to sign each get one clear error and the daemon
# lives on; clients that vanish before the reply and senders killed in the
# middle of their TLS handshakes leave it well; a revoked grant holds at the
# next handshake; a locked vault signs nothing (exit 6).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

USR=5620	# may use the certificate
EVIL=5621	# may not
send_servers
new_vault --key-file "$T_TMP/key"
cd "$T_TMP" || exit 1
RSA=$("$V" cert import "$CLIENT_P12" --password-file "$P12_PASSWORD_FILE" --user uid:$USR)
ok $? "set-up: a certificate whose key is not exportable, for uid $USR"
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts"
printf 'data\n' > data && chmod 644 data
msg11 m11.xml && chmod 644 m11.xml
as() { local u=$1; shift; as_user "$u" "$u" "$@"; }
TLS=(--cacert "$CA" --cert "$RSA")

# --- no grant, no signature --------------------------------------------------------------------
expect 5 "uid $EVIL signs with a certificate it was not granted" as $EVIL "$V" cert sign "$RSA" \
    --alg rsa-pkcs1-sha256 --in data
like "$ERR" "access denied: uid $EVIL is not a user of certificate $RSA" "... told which grant it lacks"
expect 5 "uid $EVIL asks for the key" as $EVIL "$V" cert export "$RSA" --key
expect 4 "uid $EVIL sends with it: kept in its own queue, nothing signed" as $EVIL "$V" send \
    --url "$SOAP_HTTPS/anon" "${TLS[@]}" m11.xml
run attack_py "$ATTACKS_DIR/sign.py" $EVIL deny "$RSA" 100
is "$OUT" "statuses -12" "uid $EVIL: 100 signatures asked for on one connection, 100 refusals"
is "$(audit_count "op=cert sign" outcome=ok uid=$EVIL)" "0" "... none of them signed"

# --- the granted user gets signatures, never the key -------------------------------------------
expect 0 "uid $USR signs" as $USR "$V" cert sign "$RSA" --in data
expect 5 "uid $USR asks for the key itself" as $USR "$V" cert export "$RSA" --key
like "$ERR" "is not exportable" "... the key is not exportable"
is "$OUT" "" "... nothing printed"
expect 5 "uid $USR may not change the key's setting" as $USR "$V" cert update "$RSA" --non-exportable
expect 5 "nor may uid $EVIL" as $EVIL "$V" cert update "$RSA" --non-exportable
run attack_py -c "
import os, sys
from ssowire import call, OP, s, u8
st, msg, _ = call(os.environ['SOCK'], OP['cert update'], s(sys.argv[1]), u8(1))
print(st, msg)" "$RSA"
like "$OUT" "^-6 .*for good" "not even the vault admin makes it exportable again (CONFLICT)"

# --- garbage and enormous requests ------------------------------------------------------------
RSS0=$(daemon_rss_kb)
run attack_py "$ATTACKS_DIR/sign.py" $USR garbage "$RSA"
while IFS='|' read -r name st text; do
	like "$OUT" "^$name $st .*$text" "garbage: $name gets its error ($st $text)"
done <<'EOF'
truncated-after-scheme|-17|malformed signature request
scheme-200|-3|unknown signature scheme 200
hash-99|-3|unknown hash algorithm 99
kind-7|-3|input kind 7
mgf-on-pkcs1|-3|are for RSA-PSS only
salt-4g|-3|does not fit a 2048-bit key
pss-no-hash|-3|RSA-PSS needs a hash
digest-33|-3|a sha256 digest is 32 bytes, not 33
raw-pkcs1-300|-3|signs 1 to 245 bytes
string-past-end|-17|malformed signature request
trailing|-19|trailing bytes
usable-bad-thumb|-3|expected 40 hexadecimal digits
usable-truncated|-17|
update-2|-12|access denied
update-truncated|-12|access denied
still-answering|0|ok
EOF
run attack_py "$ATTACKS_DIR/sign.py" $USR huge "$RSA"
like "$OUT" "^huge -18 more than 1048576 bytes of data to sign: hash it and sign the digest" \
    "60 MiB of data to sign: TOO_LARGE, with what to do instead"
expect 0 "the daemon answers after all that" "$V" status
RSS1=$(daemon_rss_kb)
ok $([ $((RSS1 - RSS0)) -lt 32768 ]; echo $?) "... and has not kept the 60 MiB (RSS $RSS0 -> $RSS1 KiB)"

# --- clients that vanish ---------------------------------------------------------------------------
FD0=$(daemon_fds)
S0=$(audit_count "op=cert sign" outcome=ok uid=$USR)
run attack_py "$ATTACKS_DIR/sign.py" $USR vanish "$RSA" 40
is "$OUT" "sent 40" "40 signature requests whose clients left before the reply"
run attack_py "$ATTACKS_DIR/sign.py" $USR half "$RSA" 40
is "$OUT" "sent 40" "40 clients that left in the middle of their request"
: > "$ACCESS_LOG"
# not through as: a function in the background is a subshell, and $! would be its pid;
# the server holds each answer a second, so every sender is alive when its kill comes
# (before, during or after its handshake)
killed=0
for i in $(seq 1 12); do
	setpriv --reuid=$USR --regid=$USR --groups=$USR -- "$V" send --url "$SOAP_HTTPS/anon/slow/1" "${TLS[@]}" \
	    m11.xml >/dev/null 2>&1 &
	p=$!
	sleep "0.0$((i % 10))"
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	[ $? -eq 137 ] && killed=$((killed + 1))
done
is "$killed" "12" "12 senders killed (kill -9) 0 to 90 ms into their send, around their TLS handshake"
sleep 1
expect 0 "the daemon answers" "$V" status
is "$(daemon_fds)" "$FD0" "... with no connection left behind"
S1=$(audit_count "op=cert sign" outcome=ok uid=$USR)
ok $([ "$S1" -ge $((S0 + 40)) ]; echo $?) "... every signature it made is audited ($((S1 - S0)))"
expect 0 "uid $USR still sends" as $USR "$V" send --url "$SOAP_HTTPS/anon" "${TLS[@]}" m11.xml
expect 0 "the audit trail verifies" "$V" audit verify

# --- revocation and lock -----------------------------------------------------------------------------
expect 0 "the admin revokes uid $USR's grant" "$V" cert revoke "$RSA" uid:$USR
expect 4 "uid $USR's next send: no handshake with the key, the message kept" as $USR "$V" send \
    --url "$SOAP_HTTPS/anon" "${TLS[@]}" m11.xml
like "$ERR" "access denied: uid $USR is not a user of certificate" "... saying why"
expect 5 "uid $USR's next signature is refused" as $USR "$V" cert sign "$RSA" --in data
"$V" cert grant "$RSA" uid:$USR >/dev/null
expect 0 "granted again, it signs" as $USR "$V" cert sign "$RSA" --in data
expect 0 "the admin locks the vault" "$V" lock
expect 6 "a locked vault signs nothing" as $USR "$V" cert sign "$RSA" --in data
like "$ERR" "locked" "... says it is locked"
expect 6 "a send with the key fails (exit 6), nothing lost" as $USR "$V" send --url "$SOAP_HTTPS/anon" "${TLS[@]}" m11.xml

# --- every refusal is on record, repeats counted ------------------------------------------------------
daemon_stop
ok $? "ssovaultd stops, writing the counts it holds"
daemon_start --key-file "$T_TMP/key"
ok $? "and starts again"
is "$(audit_sum uid=$EVIL "op=cert sign" "outcome=access denied")" "101" \
    "uid $EVIL's 101 refused signatures are all counted"
ok $([ "$(audit_count uid=$EVIL "op=cert sign")" -le 3 ]; echo $?) "... in a few records"

done_testing
