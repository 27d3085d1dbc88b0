#!/usr/bin/env bash
# Per-client limits, allow/deny lists and their reload (issue 7) against the
# lab: a client over its concurrent-session or rate limit gets 421 4.7.0
# while other addresses are served; the allow list bypasses the limit; the
# deny list answers 554 5.7.1; SIGHUP swaps the lists and limits without
# touching an open session, and a broken list keeps the old ones; with
# action = "drop" the SYN over the limit is never answered. The scenario is
# tests/integration/limits.py, run in the client namespace with three more
# addresses (198.18.1.3-5) on its veth.
. "$(dirname "$0")/lib.sh"

lists=$(mktemp -d /tmp/bulwark-lm-XXXXXX)
conf=$(mktemp /tmp/bulwark-lm-XXXXXX.conf)
cleanup_lm() { rm -rf "$lists" "$conf"; }
# lab_down reads the exit status from $?: hand it on
trap 'rc=$?; cleanup_lm; (exit $rc); lab_down' EXIT
echo "198.18.1.4/32 # allowed" >"$lists/allow.txt"
printf '# denied\n198.18.1.5\n' >"$lists/deny.txt"
# telemetry on (lab.conf turns it off): /bulwark/reload is tested too
sed -e 's/"--no-telemetry", //' "$root/config/lab.conf" >"$conf"
grep -q -- '--no-telemetry' "$conf" && { echo "FAIL cannot turn telemetry on"; exit 1; }
cat >>"$conf" <<CONF

client_limits = { sessions = 2; action = "reply"; table_size = 1024; };
lists = { allow = "$lists/allow.txt"; deny = "$lists/deny.txt"; };
CONF
chmod 0644 "$conf" "$lists"/*.txt
chmod 0755 "$lists"

# --check-config reads the lists: a bad line is named with its file:line
printf '198.18.1.5\n10.0.0.1/8\n' >"$lists/bad.txt"
sed "s|$lists/deny.txt|$lists/bad.txt|" "$conf" >"$lists/bad.conf"
out=$("${BULWARK_BIN:-$root/build/release/bulwark}" -c "$lists/bad.conf" --check-config 2>&1) && rc=0 || rc=$?
expect "--check-config: a bad deny list fails with file:line" "$out rc=$rc" \
	"lists\.deny: $lists/bad\.txt:2: 10\.0\.0\.1/8: host bits set" 'rc=1$'
out=$("${BULWARK_BIN:-$root/build/release/bulwark}" -c "$conf" --check-config 2>&1) && rc=0 || rc=$?
expect "--check-config: the test's config is valid" "$out rc=$rc" 'ok rc=0$'

LAB_NAME=it_lm
out=$("$root/tools/lab" up --name "$LAB_NAME" --config "$conf")
eval "$out"
echo "lab $LAB_NAME up: bulwark pid $BULWARK_PID at $BULWARK_ADDR"

for a in 3 4 5; do
	ip netns exec "$CLIENT_NS" ip addr add "198.18.1.$a/24" dev "bwc-$LAB_NAME"
done

out=$(cli "$PY" "$root/tests/integration/limits.py" "$BULWARK_ADDR" "$BULWARK_PID" \
	"$BULWARK_LOG" "$BULWARK_STATE/bulwark.conf" "$lists/allow.txt" "$lists/deny.txt" 2>&1 || true)
echo "$out"
expect "limits scenario" "$out" '^fails=0$'
reject "limits scenario" "$out" '^FAIL '

# the telemetry command does what SIGHUP does (DPDK's own client)
sock=/var/run/dpdk/bw-lab-$LAB_NAME/dpdk_telemetry.v2
out=$("$PY" - "$sock" <<'PY' 2>&1 || true
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
json.loads(s.recv(4096))  # the greeting
s.send(b"/bulwark/reload")
print(s.recv(4096).decode())
PY
)
expect "telemetry /bulwark/reload answers" "$out" '"reload": *"queued'
for ((i = 0; i < 50; i++)); do
	grep -q 'event=policy_reload generation=6 ' "$BULWARK_LOG" && break
	sleep 0.1
done
expect "... and publishes generation 6" "$(grep 'event=policy_reload' "$BULWARK_LOG")" \
	'event=policy_reload generation=6 '

st=$(stop_bulwark)
expect "bulwark exits 0" "$st" '^0$'
expect "worker counters" "$(cat "$BULWARK_LOG")" 'denied=[1-9]' 'allowed=[1-9]' \
	'limit_sessions=[1-9]' 'limit_rate=[1-9]' 'limit_errors=[1-9]' 'limit_syn_dropped=[1-9]' \
	'close_limit=[1-9]' \
	'close_denied=[1-9]'
finish
