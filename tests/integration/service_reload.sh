#!/usr/bin/env bash
# Backend reload on SIGHUP (issue 7): Bulwark starts with backend "lab"
# (the lab's recorder on :25) only; a steady legit load runs (4 smtplib
# threads); the test rewrites the config to backend "b" only (a second
# recorder on :26) and sends SIGHUP; the load goes on. Then: zero failed
# sessions, every message in exactly one spool (sha256), "b" got mail
# after the reload and "lab" before it. Then a broken file and a change
# that needs a restart: logged, nothing changes, mail still flows to "b".
# Last, the telemetry command /bulwark/reload on a lab with telemetry on.
. "$(dirname "$0")/relay_lib.sh"

relay_up it_sv_rl --backend record
conf=$BULWARK_STATE/bulwark.conf
grep -q '{ name = "lab"; address = "198.19.0.10"; port = 25;' "$conf" ||
	{ fail "the lab config has no backend \"lab\" line to replace"; finish; }
spool_b=$RELAY_TMP/spool_b
rm -f "$RELAY_TMP/b.ready"
bexec "$PY" "$root/tests/integration/recorder.py" --listen 198.19.0.10:26 --spool "$spool_b" \
	--proxy v2 --ready-file "$RELAY_TMP/b.ready" 2>"$RELAY_TMP/b.log" &
RELAY_PIDS+=("$!")
for ((i = 0; i < 50; i++)); do
	[[ -f $RELAY_TMP/b.ready ]] && break
	sleep 0.1
done
[[ -f $RELAY_TMP/b.ready ]] || { fail "the second recorder did not start"; finish; }

man=$RELAY_TMP/manifest
stop=$RELAY_TMP/stop
cli "$PY" "$root/tests/integration/svload.py" send "$BULWARK_ADDR" --manifest "$man" \
	--stop "$stop" --threads 4 --per-session 3 &
load=$!
RELAY_PIDS+=("$load")
sleep 3
before=$(stored)
((before > 0)) && ok "load flows to backend \"lab\" ($before stored)" || fail "nothing reached \"lab\" before the reload"

sed -i 's/{ name = "lab"; address = "198.19.0.10"; port = 25;/{ name = "b"; address = "198.19.0.10"; port = 26;/' "$conf"
t_hup=$(date +%s.%N)
kill -HUP "$BULWARK_PID"
sleep 4
touch "$stop"
wait "$load" || fail "the load generator failed"

out=$("$PY" "$root/tests/integration/svload.py" check --strict --manifest "$man" \
	"$BACKEND_SPOOL" "$spool_b" 2>&1) && ok "zero failed sessions, every message stored exactly once: ${out%%$'\n'*}" ||
	fail "reload under load lost or failed messages" "$out"
n_b=$(find "$spool_b" -maxdepth 1 -name '*.json' | wc -l)
((n_b > 0)) && ok "backend \"b\" received $n_b message(s) after the reload" || fail "\"b\" got nothing after the reload"
late=$("$PY" - "$BACKEND_SPOOL" "$t_hup" <<'PY'
import glob, os, sys
# messages "lab" stored more than 2 s after the SIGHUP: new sessions must
# go to "b" at once; only sessions open at the swap may still end on "lab"
print(sum(1 for f in glob.glob(sys.argv[1] + "/*.json") if os.path.getmtime(f) > float(sys.argv[2]) + 2))
PY
)
((late == 0)) && ok "... and \"lab\" none from 2 s after it" || fail "\"lab\" stored $late message(s) long after the reload"
log=$(cat "$BULWARK_LOG")
expect "the reload is logged: relay swap, backend retired with live sessions on it (kept to their end), done" "$log" \
	'event=backend_reload backends=1' 'event=relay_reload relay=0 backends=1 kept=0 added=1 removed=1' \
	'event=backend_retired relay=0 backend=lab sessions=[1-9]' 'event=backend_reload_done backends=1'
reject "... with nothing that needs a restart" "$log" 'event=reload_needs_restart'

# a broken file: logged with file:line, nothing changes
cp "$conf" "$RELAY_TMP/good.conf"
printf 'bogus_key = 1;\n' >>"$conf"
kill -HUP "$BULWARK_PID"
sleep 1
expect "a broken config on SIGHUP is logged with file and line" "$(cat "$BULWARK_LOG")" \
	'event=reload_failed msg=".*bulwark\.conf:[0-9]+: .*bogus_key'
# a change that needs a restart beside a valid backend set: logged, ignored
cp "$RELAY_TMP/good.conf" "$conf"
sed -i 's/drain_ms = 5000;/drain_ms = 6000;/' "$conf"
kill -HUP "$BULWARK_PID"
sleep 1
expect "a restart-only change is logged and ignored" "$(cat "$BULWARK_LOG")" \
	'event=reload_needs_restart key=limits'
n0=$n_b
out=$(smtpc --pause 0.1 --idle 3 'EHLO client.example\r\n' 'MAIL FROM:<after@example.org>\r\n' \
	'RCPT TO:<r@example.org>\r\n' 'DATA\r\n' 'Subject: after\r\n\r\nbody\r\n.\r\n' 'QUIT\r\n')
expect "... mail still flows" "$out" '^250 2\.0\.0'
n_b=$(find "$spool_b" -maxdepth 1 -name '*.json' | wc -l)
((n_b == n0 + 1)) && ok "... to backend \"b\"" || fail "\"b\" has $n_b messages, expected $((n0 + 1))"
status=$(stop_bulwark)
[[ $status == 0 ]] && ok "bulwark exited 0" || fail "bulwark exit status: $status"
expect "the relay counted one backend swap" "$(cat "$BULWARK_LOG")" 'event=relay_stats relay=0 .*reloads=1 retired=0'

# the telemetry command /bulwark/reload does what SIGHUP does (a lab with
# the telemetry socket on: lab.conf without --no-telemetry)
tconf=$RELAY_TMP/tele.conf
sed 's/"--no-telemetry", //' "$root/config/lab.conf" >"$tconf"
relay_up it_sv_tl --config "$tconf" --backend record
sed -i 's/^\tring_size = 1024;/&\n\tbalance = "least-connections";/' "$BULWARK_STATE/bulwark.conf"
grep -q 'balance = "least-connections";' "$BULWARK_STATE/bulwark.conf" || fail "no relay.ring_size line to add balance after"
out=$(echo /bulwark/reload | timeout 10 dpdk-telemetry.py -f "bw-lab-$LAB_NAME" 2>&1 | tail -n 3)
expect "/bulwark/reload answers on the telemetry socket" "$out" '"/bulwark/reload": \{"reload": "queued'
sleep 1
expect "... and the relay takes the new knobs, the backend kept" "$(cat "$BULWARK_LOG")" \
	'event=relay_reload relay=0 backends=1 kept=1 added=0 removed=0' 'event=backend_reload_done backends=1'
finish
