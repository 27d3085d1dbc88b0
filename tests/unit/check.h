/*
 * check.h — the unit tests' harness: CHECK macros that count, and guard
 * pages that make any read outside an input crash.
 *
 * One test program = one .c file that includes this header (the counters
 * are static). main() ends with `return check_done("name");`, which prints
 * one summary line and returns 0 only if every check passed.
 */
#ifndef BULWARK_CHECK_H
#define BULWARK_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK_SHOW_MAX 40 /* failures printed in full; the rest only counted */

static unsigned long check_total, check_failed;

static inline int check_fail(const char *file, int line)
{
	check_failed++;
	if (check_failed <= CHECK_SHOW_MAX)
		fprintf(stderr, "%s:%d: FAIL ", file, line);
	return check_failed <= CHECK_SHOW_MAX;
}

/* Returns ok, counting one check and printing what failed. */
static inline int check_one(int ok, const char *expr, const char *file, int line)
{
	check_total++;
	if (!ok && check_fail(file, line))
		fprintf(stderr, "%s\n", expr);
	return ok;
}

static inline int check_eq(long long a, long long b, const char *ea, const char *eb,
			   const char *file, int line)
{
	check_total++;
	if (a == b)
		return 1;
	if (check_fail(file, line))
		fprintf(stderr, "%s == %s (%lld != %lld)\n", ea, eb, a, b);
	return 0;
}

static inline int check_mem(const void *a, size_t alen, const void *b, size_t blen, const char *ea,
			    const char *file, int line)
{
	check_total++;
	if (alen == blen && (!alen || !memcmp(a, b, alen)))
		return 1;
	if (check_fail(file, line))
		fprintf(stderr, "%s: %zu bytes differ from the %zu expected\n", ea, alen, blen);
	return 0;
}

#define CHECK(cond)                 check_one(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b)              check_eq((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_MEM(a, alen, b, blen) check_mem((a), (alen), (b), (blen), #a, __FILE__, __LINE__)

/*
 * Every CHECK returns whether it passed, so a loop can say where it was:
 * if (!CHECK_EQ(a, b) && check_show()) fprintf(stderr, "  len=%zu\n", n);
 */
static inline int check_show(void)
{
	return check_failed <= CHECK_SHOW_MAX;
}

/* Prints "name: N checks, M failed" and returns the exit status. */
static inline int check_done(const char *name)
{
	printf("%s: %lu checks, %lu failed\n", name, check_total, check_failed);
	return check_failed ? 1 : 0;
}

/* ---- Guard pages --------------------------------------------------------- */

/*
 * Three mappings in a row: PROT_NONE, `pages` usable pages, PROT_NONE.
 * check_guard_end() places a copy of an input so it ends right at the upper
 * guard (catches over-reads), check_guard_start() so it begins right after
 * the lower one (catches under-reads).
 */
struct check_guard {
	uint8_t *base;
	uint8_t *lo; /* first usable byte */
	size_t size; /* usable bytes */
	size_t page;
};

static inline void check_guard_init(struct check_guard *g, size_t pages)
{
	g->page = (size_t)sysconf(_SC_PAGESIZE);
	g->size = pages * g->page;
	g->base = mmap(NULL, g->size + 2 * g->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->base == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	g->lo = g->base + g->page;
	if (mprotect(g->base, g->page, PROT_NONE) ||
	    mprotect(g->lo + g->size, g->page, PROT_NONE)) {
		perror("mprotect");
		exit(2);
	}
}

static inline void check_guard_free(struct check_guard *g)
{
	munmap(g->base, g->size + 2 * g->page);
}

/* Returns a copy of p[0..n) whose last byte is the last usable one. */
static inline uint8_t *check_guard_end(struct check_guard *g, const void *p, size_t n)
{
	uint8_t *q = g->lo + g->size - n;

	if (n > g->size)
		abort();
	if (n)
		memcpy(q, p, n);
	return q;
}

/* Returns a copy of p[0..n) whose first byte is the first usable one. */
static inline uint8_t *check_guard_start(struct check_guard *g, const void *p, size_t n)
{
	if (n > g->size)
		abort();
	if (n)
		memcpy(g->lo, p, n);
	return g->lo;
}

#endif /* BULWARK_CHECK_H */
