/*
 * test_drv.c — drivers/: port bring-up on net_ring/net_null vdevs (never a
 * PCI device: --no-pci always), capability planning against a made-up NIC,
 * and the fault-injecting wrapper's rates, determinism and mbuf accounting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_thash.h>

#include "check.h"
#include "drv.h"

/* err must contain needle. */
#define CHECK_ERR(err, needle)                                                                     \
	do {                                                                                       \
		if (!check_one(strstr((err), (needle)) != NULL, "error text has " #needle,         \
			       __FILE__, __LINE__) &&                                              \
		    check_show())                                                                  \
			fprintf(stderr, "  error text: \"%s\"\n", (err));                          \
	} while (0)

static int log_lines;

static void quiet_log(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
	log_lines++;
}

/* A fresh net_ring vdev name per port: the ring PMD keeps its rings after
 * removal, and a second probe of the same name logs an error before it
 * attaches to them. */
static struct drv_port_conf ring_conf(const char *name, uint16_t queues)
{
	static char names[32][16];
	static int next = 1;
	struct drv_port_conf c;
	char *devargs = names[next % 32];

	snprintf(devargs, sizeof(names[0]), "net_ring%d", next++);

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.devargs = devargs; /* hot-plugged by drv_port_open, removed by close */
	c.n_queues = queues;
	c.rx_desc = 256;
	c.tx_desc = 256;
	c.mbufs = 2047;
	c.mbuf_cache = 32;
	c.pool_per_queue = 1;
	c.log = quiet_log;
	return c;
}

static void test_ring_port(void)
{
	struct drv_port_conf c = ring_conf("r0", 2);
	uint16_t id;
	struct drv_port p;
	char err[DRV_ERR_MAX] = "";
	struct rte_mbuf *m, *rx[4];
	uint16_t n;

	c.devargs = "net_ring0"; /* probed by EAL (--vdev) */
	log_lines = 0;
	CHECK(drv_port_open(&p, &c, err, sizeof(err)) == 0);
	if (err[0])
		fprintf(stderr, "unexpected: %s\n", err);
	CHECK(p.n_queues == 2);
	CHECK(p.is_virtual == 1);
	CHECK(p.hw == 0);
	CHECK(p.sw_cksum == (DRV_SW_RX_CKSUM | DRV_SW_TX_CKSUM));
	CHECK(p.rss_hf == 0);
	CHECK(p.n_pools == 2 && p.pools[0] && p.pools[1] && p.pools[0] != p.pools[1]);
	CHECK(strcmp(p.driver, "net_ring") == 0);
	CHECK(p.hotplugged == 0); /* from --vdev */
	CHECK(p.mtu == 1500);
	CHECK(log_lines >= 2); /* the summary and the link */

	/* net_ring0 loops each TX queue back to its RX queue. */
	m = rte_pktmbuf_alloc(p.pools[1]);
	CHECK(m != NULL);
	if (m) {
		memset(rte_pktmbuf_append(m, 60), 0xab, 60);
		CHECK(rte_eth_tx_burst(p.port_id, 1, &m, 1) == 1);
		n = rte_eth_rx_burst(p.port_id, 1, rx, 4);
		CHECK(n == 1 && rx[0] == m);
		CHECK(rte_eth_rx_burst(p.port_id, 0, rx, 4) == 0);
		rte_pktmbuf_free(m);
	}
	CHECK(rte_mempool_in_use_count(p.pools[1]) == 0);
	drv_port_close(&p);
	drv_port_close(&p); /* twice is harmless */
	/* DPDK releases a closed vdev's ethdev: it is gone for good. */
	CHECK(rte_eth_dev_get_port_by_name("net_ring0", &id) != 0);
	CHECK(drv_port_open(&p, &c, err, sizeof(err)) == -ENODEV);
	CHECK_ERR(err, "port r0: \"net_ring0\" probed, but no ethdev named net_ring0");

	/* Hot-plugged from devargs: a shared pool; open, close, open again. */
	for (int i = 0; i < 2; i++) {
		c = ring_conf("r1", 2);
		c.pool_per_queue = 0;
		c.mbufs = 4095;
		CHECK(drv_port_open(&p, &c, err, sizeof(err)) == 0);
		CHECK(p.hotplugged == 1);
		CHECK(p.n_pools == 1 && p.pools[0] == p.pools[1]);
		drv_port_close(&p);
		CHECK(rte_eth_dev_get_port_by_name(c.devargs, &id) != 0);
	}
}

