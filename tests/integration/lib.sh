# tests/integration/lib.sh — sourced by every integration test.
#
# lab_up NAME brings up a lab of that name with tools/lab (and sets
# BULWARK_ADDR, CLIENT_NS, BULWARK_PID, BULWARK_LOG, BULWARK_STATE); an EXIT
# trap always takes it down again, also on failure or a meson timeout, and
# prints the end of Bulwark's log when the test failed. expect/reject count
# failures; the test ends with 'finish'.
#
# BULWARK_LAB_VARIANT runs the same test on another lab config made from
# config/lab.conf: "2w" (two workers on two TAP queues; lcores 1 and 2
# share CPU 1 so two cores suffice) or "fault" (the seeded fault-injecting
# port: 5% drop, 25% reorder, 1% duplicates each way; clients wait longer)
# or "flood" (limits.half_open = 64, for synflood.sh), or another port kind
# under the same lab config (tools/lab --port): "afp" (net_af_packet on a
# veth), "xdp" (net_af_xdp on a veth), "memif" (net_memif, a dpdk-testpmd
# peer bridging it to a TAP).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=/usr/bin/python3 # Debian's (the first python3 on PATH may lack modules)
LAB_NAME=
fails=0

variant=${BULWARK_LAB_VARIANT:-}
lab_conf=

# make_variant FILE: writes the variant's config to FILE.
make_variant() {
	case $variant in
	2w)
		sed -e 's/"-l", "0-1"/"--lcores", "0@0,1@1,2@1"/' -e 's/count = 1;/count = 2;/' \
			"$root/config/lab.conf" >"$1"
		;;
	fault)
		"$PY" - "$root/config/lab.conf" "$1" <<'PY'
import sys
text = open(sys.argv[1]).read()
fault = """
		fault = {
			seed = 42;
			rx = { drop = 5.0; reorder = 25.0; dup = 1.0; };
			tx = { drop = 5.0; reorder = 25.0; dup = 1.0; };
		};
"""
i = text.index("link_wait_ms")
i = text.index("\n", i) + 1
text = text[:i] + fault + text[i:]
open(sys.argv[2], "w").write(text)
PY
		export BULWARK_CLIENT_IDLE=${BULWARK_CLIENT_IDLE:-5}
		export BULWARK_CONC_TIMEOUT=${BULWARK_CONC_TIMEOUT:-100}
		;;
	afp | xdp | memif)
		cp "$root/config/lab.conf" "$1"
		;;
	flood)
		# a half-open table a SYN flood overflows at once (SYN cookies)
		sed -e 's/half_open = [0-9]*;/half_open = 64;/' "$root/config/lab.conf" >"$1"
		grep -q 'half_open = 64;' "$1" || { echo "make_variant flood: no half_open in lab.conf" >&2; exit 1; }
		;;
	*)
		echo "unknown BULWARK_LAB_VARIANT '$variant'" >&2
		exit 1
		;;
	esac
}

# stop_bulwark: SIGTERM, wait for the exit status (BULWARK_STATE/exit);
# echoes it ("none" if Bulwark did not end within 15 s).
stop_bulwark() {
	local i
	kill -TERM "$BULWARK_PID" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		[[ -f $BULWARK_STATE/exit ]] && break
		sleep 0.1
	done
	cat "$BULWARK_STATE/exit" 2>/dev/null || echo none
}

lab_down() {
	local rc=$?
	trap - EXIT
	[[ -n $lab_conf ]] && rm -f "$lab_conf"
	if [[ -n $LAB_NAME ]]; then
		if ((rc != 0 || fails != 0)) && [[ -n ${BULWARK_LOG:-} && -f $BULWARK_LOG ]]; then
			echo "--- end of $BULWARK_LOG"
			tail -n 15 "$BULWARK_LOG"
		fi
		"$root/tools/lab" down --name "$LAB_NAME" || true
	fi
	exit "$rc"
}

# lab_busy: exits (failing) when a lab named LAB_NAME is up already: it
# belongs to another run of the same test, which the EXIT trap must not
# take down (LAB_NAME is cleared first).
lab_busy() {
	if "$root/tools/lab" status --name "$LAB_NAME" >/dev/null 2>&1; then
		echo "FAIL lab $LAB_NAME is up already (another run of this test?): left alone"
		LAB_NAME=
		exit 1
	fi
}

lab_up() {
	local out args=()
	LAB_NAME=$1${variant:+_${variant:0:2}}
	trap lab_down EXIT
	trap 'exit 130' INT TERM
	if [[ -n $variant ]]; then
		lab_conf=$(mktemp /tmp/bulwark-lab-XXXXXX.conf)
		make_variant "$lab_conf"
		args=(--config "$lab_conf")
	fi
	case $variant in
	afp) args+=(--port af_packet) ;;
	xdp) args+=(--port af_xdp) ;;
	memif) args+=(--port memif) ;;
	esac
	lab_busy
	out=$("$root/tools/lab" up --name "$LAB_NAME" "${args[@]}")
	eval "$out"
	echo "lab $LAB_NAME up${variant:+ ($variant)}: bulwark pid $BULWARK_PID at $BULWARK_ADDR"
	if [[ ${LAB_PORT:-tap} != tap ]]; then
		# the variant is worth nothing unless Bulwark really runs on that PMD
		grep -m1 -o "event=port_up port=[^ ]* driver=net_$LAB_PORT " "$BULWARK_LOG" ||
			{ echo "FAIL bulwark's port is not net_$LAB_PORT"; exit 1; }
	fi
}

# cli CMD...: CMD in the client namespace.
cli() {
	"$root/tools/lab" exec --name "$LAB_NAME" "$@"
}

# smtpc ARGS...: tests/integration/client.py against Bulwark (see there).
smtpc() {
	cli "$PY" "$root/tests/integration/client.py" "$BULWARK_ADDR" "$@"
}

# expect WHAT OUTPUT REGEX...: every extended regex must match a line of
# OUTPUT (in order of the arguments, not of the lines).
expect() {
	local what=$1 out=$2 re ok=1
	shift 2
	for re in "$@"; do
		grep -Eq -- "$re" <<<"$out" || { ok=0; echo "FAIL $what: no line matches /$re/"; }
	done
	if ((ok)); then
		echo "ok   $what"
	else
		fails=$((fails + 1))
		echo "---- got:"
		sed 's/^/     /' <<<"$out"
	fi
}

# reject WHAT OUTPUT REGEX: no line of OUTPUT may match.
reject() {
	if grep -Eq -- "$3" <<<"$2"; then
		fails=$((fails + 1))
		echo "FAIL $1: a line matches /$3/"
		sed 's/^/     /' <<<"$2"
	else
		echo "ok   $1"
	fi
}

finish() {
	if ((fails)); then
		echo "$fails check(s) failed"
		exit 1
	fi
	echo "all checks passed"
}
