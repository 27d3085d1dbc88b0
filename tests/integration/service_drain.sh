#!/usr/bin/env bash
# SIGTERM under load loses no message (issue 7): relayed sessions are
# mid-DATA (bodies written in 8 pieces 0.25 s apart) and others queue
# behind them when Bulwark gets SIGTERM; one more session dribbles its
# body over 40 s, past limits.drain_ms (5000 in lab.conf). Then: every
# message the client saw 250 for is in the spool exactly once; every
# message not in the spool got a non-2xx or a dropped connection before
# its 250 (the client knows to retry); messages that were mid-DATA at the
# signal were completed during the drain; the drain ended at its deadline
# (the dribbling session) and Bulwark exited 0.
. "$(dirname "$0")/relay_lib.sh"

relay_up it_sv_dr --backend record
man=$RELAY_TMP/manifest
slow=$RELAY_TMP/slow
stop=$RELAY_TMP/stop
load() {
	cli "$PY" "$root/tests/integration/svload.py" send "$BULWARK_ADDR" --stop "$stop" --timeout 10 "$@" &
	RELAY_PIDS+=("$!")
}
load --tag a --manifest "$man" --threads 3 --per-session 2 --chunks 8 --chunk-pause 0.25
load --tag b --manifest "$man" --threads 2 --per-session 3
load --tag c --manifest "$slow" --threads 1 --per-session 1 --chunks 40 --chunk-pause 1 --max 1
sleep 3
t_term=$(date +%s.%N)
kill -TERM "$BULWARK_PID"
for ((i = 0; i < 150; i++)); do
	[[ -f $BULWARK_STATE/exit ]] && break
	sleep 0.1
done
t_exit=$(date +%s.%N)
touch "$stop"
for pid in "${RELAY_PIDS[@]}"; do
	[[ $pid == "$BACKEND_PID" ]] && continue
	wait "$pid" 2>/dev/null || true
done
status=$(cat "$BULWARK_STATE/exit" 2>/dev/null || echo none)
[[ $status == 0 ]] && ok "bulwark exited 0 after the drain" || fail "bulwark exit status: $status"

out=$("$PY" "$root/tests/integration/svload.py" check --manifest "$man" "$BACKEND_SPOOL" 2>&1) &&
	ok "every message that got 250 is stored exactly once: ${out%%$'\n'*}" ||
	fail "a message the client saw 250 for is missing or doubled" "$out"
res=$("$PY" - "$man" "$slow" "$BACKEND_SPOOL" "$t_term" <<'PY'
import glob, json, sys
man, slow, spool, t = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
stored = {json.load(open(f))["sha256"] for f in glob.glob(spool + "/*.json")}
recs = [json.loads(l) for l in open(man)] + [json.loads(l) for l in open(slow)]
msgs = [r for r in recs if "sha256" in r]
# not stored => the client did not see 250 (else that is a lost message)
lost = [r["id"] for r in msgs if r["sha256"] not in stored and r["result"] == "ok"]
# begun before the signal, ended with 250 after it: completed by the drain
drained = sum(1 for r in msgs if r["result"] == "ok" and r["t"] < t < r["t_end"])
slowr = [json.loads(l) for l in open(slow)]
slow_ok = [r for r in slowr if "sha256" in r and r["result"] == "ok"]
slow_stored = [r for r in slowr if "sha256" in r and r["sha256"] in stored]
print("lost=%d drained=%d slow=%d slow_ok=%d slow_stored=%d" % (
    len(lost), drained, len([r for r in slowr if "sha256" in r]), len(slow_ok), len(slow_stored)))
PY
)
expect "no lost message; sessions mid-DATA at the signal got their 250 during the drain ($res)" "$res" \
	'lost=0 drained=[1-9]'
expect "the session past the deadline got no 250 and stored nothing" "$res" 'slow=1 slow_ok=0 slow_stored=0'
log=$(cat "$BULWARK_LOG")
expect "the drain ended at limits.drain_ms (5000) with the dribbling session left" "$log" \
	'event=drain_start drain_ms=5000' 'event=drain_end reason=timeout sessions_left=[1-9]' \
	'event=exit status=0'
el=$(grep -o 'event=drain_end .*elapsed_ms=[0-9]*' <<<"$log" | grep -o '[0-9]*$')
((el >= 5000 && el < 5600)) && ok "... after ${el} ms" || fail "drain took ${el} ms, not 5000..5600"
took=$("$PY" -c "print(int((float('$t_exit') - float('$t_term')) * 1000))")
((took < 7500)) && ok "bulwark was gone ${took} ms after SIGTERM" || fail "bulwark took ${took} ms to exit"
finish
