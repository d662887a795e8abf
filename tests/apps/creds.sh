#!/usr/bin/env bash
# Mappings and credentials through the CLI: mappings start disabled, setting
# credentials enables them, deleting needs them disabled; --from-file, stdin,
# --field, --json; group apps; other uids denied with exit 5.  Other uids run
# embedded on the same vault (share_vault makes its files group/world
# writable, for this test only).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/apps/lib-apps.sh"
S=$SSOVAULT
new_vault

expect 0 "an app with three fields" $S app create Payroll --enable --admin uid:5002 \
	--user uid:5003 --user uid:5010 --field "User Id" --field Password:masked --field Domain
expect 0 "map uid:5003" $S mapping create payroll uid:5003 u3
like "$OUT" "disabled until its credentials are set" "  it says the mapping waits for credentials"
expect 0 "mapping list" $S --json mapping list payroll
is "$(echo "$OUT" | jpath 'd[0]["principal"], d[0]["external_user"], d[0]["enabled"], d[0]["credentials_set"]')" \
	"('uid:5003', 'u3', False, False)" "a new mapping is disabled, without credentials"
expect 1 "map it twice" $S mapping create payroll uid:5003 other
like "$ERR" "already mapped" "  refused"
expect 1 "map a group in an individual app" $S mapping create payroll group:staff x
expect 1 "enable before credentials" $S mapping enable payroll uid:5003
like "$ERR" "never set" "  says to set them first"
expect 1 "creds get before they are set" $S creds get payroll --user uid:5003
like "$ERR" "no credentials are set for uid:5003 in 'Payroll'" "  says so"

SECRET='p@ss "q" \ ü'
printf '{"Password": "p@ss \\"q\\" \\\\ \\u00fc", "domain": "CORP"}\n' > "$T_TMP/c.json"
expect 0 "creds set --from-file" $S creds set payroll --user uid:5003 --from-file "$T_TMP/c.json"
expect 0 "mapping list" $S --json mapping list
is "$(echo "$OUT" | jpath 'd[0]["enabled"], d[0]["credentials_set"]')" "(True, True)" \
	"setting credentials enables the mapping"
unlike "$OUT" "p@ss" "the list holds no value"
expect 0 "creds get --field (label in any case)" $S creds get payroll --user uid:5003 --field password
is "$OUT" "$SECRET" "the exact value comes back"
expect 0 "creds get" $S creds get payroll --user uid:5003
is "$OUT" "$(printf 'User Id: u3\nPassword: %s\nDomain: CORP' "$SECRET")" "label: value lines, masked too"
expect 0 "creds get --json" $S creds get payroll --user uid:5003 --json
is "$(echo "$OUT" | jpath 'd["app"], d["user"], d["external_user"]')" "('Payroll', 'uid:5003', 'u3')" \
	"JSON names app, user and external user"
is "$(echo "$OUT" | jpath 'd["fields"]["Password"]')" "$SECRET" "JSON carries the value, escaped"
is "$(echo "$OUT" | jpath 'list(d["fields"])')" "['User Id', 'Password', 'Domain']" "fields in app order"

echo '{"Password": "second"}' | $S creds set payroll --user uid:5003 --from-file - >/dev/null
ok $? "creds set from stdin"
expect 0 "get" $S creds get payroll --user uid:5003 --field Password
is "$OUT" "second" "the value changed"
expect 0 "get" $S creds get payroll --user uid:5003 --field domain
is "$OUT" "CORP" "fields not given keep their value"
echo '{"user id": "u3b"}' | $S creds set payroll --user uid:5003 --from-file - >/dev/null
ok $? "setting field 0"
expect 0 "mapping list" $S --json mapping list payroll
is "$(echo "$OUT" | jpath 'd[0]["external_user"]')" "u3b" "changes the external user"

printf '{"Password": "x", "nope": "y"}' > "$T_TMP/bad.json"
expect 1 "an unknown label" $S creds set payroll --user uid:5003 --from-file "$T_TMP/bad.json"
like "$ERR" "no field 'nope' in 'Payroll'" "  is named"
expect 0 "get" $S creds get payroll --user uid:5003 --field password
is "$OUT" "second" "  and nothing changed"
printf '{"Password": "topsecretvalue' > "$T_TMP/bad.json"
expect 1 "bad JSON" $S creds set payroll --user uid:5003 --from-file "$T_TMP/bad.json"
like "$ERR" "not valid JSON \(line 1" "  says where"
unlike "$ERR" "topsecretvalue" "  without quoting the secret"
printf '["x"]' > "$T_TMP/bad.json"
expect 1 "not an object" $S creds set payroll --user uid:5003 --from-file "$T_TMP/bad.json"
printf '{"Password": 5}' > "$T_TMP/bad.json"
expect 1 "a value that is not a string" $S creds set payroll --user uid:5003 --from-file "$T_TMP/bad.json"
printf '{"Password": "a", "Password": "b"}' > "$T_TMP/bad.json"
expect 1 "a label twice" $S creds set payroll --user uid:5003 --from-file "$T_TMP/bad.json"
expect 1 "no such file" $S creds set payroll --user uid:5003 --from-file "$T_TMP/none.json"
expect 2 "no file and no terminal" setsid -w $S creds set payroll --user uid:5003
like "$ERR" "no terminal .* --from-file" "  says to use --from-file"
expect 1 "an unknown --field" $S creds get payroll --user uid:5003 --field nope
like "$ERR" "no field 'nope'" "  is named"
expect 1 "credentials of an unmapped user" $S creds get payroll --user uid:5010
like "$ERR" "no mapping for uid:5010 in 'Payroll'" "  say there is no mapping"
expect 1 "credentials of root (no mapping of its own)" $S creds get payroll
like "$ERR" "no mapping for user:root in 'Payroll'" "  name the caller"

