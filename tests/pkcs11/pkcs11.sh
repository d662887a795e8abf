#!/usr/bin/env bash
# libssovault-pkcs11.so with clients nobody here wrote (docs/pkcs11.md):
# OpenSC's pkcs11-tool lists, signs and verifies (and OpenSSL checks the
# signatures with the certificate alone); GnuTLS's p11tool lists and
# test-signs; curl with the OpenSSL PKCS#11 engine posts a SOAP message with
# the vault's certificate to the server that demands it; p11-kit finds the
# module through its module file.  Each caller sees only the certificates it
# was granted; no PIN is needed and any PIN is taken; keys never come out.
# p11drive keeps a session across a daemon restart, a revocation and a
# lock, and sends garbage parameters and enormous inputs.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

M=$P11MODULE
for tool in pkcs11-tool p11tool p11-kit; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool is not installed (.ci/deps.sh installs it)"
		exit 1
	fi
done
ENGINE=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')/pkcs11.so
[ -f "$ENGINE" ] || { echo "Bail out! the OpenSSL PKCS#11 engine ($ENGINE) is not installed"; exit 1; }

send_servers
new_vault
cd "$T_TMP" || exit 1
msg11 m11.xml
RSA=$("$V" cert import "$CLIENT_P12" --password-file "$P12_PASSWORD_FILE" --user uid:0 --user uid:1001) &&
EC=$("$V" cert import "$PKI/client-ec.p12" --password-file "$P12_PASSWORD_FILE" --user uid:0)
ok $? "set-up: an RSA and an EC certificate, keys not exportable; uid 1001 may use the RSA one"
rsa_id=$(printf '%s' "$RSA" | tr 'A-F' 'a-f')
ec_id=$(printf '%s' "$EC" | tr 'A-F' 'a-f')
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
daemon_start --passphrase-file "$T_TMP/pass"
ok $? "ssovaultd started, unlocked"
openssl x509 -in "$CLIENT_CERT" -noout -pubkey > rsa.pub
openssl x509 -in "$PKI/client-ec.pem" -noout -pubkey > ec.pub
printf 'a SOAP body to sign\n' > data
sign_count() { audit_count "op=cert sign" outcome=ok "$@"; }

# --- OpenSC pkcs11-tool ----------------------------------------------------------------------------
expect 0 "pkcs11-tool -L" pkcs11-tool --module "$M" -L
like "$OUT" "Slot 0 .*: ssovaultd at $SOCK" "... one slot: the daemon, by its socket"
like "$OUT" "token label +: ssovault" "... its token"
unlike "$OUT" "login required" "... no login required"
expect 0 "pkcs11-tool -O" pkcs11-tool --module "$M" -O
is "$(printf '%s\n' "$OUT" | grep -c '^Certificate Object')" "2" "... two certificates"
like "$OUT" "label: +ssovault test client RSA" "... labelled with the subject's CN"
like "$OUT" "ID: +$rsa_id" "... CKA_ID is the SHA-1 thumbprint"
like "$OUT" "Private Key Object; RSA" "... an RSA private key object"
like "$OUT" "Access: +sensitive, never extractable" "... sensitive, never extractable"
S0=$(sign_count)
expect 0 "pkcs11-tool signs SHA256-RSA-PKCS" pkcs11-tool --module "$M" --sign --id "$rsa_id" \
    -m SHA256-RSA-PKCS -i data -o sig1
run openssl dgst -sha256 -verify rsa.pub -signature sig1 data
is "$OUT" "Verified OK" "... OpenSSL verifies it with the certificate's public key"
expect 0 "pkcs11-tool verifies it" pkcs11-tool --module "$M" --verify --id "$rsa_id" -m SHA256-RSA-PKCS \
    -i data --signature-file sig1
like "$OUT" "Signature is valid" "... valid"
expect 0 "pkcs11-tool signs SHA384-RSA-PKCS-PSS" pkcs11-tool --module "$M" --sign --id "$rsa_id" \
    -m SHA384-RSA-PKCS-PSS -i data -o sig2
run openssl dgst -sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -verify rsa.pub \
    -signature sig2 data
is "$OUT" "Verified OK" "... OpenSSL verifies the PSS signature"
expect 0 "pkcs11-tool signs ECDSA-SHA256" pkcs11-tool --module "$M" --sign --id "$ec_id" -m ECDSA-SHA256 \
    -i data -o sig3 --signature-format openssl
run openssl dgst -sha256 -verify ec.pub -signature sig3 data
is "$OUT" "Verified OK" "... OpenSSL verifies the ECDSA signature"
expect 0 "pkcs11-tool verifies it" pkcs11-tool --module "$M" --verify --id "$ec_id" -m ECDSA-SHA256 \
    -i data --signature-file sig3 --signature-format openssl
