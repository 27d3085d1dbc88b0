#!/usr/bin/env bash
# SMTP smuggling, exhaustively (issue 4, "Proof"): every sequence of 1..6
# bytes over {CR, LF, NUL, '.'} inside a body, through Bulwark to the
# recording backend, under data_policy "reject" (lab.conf's default) and
# "normalize": the backend never receives an end of data before the real
# one, nor a bare CR or LF; under reject a bad body gets 550 5.5.2 and the
# backend stores nothing for it. tests/integration/relay_smuggle.py does
# the sending and the checks.
. "$(dirname "$0")/relay_lib.sh"
jobs=${RELAY_SMUGGLE_JOBS:-8}

for policy in reject normalize; do
	conf=$RELAY_TMP/$policy.conf
	sed "s/^smtp = {/smtp = {\n\tdata_policy = \"$policy\";/" "$root/config/lab.conf" >"$conf"
	grep -q "data_policy = \"$policy\"" "$conf" || { fail "no smtp section in lab.conf"; continue; }
	relay_up "it_smug_${policy:0:3}" --config "$conf" --backend record
	echo "---- data_policy = \"$policy\""
	out=$(cli "$PY" "$root/tests/integration/relay_smuggle.py" "$BULWARK_ADDR" "$BACKEND_SPOOL" \
		--policy "$policy" --jobs "$jobs" 2>&1) || true
	echo "$out"
	n=$(grep -c '^FAIL' <<<"$out" || true)
	fails=$((fails + n))
	grep -q '^ok   raw' <<<"$out" || ((n)) || fail "$policy: relay_smuggle.py did not finish" "$out"
done

finish
