/*
 * tcp_out.c — segment output, retransmission (RFC 6298), congestion window
 * (RFC 5681), zero-window probes (RFC 9293 §3.8.6.1), linger expiry (FIN_WAIT_2).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "net_ctx.h"

void tcp_emit(struct net_ctx *ctx, const struct tcp_key *k, const uint8_t *mac, uint32_t seq,
	      uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opts, uint32_t optlen,
	      const uint8_t *payload, uint32_t len)
{
	uint32_t thl = (uint32_t)sizeof(struct rte_tcp_hdr) + optlen;
	uint32_t total =
	    (uint32_t)(sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr)) + thl + len;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	char *p;

	m = ctx->ops.alloc(ctx->ops.arg);
	if (m == NULL) {
		ctx->st.tx_nomem++;
		return;
	}
	p = rte_pktmbuf_append(m, (uint16_t)total);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		ctx->st.tx_nomem++;
		return;
	}
	ip = net_ip_fill(ctx, m, mac, k->laddr, k->raddr, IPPROTO_TCP, thl + len);
	th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = k->lport;
	th->dst_port = k->rport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32((flags & TCP_ACK) ? ack : 0);
	th->data_off = (uint8_t)((thl / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (optlen != 0)
		memcpy(th + 1, opts, optlen);
	if (len != 0)
		memcpy((uint8_t *)th + thl, payload, len);
	m->l4_len = (uint8_t)thl;
	if (ctx->cfg.tx_cksum_offload) {
		m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	}
	net_xmit(ctx, m);
}

uint16_t tcp_rcv_wnd_field(struct net_ctx *ctx, struct tcp_conn *c)
{
	uint32_t win = ctx->cfg.buf_size;
	uint32_t cur = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t step = ctx->cfg.buf_size / 2 < c->mss ? ctx->cfg.buf_size / 2 : c->mss;
	uint32_t field;

	if (!(c->flags & TCP_CF_APP_GONE) && c->rbuf != NULL)
		win -= c->rbuf->len;
	/* RFC 9293 §3.8.6.2.1: never move the right edge back (shrink);
	 * §3.8.6.2.2 (MUST-39, receiver SWS avoidance): move it forward only
	 * by at least min(buffer / 2, MSS). */
	if (win < cur + step)
		win = cur;
	field = win >> c->rcv_ws;
	if (field > 0xffff)
		field = 0xffff;
	/* Rounding down by the scale may show an edge below rcv_adv: RFC 7323
	 * §2.4 allows it; acceptance still uses rcv_adv. */
	if (SEQ_GT(c->rcv_nxt + (field << c->rcv_ws), c->rcv_adv))
		c->rcv_adv = c->rcv_nxt + (field << c->rcv_ws);
	return (uint16_t)field;
}

static uint32_t conn_opts(const struct tcp_conn *c, uint8_t *o, uint64_t now)
{
	if (!(c->flags & TCP_CF_TS))
		return 0;
	/* RFC 7323 §3.2: once negotiated, TSopt in every non-RST segment. */
	return tcp_put_ts_opt(o, now, c->ts_recent);
}

/* One segment of c at seq with n bytes of its send buffer (+ FIN). */
static void conn_seg(struct net_ctx *ctx, struct tcp_conn *c, uint32_t seq, uint32_t n, int fin,
		     uint64_t now)
{
	uint8_t opts[12];
	uint32_t optlen = conn_opts(c, opts, now);
	const uint8_t *p = NULL;
	uint8_t flags = TCP_ACK;

	if (n != 0) {
		p = c->sbuf->data + c->sbuf->off + (seq - c->snd_una);
		flags |= TCP_PSH;
		ctx->st.tcp_data_out++;
	}
	if (fin)
		flags |= TCP_FIN;
	tcp_emit(ctx, &c->key, c->mac, seq, c->rcv_nxt, flags, tcp_rcv_wnd_field(ctx, c), opts,
		 optlen, p, n);
	c->flags &= (uint16_t)~TCP_CF_ACK_NOW;
}

