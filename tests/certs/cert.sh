#!/usr/bin/env bash
# Certificates through the command line, in embedded mode: import in every
# form tests/pki.sh makes, each refusal with its exit code and message and the
# vault unchanged after it, thumbprints as people paste them, show, export,
# grant and revoke, delete, and a scan of the vault file for key bytes.
. "$SOURCE_ROOT/tests/lib.sh"

new_vault
pki
P=$T_TMP/pki
V=$SSOVAULT
RSA=$(cat "$P/client-rsa.sha1")
EC=$(cat "$P/client-ec.sha1")
EXP=$(cat "$P/expired.sha1")

# the listing, to compare before and after a refusal
snapshot() { "$V" --json cert list 2>&1; }

# --- imports -----------------------------------------------------------------

expect 0 "import PKCS#12 RSA" "$V" cert import "$P/client-rsa.p12" --password-file "$P/p12.pass" --user user:nobody
is "$OUT" "$RSA" "PKCS#12 RSA: prints the SHA-1 thumbprint, and only that"
expect 0 "import PKCS#12 EC" "$V" cert import "$P/client-ec.p12" --password-file "$P/p12.pass"
is "$OUT" "$EC" "PKCS#12 EC: the thumbprint openssl gives"
if [ -f "$P/client-rsa-legacy.p12" ]; then
	"$V" --vault "$T_TMP/legacy-vault" init --kdf-limits interactive --passphrase-file "$T_TMP/pass" >/dev/null
	expect 0 "import a legacy PKCS#12 (RC2-40 and 3DES, as older Windows exports it)" \
	    "$V" --vault "$T_TMP/legacy-vault" cert import "$P/client-rsa-legacy.p12" --password-file "$P/p12.pass"
	is "$OUT" "$(cat "$P/client-rsa.sha1")" "... stores the certificate, under its thumbprint"
	like "$ERR" "warning: .*client-rsa-legacy.p12 used weak encryption .*legacy provider for this import only" \
	    "... with a note that the file used weak encryption"
else
	ok 1 "# SKIP the openssl command here cannot make a legacy PKCS#12"
fi
run "$V" --json cert list
like "$OUT" "\"thumbprint\": ?\"$EC\"" "list --json has the EC certificate"
like "$OUT" "\"key_type\": ?\"EC " "list --json: EC key type"

S=$(snapshot)
expect 1 "the same certificate again" "$V" cert import "$P/client-rsa.p12" --password-file "$P/p12.pass"
like "$ERR" "^ssovault: cert import .*: certificate $RSA is already imported" "... says it is already imported"
is "$(snapshot)" "$S" "... list unchanged"

expect 1 "PEM with a key that does not match" "$V" cert import "$P/client-rsa.pem" --key "$P/other.key"
like "$ERR" "private key does not match the certificate" "... says the key does not match"
is "$(snapshot)" "$S" "... list unchanged"

secret_file "$T_TMP/wrong.pass" 'not the password'
expect 1 "PKCS#12 with the wrong password" "$V" cert import "$P/expired.p12" --password-file "$T_TMP/wrong.pass"
like "$ERR" "wrong PKCS#12 password" "... says wrong PKCS#12 password"
is "$(snapshot)" "$S" "... list unchanged"

expect 1 "PKCS#12 with no password and no terminal" "$V" cert import "$P/expired.p12" </dev/null
like "$ERR" "needs a password: give it with --password-file FILE" "... says how to give it"
is "$(snapshot)" "$S" "... list unchanged"

head -c 3000 /dev/urandom > "$T_TMP/garbage"
printf 'G' | cat - "$T_TMP/garbage" > "$T_TMP/garbage.p12"
expect 1 "a garbage file" "$V" cert import "$T_TMP/garbage.p12"
like "$ERR" "not a PKCS#12 or PEM certificate file" "... says what it is not"
is "$(snapshot)" "$S" "... list unchanged"

: > "$T_TMP/empty.pem"
expect 1 "an empty file" "$V" cert import "$T_TMP/empty.pem"
like "$ERR" "empty file" "... says empty file"
is "$(snapshot)" "$S" "... list unchanged"

expect 1 "a missing file" "$V" cert import "$T_TMP/nosuch.p12"
is "$(snapshot)" "$S" "... list unchanged"

expect 1 "a certificate without its key" "$V" cert import "$P/ca.pem"
like "$ERR" "no private key found" "... says no private key"
is "$(snapshot)" "$S" "... list unchanged"

