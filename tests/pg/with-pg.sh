#!/bin/bash
# with-pg.sh CMD...: run CMD with a PostgreSQL server for it: the one
# ./run-tests started (PG_DIR, PG_SOCK, PG_PORT in the environment) or, if
# there is none, one of its own for the length of CMD.  CMD gets
# SSOVAULT_TEST_PG, the URI of a fresh database of its own (peer
# authentication as root over the socket).
set -u
. "$(dirname "$0")/pg.sh"
own=""
if [ -z "${PG_SOCK:-}" ] || [ ! -S "$PG_SOCK/.s.PGSQL.${PG_PORT:-5432}" ]; then
	own=$(mktemp -d /tmp/ssovault-pg.XXXXXX)
	unset PG_PORT
	pg_start "$own" || { echo "Bail out! no PostgreSQL server"; exit 1; }
fi
name="t_$(basename "$1" | tr -c 'a-zA-Z0-9\n' '_')_$$"
SSOVAULT_TEST_PG=$(pg_db "$name") || { echo "Bail out! cannot create database $name"; exit 1; }
export SSOVAULT_TEST_PG
"$@"
rc=$?
if [ -n "$own" ]; then
	pg_stop "$own" immediate
	rm -rf "$own"
else
	pg_sql postgres "DROP DATABASE \"$name\" WITH (FORCE)" ||
	    echo "# could not drop database $name"
fi
exit $rc
