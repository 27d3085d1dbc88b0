/*
 * test_scan.c — dispatch and the command-line assembler.
 *
 * scan_line_feed is checked against a byte-at-a-time model written here
 * from the header's contract, for every kernel level, with the input fed
 * whole, byte by byte and cut in every two pieces (three for short ones).
 * Every piece and the line buffer sit against PROT_NONE pages.
 */
#include <errno.h>
#include <strings.h>

#include "check.h"
#include "scan.h"

static const struct scan_kernels *lv[SCAN_LEVEL_COUNT];
static int nlv;

/* ---- Dispatch ------------------------------------------------------------ */

static void test_dispatch(void)
{
	static const char *const names[] = { "scalar", "sse42", "avx2", "avx512" };
	const struct scan_kernels *k, *best = NULL;
	int err, i;

	for (i = 0; i < SCAN_LEVEL_COUNT; i++) {
		k = scan_kernels_get((enum scan_level)i);
		if (!k)
			continue;
		CHECK_EQ(k->level, i);
		CHECK(!strcmp(k->name, names[i]));
		CHECK(k->find_ctl && k->find_data && k->line_feed);
		lv[nlv++] = k;
		/* "auto" takes AVX-512 only with AVX512-VBMI2 (scan.h) */
		if (i <= SCAN_AVX2 || __builtin_cpu_supports("avx512vbmi2"))
			best = k;
		err = 1;
		CHECK(scan_pick(names[i], &err) == k);
		CHECK_EQ(err, 0);
	}
	CHECK(scan_kernels_get(SCAN_SCALAR) != NULL);
	CHECK(scan_kernels_get(SCAN_LEVEL_COUNT) == NULL);
	CHECK(scan_kernels_get((enum scan_level) - 1) == NULL);

	err = 1;
	CHECK(scan_pick(NULL, &err) == best);
	CHECK_EQ(err, 0);
	CHECK(scan_pick("", &err) == best);
	CHECK(scan_pick("auto", &err) == best);
	CHECK(scan_pick("AVX2", &err) == scan_kernels_get(SCAN_AVX2));
	CHECK(scan_pick(NULL, NULL) == best);
	CHECK(scan_pick("avx3", &err) == NULL);
	CHECK_EQ(err, -EINVAL);
	CHECK(scan_pick("avx3", NULL) == NULL);
	for (i = 0; i < SCAN_LEVEL_COUNT; i++) {
		if (scan_kernels_get((enum scan_level)i))
			continue;
		CHECK(scan_pick(names[i], &err) == NULL);
		CHECK_EQ(err, -ENOTSUP);
	}
	printf("levels on this CPU:");
	for (i = 0; i < nlv; i++)
		printf(" %s", lv[i]->name);
	printf("; auto picks %s\n", best ? best->name : "nothing");
}

/* ---- Line assembler: model ------------------------------------------- */

#define EV_MAX 4

struct outcome {
	int nev;
	int ev[EV_MAX];
	size_t at[EV_MAX]; /* input offset just after each event */
	uint32_t len, kept;
	uint16_t flags;
	uint8_t cr;
	uint8_t buf[SCAN_LINE_MAX_AUTH];
};

static void out_event(struct outcome *o, int ev, size_t at)
{
	if (o->nev < EV_MAX) {
		o->ev[o->nev] = ev;
		o->at[o->nev] = at;
	}
	o->nev++;
}

