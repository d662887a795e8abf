#!/usr/bin/env bash
# Principals and app names as a host joined to Active Directory has them
# (DESIGN 4): real users and groups named with a space, '@', '\' and
# non-ASCII letters (uids and gids 5700-5709), an app whose name has a space
# and non-ASCII letters, through a real ssovaultd: the caller is the kernel's
# (SO_PEERCRED), names are resolved through NSS, and messages, audit and JSON
# keep the names as they are.  Control characters and invalid UTF-8 are
# refused everywhere.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/apps/lib-apps.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
S=$SSOVAULT
B=5700
ad_names $B
ok $? "users and groups named as AD names them exist"
is "$(id -nG 'CONTOSO\jdoe')" "users BizTalk Application Users" "  CONTOSO\\jdoe is in 'BizTalk Application Users'"
new_vault --key-file "$T_TMP/key"
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts"

APP='Lön Système'
expect 0 "an app named with a space and non-ASCII letters" $S app create "$APP" --enable \
	--admin 'group:SSO Affiliate Administrators' --user 'group:BizTalk Application Users' \
	--user 'user:jdoe2@contoso.com'
expect 0 "it is the same app in another case" $S --json app show 'LÖN SYSTÈME'
is "$(echo "$OUT" | jpath 'd["name"], d["admins"], d["users"]')" \
	"('Lön Système', ['group:SSO Affiliate Administrators'], ['group:BizTalk Application Users', 'user:jdoe2@contoso.com'])" \
	"  its name keeps its case, the principals their spaces and '@'"
expect 1 "a second app differing only in case" $S app create 'lön système'
like "$ERR" "already exists \(names ignore case\)" "  is the same name"
expect 0 "map CONTOSO\\jdoe" $S mapping create "$APP" 'user:CONTOSO\jdoe' 'JDOE01'
echo '{"password": "s3cret"}' | $S creds set "$APP" --user 'user:CONTOSO\jdoe' --from-file - >/dev/null

# the callers are real uids, named as the name service names them
expect 0 "CONTOSO\\jdoe (uid $B) gets its own credentials, found by its name" \
	as_user $B 100,$((B + 5)) $S creds get "$APP" --field password
is "$OUT" "s3cret" "  the mapping of user:CONTOSO\\jdoe is its own"
expect 0 "Jösé is an app user through 'BizTalk Application Users'" \
	as_user $((B + 2)) 100,$((B + 5)) $S --json app show "$APP"
expect 1 "  and has no mapping" as_user $((B + 2)) 100,$((B + 5)) $S creds get "$APP"
like "$ERR" "no mapping for user:Jösé in 'Lön Système'" "  the message names it as it is"
expect 0 "jdoe2@contoso.com administers it through 'SSO Affiliate Administrators'" \
	as_user $((B + 1)) 100,$((B + 7)) $S creds get "$APP" --user 'user:CONTOSO\jdoe' --field password
is "$OUT" "s3cret" "  and reads the mapped user's credentials"
expect 5 "without that group it is only an app user" \
	as_user $((B + 1)) 100 $S creds get "$APP" --user 'user:CONTOSO\jdoe'
expect 5 "mallory is nothing" as_user $((B + 3)) 100 $S app show "$APP"
like "$ERR" "access denied: uid $((B + 3))( \([^)]*\))? is not an app user or admin of 'Lön Système'" \
	"  the denial names the app as it is"
expect 0 "mapping list --user" $S --json mapping list --user 'user:CONTOSO\jdoe'
is "$(echo "$OUT" | jpath '[(m["app"], m["principal"]) for m in d]')" \
	"[('Lön Système', 'user:CONTOSO\\\\jdoe')]" "  lists that principal's mappings"
expect 0 "mapping list --user of someone unmapped" $S --json mapping list --user 'user:Jösé'
is "$(echo "$OUT" | jpath 'len(d)')" "0" "  lists none"

# messages that say what to do next quote names for the shell
expect 0 "map the group" $S app create 'Team Ω' --type group --enable --user 'group:domain users@contoso.com'
expect 0 "" $S mapping create 'Team Ω' 'group:domain users@contoso.com' shared
expect 1 "enabling it before credentials are set" $S mapping enable 'Team Ω' 'group:domain users@contoso.com'
like "$ERR" "'ssovault creds set 'Team Ω' --user 'group:domain users@contoso.com'' sets and enables them" \
	"  suggests a command with the names quoted"

# refused: control characters and invalid UTF-8, in every place a name goes
expect 1 "a principal with an escape character" $S mapping create "$APP" "$(printf 'user:a\033[31mb')" x
like "$ERR" "invalid principal: the name after 'user:' must be 1 to 292 bytes of UTF-8 without control characters" \
	"  says the rule"
expect 1 "a principal that is not UTF-8" $S mapping create "$APP" "$(printf 'user:\377x')" x
like "$ERR" "invalid principal" "  is refused"
expect 1 "a C1 control character (U+0085)" $S app update "$APP" --add-user "$(printf 'user:a\302\205b')"
expect 1 "an app name with a newline" $S app create "$(printf 'a\nb')"
like "$ERR" "invalid application name" "  is refused"
expect 0 "mapping list" $S --json mapping list
is "$(echo "$OUT" | jpath 'len(d)')" "2" "  and none of them left a trace"

# audit keeps the names whole
expect 0 "audit list" $S --json audit list
is "$(echo "$OUT" | jpath '[(e["object"], e["user"]) for e in d if e["op"] == "creds get" and e["outcome"] == "ok"][0]')" \
	"('Lön Système', 'user:CONTOSO\\\\jdoe')" "audit records name the app and the principal as they are"
expect 0 "human audit list" $S audit list
like "$OUT" "Lön Système" "  and prints them"
daemon_stop
ok $? "ssovaultd stops"
done_testing
