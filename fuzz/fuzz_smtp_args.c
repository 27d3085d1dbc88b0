/*
 * fuzz_smtp_args.c — libFuzzer target for proxy/core/smtp_args.c.
 *
 * Input: one selector byte, then the argument bytes. The selector picks
 * which extensions are advertised, the SIZE limit, the AUTH mechanisms and
 * utf8_ok. The bytes go to every parser as they are, and to MAIL/RCPT once
 * more behind "FROM:" / "TO:" so that paths are reached quickly. Each call
 * gets an exactly-sized heap copy, so ASan sees any over-read.
 *
 * Checked besides crashes: the invariants of every successful parse, the
 * UTF-8 validator against an independent decoder, and relations between
 * parsers (a mailbox's domain is a valid EHLO argument, a MAIL path is a
 * valid RCPT path, HELO implies EHLO, an AUTH initial response is a valid
 * SASL line).
 */
#include "smtp_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INV(c)                                                                                     \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__);         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A heap copy of pre + p[0..n), exactly sized; the caller frees it. */
static uint8_t *dup_with(const char *pre, const uint8_t *p, size_t n, size_t *len)
{
	size_t k = strlen(pre);
	uint8_t *b = malloc(k + n + 1); /* +1: malloc(0) may return NULL */

	if (b == NULL)
		abort();
	memcpy(b, pre, k);
	if (n > 0)
		memcpy(b + k, p, n);
	*len = k + n;
	return b;
}

/* Reference decoder, written differently from the library's: decode the
 * code point, then reject overlongs, surrogates and values past U+10FFFF. */
