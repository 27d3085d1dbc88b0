#!/usr/bin/python3
"""recorder_selftest.py — proves tests/integration/recorder.py on its own,
on loopback (127.0.0.1, free ports), with smtplib, raw sockets and swaks:
stored content and sidecars, PROXY v1/v2, XCLIENT, --fail, --drop,
--no-greet, SIGUSR1 pause/resume, raw bytes. Prints ok/FAIL lines; exits 1
on any failure. No root needed; run it with /usr/bin/python3.
"""
import glob
import hashlib
import json
import os
import shutil
import signal
import smtplib
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
fails = 0


def check(what, cond, detail=""):
    global fails
    print(("ok   %s" if cond else "FAIL %s") % what + ("" if cond else ": %s" % detail))
    fails += not cond


class Rec:
    """One recorder process on a free loopback port with its own spool."""

    def __init__(self, *args):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.spool = tempfile.mkdtemp(prefix="rec-")
        ready = os.path.join(self.spool, "ready")
        self.log = open(os.path.join(self.spool, "log"), "w")
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "recorder.py"),
                                   "--listen", "127.0.0.1:%d" % self.port, "--spool", self.spool,
                                   "--ready-file", ready] + list(args), stderr=self.log)
        for _ in range(100):
            if os.path.exists(ready):
                break
            time.sleep(0.05)

    def stored(self):
        return [json.load(open(f)) for f in sorted(glob.glob(self.spool + "/*.json"))]

    def raw(self):
        return b"".join(open(f, "rb").read() for f in sorted(glob.glob(self.spool + "/raw/*.bin")))

    def stop(self):
        self.p.terminate()
        self.p.wait(10)
        shutil.rmtree(self.spool)


