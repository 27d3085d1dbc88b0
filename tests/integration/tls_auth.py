#!/usr/bin/python3
"""tls_auth.py — AUTH cases of tests/integration/tls_auth.sh and the idle
TLS sessions of tls.sh (Linux's TCP stack in the lab's client namespace;
Python's ssl module, no verification: the lab's certificate is made at
test time). Every reply line is printed: "P: ..." in plaintext, "T: ..."
under TLS.

  tls_auth.py ADDR CASE [--port N] [--timeout S] [--user U] [--password P]
              [--size N] [--from ADDR] [--msg FILE] [--count N] [--hold S]

CASE:
  ir        STARTTLS, EHLO, then "AUTH PLAIN <initial response>" whose
            line is --size octets with CRLF (a long authzid, then U and P:
            RFC 4616 §2), then MAIL FROM:<--from>, RCPT, DATA with FILE's
            bytes, QUIT. Prints "LINE <octets> <sha256 of the AUTH line>".
            --pause S: the line's first half, S seconds, then the rest (the
            session holds its work area meanwhile).
  cont      the same, but "AUTH PLAIN" alone, then the response as a SASL
            continuation line of --size octets with CRLF (RFC 4954 §4).
  over      STARTTLS, EHLO, an AUTH PLAIN line of --size octets (over
            12288), NOOP, then a short correct AUTH PLAIN, QUIT.
  overcont  STARTTLS, EHLO, "AUTH PLAIN", a continuation line of --size
            octets, NOOP, QUIT.
  early     EHLO and AUTH PLAIN before STARTTLS, then QUIT.
  smtplib   smtplib.SMTP.starttls(), login(U, P) and sendmail of FILE's
            bytes: prints "sent" and the TLS version, or the error.
  stall     opens --count TCP connections (--port, usually 465) and sends
            nothing: prints "OPEN n", then after --hold seconds how many
            the server closed ("CLOSED n").
  hold      opens --count implicit-TLS sessions (--port, usually 465),
            reads each greeting, prints "HELD n", keeps them idle for
            --hold seconds, QUITs them.
"""
import argparse
import base64
import hashlib
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


