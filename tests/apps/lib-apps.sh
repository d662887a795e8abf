# Helpers of the tests/apps scripts, on top of tests/lib.sh.

# jpath EXPR: evaluate a Python expression on the JSON document on stdin,
# bound to d (e.g. jpath 'd["enabled"]'); prints it, "True"/"False" for booleans.
jpath() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}

# share_vault: let other uids run embedded commands on the test vault.
# Embedded mode as another uid needs to read and write the LMDB files; this
# is for tests only (a real multi-user setup uses ssovaultd).  The directory
# stays writable by root alone: a vault directory others may write is
# refused.
share_vault() {
	chmod 755 "$SSOVAULT_DIR" && chmod a+rw "$SSOVAULT_DIR"/*.mdb
}

# run_as UID [GIDS] CMD...: run the CLI as another uid (primary gid 7000),
# with its own copy of the passphrase file (a secret file must be its
# reader's).
run_as() {
	local uid=$1 groups=$2 pf
	shift 2
	if [ -n "${SSOVAULT_PASSPHRASE_FILE:-}" ]; then
		pf=$(secret_copy "$uid" "$SSOVAULT_PASSPHRASE_FILE") || return 1
		as_user "$uid" "$groups" env SSOVAULT_PASSPHRASE_FILE="$pf" "$SSOVAULT" "$@"
	else
		as_user "$uid" "$groups" "$SSOVAULT" "$@"
	fi
}

# Users and groups named as SSSD and winbind name them on a host joined to
# Active Directory (DESIGN 4): a space, '@', '\' and non-ASCII letters.
# ad_names BASE: create them with uids and gids BASE..BASE+9 (each test
# its own range of 5700-5799), removed at exit whatever happens:
#   BASE+0 user  CONTOSO\jdoe           (winbind's form)
#   BASE+1 user  jdoe2@contoso.com       (SSSD, fully qualified)
#   BASE+2 user  Jösé                    (non-ASCII)
#   BASE+3 user  mallory (an outsider)
#   BASE+5 group BizTalk Application Users   members: CONTOSO\jdoe, Jösé
#   BASE+6 group domain users@contoso.com    member:  jdoe2@contoso.com
#   BASE+7 group SSO Affiliate Administrators member:  jdoe2@contoso.com
AD_BASE=""
ad_names() {
	local b=$1 u
	AD_BASE=$b
	at_exit ad_names_remove
	ad_names_remove
	useradd --badname -M -N -g 100 -s /usr/sbin/nologin -u "$b" 'CONTOSO\jdoe' &&
	useradd --badname -M -N -g 100 -s /usr/sbin/nologin -u $((b + 1)) 'jdoe2@contoso.com' &&
	useradd --badname -M -N -g 100 -s /usr/sbin/nologin -u $((b + 2)) 'Jösé' &&
	useradd --badname -M -N -g 100 -s /usr/sbin/nologin -u $((b + 3)) "mallory$b" &&
	/usr/bin/python3 "$SOURCE_ROOT/tests/apps/etc-group.py" add 'BizTalk Application Users' \
	    $((b + 5)) 'CONTOSO\jdoe,Jösé' &&
	/usr/bin/python3 "$SOURCE_ROOT/tests/apps/etc-group.py" add 'domain users@contoso.com' \
	    $((b + 6)) 'jdoe2@contoso.com' &&
	/usr/bin/python3 "$SOURCE_ROOT/tests/apps/etc-group.py" add 'SSO Affiliate Administrators' \
	    $((b + 7)) 'jdoe2@contoso.com'
}

# only what ad_names makes: these names at uids and gids of 5700-5799 (also
# those a killed run of another test of the range left behind)
ad_names_remove() {
	local n id
	[ -n "$AD_BASE" ] || return 0
	for n in 'CONTOSO\jdoe' 'jdoe2@contoso.com' 'Jösé' "mallory$AD_BASE"; do
		id=$(getent passwd "$n" | cut -d: -f3)
		[ -n "$id" ] && [ "$id" -ge 5700 ] && [ "$id" -le 5799 ] && userdel -f "$n" 2>/dev/null
	done
	for n in 'BizTalk Application Users' 'domain users@contoso.com' 'SSO Affiliate Administrators'; do
		id=$(getent group "$n" | cut -d: -f3)
		[ -n "$id" ] && [ "$id" -ge 5700 ] && [ "$id" -le 5799 ] &&
		    /usr/bin/python3 "$SOURCE_ROOT/tests/apps/etc-group.py" del "$id" "$n"
	done
	return 0
}