static void expect_fail(struct drv_port_conf *c, int rc_want, const char *needle)
{
	struct drv_port p;
	char err[DRV_ERR_MAX] = "";
	int rc = drv_port_open(&p, c, err, sizeof(err));

	CHECK(rc_want ? rc == rc_want : rc < 0);
	if (rc_want ? rc != rc_want : rc >= 0)
		fprintf(stderr, "rc %d: %s\n", rc, err);
	CHECK_ERR(err, "port ");
	CHECK_ERR(err, c->name);
	CHECK_ERR(err, needle);
	if (rc == 0)
		drv_port_close(&p);
}

static void test_impossible(void)
{
	struct drv_port_conf c;
	struct drv_port p;
	uint16_t id;
	char err[DRV_ERR_MAX] = "";

	c = ring_conf("bad_rss", 1);
	c.rss = DRV_ON;
	expect_fail(&c, -ENOTSUP, "rss");

	c = ring_conf("bad_csum", 1);
	c.csum = DRV_ON;
	expect_fail(&c, -ENOTSUP, "csum_offload");

	c = ring_conf("bad_queues", 17); /* net_ring has 16 */
	expect_fail(&c, -ENOTSUP, "at most 16 RX");

	c = ring_conf("bad_mtu", 1);
	c.mtu = 20;
	expect_fail(&c, -ENOTSUP, "mtu 20");

	c = ring_conf("few_mbufs", 2);
	c.mbufs = 300;
	expect_fail(&c, -EINVAL, "mbufs = 300");

	c = ring_conf("nodev", 1);
	c.devargs = "net_nosuchpmd0";
	expect_fail(&c, 0, "cannot probe \"net_nosuchpmd0\"");
	CHECK(rte_eth_dev_get_port_by_name("net_nosuchpmd0", &id) != 0);

	c = ring_conf("noname", 1);
	c.devargs = NULL; /* "noname" is not an ethdev */
	expect_fail(&c, -ENODEV, "no DPDK device named noname");

	/* net_null claims RSS; it is still a virtual device. */
	c = ring_conf("null_rss", 2);
	c.devargs = "net_null7";
	c.rss = DRV_ON;
	expect_fail(&c, -ENOTSUP, "virtual device without RSS");
	/* The failed open removed the device it hot-plugged. */
	CHECK(rte_eth_dev_get_port_by_name("net_null7", &id) != 0);

	/* Hot-plug from devargs, then close removes it again. */
	c.rss = DRV_AUTO;
	CHECK(drv_port_open(&p, &c, err, sizeof(err)) == 0);
	CHECK(p.hotplugged == 1 && strcmp(p.driver, "net_null") == 0);
	CHECK(!(p.hw & DRV_HW_RSS));
	CHECK(rte_eth_dev_get_port_by_name("net_null7", &id) == 0);
	drv_port_close(&p);
	CHECK(rte_eth_dev_get_port_by_name("net_null7", &id) != 0);
}

/* A NIC we do not have: plan only. */
static void fake_nic(struct rte_eth_dev_info *info)
{
	memset(info, 0, sizeof(*info));
	info->driver_name = "net_fake";
	info->max_rx_queues = 64;
	info->max_tx_queues = 64;
	info->min_mtu = 68;
	info->max_mtu = 9600;
	info->hash_key_size = 40;
	info->reta_size = 128;
	info->flow_type_rss_offloads = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP;
	info->rx_offload_capa = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
				RTE_ETH_RX_OFFLOAD_RSS_HASH;
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	info->rx_desc_lim.nb_max = 4096;
	info->rx_desc_lim.nb_min = 64;
	info->rx_desc_lim.nb_align = 32;
	info->tx_desc_lim = info->rx_desc_lim;
}

