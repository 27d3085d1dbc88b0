"""checks.py — what the scenario scripts run in the lab's client namespace
(limits.py, proxy_in.py, proxy_tls.py) share: "ok   what" / "FAIL what: got ..." lines
with a count of failures, the closing "fails=N" line and exit status, and
a TCP connection from one of the namespace's source addresses, a wait
for a silent close, and the recorder's stored message carrying a tag."""
import glob
import json
import os
import socket
import sys

fails = 0


def report(ok, what, got=""):
    global fails
    if ok:
        print("ok   " + what)
    else:
        fails += 1
        print("FAIL %s: got %r" % (what, got))
    sys.stdout.flush()


def done():
    """Prints fails=N and exits 1 when any check failed."""
    print("fails=%d" % fails)
    sys.exit(1 if fails else 0)


def conn(addr, src, timeout=5.0, port=25):
    """A connection to addr:port bound to the source address src."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((addr, port))
    return s


def silent_close(s, wait):
    """(closed, bytes received) within wait seconds."""
    s.settimeout(wait)
    got = b""
    try:
        while True:
            c = s.recv(4096)
            if not c:
                return True, got
            got += c
    except socket.timeout:
        return False, got
    except ConnectionResetError:
        return True, got


def stored(spool, tag):
    """The recorder's JSON of the message in spool whose content has tag."""
    for j in sorted(glob.glob(os.path.join(spool, "*.json"))):
        if tag.encode() in open(j[:-5] + ".eml", "rb").read():
            return json.load(open(j))
    return None
