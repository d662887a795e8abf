#!/bin/bash
# Moving in and out (DESIGN 10, docs/hosts.md): `store copy --to` from an
# LMDB vault into a new PostgreSQL vault and back into a new directory,
# records as they are and the audit chain verifying on each side; backup
# and restore, secret backup and restore, and rotation on a PostgreSQL
# vault; a URI with a password refused without showing it.  The database
# comes from tests/pg/with-pg.sh (SSOVAULT_TEST_PG, peer authentication).
. "$SOURCE_ROOT/tests/lib.sh"
S=$SSOVAULT
URI=${SSOVAULT_TEST_PG:?run through tests/pg/with-pg.sh}

new_vault
"$S" app create payroll --field user --field password:masked --enable >/dev/null &&
"$S" mapping create payroll uid:0 bob >/dev/null &&
echo '{"user":"bob","password":"pw-one"}' | "$S" creds set payroll --from-file - >/dev/null
ok $? "an LMDB vault with an app, a mapping and credentials"
n_lmdb=$("$S" --json audit list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')

expect 0 "store copy --to a PostgreSQL URI" "$S" store copy --to "$URI"
like "$OUT" "Copied [0-9]+ records to postgresql://" "  says how many and where"
expect 1 "again: the database already holds a vault" "$S" store copy --to "$URI"
like "$ERR" "already holds a vault" "  says so"
expect 0 "the copy's credentials" "$S" --vault "$URI" creds get payroll --field password
is "$OUT" "pw-one" "  are the LMDB vault's"
expect 0 "the copy's audit chain verifies" "$S" --vault "$URI" audit verify
like "$OUT" "verifies: $((n_lmdb + 1)) records|verifies: $n_lmdb records|verifies: $((n_lmdb + 2)) records" \
    "  holding the LMDB vault's records ($OUT)"
expect 0 "status of the copy" "$S" --vault "$URI" status
like "$OUT" "store: +postgresql" "  is a PostgreSQL store"

# the same vault over loopback TCP: SCRAM (a password file), with TLS
# (verify-full against the test CA) and without
. "$SOURCE_ROOT/tests/pg/pg.sh"
db=${URI#postgresql:///}
db=${db%%\?*}
role=ssotcp_$$
pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf "CREATE ROLE %s LOGIN PASSWORD '%s';\nGRANT ALL ON ALL TABLES IN SCHEMA public TO %s;\n" \
    "$role" "$pw" "$role" | setpriv --reuid=postgres --regid=postgres --init-groups -- \
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -d "$db" >/dev/null
ok $? "a role $role with a SCRAM password (precondition)"
secret_file "$T_TMP/pgpass" "127.0.0.1:$PG_PORT:$db:$role:$pw"
TCP="postgresql://$role@127.0.0.1:$PG_PORT/$db"
expect 0 "the copy over loopback TCP, SCRAM and TLS (sslmode=verify-full)" env \
    PGPASSFILE="$T_TMP/pgpass" "$S" --vault "$TCP?sslmode=verify-full&sslrootcert=${PG_CA:?}" \
    creds get payroll --field password
is "$OUT" "pw-one" "  the same credentials"
expect 0 "the copy over loopback TCP, SCRAM without TLS" env PGPASSFILE="$T_TMP/pgpass" \
    "$S" --vault "$TCP?sslmode=disable" creds get payroll --field password
is "$OUT" "pw-one" "  the same credentials"
secret_file "$T_TMP/pgpass" "127.0.0.1:$PG_PORT:$db:$role:wrong-$pw"
expect 6 "a wrong password in the password file" env PGPASSFILE="$T_TMP/pgpass" \
    "$S" --vault "$TCP?sslmode=verify-full&sslrootcert=$PG_CA" creds get payroll
like "$ERR" "password authentication failed" "  says so"
unlike "$ERR" "$pw" "  without showing the password"

# backup and restore of the database vault
expect 0 "backup of the PostgreSQL vault" "$S" --vault "$URI" backup "$T_TMP/pg.bak"
expect 0 "then the app is deleted" bash -c "'$S' --vault '$URI' mapping disable payroll uid:0 &&
    '$S' --vault '$URI' mapping delete payroll uid:0 && '$S' --vault '$URI' app delete payroll"
expect 1 "it is gone" "$S" --vault "$URI" app show payroll
expect 0 "restore the backup" "$S" --vault "$URI" restore "$T_TMP/pg.bak"
expect 0 "the app and credentials are back" "$S" --vault "$URI" creds get payroll --field password
is "$OUT" "pw-one" "  as they were"
expect 0 "the audit chain verifies after the restore" "$S" --vault "$URI" audit verify
printf 'not a dump' >"$T_TMP/junk.bak"
expect 1 "a file that is no dump is refused" "$S" --vault "$URI" restore "$T_TMP/junk.bak"
expect 0 "and the vault is unchanged" "$S" --vault "$URI" app show payroll

# the master secret: backup, rotation, restore
secret_file "$T_TMP/bpw" 'backup password 1'
expect 0 "secret backup of the PostgreSQL vault" "$S" --vault "$URI" secret backup "$T_TMP/secret.bak" \
    --password-file "$T_TMP/bpw"
expect 0 "secret rotate" "$S" --vault "$URI" secret rotate
expect 0 "credentials after the rotation" "$S" --vault "$URI" creds get payroll --field password
is "$OUT" "pw-one" "  unchanged"
expect 1 "the backup made before the rotation is refused" "$S" --vault "$URI" secret restore \
    "$T_TMP/secret.bak" --password-file "$T_TMP/bpw" --new-passphrase-file "$T_TMP/pass"
expect 0 "a new secret backup" "$S" --vault "$URI" secret backup "$T_TMP/secret2.bak" \
    --password-file "$T_TMP/bpw"
secret_file "$T_TMP/pass2" 'another passphrase here'
expect 0 "secret restore with a new passphrase" "$S" --vault "$URI" secret restore \
    "$T_TMP/secret2.bak" --password-file "$T_TMP/bpw" --new-passphrase-file "$T_TMP/pass2"
expect 6 "the old passphrase opens nothing" "$S" --vault "$URI" creds get payroll
expect 0 "the new one does" env SSOVAULT_PASSPHRASE_FILE="$T_TMP/pass2" \
    "$S" --vault "$URI" creds get payroll --field password

# and out again, into a directory
expect 0 "store copy from the database into a new directory" env \
    SSOVAULT_PASSPHRASE_FILE="$T_TMP/pass2" "$S" --vault "$URI" store copy --to "$T_TMP/back"
expect 0 "the directory's audit chain verifies" env SSOVAULT_PASSPHRASE_FILE="$T_TMP/pass2" \
    "$S" --vault "$T_TMP/back" audit verify
expect 0 "its credentials" env SSOVAULT_PASSPHRASE_FILE="$T_TMP/pass2" \
    "$S" --vault "$T_TMP/back" creds get payroll --field password
is "$OUT" "pw-one" "  are the same"
[ "$(stat -c %a "$T_TMP/back")" = 700 ]
ok $? "the new directory is 0700"

# refusals
expect 1 "a URI with a password is refused" "$S" store copy --to "postgresql://u:Hunter2pw@127.0.0.1/x"
unlike "$ERR" "Hunter2pw" "  without showing the password"
like "$ERR" "pgpass" "  saying where it goes"
expect 1 "a --vault URI with a password is refused" "$S" --vault "postgresql://u:Hunter2pw@127.0.0.1/x" status
unlike "$ERR" "Hunter2pw" "  without showing it either"
"$SSOVAULTD" --vault "$URI" --socket "$T_TMP/d.sock" --passphrase-file "$T_TMP/pass2" \
    --log-file "$T_TMP/d.log" --journal-dir "$T_TMP/journal" 2>/dev/null &
dpid=$!
for i in $(seq 1 50); do SSOVAULT_SOCKET=$T_TMP/d.sock "$S" status >/dev/null 2>&1 && break; sleep 0.1; done
expect 1 "store copy through the daemon is refused" env SSOVAULT_SOCKET="$T_TMP/d.sock" \
    "$S" store copy --to "$T_TMP/elsewhere"
like "$ERR" "embedded mode" "  it runs in embedded mode"
[ ! -e "$T_TMP/elsewhere" ]
ok $? "  and wrote nothing"
kill "$dpid"
wait "$dpid"
done_testing
