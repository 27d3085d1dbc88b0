/*
 * net_eth.c — Ethernet demultiplexing, ARP (RFC 826) with a bounded cache,
 * IPv4 header validation (RFC 1122 §3.2.1), ICMP echo (RFC 792).
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "net_ctx.h"
#include "siphash.h"

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

int net_is_local(const struct net_ctx *ctx, uint32_t ip)
{
	for (uint32_t i = 0; i < ctx->cfg.n_addrs; i++)
		if (ctx->cfg.addrs[i] == ip)
			return 1;
	return 0;
}

void net_xmit(struct net_ctx *ctx, struct rte_mbuf *m)
{
	ctx->st.tx_pkts++;
	ctx->ops.xmit(ctx->ops.arg, m);
}

void net_punt(struct net_ctx *ctx, struct rte_mbuf *m)
{
	if (ctx->ops.punt != NULL)
		ctx->ops.punt(ctx->ops.arg, m);
	else
		rte_pktmbuf_free(m);
}

void *net_ip_fill(struct net_ctx *ctx, struct rte_mbuf *m, const uint8_t *dmac, uint32_t src,
		  uint32_t dst, uint8_t proto, uint32_t l4len)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);

	memcpy(eh->dst_addr.addr_bytes, dmac, 6);
	memcpy(eh->src_addr.addr_bytes, ctx->cfg.mac, 6);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4len));
	ip->packet_id = rte_cpu_to_be_16(ctx->ip_id++);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->hdr_checksum = 0;
	ip->src_addr = src;
	ip->dst_addr = dst;
	m->l2_len = sizeof(*eh);
	m->l3_len = sizeof(*ip);
	if (ctx->cfg.tx_cksum_offload)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	else
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	return ip;
}

/* ---- ARP ------------------------------------------------------------------ */

static struct net_arp *arp_slot(struct net_ctx *ctx, uint32_t ip, int create, uint64_t now)
{
	uint32_t h = (uint32_t)net_siphash(ctx->hkey, &ip, sizeof(ip));
	struct net_arp *victim = NULL;

	/* Probe 4 slots; on a miss replace a free or the oldest one. */
	for (uint32_t k = 0; k < 4; k++) {
		struct net_arp *e = &ctx->arp[(h + k) & ctx->arp_mask];

		if (e->ip == ip)
			return e;
		if (!create)
			continue;
		if (victim == NULL || victim->ip != 0) {
			if (e->ip == 0 || victim == NULL || (int32_t)(e->at - victim->at) < 0)
				victim = e;
		}
	}
	if (victim != NULL) {
		if (victim->ip != 0)
			ctx->st.arp_evicted++;
		victim->ip = ip;
		victim->at = (uint32_t)now;
		ctx->st.arp_learned++;
	}
	return victim;
}

static void arp_input(struct net_ctx *ctx, struct rte_mbuf *m, uint64_t now)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	struct rte_arp_ipv4 *a = &ah->arp_data;
	struct net_arp *e;
	uint32_t sip, tip;
	int for_us;

	if (m->data_len < sizeof(*eh) + sizeof(*ah) ||
	    ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || ah->arp_hlen != 6 ||
	    ah->arp_plen != 4) {
		ctx->st.arp_bad++;
		goto drop;
	}
	sip = a->arp_sip;
	tip = a->arp_tip;
	for_us = net_is_local(ctx, tip);
	/* RFC 826 "Packet reception": update an existing entry; add one only
	 * when we are the target. Never learn broadcast or zero senders. */
	if (sip != 0 && sip != 0xffffffffu && !(a->arp_sha.addr_bytes[0] & 1)) {
		e = arp_slot(ctx, sip, for_us, now);
		if (e != NULL) {
			memcpy(e->mac, a->arp_sha.addr_bytes, 6);
			e->at = (uint32_t)now;
		}
	}
	if (!for_us) {
		ctx->st.arp_not_us++;
		goto drop;
	}
	if (ah->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY)) {
		ctx->st.arp_reply_in++;
		goto drop;
	}
	if (ah->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST)) {
		ctx->st.arp_bad++;
		goto drop;
	}
	ctx->st.arp_req_in++;
	/* Reply in place. */
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_tha = a->arp_sha;
	a->arp_tip = sip;
	memcpy(a->arp_sha.addr_bytes, ctx->cfg.mac, 6);
	a->arp_sip = tip;
	eh->dst_addr = a->arp_tha;
	memcpy(eh->src_addr.addr_bytes, ctx->cfg.mac, 6);
	m->ol_flags = 0;
	ctx->st.arp_reply_out++;
	net_xmit(ctx, m);
	return;
drop:
	rte_pktmbuf_free(m);
}

int net_arp_resolve(struct net_ctx *ctx, uint32_t ip, uint8_t mac[6], uint64_t now)
{
	struct net_arp *e = arp_slot(ctx, ip, 0, now);
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;
	struct rte_mbuf *m;

	if (e != NULL && (uint32_t)now - e->at < ctx->cfg.arp_ttl_ms) {
		memcpy(mac, e->mac, 6);
		return 0;
	}
	if (ctx->cfg.n_addrs == 0)
		return -EAGAIN;
	m = ctx->ops.alloc(ctx->ops.arg);
	if (m == NULL) {
		ctx->st.tx_nomem++;
		return -EAGAIN;
	}
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eh) + sizeof(*ah));
	if (eh == NULL) {
		rte_pktmbuf_free(m);
		ctx->st.tx_nomem++;
		return -EAGAIN;
	}
	ah = (struct rte_arp_hdr *)(eh + 1);
	memcpy(eh->dst_addr.addr_bytes, bcast, 6);
	memcpy(eh->src_addr.addr_bytes, ctx->cfg.mac, 6);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	memcpy(ah->arp_data.arp_sha.addr_bytes, ctx->cfg.mac, 6);
	ah->arp_data.arp_sip = ctx->cfg.addrs[0];
	memset(ah->arp_data.arp_tha.addr_bytes, 0, 6);
	ah->arp_data.arp_tip = ip;
	ctx->st.arp_req_out++;
	net_xmit(ctx, m);
	return -EAGAIN;
}

