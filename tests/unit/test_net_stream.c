/*
 * test_net_stream.c — proxy/net under randomised traffic: streams sent as
 * random, overlapping, duplicated, reordered segments must reach the app
 * byte-exact once; a stream sent through 25 % loss each way must arrive
 * whole; random traffic and app actions must leave nothing behind.
 * TEST_SEED=n in the environment picks another run.
 */
#include "net_fake.h"

#define ACK RTE_TCP_ACK_FLAG
#define SYN RTE_TCP_SYN_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG

#ifndef TEST_SEED
#define TEST_SEED 12345
#endif
static uint32_t rng_state = TEST_SEED;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/*
 * The client sends a 60 000-byte stream as random segments: out of order,
 * overlapping old and queued data, duplicated, some past the window. The
 * app must see every byte exactly once, in order. mode 1: the app takes
 * whole lines only (partial lines stay held).
 */
static void test_random_rx(int mode)
{
	static uint8_t data[60000];
	struct cli c;
	struct app *a;
	uint32_t base, acked = 0, wnd = 16384, total = sizeof(data);
	unsigned rounds = 0;

	fake_default();
	F.mode = mode;
	CHECK_EQ(cli_connect(&c, (uint16_t)(6000 + mode), 1), 0);
	a = app_port((uint16_t)(6000 + mode));
	if (!CHECK(a != NULL))
		return;
	fake_clear();
	for (uint32_t i = 0; i < total; i++)
		data[i] = (rnd() % 23 == 0 || i == total - 1) ? '\n' : (uint8_t)('a' + rnd() % 26);
	base = c.snd_nxt;
	while (acked < total && rounds++ < 200000) {
		uint32_t span = total - acked < wnd + 50 ? total - acked : wnd + 50;
		uint32_t start = acked + (span ? rnd() % span : 0);
		uint32_t len = 1 + rnd() % (rnd() % 4 ? 1448 : 20);

		if (rnd() % 5 == 0 && start >= 30)
			start -= rnd() % 30; /* overlap what is already there */
		if (start + len > total)
			len = total - start;
		if (len == 0)
			continue;
		cli_seg(&c, ACK | PSH, base + start, data + start, len);
		for (unsigned i = 0; i < F.ntx; i++) {
			struct pkt p = tx_pkt(i);

			if ((int32_t)(p.ack - base - acked) > 0)
				acked = p.ack - base;
			wnd = p.wnd;
		}
		fake_clear();
	}
	CHECK_EQ(acked, total);
	CHECK_EQ(a->inlen, total);
	CHECK_MEM(a->in, a->inlen, data, total);
	CHECK_EQ(ST()->bufs, 0);
	CHECK(ST()->tcp_ooo_in > 0);
	CHECK(ST()->tcp_dup_data > 0);
}

/*
 * The app sends a 50 000-byte stream; a quarter of the server's segments
 * and of the client's ACKs are lost; the client accepts in-order bytes
 * only. Retransmission (RTO, fast retransmit, go-back) delivers it all.
 */
