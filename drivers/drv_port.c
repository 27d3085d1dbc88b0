/*
 * drv_port.c — port bring-up: probe, check against capabilities, configure,
 * queues, pools, start, link.
 *
 * Why virtual devices never get RSS or offloads even when their PMD claims
 * them: net_null advertises RSS it cannot do, net_tap's RSS needs an eBPF
 * program loaded into the kernel and its "offloads" are software checksums
 * done inside the PMD. The peer picks the queue on those devices, and the
 * worker's own checksum code is the one that is tested.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "drv.h"

#define DRV_DEFAULT_DESC        1024
#define DRV_DEFAULT_MBUFS       8191
#define DRV_DEFAULT_MTU         1500
#define DRV_RSS_KEY_DEFAULT_LEN 40
/* Ethernet header, CRC and two VLAN tags on top of the MTU. */
#define DRV_FRAME_OVERHEAD (RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 2 * 4)

#define DRV_RSS_TCP4 (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP)
#define DRV_RSS_TCP6 (RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_TCP)

void drv_log_stderr(void *arg, int level, const char *line)
{
	(void)arg;
	fprintf(stderr, "drv: %s%s\n", level <= DRV_LOG_ERR ? "error: " : "", line);
}

__attribute__((format(printf, 4, 5))) static void plog(drv_log_fn *fn, void *arg, int level,
						       const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	(fn ? fn : drv_log_stderr)(arg, level, line);
}

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int rc,
						      const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void drv_rss_key_symmetric(uint8_t *key, size_t len)
{
	for (size_t i = 0; i < len; i++)
		key[i] = (i & 1) ? 0x5a : 0x6d;
}

static uint16_t clamp_desc(uint16_t want, const struct rte_eth_desc_lim *lim)
{
	uint32_t d = want ? want : DRV_DEFAULT_DESC;

	if (lim->nb_max && d > lim->nb_max)
		d = lim->nb_max;
	if (d < lim->nb_min)
		d = lim->nb_min;
	if (lim->nb_align > 1)
		d = (d + lim->nb_align - 1) / lim->nb_align * lim->nb_align;
	return (uint16_t)d;
}

static int plan_rss(struct drv_port *p, const struct drv_port_conf *c,
		    const struct rte_eth_dev_info *info, int is_virtual, struct rte_eth_conf *ec,
		    uint8_t *rss_key, char *err, size_t errlen)
{
	uint64_t caps = info->flow_type_rss_offloads, want, flags = 0;
	size_t key_len;

	if (c->rss == DRV_OFF)
		return 0;
	if (is_virtual) {
		if (c->rss == DRV_ON)
			return fail(err, errlen, -ENOTSUP,
				    "port %s: rss = true, but %s (%s) is a virtual device without "
				    "RSS (the peer picks the queue); set rss = false or \"auto\"",
				    p->name, p->devname, p->driver);
		return 0;
	}
	if (!(caps & DRV_RSS_TCP4)) {
		if (c->rss == DRV_ON)
			return fail(err, errlen, -ENOTSUP,
				    "port %s: rss = true, but %s (%s) cannot hash TCP/IPv4 flows",
				    p->name, p->devname, p->driver);
		return 0;
	}
	switch (c->rss_hash) {
	case DRV_RSS_SRC_L4:
		flags = RTE_ETH_RSS_L3_SRC_ONLY | RTE_ETH_RSS_L4_SRC_ONLY;
		want = DRV_RSS_TCP4 | DRV_RSS_TCP6;
		break;
	case DRV_RSS_SRC_ADDR:
		flags = RTE_ETH_RSS_L3_SRC_ONLY;
		want = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_IPV6;
		break;
	default:
		want = DRV_RSS_TCP4 | DRV_RSS_TCP6;
		break;
	}
	if ((caps & flags) != flags)
		return fail(err, errlen, -ENOTSUP,
			    "port %s: rss_hash on the source only, but %s (%s) cannot restrict "
			    "its hash to source fields; use rss_hash = \"l4\"",
			    p->name, p->devname, p->driver);
	if (!(caps & want & (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP)))
		return fail(err, errlen, -ENOTSUP,
			    "port %s: rss_hash asks for fields %s (%s) cannot hash", p->name,
			    p->devname, p->driver);

	key_len = info->hash_key_size ? info->hash_key_size : DRV_RSS_KEY_DEFAULT_LEN;
	if (key_len > DRV_RSS_KEY_MAX)
		return fail(err, errlen, -ENOTSUP, "port %s: %s wants a %zu-byte RSS key (max %d)",
			    p->name, p->driver, key_len, DRV_RSS_KEY_MAX);
	if (c->rss_key) {
		if (c->rss_key_len != key_len)
			return fail(err, errlen, -EINVAL,
				    "port %s: rss_key has %u bytes, %s (%s) needs %zu", p->name,
				    c->rss_key_len, p->devname, p->driver, key_len);
		memcpy(rss_key, c->rss_key, key_len);
	} else {
		drv_rss_key_symmetric(rss_key, key_len);
	}
	ec->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	ec->rx_adv_conf.rss_conf.rss_key = rss_key;
	ec->rx_adv_conf.rss_conf.rss_key_len = (uint8_t)key_len;
	ec->rx_adv_conf.rss_conf.rss_hf = (want & caps) | flags;
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_RSS_HASH)
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_RSS_HASH;
	p->rss_hf = ec->rx_adv_conf.rss_conf.rss_hf;
	p->hw |= DRV_HW_RSS;
	return 0;
}

