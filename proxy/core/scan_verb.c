/*
 * scan_verb.c — recognises the verb of a command line without a branch per
 * byte.
 *
 * Every verb has 4 to 8 letters. The first min(n, 8) bytes are read as
 * one little-endian word, zero past the end of a shorter line, with two
 * overlapping 4-byte loads (nothing past p + n is read, and no round trip
 * through a temporary stalls store forwarding). OR-ing 0x20 into every byte
 * lower-cases the letters; SWAR then finds the first byte that is not a
 * letter, all eight bytes at once, and masks it and what follows off. The
 * folded word indexes a perfect hash of the 18 verbs and one compare
 * confirms it. The byte after the word must be SP, or the line must end
 * there. Apart from n < 4 the function has no data-dependent branch the
 * compiler cannot turn into a conditional move.
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
 * multiplier was found by trying random odd constants until the 18
 * words landed in 18 distinct slots of 32. VERB_SLOT is a constant
 * expression, so a collision is caught at build time: two initialisers for
 * one slot trip -Woverride-init (in -Wextra), an error with -Werror.
 */
#define VERB_HASH    0xc52f4fbe8d19821full
#define VERB_SLOT(w) ((unsigned)(((uint64_t)(w)*VERB_HASH) >> 59))

struct verb_slot {
	uint64_t word;
	enum scan_verb verb;
};

#define VERB(w, v) [VERB_SLOT(w)] = { (w), (v) }

/* Empty slots hold word 0 and SCAN_V_UNKNOWN, so matching one is harmless. */
static const struct verb_slot verb_table[32] = {
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
	uint64_t raw, w, low7, other;
	const struct verb_slot *s;
	uint32_t a, b;
	size_t m, len;
	unsigned ok, v;

	if (n < 4) {
		*arg = 0;
		return SCAN_V_UNKNOWN;
	}
	m = n < 8 ? n : 8;
	memcpy(&a, p, 4);
	memcpy(&b, p + m - 4, 4);
	raw = a | (uint64_t)b << (8 * (m - 4)); /* the overlap holds the same bytes */
	w = raw;

	/*
	 * OR-ing 0x20 lower-cases letters and turns nothing else into one, so
	 * the word is the run of bytes that are letters after it.
	 */
	w |= SCAN_SWAR_01 * 0x20;
	low7 = w & SCAN_SWAR_7F;
	other = ~((low7 + SCAN_SWAR_01 * (0x80 - 'a')) & ~(low7 + SCAN_SWAR_01 * (0x80 - 'z' - 1)) &
		  ~raw) &
		SCAN_SWAR_80;
	w &= scan_swar_below(other);

	/* the word must end at the end of the line or at a SP */
	len = other ? (size_t)__builtin_ctzll(other) >> 3 : 8;
	ok = (len >= n) | (p[len < n ? len : n - 1] == ' ');
	s = &verb_table[VERB_SLOT(w)];
	v = (s->word == w) & ok ? (unsigned)s->verb : SCAN_V_UNKNOWN;
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