static void test_random_tx(void)
{
	static uint8_t data[50000], got[50000];
	struct cli c;
	struct app *a;
	uint32_t sent = 0, have = 0, total = sizeof(data), base;
	unsigned rounds = 0;

	fake_default();
	CHECK_EQ(cli_connect(&c, 6100, 1), 0);
	a = app_port(6100);
	if (!CHECK(a != NULL))
		return;
	fake_clear();
	for (uint32_t i = 0; i < total; i++)
		data[i] = (uint8_t)rnd();
	base = c.rcv_nxt;
	while (have < total && rounds++ < 20000) {
		int any = 0;

		if (sent < total) {
			long k = net_send(F.ctx, a->c, data + sent, total - sent, F.now);

			if (k > 0)
				sent += (uint32_t)k;
		}
		for (unsigned i = 0; i < F.ntx; i++) {
			struct pkt p = tx_pkt(i);
			uint32_t off = p.seq - base;

			any = 1;
			if (rnd() % 4 == 0 || p.len == 0)
				continue;
			if (p.ts)
				c.ts_recent = p.tsval;
			if (off <= have && off + p.len > have) {
				memcpy(got + have, p.data + (have - off), off + p.len - have);
				have = off + p.len;
			}
		}
		fake_clear();
		c.rcv_nxt = base + have;
		if (any && rnd() % 4 != 0)
			cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
		if (F.ntx == 0) {
			uint64_t next = net_timers(F.ctx, F.now);

			if (next == UINT64_MAX)
				break;
			fake_run_to(next > F.now ? next : F.now + 1);
		}
	}
	CHECK_EQ(have, total);
	CHECK_MEM(got, have, data, total);
	CHECK(ST()->tcp_rtx > 0);
	CHECK_EQ(ST()->conns, 1);
	/* Everything acknowledged: no buffer, no timer left behind. */
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	CHECK_EQ(ST()->bufs, 0);
	CHECK_EQ(net_timers(F.ctx, F.now), UINT64_MAX);
	fake_clear();
}

/*
 * Chaos: flows on 8 ports get random segments (any flags, sequence and
 * acknowledgment numbers near or far from the edges, random lengths,
 * sometimes broken options), while the app sends, closes, aborts, pauses
 * and resumes at random and time jumps. Nothing may crash or leak: once
 * the clock has run past every linger and TIME-WAIT, no flow, half-open
 * entry, TIME-WAIT entry, buffer or mbuf is left.
 */
