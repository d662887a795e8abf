"""Hostile callers of ssovaultd's own limits (findings 3, 4, 5, 7).

Each subcommand plays one attack as real uids (forked children that drop to
them with ssowire.as_uid) and prints what happened as one JSON object on
stdout, for the shell test to check.  Nothing here asserts: the tests do.
Every wait is bounded, and a child that outlives its time is killed.

    daemon_attacks.py unlock-flood VICTIM ATTACKERS SECONDS RIGHT_PASS_FILE
    daemon_attacks.py restore-flood VICTIM ATTACKERS SECONDS BLOB_FILE DPID
    daemon_attacks.py backoff UID TRIES
    daemon_attacks.py hold UID N HEADER_LEN BODY_BYTES REPORT RELEASE
    daemon_attacks.py idle UID N WAIT_SECONDS
    daemon_attacks.py budget RELEASE UID:CONNS:ANNOUNCE:SENT...
    daemon_attacks.py slow UID WAIT_SECONDS
    daemon_attacks.py flood UID SECONDS VICTIM
    daemon_attacks.py reconnect LIBSSOVAULT SLEEP_SECONDS

(ATTACKERS is a comma-separated list of uids; the socket is $SOCK.  hold and
budget keep their connections open until the file RELEASE exists, for at
most five minutes.)
"""
import ctypes
import json
import os
import re
import resource
import select
import signal
import socket
import struct
import sys
import termios
import fcntl
import time

from ssowire import OP, Closed, Conn, as_uid, frame, s, u8, u32

SOCK = os.environ["SOCK"]
APP = "payroll"
CONFLICT, UNREACHABLE, WRONG_KEY = -6, -11, -9


def in_child(uid, fn, *args):
    """Run fn(*args) as uid in a forked child; (pid, fd to read its JSON)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:
            as_uid(uid)
            out = fn(*args)
        except BaseException as e:  # report, never fall back into the parent
            out = {"error": repr(e)}
            code = 1
        os.write(w, json.dumps(out).encode())
        os._exit(code)
    os.close(w)
    return pid, r


def collect(children, deadline):
    """The JSON of each child, in order; children past the deadline are killed."""
    results = []
    for pid, fd in children:
        data = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
        os.close(fd)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        try:
            results.append(json.loads(data.decode()) if data else {"error": "no result (killed)"})
        except ValueError:
            results.append({"error": "bad result"})
    return results


def victim(start_at, until):
    """creds get of the victim's own mapping, again and again, on one connection."""
    while time.monotonic() < start_at:
        time.sleep(0.01)
    ok, bad, worst = 0, {}, 0.0
    c = Conn(SOCK, timeout=60)
    try:
        while time.monotonic() < until:
            t0 = time.monotonic()
            st, msg, _ = c.call(OP["creds get"], s(APP), s(""))
            worst = max(worst, time.monotonic() - t0)
            if st == 0:
                ok += 1
            else:
                key = "%d %s" % (st, msg)
                bad[key] = bad.get(key, 0) + 1
    finally:
        c.close()
    return {"ok": ok, "bad": bad, "worst": round(worst, 3)}


def tally(replies, st, msg):
    # numbers in messages (seconds, counts) would make every reply its own key
    key = "%d %s" % (st, re.sub(r"\b[0-9]+\b", "N", msg))
    replies[key] = replies.get(key, 0) + 1


def unlock_attacker(until, secrets):
    replies, n = {}, 0
    c = Conn(SOCK, timeout=15)
    try:
        while time.monotonic() < until:
            st, msg, _ = c.call(OP["unlock"], u8(1), s(secrets[n % len(secrets)]))
            tally(replies, st, msg)
            n += 1
    except (OSError, Closed) as e:
        replies["exception " + type(e).__name__] = 1
    return {"sent": n, "replies": replies}


def cmd_unlock_flood(victim_uid, attackers, seconds, right_file):
    right = open(right_file, "rb").read()
    now = time.monotonic()
    until = now + float(seconds)
    kids = [in_child(int(u), unlock_attacker, until, [b"not the passphrase %d" % i for i in range(3)] + [right])
            for u in attackers.split(",")]
    v = in_child(int(victim_uid), victim, now + 0.5, until - 0.5)
    res = collect(kids + [v], until + 20)
    return {"attackers": res[:-1], "victim": res[-1]}


def restore_blobs(blob):
    """The real blob, one of another vault asking for the most Argon2id work
    there is, and one of this vault asking for more memory than its slots."""
    ops = struct.pack(">Q", 4)                  # crypto_pwhash_OPSLIMIT_SENSITIVE
    mem = struct.pack(">Q", 1 << 30)            # crypto_pwhash_MEMLIMIT_SENSITIVE
    foreign = blob[:8] + bytes(b ^ 0x55 for b in blob[8:24]) + ops + mem + blob[40:]
    greedy = blob[:32] + mem + blob[40:]
    return {"real": blob, "foreign": foreign, "greedy": greedy}


