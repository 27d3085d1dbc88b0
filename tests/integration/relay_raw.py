#!/usr/bin/python3
"""relay_raw.py — reads the raw bytes the recording backend received
(BACKEND_SPOOL/raw/<conn>.bin) as the backend's SMTP server would.

  relay_raw.py SPOOL [CONN...]     one line per event and connection:
      <conn> proxy v1|v2 | cmd <line> | data <octets> ended|unended bare=<n> | partial <octets>

As a module: parse(raw) yields the same events as tuples; bare(body)
counts bare CR and bare LF in a body.
"""
import glob
import os
import re
import struct
import sys

V2SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def parse(raw):
    """Yields ("proxy", header), ("cmd", line without CRLF), ("data", body,
    ended) and ("partial", bytes). A body is what follows "DATA" up to the
    first CRLF.CRLF (the DATA line's own CRLF counts), CRLF before the dot
    excluded; it is not destuffed. Whether the server accepted DATA is not
    known here: use it only where the backend always answers 354."""
    i = 0
    if raw.startswith(V2SIG) and len(raw) >= 16:
        i = 16 + struct.unpack("!H", raw[14:16])[0]
        yield ("proxy", raw[:i])
    elif raw.startswith(b"PROXY "):
        i = raw.find(b"\r\n") + 2 if b"\r\n" in raw else len(raw)
        yield ("proxy", raw[:i])
    while i < len(raw):
        j = raw.find(b"\r\n", i)
        if j < 0:
            yield ("partial", raw[i:])
            return
        line, i = raw[i:j], j + 2
        yield ("cmd", line)
        if line.upper() == b"DATA":
            k = raw.find(b"\r\n.\r\n", i - 2)
            if k < 0:
                yield ("data", raw[i:], False)
                return
            yield ("data", raw[i:max(k, i)], True)
            i = k + 5


def bare(body):
    """Bare CR (not followed by LF) plus bare LF (not after CR) in body."""
    return len(re.findall(rb"\r(?!\n)|(?<!\r)\n", body))


def destuff(body):
    """The content an MTA stores for a body of CRLF lines (RFC 5321 4.5.2)."""
    if not body:
        return b""
    return b"\r\n".join(ln[1:] if ln.startswith(b".") else ln for ln in body.split(b"\r\n")) + b"\r\n"


def conns(spool, which=()):
    """(conn number, raw bytes) of every connection, in order."""
    files = glob.glob(os.path.join(spool, "raw", "*.bin"))
    for f in sorted(files, key=lambda f: int(os.path.basename(f)[:-4])):
        n = int(os.path.basename(f)[:-4])
        if not which or n in which:
            yield n, open(f, "rb").read()


def main():
    for n, raw in conns(sys.argv[1], {int(c) for c in sys.argv[2:]}):
        for ev in parse(raw):
            if ev[0] == "proxy":
                print(n, "proxy", "v2" if ev[1].startswith(V2SIG) else "v1")
            elif ev[0] == "cmd":
                print(n, "cmd", ev[1].decode("latin-1"))
            elif ev[0] == "data":
                print(n, "data", len(ev[1]), "ended" if ev[2] else "unended", "bare=%d" % bare(ev[1]))
            else:
                print(n, "partial", len(ev[1]))


if __name__ == "__main__":
    main()
