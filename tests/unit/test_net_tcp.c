/*
 * test_net_tcp.c — proxy/net TCP data transfer: receive (in order, out of
 * order, overlap, duplicates, a flood of tiny segments, partial
 * consumption, zero window) and send (segmentation, RTT estimation,
 * retransmission back-off, fast retransmit, persist probes, the bounded
 * send buffer).
 */
#include "net_fake.h"

#define ACK RTE_TCP_ACK_FLAG
#define SYN RTE_TCP_SYN_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG

/* ---- receive ---------------------------------------------------------------- */

static void test_receive(void)
{
	struct cli c;
	struct pkt p;
	struct app *a;
	const char *msg = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"; /* 50 */
	uint32_t base;

	fake_default();
	CHECK_EQ(cli_connect(&c, 2000, 1), 0);
	a = app_port(2000);
	if (!CHECK(a != NULL))
		return;
	base = c.snd_nxt;
	/* In order. */
	cli_send(&c, "EHLO x\r\n", 8);
	CHECK_EQ(a->inlen, 8);
	CHECK_EQ(F.ntx, 1);
	p = last_pkt();
	CHECK_EQ(p.ack, base + 8);
	fake_clear();
	a->inlen = 0;
	base += 8;
	/* Out of order: [20,30) first: a duplicate ACK, nothing delivered. */
	cli_seg(&c, ACK, base + 20, msg + 20, 10);
	CHECK_EQ(a->inlen, 0);
	CHECK_EQ(last_pkt().ack, base);
	CHECK_EQ(ST()->tcp_ooo_in, 1);
	/* Overlapping out-of-order pieces merge: [25,40), [45,50). */
	cli_seg(&c, ACK, base + 25, msg + 25, 15);
	cli_seg(&c, ACK, base + 45, msg + 45, 5);
	CHECK_EQ(a->inlen, 0);
	/* A duplicate of what is queued changes nothing. */
	cli_seg(&c, ACK, base + 20, msg + 20, 10);
	CHECK_EQ(ST()->tcp_dup_data, 1);
	/* [0,22) fills the first hole and overlaps the queue: 0..40 delivered. */
	cli_seg(&c, ACK, base, msg, 22);
	CHECK_EQ(a->inlen, 40);
	CHECK_MEM(a->in, a->inlen, msg, 40);
	CHECK_EQ(last_pkt().ack, base + 40);
	/* A retransmission of old data: ACKed, not delivered again. */
	fake_clear();
	cli_seg(&c, ACK, base + 10, msg + 10, 20);
	CHECK_EQ(a->inlen, 40);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().ack, base + 40);
	/* [35,47) overlaps both sides: everything up to 50 exactly once. */
	cli_seg(&c, ACK, base + 35, msg + 35, 12);
	CHECK_EQ(a->inlen, 50);
	CHECK_MEM(a->in, a->inlen, msg, 50);
	CHECK_EQ(last_pkt().ack, base + 50);
	CHECK_EQ(ST()->bufs, 0); /* nothing pending: no buffer held */
	c.snd_nxt = base + 50;
	fake_clear();

	/* A flood of tiny gapped segments: bounded queue, drops counted. */
	a->inlen = 0;
	base = c.snd_nxt;
	for (uint32_t i = 0; i < 2000; i++)
		cli_seg(&c, ACK, base + 2 + 2 * i, "z", 1);
	CHECK_EQ(a->inlen, 0);
	CHECK(ST()->tcp_ooo_drop >= 2000 - 8);
	CHECK_EQ(ST()->bufs, 1);
	fake_clear();
	{
		/* Fill the hole at base and base+1..: 8 ranges were kept. */
		char fill[20];

		memset(fill, 'z', sizeof(fill));
		cli_seg(&c, ACK, base, fill, 2);
		CHECK_EQ(a->inlen, 3);
		CHECK_EQ(last_pkt().ack, base + 3);
	}
	c.snd_nxt = base + 3;
	fake_clear();
}

