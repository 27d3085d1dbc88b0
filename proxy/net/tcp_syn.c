/*
 * tcp_syn.c — passive open: the bounded half-open table with SYN-ACK
 * retransmission, SYN cookies when it is full (RFC 4987 §3.6), ISNs per
 * RFC 6528, and the birth of an established flow.
 */
#include <string.h>

#include <rte_byteorder.h>

#include "net_ctx.h"
#include "siphash.h"

/* Cookie layout (the ISN of our SYN-ACK):
 *   31..27  time counter (64 s units) mod 32
 *   26..25  MSS index
 *   24      secret generation bit
 *   23..0   SipHash(secret, 4-tuple, peer ISN, counter, MSS index)
 * A cookie is valid for the counter it was made in and the one after
 * (64-128 s). Window scale and SACK-permitted ride in the low 5 bits of our
 * TSval (RFC 4987 §3.6: timestamps keep them across the stateless gap);
 * without timestamps the SYN-ACK offers no window scaling. */
#define COOKIE_PERIOD_MS 64000u
#define TS_OPT_BITS      5
#define TS_OPT_MASK      0x1fu
#define TS_WS_NONE       0xfu

static const uint16_t cookie_mss[4] = { 536, 1220, 1440, 1460 };

int tcp_listening(const struct net_ctx *ctx, uint16_t lport)
{
	for (uint32_t i = 0; i < ctx->cfg.n_ports; i++)
		if (ctx->cfg.ports[i] == lport)
			return 1;
	return 0;
}

uint32_t tcp_isn(const struct net_ctx *ctx, const struct tcp_key *k, uint64_t now)
{
	/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
	 * secretkey), M a 4-microsecond timer, F a keyed PRF. */
	return (uint32_t)(now * 250u) + (uint32_t)net_siphash(ctx->cfg.isn_key, k, sizeof(*k));
}

static uint32_t cookie_hash(const uint64_t key[2], const struct tcp_key *k, uint32_t irs,
			    uint32_t tcount, uint32_t mssi)
{
	uint32_t in[6];

	memcpy(in, k, sizeof(*k));
	in[3] = irs;
	in[4] = tcount;
	in[5] = mssi;
	return (uint32_t)net_siphash(key, in, sizeof(in)) & 0xffffffu;
}

static uint32_t cookie_make(const struct net_ctx *ctx, const struct tcp_key *k, uint32_t irs,
			    uint16_t mss, uint64_t now)
{
	const struct net_cookie_secret *s = ctx->secret;
	uint32_t g = __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) & 1u;
	uint32_t tcount = (uint32_t)(now / COOKIE_PERIOD_MS);
	uint32_t mssi = 0;

	for (uint32_t i = 0; i < 4; i++)
		if (cookie_mss[i] <= mss)
			mssi = i;
	return (tcount & 31u) << 27 | mssi << 25 | g << 24 |
	       cookie_hash(s->key[g], k, irs, tcount, mssi);
}

/* Returns the MSS the cookie carries, or 0 when it is forged or expired. */
static uint16_t cookie_check(const struct net_ctx *ctx, const struct tcp_key *k, uint32_t irs,
			     uint32_t cookie, uint64_t now)
{
	const struct net_cookie_secret *s = ctx->secret;
	uint32_t cur = (uint32_t)(now / COOKIE_PERIOD_MS);
	uint32_t mssi = (cookie >> 25) & 3u, g = (cookie >> 24) & 1u;

	for (uint32_t age = 0; age < 2; age++) {
		uint32_t tc = cur - age;

		if ((tc & 31u) != cookie >> 27)
			continue;
		if (cookie_hash(s->key[g], k, irs, tc, mssi) == (cookie & 0xffffffu))
			return cookie_mss[mssi];
	}
	return 0;
}

void net_cookie_init(struct net_cookie_secret *s, const uint64_t key[2])
{
	memset(s, 0, sizeof(*s));
	memcpy(s->key[0], key, sizeof(s->key[0]));
	memcpy(s->key[1], key, sizeof(s->key[1]));
}

void net_cookie_rotate(struct net_cookie_secret *s, const uint64_t key[2])
{
	uint32_t next = s->gen + 1;

	/* Write the slot not in use, then publish it. */
	memcpy(s->key[next & 1], key, sizeof(s->key[0]));
	__atomic_store_n(&s->gen, next, __ATOMIC_RELEASE);
}

