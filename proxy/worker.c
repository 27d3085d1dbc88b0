/*
 * worker.c — the poll-mode worker loop (see worker.h).
 *
 * Nothing here blocks or makes a syscall of its own: the only sleep is the
 * configured idle back-off, and what a virtual PMD does inside its bursts.
 * Frames leave through a per-port staging array flushed once per loop (and
 * whenever it fills), so one tx_burst carries every reply of a loop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "log.h"
#include "policy.h"
#include "reload.h"
#include "relay.h"
#include "sess.h"
#include "worker.h"

#define WORKER_TX_RETRIES 4

uint64_t worker_now_ms(void)
{
	static __thread uint64_t per_ms;

	if (per_ms == 0) {
		per_ms = rte_get_tsc_hz() / 1000;
		if (per_ms == 0)
			per_ms = 1;
	}
	return rte_get_tsc_cycles() / per_ms;
}

/* ---- the port side: ops for the endpoint ----------------------------------- */

static void tx_flush(struct wport *wp)
{
	uint16_t sent = 0, n = wp->ntx;
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(wp->tx[i]);
	if (wp->fault != NULL) {
		drv_fault_tx_burst(wp->fault, wp->queue, wp->tx, n); /* takes all */
		sent = n;
	} else {
		for (int i = 0; i < WORKER_TX_RETRIES && sent < n; i++)
			sent = (uint16_t)(sent + rte_eth_tx_burst(wp->port_id, wp->queue,
								  wp->tx + sent,
								  (uint16_t)(n - sent)));
		if (sent < n) {
			/* a full device queue is a lossy link: TCP retransmits */
			for (uint16_t i = sent; i < n; i++)
				bytes -= rte_pktmbuf_pkt_len(wp->tx[i]);
			rte_pktmbuf_free_bulk(wp->tx + sent, (unsigned)(n - sent));
			wp->w->st.tx_drop += (uint64_t)(n - sent);
		}
	}
	wp->w->st.tx_pkts += n;
	wp->w->st.tx_bytes[wp->idx] += bytes;
	wp->ntx = 0;
}

static struct rte_mbuf *op_alloc(void *arg)
{
	struct wport *wp = arg;

	return rte_pktmbuf_alloc(wp->pool);
}

static void op_xmit(void *arg, struct rte_mbuf *m)
{
	struct wport *wp = arg;

	wp->tx[wp->ntx++] = m;
	if (wp->ntx == WORKER_TX_MAX)
		tx_flush(wp);
}

/* ---- setup ----------------------------------------------------------------- */

static void fill_net_cfg(struct net_cfg *nc, const struct worker_shared *sh, uint32_t pi,
			 int socket, const char *name)
{
	const struct cfg *cfg = sh->cfg;
	const struct cfg_port *cp = &cfg->ports[pi];
	const struct cfg_limits *l = &cfg->limits;
	const struct drv_port *dp = &sh->ports[pi];
	uint32_t hw_tx = DRV_HW_TX_IPV4_CKSUM | DRV_HW_TX_TCP_CKSUM;

	net_cfg_defaults(nc);
	memcpy(nc->mac, dp->mac.addr_bytes, 6);
	nc->addrs[0] = cp->addr;
	nc->n_addrs = 1;
	nc->n_ports = 0;
	for (uint32_t i = 0; i < cfg->n_listeners && nc->n_ports < NET_LISTEN_MAX; i++) {
		const struct cfg_listener *li = &cfg->listeners[i];
		uint32_t k;

		if (li->addr != 0 && li->addr != cp->addr)
			continue;
		for (k = 0; k < nc->n_ports && nc->ports[k] != li->port; k++)
			;
		if (k == nc->n_ports)
			nc->ports[nc->n_ports++] = li->port;
	}
	nc->mtu = dp->mtu ? dp->mtu : cp->mtu;
	nc->socket_id = socket;
	nc->name = name;
	nc->max_conns = l->sessions;
	nc->max_halfopen = l->half_open;
	nc->max_tw = l->time_wait;
	nc->n_bufs = l->buffers;
	nc->buf_size = l->buffer_size;
	nc->ooo_segs = l->ooo_segments;
	nc->ooo_bytes = l->ooo_bytes;
	nc->arp_entries = l->arp_entries;
	nc->arp_ttl_ms = l->arp_ttl_ms;
	nc->rto_init_ms = l->rto_initial_ms;
	nc->rto_min_ms = l->rto_min_ms;
	nc->rto_max_ms = l->rto_max_ms;
	nc->rtx_max = l->retransmits;
	nc->synack_retries = l->synack_retries;
	nc->tw_ms = l->time_wait_ms;
	nc->linger_ms = l->linger_ms;
	nc->challenge_per_s = l->challenge_acks_per_s;
	/* Virtual ports (sw_cksum) and ports with only part of the offloads:
	 * the endpoint computes both checksums itself. */
	nc->tx_cksum_offload = !(dp->sw_cksum & DRV_SW_TX_CKSUM) && (dp->hw & hw_tx) == hw_tx;
	nc->syncookies = l->syncookies == CFG_SYNCOOKIES_NEVER    ? 0
			 : l->syncookies == CFG_SYNCOOKIES_ALWAYS ? 2
								  : 1;
	nc->secret = sh->secret;
	if (getrandom(nc->isn_key, sizeof(nc->isn_key), 0) != sizeof(nc->isn_key))
		nc->isn_key[0] = rte_get_tsc_cycles(), nc->isn_key[1] = rte_rand();
}

