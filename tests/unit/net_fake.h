/*
 * net_fake.h — the fake port, virtual clock, scripted client and toy app
 * shared by the tests of proxy/net (included by one test .c each; every
 * function is static).
 *
 * The endpoint transmits into fake.tx[] (the test owns those mbufs and
 * fake_clear() frees them); the client builds Ethernet/IPv4/TCP frames and
 * feeds them with fake_rx(). Nothing touches a NIC: the EAL runs without
 * hugepages and PCI.
 */
#ifndef BULWARK_NET_FAKE_H
#define BULWARK_NET_FAKE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "check.h"
#include "net.h"

/* Each test uses part of this harness. */
#pragma GCC diagnostic ignored "-Wunused-function"

#define FAKE_TX_MAX 512
#define FAKE_APPS   16

static const uint8_t srv_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t cli_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
/* RTE_IPV4 shifts an int into the sign bit (UBSan flags it for 198.x). */
#define IP4(a, b, c, d)                                                                            \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define SRV_IP RTE_BE32(IP4(198, 18, 0, 1))
#define CLI_IP RTE_BE32(IP4(198, 18, 0, 2))

struct app {
	struct tcp_conn *c;
	int used;
	uint8_t in[1 << 16];
	size_t inlen;
	int mode; /* 0 take all, 1 whole lines only, 2 take nothing */
	int fin, closed, why, writable;
	unsigned calls;
};

struct fake {
	struct rte_mempool *mp;
	struct net_ctx *ctx;
	uint64_t now;
	struct rte_mbuf *tx[FAKE_TX_MAX];
	unsigned ntx;
	struct app apps[FAKE_APPS];
	int refuse;                   /* accept returns -1 */
	const char *greet;            /* sent on accept */
	int close_in_recv;            /* net_close from inside recv */
	int abort_in_recv;            /* net_abort from inside recv */
	struct tcp_conn *abort_other; /* aborted from inside the next recv */
	int close_in_accept;          /* greet, then net_close from inside accept */
	int abort_in_accept;
	int resume_in_recv;         /* mode 2: switch to mode 0 and net_resume */
	struct tcp_conn *conn_last; /* the last accepted */
	int mode;                   /* new apps' mode */
};

static struct fake F;
static uint32_t fake_cli_ip = CLI_IP; /* source of tcp_frame() */

/* A frame the endpoint sent, decoded. */
struct pkt {
	uint16_t etype;
	uint8_t dmac[6];
	uint32_t src, dst;
	uint8_t proto;
	int ip_ok, l4_ok;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint16_t mss;
	int ws; /* -1 absent */
	int ts;
	uint32_t tsval, tsecr;
	int sackok;
	const uint8_t *data;
	uint32_t len;
	struct rte_mbuf *m;
};

/* ---- the port ------------------------------------------------------------ */

static struct rte_mbuf *fake_alloc(void *arg)
{
	struct fake *f = arg;

	return rte_pktmbuf_alloc(f->mp);
}

static void fake_xmit(void *arg, struct rte_mbuf *m)
{
	struct fake *f = arg;

	if (f->ntx == FAKE_TX_MAX) {
		rte_pktmbuf_free(m);
		return;
	}
	f->tx[f->ntx++] = m;
}

static void fake_clear(void)
{
	for (unsigned i = 0; i < F.ntx; i++)
		rte_pktmbuf_free(F.tx[i]);
	F.ntx = 0;
}

/* ---- the app ------------------------------------------------------------- */

static struct app *app_of(struct tcp_conn *c)
{
	return net_conn_app(c);
}

