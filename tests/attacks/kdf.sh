#!/usr/bin/env bash
# Finding 3: unauthenticated requests stalled the daemon.  `unlock` and
# `secret restore` need no role and ran Argon2id under the daemon's key lock
# held exclusively: four uids sending wrong passphrases made another user's
# `creds get` wait seconds; a crafted restore blob asked for 1 GiB and ~5 s
# of Argon2id before its vault id was even looked at; and `unlock` of an
# unlocked vault tried the passphrase (an oracle for any local user).
#
# Here four attacker uids loop wrong unlocks, then crafted restore blobs,
# while a victim uid loops `creds get`: the victim must complete its
# requests throughout, the attackers must be answered without their
# secrets being tried (unlocked vault), without any key derivation (blobs of
# another vault, or asking for more work than the vault's own slots), or
# refused with "try again in N s" after a wrong secret.  Then, on a locked
# vault: a non-admin with the right passphrase is denied and the vault stays
# locked (audited), a non-admin cannot secret-restore, and the delay after
# wrong passphrases holds one uid back and no other.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"

V=$SSOVAULT
VICTIM=6001
ATTACKERS=6101,6102,6103,6104
new_vault
# secret files owned by whoever reads them, mode 0600
install -m 600 "$T_TMP/pass" "$T_TMP/pass.root"
for u in 6201 6202 6203; do
	install -m 600 -o $u -g $u "$T_TMP/pass" "$T_TMP/pass.$u"
done
printf 'backup password one' > "$T_TMP/bpw.root" && chmod 600 "$T_TMP/bpw.root"
install -m 600 -o 6203 -g 6203 "$T_TMP/bpw.root" "$T_TMP/bpw.6203"
printf 'a new passphrase of the attacker' > "$T_TMP/np.6203"
chown 6203:6203 "$T_TMP/np.6203" && chmod 600 "$T_TMP/np.6203"
printf '{"username": "alice", "password": "victim-secret-6001"}' > "$T_TMP/creds.json"
"$V" app create payroll --enable --user uid:$VICTIM >/dev/null &&
"$V" mapping create payroll uid:$VICTIM alice >/dev/null &&
"$V" creds set payroll --user uid:$VICTIM --from-file "$T_TMP/creds.json" >/dev/null &&
"$V" secret backup "$T_TMP/secret.bak" --password-file "$T_TMP/bpw.root" >/dev/null
ok $? "set-up: payroll maps uid $VICTIM; a secret backup exists"
chmod 644 "$T_TMP/secret.bak"

daemon_start --passphrase-file "$T_TMP/pass.root"
ok $? "ssovaultd starts unlocked"

# jq-like reads of the JSON results
jq() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$@"; }

# --- wrong unlocks on an unlocked vault -------------------------------------------
attack_py "$ATTACKS_DIR/daemon_attacks.py" unlock-flood $VICTIM $ATTACKERS 6 "$T_TMP/pass" \
    > "$T_TMP/unlock.json"
ok $? "the unlock flood ran"
SENT=$(jq "$T_TMP/unlock.json" 'sum(a.get("sent", 0) for a in d["attackers"])')
[ "$SENT" -ge 8 ]; ok $? "the 4 attackers really sent unlocks ($SENT)"
is "$(jq "$T_TMP/unlock.json" 'sorted(set(k for a in d["attackers"] for k in a["replies"]))')" \
    "['-6 the vault is already unlocked (the passphrase was not checked)']" \
    "every unlock of the unlocked vault, right or wrong, is answered 'already unlocked': no secret is tried"
VOK=$(jq "$T_TMP/unlock.json" 'd["victim"].get("ok", 0)')
[ "$VOK" -ge 100 ]; ok $? "the victim's creds get completed $VOK times during the flood (at least 100)"
is "$(jq "$T_TMP/unlock.json" 'd["victim"].get("bad")')" "{}" "... and none failed"
echo "# victim: slowest creds get $(jq "$T_TMP/unlock.json" 'd["victim"].get("worst")') s (not asserted)"

# --- crafted secret restore blobs ------------------------------------------------------
attack_py "$ATTACKS_DIR/daemon_attacks.py" restore-flood $VICTIM $ATTACKERS 6 "$T_TMP/secret.bak" \
    "$DPID" > "$T_TMP/restore.json"
ok $? "the restore flood ran"
SENT=$(jq "$T_TMP/restore.json" 'sum(a.get("sent", 0) for a in d["attackers"])')
[ "$SENT" -ge 12 ]; ok $? "the 4 attackers really sent restores ($SENT)"
is "$(jq "$T_TMP/restore.json" 'sorted(set(k for a in d["attackers"] for k in a["replies"].get("foreign", {})))')" \
    "['-6 backup is of another vault']" \
    "a blob of another vault asking for the most work: refused by its vault id, before any derivation"
like "$(jq "$T_TMP/restore.json" 'sorted(set(k for a in d["attackers"] for k in a["replies"].get("greedy", {})))')" \
    "^\[[\"']-6 the backup asks for more Argon2id work \(opslimit N, memlimit N\) than this vault's slots \(N, N\): it was not made of this vault[\"']\]$" \
    "a blob of this vault asking for more memory than its slots: refused before any derivation"