expect 0 "a PIN is accepted and ignored" pkcs11-tool --module "$M" --login --pin "no PIN is needed" \
    --sign --id "$rsa_id" -m SHA256-RSA-PKCS -i data -o sig4
is "$(( $(sign_count) - S0 ))" "4" "the audit has the four signatures the daemon made"
is "$(audit_count "op=cert sign" "user=rsa-pss-sha384")" "1" "... each with its algorithm"
as_user 1001 1001 pkcs11-tool --module "$M" -O >out1001 2>&1
is "$(grep -c '^Certificate Object' out1001)" "1" "uid 1001 sees the one certificate it may use"
like "$(cat out1001)" "ID: +$rsa_id" "... the RSA one"
as_user 1002 1002 pkcs11-tool --module "$M" -O >out1002 2>&1
is "$(grep -c 'Object' out1002)" "0" "uid 1002, granted nothing, sees no object"

# --- GnuTLS p11tool ----------------------------------------------------------------------------------
expect 0 "p11tool --list-all-certs" p11tool --provider "$M" --list-all-certs
is "$(printf '%s\n' "$OUT" | grep -c 'Type: X.509 Certificate')" "2" "... two certificates"
URL_RSA="pkcs11:token=ssovault;object=ssovault%20test%20client%20RSA"
URL_EC="pkcs11:token=ssovault;object=ssovault%20test%20client%20EC"
expect 0 "p11tool --test-sign with the RSA key" p11tool --provider "$M" --test-sign "$URL_RSA;type=private"
like "$ERR" "Verifying against public key in the token... ok" "... signed and verified"
expect 0 "p11tool --test-sign with the EC key" p11tool --provider "$M" --test-sign "$URL_EC;type=private"
like "$ERR" "Signing using ECDSA-SHA256... ok" "... ECDSA"

# --- curl with the OpenSSL PKCS#11 engine -----------------------------------------------------------
cat > openssl.cnf <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $M
init = 0
EOF
: > "$ACCESS_LOG"
S0=$(sign_count)
for u in "$URL_RSA" "$URL_EC"; do
	expect 0 "curl --engine pkcs11 posts a SOAP message with ${u##*%20} from the vault" \
	    env OPENSSL_CONF="$T_TMP/openssl.cnf" curl -sS --engine pkcs11 --cert-type ENG --cert "$u;type=cert" \
	    --key-type ENG --key "$u;type=private" --cacert "$CA" -H 'Content-Type: text/xml; charset=utf-8' \
	    -H 'SOAPAction: "urn:curl"' --data-binary @m11.xml "$SOAP_HTTPS/anon"
	like "$OUT" "clientCert=\"O=ssovault tests,CN=ssovault test client ${u##*%20}\"" "... the server saw the certificate"
done
is "$(count handshakes)" "2" "two TLS handshakes"
is "$(( $(sign_count) - S0 ))" "2" "... and two signatures by the daemon"

# --- the p11-kit module file -------------------------------------------------------------------------
mkdir modules
sed "s|^module: .*|module: $M|" "$BUILD_ROOT/sso/pkcs11/ssovault.module" > modules/ssovault.module
like "$(cat modules/ssovault.module)" "^# p11-kit module configuration" "the module file was built"
# p11-kit reads its system directory only: this test's copy is mounted over it, in a mount namespace of its own
run unshare -m sh -c "mount --bind '$T_TMP/modules' \"\$(pkg-config --variable=p11_module_configs p11-kit-1 2>/dev/null || echo /usr/share/p11-kit/modules)\" &&
    p11-kit list-modules && p11tool --list-all-certs"
like "$OUT" "ssovault: $M" "p11-kit lists the module from its file"
like "$OUT" "token: ssovault" "... and its token"
like "$OUT" "Label: ssovault test client RSA" "p11tool, without --provider, finds the certificates through p11-kit"

# --- p11drive: what the module refuses ----------------------------------------------------------------
P0=$(audit_count "op=cert sign")
run "$P11DRIVE" "$M" open find "$rsa_id" \
    pss null pss short pss long pss badhash pss otherhash pss badmgf pss hugesalt pss saltover \
    param-on sha256-rsa sign rsa-x509 sign ecdsa \
    sign rsa-pkcs 246 sign rsa-pkcs 100000 sign pss 33 sign sha256-rsa 50000000 sign rsa-pkcs sign pss \
    attr private-exponent attr sensitive attr extractable create wrap \
    login "any PIN at all" login again logout close
like "$OUT" "find rv=CKR_OK found=1" "p11drive: found the RSA key"
for k in null short long badhash otherhash badmgf hugesalt saltover; do
	like "$OUT" "pss rv=CKR_MECHANISM_PARAM_INVALID $k" "PSS parameters ($k) are refused"
