#!/usr/bin/env bash
# Reload of a STARTTLS backend on SIGHUP (no restart): Bulwark starts with
# the recorder behind tls = "starttls" and a tls_ca that did not sign the
# recorder's certificate (MAIL gets 421, nothing stored). The file is
# rewritten to an unreadable tls_ca and SIGHUP sent: the reload fails,
# naming the file, and the running backends stay. Then to the right CA:
# the relay takes the new client context and the next mail is delivered
# over verified TLS. Lab it_gprt.
. "$(dirname "$0")/relay_lib.sh"

good=$RELAY_TMP/good
wrong=$RELAY_TMP/wrong
mkdir -p "$good" "$wrong"
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=it_gprt test CA" -keyout "$1/$2.key" -out "$1/$2.pem" 2>/dev/null
}
ca "$good" ca
ca "$wrong" ca # same subject, other key
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=recorder.lab \
	-keyout "$good/key.pem" -out "$good/req.csr" 2>/dev/null
printf 'subjectAltName=DNS:recorder.lab\nbasicConstraints=CA:FALSE\n' >"$good/ext.cnf"
openssl x509 -req -in "$good/req.csr" -CA "$good/ca.pem" -CAkey "$good/ca.key" -CAcreateserial \
	-days 2 -extfile "$good/ext.cnf" -out "$good/cert.pem" 2>/dev/null
cp "$good/cert.pem" "$good/key.pem" "$wrong/"

mail() {
	smtpc --pause 0.3 --idle 3 'EHLO client.example\r\n' 'MAIL FROM:<r@example.org>\r\n' \
		'RCPT TO:<b@example.org>\r\n' 'DATA\r\n' 'Subject: r\r\n\r\nacross a reload\r\n.\r\n' \
		'QUIT\r\n'
}
# waitlog REGEX: up to 5 s for a line of Bulwark's log
waitlog() {
	for ((i = 0; i < 50; i++)); do
		grep -qE "$1" "$BULWARK_LOG" && return 0
		sleep 0.1
	done
	return 1
}

relay_up it_gprt --backend record --backend-proxy v2 --backend-tls "$wrong"
conf=$BULWARK_STATE/bulwark.conf
grep -q "tls_ca = \"$wrong/ca.pem\"" "$conf" || { fail "the lab config has no tls_ca to replace"; finish; }
out=$(smtpc --pause 0.3 --idle 3 'EHLO client.example\r\n' 'MAIL FROM:<w@example.org>\r\n' 'QUIT\r\n')
expect "wrong CA: MAIL gets 421 4.3.0" "$out" '^421 4\.3\.0'

sed -i "s|tls_ca = \"$wrong/ca.pem\"|tls_ca = \"$RELAY_TMP/nonexistent.pem\"|" "$conf"
kill -HUP "$BULWARK_PID"
waitlog 'event=reload_failed.*nonexistent\.pem' && ok "an unreadable tls_ca: the reload fails, naming the file" ||
	fail "no reload_failed naming the file" "$(tail -n 5 "$BULWARK_LOG")"
reject "... and the relays keep their backends" "$(cat "$BULWARK_LOG")" 'event=relay_reload '

sed -i "s|tls_ca = \"$RELAY_TMP/nonexistent.pem\"|tls_ca = \"$good/ca.pem\"|" "$conf"
kill -HUP "$BULWARK_PID"
waitlog 'event=backend_reload_done' && ok "the right CA: reloaded without a restart" ||
	fail "no backend_reload_done" "$(tail -n 5 "$BULWARK_LOG")"
out=$(mail)
expect "... the next mail is delivered" "$out" '^250 2\.0\.0' '^221 '
n=$(stored)
((n == 1)) && ok "... one message stored" || fail "... $n messages stored, not 1"
out=$("$PY" - "$BACKEND_SPOOL" <<'PY'
import glob, json, sys
sides = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/*.json")]
print(" ".join(s["tls"]["version"] if s.get("tls") else "clear" for s in sides))
PY
)
expect "... over TLS" "$out" '^TLSv1\.[23]$'
st=$(stop_bulwark)
expect "bulwark exits 0" "$st" '^0$'
expect "logged" "$(cat "$BULWARK_LOG")" 'event=backend_tls_fail relay=0 backend=lab reason="certificate verify failed' \
	'event=backend_reload backends=1 ' 'event=relay_reload relay=0 backends=1 kept=1 added=0 removed=0'
finish
