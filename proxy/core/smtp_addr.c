/*
 * smtp_addr.c — the address grammar of the argument parsers: UTF-8
 * (RFC 3629), domains, address literals (IPv4, IPv6, general), local parts
 * and paths (RFC 5321 §4.1.2, widened by RFC 6531 §3.3 when UTF-8 may be
 * allowed). Every walk is left to right with an explicit bound: nothing is
 * read at or past p + n.
 */
#include "smtp_addr.h"

#define LABEL_MAX 63u

/*
 * Length of the well-formed UTF-8 sequence at p[0..n) whose lead byte is
 * >= 0x80, 0 if malformed. RFC 3629 §4: the second byte's range excludes
 * overlongs (E0, F0), surrogates (ED) and code points past U+10FFFF (F4).
 */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

int smtp_args_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = utf8_seq(p + i, n - i);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* ---- Domains and address literals ---------------------------------------- */

/*
 * Length of the Domain that starts at p[0..n) and ends at the first byte
 * that cannot continue it; 0 if there is none or it breaks a rule: labels
 * Let-dig [Ldh-str] of at most 63 octets, no empty label (so no trailing
 * dot), at most 255 octets in all. With u8, a label may also hold UTF-8
 * characters (a U-label, RFC 6531 §3.3; its A-label length is not checked)
 * and *utf8 is set when one is seen.
 */
size_t smtp_addr_domain_len(const uint8_t *p, size_t n, int u8, uint8_t *utf8)
{
	size_t i = 0;

	for (;;) {
		size_t start = i, k;

		while (i < n) {
			if (is_alnum(p[i]) || p[i] == '-') {
				i++;
			} else if (u8 && p[i] >= 0x80 && (k = utf8_seq(p + i, n - i)) != 0) {
				i += k;
				*utf8 = 1;
			} else {
				break;
			}
		}
		if (i == start || i - start > LABEL_MAX || p[start] == '-' || p[i - 1] == '-')
			return 0;
		if (i < n && p[i] == '.') {
			i++;
			continue;
		}
		return i <= SMTP_DOMAIN_MAX ? i : 0;
	}
}

/* 1 if s[0..n) is exactly an IPv4-address-literal: Snum 3("." Snum). */
static int ipv4_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
		while (i < n && is_digit(s[i]) && digits < 3) {
			v = v * 10 + (unsigned)(s[i] - '0');
			digits++;
			i++;
		}
		if (digits == 0 || v > 255)
			return 0;
	}
	return i == n;
}

/*
 * 1 if s[0..n) is an IPv6-addr of RFC 5321 §4.1.3: eight groups; or "::"
 * with at most six groups beside it; or six groups then an IPv4 address; or
 * "::" with at most four groups beside it, then an IPv4 address. Groups are
 * 1-4 hex digits; "::" appears at most once.
 */
static int ipv6_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;
	unsigned groups = 0;
	int comp = 0, v4 = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		comp = 1;
		i = 2;
	} else if (n >= 1 && s[0] == ':') {
		return 0;
	}
	while (i < n) {
		size_t j = i;

		while (j < n && is_hex(s[j]) && j - i < 4)
			j++;
		if (j < n && s[j] == '.') {
			if (!ipv4_ok(s + i, n - i))
				return 0;
			v4 = 1;
			break;
		}
		if (j == i)
			return 0;
		groups++;
		i = j;
		if (i == n)
			break;
		if (s[i] != ':' || i + 1 == n)
			return 0; /* a fifth hex digit, a stray byte, or a trailing single ':' */
		i++;
		if (s[i] == ':') {
			if (comp)
				return 0;
			comp = 1;
			i++;
		}
	}
	if (v4)
		return comp ? groups <= 4 : groups == 6;
	return comp ? groups <= 6 : groups == 8;
}

/*
 * 1 if s[0..n) is what an address-literal holds between its brackets:
 * IPv4, "IPv6:" IPv6-addr, or General-address-literal (Standardized-tag ":"
 * 1*dcontent). A tag spelled "IPv6" must hold a valid IPv6 address.
 */
