/*
 * smtp_work.c — the lent work area (struct smtp_work in smtp-t.h, lent as
 * smtp.h says) and the reply queue that lives in it. Policy: the comment
 * block at the top of smtp.c.
 *
 * Why the split between struct smtp_sess and struct smtp_work: an idle
 * session (greeted, EHLO answered, nothing pending) must cost as little as
 * possible, so everything that matters only while it is busy lives in
 * memory the caller lends per call and takes back once smtp_work_busy()
 * says so. A freshly lent area is initialised to what an idle session
 * implies (work_init), so the core never reads what an earlier lending
 * left in it.
 */
#include <string.h>

#include "smtp_int.h"

/* ---- reply queue -------------------------------------------------------- */

/*
 * The queue lives in the work area. An idle session has none lent, and its
 * queue is empty then; the one reply a call without an area may produce
 * (greeting, teaser, a closing 421) waits in s->q1 only if out lacks room,
 * and moves to the queue's head when an area is lent.
 */
_Static_assert(SMTP_R_COUNT <= 64, "reply ids must fit struct smtp_sess.q1");

static enum smtp_close close_of(enum smtp_reply_id id)
{
	switch (id) {
	case SMTP_R_BYE:
		return SMTP_CLOSE_QUIT;
	case SMTP_R_NONSMTP:
		return SMTP_CLOSE_NONSMTP;
	case SMTP_R_PREGREET:
		return SMTP_CLOSE_PREGREET;
	case SMTP_R_ERRORS:
		return SMTP_CLOSE_ERRORS;
	case SMTP_R_TIMEOUT:
		return SMTP_CLOSE_TIMEOUT;
	case SMTP_R_NO_BACKEND:
	case SMTP_R_BUSY:
	case SMTP_R_GONE:
		return SMTP_CLOSE_BACKEND;
	case SMTP_R_SHUTDOWN:
		return SMTP_CLOSE_SHUTDOWN;
	case SMTP_R_MSGS:
		return SMTP_CLOSE_MSGS;
	case SMTP_R_CLIENT_LIMIT:
		return SMTP_CLOSE_LIMIT;
	case SMTP_R_DENIED:
		return SMTP_CLOSE_DENIED;
	default:
		return SMTP_CLOSE_NONE;
	}
}

struct smtp_slot *smtp_q_at(struct smtp_sess *s, unsigned i)
{
	return &s->wa->q[(s->wa->q_head + i) % SMTP_QUEUE_SLOTS];
}

unsigned smtp_q_n(const struct smtp_sess *s)
{
	return s->wa ? s->wa->q_n : s->q1 != 0;
}

static void q_push(struct smtp_sess *s, uint8_t kind, uint8_t what, uint8_t close)
{
	struct smtp_work *w = s->wa;
	struct smtp_slot *sl;

	if (w == NULL) {
		/* only LOCAL replies happen without an area; the entry points
		 * keep q1 free for them (smtp_q1_busy) */
		if (kind == SMTP_SLOT_LOCAL && s->q1 == 0)
			s->q1 = what;
		return;
	}
	if (w->q_n >= SMTP_QUEUE_SLOTS) /* callers keep room; never overwrite */
		return;
	sl = smtp_q_at(s, w->q_n);
	sl->kind = kind;
	sl->what = what;
	sl->close = close;
	sl->gen = w->gen;
	w->q_n++;
}

void smtp_q_local(struct smtp_sess *s, enum smtp_reply_id id)
{
	enum smtp_close c = close_of(id);

	if (s->state == SMTP_S_CLOSING || s->state == SMTP_S_CLOSED)
		return;
	if (c == SMTP_CLOSE_NONE && smtp_reply_is_error(&s->cfg->replies, id)) {
		if (s->errors < SMTP_ERRORS_MAX)
			s->errors++;
		if (s->cfg->error_limit && s->errors >= s->cfg->error_limit) {
			id = SMTP_R_ERRORS;
			c = SMTP_CLOSE_ERRORS;
		}
	}
	q_push(s, SMTP_SLOT_LOCAL, (uint8_t)id, (uint8_t)c);
	if (c != SMTP_CLOSE_NONE)
		s->state = SMTP_S_CLOSING;
}

