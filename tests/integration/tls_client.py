#!/usr/bin/python3
"""tls_client.py — TLS cases of tests/integration/tls.sh (Linux's own TCP
stack in the lab's client namespace; Python's ssl module, no verification:
the lab's certificate is made at test time).

  tls_client.py ADDR CASE [--port N] [--timeout S] [--msg FILE]

CASE:
  inject    EHLO, then "STARTTLS\\r\\nRSET\\r\\n" in one segment; after the
            handshake EHLO, NOOP, QUIT: prints every reply line, plaintext
            ones as "P: ...", those under TLS as "T: ...".
  twice     STARTTLS, handshake, EHLO, STARTTLS again, QUIT (same format).
  hello     a real TLS ClientHello at once after connecting (before reading
            the greeting): prints what came back, then CLOSED or OPEN.
  stall     connects and sends nothing (implicit TLS port): prints the
            seconds until the server closed, or OPEN.
  smtplib   smtplib.SMTP.starttls() and sendmail of FILE's bytes: prints
            "sent" and the TLS version and cipher.
  implicit  smtplib.SMTP_SSL (port 465) and sendmail of FILE's bytes.
  greet     implicit TLS: the handshake, then every reply line until the
            server closes ("T: ...", then "T: EOF").
  junk      STARTTLS, then plaintext instead of a ClientHello: prints the
            first byte that came back in hex (0x15: a TLS alert), then
            CLOSED or OPEN.
"""
import argparse
import smtplib
import socket
import ssl
import sys
import time


def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


class Lines:
    """Reply lines off a socket (plain or TLS)."""

    def __init__(self, sock, tag):
        self.sock, self.tag, self.buf = sock, tag, b""

    def reply(self):
        """One whole reply (all its lines); prints them. None at EOF."""
        lines = []
        while True:
            while b"\n" not in self.buf:
                try:
                    d = self.sock.recv(4096)
                except (socket.timeout, TimeoutError):
                    print("%s: TIMEOUT" % self.tag)
                    return None
                except (ConnectionError, ssl.SSLError) as e:
                    print("%s: ERROR %s" % (self.tag, e))
                    return None
                if not d:
                    print("%s: EOF" % self.tag)
                    return None
                self.buf += d
            line, self.buf = self.buf.split(b"\n", 1)
            s = line.rstrip(b"\r").decode("latin-1")
            print("%s: %s" % (self.tag, s))
            lines.append(s)
            if len(s) < 4 or s[3] != "-":
                return lines


def connect(a):
    s = socket.create_connection((a.addr, a.port), timeout=a.timeout)
    return s


def starttls(s, pre, a):
    t = ctx().wrap_socket(s, server_hostname="bulwark.lab")
    print("TLS %s %s" % (t.version(), t.cipher()[0]))
    if pre.buf:
        print("P: LEFTOVER %r" % pre.buf)
    return Lines(t, "T"), t


def upgrade(a, name, stls):
    """Greeting, EHLO name, then the STARTTLS bytes stls; on 220 the TLS
    handshake. Returns (lines, tls socket), or None without a 220."""
    s = connect(a)
    p = Lines(s, "P")
    p.reply()
    s.sendall(b"EHLO " + name + b"\r\n")
    p.reply()
    s.sendall(stls)
    r = p.reply()
    if not r or not r[0].startswith("220"):
        return None
    return starttls(s, p, a)


def run(t, ts, *cmds):
    for c in cmds:
        ts.sendall(c)
        t.reply()


def case_inject(a):
    up = upgrade(a, b"inject.example", b"STARTTLS\r\nRSET\r\n")
    if up is None:
        return 1
    run(*up, b"EHLO inject.example\r\n", b"NOOP\r\n", b"QUIT\r\n")
    return 0


def case_twice(a):
    up = upgrade(a, b"twice.example", b"STARTTLS\r\n")
    if up is None:
        return 1
    run(*up, b"EHLO twice.example\r\n", b"STARTTLS\r\n", b"QUIT\r\n")
    return 0


def client_hello():
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx().wrap_bio(inc, out, server_hostname="bulwark.lab")
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def case_hello(a):
    hello = client_hello()
    s = connect(a)
    s.sendall(hello)
    got = b""
    state = "OPEN"
    try:
        while True:
            d = s.recv(4096)
            if not d:
                state = "CLOSED"
                break
            got += d
    except (socket.timeout, TimeoutError):
        pass
    except ConnectionError:
        state = "CLOSED"
    for line in got.decode("latin-1").splitlines():
        print(line)
    print(state)
    return 0


def case_stall(a):
    s = connect(a)
    t0 = time.monotonic()
    try:
        d = s.recv(4096)
        print("CLOSED after %.1f s%s" % (time.monotonic() - t0, " (data!)" if d else ""))
    except (socket.timeout, TimeoutError):
        print("OPEN")
    except ConnectionError:
        print("CLOSED after %.1f s (reset)" % (time.monotonic() - t0))
    return 0


def send_mail(m, a):
    msg = open(a.msg, "rb").read()
    m.ehlo("smtplib.example")
    m.sendmail("tls@example.org", ["rcpt@example.org"], msg)
    print("TLS %s %s" % (m.sock.version(), m.sock.cipher()[0]))
    m.quit()
    print("sent")


def case_smtplib(a):
    m = smtplib.SMTP(a.addr, a.port, timeout=a.timeout)
    m.ehlo("smtplib.example")
    m.starttls(context=ctx())
    send_mail(m, a)
    return 0


def case_implicit(a):
    m = smtplib.SMTP_SSL(a.addr, a.port, timeout=a.timeout, context=ctx())
    send_mail(m, a)
    return 0


def case_junk(a):
    s = connect(a)
    p = Lines(s, "P")
    p.reply()
    s.sendall(b"STARTTLS\r\n")
    r = p.reply()
    if not r or not r[0].startswith("220"):
        return 1
    s.sendall(b"EHLO not-tls.example\r\n")
    got, state = b"", "OPEN"
    try:
        while True:
            d = s.recv(4096)
            if not d:
                state = "CLOSED"
                break
            got += d
    except (socket.timeout, TimeoutError):
        pass
    except ConnectionError:
        state = "CLOSED"
    print("first 0x%02x" % got[0] if got else "nothing")
    print(state)
    return 0


def case_greet(a):
    s = connect(a)
    t = ctx().wrap_socket(s, server_hostname="bulwark.lab")
    print("TLS %s %s" % (t.version(), t.cipher()[0]))
    r = Lines(t, "T")
    while r.reply() is not None:
        pass
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("case")
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--msg")
    a = ap.parse_args()
    cases = dict(inject=case_inject, twice=case_twice, hello=case_hello, stall=case_stall,
                 smtplib=case_smtplib, implicit=case_implicit, junk=case_junk,
                 greet=case_greet)
    return cases[a.case](a)


if __name__ == "__main__":
    sys.exit(main())
