/*
 * test_climit.c — the per-client table (proxy/climit.c) with virtual time:
 * concurrent sessions, the rate bucket, the error budget, limits off,
 * eviction of idle entries and the untracked case, and a limit changed in
 * place (a reload).
 */
#include <stdlib.h>

#include "check.h"
#include "climit.h"

static const uint64_t key[2] = { 0x1234, 0x5678 };

static void test_sessions(void)
{
	static uint8_t mem[1 << 16];
	struct climit t;
	struct climit_cfg c = { .sessions = 3 };
	uint32_t a = 0x0100a8c0, b = 0x0200a8c0;
	int tr;

	climit_init(&t, mem, 64, key);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(climit_open(&t, &c, a, 1000, &tr), CLIMIT_OK);
		CHECK_EQ(tr, 1);
	}
	CHECK_EQ(climit_check(&t, &c, a, 1000), CLIMIT_SESSIONS);
	CHECK_EQ(climit_open(&t, &c, a, 1000, &tr), CLIMIT_SESSIONS);
	CHECK_EQ(tr, 0);
	CHECK_EQ(t.st.refused[CLIMIT_SESSIONS], 1);
	/* another address is served meanwhile */
	CHECK_EQ(climit_open(&t, &c, b, 1000, &tr), CLIMIT_OK);
	climit_close(&t, &c, a, 0, 1001);
	CHECK_EQ(climit_check(&t, &c, a, 1001), CLIMIT_OK);
	CHECK_EQ(climit_open(&t, &c, a, 1001, &tr), CLIMIT_OK);
	CHECK_EQ(climit_used(&t), 2);
	/* closing an unknown address changes nothing */
	climit_close(&t, &c, 0x0900a8c0, 3, 1002);
	CHECK_EQ(climit_used(&t), 2);
}

static void test_rate(void)
{
	static uint8_t mem[1 << 16];
	struct climit t;
	struct climit_cfg c = { .rate = 5 };
	uint32_t a = 0x0100a8c0;
	uint64_t now = 50000;
	int tr;

	climit_init(&t, mem, 64, key);
	for (int i = 0; i < 5; i++) { /* a burst of `rate` */
		CHECK_EQ(climit_open(&t, &c, a, now, &tr), CLIMIT_OK);
		climit_close(&t, &c, a, 0, now);
	}
	CHECK_EQ(climit_open(&t, &c, a, now, &tr), CLIMIT_RATE);
	CHECK_EQ(climit_open(&t, &c, a, now + 199, &tr), CLIMIT_RATE);
	/* one session per 1000/rate ms */
	CHECK_EQ(climit_open(&t, &c, a, now + 200, &tr), CLIMIT_OK);
	CHECK_EQ(climit_open(&t, &c, a, now + 200, &tr), CLIMIT_RATE);
	CHECK_EQ(climit_open(&t, &c, a, now + 400, &tr), CLIMIT_OK);
	/* refused attempts are not charged: after a second the full burst */
	now += 1400;
	for (int i = 0; i < 5; i++)
		CHECK_EQ(climit_open(&t, &c, a, now, &tr), CLIMIT_OK);
	CHECK_EQ(climit_open(&t, &c, a, now, &tr), CLIMIT_RATE);
	CHECK_EQ(t.st.refused[CLIMIT_RATE], 4);
	/* a reload that turns the rate off */
	c.rate = 0;
	CHECK_EQ(climit_open(&t, &c, a, now, &tr), CLIMIT_OK);
}

static void test_errors(void)
{
	static uint8_t mem[1 << 16];
	struct climit t;
	struct climit_cfg c = { .errors_per_min = 6 };
	uint32_t a = 0x0100a8c0;
	uint64_t now = 7;
	int tr;

	climit_init(&t, mem, 64, key);
	CHECK_EQ(climit_open(&t, &c, a, now, &tr), CLIMIT_OK);
	climit_close(&t, &c, a, 5, now); /* 5 of 6 */
	CHECK_EQ(climit_open(&t, &c, a, now, &tr), CLIMIT_OK);
	climit_close(&t, &c, a, 1, now); /* 6 of 6: the budget is used */
	CHECK_EQ(climit_check(&t, &c, a, now), CLIMIT_ERRORS);
	CHECK_EQ(climit_open(&t, &c, a, now, &tr), CLIMIT_ERRORS);
	/* one error drains every 60000 / 6 = 10000 ms */
	CHECK_EQ(climit_open(&t, &c, a, now + 9999, &tr), CLIMIT_ERRORS);
	CHECK_EQ(climit_open(&t, &c, a, now + 10000, &tr), CLIMIT_OK);
	/* a flood of errors is capped at twice the budget: refused for at
	 * most a minute */
	climit_close(&t, &c, a, 127, now + 10000);
	CHECK_EQ(climit_open(&t, &c, a, now + 10000 + 59999, &tr), CLIMIT_ERRORS);
	CHECK_EQ(climit_open(&t, &c, a, now + 10000 + 60000, &tr), CLIMIT_OK);
	/* limits off: errors are not charged */
	c.errors_per_min = 0;
	climit_close(&t, &c, a, 100, now + 80000);
	c.errors_per_min = 6;
	CHECK_EQ(climit_open(&t, &c, a, now + 80000, &tr), CLIMIT_OK);
}

static void test_evict(void)
{
	static uint8_t mem[1 << 16];
	struct climit t;
	struct climit_cfg c = { .sessions = 1 };
	uint32_t in_bucket[CLIMIT_BUCKET * 4], n = 0;
	int tr;

	/* one bucket only: every address shares it */
	climit_init(&t, mem, 1, key);
	CHECK_EQ(t.mask, 0);
	for (uint32_t i = 0; n < CLIMIT_BUCKET + 2; i++)
		in_bucket[n++] = 0x0a000000u + i + 1;
	for (uint32_t i = 0; i < CLIMIT_BUCKET; i++)
		CHECK_EQ(climit_open(&t, &c, in_bucket[i], 100 + i, &tr), CLIMIT_OK);
	/* full of live entries: the ninth is served but not tracked */
	CHECK_EQ(climit_open(&t, &c, in_bucket[8], 200, &tr), CLIMIT_OK);
	CHECK_EQ(tr, 0);
	CHECK_EQ(t.st.untracked, 1);
	/* two idle entries: the one touched longest ago goes */
	climit_close(&t, &c, in_bucket[5], 0, 300);
	climit_close(&t, &c, in_bucket[2], 0, 301);
	CHECK_EQ(climit_open(&t, &c, in_bucket[9], 400, &tr), CLIMIT_OK);
	CHECK_EQ(tr, 1);
	CHECK_EQ(t.st.evicted, 1);
	CHECK_EQ(climit_check(&t, &c, in_bucket[2], 400), CLIMIT_OK); /* still known, idle */
	CHECK_EQ(climit_check(&t, &c, in_bucket[9], 400), CLIMIT_SESSIONS);
	CHECK_EQ(climit_check(&t, &c, in_bucket[0], 400), CLIMIT_SESSIONS);
	CHECK_EQ(climit_used(&t), CLIMIT_BUCKET);
	/* sizes round up to a power of two of buckets */
	CHECK_EQ(climit_mem(1), CLIMIT_BUCKET * sizeof(struct climit_entry));
	CHECK_EQ(climit_mem(9), 2 * CLIMIT_BUCKET * sizeof(struct climit_entry));
	CHECK_EQ(climit_mem(65536), 65536 * sizeof(struct climit_entry));
}

int main(void)
{
	test_sessions();
	test_rate();
	test_errors();
	test_evict();
	return check_done("climit");
}
