/*
 * smtp_cmd.c — command lines: assembly with per-verb limits, non-SMTP
 * detection on the first bytes, and the command table {verb, check,
 * proceed}. Policy: the comment block at the top of smtp.c.
 */
#include <string.h>

#include "smtp_int.h"

/* What a check or proceed step sees of the current line. */
struct cmd_ctx {
	struct smtp_sess *s;
	struct smtp_out *out;
	const uint8_t *line; /* content without terminator */
	size_t len;
	const uint8_t *arg; /* after "VERB SP" */
	size_t alen;
	enum scan_verb verb;
	union {
		struct smtp_mail_args mail;
		struct smtp_rcpt_args rcpt;
	} a;
};

struct smtp_cmd {
	enum scan_verb verb;
	/* Returns SMTP_R_NONE when the command may proceed, else the reply. */
	enum smtp_reply_id (*check)(struct cmd_ctx *c);
	void (*proceed)(struct cmd_ctx *c);
};

static enum smtp_reply_id arg_reply(enum smtp_arg_err e)
{
	switch (e) {
	case SMTP_ARG_OK:
		return SMTP_R_NONE;
	case SMTP_ARG_BAD_SENDER:
		return SMTP_R_BAD_SENDER;
	case SMTP_ARG_BAD_RCPT:
		return SMTP_R_BAD_RCPT;
	case SMTP_ARG_BAD_DOMAIN:
		return SMTP_R_BAD_DOMAIN;
	case SMTP_ARG_PARAM:
		return SMTP_R_PARAM;
	case SMTP_ARG_SIZE:
		return SMTP_R_SIZE_DECL;
	case SMTP_ARG_UTF8:
		return SMTP_R_UTF8;
	case SMTP_ARG_AUTH_MECH:
		return SMTP_R_AUTH_MECH;
	case SMTP_ARG_SYNTAX:
	default:
		return SMTP_R_SYNTAX;
	}
}

static void relay(struct cmd_ctx *c)
{
	struct smtp_sess *s = c->s;

	if (s->relayed)
		return;
	s->relayed = 1;
	c->out->actions |= SMTP_ACT_RELAY;
	c->out->relay_ehlo = s->helo_kind == 2; /* the caller replays its copy */
}

static void forward(struct cmd_ctx *c, enum smtp_fwd_verb v)
{
	smtp_fwd_line(c->out, c->line, c->len);
	smtp_q_backend(c->s, SMTP_SLOT_BACKEND, v);
}

/* ---- checks ------------------------------------------------------------- */

static enum smtp_reply_id ck_none(struct cmd_ctx *c)
{
	(void)c;
	return SMTP_R_NONE;
}

static enum smtp_reply_id ck_noarg(struct cmd_ctx *c)
{
	return c->alen ? SMTP_R_SYNTAX : SMTP_R_NONE;
}

static enum smtp_reply_id ck_disabled(struct cmd_ctx *c)
{
	(void)c;
	return SMTP_R_DISABLED;
}

static enum smtp_reply_id ck_not_offered(struct cmd_ctx *c)
{
	(void)c;
	return SMTP_R_NOT_OFFERED;
}

static enum smtp_reply_id ck_forbidden(struct cmd_ctx *c)
{
	(void)c;
	return SMTP_R_FORBIDDEN;
}

static enum smtp_reply_id ck_helo(struct cmd_ctx *c)
{
	if (c->alen == 0)
		return SMTP_R_NO_DOMAIN;
	if (c->alen > SMTP_HELO_MAX)
		return SMTP_R_BAD_DOMAIN;
	return arg_reply(smtp_args_helo(c->arg, c->alen, c->verb == SCAN_V_EHLO));
}

static enum smtp_reply_id ck_mail(struct cmd_ctx *c)
{
	struct smtp_sess *s = c->s;
	struct smtp_args_cfg ac;
	enum smtp_reply_id r;

	if (!s->helo_kind)
		return SMTP_R_NEED_HELO;
	if (s->cfg->require_tls && !s->tls)
		return SMTP_R_NEED_TLS;
	if (s->mail_fwd)
		return SMTP_R_NESTED;
	if (s->cfg->max_msgs && s->msgs >= s->cfg->max_msgs)
		return SMTP_R_MSGS;
	smtp_args_cfg_of(s, &ac);
	memset(&c->a.mail, 0, sizeof(c->a.mail));
	r = arg_reply(smtp_args_mail(c->arg, c->alen, &ac, &c->a.mail));
	if (r == SMTP_R_NONE && c->len + 2 > SCAN_LINE_MAX && !c->a.mail.has_params)
		r = SMTP_R_LONG;
	return r;
}

