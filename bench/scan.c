/*
 * bench/scan.c — figures for the line scanner, per kernel level, against
 * glibc memchr over the same bytes in the same run.
 *
 *   lines  ns per classified command line: the scanner calls a session
 *          makes per line (smtp_cmd_input, smtp_line_begin, process_line:
 *          scan_line_reset, scan_line_feed with the session's limits and
 *          feed sizes, classify on a partial line, the verb at the end)
 *          over a pipelined stream of legit commands (legit), the same
 *          with typos, HTTP lines and long lines (mixed), and the legit
 *          lines one per call, each call given exactly one line, as from a
 *          client that does not pipeline (1/call)
 *   ctl    GB/s of find_ctl over a 64 KiB line with no control byte until
 *          its CRLF; memchr looks for a byte that is not there
 *   data   GB/s of a DATA-body pass: find_data over ~1 MiB of 76-byte CRLF
 *          lines, stopping at each hit and going on; memchr looks for '\n'
 *
 * Each figure is the median of the runs (21 unless given); in each run the
 * levels and memchr take turns. BULWARK_SIMD=<level> measures only that
 * level (and scalar, the baseline).
 *
 * Usage: bench-scan [runs]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scan.h"

#define LONG_LINE (64u * 1024)
#define BODY_SIZE (1u << 20)
#define RUNS_MAX  101

static volatile size_t sink;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- corpora ----------------------------------------------------------- */

static size_t put(uint8_t *p, size_t off, const char *s)
{
	size_t n = strlen(s);

	memcpy(p + off, s, n);
	return off + n;
}

/* A pipelined command stream; returns its length, *lines its line count. */
static size_t make_commands(uint8_t *p, size_t cap, size_t *lines, int mixed)
{
	static const char *const legit[] = {
		"EHLO mail.example.com\r\n",
		"MAIL FROM:<alice.smith@example.org> SIZE=48213 BODY=8BITMIME\r\n",
		"RCPT TO:<bob@example.net>\r\n",
		"RCPT TO:<carol.jones@sub.example.net> NOTIFY=FAILURE\r\n",
		"DATA\r\n",
		"QUIT\r\n",
		"RSET\r\n",
		"NOOP\r\n",
		"STARTTLS\r\n",
		"HELO relay.example.com\r\n",
		"AUTH PLAIN AGFsaWNlAHNlY3JldHBhc3N3b3Jk\r\n",
	};
	static const char *const junk[] = {
		"HLEO mail.example.com\r\n",
		"MIAL FROM:<a@b.example>\r\n",
		"GET / HTTP/1.1\r\n",
		"Host: mx.example.com\r\n",
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n",
		"EHLO\tx\r\n",
	};
	size_t off = 0, i, n = 0, len;
	unsigned r;

	while (off + 700 < cap) {
		r = mixed ? (unsigned)(rnd() % 100) : 0;
		if (r < 70) {
			off = put(p, off, legit[rnd() % (sizeof(legit) / sizeof(legit[0]))]);
		} else if (r < 92) {
			off = put(p, off, junk[rnd() % (sizeof(junk) / sizeof(junk[0]))]);
		} else {
			/* long lines: near the limit, or over it */
			len = r < 97 ? 300 + rnd() % 200 : 520 + rnd() % 160;
			off = put(p, off, "RCPT TO:<");
			for (i = 0; i < len; i++)
				p[off++] = (uint8_t)('a' + rnd() % 26);
			off = put(p, off, "@example.com>\r\n");
		}
		n++;
	}
	*lines = n;
	return off;
}

static void make_body(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(0x20 + rnd() % 95);
	for (i = 76; i + 1 < n; i += 78) {
		p[i] = '\r';
		p[i + 1] = '\n';
	}
}

/* ---- measurements ------------------------------------------------------ */

/* verb_limit() in smtp_cmd.c for a listener without AUTH: line_max 1000 */
#define BENCH_LINE_MAX SCAN_LINE_MAX_PARAMS

