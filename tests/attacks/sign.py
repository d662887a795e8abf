"""Hostile requests for the keys that stay in ssovaultd (tests/attacks/cert-sign.sh).

    python3 sign.py UID MODE THUMBPRINT [N]

As uid UID (a forked child drops to it), against the daemon at $SOCK:
  garbage   malformed `cert sign`, `cert usable` and `cert update` requests:
            prints "NAME STATUS" per request
  huge      one `cert sign` of 60 MiB of data: prints its status
  vanish    N `cert sign` requests, each on a new connection closed before
            the reply is read: prints "sent N"
  half      N connections that send half a `cert sign` frame and close
  deny      N `cert sign` requests on one connection: prints the statuses seen
"""
import os
import sys

from ssowire import Conn, OP, frame, s, u8, u32, as_uid

SOCK = os.environ["SOCK"]
DIGEST = b"\x01" * 32


def sign_req(thumb, scheme=1, hash_=3, kind=0, mgf=0, salt=0xFFFFFFFF, data=DIGEST):
    return u8(OP["cert sign"]) + s(thumb) + u8(scheme) + u8(hash_) + u8(kind) + u8(mgf) + \
        u32(salt) + s(data)


def run(uid, mode, thumb, n):
    as_uid(uid)
    if mode == "garbage":
        reqs = [
            ("truncated-after-scheme", u8(OP["cert sign"]) + s(thumb) + u8(1)),
            ("scheme-200", sign_req(thumb, scheme=200)),
            ("hash-99", sign_req(thumb, hash_=99)),
            ("kind-7", sign_req(thumb, kind=7)),
            ("mgf-on-pkcs1", sign_req(thumb, mgf=3)),
            ("salt-4g", sign_req(thumb, scheme=2, salt=0xFFFFFFFE)),
            ("pss-no-hash", sign_req(thumb, scheme=2, hash_=0)),
            ("digest-33", sign_req(thumb, data=b"\x02" * 33)),
            ("raw-pkcs1-300", sign_req(thumb, hash_=0, data=b"\x03" * 300)),
            ("string-past-end", u8(OP["cert sign"]) + s(thumb) + u8(1) + u8(3) + u8(0) +
             u8(0) + u32(0xFFFFFFFF) + u32(1000) + b"short"),
            ("trailing", sign_req(thumb) + b"\x00"),
            ("usable-bad-thumb", u8(OP["cert usable"]) + s("not a thumbprint")),
            ("usable-truncated", u8(OP["cert usable"]) + u32(50)),
            ("update-2", u8(OP["cert update"]) + s(thumb) + u8(2)),
            ("update-truncated", u8(OP["cert update"]) + s(thumb)),
        ]
        c = Conn(SOCK)
        for name, body in reqs:
            c.send_raw(frame(body))
            st, msg, _ = c.read_reply()
            print("%s %d %s" % (name, st, msg))
        st, _, _ = c.call(OP["status"])
        print("still-answering %d ok" % st)
    elif mode == "huge":
        c = Conn(SOCK, timeout=120)
        c.send_raw(frame(sign_req(thumb, kind=1, data=b"\x00" * (60 << 20))))
        st, msg, _ = c.read_reply()
        print("huge %d %s" % (st, msg))
    elif mode == "vanish":
        for _ in range(n):
            c = Conn(SOCK)
            c.send_raw(frame(sign_req(thumb)))
            c.close()
        print("sent %d" % n)
    elif mode == "half":
        body = frame(sign_req(thumb))
        for _ in range(n):
            c = Conn(SOCK)
            c.send_raw(body[:len(body) // 2])
            c.close()
        print("sent %d" % n)
    elif mode == "deny":
        c = Conn(SOCK)
        seen = set()
        for _ in range(n):
            st, _, _ = c.call(OP["cert sign"], s(thumb), u8(1), u8(3), u8(0), u8(0),
                              u32(0xFFFFFFFF), s(DIGEST))
            seen.add(st)
        print("statuses %s" % " ".join(str(x) for x in sorted(seen)))


def main():
    uid, mode, thumb = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    pid = os.fork()
    if pid == 0:
        try:
            run(uid, mode, thumb, n)
            sys.stdout.flush()
            os._exit(0)
        except Exception as e:      # the test reads the line
            print("error %s" % e)
            sys.stdout.flush()
            os._exit(1)
    _, st = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(st))


if __name__ == "__main__":
    main()
