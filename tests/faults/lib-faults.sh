# Helpers for the fault tests; source after tests/lib.sh.
#   key_vault DIR    an embedded vault in DIR/v unlocked by the key file
#                    $T_TMP/key.<basename DIR> (no Argon2id cost)
#   seed_vault       app 'erp' (user, password:masked), uid:0 mapped to alice
#                    with password s3cret, a role, a port; $T_TMP/creds2.json
#   dump             everything readable, one normalised line per object
#                    (DUMP_READS=0: without the audited credential read)
#   same_dump A B D  ok if the dumps in files A and B are equal

key_vault() {
	export SSOVAULT_DIR="$1/v"
	export SSOVAULT_KEY_FILE="$T_TMP/key.$(basename "$1")"
	unset SSOVAULT_SOCKET SSOVAULT_PASSPHRASE_FILE
	"$SSOVAULT" init --key-file "$SSOVAULT_KEY_FILE" >/dev/null
}

seed_vault() {
	printf '{"user":"alice","password":"s3cret"}' > "$T_TMP/creds.json"
	printf '{"user":"alice","password":"other"}' > "$T_TMP/creds2.json"
	"$SSOVAULT" app create erp --field user --field password:masked --enable \
	    --user uid:0 >/dev/null &&
	"$SSOVAULT" mapping create erp uid:0 alice >/dev/null &&
	"$SSOVAULT" creds set erp --user uid:0 --from-file "$T_TMP/creds.json" >/dev/null &&
	"$SSOVAULT" role add affiliate-admin uid:4242 >/dev/null &&
	"$SSOVAULT" port create p1 --url http://127.0.0.1:9/x >/dev/null
	ok $? "seed: an app, a mapping with credentials, a role and a port"
}

# One line per object, sorted, so that a dump can be filtered with grep -v.
dump() {
	{
		echo "apps"; "$SSOVAULT" --json app list
		echo "mappings"; "$SSOVAULT" --json mapping list
		echo "roles"; "$SSOVAULT" --json role list
		echo "certs"; "$SSOVAULT" --json cert list
		echo "ports"; "$SSOVAULT" --json port list
		# an audited read writes its record: DUMP_READS=0 leaves it out
		if [ "${DUMP_READS:-1}" = 1 ]; then
			echo "creds"; "$SSOVAULT" --json creds get erp --user uid:0
		fi
		echo "status"; "$SSOVAULT" --json status
	} 2>&1 | python3 -c '
import json, sys
lines = sys.stdin.read().split("\n")
section = None
for l in lines:
    if l in ("apps", "mappings", "roles", "certs", "ports", "creds", "status"):
        section = l
        continue
    if not l.strip():
        continue
    try:
        v = json.loads(l)
    except ValueError:
        print(section, "text", l)
        continue
    if section == "status":
        v = {k: v.get(k) for k in ("epoch", "format", "key_slots", "passphrase_slots")}
    if isinstance(v, list):
        for x in v:
            print(section, json.dumps(x, sort_keys=True))
    elif isinstance(v, dict) and section == "roles":
        for k in sorted(v):
            print(section, k, json.dumps(sorted(v[k])))
    else:
        print(section, json.dumps(v, sort_keys=True))
' | sort
}

same_dump() {
	if cmp -s "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diff "$1" "$2" | head -10 | sed 's/^/#   /'
	fi
}
