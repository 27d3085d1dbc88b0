/*
 * smtp.c — the SMTP session core: configuration, reply queue, clock,
 * backend replies and events. Command lines are in smtp_cmd.c, message
 * bodies in smtp_data.c.
 *
 * Policy (DESIGN §3 as decided for the implementation)
 * ----------------------------------------------------
 * Greeting. greet_wait_ms == 0: "220 <host> ESMTP" at smtp_start(). Else with
 *   greet_teaser: "220-<host> ESMTP" at start and "220 <host> ESMTP" when the
 *   wait ends (smtp_tick()); without the teaser nothing until then.
 * Pregreet. Bytes before the final "220 " line: the first 16 raw octets of
 *   the connection go through scan_sig_prefix(), the first line (when it
 *   completes) through scan_sig_line(): a signature answers "500 5.5.2" and
 *   closes (SMTP_CLOSE_NONSMTP, sig); SCAN_SIG_NONE answers "554 5.5.1" and
 *   closes (SMTP_CLOSE_PREGREET); undecided input waits until the first LF,
 *   the 512-octet line limit or the greet deadline, then 554.
 * First command line. scan_sig_prefix() runs on the first 16 raw octets as
 *   they arrive (a signature closes at once with 500 5.5.2, even without a
 *   line end), scan_sig_line() on the completed first line. The first line is
 *   processed only once the prefix verdict is known (16 octets seen, or the
 *   prefix ruled out), so the outcome never depends on how the bytes were
 *   cut; a client that sends a lone empty line and then waits (a possible
 *   PROXY v2 start) waits until the command timeout. A first line that
 *   overflows is tested with scan_sig_line() on its kept part.
 * Later lines. NUL, control bytes (HT included), bare CR, bare LF: 500 5.5.2,
 *   the session goes on. Octets >= 0x80 only inside MAIL/RCPT arguments
 *   (smtp_args decides: 553 5.6.7 / 501); elsewhere 500 5.5.2.
 * Line limits. Each line starts with the listener's largest limit (1000, or
 *   12288 where AUTH is offered); once the first word is known (a SP within
 *   the first 16 octets, or 16 octets without one) the verb's own limit
 *   applies: 1000 for MAIL/RCPT, 12288 for AUTH (and SASL continuation
 *   lines) where offered, 512 for everything else. Passing it answers
 *   "500 5.5.2 line too long" at once, in pipelined order; the rest of the
 *   line is discarded through LF. A MAIL/RCPT line over 512 octets without
 *   ESMTP parameters also gets 500 5.5.2 line too long.
 * Replies. Unknown verb 500 5.5.2; bad arguments 501 5.5.4 (5.1.7 sender,
 *   5.1.3 recipient; smtp_args also yields 555 5.5.4, 552 5.3.4, 553 5.6.7,
 *   504 5.5.4); VRFY/EXPN/TURN/ETRN 502 5.5.1; BDAT 502 5.5.1 (CHUNKING is
 *   refused by smtp_cfg_init); XCLIENT/XFORWARD 550 5.7.0 in every phase;
 *   MAIL before EHLO/HELO, RCPT before MAIL, DATA before RCPT, MAIL inside a
 *   transaction 503 5.5.1; EHLO/HELO without a domain 501 5.5.4; QUIT, RSET,
 *   DATA or STARTTLS with an argument 501 5.5.4. The reply that would be the
 *   error_limit-th 500..504 from Bulwark becomes "421 4.7.0 too many errors"
 *   and closes (backend replies do not count; replies that close anyway are
 *   not converted).
 * Timeouts. cmd_timeout_ms since the last client input or backend progress
 *   (also while waiting for the backend), data_timeout_ms per block of body
 *   input, dot_timeout_ms for the end-of-data reply, session_max_ms since
 *   the start: "421 4.4.2" and close. A missed end-of-data reply answers
 *   "451 4.4.2" (the reply to the final dot) and closes instead.
 * STARTTLS. Only with SMTP_CAP_STARTTLS, before TLS and before the relay:
 *   "220 2.0.0 Ready to start TLS", SMTP_ACT_STARTTLS, nothing after the
 *   STARTTLS line is consumed; input offered before smtp_tls_started() is
 *   dropped (CVE-2011-0411). smtp_tls_started() forgets EHLO/HELO and AUTH;
 *   no new greeting. TLS active: 503 5.5.1; not offered: 502 5.5.1; with an
 *   argument: 501 5.5.4; relayed: 503 5.5.1. require_tls: MAIL and AUTH
 *   before TLS get 530 5.7.0; AUTH is then only in the post-TLS EHLO list.
 *   AUTH not offered: 502 5.5.1. A listener with tls_implicit starts with TLS
 *   active (the caller runs the handshake before smtp_start()).
 * Drain. smtp_drain() on an idle session (nothing queued, no partial line,
 *   no transaction, or before the greeting) answers "421 4.3.2 shutting
 *   down" and closes at once; otherwise the next command line outside a
 *   transaction gets it, or the session closes as soon as it becomes idle
 *   (e.g. right after the end-of-data reply).
 * Hand-off. An accepted EHLO/HELO argument is handed to the caller
 *   (SMTP_ACT_HELO; the core keeps only EHLO vs HELO), and forgotten again
 *   at smtp_tls_started(). The first valid MAIL (or AUTH where offered)
 *   gives SMTP_ACT_RELAY (relay_ehlo: replay the caller's copy with EHLO or
 *   HELO) and the command in out->fwd; later
 *   MAIL/RCPT/RSET/DATA/AUTH and SASL lines are forwarded in order. NOOP,
 *   HELP, EHLO, HELO are answered locally (EHLO/HELO also send "RSET" to the
 *   backend, whose reply is swallowed). QUIT: 221 after the pending replies,
 *   then SMTP_ACT_BACKEND_QUIT + SMTP_ACT_CLOSE. Any other close while
 *   relayed carries SMTP_ACT_BACKEND_QUIT when it happens at a clean point
 *   (drain, message cap) and SMTP_ACT_BACKEND_ABORT otherwise. After DATA/AUTH/SASL lines input
 *   pauses (SMTP_ACT_PAUSE) until the backend's reply. A SASL line that is
 *   not base64 (or "*") is answered 501 5.5.2 locally and "*" goes to the
 *   backend (reply swallowed) to cancel the exchange.
 * Backend events. NONE: the reply to the pending MAIL/AUTH is "421 4.3.0",
 *   BUSY: "421 4.3.2"; both close. GONE: a pending end-of-data reply becomes
 *   "451 4.4.2" and the session goes on unrelayed (the next MAIL relays
 *   again) unless more backend replies were pending, whose first becomes
 *   "421 4.4.2" + close; mid-body the body is tracked to its end and answered
 *   "451 4.4.2"; in every other state "421 4.4.2" + close.
 * Caps. MAIL with max_msgs messages done: 421 4.7.0 + close. RCPT when
 *   max_rcpts were forwarded in this transaction: 452 4.5.3. A message
 *   counts when its terminator is seen, forwarded or refused.
 * Transaction view. The core tracks what it forwarded (MAIL, number of
 *   RCPTs) for its own 503 checks; a rejected MAIL (non-2xx) ends the
 *   transaction unless a newer one began. The backend still judges order.
 */