/* The contract, one byte at a time, with no kernel and no shortcuts. */
static void model_feed(const uint8_t *in, size_t n, uint32_t limit, struct outcome *o)
{
	uint32_t cap = limit - 2;
	int cr = 0, dropping = 0;
	size_t i;
	uint8_t c;

	memset(o, 0, offsetof(struct outcome, buf));
	for (i = 0; i < n; i++) {
		c = in[i];
		if (dropping) {
			if (c == '\n') {
				out_event(o, SCAN_LINE_END, i + 1);
				return;
			}
			continue;
		}
		if (cr) {
			cr = 0;
			if (c == '\n') {
				out_event(o, SCAN_LINE_END, i + 1);
				return;
			}
			o->flags |= SCAN_L_BARECR;
			if (o->len < cap)
				o->buf[o->kept++] = '\r';
			if (++o->len > cap) {
				o->flags |= SCAN_L_LONG;
				out_event(o, SCAN_LINE_OVERFLOW, i);
				dropping = 1;
				continue; /* c is not LF: dropped */
			}
		}
		if (c == '\n') {
			o->flags |= SCAN_L_BARELF;
			out_event(o, SCAN_LINE_END, i + 1);
			return;
		}
		if (c == '\r') {
			cr = 1;
			continue;
		}
		if (c == 0)
			o->flags |= SCAN_L_NUL;
		else if (c < 0x20 || c == 0x7f)
			o->flags |= SCAN_L_CTL;
		else if (c >= 0x80)
			o->flags |= SCAN_L_HIGH;
		if (o->len < cap)
			o->buf[o->kept++] = c;
		if (++o->len > cap) {
			o->flags |= SCAN_L_LONG;
			out_event(o, SCAN_LINE_OVERFLOW, i + 1);
			dropping = 1;
		}
	}
	o->cr = (uint8_t)cr;
}

/* ---- Line assembler: the real thing, cut into pieces --------------------- */

static struct check_guard g_in, g_buf;

/* At SCAN_LINE_END the verb found by the scan is scan_verb's on the buffer. */
static void verb_check(const struct scan_line *l, const uint8_t *buf)
{
	size_t a1 = 7, a2 = 9;
	enum scan_verb v;

	if (l->flags & SCAN_L_LONG)
		return;
	v = scan_verb(buf, l->kept, &a1);
	if (!CHECK_EQ(scan_line_verb(l, &a2), v) && check_show())
		fprintf(stderr, "  verb of %u bytes: %.*s\n", l->kept, (int)l->kept, buf);
	CHECK_EQ(a2, a1);
}

/*
 * Feeds in[0..n) to scan_line_feed in pieces [cut[i], cut[i+1]), each copied
 * against a guard page, until the line ends. Checks *used on every call.
 */
static void real_feed(const struct scan_kernels *k, const uint8_t *in, size_t n, uint32_t limit,
		      const size_t *cuts, int ncuts, struct outcome *o)
{
	struct scan_line l;
	uint8_t *buf = g_buf.lo + g_buf.size - (limit - 2);
	size_t start = 0, end, off, used, plen;
	const uint8_t *piece;
	int c, ev, calls = 0;

	memset(o, 0, offsetof(struct outcome, buf));
	scan_line_reset(&l, limit);
	for (c = 0; c <= ncuts; c++) {
		end = c < ncuts ? cuts[c] : n;
		plen = end - start;
		piece = check_guard_end(&g_in, in + start, plen);
		off = 0;
		for (;;) {
			used = (size_t)-1;
			ev = scan_line_feed(&l, k, piece + off, plen - off, buf, &used);
			if (!CHECK(used <= plen - off) || ++calls > 100000)
				goto out;
			off += used;
			if (ev == SCAN_LINE_MORE) {
				CHECK_EQ(off, plen);
				break;
			}
			out_event(o, ev, start + off);
			if (ev == SCAN_LINE_END) {
				verb_check(&l, buf);
				goto out;
			}
		}
		start = end;
	}
out:
	o->len = l.len;
	o->kept = l.kept;
	o->flags = l.flags;
	o->cr = l.cr;
	CHECK(l.kept <= limit - 2);
	memcpy(o->buf, buf, l.kept <= limit - 2 ? l.kept : limit - 2);
}

