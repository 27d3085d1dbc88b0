/*
 * smtp_data.c — streaming a DATA body to the backend without buffering it.
 *
 * The body goes out as spans into the caller's input. Only CRLF.CRLF ends
 * it (the body's first line counts as following the DATA command's CRLF).
 * The octets that may begin the terminator — "\r", "\r\n", "\r\n.",
 * "\r\n.\r" (".", ".\r" on the first line) — are "pending": while they lie
 * in the current input they stay part of the run to forward; at the end of
 * an input they are held back and, once resolved, re-emitted from static
 * storage. So an edit (normalisation, dot-stuffing) can always be inserted
 * before them, and the forwarded bytes never hold CRLF.CRLF before the end.
 *
 * REJECT: the first bare CR, bare LF or NUL aborts the backend transaction
 * (SMTP_ACT_BACKEND_ABORT: no final dot, ever) and nothing more is
 * forwarded; the body is still tracked to its CRLF.CRLF, then
 * "550 5.5.2 message has bare CR, LF or NUL". NORMALIZE: a bare LF gets a
 * CR before it, a bare CR an LF after it; a line after such a line end that
 * starts with "." gets another "." (the backend sees the lines Bulwark saw);
 * the line "." after a CRLF that ends in a bare CR or LF goes out as "..",
 * CRLF (never a terminator at the backend). NUL aborts in both policies.
 * Over size_max (beyond size_max + 3 octets, the ".\r\n" allowance) and
 * over max_data_line abort the same way, answered 552 5.3.4 / 550 5.5.2.
 * Abort points depend only on the byte position, so the forwarded bytes and
 * replies never depend on how the input was cut.
 */
#include <string.h>

#include "smtp_int.h"

/* Positions in the body (struct smtp_data_st.st). */
enum {
	DS_MID = 0, /* inside a line */
	DS_CR,      /* a CR whose successor is unseen */
	DS_BOL,     /* line start after CRLF (or the first line) */
	DS_DOT,     /* "." at such a line start */
	DS_DOTCR,   /* ".\r" there */
	DS_BOLB,    /* line start after a bare CR or LF */
};

static const uint8_t term[] = "\r\n.\r\n";

/* Octets pending (possibly the start of the terminator) in state st. */
static size_t pend_len(const struct smtp_data_st *d)
{
	switch (d->st) {
	case DS_CR:
		return 1;
	case DS_BOL:
		return d->init ? 0 : 2;
	case DS_DOT:
		return d->init ? 1 : 3;
	case DS_DOTCR:
		return d->init ? 2 : 4;
	default:
		return 0;
	}
}

static const uint8_t *pend_bytes(const struct smtp_data_st *d)
{
	return (d->st != DS_CR && d->init) ? term + 2 : term;
}

/* One input segment being streamed. */
struct seg {
	struct smtp_sess *s;
	struct smtp_out *out;
	const uint8_t *p;
	size_t run; /* start of the input octets not yet forwarded */
};

static void emit(struct seg *g, const uint8_t *p, size_t n)
{
	if (!g->s->wa->data.abort)
		smtp_fwd_body(g->out, p, n);
}

/* Forwards the run of input octets up to (not including) i. */
static void flush_run(struct seg *g, size_t i)
{
	if (i > g->run)
		emit(g, g->p + g->run, i - g->run);
	g->run = i;
}

/* The pending octets before i are not a terminator: they go out as they are. */
static void resolve(struct seg *g, size_t i)
{
	struct smtp_data_st *d = &g->s->wa->data;

	if (d->held) {
		emit(g, pend_bytes(d), pend_len(d));
		d->held = 0;
		g->run = i;
	}
}

/* Octet i continues the line that began at a line start: what was held
 * back there goes out, and the line is an ordinary body line from now on. */
static void line_goes_on(struct seg *g, size_t i)
{
	resolve(g, i);
	g->s->wa->data.st = DS_MID;
	g->s->wa->data.init = 0;
}

/* Inserts static octets before input octet i. */
static void insert(struct seg *g, size_t i, const char *str, size_t n)
{
	flush_run(g, i);
	emit(g, (const uint8_t *)str, n);
}

/* Stops forwarding at input octet i: what was pending is never sent. */
static void data_abort(struct seg *g, size_t i, enum smtp_reply_id why)
{
	struct smtp_data_st *d = &g->s->wa->data;

	if (d->abort)
		return;
	if (!d->held)
		flush_run(g, i - pend_len(d));
	d->held = 0;
	d->abort = (uint8_t)why;
	if (g->s->relayed)
		g->out->actions |= SMTP_ACT_BACKEND_ABORT;
	g->s->relayed = 0;
}

/*
 * The line "." (after CRLF) ended with a bare CR or LF: send "..", CRLF.
 * eol is the index of the bare line end's first octet in the input (the CR
 * or the LF); the run resumes at skip.
 */
static void dot_line(struct seg *g, size_t eol, size_t skip)
{
	struct smtp_data_st *d = &g->s->wa->data;

	if (d->held) {
		emit(g, pend_bytes(d), d->init ? 1 : 3); /* up to and with the dot */
		d->held = 0;
	} else {
		flush_run(g, eol);
	}
	emit(g, term + 2, 3); /* ".\r\n" */
	g->run = skip;
}