#include <errno.h>
#include <string.h>

#include "smtp_int.h"

/* ---- configuration ------------------------------------------------------ */

void smtp_cfg_defaults(struct smtp_cfg *cfg, const char *hostname, const struct scan_kernels *scan)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->scan = scan;
	if (hostname) {
		strncpy(cfg->hostname, hostname, sizeof(cfg->hostname) - 1);
		cfg->hostname[sizeof(cfg->hostname) - 1] = '\0';
	}
	cfg->caps =
	    SMTP_CAP_SIZE | SMTP_CAP_PIPELINING | SMTP_CAP_8BITMIME | SMTP_CAP_ENHANCEDSTATUSCODES;
	cfg->size_max = 10240000;
	cfg->data_policy = SMTP_DATA_REJECT;
	cfg->error_limit = 5;
	cfg->cmd_timeout_ms = 300000;
	cfg->data_timeout_ms = 180000;
	cfg->dot_timeout_ms = 600000;
	cfg->max_rcpts = 1000;
}

int smtp_cfg_init(struct smtp_cfg *cfg, const char **why)
{
	struct smtp_reply_caps rc;
	const char *w = NULL;

	if (!cfg->scan)
		w = "scan";
	else if (cfg->hostname[0] == '\0')
		w = "hostname";
	else if (cfg->caps & SMTP_CAP_CHUNKING)
		w = "caps (CHUNKING is not supported)";
	else if ((cfg->caps & SMTP_CAP_AUTH) && cfg->auth_mechs[0] == '\0')
		w = "auth_mechs";
	else if (cfg->require_tls && !(cfg->caps & SMTP_CAP_STARTTLS) && !cfg->tls_implicit)
		w = "require_tls (needs STARTTLS or implicit TLS)";
	else if (cfg->data_policy > SMTP_DATA_NORMALIZE)
		w = "data_policy";
	else if (cfg->max_rcpts < 100)
		w = "max_rcpts (RFC 5321 needs >= 100)";
	else if (cfg->cmd_timeout_ms == 0 || cfg->data_timeout_ms == 0 || cfg->dot_timeout_ms == 0)
		w = "timeouts";
	else if (cfg->max_data_line != 0 && cfg->max_data_line < 3)
		w = "max_data_line";
	else if (cfg->error_limit > SMTP_ERRORS_MAX)
		w = "error_limit";
	else if (cfg->max_msgs > SMTP_MSGS_MAX)
		w = "max_msgs";
	if (!w) {
		rc.caps = cfg->caps;
		rc.size_max = cfg->size_max;
		rc.auth_mechs = cfg->auth_mechs;
		rc.require_tls = cfg->require_tls;
		if (smtp_reply_render(&cfg->replies, cfg->hostname, &rc) < 0)
			w = "hostname";
	}
	if (w) {
		if (why)
			*why = w;
		return -EINVAL;
	}
	return 0;
}

