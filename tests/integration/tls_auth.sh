#!/usr/bin/env bash
# AUTH end to end (issue 5): a submission listener (587: STARTTLS,
# require_tls, auth PLAIN LOGIN) in front of the recording backend with
# AUTH on (recorder.py --auth user:secret over the plaintext internal
# link). swaks --tls --auth PLAIN / LOGIN and smtplib starttls()+login()
# deliver byte-identical with the login recorded; a wrong password gets
# the backend's 535 through Bulwark; AUTH before STARTTLS gets 530; AUTH
# PLAIN initial responses and SASL continuation lines of 8000 and 12288
# octets (RFC 4954 §4) reach the backend intact (the recorder's raw
# bytes); 12289 octets get 500 5.5.2 and the session goes on. One AUTH
# work area (limits.auth_line_buffers = 1): a second session waits for it
# while the first holds half a long line, then both authenticate.
. "$(dirname "$0")/relay_lib.sh"

AUTHC=$root/tests/integration/tls_auth.py
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=bulwark.lab -keyout "$RELAY_TMP/key.pem" -out "$RELAY_TMP/cert.pem" 2>/dev/null
conf=$RELAY_TMP/auth.conf
"$PY" - "$root/config/lab.conf" "$conf" "$RELAY_TMP" <<'PY'
import sys
text = open(sys.argv[1]).read()
old = "listeners = (\n\t{ port = 25; }\n);"
assert old in text, "lab.conf: listeners changed"
new = """listeners = (
	{ port = 25; },
	{ port = 587; tls = "starttls"; require_tls = true; auth = [ "PLAIN", "LOGIN" ]; }
);

tls = {
	cert = "%s/cert.pem";
	key = "%s/key.pem";
};""" % (sys.argv[3], sys.argv[3])
text = text.replace(old, new)
old = "limits = {\n"
assert old in text, "lab.conf: no limits group"
text = text.replace(old, old + "\tauth_line_buffers = 1;\n", 1)
open(sys.argv[2], "w").write(text)
PY
out=$("${BULWARK_BIN:-$root/build/release/bulwark}" -c "$conf" --check-config 2>&1) &&
	ok "--check-config: a submission listener with AUTH" || fail "--check-config" "$out"

relay_up it_tsa --config "$conf" --backend record --backend-proxy v2 --backend-args "--auth user:secret"
ac() { cli "$PY" "$AUTHC" "$BULWARK_ADDR" "$@"; }

printf 'From: a@example.org\r\nTo: b@example.org\r\nSubject: auth %s\r\n\r\nline one\r\n.dot line\r\nbody\r\n' \
	"$$" >"$RELAY_TMP/msg.eml"
want=$(sha256sum "$RELAY_TMP/msg.eml" | cut -d' ' -f1)
tr -d '\r' <"$RELAY_TMP/msg.eml" >"$RELAY_TMP/msg.lf"
# swaks sends its file's lines with CRLF and ends DATA with an empty line
swaks_want=$( (cat "$RELAY_TMP/msg.eml"; printf '\r\n') | sha256sum | cut -d' ' -f1)
# delivered SENDER WANT: the recorder stored SENDER's message byte-identical
# (sha256 WANT), with the login "user"
delivered() {
	local h l
	h=$(side "$1" sha256)
	l=$(side "$1" auth_login)
	[[ $h == "$2" && $l == user ]] && ok "... $1: stored byte-identical, auth_login=user" ||
		fail "... $1: sha256 '$h' (want $2), auth_login '$l'"
}
# rawline SIZE SHA: a line of SIZE octets (CRLF included) with that sha256
# in the backend's raw bytes
rawline() {
	"$PY" - "$BACKEND_SPOOL" "$1" "$2" <<'PY'
import glob, hashlib, sys
size, sha = int(sys.argv[2]), sys.argv[3]
for f in glob.glob(sys.argv[1] + "/raw/*.bin"):
    for line in open(f, "rb").read().split(b"\n"):
        line += b"\n"
        if len(line) == size and hashlib.sha256(line).hexdigest() == sha:
            print("found in", f)
            sys.exit(0)
sys.exit(1)
PY
}

sw() { # swaks through 587 with STARTTLS and AUTH, ARGS...
	cli swaks --server "$BULWARK_ADDR" --port 587 --tls --ehlo swaks.example --to b@example.org \
		--data @"$RELAY_TMP/msg.lf" --timeout 15 "$@" 2>&1 || true
}

# --- swaks and smtplib: AUTH PLAIN, AUTH LOGIN, byte-identical delivery
out=$(sw --auth PLAIN --auth-user user --auth-password secret --from swaks-plain@example.org)
expect "swaks --tls --auth PLAIN" "$out" '^=== TLS started with cipher TLSv1\.[23]' \
	'^<~  235 2\.7\.0 Authentication successful' '^<~  250 2\.0\.0 Ok: queued'
out=$(sw --auth LOGIN --auth-user user --auth-password secret --from swaks-login@example.org)
expect "swaks --tls --auth LOGIN" "$out" '^<~  334 ' '^<~  235 2\.7\.0 Authentication successful' \
	'^<~  250 2\.0\.0 Ok: queued'
