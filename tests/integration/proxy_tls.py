#!/usr/bin/python3
"""proxy_tls.py — accept_proxy on implicit TLS (465) and shedding of 465
(tests/integration/proxy_tls.sh), run in the lab's client namespace:
198.18.1.2 is the allowed balancer, .3 is not. Bulwark: port 25 plain,
465 implicit TLS with accept_proxy (proxy_timeout_ms 1000), a session pool
of 20 (shed_at 50, shed_critical_at 90, shed_timeout_ms 2000); the backend
(recorder) is told the client by PROXY v2.

  proxy_tls.py ADDR SPOOL

Prints "ok   what" / "FAIL what: got ..." lines and "fails=N".
"""
import socket
import ssl
import struct
import sys
import threading
import time

import checks
from checks import done, report, silent_close

ADDR, SPOOL = sys.argv[1], sys.argv[2]
LB, OTHER = "198.18.1.2", "198.18.1.3"
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def v2(src, sport):
    body = socket.inet_aton(src) + socket.inet_aton(ADDR) + struct.pack("!HH", sport, 465)
    return b"\r\n\r\n\x00\r\nQUIT\n\x21\x11" + struct.pack("!H", len(body)) + body


class Mem:
    """TLS over a socket through memory BIOs, so that the PROXY header and
    the ClientHello leave in one send (one TCP segment)."""

    def __init__(self, s, header):
        self.s, self.inc, self.out = s, ssl.MemoryBIO(), ssl.MemoryBIO()
        self.o = CTX.wrap_bio(self.inc, self.out)
        first = header
        while True:
            try:
                self.o.do_handshake()
                break
            except ssl.SSLWantReadError:
                data = self.out.read()
                if data or first:
                    s.sendall(first + data)
                    first = b""
                c = s.recv(65536)
                if not c:
                    raise EOFError("closed during the handshake")
                self.inc.write(c)
        self.flush()

    def flush(self):
        data = self.out.read()
        if data:
            self.s.sendall(data)

    def sendall(self, b):
        self.o.write(b)
        self.flush()

    def recv(self, n):
        while True:
            try:
                return self.o.read(n)
            except ssl.SSLWantReadError:
                c = self.s.recv(65536)
                if not c:
                    return b""
                self.inc.write(c)
            except ssl.SSLZeroReturnError:
                return b""

    def close(self):
        self.s.close()


def client_hello():
    """The bytes a client sends first."""
    o = CTX.wrap_bio(ssl.MemoryBIO(), out := ssl.MemoryBIO())
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


pending = {}


def line(s, timeout=5.0):
    got = pending.pop(s, b"")
    t_end = time.time() + timeout
    while b"\n" not in got and time.time() < t_end:
        try:
            c = s.recv(4096)
        except (socket.timeout, ConnectionResetError, ssl.SSLError, OSError):
            break
        if not c:
            break
        got += c
    first, nl, rest = got.partition(b"\n")
    if rest:
        pending[s] = rest
    return first.decode("latin-1").strip()


def mail(s, tag):
    out = []
    for cmd in (b"EHLO lb.example\r\n", b"MAIL FROM:<a@example.org>\r\n",
                b"RCPT TO:<b@example.org>\r\n", b"DATA\r\n",
                b"Subject: " + tag.encode() + b"\r\n\r\nvia a balancer, in TLS\r\n.\r\n",
                b"QUIT\r\n"):
        s.sendall(cmd)
        r = line(s)
        while r[3:4] == "-":
            r = line(s)
        out.append(r)
    return out


def conn(src, port=465):
    return checks.conn(ADDR, src, port=port)


# 1. the header, then the handshake (separate segments), then a mail
s = conn(LB)
s.sendall(v2("198.18.7.21", 40021))
t = CTX.wrap_socket(s)
g = line(t)
report(g == "220 bulwark.lab ESMTP", "v2 header, then the handshake: greeting in TLS (%s)"
       % t.version(), g)
r = mail(t, "pxtls-sep")
report(r[-1].startswith("221 ") and r[-2].startswith("250 "), "... a mail relayed", r)
t.close()
# 2. the header and the ClientHello in one segment: the bytes after the
#    header are the handshake's
s = conn(LB)
try:
    m = Mem(s, v2("198.18.7.22", 40022))
    g = line(m)
    report(g == "220 bulwark.lab ESMTP", "v2 header + ClientHello in one segment: greeting", g)
    r = mail(m, "pxtls-one")
    report(r[-1].startswith("221 ") and r[-2].startswith("250 "), "... a mail relayed", r)
except (EOFError, ssl.SSLError, OSError) as e:
    report(False, "v2 header + ClientHello in one segment: handshake", e)
