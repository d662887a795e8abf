#!/usr/bin/env bash
# ENTSSO XML import: applications and mappings from ssomanage files, all or
# nothing; malformed XML, entity bombs and external entities are refused.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/apps/lib-apps.sh"
S=$SSOVAULT
new_vault

cat > "$T_TMP/apps.xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<sso>
  <!-- an ENTSSO sample, as ssomanage -createapps takes it -->
  <application name="SAP">
    <description>The SAP application &amp; friends</description>
    <contact>someone@example.com</contact>
    <appuserAccount>DOMAIN\AppUserGroupAccount</appuserAccount>
    <appAdminAccount>DOMAIN\AppAdminGroupAccount</appAdminAccount>
    <appUserAccount>uid:5003</appUserAccount>
    <field ordinal="1" label="Password" masked="yes" />
    <field ordinal="0" label="User Id" masked="no" />
    <flags groupApp="no" configStoreApp="no" allowTickets="no" validateTickets="no"
           allowLocalAccounts="yes" timeoutTickets="yes" adminAccountSame="no" enableApp="yes" />
  </application>
  <application name="Team">
    <description>a group app</description>
    <appUserAccount>DOMAIN\Staff</appUserAccount>
    <flags groupApp="yes" enableApp="no" />
  </application>
  <mapping>
    <windowsDomain>DOMAIN</windowsDomain>
    <windowsUserId>alice</windowsUserId>
    <externalApplication>sap</externalApplication>
    <externalUserId>ALICE01</externalUserId>
  </mapping>
  <mapping>
    <windowsUserId>uid:5003</windowsUserId>
    <externalApplication>SAP</externalApplication>
    <externalUserId>U5003</externalUserId>
  </mapping>
  <mapping>
    <windowsDomain>DOMAIN</windowsDomain>
    <windowsUserId>Staff</windowsUserId>
    <externalApplication>Team</externalApplication>
    <externalUserId>shared</externalUserId>
  </mapping>
</sso>
XML
expect 0 "import an ENTSSO file" $S app import "$T_TMP/apps.xml"
like "$OUT" "Imported 2 application\(s\) and 3 mapping\(s\)" "  counts what it made"
expect 0 "show the app" $S --json app show sap
is "$(echo "$OUT" | jpath 'd["name"], d["description"], d["contact"]')" \
	"('SAP', 'The SAP application & friends', 'someone@example.com')" "name, description, contact"
is "$(echo "$OUT" | jpath 'd["admins"], d["users"]')" \
	"(['group:AppAdminGroupAccount'], ['group:AppUserGroupAccount', 'uid:5003'])" \
	"DOMAIN\\name accounts become groups; principals stay"
is "$(echo "$OUT" | jpath '[(f["label"], f["masked"]) for f in d["fields"]]')" \
	"[('User Id', False), ('Password', True)]" "fields in ordinal order, masked as given"
is "$(echo "$OUT" | jpath 'd["enabled"], d["allow_local_accounts"], d["allow_tickets"], d["type"]')" \
	"(True, True, False, 'individual')" "flags"
expect 0 "show the group app" $S --json app show team
is "$(echo "$OUT" | jpath 'd["type"], d["enabled"]')" "('group', False)" "groupApp makes a group app"
expect 0 "mapping list" $S --json mapping list
is "$(echo "$OUT" | jpath 'sorted((m["app"], m["principal"], m["external_user"], m["enabled"]) for m in d)')" \
	"[('SAP', 'uid:5003', 'U5003', False), ('SAP', 'user:alice', 'ALICE01', False), ('Team', 'group:Staff', 'shared', False)]" \
	"mappings: users for individual apps, the group for a group app, disabled"
echo '{"password": "pw"}' | $S creds set sap --user uid:5003 --from-file - >/dev/null
expect 0 "imported mappings take credentials" $S creds get sap --user uid:5003 --field "user id"
is "$OUT" "U5003" "  the external user from the file"

count_apps() { $S --json app list | jpath 'len(d)'; }
expect 1 "importing the same file again" $S app import "$T_TMP/apps.xml"
like "$ERR" "line 4: application 'SAP': an application named 'SAP' already exists" "  names the line"
is "$(count_apps)" "2" "  and changes nothing"

# all or nothing: a good application, then a bad mapping
cat > "$T_TMP/half.xml" <<'XML'
<sso>
  <application name="Good"><field ordinal="0" label="u"/></application>
  <mapping>
    <windowsUserId>bob</windowsUserId>
    <externalApplication>NoSuchApp</externalApplication>
    <externalUserId>b</externalUserId>
  </mapping>
</sso>
XML
expect 1 "a file whose mapping names no app" $S app import "$T_TMP/half.xml"
like "$ERR" "line 3: <mapping>: no affiliate application 'NoSuchApp'" "  names the line and the app"
expect 1 "the good application before it" $S app show Good
is "$(count_apps)" "2" "  was not kept"

