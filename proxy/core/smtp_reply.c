/*
 * smtp_reply.c — renders the fixed reply table (see smtp_reply.h).
 *
 * Texts are short and say what went wrong; the enhanced codes follow
 * RFC 3463 and DESIGN §3. Replies that close the session (421) name the host
 * as RFC 5321 §4.2 asks ("421 <domain> ...").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "smtp.h"
#include "smtp_reply.h"

struct fixed_reply {
	enum smtp_reply_id id;
	uint16_t code;
	const char *text; /* one line without CRLF; "%s" = host (once at most) */
};

static const struct fixed_reply fixed[] = {
	{ SMTP_R_GREETING, 220, "220 %s ESMTP" },
	{ SMTP_R_TEASER, 220, "220-%s ESMTP" },
	{ SMTP_R_HELO, 250, "250 %s" },
	{ SMTP_R_OK, 250, "250 2.0.0 OK" },
	{ SMTP_R_HELP, 214, "214 2.0.0 See RFC 5321" },
	{ SMTP_R_BYE, 221, "221 2.0.0 %s closing" },
	{ SMTP_R_STARTTLS, 220, "220 2.0.0 Ready to start TLS" },
	{ SMTP_R_UNKNOWN, 500, "500 5.5.2 Error: command not recognized" },
	{ SMTP_R_LONG, 500, "500 5.5.2 Error: line too long" },
	{ SMTP_R_BADCHARS, 500, "500 5.5.2 Error: invalid characters in command" },
	{ SMTP_R_NONSMTP, 500, "500 5.5.2 Error: not an SMTP client" },
	{ SMTP_R_SYNTAX, 501, "501 5.5.4 Syntax error in parameters or arguments" },
	{ SMTP_R_BAD_SENDER, 501, "501 5.1.7 Bad sender address syntax" },
	{ SMTP_R_BAD_RCPT, 501, "501 5.1.3 Bad recipient address syntax" },
	{ SMTP_R_BAD_DOMAIN, 501, "501 5.5.4 Invalid domain name" },
	{ SMTP_R_NO_DOMAIN, 501, "501 5.5.4 Syntax: EHLO hostname" },
	{ SMTP_R_SASL, 501, "501 5.5.2 Cannot decode SASL response" },
	{ SMTP_R_DISABLED, 502, "502 5.5.1 Command not implemented" },
	{ SMTP_R_NOT_OFFERED, 502, "502 5.5.1 Command not offered" },
	{ SMTP_R_NEED_HELO, 503, "503 5.5.1 Error: send EHLO or HELO first" },
	{ SMTP_R_NEED_MAIL, 503, "503 5.5.1 Error: need MAIL command" },
	{ SMTP_R_NEED_RCPT, 503, "503 5.5.1 Error: need RCPT command" },
	{ SMTP_R_NESTED, 503, "503 5.5.1 Error: nested MAIL command" },
	{ SMTP_R_TLS_ACTIVE, 503, "503 5.5.1 Error: TLS already active" },
	{ SMTP_R_BAD_SEQ, 503, "503 5.5.1 Error: bad sequence of commands" },
	{ SMTP_R_AUTH_MECH, 504, "504 5.5.4 Unrecognized authentication type" },
	{ SMTP_R_PREGREET, 554, "554 5.5.1 Error: talked before the greeting" },
	{ SMTP_R_FORBIDDEN, 550, "550 5.7.0 Command not permitted" },
	{ SMTP_R_NEED_TLS, 530, "530 5.7.0 Must issue a STARTTLS command first" },
	{ SMTP_R_PARAM, 555, "555 5.5.4 Unsupported parameter" },
	{ SMTP_R_SIZE_DECL, 552, "552 5.3.4 Message size exceeds fixed limit" },
	{ SMTP_R_UTF8, 553, "553 5.6.7 UTF-8 address needs SMTPUTF8" },
	{ SMTP_R_RCPTS, 452, "452 4.5.3 Too many recipients" },
	{ SMTP_R_TLS_BUSY, 454, "454 4.7.0 TLS not available now" },
	{ SMTP_R_DATA_BARE, 550, "550 5.5.2 message has bare CR, LF or NUL" },
	{ SMTP_R_DATA_LINE, 550, "550 5.5.2 message has a line too long" },
	{ SMTP_R_DATA_SIZE, 552, "552 5.3.4 message too big" },
	{ SMTP_R_DATA_GONE, 451, "451 4.4.2 Backend lost, try again later" },
	{ SMTP_R_ERRORS, 421, "421 4.7.0 %s Error: too many errors" },
	{ SMTP_R_TIMEOUT, 421, "421 4.4.2 %s Error: timeout exceeded" },
	{ SMTP_R_NO_BACKEND, 421, "421 4.3.0 %s Service not available" },
	{ SMTP_R_BUSY, 421, "421 4.3.2 %s All servers busy, try again later" },
	{ SMTP_R_SHUTDOWN, 421, "421 4.3.2 %s Service shutting down" },
	{ SMTP_R_MSGS, 421, "421 4.7.0 %s Error: too many messages" },
	{ SMTP_R_GONE, 421, "421 4.4.2 %s Backend connection lost" },
	{ SMTP_R_CLIENT_LIMIT, 421, "421 4.7.0 %s Error: too many connections from your address" },
	{ SMTP_R_DENIED, 554, "554 5.7.1 %s Error: access denied" },
};

