/*
 * smtp_args.c — argument syntax of SMTP commands; the contract is in
 * smtp_args.h.
 *
 * Grammar: RFC 5321 §4.1.2 (paths, mailboxes, domains, address literals),
 * widened by RFC 6531 §3.3 (UTF8-non-ascii in atext, qtextSMTP and
 * sub-domain) when the caller may allow UTF-8. Every walk is left to right
 * with an explicit bound: nothing is read at or past p + n, so the parsers
 * are safe on bytes that end at an unmapped page.
 */
#include "smtp_args.h"

#include <string.h>

#define LABEL_MAX   63u
#define MECH_MAX    20u /* RFC 4422 §3.1: sasl-mech = 1*20 chars */
#define SIZE_DIGITS 20u

/* ---- Character classes --------------------------------------------------- */

/* 1 if c is an ASCII letter. */
static int is_alpha(uint8_t c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* 1 if c is an ASCII digit. */
static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* 1 if c is Let-dig (RFC 5321 §4.1.2). */
static int is_alnum(uint8_t c)
{
	return is_alpha(c) || is_digit(c);
}

/* 1 if c is HEXDIG, either case (ABNF strings are case-insensitive). */
static int is_hex(uint8_t c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* 1 if c is ASCII atext (RFC 5322 §3.2.3). */
static int is_atext(uint8_t c)
{
	static const char specials[] = "!#$%&'*+-/=?^_`{|}~";

	return is_alnum(c) || memchr(specials, c, sizeof(specials) - 1) != NULL;
}

/* 1 if p[0..n) equals the ASCII string s ignoring case (s holds n bytes). */
static int ieq(const uint8_t *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t a = p[i], b = (uint8_t)s[i];
		if (a != b && !(is_alpha(a) && (a | 0x20) == (b | 0x20)))
			return 0;
	}
	return 1;
}

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
static size_t domain_len(const uint8_t *p, size_t n, int u8, uint8_t *utf8)
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
static size_t literal_len(const uint8_t *p, size_t n)
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
static size_t path_parse(const uint8_t *p, size_t n, int null_ok, int postmaster_ok,
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
			k = domain_len(p + i, n - i, 1, &utf8);
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
		k = literal_len(p + i, n - i);
	else
		k = domain_len(p + i, n - i, 1, &utf8);
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

/* ---- ESMTP parameters ------------------------------------------------------ */

struct param {
	const uint8_t *key;
	const uint8_t *val; /* NULL when the parameter has no "=value" */
	size_t key_len;
	size_t val_len;
};

enum { KW_OTHER, KW_SIZE, KW_BODY, KW_SMTPUTF8, KW_AUTH };

/*
 * Reads the next " esmtp-keyword [= esmtp-value]" at p[*i..n). Returns 1
 * and advances *i, 0 at the end of the bytes, -1 on bad syntax (a missing
 * or doubled SP, an empty keyword or value, a byte outside the grammar).
 */
static int param_next(const uint8_t *p, size_t n, size_t *i, struct param *pr)
{
	size_t j = *i;

	if (j == n)
		return 0;
	if (p[j] != ' ')
		return -1;
	j++;
	pr->key = p + j;
	if (j == n || !is_alnum(p[j]))
		return -1;
	while (j < n && (is_alnum(p[j]) || p[j] == '-'))
		j++;
	pr->key_len = (size_t)(p + j - pr->key);
	pr->val = NULL;
	pr->val_len = 0;
	if (j < n && p[j] == '=') {
		j++;
		pr->val = p + j;
		while (j < n && p[j] >= 33 && p[j] <= 126 && p[j] != '=')
			j++;
		pr->val_len = (size_t)(p + j - pr->val);
		if (pr->val_len == 0)
			return -1;
	}
	if (j < n && p[j] != ' ')
		return -1;
	*i = j;
	return 1;
}

/* Which parameter of ours pr is (keywords are case-insensitive). */
static int param_kw(const struct param *pr)
{
	if (pr->key_len == 4 && ieq(pr->key, "SIZE", 4))
		return KW_SIZE;
	if (pr->key_len == 4 && ieq(pr->key, "BODY", 4))
		return KW_BODY;
	if (pr->key_len == 8 && ieq(pr->key, "SMTPUTF8", 8))
		return KW_SMTPUTF8;
	if (pr->key_len == 4 && ieq(pr->key, "AUTH", 4))
		return KW_AUTH;
	return KW_OTHER;
}

/*
 * First pass over the parameters at p[0..n) (what follows the path):
 * syntax only. Counts them into *count. A keyword of ours given twice is a
 * syntax error; an unknown keyword, even repeated, is left for the second
 * pass to refuse as a parameter we do not support.
 */
static enum smtp_arg_err params_syntax(const uint8_t *p, size_t n, unsigned *count)
{
	struct param pr;
	size_t i = 0;
	unsigned seen = 0;
	int r;

	*count = 0;
	while ((r = param_next(p, n, &i, &pr)) > 0) {
		unsigned bit = 1u << param_kw(&pr);

		(*count)++;
		if (bit != 1u << KW_OTHER && (seen & bit))
			return SMTP_ARG_SYNTAX;
		seen |= bit;
	}
	return r < 0 ? SMTP_ARG_SYNTAX : SMTP_ARG_OK;
}

/* SIZE=1*20DIGIT (RFC 1870), compared with the limit without overflowing. */
static enum smtp_arg_err param_size(const struct param *pr, uint64_t max, uint64_t *size)
{
	uint64_t v = 0;
	int over = 0;

	if (pr->val == NULL || pr->val_len > SIZE_DIGITS)
		return SMTP_ARG_SYNTAX;
	for (size_t i = 0; i < pr->val_len; i++) {
		unsigned d;

		if (!is_digit(pr->val[i]))
			return SMTP_ARG_SYNTAX;
		d = (unsigned)(pr->val[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	*size = over ? UINT64_MAX : v;
	return over || v > max ? SMTP_ARG_SIZE : SMTP_ARG_OK;
}

/* AUTH=<> or AUTH=xtext (RFC 4954 §5, RFC 3461 §4): '+' only as "+HH". */
static int xtext_ok(const uint8_t *v, size_t n)
{
	if (n == 2 && v[0] == '<' && v[1] == '>')
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] != '+')
			continue; /* '=' and bytes outside 33-126 never reach here */
		if (i + 2 >= n)
			return 0;
		for (size_t j = i + 1; j <= i + 2; j++)
			if (!is_digit(v[j]) && !(v[j] >= 'A' && v[j] <= 'F'))
				return 0;
		i += 2;
	}
	return 1;
}

/* Second pass for MAIL: what each parameter means under cfg. */
static enum smtp_arg_err mail_params(const uint8_t *p, size_t n, const struct smtp_args_cfg *cfg,
				     struct smtp_mail_args *out)
{
	struct param pr;
	size_t i = 0;
	enum smtp_arg_err e;

	while (param_next(p, n, &i, &pr) > 0) {
		switch (param_kw(&pr)) {
		case KW_SIZE:
			if (cfg->size_max == 0)
				return SMTP_ARG_PARAM;
			e = param_size(&pr, cfg->size_max, &out->size);
			if (e != SMTP_ARG_OK)
				return e;
			out->has_size = 1;
			break;
		case KW_BODY:
			if (!cfg->eightbit)
				return SMTP_ARG_PARAM;
			if (pr.val == NULL)
				return SMTP_ARG_SYNTAX;
			if (pr.val_len == 4 && ieq(pr.val, "7BIT", 4))
				out->body = SMTP_BODY_7BIT;
			else if (pr.val_len == 8 && ieq(pr.val, "8BITMIME", 8))
				out->body = SMTP_BODY_8BITMIME;
			else
				return SMTP_ARG_PARAM; /* BINARYMIME & co: not offered */
			break;
		case KW_SMTPUTF8:
			if (!cfg->smtputf8)
				return SMTP_ARG_PARAM;
			if (pr.val != NULL)
				return SMTP_ARG_SYNTAX;
			out->smtputf8 = 1;
			break;
		case KW_AUTH:
			if (!cfg->auth)
				return SMTP_ARG_PARAM;
			if (pr.val == NULL || !xtext_ok(pr.val, pr.val_len))
				return SMTP_ARG_SYNTAX;
			break;
		default:
			return SMTP_ARG_PARAM;
		}
	}
	return SMTP_ARG_OK;
}

/* ---- Commands ---------------------------------------------------------------- */

/*
 * Error precedence, for both MAIL and RCPT: missing "FROM:"/"TO:" (SYNTAX),
 * then the path (BAD_SENDER/BAD_RCPT, which covers a SP before the path and
 * malformed UTF-8), then parameter syntax, then parameter meaning (first
 * failing parameter wins), and last whether UTF-8 is allowed — which for
 * MAIL depends on a parameter that follows the path.
 */
enum smtp_arg_err smtp_args_mail(const uint8_t *p, size_t n, const struct smtp_args_cfg *cfg,
				 struct smtp_mail_args *out)
{
	static const struct smtp_args_cfg none;
	unsigned count;
	size_t k;
	enum smtp_arg_err e;

	memset(out, 0, sizeof(*out));
	if (cfg == NULL)
		cfg = &none;
	if (n < 5 || !ieq(p, "FROM:", 5))
		return SMTP_ARG_SYNTAX;
	k = path_parse(p + 5, n - 5, 1, 0, &out->path);
	if (k == 0)
		return SMTP_ARG_BAD_SENDER;
	p += 5 + k;
	n -= 5 + k;
	out->has_params = n > 0; /* even when they turn out malformed */
	e = params_syntax(p, n, &count);
	if (e != SMTP_ARG_OK)
		return e;
	e = mail_params(p, n, cfg, out);
	if (e != SMTP_ARG_OK)
		return e;
	if (out->path.utf8 && !out->smtputf8)
		return SMTP_ARG_UTF8;
	return SMTP_ARG_OK;
}

enum smtp_arg_err smtp_args_rcpt(const uint8_t *p, size_t n, const struct smtp_args_cfg *cfg,
				 int utf8_ok, struct smtp_rcpt_args *out)
{
	unsigned count;
	size_t k;
	enum smtp_arg_err e;

	(void)cfg; /* no RCPT parameter is offered, whatever is advertised */
	memset(out, 0, sizeof(*out));
	if (n < 3 || !ieq(p, "TO:", 3))
		return SMTP_ARG_SYNTAX;
	k = path_parse(p + 3, n - 3, 0, 1, &out->path);
	if (k == 0)
		return SMTP_ARG_BAD_RCPT;
	p += 3 + k;
	n -= 3 + k;
	out->has_params = n > 0;
	e = params_syntax(p, n, &count);
	if (e != SMTP_ARG_OK)
		return e;
	if (count > 0)
		return SMTP_ARG_PARAM;
	if (out->path.utf8 && !utf8_ok)
		return SMTP_ARG_UTF8;
	return SMTP_ARG_OK;
}

/*
 * The EHLO/HELO domain is ASCII: SMTPUTF8 has not been negotiated yet when
 * it is sent (RFC 6531 §3.7.1 asks for A-labels there).
 */
enum smtp_arg_err smtp_args_helo(const uint8_t *p, size_t n, int ehlo)
{
	uint8_t utf8 = 0;

	if (n == 0 || n > SMTP_DOMAIN_MAX)
		return SMTP_ARG_BAD_DOMAIN;
	if (p[0] == '[')
		return ehlo && literal_len(p, n) == n ? SMTP_ARG_OK : SMTP_ARG_BAD_DOMAIN;
	return domain_len(p, n, 0, &utf8) == n ? SMTP_ARG_OK : SMTP_ARG_BAD_DOMAIN;
}

/* 1 if p[0..n) is non-empty, padded base64 (RFC 4648 §4). */
static int b64_ok(const uint8_t *p, size_t n)
{
	size_t pad = 0;

	if (n == 0 || n % 4 != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (is_alnum(p[i]) || p[i] == '+' || p[i] == '/') {
			if (pad)
				return 0;
		} else if (p[i] == '=' && i >= n - 2) {
			pad++;
		} else {
			return 0;
		}
	}
	return 1;
}

/* 1 if the mechanism p[0..n) is a word of the space-separated list. */
static int mech_offered(const char *list, const uint8_t *p, size_t n)
{
	if (list == NULL)
		return 0;
	while (*list != '\0') {
		size_t w = 0;

		while (*list == ' ')
			list++;
		while (list[w] != '\0' && list[w] != ' ')
			w++;
		if (w == n && ieq(p, list, n))
			return 1;
		list += w;
	}
	return 0;
}

enum smtp_arg_err smtp_args_auth(const uint8_t *p, size_t n, const struct smtp_args_cfg *cfg,
				 const uint8_t **mech, size_t *mech_len)
{
	size_t m = 0;

	if (mech != NULL)
		*mech = NULL;
	if (mech_len != NULL)
		*mech_len = 0;
	if (cfg == NULL || !cfg->auth)
		return SMTP_ARG_AUTH_MECH;
	while (m < n && p[m] != ' ')
		m++;
	if (m == 0 || m > MECH_MAX)
		return SMTP_ARG_SYNTAX;
	for (size_t i = 0; i < m; i++)
		if (!is_alnum(p[i]) && p[i] != '-' && p[i] != '_')
			return SMTP_ARG_SYNTAX;
	if (mech != NULL)
		*mech = p;
	if (mech_len != NULL)
		*mech_len = m;
	if (!mech_offered(cfg->auth_mechs, p, m))
		return SMTP_ARG_AUTH_MECH;
	if (m == n)
		return SMTP_ARG_OK;
	p += m + 1;
	n -= m + 1;
	if (n == 1 && p[0] == '=') /* RFC 4954 §4: an empty initial response */
		return SMTP_ARG_OK;
	return b64_ok(p, n) ? SMTP_ARG_OK : SMTP_ARG_SYNTAX;
}

int smtp_args_sasl_line(const uint8_t *p, size_t n)
{
	if (n == 0) /* an empty response, for mechanisms that allow one */
		return 1;
	if (n == 1 && p[0] == '*')
		return 1;
	return b64_ok(p, n);
}