static int literal_body_ok(const uint8_t *s, size_t n)
{
	size_t c = 0;

	if (ipv4_ok(s, n))
		return 1;
	while (c < n && s[c] != ':')
		c++;
	if (c == 0 || c == n)
		return 0;
	if (c == 4 && ieq(s, "IPv6", 4))
		return ipv6_ok(s + 5, n - 5);
	for (size_t i = 0; i < c; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return 0;
	if (s[c - 1] == '-') /* Ldh-str ends with Let-dig */
		return 0;
	for (size_t i = c + 1; i < n; i++)
		if (s[i] < 33 || s[i] > 126 || (s[i] >= 91 && s[i] <= 93))
			return 0; /* dcontent = %d33-90 / %d94-126 */
	return c + 1 < n;
}

/*
 * Length of the address-literal ("[" ... "]") at p[0..n), 0 if malformed
 * or longer than a domain may be (RFC 5321 §4.5.3.1.2 counts it as one).
 */
size_t smtp_addr_literal_len(const uint8_t *p, size_t n)
{
	size_t j = 1;

	if (n < 2 || p[0] != '[')
		return 0;
	while (j < n && p[j] != ']')
		j++;
	if (j == n || j + 1 > SMTP_DOMAIN_MAX)
		return 0;
	return literal_body_ok(p + 1, j - 1) ? j + 1 : 0;
}

/* ---- Local parts and paths ----------------------------------------------- */

/*
 * Length of the Local-part at p[0..n) (Dot-string or Quoted-string, as
 * written), 0 if malformed. UTF-8 characters are allowed in atext and
 * qtextSMTP (RFC 6531 §3.3) and set *utf8; quoted-pairSMTP stays ASCII.
 */
static size_t local_len(const uint8_t *p, size_t n, uint8_t *utf8)
{
	size_t i = 1, k;

	if (n > 0 && p[0] == '"') {
		while (i < n) {
			uint8_t c = p[i];

			if (c == '"')
				return i + 1;
			if (c == '\\') {
				if (i + 1 >= n || p[i + 1] < 32 || p[i + 1] > 126)
					return 0;
				i += 2;
			} else if (c >= 32 && c <= 126) {
				i++;
			} else if (c >= 0x80 && (k = utf8_seq(p + i, n - i)) != 0) {
				i += k;
				*utf8 = 1;
			} else {
				return 0;
			}
		}
		return 0;
	}
	i = 0;
	for (;;) {
		size_t start = i;

		while (i < n) {
			if (is_atext(p[i])) {
				i++;
			} else if (p[i] >= 0x80 && (k = utf8_seq(p + i, n - i)) != 0) {
				i += k;
				*utf8 = 1;
			} else {
				break;
			}
		}
		if (i == start)
			return 0;
		if (i < n && p[i] == '.') {
			i++;
			continue;
		}
		return i;
	}
}

/*
 * Parses the path at the start of p[0..n) into *out: "<" [A-d-l ":"]
 * Mailbox ">", "<>" when null_ok, "<Postmaster>" when postmaster_ok.
 * Returns its length, 0 if malformed or over a length limit. The source
 * route is checked and then ignored (RFC 5321 §4.1.1.3, appendix C).
 */
size_t smtp_addr_path(const uint8_t *p, size_t n, int null_ok, int postmaster_ok,
		      struct smtp_path *out)
{
	size_t i = 1, k;
	uint8_t utf8 = 0;

	/* Nothing past SMTP_PATH_MAX can belong to a valid path. */
	if (n > SMTP_PATH_MAX)
		n = SMTP_PATH_MAX;
	if (n < 2 || p[0] != '<')
		return 0;
	if (p[1] == '>') {
		if (!null_ok)
			return 0;
		out->null_path = 1;
		return 2;
	}
	if (postmaster_ok && n >= 12 && ieq(p + 1, "Postmaster", 10) && p[11] == '>') {
		out->local = p + 1;
		out->local_len = 10;
		out->postmaster = 1;
		return 12;
	}
	if (p[1] == '@') {
		for (;;) {
			if (i >= n || p[i] != '@')
				return 0;
			i++;
			k = smtp_addr_domain_len(p + i, n - i, 1, &utf8);
			if (k == 0)
				return 0;
			i += k;
			if (i < n && p[i] == ',') {
				i++;
				continue;
			}
			if (i < n && p[i] == ':') {
				i++;
				break;
			}
			return 0;
		}
	}
	k = local_len(p + i, n - i, &utf8);
	if (k == 0 || k > SMTP_LOCAL_MAX)
		return 0;
	out->local = p + i;
	out->local_len = (uint16_t)k;
	i += k;
	if (i >= n || p[i] != '@')
		return 0;
	i++;
	if (i < n && p[i] == '[')
		k = smtp_addr_literal_len(p + i, n - i);
	else
		k = smtp_addr_domain_len(p + i, n - i, 1, &utf8);
	if (k == 0)
		return 0;
	out->domain = p + i;
	out->domain_len = (uint16_t)k;
	i += k;
	if (i >= n || p[i] != '>')
		return 0;
	out->utf8 = utf8;
	return i + 1;
}