def restore_attacker(until, blobs):
    replies = {k: {} for k in blobs}
    n = 0
    kinds = list(blobs)
    c = Conn(SOCK, timeout=15)
    try:
        while time.monotonic() < until:
            k = kinds[n % len(kinds)]
            st, msg, _ = c.call(OP["secret restore"], s(blobs[k]), s("not the backup password"),
                                s("new passphrase 123"), s(""))
            tally(replies[k], st, msg)
            n += 1
    except (OSError, Closed) as e:
        replies["exception"] = {type(e).__name__: 1}
    return {"sent": n, "replies": replies}


def vm_hwm_kb(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def cmd_restore_flood(victim_uid, attackers, seconds, blob_file, dpid):
    blobs = restore_blobs(open(blob_file, "rb").read())
    now = time.monotonic()
    until = now + float(seconds)
    kids = [in_child(int(u), restore_attacker, until, blobs) for u in attackers.split(",")]
    v = in_child(int(victim_uid), victim, now + 0.5, until - 0.5)
    res = collect(kids + [v], until + 20)
    return {"attackers": res[:-1], "victim": res[-1], "hwm_kb": vm_hwm_kb(dpid)}


def backoff(tries):
    replies = {}
    c = Conn(SOCK, timeout=30)
    try:
        for i in range(tries):
            st, msg, _ = c.call(OP["unlock"], u8(1), s("wrong passphrase %d" % i))
            tally(replies, st, msg)
    finally:
        c.close()
    return {"replies": replies}


def cmd_backoff(uid, tries):
    return collect([in_child(int(uid), backoff, int(tries))], time.monotonic() + 120)[0]


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def open_many(n, first_bytes):
    """n connections, each sent first_bytes; the ones the daemon keeps open."""
    raise_nofile()
    conns = []
    for _ in range(n):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(SOCK)
        if first_bytes:
            c.sendall(first_bytes)
        conns.append(c)
    # a refused connection gets an error frame and the end: it becomes readable
    p = select.poll()
    for c in conns:
        p.register(c.fileno(), select.POLLIN)
    readable, quiet_since = set(), time.monotonic()
    t_end = time.monotonic() + 30
    while time.monotonic() < t_end and time.monotonic() - quiet_since < 3:
        got = {fd for fd, ev in p.poll(300)}
        if got - readable:
            quiet_since = time.monotonic()
        readable |= got
    refused_msg = ""
    for c in conns:
        if c.fileno() in readable and not refused_msg:
            try:
                c.settimeout(1)
                hdr = c.recv(5)
                body = c.recv(struct.unpack(">I", hdr[:4])[0] - 1) if len(hdr) == 5 else b""
                refused_msg = body[8:].decode("utf-8", "replace")
            except OSError:
                pass
    alive = [c for c in conns if c.fileno() not in readable]
    return conns, alive, refused_msg


def wait_release(path):
    t_end = time.monotonic() + 300
    while not os.path.exists(path) and time.monotonic() < t_end:
        time.sleep(0.1)


def hold(n, header_len, body_bytes, report, release):
    first = b""
    if header_len >= 0:
        first = u32(header_len + 1) + u8(1) + b"\0" * body_bytes
    conns, alive, refused = open_many(n, first)
    # "read": connections whose bytes the daemon has taken off the socket,
    # so that what the test measures next is after the daemon saw them
    t_end = time.monotonic() + 30
    while any(unsent(c) > 0 for c in alive) and time.monotonic() < t_end:
        time.sleep(0.02)
    read = sum(1 for c in alive if unsent(c) == 0)
    with open(report + ".tmp", "w") as f:
        json.dump({"opened": len(conns), "alive": len(alive), "read": read,
                   "refused": refused}, f)
    os.rename(report + ".tmp", report)
    wait_release(release)
    for c in conns:
        c.close()
    return {"done": True}


def cmd_hold(uid, n, header_len, body_bytes, report, release):
    # the report file goes to a directory the uid may write: made by the test
    return collect([in_child(int(uid), hold, int(n), int(header_len), int(body_bytes),
                             report, release)], time.monotonic() + 330)[0]


def idle(n, wait):
    """n connections that send nothing: how many the daemon ends without a
    word (idle timeout), how many it refuses with an error reply."""
    raise_nofile()
    conns = {}
    for _ in range(n):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(SOCK)
        conns[c.fileno()] = c
    t0 = time.monotonic()
    p = select.poll()
    for fd in conns:
        p.register(fd, select.POLLIN)
    silent, refused = set(), set()
    while time.monotonic() - t0 < wait and len(silent) + len(refused) < n:
        for fd, ev in p.poll(200):
            try:
                data = conns[fd].recv(4096)
            except OSError:
                data = b""
            (refused if data else silent).add(fd)
            p.unregister(fd)
    for c in conns.values():
        c.close()
    return {"opened": n, "closed_silently": len(silent), "refused": len(refused),
            "seconds": round(time.monotonic() - t0, 1)}


def cmd_idle(uid, n, wait):
    return collect([in_child(int(uid), idle, int(n), float(wait))], time.monotonic() + float(wait) + 60)[0]


def unsent(c):
    return struct.unpack("i", fcntl.ioctl(c.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]


def partial(n_conns, announce, send):
    """n_conns requests announcing `announce` bytes, `send` of them sent; what came back."""
    out = []
    conns = []
    for _ in range(n_conns):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(10)
        c.connect(SOCK)
        conns.append(c)
        note = "sent"
        try:
            c.sendall(u32(announce + 1) + u8(1) + u8(OP["status"]) + b"\0" * (send - 1))
            t_end = time.monotonic() + 10
            while unsent(c) > 0 and time.monotonic() < t_end:
                time.sleep(0.02)
            time.sleep(0.2)
        except OSError as e:
            note = type(e).__name__
        c.setblocking(False)
        try:
            data = c.recv(4096)
            if data:
                st = struct.unpack(">i", data[5:9])[0]
                mlen = struct.unpack(">I", data[9:13])[0]
                note = "%d %s" % (st, data[13:13 + mlen].decode("utf-8", "replace"))
            else:
                note = "closed"
        except BlockingIOError:
            pass
        except OSError as e:
            note = type(e).__name__
        out.append(note)
    return conns, out


def budget_owner(n_conns, announce, send, release):
    conns, out = partial(n_conns, announce, send)
    print(json.dumps(out), flush=True)
    wait_release(release)
    for c in conns:
        c.close()
    return out


def slow(wait):
    out = {}
    cases = {"half header": b"\0\0\0", "half body": u32(1001) + u8(1) + u8(1) + b"\0" * 9}
    conns = {}
    for k, first in cases.items():
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(wait)
        c.connect(SOCK)
        c.sendall(first)
        conns[k] = c
    t0 = time.monotonic()
    for k, c in conns.items():
        res = {"status": None, "message": "", "closed": False}
        try:
            c.settimeout(max(0.1, wait - (time.monotonic() - t0)))
            data = b""
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    res["closed"] = True
                    break
                data += chunk
            if len(data) >= 13:
                res["status"] = struct.unpack(">i", data[5:9])[0]
                mlen = struct.unpack(">I", data[9:13])[0]
                res["message"] = data[13:13 + mlen].decode("utf-8", "replace")
        except socket.timeout:
            pass
        except OSError as e:
            res["message"] = type(e).__name__
        res["waited"] = round(time.monotonic() - t0, 1)
        out[k] = res
        c.close()
    return out


def cmd_slow(uid, wait):
    return collect([in_child(int(uid), slow, float(wait))], time.monotonic() + 2 * float(wait) + 30)[0]


def flood(until):
    n = 0
    while time.monotonic() < until:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            c.connect(SOCK)
            n += 1
            c.send(b"\0\0\0")     # half a header, then gone
        except OSError:
            pass
        c.close()
    return {"cycles": n}


def cmd_flood(uid, seconds, victim_uid):
    now = time.monotonic()
    until = now + float(seconds)
    a = in_child(int(uid), flood, until)
    v = in_child(int(victim_uid), victim, now + 0.5, until - 0.5)
    res = collect([a, v], until + 20)
    return {"attacker": res[0], "victim": res[1]}


def cmd_reconnect(lib, sleep_s):
    """One library handle, a request, a pause longer than the idle timeout, a request."""
    class Opts(ctypes.Structure):
        _fields_ = [("vault_dir", ctypes.c_char_p), ("socket_path", ctypes.c_char_p),
                    ("mode", ctypes.c_int)]
    so = ctypes.CDLL(lib)
    so.ssovault_errmsg.restype = ctypes.c_char_p
    h = ctypes.c_void_p()
    o = Opts(None, SOCK.encode(), 1)
    out = {"open": so.ssovault_open(ctypes.byref(o), ctypes.byref(h))}
    js = ctypes.c_char_p()
    out["first"] = so.ssovault_status(h, ctypes.byref(js))
    time.sleep(float(sleep_s))
    out["second"] = so.ssovault_status(h, ctypes.byref(js))
    out["message"] = (so.ssovault_errmsg(h) or b"").decode()
    so.ssovault_free(h)
    return out


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "budget":
        # owners: "UID:CONNS:ANNOUNCE:SEND" each; runs them one after the other,
        # each holding its requests open until the end
        release = args[0]
        results = []
        kids = []
        for spec in args[1:]:
            uid, n, ann, snd = (int(x) for x in spec.split(":"))
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                os.dup2(w, 1)
                try:
                    as_uid(uid)
                    budget_owner(n, ann, snd, release)
                finally:
                    os._exit(0)
            os.close(w)
            f = os.fdopen(r)
            ready, _, _ = select.select([f], [], [], 60)
            results.append(json.loads(f.readline()) if ready else ["timeout"])
            kids.append((pid, f))
        print(json.dumps(results), flush=True)
        # the test looks, then makes the release file; wait for the owners
        for pid, f in kids:
            os.waitpid(pid, 0)
        return
    fn = {"unlock-flood": cmd_unlock_flood, "restore-flood": cmd_restore_flood,
          "backoff": cmd_backoff, "hold": cmd_hold, "idle": cmd_idle, "slow": cmd_slow,
          "flood": cmd_flood, "reconnect": cmd_reconnect}[cmd]
    print(json.dumps(fn(*args)))


if __name__ == "__main__":
    main()
