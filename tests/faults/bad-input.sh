#!/usr/bin/env bash
# The bad-input table: arguments, files, JSON, XML, thumbprints, principals,
# tickets, URLs, durations, sizes and names of any length and any bytes.
# Each row gets its exact exit code and message (the first line of stderr,
# an anchored regex), and the vault is unchanged after each: a dump of
# apps, mappings, roles, certificates, ports, credentials and the key epoch
# is compared (a backup file is not: its bytes differ from copy to copy).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/faults/lib-faults.sh"
S=$SSOVAULT
mkdir "$T_TMP/b"
key_vault "$T_TMP/b"
seed_vault
pki
P=$T_TMP/pki
D=$T_TMP/in
mkdir "$D"
L5000=$(head -c 5000 /dev/zero | tr '\0' a)
L129=$(head -c 129 /dev/zero | tr '\0' b)
H40=$(printf 'a%.0s' $(seq 40))
H41=$(printf 'a%.0s' $(seq 41))
BIN=$'\x01\x02\xfe\xff\x7f'

# input files
printf '{"user":' > "$D/trunc.json"
printf '[1,2]' > "$D/array.json"
printf '{"user":"a","nosuch":"b"}' > "$D/unknown-field.json"
printf '{"user":1}' > "$D/number.json"
printf '{"user":"a"} trailing' > "$D/trailing.json"
printf '\xff\xfe{}' > "$D/binary.json"
printf '{}' > "$D/empty-object.json"
head -c 3000000 /dev/zero | tr '\0' ' ' > "$D/huge.json"
printf '{"user":"a\\u0000b"}' > "$D/nul.json"
printf '<sso><application' > "$D/trunc.xml"
printf '<sso><application name="x"><bogus/></application></sso>' > "$D/unknown.xml"
printf '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><sso>&e;</sso>' > "$D/xxe.xml"
printf '<other/>' > "$D/wrong-root.xml"
printf 'not xml at all' > "$D/text.xml"
head -c 700 "$P/client-rsa.pem" > "$D/trunc.pem"
printf 'wrong password' > "$D/wrong.pass"
printf 'short' > "$D/short.key"
: > "$D/empty"
(umask 077 && head -c 32 /dev/urandom > "$T_TMP/key.other")
msg() { printf '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><x/></soap:Body></soap:Envelope>' > "$1"; }
msg "$D/m.xml"

dump > "$T_TMP/dump0"
ROWS=0

# bad CODE REGEX DESCRIPTION CMD...: CMD exits CODE, the first line of its
# stderr matches REGEX, and the vault is as it was
bad() {
	local code=$1 re=$2 desc=$3 first
	shift 3
	ROWS=$((ROWS + 1))
	run "$@" </dev/null
	first=$(printf '%s\n' "$ERR" | head -1)
	if [ "$RC" -eq "$code" ] && printf '%s' "$first" | LC_ALL=C grep -aqE -- "$re"; then
		ok 0 "$desc: exit $code, $(printf '%s' "$first" | cut -c1-90)"
	else
		ok 1 "$desc"
		echo "#   got exit $RC (want $code): $(printf '%s' "$first" | cut -c1-300)"
		echo "#   want /$re/"
	fi
	dump > "$T_TMP/dump1"
	if ! cmp -s "$T_TMP/dump0" "$T_TMP/dump1"; then
		ok 1 "$desc: the vault changed"
		diff "$T_TMP/dump0" "$T_TMP/dump1" | head -5 | sed 's/^/#   /'
		cp "$T_TMP/dump1" "$T_TMP/dump0"
	fi
}

# --- arguments and commands ------------------------------------------------------------------
bad 2 "^usage: ssovault \[global options\] COMMAND" "no command" $S
bad 2 "^ssovault: 'frob' is not a command$" "unknown command" $S frob
bad 2 "^ssovault: app: 'frob' is not a command$" "unknown subcommand" $S app frob
bad 2 "^ssovault: unknown option '--frob'$" "unknown global option" $S --frob app list
bad 2 "^ssovault: option needs a value: '--vault'$" "global option without its value" $S --vault
bad 2 "^ssovault: app create: missing argument$" "app create without a name" $S app create
bad 2 "^ssovault: app create: unexpected argument 'y'$" "app create with two names" $S app create x y
bad 2 "^ssovault: app create: unknown option '--frob'$" "unknown option" $S app create x --frob
bad 2 "^ssovault: app create: unknown option '--desc' \(options are not abbreviated\)$" \
    "abbreviated option" $S app create x --desc d
