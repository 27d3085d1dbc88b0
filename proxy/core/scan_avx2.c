/*
 * scan_avx2.c — 32-byte kernels. Built with -mavx2 -mbmi -mbmi2; scan.c
 * hands the table out only when the CPU has all of them.
 *
 * Shape (the same in every SIMD file):
 *   - the entry handles what command lines and DATA lines mostly are: the
 *     first 64 bytes in one step, no loop, no stack frame;
 *   - inputs shorter than that go to a small-input helper: two vectors that
 *     overlap so they end exactly at p + n (overlapping lanes hold the same
 *     bytes, so OR-ing their masks is exact), or SWAR under 16 bytes;
 *   - longer inputs go to a loop on aligned addresses, four vectors per
 *     test, whose tail is again one vector ending exactly at p + n;
 *   - line_feed answers a whole clean command line (the common case) in
 *     one step, verb included, and hands everything else to the shared
 *     path in scan.c.
 * Nothing before p or at or past p + n is ever read.
 *
 * Classification:
 *   control, exact:  (signed b < 0x20 and not b >= 0x80) or b == 0x7f
 *   control, in the loop: min(b ^ 0x7f, b -sat 0x1f) == 0, folded with min
 *   DATA:  pshufb(lut, b) == b, where lut holds 0x00, 0x0a and 0x0d at their
 *          own low-nibble index and 0xff elsewhere; pshufb gives 0 for
 *          b >= 0x80, which never equals b. vpshufb works per 128-bit lane,
 *          so the table is repeated in both lanes.
 */
#include <immintrin.h>

#include "scan_simd.h"

#define NOINLINE __attribute__((noinline))

static inline __m256i avx2_lut(void)
{
	return _mm256_setr_epi8(0x00, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0x0a, -1, -1, 0x0d, -1,
				-1, 0x00, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0x0a, -1, -1, 0x0d,
				-1, -1);
}

/* Returns a bit per control byte of v. */
static inline uint32_t avx2_ctl_bits(__m256i v)
{
	__m256i lt = _mm256_andnot_si256(v, _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v));

	return (uint32_t)_mm256_movemask_epi8(
	    _mm256_or_si256(lt, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7f))));
}

/* Returns a vector that is zero exactly at the control bytes of v. */
static inline __m256i avx2_ctl0(__m256i v)
{
	return _mm256_min_epu8(_mm256_xor_si256(v, _mm256_set1_epi8(0x7f)),
			       _mm256_subs_epu8(v, _mm256_set1_epi8(0x1f)));
}

static inline uint32_t avx2_data_bits(__m256i v)
{
	return (uint32_t)_mm256_movemask_epi8(
	    _mm256_cmpeq_epi8(_mm256_shuffle_epi8(avx2_lut(), v), v));
}

/* Returns a vector that is zero exactly at the CR, LF and NUL bytes of v. */
static inline __m256i avx2_data0(__m256i v)
{
	return _mm256_xor_si256(_mm256_shuffle_epi8(avx2_lut(), v), v);
}

static inline uint32_t avx2_zeros(__m256i v)
{
	return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_setzero_si256()));
}

static inline uint32_t x16_ctl_bits(__m128i v)
{
	__m128i lt = _mm_andnot_si128(v, _mm_cmpgt_epi8(_mm_set1_epi8(0x20), v));

	return (uint32_t)_mm_movemask_epi8(
	    _mm_or_si128(lt, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))));
}

static inline uint32_t x16_data_bits(__m128i v)
{
	return (uint32_t)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(_mm_shuffle_epi8(_mm256_castsi256_si128(avx2_lut()), v), v));
}

/* The control byte at bit k of m ends the scan; h marks high bytes. */
static inline size_t ctl_hit(uint64_t m, uint64_t h, unsigned *flags)
{
	unsigned k = (unsigned)__builtin_ctzll(m);

	if (_bzhi_u64(h, k))
		*flags |= SCAN_K_HIGH;
	return k;
}

/* ---- find_ctl ------------------------------------------------------------ */