static enum smtp_reply_id ck_rcpt(struct cmd_ctx *c)
{
	struct smtp_sess *s = c->s;
	struct smtp_args_cfg ac;
	enum smtp_reply_id r;

	if (!s->mail_fwd)
		return SMTP_R_NEED_MAIL;
	smtp_args_cfg_of(s, &ac);
	memset(&c->a.rcpt, 0, sizeof(c->a.rcpt));
	r = arg_reply(smtp_args_rcpt(c->arg, c->alen, &ac, s->wa->mail_utf8, &c->a.rcpt));
	if (r == SMTP_R_NONE && c->len + 2 > SCAN_LINE_MAX && !c->a.rcpt.has_params)
		r = SMTP_R_LONG;
	if (r == SMTP_R_NONE && s->cfg->max_rcpts && s->wa->rcpt_fwd >= s->cfg->max_rcpts)
		r = SMTP_R_RCPTS;
	return r;
}

static enum smtp_reply_id ck_data(struct cmd_ctx *c)
{
	if (c->alen)
		return SMTP_R_SYNTAX;
	if (!c->s->mail_fwd)
		return SMTP_R_NEED_MAIL;
	if (!c->s->wa->rcpt_fwd)
		return SMTP_R_NEED_RCPT;
	return SMTP_R_NONE;
}

static enum smtp_reply_id ck_starttls(struct cmd_ctx *c)
{
	struct smtp_sess *s = c->s;

	if (s->tls)
		return SMTP_R_TLS_ACTIVE;
	if (!(s->cfg->caps & SMTP_CAP_STARTTLS))
		return SMTP_R_NOT_OFFERED;
	if (c->alen)
		return SMTP_R_SYNTAX;
	if (s->relayed)
		return SMTP_R_BAD_SEQ;
	if (c->out->tls_busy)
		return SMTP_R_TLS_BUSY;
	return SMTP_R_NONE;
}

static enum smtp_reply_id ck_auth(struct cmd_ctx *c)
{
	struct smtp_sess *s = c->s;
	struct smtp_args_cfg ac;
	const uint8_t *mech;
	size_t mlen;

	if (!(s->cfg->caps & SMTP_CAP_AUTH))
		return SMTP_R_NOT_OFFERED;
	if (s->cfg->require_tls && !s->tls)
		return SMTP_R_NEED_TLS;
	if (!s->helo_kind)
		return SMTP_R_NEED_HELO;
	if (s->authed || s->mail_fwd)
		return SMTP_R_BAD_SEQ;
	smtp_args_cfg_of(s, &ac);
	return arg_reply(smtp_args_auth(c->arg, c->alen, &ac, &mech, &mlen));
}

/* ---- proceed ------------------------------------------------------------ */

static void pr_helo(struct cmd_ctx *c)
{
	struct smtp_sess *s = c->s;

	/* the caller keeps the argument (SMTP_ACT_HELO); smtp_input returns
	 * before the line buffer is reused */
	c->out->actions |= SMTP_ACT_HELO;
	c->out->helo = c->arg;
	c->out->helo_len = c->alen;
	s->helo_kind = c->verb == SCAN_V_EHLO ? 2 : 1;
	if (s->relayed) {
		/* Bulwark's own list answers; the backend just resets */
		smtp_fwd_span(c->out, (const uint8_t *)"RSET\r\n", 6);
		smtp_q_backend(s, SMTP_SLOT_SWALLOW, SMTP_FV_RSET);
		smtp_txn_reset(s);
	}
	if (c->verb == SCAN_V_HELO)
		smtp_q_local(s, SMTP_R_HELO);
	else
		smtp_q_local(s, s->tls ? SMTP_R_EHLO_TLS : SMTP_R_EHLO);
}

static void pr_mail(struct cmd_ctx *c)
{
	struct smtp_sess *s = c->s;

	relay(c);
	forward(c, SMTP_FV_MAIL);
	smtp_txn_reset(s);
	s->mail_fwd = 1;
	s->wa->mail_utf8 = c->a.mail.smtputf8;
	/* the slot belongs to the transaction it opened */
	smtp_q_at(s, s->wa->q_n - 1u)->gen = s->wa->gen;
}

static void pr_rcpt(struct cmd_ctx *c)
{
	forward(c, SMTP_FV_RCPT);
	c->s->wa->rcpt_fwd++;
}

