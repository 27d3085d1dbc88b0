/*
 * bench/limits.c — what the per-client checks cost per connection
 * (issue 7): climit_open + climit_close on a table of 65536 entries under
 * a working set of clients, and cidr_set_has over lists of 1k and 100k
 * random prefixes; baseline in the same run: a linear scan over the same
 * 1k ranges (what a naive list would do). Prints medians of 11 runs.
 *
 *   bench-limits
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cidr.h"
#include "climit.h"

#define RUNS 11
#define OPS  2000000u

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(v[0]), dcmp);
	return v[RUNS / 2];
}

static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 32);
}

static volatile uint32_t sink;

static double bench_climit(uint32_t clients)
{
	static const uint64_t key[2] = { 1, 2 };
	struct climit_cfg c = { .sessions = 20, .rate = 10, .errors_per_min = 30 };
	size_t sz = climit_mem(65536);
	void *mem = malloc(sz);
	struct climit t;
	uint64_t s = 42;
	double r[RUNS];

	climit_init(&t, mem, 65536, key);
	for (int k = 0; k < RUNS; k++) {
		double t0 = now_ns();

		for (uint32_t i = 0; i < OPS; i++) {
			uint32_t a = 0x0a000000u + rnd(&s) % clients + 1;
			int tr;

			if (climit_open(&t, &c, a, i / 1000, &tr) == CLIMIT_OK && tr)
				climit_close(&t, &c, a, 0, i / 1000);
		}
		r[k] = (now_ns() - t0) / OPS;
	}
	free(mem);
	return median(r);
}

static struct cidr_set *random_set(uint32_t n, char **textp)
{
	char *text = malloc((size_t)n * 24), err[256];
	uint64_t s = 7;
	size_t at = 0;
	struct cidr_set *set;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t p = 16 + rnd(&s) % 17, a = rnd(&s) & (p ? ~0u << (32 - p) : 0);

		at += (size_t)sprintf(text + at, "%u.%u.%u.%u/%u\n", a >> 24, a >> 16 & 255,
				      a >> 8 & 255, a & 255, p);
	}
	set = cidr_set_parse(text, at, "bench", n, err, sizeof(err));
	if (set == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	*textp = text;
	return set;
}

static double bench_lookup(const struct cidr_set *set, int linear)
{
	double r[RUNS];
	uint64_t s = 9;

	for (int k = 0; k < RUNS; k++) {
		double t0 = now_ns();
		uint32_t hits = 0;

		for (uint32_t i = 0; i < OPS; i++) {
			uint32_t a = rnd(&s);

			if (linear) {
				uint32_t h = __builtin_bswap32(a);

				for (uint32_t j = 0; j < set->n; j++)
					hits += h >= set->r[j].lo && h <= set->r[j].hi;
			} else {
				hits += (uint32_t)cidr_set_has(set, a);
			}
		}
		sink = hits;
		r[k] = (now_ns() - t0) / OPS;
	}
	return median(r);
}

int main(void)
{
	char *t1, *t2;
	struct cidr_set *s1 = random_set(1000, &t1), *s2 = random_set(100000, &t2);
	double lin = bench_lookup(s1, 1), b1 = bench_lookup(s1, 0), b2 = bench_lookup(s2, 0);

	printf("climit open+close, table 65536, 1000 clients:   %6.1f ns/connection\n",
	       bench_climit(1000));
	printf("climit open+close, table 65536, 100000 clients: %6.1f ns/connection\n",
	       bench_climit(100000));
	printf("cidr_set_has, 1000 prefixes (%u ranges):      %6.1f ns/lookup\n", s1->n, b1);
	printf("cidr_set_has, 100000 prefixes (%u ranges):   %6.1f ns/lookup\n", s2->n, b2);
	printf("baseline: linear scan of the same %u ranges:  %6.1f ns/lookup (%.0fx the binary "
	       "search)\n",
	       s1->n, lin, lin / b1);
	cidr_set_free(s1);
	cidr_set_free(s2);
	free(t1);
	free(t2);
	return 0;
}
