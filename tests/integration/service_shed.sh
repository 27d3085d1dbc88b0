#!/usr/bin/env bash
# Memory-pressure shedding (issue 7): a session pool of 20 (shed_at 50%,
# shed_critical_at 90%, shed_timeout_ms 2000) filled by idle connections
# while one relayed session streams its body slowly (6 s). Junk goes
# first: idle sessions are cut after 2 s instead of 5 min, a typo closes
# at once (error_limit 1), and at critical pressure a new connection reads
# 421 4.3.2 instead of the greeting; the relayed session is never touched
# and its message is delivered. When the pressure falls, the sessions
# left get the normal limits back. tests/integration/svshed.py drives it.
. "$(dirname "$0")/relay_lib.sh"

conf=$RELAY_TMP/shed.conf
sed -e 's/sessions = 4096;/sessions = 20;\n\tshed_at = 50;\n\tshed_critical_at = 90;\n\tshed_timeout_ms = 2000;/' \
	"$root/config/lab.conf" >"$conf"
grep -q 'shed_at = 50;' "$conf" || { fail "lab.conf has no 'sessions = 4096;' to replace"; finish; }
relay_up it_sv_sh --config "$conf" --backend record
out=$(cli "$PY" "$root/tests/integration/svshed.py" "$BULWARK_ADDR")
echo "$out" | sed 's/^/     /'
expect "the relayed session completes while everything around it is shed" "$out" \
	'^relayed=220 .* \| 250 .* \| 250 .* \| 250 .* \| 354 .* \| 250 2\.0\.0 .* \| 221 '
(($(stored) == 1)) && ok "... and its message is stored" || fail "the backend stored $(stored) messages, not 1"
expect "shedding: a typo closes the session at once (421 4.7.0, error_limit 1)" "$out" \
	'^typo=220 .* \| 421 4\.7\.0 .* \| closed$'
expect "shedding, not critical: a new connection still gets its greeting" "$out" '^shedding_greet=220 '
expect "critical: a new connection reads 421 4.3.2 and a close instead of the greeting" "$out" \
	'^critical=421 4\.3\.2 bulwark\.lab All servers busy.* \| closed$'
# the 12 idle sessions of the first wave: cut 2 s after their greeting
n=$(grep -cE '^idle(0[0-9]|1[01])=220 .* \| 421 4\.4\.2 .* \| after=[0-2]\.[0-9]$' <<<"$out" || true)
((n == 12)) && ok "the 12 idle sessions open when shedding began were cut with 421 4.4.2 at shed_timeout_ms" ||
	fail "$n of 12 idle sessions were cut within shed_timeout_ms"
# the 5 of the second wave: once the first were gone the pressure fell
# below shed_at - 5 and they went back to the normal 5-minute timeout
n=$(grep -cE '^idle1[2-6]=220 .* \| still open \| after=' <<<"$out" || true)
((n == 5)) && ok "the 5 later ones got the normal limits back when the pressure fell" ||
	fail "$n of the 5 later idle sessions stayed open after the pressure fell"
status=$(stop_bulwark)
[[ $status == 0 ]] && ok "bulwark exited 0" || fail "bulwark exit status: $status"
log=$(cat "$BULWARK_LOG")
expect "the levels and the counters are logged" "$log" 'event=shed worker=0 level=1 was=0' \
	'event=shed worker=0 level=2 ' 'event=shed worker=0 level=0 ' \
	'event=worker_shed_stats worker=0 level=0 enter=[1-9][0-9]* tuned=[1-9][0-9]* cut=14 refused=1 '
finish
