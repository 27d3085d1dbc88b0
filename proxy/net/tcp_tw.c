/*
 * tcp_tw.c — TIME-WAIT in compact entries of their own, kept in a ring in
 * arrival order: every entry lives the same time, so the ring is also the
 * expiry order and its head is the oldest (recycled when the ring is full).
 */
#include <string.h>

#include <rte_byteorder.h>

#include "net_ctx.h"

_Static_assert(sizeof(struct tcp_tw) <= 32, "TIME-WAIT entries must stay <= 32 bytes");

static void tw_kill(struct net_ctx *ctx, struct tcp_tw *e)
{
	tcp_ftab_del(&ctx->twtab, tcp_ftab_hash(&ctx->twtab, &e->key), (uint32_t)(e - ctx->tws));
	e->flags = 0;
	ctx->st.tw--;
}

static void tw_put(struct net_ctx *ctx, const struct tcp_tw *src, uint64_t now)
{
	uint32_t max = ctx->cfg.max_tw;
	struct tcp_tw *e;

	if (max == 0)
		return;
	if (ctx->tw_n == max) {
		e = &ctx->tws[ctx->tw_head];
		if (e->flags & TCP_TWF_LIVE) {
			ctx->st.tw_recycled++;
			tw_kill(ctx, e);
		}
		ctx->tw_head = (ctx->tw_head + 1) % max;
		ctx->tw_n--;
	}
	e = &ctx->tws[(ctx->tw_head + ctx->tw_n) % max];
	*e = *src;
	e->flags |= TCP_TWF_LIVE;
	e->expire = (uint32_t)(now + ctx->cfg.tw_ms);
	tcp_ftab_add(&ctx->twtab, tcp_ftab_hash(&ctx->twtab, &e->key), (uint32_t)(e - ctx->tws));
	ctx->tw_n++;
	ctx->st.tw++;
}

void tcp_tw_add(struct net_ctx *ctx, const struct tcp_conn *c, uint64_t now)
{
	struct tcp_tw e;

	memset(&e, 0, sizeof(e));
	e.key = c->key;
	e.snd_nxt = c->snd_max;
	e.rcv_nxt = c->rcv_nxt;
	e.ts_recent = c->ts_recent;
	e.wnd =
	    (uint16_t)(ctx->cfg.buf_size >> c->rcv_ws > 0xffff ? 0xffff
							       : ctx->cfg.buf_size >> c->rcv_ws);
	e.flags = (c->flags & TCP_CF_TS) ? TCP_TWF_TS : 0;
	ctx->st.tw_enter++;
	tw_put(ctx, &e, now);
}

static void tw_ack(struct net_ctx *ctx, const struct tcp_tw *e, const uint8_t *mac, uint64_t now)
{
	uint8_t o[12];
	uint32_t n = 0;

	if (e->flags & TCP_TWF_TS)
		n = tcp_put_ts_opt(o, now, e->ts_recent);
	ctx->st.tw_ack++;
	tcp_emit(ctx, &e->key, mac, e->snd_nxt, e->rcv_nxt, TCP_ACK, e->wnd, o, n, NULL, 0);
}

int tcp_tw_input(struct net_ctx *ctx, struct tcp_seg *seg, uint64_t now)
{
	int64_t i;
	struct tcp_tw *e;

	if (ctx->tw_n == 0)
		return 0;
	i = tcp_ftab_find(&ctx->twtab, &seg->key, tcp_ftab_hash(&ctx->twtab, &seg->key));
	if (i < 0)
		return 0;
	e = &ctx->tws[i];
	if (seg->flags & TCP_RST) {
		/* RFC 1337 (TIME-WAIT assassination): ignore RST here. */
		ctx->st.tcp_rst_in_ignored++;
		return 1;
	}
	if ((seg->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		int ok;

		/* RFC 6191 §2: with timestamps on both sides a SYN whose TSval
		 * is newer than TS.Recent may reuse the pair; without them
		 * (RFC 1122 §4.2.2.13) its ISN must lie beyond RCV.NXT. */
		if ((e->flags & TCP_TWF_TS) && (seg->opts & TCP_OPT_TS))
			ok = (int32_t)(seg->tsval - e->ts_recent) > 0;
		else
			ok = SEQ_GT(seg->seq, e->rcv_nxt);
		if (ok) {
			ctx->st.tw_reused++;
			tw_kill(ctx, e);
			return 0;
		}
	}
	/* RFC 9293 §3.10.7.4 TIME-WAIT: acknowledge, and a retransmitted FIN
	 * restarts the 2 MSL timeout. */
	tw_ack(ctx, e, seg->mac, now);
	if ((seg->flags & TCP_FIN) && seg->seq + seg->len + 1 == e->rcv_nxt) {
		struct tcp_tw copy = *e;

		tw_kill(ctx, e);
		copy.flags &= (uint8_t)~TCP_TWF_LIVE;
		tw_put(ctx, &copy, now);
	}
	return 1;
}

uint64_t tcp_tw_expire(struct net_ctx *ctx, uint64_t now)
{
	uint32_t n32 = (uint32_t)now;

	while (ctx->tw_n != 0) {
		struct tcp_tw *e = &ctx->tws[ctx->tw_head];

		if (e->flags & TCP_TWF_LIVE) {
			if (!T32_GEQ(n32, e->expire))
				return now + (uint32_t)(e->expire - n32);
			ctx->st.tw_expired++;
			tw_kill(ctx, e);
		}
		ctx->tw_head = (ctx->tw_head + 1) % ctx->cfg.max_tw;
		ctx->tw_n--;
	}
	return UINT64_MAX;
}
