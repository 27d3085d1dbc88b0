/*
 * test_scan_sig.c — non-SMTP signatures: every kind found, no SMTP line
 * ever reported, and the prefix test's answers stable as bytes arrive
 * (once it stops saying PENDING, more bytes never change its answer).
 * Every input sits against PROT_NONE pages.
 */
#include "check.h"
#include "scan.h"

#define S(s) (const uint8_t *)(s), sizeof(s) - 1

static struct check_guard g;

static void dump(const uint8_t *p, size_t n)
{
	size_t i;

	fprintf(stderr, "  input:");
	for (i = 0; i < n && i < 48; i++)
		fprintf(stderr, p[i] > 0x20 && p[i] < 0x7f ? " %c" : " %02x", p[i]);
	fprintf(stderr, "\n");
}

/* scan_sig_prefix on p[0..n), placed against both guards (they must agree). */
static enum scan_sig prefix(const uint8_t *p, size_t n)
{
	enum scan_sig a = scan_sig_prefix(check_guard_end(&g, p, n), n);

	CHECK_EQ(scan_sig_prefix(check_guard_start(&g, p, n), n), a);
	return a;
}

static enum scan_sig line(const uint8_t *p, size_t n, unsigned flags)
{
	enum scan_sig a = scan_sig_line(check_guard_end(&g, p, n), n, flags);

	CHECK_EQ(scan_sig_line(check_guard_start(&g, p, n), n, flags), a);
	return a;
}

/* The flags scan_line_feed would report for this content. */
static unsigned flags_of(const uint8_t *p, size_t n)
{
	unsigned f = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == 0)
			f |= SCAN_L_NUL;
		else if (p[i] == '\r')
			f |= SCAN_L_BARECR;
		else if (p[i] < 0x20 || p[i] == 0x7f)
			f |= SCAN_L_CTL;
		else if (p[i] >= 0x80)
			f |= SCAN_L_HIGH;
	}
	return f;
}

/*
 * Feeds p[0..n) to the prefix test one more byte at a time: the answers
 * must be PENDING up to some point and then one fixed answer. Returns the
 * answer for the whole input.
 */
static enum scan_sig prefix_walk(const uint8_t *p, size_t n)
{
	enum scan_sig first = SCAN_SIG_PENDING, r = SCAN_SIG_PENDING;
	size_t k;

	for (k = 1; k <= n; k++) {
		r = prefix(p, k);
		if (first == SCAN_SIG_PENDING) {
			first = r;
			continue;
		}
		if (!CHECK_EQ(r, first) && check_show()) {
			fprintf(stderr, "  changed at %zu: %s -> %s\n", k, scan_sig_name(first),
				scan_sig_name(r));
			dump(p, n);
		}
	}
	return r;
}

/*
 * want_prefix: the prefix test's answer on the whole line with CRLF.
 * want_line: the line test's answer on the content.
 */
static void sig_case(const char *s, size_t n, enum scan_sig want_prefix, enum scan_sig want_line)
{
	uint8_t buf[256];
	enum scan_sig r;

	if (n + 2 > sizeof(buf))
		abort();
	memcpy(buf, s, n);
	memcpy(buf + n, "\r\n", 2);
	r = prefix_walk(buf, n + 2);
	if (!CHECK_EQ(r, want_prefix) && check_show()) {
		fprintf(stderr, "  prefix: got %s, want %s\n", scan_sig_name(r),
			scan_sig_name(want_prefix));
		dump(buf, n + 2);
	}
	if (!CHECK_EQ(r = line(buf, n, flags_of(buf, n)), want_line) && check_show()) {
		fprintf(stderr, "  line: got %s, want %s\n", scan_sig_name(r),
			scan_sig_name(want_line));
		dump(buf, n);
	}
}

#define CASE(s, p, l) sig_case(s, sizeof(s) - 1, p, l)
#define BOTH(s, k)    CASE(s, k, k)

#define NONE SCAN_SIG_NONE
#define PEND SCAN_SIG_PENDING
#define HTTP SCAN_SIG_HTTP
#define HDR  SCAN_SIG_HEADER
#define SSH  SCAN_SIG_SSH
#define TLS  SCAN_SIG_TLS
#define PX1  SCAN_SIG_PROXY_V1
#define PX2  SCAN_SIG_PROXY_V2
#define IMAP SCAN_SIG_IMAP
#define POP3 SCAN_SIG_POP3
#define BIN  SCAN_SIG_BINARY

