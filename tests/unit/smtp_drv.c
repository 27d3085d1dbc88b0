/*
 * smtp_drv.c — the script driver (see smtp_drv.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_drv.h"

#define TXT_MAX (256 * 1024)

struct txt {
	char b[TXT_MAX];
	size_t n;
};

struct drv {
	struct smtp_sess s;
	struct smtp_cfg cfg;
	_Alignas(struct smtp_work) uint8_t line[SMTP_WORK_SIZE(SCAN_LINE_MAX_AUTH)];
	/* lend mode: the two work areas alternate */
	_Alignas(struct smtp_work) uint8_t line2[SMTP_WORK_SIZE(SCAN_LINE_MAX_AUTH)];
	int lend;                    /* lend mode: 1 eager, 2 only on SMTP_ACT_NEED_WORK */
	uint8_t *lent;               /* the area lent now, or NULL */
	unsigned lends;              /* how many times an area was lent */
	uint8_t helo[SMTP_HELO_MAX]; /* the caller's copy (SMTP_ACT_HELO) */
	size_t helo_len;
	uint8_t pend[64 * 1024];
	size_t pn;
	uint64_t now;
	uint64_t deadline;
	uint8_t tls_busy; /* DRV_TLS_BUSY */
	int closed;
	int bad; /* an invariant failed */
	char why[200];
	/* out buffers */
	uint8_t obuf[SMTP_OUT_MIN];
	struct smtp_span fwd[64];
	uint8_t fbuf[SMTP_FWD_BUF_MIN + 64];
	struct smtp_out out;
	struct txt cli, bk, act;
};

static const char *close_names[] = { "none",    "quit",    "nonsmtp",  "pregreet", "errors",
				     "timeout", "backend", "shutdown", "msgs",     "limit",
				     "denied" };

static void txt_add(struct txt *t, const void *p, size_t n)
{
	if (t->n + n > sizeof(t->b))
		n = sizeof(t->b) - t->n;
	memcpy(t->b + t->n, p, n);
	t->n += n;
}

static void txt_str(struct txt *t, const char *s)
{
	txt_add(t, s, strlen(s));
}

static void out_init(struct drv *d)
{
	memset(&d->out, 0, sizeof(d->out));
	d->out.buf = d->obuf;
	d->out.cap = sizeof(d->obuf);
	d->out.fwd = d->fwd;
	d->out.fwd_cap = sizeof(d->fwd) / sizeof(d->fwd[0]);
	d->out.fwd_buf = d->fbuf;
	d->out.fwd_buf_cap = sizeof(d->fbuf);
	smtp_out_reset(&d->out);
}

static void fail(struct drv *d, const char *why)
{
	if (!d->bad)
		snprintf(d->why, sizeof(d->why), "%s", why);
	d->bad = 1;
}

/*
 * Lend mode (smtp.h, work areas): a fresh area, alternating between two
 * and filled with garbage, is lent whenever the session has none, so a core
 * that relied on bytes from an earlier lending, or on the pointer, fails.
 */
static void lend(struct drv *d)
{
	uint8_t *b;

	if (!d->lend || d->lent != NULL)
		return;
	b = d->lends++ & 1 ? d->line2 : d->line;
	for (size_t i = 0; i < sizeof(d->line); i++)
		b[i] = (uint8_t)(0xa5 ^ (i * 31) ^ d->lends);
	smtp_work_lend(&d->s, b, sizeof(d->line));
	d->lent = b;
}

/*
 * After every call: keep the EHLO/HELO argument the core handed over (it
 * points into the area, which may be taken back next); then, in lend mode,
 * take the area back unless it is busy.
 */
