#!/usr/bin/python3
"""relay_mail.py — sends test mail through Bulwark and checks what the
recording backend stored (tests/integration/relay.sh).

  relay_mail.py send ADDR --manifest FILE [--sessions K] [--messages N]
                     [--swaks N] [--big N] [--medium N] [--seed S]
  relay_mail.py check SPOOL --manifest FILE [--client ADDR] [--via proxy-v2|xclient|...]
  relay_mail.py big ADDR --mib N --state DIR

send (in the client namespace): N messages with smtplib on K sessions in
parallel (1 KiB .. 5 MiB: --big of 5 MiB, --medium of 1 MiB and 3 times as
many of 100-300 KiB, the rest up to 32 KiB; 8-bit bodies, lines "."
and "..", lines over 1000 octets; one transaction with 100 recipients),
two raw-socket transactions that pipeline MAIL, 100 RCPT and DATA in one
write, and --swaks messages with swaks. Every reply must be a success.
Each message is one JSON line in the manifest: sha256 of the content the
backend must store, envelope, EHLO name, client port (0 for swaks).

check: every manifest message is stored exactly once, byte-identical
(sha256), with its envelope and EHLO name, and the backend was told the
client's address (and port) the way --via says.

big (backpressure): one message of N MiB on one session. After the 354 it
writes DIR/sha256 and DIR/data, waits for DIR/go, then sends the body in
64 KiB writes, keeping DIR/sent (octets handed to the kernel) current, and
ends with DIR/result: the reply to the final dot.
"""
import argparse
import glob
import hashlib
import json
import os
import random
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time

PORT = 25
CLEAN = bytes(range(256)).replace(b"\x00", b"0").replace(b"\r", b"r").replace(b"\n", b"n")


def body(rng, idx, size):
    """A message of about size octets: headers, special lines, random
    8-bit lines (a few over 1000 octets), a last line naming idx."""
    head = (b"From: <s%d@client.example>\r\nTo: <r@backend.example>\r\n"
            b"Subject: relay test %d \xc3\xa9t\xc3\xa9\r\nMessage-ID: <%d.%d@client.example>\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=latin1\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" % (idx, idx, idx, rng.getrandbits(32)))
    special = [b".", b"..", b".leading dot", b"..two dots", b"...", b"", b". .", b"\xe9\xe8\xff\x80",
               b"." + b"L" * 1500, b"W" * 4000]
    noise = rng.randbytes(max(size - len(head), 0)).translate(CLEAN)
    lines, i = [], 0
    while i < len(noise):
        n = rng.choice((0, 1, 20, 60, 76, 200, 998, 999, 1000, 1001, 2500)) if rng.random() < 0.2 \
            else rng.randrange(1, 120)
        ln = noise[i:i + n]
        i += n
        if rng.random() < 0.05:
            ln = b"." + ln
        lines.append(ln)
        if rng.random() < 0.02:
            lines.append(rng.choice(special))
    lines = special + lines + [b"END %d" % idx]
    return head + b"\r\n".join(lines) + b"\r\n"


def entry(content, sender, rcpts, helo, port, kind):
    return {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content), "from": sender,
            "rcpts": rcpts, "helo": helo, "port": port, "kind": kind}


def smtplib_session(addr, sid, msgs, out, errors):
    helo = "client-%d.example" % sid
    try:
        with smtplib.SMTP(addr, PORT, local_hostname=helo, timeout=120) as c:
            c.ehlo()
            port = c.sock.getsockname()[1]
            for content, sender, rcpts in msgs:
                refused = c.sendmail(sender, rcpts, content)
                if refused:
                    raise RuntimeError("recipients refused: %r" % refused)
                out.append(entry(content, sender, rcpts, helo, port, "smtplib"))
    except Exception as e:  # noqa: BLE001 - reported, the test fails
        errors.append("session %d: %r" % (sid, e))