static void test_plan(void)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf ec;
	struct drv_port p;
	struct drv_port_conf c = ring_conf("nic0", 4);
	uint8_t key[DRV_RSS_KEY_MAX], mykey[40];
	char err[DRV_ERR_MAX] = "";
	uint32_t t1[3], t2[3];

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "nic0");
	snprintf(p.devname, sizeof(p.devname), "0000:03:00.0");
	snprintf(p.driver, sizeof(p.driver), "net_fake");
	fake_nic(&info);
	c.rx_desc = 1000;  /* aligned up to 1024 */
	c.tx_desc = 10000; /* clamped to 4096 */
	CHECK(drv_port_plan(&p, &c, &info, 0, &ec, key, err, sizeof(err)) == 0);
	CHECK(p.hw == (DRV_HW_RSS | DRV_HW_RX_IPV4_CKSUM | DRV_HW_RX_TCP_CKSUM |
		       DRV_HW_TX_IPV4_CKSUM | DRV_HW_TX_TCP_CKSUM));
	CHECK(p.sw_cksum == 0);
	CHECK(p.rx_desc == 1024 && p.tx_desc == 4096);
	CHECK(ec.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS);
	CHECK(ec.rx_adv_conf.rss_conf.rss_key == key);
	CHECK(ec.rx_adv_conf.rss_conf.rss_key_len == 40);
	CHECK(ec.rx_adv_conf.rss_conf.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP);
	CHECK(ec.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TCP_CKSUM);
	CHECK(ec.txmode.offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
	/* The default key is symmetric: both directions of a flow, one queue. */
	t1[0] = 0xc6120002; /* 198.18.0.2 */
	t1[1] = 0xc6130105; /* 198.19.1.5 */
	t1[2] = (25u << 16) | 40001u;
	t2[0] = t1[1];
	t2[1] = t1[0];
	t2[2] = (40001u << 16) | 25u;
	CHECK(rte_softrss(t1, 3, key) == rte_softrss(t2, 3, key));
	t2[2] = (40002u << 16) | 25u;
	CHECK(rte_softrss(t1, 3, key) != rte_softrss(t2, 3, key));

	/* A key of the wrong size. */
	memset(mykey, 0x11, sizeof(mykey));
	c.rss_key = mykey;
	c.rss_key_len = 20;
	CHECK(drv_port_plan(&p, &c, &info, 0, &ec, key, err, sizeof(err)) == -EINVAL);
	CHECK_ERR(err, "rss_key has 20 bytes");
	c.rss_key_len = 40;
	CHECK(drv_port_plan(&p, &c, &info, 0, &ec, key, err, sizeof(err)) == 0);
	CHECK(memcmp(key, mykey, 40) == 0);
	c.rss_key = NULL;

	/* Source-only hashing needs the NIC's selective-field support. */
	c.rss_hash = DRV_RSS_SRC_ADDR;
	CHECK(drv_port_plan(&p, &c, &info, 0, &ec, key, err, sizeof(err)) == -ENOTSUP);
	CHECK_ERR(err, "port nic0: rss_hash");
	info.flow_type_rss_offloads |= RTE_ETH_RSS_L3_SRC_ONLY;
	CHECK(drv_port_plan(&p, &c, &info, 0, &ec, key, err, sizeof(err)) == 0);
	CHECK(ec.rx_adv_conf.rss_conf.rss_hf & RTE_ETH_RSS_L3_SRC_ONLY);
	CHECK(!(ec.rx_adv_conf.rss_conf.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP));
	c.rss_hash = DRV_RSS_L4;

	/* A NIC without TX TCP checksum: auto falls back, on refuses. */
	info.tx_offload_capa = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	CHECK(drv_port_plan(&p, &c, &info, 0, &ec, key, err, sizeof(err)) == 0);
	CHECK(!(p.hw & DRV_HW_TX_TCP_CKSUM) && (p.hw & DRV_HW_TX_IPV4_CKSUM));
	CHECK(p.sw_cksum == DRV_SW_TX_CKSUM);
	c.csum = DRV_ON;
	CHECK(drv_port_plan(&p, &c, &info, 0, &ec, key, err, sizeof(err)) == -ENOTSUP);
	CHECK_ERR(err, "port nic0: csum_offload = true, but 0000:03:00.0 (net_fake) lacks the TX "
		       "TCP checksum");
	c.csum = DRV_AUTO;

	/* A NIC without RSS: rss = on names the port and the feature. */
	info.flow_type_rss_offloads = 0;
	c.rss = DRV_ON;
	CHECK(drv_port_plan(&p, &c, &info, 0, &ec, key, err, sizeof(err)) == -ENOTSUP);
	CHECK_ERR(err, "port nic0: rss = true, but 0000:03:00.0 (net_fake) cannot hash");
	c.rss = DRV_AUTO;
	CHECK(drv_port_plan(&p, &c, &info, 0, &ec, key, err, sizeof(err)) == 0);
	CHECK(!(p.hw & DRV_HW_RSS) && ec.rxmode.mq_mode == RTE_ETH_MQ_RX_NONE);

	/* The same NIC seen as virtual: nothing enabled, software checksums. */
	fake_nic(&info);
	CHECK(drv_port_plan(&p, &c, &info, 1, &ec, key, err, sizeof(err)) == 0);
	CHECK(p.hw == 0 && p.sw_cksum == (DRV_SW_RX_CKSUM | DRV_SW_TX_CKSUM));
	c.mtu = 9601;
	CHECK(drv_port_plan(&p, &c, &info, 0, &ec, key, err, sizeof(err)) == -ENOTSUP);
	CHECK_ERR(err, "port nic0: mtu 9601");
	/* frames: net_tap says max_mtu 65535 but takes 1522-byte frames */
	info.max_mtu = UINT16_MAX;
	info.max_rx_pktlen = 1522;
	c.mtu = 1500;
	CHECK(drv_port_plan(&p, &c, &info, 1, &ec, key, err, sizeof(err)) == 0);
	c.mtu = 9000;
	CHECK(drv_port_plan(&p, &c, &info, 1, &ec, key, err, sizeof(err)) == -ENOTSUP);
	CHECK_ERR(err, "port nic0: mtu 9000 needs 9018-byte frames");
}

