#!/usr/bin/env python3
"""fake_mta.py -- a tiny fake backend MTA for test_relay_loop (loopback only).

Usage: fake_mta.py LOGDIR MODE [MODE ...]
Listens on 127.0.0.1, one ephemeral port per MODE, prints "PORTS p1 p2 ..."
on stdout, then serves until killed. Every connection's raw received bytes
are appended to LOGDIR/<port>-<n>.raw as they arrive.

Modes:
  ok       PIPELINING, 8BITMIME, SMTPUTF8, SIZE 1000000; accepts everything
  nopipe   no PIPELINING/SMTPUTF8/SIZE; answers 500 if a client pipelines
  silent   accepts TCP, never says a word
  bad      greets with 554
  die      closes the connection when MAIL arrives
  noehlo   answers EHLO with 502
  mute     greets and answers EHLO, then reads and never answers
  late     silent for its first 3 connections, then like ok
  slow     like ok, but sleeps 1 s after each 354 before reading the body
  proxy    like ok, but greets only after a PROXY v1/v2 header (as Postfix
           with smtpd_upstream_proxy_protocol does)
  reject   like ok, but once body bytes arrive after the 354 it answers a
           two-line 550 and closes (as Postfix smtp-sink -A does)
  rejectopen  the same 550 (one line), then stays open, reading
  rejectlate  after the first body bytes stops reading for 1 s (the relay's
           writes block), then the two-line 550 and close
  early250 like ok, but answers the first body bytes with a 250 (too soon)
  unasked  like ok, but answers MAIL with its 250 and an unasked 550
  auth     PIPELINING and AUTH PLAIN LOGIN (no SMTPUTF8): AUTH PLAIN with or
           without an initial response, AUTH LOGIN; a SASL line "*" cancels
           (501), any other is accepted
  tls      like ok, plus STARTTLS (RFC 3207) before TLS; refuses MAIL in the
           clear (530); after the handshake logs the decrypted bytes and
           writes the TLS version and cipher to LOGDIR/<port>-<n>.tls
  tlsinject  like tls, but its 220 to STARTTLS comes with an injected
           "250 injected" line in the same send (response injection)
  tlsslow  like tls, but sleeps 1 s after each 354 (as slow)
  tlsdie   like tls, but closes (FIN, no close_notify) once body bytes
           arrive after the 354, without a word

With a tls mode, a throwaway CA and certificate are made at startup with
the openssl command: LOGDIR/ca.pem signs LOGDIR/cert.pem (SAN DNS:mta.test,
IP:127.0.0.1; key LOGDIR/key.pem); LOGDIR/wrongca.pem is an unrelated CA.
"""
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

CAPS = {
    "ok": ["PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 1000000"],
    "nopipe": ["8BITMIME"],
    "auth": ["PIPELINING", "AUTH PLAIN LOGIN"],
}

REJECT2 = "550-5.7.1 rejected\r\n550 5.7.1 early\r\n"
EARLY = {
    "reject": REJECT2,
    "rejectlate": REJECT2,
    "rejectopen": "550 5.7.1 early\r\n",
    "early250": "250 2.0.0 too soon\r\n",
}


TLS_MODES = ("tls", "tlsinject", "tlsdie", "tlsslow")
TLS_CTX = None  # the server context of the tls modes (make_certs)