static void unlend(struct drv *d)
{
	const struct smtp_out *o = &d->out;

	if (o->actions & SMTP_ACT_HELO) {
		if (o->helo_len > sizeof(d->helo) || (o->helo_len && o->helo == NULL))
			fail(d, "bad SMTP_ACT_HELO");
		else if (o->helo_len)
			memcpy(d->helo, o->helo, o->helo_len);
		d->helo_len = o->helo_len <= sizeof(d->helo) ? o->helo_len : 0;
	}
	if (!d->lend)
		return;
	if (d->lent == NULL) {
		if (smtp_work_busy(&d->s))
			fail(d, "busy without an area");
		return;
	}
	if (smtp_work_busy(&d->s))
		return;
	smtp_work_lend(&d->s, NULL, 0);
	d->lent = NULL;
}

/* Collects what one call produced, checking the invariants. */
static void collect(struct drv *d)
{
	struct smtp_out *o = &d->out;
	uint32_t a = o->actions, i;
	char tmp[600];

	if (o->len > o->cap)
		fail(d, "out.len > cap");
	if (d->closed && (o->len || o->fwd_n || (a & ~(SMTP_ACT_PAUSE | SMTP_ACT_MORE))))
		fail(d, "output after CLOSE");
	txt_add(&d->cli, o->buf, o->len);
	for (i = 0; i < o->fwd_n; i++)
		txt_add(&d->bk, o->fwd[i].p, o->fwd[i].len);
	if (a & SMTP_ACT_BACKEND_ABORT)
		txt_str(&d->act, "ABORT ");
	if (a & SMTP_ACT_DATA_END)
		txt_str(&d->act, "DATA_END ");
	if (a & SMTP_ACT_RELAY) {
		snprintf(tmp, sizeof(tmp), "RELAY(%s:%.*s) ", o->relay_ehlo ? "ehlo" : "helo",
			 (int)d->helo_len, (const char *)d->helo);
		txt_str(&d->act, tmp);
	}
	if (a & SMTP_ACT_STARTTLS)
		txt_str(&d->act, "STARTTLS ");
	if (a & SMTP_ACT_BACKEND_QUIT)
		txt_str(&d->act, "BQUIT ");
	if (a & SMTP_ACT_CLOSE) {
		snprintf(tmp, sizeof(tmp), "CLOSE(%s%s%s) ",
			 o->close_reason < sizeof(close_names) / sizeof(close_names[0]) ? close_names[o->close_reason] : "?",
			 o->sig ? "," : "", o->sig ? scan_sig_name((enum scan_sig)o->sig) : "");
		txt_str(&d->act, tmp);
		d->closed = 1;
	}
	if (o->fwd_body > o->fwd_n)
		fail(d, "fwd_body > fwd_n");
	/* every command span is whole CRLF-ended lines */
	for (i = o->fwd_body; i < o->fwd_n; i++)
		if (o->fwd[i].len < 2 || memcmp(o->fwd[i].p + o->fwd[i].len - 2, "\r\n", 2) != 0)
			fail(d, "a forwarded command span does not end a line");
	if (a & SMTP_ACT_DATA_END) {
		/* the body part, and only it, ends with the final dot */
		const struct smtp_span *b = o->fwd_body ? &o->fwd[o->fwd_body - 1] : NULL;

		if (b == NULL || b->len < 3 || memcmp(b->p + b->len - 3, ".\r\n", 3) != 0)
			fail(d, "DATA_END without the final dot ending the body spans");
	} else if (o->fwd_body && d->s.state != SMTP_S_DATA && !(a & SMTP_ACT_BACKEND_ABORT)) {
		fail(d, "body spans outside DATA without DATA_END or ABORT");
	}
	d->deadline = o->deadline;
	out_init(d);
}

/* Offers the pending client bytes until the core makes no more progress. */
static void pump(struct drv *d)
{
	int guard = 0;
	size_t r;
	uint32_t a;

	for (;;) {
		if (++guard > 100000) {
			fail(d, "pump does not terminate");
			return;
		}
		if (d->lend == 1)
			lend(d);
		d->out.tls_busy = d->tls_busy;
		r = smtp_input(&d->s, d->pend, d->pn, d->now, &d->out);
		a = d->out.actions;
		unlend(d);
		if (a & SMTP_ACT_NEED_WORK) {
			if (d->lend != 2 || d->lent != NULL)
				fail(d, "NEED_WORK with an area lent");
			else
				lend(d);
			a |= SMTP_ACT_MORE; /* call again, now with a buffer */
		}
		if (r > d->pn) {
			fail(d, "consumed more than offered");
			r = d->pn;
		}
		collect(d);
		memmove(d->pend, d->pend + r, d->pn - r);
		d->pn -= r;
		if (a & (SMTP_ACT_STARTTLS | SMTP_ACT_CLOSE))
			d->pn = 0; /* the caller drops the rest (CVE-2011-0411) */
		if (a & SMTP_ACT_MORE)
			continue;
		if (r == 0 || d->pn == 0)
			return;
	}
}

