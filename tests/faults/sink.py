#!/usr/bin/env python3
"""A plain-HTTP SOAP endpoint for the crash tests: 503 for a body holding
SUSPENDME (so that a send with --retry-count 0 suspends it), else 200 with a
small envelope.  Every request's <m:Order> text is appended to LOG, one line
each, before the answer goes out, so that a message the sender calls
delivered is in LOG.

    python3 sink.py PORTFILE LOG     listen on 127.0.0.1, an ephemeral port
                                     written to PORTFILE
"""
import http.server
import os
import re
import sys

ENVELOPE = (b'<?xml version="1.0" encoding="utf-8"?>'
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            b'<soap:Body><ok/></soap:Body></soap:Envelope>')
ORDER = re.compile(rb"<m:Order[^>]*>([^<]*)</m:Order>")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without this, Nagle holds the
    # body until the client's delayed ACK, 40 ms per message
    disable_nagle_algorithm = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status = 503 if b"SUSPENDME" in body else 200
        m = ORDER.search(body)
        with open(sys.argv[2], "a") as log:
            log.write("%d %s\n" % (status, m.group(1).decode() if m else "?"))
        out = b"busy" if status == 503 else ENVELOPE
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
