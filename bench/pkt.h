/*
 * pkt.h — the bench's client emulators (bench-junk, bulwark-load --mode
 * dpdk) build and read their frames here: Ethernet + IPv4 + TCP with
 * software checksums, and ARP. No state: the caller derives every field of
 * the next frame from the frame it received.
 */
#ifndef BULWARK_BENCH_PKT_H
#define BULWARK_BENCH_PKT_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

/* A received TCP/IPv4 segment's fields (addresses in network order, the
 * rest in host order); data points into the mbuf. */
struct pkt_tcp4 {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	const uint8_t *data;
	uint32_t len;
};

/* Rewrites m (reset first) as a TCP/IPv4 frame from src to dst with these
 * fields; a SYN carries an MSS option of 1460. Addresses in network order.
 * Returns m; the caller keeps ownership. len + headers must fit the mbuf. */
struct rte_mbuf *pkt_tcp4(struct rte_mbuf *m, const struct rte_ether_addr *src_mac,
			  const struct rte_ether_addr *dst_mac, uint32_t saddr, uint32_t daddr,
			  uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
			  const void *data, uint16_t len);

/* Reads m as TCP/IPv4 into *t: 0, or -1 when m is anything else (or
 * truncated). m stays the caller's. */
int pkt_tcp4_parse(const struct rte_mbuf *m, struct pkt_tcp4 *t);

/* ARP: rewrites m as a request (who has tip? tell sip) or, with reply set,
 * a reply to dst_mac (tip is at src_mac). Addresses in network order.
 * Returns m. */
struct rte_mbuf *pkt_arp(struct rte_mbuf *m, int reply, const struct rte_ether_addr *src_mac,
			 const struct rte_ether_addr *dst_mac, uint32_t sip, uint32_t tip);

/* Reads m as ARP: 0 and *op (host order), the sender and target addresses
 * (network order) and the sender's MAC; -1 when m is not ARP. */
int pkt_arp_parse(const struct rte_mbuf *m, uint16_t *op, uint32_t *sip, uint32_t *tip,
		  struct rte_ether_addr *sha);

#endif
