#!/usr/bin/env bash
# Backend faults at every stage (issue 4, "Proof"): Postfix smtp-sink's
# -r/-f (4xx/5xx), -q/-Q (disconnect, 421) and -A (550 after DATA), and
# the recorder's --fail/--drop/--no-greet. Each gives the client the
# right reply; the client never hears 250 for a message the backend did not
# accept, and the recorder stores nothing then. A backend that never greets
# or is gone: MAIL gets 421 4.3.0 (one backend), junk still gets 500.
# Health checks mark a backend that never greets down and keep a healthy
# PROXY v2 one up; sessions fail over.
. "$(dirname "$0")/relay_lib.sh"

E='EHLO client.example\r\n'
M='MAIL FROM:<f@example.org>\r\n'
R='RCPT TO:<r@example.org>\r\n'
D='DATA\r\n'
B='Subject: fault\r\n\r\nbody\r\n.\r\n'
Q='QUIT\r\n'

# steps STAGE: the client's commands up to and including STAGE ("body":
# a 1 MB body, for a backend that dies mid-DATA).
steps() {
	case $1 in
	mail) s=("$E" "$M") ;;
	rcpt) s=("$E" "$M" "$R") ;;
	data) s=("$E" "$M" "$R" "$D") ;;
	dot) s=("$E" "$M" "$R" "$D" "$B") ;;
	body) s=("$E" "$M" "$R" "$D" 'Subject: big\r\n\r\n' '@1000000*x' '\r\n.\r\n') ;;
	esac
}

# fault WHAT BACKEND-ARGS STAGE REGEX...: restarts the backend with
# BACKEND-ARGS, runs a session up to STAGE and QUIT; every REGEX must match
# a reply; no end-of-data 250 and nothing stored.
fault() {
	local what=$1 bargs=$2 stage=$3 before out
	shift 3
	backend_restart "$bargs"
	before=$(stored)
	steps "$stage"
	out=$(smtpc --pause 0.1 --idle "${idle:-2}" "${s[@]}" "$Q")
	expect "$what" "$out" "$@"
	reject "... never reported delivered" "$out" '^250 2\.0\.0'
	(($(stored) == before)) || fail "... but the backend stored a message"
}

# --- Postfix smtp-sink (no PROXY: it would not parse it)
relay_up it_rf_sink --backend sink
out=$(smtpc --pause 0.1 "$E" "$M" "$R" "$D" "$B" "$Q")
expect "smtp-sink, no fault: the message is accepted" "$out" '^354 ' '^250 2\.0\.0' '^221 '
fault "smtp-sink -r MAIL: 450 at MAIL" "-r MAIL" mail '^450 4\.3\.0'
fault "smtp-sink -f MAIL: 5xx at MAIL" "-f MAIL" mail '^5[0-9][0-9] 5\.3\.0'
fault "smtp-sink -r RCPT: 450 at RCPT" "-r RCPT" rcpt '^250 ' '^450 4\.3\.0'
fault "smtp-sink -f RCPT: 5xx at RCPT" "-f RCPT" rcpt '^250 ' '^5[0-9][0-9] 5\.3\.0'
fault "smtp-sink -r DATA: 450 at DATA" "-r DATA" data '^450 4\.3\.0'
fault "smtp-sink -f DATA: 5xx at DATA" "-f DATA" data '^5[0-9][0-9] 5\.3\.0'
fault "smtp-sink -r .: 450 after the dot" "-r ." dot '^354 ' '^450 4\.3\.0'
fault "smtp-sink -f .: 5xx after the dot" "-f ." dot '^354 ' '^5[0-9][0-9] 5\.3\.0'
fault "smtp-sink -q MAIL: disconnect at MAIL gives 4xx" "-q MAIL" mail '^4[25]1 4\.'
fault "smtp-sink -q RCPT: disconnect at RCPT gives 4xx" "-q RCPT" rcpt '^4[25]1 4\.'
fault "smtp-sink -q DATA: disconnect at DATA gives 4xx" "-q DATA" data '^4[25]1 4\.'
fault "smtp-sink -q .: disconnect after the dot gives 451 4.4.2" "-q ." dot '^451 4\.4\.2'
fault "smtp-sink -Q RCPT: the backend's 421" "-Q RCPT" rcpt '^421 '
fault "smtp-sink -A 0: 550 after DATA reaches the client" "-A 0" dot '^550 '

# --- the recorder (PROXY v2)
relay_up it_rf_rec --backend record
out=$(smtpc --pause 0.1 "$E" "$M" "$R" "$D" "$B" "$Q")
expect "recorder, no fault: the message is accepted" "$out" '^354 ' '^250 2\.0\.0' '^221 '
(($(stored) == 1)) && ok "... and stored" || fail "... stored $(stored) messages, not 1"
fault "recorder --fail mail=451" "--fail mail=451" mail '^451 4\.0\.0'
fault "recorder --fail mail=550" "--fail mail=550" mail '^550 5\.0\.0'
fault "recorder --fail rcpt=450" "--fail rcpt=450" rcpt '^250 ' '^450 4\.0\.0'
fault "recorder --fail rcpt=550" "--fail rcpt=550" rcpt '^250 ' '^550 5\.0\.0'
fault "recorder --fail rcpt=421 (and close)" "--fail rcpt=421" rcpt '^421 '
fault "recorder --fail data=451" "--fail data=451" data '^451 4\.0\.0'
fault "recorder --fail data=554" "--fail data=554" data '^554 5\.0\.0'
fault "recorder --fail dot=451" "--fail dot=451" dot '^354 ' '^451 4\.0\.0'
fault "recorder --fail dot=550" "--fail dot=550" dot '^354 ' '^550 5\.0\.0'
fault "recorder --drop mail: 4xx" "--drop mail" mail '^4[25]1 4\.'
fault "recorder --drop rcpt: 4xx" "--drop rcpt" rcpt '^4[25]1 4\.'
fault "recorder --drop data: 4xx" "--drop data" data '^4[25]1 4\.'
fault "recorder --drop body (reset mid-DATA): 451 4.4.2" "--drop body" body '^451 4\.4\.2'
fault "recorder --drop dot (gone before its reply): 451 4.4.2" "--drop dot" dot '^451 4\.4\.2'
# connect_timeout_ms (default 5 s) passes before MAIL is answered
idle=9 fault "recorder --no-greet: MAIL gets 421 4.3.0" "--no-greet" mail '^250-bulwark\.lab' \
	'^421 4\.3\.0'
