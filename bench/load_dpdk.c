/*
 * load_dpdk.c — bulwark-load's DPDK mode: many SMTP clients over one DPDK
 * port (net_memif to a Bulwark on the same machine: tools/lab up --port
 * memif --no-peer; or a real NIC cabled to one), the same scripts and
 * checks as the socket mode, on one lcore.
 *
 * No TCP stack: every frame is derived from the frame received (our seq =
 * its ack, our ack = its seq + length), as in bench-junk. A flow keeps its
 * script position, two sequence numbers and a few timestamps (struct lf,
 * 32 octets). Client slot s uses source port 1024 + (s & 32767) and the
 * address SRC | (gen << 2 | s >> 15) in a /17 of 198.18.0.0/15 (default
 * 198.19.128.0/17): a slot's next session takes the next generation, so a
 * 4-tuple returns only after 8192 sessions of that slot. Over memif the
 * generator picks the target's queue: a session uses queue (s + gen) mod
 * --queues, so flows spread evenly even when few slots are reused. Those addresses are
 * off the target's subnet; the generator answers ARP for the target's
 * gateway (--gw) and for its own range.
 *
 * Limits: a reply must arrive whole in one segment (Bulwark's do); data
 * goes out in segments of at most 1400 octets without waiting for the
 * window, so a step sends at most LD_SEND_MAX octets; nothing is
 * retransmitted (a lost frame ends as a timeout).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "load.h"
#include "pkt.h"

#define LD_SLOTS_MAX 131072u
#define LD_BURST     64u
#define LD_TXQ       4096u
#define LD_QMAX      16u
#define LD_MSS       1400u
#define LD_SEND_MAX  8192u
#define LD_CLI_PORT0 1024u
#define LD_ISS       1000u

enum lf_phase {
	F_FREE,
	F_SYN,   /* SYN sent */
	F_GREET, /* waiting for the 220 */
	F_REPLY, /* the step's bytes sent, waiting for its reply */
	F_SLOW,  /* a byte per slow_ms */
	F_WAIT,  /* LOP_WAIT */
	F_CLOSE, /* waiting for the server's FIN */
	F_LAST,  /* our FIN sent, waiting for its ACK */
};

struct lf {
	uint32_t snd_nxt, rcv_nxt;
	uint32_t t0;    /* us, the session's start */
	uint32_t t_dl;  /* us, the current wait's deadline (F_SLOW: the next byte) */
	uint32_t greet; /* us from t0 to the 220; 0: none */
	uint32_t fin;   /* us from t0 to the last expected reply */
	uint16_t gen, code;
	uint8_t kind, ph, off;
	int8_t step;
};

struct ld {
	const struct load_opts *o;
	struct load_stats *st;
	uint16_t port, nq;
	struct rte_mempool *pool;
	struct rte_ether_addr mac, smac;
	uint32_t saddr, gw; /* network order */
	uint32_t src;       /* host order, the /17's base */
	struct lf *fl;
	uint32_t *free_sl, n_free;
	int32_t wrr[LK_COUNT];
	uint32_t now; /* us */
	uint64_t per_us;
	struct rte_mbuf *spare; /* the frame being answered, to reuse */
	uint64_t sent;          /* frames queued, to see if a reply went out */
	uint64_t stale, tx_drop, fin_unacked;
	struct rte_mbuf *txq[LD_QMAX][LD_TXQ];
	uint32_t ntx[LD_QMAX];
};

static int due(uint32_t now, uint32_t t)
{
	return (int32_t)(now - t) >= 0;
}

/* Client address of slot s in generation gen (network order). */
static uint32_t cli_addr(const struct ld *d, uint32_t s, uint16_t gen)
{
	return rte_cpu_to_be_32(d->src | ((((uint32_t)gen << 2) | (s >> 15)) & 0x7fffu));
}

static struct rte_mbuf *mb_get(struct ld *d)
{
	struct rte_mbuf *m = d->spare;

	if (m != NULL) {
		d->spare = NULL;
		return m;
	}
	return rte_pktmbuf_alloc(d->pool);
}

static void tx_flush(struct ld *d, uint16_t q)
{
	uint32_t sent = 0;

	while (sent < d->ntx[q]) {
		uint16_t k = rte_eth_tx_burst(d->port, q, d->txq[q] + sent,
					      (uint16_t)RTE_MIN(d->ntx[q] - sent, 512u));
		if (k == 0)
			break;
		sent += k;
	}
	d->st->tot.pkts_tx += sent;
	if (sent < d->ntx[q])
		memmove(d->txq[q], d->txq[q] + sent, (d->ntx[q] - sent) * sizeof(d->txq[q][0]));
	d->ntx[q] -= sent;
}

