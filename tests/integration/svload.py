#!/usr/bin/python3
"""svload.py — steady legit mail for the service tests (reload, drain).

  svload.py send ADDR --manifest FILE --stop FILE [--threads K] [--per-session N]
                      [--chunks C --chunk-pause S] [--max M] [--tag T]
  svload.py check --manifest FILE SPOOL... [--strict]

send (in the client namespace): K threads, each opening smtplib sessions
one after the other and sending N messages per session (default 2), until
FILE --stop exists (or M messages in all). --chunks C: the body goes in C
writes with S seconds between them, so sessions sit mid-DATA. Every message
is unique (give each sender its own --tag); one JSON line per message in the manifest: id, sha256 of the
content the backend must store, and what the client saw: "ok" (250 to the
final dot) or "fail" with the reply or the exception. Exits 0.

check: every "ok" message is stored exactly once in the SPOOLs together
(sha256; a recorder's DIR/<n>.json); a message stored but not "ok" is
allowed (the client saw a drop and may retry: SMTP's duplicate, never a
loss) unless --strict, which also wants zero "fail". Prints one key=value
summary line (ok, fail, stored per spool) and exits 0 or 1 with the
problems.
"""
import argparse
import glob
import hashlib
import json
import os
import smtplib
import sys
import threading
import time

PORT = 25


def content(tag, tid, n):
    lines = [b"From: load%d@example.org" % tid, b"To: rcpt@example.net",
             b"Subject: service test %s %d-%d" % (tag.encode(), tid, n), b""]
    lines += [b"line %d of message %d-%d %s" % (i, tid, n, b"x" * (i % 70)) for i in range(40)]
    return b"\r\n".join(lines) + b"\r\n"


def one(c, body, a):
    code, msg = c.mail("load@example.org")
    if code != 250:
        return "mail %d %s" % (code, msg)
    code, msg = c.rcpt("rcpt@example.net")
    if code != 250:
        return "rcpt %d %s" % (code, msg)
    code, msg = c.docmd("DATA")
    if code != 354:
        return "data %d %s" % (code, msg)
    k = max(a.chunks, 1)
    step = (len(body) + k - 1) // k
    for i in range(0, len(body), step):
        c.send(body[i:i + step])
        if a.chunks > 1:
            time.sleep(a.chunk_pause)
            if os.path.exists(a.stop):
                raise RuntimeError("stopped mid-DATA")
    c.send(b".\r\n")
    code, msg = c.getreply()
    return None if code == 250 else "dot %d %s" % (code, msg)


def worker(tid, a, out, lock, count):
    n = 0
    while not os.path.exists(a.stop):
        c = None
        try:
            c = smtplib.SMTP(a.addr, PORT, local_hostname="load%d.example" % tid, timeout=a.timeout)
            c.ehlo()
            for _ in range(a.per_session):
                with lock:
                    if a.max and count[0] >= a.max:
                        return
                    count[0] += 1
                body = content(a.tag, tid, n)
                n += 1
                rec = {"id": "%s%d-%d" % (a.tag, tid, n - 1), "sha256": hashlib.sha256(body).hexdigest(),
                       "t": time.time()}
                try:
                    why = one(c, body, a)
                except Exception as e:  # noqa: BLE001 (a drop is an outcome)
                    why = "exception %r" % e
                rec["t_end"] = time.time()
                rec["result"] = "ok" if why is None else "fail"
                if why:
                    rec["why"] = why
                with lock:
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
                if why:
                    break
                if os.path.exists(a.stop):
                    break
            try:
                c.quit()
            except Exception:  # noqa: BLE001
                pass
        except Exception as e:  # noqa: BLE001 (connect or EHLO failed: no message began)
            with lock:
                out.write(json.dumps({"id": "%d-s" % tid, "result": "session",
                                      "why": "%r" % e, "t": time.time()}) + "\n")
                out.flush()
            time.sleep(0.2)
        finally:
            if c is not None:
                try:
                    c.close()
                except Exception:  # noqa: BLE001
                    pass


def send(a):
    lock = threading.Lock()
    count = [0]
    with open(a.manifest, "a") as out:
        ts = [threading.Thread(target=worker, args=(t, a, out, lock, count)) for t in range(a.threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    return 0


def check(a):
    stored = {}
    per = []
    for sp in a.spool:
        files = glob.glob(os.path.join(sp, "*.json"))
        per.append(len(files))
        for f in files:
            stored.setdefault(json.load(open(f))["sha256"], []).append(sp)
    recs = [json.loads(ln) for ln in open(a.manifest)]
    msgs = [r for r in recs if "sha256" in r]
    ok = [r for r in msgs if r["result"] == "ok"]
    bad = []
    for r in ok:
        got = stored.get(r["sha256"], [])
        if len(got) != 1:
            bad.append("message %s got 250 but is stored %d times" % (r["id"], len(got)))
    failed = [r for r in recs if r["result"] != "ok"]
    dup = sum(1 for r in msgs if r["result"] != "ok" and r["sha256"] in stored)
    if a.strict:
        for r in failed:
            bad.append("message %s failed: %s" % (r["id"], r.get("why")))
    print("svload: ok=%d fail=%d stored_unacked=%d stored=%s" % (len(ok), len(failed), dup,
                                                                  ",".join(map(str, per))))
    for b in bad[:20]:
        print("  " + b)
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("addr")
    s.add_argument("--manifest", required=True)
    s.add_argument("--stop", required=True)
    s.add_argument("--threads", type=int, default=4)
    s.add_argument("--per-session", type=int, default=2)
    s.add_argument("--chunks", type=int, default=1)
    s.add_argument("--chunk-pause", type=float, default=0.0)
    s.add_argument("--max", type=int, default=0)
    s.add_argument("--tag", default="", help="tells apart the messages of several senders")
    s.add_argument("--timeout", type=float, default=30)
    c = sub.add_parser("check")
    c.add_argument("--manifest", required=True)
    c.add_argument("--strict", action="store_true")
    c.add_argument("spool", nargs="+")
    a = p.parse_args()
    sys.exit(send(a) if a.cmd == "send" else check(a))


if __name__ == "__main__":
    main()
