#!/usr/bin/env bash
# Soak (issue 7; meson suite 'soak', run by tools/test only with
# BULWARK_SOAK=1): minutes of mixed load from bench/bulwark-load (junk of
# every kind, slow senders, idle connections, legit mail relayed to
# smtp-sink) against a lab; before and after it, Bulwark's gauges (SIGUSR1:
# event=worker_gauges, event=process_gauges) must be at the same baseline:
# sessions, flows, half-open, TIME-WAIT, TCP buffers, work areas, relay
# objects out, relay links and every ring back to 0, mbufs in use, the
# relay stash and every DPDK mempool's in-use count (event=mempool_gauge)
# equal, jemalloc's live bytes (allocated minus tcache-cached) within
# SOAK_JE_SLACK of the baseline. Then the same, shorter, with the
# ASan+UBSan build: nothing reported, and exit 0.
#
# Environment: BULWARK_BIN, BULWARK_LOAD; SOAK_SECONDS (release run,
# default 150), SOAK_RATE (new sessions/s, default 100); BULWARK_SOAK_ASAN_BIN
# (default build/asan/bulwark next to BULWARK_BIN's build), SOAK_ASAN_SECONDS
# (default 20); SOAK_JE_SLACK (bytes, default 65536). The baseline is taken
# after a 3 s warm-up, so first-use allocations (stdio, tcache bins) are in
# it; a leak of even 4 bytes per session would pass the slack many times.
. "$(dirname "$0")/../integration/lib.sh"

LOAD=${BULWARK_LOAD:-$(dirname "$BULWARK_BIN")/bench/bulwark-load}
[[ -x $LOAD ]] || { echo "FAIL no bulwark-load at $LOAD"; exit 1; }
asan_bin=${BULWARK_SOAK_ASAN_BIN:-$(dirname "$BULWARK_BIN")/../asan/bulwark}
secs=${SOAK_SECONDS:-150}
rate=${SOAK_RATE:-100}
slack=${SOAK_JE_SLACK:-65536}
mix=http=15,tls=10,ssh=5,garbage=10,longline=10,typo=10,slow=10,idle=10,legit=20

lab_conf=$(mktemp /tmp/bulwark-soak-XXXXXX.conf)
# TIME-WAIT and linger short, so the flow table is empty soon after the load
sed -e 's/time_wait_ms = 10000;/time_wait_ms = 1000;/' "$root/config/lab.conf" >"$lab_conf"
grep -q 'time_wait_ms = 1000;' "$lab_conf" || { echo "FAIL no time_wait_ms in lab.conf"; exit 1; }

# gauges: SIGUSR1, then that dump's worker_gauges and process_gauges
# lines as "key=value" words (worker= and ts= left out), every mempool as
# pool_<name>=<in use> and every ring pair as ring_<pair>_w2r/_r2w=<entries>.
gauges() {
	local n l
	n=$(grep -c 'event=process_gauges' "$BULWARK_LOG" || true)
	l=$(wc -l <"$BULWARK_LOG")
	kill -USR1 "$BULWARK_PID"
	for ((i = 0; i < 50; i++)); do
		(($(grep -c 'event=process_gauges' "$BULWARK_LOG" || true) > n)) && break
		sleep 0.1
	done
	tail -n +"$((l + 1))" "$BULWARK_LOG" | awk '
		/event=(worker|process)_gauges/ {
			for (i = 1; i <= NF; i++)
				if ($i ~ /^[a-z_]+=/ && $i !~ /^(ts|level|event|worker)=/) print $i }
		/event=mempool_gauge/ {
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			print "pool_" f["pool"] "=" f["in_use"] }
		/event=ring_gauges/ {
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			print "ring_" f["pair"] "_w2r=" f["w2r"]; print "ring_" f["pair"] "_r2w=" f["r2w"] }'
}

val() { sed -n "s/^$1=//p" <<<"$2"; }
ok() { echo "ok   $1"; }
fail() {
	fails=$((fails + 1))
	echo "FAIL $1"
	[[ -z ${2:-} ]] || sed 's/^/     /' <<<"$2"
}

