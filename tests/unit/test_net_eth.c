/*
 * test_net_eth.c — proxy/net below TCP: SipHash, the timing wheel, ARP and
 * its cache, ICMP echo, IPv4 validation drops.
 */
#include "net_fake.h"
#include "siphash.h"
#include "wheel.h"

/* ---- SipHash-2-4 reference vectors (the paper's Appendix A) --------------- */

static void test_siphash(void)
{
	uint64_t k[2];
	uint8_t key[16], msg[64];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	memcpy(k, key, 16); /* little-endian host */
	CHECK_EQ(net_siphash(k, msg, 0), 0x726fdb47dd0e0e31ull);
	CHECK_EQ(net_siphash(k, msg, 15), 0xa129ca6149be45e5ull);
	CHECK_EQ(net_siphash(k, msg, 8), 0x93f5f5799a932462ull);
}

/* ---- wheel ---------------------------------------------------------------- */

struct tw_rec {
	struct wheel_timer t;
	uint64_t fired_at;
	int n;
};

static struct wheel *g_w;

static void tw_fire(struct wheel_timer *t, void *arg, uint64_t now)
{
	struct tw_rec *r = (struct tw_rec *)t;

	(void)arg;
	r->fired_at = now;
	r->n++;
	if (r->n == 1 && r->fired_at == 7000) /* re-arm from the callback */
		wheel_arm(g_w, t, now + 5);
}

/* The wheel's memory and every timer in one block (wheel.h: base). */
static struct {
	uint64_t mem[4096 / 2 + 64 + 1];
	struct tw_rec r[6];
	struct tw_rec many[2000];
} tw_blk;

