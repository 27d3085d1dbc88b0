/*
 * stats.c — the counter table, the live walk over it, the Prometheus text
 * and the junk summary (stats.h; tear-free reads are explained there).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "climit.h"
#include "config.h"
#include "drv.h"
#include "log.h"
#include "net.h"
#include "relay.h"
#include "scan.h"
#include "smtp.h"
#include "stats.h"
#include "tls.h"
#include "worker.h"

_Static_assert(sizeof(void *) == 8 && sizeof(uint64_t) == 8,
	       "live counter reads rely on single-instruction 64-bit loads and stores");
_Static_assert(offsetof(struct worker_stats, replies) % 8 == 0 &&
		   offsetof(struct relay_stats, be_msgs) % 8 == 0,
	       "counters must be naturally aligned");
_Static_assert(SCAN_SIG_COUNT <= 16, "struct stats_junk.sigs");
_Static_assert(offsetof(struct worker, cl.st) % 8 == 0 &&
		   offsetof(struct climit_stats, refused) == 0,
	       "climit counters must be naturally aligned");
_Static_assert(CLIMIT_VERDICTS == 4, "slot_name: the limit names");

#define WS(f)   STATS_O_WORKER, offsetof(struct worker_stats, f)
#define TS(f)   STATS_O_TLS, offsetof(struct tls_stats, f)
#define NS(f)   STATS_O_NET, offsetof(struct net_stats, f)
#define RS(f)   STATS_O_RELAY, offsetof(struct relay_stats, f)
#define ES(f)   STATS_O_ETH, offsetof(struct rte_eth_stats, f)
#define CL(f)   STATS_O_CLIMIT, offsetof(struct climit_stats, f)
#define N(a, f) (uint16_t)(sizeof(((struct a *)0)->f) / sizeof(((struct a *)0)->f[0]))

#define C  STATS_COUNTER
#define G  STATS_GAUGE
#define L0 STATS_L_NONE

static const struct stats_def defs[] = {
	/* sessions (workers) */
	{ "bulwark_connections_total", "connections", "TCP connections that became SMTP sessions",
	  C, WS(accepted), L0, 1, NULL },
	{ "bulwark_connections_refused_total", "refused",
	  "handshakes refused for want of a free session (RST)", C, WS(refused), L0, 1, NULL },
	{ "bulwark_sessions_live", "live", "SMTP sessions open now", G, STATS_O_LIVE, 0, L0, 1,
	  NULL },
	{ "bulwark_sessions_closed_total", "closed", "sessions Bulwark closed, by reason", C,
	  WS(closes), STATS_L_REASON, N(worker_stats, closes), NULL },
	{ "bulwark_sessions_nonsmtp_total", "nonsmtp",
	  "sessions closed for a non-SMTP first line, by signature", C, WS(sigs), STATS_L_SIGNATURE,
	  N(worker_stats, sigs), NULL },
	{ "bulwark_sessions_peer_closed_total", "peer_closed", "sessions the client closed first",
	  C, WS(peer_fin), L0, 1, NULL },
	{ "bulwark_sessions_reset_total", "reset", "sessions whose flow was reset by the client", C,
	  WS(net_reset), L0, 1, NULL },
	{ "bulwark_replies_total", "replies", "SMTP replies sent to clients, by code", C,
	  WS(replies), STATS_L_CODE, N(worker_stats, replies), NULL },
	{ "bulwark_sessions_relayed_total", "relayed",
	  "sessions handed to a backend (first valid MAIL)", C, WS(relay_open), L0, 1, NULL },
	{ "bulwark_relay_no_backend_total", "no_backend",
	  "MAIL answered 421 4.3.0: no backend configured", C, WS(relay_none), L0, 1, NULL },
	{ "bulwark_starttls_total", "starttls", "STARTTLS commands accepted (220 sent)", C,
	  WS(starttls), L0, 1, NULL },
	/* lists, per-client limits and PROXY headers (workers) */
	{ "bulwark_clients_denied_total", "denied",
	  "sessions refused 554 5.7.1: client on the deny list", C, WS(denied), L0, 1, NULL },
	{ "bulwark_clients_allowed_total", "allowed",
	  "sessions from allow-listed clients (limits skipped)", C, WS(allowed), L0, 1, NULL },
	{ "bulwark_client_limit_refused_total", "limit_refused",
	  "sessions refused 421 4.7.0: client over a per-address limit, by limit", C, CL(refused),
	  STATS_L_LIMIT, N(climit_stats, refused), NULL },
	{ "bulwark_client_limit_syn_dropped_total", "limit_syn_dropped",
	  "SYNs dropped: client over a limit (client_limits.action = drop)", C, WS(syn_dropped), L0,
	  1, NULL },
	{ "bulwark_client_limit_evicted_total", "limit_evicted",
	  "client-limit entries with no live session replaced", C, CL(evicted), L0, 1, NULL },
	{ "bulwark_client_limit_untracked_total", "limit_untracked",
	  "sessions not tracked: their bucket was full of live entries", C, CL(untracked), L0, 1,
	  NULL },
	{ "bulwark_proxy_headers_total", "proxy_ok",
	  "PROXY headers on accept_proxy listeners, by result", C, WS(proxy_ok), STATS_L_RESULT, 1,
	  "ok" },
	{ "bulwark_proxy_headers_total", "proxy_local", NULL, C, WS(proxy_local), STATS_L_RESULT, 1,
	  "local" },
	{ "bulwark_proxy_headers_total", "proxy_denied", NULL, C, WS(proxy_denied), STATS_L_RESULT,
	  1, "denied" },
	{ "bulwark_proxy_headers_total", "proxy_bad", NULL, C, WS(proxy_bad), STATS_L_RESULT, 1,
	  "bad" },
	{ "bulwark_proxy_headers_total", "proxy_timeout", NULL, C, WS(proxy_timeout),
	  STATS_L_RESULT, 1, "timeout" },
	/* work areas (workers) */
	{ "bulwark_work_area_waits_total", "line_wait",
	  "sessions that waited for a free work area, by pool", C, WS(line_wait), STATS_L_POOL, 1,
	  "line" },
	{ "bulwark_work_area_waits_total", "auth_line_wait", NULL, C, WS(auth_line_wait),
	  STATS_L_POOL, 1, "auth" },
	{ "bulwark_work_areas_peak", "line_peak", "most work areas lent at once, by pool", G,
	  WS(line_peak), STATS_L_POOL, 1, "line" },
	{ "bulwark_work_areas_peak", "auth_line_peak", NULL, G, WS(auth_line_peak), STATS_L_POOL, 1,
	  "auth" },
	/* TLS (workers) */
	{ "bulwark_tls_handshakes_started_total", "tls_started", "TLS sessions begun", C,
	  TS(started), L0, 1, NULL },
	{ "bulwark_tls_handshakes_total", "tls_handshakes", "TLS handshakes completed", C, TS(done),
	  L0, 1, NULL },
	{ "bulwark_tls_failures_total", "tls_failed", "TLS sessions failed, by reason", C,
	  TS(failed), STATS_L_TLSFAIL, N(tls_stats, failed), NULL },
	{ "bulwark_tls_busy_total", "tls_busy",
	  "STARTTLS answered 454 (or implicit TLS closed) at tls.max_handshakes", C, WS(tls_busy),
	  L0, 1, NULL },
	{ "bulwark_tls_timeouts_total", "tls_timeouts", "handshakes past tls.handshake_timeout_ms",
	  C, WS(tls_timeout), L0, 1, NULL },
	{ "bulwark_tls_sessions_live", "tls_live", "TLS sessions alive (handshaking or open)", G,
	  WS(tls_live), L0, 1, NULL },
	{ "bulwark_tls_memory_sessions", "tls_mem_sessions",
	  "TLS sessions alive at the last arena sample (about once a second)", G,
	  WS(tls_mem_sessions), L0, 1, NULL },
	{ "bulwark_tls_memory_bytes", "tls_mem_bytes",
	  "bytes OpenSSL holds in the worker's arena at the last sample", G, WS(tls_mem_bytes), L0,
	  1, NULL },
	{ "bulwark_tls_memory_measured", "tls_mem_ok",
	  "1: the TLS arena is measured (jemalloc; 0 under ASan)", G, WS(tls_mem_ok), L0, 1, NULL },
	/* packets per port and queue */
	{ "bulwark_rx_packets_total", "rx_packets", "frames received, per port and queue", C,
	  NS(rx_pkts), L0, 1, NULL },
	{ "bulwark_rx_bytes_total", "rx_bytes", "frame bytes received, per port and queue", C,
	  NS(rx_bytes), L0, 1, NULL },
	{ "bulwark_tx_packets_total", "tx_packets", "frames built for sending, per port and queue",
	  C, NS(tx_pkts), L0, 1, NULL },
	{ "bulwark_tx_bytes_total", "tx_bytes",
	  "frame bytes handed to the port, per port and queue", C, WS(tx_bytes), STATS_L_PORT,
	  N(worker_stats, tx_bytes), NULL },
	/* TCP */
	{ "bulwark_syncookies_sent_total", "syncookies_sent", "SYN-ACKs carrying a SYN cookie", C,
	  NS(tcp_cookie_sent), L0, 1, NULL },
	{ "bulwark_syncookies_validated_total", "syncookies_ok",
	  "ACKs whose SYN cookie was valid (flow created)", C, NS(tcp_cookie_ok), L0, 1, NULL },
	{ "bulwark_syncookies_invalid_total", "syncookies_bad", "ACKs with an invalid SYN cookie",
	  C, NS(tcp_cookie_bad), L0, 1, NULL },
	{ "bulwark_tcp_syn_total", "tcp_syn", "SYNs received", C, NS(tcp_syn_in), L0, 1, NULL },
	{ "bulwark_tcp_rst_sent_total", "tcp_rst_sent", "RSTs sent", C, NS(tcp_rst_out), L0, 1,
	  NULL },
	{ "bulwark_tcp_retransmits_total", "tcp_rtx", "segments retransmitted", C, NS(tcp_rtx), L0,
	  1, NULL },
	{ "bulwark_tcp_flows", "tcp_flows", "established or closing flows", G, NS(conns), L0, 1,
	  NULL },
	{ "bulwark_tcp_halfopen", "tcp_halfopen", "half-open entries", G, NS(halfopen), L0, 1,
	  NULL },
	{ "bulwark_tcp_time_wait", "tcp_time_wait", "TIME-WAIT entries", G, NS(tw), L0, 1, NULL },
	/* drops by cause */
	{ "bulwark_drops_total", "drop_ip_bad_cksum", "packets or objects dropped, by cause", C,
	  NS(ip_bad_cksum), STATS_L_CAUSE, 1, "ip_bad_checksum" },
	{ "bulwark_drops_total", "drop_tcp_bad_cksum", NULL, C, NS(tcp_bad_cksum), STATS_L_CAUSE, 1,
	  "tcp_bad_checksum" },
	{ "bulwark_drops_total", "drop_tx_pool_empty", NULL, C, NS(tx_nomem), STATS_L_CAUSE, 1,
	  "tx_pool_empty" },
	{ "bulwark_drops_total", "drop_tcp_buf_empty", NULL, C, NS(tcp_buf_nomem), STATS_L_CAUSE, 1,
	  "tcp_buffers_empty" },
	{ "bulwark_drops_total", "drop_flow_table_full", NULL, C, NS(tcp_conn_full), STATS_L_CAUSE,
	  1, "flow_table_full" },
	{ "bulwark_drops_total", "drop_tx_ring_full", NULL, C, WS(tx_drop), STATS_L_CAUSE, 1,
	  "tx_ring_full" },
	{ "bulwark_drops_total", "drop_relay_ring_full", NULL, C, WS(relay_ring_full),
	  STATS_L_CAUSE, 1, "relay_ring_full" },
	{ "bulwark_drops_total", "drop_relay_pool_empty", NULL, C, RS(rpool_empty), STATS_L_CAUSE,
	  1, "relay_pool_empty" },
	{ "bulwark_drops_total", "drop_rx_missed", NULL, C, ES(imissed), STATS_L_CAUSE, 1,
	  "rx_missed" },
	{ "bulwark_drops_total", "drop_rx_pool_empty", NULL, C, ES(rx_nombuf), STATS_L_CAUSE, 1,
	  "rx_pool_empty" },
	/* relay lcores and backends */
	{ "bulwark_backend_sessions_total", "backend_sessions", "backend sessions opened", C,
	  RS(opens), L0, 1, NULL },
	{ "bulwark_backend_ready_total", "backend_ready",
	  "backend sessions that reached READY (greeting, EHLO replayed)", C, RS(ready), L0, 1,
	  NULL },
	{ "bulwark_backend_unavailable_total", "backend_none",
	  "backend sessions with no backend left (421 4.3.0)", C, RS(none), L0, 1, NULL },
	{ "bulwark_backend_busy_total", "backend_busy",
	  "backend sessions refused at the backends' caps (421 4.3.2)", C, RS(busy), L0, 1, NULL },
	{ "bulwark_backend_gone_total", "backend_gone", "backends lost after READY (451/421)", C,
	  RS(gone), L0, 1, NULL },
	{ "bulwark_messages_total", "messages", "messages the backend accepted (2xx to the dot)", C,
	  RS(msgs), L0, 1, NULL },
	{ "bulwark_messages_refused_total", "messages_refused",
	  "messages the backend refused (4xx/5xx to the dot, or early)", C, RS(msgs_refused), L0, 1,
	  NULL },
	{ "bulwark_data_bytes_total", "data_bytes",
	  "DATA body bytes queued for backends (wire form, final dot included)", C, RS(data_bytes),
	  L0, 1, NULL },
	{ "bulwark_backend_bytes_out_total", "backend_bytes_out", "bytes written to backends", C,
	  RS(bytes_out), L0, 1, NULL },
	{ "bulwark_backend_tls_nocap_total", "be_tls_nocap",
	  "backend EHLO replies without STARTTLS (tls = starttls: backend failed)", C,
	  RS(tls_nocap), L0, 1, NULL },
	{ "bulwark_backend_tls_handshakes_started_total", "be_tls_started",
	  "STARTTLS handshakes with backends begun", C, RS(tls_started), L0, 1, NULL },
	{ "bulwark_backend_tls_handshakes_total", "be_tls_done",
	  "STARTTLS handshakes with backends completed", C, RS(tls_done), L0, 1, NULL },
	{ "bulwark_backend_tls_discarded_bytes_total", "be_tls_discard",
	  "plaintext bytes a backend sent after its 220 to STARTTLS, dropped", C, RS(tls_discard),
	  L0, 1, NULL },
	{ "bulwark_backend_connects_total", "backend_connects", "connection attempts per backend",
	  C, RS(be_connects), STATS_L_BACKEND, N(relay_stats, be_connects), NULL },
	{ "bulwark_backend_failures_total", "backend_failures",
	  "connect, greeting or EHLO failures per backend", C, RS(be_fail), STATS_L_BACKEND,
	  N(relay_stats, be_fail), NULL },
	{ "bulwark_backend_tls_failures_total", "backend_tls_failures",
	  "STARTTLS handshakes failed per backend (verification included)", C, RS(be_tls_fail),
	  STATS_L_BACKEND, N(relay_stats, be_tls_fail), NULL },
	{ "bulwark_backend_messages_total", "backend_messages", "messages accepted per backend", C,
	  RS(be_msgs), STATS_L_BACKEND, N(relay_stats, be_msgs), NULL },
	{ "bulwark_backend_up", "backend_up", "1 while the backend passes its health checks", G,
	  STATS_O_BE_UP, 0, STATS_L_BACKEND, CFG_BACKENDS_MAX, NULL },
	{ "bulwark_backend_connections", "backend_connections", "open connections per backend", G,
	  STATS_O_BE_CONNS, 0, STATS_L_BACKEND, CFG_BACKENDS_MAX, NULL },
	{ "bulwark_health_checks_failed_total", "health_failed", "failed health checks", C,
	  RS(health_fail), L0, 1, NULL },
};

