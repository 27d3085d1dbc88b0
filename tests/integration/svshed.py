#!/usr/bin/python3
"""svshed.py ADDR — memory-pressure shedding against a Bulwark whose
session pool is small (tests/integration/service_shed.sh: limits.sessions
20, shed_at 50, shed_critical_at 90, shed_timeout_ms 2000).

  t=0    one relayed session: EHLO, MAIL, RCPT, DATA, then its body in 12
         pieces 0.5 s apart (6 s, three times the shed timeout)
  t=0.5  12 idle connections (13 of 20 sessions: shedding)
  t=1.0  one client whose first command is a typo
  t=1.1  one client that only reads its greeting
  t=1.3  5 more idle connections (18 of 20: critical)
  t=1.7  one more connection
  then   the idle ones wait up to 6 s for what Bulwark says ("still open")

Prints one key=value line per fact; exits 0 (the shell test judges).
"""
import socket
import sys
import threading
import time

ADDR, PORT = sys.argv[1], 25
T0 = time.time()
out = {}


def line(f):
    return f.readline().decode("latin-1").rstrip("\r\n")


def relayed():
    try:
        s = socket.create_connection((ADDR, PORT), timeout=15)
        f = s.makefile("rb")
        got = [line(f)]
        for cmd in (b"EHLO relayed.test", b"MAIL FROM:<r@example.org>", b"RCPT TO:<x@example.net>",
                    b"DATA"):
            s.sendall(cmd + b"\r\n")
            ln = line(f)
            while ln[3:4] == "-":
                ln = line(f)
            got.append(ln)
        for i in range(12):
            s.sendall(b"body line %d of the relayed message\r\n" % i)
            time.sleep(0.5)
        s.sendall(b".\r\n")
        got.append(line(f))
        s.sendall(b"QUIT\r\n")
        got.append(line(f))
        out["relayed"] = " | ".join(got)
    except Exception as e:  # noqa: BLE001
        out["relayed"] = "exception %r" % e


def idle(socks, i):
    s, f = socks[i]
    try:
        first = line(f)
        s.settimeout(6)
        t = time.time()
        try:
            nxt = line(f)
        except socket.timeout:
            nxt = "still open"
        out["idle%02d" % i] = "%s | %s | after=%.1f" % (first, nxt, time.time() - t)
    except Exception as e:  # noqa: BLE001
        out["idle%02d" % i] = "exception %r" % e


def opener(n, socks):
    for _ in range(n):
        s = socket.create_connection((ADDR, PORT), timeout=20)
        socks.append((s, s.makefile("rb")))


def main():
    threads = [threading.Thread(target=relayed)]
    threads[0].start()
    time.sleep(0.5)
    socks = []
    opener(12, socks)
    time.sleep(0.5)
    s = socket.create_connection((ADDR, PORT), timeout=10)
    f = s.makefile("rb")
    g = line(f)
    s.sendall(b"HLEO typo.test\r\n")
    out["typo"] = "%s | %s | %s" % (g, line(f), "closed" if f.read() == b"" else "open")
    s.close()
    s = socket.create_connection((ADDR, PORT), timeout=10)
    out["shedding_greet"] = line(s.makefile("rb"))
    s.close()
    time.sleep(0.1)
    opener(5, socks)
    time.sleep(0.4)
    s = socket.create_connection((ADDR, PORT), timeout=10)
    f = s.makefile("rb")
    out["critical"] = "%s | %s" % (line(f), "closed" if f.read() == b"" else "open")
    s.close()
    for i in range(len(socks)):
        t = threading.Thread(target=idle, args=(socks, i))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    for k in sorted(out):
        print("%s=%s" % (k, out[k]))


main()
