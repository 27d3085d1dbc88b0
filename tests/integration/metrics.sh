#!/usr/bin/env bash
# Observability end to end (issue 7, "Proof"): a scripted mix of junk and
# legit sessions through the lab, then the Prometheus /metrics endpoint, the
# DPDK telemetry command /bulwark/stats (dpdk-telemetry.py) and
# tools/bulwark-stat --once must show exactly those counts, and Bulwark's log
# must hold one session line per relayed session (with the recorder's queue
# ids) and junk summary lines adding up to the junk sent.
#
# Mix: 7 HTTP requests, 5 SSH banners, 3 TLS ClientHellos (each closed with
# 500), 4 sessions with one over-long line each (500, then QUIT), 2 STARTTLS
# sessions (openssl s_client: EHLO, STARTTLS, EHLO and QUIT under TLS), 6
# messages delivered to the recording backend on 6 sessions. All of these
# come from the allow-listed 198.18.1.2; then, from other addresses of the
# client namespace, the lists and limits: 198.18.1.3 (client_limits.sessions
# = 1) holds a session open and its second one gets 421 4.7.0; deny-listed
# 198.18.1.5 gets 554 5.7.1; a session of .3 reset by the client gives its
# count back (the next one is greeted).
. "$(dirname "$0")/relay_lib.sh"

conf=$RELAY_TMP/metrics.conf
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=bulwark.lab -keyout "$RELAY_TMP/key.pem" -out "$RELAY_TMP/cert.pem" 2>/dev/null
"$PY" - "$root/config/lab.conf" "$conf" "$RELAY_TMP" <<'PY'
import sys
text = open(sys.argv[1]).read()
old = "listeners = (\n\t{ port = 25; }\n);"
assert old in text, "lab.conf: listeners changed"
new = """listeners = (
	{ port = 25; tls = "starttls"; }
);

tls = {
	cert = "%s/cert.pem";
	key = "%s/key.pem";
};

log = {
	junk_interval_s = 1;
	junk_samples = 2;
};

client_limits = { sessions = 1; action = "reply"; table_size = 1024; };
lists = { allow = "%s/allow.txt"; deny = "%s/deny.txt"; };""" % ((sys.argv[3],) * 4)
open(sys.argv[2], "w").write(text.replace(old, new))
PY
echo "198.18.1.2/32 # the mix" >"$RELAY_TMP/allow.txt"
echo "198.18.1.5" >"$RELAY_TMP/deny.txt"
chmod 0644 "$RELAY_TMP/allow.txt" "$RELAY_TMP/deny.txt"
relay_up it_mx --backend record --backend-proxy v2 --config "$conf"
for a in 3 5; do
	ip netns exec "$CLIENT_NS" ip addr add "198.18.1.$a/24" dev "bwc-$LAB_NAME"
done
prefix=bw-lab-$LAB_NAME
lns=bw-$LAB_NAME-lab

metrics() {
	ip netns exec "$lns" curl -s -m 5 "$@" http://127.0.0.1:9890/metrics
}

out=$(metrics)
expect "/metrics answers before any traffic, HELP and TYPE lines" "$out" \
	'^# HELP bulwark_connections_total ' '^# TYPE bulwark_connections_total counter$' \
	'^# TYPE bulwark_sessions_live gauge$' '^bulwark_connections_total\{worker="0"\} 0$'

# --- the mix
for ((i = 0; i < 7; i++)); do
	smtpc 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >>"$RELAY_TMP/junk.out"
done
for ((i = 0; i < 5; i++)); do
	smtpc 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n' >>"$RELAY_TMP/junk.out"
done
for ((i = 0; i < 3; i++)); do
	smtpc --idle 2 '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x5b\x90\x9d\x9b\x72\x0b' \
		>>"$RELAY_TMP/junk.out"
done
for ((i = 0; i < 4; i++)); do
	smtpc 'EHLO client.example\r\n' '@2000*A' '\r\n' 'QUIT\r\n' >>"$RELAY_TMP/junk.out"
done
n=$(grep -c '^500 5\.5\.2' "$RELAY_TMP/junk.out" || true)
((n == 19)) && ok "the junk got 19 replies 500 5.5.2" || fail "the junk got $n replies 500, not 19" \
	"$(cat "$RELAY_TMP/junk.out")"
