/*
 * tcp_in.c — segment input: header checks, options, demultiplexing, and
 * the processing of RFC 9293 §3.10.7.4 for synchronized states, hardened
 * per RFC 5961 and RFC 7323 (PAWS).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "net_ctx.h"

int tcp_parse_opts(const uint8_t *p, uint32_t len, struct tcp_seg *seg)
{
	uint32_t i = 0;

	seg->opts = 0;
	while (i < len) {
		uint8_t kind = p[i], ol;

		if (kind == 0) /* End of Option List */
			break;
		if (kind == 1) { /* NOP */
			i++;
			continue;
		}
		/* RFC 9293 §3.1 (MUST-7): be prepared for illegal option
		 * lengths — a length under 2 or past the header drops the
		 * segment here (no reset, no state). */
		if (i + 1 >= len)
			return -1;
		ol = p[i + 1];
		if (ol < 2 || i + ol > len)
			return -1;
		switch (kind) {
		case 2:
			if (ol != 4)
				return -1;
			seg->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
			seg->opts |= TCP_OPT_MSS;
			break;
		case 3:
			if (ol != 3)
				return -1;
			/* RFC 7323 §2.3: a shift over 14 is used as 14. */
			seg->ws = p[i + 2] > 14 ? 14 : p[i + 2];
			seg->opts |= TCP_OPT_WS;
			break;
		case 4:
			if (ol != 2)
				return -1;
			seg->opts |= TCP_OPT_SACKOK;
			break;
		case 8: {
			uint32_t v;

			if (ol != 10)
				return -1;
			memcpy(&v, p + i + 2, 4);
			seg->tsval = rte_be_to_cpu_32(v);
			memcpy(&v, p + i + 6, 4);
			seg->tsecr = rte_be_to_cpu_32(v);
			seg->opts |= TCP_OPT_TS;
			break;
		}
		default: /* RFC 9293 §3.1 (MUST-6): ignore unknown options */
			break;
		}
		i += ol;
	}
	return 0;
}

void tcp_challenge_ack(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now)
{
	uint32_t n32 = (uint32_t)now;

	/* RFC 5961 §7: limit challenge ACKs — per flow, so that no global
	 * counter can be drained by an attacker to silence other flows. */
	if (n32 - c->chal_at >= 1000) {
		c->chal_at = n32;
		c->chal_n = 0;
	}
	if (c->chal_n >= ctx->cfg.challenge_per_s) {
		ctx->st.tcp_challenge_limited++;
		return;
	}
	c->chal_n++;
	ctx->st.tcp_challenge_ack++;
	tcp_send_ack(ctx, c, now);
}

/* ---- ACK processing ------------------------------------------------------ */

