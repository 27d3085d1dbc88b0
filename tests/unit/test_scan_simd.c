/*
 * test_scan_simd.c — every SIMD level this CPU runs against the scalar
 * reference: all lengths 0..300 at all alignments with a special byte at
 * each position, high bytes before and after the hit, random buffers, long
 * buffers, and inputs against PROT_NONE pages on both sides.
 */
#include "check.h"
#include "scan.h"

#define FLAG_OTHER 0x100u /* a bit the kernels must leave alone */

static const struct scan_kernels *ref;
static const struct scan_kernels *lv[SCAN_LEVEL_COUNT];
static int nlv;

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void dump(const uint8_t *p, size_t n)
{
	size_t i;

	fprintf(stderr, "  %zu bytes at %p:", n, (const void *)p);
	for (i = 0; i < n && i < 64; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, "%s\n", n > 64 ? " ..." : "");
}

/* Both kernels of k on p[0..n) must return what the scalar ones return. */
static void agree(const struct scan_kernels *k, const uint8_t *p, size_t n)
{
	unsigned f0 = FLAG_OTHER, f1 = FLAG_OTHER;
	size_t r0 = ref->find_ctl(p, n, &f0);
	size_t r1 = k->find_ctl(p, n, &f1);
	int ok;

	ok = CHECK_EQ(r1, r0);
	ok &= CHECK_EQ(f1, f0);
	ok &= CHECK_EQ(k->find_data(p, n), ref->find_data(p, n));
	if (!ok && check_show()) {
		fprintf(stderr, "  level %s\n", k->name);
		dump(p, n);
	}
}

static void agree_all(const uint8_t *p, size_t n)
{
	int i;

	for (i = 0; i < nlv; i++)
		agree(lv[i], p, n);
}

/* The reference itself on a few hand cases. */
static void test_reference(void)
{
	unsigned f = 0;

	CHECK_EQ(ref->find_ctl((const uint8_t *)"abc\r\n", 5, &f), 3);
	CHECK_EQ(f, 0);
	CHECK_EQ(ref->find_ctl((const uint8_t *)"a\x80\x7f", 3, &f), 2);
	CHECK_EQ(f, SCAN_K_HIGH);
	f = 0;
	CHECK_EQ(ref->find_ctl((const uint8_t *)"a\x7f\x80", 3, &f), 1);
	CHECK_EQ(f, 0);
	CHECK_EQ(ref->find_ctl((const uint8_t *)" ~\xff", 3, &f), 3);
	CHECK_EQ(f, SCAN_K_HIGH);
	f = 0;
	CHECK_EQ(ref->find_ctl((const uint8_t *)"\t", 1, &f), 0);
	CHECK_EQ(ref->find_ctl((const uint8_t *)"", 0, &f), 0);
	CHECK_EQ(f, 0);
	CHECK_EQ(ref->find_data((const uint8_t *)"a\tb\x01\x7f\0", 6), 5);
	CHECK_EQ(ref->find_data((const uint8_t *)"a\tb\r", 4), 3);
	CHECK_EQ(ref->find_data((const uint8_t *)"\n", 1), 0);
	CHECK_EQ(ref->find_data((const uint8_t *)"\x8d\x8a\x80", 3), 3);
}

/* Every byte value alone, at a few offsets inside a clean vector-sized run. */
static void test_every_byte(void)
{
	uint8_t buf[200];
	size_t pos, n;
	int b;

	for (b = 0; b < 256; b++)
		for (n = 1; n <= 130; n += 43)
			for (pos = 0; pos < n; pos += 7) {
				memset(buf, 'x', sizeof(buf));
				buf[pos] = (uint8_t)b;
				agree_all(buf, n);
			}
}

/*
 * All lengths 0..300 at all 64 alignments: clean, then one special byte at
 * every position (the special rotates through the interesting values).
 */
static void test_lengths(void)
{
	static const uint8_t special[] = { 0x00, '\n', '\r', 0x01, 0x09, 0x1f, 0x7f,
					   0x20, 0x7e, 0x80, 0xff, 0x0b, 0x8d, 0x8a };
	static uint8_t buf[64 + 300 + 64];
	size_t n, a, j;
	uint8_t *p;

	memset(buf, 'a', sizeof(buf));
	for (n = 0; n <= 300; n++)
		for (a = 0; a < 64; a++) {
			p = buf + a;
			agree_all(p, n);
			for (j = 0; j < n; j++) {
				p[j] = special[(j + n + a) % sizeof(special)];
				agree_all(p, n);
				p[j] = 'a';
			}
		}
}

/* A high byte at h and a control byte at c, for every pair, short lengths. */
static void test_high_pairs(void)
{
	static uint8_t buf[64 + 160];
	size_t n, h, c, a;
	uint8_t *p;

	memset(buf, 'a', sizeof(buf));
	for (a = 0; a < 64; a += 13)
		for (n = 1; n <= 140; n += (n < 70 ? 1 : 7)) {
			p = buf + a;
			for (h = 0; h < n; h++) {
				p[h] = (uint8_t)(0x80 + (h & 0x7f));
				agree_all(p, n);
				for (c = 0; c < n; c++) {
					if (c == h)
						continue;
					p[c] = c & 1 ? '\r' : 0x7f;
					agree_all(p, n);
					p[c] = 'a';
				}
				p[h] = 'a';
			}
		}
}

