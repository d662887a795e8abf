#!/bin/sh
# Stop the test servers that tests/server/start.sh started in DIR and remove
# DIR/env; the logs stay for whoever removes DIR.  A process is signalled only
# if its command line still names DIR (a recycled pid is left alone).  Safe to
# run twice, or on a DIR where nothing runs.
#
#   tests/server/stop.sh DIR
set -u

[ $# -eq 1 ] || { echo "usage: tests/server/stop.sh DIR" >&2; exit 2; }
dir=$1
[ -d "$dir" ] || exit 0
dir=$(cd "$dir" && pwd) || exit 1

# ours PID: the process runs and its command line mentions $dir.
ours() {
	[ -n "$1" ] && [ -r "/proc/$1/cmdline" ] &&
	    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "$dir/"
}

# stop PID: SIGTERM, then up to 5 s for it to go, then SIGKILL.
stop() {
	ours "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	i=0
	while ours "$1" && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if ours "$1"; then
		kill -KILL "$1" 2>/dev/null
		sleep 0.1
	fi
	! ours "$1"
}

status=0
if [ -s "$dir/ntlm.pid" ]; then
	stop "$(cat "$dir/ntlm.pid")" || { echo "stop.sh: the NTLM server in $dir would not stop" >&2; status=1; }
	rm -f "$dir/ntlm.pid" "$dir/ntlm.port"
fi
if [ -s "$dir/httpd.pid" ]; then
	# Apache's parent takes its children down with it on SIGTERM; it
	# removes httpd.pid itself.
	stop "$(cat "$dir/httpd.pid")" || { echo "stop.sh: Apache httpd in $dir would not stop" >&2; status=1; }
	rm -f "$dir/httpd.pid"
fi
# Any child the parent left behind (it was killed, or died).
for p in /proc/[0-9]*; do
	pid=${p#/proc/}
	if [ -r "$p/cmdline" ] && tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "-f $dir/httpd.conf"; then
		stop "$pid" || status=1
	fi
done
rm -f "$dir/env"
exit $status
