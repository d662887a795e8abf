#!/usr/bin/env python3
"""Suspend a message by hand, as a hostile client would: the "suspended
add" request (op 90, docs/protocol.md) with whatever settings, as another
uid.  Prints "STATUS<TAB>ID" on success, "STATUS<TAB>MESSAGE" otherwise.

    python3 plant.py UID SETTINGS-JSON BODY-FILE     (socket in $SOCK)
"""
import os
import sys

from ssowire import OP, as_uid, call, get_string, s, u32


def main():
    uid, settings, body_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(body_file, "rb") as f:
        body = f.read()
    as_uid(uid)
    st, msg, payload = call(os.environ["SOCK"], OP["suspended add"], s(settings), s(body),
                            s("planted"), u32(1))
    if st == 0:
        print("%d\t%s" % (st, get_string(payload)[0].decode()))
    else:
        print("%d\t%s" % (st, msg))


if __name__ == "__main__":
    main()