void smtp_args_cfg_of(const struct smtp_sess *s, struct smtp_args_cfg *a)
{
	const struct smtp_cfg *c = s->cfg;

	a->size_max = (c->caps & SMTP_CAP_SIZE) ? c->size_max : 0;
	a->eightbit = !!(c->caps & SMTP_CAP_8BITMIME);
	a->smtputf8 = !!(c->caps & SMTP_CAP_SMTPUTF8);
	a->auth = (c->caps & SMTP_CAP_AUTH) && (s->tls || !c->require_tls);
	a->auth_mechs = (c->caps & SMTP_CAP_AUTH) ? c->auth_mechs : NULL;
}

void smtp_out_reset(struct smtp_out *out)
{
	out->len = 0;
	out->fwd_n = 0;
	out->fwd_buf_len = 0;
	out->fwd_body = 0;
	out->actions = 0;
	out->relay_ehlo = 0;
	out->helo = NULL;
	out->helo_len = 0;
	out->close_reason = SMTP_CLOSE_NONE;
	out->sig = SCAN_SIG_NONE;
	out->deadline = UINT64_MAX;
}

/* ---- clock -------------------------------------------------------------- */

/* The 64-bit time of a 32-bit stamp taken at most 2^32 - 1 ms before now. */
uint64_t smtp_t64(uint64_t now, uint32_t t)
{
	return now - (uint32_t)((uint32_t)now - t);
}

/* ---- forwarding --------------------------------------------------------- */