static int same(const struct outcome *a, const struct outcome *b)
{
	int i;

	if (a->nev != b->nev || a->len != b->len || a->kept != b->kept || a->flags != b->flags ||
	    a->cr != b->cr)
		return 0;
	for (i = 0; i < a->nev && i < EV_MAX; i++)
		if (a->ev[i] != b->ev[i] || a->at[i] != b->at[i])
			return 0;
	return !memcmp(a->buf, b->buf, a->kept);
}

static void show(const char *what, const struct outcome *o)
{
	int i;

	fprintf(stderr, "  %s: len=%u kept=%u flags=%#x cr=%u events", what, o->len, o->kept,
		o->flags, o->cr);
	for (i = 0; i < o->nev && i < EV_MAX; i++)
		fprintf(stderr, " %d@%zu", o->ev[i], o->at[i]);
	fprintf(stderr, "\n");
}

static void show_input(const uint8_t *in, size_t n, uint32_t limit)
{
	size_t i;

	fprintf(stderr, "  input (%zu bytes, limit %u):", n, limit);
	for (i = 0; i < n && i < 48; i++)
		fprintf(stderr, " %02x", in[i]);
	fprintf(stderr, "%s\n", n > 48 ? " ..." : "");
}

static struct outcome o_model, o_real;

/* One cut pattern, every level: must equal the model. */
static void cut_check(const uint8_t *in, size_t n, uint32_t limit, const size_t *cuts, int ncuts)
{
	int i;

	for (i = 0; i < nlv; i++) {
		real_feed(lv[i], in, n, limit, cuts, ncuts, &o_real);
		if (!CHECK(same(&o_model, &o_real)) && check_show()) {
			fprintf(stderr, "  level %s, %d cuts:", lv[i]->name, ncuts);
			for (int c = 0; c < ncuts; c++)
				fprintf(stderr, " %zu", cuts[c]);
			fprintf(stderr, "\n");
			show_input(in, n, limit);
			show("model", &o_model);
			show("real", &o_real);
		}
	}
}

static size_t cutbuf[SCAN_LINE_MAX_AUTH + 64];

/* Whole, byte by byte, every two-piece cut, and every three-piece cut if short. */
static void line_check(const uint8_t *in, size_t n, uint32_t limit)
{
	size_t a, b;

	model_feed(in, n, limit, &o_model);
	cut_check(in, n, limit, NULL, 0);
	for (a = 1; a < n; a++)
		cutbuf[a - 1] = a;
	if (n > 1)
		cut_check(in, n, limit, cutbuf, (int)n - 1);
	for (a = 0; a <= n; a++) {
		cutbuf[0] = a;
		cut_check(in, n, limit, cutbuf, 1);
	}
	if (n > 24)
		return;
	for (a = 0; a <= n; a++)
		for (b = a; b <= n; b++) {
			cutbuf[0] = a;
			cutbuf[1] = b;
			cut_check(in, n, limit, cutbuf, 2);
		}
}

/* The model itself against hand-written expectations. */
static void expect(const char *in, size_t n, uint32_t limit, int ev0, size_t at0, int ev1,
		   size_t at1, const char *buf, size_t kept, unsigned flags)
{
	struct outcome *o = &o_model;

	model_feed((const uint8_t *)in, n, limit, o);
	CHECK_EQ(o->nev, (ev0 >= 0) + (ev1 >= 0));
	if (ev0 >= 0) {
		CHECK_EQ(o->ev[0], ev0);
		CHECK_EQ(o->at[0], at0);
	}
	if (ev1 >= 0) {
		CHECK_EQ(o->ev[1], ev1);
		CHECK_EQ(o->at[1], at1);
	}
	CHECK_EQ(o->kept, kept);
	CHECK_EQ(o->flags, flags);
	if (buf && !CHECK_MEM(o->buf, o->kept, buf, kept) && check_show())
		show_input((const uint8_t *)in, n, limit);
	line_check((const uint8_t *)in, n, limit);
}

#define L(s) s, sizeof(s) - 1
enum { NO = -1, MORE = SCAN_LINE_MORE, END = SCAN_LINE_END, OVER = SCAN_LINE_OVERFLOW };

