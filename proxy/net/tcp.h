/*
 * tcp.h — internals of the TCP endpoint shared by tcp_*.c (not for the app:
 * the app uses net.h). Sequence numbers and times in host order; keys and
 * addresses in network order.
 */
#ifndef BULWARK_TCP_H
#define BULWARK_TCP_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#include "net-t.h"
#include "wheel.h"

struct rte_mbuf;

/* Sequence-space comparisons (RFC 9293 §3.4: modulo 2^32). */
#define SEQ_LT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b)  SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)
/* Time comparisons on 32-bit ms stamps. */
#define T32_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

/* The 4-tuple; the first member of every object a struct tcp_ftab indexes. */
struct tcp_key {
	uint32_t raddr, laddr;
	uint16_t rport, lport;
};

static inline int tcp_key_eq(const struct tcp_key *a, const struct tcp_key *b)
{
	return a->raddr == b->raddr && a->laddr == b->laddr && a->rport == b->rport &&
	       a->lport == b->lport;
}

/* ---- Flow hash table (tcp_ftab.c) ---------------------------------------- */

/* Open addressing, linear probing, backward-shift deletion. A slot is one
 * 32-bit word: the object's index + 1 (0 = empty) in the low TCP_FTAB_IDX_BITS
 * bits, the top bits of its hash above them (a tag that settles most probes
 * without reading the object). Objects start with struct tcp_key, at most
 * 2^24 of them. The capacity is at least twice the number of objects, so
 * probes stay short and an insert always finds room. */
#define TCP_FTAB_IDX_BITS 25
#define TCP_FTAB_IDX_MASK ((1u << TCP_FTAB_IDX_BITS) - 1)

struct tcp_ftab {
	uint32_t *slot;
	uint32_t mask;
	uint32_t stride;
	const uint8_t *base;
	const uint64_t *key; /* SipHash key, 2 words */
};

size_t tcp_ftab_mem(uint32_t objects);
void tcp_ftab_init(struct tcp_ftab *t, void *mem, uint32_t objects, const void *base,
		   uint32_t stride, const uint64_t *key);
uint32_t tcp_ftab_hash(const struct tcp_ftab *t, const struct tcp_key *k);
/* Returns the index of the object with key k, or -1. */
int64_t tcp_ftab_find(const struct tcp_ftab *t, const struct tcp_key *k, uint32_t h);
void tcp_ftab_add(struct tcp_ftab *t, uint32_t h, uint32_t idx);
void tcp_ftab_del(struct tcp_ftab *t, uint32_t h, uint32_t idx);

/* ---- Buffers ------------------------------------------------------------- */

/* A send or receive buffer, taken from the context's pool only while bytes
 * are pending. Receive: in-order bytes the app has not consumed at
 * data[off, off+len); out-of-order ranges (absolute sequence numbers,
 * sorted, disjoint, non-adjacent) stored at off + len + (start - rcv_nxt).
 * Send: bytes from SND.UNA on at data[off, off+len). */
struct tcp_range {
	uint32_t start, end;
};

struct tcp_buf {
	uint32_t off, len;
	uint32_t ooo_bytes;
	uint16_t n_ooo;
	uint16_t pad;
	struct tcp_range ooo[NET_OOO_MAX];
	uint8_t data[];
};

/* ---- Connections --------------------------------------------------------- */

enum tcp_state {
	TCP_CLOSED = 0,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSING,
	TCP_CLOSE_WAIT,
	TCP_LAST_ACK,
	TCP_TIME_WAIT, /* never held by a tcp_conn: see struct tcp_tw */
};

#define TCP_CF_TS       0x0001 /* timestamps negotiated (RFC 7323) */
#define TCP_CF_SACK     0x0002 /* peer sent SACK-permitted (not used yet) */
#define TCP_CF_APP_GONE 0x0004 /* app closed/aborted: no more upcalls */
#define TCP_CF_FIN_Q    0x0008 /* FIN to send after the send buffer */
#define TCP_CF_FIN_SENT 0x0010 /* FIN occupies seq snd_una+sbuf len */
#define TCP_CF_FIN_RCVD 0x0020
#define TCP_CF_ACK_NOW  0x0040
#define TCP_CF_PERSIST  0x0080 /* rtx_at is the persist timer */
#define TCP_CF_RTT      0x0100 /* rtt_seq is being timed (no timestamps) */
#define TCP_CF_WANT_W   0x0200 /* a net_send was short: call writable */
#define TCP_CF_RTX_ON   0x0400 /* rtx_at armed */
#define TCP_CF_LINGER   0x0800 /* linger_at armed */
#define TCP_CF_INRECV   0x1000 /* inside ops->recv for this flow */
#define TCP_CF_DOOMED   0x2000 /* CLOSED, on the context's reap list */
#define TCP_CF_BUFWAIT  0x4000 /* on the list of flows waiting for a buffer */
#define TCP_CF_RESUME   0x8000 /* net_resume() from inside ops->recv */