const struct stats_def *stats_defs(size_t *n)
{
	*n = sizeof(defs) / sizeof(defs[0]);
	return defs;
}

static uint64_t rd64(const void *base, size_t off)
{
	return __atomic_load_n((const uint64_t *)((const uint8_t *)base + off), __ATOMIC_RELAXED);
}

/* The name of slot i of row d, NULL when the slot is not shown. */
static const char *slot_name(const struct stats_src *src, const struct stats_def *d, uint32_t i,
			     char *tmp, size_t tmplen)
{
	switch (d->lab) {
	case STATS_L_REASON:
		return i == 0 ? NULL : worker_close_name(i);
	case STATS_L_SIGNATURE:
		return i < SCAN_SIG_HTTP ? NULL : scan_sig_name((enum scan_sig)i);
	case STATS_L_CODE:
		snprintf(tmp, tmplen, "%u", i + WORKER_CODE_MIN);
		return tmp;
	case STATS_L_TLSFAIL:
		return tls_fail_name(i);
	case STATS_L_BACKEND:
		return i < src->cfg->n_backends ? src->cfg->backends[i].name : NULL;
	case STATS_L_PORT:
		return i < src->cfg->n_ports ? src->cfg->ports[i].name : NULL;
	case STATS_L_CAUSE:
	case STATS_L_RESULT:
	case STATS_L_POOL:
		return d->cause;
	case STATS_L_LIMIT: {
		static const char *const lim[CLIMIT_VERDICTS] = { NULL, "sessions", "rate",
								  "errors" };

		return i < CLIMIT_VERDICTS ? lim[i] : NULL;
	}
	default:
		return NULL;
	}
}