static void test_positive(void)
{
	BOTH("GET / HTTP/1.1", HTTP);
	BOTH("GET /index.html", HTTP);
	BOTH("HEAD /x HTTP/1.0", HTTP);
	BOTH("POST /login HTTP/1.1", HTTP);
	BOTH("PUT /a HTTP/1.1", HTTP);
	BOTH("DELETE /a HTTP/1.1", HTTP);
	BOTH("OPTIONS * HTTP/1.1", HTTP);
	BOTH("CONNECT example.com:443 HTTP/1.1", HTTP);
	BOTH("CONNECT 10.0.0.1:25 HTTP/1.0", HTTP);
	BOTH("CONNECT [2001:db8::1]:443 HTTP/1.1", HTTP);
	BOTH("TRACE / HTTP/1.1", HTTP);
	BOTH("PATCH /p HTTP/1.1", HTTP);
	BOTH("GET http://example.com/ HTTP/1.1", HTTP);
	BOTH("PRI * HTTP/2.0", HTTP);
	/* any method token, found by the line test */
	CASE("PROPFIND /dav HTTP/1.1", NONE, HTTP);
	CASE("get / HTTP/1.0", NONE, HTTP);
	CASE("FOO-BAR http://x HTTP/1.1", NONE, HTTP);
	CASE("M-SEARCH * HTTP/1.1", NONE, HTTP);

	BOTH("Host: example.com", HDR);
	BOTH("Host:example.com", HDR);
	BOTH("User-Agent: curl/8.0", HDR);
	BOTH("Accept-Encoding: gzip", HDR); /* colon is the 16th byte */
	BOTH("X-Forwarded-For: 192.0.2.1", HDR);
	BOTH("x:", HDR);
	BOTH("From: <a@b>", HDR);
	CASE("Sec-WebSocket-Key: abc", NONE, HDR); /* colon past the window */
	CASE("Content-Security-Policy: x", NONE, HDR);

	BOTH("SSH-2.0-OpenSSH_9.2p1 Debian-2", SSH);
	BOTH("SSH-1.99-Cisco-1.25", SSH);

	BOTH("PROXY TCP4 192.0.2.1 198.51.100.1 56324 25", PX1);
	BOTH("PROXY TCP6 2001:db8::1 2001:db8::2 4000 25", PX1);
	BOTH("PROXY UNKNOWN", PX1);
	BOTH("PROXY UNKNOWN ffff", PX1);

	BOTH("a001 LOGIN user pass", IMAP);
	BOTH("A1 CAPABILITY", IMAP);
	BOTH("1 capability", IMAP);
	BOTH("a AUTHENTICATE PLAIN", IMAP);
	BOTH("x1 STARTTLS", IMAP);
	BOTH("t LOGOUT", IMAP);
	BOTH("a2 noop", IMAP);
	BOTH("3 SELECT INBOX", IMAP);
	BOTH("4 Examine x", IMAP);
	BOTH("5 LIST \"\" *", IMAP);
	BOTH("6 ID NIL", IMAP);
	BOTH("tag.1 login x y", IMAP);
	CASE("averyveryverylongtag LOGIN x", NONE, IMAP);
	CASE("A0000000001 CAPABILITY", NONE, IMAP);
	BOTH("a*1 LOGIN x", NONE); /* '*', '%', '+' cannot be in a tag */
	BOTH("a%1 LOGIN x", NONE);
	BOTH("+ LOGIN x", NONE);
	BOTH("a1  LOGIN x", NONE);
	BOTH("a1 LOGIN\tx", BIN);

	BOTH("USER bob", POP3);
	BOTH("user bob", POP3);
	BOTH("PASS secret", POP3);
	BOTH("APOP mrose c4c9334bac560ecc979e58001b3e22fb", POP3);
	BOTH("CAPA", POP3);
	BOTH("capa", POP3);
	BOTH("STLS", POP3);
	BOTH("UIDL", POP3);
	BOTH("STAT", POP3);
	BOTH("RETR 1", POP3);
	BOTH("LIST", POP3);
	BOTH("TOP 1 10", POP3);

	BOTH("\x01\x02\x03", BIN);
	BOTH("EH\x00LO x", BIN);
	BOTH("\x80hello", BIN);
	BOTH("E\xffHLO x", BIN);
	BOTH("\x7f", BIN);
	BOTH("\x05\x01\x00", BIN);     /* SOCKS5 */
	BOTH("\x04\x01\x00\x19", BIN); /* SOCKS4 */
	BOTH("EHLO\tx", BIN);          /* HT: a control byte */
	BOTH("\xef\xbb\xbf"
	     "EHLO x",
	     BIN);                    /* a UTF-8 BOM before the verb */
	CASE("EHLO \x01", NONE, BIN); /* decided NONE at the SP */
	CASE("MAIL FROM:<a@b> \x00", NONE, BIN);
}