static void test_wheel(void)
{
	uint64_t *mem = tw_blk.mem;
	struct wheel w;
	struct tw_rec *r = tw_blk.r;
	uint64_t now = 5000;

	memset(&tw_blk, 0, sizeof(tw_blk));
	CHECK(wheel_mem_size(4096) <= sizeof(tw_blk.mem));
	CHECK_EQ(sizeof(struct wheel_timer), 12);
	CHECK_EQ(wheel_init(&w, mem, 100, 1, now, &tw_blk), -EINVAL);
	CHECK_EQ(wheel_init(&w, mem, 4096, 1, now, &tw_blk), 0);
	g_w = &w;
	CHECK_EQ(wheel_next(&w, now), UINT64_MAX);
	wheel_arm(&w, &r[0].t, 5010);
	wheel_arm(&w, &r[1].t, 5003);
	wheel_arm(&w, &r[2].t, 5000 + 10000); /* beyond one rotation */
	wheel_arm(&w, &r[3].t, 4000);         /* in the past */
	wheel_arm(&w, &r[4].t, 7000);
	wheel_arm(&w, &r[5].t, 5020);
	wheel_cancel(&w, &r[5].t);
	CHECK(!wheel_armed(&r[5].t));
	CHECK_EQ(wheel_next(&w, now), 5000); /* the past one is due */
	wheel_expire(&w, now, tw_fire, NULL);
	CHECK_EQ(r[3].n, 1);
	CHECK_EQ(wheel_next(&w, now), 5003);
	wheel_expire(&w, 5002, tw_fire, NULL);
	CHECK_EQ(r[1].n, 0);
	wheel_expire(&w, 5003, tw_fire, NULL);
	CHECK_EQ(r[1].n, 1);
	CHECK_EQ(r[1].fired_at, 5003);
	CHECK_EQ(wheel_next(&w, 5003), 5010);
	/* A jump of more than one rotation fires everything due, once. */
	wheel_expire(&w, 7000, tw_fire, NULL);
	CHECK_EQ(r[0].n, 1);
	CHECK_EQ(r[4].n, 1);
	CHECK_EQ(r[2].n, 0);
	CHECK_EQ(r[5].n, 0);
	CHECK(wheel_armed(&r[4].t)); /* re-armed by its callback */
	CHECK_EQ(wheel_next(&w, 7000), 7005);
	wheel_expire(&w, 7005, tw_fire, NULL);
	CHECK_EQ(r[4].n, 2);
	CHECK_EQ(wheel_next(&w, 7005), 15000);
	wheel_expire(&w, 14999, tw_fire, NULL);
	CHECK_EQ(r[2].n, 0);
	wheel_expire(&w, 15000, tw_fire, NULL);
	CHECK_EQ(r[2].n, 1);
	CHECK_EQ(wheel_next(&w, 15000), UINT64_MAX);

	/* Many timers: each fires exactly at its time. */
	{
		struct tw_rec *many = tw_blk.many;
		int bad = 0;

		for (int i = 0; i < 2000; i++)
			wheel_arm(&w, &many[i].t, 15000 + 1 + (uint64_t)(i * 7919) % 20000);
		for (int i = 0; i < 2000; i += 3)
			wheel_cancel(&w, &many[i].t);
		for (uint64_t t = 15001; t <= 35001;) {
			uint64_t nx = wheel_next(&w, t);

			if (nx == UINT64_MAX)
				break;
			t = nx;
			wheel_expire(&w, t, tw_fire, NULL);
		}
		for (int i = 0; i < 2000; i++) {
			uint64_t want = 15000 + 1 + (uint64_t)(i * 7919) % 20000;

			if (i % 3 == 0)
				bad += many[i].n != 0;
			else
				bad += many[i].n != 1 || many[i].fired_at != want;
		}
		CHECK_EQ(bad, 0);
		CHECK_EQ(w.armed, 0);
	}
	/* Past the horizon (32-bit expiries): fires at the horizon instead. */
	wheel_expire(&w, 40000, tw_fire, NULL);
	r[0].n = 0;
	wheel_arm(&w, &r[0].t, 40000 + (3ull << 30));
	CHECK_EQ(wheel_next(&w, 40000), 40001 + WHEEL_HORIZON_MS);
	wheel_expire(&w, 40000 + WHEEL_HORIZON_MS, tw_fire, NULL);
	CHECK_EQ(r[0].n, 0);
	wheel_expire(&w, 40001 + WHEEL_HORIZON_MS, tw_fire, NULL);
	CHECK_EQ(r[0].n, 1);
	CHECK_EQ(w.armed, 0);
}

/* ---- ARP ------------------------------------------------------------------ */

static struct rte_mbuf *arp_frame(uint16_t op, const uint8_t *dmac, uint32_t sip, uint32_t tip)
{
	struct rte_mbuf *m = frame(14 + sizeof(struct rte_arp_hdr));
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);

	memcpy(eh->dst_addr.addr_bytes, dmac, 6);
	memcpy(eh->src_addr.addr_bytes, cli_mac, 6);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	memcpy(ah->arp_data.arp_sha.addr_bytes, cli_mac, 6);
	ah->arp_data.arp_sip = sip;
	ah->arp_data.arp_tip = tip;
	return m;
}

