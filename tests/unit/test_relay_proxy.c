/*
 * test_relay_proxy.c — proxy/relay/relay_proxy.c: the exact PROXY v1 and v2
 * bytes, XCLIENT and the replayed EHLO/HELO line, each written to the very
 * end of a guarded buffer so a byte past the capacity crashes.
 */
#include <errno.h>

#include <arpa/inet.h>

#include "relay_proxy.h"

#include "check.h"

static uint32_t ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a.s_addr;
}

/* A buffer of exactly cap bytes that ends at a PROT_NONE page. */
static uint8_t *at_end(struct check_guard *g, size_t cap)
{
	return g->lo + g->size - cap;
}

static void test_v2(struct check_guard *g)
{
	static const uint8_t want[RELAY_PROXY_V2_LEN] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, /* signature */
		0x54, 0x0a, 0x21,                                           /* v2, PROXY */
		0x11,                                                       /* TCP over IPv4 */
		0x00, 0x0c,                                                 /* 12 bytes follow */
		192,  0,    2,    1,                                        /* src */
		198,  18,   0,    1,                                        /* dst */
		0x30, 0x39,                                                 /* 12345 */
		0x00, 0x19,                                                 /* 25 */
	};
	uint8_t *b = at_end(g, RELAY_PROXY_V2_LEN);

	CHECK_EQ(relay_proxy_v2(b, RELAY_PROXY_V2_LEN, ip("192.0.2.1"), htons(12345),
				ip("198.18.0.1"), htons(25)),
		 RELAY_PROXY_V2_LEN);
	CHECK_MEM(b, RELAY_PROXY_V2_LEN, want, sizeof(want));
	b = at_end(g, RELAY_PROXY_V2_LEN - 1);
	CHECK_EQ(relay_proxy_v2(b, RELAY_PROXY_V2_LEN - 1, 0, 0, 0, 0), -ENOSPC);
}

/* Spec §2.2.5: the v2 header with PP2_TYPE_SSL, its version and cipher
 * sub-TLVs, and the address block length covering them. */
static void test_v2_ssl(struct check_guard *g)
{
	static const uint8_t want[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, /* sig */
		0x21, 0x11, /* PROXY, TCP4 */
		0x00, 0x37, /* 12 + 43 bytes follow */
		192,  0,    2,    1,    198,  18,   0,    1,    0x30, 0x39, 0x00, 0x19, /* addresses */
		0x20, 0x00, 0x28,       /* PP2_TYPE_SSL, 40 bytes */
		0x01,                   /* PP2_CLIENT_SSL */
		0x00, 0x00, 0x00, 0x01, /* verify: no client certificate */
		0x21, 0x00, 0x07, 'T',  'L',  'S',  'v',  '1',  '.',  '3', /* SSL_VERSION */
		0x23, 0x00, 0x16, 'T',  'L',  'S',  '_',  'A',  'E',  'S',  '_',  '2',  '5',
		'6',  '_',  'G',  'C',  'M',  '_',  'S',  'H',  'A',  '3',  '8',  '4', /* SSL_CIPHER */
	};
	char lng[RELAY_PROXY_TLS_STR_MAX + 2];
	size_t n = sizeof(want);
	uint8_t *b = at_end(g, n);

	CHECK_EQ(relay_proxy_v2_ssl(b, n, ip("192.0.2.1"), htons(12345), ip("198.18.0.1"),
				    htons(25), "TLSv1.3", "TLS_AES_256_GCM_SHA384"),
		 n);
	CHECK_MEM(b, n, want, n);
	b = at_end(g, n - 1);
	CHECK_EQ(relay_proxy_v2_ssl(b, n - 1, ip("192.0.2.1"), htons(12345), ip("198.18.0.1"),
				    htons(25), "TLSv1.3", "TLS_AES_256_GCM_SHA384"),
		 -ENOSPC);
	/* the longest names fill RELAY_PROXY_V2_SSL_MAX exactly; longer: refused */
	memset(lng, 'c', sizeof(lng));
	lng[RELAY_PROXY_TLS_STR_MAX] = '\0';
	b = at_end(g, RELAY_PROXY_V2_SSL_MAX);
	CHECK_EQ(relay_proxy_v2_ssl(b, RELAY_PROXY_V2_SSL_MAX, 0, 0, 0, 0, lng, lng),
		 RELAY_PROXY_V2_SSL_MAX);
	CHECK_EQ(b[14] << 8 | b[15], RELAY_PROXY_V2_SSL_MAX - 16);
	lng[RELAY_PROXY_TLS_STR_MAX] = 'c';
	lng[RELAY_PROXY_TLS_STR_MAX + 1] = '\0';
	CHECK_EQ(relay_proxy_v2_ssl(b, RELAY_PROXY_V2_SSL_MAX, 0, 0, 0, 0, "TLSv1.2", lng),
		 -EINVAL);
	/* no cipher name: the version sub-TLV only */
	b = at_end(g, RELAY_PROXY_V2_LEN + 3 + 5 + 10);
	CHECK_EQ(relay_proxy_v2_ssl(b, RELAY_PROXY_V2_LEN + 18, 0, 0, 0, 0, "TLSv1.2", NULL),
		 RELAY_PROXY_V2_LEN + 18);
	CHECK_EQ(b[RELAY_PROXY_V2_LEN + 2], 15);
}

