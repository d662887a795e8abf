#!/usr/bin/env python3
"""NTLM verifier of the ssovault test servers: a SOAP endpoint over TLS that
demands a client certificate of the test CA and NTLM authentication, checked
for real (python3 standard library only, so MD4 is written out below: OpenSSL
3 may not offer it).

NTLM authenticates a connection, not a request: Type 1 (negotiate) -> 401 with
a Type 2 (challenge, a fresh random server challenge) -> Type 3 (authenticate)
must all arrive on one keep-alive connection; once it verifies, further
requests on that connection are accepted without an Authorization header, as
IIS does.  Only NTLMv2 responses are accepted; NTLMv1 / NTLM2-session
responses (24 bytes) are refused (`--selftest` checks that, with the
known-answer NTLMv2 vector of MS-NLMP 4.2.4, since curl only sends NTLMv2).

Authenticated POSTs get the same SOAP answers as the Apache responder
(soap.lua): an envelope of the request's version echoing what arrived, and the
path suffixes /fault11 /fault12 /fault /status/NNN /slow[/N] /notxml.

Each request is logged as one line to --log:
  CLIENTPORT USER RESULT "METHOD PATH" STATUS
with RESULT one of: none (no Authorization), challenge (Type 2 sent),
authenticated (Type 3 verified), connection (already authenticated
connection), rejected-v1, rejected-password, rejected-user, bad-message,
tls-failed (handshake failed; USER is "-", METHOD PATH "-").

  python3 ntlm_server.py --pki DIR --user U --domain D --password-file F
                         --log FILE --port-file FILE [--port N]
  python3 ntlm_server.py --selftest      (known answers, TAP output)
"""

import argparse
import base64
import hmac
import os
import re
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NS11 = "http://schemas.xmlsoap.org/soap/envelope/"
NS12 = "http://www.w3.org/2003/05/soap-envelope"
MAX_BODY = 64 * 1024 * 1024

NTLMSSP = b"NTLMSSP\0"
FLAG_UNICODE = 0x00000001
FLAG_OEM = 0x00000002
FLAG_REQUEST_TARGET = 0x00000004
FLAG_NTLM = 0x00000200
FLAG_ALWAYS_SIGN = 0x00008000
FLAG_TARGET_TYPE_DOMAIN = 0x00010000
FLAG_EXTENDED_SESSIONSECURITY = 0x00080000
FLAG_TARGET_INFO = 0x00800000


# ---------------------------------------------------------------- MD4 (RFC 1320)

def _rotl(x, n):
    x &= 0xFFFFFFFF
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


def md4(data):
    """MD4 digest of bytes (RFC 1320)."""
    msg = bytearray(data)
    bitlen = (8 * len(data)) & 0xFFFFFFFFFFFFFFFF
    msg.append(0x80)
    while len(msg) % 64 != 56:
        msg.append(0)
    msg += struct.pack("<Q", bitlen)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476

    def f(x, y, z):
        return (x & y) | (~x & z)

    def g(x, y, z):
        return (x & y) | (x & z) | (y & z)

    def h(x, y, z):
        return x ^ y ^ z

    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", bytes(msg[off:off + 64]))
        aa, bb, cc, dd = a, b, c, d
        for i in range(0, 16, 4):
            a = _rotl(a + f(b, c, d) + x[i], 3)
            d = _rotl(d + f(a, b, c) + x[i + 1], 7)
            c = _rotl(c + f(d, a, b) + x[i + 2], 11)
            b = _rotl(b + f(c, d, a) + x[i + 3], 19)
        for i in range(4):
            a = _rotl(a + g(b, c, d) + x[i] + 0x5A827999, 3)
            d = _rotl(d + g(a, b, c) + x[i + 4] + 0x5A827999, 5)
            c = _rotl(c + g(d, a, b) + x[i + 8] + 0x5A827999, 9)
            b = _rotl(b + g(c, d, a) + x[i + 12] + 0x5A827999, 13)
        for i in (0, 2, 1, 3):
            a = _rotl(a + h(b, c, d) + x[i] + 0x6ED9EBA1, 3)
            d = _rotl(d + h(a, b, c) + x[i + 8] + 0x6ED9EBA1, 9)
            c = _rotl(c + h(d, a, b) + x[i + 4] + 0x6ED9EBA1, 11)
            b = _rotl(b + h(c, d, a) + x[i + 12] + 0x6ED9EBA1, 15)
        a = (a + aa) & 0xFFFFFFFF
        b = (b + bb) & 0xFFFFFFFF
        c = (c + cc) & 0xFFFFFFFF
        d = (d + dd) & 0xFFFFFFFF
    return struct.pack("<4I", a, b, c, d)


