/*
 * load_dpdk_port.c — bulwark-load's dpdk mode: EAL, the port, the target's
 * MAC by ARP, and the loop (load_dpdk.c has the flows).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "load.h"
#include "load_dpdk.h"
#include "pkt.h"

static int port_setup(struct ld *d)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t pid, found = 0;

	RTE_ETH_FOREACH_DEV(pid)
	{
		d->port = pid;
		found = 1;
		break;
	}
	if (!found) {
		fprintf(stderr, "bulwark-load: no DPDK port (--vdev?)\n");
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_info_get(d->port, &info) != 0 || info.max_rx_queues < d->nq ||
	    info.max_tx_queues < d->nq) {
		fprintf(stderr, "bulwark-load: port %u: fewer than %u queues\n", d->port, d->nq);
		return -1;
	}
	if (rte_eth_dev_configure(d->port, d->nq, d->nq, &conf) != 0)
		goto fail;
	for (uint16_t q = 0; q < d->nq; q++)
		if (rte_eth_rx_queue_setup(d->port, q, 1024, (unsigned)rte_socket_id(), NULL,
					   d->pool) != 0 ||
		    rte_eth_tx_queue_setup(d->port, q, 1024, (unsigned)rte_socket_id(), NULL) != 0)
			goto fail;
	if (rte_eth_dev_start(d->port) != 0 || rte_eth_macaddr_get(d->port, &d->mac) != 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "bulwark-load: port %u setup: %s\n", d->port, rte_strerror(rte_errno));
	return -1;
}

/* Link up, then the target's MAC by ARP; -1 after 15 s. */
static int port_ready(struct ld *d)
{
	uint64_t end = rte_get_tsc_cycles() + 15 * rte_get_tsc_hz(), next = 0;
	struct rte_ether_addr none;
	struct rte_mbuf *pkts[LD_BURST];
	struct rte_eth_link link;

	memset(&none, 0, sizeof(none));
	while (rte_get_tsc_cycles() < end) {
		if (rte_eth_link_get_nowait(d->port, &link) == 0 && link.link_status)
			break;
		rte_delay_ms(10);
	}
	while (rte_get_tsc_cycles() < end) {
		if (!rte_is_same_ether_addr(&d->smac, &none))
			return 0;
		if (rte_get_tsc_cycles() >= next) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(d->pool);

			if (m != NULL)
				ld_tx_push(d, 0, pkt_arp(m, 0, &d->mac, NULL, d->gw, d->saddr));
			ld_tx_flush(d, 0);
			next = rte_get_tsc_cycles() + rte_get_tsc_hz() / 5;
		}
		for (uint16_t q = 0; q < d->nq; q++) {
			uint16_t n = rte_eth_rx_burst(d->port, q, pkts, LD_BURST);

			for (uint16_t i = 0; i < n; i++)
				ld_on_arp(d, pkts[i]);
		}
		ld_tx_flush(d, 0);
		rte_delay_us(100);
	}
	fprintf(stderr, "bulwark-load: no ARP reply from %s within 15 s (link %s)\n", d->o->host,
		link.link_status ? "up" : "down");
	return -1;
}

static int addr4(const char *s, uint32_t *a)
{
	return s != NULL && inet_pton(AF_INET, s, a) == 1 ? 0 : -1;
}

/* 198.18.0.0/15 only. */
static int bench_range(uint32_t host)
{
	return (host & 0xfffe0000u) == 0xc6120000u;
}

