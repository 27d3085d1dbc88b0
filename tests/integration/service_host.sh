#!/usr/bin/env bash
# The host side of issue 7, no lab: config/bulwark.service passes
# `systemd-analyze verify` (when systemd-analyze exists), reloads with
# SIGHUP, stops with SIGTERM and waits longer than the shipped drain_ms;
# `tools/setup --production` prints every section of the checklist with ok
# or TODO lines and changes nothing (hugepages, mounts, modules, NIC
# drivers are the same after it).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BULWARK_BIN:-$root/build/release/bulwark}
fails=0
ok() { echo "ok   $1"; }
fail() {
	fails=$((fails + 1))
	echo "FAIL $1"
	[[ -z ${2:-} ]] || sed 's/^/     /' <<<"$2"
}
tmp=$(mktemp -d /tmp/bulwark-svhost-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

unit=$root/config/bulwark.service
if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/local/sbin/bulwark|$bin|g" "$unit" >"$tmp/bulwark.service"
	if out=$(systemd-analyze verify "$tmp/bulwark.service" 2>&1) && [[ -z $out ]]; then
		ok "systemd-analyze verify: the unit is clean"
	else
		fail "systemd-analyze verify complains" "$out"
	fi
	# the check can fail: a unit with an unknown key is reported
	printf '[Service]\nExecStart=%s\nBogusKey=1\n' "$bin" >"$tmp/bad.service"
	out=$(systemd-analyze verify "$tmp/bad.service" 2>&1)
	grep -q "Unknown key 'BogusKey'" <<<"$out" && ok "... and it does report a broken unit" ||
		fail "systemd-analyze verify did not report an unknown key" "$out"
else
	echo "skip systemd-analyze verify: not installed"
fi
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$unit" && ok "reload is SIGHUP" || fail "ExecReload is not kill -HUP"
grep -q '^KillSignal=SIGTERM$' "$unit" && ok "stop is SIGTERM (the drain)" || fail "KillSignal is not SIGTERM"
grep -q '^LimitMEMLOCK=infinity$' "$unit" && ok "LimitMEMLOCK=infinity" || fail "no LimitMEMLOCK=infinity"
stop_s=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$unit")
drain_ms=$(sed -n 's/^\tdrain_ms = \([0-9]*\);$/\1/p' "$root/config/bulwark.conf")
if [[ -n $stop_s && -n $drain_ms ]] && ((stop_s * 1000 > drain_ms + 5000)); then
	ok "TimeoutStopSec=${stop_s}s is above drain_ms=${drain_ms} ms plus 5 s"
else
	fail "TimeoutStopSec '${stop_s}' s vs drain_ms '${drain_ms}' ms"
fi

snap() {
	cat /sys/kernel/mm/hugepages/*/nr_hugepages /proc/sys/vm/nr_hugepages 2>/dev/null
	awk '{print $2, $3}' /proc/mounts | sort
	ls /sys/module | sort
	for d in /sys/bus/pci/devices/*; do echo "$d $(basename "$(readlink -f "$d/driver" 2>/dev/null)")"; done
}
snap >"$tmp/before"
out=$("$root/tools/setup" --production --bin "$bin" --config "$root/config/lab.conf" 2>&1)
rc=$?
snap >"$tmp/after"
echo "$out" | sed 's/^/     /'
for s in 'CPU and NUMA' 'Kernel command line' 'Hugepages' 'Memory locking' 'NICs' 'Bulwark'; do
	grep -q "^== $s" <<<"$out" || fail "setup --production: no section '$s'"
done
grep -Eq '^(ok|TODO) +.*isolcpus' <<<"$out" && grep -Eq '^(ok|TODO) +.*nohz_full' <<<"$out" &&
	grep -Eq '^(ok|TODO) +.*hugepages' <<<"$out" && grep -Eq '^(ok|TODO) +.*(vfio-pci|dpdk-devbind)' <<<"$out" &&
	ok "setup --production checks isolcpus, nohz_full, hugepages and NIC binding" ||
	fail "setup --production lacks an item"
grep -q '^ok    config/lab.conf: valid$\|lab.conf: valid' <<<"$out" && ok "... and runs --check-config on the config" ||
	fail "setup --production did not check the config"
n_todo=$(grep -c '^TODO' <<<"$out")
if { ((n_todo > 0)) && ((rc == 1)); } || { ((n_todo == 0)) && ((rc == 0)); }; then
	ok "exit status $rc with $n_todo TODO item(s)"
else
	fail "exit status $rc with $n_todo TODO item(s)"
fi
cmp -s "$tmp/before" "$tmp/after" && ok "setup --production changed nothing (hugepages, mounts, modules, PCI drivers)" ||
	fail "setup --production changed the host" "$(diff "$tmp/before" "$tmp/after")"
((fails)) && { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