/* The app takes whole lines only; partial lines wait, the window shows it. */
static void test_partial(void)
{
	struct cli c;
	struct app *a;
	struct pkt p;

	fake_default();
	F.mode = 1;
	CHECK_EQ(cli_connect(&c, 2100, 0), 0);
	a = app_port(2100);
	if (!CHECK(a != NULL))
		return;
	cli_send(&c, "HELO a", 6);
	CHECK_EQ(a->inlen, 0);
	p = last_pkt();
	CHECK_EQ(p.ack, c.snd_nxt);
	CHECK_EQ(p.wnd, 16384 - 6);
	CHECK_EQ(ST()->bufs, 1);
	cli_send(&c, "bc\r\nMAIL", 8);
	CHECK_EQ(a->inlen, 10);
	CHECK_MEM(a->in, 10, "HELO abc\r\n", 10);
	/* Receiver SWS avoidance: the right edge stays until it can move by
	 * min(buffer / 2, MSS); the window only shrinks by what arrived. */
	CHECK_EQ(last_pkt().wnd, 16384 - 14);
	cli_send(&c, "\r\n", 2);
	CHECK_EQ(a->inlen, 16);
	CHECK_EQ(last_pkt().wnd, 16384 - 16);
	CHECK_EQ(ST()->bufs, 0);
	fake_clear();

	/* A paused app (backend busy): data waits, the window closes. */
	a->mode = 2;
	a->inlen = 0;
	{
		static char blk[1000];
		uint32_t held = 0, w = 16384 - 16;

		memset(blk, 'd', sizeof(blk));
		while (w != 0) {
			uint32_t n = w < 1000 ? w : 1000;

			cli_send(&c, blk, n);
			held += n;
			CHECK_EQ(last_pkt().wnd, w - n);
			w = last_pkt().wnd;
			fake_clear();
		}
		CHECK_EQ(held, 16384 - 16);
		CHECK_EQ(a->inlen, 0);
		/* Zero window: data at RCV.NXT is not accepted, but ACKed. */
		cli_seg(&c, ACK | PSH, c.snd_nxt, blk, 100);
		CHECK_EQ(F.ntx, 1);
		CHECK_EQ(last_pkt().ack, c.snd_nxt);
		CHECK_EQ(last_pkt().wnd, 0);
		CHECK_EQ(ST()->tcp_out_of_window, 1);
		fake_clear();
		/* The app resumes: everything delivered, window update sent. */
		a->mode = 0;
		net_resume(F.ctx, a->c, F.now);
		CHECK_EQ(a->inlen, 16384 - 16);
		CHECK_EQ(F.ntx, 1);
		CHECK_EQ(last_pkt().wnd, 16384);
		CHECK_EQ(ST()->bufs, 0);
		fake_clear();
		/* net_resume from inside recv: offered again, once, not twice. */
		a->mode = 2;
		a->inlen = 0;
		F.resume_in_recv = 1;
		cli_send(&c, "NOOP\r\n", 6);
		CHECK_EQ(a->inlen, 6);
		CHECK_MEM(a->in, 6, "NOOP\r\n", 6);
		CHECK_EQ(ST()->bufs, 0);
		fake_clear();
	}
}

/* ---- send: retransmission and back-off --------------------------------------- */