static void test_arp(void)
{
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t mac[6];
	uint32_t other = RTE_BE32(IP4(198, 18, 0, 9));

	fake_default();
	/* Unknown neighbour: a request goes out. */
	CHECK_EQ(net_arp_resolve(F.ctx, CLI_IP, mac, F.now), -EAGAIN);
	CHECK_EQ(F.ntx, 1);
	if (F.ntx == 1) {
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(F.tx[0], struct rte_ether_hdr *);
		struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);

		CHECK_EQ(rte_be_to_cpu_16(eh->ether_type), RTE_ETHER_TYPE_ARP);
		CHECK_MEM(eh->dst_addr.addr_bytes, 6, bc, 6);
		CHECK_EQ(rte_be_to_cpu_16(ah->arp_opcode), RTE_ARP_OP_REQUEST);
		CHECK_EQ(ah->arp_data.arp_tip, CLI_IP);
		CHECK_EQ(ah->arp_data.arp_sip, SRV_IP);
	}
	fake_clear();

	/* A request for our address: reply in place, and the sender is learned. */
	fake_rx(arp_frame(RTE_ARP_OP_REQUEST, bc, CLI_IP, SRV_IP));
	CHECK_EQ(F.ntx, 1);
	if (F.ntx == 1) {
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(F.tx[0], struct rte_ether_hdr *);
		struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);

		CHECK_MEM(eh->dst_addr.addr_bytes, 6, cli_mac, 6);
		CHECK_MEM(eh->src_addr.addr_bytes, 6, srv_mac, 6);
		CHECK_EQ(rte_be_to_cpu_16(ah->arp_opcode), RTE_ARP_OP_REPLY);
		CHECK_MEM(ah->arp_data.arp_sha.addr_bytes, 6, srv_mac, 6);
		CHECK_EQ(ah->arp_data.arp_sip, SRV_IP);
		CHECK_MEM(ah->arp_data.arp_tha.addr_bytes, 6, cli_mac, 6);
		CHECK_EQ(ah->arp_data.arp_tip, CLI_IP);
	}
	fake_clear();
	CHECK_EQ(net_arp_resolve(F.ctx, CLI_IP, mac, F.now), 0);
	CHECK_MEM(mac, 6, cli_mac, 6);
	CHECK_EQ(F.ntx, 0);

	/* A request for someone else: no reply, not learned. */
	fake_rx(arp_frame(RTE_ARP_OP_REQUEST, bc, other, RTE_BE32(IP4(198, 18, 0, 7))));
	CHECK_EQ(F.ntx, 0);
	CHECK_EQ(ST()->arp_not_us, 1);
	CHECK_EQ(net_arp_resolve(F.ctx, other, mac, F.now), -EAGAIN);
	fake_clear();

	/* A reply to us is learned. */
	fake_rx(arp_frame(RTE_ARP_OP_REPLY, srv_mac, other, SRV_IP));
	CHECK_EQ(ST()->arp_reply_in, 1);
	CHECK_EQ(net_arp_resolve(F.ctx, other, mac, F.now), 0);

	/* Entries age out. */
	F.now += 300001;
	CHECK_EQ(net_arp_resolve(F.ctx, other, mac, F.now), -EAGAIN);
	fake_clear();

	/* Malformed ARP. */
	{
		struct rte_mbuf *m = arp_frame(RTE_ARP_OP_REQUEST, bc, CLI_IP, SRV_IP);
		struct rte_arp_hdr *ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14);

		ah->arp_hlen = 8;
		fake_rx(m);
		CHECK_EQ(ST()->arp_bad, 1);
		CHECK_EQ(F.ntx, 0);
	}

	/* The cache is bounded: many senders evict old ones. */
	for (uint32_t i = 0; i < 2000; i++)
		fake_rx(arp_frame(RTE_ARP_OP_REPLY, srv_mac,
				  RTE_BE32(IP4(198, 19, i >> 8, i & 0xff)), SRV_IP));
	CHECK(ST()->arp_evicted >= 2000 - 256);
	CHECK_EQ(net_arp_resolve(F.ctx, RTE_BE32(IP4(198, 19, 1999 >> 8, 1999 & 0xff)), mac, F.now),
		 0);
	fake_clear();
}

/* ---- ICMP ----------------------------------------------------------------- */

static struct rte_mbuf *echo_frame(const char *payload, int bad)
{
	size_t len = 8 + strlen(payload);
	struct rte_mbuf *m = frame(14 + 20 + len);
	struct rte_ipv4_hdr *ip = eth_ip(m, CLI_IP, SRV_IP, IPPROTO_ICMP, len);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);

	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_ident = rte_cpu_to_be_16(77);
	ic->icmp_seq_nb = rte_cpu_to_be_16(3);
	memcpy(ic + 1, payload, strlen(payload));
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, len);
	if (bad)
		ic->icmp_cksum ^= 0x0101;
	return m;
}