static int plan_csum(struct drv_port *p, const struct drv_port_conf *c,
		     const struct rte_eth_dev_info *info, int is_virtual, struct rte_eth_conf *ec,
		     char *err, size_t errlen)
{
	static const struct {
		uint64_t capa;
		uint32_t hw;
		int tx;
		const char *what;
	} offl[] = {
		{ RTE_ETH_RX_OFFLOAD_IPV4_CKSUM, DRV_HW_RX_IPV4_CKSUM, 0, "RX IPv4 checksum" },
		{ RTE_ETH_RX_OFFLOAD_TCP_CKSUM, DRV_HW_RX_TCP_CKSUM, 0, "RX TCP checksum" },
		{ RTE_ETH_TX_OFFLOAD_IPV4_CKSUM, DRV_HW_TX_IPV4_CKSUM, 1, "TX IPv4 checksum" },
		{ RTE_ETH_TX_OFFLOAD_TCP_CKSUM, DRV_HW_TX_TCP_CKSUM, 1, "TX TCP checksum" },
	};

	if (c->csum == DRV_OFF)
		return 0;
	if (is_virtual) {
		if (c->csum == DRV_ON)
			return fail(err, errlen, -ENOTSUP,
				    "port %s: csum_offload = true, but %s (%s) is a virtual device "
				    "without checksum offloads; set csum_offload = \"auto\"",
				    p->name, p->devname, p->driver);
		return 0;
	}
	for (size_t i = 0; i < sizeof(offl) / sizeof(offl[0]); i++) {
		uint64_t capa = offl[i].tx ? info->tx_offload_capa : info->rx_offload_capa;

		if (!(capa & offl[i].capa)) {
			if (c->csum == DRV_ON)
				return fail(
				    err, errlen, -ENOTSUP,
				    "port %s: csum_offload = true, but %s (%s) lacks the %s "
				    "offload",
				    p->name, p->devname, p->driver, offl[i].what);
			continue;
		}
		if (offl[i].tx)
			ec->txmode.offloads |= offl[i].capa;
		else
			ec->rxmode.offloads |= offl[i].capa;
		p->hw |= offl[i].hw;
	}
	return 0;
}

