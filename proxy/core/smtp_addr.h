/*
 * smtp_addr.h — private to the argument parsers (smtp_args.c, smtp_addr.c):
 * the address grammar of RFC 5321 §4.1.2 and the ASCII character classes
 * both files use. The public contract is smtp_args.h.
 */
#ifndef BULWARK_SMTP_ADDR_H
#define BULWARK_SMTP_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp_args.h"

/* ---- Character classes --------------------------------------------------- */

/* 1 if c is an ASCII letter. */
static inline int is_alpha(uint8_t c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* 1 if c is an ASCII digit. */
static inline int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* 1 if c is Let-dig (RFC 5321 §4.1.2). */
static inline int is_alnum(uint8_t c)
{
	return is_alpha(c) || is_digit(c);
}

/* 1 if c is HEXDIG, either case (ABNF strings are case-insensitive). */
static inline int is_hex(uint8_t c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* 1 if c is ASCII atext (RFC 5322 §3.2.3). */
static inline int is_atext(uint8_t c)
{
	static const char specials[] = "!#$%&'*+-/=?^_`{|}~";

	return is_alnum(c) || memchr(specials, c, sizeof(specials) - 1) != NULL;
}

/* 1 if p[0..n) equals the ASCII string s ignoring case (s holds n bytes). */
static inline int ieq(const uint8_t *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t a = p[i], b = (uint8_t)s[i];
		if (a != b && !(is_alpha(a) && (a | 0x20) == (b | 0x20)))
			return 0;
	}
	return 1;
}

/* ---- Address grammar (smtp_addr.c) ---------------------------------------- */

/*
 * Length of the Domain that starts at p[0..n) and ends at the first byte
 * that cannot continue it; 0 if there is none or it breaks a rule (see
 * smtp_addr.c). With u8, U-labels are allowed and *utf8 is set when seen.
 */
size_t smtp_addr_domain_len(const uint8_t *p, size_t n, int u8, uint8_t *utf8);

/* Length of the address-literal ("[" ... "]") at p[0..n), 0 if malformed. */
size_t smtp_addr_literal_len(const uint8_t *p, size_t n);

/*
 * Parses the path at the start of p[0..n) into *out ("<>" only when null_ok,
 * "<Postmaster>" only when postmaster_ok). Returns its length, 0 if
 * malformed or over a length limit.
 */
size_t smtp_addr_path(const uint8_t *p, size_t n, int null_ok, int postmaster_ok,
		      struct smtp_path *out);

#endif /* BULWARK_SMTP_ADDR_H */