for ((i = 0; i < 2; i++)); do
	out=$( (printf 'EHLO tls%d.example\r\n' "$i"; sleep 1; printf 'QUIT\r\n'; sleep 1) |
		cli timeout 15 openssl s_client -starttls smtp -connect "$BULWARK_ADDR:25" -quiet 2>&1 || true)
	expect "STARTTLS session $i (openssl s_client): EHLO and QUIT under TLS" "$out" \
		'^250-bulwark\.lab' '^221 2\.0\.0'
done
mail=$(cli "$PY" "$root/tests/integration/metrics_mail.py" "$BULWARK_ADDR" 6 2>&1) &&
	ok "6 messages delivered through the recorder" || fail "sending 6 messages" "$mail"
qids=$("$PY" -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])["qids"]))' "$mail")
dbytes=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["bytes"])' "$mail")
(($(stored) == 6)) && ok "... the recorder stored 6" || fail "... the recorder stored $(stored), not 6"
# the lists and limits: .3 holds one session (greeted), its second is
# refused 421 4.7.0; .5 is refused 554 5.7.1; then .3's first QUITs
lim=$(cli "$PY" - "$BULWARK_ADDR" <<'PY' 2>&1
import socket, struct, sys, time

def conn(src):
    s = socket.create_connection((sys.argv[1], 25), timeout=10, source_address=(src, 0))
    f = s.makefile("rb")
    return s, f

s1, f1 = conn("198.18.1.3")
print("held:", f1.readline().decode().strip())
for src in ("198.18.1.3", "198.18.1.5"):
    s, f = conn(src)
    print(src, f.readline().decode().strip(), "closed" if f.readline() == b"" else "open")
    s.close()
s1.sendall(b"QUIT\r\n")
print("quit:", f1.readline().decode().strip())
s1.close()
# a session that ends by the client's RST also gives its count back
s, f = conn("198.18.1.3")
print("rst:", f.readline().decode().strip())
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
f.close()  # the file holds the socket open: both must go for the RST
s.close()
time.sleep(0.5)
s, f = conn("198.18.1.3")
print("after rst:", f.readline().decode().strip())
s.sendall(b"QUIT\r\n")
print("quit:", f.readline().decode().strip())
s.close()
PY
)
expect "lists and limits: .3 held, its second session 421 4.7.0, .5 554 5.7.1" "$lim" \
	'^held: 220 ' '^198\.18\.1\.3 421 4\.7\.0 .* closed$' '^198\.18\.1\.5 554 5\.7\.1 .* closed$' \
	'^quit: 221 ' '^rst: 220 ' '^after rst: 220 '
sleep 2.5 # the sessions' last segments, one junk summary interval and more