static void test_raw(void)
{
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc,
					 0x03, 0x03, 0x9a, 0x0a, 0x11, 0x22, 0x33, 0x44 };
	static const uint8_t pv2[] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55,
				       0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c, 0xc0, 0x00 };
	uint8_t b[32];
	size_t k;

	/* TLS: pending through 2 bytes, then TLS */
	CHECK_EQ(prefix_walk(hello, sizeof(hello)), TLS);
	CHECK_EQ(prefix(hello, 1), PEND);
	CHECK_EQ(prefix(hello, 2), PEND);
	CHECK_EQ(prefix(hello, 3), TLS);
	CHECK_EQ(line(hello, 12, flags_of(hello, 12)), TLS); /* the first "line" ends at 0x0a */
	for (k = 0; k <= 4; k++) {
		memcpy(b, "\x16\x03", 2);
		b[2] = (uint8_t)k;
		CHECK_EQ(prefix(b, 3), TLS);
	}
	CHECK_EQ(prefix(S("\x16\x03\x05")), BIN);
	CHECK_EQ(prefix(S("\x16\x02")), BIN);
	CHECK_EQ(prefix(S("\x16\x03\x0d")), BIN);
	CHECK_EQ(line(S("\x16\x03\x05"), SCAN_L_CTL), BIN);
	CHECK_EQ(line(S("\x16"), SCAN_L_CTL), BIN);
	CHECK_EQ(line(S("\x16\x03\x03"), 0), TLS);

	/* PROXY v2: every proper prefix pending, then v2 */
	for (k = 1; k < 12; k++)
		CHECK_EQ(prefix(pv2, k), PEND);
	CHECK_EQ(prefix_walk(pv2, sizeof(pv2)), PX2);
	CHECK_EQ(prefix(pv2, 12), PX2);
	for (k = 1; k < 12; k++) {
		memcpy(b, pv2, 12);
		b[k] ^= 0x40;
		CHECK_EQ(prefix(b, 12), NONE);
	}
	CHECK_EQ(prefix(S("\r")), PEND);
	CHECK_EQ(prefix(S("\r\n")), PEND);
	CHECK_EQ(prefix(S("\r\nEHLO x\r\n")), NONE);
	CHECK_EQ(prefix(S("\r\r\n")), NONE);
	CHECK_EQ(prefix(S("\n")), NONE);
	CHECK_EQ(prefix(S("\nGET / HTTP/1.1")), NONE);

	/* the edges of the prefix window */
	CHECK_EQ(prefix(S("EH")), PEND);
	CHECK_EQ(prefix(S("EHLO")), PEND);
	CHECK_EQ(prefix(S("EHLO ")), NONE);
	CHECK_EQ(prefix(S("QUIT\r")), NONE);
	CHECK_EQ(prefix(S("<")), NONE);
	CHECK_EQ(prefix(S(" ")), NONE);
	CHECK_EQ(prefix(S("S")), PEND);
	CHECK_EQ(prefix(S("SSH")), PEND);
	CHECK_EQ(prefix(S("SSH-")), SSH);
	CHECK_EQ(prefix(S("PROXY")), PEND);
	CHECK_EQ(prefix(S("PROXY ")), PEND);
	CHECK_EQ(prefix(S("PROXY TCP5 ")), NONE);
	CHECK_EQ(prefix(S("GET")), PEND);
	CHECK_EQ(prefix(S("GET ")), PEND);
	CHECK_EQ(prefix(S("GET /")), HTTP);
	CHECK_EQ(prefix(S("GET <")), NONE);
	CHECK_EQ(prefix(S("CAPA")), PEND);
	CHECK_EQ(prefix(S("CAPA\n")), POP3);
	CHECK_EQ(prefix(S("a1 LOGIN")), PEND);
	CHECK_EQ(prefix(S("a1 LOGIN ")), IMAP);
	CHECK_EQ(prefix(S("a1 LOGINS ")), NONE);
	CHECK_EQ(prefix(S("0123456789abcdef")), NONE); /* 16 bytes, undecided */
	CHECK_EQ(prefix(S("0123456789abcde")), PEND);
	CHECK_EQ(prefix(S("0123456789abcdef:")), NONE);
	CHECK_EQ(prefix(S("0123456789abcde:")), HDR);
	CHECK_EQ(prefix(NULL, 0), PEND);
	CHECK_EQ(line(NULL, 0, 0), NONE);
	CHECK_EQ(line(NULL, 0, SCAN_L_NUL), BIN);
	CHECK_EQ(line(S(""), SCAN_L_BARELF), NONE);
}

