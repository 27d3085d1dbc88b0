# shellcheck shell=bash
# tests/integration/relay_lib.sh — sourced by the relay tests (relay*.sh):
# lib.sh's conventions (expect, reject, finish, cli, smtpc, fails) plus a
# lab with a backend MTA.
#
# relay_up NAME LAB-OPTIONS... brings up tools/lab with those options
# (--backend record|sink, --backend-proxy, --backend-xclient,
# --backend-args, --config) and sets the BULWARK_* and BACKEND_* variables;
# the EXIT trap prints the end of both logs on failure, takes the lab
# down, ends the clients listed in RELAY_PIDS and removes RELAY_TMP (a
# scratch directory). Calling it again replaces the lab. BULWARK_LAB_VARIANT=fault runs it
# on the fault-injecting port (lib.sh), unless the caller gives --config.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RELAY_TMP=$(mktemp -d /tmp/bulwark-relay-XXXXXX)
RELAY_PIDS=() # background clients the test started: ended by relay_down

relay_down() {
	local rc=$? pid
	for pid in "${RELAY_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	rm -rf "$RELAY_TMP"
	if ((rc != 0 || fails != 0)) && [[ -n ${BACKEND_LOG:-} && -f $BACKEND_LOG ]]; then
		echo "--- end of $BACKEND_LOG"
		tail -n 15 "$BACKEND_LOG"
	fi
	set +e # lab_down reads the test's status from $?
	(exit "$rc")
	lab_down
}

relay_up() {
	local out name=$1 args=()
	shift
	[[ -n $LAB_NAME ]] && "$root/tools/lab" down --name "$LAB_NAME"
	LAB_NAME=$name${variant:+_${variant:0:2}}
	trap relay_down EXIT
	trap 'exit 130' INT TERM
	if [[ -n $variant && " $* " != *" --config "* ]]; then
		lab_conf=${lab_conf:-$(mktemp /tmp/bulwark-lab-XXXXXX.conf)}
		make_variant "$lab_conf"
		args=(--config "$lab_conf")
	fi
	lab_busy
	out=$("$root/tools/lab" up --name "$LAB_NAME" "${args[@]}" "$@")
	eval "$out"
	echo "lab $LAB_NAME up${variant:+ ($variant)}: bulwark pid $BULWARK_PID, $BACKEND_KIND backend" \
		"pid $BACKEND_PID at $BACKEND_ADDR:$BACKEND_PORT"
}

# backend_restart ARGS: the same backend again with other --backend-args.
backend_restart() {
	eval "$("$root/tools/lab" backend-restart --name "$LAB_NAME" --backend-args "$1")"
}

# bexec CMD...: CMD in the backend namespace.
bexec() {
	"$root/tools/lab" bexec --name "$LAB_NAME" "$@"
}

# stored: how many messages the recorder has stored.
stored() {
	find "$BACKEND_SPOOL" -maxdepth 1 -name '*.json' | wc -l
}

# ok WHAT / fail WHAT [DETAIL]: one result line; fail counts.
ok() {
	echo "ok   $1"
}
fail() {
	fails=$((fails + 1))
	echo "FAIL $1"
	[[ -z ${2:-} ]] || sed 's/^/     /' <<<"$2"
}

# check WHAT CMD...: ok when CMD succeeds, else fail with its output.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		fail "$what" "$out"
	fi
}

# rawcmds [CONN...]: the commands the backend received, "<conn> cmd <line>"
# (tests/integration/relay_raw.py).
rawcmds() {
	"$PY" "$root/tests/integration/relay_raw.py" "$BACKEND_SPOOL" "$@"
}

# side SENDER FIELD: FIELD of the stored message from SENDER (empty if none).
side() {
	"$PY" - "$BACKEND_SPOOL" "$1" "$2" <<'PY'
import glob, json, sys
for f in glob.glob(sys.argv[1] + "/*.json"):
    s = json.load(open(f))
    if s["mail_from"] == sys.argv[2]:
        print(s.get(sys.argv[3]))
PY
}

# misplaced_ehlo: commands EHLO/HELO the backend got other than as the
# first command of a connection (or right after an XCLIENT): each one a
# client's EHLO that reached the backend.
misplaced_ehlo() {
	rawcmds | awk '$2 == "cmd" { v = toupper($3); n[$1]++
		if ((v == "EHLO" || v == "HELO") && n[$1] > 1 && prev[$1] != "XCLIENT") print
		prev[$1] = v }'
}
