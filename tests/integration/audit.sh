#!/usr/bin/env bash
# The audit trail: levels, list, verify after records are altered, removed
# or reordered directly in LMDB, prune keeping the chain verifiable, and
# failing closed when no record can be written.
. "$SOURCE_ROOT/tests/lib.sh"
S=$SSOVAULT
new_vault

count() { $S audit list --json | grep -o '"seq"' | wc -l; }

expect 0 "audit verify on a new vault" $S audit verify
like "$OUT" "verifies" "verify reports success"
n0=$(count)
expect 0 "a change" $S role add affiliate-admin uid:700
is "$(count)" $((n0 + 1)) "a change is recorded at the default level"
expect 0 "list JSON" $S audit list --json
like "$OUT" '"op": ?"role add"' "the record names the operation"
like "$OUT" '"user": ?"uid:700"' "the record names the principal"
n1=$(count)
expect 0 "a read of listings" $S role list
is "$(count)" "$n1" "listings are not recorded at the default positive level (low)"
expect 0 "set positive level high" $S audit level --positive high
like "$OUT" "positive: high" "level shows high"
lists() { $S audit list --json | grep -o '"op": *"role list"' | wc -l; }
n2=$(lists)
expect 0 "a listing" $S role list
is "$(lists)" $((n2 + 1)) "listings are recorded at level high"
expect 2 "bad level is a usage error" $S audit level --frob x
expect 1 "unknown level value" $S audit level --positive loud
like "$ERR" "none, low, medium or high" "error lists the levels"
expect 0 "set positive level none" $S audit level --positive none
n3=$(count)
expect 0 "a change at level none" $S role add affiliate-admin uid:701
is "$(count)" "$n3" "nothing recorded at level none"
expect 0 "back to low" $S audit level --positive low

# denials are recorded (negative high by default)
expect 1 "a failing change" $S role remove affiliate-admin uid:999
n4=$(count)
expect 0 "list" $S audit list --json --limit 1
like "$OUT" '"outcome": ?"not found"' "the failure is recorded with its outcome"
expect 0 "--since in the future lists nothing" $S audit list --json --since 2099-01-01
is "$OUT" "[]" "no records after 2099"

expect 0 "verify before tampering" $S audit verify
expect 0 "backup" $S backup "$T_TMP/good.bak"
last=$($S audit list --json --limit 1 | grep -o '"seq": *[0-9]*' | grep -o '[0-9]*$')

expect 0 "tamper: alter record 3" "$TAMPER" "$SSOVAULT_DIR" audit flip seq:3
expect 1 "verify finds the altered record" $S audit verify
like "$ERR" "record 3 was altered" "names record 3 as altered"
$S restore "$T_TMP/good.bak" >/dev/null

expect 0 "tamper: remove record 4" "$TAMPER" "$SSOVAULT_DIR" audit del seq:4
expect 1 "verify finds the removed record" $S audit verify
like "$ERR" "record 4 is missing" "names record 4 as missing"
$S restore "$T_TMP/good.bak" >/dev/null

expect 0 "tamper: swap records 2 and 5" "$TAMPER" "$SSOVAULT_DIR" audit swap seq:2 seq:5
expect 1 "verify finds the reordering" $S audit verify
like "$ERR" "record 2" "names the first bad record"
$S restore "$T_TMP/good.bak" >/dev/null

expect 0 "tamper: remove the last record" "$TAMPER" "$SSOVAULT_DIR" audit del "seq:$last"
expect 1 "verify finds the removed tail" $S audit verify
like "$ERR" "removed" "says records were removed at the end"
$S restore "$T_TMP/good.bak" >/dev/null
expect 0 "verify after restoring the good copy" $S audit verify

# prune keeps the chain verifiable
expect 0 "prune keeping 3" $S audit prune --keep 3
like "$OUT" "kept" "prune reports what it kept"
expect 0 "verify after prune" $S audit verify
n5=$(count)
[ "$n5" -le 5 ]; ok $? "at most the kept records plus the prune's own remain ($n5)"
expect 2 "prune needs --keep" $S audit prune

# fail closed: with the chain's head record damaged nothing can be recorded,
# so nothing is changed and nothing is returned
expect 0 "level high so that listings need a record" $S audit level --positive high
expect 0 "tamper: damage the audit head" "$TAMPER" "$SSOVAULT_DIR" meta flip audit.head
expect 7 "a change fails with exit 7 when its record cannot be written" $S role add affiliate-admin uid:702
like "$ERR" "audit" "the error names the audit"
expect 7 "a read fails with exit 7 too" $S role list
is "$OUT" "" "and prints nothing"
$S restore "$T_TMP/good.bak" >/dev/null
expect 0 "role list after restore" $S role list --json
unlike "$OUT" "uid:702" "the change refused for want of a record was not made"
done_testing