/* Appends p[0..n) to out->fwd; merge: it may extend the last span. */
static void fwd_add(struct smtp_out *out, const uint8_t *p, size_t n, int merge)
{
	struct smtp_span *last;

	if (n == 0)
		return;
	if (merge && out->fwd_n) {
		last = &out->fwd[out->fwd_n - 1];
		if (last->p + last->len == p) {
			last->len += (uint32_t)n;
			return;
		}
	}
	/* callers check room before each step; never write past fwd_cap */
	if (out->fwd_n >= out->fwd_cap)
		return;
	out->fwd[out->fwd_n].p = p;
	out->fwd[out->fwd_n].len = (uint32_t)n;
	out->fwd_n++;
}

void smtp_fwd_span(struct smtp_out *out, const uint8_t *p, size_t n)
{
	/* a command line never merges into the body before it */
	fwd_add(out, p, n, out->fwd_n > out->fwd_body);
}

void smtp_fwd_body(struct smtp_out *out, const uint8_t *p, size_t n)
{
	fwd_add(out, p, n, 1);
	out->fwd_body = out->fwd_n;
}

int smtp_backend_waiting(const struct smtp_sess *s)
{
	return smtp_q_waiting(s);
}

int smtp_may_forward(const struct smtp_sess *s)
{
	return s->helo_kind != 0 || s->relayed;
}

void smtp_fwd_line(struct smtp_out *out, const uint8_t *p, size_t n)
{
	uint8_t *d;

	if (out->fwd_buf_cap - out->fwd_buf_len < n + 2)
		return;
	d = out->fwd_buf + out->fwd_buf_len;
	memcpy(d, p, n);
	d[n] = '\r';
	d[n + 1] = '\n';
	out->fwd_buf_len += n + 2;
	smtp_fwd_span(out, d, n + 2);
}

/* ---- session phases ----------------------------------------------------- */

void smtp_txn_reset(struct smtp_sess *s)
{
	s->mail_fwd = 0;
	if (s->wa == NULL)
		return; /* nothing forwarded: the next lending starts clean */
	s->wa->mail_utf8 = 0;
	s->wa->rcpt_fwd = 0;
	s->wa->rcpt_ok = 0;
	s->wa->gen++;
}

void smtp_unrelay(struct smtp_sess *s)
{
	s->relayed = 0;
	s->paused = 0;
	s->sasl = 0;
	smtp_txn_reset(s);
}

static void enter_state(struct smtp_sess *s, enum smtp_state st)
{
	s->state = (uint8_t)st;
	if (st == SMTP_S_CMD)
		smtp_line_begin(s);
}

static int dot_pending(struct smtp_sess *s)
{
	unsigned i, n = s->wa ? s->wa->q_n : 0;

	for (i = 0; i < n; i++)
		if (smtp_q_at(s, i)->kind == SMTP_SLOT_BACKEND &&
		    smtp_q_at(s, i)->what == SMTP_FV_DOT)
			return 1;
	return 0;
}

static uint64_t deadline(struct smtp_sess *s, uint64_t now)
{
	const struct smtp_cfg *c = s->cfg;
	uint64_t d, t, start = smtp_t64(now, s->t_start), active = smtp_t64(now, s->t_active);

	if (s->state == SMTP_S_CLOSED)
		return UINT64_MAX;
	if (s->state == SMTP_S_GREET)
		d = start + c->greet_wait_ms;
	else if (dot_pending(s))
		d = active + c->dot_timeout_ms;
	else if (s->state == SMTP_S_DATA)
		d = active + c->data_timeout_ms;
	else
		d = active + c->cmd_timeout_ms;
	if (c->session_max_ms) {
		t = start + c->session_max_ms;
		if (t < d)
			d = t;
	}
	return d;
}

/* Drain: close an idle session at once (once q1 is out of the way). */
static void drain_idle(struct smtp_sess *s, struct smtp_out *out)
{
	if (!s->draining || (s->wa == NULL && s->q1 != 0))
		return;
	if (s->state == SMTP_S_GREET ||
	    (s->state == SMTP_S_CMD && smtp_q_n(s) == 0 && !s->paused && !s->sasl && !s->mail_fwd &&
	     !(s->wa && smtp_line_pending(s, s->wa)))) {
		s->state = SMTP_S_CMD;
		smtp_q_local(s, SMTP_R_SHUTDOWN);
		smtp_flush(s, out);
	}
}