/*
 * The same over lines long enough for the four-vector loops (which stop at
 * a high byte once, then run without tracking it): positions at and around
 * every vector edge, a high byte before, at or after the control byte.
 */
static void test_high_pairs_long(void)
{
	static uint8_t buf[64 + 800];
	size_t pos[200], np = 0, n = 760, a, x, y;
	uint8_t *p;

	for (x = 0; x < n; x++)
		if (x % 32 <= 1 || x % 32 == 31 || x % 97 == 0)
			pos[np++] = x;
	memset(buf, 'a', sizeof(buf));
	for (a = 0; a < 64; a += 21) {
		p = buf + a;
		for (x = 0; x < np; x++) {
			p[pos[x]] = 0xe9;
			agree_all(p, n);
			for (y = 0; y < np; y += 1 + (x & 1)) {
				if (y == x)
					continue;
				p[pos[y]] = y & 1 ? '\n' : 0x01;
				agree_all(p, n);
				agree_all(p, pos[y] + 1 + x % 40 < n ? pos[y] + 1 + x % 40 : n);
				p[pos[y]] = 'a';
			}
			p[pos[x]] = 'a';
		}
	}
}

/* Random buffers of random make-up. */
static void test_random(void)
{
	static uint8_t buf[4096 + 64];
	size_t n, a, i;
	unsigned odds, kind;
	int t;

	for (t = 0; t < 30000; t++) {
		n = rnd() % 8 ? rnd() % 300 : rnd() % 4096;
		a = rnd() % 64;
		odds = 1u << (rnd() % 13); /* one special byte in `odds` */
		kind = (unsigned)(rnd() % 4);
		for (i = 0; i < n; i++) {
			uint8_t b = (uint8_t)(0x20 + rnd() % 95);
			if (kind == 0)
				b = (uint8_t)rnd();
			else if (rnd() % odds == 0)
				b = kind == 1   ? (uint8_t)(rnd() % 32)
				    : kind == 2 ? 0x80 | (uint8_t)rnd()
						: 0x7f;
			else if (kind == 2 && rnd() % 64 == 0)
				b = "\r\n"[rnd() % 2];
			buf[a + i] = b;
		}
		agree_all(buf + a, n);
	}
}

/* Long buffers: nothing special, one hit at chosen spots, high bytes around. */
static void test_long(void)
{
	static const size_t spots[] = { 0,   1,   63,   64,   65,    127,   128,    255,
					256, 257, 4095, 4096, 65535, 65536, 524287, 1048575 };
	size_t n = 1u << 20, i, s, a;
	uint8_t *buf = malloc(n + 128), *p;

	if (!buf)
		abort();
	for (a = 0; a < 3; a++) {
		p = buf + a * 31;
		memset(p, 'q', n);
		agree_all(p, n);
		for (i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
			s = spots[i];
			p[s] = '\n';
			agree_all(p, n);
			p[s] = 0x7f; /* ctl, not DATA */
			agree_all(p, n);
			if (s > 0) {
				p[s - 1] = 0xc3; /* high right before the hit */
				agree_all(p, n);
				p[s - 1] = 'q';
				p[s / 2] = 0xa9;
				agree_all(p, n);
				p[s / 2] = 'q';
			}
			p[(s + n) / 2 + 1 < n ? (s + n) / 2 + 1 : n - 1] = 0x80; /* after the hit */
			agree_all(p, n);
			p[(s + n) / 2 + 1 < n ? (s + n) / 2 + 1 : n - 1] = 'q';
			p[s] = 'q';
		}
		p[n - 1] = 0xff;
		agree_all(p, n);
		p[n - 1] = 'q';
	}
	free(buf);
}

/* Inputs ending right at a PROT_NONE page, and starting right after one. */
static void test_guard(void)
{
	static uint8_t src[600];
	struct check_guard g;
	size_t n, j;

	check_guard_init(&g, 1);
	memset(src, 'z', sizeof(src));
	for (n = 0; n <= 520; n++) {
		agree_all(check_guard_end(&g, src, n), n);
		agree_all(check_guard_start(&g, src, n), n);
		for (j = 0; j < n; j += (n < 80 ? 1 : 5)) {
			src[j] = j & 1 ? 0x85 : '\r';
			agree_all(check_guard_end(&g, src, n), n);
			agree_all(check_guard_start(&g, src, n), n);
			src[j] = 'z';
		}
		src[n ? n - 1 : 0] = 0xf0;
		agree_all(check_guard_end(&g, src, n), n);
		src[n ? n - 1 : 0] = 'z';
	}
	check_guard_free(&g);
}

int main(void)
{
	int i;

	ref = scan_kernels_get(SCAN_SCALAR);
	for (i = SCAN_SCALAR + 1; i < SCAN_LEVEL_COUNT; i++)
		if (scan_kernels_get((enum scan_level)i))
			lv[nlv++] = scan_kernels_get((enum scan_level)i);
	printf("checking against scalar:");
	for (i = 0; i < nlv; i++)
		printf(" %s", lv[i]->name);
	printf("%s\n", nlv ? "" : " (no SIMD level on this CPU)");

	test_reference();
	test_every_byte();
	test_lengths();
	test_high_pairs();
	test_high_pairs_long();
	test_random();
	test_long();
	test_guard();
	return check_done("test_scan_simd");
}
