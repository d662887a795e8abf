"""A fake ssovaultd, as a hostile local user would run it.

    python3 fake-daemon.py PATH UID SECONDS

Drops to uid UID, listens at PATH (mode 0666, like the real socket), and
for every client that connects reads whatever it sends until it closes or
is quiet for a second, then closes it.  One line per connection on
stdout: "conn BYTES".  Gives up after SECONDS.  It never answers: what
counts is what a client sent before it knew who was listening.
"""
import os
import socket
import sys
import time

from ssowire import as_uid


def main():
    path, uid, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    as_uid(uid)
    os.umask(0)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)
    srv.settimeout(0.2)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        conn.settimeout(1.0)
        got = 0
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                got += len(data)
        except (socket.timeout, ConnectionError):
            pass
        conn.close()
        print("conn", got, flush=True)
    srv.close()
    os.unlink(path)


if __name__ == "__main__":
    main()
