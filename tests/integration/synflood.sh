#!/usr/bin/env bash
# A bounded SYN flood from off-link addresses through the lab (issue 3):
# 20 000 SYNs over 5 s from random sources in 198.19.128.0/17 and random
# ports (tests/integration/synflood.py, scapy, a raw socket in the client
# namespace) into a half-open table of 64 (lab variant "flood"), so SYN
# cookies carry nearly all of it. The SYN-ACKs go back through the lab
# namespace to the client namespace and die there in a blackhole route;
# nothing outside 198.18.0.0/15 is ever addressed. During the flood normal
# clients (Linux's TCP) complete EHLO/QUIT; afterwards an RST far outside
# the window is ignored and one inside it (not at RCV.NXT) draws a challenge
# ACK, the session goes on to 221. Bulwark's exit counters then show that
# the flood created no session (peak = 1, accepted = the real clients),
# that cookies were sent, and that the SYNs arrived.
export BULWARK_LAB_VARIANT=flood
. "$(dirname "$0")/lib.sh"

spoof_net=198.19.128.0/17 # off-link: the lab uses 198.18.0.0/24 and 198.18.1.0/24
count=${BULWARK_FLOOD_COUNT:-20000}
seconds=${BULWARK_FLOOD_SECONDS:-5}
helper=$root/tests/integration/synflood.py
flood_pid=
flood_out=$(mktemp /tmp/bulwark-synflood-XXXXXX.out)

stop_flood() {
	if [[ -n $flood_pid ]] && kill -0 "$flood_pid" 2>/dev/null; then
		kill -TERM "$flood_pid" 2>/dev/null || true
		wait "$flood_pid" 2>/dev/null || true
	fi
	flood_pid=
	rm -f "$flood_out"
}

"$PY" -c 'import scapy' 2>/dev/null || {
	echo "FAIL: Debian's python3-scapy is missing (tools/setup installs it)"
	exit 1
}

lab_up it_syn
# lab_down (EXIT trap) keeps the exit status it finds in $? (set +e: a
# failing "(exit $rc)" would end the trap under set -e)
trap 'rc=$?; stop_flood; set +e; (exit $rc); lab_down' EXIT
veth_cli=bwc-$LAB_NAME

# The SYN-ACKs to the spoofed sources: lab namespace -> client side -> blackhole.
ip -n "$LAB_NS" route add "$spoof_net" via 198.18.1.2
ip -n "$CLIENT_NS" route add blackhole "$spoof_net"
echo "routes: lab $(ip -n "$LAB_NS" route show "$spoof_net"); client $(ip -n "$CLIENT_NS" route show "$spoof_net")"

real=0 # sessions of real clients, all one after another
session() { # $1: what
	local out
	out=$(smtpc --idle 3 'EHLO client.example\r\n' 'QUIT\r\n' 2>&1) || true
	real=$((real + 1))
	expect "$1: 220, 250, 221 and a close" "$out" \
		'^220 bulwark\.lab' '^250 ENHANCEDSTATUSCODES$' '^221 2\.0\.0' '^CLOSED$'
}

session "before the flood"

# a simple command, not the cli function: $! is then the helper itself
# (tools/lab and ip netns exec both exec), which the trap can stop
"$root/tools/lab" exec --name "$LAB_NAME" "$PY" "$helper" flood "$BULWARK_ADDR" \
	--net "$spoof_net" --count "$count" --seconds "$seconds" >"$flood_out" 2>&1 &
flood_pid=$!
for ((i = 0; i < 300; i++)); do # building the packets takes a moment
	grep -q '^flood start' "$flood_out" && break
	kill -0 "$flood_pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q '^flood start' "$flood_out"; then
	echo "FAIL the flood did not start within 30 s:"
	cat "$flood_out"
	exit 1
fi
echo "flood: helper pid $flood_pid is $(readlink /proc/$flood_pid/exe 2>/dev/null)"
sleep 0.5
for n in 1 2 3; do
	session "during the flood ($n)"
	sleep 0.3
done
if kill -0 "$flood_pid" 2>/dev/null; then
	echo "ok   the flood was still running when the clients were done"
else
	fails=$((fails + 1))
	echo "FAIL the flood ended before the clients were done (raise BULWARK_FLOOD_SECONDS)"
