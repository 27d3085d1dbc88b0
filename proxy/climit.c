/*
 * climit.c — per-client limits (see climit.h).
 */
#include <string.h>

#include "climit.h"

/* A keyed 32-bit mix of the address (splitmix-style finaliser): the
 * bucket must not be predictable, or one client could fill another's. */
static uint32_t bucket_of(const struct climit *t, uint32_t addr)
{
	uint64_t x = ((uint64_t)addr ^ t->key[0]) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 31;
	x = (x ^ t->key[1]) * 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return (uint32_t)x & t->mask;
}

size_t climit_mem(uint32_t entries)
{
	uint32_t b = 1;

	while ((uint64_t)b * CLIMIT_BUCKET < entries && b < (1u << 24))
		b <<= 1;
	return (size_t)b * CLIMIT_BUCKET * sizeof(struct climit_entry);
}

void climit_init(struct climit *t, void *mem, uint32_t entries, const uint64_t key[2])
{
	size_t sz = climit_mem(entries);

	memset(t, 0, sizeof(*t));
	memset(mem, 0, sz);
	t->e = mem;
	t->mask = (uint32_t)(sz / sizeof(struct climit_entry) / CLIMIT_BUCKET) - 1;
	t->key[0] = key[0];
	t->key[1] = key[1];
}

static uint32_t decay(uint32_t debt, uint64_t per_ms, uint32_t elapsed)
{
	uint64_t d = per_ms * elapsed;

	return d >= debt ? 0 : debt - (uint32_t)d;
}

/* e's debts as of now (not stored). */
static void decayed(const struct climit_entry *e, const struct climit_cfg *c, uint64_t now,
		    uint32_t *rate, uint32_t *err)
{
	uint32_t el = (uint32_t)now - e->t; /* wraps after 49 days: harmless */

	*rate = decay(e->rate_debt, c->rate, el);
	*err = decay(e->err_debt, c->errors_per_min, el);
}

static void refresh(struct climit_entry *e, const struct climit_cfg *c, uint64_t now)
{
	decayed(e, c, now, &e->rate_debt, &e->err_debt);
	e->t = (uint32_t)now;
}

static struct climit_entry *find(const struct climit *t, uint32_t addr)
{
	struct climit_entry *b = &t->e[(size_t)bucket_of(t, addr) * CLIMIT_BUCKET];

	for (uint32_t i = 0; i < CLIMIT_BUCKET; i++)
		if (b[i].addr == addr)
			return &b[i];
	return NULL;
}

static enum climit_verdict judge(const struct climit_cfg *c, uint32_t live, uint32_t rate,
				 uint32_t err)
{
	if (c->sessions && live >= c->sessions)
		return CLIMIT_SESSIONS;
	if (c->rate && (uint64_t)rate + 1000 > (uint64_t)c->rate * 1000)
		return CLIMIT_RATE;
	if (c->errors_per_min && (uint64_t)err + 60000 > (uint64_t)c->errors_per_min * 60000)
		return CLIMIT_ERRORS;
	return CLIMIT_OK;
}

enum climit_verdict climit_check(const struct climit *t, const struct climit_cfg *c, uint32_t addr,
				 uint64_t now)
{
	const struct climit_entry *e = addr ? find(t, addr) : NULL;
	uint32_t rate, err;

	if (e == NULL)
		return judge(c, 0, 0, 0);
	decayed(e, c, now, &rate, &err);
	return judge(c, e->live, rate, err);
}

/* A slot for addr in its bucket: free, or the idle entry touched longest
 * ago (evicted). NULL when every entry has live sessions. */
static struct climit_entry *claim(struct climit *t, uint32_t addr)
{
	struct climit_entry *b = &t->e[(size_t)bucket_of(t, addr) * CLIMIT_BUCKET], *v = NULL;

	for (uint32_t i = 0; i < CLIMIT_BUCKET; i++) {
		if (b[i].addr == 0)
			return &b[i];
		if (b[i].live == 0 && (v == NULL || (int32_t)(b[i].t - v->t) < 0))
			v = &b[i];
	}
	if (v != NULL)
		t->st.evicted++;
	return v;
}

enum climit_verdict climit_open(struct climit *t, const struct climit_cfg *c, uint32_t addr,
				uint64_t now, int *tracked)
{
	struct climit_entry *e = addr ? find(t, addr) : NULL;
	enum climit_verdict v;

	*tracked = 0;
	if (e != NULL) {
		refresh(e, c, now);
		v = judge(c, e->live, e->rate_debt, e->err_debt);
		if (v != CLIMIT_OK) {
			t->st.refused[v]++;
			return v;
		}
	} else {
		v = judge(c, 0, 0, 0);
		if (v != CLIMIT_OK) { /* a limit of less than one: never expected */
			t->st.refused[v]++;
			return v;
		}
		if (addr == 0 || (e = claim(t, addr)) == NULL) {
			t->st.untracked++;
			return CLIMIT_OK;
		}
		memset(e, 0, sizeof(*e));
		e->addr = addr;
		e->t = (uint32_t)now;
	}
	e->live++;
	if (c->rate)
		e->rate_debt += 1000; /* judge: stays <= rate * 1000 */
	*tracked = 1;
	return CLIMIT_OK;
}

void climit_close(struct climit *t, const struct climit_cfg *c, uint32_t addr, unsigned errors,
		  uint64_t now)
{
	struct climit_entry *e = addr ? find(t, addr) : NULL;
	uint64_t d, cap;

	if (e == NULL)
		return;
	refresh(e, c, now);
	if (e->live)
		e->live--;
	if (c->errors_per_min && errors) {
		/* at most one minute of refusal: the debt stops where it
		 * drains back to room for one error in 60 s */
		cap = ((uint64_t)c->errors_per_min * 2 - 1) * 60000;
		d = (uint64_t)e->err_debt + (uint64_t)errors * 60000;
		e->err_debt = (uint32_t)(d > cap ? cap : d);
	}
}

uint32_t climit_used(const struct climit *t)
{
	uint32_t n = 0;

	for (size_t i = 0; i < ((size_t)t->mask + 1) * CLIMIT_BUCKET; i++)
		n += t->e[i].addr != 0;
	return n;
}