def _md4_selftest():
    vectors = {  # RFC 1320 appendix A.5
        b"": "31d6cfe0d16ae931b73c59d7e0c089c0",
        b"a": "bde52cb31de33e46245e05fbdbd6fb24",
        b"abc": "a448017aaf21d8525fc10ae87aa6729d",
        b"message digest": "d9130a8164549fe818874806e1c7014b",
        b"12345678901234567890123456789012345678901234567890123456789012345678901234567890":
            "e33b4ddc9c38f2199c3e7b164fcc0536",
    }
    for msg, want in vectors.items():
        if md4(msg).hex() != want:
            raise SystemExit("ntlm_server: MD4 self-test failed")


# ---------------------------------------------------------------- NTLM messages

class BadMessage(Exception):
    pass


def _field(msg, off):
    """The payload bytes a (len, maxlen, offset) security buffer at off names."""
    if len(msg) < off + 8:
        raise BadMessage("truncated header")
    length, _maxlen, start = struct.unpack_from("<HHI", msg, off)
    if start > len(msg) or length > len(msg) - start:
        raise BadMessage("field out of bounds")
    return msg[start:start + length]


def parse_type1(msg):
    if len(msg) < 16 or msg[:8] != NTLMSSP or struct.unpack_from("<I", msg, 8)[0] != 1:
        raise BadMessage("not a Type 1 message")
    return struct.unpack_from("<I", msg, 12)[0]


def _av(av_id, value):
    return struct.pack("<HH", av_id, len(value)) + value


def make_type2(client_flags, challenge, domain):
    flags = FLAG_NTLM | FLAG_ALWAYS_SIGN | FLAG_TARGET_TYPE_DOMAIN | FLAG_REQUEST_TARGET
    flags |= FLAG_UNICODE if client_flags & FLAG_UNICODE else FLAG_OEM
    if client_flags & FLAG_EXTENDED_SESSIONSECURITY:
        flags |= FLAG_EXTENDED_SESSIONSECURITY
    enc = "utf-16-le" if flags & FLAG_UNICODE else "latin-1"
    target = domain.upper().encode(enc)
    # Target information makes clients answer with NTLMv2.
    flags |= FLAG_TARGET_INFO

    def u(s):
        return s.encode("utf-16-le")
    # Windows time: 100 ns ticks since 1601-01-01
    ts = struct.pack("<Q", int((time.time() + 11644473600) * 10000000))
    info = (_av(2, u(domain.upper())) + _av(1, u("SSOVAULTTEST")) +
            _av(4, u(domain.lower() + ".test")) + _av(3, u("ssovaulttest." + domain.lower() + ".test")) +
            _av(7, ts) + _av(0, b""))
    head = 48
    msg = NTLMSSP + struct.pack("<I", 2)
    msg += struct.pack("<HHI", len(target), len(target), head)
    msg += struct.pack("<I", flags) + challenge + b"\0" * 8
    msg += struct.pack("<HHI", len(info), len(info), head + len(target))
    return msg + target + info


def parse_type3(msg):
    if len(msg) < 64 or msg[:8] != NTLMSSP or struct.unpack_from("<I", msg, 8)[0] != 3:
        raise BadMessage("not a Type 3 message")
    flags = struct.unpack_from("<I", msg, 60)[0]
    enc = "utf-16-le" if flags & FLAG_UNICODE else "latin-1"
    try:
        return {
            "lm": _field(msg, 12),
            "nt": _field(msg, 20),
            "domain": _field(msg, 28).decode(enc),
            "user": _field(msg, 36).decode(enc),
            "workstation": _field(msg, 44).decode(enc),
        }
    except UnicodeDecodeError as e:
        raise BadMessage("bad string encoding") from e