static void pr_data(struct cmd_ctx *c)
{
	forward(c, SMTP_FV_DATA);
	c->s->paused = 1;
}

static void pr_rset(struct cmd_ctx *c)
{
	if (c->s->relayed) {
		forward(c, SMTP_FV_RSET);
		smtp_txn_reset(c->s);
	} else {
		smtp_q_local(c->s, SMTP_R_OK);
	}
}

static void pr_noop(struct cmd_ctx *c)
{
	smtp_q_local(c->s, SMTP_R_OK);
}

static void pr_help(struct cmd_ctx *c)
{
	smtp_q_local(c->s, SMTP_R_HELP);
}

static void pr_quit(struct cmd_ctx *c)
{
	smtp_q_local(c->s, SMTP_R_BYE);
}

static void pr_starttls(struct cmd_ctx *c)
{
	smtp_q_local(c->s, SMTP_R_STARTTLS);
	smtp_flush(c->s, c->out);
	c->out->actions |= SMTP_ACT_STARTTLS;
	c->s->state = SMTP_S_TLS;
}

static void pr_auth(struct cmd_ctx *c)
{
	relay(c);
	forward(c, SMTP_FV_AUTH);
	c->s->paused = 1;
}

static void pr_none(struct cmd_ctx *c)
{
	(void)c;
}

/* The command table, indexed by enum scan_verb. */
static const struct smtp_cmd cmd_table[SCAN_V_COUNT] = {
	[SCAN_V_UNKNOWN] = { SCAN_V_UNKNOWN, ck_none, pr_none },
	[SCAN_V_HELO] = { SCAN_V_HELO, ck_helo, pr_helo },
	[SCAN_V_EHLO] = { SCAN_V_EHLO, ck_helo, pr_helo },
	[SCAN_V_MAIL] = { SCAN_V_MAIL, ck_mail, pr_mail },
	[SCAN_V_RCPT] = { SCAN_V_RCPT, ck_rcpt, pr_rcpt },
	[SCAN_V_DATA] = { SCAN_V_DATA, ck_data, pr_data },
	[SCAN_V_BDAT] = { SCAN_V_BDAT, ck_not_offered, pr_none },
	[SCAN_V_QUIT] = { SCAN_V_QUIT, ck_noarg, pr_quit },
	[SCAN_V_RSET] = { SCAN_V_RSET, ck_noarg, pr_rset },
	[SCAN_V_VRFY] = { SCAN_V_VRFY, ck_disabled, pr_none },
	[SCAN_V_EXPN] = { SCAN_V_EXPN, ck_disabled, pr_none },
	[SCAN_V_NOOP] = { SCAN_V_NOOP, ck_none, pr_noop },
	[SCAN_V_HELP] = { SCAN_V_HELP, ck_none, pr_help },
	[SCAN_V_AUTH] = { SCAN_V_AUTH, ck_auth, pr_auth },
	[SCAN_V_STARTTLS] = { SCAN_V_STARTTLS, ck_starttls, pr_starttls },
	[SCAN_V_ETRN] = { SCAN_V_ETRN, ck_disabled, pr_none },
	[SCAN_V_TURN] = { SCAN_V_TURN, ck_disabled, pr_none },
	[SCAN_V_XCLIENT] = { SCAN_V_XCLIENT, ck_forbidden, pr_none },
	[SCAN_V_XFORWARD] = { SCAN_V_XFORWARD, ck_forbidden, pr_none },
};

/* ---- lines -------------------------------------------------------------- */

static void nonsmtp(struct smtp_sess *s, enum scan_sig sig)
{
	s->wa->close_sig = (uint8_t)sig;
	smtp_q_local(s, SMTP_R_NONSMTP);
}

/* A SASL continuation line (RFC 4954 §4): forwarded raw if it is base64. */
static void sasl_line(struct smtp_sess *s, struct smtp_out *out, const uint8_t *p, size_t n,
		      unsigned flags)
{
	s->sasl = 0;
	if ((flags & (SCAN_L_BAD | SCAN_L_HIGH)) || !smtp_args_sasl_line(p, n)) {
		smtp_fwd_span(out, (const uint8_t *)"*\r\n", 3);
		smtp_q_backend(s, SMTP_SLOT_SWALLOW, SMTP_FV_AUTH);
		smtp_q_local(s, SMTP_R_SASL);
		return;
	}
	smtp_fwd_line(out, p, n);
	smtp_q_backend(s, SMTP_SLOT_BACKEND, SMTP_FV_AUTH);
	s->paused = 1;
}