static void test_v1(struct check_guard *g)
{
	const char *want = "PROXY TCP4 192.0.2.1 198.18.0.1 12345 25\r\n";
	const char *lng = "PROXY TCP4 255.255.255.255 255.255.255.254 65535 65534\r\n";
	size_t n = strlen(want), ln = strlen(lng);
	char *b = (char *)at_end(g, n + 1);

	CHECK_EQ(
	    relay_proxy_v1(b, n + 1, ip("192.0.2.1"), htons(12345), ip("198.18.0.1"), htons(25)),
	    n);
	CHECK_MEM(b, n, want, n);
	/* the terminating NUL of snprintf needs one more byte than the line */
	b = (char *)at_end(g, n);
	CHECK_EQ(relay_proxy_v1(b, n, ip("192.0.2.1"), htons(12345), ip("198.18.0.1"), htons(25)),
		 -ENOSPC);
	/* the longest TCP4 line fits the spec's bound */
	b = (char *)at_end(g, RELAY_PROXY_V1_MAX);
	CHECK_EQ(relay_proxy_v1(b, RELAY_PROXY_V1_MAX, ip("255.255.255.255"), htons(65535),
				ip("255.255.255.254"), htons(65534)),
		 ln);
	CHECK_MEM(b, ln, lng, ln);
}

static void test_local(struct check_guard *g)
{
	static const uint8_t want[RELAY_PROXY_V2_LOCAL_LEN] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
		0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00, /* LOCAL, UNSPEC, 0 */
	};
	uint8_t *b = at_end(g, RELAY_PROXY_V2_LOCAL_LEN);
	char *c = (char *)at_end(g, 16);

	CHECK_EQ(relay_proxy_v2_local(b, RELAY_PROXY_V2_LOCAL_LEN), RELAY_PROXY_V2_LOCAL_LEN);
	CHECK_MEM(b, RELAY_PROXY_V2_LOCAL_LEN, want, sizeof(want));
	b = at_end(g, RELAY_PROXY_V2_LOCAL_LEN - 1);
	CHECK_EQ(relay_proxy_v2_local(b, RELAY_PROXY_V2_LOCAL_LEN - 1), -ENOSPC);
	CHECK_EQ(relay_proxy_v1_unknown(c, 16), 15);
	CHECK_MEM(c, 15, "PROXY UNKNOWN\r\n", 15);
	c = (char *)at_end(g, 15);
	CHECK_EQ(relay_proxy_v1_unknown(c, 15), -ENOSPC);
}

static void test_xclient(struct check_guard *g)
{
	const char *want = "XCLIENT ADDR=192.0.2.7 PORT=40000\r\n";
	size_t n = strlen(want);
	char *b = (char *)at_end(g, RELAY_XCLIENT_MAX);

	CHECK_EQ(relay_xclient(b, RELAY_XCLIENT_MAX, ip("192.0.2.7"), htons(40000)), n);
	CHECK_MEM(b, n, want, n);
	CHECK(relay_xclient(b, RELAY_XCLIENT_MAX, ip("255.255.255.255"), htons(65535)) > 0);
	b = (char *)at_end(g, 10);
	CHECK_EQ(relay_xclient(b, 10, ip("192.0.2.7"), htons(40000)), -ENOSPC);
}

static void test_helo(struct check_guard *g)
{
	uint8_t arg[255];
	char *b = (char *)at_end(g, RELAY_HELO_MAX);

	CHECK_EQ(relay_helo(b, RELAY_HELO_MAX, 1, (const uint8_t *)"client.example", 14), 21);
	CHECK_MEM(b, 21, "EHLO client.example\r\n", 21);
	CHECK_EQ(relay_helo(b, RELAY_HELO_MAX, 0, (const uint8_t *)"[192.0.2.1]", 11), 18);
	CHECK_MEM(b, 18, "HELO [192.0.2.1]\r\n", 18);
	/* an argument that would smuggle a second command is never written */
	CHECK_EQ(relay_helo(b, RELAY_HELO_MAX, 1, (const uint8_t *)"a\r\nRSET", 7), -EINVAL);
	CHECK_EQ(relay_helo(b, RELAY_HELO_MAX, 1, (const uint8_t *)"a\nb", 3), -EINVAL);
	CHECK_EQ(relay_helo(b, RELAY_HELO_MAX, 1, (const uint8_t *)"a\0b", 3), -EINVAL);
	/* the longest argument fills the buffer exactly */
	memset(arg, 'x', sizeof(arg));
	CHECK_EQ(relay_helo(b, RELAY_HELO_MAX, 1, arg, sizeof(arg)), RELAY_HELO_MAX);
	CHECK_MEM(b + RELAY_HELO_MAX - 2, 2, "\r\n", 2);
	b = (char *)at_end(g, RELAY_HELO_MAX - 1);
	CHECK_EQ(relay_helo(b, RELAY_HELO_MAX - 1, 1, arg, sizeof(arg)), -ENOSPC);
}

int main(void)
{
	struct check_guard g;

	check_guard_init(&g, 1);
	test_v2(&g);
	test_v2_ssl(&g);
	test_v1(&g);
	test_local(&g);
	test_xclient(&g);
	test_helo(&g);
	check_guard_free(&g);
	return check_done("relay_proxy");
}