REAL=$(jq "$T_TMP/restore.json" 'sorted(set(k for a in d["attackers"] for k in a["replies"].get("real", {})))')
like "$REAL" "-9 wrong backup password" "the real blob with a wrong password: derived once, wrong"
like "$REAL" "-11 after N wrong secrets?, uid N must wait before the next try: try again in N s" \
    "... then refused early: try again in N s"
WRONG=$(jq "$T_TMP/restore.json" 'sum(a["replies"].get("real", {}).get("-9 wrong backup password", 0) for a in d["attackers"])')
TRIES=$(jq "$T_TMP/restore.json" 'sum(sum(a["replies"].get("real", {}).values()) for a in d["attackers"])')
[ "$WRONG" -lt "$TRIES" ]; ok $? "fewer derivations ($WRONG) than tries with the real blob ($TRIES)"
VOK=$(jq "$T_TMP/restore.json" 'd["victim"].get("ok", 0)')
[ "$VOK" -ge 100 ]; ok $? "the victim's creds get completed $VOK times during the restores (at least 100)"
is "$(jq "$T_TMP/restore.json" 'd["victim"].get("bad")')" "{}" "... and none failed"
HWM=$(jq "$T_TMP/restore.json" 'd["hwm_kb"]')
# A 1 GiB derivation touches all of its memory, so the peak would pass 1 GiB;
# the vault's own derivations (256 MiB, moderate) stay under 896 MiB even
# under ASan, whose quarantine keeps a freed derivation's memory a while.
[ "$HWM" -gt 0 ] && [ "$HWM" -lt $((896 * 1024)) ]
ok $? "the daemon's peak memory stayed under 896 MiB (${HWM} KiB): no 1 GiB derivation ran"
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "true" "the vault is still unlocked, its slots untouched (checked below)"

# --- a locked vault -------------------------------------------------------------------
expect 0 "the vault admin locks" "$V" lock
expect 5 "uid 6201 (no role) unlocks with the right passphrase: denied" \
    as_user 6201 6201 "$V" unlock --passphrase-file "$T_TMP/pass.6201"
like "$ERR" "access denied: uid 6201 is not a vault admin: the vault stays locked" "... names the missing role"
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "false" "... and the vault stays locked"
expect 5 "uid 6203 (no role) restores the secret with the right backup password: denied" \
    as_user 6203 6203 "$V" secret restore "$T_TMP/secret.bak" --password-file "$T_TMP/bpw.6203" \
    --new-passphrase-file "$T_TMP/np.6203"
like "$ERR" "access denied: uid 6203 is not a vault admin: nothing was restored" "... names the missing role"
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "false" "... the vault stays locked"

attack_py "$ATTACKS_DIR/daemon_attacks.py" backoff 6202 6 > "$T_TMP/backoff.json"
ok $? "uid 6202 sends 6 wrong passphrases in a row"
B=$(jq "$T_TMP/backoff.json" 'sorted(d["replies"].items())')
like "$B" "\('-9 wrong passphrase', 1\)" "the first is tried: wrong passphrase"
like "$B" "'-11 after N wrong secret, uid N must wait before the next try: try again in N s', 5\)" \
    "the next five are refused at once: try again in N s"
expect 0 "the vault admin (root) is not held back by uid 6202: unlocks" "$V" unlock --passphrase-file "$T_TMP/pass.root"
expect 1 "uid 6201 unlocks the unlocked vault with the right passphrase: already unlocked" \
    as_user 6201 6201 "$V" unlock --passphrase-file "$T_TMP/pass.6201"
like "$ERR" "already unlocked" "... says so, and tells nothing about the passphrase"
is "$(audit_count uid=6201 op=unlock "outcome=access denied")" "1" "audit: the denied unlock by uid 6201 is recorded"
expect 0 "the creds are intact" as_user $VICTIM $VICTIM "$V" creds get payroll --field password
is "$OUT" "victim-secret-6001" "... and the victim reads its password"
# the way out stays open to a vault admin who lost the passphrase
printf 'the new passphrase of root' > "$T_TMP/np.root" && chmod 600 "$T_TMP/np.root"
expect 0 "the vault admin locks again" "$V" lock
expect 0 "the vault admin (root) restores the secret through the daemon, locked" \
    "$V" secret restore "$T_TMP/secret.bak" --password-file "$T_TMP/bpw.root" \
    --new-passphrase-file "$T_TMP/np.root"
run "$V" --json status
is "$(echo "$OUT" | json_get unlocked)" "true" "... the vault is unlocked"
expect 0 "... and the new passphrase unlocks it" sh -c "'$V' lock && '$V' unlock --passphrase-file '$T_TMP/np.root'"
L=$(cat "$DLOG")
like "$L" "unlock refused for uid 6201 .*not a vault admin" "log: the denied unlock"
like "$L" "secret restore refused for uid 6203 .*not a vault admin" "log: the denied secret restore"
unlike "$L" "correct horse|not the passphrase|backup password one" "log: no secret in it"
daemon_stop
is "$DRC" "0" "SIGTERM after the attacks: exit 0"

done_testing