/* One complete command line (not the discarded tail of a long one). */
static void process_line(struct smtp_sess *s, struct smtp_out *out, const uint8_t *p, size_t n,
			 unsigned flags)
{
	const struct smtp_cmd *row;
	struct cmd_ctx c;
	enum smtp_reply_id r;
	enum scan_sig sig;
	size_t arg;

	if (s->first_line) {
		s->first_line = 0;
		sig = scan_sig_line(p, n, flags);
		if (sig != SCAN_SIG_NONE && sig != SCAN_SIG_PENDING) {
			nonsmtp(s, sig);
			return;
		}
	}
	if (s->sasl) {
		sasl_line(s, out, p, n, flags);
		return;
	}
	if (s->draining && !s->mail_fwd) {
		smtp_q_local(s, SMTP_R_SHUTDOWN);
		return;
	}
	if (flags & SCAN_L_BAD) {
		smtp_q_local(s, SMTP_R_BADCHARS);
		return;
	}
	/* = scan_verb(p, n, &arg), found by the scan */
	c.verb = scan_line_verb(&s->wa->line, &arg);
	if (c.verb >= SCAN_V_COUNT)
		c.verb = SCAN_V_UNKNOWN;
	if ((flags & SCAN_L_HIGH) && c.verb != SCAN_V_MAIL && c.verb != SCAN_V_RCPT) {
		smtp_q_local(s, SMTP_R_BADCHARS);
		return;
	}
	if (c.verb == SCAN_V_UNKNOWN) {
		smtp_q_local(s, SMTP_R_UNKNOWN);
		return;
	}
	if (arg > n)
		arg = n;
	c.s = s;
	c.out = out;
	c.line = p;
	c.len = n;
	c.arg = p + arg;
	c.alen = n - arg;
	row = &cmd_table[c.verb];
	r = row->check(&c);
	if (r != SMTP_R_NONE)
		smtp_q_local(s, r);
	else
		row->proceed(&c);
}

/* The limit of a line whose first word is v. */
static uint32_t verb_limit(const struct smtp_sess *s, enum scan_verb v)
{
	uint32_t l = SCAN_LINE_MAX;

	if (v == SCAN_V_MAIL || v == SCAN_V_RCPT)
		l = SCAN_LINE_MAX_PARAMS;
	else if (v == SCAN_V_AUTH && (s->cfg->caps & SMTP_CAP_AUTH))
		l = SCAN_LINE_MAX_AUTH;
	return l < s->line_max ? l : s->line_max;
}

/* The smallest limit verb_limit() can give. */
static uint32_t min_limit(const struct smtp_sess *s)
{
	return SCAN_LINE_MAX < s->line_max ? SCAN_LINE_MAX : s->line_max;
}

/* Classifies the first word once a SP or 16 octets were seen. */
static void classify(struct smtp_sess *s)
{
	struct smtp_work *w = s->wa;
	const struct scan_line *l = &w->line;
	size_t k = l->kept < 16 ? l->kept : 16, i, arg;

	for (i = 0; i < k; i++)
		if (w->buf[i] == ' ')
			break;
	if (i == k && l->len < 16)
		return;
	w->verb_known = 1;
	w->verb = i < k ? (uint8_t)scan_verb(w->buf, i + 1, &arg) : SCAN_V_UNKNOWN;
	w->line.limit = verb_limit(s, (enum scan_verb)w->verb);
}

/* Adds the raw bytes of p not yet seen to raw[] and updates the verdict. */
static void peek_raw(struct smtp_sess *s, const uint8_t *p, size_t n)
{
	struct smtp_work *w = s->wa;
	size_t seen = w->raw_n - w->raw_pos, take;

	if (w->sig != SCAN_SIG_PENDING || seen >= n)
		return;
	take = n - seen;
	if (take > sizeof(w->raw) - w->raw_n)
		take = sizeof(w->raw) - w->raw_n;
	memcpy(w->raw + w->raw_n, p + seen, take);
	w->raw_n = (uint8_t)(w->raw_n + take);
	w->sig = (uint8_t)scan_sig_prefix(w->raw, w->raw_n);
	if (w->sig == SCAN_SIG_PENDING && w->raw_n == sizeof(w->raw))
		w->sig = SCAN_SIG_NONE;
}

static void consumed_raw(struct smtp_sess *s, size_t used)
{
	struct smtp_work *w = s->wa;

	if (w->raw_pos < sizeof(w->raw))
		w->raw_pos = (uint8_t)(w->raw_pos + used > sizeof(w->raw) ? sizeof(w->raw)
									  : w->raw_pos + used);
}