int drv_port_plan(struct drv_port *p, const struct drv_port_conf *c,
		  const struct rte_eth_dev_info *info, int is_virtual, struct rte_eth_conf *ec,
		  uint8_t *rss_key, char *err, size_t errlen)
{
	uint32_t mtu = c->mtu ? c->mtu : DRV_DEFAULT_MTU;
	int rc;

	memset(ec, 0, sizeof(*ec));
	p->hw = 0;
	p->rss_hf = 0;
	p->is_virtual = is_virtual ? 1 : 0;
	if (c->n_queues == 0 || c->n_queues > DRV_MAX_QUEUES)
		return fail(err, errlen, -EINVAL, "port %s: %u queues asked, must be 1..%d",
			    p->name, c->n_queues, DRV_MAX_QUEUES);
	if (c->n_queues > info->max_rx_queues || c->n_queues > info->max_tx_queues)
		return fail(err, errlen, -ENOTSUP,
			    "port %s: %u queues asked (one per worker), but %s (%s) supports at "
			    "most %u RX and %u TX queues",
			    p->name, c->n_queues, p->devname, p->driver, info->max_rx_queues,
			    info->max_tx_queues);
	p->n_queues = c->n_queues;
	if (mtu < info->min_mtu || mtu > info->max_mtu)
		return fail(err, errlen, -ENOTSUP, "port %s: mtu %u, but %s (%s) supports %u..%u",
			    p->name, mtu, p->devname, p->driver, info->min_mtu, info->max_mtu);
	/* ethdev checks frame length against max_rx_pktlen with this overhead */
	if (info->max_rx_pktlen) {
		uint32_t over = (info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu)
				    ? info->max_rx_pktlen - info->max_mtu
				    : RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;

		if (mtu + over > info->max_rx_pktlen)
			return fail(err, errlen, -ENOTSUP,
				    "port %s: mtu %u needs %u-byte frames, but %s (%s) takes at "
				    "most %u",
				    p->name, mtu, mtu + over, p->devname, p->driver,
				    info->max_rx_pktlen);
	}
	p->mtu = (uint16_t)mtu;
	ec->rxmode.mtu = mtu;
	p->rx_desc = clamp_desc(c->rx_desc, &info->rx_desc_lim);
	p->tx_desc = clamp_desc(c->tx_desc, &info->tx_desc_lim);
	if (mtu + DRV_FRAME_OVERHEAD > RTE_MBUF_DEFAULT_DATAROOM &&
	    (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) && !is_virtual)
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;

	rc = plan_rss(p, c, info, is_virtual, ec, rss_key, err, errlen);
	if (rc)
		return rc;
	rc = plan_csum(p, c, info, is_virtual, ec, err, errlen);
	if (rc)
		return rc;
	p->sw_cksum = 0;
	if ((p->hw & (DRV_HW_RX_IPV4_CKSUM | DRV_HW_RX_TCP_CKSUM)) !=
	    (DRV_HW_RX_IPV4_CKSUM | DRV_HW_RX_TCP_CKSUM))
		p->sw_cksum |= DRV_SW_RX_CKSUM;
	if ((p->hw & (DRV_HW_TX_IPV4_CKSUM | DRV_HW_TX_TCP_CKSUM)) !=
	    (DRV_HW_TX_IPV4_CKSUM | DRV_HW_TX_TCP_CKSUM))
		p->sw_cksum |= DRV_SW_TX_CKSUM;
	return 0;
}

/* Finds (or hot-plugs) the ethdev for c; fills p->port_id, devname. */
static int resolve(struct drv_port *p, const struct drv_port_conf *c, char *err, size_t errlen)
{
	const char *src = c->devargs ? c->devargs : c->name;
	size_t n = strcspn(src, ",");
	int rc;

	if (n == 0 || n >= sizeof(p->devname))
		return fail(err, errlen, -EINVAL, "port %s: bad device name in \"%s\"", p->name,
			    src);
	memcpy(p->devname, src, n);
	p->devname[n] = '\0';
	if (rte_eth_dev_get_port_by_name(p->devname, &p->port_id) == 0)
		return 0;
	if (!c->devargs)
		return fail(err, errlen, -ENODEV, "port %s: no DPDK device named %s", p->name,
			    p->devname);
	rc = rte_dev_probe(c->devargs);
	if (rc < 0 && rc != -EEXIST)
		return fail(err, errlen, rc, "port %s: cannot probe \"%s\": %s%s", p->name,
			    c->devargs, strerror(-rc),
			    strncmp(c->devargs, "net_tap", 7) == 0 ? " (net_tap needs root)" : "");
	/* rte_dev_probe also returns 0 for a device probed before whose ethdev
	 * was closed (DPDK releases it): only a new ethdev is ours to remove. */
	if (rte_eth_dev_get_port_by_name(p->devname, &p->port_id) != 0)
		return fail(err, errlen, -ENODEV,
			    "port %s: \"%s\" probed, but no ethdev named %s exists (a typo in "
			    "the name, or a device closed before)",
			    p->name, c->devargs, p->devname);
	p->hotplugged = 1;
	return 0;
}

