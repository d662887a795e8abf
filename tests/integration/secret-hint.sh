#!/usr/bin/env bash
# `secret restore` shows the backup's password hint before it asks for the
# backup password on the terminal (DESIGN 2, like ENTSSO's restoreSecret),
# and says nothing of it when the password comes from a file.
. "$SOURCE_ROOT/tests/lib.sh"
S=$SSOVAULT

new_vault
ok $? "a vault"
secret_file "$T_TMP/bpw" 'backup password'
secret_file "$T_TMP/new" 'a new passphrase'
expect 0 "secret backup with a hint" $S secret backup "$T_TMP/sb" --password-file "$T_TMP/bpw" \
	--hint "the blue notebook"
expect 0 "secret backup without one" $S secret backup "$T_TMP/sb0" --password-file "$T_TMP/bpw"

if command -v script >/dev/null 2>&1; then
	# the password typed on a terminal (script gives the command one)
	out=$( (sleep 1; printf 'backup password\n'; sleep 1) |
	    script -qec "$S secret restore $T_TMP/sb --new-passphrase-file $T_TMP/new" /dev/null)
	ok $? "secret restore on a terminal succeeds"
	like "$out" "Password hint: the blue notebook" "... and shows the hint first"
	like "$(echo "$out" | grep -n 'hint\|Backup password' | head -1)" "hint" \
	    "... before the password prompt"
	out=$( (sleep 1; printf 'backup password\n'; sleep 1) |
	    env SSOVAULT_PASSPHRASE_FILE="$T_TMP/new" \
	    script -qec "$S secret restore $T_TMP/sb0 --new-passphrase-file $T_TMP/new" /dev/null)
	ok $? "a backup without a hint restores on a terminal too"
	unlike "$out" "hint" "... and shows no hint"
else
	for i in 1 2 3 4 5; do ok 0 "# SKIP no script(1) for a terminal"; done
fi

expect 0 "secret restore with --password-file" env SSOVAULT_PASSPHRASE_FILE="$T_TMP/new" \
	$S secret restore "$T_TMP/sb" --password-file "$T_TMP/bpw" --new-passphrase-file "$T_TMP/new"
unlike "$ERR" "hint" "... shows no hint: nobody types the password"
done_testing
