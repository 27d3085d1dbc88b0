/*
 * tcp_ftab.c — fixed-capacity flow hash table (open addressing).
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
	return (size_t)ftab_slots(objects) * sizeof(struct tcp_fslot);
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

int64_t tcp_ftab_find(const struct tcp_ftab *t, const struct tcp_key *k, uint32_t h)
{
	for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
		const struct tcp_fslot *s = &t->slot[i];

		if (s->idx1 == 0)
			return -1;
		if (s->hash == h && tcp_key_eq(key_of(t, s->idx1 - 1), k))
			return s->idx1 - 1;
	}
}

void tcp_ftab_add(struct tcp_ftab *t, uint32_t h, uint32_t idx)
{
	uint32_t i = h & t->mask;

	while (t->slot[i].idx1 != 0)
		i = (i + 1) & t->mask;
	t->slot[i].hash = h;
	t->slot[i].idx1 = idx + 1;
}

void tcp_ftab_del(struct tcp_ftab *t, uint32_t h, uint32_t idx)
{
	uint32_t i = h & t->mask;

	while (t->slot[i].idx1 != idx + 1) {
		if (t->slot[i].idx1 == 0)
			return;
		i = (i + 1) & t->mask;
	}
	/* Backward-shift deletion: no tombstones, probes stay short. */
	for (;;) {
		uint32_t j = i;

		t->slot[i].idx1 = 0;
		for (;;) {
			uint32_t home;

			j = (j + 1) & t->mask;
			if (t->slot[j].idx1 == 0)
				return;
			home = t->slot[j].hash & t->mask;
			/* Move j into the hole at i unless its home lies in (i, j]. */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		t->slot[i] = t->slot[j];
		i = j;
	}
}