static int app_accept(void *arg, struct tcp_conn *c, uint16_t lport, uint64_t now)
{
	struct fake *f = arg;

	(void)lport;
	f->conn_last = c;
	if (f->refuse)
		return -1;
	for (int i = 0; i < FAKE_APPS; i++) {
		struct app *a = &f->apps[i];

		if (a->used)
			continue;
		memset(a, 0, sizeof(*a));
		a->used = 1;
		a->c = c;
		a->mode = f->mode;
		net_conn_set_app(c, a);
		if (f->greet != NULL)
			net_send(f->ctx, c, f->greet, strlen(f->greet), now);
		if (f->close_in_accept) {
			a->used = 0;
			net_close(f->ctx, c, now);
		}
		if (f->abort_in_accept) {
			a->used = 0;
			net_abort(f->ctx, c, now);
		}
		return 0;
	}
	return -1;
}

static size_t app_recv(void *arg, struct tcp_conn *c, const uint8_t *p, size_t len, uint64_t now)
{
	struct fake *f = arg;
	struct app *a = app_of(c);
	size_t take = len;

	a->calls++;
	if (a->mode == 2 && f->resume_in_recv) {
		f->resume_in_recv = 0;
		a->mode = 0;
		net_resume(f->ctx, c, now);
		return 0;
	}
	if (a->mode == 2)
		return 0;
	if (a->mode == 1) {
		take = 0;
		for (size_t i = 0; i < len; i++)
			if (p[i] == '\n')
				take = i + 1;
	}
	if (a->inlen + take > sizeof(a->in))
		take = sizeof(a->in) - a->inlen;
	memcpy(a->in + a->inlen, p, take);
	a->inlen += take;
	if (f->close_in_recv && take != 0) {
		a->used = 0;
		net_close(f->ctx, c, now);
	}
	if (f->abort_in_recv && take != 0) {
		a->used = 0;
		net_abort(f->ctx, c, now);
	}
	if (f->abort_other != NULL) {
		struct app *o = app_of(f->abort_other);

		o->used = 0;
		net_abort(f->ctx, f->abort_other, now);
		f->abort_other = NULL;
	}
	return take;
}

static void app_peer_fin(void *arg, struct tcp_conn *c, uint64_t now)
{
	(void)arg;
	(void)now;
	app_of(c)->fin = 1;
}

static void app_closed(void *arg, struct tcp_conn *c, enum net_close_reason why, uint64_t now)
{
	struct app *a = app_of(c);

	(void)arg;
	(void)now;
	a->closed = 1;
	a->why = why;
	a->c = NULL;
}

static void app_writable(void *arg, struct tcp_conn *c, uint64_t now)
{
	(void)arg;
	(void)now;
	app_of(c)->writable++;
}

/* ---- setup --------------------------------------------------------------- */

