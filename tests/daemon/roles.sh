#!/usr/bin/env bash
# The role table of DESIGN section 4, through a real ssovaultd, with the
# caller taken from the kernel (SO_PEERCRED, SO_PEERGROUPS): the CLI runs as
# several uids and group sets (setpriv).  Each allowed cell works; each
# denied cell exits 5 with a message naming what is missing, and leaves an
# audit record naming the uid, read back at the end by the vault admin.
#
#   uid 0 (root)       vault admin (it ran init)
#   uid 5007 + 6100    vault admin through group gid:6100
#   uid 5001           affiliate admin
#   uid 5002           app admin of payroll
#   uid 5003           app user of payroll, mapped
#   uid 5005 + 6000    app user of payroll through gid:6000, mapped
#   uid 5006           user of the RSA client certificate
#   uid 5004           nobody
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

CLIENTS=$1
V=$SSOVAULT
new_vault --key-file "$T_TMP/key"
pki
P=$T_TMP/pki
RSA=$(cat "$P/client-rsa.sha1")
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts"
: > "$T_TMP/denials"

# allow UID GROUPS CMD...: the command works as that uid and group set
allow() {
	local uid=$1 groups=$2
	shift 2
	expect 0 "uid $uid: $*" as_user "$uid" "$groups" "$V" "$@"
}
# deny UID GROUPS OP MESSAGE CMD...: exit 5, MESSAGE in the error, and an
# audit record of OP by UID to check at the end
deny() {
	local uid=$1 groups=$2 op=$3 msg=$4
	shift 4
	expect 5 "uid $uid: $* is refused" as_user "$uid" "$groups" "$V" "$@"
	like "$ERR" "^ssovault: .*$msg" "uid $uid: $op: says '$msg'"
	echo "$uid|$op" >> "$T_TMP/denials"
}
creds_file() {	# creds_file NAME VALUE: a creds set file readable by every uid
	printf '{"password": "%s"}' "$2" > "$T_TMP/$1.json"
	chmod 644 "$T_TMP/$1.json"
}

# --- set-up, as the vault admin --------------------------------------------------
expect 0 "role add affiliate-admin uid:5001" "$V" role add affiliate-admin uid:5001
expect 0 "role add vault-admin gid:6100" "$V" role add vault-admin gid:6100
expect 0 "ticket settings --allow yes" "$V" ticket settings --allow yes
expect 0 "app create payroll" "$V" app create payroll --enable --allow-tickets --no-validate-tickets \
    --admin uid:5002 --user uid:5003 --user gid:6000 --field user --field password:masked
expect 0 "app create hr" "$V" app create hr --enable --admin uid:5008 --field user --field password:masked
expect 0 "cert import (RSA)" "$V" cert import "$P/client-rsa.p12" --password-file "$P/p12.pass" --exportable
is "$OUT" "$RSA" "cert import prints the thumbprint"
expect 0 "cert grant to uid:5006" "$V" cert grant "$RSA" uid:5006

# --- vault admin ----------------------------------------------------------------
allow 0 0 role list
allow 0 0 role add affiliate-admin uid:5009
allow 0 0 role remove affiliate-admin uid:5009
allow 0 0 audit verify
allow 0 0 audit level
allow 0 0 ticket settings
allow 0 0 cert list
allow 0 0 cert show "$RSA"
allow 0 0 secret backup "$T_TMP/secret.bak" --password-file "$T_TMP/pass"
allow 0 0 backup "$T_TMP/vault.bak"
allow 0 0 app create scratch --field user --field password:masked
allow 0 0 app delete scratch
run "$CLIENTS" fetch "$SOCK" "$RSA"
like "$OUT" "^error -12 access denied: uid 0 \(root\) is not a user of certificate $RSA" \
    "uid 0: cert fetch without a grant is refused: no implicit grant, even for admins"
echo "0|cert fetch" >> "$T_TMP/denials"
# a vault admin through a supplementary group (SO_PEERGROUPS)
allow 5007 5007,6100 role list
allow 5007 5007,6100 audit verify
deny 5007 5007 "role list" "access denied: uid 5007 is not a vault admin" role list

