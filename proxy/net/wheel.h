/*
 * wheel.h — per-worker hashed timing wheel: O(1) arm and cancel, expiry
 * amortised O(1) per timer (a slot is visited once per tick; timers further
 * away than one rotation stay in their slot and are skipped until due).
 *
 * Timers are intrusive (struct wheel_timer inside the owner's object); the
 * wheel allocates nothing after wheel_init(). Time is in ms.
 *
 * A timer is 12 bytes: its links are 32-bit words relative to a base
 * address given to wheel_init() (every timer, and the wheel's own slot
 * memory, must lie within 16 GiB above it: one memory block per wheel), and
 * its expiry keeps the low 32 bits (a timer can be armed up to 2^30 ms
 * ahead; a later expiry fires early, at that horizon, and the owner, which
 * always checks its own deadlines, arms it again).
 */
#ifndef BULWARK_WHEEL_H
#define BULWARK_WHEEL_H

#include <stddef.h>
#include <stdint.h>

struct wheel_timer {
	uint32_t next;   /* link of the next timer in the slot; the owner's while not armed */
	uint32_t pprev;  /* link of the word that points here; 0 when not armed */
	uint32_t expire; /* ms, low 32 bits */
};

struct wheel {
	uint64_t cur; /* tick being processed (now / tick_ms) */
	uint32_t tick_ms;
	uint32_t mask; /* slots - 1 */
	uint32_t armed;
	uint64_t *bits; /* one bit per non-empty slot */
	uint32_t *slot; /* link of each slot's first timer, 0: empty */
	uint32_t *head; /* the slot being expired (in the slots' memory) */
	uint8_t *base;  /* links count 32-bit words from here, + 1 */
};

/* The farthest a timer fires ahead of the wheel's current tick (ms). */
#define WHEEL_HORIZON_MS (1u << 30)

/* Bytes wheel_init() needs for slots (a power of two, >= 64). */
size_t wheel_mem_size(uint32_t slots);

/* Lays the wheel out in mem (wheel_mem_size(slots) bytes, zeroed by the
 * caller, 8-byte aligned). base: the lowest address of the block holding
 * mem and every timer that will be armed (at most 16 GiB). Returns 0 or
 * -EINVAL (slots not a power of two >= 64). */
int wheel_init(struct wheel *w, void *mem, uint32_t slots, uint32_t tick_ms, uint64_t now,
	       void *base);

/* Returns non-zero when t is armed. */
static inline int wheel_armed(const struct wheel_timer *t)
{
	return t->pprev != 0;
}

/* Returns the expiry t was armed with (the full ms time, given a now that
 * is at most 2^31 ms away from it). */
static inline uint64_t wheel_expiry(const struct wheel_timer *t, uint64_t now)
{
	return now + (uint64_t)(int64_t)(int32_t)(t->expire - (uint32_t)now);
}

/* Arms (or re-arms) t to fire at expire (ms); a past expire fires on the
 * next wheel_expire(), one past WHEEL_HORIZON_MS at that horizon. */
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