/* Appends fmt (where "%s" stands for host) and CRLF at *at; 0 or -1. */
static int put_line(struct smtp_reply_table *t, size_t *at, const char *fmt, const char *host)
{
	size_t room = sizeof(t->buf) - *at, n = 0, hl;
	char *d = t->buf + *at;

	for (; *fmt; fmt++) {
		if (fmt[0] == '%' && fmt[1] == 's' && host) {
			hl = strlen(host);
			if (n + hl >= room)
				return -1;
			memcpy(d + n, host, hl);
			n += hl;
			fmt++;
			continue;
		}
		if (n + 1 >= room)
			return -1;
		d[n++] = *fmt;
	}
	if (n + 2 > room)
		return -1;
	d[n++] = '\r';
	d[n++] = '\n';
	*at += n;
	return 0;
}

/* Renders one EHLO capability list; tls: the list shown after STARTTLS. */
static int put_ehlo(struct smtp_reply_table *t, size_t *at, const char *host,
		    const struct smtp_reply_caps *c, int tls)
{
	const char *kw[8];
	char size[40], auth[140];
	size_t k = 0, i;

	if (c->caps & SMTP_CAP_PIPELINING)
		kw[k++] = "PIPELINING";
	if (c->caps & SMTP_CAP_SIZE) {
		snprintf(size, sizeof(size), "SIZE %llu", (unsigned long long)c->size_max);
		kw[k++] = size;
	}
	if (c->caps & SMTP_CAP_8BITMIME)
		kw[k++] = "8BITMIME";
	if (c->caps & SMTP_CAP_SMTPUTF8)
		kw[k++] = "SMTPUTF8";
	if (c->caps & SMTP_CAP_ENHANCEDSTATUSCODES)
		kw[k++] = "ENHANCEDSTATUSCODES";
	if ((c->caps & SMTP_CAP_STARTTLS) && !tls)
		kw[k++] = "STARTTLS";
	if ((c->caps & SMTP_CAP_AUTH) && (tls || !c->require_tls)) {
		snprintf(auth, sizeof(auth), "AUTH %s", c->auth_mechs ? c->auth_mechs : "");
		kw[k++] = auth;
	}
	if (put_line(t, at, k ? "250-%s" : "250 %s", host) < 0)
		return -1;
	for (i = 0; i < k; i++) {
		char line[160];

		snprintf(line, sizeof(line), "250%c%s", i + 1 < k ? '-' : ' ', kw[i]);
		if (put_line(t, at, line, NULL) < 0)
			return -1;
	}
	return 0;
}

int smtp_reply_render(struct smtp_reply_table *t, const char *host,
		      const struct smtp_reply_caps *caps)
{
	size_t at = 0, i, hl, start;

	if (!host || !caps)
		return -EINVAL;
	hl = strlen(host);
	if (hl == 0 || hl > 255)
		return -EINVAL;
	for (i = 0; i < hl; i++)
		if ((unsigned char)host[i] <= 0x20 || (unsigned char)host[i] >= 0x7f ||
		    host[i] == '%')
			return -EINVAL;
	memset(t, 0, sizeof(*t));
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		start = at;
		if (put_line(t, &at, fixed[i].text, host) < 0)
			return -EINVAL;
		t->off[fixed[i].id] = (uint16_t)start;
		t->len[fixed[i].id] = (uint16_t)(at - start);
		t->code[fixed[i].id] = fixed[i].code;
	}
	start = at;
	if (put_ehlo(t, &at, host, caps, 0) < 0)
		return -EINVAL;
	t->off[SMTP_R_EHLO] = (uint16_t)start;
	t->len[SMTP_R_EHLO] = (uint16_t)(at - start);
	t->code[SMTP_R_EHLO] = 250;
	start = at;
	if (put_ehlo(t, &at, host, caps, 1) < 0)
		return -EINVAL;
	t->off[SMTP_R_EHLO_TLS] = (uint16_t)start;
	t->len[SMTP_R_EHLO_TLS] = (uint16_t)(at - start);
	t->code[SMTP_R_EHLO_TLS] = 250;
	for (i = 1; i < SMTP_R_COUNT; i++)
		if (t->len[i] == 0 || t->len[i] > SMTP_REPLY_MAX)
			return -EINVAL;
	return 0;
}
