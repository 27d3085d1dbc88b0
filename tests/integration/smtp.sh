#!/usr/bin/env bash
# Well-behaved SMTP through the lab: greeting, EHLO, swaks, QUIT, and MAIL
# with no backend (the relay is issue 4: 421 4.3.0 and a close).
. "$(dirname "$0")/lib.sh"
lab_up it_smtp

out=$(smtpc)
expect "greeting 220" "$out" '^220 bulwark\.lab ESMTP$'

out=$(smtpc 'EHLO client.example\r\n')
expect "EHLO gets the 250 list" "$out" '^250-bulwark\.lab$' '^250-PIPELINING$' \
	'^250-8BITMIME$' '^250 ENHANCEDSTATUSCODES$' '^OPEN$'

out=$(smtpc 'EHLO client.example\r\n' 'NOOP\r\n' 'QUIT\r\n')
expect "QUIT gets 221 and a close" "$out" '^250 2\.0\.0 OK$' '^221 2\.0\.0 bulwark\.lab closing$' '^CLOSED$'

out=$(smtpc 'EHLO client.example\r\n' 'MAIL FROM:<a@example.org>\r\n')
expect "MAIL with no backend gets 421 4.3.0 and a close" "$out" \
	'^421 4\.3\.0 bulwark\.lab Service not available$' '^CLOSED$'

out=$(cli swaks --server "$BULWARK_ADDR" --port 25 --ehlo client.example --quit-after EHLO \
	--timeout 10 2>&1 || true)
expect "swaks --quit-after EHLO" "$out" '^<-  220 ' '^ -> EHLO client\.example' '^<-  250 ENHANCEDSTATUSCODES' \
	'^<-  221 '

out=$(cli swaks --server "$BULWARK_ADDR" --port 25 --ehlo client.example --from a@example.org \
	--to b@example.org --quit-after RCPT --timeout 10 2>&1 || true)
expect "swaks MAIL gets 421 4.3.0 (no relay yet)" "$out" '^<\*\* 421 4\.3\.0 '

finish
