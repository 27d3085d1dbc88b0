#!/usr/bin/env bash
# 1000 sessions open at the same moment (asserted: all hold their 220 at
# once) all get 220, then 221 and a close. Variant 2w: every flow stays on
# one worker (no RST from a worker that does not know the flow) and each
# worker carries at least 30% of them. Variant fault: the faults happened.
. "$(dirname "$0")/lib.sh"
lab_up it_conc

n=${BULWARK_CONC_SESSIONS:-1000}
rc=0
out=$(cli "$PY" "$root/tests/integration/conc.py" "$BULWARK_ADDR" "$n" 2>&1) || rc=$?
echo "$out"
expect "$n concurrent sessions: 220 then 221" "$out" \
	"^sessions=$n got_220=$n got_221=$n closed=$n max_open=$n "
((rc == 0)) || { fails=$((fails + 1)); echo "FAIL conc.py exited $rc"; }

status=$(stop_bulwark)
[[ $status == 0 ]] || { fails=$((fails + 1)); echo "FAIL bulwark exit status: $status"; }
stats=$(grep -E 'event=(worker|net|fault)_stats' "$BULWARK_LOG" || true)
sed -e 's/^ts=[^ ]* level=[a-z]* //' <<<"$stats"
case $variant in
2w)
	STATS=$stats "$PY" - "$n" <<'PY' || fails=$((fails + 1))
import os, re, sys
n = int(sys.argv[1])
text = os.environ["STATS"]
acc = [int(x) for x in re.findall(r"event=worker_stats worker=\d+ lcore=\d+ accepted=(\d+)", text)]
rst = sum(int(x) for x in re.findall(r"event=net_stats .* tcp_rst_out=(\d+)", text))
ok = len(acc) == 2 and sum(acc) == n and min(acc) >= 0.3 * n and rst == 0
print(("ok  " if ok else "FAIL") + " two workers: accepted %s of %d (each >= 30%%), RST sent %d" % (acc, n, rst))
sys.exit(0 if ok else 1)
PY
	;;
fault)
	expect "faults were injected both ways" "$stats" 'rx_dropped=[1-9]' 'rx_reordered=[1-9]' \
		'rx_duplicated=[1-9]' 'tx_dropped=[1-9]' 'tx_reordered=[1-9]' 'tx_duplicated=[1-9]'
	;;
esac
finish