static int ld_init(struct ld *d, const struct load_opts *o, struct load_stats *st)
{
	uint32_t src;

	d->o = o;
	d->st = st;
	d->nq = (uint16_t)o->queues;
	d->per_us = rte_get_tsc_hz() / 1000000u;
	if (addr4(o->host, &d->saddr) != 0 || addr4(o->gw ? o->gw : "198.18.0.1", &d->gw) != 0 ||
	    addr4(o->src ? o->src : "198.19.128.0", &src) != 0) {
		fprintf(stderr, "bulwark-load: --host, --gw and --src take IPv4 addresses\n");
		return -1;
	}
	d->src = rte_be_to_cpu_32(src);
	if ((d->src & 0x7fffu) != 0 || !bench_range(d->src) || !bench_range(d->src | 0x7fffu) ||
	    !bench_range(rte_be_to_cpu_32(d->saddr))) {
		fprintf(stderr, "bulwark-load: --src must start a /17 and --host lie in "
				"198.18.0.0/15 (RFC 2544)\n");
		return -1;
	}
	if (o->conc > LD_SLOTS_MAX || load_body_len(o) + 3 > LD_SEND_MAX || d->nq > LD_QMAX) {
		fprintf(stderr,
			"bulwark-load: dpdk mode: --concurrency at most %u, --size at most "
			"%u, --queues at most %u\n",
			LD_SLOTS_MAX, LD_SEND_MAX - 83, LD_QMAX);
		return -1;
	}
	/* 4 frames per slot queued at once at most (a refilled wave of slots
	 * sends SYNs while the last wave's RSTs and ACKs wait) */
	uint32_t nmb = 65535;

	while (nmb < 4u * o->conc && nmb < 1048575u)
		nmb = nmb * 2 + 1;
	d->pool = rte_pktmbuf_pool_create("ld_pool", nmb, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	d->fl = calloc(o->conc, sizeof(*d->fl));
	d->free_sl = calloc(o->conc, sizeof(*d->free_sl));
	if (d->pool == NULL || d->fl == NULL || d->free_sl == NULL) {
		fprintf(stderr, "bulwark-load: out of memory\n");
		return -1;
	}
	for (uint32_t s = o->conc; s-- > 0;) {
		d->free_sl[d->n_free++] = s;
		d->fl[s].gen = (uint16_t)(rte_rdtsc() >> 24); /* see load_dpdk.c */
	}
	return port_setup(d) == 0 && port_ready(d) == 0 ? 0 : -1;
}

static void ld_loop(struct ld *d)
{
	const struct load_opts *o = d->o;
	struct load_stats *st = d->st;
	struct rte_mbuf *pkts[LD_BURST];
	uint64_t t_start = rte_rdtsc() / d->per_us, now = t_start, done = 0;
	uint64_t t_end = t_start + (uint64_t)(o->duration * 1e6);
	uint64_t t_hard = t_end + (uint64_t)o->timeout_ms * 3000u + o->idle_ms * 1000u +
			  (uint64_t)o->slow_ms * 1000u * 64u + 1000000u;
	uint64_t t_sweep = t_start, t_tick = t_start + 1000000u;
	int window_done = 0;

	for (;;) {
		now = rte_rdtsc() / d->per_us;
		d->now = (uint32_t)now;
		if (now < t_end) {
			uint64_t n =
			    o->rate > 0 ? (uint64_t)((double)(now - t_start) * o->rate / 1e6) - done
					: d->n_free;

			while (n > 0 && d->n_free > 0 && d->ntx[0] < LD_TXQ - 64) {
				ld_start(d);
				n--, done++;
			}
			if (o->rate > 0 && n > 0 && d->n_free == 0) {
				st->deferred += n;
				done += n;
			}
		} else {
			if (!window_done)
				st->ok_in_window = st->tot.oc[LO_OK];
			window_done = 1;
			if (st->in_flight == 0 || now >= t_hard)
				break;
		}
		for (uint16_t q = 0; q < d->nq; q++) {
			uint16_t n = rte_eth_rx_burst(d->port, q, pkts, LD_BURST);

			st->tot.pkts_rx += n;
			for (uint16_t i = 0; i < n; i++)
				ld_on_frame(d, pkts[i]);
		}
		for (uint16_t q = 0; q < d->nq; q++)
			if (d->ntx[q])
				ld_tx_flush(d, q);
		if (now - t_sweep >= 10000u) {
			ld_sweep(d);
			t_sweep = now;
		}
		if (now >= t_tick) {
			load_stats_tick(st, o, (double)(now - t_start) / 1e6);
			t_tick += 1000000u;
		}
	}
	for (uint32_t s = 0; s < o->conc; s++) /* past the hard deadline */
		if (d->fl[s].ph != F_FREE)
			ld_end(d, s, LO_TIMEOUT, NULL, 0);
	/* The last sweep's RSTs (held sessions end together: their slots were
	 * filled together) may not fit the port's ring at once: push them
	 * until sent, for up to 200 ms, or the target keeps those sessions
	 * open after the run (and the next run meets them in its limits).
	 * Then 100 ms more before the port closes: a memif peer drops what
	 * its ring still holds when the client goes. */
	for (uint64_t t_out = now + 200000u, t_quiet = 0;;) {
		uint32_t left = 0;

		for (uint16_t q = 0; q < d->nq; q++) {
			ld_tx_flush(d, q);
			left += d->ntx[q];
		}
		if (left == 0 && t_quiet == 0)
			t_quiet = rte_rdtsc() / d->per_us + 100000u;
		if ((left == 0 && rte_rdtsc() / d->per_us >= t_quiet) ||
		    rte_rdtsc() / d->per_us >= t_out + 100000u) {
			d->tx_drop += left;
			for (uint16_t q = 0; q < d->nq; q++) {
				rte_pktmbuf_free_bulk(d->txq[q], d->ntx[q]);
				d->ntx[q] = 0;
			}
			break;
		}
		for (uint16_t q = 0; q < d->nq; q++) { /* what the target answers */
			uint16_t n = rte_eth_rx_burst(d->port, q, pkts, LD_BURST);

			rte_pktmbuf_free_bulk(pkts, n);
		}
		rte_delay_us(20);
	}
	st->elapsed = (double)(now - t_start) / 1e6;
	load_stats_tick(st, o, st->elapsed);
}

int load_dpdk_run(const struct load_opts *o, struct load_stats *st, int argc, char **argv)
{
	static struct ld d;
	char prefix[64], vdev[512];
	char *eal[64];
	int n = 0, lcores = 0;

	if (o->eal == NULL) {
		fprintf(stderr, "bulwark-load: --mode dpdk needs --vdev DEVARGS (no PCI device is "
				"ever used)\n");
		return 1;
	}
	for (int i = 1; i < argc; i++)
		lcores |= strcmp(argv[i], "-l") == 0 || strncmp(argv[i], "--lcores", 8) == 0;
	snprintf(prefix, sizeof(prefix), "--file-prefix=bw-load-%d", (int)getpid());
	snprintf(vdev, sizeof(vdev), "--vdev=%s", o->eal);
	eal[n++] = (char *)"bulwark-load";
	eal[n++] = (char *)"--no-pci";
	eal[n++] = (char *)"--in-memory";
	eal[n++] = prefix;
	eal[n++] = vdev;
	eal[n++] = (char *)"--no-telemetry";
	eal[n++] = (char *)"--log-level=lib.eal:warning";
	if (!lcores) {
		eal[n++] = (char *)"-l";
		eal[n++] = (char *)"0";
	}
	for (int i = 1; i < argc && n < (int)RTE_DIM(eal) - 1; i++)
		eal[n++] = argv[i];
	eal[n] = NULL;
	if (rte_eal_init(n, eal) < 0) {
		fprintf(stderr, "bulwark-load: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (ld_init(&d, o, st) != 0) {
		rte_eal_cleanup();
		return 1;
	}
	printf("bulwark-load: dpdk mode on port %u (%s), lcore %u, %u queue(s), to %s:%u from "
	       "%s/17, %s\n",
	       d.port, o->eal, rte_lcore_id(), d.nq, o->host, o->port,
	       o->src ? o->src : "198.19.128.0", load_plan(o));
	ld_loop(&d);
	printf("frames: stale %lu, dropped at tx %lu; sessions ok whose last ACK (of our FIN) "
	       "never came: %lu\n",
	       (unsigned long)d.stale, (unsigned long)d.tx_drop, (unsigned long)d.fin_unacked);
	rte_eth_dev_stop(d.port);
	rte_eth_dev_close(d.port);
	rte_eal_cleanup();
	return 0;
}