expect 1 "an invalid --user" "$V" cert import "$P/expired.p12" --password-file "$P/p12.pass" --user nobody
like "$ERR" "invalid principal" "... says invalid principal"
is "$(snapshot)" "$S" "... list unchanged"

expect 2 "import without a file is a usage error" "$V" cert import

# PEM + key, and a chain, of the RSA certificate
expect 0 "delete the RSA certificate" "$V" cert delete "$RSA"
expect 0 "import PEM with --key" "$V" cert import "$P/client-rsa.pem" --key "$P/client-rsa.key"
is "$OUT" "$RSA" "PEM + key: the same thumbprint"
run "$V" cert export "$RSA"
is "$(printf '%s\n' "$OUT" | grep -c 'BEGIN CERTIFICATE')" 1 "PEM alone: a chain of one"
expect 0 "delete it again" "$V" cert delete "$RSA"
expect 0 "import a chain file with --key" "$V" cert import "$P/client-chain.pem" --key "$P/client-rsa.key" --user user:nobody --user group:root
is "$OUT" "$RSA" "chain: the leaf's thumbprint"
run "$V" cert export "$RSA"
is "$(printf '%s\n' "$OUT" | grep -c 'BEGIN CERTIFICATE')" 2 "chain: export gives leaf and CA"
unlike "$OUT" "PRIVATE KEY" "export never carries the key"
fp=$(printf '%s\n' "$OUT" | openssl x509 -noout -fingerprint -sha1 | sed 's/^[^=]*=//; s/://g')
is "$fp" "$RSA" "export: openssl x509 parses it, same fingerprint"
expect 0 "export --out FILE" "$V" cert export "$RSA" --out "$T_TMP/out.pem"
fp=$(openssl x509 -in "$T_TMP/out.pem" -noout -fingerprint -sha1 | sed 's/^[^=]*=//; s/://g')
is "$fp" "$RSA" "export --out: the file holds the certificate"
expect 1 "export --out refuses to overwrite" "$V" cert export "$RSA" --out "$T_TMP/out.pem"

run "$V" --json cert import "$P/expired.p12" --password-file "$P/p12.pass"
is "$OUT" "{\"thumbprint\": \"$EXP\"}" "import --json prints {\"thumbprint\": ...}"
expect 0 "import a not-yet-valid PEM + key" "$V" cert import "$P/notyet.pem" --key "$P/notyet.key"
NOTYET=$OUT

# --- listing and showing -------------------------------------------------------

run "$V" cert list
like "$OUT" "^THUMBPRINT +SUBJECT +NOT AFTER +STATUS +KEY +USERS" "list: a table with a header"
like "$OUT" "$RSA +O=ssovault tests,CN=ssovault test client RSA +[0-9]{4}-[0-9]{2}-[0-9]{2} +valid +not exportable +user:nobody, group:root" "list: the RSA row"
like "$OUT" "$EXP .* 2020-01-02 +EXPIRED" "list: the expired row"
like "$OUT" "$NOTYET .* NOT YET VALID" "list: the not-yet-valid row"
is "$(printf '%s\n' "$OUT" | wc -l)" 5 "list: four certificates and the header"

run "$V" cert show "$EXP"
like "$OUT" "^\*\*\* EXPIRED on 2020-01-02T00:00:00Z" "show: flags EXPIRED first thing"
like "$OUT" "Status: +EXPIRED" "show: status EXPIRED"
run "$V" cert show "$NOTYET"
like "$OUT" "^\*\*\* NOT YET VALID: usable from 2099-01-01" "show: flags NOT YET VALID"
run "$V" cert show "$RSA"
unlike "$OUT" "\*\*\*" "show: a valid certificate is not flagged"
like "$OUT" "Subject: +O=ssovault tests,CN=ssovault test client RSA" "show: subject"
like "$OUT" "Users: +user:nobody, group:root" "show: users"
run "$V" --json cert show "$RSA"
like "$OUT" "\"status\": ?\"valid\"" "show --json: status"

# --- thumbprints as people paste them ----------------------------------------