static NOINLINE size_t avx2_ctl_small(const uint8_t *p, size_t n, unsigned *flags)
{
	uint64_t m, h;
	unsigned sh;

	if (n >= 32) {
		__m256i a = _mm256_loadu_si256((const __m256i *)p);
		__m256i b = _mm256_loadu_si256((const __m256i *)(p + n - 32));

		sh = (unsigned)n - 32;
		m = avx2_ctl_bits(a) | (uint64_t)avx2_ctl_bits(b) << sh;
		h = (uint32_t)_mm256_movemask_epi8(a) | (uint64_t)(uint32_t)_mm256_movemask_epi8(b)
							    << sh;
	} else if (n >= 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)p);
		__m128i b = _mm_loadu_si128((const __m128i *)(p + n - 16));

		sh = (unsigned)n - 16;
		m = x16_ctl_bits(a) | (uint64_t)x16_ctl_bits(b) << sh;
		h = (uint32_t)_mm_movemask_epi8(a) | (uint64_t)(uint32_t)_mm_movemask_epi8(b) << sh;
	} else {
		return scan_swar_find_ctl(p, n, flags);
	}
	if (m)
		return ctl_hit(m, h, flags);
	if (h)
		*flags |= SCAN_K_HIGH;
	return n;
}

/* Returns whether a byte of the four vectors is a control or high byte. */
static inline int avx2_odd4(__m256i a, __m256i b, __m256i c, __m256i d)
{
	/* b - 0x20 (mod 256) > 0x5e exactly when b < 0x20 or b >= 0x7f */
	const __m256i k20 = _mm256_set1_epi8(0x20);
	__m256i mx =
	    _mm256_max_epu8(_mm256_max_epu8(_mm256_sub_epi8(a, k20), _mm256_sub_epi8(b, k20)),
			    _mm256_max_epu8(_mm256_sub_epi8(c, k20), _mm256_sub_epi8(d, k20)));
	__m256i over = _mm256_subs_epu8(mx, _mm256_set1_epi8(0x5e));

	return !_mm256_testz_si256(over, over);
}

/*
 * p[0..i) is clean (i <= 64) and high says whether it held a high byte.
 * Until a high byte is seen, four vectors are tested at once for "control
 * or high" (a range test folded with max: fewer operations per byte than
 * memchr's); a block that trips it is looked at exactly. Once a high byte
 * has been seen it need not be tracked any more, and the loop tests for
 * control bytes only.
 */
static NOINLINE size_t avx2_ctl_long(const uint8_t *p, size_t n, unsigned *flags, int high)
{
	size_t i = 64 - ((uintptr_t)p & 31), end;
	__m256i v, a, b, c, d;
	uint32_t m, h;

	while (!high && i + 128 <= n) {
		a = _mm256_load_si256((const __m256i *)(p + i));
		b = _mm256_load_si256((const __m256i *)(p + i + 32));
		c = _mm256_load_si256((const __m256i *)(p + i + 64));
		d = _mm256_load_si256((const __m256i *)(p + i + 96));
		if (!avx2_odd4(a, b, c, d)) {
			i += 128;
			continue;
		}
		for (end = i + 128; i < end; i += 32) {
			v = _mm256_load_si256((const __m256i *)(p + i));
			m = avx2_ctl_bits(v);
			h = (uint32_t)_mm256_movemask_epi8(v);
			if (m) {
				if (high || _bzhi_u32(h, (unsigned)__builtin_ctz(m)))
					*flags |= SCAN_K_HIGH;
				return i + (size_t)__builtin_ctz(m);
			}
			high |= h != 0;
		}
	}
	if (high)
		*flags |= SCAN_K_HIGH;
	for (; i + 128 <= n; i += 128) {
		v = _mm256_min_epu8(
		    _mm256_min_epu8(avx2_ctl0(_mm256_load_si256((const __m256i *)(p + i))),
				    avx2_ctl0(_mm256_load_si256((const __m256i *)(p + i + 32)))),
		    _mm256_min_epu8(avx2_ctl0(_mm256_load_si256((const __m256i *)(p + i + 64))),
				    avx2_ctl0(_mm256_load_si256((const __m256i *)(p + i + 96)))));
		if (avx2_zeros(v))
			break;
	}
	/* at most 4 aligned vectors, then one ending at p + n */
	for (;; i += 32) {
		if (i + 32 > n) {
			if (i >= n)
				break;
			i = n - 32; /* the bytes it shares with the last vector are clean */
		}
		v = _mm256_loadu_si256((const __m256i *)(p + i));
		m = avx2_ctl_bits(v);
		h = (uint32_t)_mm256_movemask_epi8(v);
		if (m) {
			if (!high && _bzhi_u32(h, (unsigned)__builtin_ctz(m)))
				*flags |= SCAN_K_HIGH;
			return i + (size_t)__builtin_ctz(m);
		}
		if (h && !high) {
			high = 1;
			*flags |= SCAN_K_HIGH;
		}
		if (i + 32 == n)
			break;
	}
	return n;
}