# --- affiliate admin -------------------------------------------------------------
allow 5001 5001 app create erp --field user --field password:masked
allow 5001 5001 app update erp --description "orders"
allow 5001 5001 app enable erp
allow 5001 5001 app disable erp
allow 5001 5001 app delete erp
allow 5001 5001 mapping create payroll uid:5003 ext-5003
creds_file c5003 pw-5003
allow 5001 5001 creds set payroll --user uid:5003 --from-file "$T_TMP/c5003.json"
allow 5001 5001 port create p1 --url https://erp.example/soap
allow 5001 5001 port update p1 --retry-count 5
allow 5001 5001 port delete p1
deny 5001 5001 "role list" "access denied: uid 5001 is not a vault admin" role list
deny 5001 5001 "role add" "access denied: uid 5001 is not a vault admin" role add vault-admin uid:5001
deny 5001 5001 "audit list" "access denied: uid 5001 is not a vault admin" audit list
deny 5001 5001 "secret backup" "access denied: uid 5001 is not a vault admin" \
    secret backup "$T_TMP/s5001.bak" --password-file "$(secret_copy 5001 "$T_TMP/pass")"
# the test PKI is root's: give uid 5001 copies it may read (the password
# file its own, as a password file must be)
cp "$P/client-ec.p12" "$P/p12.pass" "$T_TMP/" && chmod 644 "$T_TMP/client-ec.p12" &&
    chown 5001:5001 "$T_TMP/p12.pass" && chmod 600 "$T_TMP/p12.pass"
deny 5001 5001 "cert import" "access denied: uid 5001 is not a vault admin" \
    cert import "$T_TMP/client-ec.p12" --password-file "$T_TMP/p12.pass"
deny 5001 5001 "ticket settings" "access denied: uid 5001 is not a vault admin" ticket settings --allow no
deny 5001 5001 "lock" "access denied: uid 5001 is not a vault admin" lock

# --- app admin of payroll -----------------------------------------------------
allow 5002 5002 app show payroll
allow 5002 5002 app update payroll --user uid:5003 --user gid:6000 --user uid:5010
allow 5002 5002 mapping create payroll uid:5005 ext-5005
creds_file c5005 pw-5005
allow 5002 5002 creds set payroll --user uid:5005 --from-file "$T_TMP/c5005.json"
allow 5002 5002 creds get payroll --user uid:5003 --field password
is "$OUT" "pw-5003" "uid 5002: reads a mapped user's password"
deny 5002 5002 "app create" "access denied: uid 5002 is not an affiliate admin or vault admin" \
    app create x2 --field user --field password:masked
deny 5002 5002 "app enable" "access denied: uid 5002 is not an affiliate admin or vault admin" app enable payroll
deny 5002 5002 "app delete" "access denied: uid 5002 is not an affiliate admin or vault admin" app delete payroll
deny 5002 5002 "app update" "access denied: uid 5002 is not an app admin of 'hr'" app update hr --description x
deny 5002 5002 "creds get" "access denied: uid 5002 is not an app user or admin of 'hr'" creds get hr --user uid:5008
deny 5002 5002 "port create" "access denied: uid 5002 is not an affiliate admin or vault admin" \
    port create p2 --url https://erp.example/soap

# --- app user of payroll ---------------------------------------------------------
allow 5003 5003 creds get payroll --field password
is "$OUT" "pw-5003" "uid 5003: reads its own password"
creds_file c5003b pw-5003-new
allow 5003 5003 creds set payroll --from-file "$T_TMP/c5003b.json"
allow 5003 5003 creds get payroll --field password
is "$OUT" "pw-5003-new" "uid 5003: its own change is stored"
allow 5003 5003 mapping disable payroll uid:5003
allow 5003 5003 mapping enable payroll uid:5003
allow 5003 5003 ticket issue
TICKET=$OUT
deny 5003 5003 "creds get" "access denied: uid 5003" creds get payroll --user uid:5005
deny 5003 5003 "creds set" "access denied: uid 5003" creds set payroll --user uid:5005 --from-file "$T_TMP/c5003.json"
deny 5003 5003 "mapping create" "access denied: uid 5003 is not an app admin of 'payroll'" \
    mapping create payroll uid:5004 ext-5004
deny 5003 5003 "mapping delete" "access denied: uid 5003 is not an app admin of 'payroll'" \
    mapping delete payroll uid:5005
deny 5003 5003 "app update" "access denied: uid 5003 is not an app admin of 'payroll'" \
    app update payroll --user uid:5004
deny 5003 5003 "ticket redeem" "access denied: uid 5003 is not an app admin of 'payroll'" \
    ticket redeem payroll "$TICKET"
# the app admin redeems the user's ticket
allow 5002 5002 ticket redeem payroll "$TICKET" --field password
is "$OUT" "pw-5003-new" "uid 5002: the ticket gives uid 5003's password"

