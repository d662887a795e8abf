#!/usr/bin/env bash
# Finding 9: key, passphrase and password files that someone else owns, or
# can read.  uid 5605 leaves a key file that everyone may read where root
# will pick it up (`init --key-file` used to adopt it: uid 5605 then knows
# the key of root's vault); passphrase files readable by all, or owned by
# another user, are handed to every reader of secret files: init, unlock,
# SSOVAULT_PASSPHRASE_FILE / SSOVAULT_KEY_FILE, ssovaultd --key-file /
# --passphrase-file, and send's --password-file / --proxy-password-file.
# Each must refuse, say how to fix the file, and use nothing of it.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

S=$SSOVAULT
A=5605		# the attacker
VIC=5606	# another user
hex=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
[ ${#hex} -eq 64 ]
ok $? "precondition: a key of 64 hexadecimal digits"

# mkfile NAME MODE OWNER TEXT: $T_TMP/NAME holding TEXT, with that mode and owner
mkfile() {
	rm -f "$T_TMP/$1"
	printf '%s' "$4" > "$T_TMP/$1" && chmod "$2" "$T_TMP/$1" && chown "$3:$3" "$T_TMP/$1"
}
vinit() {	# vinit DIR ARGS...: root makes a vault in DIR
	local d=$1
	shift
	"$S" --vault "$d" init --kdf-limits interactive "$@"
}

# --- init --key-file: a key file the vault would be bound to -------------------------
mkfile their.key 644 $A "$hex"
expect 1 "init --key-file of uid $A's key file, readable by all, is refused" \
    vinit "$T_TMP/v1" --key-file "$T_TMP/their.key"
like "$ERR" "key file $T_TMP/their.key belongs to uid $A \(not root\).*chown 0 $T_TMP/their.key" \
    "... naming the file, its owner and the fix"
[ ! -e "$T_TMP/v1" ]
ok $? "... and no vault is made with that key"
mkfile their.key 600 $A "$hex"
expect 1 "init --key-file of uid $A's private key file is refused" \
    vinit "$T_TMP/v1" --key-file "$T_TMP/their.key"
like "$ERR" "belongs to uid $A" "... it is still theirs"
mkfile open.key 644 0 "$hex"
expect 1 "init --key-file of root's key file that all may read is refused" \
    vinit "$T_TMP/v1" --key-file "$T_TMP/open.key"
like "$ERR" "key file $T_TMP/open.key can be read or written by group or others \(mode 0644\): run 'chmod 600 $T_TMP/open.key'" \
    "... saying 'chmod 600'"
mkfile mine.key 600 0 "$hex"
ln -s "$T_TMP/mine.key" "$T_TMP/link.key"
expect 1 "init --key-file through a symbolic link is refused" vinit "$T_TMP/v1" --key-file "$T_TMP/link.key"
like "$ERR" "key file $T_TMP/link.key is a symbolic link: give the file itself" "... saying so"
[ ! -e "$T_TMP/v1" ]
ok $? "no vault was made by any of them"
mkfile open.pass 644 0 'correct horse battery staple'
expect 1 "init --passphrase-file readable by all is refused" \
    vinit "$T_TMP/v1" --passphrase-file "$T_TMP/open.pass"
like "$ERR" "passphrase file $T_TMP/open.pass can be read or written by group or others \(mode 0644\): run 'chmod 600" \
    "... saying 'chmod 600'"
mkfile pass 600 0 'correct horse battery staple'
expect 0 "the control: init with root's own 0600 key and passphrase files" \
    vinit "$T_TMP/v" --key-file "$T_TMP/mine.key" --passphrase-file "$T_TMP/pass"
export SSOVAULT_DIR=$T_TMP/v

# --- SSOVAULT_PASSPHRASE_FILE and SSOVAULT_KEY_FILE (embedded mode) ----------------------
expect 1 "SSOVAULT_PASSPHRASE_FILE readable by all is refused" \
    env SSOVAULT_PASSPHRASE_FILE="$T_TMP/open.pass" "$S" role list
like "$ERR" "^ssovault: role list: passphrase file $T_TMP/open.pass can be read or written by group or others" \
    "... naming it"
mkfile their.pass 600 $A 'correct horse battery staple'
expect 1 "SSOVAULT_PASSPHRASE_FILE owned by uid $A is refused" \
    env SSOVAULT_PASSPHRASE_FILE="$T_TMP/their.pass" "$S" role list
like "$ERR" "passphrase file $T_TMP/their.pass belongs to uid $A" "... naming its owner"
mkfile their.key 600 $A "$hex"
expect 1 "SSOVAULT_KEY_FILE owned by uid $A is refused" env SSOVAULT_KEY_FILE="$T_TMP/their.key" "$S" role list
like "$ERR" "key file $T_TMP/their.key belongs to uid $A" "... naming its owner"
expect 0 "the control: SSOVAULT_KEY_FILE of root's own" env SSOVAULT_KEY_FILE="$T_TMP/mine.key" "$S" role list

# --- ssovaultd --key-file and --passphrase-file ----------------------------------------
expect 1 "ssovaultd --key-file readable by all is refused" \
    timeout 10 "$SSOVAULTD" --vault "$SSOVAULT_DIR" --socket "$T_TMP/d.sock" --key-file "$T_TMP/open.key"
like "$ERR" "key file $T_TMP/open.key can be read or written by group or others \(mode 0644\): run 'chmod 600" \
    "... saying 'chmod 600'"
expect 1 "ssovaultd --passphrase-file owned by uid $A is refused" \
    timeout 10 "$SSOVAULTD" --vault "$SSOVAULT_DIR" --socket "$T_TMP/d.sock" --passphrase-file "$T_TMP/their.pass"
like "$ERR" "passphrase file $T_TMP/their.pass belongs to uid $A" "... naming its owner"
expect 1 "ssovaultd --key-file through a symbolic link is refused" \
    timeout 10 "$SSOVAULTD" --vault "$SSOVAULT_DIR" --socket "$T_TMP/d.sock" --key-file "$T_TMP/link.key"
like "$ERR" "is a symbolic link" "... saying so"
[ ! -e "$T_TMP/d.sock" ]
ok $? "... and none of them started to serve"

# --- unlock through the daemon: refused before anything is sent ----------------------------
daemon_start
ok $? "ssovaultd starts locked"
expect 1 "unlock --passphrase-file readable by all is refused" "$S" unlock --passphrase-file "$T_TMP/open.pass"
like "$ERR" "^ssovault: unlock: passphrase file $T_TMP/open.pass can be read or written by group or others" \
    "... saying so"
expect 1 "unlock --key-file owned by uid $A is refused" "$S" unlock --key-file "$T_TMP/their.key"
mkfile vic.pass 644 $VIC 'correct horse battery staple'
expect 1 "uid $VIC's unlock with its own passphrase file readable by all is refused" \
    as_user $VIC $VIC "$S" unlock --passphrase-file "$T_TMP/vic.pass"
expect 0 "status" "$S" --json status
is "$(echo "$OUT" | json_get unlocked)" "false" "the vault is still locked: none of them was used"
expect 0 "the control: unlock with root's own 0600 file" "$S" unlock --passphrase-file "$T_TMP/pass"

# --- send's password files: refused before any message is taken ------------------------------
printf '<order id="1"/>' > "$T_TMP/order.xml"
mkfile open.pw 644 0 'bob password'
expect 1 "send --password-file readable by all is refused" \
    "$S" send --url https://127.0.0.1:9/soap --auth basic --user bob \
    --password-file "$T_TMP/open.pw" --retry-count 0 --body "$T_TMP/order.xml"
like "$ERR" "password file $T_TMP/open.pw can be read or written by group or others \(mode 0644\): run 'chmod 600" \
    "... saying 'chmod 600'"
mkfile their.pw 600 $A 'proxy password'
mkfile mine.pw 600 0 'bob password'
expect 1 "send --proxy-password-file owned by uid $A is refused" \
    "$S" send --url https://127.0.0.1:9/soap --auth basic --user bob \
    --password-file "$T_TMP/mine.pw" --proxy https://127.0.0.1:9 --proxy-user p \
    --proxy-password-file "$T_TMP/their.pw" --retry-count 0 --body "$T_TMP/order.xml"
like "$ERR" "password file $T_TMP/their.pw belongs to uid $A" "... naming its owner"
expect 0 "suspended list" "$S" --json suspended list
is "$OUT" "[]" "no message was taken (none kept, none sent)"

done_testing
