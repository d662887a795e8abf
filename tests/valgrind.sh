#!/usr/bin/env bash
# Valgrind memcheck over the CLI integration tests (docs/fuzzing.md).
#
#   tests/valgrind.sh [TEST...]
#
# Runs tests/integration/vault.sh, tests/integration/audit.sh, tests/apps/*.sh
# and tests/certs/*.sh (or the TESTs named, as paths under tests/) with
# $SSOVAULT replaced by a wrapper that runs every ssovault command under
#   valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite
# The daemon, when a script starts one, runs natively.  Each command's report
# goes to its own file; any memory error or definite leak, in any command,
# fails the run and is printed.  Suppressions (third-party code only, each
# one explained) are in .ci/valgrind.supp.
#
# The build is $VALGRIND_BUILD_DIR (default build-valgrind), configured
# without sanitizers (they cannot run under valgrind) and built here.
# Reports stay in BUILD/valgrind/ until the next run.  VALGRIND_JOBS
# (default 2) tests run at once.
#
# Exit status: 0 if every test passed and valgrind found nothing; 1 if a
# test failed or valgrind reported an error; 2 on usage or set-up errors.
set -u

prog=tests/valgrind.sh
die() {
	echo "$prog: $*" >&2
	exit 2
}

src=$(cd "$(dirname "$0")/.." && pwd) || die "cannot find the source tree"
cd "$src" || die "cannot enter $src"
build=${VALGRIND_BUILD_DIR:-build-valgrind}
case $build in
/*) ;;
*) build=$src/$build ;;
esac

if [ $# -gt 0 ]; then
	tests="$*"
else
	tests="integration/vault.sh integration/audit.sh $(cd tests && ls apps/*.sh certs/*.sh | grep -v '/lib-')"
fi
for t in $tests; do
	[ -f "tests/$t" ] || die "no test tests/$t"
done

command -v valgrind >/dev/null 2>&1 || die "valgrind is needed (apt-get install valgrind)"
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dbenchmarks=false >"$build.setup.log" 2>&1 || {
		cat "$build.setup.log" >&2
		die "meson setup $build failed"
	}
	rm -f "$build.setup.log"
fi
sanitize=$(meson introspect --buildoptions "$build" | python3 -c 'import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"))')
[ "$sanitize" = none ] || die "$build is built with -Db_sanitize=$sanitize: valgrind needs a build without"
ninja -C "$build" >"$build/valgrind-build.log" 2>&1 || {
	tail -30 "$build/valgrind-build.log" >&2
	die "build failed (log: $build/valgrind-build.log)"
}

work=$build/valgrind
rm -rf "$work"
mkdir -p "$work/reports" "$work/bin" "$work/logs" || die "cannot write in $work"
# the tests run commands as other uids: they write reports here too
chmod 755 "$work" "$work/bin"
chmod 1777 "$work/reports"

# --error-exitcode makes a command with errors fail its test too; the
# reports are what decides, since a test may expect a command to fail
cat >"$work/bin/ssovault" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck -q --leak-check=full --errors-for-leak-kinds=definite \\
    --show-leak-kinds=definite --error-exitcode=99 --track-fds=no \\
    --suppressions="$src/.ci/valgrind.supp" \\
    --log-file="$work/reports/vg.%p" "$build/cli/ssovault" "\$@"
EOF
chmod 755 "$work/bin/ssovault"

export SSOVAULT=$work/bin/ssovault
export SSOVAULTD=$build/sso/ssovaultd
export SOURCE_ROOT=$src
export BUILD_ROOT=$build
export TAMPER=$build/tests/tamper

# run_one TEST: run it, leave its exit status in the log directory
run_one() {
	local t=$1 log t0
	log=$work/logs/$(echo "$t" | tr / -)
	t0=$(date +%s)
	bash "tests/$t" >"$log.log" 2>&1
	echo "$? $(($(date +%s) - t0))" >"$log.rc"
}

failed=0
start=$(date +%s)
jobs=${VALGRIND_JOBS:-2}
running=0
for t in $tests; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_one "$t" &
	running=$((running + 1))
done
wait
for t in $tests; do
	log=$work/logs/$(echo "$t" | tr / -)
	read -r rc secs <"$log.rc"
	n=$(grep -cE '^ok ' "$log.log")
	bad=$(grep -cE '^not ok ' "$log.log")
	if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
		echo "FAIL $t: $bad of $((n + bad)) checks failed, exit $rc (${secs}s; log: $log.log)"
		grep -E -A4 '^not ok ' "$log.log" | head -20 | sed 's/^/    /'
		failed=1
	else
		echo "ok   $t: $n checks (${secs}s)"
	fi
done

# a report file is empty unless valgrind had something to say
reports=$(find "$work/reports" -type f -size +0 | sort)
ncmd=$(find "$work/reports" -type f | wc -l)
if [ -n "$reports" ]; then
	failed=1
	echo
	echo "valgrind reported errors in $(echo "$reports" | wc -l) of $ncmd commands:"
	for r in $reports; do
		echo "--- $r"
		head -60 "$r"
	done
else
	echo "valgrind: no errors and no definite leaks in $ncmd commands"
fi
echo "$prog: $(($(date +%s) - start))s"
[ "$failed" -eq 0 ] || {
	echo "$prog: FAILED"
	exit 1
}
echo "$prog: clean"
