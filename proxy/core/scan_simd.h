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

/*
 * scan_line_feed without a level's fast path: exact for every input, cut
 * anywhere, using k->find_ctl. The levels' line_feed entries call it for
 * whatever their fast path does not take.
 */
enum scan_line_ev scan_line_feed_generic(struct scan_line *l, const struct scan_kernels *k,
					 const uint8_t *p, size_t n, uint8_t *buf, size_t *used);

/*
 * Whether the fast path may take this call: no CR pending, not discarding,
 * and 64 bytes of room in buf past kept (so a whole vector may be stored
 * there, and a line of up to 62 content bytes cannot overflow).
 */
static inline int scan_line_fast_ok(const struct scan_line *l)
{
	return !l->cr && !(l->flags & SCAN_L_LONG) && (uint64_t)l->limit >= (uint64_t)l->len + 66;
}

/*
 * Ends the line the fast path found: j clean content bytes, already
 * copied to buf + kept, then CR LF. high says whether one of the j was
 * >= 0x80; verb is the line's verb.
 */
static inline enum scan_line_ev scan_line_fast_end(struct scan_line *l, size_t j, int high,
						   unsigned verb, size_t *used)
{
	l->len += (uint32_t)j;
	l->kept += (uint32_t)j;
	l->flags |= high ? SCAN_L_HIGH : 0;
	l->verb = (uint8_t)verb;
	*used = j + 2;
	return SCAN_LINE_END;
}

/*
 * scan_line_fast_end for a line begun in an earlier call, whose verb needs
 * the whole buffer: scan_verb on buf. Out of line (scan.c), so that the
 * fast paths reach it by a tail call and keep nothing on the stack.
 */
enum scan_line_ev scan_line_fast_end_cont(struct scan_line *l, size_t j, int high,
					  const uint8_t *buf, size_t *used);

/* Returns whether p[j], p[j + 1] are CR LF (both must be readable). */
static inline int scan_is_crlf(const uint8_t *p, size_t j)
{
	uint16_t w;

	memcpy(&w, p + j, 2);
	return w == ('\r' | '\n' << 8);
}

#define SCAN_SWAR_01 0x0101010101010101ull
#define SCAN_SWAR_7F (SCAN_SWAR_01 * 0x7f)
#define SCAN_SWAR_80 (SCAN_SWAR_01 * 0x80)

/* ---- verbs (scan_verb.c) --------------------------------------------------- */

/* A verb as a folded word: its letters lower-case, zero past its end. */
struct scan_verb_slot {
	uint64_t word;
	enum scan_verb verb;
};

#define SCAN_VERB_HASH    0xc52f4fbe8d19821full
#define SCAN_VERB_SLOT(w) ((unsigned)(((uint64_t)(w)*SCAN_VERB_HASH) >> 59))

extern const struct scan_verb_slot scan_verb_table[32] __attribute__((visibility("hidden")));

/* Returns the verb whose folded word is w, or SCAN_V_UNKNOWN (no branch). */
static inline unsigned scan_verb_lookup(uint64_t w)
{
	const struct scan_verb_slot *s = &scan_verb_table[SCAN_VERB_SLOT(w)];

	return (unsigned)s->verb & -(unsigned)(s->word == w);
}

/*
 * The verb of a line of j content bytes (j < 64) from its first eight bytes
 * (any value past j) and a mask with a bit per SP among its first bytes
 * (at least the first nine, any bits past j): the word ends at the first
 * SP or at j. OR-ing 0x20 lower-cases letters and turns nothing else into
 * a letter or into zero, so the folded word matches a table entry only when
 * it is that verb. Same answer as scan_verb (scan_verb.c says why).
 */
static inline unsigned scan_verb_fast(uint64_t first8, uint64_t sp, size_t j)
{
	unsigned len = (unsigned)__builtin_ctzll(sp | 1ull << j);
	uint64_t w = first8 | SCAN_SWAR_01 * 0x20;

#ifdef __BMI2__
	w = __builtin_ia32_bzhi_di(w, 8 * len); /* an index >= 64 keeps all */
#else
	w = len >= 8 ? w : w & ((1ull << (8 * len)) - 1);
#endif
	return scan_verb_lookup(w | (uint64_t)(len > 8) << 63);
}

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
