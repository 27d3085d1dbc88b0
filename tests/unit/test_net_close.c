/*
 * test_net_close.c — proxy/net: every close path (we close first, peer
 * closes first, simultaneous, linger, FIN retransmission, aborts from
 * inside upcalls), TIME-WAIT (duration, overflow recycling, RFC 6191
 * reuse), memory per idle session.
 */
#include "net_fake.h"

#define ACK RTE_TCP_ACK_FLAG
#define SYN RTE_TCP_SYN_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG

/* ---- we close first ---------------------------------------------------------- */

static void test_active_close(void)
{
	struct cli c;
	struct app *a;
	struct pkt p;
	uint32_t fin_seq;

	fake_default();
	a = open_flow(&c, 100, 1);
	if (!CHECK(a != NULL))
		return;
	/* The reply then FIN (on the same segment). */
	net_send(F.ctx, a->c, "221 bye\r\n", 9, F.now);
	a->used = 0;
	net_close(F.ctx, a->c, F.now);
	CHECK(F.ntx >= 1);
	p = last_pkt();
	CHECK(p.flags & FIN);
	fin_seq = p.seq + p.len;
	CHECK_EQ(fin_seq, c.rcv_nxt + 9);
	fake_clear();
	/* The peer ACKs the FIN: FIN_WAIT_2 (nothing sent). */
	c.rcv_nxt = fin_seq + 1;
	c.ts_recent = p.tsval;
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	CHECK_EQ(F.ntx, 0);
	CHECK_EQ(ST()->conns, 1);
	/* The peer's FIN: ACKed, TIME-WAIT, the flow object is gone. */
	cli_seg(&c, ACK | FIN, c.snd_nxt, NULL, 0);
	CHECK_EQ(F.ntx, 1);
	p = last_pkt();
	CHECK_EQ(p.flags, ACK);
	CHECK_EQ(p.ack, c.snd_nxt + 1);
	CHECK_EQ(p.seq, fin_seq + 1);
	CHECK_EQ(ST()->conns, 0);
	CHECK_EQ(ST()->tw, 1);
	CHECK_EQ(ST()->bufs, 0);
	fake_clear();
	/* A retransmitted FIN in TIME-WAIT is ACKed again. */
	cli_seg(&c, ACK | FIN, c.snd_nxt, NULL, 0);
	CHECK_EQ(F.ntx, 1);
	p = last_pkt();
	CHECK_EQ(p.flags, ACK);
	CHECK_EQ(p.ack, c.snd_nxt + 1);
	CHECK(p.ts);
	fake_clear();
	/* A RST does not end TIME-WAIT early (RFC 1337). */
	cli_seg(&c, RST, c.snd_nxt + 1, NULL, 0);
	CHECK_EQ(ST()->tw, 1);
	/* After tw_ms it is gone. */
	fake_run_to(F.now + 59999);
	CHECK_EQ(ST()->tw, 1);
	fake_run_to(F.now + 1);
	CHECK_EQ(ST()->tw, 0);
	CHECK_EQ(ST()->tw_expired, 1);
	fake_clear();

	/* Our FIN is lost: retransmitted at RTO. */
	a = open_flow(&c, 101, 0);
	if (!CHECK(a != NULL))
		return;
	a->used = 0;
	net_close(F.ctx, a->c, F.now);
	CHECK_EQ(F.ntx, 1);
	p = last_pkt();
	CHECK_EQ(p.flags, FIN | ACK);
	CHECK_EQ(p.len, 0);
	fake_clear();
	fake_run_to(F.now + 1000);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().flags, FIN | ACK);
	CHECK_EQ(last_pkt().seq, p.seq);
	fake_clear();
	/* The FIN and the peer's FIN cross in one segment: straight to TW. */
	c.rcv_nxt = p.seq + 1;
	cli_seg(&c, ACK | FIN, c.snd_nxt, NULL, 0);
	CHECK_EQ(ST()->tw, 1);
	CHECK_EQ(ST()->conns, 0);
	fake_clear();
}

/* ---- peer closes first ----------------------------------------------------- */

