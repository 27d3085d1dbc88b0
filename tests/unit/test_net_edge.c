/*
 * test_net_edge.c — proxy/net against hostile segments: RST, SYN and ACK
 * at each window edge (RCV.NXT-1, RCV.NXT, RCV.NXT+WND-1, RCV.NXT+WND) in
 * every synchronized state (RFC 5961), challenge-ACK limits per flow,
 * malformed options, bad checksums and flags.
 */
#include "net_fake.h"

#define ACK RTE_TCP_ACK_FLAG
#define SYN RTE_TCP_SYN_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG

/* ---- RFC 5961 at the window edges ------------------------------------------ */

static void test_edges(void)
{
	struct cli c;
	struct app *a;
	uint32_t nxt, wnd;
	uint32_t at[4];

	fake_default();
	a = open_flow(&c, 500, 0);
	if (!CHECK(a != NULL))
		return;
	cli_send(&c, "x", 1);
	a->inlen = 0;
	wnd = last_pkt().wnd;
	nxt = c.snd_nxt;
	CHECK_EQ(wnd, 16384 - 1); /* receiver SWS avoidance keeps the edge */
	fake_clear();
	at[0] = nxt - 1;
	at[1] = nxt;
	at[2] = nxt + wnd - 1;
	at[3] = nxt + wnd;

	/* ACK (no data) at each edge: outside the window → a duplicate ACK. */
	for (int i = 0; i < 4; i++) {
		cli_seg(&c, ACK, at[i], NULL, 0);
		if (!CHECK_EQ(F.ntx, (i == 0 || i == 3) ? 1u : 0u) && check_show())
			fprintf(stderr, "  ACK at edge %d\n", i);
		if (F.ntx)
			CHECK_EQ(last_pkt().ack, nxt);
		fake_clear();
	}
	/* SYN at each edge: challenge ACK (RFC 5961 §4.2), the flow stays. */
	for (int i = 0; i < 4; i++) {
		cli_seg(&c, SYN, at[i], NULL, 0);
		if (!CHECK_EQ(F.ntx, 1) && check_show())
			fprintf(stderr, "  SYN at edge %d\n", i);
		if (F.ntx)
			CHECK_EQ(last_pkt().flags, ACK);
		fake_clear();
	}
	CHECK_EQ(ST()->conns, 1);
	CHECK(!a->closed);
	/* RST: outside ignored; in window but not exact → challenge ACK. */
	cli_seg(&c, RST, at[0], NULL, 0);
	CHECK_EQ(F.ntx, 0);
	cli_seg(&c, RST, at[3], NULL, 0);
	CHECK_EQ(F.ntx, 0);
	cli_seg(&c, RST, at[2], NULL, 0);
	CHECK_EQ(F.ntx, 1);
	if (F.ntx)
		CHECK_EQ(last_pkt().ack, nxt);
	fake_clear();
	CHECK_EQ(ST()->conns, 1);
	CHECK(!a->closed);
	/* An ACK for data never sent: challenge ACK, dropped. */
	{
		uint32_t saved = c.rcv_nxt;

		c.rcv_nxt += 5000;
		cli_seg(&c, ACK, nxt, NULL, 0);
		c.rcv_nxt = saved;
		CHECK_EQ(F.ntx, 1);
		CHECK_EQ(ST()->tcp_bad_ack, 1);
		fake_clear();
	}
	/* Challenge ACKs are limited per flow (10 a second). */
	for (int i = 0; i < 30; i++)
		cli_seg(&c, RST, nxt + 10 + (uint32_t)i, NULL, 0);
	CHECK(F.ntx <= 10);
	CHECK(ST()->tcp_challenge_limited >= 20);
	fake_clear();
	/* ... per flow: another flow still gets its challenge ACK. */
	{
		struct cli c2;
		struct app *a2 = open_flow(&c2, 501, 0);

		CHECK(a2 != NULL);
		cli_seg(&c2, RST, c2.snd_nxt + 5, NULL, 0);
		CHECK_EQ(F.ntx, 1);
		fake_clear();
	}
	/* Next second: allowed again. */
	F.now += 1000;
	cli_seg(&c, RST, nxt + 50, NULL, 0);
	CHECK_EQ(F.ntx, 1);
	fake_clear();
	/* Data at each edge: RCV.NXT+WND-1 is queued out of order, +WND not. */
	cli_seg(&c, ACK, at[3], "q", 1);
	CHECK_EQ(ST()->tcp_ooo_in, 0);
	cli_seg(&c, ACK, at[2], "q", 1);
	CHECK_EQ(ST()->tcp_ooo_in, 1);
	cli_seg(&c, ACK, at[0], "q", 1);
	CHECK_EQ(a->inlen, 0);
	fake_clear();
	/* RST exactly at RCV.NXT resets; the app hears it. */
	cli_seg(&c, RST, nxt, NULL, 0);
	CHECK_EQ(F.ntx, 0);
	CHECK(a->closed);
	CHECK_EQ(a->why, NET_CLOSE_RESET);
	CHECK_EQ(ST()->bufs, 0);
	CHECK_EQ(ST()->conns, 1); /* the second flow */
	fake_clear();
}