static void test_retransmit(void)
{
	struct cli c;
	struct app *a;
	struct pkt p;
	uint64_t t0;

	fake_default();
	/* RTT samples from timestamps (RFC 6298 §2 arithmetic): the
	 * handshake gives 1 ms, then 900 ms: RTTVAR 225.25, SRTT 113,
	 * RTO = SRTT + 4 RTTVAR = 1014 ms. */
	CHECK_EQ(cli_connect(&c, 3001, 1), 0);
	a = app_port(3001);
	if (!CHECK(a != NULL))
		return;
	net_send(F.ctx, a->c, "x", 1, F.now);
	p = last_pkt();
	fake_clear();
	F.now += 900;
	c.ts_recent = p.tsval;
	c.rcv_nxt = p.seq + 1;
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	net_send(F.ctx, a->c, "y", 1, F.now);
	t0 = F.now;
	fake_clear();
	fake_run_to(t0 + 1013);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t0 + 1014);
	CHECK_EQ(F.ntx, 1);
	fake_clear();
	net_abort(F.ctx, a->c, F.now);
	a->used = 0;
	CHECK_EQ(F.ntx, 1);
	CHECK(last_pkt().flags & RST);
	fake_clear();

	CHECK_EQ(cli_connect(&c, 3000, 1), 0);
	a = app_port(3000);
	if (!CHECK(a != NULL))
		return;
	fake_clear();
	t0 = F.now;
	CHECK_EQ(net_send(F.ctx, a->c, "250 ok\r\n", 8, F.now), 8);
	CHECK_EQ(F.ntx, 1);
	p = last_pkt();
	fake_clear();
	/* RFC 6298: 1 s initial RTO, then doubling. */
	fake_run_to(t0 + 999);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t0 + 1000);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().seq, p.seq);
	CHECK_EQ(last_pkt().len, 8);
	fake_clear();
	fake_run_to(t0 + 2999);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t0 + 3000);
	CHECK_EQ(F.ntx, 1);
	fake_clear();
	fake_run_to(t0 + 6999);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t0 + 7000);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(ST()->tcp_rto, 1 + 3); /* one from the first flow */
	fake_clear();
	/* The ACK stops the timer. */
	c.rcv_nxt = p.seq + 8;
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	fake_run_to(t0 + 60000);
	CHECK_EQ(F.ntx, 0);
	CHECK_EQ(ST()->bufs, 0);

	/* A peer that never answers: reset after rtx_max tries, app told. */
	net_send(F.ctx, a->c, "z", 1, F.now);
	fake_run_to(F.now + 600000);
	CHECK_EQ(ST()->tcp_rtx_giveup, 1);
	CHECK(a->closed);
	CHECK_EQ(a->why, NET_CLOSE_TIMEOUT);
	CHECK_EQ(ST()->conns, 0);
	CHECK(F.ntx >= 1);
	CHECK(last_pkt().flags & RST);
	fake_clear();
}

/* Three duplicate ACKs retransmit at once. */
static void test_fast_rtx(void)
{
	struct cli c;
	struct app *a;
	static uint8_t big[4000];
	uint32_t s0;

	fake_default();
	CHECK_EQ(cli_connect(&c, 3100, 0), 0);
	a = app_port(3100);
	if (!CHECK(a != NULL))
		return;
	fake_clear();
	net_send(F.ctx, a->c, big, sizeof(big), F.now);
	CHECK_EQ(F.ntx, 3); /* 3 x 1460 > 4000: IW 3 segments of 1460 */
	s0 = tx_pkt(0).seq;
	fake_clear();
	for (int i = 0; i < 3; i++)
		cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	CHECK_EQ(ST()->tcp_fast_rtx, 1);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().seq, s0);
	fake_clear();
}

/* ---- zero window and persist ------------------------------------------------ */

static void test_persist(void)
{
	struct cli c;
	struct app *a;
	uint64_t t0;

	fake_default();
	CHECK_EQ(cli_connect(&c, 4000, 0), 0);
	a = app_port(4000);
	if (!CHECK(a != NULL))
		return;
	/* The client closes its window. */
	c.wnd = 0;
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	fake_clear();
	t0 = F.now;
	CHECK_EQ(net_send(F.ctx, a->c, "250 hello\r\n", 11, F.now), 11);
	CHECK_EQ(F.ntx, 0);
	/* RFC 9293 §3.8.6.1: one-octet probes, backing off. */
	fake_run_to(t0 + 999);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t0 + 1000);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().len, 1);
	CHECK_EQ(last_pkt().seq, c.rcv_nxt);
	fake_clear();
	/* The peer answers with window 0 (probe not taken): next at +2 s. */
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t0 + 2999);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t0 + 3000);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(ST()->tcp_persist_probe, 2);
	fake_clear();
	/* Still open long after (persist never gives up while answered). */
	for (int i = 0; i < 10; i++) {
		fake_run_to(F.now + 60000);
		cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	}
	CHECK_EQ(ST()->conns, 1);
	fake_clear();
	/* The window opens: the data flows. */
	c.wnd = 1000;
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	CHECK(F.ntx >= 1);
	{
		uint32_t end = 0;

		/* The probe octet is in flight; the other 10 follow it. */
		for (unsigned i = 0; i < F.ntx; i++) {
			struct pkt p = tx_pkt(i);

			if (p.len != 0)
				end = p.seq + p.len;
		}
		CHECK_EQ(end, c.rcv_nxt + 11);
	}
	fake_clear();
}