static void test_passive_close(void)
{
	struct cli c;
	struct app *a;
	struct pkt p;

	fake_default();
	a = open_flow(&c, 200, 1);
	if (!CHECK(a != NULL))
		return;
	cli_send(&c, "QUIT\r\n", 6);
	cli_seg(&c, ACK | FIN, c.snd_nxt, NULL, 0);
	c.snd_nxt++;
	CHECK_EQ(a->inlen, 6);
	CHECK(a->fin);
	CHECK_EQ(last_pkt().ack, c.snd_nxt);
	CHECK(strcmp(net_conn_state(a->c), "CLOSE_WAIT") == 0);
	fake_clear();
	/* The app answers and closes: data + FIN, LAST_ACK. */
	net_send(F.ctx, a->c, "221 bye\r\n", 9, F.now);
	a->used = 0;
	net_close(F.ctx, a->c, F.now);
	p = last_pkt();
	CHECK(p.flags & FIN);
	fake_clear();
	c.rcv_nxt = p.seq + p.len + 1;
	c.ts_recent = p.tsval;
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	/* No TIME-WAIT on this side, nothing left. */
	CHECK_EQ(ST()->conns, 0);
	CHECK_EQ(ST()->tw, 0);
	CHECK_EQ(F.ntx, 0);
	CHECK_EQ(ST()->bufs, 0);
	fake_clear();
}

/* ---- simultaneous close ---------------------------------------------------- */

static void test_simultaneous_close(void)
{
	struct cli c;
	struct app *a;
	struct pkt p;

	fake_default();
	a = open_flow(&c, 300, 0);
	if (!CHECK(a != NULL))
		return;
	a->used = 0;
	net_close(F.ctx, a->c, F.now);
	p = last_pkt();
	CHECK_EQ(p.flags, FIN | ACK);
	fake_clear();
	/* The peer's FIN crosses ours (it has not seen ours yet). */
	cli_seg(&c, ACK | FIN, c.snd_nxt, NULL, 0);
	c.snd_nxt++;
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().ack, c.snd_nxt); /* CLOSING: ACK of its FIN */
	CHECK_EQ(ST()->conns, 1);
	CHECK_EQ(ST()->tw, 0);
	fake_clear();
	/* Then it ACKs ours: TIME-WAIT. */
	c.rcv_nxt = p.seq + 1;
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	CHECK_EQ(ST()->conns, 0);
	CHECK_EQ(ST()->tw, 1);
	fake_clear();
}

/* ---- lingering close ------------------------------------------------------- */

static void test_linger(void)
{
	struct cli c;
	struct app *a;
	struct pkt p;
	unsigned calls;

	fake_default();
	F.close_in_recv = 1; /* the app answers junk with 500 and closes */
	a = open_flow(&c, 400, 0);
	if (!CHECK(a != NULL))
		return;
	cli_send(&c, "GET / HTTP/1.0\r\n", 16);
	calls = a->calls;
	CHECK_EQ(a->inlen, 16);
	p = last_pkt();
	CHECK(p.flags & FIN);
	CHECK_EQ(p.ack, c.snd_nxt);
	fake_clear();
	/* The client keeps talking: ACKed and discarded, the app never sees it. */
	for (int i = 0; i < 5; i++) {
		cli_send(&c, "Host: x\r\n", 9);
		CHECK_EQ(F.ntx, 1);
		CHECK_EQ(last_pkt().ack, c.snd_nxt);
		CHECK(last_pkt().wnd >= 16384 - 16 - 9 * 5);
		fake_clear();
	}
	CHECK_EQ(a->calls, calls);
	CHECK_EQ(ST()->tcp_linger_discard, 5);
	CHECK_EQ(ST()->bufs, 0);
	/* It never closes: after linger_ms (10 s) a RST, and the flow is gone. */
	c.rcv_nxt = p.seq + 1; /* it did ACK our FIN */
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	fake_run_to(F.now + 9999);
	CHECK_EQ(ST()->conns, 1);
	fake_run_to(F.now + 1);
	CHECK_EQ(ST()->conns, 0);
	CHECK_EQ(ST()->tcp_linger_expired, 1);
	CHECK_EQ(count_flags(RST | ACK), 1);
	fake_clear();

	/* net_abort: RST at once. */
	F.close_in_recv = 0;
	a = open_flow(&c, 401, 0);
	if (!CHECK(a != NULL))
		return;
	a->used = 0;
	net_abort(F.ctx, a->c, F.now);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().flags, RST | ACK);
	CHECK_EQ(last_pkt().seq, c.rcv_nxt);
	CHECK_EQ(ST()->conns, 0);
	fake_clear();
}

