/*
 * wheel.h — per-worker hashed timing wheel: O(1) arm and cancel, expiry
 * amortised O(1) per timer (a slot is visited once per tick; timers further
 * away than one rotation stay in their slot and are skipped until due).
 *
 * Timers are intrusive (struct wheel_timer inside the owner's object); the
 * wheel allocates nothing after wheel_init(). Time is in ms.
 */
#ifndef BULWARK_WHEEL_H
#define BULWARK_WHEEL_H

#include <stddef.h>
#include <stdint.h>

struct wheel_timer {
	struct wheel_timer *next;
	struct wheel_timer **pprev; /* NULL when not armed */
	uint64_t expire;
};

struct wheel {
	uint64_t cur; /* tick being processed (now / tick_ms) */
	uint32_t tick_ms;
	uint32_t mask; /* slots - 1 */
	uint32_t armed;
	uint64_t *bits; /* one bit per non-empty slot */
	struct wheel_timer **slot;
};

/* Bytes wheel_init() needs for slots (a power of two, >= 64). */
size_t wheel_mem_size(uint32_t slots);

/* Lays the wheel out in mem (wheel_mem_size(slots) bytes, zeroed by the
 * caller). Returns 0 or -EINVAL (slots not a power of two >= 64). */
int wheel_init(struct wheel *w, void *mem, uint32_t slots, uint32_t tick_ms, uint64_t now);

/* Returns non-zero when t is armed. */
static inline int wheel_armed(const struct wheel_timer *t)
{
	return t->pprev != NULL;
}

/* Arms (or re-arms) t to fire at expire (ms); a past expire fires on the
 * next wheel_expire(). */
void wheel_arm(struct wheel *w, struct wheel_timer *t, uint64_t expire);

/* Disarms t; a no-op when it is not armed. */
void wheel_cancel(struct wheel *w, struct wheel_timer *t);

/* Fires (disarms, then calls fn) every timer with expire <= now. fn may arm
 * or cancel any timer, including t. */
void wheel_expire(struct wheel *w, uint64_t now,
		  void (*fn)(struct wheel_timer *t, void *arg, uint64_t now), void *arg);

/* The start of the earliest tick holding a timer (a lower bound of the
 * next expiry), or UINT64_MAX when nothing is armed. */
uint64_t wheel_next(const struct wheel *w, uint64_t now);

#endif
