/*
 * fuzz_scan.c — libFuzzer target for the scanner.
 *
 * Input: 4 control bytes, then the bytes a client sends.
 *   c[0]       line limit (one of a few) and whether to also go byte by byte
 *   c[1..3]    seed for the segment sizes of the cut feed
 * Checks, trapping on any disagreement:
 *   - every kernel level returns what the scalar kernels return (at a few
 *     offsets, each copied into an exact-size allocation so that ASan sees
 *     any over-read);
 *   - scan_line_feed gives the same transcript (events, offsets, flags,
 *     contents) fed whole, in fuzzer-chosen segments and byte by byte, at
 *     every level;
 *   - scan_verb, scan_sig_line and scan_sig_prefix stay in range, and the
 *     prefix test never changes its mind once it has decided;
 *   - at each line end, the verb scan_line_feed found (scan_line_verb) is
 *     scan_verb's on the assembled line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c)                                                                                  \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static const uint32_t limits[] = {
	3, 4, 7, 16, SCAN_LINE_MAX, SCAN_LINE_MAX_PARAMS, SCAN_LINE_MAX_AUTH
};

/* Returns a copy of p[off..off+n) in an allocation of exactly n bytes. */
static uint8_t *exact(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	ASSERT(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

static void kernels(const uint8_t *p, size_t n)
{
	const struct scan_kernels *ref = scan_kernels_get(SCAN_SCALAR), *k;
	unsigned f0, f1;
	size_t r0;
	int l;

	f0 = 0;
	r0 = ref->find_ctl(p, n, &f0);
	ASSERT(r0 <= n && (f0 & ~SCAN_K_HIGH) == 0);
	for (l = SCAN_SCALAR + 1; l < SCAN_LEVEL_COUNT; l++) {
		k = scan_kernels_get((enum scan_level)l);
		if (!k)
			continue;
		f1 = 0;
		ASSERT(k->find_ctl(p, n, &f1) == r0);
		ASSERT(f1 == f0);
		ASSERT(k->find_data(p, n) == ref->find_data(p, n));
	}
}

/* A running digest of a feed's transcript. */
struct digest {
	uint64_t h;
	size_t lines;
};

static void mix(struct digest *d, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		d->h = (d->h ^ b[i]) * 0x100000001b3ull;
}

static void line_done(struct digest *d, const struct scan_line *l, int ev, size_t pos,
		      const uint8_t *buf)
{
	uint64_t rec[6] = { (uint64_t)ev, pos, l->len, l->kept, l->flags, l->cr };
	size_t arg;
	enum scan_verb v;
	enum scan_sig s;

	ASSERT(l->kept <= l->limit - 2);
	mix(d, rec, sizeof(rec));
	if (ev != SCAN_LINE_END)
		return;
	mix(d, buf, l->kept);
	d->lines++;
	v = scan_verb(buf, l->kept, &arg);
	ASSERT((unsigned)v < SCAN_V_COUNT && arg <= l->kept);
	if (!(l->flags & SCAN_L_LONG)) {
		size_t arg2 = 0;

		/* the verb the scan found on the way (levels' fast paths) */
		ASSERT(scan_line_verb(l, &arg2) == v && arg2 == arg);
	}
	s = scan_sig_line(buf, l->kept, l->flags);
	ASSERT(s != SCAN_SIG_PENDING && (unsigned)s < SCAN_SIG_COUNT);
}

/*
 * Feeds p[0..n) as a stream of lines in segments: step 0 = whole, step 1 =
 * byte by byte, otherwise sizes from the xorshift seed.
 */
static void feed(const struct scan_kernels *k, const uint8_t *p, size_t n, uint32_t limit,
		 uint32_t seed, int step, struct digest *d)
{
	uint8_t *buf = malloc(limit - 2), *seg;
	struct scan_line l;
	size_t off = 0, len, o, used;
	int ev, calls = 0;

	ASSERT(buf);
	memset(d, 0, sizeof(*d));
	scan_line_reset(&l, limit);
	while (off < n) {
		if (step == 0) {
			len = n - off;
		} else if (step == 1) {
			len = 1;
		} else {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			len = 1 + seed % (seed & 0x100 ? 700 : 9);
			if (len > n - off)
				len = n - off;
		}
		seg = exact(p + off, len);
		o = 0;
		for (;;) {
			ev = scan_line_feed(&l, k, seg + o, len - o, buf, &used);
			ASSERT(used <= len - o);
			ASSERT(++calls < 4 * (int)n + 16);
			o += used;
			if (ev == SCAN_LINE_MORE) {
				ASSERT(o == len);
				break;
			}
			line_done(d, &l, ev, off + o, buf);
			if (ev == SCAN_LINE_END)
				scan_line_reset(&l, limit);
		}
		free(seg);
		off += len;
	}
	line_done(d, &l, SCAN_LINE_MORE, n, buf);
	free(buf);
}

static void prefix(const uint8_t *p, size_t n)
{
	enum scan_sig first = SCAN_SIG_PENDING, r;
	uint8_t *q;
	size_t k;

	for (k = 1; k <= n && k <= 20; k++) {
		q = exact(p, k);
		r = scan_sig_prefix(q, k);
		free(q);
		ASSERT((unsigned)r < SCAN_SIG_COUNT);
		if (first == SCAN_SIG_PENDING)
			first = r;
		else
			ASSERT(r == first);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct scan_kernels *k;
	struct digest whole, cut, other;
	uint32_t limit, seed;
	size_t n, off;
	uint8_t *p;
	int l;

	if (size < 4)
		return 0;
	limit = limits[data[0] % (sizeof(limits) / sizeof(limits[0]))];
	seed = (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3] | 1;
	n = size - 4;

	/* kernels at a few offsets and lengths, each in its own allocation */
	for (off = 0; off < 4 && off <= n; off++) {
		p = exact(data + 4 + off, n - off);
		kernels(p, n - off);
		if (n - off)
			kernels(p, n - off - 1);
		free(p);
	}

	k = scan_kernels_get(SCAN_SCALAR);
	feed(k, data + 4, n, limit, seed, 0, &whole);
	feed(k, data + 4, n, limit, seed, 2, &cut);
	ASSERT(whole.h == cut.h && whole.lines == cut.lines);
	if ((data[0] & 0x80) || n <= 256) {
		feed(k, data + 4, n, limit, seed, 1, &cut);
		ASSERT(whole.h == cut.h);
	}
	for (l = SCAN_SCALAR + 1; l < SCAN_LEVEL_COUNT; l++) {
		k = scan_kernels_get((enum scan_level)l);
		if (!k)
			continue;
		feed(k, data + 4, n, limit, seed, 0, &other);
		ASSERT(other.h == whole.h);
		feed(k, data + 4, n, limit, seed ^ (uint32_t)l, 2, &other);
		ASSERT(other.h == whole.h);
	}

	prefix(data + 4, n);
	p = exact(data + 4, n);
	ASSERT((unsigned)scan_sig_line(p, n, data[0]) < SCAN_SIG_COUNT);
	free(p);
	return 0;
}