def talk(port, lines, pre=b"", greet=True, timeout=3):
    """Raw client: sends pre, reads the greeting, sends each line and reads
    one reply for it. Returns the reply lines; '<closed>' on EOF/reset."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    f = s.makefile("rb")
    out = []
    try:
        s.sendall(pre)
        if greet:
            out.append(f.readline().decode().strip() or "<closed>")
        for ln in lines:
            s.sendall(ln)
            while True:
                r = f.readline().decode().strip()
                out.append(r or "<closed>")
                if not r or r[3:4] != "-":
                    break
            if out[-1] == "<closed>":
                break
    except (ConnectionResetError, BrokenPipeError):
        out.append("<closed>")
    except socket.timeout:
        out.append("<timeout>")
    s.close()
    return out


def proxy_v2(src, sport, dst, dport):
    addrs = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(addrs)) + addrs


def main():
    body = (b"Subject: t\r\n\r\n.dot\r\n..two\r\n.\r\nx\r\n\xe9\xff 8-bit\r\n" + b"L" * 5000
            + b"\r\nend\r\n")
    envelope = [b"EHLO c.example\r\n", b"MAIL FROM:<a@x.org>\r\n", b"RCPT TO:<b@y.org>\r\n", b"DATA\r\n"]

    r = Rec()
    with smtplib.SMTP("127.0.0.1", r.port) as c:
        c.ehlo("client.example")
        c.sendmail("a@x.org", ["r%d@y.org" % i for i in range(100)], body)
    s = r.stored()
    check("smtplib: one message, 100 recipients, helo", len(s) == 1 and len(s[0]["rcpt_tos"]) == 100
          and s[0]["helo"] == "client.example", s)
    check("content = sent bytes (dot-stuffing undone)", s and s[0]["sha256"] ==
          hashlib.sha256(body).hexdigest() and open(r.spool + "/1.eml", "rb").read() == body)
    check("raw bytes keep the dot-stuffing", b"\r\n..dot\r\n...two\r\n..\r\n" in r.raw())
    out = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % r.port, "--from", "s@x.org",
                          "--to", "t@y.org", "--quit-after", "RCPT"], capture_output=True, text=True).stdout
    check("swaks --quit-after RCPT: 220/250/250/250",
          all(x in out for x in ("<-  220 ", "<-  250 HELP", "<-  250 2.1.0", "<-  250 2.1.5")), out)
    out = talk(r.port, [b"XCLIENT ADDR=1.2.3.4\r\n"])
    check("XCLIENT without --xclient: 500", out[-1].startswith("500"), out)
    r.stop()

    for ver, pre in (("v2", proxy_v2("198.18.1.2", 40000, "198.19.0.10", 25)),
                     ("v1", b"PROXY TCP4 198.18.1.2 198.19.0.10 40001 25\r\n")):
        r = Rec("--proxy", ver)
        out = talk(r.port, envelope + [b"hi\r\n.\r\n"], pre=pre)
        s = r.stored()
        check("PROXY %s: stored, client address told" % ver, out[-1].startswith("250 2.0.0") and s and
              s[0]["told_via"] == "proxy-" + ver and s[0]["client_addr"] == "198.18.1.2", (out, s))
        out = talk(r.port, [], pre=b"EHLO x\r\n")
        check("PROXY %s: a connection without the header is closed" % ver, out == ["<closed>"], out)
        other = b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n" if ver == "v2" else proxy_v2("1.2.3.4", 1, "5.6.7.8", 2)
        out = talk(r.port, [], pre=other)
        check("PROXY %s: the other version's header is refused" % ver, out == ["<closed>"], out)
        r.stop()

    r = Rec("--xclient")
    out = talk(r.port, [b"EHLO a\r\n", b"XCLIENT ADDR=1.2.3.4 PORT=4242 HELO=h+2Eex\r\n"] + envelope
               + [b"x\r\n.\r\n"])
    s = r.stored()
    check("XCLIENT: 220 again, address and port told", "220 recorder.lab ESMTP recorder" in out[1:] and s
          and s[0]["told_via"] == "xclient" and s[0]["client_addr"] == "1.2.3.4" and s[0]["client_port"] == 4242
          and s[0]["xclient"]["HELO"] == "h.ex", (out, s))
    r.stop()

    r = Rec("--fail", "mail=451,rcpt=550,data=554,dot=552")
    out = talk(r.port, envelope[:2])
    check("--fail mail=451", out[-1].startswith("451 4.0.0"), out)
    r.stop()
    for fail, code in (("rcpt=550", "550"), ("data=554", "554"), ("dot=552", "552"), ("rcpt=421", "421")):
        r = Rec("--fail", fail)
        n = fail.split("=")[0]
        lines = envelope[:{"rcpt": 3, "data": 4, "dot": 5}[n]]
        if n == "dot":
            lines = envelope + [b"x\r\n.\r\n"]
        out = talk(r.port, lines + [b"NOOP\r\n"])
        check("--fail %s: %s, nothing stored" % (fail, code), code + " " in " ".join(out) and not r.stored()
              and (out[-1] == "<closed>") == (code == "421"), out)
        r.stop()

    for stage, n in (("mail", 2), ("rcpt", 3), ("data", 4), ("dot", 5), ("body", 5)):
        r = Rec("--drop", stage)
        lines = envelope[:n]
        if n == 5:
            lines = envelope + [b"x" * 100 + b"\r\n.\r\n"]
        out = talk(r.port, lines)
        check("--drop %s: closed without a reply, nothing stored" % stage,
              out[-1] == "<closed>" and len([x for x in out if x[3:4] != "-"]) == n + 1
              and not r.stored(), out)
        r.stop()
    r = Rec("--drop", "greet")
    check("--drop greet", talk(r.port, []) == ["<closed>"])
    r.stop()
    r = Rec("--no-greet")
    out = talk(r.port, [], timeout=1.5)
    check("--no-greet: no 220, connection stays open", out == ["<timeout>"], out)
    check("--no-greet: bytes still recorded", talk(r.port, [], pre=b"EHLO x\r\n", timeout=0.5)
          and b"EHLO x\r\n" in r.raw())
    r.stop()

    r = Rec()
    big = (b"0123456789abcdef" * 63 + b"\r\n") * (20 << 10)  # 20 MiB
    done, env = threading.Event(), threading.Event()

    def send():
        with smtplib.SMTP("127.0.0.1", r.port, timeout=60) as c:
            c.ehlo("c.example")
            c.mail("a@x.org")
            c.rcpt("b@y.org")
            env.set()
            time.sleep(0.5)  # paused meanwhile
            c.data(big)
        done.set()
    t = threading.Thread(target=send, daemon=True)
    t.start()
    env.wait(10)
    os.kill(r.p.pid, signal.SIGUSR1)
    time.sleep(0.2)
    # a connection made while paused, whose client sends and half-closes
    late = socket.create_connection(("127.0.0.1", r.port), timeout=1)
    late.sendall(b"EHLO late\r\nQUIT\r\n")
    late.shutdown(socket.SHUT_WR)
    got = b""
    try:
        while True:
            chunk = late.recv(4096)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    check("paused: a new connection is greeted, its commands wait", got.startswith(b"220 ")
          and b"250" not in got, got)
    check("paused: 20 MiB cannot complete in 3 s", not done.wait(3))
    os.kill(r.p.pid, signal.SIGUSR1)
    check("resumed: completes", done.wait(60))
    got = late.recv(4096)
    late.close()
    check("resumed: the late connection is answered too", b"250" in got or b"221" in got, got)
    s = r.stored()
    check("resumed: byte-identical", s and s[0]["sha256"] == hashlib.sha256(big).hexdigest())
    r.stop()

    print("%d check(s) failed" % fails if fails else "all checks passed")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
