#!/usr/bin/python3
"""limits.py — the per-client limits, lists and reload scenario of
tests/integration/limits.sh, run in the lab's client namespace (Linux's
TCP), whose veth carries the extra addresses .3 .4 .5 of 198.18.1.0/24.

  limits.py ADDR PID LOG CONF ALLOW DENY

Prints one line per step: "ok   what" or "FAIL what: got ...". Bulwark's
config (CONF, the lab's copy) starts with client_limits.sessions = 2,
action "reply", ALLOW = 198.18.1.4, DENY = 198.18.1.5.
"""
import os
import re
import signal
import socket
import sys
import time

import checks
from checks import done, report

ADDR, PID, LOG, CONF, ALLOW, DENY = sys.argv[1], int(sys.argv[2]), *sys.argv[3:7]
A2, A3, A4, A5 = "198.18.1.2", "198.18.1.3", "198.18.1.4", "198.18.1.5"


def conn(src, timeout=5.0):
    return checks.conn(ADDR, src, timeout)


def line(s):
    got = b""
    while not got.endswith(b"\n"):
        c = s.recv(4096)
        if not c:
            break
        got += c
    return got.decode("latin-1").strip()


def closed(s, wait=3.0):
    """True when the server closes s (EOF or reset) within wait."""
    s.settimeout(wait)
    try:
        while True:
            c = s.recv(4096)
            if not c:
                return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def greet(src):
    s = conn(src)
    return s, line(s)


def hup_and_wait(gen):
    """SIGHUP, then wait for event=policy_reload generation=gen in the log
    (and for the old policy to be freed: event=policy_freed)."""
    with open(LOG, "rb") as f:
        start = len(f.read())
    os.kill(PID, signal.SIGHUP)
    want = re.compile(rb"event=policy_reload generation=%d " % gen)
    freed = re.compile(rb"event=policy_freed freed=1")
    t0 = time.time()
    while time.time() - t0 < 10:
        with open(LOG, "rb") as f:
            tail = f.read()[start:]
        if want.search(tail) and freed.search(tail):
            return True
        time.sleep(0.05)
    return False


def set_conf(**kv):
    text = open(CONF).read()
    text = re.sub(r"\nclient_limits = \{[^}]*\};\n", "\n", text)
    kv.setdefault("table_size", 1024)
    body = " ".join("%s = %s;" % (k, v) for k, v in kv.items())
    text += "\nclient_limits = { %s };\n" % body
    open(CONF, "w").write(text)


LIMIT = r"^421 4\.7\.0 bulwark\.lab Error: too many connections from your address$"
DENIED = r"^554 5\.7\.1 bulwark\.lab Error: access denied$"
GREET = r"^220 bulwark\.lab ESMTP$"

# 1. concurrent sessions: two from .2 are served, the third gets 421 4.7.0
#    and a close, while .3 is served meanwhile
held = [greet(A2) for _ in range(2)]
report(all(re.match(GREET, g) for _, g in held), "two sessions from .2 greeted",
       [g for _, g in held])
s, g = greet(A2)
report(re.match(LIMIT, g) is not None, "third session from .2 gets 421 4.7.0", g)
report(closed(s), "... and is closed")
s.close()
s3, g = greet(A3)
report(re.match(GREET, g) is not None, ".3 is served while .2 is at its limit", g)
s3.sendall(b"EHLO three.example\r\nNOOP\r\n")
r = s3.recv(4096).decode("latin-1")
while "250 2.0.0 OK" not in r:
    c = s3.recv(4096).decode("latin-1")
    if not c:
        break
    r += c
report("250 2.0.0 OK" in r, ".3's session works", r)
# one of .2's sessions ends: .2 may open one again
held[0][0].sendall(b"QUIT\r\n")
closed(held[0][0])
held[0][0].close()
time.sleep(0.2)
s, g = greet(A2)
report(re.match(GREET, g) is not None, ".2 below its limit again after a QUIT", g)
held[0] = (s, g)

# 2. the allow list bypasses the limit
allowed = [greet(A4) for _ in range(4)]
report(all(re.match(GREET, g) for _, g in allowed), "allow-listed .4 has 4 sessions",
       [g for _, g in allowed])
