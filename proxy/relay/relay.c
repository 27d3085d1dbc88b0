/*
 * relay.c — the relay lcore: its pairs, its loop over the rings and epoll,
 * the r2w output path and its counters (relay.h). The backend session
 * lives in relay_sess.c, balancing and health checks in relay_be.c.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <rte_errno.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "log.h"
#include "relay_int.h"

/* ---- Pairs ----------------------------------------------------------------- */

void relay_pairs_free(struct relay_pair *pairs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		rte_ring_free(pairs[i].w2r);
		rte_ring_free(pairs[i].r2w);
		/* a worker's pairs share its pool (relay_pairs_create) */
		if (i == 0 || pairs[i].wpool != pairs[i - 1].wpool)
			rte_mempool_free(pairs[i].wpool);
		rte_mempool_free(pairs[i].rpool);
		memset(&pairs[i], 0, sizeof(pairs[i]));
	}
}

int relay_pairs_create(struct relay_pair *pairs, uint16_t n_workers, uint16_t n_relays,
		       uint32_t pool_objs, uint32_t n_sess, int socket, char *err, size_t errlen)
{
	uint32_t n = (uint32_t)n_workers * n_relays, rs = relay_ring_size(pool_objs, n_sess);
	char name[RTE_MEMPOOL_NAMESIZE];
	const char *what = NULL;

	memset(pairs, 0, n * sizeof(*pairs));
	for (uint32_t i = 0; i < n && !what; i++) {
		struct relay_pair *p = &pairs[i];
		unsigned w = i / n_relays, r = i % n_relays;

		/* Exactly rs usable entries (RING_F_EXACT_SZ): what
		 * relay_ring_size() counted on. Single producer and consumer:
		 * one worker lcore, one relay lcore. */
		snprintf(name, sizeof(name), "rl_w2r_%u_%u", w, r);
		p->w2r = rte_ring_create(name, rs, socket,
					 RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (!p->w2r) {
			what = "w2r ring";
			break;
		}
		snprintf(name, sizeof(name), "rl_r2w_%u_%u", w, r);
		p->r2w = rte_ring_create(name, rs, socket,
					 RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (!p->r2w) {
			what = "r2w ring";
			break;
		}
		/* The worker's pool: got and put by the worker only, one for
		 * all its pairs (the worker takes every object from its first
		 * pair's pool and credits bring them back). The relay's: got
		 * by the relay, put by the worker. No per-lcore cache: objects
		 * cross lcores by design. */
		snprintf(name, sizeof(name), "rl_wp_%u", w);
		p->wpool = r != 0 ? pairs[i - r].wpool
				  : rte_mempool_create(name, pool_objs, RELAY_MSG_SIZE, 0, 0, NULL,
						       NULL, NULL, NULL, socket,
						       RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
		if (!p->wpool) {
			what = "worker message pool";
			break;
		}
		snprintf(name, sizeof(name), "rl_rp_%u_%u", w, r);
		p->rpool =
		    rte_mempool_create(name, pool_objs, RELAY_MSG_SIZE, 0, 0, NULL, NULL, NULL,
				       NULL, socket, RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
		if (!p->rpool)
			what = "relay message pool";
	}
	if (!what)
		return 0;
	snprintf(err, errlen, "relay: cannot create %s %s (%u entries, %u objects): %s", what, name,
		 rs, pool_objs, rte_strerror(rte_errno));
	relay_pairs_free(pairs, n);
	return rte_errno ? -rte_errno : -ENOMEM;
}

/* ---- Output to the workers ------------------------------------------------------ */

/* Pushes the backlog of worker w onto its ring; returns 1 when it is empty. */
static int backlog_flush(struct relay *r, struct relay_ws *ws)
{
	while (ws->bl_n) {
		if (rte_ring_sp_enqueue(ws->pair->r2w, (void *)ws->bl[ws->bl_head]))
			return 0;
		ws->bl_head = (ws->bl_head + 1) % ws->bl_cap;
		ws->bl_n--;
	}
	(void)r;
	return 1;
}

void relay_put(struct relay *r, uint16_t w, uintptr_t e)
{
	struct relay_ws *ws = &r->ws[w];

	/* relay_ring_size() makes a full ring impossible; should it happen
	 * the entry waits, in order, and is never dropped. */
	if (backlog_flush(r, ws) && !rte_ring_sp_enqueue(ws->pair->r2w, (void *)e))
		return;
	r->st.enq_retry++;
	if (ws->bl_n == ws->bl_cap) {
		r->st.proto_err++; /* more than both pools and every slot: a bug */
		return;
	}
	ws->bl[(ws->bl_head + ws->bl_n) % ws->bl_cap] = e;
	ws->bl_n++;
}

void relay_credit(struct relay *r, struct relay_msg *m)
{
	m->kind = RELAY_M_CREDIT;
	m->next = NULL;
	r->st.credits++;
	relay_put(r, m->w, (uintptr_t)m);
}

/* ---- Sockets ---------------------------------------------------------------- */

uint64_t relay_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int relay_ep_set(struct relay *r, int fd, void *owner, uint32_t *cur, uint32_t mask)
{
	struct epoll_event ev = { .events = mask, .data.ptr = owner };
	int op;

	if (mask == *cur)
		return 0;
	/* Out of the set rather than an empty mask: EPOLLHUP would still be
	 * reported, and a session that does not read would spin on it. */
	op = !mask ? EPOLL_CTL_DEL : !*cur ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(r->ep, op, fd, &ev))
		return -errno;
	*cur = mask;
	return 0;
}

int relay_connect(struct relay *r, uint8_t b)
{
	const struct cfg_backend *cb = &r->cfg->backends[b];
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(cb->port),
				  .sin_addr.s_addr = cb->addr };
	int one = 1, fd, e;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Commands and replies are small and latency-bound. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* ---- Init and teardown ---------------------------------------------------------- */

int relay_init(struct relay *r, const struct cfg *cfg, struct relay_pair *pairs, uint16_t n_workers,
	       uint16_t n_relays, uint16_t id, char *err, size_t errlen)
{
	uint32_t n_sess = cfg->limits.sessions;

	memset(r, 0, sizeof(*r));
	r->id = id;
	r->n_workers = n_workers;
	r->n_relays = n_relays;
	r->cfg = cfg;
	r->ep = -1;
	if (!n_relays || id >= n_relays || cfg->n_backends > 64) {
		snprintf(err, errlen, "relay %u: bad relay count or too many backends", id);
		return -EINVAL;
	}
	{
		/* Never send in the clear what the config says goes under
		 * TLS: no context, no start. */
		int rc = relay_tls_build(cfg, r->tls, err, errlen);

		if (rc) {
			relay_destroy(r);
			return rc;
		}
	}
	r->ws = calloc(n_workers, sizeof(*r->ws));
	if (!r->ws)
		goto nomem;
	for (uint16_t w = 0; w < n_workers; w++) {
		struct relay_ws *ws = &r->ws[w];

		ws->pair = &pairs[(uint32_t)w * n_relays + id];
		ws->bl_cap = relay_ring_size(cfg->relay.ring_size, n_sess);
		ws->slot = calloc(n_sess, sizeof(*ws->slot));
		ws->bl = calloc(ws->bl_cap, sizeof(*ws->bl));
		if (!ws->slot || !ws->bl)
			goto nomem;
	}
	for (uint32_t b = 0; b < cfg->n_backends; b++) {
		struct relay_be *be = &r->be[b];
		uint32_t mc = cfg->backends[b].max_conns;

		/* Each relay lcore keeps its share of the backend's cap, so no
		 * counter is shared between lcores. */
		be->cap = mc / n_relays + (id < mc % n_relays);
		be->up = 1;
		be->hc = calloc(1, sizeof(*be->hc));
		if (!be->hc)
			goto nomem;
		be->hc->tag = RELAY_EP_HC;
		be->hc->be = (uint8_t)b;
		be->hc->fd = -1;
		relay_rscan_init(&be->hc->rs);
	}
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (r->ep < 0) {
		int e = -errno;

		snprintf(err, errlen, "relay %u: epoll_create1: %s", id, strerror(-e));
		relay_destroy(r);
		return e;
	}
	r->now = relay_now_ms();
	/* Spread the first checks over one interval so that several relay
	 * lcores and backends do not all connect at once. */
	for (uint32_t b = 0; b < cfg->n_backends; b++)
		r->be[b].next_check = r->now + cfg->relay.health_interval_ms * (b + 1u + id) /
						   (cfg->n_backends + n_relays);
	return 0;
nomem:
	snprintf(err, errlen, "relay %u: out of memory for session state", id);
	relay_destroy(r);
	return -ENOMEM;
}

void relay_destroy(struct relay *r)
{
	struct relay_sess *s;

	while ((s = r->live))
		relay_sess_drop(r, s);
	while ((s = r->dead)) {
		r->dead = s->next;
		free(s);
	}
	for (uint32_t b = 0; r->cfg && b < r->cfg->n_backends; b++) {
		if (r->be[b].hc) {
			relay_hc_close(r, r->be[b].hc);
			free(r->be[b].hc);
			r->be[b].hc = NULL;
		}
	}
	for (uint16_t w = 0; r->ws && w < r->n_workers; w++) {
		free(r->ws[w].slot);
		free(r->ws[w].bl);
	}
	free(r->ws);
	r->ws = NULL;
	relay_tls_free(r->tls);
	relay_tls_free(r->ctl_tls); /* a reload's, if relay_main never took it */
	if (r->ep >= 0)
		close(r->ep);
	r->ep = -1;
}

/* ---- The loop --------------------------------------------------------------- */

/* One entry from worker w. */
static void ring_entry(struct relay *r, uint16_t w, uintptr_t e)
{
	struct relay_ws *ws = &r->ws[w];
	struct relay_sess *s;
	struct relay_msg *m;

	if (relay_is_ctl(e)) {
		uint32_t sid = relay_ctl_sid(e);

		s = sid < r->cfg->limits.sessions ? ws->slot[sid] : NULL;
		if (!s || s->gen != relay_ctl_gen(e))
			return; /* already gone (GONE/NONE/BUSY sent): nothing to do */
		if (relay_ctl_kind(e) == RELAY_M_ABORT)
			relay_sess_abort(r, s);
		else if (relay_ctl_kind(e) == RELAY_M_QUIT)
			relay_sess_quit(r, s);
		else
			r->st.proto_err++;
		return;
	}
	m = (struct relay_msg *)e;
	m->w = w; /* credits route by it */
	if (m->sid >= r->cfg->limits.sessions) {
		r->st.proto_err++;
		relay_credit(r, m);
		return;
	}
	s = ws->slot[m->sid];
	switch (m->kind) {
	case RELAY_M_OPEN:
		if (s) {
			/* The contract puts a terminal control first. */
			r->st.proto_err++;
			relay_sess_abort(r, s);
		}
		relay_sess_open(r, w, m);
		m->len = 0; /* an OPEN carries no session bytes */
		relay_credit(r, m);
		return;
	case RELAY_M_CMD:
	case RELAY_M_BODY:
		if (s && s->gen == m->gen) {
			relay_sess_queue(r, s, m);
			return;
		}
		/* For a backend session that is gone: back at once. */
		relay_credit(r, m);
		return;
	default:
		r->st.proto_err++;
		relay_credit(r, m);
		return;
	}
}

/* Dequeues from every pair; returns how many entries there were. */
static unsigned rings(struct relay *r)
{
	void *e[RELAY_BURST];
	unsigned total = 0;

	for (uint16_t w = 0; w < r->n_workers; w++) {
		unsigned n;

		backlog_flush(r, &r->ws[w]);
		n = rte_ring_sc_dequeue_burst(r->ws[w].pair->w2r, e, RELAY_BURST, NULL);
		for (unsigned i = 0; i < n; i++)
			ring_entry(r, w, (uintptr_t)e[i]);
		total += n;
	}
	return total;
}

/* Work that waits for the end of an epoll batch: stale events may still
 * name a session, so reconnects and frees happen only here. */
static void after_batch(struct relay *r)
{
	struct relay_sess *s, *nx;

	while ((s = r->retry)) {
		r->retry = s->rnext;
		s->rnext = NULL;
		relay_sess_retry(r, s);
	}
	if (r->n_stalled)
		for (s = r->live; s; s = nx) {
			nx = s->next; /* s may end here */
			if (s->stalled)
				relay_sess_unstall(r, s);
		}
	while ((s = r->dead)) {
		r->dead = s->next;
		free(s);
	}
}

int relay_tls_build(const struct cfg *cfg, struct tls_cctx **out, char *err, size_t errlen)
{
	for (uint32_t b = 0; b < CFG_BACKENDS_MAX; b++)
		out[b] = NULL;
	for (uint32_t b = 0; b < cfg->n_backends; b++) {
		const struct cfg_backend *cb = &cfg->backends[b];
		struct tls_cctx_conf cc = { .verify = cb->tls_verify == CFG_TLS_VERIFY_CA
							  ? TLS_CLI_VERIFY_CA
							  : TLS_CLI_VERIFY_NONE,
					    .ca = cb->tls_ca };
		char why[200];
		int rc;

		if (cb->tls == CFG_TLS_NONE)
			continue;
		rc = tls_cctx_new(&cc, &out[b], why, sizeof(why));
		if (rc) {
			snprintf(err, errlen, "%s:%u: backends[%u] (%s): %s", cfg->file, cb->line,
				 b, cb->name, why);
			relay_tls_free(out);
			return rc;
		}
	}
	return 0;
}

void relay_tls_free(struct tls_cctx **t)
{
	for (uint32_t b = 0; b < CFG_BACKENDS_MAX; b++) {
		tls_cctx_free(t[b]); /* SSL_CTX_free: a session's SSL keeps its own reference */
		t[b] = NULL;
	}
}

void relay_tls_thread(struct relay *r)
{
	sigset_t pipe;
	uint32_t b;

	if (r->tls_thread)
		return;
	for (b = 0; b < CFG_BACKENDS_MAX && r->tls[b] == NULL; b++)
		;
	if (b == CFG_BACKENDS_MAX)
		return;
	/* OpenSSL's allocations for backend TLS come from this lcore's own
	 * arena (DESIGN §2); without it, jemalloc's automatic one. OpenSSL
	 * writes to the socket with write(), not send(MSG_NOSIGNAL): a
	 * backend gone mid-write would raise SIGPIPE and end the process.
	 * SIGPIPE is sent to the writing thread, so blocking it here (the
	 * write then fails with EPIPE, handled as a broken backend) leaves
	 * every other thread's disposition alone. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	(void)tls_mem_thread_init(&r->tls_arena);
	r->tls_thread = 1;
}

int relay_main(void *arg)
{
	struct relay *r = arg;
	struct epoll_event ev[RELAY_EP_EVENTS];
	uint32_t empty = 0;

	relay_tls_thread(r);
	while (!__atomic_load_n(&r->ctl_stop, __ATOMIC_ACQUIRE)) {
		/* r->cfg may change below: no pointer into it outlives a pass */
		const struct cfg_workers *wc = &r->cfg->workers;
		const struct cfg *nc = __atomic_load_n(&r->ctl_cfg, __ATOMIC_ACQUIRE);
		unsigned busy;
		int n;

		/* A safe point: no epoll event, retry or dead session is
		 * pending, nothing holds a backend index but the sessions. */
		if (nc != NULL && nc != r->cfg) {
			relay_reload(r, nc);
			wc = &r->cfg->workers;
			__atomic_store_n(&r->ack_cfg, nc, __ATOMIC_RELEASE);
		}

		r->now = relay_now_ms();
		busy = rings(r);
		after_batch(r);
		/* Zero while the rings bring work and for the workers' back-off
		 * count of empty loops after it (a worker never wakes the relay:
		 * sleeping at once would add up to RELAY_IDLE_WAIT_MS to every
		 * command's round trip); then a short sleep in the kernel: the
		 * relay may share its CPU (DESIGN §1). With the workers'
		 * back-off off the relay spins as they do. */
		if (busy)
			empty = 0;
		n = epoll_wait(
		    r->ep, ev, RELAY_EP_EVENTS,
		    busy || !wc->idle_backoff || empty < wc->empty_polls ? 0 : RELAY_IDLE_WAIT_MS);
		empty = n > 0 || busy ? 0 : empty + 1;
		r->now = relay_now_ms();
		for (int i = 0; i < n; i++) {
			uint8_t tag = *(uint8_t *)ev[i].data.ptr;

			if (tag == RELAY_EP_SESS)
				relay_sess_io(r, ev[i].data.ptr, ev[i].events);
			else
				relay_hc_io(r, ev[i].data.ptr, ev[i].events);
		}
		after_batch(r);
		if (r->now >= r->next_sweep) {
			struct relay_sess *s, *nx;

			r->next_sweep = r->now + RELAY_SWEEP_MS;
			for (s = r->live; s; s = nx) {
				nx = s->next;
				relay_sess_timer(r, s);
			}
			relay_hc_timer(r);
			after_batch(r);
		}
	}
	return 0;
}

void relay_stats_log(const struct relay *r)
{
	const struct relay_stats *s = &r->st;

	log_kv(LOG_LVL_INFO,
	       "event=relay_stats relay=%u opens=%lu ready=%lu none=%lu busy=%lu gone=%lu "
	       "aborts=%lu quits=%lu connects=%lu connect_fail=%lu bytes_out=%lu replies=%lu "
	       "refusals=%lu early=%lu credits=%lu health_ok=%lu health_fail=%lu health_up=%lu "
	       "health_down=%lu enq_retry=%lu proto_err=%lu rpool_empty=%lu tls_nocap=%lu "
	       "tls_started=%lu tls_done=%lu tls_fail=%lu tls_discard=%lu msgs=%lu "
	       "msgs_refused=%lu data_bytes=%lu reloads=%lu retired=%u",
	       r->id, (unsigned long)s->opens, (unsigned long)s->ready, (unsigned long)s->none,
	       (unsigned long)s->busy, (unsigned long)s->gone, (unsigned long)s->aborts,
	       (unsigned long)s->quits, (unsigned long)s->connects, (unsigned long)s->connect_fail,
	       (unsigned long)s->bytes_out, (unsigned long)s->replies, (unsigned long)s->refusals,
	       (unsigned long)s->early, (unsigned long)s->credits, (unsigned long)s->health_ok,
	       (unsigned long)s->health_fail, (unsigned long)s->health_up,
	       (unsigned long)s->health_down, (unsigned long)s->enq_retry,
	       (unsigned long)s->proto_err, (unsigned long)s->rpool_empty,
	       (unsigned long)s->tls_nocap, (unsigned long)s->tls_started,
	       (unsigned long)s->tls_done, (unsigned long)s->tls_fail,
	       (unsigned long)s->tls_discard, (unsigned long)s->msgs,
	       (unsigned long)s->msgs_refused, (unsigned long)s->data_bytes,
	       (unsigned long)s->reloads, r->n_retired);
	/* One line per backend: 64 of them would not fit a log line. */
	for (uint32_t b = 0; b < r->cfg->n_backends; b++)
		log_kv(LOG_LVL_INFO,
		       "event=relay_backend_stats relay=%u backend=%s connects=%lu fail=%lu up=%u "
		       "conns=%u tls_fail=%lu msgs=%lu",
		       r->id, r->cfg->backends[b].name, (unsigned long)s->be_connects[b],
		       (unsigned long)s->be_fail[b], r->be[b].up, r->be[b].conns,
		       (unsigned long)s->be_tls_fail[b], (unsigned long)s->be_msgs[b]);
}