static void client(struct drv *d, const char *p, size_t n)
{
	if (d->closed)
		return;
	if (d->pn + n > sizeof(d->pend)) {
		fail(d, "pending overflow");
		return;
	}
	memcpy(d->pend + d->pn, p, n);
	d->pn += n;
	pump(d);
}

static void backend(struct drv *d, const char *p, size_t n)
{
	int rc, guard = 0;

	if (d->closed)
		return;
	for (;;) {
		if (d->lend == 1)
			lend(d);
		rc = smtp_backend_reply(&d->s, (const uint8_t *)p, n, d->now, &d->out);
		unlend(d);
		collect(d);
		if (rc != -ENOBUFS || ++guard > 10)
			break;
		pump(d);
	}
	if (rc == -EPROTO)
		txt_str(&d->act, "EPROTO ");
	else if (rc != 0)
		fail(d, "backend reply refused");
	pump(d);
}

/* Before and after the calls other than smtp_input (lend mode). */
static void pre(struct drv *d)
{
	if (d->lend == 1)
		lend(d);
}

/* mode: 0 whole, 1 byte by byte, k >= 2: cut at k-1. lend_mode: 0 the
 * buffer stays lent, 1 and 2 see struct drv. */
static void run(struct drv *d, const struct drv_case *tc, const struct scan_kernels *k, size_t mode,
		int lend_mode)
{
	const struct drv_step *st;
	const char *why = NULL;
	size_t cut, i;

	memset(d, 0, sizeof(*d));
	smtp_cfg_defaults(&d->cfg, "mx.test", k);
	if (tc->tweak)
		tc->tweak(&d->cfg);
	if (smtp_cfg_init(&d->cfg, &why) != 0) {
		fail(d, why ? why : "cfg");
		return;
	}
	out_init(d);
	d->now = 1000;
	d->lend = lend_mode;
	smtp_start(&d->s, &d->cfg, lend_mode ? NULL : d->line, sizeof(d->line), d->now, &d->out);
	collect(d);
	for (st = tc->steps; st->kind != DRV_END; st++) {
		switch (st->kind) {
		case DRV_CLIENT:
			if (mode == 0 || st->n < 2) {
				client(d, st->s, st->n);
			} else if (mode == 1) {
				for (i = 0; i < st->n; i++)
					client(d, st->s + i, 1);
			} else {
				cut = mode - 1 < st->n ? mode - 1 : st->n;
				client(d, st->s, cut);
				client(d, st->s + cut, st->n - cut);
			}
			break;
		case DRV_BACKEND:
			backend(d, st->s, st->n);
			break;
		case DRV_BACKEND_N:
			for (i = 0; i < st->v; i++)
				backend(d, st->s, st->n);
			break;
		case DRV_EVENT:
			if (!d->closed) {
				pre(d);
				smtp_backend_event(&d->s, (enum smtp_backend_ev)st->v, d->now,
						   &d->out);
				unlend(d);
				collect(d);
				pump(d);
			}
			break;
		case DRV_TIME:
			d->now += st->v;
			if (!d->closed) {
				pre(d);
				smtp_tick(&d->s, d->now, &d->out);
				unlend(d);
				collect(d);
				pump(d);
			}
			break;
		case DRV_TLS_BUSY:
			d->tls_busy = (uint8_t)st->v;
			break;
		case DRV_TLS:
			if (!d->closed) {
				pre(d);
				smtp_tls_started(&d->s, d->now, &d->out);
				unlend(d);
				collect(d);
				pump(d);
			}
			break;
		case DRV_DRAIN:
			if (!d->closed) {
				pre(d);
				smtp_drain(&d->s, d->now, &d->out);
				unlend(d);
				collect(d);
				pump(d);
			}
			break;
		}
	}
}