static void tx_push(struct ld *d, uint16_t q, struct rte_mbuf *m)
{
	if (d->ntx[q] == LD_TXQ)
		tx_flush(d, q);
	if (d->ntx[q] == LD_TXQ) {
		d->tx_drop++;
		rte_pktmbuf_free(m);
		return;
	}
	d->txq[q][d->ntx[q]++] = m;
	d->sent++;
}

/* Queues a frame of slot s. */
static void fl_tx(struct ld *d, uint32_t s, uint8_t flags, uint32_t seq, const void *p, uint16_t n)
{
	struct lf *f = &d->fl[s];
	struct rte_mbuf *m = mb_get(d);

	if (m == NULL) {
		d->tx_drop++;
		return;
	}
	tx_push(d, (uint16_t)((s + f->gen) % d->nq),
		pkt_tcp4(m, &d->mac, &d->smac, cli_addr(d, s, f->gen), d->saddr,
			 (uint16_t)(LD_CLI_PORT0 + (s & 32767)), d->o->port, flags, seq, f->rcv_nxt,
			 p, n));
}

static void fl_end(struct ld *d, uint32_t s, enum load_outcome oc, const uint8_t *seen, uint32_t n)
{
	struct lf *f = &d->fl[s];

	if (oc != LO_OK) {
		if (oc != LO_RESET) /* the server forgets it at once */
			fl_tx(d, s, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, f->snd_nxt, NULL, 0);
		load_stats_show(d->st, d->o, (enum load_kind)f->kind, oc,
				f->ph == F_SYN || f->ph == F_GREET ? -1 : f->step, f->code, seen,
				n);
	}
	load_stats_end(d->st, (enum load_kind)f->kind, oc, f->code, f->greet, f->fin);
	f->ph = F_FREE;
	d->free_sl[d->n_free++] = s;
}

/* Sends step's octets at once, in segments of at most LD_MSS. */
static void fl_send_all(struct ld *d, uint32_t s, const struct load_step *p)
{
	struct lf *f = &d->fl[s];
	const uint8_t *b;
	uint32_t off = 0, n;

	while ((n = load_step_chunk(d->o, p, off, &b)) != 0 && off < LD_SEND_MAX) {
		n = RTE_MIN(n, LD_MSS);
		fl_tx(d, s, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, f->snd_nxt, b, (uint16_t)n);
		f->snd_nxt += n;
		off += n;
	}
}

static void fl_step(struct ld *d, uint32_t s)
{
	struct lf *f = &d->fl[s];
	const struct load_script *sc = &d->o->sc[f->kind];
	const struct load_step *p;

	f->step++;
	if (f->step >= sc->n) {
		fl_end(d, s, LO_OK, NULL, 0);
		return;
	}
	p = &sc->st[f->step];
	switch (p->op) {
	case LOP_WAIT:
		f->ph = F_WAIT;
		f->t_dl = d->now + d->o->idle_ms * 1000u;
		return;
	case LOP_CLOSE:
		f->ph = F_CLOSE;
		f->t_dl = d->now + d->o->timeout_ms * 1000u;
		return;
	case LOP_END:
		fl_end(d, s, LO_OK, NULL, 0);
		return;
	case LOP_SLOW:
		f->ph = F_SLOW;
		f->off = 0;
		f->t_dl = d->now; /* the first byte at the next sweep */
		return;
	default:
		fl_send_all(d, s, p);
		f->ph = F_REPLY;
		f->t_dl = d->now + d->o->timeout_ms * 1000u;
		return;
	}
}

/* A complete reply with code c; 0 or -1 when the session ended. */
static int fl_reply(struct ld *d, uint32_t s, int c, const uint8_t *seen, uint32_t n)
{
	struct lf *f = &d->fl[s];
	const struct load_script *sc = &d->o->sc[f->kind];

	if (c == 220 && f->greet == 0) {
		f->greet = RTE_MAX(d->now - f->t0, 1u);
		if (f->ph == F_GREET)
			fl_step(d, s);
		return 0;
	}
	if (f->ph != F_REPLY) {
		f->code = (uint16_t)c;
		fl_end(d, s, LO_WRONG, seen, n);
		return -1;
	}
	if (f->step == sc->key || c != sc->st[f->step].code)
		f->code = (uint16_t)c;
	if (c != sc->st[f->step].code) {
		fl_end(d, s, LO_WRONG, seen, n);
		return -1;
	}
	f->fin = d->now - f->t0;
	fl_step(d, s);
	return f->ph == F_FREE ? -1 : 0;
}

