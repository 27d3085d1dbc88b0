/*
 * worker.h — the poll-mode workers: one pinned lcore per port queue,
 * shared-nothing. Each owns, for every port, one net_ctx on its queue, and
 * one pool of SMTP sessions, a session timer wheel and its counters.
 *
 * Loop: rx_burst -> net_rx (upcalls into the session glue, sess.c) ->
 * session timers -> net_timers -> tx_burst, with the idle back-off of
 * workers.idle_backoff. The main lcore talks to a worker only through the
 * ctl_* words (drain, stop) and reads its published gauges and counters.
 */
#ifndef BULWARK_WORKER_H
#define BULWARK_WORKER_H

#include <stdint.h>

#include <rte_common.h>

#include "climit.h"
#include "config.h"
#include "drv.h"
#include "net.h"
#include "relay_msg.h"
#include "scan.h"
#include "sess_helo.h"
#include "smtp.h"
#include "tls.h"
#include "wheel.h"

#define WORKER_TX_MAX 512 /* frames staged per port before a tx_burst */

/* Read-only after startup; one for the whole process. */
struct worker_shared {
	const struct cfg *cfg;
	struct smtp_cfg smtp[CFG_LISTENERS_MAX]; /* per listener */
	/* the same while shedding (sess_shed.c): limits.shed_timeout_ms as
	 * command timeout and greeting wait, error_limit 1 */
	struct smtp_cfg smtp_shed[CFG_LISTENERS_MAX];
	struct drv_port *ports;                  /* cfg->n_ports of them */
	struct drv_fault *faults[CFG_PORTS_MAX]; /* NULL: no fault injection */
	const struct net_cookie_secret *secret;
	struct relay_pair *relay_pairs; /* [worker * n_relays + relay]; NULL: no relay */
	uint16_t n_relays;
	struct tls_ctx *tls[CFG_LISTENERS_MAX]; /* per listener; NULL: tls = none */
	struct reload *policy; /* struct policy (policy.h), RCU-published; NULL: none */
};

/* A session's PROXY header (sess_limit.c), per slot like sess_tls; the
 * array exists only when some listener has accept_proxy, so other
 * configurations pay nothing for it. */
struct sess_px {
	uint32_t addr; /* the header's source (network order), if ok */
	uint16_t port;
	uint8_t wait; /* listener index + 1 while the header is awaited */
	uint8_t ok;   /* addr/port hold the client */
};

/* A session's TLS side (sess_tls.c), in a per-worker array indexed like
 * the sessions, so that struct sess stays small. */
struct sess_tls {
	struct tls_conn *c; /* NULL: plaintext */
	uint8_t li;         /* listener index */
	uint8_t hs;         /* the handshake runs (deadline armed, core waits) */
	uint8_t implicit;   /* implicit TLS: smtp_start() when the handshake is done */
};

#define WORKER_TLS_PT 16384u /* plaintext peeked per call: one TLS record */

/* A session's link to its backend session (sess_relay.c). */
struct sess_rl {
	uint32_t gen;                        /* the backend session's generation */
	uint32_t inflight;                   /* objects handed to the relay, not yet credited */
	struct relay_msg *rq_head, *rq_tail; /* replies not yet given to the core */
	uint16_t relay;                      /* relay lcore index */
	uint8_t ev;                          /* pending smtp_backend_ev + 1, 0: none */
};

#define RL_STASH_MAX 64u /* message objects a worker keeps at hand */

#define WORKER_CODE_MIN 200 /* replies[] counts codes 200..599 */
#define WORKER_CODES    400
#define WORKER_SAMPLES  16 /* junk clients kept for the summary (ring) */

/* Per-worker counters: written by the worker only (plain increments of
 * naturally aligned 64-bit words), read live by the main lcore's threads
 * with relaxed atomic loads (proxy/stats.h says why that cannot tear). */