printf '<sso><application name="Broken"><description>x</description></application>\n<mapping>' > "$T_TMP/malformed.xml"
expect 1 "malformed XML" $S app import "$T_TMP/malformed.xml"
like "$ERR" "not well-formed XML: line [0-9]+" "  says where"
is "$(count_apps)" "2" "  and nothing is imported"

cat > "$T_TMP/bomb.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE sso [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<sso><application name="Bomb"><description>&g;</description></application></sso>
XML
# refused before libxml2 sees it: no entity is ever expanded (no timing:
# the refusal names the DTD, which is checked before parsing)
expect 1 "an entity bomb" $S app import "$T_TMP/bomb.xml"
like "$ERR" "DTDs are not accepted" "  is refused before it is parsed: DTDs are not accepted"

cat > "$T_TMP/xxe.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE sso [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<sso><application name="Xxe"><description>&xxe;</description></application></sso>
XML
expect 1 "an external entity" $S app import "$T_TMP/xxe.xml"
like "$ERR" "DTDs are not accepted" "  is refused"
printf '<sso><application name="Xxe"><description>&xxe;</description></application></sso>' > "$T_TMP/undeclared.xml"
expect 1 "an undeclared entity" $S app import "$T_TMP/undeclared.xml"
like "$ERR" "Entity 'xxe' not defined" "  is not well-formed"
is "$(count_apps)" "2" "none of them imported anything"

printf '<apps/>' > "$T_TMP/root.xml"
expect 1 "another root element" $S app import "$T_TMP/root.xml"
like "$ERR" "root element must be <sso>" "  is refused"
printf '<sso><application name="F"><field ordinal="0" label="u"/><field ordinal="2" label="p"/></application></sso>' > "$T_TMP/gap.xml"
expect 1 "field ordinals with a gap" $S app import "$T_TMP/gap.xml"
like "$ERR" "without gaps" "  are refused"
printf '<sso><application name="F"><flags enableApp="perhaps"/></application></sso>' > "$T_TMP/flag.xml"
expect 1 "a flag that is not yes or no" $S app import "$T_TMP/flag.xml"
like "$ERR" "line 1: application 'F': enableApp must be yes or no" "  is named"
printf '<sso><application name="F"><colour>red</colour></application></sso>' > "$T_TMP/unknown.xml"
expect 1 "an unknown element under --strict" $S app import --strict "$T_TMP/unknown.xml"
like "$ERR" "--strict: 1 warning\\(s\\), nothing was changed; the first: unknown element <colour> of 'F' ignored \\(line 1\\)" \
	"  is an error naming the element, the app and the line"
is "$(count_apps)" "2" "  and nothing is imported"
expect 0 "an unknown element without --strict" $S app import "$T_TMP/unknown.xml"
like "$ERR" "warning: unknown element <colour> of 'F' ignored \\(line 1\\)" "  is a warning naming it"
is "$(count_apps)" "3" "  and the app imports"
printf '<sso><application name="G"><appUserAccount>DOMAIN\\Domain Users</appUserAccount></application></sso>' > "$T_TMP/space.xml"
expect 0 "an account name with a space" $S app import "$T_TMP/space.xml"
like "$ERR" "account 'DOMAIN.Domain Users' \\(looked up as 'Domain Users'\\) names no group on this host: imported as group:Domain Users \\(line 1\\)" \
	"  is kept with a warning that it names nothing here"
is "$($S --json app show G | jpath 'd["users"]')" "['group:Domain Users']" "  as the group it names"
head -c $((4 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' > "$T_TMP/big.xml"
expect 1 "a file over 4 MiB" $S app import "$T_TMP/big.xml"
expect 1 "a missing file" $S app import "$T_TMP/none.xml"

# an affiliate admin imports; others may not
share_vault
$S role add affiliate-admin uid:5001 >/dev/null
printf '<sso><application name="ByAff"><appAdminAccount>uid:5002</appAdminAccount></application></sso>' > "$T_TMP/aff.xml"
chmod 644 "$T_TMP/aff.xml" "$T_TMP/apps.xml"
expect 0 "an affiliate admin imports" run_as 5001 7000 app import "$T_TMP/aff.xml"
printf '<sso><application name="ByAff2"><flags allowTickets="yes"/></application></sso>' > "$T_TMP/aff2.xml"
chmod 644 "$T_TMP/aff2.xml"
expect 5 "but not ticket flags" run_as 5001 7000 app import "$T_TMP/aff2.xml"
like "$ERR" "line 1: application 'ByAff2': access denied: uid 5001 is not a vault admin" \
	"  the denial names the application and the line"
expect 5 "an app admin may not import" run_as 5002 7000 app import "$T_TMP/apps.xml"
like "$ERR" "is not an affiliate admin" "  names the missing role"

expect 0 "audit list" $S --json audit list
is "$(echo "$OUT" | jpath '[e["outcome"] for e in d if e["op"] == "app import"][:2]')" \
	"['ok', 'already exists']" "imports are audited, with their outcome" 
done_testing
