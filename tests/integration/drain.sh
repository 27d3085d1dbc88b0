#!/usr/bin/env bash
# SIGTERM: graceful drain (DESIGN §3). A session in the middle of a command
# keeps Bulwark draining; meanwhile a new connection completes its handshake
# and reads 421 4.3.2; the busy session is closed at its next command; then
# Bulwark exits 0.
. "$(dirname "$0")/lib.sh"
lab_up it_drain

# the busy session: a command line without its end, held open by a
# client that finishes it 2 s later
cli "$PY" "$root/tests/integration/client.py" "$BULWARK_ADDR" --idle 3 \
	'EHLO client.example\r\n' 'NOOP' '@pause:2' '\r\n' >"$BULWARK_STATE/busy.out" 2>&1 &
busy=$!
sleep 0.7

kill -TERM "$BULWARK_PID"
sleep 0.3
out=$(smtpc --idle 3)
expect "a new connection during the drain gets 421 4.3.2 and a close" "$out" \
	'^421 4\.3\.2 bulwark\.lab Service shutting down$' '^CLOSED$'
reject "... and no greeting" "$out" '^220 '

wait "$busy" || true
out=$(cat "$BULWARK_STATE/busy.out")
expect "the busy session ends with 421 4.3.2 at its next command" "$out" \
	'^250 ENHANCEDSTATUSCODES$' '^421 4\.3\.2 ' '^CLOSED$'

for ((i = 0; i < 100; i++)); do
	[[ -f $BULWARK_STATE/exit ]] && break
	sleep 0.1
done
status=$(cat "$BULWARK_STATE/exit" 2>/dev/null || echo none)
if [[ $status == 0 ]]; then
	echo "ok   bulwark exited 0"
else
	fails=$((fails + 1))
	echo "FAIL bulwark exit status: $status"
fi
expect "drain logged" "$(cat "$BULWARK_LOG")" 'event=drain_start' 'event=drain_end reason=quiet' \
	'event=worker_stats .*close_shutdown=2' 'event=exit status=0'
finish