lower=$(printf '%s' "$RSA" | tr 'A-F' 'a-f')
colons=$(printf '%s' "$RSA" | sed 's/../&:/g; s/:$//')
spaces=$(printf '%s' "$RSA" | sed 's/../& /g; s/ $//')
lrm=$(printf '\342\200\216%s' "$RSA")
nbsp=$(printf '%s' "$RSA" | sed 's/......../&\xc2\xa0/g')
bom=$(printf '\357\273\277%s\342\200\217' "$lower")
sha256=$(openssl x509 -in "$P/client-rsa.pem" -noout -fingerprint -sha256 | sed 's/^[^=]*=//')
for t in lower colons spaces lrm nbsp bom sha256; do
	run "$V" --json cert show "${!t}"
	[ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q "\"thumbprint\": \?\"$RSA\""
	ok $? "thumbprint written with $t finds the certificate"
done
expect 0 "export by a pasted thumbprint (U+200E first)" "$V" cert export "$lrm"

for t in "${RSA:0:39}" "${RSA}0" "${RSA:0:39}G" "0x$RSA"; do
	expect 1 "a malformed thumbprint (${#t} bytes)" "$V" cert show "$t"
	like "$ERR" "^ssovault: cert show: expected 40 hexadecimal digits, not '$t'$" "... expected 40 hexadecimal digits, and what was read"
done
expect 1 "a malformed thumbprint with a zero-width space" "$V" cert show "$(printf '%s\342\200\213' "$RSA")"
like "$ERR" "^ssovault: cert show: expected 40 hexadecimal digits$" "... not echoed: only short printable text is said back"
fp=$(openssl x509 -in "$P/client-rsa.pem" -noout -fingerprint -sha1)
like "$fp" "^(sha1|SHA1) Fingerprint=" "openssl prints 'sha1 Fingerprint=...'"
expect 0 "the whole line openssl x509 -fingerprint prints, pasted" "$V" cert show "$fp"
expect 1 "an unknown thumbprint" "$V" cert show 0000000000000000000000000000000000000000
like "$ERR" "no certificate with thumbprint 0{40}" "... says no certificate with that thumbprint"

# --- grant and revoke ------------------------------------------------------------

expect 0 "grant" "$V" cert grant "$lower" user:root
run "$V" --json cert show "$RSA"
like "$OUT" "\"users\": ?\[\"user:nobody\", ?\"group:root\", ?\"user:root\"\]" "grant: the user is added"
expect 1 "grant twice" "$V" cert grant "$RSA" user:root
like "$ERR" "user:root is already a user of certificate $RSA" "... says already a user"
expect 0 "revoke" "$V" cert revoke "$colons" group:root
run "$V" --json cert show "$RSA"
like "$OUT" "\"users\": ?\[\"user:nobody\", ?\"user:root\"\]" "revoke: the group is gone"
expect 1 "revoke a non-user" "$V" cert revoke "$RSA" group:root
like "$ERR" "group:root is not a user of certificate $RSA" "... says not a user"
expect 1 "grant an invalid principal" "$V" cert grant "$RSA" root
expect 2 "grant without a principal is a usage error" "$V" cert grant "$RSA"

# --- delete ---------------------------------------------------------------------------

expect 0 "delete by SHA-256 thumbprint" "$V" cert delete "$sha256"
expect 1 "show after delete" "$V" cert show "$RSA"
like "$ERR" "no certificate with thumbprint $RSA" "... not found"
expect 1 "delete twice" "$V" cert delete "$RSA"
run "$V" cert list
unlike "$OUT" "$RSA" "list: the deleted certificate is gone"
is "$(printf '%s\n' "$OUT" | wc -l)" 4 "list: three left"

# --- the password asked for on a terminal ------------------------------------
# A pty (python3 comes with meson): wait for the prompt and for echo to be off,
# then type the password; print what the command printed, exit as it did.

on_tty() {	# on_tty PASSWORD-FILE CMD...
	python3 - "$@" <<'EOF'
import os, pty, sys, termios, time
pwfile, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
buf = b''
while b'Password' not in buf:
    try:
        d = os.read(fd, 1024)
    except OSError:
        d = b''
    if not d:
        break
    buf += d
for _ in range(500):
    if not termios.tcgetattr(fd)[3] & termios.ECHO:
        break
    time.sleep(0.01)
with open(pwfile, 'rb') as f:
    os.write(fd, f.read() + b'\n')
out = b''
while True:
    try:
        d = os.read(fd, 1024)
    except OSError:
        d = b''
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors='replace').replace('\r', ''))
sys.exit(os.waitstatus_to_exitcode(st))
EOF
}

ROGUE=$(openssl x509 -in "$P/rogue-client.pem" -noout -fingerprint -sha1 | sed 's/^[^=]*=//; s/://g')
S=$(snapshot)
expect 1 "PKCS#12 on a terminal, wrong password typed" on_tty "$T_TMP/wrong.pass" "$V" cert import "$P/rogue-client.p12"
like "$OUT" "wrong PKCS#12 password" "... says wrong PKCS#12 password"
is "$(snapshot)" "$S" "... list unchanged"
expect 0 "PKCS#12 on a terminal, password asked for without echo" on_tty "$P/p12.pass" "$V" cert import "$P/rogue-client.p12"
like "$OUT" "^$ROGUE\$" "... prints the thumbprint on its own line"
unlike "$OUT" "$(cat "$P/p12.pass")" "... the password was not echoed"