static void walk_row(const struct stats_src *src, const struct stats_def *d, size_t k,
		     const void *base, int w, int r, int p, stats_emit_fn emit, void *arg)
{
	struct stats_val v = { .def = d, .def_idx = k, .worker = w, .relay = r, .port = p };
	char tmp[16];

	for (uint32_t i = 0; i < d->n; i++) {
		v.idx = i;
		v.lval = slot_name(src, d, i, tmp, sizeof(tmp));
		if (d->n > 1 && v.lval == NULL)
			continue;
		v.v = rd64(base, d->off + (size_t)i * 8);
		if (d->lab == STATS_L_CODE && v.v == 0)
			continue;
		if (d->lab == STATS_L_PORT)
			v.port = (int)i;
		emit(arg, &v);
	}
}

static void walk_be(const struct stats_src *src, const struct stats_def *d, size_t k,
		    const struct relay *rl, int r, stats_emit_fn emit, void *arg)
{
	struct stats_val v = { .def = d, .def_idx = k, .worker = -1, .relay = r, .port = -1 };

	for (uint32_t b = 0; b < src->cfg->n_backends; b++) {
		v.idx = b;
		v.lval = src->cfg->backends[b].name;
		v.v = d->obj == STATS_O_BE_UP ? __atomic_load_n(&rl->be[b].up, __ATOMIC_RELAXED)
					      : __atomic_load_n(&rl->be[b].conns, __ATOMIC_RELAXED);
		emit(arg, &v);
	}
}

