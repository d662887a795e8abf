#!/usr/bin/env python3
"""Look for a private key's bytes in a running process's memory.

    memscan.py KEYFILE PID      scan every readable mapping of PID
    memscan.py KEYFILE FILE     scan a file (a control: the key file itself)

KEYFILE is the PEM private key (RSA or EC).  The patterns are pieces of what
a process that held the key would hold: its PKCS#8 DER, the base64 lines of
its PKCS#8 PEM, and its secret numbers (the RSA primes and private exponent,
or the EC scalar) both big-endian, as they are encoded, and little-endian,
as OpenSSL's bignums keep them on x86-64.  Prints one line, "found N" and the
names of the patterns found; exits 0 either way (2 if it cannot read).
Needs root (or ptrace rights over PID) to read another process.
"""
import re
import subprocess
import sys

PIECE = 24          # bytes of each pattern: far too long to match by chance


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True,
                          check=True).stdout


def secret_numbers(keyfile):
    """The secret numbers of the key, from `openssl pkey -text`."""
    text = openssl("pkey", "-in", keyfile, "-noout", "-text").decode()
    nums = {}
    name = None
    for line in text.splitlines():
        m = re.match(r"^(\w[\w ]*):\s*$", line)
        if m:
            name = m.group(1).strip()
            nums[name] = ""
        elif name is not None and re.match(r"^\s+[0-9a-f:]+$", line):
            nums[name] += line.strip().replace(":", "")
        else:
            name = None
    want = ("privateExponent", "prime1", "prime2", "priv")
    return {k: bytes.fromhex(v).lstrip(b"\0") for k, v in nums.items() if k in want and v}


def patterns(keyfile):
    der = openssl("pkey", "-in", keyfile, "-outform", "DER")
    pem = openssl("pkcs8", "-topk8", "-nocrypt", "-in", keyfile).decode().splitlines()
    pats = {}
    for off in (len(der) // 4, len(der) // 2, 3 * len(der) // 4):
        pats["pkcs8-der@%d" % off] = der[off:off + PIECE]
    lines = [l for l in pem if not l.startswith("-----") and len(l) == 64]
    for i in (1, len(lines) // 2, len(lines) - 2):
        pats["pkcs8-pem-line%d" % i] = lines[i].encode()
    for name, n in secret_numbers(keyfile).items():
        mid = max(0, len(n) // 2 - PIECE // 2)
        pats[name + "-be"] = n[mid:mid + PIECE]
        pats[name + "-le"] = n[::-1][mid:mid + PIECE]
    return pats


def regions(pid):
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            name = parts[5] if len(parts) > 5 else ""
            if "r" in parts[1] and name not in ("[vvar]", "[vsyscall]"):
                yield lo, hi


def scan_pid(pid, pats):
    found = set()
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for lo, hi in regions(pid):
            try:
                mem.seek(lo)
                chunk = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            for name, p in pats.items():
                if p in chunk:
                    found.add(name)
    return found


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    pats = patterns(sys.argv[1])
    target = sys.argv[2]
    try:
        if target.isdigit():
            found = scan_pid(int(target), pats)
        else:
            with open(target, "rb") as f:
                data = f.read()
            # a file holds the key as PEM: scan its DER too, as a process would
            data += openssl("pkey", "-in", target, "-outform", "DER")
            found = {n for n, p in pats.items() if p in data and not n.endswith("-le")}
    except OSError as e:
        print("cannot read %s: %s" % (target, e), file=sys.stderr)
        return 2
    print("found %d of %d%s" % (len(found), len(pats),
                                (": " + " ".join(sorted(found))) if found else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
