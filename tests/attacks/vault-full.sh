#!/usr/bin/env bash
# Finding 2, a full vault: hostile uids fill the vault with suspended
# messages (any uid may add one, op 90), so that nothing can be written:
# every audited read failed closed (exit 7) and the admin's own way out,
# 'suspended terminate' and 'audit prune', failed with "vault is full".
# The defence (docs/keys.md, "How big a vault grows"): ordinary changes stop
# short of a reserve below the ceiling; audit records may use half of it, so
# reads go on; the way out may use all of it.  Several attacker uids, so
# that the test holds with or without per-uid queue quotas.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"

V=$SSOVAULT
VIC=5301
ATTACKERS="5311 5312 5313 5314 5315 5316 5317 5318"
new_vault --key-file "$T_TMP/key"
# a small vault: the map begins at 1 MiB and may grow to 8 MiB (1 MiB reserve)
export SSOVAULT_MAP_SIZE=1M SSOVAULT_MAX_SIZE=8M
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts with a ceiling of 8 MiB"
expect 0 "app create payroll" "$V" app create payroll --enable --user uid:$VIC \
    --field user --field password:masked
expect 0 "mapping create" "$V" mapping create payroll uid:$VIC ext$VIC
printf '{"user": "ext%s", "password": "victim-pw"}' $VIC > "$T_TMP/c.json"
expect 0 "creds set for the victim" "$V" creds set payroll --user uid:$VIC --from-file "$T_TMP/c.json"
run "$V" --json status
is "$(echo "$OUT" | json_get max_size)" "8388608" "status --json: max_size is the ceiling"

# fill: each attacker adds messages of 512 KiB until it is refused, then
# smaller ones into what is left
attack_py - $ATTACKERS > "$T_TMP/fill.out" 2>&1 <<'PY'
import os, sys
from ssowire import Conn, OP, s, u32, as_uid
for a in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        as_uid(int(a))
        c = Conn(os.environ["SOCK"])
        added, st, msg = 0, 0, ""
        for size in (512 * 1024, 64 * 1024, 8 * 1024, 1024):
            for i in range(64):
                st, msg, _ = c.call(OP["suspended add"], s('{"url": "http://127.0.0.1:9/"}'),
                                    s(b"x" * size), s("fill"), u32(0))
                if st != 0:
                    break
                added += size
        print(a, added, st, msg.replace(" ", "_"), flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
PY
cut -c1-150 "$T_TMP/fill.out" | sed 's/^/# /'
ADDED=$(awk '{ n += $2 } END { print n + 0 }' "$T_TMP/fill.out")
[ "$ADDED" -ge $((6 * 1024 * 1024)) ]
ok $? "the attackers stored $ADDED bytes in suspended messages"
# with the per-uid queue quotas (a quarter of the ceiling each), the first
# attackers meet their quota; the others then meet the full vault
is "$(grep -cE -- " -16 vault_is_nearly_full:| -18 the_suspended_queue_keeps_at_most_" "$T_TMP/fill.out")" "8" \
    "in the end every attacker's add is refused: its quota (SV_ERR_TOO_LARGE) or the full vault (SV_ERR_MAP_FULL)"
[ "$(grep -c -- " -16 vault_is_nearly_full:" "$T_TMP/fill.out")" -ge 1 ]
ok $? "the last attackers are refused because the vault is nearly full"
run "$V" --json status
PCT=$(echo "$OUT" | json_get used_percent)
[ "$PCT" -ge 85 ] 2>/dev/null
ok $? "the vault is full up to its reserve ($PCT% of the ceiling used)"
like "$(echo "$OUT" | json_get warning)" "^vault is [0-9]+% full" "status --json warns"
expect 0 "status as another uid" as_user 5320 5320 "$V" status
like "$OUT" "warning: +vault is [0-9]+% full \([0-9.]+ MiB of 8.0 MiB\)" "status warns in its human form"

# ordinary changes are refused, clearly, for everyone; reads go on
desc=$(head -c 1000 /dev/zero | tr '\0' d)
{
	echo "<sso>"
	for i in $(seq 1 40); do
		echo "<application name=\"more$i\"><description>$desc</description><field ordinal=\"0\" label=\"u\"/></application>"
	done
	echo "</sso>"
} > "$T_TMP/more.xml"
expect 1 "an ordinary change is refused (exit 1), even the vault admin's" "$V" app import "$T_TMP/more.xml"
like "$ERR" "^ssovault: app import .*more.xml: vault is nearly full: .* of 8.0 MiB in use, and the last 1.0 MiB are kept for freeing space" \
    "app import: says the vault is nearly full"
for i in 1 2 3; do
	expect 0 "the victim's creds get $i works" as_user $VIC $VIC "$V" creds get payroll --field password
	is "$OUT" "victim-pw" "creds get $i: the credential"
done

# reads go on into the reserve until only the way out's part is left
attack_py - $VIC > "$T_TMP/reads.out" 2>&1 <<'PY'
import os, sys
from ssowire import Conn, OP, s, as_uid
as_uid(int(sys.argv[1]))
c = Conn(os.environ["SOCK"])
n, st, msg, payload = 0, 0, "", b""
while n < 40000:
    st, msg, payload = c.call(OP["creds get"], s("payroll"), s(""))
    if st != 0:
        break
    n += 1
print(n, st, len(payload), msg.replace(" ", "_"))
PY
read -r NREADS RST RLEN RMSG < "$T_TMP/reads.out"
echo "# reads: $NREADS, then status $RST: $RMSG"
[ "$NREADS" -ge 1000 ]
ok $? "the victim read $NREADS times after ordinary changes stopped"
is "$RST $RLEN" "-13 0" "at the end of its share a read fails closed (SV_ERR_AUDIT), nothing returned"
like "$RMSG" "audit_record_could_not_be_written_\(vault_is_full\):_nothing_is_returned" \
    "the failed read says why"

# the way out: the vault admin terminates the biggest messages, prunes the trail
run "$V" --json suspended list
IDS=$(echo "$OUT" | python3 -c 'import json, sys
msgs = sorted(json.load(sys.stdin), key=lambda m: -m["size"])
print(" ".join(m["id"] for m in msgs[:4]))')
[ -n "$IDS" ]
ok $? "the vault admin sees the attackers' messages"
for id in $IDS; do
	expect 0 "the vault admin terminates $id" "$V" suspended terminate "$id"
done
expect 0 "the vault admin prunes the audit trail" "$V" audit prune --keep 10
like "$OUT" "^Removed [0-9]+ audit records; 10 kept" "audit prune: done"
expect 0 "the vault admin reads status" "$V" status
expect 0 "audit verify" "$V" audit verify
like "$OUT" "^The audit chain verifies" "the chain verifies"
expect 0 "the victim reads again" as_user $VIC $VIC "$V" creds get payroll --field password
is "$OUT" "victim-pw" "the victim's credential"
expect 0 "with space freed, ordinary changes work again" "$V" app import "$T_TMP/more.xml"
kill -0 "$DPID"
ok $? "the daemon is alive"
daemon_stop
is "$DRC" "0" "SIGTERM: exit 0"
done_testing
