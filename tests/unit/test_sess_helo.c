/*
 * test_sess_helo.c — the EHLO/HELO argument slab (proxy/sess_helo.c):
 * size classes, borrowing from a larger class, exhaustion, reuse, and the
 * in-use count bench-junk reports.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sess_helo.h"

/* An argument of n octets whose bytes depend on seed. */
static void arg_of(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)('a' + (i * 7 + seed) % 26);
}

static void test_classes(void)
{
	struct sess_helo_pool p;
	uint8_t arg[255], *mem;
	const uint8_t *got;
	uint32_t r[6];
	size_t n;

	/* 64 sessions: every class has its floor of 64 objects */
	CHECK_EQ(sess_helo_mem(64), 64 * (16 + 32 + 64 + 128 + 256));
	mem = aligned_alloc(64, sess_helo_mem(64));
	sess_helo_init(&p, mem, 64);
	CHECK_EQ(sess_helo_in_use(&p), 0);
	arg_of(arg, sizeof(arg), 1);
	r[0] = sess_helo_put(&p, arg, 13); /* 13 + its length octet: 16 */
	r[1] = sess_helo_put(&p, arg, 15);
	r[2] = sess_helo_put(&p, arg, 16); /* 17: the 32-byte class */
	r[3] = sess_helo_put(&p, arg, 255);
	r[4] = sess_helo_put(&p, arg, 0);
	r[5] = sess_helo_put(&p, arg, 256);
	CHECK(r[0] && r[1] && r[2] && r[3]);
	CHECK_EQ(r[4], 0);
	CHECK_EQ(r[5], 0);
	CHECK_EQ(sess_helo_in_use(&p), 16 + 16 + 32 + 256);
	got = sess_helo_get(&p, r[0], &n);
	CHECK_MEM(got, n, arg, 13);
	got = sess_helo_get(&p, r[3], &n);
	CHECK_MEM(got, n, arg, 255);
	for (int i = 0; i < 4; i++)
		sess_helo_free(&p, r[i]);
	sess_helo_free(&p, 0);
	CHECK_EQ(sess_helo_in_use(&p), 0);
	sess_helo_fini(&p);
	free(mem);
}

static void test_exhaustion(void)
{
	static uint32_t refs[64 * 5 + 1];
	struct sess_helo_pool p;
	uint8_t arg[255], *mem;
	const uint8_t *got;
	size_t n, k = 0;
	int bad = 0;

	mem = aligned_alloc(64, sess_helo_mem(64));
	sess_helo_init(&p, mem, 64);
	/* short arguments fill the 16-byte class, then borrow upwards */
	for (;;) {
		arg_of(arg, 10, (unsigned)k);
		refs[k] = sess_helo_put(&p, arg, 10);
		if (refs[k] == 0)
			break;
		k++;
	}
	CHECK_EQ(k, 64 * 5);
	CHECK_EQ(sess_helo_in_use(&p), sess_helo_mem(64));
	for (size_t i = 0; i < k; i++) {
		arg_of(arg, 10, (unsigned)i);
		got = sess_helo_get(&p, refs[i], &n);
		bad += n != 10 || memcmp(got, arg, 10) != 0;
	}
	CHECK_EQ(bad, 0);
	/* a long one finds no room; freeing a 256-byte object makes room */
	CHECK_EQ(sess_helo_put(&p, arg, 200), 0);
	sess_helo_free(&p, refs[k - 1]);
	refs[k - 1] = sess_helo_put(&p, arg, 200);
	CHECK(refs[k - 1] != 0);
	got = sess_helo_get(&p, refs[k - 1], &n);
	CHECK_MEM(got, n, arg, 200);
	for (size_t i = 0; i < k; i++)
		sess_helo_free(&p, refs[i]);
	CHECK_EQ(sess_helo_in_use(&p), 0);
	/* everything is usable again, the smallest class first */
	refs[0] = sess_helo_put(&p, arg, 3);
	CHECK_EQ(sess_helo_in_use(&p), 16);
	sess_helo_fini(&p);
	free(mem);
}

static void test_sizing(void)
{
	/* n, n/2, n/8, n/32, n/32 objects: 52 bytes per session */
	CHECK_EQ(sess_helo_mem(100000),
		 100000 * 16 + 50000 * 32 + 12500 * 64 + 3125 * 128 + 3125 * 256);
}

int main(void)
{
	test_classes();
	test_exhaustion();
	test_sizing();
	return check_done("test_sess_helo");
}