def pipelined(addr, rng, idx, out, errors):
    """MAIL, 100 RCPT and DATA in one write (RFC 2920), then the body."""
    helo = "pipeliner.example"
    rcpts = ["p%d.%d@backend.example" % (idx, i) for i in range(100)]
    content = body(rng, idx, 1024)
    try:
        s = socket.create_connection((addr, PORT), timeout=60)
        f = s.makefile("rb")

        def reply():
            lines = []
            while True:
                ln = f.readline()
                if not ln:
                    raise RuntimeError("closed after %r" % lines)
                lines.append(ln.decode("latin-1").rstrip())
                if ln[3:4] != b"-":
                    return lines[-1]
        if not reply().startswith("220"):
            raise RuntimeError("no 220")
        s.sendall(b"EHLO %s\r\n" % helo.encode())
        if not reply().startswith("250"):
            raise RuntimeError("EHLO refused")
        sender = "pipe%d@client.example" % idx
        s.sendall(b"MAIL FROM:<%s>\r\n" % sender.encode()
                  + b"".join(b"RCPT TO:<%s>\r\n" % r.encode() for r in rcpts) + b"DATA\r\n")
        got = [reply() for _ in range(102)]
        if not all(g.startswith("250") for g in got[:101]) or not got[101].startswith("354"):
            raise RuntimeError("pipelined envelope: %r" % [g for g in got if not g.startswith("250")])
        stuffed = b"\r\n".join(b"." + ln if ln.startswith(b".") else ln for ln in content.split(b"\r\n"))
        s.sendall(stuffed + b".\r\n")
        r = reply()
        if not r.startswith("250"):
            raise RuntimeError("end of data: %s" % r)
        out.append(entry(content, sender, rcpts, helo, s.getsockname()[1], "pipelined"))
        s.sendall(b"QUIT\r\n")
        reply()
        s.close()
    except Exception as e:  # noqa: BLE001
        errors.append("pipelined %d: %r" % (idx, e))


def send(a):
    global PORT
    PORT = a.port
    rng = random.Random(a.seed)
    out, errors = [], []
    # sizes: --big of 5 MiB, --medium of 1 MiB and 3 times that of
    # 100-300 KiB, the rest 1-32 KiB
    sizes = [5 << 20] * a.big + [1 << 20] * a.medium
    sizes += [rng.randrange(100, 300) << 10 for _ in range(3 * a.medium)]
    sizes += [rng.randrange(1, 33) << 10 for _ in range(a.messages - len(sizes))]
    rng.shuffle(sizes)
    per = [[] for _ in range(a.sessions)]
    for i, size in enumerate(sizes[:a.messages]):
        rcpts = ["r%d@backend.example" % i] if i else ["m%d@backend.example" % k for k in range(100)]
        per[i % a.sessions].append((body(rng, i, size), "s%d@client.example" % i, rcpts))
    threads = [threading.Thread(target=smtplib_session, args=(a.addr, k, per[k], out, errors))
               for k in range(a.sessions)]
    threads += [threading.Thread(target=pipelined, args=(a.addr, random.Random(a.seed + k),
                                                         10000 + k, out, errors)) for k in range(2)]
    for t in threads:
        t.start()
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(a.swaks):
            idx = 20000 + k
            # swaks reads "\\n" in --data as a line end: no backslashes
            content = body(rng, idx, rng.randrange(1, 9) << 10).replace(b"\\", b"/")
            path = os.path.join(tmp, "%d.eml" % k)
            open(path, "wb").write(content[:-2])  # swaks ends the last line itself
            sender, rcpt = "sw%d@client.example" % k, "sw%d@backend.example" % k
            p = subprocess.run(["swaks", "--server", a.addr, "--port", str(PORT), "--ehlo", "swaks.example",
                                "--from", sender, "--to", rcpt, "--data", "@" + path, "--timeout", "60"],
                               capture_output=True, text=True, errors="replace")
            if p.returncode != 0:
                errors.append("swaks %d: rc %d: %s" % (k, p.returncode, p.stdout[-500:]))
            else:
                out.append(entry(content, sender, [rcpt], "swaks.example", 0, "swaks"))
    for t in threads:
        t.join()
    with open(a.manifest, "w") as f:
        for e in out:
            f.write(json.dumps(e) + "\n")
    for e in errors:
        print("FAIL send: %s" % e)
    kinds = {}
    for e in out:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    print("%s sent %d messages (%s), %d MiB" % ("ok  " if not errors else "FAIL", len(out),
          " ".join("%s=%d" % k for k in sorted(kinds.items())), sum(e["size"] for e in out) >> 20))
    return 1 if errors else 0