size_t smtp_greet_input(struct smtp_sess *s, const uint8_t *p, size_t n, struct smtp_out *out)
{
	struct smtp_work *w = s->wa;
	enum scan_line_ev ev;
	enum scan_sig sig;
	size_t used = 0;

	(void)out;
	peek_raw(s, p, n);
	if (w->sig == SCAN_SIG_NONE) {
		smtp_q_local(s, SMTP_R_PREGREET);
		return n;
	}
	if (w->sig != SCAN_SIG_PENDING) {
		nonsmtp(s, (enum scan_sig)w->sig);
		return n;
	}
	ev = scan_line_feed(&w->line, s->cfg->scan, p, n, w->buf, &used);
	consumed_raw(s, used);
	if (ev == SCAN_LINE_END) {
		sig = scan_sig_line(w->buf, w->line.kept, w->line.flags);
		if (sig != SCAN_SIG_NONE && sig != SCAN_SIG_PENDING)
			nonsmtp(s, sig);
		else
			smtp_q_local(s, SMTP_R_PREGREET);
		return n;
	}
	if (ev == SCAN_LINE_OVERFLOW) {
		smtp_q_local(s, SMTP_R_PREGREET);
		return n;
	}
	return used;
}

size_t smtp_cmd_input(struct smtp_sess *s, const uint8_t *p, size_t n, struct smtp_out *out,
		      int *wait)
{
	struct smtp_work *w = s->wa;
	struct scan_line *l = &w->line;
	enum scan_line_ev ev;
	size_t used = 0, feed;
	enum scan_sig sig;

	if (s->first_line) {
		peek_raw(s, p, n);
		if (w->sig != SCAN_SIG_PENDING && w->sig != SCAN_SIG_NONE) {
			s->first_line = 0;
			nonsmtp(s, (enum scan_sig)w->sig);
			return n;
		}
		if (w->line_held) {
			if (w->sig == SCAN_SIG_PENDING) {
				*wait = 1;
				return 0;
			}
			process_line(s, out, w->buf, l->kept, l->flags);
			smtp_line_begin(s);
			return 0;
		}
	}
	if (n == 0) {
		*wait = 1;
		return 0;
	}
	/*
	 * Until the first word is known the line runs under the listener's
	 * largest limit, and the verb's own limit (never below
	 * min(SCAN_LINE_MAX, line_max)) applies from classify() on. Up to
	 * that smaller limit no line can overflow under either, so a whole line
	 * of up to SCAN_LINE_MAX octets is fed in one call, and only what may
	 * pass it waits for the verb. The outcome is the same as feeding 16
	 * octets and classifying first (scan_line_feed: any cut, same result).
	 */
	feed = n;
	if (!w->verb_known && !w->overflow) {
		uint32_t first = min_limit(s) > 18 ? min_limit(s) - 2 : 16;

		if (l->len < first && feed > first - l->len)
			feed = first - l->len;
	}
	ev = scan_line_feed(l, s->cfg->scan, p, feed, w->buf, &used);
	if (s->first_line)
		consumed_raw(s, used);
	if (ev == SCAN_LINE_MORE) {
		if (!w->verb_known && !w->overflow)
			classify(s);
		return used;
	}
	if (ev == SCAN_LINE_OVERFLOW) {
		w->overflow = 1;
		if (s->first_line) {
			s->first_line = 0;
			sig = scan_sig_line(w->buf, l->kept, l->flags);
			if (sig != SCAN_SIG_NONE && sig != SCAN_SIG_PENDING) {
				nonsmtp(s, sig);
				return used;
			}
		}
		smtp_q_local(s, SMTP_R_LONG);
		if (s->sasl) {
			s->sasl = 0;
			smtp_fwd_span(out, (const uint8_t *)"*\r\n", 3);
			smtp_q_backend(s, SMTP_SLOT_SWALLOW, SMTP_FV_AUTH);
		}
		return used;
	}
	/* SCAN_LINE_END */
	if (w->overflow) {
		smtp_line_begin(s);
		return used;
	}
	if (s->first_line && w->sig == SCAN_SIG_PENDING) {
		w->line_held = 1; /* wait for the prefix verdict */
		return used;
	}
	process_line(s, out, w->buf, l->kept, l->flags);
	if (s->state == SMTP_S_CMD)
		smtp_line_begin(s);
	return used;
}