int worker_init(struct worker *w, const struct worker_shared *sh, uint16_t id, unsigned lcore,
		uint64_t now, char *err, size_t errlen)
{
	const struct cfg *cfg = sh->cfg;
	size_t sz_sess, sz_lines, sz_lfree, sz_lq, sz_ovf, sz_ovff, sz_helo, sz_wheel, sz_rl,
	    sz_tls, sz_alines, sz_afree, sz_laq, sz_px, sz_cl, off;
	uint64_t cl_key[2];
	int any_tls = 0, any_auth = 0, any_proxy = 0;
	uint8_t *mem;
	struct net_ops ops = { 0 };
	int rc;

	w->id = id;
	w->lcore = lcore;
	w->socket = (int)rte_lcore_to_socket_id(lcore);
	if (w->socket < 0)
		w->socket = SOCKET_ID_ANY;
	w->sh = sh;
	w->n_sess = cfg->limits.sessions;
	w->n_ovf = sess_ovf_count(w->n_sess);
	w->n_lbuf = cfg_line_buffers(&cfg->limits);

	sz_sess = RTE_ALIGN_CEIL(sizeof(struct sess) * w->n_sess, RTE_CACHE_LINE_SIZE);
	sz_lines = RTE_ALIGN_CEIL((size_t)SESS_WORK_SIZE * w->n_lbuf, RTE_CACHE_LINE_SIZE);
	sz_lfree = RTE_ALIGN_CEIL(sizeof(uint32_t) * w->n_lbuf, RTE_CACHE_LINE_SIZE);
	sz_lq = RTE_ALIGN_CEIL(sizeof(uint32_t) * w->n_sess, RTE_CACHE_LINE_SIZE);
	sz_ovf = RTE_ALIGN_CEIL((size_t)SESS_OVF_STRIDE * w->n_ovf, RTE_CACHE_LINE_SIZE);
	sz_ovff = RTE_ALIGN_CEIL(sizeof(uint32_t) * w->n_ovf, RTE_CACHE_LINE_SIZE);
	sz_helo = RTE_ALIGN_CEIL(sess_helo_mem(w->n_sess), RTE_CACHE_LINE_SIZE);
	sz_wheel = RTE_ALIGN_CEIL(wheel_mem_size(SESS_WHEEL_SLOTS), RTE_CACHE_LINE_SIZE);
	sz_rl = RTE_ALIGN_CEIL(sess_relay_mem(w->n_sess), RTE_CACHE_LINE_SIZE);
	for (uint32_t i = 0; i < cfg->n_listeners; i++) {
		any_tls |= sh->tls[i] != NULL;
		any_auth |= (sh->smtp[i].caps & SMTP_CAP_AUTH) != 0;
		any_proxy |= cfg->listeners[i].accept_proxy != 0;
	}
	sz_tls =
	    any_tls ? RTE_ALIGN_CEIL(sizeof(struct sess_tls) * w->n_sess, RTE_CACHE_LINE_SIZE) : 0;
	/* AUTH listeners' work areas (sess.c): only where some listener
	 * offers AUTH, so other configurations pay nothing for them */
	w->n_abuf = any_auth ? cfg_auth_line_buffers(&cfg->limits) : 0;
	sz_alines = RTE_ALIGN_CEIL((size_t)SESS_AUTH_WORK_SIZE * w->n_abuf, RTE_CACHE_LINE_SIZE);
	sz_afree = RTE_ALIGN_CEIL(sizeof(uint32_t) * w->n_abuf, RTE_CACHE_LINE_SIZE);
	sz_laq = any_auth ? RTE_ALIGN_CEIL(sizeof(uint32_t) * w->n_sess, RTE_CACHE_LINE_SIZE) : 0;
	sz_px =
	    any_proxy ? RTE_ALIGN_CEIL(sizeof(struct sess_px) * w->n_sess, RTE_CACHE_LINE_SIZE) : 0;
	sz_cl = RTE_ALIGN_CEIL(climit_mem(cfg->client_limits.table_size), RTE_CACHE_LINE_SIZE);
	mem = rte_zmalloc_socket("bulwark_sess",
				 sz_sess + sz_lines + sz_lfree + sz_lq + sz_ovf + sz_ovff +
				     sz_helo + sz_rl + sz_tls + sz_alines + sz_afree + sz_laq +
				     sz_px + sz_cl + sz_wheel,
				 RTE_CACHE_LINE_SIZE, w->socket);
	if (mem == NULL) {
		snprintf(err, errlen,
			 "worker %u: no memory for %u sessions (limits.sessions; "
			 "eal.args -m / hugepages)",
			 id, w->n_sess);
		return -ENOMEM;
	}
	w->mem = mem;
	off = 0;
	w->sess = (struct sess *)(mem + off), off += sz_sess;
	w->lbuf = mem + off, off += sz_lines;
	w->lbuf_free = (uint32_t *)(mem + off), off += sz_lfree;
	w->lq = (uint32_t *)(mem + off), off += sz_lq;
	w->ovf = mem + off, off += sz_ovf;
	w->ovf_free = (uint32_t *)(mem + off), off += sz_ovff;
	sess_helo_init(&w->helo, mem + off, w->n_sess), off += sz_helo;
	w->n_relays = sh->relay_pairs != NULL ? sh->n_relays : 0;
	w->rpairs = w->n_relays ? &sh->relay_pairs[(size_t)id * w->n_relays] : NULL;
	sess_relay_init(w, mem + off), off += sz_rl;
	w->tls = any_tls ? (struct sess_tls *)(void *)(mem + off) : NULL, off += sz_tls;
	w->abuf = any_auth ? mem + off : NULL, off += sz_alines;
	w->abuf_free = any_auth ? (uint32_t *)(void *)(mem + off) : NULL, off += sz_afree;
	w->laq = any_auth ? (uint32_t *)(void *)(mem + off) : NULL, off += sz_laq;
	w->px = any_proxy ? (struct sess_px *)(void *)(mem + off) : NULL, off += sz_px;
	if (getrandom(cl_key, sizeof(cl_key), 0) != sizeof(cl_key))
		cl_key[0] = rte_get_tsc_cycles(), cl_key[1] = rte_rand();
	climit_init(&w->cl, mem + off, cfg->client_limits.table_size, cl_key), off += sz_cl;
	w->now = now;
	if ((rc = wheel_init(&w->wheel, mem + off, SESS_WHEEL_SLOTS, SESS_TICK_MS, now, mem)) !=
	    0) {
		snprintf(err, errlen, "worker %u: session wheel: %s", id, strerror(-rc));
		return rc;
	}
	sess_pool_init(w);

	memset(&w->out, 0, sizeof(w->out));
	w->out.buf = w->obuf;
	w->out.cap = sizeof(w->obuf);
	w->out.fwd = w->fwd;
	w->out.fwd_cap = SMTP_FWD_MIN;
	w->out.fwd_buf = w->fbuf;
	w->out.fwd_buf_cap = sizeof(w->fbuf);
	smtp_out_reset(&w->out);

	ops.alloc = op_alloc;
	ops.xmit = op_xmit;
	ops.punt = NULL;
	sess_ops(&ops);
	w->n_ports = cfg->n_ports;
	for (uint32_t i = 0; i < cfg->n_ports; i++) {
		struct wport *wp = &w->port[i];
		struct net_cfg nc;
		const char *why = NULL;
		char name[64];

		wp->w = w;
		wp->idx = i;
		wp->port_id = sh->ports[i].port_id;
		wp->queue = id;
		wp->pool = sh->ports[i].pools[sh->ports[i].n_pools > 1 ? id : 0];
		/* what the started port's RX rings hold for good: shedding
		 * measures mbuf pressure above it (sess_shed.c) */
		wp->mbuf_base = rte_mempool_in_use_count(wp->pool);
		wp->fault = sh->faults[i];
		snprintf(name, sizeof(name), "bw_w%u_p%u", id, i);
		fill_net_cfg(&nc, sh, i, w->socket, name);
		ops.arg = wp;
		wp->net = net_create(&nc, &ops, now, &why);
		if (wp->net == NULL) {
			snprintf(err, errlen, "worker %u port %s: TCP endpoint: %s", id,
				 cfg->ports[i].name, why ? why : "failed");
			return -ENOMEM;
		}
	}
	return 0;
}

