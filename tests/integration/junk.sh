#!/usr/bin/env bash
# Junk and non-SMTP clients through the lab get the replies of the policy
# table (DESIGN §3): 500 and a close for non-SMTP, 500 and go on for bad lines.
. "$(dirname "$0")/lib.sh"
lab_up it_junk

rc=0
out=$(cli curl --http0.9 -s -m 10 "http://$BULWARK_ADDR:25/") || rc=$?
expect "curl --http0.9 prints a 500 line" "$out" '^500 5\.5\.2 Error: not an SMTP client'
if ((rc == 28)); then
	fails=$((fails + 1))
	echo "FAIL curl: timed out, the connection was not closed"
else
	echo "ok   curl: the connection was closed (curl rc $rc)"
fi

# a TLS ClientHello on port 25, no line end anywhere
out=$(smtpc --idle 3 '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x5b\x90\x9d\x9b\x72\x0b\xbc\x0c\xbc\x2b')
expect "TLS ClientHello: 500 5.5.2 and a close without a line end" "$out" \
	'^500 5\.5\.2 Error: not an SMTP client$' '^CLOSED$'

out=$(smtpc 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n')
expect "SSH banner: 500 and a close" "$out" '^500 5\.5\.2 Error: not an SMTP client$' '^CLOSED$'

out=$(smtpc '\x00\x00\x00\x00')
expect "NUL bytes first: 500 and a close" "$out" '^500 5\.5\.2 Error: not an SMTP client$' '^CLOSED$'

out=$(smtpc 'EHLO client.example\r\n' '@2000*A' '\r\n' 'NOOP\r\n')
expect "2000-byte line: 500 line too long, the session goes on" "$out" \
	'^500 5\.5\.2 Error: line too long$' '^250 2\.0\.0 OK$' '^OPEN$'

out=$(smtpc 'HLEO x\r\n' 'EHLO client.example\r\n' 'NOOP\r\n')
expect "HLEO x: 500 not recognized, the session goes on" "$out" \
	'^500 5\.5\.2 Error: command not recognized$' '^250 ENHANCEDSTATUSCODES$' '^250 2\.0\.0 OK$' '^OPEN$'

out=$(smtpc 'EHLO client.example\r\n' 'NO\x00OP\r\n' 'NOOP\r\n')
expect "NUL inside a later line: 500 invalid characters, the session goes on" "$out" \
	'^500 5\.5\.2 Error: invalid characters in command$' '^250 2\.0\.0 OK$' '^OPEN$'

out=$(smtpc 'EHLO client.example\r\n' 'NOOP\n' 'NOOP\r\n')
expect "bare LF: 500 invalid characters, the session goes on" "$out" \
	'^500 5\.5\.2 Error: invalid characters in command$' '^250 2\.0\.0 OK$' '^OPEN$'

out=$(smtpc 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
expect "HTTP request: 500 and a close" "$out" '^500 5\.5\.2 Error: not an SMTP client$' '^CLOSED$'

out=$(smtpc 'A\r\n' 'B\r\n' 'C\r\n' 'D\r\n' 'E\r\n')
expect "5th error: 421 4.7.0 too many errors and a close" "$out" \
	'^421 4\.7\.0 bulwark\.lab Error: too many errors$' '^CLOSED$'

finish