static void test_icmp(void)
{
	fake_default();
	fake_rx(echo_frame("hello bulwark", 0));
	CHECK_EQ(F.ntx, 1);
	if (F.ntx == 1) {
		struct pkt p = tx_pkt(0);
		struct rte_ipv4_hdr *ip =
		    rte_pktmbuf_mtod_offset(F.tx[0], struct rte_ipv4_hdr *, 14);
		struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);

		CHECK_EQ(p.src, SRV_IP);
		CHECK_EQ(p.dst, CLI_IP);
		CHECK_MEM(p.dmac, 6, cli_mac, 6);
		CHECK(p.ip_ok);
		CHECK_EQ(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
		CHECK_EQ(rte_be_to_cpu_16(ic->icmp_ident), 77);
		CHECK_EQ(rte_raw_cksum(ic, 8 + 13), 0xffff);
		CHECK_MEM(ic + 1, 13, "hello bulwark", 13);
	}
	fake_clear();
	fake_rx(echo_frame("x", 1));
	CHECK_EQ(F.ntx, 0);
	CHECK_EQ(ST()->icmp_bad, 1);
	CHECK_EQ(ST()->icmp_echo_out, 1);
}

/* ---- IPv4 validation ------------------------------------------------------ */

static struct rte_mbuf *syn_frame(void)
{
	return tcp_frame(4000, 25, RTE_TCP_SYN_FLAG, 1, 0, 65535, NULL, 0, NULL, 0);
}

static struct rte_ipv4_hdr *ip_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
}

