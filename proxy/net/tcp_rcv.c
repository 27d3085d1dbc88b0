/*
 * tcp_rcv.c — the receive side of a flow: in-order delivery to the app,
 * bytes the app did not consume, and the bounded out-of-order queue. A
 * buffer is taken from the pool only while bytes are pending.
 */
#include <string.h>

#include "net_ctx.h"

static void rbuf_release(struct net_ctx *ctx, struct tcp_conn *c)
{
	if (c->rbuf != NULL) {
		tcp_buf_put(ctx, c->rbuf);
		c->rbuf = NULL;
	}
}

/* Copies seg bytes for seq into b at their place. Returns 0 or -1. */
static int rbuf_place(struct net_ctx *ctx, struct tcp_conn *c, uint32_t seq, const uint8_t *p,
		      uint32_t len)
{
	struct tcp_buf *b = c->rbuf;
	uint32_t end = seq + len;
	uint32_t ext;

	if (b->n_ooo != 0 && SEQ_GT(b->ooo[b->n_ooo - 1].end, end))
		end = b->ooo[b->n_ooo - 1].end;
	ext = b->len + (end - c->rcv_nxt); /* bytes from off to the furthest end */
	if (ext > ctx->cfg.buf_size)
		return -1;
	if (b->off + ext > ctx->cfg.buf_size) {
		/* Lazy compaction: amortised over the bytes consumed. */
		uint32_t keep = b->len;

		if (b->n_ooo != 0)
			keep += b->ooo[b->n_ooo - 1].end - c->rcv_nxt;
		memmove(b->data, b->data + b->off, keep);
		b->off = 0;
	}
	memcpy(b->data + b->off + b->len + (seq - c->rcv_nxt), p, len);
	return 0;
}

/* Offers p[0..len) to the app until it takes nothing more. Returns bytes
 * consumed. */
static uint32_t offer(struct net_ctx *ctx, struct tcp_conn *c, const uint8_t *p, uint32_t len,
		      uint64_t now)
{
	uint32_t done = 0;
	int again = 1;

	c->flags |= TCP_CF_INRECV;
	while (done < len && !(c->flags & TCP_CF_APP_GONE) && c->state != TCP_CLOSED) {
		size_t k;

		c->flags &= (uint16_t)~TCP_CF_RESUME;
		k = ctx->ops.recv(ctx->ops.arg, c, p + done, len - done, now);
		if (k == 0) {
			/* net_resume() from inside: one more offer, not a loop. */
			if (!(c->flags & TCP_CF_RESUME) || !again)
				break;
			again = 0;
			continue;
		}
		again = 1;
		done += k > len - done ? len - done : (uint32_t)k;
	}
	c->flags &= (uint16_t) ~(TCP_CF_INRECV | TCP_CF_RESUME);
	return done;
}

void tcp_deliver_held(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now)
{
	struct tcp_buf *b = c->rbuf;
	uint32_t k;

	if (b == NULL || b->len == 0)
		return;
	k = offer(ctx, c, b->data + b->off, b->len, now);
	if (c->state == TCP_CLOSED)
		return;
	if (c->flags & TCP_CF_APP_GONE) {
		rbuf_release(ctx, c);
		return;
	}
	b->off += k;
	b->len -= k;
	if (b->len == 0 && b->n_ooo == 0)
		rbuf_release(ctx, c);
}

