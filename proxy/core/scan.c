/*
 * scan.c — scalar reference kernels, the dispatcher and the command-line
 * assembler. See scan.h for the contracts.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "scan.h"
#include "scan_simd.h"

/* ---- Scalar reference kernels ------------------------------------------ */

/*
 * Deliberately the plainest loop: every other level is tested and fuzzed
 * against these two, so they must be obviously right, not fast.
 */
static size_t scalar_find_ctl(const uint8_t *p, size_t n, unsigned *flags)
{
	unsigned high = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			break;
		high |= p[i];
	}
	if (high & 0x80)
		*flags |= SCAN_K_HIGH;
	return i;
}

static size_t scalar_find_data(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == '\r' || p[i] == '\n' || p[i] == 0)
			break;
	return i;
}

static const struct scan_kernels scan_kernels_scalar = {
	.name = "scalar",
	.level = SCAN_SCALAR,
	.find_ctl = scalar_find_ctl,
	.find_data = scalar_find_data,
	.line_feed = scan_line_feed_generic,
};

/* ---- Dispatch ------------------------------------------------------------ */

/*
 * Each SIMD file may use any instruction its -m flags allow (the compiler
 * emits BMI and POPCNT on its own), so the check covers every flag given to
 * that file in meson.build. __builtin_cpu_supports also checks that the OS
 * saves the vector state (XCR0), so AVX on a kernel without it reads as off.
 */
#if defined(__x86_64__) || defined(__i386__)
static int cpu_runs(enum scan_level level)
{
	__builtin_cpu_init();
	switch (level) {
	case SCAN_SCALAR:
		return 1;
	case SCAN_SSE42:
		return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt");
	case SCAN_AVX2:
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
		       __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
	case SCAN_AVX512:
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		       __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("bmi") &&
		       __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
	default:
		return 0;
	}
}
#else
static int cpu_runs(enum scan_level level)
{
	return level == SCAN_SCALAR;
}
#endif

const struct scan_kernels *scan_kernels_get(enum scan_level level)
{
	const struct scan_kernels *k;

	switch (level) {
	case SCAN_SCALAR:
		return &scan_kernels_scalar;
	case SCAN_SSE42:
		k = &scan_kernels_sse42;
		break;
	case SCAN_AVX2:
		k = &scan_kernels_avx2;
		break;
#ifdef SCAN_HAVE_AVX512
	case SCAN_AVX512:
		k = &scan_kernels_avx512;
		break;
#endif
	default:
		return NULL;
	}
	return cpu_runs(level) ? k : NULL;
}

static const char *const level_names[SCAN_LEVEL_COUNT] = {
	[SCAN_SCALAR] = "scalar",
	[SCAN_SSE42] = "sse42",
	[SCAN_AVX2] = "avx2",
	[SCAN_AVX512] = "avx512",
};

/*
 * The "auto" level. AVX-512 pays on one short line per call (one masked
 * load: a third faster than AVX2 in bench/RESULTS.md) and is level with
 * AVX2 elsewhere, but on cores before Ice Lake 512-bit instructions lower
 * the clock of everything else the core runs. AVX512-VBMI2 marks the cores
 * where they do not (Ice Lake and later, Zen 4), so only those get it.
 */
static const struct scan_kernels *scan_auto(void)
{
	const struct scan_kernels *k;
	int level;

#if defined(__x86_64__) || defined(__i386__)
	k = scan_kernels_get(SCAN_AVX512);
	if (k && __builtin_cpu_supports("avx512vbmi2"))
		return k;
#endif
	for (level = SCAN_AVX2; level > SCAN_SCALAR; level--) {
		k = scan_kernels_get((enum scan_level)level);
		if (k)
			return k;
	}
	return &scan_kernels_scalar;
}

const struct scan_kernels *scan_pick(const char *want, int *err)
{
	const struct scan_kernels *k;
	int level;

	if (err)
		*err = 0;
	if (!want || !*want || !strcasecmp(want, "auto"))
		return scan_auto();
	for (level = 0; level < SCAN_LEVEL_COUNT; level++) {
		if (strcasecmp(want, level_names[level]))
			continue;
		k = scan_kernels_get((enum scan_level)level);
		if (!k && err)
			*err = -ENOTSUP;
		return k;
	}
	if (err)
		*err = -EINVAL;
	return NULL;
}

/* ---- Command lines ------------------------------------------------------ */

void scan_line_reset(struct scan_line *l, uint32_t limit)
{
	memset(l, 0, sizeof(*l));
	l->limit = limit < 3 ? 3 : limit;
}

/*
 * Bytes that fit in the buffer. A struct zeroed without scan_line_reset
 * has limit 0: treat it as the smallest legal limit rather than let
 * limit - 2 wrap around and the copy run off the caller's buffer.
 */
static uint32_t line_cap(const struct scan_line *l)
{
	return l->limit < 3 ? 1 : l->limit - 2;
}

/*
 * Discard mode, after an overflow: only the next LF matters. The bytes
 * dropped here add no flags, so the flags describe the bytes up to and
 * including the one that passed the limit, however the line was cut.
 */
static enum scan_line_ev line_discard(const uint8_t *p, size_t n, size_t *used)
{
	const uint8_t *lf = n ? memchr(p, '\n', n) : NULL;

	if (!lf) {
		*used = n;
		return SCAN_LINE_MORE;
	}
	*used = (size_t)(lf - p) + 1;
	return SCAN_LINE_END;
}

