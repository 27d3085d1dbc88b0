#!/usr/bin/env bash
# STARTTLS from the relay to the backend (issue 5's last relay item,
# "Proof: a backend behind tls = starttls receives the mail over TLS").
# The recording backend offers STARTTLS with a certificate from a CA made
# now (ECDSA P-256, in the test's scratch directory) and requires it (530
# to MAIL in the clear). Bulwark's backend: tls = "starttls", tls_verify =
# "ca" with that CA and tls_name = "recorder.lab" (tools/lab
# --backend-tls). smtplib and swaks mail arrives byte-identical (sha256),
# every message over TLS; a plaintext MAIL straight to the recorder gets
# 530. Then the same backend with a CA that did not sign its certificate:
# the client gets 421 at MAIL, the handshake failure is counted and
# logged, nothing is stored. And an unreadable tls_ca fails
# --check-config naming the backend and the file.
. "$(dirname "$0")/relay_lib.sh"

client=198.18.1.2
good=$RELAY_TMP/good
wrong=$RELAY_TMP/wrong
mkdir -p "$good" "$wrong"

# ca DIR NAME: a self-signed CA in DIR/NAME.pem (key NAME.key)
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=it_rt test CA" -keyout "$1/$2.key" -out "$1/$2.pem" 2>/dev/null
}
ca "$good" ca
ca "$wrong" ca # same subject, other key: only the signature tells them apart
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=recorder.lab \
	-keyout "$good/key.pem" -out "$good/req.csr" 2>/dev/null
printf 'subjectAltName=DNS:recorder.lab\nbasicConstraints=CA:FALSE\n' >"$good/ext.cnf"
openssl x509 -req -in "$good/req.csr" -CA "$good/ca.pem" -CAkey "$good/ca.key" -CAcreateserial \
	-days 2 -extfile "$good/ext.cnf" -out "$good/cert.pem" 2>/dev/null
cp "$good/cert.pem" "$good/key.pem" "$wrong/"

# --- an unreadable tls_ca: --check-config fails and names it
conf=$RELAY_TMP/badca.conf
{
	cat "$root/config/lab.conf"
	printf 'backends = ( { address = "198.19.0.10"; tls = "starttls"; tls_ca = "%s"; } );\n' \
		"$RELAY_TMP/nonexistent.pem"
} >"$conf"
out=$("${BULWARK_BIN:-$root/build/release/bulwark}" -c "$conf" --check-config 2>&1) &&
	fail "--check-config accepted an unreadable tls_ca" "$out" ||
	expect "--check-config: an unreadable tls_ca is refused, naming backend and file" "$out" \
		"backends\[0\] \(backend0\): tls_ca $RELAY_TMP/nonexistent\.pem: No such file"

# --- the right CA: mail over TLS
relay_up it_rt --backend record --backend-proxy v2 --backend-tls "$good"
out=$(cli "$PY" "$root/tests/integration/relay_mail.py" send "$BULWARK_ADDR" --manifest "$RELAY_TMP/tls.jsonl" \
	--sessions 2 --messages "${RELAY_MESSAGES:-24}" --big 0 --medium 1 --swaks "${RELAY_SWAKS:-3}" 2>&1) &&
	ok "STARTTLS backend: ${out#ok   }" || fail "STARTTLS backend: sending" "$out"
out=$("$PY" "$root/tests/integration/relay_mail.py" check "$BACKEND_SPOOL" --manifest "$RELAY_TMP/tls.jsonl" \
	--client "$client" --via proxy-v2 2>&1) && ok "STARTTLS backend: ${out##*ok   }" ||
	fail "STARTTLS backend: what the backend stored" "$out"