static int make_pools(struct drv_port *p, const struct drv_port_conf *c, char *err, size_t errlen)
{
	uint32_t mbufs = c->mbufs ? c->mbufs : DRV_DEFAULT_MBUFS;
	uint32_t per_pool = c->pool_per_queue ? 1 : p->n_queues;
	uint32_t need = per_pool * ((uint32_t)p->rx_desc + p->tx_desc + 64);
	uint32_t cache = c->mbuf_cache ? c->mbuf_cache : 256;
	uint32_t room = RTE_MBUF_DEFAULT_BUF_SIZE;
	int socket = rte_eth_dev_socket_id(p->port_id);

	if (mbufs < need)
		return fail(err, errlen, -EINVAL,
			    "port %s: mbufs = %u per pool is too few for %u queue(s) of %u RX + %u "
			    "TX descriptors (need >= %u)",
			    p->name, mbufs, per_pool, p->rx_desc, p->tx_desc, need);
	if (cache > RTE_MEMPOOL_CACHE_MAX_SIZE)
		cache = RTE_MEMPOOL_CACHE_MAX_SIZE;
	if (cache > mbufs / 8)
		cache = mbufs / 8;
	if ((uint32_t)p->mtu + DRV_FRAME_OVERHEAD + RTE_PKTMBUF_HEADROOM > room)
		room = (uint32_t)p->mtu + DRV_FRAME_OVERHEAD + RTE_PKTMBUF_HEADROOM;
	if (socket < 0)
		socket = SOCKET_ID_ANY;
	p->n_pools = c->pool_per_queue ? p->n_queues : 1;
	for (uint16_t i = 0; i < p->n_pools; i++) {
		char name[RTE_MEMPOOL_NAMESIZE];

		snprintf(name, sizeof(name), "drv%u_%u", p->port_id, i);
		p->pools[i] =
		    rte_pktmbuf_pool_create(name, mbufs, cache, 0, (uint16_t)room, socket);
		if (!p->pools[i])
			return fail(
			    err, errlen, -rte_errno,
			    "port %s: cannot create mbuf pool %s (%u mbufs of %u bytes): %s",
			    p->name, name, mbufs, room, rte_strerror(rte_errno));
	}
	for (uint16_t q = p->n_pools; q < p->n_queues; q++)
		p->pools[q] = p->pools[0];
	return 0;
}

static int setup_queues(struct drv_port *p, const struct rte_eth_conf *ec,
			const struct rte_eth_dev_info *info, char *err, size_t errlen)
{
	struct rte_eth_rxconf rxc = info->default_rxconf;
	struct rte_eth_txconf txc = info->default_txconf;
	int socket = rte_eth_dev_socket_id(p->port_id);
	int rc;

	if (socket < 0)
		socket = SOCKET_ID_ANY;
	rxc.offloads = ec->rxmode.offloads;
	txc.offloads = ec->txmode.offloads;
	for (uint16_t q = 0; q < p->n_queues; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, p->rx_desc, (unsigned)socket, &rxc,
					    p->pools[q]);
		if (rc < 0)
			return fail(err, errlen, rc, "port %s: RX queue %u (%u descriptors): %s",
				    p->name, q, p->rx_desc, strerror(-rc));
		rc = rte_eth_tx_queue_setup(p->port_id, q, p->tx_desc, (unsigned)socket, &txc);
		if (rc < 0)
			return fail(err, errlen, rc, "port %s: TX queue %u (%u descriptors): %s",
				    p->name, q, p->tx_desc, strerror(-rc));
	}
	return 0;
}