static void fake_eal(void)
{
	char prefix[64];
	/* --in-memory is refused next to --no-huge (DPDK 22.11: it implies
	 * legacy memory); --no-shconf keeps the run free of shared files. */
	char *argv[] = { "test",
			 "--no-huge",
			 "-m",
			 "128",
			 "--no-pci",
			 "--no-shconf",
			 "--no-telemetry",
			 prefix,
			 "-l",
			 "0",
			 "--log-level=lib.eal:error",
			 NULL };

	snprintf(prefix, sizeof(prefix), "--file-prefix=test-net-%d", (int)getpid());
	if (rte_eal_init(11, argv) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		exit(1);
	}
	F.mp = rte_pktmbuf_pool_create("test_mp", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (F.mp == NULL) {
		fprintf(stderr, "mbuf pool failed\n");
		exit(1);
	}
}

/* Tears everything down (checking that no mbuf leaked), removes the EAL's
 * empty runtime directory, and returns check_done(name). */
static int fake_finish(const char *name)
{
	char rundir[4096];

	fake_clear();
	net_destroy(F.ctx);
	F.ctx = NULL;
	CHECK_EQ(rte_mempool_in_use_count(F.mp), 0);
	rte_mempool_free(F.mp);
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (rundir[0])
		rmdir(rundir); /* empty: nothing was shared */
	return check_done(name);
}

static void fake_cfg(struct net_cfg *cfg)
{
	net_cfg_defaults(cfg);
	memcpy(cfg->mac, srv_mac, 6);
	cfg->addrs[0] = SRV_IP;
	cfg->n_addrs = 1;
	cfg->ports[0] = 25;
	cfg->n_ports = 1;
	cfg->max_conns = 64;
	cfg->max_halfopen = 16;
	cfg->max_tw = 16;
	cfg->n_bufs = 64;
	cfg->name = "t";
}

static void fake_start(const struct net_cfg *cfg)
{
	struct net_ops ops = {
		.arg = &F,
		.alloc = fake_alloc,
		.xmit = fake_xmit,
		.accept = app_accept,
		.recv = app_recv,
		.peer_fin = app_peer_fin,
		.closed = app_closed,
		.writable = app_writable,
	};
	const char *why = NULL;

	fake_clear();
	net_destroy(F.ctx);
	memset(F.apps, 0, sizeof(F.apps));
	F.refuse = 0;
	F.greet = NULL;
	F.close_in_recv = 0;
	F.abort_in_recv = 0;
	F.abort_other = NULL;
	F.close_in_accept = 0;
	F.abort_in_accept = 0;
	F.resume_in_recv = 0;
	F.mode = 0;
	F.now = 1000000;
	F.ctx = net_create(cfg, &ops, F.now, &why);
	if (F.ctx == NULL) {
		fprintf(stderr, "net_create: %s\n", why);
		exit(1);
	}
}

static void fake_default(void)
{
	struct net_cfg cfg;

	fake_cfg(&cfg);
	fake_start(&cfg);
}

static void fake_rx(struct rte_mbuf *m)
{
	net_rx(F.ctx, &m, 1, F.now);
}

/* Advances the virtual clock to t, running every timer on the way. */
static void fake_run_to(uint64_t t)
{
	for (;;) {
		uint64_t next = net_timers(F.ctx, F.now);

		if (next > t)
			break;
		if (next > F.now)
			F.now = next;
		else if (F.now >= t)
			break;
		else
			F.now++;
	}
	F.now = t;
	net_timers(F.ctx, F.now);
}

static const struct net_stats *ST(void)
{
	return net_stats(F.ctx);
}

/* ---- frames -------------------------------------------------------------- */

static struct rte_mbuf *frame(size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(F.mp);

	if (m == NULL || rte_pktmbuf_append(m, (uint16_t)len) == NULL) {
		fprintf(stderr, "test mbuf pool empty\n");
		exit(1);
	}
	memset(rte_pktmbuf_mtod(m, void *), 0, len);
	return m;
}

static struct rte_ipv4_hdr *eth_ip(struct rte_mbuf *m, uint32_t src, uint32_t dst, uint8_t proto,
				   size_t l4len)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);

	memcpy(eh->dst_addr.addr_bytes, srv_mac, 6);
	memcpy(eh->src_addr.addr_bytes, cli_mac, 6);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4len));
	ip->packet_id = 0;
	ip->fragment_offset = 0;
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return ip;
}

