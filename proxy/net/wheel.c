/*
 * wheel.c — hashed timing wheel (Varghese & Lauck, scheme 6).
 */
#include <errno.h>
#include <string.h>

#include "wheel.h"

size_t wheel_mem_size(uint32_t slots)
{
	return (size_t)slots * sizeof(struct wheel_timer *) + (slots / 64) * sizeof(uint64_t);
}

int wheel_init(struct wheel *w, void *mem, uint32_t slots, uint32_t tick_ms, uint64_t now)
{
	if (slots < 64 || (slots & (slots - 1)) != 0 || tick_ms == 0)
		return -EINVAL;
	w->slot = mem;
	w->bits = (uint64_t *)(w->slot + slots);
	w->mask = slots - 1;
	w->tick_ms = tick_ms;
	w->cur = now / tick_ms;
	w->armed = 0;
	return 0;
}

static void slot_push(struct wheel *w, uint32_t i, struct wheel_timer *t)
{
	t->next = w->slot[i];
	if (t->next != NULL)
		t->next->pprev = &t->next;
	w->slot[i] = t;
	t->pprev = &w->slot[i];
	w->bits[i / 64] |= 1ull << (i % 64);
}

void wheel_arm(struct wheel *w, struct wheel_timer *t, uint64_t expire)
{
	uint64_t tick = expire / w->tick_ms;

	wheel_cancel(w, t);
	if (tick < w->cur)
		tick = w->cur;
	t->expire = expire;
	slot_push(w, (uint32_t)(tick & w->mask), t);
	w->armed++;
}

void wheel_cancel(struct wheel *w, struct wheel_timer *t)
{
	if (t->pprev == NULL)
		return;
	*t->pprev = t->next;
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
	w->armed--;
	/* A slot's bit may stay set while the slot is empty; wheel_next and
	 * wheel_expire clear it lazily. */
}

void wheel_expire(struct wheel *w, uint64_t now,
		  void (*fn)(struct wheel_timer *t, void *arg, uint64_t now), void *arg)
{
	uint64_t end = now / w->tick_ms;
	uint64_t tick = w->cur;

	if (end < tick)
		return;
	/* One rotation visits every slot: skip the ticks beyond it. */
	if (end - tick > w->mask)
		tick = end - w->mask;
	for (; tick <= end; tick++) {
		uint32_t i = (uint32_t)(tick & w->mask);
		struct wheel_timer *list = w->slot[i];

		if (list == NULL) {
			w->bits[i / 64] &= ~(1ull << (i % 64));
			continue;
		}
		/* Detach the slot so that timers re-armed by fn into the same
		 * slot are not visited twice in this pass. */
		w->slot[i] = NULL;
		w->bits[i / 64] &= ~(1ull << (i % 64));
		list->pprev = &list;
		w->cur = tick;
		while (list != NULL) {
			struct wheel_timer *t = list;

			*t->pprev = t->next;
			if (t->next != NULL)
				t->next->pprev = t->pprev;
			t->next = NULL;
			t->pprev = NULL;
			if (t->expire <= now) {
				w->armed--;
				fn(t, arg, now);
			} else {
				slot_push(w, i, t);
			}
		}
	}
	w->cur = end;
}

uint64_t wheel_next(const struct wheel *w, uint64_t now)
{
	uint32_t n = w->mask + 1;
	uint32_t start = (uint32_t)(w->cur & w->mask);
	uint32_t words = n / 64;
	uint64_t best = UINT64_MAX;

	if (w->armed == 0)
		return UINT64_MAX;
	/* Scan the bitmap from the current slot, wrapping once. The first slot
	 * holding a timer due in this rotation gives the answer; timers of
	 * later rotations only bound it. */
	for (uint32_t k = 0; k <= words; k++) {
		uint32_t wi = (start / 64 + k) % words;
		uint64_t b = w->bits[wi];

		if (k == 0)
			b &= ~0ull << (start % 64);
		else if (k == words)
			b &= (start % 64) ? ~(~0ull << (start % 64)) : 0;
		while (b != 0) {
			uint32_t i = wi * 64 + (uint32_t)__builtin_ctzll(b);
			uint64_t tick_end = (w->cur + ((i - start) & w->mask) + 1) * w->tick_ms;

			b &= b - 1;
			for (const struct wheel_timer *t = w->slot[i]; t != NULL; t = t->next) {
				if (t->expire < best)
					best = t->expire;
			}
			if (best < tick_end)
				return best > now ? best : now;
		}
	}
	return best > now ? best : now;
}