void worker_destroy(struct worker *w)
{
	for (uint32_t i = 0; i < w->n_ports; i++) {
		struct wport *wp = &w->port[i];

		if (wp->ntx)
			rte_pktmbuf_free_bulk(wp->tx, wp->ntx);
		wp->ntx = 0;
		net_destroy(wp->net);
		wp->net = NULL;
	}
	if (w->mem != NULL) {
		sess_tls_fini(w);
		sess_relay_fini(w);
		sess_pool_fini(w);
	}
	rte_free(w->mem);
	w->mem = NULL;
}

/* ---- the loop -------------------------------------------------------------- */

/* How often the worker measures its TLS arena (a tcache flush and a stats
 * epoch: cheap, but not per loop). */
#define WORKER_TLS_SAMPLE_MS 1000u

/* Measures the TLS arena and the TLS sessions at the same moment (the
 * arena is this thread's: tls_mem_arena_bytes must run here). The main
 * lcore reads the gauges while the worker runs: relaxed atomic stores. */
static void worker_tls_sample(struct worker *w)
{
	size_t bytes = 0;

	if (w->st.tls_mem_ok && tls_mem_arena_bytes(&w->tls_arena, &bytes) != 0)
		bytes = 0;
	__atomic_store_n(&w->st.tls_mem_bytes, (uint64_t)bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&w->st.tls_mem_sessions, w->st.tls_live, __ATOMIC_RELAXED);
}

