#!/usr/bin/env bash
# Unlock slots (ops 4-6, docs/hosts.md) as a hostile local user sees them:
# a uid that is no vault admin tries to list, add (a key of its own: a way
# in) and remove (locking the others out) slots through the daemon; a vault
# admin tries to remove the last slot, to take a name twice, and to smuggle
# a name with control characters into the list.  Each is refused, nothing
# changes, and the legitimate change (a new passphrase, the old one gone)
# works with exactly the new secret.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

V=$SSOVAULT
EVIL=6311
new_vault
daemon_start --passphrase-file "$T_TMP/pass"
ok $? "a daemon unlocked by the vault's passphrase"
head -c 32 /dev/urandom >"$T_TMP/evil.key"
chown $EVIL:$EVIL "$T_TMP/evil.key"
chmod 600 "$T_TMP/evil.key"

expect 5 "uid $EVIL cannot list the slots" as_user $EVIL $EVIL "$V" slot list
expect 5 "uid $EVIL cannot add a slot for a key of its own" as_user $EVIL $EVIL \
    "$V" slot add --name evil --key-file "$T_TMP/evil.key"
like "$ERR" "access denied" "  access denied"
expect 5 "uid $EVIL cannot remove the admin's slot" as_user $EVIL $EVIL "$V" slot remove passphrase-1
expect 0 "the slots are as they were" "$V" --json slot list
is "$(echo "$OUT" | python3 -c 'import json,sys; print(",".join(s["name"] for s in json.load(sys.stdin)))')" \
    "passphrase-1" "  one passphrase slot, no 'evil'"
expect 6 "the attacker's key opens nothing (embedded, no daemon)" env -u SSOVAULT_SOCKET \
    -u SSOVAULT_PASSPHRASE_FILE SSOVAULT_KEY_FILE="$(secret_copy 0 "$T_TMP/evil.key")" "$V" slot list
like "$ERR" "wrong key file|no key file slot" "  wrong key"

expect 1 "the last slot cannot be removed" "$V" slot remove passphrase-1
like "$ERR" "last unlock slot" "  says why"
expect 1 "a name with a control character is refused" "$V" slot add --name "$(printf 'a\tb')" \
    --key-file "$T_TMP/k2"
[ ! -e "$T_TMP/k2" ]
ok $? "  and the key file it made is removed again"

# changing the passphrase: a new slot, then the old one goes
secret_file "$T_TMP/pass2" 'a new and longer passphrase'
expect 0 "a vault admin adds a passphrase slot" "$V" slot add --name admin2 --passphrase-file "$T_TMP/pass2"
expect 1 "the same name again" "$V" slot add --name admin2 --key-file "$T_TMP/k3"
like "$ERR" "already exists" "  already exists"
expect 0 "the old passphrase slot is removed" "$V" slot remove passphrase-1
daemon_stop
unset SSOVAULT_SOCKET
expect 6 "the old passphrase opens nothing" env SSOVAULT_PASSPHRASE_FILE="$T_TMP/pass" "$V" creds get x
like "$ERR" "wrong passphrase" "  wrong passphrase"
expect 0 "the new one unlocks" env SSOVAULT_PASSPHRASE_FILE="$T_TMP/pass2" "$V" --json slot list
like "$OUT" '"name": *"admin2"' "  and lists its slot"
done_testing