/* RST frames among F.tx. */
static unsigned count_rst(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < F.ntx; i++)
		n += !!(tx_pkt(i).flags & RST);
	return n;
}

/*
 * DESIGN §3: the linger starts once the reply and our FIN are acked. Here
 * they are lost twice, and the client's data and ACK arrive later than
 * linger_ms after net_close: it still gets the whole reply and the FIN,
 * and no RST before that. FIN_WAIT_2 is then bounded by linger_ms counted
 * from the ACK of our FIN.
 */
static void test_linger_after_ack(void)
{
	static const char reply[] = "221 2.0.0 bye\r\n";
	struct net_cfg cfg;
	struct cli c;
	struct app *a;
	struct pkt p;
	unsigned rst = 0;
	uint64_t t0, t1;
	uint32_t data_seq;

	fake_cfg(&cfg);
	cfg.linger_ms = 2000;
	fake_start(&cfg);
	a = open_flow(&c, 450, 1);
	if (!CHECK(a != NULL))
		return;
	data_seq = c.rcv_nxt;
	CHECK_EQ(net_send(F.ctx, a->c, reply, 15, F.now), 15);
	a->used = 0;
	net_close(F.ctx, a->c, F.now);
	t0 = F.now;
	CHECK(F.ntx >= 1);
	CHECK(last_pkt().flags & FIN);
	CHECK_EQ(last_pkt().seq + last_pkt().len, data_seq + 15);
	fake_clear(); /* lost */
	/* RTO (1 s): reply + FIN again, lost again. */
	fake_run_to(t0 + 1000);
	CHECK_EQ(F.ntx, 1);
	p = last_pkt();
	CHECK_EQ(p.seq, data_seq);
	CHECK_EQ(p.len, 15);
	CHECK(p.flags & FIN);
	rst += count_rst();
	fake_clear();
	/* Past linger_ms, the client (which saw nothing) pipelines a
	 * command: ACKed and discarded, not reset. */
	fake_run_to(t0 + 2500);
	rst += count_rst();
	fake_clear();
	cli_send(&c, "NOOP\r\n", 6);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().ack, c.snd_nxt);
	rst += count_rst();
	fake_clear();
	CHECK_EQ(ST()->conns, 1);
	/* Back-off: the second retransmission at 3 s reaches the client. */
	fake_run_to(t0 + 2999);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t0 + 3000);
	rst += count_rst();
	CHECK_EQ(F.ntx, 1);
	p = last_pkt();
	CHECK_EQ(p.seq, data_seq);
	CHECK(p.len == 15 && memcmp(p.data, reply, 15) == 0);
	CHECK(p.flags & FIN);
	cli_learn(&c, &p);
	CHECK_EQ(c.rcv_nxt, data_seq + 15 + 1);
	fake_clear();
	/* Its ACK comes 3.5 s after the close: FIN_WAIT_2, still no RST. */
	fake_run_to(t0 + 3500);
	t1 = F.now;
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	rst += count_rst();
	CHECK_EQ(rst, 0);
	CHECK_EQ(ST()->conns, 1);
	CHECK_EQ(ST()->tcp_linger_expired, 0);
	fake_clear();
	/* FIN_WAIT_2 lasts linger_ms from that ACK, then RST. */
	fake_run_to(t1 + 1999);
	CHECK_EQ(ST()->conns, 1);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t1 + 2000);
	CHECK_EQ(ST()->conns, 0);
	CHECK_EQ(ST()->tcp_linger_expired, 1);
	CHECK_EQ(count_flags(RST | ACK), 1);
	CHECK_EQ(ST()->bufs, 0);
	fake_clear();

	/* A client that never answers: retransmissions back off until
	 * rtx_max, then RST (the linger never started). */
	a = open_flow(&c, 451, 1);
	if (!CHECK(a != NULL))
		return;
	net_send(F.ctx, a->c, reply, 15, F.now);
	a->used = 0;
	net_close(F.ctx, a->c, F.now);
	fake_clear();
	fake_run_to(F.now + 3600000);
	CHECK_EQ(ST()->conns, 0);
	CHECK_EQ(ST()->tcp_rtx_giveup, 1);
	CHECK_EQ(ST()->tcp_linger_expired, 1);
	CHECK_EQ(count_flags(FIN | ACK), 8); /* rtx_max retransmissions */
	CHECK_EQ(count_flags(RST | ACK), 1);
	fake_clear();

	/* A client that keeps its window shut: after close, rtx_max probes
	 * (answered or not), then RST. */
	a = open_flow(&c, 452, 0);
	if (!CHECK(a != NULL))
		return;
	c.wnd = 0;
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	CHECK_EQ(net_send(F.ctx, a->c, reply, 15, F.now), 15);
	CHECK_EQ(F.ntx, 0);
	a->used = 0;
	net_close(F.ctx, a->c, F.now);
	CHECK_EQ(F.ntx, 0);
	for (int i = 0; i < 40 && ST()->conns != 0; i++) {
		fake_run_to(F.now + 30000);
		if (F.ntx != 0 && count_rst() == 0) {
			fake_clear();
			cli_seg(&c, ACK, c.snd_nxt, NULL, 0); /* still 0 */
		}
	}
	CHECK_EQ(ST()->conns, 0);
	CHECK_EQ(ST()->tcp_rtx_giveup, 2);
	CHECK_EQ(ST()->tcp_persist_probe, 8);
	CHECK_EQ(count_rst(), 1);
	CHECK_EQ(ST()->bufs, 0);
	fake_clear();
}

