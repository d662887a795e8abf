#!/bin/sh
# Count what the test servers saw, from their logs (access.log of Apache,
# ntlm.log of the NTLM server; formats in tests/server/README.md).  Waits
# first until LOG has stopped growing, since a server logs a request just
# after answering it.  Prints one number.
#
#   tests/server/count.sh requests    LOG [PATTERN]  lines (matching grep -E PATTERN)
#   tests/server/count.sh connections LOG [PATTERN]  distinct client ports among them
#   tests/server/count.sh handshakes  LOG [PATTERN]  full TLS handshakes (new
#                                                    connections not resumed; Apache)
#   tests/server/count.sh resumed     LOG [PATTERN]  new connections that resumed a
#                                                    TLS session (Apache)
#   tests/server/count.sh settle      LOG            only wait
set -u

usage() {
	echo "usage: tests/server/count.sh requests|connections|handshakes|resumed|settle LOG [PATTERN]" >&2
	exit 2
}
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	usage
fi
what=$1
log=$2
pattern=${3:-}
[ -f "$log" ] || { echo "count.sh: no log file $log" >&2; exit 1; }

# Settled: the size held for 0.2 s (at most 3 s in all).
last=-1
i=0
while [ "$i" -lt 15 ]; do
	size=$(wc -c <"$log")
	[ "$size" -eq "$last" ] && break
	last=$size
	sleep 0.2
	i=$((i + 1))
done

lines() {
	if [ -n "$pattern" ]; then
		grep -E -- "$pattern" "$log"
	else
		cat "$log"
	fi
}

case $what in
requests) lines | wc -l ;;
connections) lines | awk '{ print $1 }' | sort -u | wc -l ;;
handshakes) lines | awk '$2 == "0" && $3 == "Initial"' | wc -l ;;
resumed) lines | awk '$2 == "0" && $3 == "Resumed"' | wc -l ;;
settle) ;;
*) usage ;;
esac
