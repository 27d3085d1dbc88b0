/*
 * wheel.c — hashed timing wheel (Varghese & Lauck, scheme 6).
 *
 * Why 32-bit links: a timer sits in every flow and every session, idle or
 * not, so its size counts per idle connection. Links name 32-bit words
 * (a slot, or a timer's next field, which comes first in the timer) as
 * their distance from the base in words, + 1, so 0 is "none".
 */
#include <errno.h>
#include <string.h>

#include "wheel.h"

size_t wheel_mem_size(uint32_t slots)
{
	/* slot links, the bitmap, and the head word of a list being expired */
	return (size_t)slots * sizeof(uint32_t) + (slots / 64) * sizeof(uint64_t) +
	       sizeof(uint64_t);
}

static uint32_t link_of(const struct wheel *w, const uint32_t *word)
{
	return (uint32_t)(((const uint8_t *)word - w->base) / sizeof(uint32_t)) + 1;
}

static uint32_t *word_of(const struct wheel *w, uint32_t link)
{
	return (uint32_t *)(void *)(w->base + (size_t)(link - 1) * sizeof(uint32_t));
}

/* The timer a next link (or a slot's link) names. */
static struct wheel_timer *timer_of(const struct wheel *w, uint32_t link)
{
	return (struct wheel_timer *)(void *)word_of(w, link);
}

int wheel_init(struct wheel *w, void *mem, uint32_t slots, uint32_t tick_ms, uint64_t now,
	       void *base)
{
	if (slots < 64 || (slots & (slots - 1)) != 0 || tick_ms == 0 || base == NULL ||
	    (uint8_t *)mem < (uint8_t *)base)
		return -EINVAL;
	w->slot = mem;
	w->bits = (uint64_t *)(void *)(w->slot + slots);
	w->head = (uint32_t *)(void *)(w->bits + slots / 64);
	w->base = base;
	w->mask = slots - 1;
	w->tick_ms = tick_ms;
	w->cur = now / tick_ms;
	w->armed = 0;
	return 0;
}

static void slot_push(struct wheel *w, uint32_t i, struct wheel_timer *t)
{
	t->next = w->slot[i];
	if (t->next != 0)
		timer_of(w, t->next)->pprev = link_of(w, &t->next);
	w->slot[i] = link_of(w, &t->next);
	t->pprev = link_of(w, &w->slot[i]);
	w->bits[i / 64] |= 1ull << (i % 64);
}

/* Takes t out of its list (t is armed). */
static void unlink_timer(struct wheel *w, struct wheel_timer *t)
{
	*word_of(w, t->pprev) = t->next;
	if (t->next != 0)
		timer_of(w, t->next)->pprev = t->pprev;
	t->next = 0;
	t->pprev = 0;
}

void wheel_arm(struct wheel *w, struct wheel_timer *t, uint64_t expire)
{
	uint64_t horizon = (w->cur + 1) * w->tick_ms + WHEEL_HORIZON_MS;
	uint64_t tick;

	wheel_cancel(w, t);
	if (expire > horizon)
		expire = horizon;
	tick = expire / w->tick_ms;
	if (tick < w->cur)
		tick = w->cur;
	t->expire = (uint32_t)expire;
	slot_push(w, (uint32_t)(tick & w->mask), t);
	w->armed++;
}

void wheel_cancel(struct wheel *w, struct wheel_timer *t)
{
	if (t->pprev == 0)
		return;
	unlink_timer(w, t);
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

		if (w->slot[i] == 0) {
			w->bits[i / 64] &= ~(1ull << (i % 64));
			continue;
		}
		/* Detach the slot so that timers re-armed by fn into the same
		 * slot are not visited twice in this pass; *w->head holds the
		 * rest of it, so fn may cancel any of them. */
		*w->head = w->slot[i];
		w->slot[i] = 0;
		w->bits[i / 64] &= ~(1ull << (i % 64));
		timer_of(w, *w->head)->pprev = link_of(w, w->head);
		w->cur = tick;
		while (*w->head != 0) {
			struct wheel_timer *t = timer_of(w, *w->head);

			unlink_timer(w, t);
			if (wheel_expiry(t, now) <= now) {
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
			for (uint32_t l = w->slot[i]; l != 0; l = timer_of(w, l)->next) {
				uint64_t e = wheel_expiry(timer_of(w, l), now);

				if (e < best)
					best = e;
			}
			if (best < tick_end)
				return best > now ? best : now;
		}
	}
	return best > now ? best : now;
}
