#!/usr/bin/env bash
# Java's SunPKCS11 provider with libssovault-pkcs11.so: the 30-line
# P11Post.java loads the module, takes the vault's certificate from the
# PKCS#11 key store (no PIN; the one given is ignored) and posts a SOAP
# message to the test server that demands a client certificate, once with
# the RSA key (TLS 1.3, RSA-PSS) and once with the EC key.
#
# Run by hand (not part of ./run-tests: a JDK costs about a minute of CI to
# install, docs/pkcs11.md), as root, after a build:
#
#   apt-get install openjdk-17-jdk-headless
#   bash tests/pkcs11/java.sh [BUILD_DIR]        # default: build
#
# Prints TAP; exits non-zero if anything failed.
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$here/build}" && pwd) || exit 1
export SOURCE_ROOT=$here BUILD_ROOT=$build SSOVAULT=$build/cli/ssovault SSOVAULTD=$build/sso/ssovaultd
M=$build/sso/pkcs11/libssovault-pkcs11.so
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/send/lib-send.sh"

command -v java >/dev/null || { echo "Bail out! no java: apt-get install openjdk-17-jdk-headless"; exit 1; }
[ -f "$M" ] || { echo "Bail out! no $M: build first"; exit 1; }
send_servers
new_vault
cd "$T_TMP" || exit 1
msg11 m11.xml
printf 'name = ssovault\nlibrary = %s\n' "$M" > p11.cfg
RSA=$("$V" cert import "$CLIENT_P12" --password-file "$P12_PASSWORD_FILE" --user uid:0)
ok $? "set-up: the RSA certificate, key not exportable"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
daemon_start --passphrase-file "$T_TMP/pass"
ok $? "ssovaultd started"
java_post() { java "$SOURCE_ROOT/tests/pkcs11/P11Post.java" p11.cfg "$SOAP_HTTPS/anon" "$CA" m11.xml; }

: > "$ACCESS_LOG"
expect 0 "SunPKCS11 posts with the RSA key" java_post
like "$OUT" "^HTTP 200" "... HTTP 200"
like "$OUT" 'clientCert="O=ssovault tests,CN=ssovault test client RSA"' "... the server saw the certificate"
is "$(audit_count "op=cert sign" outcome=ok user=rsa-pss-sha256)" "1" "... signed by the daemon (RSA-PSS, TLS 1.3)"

"$V" cert revoke "$RSA" uid:0 >/dev/null
EC=$("$V" cert import "$PKI/client-ec.p12" --password-file "$P12_PASSWORD_FILE" --user uid:0)
ok $? "now only the EC certificate may be used"
expect 0 "SunPKCS11 posts with the EC key" java_post
like "$OUT" 'clientCert="O=ssovault tests,CN=ssovault test client EC"' "... the server saw the EC certificate"
is "$(audit_count "op=cert sign" outcome=ok user=ecdsa-sha256 object="$EC")" "1" "... signed by the daemon (ECDSA)"

done_testing