/* ---- fault wrapper ------------------------------------------------------ */

#define NPKT  100000u
#define BURST 32u

struct run {
	uint64_t order_hash; /* FNV-1a over the sequence numbers, arrival order */
	uint32_t received, unique, dups, late;
	struct drv_fault_stats st;
	int leaked;
};

static void stamp(struct rte_mbuf *m, uint32_t seq)
{
	char *d = rte_pktmbuf_append(m, 64);

	if (!d)
		return;
	memset(d, 0, 64);
	memcpy(d, &seq, sizeof(seq));
}

static void seen_one(struct run *r, uint8_t *seen, uint32_t *max_seq, struct rte_mbuf *m)
{
	uint32_t seq;

	memcpy(&seq, rte_pktmbuf_mtod(m, const void *), sizeof(seq));
	rte_pktmbuf_free(m);
	r->received++;
	for (int b = 0; b < 4; b++)
		r->order_hash = (r->order_hash ^ ((seq >> (8 * b)) & 0xff)) * 0x100000001b3ull;
	if (seq >= NPKT) {
		r->leaked++; /* garbage: counted as a failure below */
		return;
	}
	if (seen[seq]) {
		r->dups++;
		return;
	}
	seen[seq] = 1;
	r->unique++;
	if (r->unique > 1 && seq < *max_seq)
		r->late++;
	if (seq > *max_seq || r->unique == 1)
		*max_seq = seq;
}

/* Sends NPKT stamped packets through net_ring0 queue 0 with faults in the
 * direction(s) c asks for, and records what came back. */
