/*
 * test_pxhdr.c — the PROXY header parser (proxy/pxhdr.c): v1 TCP4 and
 * UNKNOWN, v2 PROXY/LOCAL with and without TLVs, every strictness rule,
 * every incomplete prefix ("need more", never a verdict that changes), and
 * every input against a no-access page (check.h guards).
 */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "pxhdr.h"

static struct check_guard g;

/* Parses t[0..n) placed right before a no-access page. */
static long parse(const void *t, size_t n, struct pxhdr *h)
{
	return pxhdr_parse(check_guard_end(&g, t, n), n, h);
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* Every strict prefix of a complete header needs more. */
static void prefixes(const void *t, size_t n)
{
	struct pxhdr h;

	for (size_t k = 0; k < n; k++)
		if (!CHECK_EQ(parse(t, k, &h), 0))
			fprintf(stderr, "  prefix %zu of %zu\n", k, n);
}

static void test_v1(void)
{
	static const char ok[] = "PROXY TCP4 198.18.1.9 198.18.0.2 40000 25\r\nEHLO x\r\n";
	size_t hl = strlen("PROXY TCP4 198.18.1.9 198.18.0.2 40000 25\r\n");
	struct pxhdr h;

	CHECK_EQ(parse(ok, sizeof(ok) - 1, &h), (long)hl);
	CHECK_EQ(h.version, 1);
	CHECK_EQ(h.local, 0);
	CHECK_EQ(h.src, ip("198.18.1.9"));
	CHECK_EQ(h.dst, ip("198.18.0.2"));
	CHECK_EQ(h.sport, htons(40000));
	CHECK_EQ(h.dport, htons(25));
	prefixes(ok, hl);
	CHECK_EQ(parse("PROXY UNKNOWN\r\n", 15, &h), 15);
	CHECK_EQ(h.local, 1);
	CHECK_EQ(parse("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", 35, &h), 35);
	CHECK_EQ(h.local, 1);
	/* the longest: 107 bytes with UNKNOWN */
	{
		char b[PXHDR_V1_MAX + 1];

		memset(b, 'x', sizeof(b));
		memcpy(b, "PROXY UNKNOWN ", 14);
		memcpy(b + PXHDR_V1_MAX - 2, "\r\n", 2);
		CHECK_EQ(parse(b, PXHDR_V1_MAX, &h), (long)PXHDR_V1_MAX);
		memcpy(b + PXHDR_V1_MAX - 2, "xx\r", 3); /* 108: too long */
		CHECK_EQ(parse(b, PXHDR_V1_MAX, &h), -1);
		CHECK_EQ(parse(b, PXHDR_V1_MAX + 1, &h), -1);
	}
	static const char *const bad[] = {
		"PROXY TCP6 ::1 ::2 1 2\r\n",
		"PROXY TCP4 198.18.1.9 198.18.0.2 40000 25\n", /* bare LF */
		"PROXY TCP4 198.18.1.9 198.18.0.2 40000 025\r\n",
		"PROXY TCP4 198.18.1.9 198.18.0.2 65536 25\r\n",
		"PROXY TCP4 198.18.1.9  198.18.0.2 40000 25\r\n",
		"PROXY TCP4 198.18.1.09 198.18.0.2 40000 25\r\n",
		"PROXY TCP4 198.18.1.9 198.18.0.2 40000 25 \r\n",
		"PROXY TCP4 198.18.1.9 198.18.0.2 40000\r\n",
		"PROXY TCP4 198.18.1.256 198.18.0.2 40000 25\r\n",
		"proxy TCP4 198.18.1.9 198.18.0.2 40000 25\r\n",
		"PROXY UNKNOWNX\r\n",
		"PROXY\r\n",
		"EHLO x\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_EQ(parse(bad[i], strlen(bad[i]), &h), -1))
			fprintf(stderr, "  case %s\n", bad[i]);
	/* a wrong start is refused at once, without waiting for a line end */
	CHECK_EQ(parse("PRX", 3, &h), -1);
	CHECK_EQ(parse("GET / HTTP/1.1", 14, &h), -1);
	CHECK_EQ(parse("PROXY TCP5", 10, &h), -1);
	CHECK_EQ(parse("PROXY TCP4 1.2.3.4\x00", 19, &h), -1);
}

static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* A v2 header: ver_cmd, family, payload len, then body (n bytes). */
static size_t v2(uint8_t *b, uint8_t vc, uint8_t fam, uint16_t len, const uint8_t *body, size_t n)
{
	memcpy(b, sig, 12);
	b[12] = vc;
	b[13] = fam;
	b[14] = (uint8_t)(len >> 8);
	b[15] = (uint8_t)len;
	if (n != 0) /* body may be NULL (memcpy wants a pointer even for 0 bytes) */
		memcpy(b + 16, body, n);
	return 16 + n;
}

static void test_v2(void)
{
	static const uint8_t addrs[12] = { 198, 18, 1, 9, 198, 18, 0, 2, 0x9c, 0x40, 0, 25 };
	uint8_t b[512], body[300];
	struct pxhdr h;
	size_t n;

	n = v2(b, 0x21, 0x11, 12, addrs, 12);
	memcpy(b + n, "EHLO", 4);
	CHECK_EQ(parse(b, n + 4, &h), 28);
	CHECK_EQ(h.version, 2);
	CHECK_EQ(h.local, 0);
	CHECK_EQ(h.src, ip("198.18.1.9"));
	CHECK_EQ(h.dst, ip("198.18.0.2"));
	CHECK_EQ(h.sport, htons(40000));
	CHECK_EQ(h.dport, htons(25));
	prefixes(b, n);
	/* TLVs after the addresses are skipped */
	memcpy(body, addrs, 12);
	memcpy(body + 12,
	       "\x04\x00\x04"
	       "abcd",
	       7);
	n = v2(b, 0x21, 0x11, 19, body, 19);
	CHECK_EQ(parse(b, n, &h), 35);
	CHECK_EQ(h.src, ip("198.18.1.9"));
	prefixes(b, n);
	/* the largest payload accepted, and one more */
	memset(body, 0, sizeof(body));
	memcpy(body, addrs, 12);
	n = v2(b, 0x21, 0x11, PXHDR_V2_LEN_MAX, body, PXHDR_V2_LEN_MAX);
	CHECK_EQ(parse(b, n, &h), (long)PXHDR_MAX);
	n = v2(b, 0x21, 0x11, PXHDR_V2_LEN_MAX + 1, body, PXHDR_V2_LEN_MAX + 1);
	CHECK_EQ(parse(b, 16, &h), -1);
	/* LOCAL (health checks), and PROXY with AF_UNSPEC: the TCP peer */
	n = v2(b, 0x20, 0x00, 0, NULL, 0);
	CHECK_EQ(parse(b, n, &h), 16);
	CHECK_EQ(h.local, 1);
	n = v2(b, 0x20, 0x11, 12, addrs, 12);
	CHECK_EQ(parse(b, n, &h), 28);
	CHECK_EQ(h.local, 1);
	n = v2(b, 0x21, 0x00, 0, NULL, 0);
	CHECK_EQ(parse(b, n, &h), 16);
	CHECK_EQ(h.local, 1);
	/* refused: IPv6, UDP, unix, other versions and commands, short */
	n = v2(b, 0x21, 0x21, 36, body, 36);
	CHECK_EQ(parse(b, n, &h), -1);
	CHECK_EQ(parse(b, 14, &h), -1); /* known bad at the family byte */
	n = v2(b, 0x21, 0x12, 12, addrs, 12);
	CHECK_EQ(parse(b, n, &h), -1);
	n = v2(b, 0x21, 0x31, 216, body, 216);
	CHECK_EQ(parse(b, n, &h), -1);
	n = v2(b, 0x11, 0x11, 12, addrs, 12);
	CHECK_EQ(parse(b, n, &h), -1);
	n = v2(b, 0x22, 0x11, 12, addrs, 12);
	CHECK_EQ(parse(b, n, &h), -1);
	n = v2(b, 0x21, 0x11, 8, addrs, 8);
	CHECK_EQ(parse(b, n, &h), -1);
	memcpy(b, sig, 12);
	b[6] = 0x0b; /* a signature byte wrong */
	CHECK_EQ(parse(b, 7, &h), -1);
	CHECK_EQ(parse("\r\n\r\n\x00\r\nQUIX", 11, &h), -1);
	CHECK_EQ(parse("\x16\x03\x01", 3, &h), -1); /* TLS */
}

int main(void)
{
	check_guard_init(&g, 2);
	test_v1();
	test_v2();
	check_guard_free(&g);
	return check_done("pxhdr");
}
