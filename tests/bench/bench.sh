#!/usr/bin/env bash
# The benchmarks, one after another: ssovaultd and embedded lookups and
# durable writes (daemon-bench; on LMDB, then on PostgreSQL beside a plain
# primary-key SELECT, with one and two daemons), then `ssovault creds get` as a process
# (creds-get.sh), then batch sends (send-bench.sh).  Run by `ninja -C BUILD
# bench`, which sets the paths below; by hand:
#   BUILD_ROOT=$PWD/build tests/bench/bench.sh
# Environment: BENCH_SECONDS (per row of daemon-bench, default 3),
# BENCH_DIR (where the throwaway vaults go; default the build directory, on
# disk: /tmp may be tmpfs, where fsync costs nothing), CREDS_GET_RUNS
# (default 100), SEND_MESSAGES (default 200).
# Prints figures; exits non-zero if a benchmark's own checks failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SOURCE_ROOT=${SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
BUILD_ROOT=${BUILD_ROOT:-$SOURCE_ROOT/build}
DAEMON_BENCH=${DAEMON_BENCH:-$BUILD_ROOT/tests/bench/daemon-bench}
SSOVAULT=${SSOVAULT:-$BUILD_ROOT/cli/ssovault}
SSOVAULTD=${SSOVAULTD:-$BUILD_ROOT/sso/ssovaultd}
export SOURCE_ROOT BUILD_ROOT SSOVAULT SSOVAULTD
rc=0

for f in "$DAEMON_BENCH" "$SSOVAULT" "$SSOVAULTD"; do
	[ -x "$f" ] || { echo "bench: $f is missing: build first (ninja -C $BUILD_ROOT)" >&2; exit 2; }
done
# never the caller's own vault or daemon
unset SSOVAULT_SOCKET SSOVAULT_DIR SSOVAULT_KEY_FILE SSOVAULT_PASSPHRASE_FILE

# The PostgreSQL rows need a server: one of our own (tests/pg/pg.sh, as the
# postgres user, fsync on, in BENCH_DIR), if we are root and it is installed.
pgargs=()
if [ "$(id -u)" = 0 ] && [ -x /usr/lib/postgresql/15/bin/initdb ] && id postgres >/dev/null 2>&1; then
	. "$SOURCE_ROOT/tests/pg/pg.sh"
	pgdir=$(mktemp -d "${BENCH_DIR:-$BUILD_ROOT}/bench-pg.XXXXXX")
	if PG_FSYNC=on pg_start "$pgdir" >/dev/null && uri=$(pg_db bench); then
		pgargs=(--pg "$uri")
		trap 'pg_stop "$pgdir" immediate; rm -rf "$pgdir"' EXIT
	else
		echo "bench: no PostgreSQL server could be started: no PostgreSQL rows"
	fi
else
	echo "bench: the PostgreSQL rows need root and postgresql-15: skipped"
fi

echo "== ssovaultd and embedded mode: lookups, durable writes (tests/bench/daemon-bench.c)"
"$DAEMON_BENCH" "$SSOVAULTD" --seconds "${BENCH_SECONDS:-3}" --dir "${BENCH_DIR:-$BUILD_ROOT}" \
    "${pgargs[@]}" || rc=1
echo

echo "== one 'ssovault creds get' process per lookup (tests/bench/creds-get.sh)"
# creds-get.sh takes the build directory relative to the source root
rel=$(realpath --relative-to="$SOURCE_ROOT" "$BUILD_ROOT")
TMPDIR=${BENCH_DIR:-$BUILD_ROOT} bash "$here/creds-get.sh" "$rel" "${CREDS_GET_RUNS:-100}" || rc=1
echo

echo "== batch sends (tests/bench/send-bench.sh)"
bash "$here/send-bench.sh" "${SEND_MESSAGES:-200}" || rc=1
exit $rc