/* ---- SYN-ACK ----------------------------------------------------------- */

static void synack(struct net_ctx *ctx, const struct tcp_key *k, const uint8_t *mac, uint32_t iss,
		   uint32_t irs, int ws, int ts, uint32_t tsval, uint32_t tsecr)
{
	uint8_t o[20];
	uint32_t n = 0, v;
	uint16_t wnd = ctx->cfg.buf_size > 0xffff ? 0xffff : (uint16_t)ctx->cfg.buf_size;

	o[n++] = 2;
	o[n++] = 4;
	o[n++] = (uint8_t)(ctx->mss >> 8);
	o[n++] = (uint8_t)ctx->mss;
	if (ws) { /* RFC 7323 §2.2: only when the SYN carried WSopt */
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = ctx->rcv_ws;
	}
	if (ts) { /* RFC 7323 §3.2: only when the SYN carried TSopt */
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 8;
		o[n++] = 10;
		v = rte_cpu_to_be_32(tsval);
		memcpy(o + n, &v, 4);
		v = rte_cpu_to_be_32(tsecr);
		memcpy(o + n + 4, &v, 4);
		n += 8;
	}
	ctx->st.tcp_synack_out++;
	/* RFC 7323 §2.2: the window of a SYN segment is never scaled. */
	tcp_emit(ctx, k, mac, iss, irs + 1, TCP_SYN | TCP_ACK, wnd, o, n, NULL, 0);
}

static void syn_send(struct net_ctx *ctx, const struct tcp_syn *s, uint64_t now)
{
	synack(ctx, &s->key, s->mac, s->iss, s->irs, s->flags & TCP_SF_WS, s->flags & TCP_SF_TS,
	       tcp_ts_now(now), s->ts_recent);
}

static void syn_free(struct net_ctx *ctx, struct tcp_syn *s)
{
	uint32_t idx = (uint32_t)(s - ctx->syns);

	tcp_ftab_del(&ctx->stab, tcp_ftab_hash(&ctx->stab, &s->key), idx);
	wheel_cancel(&ctx->wheel, &s->tm);
	s->flags = 0;
	ctx->syn_free[ctx->syn_nfree++] = idx;
	ctx->st.halfopen--;
}

void tcp_syn_timer(struct net_ctx *ctx, struct tcp_syn *s, uint64_t now)
{
	/* SMTP is server-first: if the final ACK was lost, only our SYN-ACK
	 * retransmission (RFC 9293 §3.8.1) brings the client back. */
	if (++s->tries > ctx->cfg.synack_retries) {
		ctx->st.tcp_halfopen_expired++;
		syn_free(ctx, s);
		return;
	}
	ctx->st.tcp_synack_rtx++;
	syn_send(ctx, s, now);
	wheel_arm(&ctx->wheel, &s->tm, now + ((uint64_t)ctx->cfg.rto_init_ms << s->tries));
}

