#!/usr/bin/env bash
# Finding 2, audit floods: a hostile uid sends thousands of requests that are
# refused, to grow the audit trail without end (11,600 denials a second grew
# it by 11 MiB in 15 s).  The defence (docs/audit.md, "Repeated failures"):
# the first failure of a kind is recorded at once, its repeats within a
# minute are counted into one record; new object names do not make new
# kinds without end.  Checked: the trail grows by a bounded number of
# records, their counts add up to the refused requests, the counts held in
# memory reach the trail at a clean stop, and the chain verifies.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"

V=$SSOVAULT
ATT=5402			# the attacker: no role at all
VIC=5401			# a user of payroll, mapped
SAME=3000			# creds get payroll, refused, all alike
NAMES=400			# app show of a new name each time
new_vault --key-file "$T_TMP/key"
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts"
expect 0 "app create payroll" "$V" app create payroll --enable --user uid:$VIC \
    --field user --field password:masked
expect 0 "mapping create" "$V" mapping create payroll uid:$VIC ext$VIC
printf '{"user": "ext%s", "password": "victim-pw"}' $VIC > "$T_TMP/c.json"
expect 0 "creds set for the victim" "$V" creds set payroll --user uid:$VIC --from-file "$T_TMP/c.json"
BEFORE=$(audit_count uid=$ATT)
is "$BEFORE" "0" "no record of the attacker yet"

# the flood: one connection, as fast as the daemon answers
attack_py - "$ATT" "$SAME" "$NAMES" > "$T_TMP/flood.out" 2>&1 <<'EOF'
import os, sys
from ssowire import Conn, OP, DENIED, s, as_uid
uid, same, names = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
as_uid(uid)
c = Conn(os.environ["SOCK"])
denied = other = 0
for i in range(same):
    st, msg, _ = c.call(OP["creds get"], s("payroll"), s(""))
    if st == DENIED and "is not an app user or admin of 'payroll'" in msg:
        denied += 1
    else:
        other += 1
refused = 0
for i in range(names):
    st, msg, _ = c.call(OP["app show"], s("nosuch%05d" % i))
    refused += st != 0
print("denied", denied, "other", other, "refused", refused)
EOF
cat "$T_TMP/flood.out" | sed 's/^/# /'
read -r _ DENIEDN _ OTHERN _ REFUSEDN < "$T_TMP/flood.out"
is "$DENIEDN $OTHERN" "$SAME 0" "the attacker really sent $SAME creds get, each refused (access denied)"
is "$REFUSEDN" "$NAMES" "the attacker really sent $NAMES app show of new names, each refused"

expect 0 "the victim still reads its credentials" as_user $VIC $VIC "$V" creds get payroll --field password
is "$OUT" "victim-pw" "the victim's credential"
expect 0 "the vault admin lists the trail during the flood" "$V" --json audit list
DURING=$(audit_count uid=$ATT)
[ "$DURING" -le 12 ]
ok $? "while the daemon runs, the attacker's $((SAME + NAMES)) refusals are $DURING records (at most 12)"

# a clean stop writes the counts held in memory
daemon_stop
is "$DRC" "0" "SIGTERM: exit 0"
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts again"
"$V" --json audit list > "$T_TMP/audit.json"
python3 - "$ATT" "$SAME" "$NAMES" "$T_TMP/audit.json" > "$T_TMP/sum.out" <<'EOF'
import json, sys
uid, same, names = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
recs = [r for r in json.load(open(sys.argv[4])) if r.get("uid") == uid]
creds = [r for r in recs if r.get("op") == "creds get"]
shows = [r for r in recs if r.get("op") == "app show"]
other = [r for r in recs if r not in creds and r not in shows]
count = lambda rs: sum(r.get("count", 1) for r in rs)
rep = [r for r in creds if r.get("count", 1) > 1]
print(len(recs), count(creds), count(shows), len(other), len(creds), len(shows),
      rep[0]["count"] if rep else 0, "yes" if rep and rep[0].get("first_time") else "no")
EOF
read -r NREC CCOUNT SCOUNT NOTHER NCREDS NSHOWS REPCOUNT FIRST < "$T_TMP/sum.out"
[ "$NREC" -le 14 ]
ok $? "the attacker's $((SAME + NAMES)) refusals are $NREC audit records (at most 14)"
is "$CCOUNT" "$SAME" "the counts of the creds get records add up to the $SAME refusals"
is "$SCOUNT" "$NAMES" "the counts of the app show records add up to the $NAMES refusals"
is "$NOTHER" "0" "no other record of the attacker"
is "$NCREDS" "2" "creds get: the first refusal, then one record of its repeats"
is "$REPCOUNT $FIRST" "$((SAME - 1)) yes" "the record of repeats counts $((SAME - 1)) and says since when"
[ "$NSHOWS" -le 10 ]
ok $? "app show with $NAMES new names: $NSHOWS records (8 kinds, then counted together)"
expect 0 "audit list (human) shows the count" "$V" audit list
like "$OUT" "creds get +payroll +access denied \($((SAME - 1)) times since [0-9T:Z-]+\)" \
    "the human listing says how many times since when"
expect 0 "the audit chain verifies" "$V" audit verify
like "$OUT" "^The audit chain verifies" "audit verify: ok"
daemon_stop
is "$DRC" "0" "SIGTERM: exit 0"
done_testing