struct tcp_conn {
	struct tcp_key key;
	uint8_t state;
	uint8_t backoff;
	uint8_t snd_ws, rcv_ws; /* window shifts (RFC 7323 §2) */
	uint16_t flags;         /* TCP_CF_* */
	uint16_t mss;           /* effective send MSS, options excluded */
	uint8_t mac[6];         /* peer's (or gateway's) Ethernet address */
	uint8_t dupacks;
	uint8_t chal_n; /* challenge ACKs sent since chal_at */
	uint32_t chal_at;
	uint32_t snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, max_snd_wnd, snd_wl1, snd_wl2;
	uint32_t cwnd, ssthresh;
	uint32_t rcv_nxt, rcv_adv; /* rcv_adv: right edge last advertised */
	uint32_t ts_recent;
	uint32_t srtt8, rttvar4, rto; /* ms; srtt8 = 0: no sample yet */
	uint32_t rtt_seq, rtt_at;
	/* ms32 deadlines, never both (the linger starts once all is acked) */
	union {
		uint32_t rtx_at;    /* TCP_CF_RTX_ON (retransmission or persist) */
		uint32_t linger_at; /* TCP_CF_LINGER (FIN_WAIT_2) */
	};
	uint32_t wait_next; /* index + 1 of the next buffer waiter */
	struct wheel_timer tm;
	struct tcp_buf *rbuf, *sbuf;
	void *app;
};

/* ---- Half-open entries (tcp_syn.c) --------------------------------------- */

#define TCP_SF_TS   0x01
#define TCP_SF_SACK 0x02
#define TCP_SF_WS   0x04

struct tcp_syn {
	struct tcp_key key;
	uint32_t irs, iss;
	uint32_t ts_recent;
	uint16_t mss;  /* peer's, floor 536 */
	uint8_t ws;    /* peer's shift when TCP_SF_WS */
	uint8_t flags; /* TCP_SF_*, 0 = free entry */
	uint8_t mac[6];
	uint8_t tries;
	uint8_t pad;
	struct wheel_timer tm;
};

/* ---- TIME-WAIT entries (tcp_tw.c): at most 32 bytes --------------------- */

#define TCP_TWF_LIVE 0x01
#define TCP_TWF_TS   0x02

struct tcp_tw {
	struct tcp_key key;
	uint32_t snd_nxt, rcv_nxt;
	uint32_t ts_recent;
	uint32_t expire; /* ms32 */
	uint16_t wnd;    /* window field to send */
	uint8_t flags;
	uint8_t pad;
};

/* ---- A parsed segment ---------------------------------------------------- */

#define TCP_OPT_MSS    0x01
#define TCP_OPT_WS     0x02
#define TCP_OPT_SACKOK 0x04
#define TCP_OPT_TS     0x08

struct tcp_seg {
	struct tcp_key key;
	uint32_t seq, ack;
	uint32_t len; /* payload bytes */
	uint16_t wnd; /* raw window field */
	uint8_t flags;
	uint8_t opts; /* TCP_OPT_* present */
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	const uint8_t *data;
	const uint8_t *mac; /* sender's Ethernet address */
};

struct net_ctx;

/* tcp_in.c */
/* Handles one IPv4 TCP segment (ip points into m). Takes ownership of m. */
void tcp_input(struct net_ctx *ctx, struct rte_mbuf *m, void *ip, uint64_t now);
/* RFC 5961 §3-5 and §7: an ACK for the peer to resynchronise, at most
 * cfg.challenge_per_s per flow per second. */
void tcp_challenge_ack(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now);
/* tcp_rcv.c */
/* In-window bytes [seq, seq+len) already trimmed to start at or after
 * RCV.NXT: delivered, held, queued out of order, or (after net_close)
 * discarded. Sets ACK_NOW. */
void tcp_rcv_data(struct net_ctx *ctx, struct tcp_conn *c, uint32_t seq, const uint8_t *p,
		  uint32_t len, uint64_t now);
/* Offers c's held bytes to the app (input and net_resume). */
void tcp_deliver_held(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now);
/* Processes seg on established-or-later c. */
void tcp_conn_input(struct net_ctx *ctx, struct tcp_conn *c, struct tcp_seg *seg, uint64_t now);

/* tcp_out.c */
/* Builds and transmits one segment; opts/optlen already padded to 4. */
void tcp_emit(struct net_ctx *ctx, const struct tcp_key *k, const uint8_t *mac, uint32_t seq,
	      uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opts, uint32_t optlen,
	      const uint8_t *payload, uint32_t len);
/* Sends what c may send now (data, FIN, or a pure ACK when owed) and keeps
 * its retransmission/persist timer right. */
