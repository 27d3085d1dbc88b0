/*
 * test_smtp.c — the session core before the relay: greeting, pregreet,
 * non-SMTP first lines, junk, limits, errors, timeouts, STARTTLS, drain.
 * Every case runs whole, byte by byte and cut in two (smtp_drv.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "smtp_drv.h"

static void cfg_teaser(struct smtp_cfg *c)
{
	c->greet_wait_ms = 6000;
	c->greet_teaser = 1;
}

static void cfg_wait(struct smtp_cfg *c)
{
	c->greet_wait_ms = 6000;
}

static void cfg_tls(struct smtp_cfg *c)
{
	c->caps |= SMTP_CAP_STARTTLS;
}

static void cfg_submission(struct smtp_cfg *c)
{
	c->caps |= SMTP_CAP_STARTTLS | SMTP_CAP_AUTH;
	c->require_tls = 1;
	strcpy(c->auth_mechs, "PLAIN LOGIN");
}

static void cfg_short(struct smtp_cfg *c)
{
	c->cmd_timeout_ms = 1000;
	c->session_max_ms = 5000;
}

#define R_EHLO_TLS_PRE                                                         \
	"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n" \
	"250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n"
#define R_EHLO_SUB_POST                                                        \
	"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n" \
	"250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n"
#define R_PREGREET "554 5.5.1 Error: talked before the greeting\r\n"
#define R_503HELO "503 5.5.1 Error: send EHLO or HELO first\r\n"
#define R_530 "530 5.7.0 Must issue a STARTTLS command first\r\n"
#define R_X550 "550 5.7.0 Command not permitted\r\n"
#define R_NODOM "501 5.5.4 Syntax: EHLO hostname\r\n"
#define R_BADDOM "501 5.5.4 Invalid domain name\r\n"
#define R_TLSGO "220 2.0.0 Ready to start TLS\r\n"
#define R_SHUT "421 4.3.2 mx.test Service shutting down\r\n"
#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define X500 X100 X100 X100 X100 X100

#define N10 "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n"
#define N100 N10 N10 N10 N10 N10 N10 N10 N10 N10 N10
#define O10 R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK
#define O100 O10 O10 O10 O10 O10 O10 O10 O10 O10 O10

static const struct drv_case cases[] = {
	{ "out fills up: 300 pipelined replies", NULL, { C(N100 N100 N100) },
	  R_GREET O100 O100 O100, "", "" },
	{ "empty first line", NULL, { C("\r\nEHLO a.test\r\n") }, R_GREET R_500 R_EHLO, "", "" },
	{ "empty first line, then quiet", NULL, { C("\r\n"), T(300000) }, R_GREET R_TIMEOUT, "",
	  "CLOSE(timeout) " },
	{ "greeting and quit", NULL, { C("QUIT\r\n") }, R_GREET R_BYE, "", "CLOSE(quit) " },
	{ "ehlo noop rset help quit", NULL,
	  { C("EHLO client.test\r\nNOOP\r\nRSET\r\nHELP\r\nHELO c.test\r\nQUIT\r\n") },
	  R_GREET R_EHLO R_OK R_OK "214 2.0.0 See RFC 5321\r\n250 mx.test\r\n" R_BYE, "",
	  "CLOSE(quit) " },
	{ "lower case verbs", NULL, { C("ehlo client.test\r\nnoop\r\nquit\r\n") },
	  R_GREET R_EHLO R_OK R_BYE, "", "CLOSE(quit) " },
	{ "teaser then greeting", cfg_teaser, { T(6000), C("EHLO a.test\r\n") },
	  "220-mx.test ESMTP\r\n" R_GREET R_EHLO, "", "" },
	{ "greet wait, silent", cfg_wait, { T(5999), T(1), C("NOOP\r\n") }, R_GREET R_OK, "", "" },
	{ "pregreet smtp is 554", cfg_teaser, { C("EHLO a.test\r\n") },
	  "220-mx.test ESMTP\r\n" R_PREGREET, "", "CLOSE(pregreet) " },
	{ "pregreet without teaser", cfg_wait, { C("HELO x\r\n") }, R_PREGREET, "",
	  "CLOSE(pregreet) " },
	{ "pregreet http is 500", cfg_teaser, { C("GET / HTTP/1.1\r\nHost: x\r\n\r\n") },
	  "220-mx.test ESMTP\r\n" R_NONSMTP, "", "CLOSE(nonsmtp,http) " },
	{ "pregreet tls is 500", cfg_wait, { C("\x16\x03\x01\x02\x00\x01") }, R_NONSMTP, "",
	  "CLOSE(nonsmtp,tls) " },
	{ "pregreet undecided at deadline", cfg_wait, { C("\r"), T(6000) }, R_PREGREET, "",
	  "CLOSE(pregreet) " },
	{ "first line http", NULL, { C("GET / HTTP/1.1\r\nHost: x\r\n\r\n") }, R_GREET R_NONSMTP,
	  "", "CLOSE(nonsmtp,http) " },
	{ "first line http post", NULL, { C("POST /cgi-bin/x HTTP/1.0\r\n") },
	  R_GREET R_NONSMTP, "", "CLOSE(nonsmtp,http) " },
	{ "first line header", NULL, { C("Host: mx.test\r\n") }, R_GREET R_NONSMTP, "",
	  "CLOSE(nonsmtp,header) " },
	{ "first bytes ssh", NULL, { C("SSH-2.0-OpenSSH_9.2") }, R_GREET R_NONSMTP, "",
	  "CLOSE(nonsmtp,ssh) " },
	{ "first bytes tls", NULL, { C("\x16\x03\x01\x00\xa5\x01\x00") }, R_GREET R_NONSMTP, "",
	  "CLOSE(nonsmtp,tls) " },
	{ "first bytes proxy v2", NULL,
	  { C("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c") }, R_GREET R_NONSMTP, "",
	  "CLOSE(nonsmtp,proxy_v2) " },
	{ "first line proxy v1", NULL, { C("PROXY TCP4 198.18.0.1 198.18.0.2 1 25\r\n") },
	  R_GREET R_NONSMTP, "", "CLOSE(nonsmtp,proxy_v1) " },
	{ "first line imap", NULL, { C("a001 LOGIN user pass\r\n") }, R_GREET R_NONSMTP, "",
	  "CLOSE(nonsmtp,imap) " },
	{ "first line pop3", NULL, { C("USER bob\r\n") }, R_GREET R_NONSMTP, "",
	  "CLOSE(nonsmtp,pop3) " },
	{ "first line binary", NULL, { C("\x01\x02\x03\x04\r\n") }, R_GREET R_NONSMTP, "",
	  "CLOSE(nonsmtp,binary) " },
	{ "typo continues", NULL, { C("HLEO a.test\r\nEHLO a.test\r\n") }, R_GREET R_500 R_EHLO,
	  "", "" },
	{ "later http line is just 500", NULL, { C("EHLO a.test\r\nGET / HTTP/1.1\r\nNOOP\r\n") },
	  R_GREET R_EHLO R_500 R_OK, "", "" },
	{ "disabled verbs", NULL,
	  { C("EHLO a.test\r\nVRFY bob\r\nEXPN list\r\nTURN\r\nETRN x.test\r\n") },
	  R_GREET R_EHLO R_502 R_502 R_502 R_502, "", "" },
	{ "bdat not offered", NULL, { C("EHLO a.test\r\nBDAT 10 LAST\r\nNOOP\r\n") },
	  R_GREET R_EHLO R_502N R_OK, "", "" },
	{ "xclient xforward refused", NULL,
	  { C("XCLIENT ADDR=1.2.3.4\r\nEHLO a.test\r\nXFORWARD NAME=x\r\nNOOP\r\n") },
	  R_GREET R_X550 R_EHLO R_X550 R_OK, "", "" },
	{ "order: mail before helo", NULL,
	  { C("NOOP\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n") },
	  R_GREET R_OK R_503HELO "503 5.5.1 Error: need MAIL command\r\n"
	  "503 5.5.1 Error: need MAIL command\r\n", "", "" },
	{ "ehlo without domain", NULL, { C("EHLO\r\nHELO \r\nEHLO a..b\r\n") },
	  R_GREET R_NODOM R_NODOM R_BADDOM, "", "" },
	{ "args on quit rset", NULL, { C("QUIT now\r\nRSET x\r\nSTARTTLS x\r\n") },
	  R_GREET R_501 R_501 R_502N, "", "" },
	{ "error limit", NULL, { C("A\r\nB\r\nC\r\nD\r\nE\r\nF\r\n") },
	  R_GREET R_500 R_500 R_500 R_500 R_ERRS, "", "CLOSE(errors) " },
	{ "error limit mixed codes", NULL,
	  { C("EHLO\r\nVRFY x\r\nMAIL FROM:<a@b.test>\r\nXCLIENT A=1\r\nZZZ\r\nBDAT 1\r\nNOOP\r\n") },
	  R_GREET R_NODOM R_502 R_503HELO R_X550 R_500 R_ERRS, "", "CLOSE(errors) " },
	{ "bad bytes continue", NULL,
	  { C("EHLO a.test\r\nNO\x00OP\r\nNOOP\tx\r\nNO\rOP\r\nNOOP\nNOOP\r\n") },
	  R_GREET R_EHLO R_BAD R_BAD R_BAD R_BAD R_OK, "", "" },
	{ "bare lf line", NULL, { C("EHLO a.test\r\nNOOP\nNOOP\r\n") },
	  R_GREET R_EHLO R_BAD R_OK, "", "" },
	{ "8-bit outside MAIL/RCPT", NULL, { C("EHLO a.test\r\nNOOP \xc3\xa9t\xc3\xa9\r\n") },
	  R_GREET R_EHLO R_BAD, "", "" },
	{ "line too long in order", NULL,
	  { C("EHLO a.test\r\nNOOP\r\nNOOP " X500 X10 "\r\nNOOP\r\n") },
	  R_GREET R_EHLO R_OK R_LONG R_OK, "", "" },
	{ "line of exactly 512 passes", NULL,
	  { C("EHLO a.test\r\nNOOP " X500 "12345\r\nNOOP\r\n") }, R_GREET R_EHLO R_OK R_OK, "",
	  "" },
	{ "long line without LF answered at once", NULL,
	  { C("EHLO a.test\r\nHELP " X500 X100), T(10) }, R_GREET R_EHLO R_LONG, "", "" },
	{ "unknown long word", NULL, { C("EHLO a.test\r\nXXXXXXXXXXXXXXXXXXXX" X500 "\r\nNOOP\r\n") },
	  R_GREET R_EHLO R_LONG R_OK, "", "" },
	{ "mail over 512 without params", NULL,
	  { C("EHLO a.test\r\nMAIL FROM:<" X100 X100 "@" X100 X100 "x.test>\r\nNOOP\r\n") },
	  R_GREET R_EHLO "501 5.1.7 Bad sender address syntax\r\n" R_OK, "", "" },
	{ "mail over 1000", NULL,
	  { C("EHLO a.test\r\nMAIL FROM:<a@b.test> " X500 X500 "\r\nNOOP\r\n") },
	  R_GREET R_EHLO R_LONG R_OK, "", "" },
	{ "timeout idle", cfg_short, { C("EHLO a.test\r\n"), T(999), T(1) },
	  R_GREET R_EHLO R_TIMEOUT, "", "CLOSE(timeout) " },
	{ "timeout session max", cfg_short,
	  { C("EHLO a.test\r\n"), T(900), C("NOOP\r\n"), T(900), C("NOOP\r\n"), T(900),
	    C("NOOP\r\n"), T(900), C("NOOP\r\n"), T(900), C("NOOP\r\n"), T(900) },
	  R_GREET R_EHLO R_OK R_OK R_OK R_OK R_OK R_TIMEOUT, "", "CLOSE(timeout) " },
	{ "starttls flow", cfg_tls,
	  { C("EHLO a.test\r\nSTARTTLS\r\nRSET\r\n"), C("NOOP\r\n"), TLS,
	    C("MAIL FROM:<a@b.test>\r\nEHLO a.test\r\nSTARTTLS\r\n") },
	  R_GREET R_EHLO_TLS_PRE R_TLSGO R_503HELO R_EHLO "503 5.5.1 Error: TLS already active\r\n",
	  "", "STARTTLS " },
	{ "starttls at the handshake cap: 454, plaintext goes on", cfg_tls,
	  { BUSY(1), C("EHLO a.test\r\nSTARTTLS\r\nNOOP\r\n"), BUSY(0), C("STARTTLS\r\nNOOP\r\n"),
	    TLS, C("EHLO a.test\r\n") },
	  R_GREET R_EHLO_TLS_PRE "454 4.7.0 TLS not available now\r\n" R_OK R_TLSGO R_EHLO, "",
	  "STARTTLS " },
	{ "starttls not offered", NULL, { C("EHLO a.test\r\nSTARTTLS\r\nNOOP\r\n") },
	  R_GREET R_EHLO R_502N R_OK, "", "" },
	{ "starttls with argument", cfg_tls, { C("STARTTLS now\r\nNOOP\r\n") },
	  R_GREET R_501 R_OK, "", "" },
	{ "require tls", cfg_submission,
	  { C("EHLO a.test\r\nMAIL FROM:<a@b.test>\r\nAUTH PLAIN\r\nSTARTTLS\r\n"), TLS,
	    C("EHLO a.test\r\nAUTH CRAM-MD5\r\n") },
	  R_GREET R_EHLO_TLS_PRE R_530 R_530 R_TLSGO R_EHLO_SUB_POST
	  "504 5.5.4 Unrecognized authentication type\r\n", "", "STARTTLS " },
	{ "auth not offered", NULL, { C("EHLO a.test\r\nAUTH PLAIN\r\n") },
	  R_GREET R_EHLO R_502N, "", "" },
	{ "drain idle", NULL, { C("EHLO a.test\r\n"), DRAIN, C("NOOP\r\n") },
	  R_GREET R_EHLO R_SHUT, "", "CLOSE(shutdown) " },
	{ "drain mid line", NULL, { C("EHLO a.test\r\nNO"), DRAIN, C("OP\r\nNOOP\r\n") },
	  R_GREET R_EHLO R_SHUT, "", "CLOSE(shutdown) " },
	{ "drain before greeting", cfg_wait, { DRAIN }, R_SHUT, "", "CLOSE(shutdown) " },
	{ "pipelined burst", NULL,
	  { C("EHLO a.test\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n"
	      "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n"
	      "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n"
	      "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nQUIT\r\n") },
	  R_GREET R_EHLO R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK
	  R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK R_OK
	  R_OK R_OK R_OK R_OK R_OK R_OK R_BYE, "", "CLOSE(quit) " },
};

/* smtp_refuse (issue 7): right after smtp_start, the greeting discarded,
 * the refusal is the only reply and the session closes; with and without a
 * lent work area, with a greet wait, and any later input is ignored. */
