#!/usr/bin/env bash
# How stale ssovaultd's caches may be (DESIGN 4 and 10: a cached resolution
# at most 2 seconds old; docs/decisions.md, "Caches and their bounds").
# Every worker of a running daemon has read the app, the roles and the
# caller's names into its caches; then
#   - a grant is revoked (the uid removed from the app's users): the next
#     read is refused (decoded records are checked against the vault's bytes
#     on every request);
#   - a user is renamed (usermod -l): user:OLDNAME no longer names it, and a
#     read through that principal is refused once the name cache lets the
#     old answer go (SSO_NAMES_TTL_MS, 1 s);
#   - a user that did not exist is made: user:NEWNAME is granted once the
#     cache lets the "no such user" answer go.
# Each change is polled until it is in force (8 reads in a row, over new
# connections served by any worker); the outcome is asserted and the time
# it took is printed (a TAP comment), never asserted.
#
# Real accounts: ssovt-stale (uid 5412, renamed to ssovt-renamed) and
# ssovt-fresh (uid 5413, made halfway), removed at the end.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

V=$SSOVAULT
accounts_remove() {
	userdel ssovt-stale 2>/dev/null
	userdel ssovt-renamed 2>/dev/null
	userdel ssovt-fresh 2>/dev/null
	return 0
}
accounts_remove
at_exit accounts_remove
useradd -M -N -g users -u 5412 -s /usr/sbin/nologin ssovt-stale
ok $? "the test account ssovt-stale (uid 5412) exists"
! getent passwd ssovt-fresh >/dev/null
ok $? "no account ssovt-fresh yet"

new_vault --key-file "$T_TMP/key"
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts"
# app:PRINCIPAL:UID: one app per case, the principal its only user
for spec in grant:uid:5411:5411 rename:user:ssovt-stale:5412 fresh:user:ssovt-fresh:5413; do
	IFS=: read -r app kind name uid <<<"$spec"
	expect 0 "app $app for $kind:$name" "$V" app create "$app" --enable --user "$kind:$name" \
	    --field user --field password:masked
	expect 0 "mapping of uid:$uid in $app" "$V" mapping create "$app" "uid:$uid" "ext$uid"
	printf '{"user": "ext%s", "password": "pw-%s"}' "$uid" "$app" > "$T_TMP/c.json"
	expect 0 "creds set in $app" "$V" creds set "$app" --user "uid:$uid" --from-file "$T_TMP/c.json"
done

# warm UID APP N: N reads, so that every worker has the app and the names cached
warm() {
	local i okc=0
	for i in $(seq 1 "$3"); do
		as_user "$1" 100 "$V" creds get "$2" --field password >/dev/null 2>&1 && okc=$((okc + 1))
	done
	echo "$okc"
}

# until_exit UID APP WANT: read until the exit status is WANT 8 times in a
# row (each read is a new connection, served by any worker, each worker with
# its own caches); at most 15 s of tries, a bound on the loop, not an
# assertion.  SINCE_MS: how long it took to the first of the 8.
until_exit() {
	local uid=$1 app=$2 want=$3 t0 st row=0 first=0 now
	t0=$(date +%s%N)
	while :; do
		as_user "$uid" 100 "$V" creds get "$app" --field password >/dev/null 2>&1
		st=$?
		now=$((($(date +%s%N) - t0) / 1000000))
		if [ "$st" -eq "$want" ]; then
			[ "$row" -eq 0 ] && first=$now
			row=$((row + 1))
			if [ "$row" -ge 8 ]; then
				SINCE_MS=$first
				return 0
			fi
		else
			row=0
		fi
		[ "$now" -gt 15000 ] && return 1
		sleep 0.05
	done
}

# --- a revoked grant --------------------------------------------------------------
is "$(warm 5411 grant 12)" "12" "uid 5411 reads its credentials in 'grant' (12 times, every worker)"
expect 0 "an admin removes uid:5411 from the users of 'grant'" \
    "$V" app update grant --remove-user uid:5411
until_exit 5411 grant 5
ok $? "the revoked grant is in force: uid 5411 is refused (exit 5, 8 times in a row)"
echo "# revoked grant in force after ${SINCE_MS} ms (bound: 2000 ms)"

# --- a renamed user ---------------------------------------------------------------
is "$(warm 5412 rename 12)" "12" "uid 5412 (user:ssovt-stale) reads in 'rename' (12 times)"
usermod -l ssovt-renamed ssovt-stale
ok $? "usermod renames ssovt-stale to ssovt-renamed"
until_exit 5412 rename 5
ok $? "user:ssovt-stale no longer names uid 5412: it is refused (exit 5, 8 times in a row)"
echo "# rename in force after ${SINCE_MS} ms (bound: 2000 ms; the name cache keeps 1000 ms)"

# --- a new user ---------------------------------------------------------------------
is "$(warm 5413 fresh 12)" "0" "uid 5413 is refused while user:ssovt-fresh does not exist (12 tries)"
useradd -M -N -g users -u 5413 -s /usr/sbin/nologin ssovt-fresh
ok $? "useradd makes ssovt-fresh (uid 5413)"
until_exit 5413 fresh 0
ok $? "user:ssovt-fresh now names uid 5413: it reads (8 times in a row)"
echo "# new user in force after ${SINCE_MS} ms (bound: 2000 ms)"

daemon_stop
is "$DRC" "0" "the daemon stops with exit 0"
done_testing
