#!/usr/bin/env bash
# Tickets through the CLI: each refusal has its own error (disabled, not
# allowed by the app, tampered, another vault, reused, sender mismatch) and
# a good ticket gives the issuer's credentials.  Expiry is tested with an
# injected clock in sso/test-policy.c: nobody waits minutes here.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/apps/lib-apps.sh"
S=$SSOVAULT
new_vault

app() {	# app NAME [OPTIONS...]: an enabled app mapping root (the issuer) with credentials
	local name=$1
	shift
	$S app create "$name" --enable --admin uid:5002 --user user:root "$@" >/dev/null &&
	$S mapping create "$name" user:root "root-$name" >/dev/null &&
	echo '{"password": "pw-'"$name"'"}' | $S creds set "$name" --user user:root --from-file - >/dev/null
}
app Tix --allow-tickets --no-validate-tickets
ok $? "an app that allows tickets"
app Once --allow-tickets --no-validate-tickets
app Reuse --allow-tickets --no-validate-tickets --ticket-reuse
app Valid --allow-tickets --validate-tickets --ticket-reuse
app NoTix
ok $? "and apps that validate, allow reuse, or refuse tickets"

expect 0 "ticket settings" $S ticket settings
like "$OUT" "tickets: +disabled" "tickets are disabled by default"
like "$OUT" "timeout: +2 minutes" "  with a 2 minute lifetime"
expect 1 "ticket issue while disabled" $S ticket issue
like "$ERR" "tickets are disabled: a vault admin can enable them with 'ssovault ticket settings --allow yes'" \
	"  says how to enable them"
expect 0 "a vault admin allows tickets" $S --json ticket settings --allow yes
is "$(echo "$OUT" | jpath 'd["allow"], d["validate"], d["timeout"]')" "(True, False, 2)" "  settings as JSON"
expect 2 "a bad --allow" $S ticket settings --allow maybe
expect 2 "a timeout of 0" $S ticket settings --timeout 0
# a lifetime that outlasts this script, even under valgrind (tests/valgrind.sh)
$S ticket settings --timeout 30 >/dev/null

expect 0 "issue a ticket" $S ticket issue
T=$OUT
like "$T" "^sv1\.[A-Za-z0-9_-]+$" "the token is sv1.<base64url>"
expect 0 "redeem it" $S ticket redeem Once "$T" --field password
is "$OUT" "pw-Once" "  for the issuer's credentials"
expect 1 "redeem it again" $S ticket redeem Once "$T"
like "$ERR" "already redeemed" "  is refused as reused"
expect 1 "another single-use app" $S ticket redeem Tix "$T"
like "$ERR" "already redeemed" "  refuses it too: the ticket, not the app, is used up"
T2=$($S ticket issue)
expect 0 "a fresh ticket" $S ticket redeem Tix "$T2" --json
is "$(echo "$OUT" | jpath 'd["app"], d["user"], d["external_user"]')" "('Tix', 'user:root', 'root-Tix')" \
	"  prints as JSON, like creds get"
expect 0 "an app with reuse" $S ticket redeem Reuse "$T" --field username
expect 0 "  takes it twice" $S ticket redeem Reuse "$T" --field username
is "$OUT" "root-Reuse" "  and gives field 0"
OUT=$(echo "$T" | $S ticket redeem Reuse - --field password 2>&1)
is "$OUT" "pw-Reuse" "the ticket can come on standard input"

expect 1 "an app that does not allow tickets" $S ticket redeem NoTix "$T"
like "$ERR" "does not allow tickets" "  says so"
expect 1 "a validating app without --sender" $S ticket redeem Valid "$T"
like "$ERR" "name the sender with --sender" "  asks for the sender"
expect 1 "the wrong sender" $S ticket redeem Valid "$T" --sender user:nobody
like "$ERR" "the ticket was not issued by user:nobody" "  is refused"
expect 0 "the right sender" $S ticket redeem Valid "$T" --sender user:root --field password
is "$OUT" "pw-Valid" "  redeems"
expect 0 "the sender as uid" $S ticket redeem Valid "$T" --sender uid:0 --field password

# tampered: one character changed in the sealed part
mid=$(( ${#T} / 2 ))
c=${T:$mid:1}
[ "$c" = A ] && r=B || r=A
BAD="${T:0:$mid}$r${T:$((mid + 1))}"
expect 1 "an altered ticket" $S ticket redeem Reuse "$BAD"
like "$ERR" "malformed or was altered" "  is tampered"
expect 1 "a truncated ticket" $S ticket redeem Reuse "${T:0:40}"
like "$ERR" "malformed or was altered" "  is tampered"
expect 1 "not a ticket" $S ticket redeem Reuse "hello"
like "$ERR" "malformed or was altered" "  is tampered"

# a ticket of another vault
V1=$SSOVAULT_DIR
SSOVAULT_DIR=$T_TMP/other $S init --kdf-limits interactive --passphrase-file "$T_TMP/pass" >/dev/null &&
	SSOVAULT_DIR=$T_TMP/other $S ticket settings --allow yes >/dev/null
ok $? "a second vault allows tickets"
FOREIGN=$(SSOVAULT_DIR=$T_TMP/other $S ticket issue)
expect 1 "its ticket here" $S ticket redeem Reuse "$FOREIGN"
like "$ERR" "issued by another vault" "  is foreign"

# who may redeem and change settings
share_vault
expect 0 "the app admin redeems" run_as 5002 7000 ticket redeem Reuse "$T" --field password
is "$OUT" "pw-Reuse" "  the issuer's credentials, not its own"
expect 5 "an outsider may not redeem" run_as 5004 7000 ticket redeem Reuse "$T"
like "$ERR" "access denied: uid 5004 is not an app admin of 'Reuse'" "  names the missing role"
expect 5 "nor change the settings" run_as 5004 7000 ticket settings --allow no
expect 0 "an outsider may issue a ticket naming itself" run_as 5004 7000 ticket issue
expect 1 "which gives nothing: it has no mapping" $S ticket redeem Reuse "$OUT"
like "$ERR" "no mapping for uid:5004 in 'Reuse'" "  says so"
expect 5 "an affiliate admin may not set ticket flags" run_as 5001 7000 app update Tix --no-allow-tickets
$S role add affiliate-admin uid:5001 >/dev/null
expect 5 "an affiliate admin may not set ticket flags" run_as 5001 7000 app update Tix --no-allow-tickets
like "$ERR" "is not a vault admin: only vault admins set ticket flags" "  names the vault admin role"

expect 0 "global validation" $S ticket settings --validate yes
expect 1 "then every app wants the sender" $S ticket redeem Reuse "$T"
like "$ERR" "name the sender" "  even one that does not validate itself"
expect 0 "tickets off" $S ticket settings --allow no --validate no
expect 1 "redeem while off" $S ticket redeem Reuse "$T"
like "$ERR" "tickets are disabled" "  is refused"

expect 0 "audit list" $S --json audit list
is "$(echo "$OUT" | jpath 'sum(1 for e in d if e["op"] == "ticket redeem")')" "21" \
	"every redemption is audited"
like "$(echo "$OUT" | jpath 'sorted(set(e["outcome"] for e in d if e["op"] == "ticket redeem"))')" \
	"ticket" "with the ticket errors as outcomes"
unlike "$OUT" "$T" "the ticket itself is never in the audit trail"
done_testing
