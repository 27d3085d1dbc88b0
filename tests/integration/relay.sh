#!/usr/bin/env bash
# The relay end to end (issue 4, "Proof"): mail through Bulwark to the
# recording backend arrives byte-identical, with the client's real address
# told by PROXY v2, then by XCLIENT; a client's XCLIENT and a mid-session
# EHLO never reach the backend.
#
# RELAY_MESSAGES (smtplib messages, default 180; plus 2 pipelined with 100
# recipients), RELAY_SWAKS (default 10), RELAY_BIG (5 MiB messages, default
# 3) and RELAY_MEDIUM (1 MiB messages, default 4) make it shorter, e.g.
# under BULWARK_LAB_VARIANT=fault.
. "$(dirname "$0")/relay_lib.sh"
client=198.18.1.2
messages=${RELAY_MESSAGES:-180}
big=${RELAY_BIG:-3}
medium=${RELAY_MEDIUM:-4}
nswaks=${RELAY_SWAKS:-10}

relay_up it_rel --backend record --backend-proxy v2

# --- the envelope, as swaks sees it
out=$(cli swaks --server "$BULWARK_ADDR" --port 25 --ehlo client.example --from a@example.org \
	--to b@example.org --quit-after RCPT --timeout 30 2>&1 || true)
expect "swaks --quit-after RCPT: 220, EHLO, MAIL, RCPT, 221" "$out" '^<-  220 bulwark\.lab ESMTP' \
	'^<-  250 ENHANCEDSTATUSCODES' '^ -> MAIL FROM:<a@example\.org>' '^ -> RCPT TO:<b@example\.org>' '^<-  221 '
n=$(grep -c '^<-  250 ' <<<"$out" || true)
((n == 3)) && ok "... 250 to EHLO, MAIL and RCPT" || fail "... $n final 250 replies, not 3 (EHLO, MAIL, RCPT)" "$out"
reject "... the backend's greeting and EHLO reply never shown" "$out" 'recorder\.lab|SMTPUTF8|HELP'

# --- ~200 messages: smtplib on 4 sessions, 2 pipelined 100-recipient
# envelopes, swaks; then what the backend stored
t0=$SECONDS
out=$(cli "$PY" "$root/tests/integration/relay_mail.py" send "$BULWARK_ADDR" --manifest "$RELAY_TMP/v2.jsonl" \
	--sessions 4 --messages "$messages" --big "$big" --medium "$medium" --swaks "$nswaks" 2>&1) && ok "${out#ok   }" ||
	fail "sending through the relay" "$out"
echo "     ($((SECONDS - t0)) s)"
out=$("$PY" "$root/tests/integration/relay_mail.py" check "$BACKEND_SPOOL" --manifest "$RELAY_TMP/v2.jsonl" \
	--client "$client" --via proxy-v2 2>&1) && ok "${out##*ok   }" || fail "what the backend stored" "$out"

# --- a client's XCLIENT/XFORWARD: refused in every phase, never forwarded
out=$(smtpc --pause 0.3 --idle 3 'EHLO client.example\r\n' 'XCLIENT ADDR=1.2.3.4\r\n' \
	'MAIL FROM:<xc@example.org>\r\n' 'XCLIENT ADDR=1.2.3.4 PORT=1\r\n' 'XFORWARD ADDR=1.2.3.4\r\n' \
	'RCPT TO:<r@example.org>\r\n' 'QUIT\r\n')
n=$(grep -c '^550 5\.7\.0' <<<"$out" || true)
((n == 3)) && ok "client XCLIENT (before and after MAIL) and XFORWARD: 550 5.7.0" ||
	fail "client XCLIENT/XFORWARD: $n replies 550 5.7.0, not 3" "$out"
expect "... the session goes on: MAIL, RCPT, QUIT" "$out" '^250 2\.1\.0' '^250 2\.1\.5' '^221 '
raw=$(rawcmds)
reject "... the backend never received XCLIENT, XFORWARD or 1.2.3.4" "$raw" 'XCLIENT|XFORWARD|1\.2\.3\.4'