/*
 * The same probes in every synchronized state: each flow is brought to the
 * state, then RST/SYN/ACK hit the four edges, then an exact RST ends it.
 */
static void edges_in(const char *state)
{
	struct cli c;
	struct app *a;
	struct pkt p;
	struct tcp_conn *tc;
	uint32_t nxt, wnd, at[4];
	static uint16_t port = 560;
	static const unsigned want_ack[4] = { 1, 0, 0, 1 };

	a = open_flow(&c, ++port, 0);
	if (!CHECK(a != NULL))
		return;
	tc = a->c;
	cli_send(&c, "x", 1);
	if (strcmp(state, "ESTABLISHED") != 0 && strcmp(state, "FIN_WAIT_1") != 0 &&
	    strcmp(state, "FIN_WAIT_2") != 0) {
		/* The peer closes first (CLOSE_WAIT), or crosses our FIN. */
		if (strcmp(state, "CLOSING") == 0) {
			a->used = 0;
			net_close(F.ctx, a->c, F.now);
		}
		cli_seg(&c, ACK | FIN, c.snd_nxt, NULL, 0);
		c.snd_nxt++;
	}
	if (strcmp(state, "FIN_WAIT_1") == 0 || strcmp(state, "FIN_WAIT_2") == 0 ||
	    strcmp(state, "LAST_ACK") == 0) {
		a->used = 0;
		net_close(F.ctx, a->c, F.now);
	}
	if (strcmp(state, "FIN_WAIT_2") == 0) {
		c.rcv_nxt = last_pkt().seq + 1;
		cli_seg(&c, ACK, c.snd_nxt, NULL, 0);
	}
	p = last_pkt();
	wnd = p.wnd;
	nxt = c.snd_nxt;
	CHECK_EQ(p.ack, nxt);
	/* (the handle is the app's no more, but the object still lives) */
	if (!CHECK(strcmp(net_conn_state(tc), state) == 0) && check_show())
		fprintf(stderr, "  in %s, wanted %s\n", net_conn_state(tc), state);
	fake_clear();
	at[0] = nxt - 1;
	at[1] = nxt;
	at[2] = nxt + wnd - 1;
	at[3] = nxt + wnd;
	for (int i = 0; i < 4; i++) {
		cli_seg(&c, ACK, at[i], NULL, 0);
		if (!CHECK_EQ(count_flags(ACK), want_ack[i]) && check_show())
			fprintf(stderr, "  %s: ACK at edge %d\n", state, i);
		fake_clear();
		cli_seg(&c, SYN, at[i], NULL, 0);
		if (!CHECK_EQ(count_flags(ACK), 1) && check_show())
			fprintf(stderr, "  %s: SYN at edge %d\n", state, i);
		fake_clear();
		if (i == 1)
			continue;
		cli_seg(&c, RST, at[i], NULL, 0);
		if (!CHECK_EQ(count_flags(ACK), i == 2) && check_show())
			fprintf(stderr, "  %s: RST at edge %d\n", state, i);
		fake_clear();
	}
	CHECK_EQ(ST()->conns, 1);
	cli_seg(&c, RST, nxt, NULL, 0);
	CHECK_EQ(F.ntx, 0);
	if (!CHECK_EQ(ST()->conns, 0) && check_show())
		fprintf(stderr, "  %s: exact RST\n", state);
	CHECK_EQ(ST()->tw, 0);
	fake_clear();
}