void stats_walk(const struct stats_src *src, stats_emit_fn emit, void *arg)
{
	for (size_t k = 0; k < sizeof(defs) / sizeof(defs[0]); k++) {
		const struct stats_def *d = &defs[k];

		int per_worker = d->obj == STATS_O_WORKER || d->obj == STATS_O_TLS ||
				 d->obj == STATS_O_NET || d->obj == STATS_O_LIVE ||
				 d->obj == STATS_O_CLIMIT;

		for (uint16_t wi = 0; per_worker && wi < src->n_workers; wi++) {
			const struct worker *w = src->workers[wi];

			if (d->obj == STATS_O_WORKER) {
				walk_row(src, d, k, &w->st, wi, -1, -1, emit, arg);
			} else if (d->obj == STATS_O_CLIMIT) {
				walk_row(src, d, k, &w->cl.st, wi, -1, -1, emit, arg);
			} else if (d->obj == STATS_O_TLS) {
				walk_row(src, d, k, &w->tls_st, wi, -1, -1, emit, arg);
			} else if (d->obj == STATS_O_LIVE) {
				struct stats_val v = { .def = d,
						       .def_idx = k,
						       .worker = wi,
						       .relay = -1,
						       .port = -1 };

				v.v = __atomic_load_n(&w->pub_live, __ATOMIC_RELAXED);
				emit(arg, &v);
			} else {
				for (uint32_t p = 0; p < w->n_ports; p++)
					walk_row(src, d, k, net_stats(w->port[p].net), wi, -1,
						 (int)w->port[p].idx, emit, arg);
			}
		}
		for (uint16_t ri = 0; ri < src->n_relays; ri++) {
			if (d->obj == STATS_O_RELAY)
				walk_row(src, d, k, &src->relays[ri]->st, -1, ri, -1, emit, arg);
			else if (d->obj == STATS_O_BE_UP || d->obj == STATS_O_BE_CONNS)
				walk_be(src, d, k, src->relays[ri], ri, emit, arg);
		}
		for (uint32_t p = 0; d->obj == STATS_O_ETH && p < src->n_ports; p++) {
			struct rte_eth_stats es;

			if (rte_eth_stats_get(src->ports[p].port_id, &es) == 0)
				walk_row(src, d, k, &es, -1, -1, (int)p, emit, arg);
		}
	}
}