void smtp_q_backend(struct smtp_sess *s, enum smtp_slot_kind kind, enum smtp_fwd_verb v)
{
	q_push(s, (uint8_t)kind, (uint8_t)v, 0);
}

int smtp_q_waiting(const struct smtp_sess *s)
{
	const struct smtp_work *w = s->wa;
	unsigned i;

	if (w == NULL)
		return 0;
	for (i = 0; i < w->q_n; i++)
		if (w->q[(w->q_head + i) % SMTP_QUEUE_SLOTS].kind != SMTP_SLOT_LOCAL)
			return 1;
	return 0;
}

/* The session ends after the reply just written: tell the caller. */
static void close_now(struct smtp_sess *s, struct smtp_out *out, enum smtp_close why)
{
	out->actions |= SMTP_ACT_CLOSE;
	out->close_reason = (uint8_t)why;
	out->sig = why == SMTP_CLOSE_NONSMTP && s->wa ? s->wa->close_sig : SCAN_SIG_NONE;
	/* at these clean points every forwarded command has been answered */
	if (s->relayed)
		out->actions |=
		    (why == SMTP_CLOSE_QUIT || why == SMTP_CLOSE_SHUTDOWN || why == SMTP_CLOSE_MSGS)
			? SMTP_ACT_BACKEND_QUIT
			: SMTP_ACT_BACKEND_ABORT;
	s->relayed = 0;
	s->mail_fwd = 0;
	if (s->wa)
		s->wa->q_n = 0;
	s->q1 = 0;
	s->state = SMTP_S_CLOSED;
}

/* Appends local reply id to out. Returns 0, or -1 (SMTP_ACT_MORE) when it
 * does not fit. */
static int emit_local(struct smtp_sess *s, struct smtp_out *out, uint8_t id)
{
	const uint8_t *r;
	size_t len;

	r = smtp_reply_get(&s->cfg->replies, (enum smtp_reply_id)id, &len);
	if (out->cap - out->len < len) {
		out->actions |= SMTP_ACT_MORE;
		return -1;
	}
	memcpy(out->buf + out->len, r, len);
	out->len += len;
	return 0;
}

void smtp_flush(struct smtp_sess *s, struct smtp_out *out)
{
	struct smtp_work *w = s->wa;
	struct smtp_slot sl;

	if (w == NULL) {
		if (s->q1 && s->state != SMTP_S_CLOSED && emit_local(s, out, s->q1) == 0) {
			sl.close = (uint8_t)close_of((enum smtp_reply_id)s->q1);
			s->q1 = 0;
			if (sl.close)
				close_now(s, out, (enum smtp_close)sl.close);
		}
		return;
	}
	while (w->q_n && s->state != SMTP_S_CLOSED) {
		sl = *smtp_q_at(s, 0);
		if (sl.kind != SMTP_SLOT_LOCAL || emit_local(s, out, sl.what) != 0)
			break;
		w->q_head = (uint8_t)((w->q_head + 1) % SMTP_QUEUE_SLOTS);
		w->q_n--;
		if (sl.close)
			close_now(s, out, (enum smtp_close)sl.close);
	}
}

int smtp_q1_busy(struct smtp_sess *s, struct smtp_out *out)
{
	smtp_flush(s, out);
	return s->wa == NULL && s->q1 != 0;
}

/*
 * Keep the ready replies at the head, drop everything from the first slot
 * that waits for the backend, then queue a closing reply.
 */
