/*
 * pkt.c — frames for the bench's client emulators (pkt.h).
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "pkt.h"

struct rte_mbuf *pkt_tcp4(struct rte_mbuf *m, const struct rte_ether_addr *src_mac,
			  const struct rte_ether_addr *dst_mac, uint32_t saddr, uint32_t daddr,
			  uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
			  const void *data, uint16_t len)
{
	uint16_t optlen = (flags & RTE_TCP_SYN_FLAG) ? 4 : 0;
	uint16_t l3 =
	    (uint16_t)(sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr) + optlen + len);
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;

	rte_pktmbuf_reset(m);
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*eh) + l3));
	eh->dst_addr = *dst_mac;
	eh->src_addr = *src_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(l3);
	ip->packet_id = 0;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->hdr_checksum = 0;
	ip->src_addr = saddr;
	ip->dst_addr = daddr;
	th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(dport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)(((sizeof(*th) + optlen) / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(65535);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (optlen) {
		uint8_t *o = (uint8_t *)(th + 1);

		o[0] = 2, o[1] = 4, o[2] = 1460 >> 8, o[3] = 1460 & 0xff;
	}
	if (len)
		memcpy((uint8_t *)(th + 1) + optlen, data, len);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	return m;
}

int pkt_tcp4_parse(const struct rte_mbuf *m, struct pkt_tcp4 *t)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
	const struct rte_tcp_hdr *th;
	uint32_t hl, tl, tot;

	if (m->data_len < sizeof(*eh) + sizeof(*ip) + sizeof(*th) ||
	    eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ip->next_proto_id != IPPROTO_TCP)
		return -1;
	hl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	th = (const struct rte_tcp_hdr *)((const uint8_t *)ip + hl);
	tl = (uint32_t)(th->data_off >> 4) * 4;
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < hl + tl || sizeof(*eh) + tot > m->data_len)
		return -1;
	t->saddr = ip->src_addr;
	t->daddr = ip->dst_addr;
	t->sport = rte_be_to_cpu_16(th->src_port);
	t->dport = rte_be_to_cpu_16(th->dst_port);
	t->seq = rte_be_to_cpu_32(th->sent_seq);
	t->ack = rte_be_to_cpu_32(th->recv_ack);
	t->flags = th->tcp_flags;
	t->data = (const uint8_t *)th + tl;
	t->len = tot - hl - tl;
	return 0;
}

struct rte_mbuf *pkt_arp(struct rte_mbuf *m, int reply, const struct rte_ether_addr *src_mac,
			 const struct rte_ether_addr *dst_mac, uint32_t sip, uint32_t tip)
{
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *a;

	rte_pktmbuf_reset(m);
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eh) + sizeof(*a));
	memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
	if (reply)
		eh->dst_addr = *dst_mac;
	eh->src_addr = *src_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	a = (struct rte_arp_hdr *)(eh + 1);
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(reply ? RTE_ARP_OP_REPLY : RTE_ARP_OP_REQUEST);
	a->arp_data.arp_sha = *src_mac;
	a->arp_data.arp_sip = sip;
	memset(&a->arp_data.arp_tha, 0, sizeof(a->arp_data.arp_tha));
	if (reply)
		a->arp_data.arp_tha = *dst_mac;
	a->arp_data.arp_tip = tip;
	return m;
}

int pkt_arp_parse(const struct rte_mbuf *m, uint16_t *op, uint32_t *sip, uint32_t *tip,
		  struct rte_ether_addr *sha)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(eh + 1);

	if (m->data_len < sizeof(*eh) + sizeof(*a) ||
	    eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return -1;
	*op = rte_be_to_cpu_16(a->arp_opcode);
	*sip = a->arp_data.arp_sip;
	*tip = a->arp_data.arp_tip;
	*sha = a->arp_data.arp_sha;
	return 0;
}
