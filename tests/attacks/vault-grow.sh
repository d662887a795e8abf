#!/usr/bin/env bash
# Finding 2, the map grows by itself: with a fixed map every vault was as
# full as its map, and remapping under a live transaction would crash the
# daemon's readers.  The defence (docs/keys.md, "How big a vault grows"):
# the map begins small and grows up to the ceiling (SSOVAULT_MAX_SIZE),
# only while no transaction is open.  Checked while a reader loop runs the
# whole time: the map grows several times up to the ceiling and never past
# it, no read fails, the daemon lives; status warns from 80% of the ceiling
# and the daemon logs the crossing once, and once more after falling below
# and crossing again.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"

V=$SSOVAULT
VIC=5501
WRITERS="5511 5512 5513 5514 5515 5516 5517 5518"
new_vault --key-file "$T_TMP/key"
export SSOVAULT_MAP_SIZE=1M SSOVAULT_MAX_SIZE=24M
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts: map 1 MiB to begin with, ceiling 24 MiB"
expect 0 "app create payroll" "$V" app create payroll --enable --user uid:$VIC \
    --field user --field password:masked
expect 0 "mapping create" "$V" mapping create payroll uid:$VIC ext$VIC
printf '{"user": "ext%s", "password": "victim-pw"}' $VIC > "$T_TMP/c.json"
expect 0 "creds set for the victim" "$V" creds set payroll --user uid:$VIC --from-file "$T_TMP/c.json"
run "$V" --json status
MAP0=$(echo "$OUT" | json_get map_size)
is "$(echo "$OUT" | json_get max_size)" "25165824" "status --json: max_size is the ceiling"
[ "$MAP0" -le $((4 * 1024 * 1024)) ] 2>/dev/null
ok $? "the map begins small ($MAP0 bytes)"

# the victim reads, on four connections, until told to stop
rm -f "$T_TMP/stop"
attack_py - $VIC "$T_TMP/stop" > "$T_TMP/reads.out" 2>&1 <<'PY' &
import os, sys
from ssowire import Conn, OP, s, as_uid
as_uid(int(sys.argv[1]))
conns = [Conn(os.environ["SOCK"]) for _ in range(4)]
good = bad = 0
during = None
while during is None or good + bad < 200:
    if during is None and os.path.exists(sys.argv[2]):
        during = good + bad
    for c in conns:
        st, msg, payload = c.call(OP["creds get"], s("payroll"), s(""))
        if st == 0 and b"victim-pw" in payload:
            good += 1
        else:
            bad += 1
            print("bad", st, msg, flush=True)
print("reads", good, bad, during, flush=True)
PY
READER=$!

# the writers fill the vault with suspended messages, watching the map
attack_py - $WRITERS > "$T_TMP/writes.out" 2>&1 <<'PY'
import json, os, sys
from ssowire import Conn, OP, s, u32, as_uid, get_string
def status(c):
    st, _, payload = c.call(OP["status"])
    return json.loads(get_string(payload)[0])
for a in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        as_uid(int(a))
        c = Conn(os.environ["SOCK"])
        for i in range(16):
            st, msg, _ = c.call(OP["suspended add"], s('{"url": "http://127.0.0.1:9/"}'),
                                s(b"w" * (256 * 1024)), s("grow"), u32(0))
            j = status(c)
            print("add", a, st, j.get("map_size"), j.get("used_percent"), flush=True)
            if st != 0:
                break
        os._exit(0)
    os.waitpid(pid, 0)
PY
touch "$T_TMP/stop"
wait $READER
read -r _ GOOD BAD DURING < <(grep '^reads' "$T_TMP/reads.out")
grep '^bad' "$T_TMP/reads.out" | head -3 | sed 's/^/# /'
ADDS=$(grep -c '^add [0-9]* 0 ' "$T_TMP/writes.out")
[ "$ADDS" -ge 60 ]
ok $? "the writers stored $ADDS messages of 256 KiB"
[ "${GOOD:-0}" -ge 200 ] && [ "${BAD:-1}" -eq 0 ] && [ "${DURING:-0}" -ge 100 ]
ok $? "the reader loop ran throughout: $GOOD reads (${DURING:-?} while the map grew), ${BAD:-?} failed"
SIZES=$(awk '$1 == "add" { print $4 }' "$T_TMP/writes.out" | uniq | tr '\n' ' ')
echo "# map sizes seen: $MAP0 $SIZES"
python3 - "$MAP0" $SIZES <<'PY'
import sys
sizes = [int(x) for x in sys.argv[1:]]
grew = sum(1 for a, b in zip(sizes, sizes[1:]) if b > a)
shrank = sum(1 for a, b in zip(sizes, sizes[1:]) if b < a)
sys.exit(0 if grew >= 3 and shrank == 0 and max(sizes) == 24 * 1024 * 1024 else 1)
PY
ok $? "the map grew by itself at least three times, up to the ceiling and never past it"
grep -q '^add [0-9]* -16 ' "$T_TMP/writes.out"
ok $? "at the ceiling less its reserve, a writer is refused (SV_ERR_MAP_FULL)"
kill -0 "$DPID"
ok $? "the daemon is alive"

# status warns from 80%; the daemon logged the crossing once
run "$V" --json status
PCT=$(echo "$OUT" | json_get used_percent)
[ "$PCT" -ge 80 ] 2>/dev/null
ok $? "the vault is $PCT% full"
like "$(echo "$OUT" | json_get warning)" "^vault is $PCT% full \([0-9.]+ MiB of 24.0 MiB\)" "status --json warns"
expect 0 "status" "$V" status
like "$OUT" "warning: +vault is $PCT% full" "status (human) warns"
is "$(grep -c 'vault is [0-9]*% full (' "$DLOG")" "1" \
    "the daemon logged the crossing of 80% once, for $(grep -c '^add [0-9]* 0 .* \(8[0-9]\|9[0-9]\)$' "$T_TMP/writes.out") writes past it"

# below again (the vault admin terminates messages), then over again
run "$V" --json suspended list
echo "$OUT" | python3 -c 'import json, sys; print("\n".join(m["id"] for m in json.load(sys.stdin)))' > "$T_TMP/ids"
n=0
while read -r id; do
	"$V" suspended terminate "$id" >/dev/null || break
	n=$((n + 1))
	[ "$n" -lt 30 ] || break
done < "$T_TMP/ids"
run "$V" --json status
PCT=$(echo "$OUT" | json_get used_percent)
[ "$PCT" -lt 75 ] 2>/dev/null
ok $? "after $n messages were terminated the vault is $PCT% full"
is "$(echo "$OUT" | json_get warning)" "null" "status no longer warns"
attack_py - 5519 > /dev/null 2>&1 <<'PY'
import os, sys
from ssowire import Conn, OP, s, u32, as_uid
as_uid(int(sys.argv[1]))
c = Conn(os.environ["SOCK"])
for i in range(60):
    st, _, _ = c.call(OP["suspended add"], s('{}'), s(b"v" * (256 * 1024)), s("again"), u32(0))
    if st != 0:
        break
PY
run "$V" --json status
PCT=$(echo "$OUT" | json_get used_percent)
[ "$PCT" -ge 80 ] 2>/dev/null
ok $? "filled again: $PCT% full"
is "$(grep -c 'vault is [0-9]*% full again, below the 80% warning' "$DLOG")" "1" \
    "the daemon logged the fall below once"
is "$(grep -c 'vault is [0-9]*% full (' "$DLOG")" "2" "and the second crossing once"
expect 0 "audit verify" "$V" audit verify
daemon_stop
is "$DRC" "0" "SIGTERM: exit 0"
done_testing
