#!/usr/bin/env bash
# The ENTSSO file operations and config store apps, played by hostile local
# users against a real ssovaultd as real uids (docs/SECURITY.md, "ENTSSO
# files, names and settings"):
#   - an outsider exports (gets nothing), names an app to export (denied),
#     imports, updates or deletes mappings with a file (denied, nothing
#     changes), lists someone else's mappings (sees none);
#   - an app user writes settings (denied), a user of another app reads them
#     (denied);
#   - an affiliate admin smuggles markup into an export through an app's name
#     and description (the export escapes it: one app comes back, the same);
#     a name with terminal escapes goes into an import (refused, nothing
#     kept, no escape reaches the terminal);
#   - nothing secret is in an export, and no setting is readable by its
#     exporter;
#   - a Windows domain for the export carries markup (escaped: still one
#     app) or terminal escapes (refused, never printed).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

S=$SSOVAULT
AFF=5620	# affiliate admin
USR=5621	# app user of orders and settings
OTH=5622	# app user of another app only
OUT_=5623	# nobody
new_vault --key-file "$T_TMP/key"
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts"
"$S" role add affiliate-admin uid:$AFF >/dev/null &&
    "$S" app create orders --enable --user uid:$USR >/dev/null &&
    "$S" mapping create orders uid:$USR ORD1 >/dev/null &&
    echo '{"password": "orders-secret-77"}' | "$S" creds set orders --user uid:$USR --from-file - >/dev/null &&
    "$S" app create settings --type config --field url --field token:masked --enable --user uid:$USR >/dev/null &&
    echo '{"url": "https://x.example/", "token": "setting-secret-88"}' | "$S" config set settings --from-file - >/dev/null &&
    "$S" app create other --enable --user uid:$OTH >/dev/null
ok $? "apps orders (uid $USR mapped), settings (config store), other (uid $OTH)"
as() {	# as UID ARGS...: the CLI as that uid
	local u=$1
	shift
	as_user "$u" "$u" "$S" "$@"
}
mappings() { "$S" --json mapping list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
printf '<sso><mapping><windowsUserId>uid:%s</windowsUserId><externalApplication>orders</externalApplication><externalUserId>x</externalUserId></mapping></sso>' \
    $USR > "$T_TMP/del.xml"
printf '<sso><application name="orders"><appAdminAccount>uid:%s</appAdminAccount></application></sso>' \
    $OUT_ > "$T_TMP/grab.xml"
chmod 644 "$T_TMP"/*.xml

expect 0 "an outsider exports" as $OUT_ app export
unlike "$OUT" "<application|<mapping" "  and gets no app and no mapping"
expect 5 "an outsider names an app to export" as $OUT_ app export orders
like "$ERR" "access denied: uid $OUT_ is not an app admin of 'orders'" "  is denied"
expect 5 "an app user exports its own app" as $USR app export orders
expect 5 "an outsider makes itself admin with --update" as $OUT_ app import --update "$T_TMP/grab.xml"
like "$ERR" "is not an affiliate admin" "  is denied"
is "$("$S" --json app show orders | python3 -c 'import json,sys; print(json.load(sys.stdin)["admins"])')" "[]" \
    "  and orders has no admin"
expect 5 "an app user deletes its mapping with a file" as $USR mapping delete-many "$T_TMP/del.xml"
is "$(mappings)" "1" "  and the mapping stays"
expect 0 "an outsider lists the mappings of uid:$USR" as $OUT_ --json mapping list --user uid:$USR
is "$OUT" "[]" "  and sees none"
expect 5 "an app user writes settings" as $USR config set settings --from-file - <<<'{"url": "https://evil.example/"}'
expect 0 "" as $USR config get settings --field url
is "$OUT" "https://x.example/" "  and they stay"
expect 5 "a user of another app reads settings" as $OTH config get settings
expect 5 "an outsider reads settings" as $OUT_ config get settings --identifier ConfigProperties

# markup in a name and a description does not become a second app in an export
AFFN='Evil"/><application name="Injected'
expect 0 "an affiliate admin names an app with markup" as $AFF app create "$AFFN" \
    --description '</description></application><application name="Also"><description>'
expect 0 "and exports it" as $AFF app export "$AFFN"
printf '%s' "$OUT" > "$T_TMP/evil-$AFF.xml"
"$S" app delete "$AFFN" >/dev/null
expect 0 "the export imports back" "$S" app import "$T_TMP/evil-$AFF.xml"
expect 0 "" "$S" --json app list
is "$(echo "$OUT" | python3 -c 'import json,sys; print(sorted(a["name"] for a in json.load(sys.stdin)))')" \
    "['Evil\"/><application name=\"Injected', 'orders', 'other', 'settings']" \
    "  as one app with the same name: the markup was escaped"
unlike "$(cat "$T_TMP/evil-$AFF.xml")" "orders-secret-77|setting-secret-88" "no credential and no setting is exported"

# the Windows domain of an export: markup stays text, control characters are refused
expect 0 "an export for Windows with markup as its domain" \
    as $AFF app export --windows-domain 'D"/></appUserAccount><application name="Injected' orders
is "$(printf '%s' "$OUT" | /usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E
r = E.fromstring(sys.stdin.read().encode())
print([a.get("name") for a in r.iter("application")], r.find("mapping/windowsDomain").text)')" \
    "['orders'] D\"/></appUserAccount><application name=\"Injected" "  one app, the domain as text"
expect 1 "a Windows domain with an escape character" as $AFF app export --windows-domain "$(printf 'D\033]0;pwned\007')" orders
like "$ERR" "invalid Windows domain" "  is refused"
unlike "$ERR" "$(printf '\033')" "  without printing it"

# terminal escapes in a file: refused, and never printed raw
printf '<sso><application name="a&#127;[31mred"/></sso>' > "$T_TMP/esc.xml"
chmod 644 "$T_TMP/esc.xml"
expect 1 "an app name with an escape character in a file" as $AFF app import "$T_TMP/esc.xml"
like "$ERR" "invalid application name" "  is refused"
unlike "$ERR" "$(printf '\177')" "  and the control character never reaches the terminal"
printf '<sso><application name="ok"><appUserAccount>DOM\\a&#133;]0;pwned&#127;</appUserAccount></application></sso>' > "$T_TMP/esc2.xml"
chmod 644 "$T_TMP/esc2.xml"
expect 1 "an account with C1 and DEL control characters" as $AFF app import "$T_TMP/esc2.xml"
like "$ERR" "does not make a valid principal name" "  is refused"
unlike "$ERR" "$(printf '\302\205')|$(printf '\177')" "  without printing them"
expect 1 "app ok was not imported" "$S" app show ok
daemon_stop
ok $? "ssovaultd stops"
done_testing
