#!/usr/bin/env bash
# The vault's life through the CLI in embedded mode: init, unlock slots,
# secret backup/restore/rotate, vault backup/restore, tamper and swap
# detection, and the error format and exit codes of DESIGN section 7.
. "$SOURCE_ROOT/tests/lib.sh"
S=$SSOVAULT

# --- init -------------------------------------------------------------------
new_vault
ok $? "init makes a vault"
is "$(stat -c %a "$SSOVAULT_DIR")" 700 "vault directory is 0700"
is "$(stat -c %a "$SSOVAULT_DIR/data.mdb")" 600 "data.mdb is 0600"
is "$(stat -c %a "$SSOVAULT_DIR/lock.mdb")" 600 "lock.mdb is 0600"
before=$(md5sum < "$SSOVAULT_DIR/data.mdb")
expect 1 "init refuses an existing vault" $S init --kdf-limits interactive --passphrase-file "$T_TMP/pass"
like "$ERR" "already holds a vault" "init names the existing vault"
is "$(md5sum < "$SSOVAULT_DIR/data.mdb")" "$before" "existing vault left untouched"

expect 0 "status --json" $S status --json
like "$OUT" '"passphrase_slots": ?1' "status shows one passphrase slot"
expect 0 "role list" $S role list
like "$OUT" "user:root" "the initialising user is a vault admin"

# --- wrong passphrase, no terminal -------------------------------------------
secret_file "$T_TMP/wrong" 'not the passphrase'
expect 6 "wrong passphrase exits 6" env SSOVAULT_PASSPHRASE_FILE="$T_TMP/wrong" $S role list
like "$ERR" "^ssovault: role list: wrong passphrase" "error says wrong passphrase in the DESIGN format"
expect 6 "no passphrase and no terminal exits 6" setsid env -u SSOVAULT_PASSPHRASE_FILE $S role list </dev/null
like "$ERR" "passphrase-file" "error says how to give the passphrase"

# --- key file slot ----------------------------------------------------------
K="$T_TMP/kv"
expect 0 "init with a key file and a passphrase" \
	$S --vault "$K" init --kdf-limits interactive --key-file "$T_TMP/key" --passphrase-file "$T_TMP/pass"
is "$(stat -c %s "$T_TMP/key")" 32 "key file holds 32 bytes"
is "$(stat -c %a "$T_TMP/key")" 600 "key file is 0600"
expect 0 "the key file unlocks" env -u SSOVAULT_PASSPHRASE_FILE SSOVAULT_KEY_FILE="$T_TMP/key" $S --vault "$K" role list
expect 0 "the passphrase unlocks it too" $S --vault "$K" role list
(umask 077 && head -c 32 /dev/urandom > "$T_TMP/otherkey")
expect 6 "a wrong key file exits 6" env -u SSOVAULT_PASSPHRASE_FILE SSOVAULT_KEY_FILE="$T_TMP/otherkey" $S --vault "$K" role list
like "$ERR" "wrong" "error says the key is wrong"
(umask 077 && head -c 31 /dev/urandom > "$T_TMP/shortkey")
expect 1 "a 31-byte key file is refused" env -u SSOVAULT_PASSPHRASE_FILE SSOVAULT_KEY_FILE="$T_TMP/shortkey" $S --vault "$K" role list
like "$ERR" "32 bytes" "error says what a key file must hold"

# --- records, secret backup, rotation ----------------------------------------
expect 0 "add a role (a sealed record)" $S role add affiliate-admin uid:4242
secret_file "$T_TMP/bpw" 'backup password 1'
expect 0 "secret backup" $S secret backup "$T_TMP/secret1" --password-file "$T_TMP/bpw" --hint "the usual"
is "$(stat -c %a "$T_TMP/secret1")" 600 "secret backup file is 0600"
expect 1 "secret backup refuses to overwrite" $S secret backup "$T_TMP/secret1" --password-file "$T_TMP/bpw"
like "$ERR" "exists" "says the file exists"
if grep -q "backup password 1" "$T_TMP/secret1"; then ok 1 "backup holds no password"; else ok 0 "backup holds no password"; fi