static void test_lines_hand(void)
{
	expect(L("EHLO x\r\n"), 512, END, 8, NO, 0, "EHLO x", 6, 0);
	expect(L("EHLO x\r\nQUIT\r\n"), 512, END, 8, NO, 0, "EHLO x", 6, 0);
	expect(L("EHLO x\n"), 512, END, 7, NO, 0, "EHLO x", 6, SCAN_L_BARELF);
	expect(L("\r\n"), 512, END, 2, NO, 0, "", 0, 0);
	expect(L("\n"), 512, END, 1, NO, 0, "", 0, SCAN_L_BARELF);
	expect(L("A\rB\r\n"), 512, END, 5, NO, 0, "A\rB", 3, SCAN_L_BARECR);
	expect(L("A\r\r\n"), 512, END, 4, NO, 0, "A\r", 2, SCAN_L_BARECR);
	expect(L("\r\r\r\n"), 512, END, 4, NO, 0, "\r\r", 2, SCAN_L_BARECR);
	expect(L("A\rB\n"), 512, END, 4, NO, 0, "A\rB", 3, SCAN_L_BARECR | SCAN_L_BARELF);
	expect(L("A\0B\r\n"), 512, END, 5, NO, 0, "A\0B", 3, SCAN_L_NUL);
	expect(L("A\tB\r\n"), 512, END, 5, NO, 0, "A\tB", 3, SCAN_L_CTL);
	expect(L("A\x7f\r\n"), 512, END, 4, NO, 0, "A\x7f", 2, SCAN_L_CTL);
	expect(L("\x01\x1f\r\n"), 512, END, 4, NO, 0, "\x01\x1f", 2, SCAN_L_CTL);
	expect(L("h\xc3\xa9\r\n"), 512, END, 5, NO, 0, "h\xc3\xa9", 3, SCAN_L_HIGH);
	expect(L("\x80\xff\x7e\x20\r\n"), 512, END, 6, NO, 0, "\x80\xff\x7e\x20", 4, SCAN_L_HIGH);
	expect(L("a\r\0\n"), 512, END, 4, NO, 0, "a\r\0", 3,
	       SCAN_L_BARECR | SCAN_L_NUL | SCAN_L_BARELF);
	expect(L("EHLO x"), 512, NO, 0, NO, 0, "EHLO x", 6, 0);
	expect(L("EHLO x\r"), 512, NO, 0, NO, 0, "EHLO x", 6, 0);
	CHECK_EQ(o_model.cr, 1);
	expect(L(""), 512, NO, 0, NO, 0, "", 0, 0);
	/* limit 3: one content byte */
	expect(L("a\r\n"), 3, END, 3, NO, 0, "a", 1, 0);
	expect(L("ab\r\n"), 3, OVER, 2, END, 4, "a", 1, SCAN_L_LONG);
	expect(L("a\r\r\n"), 3, OVER, 2, END, 4, "a", 1, SCAN_L_LONG | SCAN_L_BARECR);
	expect(L("a\rb\n"), 3, OVER, 2, END, 4, "a", 1, SCAN_L_LONG | SCAN_L_BARECR);
	expect(L("\r\r\n"), 3, END, 3, NO, 0, "\r", 1, SCAN_L_BARECR);
	expect(L("a\n"), 3, END, 2, NO, 0, "a", 1, SCAN_L_BARELF);
	/* what follows the overflow adds no flags */
	expect(L("ab\xff\0\x01\r\r\n"), 3, OVER, 2, END, 8, "a", 1, SCAN_L_LONG);
	expect(L("a\xff\r\n"), 3, OVER, 2, END, 4, "a", 1, SCAN_L_LONG | SCAN_L_HIGH);
	expect(L("a\0\r\n"), 3, OVER, 2, END, 4, "a", 1, SCAN_L_LONG | SCAN_L_NUL);
	expect(L("abc"), 3, OVER, 2, NO, 0, "a", 1, SCAN_L_LONG);
}