/* Draining and nothing left: no session and no flow in any endpoint. */
static int worker_quiet(const struct worker *w)
{
	if (w->live != 0)
		return 0;
	for (uint32_t i = 0; i < w->n_ports; i++)
		if (net_stats(w->port[i].net)->conns != 0)
			return 0;
	return 1;
}

int worker_main(void *arg)
{
	struct worker *w = arg;
	const struct cfg_workers *wc = &w->sh->cfg->workers;
	uint16_t burst = wc->burst;
	uint32_t empty = 0;
	uint64_t tls_sampled = 0;
	struct rte_mbuf *pkts[512];

	/* OpenSSL's allocations on this lcore from its own jemalloc arena
	 * (-ENOTSUP under ASan: libc's allocator then) */
	if (w->tls != NULL && tls_mem_thread_init(&w->tls_arena) == 0)
		w->st.tls_mem_ok = 1;
	/* a reader of the policy (reload.h): online until the loop ends */
	if (w->sh->policy != NULL && reload_thread_register(w->sh->policy, w->id) != 0)
		log_kv(LOG_LVL_ERR, "event=worker_rcu_register_failed worker=%u", w->id);

	while (!__atomic_load_n(&w->ctl_stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = worker_now_ms();
		uint32_t got = 0;

		w->now = now;
		for (uint32_t i = 0; i < w->n_ports; i++) {
			struct wport *wp = &w->port[i];
			uint16_t n = wp->fault != NULL
					 ? drv_fault_rx_burst(wp->fault, wp->queue, pkts, burst)
					 : rte_eth_rx_burst(wp->port_id, wp->queue, pkts, burst);

			if (n != 0) {
				net_rx(wp->net, pkts, n, now);
				got += n;
			}
		}
		if (!w->draining && __atomic_load_n(&w->ctl_drain, __ATOMIC_ACQUIRE))
			sess_drain_all(w, now);
		if (w->n_relays != 0)
			sess_relay_poll(w, now);
		sess_timers(w, now);
		sess_lines_wake(w, now);
		sess_shed_poll(w, now);
		for (uint32_t i = 0; i < w->n_ports; i++) {
			struct wport *wp = &w->port[i];

			net_timers(wp->net, now);
			if (wp->ntx != 0 || wp->fault != NULL)
				tx_flush(wp);
		}
		w->st.rx_pkts += got;
		if (w->tls != NULL && now - tls_sampled >= WORKER_TLS_SAMPLE_MS) {
			worker_tls_sample(w);
			tls_sampled = now;
		}
		__atomic_store_n(&w->pub_live, w->live, __ATOMIC_RELAXED);
		if (w->draining)
			__atomic_store_n(&w->pub_quiet, (uint8_t)worker_quiet(w), __ATOMIC_RELEASE);
		/* no policy pointer is held past this point (reload.h) */
		if (w->sh->policy != NULL)
			reload_quiescent(w->sh->policy, w->id);
		if (got != 0) {
			empty = 0;
		} else if (wc->idle_backoff && ++empty >= wc->empty_polls) {
			/* asleep, the worker must not hold up reclamation */
			if (w->sh->policy != NULL)
				reload_offline(w->sh->policy, w->id);
			rte_delay_us_sleep(wc->sleep_us);
			if (w->sh->policy != NULL)
				reload_online(w->sh->policy, w->id);
			w->st.sleeps++;
		}
	}
	if (w->tls != NULL)
		worker_tls_sample(w); /* the exit line's figures */
	if (w->sh->policy != NULL)
		reload_thread_unregister(w->sh->policy, w->id);
	return 0;
}

/* ---- counters ---------------------------------------------------------------- */

void worker_gauges_log(const struct worker *w)
{
	uint64_t conns = 0, halfopen = 0, tw = 0, bufs = 0, mbufs = 0;
	unsigned relay_out = 0, stash = __atomic_load_n(&w->n_stash, __ATOMIC_RELAXED);

	for (uint32_t i = 0; i < w->n_ports; i++) {
		const struct net_stats *ns = net_stats(w->port[i].net);

		conns += __atomic_load_n(&ns->conns, __ATOMIC_RELAXED);
		halfopen += __atomic_load_n(&ns->halfopen, __ATOMIC_RELAXED);
		tw += __atomic_load_n(&ns->tw, __ATOMIC_RELAXED);
		bufs += __atomic_load_n(&ns->bufs, __ATOMIC_RELAXED);
		/* a pool shared by the workers shows the same figure on each */
		mbufs += rte_mempool_in_use_count(w->port[i].pool);
	}
	if (w->n_relays != 0) {
		/* out of the pool and not in the worker's own stash: held by
		 * sessions, rings or a relay */
		relay_out = rte_mempool_in_use_count(w->rpairs[0].wpool);
		relay_out = relay_out > stash ? relay_out - stash : 0;
	}
	log_kv(LOG_LVL_INFO,
	       "event=worker_gauges worker=%u sessions=%u flows=%lu halfopen=%lu time_wait=%lu "
	       "tcp_bufs=%lu mbufs_in_use=%lu line_buffers=%u relay_objs_out=%u relay_stash=%u "
	       "relay_links=%u shed=%u pressure=%u",
	       w->id, __atomic_load_n(&w->pub_live, __ATOMIC_RELAXED), (unsigned long)conns,
	       (unsigned long)halfopen, (unsigned long)tw, (unsigned long)bufs,
	       (unsigned long)mbufs, __atomic_load_n(&w->lbuf_used, __ATOMIC_RELAXED), relay_out,
	       stash, __atomic_load_n(&w->rl_live, __ATOMIC_RELAXED),
	       __atomic_load_n(&w->pub_shed, __ATOMIC_RELAXED),
	       __atomic_load_n(&w->pub_pressure, __ATOMIC_RELAXED));
}

static const char *const close_names[SMTP_CLOSE_COUNT] = {
	"none",    "quit",     "nonsmtp", "pregreet", "errors", "timeout",
	"backend", "shutdown", "msgs",    "limit",    "denied",
};

void worker_tls_mem_log(const struct worker *w)
{
	uint64_t live = __atomic_load_n(&w->st.tls_live, __ATOMIC_RELAXED);
	uint64_t n = __atomic_load_n(&w->st.tls_mem_sessions, __ATOMIC_RELAXED);
	uint64_t b = __atomic_load_n(&w->st.tls_mem_bytes, __ATOMIC_RELAXED);

	if (w->tls == NULL)
		return;
	/* per_session: the arena's bytes over the sessions alive at the same
	 * sample (arena= no: not measured, under ASan) */
	log_kv(LOG_LVL_INFO,
	       "event=worker_tls_mem worker=%u tls_sessions=%lu sampled_sessions=%lu "
	       "arena_bytes=%lu bytes_per_session=%lu arena=%s",
	       w->id, (unsigned long)live, (unsigned long)n, (unsigned long)b,
	       (unsigned long)(n != 0 ? b / n : 0), w->st.tls_mem_ok ? "yes" : "no");
}

const char *worker_close_name(unsigned reason)
{
	return reason < SMTP_CLOSE_COUNT ? close_names[reason] : "?";
}

void worker_stats_log(const struct worker *w)
{
	const struct worker_stats *s = &w->st;
	char buf[768];
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 1; i < SMTP_CLOSE_COUNT; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " close_%s=%lu", close_names[i],
				      (unsigned long)s->closes[i]);
	for (int i = SCAN_SIG_HTTP; i < SCAN_SIG_COUNT && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " sig_%s=%lu",
				      scan_sig_name((enum scan_sig)i), (unsigned long)s->sigs[i]);
	log_kv(LOG_LVL_INFO,
	       "event=worker_stats worker=%u lcore=%u accepted=%lu refused=%lu peer_fin=%lu "
	       "net_reset=%lu net_timeout=%lu relay_none=%lu starttls=%lu drained=%lu "
	       "parked=%lu park_lost=%lu line_wait=%lu line_peak=%lu helo_lost=%lu peak=%lu "
	       "denied=%lu allowed=%lu limit_sessions=%lu limit_rate=%lu limit_errors=%lu "
	       "limit_syn_dropped=%lu limit_evicted=%lu limit_untracked=%lu proxy_ok=%lu "
	       "proxy_local=%lu proxy_denied=%lu proxy_bad=%lu proxy_timeout=%lu rx_pkts=%lu "
	       "tx_pkts=%lu tx_drop=%lu sleeps=%lu%s",
	       w->id, w->lcore, (unsigned long)s->accepted, (unsigned long)s->refused,
	       (unsigned long)s->peer_fin, (unsigned long)s->net_reset,
	       (unsigned long)s->net_timeout, (unsigned long)s->relay_none,
	       (unsigned long)s->starttls, (unsigned long)s->drained, (unsigned long)s->ovf_used,
	       (unsigned long)s->ovf_lost, (unsigned long)s->line_wait, (unsigned long)s->line_peak,
	       (unsigned long)s->helo_lost, (unsigned long)s->peak, (unsigned long)s->denied,
	       (unsigned long)s->allowed, (unsigned long)w->cl.st.refused[CLIMIT_SESSIONS],
	       (unsigned long)w->cl.st.refused[CLIMIT_RATE],
	       (unsigned long)w->cl.st.refused[CLIMIT_ERRORS], (unsigned long)s->syn_dropped,
	       (unsigned long)w->cl.st.evicted, (unsigned long)w->cl.st.untracked,
	       (unsigned long)s->proxy_ok, (unsigned long)s->proxy_local,
	       (unsigned long)s->proxy_denied, (unsigned long)s->proxy_bad,
	       (unsigned long)s->proxy_timeout, (unsigned long)s->rx_pkts,
	       (unsigned long)s->tx_pkts, (unsigned long)s->tx_drop, (unsigned long)s->sleeps, buf);
	log_kv(LOG_LVL_INFO,
	       "event=worker_shed_stats worker=%u level=%u enter=%lu tuned=%lu cut=%lu refused=%lu "
	       "peak_pressure=%lu",
	       w->id, w->shed, (unsigned long)s->shed_enter, (unsigned long)s->shed_tuned,
	       (unsigned long)s->shed_cut, (unsigned long)s->shed_refused,
	       (unsigned long)s->shed_peak);
	if (w->n_relays != 0)
		log_kv(
		    LOG_LVL_INFO,
		    "event=worker_relay_stats worker=%u open=%lu msgs=%lu bytes=%lu terminal=%lu "
		    "replies=%lu ready=%lu credits=%lu wait_objs=%lu wait_credit=%lu stale=%lu "
		    "bad_reply=%lu lost=%lu ring_full=%lu proto_err=%lu links_live=%u",
		    w->id, (unsigned long)s->relay_open, (unsigned long)s->relay_msgs,
		    (unsigned long)s->relay_bytes, (unsigned long)s->relay_terminal,
		    (unsigned long)s->relay_replies, (unsigned long)s->relay_ready,
		    (unsigned long)s->relay_credits, (unsigned long)s->relay_wait,
		    (unsigned long)s->relay_credit_wait, (unsigned long)s->relay_stale,
		    (unsigned long)s->relay_bad_reply, (unsigned long)s->relay_lost,
		    (unsigned long)s->relay_ring_full, (unsigned long)s->relay_proto_err,
		    w->rl_live);
	if (w->tls != NULL) {
		const struct tls_stats *t = &w->tls_st;
		char fb[256];
		size_t k = 0;

		fb[0] = '\0';
		for (unsigned i = 0; i < TLS_FAIL_COUNT && k < sizeof(fb); i++)
			k += (size_t)snprintf(fb + k, sizeof(fb) - k, " failed_%s=%lu",
					      tls_fail_name(i), (unsigned long)t->failed[i]);
		log_kv(LOG_LVL_INFO,
		       "event=worker_tls_stats worker=%u started=%lu done=%lu peer_closed=%lu "
		       "reneg_refused=%lu handshaking=%lu busy=%lu nomem=%lu timeout=%lu "
		       "overflow=%lu%s",
		       w->id, (unsigned long)t->started, (unsigned long)t->done,
		       (unsigned long)t->peer_closed, (unsigned long)t->reneg_refused,
		       (unsigned long)t->handshaking, (unsigned long)s->tls_busy,
		       (unsigned long)s->tls_nomem, (unsigned long)s->tls_timeout,
		       (unsigned long)s->tls_overflow, fb);
		worker_tls_mem_log(w);
	}
	if (w->abuf != NULL)
		log_kv(
		    LOG_LVL_INFO,
		    "event=worker_auth_lines worker=%u areas=%u area_bytes=%zu wait=%lu peak=%lu",
		    w->id, w->n_abuf, (size_t)SESS_AUTH_WORK_SIZE, (unsigned long)s->auth_line_wait,
		    (unsigned long)s->auth_line_peak);
	for (uint32_t i = 0; i < w->n_ports; i++) {
		const struct net_stats *ns = net_stats(w->port[i].net);

		log_kv(LOG_LVL_INFO,
		       "event=net_stats worker=%u port=%s rx_pkts=%lu tx_pkts=%lu tcp_accepted=%lu "
		       "tcp_syn_in=%lu tcp_cookie_sent=%lu tcp_rst_out=%lu tcp_rtx=%lu "
		       "tcp_bad_cksum=%lu ip_bad_cksum=%lu tcp_conn_full=%lu tcp_buf_nomem=%lu "
		       "tx_nomem=%lu arp_req_in=%lu tcp_no_listener=%lu tcp_linger_expired=%lu "
		       "tcp_rtx_giveup=%lu tcp_challenge_ack=%lu tw_reused=%lu conns=%lu tw=%lu",
		       w->id, w->sh->cfg->ports[i].name, (unsigned long)ns->rx_pkts,
		       (unsigned long)ns->tx_pkts, (unsigned long)ns->tcp_accepted,
		       (unsigned long)ns->tcp_syn_in, (unsigned long)ns->tcp_cookie_sent,
		       (unsigned long)ns->tcp_rst_out, (unsigned long)ns->tcp_rtx,
		       (unsigned long)ns->tcp_bad_cksum, (unsigned long)ns->ip_bad_cksum,
		       (unsigned long)ns->tcp_conn_full, (unsigned long)ns->tcp_buf_nomem,
		       (unsigned long)ns->tx_nomem, (unsigned long)ns->arp_req_in,
		       (unsigned long)ns->tcp_no_listener, (unsigned long)ns->tcp_linger_expired,
		       (unsigned long)ns->tcp_rtx_giveup, (unsigned long)ns->tcp_challenge_ack,
		       (unsigned long)ns->tw_reused, (unsigned long)ns->conns,
		       (unsigned long)ns->tw);
	}
}