def check(a):
    stored = {}
    for path in glob.glob(os.path.join(a.spool, "*.json")):
        side = json.load(open(path))
        stored.setdefault(side["sha256"], []).append(side)
    want = [json.loads(ln) for ln in open(a.manifest)]
    bad = []
    for e in want:
        got = stored.get(e["sha256"], [])
        if len(got) != 1:
            bad.append("%s message (%d octets, from %s) stored %d times" % (e["kind"], e["size"], e["from"],
                                                                           len(got)))
            continue
        s = got[0]
        wrong = [k for k, ok in (
            ("mail_from", s["mail_from"] == e["from"]), ("rcpt_tos", s["rcpt_tos"] == e["rcpts"]),
            ("helo", s["helo"] == e["helo"]), ("told_via", a.via is None or s["told_via"] == a.via),
            ("client_addr", a.client is None or s["client_addr"] == a.client),
            ("client_port", a.client is None or not e["port"] or s["client_port"] == e["port"]))
            if not ok]
        if wrong:
            bad.append("%s message %d: %s" % (e["kind"], s["n"], ", ".join(
                "%s=%r" % (k, s.get(k)) for k in wrong)))
    for b in bad[:20]:
        print("     " + b)
    print("%s %d of %d messages stored once, byte-identical, envelope, EHLO name and client %s via %s"
          % ("FAIL" if bad else "ok  ", len(want) - len(bad), len(want), a.client, a.via))
    return 1 if bad or not want else 0


def big(a):
    def put(name, text):
        with open(os.path.join(a.state, name + ".tmp"), "w") as f:
            f.write(text)
        os.rename(os.path.join(a.state, name + ".tmp"), os.path.join(a.state, name))
    line = b"".join(b"%05d " % i + bytes(range(0x21, 0x7f)) * 10 + b"\r\n" for i in range(64))
    content = b"Subject: backpressure\r\n\r\n" + line * ((a.mib << 20) // len(line))
    put("sha256", hashlib.sha256(content).hexdigest())
    try:
        c = smtplib.SMTP(a.addr, PORT, local_hostname="big.example", timeout=600)
        c.ehlo()
        for code, what in (c.mail("big@client.example"), c.rcpt("big@backend.example"), c.docmd("DATA")):
            if code not in (250, 354):
                raise RuntimeError("%d %r" % (code, what))
        put("data", "354")
        while not os.path.exists(os.path.join(a.state, "go")):
            time.sleep(0.05)
        sent = 0
        for i in range(0, len(content), 65536):
            c.sock.sendall(content[i:i + 65536])
            sent += len(content[i:i + 65536])
            put("sent", str(sent))
        c.sock.sendall(b".\r\n")
        code, what = c.getreply()
        put("result", "%d %s" % (code, what.decode("latin-1")))
        c.quit()
    except Exception as e:  # noqa: BLE001 - the test reads result
        put("result", "error %r" % e)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("addr")
    s.add_argument("--manifest", required=True)
    s.add_argument("--port", type=int, default=25)
    s.add_argument("--sessions", type=int, default=4)
    s.add_argument("--messages", type=int, default=180)
    s.add_argument("--swaks", type=int, default=10)
    s.add_argument("--big", type=int, default=3)
    s.add_argument("--medium", type=int, default=4)
    s.add_argument("--seed", type=int, default=4)
    c = sub.add_parser("check")
    c.add_argument("spool")
    c.add_argument("--manifest", required=True)
    c.add_argument("--client")
    c.add_argument("--via")
    b = sub.add_parser("big")
    b.add_argument("addr")
    b.add_argument("--mib", type=int, default=50)
    b.add_argument("--state", required=True)
    a = ap.parse_args()
    sys.exit({"send": send, "check": check, "big": big}[a.cmd](a))


if __name__ == "__main__":
    main()
