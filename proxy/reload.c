/*
 * reload.c — RCU publication of read-only objects (see reload.h).
 *
 * Why QSBR: the workers already loop; reporting a quiescent state once per
 * iteration costs one store to a cache line of their own, and readers take
 * no lock and no reference count on the datapath.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "reload.h"

int reload_init(struct reload *r, uint32_t max_threads, void *first, reload_free_fn free_fn)
{
	size_t sz;

	memset(r, 0, sizeof(*r));
	if (max_threads == 0 || free_fn == NULL)
		return -EINVAL;
	sz = rte_rcu_qsbr_get_memsize(max_threads);
	if (sz == (size_t)-1 || sz == 0)
		return -EINVAL;
	r->qs = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sz, RTE_CACHE_LINE_SIZE));
	if (r->qs == NULL)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(r->qs, max_threads) != 0) {
		free(r->qs);
		r->qs = NULL;
		return -EINVAL;
	}
	r->max_threads = max_threads;
	r->free_fn = free_fn;
	r->cur = first;
	return 0;
}

void reload_fini(struct reload *r)
{
	if (r->qs == NULL)
		return;
	for (uint32_t i = 0; i < r->n_pending; i++)
		r->free_fn(r->pending[i].obj);
	r->n_pending = 0;
	if (r->cur != NULL)
		r->free_fn(r->cur);
	r->cur = NULL;
	free(r->qs);
	r->qs = NULL;
}

int reload_thread_register(struct reload *r, unsigned id)
{
	if (id >= r->max_threads || rte_rcu_qsbr_thread_register(r->qs, id) != 0)
		return -EINVAL;
	rte_rcu_qsbr_thread_online(r->qs, id);
	return 0;
}

void reload_thread_unregister(struct reload *r, unsigned id)
{
	rte_rcu_qsbr_thread_offline(r->qs, id);
	rte_rcu_qsbr_thread_unregister(r->qs, id);
}

int reload_publish(struct reload *r, void *obj)
{
	void *old;

	if (r->n_pending == RELOAD_PENDING_MAX && reload_reclaim(r) == RELOAD_PENDING_MAX)
		return -EBUSY;
	old = __atomic_exchange_n(&r->cur, obj, __ATOMIC_ACQ_REL);
	r->published++;
	if (old == NULL)
		return 0;
	/* rte_rcu_qsbr_start: readers that report after this token no longer
	 * see old */
	r->pending[r->n_pending].obj = old;
	r->pending[r->n_pending].token = rte_rcu_qsbr_start(r->qs);
	r->n_pending++;
	return 0;
}

uint32_t reload_reclaim(struct reload *r)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < r->n_pending; i++) {
		if (rte_rcu_qsbr_check(r->qs, r->pending[i].token, false) == 1) {
			r->free_fn(r->pending[i].obj);
			r->freed++;
			continue;
		}
		r->pending[k++] = r->pending[i];
	}
	r->n_pending = k;
	return k;
}
