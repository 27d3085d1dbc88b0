/*
 * tcp_ftab.c — fixed-capacity flow hash table (open addressing).
 *
 * Why one word per slot: the table is sized for twice the objects, so its
 * slots cost more than anything else per idle flow; the full hash is not
 * kept. A probe compares the 7-bit tag first (1 in 128 mismatching entries
 * costs a key comparison); backward-shift deletion, which needs each
 * moved entry's home slot, recomputes the hash from the object's key.
 */
#include <string.h>

#include "siphash.h"
#include "tcp.h"

static uint32_t ftab_slots(uint32_t objects)
{
	uint32_t n = 16;

	while (n < 2 * (uint64_t)objects)
		n <<= 1;
	return n;
}

size_t tcp_ftab_mem(uint32_t objects)
{
	return (size_t)ftab_slots(objects) * sizeof(uint32_t);
}

void tcp_ftab_init(struct tcp_ftab *t, void *mem, uint32_t objects, const void *base,
		   uint32_t stride, const uint64_t *key)
{
	t->slot = mem;
	t->mask = ftab_slots(objects) - 1;
	t->base = base;
	t->stride = stride;
	t->key = key;
}

uint32_t tcp_ftab_hash(const struct tcp_ftab *t, const struct tcp_key *k)
{
	/* Keyed: a flood cannot aim at one probe chain. */
	return (uint32_t)net_siphash(t->key, k, sizeof(*k));
}

static const struct tcp_key *key_of(const struct tcp_ftab *t, uint32_t idx)
{
	return (const struct tcp_key *)(t->base + (size_t)idx * t->stride);
}

/* The tag bits of hash h, in place in a slot word. */
static uint32_t tag_of(uint32_t h)
{
	return h & ~TCP_FTAB_IDX_MASK;
}

int64_t tcp_ftab_find(const struct tcp_ftab *t, const struct tcp_key *k, uint32_t h)
{
	for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
		uint32_t s = t->slot[i], idx1 = s & TCP_FTAB_IDX_MASK;

		if (idx1 == 0)
			return -1;
		if ((s & ~TCP_FTAB_IDX_MASK) == tag_of(h) && tcp_key_eq(key_of(t, idx1 - 1), k))
			return idx1 - 1;
	}
}

void tcp_ftab_add(struct tcp_ftab *t, uint32_t h, uint32_t idx)
{
	uint32_t i = h & t->mask;

	while (t->slot[i] != 0)
		i = (i + 1) & t->mask;
	t->slot[i] = tag_of(h) | (idx + 1);
}

void tcp_ftab_del(struct tcp_ftab *t, uint32_t h, uint32_t idx)
{
	uint32_t i = h & t->mask;

	while ((t->slot[i] & TCP_FTAB_IDX_MASK) != idx + 1) {
		if (t->slot[i] == 0)
			return;
		i = (i + 1) & t->mask;
	}
	/* Backward-shift deletion: no tombstones, probes stay short. */
	for (;;) {
		uint32_t j = i;

		t->slot[i] = 0;
		for (;;) {
			uint32_t home, idx1;

			j = (j + 1) & t->mask;
			idx1 = t->slot[j] & TCP_FTAB_IDX_MASK;
			if (idx1 == 0)
				return;
			home = tcp_ftab_hash(t, key_of(t, idx1 - 1)) & t->mask;
			/* Move j into the hole at i unless its home lies in (i, j]. */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		t->slot[i] = t->slot[j];
		i = j;
	}
}