/* Out-of-order bytes [seq, seq+len), seq > RCV.NXT, inside the window. */
static void ooo_insert(struct net_ctx *ctx, struct tcp_conn *c, uint32_t seq, const uint8_t *p,
		       uint32_t len)
{
	struct tcp_buf *b;
	uint32_t s = seq, e = seq + len, covered = 0, i, j, n_new, fresh;

	ctx->st.tcp_ooo_in++;
	if (c->rbuf == NULL && (c->rbuf = tcp_buf_get(ctx)) == NULL) {
		ctx->st.tcp_ooo_drop++;
		return;
	}
	b = c->rbuf;
	/* Ranges are sorted and disjoint: one pass finds those the new one
	 * touches; the work per segment is bounded by ooo_segs. */
	for (i = 0; i < b->n_ooo && SEQ_LT(b->ooo[i].end, s); i++)
		;
	for (j = i; j < b->n_ooo && SEQ_LEQ(b->ooo[j].start, e); j++) {
		if (SEQ_LT(b->ooo[j].start, s))
			s = b->ooo[j].start;
		if (SEQ_GT(b->ooo[j].end, e))
			e = b->ooo[j].end;
		covered += b->ooo[j].end - b->ooo[j].start;
	}
	fresh = (e - s) - covered;
	if (fresh == 0) {
		ctx->st.tcp_dup_data++;
		return;
	}
	n_new = b->n_ooo - (j - i) + 1;
	if (n_new > ctx->ooo_segs || b->ooo_bytes + fresh > ctx->cfg.ooo_bytes ||
	    rbuf_place(ctx, c, seq, p, len) != 0) {
		ctx->st.tcp_ooo_drop++;
		if (b->len == 0 && b->n_ooo == 0)
			rbuf_release(ctx, c);
		return;
	}
	memmove(&b->ooo[i + 1], &b->ooo[j], (b->n_ooo - j) * sizeof(b->ooo[0]));
	b->ooo[i].start = s;
	b->ooo[i].end = e;
	b->n_ooo = (uint16_t)n_new;
	b->ooo_bytes += fresh;
}

void tcp_rcv_data(struct net_ctx *ctx, struct tcp_conn *c, uint32_t seq, const uint8_t *p,
		  uint32_t len, uint64_t now)
{
	struct tcp_buf *b = c->rbuf;

	c->flags |= TCP_CF_ACK_NOW;
	if (c->flags & TCP_CF_APP_GONE) {
		/* DESIGN §3 linger: ACK and discard what arrives in order. */
		if (seq == c->rcv_nxt)
			c->rcv_nxt += len;
		ctx->st.tcp_linger_discard++;
		return;
	}
	if (seq != c->rcv_nxt) {
		/* RFC 5681 §4.2: the immediate ACK doubles as a dupack. */
		ooo_insert(ctx, c, seq, p, len);
		return;
	}
	if (b == NULL || (b->len == 0 && b->n_ooo == 0)) {
		uint32_t k, rest;

		c->rcv_nxt += len;
		k = offer(ctx, c, p, len, now);
		if (c->state == TCP_CLOSED || (c->flags & TCP_CF_APP_GONE))
			return;
		rest = len - k;
		if (rest == 0) {
			rbuf_release(ctx, c);
			return;
		}
		if (b == NULL && (b = c->rbuf = tcp_buf_get(ctx)) == NULL) {
			/* Keep nothing: the peer will send the rest again. */
			c->rcv_nxt -= rest;
			return;
		}
		ctx->st.tcp_partial_keep++;
		b->off = 0;
		memcpy(b->data, p + k, rest);
		b->len = rest;
		return;
	}
	if (rbuf_place(ctx, c, seq, p, len) != 0) {
		ctx->st.tcp_ooo_drop++;
		return;
	}
	b->len += len;
	c->rcv_nxt += len;
	/* Pull in the out-of-order ranges that are now contiguous. */
	while (b->n_ooo != 0 && SEQ_LEQ(b->ooo[0].start, c->rcv_nxt)) {
		if (SEQ_GT(b->ooo[0].end, c->rcv_nxt)) {
			b->len += b->ooo[0].end - c->rcv_nxt;
			c->rcv_nxt = b->ooo[0].end;
		}
		b->ooo_bytes -= b->ooo[0].end - b->ooo[0].start;
		b->n_ooo--;
		memmove(&b->ooo[0], &b->ooo[1], b->n_ooo * sizeof(b->ooo[0]));
	}
	tcp_deliver_held(ctx, c, now);
}