/* linger_ms = 0: no linger beyond the ACK of our FIN. */
static void test_linger_zero(void)
{
	struct net_cfg cfg;
	struct cli c;
	struct app *a;
	struct pkt p;

	fake_cfg(&cfg);
	cfg.linger_ms = 0;
	fake_start(&cfg);
	a = open_flow(&c, 460, 1);
	if (!CHECK(a != NULL))
		return;
	net_send(F.ctx, a->c, "221 bye\r\n", 9, F.now);
	a->used = 0;
	net_close(F.ctx, a->c, F.now);
	fake_clear(); /* lost: retransmitted as usual */
	fake_run_to(F.now + 1000);
	CHECK_EQ(F.ntx, 1);
	p = last_pkt();
	CHECK(p.len == 9 && (p.flags & FIN));
	CHECK_EQ(ST()->conns, 1);
	cli_learn(&c, &p);
	fake_clear();
	/* The client ACKs it without closing: RST at once. */
	cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	fake_run_to(F.now);
	CHECK_EQ(ST()->conns, 0);
	CHECK_EQ(ST()->tcp_linger_expired, 1);
	CHECK_EQ(count_flags(RST | ACK), 1);
	fake_clear();
	/* ACK and FIN together: TIME-WAIT, no RST. */
	a = open_flow(&c, 461, 1);
	if (!CHECK(a != NULL))
		return;
	net_send(F.ctx, a->c, "221 bye\r\n", 9, F.now);
	a->used = 0;
	net_close(F.ctx, a->c, F.now);
	for (unsigned i = 0; i < F.ntx; i++) {
		p = tx_pkt(i);
		cli_learn(&c, &p);
	}
	CHECK(p.flags & FIN);
	fake_clear();
	cli_seg(&c, ACK | FIN, c.snd_nxt, NULL, 0);
	fake_run_to(F.now + 1);
	CHECK_EQ(ST()->conns, 0);
	CHECK_EQ(ST()->tw, 1);
	CHECK_EQ(count_rst(), 0);
	fake_clear();
}

/* ---- TIME-WAIT overflow and reuse ------------------------------------------- */

static void close_to_tw(uint16_t port, int ts)
{
	struct cli c;
	struct app *a = open_flow(&c, port, ts);
	struct pkt p;

	if (!CHECK(a != NULL))
		return;
	a->used = 0;
	net_close(F.ctx, a->c, F.now);
	p = last_pkt();
	c.rcv_nxt = p.seq + 1;
	c.ts_recent = p.tsval;
	cli_seg(&c, ACK | FIN, c.snd_nxt, NULL, 0);
	fake_clear();
}