void tcp_syn_input(struct net_ctx *ctx, struct tcp_seg *seg, uint64_t now)
{
	uint32_t h = tcp_ftab_hash(&ctx->stab, &seg->key);
	int64_t i = tcp_ftab_find(&ctx->stab, &seg->key, h);
	uint16_t mss = (seg->opts & TCP_OPT_MSS) ? seg->mss : 536;
	struct tcp_syn *s;

	ctx->st.tcp_syn_in++;
	if (i >= 0) {
		/* A retransmitted SYN: answer again from the entry. */
		s = &ctx->syns[i];
		if (seg->seq == s->irs) {
			ctx->st.tcp_synack_rtx++;
			syn_send(ctx, s, now);
		}
		return;
	}
	if (ctx->ops.syn_filter != NULL &&
	    ctx->ops.syn_filter(ctx->ops.arg, seg->key.raddr, rte_be_to_cpu_16(seg->key.lport),
				now)) {
		ctx->st.tcp_syn_filtered++;
		return;
	}
	if (ctx->cfg.syncookies == 2 || (ctx->syn_nfree == 0 && ctx->cfg.syncookies)) {
		uint32_t tsval = 0;
		int ts = !!(seg->opts & TCP_OPT_TS);

		if (ctx->syn_nfree == 0)
			ctx->st.tcp_halfopen_full++;
		if (ts) {
			uint32_t n32 = tcp_ts_now(now);
			uint32_t bits = ((seg->opts & TCP_OPT_SACKOK) ? 0x10u : 0) |
					((seg->opts & TCP_OPT_WS) ? seg->ws : TS_WS_NONE);

			/* Keep TSval <= our clock, so later TSvals never go back. */
			tsval = (n32 & ~TS_OPT_MASK) | bits;
			if (tsval > n32)
				tsval -= 1u << TS_OPT_BITS;
		}
		ctx->st.tcp_cookie_sent++;
		synack(ctx, &seg->key, seg->mac, cookie_make(ctx, &seg->key, seg->seq, mss, now),
		       seg->seq, ts && (seg->opts & TCP_OPT_WS), ts, tsval, seg->tsval);
		return;
	}
	if (ctx->syn_nfree == 0) {
		ctx->st.tcp_halfopen_full++;
		return;
	}
	i = ctx->syn_free[--ctx->syn_nfree];
	s = &ctx->syns[i];
	memset(s, 0, sizeof(*s));
	s->key = seg->key;
	s->irs = seg->seq;
	s->iss = tcp_isn(ctx, &seg->key, now);
	s->mss = mss;
	s->flags = 0x80; /* in use */
	if (seg->opts & TCP_OPT_WS) {
		s->flags |= TCP_SF_WS;
		s->ws = seg->ws;
	}
	if (seg->opts & TCP_OPT_TS) {
		s->flags |= TCP_SF_TS;
		s->ts_recent = seg->tsval;
	}
	if (seg->opts & TCP_OPT_SACKOK)
		s->flags |= TCP_SF_SACK;
	memcpy(s->mac, seg->mac, 6);
	tcp_ftab_add(&ctx->stab, h, (uint32_t)i);
	ctx->st.halfopen++;
	syn_send(ctx, s, now);
	wheel_arm(&ctx->wheel, &s->tm, now + ctx->cfg.rto_init_ms);
}

/* A new established flow; feeds it seg (the handshake's final ACK, maybe
 * with data). rtx: our SYN-ACK had to be retransmitted. */
static void conn_birth(struct net_ctx *ctx, const struct tcp_seg *seg, uint32_t iss, uint32_t irs,
		       uint16_t peer_mss, int ws, uint8_t peer_ws, int ts, int sack, int rtx,
		       uint64_t now)
{
	struct tcp_seg s2 = *seg;
	struct tcp_conn *c = tcp_conn_alloc(ctx);
	uint32_t mss;

	if (c == NULL) {
		tcp_reply_rst(ctx, seg);
		return;
	}
	c->key = seg->key;
	memcpy(c->mac, seg->mac, 6);
	c->state = TCP_ESTABLISHED;
	c->snd_una = c->snd_nxt = c->snd_max = iss + 1;
	c->rcv_nxt = irs + 1;
	c->rcv_adv = c->rcv_nxt + (ctx->cfg.buf_size > 0xffff ? 0xffff : ctx->cfg.buf_size);
	if (ws) {
		c->snd_ws = peer_ws;
		c->rcv_ws = ctx->rcv_ws;
	}
	if (ts) {
		c->flags |= TCP_CF_TS;
		c->ts_recent = seg->tsval;
	}
	if (sack)
		c->flags |= TCP_CF_SACK;
	/* RFC 9293 §3.7.1: SendMSS = min(peer MSS, MTU - 40) - options; 536
	 * when the SYN had no MSS option (MUST-15). A tiny advertised MSS is
	 * raised to 88 so nobody makes us send 1-byte segments. */
	mss = peer_mss < 88 ? 88 : peer_mss;
	if (mss > ctx->mss)
		mss = ctx->mss;
	c->mss = (uint16_t)(mss - (ts ? 12 : 0));
	c->rto = ctx->cfg.rto_init_ms; /* RFC 6298 §2.1 */
	/* RFC 6298 §5.7: after a SYN(-ACK) timeout with an RTO under 3 s,
	 * data transmission starts with RTO = 3 s. */
	if (rtx && c->rto < 3000)
		c->rto = 3000;
	/* RFC 5681 §3.1 initial window. */
	c->cwnd = c->mss > 2190 ? 2u * c->mss : c->mss > 1095 ? 3u * c->mss : 4u * c->mss;
	c->ssthresh = UINT32_MAX;
	c->snd_wnd = c->max_snd_wnd = (uint32_t)seg->wnd << c->snd_ws;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	c->chal_at = (uint32_t)now;
	/* RFC 6298 §3 (Karn): no RTT sample from a segment that acknowledges
	 * a retransmission — here a retransmitted SYN-ACK. With timestamps the
	 * peer echoes TS.Recent, which RFC 7323 §4.3 keeps at the first
	 * SYN-ACK it saw, not at the one it answers: the sample would span
	 * our back-off (seconds) and inflate the RTO. The RTO stays at the
	 * initial value (§5.7 above) until the first clean sample. */
	if (ts && !rtx && seg->tsecr != 0 && (uint32_t)now - seg->tsecr < 60000u)
		tcp_rtt_sample(ctx, c, (uint32_t)now - seg->tsecr);
	tcp_conn_insert(ctx, c);
	if (ctx->ops.accept(ctx->ops.arg, c, rte_be_to_cpu_16(c->key.lport), now) < 0) {
		ctx->st.tcp_refused++;
		if (c->state != TCP_CLOSED) {
			c->flags |= TCP_CF_APP_GONE;
			tcp_send_rst(ctx, c, now);
			tcp_conn_release(ctx, c);
		}
		return;
	}
	ctx->st.tcp_accepted++;
	if (c->state == TCP_CLOSED) /* aborted inside accept */
		return;
	s2.flags &= (uint8_t)~TCP_SYN;
	tcp_conn_input(ctx, c, &s2, now);
}

