/*
 * pxhdr.c — the PROXY protocol header parser (see pxhdr.h).
 */
#include <string.h>

#include "cidr.h"
#include "pxhdr.h"

static const uint8_t v2_sig[RELAY_PP2_SIG_LEN] = RELAY_PP2_SIG;

/* Decimal 0..max without leading zeros at p[*i..end); advances *i. */
static int num(const uint8_t *p, size_t end, size_t *i, uint32_t max, uint32_t *out)
{
	size_t b = *i;
	uint32_t v = 0;

	while (*i < end && p[*i] >= '0' && p[*i] <= '9' && *i - b < 5) {
		v = v * 10 + (uint32_t)(p[*i] - '0');
		(*i)++;
	}
	if (*i == b || v > max || (p[b] == '0' && *i - b > 1))
		return -1;
	*out = v;
	return 0;
}

/* a.b.c.d at p[*i..end) into network order (cidr_quad's syntax). */
static int quad(const uint8_t *p, size_t end, size_t *i, uint32_t *out)
{
	const char *why;
	uint32_t a;
	uint8_t o[4];

	if (cidr_quad((const char *)p, end, i, &a, &why) != 0)
		return -1;
	o[0] = (uint8_t)(a >> 24), o[1] = (uint8_t)(a >> 16), o[2] = (uint8_t)(a >> 8);
	o[3] = (uint8_t)a;
	memcpy(out, o, 4);
	return 0;
}

static int sp(const uint8_t *p, size_t end, size_t *i)
{
	return *i < end && p[(*i)++] == ' ' ? 0 : -1;
}

static long v1(const uint8_t *p, size_t n, struct pxhdr *h)
{
	static const char tcp4[] = "PROXY TCP4 ", unknown[] = "PROXY UNKNOWN";
	size_t end, i, k = n < PXHDR_V1_MAX ? n : PXHDR_V1_MAX;
	uint32_t sport, dport;

	/* the CRLF, within the first 107 bytes */
	for (end = 0; end < k && p[end] != '\n'; end++)
		;
	if (end == k) {
		/* incomplete: every byte so far must fit a header */
		size_t m = k < sizeof(tcp4) - 1 ? k : sizeof(tcp4) - 1;

		if (n >= PXHDR_V1_MAX)
			return -1;
		if (memcmp(p, tcp4, m) != 0 &&
		    memcmp(p, unknown, k < sizeof(unknown) - 1 ? k : sizeof(unknown) - 1) != 0)
			return -1;
		for (i = 0; i < k; i++)
			if (p[i] < 0x20 && !(p[i] == '\r' && i + 1 == k))
				return -1;
		return 0;
	}
	if (end == 0 || p[end - 1] != '\r')
		return -1; /* a bare LF */
	end--;             /* at the CR */
	h->version = 1;
	if (end >= sizeof(unknown) - 1 && memcmp(p, unknown, sizeof(unknown) - 1) == 0 &&
	    (end == sizeof(unknown) - 1 || p[sizeof(unknown) - 1] == ' ')) {
		for (i = sizeof(unknown) - 1; i < end; i++)
			if (p[i] < 0x20 || p[i] > 0x7e)
				return -1;
		h->local = 1;
		return (long)end + 2;
	}
	if (end < sizeof(tcp4) - 1 || memcmp(p, tcp4, sizeof(tcp4) - 1) != 0)
		return -1;
	i = sizeof(tcp4) - 1;
	if (quad(p, end, &i, &h->src) || sp(p, end, &i) || quad(p, end, &i, &h->dst) ||
	    sp(p, end, &i) || num(p, end, &i, 65535, &sport) || sp(p, end, &i) ||
	    num(p, end, &i, 65535, &dport) || i != end)
		return -1;
	h->local = 0;
	h->sport = (uint16_t)((sport & 0xff) << 8 | sport >> 8);
	h->dport = (uint16_t)((dport & 0xff) << 8 | dport >> 8);
	return (long)end + 2;
}

static long v2(const uint8_t *p, size_t n, struct pxhdr *h)
{
	const size_t H = RELAY_PP2_HDR_LEN;
	size_t len;

	if (memcmp(p, v2_sig, n < RELAY_PP2_SIG_LEN ? n : RELAY_PP2_SIG_LEN) != 0)
		return -1;
	if (n >= 13 && p[12] != RELAY_PP2_LOCAL && p[12] != RELAY_PP2_PROXY)
		return -1; /* version 2, LOCAL or PROXY */
	if (n >= 14 && p[12] == RELAY_PP2_PROXY && p[13] != RELAY_PP2_TCP4 &&
	    p[13] != RELAY_PP2_UNSPEC)
		return -1; /* TCP over IPv4, or AF_UNSPEC */
	if (n < H)
		return 0;
	len = (size_t)p[14] << 8 | p[15];
	if (len > PXHDR_V2_LEN_MAX)
		return -1;
	if (p[12] == RELAY_PP2_PROXY && p[13] == RELAY_PP2_TCP4 && len < RELAY_PP2_ADDR4_LEN)
		return -1;
	if (n < H + len)
		return 0;
	h->version = 2;
	if (p[12] == RELAY_PP2_LOCAL || p[13] == RELAY_PP2_UNSPEC) {
		h->local = 1; /* the addresses, if any, are ignored */
		return (long)(H + len);
	}
	h->local = 0;
	memcpy(&h->src, p + H, 4);
	memcpy(&h->dst, p + H + 4, 4);
	memcpy(&h->sport, p + H + 8, 2);
	memcpy(&h->dport, p + H + 10, 2);
	return (long)(H + len);
}

long pxhdr_parse(const uint8_t *p, size_t n, struct pxhdr *h)
{
	memset(h, 0, sizeof(*h));
	if (n == 0)
		return 0;
	if (p[0] == 'P')
		return v1(p, n, h);
	if (p[0] == 0x0d)
		return v2(p, n, h);
	return -1;
}