static void test_chaos(void)
{
	static const uint8_t opts_ok[] = { 2, 4, 5, 0xb4, 1, 3, 3, 7 };
	static const uint8_t opts_bad[] = { 1, 1, 8, 1, 0, 0, 0, 0 };
	static uint8_t junk[3000];
	struct net_cfg cfg;
	uint32_t cseq[8], sseq[8];

	fake_cfg(&cfg);
	cfg.n_bufs = 12;
	cfg.max_conns = 6;
	cfg.max_halfopen = 3;
	cfg.max_tw = 4;
	fake_start(&cfg);
	F.greet = "220 chaos\r\n";
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rnd();
	for (int i = 0; i < 8; i++)
		cseq[i] = sseq[i] = rnd();
	for (unsigned it = 0; it < 60000; it++) {
		unsigned k = rnd() % 8, r = rnd() % 100;
		uint16_t port = (uint16_t)(7000 + k);

		if (r < 55) {
			static const uint8_t fl[] = { ACK,       ACK | PSH, SYN,
						      ACK | FIN, RST,       RST | ACK,
						      SYN | ACK, FIN,       ACK | PSH | FIN,
						      0 };
			uint8_t f = fl[rnd() % sizeof(fl)];
			uint32_t len = (f & SYN) ? 0 : (rnd() % 3 ? rnd() % 40 : rnd() % 1500);
			uint32_t seq = cseq[k] + (rnd() % 4 ? rnd() % 64 : rnd()) - 16;
			uint32_t ack = sseq[k] + (rnd() % 4 ? rnd() % 64 : rnd()) - 16;
			const uint8_t *o = NULL;
			size_t ol = 0;

			if (rnd() % 10 == 0) {
				o = rnd() % 2 ? opts_ok : opts_bad;
				ol = sizeof(opts_ok);
			}
			fake_rx(
			    tcp_frame(port, 25, f, seq, ack, (uint16_t)rnd(), o, ol, junk, len));
		} else if (r < 80) {
			/* A well-behaved client step: learn from what we sent. */
			for (unsigned i = 0; i < F.ntx; i++) {
				struct pkt p = tx_pkt(i);

				if (p.dport < 7000 || p.dport >= 7008)
					continue;
				sseq[p.dport - 7000] = p.seq + p.len + !!(p.flags & (SYN | FIN));
				if (p.flags & ACK)
					cseq[p.dport - 7000] = p.ack;
			}
			if (rnd() % 3 == 0) {
				cseq[k] = rnd();
				fake_rx(tcp_frame(port, 25, SYN, cseq[k], 0, 65535, opts_ok, 8,
						  NULL, 0));
			} else {
				fake_rx(tcp_frame(port, 25, ACK | PSH, cseq[k], sseq[k], 65535,
						  NULL, 0, "HELO x\r\nMA", 10 + rnd() % 2));
			}
		} else if (r < 92) {
			struct app *a = &F.apps[rnd() % FAKE_APPS];

			if (a->used && a->c != NULL) {
				switch (rnd() % 6) {
				case 0:
					net_send(F.ctx, a->c, junk, rnd() % 3000, F.now);
					break;
				case 1:
					a->used = 0;
					net_close(F.ctx, a->c, F.now);
					break;
				case 2:
					a->used = 0;
					net_abort(F.ctx, a->c, F.now);
					break;
				case 3:
					a->mode = (int)(rnd() % 3);
					break;
				default:
					a->mode = 0;
					net_resume(F.ctx, a->c, F.now);
					break;
				}
			}
		} else {
			fake_run_to(F.now + (rnd() % 4 ? rnd() % 500 : rnd() % 20000));
		}
		if (F.ntx > FAKE_TX_MAX / 2)
			fake_clear();
		for (int i = 0; i < FAKE_APPS; i++)
			if (F.apps[i].used && F.apps[i].c == NULL)
				F.apps[i].used = 0; /* closed by the endpoint */
		if (F.apps[0].inlen > sizeof(F.apps[0].in) / 2)
			for (int i = 0; i < FAKE_APPS; i++)
				F.apps[i].inlen = 0;
	}
	/* Close what is left and let every timer run out. */
	for (int i = 0; i < FAKE_APPS; i++) {
		if (F.apps[i].used && F.apps[i].c != NULL) {
			F.apps[i].used = 0;
			net_close(F.ctx, F.apps[i].c, F.now);
		}
	}
	fake_clear();
	fake_run_to(F.now + 3600000);
	fake_clear();
	CHECK_EQ(ST()->conns, 0);
	CHECK_EQ(ST()->halfopen, 0);
	CHECK_EQ(ST()->tw, 0);
	CHECK_EQ(ST()->bufs, 0);
	CHECK_EQ(net_timers(F.ctx, F.now), UINT64_MAX);
	CHECK(ST()->tcp_accepted > 10);
#ifdef CHAOS_STATS
	{
		const struct net_stats *t = ST();

		printf("acc %lu reset %lu chal %lu lim %lu oow %lu badack %lu ooo %lu oodrop %lu "
		       "linger %lu tw %lu twre %lu rtx %lu giveup %lu persist %lu cookies %lu/%lu "
		       "badopt %lu nomem %lu full %lu\n",
		       t->tcp_accepted, t->tcp_reset_in, t->tcp_challenge_ack,
		       t->tcp_challenge_limited, t->tcp_out_of_window, t->tcp_bad_ack,
		       t->tcp_ooo_in, t->tcp_ooo_drop, t->tcp_linger_expired, t->tw_enter,
		       t->tw_recycled, t->tcp_rtx, t->tcp_rtx_giveup, t->tcp_persist_probe,
		       t->tcp_cookie_sent, t->tcp_cookie_ok, t->tcp_bad_opt, t->tcp_buf_nomem,
		       t->tcp_conn_full);
	}
#endif
}

int main(void)
{
	if (getenv("TEST_SEED") != NULL)
		rng_state = (uint32_t)strtoul(getenv("TEST_SEED"), NULL, 0) | 1u;
	fake_eal();
	test_random_rx(0);
	test_random_rx(1);
	test_random_tx();
	test_chaos();
	return fake_finish("net_stream");
}