# --- what each reader must show: /metrics series, telemetry key, bulwark-stat key
want=(
	'bulwark_connections_total{worker="0"}|connections|connections|32'
	'bulwark_sessions_closed_total{worker="0",reason="nonsmtp"}|closed/nonsmtp|sessions_closed{reason=nonsmtp}|15'
	'bulwark_sessions_closed_total{worker="0",reason="quit"}|closed/quit|sessions_closed{reason=quit}|14'
	'bulwark_sessions_nonsmtp_total{worker="0",signature="http"}|nonsmtp/http|sessions_nonsmtp{signature=http}|7'
	'bulwark_sessions_nonsmtp_total{worker="0",signature="ssh"}|nonsmtp/ssh|sessions_nonsmtp{signature=ssh}|5'
	'bulwark_sessions_nonsmtp_total{worker="0",signature="tls"}|nonsmtp/tls|sessions_nonsmtp{signature=tls}|3'
	'bulwark_sessions_nonsmtp_total{worker="0",signature="binary"}|nonsmtp/binary|sessions_nonsmtp{signature=binary}|0'
	'bulwark_replies_total{worker="0",code="220"}|replies/220|replies{code=220}|32'
	'bulwark_replies_total{worker="0",code="500"}|replies/500|replies{code=500}|19'
	'bulwark_replies_total{worker="0",code="354"}|replies/354|replies{code=354}|6'
	'bulwark_replies_total{worker="0",code="250"}|replies/250|replies{code=250}|32'
	'bulwark_replies_total{worker="0",code="221"}|replies/221|replies{code=221}|14'
	'bulwark_sessions_relayed_total{worker="0"}|relayed|sessions_relayed|6'
	'bulwark_starttls_total{worker="0"}|starttls|starttls|2'
	'bulwark_tls_handshakes_started_total{worker="0"}|tls_started|tls_handshakes_started|2'
	'bulwark_tls_handshakes_total{worker="0"}|tls_handshakes|tls_handshakes|2'
	'bulwark_tls_failures_total{worker="0",reason="record"}|tls_failed/record|tls_failures{reason=record}|0'
	'bulwark_sessions_live{worker="0"}|live|sessions_live|0'
	'bulwark_backend_sessions_total{relay="0"}|backend_sessions|backend_sessions|6'
	'bulwark_backend_ready_total{relay="0"}|backend_ready|backend_ready|6'
	'bulwark_messages_total{relay="0"}|messages|messages|6'
	'bulwark_messages_refused_total{relay="0"}|messages_refused|messages_refused|0'
	"bulwark_data_bytes_total{relay=\"0\"}|data_bytes|data_bytes|$dbytes"
	'bulwark_backend_connects_total{relay="0",backend="lab"}|backend_connects/lab|backend_connects{backend=lab}|6'
	'bulwark_backend_failures_total{relay="0",backend="lab"}|backend_failures/lab|backend_failures{backend=lab}|0'
	'bulwark_backend_messages_total{relay="0",backend="lab"}|backend_messages/lab|backend_messages{backend=lab}|6'
	'bulwark_backend_up{relay="0",backend="lab"}|backend_up/lab|backend_up{backend=lab}|1'
	'bulwark_sessions_closed_total{worker="0",reason="limit"}|closed/limit|sessions_closed{reason=limit}|1'
	'bulwark_sessions_closed_total{worker="0",reason="denied"}|closed/denied|sessions_closed{reason=denied}|1'
	'bulwark_replies_total{worker="0",code="421"}|replies/421|replies{code=421}|1'
	'bulwark_replies_total{worker="0",code="554"}|replies/554|replies{code=554}|1'
	'bulwark_clients_allowed_total{worker="0"}|allowed|clients_allowed|27'
	'bulwark_sessions_reset_total{worker="0"}|reset|sessions_reset|1'
	'bulwark_clients_denied_total{worker="0"}|denied|clients_denied|1'
	'bulwark_client_limit_refused_total{worker="0",limit="sessions"}|limit_refused/sessions|client_limit_refused{limit=sessions}|1'
	'bulwark_client_limit_refused_total{worker="0",limit="rate"}|limit_refused/rate|client_limit_refused{limit=rate}|0'
	'bulwark_client_limit_refused_total{worker="0",limit="errors"}|limit_refused/errors|client_limit_refused{limit=errors}|0'
	'bulwark_client_limit_syn_dropped_total{worker="0"}|limit_syn_dropped|client_limit_syn_dropped|0'
	'bulwark_client_limit_untracked_total{worker="0"}|limit_untracked|client_limit_untracked|0'
	'bulwark_proxy_headers_total{worker="0",result="ok"}|proxy_ok|proxy_headers{result=ok}|0'
	'bulwark_tls_sessions_live{worker="0"}|tls_live|tls_sessions_live|0'
	'bulwark_work_area_waits_total{worker="0",pool="line"}|line_wait|work_area_waits{pool=line}|0'
	'bulwark_backend_tls_handshakes_started_total{relay="0"}|be_tls_started|backend_tls_handshakes_started|0'
	'bulwark_backend_tls_failures_total{relay="0",backend="lab"}|backend_tls_failures/lab|backend_tls_failures{backend=lab}|0'
)
prom=$(metrics)
tel=$(echo /bulwark/stats | "$PY" /usr/bin/dpdk-telemetry.py -f "$prefix" 2>&1 | grep '^{"/bulwark/stats"' || true)
[[ -n $tel ]] && ok "dpdk-telemetry.py -f $prefix answers /bulwark/stats" ||
	fail "dpdk-telemetry.py -f $prefix: no /bulwark/stats reply" "$(echo /bulwark/stats | "$PY" /usr/bin/dpdk-telemetry.py -f "$prefix" 2>&1)"
stat=$(ip netns exec "$lns" "$PY" "$root/tools/bulwark-stat" --once --all 2>&1) &&
	ok "bulwark-stat --once reads the endpoint" || fail "bulwark-stat --once" "$stat"
