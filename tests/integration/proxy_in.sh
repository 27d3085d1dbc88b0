#!/usr/bin/env bash
# accept_proxy (issue 7): a listener behind a load balancer takes a PROXY
# v1 or v2 header from its balancer (198.18.1.2) before the greeting; the
# header's address is the client for client_limits, the deny list and the
# backend (recorder, told by PROXY v2, then by XCLIENT); a header from
# another source, none within proxy_timeout_ms, or anything else gets a
# close without a byte. Labs it_lmpx and it_lmpxx.
. "$(dirname "$0")/relay_lib.sh"

conf=$RELAY_TMP/proxy.conf
echo "198.18.9.66" >"$RELAY_TMP/deny.txt"
sed -e 's|{ port = 25; }|{ port = 25; accept_proxy = true; proxy_from = [ "198.18.1.2/32" ]; proxy_timeout_ms = 1000; }|' \
	"$root/config/lab.conf" >"$conf"
grep -q 'accept_proxy = true' "$conf" || { echo "FAIL no listener to change in lab.conf"; exit 1; }
cat >>"$conf" <<CONF

client_limits = { sessions = 1; };
lists = { deny = "$RELAY_TMP/deny.txt"; };
CONF
chmod 0755 "$RELAY_TMP"
chmod 0644 "$conf" "$RELAY_TMP/deny.txt"

for via in proxy-v2 xclient; do
	if [[ $via == proxy-v2 ]]; then
		relay_up it_lmpx --backend record --backend-proxy v2 --config "$conf"
	else
		relay_up it_lmpxx --backend record --backend-proxy none --backend-xclient --config "$conf"
	fi
	ip netns exec "$CLIENT_NS" ip addr add 198.18.1.3/24 dev "bwc-$LAB_NAME"
	out=$(cli "$PY" "$root/tests/integration/proxy_in.py" "$BULWARK_ADDR" "$BACKEND_SPOOL" "$via" 2>&1 || true)
	echo "$out"
	expect "accept_proxy scenario ($via)" "$out" '^fails=0$'
	reject "accept_proxy scenario ($via)" "$out" '^FAIL '
done
st=$(stop_bulwark)
expect "bulwark exits 0" "$st" '^0$'
expect "worker counters" "$(cat "$BULWARK_LOG")" 'proxy_ok=[1-9]' 'proxy_local=1 ' \
	'proxy_denied=1 ' 'proxy_bad=4 ' 'proxy_timeout=1 ' 'limit_sessions=1 ' 'denied=1 '
finish
