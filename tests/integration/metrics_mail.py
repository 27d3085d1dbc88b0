#!/usr/bin/python3
"""metrics_mail.py ADDR N — N legit sessions through Bulwark with smtplib
(tests/integration/metrics.sh): EHLO legitK.example, MAIL, RCPT, DATA, QUIT,
message K of K+1 body lines. Prints one JSON line: the queue id from each
250 to the final dot, and the DATA bytes on the wire (body + ".\\r\\n": the
bodies end in CRLF and have no line starting with a dot). Exits 1 when a
session does not end in 250/221.
"""
import json
import smtplib
import sys


def main():
    addr, n = sys.argv[1], int(sys.argv[2])
    qids, nbytes = [], 0
    for i in range(n):
        body = "Subject: metrics %d\r\n\r\n" % i
        body += "".join("line %d of message %d\r\n" % (j, i) for j in range(i + 1))
        s = smtplib.SMTP(addr, 25, local_hostname="legit%d.example" % i, timeout=20)
        s.ehlo()
        s.mail("s%d@example.org" % i)
        s.rcpt("r@example.org")
        code, resp = s.data(body.encode())
        if code != 250:
            print("message %d: %d %r" % (i, code, resp), file=sys.stderr)
            return 1
        qids.append(resp.decode().split()[-1])
        code, _ = s.quit()
        if code != 221:
            print("session %d: QUIT got %d" % (i, code), file=sys.stderr)
            return 1
        nbytes += len(body) + 3
    print(json.dumps({"qids": qids, "bytes": nbytes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