static void reck(struct rte_ipv4_hdr *ip)
{
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static void test_ipv4(void)
{
	struct rte_mbuf *m;

	fake_default();
	/* Control: a good SYN is answered. */
	fake_rx(syn_frame());
	CHECK_EQ(F.ntx, 1);
	fake_clear();

	m = syn_frame();
	ip_of(m)->hdr_checksum ^= 0x1111;
	fake_rx(m);
	CHECK_EQ(ST()->ip_bad_cksum, 1);

	m = syn_frame(); /* total length past the frame */
	ip_of(m)->total_length = rte_cpu_to_be_16(200);
	reck(ip_of(m));
	fake_rx(m);
	CHECK_EQ(ST()->ip_bad_len, 1);

	m = syn_frame(); /* total length under the header */
	ip_of(m)->total_length = rte_cpu_to_be_16(12);
	reck(ip_of(m));
	fake_rx(m);
	CHECK_EQ(ST()->ip_bad_len, 2);

	m = syn_frame();
	ip_of(m)->version_ihl = 0x44;
	reck(ip_of(m));
	fake_rx(m);
	CHECK_EQ(ST()->ip_bad_hlen, 1);

	m = syn_frame();
	ip_of(m)->version_ihl = 0x65;
	reck(ip_of(m));
	fake_rx(m);
	CHECK_EQ(ST()->ip_bad_version, 1);

	m = syn_frame(); /* first fragment */
	ip_of(m)->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	reck(ip_of(m));
	fake_rx(m);
	m = syn_frame(); /* a later fragment */
	ip_of(m)->fragment_offset = rte_cpu_to_be_16(10);
	reck(ip_of(m));
	fake_rx(m);
	CHECK_EQ(ST()->ip_frag, 2);

	m = syn_frame(); /* not our address */
	ip_of(m)->dst_addr = RTE_BE32(IP4(198, 18, 0, 99));
	reck(ip_of(m));
	fake_rx(m);
	CHECK_EQ(ST()->ip_not_us, 1);

	m = syn_frame(); /* broadcast source */
	ip_of(m)->src_addr = 0xffffffffu;
	reck(ip_of(m));
	fake_rx(m);
	CHECK_EQ(ST()->ip_bad_src, 1);

	m = syn_frame(); /* not our MAC */
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr.addr_bytes[5] = 0x77;
	fake_rx(m);
	CHECK_EQ(ST()->rx_not_us_l2, 1);

	m = frame(10); /* runt */
	fake_rx(m);
	CHECK_EQ(ST()->rx_short, 1);

	m = syn_frame(); /* IPv6 ethertype: not ours yet */
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type = rte_cpu_to_be_16(0x86dd);
	fake_rx(m);
	CHECK_EQ(ST()->rx_other_ethertype, 1);

	m = syn_frame(); /* UDP */
	ip_of(m)->next_proto_id = IPPROTO_UDP;
	reck(ip_of(m));
	fake_rx(m);
	CHECK_EQ(ST()->ip_other_proto, 1);
	CHECK_EQ(F.ntx, 0);

	/* Ethernet padding after the datagram is ignored. */
	m = tcp_frame(4001, 25, RTE_TCP_SYN_FLAG, 1, 0, 65535, NULL, 0, NULL, 0);
	rte_pktmbuf_append(m, 6);
	fake_rx(m);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(ST()->tcp_bad_cksum, 0);
	fake_clear();
	CHECK_EQ(rte_mempool_in_use_count(F.mp), 0);
}

/* ---- checksum offloads ----------------------------------------------------- */

static void test_offload(void)
{
	struct net_cfg cfg;
	struct rte_mbuf *m;

	fake_cfg(&cfg);
	cfg.tx_cksum_offload = 1;
	fake_start(&cfg);
	/* TX: flags and lengths set, the pseudo-header sum in place. */
	fake_rx(syn_frame());
	CHECK_EQ(F.ntx, 1);
	if (F.ntx == 1) {
		struct rte_mbuf *t = F.tx[0];
		struct rte_ipv4_hdr *ip = ip_of(t);
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

		CHECK((t->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM) == RTE_MBUF_F_TX_TCP_CKSUM);
		CHECK(t->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
		CHECK(t->ol_flags & RTE_MBUF_F_TX_IPV4);
		CHECK_EQ(t->l2_len, 14);
		CHECK_EQ(t->l3_len, 20);
		CHECK_EQ(t->l4_len, (th->data_off >> 4) * 4);
		CHECK_EQ(ip->hdr_checksum, 0);
		CHECK_EQ(th->cksum, rte_ipv4_phdr_cksum(ip, t->ol_flags));
	}
	fake_clear();
	/* RX: the PMD's verdict wins over the bytes. */
	m = tcp_frame(4100, 25, RTE_TCP_SYN_FLAG, 1, 0, 65535, NULL, 0, NULL, 0);
	rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, 34)->cksum ^= 0x1234;
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	fake_rx(m);
	CHECK_EQ(F.ntx, 1);
	fake_clear();
	m = tcp_frame(4101, 25, RTE_TCP_SYN_FLAG, 1, 0, 65535, NULL, 0, NULL, 0);
	rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, 34)->cksum = 0;
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
	fake_rx(m);
	CHECK_EQ(F.ntx, 1);
	fake_clear();
	m = tcp_frame(4102, 25, RTE_TCP_SYN_FLAG, 1, 0, 65535, NULL, 0, NULL, 0);
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
	fake_rx(m);
	m = syn_frame();
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	fake_rx(m);
	CHECK_EQ(F.ntx, 0);
	CHECK_EQ(ST()->tcp_bad_cksum, 1);
	CHECK_EQ(ST()->ip_bad_cksum, 1);
	m = syn_frame();
	ip_of(m)->hdr_checksum ^= 0x5555;
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	fake_rx(m);
	CHECK_EQ(F.ntx, 1);
	fake_clear();
}

int main(void)
{
	fake_eal();
	test_siphash();
	test_wheel();
	test_arp();
	test_icmp();
	test_ipv4();
	test_offload();
	return fake_finish("net_eth");
}