static void on_arp(struct ld *d, struct rte_mbuf *m)
{
	struct rte_ether_addr sha;
	uint32_t sip, tip, h;
	uint16_t op;

	if (pkt_arp_parse(m, &op, &sip, &tip, &sha) != 0) {
		d->stale++;
		rte_pktmbuf_free(m);
		return;
	}
	h = rte_be_to_cpu_32(tip);
	if (sip == d->saddr)
		d->smac = sha;
	if (op == RTE_ARP_OP_REQUEST && (tip == d->gw || (h & ~0x7fffu) == d->src)) {
		tx_push(d, 0, pkt_arp(m, 1, &d->mac, &sha, tip, sip));
		return;
	}
	rte_pktmbuf_free(m);
}

static void on_frame(struct ld *d, struct rte_mbuf *m)
{
	struct pkt_tcp4 t;
	uint32_t s;
	struct lf *f;
	int codes[8], nc = 0;
	uint8_t seen[LOAD_SEEN];
	uint32_t nseen = 0;
	uint64_t sent0;

	if (pkt_tcp4_parse(m, &t) != 0) {
		on_arp(d, m);
		return;
	}
	s = (uint32_t)(t.dport - LD_CLI_PORT0) | ((rte_be_to_cpu_32(t.daddr) & 3u) << 15);
	if (t.sport != d->o->port || t.dport < LD_CLI_PORT0 || s >= d->o->conc ||
	    (f = &d->fl[s])->ph == F_FREE || t.daddr != cli_addr(d, s, f->gen)) {
		d->stale++;
		rte_pktmbuf_free(m);
		return;
	}
	if (t.flags & RTE_TCP_RST_FLAG) {
		rte_pktmbuf_free(m);
		fl_end(d, s, LO_RESET, NULL, 0);
		return;
	}
	if (f->ph == F_SYN) {
		if ((t.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) !=
			(RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG) ||
		    t.ack != f->snd_nxt) {
			rte_pktmbuf_free(m);
			fl_end(d, s, LO_CONNECT, NULL, 0);
			return;
		}
		d->spare = m;
		f->rcv_nxt = t.seq + 1;
		fl_tx(d, s, RTE_TCP_ACK_FLAG, f->snd_nxt, NULL, 0);
		f->t_dl = d->now + d->o->timeout_ms * 1000u;
		if (d->o->sc[f->kind].pregreet) {
			fl_step(d, s);
		} else {
			f->ph = F_GREET;
		}
		return;
	}
	if (t.len == 0 && !(t.flags & RTE_TCP_FIN_FLAG)) {
		rte_pktmbuf_free(m);
		if (f->ph == F_LAST && t.ack == f->snd_nxt)
			fl_end(d, s, LO_OK, NULL, 0);
		return;
	}
	if (t.seq != f->rcv_nxt) { /* a retransmission: our ACK was lost */
		d->spare = m;
		fl_tx(d, s, RTE_TCP_ACK_FLAG, f->snd_nxt, NULL, 0);
		return;
	}
	f->rcv_nxt = t.seq + t.len + ((t.flags & RTE_TCP_FIN_FLAG) ? 1u : 0u);
	if (t.len != 0) {
		/* the replies first: the mbuf is reused for what they cause */
		char line[256];
		uint32_t llen = 0, at = 0, used;

		nseen = RTE_MIN(t.len, (uint32_t)LOAD_SEEN);
		memcpy(seen, t.data, nseen);
		while (at < t.len && nc < (int)RTE_DIM(codes)) {
			int c = load_reply_scan(line, sizeof(line), &llen, t.data + at, t.len - at,
						&used);

			at += used;
			if (c == 0)
				break;
			codes[nc++] = c;
			if (c < 0)
				break;
		}
		if (llen != 0 && (nc == 0 || codes[nc - 1] > 0))
			codes[nc++] = -1; /* a reply split over segments: not supported */
	}
	d->spare = m;
	sent0 = d->sent;
	for (int i = 0; i < nc; i++) {
		if (f->ph == F_CLOSE || f->ph == F_WAIT || codes[i] < 0) {
			f->code = codes[i] < 0 ? 0 : (uint16_t)codes[i];
			fl_end(d, s, LO_WRONG, seen, nseen);
			goto out;
		}
		if (fl_reply(d, s, codes[i], seen, nseen) != 0)
			goto out;
	}
	if (t.flags & RTE_TCP_FIN_FLAG) {
		if (f->ph != F_CLOSE) {
			fl_end(d, s, LO_CLOSED, seen, nseen);
			goto out;
		}
		fl_tx(d, s, RTE_TCP_ACK_FLAG | RTE_TCP_FIN_FLAG, f->snd_nxt, NULL, 0);
		f->snd_nxt++;
		f->ph = F_LAST;
		f->t_dl = d->now + d->o->timeout_ms * 1000u;
	} else if (d->sent == sent0) {
		/* ACK the reply so the server's send buffer goes back */
		fl_tx(d, s, RTE_TCP_ACK_FLAG, f->snd_nxt, NULL, 0);
	}
out:
	if (d->spare != NULL) {
		rte_pktmbuf_free(d->spare);
		d->spare = NULL;
	}
}

