#!/usr/bin/env bash
# bench/bulwark-load against the lab (issue 6): every junk kind and legit
# sessions at a modest rate, and each session answered as the policy table
# says (the tool checks every session; here: no errors, and the counts per
# kind the mix asks for). Socket mode over the TAP, then, when bulwark-load
# was built with DPDK, the same over memif in dpdk mode (tools/lab --port
# memif --no-peer: the generator is Bulwark's memif client).
#
# The lab's config gets greet_wait_ms = 150, so that a client sending at once
# is a pregreet (554) and not a race with the greeting. --backend sink: legit
# sessions are relayed to smtp-sink.
#
# Then the TLS kinds (socket mode, OpenSSL): a lab it_ldtls (config/lab.conf
# as it is, no greet wait) with listeners 587 (STARTTLS) and 465 (implicit
# TLS) and an ECDSA P-256 certificate made
# here; tls465, starttls and handshake, with X25519 and with P-256, must
# all end ok with the key type checked (--tls-cert ecdsa); asking for an
# RSA key must fail every session as "tls" (the check can fail).
. "$(dirname "$0")/lib.sh"

LOAD=${BULWARK_LOAD:-$(dirname "$BULWARK_BIN")/bench/bulwark-load}
[[ -x $LOAD ]] || { echo "FAIL no bulwark-load at $LOAD"; exit 1; }

# weights out of 100: with --rate 100 every kind gets its weight per second
mix=http=20,tls=10,ssh=10,pregreet=10,garbage=10,longline=10,typo=10,slow=5,idle=5,legit=10
secs=4
rate=100
declare -A code=([http]=500 [tls]=500 [ssh]=500 [pregreet]=554 [garbage]=500
	[longline]=500 [typo]=500 [slow]=250 [idle]=221 [legit]=250)

lab_conf=$(mktemp /tmp/bulwark-lab-XXXXXX.conf)
sed 's/^\(\s*hostname = "bulwark.lab";\)/\1\n\tgreet_wait_ms = 150;/' \
	"$root/config/lab.conf" >"$lab_conf"
grep -q 'greet_wait_ms = 150;' "$lab_conf" || { echo "FAIL no smtp.hostname in lab.conf"; exit 1; }

# up ARGS...: the lab it_load with these tools/lab up arguments.
up() {
	local out
	LAB_NAME=it_load
	trap lab_down EXIT
	trap 'exit 130' INT TERM
	out=$("$root/tools/lab" up --name "$LAB_NAME" --config "$lab_conf" --backend sink "$@")
	eval "$out"
	echo "lab $LAB_NAME up ($*): bulwark pid $BULWARK_PID at $BULWARK_ADDR"
}

# check WHAT OUTPUT: no errors, every session accounted for, the kinds in
# the mix's proportions, each with its expected reply code only.
check() {
	local what=$1 out=$2 total kind n ok err codes want bad=0
	total=$(awk '$1 == "total" { print $2 }' <<<"$out")
	expect "$what: no errors" "$out" '^result: sessions=[0-9]+ ok=[0-9]+ errors=0 held=0$'
	if [[ -z $total ]] || ((total < rate * secs * 9 / 10)); then
		fails=$((fails + 1))
		echo "FAIL $what: ${total:-no} sessions, wanted about $((rate * secs))"
		return
	fi
	for kind in "${!code[@]}"; do
		read -r n ok err codes < <(awk -v k="$kind" '$1 == k { print $2, $3, $5, $6 }' <<<"$out")
		want=$(( $(sed -E "s/.*$kind=([0-9]+).*/\1/" <<<"$mix") * total / 100 ))
		if [[ -z $n ]] || ((n < want - 2 || n > want + 2 || ok != n || err != 0)) ||
			[[ $codes != "${code[$kind]}:$n" ]]; then
			bad=1
			echo "FAIL $what: $kind: ${n:-0} sessions (want $want), ${ok:-0} ok, codes ${codes:-none} (want ${code[$kind]})"
		fi
	done
	if ((bad)); then
		fails=$((fails + 1))
		sed 's/^/     /' <<<"$out"
	else
		echo "ok   $what: $total sessions, each kind in proportion and answered as expected"
	fi
}

