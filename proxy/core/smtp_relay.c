/*
 * smtp_relay.c — the backend side of a session: replies to forwarded
 * commands (in order, RFC 2920) and backend events. Policy: the comment
 * block at the top of smtp.c.
 */
#include <errno.h>
#include <string.h>

#include "smtp_int.h"

/*
 * Checks a backend reply: lines "NNN-text" ... "NNN text" (or "NNN"), all
 * with the same code, each ending in CRLF. Returns the code, or -1.
 */
static int reply_code(const uint8_t *p, size_t n)
{
	size_t i = 0, e;
	int code = -1, c;

	while (i < n) {
		if (n - i < 5)
			return -1;
		if (p[i] < '2' || p[i] > '5' || p[i + 1] < '0' || p[i + 1] > '9' ||
		    p[i + 2] < '0' || p[i + 2] > '9')
			return -1;
		c = (p[i] - '0') * 100 + (p[i + 1] - '0') * 10 + (p[i + 2] - '0');
		if (code >= 0 && c != code)
			return -1;
		code = c;
		for (e = i + 3; e + 1 < n && !(p[e] == '\r' && p[e + 1] == '\n'); e++)
			;
		if (e + 1 >= n)
			return -1;
		if (p[i + 3] == '-') {
			if (e + 2 == n)
				return -1; /* a continuation line cannot be the last */
		} else if (p[i + 3] != ' ' && e != i + 3) {
			return -1;
		} else if (e + 2 != n) {
			return -1; /* the last line must end the reply */
		}
		i = e + 2;
	}
	return code;
}

/* What a backend reply means for the session, by the command it answers. */
static void apply_reply(struct smtp_sess *s, const struct smtp_slot *sl, int code)
{
	int ok = code >= 200 && code < 300;

	switch (sl->what) {
	case SMTP_FV_MAIL:
		if (!ok && sl->gen == s->wa->gen) {
			s->mail_fwd = 0;
			s->wa->rcpt_fwd = 0;
		}
		break;
	case SMTP_FV_RCPT:
		if (ok && sl->gen == s->wa->gen)
			s->wa->rcpt_ok++;
		break;
	case SMTP_FV_DATA:
		s->paused = 0;
		if (code == 354 && s->state == SMTP_S_CMD) {
			s->state = SMTP_S_DATA;
			smtp_data_begin(s);
		}
		break;
	case SMTP_FV_AUTH:
		s->paused = 0;
		if (code == 334 && s->state == SMTP_S_CMD) {
			s->sasl = 1;
			smtp_line_begin(s); /* nothing of it was read while paused */
		} else if (code == 235) {
			s->authed = 1;
		}
		break;
	default:
		break;
	}
}

int smtp_backend_reply(struct smtp_sess *s, const uint8_t *p, size_t n, uint64_t now,
		       struct smtp_out *out)
{
	struct smtp_slot sl;
	int code;

	if (s->state == SMTP_S_CLOSED || !smtp_q_waiting(s))
		return -EPROTO;
	smtp_flush(s, out);
	if (s->state == SMTP_S_CLOSED)
		return -EPROTO;
	sl = *smtp_q_at(s, 0);
	if (sl.kind == SMTP_SLOT_LOCAL)
		return -ENOBUFS; /* ready replies still wait for room */
	code = reply_code(p, n);
	if (code < 0)
		return -EPROTO;
	if (sl.kind == SMTP_SLOT_BACKEND) {
		if (out->cap - out->len < n)
			return -ENOBUFS;
		memcpy(out->buf + out->len, p, n);
		out->len += n;
	}
	s->wa->q_head = (uint8_t)((s->wa->q_head + 1) % SMTP_QUEUE_SLOTS);
	s->wa->q_n--;
	s->t_active = (uint32_t)now;
	apply_reply(s, &sl, code);
	smtp_finish(s, now, out);
	return 0;
}

/* The backend is gone: rewrite the slots that waited for it (see top). */
static void backend_gone(struct smtp_sess *s, struct smtp_out *out)
{
	struct smtp_slot keep[SMTP_QUEUE_SLOTS], *sl;
	unsigned i, k = 0, closed = 0, dot = 0, any = 0, n = s->wa ? s->wa->q_n : 0;

	for (i = 0; i < n && !closed; i++) {
		sl = smtp_q_at(s, i);
		if (sl->kind == SMTP_SLOT_SWALLOW)
			continue;
		keep[k] = *sl;
		if (sl->kind == SMTP_SLOT_BACKEND) {
			any = 1;
			keep[k].kind = SMTP_SLOT_LOCAL;
			if (sl->what == SMTP_FV_DOT && !dot) {
				dot = 1;
				keep[k].what = SMTP_R_DATA_GONE;
				keep[k].close = 0;
			} else {
				keep[k].what = SMTP_R_GONE;
				keep[k].close = SMTP_CLOSE_BACKEND;
				closed = 1;
			}
		} else if (sl->close) {
			closed = 1;
		}
		k++;
	}
	for (i = 0; i < k; i++)
		*smtp_q_at(s, i) = keep[i];
	if (s->wa)
		s->wa->q_n = (uint8_t)k;
	smtp_unrelay(s);
	if (closed) {
		s->state = SMTP_S_CLOSING;
	} else if (s->state == SMTP_S_DATA) {
		if (!s->wa->data.abort)
			s->wa->data.abort = SMTP_R_DATA_GONE;
	} else if (!any && s->state != SMTP_S_CLOSING) {
		smtp_q_local(s, SMTP_R_GONE);
	}
	if (s->state == SMTP_S_CMD)
		smtp_line_begin(s);
	(void)out;
}

void smtp_backend_event(struct smtp_sess *s, enum smtp_backend_ev ev, uint64_t now,
			struct smtp_out *out)
{
	struct smtp_slot *sl;
	unsigned i, n = s->wa ? s->wa->q_n : 0;

	if (s->state == SMTP_S_CLOSED)
		goto done;
	s->t_active = (uint32_t)now;
	switch (ev) {
	case SMTP_BACKEND_READY:
		break;
	case SMTP_BACKEND_NONE:
	case SMTP_BACKEND_BUSY:
		/* the answer to the command that asked for the relay */
		for (i = 0; i < n; i++)
			if (smtp_q_at(s, i)->kind != SMTP_SLOT_LOCAL)
				break;
		s->relayed = 0;
		if (i < n) {
			sl = smtp_q_at(s, i);
			sl->kind = SMTP_SLOT_LOCAL;
			sl->what = ev == SMTP_BACKEND_NONE ? SMTP_R_NO_BACKEND : SMTP_R_BUSY;
			sl->close = SMTP_CLOSE_BACKEND;
			s->wa->q_n = (uint8_t)(i + 1);
			s->state = SMTP_S_CLOSING;
		} else {
			smtp_force_close(s, out,
					 ev == SMTP_BACKEND_NONE ? SMTP_R_NO_BACKEND : SMTP_R_BUSY);
		}
		break;
	case SMTP_BACKEND_GONE:
		if (s->relayed)
			backend_gone(s, out);
		break;
	}
done:
	smtp_finish(s, now, out);
}