/*
 * memcpy for the run before a control byte. Most runs are a whole command
 * line of under 64 bytes, and when 64 bytes can be read from the input and
 * written to the buffer the caller copies exactly 64: bytes past kept are
 * scratch (scan.h), and one fixed-size copy saves the branch on the size,
 * which a mix of line lengths mispredicts every other line. Otherwise this
 * copies exactly n bytes, inline for the common sizes with two overlapping
 * moves each. The tail goes first so that the head is written last, in one
 * store: the verb test reads the line's first bytes right away, and a load
 * that spans two stores cannot be forwarded from the store buffer (a stall
 * of a dozen cycles on current x86 cores).
 */
static inline void line_copy(uint8_t *d, const uint8_t *s, size_t n)
{
	if (n > 64) {
		memcpy(d, s, n);
	} else if (n > 32) {
		memcpy(d + n - 32, s + n - 32, 32);
		memcpy(d, s, 32);
	} else if (n >= 16) {
		memcpy(d + n - 16, s + n - 16, 16);
		memcpy(d, s, 16);
	} else if (n >= 8) {
		memcpy(d + n - 8, s + n - 8, 8);
		memcpy(d, s, 8);
	} else if (n >= 4) {
		memcpy(d + n - 4, s + n - 4, 4);
		memcpy(d, s, 4);
	} else if (n) {
		d[n - 1] = s[n - 1];
		d[n / 2] = s[n / 2];
		d[0] = s[0];
	}
}

/*
 * Appends one content byte the kernel stopped at (a control byte, or a CR
 * shown to be bare). Returns 1 when it made the line pass its cap.
 */
static inline int line_put(uint32_t *len, uint32_t *kept, uint32_t cap, uint8_t *buf, uint8_t c)
{
	if (*len < cap)
		buf[(*kept)++] = c;
	return ++*len > cap;
}

/*
 * The shared path (scan_simd.h); each level's line_feed falls back to it.
 * The state lives in locals while the bytes are scanned and is written back
 * once, so the compiler need not reload it after every kernel call. A clean
 * line costs one kernel call, one copy and the CR LF check. After an
 * overflow len stays at limit - 1: the discarded bytes are not counted.
 */
enum scan_line_ev scan_line_feed_generic(struct scan_line *l, const struct scan_kernels *k,
					 const uint8_t *p, size_t n, uint8_t *buf, size_t *used)
{
	uint32_t cap = line_cap(l), len = l->len, kept = l->kept, room, keep;
	unsigned flags = l->flags, kf;
	enum scan_line_ev ev = SCAN_LINE_MORE;
	size_t i = 0, j, win, arg;
	uint8_t c;

	if (flags & SCAN_L_LONG)
		return line_discard(p, n, used);
	if (len > cap)
		goto overflow; /* the caller lowered limit below what the line holds */

	/* A CR that ended the previous segment: this byte says what it was. */
	if (l->cr && n) {
		l->cr = 0;
		if (p[0] == '\n') {
			i = 1;
			ev = SCAN_LINE_END;
			goto out;
		}
		flags |= SCAN_L_BARECR;
		if (line_put(&len, &kept, cap, buf, '\r'))
			goto overflow; /* with i = 0: the CR was consumed by an earlier call */
	}

	while (i < n) {
		/*
		 * The kernel sees at most one byte more than still fits, so a
		 * high byte past the overflow point never sets SCAN_L_HIGH and
		 * the flags do not depend on how the line was cut.
		 */
		room = cap - len;
		win = n - i < (size_t)room + 1 ? n - i : (size_t)room + 1;
		kf = 0;
		j = k->find_ctl(p + i, win, &kf);
		flags |= kf & SCAN_K_HIGH ? SCAN_L_HIGH : 0;
		keep = j < room ? (uint32_t)j : room;
		if (j <= 64 && room >= 64 && n - i >= 64)
			memcpy(buf + kept, p + i, 64); /* see line_copy */
		else
			line_copy(buf + kept, p + i, keep);
		kept += keep;
		len += (uint32_t)j;
		i += j;
		if (len > cap)
			goto overflow;
		if (i == n)
			break;

		c = p[i++];
		if (c == '\n') {
			flags |= SCAN_L_BARELF;
			ev = SCAN_LINE_END;
			goto out;
		}
		if (c == '\r') {
			if (i == n) {
				l->cr = 1;
				break;
			}
			if (p[i] == '\n') {
				i++;
				ev = SCAN_LINE_END;
				goto out;
			}
			flags |= SCAN_L_BARECR;
		} else {
			flags |= c ? SCAN_L_CTL : SCAN_L_NUL;
		}
		if (line_put(&len, &kept, cap, buf, c))
			goto overflow;
	}
	goto out;
overflow:
	ev = SCAN_LINE_OVERFLOW;
	flags |= SCAN_L_LONG;
out:
	l->len = len;
	l->kept = kept;
	l->flags = (uint16_t)flags;
	if (ev == SCAN_LINE_END)
		l->verb = (uint8_t)scan_verb(buf, kept, &arg);
	*used = i;
	return ev;
}

enum scan_line_ev scan_line_fast_end_cont(struct scan_line *l, size_t j, int high,
					  const uint8_t *buf, size_t *used)
{
	size_t arg;

	return scan_line_fast_end(l, j, high, scan_verb(buf, l->kept + j, &arg), used);
}

/* The level's own entry: the fast path lives with that level's kernels. */
enum scan_line_ev scan_line_feed(struct scan_line *l, const struct scan_kernels *k,
				 const uint8_t *p, size_t n, uint8_t *buf, size_t *used)
{
	return k->line_feed(l, k, p, n, buf, used);
}