out=$(ac smtplib --msg "$RELAY_TMP/msg.eml" --from smtplib@example.org 2>&1 || true)
expect "smtplib starttls() + login()" "$out" '^TLS TLSv1\.[23] ' '^sent$'
sleep 0.5
delivered swaks-plain@example.org "$swaks_want"
delivered swaks-login@example.org "$swaks_want"
delivered smtplib@example.org "$want"

# --- the backend authenticates: a wrong password gets its 535
out=$(sw --auth PLAIN --auth-user user --auth-password wrong --from wrong@example.org)
expect "a wrong password: the backend's 535 reaches the client" "$out" '^<~\*? *535 5\.7\.8 '
reject "... and nothing is delivered" "$(side wrong@example.org sha256)" .

# --- require_tls: AUTH before STARTTLS
out=$(ac early 2>&1 || true)
expect "AUTH before STARTTLS gets 530" "$out" '^P: 250-AUTH PLAIN LOGIN|^P: 250.STARTTLS' \
	'^P: 530 5\.7\.0' '^P: 221 '

# --- long AUTH lines (RFC 4954 §4: 12288 octets). The client's line is
# the longest base64 fits in SIZE (up to 3 octets less); it prints "LINE
# <octets> <sha256>", which the backend's raw bytes must hold.
longline() { # CASE SIZE WHAT
	local out got
	out=$(ac "$1" --size "$2" --from "$1$2@example.org" --msg "$RELAY_TMP/msg.eml" 2>&1 || true)
	got=$(sed -n 's/^LINE \([0-9]*\) .*/\1/p' <<<"$out")
	expect "$3 ($got octets)" "$out" "^LINE $(($2 / 4 * 4 - 4))|^LINE $(($2 / 4 * 4 - 3))|^LINE $(($2 - 2))|^LINE $(($2 - 1))|^LINE $2 " \
		'^T: 235 2\.7\.0' '^T: 250 2\.0\.0 Ok: queued' '^T: 221 '
	check "... the backend received that line intact" rawline "${got:-0}" "$(sed -n 's/^LINE [0-9]* //p' <<<"$out")"
}
for size in 8000 12288; do
	longline ir "$size" "AUTH PLAIN with a long initial response"
	longline cont "$size" "AUTH PLAIN, then a long SASL continuation line"
done
sleep 0.5
for s in ir8000 cont8000 ir12288 cont12288; do
	delivered "$s@example.org" "$want"
done

# --- one AUTH work area, two sessions: the second waits (its window
# closes) while the first holds half of a 12000-octet line for 2 s
ac ir --size 12000 --pause 2 --from slow@example.org --msg "$RELAY_TMP/msg.eml" >"$RELAY_TMP/slow" 2>&1 &
RELAY_PIDS+=($!)
for _ in $(seq 100); do grep -q '^HALF' "$RELAY_TMP/slow" && break; sleep 0.05; done
t0=$(date +%s.%N)
out=$(ac ir --size 8000 --from fast@example.org --msg "$RELAY_TMP/msg.eml" 2>&1 || true)
t1=$(date +%s.%N)
wait "${RELAY_PIDS[@]}" 2>/dev/null || true
RELAY_PIDS=()
expect "one AUTH work area: the second session authenticates and delivers" "$out" \
	'^T: 235 2\.7\.0' '^T: 250 2\.0\.0 Ok: queued' '^T: 221 '
expect "... and so does the first, after its pause" "$(cat "$RELAY_TMP/slow")" \
	'^HALF' '^T: 235 2\.7\.0' '^T: 250 2\.0\.0 Ok: queued' '^T: 221 '
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 1.0) }' &&
	ok "... the second waited for the area ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)" ||
	fail "... the second session did not wait for the one AUTH area"
sleep 0.5
delivered slow@example.org "$want"
delivered fast@example.org "$want"

out=$(ac over --size 12289 2>&1 || true)
expect "an AUTH line of 12289 octets: 500 5.5.2, the session goes on (NOOP, AUTH)" "$out" \
	'^T: 500 5\.5\.2 ' '^T: 250 2\.0\.0 OK' '^T: 235 2\.7\.0' '^T: 221 '
out=$(ac overcont --size 20000 2>&1 || true)
expect "a SASL line of 20000 octets: 500 5.5.2, the session goes on" "$out" \
	'^T: 334 ' '^T: 500 5\.5\.2 ' '^T: 250 2\.0\.0 OK' '^T: 221 '
n=$(cat "$BACKEND_SPOOL"/raw/*.bin | grep -ac 'QUFBQUFB' || true)
((n == 0)) && ok "... no byte of the over-long lines reached the backend" ||
	fail "... $n raw files hold bytes of the over-long lines"

# --- the counters
st=$(stop_bulwark)
[[ $st == 0 ]] && ok "bulwark exits 0" || fail "bulwark exit status: $st"
line=$(grep -m1 'event=worker_auth_lines' "$BULWARK_LOG" || true)
expect "worker_auth_lines: one area, lent, waited for" "$line" \
	' areas=1 ' ' area_bytes=12544 ' ' wait=[1-9]' ' peak=1( |$)'
finish