static void test_edges_states(void)
{
	static const char *const states[] = { "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1",
					      "FIN_WAIT_2",  "CLOSING",    "LAST_ACK" };

	fake_default();
	for (unsigned i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		edges_in(states[i]);
}

/* ---- malformed segments ------------------------------------------------------ */

static void test_malformed(void)
{
	static const uint8_t zero_len[] = { 2, 4, 5, 0xb4, 5, 0, 0, 0 };
	static const uint8_t one_len[] = { 1, 1, 3, 1 };
	static const uint8_t past[] = { 1, 1, 8, 10, 0, 0, 0, 1 };
	static const uint8_t no_len[] = { 1, 1, 1, 2 };
	static const uint8_t bad_mss[] = { 2, 5, 5, 0xb4, 0, 0, 0, 0 };
	static const uint8_t unknown[] = { 99, 4, 1, 2 };
	struct rte_mbuf *m;
	struct cli c;
	struct app *a;

	fake_default();
	fake_rx(tcp_frame(600, 25, SYN, 1, 0, 65535, zero_len, sizeof(zero_len), NULL, 0));
	fake_rx(tcp_frame(601, 25, SYN, 1, 0, 65535, one_len, sizeof(one_len), NULL, 0));
	fake_rx(tcp_frame(602, 25, SYN, 1, 0, 65535, past, sizeof(past), NULL, 0));
	fake_rx(tcp_frame(603, 25, SYN, 1, 0, 65535, no_len, sizeof(no_len), NULL, 0));
	fake_rx(tcp_frame(604, 25, SYN, 1, 0, 65535, bad_mss, sizeof(bad_mss), NULL, 0));
	CHECK_EQ(ST()->tcp_bad_opt, 5);
	CHECK_EQ(F.ntx, 0);
	CHECK_EQ(ST()->halfopen, 0);
	/* Unknown options are skipped. */
	fake_rx(tcp_frame(605, 25, SYN, 1, 0, 65535, unknown, sizeof(unknown), NULL, 0));
	CHECK_EQ(F.ntx, 1);
	fake_clear();

	/* Bad TCP checksum: dropped, counted, no answer. */
	m = tcp_frame(606, 25, SYN, 1, 0, 65535, NULL, 0, NULL, 0);
	rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, 34)->cksum ^= 0x4242;
	fake_rx(m);
	CHECK_EQ(ST()->tcp_bad_cksum, 1);
	CHECK_EQ(F.ntx, 0);
	/* Data offset under 5 words, or past the segment. */
	m = tcp_frame(607, 25, SYN, 1, 0, 65535, NULL, 0, NULL, 0);
	rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, 34)->data_off = 0x40;
	fake_rx(m);
	m = tcp_frame(608, 25, SYN, 1, 0, 65535, NULL, 0, NULL, 0);
	rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, 34)->data_off = 0xf0;
	fake_rx(m);
	CHECK_EQ(ST()->tcp_bad_len + ST()->tcp_bad_cksum, 3);
	/* SYN+FIN and flagless segments. */
	fake_rx(tcp_frame(609, 25, SYN | FIN, 1, 0, 65535, NULL, 0, NULL, 0));
	fake_rx(tcp_frame(610, 25, 0, 1, 0, 65535, NULL, 0, NULL, 0));
	CHECK_EQ(ST()->tcp_bad_flags, 2);
	CHECK_EQ(F.ntx, 0);

	/* A malformed option on an established flow is dropped too. */
	a = open_flow(&c, 611, 0);
	if (!CHECK(a != NULL))
		return;
	fake_rx(tcp_frame(611, 25, ACK | PSH, c.snd_nxt, c.rcv_nxt, 65535, one_len, sizeof(one_len),
			  "junk", 4));
	CHECK_EQ(a->inlen, 0);
	CHECK_EQ(ST()->tcp_bad_opt, 6);
	CHECK_EQ(F.ntx, 0);
	fake_clear();
}

int main(void)
{
	fake_eal();
	test_edges();
	test_edges_states();
	test_malformed();
	return fake_finish("net_edge");
}