void tcp_output(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now);
/* Sends an ACK for c at once. */
void tcp_send_ack(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now);
/* Sends RST for c (seq snd_nxt). */
void tcp_send_rst(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now);
/* Replies RST to a segment that belongs to no flow (RFC 9293 §3.10.7.1). */
void tcp_reply_rst(struct net_ctx *ctx, const struct tcp_seg *seg);
/* Window field to advertise for c, and records rcv_adv. */
uint16_t tcp_rcv_wnd_field(struct net_ctx *ctx, struct tcp_conn *c);
/* The RTO timer / persist / linger expiry of c. */
void tcp_conn_timer(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now);
/* Re-arms c's wheel timer at min(rtx_at, linger_at). */
void tcp_conn_rearm(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now);
/* RFC 5681 §3.2: fast retransmit after three duplicate ACKs. */
void tcp_fast_rtx(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now);
/* RFC 6298 §2: one RTT sample (ms). */
void tcp_rtt_sample(struct net_ctx *ctx, struct tcp_conn *c, uint32_t rtt);

/* tcp_conn.c */
struct tcp_conn *tcp_conn_alloc(struct net_ctx *ctx);
/* Removes c from the flow table, releases its buffers and timer. */
void tcp_conn_free(struct net_ctx *ctx, struct tcp_conn *c);
/* Puts c (cleared of every resource) on the free list, poisoned. */
void tcp_conn_poison_free(struct net_ctx *ctx, struct tcp_conn *c);
struct tcp_conn *tcp_conn_find(struct net_ctx *ctx, const struct tcp_key *k);
void tcp_conn_insert(struct net_ctx *ctx, struct tcp_conn *c);
struct tcp_buf *tcp_buf_get(struct net_ctx *ctx);
void tcp_buf_put(struct net_ctx *ctx, struct tcp_buf *b);
/* Queues c to hear ops->writable when the pool has a buffer again. */
void tcp_buf_wait(struct net_ctx *ctx, struct tcp_conn *c);
/* Wakes buffer waiters while buffers are free (outside input only). */
void tcp_buf_wake(struct net_ctx *ctx, uint64_t now);
/* Frees c now, or — inside net_rx/net_resume, where callers up the stack
 * may still hold c — marks it CLOSED and frees it at the next tcp_reap(). */
void tcp_conn_release(struct net_ctx *ctx, struct tcp_conn *c);
/* Frees every connection released while deferred. */
void tcp_reap(struct net_ctx *ctx);
/* Ends c without app close: closed upcall (when attached), then free. */
void tcp_conn_drop(struct net_ctx *ctx, struct tcp_conn *c, enum net_close_reason why,
		   uint64_t now);
/* Moves c to TIME-WAIT and frees it. */
void tcp_conn_time_wait(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now);
/* Timestamp clock (RFC 7323 §5.4: 1 ms ticks). */
static inline uint32_t tcp_ts_now(uint64_t now)
{
	return (uint32_t)now;
}

/* Writes the 12-octet NOP NOP TSopt (TSval = now, TSecr = ts_recent) at o;
 * returns 12. */
static inline uint32_t tcp_put_ts_opt(uint8_t *o, uint64_t now, uint32_t ts_recent)
{
	uint32_t v;

	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	v = rte_cpu_to_be_32(tcp_ts_now(now));
	memcpy(o + 4, &v, 4);
	v = rte_cpu_to_be_32(ts_recent);
	memcpy(o + 8, &v, 4);
	return 12;
}

/* tcp_syn.c */
int tcp_listening(const struct net_ctx *ctx, uint16_t lport);
/* A SYN for no flow: half-open entry or cookie. */
void tcp_syn_input(struct net_ctx *ctx, struct tcp_seg *seg, uint64_t now);
/* A segment for no established flow, not a bare SYN. Returns 1 when it was
 * handled (a flow may have been created and fed), 0 when unknown. */
int tcp_syn_complete(struct net_ctx *ctx, struct tcp_seg *seg, uint64_t now);
void tcp_syn_timer(struct net_ctx *ctx, struct tcp_syn *s, uint64_t now);
uint32_t tcp_isn(const struct net_ctx *ctx, const struct tcp_key *k, uint64_t now);

/* tcp_tw.c */
void tcp_tw_add(struct net_ctx *ctx, const struct tcp_conn *c, uint64_t now);
/* Handles seg if it belongs to a TIME-WAIT entry. Returns 1 when consumed;
 * 0 when there is no entry or it was released for reuse (RFC 6191): the
 * caller then treats seg as new. */
int tcp_tw_input(struct net_ctx *ctx, struct tcp_seg *seg, uint64_t now);
/* Expires entries; returns the next expiry (ms) or UINT64_MAX. */
uint64_t tcp_tw_expire(struct net_ctx *ctx, uint64_t now);

/* tcp_in.c: options */
/* Parses the options of a TCP header into seg. Returns 0, or -1 when they
 * are malformed (RFC 9293 §3.1, MUST-7: illegal lengths handled). */
int tcp_parse_opts(const uint8_t *p, uint32_t len, struct tcp_seg *seg);

#endif
