#!/usr/bin/env bash
# Storage faults: the LMDB map full (a tiny SSOVAULT_MAP_SIZE), a data file
# that is read-only to its owner (a non-root uid: root ignores modes), and a
# vault on a full filesystem (a small tmpfs).  Each failure has its exact
# message and exit code, leaves the vault as it was (a dump of everything
# readable is compared before and after), and the audit chain verifies.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/faults/lib-faults.sh"
S=$SSOVAULT

# --- 1. the map is full ------------------------------------------------------
mkdir "$T_TMP/full"
key_vault "$T_TMP/full"
export SSOVAULT_MAP_SIZE=256K
seed_vault
big=$(head -c 1000 /dev/zero | tr '\0' x)
# Fill until three writes in a row fail: LMDB reuses freed pages, so a
# small write may still fit after the first big one failed.  From then on
# nothing commits, so the vault is in one state for the checks below.
n=0 fails=0 stored=0
while [ $n -lt 600 ] && [ $fails -lt 3 ]; do
	n=$((n + 1))
	if $S app create "fill$n" --field user --description "$big" >/dev/null 2>&1; then
		fails=0 stored=$((stored + 1))
	else
		fails=$((fails + 1))
	fi
done
[ $stored -gt 1 ] && [ $fails -eq 3 ]
ok $? "map of 256K fills up after $stored applications"
n=$((n + 1))
export DUMP_READS=0
dump > "$T_TMP/before"
# an ordinary change stops short of the reserve kept for the way out
expect 1 "map full: app create is refused before the reserve" $S app create "fill$n" --field user --description "$big"
like "$ERR" "^ssovault: app create fill$n: vault is nearly full: [0-9]+ KiB of 256 KiB in use, and the last 64 KiB are kept for freeing space: a vault admin can prune the audit trail, terminate suspended messages or raise SSOVAULT_MAX_SIZE$" \
    "map full: exact message"
expect 1 "map full: secret rotate fails" $S secret rotate
like "$ERR" "^ssovault: secret rotate: .*: vault is full \(the LMDB map size is reached; SSOVAULT_MAP_SIZE sets a larger one\)$" \
    "map full: rotate names the full map and the knob"
dump > "$T_TMP/after"
same_dump "$T_TMP/before" "$T_TMP/after" "map full: nothing half-written (apps, mappings, creds, roles, epoch)"
expect 1 "map full: the refused app does not exist" $S app show "fill$n"
expect 0 "map full: audit verify" $S audit verify
like "$OUT" "^The audit chain verifies" "map full: the chain verifies"
unset DUMP_READS
expect 1 "a bad SSOVAULT_MAP_SIZE is refused" env SSOVAULT_MAP_SIZE=12Q $S app list
like "$ERR" "^ssovault: .*SSOVAULT_MAP_SIZE: expected a size from 64K to 1024G, got '12Q'$" \
    "bad SSOVAULT_MAP_SIZE: exact message"
export SSOVAULT_MAP_SIZE=8M
expect 0 "with a larger map the same write succeeds" $S app create "fill$n" --field user --description "$big"
expect 0 "with a larger map rotate succeeds" $S secret rotate
expect 0 "creds still open after rotation" $S creds get erp --user uid:0 --field password
is "$OUT" "s3cret" "the credential survived map-full and rotation"
expect 0 "audit verify after growing the map" $S audit verify
unset SSOVAULT_MAP_SIZE

# --- 2. a read-only data file, as a non-root owner ---------------------------
RO=$T_TMP/ro
mkdir -m 755 "$RO"
chown 5301:5301 "$RO"
ro() { as_user 5301 5301 env HOME="$RO" SSOVAULT_DIR="$RO/v" SSOVAULT_KEY_FILE="$RO/key" "$@"; }
ro "$S" init --key-file "$RO/key" >/dev/null &&
ro "$S" app create ro1 --field user --field pw:masked --user uid:5301 --enable >/dev/null &&
ro "$S" mapping create ro1 uid:5301 ext5301 >/dev/null &&
printf '{"user":"ext5301","pw":"ro-secret"}' > "$RO/c.json" && chmod 644 "$RO/c.json" &&
ro "$S" creds set ro1 --from-file "$RO/c.json" >/dev/null
ok $? "uid 5301 owns a vault with one app and credentials"
rodump() { ro "$S" --json app list; ro "$S" --json mapping list; ro "$S" --json role list; }
rodump > "$T_TMP/ro.before"
chmod 500 "$RO/v"
expect 0 "read-only directory (files writable): writes still work" ro "$S" app create ro2 --field user
chmod 700 "$RO/v"
rodump > "$T_TMP/ro.before"
cp "$RO/v/data.mdb" "$T_TMP/ro.data.before"
chmod 400 "$RO/v/data.mdb"
chmod 500 "$RO/v"
expect 1 "read-only data file: app create fails" ro "$S" app create ro3 --field user
like "$ERR" "^ssovault: app create ro3: begin transaction: vault is read-only \(Permission denied\)$" \
    "read-only: exact message"
