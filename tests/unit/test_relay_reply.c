/*
 * test_relay_reply.c — proxy/relay/relay_reply.c: the backend reply scanner
 * (complete, split, byte-by-byte, multi-line, malformed, too long), the EHLO
 * capability parser and the MAIL parameter check. Inputs end at a guard
 * page, so a read past them crashes.
 */
#include <errno.h>

#include "relay_reply.h"

#include "check.h"

static struct check_guard g;

#define MAX 4064u /* RELAY_MSG_DATA: what the relay passes as max */

/* Scans s (plus nothing) from a fresh state; returns the verdict. */
static int scan1(const char *s, size_t n, size_t max, int *code)
{
	struct relay_rscan st;

	relay_rscan_init(&st);
	return relay_reply_scan(&st, check_guard_end(&g, s, n), n, max, code);
}

/* A valid reply: whole, every proper prefix (fresh state: 0, never an
 * error), fed growing with one state (the resumable path), and followed by
 * the start of the next reply. */
static void valid(int line, const char *s, int want_code)
{
	size_t n = strlen(s);
	struct relay_rscan st;
	int code = 0, v;
	char two[8192];

	v = scan1(s, n, MAX, &code);
	if (!CHECK_EQ(v, (int)n) && check_show())
		fprintf(stderr, "  case at line %d\n", line);
	CHECK_EQ(code, want_code);
	for (size_t k = 0; k < n; k++) {
		v = scan1(s, k, MAX, &code);
		if (!CHECK_EQ(v, 0) && check_show())
			fprintf(stderr, "  case at line %d, prefix %zu\n", line, k);
	}
	relay_rscan_init(&st);
	for (size_t k = 1; k <= n; k++) {
		/* the same buffer growing: the copy moves, the state's offset
		 * stays valid because it counts from the reply's start */
		v = relay_reply_scan(&st, check_guard_end(&g, s, k), k, MAX, &code);
		if (k < n && !CHECK_EQ(v, 0) && check_show())
			fprintf(stderr, "  case at line %d, byte %zu\n", line, k);
	}
	if (!CHECK_EQ(v, (int)n) && check_show())
		fprintf(stderr, "  case at line %d, byte by byte\n", line);
	snprintf(two, sizeof(two), "%s250-next", s);
	CHECK_EQ(scan1(two, strlen(two), MAX, &code), (int)n);
}

static void invalid(int line, const char *s, size_t n, size_t max, int want)
{
	int code;

	if (!CHECK_EQ(scan1(s, n, max, &code), want) && check_show())
		fprintf(stderr, "  case at line %d\n", line);
}

#define VALID(s, c)   valid(__LINE__, s, c)
#define BAD(s)        invalid(__LINE__, s, sizeof(s) - 1, MAX, -EPROTO)
#define BIG(s, n, mx) invalid(__LINE__, s, n, mx, -EMSGSIZE)

static void test_scan(void)
{
	char big[8192];

	VALID("250 ok\r\n", 250);
	VALID("250\r\n", 250);
	VALID("220 mx.example ESMTP\r\n", 220);
	VALID("250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n", 250);
	VALID("250-\r\n250 x\r\n", 250);
	VALID("354 go ahead\r\n", 354);
	VALID("550 5.7.1 \xc3\xa9t\xc3\xa9\tno\r\n", 550); /* UTF-8 and HT in text */
	VALID("421 4.3.0 bye\r\n", 421);

	BAD("150 x\r\n");          /* no 1yz in SMTP */
	BAD("650 x\r\n");          /* first digit past 5 */
	BAD("2x0 x\r\n");          /* not a digit */
	BAD("250x\r\n");           /* separator */
	BAD("25\r\n");             /* short code */
	BAD("250-a\r\n251 b\r\n"); /* RFC 5321 §4.2.1: one code per reply */
	BAD("250 a\rb\r\n");       /* bare CR */
	BAD("250 a\nb\r\n");       /* bare LF */
	BAD("250 a\x00"
	    "b\r\n");               /* NUL */
	BAD("250 a\x7f\r\n");       /* DEL */
	BAD("HTTP/1.1 200 OK\r\n"); /* refused at the first byte */
	BAD("H");
	BAD("2509");
	BAD("250-a\r\nX"); /* the second line's first byte */

	/* RELAY_REPLY_LINE_MAX: 2048 bytes with CRLF pass, 2049 do not, and
	 * an endless line is refused as soon as it passes the bound. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "250 ", 4);
	memcpy(big + RELAY_REPLY_LINE_MAX - 2, "\r\n", 2);
	CHECK_EQ(scan1(big, RELAY_REPLY_LINE_MAX, MAX, NULL), (int)RELAY_REPLY_LINE_MAX);
	memset(big, 'a', sizeof(big));
	memcpy(big, "250 ", 4);
	memcpy(big + RELAY_REPLY_LINE_MAX - 1, "\r\n", 2);
	BIG(big, RELAY_REPLY_LINE_MAX + 1, MAX);
	memset(big, 'a', sizeof(big));
	memcpy(big, "250 ", 4);
	BIG(big, RELAY_REPLY_LINE_MAX + 10, MAX);

	/* A reply past max bytes: refused even while incomplete. */
	BIG("250-aaaa\r\n250-bbbb\r\n250 cc\r\n", 28, 20);
	BIG("250-aaaa\r\n250-bbbb\r\n", 20, 15);
	CHECK_EQ(scan1("250-aaaa\r\n250 cc\r\n", 18, 18, NULL), 18);
}

static void caps(const char *s, struct relay_caps *c, int want)
{
	size_t n = strlen(s);

	CHECK_EQ(relay_caps_parse(check_guard_end(&g, s, n), n, c), want);
}