# --- app user through a group (gid:6000 in the supplementary groups) ------------
allow 5005 5005,6000 creds get payroll --field password
is "$OUT" "pw-5005" "uid 5005 in gid 6000: reads its own password"
deny 5005 5005 "creds get" "access denied: uid 5005 is not an app user or admin of 'payroll'" \
    creds get payroll --field password

# --- certificate user ------------------------------------------------------------
allow 5006 5006 cert show "$RSA"
allow 5006 5006 cert export "$RSA"
like "$OUT" "BEGIN CERTIFICATE" "uid 5006: the public part"
unlike "$OUT" "PRIVATE KEY" "uid 5006: export holds no key"
run as_user 5006 5006 "$CLIENTS" fetch "$SOCK" "$RSA"
is "$OUT" "ok 0 " "uid 5006: cert fetch (certificate and key for a send) works"
deny 5006 5006 "cert list" "access denied: uid 5006 is not a vault admin" cert list
deny 5006 5006 "cert grant" "access denied: uid 5006 is not a vault admin" cert grant "$RSA" uid:5004
deny 5006 5006 "cert delete" "access denied: uid 5006 is not a vault admin" cert delete "$RSA"

# --- nobody ------------------------------------------------------------------------
allow 5004 5004 status
allow 5004 5004 app list
deny 5004 5004 "creds get" "access denied: uid 5004 is not an app user or admin of 'payroll'" \
    creds get payroll
deny 5004 5004 "creds set" "access denied: uid 5004 is not an app user or admin of 'payroll'" \
    creds set payroll --from-file "$T_TMP/c5003.json"
deny 5004 5004 "app show" "access denied: uid 5004 is not an app user or admin of 'payroll'" app show payroll
deny 5004 5004 "app create" "access denied: uid 5004 is not an affiliate admin or vault admin" \
    app create x4 --field user --field password:masked
deny 5004 5004 "mapping create" "access denied: uid 5004 is not an app admin of 'payroll'" \
    mapping create payroll uid:5004 ext-5004
deny 5004 5004 "mapping disable" "access denied: uid 5004 is not an app user or admin of 'payroll'" \
    mapping disable payroll uid:5003
deny 5004 5004 "role list" "access denied: uid 5004 is not a vault admin" role list
deny 5004 5004 "audit list" "access denied: uid 5004 is not a vault admin" audit list
deny 5004 5004 "lock" "access denied: uid 5004 is not a vault admin" lock
deny 5004 5004 "cert show" "access denied: uid 5004 is not a user of certificate $RSA" cert show "$RSA"
deny 5004 5004 "ticket redeem" "access denied: uid 5004 is not an app admin of 'payroll'" \
    ticket redeem payroll "$TICKET"
run as_user 5004 5004 "$CLIENTS" fetch "$SOCK" "$RSA"
like "$OUT" "^error -12 access denied: uid 5004 is not a user of certificate $RSA" "uid 5004: cert fetch refused"
echo "5004|cert fetch" >> "$T_TMP/denials"

# --- every denial is in the audit trail, with the uid and the outcome -------
"$V" --json audit list > "$T_TMP/audit.json"
python3 - "$T_TMP/audit.json" "$T_TMP/denials" > "$T_TMP/missing" <<'EOF'
import json, sys
recs = json.load(open(sys.argv[1]))
seen = {(str(r["uid"]), r["op"]) for r in recs if r.get("outcome") == "access denied"}
for line in open(sys.argv[2]):
    uid, op = line.strip().split("|", 1)
    if (uid, op) not in seen:
        print(uid, op)
EOF
DENIALS=$(wc -l < "$T_TMP/denials")
[ "$DENIALS" -ge 20 ]
ok $? "the denials above were noted ($DENIALS, at least 20)"
is "$(cat "$T_TMP/missing")" "" "every one of the $DENIALS denied cells left an audit record"
python3 - "$T_TMP/audit.json" > "$T_TMP/exe" <<'EOF'
import json, sys
recs = json.load(open(sys.argv[1]))
print(sum(1 for r in recs if r.get("uid") == 5004 and r.get("outcome") == "access denied"
          and r.get("exe", "").endswith("/ssovault") and r.get("pid", 0) > 0))
EOF
[ "$(cat "$T_TMP/exe")" -ge 10 ]
ok $? "the records name the caller's pid and executable (from /proc, taken at accept)"
expect 0 "audit verify" "$V" audit verify
daemon_stop
is "$DRC" "0" "SIGTERM: exit 0"

done_testing