expect 0 "rotate" $S secret rotate
expect 0 "records readable after rotation" $S role list --json
like "$OUT" "uid:4242" "the role survived rotation"
expect 0 "status after rotation" $S status --json
like "$OUT" '"epoch": ?2' "key epoch is 2 after one rotation"

secret_file "$T_TMP/newpass" 'brand new passphrase'
expect 1 "a secret backup made before the rotation is refused" \
	$S secret restore "$T_TMP/secret1" --password-file "$T_TMP/bpw" --new-passphrase-file "$T_TMP/newpass"
like "$ERR" "rotation" "error says the backup predates a rotation"
expect 0 "the old passphrase still works after the refused restore" $S role list

expect 0 "fresh secret backup" $S secret backup "$T_TMP/secret2" --password-file "$T_TMP/bpw"
expect 6 "restore with the wrong backup password exits 6" \
	$S secret restore "$T_TMP/secret2" --password-file "$T_TMP/wrong" --new-passphrase-file "$T_TMP/newpass"
expect 0 "the old passphrase still works after the failed restore" $S role list
expect 0 "restore with the right password sets a new passphrase" \
	$S secret restore "$T_TMP/secret2" --password-file "$T_TMP/bpw" --new-passphrase-file "$T_TMP/newpass"
expect 6 "the old passphrase no longer opens the vault" $S role list
export SSOVAULT_PASSPHRASE_FILE="$T_TMP/newpass"
expect 0 "the new passphrase opens it" $S role list --json
like "$OUT" "uid:4242" "records intact after secret restore"

# --- vault backup and restore --------------------------------------------------
expect 0 "vault backup" $S backup "$T_TMP/vault.bak"
is "$(stat -c %a "$T_TMP/vault.bak")" 600 "vault backup file is 0600"
expect 0 "change after the backup" $S role add affiliate-admin uid:4343
expect 0 "vault restore" $S restore "$T_TMP/vault.bak"
expect 0 "list after restore" $S role list --json
unlike "$OUT" "uid:4343" "the change made after the backup is gone"
like "$OUT" "uid:4242" "the change made before the backup is there"
expect 1 "restore of another vault's backup is refused" $S restore "$K/data.mdb"
expect 1 "restore of a non-vault file is refused" $S restore "$T_TMP/bpw"
expect 0 "vault still works after refused restores" $S role list

# --- tampering with sealed records ------------------------------------------
expect 0 "tamper: flip a bit of the roles record" "$TAMPER" "$SSOVAULT_DIR" meta flip roles
expect 1 "a tampered record is refused" $S role add affiliate-admin uid:5
like "$ERR" "integrity" "error names the integrity failure"
expect 0 "restore the good copy" $S restore "$T_TMP/vault.bak"
expect 0 "tamper: copy the roles record to another key" "$TAMPER" "$SSOVAULT_DIR" meta copy roles tickets
expect 0 "tamper: move the roles record to another table" "$TAMPER" "$SSOVAULT_DIR" meta move roles apps
expect 0 "the original still opens" $S role list
expect 0 "restore" $S restore "$T_TMP/vault.bak"

# --- the CLI's own contract ----------------------------------------------------
expect 2 "unknown command exits 2" $S frobnicate
expect 2 "unknown option exits 2" $S status --frobnicate
expect 2 "missing argument exits 2" $S backup
for cmd in "" "secret" "secret backup" "backup" "init" "role add" "audit" "audit list"; do
	expect 0 "--help: ssovault $cmd" $S $cmd --help
done
like "$($S secret --help)" "rotate" "secret --help lists its commands"
expect 0 "--version" $S --version
like "$OUT" "^ssovault [0-9]" "version line"
done_testing