static void test_caps(void)
{
	struct relay_caps c;

	caps("250-mx.example Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
	     "250-smtputf8\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n",
	     &c, 0);
	CHECK(c.pipelining && c.size && c.eightbit && c.smtputf8 && c.auth && c.starttls);
	CHECK_EQ(c.size_max, 10240000);

	/* the greeting line never counts as a keyword */
	caps("250 PIPELINING\r\n", &c, 0);
	CHECK(!c.pipelining && !c.size && !c.eightbit && !c.smtputf8 && !c.auth);

	/* SIZE without a number (or 0) is no fixed limit; old AUTH= form */
	caps("250-x\r\n250-SIZE\r\n250 AUTH=LOGIN\r\n", &c, 0);
	CHECK(c.size && c.auth);
	CHECK_EQ(c.size_max, 0);
	caps("250-x\r\n250 SIZE 0\r\n", &c, 0);
	CHECK(c.size);
	CHECK_EQ(c.size_max, 0);
	caps("250-x\r\n250 SIZE 99999999999999999999999\r\n", &c, 0);
	CHECK(c.size);
	CHECK_EQ(c.size_max, 0);

	/* a longer keyword is another keyword */
	caps("250-x\r\n250-PIPELININGX\r\n250 8BITMIMEY\r\n", &c, 0);
	CHECK(!c.pipelining && !c.eightbit);

	caps("550 5.5.1 no\r\n", &c, -EPROTO);
	caps("220 hi\r\n", &c, -EPROTO);
}

static int mail(const char *s, const struct relay_caps *c)
{
	size_t n = strlen(s);

	return relay_mail_check(check_guard_end(&g, s, n), n, c);
}

static void test_mail(void)
{
	struct relay_caps none = { 0 }, all = { 1, 1, 1, 1, 1, 1, 0 }, lim = { 0 };

	lim.size = 1;
	lim.size_max = 1000;

	CHECK_EQ(mail("MAIL FROM:<a@b>\r\n", &none), RELAY_MAIL_OK);
	CHECK_EQ(mail("MAIL FROM:<>\r\n", &none), RELAY_MAIL_OK);
	CHECK_EQ(mail("MAIL FROM:<a@b> SMTPUTF8\r\n", &none), RELAY_MAIL_UTF8);
	CHECK_EQ(mail("MAIL FROM:<a@b> BODY=8BITMIME\r\n", &none), RELAY_MAIL_8BIT);
	CHECK_EQ(mail("MAIL FROM:<a@b> BODY=7BIT\r\n", &none), RELAY_MAIL_OK);
	CHECK_EQ(mail("MAIL FROM:<a@b> SIZE=100\r\n", &none), RELAY_MAIL_SIZEPARM);
	CHECK_EQ(mail("mail from:<a@b> smtputf8 body=8bitmime\r\n", &none), RELAY_MAIL_UTF8);
	CHECK_EQ(mail("MAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8 SIZE=5\r\n", &all), RELAY_MAIL_OK);
	CHECK_EQ(mail("MAIL FROM:<a@b> SIZE=1000\r\n", &lim), RELAY_MAIL_OK);
	CHECK_EQ(mail("MAIL FROM:<a@b> SIZE=1001\r\n", &lim), RELAY_MAIL_TOOBIG);
	CHECK_EQ(mail("MAIL FROM:<a@b> SIZE=99999999999\r\n", &all), RELAY_MAIL_OK);
	/* '>' and SP inside a quoted local part belong to the path */
	CHECK_EQ(mail("MAIL FROM:<\"a> SMTPUTF8\"@b>\r\n", &none), RELAY_MAIL_OK);
	CHECK_EQ(mail("MAIL FROM:<\"a\\\" SMTPUTF8\"@b> SIZE=1\r\n", &none), RELAY_MAIL_SIZEPARM);
	CHECK_EQ(mail("MAIL FROM: <a@b> SMTPUTF8\r\n", &none), RELAY_MAIL_UTF8);
	CHECK_EQ(mail("MAIL FROM:<a@b> SMTPUTF8X\r\n", &none), RELAY_MAIL_OK);
	CHECK_EQ(mail("RCPT TO:<a@b> SMTPUTF8\r\n", &none), RELAY_MAIL_OK);
	CHECK_EQ(mail("MAIL", &none), RELAY_MAIL_OK);

	CHECK_EQ(relay_verb((const uint8_t *)"MAIL FROM:<a@b>\r\n", 17), RELAY_V_MAIL);
	CHECK_EQ(relay_verb((const uint8_t *)"rcpt TO:<a@b>\r\n", 15), RELAY_V_RCPT);
	CHECK_EQ(relay_verb((const uint8_t *)"DATA\r\n", 6), RELAY_V_DATA);
	CHECK_EQ(relay_verb((const uint8_t *)"RSET\r\n", 6), RELAY_V_RSET);
	CHECK_EQ(relay_verb((const uint8_t *)"RSETX\r\n", 7), RELAY_V_OTHER);
	CHECK_EQ(relay_verb((const uint8_t *)"auth PLAIN\r\n", 12), RELAY_V_AUTH);
	CHECK_EQ(relay_verb((const uint8_t *)"AUTHX\r\n", 7), RELAY_V_OTHER);
	CHECK_EQ(relay_verb((const uint8_t *)"NOOP\r\n", 6), RELAY_V_OTHER);
	CHECK_EQ(relay_verb((const uint8_t *)"DAT", 3), RELAY_V_OTHER);
}

int main(void)
{
	check_guard_init(&g, 4);
	test_scan();
	test_caps();
	test_mail();
	check_guard_free(&g);
	return check_done("relay_reply");
}