bad 2 "^ssovault: send: unknown option '--password' \(options are not abbreviated\)$" \
    "--password VALUE does not exist (secrets never on the command line)" $S send --url http://127.0.0.1:9/ --password hunter2 "$D/m.xml"
bad 2 "^ssovault: send: unknown option '--pass' \(options are not abbreviated\)$" \
    "--pass=VALUE: the value is not echoed" $S send --url http://127.0.0.1:9/ --pass=hunter2 "$D/m.xml"
unlike "$ERR" "hunter2" "the would-be password is not in the error"
bad 2 "^ssovault: app create: option '--description' needs a value$" "option without its value" $S app create x --description

# --- names of any length and any bytes ----------------------------------------------------------
bad 1 "^ssovault: app create : invalid application name: 1 to 128 bytes of UTF-8, without control characters or a space at either end$" "empty app name" $S app create "" --field u
bad 1 "^ssovault: app create b{129}: invalid application name: 1 to 128 bytes of UTF-8, without control characters or a space at either end$" "129-character app name" $S app create "$L129" --field u
bad 1 "^ssovault: app create a{150,200}\.\.\.: invalid application name" \
    "5000-character app name (the message is cut at 200)" $S app create "$L5000" --field u
bad 1 "^ssovault: app create \\\\x01\\\\x02.*: '\\\\x01\\\\x02\\\\xfe\\\\xff\\\\x7f' is not valid UTF-8 text$" \
    "binary app name (control bytes escaped in the message)" $S app create "$BIN" --field u
bad 1 "^ssovault: app create a\\\\x1b\[31mred: invalid application name: 1 to 128 bytes of UTF-8, without control characters or a space at either end$" \
    "terminal escape in a name is shown escaped" $S app create $'a\x1b[31mred' --field u
bad 1 "^ssovault: app create ab : invalid application name: 1 to 128 bytes of UTF-8, without control characters or a space at either end$" "a space at the end of a name" $S app create 'ab ' --field u
bad 1 "^ssovault: app create a\\\\xc2\\\\x85b: invalid application name: 1 to 128 bytes of UTF-8, without control characters or a space at either end$" "a C1 control character (U+0085) in a name" \
    $S app create $'a\xc2\x85b' --field u
bad 1 "^ssovault: app create ERP: an application named 'ERP' already exists \(names ignore case\)$" \
    "a name that differs only in case" $S app create ERP --field u
bad 1 "^ssovault: app create okd: '\\\\xff' is not valid UTF-8 text$" \
    "a description that is not UTF-8" $S app create okd --field u --description $'\xff'
bad 1 "^ssovault: app create okd: 'description' must be a string of at most 1024 characters without control characters$" \
    "a 5000-character description" $S app create okd --field u --description "$L5000"
bad 1 "^ssovault: app create okd: 'contact' must be a string of at most 1024 characters without control characters$" \
    "a newline in a contact" $S app create okd --field u --contact $'a\nb'
bad 1 "^ssovault: app create okd: field 0: a label of 1 to 64 characters without control characters is required$" \
    "an empty field label" $S app create okd --field ""
bad 1 "^ssovault: app create okd: field 0 \('u'\) is the external user id and cannot be masked$" \
    "field 0 masked" $S app create okd --field u:masked
bad 1 "^ssovault: app create okd: field label 'U' is given twice \(labels ignore case\)$" \
    "a label given twice" $S app create okd --field u --field U
bad 2 "^ssovault: app create: --type is individual, group or config$" "unknown app type" $S app create okd --field u --type weird
bad 2 "^ssovault: app update: the type is fixed after the app is created$" "type change on update" $S app update erp --type group
bad 1 "^ssovault: app show nosuch: no affiliate application 'nosuch'$" "unknown app" $S app show nosuch
bad 1 "^ssovault: app delete nosuch: no affiliate application 'nosuch'$" "delete of an unknown app" $S app delete nosuch
bad 1 "^ssovault: port create \\\\x01\\\\x02.*(invalid name|not valid UTF-8)" "binary port name" $S port create "$BIN" --url http://x/

# --- principals -------------------------------------------------------------------------------
PRE="invalid principal: expected user:NAME, group:NAME, uid:N or gid:N$"
bad 1 "^ssovault: app create okp: 'admins' entry 1: $PRE" "principal without a kind" $S app create okp --field u --admin bogus
bad 1 "^ssovault: app create okp: 'admins' entry 1: $PRE" "principal with an empty name" $S app create okp --field u --admin user:
bad 1 "^ssovault: app create okp: 'admins' entry 1: $PRE" "uid that is not a number" $S app create okp --field u --admin uid:abc
bad 1 "^ssovault: app create okp: 'admins' entry 1: $PRE" "uid out of range" $S app create okp --field u --admin uid:99999999999999
bad 1 "^ssovault: mapping create erp bogus: $PRE" "mapping of a bad principal" $S mapping create erp bogus bob
bad 1 "^ssovault: role add vault-admin gid:-1: $PRE" "negative gid" $S role add vault-admin gid:-1
bad 1 "^ssovault: role add nosuchrole uid:5: unknown role 'nosuchrole': expected vault-admin or affiliate-admin$" \
    "unknown role" $S role add nosuchrole uid:5