static void ack_in(struct net_ctx *ctx, struct tcp_conn *c, const struct tcp_seg *seg, uint64_t now)
{
	uint32_t held = c->sbuf != NULL ? c->sbuf->len : 0;
	uint32_t wnd = (uint32_t)seg->wnd << c->snd_ws;
	int fin_acked = 0;

	if (SEQ_GT(seg->ack, c->snd_una)) {
		uint32_t acked = seg->ack - c->snd_una;
		uint32_t data = acked < held ? acked : held;

		if (data != 0) {
			c->sbuf->off += data;
			c->sbuf->len -= data;
			if (c->sbuf->len == 0) {
				tcp_buf_put(ctx, c->sbuf);
				c->sbuf = NULL;
			}
		}
		fin_acked = acked > held;
		c->snd_una = seg->ack;
		if (SEQ_LT(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		c->dupacks = 0;
		c->backoff = 0;
		/* RTT: RFC 7323 §4.1 from TSecr, else Karn-timed sequence. */
		if ((c->flags & TCP_CF_TS) && (seg->opts & TCP_OPT_TS) && seg->tsecr != 0 &&
		    (uint32_t)now - seg->tsecr < 60000u)
			tcp_rtt_sample(ctx, c, (uint32_t)now - seg->tsecr);
		else if ((c->flags & TCP_CF_RTT) && SEQ_GT(seg->ack, c->rtt_seq)) {
			c->flags &= (uint16_t)~TCP_CF_RTT;
			tcp_rtt_sample(ctx, c, (uint32_t)now - c->rtt_at);
		}
		/* RFC 5681 §3.1: slow start, then congestion avoidance. */
		if (c->cwnd < c->ssthresh)
			c->cwnd += data < c->mss ? (data ? data : 1) : c->mss;
		else
			c->cwnd += (uint32_t)c->mss * c->mss / c->cwnd
				       ? (uint32_t)c->mss * c->mss / c->cwnd
				       : 1;
		/* RFC 6298 §5.2/5.3: stop the timer when all is acked, else
		 * restart it. */
		if (!(c->flags & TCP_CF_PERSIST)) {
			if (c->snd_una == c->snd_max)
				c->flags &= (uint16_t)~TCP_CF_RTX_ON;
			else {
				c->flags |= TCP_CF_RTX_ON;
				c->rtx_at = (uint32_t)now + c->rto;
			}
		}
	} else if (seg->ack == c->snd_una && seg->len == 0 && !(seg->flags & TCP_FIN) &&
		   wnd == c->snd_wnd && wnd != 0 && c->snd_max != c->snd_una &&
		   !(c->flags & TCP_CF_PERSIST)) {
		/* RFC 5681 §2 duplicate ACK. */
		if (++c->dupacks == 3)
			tcp_fast_rtx(ctx, c, now);
	}
	/* RFC 9293 §3.10.7.4: update the send window only from a newer
	 * segment (SND.WL1/SND.WL2). */
	if (SEQ_LT(c->snd_wl1, seg->seq) ||
	    (c->snd_wl1 == seg->seq && SEQ_LEQ(c->snd_wl2, seg->ack))) {
		c->snd_wnd = wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		if (wnd != 0 && (c->flags & TCP_CF_PERSIST)) {
			c->flags &= (uint16_t) ~(TCP_CF_PERSIST | TCP_CF_RTX_ON);
			c->backoff = 0;
			if (c->snd_una != c->snd_max) {
				c->flags |= TCP_CF_RTX_ON;
				c->rtx_at = (uint32_t)now + c->rto;
			}
		}
	}
	if (!fin_acked)
		return;
	switch (c->state) {
	case TCP_FIN_WAIT_1:
		/* DESIGN §3: everything we sent, the FIN included, is
		 * acknowledged, so the peer can read the whole reply; the
		 * linger starts now and also bounds FIN_WAIT_2 (RFC 9293
		 * §3.6 leaves its length to the implementation). */
		c->state = TCP_FIN_WAIT_2;
		/* nothing is left to retransmit or probe: the timer is the
		 * linger's alone (rtx_at and linger_at share a word) */
		c->flags &= (uint16_t) ~(TCP_CF_RTX_ON | TCP_CF_PERSIST);
		c->flags |= TCP_CF_LINGER;
		c->linger_at = (uint32_t)now + ctx->cfg.linger_ms;
		break;
	case TCP_CLOSING:
		tcp_conn_time_wait(ctx, c, now);
		break;
	case TCP_LAST_ACK:
		tcp_conn_release(ctx, c);
		break;
	default:
		break;
	}
}

/* ---- Synchronized states ------------------------------------------------- */

void tcp_conn_input(struct net_ctx *ctx, struct tcp_conn *c, struct tcp_seg *seg, uint64_t now)
{
	uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t seglen = seg->len + !!(seg->flags & TCP_SYN) + !!(seg->flags & TCP_FIN);
	uint32_t seq = seg->seq, len = seg->len;
	const uint8_t *data = seg->data;
	int ok, fin = !!(seg->flags & TCP_FIN);

	/* RFC 7323 §5.3 R1 (PAWS): an older TSval than TS.Recent is a
	 * duplicate: ACK it (unless RST) and drop it. */
	if ((c->flags & TCP_CF_TS) && (seg->opts & TCP_OPT_TS) && !(seg->flags & TCP_RST) &&
	    (int32_t)(seg->tsval - c->ts_recent) < 0) {
		ctx->st.tcp_paws_drop++;
		tcp_send_ack(ctx, c, now);
		return;
	}
	/* RFC 9293 §3.10.7.4 first: the four acceptability cases. */
	if (seglen == 0)
		ok = wnd == 0 ? seq == c->rcv_nxt
			      : SEQ_GEQ(seq, c->rcv_nxt) && SEQ_LT(seq, c->rcv_nxt + wnd);
	else
		ok = wnd != 0 && ((SEQ_GEQ(seq, c->rcv_nxt) && SEQ_LT(seq, c->rcv_nxt + wnd)) ||
				  (SEQ_GEQ(seq + seglen - 1, c->rcv_nxt) &&
				   SEQ_LT(seq + seglen - 1, c->rcv_nxt + wnd)));
	/* ... "special allowance should be made to accept valid ACKs, URGs,
	 * and RSTs" on a zero window: keep the control, drop the data. */
	if (!ok && wnd == 0 && seq == c->rcv_nxt) {
		ok = 1;
		len = 0;
		fin = 0;
		c->flags |= TCP_CF_ACK_NOW; /* the dropped bytes are answered */
		ctx->st.tcp_out_of_window++;
	}
	if (!ok) {
		if (seg->flags & TCP_RST) {
			ctx->st.tcp_rst_in_ignored++; /* RFC 5961 §3.2: out of window */
			return;
		}
		ctx->st.tcp_out_of_window++;
		if (seg->flags & TCP_SYN)
			tcp_challenge_ack(ctx, c, now); /* RFC 5961 §4.2 */
		else
			tcp_send_ack(ctx, c, now);
		return;
	}
	/* RFC 5961 §3.2: RST resets only on an exact match of RCV.NXT;
	 * elsewhere in the window it draws a challenge ACK. */
	if (seg->flags & TCP_RST) {
		if (seq != c->rcv_nxt) {
			tcp_challenge_ack(ctx, c, now);
			return;
		}
		ctx->st.tcp_reset_in++;
		tcp_conn_drop(ctx, c, NET_CLOSE_RESET, now);
		return;
	}
	/* RFC 5961 §4.2: a SYN in a synchronized state, whatever its
	 * sequence number, draws a challenge ACK and is dropped. */
	if (seg->flags & TCP_SYN) {
		tcp_challenge_ack(ctx, c, now);
		return;
	}
	/* RFC 9293 §3.10.7.4 fifth: no ACK bit, drop. */
	if (!(seg->flags & TCP_ACK))
		return;
	/* RFC 5961 §5.2: acceptable ACKs lie in
	 * [SND.UNA - MAX.SND.WND, SND.NXT]; anything else: challenge ACK. */
	if (SEQ_GT(seg->ack, c->snd_max) || SEQ_LT(seg->ack, c->snd_una - c->max_snd_wnd)) {
		ctx->st.tcp_bad_ack++;
		tcp_challenge_ack(ctx, c, now);
		return;
	}
	/* RFC 7323 §4.3: TS.Recent from the segment covering RCV.NXT. */
	if ((c->flags & TCP_CF_TS) && (seg->opts & TCP_OPT_TS) && SEQ_LEQ(seq, c->rcv_nxt))
		c->ts_recent = seg->tsval;
	/* Trim what is already received, and what lies past the window. */
	if (SEQ_LT(seq, c->rcv_nxt)) {
		uint32_t dup = c->rcv_nxt - seq;

		if (dup >= len) {
			if (len != 0)
				ctx->st.tcp_dup_data++;
			if (dup > len)
				fin = 0; /* an old FIN */
			dup = len;
		}
		data += dup;
		len -= dup;
		seq += dup;
	}
	if (len != 0 && SEQ_GT(seq + len, c->rcv_nxt + wnd)) {
		len = c->rcv_nxt + wnd - seq;
		fin = 0;
	}
	ack_in(ctx, c, seg, now);
	if (c->state == TCP_CLOSED)
		return;
	if ((c->flags & TCP_CF_WANT_W) && !(c->flags & TCP_CF_APP_GONE) &&
	    (c->sbuf == NULL || c->sbuf->len < ctx->cfg.buf_size)) {
		c->flags &= (uint16_t)~TCP_CF_WANT_W;
		if (ctx->ops.writable != NULL)
			ctx->ops.writable(ctx->ops.arg, c, now);
		if (c->state == TCP_CLOSED)
			return;
	}
	if (len != 0) {
		if (c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 ||
		    c->state == TCP_FIN_WAIT_2)
			tcp_rcv_data(ctx, c, seq, data, len, now);
		else
			c->flags |= TCP_CF_ACK_NOW; /* data after the peer's FIN */
		if (c->state == TCP_CLOSED)
			return;
	}
	if (fin && seq + len == c->rcv_nxt && !(c->flags & TCP_CF_FIN_RCVD)) {
		c->rcv_nxt++;
		c->flags |= TCP_CF_FIN_RCVD | TCP_CF_ACK_NOW;
		switch (c->state) {
		case TCP_ESTABLISHED:
			c->state = TCP_CLOSE_WAIT;
			if (!(c->flags & TCP_CF_APP_GONE) && ctx->ops.peer_fin != NULL)
				ctx->ops.peer_fin(ctx->ops.arg, c, now);
			break;
		case TCP_FIN_WAIT_1:
			c->state = TCP_CLOSING; /* simultaneous close */
			break;
		case TCP_FIN_WAIT_2:
			tcp_send_ack(ctx, c, now);
			tcp_conn_time_wait(ctx, c, now);
			return;
		default:
			break;
		}
		if (c->state == TCP_CLOSED)
			return;
	} else if (fin && !(c->flags & TCP_CF_FIN_RCVD)) {
		c->flags |= TCP_CF_ACK_NOW; /* FIN beyond a hole: wait for the data */
	}
	if ((c->flags & TCP_CF_APP_GONE) && c->rbuf != NULL) {
		tcp_buf_put(ctx, c->rbuf);
		c->rbuf = NULL;
	}
	tcp_output(ctx, c, now);
}

/* ---- Entry ----------------------------------------------------------------- */

/* Returns non-zero when the TCP checksum (with the pseudo-header) holds. */
static int l4_cksum_ok(const struct rte_ipv4_hdr *ip, const void *th, uint32_t len)
{
	uint32_t s = (uint32_t)rte_raw_cksum(th, len) + rte_ipv4_phdr_cksum(ip, 0);

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

void tcp_input(struct net_ctx *ctx, struct rte_mbuf *m, void *ipv, uint64_t now)
{
	struct rte_ipv4_hdr *ip = ipv;
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint32_t hlen = (uint32_t)(ip->version_ihl & 0xf) * 4;
	uint32_t l4 = rte_be_to_cpu_16(ip->total_length) - hlen;
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)((uint8_t *)ip + hlen);
	struct tcp_seg seg;
	struct tcp_conn *c;
	uint32_t doff;
	uint64_t ck;

	ctx->st.tcp_in++;
	if (l4 < sizeof(*th)) {
		ctx->st.tcp_bad_len++;
		goto drop;
	}
	doff = (uint32_t)(th->data_off >> 4) * 4;
	if (doff < sizeof(*th) || doff > l4) {
		ctx->st.tcp_bad_len++;
		goto drop;
	}
	/* The PMD's verdict when it has one (NONE: data verified, checksum
	 * not filled in, e.g. from a virtio/tap peer); else check it here. */
	ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
	    (ck == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN && !l4_cksum_ok(ip, th, l4))) {
		ctx->st.tcp_bad_cksum++;
		goto drop;
	}
	memset(&seg, 0, sizeof(seg));
	seg.flags = th->tcp_flags & 0x3f;
	/* Nonsense combinations (SYN+FIN, SYN+RST, nothing at all) are
	 * scans, never a connection. */
	if ((seg.flags & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN) ||
	    (seg.flags & (TCP_SYN | TCP_RST)) == (TCP_SYN | TCP_RST) ||
	    (seg.flags & (TCP_SYN | TCP_RST | TCP_ACK | TCP_FIN)) == 0) {
		ctx->st.tcp_bad_flags++;
		goto drop;
	}
	if (tcp_parse_opts((const uint8_t *)(th + 1), doff - (uint32_t)sizeof(*th), &seg) != 0) {
		ctx->st.tcp_bad_opt++;
		goto drop;
	}
	seg.key.raddr = ip->src_addr;
	seg.key.laddr = ip->dst_addr;
	seg.key.rport = th->src_port;
	seg.key.lport = th->dst_port;
	seg.seq = rte_be_to_cpu_32(th->sent_seq);
	seg.ack = rte_be_to_cpu_32(th->recv_ack);
	seg.wnd = rte_be_to_cpu_16(th->rx_win);
	seg.data = (const uint8_t *)th + doff;
	seg.len = l4 - doff;
	seg.mac = eh->src_addr.addr_bytes;

	c = tcp_conn_find(ctx, &seg.key);
	if (c != NULL) {
		tcp_conn_input(ctx, c, &seg, now);
		goto drop;
	}
	if (tcp_tw_input(ctx, &seg, now))
		goto drop;
	if (!tcp_listening(ctx, rte_be_to_cpu_16(seg.key.lport))) {
		ctx->st.tcp_no_listener++;
		if (ctx->ops.punt != NULL) {
			ctx->ops.punt(ctx->ops.arg, m);
			return;
		}
		tcp_reply_rst(ctx, &seg);
		goto drop;
	}
	if ((seg.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
		tcp_syn_input(ctx, &seg, now);
		goto drop;
	}
	if (tcp_syn_complete(ctx, &seg, now))
		goto drop;
	if (seg.flags & TCP_RST)
		ctx->st.tcp_rst_in_ignored++;
	else
		tcp_reply_rst(ctx, &seg);
drop:
	rte_pktmbuf_free(m);
	tcp_reap(ctx);
}