/* content bytes of 'x' (with a twist), then the tail, at one limit */
static void limit_case(uint32_t limit, size_t content, const char *tail, size_t tlen)
{
	static uint8_t in[SCAN_LINE_MAX_AUTH + 64];
	size_t n = content + tlen, i;

	for (i = 0; i < content; i++)
		in[i] = (uint8_t)('a' + i % 26);
	memcpy(in + content, tail, tlen);
	model_feed(in, n, limit, &o_model);
	/* the whole and byte-by-byte feeds plus cuts near the interesting spots */
	cut_check(in, n, limit, NULL, 0);
	for (i = 0; i < n; i++)
		cutbuf[i] = i + 1;
	cut_check(in, n, limit, cutbuf, (int)n - 1);
	for (i = 0; i <= n; i++) {
		if (i > 64 && i + 64 < limit && i % 61)
			continue;
		cutbuf[0] = i;
		cut_check(in, n, limit, cutbuf, 1);
	}
}

static void test_lines_limits(void)
{
	static const uint32_t limits[] = { SCAN_LINE_MAX, SCAN_LINE_MAX_PARAMS,
					   SCAN_LINE_MAX_AUTH };
	uint32_t lim;
	int i;

	for (i = 0; i < 3; i++) {
		lim = limits[i];
		limit_case(lim, lim - 2, L("\r\n"));
		CHECK_EQ(o_model.nev, 1);
		CHECK_EQ(o_model.ev[0], SCAN_LINE_END);
		CHECK_EQ(o_model.len, lim - 2);
		limit_case(lim, lim - 2, L("\n"));
		CHECK_EQ(o_model.flags, SCAN_L_BARELF);
		limit_case(lim, lim - 1, L("\r\n"));
		CHECK_EQ(o_model.nev, 2);
		CHECK_EQ(o_model.ev[0], SCAN_LINE_OVERFLOW);
		CHECK_EQ(o_model.at[0], lim - 1);
		CHECK_EQ(o_model.ev[1], SCAN_LINE_END);
		CHECK_EQ(o_model.at[1], lim + 1);
		CHECK_EQ(o_model.flags, SCAN_L_LONG);
		CHECK_EQ(o_model.kept, lim - 2);
		limit_case(lim, lim - 2, L("\rX\r\n"));
		CHECK_EQ(o_model.ev[0], SCAN_LINE_OVERFLOW);
		CHECK_EQ(o_model.at[0], lim - 1);
		CHECK_EQ(o_model.flags, SCAN_L_LONG | SCAN_L_BARECR);
		limit_case(lim, lim - 3, L("\r\r\n"));
		CHECK_EQ(o_model.nev, 1);
		CHECK_EQ(o_model.flags, SCAN_L_BARECR);
		limit_case(lim, lim - 1, L("\xff\x01\x7f\0\r\n"));
		CHECK_EQ(o_model.flags, SCAN_L_LONG);
		limit_case(lim, lim - 2, L("\xff\x01\r\n"));
		CHECK_EQ(o_model.flags, SCAN_L_LONG | SCAN_L_HIGH);
		limit_case(lim, lim + 40, L("\r\nEHLO"));
		CHECK_EQ(o_model.at[1], lim + 42);
		limit_case(lim, lim - 2, L("\r"));
		CHECK_EQ(o_model.nev, 0);
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random short lines from an alphabet that is mostly the special cases. */
static void test_lines_random(void)
{
	static const uint8_t alpha[] = { 'a',  'b',  ' ',  '\r', '\n', '\r', 0,   0x01,
					 0x09, 0x1f, 0x7f, 0x80, 0xff, 0x20, 0x7e };
	uint8_t in[64];
	size_t n, i;
	int t;

	for (t = 0; t < 3000; t++) {
		n = rnd() % 20;
		for (i = 0; i < n; i++)
			in[i] = alpha[rnd() % sizeof(alpha)];
		line_check(in, n, 3 + (uint32_t)(rnd() % 12));
	}
	/* longer lines, mostly clean, so the kernels' vector paths run */
	for (t = 0; t < 300; t++) {
		n = 20 + rnd() % 44;
		for (i = 0; i < n; i++)
			in[i] =
			    rnd() % 8 ? (uint8_t)('a' + rnd() % 26) : alpha[rnd() % sizeof(alpha)];
		line_check(in, n, 3 + (uint32_t)(rnd() % 70));
	}
}

/*
 * What the levels' fast paths take (a line whose first control or high byte
 * is its CR LF, within 64 bytes, with 64 bytes of room) and every near
 * miss: each content length around the vector sizes, a verb or not at the
 * start, a special byte at each position, each terminator, with and
 * without bytes after the line (n >= 64 or n exactly the line), at limits
 * on both sides of the room test. line_check feeds each whole, byte by
 * byte and cut at every point, against guard pages.
 */
static void test_lines_fast(void)
{
	static const char *const heads[] = { "",         "EHLO ",      "ehlo",        "QUIT",
					     "STARTTLS", "starttls x", "STARTTLSX",   "XCLIENT ",
					     "XFORWARD", "xclient",    "MAIL FROM:<", "RCPT",
					     "NOOP  ",   "HELO\t",     " DATA" };
	static const char *const tails[] = { "\r\n", "\n", "\rx\r\n", "\r\r\n", "\r" };
	static const uint8_t odd[] = { 0x80, 0xff, 0x00, 0x01, 0x09, 0x1f, 0x7f, '\r', '\n', ' ' };
	static const uint32_t limits[] = { 3, 20, 65, 66, 67, 80, SCAN_LINE_MAX };
	uint8_t in[200];
	size_t c, h, t, hl, tl, n, pos, o;
	int li;

	for (c = 0; c <= 70; c++) {
		if (c > 20 && c < 28)
			continue;
		for (h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
			hl = strlen(heads[h]);
			if (hl > c)
				continue;
			memcpy(in, heads[h], hl);
			for (pos = hl; pos < c; pos++)
				in[pos] = (uint8_t)('a' + pos % 26);
			for (t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
				tl = strlen(tails[t]);
				memcpy(in + c, tails[t], tl);
				/* exactly the line, then with the next line behind it */
				for (n = c + tl; n <= c + tl + 70; n += 70) {
					memset(in + c + tl, 'n', n - c - tl);
					if (n > c + tl)
						memcpy(in + c + tl, "NOOP\r\n", 6);
					for (li = 0; li < (int)(sizeof(limits) / sizeof(limits[0]));
					     li++)
						if (h == 0 || limits[li] >= 66)
							line_check(in, n, limits[li]);
				}
			}
		}
		/* one odd byte at each position of a clean line with a line behind */
		for (o = 0; o < sizeof(odd); o++)
			for (pos = 0; pos < c; pos++) {
				for (n = 0; n < c; n++)
					in[n] = (uint8_t)('A' + n % 26);
				memcpy(in, "MAIL ", c < 5 ? c : 5);
				in[pos] = odd[o];
				memcpy(in + c, "\r\nQUIT\r\n", 8);
				memset(in + c + 8, 'q', 64);
				line_check(in, c + 72, SCAN_LINE_MAX);
				if (c < 64)
					line_check(in, c + 2, 66);
			}
	}
}

/* A pipelined stream of lines: the session's loop, fed in random segments. */
static void test_lines_stream(void)
{
	static const char stream[] = "EHLO a.example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\n"
				     "DATA\r\nNOOP\r\r\n\r\nQUIT\r\n";
	static const char *const want[] = {
		"EHLO a.example", "MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA", "NOOP\r", "", "QUIT"
	};
	const struct scan_kernels *k = lv[nlv - 1];
	size_t n = sizeof(stream) - 1, off = 0, seg, used, o;
	uint8_t buf[SCAN_LINE_MAX - 2];
	struct scan_line l;
	int line = 0, t, ev;

	for (t = 0; t < 200; t++) {
		off = 0;
		line = 0;
		scan_line_reset(&l, SCAN_LINE_MAX);
		while (off < n) {
			seg = 1 + rnd() % 9;
			if (seg > n - off)
				seg = n - off;
			o = 0;
			while (o < seg) {
				ev = scan_line_feed(&l, k, (const uint8_t *)stream + off + o,
						    seg - o, buf, &used);
				o += used;
				if (ev != SCAN_LINE_END)
					continue;
				if (line < 7)
					CHECK_MEM(buf, l.kept, want[line], strlen(want[line]));
				line++;
				scan_line_reset(&l, SCAN_LINE_MAX);
			}
			off += seg;
		}
		CHECK_EQ(line, 7);
	}
	/* a struct never reset (limit 0) must not write past a 1-byte buffer */
	memset(&l, 0, sizeof(l));
	CHECK_EQ(scan_line_feed(&l, k, (const uint8_t *)"abc\r\n", 5, buf, &used),
		 SCAN_LINE_OVERFLOW);
	scan_line_reset(&l, 0);
	CHECK_EQ(l.limit, 3);
	/* the limit raised once the verb is known, as the session does */
	{
		static uint8_t big[SCAN_LINE_MAX_PARAMS], lbuf[SCAN_LINE_MAX_PARAMS - 2];
		size_t tot = 0;

		memset(big, 'm', 700);
		memcpy(big + 700, "\r\n", 2);
		scan_line_reset(&l, SCAN_LINE_MAX);
		CHECK_EQ(scan_line_feed(&l, k, big, 16, lbuf, &used), SCAN_LINE_MORE);
		l.limit = SCAN_LINE_MAX_PARAMS;
		CHECK_EQ(scan_line_feed(&l, k, big + 16, 686, lbuf, &used), SCAN_LINE_END);
		tot = 16 + used;
		CHECK_EQ(tot, 702);
		CHECK_EQ(l.kept, 700);
		CHECK_EQ(l.flags, 0);
		/* and lowered below what the line holds: overflow, nothing written */
		scan_line_reset(&l, SCAN_LINE_MAX_PARAMS);
		CHECK_EQ(scan_line_feed(&l, k, big, 600, lbuf, &used), SCAN_LINE_MORE);
		l.limit = SCAN_LINE_MAX;
		CHECK_EQ(scan_line_feed(&l, k, big + 600, 102, lbuf, &used), SCAN_LINE_OVERFLOW);
		CHECK_EQ(used, 0);
		CHECK_EQ(l.kept, 600);
		CHECK_EQ(scan_line_feed(&l, k, big + 600, 102, lbuf, &used), SCAN_LINE_END);
		CHECK_EQ(used, 102);
	}
	/* an empty feed changes nothing, even with a CR pending */
	scan_line_reset(&l, SCAN_LINE_MAX);
	CHECK_EQ(scan_line_feed(&l, k, (const uint8_t *)"a\r", 2, buf, &used), SCAN_LINE_MORE);
	CHECK_EQ(scan_line_feed(&l, k, (const uint8_t *)"", 0, buf, &used), SCAN_LINE_MORE);
	CHECK_EQ(used, 0);
	CHECK_EQ(l.cr, 1);
	CHECK_EQ(scan_line_feed(&l, k, (const uint8_t *)"\n", 1, buf, &used), SCAN_LINE_END);
	CHECK_EQ(l.len, 1);
}

int main(void)
{
	check_guard_init(&g_in, 4);
	check_guard_init(&g_buf, 4);

	test_dispatch();
	test_lines_hand();
	test_lines_limits();
	test_lines_random();
	test_lines_fast();
	test_lines_stream();

	check_guard_free(&g_buf);
	check_guard_free(&g_in);
	return check_done("test_scan");
}