bad 1 "^ssovault: role remove affiliate-admin uid:12345: uid:12345 does not hold affiliate-admin$" \
    "remove a role not held" $S role remove affiliate-admin uid:12345
bad 1 "^ssovault: creds get erp: $PRE" "creds get --user bad principal" $S creds get erp --user "user:$L5000"

# --- mappings ------------------------------------------------------------------------------------
bad 1 "^ssovault: mapping create erp uid:5: the external user id must be 1 to 256 characters without control characters$" \
    "empty external user" $S mapping create erp uid:5 ""
bad 1 "^ssovault: mapping create erp uid:5: the external user id must be 1 to 256 characters without control characters$" \
    "5000-character external user" $S mapping create erp uid:5 "$L5000"
bad 1 "^ssovault: mapping create erp uid:5: the external user id must be 1 to 256 characters without control characters$" \
    "external user that is not UTF-8" $S mapping create erp uid:5 $'\xff\xfe'
bad 1 "^ssovault: mapping create nosuch uid:5: no affiliate application 'nosuch'$" "mapping in an unknown app" $S mapping create nosuch uid:5 bob
bad 1 "^ssovault: mapping create erp uid:0: uid:0 is already mapped in 'erp'$" "a second mapping" $S mapping create erp uid:0 alice2
bad 1 "^ssovault: mapping delete erp uid:0: the mapping of uid:0 to 'erp' is enabled: disable the mapping first$" \
    "delete of an enabled mapping" $S mapping delete erp uid:0
bad 1 "^ssovault: mapping enable erp uid:77: no mapping for uid:77 in 'erp'$" "enable of no mapping" $S mapping enable erp uid:77

# --- JSON credential files -------------------------------------------------------------------------
bad 1 "^ssovault: creds set erp: cannot read $D/nope: No such file or directory$" "missing credentials file" $S creds set erp --from-file "$D/nope"
bad 1 "^ssovault: creds set erp: $D/trunc.json is not valid JSON \(line 1, column 8\): give an object of field label to value$" \
    "truncated JSON" $S creds set erp --from-file "$D/trunc.json"
bad 1 "^ssovault: creds set erp: $D/array.json must hold a JSON object of field label to value, with at least one field$" \
    "JSON array" $S creds set erp --from-file "$D/array.json"
bad 1 "^ssovault: creds set erp: $D/empty-object.json must hold a JSON object of field label to value, with at least one field$" \
    "empty JSON object" $S creds set erp --from-file "$D/empty-object.json"
bad 1 "^ssovault: creds set erp: no field 'nosuch' in 'erp'$" "unknown field" $S creds set erp --from-file "$D/unknown-field.json"
bad 1 "^ssovault: creds set erp: the value of field 'user' must be a JSON string$" "number for a value" $S creds set erp --from-file "$D/number.json"
bad 1 "^ssovault: creds set erp: $D/trailing.json is not valid JSON \(line 1, column [0-9]+\): give an object of field label to value$" \
    "JSON with trailing text" $S creds set erp --from-file "$D/trailing.json"
bad 1 "^ssovault: creds set erp: $D/binary.json is not valid JSON \(line 1, column 0\): give an object of field label to value$" \
    "binary JSON file" $S creds set erp --from-file "$D/binary.json"
bad 1 "^ssovault: creds set erp: $D/nul.json is not valid JSON" "JSON string with a NUL escape" $S creds set erp --from-file "$D/nul.json"
bad 1 "^ssovault: creds set erp: cannot read secret file $D/huge.json: input too large$" "3 MB JSON file" $S creds set erp --from-file "$D/huge.json"
bad 1 "^ssovault: creds set erp: cannot read secret file $D: " "a directory as the file" $S creds set erp --from-file "$D"
bad 1 "^ssovault: creds get erp: no field 'nosuch' in 'erp'$" "creds get of an unknown field" $S creds get erp --field nosuch
bad 1 "^ssovault: creds get nosuch: no affiliate application 'nosuch'$" "creds get of an unknown app" $S creds get nosuch

