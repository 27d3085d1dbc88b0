/*
 * sess.h — the session glue between a worker's TCP endpoint (proxy/net)
 * and the SMTP core (proxy/core): the net_ops upcalls, the core's actions
 * carried out, and the session timers.
 *
 * One struct sess per accepted connection, from the worker's fixed array
 * (limits.sessions). The core's work areas (struct smtp_work with the
 * command line) come from a per-worker pool (limits.line_buffers; the
 * sessions of listeners that offer AUTH, whose lines reach 12288 octets,
 * from a second one of larger areas, limits.auth_line_buffers) and are
 * lent to the core only while it is busy (smtp_work_busy: a partial line,
 * replies queued or awaited from the backend, an open relayed transaction,
 * DATA); a session that needs one when none is free stops reading (its TCP
 * window closes) and waits, first come first served, until
 * sess_lines_wake() gives it one. The client's EHLO/HELO argument, which
 * the core hands over (SMTP_ACT_HELO), is kept in the worker's slab
 * (sess_helo.h) and replayed from there: sess_helo_arg(). The core's replies go
 * out with net_send(); when the send buffer cannot take them all, the rest is
 * parked in one of a few per-worker buffers and the session stops reading
 * until the writable upcall has flushed them, so no reply byte is lost and
 * memory stays bounded (no parking buffer left: the flow is aborted and
 * counted). SMTP_ACT_RELAY opens a backend session through a relay lcore
 * (sess_relay.c; without backends configured the client gets 421 4.3.0).
 */
#ifndef BULWARK_SESS_H
#define BULWARK_SESS_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "sess_helo.h"
#include "smtp.h"
#include "wheel.h"

struct worker;
struct wport;

/* The command line a work area holds, the work area itself (the core's
 * struct smtp_work and that line), the same for listeners that offer AUTH
 * (RFC 4954 §4: 12288-octet AUTH and SASL lines; their sessions take their
 * areas from a second pool, limits.auth_line_buffers), a parking buffer's
 * payload (one core call plus a tick's 421) and its stride (its offset and
 * length words first). */
#define SESS_LINE_CAP       SCAN_LINE_MAX_PARAMS
#define SESS_WORK_SIZE      ((SMTP_WORK_SIZE(SESS_LINE_CAP - 2) + 63) & ~(size_t)63)
#define SESS_AUTH_LINE_CAP  SCAN_LINE_MAX_AUTH
#define SESS_AUTH_WORK_SIZE ((SMTP_WORK_SIZE(SESS_AUTH_LINE_CAP - 2) + 63) & ~(size_t)63)
#define SESS_OVF_SIZE       (2 * SMTP_OUT_MIN)
#define SESS_OVF_STRIDE     (SESS_OVF_SIZE + 64)
#define SESS_TICK_MS        8u    /* resolution of the session wheel */
#define SESS_WHEEL_SLOTS    4096u /* x 8 ms = one rotation in 32.8 s */

/*
 * What an idle session costs: keep it small. It is budgeted at SESS_BYTES
 * (bench-junk's accounting, docs/architecture.md §8), which leaves room at
 * its end for a 32-bit field of the relay (issue 4). A free slot's timer is
 * not armed: its next word links the free list (sess.c).
 */
#define SESS_BYTES 72u

struct sess {
	struct smtp_sess s;
	struct tcp_conn *c;
	struct wheel_timer tm;
	uint32_t ovf : 18;  /* parked reply buffer index + 1, 0: none */
	uint32_t port : 3;  /* its flow's port: w->port[port] (sess_wport) */
	uint32_t flags : 7; /* SESS_F_* in sess_int.h */
	uint32_t used : 1;
	uint32_t lq : 1;  /* the slot has an entry in the work-area FIFO */
	uint32_t laq : 1; /* ... in the AUTH listeners' work-area FIFO */
	uint32_t rq : 1;  /* the slot has an entry in the relay-object FIFO */
	uint32_t line : 25; /* lent work area index + 1, 0: none (<= CFG_SESSIONS_MAX) */
	uint32_t cl : 1;    /* counted by the per-client limits (sess_limit.c) */
	uint32_t junk : 1;  /* closed for non-SMTP input or pregreet: one more error */
	uint32_t helo;    /* the EHLO/HELO argument in w->helo (sess_helo.h), 0: none */
	uint32_t rl;      /* relay link index + 1 (sess_relay.c), 0: none */
};

/* The port (and TCP endpoint: ->net) of se's flow. */
struct wport *sess_wport(struct worker *w, const struct sess *se);

/* The client's EHLO/HELO argument se keeps (to replay it to a backend when
 * SMTP_ACT_RELAY comes), and its length; NULL with *n = 0 when it has none. */
const uint8_t *sess_helo_arg(const struct worker *w, const struct sess *se, size_t *n);

/* The work area size (smtp_start's work_cap) for sessions of cfg's
 * listener: SESS_AUTH_WORK_SIZE where it offers AUTH, else SESS_WORK_SIZE. */
size_t sess_work_cap(const struct smtp_cfg *cfg);

/* Parking buffers for a worker of n sessions. */
uint32_t sess_ovf_count(uint32_t n_sess);

/* Builds the free stacks of w's session, line-buffer and parking arrays
 * (poisoned for ASan while free). */
void sess_pool_init(struct worker *w);

/* Unpoisons them again before the memory goes back to DPDK's heap. */
void sess_pool_fini(struct worker *w);

/* Fills the upcalls of ops (arg is left to the caller: the struct wport). */
void sess_ops(struct net_ops *ops);

/* Fires the session deadlines due at now. */
void sess_timers(struct worker *w, uint64_t now);

/* Hands freed work areas to the sessions waiting for one, in order, and
 * re-offers them their held bytes. Called from the worker loop, outside
 * every upcall. */
void sess_lines_wake(struct worker *w, uint64_t now);

/* ---- the relay link (sess_relay.c) ---- */

/* Memory sess_relay_init() needs for n_sess sessions. */
size_t sess_relay_mem(uint32_t n_sess);

/* Lays the relay links and the FIFO out in mem (sess_relay_mem bytes,
 * zeroed). w->rpairs/n_relays must be set (n_relays 0: no relay). */
void sess_relay_init(struct worker *w, void *mem);

/* Frees held replies and the stash (before the pairs go). */
void sess_relay_fini(struct worker *w);

/* Worker loop: takes what the relays sent (replies, events, credits),
 * gives it to the sessions, wakes the sessions that waited for objects. */
void sess_relay_poll(struct worker *w, uint64_t now);

/* ---- TLS (sess_tls.c) ---- */

/* Frees the TLS sessions still open (worker_destroy). */
void sess_tls_fini(struct worker *w);

/* ---- memory-pressure shedding (sess_shed.c) ---- */

/* The worker's pressure now: the fullest of its session pool, its ports'
 * mbuf pools and its relay message pool, in percent. */
uint32_t sess_shed_pressure(const struct worker *w);

/* Worker loop: every 100 ms, measures the pressure and enters or leaves
 * shedding (w->shed), moving the sessions that have not reached MAIL. */
void sess_shed_poll(struct worker *w, uint64_t now);

/* 1 when se runs on its listener's shed configuration. */
int sess_shed_is(const struct worker *w, const struct sess *se);

/* se's listener index (from its core configuration, shed or not). */
uint8_t sess_li(const struct worker *w, const struct sess *se);

/* Graceful drain (DESIGN §3): smtp_drain() on every open session; the
 * worker drains new sessions from their accept on (w->draining). */
void sess_drain_all(struct worker *w, uint64_t now);

#endif /* BULWARK_SESS_H */