static uint32_t bench_verb_limit(enum scan_verb v)
{
	return v == SCAN_V_MAIL || v == SCAN_V_RCPT ? SCAN_LINE_MAX_PARAMS : SCAN_LINE_MAX;
}

/*
 * One call of the session's line step on p[0..n) (smtp_cmd_input without the
 * protocol): until the first word is known the line may take only what
 * cannot pass the smallest verb limit; a partial line is classified as
 * classify() does; a complete one yields its verb (process_line). Returns
 * the bytes used; *acc sums what was found so that nothing is optimised out.
 */
static inline size_t bench_line_step(const struct scan_kernels *k, struct scan_line *l, int *known,
				     const uint8_t *p, size_t n, uint8_t *buf, size_t *acc)
{
	size_t used, feed = n, arg, i, m;
	enum scan_line_ev ev;
	enum scan_verb v;

	if (!*known && l->len < SCAN_LINE_MAX - 2 && feed > SCAN_LINE_MAX - 2 - l->len)
		feed = SCAN_LINE_MAX - 2 - l->len;
	ev = scan_line_feed(l, k, p, feed, buf, &used);
	if (ev == SCAN_LINE_END) {
		if (!(l->flags & SCAN_L_LONG)) {
			v = scan_line_verb(l, &arg);
			*acc += v + arg + l->flags;
		}
		scan_line_reset(l, BENCH_LINE_MAX);
		*known = 0;
	} else if (ev == SCAN_LINE_MORE && !*known) {
		m = l->kept < 16 ? l->kept : 16;
		for (i = 0; i < m && buf[i] != ' '; i++)
			;
		if (i < m || l->len >= 16) {
			*known = 1;
			v = i < m ? scan_verb(buf, i + 1, &arg) : SCAN_V_UNKNOWN;
			l->limit = bench_verb_limit(v);
		}
	} else if (ev == SCAN_LINE_OVERFLOW) {
		*known = 1;
	}
	return used;
}

/* ns per line over a pipelined stream p[0..n) of lines, fed as it comes */
static double bench_lines(const struct scan_kernels *k, const uint8_t *p, size_t n, size_t lines)
{
	uint8_t buf[BENCH_LINE_MAX - 2];
	struct scan_line l;
	size_t off = 0, acc = 0;
	double t0, t1;
	int known = 0;

	t0 = now_ns();
	scan_line_reset(&l, BENCH_LINE_MAX);
	while (off < n)
		off += bench_line_step(k, &l, &known, p + off, n - off, buf, &acc);
	t1 = now_ns();
	sink += acc;
	return (t1 - t0) / (double)lines;
}

/* ns per line when each call is given exactly one line (lp[i], ln[i]) */
static double bench_lines_one(const struct scan_kernels *k, const uint8_t *const *lp,
			      const size_t *ln, size_t lines)
{
	uint8_t buf[BENCH_LINE_MAX - 2];
	struct scan_line l;
	size_t i, off, acc = 0;
	double t0, t1;
	int known = 0;

	t0 = now_ns();
	scan_line_reset(&l, BENCH_LINE_MAX);
	for (i = 0; i < lines; i++)
		for (off = 0; off < ln[i];)
			off += bench_line_step(k, &l, &known, lp[i] + off, ln[i] - off, buf, &acc);
	t1 = now_ns();
	sink += acc;
	return (t1 - t0) / (double)lines;
}

/* GB/s of find_ctl (k) or memchr (k == NULL) over p[0..n), reps times. */
static double bench_ctl(const struct scan_kernels *k, const uint8_t *p, size_t n, int reps)
{
	size_t acc = 0;
	unsigned f = 0;
	double t0, t1;
	int i;

	t0 = now_ns();
	for (i = 0; i < reps; i++) {
		if (k)
			acc += k->find_ctl(p, n, &f);
		else
			acc += memchr(p, 0x01, n) != NULL;
		__asm__ volatile("" ::: "memory");
	}
	t1 = now_ns();
	sink += acc + f;
	return (double)n * reps / (t1 - t0);
}