# --- thumbprints and certificate files -------------------------------------------------------------
bad 1 "^ssovault: cert show: expected 40 hexadecimal digits(, not '[0-9a-zA-Z]+')?$" "4 hex digits" $S cert show 1234
bad 1 "^ssovault: cert show: expected 40 hexadecimal digits(, not '[0-9a-zA-Z]+')?$" "40 non-hex characters" $S cert show "$(printf 'g%.0s' $(seq 40))"
bad 1 "^ssovault: cert show: expected 40 hexadecimal digits(, not '[0-9a-zA-Z]+')?$" "41 hex digits" $S cert show "$H41"
bad 1 "^ssovault: cert show: expected 40 hexadecimal digits$" "5000 characters" $S cert show "$L5000"
bad 1 "^ssovault: cert show: expected 40 hexadecimal digits$" "binary thumbprint" $S cert show "$BIN"
bad 1 "^ssovault: cert show: no certificate with thumbprint A{40}$" "unknown thumbprint (normalised upper-case)" $S cert show "$H40"
bad 1 "^ssovault: cert show: no certificate with thumbprint A{40}$" "thumbprint with U+200E, NBSP and colons" \
    $S cert show $'\xe2\x80\x8e'"aa:aa aaaa"$'\xc2\xa0'"$(printf 'a%.0s' $(seq 32))"
bad 1 "^ssovault: cert delete: expected 40 hexadecimal digits(, not '[0-9a-zA-Z]+')?$" "cert delete zz" $S cert delete zz
bad 1 "^ssovault: cert grant .*: $PRE" "cert grant to a bad principal" $S cert grant "$H40" bogus
bad 1 "^ssovault: cert import $D/nope: cannot read $D/nope: No such file or directory$" "missing certificate file" $S cert import "$D/nope"
bad 1 "^ssovault: cert import $D/array.json: not a PKCS#12 or PEM certificate file$" "JSON as a certificate" $S cert import "$D/array.json"
bad 1 "^ssovault: cert import $D/empty: " "empty certificate file" $S cert import "$D/empty"
bad 1 "^ssovault: cert import $D/trunc.pem: " "truncated PEM" $S cert import "$D/trunc.pem" --key "$P/client-rsa.key"
bad 1 "^ssovault: cert import $P/client-rsa.pem: private key does not match the certificate" \
    "PEM with someone else's key" $S cert import "$P/client-rsa.pem" --key "$P/other.key"
bad 1 "^ssovault: cert import $P/client-rsa.p12: .*(wrong password|password)" \
    "PKCS#12 with the wrong password" $S cert import "$P/client-rsa.p12" --password-file "$D/wrong.pass"

# --- ENTSSO XML ------------------------------------------------------------------------------------
bad 1 "^ssovault: app import $D/nope: cannot read $D/nope: No such file or directory$" "missing XML file" $S app import "$D/nope"
bad 1 "^ssovault: app import $D/text.xml: not well-formed XML: line 1: Start tag expected" "text as XML" $S app import "$D/text.xml"
bad 1 "^ssovault: app import $D/trunc.xml: not well-formed XML: line 1: " "truncated XML" $S app import "$D/trunc.xml"
bad 1 "^ssovault: app import $D/unknown.xml: --strict: 1 warning\(s\), nothing was changed; the first: unknown element <bogus> of 'x' ignored \(line 1\)$" \
    "unknown element under --strict" $S app import --strict "$D/unknown.xml"
bad 1 "^ssovault: app import $D/xxe.xml: DTDs are not accepted: remove the <!DOCTYPE \.\.\.> declaration$" \
    "external entity (XXE)" $S app import "$D/xxe.xml"
bad 1 "^ssovault: app import $D/wrong-root.xml: " "wrong root element" $S app import "$D/wrong-root.xml"

# --- tickets -------------------------------------------------------------------------------------
TRE="the ticket is malformed or was altered: ask the sender for a new one$"
bad 1 "^ssovault: ticket redeem erp: $TRE" "garbage ticket" $S ticket redeem erp garbage
bad 1 "^ssovault: ticket redeem erp: $TRE" "empty ticket" $S ticket redeem erp ""
bad 1 "^ssovault: ticket redeem erp: $TRE" "5000-character ticket" $S ticket redeem erp "$L5000"
bad 1 "^ssovault: ticket redeem erp: $TRE" "binary ticket" $S ticket redeem erp "$BIN"
bad 2 "^ssovault: ticket settings: --allow is yes or no$" "ticket settings --allow maybe" $S ticket settings --allow maybe
bad 2 "^ssovault: ticket settings: --timeout takes minutes: 1 to 525600$" "ticket timeout 0" $S ticket settings --timeout 0
bad 2 "^ssovault: ticket settings: --timeout takes minutes: 1 to 525600$" "ticket timeout 525601" $S ticket settings --timeout 525601
bad 2 "^ssovault: app create: --ticket-timeout takes minutes: 0 \(the global setting\) or 1 to 525600$" \
    "app ticket timeout -5" $S app create okt --field u --ticket-timeout -5

