/*
 * scan_avx512.c — 64-byte kernels. Built with -mavx512f -mavx512bw
 * -mavx512vl -mbmi -mbmi2; scan.c hands the table out only when the CPU
 * has all of them.
 *
 * Same shape as scan_avx2.c: the entry does the first 64 bytes, a loop on
 * aligned addresses tests four vectors at a time. Inputs up to 64 bytes
 * and the tail use masked loads: masked-off bytes are never read (faults
 * are suppressed) and come back as zero, which classifies as a control
 * byte, so those masks are cut to the bytes actually loaded.
 *
 * Classification: control bytes with two compares into mask registers
 * (unsigned b < 0x20, b == 0x7f); in the loop min(b ^ 0x7f, b -sat 0x1f)
 * folded with min as in the other levels; DATA with the pshufb table.
 */
#include <immintrin.h>

#include "scan_simd.h"

#define NOINLINE __attribute__((noinline))

static inline __m512i z_lut(void)
{
	return _mm512_broadcast_i32x4(
	    _mm_setr_epi8(0x00, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0x0a, -1, -1, 0x0d, -1, -1));
}

static inline uint64_t z_ctl_bits(__m512i v)
{
	return _mm512_cmplt_epu8_mask(v, _mm512_set1_epi8(0x20)) |
	       _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(0x7f));
}

static inline __m512i z_ctl0(__m512i v)
{
	return _mm512_min_epu8(_mm512_xor_si512(v, _mm512_set1_epi8(0x7f)),
			       _mm512_subs_epu8(v, _mm512_set1_epi8(0x1f)));
}

static inline uint64_t z_data_bits(__m512i v)
{
	return _mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(z_lut(), v), v);
}

static inline __m512i z_data0(__m512i v)
{
	return _mm512_xor_si512(_mm512_shuffle_epi8(z_lut(), v), v);
}

static inline uint64_t z_zeros(__m512i v)
{
	return _mm512_testn_epi8_mask(v, v);
}

/* Returns a mask of the first n bytes (all 64 for n >= 64). */
static inline uint64_t z_len(size_t n)
{
	return _bzhi_u64(~0ull, (unsigned)n);
}

/* The scan ends at base + k, k = first bit of m (len if none). */
static inline size_t z_ctl_end(size_t base, uint64_t m, size_t len, __m512i v, int hi_before,
			       unsigned *flags)
{
	size_t k = m ? (size_t)__builtin_ctzll(m) : len;

	if (hi_before | (_bzhi_u64(_mm512_movepi8_mask(v), (unsigned)k) != 0))
		*flags |= SCAN_K_HIGH;
	return base + k;
}

/* ---- find_ctl ------------------------------------------------------------ */

/* Returns whether a byte of the four vectors is a control or high byte. */
static inline int z_odd4(__m512i a, __m512i b, __m512i c, __m512i d)
{
	/* b - 0x20 (mod 256) > 0x5e exactly when b < 0x20 or b >= 0x7f */
	const __m512i k20 = _mm512_set1_epi8(0x20);
	__m512i mx =
	    _mm512_max_epu8(_mm512_max_epu8(_mm512_sub_epi8(a, k20), _mm512_sub_epi8(b, k20)),
			    _mm512_max_epu8(_mm512_sub_epi8(c, k20), _mm512_sub_epi8(d, k20)));

	return _mm512_cmpgt_epu8_mask(mx, _mm512_set1_epi8(0x5e)) != 0;
}

/* As avx2_ctl_long in scan_avx2.c, with 64-byte vectors and a masked tail. */
static NOINLINE size_t z_ctl_long(const uint8_t *p, size_t n, unsigned *flags, int high)
{
	size_t i = 64 - ((uintptr_t)p & 63), end;
	__m512i v, a, b, c, d;
	uint64_t m, h;

	while (!high && i + 256 <= n) {
		a = _mm512_load_si512(p + i);
		b = _mm512_load_si512(p + i + 64);
		c = _mm512_load_si512(p + i + 128);
		d = _mm512_load_si512(p + i + 192);
		if (!z_odd4(a, b, c, d)) {
			i += 256;
			continue;
		}
		for (end = i + 256; i < end; i += 64) {
			v = _mm512_load_si512(p + i);
			m = z_ctl_bits(v);
			if (m)
				return z_ctl_end(i, m, 64, v, high, flags);
			high |= _mm512_movepi8_mask(v) != 0;
		}
	}
	if (high)
		*flags |= SCAN_K_HIGH;
	for (; i + 256 <= n; i += 256) {
		v = _mm512_min_epu8(_mm512_min_epu8(z_ctl0(_mm512_load_si512(p + i)),
						    z_ctl0(_mm512_load_si512(p + i + 64))),
				    _mm512_min_epu8(z_ctl0(_mm512_load_si512(p + i + 128)),
						    z_ctl0(_mm512_load_si512(p + i + 192))));
		if (z_zeros(v))
			break;
	}
	for (; i + 64 <= n; i += 64) {
		v = _mm512_load_si512(p + i);
		m = z_ctl_bits(v);
		if (m)
			return z_ctl_end(i, m, 64, v, high, flags);
		high |= _mm512_movepi8_mask(v) != 0;
	}
	h = z_len(n - i);
	v = _mm512_maskz_loadu_epi8(h, p + i);
	return z_ctl_end(i, z_ctl_bits(v) & h, n - i, v, high, flags);
}

