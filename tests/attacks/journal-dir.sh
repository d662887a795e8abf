#!/usr/bin/env bash
# The journal of reads of a vault at a URI (docs/hosts.md, "The journal of
# reads on a shared vault"; docs/SECURITY.md) against hostile local users
# and a tampered journal.  Run through tests/pg/with-pg.sh.
#   - A journal directory that is a symbolic link, that group or others may
#     read, or that another uid owns is refused: the daemon says why in its
#     log, writes nothing there, and every read is still recorded (each
#     commits its own record).
#   - A link planted where a journal file goes is not followed.
#   - Another uid cannot list or read the journal directory (0700).
#   - A tampered journal: an entry appended after the daemon was killed, a
#     copy of a real one naming another app with the real one's MAC, is not
#     chained; every answered read is, once; the chain verifies.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"

V=$SSOVAULT
CLIENTS=$BUILD_ROOT/tests/daemon/daemon-clients
[ -x "$CLIENTS" ] || { echo "Bail out! $CLIENTS is not built"; exit 1; }
SSOVAULT_TEST_VAULT=pg new_vault --key-file "$T_TMP/key"
payroll_for 5503 0
chmod 755 "$T_TMP"
J=$T_TMP/journal

# refused DESC: the daemon started with the journal directory as it is now
# has no journal, says so, and records every read all the same
refused() {
	local n0
	: >"$DLOG"
	daemon_start --key-file "$T_TMP/key"
	ok $? "$1: ssovaultd starts"
	n0=$(audit_count uid=5503 "op=creds get" outcome=ok)
	for i in 1 2 3; do
		as_user 5503 100 "$V" creds get payroll --field password >/dev/null
	done
	like "$(cat "$DLOG")" "no journal of reads" "  its log says it has no journal"
	is "$(audit_count uid=5503 "op=creds get" outcome=ok)" "$((n0 + 3))" "  the 3 reads are recorded all the same"
	daemon_stop
}

# --- the journal directory a symbolic link
mkdir -m 700 "$T_TMP/elsewhere"
ln -s "$T_TMP/elsewhere" "$J"
refused "the journal directory a symbolic link"
is "$(ls -A "$T_TMP/elsewhere")" "" "  nothing was written where the link points"
rm "$J"

# --- readable by others, owned by another uid
mkdir -m 755 "$J"
refused "the journal directory mode 0755"
is "$(ls -A "$J")" "" "  nothing was written in it"
chmod 700 "$J"
chown 5503 "$J"
refused "the journal directory owned by uid 5503"
chown 0 "$J"

# --- a link planted where a journal file goes
ln -s "$T_TMP/planted-target" "$J/audit.0.journal"
refused "a link where the journal file goes"
[ ! -e "$T_TMP/planted-target" ]
ok $? "  nothing was written where the link points"
rm "$J/audit.0.journal"

# --- the directory as it should be; another uid cannot look in
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd with its journal directory"
expect 0 "uid 5503 reads" as_user 5503 100 "$V" creds get payroll --field password
[ -s "$J/audit.0.journal" ]
ok $? "  its record went through the journal"
! as_user 5503 100 ls "$J" >/dev/null 2>&1
ok $? "uid 5503 cannot list the journal directory"
! as_user 5503 100 cat "$J/audit.0.journal" >/dev/null 2>&1
ok $? "uid 5503 cannot read the journal"

# --- a tampered journal: reads, kill -9 at once, an entry changed
before=$(audit_count uid=0 "op=creds get" outcome=ok)
"$CLIENTS" reads "$SOCK" 2 200000 payroll > "$T_TMP/acked" 2>/dev/null &
cpid=$!
sleep 0.5
daemon_kill
wait "$cpid"
acked=$(wc -l < "$T_TMP/acked")
# the last entries of a journal's generation, and one of them altered: the
# daemon has two journals (docs/audit.md), the one reads went to last holds
# the entries (the other was folded and emptied, or holds older ones)
tampered=$(python3 - "$J"/audit.*.journal <<'PY'
import os, struct, sys
def entries(b):
    gen = struct.unpack_from("<Q", b, 24)[0]
    off, ents = 64, []
    while off + 24 <= len(b):
        n = struct.unpack_from("<I", b, off)[0]
        if n == 0 or struct.unpack_from("<Q", b, off + 16)[0] != gen:
            break
        ents.append(off)
        off += (24 + n + 7) & ~7
    return ents
p, b, ents = None, None, []
for f in sorted(sys.argv[1:], key=os.path.getmtime, reverse=True):
    b = bytearray(open(f, "rb").read())
    ents = entries(b)
    if ents:
        p = f
        break
# a copy of the last entry naming another app (a well-formed record), its MAC kept, at the end
last = ents[-1]
n = struct.unpack_from("<I", b, last)[0]
e = bytearray(b[last:last + ((24 + n + 7) & ~7)])
i = e.find(b"payroll", 24)
e[i:i + 7] = b"paYroll"
# the forgery takes the last entry's place: that read's record goes with it
# (unless it was folded already: then nothing before it may be folded again)
off, lost = last, 1
b[off:off + len(e)] = e
assert len(b) == 256 * 1024
open(p, "r+b").write(bytes(b))
print(len(ents), lost)
PY
)
lost=${tampered#* }
tampered=${tampered% *}
[ "${tampered:-0}" -gt 0 ]
ok $? "a forged entry in place of the last one in the journal left by the killed daemon ($tampered entries)"
daemon_start --key-file "$T_TMP/key"
ok $? "the daemon restarts"
got=$(( $(audit_count uid=0 "op=creds get" outcome=ok) - before ))
echo "# answered $acked, recorded $got"
[ "$got" -ge $((acked - lost)) ] && [ "$got" -le $((acked + 2)) ]
ok $? "every answered read is chained once ($got records, $acked answered)"
"$V" --json audit list >"$T_TMP/trail.json"
grep -q paYroll "$T_TMP/trail.json"
ok $((!$?)) "the forged entry is not in the chain (its MAC does not match)"
grep -q payroll "$T_TMP/trail.json"
ok $? "  (the trail names the real app: the search is sound)"
expect 0 "audit verify" "$V" audit verify
like "$OUT" "The audit chain verifies" "  the chain verifies"
daemon_stop
done_testing