static size_t avx2_find_ctl(const uint8_t *p, size_t n, unsigned *flags)
{
	__m256i a, b;
	uint64_t m, h;

	if (n < 64)
		return avx2_ctl_small(p, n, flags);
	a = _mm256_loadu_si256((const __m256i *)p);
	b = _mm256_loadu_si256((const __m256i *)(p + 32));
	m = avx2_ctl_bits(a) | (uint64_t)avx2_ctl_bits(b) << 32;
	h = (uint32_t)_mm256_movemask_epi8(a) | (uint64_t)(uint32_t)_mm256_movemask_epi8(b) << 32;
	if (m)
		return ctl_hit(m, h, flags);
	return avx2_ctl_long(p, n, flags, h != 0);
}

/* ---- find_data ----------------------------------------------------------- */

static NOINLINE size_t avx2_data_small(const uint8_t *p, size_t n)
{
	uint64_t m;

	if (n >= 32)
		m = avx2_data_bits(_mm256_loadu_si256((const __m256i *)p)) |
		    (uint64_t)avx2_data_bits(_mm256_loadu_si256((const __m256i *)(p + n - 32)))
			<< (n - 32);
	else if (n >= 16)
		m = x16_data_bits(_mm_loadu_si128((const __m128i *)p)) |
		    (uint64_t)x16_data_bits(_mm_loadu_si128((const __m128i *)(p + n - 16)))
			<< (n - 16);
	else
		return scan_swar_find_data(p, n);
	return m ? (size_t)__builtin_ctzll(m) : n;
}