/* ---- ICMP ------------------------------------------------------------------ */

static void icmp_input(struct net_ctx *ctx, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
		       uint32_t hlen, uint32_t tlen)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
	uint32_t len = tlen - hlen;
	uint32_t a;

	if (len < sizeof(*ic) || rte_raw_cksum(ic, len) != 0xffff) {
		ctx->st.icmp_bad++;
		rte_pktmbuf_free(m);
		return;
	}
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
		ctx->st.icmp_other++;
		net_punt(ctx, m);
		return;
	}
	ctx->st.icmp_echo_in++;
	/* RFC 792 echo: reply in place with the same data. */
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, len);
	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	eh->dst_addr = eh->src_addr;
	memcpy(eh->src_addr.addr_bytes, ctx->cfg.mac, 6);
	m->ol_flags = 0;
	ctx->st.icmp_echo_out++;
	net_xmit(ctx, m);
}

/* ---- IPv4 ------------------------------------------------------------------ */

static int bad_source(uint32_t be)
{
	uint32_t a = rte_be_to_cpu_32(be);

	/* RFC 1122 §3.2.1.3: never accept from broadcast, multicast, 0/8,
	 * loopback or class E sources. */
	return (a >> 24) == 0 || (a >> 24) == 127 || (a >> 28) >= 14;
}

static void ipv4_input(struct net_ctx *ctx, struct rte_mbuf *m, uint64_t now)
{
	struct rte_ipv4_hdr *ip =
	    rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	uint32_t avail = m->data_len - (uint32_t)sizeof(struct rte_ether_hdr);
	uint32_t hlen, tlen;
	uint64_t ck;

	if (avail < sizeof(*ip)) {
		ctx->st.ip_bad_len++;
		goto drop;
	}
	/* RFC 1122 §3.2.1.1: silently discard datagrams whose version is not 4. */
	if ((ip->version_ihl >> 4) != 4) {
		ctx->st.ip_bad_version++;
		goto drop;
	}
	hlen = (uint32_t)(ip->version_ihl & 0xf) * 4;
	tlen = rte_be_to_cpu_16(ip->total_length);
	if (hlen < sizeof(*ip) || hlen > avail) {
		ctx->st.ip_bad_hlen++;
		goto drop;
	}
	if (tlen < hlen || tlen > avail) {
		ctx->st.ip_bad_len++;
		goto drop;
	}
	/* RFC 1122 §3.2.1.2: verify the checksum, discard on failure. */
	ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (ck == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    (ck == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN && rte_raw_cksum(ip, hlen) != 0xffff)) {
		ctx->st.ip_bad_cksum++;
		goto drop;
	}
	/* No reassembly: a front proxy never needs fragments (counted). */
	if (ip->fragment_offset &
	    rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		ctx->st.ip_frag++;
		goto drop;
	}
	if (!net_is_local(ctx, ip->dst_addr)) {
		ctx->st.ip_not_us++;
		goto drop;
	}
	if (bad_source(ip->src_addr)) {
		ctx->st.ip_bad_src++;
		goto drop;
	}
	if (hlen > sizeof(*ip))
		ctx->st.ip_options++; /* accepted, ignored (RFC 1122 §3.2.1.8) */
	/* Drop Ethernet padding. */
	if (tlen < avail)
		rte_pktmbuf_trim(m, (uint16_t)(avail - tlen));
	switch (ip->next_proto_id) {
	case IPPROTO_TCP:
		tcp_input(ctx, m, ip, now);
		return;
	case IPPROTO_ICMP:
		icmp_input(ctx, m, ip, hlen, tlen);
		return;
	default:
		ctx->st.ip_other_proto++;
		net_punt(ctx, m);
		return;
	}
drop:
	rte_pktmbuf_free(m);
}

void net_rx(struct net_ctx *ctx, struct rte_mbuf **pkts, uint32_t n, uint64_t now)
{
	ctx->in_input = 1;
	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_ether_hdr *eh;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		ctx->st.rx_pkts++;
		ctx->st.rx_bytes += m->pkt_len;
		if (m->nb_segs != 1 || m->data_len != m->pkt_len) {
			ctx->st.rx_nonlinear++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (m->data_len < sizeof(*eh)) {
			ctx->st.rx_short++;
			rte_pktmbuf_free(m);
			continue;
		}
		eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		if (memcmp(eh->dst_addr.addr_bytes, ctx->cfg.mac, 6) != 0 &&
		    memcmp(eh->dst_addr.addr_bytes, bcast, 6) != 0) {
			ctx->st.rx_not_us_l2++;
			net_punt(ctx, m);
			continue;
		}
		switch (rte_be_to_cpu_16(eh->ether_type)) {
		case RTE_ETHER_TYPE_IPV4:
			ipv4_input(ctx, m, now);
			break;
		case RTE_ETHER_TYPE_ARP:
			arp_input(ctx, m, now);
			break;
		default: /* IPv6 comes with its own issue */
			ctx->st.rx_other_ethertype++;
			net_punt(ctx, m);
			break;
		}
	}
	ctx->in_input = 0;
	tcp_buf_wake(ctx, now);
}
