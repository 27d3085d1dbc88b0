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
 *     test, whose tail is again one vector ending exactly at p + n.
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

const struct scan_kernels scan_kernels_avx2 = {
	.name = "avx2",
	.level = SCAN_AVX2,
	.find_ctl = avx2_find_ctl,
	.find_data = avx2_find_data,
};
