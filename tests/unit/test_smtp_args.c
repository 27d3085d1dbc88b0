/*
 * test_smtp_args.c — table-driven tests of proxy/core/smtp_args.c.
 *
 * Every input is parsed twice: ending right at a PROT_NONE page and starting
 * right after one, so a parser that reads one byte too far either way
 * crashes. Every proper prefix of every input is parsed as well (verdicts
 * unchecked, but the invariants of a successful parse are).
 */
#include "smtp_args.h"

#include "check.h"

/* ---- Harness ------------------------------------------------------------- */

#define GUARD_DATA (16u * 1024u) /* longest input a case may have */

/* Records one check; on failure prints the case's line and input. */
static void t_check(int ok, int line, const char *what, const void *in, size_t n)
{
	if (check_one(ok, what, __FILE__, line) || !check_show())
		return;
	fprintf(stderr, "  input \"");
	for (size_t i = 0; i < n; i++) {
		uint8_t c = ((const uint8_t *)in)[i];
		if (c >= 32 && c < 127 && c != '"' && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "\" (%zu bytes)\n", n);
}

/* ---- Cases ----------------------------------------------------------------- */

enum kind { K_MAIL, K_RCPT, K_HELO, K_EHLO, K_AUTH, K_SASL, K_UTF8 };

enum cfg_id { C0, CALL, CSIZE, C8, CU8, CAUTH, CMAX, CNOMECH, NCFG };

static const struct smtp_args_cfg cfgs[NCFG] = {
	[C0] = { 0 },
	[CALL] = { .size_max = 10485760,
		   .eightbit = 1,
		   .smtputf8 = 1,
		   .auth = 1,
		   .auth_mechs = "PLAIN LOGIN" },
	[CSIZE] = { .size_max = 1000 },
	[C8] = { .eightbit = 1 },
	[CU8] = { .smtputf8 = 1 },
	[CAUTH] = { .auth = 1, .auth_mechs = "PLAIN  LOGIN CRAM-MD5" },
	[CMAX] = { .size_max = UINT64_MAX },
	[CNOMECH] = { .auth = 1, .auth_mechs = NULL },
};

struct row {
	int line;
	uint8_t kind; /* enum kind */
	uint8_t cfg;  /* enum cfg_id */
	uint8_t flag; /* RCPT: utf8_ok */
	const char *in;
	size_t len;
	int expect;         /* enum smtp_arg_err; 0/1 for SASL and UTF8 */
	const char *local;  /* MAIL/RCPT OK: expected local part, or NULL */
	const char *domain; /* MAIL/RCPT OK: expected domain, or NULL */
};

#define OK   SMTP_ARG_OK
#define SYN  SMTP_ARG_SYNTAX
#define BS   SMTP_ARG_BAD_SENDER
#define BR   SMTP_ARG_BAD_RCPT
#define BD   SMTP_ARG_BAD_DOMAIN
#define PAR  SMTP_ARG_PARAM
#define SZ   SMTP_ARG_SIZE
#define U8   SMTP_ARG_UTF8
#define MECH SMTP_ARG_AUTH_MECH

#define ROW(k, c, f, s, e, l, d)                                                                   \
	{                                                                                          \
		__LINE__, k, c, f, s, sizeof(s) - 1, e, l, d                                       \
	}
#define M(c, s, e)        ROW(K_MAIL, c, 0, s, e, NULL, NULL)
#define MP(c, s, l, d)    ROW(K_MAIL, c, 0, s, OK, l, d)
#define R(c, u, s, e)     ROW(K_RCPT, c, u, s, e, NULL, NULL)
#define RP(c, u, s, l, d) ROW(K_RCPT, c, u, s, OK, l, d)
#define H(s, e)           ROW(K_HELO, C0, 0, s, e, NULL, NULL)
#define E(s, e)           ROW(K_EHLO, C0, 0, s, e, NULL, NULL)
#define A(c, s, e)        ROW(K_AUTH, c, 0, s, e, NULL, NULL)
#define S(s, v)           ROW(K_SASL, C0, 0, s, v, NULL, NULL)
#define U(s, v)           ROW(K_UTF8, C0, 0, s, v, NULL, NULL)

/* "\xc3\xbc" is U+00FC (u with diaeresis); an escape followed by a hex digit is
 * written in octal ("\303\274cher") so that it cannot swallow the digit. */
static const struct row rows[] = {
	/* MAIL: prefix and path framing */
	MP(C0, "FROM:<a@b>", "a", "b"),
	MP(C0, "FROM:<user@example.com>", "user", "example.com"),
	MP(C0, "from:<user@example.com>", "user", "example.com"),
	MP(C0, "FrOm:<user@example.com>", "user", "example.com"),
	M(C0, "FROM:<>", OK),
	M(C0, "", SYN),
	M(C0, "F", SYN),
	M(C0, "FROM", SYN),
	M(C0, "FROM<a@b>", SYN),
	M(C0, "FROM <a@b>", SYN),
	M(C0, "FROM :<a@b>", SYN),
	M(C0, " FROM:<a@b>", SYN),
	M(C0, "FROMM:<a@b>", SYN),
	M(C0, "TO:<a@b>", SYN),
	M(C0, "FROM;<a@b>", SYN),
	M(C0, "FROM:", BS),
	M(C0, "FROM: <a@b>", BS),
	M(C0, "FROM:  <a@b>", BS),
	M(C0, "FROM:\t<a@b>", BS),
	M(C0, "FROM:a@b", BS),
	M(C0, "FROM:foo", BS),
	M(C0, "FROM:<a@b", BS),
	M(C0, "FROM:a@b>", BS),
	M(C0, "FROM:<<a@b>>", BS),
	M(C0, "FROM:<", BS),
	M(C0, "FROM:<<>>", BS),
	M(C0, "FROM:< >", BS),
	M(C0, "FROM:<a@b>>", SYN),
	M(C0, "FROM:<a@b>x", SYN),
	M(C0, "FROM:<>x", SYN),
	M(C0, "FROM:<a@b> ", SYN),
	M(C0, "FROM:<a@b>\t", SYN),
	M(C0, "FROM:<a@b>\r\n", SYN),
	M(C0, "FROM:<a@b>\0", SYN),
	M(C0, "FROM:<a\0@b>", BS),
	M(C0, "FROM:<a>", BS),
	M(C0, "FROM:<Postmaster>", BS),
	M(C0, "FROM:<@b>", BS),
	M(C0, "FROM:<a@>", BS),
	M(C0, "FROM:<a@@b>", BS),
	M(C0, "FROM:<a@b@c>", BS),
	M(C0, "FROM:<a @b>", BS),
	M(C0, "FROM:<a@ b>", BS),
	M(C0, "FROM:<a@b >", BS),
	/* Dot-string local parts */
	MP(C0, "FROM:<first.last@example.com>", "first.last", "example.com"),
	MP(C0, "FROM:<a.b.c.d@x.y.z>", "a.b.c.d", "x.y.z"),
	MP(C0, "FROM:<!#$%&'*+-/=?^_`{|}~@example.com>", "!#$%&'*+-/=?^_`{|}~", "example.com"),
	MP(C0, "FROM:<user+tag@example.com>", "user+tag", "example.com"),
	MP(C0, "FROM:<USER@EXAMPLE.COM>", "USER", "EXAMPLE.COM"),
	MP(C0, "FROM:<0@0>", "0", "0"),
	MP(C0, "FROM:<Postmaster@example.com>", "Postmaster", "example.com"),
	M(C0, "FROM:<.a@b>", BS),
	M(C0, "FROM:<a.@b>", BS),
	M(C0, "FROM:<a..b@c>", BS),
	M(C0, "FROM:<.@b>", BS),
	M(C0, "FROM:<a b@c>", BS),
	M(C0, "FROM:<a(b)@c>", BS),
	M(C0, "FROM:<a,b@c>", BS),
	M(C0, "FROM:<a:b@c>", BS),
	M(C0, "FROM:<a;b@c>", BS),
	M(C0, "FROM:<a[b@c>", BS),
	M(C0, "FROM:<a]b@c>", BS),
	M(C0, "FROM:<a\\b@c>", BS),
	M(C0, "FROM:<a\"b@c>", BS),
	M(C0, "FROM:<a<b@c>", BS),
	M(C0, "FROM:<a\177b@c>", BS),
	M(C0, "FROM:<a\001b@c>", BS),
	/* Quoted-string local parts */
	MP(C0, "FROM:<\"quoted\"@example.com>", "\"quoted\"", "example.com"),
	MP(C0, "FROM:<\"a b\"@example.com>", "\"a b\"", "example.com"),
	MP(C0, "FROM:<\"\"@example.com>", "\"\"", "example.com"),
	MP(C0, "FROM:<\"a\\\"b\"@x>", "\"a\\\"b\"", "x"),
	MP(C0, "FROM:<\"a\\\\b\"@x>", "\"a\\\\b\"", "x"),
	MP(C0, "FROM:<\"a\\ b\"@x>", "\"a\\ b\"", "x"),
	MP(C0, "FROM:<\"a\\~\"@x>", "\"a\\~\"", "x"),
	MP(C0, "FROM:<\"a@b\"@x>", "\"a@b\"", "x"),
	MP(C0, "FROM:<\"a>b\"@x>", "\"a>b\"", "x"),
	MP(C0, "FROM:<\"(),:;<>[]\"@x>", "\"(),:;<>[]\"", "x"),
	MP(C0, "FROM:<\"a.\"@x>", "\"a.\"", "x"),
	MP(C0, "FROM:<\"..\"@x>", "\"..\"", "x"),
	M(C0, "FROM:<\"a@b>", BS),
	M(C0, "FROM:<\"a\"b@c>", BS),
	M(C0, "FROM:<\"a\".b@c>", BS),
	M(C0, "FROM:<a.\"b\"@c>", BS),
	M(C0, "FROM:<\"a\"\"b\"@c>", BS),
	M(C0, "FROM:<\"a\\\"@c>", BS),
	M(C0, "FROM:<\"a\\\x01\"@c>", BS),
	M(C0, "FROM:<\"a\\\x7f\"@c>", BS),
	M(C0, "FROM:<\"a\\\t\"@c>", BS),
	M(C0, "FROM:<\"a\x7f\"@c>", BS),
	M(C0, "FROM:<\"a\tb\"@c>", BS),
	M(C0, "FROM:<\"a\r\nb\"@c>", BS),
	M(C0, "FROM:<\"a\0b\"@c>", BS),
	M(C0, "FROM:<\"a\\", BS),
	M(C0, "FROM:<\"", BS),
	/* Domains */
	MP(C0, "FROM:<a@localhost>", "a", "localhost"),
	MP(C0, "FROM:<a@1.2.3.4>", "a", "1.2.3.4"),
	MP(C0, "FROM:<a@a-b.c-d>", "a", "a-b.c-d"),
	MP(C0, "FROM:<a@a--b.example>", "a", "a--b.example"),
	MP(C0, "FROM:<a@xn--bcher-kva.example>", "a", "xn--bcher-kva.example"),
	MP(C0, "FROM:<a@0-0.9>", "a", "0-0.9"),
	M(C0, "FROM:<a@-b.com>", BS),
	M(C0, "FROM:<a@b-.com>", BS),
	M(C0, "FROM:<a@b.-c>", BS),
	M(C0, "FROM:<a@b.c->", BS),
	M(C0, "FROM:<a@->", BS),
	M(C0, "FROM:<a@b..com>", BS),
	M(C0, "FROM:<a@.b.com>", BS),
	M(C0, "FROM:<a@b.com.>", BS),
	M(C0, "FROM:<a@.>", BS),
	M(C0, "FROM:<a@b_c.com>", BS),
	M(C0, "FROM:<a@b c>", BS),
	M(C0, "FROM:<a@b/c>", BS),
	M(C0, "FROM:<a@\"b\">", BS),
	/* IPv4 address literals */
	MP(C0, "FROM:<a@[198.18.0.1]>", "a", "[198.18.0.1]"),
	MP(C0, "FROM:<a@[0.0.0.0]>", "a", "[0.0.0.0]"),
	MP(C0, "FROM:<a@[255.255.255.255]>", "a", "[255.255.255.255]"),
	MP(C0, "FROM:<a@[001.002.003.004]>", "a", "[001.002.003.004]"),
	M(C0, "FROM:<a@[256.0.0.1]>", BS),
	M(C0, "FROM:<a@[1.2.3.256]>", BS),
	M(C0, "FROM:<a@[1.2.3.999]>", BS),
	M(C0, "FROM:<a@[1.2.3]>", BS),
	M(C0, "FROM:<a@[1.2.3.4.5]>", BS),
	M(C0, "FROM:<a@[1.2.3.]>", BS),
	M(C0, "FROM:<a@[.1.2.3]>", BS),
	M(C0, "FROM:<a@[1..2.3]>", BS),
	M(C0, "FROM:<a@[+1.2.3.4]>", BS),
	M(C0, "FROM:<a@[1.+2.3.4]>", BS),
	M(C0, "FROM:<a@[-1.2.3.4]>", BS),
	M(C0, "FROM:<a@[1234.1.1.1]>", BS),
	M(C0, "FROM:<a@[0001.1.1.1]>", BS),
	M(C0, "FROM:<a@[ 1.2.3.4]>", BS),
	M(C0, "FROM:<a@[1.2.3.4 ]>", BS),
	M(C0, "FROM:<a@[1.2.3.4]x>", BS),
	M(C0, "FROM:<a@[1.2.3.4>", BS),
	M(C0, "FROM:<a@1.2.3.4]>", BS),
	M(C0, "FROM:<a@[]>", BS),
	M(C0, "FROM:<a@[[1.2.3.4]]>", BS),
	M(C0, "FROM:<a@b[1.2.3.4]>", BS),
	/* IPv6 address literals (RFC 5321 §4.1.3 forms) */
	MP(C0, "FROM:<a@[IPv6:2001:db8::1]>", "a", "[IPv6:2001:db8::1]"),
	MP(C0, "FROM:<a@[IPv6:1:2:3:4:5:6:7:8]>", "a", "[IPv6:1:2:3:4:5:6:7:8]"),
	MP(C0, "FROM:<a@[ipv6:::1]>", "a", "[ipv6:::1]"),
	M(C0, "FROM:<a@[IPv6:::]>", OK),
	M(C0, "FROM:<a@[IPv6:1::]>", OK),
	M(C0, "FROM:<a@[IPv6:FFFF:ffff:0:0:0:0:0:1]>", OK),
	M(C0, "FROM:<a@[IPv6:0000:0:0:0:0:0:0:0]>", OK),
	M(C0, "FROM:<a@[IPv6:1::2:3:4:5:6]>", OK),
	M(C0, "FROM:<a@[IPv6:1:2:3:4:5:6::]>", OK),
	M(C0, "FROM:<a@[IPv6:::1:2:3:4:5:6]>", OK),
	M(C0, "FROM:<a@[IPv6:1:2:3::4:5:6]>", OK),
	M(C0, "FROM:<a@[IPv6:1:2:3:4:5:6:1.2.3.4]>", OK),
	M(C0, "FROM:<a@[IPv6:::ffff:198.18.0.1]>", OK),
	M(C0, "FROM:<a@[IPv6:::198.18.0.1]>", OK),
	M(C0, "FROM:<a@[IPv6:1:2:3:4::1.2.3.4]>", OK),
	M(C0, "FROM:<a@[IPv6:1::4:1.2.3.4]>", OK),
	M(C0, "FROM:<a@[IPv6:1::2:3:4:1.2.3.4]>", OK),
	M(C0, "FROM:<a@[IPv6:]>", BS),
	M(C0, "FROM:<a@[IPv6:1:2:3:4:5:6:7]>", BS),
	M(C0, "FROM:<a@[IPv6:1:2:3:4:5:6:7:8:9]>", BS),
	M(C0, "FROM:<a@[IPv6:1:2:3:4:5:6:7::]>", BS),
	M(C0, "FROM:<a@[IPv6:::1:2:3:4:5:6:7]>", BS),
	M(C0, "FROM:<a@[IPv6:1::2:3:4:5:6:7]>", BS),
	M(C0, "FROM:<a@[IPv6:1:2:3:4:5:6:7:8::]>", BS),
	M(C0, "FROM:<a@[IPv6:1::2::3]>", BS),
	M(C0, "FROM:<a@[IPv6:::1::]>", BS),
	M(C0, "FROM:<a@[IPv6:12345::]>", BS),
	M(C0, "FROM:<a@[IPv6:1:12345::]>", BS),
	M(C0, "FROM:<a@[IPv6:g::1]>", BS),
	M(C0, "FROM:<a@[IPv6::1]>", BS),
	M(C0, "FROM:<a@[IPv6::1:2:3:4:5:6:7:8]>", BS),
	M(C0, "FROM:<a@[IPv6:1:]>", BS),
	M(C0, "FROM:<a@[IPv6:1:2:3:4:5:6:7:8:]>", BS),
	M(C0, "FROM:<a@[IPv6::::]>", BS),
	M(C0, "FROM:<a@[IPv6:1:::2]>", BS),
	M(C0, "FROM:<a@[IPv6:1::2:]>", BS),
	M(C0, "FROM:<a@[IPv6: ::1]>", BS),
	M(C0, "FROM:<a@[IPv6:1:2:3:4:5:1.2.3.4]>", BS),
	M(C0, "FROM:<a@[IPv6:1:2:3:4:5:6:7:1.2.3.4]>", BS),
	M(C0, "FROM:<a@[IPv6:1:2:3:4:5::1.2.3.4]>", BS),
	M(C0, "FROM:<a@[IPv6:1::2:3:4:5:1.2.3.4]>", BS),
	M(C0, "FROM:<a@[IPv6:::ffff:256.1.1.1]>", BS),
	M(C0, "FROM:<a@[IPv6:::1.2.3]>", BS),
	M(C0, "FROM:<a@[IPv6:1.2.3.4]>", BS),
	M(C0, "FROM:<a@[IPv6:1.2.3.4::]>", BS),
	M(C0, "FROM:<a@[IPv6:::1.2.3.4:1]>", BS),
	M(C0, "FROM:<a@[IPv6:::1.2.3.4.5]>", BS),
	M(C0, "FROM:<a@[IPv6:::ab.1.2.3]>", BS),
	M(C0, "FROM:<a@[IPv6:::1:1.2.3.4:]>", BS),
	M(C0, "FROM:<a@[IPv6]>", BS),
	M(C0, "FROM:<a@[IPv6:::1%eth0]>", BS),
	/* General-address-literal */
	MP(C0, "FROM:<a@[x-tag:abc]>", "a", "[x-tag:abc]"),
	M(C0, "FROM:<a@[tag:a:b:c]>", OK),
	M(C0, "FROM:<a@[tag:!~]>", OK),
	M(C0, "FROM:<a@[tag:>]>", OK),
	M(C0, "FROM:<a@[-x:y]>", OK),
	M(C0, "FROM:<a@[IPv6x:zz]>", OK),
	M(C0, "FROM:<a@[tag:]>", BS),
	M(C0, "FROM:<a@[:abc]>", BS),
	M(C0, "FROM:<a@[tag-:abc]>", BS),
	M(C0, "FROM:<a@[t_g:abc]>", BS),
	M(C0, "FROM:<a@[tag:a[b]>", BS),
	M(C0, "FROM:<a@[tag:a\\b]>", BS),
	M(C0, "FROM:<a@[tag:a b]>", BS),
	M(C0, "FROM:<a@[tag:a\x7f]>", BS),
	M(C0, "FROM:<a@[abc]>", BS),
	/* Source routes: checked, then ignored */
	MP(C0, "FROM:<@a,@b:user@d>", "user", "d"),
	MP(C0, "FROM:<@a:user@d>", "user", "d"),
	MP(C0, "FROM:<@a.example,@b.example,@c:\"q\"@[1.2.3.4]>", "\"q\"", "[1.2.3.4]"),
	M(C0, "FROM:<@a user@d>", BS),
	M(C0, "FROM:<@a,user@d>", BS),
	M(C0, "FROM:<@:user@d>", BS),
	M(C0, "FROM:<@a,:user@d>", BS),
	M(C0, "FROM:<@a,b:user@d>", BS),
	M(C0, "FROM:<@a,,@b:user@d>", BS),
	M(C0, "FROM:<@[1.2.3.4]:user@d>", BS),
	M(C0, "FROM:<@a:>", BS),
	M(C0, "FROM:<@a:@d>", BS),
	M(C0, "FROM:<@a@b:u@d>", BS),
	M(C0, "FROM:<@a::u@d>", BS),
	M(C0, "FROM:<@a.:u@d>", BS),
	M(C0, "FROM:<@-a:u@d>", BS),
	M(C0, "FROM:<@a: u@d>", BS),
	M(C0, "FROM:<@a>", BS),
	/* MAIL parameters */
	M(CALL, "FROM:<a@b> SIZE=1000", OK),
	M(CALL, "FROM:<a@b> size=1000", OK),
	M(CALL, "FROM:<a@b> SiZe=0", OK),
	M(CALL, "FROM:<> SIZE=10485760", OK),
	M(CALL, "FROM:<> SIZE=10485761", SZ),
	M(CALL, "FROM:<> SIZE=99999999999", SZ),
	M(CALL, "FROM:<a@b> SIZE=", SYN),
	M(CALL, "FROM:<a@b> SIZE", SYN),
	M(CALL, "FROM:<a@b> SIZE=abc", SYN),
	M(CALL, "FROM:<a@b> SIZE=-1", SYN),
	M(CALL, "FROM:<a@b> SIZE=+1", SYN),
	M(CALL, "FROM:<a@b> SIZE=1a", SYN),
	M(CALL, "FROM:<a@b> SIZE=1.5", SYN),
	M(CALL, "FROM:<a@b> SIZE=1 SIZE=2", SYN),
	M(CALL, "FROM:<a@b> SIZE=1 size=1", SYN),
	M(CALL, "FROM:<a@b> SIZE==1", SYN),
	M(C0, "FROM:<a@b> SIZE=1", PAR),
	M(C8, "FROM:<a@b> SIZE=1", PAR),
	M(CMAX, "FROM:<> SIZE=18446744073709551615", OK),
	M(CMAX, "FROM:<> SIZE=18446744073709551616", SZ),
	M(CMAX, "FROM:<> SIZE=99999999999999999999", SZ),
	M(CMAX, "FROM:<> SIZE=00000000000000000001", OK),
	M(CMAX, "FROM:<> SIZE=000000000000000000001", SYN),
	M(CMAX, "FROM:<> SIZE=999999999999999999999", SYN),
	M(CSIZE, "FROM:<> SIZE=1000", OK),
	M(CSIZE, "FROM:<> SIZE=1001", SZ),
	M(CSIZE, "FROM:<> SIZE=01000", OK),
	M(CALL, "FROM:<a@b> BODY=7BIT", OK),
	M(CALL, "FROM:<a@b> BODY=8BITMIME", OK),
	M(CALL, "FROM:<a@b> body=8bitmime", OK),
	M(CALL, "FROM:<a@b> BODY=BINARYMIME", PAR),
	M(CALL, "FROM:<a@b> BODY=7BITX", PAR),
	M(CALL, "FROM:<a@b> BODY=", SYN),
	M(CALL, "FROM:<a@b> BODY", SYN),
	M(CALL, "FROM:<a@b> BODY=7BIT BODY=8BITMIME", SYN),
	M(C8, "FROM:<a@b> BODY=8BITMIME", OK),
	M(C0, "FROM:<a@b> BODY=7BIT", PAR),
	M(CSIZE, "FROM:<a@b> BODY=8BITMIME", PAR),
	M(CALL, "FROM:<a@b> SMTPUTF8", OK),
	M(CALL, "FROM:<a@b> smtputf8", OK),
	M(CU8, "FROM:<a@b> SMTPUTF8", OK),
	M(CALL, "FROM:<a@b> SMTPUTF8=1", SYN),
	M(CALL, "FROM:<a@b> SMTPUTF8 SMTPUTF8", SYN),
	M(C0, "FROM:<a@b> SMTPUTF8", PAR),
	M(CALL, "FROM:<a@b> AUTH=<>", OK),
	M(CALL, "FROM:<a@b> AUTH=user@example.com", OK),
	M(CALL, "FROM:<a@b> AUTH=user+2Bx@example.com", OK),
	M(CALL, "FROM:<a@b> AUTH=<a@b>", OK),
	M(CALL, "FROM:<a@b> AUTH=+3D", OK),
	M(CALL, "FROM:<a@b> AUTH=a+2b", SYN),
	M(CALL, "FROM:<a@b> AUTH=a+", SYN),
	M(CALL, "FROM:<a@b> AUTH=a+2", SYN),
	M(CALL, "FROM:<a@b> AUTH=a+G0", SYN),
	M(CALL, "FROM:<a@b> AUTH=", SYN),
	M(CALL, "FROM:<a@b> AUTH", SYN),
	M(CALL, "FROM:<a@b> AUTH=<> AUTH=<>", SYN),
	M(C0, "FROM:<a@b> AUTH=<>", PAR),
	M(CALL, "FROM:<a@b> SIZE=100 BODY=8BITMIME SMTPUTF8 AUTH=<>", OK),
	M(CALL, "FROM:<a@b> AUTH=<> SMTPUTF8 BODY=7BIT SIZE=100", OK),
	M(CALL, "FROM:<a@b> FOO", PAR),
	M(CALL, "FROM:<a@b> FOO=bar", PAR),
	M(CALL, "FROM:<a@b> RET=HDRS", PAR),
	M(CALL, "FROM:<a@b> ENVID=x", PAR),
	M(CALL, "FROM:<a@b> X-FOO=1", PAR),
	M(CALL, "FROM:<a@b> X-", PAR),
	M(CALL, "FROM:<a@b> 8", PAR),
	M(CALL, "FROM:<a@b> FOO FOO", PAR),
	M(CALL, "FROM:<a@b> FOO SIZE=x", PAR),
	M(CALL, "FROM:<a@b> SIZE=1 FOO", PAR),
	M(CALL, "FROM:<a@b> SIZE=99999999 FOO", SZ),
	M(CALL, "FROM:<a@b> FOO=a b", PAR),
	M(CALL, "FROM:<a@b> FOO=", SYN),
	M(CALL, "FROM:<a@b> =bar", SYN),
	M(CALL, "FROM:<a@b> -FOO", SYN),
	M(CALL, "FROM:<a@b> FO_O", SYN),
	M(CALL, "FROM:<a@b> FOO=a=b", SYN),
	M(CALL, "FROM:<a@b> FOO=a\x7f", SYN),
	M(CALL, "FROM:<a@b> FOO=\x80", SYN),
	M(CALL, "FROM:<a@b> FOO=a\tb", SYN),
	M(CALL, "FROM:<a@b> SIZE=1 ", SYN),
	M(CALL, "FROM:<a@b> SIZE=1  BODY=7BIT", SYN),
	M(CALL, "FROM:<a@b>  SIZE=1", SYN),
	M(CALL, "FROM:<a@b>SIZE=1", SYN),
	M(CALL, "FROM:<a@b> SIZE=1\tBODY=7BIT", SYN),
	M(CALL, "FROM:<a@b> FOO SIZE=1 SIZE=1", SYN),
	M(CALL, "FROM:<a@b> FOO=~!\"#$%&'()*+,-./0123456789:;<>?@[\\]^_`{|}", PAR),
	M(CALL, "FROM:a@b SIZE=1", BS),
	/* UTF-8 paths (RFC 6531) */
	MP(CALL, "FROM:<\xc3\xbc@example.com> SMTPUTF8", "\xc3\xbc", "example.com"),
	MP(CU8, "FROM:<a@b\303\274cher.example> SMTPUTF8", "a", "b\303\274cher.example"),
	MP(CALL, "FROM:<\"\xc3\xbc x\"@b> SMTPUTF8", "\"\xc3\xbc x\"", "b"),
	MP(CALL, "FROM:<\xf0\x9f\x98\x80@b> SMTPUTF8", "\xf0\x9f\x98\x80", "b"),
	MP(CALL, "FROM:<\xe2\x82\xac.\xc2\xa0@b> SMTPUTF8", "\xe2\x82\xac.\xc2\xa0", "b"),
	MP(CALL, "FROM:<@b\xc3\xbc:a@b> SMTPUTF8", "a", "b"),
	M(CALL, "FROM:<> SMTPUTF8", OK),
	M(CALL, "FROM:<\xc3\xbc@example.com>", U8),
	M(CU8, "FROM:<\xc3\xbc@example.com>", U8),
	M(CALL, "FROM:<a@b\303\274cher.example>", U8),
	M(CALL, "FROM:<@b\xc3\xbc:a@b>", U8),
	M(CALL, "FROM:<\xc3\xbc@b> SIZE=1", U8),
	M(C0, "FROM:<\xc3\xbc@example.com> SMTPUTF8", PAR),
	M(C0, "FROM:<\xc3\xbc@example.com>", U8),
	M(CALL, "FROM:<\xc3\xbc@b> FOO", PAR),
	M(CALL, "FROM:<\xc3@b> SMTPUTF8", BS),
	M(CALL, "FROM:<\xc3@b>", BS),
	M(CALL, "FROM:<\xc0\xaf@b> SMTPUTF8", BS),
	M(CALL, "FROM:<\xed\xa0\x80@b> SMTPUTF8", BS),
	M(CALL, "FROM:<\xf4\x90\x80\x80@b> SMTPUTF8", BS),
	M(CALL, "FROM:<\xff@b> SMTPUTF8", BS),
	M(CALL, "FROM:<\x80@b> SMTPUTF8", BS),
	M(CALL, "FROM:<a@b\xc3> SMTPUTF8", BS),
	M(CALL, "FROM:<\"\xc3\"@b> SMTPUTF8", BS),
	M(CALL, "FROM:<a@[1.2.3.\xc3\xbc]> SMTPUTF8", BS),
	M(CALL, "FROM:<a@[tag:\xc3\xbc]> SMTPUTF8", BS),
	M(CALL, "FROM:<\"\\\xc3\xbc\"@b> SMTPUTF8", BS),
	M(CALL, "FROM:<a@-\xc3\xbc> SMTPUTF8", BS),
	M(CALL, "FROM:<a@\xc3\xbc-> SMTPUTF8", BS),
	M(CALL, "FROM:<a@\xc3\xbc.> SMTPUTF8", BS),
	M(CALL, "FROM:<a@\xc3\xbc_x> SMTPUTF8", BS),
	/* RCPT */
	RP(C0, 0, "TO:<a@b>", "a", "b"),
	RP(C0, 0, "to:<user@example.com>", "user", "example.com"),
	RP(C0, 0, "To:<\"x y\"@[IPv6:::1]>", "\"x y\"", "[IPv6:::1]"),
	RP(C0, 0, "TO:<Postmaster>", "Postmaster", NULL),
	RP(C0, 0, "TO:<postmaster>", "postmaster", NULL),
	RP(C0, 0, "TO:<POSTMASTER>", "POSTMASTER", NULL),
	RP(C0, 0, "TO:<Postmaster@example.com>", "Postmaster", "example.com"),
	RP(C0, 0, "TO:<@a,@b:user@d>", "user", "d"),
	RP(CALL, 1, "TO:<\xc3\xbc@b\xc3\xbc>", "\xc3\xbc", "b\xc3\xbc"),
	R(C0, 0, "", SYN),
	R(C0, 0, "TO", SYN),
	R(C0, 0, "T", SYN),
	R(C0, 0, "TO <a@b>", SYN),
	R(C0, 0, "FROM:<a@b>", SYN),
	R(C0, 0, "TO:", BR),
	R(C0, 0, "TO:<>", BR),
	R(C0, 0, "TO: <a@b>", BR),
	R(C0, 0, "TO:a@b", BR),
	R(C0, 0, "TO:<a>", BR),
	R(C0, 0, "TO:<Postmasters>", BR),
	R(C0, 0, "TO:<Postmaster >", BR),
	R(C0, 0, "TO:<Postmaste>", BR),
	R(C0, 0, "TO:<@a:Postmaster>", BR),
	R(C0, 0, "TO:<\"Postmaster\">", BR),
	R(C0, 0, "TO:<a@b.>", BR),
	R(C0, 0, "TO:<a@[1.2.3.256]>", BR),
	R(C0, 0, "TO:<a@b> ", SYN),
	R(C0, 0, "TO:<a@b>x", SYN),
	R(C0, 0, "TO:<a@b> =x", SYN),
	R(C0, 0, "TO:<a@b> NOTIFY=NEVER", PAR),
	R(CALL, 0, "TO:<a@b> NOTIFY=NEVER", PAR),
	R(CALL, 0, "TO:<a@b> SIZE=1", PAR),
	R(CALL, 1, "TO:<a@b> SMTPUTF8", PAR),
	R(C0, 0, "TO:<Postmaster> FOO", PAR),
	R(C0, 0, "TO:<Postmaster>x", SYN),
	R(CALL, 0, "TO:<\xc3\xbc@b>", U8),
	R(C0, 0, "TO:<a@b\xc3\xbc>", U8),
	R(CALL, 1, "TO:<\xc3@b>", BR),
	R(CALL, 0, "TO:<\xc3@b>", BR),
	R(CALL, 1, "TO:<\xed\xbf\xbf@b>", BR),
	R(CALL, 0, "TO:<\xc3\xbc@b> X=1", PAR),
	/* HELO: Domain only */
	H("example.com", OK),
	H("localhost", OK),
	H("mail", OK),
	H("a", OK),
	H("1.2.3.4", OK),
	H("EXAMPLE.COM", OK),
	H("a-b.c", OK),
	H("xn--bcher-kva.de", OK),
	H("", BD),
	H(" ", BD),
	H(" example.com", BD),
	H("example.com ", BD),
	H("example.com extra", BD),
	H("example.com.", BD),
	H(".example.com", BD),
	H("exa_mple.com", BD),
	H("-a.com", BD),
	H("a-.com", BD),
	H("a..b", BD),
	H("[198.18.0.1]", BD),
	H("[IPv6:::1]", BD),
	H("b\303\274cher.de", BD),
	H("exa mple", BD),
	H("a\0b", BD),
	H("a\r", BD),
	H("a\r\n", BD),
	H("<a.b>", BD),
	H("a@b", BD),
	/* EHLO: Domain or address-literal */
	E("example.com", OK),
	E("localhost", OK),
	E("[198.18.0.1]", OK),
	E("[IPv6:2001:db8::1]", OK),
	E("[IPv6:::ffff:198.18.0.1]", OK),
	E("[tag:x]", OK),
	E("[198.18.0.256]", BD),
	E("[198.18.0.1", BD),
	E("198.18.0.1]", BD),
	E("[198.18.0.1]x", BD),
	E("[198.18.0.1] ", BD),
	E("[198.18.0.1]]", BD),
	E("[]", BD),
	E("[", BD),
	E("]", BD),
	E("[IPv6:zz::1]", BD),
	E("[IPv6:1:2:3:4:5:6:7]", BD),
	E("b\303\274cher.de", BD),
	E("example.com ", BD),
	E("", BD),
	E("example.com.", BD),
	/* AUTH */
	A(CAUTH, "PLAIN", OK),
	A(CAUTH, "plain", OK),
	A(CAUTH, "LOGIN", OK),
	A(CAUTH, "CRAM-MD5", OK),
	A(CAUTH, "cram-md5", OK),
	A(CAUTH, "PLAIN dGVzdAB0ZXN0AHRlc3Q=", OK),
	A(CAUTH, "PLAIN AHVzZXIAcGFzcw==", OK),
	A(CAUTH, "PLAIN =", OK),
	A(CAUTH, "PLAIN ab==", OK),
	A(CAUTH, "PLAIN abc=", OK),
	A(CAUTH, "PLAIN +/+/", OK),
	A(CAUTH, "XOAUTH2", MECH),
	A(CAUTH, "PLAI", MECH),
	A(CAUTH, "PLAINX", MECH),
	A(CAUTH, "PLAIN-", MECH),
	A(CAUTH, "ABCDEFGHIJKLMNOPQRST", MECH),
	A(CAUTH, "XOAUTH2 dGVzdA==", MECH),
	A(CAUTH, "ABCDEFGHIJKLMNOPQRSTU", SYN),
	A(CAUTH, "", SYN),
	A(CAUTH, " PLAIN", SYN),
	A(CAUTH, "PLAIN ", SYN),
	A(CAUTH, "PLAIN  abcd", SYN),
	A(CAUTH, "PLAIN abc", SYN),
	A(CAUTH, "PLAIN ab=c", SYN),
	A(CAUTH, "PLAIN a===", SYN),
	A(CAUTH, "PLAIN ====", SYN),
	A(CAUTH, "PLAIN ==", SYN),
	A(CAUTH, "PLAIN ab!d", SYN),
	A(CAUTH, "PLAIN abcd efgh", SYN),
	A(CAUTH, "PLAIN abcd ", SYN),
	A(CAUTH, "PLAIN *", SYN),
	A(CAUTH, "PLAIN -_-_", SYN),
	A(CAUTH, "PLAIN ab\r\n", SYN),
	A(CAUTH, "PL@IN", SYN),
	A(CAUTH, "PLAIN\tabcd", SYN),
	A(CAUTH, "PLAIN\xc3\xbc", SYN),
	A(C0, "PLAIN", MECH),
	A(C0, "", MECH),
	A(CNOMECH, "PLAIN", MECH),
	A(CALL, "CRAM-MD5", MECH),
	A(CALL, "LOGIN", OK),
	/* SASL continuation lines */
	S("", 1),
	S("*", 1),
	S("**", 0),
	S("*abc", 0),
	S("dGVzdA==", 1),
	S("dGVz", 1),
	S("ab==", 1),
	S("abc=", 1),
	S("+/+/", 1),
	S("dGVzdA=", 0),
	S("dGVzdA", 0),
	S("=", 0),
	S("==", 0),
	S("====", 0),
	S("a===", 0),
	S("ab=c", 0),
	S("ab= ", 0),
	S("ab c", 0),
	S("abcd\r", 0),
	S("-_-_", 0),
	S(" abcd", 0),
	S("abcd ", 0),
	S("ab\0d", 0),
	/* UTF-8 validity (RFC 3629) */
	U("", 1),
	U("abc", 1),
	U("a\0b", 1),
	U("\x7f", 1),
	U("\xc2\x80", 1),
	U("\xc3\xbc", 1),
	U("\xdf\xbf", 1),
	U("\xe0\xa0\x80", 1),
	U("\xe2\x82\xac", 1),
	U("\xed\x9f\xbf", 1),
	U("\xee\x80\x80", 1),
	U("\xef\xbf\xbf", 1),
	U("\xf0\x90\x80\x80", 1),
	U("\xf0\x9f\x98\x80", 1),
	U("\xf4\x8f\xbf\xbf", 1),
	U("\xc3", 0),
	U("\xc0\x80", 0),
	U("\xc1\xbf", 0),
	U("\xc2\x7f", 0),
	U("\xc2\xc0", 0),
	U("\xe0\x80\x80", 0),
	U("\xe0\x9f\xbf", 0),
	U("\xed\xa0\x80", 0),
	U("\xed\xbf\xbf", 0),
	U("\xe2\x82", 0),
	U("\xe2\x28\xa1", 0),
	U("\xe2\x82\x28", 0),
	U("\xf0\x8f\xbf\xbf", 0),
	U("\xf0\x9f\x98", 0),
	U("\xf0\x9f\x98\x28", 0),
	U("\xf4\x90\x80\x80", 0),
	U("\xf5\x80\x80\x80", 0),
	U("\xf8\x88\x80\x80\x80", 0),
	U("\xfe", 0),
	U("\xff", 0),
	U("\x80", 0),
	U("\xbf", 0),
	U("a\xc3\xbc\x80", 0),
};

/* ---- Runner ----------------------------------------------------------------- */

struct result {
	int err;
	struct smtp_mail_args mail;
	struct smtp_rcpt_args rcpt;
	const uint8_t *mech;
	size_t mech_len;
};

/* Runs the parser of kind k on p[0..n); returns its verdict. */
static int parse(enum kind k, int cfg, int flag, const uint8_t *p, size_t n, struct result *r)
{
	const struct smtp_args_cfg *c = &cfgs[cfg];

	memset(r, 0xa5, sizeof(*r)); /* the parsers must set what they report */
	switch (k) {
	case K_MAIL:
		r->err = (int)smtp_args_mail(p, n, c, &r->mail);
		break;
	case K_RCPT:
		r->err = (int)smtp_args_rcpt(p, n, c, flag, &r->rcpt);
		break;
	case K_HELO:
		r->err = (int)smtp_args_helo(p, n, 0);
		break;
	case K_EHLO:
		r->err = (int)smtp_args_helo(p, n, 1);
		break;
	case K_AUTH:
		r->err = (int)smtp_args_auth(p, n, c, &r->mech, &r->mech_len);
		break;
	case K_SASL:
		r->err = smtp_args_sasl_line(p, n);
		break;
	case K_UTF8:
		r->err = smtp_args_utf8_valid(p, n);
		break;
	}
	return r->err;
}

/* 1 if q[0..len) lies inside p[0..n). */
static int inside(const uint8_t *p, size_t n, const uint8_t *q, size_t len)
{
	return q != NULL && q >= p && len <= n && (size_t)(q - p) <= n - len;
}

/* Checks what a successful MAIL/RCPT parse promises about its path. */
static void path_invariants(int line, const uint8_t *p, size_t n, size_t pre,
			    const struct smtp_path *pa, int utf8_allowed)
{
	const uint8_t *end;
	int hi = 0;

	if (pa->null_path) {
		t_check(pa->local == NULL && pa->domain == NULL && !pa->postmaster && !pa->utf8 &&
			    n >= pre + 2,
			line, "null path fields", p, n);
		return;
	}
	if (pa->postmaster) {
		t_check(pa->local == p + pre + 1 && pa->local_len == 10 && pa->domain == NULL &&
			    pa->domain_len == 0,
			line, "postmaster fields", p, n);
		return;
	}
	t_check(inside(p, n, pa->local, pa->local_len) && pa->local_len >= 1 &&
		    pa->local_len <= SMTP_LOCAL_MAX,
		line, "local part bounds", p, n);
	t_check(inside(p, n, pa->domain, pa->domain_len) && pa->domain_len >= 1 &&
		    pa->domain_len <= SMTP_DOMAIN_MAX &&
		    pa->domain == pa->local + pa->local_len + 1,
		line, "domain bounds", p, n);
	if (!inside(p, n, pa->domain, pa->domain_len))
		return;
	end = pa->domain + pa->domain_len + 1; /* past '>' */
	t_check((size_t)(end - p) <= n && (size_t)(end - (p + pre)) <= SMTP_PATH_MAX &&
		    end[-1] == '>' && p[pre] == '<',
		line, "path length", p, n);
	for (const uint8_t *q = p + pre; q < end && q < p + n; q++)
		hi |= *q >= 0x80;
	t_check(pa->utf8 == hi, line, "utf8 flag", p, n);
	t_check(!hi || utf8_allowed, line, "UTF-8 path accepted without SMTPUTF8", p, n);
}

/* Checks the invariants of a successful parse of kind k. */
static void invariants(int line, enum kind k, int cfg, int flag, const uint8_t *p, size_t n,
		       const struct result *r)
{
	if (r->err != SMTP_ARG_OK || k == K_SASL || k == K_UTF8)
		return;
	if (k == K_MAIL) {
		const struct smtp_mail_args *m = &r->mail;

		path_invariants(line, p, n, 5, &m->path, m->smtputf8 && cfgs[cfg].smtputf8);
		t_check(!m->has_size || m->size <= cfgs[cfg].size_max, line, "size limit", p, n);
		t_check(m->body <= SMTP_BODY_8BITMIME && (m->body == 0 || cfgs[cfg].eightbit), line,
			"body", p, n);
	} else if (k == K_RCPT) {
		path_invariants(line, p, n, 3, &r->rcpt.path, flag);
		t_check(!r->rcpt.path.null_path && !r->rcpt.has_params, line, "rcpt fields", p, n);
	} else if (k == K_AUTH) {
		t_check(r->mech == p && r->mech_len >= 1 && r->mech_len <= 20 && r->mech_len <= n,
			line, "mech bounds", p, n);
	}
}

/* Parses s[0..n) against the guard page and checks the verdict. */
static void run(struct check_guard *g, int line, enum kind k, int cfg, int flag, const void *s,
		size_t n, int expect, const char *local, const char *domain)
{
	const uint8_t *p = check_guard_start(g, s, n);
	const struct smtp_path *pa;
	struct result r;
	char what[96];

	parse(k, cfg, flag, p, n, &r);
	snprintf(what, sizeof(what), "verdict %d, expected %d (input at a lower guard)", r.err,
		 expect);
	t_check(r.err == expect, line, what, s, n);
	p = check_guard_end(g, s, n);
	parse(k, cfg, flag, p, n, &r);
	snprintf(what, sizeof(what), "verdict %d, expected %d", r.err, expect);
	t_check(r.err == expect, line, what, s, n);
	invariants(line, k, cfg, flag, p, n, &r);
	if (r.err == SMTP_ARG_OK && (k == K_MAIL || k == K_RCPT)) {
		pa = k == K_MAIL ? &r.mail.path : &r.rcpt.path;
		if (local != NULL)
			t_check(pa->local_len == strlen(local) &&
				    memcmp(pa->local, local, pa->local_len) == 0,
				line, "local part", s, n);
		if (domain != NULL)
			t_check(pa->domain_len == strlen(domain) &&
				    memcmp(pa->domain, domain, pa->domain_len) == 0,
				line, "domain", s, n);
	}
	/* Every proper prefix (the first and last 64 of a long input): no
	 * over-read, and the invariants hold. */
	for (size_t m = 0; m < n; m++) {
		if (n > 1024 && m == 64)
			m = n - 64;
		p = check_guard_end(g, s, m);
		parse(k, cfg, flag, p, m, &r);
		invariants(line, k, cfg, flag, p, m, &r);
	}
}

/* ---- Generated cases: length limits at their exact boundaries ------------- */

/* Writes a Domain of exactly len octets (labels of at most 63) into b. */
static size_t make_domain(char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (i % 64 == 63) ? '.' : 'a' + (char)(i % 26);
	if (len > 1 && b[len - 1] == '.')
		b[len - 2] = '.', b[len - 1] = 'z'; /* a one-octet last label */
	return len;
}

/* Builds "PRE<" local(ll) "@" domain(dl) ">" into b; returns its length. */
static size_t make_path(char *b, const char *pre, size_t ll, size_t dl)
{
	size_t n = strlen(pre);

	memcpy(b, pre, n);
	b[n++] = '<';
	memset(b + n, 'l', ll);
	n += ll;
	b[n++] = '@';
	n += make_domain(b + n, dl);
	b[n++] = '>';
	return n;
}

static void test_limits(struct check_guard *g)
{
	static char b[GUARD_DATA];
	size_t n;

	/* local part: 64 / 65 */
	n = make_path(b, "FROM:", 64, 5);
	run(g, __LINE__, K_MAIL, C0, 0, b, n, OK, NULL, NULL);
	n = make_path(b, "FROM:", 65, 5);
	run(g, __LINE__, K_MAIL, C0, 0, b, n, BS, NULL, NULL);
	n = make_path(b, "TO:", 64, 5);
	run(g, __LINE__, K_RCPT, C0, 0, b, n, OK, NULL, NULL);
	n = make_path(b, "TO:", 65, 5);
	run(g, __LINE__, K_RCPT, C0, 0, b, n, BR, NULL, NULL);
	/* a quoted local part counts its quotes */
	n = make_path(b, "FROM:", 64, 5);
	b[6] = '"', b[5 + 64] = '"';
	run(g, __LINE__, K_MAIL, C0, 0, b, n, OK, NULL, NULL);
	n = make_path(b, "FROM:", 65, 5);
	b[6] = '"', b[5 + 65] = '"';
	run(g, __LINE__, K_MAIL, C0, 0, b, n, BS, NULL, NULL);
	/* a UTF-8 local part counts octets: 32 x U+00FC = 64, then 65 */
	n = make_path(b, "FROM:", 64, 5);
	for (size_t i = 0; i < 64; i += 2)
		b[6 + i] = (char)0xc3, b[7 + i] = (char)0xbc;
	memcpy(b + n, " SMTPUTF8", 9);
	run(g, __LINE__, K_MAIL, CALL, 0, b, n + 9, OK, NULL, NULL);
	n = make_path(b, "FROM:", 65, 5);
	for (size_t i = 0; i < 64; i += 2)
		b[6 + i] = (char)0xc3, b[7 + i] = (char)0xbc;
	memcpy(b + n, " SMTPUTF8", 9);
	run(g, __LINE__, K_MAIL, CALL, 0, b, n + 9, BS, NULL, NULL);
	/* path: 256 / 257 octets including the brackets */
	n = make_path(b, "FROM:", 64, 256 - 3 - 64);
	run(g, __LINE__, K_MAIL, C0, 0, b, n, OK, NULL, NULL);
	n = make_path(b, "FROM:", 64, 257 - 3 - 64);
	run(g, __LINE__, K_MAIL, C0, 0, b, n, BS, NULL, NULL);
	n = make_path(b, "TO:", 10, 256 - 3 - 10);
	run(g, __LINE__, K_RCPT, C0, 0, b, n, OK, NULL, NULL);
	n = make_path(b, "TO:", 10, 257 - 3 - 10);
	run(g, __LINE__, K_RCPT, C0, 0, b, n, BR, NULL, NULL);
	/* ... and with parameters after it */
	n = make_path(b, "FROM:", 64, 256 - 3 - 64);
	memcpy(b + n, " SIZE=1", 7);
	run(g, __LINE__, K_MAIL, CALL, 0, b, n + 7, OK, NULL, NULL);
	/* a source route counts towards the path: 2 + 200 + 3 + 50 + 1 = 256 */
	for (size_t extra = 0; extra < 2; extra++) {
		n = 0;
		memcpy(b, "FROM:<@", 7);
		n = 7 + make_domain(b + 7, 200);
		memcpy(b + n, ":u@", 3);
		n += 3;
		n += make_domain(b + n, 50 + extra);
		b[n++] = '>';
		run(g, __LINE__, K_MAIL, C0, 0, b, n, extra ? BS : OK, "u", NULL);
	}
	/* domain: 255 / 256 octets (EHLO and HELO; a path cannot hold one) */
	run(g, __LINE__, K_EHLO, C0, 0, b, make_domain(b, 255), OK, NULL, NULL);
	run(g, __LINE__, K_HELO, C0, 0, b, make_domain(b, 255), OK, NULL, NULL);
	run(g, __LINE__, K_EHLO, C0, 0, b, make_domain(b, 256), BD, NULL, NULL);
	run(g, __LINE__, K_HELO, C0, 0, b, make_domain(b, 256), BD, NULL, NULL);
	run(g, __LINE__, K_EHLO, C0, 0, b, make_domain(b, 1000), BD, NULL, NULL);
	/* label: 63 / 64 octets */
	memset(b, 'x', 64);
	run(g, __LINE__, K_HELO, C0, 0, b, 63, OK, NULL, NULL);
	run(g, __LINE__, K_HELO, C0, 0, b, 64, BD, NULL, NULL);
	memcpy(b + 64, ".com", 4);
	run(g, __LINE__, K_EHLO, C0, 0, b + 1, 67, OK, NULL, NULL);
	run(g, __LINE__, K_EHLO, C0, 0, b, 68, BD, NULL, NULL);
	n = (size_t)snprintf(b, sizeof(b), "FROM:<a@b.%.63s>",
			     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	run(g, __LINE__, K_MAIL, C0, 0, b, n, OK, NULL, NULL);
	n = (size_t)snprintf(b, sizeof(b), "FROM:<a@b.%.64s>",
			     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	run(g, __LINE__, K_MAIL, C0, 0, b, n, BS, NULL, NULL);
	/* address literal: 255 / 256 octets with its brackets */
	b[0] = '[', memcpy(b + 1, "x:", 2), memset(b + 3, 'v', 300);
	b[254] = ']';
	run(g, __LINE__, K_EHLO, C0, 0, b, 255, OK, NULL, NULL);
	b[254] = 'v', b[255] = ']';
	run(g, __LINE__, K_EHLO, C0, 0, b, 256, BD, NULL, NULL);
	/* long lines: parameters up to the 1000-octet class, AUTH up to 12288 */
	n = (size_t)snprintf(b, sizeof(b), "FROM:<a@b> SIZE=1 AUTH=");
	memset(b + n, 'x', 900);
	run(g, __LINE__, K_MAIL, CALL, 0, b, n + 900, OK, NULL, NULL);
	memcpy(b, "PLAIN ", 6);
	memset(b + 6, 'Q', 12000);
	run(g, __LINE__, K_AUTH, CAUTH, 0, b, 12006, OK, NULL, NULL);
	run(g, __LINE__, K_SASL, C0, 0, b + 6, 12000, 1, NULL, NULL);
	run(g, __LINE__, K_SASL, C0, 0, b + 6, 11999, 0, NULL, NULL);
	memset(b, 'a', 16384);
	run(g, __LINE__, K_UTF8, C0, 0, b, 16384, 1, NULL, NULL);
}

/* ---- What the parsers report besides the verdict ------------------------- */

/* Parses the C string s as kind k and checks the verdict; returns the result. */
static struct result field_case(struct check_guard *g, int line, enum kind k, int cfg, int flag,
				const char *s, int expect)
{
	size_t n = strlen(s);
	const uint8_t *p = check_guard_end(g, s, n);
	struct result r;

	parse(k, cfg, flag, p, n, &r);
	t_check(r.err == expect, line, "verdict", s, n);
	invariants(line, k, cfg, flag, p, n, &r);
	if (k == K_AUTH && r.mech != NULL)
		r.mech = (const uint8_t *)s + (r.mech - p); /* back into s, for the caller */
	return r;
}

#define F(k, c, f, s, e) field_case(g, __LINE__, k, c, f, s, e)
#define FCHECK(cond, s)  t_check((cond), __LINE__, #cond, s, strlen(s))

static void test_fields(struct check_guard *g)
{
	struct result r;
	const char *s;

	s = "FROM:<>";
	r = F(K_MAIL, CALL, 0, s, OK);
	FCHECK(r.mail.path.null_path && r.mail.path.local == NULL && r.mail.path.domain == NULL &&
		   r.mail.path.local_len == 0 && r.mail.path.domain_len == 0 && !r.mail.path.utf8 &&
		   !r.mail.path.postmaster,
	       s);
	FCHECK(!r.mail.has_params && !r.mail.has_size && r.mail.size == 0 &&
		   r.mail.body == SMTP_BODY_NONE && !r.mail.smtputf8,
	       s);
	s = "FROM:<a@b>";
	r = F(K_MAIL, CALL, 0, s, OK);
	FCHECK(!r.mail.path.null_path && !r.mail.has_params && !r.mail.has_size &&
		   r.mail.body == SMTP_BODY_NONE && !r.mail.path.utf8,
	       s);
	s = "FROM:<a@b> SIZE=12345 BODY=8BITMIME SMTPUTF8";
	r = F(K_MAIL, CALL, 0, s, OK);
	FCHECK(r.mail.has_size && r.mail.size == 12345 && r.mail.body == SMTP_BODY_8BITMIME &&
		   r.mail.smtputf8 && r.mail.has_params,
	       s);
	s = "FROM:<a@b> body=7bit";
	r = F(K_MAIL, CALL, 0, s, OK);
	FCHECK(r.mail.body == SMTP_BODY_7BIT && r.mail.has_params && !r.mail.has_size, s);
	s = "FROM:<a@b> SIZE=0";
	r = F(K_MAIL, CSIZE, 0, s, OK);
	FCHECK(r.mail.has_size && r.mail.size == 0, s);
	s = "FROM:<> SIZE=18446744073709551615";
	r = F(K_MAIL, CMAX, 0, s, OK);
	FCHECK(r.mail.has_size && r.mail.size == UINT64_MAX, s);
	s = "FROM:<\xc3\xbc@b> SMTPUTF8";
	r = F(K_MAIL, CALL, 0, s, OK);
	FCHECK(r.mail.path.utf8 && r.mail.smtputf8 && r.mail.path.local_len == 2, s);
	s = "FROM:<a@b> FOO";
	r = F(K_MAIL, CALL, 0, s, PAR);
	FCHECK(r.mail.has_params, s);
	s = "TO:<Postmaster>";
	r = F(K_RCPT, C0, 0, s, OK);
	FCHECK(r.rcpt.path.postmaster && !r.rcpt.path.null_path && r.rcpt.path.domain == NULL &&
		   !r.rcpt.has_params,
	       s);
	s = "TO:<postmaster@example.com>";
	r = F(K_RCPT, C0, 0, s, OK);
	FCHECK(!r.rcpt.path.postmaster && r.rcpt.path.domain_len == 11, s);
	s = "TO:<a@b> NOTIFY=NEVER";
	r = F(K_RCPT, CALL, 1, s, PAR);
	FCHECK(r.rcpt.has_params, s);
	s = "TO:<a@b\xc3\xbc>";
	r = F(K_RCPT, CALL, 1, s, OK);
	FCHECK(r.rcpt.path.utf8 && r.rcpt.path.domain_len == 3, s);
	s = "LOGIN";
	r = F(K_AUTH, CAUTH, 0, s, OK);
	FCHECK(r.mech == (const uint8_t *)s && r.mech_len == 5, s);
	s = "cram-md5 dGVzdA==";
	r = F(K_AUTH, CAUTH, 0, s, OK);
	FCHECK(r.mech == (const uint8_t *)s && r.mech_len == 8, s);
}

int main(void)
{
	struct check_guard g;

	check_guard_init(&g, GUARD_DATA / (size_t)sysconf(_SC_PAGESIZE) + 1);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		run(&g, r->line, (enum kind)r->kind, r->cfg, r->flag, r->in, r->len, r->expect,
		    r->local, r->domain);
	}
	test_limits(&g);
	test_fields(&g);
	check_guard_free(&g);
	return check_done("smtp_args");
}