void smtp_force_close(struct smtp_sess *s, struct smtp_out *out, enum smtp_reply_id id)
{
	unsigned i, n = smtp_q_n(s);

	if (s->state == SMTP_S_CLOSED)
		return;
	if (s->wa) {
		for (i = 0; i < n; i++)
			if (smtp_q_at(s, i)->kind != SMTP_SLOT_LOCAL)
				break;
		s->wa->q_n = (uint8_t)i;
		n = i;
	}
	if (s->state == SMTP_S_CLOSING) {
		/* a closing reply may already be among the kept ones */
		if (s->wa == NULL)
			goto out;
		for (i = 0; i < n; i++)
			if (smtp_q_at(s, i)->close)
				goto out;
		s->state = SMTP_S_CMD;
	}
	smtp_q_local(s, id);
out:
	smtp_flush(s, out);
}

/* ---- the work area ------------------------------------------------------ */

uint32_t smtp_line_max(const struct smtp_cfg *cfg, size_t line_bytes)
{
	uint32_t m = (cfg->caps & SMTP_CAP_AUTH) ? SCAN_LINE_MAX_AUTH : SCAN_LINE_MAX_PARAMS;

	if (m > line_bytes + 2)
		m = (uint32_t)line_bytes + 2;
	return m < 3 ? 3 : m; /* scan_line_reset's least limit */
}

void smtp_line_begin(struct smtp_sess *s)
{
	struct smtp_work *w = s->wa;
	uint32_t lim = s->line_max;

	if (w == NULL)
		return; /* the next lending begins a fresh line */
	if (s->state == SMTP_S_GREET && lim > SCAN_LINE_MAX)
		lim = SCAN_LINE_MAX;
	scan_line_reset(&w->line, lim);
	w->verb_known = s->sasl; /* a SASL line has no verb: its limit is set */
	w->verb = SCAN_V_UNKNOWN;
	w->overflow = 0;
	w->line_held = 0;
}

/* A freshly lent area: the state an idle session implies (empty queue but
 * for q1, no transaction, a fresh line, no raw octets seen). */
static void work_init(struct smtp_sess *s)
{
	struct smtp_work *w = s->wa;

	w->q_head = 0;
	w->q_n = 0;
	w->gen = 0;
	w->mail_utf8 = 0;
	w->rcpt_fwd = 0;
	w->rcpt_ok = 0;
	w->close_sig = SCAN_SIG_NONE;
	w->sig = SCAN_SIG_PENDING;
	w->raw_n = 0;
	w->raw_pos = 0;
	memset(&w->data, 0, sizeof(w->data));
	smtp_line_begin(s);
	if (s->q1) {
		q_push(s, SMTP_SLOT_LOCAL, (uint8_t)s->q1,
		       (uint8_t)close_of((enum smtp_reply_id)s->q1));
		s->q1 = 0;
	}
}

void smtp_work_lend(struct smtp_sess *s, void *work, size_t cap)
{
	if (work == NULL || cap < SMTP_WORK_SIZE(s->line_max - 2) ||
	    ((uintptr_t)work % _Alignof(struct smtp_work)) != 0) {
		s->wa = NULL;
		return;
	}
	if (s->wa == work)
		return;
	s->wa = work;
	work_init(s);
}

/*
 * Whether the line being assembled holds anything: a fresh line (after
 * smtp_line_begin) has no octets, no pending CR and no flags. A line that
 * overflowed is busy until its LF (the rest is discarded, but the scanner
 * must know it is inside that line).
 */
int smtp_line_pending(const struct smtp_sess *s, const struct smtp_work *w)
{
	const struct scan_line *l = &w->line;

	if (s->state != SMTP_S_GREET && s->state != SMTP_S_CMD)
		return 0;
	return w->line_held || w->overflow || l->len != 0 || l->cr || l->flags != 0;
}

int smtp_work_busy(const struct smtp_sess *s)
{
	const struct smtp_work *w = s->wa;

	if (w == NULL)
		return 0;
	return w->q_n != 0 || s->mail_fwd || s->paused || s->state == SMTP_S_DATA ||
	       (s->first_line && w->raw_n != 0) || smtp_line_pending(s, w);
}
