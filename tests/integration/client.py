#!/usr/bin/python3
"""client.py — a scripted TCP client for the integration tests (Linux's own
TCP stack, run in the lab's client namespace).

  client.py ADDR [--port 25] [--no-greeting] [--idle S] [--pause S] [--rcvbuf N]
                 [--shutdown] DATA...

Connects, waits for the greeting line (unless --no-greeting), then sends each
DATA argument (Python escapes: \\r \\n \\x00 ..., "@N*c" for c repeated N times
as in "@2000*A"), pausing --pause seconds between them, then reads until the
server closes or nothing arrives for --idle seconds. Prints what came back
(latin-1, control bytes other than CR/LF escaped); a DATA argument
"@pause:S" sleeps S seconds instead of sending and a last line: CLOSED
(the server closed: EOF or reset) or OPEN (still open after --idle; the
environment's BULWARK_CLIENT_IDLE, when set, is its minimum).
"""
import argparse
import codecs
import os
import socket
import sys
import time


def decode(arg):
    if arg.startswith("@") and "*" in arg:
        n, c = arg[1:].split("*", 1)
        return codecs.decode(c, "unicode_escape").encode("latin-1") * int(n)
    return codecs.decode(arg, "unicode_escape").encode("latin-1")


def show(b):
    out = []
    for ch in b.decode("latin-1"):
        if ch in "\r\n" or 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            out.append("\\x%02x" % ord(ch))
    return "".join(out).replace("\r\n", "\n").replace("\r", "\\r")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--no-greeting", action="store_true")
    ap.add_argument("--idle", type=float, default=1.5)
    ap.add_argument("--pause", type=float, default=0.05)
    ap.add_argument("--rcvbuf", type=int, default=0, help="SO_RCVBUF before connecting")
    ap.add_argument("--shutdown", action="store_true", help="half-close (FIN) after sending")
    ap.add_argument("data", nargs="*")
    a = ap.parse_intermixed_args()
    # lossy lab variants (fault injection) raise the floor of --idle
    a.idle = max(a.idle, float(os.environ.get("BULWARK_CLIENT_IDLE", "0")))

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if a.rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    s.settimeout(10)
    s.connect((a.addr, a.port))
    got = b""
    closed = False
    if not a.no_greeting:
        while b"\n" not in got:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            got += chunk
    for d in a.data:
        if closed:
            break
        if d.startswith("@pause:"):
            time.sleep(float(d[7:]))
            continue
        try:
            s.sendall(decode(d))
        except OSError:
            closed = True
            break
        time.sleep(a.pause)
    if a.shutdown and not closed:
        s.shutdown(socket.SHUT_WR)
    s.settimeout(a.idle)
    while not closed:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        got += chunk
    sys.stdout.write(show(got))
    if got and not got.endswith(b"\n"):
        sys.stdout.write("\n")
    print("CLOSED" if closed else "OPEN")


if __name__ == "__main__":
    main()
