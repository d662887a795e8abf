#!/usr/bin/env bash
# The memo of lookups (sso/core/memo.c; docs/SECURITY.md, "The memo of
# lookups") against other local users, through a real ssovaultd and real uids.
# A granted user's answer is kept; then
#   - another uid sends the very same request (its own credentials, and the
#     granted user's by name): refused, and nothing of the answer is printed;
#   - the same uid without the group the grant named: refused;
#   - the same uid with one group more: answered by its own check;
#   - the grant revoked: the next read is refused at once;
#   - every answered read has its audit record.
# uid 5611 is granted by uid, uid 5613 through group 5650; uid 5612 is nobody.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

V=$SSOVAULT
new_vault --key-file "$T_TMP/key"
payroll_for 5611
expect 0 "group app team" "$V" app create team --type group --enable --user gid:5650 \
    --field user --field password:masked
expect 0 "mapping for gid:5650" "$V" mapping create team gid:5650 teamext
printf '{"user": "teamext", "password": "team-secret"}' > "$T_TMP/t.json"
expect 0 "creds set for gid:5650" "$V" creds set team --user gid:5650 --from-file "$T_TMP/t.json"
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts"
chmod 755 "$T_TMP"

for i in 1 2 3; do
	expect 0 "uid 5611 reads its password ($i: kept after the first)" \
	    as_user 5611 5611 "$V" creds get payroll --field password
	is "$OUT" "pw5611" "  the password"
done
expect 5 "uid 5612 sends the same request" as_user 5612 5612 "$V" creds get payroll --field password
unlike "$OUT$ERR" "pw5611" "  and sees nothing of the answer"
expect 5 "uid 5612 asks for uid 5611's by name" \
    as_user 5612 5612 "$V" creds get payroll --user uid:5611 --field password
unlike "$OUT$ERR" "pw5611" "  nothing either"

for i in 1 2; do
	expect 0 "uid 5613 in group 5650 reads the team's password ($i)" \
	    as_user 5613 5613,5650 "$V" creds get team --field password
	is "$OUT" "team-secret" "  the password"
done
expect 5 "the same uid without group 5650: refused" as_user 5613 5613 "$V" creds get team --field password
unlike "$OUT$ERR" "team-secret" "  and nothing of the answer"
expect 0 "the same uid with a group more: answered" \
    as_user 5613 5613,5650,5651 "$V" creds get team --field password

expect 0 "uid 5611 reads again" as_user 5611 5611 "$V" creds get payroll --field password
expect 0 "the grant of uid 5611 is revoked" "$V" app update payroll --remove-user uid:5611
expect 5 "its next read is refused" as_user 5611 5611 "$V" creds get payroll --field password
unlike "$OUT" "pw5611" "  without the password"

is "$(audit_count uid=5611 "op=creds get" outcome=ok)" "4" "uid 5611's 4 answered reads are on record"
is "$(audit_count uid=5613 "op=creds get" outcome=ok)" "3" "uid 5613's 3 answered reads are on record"
daemon_stop
done_testing
