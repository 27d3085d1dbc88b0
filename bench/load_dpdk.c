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
 * 4-tuple returns only after 8192 sessions of that slot; the generations
 * start at a value taken from the clock, so back-to-back runs do not
 * replay the previous run's 4-tuples. The target may still hold one in
 * TIME-WAIT (Bulwark: 10 s in lab.conf): the ISS comes from the clock, so
 * the new SYN is beyond the old connection's sequence space and reopens the
 * pair (RFC 1122 §4.2.2.13, RFC 6191). With a fixed ISS such a SYN got a
 * TIME-WAIT ACK instead of a SYN-ACK: the "connect" errors of the early
 * --rate runs, where few slots take every session. Those addresses
 * are off the target's subnet; the generator answers ARP for the target's
 * gateway (--gw) and for its own range. Over memif the generator picks the
 * target's queue: a session uses queue (s + gen) mod --queues, so flows
 * spread evenly even when few slots are reused.
 *
 * Limits: a reply must arrive whole in one segment (Bulwark's do); data
 * goes out in segments of at most 1400 octets without waiting for the
 * window, so a step sends at most LD_SEND_MAX octets; nothing is
 * retransmitted (a lost frame ends as a timeout, except a lost ACK of our
 * FIN, which ends ok and is counted apart).
 *
 * This file: the flows. load_dpdk_port.c: EAL, the port, ARP, the loop.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "load.h"
#include "load_dpdk.h"
#include "pkt.h"

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

void ld_tx_flush(struct ld *d, uint16_t q)
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

void ld_tx_push(struct ld *d, uint16_t q, struct rte_mbuf *m)
{
	if (d->ntx[q] == LD_TXQ)
		ld_tx_flush(d, q);
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
	ld_tx_push(d, (uint16_t)((s + f->gen) % d->nq),
		   pkt_tcp4(m, &d->mac, &d->smac, cli_addr(d, s, f->gen), d->saddr,
			    (uint16_t)(LD_CLI_PORT0 + (s & 32767)), d->o->port, flags, seq,
			    f->rcv_nxt, p, n));
}

void ld_end(struct ld *d, uint32_t s, enum load_outcome oc, const uint8_t *seen, uint32_t n)
{
	struct lf *f = &d->fl[s];

	if (oc != LO_OK && oc != LO_RESET) /* the server forgets it at once */
		fl_tx(d, s, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, f->snd_nxt, NULL, 0);
	if (load_oc_error(oc)) {
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
		ld_end(d, s, LO_OK, NULL, 0);
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
		ld_end(d, s, LO_OK, NULL, 0);
		return;
	case LOP_HOLD:
		f->ph = F_HOLD;
		f->t_dl = d->now + d->o->hold_ms * 1000u;
		return;
	case LOP_SLOW:
		f->ph = F_SLOW;
		f->off = 0;
		f->t_dl = d->now; /* the first byte at the next sweep */
		return;
	default:
		fl_send_all(d, s, p);
		if (p->code == 0) { /* no reply expected: the next step at once */
			fl_step(d, s);
			return;
		}
		f->ph = F_REPLY;
		f->t_dl = d->now + d->o->timeout_ms * 1000u;
		return;
	}
}

/* 1 when the step before the current one allows more replies of code c
 * (--expect K=CODEx*) and the session waits for a close or a hold. */
static int fl_rep_ok(const struct ld *d, const struct lf *f, int c)
{
	const struct load_step *p;

	if ((f->ph != F_CLOSE && f->ph != F_HOLD) || f->step <= 0)
		return 0;
	p = &d->o->sc[f->kind].st[f->step - 1];
	return p->rep && p->code == c;
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
		ld_end(d, s, LO_WRONG, seen, n);
		return -1;
	}
	if (f->step == sc->key || c != sc->st[f->step].code)
		f->code = (uint16_t)c;
	if (c != sc->st[f->step].code) {
		ld_end(d, s, LO_WRONG, seen, n);
		return -1;
	}
	f->fin = d->now - f->t0;
	fl_step(d, s);
	return f->ph == F_FREE ? -1 : 0;
}

void ld_on_arp(struct ld *d, struct rte_mbuf *m)
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
		ld_tx_push(d, 0, pkt_arp(m, 1, &d->mac, &sha, tip, sip));
		return;
	}
	rte_pktmbuf_free(m);
}

void ld_on_frame(struct ld *d, struct rte_mbuf *m)
{
	struct pkt_tcp4 t;
	uint32_t s;
	struct lf *f;
	int codes[8], nc = 0;
	uint8_t seen[LOAD_SEEN];
	uint32_t nseen = 0;
	uint64_t sent0;

	if (pkt_tcp4_parse(m, &t) != 0) {
		ld_on_arp(d, m);
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
		ld_end(d, s, LO_RESET, NULL, 0);
		return;
	}
	if (f->ph == F_SYN) {
		if ((t.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) !=
			(RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG) ||
		    t.ack != f->snd_nxt) {
			rte_pktmbuf_free(m);
			ld_end(d, s, LO_CONNECT, NULL, 0);
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
			ld_end(d, s, LO_OK, NULL, 0);
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
		if (codes[i] > 0 && fl_rep_ok(d, f, codes[i]))
			continue;
		if (f->ph == F_CLOSE || f->ph == F_WAIT || f->ph == F_HOLD || codes[i] < 0) {
			f->code = codes[i] < 0 ? 0 : (uint16_t)codes[i];
			ld_end(d, s, LO_WRONG, seen, nseen);
			goto out;
		}
		if (fl_reply(d, s, codes[i], seen, nseen) != 0)
			goto out;
	}
	if (t.flags & RTE_TCP_FIN_FLAG) {
		if (f->ph != F_CLOSE) {
			ld_end(d, s, LO_CLOSED, seen, nseen);
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

void ld_start(struct ld *d)
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
	f->snd_nxt = d->now * LD_ISS_PER_US + 1;
	f->rcv_nxt = 0;
	d->st->tot.started++;
	d->st->in_flight++;
	fl_tx(d, s, RTE_TCP_SYN_FLAG, f->snd_nxt - 1, NULL, 0);
}

/* Deadlines and slow senders. */
void ld_sweep(struct ld *d)
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
			ld_end(d, s, LO_CONNECT, NULL, 0);
			break;
		case F_CLOSE:
			ld_end(d, s, LO_NOCLOSE, NULL, 0);
			break;
		case F_HOLD:
			ld_end(d, s, LO_HELD, NULL, 0);
			break;
		case F_LAST:
			/* the server answered and closed; only the ACK of our FIN
			 * got lost (nothing is retransmitted): counted apart */
			d->fin_unacked++;
			ld_end(d, s, LO_OK, NULL, 0);
			break;
		default:
			ld_end(d, s, LO_TIMEOUT, NULL, 0);
			break;
		}
	}
}