def verify_ntlmv2(t3, challenge, user, domain, password):
    """'authenticated', or the reason the Type 3 message is refused."""
    if t3["user"].upper() != user.upper():
        return "rejected-user"
    if t3["domain"].upper() != domain.upper():
        return "rejected-user"
    nt = t3["nt"]
    if len(nt) == 24:
        return "rejected-v1"
    # NTProofStr (16) + blob: 0x01 0x01, 6 reserved, timestamp, client challenge ...
    if len(nt) < 16 + 28 or nt[16:18] != b"\x01\x01":
        return "bad-message"
    nt_hash = md4(password.encode("utf-16-le"))
    v2_hash = hmac.new(nt_hash, (t3["user"].upper() + t3["domain"]).encode("utf-16-le"), "md5").digest()
    proof = hmac.new(v2_hash, challenge + nt[16:], "md5").digest()
    if not hmac.compare_digest(proof, nt[:16]):
        return "rejected-password"
    return "authenticated"


def selftest():
    """Known answers: MD4 (RFC 1320) and NTLMv2 (MS-NLMP 4.2.4); refusals of
    NTLMv1, a wrong password, a wrong user, a truncated message.  Exit 0 if
    all hold."""
    _md4_selftest()
    def u(s):
        return s.encode("utf-16-le")
    if md4(u("Password")).hex() != "a4f49c406510bdcab6824ee7c30fd852":
        raise SystemExit("ntlm_server: NT hash known answer failed")
    challenge = bytes.fromhex("0123456789abcdef")
    av = (_av(2, u("Domain")) + _av(1, u("Server")) + _av(0, b""))
    temp = b"\x01\x01" + b"\0" * 6 + b"\0" * 8 + b"\xaa" * 8 + b"\0" * 4 + av + b"\0" * 4
    proof = bytes.fromhex("68cd0ab851e51c96aabc927bebef6a1c")
    t3 = {"user": "User", "domain": "Domain", "nt": proof + temp, "lm": b"", "workstation": "COMPUTER"}
    cases = [
        ("NTLMv2 known answer", t3, "Password", "authenticated"),
        ("wrong password", t3, "password", "rejected-password"),
        ("NTLMv1 response", dict(t3, nt=b"\x11" * 24), "Password", "rejected-v1"),
        ("wrong user", dict(t3, user="Other"), "Password", "rejected-user"),
        ("wrong domain", dict(t3, domain="Elsewhere"), "Password", "rejected-user"),
        ("short NTLMv2 blob", dict(t3, nt=proof + temp[:10]), "Password", "bad-message"),
        ("tampered blob", dict(t3, nt=proof + temp[:-1] + b"\x01"), "Password", "rejected-password"),
    ]
    failed = 0
    for i, (desc, msg, pw, want) in enumerate(cases, 1):
        got = verify_ntlmv2(msg, challenge, "user", "DOMAIN", pw)
        print("%s %d - %s" % ("ok" if got == want else "not ok", i, desc))
        failed += got != want
    # A Type 3 whose field points past the end is refused, not read.
    bad = NTLMSSP + struct.pack("<I", 3) + struct.pack("<HHI", 24, 24, 4000) + b"\0" * 44
    try:
        parse_type3(bad)
        ok = False
    except BadMessage:
        ok = True
    print("%s %d - out-of-bounds Type 3 field refused" % ("ok" if ok else "not ok", len(cases) + 1))
    failed += not ok
    print("1..%d" % (len(cases) + 1))
    return 1 if failed else 0


# ---------------------------------------------------------------- SOAP answers

def _esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def soap_version(headers):
    ct = headers.get("Content-Type", "")
    soapaction = headers.get("SOAPAction")
    if ct.lower().lstrip().startswith("application/soap+xml"):
        m = re.search(r'action\s*=\s*"([^"]*)"', ct, re.I) or re.search(r"action\s*=\s*([^;\s]+)", ct, re.I)
        return "1.2", (m.group(1) if m else ""), soapaction, ct
    if ct.lower().lstrip().startswith("text/xml"):
        action = soapaction or ""
        m = re.match(r'^\s*"(.*)"\s*$', action)
        return "1.1", (m.group(1) if m else action), soapaction, ct
    return None, "", soapaction, ct


