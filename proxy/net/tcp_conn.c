/*
 * tcp_conn.c — the flow pool and table, buffers, and the calls the app
 * makes on a connection (send, resume, close, abort).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_mempool.h>

#include "net_asan.h"
#include "net_ctx.h"


/* The memory budget of an idle session (<= 256 bytes with its table and
 * timer share) starts here. */
_Static_assert(sizeof(struct tcp_conn) <= 144, "struct tcp_conn grew past 144 bytes");

/* ---- Pool and table ---------------------------------------------------- */

/*
 * Free flows form a list through their timer's next word (a free flow's
 * timer is not armed, so the word is the owner's: wheel.h), pushed and
 * popped at ctx->conn_free1; everything else of a free flow is poisoned.
 */
void tcp_conn_poison_free(struct net_ctx *ctx, struct tcp_conn *c)
{
	size_t at = offsetof(struct tcp_conn, tm) + offsetof(struct wheel_timer, next);

	c->tm.next = ctx->conn_free1;
	ctx->conn_free1 = (uint32_t)(c - ctx->conns) + 1;
	NET_POISON(c, at);
	NET_POISON((uint8_t *)c + at + sizeof(uint32_t), sizeof(*c) - at - sizeof(uint32_t));
}

struct tcp_conn *tcp_conn_alloc(struct net_ctx *ctx)
{
	struct tcp_conn *c;

	if (ctx->conn_free1 == 0) {
		ctx->st.tcp_conn_full++;
		return NULL;
	}
	c = &ctx->conns[ctx->conn_free1 - 1];
	ctx->conn_free1 = c->tm.next;
	NET_UNPOISON(c, sizeof(*c));
	memset(c, 0, sizeof(*c));
	ctx->st.conns++;
	return c;
}

struct tcp_conn *tcp_conn_find(struct net_ctx *ctx, const struct tcp_key *k)
{
	int64_t i = tcp_ftab_find(&ctx->ftab, k, tcp_ftab_hash(&ctx->ftab, k));

	return i < 0 ? NULL : &ctx->conns[i];
}

void tcp_conn_insert(struct net_ctx *ctx, struct tcp_conn *c)
{
	tcp_ftab_add(&ctx->ftab, tcp_ftab_hash(&ctx->ftab, &c->key), (uint32_t)(c - ctx->conns));
}

static void buf_unwait(struct net_ctx *ctx, struct tcp_conn *c)
{
	uint32_t me = (uint32_t)(c - ctx->conns) + 1;
	uint32_t *pp = &ctx->buf_wait;

	while (*pp != 0 && *pp != me)
		pp = &ctx->conns[*pp - 1].wait_next;
	if (*pp == me)
		*pp = c->wait_next;
	c->wait_next = 0;
	c->flags &= (uint16_t)~TCP_CF_BUFWAIT;
}

void tcp_buf_wait(struct net_ctx *ctx, struct tcp_conn *c)
{
	if (c->flags & TCP_CF_BUFWAIT)
		return;
	c->flags |= TCP_CF_BUFWAIT;
	c->wait_next = ctx->buf_wait;
	ctx->buf_wait = (uint32_t)(c - ctx->conns) + 1;
}

void tcp_buf_wake(struct net_ctx *ctx, uint64_t now)
{
	/* Waiters are popped one by one, so the app may send, close or abort
	 * any flow from its upcall. */
	while (ctx->buf_wait != 0 && ctx->st.bufs < ctx->cfg.n_bufs) {
		struct tcp_conn *c = &ctx->conns[ctx->buf_wait - 1];

		buf_unwait(ctx, c);
		if ((c->flags & TCP_CF_WANT_W) && !(c->flags & TCP_CF_APP_GONE) &&
		    c->state != TCP_CLOSED) {
			c->flags &= (uint16_t)~TCP_CF_WANT_W;
			if (ctx->ops.writable != NULL)
				ctx->ops.writable(ctx->ops.arg, c, now);
		}
	}
}

void tcp_conn_free(struct net_ctx *ctx, struct tcp_conn *c)
{
	uint32_t idx = (uint32_t)(c - ctx->conns);

	if (c->flags & TCP_CF_BUFWAIT)
		buf_unwait(ctx, c);
	tcp_ftab_del(&ctx->ftab, tcp_ftab_hash(&ctx->ftab, &c->key), idx);
	wheel_cancel(&ctx->wheel, &c->tm);
	if (c->rbuf != NULL)
		tcp_buf_put(ctx, c->rbuf);
	if (c->sbuf != NULL)
		tcp_buf_put(ctx, c->sbuf);
	c->state = TCP_CLOSED;
	tcp_conn_poison_free(ctx, c);
	ctx->st.conns--;
}

