#!/usr/bin/env bash
# App lifecycle through the CLI: create, list, show, update, enable,
# disable, delete; names ignore case and keep it; bad input is refused.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/apps/lib-apps.sh"
S=$SSOVAULT
new_vault

expect 0 "create an app" $S app create Payroll --description "Payroll SOAP API" \
	--contact ops@example.com --admin uid:5002 --user uid:5003 --user Group:staff
like "$OUT" "Created application 'Payroll' \(disabled" "it says it starts disabled"
expect 0 "show it by another case" $S --json app show PAYROLL
is "$(echo "$OUT" | jpath 'd["name"]')" "Payroll" "the name keeps its case"
is "$(echo "$OUT" | jpath 'd["enabled"]')" "False" "created disabled"
is "$(echo "$OUT" | jpath 'd["type"]')" "individual" "individual by default"
is "$(echo "$OUT" | jpath '",".join(d["users"])')" "uid:5003,group:staff" "principals are canonical"
is "$(echo "$OUT" | jpath '",".join(f["label"] + ("*" if f["masked"] else "") for f in d["fields"])')" \
	"username,password*" "default fields: username and a masked password"
is "$(echo "$OUT" | jpath 'd["allow_tickets"], d["ticket_timeout"], d["ticket_reuse"]')" \
	"(False, 0, False)" "ticket flags off by default"

expect 0 "human show" $S app show payroll
like "$OUT" "contact: +ops@example.com" "shows the contact"
like "$OUT" "1  password  \(masked\)" "shows the masked field"

expect 1 "the same name in another case" $S app create PAYROLL
like "$ERR" "already exists \(names ignore case\)" "  is refused as existing"
expect 1 "a name with a control character" $S app create "$(printf 'pay\troll')"
like "$ERR" "invalid application name" "  is an invalid name"
expect 1 "a name ending in a space" $S app create "payroll "
like "$ERR" "no control characters|without control characters or a space at either end" "  says the rule"
expect 1 "a name of 129 characters" $S app create "$(printf 'a%.0s' $(seq 129))"
expect 1 "a bad principal" $S app create Bad --admin bob
like "$ERR" "invalid principal" "  says why"
expect 1 "a masked field 0" $S app create Bad --field user:masked
like "$ERR" "field 0 .* cannot be masked" "  says why"
expect 1 "the same label twice" $S app create Bad --field user --field USER
like "$ERR" "given twice" "  says why"
expect 2 "an unknown type" $S app create Bad --type team
expect 1 "no app was made by the refusals" $S app show Bad

expect 0 "list" $S app list
like "$OUT" "^NAME +TYPE" "a table with a header"
like "$OUT" "Payroll +individual +disabled" "with the app"
expect 0 "list as JSON" $S --json app list
is "$(echo "$OUT" | jpath 'len(d)')" "1" "one app"

expect 0 "update description and users" $S app update payroll --description "new text" \
	--add-user uid:5010 --remove-user group:staff
expect 0 "show after update" $S --json app show payroll
is "$(echo "$OUT" | jpath 'd["description"]')" "new text" "description changed"
is "$(echo "$OUT" | jpath '",".join(d["users"])')" "uid:5003,uid:5010" "user list changed"
expect 0 "replace the admin list" $S app update payroll --admin uid:5020 --admin gid:77
expect 0 "show" $S --json app show payroll
is "$(echo "$OUT" | jpath '",".join(d["admins"])')" "uid:5020,gid:77" "admin list replaced"
expect 2 "the type is fixed" $S app update payroll --type group
expect 2 "the fields are fixed" $S app update payroll --field x
expect 2 "an update with nothing to change" $S app update payroll
expect 0 "a vault admin sets ticket flags" $S app update payroll --allow-tickets --ticket-timeout 30
expect 0 "show" $S --json app show payroll
is "$(echo "$OUT" | jpath 'd["allow_tickets"], d["ticket_timeout"]')" "(True, 30)" "ticket flags set"
expect 2 "a ticket timeout out of range" $S app update payroll --ticket-timeout 525601
expect 1 "update of an unknown app" $S app update nosuch --description x
like "$ERR" "no affiliate application 'nosuch'" "  says so"

expect 0 "enable" $S app enable PAYROLL
expect 0 "show" $S --json app show payroll
is "$(echo "$OUT" | jpath 'd["enabled"]')" "True" "enabled"
expect 0 "disable" $S app disable payroll
expect 0 "show" $S --json app show payroll
is "$(echo "$OUT" | jpath 'd["enabled"]')" "False" "disabled"

expect 0 "create enabled, as a group app" $S app create Team --type group --enable \
	--user gid:6000 --field account --field secret:masked --field realm
expect 0 "show" $S --json app show team
is "$(echo "$OUT" | jpath 'd["enabled"], d["type"], len(d["fields"])')" "(True, 'group', 3)" \
	"enabled group app with three fields"

# delete takes the mappings with it
expect 0 "a mapping" $S mapping create payroll uid:5003 u3
expect 0 "another" $S mapping create payroll uid:5010 u10
expect 0 "a mapping of the other app" $S mapping create team gid:6000 t
expect 0 "delete the app" $S app delete Payroll
expect 1 "it is gone" $S app show payroll
like "$ERR" "no affiliate application 'payroll'" "  not found"
expect 0 "mapping list" $S --json mapping list
is "$(echo "$OUT" | jpath '[m["app"] for m in d]')" "['Team']" "its mappings are gone, the other app's stay"
expect 0 "create it again" $S app create payroll
expect 0 "mapping list of the new app" $S --json mapping list payroll
is "$(echo "$OUT" | jpath 'len(d)')" "0" "no mapping comes back"
expect 1 "delete an unknown app" $S app delete payroll2

expect 0 "audit list" $S --json audit list
is "$(echo "$OUT" | jpath 'sum(1 for e in d if e["op"] in ("app create", "app update", "app enable", "app disable", "app delete") and e["outcome"] == "ok")')" \
	"9" "every change is audited"
like "$(echo "$OUT" | jpath '[e["object"] for e in d if e["op"] == "app delete"]')" "Payroll" \
	"the delete names the app"
done_testing