int drv_port_open(struct drv_port *p, const struct drv_port_conf *c, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf ec;
	uint8_t rss_key[DRV_RSS_KEY_MAX];
	uint16_t rxd, txd;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	int rc;

	memset(p, 0, sizeof(*p));
	p->log = c->log;
	p->log_arg = c->log_arg;
	snprintf(p->name, sizeof(p->name), "%s", c->name ? c->name : "?");
	if (!c->name || !*c->name)
		return fail(err, errlen, -EINVAL, "port: no name");
	rc = resolve(p, c, err, errlen);
	if (rc) {
		p->devname[0] = '\0'; /* nothing to close */
		return rc;
	}
	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc) {
		fail(err, errlen, rc, "port %s: cannot read device info of %s: %s", p->name,
		     p->devname, strerror(-rc));
		goto out_close;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name ? info.driver_name : "?");
	p->dev = info.device;
	rc = drv_port_plan(
	    p, c, &info, info.device && strcmp(rte_bus_name(rte_dev_bus(info.device)), "vdev") == 0,
	    &ec, rss_key, err, errlen);
	if (rc)
		goto out_close;
	if (p->n_queues > 1 && !(p->hw & DRV_HW_RSS) && !p->is_virtual)
		plog(p->log, p->log_arg, DRV_LOG_WARN,
		     "port=%s warning=\"%u queues without RSS: only queue 0 receives\"", p->name,
		     p->n_queues);
	rc = rte_eth_dev_configure(p->port_id, p->n_queues, p->n_queues, &ec);
	if (rc < 0) {
		fail(err, errlen, rc, "port %s: %s (%s) refused its configuration: %s", p->name,
		     p->devname, p->driver, strerror(-rc));
		goto out_close;
	}
	rxd = p->rx_desc;
	txd = p->tx_desc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rxd, &txd);
	if (rc < 0) {
		fail(err, errlen, rc, "port %s: descriptor counts: %s", p->name, strerror(-rc));
		goto out_close;
	}
	p->rx_desc = rxd;
	p->tx_desc = txd;
	rc = make_pools(p, c, err, errlen);
	if (rc)
		goto out_close;
	rc = setup_queues(p, &ec, &info, err, errlen);
	if (rc)
		goto out_close;
	/* The MTU went in with the configuration; drivers that hold it
	 * elsewhere (tap: the kernel interface) take it here. */
	rc = rte_eth_dev_set_mtu(p->port_id, p->mtu);
	if (rc < 0 && rc != -ENOTSUP) {
		fail(err, errlen, rc, "port %s: mtu %u: %s", p->name, p->mtu, strerror(-rc));
		goto out_close;
	}
	rte_eth_macaddr_get(p->port_id, &p->mac);
	if (c->promisc) {
		rc = rte_eth_promiscuous_enable(p->port_id);
		if (rc < 0 && rc != -ENOTSUP) {
			fail(err, errlen, rc, "port %s: promiscuous mode: %s", p->name,
			     strerror(-rc));
			goto out_close;
		}
	}
	rc = rte_eth_dev_start(p->port_id);
	if (rc < 0) {
		fail(err, errlen, rc, "port %s: cannot start %s (%s): %s", p->name, p->devname,
		     p->driver, strerror(-rc));
		goto out_close;
	}
	p->started = 1;
	rte_ether_format_addr(mac, sizeof(mac), &p->mac);
	plog(p->log, p->log_arg, DRV_LOG_INFO,
	     "port=%s dev=%s driver=%s id=%u virtual=%s queues=%u rxd=%u txd=%u mtu=%u mac=%s "
	     "rss=%s rss_hf=0x%llx csum_rx=%s csum_tx=%s pools=%u",
	     p->name, p->devname, p->driver, p->port_id, p->is_virtual ? "yes" : "no", p->n_queues,
	     p->rx_desc, p->tx_desc, p->mtu, mac, (p->hw & DRV_HW_RSS) ? "on" : "off",
	     (unsigned long long)p->rss_hf, (p->sw_cksum & DRV_SW_RX_CKSUM) ? "sw" : "hw",
	     (p->sw_cksum & DRV_SW_TX_CKSUM) ? "sw" : "hw", p->n_pools);
	drv_port_link_log(p, c->link_wait_ms);
	return 0;

out_close:
	drv_port_close(p);
	return rc;
}

void drv_port_close(struct drv_port *p)
{
	if (!p->devname[0])
		return;
	if (p->started)
		rte_eth_dev_stop(p->port_id);
	p->started = 0;
	if (p->hotplugged && p->dev) {
		/* Removing the device closes its ethdev(s) too. */
		rte_dev_remove(p->dev);
	} else if (rte_eth_dev_is_valid_port(p->port_id)) {
		rte_eth_dev_close(p->port_id);
	}
	p->hotplugged = 0;
	p->dev = NULL;
	for (uint16_t i = 0; i < p->n_pools; i++)
		rte_mempool_free(p->pools[i]);
	memset(p->pools, 0, sizeof(p->pools));
	p->n_pools = 0;
	p->devname[0] = '\0';
}

int drv_port_link_log(const struct drv_port *p, uint32_t wait_ms)
{
	struct rte_eth_link link;
	uint32_t waited = 0;

	for (;;) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(p->port_id, &link) < 0)
			break;
		if (link.link_status == RTE_ETH_LINK_UP || waited >= wait_ms)
			break;
		rte_delay_ms(10);
		waited += 10;
	}
	plog(p->log, p->log_arg, link.link_status ? DRV_LOG_INFO : DRV_LOG_WARN,
	     "port=%s link=%s speed_mbps=%u duplex=%s autoneg=%s", p->name,
	     link.link_status ? "up" : "down", link.link_speed, link.link_duplex ? "full" : "half",
	     link.link_autoneg ? "on" : "off");
	return link.link_status == RTE_ETH_LINK_UP;
}