# --- URLs, durations, sizes, counts -------------------------------------------------------------------
bad 2 "^ssovault: port create: --url: scheme ftp is not supported: use http:// or https://$" "ftp URL" $S port create p9 --url ftp://x/
bad 2 "^ssovault: port create: --url: not a valid URL" "not a URL" $S port create p9 --url "not a url"
bad 2 "^ssovault: port create: --url: " "URL of 5000 characters without a scheme" $S port create p9 --url "$L5000"
bad 2 "^ssovault: port create: --timeout: a duration from 1s to 86400s expected \(30, 30s, 5m, 1h\)$" "duration 5x" \
    $S port create p9 --url http://x/ --timeout 5x
bad 2 "^ssovault: port create: --timeout: a duration from 1s to 86400s expected" "duration 0s" $S port create p9 --url http://x/ --timeout 0s
bad 2 "^ssovault: port create: --retry-interval: a duration from 0s to 604800s expected" "negative duration" \
    $S port create p9 --url http://x/ --retry-interval -1s
bad 2 "^ssovault: port create: --max-response-size: a size from 1K to 1G expected \(64K, 16M\)$" "size 10Q" \
    $S port create p9 --url http://x/ --max-response-size 10Q
bad 2 "^ssovault: port create: --max-response-size: a size from 1K to 1G expected" "size 2G" \
    $S port create p9 --url http://x/ --max-response-size 2G
bad 2 "^ssovault: port create: --retry-count: a number from 0 to 1000 expected$" "retry count 1001" \
    $S port create p9 --url http://x/ --retry-count 1001
bad 2 "^ssovault: send: no endpoint: give --url URL or --port NAME$" "send without an endpoint" $S send "$D/m.xml"
bad 2 "^ssovault: audit list: --since takes a date" "--since yesterday" $S audit list --since yesterday
bad 2 "^ssovault: audit prune: --keep takes a number$" "--keep -1" $S audit prune --keep -1
bad 1 "^ssovault: audit level: invalid audit level: expected none, low, medium or high$" "audit level loud" $S audit level --positive loud

# --- files, ids and vault paths --------------------------------------------------------------------
bad 1 "^ssovault: port show nosuch: no send port 'nosuch': see 'ssovault port list'$" "unknown port" $S port show nosuch
bad 1 "^ssovault: suspended show nosuch: invalid message id: expected 32 hexadecimal digits" "bad message id" $S suspended show nosuch
bad 1 "^ssovault: suspended show a{150,200}\.\.\.: invalid message id: expected 32 hexadecimal digits$" "5000-character message id" $S suspended show "$L5000"
bad 1 "^ssovault: backup $D/no/such/file: cannot create $D/no/such/file: No such file or directory$" "backup into a missing directory" $S backup "$D/no/such/file"
bad 1 "^ssovault: restore $D/array.json: not a vault backup" "restore of a file that is not a backup" $S restore "$D/array.json"
bad 1 "^ssovault: app list: no vault in $D/nope: create one with 'ssovault init'$" "no vault in the directory" $S --vault "$D/nope" app list
bad 6 "^ssovault: app list: cannot reach ssovaultd at $D/nosock: No such file or directory \(is the daemon running\?\)$" \
    "socket that does not exist" $S --socket "$D/nosock" app list
# a key file others may read is refused before its size is looked at
chmod 600 "$D/array.json"
bad 1 "^ssovault: app list: key file $D/array.json must hold 32 bytes \(or 64 hexadecimal digits\)$" \
    "a key file of the wrong size" env SSOVAULT_KEY_FILE="$D/array.json" $S app list
bad 6 "^ssovault: app list: wrong key file$" "a key file with the wrong key" \
    env SSOVAULT_KEY_FILE="$T_TMP/key.other" $S app list
bad 1 "^ssovault: init $SSOVAULT_DIR: " "init over an existing vault" $S init --key-file "$T_TMP/key.new"
[ ! -e "$T_TMP/key.new" ]
ok $? "a failed init leaves no key file behind"

echo "# $ROWS rows"
[ "$ROWS" -ge 60 ]
ok $? "the table has at least 60 rows ($ROWS)"
expect 0 "audit verify after the table" $S audit verify
done_testing
