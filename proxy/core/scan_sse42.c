/*
 * scan_sse42.c — 16-byte kernels. Built with -msse4.2; scan.c hands the
 * table out only when the CPU has SSE4.2 and POPCNT.
 *
 * Same shape and classification as scan_avx2.c, with 16-byte vectors: the
 * entry does the first 32 bytes in one step, shorter inputs take two
 * overlapping vectors or SWAR, longer ones a loop on aligned addresses
 * that tests four vectors at a time and ends with one vector ending exactly
 * at p + n. (The SSE4.2 string instructions were tried in thought and
 * left out: pcmpistri is several times slower than these three-op tests.)
 */
#include <immintrin.h>

#include "scan_simd.h"

#define NOINLINE __attribute__((noinline))

static inline __m128i sse_lut(void)
{
	return _mm_setr_epi8(0x00, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0x0a, -1, -1, 0x0d, -1, -1);
}

static inline uint32_t sse_ctl_bits(__m128i v)
{
	__m128i lt = _mm_andnot_si128(v, _mm_cmpgt_epi8(_mm_set1_epi8(0x20), v));

	return (uint32_t)_mm_movemask_epi8(
	    _mm_or_si128(lt, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))));
}

static inline __m128i sse_ctl0(__m128i v)
{
	return _mm_min_epu8(_mm_xor_si128(v, _mm_set1_epi8(0x7f)),
			    _mm_subs_epu8(v, _mm_set1_epi8(0x1f)));
}

static inline uint32_t sse_data_bits(__m128i v)
{
	return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_shuffle_epi8(sse_lut(), v), v));
}

static inline __m128i sse_data0(__m128i v)
{
	return _mm_xor_si128(_mm_shuffle_epi8(sse_lut(), v), v);
}

static inline uint32_t sse_zeros(__m128i v)
{
	return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()));
}

static inline size_t ctl_hit(uint32_t m, uint32_t h, unsigned *flags)
{
	unsigned k = (unsigned)__builtin_ctz(m);

	if (h & ((1u << k) - 1))
		*flags |= SCAN_K_HIGH;
	return k;
}

/* ---- find_ctl ------------------------------------------------------------ */

static NOINLINE size_t sse_ctl_small(const uint8_t *p, size_t n, unsigned *flags)
{
	__m128i a, b;
	uint32_t m, h;
	unsigned sh;

	if (n < 16)
		return scan_swar_find_ctl(p, n, flags);
	a = _mm_loadu_si128((const __m128i *)p);
	b = _mm_loadu_si128((const __m128i *)(p + n - 16));
	sh = (unsigned)n - 16;
	m = sse_ctl_bits(a) | sse_ctl_bits(b) << sh;
	h = (uint32_t)_mm_movemask_epi8(a) | (uint32_t)_mm_movemask_epi8(b) << sh;
	if (m)
		return ctl_hit(m, h, flags);
	if (h)
		*flags |= SCAN_K_HIGH;
	return n;
}

/* Returns whether a byte of the four vectors is a control or high byte. */
static inline int sse_odd4(__m128i a, __m128i b, __m128i c, __m128i d)
{
	/* b - 0x20 (mod 256) > 0x5e exactly when b < 0x20 or b >= 0x7f */
	const __m128i k20 = _mm_set1_epi8(0x20);
	__m128i mx = _mm_max_epu8(_mm_max_epu8(_mm_sub_epi8(a, k20), _mm_sub_epi8(b, k20)),
				  _mm_max_epu8(_mm_sub_epi8(c, k20), _mm_sub_epi8(d, k20)));
	__m128i over = _mm_subs_epu8(mx, _mm_set1_epi8(0x5e));

	return !_mm_testz_si128(over, over);
}

/* As avx2_ctl_long in scan_avx2.c, with 16-byte vectors. */
static NOINLINE size_t sse_ctl_long(const uint8_t *p, size_t n, unsigned *flags, int high)
{
	size_t i = 32 - ((uintptr_t)p & 15), end;
	__m128i v, a, b, c, d;
	uint32_t m, h;

	while (!high && i + 64 <= n) {
		a = _mm_load_si128((const __m128i *)(p + i));
		b = _mm_load_si128((const __m128i *)(p + i + 16));
		c = _mm_load_si128((const __m128i *)(p + i + 32));
		d = _mm_load_si128((const __m128i *)(p + i + 48));
		if (!sse_odd4(a, b, c, d)) {
			i += 64;
			continue;
		}
		for (end = i + 64; i < end; i += 16) {
			v = _mm_load_si128((const __m128i *)(p + i));
			m = sse_ctl_bits(v);
			h = (uint32_t)_mm_movemask_epi8(v);
			if (m) {
				if (high)
					*flags |= SCAN_K_HIGH;
				return i + ctl_hit(m, h, flags);
			}
			high |= h != 0;
		}
	}
	if (high)
		*flags |= SCAN_K_HIGH;
	for (; i + 64 <= n; i += 64) {
		v = _mm_min_epu8(
		    _mm_min_epu8(sse_ctl0(_mm_load_si128((const __m128i *)(p + i))),
				 sse_ctl0(_mm_load_si128((const __m128i *)(p + i + 16)))),
		    _mm_min_epu8(sse_ctl0(_mm_load_si128((const __m128i *)(p + i + 32))),
				 sse_ctl0(_mm_load_si128((const __m128i *)(p + i + 48)))));
		if (sse_zeros(v))
			break;
	}
	/* aligned vectors, then one ending at p + n */
	for (;; i += 16) {
		if (i + 16 > n) {
			if (i >= n)
				break;
			i = n - 16; /* the bytes it shares with the last vector are clean */
		}
		v = _mm_loadu_si128((const __m128i *)(p + i));
		m = sse_ctl_bits(v);
		h = (uint32_t)_mm_movemask_epi8(v);
		if (m)
			return i + ctl_hit(m, h, flags);
		if (h && !high) {
			high = 1;
			*flags |= SCAN_K_HIGH;
		}
		if (i + 16 == n)
			break;
	}
	return n;
}