static void test_tw_overflow(void)
{
	struct net_cfg cfg;

	fake_cfg(&cfg);
	cfg.max_tw = 3;
	fake_start(&cfg);
	for (uint16_t p = 700; p < 705; p++)
		close_to_tw(p, 1);
	CHECK_EQ(ST()->tw_enter, 5);
	CHECK_EQ(ST()->tw, 3);
	CHECK_EQ(ST()->tw_recycled, 2);
	CHECK_EQ(ST()->conns, 0);
	/* The oldest went first: 700 is unknown now (RST), 704 is in TW (ACK). */
	fake_rx(tcp_frame(700, 25, ACK, 5, 5, 100, NULL, 0, NULL, 0));
	CHECK_EQ(count_flags(RST), 1);
	fake_clear();
	fake_rx(tcp_frame(704, 25, ACK, 5, 5, 100, NULL, 0, NULL, 0));
	CHECK_EQ(count_flags(ACK), 1);
	fake_clear();

	/* RFC 6191: a SYN with a newer timestamp reuses the pair at once. */
	{
		uint8_t o[] = { 1, 1, 8, 10, 0, 0, 0x7f, 0xff, 0, 0, 0, 0 };

		fake_rx(tcp_frame(703, 25, SYN, 1, 0, 65535, o, sizeof(o), NULL, 0));
		CHECK_EQ(ST()->tw_reused, 1);
		CHECK_EQ(count_flags(SYN | ACK), 1);
		CHECK_EQ(ST()->tw, 2);
		fake_clear();
		/* An old timestamp (and an old ISN) does not: just an ACK. */
		o[6] = 0;
		o[7] = 1;
		fake_rx(tcp_frame(702, 25, SYN, 1, 0, 65535, o, sizeof(o), NULL, 0));
		CHECK_EQ(ST()->tw_reused, 1);
		CHECK_EQ(count_flags(ACK), 1);
		fake_clear();
	}
	/* Without timestamps: the ISN must be beyond RCV.NXT. */
	close_to_tw(710, 0);
	fake_rx(tcp_frame(710, 25, SYN, 1000u * 710 - 5, 0, 65535, NULL, 0, NULL, 0));
	CHECK_EQ(count_flags(SYN | ACK), 0);
	fake_rx(tcp_frame(710, 25, SYN, 1000000u * 710 + 100, 0, 65535, NULL, 0, NULL, 0));
	CHECK_EQ(count_flags(SYN | ACK), 1);
	CHECK_EQ(ST()->tw_reused, 2);
	fake_clear();
}

/* ---- memory per idle session ---------------------------------------------- */

/* 100 000 sessions, each after a command and its reply: no buffer, no
 * timer held; memory per session = flow object + table share + timer. */
static void test_footprint(void)
{
	enum { N = 100000 };
	struct net_cfg cfg;
	size_t fp;
	unsigned bad = 0;

	fake_cfg(&cfg);
	cfg.max_conns = N;
	cfg.max_halfopen = 1024;
	cfg.max_tw = 1024;
	fake_start(&cfg);
	for (uint32_t i = 0; i < N; i++) {
		uint16_t port = (uint16_t)(1024 + i % 60000);
		uint32_t isn;
		struct pkt p;
		struct app *a;

		fake_cli_ip = RTE_BE32(IP4(198, 18, 1, 1 + i / 60000));
		fake_rx(tcp_frame(port, 25, SYN, i, 0, 65535, NULL, 0, NULL, 0));
		isn = last_pkt().seq;
		fake_clear();
		fake_rx(tcp_frame(port, 25, ACK, i + 1, isn + 1, 65535, NULL, 0, NULL, 0));
		a = net_conn_app(F.conn_last);
		fake_rx(tcp_frame(port, 25, ACK | PSH, i + 1, isn + 1, 65535, NULL, 0, "EHLO x\r\n",
				  8));
		net_send(F.ctx, F.conn_last, "250 ok\r\n", 8, F.now);
		p = last_pkt();
		bad += p.len != 8 || a == NULL;
		fake_clear();
		fake_rx(tcp_frame(port, 25, ACK, i + 9, isn + 9, 65535, NULL, 0, NULL, 0));
		if (a != NULL)
			a->used = 0; /* the toy app has 16 slots: recycle */
		fake_clear();
	}
	fake_cli_ip = CLI_IP;
	CHECK_EQ(bad, 0);
	CHECK_EQ(ST()->conns, N);
	CHECK_EQ(ST()->bufs, 0);
	CHECK_EQ(net_timers(F.ctx, F.now), UINT64_MAX);
	fp = net_conn_footprint(F.ctx);
	printf("net: %u idle sessions after EHLO, no buffer or timer held: %zu bytes each\n",
	       (unsigned)N, fp);
	CHECK(fp <= 256);
}

/* ---- the app acting from inside its upcalls ------------------------------- */

