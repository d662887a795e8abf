# Two hosts and a database, for the many-hosts tests (docs/hosts.md).
# Source after tests/lib.sh.  hosts_up makes three network namespaces of
# its own (the database's, host A's, host B's; veth pairs 10.213.1.0/30
# A<->db and 10.213.2.0/30 B<->db, nothing else), starts PostgreSQL in the
# database's namespace (Unix socket, loopback, and TLS with SCRAM on the
# veths), makes a login role with a password kept in a libpq password file
# (PGPASSFILE, 0600), and an empty database "vault".  Everything is removed
# at exit, also when a test fails.
#
#   hosts_up                  the above; sets URI_A, URI_B (TLS, verify-full),
#                             URI_ADMIN (Unix socket, peer, as root)
#   on_host A|B CMD...        run CMD in host A's or B's namespace
#   hostd_start A|B OPTS...   ssovaultd in that namespace on $T_TMP/A.sock,
#                             log $T_TMP/A.log, journal of reads in
#                             $T_TMP/journal.A, pid in DPID_A / DPID_B
#   hostd_stop A|B            SIGTERM and wait
#   via A|B CMD...            the CLI through that host's daemon
. "$SOURCE_ROOT/tests/pg/pg.sh"

NS="svh$$"
DPID_A="" DPID_B=""

hosts_down() {
	local h
	for h in A B; do
		eval "[ -n \"\$DPID_$h\" ] && kill -9 \$DPID_$h 2>/dev/null"
	done
	[ -n "${PG_DIR:-}" ] && pg_stop "$PG_DIR" immediate
	for h in db a b; do ip netns del "$NS$h" 2>/dev/null; done
	if [ "$T_FAILED" -ne 0 ]; then
		for h in A B; do
			[ -s "$T_TMP/$h.log" ] && tail -15 "$T_TMP/$h.log" | sed "s/^/# $h: /"
		done
		[ -s "$PG_DIR/sock/log" ] && tail -15 "$PG_DIR/sock/log" | sed "s/^/# db: /"
	fi
	return 0
}

hosts_up() {
	local h n=1
	at_exit hosts_down
	ip netns add "${NS}db" && ip netns add "${NS}a" && ip netns add "${NS}b" || return 1
	for h in a b; do
		ip link add "${NS}$h" type veth peer name "${NS}${h}x" &&
		ip link set "${NS}$h" netns "${NS}$h" &&
		ip link set "${NS}${h}x" netns "${NS}db" &&
		ip -n "${NS}$h" addr add "10.213.$n.2/30" dev "${NS}$h" &&
		ip -n "${NS}db" addr add "10.213.$n.1/30" dev "${NS}${h}x" &&
		ip -n "${NS}$h" link set "${NS}$h" up &&
		ip -n "${NS}db" link set "${NS}${h}x" up &&
		ip -n "${NS}$h" link set lo up || return 1
		n=$((n + 1))
	done
	ip -n "${NS}db" link set lo up || return 1
	PG_PORT=5432
	ip netns exec "${NS}db" bash -c ". '$SOURCE_ROOT/tests/pg/pg.sh'; PG_PORT=5432 pg_start '$T_TMP/pg' 10.213.1.1 10.213.2.1" || return 1
	PG_DIR=$T_TMP/pg PG_SOCK=$T_TMP/pg/sock PG_CA=$T_TMP/pg/tls/ca.pem
	export PG_DIR PG_SOCK PG_PORT PG_CA
	HOSTPW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	# the role's password goes to psql on stdin, never in an argument
	printf "CREATE ROLE ssohost LOGIN PASSWORD '%s';\nCREATE DATABASE vault OWNER ssohost;\n" "$HOSTPW" |
	    setpriv --reuid=postgres --regid=postgres --init-groups -- \
	    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -d postgres -f - >/dev/null || return 1
	(umask 077 && printf '10.213.1.1:5432:vault:ssohost:%s\n10.213.2.1:5432:vault:ssohost:%s\n' \
	    "$HOSTPW" "$HOSTPW" >"$T_TMP/pgpass")
	export PGPASSFILE=$T_TMP/pgpass
	URI_A="postgresql://ssohost@10.213.1.1:5432/vault?sslmode=verify-full&sslrootcert=$PG_CA"
	URI_B="postgresql://ssohost@10.213.2.1:5432/vault?sslmode=verify-full&sslrootcert=$PG_CA"
	URI_ADMIN="postgresql:///vault?host=$PG_SOCK&port=$PG_PORT&user=ssohost"
}

on_host() {
	local h
	h=$(echo "$1" | tr AB ab)
	shift
	ip netns exec "$NS$h" "$@"
}

hostd_start() {
	local h=$1 i uri
	shift
	eval "uri=\$URI_$h"
	# not through on_host: a function put in the background is a subshell,
	# and its pid, not the daemon's, would be killed at the end (the daemon
	# was left running); ip netns exec execs the daemon in its own pid
	ip netns exec "$NS$(echo "$h" | tr AB ab)" "$SSOVAULTD" --vault "$uri" \
	    --socket "$T_TMP/$h.sock" --log-file "$T_TMP/$h.log" \
	    --journal-dir "$T_TMP/journal.$h" "$@" >/dev/null 2>>"$T_TMP/$h.log" &
	eval "DPID_$h=$!"
	for i in $(seq 1 100); do
		SSOVAULT_SOCKET=$T_TMP/$h.sock "$SSOVAULT" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

hostd_stop() {
	local pid
	eval "pid=\$DPID_$1"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "DPID_$1=''"
}

via() {
	local h=$1
	shift
	SSOVAULT_SOCKET=$T_TMP/$h.sock "$@"
}

# within_bound HOST PATTERN CMD...: run CMD through HOST's daemon until its
# output matches PATTERN, for at most the cache bound (DESIGN 10: 2 s) and a
# little; the caller then asserts on a fresh run.
within_bound() {
	local h=$1 pat=$2 i
	shift 2
	for i in $(seq 1 25); do
		via "$h" "$@" 2>&1 | grep -Eq "$pat" && return 0
		sleep 0.1
	done
	return 1
}
