/*
 * load_dpdk.h — bulwark-load's dpdk mode, private to load_dpdk.c (the
 * flows: frames derived from frames, the scripts) and load_dpdk_port.c (the
 * port, ARP, the loop). See load_dpdk.c for the design.
 */
#ifndef BULWARK_LOAD_DPDK_H
#define BULWARK_LOAD_DPDK_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "load.h"

#define LD_SLOTS_MAX 131072u
#define LD_BURST     64u
#define LD_TXQ       131072u
#define LD_QMAX      16u
#define LD_MSS       1400u
#define LD_SEND_MAX  8192u
#define LD_CLI_PORT0 1024u
/* initial sequence numbers: 16 per microsecond of the clock (RFC 9293
 * §3.4.1's clock, faster): a SYN that meets its 4-tuple still in the
 * target's TIME-WAIT lies beyond the old RCV.NXT (RFC 1122 §4.2.2.13) */
#define LD_ISS_PER_US 16u

enum lf_phase {
	F_FREE,
	F_SYN,   /* SYN sent */
	F_GREET, /* waiting for the 220 */
	F_REPLY, /* the step's bytes sent, waiting for its reply */
	F_SLOW,  /* a byte per slow_ms */
	F_WAIT,  /* LOP_WAIT */
	F_CLOSE, /* waiting for the server's FIN */
	F_LAST,  /* our FIN sent, waiting for its ACK */
	F_HOLD,  /* LOP_HOLD: the server must keep the session open */
};

struct lf {
	uint32_t snd_nxt, rcv_nxt;
	uint32_t t0;    /* us, the session's start */
	uint32_t t_dl;  /* us, the current wait's deadline (F_SLOW: the next byte) */
	uint32_t greet; /* us from t0 to the 220; 0: none */
	uint32_t fin;   /* us from t0 to the last expected reply */
	uint16_t gen, code;
	uint8_t kind, ph, off;
	int8_t step;
};

struct ld {
	const struct load_opts *o;
	struct load_stats *st;
	uint16_t port, nq;
	struct rte_mempool *pool;
	struct rte_ether_addr mac, smac;
	uint32_t saddr, gw; /* network order */
	uint32_t src;       /* host order, the /17's base */
	struct lf *fl;
	uint32_t *free_sl, n_free;
	int32_t wrr[LK_COUNT];
	uint32_t now; /* us */
	uint64_t per_us;
	struct rte_mbuf *spare; /* the frame being answered, to reuse */
	uint64_t sent;          /* frames queued, to see if a reply went out */
	uint64_t stale, tx_drop, fin_unacked;
	struct rte_mbuf *txq[LD_QMAX][LD_TXQ];
	uint32_t ntx[LD_QMAX];
};

/* Frames: queues m on queue q (the queue owns m; dropped and counted when
 * it stays full); sends queue q's frames. */
void ld_tx_push(struct ld *d, uint16_t q, struct rte_mbuf *m);
void ld_tx_flush(struct ld *d, uint16_t q);
/* Handles a received frame (ARP included); takes m. */
void ld_on_frame(struct ld *d, struct rte_mbuf *m);
/* Handles a frame that is not TCP/IPv4: ARP requests for --gw or the
 * generator's /17 are answered, the target's MAC learnt; takes m. */
void ld_on_arp(struct ld *d, struct rte_mbuf *m);
/* Starts a session on a free slot (there must be one). */
void ld_start(struct ld *d);
/* Deadlines and slow senders of every slot. */
void ld_sweep(struct ld *d);
/* Ends slot s's session with outcome oc (seen: octets for an error line). */
void ld_end(struct ld *d, uint32_t s, enum load_outcome oc, const uint8_t *seen, uint32_t n);

#endif
