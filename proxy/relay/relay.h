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
 * BUSY when every backend left was at its cap. A tls = "starttls" backend
 * gets, after the greeting, our EHLO (STARTTLS must be offered), STARTTLS,
 * its 220 (every byte after it dropped: RFC 3207 §4.2), the handshake
 * (tls_client.h, verified per tls_verify) and EHLO again, before XCLIENT
 * and the replay; from then on every byte goes through TLS.
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
 * Decisions DESIGN §3 leaves open (the relay's side of docs/architecture.md
 * §10):
 * - Any failure before READY is "this backend cannot take the session":
 *   refused or failed connect, no 220, XCLIENT or EHLO/HELO refused, a
 *   malformed reply, connect_timeout_ms passed. It counts as a failed
 *   health check of that backend, and the session tries the next one it
 *   has not tried (each backend at most once). BUSY only when no backend
 *   failed and at least one was skipped for its cap; otherwise NONE.
 * - After READY, a backend that closes, sends a malformed or unasked-for
 *   reply, leaves an awaited reply (reply_timeout_ms) or stops reading for
 *   as long is GONE. A reply of more than RELAY_MSG_DATA bytes or a line
 *   of more than RELAY_REPLY_LINE_MAX is malformed.
 * - A 4xx/5xx reply while a body streams (after the 354, before the
 *   final dot was committed) is the backend rejecting the message early
 *   (Postfix smtp-sink -A): it is kept, the connection is reset at once
 *   (no more body, never a final dot), body objects come back unwritten,
 *   and the worker's final dot (RELAY_F_DATA_END) is answered with exactly
 *   the kept bytes, in command order, followed by GONE: the backend's
 *   transaction ended without a dot, its session is over. A 2xx/3xx
 *   reply mid-body, or a CMD before the final dot, is still GONE.
 * - SASL (RFC 4954): a CMD line that follows a 334 to AUTH or to a SASL
 *   line is a SASL line (RELAY_F_SASL is honoured too), never checked as
 *   a command; a line after AUTH or a SASL line waits for that reply.
 * - ABORT and GONE close with a reset (SO_LINGER 0): bytes still in the
 *   kernel's send buffer are dropped, so a partial body is never followed
 *   by anything. QUIT frees the slot at once; the connection finishes on
 *   its own (queued bytes, QUIT, the 221 within min(reply_timeout_ms,
 *   RELAY_QUIT_WAIT_MS)), its replies are dropped.
 * - A CMD object that does not end in LF is continued by the next CMD
 *   object (AUTH/SASL lines up to 12288 octets): one command, one reply.
 * - When the relay's pool is empty a session stops reading its backend
 *   (the kernel's window closes towards the backend) until objects come
 *   back; its reply timeout does not run meanwhile.
 * - Each relay lcore keeps its own view of the backends: its share of
 *   max_conns (max_conns / lcores, the remainder to the first ones), its
 *   balancing state and its own health checks (staggered over one
 *   interval). Backends start up.
 */
#ifndef BULWARK_RELAY_H
#define BULWARK_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "config.h"
#include "relay_msg.h"
#include "tls_mem.h"

struct rte_ring;
struct rte_mempool;
struct tls_cctx;

/* One per (worker, relay lcore). */
struct relay_pair {
	struct rte_ring *w2r, *r2w;        /* SPSC, relay_ring_size(pool_objs, n_sess) entries */
	struct rte_mempool *wpool, *rpool; /* RELAY_MSG_SIZE objects, pool_objs each; a
					    * worker's pairs share its wpool */
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
	uint64_t early;                     /* end-of-data replies that came mid-body */
	uint64_t credits;                   /* worker objects handed back */
	uint64_t health_up, health_down;    /* transitions */
	uint64_t health_ok, health_fail;    /* checks */
	uint64_t enq_retry;                 /* r2w enqueue failures (kept, retried) */
	uint64_t proto_err;                 /* messages that broke the ring contract */
	uint64_t rpool_empty;               /* relay pool found empty: a session stalled */
	/* STARTTLS to backends (tls = "starttls") */
	uint64_t tls_nocap;   /* EHLO replies without STARTTLS: backend failed */
	uint64_t tls_started; /* handshakes begun */
	uint64_t tls_done;    /* handshakes completed */
	uint64_t tls_fail;    /* handshakes failed (verification included) */
	uint64_t tls_discard; /* plaintext bytes after the 220 to STARTTLS, dropped */
	uint64_t be_tls_fail[CFG_BACKENDS_MAX];
	uint64_t msgs;                      /* final dots the backend answered 2xx */
	uint64_t msgs_refused;              /* final dots answered 4xx/5xx (also early) */
	uint64_t data_bytes;                /* body bytes (wire form, final dot included)
					     * queued for the backends */
	uint64_t be_msgs[CFG_BACKENDS_MAX]; /* 2xx to the final dot, per backend */
	uint64_t reloads;                   /* backend sets taken (relay_reload) */
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
	/* Backend reload (relay_reload.c): the main lcore stores the next
	 * configuration in ctl_cfg (release); the relay takes it at the top
	 * of its loop and stores the same pointer in ack_cfg (release); from
	 * then on it never reads the one it had. */
	const struct cfg *ctl_cfg, *ack_cfg;
	uint32_t n_retired; /* sessions still on backends a reload removed */
	const struct cfg *cfg;
	struct relay_ws *ws; /* n_workers */
	struct relay_be be[CFG_BACKENDS_MAX];
	struct relay_sess *live;  /* sessions holding state (list) */
	struct relay_sess *dead;  /* closed, freed after the current pass */
	struct relay_sess *retry; /* to connect to their next backend */
	uint32_t n_stalled;       /* sessions waiting for a relay object */
	uint32_t lc_next;         /* least-connections: where ties start */
	uint64_t now, next_sweep; /* ms, CLOCK_MONOTONIC */

	/* STARTTLS to backends: a client context per tls backend, and this
	 * lcore's arena for OpenSSL's allocations (tls_thread: made, and
	 * SIGPIPE blocked, by relay_tls_thread). */
	struct tls_cctx *tls[CFG_BACKENDS_MAX];
	struct tls_mem_arena tls_arena;
	uint8_t tls_thread;
	/* Backend reload with TLS: the main lcore stores the contexts of
	 * ctl_cfg's backends here (relay_tls_build: it reads the CA files,
	 * never done on a relay lcore) before ctl_cfg; relay_reload adopts
	 * them and leaves the ones it had here, for the main lcore to free
	 * (relay_tls_free) once ack_cfg == ctl_cfg. */
	struct tls_cctx *ctl_tls[CFG_BACKENDS_MAX];
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

/*
 * Takes the backend set of nc (backends[], relay.balance, the timeouts and
 * health knobs; every other field must equal r->cfg's): backends that
 * stay (same name, address and port) keep their state, connections and
 * counters; new ones start up, with their own health checks; sessions on
 * a removed backend keep it until they end (it is never picked again and
 * its health check stops). Runs on r's lcore, between passes of its loop
 * (relay_main calls it when ctl_cfg changes). From then on r never reads
 * its previous cfg: the caller may free it once r->ack_cfg == nc.
 */
void relay_reload(struct relay *r, const struct cfg *nc);

/* The client TLS contexts of cfg's tls = "starttls" backends into
 * out[CFG_BACKENDS_MAX], indexed like cfg->backends (NULL elsewhere).
 * Reads CA files: main lcore only. Returns 0, or -errno with err naming
 * the backend and the file (nothing left allocated). */
int relay_tls_build(const struct cfg *cfg, struct tls_cctx **out, char *err, size_t errlen);

/* Frees t[CFG_BACKENDS_MAX] and sets them NULL. A context a session's TLS
 * connection still uses lives on until that connection is freed (OpenSSL
 * counts SSL_CTX references: SSL_new takes one, SSL_free drops it). */
void relay_tls_free(struct tls_cctx **t);

/* On r's lcore, once it has a TLS context: its OpenSSL arena, SIGPIPE
 * blocked. Idempotent. */
void relay_tls_thread(struct relay *r);

/* Logs r's counters as one key=value line (proxy/log.h, event=relay_stats),
 * then one line per backend (event=relay_backend_stats). */
void relay_stats_log(const struct relay *r);

#endif /* BULWARK_RELAY_H */