out=$("$PY" - "$BACKEND_SPOOL" <<'PY'
import glob, json, sys
sides = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/*.json")]
clear = [s["n"] for s in sides if not s.get("tls")]
vers = sorted({s["tls"]["version"] + " " + s["tls"]["cipher"] for s in sides if s.get("tls")})
if not sides or clear:
    sys.exit("%d messages, in the clear: %s" % (len(sides), clear))
print("all %d messages came over TLS (%s)" % (len(sides), ", ".join(vers)))
PY
) && ok "... $out" || fail "... a message came in the clear" "$out"
# each backend connection: PROXY v2, our EHLO, STARTTLS, then (decrypted)
# the client's EHLO first
raw=$(rawcmds)
out=$(awk '$2 == "cmd" { n[$1]++; if (n[$1] <= 3) s[$1] = s[$1] " " toupper($3) }
	END { for (c in s) if (s[c] != " EHLO STARTTLS EHLO") print c ":" s[c] }' <<<"$raw")
[[ -z $out && -n $raw ]] && ok "... every connection: EHLO, STARTTLS, then EHLO again over TLS" ||
	fail "... connections that did not open with EHLO, STARTTLS, EHLO" "${out:-no connection}"
n1=$(awk '$2 == "cmd" && toupper($3) == "EHLO" && $4 == "bulwark.lab"' <<<"$raw" | wc -l)
n2=$(awk '$2 == "cmd" && toupper($3) == "STARTTLS"' <<<"$raw" | wc -l)
((n1 == n2 && n2 > 0)) && ok "... the EHLO before TLS is the relay's own (bulwark.lab), $n2 times" ||
	fail "... $n1 EHLO bulwark.lab for $n2 STARTTLS"
# require_starttls: what Bulwark would have sent in the clear is refused
out=$(bexec /usr/bin/python3 - "$BACKEND_ADDR" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 25), timeout=10)
s.sendall(b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00")  # PROXY v2 LOCAL, as --proxy v2 wants
f = s.makefile("rb")
def reply():
    lines = [f.readline()]
    while lines[-1][3:4] == b"-":
        lines.append(f.readline())
    return b"".join(lines).decode()
reply()
s.sendall(b"EHLO plain.example\r\n")
print("starttls offered:", "STARTTLS" in reply())
s.sendall(b"MAIL FROM:<plain@example.org>\r\n")
print("MAIL in the clear:", reply()[:3])
s.sendall(b"QUIT\r\n")
PY
)
expect "the recorder refuses MAIL in the clear (require_starttls): 530" "$out" \
	'^starttls offered: True' '^MAIL in the clear: 530$'
st=$(stop_bulwark)
stats=$(grep -m1 'event=relay_stats' "$BULWARK_LOG" || true)
done_=$(grep -o ' tls_done=[0-9]*' <<<"$stats" | cut -d= -f2)
fail_=$(grep -o ' tls_fail=[0-9]*' <<<"$stats" | cut -d= -f2)
((${done_:-0} >= n2 && ${done_:-0} > 0 && ${fail_:-1} == 0)) &&
	ok "... relay_stats: tls_done=$done_ (>= $n2 connections), tls_fail=0 (exit $st)" ||
	fail "... relay_stats counters" "$stats"

# --- a CA that did not sign the backend's certificate: 421, counted
relay_up it_rtw --backend record --backend-proxy v2 --backend-tls "$wrong"
out=$(smtpc --pause 0.3 --idle 3 'EHLO client.example\r\n' 'MAIL FROM:<w@example.org>\r\n' 'QUIT\r\n')
expect "wrong CA: MAIL gets 421 4.3.0 (the only backend failed its handshake)" "$out" '^421 4\.3\.0'
n=$(stored)
((n == 0)) && ok "... nothing stored" || fail "... $n messages stored"
raw=$(rawcmds)
reject "... no command after STARTTLS reached the backend" \
	"$(awk '$2 == "cmd" && toupper($3) != "EHLO" && toupper($3) != "STARTTLS"' <<<"$raw")" '.'
expect "... logged with the reason" "$(cat "$BULWARK_LOG")" \
	'event=backend_tls_fail relay=0 backend=lab reason="certificate verify failed'
st=$(stop_bulwark)
stats=$(grep -m1 'event=relay_stats' "$BULWARK_LOG" || true)
fail_=$(grep -o ' tls_fail=[0-9]*' <<<"$stats" | cut -d= -f2)
((${fail_:-0} >= 1)) && ok "... relay_stats: tls_fail=$fail_ (exit $st)" ||
	fail "... relay_stats: no tls_fail" "$stats"
expect "... per backend too" "$(cat "$BULWARK_LOG")" 'event=relay_backend_stats relay=0 backend=lab .* tls_fail=[1-9]'

finish