/* A client-side TCP segment from CLI_IP:sport to SRV_IP:dport. */
static struct rte_mbuf *tcp_frame(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
				  uint32_t ack, uint16_t wnd, const uint8_t *opts, size_t optlen,
				  const void *data, size_t len)
{
	size_t thl = 20 + ((optlen + 3) & ~(size_t)3);
	struct rte_mbuf *m = frame(14 + 20 + thl + len);
	struct rte_ipv4_hdr *ip = eth_ip(m, fake_cli_ip, SRV_IP, IPPROTO_TCP, thl + len);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(dport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)((thl / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	if (optlen)
		memcpy(th + 1, opts, optlen);
	if (len)
		memcpy((uint8_t *)th + thl, data, len);
	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	return m;
}

/* Decodes F.tx[i]; checks the IPv4 and TCP checksums. */
static struct pkt tx_pkt(unsigned i)
{
	struct pkt p;
	struct rte_mbuf *m = F.tx[i];
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	memset(&p, 0, sizeof(p));
	p.m = m;
	p.ws = -1;
	p.etype = rte_be_to_cpu_16(eh->ether_type);
	memcpy(p.dmac, eh->dst_addr.addr_bytes, 6);
	if (p.etype != RTE_ETHER_TYPE_IPV4)
		return p;
	{
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
		uint32_t hlen = (ip->version_ihl & 0xf) * 4u;
		uint32_t tlen = rte_be_to_cpu_16(ip->total_length);

		p.src = ip->src_addr;
		p.dst = ip->dst_addr;
		p.proto = ip->next_proto_id;
		p.ip_ok = rte_ipv4_cksum(ip) == 0 || rte_raw_cksum(ip, hlen) == 0xffff;
		if (p.proto == IPPROTO_TCP) {
			struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)((uint8_t *)ip + hlen);
			uint32_t doff = (th->data_off >> 4) * 4u;
			const uint8_t *o = (const uint8_t *)(th + 1);

			{
				uint16_t saved = th->cksum;

				th->cksum = 0;
				p.l4_ok = rte_ipv4_udptcp_cksum(ip, th) == saved;
				th->cksum = saved;
			}
			p.sport = rte_be_to_cpu_16(th->src_port);
			p.dport = rte_be_to_cpu_16(th->dst_port);
			p.seq = rte_be_to_cpu_32(th->sent_seq);
			p.ack = rte_be_to_cpu_32(th->recv_ack);
			p.flags = th->tcp_flags;
			p.wnd = rte_be_to_cpu_16(th->rx_win);
			for (uint32_t k = 0; k + 20 < doff;) {
				if (o[k] == 0)
					break;
				if (o[k] == 1) {
					k++;
					continue;
				}
				if (o[k] == 2)
					p.mss = (uint16_t)(o[k + 2] << 8 | o[k + 3]);
				if (o[k] == 3)
					p.ws = o[k + 2];
				if (o[k] == 4)
					p.sackok = 1;
				if (o[k] == 8) {
					uint32_t v;

					p.ts = 1;
					memcpy(&v, o + k + 2, 4);
					p.tsval = rte_be_to_cpu_32(v);
					memcpy(&v, o + k + 6, 4);
					p.tsecr = rte_be_to_cpu_32(v);
				}
				k += o[k + 1];
			}
			p.data = (const uint8_t *)th + doff;
			p.len = tlen - hlen - doff;
		}
	}
	return p;
}

/* The last frame sent (all zero when none was). */
static struct pkt last_pkt(void)
{
	struct pkt p;

	if (F.ntx != 0)
		return tx_pkt(F.ntx - 1);
	memset(&p, 0, sizeof(p));
	return p;
}

/* ---- the scripted client -------------------------------------------------- */

struct cli {
	uint16_t port;
	uint32_t snd_nxt; /* next client sequence number */
	uint32_t rcv_nxt; /* next server sequence number expected */
	uint32_t iss;     /* server's ISN */
	int ts;
	uint32_t tsval, ts_recent;
	uint16_t wnd;
	uint32_t srv_wnd; /* last window field seen from the server */
};

static size_t cli_opts(const struct cli *c, uint8_t *o)
{
	uint32_t v;

	if (!c->ts)
		return 0;
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	v = rte_cpu_to_be_32(c->tsval);
	memcpy(o + 4, &v, 4);
	v = rte_cpu_to_be_32(c->ts_recent);
	memcpy(o + 8, &v, 4);
	return 12;
}

/* Sends a segment at seq with flags; advances nothing. */
static void cli_seg(struct cli *c, uint8_t flags, uint32_t seq, const void *data, size_t len)
{
	uint8_t o[12];
	size_t n = cli_opts(c, o);

	c->tsval++;
	fake_rx(tcp_frame(c->port, 25, flags, seq, c->rcv_nxt, c->wnd, o, n, data, len));
}

/* Sends data (ACK|PSH) in order and advances snd_nxt. */
static void cli_send(struct cli *c, const void *data, size_t len)
{
	cli_seg(c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, c->snd_nxt, data, len);
	c->snd_nxt += (uint32_t)len;
}

/* Learns ack/TS from a server segment. */
static void cli_learn(struct cli *c, const struct pkt *p)
{
	if (p->ts)
		c->ts_recent = p->tsval;
	c->srv_wnd = p->wnd;
	if ((int32_t)(p->seq + p->len + !!(p->flags & RTE_TCP_FIN_FLAG) - c->rcv_nxt) > 0 &&
	    (int32_t)(p->seq - c->rcv_nxt) <= 0)
		c->rcv_nxt = p->seq + p->len + !!(p->flags & RTE_TCP_FIN_FLAG);
}

/*
 * Full handshake with options (ts: timestamps + WS 7 + SACK-perm + MSS 1460).
 * Returns 0 when established; the server's frames are cleared.
 */
static int cli_connect(struct cli *c, uint16_t port, int ts)
{
	uint8_t o[24];
	size_t n = 0;
	struct pkt p;

	memset(c, 0, sizeof(*c));
	c->port = port;
	c->snd_nxt = 1000000u * port;
	c->ts = ts;
	c->tsval = 5000;
	c->wnd = 65535;
	o[n++] = 2;
	o[n++] = 4;
	o[n++] = 1460 >> 8;
	o[n++] = 1460 & 0xff;
	if (ts) {
		o[n++] = 4;
		o[n++] = 2;
		o[n++] = 8;
		o[n++] = 10;
		memcpy(o + n, &(uint32_t){ rte_cpu_to_be_32(c->tsval) }, 4);
		memset(o + n + 4, 0, 4);
		n += 8;
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = 7;
	}
	fake_clear();
	fake_rx(tcp_frame(port, 25, RTE_TCP_SYN_FLAG, c->snd_nxt, 0, c->wnd, o, n, NULL, 0));
	if (F.ntx != 1)
		return -1;
	p = last_pkt();
	if (p.flags != (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG) || p.ack != c->snd_nxt + 1)
		return -1;
	c->snd_nxt++;
	c->iss = p.seq;
	c->rcv_nxt = p.seq + 1;
	if (p.ts)
		c->ts_recent = p.tsval;
	fake_clear();
	cli_seg(c, RTE_TCP_ACK_FLAG, c->snd_nxt, NULL, 0);
	for (unsigned i = 0; i < F.ntx; i++) {
		p = tx_pkt(i);
		cli_learn(c, &p);
	}
	return 0;
}

static struct app *app_port(uint16_t port);

/* Established flow from port (see cli_connect); its app, frames cleared. */
static struct app *open_flow(struct cli *c, uint16_t port, int ts)
{
	struct app *a;

	if (cli_connect(c, port, ts) != 0)
		return NULL;
	a = app_port(port);
	fake_clear();
	return a;
}

/* Counts F.tx frames with exactly these flags (PSH ignored). */
static unsigned count_flags(uint8_t flags)
{
	unsigned n = 0;

	for (unsigned i = 0; i < F.ntx; i++)
		n += (tx_pkt(i).flags & (uint8_t)~RTE_TCP_PSH_FLAG) == flags;
	return n;
}

/* The app of the most recent connection on port. */
static struct app *app_port(uint16_t port)
{
	for (int i = 0; i < FAKE_APPS; i++) {
		uint32_t ra, la;
		uint16_t rp, lp;

		if (!F.apps[i].used || F.apps[i].c == NULL)
			continue;
		net_conn_peer(F.apps[i].c, &ra, &rp, &la, &lp);
		if (rte_be_to_cpu_16(rp) == port)
			return &F.apps[i];
	}
	return NULL;
}

#endif