/* ---- Prometheus text exposition 0.0.4 ---------------------------------- */

struct prom {
	const struct stats_src *src;
	char *buf;
	size_t cap, len;
	int full;
	const char *last; /* the family whose HELP/TYPE is out */
};

__attribute__((format(printf, 2, 3))) static void put(struct prom *pm, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (pm->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(pm->buf + pm->len, pm->cap - pm->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= pm->cap - pm->len)
		pm->full = 1;
	else
		pm->len += (size_t)n;
}

/* A label value, escaped as the format wants (\\, \", \n). */
static void put_lv(struct prom *pm, const char *key, const char *v, int *first)
{
	put(pm, "%s%s=\"", *first ? "" : ",", key);
	*first = 0;
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			put(pm, "\\%c", *v);
		else if (*v == '\n')
			put(pm, "\\n");
		else
			put(pm, "%c", *v);
	}
	put(pm, "\"");
}

static const char *const lab_keys[] = {
	[STATS_L_REASON] = "reason",  [STATS_L_SIGNATURE] = "signature", [STATS_L_CODE] = "code",
	[STATS_L_TLSFAIL] = "reason", [STATS_L_BACKEND] = "backend",     [STATS_L_CAUSE] = "cause",
	[STATS_L_LIMIT] = "limit",    [STATS_L_RESULT] = "result",       [STATS_L_POOL] = "pool",
};

