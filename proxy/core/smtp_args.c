/*
 * smtp_args.c — argument syntax of SMTP commands; the contract is in
 * smtp_args.h. ESMTP parameters, MAIL/RCPT/EHLO/HELO/AUTH and SASL lines
 * here; the address grammar (paths, domains, literals, UTF-8) is in
 * smtp_addr.c. Every walk is left to right with an explicit bound: nothing
 * is read at or past p + n, so the parsers are safe on bytes that end at an
 * unmapped page.
 */
#include <string.h>

#include "smtp_addr.h"

#define MECH_MAX    20u /* RFC 4422 §3.1: sasl-mech = 1*20 chars */
#define SIZE_DIGITS 20u

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
	k = smtp_addr_path(p + 5, n - 5, 1, 0, &out->path);
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
	k = smtp_addr_path(p + 3, n - 3, 0, 1, &out->path);
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
		return ehlo && smtp_addr_literal_len(p, n) == n ? SMTP_ARG_OK : SMTP_ARG_BAD_DOMAIN;
	return smtp_addr_domain_len(p, n, 0, &utf8) == n ? SMTP_ARG_OK : SMTP_ARG_BAD_DOMAIN;
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
