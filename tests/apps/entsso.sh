#!/usr/bin/env bash
# Moving from ENTSSO as it really is: the XML files Microsoft prints in its
# BizTalk / ENTSSO documentation (tests/apps/entsso/, sources in its
# README.md) import as printed, or with the documented per-application
# warnings only; every ENTSSO attribute keeps its meaning; accounts are
# translated the way the host names them (real users and groups with
# AD-style names, uids and gids 5740-5749); -updateapps, -deletemappings,
# -listmappings; export and its round trip; config store apps.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/apps/lib-apps.sh"
S=$SSOVAULT
D=$SOURCE_ROOT/tests/apps/entsso
B=5740
ad_names $B
ok $? "users and groups named as AD names them exist"
new_vault
share_vault
$S role add affiliate-admin uid:5001 >/dev/null
aff() { run_as 5001 7000 "$@"; }
apps() { $S --json app list | jpath 'sorted(a["name"] for a in d)'; }
app_json() { $S --json app show "$1" | jpath "$2"; }
cp "$D"/*.xml "$T_TMP/" && chmod 644 "$T_TMP"/*.xml
ok $? "the samples are copied"

# --- ssomanage -createapps: the sample, by an affiliate admin ---------------------
expect 1 "the -createapps sample under --strict" aff app import --strict "$T_TMP/create-app.xml"
like "$ERR" "--strict: 2 warning\(s\), nothing was changed; the first: account 'domain.AppUserAccount' \(looked up as 'AppUserAccount'\) names no group on this host: imported as group:AppUserAccount \(line 5\)" \
	"  is refused: its accounts name nobody here"
is "$(apps)" "[]" "  and nothing is imported"
expect 0 "the host group sample of 'Validating Passwords', dry run" \
	$S app import --dry-run "$T_TMP/validate-password-hostgroup.xml"
like "$OUT" "Would have imported 1 application\(s\) and 0 mapping\(s\) \(dry run: nothing was changed\)" \
	"  says what it would do"
is "$(apps)" "[]" "  and does nothing"
expect 0 "the -createapps sample as printed, by an affiliate admin" aff app import "$T_TMP/create-app.xml"
like "$OUT" "Imported 1 application\(s\) and 0 mapping\(s\)" "  imports SAP"
is "$(grep -c 'warning: account' <<<"$ERR")" "2" "  with a warning naming each account that names nobody here"
is "$(app_json SAP '[d[k] for k in ("type", "enabled", "allow_tickets", "validate_tickets", "tickets_expire", "admin_account_same", "allow_local_accounts")]')" \
	"['individual', False, False, True, True, False, False]" \
	"  ENTSSO's flags as they are: validateTickets=yes is the default, no vault admin needed"
is "$(app_json SAP '[(f["label"], f["masked"]) for f in d["fields"]]')" \
	"[('User Id', False), ('Password', True)]" "  its fields"
expect 1 "the same sample for real: SAP exists" $S app import "$T_TMP/validate-password-individual.xml"
like "$ERR" "line 2: application 'SAP': an application named 'SAP' already exists \(names ignore case\): 'ssovault app import --update' updates it" \
	"  says so with the line, the app and what to do"

# --- host-initiated SSO: skipped with a warning, the rest imports ------------------------
expect 0 "the individual host-initiated sample" $S app import "$T_TMP/host-individual.xml"
is "$ERR" "ssovault: app import $T_TMP/host-individual.xml: warning: host-initiated SSO is not supported: skipped 'SSOApp_Host1' (line 3)" \
	"  is skipped with one warning naming it and its line"
expect 0 "the host group sample" $S app import "$T_TMP/host-group.xml"
is "$ERR" "ssovault: app import $T_TMP/host-group.xml: warning: host-initiated SSO is not supported: skipped 'SSOApp_HostGroupApp1' (line 3)" \
	"  is skipped too: a host group app does not silently become an individual one"
expect 0 "the sample for both directions, as printed with Internet Explorer's '- ' markers" \
	$S app import "$T_TMP/host-and-windows.xml"
like "$ERR" "warning: the file holds 2 of Internet Explorer's XML view markers" "  is read without them"
is "$(app_json SSOApp1 'd["enabled"]')" "True" "  and imports SSOApp1"
is "$(apps)" "['SAP', 'SSOApp1']" "no other app came in"

# --- -createmappings: an app name with a space ---------------------------------
$S app create 'Application name1' >/dev/null && $S app create 'Application name2' >/dev/null
ok $? "apps 'Application name1' and 'Application name2' (names with a space)"
printf 'domain\\WindowsUserName = user:CONTOSO\\jdoe\n# comments and blank lines\n\n' > "$T_TMP/map.txt"
chmod 644 "$T_TMP/map.txt"
expect 0 "the -createmappings sample with an account map" \
	aff app import --account-map "$T_TMP/map.txt" "$T_TMP/create-mappings.xml"
like "$OUT" "Imported 0 application\(s\) and 2 mapping\(s\)" "  makes both mappings"
is "$ERR" "" "  without a warning"
expect 0 "mapping list --user (ssomanage -listmappings)" $S --json mapping list --user 'user:CONTOSO\jdoe'
is "$(echo "$OUT" | jpath '[(m["app"], m["external_user"], m["enabled"]) for m in d]')" \
	"[('Application name1', 'App1UserName', False), ('Application name2', 'App2UserName', False)]" \
	"  lists them, disabled as ENTSSO makes them"
expect 0 "the -deletemappings sample, dry run" \
	aff mapping delete-many --dry-run --account-map "$T_TMP/map.txt" "$T_TMP/delete-mappings.xml"
like "$OUT" "Would have deleted 2 mapping\(s\) \(dry run: nothing was changed\)" "  says what it would do"
is "$($S --json mapping list | jpath 'len(d)')" "2" "  and does nothing"
expect 5 "an app admin may not delete many" run_as 5002 7000 mapping delete-many "$T_TMP/delete-mappings.xml"
expect 0 "the -deletemappings sample" \
	aff mapping delete-many --account-map "$T_TMP/map.txt" "$T_TMP/delete-mappings.xml"
like "$OUT" "Deleted 2 mapping\(s\)" "  deletes both"
is "$($S --json mapping list | jpath 'len(d)')" "0" "  and they are gone"

# --- -updateapps ----------------------------------------------------------------
$S app create SSOApplication --description old --field id --field pin:masked >/dev/null
expect 0 "the -updateapps sample with --update" aff app import --update "$T_TMP/update-app.xml"
like "$OUT" "updated 1 application" "  updates"
is "$(app_json SSOApplication '[d["description"], d["contact"], d["users"], d["admins"], [f["label"] for f in d["fields"]]]')" \
	"['An SSO Application', 'someone@companyname.com', ['group:AppUserGroup'], ['group:AppAdminGroup'], ['id', 'pin']]" \
	"  the properties the file gives, not the fields it does not give"
is "$($S --json app list | jpath 'len(d)')" "5" "  and makes no new app"
cat > "$T_TMP/refield.xml" <<'XML'
<sso><application name="ssoapplication">
  <field ordinal="0" label="User" Masked="No"/><field ordinal="1" label="Secret" Masked="Yes"/>
</application></sso>
XML
chmod 644 "$T_TMP/refield.xml"
$S mapping create SSOApplication user:root ROOT >/dev/null
expect 0 "new fields while no mapping holds credentials" aff app import --update "$T_TMP/refield.xml"
is "$(app_json SSOApplication '[(f["label"], f["masked"]) for f in d["fields"]]')" \
	"[('User', False), ('Secret', True)]" "  change, Masked=\"Yes\" in any case making a masked field"
$S app enable SSOApplication >/dev/null
echo '{"Secret": "pin-1"}' | $S creds set SSOApplication --user user:root --from-file - >/dev/null
sed 's/"Secret"/"Token"/' "$T_TMP/refield.xml" > "$T_TMP/refield2.xml" && chmod 644 "$T_TMP/refield2.xml"
expect 0 "new fields once a mapping holds credentials" aff app import --update "$T_TMP/refield2.xml"
like "$ERR" "warning: the fields of 'ssoapplication' cannot change while 1 mapping\(s\) hold credentials: skipped \(line 1\)" \
	"  are skipped with a warning"
expect 0 "" $S creds get SSOApplication --user user:root --field secret
is "$OUT" "pin-1" "  and the credentials stay as they were"
cat > "$T_TMP/missing.xml" <<'XML'
<SSO><application name="NoSuchApp"><description>x</description></application></SSO>
XML
chmod 644 "$T_TMP/missing.xml"
expect 1 "--update of an app that does not exist" aff app import --update "$T_TMP/missing.xml"
like "$ERR" "line 1: application 'NoSuchApp': no affiliate application 'NoSuchApp' to update" "  is an error"

# --- accounts: A;B lists, people, groups, the host's name forms -----------------------
cat > "$T_TMP/accounts.xml" <<'XML'
<sso>
  <application name="Payroll">
    <appUserAccount>CONTOSO\BizTalk Application Users;CONTOSO\domain users@contoso.com</appUserAccount>
    <appAdminAccount>CONTOSO\jdoe</appAdminAccount>
    <flags enableApp="yes" allowLocalGroups="yes"/>
  </application>
  <application name="Winbind">
    <appUserAccount>CONTOSO\jdoe ; CONTOSO\Nobody Here</appUserAccount>
  </application>
</sso>
XML
chmod 644 "$T_TMP/accounts.xml"
expect 0 "an A;B account list and a person as app admin (--accounts name)" \
	aff app import "$T_TMP/accounts.xml"
is "$(app_json Payroll '[d["users"], d["admins"]]')" \
	"[['group:BizTalk Application Users', 'group:domain users@contoso.com'], ['group:jdoe']]" \
	"  A;B gives two principals, short names as SSSD gives them"
like "$ERR" "warning: unknown flag 'allowLocalGroups' of 'Payroll' ignored \(line 5\)" "  an unknown flag is a warning, not the end of the file"
like "$ERR" "warning: account 'CONTOSO.jdoe' \(looked up as 'jdoe'\) names no group on this host: imported as group:jdoe \(line 4\)" \
	"  an account nobody has here is named in a warning"
$S app delete Payroll >/dev/null && $S app delete Winbind >/dev/null
expect 0 "the same file with --accounts 'domain\\name' (winbind)" \
	aff app import --accounts 'domain\name' "$T_TMP/accounts.xml"
is "$(app_json Payroll 'd["admins"]')" "['user:CONTOSO\\\\jdoe']" "  a person named as app admin stays a person"
is "$(app_json Winbind 'd["users"]')" "['user:CONTOSO\\\\jdoe', 'group:CONTOSO\\\\Nobody Here']" \
	"  a list entry keeps its spaces; one that resolves to nothing is imported"
like "$ERR" "account 'CONTOSO.Nobody Here' names no group on this host: imported as group:CONTOSO.Nobody Here \(line 8\)" \
	"  with a warning naming it"
expect 0 "as CONTOSO\\jdoe, an app admin of Payroll through that principal" run_as $B 100 app show Payroll
$S app delete Payroll >/dev/null && $S app delete Winbind >/dev/null
printf 'CONTOSO\\* = contoso.com    # the domain as SSSD writes it\n' > "$T_TMP/domains.txt" &&
	chmod 644 "$T_TMP/domains.txt"
cat > "$T_TMP/fq.xml" <<'XML'
<sso><application name="Payroll"><appUserAccount>CONTOSO\jdoe2;CONTOSO\domain users</appUserAccount></application></sso>
XML
chmod 644 "$T_TMP/fq.xml"
expect 0 "--accounts name@domain with the domain from the account map (SSSD, fully qualified)" \
	aff app import --accounts name@domain --account-map "$T_TMP/domains.txt" "$T_TMP/fq.xml"
is "$(app_json Payroll 'd["users"]')" "['user:jdoe2@contoso.com', 'group:domain users@contoso.com']" \
	"  a user and a group of this host"
is "$ERR" "" "  both found"
printf 'broken line\n' > "$T_TMP/badmap.txt" && chmod 644 "$T_TMP/badmap.txt"
expect 1 "an account map with a line that is not ACCOUNT = PRINCIPAL" \
	aff app import --account-map "$T_TMP/badmap.txt" "$T_TMP/fq.xml"
like "$ERR" "badmap.txt line 1: expected ACCOUNT = PRINCIPAL" "  names the line"
printf 'CONTOSO\\jdoe2 = jdoe2\n' > "$T_TMP/badmap.txt"
expect 1 "an account map naming no principal" aff app import --account-map "$T_TMP/badmap.txt" --update "$T_TMP/fq.xml"
like "$ERR" "account 'jdoe2' \(from the account map\) is not a valid principal" "  is refused"

# --- flags that are ticket flags, adminAccountSame, appTicketTimeout ----------------------
cat > "$T_TMP/tickets.xml" <<'XML'
<sso>
  <application name="Tickets">
    <appTicketTimeout>15</appTicketTimeout>
    <flags allowTickets="yes" validateTickets="no" timeoutTickets="no" />
  </application>
</sso>
XML
cat > "$T_TMP/same.xml" <<'XML'
<sso>
  <application name="Same">
    <appAdminAccount>CONTOSO\jdoe</appAdminAccount>
    <flags adminAccountSame="yes" hostInitiatedSSO="yes" syncToAdapter="yes" disableCredCache="yes"/>
  </application>
</sso>
XML
chmod 644 "$T_TMP/tickets.xml" "$T_TMP/same.xml"
expect 5 "ticket flags other than ENTSSO's defaults, by an affiliate admin" aff app import "$T_TMP/tickets.xml"
like "$ERR" "line 2: application 'Tickets': access denied: uid 5001 is not a vault admin" \
	"  the denial names the application and the line"
expect 0 "by a vault admin" $S app import "$T_TMP/tickets.xml"
is "$(app_json Tickets '[d["allow_tickets"], d["validate_tickets"], d["tickets_expire"], d["ticket_timeout"]]')" \
	"[True, False, False, 15]" "  appTicketTimeout and timeoutTickets=no keep their meaning"
expect 0 "adminAccountSame, host-initiated as well, password sync" aff app import "$T_TMP/same.xml"
like "$ERR" "adminAccountSame: the admins of 'Same' are the affiliate admins; its appAdminAccount is ignored \(line 2\)" \
	"  an app admin account beside adminAccountSame is reported"
like "$ERR" "host-initiated SSO is not supported: 'Same' is imported for Windows-initiated SSO only \(line 2\)" \
	"  the host-initiated half is reported"
like "$ERR" "password synchronization is not supported: flag syncToAdapter=\"yes\" of 'Same' ignored \(line 4\)" \
	"  and so is password synchronization"
unlike "$ERR" "disableCredCache" "  disableCredCache=yes is what ssovault does anyway"
is "$(app_json Same '[d["admin_account_same"], d["admins"]]')" "[True, []]" "  the affiliate admins administer it"
expect 1 "its admin list cannot be set" $S app update Same --add-admin user:root
like "$ERR" "the admins of 'Same' are the affiliate admins \(adminAccountSame\)" "  says why"

# --- config store apps ------------------------------------------------------------
printf 'BTS2006R2\\upzone = group:BizTalk Application Users\nBTS2006R2\\administrator = group:SSO Affiliate Administrators\n' > "$T_TMP/cfgmap.txt"
chmod 644 "$T_TMP/cfgmap.txt"
expect 0 "a config store app (configStoreApp=yes)" aff app import --account-map "$T_TMP/cfgmap.txt" "$T_TMP/config-store.xml"
is "$(app_json upzoneSSO '[d["type"], [(f["label"], f["masked"]) for f in d["fields"]]]')" \
	"['config', [('User Id', False), ('Password', True)]]" "  its settings, without ENTSSO's reserved field 0"
$S app enable upzoneSSO >/dev/null
echo '{"user id": "sa", "Password": "upzone"}' > "$T_TMP/cfg.json" && chmod 644 "$T_TMP/cfg.json"
expect 0 "an app admin sets its settings (SetConfigInfo)" \
	run_as $((B + 1)) 100,$((B + 7)) config set upzoneSSO --from-file "$T_TMP/cfg.json"
expect 5 "an app user may not" run_as $B 100,$((B + 5)) config set upzoneSSO --from-file "$T_TMP/cfg.json"
expect 0 "an app user reads them (GetConfigInfo)" run_as $B 100,$((B + 5)) config get upzoneSSO --field password
is "$OUT" "upzone" "  the value"
expect 0 "as JSON" run_as $B 100,$((B + 5)) --json config get upzoneSSO --identifier configproperties
is "$(echo "$OUT" | jpath '[d["app"], d["identifier"], d["fields"]]')" \
	"['upzoneSSO', 'ConfigProperties', {'User Id': 'sa', 'Password': 'upzone'}]" \
	"  under ENTSSO's default identifier, in any case"
expect 1 "another identifier holds nothing yet" $S config get upzoneSSO --identifier Prod
like "$ERR" "no settings 'Prod' in 'upzoneSSO': an app admin sets them with 'ssovault config set upzoneSSO --identifier Prod'" \
	"  says what to do"
expect 5 "mallory may not read them" run_as $((B + 3)) 100 config get upzoneSSO
expect 1 "creds get on a config store app" $S creds get upzoneSSO
like "$ERR" "'upzoneSSO' is a config store app: it has settings, not mappings" "  points to config get"
expect 1 "config get on an app with credentials" $S config get SAP
like "$ERR" "'SAP' is not a config store app" "  points to creds get"
expect 0 "app create --type config" $S app create Adapter --type config --field endpoint --field key:masked --enable
echo '{"endpoint": "https://example.com/", "key": "k1"}' | $S config set Adapter --from-file - >/dev/null
expect 0 "" $S config get Adapter
is "$OUT" "$(printf 'endpoint: https://example.com/\nkey: k1')" "  settings round trip"

# --- BizTalk adapter guides: userGroup and appAdminGroup, a comment that is not one ----------
expect 1 "the TIBCO adapter guide's sample as printed" $S app import "$T_TMP/adapter-tibco.xml"
like "$ERR" "not well-formed XML: line [0-9]+" "  is not XML (its comments are not comments), as ssomanage would find"
sed -e 's/<!—/<!--/' -e 's/- > *$/-->/' "$T_TMP/adapter-tibco.xml" > "$T_TMP/adapter-fixed.xml"
expect 0 "with its comments repaired" $S app import --accounts name "$T_TMP/adapter-fixed.xml"
is "$(app_json 'TIBCO RendezvousApp' '[d["users"], d["allow_tickets"], d["enabled"]]')" \
	"[['group:Domain Users'], True, True]" "  userGroup is appUserAccount; the name keeps its space"

# --- export: never a secret, the same file after a round trip ----------------------
expect 0 "export everything" $S app export --out "$T_TMP/export1.xml"
unlike "$(cat "$T_TMP/export1.xml")" "pin-1|upzone<|k1<|https://example.com" "  no credential and no setting is in it"
like "$(cat "$T_TMP/export1.xml")" "configStoreApp=\"yes\"" "  config store apps are in it, with ENTSSO's flag"
expect 0 "an affiliate admin exports one app" aff app export SSOApplication
like "$OUT" "<windowsUserId>user:root</windowsUserId>" "  with its mappings"
expect 0 "mallory exports" run_as $((B + 3)) 100 app export
unlike "$OUT" "<application" "  and gets no app: she administers none"
expect 5 "mallory names an app" run_as $((B + 3)) 100 app export SAP
$S app update SSOApplication --add-admin "uid:$B" --add-admin 'user:CONTOSO\jdoe' >/dev/null
expect 0 "export for ENTSSO's ssomanage (--windows-domain)" \
	$S app export --windows-domain CONTOSO --out "$T_TMP/windows.xml" Payroll SSOApplication
is "$(grep -E '<(appUserAccount|appAdminAccount|windowsDomain|windowsUserId)>' "$T_TMP/windows.xml" | tr -d ' ')" \
	"$(printf '%s\n' '<appUserAccount>CONTOSO\jdoe2;CONTOSO\domainusers</appUserAccount>' \
	'<appUserAccount>CONTOSO\AppUserGroup</appUserAccount>' \
	'<appAdminAccount>CONTOSO\AppAdminGroup;CONTOSO\jdoe;CONTOSO\jdoe</appAdminAccount>' \
	'<windowsDomain>CONTOSO</windowsDomain>' '<windowsUserId>root</windowsUserId>')" \
	"  accounts are Windows ones: name@realm and uid:N as CONTOSO\\name, a mapping's domain apart"
expect 0 "that file read back as winbind names it" $S app import --dry-run --accounts 'domain\name' \
	--update "$T_TMP/windows.xml"
like "$OUT" "Would have imported 0 application\(s\) and 1 mapping\(s\), updated 2 application\(s\)" \
	"  is the same apps (root's mapping would be CONTOSO\\root's, as winbind names it)"
expect 1 "a Windows domain with a backslash" $S app export --windows-domain 'A\B' Payroll
like "$ERR" "invalid Windows domain" "  is refused"
V1=$SSOVAULT_DIR
export SSOVAULT_DIR="$T_TMP/vault2"
"$SSOVAULT" init --kdf-limits interactive --passphrase-file "$T_TMP/pass" >/dev/null
expect 0 "import the export into a fresh vault" $S app import "$T_TMP/export1.xml"
expect 0 "export it again" $S app export --out "$T_TMP/export2.xml"
cmp -s "$T_TMP/export1.xml" "$T_TMP/export2.xml"
ok $? "  the same file, byte for byte"
export SSOVAULT_DIR=$V1

expect 0 "audit list" $S --json audit list
is "$(echo "$OUT" | jpath 'sorted(set(e["op"] for e in d if e["op"] in ("app import", "app export", "mapping delete-many", "config set", "config get")))')" \
	"['app export', 'app import', 'config get', 'config set', 'mapping delete-many']" \
	"imports, exports, deletions and settings are audited"
done_testing
