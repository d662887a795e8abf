#!/usr/bin/env python3
"""An endpoint that writes down everything a sender gives it, for the
attack tests of the sender (tests/attacks/planted.sh, http-auth.sh): what
credentials and which client certificate reached it, and where.  Standard
library only.

    python3 recorder.py PORTFILE LOG CERT KEY CA

Listens on 127.0.0.1, two ephemeral ports written to PORTFILE as
"HTTP HTTPS" (written last, renamed into place):

HTTP   plain HTTP/1.1.  Also a forward proxy: a request whose target is an
       absolute URI is answered (not forwarded) and recorded as such.
HTTPS  TLS with CERT and KEY; asks for a client certificate (optional) and
       verifies it against CA.

CONNECT is recorded and refused (403).  Every path answers 200 with a
small SOAP envelope, except
  /digest      401 with a Digest challenge unless the request has a Digest
               Authorization (then 200)
  /to-http     302 to HTTP's /landing      /to-http307   307 to the same

LOG, one JSON object per request, written before the answer:
  {"listener": "http"|"https", "method", "target", "authorization",
   "basic" (the decoded user:password of a Basic Authorization),
   "proxy_authorization", "proxy_basic", "client_cert" (the verified
   certificate's subject, "" if none), "bytes"}
"""
import base64
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading

ENVELOPE = (b'<?xml version="1.0" encoding="utf-8"?>'
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            b'<soap:Body><t:Recorded xmlns:t="urn:ssovault:test"/></soap:Body></soap:Envelope>')
lock = threading.Lock()
ports = {}


def basic(value):
    if not value or not value.lower().startswith("basic "):
        return ""
    try:
        return base64.b64decode(value.split(None, 1)[1]).decode("utf-8", "replace")
    except (ValueError, IndexError):
        return "(undecodable)"


def subject(cert):
    if not cert:
        return ""
    return ",".join("%s=%s" % kv for rdn in cert.get("subject", ()) for kv in rdn)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        self.tls_ok = True
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.tls_ok = False
        super().setup()

    def handle(self):
        if self.tls_ok:
            super().handle()

    def record(self, nbytes):
        tls = isinstance(self.connection, ssl.SSLSocket)
        entry = {
            "listener": "https" if tls else "http",
            "method": self.command,
            "target": self.path,
            "authorization": self.headers.get("Authorization", ""),
            "basic": basic(self.headers.get("Authorization")),
            "proxy_authorization": self.headers.get("Proxy-Authorization", ""),
            "proxy_basic": basic(self.headers.get("Proxy-Authorization")),
            "client_cert": subject(self.connection.getpeercert()) if tls else "",
            "bytes": nbytes,
        }
        with lock, open(sys.argv[2], "a") as f:
            f.write(json.dumps(entry) + "\n")

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_any(self):
        n = int(self.headers.get("Content-Length", "0") or "0")
        if n > 0:
            self.rfile.read(n)
        self.record(n)
        path = self.path.split("?", 1)[0]
        if path == "/digest" and not self.headers.get("Authorization", "").startswith("Digest "):
            self.answer(401, b"", [("WWW-Authenticate",
                                    'Digest realm="recorder", qop="auth", nonce="0123456789abcdef", '
                                    'algorithm=MD5')])
        elif path in ("/to-http", "/to-http307"):
            where = "http://127.0.0.1:%d/landing" % ports["http"]
            self.answer(302 if path == "/to-http" else 307, b"", [("Location", where)])
        else:
            self.answer(200, ENVELOPE, [("Content-Type", "text/xml; charset=utf-8")])

    def do_CONNECT(self):
        # recorded for its Proxy-Authorization, then refused: no tunnels
        self.record(0)
        self.answer(403)

    do_POST = do_any
    do_GET = do_any
    do_PUT = do_any

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    tls = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr


def main():
    portfile, _, cert, key, ca = sys.argv[1:6]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    plain = Server(("127.0.0.1", 0), Handler)
    secure = Server(("127.0.0.1", 0), Handler)
    secure.tls = ctx
    ports["http"] = plain.server_address[1]
    ports["https"] = secure.server_address[1]
    for s in (plain, secure):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(portfile + ".tmp", "w") as f:
        f.write("%d %d\n" % (ports["http"], ports["https"]))
    os.rename(portfile + ".tmp", portfile)
    threading.Event().wait()


if __name__ == "__main__":
    main()