static void show(const char *what, const char *p, size_t n)
{
	size_t i;

	fprintf(stderr, "    %s (%zu): \"", what, n);
	for (i = 0; i < n && i < 3000; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			fputs("\\r", stderr);
		else if (c == '\n')
			fputs("\\n", stderr);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fputs("\"\n", stderr);
}

static int same(const struct txt *t, const char *exp, size_t en)
{
	return t->n == en && memcmp(t->b, exp, en) == 0;
}

int drv_run_case(const struct drv_case *tc)
{
	static struct drv ref, d;
	const struct scan_kernels *k;
	size_t maxn = 0, mode;
	const struct drv_step *st;
	int lvl, lm, run_i, ok = 1;

	for (st = tc->steps; st->kind != DRV_END; st++)
		if (st->kind == DRV_CLIENT && st->n > maxn)
			maxn = st->n;
	run(&ref, tc, scan_kernels_get(SCAN_SCALAR), 0, 0);
	if (ref.bad || !same(&ref.cli, tc->cli, strlen(tc->cli)) ||
	    !same(&ref.bk, tc->bk, strlen(tc->bk)) || !same(&ref.act, tc->act, strlen(tc->act))) {
		fprintf(stderr, "FAIL %s (whole)%s%s\n", tc->name, ref.bad ? ": " : "",
			ref.bad ? ref.why : "");
		show("client got ", ref.cli.b, ref.cli.n);
		show("client want", tc->cli, strlen(tc->cli));
		show("backend got ", ref.bk.b, ref.bk.n);
		show("backend want", tc->bk, strlen(tc->bk));
		show("actions got ", ref.act.b, ref.act.n);
		show("actions want", tc->act, strlen(tc->act));
		return 1;
	}
	for (run_i = 0; run_i < 3 * SCAN_LEVEL_COUNT && ok; run_i++) {
		lvl = run_i % SCAN_LEVEL_COUNT;
		lm = run_i / SCAN_LEVEL_COUNT;
		k = scan_kernels_get((enum scan_level)lvl);
		if (!k)
			continue;
		for (mode = 0; mode <= maxn && ok; mode++) {
			if (lvl > 0 && mode > 1)
				break; /* cuts once, with the scalar reference */
			run(&d, tc, k, mode, lm);
			if (d.bad || !same(&d.cli, ref.cli.b, ref.cli.n) ||
			    !same(&d.bk, ref.bk.b, ref.bk.n) ||
			    !same(&d.act, ref.act.b, ref.act.n)) {
				fprintf(stderr, "FAIL %s (%s%s, %s %zu)%s%s\n", tc->name, k->name,
					lm == 1   ? ", lend"
					: lm == 2 ? ", lend on need"
						  : "",
					mode == 0   ? "whole"
					: mode == 1 ? "bytes"
						    : "cut",
					mode > 1 ? mode - 1 : 0, d.bad ? ": " : "",
					d.bad ? d.why : "");
				show("client got ", d.cli.b, d.cli.n);
				show("client whole", ref.cli.b, ref.cli.n);
				show("backend got ", d.bk.b, d.bk.n);
				show("backend whole", ref.bk.b, ref.bk.n);
				show("actions got ", d.act.b, d.act.n);
				show("actions whole", ref.act.b, ref.act.n);
				ok = 0;
			}
		}
	}
	return !ok;
}

int drv_run_cases(const struct drv_case *tc, size_t n, const char *suite)
{
	size_t i;
	int failed = 0;

	for (i = 0; i < n; i++)
		failed += drv_run_case(&tc[i]);
	printf("%s: %zu cases, %zu passed, %d failed\n", suite, n, n - (size_t)failed, failed);
	return failed;
}