class Conn:
    """One SMTP connection, plaintext until starttls()."""

    def __init__(self, a):
        self.a = a
        self.s = socket.create_connection((a.addr, a.port), timeout=a.timeout)
        self.tag, self.buf = "P", b""

    def reply(self):
        """One whole reply; prints its lines; returns its code (None: EOF)."""
        while True:
            while b"\n" not in self.buf:
                try:
                    d = self.s.recv(65536)
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
            line, _, self.buf = self.buf.partition(b"\n")
            text = line.rstrip(b"\r").decode("latin-1")
            print("%s: %s" % (self.tag, text), flush=True)
            if len(text) < 4 or text[3] != "-":
                return text[:3]

    def cmd(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.s.sendall(line + b"\r\n")
        return self.reply()

    def starttls(self):
        self.reply()  # greeting
        self.cmd("EHLO auth.example")
        if self.cmd("STARTTLS") != "220":
            return False
        self.s = ctx().wrap_socket(self.s, server_hostname="bulwark.lab")
        self.tag = "T"
        print("TLS %s %s" % (self.s.version(), self.s.cipher()[0]), flush=True)
        return self.cmd("EHLO auth.example") == "250"


def response(a, size, prefix):
    """The longest PLAIN response whose line (prefix + base64 + CRLF) has
    at most size octets (base64 comes in quads: up to 3 fewer); a long
    authzid makes the length (RFC 4616 §2: the server may ignore it)."""
    creds = b"\0" + a.user.encode() + b"\0" + a.password.encode()
    room = size - len(prefix) - 2
    zlen = max(0, (room // 4) * 3 - len(creds))
    return base64.b64encode(b"z" * zlen + creds)


def deliver(c, a):
    if c.cmd("MAIL FROM:<%s>" % a.sender) != "250" or c.cmd("RCPT TO:<b@example.org>") != "250":
        return
    if c.cmd("DATA") != "354":
        return
    data = open(a.msg, "rb").read()
    stuffed = (b"\r\n" + data).replace(b"\r\n.", b"\r\n..")[2:]  # RFC 5321 §4.5.2
    c.s.sendall(stuffed + b".\r\n")
    c.reply()


def case_ir(a):
    c = Conn(a)
    if not c.starttls():
        return
    line = b"AUTH PLAIN " + response(a, a.size, b"AUTH PLAIN ")
    print("LINE %d %s" % (len(line) + 2, hashlib.sha256(line + b"\r\n").hexdigest()), flush=True)
    if a.pause:
        c.s.sendall(line[:len(line) // 2])
        print("HALF", flush=True)
        time.sleep(a.pause)
        line = line[len(line) // 2:]
    if c.cmd(line) == "235":
        deliver(c, a)
    c.cmd("QUIT")


def case_cont(a):
    c = Conn(a)
    if not c.starttls():
        return
    line = response(a, a.size, b"")
    print("LINE %d %s" % (len(line) + 2, hashlib.sha256(line + b"\r\n").hexdigest()))
    if c.cmd("AUTH PLAIN") == "334" and c.cmd(line) == "235":
        deliver(c, a)
    c.cmd("QUIT")


def case_over(a):
    c = Conn(a)
    if not c.starttls():
        return
    c.cmd(b"AUTH PLAIN " + b"QUFB" * ((a.size - 13) // 4) + b"=" * ((a.size - 13) % 4))
    c.cmd("NOOP")
    c.cmd(b"AUTH PLAIN " + response(a, 0, b""))
    c.cmd("QUIT")


def case_overcont(a):
    c = Conn(a)
    if not c.starttls():
        return
    if c.cmd("AUTH PLAIN") == "334":
        c.cmd(b"QUFB" * (a.size // 4) + b"=" * (a.size % 4))
    c.cmd("NOOP")
    c.cmd("QUIT")


def case_early(a):
    c = Conn(a)
    c.reply()
    c.cmd("EHLO auth.example")
    c.cmd(b"AUTH PLAIN " + response(a, 0, b""))
    c.cmd("QUIT")


def case_smtplib(a):
    try:
        m = smtplib.SMTP(a.addr, a.port, local_hostname="auth.example", timeout=a.timeout)
        m.starttls(context=ctx())
        print("TLS %s %s" % (m.sock.version(), m.sock.cipher()[0]))
        m.login(a.user, a.password)
        m.sendmail(a.sender, ["b@example.org"], open(a.msg, "rb").read())
        m.quit()
        print("sent")
    except smtplib.SMTPException as e:
        print("error %r" % (e,))


def case_stall(a):
    socks = [socket.create_connection((a.addr, a.port), timeout=a.timeout)
             for _ in range(a.count)]
    print("OPEN %d" % len(socks), flush=True)
    time.sleep(a.hold)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            closed += s.recv(4096) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    print("CLOSED %d" % closed)


def case_hold(a):
    held = []
    for _ in range(a.count):
        s = ctx().wrap_socket(socket.create_connection((a.addr, a.port), timeout=a.timeout),
                              server_hostname="bulwark.lab")
        buf = b""
        while b"\n" not in buf:
            d = s.recv(4096)
            if not d:
                break
            buf += d
        if buf.startswith(b"220 "):
            held.append(s)
    print("HELD %d" % len(held), flush=True)
    time.sleep(a.hold)
    for s in held:
        try:
            s.sendall(b"QUIT\r\n")
            s.recv(4096)
            s.close()
        except (OSError, ssl.SSLError):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("case")
    ap.add_argument("--port", type=int, default=587)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--user", default="user")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--size", type=int, default=8000)
    ap.add_argument("--from", dest="sender", default="auth@example.org")
    ap.add_argument("--msg")
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--hold", type=float, default=5)
    ap.add_argument("--pause", type=float, default=0)
    a = ap.parse_args()
    {"ir": case_ir, "cont": case_cont, "over": case_over, "overcont": case_overcont,
     "early": case_early, "smtplib": case_smtplib, "stall": case_stall,
     "hold": case_hold}[a.case](a)


if __name__ == "__main__":
    sys.exit(main())
