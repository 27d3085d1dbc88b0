#!/usr/bin/env bash
# The binary's command line (DESIGN §4): --version, --help, --check-config
# on a valid and on broken configs, and the refusal to probe PCI devices.
# No lab: nothing here starts the EAL.
. "$(dirname "$0")/lib.sh"

bin=${BULWARK_BIN:-$root/build/release/bulwark}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$("$bin" --version)
expect "--version" "$out" '^bulwark [0-9]+\.[0-9]+\.[0-9]+'
out=$("$bin" --help)
expect "--help" "$out" '^usage: bulwark -c FILE' 'check-config'

rc=0
out=$("$bin" -c "$root/config/lab.conf" --check-config 2>&1) || rc=$?
expect "--check-config on lab.conf exits 0" "$out rc=$rc" 'lab\.conf: ok rc=0$'

sed 's/address = "198.18.0.2\/24"/address = "198.18.0.2\/33"/' "$root/config/lab.conf" >"$tmp/bad.conf"
rc=0
out=$("$bin" -c "$tmp/bad.conf" --check-config 2>&1) || rc=$?
expect "--check-config names the key and the line, exits 1" "$out rc=$rc" \
	'bad\.conf:[0-9]+: ports\[0\]\.address: .* rc=1$'

sed 's/"--no-pci", //' "$root/config/lab.conf" >"$tmp/nopci.conf"
rc=0
out=$("$bin" -c "$tmp/nopci.conf" --check-config 2>&1) || rc=$?
expect "no --no-pci and no allow list: refused" "$out rc=$rc" 'eal\.args: neither --no-pci nor an allow list.* rc=1$'
rc=0
out=$("$bin" -c "$tmp/nopci.conf" 2>&1) || rc=$?
expect "... also when starting (before the EAL)" "$out rc=$rc" 'event=config_error .*eal\.args.* rc=1$'
reject "... and the EAL never ran" "$out" '^EAL:'

rc=0
out=$("$bin" 2>&1) || rc=$?
expect "no -c: usage, exit 2" "$out rc=$rc" '^usage:' 'rc=2$'
finish
