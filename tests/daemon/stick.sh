#!/usr/bin/env bash
# A worker stays with its connection for the client's next request
# (docs/daemon.md, "Performance"; sso/daemon/conn.c conn_stick):
#   - 300 reads on one connection are served with far fewer re-arms of the
#     connection in the pool (epoll_ctl) than requests: without the stay,
#     every request costs one (counted with strace, not timed);
#   - the stay never starves anyone: with --threads 1, three clients reading
#     at once on three connections, and a fourth command meanwhile, are all
#     answered; the daemon stops promptly with workers waiting on clients;
#   - every answered read has its audit record.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

CLIENTS=$1
V=$SSOVAULT
new_vault --key-file "$T_TMP/key"
payroll_for 0

daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts"
before=$(reads_count)
strace -f -qq -c -e trace=epoll_ctl,recvmsg,sendmsg -o "$T_TMP/strace" -p "$DPID" &
spid=$!
# strace attaches to every thread of the daemon before the reads begin
traced() { grep -l 'TracerPid:[[:space:]]*[1-9]' /proc/"$DPID"/task/*/status 2>/dev/null | wc -l; }
tasks() { ls /proc/"$DPID"/task | wc -l; }
for i in $(seq 1 100); do
	[ "$(traced)" -ge "$(tasks)" ] && break
	sleep 0.1
done
"$CLIENTS" reads "$SOCK" 1 300 payroll > "$T_TMP/acked" 2>"$T_TMP/err"
is "$(grep -c '^ok$' "$T_TMP/acked")" "300" "300 reads on one connection are answered"
kill -INT "$spid"
wait "$spid"
ctl=$(awk '$NF == "epoll_ctl" { print $4 }' "$T_TMP/strace")
sends=$(awk '$NF == "sendmsg" { print $4 }' "$T_TMP/strace")
echo "# epoll_ctl: ${ctl:-0}, sendmsg: ${sends:-0} for 300 reads"
[ "${sends:-0}" -ge 300 ]
ok $? "strace saw the replies (${sends:-0} sendmsg)"
[ "${ctl:-0}" -lt 100 ]
ok $? "the connection went back to the pool ${ctl:-0} times for 300 requests (one each without the stay)"
after=$(reads_count)
is "$((after - before))" "300" "each read has its audit record"
daemon_stop
is "$DRC" "0" "the daemon stops cleanly"

# one configured worker: the stay must not keep the others waiting
daemon_start --key-file "$T_TMP/key" --threads 1
ok $? "ssovaultd --threads 1 starts"
before=$(reads_count)
"$CLIENTS" reads "$SOCK" 3 400 payroll > "$T_TMP/acked" 2>"$T_TMP/err" &
cpid=$!
expect 0 "a command meanwhile is answered" "$V" creds get payroll --field password
is "$OUT" "pw0" "  with the password"
wait "$cpid"
is "$(grep -c '^ok$' "$T_TMP/acked")" "1200" "three clients at once, 400 reads each, all answered"
after=$(reads_count)
is "$((after - before))" "1201" "each read has its audit record"
"$CLIENTS" reads "$SOCK" 2 100000 payroll > /dev/null 2>&1 &
cpid=$!
sleep 0.5
daemon_stop
is "$DRC" "0" "the daemon stops while workers stay with reading clients"
wait "$cpid"
done_testing
