/*
 * relay_proxy.c — PROXY v1/v2, XCLIENT and EHLO encoders (relay_proxy.h).
 * The PROXY protocol spec is haproxy's doc/proxy-protocol.txt.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include "relay_proxy.h"

/* Writes the dotted quad of a network-order address; returns its length. */
static int quad(char *buf, size_t cap, uint32_t a)
{
	const uint8_t *b = (const uint8_t *)&a;

	return snprintf(buf, cap, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

/* Returns n when snprintf's n fits in cap, else -ENOSPC. */
static int fit(int n, size_t cap)
{
	return n >= 0 && (size_t)n < cap ? n : -ENOSPC;
}

int relay_proxy_v1(char *buf, size_t cap, uint32_t src, uint16_t sport, uint32_t dst,
		   uint16_t dport)
{
	char s[16], d[16];

	quad(s, sizeof(s), src);
	quad(d, sizeof(d), dst);
	return fit(
	    snprintf(buf, cap, "PROXY TCP4 %s %s %u %u\r\n", s, d, ntohs(sport), ntohs(dport)),
	    cap);
}

static const uint8_t sig[RELAY_PP2_SIG_LEN] = RELAY_PP2_SIG;

int relay_proxy_v1_unknown(char *buf, size_t cap)
{
	return fit(snprintf(buf, cap, "PROXY UNKNOWN\r\n"), cap);
}

int relay_proxy_v2_local(uint8_t *buf, size_t cap)
{
	if (cap < RELAY_PROXY_V2_LOCAL_LEN)
		return -ENOSPC;
	memcpy(buf, sig, sizeof(sig));
	buf[12] = RELAY_PP2_LOCAL;
	buf[13] = RELAY_PP2_UNSPEC;
	buf[14] = 0; /* no address block */
	buf[15] = 0;
	return (int)RELAY_PROXY_V2_LOCAL_LEN;
}

int relay_proxy_v2(uint8_t *buf, size_t cap, uint32_t src, uint16_t sport, uint32_t dst,
		   uint16_t dport)
{
	if (cap < RELAY_PROXY_V2_LEN)
		return -ENOSPC;
	memcpy(buf, sig, sizeof(sig));
	buf[12] = RELAY_PP2_PROXY;
	buf[13] = RELAY_PP2_TCP4;
	buf[14] = 0; /* address block length, big-endian */
	buf[15] = RELAY_PP2_ADDR4_LEN;
	memcpy(buf + 16, &src, 4);
	memcpy(buf + 20, &dst, 4);
	memcpy(buf + 24, &sport, 2);
	memcpy(buf + 26, &dport, 2);
	return (int)RELAY_PROXY_V2_LEN;
}

/* Spec §2.2.5 */
#define PP2_TYPE_SSL            0x20
#define PP2_SUBTYPE_SSL_VERSION 0x21
#define PP2_SUBTYPE_SSL_CIPHER  0x23
#define PP2_CLIENT_SSL          0x01

/* Appends a TLV (type, 16-bit big-endian length, value) at buf + off. */
static size_t tlv(uint8_t *buf, size_t off, uint8_t type, const void *v, size_t n)
{
	buf[off] = type;
	buf[off + 1] = (uint8_t)(n >> 8);
	buf[off + 2] = (uint8_t)n;
	memcpy(buf + off + 3, v, n);
	return off + 3 + n;
}

int relay_proxy_v2_ssl(uint8_t *buf, size_t cap, uint32_t src, uint16_t sport, uint32_t dst,
		       uint16_t dport, const char *version, const char *cipher)
{
	size_t vn = version ? strlen(version) : 0, cn = cipher ? strlen(cipher) : 0;
	size_t ssl_len = 5 + (vn ? 3 + vn : 0) + (cn ? 3 + cn : 0);
	size_t total = RELAY_PROXY_V2_LEN + 3 + ssl_len, off;
	static const uint8_t verify[4] = { 0, 0, 0, 1 };

	if (vn > RELAY_PROXY_TLS_STR_MAX || cn > RELAY_PROXY_TLS_STR_MAX)
		return -EINVAL;
	if (cap < total)
		return -ENOSPC;
	relay_proxy_v2(buf, cap, src, sport, dst, dport);
	buf[14] = (uint8_t)((total - 16) >> 8);
	buf[15] = (uint8_t)(total - 16);
	off = RELAY_PROXY_V2_LEN;
	buf[off] = PP2_TYPE_SSL;
	buf[off + 1] = (uint8_t)(ssl_len >> 8);
	buf[off + 2] = (uint8_t)ssl_len;
	buf[off + 3] = PP2_CLIENT_SSL;
	memcpy(buf + off + 4, verify, 4);
	off += 8;
	if (vn)
		off = tlv(buf, off, PP2_SUBTYPE_SSL_VERSION, version, vn);
	if (cn)
		off = tlv(buf, off, PP2_SUBTYPE_SSL_CIPHER, cipher, cn);
	return (int)off;
}

int relay_xclient(char *buf, size_t cap, uint32_t addr, uint16_t port)
{
	char a[16];

	quad(a, sizeof(a), addr);
	return fit(snprintf(buf, cap, "XCLIENT ADDR=%s PORT=%u\r\n", a, ntohs(port)), cap);
}

int relay_helo(char *buf, size_t cap, int ehlo, const uint8_t *arg, size_t len)
{
	if (memchr(arg, '\r', len) || memchr(arg, '\n', len) || memchr(arg, 0, len))
		return -EINVAL;
	if (len + 7 > cap)
		return -ENOSPC;
	memcpy(buf, ehlo ? "EHLO " : "HELO ", 5);
	memcpy(buf + 5, arg, len);
	memcpy(buf + 5 + len, "\r\n", 2);
	return (int)(len + 7);
}