for s, _ in allowed:
    s.close()

# 3. the deny list: 554 5.7.1 instead of the greeting, then a close
s, g = greet(A5)
report(re.match(DENIED, g) is not None, "deny-listed .5 gets 554 5.7.1", g)
report(closed(s), "... and is closed")
s.close()

# 4. reload: .3 goes on the deny list, .5 off it; .3's open session lives on
with open(DENY, "w") as f:
    f.write("# reloaded\n198.18.1.3/32\n")
report(hup_and_wait(2), "SIGHUP: policy generation 2 published, old one freed")
s, g = greet(A3)
report(re.match(DENIED, g) is not None, "new session from .3 now gets 554 5.7.1", g)
s.close()
s, g = greet(A5)
report(re.match(GREET, g) is not None, ".5 is served after the reload", g)
s.close()
s3.sendall(b"NOOP\r\n")
r = line(s3)
report(r == "250 2.0.0 OK", ".3's session opened before the reload still works", r)
s3.sendall(b"QUIT\r\n")
report(line(s3).startswith("221 "), "... and ends with 221")
s3.close()

# 5. a broken list keeps the old policy (the error names file:line)
with open(DENY, "w") as f:
    f.write("198.18.1.3/32\n198.18.1.300\n")
with open(LOG, "rb") as f:
    start = len(f.read())
os.kill(PID, signal.SIGHUP)
time.sleep(1.0)
with open(LOG, "rb") as f:
    tail = f.read()[start:].decode("latin-1")
report(re.search(r"event=policy_reload_failed generation=2 msg=.*lists\.deny: %s:2: "
                 r"198\.18\.1\.300: bad octet" % re.escape(DENY), tail) is not None,
       "a bad deny list is refused with its file:line", tail.strip())
s, g = greet(A3)
report(re.match(DENIED, g) is not None, "... and the old lists stay in force", g)
s.close()

# 6. the rate limit, reloaded: 2 new sessions per second from .5
with open(DENY, "w") as f:
    f.write("198.18.1.3/32\n")
set_conf(rate=2)
report(hup_and_wait(3), "SIGHUP: client_limits.rate = 2 published")
got = []
for _ in range(3):
    s, g = greet(A5)
    got.append(g)
    s.close()
report(re.match(GREET, got[0]) and re.match(GREET, got[1]) and re.match(LIMIT, got[2]),
       "rate 2/s: the third quick session from .5 gets 421 4.7.0", got)
s, g = greet(A4)
report(re.match(GREET, g) is not None, "... while allow-listed .4 is served", g)
s.close()

# 7. the error budget, reloaded: 2 errors per minute; a non-SMTP first line
#    (500 5.5.2 and a close) costs one, so .5's third session is refused
set_conf(errors_per_min=2)
report(hup_and_wait(4), "SIGHUP: client_limits.errors_per_min = 2 published")
got = []
for _ in range(3):
    s, g = greet(A5)
    if g.startswith("220 "):
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        g += " | " + line(s)
        closed(s)
    got.append(g)
    s.close()
    time.sleep(0.1)
report(re.search(r"\| 500 5\.5\.2 ", got[0]) and re.search(r"\| 500 5\.5\.2 ", got[1]) and
       re.match(LIMIT, got[2]), "errors_per_min 2: after two junk sessions .5 gets 421 4.7.0", got)
s, g = greet(A2)
report(re.match(GREET, g) is not None, "... while .2 is served", g)
s.close()

# 8. drop mode: the SYN over the limit is never answered
for s, _ in held:
    s.close()
time.sleep(0.3)
set_conf(sessions=1, action='"drop"')
report(hup_and_wait(5), "SIGHUP: sessions = 1, action = drop published")
h, g = greet(A2)
report(re.match(GREET, g) is not None, "first session from .2 greeted", g)
try:
    s = conn(A2, timeout=3.0)
    report(False, "second SYN from .2 unanswered", "connected: " + line(s))
    s.close()
except socket.timeout:
    report(True, "second SYN from .2 unanswered (connect timed out)")
s, g = greet(A4)
report(re.match(GREET, g) is not None, "... while .4 is served", g)
s.close()
h.close()

done()