/* p[0..from) is clean. */
static NOINLINE size_t avx2_data_long(const uint8_t *p, size_t n, size_t from)
{
	size_t i = from - ((uintptr_t)(p + from) & 31);
	uint32_t m;

	for (; i + 128 <= n; i += 128) {
		__m256i v = _mm256_min_epu8(
		    _mm256_min_epu8(avx2_data0(_mm256_load_si256((const __m256i *)(p + i))),
				    avx2_data0(_mm256_load_si256((const __m256i *)(p + i + 32)))),
		    _mm256_min_epu8(avx2_data0(_mm256_load_si256((const __m256i *)(p + i + 64))),
				    avx2_data0(_mm256_load_si256((const __m256i *)(p + i + 96)))));
		if (avx2_zeros(v))
			break;
	}
	for (; i + 32 <= n; i += 32) {
		m = avx2_data_bits(_mm256_load_si256((const __m256i *)(p + i)));
		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
	if (i < n) {
		m = avx2_data_bits(_mm256_loadu_si256((const __m256i *)(p + n - 32)));
		if (m)
			return n - 32 + (size_t)__builtin_ctz(m);
	}
	return n;
}

/* Returns a bit per CR, LF or NUL in p[0..64). */
static inline uint64_t avx2_data_bits64(const uint8_t *p)
{
	return avx2_data_bits(_mm256_loadu_si256((const __m256i *)p)) |
	       (uint64_t)avx2_data_bits(_mm256_loadu_si256((const __m256i *)(p + 32))) << 32;
}

/*
 * Body lines are mostly under 128 bytes, so two 64-byte steps come before
 * the loop; and a scan that starts on a terminator (the LF after a CR) is
 * answered from the first byte.
 */
static size_t avx2_find_data(const uint8_t *p, size_t n)
{
	uint64_t m;

	if (n < 64)
		return avx2_data_small(p, n);
	if (scan_is_data(p[0]))
		return 0;
	m = avx2_data_bits64(p);
	if (m)
		return (size_t)__builtin_ctzll(m);
	if (n < 128)
		return avx2_data_long(p, n, 64);
	m = avx2_data_bits64(p + 64);
	if (m)
		return 64 + (size_t)__builtin_ctzll(m);
	return avx2_data_long(p, n, 128);
}

/* ---- line_feed ----------------------------------------------------------- */

/*
 * Constants of the fast path: b + 0x60 (mod 256), signed, is < -33 exactly
 * for the clean bytes 0x20..0x7e; and SP. They are read from memory
 * through a pointer the compiler cannot see through: built with set1 (or
 * read from a table it can see), GCC rebuilds each from a register on every
 * call (three instructions) and turns the compare into min + compare.
 */
#define X8(x) x, x, x, x, x, x, x, x
#define X32(x)                                                                                     \
	{                                                                                          \
		X8(x), X8(x), X8(x), X8(x)                                                         \
	}
static const int8_t line_k[3][32] __attribute__((aligned(32))) = {
	X32(0x60),
	X32(-33),
	X32(' '),
};
#undef X32
#undef X8

static inline const int8_t (*line_consts(void))[32]
{
	const int8_t(*k)[32] = line_k;

	__asm__("" : "+r"(k));
	return k;
}

/* Returns a bit per byte of v in 0x20..0x7e (neither control nor high). */
static inline uint32_t avx2_clean_bits(__m256i v, const int8_t (*kk)[32])
{
	__m256i k60 = _mm256_load_si256((const __m256i *)kk[0]);
	__m256i k33 = _mm256_load_si256((const __m256i *)kk[1]);

	return (uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(k33, _mm256_add_epi8(v, k60)));
}

static inline uint32_t x16_clean_bits(__m128i v, const int8_t (*kk)[32])
{
	__m128i k60 = _mm_load_si128((const __m128i *)kk[0]);
	__m128i k33 = _mm_load_si128((const __m128i *)kk[1]);

	return (uint32_t)_mm_movemask_epi8(_mm_cmpgt_epi8(k33, _mm_add_epi8(v, k60)));
}

/*
 * Ends the line if its first byte that is not clean (bit j of ~clean, j
 * within the w-byte window) is a CR followed by LF; the verb comes from
 * a16, the first 16 bytes. Anything else goes to the shared path.
 */
static inline enum scan_line_ev avx2_line_end(struct scan_line *l, const struct scan_kernels *k,
					      const uint8_t *p, size_t n, uint8_t *buf,
					      size_t *used, uint64_t clean, size_t w, __m128i a16,
					      const int8_t (*kk)[32])
{
	/* the overlap of the two vectors holds the same bytes: OR is exact */
	size_t j = (size_t)_tzcnt_u64(~clean);
	uint64_t sp;

	if (j + 1 >= w || !scan_is_crlf(p, j))
		return scan_line_feed_generic(l, k, p, n, buf, used);
	if (l->len)
		return scan_line_fast_end_cont(l, j, 0, buf, used);
	sp = (uint32_t)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(a16, _mm_load_si128((const __m128i *)kk[2])));
	return scan_line_fast_end(l, j, 0, scan_verb_fast((uint64_t)_mm_cvtsi128_si64(a16), sp, j),
				  used);
}

/*
 * avx2_line_feed for 4 <= n < 16, in general registers: the window is two
 * 8-byte words that overlap so they end at p + n (under 8 bytes, one word
 * from two overlapping 4-byte loads, zero past n), each stored to the
 * buffer as it is. A control or high byte shows as 0x80 in its byte of
 * scan_swar_ctl(w) | w; the second word's first such byte lies at or past
 * position 8, as the bytes it shares with the first are clean by then.
 */
static NOINLINE enum scan_line_ev avx2_line_feed_tiny(struct scan_line *l,
						      const struct scan_kernels *k,
						      const uint8_t *p, size_t n, uint8_t *buf,
						      size_t *used)
{
	const int8_t(*kk)[32] = line_consts();
	uint8_t *d = buf + l->kept;
	uint64_t w1, w2, o1, o2, sp;
	uint32_t a, b;
	size_t j;

	if (n >= 8) {
		w1 = scan_swar_load(p);
		w2 = scan_swar_load(p + n - 8);
		memcpy(d + n - 8, &w2, 8);
	} else {
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		w1 = a | (uint64_t)b << (8 * (n - 4));
		w2 = w1;
	}
	memcpy(d, &w1, 8);
	o1 = (scan_swar_ctl(w1) | w1) & SCAN_SWAR_80;
	o2 = (scan_swar_ctl(w2) | w2) & SCAN_SWAR_80;
	if (o1)
		j = (size_t)_tzcnt_u64(o1) >> 3;
	else
		j = o2 && n >= 8 ? n - 8 + ((size_t)_tzcnt_u64(o2) >> 3) : n;
	if (j + 1 >= n || !scan_is_crlf(p, j))
		return scan_line_feed_generic(l, k, p, n, buf, used);
	if (l->len)
		return scan_line_fast_end_cont(l, j, 0, buf, used);
	/* a bit per SP among the first nine bytes */
	sp = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_cvtsi64_si128((long long)w1),
							_mm_load_si128((const __m128i *)kk[2]))) |
	     (uint64_t)(n > 8 && p[n > 8 ? 8 : 0] == ' ') << 8;
	return scan_line_fast_end(l, j, 0, scan_verb_fast(w1, sp, j), used);
}

