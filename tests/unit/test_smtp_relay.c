/*
 * test_smtp_relay.c — the session core after the hand-off: RELAY and the
 * forwarded bytes, reply order with backend replies, backend events, caps,
 * AUTH, and DATA streaming (reject, normalize, SIZE, line limit).
 * Every case runs whole, byte by byte and cut in two (smtp_drv.h).
 */
#include <stdio.h>
#include <string.h>

#include "smtp_drv.h"

static void cfg_norm(struct smtp_cfg *c)
{
	c->data_policy = SMTP_DATA_NORMALIZE;
}

static void cfg_small(struct smtp_cfg *c)
{
	c->size_max = 10;
	c->caps &= ~SMTP_CAP_SIZE;
}

static void cfg_dataline(struct smtp_cfg *c)
{
	c->max_data_line = 10;
}

static void cfg_msgs(struct smtp_cfg *c)
{
	c->max_msgs = 1;
}

static void cfg_rcpts(struct smtp_cfg *c)
{
	c->max_rcpts = 100;
}

static void cfg_dot(struct smtp_cfg *c)
{
	c->dot_timeout_ms = 500;
}

static void cfg_tls(struct smtp_cfg *c)
{
	c->caps |= SMTP_CAP_STARTTLS;
}

static void cfg_sub(struct smtp_cfg *c)
{
	c->caps |= SMTP_CAP_AUTH;
	strcpy(c->auth_mechs, "PLAIN LOGIN");
}

#define R_EHLO_AUTH                                                            \
	"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n" \
	"250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n"
#define HELLO "EHLO a.test\r\n"
#define MAIL "MAIL FROM:<a@b.test>\r\n"
#define RCPT "RCPT TO:<c@d.test>\r\n"
#define TXN MAIL RCPT "DATA\r\n"
#define RLY "RELAY(ehlo:a.test) "
#define B250M "250 2.1.0 Ok\r\n"
#define B250R "250 2.1.5 Ok\r\n"
#define B354 "354 End data with <CR><LF>.<CR><LF>\r\n"
#define B250Q "250 2.0.0 Ok: queued\r\n"
#define TOP R_GREET R_EHLO B250M B250R B354
#define R_BARE "550 5.5.2 message has bare CR, LF or NUL\r\n"
/* a transaction up to 354, then body */
#define DATA_CASE(name, tweak, body, fwd, cli_end, acts)                        \
	{ name, tweak,                                                          \
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C(body), B(B250Q) },     \
	  TOP cli_end, TXN fwd, RLY acts }

#define RC10 RCPT RCPT RCPT RCPT RCPT RCPT RCPT RCPT RCPT RCPT
#define RC100 RC10 RC10 RC10 RC10 RC10 RC10 RC10 RC10 RC10 RC10
#define O10 "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n"
#define O100 O10 O10 O10 O10 O10 O10 O10 O10 O10 O10

