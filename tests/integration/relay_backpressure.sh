#!/usr/bin/env bash
# Backpressure through the relay (issue 4, "Proof"): a 50 MiB message while
# the recording backend stops reading (SIGUSR1). The client's sending
# stalls (its send queue full, the window Bulwark offers closed), Bulwark's
# memory stays bounded, and once the backend reads again the message
# arrives byte-identical.
#
# RELAY_BP_MIB (default 50) sets the size; RELAY_BP_RSS_MIB (default 24) the
# most Bulwark's VmRSS may grow while the backend is paused (hugepage memory
# is not in VmRSS: its pools are fixed at startup; HugetlbPages is checked
# to stay put).
. "$(dirname "$0")/relay_lib.sh"
mib=${RELAY_BP_MIB:-50}
cap=${RELAY_BP_RSS_MIB:-24}
st=$RELAY_TMP/big
mkdir -p "$st"

kib() { # kib FIELD: that /proc/BULWARK_PID/status field in KiB (0 if absent)
	awk -v f="$1:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$BULWARK_PID/status"
}

relay_up it_rbp --backend record
rss0=$(kib VmRSS)
huge0=$(kib HugetlbPages)

# tools/lab exec execs the client: $! is the client itself
"$root/tools/lab" exec --name "$LAB_NAME" "$PY" "$root/tests/integration/relay_mail.py" big \
	"$BULWARK_ADDR" --mib "$mib" --state "$st" >"$st/out" 2>&1 &
sender=$!
RELAY_PIDS+=("$sender")
for ((i = 0; i < 300; i++)); do
	[[ -f $st/data || -f $st/result ]] && break
	sleep 0.1
done
if [[ ! -f $st/data ]]; then
	fail "no 354 for the big message" "$(cat "$st/result" "$st/out" 2>/dev/null)"
	finish
fi
ok "envelope accepted, 354"

kill -USR1 "$BACKEND_PID" # the backend stops reading
sleep 0.5
touch "$st/go"
sleep 6
s1=$(cat "$st/sent" 2>/dev/null || echo 0)
rss1=$(kib VmRSS)
sleep 4
s2=$(cat "$st/sent" 2>/dev/null || echo 0)
rss2=$(kib VmRSS)
huge2=$(kib HugetlbPages)
ssout=$(cli ss -tin "dst $BULWARK_ADDR:25")
total=$((mib << 20))
if [[ ! -f $st/result ]] && ((s1 == s2 && s2 < total)); then
	ok "backend paused: the client's sending stalled at $((s2 >> 20)) of $mib MiB (no progress for 4 s)"
else
	fail "backend paused: the client was not held back: sent $s1 then $s2 of $total octets" \
		"$(cat "$st/result" 2>/dev/null)"
fi
sendq=$(awk '$1 == "ESTAB" { print $3; exit }' <<<"$ssout")
if ((${sendq:-0} > 0)) && grep -q 'rwnd_limited\|backoff' <<<"$ssout"; then
	ok "... client socket: Send-Q $sendq octets, limited by the receive window ($(grep -o 'rwnd_limited:[^ ]*' <<<"$ssout"))"
else
	fail "... the client's socket does not look window-limited" "$ssout"
fi
grow=$(((rss2 - rss0) / 1024))
if ((grow < cap && huge2 == huge0)); then
	ok "... Bulwark's VmRSS $((rss0 / 1024)) -> $((rss2 / 1024)) MiB (cap +$cap), hugepages unchanged ($((huge2 / 1024)) MiB)"
else
	fail "... Bulwark's memory grew: VmRSS $((rss0 / 1024)) -> $((rss1 / 1024)) -> $((rss2 / 1024)) MiB, HugetlbPages $huge0 -> $huge2 KiB"
fi

kill -USR1 "$BACKEND_PID" # reading again
for ((i = 0; i < 1200; i++)); do
	[[ -f $st/result ]] && break
	sleep 0.1
done
if [[ -f $st/result ]]; then
	result=$(cat "$st/result")
	wait "$sender" || true
else
	result="no reply within 120 s of the resume: sent $(cat "$st/sent") of $total octets"
	result+=$'\n'"$(cli ss -tin "dst $BULWARK_ADDR:25")"
	result+=$'\n'"$(bexec ss -tin "sport = :25")"
fi
expect "backend resumed: the message completes, 250" "$result" '^250 '
sha=$(side big@client.example sha256)
if [[ -n $sha && $sha == "$(cat "$st/sha256")" ]]; then
	ok "... stored byte-identical ($mib MiB, sha256 ${sha:0:16}...)"
else
	fail "... stored sha256 '$sha', sent $(cat "$st/sha256")"
fi

# the counters Bulwark logs when it stops (pools, parking, relay)
code=$(stop_bulwark)
[[ $code == 0 ]] && ok "Bulwark drained and exited 0" || fail "Bulwark's exit status on SIGTERM: $code"
grep -E 'event=(worker|relay)_stats' "$BULWARK_LOG" | sed 's/^/     /' || true

finish
