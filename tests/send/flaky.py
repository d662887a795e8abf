#!/usr/bin/env python3
"""A SOAP endpoint whose answer depends on the message: 503 for a body that
holds RETRYME, else 200 with a small envelope; one that holds HOLD is
logged as "held" on arrival and answered (200) only once LOG.release
exists (60 s at most).  LOG.sha1 gets each body's SHA-1.  For the sender's test of a
batch in which one message waits for its retries while the others go (the
Apache test server answers by path, the same for every message of a call).

    python3 flaky.py PORTFILE LOG     listen on 127.0.0.1, an ephemeral port
                                      written to PORTFILE; one LOG line per request
"""
import hashlib
import http.server
import os
import sys
import time

ENVELOPE = (b'<?xml version="1.0" encoding="utf-8"?>'
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            b'<soap:Body><ok/></soap:Body></soap:Envelope>')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(sys.argv[2] + ".sha1", "a") as log:
            log.write(hashlib.sha1(body).hexdigest() + "\n")
        if b"HOLD" in body:
            with open(sys.argv[2], "a") as log:
                log.write("held %d\n" % self.client_address[1])
            for _ in range(600):
                if os.path.exists(sys.argv[2] + ".release"):
                    break
                time.sleep(0.1)
        status = 503 if b"RETRYME" in body else 200
        out = b"busy" if status == 503 else ENVELOPE
        with open(sys.argv[2], "a") as log:
            log.write("%d %d\n" % (self.client_address[1], status))
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if status == 503 else "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