static void fl_start(struct ld *d)
{
	uint32_t s = d->free_sl[--d->n_free];
	struct lf *f = &d->fl[s];

	f->gen++;
	f->kind = (uint8_t)load_pick(d->o, d->wrr);
	f->ph = F_SYN;
	f->step = -1;
	f->code = 0;
	f->greet = f->fin = 0;
	f->t0 = d->now;
	f->t_dl = d->now + d->o->timeout_ms * 1000u;
	f->snd_nxt = LD_ISS + 1;
	f->rcv_nxt = 0;
	d->st->tot.started++;
	d->st->in_flight++;
	fl_tx(d, s, RTE_TCP_SYN_FLAG, LD_ISS, NULL, 0);
}

/* Deadlines and slow senders. */
static void sweep(struct ld *d)
{
	for (uint32_t s = 0; s < d->o->conc; s++) {
		struct lf *f = &d->fl[s];

		if (f->ph == F_FREE || !due(d->now, f->t_dl))
			continue;
		switch (f->ph) {
		case F_SLOW: {
			const struct load_step *p = &d->o->sc[f->kind].st[f->step];

			fl_tx(d, s, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, f->snd_nxt,
			      p->data + f->off, 1);
			f->snd_nxt++;
			f->off++;
			f->t_dl = d->now + d->o->slow_ms * 1000u;
			if (f->off == p->len) {
				f->ph = F_REPLY;
				f->t_dl = d->now + d->o->timeout_ms * 1000u;
			}
			break;
		}
		case F_WAIT:
			fl_step(d, s);
			break;
		case F_SYN:
			fl_end(d, s, LO_CONNECT, NULL, 0);
			break;
		case F_CLOSE:
			fl_end(d, s, LO_NOCLOSE, NULL, 0);
			break;
		case F_LAST:
			/* the server answered and closed; only the ACK of our FIN
			 * got lost (nothing is retransmitted): counted apart */
			d->fin_unacked++;
			fl_end(d, s, LO_OK, NULL, 0);
			break;
		default:
			fl_end(d, s, LO_TIMEOUT, NULL, 0);
			break;
		}
	}
}

/* ---- setup and the loop ------------------------------------------------ */

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
				tx_push(d, 0, pkt_arp(m, 0, &d->mac, NULL, d->gw, d->saddr));
			tx_flush(d, 0);
			next = rte_get_tsc_cycles() + rte_get_tsc_hz() / 5;
		}
		for (uint16_t q = 0; q < d->nq; q++) {
			uint16_t n = rte_eth_rx_burst(d->port, q, pkts, LD_BURST);

			for (uint16_t i = 0; i < n; i++)
				on_arp(d, pkts[i]);
		}
		tx_flush(d, 0);
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
	d->pool = rte_pktmbuf_pool_create("ld_pool", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	d->fl = calloc(o->conc, sizeof(*d->fl));
	d->free_sl = calloc(o->conc, sizeof(*d->free_sl));
	if (d->pool == NULL || d->fl == NULL || d->free_sl == NULL) {
		fprintf(stderr, "bulwark-load: out of memory\n");
		return -1;
	}
	for (uint32_t s = o->conc; s-- > 0;)
		d->free_sl[d->n_free++] = s;
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
				fl_start(d);
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
				on_frame(d, pkts[i]);
		}
		for (uint16_t q = 0; q < d->nq; q++)
			if (d->ntx[q])
				tx_flush(d, q);
		if (now - t_sweep >= 10000u) {
			sweep(d);
			t_sweep = now;
		}
		if (now >= t_tick) {
			load_stats_tick(st, o, (double)(now - t_start) / 1e6);
			t_tick += 1000000u;
		}
	}
	for (uint32_t s = 0; s < o->conc; s++) /* past the hard deadline */
		if (d->fl[s].ph != F_FREE)
			fl_end(d, s, LO_TIMEOUT, NULL, 0);
	for (uint16_t q = 0; q < d->nq; q++)
		tx_flush(d, q);
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
