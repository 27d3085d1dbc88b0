/*
 * sess.h — the session glue between a worker's TCP endpoint (proxy/net)
 * and the SMTP core (proxy/core): the net_ops upcalls, the core's actions
 * carried out, and the session timers.
 *
 * One struct sess per accepted connection, from the worker's fixed array
 * (limits.sessions). Command-line buffers come from a per-worker pool
 * (limits.line_buffers) and are lent to the core only while a partial
 * line is pending; a session that needs one when none is free stops reading
 * (its TCP window closes) and waits, first come first served, until
 * sess_lines_wake() gives it one. The core's replies go
 * out with net_send(); when the send buffer cannot take them all, the rest is
 * parked in one of a few per-worker buffers and the session stops reading
 * until the writable upcall has flushed them, so no reply byte is lost and
 * memory stays bounded (no parking buffer left: the flow is aborted and
 * counted). SMTP_ACT_RELAY is answered with SMTP_BACKEND_NONE (the relay is
 * issue 4): the client gets 421 4.3.0 and a close.
 */
#ifndef BULWARK_SESS_H
#define BULWARK_SESS_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "smtp.h"
#include "wheel.h"

struct worker;
struct wport;

#define SESS_LINE_CAP    SCAN_LINE_MAX_PARAMS /* no AUTH until TLS (issue 5) */
#define SESS_OVF_SIZE    (2 * SMTP_OUT_MIN)   /* one core call plus a tick's 421 */
#define SESS_TICK_MS     8u                   /* resolution of the session wheel */
#define SESS_WHEEL_SLOTS 4096u                /* x 8 ms = one rotation in 32.8 s */

struct sess {
	struct smtp_sess s;
	struct wheel_timer tm;
	struct tcp_conn *c;
	struct wport *wp;
	uint32_t ovf; /* parked reply buffer index + 1, 0: none */
	uint16_t ovf_off, ovf_len;
	uint32_t line; /* lent line buffer index + 1, 0: none */
	uint8_t flags; /* SESS_F_* in sess.c */
	uint8_t used;
	uint8_t lq;  /* the slot has an entry in the line-buffer FIFO */
	uint8_t rq;  /* the slot has an entry in the relay-object FIFO */
	uint32_t rl; /* relay link index + 1 (sess_relay.c), 0: none */
};

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

/* Hands freed line buffers to the sessions waiting for one, in order, and
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

/* Graceful drain (DESIGN §3): smtp_drain() on every open session; the
 * worker drains new sessions from their accept on (w->draining). */
void sess_drain_all(struct worker *w, uint64_t now);

#endif /* BULWARK_SESS_H */
