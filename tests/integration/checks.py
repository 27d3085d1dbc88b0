"""checks.py — what the scenario scripts run in the lab's client namespace
(limits.py, proxy_in.py) share: "ok   what" / "FAIL what: got ..." lines
with a count of failures, the closing "fails=N" line and exit status, and
a TCP connection from one of the namespace's source addresses."""
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
