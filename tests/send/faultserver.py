#!/usr/bin/env python3
"""Network faults on loopback for the sender's tests (tests/send/faults.sh):
an HTTP endpoint that misbehaves on purpose, a forward proxy that refuses,
and a proxy port where nothing listens.  Standard library only.

    python3 faultserver.py PORTFILE LOG [CERT KEY]

Listens on 127.0.0.1, three ephemeral ports written to PORTFILE as
"ENDPOINT PROXY DEAD" (written last, renamed into place):

ENDPOINT, plain HTTP/1.1 with keep-alive; the path picks the fault:
  /ok           200, a SOAP 1.1 envelope
  /close        reads the request, closes without a byte of answer
  /reset        reads the request, resets the connection (RST)
  /half         200 with Content-Length 2000, sends 1000 bytes, closes
  /hang         reads the request, never answers (until the client leaves)
  /stall        200 with Content-Length 1000, sends 100 bytes, then nothing
  /big          200 text/xml, a 20 MiB envelope (Content-Length)
  /big503       503 text/plain, 20 MiB
  /notxml       200 text/plain, not XML
  /redirect     302 to ENDPOINT/ok        /redirect307  307 to ENDPOINT/ok
  /redirect-token  302 to ENDPOINT/ok with user info, query and fragment
  GET /heal     from now on every path answers as /ok, the proxy forwards,
                and DEAD listens as a forwarding proxy too
PROXY, a forward proxy: answers every request (CONNECT or absolute URI)
  403 "proxy refuses" until healed; then tunnels CONNECT and forwards
  absolute-URI requests to ENDPOINT.
DEAD, a port bound but not listening: connections are refused until healed;
  then a proxy like PROXY (a request in origin form goes to ENDPOINT).
A TLS ClientHello sent to ENDPOINT is never answered: a TLS handshake that
hangs.  Once healed, ENDPOINT speaks TLS with CERT and KEY (if given) to
clients that start a handshake.

LOG, one line per request, written before the answer:
  endpoint PATH SHA1-OF-BODY BODY-BYTES        (POSTs to ENDPOINT)
  proxy METHOD TARGET refused|forwarded        (PROXY and DEAD)
"""
import hashlib
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time

ENVELOPE = (b'<?xml version="1.0" encoding="utf-8"?>\n'
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            b'<soap:Body><t:Ok xmlns:t="urn:ssovault:test">%s</t:Ok></soap:Body></soap:Envelope>\n')
BIG = 20 * 1024 * 1024
healed = threading.Event()
log_lock = threading.Lock()
ports = {}
tls = None


def log(line):
    with log_lock, open(sys.argv[2], "a") as f:
        f.write(line + "\n")


def read_request(f):
    """(method, target, headers, body) or None at end of stream."""
    line = f.readline(65536)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3:
        return None
    headers = {}
    while True:
        h = f.readline(65536)
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0") or "0")
    body = f.read(n) if n > 0 else b""
    return parts[0], parts[1], headers, body


def answer(sock, status, ctype, body, extra=""):
    head = ("HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
            % (status, ctype, len(body), extra)).encode()
    sock.sendall(head + body)


