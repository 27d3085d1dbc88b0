#!/usr/bin/python3
"""proxy_in.py — accept_proxy listeners (tests/integration/proxy_in.sh), run
in the lab's client namespace: 198.18.1.2 is the allowed balancer, .3 is
not. Bulwark has client_limits.sessions = 1 and 198.18.9.66 on its deny
list; the backend (recorder) is told the client by PROXY v2 or XCLIENT.

  proxy_in.py ADDR SPOOL VIA

Prints "ok   what" / "FAIL what: got ..." lines and "fails=N".
"""
import socket
import struct
import sys
import time

import checks
from checks import done, report, silent_close

ADDR, SPOOL, VIA = sys.argv[1], sys.argv[2], sys.argv[3]
LB, OTHER = "198.18.1.2", "198.18.1.3"


def v1(src, sport=40000):
    return ("PROXY TCP4 %s %s %d 25\r\n" % (src, ADDR, sport)).encode()


def v2(src, sport=40001, cmd=0x21, fam=0x11):
    body = socket.inet_aton(src) + socket.inet_aton(ADDR) + struct.pack("!HH", sport, 25)
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([cmd, fam]) + struct.pack("!H", len(body)) + body)


def conn(src):
    return checks.conn(ADDR, src)


pending = {}  # socket -> bytes received past the last line returned


def line(s):
    got = pending.pop(s, b"")
    while b"\n" not in got:
        try:
            c = s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            break
        if not c:
            break
        got += c
    first, nl, rest = got.partition(b"\n")
    if rest:
        pending[s] = rest
    return first.decode("latin-1").strip()


def mail(s, tag):
    """A whole transaction; returns the replies."""
    out = []
    for cmd in (b"EHLO lb.example\r\n", b"MAIL FROM:<a@example.org>\r\n",
                b"RCPT TO:<b@example.org>\r\n", b"DATA\r\n",
                b"Subject: " + tag.encode() + b"\r\n\r\nvia a balancer\r\n.\r\n", b"QUIT\r\n"):
        s.sendall(cmd)
        r = line(s)
        while r[3:4] == "-":
            r = line(s)
        out.append(r)
    return out


# 1. a v1 header, then greeting, then a whole mail: the backend sees the
#    header's address
s = conn(LB)
s.sendall(v1("198.18.7.1"))
g = line(s)
report(g == "220 bulwark.lab ESMTP", "v1 header from the balancer: greeting", g)
r = mail(s, "px-v1")
report(r[-1].startswith("221 ") and r[-2].startswith("250 "), "... a mail relayed", r)
s.close()
# 2. v2
s = conn(LB)
s.sendall(v2("198.18.7.2"))
g = line(s)
report(g == "220 bulwark.lab ESMTP", "v2 header from the balancer: greeting", g)
r = mail(s, "px-v2")
report(r[-1].startswith("221 ") and r[-2].startswith("250 "), "... a mail relayed", r)
s.close()
time.sleep(0.5)
for tag, addr, port in (("px-v1", "198.18.7.1", 40000), ("px-v2", "198.18.7.2", 40001)):
    d = checks.stored(SPOOL, tag)
    ok = d is not None and d["told_via"] == VIA and d["client_addr"] == addr and \
        str(d["client_port"]) == str(port) and d["peer"][0] != addr
    report(ok, "backend told %s:%d by %s (not the balancer)" % (addr, port, VIA),
           d and {k: d[k] for k in ("told_via", "client_addr", "client_port", "peer")})

# 3. the header and the first command in one segment: the core gets the rest
s = conn(LB)
s.sendall(v2("198.18.7.3") + b"NOOP\r\n")
g, r = line(s), line(s)
report(g == "220 bulwark.lab ESMTP" and r == "250 2.0.0 OK",
       "header + NOOP in one segment: 220 then 250", [g, r])
s.close()

# 4. limits and lists see the header's address: one session per address
a = conn(LB)
a.sendall(v1("198.18.9.9"))
ga = line(a)
b = conn(LB)
b.sendall(v1("198.18.9.9"))
gb = line(b)
c = conn(LB)
c.sendall(v1("198.18.9.10"))
gc = line(c)
report(ga.startswith("220 ") and gb.startswith("421 4.7.0 ") and gc.startswith("220 "),
       "sessions = 1 counts the header's address, not the balancer's", [ga, gb, gc])
for x in (a, b, c):
    x.close()
# ... and the count goes down for the header's address when its session
# ends (the address is not stored per session: it comes back from the
# PROXY header), so 198.18.9.9 is served again
for _ in range(20):
    time.sleep(0.2)
    s = conn(LB)
    s.sendall(v1("198.18.9.9"))
    g = line(s)
    s.close()
    if g.startswith("220 "):
        break
report(g.startswith("220 "), "... released when the session ends: 198.18.9.9 served again", g)
s = conn(LB)
s.sendall(v2("198.18.9.66"))
g = line(s)
report(g.startswith("554 5.7.1 "), "deny list matches the header's address", g)
s.close()

# 5. what gets a silent close: a header from a source not in proxy_from,
#    no header within the deadline, SMTP instead of a header, a TCP6 header
s = conn(OTHER)
s.sendall(v1("198.18.7.4"))
closed, got = silent_close(s, 3)
report(closed and got == b"", "a header from .3 (not in proxy_from): closed, nothing sent", got)
s = conn(LB)
t0 = time.time()
closed, got = silent_close(s, 4)
dt = time.time() - t0
report(closed and got == b"" and 0.8 <= dt <= 3.0,
       "no header within proxy_timeout_ms (1 s): closed, nothing sent (%.1f s)" % dt, got)
for what, data in (("EHLO instead of a header", b"EHLO x\r\n"),
                   ("a TCP6 header", b"PROXY TCP6 ::1 ::2 1 25\r\n"),
                   ("a v2 header with a bad version", v2("198.18.7.5", cmd=0x11)),
                   ("a header past 107 bytes", b"PROXY UNKNOWN " + b"x" * 100)):
    s = conn(LB)
    s.sendall(data)
    closed, got = silent_close(s, 3)
    report(closed and got == b"", what + ": closed, nothing sent", got)
# 6. LOCAL (a health check): the balancer itself is the client
s = conn(LB)
s.sendall(b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00")
g = line(s)
report(g == "220 bulwark.lab ESMTP", "v2 LOCAL: greeting", g)
s.close()

done()
