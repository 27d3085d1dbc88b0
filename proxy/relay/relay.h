/*
 * relay.h — the relay lcores: kernel sockets to the backend MTAs, fed by
 * the workers through one SPSC ring each way per (worker, relay) pair
 * (DESIGN §1, §3 "Relayed"; messages in relay_msg.h).
 *
 * A relay lcore serves pair index `id` of every worker. Per backend
 * session (keyed by worker and session slot) it picks a backend (weighted
 * round-robin or least connections, skipping backends marked down by its
 * health checks or at their connection cap), connects without blocking,
 * sends a PROXY v1/v2 header, reads the greeting, sends XCLIENT, replays the
 * client's EHLO/HELO and learns the backend's capabilities, then answers
 * RELAY_M_EVENT READY and forwards the queued commands and body bytes.
 * Any failure before READY tries the next backend; none left: NONE, or
 * BUSY when every backend left was at its cap.
 *
 * After READY: replies go back one per forwarded command, in command
 * order; the relay answers itself (and never forwards) a MAIL whose
 * parameters the backend cannot honour (553 5.6.7 SMTPUTF8, 555 5.5.4
 * BODY=8BITMIME or SIZE=, 552 5.3.4 SIZE over the backend's limit) and the
 * RCPT/DATA of that transaction (503 5.5.1), and serialises commands to a
 * backend without PIPELINING. A dead or silent backend: EVENT GONE.
 *
 * Every RELAY_M_OPEN/CMD/BODY object goes back to its worker as
 * RELAY_M_CREDIT once written (or dropped): the relay never frees a worker
 * object. OPEN objects come back at once, with len set to 0 (they carry
 * no session bytes); CMD/BODY keep sid, gen and len.
 *
 * Limits: connect + greeting + XCLIENT + EHLO within
 * relay.connect_timeout_ms; any awaited reply, or a backend that does not
 * read, within relay.reply_timeout_ms; a reply of at most RELAY_MSG_DATA
 * bytes with lines of at most RELAY_REPLY_LINE_MAX.
 */
#ifndef BULWARK_RELAY_H
#define BULWARK_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "config.h"
#include "relay_msg.h"

struct rte_ring;
struct rte_mempool;

/* One per (worker, relay lcore). */
struct relay_pair {
	struct rte_ring *w2r, *r2w;        /* SPSC, relay_ring_size(pool_objs, n_sess) entries */
	struct rte_mempool *wpool, *rpool; /* RELAY_MSG_SIZE objects, pool_objs each */
};

/*
 * Creates n_workers * n_relays pairs on NUMA socket `socket`;
 * pairs[w * n_relays + r]. pool_objs: message objects per pool
 * (cfg->relay.ring_size); n_sess: session slots per worker
 * (cfg->limits.sessions). Returns 0, or -errno with err naming what
 * failed (everything created so far is freed then).
 */
int relay_pairs_create(struct relay_pair *pairs, uint16_t n_workers, uint16_t n_relays,
		       uint32_t pool_objs, uint32_t n_sess, int socket, char *err, size_t errlen);

/* Frees the rings and pools of pairs[0..n) (NULL members are skipped). */
void relay_pairs_free(struct relay_pair *pairs, uint32_t n);

/* Per-relay counters: written by the relay lcore only, read at exit. */
struct relay_stats {
	uint64_t opens, ready, none, busy, gone; /* backend sessions and their outcome */
	uint64_t aborts, quits;                  /* terminal controls that found a session */
	uint64_t connects, connect_fail;         /* connection attempts, failed ones */
	uint64_t be_connects[CFG_BACKENDS_MAX];
	uint64_t be_fail[CFG_BACKENDS_MAX]; /* connect/greeting/EHLO failures */
	uint64_t bytes_out;                 /* bytes written to backends */
	uint64_t replies;                   /* backend replies passed to workers */
	uint64_t refusals;                  /* replies the relay made itself */
	uint64_t credits;                   /* worker objects handed back */
	uint64_t health_up, health_down;    /* transitions */
	uint64_t health_ok, health_fail;    /* checks */
	uint64_t enq_retry;                 /* r2w enqueue failures (kept, retried) */
	uint64_t proto_err;                 /* messages that broke the ring contract */
	uint64_t rpool_empty;               /* relay pool found empty: a session stalled */
};

/* One backend as seen by one relay lcore. */
struct relay_be {
	uint32_t conns, cap; /* open sessions; this lcore's share of max_conns */
	int64_t rr_cur;      /* smooth weighted round-robin credit */
	uint8_t up;          /* health state; backends start up */
	uint32_t fails, oks; /* consecutive check results */
	uint64_t next_check; /* ms */
	struct relay_hc *hc; /* the health check's state */
};

struct relay_ws;
struct relay_sess;
struct relay_hc;

/* One per relay lcore; filled by relay_init(). */
struct relay {
	uint16_t id, n_workers, n_relays;
	uint8_t ctl_stop; /* set by the main lcore (__atomic, release) */
	int ep;           /* epoll */
	const struct cfg *cfg;
	struct relay_ws *ws; /* n_workers */
	struct relay_be be[CFG_BACKENDS_MAX];
	struct relay_sess *live;  /* sessions holding state (list) */
	struct relay_sess *dead;  /* closed, freed after the current pass */
	struct relay_sess *retry; /* to connect to their next backend */
	uint32_t n_stalled;       /* sessions waiting for a relay object */
	uint32_t lc_next;         /* least-connections: where ties start */
	uint64_t now, next_sweep; /* ms, CLOCK_MONOTONIC */
	struct relay_stats st;
} __rte_cache_aligned;

/*
 * Prepares relay lcore `id` (0..n_relays-1) over pairs (as created by
 * relay_pairs_create) for cfg's backends; cfg must outlive r. Returns 0 or
 * -errno with err naming what failed (nothing left allocated).
 */
int relay_init(struct relay *r, const struct cfg *cfg, struct relay_pair *pairs, uint16_t n_workers,
	       uint16_t n_relays, uint16_t id, char *err, size_t errlen);

/* The lcore function (rte_eal_remote_launch, arg = struct relay *): loops
 * until r->ctl_stop; returns 0. */
int relay_main(void *arg);

/* Closes every socket and frees every state (after relay_main returned).
 * Worker objects still held are not handed back: the pools go with the
 * pairs. */
void relay_destroy(struct relay *r);

/* Logs r's counters as one key=value line (proxy/log.h). */
void relay_stats_log(const struct relay *r);

#endif /* BULWARK_RELAY_H */