struct tcp_buf *tcp_buf_get(struct net_ctx *ctx)
{
	void *p;
	struct tcp_buf *b;

	if (rte_mempool_get(ctx->bufs, &p) != 0) {
		ctx->st.tcp_buf_nomem++;
		return NULL;
	}
	b = p;
	NET_UNPOISON(b, sizeof(*b) + ctx->cfg.buf_size);
	b->off = 0;
	b->len = 0;
	b->ooo_bytes = 0;
	b->n_ooo = 0;
	ctx->st.bufs++;
	return b;
}

void tcp_buf_put(struct net_ctx *ctx, struct tcp_buf *b)
{
	NET_POISON(b, sizeof(*b) + ctx->cfg.buf_size);
	rte_mempool_put(ctx->bufs, b);
	ctx->st.bufs--;
}

void tcp_conn_release(struct net_ctx *ctx, struct tcp_conn *c)
{
	if (c->flags & TCP_CF_DOOMED)
		return;
	if (!ctx->in_input) {
		tcp_conn_free(ctx, c);
		return;
	}
	c->state = TCP_CLOSED;
	c->flags |= TCP_CF_DOOMED | TCP_CF_APP_GONE;
	wheel_cancel(&ctx->wheel, &c->tm);
	c->tm.next = ctx->doomed; /* the owner's while not armed */
	ctx->doomed = (uint32_t)(c - ctx->conns) + 1;
}

void tcp_reap(struct net_ctx *ctx)
{
	while (ctx->doomed != 0) {
		struct tcp_conn *c = &ctx->conns[ctx->doomed - 1];

		ctx->doomed = c->tm.next;
		c->tm.next = 0;
		tcp_conn_free(ctx, c);
	}
}

void tcp_conn_drop(struct net_ctx *ctx, struct tcp_conn *c, enum net_close_reason why, uint64_t now)
{
	if (!(c->flags & TCP_CF_APP_GONE)) {
		c->flags |= TCP_CF_APP_GONE;
		if (ctx->ops.closed != NULL)
			ctx->ops.closed(ctx->ops.arg, c, why, now);
	}
	tcp_conn_release(ctx, c);
}

void tcp_conn_time_wait(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now)
{
	tcp_tw_add(ctx, c, now);
	c->flags |= TCP_CF_APP_GONE;
	tcp_conn_release(ctx, c);
}

/* ---- Calls for the app ------------------------------------------------- */

void net_conn_set_app(struct tcp_conn *c, void *app)
{
	c->app = app;
}

void *net_conn_app(const struct tcp_conn *c)
{
	return c->app;
}

void net_conn_peer(const struct tcp_conn *c, uint32_t *raddr, uint16_t *rport, uint32_t *laddr,
		   uint16_t *lport)
{
	*raddr = c->key.raddr;
	*rport = c->key.rport;
	*laddr = c->key.laddr;
	*lport = c->key.lport;
}

size_t net_send_space(const struct net_ctx *ctx, const struct tcp_conn *c)
{
	if (c->flags & (TCP_CF_APP_GONE | TCP_CF_FIN_Q) || c->state == TCP_CLOSED)
		return 0;
	return ctx->cfg.buf_size - (c->sbuf != NULL ? c->sbuf->len : 0);
}

long net_send(struct net_ctx *ctx, struct tcp_conn *c, const void *p, size_t len, uint64_t now)
{
	struct tcp_buf *b;
	size_t n;

	if (c->flags & (TCP_CF_APP_GONE | TCP_CF_FIN_Q) ||
	    (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT))
		return -EPIPE;
	if (len == 0)
		return 0;
	b = c->sbuf;
	if (b == NULL) {
		b = c->sbuf = tcp_buf_get(ctx);
		if (b == NULL) {
			c->flags |= TCP_CF_WANT_W;
			tcp_buf_wait(ctx, c);
			return 0;
		}
	}
	n = ctx->cfg.buf_size - b->len;
	if (n > len)
		n = len;
	if (n < len)
		c->flags |= TCP_CF_WANT_W;
	if (b->off + b->len + n > ctx->cfg.buf_size) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	memcpy(b->data + b->off + b->len, p, n);
	b->len += (uint32_t)n;
	if (!ctx->in_input)
		tcp_output(ctx, c, now);
	return (long)n;
}