static int test_refuse(void)
{
	static const struct {
		enum smtp_reply_id id;
		const char *want;
		uint8_t why;
	} r[] = {
		{ SMTP_R_CLIENT_LIMIT,
		  "421 4.7.0 mx.test Error: too many connections from your address\r\n",
		  SMTP_CLOSE_LIMIT },
		{ SMTP_R_DENIED, "554 5.7.1 mx.test Error: access denied\r\n", SMTP_CLOSE_DENIED },
	};
	static uint8_t line[4096], obuf[SMTP_OUT_MIN], fbuf[SMTP_FWD_BUF_MIN];
	static struct smtp_span fwd[SMTP_FWD_MIN];
	struct smtp_cfg cfg;
	struct smtp_sess s;
	struct smtp_out out = { .buf = obuf, .cap = sizeof(obuf), .fwd = fwd,
				.fwd_cap = SMTP_FWD_MIN, .fwd_buf = fbuf,
				.fwd_buf_cap = sizeof(fbuf) };
	const char *why = NULL;
	int bad = 0;

	for (int wait = 0; wait < 2; wait++)
		for (int lend = 0; lend < 2; lend++)
			for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
				smtp_cfg_defaults(&cfg, "mx.test", scan_kernels_get(SCAN_SCALAR));
				cfg.greet_wait_ms = wait ? 6000 : 0;
				if (smtp_cfg_init(&cfg, &why) != 0)
					return 1;
				smtp_out_reset(&out);
				smtp_start(&s, &cfg, lend ? line : NULL, sizeof(line), 1000, &out);
				smtp_out_reset(&out);
				bad |= smtp_refuse(&s, r[i].id, 1000, &out) != 0;
				bad |= out.len != strlen(r[i].want) ||
				       memcmp(out.buf, r[i].want, out.len) != 0;
				bad |= !(out.actions & SMTP_ACT_CLOSE) || out.close_reason != r[i].why;
				smtp_out_reset(&out);
				smtp_input(&s, (const uint8_t *)"EHLO x\r\n", 8, 1001, &out);
				bad |= out.len != 0;
				smtp_out_reset(&out);
				bad |= smtp_refuse(&s, SMTP_R_OK, 1000, &out) != -EINVAL;
			}
	if (bad)
		fprintf(stderr, "test_smtp: smtp_refuse: FAIL\n");
	return bad;
}

int main(void)
{
	int bad = test_refuse();

	return drv_run_cases(cases, sizeof(cases) / sizeof(cases[0]), "test_smtp") || bad ? 1 : 0;
}