static size_t avx512_find_ctl(const uint8_t *p, size_t n, unsigned *flags)
{
	__m512i v;
	uint64_t m;

	if (n <= 64) {
		v = _mm512_maskz_loadu_epi8(z_len(n), p);
		return z_ctl_end(0, z_ctl_bits(v) & z_len(n), n, v, 0, flags);
	}
	v = _mm512_loadu_si512(p);
	m = z_ctl_bits(v);
	if (m)
		return z_ctl_end(0, m, 64, v, 0, flags);
	return z_ctl_long(p, n, flags, _mm512_movepi8_mask(v) != 0);
}

/* ---- find_data ----------------------------------------------------------- */

/* p[0..from) is clean. */
static NOINLINE size_t z_data_long(const uint8_t *p, size_t n, size_t from)
{
	size_t i = from - ((uintptr_t)(p + from) & 63);
	uint64_t m;

	for (; i + 256 <= n; i += 256) {
		__m512i v =
		    _mm512_min_epu8(_mm512_min_epu8(z_data0(_mm512_load_si512(p + i)),
						    z_data0(_mm512_load_si512(p + i + 64))),
				    _mm512_min_epu8(z_data0(_mm512_load_si512(p + i + 128)),
						    z_data0(_mm512_load_si512(p + i + 192))));
		if (z_zeros(v))
			break;
	}
	for (; i + 64 <= n; i += 64) {
		m = z_data_bits(_mm512_load_si512(p + i));
		if (m)
			return i + (size_t)__builtin_ctzll(m);
	}
	m = z_data_bits(_mm512_maskz_loadu_epi8(z_len(n - i), p + i)) & z_len(n - i);
	return m ? i + (size_t)__builtin_ctzll(m) : n;
}

/* As in scan_avx2.c: first byte, then two 64-byte steps, then the loop. */
static size_t avx512_find_data(const uint8_t *p, size_t n)
{
	uint64_t m;

	if (n <= 64) {
		m = z_data_bits(_mm512_maskz_loadu_epi8(z_len(n), p)) & z_len(n);
		return m ? (size_t)__builtin_ctzll(m) : n;
	}
	if (scan_is_data(p[0]))
		return 0;
	m = z_data_bits(_mm512_loadu_si512(p));
	if (m)
		return (size_t)__builtin_ctzll(m);
	if (n < 128)
		return z_data_long(p, n, 64);
	m = z_data_bits(_mm512_loadu_si512(p + 64));
	if (m)
		return 64 + (size_t)__builtin_ctzll(m);
	return z_data_long(p, n, 128);
}

/* ---- line_feed ----------------------------------------------------------- */

/*
 * As avx2_line_feed in scan_avx2.c, with one masked load of min(n, 64)
 * bytes for every n. Masked-off lanes read as zero, a control byte at or
 * past n, which the CR LF test (j + 1 < n) already excludes.
 */
static enum scan_line_ev avx512_line_feed(struct scan_line *l, const struct scan_kernels *k,
					  const uint8_t *p, size_t n, uint8_t *buf, size_t *used)
{
	unsigned verb;
	int hi;
	__m512i v;
	uint64_t m;
	size_t j;

	if (!n || !scan_line_fast_ok(l))
		return scan_line_feed_generic(l, k, p, n, buf, used);
	v = n >= 64 ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8(z_len(n), p);
	_mm512_storeu_si512(buf + l->kept, v);
	m = z_ctl_bits(v);
	j = m ? (size_t)__builtin_ctzll(m) : 64;
	if (j + 1 >= (n < 64 ? n : 64) || !scan_is_crlf(p, j))
		return scan_line_feed_generic(l, k, p, n, buf, used);
	hi = _bzhi_u64(_mm512_movepi8_mask(v), (unsigned)j) != 0;
	if (l->len)
		return scan_line_fast_end_cont(l, j, hi, buf, used);
	verb = scan_verb_fast((uint64_t)_mm_cvtsi128_si64(_mm512_castsi512_si128(v)),
			      _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(' ')), j);
	return scan_line_fast_end(l, j, hi, verb, used);
}

const struct scan_kernels scan_kernels_avx512 = {
	.name = "avx512",
	.level = SCAN_AVX512,
	.find_ctl = avx512_find_ctl,
	.find_data = avx512_find_data,
	.line_feed = avx512_line_feed,
};