static double bench_data(const struct scan_kernels *k, const uint8_t *p, size_t n, int reps)
{
	size_t acc = 0, i, j;
	const uint8_t *q;
	double t0, t1;
	int r;

	t0 = now_ns();
	for (r = 0; r < reps; r++) {
		if (k) {
			for (i = 0; i < n; i += j + 1) {
				j = k->find_data(p + i, n - i);
				acc++;
			}
		} else {
			for (i = 0; i < n; i = (size_t)(q - p) + 1) {
				q = memchr(p + i, '\n', n - i);
				if (!q)
					break;
				acc++;
			}
		}
		__asm__ volatile("" ::: "memory");
	}
	t1 = now_ns();
	sink += acc;
	return (double)n * reps / (t1 - t0);
}

struct row {
	const char *name;
	double ns_ok, ns_line, ns_one, ctl, data;
};

int main(int argc, char **argv)
{
	const char *want = getenv("BULWARK_SIMD");
	const struct scan_kernels *ks[SCAN_LEVEL_COUNT], *k;
	size_t cmd_cap = 1u << 20, cmd_n, lines, ok_n, ok_lines;
	uint8_t *cmd = malloc(cmd_cap), *ok = malloc(cmd_cap);
	uint8_t *lng = malloc(LONG_LINE), *body = malloc(BODY_SIZE);
	const uint8_t **lp = malloc(cmd_cap * sizeof(*lp));
	size_t *ln = malloc(cmd_cap * sizeof(*ln)), j, at, start;
	int runs = argc > 1 ? atoi(argv[1]) : 21, nk = 0, i, r, err, scalar_k;
	static double v[5][SCAN_LEVEL_COUNT + 1][RUNS_MAX + 1];
	struct row rows[SCAN_LEVEL_COUNT + 1];
	const struct row *avx2 = NULL, *scalar = NULL, *mem;

	if (!cmd || !ok || !lng || !body || !lp || !ln)
		return 1;
	if (runs < 1 || runs > RUNS_MAX)
		runs = 21;
	k = scan_pick(NULL, &err);
	printf("scan_pick(NULL) on this CPU: %s\n", k ? k->name : "none");

	ks[nk++] = scan_kernels_get(SCAN_SCALAR);
	if (want && *want) {
		k = scan_pick(want, &err);
		if (!k) {
			fprintf(stderr, "BULWARK_SIMD=%s: %s\n", want,
				err == -EINVAL ? "unknown level" : "not supported here");
			return 1;
		}
		if (k->level != SCAN_SCALAR)
			ks[nk++] = k;
	} else {
		for (i = SCAN_SCALAR + 1; i < SCAN_LEVEL_COUNT; i++)
			if ((k = scan_kernels_get((enum scan_level)i)))
				ks[nk++] = k;
	}

	cmd_n = make_commands(cmd, cmd_cap, &lines, 1);
	ok_n = make_commands(ok, cmd_cap, &ok_lines, 0);
	for (j = 0, at = 0, start = 0; j < ok_n; j++)
		if (ok[j] == '\n') {
			lp[at] = ok + start;
			ln[at++] = j + 1 - start;
			start = j + 1;
		}
	memset(lng, 'x', LONG_LINE);
	for (i = 0; i < (int)LONG_LINE; i += 7)
		lng[i] = (uint8_t)(0x21 + i % 90);
	lng[LONG_LINE - 2] = '\r';
	lng[LONG_LINE - 1] = '\n';
	make_body(body, BODY_SIZE);
	printf(
	    "corpus: mixed stream %zu lines, %.1f bytes/line (70%% legit, 22%% typos/HTTP/"
	    "headers, 8%% long: 300-680 bytes)\n"
	    "        legit stream %zu lines, %.1f bytes/line (1/call: the same lines, one per "
	    "call)\n        %u KiB long line; %u KiB body of 78-byte lines; median of %d runs\n\n",
	    lines, (double)cmd_n / (double)lines, ok_lines, (double)ok_n / (double)ok_lines,
	    LONG_LINE / 1024, BODY_SIZE / 1024, runs);

	/*
	 * Levels take turns within each run, so a burst of noise from other
	 * processes hits them alike and the ratios stay fair.
	 */
	for (r = -1; r < runs; r++) /* run -1 warms caches and clocks up */
		for (i = 0; i <= nk; i++) {
			k = i < nk ? ks[i] : NULL;
			scalar_k = k && k->level == SCAN_SCALAR;
			v[0][i][r + 1] = k ? bench_lines(k, ok, ok_n, ok_lines) : 0;
			v[1][i][r + 1] = k ? bench_lines(k, cmd, cmd_n, lines) : 0;
			v[4][i][r + 1] = k ? bench_lines_one(k, lp, ln, at) : 0;
			v[2][i][r + 1] = bench_ctl(k, lng, LONG_LINE, scalar_k ? 200 : 4000);
			v[3][i][r + 1] = bench_data(k, body, BODY_SIZE, scalar_k ? 4 : 20);
		}
	for (i = 0; i <= nk; i++) {
		k = i < nk ? ks[i] : NULL;
		rows[i].name = k ? k->name : "memchr";
		rows[i].ns_ok = median(v[0][i] + 1, runs);
		rows[i].ns_line = median(v[1][i] + 1, runs);
		rows[i].ns_one = median(v[4][i] + 1, runs);
		rows[i].ctl = median(v[2][i] + 1, runs);
		rows[i].data = median(v[3][i] + 1, runs);
		if (k && k->level == SCAN_AVX2)
			avx2 = &rows[i];
		if (k && k->level == SCAN_SCALAR)
			scalar = &rows[i];
	}
	mem = &rows[nk];

	printf("%-8s %22s %15s %15s\n", "", "ns/line", "find_ctl", "DATA pass");
	printf("%-8s %6s %7s %7s %15s %15s\n", "level", "legit", "mixed", "1/call", "GB/s", "GB/s");
	for (i = 0; i <= nk; i++) {
		if (i < nk)
			printf("%-8s %6.2f %7.2f %7.2f %15.2f %15.2f\n", rows[i].name,
			       rows[i].ns_ok, rows[i].ns_line, rows[i].ns_one, rows[i].ctl,
			       rows[i].data);
		else
			printf("%-8s %6s %7s %7s %15.2f %15.2f\n", rows[i].name, "-", "-", "-",
			       rows[i].ctl, rows[i].data);
	}
	if (avx2 && scalar)
		printf("\navx2/scalar: lines %.2fx (legit) %.2fx (mixed) %.2fx (1/call) faster, "
		       "find_ctl %.2fx, DATA %.2fx\n",
		       scalar->ns_ok / avx2->ns_ok, scalar->ns_line / avx2->ns_line,
		       scalar->ns_one / avx2->ns_one, avx2->ctl / scalar->ctl,
		       avx2->data / scalar->data);
	if (avx2)
		printf("avx2/memchr: find_ctl %.2f, DATA %.2f (1.00 = as fast as memchr)\n",
		       avx2->ctl / mem->ctl, avx2->data / mem->data);
	for (i = 0; i < nk; i++)
		if (ks[i]->level != SCAN_AVX2 && ks[i]->level != SCAN_SCALAR)
			printf("%s/memchr: find_ctl %.2f, DATA %.2f\n", rows[i].name,
			       rows[i].ctl / mem->ctl, rows[i].data / mem->data);
	free(lp);
	free(ln);
	free(cmd);
	free(ok);
	free(lng);
	free(body);
	return 0;
}
