/*
 * reload.h — publishing a new read-only object (the lists and limits of
 * policy.h) to the workers while they run, with DPDK's RCU in its
 * quiescent-state-based flavour (rte_rcu_qsbr).
 *
 * Readers (workers) are registered by id and report a quiescent state once
 * per loop iteration (reload_quiescent), between which they may hold the
 * pointer reload_get() returned; around a sleep they go offline so a
 * sleeping worker never holds up reclamation. The writer (main lcore)
 * stores the new pointer atomically (reload_publish), takes a grace-period
 * token for the old one, and frees it with reload_reclaim() — polled, never
 * blocking — only once every online reader has reported quiescent since.
 * At most RELOAD_PENDING_MAX old objects wait; a publish beyond that is
 * refused (-EBUSY), so a stalled worker costs bounded memory, never a
 * use-after-free.
 */
#ifndef BULWARK_RELOAD_H
#define BULWARK_RELOAD_H

#include <stdint.h>

#include <rte_rcu_qsbr.h>

#define RELOAD_PENDING_MAX 8u

typedef void (*reload_free_fn)(void *obj);

struct reload {
	void *cur; /* read with reload_get() */
	struct rte_rcu_qsbr *qs;
	reload_free_fn free_fn;
	uint32_t max_threads;
	uint32_t n_pending;
	struct {
		void *obj;
		uint64_t token;
	} pending[RELOAD_PENDING_MAX];
	uint64_t published, freed; /* counters (main lcore only) */
};

/* Sets r up for reader ids 0..max_threads-1 with first as the current
 * object (may be NULL). Returns 0 or -errno. */
int reload_init(struct reload *r, uint32_t max_threads, void *first, reload_free_fn free_fn);

/* Frees the current and every pending object and the QSBR variable (no
 * reader may run any more). */
void reload_fini(struct reload *r);

/* Registers reader id and puts it online. Returns 0 or -errno. */
int reload_thread_register(struct reload *r, unsigned id);

/* Takes reader id offline and unregisters it (it stops reading). */
void reload_thread_unregister(struct reload *r, unsigned id);

/* The current object (reader side; valid until the reader's next
 * reload_quiescent or reload_offline). */
static inline void *reload_get(const struct reload *r)
{
	return __atomic_load_n(&r->cur, __ATOMIC_ACQUIRE);
}

/* Reader id holds no pointer from reload_get() any more. */
static inline void reload_quiescent(struct reload *r, unsigned id)
{
	rte_rcu_qsbr_quiescent(r->qs, id);
}

/* Reader id is about to block (sleep): it holds no pointer. */
static inline void reload_offline(struct reload *r, unsigned id)
{
	rte_rcu_qsbr_thread_offline(r->qs, id);
}

/* Reader id is back: it may read again. */
static inline void reload_online(struct reload *r, unsigned id)
{
	rte_rcu_qsbr_thread_online(r->qs, id);
}

/*
 * Writer: makes obj current; the old one is freed by a later
 * reload_reclaim() once every reader passed a quiescent state. Returns 0,
 * or -EBUSY (RELOAD_PENDING_MAX old objects still wait: nothing changed,
 * the caller keeps obj).
 */
int reload_publish(struct reload *r, void *obj);

/* Writer: frees every pending object whose grace period ended. Returns how
 * many still wait. Never blocks. */
uint32_t reload_reclaim(struct reload *r);

#endif /* BULWARK_RELOAD_H */