static const struct drv_case cases[] = {
	{ "hand-off and a message", NULL,
	  { C(HELLO MAIL), EV(SMTP_BACKEND_READY), B(B250M), C(RCPT "NOOP\r\n"), B(B250R),
	    C("DATA\r\n"), B(B354), C("Subject: x\r\n\r\nhello\r\n.\r\n"), B(B250Q),
	    C("QUIT\r\n") },
	  R_GREET R_EHLO B250M B250R R_OK B354 B250Q R_BYE,
	  TXN "Subject: x\r\n\r\nhello\r\n.\r\n", RLY "DATA_END BQUIT CLOSE(quit) " },
	{ "helo is replayed as helo", NULL, { C("HELO h.test\r\n" MAIL), B(B250M) },
	  R_GREET "250 mx.test\r\n" B250M, MAIL, "RELAY(helo:h.test) " },
	{ "local replies wait for backend replies", NULL,
	  { C(HELLO MAIL "NOOP\r\n" RCPT "VRFY x\r\nRCPT TO:<bad>\r\nHELP\r\n"), B(B250M),
	    B(B250R) },
	  R_GREET R_EHLO B250M R_OK B250R R_502 "501 5.1.3 Bad recipient address syntax\r\n"
	  "214 2.0.0 See RFC 5321\r\n", MAIL RCPT, RLY },
	{ "malformed never forwarded", NULL,
	  { C(HELLO MAIL "RCPT TO:<c@d.test> FOO=bar\r\nXCLIENT ADDR=1.2.3.4\r\n" RCPT), B(B250M),
	    B(B250R) },
	  R_GREET R_EHLO B250M "555 5.5.4 Unsupported parameter\r\n"
	  "550 5.7.0 Command not permitted\r\n" B250R, MAIL RCPT, RLY },
	{ "no backend", NULL, { C(HELLO MAIL "NOOP\r\n"), EV(SMTP_BACKEND_NONE) },
	  R_GREET R_EHLO "421 4.3.0 mx.test Service not available\r\n", MAIL,
	  RLY "CLOSE(backend) " },
	{ "backends busy", NULL, { C(HELLO MAIL), EV(SMTP_BACKEND_BUSY) },
	  R_GREET R_EHLO "421 4.3.2 mx.test All servers busy, try again later\r\n", MAIL,
	  RLY "CLOSE(backend) " },
	{ "backend gone idle", NULL, { C(HELLO MAIL), B(B250M), EV(SMTP_BACKEND_GONE) },
	  R_GREET R_EHLO B250M "421 4.4.2 mx.test Backend connection lost\r\n", MAIL,
	  RLY "CLOSE(backend) " },
	{ "backend gone before end-of-data reply", NULL,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("hi\r\n.\r\nNOOP\r\n"),
	    EV(SMTP_BACKEND_GONE), C(MAIL), B(B250M) },
	  TOP "451 4.4.2 Backend lost, try again later\r\n" R_OK B250M,
	  TXN "hi\r\n.\r\n" MAIL, RLY "DATA_END " RLY },
	{ "backend gone mid-body", NULL,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("hi\r\n"), EV(SMTP_BACKEND_GONE),
	    C("more\r\n.\r\nNOOP\r\n") },
	  TOP "451 4.4.2 Backend lost, try again later\r\n" R_OK, TXN "hi", RLY },
	{ "ehlo mid-session resets the backend", NULL,
	  { C(HELLO MAIL), B(B250M), C("EHLO b.test\r\n" MAIL), B("250 2.0.0 reset\r\n"),
	    B(B250M) },
	  R_GREET R_EHLO B250M R_EHLO B250M, MAIL "RSET\r\n" MAIL, RLY },
	{ "rset is forwarded", NULL, { C(HELLO MAIL "RSET\r\n" RCPT), B(B250M), B("250 reset\r\n") },
	  R_GREET R_EHLO B250M "250 reset\r\n503 5.5.1 Error: need MAIL command\r\n",
	  MAIL "RSET\r\n", RLY },
	{ "quit waits for pending replies", NULL, { C(HELLO MAIL "QUIT\r\nNOOP\r\n"), B(B250M) },
	  R_GREET R_EHLO B250M R_BYE, MAIL, RLY "BQUIT CLOSE(quit) " },
	{ "data before rcpt", NULL, { C(HELLO MAIL "DATA\r\n"), B(B250M) },
	  R_GREET R_EHLO B250M "503 5.5.1 Error: need RCPT command\r\n", MAIL, RLY },
	{ "nested mail", NULL, { C(HELLO MAIL MAIL), B(B250M) },
	  R_GREET R_EHLO B250M "503 5.5.1 Error: nested MAIL command\r\n", MAIL, RLY },
	{ "rejected mail ends the transaction", NULL,
	  { C(HELLO MAIL), B("550 5.7.1 no\r\n"), C(MAIL), B(B250M) },
	  R_GREET R_EHLO "550 5.7.1 no\r\n" B250M, MAIL MAIL, RLY },
	{ "data refused by backend", NULL,
	  { C(HELLO TXN "NOOP\r\n"), B(B250M), B(B250R), B("554 5.5.1 no\r\n") },
	  R_GREET R_EHLO B250M B250R "554 5.5.1 no\r\n" R_OK, TXN, RLY },
	{ "multi-line backend reply", NULL,
	  { C(HELLO MAIL), B("250-first\r\n250-second\r\n250 last\r\n") },
	  R_GREET R_EHLO "250-first\r\n250-second\r\n250 last\r\n", MAIL, RLY },
	{ "malformed backend reply", NULL,
	  { C(HELLO MAIL), B("250-first\r\n251 last\r\n"), B("hello\r\n"), B(B250M) },
	  R_GREET R_EHLO B250M, MAIL, RLY "EPROTO EPROTO " },
	{ "unexpected backend reply", NULL, { C(HELLO), B(B250M) }, R_GREET R_EHLO, "",
	  "EPROTO " },
	{ "rcpt cap", cfg_rcpts,
	  { C(HELLO MAIL RC100 RCPT), BN("250 ok\r\n", 101) },
	  R_GREET R_EHLO O100 "250 ok\r\n452 4.5.3 Too many recipients\r\n", MAIL RC100, RLY },
	{ "message cap", cfg_msgs,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("x\r\n.\r\n" MAIL), B(B250Q) },
	  TOP B250Q "421 4.7.0 mx.test Error: too many messages\r\n", TXN "x\r\n.\r\n",
	  RLY "DATA_END BQUIT CLOSE(msgs) " },
	{ "dot timeout", cfg_dot,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("x\r\n.\r\n"), T(499), T(1) },
	  TOP "451 4.4.2 Backend lost, try again later\r\n", TXN "x\r\n.\r\n",
	  RLY "DATA_END ABORT CLOSE(timeout) " },
	{ "auth exchange", cfg_sub,
	  { C(HELLO "AUTH LOGIN\r\n"), B("334 VXNlcm5hbWU6\r\n"), C("Ym9i\r\n"),
	    B("334 UGFzc3dvcmQ6\r\n"), C("c2VjcmV0\r\n"), B("235 2.7.0 ok\r\n"), C(MAIL),
	    B(B250M) },
	  R_GREET R_EHLO_AUTH "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 ok\r\n" B250M,
	  "AUTH LOGIN\r\nYm9i\r\nc2VjcmV0\r\n" MAIL, RLY },
	{ "sasl garbage cancels", cfg_sub,
	  { C(HELLO "AUTH LOGIN\r\n"), B("334 VXNlcm5hbWU6\r\n"), C("not base64!\r\nNOOP\r\n"),
	    B("501 5.7.0 cancelled\r\n") },
	  R_GREET R_EHLO_AUTH "334 VXNlcm5hbWU6\r\n501 5.5.2 Cannot decode SASL response\r\n" R_OK,
	  "AUTH LOGIN\r\n*\r\n", RLY },
	{ "starttls after relay", cfg_tls, { C(HELLO MAIL "STARTTLS\r\n"), B(B250M) },
	  R_GREET "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
	  "250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n" B250M
	  "503 5.5.1 Error: bad sequence of commands\r\n", MAIL, RLY },
	{ "drain waits for the transaction", NULL,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), DRAIN, C("x\r\n.\r\n"), B(B250Q) },
	  TOP B250Q "421 4.3.2 mx.test Service shutting down\r\n", TXN "x\r\n.\r\n",
	  RLY "DATA_END BQUIT CLOSE(shutdown) " },
	{ "errors close aborts the backend", NULL,
	  { C(HELLO MAIL "A\r\nB\r\nC\r\nD\r\nE\r\n"), B(B250M) },
	  R_GREET R_EHLO B250M R_500 R_500 R_500 R_500 R_ERRS, MAIL,
	  RLY "ABORT CLOSE(errors) " },
	{ "timeout mid-body", NULL,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("abc"), T(180000) },
	  TOP R_TIMEOUT, TXN "abc", RLY "ABORT CLOSE(timeout) " },
	/* DATA streaming */
	DATA_CASE("plain body", NULL, "a\r\nb\r\n.\r\n", "a\r\nb\r\n.\r\n", B250Q, "DATA_END "),
	DATA_CASE("empty body", NULL, ".\r\n", ".\r\n", B250Q, "DATA_END "),
	DATA_CASE("client stuffed dots", NULL, "..x\r\n..\r\n.\r\n", "..x\r\n..\r\n.\r\n", B250Q,
		  "DATA_END "),
	DATA_CASE("dot lines that are not the end", NULL, ".x\r\n. \r\nx.\r\n.\r\n",
		  ".x\r\n. \r\nx.\r\n.\r\n", B250Q, "DATA_END "),
	{ "pipelined after the dot", NULL,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("a\r\n.\r\nNOOP\r\n" MAIL), B(B250Q),
	    B(B250M) },
	  TOP B250Q R_OK B250M, TXN "a\r\n.\r\n" MAIL, RLY "DATA_END " },
	{ "reject bare lf", NULL,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("ab\ncd\r\n.\r\n" MAIL), B(B250M) },
	  TOP R_BARE B250M, TXN "ab" MAIL, RLY "ABORT " RLY },
	{ "reject bare cr", NULL,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("ab\rcd\r\n.\r\nNOOP\r\n") },
	  TOP R_BARE R_OK, TXN "ab", RLY "ABORT " },
	{ "reject nul", NULL,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("ok\r\nab\0cd\r\n.\r\nNOOP\r\n") },
	  TOP R_BARE R_OK, TXN "ok\r\nab", RLY "ABORT " },
	{ "reject: \\r\\n.\\n is not the end", NULL,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("x\r\n.\nNOOP\r\n.\r\nNOOP\r\n") },
	  TOP R_BARE R_OK, TXN "x", RLY "ABORT " },
	{ "reject: \\n.\\r\\n is not the end", NULL,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("x\n.\r\nNOOP\r\n.\r\nNOOP\r\n") },
	  TOP R_BARE R_OK, TXN "x", RLY "ABORT " },
	DATA_CASE("normalize bare lf", cfg_norm, "ab\ncd\r\n.\r\n", "ab\r\ncd\r\n.\r\n", B250Q,
		  "DATA_END "),
	DATA_CASE("normalize bare cr", cfg_norm, "ab\rcd\r\r\n.\r\n", "ab\r\ncd\r\n\r\n.\r\n",
		  B250Q, "DATA_END "),
	DATA_CASE("normalize \\r\\n.\\n", cfg_norm, "x\r\n.\nmore\r\n.\r\n",
		  "x\r\n..\r\nmore\r\n.\r\n", B250Q, "DATA_END "),
	DATA_CASE("normalize \\r\\n.\\rY", cfg_norm, "x\r\n.\rY\r\n.\r\n",
		  "x\r\n..\r\nY\r\n.\r\n", B250Q, "DATA_END "),
	DATA_CASE("normalize \\n.\\r\\n", cfg_norm, "x\n.\r\n.\r\n", "x\r\n..\r\n.\r\n", B250Q,
		  "DATA_END "),
	DATA_CASE("normalize first line .\\n", cfg_norm, ".\nx\r\n.\r\n", "..\r\nx\r\n.\r\n", B250Q,
		  "DATA_END "),
	DATA_CASE("normalize dot after bare lf", cfg_norm, "a\n.b\n..\r\n.\r\n",
		  "a\r\n..b\r\n...\r\n.\r\n", B250Q, "DATA_END "),
	DATA_CASE("normalize lf lf", cfg_norm, "\n\n.\r\n", "\r\n\r\n..", "", "EPROTO "),
	{ "normalize still rejects nul", cfg_norm,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("a\nb\0\r\n.\r\nNOOP\r\n") },
	  TOP R_BARE R_OK, TXN "a\r\nb", RLY "ABORT " },
	{ "size", cfg_small,
	  { C("HELO a.test\r\n" TXN), B(B250M), B(B250R), B(B354),
	    C("0123456789\r\n.\r\nNOOP\r\n") },
	  R_GREET "250 mx.test\r\n" B250M B250R B354 "552 5.3.4 message too big\r\n" R_OK,
	  TXN "0123456789", "RELAY(helo:a.test) ABORT " },
	{ "size exactly", cfg_small,
	  { C("HELO a.test\r\n" TXN), B(B250M), B(B250R), B(B354), C("01234567\r\n.\r\n"),
	    B(B250Q) },
	  R_GREET "250 mx.test\r\n" B250M B250R B354 B250Q, TXN "01234567\r\n.\r\n",
	  "RELAY(helo:a.test) DATA_END " },
	{ "max data line", cfg_dataline,
	  { C(HELLO TXN), B(B250M), B(B250R), B(B354), C("01234567\r\n0123456789\r\n.\r\n") },
	  TOP "550 5.5.2 message has a line too long\r\n", TXN "01234567\r\n01234567",
	  RLY "ABORT " },
};

int main(void)
{
	return drv_run_cases(cases, sizeof(cases) / sizeof(cases[0]), "test_smtp_relay") ? 1 : 0;
}