static void run_faults(const struct drv_port *p, const struct drv_fault_conf *c, struct run *r)
{
	char err[DRV_ERR_MAX] = "";
	struct drv_fault *f = drv_fault_create(p->port_id, 1, c, err, sizeof(err));
	uint8_t *seen = calloc(NPKT, 1);
	struct rte_mbuf *m[BURST];
	uint32_t seq = 0, max_seq = 0;
	uint16_t n;

	memset(r, 0, sizeof(*r));
	r->order_hash = 0xcbf29ce484222325ull;
	CHECK(f != NULL && seen != NULL);
	if (!f || !seen) {
		free(seen);
		drv_fault_destroy(f);
		return;
	}
	while (seq < NPKT) {
		if (rte_pktmbuf_alloc_bulk(p->pools[0], m, BURST) != 0) {
			CHECK(!"pool exhausted: something leaks");
			break;
		}
		for (uint32_t i = 0; i < BURST; i++)
			stamp(m[i], seq < NPKT ? seq++ : NPKT);
		n = drv_fault_tx_burst(f, 0, m, BURST);
		CHECK(n == BURST);
		while ((n = drv_fault_rx_burst(f, 0, m, BURST)) > 0)
			for (uint16_t i = 0; i < n; i++)
				seen_one(r, seen, &max_seq, m[i]);
	}
	/* Quiet link: held packets leave by age (tx on empty bursts, rx on
	 * empty polls), then flush whatever is left. */
	for (int i = 0; i < 8; i++) {
		drv_fault_tx_burst(f, 0, NULL, 0);
		while ((n = drv_fault_rx_burst(f, 0, m, BURST)) > 0)
			for (uint16_t j = 0; j < n; j++)
				seen_one(r, seen, &max_seq, m[j]);
	}
	drv_fault_flush(f, 0);
	for (int i = 0; i < 8; i++)
		while ((n = drv_fault_rx_burst(f, 0, m, BURST)) > 0)
			for (uint16_t j = 0; j < n; j++)
				seen_one(r, seen, &max_seq, m[j]);
	drv_fault_stats(f, &r->st);
	drv_fault_destroy(f);
	free(seen);
	r->leaked += (int)rte_mempool_in_use_count(p->pools[0]);
}

/* |got - want| <= tol, as shares of total. */
static int near(uint64_t got, uint64_t total, double want, double tol)
{
	double share = (double)got / (double)total;

	return share >= want - tol && share <= want + tol;
}

static void check_dir(const struct run *r, const struct drv_fault_dir_stats *d)
{
	/* 5% drop, 25% reorder, 1% dup of what was offered */
	CHECK(d->in == (d == &r->st.rx ? r->st.tx.out : NPKT));
	CHECK(near(d->dropped, d->in, 0.05, 0.004));
	CHECK(near(d->reordered, d->in, 0.25, 0.006));
	CHECK(near(d->duplicated, d->in, 0.01, 0.002));
	CHECK(d->dup_failed == 0);
	CHECK(d->tx_full == 0);
	/* conservation: what left = what came in - dropped + copies */
	CHECK(d->out == d->in - d->dropped + d->duplicated);
	if (d->out != d->in - d->dropped + d->duplicated)
		fprintf(stderr, "in %llu out %llu dropped %llu dup %llu\n",
			(unsigned long long)d->in, (unsigned long long)d->out,
			(unsigned long long)d->dropped, (unsigned long long)d->duplicated);
}

/* A device that refuses packets: the wrapper frees and counts them. */
static void test_fault_full(const struct drv_port *p)
{
	enum { N = 1500 }; /* net_ring's ring takes 1023 */
	struct drv_fault_conf fc = { .seed = 7 };
	struct drv_fault_stats st;
	struct rte_mbuf *m[N], *rx[BURST];
	struct drv_fault *f;
	uint32_t got = 0;
	uint16_t n;

	f = drv_fault_create(p->port_id, 1, &fc, NULL, 0);
	if (!CHECK(f != NULL))
		return;
	if (!CHECK(rte_pktmbuf_alloc_bulk(p->pools[0], m, N) == 0)) {
		drv_fault_destroy(f);
		return;
	}
	CHECK_EQ(drv_fault_tx_burst(f, 0, m, N), N);
	drv_fault_stats(f, &st);
	CHECK(st.tx.tx_full > 0);
	CHECK_EQ(st.tx.out + st.tx.tx_full, N);
	while ((n = rte_eth_rx_burst(p->port_id, 0, rx, BURST)) > 0) {
		got += n;
		rte_pktmbuf_free_bulk(rx, n);
	}
	CHECK_EQ(got, st.tx.out);
	CHECK_EQ(drv_fault_tx_burst(f, 1, m, 1), 0); /* a queue it does not wrap */
	drv_fault_destroy(f);
	CHECK_EQ(rte_mempool_in_use_count(p->pools[0]), 0);
}