void net_resume(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now)
{
	uint32_t before = c->rcv_adv - c->rcv_nxt;
	uint8_t nested = ctx->in_input;
	uint32_t held;

	if (c->flags & TCP_CF_APP_GONE)
		return;
	if (c->flags & TCP_CF_INRECV) {
		/* Called from this flow's own recv: the delivery loop up the
		 * stack offers again when the upcall returns. */
		c->flags |= TCP_CF_RESUME;
		return;
	}
	/* Upcalls follow: the app may close or abort c (or others) in them. */
	ctx->in_input = 1;
	tcp_deliver_held(ctx, c, now);
	ctx->in_input = nested;
	if (nested)
		return; /* the input path sends and reaps */
	if (c->state == TCP_CLOSED) {
		tcp_reap(ctx);
		return;
	}
	if ((c->flags & TCP_CF_APP_GONE) && c->rbuf != NULL) {
		tcp_buf_put(ctx, c->rbuf);
		c->rbuf = NULL;
	}
	tcp_reap(ctx);
	/* RFC 9293 §3.8.6.2.2: update the window when it grew by at least
	 * min(buffer / 2, MSS) — receiver-side SWS avoidance. */
	held = c->rbuf != NULL ? c->rbuf->len : 0;
	if (ctx->cfg.buf_size - held >=
	    before + (ctx->cfg.buf_size / 2 < c->mss ? ctx->cfg.buf_size / 2 : c->mss))
		c->flags |= TCP_CF_ACK_NOW;
	tcp_output(ctx, c, now);
}

void net_close(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now)
{
	if (c->flags & TCP_CF_APP_GONE)
		return;
	c->flags |= TCP_CF_APP_GONE | TCP_CF_FIN_Q;
	c->flags &= (uint16_t)~TCP_CF_WANT_W;
	c->app = NULL;
	/* DESIGN §3: from now on, what the peer sends is ACKed and discarded.
	 * The linger time does not start here: the reply and our FIN may be
	 * lost and need the retransmission timer (RFC 6298 §5, bounded by
	 * rtx_max) first. It starts once our FIN is acknowledged (tcp_in.c,
	 * FIN_WAIT_1 -> FIN_WAIT_2); LAST_ACK and CLOSING need none. */
	if (c->state == TCP_ESTABLISHED)
		c->state = TCP_FIN_WAIT_1;
	else if (c->state == TCP_CLOSE_WAIT)
		c->state = TCP_LAST_ACK;
	if (ctx->in_input) {
		c->flags |= TCP_CF_ACK_NOW;
		return; /* the input path drops held bytes and sends */
	}
	if (c->rbuf != NULL) {
		tcp_buf_put(ctx, c->rbuf);
		c->rbuf = NULL;
	}
	tcp_conn_rearm(ctx, c, now);
	tcp_output(ctx, c, now);
}

void net_abort(struct net_ctx *ctx, struct tcp_conn *c, uint64_t now)
{
	if (c->state == TCP_CLOSED)
		return;
	c->flags |= TCP_CF_APP_GONE;
	c->app = NULL;
	tcp_send_rst(ctx, c, now);
	tcp_conn_release(ctx, c);
}

const char *net_conn_state(const struct tcp_conn *c)
{
	static const char *const names[] = {
		"CLOSED",  "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
		"CLOSING", "CLOSE_WAIT",  "LAST_ACK",   "TIME_WAIT",
	};

	return c->state < sizeof(names) / sizeof(names[0]) ? names[c->state] : "?";
}

size_t net_conn_size(void)
{
	return sizeof(struct tcp_conn);
}

size_t net_conn_footprint(const struct net_ctx *ctx)
{
	uint32_t n = ctx->cfg.max_conns;

	/* flow object (with its embedded timer node, which also links it
	 * while free) + table slots; the wheel's slots are shared by all
	 * timers. */
	return sizeof(struct tcp_conn) + tcp_ftab_mem(n) / n +
	       (wheel_mem_size(ctx->wheel.mask + 1) + n - 1) / n;
}