static void prom_emit(void *arg, const struct stats_val *v)
{
	struct prom *pm = arg;
	const struct stats_def *d = v->def;
	int first = 1;
	char num[16];

	if (pm->last == NULL || strcmp(pm->last, d->name) != 0) {
		const char *help = d->help;

		for (const struct stats_def *h = d; help == NULL && h > defs; h--)
			help = h[-1].help; /* rows after the first of a family */
		put(pm, "# HELP %s %s\n# TYPE %s %s\n", d->name, help ? help : "", d->name,
		    d->type == STATS_GAUGE ? "gauge" : "counter");
		pm->last = d->name;
	}
	put(pm, "%s{", d->name);
	if (v->port >= 0) {
		put_lv(pm, "port", pm->src->cfg->ports[v->port].name, &first);
		if (v->worker >= 0) {
			snprintf(num, sizeof(num), "%d", v->worker);
			put_lv(pm, "queue", num, &first);
		}
	} else if (v->worker >= 0) {
		snprintf(num, sizeof(num), "%d", v->worker);
		put_lv(pm, "worker", num, &first);
	}
	if (v->relay >= 0) {
		snprintf(num, sizeof(num), "%d", v->relay);
		put_lv(pm, "relay", num, &first);
	}
	if (d->lab != STATS_L_NONE && d->lab != STATS_L_PORT && v->lval != NULL)
		put_lv(pm, lab_keys[d->lab], v->lval, &first);
	put(pm, "} %lu\n", (unsigned long)v->v);
}

