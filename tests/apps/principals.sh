#!/usr/bin/env bash
# Principals checked (issue 17): a user: or group: name this host does not
# know is stored with a warning that names the closest one, and refused
# under --strict; uid:N and user:NAME of one account find the same mapping;
# a mapping for someone outside the app's users draws a warning; a name
# with an escape sequence is never printed beside its uid.  The
# accounts are this test's own: a mount namespace with an overlay on /etc,
# so the host's /etc/passwd and /etc/group are never changed.
if [ -z "${PRINCIPALS_NS:-}" ]; then
	exec unshare --mount --propagation private env PRINCIPALS_NS=1 bash "$0" "$@"
fi
. "$SOURCE_ROOT/tests/lib.sh"

# an overlay, not a bind mount of the files: another test's useradd on the
# host replaces /etc/passwd by rename, which a file bind mount does not survive
mkdir -p "$T_TMP/etc-up" "$T_TMP/etc-work"
mount -t overlay principals-etc -o "lowerdir=/etc,upperdir=$T_TMP/etc-up,workdir=$T_TMP/etc-work" /etc &&
    echo "ssovt-alice:x:5401:5400::/nonexistent:/usr/sbin/nologin" >> /etc/passwd &&
    echo "ssovt-bob:x:5402:5402::/nonexistent:/usr/sbin/nologin" >> /etc/passwd &&
    echo "ssovt-staff:x:5400:ssovt-alice" >> /etc/group &&
    echo "ssovt-bob:x:5402:" >> /etc/group
ok $? "accounts of this test only: ssovt-alice (uid 5401, in ssovt-staff), ssovt-bob (uid 5402)"
is "$(id -u ssovt-alice)" "5401" "... the name service sees them"

V=$SSOVAULT
new_vault

# --- names this host does not know
expect 0 "init --admin group:ssovt-admins (no such group) in a new vault" \
    "$V" --vault "$T_TMP/v2" init --kdf-limits interactive --passphrase-file "$T_TMP/pass" --admin group:ssovt-admins
like "$ERR" "warning: group 'ssovt-admins' does not exist on this host" "... warns that the group does not exist"
expect 1 "--strict init --admin group:ssovt-admins" \
    "$V" --strict --vault "$T_TMP/v3" init --kdf-limits interactive --passphrase-file "$T_TMP/pass" --admin group:ssovt-admins
like "$ERR" "group 'ssovt-admins' does not exist on this host.*--strict" "... is an error"
[ ! -e "$T_TMP/v3" ]
ok $? "... and no vault was made"

expect 0 "app create payroll --user group:ssovt-staff (a known group)" \
    "$V" app create payroll --user group:ssovt-staff --field username --field password:masked --enable
is "$ERR" "" "... no warning"
expect 0 "app update --add-user user:ssovt-alicee (misspelt)" "$V" app update payroll --add-user user:ssovt-alicee
like "$ERR" "warning: user 'ssovt-alicee' does not exist on this host; did you mean user:ssovt-alice\?" \
    "... warns and says the name it probably meant"
expect 1 "app update --strict --add-user user:ssovt-bobb" "$V" app update payroll --strict --add-user user:ssovt-bobb
like "$ERR" "user 'ssovt-bobb' does not exist on this host; did you mean user:ssovt-bob\?" "... is refused under --strict"
"$V" --json app show payroll > show.json 2>/dev/null
unlike "$(cat show.json)" "ssovt-bobb" "... and the user list is unchanged"
expect 0 "role add affiliate-admin group:ssovt-integration" "$V" role add affiliate-admin group:ssovt-integration
like "$ERR" "warning: group 'ssovt-integration' does not exist" "... warns"
expect 0 "app update --add-admin uid:7777 (numbers are never checked)" "$V" app update payroll --add-admin uid:7777
is "$ERR" "" "... no warning"

# --- a mapping outside the app's users
expect 0 "mapping create for user:ssovt-alice (in group:ssovt-staff, an app user)" \
    "$V" mapping create payroll user:ssovt-alice alice@payroll
is "$ERR" "" "... no warning"
expect 0 "mapping create for user:ssovt-bob (not an app user)" "$V" mapping create payroll user:ssovt-bob bob@payroll
like "$ERR" "warning: user:ssovt-bob is not among the users of 'payroll'.*--add-user user:ssovt-bob" \
    "... warns, with the command that makes it a user"
expect 1 "--strict mapping create for uid:5999 (not an app user)" "$V" --strict mapping create payroll uid:5999 x
like "$ERR" "uid:5999 is not among the users of 'payroll'" "... is refused"

# --- uid:N and user:NAME are one account
secret_file "$T_TMP/alice.json" '{"username": "alice@payroll", "password": "s3cret"}'
expect 0 "creds set --user user:ssovt-alice" "$V" creds set payroll --user user:ssovt-alice --from-file "$T_TMP/alice.json"
expect 0 "creds get --user uid:5401 (the same account by number)" "$V" creds get payroll --user uid:5401 --field password
is "$OUT" "s3cret" "... finds user:ssovt-alice's mapping"
expect 1 "mapping create uid:5401 while user:ssovt-alice is mapped" "$V" mapping create payroll uid:5401 again
like "$ERR" "uid:5401 is already mapped in 'payroll' \(as user:ssovt-alice\)" "... is refused: one account, one mapping"
expect 0 "mapping disable payroll uid:5401" "$V" mapping disable payroll uid:5401
expect 1 "... creds get --user user:ssovt-alice now says disabled" "$V" creds get payroll --user user:ssovt-alice
like "$ERR" "disabled" "... the same mapping was disabled"
expect 0 "mapping delete payroll uid:5401" "$V" mapping delete payroll uid:5401
"$V" --json mapping list payroll > maps.json
unlike "$(cat maps.json)" "ssovt-alice" "... deleted user:ssovt-alice's mapping"
expect 0 "mapping list payroll" "$V" mapping list payroll
like "$OUT" "user:ssovt-bob" "... user:ssovt-bob's mapping is still there"

# --- a name that could steer a terminal is not printed beside its uid
printf 'ssovt-\033[2Jwipe:x:5404:5404::/nonexistent:/usr/sbin/nologin\n' >> /etc/passwd
mkdir -m 700 "$T_TMP/v5404" && chown 5404:5404 "$T_TMP/v5404"
P5404=$(secret_copy 5404 "$T_TMP/pass")
as5404() { env -u SSOVAULT_DIR -u SSOVAULT_PASSPHRASE_FILE setpriv --reuid=5404 --regid=5404 --clear-groups -- "$V" --vault "$T_TMP/v5404" "$@"; }
as5404 init --kdf-limits interactive --passphrase-file "$P5404" > /dev/null
ok $? "uid 5404, whose name holds an escape sequence, made a vault"
run env SSOVAULT_PASSPHRASE_FILE="$P5404" setpriv --reuid=5404 --regid=5404 --clear-groups -- \
    "$V" --vault "$T_TMP/v5404" audit list
like "$OUT" "uid 5404 +init " "audit list shows uid 5404 beside its record"
unlike "$OUT" $'\033' "... and not its name: no escape byte reaches the terminal"

done_testing
