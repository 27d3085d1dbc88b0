/*
 * relay_reload.c — a relay lcore takes a new backend set (relay.h,
 * relay_reload) without cutting a session.
 *
 * Backend indices live in three places: r->be[] and the per-backend
 * counters (indexed like cfg->backends[]), each session's be and its
 * tried mask, and each health check's be. A reload maps every old index
 * to the new one of the backend with the same name, address and port, or
 * to RELAY_BE_RETIRED, and rewrites all three in one pass on the relay's
 * own lcore, between two passes of its loop: nothing else runs then.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "relay_int.h"

/* The same backend in both sets: what a connection was opened to. Weight,
 * cap, PROXY and XCLIENT may change in place (an open session keeps the
 * header it sent and its own copy of xclient). */
static int be_same(const struct cfg_backend *a, const struct cfg_backend *b)
{
	return strcmp(a->name, b->name) == 0 && a->addr == b->addr && a->port == b->port;
}

static void hc_reset(struct relay_hc *h, uint8_t b)
{
	memset(h, 0, sizeof(*h));
	h->tag = RELAY_EP_HC;
	h->be = b;
	h->fd = -1;
	relay_rscan_init(&h->rs);
}

void relay_reload(struct relay *r, const struct cfg *nc)
{
	const struct cfg *oc = r->cfg;
	uint32_t n_old = oc->n_backends, n_new = nc->n_backends, n_spare = 0;
	uint32_t kept = 0, added = 0, removed = 0;
	uint8_t map[CFG_BACKENDS_MAX];
	uint8_t taken[CFG_BACKENDS_MAX] = { 0 };
	struct relay_be nbe[CFG_BACKENDS_MAX];
	uint64_t nconn[CFG_BACKENDS_MAX] = { 0 }, nfail[CFG_BACKENDS_MAX] = { 0 };
	struct relay_hc *spare[CFG_BACKENDS_MAX];

	memset(nbe, 0, sizeof(nbe));
	for (uint32_t i = 0; i < n_old; i++) {
		struct relay_be *be = &r->be[i];
		uint32_t j;

		for (j = 0; j < n_new; j++)
			if (!taken[j] && be_same(&oc->backends[i], &nc->backends[j]))
				break;
		if (j < n_new) {
			taken[j] = 1;
			map[i] = (uint8_t)j;
			nbe[j] = *be;
			if (nbe[j].hc != NULL)
				nbe[j].hc->be = (uint8_t)j;
			nconn[j] = r->st.be_connects[i];
			nfail[j] = r->st.be_fail[i];
			kept++;
			continue;
		}
		/* Removed: its open sessions go on (counted apart), its check
		 * stops now and its state object serves a new backend. */
		map[i] = RELAY_BE_RETIRED;
		removed++;
		r->n_retired += be->conns;
		log_kv(
		    LOG_LVL_INFO,
		    "event=backend_retired relay=%u backend=%s sessions=%u connects=%lu fail=%lu",
		    r->id, oc->backends[i].name, be->conns, (unsigned long)r->st.be_connects[i],
		    (unsigned long)r->st.be_fail[i]);
		if (be->hc != NULL) {
			relay_hc_close(r, be->hc);
			spare[n_spare++] = be->hc;
		}
	}
	for (uint32_t j = 0; j < n_new; j++) {
		struct relay_be *be = &nbe[j];
		uint32_t mc = nc->backends[j].max_conns;

		/* this lcore's share of the cap, as relay_init() gives it */
		be->cap = mc / r->n_relays + (r->id < mc % r->n_relays);
		if (taken[j])
			continue;
		added++;
		be->up = 1; /* as at startup: backends start up */
		be->hc = n_spare ? spare[--n_spare] : calloc(1, sizeof(*be->hc));
		if (be->hc == NULL) {
			/* Never picked without a health check to bring it back. */
			be->up = 0;
			log_kv(LOG_LVL_ERR,
			       "event=backend_reload_nomem relay=%u backend=%s msg=\"no memory for "
			       "its health check: kept down\"",
			       r->id, nc->backends[j].name);
			continue;
		}
		hc_reset(be->hc, (uint8_t)j);
		/* the first check within one interval, staggered as at startup */
		be->next_check = r->now + nc->relay.health_interval_ms * (j + 1u + r->id) /
					      (n_new + r->n_relays);
	}
	while (n_spare)
		free(spare[--n_spare]);
	for (struct relay_sess *s = r->live; s; s = s->next) {
		uint64_t t = 0;

		for (uint32_t i = 0; i < n_old; i++)
			if ((s->tried >> i) & 1u && map[i] != RELAY_BE_RETIRED)
				t |= 1ull << map[i];
		s->tried = t;
		if (s->has_be && s->be != RELAY_BE_RETIRED)
			s->be = map[s->be];
		if (s->lg.be_seen && s->lg.be != RELAY_BE_RETIRED) /* its session line */
			s->lg.be = s->lg.be < n_old ? map[s->lg.be] : RELAY_BE_RETIRED;
	}
	/* The client TLS contexts of the new set (made on the main lcore,
	 * indexed like nc->backends): adopted whole, so a kept backend whose
	 * tls_ca or tls_name changed uses the new one from its next session
	 * on; the previous ones go back through ctl_tls, freed by the main
	 * lcore after every relay acked. A session in TLS keeps its SSL, which
	 * holds its own reference to its context. */
	for (uint32_t b = 0; b < CFG_BACKENDS_MAX; b++) {
		struct tls_cctx *t = r->tls[b];

		r->tls[b] = r->ctl_tls[b];
		r->ctl_tls[b] = t;
	}
	relay_tls_thread(r);
	memcpy(r->be, nbe, sizeof(r->be));
	memcpy(r->st.be_connects, nconn, sizeof(nconn));
	memcpy(r->st.be_fail, nfail, sizeof(nfail));
	r->lc_next = n_new ? r->lc_next % n_new : 0;
	r->cfg = nc;
	r->st.reloads++;
	log_kv(LOG_LVL_INFO,
	       "event=relay_reload relay=%u backends=%u kept=%u added=%u removed=%u "
	       "retired_sessions=%u",
	       r->id, n_new, kept, added, removed, r->n_retired);
}