size_t stats_prom(const struct stats_src *src, char *buf, size_t cap)
{
	struct prom pm = { .src = src, .buf = buf, .cap = cap };

	stats_walk(src, prom_emit, &pm);
	return pm.full ? 0 : pm.len;
}

/* ---- the junk summary -------------------------------------------------- */

void stats_junk_summary(const struct stats_src *src, struct stats_junk *j, uint32_t interval_s,
			uint32_t samples)
{
	struct stats_junk now = { 0 };
	char sig[512] = "", smp[WORKER_SAMPLES * 17 + 1] = "";
	size_t sn = 0, mn = 0;
	uint32_t taken = 0;
	int any;

	for (uint16_t wi = 0; wi < src->n_workers; wi++) {
		const struct worker_stats *s = &src->workers[wi]->st;

		now.nonsmtp += rd64(s, offsetof(struct worker_stats, closes[SMTP_CLOSE_NONSMTP]));
		now.pregreet += rd64(s, offsetof(struct worker_stats, closes[SMTP_CLOSE_PREGREET]));
		now.errors += rd64(s, offsetof(struct worker_stats, closes[SMTP_CLOSE_ERRORS]));
		now.replies_500 +=
		    rd64(s, offsetof(struct worker_stats, replies[500 - WORKER_CODE_MIN]));
		for (int i = SCAN_SIG_HTTP; i < SCAN_SIG_COUNT; i++)
			now.sigs[i] += rd64(s, offsetof(struct worker_stats, sigs) + (size_t)i * 8);
	}
	if (!j->primed) {
		/* the first call only learns where things stand */
		for (uint16_t wi = 0; wi < src->n_workers && wi < 64; wi++)
			j->seq[wi] =
			    __atomic_load_n(&src->workers[wi]->st.junk_seq, __ATOMIC_ACQUIRE);
		memcpy(now.seq, j->seq, sizeof(now.seq));
		now.primed = 1;
		*j = now;
		return;
	}
	any = now.nonsmtp != j->nonsmtp || now.pregreet != j->pregreet || now.errors != j->errors ||
	      now.replies_500 != j->replies_500;
	for (int i = SCAN_SIG_HTTP; i < SCAN_SIG_COUNT; i++)
		if (now.sigs[i] != j->sigs[i] && sn < sizeof(sig))
			sn += (size_t)snprintf(sig + sn, sizeof(sig) - sn, " sig_%s=%lu",
					       scan_sig_name((enum scan_sig)i),
					       (unsigned long)(now.sigs[i] - j->sigs[i]));
	/* the newest clients of each worker's ring, round robin */
	for (uint16_t wi = 0; wi < src->n_workers && wi < 64; wi++) {
		const struct worker_stats *s = &src->workers[wi]->st;
		uint64_t q = __atomic_load_n(&s->junk_seq, __ATOMIC_ACQUIRE), from = j->seq[wi];

		if (q - from > WORKER_SAMPLES)
			from = q - WORKER_SAMPLES;
		for (uint64_t x = q; x > from && taken < samples; x--, taken++) {
			struct in_addr a = {
				.s_addr = __atomic_load_n(&s->junk_addr[(x - 1) % WORKER_SAMPLES],
							  __ATOMIC_RELAXED),
			};
			char ip[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &a, ip, sizeof(ip));
			mn +=
			    (size_t)snprintf(smp + mn, sizeof(smp) - mn, "%s%s", mn ? "," : "", ip);
			if (mn >= sizeof(smp))
				mn = sizeof(smp) - 1;
		}
		now.seq[wi] = q;
	}
	now.primed = 1;
	if (any)
		log_kv(LOG_LVL_INFO,
		       "event=junk_summary interval_s=%u nonsmtp=%lu pregreet=%lu errors=%lu "
		       "replies_500=%lu%s samples=%s",
		       interval_s, (unsigned long)(now.nonsmtp - j->nonsmtp),
		       (unsigned long)(now.pregreet - j->pregreet),
		       (unsigned long)(now.errors - j->errors),
		       (unsigned long)(now.replies_500 - j->replies_500), sig, mn ? smp : "-");
	*j = now;
}
