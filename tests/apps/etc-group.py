#!/usr/bin/python3
"""Add or remove a group in /etc/group (and /etc/gshadow) under the shadow
suite's lock, for names groupadd refuses but SSSD and winbind give out
("domain users@contoso.com", "BizTalk Application Users").

    etc-group.py add NAME GID [MEMBER,...]
    etc-group.py del GID NAME
"""
import fcntl
import os
import sys
import time

LOCK = "/etc/.pwd.lock"


def rewrite(path, keep, extra):
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines() if keep(l)]
    lines += extra
    tmp = path + ".ssovault-test"
    st = os.stat(path)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, st.st_mode & 0o7777)
    os.rename(tmp, path)


def main():
    op = sys.argv[1]
    with open(LOCK, "a") as lock:
        # lckpwdf(3)'s lock: useradd and groupadd wait for it, and we for them
        for _ in range(150):
            try:
                fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("etc-group.py: /etc/.pwd.lock is held")
        if op == "add":
            name, gid = sys.argv[2], sys.argv[3]
            members = sys.argv[4] if len(sys.argv) > 4 else ""
            if any(l.split(":")[2:3] == [gid] for l in open("/etc/group", encoding="utf-8")):
                sys.exit("etc-group.py: gid %s is taken" % gid)
            rewrite("/etc/group", lambda l: True, ["%s:x:%s:%s" % (name, gid, members)])
            rewrite("/etc/gshadow", lambda l: l.split(":")[0] != name,
                    ["%s:!::%s" % (name, members)])
        elif op == "del":
            gid, name = sys.argv[2], sys.argv[3]
            rewrite("/etc/group", lambda l: l.split(":")[:3:2] != [name, gid], [])
            rewrite("/etc/gshadow", lambda l: l.split(":")[0] != name, [])
        else:
            sys.exit("usage: etc-group.py add NAME GID [MEMBERS] | del GID NAME")


main()
