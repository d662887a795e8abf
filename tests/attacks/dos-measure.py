#!/usr/bin/env python3
"""Figures for the denial-of-service findings of docs/SECURITY.md (not a test).

Runs each attack of issue "Hold the boundary" against a real ssovaultd for a
few seconds, as uid 5004, while a victim (uid 5003, a mapped app user) keeps
running `creds get payroll` on fresh connections, and prints one row per
attack: the victim's latency (p50, p99, max) and failures during the attack,
the daemon's peak RSS, the vault's size, and the attack's own outcome.
Run as root; it needs no accounts (uids are numbers) and listens on a Unix
socket in a temporary directory only.

    tests/attacks/dos-measure.py [--build DIR] [--seconds N] [attack ...]

Attacks: baseline kdf restore memory idle logflood denials fill.
Compare two builds by running it once with each --build.
"""
import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ssowire as w  # noqa: E402

ATTACKER, VICTIM = 5004, 5003


def run(cmd, env, check=True, **kw):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        sys.exit("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p


def drop(uid):
    def f():
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    return f


# --- roles a child process plays -------------------------------------------

def victim(sock, seconds):
    """Loop creds get; print JSON {lat: [ms...], fail: n, errors: {...}}."""
    lat, fail, errors = [], 0, {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            st, msg, _ = w.call(sock, w.OP["creds get"], w.s("payroll"), w.s(""), timeout=60)
        except Exception as e:  # refused, reset, timeout: a failure too
            st, msg = -999, str(e)
        dt = (time.monotonic() - t0) * 1000
        if st == 0:
            lat.append(dt)
        else:
            fail += 1
            errors[msg[:80]] = errors.get(msg[:80], 0) + 1
            time.sleep(0.01)
    print(json.dumps({"lat": lat, "fail": fail, "errors": errors}))


def attack_kdf(sock, seconds, vault_id):
    """4 connections sending wrong passphrases as fast as they are answered."""
    stop = time.monotonic() + seconds
    counts = {}

    def one():
        while time.monotonic() < stop:
            try:
                st, msg, _ = w.call(sock, w.OP["unlock"], w.u8(1), w.s("wrong guess"), timeout=60)
            except Exception as e:
                st, msg = -999, str(e)
            counts[msg[:60]] = counts.get(msg[:60], 0) + 1
    ts = [threading.Thread(target=one) for _ in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    return {"answers": counts}


def attack_restore(sock, seconds, vault_id):
    """Secret-restore blobs asking for the highest Argon2id cost, 2 at a time."""
    hint = b""
    head = (b"SSOVSEC1" + (os.urandom(16) if vault_id is None else vault_id) +
            struct.pack(">QQ", 4, 1 << 30) + os.urandom(16) + struct.pack(">I", 0) + hint)
    blob = head + os.urandom(24) + os.urandom(52)
    stop = time.monotonic() + seconds
    counts = {}

    def one():
        while time.monotonic() < stop:
            try:
                st, msg, _ = w.call(sock, w.OP["secret restore"], w.s(blob), w.s("password1"),
                                    w.s("new passphrase 1"), w.s(""), timeout=120)
            except Exception as e:
                st, msg = -999, str(e)
            counts[msg[:60]] = counts.get(msg[:60], 0) + 1
    ts = [threading.Thread(target=one) for _ in range(2)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    return {"answers": counts}


def hold_until(seconds, conns):
    time.sleep(seconds)
    for c in conns:
        try:
            c.close()
        except Exception:
            pass


def attack_memory(sock, seconds, vault_id):
    """60 connections, each announcing a 64 MiB body and sending nothing more."""
    conns, refused = [], 0
    for _ in range(60):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock)
            s.sendall(struct.pack(">IB", 64 * 1024 * 1024 + 1, 1))
            conns.append(s)
        except Exception:
            refused += 1
    hold_until(seconds, conns)
    return {"opened": len(conns), "refused": refused}


def attack_idle(sock, seconds, vault_id):
    """2,000 idle connections from one uid."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    conns, refused = [], 0
    for _ in range(2000):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock)
            conns.append(s)
        except Exception:
            refused += 1
    hold_until(seconds, conns)
    return {"opened": len(conns), "refused": refused}


def attack_logflood(sock, seconds, vault_id):
    """connect, half a header, close: 4 loops."""
    stop = time.monotonic() + seconds
    n = [0]

    def one():
        while time.monotonic() < stop:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sock)
                s.send(b"\x00\x00")
                s.close()
                n[0] += 1
            except Exception:
                time.sleep(0.001)
    ts = [threading.Thread(target=one) for _ in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    return {"cycles": n[0]}


def attack_denials(sock, seconds, vault_id):
    """Denied requests on one connection, as fast as they are answered."""
    stop = time.monotonic() + seconds
    c = w.Conn(sock)
    n = 0
    while time.monotonic() < stop:
        c.call(w.OP["creds get"], w.s("payroll"), w.s(""))
        n += 1
    c.close()
    return {"denials": n}


def attack_fill(sock, seconds, vault_id):
    """Suspended messages of 32 MiB until refused (at most 40), then halving
    sizes down to 4 KiB: what is left of the vault after one uid filled it."""
    size, stored, nbytes, last = 32 * 1024 * 1024, 0, 0, ""
    stop = time.monotonic() + 300
    while size >= 4096 and stored < 400 and time.monotonic() < stop:
        body = b"<x>" + b"A" * (size - 8) + b"</x>"
        st, msg, _ = w.call(sock, w.OP["suspended add"], w.s("{}"), w.s(body), w.s("x"),
                            w.u32(1), timeout=120)
        if st != 0:
            last = msg
            size //= 2
            continue
        stored += 1
        nbytes += size
    return {"stored": stored, "MiB": nbytes >> 20, "last refusal": last[:100]}


ATTACKS = {
    "kdf": attack_kdf, "restore": attack_restore, "memory": attack_memory,
    "idle": attack_idle, "logflood": attack_logflood, "denials": attack_denials,
    "fill": attack_fill,
}


# --- the lead process -------------------------------------------------------

class Daemon:
    def __init__(self, build, seconds):
        self.cli = os.path.join(build, "cli", "ssovault")
        self.daemon = os.path.join(build, "sso", "ssovaultd")
        self.seconds = seconds
        self.tmp = tempfile.mkdtemp(prefix="ssovault-dos.")
        os.chmod(self.tmp, 0o755)
        self.vault = os.path.join(self.tmp, "vault")
        self.sock = os.path.join(self.tmp, "ssovault.sock")
        self.log = os.path.join(self.tmp, "daemon.log")
        self.key = os.path.join(self.tmp, "key")
        self.env = dict(os.environ, SSOVAULT_DIR=self.vault)
        for k in ("SSOVAULT_SOCKET", "SSOVAULT_PASSPHRASE_FILE", "SSOVAULT_KEY_FILE"):
            self.env.pop(k, None)
        pw = os.path.join(self.tmp, "pass")
        with open(os.open(pw, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("correct horse battery staple")
        run([self.cli, "init", "--passphrase-file", pw, "--key-file", self.key], self.env)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.daemon, "--vault", self.vault, "--socket", self.sock, "--key-file", self.key,
             "--log-file", self.log], env=self.env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.env["SSOVAULT_SOCKET"] = self.sock
        for _ in range(200):
            if run([self.cli, "status"], self.env, check=False).returncode == 0:
                return
            time.sleep(0.05)
        sys.exit("ssovaultd did not start")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None
        self.env.pop("SSOVAULT_SOCKET", None)

    def setup(self):
        v = self.cli
        run([v, "app", "create", "payroll", "--enable", "--user", "uid:%d" % VICTIM,
             "--field", "user", "--field", "password:masked"], self.env)
        run([v, "mapping", "create", "payroll", "uid:%d" % VICTIM, "victim@payroll"], self.env)
        creds = os.path.join(self.tmp, "creds.json")
        with open(os.open(creds, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write('{"password": "s3cret"}')
        run([v, "creds", "set", "payroll", "--user", "uid:%d" % VICTIM, "--from-file", creds],
            self.env)

    def rss_kb(self):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def vault_bytes(self):
        return sum(os.path.getsize(os.path.join(self.vault, f)) for f in os.listdir(self.vault))

    def log_bytes(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def vault_id(self):
        p = run([self.cli, "--json", "status"], self.env, check=False)
        try:
            return bytes.fromhex(json.loads(p.stdout)["id"])
        except Exception:
            return None

    def child(self, uid, args):
        # the system's python: another uid may not reach a python under /root
        py = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
        return subprocess.Popen([py, os.path.abspath(__file__)] + args,
                                preexec_fn=drop(uid), stdout=subprocess.PIPE, text=True,
                                env=dict(os.environ, PYTHONPATH=os.path.dirname(
                                    os.path.abspath(__file__))))

    def measure(self, name):
        vid = self.vault_id()
        size0, log0 = self.vault_bytes(), self.log_bytes()
        peak = [self.rss_kb()]
        done = threading.Event()

        def sample():
            while not done.wait(0.1):
                peak[0] = max(peak[0], self.rss_kb())
        st = threading.Thread(target=sample)
        st.start()
        att = None
        if name == "fill":
            # the fill first, then how the vault serves everyone else
            fill = self.child(ATTACKER, ["--attack", name, self.sock, str(self.seconds), ""])
            aout_fill = json.loads(fill.communicate()[0] or "{}")
        elif name != "baseline":
            att = self.child(ATTACKER, ["--attack", name, self.sock, str(self.seconds),
                                        vid.hex() if vid else ""])
            time.sleep(1.0)  # let the attack take hold
        vic = self.child(VICTIM, ["--victim", self.sock, str(self.seconds)])
        vout = json.loads(vic.communicate()[0] or '{"lat": [], "fail": -1, "errors": {}}')
        aout = json.loads(att.communicate()[0] or "{}") if att else {}
        if name == "fill":
            aout = aout_fill
        done.set()
        st.join()
        # after the attack: can root still work?
        after = {}
        if name == "fill":
            p = run([self.cli, "--json", "suspended", "list"], self.env, check=False)
            ids = [m["id"] for m in json.loads(p.stdout or "[]")] if p.returncode == 0 else []
            t = run([self.cli, "suspended", "terminate", ids[0]], self.env, check=False) \
                if ids else None
            pr = run([self.cli, "audit", "prune", "--keep", "10"], self.env, check=False)
            after = {"terminate exit": t.returncode if t else "no message",
                     "prune exit": pr.returncode}
        lat = sorted(vout["lat"])

        def pct(p):
            return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
        return {
            "attack": name, "victim ok": len(lat), "victim failed": vout["fail"],
            "p50 ms": round(pct(0.5), 2), "p99 ms": round(pct(0.99), 2),
            "max ms": round(lat[-1], 1) if lat else float("nan"),
            "peak RSS MiB": round(peak[0] / 1024, 1),
            "vault growth MiB": round((self.vault_bytes() - size0) / 1048576, 1),
            "log growth KiB": round((self.log_bytes() - log0) / 1024, 1),
            "attack": name, "attacker": aout, "after": after,
            "victim errors": vout["errors"],
        }

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--victim":
        victim(sys.argv[2], float(sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--attack":
        vid = bytes.fromhex(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else None
        print(json.dumps(ATTACKS[sys.argv[2]](sys.argv[3], float(sys.argv[4]), vid)))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("attacks", nargs="*", default=["baseline"] + list(ATTACKS))
    a = ap.parse_args()
    rows = []
    for name in a.attacks:
        d = Daemon(a.build, a.seconds)
        try:
            d.start()
            d.setup()
            rows.append(d.measure(name))
        finally:
            d.cleanup()
        r = rows[-1]
        if not a.json:
            print("%-9s victim ok %5d failed %4d  p50 %7.2f ms  p99 %8.2f ms  max %8.1f ms  "
                  "RSS %7.1f MiB  vault +%7.1f MiB  log +%8.1f KiB" % (
                      r["attack"], r["victim ok"], r["victim failed"], r["p50 ms"],
                      r["p99 ms"], r["max ms"], r["peak RSS MiB"], r["vault growth MiB"],
                      r["log growth KiB"]))
            print("          attacker %s after %s errors %s" % (
                json.dumps(r["attacker"]), json.dumps(r["after"]),
                json.dumps(r["victim errors"])[:300]))
            sys.stdout.flush()
    if a.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