void smtp_finish(struct smtp_sess *s, uint64_t now, struct smtp_out *out)
{
	smtp_flush(s, out);
	drain_idle(s, out);
	out->deadline = deadline(s, now);
}

/* ---- public entry points ------------------------------------------------ */

uint64_t smtp_start(struct smtp_sess *s, const struct smtp_cfg *cfg, void *work, size_t work_cap,
		    uint64_t now, struct smtp_out *out)
{
	size_t line_bytes =
	    work_cap > sizeof(struct smtp_work) ? work_cap - sizeof(struct smtp_work) : 0;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->line_max = smtp_line_max(cfg, line_bytes);
	s->first_line = 1;
	s->tls = cfg->tls_implicit;
	s->t_start = (uint32_t)now;
	s->t_active = (uint32_t)now;
	s->state = cfg->greet_wait_ms == 0 ? SMTP_S_CMD : SMTP_S_GREET;
	smtp_work_lend(s, work, work_cap);
	if (cfg->greet_wait_ms == 0) {
		s->greeted = 1;
		smtp_q_local(s, SMTP_R_GREETING);
	} else if (cfg->greet_teaser) {
		smtp_q_local(s, SMTP_R_TEASER);
	}
	smtp_finish(s, now, out);
	return out->deadline;
}

/* Room to take one more command line (see smtp.h for the minimums). */
static int cmd_room(struct smtp_sess *s, struct smtp_out *out)
{
	if (s->wa == NULL) {
		out->actions |= SMTP_ACT_NEED_WORK;
		return 0;
	}
	if (s->wa->q_n + 3u > SMTP_QUEUE_SLOTS) {
		out->actions |= smtp_q_waiting(s) ? SMTP_ACT_PAUSE : SMTP_ACT_MORE;
		return 0;
	}
	if (out->cap - out->len < SMTP_REPLY_MAX || out->fwd_cap - out->fwd_n < 3 ||
	    out->fwd_buf_cap - out->fwd_buf_len < s->line_max) {
		out->actions |= SMTP_ACT_MORE;
		return 0;
	}
	return 1;
}

size_t smtp_input(struct smtp_sess *s, const uint8_t *p, size_t n, uint64_t now,
		  struct smtp_out *out)
{
	uint32_t helo_before = out->actions & SMTP_ACT_HELO;
	size_t i = 0, k;
	int wait;

	if (n)
		s->t_active = (uint32_t)now;
	smtp_flush(s, out);
	for (;;) {
		if (s->state == SMTP_S_CLOSED || s->state == SMTP_S_CLOSING ||
		    (s->state == SMTP_S_TLS && i == 0)) {
			i = n; /* dropped: the session is over, or plaintext before TLS */
			break;
		}
		if (s->state == SMTP_S_TLS)
			break; /* nothing after the STARTTLS line is consumed */
		if ((out->actions & SMTP_ACT_HELO) && !helo_before) {
			/* out->helo points into the line: return it now; the
			 * rest (even after a held line, when i is 0) next call */
			if (i < n)
				out->actions |= SMTP_ACT_MORE;
			break;
		}
		if (i == n && !(s->wa && s->wa->line_held))
			break;
		if (s->state == SMTP_S_DATA) {
			if (out->fwd_cap - out->fwd_n < 6) {
				out->actions |= SMTP_ACT_MORE;
				break;
			}
			i += smtp_data_input(s, p + i, n - i, out);
			continue;
		}
		if (s->state == SMTP_S_GREET) {
			if (out->cap - out->len < SMTP_REPLY_MAX) {
				out->actions |= SMTP_ACT_MORE;
				break;
			}
			if (s->wa == NULL) {
				out->actions |= SMTP_ACT_NEED_WORK;
				break;
			}
			i += smtp_greet_input(s, p + i, n - i, out);
			continue;
		}
		if (s->paused) {
			out->actions |= SMTP_ACT_PAUSE;
			break;
		}
		if (!cmd_room(s, out))
			break;
		wait = 0;
		k = smtp_cmd_input(s, p + i, n - i, out, &wait);
		i += k;
		smtp_flush(s, out);
		drain_idle(s, out);
		if (wait && k == 0)
			break;
	}
	smtp_finish(s, now, out);
	return i;
}