def envelope(version, inner):
    if version == "1.2":
        return ('<?xml version="1.0" encoding="utf-8"?>\n<env:Envelope xmlns:env="%s" '
                'xmlns:t="urn:ssovault:test"><env:Body>%s</env:Body></env:Envelope>\n' % (NS12, inner),
                "application/soap+xml; charset=utf-8")
    return ('<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="%s" '
            'xmlns:t="urn:ssovault:test"><soap:Body>%s</soap:Body></soap:Envelope>\n' % (NS11, inner),
            "text/xml; charset=utf-8")


def fault(version, rec, why):
    if version == "1.2":
        return ('<env:Fault><env:Code><env:Value>env:Receiver</env:Value><env:Subcode>'
                '<env:Value>t:TestFault</env:Value></env:Subcode></env:Code><env:Reason>'
                '<env:Text xml:lang="en">%s</env:Text></env:Reason><env:Detail>%s</env:Detail>'
                '</env:Fault>' % (_esc(why), rec))
    return ('<soap:Fault><faultcode>soap:Server</faultcode><faultstring>%s</faultstring>'
            '<detail>%s</detail></soap:Fault>' % (_esc(why), rec))


def body_content(body):
    m = re.search(rb"<[\w.\-]*:?Body[^>]*>", body)
    if not m:
        return ""
    ends = list(re.finditer(rb"</[\w.\-]*:?Body\s*>", body))
    if not ends or ends[-1].start() < m.end():
        return ""
    return body[m.end():ends[-1].start()].decode("utf-8", "replace")


def soap_answer(path, headers, body, user, dn):
    """(status, content type, body bytes) for an authenticated POST."""
    version, action, soapaction, ct = soap_version(headers)
    rec = ('<t:received version="%s" action="%s" soapAction="%s" contentType="%s" method="POST" '
           'path="%s" user="%s" clientCert="%s" bytes="%d"/>' %
           (version or "", _esc(action), _esc(soapaction or ""), _esc(ct), _esc(path),
            _esc(user), _esc(dn), len(body)))
    if path.endswith("/notxml"):
        return 200, "text/plain", b"this is not XML <<< &&& >>> garbage ]]>\n"
    m = re.search(r"/status/(\d{3})$", path)
    if m:
        code = int(m.group(1))
        if code < 200 or code > 599 or code in (204, 304):
            return 400, "text/plain", b"status must be 200-599 (not 204 or 304)\n"
        return code, "text/plain", b"status %d as requested\n" % code
    for suffix, fv in (("/fault11", "1.1"), ("/fault12", "1.2")):
        if path.endswith(suffix):
            text, ctype = envelope(fv, fault(fv, rec, "Test fault from " + suffix))
            return 500, ctype, text.encode()
    if version is None:
        return 415, "text/plain", (b"unsupported Content-Type; send text/xml (SOAP 1.1) or "
                                   b"application/soap+xml (SOAP 1.2)\n")
    if path.endswith("/fault"):
        text, ctype = envelope(version, fault(version, rec, "Test fault from /fault"))
        return 500, ctype, text.encode()
    m = re.search(r"/slow(?:/(\d+))?$", path)
    if m:
        time.sleep(min(int(m.group(1) or "5"), 60))
    text, ctype = envelope(version, "<t:EchoResponse>%s<t:echo>%s</t:echo></t:EchoResponse>" %
                           (rec, _esc(body_content(body))))
    return 200, ctype, text.encode()


