#!/usr/bin/env bash
# What a group change really does (finding 11 of "Hold the boundary";
# docs/SECURITY.md "Groups and running processes").  The daemon decides by
# the groups the kernel gives the calling process (SO_PEERGROUPS), not by
# /etc/group: a user removed from a group keeps the group's grants in
# processes that were already running (and in their children) until they
# start afresh from a new login; a process started after the change
# (initgroups from the name service) has lost them.  A change in the vault
# itself (a principal removed from an app) takes effect at the next request,
# even on a connection that is already open.
#
# Real accounts: group ssovt-staff (gid 6301), users ssovt-kept (5301) and
# ssovt-listed (5302), made here and removed at the end.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"

V=$SSOVAULT
GRP=ssovt-staff GID=6301
accounts_remove() {
	userdel ssovt-kept 2>/dev/null
	userdel ssovt-listed 2>/dev/null
	groupdel "$GRP" 2>/dev/null
	return 0
}
accounts_remove
at_exit accounts_remove
groupadd -g "$GID" "$GRP" &&
    useradd -M -N -g users -u 5301 -s /usr/sbin/nologin ssovt-kept &&
    useradd -M -N -g users -u 5302 -s /usr/sbin/nologin ssovt-listed &&
    gpasswd -a ssovt-listed "$GRP" >/dev/null
ok $? "the test accounts exist (group $GRP with member ssovt-listed)"
like "$(getent group "$GRP")" "ssovt-listed" "/etc/group lists ssovt-listed in $GRP"

new_vault --key-file "$T_TMP/key"
daemon_start --key-file "$T_TMP/key"
ok $? "ssovaultd starts"
expect 0 "app create payroll for group:$GRP" "$V" app create payroll --enable \
    --user "group:$GRP" --field user --field password:masked
for u in 5301 5302; do
	printf '{"password": "pw-%s"}' "$u" > "$T_TMP/c$u.json"
	expect 0 "mapping for uid:$u" "$V" mapping create payroll "uid:$u" "ext-$u"
	expect 0 "creds set for uid:$u" "$V" creds set payroll --user "uid:$u" \
	    --from-file "$T_TMP/c$u.json"
done

# --- the kernel's groups decide, not /etc/group -----------------------------------
expect 0 "uid 5301 with gid $GID in its kernel groups reads (not listed in /etc/group)" \
    as_user 5301 "100,$GID" "$V" creds get payroll --field password
is "$OUT" "pw-5301" "uid 5301: its own password"
expect 5 "uid 5302 listed in /etc/group, but its process lacks gid $GID: refused" \
    as_user 5302 100 "$V" creds get payroll --field password
expect 0 "uid 5302 started from a login (initgroups) has gid $GID and reads" \
    setpriv --reuid 5302 --regid 100 --init-groups -- "$V" creds get payroll --field password

# --- removed from the group: running processes keep it, new logins do not ---------
# A process of uid 5302 started while it was a member (initgroups) holds a
# connection; the user is then removed from the group.
attack_py - "$T_TMP" <<'EOF' > "$T_TMP/running.out" 2>&1
import os, subprocess, sys, time
import ssowire as w
tmp = sys.argv[1]
r, wr = os.pipe()
go_r, go_w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r); os.close(go_w)
    os.initgroups("ssovt-listed", 100)   # what a login gives it now
    os.setgid(100); os.setuid(5302)
    out = os.fdopen(wr, "w")
    c = w.Conn(os.environ["SOCK"])
    st, msg, _ = c.call(w.OP["creds get"], w.s("payroll"), w.s(""))
    out.write("before %d %s\n" % (st, msg)); out.flush()
    os.read(go_r, 1)                     # the admin removed it from the group
    st, msg, _ = c.call(w.OP["creds get"], w.s("payroll"), w.s(""))
    out.write("same-connection %d %s\n" % (st, msg))
    st, msg, _ = w.call(os.environ["SOCK"], w.OP["creds get"], w.s("payroll"), w.s(""))
    out.write("new-connection %d %s\n" % (st, msg)); out.flush()
    child = os.fork()                    # a child of the running process
    if child == 0:
        st, msg, _ = w.call(os.environ["SOCK"], w.OP["creds get"], w.s("payroll"), w.s(""))
        out.write("child %d %s\n" % (st, msg)); out.flush()
        os._exit(0)
    os.waitpid(child, 0)
    os.read(go_r, 1)                     # the admin removed the group from the app
    st, msg, _ = c.call(w.OP["creds get"], w.s("payroll"), w.s(""))
    out.write("after-app-change %d %s\n" % (st, msg)); out.flush()
    os._exit(0)
os.close(wr); os.close(go_r)
rd = os.fdopen(r)
print(rd.readline().strip(), flush=True)
subprocess.run(["gpasswd", "-d", "ssovt-listed", "ssovt-staff"], check=True,
               stdout=subprocess.DEVNULL)
os.write(go_w, b"x")
for _ in range(3):
    print(rd.readline().strip(), flush=True)
subprocess.run([os.environ["SSOVAULT"], "app", "update", "payroll", "--remove-user",
                "group:ssovt-staff"], check=True, stdout=subprocess.DEVNULL)
os.write(go_w, b"x")
print(rd.readline().strip(), flush=True)
os.waitpid(pid, 0)
EOF
RUN=$(cat "$T_TMP/running.out")
echo "$RUN" | sed 's/^/# /'
unlike "$(getent group "$GRP")" "ssovt-listed" "ssovt-listed is no longer in /etc/group's $GRP"
like "$RUN" "^before 0$" "a running process of a member reads"
like "$RUN" "^same-connection 0$" "after the group change, its open connection still reads (groups taken at connect)"
like "$RUN" "^new-connection 0$" "after the group change, a new connection of the running process still reads (the kernel's groups are unchanged)"
like "$RUN" "^child 0$" "and so does a child it starts"
expect 5 "a process started after the change (initgroups) is refused" \
    setpriv --reuid 5302 --regid 100 --init-groups -- "$V" creds get payroll --field password
like "$RUN" "after-app-change -12 access denied" \
    "a change in the vault (group removed from the app) applies at the next request on an open connection"

done_testing