/* A bare line end at input octet i (the LF, or the octet after a bare CR). */
static void bare_eol(struct seg *g, size_t i, int lf)
{
	struct smtp_sess *s = g->s;
	struct smtp_data_st *d = &s->wa->data;

	if (s->cfg->data_policy != SMTP_DATA_NORMALIZE) {
		data_abort(g, i, SMTP_R_DATA_BARE);
	} else if (d->st == DS_DOT) {
		dot_line(g, i, i + 1);
	} else if (d->st == DS_DOTCR) {
		dot_line(g, i - 1, i);
	} else {
		resolve(g, i);
		insert(g, i, lf ? "\r" : "\n", 1);
	}
	d->st = DS_BOLB;
	d->init = 0;
	d->line = 0;
}

/* One more content octet on the line; checks max_data_line. */
static void content(struct seg *g, size_t i, size_t n)
{
	struct smtp_data_st *d = &g->s->wa->data;
	uint32_t max = g->s->cfg->max_data_line;

	if (max && !d->abort && d->line + n > max - 2)
		data_abort(g, i + (max - 2 - d->line), SMTP_R_DATA_LINE);
	d->line += (uint32_t)n;
}

/* The terminator's LF is input octet i. */
static void end_of_data(struct seg *g, size_t i)
{
	struct smtp_sess *s = g->s;
	struct smtp_data_st *d = &s->wa->data;

	if (!d->abort) {
		if (!d->held)
			flush_run(g, i + 1 - (pend_len(d) + 1));
		if (d->init)
			emit(g, term + 2, 3);
		else
			emit(g, term, 5);
		g->out->actions |= SMTP_ACT_DATA_END;
		smtp_q_backend(s, SMTP_SLOT_BACKEND, SMTP_FV_DOT);
	} else {
		smtp_q_local(s, (enum smtp_reply_id)d->abort);
	}
	if (s->msgs < SMTP_MSGS_MAX)
		s->msgs++;
	smtp_txn_reset(s);
	if (s->state == SMTP_S_DATA) {
		s->state = SMTP_S_CMD;
		smtp_line_begin(s);
	}
}

void smtp_data_begin(struct smtp_sess *s)
{
	memset(&s->wa->data, 0, sizeof(s->wa->data));
	s->wa->data.st = DS_BOL;
	s->wa->data.init = 1;
}

size_t smtp_data_input(struct smtp_sess *s, const uint8_t *p, size_t n, struct smtp_out *out)
{
	struct smtp_data_st *d = &s->wa->data;
	struct seg g = { s, out, p, 0 };
	uint64_t lim = SIZE_MAX;
	size_t i = 0, j, stop;
	uint8_t c;

	if (s->cfg->size_max) {
		/* the first input octet past size_max + 3 aborts */
		if (d->octets >= s->cfg->size_max + 3)
			lim = 0;
		else
			lim = s->cfg->size_max + 3 - d->octets;
	}
	while (i < n) {
		if (out->fwd_cap - out->fwd_n < 6)
			break;
		if (!d->abort && i == lim)
			data_abort(&g, i, SMTP_R_DATA_SIZE);
		stop = (!d->abort && lim > i && lim < n) ? (size_t)lim : n;
		c = p[i];
		switch (d->st) {
		case DS_MID:
			j = i + s->cfg->scan->find_data(p + i, stop - i);
			content(&g, i, j - i);
			i = j;
			if (i == stop)
				break;
			c = p[i];
			if (c == '\r') {
				d->st = DS_CR;
			} else if (c == '\n') {
				bare_eol(&g, i, 1);
			} else { /* NUL */
				data_abort(&g, i, SMTP_R_DATA_BARE);
				content(&g, i, 1);
			}
			i++;
			break;
		case DS_CR:
			if (c == '\n') {
				d->st = DS_BOL;
				d->init = 0;
				d->line = 0;
				i++;
			} else {
				bare_eol(&g, i, 0); /* re-read octet i on the new line */
			}
			break;
		case DS_BOL:
			if (c == '.') {
				d->st = DS_DOT;
				content(&g, i, 1);
				i++;
			} else {
				line_goes_on(&g, i);
			}
			break;
		case DS_DOT:
			if (c == '\r') {
				d->st = DS_DOTCR;
				i++;
			} else if (c == '\n') {
				bare_eol(&g, i, 1);
				i++;
			} else {
				line_goes_on(&g, i);
			}
			break;
		case DS_DOTCR:
			if (c == '\n') {
				end_of_data(&g, i);
				d->octets += i + 1;
				return i + 1;
			}
			bare_eol(&g, i, 0);
			break;
		case DS_BOLB:
		default:
			if (c == '.' && s->cfg->data_policy == SMTP_DATA_NORMALIZE) {
				insert(&g, i, ".", 1); /* the backend must see this dot */
				content(&g, i, 1);
				i++;
			}
			d->st = DS_MID;
			break;
		}
	}
	/* end of this input: hold back what is pending */
	if (!d->abort) {
		if (!d->held) {
			flush_run(&g, i - pend_len(d));
			d->held = pend_len(d) > 0;
		}
	} else {
		d->held = 0;
	}
	d->octets += i;
	return i;
}