static size_t sse42_find_ctl(const uint8_t *p, size_t n, unsigned *flags)
{
	__m128i a, b;
	uint32_t m, h;

	if (n < 32)
		return sse_ctl_small(p, n, flags);
	a = _mm_loadu_si128((const __m128i *)p);
	b = _mm_loadu_si128((const __m128i *)(p + 16));
	m = sse_ctl_bits(a) | sse_ctl_bits(b) << 16;
	h = (uint32_t)_mm_movemask_epi8(a) | (uint32_t)_mm_movemask_epi8(b) << 16;
	if (m)
		return ctl_hit(m, h, flags);
	return sse_ctl_long(p, n, flags, h != 0);
}

/* ---- find_data ----------------------------------------------------------- */

static NOINLINE size_t sse_data_small(const uint8_t *p, size_t n)
{
	uint32_t m;

	if (n < 16)
		return scan_swar_find_data(p, n);
	m = sse_data_bits(_mm_loadu_si128((const __m128i *)p)) |
	    sse_data_bits(_mm_loadu_si128((const __m128i *)(p + n - 16))) << (n - 16);
	return m ? (size_t)__builtin_ctz(m) : n;
}

/* p[0..from) is clean. */
static NOINLINE size_t sse_data_long(const uint8_t *p, size_t n, size_t from)
{
	size_t i = from - ((uintptr_t)(p + from) & 15);
	uint32_t m;

	for (; i + 64 <= n; i += 64) {
		__m128i v = _mm_min_epu8(
		    _mm_min_epu8(sse_data0(_mm_load_si128((const __m128i *)(p + i))),
				 sse_data0(_mm_load_si128((const __m128i *)(p + i + 16)))),
		    _mm_min_epu8(sse_data0(_mm_load_si128((const __m128i *)(p + i + 32))),
				 sse_data0(_mm_load_si128((const __m128i *)(p + i + 48)))));
		if (sse_zeros(v))
			break;
	}
	for (; i + 16 <= n; i += 16) {
		m = sse_data_bits(_mm_load_si128((const __m128i *)(p + i)));
		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
	if (i < n) {
		m = sse_data_bits(_mm_loadu_si128((const __m128i *)(p + n - 16)));
		if (m)
			return n - 16 + (size_t)__builtin_ctz(m);
	}
	return n;
}

/* Returns a bit per CR, LF or NUL in p[0..32). */
static inline uint32_t sse_data_bits32(const uint8_t *p)
{
	return sse_data_bits(_mm_loadu_si128((const __m128i *)p)) |
	       sse_data_bits(_mm_loadu_si128((const __m128i *)(p + 16))) << 16;
}

/* As in scan_avx2.c: first byte, then 32-byte steps up to 96, then the loop. */
static size_t sse42_find_data(const uint8_t *p, size_t n)
{
	uint32_t m;
	size_t i;

	if (n < 32)
		return sse_data_small(p, n);
	if (scan_is_data(p[0]))
		return 0;
	for (i = 0; i < 96 && i + 32 <= n; i += 32) {
		m = sse_data_bits32(p + i);
		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
	return sse_data_long(p, n, i);
}

/* ---- line_feed ----------------------------------------------------------- */

/* As avx2_line_feed in scan_avx2.c, with a window of min(n, 32) bytes. */
static enum scan_line_ev sse42_line_feed(struct scan_line *l, const struct scan_kernels *k,
					 const uint8_t *p, size_t n, uint8_t *buf, size_t *used)
{
	uint8_t *d = buf + l->kept;
	__m128i a, b;
	uint32_t m, h;
	unsigned sh, verb;
	size_t j, w;
	int hi;

	if (n < 16 || !scan_line_fast_ok(l))
		return scan_line_feed_generic(l, k, p, n, buf, used);
	w = n < 32 ? n : 32;
	sh = (unsigned)w - 16;
	a = _mm_loadu_si128((const __m128i *)p);
	b = _mm_loadu_si128((const __m128i *)(p + sh));
	_mm_storeu_si128((__m128i *)(d + sh), b);
	_mm_storeu_si128((__m128i *)d, a);
	m = sse_ctl_bits(a) | sse_ctl_bits(b) << sh;
	h = (uint32_t)_mm_movemask_epi8(a) | (uint32_t)_mm_movemask_epi8(b) << sh;
	j = m ? (size_t)__builtin_ctz(m) : 32;
	if (j + 1 >= w || !scan_is_crlf(p, j))
		return scan_line_feed_generic(l, k, p, n, buf, used);
	hi = (h & ((1u << j) - 1)) != 0;
	if (l->len)
		return scan_line_fast_end_cont(l, j, hi, buf, used);
	verb =
	    scan_verb_fast((uint64_t)_mm_cvtsi128_si64(a),
			   (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, _mm_set1_epi8(' '))), j);
	return scan_line_fast_end(l, j, hi, verb, used);
}

const struct scan_kernels scan_kernels_sse42 = {
	.name = "sse42",
	.level = SCAN_SSE42,
	.find_ctl = sse42_find_ctl,
	.find_data = sse42_find_data,
	.line_feed = sse42_line_feed,
};
