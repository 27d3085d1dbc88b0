/*
 * scan_simd.h — private to the scanner: the per-level kernel tables and the
 * SWAR helpers the SIMD files use for inputs shorter than one vector.
 *
 * Each scan_<level>.c is built with its own -m flags, so only the
 * dispatcher in scan.c may hand these tables out, after checking the CPU.
 */
#ifndef BULWARK_SCAN_SIMD_H
#define BULWARK_SCAN_SIMD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "scan.h"

extern const struct scan_kernels scan_kernels_sse42;
extern const struct scan_kernels scan_kernels_avx2;
#ifdef SCAN_HAVE_AVX512
extern const struct scan_kernels scan_kernels_avx512;
#endif

#define SCAN_SWAR_01 0x0101010101010101ull
#define SCAN_SWAR_7F (SCAN_SWAR_01 * 0x7f)
#define SCAN_SWAR_80 (SCAN_SWAR_01 * 0x80)

/*
 * The SWAR tests below work on the low seven bits of each byte, so no sum
 * carries into the next byte and every byte's answer is exact (not just the
 * lowest one, as with the usual has-zero trick).
 */

/* Returns 0x80 in each byte of w that is zero. */
static inline uint64_t scan_swar_zero(uint64_t w)
{
	return ~(((w & SCAN_SWAR_7F) + SCAN_SWAR_7F) | w) & SCAN_SWAR_80;
}

/* Returns 0x80 in each byte of w that is < 0x20 or == 0x7f. */
static inline uint64_t scan_swar_ctl(uint64_t w)
{
	uint64_t ge20 = (w & SCAN_SWAR_7F) + SCAN_SWAR_01 * (0x80 - 0x20);

	return (~(w | ge20) & SCAN_SWAR_80) | scan_swar_zero(w ^ SCAN_SWAR_7F);
}

/* Returns 0x80 in each byte of w that is CR, LF or NUL. */
static inline uint64_t scan_swar_data(uint64_t w)
{
	return scan_swar_zero(w) | scan_swar_zero(w ^ (SCAN_SWAR_01 * '\r')) |
	       scan_swar_zero(w ^ (SCAN_SWAR_01 * '\n'));
}

/* Returns whether c is CR, LF or NUL (bits 13, 10 and 0 of 0x2401). */
static inline int scan_is_data(uint8_t c)
{
	return c < 14 && (0x2401u >> c & 1);
}

/* Returns the 8 bytes at p as a little-endian word. */
static inline uint64_t scan_swar_load(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* Returns a mask of the bits of the bytes below the lowest 0x80 in m. */
static inline uint64_t scan_swar_below(uint64_t m)
{
	return ((m & -m) >> 7) - 1;
}

/*
 * find_ctl for short inputs (any n, meant for n < one vector): whole words,
 * then one word overlapping the last one read so nothing past p + n is read.
 */
static inline size_t scan_swar_find_ctl(const uint8_t *p, size_t n, unsigned *flags)
{
	uint64_t hi = 0, w, m;
	size_t i = 0;

	if (n < 8) {
		for (; i < n; i++) {
			if (p[i] < 0x20 || p[i] == 0x7f)
				break;
			hi |= p[i];
		}
		if (hi & 0x80)
			*flags |= SCAN_K_HIGH;
		return i;
	}
	/* The last word may overlap the one before: those bytes are clean. */
	for (;;) {
		w = scan_swar_load(p + i);
		m = scan_swar_ctl(w);
		if (m) {
			hi |= w & scan_swar_below(m);
			if (hi & SCAN_SWAR_80)
				*flags |= SCAN_K_HIGH;
			return i + ((size_t)__builtin_ctzll(m) >> 3);
		}
		hi |= w;
		if (i + 8 == n)
			break;
		i = i + 16 <= n ? i + 8 : n - 8;
	}
	if (hi & SCAN_SWAR_80)
		*flags |= SCAN_K_HIGH;
	return n;
}

/* find_data for short inputs; same shape as scan_swar_find_ctl. */
static inline size_t scan_swar_find_data(const uint8_t *p, size_t n)
{
	uint64_t m;
	size_t i = 0;

	if (n < 8) {
		for (; i < n; i++)
			if (p[i] == '\r' || p[i] == '\n' || p[i] == 0)
				break;
		return i;
	}
	for (;;) {
		m = scan_swar_data(scan_swar_load(p + i));
		if (m)
			return i + ((size_t)__builtin_ctzll(m) >> 3);
		if (i + 8 == n)
			break;
		i = i + 16 <= n ? i + 8 : n - 8;
	}
	return n;
}

#endif /* BULWARK_SCAN_SIMD_H */