void tcp_send_ack(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now)
{
	ctx->st.tcp_ack_out++;
	conn_seg(ctx, c, c->snd_nxt, 0, 0, now);
}

void tcp_send_rst(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now)
{
	(void)now;
	ctx->st.tcp_rst_out++;
	/* snd_max: the peer's RCV.NXT is at most that, so the RST is in window. */
	tcp_emit(ctx, &c->key, c->mac, c->snd_max, c->rcv_nxt, TCP_RST | TCP_ACK, 0, NULL, 0, NULL,
		 0);
}

void tcp_reply_rst(struct net_ctx *ctx, const struct tcp_seg *seg)
{
	uint32_t ack;

	/* RFC 9293 §3.10.7.1: never answer a RST; <SEQ=SEG.ACK><CTL=RST> when
	 * ACK is on, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
	if (seg->flags & TCP_RST)
		return;
	ctx->st.tcp_rst_out++;
	if (seg->flags & TCP_ACK) {
		tcp_emit(ctx, &seg->key, seg->mac, seg->ack, 0, TCP_RST, 0, NULL, 0, NULL, 0);
		return;
	}
	ack = seg->seq + seg->len + !!(seg->flags & TCP_SYN) + !!(seg->flags & TCP_FIN);
	tcp_emit(ctx, &seg->key, seg->mac, 0, ack, TCP_RST | TCP_ACK, 0, NULL, 0, NULL, 0);
}

static uint32_t cur_rto(const struct net_ctx *ctx, const struct tcp_conn *c)
{
	uint64_t r = (uint64_t)c->rto << (c->backoff < 20 ? c->backoff : 20);

	/* RFC 6298 §2.5: a maximum may be placed on RTO (>= 60 s). */
	return r > ctx->cfg.rto_max_ms ? ctx->cfg.rto_max_ms : (uint32_t)r;
}

void tcp_rtt_sample(struct net_ctx *ctx, struct tcp_conn *c, uint32_t rtt)
{
	uint32_t rto;

	if (rtt == 0)
		rtt = 1;
	if (c->srtt8 == 0) {
		/* RFC 6298 §2.2: first measurement. */
		c->srtt8 = rtt << 3;
		c->rttvar4 = rtt << 1;
	} else {
		/* RFC 6298 §2.3: beta = 1/4, alpha = 1/8. */
		uint32_t srtt = c->srtt8 >> 3;
		uint32_t d = srtt > rtt ? srtt - rtt : rtt - srtt;

		c->rttvar4 = c->rttvar4 - (c->rttvar4 >> 2) + d;
		c->srtt8 = c->srtt8 - (c->srtt8 >> 3) + rtt;
	}
	/* RTO = SRTT + max(G, 4*RTTVAR), G = 1 ms; §2.4 floor, §2.5 ceiling. */
	rto = (c->srtt8 >> 3) + (c->rttvar4 > 1 ? c->rttvar4 : 1);
	if (rto < ctx->cfg.rto_min_ms)
		rto = ctx->cfg.rto_min_ms;
	if (rto > ctx->cfg.rto_max_ms)
		rto = ctx->cfg.rto_max_ms;
	c->rto = rto;
}

void tcp_conn_rearm(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now)
{
	uint32_t n32 = (uint32_t)now;
	int32_t best = INT32_MAX;

	if (c->flags & TCP_CF_RTX_ON)
		best = (int32_t)(c->rtx_at - n32);
	if ((c->flags & TCP_CF_LINGER) && (int32_t)(c->linger_at - n32) < best)
		best = (int32_t)(c->linger_at - n32);
	if (best == INT32_MAX) {
		wheel_cancel(&ctx->wheel, &c->tm);
		return;
	}
	if (best < 0)
		best = 0;
	if (!wheel_armed(&c->tm) || c->tm.expire != (uint32_t)(now + (uint64_t)best))
		wheel_arm(&ctx->wheel, &c->tm, now + (uint64_t)best);
}