# --- exportable keys or not, and signing with them ------------------------------

expect 0 "delete the EC certificate, to import it again" "$V" cert delete "$EC"
expect 0 "import with --exportable" "$V" cert import "$P/client-ec.p12" --password-file "$P/p12.pass" \
    --exportable --user group:root
run "$V" cert show "$EC"
like "$OUT" "Key: +EC prime256v1, EXPORTABLE" "show: says the key is exportable"
run "$V" --json cert show "$EC"
like "$OUT" "\"exportable\": ?true" "show --json: exportable true"
expect 0 "export --key of an exportable key, to a file" "$V" cert export "$EC" --key --out "$T_TMP/ec-both.pem"
is "$(stat -c %a "$T_TMP/ec-both.pem")" "600" "... the file is 0600"
is "$(openssl x509 -in "$T_TMP/ec-both.pem" -noout -pubkey)" "$(openssl pkey -in "$T_TMP/ec-both.pem" -pubout 2>/dev/null)" \
    "... holds the certificate and the key that goes with it"
expect 2 "export --key --json is a usage error" "$V" --json cert export "$EC" --key
expect 0 "update --non-exportable" "$V" cert update "$EC" --non-exportable
like "$OUT" "now non-exportable" "... says so"
run "$V" cert show "$EC"
like "$OUT" "Key: +EC prime256v1, non-exportable" "show: now non-exportable"
expect 5 "export --key of a non-exportable key: refused" "$V" cert export "$EC" --key
like "$ERR" "^ssovault: cert export: access denied: the private key of certificate $EC is not exportable" "... says why"
is "$OUT" "" "... and prints nothing"
expect 0 "export without --key still gives the chain" "$V" cert export "$EC"
like "$OUT" "BEGIN CERTIFICATE" "... the certificate"
unlike "$OUT" "PRIVATE" "... and no key"
expect 1 "update --non-exportable twice" "$V" cert update "$EC" --non-exportable
like "$ERR" "already non-exportable" "... says so"
expect 2 "update without --non-exportable: nothing to change" "$V" cert update "$EC"

printf 'the data to sign\n' > "$T_TMP/data"
openssl x509 -in "$P/client-ec.pem" -noout -pubkey > "$T_TMP/ec.pub"
expect 0 "sign: ecdsa-sha256 (the default for an EC key), raw to a file" "$V" cert sign "$EC" --in "$T_TMP/data" --out "$T_TMP/sig"
run openssl dgst -sha256 -verify "$T_TMP/ec.pub" -signature "$T_TMP/sig" "$T_TMP/data"
is "$OUT" "Verified OK" "... openssl verifies it with the certificate's public key"
expect 0 "sign: base64 on standard output" "$V" cert sign "$EC" --in "$T_TMP/data"
printf '%s' "$OUT" | base64 -d > "$T_TMP/sig.b64"
run openssl dgst -sha256 -verify "$T_TMP/ec.pub" -signature "$T_TMP/sig.b64" "$T_TMP/data"
is "$OUT" "Verified OK" "... and that verifies too"
dg=$(openssl dgst -sha384 -binary "$T_TMP/data" | od -An -v -tx1 | tr -d ' \n')
expect 0 "sign: a digest given in hex (ecdsa-sha384)" "$V" cert sign "$EC" --alg ecdsa-sha384 --digest "$dg" --out "$T_TMP/sig384"
run openssl dgst -sha384 -verify "$T_TMP/ec.pub" -signature "$T_TMP/sig384" "$T_TMP/data"
is "$OUT" "Verified OK" "... verifies"
run "$V" --json cert sign "$EC" --in "$T_TMP/data"
like "$OUT" "^\{\"thumbprint\": ?\"$EC\", ?\"signature\": ?\"[A-Za-z0-9+/=]+\"\}$" "sign --json: thumbprint and base64 signature"
expect 2 "sign: an unknown --alg" "$V" cert sign "$EC" --alg ecdsa-md5 --in "$T_TMP/data"
expect 2 "sign: neither --in nor --digest" "$V" cert sign "$EC"
expect 2 "sign: --digest that is not hex" "$V" cert sign "$EC" --digest xyz
expect 1 "sign: an RSA scheme on an EC key" "$V" cert sign "$EC" --alg rsa-pss-sha256 --in "$T_TMP/data"
like "$ERR" "has an EC key: sign with ecdsa" "... says which to use"
expect 1 "sign: a digest of the wrong length" "$V" cert sign "$EC" --digest "${dg:0:40}"
like "$ERR" "a sha256 digest is 32 bytes, not 20" "... says so"
head -c 1048577 /dev/zero > "$T_TMP/big"
expect 1 "sign: more than 1 MiB of data" "$V" cert sign "$EC" --in "$T_TMP/big"
like "$ERR" "more than 1048576 bytes of data to sign: hash it and sign the digest" "... says what to do"
expect 5 "sign with a certificate the caller is not a user of" "$V" cert sign "$ROGUE" --in "$T_TMP/data"
like "$ERR" "access denied: uid 0.* is not a user of certificate $ROGUE" "... names the missing grant"
expect 0 "grant the expired certificate" "$V" cert grant "$EXP" group:root
expect 1 "sign with an expired certificate" "$V" cert sign "$EXP" --in "$T_TMP/data"
like "$ERR" "expired on 2020-01-02" "... says when it expired"
run "$V" --json audit list
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["op"] == "cert sign" and r["outcome"] == "ok" and r["user"].startswith("ecdsa")))')" \
    "4" "audit: the four signatures, each with its algorithm"
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["op"] == "cert sign" and r["outcome"] != "ok"))')" \
    "5" "audit: and the five refusals that reached the service"