def stream(sock, status, ctype, total):
    sock.sendall(("HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                  % (status, ctype, total)).encode())
    pre = ENVELOPE.split(b"%s")[0]
    sent = 0
    chunk = b"x" * 65536
    try:
        if ctype.startswith("text/xml"):
            sock.sendall(pre)
            sent = len(pre)
        while sent < total:
            n = min(len(chunk), total - sent)
            sock.sendall(chunk[:n])
            sent += n
    except OSError:
        pass		# the client stopped reading: that is the point


def wait_gone(sock, secs):
    """Hold the connection open, saying nothing, until the client leaves."""
    sock.settimeout(secs)
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass


class Endpoint(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        if sock.recv(1, socket.MSG_PEEK) == b"\x16":
            if not healed.is_set() or tls is None:
                wait_gone(sock, 120)	# a TLS handshake: never answered
                return
            sock = tls.wrap_socket(sock, server_side=True)
        f = sock.makefile("rb")
        while True:
            req = read_request(f)
            if req is None:
                return
            method, target, headers, body = req
            path = target.split("?")[0]
            if method == "GET" and path == "/heal":
                heal()
                answer(sock, 200, "text/plain", b"healed\n")
                continue
            if method != "POST":
                answer(sock, 200, "text/plain", b"fault server\n")
                continue
            log("endpoint %s %s %d" % (path, hashlib.sha1(body).hexdigest(), len(body)))
            if healed.is_set():
                path = "/ok"
            if not self.fault(sock, path):
                return

    def fault(self, sock, path):
        """Answer one request; False when the connection is done with."""
        if path == "/close":
            return False
        if path == "/reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()	# now, before socketserver's shutdown() sends a FIN
            return False
        if path == "/half":
            part = ENVELOPE % (b"y" * 1000)
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
                         b"Content-Length: 2000\r\n\r\n" + part[:1000])
            return False
        if path == "/hang":
            wait_gone(sock, 120)
            return False
        if path == "/stall":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
                         b"Content-Length: 1000\r\n\r\n" + (ENVELOPE % b"")[:100])
            wait_gone(sock, 120)
            return False
        if path == "/big":
            stream(sock, 200, "text/xml; charset=utf-8", BIG)
            return False
        if path == "/big503":
            stream(sock, 503, "text/plain", BIG)
            return False
        if path == "/notxml":
            answer(sock, 200, "text/plain", b"this is not XML <<< &&& >>> ]]>\n")
            return True
        if path in ("/redirect", "/redirect307"):
            code = 302 if path == "/redirect" else 307
            answer(sock, code, "text/plain", b"moved\n",
                   "Location: http://127.0.0.1:%d/ok\r\n" % ports["endpoint"])
            return True
        if path == "/redirect-token":
            answer(sock, 302, "text/plain", b"moved\n",
                   "Location: http://u:SECRET@127.0.0.1:%d/ok?token=SECRET#SECRET\r\n"
                   % ports["endpoint"])
            return True
        answer(sock, 200, "text/xml; charset=utf-8", ENVELOPE % b"ok")
        return True


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Proxy(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        f = sock.makefile("rb")
        req = read_request(f)
        if req is None:
            return
        method, target, headers, body = req
        if not healed.is_set():
            log("proxy %s %s refused" % (method, target))
            answer(sock, 403, "text/plain", b"proxy refuses\n", "Connection: close\r\n")
            return
        log("proxy %s %s forwarded" % (method, target))
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            up = socket.create_connection((host, int(port)))
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            t = threading.Thread(target=pipe, args=(up, sock), daemon=True)
            t.start()
            pipe(sock, up)
            t.join()
            return
        # an absolute URI (or, on DEAD used as an endpoint, a path): only
        # ENDPOINT is reachable, asked in origin form
        if target.startswith("/"):
            path = target
        else:
            rest = target.split("//", 1)[-1]
            path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
        up = socket.create_connection(("127.0.0.1", ports["endpoint"]))
        lines = ["%s %s HTTP/1.1" % (method, path)]
        for k, v in headers.items():
            if not k.startswith("proxy-") and k != "connection":
                lines.append("%s: %s" % (k, v))
        lines.append("Connection: close")
        up.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        while True:
            d = up.recv(65536)
            if not d:
                break
            sock.sendall(d)
        up.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


dead = None


def heal():
    if healed.is_set():
        return
    healed.set()
    dead.listen(16)
    threading.Thread(target=serve_dead, daemon=True).start()


def serve_dead():
    while True:
        conn, addr = dead.accept()
        threading.Thread(target=proxy_once, args=(conn, addr), daemon=True).start()


def proxy_once(conn, addr):
    try:
        Proxy(conn, addr, None)
    finally:
        conn.close()


def main():
    global dead, tls
    if len(sys.argv) == 5:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(sys.argv[3], sys.argv[4])
    endpoint = Server(("127.0.0.1", 0), Endpoint)
    proxy = Server(("127.0.0.1", 0), Proxy)
    dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    dead.bind(("127.0.0.1", 0))		# bound, not listening: connect() is refused
    ports["endpoint"] = endpoint.server_address[1]
    for s in (endpoint, proxy):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d %d %d\n" % (endpoint.server_address[1], proxy.server_address[1],
                                dead.getsockname()[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