s.close()
time.sleep(0.5)
for tag, addr, port in (("pxtls-sep", "198.18.7.21", 40021), ("pxtls-one", "198.18.7.22", 40022)):
    d = checks.stored(SPOOL, tag)
    ok = d is not None and d["told_via"] == "proxy-v2" and d["client_addr"] == addr and \
        str(d["client_port"]) == str(port) and d["peer"][0] != addr
    report(ok, "backend told %s:%d by PROXY v2 (not the balancer)" % (addr, port),
           d and {k: d[k] for k in ("told_via", "client_addr", "client_port", "peer")})
# 3. no header: a ClientHello alone is not a header (closed at once), and
#    nothing at all is closed at proxy_timeout_ms
s = conn(LB)
s.sendall(client_hello())
closed, got = silent_close(s, 3)
report(closed and got == b"", "a ClientHello without a header: closed, nothing sent", got)
s = conn(LB)
t0 = time.time()
closed, got = silent_close(s, 4)
dt = time.time() - t0
report(closed and got == b"" and 0.8 <= dt <= 3.0,
       "no header within proxy_timeout_ms (1 s): closed, nothing sent (%.1f s)" % dt, got)
# 4. a header from a source not in proxy_from
s = conn(OTHER)
s.sendall(v2("198.18.7.23", 40023) + client_hello())
closed, got = silent_close(s, 3)
report(closed and got == b"", "a header from .3 (not in proxy_from): closed, nothing sent", got)

# 5. shedding (pool of 20): 12 plain idle sessions on 25 that send NOOP
#    every 0.5 s (so the shed timeout does not cut them) make 60 %: level 1
stop = threading.Event()
fillers = []


def filler(i):
    try:
        f = conn(LB, port=25)
        g = line(f)
        fillers.append((i, g))
        while not stop.wait(0.5):
            f.sendall(b"NOOP\r\n")
            line(f)
        f.close()
    except OSError as e:
        fillers.append((i, "error %r" % e))


def fill(lo, hi):
    th = [threading.Thread(target=filler, args=(i,), daemon=True) for i in range(lo, hi)]
    for x in th:
        x.start()
    return th


# a STARTTLS session on 25 (pool at 1 of 20: no shedding) that holds its
# ClientHello after the 220 to STARTTLS: shedding begins during its
# handshake (sess_shed.c leaves handshaking sessions alone)
st = conn(LB, port=25)
st_g = [line(st)]
st.sendall(b"EHLO st.example\r\n")
r = line(st)
while r[3:4] == "-":
    r = line(st)
st_g.append(r)
st.sendall(b"STARTTLS\r\n")
st_g.append(line(st))
ths = fill(0, 12)
time.sleep(0.6)
s = conn(LB)
s.sendall(v2("198.18.7.24", 40024))
t = CTX.wrap_socket(s)
g = line(t)
t0 = time.time()
cut = line(t, timeout=8)
dt = time.time() - t0
report(g == "220 bulwark.lab ESMTP" and cut.startswith("421 4.4.2 ") and dt < 3.5,
       "shedding: a 465 session whose handshake ends then runs on the shed limits"
       " (idle: 421 4.4.2 after %.1f s, shed_timeout_ms 2 s)" % dt, [g, cut])
t.close()
# ... the STARTTLS session completes its handshake now: it takes the shed
# limits then (idle: 421 4.4.2 at shed_timeout_ms, not 5 min)
try:
    t = CTX.wrap_socket(st)
    t0 = time.time()
    cut = line(t, timeout=8)
    dt = time.time() - t0
except (ssl.SSLError, OSError) as e:
    cut, dt = "handshake: %r" % e, 99
report(st_g[0].startswith("220 ") and st_g[2].startswith("220 ") and
       cut.startswith("421 4.4.2 ") and dt < 3.5,
       "shedding began during a STARTTLS handshake: the session then runs on the shed"
       " limits (idle: 421 4.4.2 after %.1f s)" % dt, st_g + [cut])
t.close()
# 6. a 465 connection sends its header while shedding (13 of 20: its
#    handshake begins) and holds its ClientHello; 5 more plain sessions
#    make 18 of 20, critical: a new 465 connection is closed before its
#    handshake (no 421 can be sent before TLS); the held one completes its
#    handshake now and reads 421 4.3.2 in TLS instead of the greeting
held = conn(LB)
held.sendall(v2("198.18.7.26", 40026))
time.sleep(0.2)
ths += fill(12, 17)
time.sleep(0.6)
s = conn(LB)
s.sendall(v2("198.18.7.25", 40025) + client_hello())
closed, got = silent_close(s, 3)
report(closed and got == b"", "critical: a new 465 connection is closed before the handshake", got)
try:
    t = CTX.wrap_socket(held)
    g = line(t)
    closed, rest = silent_close(t, 3)
except (ssl.SSLError, OSError) as e:
    g, closed = "handshake: %r" % e, False
report(g.startswith("421 4.3.2 ") and closed,
       "critical reached during a handshake: 421 4.3.2 in TLS, then closed", g)
stop.set()
for x in ths:
    x.join(5)
n = sum(1 for i, g in fillers if g.startswith("220 "))
report(n == 17, "the 17 plain sessions got their greeting", sorted(fillers))

done()