expect 0 "RSA, for PSS" "$V" cert import "$P/client-rsa.pem" --key "$P/client-rsa.key" --user group:root
openssl x509 -in "$P/client-rsa.pem" -noout -pubkey > "$T_TMP/rsa.pub"
expect 0 "sign: rsa-pkcs1-sha256 (the default for RSA)" "$V" cert sign "$RSA" --in "$T_TMP/data" --out "$T_TMP/rsig"
run openssl dgst -sha256 -verify "$T_TMP/rsa.pub" -signature "$T_TMP/rsig" "$T_TMP/data"
is "$OUT" "Verified OK" "... verifies"
expect 0 "sign: rsa-pss-sha512" "$V" cert sign "$RSA" --alg rsa-pss-sha512 --in "$T_TMP/data" --out "$T_TMP/psig"
run openssl dgst -sha512 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -verify "$T_TMP/rsa.pub" \
    -signature "$T_TMP/psig" "$T_TMP/data"
is "$OUT" "Verified OK" "... verifies as PSS with a salt as long as the digest"
expect 0 "delete it again, for the scan below" "$V" cert delete "$RSA"

# --- no key material in the vault file ----------------------------------------
# Import the RSA certificate again (the chain, with its key) and look for the
# key as PEM lines and as DER bytes in every file of the vault.

expect 0 "import again for the scan" "$V" cert import "$P/client-rsa.p12" --password-file "$P/p12.pass"
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }
openssl pkey -in "$P/client-rsa.key" -outform DER -out "$T_TMP/key.der" 2>/dev/null
openssl pkey -in "$P/client-ec.key" -outform DER -out "$T_TMP/eckey.der" 2>/dev/null
keyhex=$(hexof "$T_TMP/key.der")
der1=${keyhex:200:64}
der2=${keyhex:1200:64}
ecder=$(hexof "$T_TMP/eckey.der")
ecder=${ecder:60:48}
pem1=$(sed -n 5p "$P/client-rsa.key")
pem2=$(sed -n 20p "$P/client-rsa.key")
# the scan must be able to find what it looks for
hexof "$T_TMP/key.der" | grep -q "$der1"
ok $? "scan: the DER pattern is found where it is (control)"
grep -qF -- "$pem1" "$P/client-rsa.key"
ok $? "scan: the PEM pattern is found where it is (control)"
found=0
for f in "$SSOVAULT_DIR"/*; do
	h=$(hexof "$f")
	for pat in "$der1" "$der2" "$ecder"; do
		case "$h" in *"$pat"*) found=$((found + 1)); echo "# DER key bytes in $f" ;; esac
	done
	n=$(grep -caF -- "$pem1" "$f"); found=$((found + n))
	n=$(grep -caF -- "$pem2" "$f"); found=$((found + n))
done
is "$found" 0 "scan: no private key bytes (DER or PEM) in any vault file"
[ -s "$SSOVAULT_DIR/data.mdb" ]
ok $? "scan: data.mdb was there to scan"

done_testing