bad=()
for w in "${want[@]}"; do
	IFS='|' read -r series tkey skey val <<<"$w"
	p=$(awk -v s="$series" '$1 == s { print $2 }' <<<"$prom")
	t=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["/bulwark/stats"].get(sys.argv[2], "missing"))' \
		"${tel:-{\"/bulwark/stats\":{\}\}}" "$tkey" 2>&1)
	s=$(awk -v k="$skey" '$1 == k { print $2 }' <<<"$stat")
	if [[ $p == "$val" && $t == "$val" && $s == "$val" ]]; then
		echo "ok   $series = $val (metrics, telemetry $tkey, bulwark-stat $skey)"
	else
		bad+=("$series: want $val, /metrics '${p}', telemetry $tkey '${t}', bulwark-stat $skey '${s}'")
	fi
done
((${#bad[@]} == 0)) || fail "counters that do not match the mix" "$(printf '%s\n' "${bad[@]}")"
n=$(awk '$1 ~ /^bulwark_rx_packets_total\{port="bw0",queue="0"\}$/ && $2 > 0' <<<"$prom" | wc -l)
((n == 1)) && ok "packets per port and queue counted" || fail "no bulwark_rx_packets_total for bw0 queue 0" "$prom"

# --- the other readers' edges
code=$(ip netns exec "$lns" curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:9890/nope)
[[ $code == 404 ]] && ok "/nope: 404" || fail "/nope: HTTP $code, not 404"
code=$(ip netns exec "$lns" curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:9890/metrics)
[[ $code == 405 ]] && ok "POST /metrics: 405" || fail "POST /metrics: HTTP $code, not 405"
tw=$(echo /bulwark/workers | "$PY" /usr/bin/dpdk-telemetry.py -f "$prefix" 2>&1 | grep '^{' || true)
expect "/bulwark/workers: per-worker arrays" "$tw" '"connections": \[32\]' '"workers": 1'
tb=$(echo /bulwark/backends | "$PY" /usr/bin/dpdk-telemetry.py -f "$prefix" 2>&1 | grep '^{' || true)
expect "/bulwark/backends: names and per-backend arrays" "$tb" '"names": \["lab"\]' \
	'"backend_connects": \[6\]' '"backend_messages": \[6\]'

# --- the log: one line per relayed session, junk summarised
log=$(grep 'event=session ' "$BULWARK_LOG" || true)
n=$(grep -c . <<<"$log" || true)
((n == 6)) && ok "6 session lines in the log" || fail "$n session lines, not 6" "$log"
for q in $qids; do
	grep -Eq "event=session client=198\.18\.1\.2:[0-9]+ helo=legit[0-5]\.example backend=lab queue_id=$q msgs=1 bytes=[0-9]+ duration_ms=[0-9]+ outcome=quit" <<<"$log" ||
		bad_q="$bad_q $q"
done
[[ -z ${bad_q:-} ]] && ok "... each with client, helo, backend, the recorder's queue id ($qids), msgs, bytes, duration, outcome" ||
	fail "... no session line for queue id(s)$bad_q" "$log"
sum=$(grep 'event=session ' "$BULWARK_LOG" | sed -n 's/.* bytes=\([0-9]*\) .*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
[[ $sum == "$dbytes" ]] && ok "... their bytes= add up to the DATA bytes ($dbytes)" ||
	fail "... their bytes= add up to $sum, not $dbytes"
js=$(grep 'event=junk_summary ' "$BULWARK_LOG" || true)
tot() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$js" | awk '{ s += $1 } END { print s + 0 }'; }
[[ -n $js ]] && ok "junk summary lines: $(grep -c . <<<"$js")" || fail "no junk summary line"
[[ $(tot nonsmtp) == 15 && $(tot sig_http) == 7 && $(tot sig_ssh) == 5 && $(tot sig_tls) == 3 &&
	$(tot replies_500) == 19 ]] &&
	ok "... they add up to nonsmtp=15 (http 7, ssh 5, tls 3) replies_500=19" ||
	fail "... they add up to nonsmtp=$(tot nonsmtp) http=$(tot sig_http) ssh=$(tot sig_ssh) tls=$(tot sig_tls) replies_500=$(tot replies_500)" "$js"
expect "... with sampled client addresses" "$js" 'samples=198\.18\.1\.2(,198\.18\.1\.2)?$'
m=$(grep -c . "$BULWARK_LOG" || true)
echo "     (log: $m lines for 32 sessions)"

finish
