/*
 * scan_verb.c — recognises the verb of a command line without a branch per
 * byte.
 *
 * Every verb has 4 to 8 letters. The first min(n, 8) bytes are read as
 * one little-endian word with two overlapping 4-byte loads (nothing past
 * p + n is read, and no round trip through a temporary), the missing bytes
 * filled with SP. The word ends at
 * its first SP (SWAR); OR-ing 0x20 into what is before it lower-cases the
 * letters and turns nothing else into a letter or into zero, so the folded
 * word equals a table entry (lower-case letters, zero past the end) only
 * when it is that verb: no separate letter test is needed. The folded word
 * indexes a perfect hash of the 18 verbs and one compare confirms it. A
 * word of 8 letters must still be followed by SP or the end of the line.
 * Apart from n < 4 the function has no data-dependent branch: command
 * lines of mixed lengths would mispredict one on every other line.
 */
#include <string.h>

#include "scan.h"
#include "scan_simd.h"

#define V8(a, b, c, d, e, f, g, h)                                                                 \
	((uint64_t)(a) | (uint64_t)(b) << 8 | (uint64_t)(c) << 16 | (uint64_t)(d) << 24 |          \
	 (uint64_t)(e) << 32 | (uint64_t)(f) << 40 | (uint64_t)(g) << 48 | (uint64_t)(h) << 56)
#define V4(a, b, c, d) V8(a, b, c, d, 0, 0, 0, 0)

/*
 * The words are kept lower-case, as they look after folding. The
 * multiplier (SCAN_VERB_SLOT, scan_simd.h) was found by trying random odd
 * constants until the 18 words landed in 18 distinct slots of 32.
 * SCAN_VERB_SLOT is a constant expression, so a collision is caught at
 * build time: two initialisers for one slot trip -Woverride-init (in
 * -Wextra), an error with -Werror.
 */
#define VERB(w, v) [SCAN_VERB_SLOT(w)] = { (w), (v) }

/* Empty slots hold word 0 and SCAN_V_UNKNOWN, so matching one is harmless. */
const struct scan_verb_slot scan_verb_table[32] = {
	VERB(V4('h', 'e', 'l', 'o'), SCAN_V_HELO),
	VERB(V4('e', 'h', 'l', 'o'), SCAN_V_EHLO),
	VERB(V4('m', 'a', 'i', 'l'), SCAN_V_MAIL),
	VERB(V4('r', 'c', 'p', 't'), SCAN_V_RCPT),
	VERB(V4('d', 'a', 't', 'a'), SCAN_V_DATA),
	VERB(V4('b', 'd', 'a', 't'), SCAN_V_BDAT),
	VERB(V4('q', 'u', 'i', 't'), SCAN_V_QUIT),
	VERB(V4('r', 's', 'e', 't'), SCAN_V_RSET),
	VERB(V4('v', 'r', 'f', 'y'), SCAN_V_VRFY),
	VERB(V4('e', 'x', 'p', 'n'), SCAN_V_EXPN),
	VERB(V4('n', 'o', 'o', 'p'), SCAN_V_NOOP),
	VERB(V4('h', 'e', 'l', 'p'), SCAN_V_HELP),
	VERB(V4('a', 'u', 't', 'h'), SCAN_V_AUTH),
	VERB(V8('s', 't', 'a', 'r', 't', 't', 'l', 's'), SCAN_V_STARTTLS),
	VERB(V4('e', 't', 'r', 'n'), SCAN_V_ETRN),
	VERB(V4('t', 'u', 'r', 'n'), SCAN_V_TURN),
	VERB(V8('x', 'c', 'l', 'i', 'e', 'n', 't', 0), SCAN_V_XCLIENT),
	VERB(V8('x', 'f', 'o', 'r', 'w', 'a', 'r', 'd'), SCAN_V_XFORWARD),
};

enum scan_verb scan_verb(const uint8_t *p, size_t n, size_t *arg)
{
	uint64_t raw, x, sp, w;
	uint32_t a, b;
	size_t m, len;
	unsigned v, sh;

	if (n < 4) {
		*arg = 0;
		return SCAN_V_UNKNOWN;
	}
	/*
	 * Line lengths come mixed, so the 4..7 and 8+ cases share one path
	 * rather than a branch that would mispredict on every other line.
	 */
	m = n < 8 ? n : 8;
	sh = 4 * (unsigned)m; /* two shifts by sh: no shift by 64 when m = 8 */
	memcpy(&a, p, 4);
	memcpy(&b, p + m - 4, 4);
	/* the overlap holds the same bytes; SP from m on ends the word there */
	raw = a | (uint64_t)b << (8 * (m - 4)) | (SCAN_SWAR_01 * ' ') << sh << sh;

	/* the lowest SP byte (the has-zero test is exact for the lowest one) */
	x = raw ^ (SCAN_SWAR_01 * ' ');
	sp = (x - SCAN_SWAR_01) & ~x & SCAN_SWAR_80;
	w = (raw | SCAN_SWAR_01 * 0x20) & scan_swar_below(sp);
	len = sp ? (size_t)__builtin_ctzll(sp) >> 3 : 8;
	/* eight letters and more: only SP or the end of the line may follow */
	w |= (uint64_t)(!sp & (n > 8) & (p[n > 8 ? 8 : 0] != ' ')) << 63;

	v = scan_verb_lookup(w);
	*arg = v ? (len < n ? len + 1 : n) : 0;
	return (enum scan_verb)v;
}

static const char *const verb_names[SCAN_V_COUNT] = {
	[SCAN_V_UNKNOWN] = "unknown",   [SCAN_V_HELO] = "HELO", [SCAN_V_EHLO] = "EHLO",
	[SCAN_V_MAIL] = "MAIL",         [SCAN_V_RCPT] = "RCPT", [SCAN_V_DATA] = "DATA",
	[SCAN_V_BDAT] = "BDAT",         [SCAN_V_QUIT] = "QUIT", [SCAN_V_RSET] = "RSET",
	[SCAN_V_VRFY] = "VRFY",         [SCAN_V_EXPN] = "EXPN", [SCAN_V_NOOP] = "NOOP",
	[SCAN_V_HELP] = "HELP",         [SCAN_V_AUTH] = "AUTH", [SCAN_V_STARTTLS] = "STARTTLS",
	[SCAN_V_ETRN] = "ETRN",         [SCAN_V_TURN] = "TURN", [SCAN_V_XCLIENT] = "XCLIENT",
	[SCAN_V_XFORWARD] = "XFORWARD",
};

const char *scan_verb_name(enum scan_verb v)
{
	if ((unsigned)v >= SCAN_V_COUNT)
		return "unknown";
	return verb_names[v];
}
