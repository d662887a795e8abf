# PostgreSQL servers for the tests (docs/hosts.md, "Tests"): Debian's
# postgresql-15, run as the unprivileged postgres user from a copy of one
# initdb template, on a Unix socket, loopback TCP with SCRAM, and TLS with
# a CA and server certificate made here at start (nothing is committed).
# Source it (bash); needs root (the server runs as postgres).
#
#   pg_start DIR [ADDRESS...]   a server in DIR (data, socket, log, certs),
#                               listening on 127.0.0.1 and the ADDRESSes;
#                               sets PG_DIR, PG_SOCK, PG_PORT, PG_CA; run it
#                               inside "ip netns exec NS" to start it there
#   pg_stop [DIR] [MODE]        pg_ctl stop -m MODE (fast)
#   pg_sql DB SQL               psql as postgres over the socket, no output
#   pg_sql_out DB SQL           the same, printing the result
#   pg_db NAME                  a new database NAME owned by root; prints
#                               its URI over the socket (peer auth as root)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# pg_template: the initdb output every server copies, made once per build.
pg_template() {
	local t=${PG_TEMPLATE:-${BUILD_ROOT:-/tmp}/pg-template}
	if [ ! -f "$t/PG_VERSION" ]; then
		(
			flock 9
			if [ ! -f "$t/PG_VERSION" ]; then
				rm -rf "$t.new" && mkdir -p "$t.new" && chown postgres:postgres "$t.new" &&
				setpriv --reuid=postgres --regid=postgres --init-groups -- \
				    "$PG_BIN/initdb" -D "$t.new" -U postgres -A peer -E UTF8 \
				    --locale=C.UTF-8 >"$t.new.log" 2>&1 && mv "$t.new" "$t"
			fi
		) 9>"$t.lock"
	fi
	[ -f "$t/PG_VERSION" ] || { echo "# initdb failed:"; sed 's/^/#   /' "$t.new.log"; return 1; }
	echo "$t"
}

# pg_certs DIR ADDRESS...: a CA and a server certificate for localhost,
# 127.0.0.1 and the addresses, in DIR.
pg_certs() {
	local d=$1 san="DNS:localhost,IP:127.0.0.1" a
	shift
	for a in "$@"; do san="$san,IP:$a"; done
	(
		cd "$d" && umask 077 &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -keyout ca.key -out ca.pem -days 2 -subj "/CN=ssovault test db CA" &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -keyout server.key -out server.csr -subj "/CN=localhost" &&
		printf 'subjectAltName=%s\n' "$san" >server.ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		    -out server.pem -days 2 -extfile server.ext
	) >"$d/certs.log" 2>&1
}

pg_start() {
	local dir=$1 tmpl listen="127.0.0.1" a
	shift
	for a in "$@"; do listen="$listen,$a"; done
	tmpl=$(pg_template) || return 1
	mkdir -p "$dir/sock" "$dir/tls" && cp -a "$tmpl" "$dir/data" || return 1
	pg_certs "$dir/tls" "$@" || { echo "# certificates failed"; cat "$dir/tls/certs.log"; return 1; }
	chmod 755 "$dir" && chown -R postgres:postgres "$dir/sock" "$dir/tls" "$dir/data" &&
	chmod 700 "$dir/data"
	PG_PORT=${PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
	cat >>"$dir/data/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '$listen'
unix_socket_directories = '$dir/sock'
ssl = on
ssl_cert_file = '$dir/tls/server.pem'
ssl_key_file = '$dir/tls/server.key'
ssl_ca_file = '$dir/tls/ca.pem'
password_encryption = 'scram-sha-256'
max_connections = 200
shared_buffers = 32MB
fsync = ${PG_FSYNC:-off}
log_min_messages = warning
CONF
	cat >"$dir/data/pg_hba.conf" <<HBA
local all all peer
host all all 127.0.0.1/32 scram-sha-256
hostssl all all 10.213.0.0/16 scram-sha-256
hostnossl all all 10.213.0.0/16 reject
HBA
	setpriv --reuid=postgres --regid=postgres --init-groups -- \
	    "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/sock/log" -w -t 30 start >/dev/null ||
	    { echo "# postgres did not start:"; tail -20 "$dir/sock/log" | sed 's/^/#   /'; return 1; }
	PG_DIR=$dir PG_SOCK=$dir/sock PG_CA=$dir/tls/ca.pem
	export PG_DIR PG_SOCK PG_PORT PG_CA
	pg_sql postgres "CREATE ROLE root SUPERUSER LOGIN"
}

pg_stop() {
	local dir=${1:-$PG_DIR} mode=${2:-fast}
	[ -f "$dir/data/postmaster.pid" ] || return 0
	setpriv --reuid=postgres --regid=postgres --init-groups -- \
	    "$PG_BIN/pg_ctl" -D "$dir/data" -m "$mode" -w -t 30 stop >/dev/null 2>&1
}

pg_sql() {
	setpriv --reuid=postgres --regid=postgres --init-groups -- \
	    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -d "$1" -c "$2" >/dev/null
}

pg_db() {
	pg_sql postgres "CREATE DATABASE \"$1\" OWNER root" || return 1
	echo "postgresql:///$1?host=$PG_SOCK&port=$PG_PORT"
}

# pg_sql_out DB SQL: the result as psql prints it unaligned, as postgres
pg_sql_out() {
	setpriv --reuid=postgres --regid=postgres --init-groups -- \
	    "$PG_BIN/psql" -X -q -t -A -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -d "$1" -c "$2"
}
