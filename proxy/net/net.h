/*
 * net.h — the userspace TCP/IPv4 endpoint of one worker.
 *
 * Driven like the core: frames and time in, frames and session events out.
 * The endpoint does no I/O and reads no clock of its own: frames leave
 * through ops->xmit, fresh mbufs come from ops->alloc, and every call takes
 * `now` (ms, monotonic). Every call that can change timers returns, or lets
 * net_timers() return, the next deadline.
 *
 * One context per worker (per port queue); nothing is shared between
 * contexts except the read-only SYN-cookie secret. Not thread-safe: a
 * context is used by one lcore.
 *
 * Connection handles (struct tcp_conn *) are valid from the accept upcall
 * until the app calls net_close()/net_abort(), or until the closed upcall
 * returns. After net_close() the endpoint owns the flow (FIN, linger,
 * TIME-WAIT) and makes no more upcalls for it.
 */
#ifndef BULWARK_NET_H
#define BULWARK_NET_H

#include "net-t.h"

/* Fills cfg with defaults (limits of a small worker). The caller then sets
 * mac, addrs, ports, name and whatever else it wants. */
void net_cfg_defaults(struct net_cfg *cfg);

/*
 * Creates a context: pools, flow tables and timer wheel sized by cfg, on
 * cfg->socket_id. Needs the EAL. ops is copied. Returns NULL with *why set
 * on a bad configuration or when memory is short.
 */
struct net_ctx *net_create(const struct net_cfg *cfg, const struct net_ops *ops, uint64_t now,
			   const char **why);

/* Frees everything (open flows vanish without a frame). NULL is a no-op. */
void net_destroy(struct net_ctx *ctx);

/*
 * Processes a burst of received frames. Takes ownership of all n mbufs
 * (each is freed, reused for a reply, kept in a flow's queue, or punted).
 * Upcalls and transmissions happen during the call.
 */
void net_rx(struct net_ctx *ctx, struct rte_mbuf **m, uint32_t n, uint64_t now);

/*
 * Runs the timers due at now (retransmission, persist, SYN-ACK
 * retransmission, linger, TIME-WAIT). Returns the next deadline (ms), or
 * UINT64_MAX when nothing is armed. Calling earlier is harmless.
 */
uint64_t net_timers(struct net_ctx *ctx, uint64_t now);

/* Counters (read-only view, updated in place). */
const struct net_stats *net_stats(const struct net_ctx *ctx);

/* ---- Calls for the application ----------------------------------------- */

/* The app's pointer for c (NULL until set). */
void net_conn_set_app(struct tcp_conn *c, void *app);
void *net_conn_app(const struct tcp_conn *c);

/* Peer address and ports of c (network order). */
void net_conn_peer(const struct tcp_conn *c, uint32_t *raddr, uint16_t *rport, uint32_t *laddr,
		   uint16_t *lport);

/*
 * Copies up to len bytes into c's bounded send buffer and sends what the
 * windows allow. Returns how many bytes were taken, or -EPIPE after
 * net_close() / once the peer can no longer be sent to. Short counts: the
 * buffer is full, or the context's buffer pool is empty (tcp_buf_nomem);
 * either way ops->writable is called once space frees up.
 */
long net_send(struct net_ctx *ctx, struct tcp_conn *c, const void *p, size_t len, uint64_t now);

/* Free bytes in c's send buffer (what net_send would take now). */
size_t net_send_space(const struct net_ctx *ctx, const struct tcp_conn *c);

/*
 * Offers the bytes c holds (not consumed earlier) to ops->recv again, and
 * advertises the window that opens. Use after the app stopped reading.
 */
void net_resume(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now);

/*
 * Graceful close (DESIGN §3): queued bytes go out, then FIN, retransmitted
 * as usual (RTO back-off, reset after rtx_max tries; a window the peer
 * keeps shut gets rtx_max probes); bytes the peer still sends are ACKed
 * and discarded. Once everything we sent, the FIN included, is
 * acknowledged, the flow waits at most linger_ms more for the peer's FIN
 * (then RST; linger_ms = 0: at once). The handle is invalid after the call.
 */
void net_close(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now);

/* Sends RST and forgets c at once. The handle is invalid after the call. */
void net_abort(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now);

/* ---- Neighbours ---------------------------------------------------------- */

/*
 * Looks ip (network order) up in the ARP cache. Returns 0 and fills mac, or
 * -EAGAIN after sending an ARP request (from our first address).
 */
int net_arp_resolve(struct net_ctx *ctx, uint32_t ip, uint8_t mac[6], uint64_t now);

/* ---- SYN-cookie secret (control plane) -------------------------------- */

/* Sets the secret's first key. */
void net_cookie_init(struct net_cookie_secret *s, const uint64_t key[2]);

/* Installs a new current key; the old one stays valid for one period.
 * One writer (the control plane); workers read concurrently. */
void net_cookie_rotate(struct net_cookie_secret *s, const uint64_t key[2]);

/* ---- Introspection (tests, stats) ---------------------------------------- */

/* Bytes of memory per idle established flow: flow object, flow-table
 * share and timer share (buffers are taken only while data is pending). */
size_t net_conn_footprint(const struct net_ctx *ctx);

/* sizeof(struct tcp_conn), the flow object alone. */
size_t net_conn_size(void);

/* TCP state of c as a name ("ESTABLISHED", ...). */
const char *net_conn_state(const struct tcp_conn *c);

#endif
