#!/usr/bin/env bash
# accept_proxy on implicit TLS (465): the balancer's PROXY v2 header comes
# in the clear, the handshake starts on the bytes after it (same segment or
# not); the backend (recorder) is told the header's address by PROXY v2; a
# header from another source, none in time, or a ClientHello without one
# is closed without a byte. Memory-pressure shedding on 465: a session
# whose handshake ends while shedding runs on the shed limits; at critical
# pressure a new connection is closed before its handshake, and one whose
# handshake ends then reads 421 4.3.2 in TLS (both shed_refused); a
# STARTTLS session on 25 whose handshake spans the start of shedding takes
# the shed limits when it ends.
# tests/integration/proxy_tls.py drives it. Lab it_gpx.
. "$(dirname "$0")/relay_lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=bulwark.lab -keyout "$RELAY_TMP/key.pem" -out "$RELAY_TMP/cert.pem" 2>/dev/null
conf=$RELAY_TMP/proxy_tls.conf
"$PY" - "$root/config/lab.conf" "$conf" "$RELAY_TMP" <<'PY'
import sys
text = open(sys.argv[1]).read()
old = "listeners = (\n\t{ port = 25; }\n);"
assert old in text, "lab.conf: listeners changed"
assert "sessions = 4096;" in text, "lab.conf: limits.sessions changed"
new = """listeners = (
	{ port = 25; tls = "starttls"; },
	{ port = 465; tls = "implicit"; accept_proxy = true;
	  proxy_from = [ "198.18.1.2/32" ]; proxy_timeout_ms = 1000; }
);

tls = {
	cert = "%s/cert.pem";
	key = "%s/key.pem";
};""" % (sys.argv[3], sys.argv[3])
text = text.replace(old, new).replace(
    "sessions = 4096;",
    "sessions = 20;\n\tshed_at = 50;\n\tshed_critical_at = 90;\n\tshed_timeout_ms = 2000;")
open(sys.argv[2], "w").write(text)
PY
chmod 0755 "$RELAY_TMP"
chmod 0644 "$conf" "$RELAY_TMP/cert.pem" "$RELAY_TMP/key.pem"

relay_up it_gpx --backend record --backend-proxy v2 --config "$conf"
ip netns exec "$CLIENT_NS" ip addr add 198.18.1.3/24 dev "bwc-$LAB_NAME"
out=$(cli "$PY" "$root/tests/integration/proxy_tls.py" "$BULWARK_ADDR" "$BACKEND_SPOOL" 2>&1 || true)
echo "$out"
expect "accept_proxy on 465 and shedding of 465" "$out" '^fails=0$'
reject "accept_proxy on 465 and shedding of 465" "$out" '^FAIL '
st=$(stop_bulwark)
expect "bulwark exits 0" "$st" '^0$'
expect "worker counters" "$(cat "$BULWARK_LOG")" 'proxy_ok=[1-9]' 'proxy_denied=1 ' \
	'proxy_bad=1 ' 'proxy_timeout=1 ' 'event=worker_shed_stats worker=0 .*refused=2 '
finish