void tcp_output(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now)
{
	uint32_t held = c->sbuf != NULL ? c->sbuf->len : 0;
	int sent = 0;

	if (c->state == TCP_CLOSED)
		return;
	while (!(c->flags & TCP_CF_PERSIST)) {
		uint32_t off = c->snd_nxt - c->snd_una;
		uint32_t unsent, wnd, inflight, room, n;
		int fin;

		if (off > held)
			break; /* the FIN is out */
		unsent = held - off;
		wnd = c->snd_wnd < c->cwnd ? c->snd_wnd : c->cwnd;
		inflight = c->snd_nxt - c->snd_una;
		room = wnd > inflight ? wnd - inflight : 0;
		n = unsent < room ? unsent : room;
		if (n > c->mss)
			n = c->mss;
		/* RFC 9293 §3.8.6.2.1 (MUST-38, sender SWS avoidance): a
		 * segment shorter than the MSS and than what is queued waits for
		 * the window to open to half the largest one seen, while data
		 * in flight guarantees an ACK will come (no Nagle: SMTP replies
		 * leave at once). */
		if (n != 0 && n < c->mss && n < unsent && n < c->max_snd_wnd / 2 &&
		    c->snd_max != c->snd_una)
			n = 0;
		fin = (c->flags & TCP_CF_FIN_Q) && !(c->flags & TCP_CF_FIN_SENT) && n == unsent;
		if (n == 0 && !fin) {
			/* RFC 9293 §3.8.6.1: data waits on a zero window with
			 * nothing in flight: probe it (MUST-36). */
			if (unsent != 0 && c->snd_wnd == 0 && c->snd_max == c->snd_una) {
				c->flags |= TCP_CF_PERSIST | TCP_CF_RTX_ON;
				c->backoff = 0;
				c->rtx_at = (uint32_t)now + cur_rto(ctx, c);
			}
			break;
		}
		if (!(c->flags & (TCP_CF_TS | TCP_CF_RTT)) && n != 0 &&
		    SEQ_GEQ(c->snd_nxt, c->snd_max)) {
			/* Karn: time only new data, never a retransmission. */
			c->flags |= TCP_CF_RTT;
			c->rtt_seq = c->snd_nxt;
			c->rtt_at = (uint32_t)now;
		}
		if (SEQ_LT(c->snd_nxt, c->snd_max))
			ctx->st.tcp_rtx++;
		conn_seg(ctx, c, c->snd_nxt, n, fin, now);
		c->snd_nxt += n + (uint32_t)fin;
		if (fin)
			c->flags |= TCP_CF_FIN_SENT;
		if (SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		sent = 1;
	}
	/* RFC 6298 §5.1: start the timer when data goes out and it is off. */
	if (c->snd_max != c->snd_una && !(c->flags & TCP_CF_RTX_ON)) {
		c->flags |= TCP_CF_RTX_ON;
		c->rtx_at = (uint32_t)now + cur_rto(ctx, c);
	}
	if (!sent && (c->flags & TCP_CF_ACK_NOW))
		tcp_send_ack(ctx, c, now);
	tcp_conn_rearm(ctx, c, now);
}

/* Retransmits the first unacknowledged segment (RTO, fast retransmit, probe). */
static void rtx_first(struct net_ctx *ctx, struct tcp_conn *c, uint32_t max, uint64_t now)
{
	uint32_t held = c->sbuf != NULL ? c->sbuf->len : 0;
	uint32_t n = held < max ? held : max;
	int fin = (c->flags & TCP_CF_FIN_SENT) && n == held;

	ctx->st.tcp_rtx++;
	conn_seg(ctx, c, c->snd_una, n, fin, now);
	if (SEQ_LT(c->snd_nxt, c->snd_una + n + (uint32_t)fin))
		c->snd_nxt = c->snd_una + n + (uint32_t)fin;
	if (SEQ_GT(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
}

void tcp_fast_rtx(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now)
{
	uint32_t flight = c->snd_max - c->snd_una;

	/* RFC 5681 §3.2: ssthresh = max(FlightSize / 2, 2 * SMSS). */
	c->ssthresh = flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
	c->cwnd = c->ssthresh;
	c->flags &= (uint16_t)~TCP_CF_RTT;
	ctx->st.tcp_fast_rtx++;
	rtx_first(ctx, c, c->mss, now);
}

void tcp_conn_timer(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now)
{
	uint32_t n32 = (uint32_t)now;

	if ((c->flags & TCP_CF_LINGER) && T32_GEQ(n32, c->linger_at)) {
		/* DESIGN §3: our FIN was acknowledged linger_ms ago (FIN_WAIT_2)
		 * and the peer has not closed. */
		ctx->st.tcp_linger_expired++;
		tcp_send_rst(ctx, c, now);
		tcp_conn_release(ctx, c);
		return;
	}
	if (!(c->flags & TCP_CF_RTX_ON) || !T32_GEQ(n32, c->rtx_at)) {
		tcp_conn_rearm(ctx, c, now);
		return;
	}
	if (c->flags & TCP_CF_PERSIST) {
		if (c->snd_wnd != 0 || c->sbuf == NULL || c->sbuf->len == 0) {
			c->flags &= (uint16_t) ~(TCP_CF_PERSIST | TCP_CF_RTX_ON);
			c->backoff = 0;
			tcp_output(ctx, c, now);
			return;
		}
		/* After net_close nobody waits for these bytes any more: a
		 * peer that keeps its window shut is given rtx_max probes, as
		 * a silent one is given rtx_max retransmissions, then reset.
		 * RFC 9293 §3.8.6.1 (taking in RFC 6429) lets resource
		 * management abort a flow stuck in persist; Linux does so for
		 * orphaned sockets. The linger only starts once our FIN is
		 * acked, so it no longer bounds this. */
		if ((c->flags & TCP_CF_APP_GONE) && c->backoff >= ctx->cfg.rtx_max) {
			ctx->st.tcp_rtx_giveup++;
			tcp_send_rst(ctx, c, now);
			tcp_conn_drop(ctx, c, NET_CLOSE_TIMEOUT, now);
			return;
		}
		/* RFC 9293 §3.8.6.1: probe with one octet of data; the interval
		 * backs off exponentially (RFC 1122 §4.2.2.17). While the app
		 * holds the flow it stays open as long as the peer answers. */
		ctx->st.tcp_persist_probe++;
		rtx_first(ctx, c, 1, now);
		if (c->backoff < 20)
			c->backoff++;
		c->rtx_at = n32 + cur_rto(ctx, c);
		tcp_conn_rearm(ctx, c, now);
		return;
	}
	if (c->snd_max == c->snd_una) {
		c->flags &= (uint16_t)~TCP_CF_RTX_ON;
		tcp_conn_rearm(ctx, c, now);
		return;
	}
	if (c->backoff >= ctx->cfg.rtx_max) {
		ctx->st.tcp_rtx_giveup++;
		tcp_send_rst(ctx, c, now);
		tcp_conn_drop(ctx, c, NET_CLOSE_TIMEOUT, now);
		return;
	}
	ctx->st.tcp_rto++;
	/* RFC 5681 §3.1 (4): ssthresh = max(FlightSize / 2, 2 * SMSS);
	 * cwnd = loss window = 1 SMSS. */
	{
		uint32_t flight = c->snd_max - c->snd_una;

		c->ssthresh = flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
		c->cwnd = c->mss;
	}
	/* RFC 6298 §5.4-5.6: retransmit the earliest unacknowledged segment,
	 * double the RTO, restart the timer. Karn: no RTT sample from it. */
	c->backoff++;
	c->flags &= (uint16_t)~TCP_CF_RTT;
	c->snd_nxt = c->snd_una;
	if (c->sbuf != NULL && c->sbuf->len > c->mss)
		c->flags &= (uint16_t)~TCP_CF_FIN_SENT; /* resent later by tcp_output */
	rtx_first(ctx, c, c->mss, now);
	c->rtx_at = n32 + cur_rto(ctx, c);
	tcp_conn_rearm(ctx, c, now);
}
