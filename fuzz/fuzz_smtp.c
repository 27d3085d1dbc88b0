/*
 * fuzz_smtp.c — the SMTP session core under fuzzer-chosen client bytes,
 * cuts, backend replies, backend events, time, TLS and drain.
 *
 * Input: byte 0 picks the listener config; then a list of operations, each
 * one opcode byte and its operands. Invariants checked after every call:
 * out.len <= cap; nothing is emitted after SMTP_ACT_CLOSE; no more consumed
 * than offered; per backend connection, the forwarded stream holds the
 * sequence CRLF "." CRLF exactly once per SMTP_ACT_DATA_END, in the same call
 * (so no terminator is ever smuggled), and never after BACKEND_ABORT; an
 * accepted EHLO/HELO (SMTP_ACT_HELO) is at most SMTP_HELO_MAX octets and one
 * is stored whenever SMTP_ACT_RELAY asks to replay it.
 *
 * Work areas: lent for good at the start; an opcode toggles per-call
 * lending, where a fresh area full of garbage (two alternate) is lent before
 * every call that finds none and taken back after every call that leaves it
 * idle, and a busy session must always have one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	struct smtp_sess s;
	struct smtp_cfg cfg;
	_Alignas(struct smtp_work) uint8_t line[2][SMTP_WORK_SIZE(SCAN_LINE_MAX_AUTH)];
	int lend;      /* per-call lending (see the top) */
	uint8_t *lent; /* the area lent now, or NULL */
	unsigned lends;
	uint8_t helo[SMTP_HELO_MAX]; /* the caller's copy (SMTP_ACT_HELO) */
	size_t helo_len;
	uint8_t pend[16384];
	size_t pn;
	uint64_t now;
	int closed;
	int aborted;   /* the current backend was aborted: nothing more to it */
	uint32_t term; /* matcher state for CRLF.CRLF in the forwarded stream */
	uint8_t obuf[SMTP_OUT_MIN];
	struct smtp_span fwd[64];
	uint8_t fbuf[SMTP_FWD_BUF_MIN + 64];
	struct smtp_out out;
};

static const char *const replies[] = {
	"250 2.1.0 Ok\r\n",
	"354 go ahead\r\n",
	"334 VXNlcm5hbWU6\r\n",
	"235 2.7.0 ok\r\n",
	"550 5.7.1 no\r\n",
	"451 4.3.0 later\r\n",
	"250-a\r\n250-b\r\n250 c\r\n",
	"221 bye\r\n",
	"hello\r\n",
	"250-a\r\n251 b\r\n",
	"503 5.5.1 order\r\n",
};

static void out_init(struct fz *f)
{
	memset(&f->out, 0, sizeof(f->out));
	f->out.buf = f->obuf;
	f->out.cap = sizeof(f->obuf);
	f->out.fwd = f->fwd;
	f->out.fwd_cap = 64;
	f->out.fwd_buf = f->fbuf;
	f->out.fwd_buf_cap = sizeof(f->fbuf);
	smtp_out_reset(&f->out);
}

/* Advances the CRLF.CRLF matcher by one byte; returns 1 on a match. */
static int term_step(uint32_t *st, uint8_t c)
{
	static const uint8_t pat[5] = { '\r', '\n', '.', '\r', '\n' };

	if (c == pat[*st]) {
		if (++*st == 5) {
			*st = 2; /* "\r\n" of a match may start the next one */
			return 1;
		}
		return 0;
	}
	*st = c == '\r' ? 1 : 0;
	return 0;
}

/* Before a call: lend an area if per-call lending finds none. */
static void lend(struct fz *f)
{
	uint8_t *b;

	if (!f->lend || f->lent != NULL)
		return;
	b = f->line[f->lends++ & 1];
	memset(b, (int)(0x5a ^ f->lends), sizeof(f->line[0]));
	smtp_work_lend(&f->s, b, sizeof(f->line[0]));
	f->lent = b;
}

/* Leaving per-call lending: lend an area for good again. */
static void lend_for_good(struct fz *f)
{
	f->lent = f->line[f->lends++ & 1];
	smtp_work_lend(&f->s, f->lent, sizeof(f->line[0]));
}

static void check(struct fz *f)
{
	struct smtp_out *o = &f->out;
	uint32_t a = o->actions, i, j, hits = 0;

	if (o->len > o->cap)
		abort();
	if (a & SMTP_ACT_HELO) {
		if (o->helo_len > SMTP_HELO_MAX || (o->helo_len && o->helo == NULL))
			abort();
		memcpy(f->helo, o->helo ? o->helo : f->helo, o->helo_len);
		f->helo_len = o->helo_len;
	}
	if ((a & SMTP_ACT_RELAY) && f->helo_len == 0)
		abort(); /* nothing to replay */
	if (f->lend) {
		if (f->lent == NULL && smtp_work_busy(&f->s))
			abort();
		if (f->lent != NULL && !smtp_work_busy(&f->s)) {
			smtp_work_lend(&f->s, NULL, 0);
			f->lent = NULL;
		}
	}
	if (f->closed && (o->len || o->fwd_n || (a & ~(SMTP_ACT_PAUSE | SMTP_ACT_MORE))))
		abort();
	if (a & SMTP_ACT_RELAY) {
		f->term = 2; /* a new backend: its stream starts after a line end */
		f->aborted = 0;
	}
	if (f->aborted && o->fwd_n)
		abort();
	if (o->fwd_body > o->fwd_n)
		abort();
	for (i = 0; i < o->fwd_n; i++) {
		if (o->fwd[i].len == 0)
			abort();
		/* command spans (after the body ones) are whole lines */
		if (i >= o->fwd_body && (o->fwd[i].len < 2 || o->fwd[i].p[o->fwd[i].len - 1] != '\n'))
			abort();
		for (j = 0; j < o->fwd[i].len; j++)
			hits += (uint32_t)term_step(&f->term, o->fwd[i].p[j]);
	}
	if (hits != ((a & SMTP_ACT_DATA_END) ? 1u : 0u))
		abort();
	if ((a & SMTP_ACT_BACKEND_ABORT) && !(a & SMTP_ACT_RELAY))
		f->aborted = 1; /* with RELAY in the same call, the abort came first */
	if (a & SMTP_ACT_CLOSE)
		f->closed = 1;
	out_init(f);
}