void smtp_tls_started(struct smtp_sess *s, uint64_t now, struct smtp_out *out)
{
	if (s->state == SMTP_S_TLS) {
		s->tls = 1;
		s->helo_kind = 0;
		out->actions |= SMTP_ACT_HELO; /* forget it (helo_len 0) */
		out->helo = NULL;
		out->helo_len = 0;
		s->authed = 0;
		s->sasl = 0;
		s->paused = 0;
		if (s->wa)
			s->wa->q_n = 0;
		s->q1 = 0;
		smtp_txn_reset(s);
		s->t_active = (uint32_t)now;
		enter_state(s, SMTP_S_CMD);
	}
	smtp_finish(s, now, out);
}

void smtp_drain(struct smtp_sess *s, uint64_t now, struct smtp_out *out)
{
	s->draining = 1;
	smtp_finish(s, now, out);
}

int smtp_refuse(struct smtp_sess *s, enum smtp_reply_id id, uint64_t now, struct smtp_out *out)
{
	if (id != SMTP_R_CLIENT_LIMIT && id != SMTP_R_DENIED && id != SMTP_R_BUSY)
		return -EINVAL;
	if (s->state == SMTP_S_CLOSED)
		return 0;
	if (s->wa != NULL)
		s->wa->q_n = 0;
	s->q1 = 0;
	s->greeted = 1;
	s->state = SMTP_S_CMD;
	smtp_q_local(s, id);
	smtp_flush(s, out);
	out->deadline = deadline(s, now);
	return 0;
}

int smtp_retune(struct smtp_sess *s, const struct smtp_cfg *cfg, uint64_t now, struct smtp_out *out)
{
	if (s->relayed || s->mail_fwd || s->state == SMTP_S_TLS || s->state >= SMTP_S_CLOSING)
		return -EBUSY;
	s->cfg = cfg;
	smtp_tick(s, now, out);
	return 0;
}

uint64_t smtp_tick(struct smtp_sess *s, uint64_t now, struct smtp_out *out)
{
	const struct smtp_cfg *c = s->cfg;
	uint64_t start = smtp_t64(now, s->t_start);
	struct smtp_slot *sl = NULL;
	unsigned i, n;

	if (smtp_q1_busy(s, out) || s->state == SMTP_S_CLOSED)
		goto done; /* a reply still waits for room: the tick comes again */
	if (c->session_max_ms && now >= start + c->session_max_ms) {
		smtp_force_close(s, out, SMTP_R_TIMEOUT);
	} else if (s->state == SMTP_S_GREET) {
		if (now >= start + c->greet_wait_ms) {
			s->greeted = 1;
			if (s->wa && s->wa->raw_n) {
				smtp_q_local(s, SMTP_R_PREGREET);
			} else {
				smtp_q_local(s, SMTP_R_GREETING);
				enter_state(s, SMTP_S_CMD);
			}
		}
	} else if (now >= deadline(s, now)) {
		n = s->wa ? s->wa->q_n : 0;
		for (i = 0; i < n; i++) {
			sl = smtp_q_at(s, i);
			if (sl->kind == SMTP_SLOT_BACKEND && sl->what == SMTP_FV_DOT)
				break;
		}
		if (sl && i < n) {
			/* the backend never answered the final dot: 451, then close */
			sl->kind = SMTP_SLOT_LOCAL;
			sl->what = SMTP_R_DATA_GONE;
			sl->close = SMTP_CLOSE_TIMEOUT;
			s->wa->q_n = (uint8_t)(i + 1);
			s->state = SMTP_S_CLOSING;
		} else {
			smtp_force_close(s, out, SMTP_R_TIMEOUT);
		}
	}
done:
	smtp_finish(s, now, out);
	return out->deadline;
}