def make_certs(logdir):
    """A throwaway CA, a certificate it signs, and an unrelated CA."""
    global TLS_CTX

    def run(*args):
        subprocess.run(["openssl"] + list(args), cwd=logdir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=fake test CA")
    run("req", "-x509", *ec, "-keyout", "wrongca.key", "-out", "wrongca.pem",
        "-days", "2", "-subj", "/CN=fake test CA")
    run("req", *ec, "-keyout", "key.pem", "-out", "req.csr", "-subj", "/CN=mta.test")
    with open(os.path.join(logdir, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:mta.test,IP:127.0.0.1\n"
                "basicConstraints=CA:FALSE\n")
    run("x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "cert.pem", "-days", "2", "-extfile", "ext.cnf")
    TLS_CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    TLS_CTX.load_cert_chain(os.path.join(logdir, "cert.pem"),
                            os.path.join(logdir, "key.pem"))


def serve(conn, mode, path):
    log = open(path, "ab", buffering=0)
    buf = b""
    in_data = False
    tls_on = False
    sasl = []  # the replies the next SASL lines get

    def recv():
        nonlocal buf
        d = conn.recv(65536)
        if not d:
            raise EOFError
        log.write(d)
        buf += d

    def send(s):
        conn.sendall(s.encode())

    try:
        if mode == "silent":
            while True:
                recv()
        # PROXY v2 (binary) or v1 (a line) before the greeting
        conn.settimeout(None if mode == "proxy" else 0.1)
        try:
            recv()
        except socket.timeout:
            pass
        conn.settimeout(None)
        if mode == "proxy" and not (buf.startswith(b"PROXY ") or
                                    buf.startswith(b"\r\n\r\n\x00\r\nQUIT\n")):
            while True:
                recv()
        if buf.startswith(b"\r\n\r\n\x00\r\nQUIT\n"):
            while len(buf) < 16:
                recv()
            buf = buf[16 + int.from_bytes(buf[14:16], "big"):]
        elif buf.startswith(b"PROXY "):
            while b"\r\n" not in buf:
                recv()
            buf = buf[buf.index(b"\r\n") + 2:]
        if mode == "bad":
            send("554 5.3.2 go away\r\n")
            while True:
                recv()
        send("220 fake.example ESMTP\r\n")
        while True:
            if in_data and mode in EARLY:
                while not buf:
                    recv()
                if mode == "rejectlate":
                    time.sleep(1.0)
                send(EARLY[mode])
                if mode in ("reject", "rejectlate"):
                    return
                while True:  # logs whatever still comes
                    buf = b""
                    recv()
            if in_data and mode == "tlsdie":
                while not buf:
                    recv()
                return  # close() in finally: a FIN, no close_notify (a crash)
            if in_data:
                if mode in ("slow", "tlsslow"):
                    time.sleep(1.0)  # the relay's writes must block
                # keep only a tail that may hold part of the final dot
                while buf.find(b"\r\n.\r\n") < 0:
                    buf = buf[-4:]
                    recv()
                buf = buf[buf.index(b"\r\n.\r\n") + 5:]
                in_data = False
                send("250 2.0.0 queued\r\n")
                continue
            while b"\r\n" not in buf:
                recv()
            line, buf = buf.split(b"\r\n", 1)
            verb = line[:4].upper()
            if sasl:
                if line == b"*":
                    sasl = []
                    send("501 5.7.0 cancelled\r\n")
                else:
                    send(sasl.pop(0))
                continue
            if mode == "nopipe" and buf:
                send("500 5.5.0 pipelining violation\r\n")
                continue
            if verb == b"EHLO":
                if mode == "noehlo":
                    send("502 5.5.1 no EHLO here\r\n")
                    continue
                caps = CAPS.get(mode, CAPS["ok"])
                if mode in TLS_MODES and not tls_on:
                    caps = caps[:-1] + ["STARTTLS"] + caps[-1:]
                send("250-fake.example\r\n" +
                     "".join("250-%s\r\n" % c for c in caps[:-1]) +
                     "250 %s\r\n" % caps[-1])
            elif mode == "mute":
                continue
            elif verb == b"STAR" and mode in TLS_MODES and not tls_on:
                # the injected line rides in the same send as the 220
                send("220 go\r\n250 injected\r\n" if mode == "tlsinject"
                     else "220 2.0.0 ready to start TLS\r\n")
                buf = b""
                try:
                    conn = TLS_CTX.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    with open(path[:-4] + ".tls", "w") as f:
                        f.write("FAILED %s\n" % e)
                    return
                tls_on = True
                with open(path[:-4] + ".tls", "w") as f:
                    f.write("%s %s\n" % (conn.version(), conn.cipher()[0]))
            elif verb == b"MAIL" and mode in TLS_MODES and not tls_on:
                send("530 5.7.0 must issue a STARTTLS command first\r\n")
            elif verb == b"HELO":
                send("250 fake.example\r\n")
            elif verb == b"XCLI":
                send("220 fake.example ESMTP again\r\n")
            elif verb == b"MAIL" and mode == "die":
                conn.close()
                return
            elif verb == b"MAIL" and mode == "unasked":
                send("250 2.1.0 ok\r\n550 5.7.1 unasked\r\n")
            elif verb == b"AUTH" and mode == "auth":
                words = line.split()
                ok = "235 2.7.0 authenticated\r\n"
                if len(words) > 2:
                    send(ok)  # PLAIN with an initial response
                elif words[1:] == [b"LOGIN"]:
                    sasl = ["334 UGFzc3dvcmQ6\r\n", ok]
                    send("334 VXNlcm5hbWU6\r\n")
                else:
                    sasl = [ok]
                    send("334 \r\n")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                send("250 2.1.0 ok\r\n")
            elif verb == b"DATA":
                in_data = True
                send("354 go ahead\r\n")
            elif verb == b"QUIT":
                send("221 2.0.0 bye\r\n")
                conn.close()
                return
            else:
                send("502 5.5.2 what\r\n")
    except (EOFError, OSError):
        pass
    finally:
        log.close()
        try:
            conn.close()
        except OSError:
            pass


def listen(sock, mode, logdir):
    port = sock.getsockname()[1]
    n = 0
    while True:
        conn, _ = sock.accept()
        n += 1
        path = os.path.join(logdir, "%d-%d.raw" % (port, n))
        m = "silent" if mode == "late" and n <= 3 else mode
        threading.Thread(target=serve, args=(conn, m, path), daemon=True).start()


def main():
    logdir = sys.argv[1]
    if any(m in TLS_MODES for m in sys.argv[2:]):
        make_certs(logdir)
    socks = []
    for mode in sys.argv[2:]:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        socks.append((s, mode))
    print("PORTS " + " ".join(str(s.getsockname()[1]) for s, _ in socks), flush=True)
    for s, mode in socks:
        threading.Thread(target=listen, args=(s, mode, logdir), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
