/*
 * net_ctx.h — the per-worker context, shared by the endpoint's .c files
 * (internal; the app sees only net.h).
 */
#ifndef BULWARK_NET_CTX_H
#define BULWARK_NET_CTX_H

#include <stdint.h>

#include "net.h"
#include "tcp.h"
#include "wheel.h"

struct rte_mempool;

struct net_arp {
	uint32_t ip; /* 0 = free */
	uint32_t at; /* ms32 learned */
	uint8_t mac[6];
	uint16_t pad;
};

struct net_ctx {
	struct net_cfg cfg;
	struct net_ops ops;
	struct net_stats st;
	uint64_t hkey[2]; /* flow-table hashing */
	uint16_t ip_id;
	uint16_t mss;     /* our MSS (MTU - 40) */
	uint8_t rcv_ws;   /* our window shift */
	uint8_t in_input; /* inside net_rx/net_resume: app calls defer output/free */
	uint32_t ooo_segs;

	struct wheel wheel;

	/* established-or-closing flows */
	struct tcp_conn *conns;
	uint32_t doomed;     /* reap list: conn index + 1, linked through tm.next */
	uint32_t buf_wait;   /* index + 1 of the first buffer waiter */
	uint32_t conn_free1; /* first free flow: index + 1 (tcp_conn.c) */
	struct tcp_ftab ftab;

	/* half-open */
	struct tcp_syn *syns;
	uint32_t *syn_free;
	uint32_t syn_nfree;
	struct tcp_ftab stab;

	/* TIME-WAIT: a ring in arrival (= expiry) order */
	struct tcp_tw *tws;
	uint32_t tw_head, tw_n;
	struct tcp_ftab twtab;

	struct rte_mempool *bufs;

	struct net_arp *arp;
	uint32_t arp_mask;

	struct net_cookie_secret own_secret;
	const struct net_cookie_secret *secret;

	void *mem; /* one rte_zmalloc block for all the arrays above */
};

/* net_eth.c */
/* Returns non-zero when ip (network order) is one of ours. */
int net_is_local(const struct net_ctx *ctx, uint32_t ip);
/*
 * Writes Ethernet + IPv4 headers at the start of m (which must have
 * room) for an IP payload of l4len bytes already placed after them, and
 * sets checksum offload flags or computes the IP checksum. Returns the IP
 * header.
 */
void *net_ip_fill(struct net_ctx *ctx, struct rte_mbuf *m, const uint8_t *dmac, uint32_t src,
		  uint32_t dst, uint8_t proto, uint32_t l4len);
/* Counts and hands m to ops->xmit (takes ownership). */
void net_xmit(struct net_ctx *ctx, struct rte_mbuf *m);
/* Hands m to ops->punt, or frees it. Takes ownership. */
void net_punt(struct net_ctx *ctx, struct rte_mbuf *m);

#endif