# disabled mapping, disabled app, delete rules
expect 0 "disable the mapping" $S mapping disable payroll uid:5003
expect 1 "creds get" $S creds get payroll --user uid:5003
like "$ERR" "the mapping of uid:5003 to 'Payroll' is disabled" "  a disabled mapping is refused"
expect 0 "enable the mapping" $S mapping enable payroll uid:5003
expect 0 "disable the app" $S app disable payroll
expect 1 "creds get" $S creds get payroll --user uid:5003
like "$ERR" "application 'Payroll' is disabled" "  a disabled app is refused"
expect 0 "enable the app" $S app enable payroll
expect 1 "delete an enabled mapping" $S mapping delete payroll uid:5003
like "$ERR" "disable the mapping first" "  needs it disabled"
expect 0 "a second mapping" $S mapping create payroll uid:5010 u10
expect 0 "delete a never-enabled mapping" $S mapping delete payroll uid:5010
expect 1 "delete it again" $S mapping delete payroll uid:5010

# other uids (embedded mode on a shared vault)
share_vault
expect 0 "the app user reads its own credentials" run_as 5003 7000 creds get payroll --field password
is "$OUT" "second" "  its own mapping"
expect 5 "an outsider" run_as 5004 7000 creds get payroll --user uid:5003
like "$ERR" "^ssovault: creds get payroll: access denied: uid 5004 is not an app user or admin of 'Payroll'" \
	"  is denied with the missing role named"
expect 5 "an app user reading another's" run_as 5010 7000 creds get payroll --user uid:5003
like "$ERR" "only admins read another user's credentials" "  is denied"
expect 5 "an app user setting another's" run_as 5010 7000 creds set payroll --user uid:5003 --from-file "$T_TMP/c.json"
expect 0 "the app admin reads a mapped user's" run_as 5002 7000 creds get payroll --user uid:5003 --field "user id"
is "$OUT" "u3b" "  the external user id"
expect 0 "the app user disables its own mapping" run_as 5003 7000 mapping disable payroll uid:5003
expect 0 "and enables it" run_as 5003 7000 mapping enable payroll uid:5003
expect 5 "the app user may not delete it" run_as 5003 7000 mapping delete payroll uid:5003
expect 5 "an app user may not create mappings" run_as 5003 7000 mapping create payroll uid:5003 z
expect 5 "the app admin may not change the description" run_as 5002 7000 app update payroll --description x
like "$ERR" "is not an affiliate admin: an app admin may change only the user list" "  says why"
expect 0 "but may change the user list" run_as 5002 7000 app update payroll --add-user uid:5011
expect 5 "an app admin may not delete the app" run_as 5002 7000 app delete payroll
expect 0 "the app user lists only its own mapping" run_as 5003 7000 --json mapping list
is "$(echo "$OUT" | jpath '[m["principal"] for m in d]')" "['uid:5003']" "  one mapping"
expect 5 "an outsider lists an app's mappings" run_as 5004 7000 mapping list payroll
expect 0 "an outsider lists all" run_as 5004 7000 --json app list
is "$OUT" "[]" "  and sees no app"

# group app: every member of the group gets the one account
expect 0 "a group app" $S app create Team --type group --enable --admin uid:5002 --user gid:6000
expect 1 "a user mapping in a group app" $S mapping create team uid:5005 x
like "$ERR" "is a group app" "  is refused"
expect 0 "map the group" $S mapping create team gid:6000 team-account
expect 1 "a second group mapping" $S mapping create team gid:6000 again
echo '{"password": "teampw"}' | $S creds set team --user gid:6000 --from-file - >/dev/null
ok $? "set the group's credentials"
expect 0 "a member of gid 6000 gets them" run_as 5005 7000,6000 creds get team --json
is "$(echo "$OUT" | jpath 'd["user"], d["fields"]["username"], d["fields"]["password"]')" \
	"('gid:6000', 'team-account', 'teampw')" "  the group's account"
expect 0 "another member too" run_as 5006 6000 creds get team --field password
is "$OUT" "teampw" "  the same password"
expect 5 "a non-member is denied" run_as 5004 7000 creds get team
expect 5 "a member may not set the group's credentials" run_as 5005 7000,6000 creds set team --user gid:6000 --from-file "$T_TMP/c.json"

# the audit trail has the reads and the denials, and never a value
expect 0 "audit list" $S --json audit list
is "$(echo "$OUT" | jpath 'sum(1 for e in d if e["op"] == "creds get" and e["outcome"] == "ok" and e["user"] == "uid:5003")')" \
	"9" "each credential read is audited with its user"
like "$(echo "$OUT" | jpath '[e["uid"] for e in d if e["op"] == "creds get" and e["outcome"] != "ok" and "access denied" in e["error"]]')" \
	"5004" "the denial is audited with the caller"
unlike "$OUT" "second|teampw|topsecretvalue|p@ss" "no credential value in the audit trail"
done_testing