fi
rc=0
wait "$flood_pid" || rc=$?
flood_pid=
fout=$(cat "$flood_out")
echo "$fout"
expect "flood: helper exit $rc" "$rc" '^0$'
sent=$(sed -n 's/^flood sent=\([0-9]*\).*/\1/p' <<<"$fout")
sent=${sent:-0}
expect "flood: at least 90% of $count SYNs left the raw socket ($sent)" \
	"$((sent * 10 >= count * 9))" '^1$'

# The SYN-ACKs came back to the client namespace, which forwards nothing:
# dropped there (Ip InAddrErrors; its /proc/net/snmp is the namespace's).
dropped=$(cli awk '$1 == "Ip:" { if (!h) { for (i = 2; i <= NF; i++) if ($i == "InAddrErrors") c = i; h = 1 } else print $c }' /proc/net/snmp) || true
dropped=${dropped//[^0-9]/}
dropped=${dropped:-0}
expect "client namespace: the SYN-ACKs to the spoofed sources dropped there ($dropped >= $sent / 2)" \
	"$((dropped * 2 >= sent))" '^1$'

session "after the flood"

# Out-of-window and in-window RSTs on a live session.
out=$(cli "$PY" "$helper" rst "$BULWARK_ADDR" --iface "$veth_cli" 2>&1) || true
real=$((real + 1))
echo "$out" | sed 's/^/     /'
expect "RST far outside the window: ignored, nothing back" "$out" \
	'^greeting 220 ' '^out_of_window_rst acks_back=0$'
expect "RST in the window, not at RCV.NXT: a challenge ACK" "$out" \
	'^in_window_rst acks_back=[1-9]'
expect "after both RSTs the session answers QUIT with 221" "$out" '^after_rst 221 2\.0\.0'
reject "after both RSTs: no reset" "$out" '^after_rst error'

status=$(stop_bulwark)
expect "bulwark exits 0 after SIGTERM" "$status" '^0$'
ws=$(grep 'event=worker_stats' "$BULWARK_LOG" || true)
ns=$(grep 'event=net_stats' "$BULWARK_LOG" || true)
echo "$ws"
echo "$ns"
kv() { # KEY LINE: the value of KEY= in LINE (-1 if missing)
	local v
	v=$(grep -o "\b$1=[0-9]*" <<<"$2" | head -n 1 | cut -d= -f2)
	echo "${v:--1}"
}
peak=$(kv peak "$ws")
accepted=$(kv accepted "$ws")
net_reset=$(kv net_reset "$ws")
syn_in=$(kv tcp_syn_in "$ns")
cookies=$(kv tcp_cookie_sent "$ns")
tcp_acc=$(kv tcp_accepted "$ns")
chal=$(kv tcp_challenge_ack "$ns")
conns=$(kv conns "$ns")
echo "figures: sent=$sent syn_in=$syn_in cookie_sent=$cookies tcp_accepted=$tcp_acc" \
	"challenge_ack=$chal peak=$peak accepted=$accepted real_clients=$real" \
	"client_ns_dropped=$dropped"
expect "session pool: peak in use = 1 (one real client at a time; the flood made none)" \
	"$peak" '^1$'
expect "sessions accepted = the $real real clients" "$accepted" "^$real\$"
expect "tcp_accepted = the $real real clients" "$tcp_acc" "^$real\$"
expect "no session was reset" "$net_reset" '^0$'
# (<= : the clients' SYNs, with room for a retransmitted one)
expect "tcp_syn_in ($syn_in) >= half of the $sent SYNs sent, <= all of them + the clients'" \
	"$((syn_in * 2 >= sent && syn_in <= sent + 3 * real))" '^1$'
expect "tcp_cookie_sent ($cookies) >= half of the SYNs sent (the table of 64 overflowed)" \
	"$((cookies * 2 >= sent))" '^1$'
# the first client's SYN and the flood's first 64 took table entries (none
# expires before ~31 s: synack_retries); every later SYN got a cookie,
# those of the clients during and after the flood included
expect "tcp_syn_in - tcp_cookie_sent ($((syn_in - cookies))) <= 64 + 1: every later SYN got a cookie" \
	"$((syn_in - cookies <= 65))" '^1$'
expect "tcp_challenge_ack ($chal) >= 1" "$((chal >= 1))" '^1$'
expect "no flow left at exit (conns=$conns)" "$conns" '^0$'

finish