args=(--host 198.18.0.2 --mix "$mix" --rate "$rate" --duration "$secs" --concurrency 200
	--slow-ms 20 --idle-ms 500 --timeout 3000 --size 2000)

up
out=$(cli "$LOAD" --mode socket "${args[@]}" 2>&1) || true
check "socket mode over the TAP" "$out"

if "$LOAD" --mode dpdk --host 198.18.0.2 2>&1 | grep -q 'built without DPDK'; then
	echo "skip dpdk mode: bulwark-load was built without DPDK"
else
	"$root/tools/lab" down --name "$LAB_NAME"
	up --port memif --no-peer
	[[ -S ${MEMIF_SOCKET:-} ]] || { echo "FAIL no MEMIF_SOCKET from tools/lab up --no-peer"; exit 1; }
	out=$(cli "$LOAD" --mode dpdk --vdev "net_memif0,role=client,socket=$MEMIF_SOCKET,socket-abstract=no" \
		"${args[@]}" 2>&1) || true
	check "dpdk mode over memif" "$out"
fi

# --- the TLS kinds through Bulwark's TCP -----------------------------------
tls_dir=$(mktemp -d /tmp/bulwark-ldtls-XXXXXX)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=bulwark.lab -keyout "$tls_dir/key.pem" -out "$tls_dir/cert.pem" 2>/dev/null
"$PY" - "$root/config/lab.conf" "$tls_dir/tls.conf" "$tls_dir" <<'PY'
import sys
text = open(sys.argv[1]).read()
old = "listeners = (\n\t{ port = 25; }\n);"
assert old in text, "lab.conf: listeners changed"
new = """listeners = (
	{ port = 25; },
	{ port = 587; tls = "starttls"; },
	{ port = 465; tls = "implicit"; }
);

tls = {
	cert = "%s/cert.pem";
	key = "%s/key.pem";
	min_version = "1.3";
};""" % (sys.argv[3], sys.argv[3])
open(sys.argv[2], "w").write(text.replace(old, new))
PY
"$root/tools/lab" down --name "$LAB_NAME"
LAB_NAME=it_ldtls
trap 'rc=$?; rm -rf "$tls_dir"; (exit $rc); lab_down' EXIT
out=$("$root/tools/lab" up --name "$LAB_NAME" --config "$tls_dir/tls.conf" --backend sink)
eval "$out"
echo "lab $LAB_NAME up (TLS on 587 and 465): bulwark pid $BULWARK_PID at $BULWARK_ADDR"
tmix=tls465=1,starttls=1,handshake=1
targs=(--host 198.18.0.2 --port 587 --tls-port 465 --mix "$tmix" --rate 60 --duration 2
	--concurrency 32 --timeout 5000 --tls-cert ecdsa)
for group in X25519 P-256; do
	out=$(cli "$LOAD" --mode socket "${targs[@]}" --tls-groups "$group" 2>&1) || true
	expect "tls kinds, $group, ECDSA key: no errors" "$out" \
		'^result: sessions=(11[0-9]|12[0-9]) ok=(11[0-9]|12[0-9]) errors=0 held=0$' \
		'^tls465 +[0-9]+ +[0-9]+ +0 +0 +221:' '^starttls +[0-9]+ +[0-9]+ +0 +0 +220:' \
		'^handshake +[0-9]+ +[0-9]+ +0 +0 '
done
out=$(cli "$LOAD" --mode socket --host 198.18.0.2 --tls-port 465 --mix handshake=1 --rate 20 \
	--duration 1 --tls-cert rsa 2>&1) || true
expect "--tls-cert rsa against an ECDSA key: every session fails as tls" "$out" \
	'^result: sessions=(19|20) ok=0 errors=(19|20) held=0$' ' tls=(19|20)$'

finish
