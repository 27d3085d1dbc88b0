/*
 * net-t.h — types of the userspace TCP/IPv4 endpoint (configuration, ops,
 * counters, close reasons). Prototypes live in net.h.
 *
 * Byte order: addresses and ports in this file are in network byte order
 * unless a comment says otherwise. Time is milliseconds on any monotonic
 * clock, passed in by the caller.
 */
#ifndef BULWARK_NET_T_H
#define BULWARK_NET_T_H

#include <stddef.h>
#include <stdint.h>

struct rte_mbuf;
struct net_ctx;
struct tcp_conn;

#define NET_ADDR_MAX   8  /* local IPv4 addresses per context */
#define NET_LISTEN_MAX 8  /* listening TCP ports per context */
#define NET_OOO_MAX    16 /* hard ceiling of out-of-order ranges per flow */

/* Why a connection ended, for the closed upcall and counters. */
enum net_close_reason {
	NET_CLOSE_RESET = 1, /* the peer sent an acceptable RST */
	NET_CLOSE_TIMEOUT,   /* retransmissions or persist probes exhausted */
	NET_CLOSE_REFUSED,   /* the accept upcall refused it (internal) */
};

/*
 * The ops table: the only way the endpoint touches the outside world.
 * Every callback gets ops->arg. The upcalls into the application take the
 * connection handle; the application keeps its own pointer with
 * net_conn_set_app().
 */
struct net_ops {
	void *arg;
	/* A fresh mbuf to build one frame in (data_off at headroom, empty), or
	 * NULL (the caller counts tx_nomem and goes on). */
	struct rte_mbuf *(*alloc)(void *arg);
	/* Queues one frame for transmission. Takes ownership of m. */
	void (*xmit)(void *arg, struct rte_mbuf *m);
	/* Optional (may be NULL): a frame that is not for the endpoint (other
	 * ethertypes, IP protocols, TCP ports nobody listens on) — e.g. for a
	 * kernel exception port. Takes ownership of m. NULL: counted, freed
	 * (TCP: answered with RST). */
	void (*punt)(void *arg, struct rte_mbuf *m);

	/* A handshake completed on listening port lport (host order).
	 * Return 0 to accept (the app may net_send() at once: SMTP is
	 * server-first), or < 0 to refuse (the peer gets RST). */
	int (*accept)(void *arg, struct tcp_conn *c, uint16_t lport, uint64_t now);
	/* In-order bytes. Returns how many were consumed (0..len); the rest is
	 * kept, shrinks the advertised window, and is offered again (with any
	 * newer bytes appended) on the next arrival or net_resume(). p is valid
	 * only during the call. */
	size_t (*recv)(void *arg, struct tcp_conn *c, const uint8_t *p, size_t len, uint64_t now);
	/* The peer sent FIN after all the bytes offered so far. */
	void (*peer_fin)(void *arg, struct tcp_conn *c, uint64_t now);
	/* The connection is gone without the app closing it (reset, timeout).
	 * The handle is invalid when this returns. */
	void (*closed)(void *arg, struct tcp_conn *c, enum net_close_reason why, uint64_t now);
	/* Optional: send-buffer space became free after a short net_send(). */
	void (*writable)(void *arg, struct tcp_conn *c, uint64_t now);
	/* Optional: a new SYN from raddr (network order) to listening port
	 * lport (host order). Nonzero drops it silently: no SYN-ACK, no RST,
	 * no state (counted as tcp_syn_filtered). Retransmitted SYNs of a
	 * half-open entry are not asked again. */
	int (*syn_filter)(void *arg, uint32_t raddr, uint16_t lport, uint64_t now);
};

/*
 * SYN-cookie secret, one for all workers (and boxes): written by the control
 * plane with net_cookie_rotate(), read lock-free by the workers. Two keys:
 * the current one and the previous one (cookies stay valid across one
 * rotation).
 */
struct net_cookie_secret {
	uint64_t key[2][2];
	uint32_t gen; /* key[gen & 1] is current */
};

/* Limits and addresses of one context (one worker on one port queue). */
struct net_cfg {
	uint8_t mac[6];               /* our Ethernet address */
	uint32_t addrs[NET_ADDR_MAX]; /* our IPv4 addresses (network order) */
	uint32_t n_addrs;
	uint16_t ports[NET_LISTEN_MAX]; /* listening TCP ports (host order) */
	uint32_t n_ports;
	uint16_t mtu;     /* IP MTU, default 1500 */
	int socket_id;    /* NUMA socket for pools */
	const char *name; /* unique per context, names the pools */

