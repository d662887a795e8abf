#!/usr/bin/env bash
# Finding 10: an admin disables a user's mapping (the account is suspended,
# the user left the project); the user turns it back on, with `mapping
# enable` or with `creds set`, which enables.  Through a real ssovaultd, as
# real uids: an admin's disable must hold until an admin (app admin,
# affiliate admin or vault admin) enables the mapping, and must not turn
# into a user's disable when the user disables it too; the user's own
# disable stays the user's to undo.  `mapping list` says who disabled it.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

S=$SSOVAULT
ADM=5610	# app admin of payroll
USR=5611	# app user of payroll, mapped
AFF=5612	# affiliate admin
new_vault --key-file "$T_TMP/key"
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts"
"$S" role add affiliate-admin uid:$AFF >/dev/null &&
    "$S" app create payroll --enable --admin uid:$ADM --user uid:$USR \
    --field user --field password:masked >/dev/null &&
    "$S" mapping create payroll uid:$USR ext$USR >/dev/null
ok $? "app payroll, uid $ADM its admin, uid $USR mapped, uid $AFF an affiliate admin"

creds() {	# creds NAME PASSWORD: a credentials file any uid may read
	printf '{"password": "%s"}' "$2" > "$T_TMP/$1.json" && chmod 644 "$T_TMP/$1.json"
}
as() {	# as UID ARGS...: the CLI as that uid
	local u=$1
	shift
	as_user "$u" "$u" "$S" "$@"
}
# state: uid $USR's mapping as mapping list --json says: "enabled" or
# "disabled BY UID" (null for either when not set)
state() {
	"$S" --json mapping list payroll | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if m["principal"] == sys.argv[1]:
        print("enabled" if m["enabled"] else
              "disabled %s %s" % (m.get("disabled_by"), m.get("disabled_by_uid")))' "uid:$USR"
}

creds first 'first password'
expect 0 "uid $USR sets its credentials, which enables its mapping" as $USR creds set payroll --from-file "$T_TMP/first.json"
is "$(state)" "enabled" "precondition: enabled"

# --- an app admin's disable --------------------------------------------------------
expect 0 "the app admin disables it" as $ADM mapping disable payroll uid:$USR
is "$(state)" "disabled admin $ADM" "mapping list: disabled by an admin, uid $ADM"
expect 5 "uid $USR may not enable it again" as $USR mapping enable payroll uid:$USR
like "$ERR" "access denied: uid $USR is not an app admin of 'payroll': an admin \(uid $ADM\) disabled this mapping; only an admin may enable it" \
    "... saying who disabled it and who may enable it"
is "$(state)" "disabled admin $ADM" "... it stays disabled"
creds second 'second password'
expect 5 "uid $USR may not enable it by setting its credentials" as $USR creds set payroll --from-file "$T_TMP/second.json"
like "$ERR" "only an admin may set its credentials" "... saying so"
is "$(state)" "disabled admin $ADM" "... it stays disabled"
expect 1 "uid $USR gets no credentials from it" as $USR creds get payroll --field password
like "$ERR" "is disabled" "... it is disabled"
expect 0 "uid $USR disables it too" as $USR mapping disable payroll uid:$USR
is "$(state)" "disabled admin $ADM" "... which leaves it the admin's"
expect 5 "so uid $USR still may not enable it" as $USR mapping enable payroll uid:$USR
expect 0 "uid $USR's own listing" as $USR mapping list payroll
like "$OUT" "disabled by admin uid $ADM" "... shows who disabled it"
expect 0 "the app admin enables it" as $ADM mapping enable payroll uid:$USR
is "$(state)" "enabled" "... enabled again"
expect 0 "uid $USR reads its credentials" as $USR creds get payroll --field password
is "$OUT" "first password" "... the refused creds set changed nothing"

# --- the user's own disable is the user's ----------------------------------------------
expect 0 "uid $USR disables its own mapping" as $USR mapping disable payroll uid:$USR
is "$(state)" "disabled user $USR" "mapping list: disabled by the user, uid $USR"
expect 0 "... and enables it again" as $USR mapping enable payroll uid:$USR
expect 0 "uid $USR disables it once more" as $USR mapping disable payroll uid:$USR
expect 0 "... and its creds set enables it" as $USR creds set payroll --from-file "$T_TMP/second.json"
is "$(state)" "enabled" "... enabled"

# --- affiliate and vault admins are admins too -------------------------------------------
expect 0 "an affiliate admin disables it" as $AFF mapping disable payroll uid:$USR
is "$(state)" "disabled admin $AFF" "... disabled by an admin, uid $AFF"
expect 5 "uid $USR may not enable it" as $USR mapping enable payroll uid:$USR
expect 0 "the vault admin (root) enables it" "$S" mapping enable payroll uid:$USR
expect 0 "uid $USR disables it" as $USR mapping disable payroll uid:$USR
expect 0 "then the vault admin disables it" "$S" mapping disable payroll uid:$USR
is "$(state)" "disabled admin 0" "... an admin's now, uid 0"
expect 5 "uid $USR may not enable it by creds set" as $USR creds set payroll --from-file "$T_TMP/first.json"
expect 0 "the affiliate admin enables it" as $AFF mapping enable payroll uid:$USR
is "$(state)" "enabled" "... enabled"

# --- every refusal is audited ----------------------------------------------------------
# repeats of one refusal within a minute are counted into one record,
# written at the latest when the daemon stops (docs/audit.md)
daemon_stop
ok $? "ssovaultd stops cleanly, writing the counts it holds"
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts again"
n=$(audit_sum uid=$USR "outcome=access denied")
is "$n" 5 "the five refusals of uid $USR are in the audit trail"

done_testing