/* avx2_line_feed for 16 <= n < 64: two overlapping vectors. */
static NOINLINE enum scan_line_ev avx2_line_feed_short(struct scan_line *l,
						       const struct scan_kernels *k,
						       const uint8_t *p, size_t n, uint8_t *buf,
						       size_t *used)
{
	const int8_t(*kk)[32] = line_consts();
	uint8_t *d = buf + l->kept;
	uint64_t clean;
	__m128i a16;

	if (n >= 32) {
		__m256i a = _mm256_loadu_si256((const __m256i *)p);
		__m256i b = _mm256_loadu_si256((const __m256i *)(p + n - 32));

		_mm256_storeu_si256((__m256i *)(d + n - 32), b);
		_mm256_storeu_si256((__m256i *)d, a);
		clean = avx2_clean_bits(a, kk) | (uint64_t)avx2_clean_bits(b, kk) << (n - 32);
		a16 = _mm256_castsi256_si128(a);
	} else {
		__m128i b = _mm_loadu_si128((const __m128i *)(p + n - 16));

		a16 = _mm_loadu_si128((const __m128i *)p);
		_mm_storeu_si128((__m128i *)(d + n - 16), b);
		_mm_storeu_si128((__m128i *)d, a16);
		clean = x16_clean_bits(a16, kk) | (uint64_t)x16_clean_bits(b, kk) << (n - 16);
	}
	return avx2_line_end(l, k, p, n, buf, used, clean, n, a16, kk);
}

/*
 * The fast path of scan_line_feed: the next min(n, 64) bytes are tested at
 * once for "neither control nor high" (two vectors, overlapping when
 * n < 64, as in avx2_ctl_small) and stored to the buffer as they are (the
 * room is there, and bytes past kept are scratch). When the first other
 * byte is a CR followed by LF inside that window, the line is done and
 * clean, and its verb is read from the first vector still in a register;
 * anything else (a high byte, another control byte, no line end in the
 * window) goes to the shared path, which redoes the call exactly.
 */
static enum scan_line_ev avx2_line_feed(struct scan_line *l, const struct scan_kernels *k,
					const uint8_t *p, size_t n, uint8_t *buf, size_t *used)
{
	const int8_t(*kk)[32] = line_consts();
	uint8_t *d = buf + l->kept;
	__m256i a, b;

	if (n < 64 || !scan_line_fast_ok(l)) {
		if (n < 4 || !scan_line_fast_ok(l))
			return scan_line_feed_generic(l, k, p, n, buf, used);
		if (n < 16)
			return avx2_line_feed_tiny(l, k, p, n, buf, used);
		return avx2_line_feed_short(l, k, p, n, buf, used);
	}
	a = _mm256_loadu_si256((const __m256i *)p);
	b = _mm256_loadu_si256((const __m256i *)(p + 32));
	_mm256_storeu_si256((__m256i *)(d + 32), b);
	_mm256_storeu_si256((__m256i *)d, a);
	return avx2_line_end(l, k, p, n, buf, used,
			     avx2_clean_bits(a, kk) | (uint64_t)avx2_clean_bits(b, kk) << 32, 64,
			     _mm256_castsi256_si128(a), kk);
}

const struct scan_kernels scan_kernels_avx2 = {
	.name = "avx2",
	.level = SCAN_AVX2,
	.find_ctl = avx2_find_ctl,
	.find_data = avx2_find_data,
	.line_feed = avx2_line_feed,
};