static void test_fault(void)
{
	struct drv_port_conf c = ring_conf("fault0", 1);
	struct drv_fault_conf fc;
	struct drv_port p;
	struct run a, b, x;
	char err[DRV_ERR_MAX] = "";

	c.mbufs = 4095;
	c.rx_desc = 1024; /* net_ring's ring holds 1024 anyway */
	c.tx_desc = 1024;
	if (drv_port_open(&p, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "fault port: %s\n", err);
		CHECK(0);
		return;
	}

	memset(&fc, 0, sizeof(fc));
	fc.rx.drop_ppm = 600000;
	fc.rx.reorder_ppm = 300000;
	fc.rx.dup_ppm = 100001;
	CHECK(drv_fault_create(p.port_id, 1, &fc, err, sizeof(err)) == NULL);
	CHECK_ERR(err, "rx drop + reorder + dup = 1000001 ppm");

	/* No faults: the order and count are the port's own. */
	memset(&fc, 0, sizeof(fc));
	run_faults(&p, &fc, &a);
	CHECK(a.received == NPKT && a.unique == NPKT && a.late == 0 && a.dups == 0);
	CHECK(a.leaked == 0);

	/* TX faults, then the same seed again, then another seed. */
	fc.seed = 42;
	fc.tx.drop_ppm = 50000;
	fc.tx.reorder_ppm = 250000;
	fc.tx.dup_ppm = 10000;
	run_faults(&p, &fc, &a);
	check_dir(&a, &a.st.tx);
	CHECK(a.unique == NPKT - a.st.tx.dropped);
	CHECK(a.dups == a.st.tx.duplicated);
	CHECK(a.received == a.st.tx.out);
	/* nearly every held packet arrives after a later one */
	CHECK(a.late <= a.st.tx.reordered && a.late >= a.st.tx.reordered * 97 / 100);
	CHECK(a.leaked == 0);
	run_faults(&p, &fc, &b);
	CHECK(a.order_hash == b.order_hash && a.received == b.received);
	CHECK(memcmp(&a.st, &b.st, sizeof(a.st)) == 0);
	fc.seed = 43;
	run_faults(&p, &fc, &x);
	CHECK(x.order_hash != a.order_hash);
	CHECK(x.leaked == 0);

	/* Both directions at once: RX sees TX's output. */
	fc.rx = fc.tx;
	run_faults(&p, &fc, &a);
	check_dir(&a, &a.st.tx);
	check_dir(&a, &a.st.rx);
	CHECK(a.received == a.st.rx.out);
	CHECK(a.leaked == 0);
	run_faults(&p, &fc, &b);
	CHECK(a.order_hash == b.order_hash);

	/* A small reorder buffer still bounds what is held, and frees it all. */
	fc.reorder_depth = 1;
	fc.tx.reorder_ppm = 900000;
	fc.tx.drop_ppm = 0;
	fc.rx = (struct drv_fault_dir){ 0, 0, 0 };
	run_faults(&p, &fc, &a);
	CHECK(a.unique == NPKT - a.st.tx.dropped && a.leaked == 0);

	test_fault_full(&p);
	drv_port_close(&p);
}

int main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = { argv[0],
			"--no-huge",
			"-m",
			"256",
			"--no-pci",
			"--no-shconf",
			"--no-telemetry",
			prefix,
			"-l",
			"0",
			"--vdev=net_ring0",
			"--log-level=lib.eal:error",
			"--log-level=pmd.*:error" };
	int n = (int)(sizeof(eal) / sizeof(eal[0]));
	char rundir[4096];

	(void)argc;
	/* --in-memory is refused next to --no-huge (DPDK 22.11); --no-shconf
	 * keeps the run free of shared files the same way. */
	snprintf(prefix, sizeof(prefix), "--file-prefix=test-drv-%d", (int)getpid());
	if (rte_eal_init(n, eal) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	test_ring_port();
	test_impossible();
	test_plan();
	test_fault();
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (rundir[0])
		rmdir(rundir); /* empty: nothing was shared */
	return check_done("drv");
}