out=$(cli curl --http0.9 -s -m 5 "http://$BULWARK_ADDR:25/" 2>&1 || true)
expect "... junk (curl --http0.9) still gets 500" "$out" '^500 5\.5\.2'

# --- the only backend gone: 421 4.3.0 at MAIL, junk as before
kill -TERM "$BACKEND_PID"
for ((i = 0; i < 50; i++)); do
	[[ -f $BULWARK_STATE/backend.exit ]] && break
	sleep 0.1
done
out=$(smtpc --pause 0.1 --idle 7 "$E" "$M" "$Q")
expect "backend gone: EHLO still answered, MAIL gets 421 4.3.0" "$out" '^250 ENHANCEDSTATUSCODES' '^421 4\.3\.0'
out=$(cli curl --http0.9 -s -m 5 "http://$BULWARK_ADDR:25/" 2>&1 || true)
expect "... junk (curl --http0.9) still gets 500" "$out" '^500 5\.5\.2'
out=$(smtpc 'HLEO x\r\n' "$Q")
expect "... typo still gets 500, QUIT 221" "$out" '^500 5\.5\.2' '^221 '

# --- failover and health checks: a second recorder on port 26 that never
# greets ("bad", first in the list) beside the lab's recorder on 25 ("lab");
# both expect PROXY v2 on every connection, health checks included, as
# Postfix does with smtpd_upstream_proxy_protocol.
# two_backends NAME INTERVAL_MS: a lab with both, health checks that often
two_backends() {
	local conf=$RELAY_TMP/$1.conf i
	sed -e 's/"-l", "0-1"/"--lcores", "0@0,1@1,2@0"/' \
		-e "s/^\tring_size = 1024;/&\n\tconnect_timeout_ms = 1000;\n\thealth = { interval_ms = $2; timeout_ms = 500; fall = 2; rise = 2; };/" \
		"$root/config/lab.conf" >"$conf"
	printf '%s\n' 'backends = (' \
		'	{ name = "bad"; address = "198.19.0.10"; port = 26; proxy_protocol = "v2"; },' \
		'	{ name = "lab"; address = "198.19.0.10"; port = 25; proxy_protocol = "v2"; }' \
		');' >>"$conf"
	grep -q "interval_ms = $2" "$conf" || fail "$1.conf: no relay section in lab.conf for the health checks"
	relay_up "$1" --config "$conf" --backend record
	rm -f "$RELAY_TMP/bad.ready"
	"$root/tools/lab" bexec --name "$LAB_NAME" "$PY" "$root/tests/integration/recorder.py" \
		--listen 198.19.0.10:26 --spool "$RELAY_TMP/$1.bad" --proxy v2 --no-greet \
		--ready-file "$RELAY_TMP/bad.ready" 2>"$RELAY_TMP/$1.bad.log" &
	RELAY_PIDS+=("$!")
	for ((i = 0; i < 50; i++)); do
		[[ -f $RELAY_TMP/bad.ready ]] && break
		sleep 0.1
	done
}

# failover within a session: no health check runs yet (backends start up)
two_backends it_rf_fo 60000
for k in 1 2 3 4; do
	out=$(smtpc --pause 0.1 --idle 3 "$E" "MAIL FROM:<fo$k@example.org>\r\n" "$R" "$D" "$B" "$Q")
	expect "failover $k: the message reaches the backend that greets" "$out" '^250 2\.1\.0' '^250 2\.0\.0'
done
(($(stored) == 4)) && ok "... all 4 stored by 'lab'" || fail "... 'lab' stored $(stored) of 4"
n=$(grep -c 'event=connect' "$RELAY_TMP/it_rf_fo.bad.log" || true)
((n > 0)) && ok "... after $n connection(s) to 'bad', which never greeted" ||
	fail "... 'bad' was never tried: failover not exercised"

# health checks every 300 ms, down after 2 failures
two_backends it_rf_hc 300
sleep 3
log=$(grep -E 'event=backend_(down|up)' "$BULWARK_LOG" || true)
expect "health checks mark the backend that never greets down" "$log" 'event=backend_down .*backend=bad'
reject "health checks keep the healthy PROXY v2 backend up" "$log" 'event=backend_down .*backend=lab'
reject "... as they open with a PROXY header" "$(cat "$BACKEND_LOG")" 'invalid PROXY'
out=$(smtpc --pause 0.1 --idle 3 "$E" "$M" "$R" "$Q")
expect "... and a session then is relayed" "$out" '^250 2\.1\.0' '^250 2\.1\.5'

finish
