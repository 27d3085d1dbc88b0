#!/usr/bin/env bash
# A pipelining client that does not read (small receive buffer): Bulwark's
# send buffer fills, the replies that do not fit are parked and the session
# stops reading until they left. Every reply must arrive, once, in order.
. "$(dirname "$0")/lib.sh"
lab_up it_bp

n=3000
out=$(smtpc --rcvbuf 2048 --pause 0.5 --idle 3 'EHLO client.example\r\n' "@$n*NOOP\\r\\n" 'QUIT\r\n')
got=$(grep -c '^250 2\.0\.0 OK$' <<<"$out" || true)
if ((got == n)); then
	echo "ok   $n pipelined NOOPs, $got replies"
else
	fails=$((fails + 1))
	echo "FAIL $n pipelined NOOPs: $got replies"
fi
expect "then 221 and a close, nothing else" "$(grep -v '^250' <<<"$out")" \
	'^220 ' '^221 2\.0\.0 bulwark\.lab closing$' '^CLOSED$'
reject "no other reply" "$(grep -v '^250' <<<"$out")" '^[0-9]{3} .*(Error|421)'

# the same, ending with a half-close instead of QUIT: every command sent
# before the FIN is still answered, then Bulwark closes too
out=$(smtpc --rcvbuf 2048 --pause 0.5 --idle 3 --shutdown 'EHLO client.example\r\n' "@$n*NOOP\\r\\n")
got=$(grep -c '^250 2\.0\.0 OK$' <<<"$out" || true)
if ((got == n)); then
	echo "ok   $n pipelined NOOPs then FIN, $got replies"
else
	fails=$((fails + 1))
	echo "FAIL $n pipelined NOOPs then FIN: $got replies"
fi
expect "... then Bulwark closes" "$out" '^CLOSED$'

kill -TERM "$BULWARK_PID"
for ((i = 0; i < 100; i++)); do
	[[ -f $BULWARK_STATE/exit ]] && break
	sleep 0.1
done
stats=$(grep 'event=worker_stats' "$BULWARK_LOG" || true)
expect "replies were parked, none lost, the FIN counted" "$stats" 'parked=[1-9]' 'park_lost=0 ' 'peer_fin=1 '
finish