/* Plain SMTP command lines, right and wrong: never a signature. */
static void test_smtp_never(void)
{
	static const char *const lines[] = {
		"EHLO mail.example.com",
		"ehlo mail.example.com",
		"EHLO",
		"HELO x",
		"HELO [192.0.2.1]",
		"Helo x",
		"MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME",
		"MAIL FROM:<>",
		"mail from:<a@b>",
		"RCPT TO:<postmaster>",
		"RCPT TO:<x@y> NOTIFY=NEVER",
		"DATA",
		"BDAT 100 LAST",
		"QUIT",
		"quit",
		"RSET",
		"VRFY postmaster",
		"EXPN list",
		"NOOP",
		"NOOP LIST",
		"HELP",
		"HELP me",
		"HELP x HTTP/1.0",
		"HELP GET / HTTP/1.1",
		"AUTH PLAIN AHVzZXIAcGFzcw==",
		"AUTH LOGIN",
		"STARTTLS",
		"starttls",
		"ETRN x",
		"TURN",
		"XCLIENT ADDR=192.0.2.1",
		"XFORWARD NAME=x",
		"EHLO x HTTP/1.1",
		"EHLO id",
		"HELO login",
		"EHLO user",
		"RSET CAPA",
		"MAIL:<a@b>",
		"RCPT: x",
		"DATA:",
		"EHLO h\xc3\xa9llo",
		"MAIL FROM:<\xc3\xa9@b>",
		"HLEO x",
		"EHOL x.y",
		"MAIL FORM:<a@b>",
		"RCTP TO:<a@b>",
		"QIUT",
		"DATA.",
		"STARTLS",
		"HELOx",
		"EHLO:",
		"MAIL",
		"RCPT",
		"EHLO  two",
		"NOOP\rNOOP",
		"x",
		"250 OK",
		"<a@b>",
		"  EHLO",
		"mail from: <a@b>",
		"XYZZY",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"MAILFROM:<a@b>",
		"RCPTTO:<a@b>",
		"rcptto:<a@b>",
		"STARTTLSX:",
		"XFORWARDNAME:x",
		"HELO:x",
		"Mail-Followup-To: x",
	};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		sig_case(lines[i], strlen(lines[i]), NONE, NONE);
	/* an empty first line could still be the start of PROXY v2 */
	CHECK_EQ(prefix_walk(S("\r\n")), PEND);
	CHECK_EQ(line(S(""), 0), NONE);
}

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random inputs built from signature pieces: stable answers, no crashes. */
static void test_random(void)
{
	static const char *const bits[] = {
		"GET",  " ",    "/",     "HTTP/1.1", ":",    "a1",   "LOGIN", "\r\n",     "\r",
		"\n",   "SSH-", "PROXY", "TCP4",     "USER", "EHLO", "x",     "\x16\x03", "\x01",
		"\x80", "\0",   "*",     "Host",     "CAPA", "PRI",  "[",     "-",        "UNKNOWN"
	};
	uint8_t buf[64];
	size_t n, len;
	int t;

	for (t = 0; t < 50000; t++) {
		n = 0;
		while (n < 40) {
			const char *b = bits[rnd() % (sizeof(bits) / sizeof(bits[0]))];
			len = strlen(b) ? strlen(b) : 1;
			memcpy(buf + n, b, len);
			n += len;
			if (rnd() % 5 == 0)
				break;
		}
		prefix_walk(buf, n);
		line(buf, n, flags_of(buf, n));
	}
	for (t = 0; t < 20000; t++) {
		n = rnd() % 24;
		for (len = 0; len < n; len++)
			buf[len] = (uint8_t)rnd();
		prefix_walk(buf, n);
		line(buf, n, flags_of(buf, n));
	}
}

static void test_names(void)
{
	int i, j;

	for (i = 0; i < SCAN_SIG_COUNT; i++) {
		CHECK(scan_sig_name((enum scan_sig)i) != NULL);
		for (j = 0; j < i; j++)
			CHECK(strcmp(scan_sig_name((enum scan_sig)i),
				     scan_sig_name((enum scan_sig)j)));
	}
	CHECK(!strcmp(scan_sig_name(SCAN_SIG_HTTP), "http"));
	CHECK(!strcmp(scan_sig_name(SCAN_SIG_COUNT), "unknown"));
}

int main(void)
{
	check_guard_init(&g, 1);
	test_positive();
	test_raw();
	test_smtp_never();
	test_random();
	test_names();
	check_guard_free(&g);
	return check_done("test_scan_sig");
}