	uint32_t max_conns;    /* established-or-closing flows */
	uint32_t max_halfopen; /* half-open entries; full -> SYN cookies */
	uint32_t max_tw;       /* TIME-WAIT entries; full -> oldest recycled */
	uint32_t n_bufs;       /* send/receive buffers shared by the flows */
	uint32_t buf_size;     /* bytes per buffer = receive window = send buffer */
	uint32_t ooo_segs;     /* out-of-order ranges kept per flow (<= NET_OOO_MAX) */
	uint32_t ooo_bytes;    /* out-of-order bytes kept per flow */
	uint32_t arp_entries;  /* ARP cache size (rounded up to a power of 2) */
	uint32_t arp_ttl_ms;

	uint32_t rto_init_ms;     /* RFC 6298 §2.1: 1 s */
	uint32_t rto_min_ms;      /* RFC 6298 §2.4: 1 s (SHOULD) */
	uint32_t rto_max_ms;      /* RFC 6298 §2.5: at least 60 s */
	uint32_t rtx_max;         /* retransmissions of one segment before reset */
	uint32_t synack_retries;  /* SYN-ACKs resent from the half-open table */
	uint32_t tw_ms;           /* TIME-WAIT duration (2*MSL) */
	uint32_t linger_ms;       /* DESIGN §3 linger after our FIN is acked (FIN_WAIT_2); 0 ok */
	uint32_t challenge_per_s; /* RFC 5961 §7 challenge ACKs per flow per second */
	uint8_t tx_cksum_offload; /* the port computes IPv4/TCP checksums */
	uint8_t syncookies;       /* 0 never, 1 when the half-open table is full, 2 always */

	const struct net_cookie_secret *secret; /* shared; NULL = per-context */
	uint64_t isn_key[2];                    /* RFC 6528 secret (should be random) */
};

/* Counters of one context; every drop cause has its own. */
struct net_stats {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_nomem;
	/* layer 2 / ARP */
	uint64_t rx_short, rx_not_us_l2, rx_other_ethertype, rx_nonlinear;
	uint64_t arp_req_in, arp_reply_out, arp_reply_in, arp_bad, arp_not_us;
	uint64_t arp_learned, arp_evicted, arp_req_out;
	/* IPv4 */
	uint64_t ip_bad_version, ip_bad_hlen, ip_bad_len, ip_bad_cksum;
	uint64_t ip_frag, ip_not_us, ip_bad_src, ip_options, ip_other_proto;
	/* ICMP */
	uint64_t icmp_echo_in, icmp_echo_out, icmp_bad, icmp_other;
	/* TCP input */
	uint64_t tcp_in, tcp_bad_len, tcp_bad_cksum, tcp_bad_opt, tcp_bad_flags;
	uint64_t tcp_no_listener, tcp_rst_out, tcp_rst_in_ignored;
	uint64_t tcp_syn_in, tcp_synack_out, tcp_synack_rtx, tcp_halfopen_expired;
	uint64_t tcp_syn_filtered; /* dropped by ops.syn_filter */
	uint64_t tcp_cookie_sent, tcp_cookie_ok, tcp_cookie_bad, tcp_halfopen_full;
	uint64_t tcp_conn_full, tcp_accepted, tcp_refused, tcp_buf_nomem;
	uint64_t tcp_paws_drop, tcp_out_of_window, tcp_bad_ack, tcp_challenge_ack;
	uint64_t tcp_challenge_limited, tcp_reset_in, tcp_dup_data, tcp_ooo_in;
	uint64_t tcp_ooo_drop, tcp_partial_keep, tcp_linger_discard;
	/* TCP output */
	uint64_t tcp_data_out, tcp_rtx, tcp_rto, tcp_fast_rtx, tcp_persist_probe;
	uint64_t tcp_rtx_giveup, tcp_linger_expired, tcp_ack_out;
	/* TIME-WAIT */
	uint64_t tw_enter, tw_expired, tw_recycled, tw_reused, tw_ack;
	/* gauges */
	uint64_t conns, halfopen, tw, bufs;
};

#endif