done
like "$OUT" "param-on rv=CKR_MECHANISM_PARAM_INVALID" "a parameter on a mechanism that takes none is refused"
like "$OUT" "sign rv=CKR_MECHANISM_INVALID rsa-x509" "raw RSA is not offered"
like "$OUT" "sign rv=CKR_KEY_TYPE_INCONSISTENT ecdsa" "ECDSA with an RSA key is refused"
like "$OUT" "sign rv=CKR_DATA_LEN_RANGE rsa-pkcs len=0" "CKM_RSA_PKCS: 246 bytes do not fit a 2048-bit key"
is "$(printf '%s\n' "$OUT" | grep -c 'sign rv=CKR_DATA_LEN_RANGE')" "3" \
    "... nor 100000; nor a 33-byte digest for PSS"
like "$OUT" "sign rv=CKR_OK sha256-rsa len=256" "50 MB hashed by the module, then signed"
like "$OUT" "sign rv=CKR_OK rsa-pkcs len=256" "a DigestInfo signed with CKM_RSA_PKCS"
like "$OUT" "sign rv=CKR_OK pss len=256" "a digest signed with CKM_RSA_PKCS_PSS"
like "$OUT" "attr rv=CKR_ATTRIBUTE_SENSITIVE private-exponent" "the private exponent is sensitive"
like "$OUT" "attr rv=CKR_OK sensitive=true" "CKA_SENSITIVE is true"
like "$OUT" "attr rv=CKR_OK extractable=false" "CKA_EXTRACTABLE is false"
like "$OUT" "create rv=CKR_FUNCTION_NOT_SUPPORTED" "nothing can be created"
like "$OUT" "wrap rv=CKR_FUNCTION_NOT_SUPPORTED" "no key can be wrapped out"
like "$OUT" "login rv=CKR_OK" "any PIN logs in"
like "$OUT" "login rv=CKR_USER_ALREADY_LOGGED_IN" "... once"
like "$OUT" "logout rv=CKR_OK" "... and out"
is "$(( $(audit_count "op=cert sign") - P0 ))" "3" \
    "the daemon saw only the three requests the module let through"

# --- a session through revocation, lock and restart --------------------------------------------------
# p11drive waits for files in a directory both it (as uid 1001) and the script may write
SIG=$T_TMP/sig
mkdir -m 1777 "$SIG"
waitfor() { local i; for i in $(seq 1 100); do [ -e "$SIG/$1" ] && return 0; sleep 0.1; done; return 1; }

as_user 1001 1001 "$P11DRIVE" "$M" open find "$rsa_id" sign sha256-rsa touch "$SIG/s1" wait "$SIG/g1" \
    sign sha256-rsa close open objects >drive.out 2>&1 &
DP=$!
waitfor s1 && "$V" cert revoke "$RSA" uid:1001 >/dev/null && touch "$SIG/g1"
wait $DP
like "$(cat drive.out)" "sign rv=CKR_OK sha256-rsa" "uid 1001 signs"
like "$(cat drive.out)" "sign rv=CKR_KEY_FUNCTION_NOT_PERMITTED sha256-rsa" "... revoked, the next C_Sign is refused"
like "$(cat drive.out)" "objects rv=CKR_OK count=0" "... and the next session shows nothing"
is "$(audit_count "op=cert sign" uid=1001 "outcome=access denied")" "1" "the refused signature is audited"

rm -f "$SIG"/*
"$P11DRIVE" "$M" open find "$rsa_id" sign sha256-rsa touch "$SIG/s1" wait "$SIG/g1" \
    sign sha256-rsa touch "$SIG/s2" wait "$SIG/g2" sign sha256-rsa touch "$SIG/s3" wait "$SIG/g3" \
    close open find "$rsa_id" sign sha256-rsa >drive.out 2>&1 &
DP=$!
waitfor s1 && "$V" lock >/dev/null && touch "$SIG/g1"
waitfor s2 && daemon_stop && touch "$SIG/g2"
waitfor s3 && daemon_start --passphrase-file "$T_TMP/pass"
ok $? "the daemon restarted"
touch "$SIG/g3"
wait $DP
run cat drive.out
is "$(printf '%s\n' "$OUT" | grep '^sign' | sed 's/ len=.*//' | tr '\n' ' ')" \
    "sign rv=CKR_OK sha256-rsa sign rv=CKR_DEVICE_ERROR sha256-rsa sign rv=CKR_DEVICE_REMOVED sha256-rsa sign rv=CKR_OK sha256-rsa " \
    "a session: signs; locked vault: C_Sign fails; daemon stopped: fails; a new session after the restart works"
expect 6 "and the command line says the same of a locked vault" sh -c "'$V' lock && '$V' cert sign '$RSA' --in data"

done_testing