static void test_reentry(void)
{
	struct cli c, c2;
	struct app *a, *a2;
	struct pkt p;

	/* Drain: 421 and close from inside accept; the data on the final
	 * ACK is then discarded. */
	fake_default();
	F.greet = "421 shutting down\r\n";
	F.close_in_accept = 1;
	CHECK_EQ(cli_connect(&c, 800, 1), 0);
	CHECK(F.ntx >= 1);
	p = last_pkt();
	CHECK(p.flags & FIN);
	CHECK_EQ(p.seq + p.len, c.iss + 1 + 19);
	CHECK_EQ(ST()->conns, 1);
	fake_clear();
	/* Abort from inside accept: RST, nothing left. */
	fake_default();
	F.abort_in_accept = 1;
	cli_connect(&c, 801, 0);
	CHECK_EQ(count_flags(RST | ACK), 1);
	CHECK_EQ(ST()->conns, 0);
	CHECK_EQ(ST()->tcp_refused, 0);
	F.abort_in_accept = 0;
	fake_clear();

	/* Abort from inside recv, with more data and a FIN behind it. */
	a = open_flow(&c, 802, 0);
	if (!CHECK(a != NULL))
		return;
	F.abort_in_recv = 1;
	cli_seg(&c, ACK | PSH | FIN, c.snd_nxt, "QUIT\r\n", 6);
	CHECK_EQ(a->inlen, 6);
	CHECK_EQ(count_flags(RST | ACK), 1);
	CHECK_EQ(ST()->conns, 0);
	CHECK_EQ(ST()->bufs, 0);
	F.abort_in_recv = 0;
	fake_clear();

	/* Abort another flow from inside this one's recv. */
	a = open_flow(&c, 803, 0);
	a2 = open_flow(&c2, 804, 0);
	if (!CHECK(a != NULL && a2 != NULL))
		return;
	CHECK_EQ(ST()->conns, 2);
	F.abort_other = a2->c;
	cli_send(&c, "NOOP\r\n", 6);
	CHECK_EQ(ST()->conns, 1);
	CHECK_EQ(a->inlen, 6);
	fake_clear();
	/* The aborted one is unknown now: RST. */
	cli_send(&c2, "NOOP\r\n", 6);
	CHECK_EQ(count_flags(RST), 1);
	fake_clear();

	/* Close from inside a resumed delivery. */
	a->mode = 2;
	cli_send(&c, "DATA\r\n", 6);
	CHECK_EQ(ST()->bufs, 1);
	fake_clear();
	a->mode = 0;
	F.close_in_recv = 1;
	net_resume(F.ctx, a->c, F.now);
	CHECK_EQ(a->inlen, 12);
	CHECK_EQ(ST()->bufs, 0);
	CHECK(last_pkt().flags & FIN);
	F.close_in_recv = 0;
	fake_clear();

	/* Data and FIN on the handshake's final ACK. */
	fake_default();
	{
		fake_rx(tcp_frame(805, 25, SYN, 50, 0, 65535, NULL, 0, NULL, 0));
		p = last_pkt();
		fake_clear();
		fake_rx(tcp_frame(805, 25, ACK | PSH | FIN, 51, p.seq + 1, 65535, NULL, 0,
				  "EHLO a\r\n", 8));
		a = app_port(805);
		CHECK(a != NULL);
		if (a != NULL) {
			CHECK_EQ(a->inlen, 8);
			CHECK(a->fin);
		}
		CHECK_EQ(last_pkt().ack, 51 + 8 + 1);
		fake_clear();
	}
	/* PAWS: an old timestamp is dropped (and ACKed). */
	a = open_flow(&c, 806, 1);
	if (!CHECK(a != NULL))
		return;
	cli_send(&c, "A\r\n", 3);
	c.tsval -= 100;
	cli_send(&c, "B\r\n", 3);
	CHECK_EQ(a->inlen, 3);
	CHECK_EQ(ST()->tcp_paws_drop, 1);
	CHECK_EQ(last_pkt().ack, c.snd_nxt - 3);
	fake_clear();
}

int main(void)
{
	fake_eal();
	test_active_close();
	test_passive_close();
	test_simultaneous_close();
	test_linger();
	test_linger_after_ack();
	test_linger_zero();
	test_tw_overflow();
	test_reentry();
	test_footprint();
	return fake_finish("net_close");
}