# soak NAME BIN SECONDS
soak() {
	local name=$1 bin=$2 s=$3 before after out k b a f0=$fails
	BULWARK_BIN=$bin
	export BULWARK_BIN
	LAB_NAME=$name
	trap lab_down EXIT
	eval "$("$root/tools/lab" up --name "$LAB_NAME" --config "$lab_conf" --backend sink)"
	echo "lab $name up: $(basename "$(dirname "$bin")") bulwark pid $BULWARK_PID"
	cli "$LOAD" --host "$BULWARK_ADDR" --mix "$mix" --rate 50 --duration 3 --idle-ms 1000 \
		--slow-ms 20 >/dev/null 2>&1 || true
	sleep 4
	before=$(gauges)
	echo "     before: $(tr '\n' ' ' <<<"$before")"
	out=$(cli "$LOAD" --host "$BULWARK_ADDR" --mix "$mix" --rate "$rate" --duration "$s" \
		--concurrency 512 --idle-ms 3000 --slow-ms 50 --show-errors 5 2>&1)
	rc=$?
	grep -E '^(kind|[a-z]+ +[0-9]+ |total|outcomes|rate|result)' <<<"$out" | sed 's/^/     /'
	((rc == 0)) && ok "$name: $s s of mixed load, every session answered as the policy says" ||
		fail "$name: bulwark-load exit $rc" "$(tail -n 12 <<<"$out")"
	sleep 4
	after=$(gauges)
	echo "     after:  $(tr '\n' ' ' <<<"$after")"
	for k in sessions flows halfopen time_wait tcp_bufs line_buffers relay_objs_out relay_links; do
		a=$(val "$k" "$after")
		[[ $a == 0 ]] || fail "$name: $k=$a after the soak, not 0"
	done
	for k in $(grep -oE '^ring_[0-9]+_(w2r|r2w)' <<<"$after"); do
		a=$(val "$k" "$after")
		[[ $a == 0 ]] || fail "$name: ring $k holds $a entries after the soak"
	done
	n=$(grep -c '^pool_' <<<"$before")
	((n >= 3)) || fail "$name: only $n mempools in the gauges"
	for k in mbufs_in_use relay_stash $(grep -oE '^pool_[^=]+' <<<"$before"); do
		b=$(val "$k" "$before")
		a=$(val "$k" "$after")
		[[ -n $a && $a == "$b" ]] || fail "$name: $k=$a after the soak, $b before"
	done
	b=$(val jemalloc_live "$before")
	a=$(val jemalloc_live "$after")
	if [[ $b =~ ^[0-9]+$ && $a =~ ^[0-9]+$ ]]; then
		((a <= b + slack)) && ok "$name: jemalloc live bytes $b before, $a after (slack $slack)" ||
			fail "$name: jemalloc live bytes grew from $b to $a"
	else
		echo "     $name: jemalloc statistics unavailable in this build (ASan's allocator)"
	fi
	((fails == f0)) && ok "$name: every gauge back at its baseline"
	status=$(stop_bulwark)
	[[ $status == 0 ]] && ok "$name: bulwark exited 0" || fail "$name: bulwark exit status $status"
	if [[ -n ${ASAN_OPTIONS:-} ]]; then
		if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$BULWARK_LOG"; then
			fail "$name: ASan/UBSan reported" \
				"$(grep -E -A8 'AddressSanitizer|LeakSanitizer|runtime error:' "$BULWARK_LOG" | head -40)"
		else
			ok "$name: ASan and UBSan reported nothing"
		fi
	fi
	"$root/tools/lab" down --name "$LAB_NAME"
	LAB_NAME=
}

soak it_sv_sk "$BULWARK_BIN" "$secs"
if [[ -x $asan_bin ]]; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
	soak it_sv_sa "$asan_bin" "${SOAK_ASAN_SECONDS:-20}"
else
	fail "no ASan build at $asan_bin (meson setup build/asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false; ninja -C build/asan bulwark)"
fi
rm -f "$lab_conf"
lab_conf=
finish