# --- a mid-session EHLO: answered by Bulwark, the backend gets RSET
out=$(smtpc --pause 0.3 --idle 3 'EHLO first.example\r\n' 'MAIL FROM:<mid1@example.org>\r\n' \
	'RCPT TO:<r@example.org>\r\n' 'DATA\r\n' 'Subject: mid 1\r\n\r\none\r\n.\r\n' \
	'EHLO second.example\r\n' 'MAIL FROM:<mid2@example.org>\r\n' 'RCPT TO:<r@example.org>\r\n' \
	'DATA\r\n' 'Subject: mid 2\r\n\r\ntwo\r\n.\r\n' 'QUIT\r\n')
n=$(grep -c '^250-bulwark\.lab$' <<<"$out" || true)
m=$(grep -c '^250 2\.0\.0 ' <<<"$out" || true)
((n == 2 && m == 2)) && ok "mid-session EHLO: Bulwark's own 250 list, both messages accepted" ||
	fail "mid-session EHLO: $n EHLO replies from Bulwark, $m messages accepted (want 2, 2)" "$out"
reject "... the backend's EHLO reply never shown" "$out" 'recorder\.lab|SMTPUTF8'
c1=$(side mid1@example.org conn)
c2=$(side mid2@example.org conn)
if [[ -n $c1 && -n $c2 ]]; then
	rset=$(rawcmds "$c1" | awk '$2 == "data" { d = 1 } d && $2 == "cmd" && toupper($3) == "RSET" { print; exit }')
	[[ -n $rset ]] && ok "... the backend got RSET after the first message (connection $c1)" ||
		fail "... no RSET after the first message on backend connection $c1" "$(rawcmds "$c1")"
	if [[ $c1 == "$c2" ]]; then
		h=$(side mid2@example.org helo)
		[[ $h == first.example ]] && ok "... same backend connection: the backend still knows first.example" ||
			fail "... the backend was told EHLO '$h' for the second message"
	fi
else
	fail "mid-session EHLO: messages not stored (conns '$c1' '$c2')"
fi
bad=$(misplaced_ehlo)
[[ -z $bad ]] && ok "no client EHLO ever reached the backend (only the replay opening each connection)" ||
	fail "a client EHLO reached the backend mid-connection" "$bad"

# --- XCLIENT instead of PROXY
relay_up it_relx --backend record --backend-proxy none --backend-xclient
out=$(cli "$PY" "$root/tests/integration/relay_mail.py" send "$BULWARK_ADDR" --manifest "$RELAY_TMP/xc.jsonl" \
	--sessions 2 --messages 20 --big 0 --medium "$((medium < 2 ? medium : 2))" --swaks 2 2>&1) && ok "XCLIENT backend: ${out#ok   }" ||
	fail "XCLIENT backend: sending" "$out"
out=$("$PY" "$root/tests/integration/relay_mail.py" check "$BACKEND_SPOOL" --manifest "$RELAY_TMP/xc.jsonl" \
	--client "$client" --via xclient 2>&1) && ok "XCLIENT backend: ${out##*ok   }" ||
	fail "XCLIENT backend: what the backend stored" "$out"
out=$(smtpc --pause 0.3 --idle 3 'EHLO client.example\r\n' 'MAIL FROM:<xc2@example.org>\r\n' \
	'XCLIENT ADDR=1.2.3.4\r\n' 'QUIT\r\n')
expect "XCLIENT backend: a client's XCLIENT gets 550 5.7.0" "$out" '^550 5\.7\.0' '^221 '
raw=$(rawcmds)
expect "... the backend got the relay's XCLIENT with the client's address" "$raw" \
	" cmd XCLIENT .*ADDR=${client//./\\.}( |$)"
reject "... and never the client's" "$raw" '1\.2\.3\.4'
bad=$(misplaced_ehlo)
[[ -z $bad ]] && ok "... no client EHLO reached the backend" || fail "... a client EHLO reached the backend" "$bad"

finish
