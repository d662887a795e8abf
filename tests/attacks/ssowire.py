"""A small ssovaultd client for attack tests: docs/protocol.md in Python.

It speaks the wire protocol the way a hostile local user would, with a few
lines of Python: frames, fields and requests built by hand, so that a test
can send what the C client never would (huge length fields, half headers,
idle connections, crafted blobs).

    from ssowire import Conn, s, u8, u32, u64, OP
    c = Conn(path)
    status, message, payload = c.call(OP["creds get"], s("payroll"), s(""))
"""
import os
import socket
import struct
import time

VERSION = 1

OP = {
    "status": 1, "unlock": 2, "lock": 3,
    "secret backup": 10, "secret restore": 11, "secret rotate": 12,
    "backup": 13, "restore": 14,
    "role list": 20, "role add": 21, "role remove": 22,
    "app create": 30, "app list": 31, "app show": 32, "app update": 33,
    "app enable": 34, "app disable": 35, "app delete": 36, "app import": 37,
    "mapping create": 40, "mapping list": 41, "mapping enable": 42,
    "mapping disable": 43, "mapping delete": 44,
    "creds set": 50, "creds get": 51,
    "ticket issue": 60, "ticket redeem": 61, "ticket settings": 62,
    "cert import": 70, "cert list": 71, "cert show": 72, "cert export": 73,
    "cert delete": 74, "cert grant": 75, "cert revoke": 76, "cert fetch": 77,
    "cert sign": 78, "cert update": 79, "cert usable": 104,
    "port create": 80, "port update": 81, "port show": 82, "port list": 83,
    "port delete": 84,
    "suspended add": 90, "suspended list": 91, "suspended show": 92,
    "suspended get": 93, "suspended update": 94, "suspended remove": 95,
    "audit list": 100, "audit verify": 101, "audit prune": 102,
    "audit level": 103,
}

# status codes (vault/base/include/ssovault/sverr.h)
OK, DENIED, LOCKED, WRONG_KEY, UNREACHABLE = 0, -12, -10, -9, -11


def u8(v):
    return struct.pack(">B", v)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def s(v):
    if isinstance(v, str):
        v = v.encode()
    return u32(len(v)) + v


def frame(body, version=VERSION):
    return u32(len(body) + 1) + u8(version) + body


class Closed(Exception):
    pass


class Conn:
    """One connection to the daemon at path (blocking, with a timeout)."""

    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise Closed("connection closed after %d of %d bytes" % (len(buf), n))
            buf += chunk
        return buf

    def read_reply(self):
        """(status, message, payload) of the next reply frame."""
        hdr = self.recv_exact(5)
        n = struct.unpack(">I", hdr[:4])[0]
        body = self.recv_exact(n - 1)
        status = struct.unpack(">i", body[:4])[0]
        mlen = struct.unpack(">I", body[4:8])[0]
        message = body[8:8 + mlen].decode("utf-8", "replace")
        return status, message, body[8 + mlen:]

    def call(self, op, *fields):
        self.send_raw(frame(u8(op) + b"".join(fields)))
        return self.read_reply()


def call(path, op, *fields, timeout=30.0):
    """One request on a fresh connection."""
    c = Conn(path, timeout)
    try:
        return c.call(op, *fields)
    finally:
        c.close()


def get_string(payload, off=0):
    """(bytes, next offset) of a string field at off."""
    n = struct.unpack(">I", payload[off:off + 4])[0]
    return payload[off + 4:off + 4 + n], off + 4 + n


def as_uid(uid, gid=None, groups=None):
    """Drop to uid/gid in a forked child (call first thing in the child)."""
    gid = uid if gid is None else gid
    os.setgroups(groups or [])
    os.setgid(gid)
    os.setuid(uid)


def timed_call(path, op, *fields, timeout=60.0):
    """(seconds, status) of one request on a fresh connection."""
    t0 = time.monotonic()
    st, _, _ = call(path, op, *fields, timeout=timeout)
    return time.monotonic() - t0, st
