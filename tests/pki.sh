#!/bin/sh
# Make a throwaway test PKI in DIR with the openssl command line only: a test
# CA, a TLS server certificate for localhost, RSA and EC client certificates
# (PEM, PKCS#12, an encrypted key, a chain file), an expired and a not-yet-valid
# client certificate, an unrelated key, and a second "rogue" CA with a client
# certificate of its own.  Nothing here is ever committed: keys exist only in
# DIR, made afresh on every run.  Quiet on success; on failure it prints the
# openssl output and exits non-zero.
#
#   sh tests/pki.sh DIR
#
# Files (all in DIR):
#   ca.pem ca.key                        test CA
#   server.pem server.key                CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#   client-rsa.pem .key .p12 .sha1       RSA 2048 client certificate (clientAuth)
#   client-ec.pem .key .p12 .sha1        EC P-256 client certificate
#   client-chain.pem                     client-rsa.pem followed by ca.pem
#   client-rsa-enc.key                   client-rsa.key, PKCS#8 encrypted with p12.pass
#   expired.pem .key .p12 .sha1          valid 2020-01-01..2020-01-02 only
#   notyet.pem notyet.key                valid from 2099-01-01
#   other.key                            unrelated RSA key (mismatch tests)
#   rogue-ca.pem rogue-ca.key            a second CA
#   rogue-client.pem .key .p12           client certificate issued by rogue-ca
#   client-rsa-legacy.p12                RC2-40 PKCS#12 (only if openssl can make it)
#   p12.pass                             PKCS#12 password, mode 0600, no newline
# Thumbprint files (*.sha1) hold 40 upper-case hex digits, no newline.

set -eu

prog=pki.sh
die() {
	echo "$prog: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: sh tests/pki.sh DIR"
dir=$1
command -v openssl >/dev/null 2>&1 || die "openssl command not found"
mkdir -p "$dir" 2>/dev/null || die "cannot create directory '$dir'"
if ! [ -d "$dir" ] || ! [ -w "$dir" ] || ! [ -x "$dir" ]; then
	die "directory '$dir' is not writable"
fi
cd "$dir" || die "cannot enter '$dir'"
umask 077

log=pki.log
: >"$log" || die "cannot write in '$dir'"

# Run a command, its output going to the log; on failure show the log.
run() {
	if ! "$@" >>"$log" 2>&1; then
		echo "$prog: failed: $*" >&2
		sed 's/^/  /' "$log" >&2
		exit 1
	fi
}

# One configuration for every step, independent of the system openssl.cnf.
rm -rf ca.db
mkdir ca.db
: >ca.db/index.txt
cat >pki.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused

[ca]
default_ca = testca
[testca]
dir = ca.db
database = ca.db/index.txt
new_certs_dir = ca.db
serial = ca.db/serial
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
preserve = yes
[policy_any]
commonName = supplied
organizationName = optional

[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
openssl rand -hex 8 >ca.db/serial

printf '%s' "$(openssl rand -hex 12)" >p12.pass
chmod 600 p12.pass

rsakey() {
	run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"
}

eckey() {
	run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
}

# selfsigned NAME "CN"
selfsigned() {
	rsakey "$1.key"
	run openssl req -config pki.cnf -new -x509 -key "$1.key" -subj "$2" \
	    -sha256 -days 3650 -set_serial "0x$(openssl rand -hex 8)" \
	    -extensions v3_ca -out "$1.pem"
}

# issue NAME "SUBJECT" CA SECTION: sign NAME.key's request with CA
issue() {
	run openssl req -config pki.cnf -new -key "$1.key" -subj "$2" -out "$1.csr"
	run openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" \
	    -set_serial "0x$(openssl rand -hex 8)" -sha256 -days 825 \
	    -extfile pki.cnf -extensions "$4" -out "$1.pem"
	rm -f "$1.csr"
}

# dated NAME "SUBJECT" START END: a client certificate of the test CA with a
# validity window of our choosing (openssl x509 of 3.0 cannot set one).
dated() {
	rsakey "$1.key"
	run openssl req -config pki.cnf -new -key "$1.key" -subj "$2" -out "$1.csr"
	run openssl ca -batch -config pki.cnf -notext -extensions client \
	    -startdate "$3" -enddate "$4" -in "$1.csr" -out "$1.pem"
	rm -f "$1.csr"
}

# p12 NAME CA: NAME.pem + NAME.key + CA.pem into NAME.p12 (OpenSSL 3 defaults:
# AES-256-CBC, PBKDF2, HMAC-SHA-256 MAC)
p12() {
	run openssl pkcs12 -export -in "$1.pem" -inkey "$1.key" -certfile "$2.pem" \
	    -name "$1" -passout file:p12.pass -out "$1.p12"
}

sha1() {
	fp=$(openssl x509 -in "$1.pem" -noout -fingerprint -sha1) ||
	    die "cannot fingerprint $1.pem"
	printf '%s' "$fp" | sed 's/^[^=]*=//; s/://g' | tr 'a-f' 'A-F' >"$1.sha1"
	[ "$(wc -c <"$1.sha1")" -eq 40 ] || die "bad fingerprint for $1.pem"
}

selfsigned ca "/CN=ssovault test CA/O=ssovault tests"
selfsigned rogue-ca "/CN=ssovault rogue CA/O=ssovault tests"

rsakey server.key
issue server "/CN=localhost/O=ssovault tests" ca server

rsakey client-rsa.key
issue client-rsa "/CN=ssovault test client RSA/O=ssovault tests" ca client
p12 client-rsa ca
sha1 client-rsa
cat client-rsa.pem ca.pem >client-chain.pem
run openssl pkey -in client-rsa.key -aes256 -passout file:p12.pass -out client-rsa-enc.key

eckey client-ec.key
issue client-ec "/CN=ssovault test client EC/O=ssovault tests" ca client
p12 client-ec ca
sha1 client-ec

dated expired "/CN=ssovault expired client/O=ssovault tests" 20200101000000Z 20200102000000Z
p12 expired ca
sha1 expired
dated notyet "/CN=ssovault future client/O=ssovault tests" 20990101000000Z 20991231000000Z

rsakey other.key

rsakey rogue-client.key
issue rogue-client "/CN=ssovault rogue client/O=ssovault tests" rogue-ca client
p12 rogue-client rogue-ca

# RC2-40, as older Windows exports it; only where this openssl has the legacy
# provider.  Optional: the tests skip it when it is missing.
openssl pkcs12 -export -legacy -in client-rsa.pem -inkey client-rsa.key \
    -passout file:p12.pass -out client-rsa-legacy.p12 >/dev/null 2>&1 ||
    rm -f client-rsa-legacy.p12

rm -rf ca.db pki.cnf "$log"
# Public parts readable by the other uids of integration tests; secrets not.
chmod 644 ./*.pem ./*.sha1
chmod 600 ./*.key ./*.p12 p12.pass