# ---------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ssovault-ntlm-test/1"

    def setup(self):
        super().setup()
        self.ntlm_user = None       # set once this connection has authenticated
        self.ntlm_challenge = None  # the Type 2 challenge sent on this connection
        # The client certificate's subject, written as Apache's SSL_CLIENT_S_DN.
        short = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU",
                 "countryName": "C", "localityName": "L", "stateOrProvinceName": "ST"}
        try:
            rdns = self.connection.getpeercert().get("subject", ())
            self.dn = ",".join("%s=%s" % (short.get(k, k), v) for rdn in reversed(rdns) for k, v in rdn)
        except (ValueError, AttributeError):
            self.dn = ""

    def log_message(self, fmt, *args):
        pass

    def log_line(self, user, result, status):
        self.server.log("%d %s %s \"%s %s\" %d" % (self.client_address[1], user or "-", result,
                                                   self.command, self.path, status))

    def read_body(self):
        """The request body (Content-Length or chunked), or None if it is refused."""
        te = self.headers.get("Transfer-Encoding", "").lower()
        if te == "chunked":
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + size > MAX_BODY:
                    return None
                out += self.rfile.read(size)
                self.rfile.readline(8)
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        if n < 0 or n > MAX_BODY:
            return None
        return self.rfile.read(n)

    def reply(self, status, ctype, body, extra=()):
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def deny(self, user, result, extra=(("WWW-Authenticate", "NTLM"),)):
        self.log_line(user, result, 401)
        self.reply(401, "text/plain", b"NTLM authentication required\n", extra)

    def do_GET(self):
        self.handle_request(b"")

    def do_HEAD(self):
        self.handle_request(b"")

    def do_POST(self):
        body = self.read_body()
        if body is None:
            self.log_line(None, "bad-body", 400)
            self.close_connection = True
            self.reply(400, "text/plain", b"bad request body\n")
            return
        self.handle_request(body)

    def handle_request(self, body):
        cfg = self.server.cfg
        auth = self.headers.get("Authorization", "")
        if auth[:5].upper() == "NTLM ":
            try:
                msg = base64.b64decode(auth[5:].strip(), validate=True)
            except ValueError:
                return self.deny(None, "bad-message")
            try:
                mtype = struct.unpack_from("<I", msg, 8)[0] if len(msg) >= 12 else 0
                if mtype == 1:
                    flags = parse_type1(msg)
                    self.ntlm_user = None
                    self.ntlm_challenge = os.urandom(8)
                    t2 = make_type2(flags, self.ntlm_challenge, cfg.domain)
                    return self.deny(None, "challenge",
                                     (("WWW-Authenticate", "NTLM " + base64.b64encode(t2).decode()),))
                if mtype == 3:
                    t3 = parse_type3(msg)
                    if self.ntlm_challenge is None:
                        return self.deny(t3["user"], "bad-message")
                    result = verify_ntlmv2(t3, self.ntlm_challenge, cfg.user, cfg.domain, cfg.password)
                    self.ntlm_challenge = None
                    if result != "authenticated":
                        return self.deny(t3["user"], result)
                    self.ntlm_user = t3["domain"] + "\\" + t3["user"]
                    return self.answer(body, "authenticated")
                return self.deny(None, "bad-message")
            except (BadMessage, struct.error):
                return self.deny(None, "bad-message")
        if self.ntlm_user is not None:
            return self.answer(body, "connection")
        return self.deny(None, "none")

    def answer(self, body, result):
        if self.command in ("GET", "HEAD"):
            status, ctype, text = 200, "text/plain", b"ssovault NTLM test SOAP endpoint\n"
        else:
            status, ctype, text = soap_answer(self.path, self.headers, body, self.ntlm_user, self.dn)
        self.log_line(self.ntlm_user, result, status)
        self.reply(status, ctype, text)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, cfg, ctx):
        self.cfg = cfg
        self.ctx = ctx
        self.log_lock = threading.Lock()
        self.log_file = open(cfg.log, "a", buffering=1)
        super().__init__(addr, Handler)

    def log(self, line):
        with self.log_lock:
            self.log_file.write(line + "\n")

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so
        # that a client without a certificate cannot stall the others.
        request.settimeout(60)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.log("%d - tls-failed \"- -\" 0 %s" % (client_address[1], type(e).__name__))
            return
        try:
            Handler(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        self.log("%d - error \"- -\" 0 %s" % (client_address[1], sys.exc_info()[0].__name__))


def main():
    if sys.argv[1:] == ["--selftest"]:
        sys.exit(selftest())
    ap = argparse.ArgumentParser(description="NTLM-checking SOAP test endpoint over TLS")
    ap.add_argument("--pki", required=True, help="directory with ca.pem server.pem server.key")
    ap.add_argument("--user", required=True)
    ap.add_argument("--domain", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True, help="where to write the port listened on")
    ap.add_argument("--port", type=int, default=0)
    cfg = ap.parse_args()
    _md4_selftest()
    with open(cfg.password_file, encoding="utf-8") as f:
        cfg.password = f.read().rstrip("\r\n")

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(cfg.pki, "server.pem"), os.path.join(cfg.pki, "server.key"))
    ctx.load_verify_locations(os.path.join(cfg.pki, "ca.pem"))
    ctx.verify_mode = ssl.CERT_REQUIRED

    srv = Server(("127.0.0.1", cfg.port), cfg, ctx)
    tmp = cfg.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, cfg.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