expect 1 "read-only data file: mapping delete fails" ro "$S" mapping disable ro1 uid:5301
like "$ERR" "vault is read-only \(Permission denied\)$" "read-only: mapping disable message"
expect 0 "read-only data file: listing still works" ro "$S" app list
expect 7 "read-only data file: an audited credential read fails closed" ro "$S" creds get ro1 --field pw
like "$ERR" "^ssovault: creds get ro1: audit record could not be written \(read-only\): nothing is returned$" \
    "read-only: creds get exact message"
unlike "$OUT" "ro-secret" "read-only: no secret printed without its audit record"
cmp -s "$RO/v/data.mdb" "$T_TMP/ro.data.before"
ok $? "read-only: the data file is byte-for-byte unchanged"
chmod 400 "$RO/v/lock.mdb"
expect 1 "read-only lock file: open fails" ro "$S" app list
like "$ERR" "^ssovault: app list: $RO/v: vault is read-only \(Permission denied\)$" \
    "read-only lock file: exact message names the vault"
chmod 700 "$RO/v"; chmod 600 "$RO/v/data.mdb" "$RO/v/lock.mdb"
rodump > "$T_TMP/ro.after"
same_dump "$T_TMP/ro.before" "$T_TMP/ro.after" "read-only: state unchanged"
expect 0 "read-only: audit verify once writable again" ro "$S" audit verify
mkdir -m 555 "$RO/locked"
expect 1 "init under a read-only parent directory" \
    as_user 5301 5301 env HOME="$RO" SSOVAULT_DIR="$RO/locked/v" "$S" init --key-file "$RO/key2"
like "$ERR" "^ssovault: init $RO/locked/v: $RO/locked/v: Permission denied$" "init under a read-only parent: exact message"
[ ! -e "$RO/locked/v" ] && [ ! -e "$RO/key2" ]
ok $? "init under a read-only parent: no vault and no key file left behind"

# --- 3. a full filesystem -------------------------------------------------------
FS=$T_TMP/fs
mkdir "$FS"
if ! mount -t tmpfs -o size=1m,mode=755 tmpfs "$FS" 2>"$T_TMP/mount.err"; then
	echo "# SKIP full filesystem: cannot mount a tmpfs: $(cat "$T_TMP/mount.err")"
	done_testing
fi
at_exit "umount_fs"
umount_fs() { umount "$FS"; }
key_vault "$FS"
seed_vault
dump > "$T_TMP/fs.before"
# fill the filesystem around the vault, then write until LMDB needs a page
dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null
n=0
while [ $n -lt 300 ]; do
	n=$((n + 1))
	run $S app create "fs$n" --field user --description "$big"
	[ "$RC" -eq 0 ] || break
done
is "$RC" "7" "full filesystem: a write fails closed (after $((n - 1)) that fit in free pages)"
like "$ERR" "^ssovault: app create fs$n: audit record could not be written \(no space left\): nothing was changed$" \
    "full filesystem: exact message"
dump | grep -v '"fs[0-9]*"' > "$T_TMP/fs.after.f"
grep -v '"fs[0-9]*"' "$T_TMP/fs.before" > "$T_TMP/fs.before.f"
same_dump "$T_TMP/fs.before.f" "$T_TMP/fs.after.f" "full filesystem: nothing half-written"
expect 1 "full filesystem: the refused app does not exist" $S app show "fs$n"
expect 1 "full filesystem: secret rotate fails" $S secret rotate
like "$ERR" "^ssovault: secret rotate: commit: no space left on device$" \
    "full filesystem: rotate exact message"
expect 0 "full filesystem: creds readable after the failed rotation" $S creds get erp --user uid:0 --field password
is "$OUT" "s3cret" "full filesystem: credential intact"
expect 1 "full filesystem: backup to the full filesystem fails" $S backup "$FS/v.bak"
like "$ERR" "^ssovault: backup $FS/v.bak: copy: no space left on device$" "full filesystem: backup exact message"
[ ! -s "$FS/v.bak" ]
ok $? "full filesystem: no partial backup file is left behind"
expect 0 "full filesystem: audit verify" $S audit verify
rm -f "$FS/filler" "$FS/v.bak"
expect 0 "space freed: the same write succeeds" $S app create "fs$n" --field user --description "$big"
dump | grep -v '"fs[0-9]*"' > "$T_TMP/fs.final.f"
same_dump "$T_TMP/fs.before.f" "$T_TMP/fs.final.f" "full filesystem: nothing else changed"
expect 0 "space freed: rotate succeeds" $S secret rotate
expect 0 "space freed: audit verify" $S audit verify

done_testing