static int utf8_ref(const uint8_t *p, size_t n)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];
		size_t len = c < 0x80   ? 1
			     : c < 0xc0 ? 0
			     : c < 0xe0 ? 2
			     : c < 0xf0 ? 3
			     : c < 0xf8 ? 4
					: 0;
		uint32_t cp;

		if (len == 0 || n - i < len)
			return 0;
		cp = len == 1 ? c : (uint32_t)(c & (0x7f >> len));
		for (size_t j = 1; j < len; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* 1 if q[0..len) lies inside p[0..n). */
static int inside(const uint8_t *p, size_t n, const uint8_t *q, size_t len)
{
	return q != NULL && q >= p && len <= n && (size_t)(q - p) <= n - len;
}

/* Invariants of a path that p[0..n) (starting "FROM:"/"TO:", pre bytes)
 * was accepted with; cross-checks it against RCPT and EHLO. */
static void check_path(const uint8_t *p, size_t n, size_t pre, const struct smtp_path *pa,
		       int utf8_allowed)
{
	const uint8_t *end;
	int hi = 0, dom_hi = 0;
	size_t len;
	uint8_t *b;
	struct smtp_rcpt_args r;
	const struct smtp_args_cfg none = { 0 };

	INV(n >= pre + 2 && p[pre] == '<');
	if (pa->null_path) {
		INV(pa->local == NULL && pa->domain == NULL && !pa->utf8 && !pa->postmaster);
		INV(p[pre + 1] == '>');
		return;
	}
	if (pa->postmaster) {
		INV(pa->local == p + pre + 1 && pa->local_len == 10 && pa->domain == NULL);
		return;
	}
	INV(inside(p, n, pa->local, pa->local_len));
	INV(pa->local_len >= 1 && pa->local_len <= SMTP_LOCAL_MAX);
	INV(inside(p, n, pa->domain, pa->domain_len));
	INV(pa->domain_len >= 1 && pa->domain_len <= SMTP_DOMAIN_MAX);
	INV(pa->domain == pa->local + pa->local_len + 1 && pa->domain[-1] == '@');
	end = pa->domain + pa->domain_len + 1;
	INV((size_t)(end - p) <= n && end[-1] == '>');
	INV((size_t)(end - (p + pre)) <= SMTP_PATH_MAX);
	for (const uint8_t *q = p + pre; q < end; q++)
		hi |= *q >= 0x80;
	for (size_t i = 0; i < pa->domain_len; i++)
		dom_hi |= pa->domain[i] >= 0x80;
	INV(pa->utf8 == hi);
	INV(!hi || utf8_allowed);
	INV(smtp_args_utf8_valid(p + pre, (size_t)(end - (p + pre))));

	/* The same path, alone, is a valid RCPT path. */
	b = dup_with("TO:", p + pre, (size_t)(end - (p + pre)), &len);
	INV(smtp_args_rcpt(b, len, &none, 1, &r) == SMTP_ARG_OK);
	INV(r.path.local_len == pa->local_len && r.path.domain_len == pa->domain_len);
	free(b);
	/* An ASCII mailbox domain is a valid EHLO argument. */
	if (!dom_hi) {
		b = dup_with("", pa->domain, pa->domain_len, &len);
		INV(smtp_args_helo(b, len, 1) == SMTP_ARG_OK);
		free(b);
	}
}

static void fuzz_mail(const uint8_t *p, size_t n, const struct smtp_args_cfg *cfg)
{
	struct smtp_mail_args m;
	enum smtp_arg_err e = smtp_args_mail(p, n, cfg, &m);

	INV((unsigned)e < SMTP_ARG_COUNT);
	INV(e != SMTP_ARG_BAD_RCPT && e != SMTP_ARG_BAD_DOMAIN && e != SMTP_ARG_AUTH_MECH);
	if (e != SMTP_ARG_OK)
		return;
	INV(!m.path.postmaster);
	check_path(p, n, 5, &m.path, m.smtputf8 && cfg->smtputf8);
	INV(!m.has_size || (cfg->size_max != 0 && m.size <= cfg->size_max));
	INV(m.body == SMTP_BODY_NONE || (cfg->eightbit && m.body <= SMTP_BODY_8BITMIME));
	INV(!m.smtputf8 || cfg->smtputf8);
	INV(!(m.has_size || m.body || m.smtputf8) || m.has_params);
}

static void fuzz_rcpt(const uint8_t *p, size_t n, const struct smtp_args_cfg *cfg, int utf8_ok)
{
	struct smtp_rcpt_args r;
	enum smtp_arg_err e = smtp_args_rcpt(p, n, cfg, utf8_ok, &r);

	INV((unsigned)e < SMTP_ARG_COUNT);
	INV(e != SMTP_ARG_BAD_SENDER && e != SMTP_ARG_SIZE && e != SMTP_ARG_BAD_DOMAIN &&
	    e != SMTP_ARG_AUTH_MECH);
	if (e != SMTP_ARG_OK)
		return;
	INV(!r.path.null_path && !r.has_params);
	check_path(p, n, 3, &r.path, utf8_ok);
}

static void fuzz_auth(const uint8_t *p, size_t n, const struct smtp_args_cfg *cfg)
{
	const uint8_t *mech;
	size_t mech_len;
	enum smtp_arg_err e = smtp_args_auth(p, n, cfg, &mech, &mech_len);

	INV(e == SMTP_ARG_OK || e == SMTP_ARG_SYNTAX || e == SMTP_ARG_AUTH_MECH);
	if (e != SMTP_ARG_OK)
		return;
	INV(cfg->auth && cfg->auth_mechs != NULL);
	INV(mech == p && mech_len >= 1 && mech_len <= 20 && mech_len <= n);
	if (mech_len < n) {
		const uint8_t *ir = p + mech_len + 1;
		size_t ir_len = n - mech_len - 1;

		INV(p[mech_len] == ' ');
		INV((ir_len == 1 && ir[0] == '=') ||
		    (ir_len > 0 && ir[0] != '*' && smtp_args_sasl_line(ir, ir_len)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[4] = { 0, 1000, 10485760, UINT64_MAX };
	static const char *const mechs[4] = { NULL, "PLAIN", "PLAIN LOGIN",
					      "CRAM-MD5  PLAIN XOAUTH2" };
	struct smtp_args_cfg cfg;
	uint8_t sel;
	uint8_t *b;
	size_t n;
	int utf8_ok, helo, ehlo, sasl;

	if (size == 0)
		return 0;
	sel = data[0];
	memset(&cfg, 0, sizeof(cfg));
	cfg.size_max = sizes[sel & 3];
	cfg.eightbit = (sel >> 2) & 1;
	cfg.smtputf8 = (sel >> 3) & 1;
	cfg.auth = (sel >> 4) & 1;
	cfg.auth_mechs = mechs[(sel >> 5) & 3];
	utf8_ok = (sel >> 7) & 1;

	b = dup_with("", data + 1, size - 1, &n);
	fuzz_mail(b, n, &cfg);
	fuzz_rcpt(b, n, &cfg, utf8_ok);
	fuzz_auth(b, n, &cfg);
	helo = smtp_args_helo(b, n, 0);
	ehlo = smtp_args_helo(b, n, 1);
	INV(helo == SMTP_ARG_OK || helo == SMTP_ARG_BAD_DOMAIN);
	INV(ehlo == SMTP_ARG_OK || ehlo == SMTP_ARG_BAD_DOMAIN);
	INV(helo != SMTP_ARG_OK || ehlo == SMTP_ARG_OK);
	INV(ehlo != SMTP_ARG_OK || (n >= 1 && n <= SMTP_DOMAIN_MAX));
	sasl = smtp_args_sasl_line(b, n);
	INV(sasl == 0 || sasl == 1);
	INV(!sasl || n == 0 || (n == 1 && b[0] == '*') || n % 4 == 0);
	INV(smtp_args_utf8_valid(b, n) == utf8_ref(b, n));
	free(b);

	b = dup_with("FROM:", data + 1, size - 1, &n);
	fuzz_mail(b, n, &cfg);
	free(b);
	b = dup_with("TO:", data + 1, size - 1, &n);
	fuzz_rcpt(b, n, &cfg, utf8_ok);
	free(b);
	return 0;
}