int tcp_syn_complete(struct net_ctx *ctx, struct tcp_seg *seg, uint64_t now)
{
	uint32_t h = tcp_ftab_hash(&ctx->stab, &seg->key);
	int64_t i = tcp_ftab_find(&ctx->stab, &seg->key, h);

	if (i >= 0) {
		struct tcp_syn s = ctx->syns[i];

		if (seg->flags & TCP_RST) {
			/* RFC 5961 §3.2 in SYN-RECEIVED: only an exact match. */
			if (seg->seq == s.irs + 1)
				syn_free(ctx, &ctx->syns[i]);
			else
				ctx->st.tcp_rst_in_ignored++;
			return 1;
		}
		if (!(seg->flags & TCP_ACK) || (seg->flags & TCP_SYN))
			return 1;
		/* RFC 9293 §3.10.7.4 SYN-RECEIVED: an unacceptable ACK gets
		 * <SEQ=SEG.ACK><CTL=RST>. */
		if (seg->ack != s.iss + 1) {
			tcp_reply_rst(ctx, seg);
			return 1;
		}
		if (SEQ_LT(seg->seq, s.irs + 1) || SEQ_GT(seg->seq, s.irs + 1 + ctx->cfg.buf_size))
			return 1;
		syn_free(ctx, &ctx->syns[i]);
		conn_birth(ctx, seg, s.iss, s.irs, s.mss, s.flags & TCP_SF_WS, s.ws,
			   (s.flags & TCP_SF_TS) && (seg->opts & TCP_OPT_TS), s.flags & TCP_SF_SACK,
			   s.tries != 0, now);
		return 1;
	}
	if (!ctx->cfg.syncookies || (seg->flags & (TCP_SYN | TCP_RST | TCP_ACK)) != TCP_ACK)
		return 0;
	{
		uint16_t mss = cookie_check(ctx, &seg->key, seg->seq - 1, seg->ack - 1, now);
		int ts = !!(seg->opts & TCP_OPT_TS), ws = 0, sack = 0;
		uint8_t pws = 0;

		if (mss != 0 && ts) {
			uint32_t bits = seg->tsecr & TS_OPT_MASK;

			/* The echoed TSval must be one of ours from the cookie's
			 * lifetime. */
			if ((uint32_t)now - seg->tsecr > 2 * COOKIE_PERIOD_MS + TS_OPT_MASK)
				mss = 0;
			ws = (bits & 0xf) != TS_WS_NONE;
			pws = (uint8_t)(bits & 0xf);
			sack = !!(bits & 0x10);
		}
		if (mss == 0) {
			ctx->st.tcp_cookie_bad++;
			return 0;
		}
		ctx->st.tcp_cookie_ok++;
		conn_birth(ctx, seg, seg->ack - 1, seg->seq - 1, mss, ws, pws > 14 ? 14 : pws, ts,
			   sack, 0, now);
		return 1;
	}
}
