/*
 * relay_reply.c — backend reply scanning, EHLO capabilities and MAIL
 * parameter checks (see relay_reply.h). Pure functions.
 */
#include <errno.h>
#include <string.h>

#include "relay_reply.h"

/* Returns 1 when b may be digit k (0..2) of a reply code: 2..5, 0..9, 0..9
 * (RFC 5321 §4.2: the first digit 1 never occurs in SMTP replies; the
 * worker's core accepts the same set). */
static int code_digit_ok(size_t k, uint8_t b)
{
	if (k == 0)
		return b >= '2' && b <= '5';
	return b >= '0' && b <= '9';
}

/* Returns 1 when b may appear in a reply's text: HT, printable ASCII or an
 * 8-bit byte (UTF-8 text, RFC 6531 §3.7.4). */
static int text_ok(uint8_t b)
{
	return b == '\t' || (b >= 0x20 && b != 0x7f);
}

int relay_reply_scan(struct relay_rscan *s, const uint8_t *p, size_t n, size_t max, int *code)
{
	for (;;) {
		size_t i = s->off, k, e = 0;
		int c, found = 0;

		if (i >= n)
			return 0;
		for (k = 0; k < 3 && i + k < n; k++)
			if (!code_digit_ok(k, p[i + k]))
				return -EPROTO;
		for (k = i + 3; k < n; k++) {
			uint8_t b = p[k];

			if (k - i + 2 > RELAY_REPLY_LINE_MAX || k + 2 > max)
				return -EMSGSIZE;
			if (b == '\r') {
				if (k + 1 == n)
					break; /* the LF may follow */
				if (p[k + 1] != '\n')
					return -EPROTO; /* bare CR */
				e = k;
				found = 1;
				break;
			}
			if (k == i + 3) {
				if (b != '-' && b != ' ')
					return -EPROTO;
			} else if (!text_ok(b)) {
				return -EPROTO; /* bare LF, NUL, control bytes */
			}
		}
		if (!found)
			return 0;
		c = (p[i] - '0') * 100 + (p[i + 1] - '0') * 10 + (p[i + 2] - '0');
		/* RFC 5321 §4.2.1: every line of a multi-line reply carries the
		 * same code. */
		if (s->code >= 0 && c != s->code)
			return -EPROTO;
		if (e > i + 3 && p[i + 3] == '-') {
			s->off = (uint32_t)(e + 2);
			s->code = (int16_t)c;
			continue;
		}
		relay_rscan_init(s);
		if (code)
			*code = c;
		return (int)(e + 2);
	}
}

/* Returns 1 when p[0..n) starts with the keyword kw (upper case) followed by
 * n == len, SP, '=' or CR. */
static int kw_is(const uint8_t *p, size_t n, const char *kw)
{
	size_t l = strlen(kw);

	if (n < l)
		return 0;
	for (size_t i = 0; i < l; i++) {
		uint8_t b = p[i];

		if (b >= 'a' && b <= 'z')
			b = (uint8_t)(b - 32);
		if (b != (uint8_t)kw[i])
			return 0;
	}
	return n == l || p[l] == ' ' || p[l] == '=' || p[l] == '\r';
}

/* Parses decimal digits at p[0..n) into *v; returns 0, or -1 when there are
 * none or the value overflows. */
static int parse_u64(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	if (!i)
		return -1;
	*v = x;
	return 0;
}

int relay_caps_parse(const uint8_t *p, size_t n, struct relay_caps *c)
{
	size_t i = 0, e;
	int first = 1;

	memset(c, 0, sizeof(*c));
	if (n < 5 || memcmp(p, "250", 3))
		return -EPROTO;
	while (i < n) {
		for (e = i; e < n && p[e] != '\r'; e++)
			;
		if (!first && e > i + 4) {
			const uint8_t *k = p + i + 4; /* after "250-" / "250 " */
			size_t kl = e - (i + 4);

			if (kw_is(k, kl, "PIPELINING")) {
				c->pipelining = 1;
			} else if (kw_is(k, kl, "8BITMIME")) {
				c->eightbit = 1;
			} else if (kw_is(k, kl, "SMTPUTF8")) {
				c->smtputf8 = 1;
			} else if (kw_is(k, kl, "STARTTLS")) {
				c->starttls = 1;
			} else if (kw_is(k, kl, "AUTH")) {
				c->auth = 1;
			} else if (kw_is(k, kl, "SIZE")) {
				uint64_t v;

				c->size = 1;
				/* RFC 1870 §4: "SIZE 0" or no argument: no fixed limit */
				if (kl > 5 && k[4] == ' ' && !parse_u64(k + 5, kl - 5, &v))
					c->size_max = v;
			}
		}
		first = 0;
		i = e + 2;
	}
	return 0;
}

int relay_mail_check(const uint8_t *p, size_t n, const struct relay_caps *c)
{
	size_t i = 10, end = n;
	int quoted = 0;

	if (!kw_is(p, n, "MAIL") || n < 10)
		return RELAY_MAIL_OK;
	while (end > 0 && (p[end - 1] == '\r' || p[end - 1] == '\n'))
		end--;
	while (i < end && p[i] == ' ')
		i++;
	/* Skip the reverse-path; '>' and SP inside a quoted local part
	 * (RFC 5321 §4.1.2 Quoted-string) do not end it. */
	for (; i < end; i++) {
		if (quoted && p[i] == '\\') {
			i++;
			continue;
		}
		if (p[i] == '"')
			quoted = !quoted;
		else if (!quoted && (p[i] == '>' || p[i] == ' '))
			break;
	}
	if (i < end && p[i] == '>')
		i++;
	while (i < end) {
		size_t s, e, eq;

		while (i < end && p[i] == ' ')
			i++;
		for (s = i; i < end && p[i] != ' '; i++)
			;
		e = i;
		if (s == e)
			break;
		for (eq = s; eq < e && p[eq] != '='; eq++)
			;
		if (kw_is(p + s, e - s, "SMTPUTF8") && !c->smtputf8)
			return RELAY_MAIL_UTF8;
		if (kw_is(p + s, e - s, "BODY") && eq < e &&
		    kw_is(p + eq + 1, e - eq - 1, "8BITMIME") && !c->eightbit)
			return RELAY_MAIL_8BIT;
		if (kw_is(p + s, e - s, "SIZE") && eq < e) {
			uint64_t v;

			if (!c->size)
				return RELAY_MAIL_SIZEPARM;
			if (!parse_u64(p + eq + 1, e - eq - 1, &v) && c->size_max &&
			    v > c->size_max)
				return RELAY_MAIL_TOOBIG;
		}
	}
	return RELAY_MAIL_OK;
}

int relay_verb(const uint8_t *p, size_t n)
{
	if (kw_is(p, n, "MAIL"))
		return RELAY_V_MAIL;
	if (kw_is(p, n, "RCPT"))
		return RELAY_V_RCPT;
	if (kw_is(p, n, "DATA"))
		return RELAY_V_DATA;
	if (kw_is(p, n, "RSET"))
		return RELAY_V_RSET;
	if (kw_is(p, n, "AUTH"))
		return RELAY_V_AUTH;
	return RELAY_V_OTHER;
}