struct worker_stats {
	uint64_t accepted;                 /* sessions started */
	uint64_t refused;                  /* no free session: the flow got RST */
	uint64_t closes[SMTP_CLOSE_COUNT]; /* SMTP_ACT_CLOSE by reason */
	uint64_t sigs[SCAN_SIG_COUNT];     /* non-SMTP closes by signature */
	uint64_t peer_fin;                 /* the client closed first */
	uint64_t net_reset, net_timeout;   /* the flow died under the session */
	uint64_t starttls;                 /* SMTP_ACT_STARTTLS: handshakes begun after 220 */
	uint64_t tls_busy;                 /* at tls.max_handshakes: 454 or implicit closed */
	uint64_t tls_nomem;                /* tls_conn_new failed: closed */
	uint64_t tls_timeout;              /* handshakes past tls.handshake_timeout_ms */
	uint64_t tls_overflow;             /* a reply did not fit the TLS tx queue: aborted */
	uint64_t relay_none;               /* MAIL with no backend configured: 421 4.3.0 */
	uint64_t relay_open;               /* backend sessions opened */
	uint64_t relay_msgs, relay_bytes;  /* objects and bytes sent to relays */
	uint64_t relay_terminal;           /* ABORT/QUIT sent */
	uint64_t relay_replies;            /* backend replies given to the core */
	uint64_t relay_ready, relay_credits;
	uint64_t relay_wait;        /* a session waited for message objects */
	uint64_t relay_credit_wait; /* a session waited for credit (session_mem) */
	uint64_t relay_stale;       /* replies/events for an ended backend session */
	uint64_t relay_bad_reply;   /* a reply the core did not expect: backend dropped */
	uint64_t relay_lost;        /* no object after admission (never expected) */
	uint64_t relay_ring_full;   /* enqueue failed (never expected: sizing) */
	uint64_t relay_proto_err;   /* a message that broke the contract */
	uint64_t ovf_used;          /* replies parked for a full send buffer */
	uint64_t ovf_lost;          /* no room to park them, or they never left: aborted */
	uint64_t drained;           /* smtp_drain calls */
	uint64_t line_wait;         /* no free work area: the session waited */
	uint64_t line_peak;         /* most work areas lent at once */
	uint64_t auth_line_wait;    /* the same for the AUTH listeners' work areas */
	uint64_t auth_line_peak;
	/* gauges, sampled together about once a second (worker_tls_sample):
	 * TLS sessions alive (handshaking or open) and the bytes OpenSSL has
	 * allocated from this worker's jemalloc arena (0 under ASan, where
	 * OpenSSL stays on libc: tls_mem_ok 0); bytes per TLS session is
	 * tls_mem_bytes / tls_mem_sessions */
	uint64_t tls_live;         /* now */
	uint64_t tls_mem_sessions; /* tls_live at the sample */
	uint64_t tls_mem_bytes;    /* the arena's allocated bytes at the sample */
	uint64_t tls_mem_ok;       /* 1: the arena is measured (jemalloc) */
	uint64_t helo_lost;        /* no room for an EHLO/HELO argument: aborted */
	uint64_t denied;            /* deny list: 554 5.7.1 */
	uint64_t allowed;           /* allow list: limits skipped */
	uint64_t syn_dropped;       /* client_limits.action = "drop": SYNs dropped */
	uint64_t proxy_ok;          /* PROXY headers accepted (accept_proxy) */
	uint64_t proxy_local;       /* ... LOCAL/UNKNOWN: the TCP peer stands */
	uint64_t proxy_denied;      /* from a source not in proxy_from: closed */
	uint64_t proxy_bad;         /* not a valid header: closed */
	uint64_t proxy_timeout;     /* no header within proxy_timeout_ms: closed */
	uint64_t rx_pkts, tx_pkts, tx_drop;
	uint64_t sleeps;                  /* idle back-off sleeps */
	uint64_t peak;                    /* most sessions at once */
	uint64_t replies[WORKER_CODES];   /* final reply lines sent, by code - 200 */
	uint64_t tx_bytes[CFG_PORTS_MAX]; /* frame bytes handed to each port's queue */
	/* the last junk clients (closed nonsmtp, pregreet or errors): a ring
	 * the summary reads; junk_seq counts every one (release store) */
	uint32_t junk_addr[WORKER_SAMPLES]; /* network order */
	uint64_t junk_seq;
	/* memory-pressure shedding (sess_shed.c) */
	uint64_t shed_enter;   /* times shedding began */
	uint64_t shed_tuned;   /* sessions moved to the shed configuration */
	uint64_t shed_cut;     /* sessions on it that closed (timeout, errors, ...) */
	uint64_t shed_refused; /* new connections answered 421 4.3.2 (critical) */
	uint64_t shed_peak;    /* highest pressure seen, percent */
} __rte_cache_aligned;

struct worker;

/* One port as seen by one worker: its queue and its TCP endpoint. */
struct wport {
	struct worker *w;
	uint32_t idx; /* in cfg->ports */
	uint16_t port_id, queue;
	struct rte_mempool *pool;
	uint32_t mbuf_base; /* mbufs in use at start (RX rings filled) */
	struct drv_fault *fault;
	struct net_ctx *net;
	uint16_t ntx;
	struct rte_mbuf *tx[WORKER_TX_MAX];
};

struct sess;

struct worker {
	uint16_t id;
	unsigned lcore;
	int socket;
	const struct worker_shared *sh;
	uint32_t n_ports;
	struct wport port[CFG_PORTS_MAX];