/* Send buffer bound and the writable upcall. */
static void test_sendbuf(void)
{
	struct cli c;
	struct app *a;
	static uint8_t big[40000];

	fake_default();
	CHECK_EQ(cli_connect(&c, 5000, 0), 0);
	a = app_port(5000);
	if (!CHECK(a != NULL))
		return;
	c.wnd = 0;
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	fake_clear();
	CHECK_EQ(net_send(F.ctx, a->c, big, sizeof(big), F.now), 16384);
	CHECK_EQ(net_send_space(F.ctx, a->c), 0);
	CHECK_EQ(net_send(F.ctx, a->c, big, 10, F.now), 0);
	c.wnd = 65535;
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	CHECK(F.ntx >= 1);
	{
		struct pkt p = last_pkt();

		c.rcv_nxt = p.seq + p.len;
	}
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	CHECK_EQ(a->writable, 1);
	CHECK(net_send_space(F.ctx, a->c) > 0);
	fake_clear();

	/* The pool runs dry: the flow waits, and hears when a buffer frees. */
	{
		struct net_cfg cfg;
		struct cli c1, c2, c3;
		struct app *a1, *a2, *a3;

		fake_cfg(&cfg);
		cfg.n_bufs = 2;
		fake_start(&cfg);
		CHECK_EQ(cli_connect(&c1, 5101, 0), 0);
		CHECK_EQ(cli_connect(&c2, 5102, 0), 0);
		CHECK_EQ(cli_connect(&c3, 5103, 0), 0);
		a1 = app_port(5101);
		a2 = app_port(5102);
		a3 = app_port(5103);
		if (!CHECK(a1 && a2 && a3))
			return;
		fake_clear();
		CHECK_EQ(net_send(F.ctx, a1->c, "one\r\n", 5, F.now), 5);
		CHECK_EQ(net_send(F.ctx, a2->c, "two\r\n", 5, F.now), 5);
		CHECK_EQ(net_send(F.ctx, a3->c, "three\r\n", 7, F.now), 0);
		CHECK_EQ(ST()->tcp_buf_nomem, 1);
		CHECK_EQ(a3->writable, 0);
		c1.rcv_nxt += 5;
		cli_seg(&c1, ACK, c1.snd_nxt, NULL, 0);
		CHECK_EQ(a3->writable, 1);
		CHECK_EQ(a2->writable, 0);
		CHECK_EQ(net_send(F.ctx, a3->c, "three\r\n", 7, F.now), 7);
		/* A waiter that goes away leaves the list intact. */
		CHECK_EQ(net_send(F.ctx, a1->c, "x", 1, F.now), 0);
		a1->used = 0;
		net_abort(F.ctx, a1->c, F.now);
		c2.rcv_nxt += 5;
		cli_seg(&c2, ACK, c2.snd_nxt, NULL, 0);
		CHECK_EQ(a2->writable, 0);
		fake_clear();
	}
}

int main(void)
{
	fake_eal();
	test_receive();
	test_partial();
	test_retransmit();
	test_fast_rtx();
	test_persist();
	test_sendbuf();
	return fake_finish("net_tcp");
}