static void pump(struct fz *f)
{
	int guard;
	size_t r;
	uint32_t a;

	for (guard = 0; guard < 10000; guard++) {
		lend(f);
		r = smtp_input(&f->s, f->pend, f->pn, f->now, &f->out);
		a = f->out.actions;
		if (r > f->pn)
			abort();
		check(f);
		if (a & SMTP_ACT_NEED_WORK) {
			if (f->lent != NULL)
				abort();
			continue; /* lend() gives one next time round */
		}
		memmove(f->pend, f->pend + r, f->pn - r);
		f->pn -= r;
		if (a & (SMTP_ACT_STARTTLS | SMTP_ACT_CLOSE))
			f->pn = 0;
		if (a & SMTP_ACT_MORE)
			continue;
		if (r == 0 || f->pn == 0)
			return;
	}
	abort(); /* the core keeps asking for more: a livelock */
}

static void config(struct fz *f, uint8_t b)
{
	smtp_cfg_defaults(&f->cfg, "mx.fuzz", scan_pick(NULL, NULL));
	f->cfg.data_policy = (b & 1) ? SMTP_DATA_NORMALIZE : SMTP_DATA_REJECT;
	if (b & 2) {
		f->cfg.greet_wait_ms = 100;
		f->cfg.greet_teaser = (b >> 2) & 1;
	}
	if (b & 8)
		f->cfg.caps |= SMTP_CAP_STARTTLS;
	if (b & 16) {
		f->cfg.caps |= SMTP_CAP_AUTH | SMTP_CAP_STARTTLS;
		strcpy(f->cfg.auth_mechs, "PLAIN LOGIN");
		f->cfg.require_tls = (b >> 5) & 1;
	}
	if (b & 64) {
		f->cfg.size_max = 40;
		f->cfg.max_data_line = 20;
		f->cfg.max_msgs = 2;
	}
	if (b & 128) {
		f->cfg.error_limit = 0;
		f->cfg.caps |= SMTP_CAP_SMTPUTF8;
	}
	f->cfg.cmd_timeout_ms = 1000;
	f->cfg.data_timeout_ms = 700;
	f->cfg.dot_timeout_ms = 500;
	f->cfg.session_max_ms = 20000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	size_t i = 1, len;
	uint8_t op;
	int rc;

	if (size < 1)
		return 0;
	memset(&f, 0, sizeof(f));
	config(&f, data[0]);
	if (smtp_cfg_init(&f.cfg, NULL) != 0)
		abort();
	out_init(&f);
	f.now = 5;
	f.term = 2;
	f.lent = f.line[0];
	smtp_start(&f.s, &f.cfg, f.lent, sizeof(f.line[0]), f.now, &f.out);
	check(&f);
	while (i < size && !f.closed) {
		op = data[i++];
		switch (op >> 5) {
		case 0:
		case 1:
		case 2:
		case 3: /* client bytes: length in the low bits */
			len = (size_t)(op & 0x7f) + 1;
			if (len > size - i)
				len = size - i;
			if (f.pn + len > sizeof(f.pend))
				len = sizeof(f.pend) - f.pn;
			memcpy(f.pend + f.pn, data + i, len);
			f.pn += len;
			i += len;
			pump(&f);
			break;
		case 4: /* a backend reply */
			lend(&f);
			rc = smtp_backend_reply(&f.s, (const uint8_t *)replies[op % 11],
						strlen(replies[op % 11]), f.now, &f.out);
			if (rc != 0 && rc != -EPROTO && rc != -ENOBUFS)
				abort();
			check(&f);
			pump(&f);
			break;
		case 5: /* a backend event */
			lend(&f);
			smtp_backend_event(&f.s, (enum smtp_backend_ev)(op & 3), f.now, &f.out);
			check(&f);
			pump(&f);
			break;
		case 6: /* time */
			f.now += (uint64_t)(op & 0x1f) * 50;
			lend(&f);
			smtp_tick(&f.s, f.now, &f.out);
			check(&f);
			pump(&f);
			break;
		default:
			if (op & 2) {
				f.lend = !f.lend; /* the area is taken back after a call */
				if (!f.lend && f.lent == NULL)
					lend_for_good(&f);
			}
			lend(&f);
			if (op & 1)
				smtp_tls_started(&f.s, f.now, &f.out);
			else
				smtp_drain(&f.s, f.now, &f.out);
			check(&f);
			pump(&f);
			break;
		}
	}
	return 0;
}