	/* sessions: a fixed array with a free list (sess.c) */
	struct sess *sess;
	uint32_t free1; /* first free slot: index + 1 */
	uint32_t n_sess, live;
	/* work areas (SESS_WORK_SIZE) lent to the core while it is busy, and
	 * the FIFO of sessions waiting for one (a ring of n_sess) */
	uint8_t *lbuf;
	uint32_t *lbuf_free;
	uint32_t lbuf_nfree, n_lbuf, lbuf_used;
	uint32_t *lq;
	uint32_t lq_head, lq_n;
	/* the same for the sessions of listeners that offer AUTH
	 * (SESS_AUTH_WORK_SIZE, limits.auth_line_buffers); none (NULL, 0)
	 * when no listener offers AUTH */
	uint8_t *abuf;
	uint32_t *abuf_free;
	uint32_t abuf_nfree, n_abuf, abuf_used;
	uint32_t *laq;
	uint32_t laq_head, laq_n;
	/* parked replies: a few buffers shared by the sessions */
	uint8_t *ovf;
	uint32_t *ovf_free;
	uint32_t ovf_nfree, n_ovf;
	/* the sessions' EHLO/HELO arguments */
	struct sess_helo_pool helo;
	/* relay link (sess_relay.c): this worker's pairs, links, the FIFO of
	 * sessions waiting for message objects, and a stash of objects */
	const struct relay_pair *rpairs;
	uint16_t n_relays;
	uint32_t rgen;
	struct sess_rl *rl;
	uint32_t *rl_free;
	uint32_t rl_nfree, rl_live;
	uint32_t *rq;
	uint32_t rq_head, rq_n, rq_waking;
	uint32_t n_stash;
	struct relay_msg *stash[RL_STASH_MAX];
	/* TLS (sess_tls.c): per session slot, NULL without TLS listeners */
	struct sess_tls *tls;
	struct tls_stats tls_st;
	struct tls_mem_arena tls_arena;
	uint8_t tls_pt[WORKER_TLS_PT]; /* plaintext offered to the core */
	/* per-client limits (sess_limit.c): the table; the PROXY headers, per
	 * session slot, NULL without accept_proxy listeners */
	struct climit cl;
	struct sess_px *px;
	uint64_t now; /* this loop iteration's clock (ms) */
	/* session deadlines (smtp_tick) */
	struct wheel wheel;
	void *mem; /* one rte_zmalloc block for the arrays above */

	/* the core's output, reused by every call */
	struct smtp_out out;
	struct smtp_span fwd[SMTP_FWD_MIN];
	uint8_t obuf[SMTP_OUT_MIN];
	uint8_t fbuf[SMTP_FWD_BUF_MIN];

	uint8_t draining;
	uint8_t shed;       /* 0, 1 shedding, 2 critical (sess_shed.c) */
	uint64_t shed_next; /* next pressure check, ms */

	/* control words: written by the main lcore, read by the worker */
	uint8_t ctl_drain, ctl_stop;
	/* gauges: written by the worker, read by the main lcore */
	uint32_t pub_live;    /* sessions */
	uint8_t pub_quiet;    /* draining, no session and no flow left */
	uint8_t pub_shed;     /* shed level (sess_shed.c) */
	uint8_t pub_pressure; /* its last pressure, percent */

	struct worker_stats st;
} __rte_cache_aligned;

/*
 * Sets up worker id on lcore (pools, one net_ctx per port queue, the
 * session array and wheel) at now. Returns 0, or -errno with err naming
 * what failed. worker_destroy() undoes a partial setup.
 */
int worker_init(struct worker *w, const struct worker_shared *sh, uint16_t id, unsigned lcore,
		uint64_t now, char *err, size_t errlen);

/* The lcore function (rte_eal_remote_launch): loops until ctl_stop. */
int worker_main(void *arg);

/* Frees what worker_init() took (flows vanish without a frame). */
void worker_destroy(struct worker *w);

/* Name of an enum smtp_close value ("quit", "nonsmtp", ...). */
const char *worker_close_name(unsigned reason);

/* Logs the worker's counters as one key=value line. */
void worker_stats_log(const struct worker *w);

/* Logs the worker's TLS memory gauges (event=worker_tls_mem); any thread,
 * while the worker runs (the main lcore on SIGUSR1). */
void worker_tls_mem_log(const struct worker *w);

/* Logs a snapshot of w's gauges (event=worker_gauges: sessions, flows,
 * half-open, TIME-WAIT, TCP buffers, mbufs in use, work areas, relay
 * objects out (beyond the stash) and in the stash, relay links, shed level and pressure). Any lcore may call
 * it while w runs: each figure is read once, without tearing, but they are
 * not one consistent cut (exact when w is idle). */
void worker_gauges_log(const struct worker *w);

/* Milliseconds on the TSC-based monotonic clock. */
uint64_t worker_now_ms(void);

#endif /* BULWARK_WORKER_H */
