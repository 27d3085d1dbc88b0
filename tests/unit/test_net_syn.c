/*
 * test_net_syn.c — proxy/net passive open: handshakes through the half-open
 * table (options, MSS floor, refusal, RSTs for strays), SYN-ACK
 * retransmission when the final ACK is lost, SYN cookies (table full,
 * window scale in the timestamp, forged, foreign, expired, secret
 * rotation).
 */
#include "net_fake.h"

#define ACK RTE_TCP_ACK_FLAG
#define SYN RTE_TCP_SYN_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG

/* ---- handshake via the half-open table ------------------------------------ */

static void test_handshake_table(void)
{
	struct cli c;
	struct pkt p;
	struct app *a;

	fake_default();
	F.greet = "220 bulwark ESMTP\r\n";
	CHECK_EQ(cli_connect(&c, 1111, 1), 0);
	CHECK_EQ(ST()->tcp_accepted, 1);
	CHECK_EQ(ST()->conns, 1);
	CHECK_EQ(ST()->halfopen, 0);
	a = app_port(1111);
	CHECK(a != NULL);
	/* The greeting left with the handshake's completion. */
	CHECK_EQ(c.rcv_nxt, c.iss + 1 + 19);
	CHECK(F.ntx >= 1);
	if (F.ntx >= 1) {
		p = tx_pkt(0);
		CHECK(p.ip_ok && p.l4_ok);
		CHECK_EQ(p.seq, c.iss + 1);
		CHECK_EQ(p.ack, c.snd_nxt);
		CHECK_EQ(p.len, 19);
		CHECK_MEM(p.data, p.len, "220 bulwark ESMTP\r\n", 19);
		CHECK(p.ts);
		CHECK_EQ(p.tsecr, c.tsval - 1);
		CHECK_MEM(p.dmac, 6, cli_mac, 6);
	}
	fake_clear();

	/* SYN-ACK options: MSS, WS, TS echoed; no SACK (not implemented). */
	{
		uint8_t o[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0 };

		fake_rx(tcp_frame(2222, 25, SYN, 77, 0, 65535, o, sizeof(o), NULL, 0));
		CHECK_EQ(F.ntx, 1);
		p = last_pkt();
		CHECK_EQ(p.flags, SYN | ACK);
		CHECK_EQ(p.ack, 78);
		CHECK_EQ(p.mss, 1460);
		CHECK_EQ(p.ws, 0); /* 16 KiB buffers need no shift */
		CHECK(p.ts);
		CHECK_EQ(p.tsecr, 9);
		CHECK_EQ(p.sackok, 0);
		CHECK_EQ(p.wnd, 16384);
		CHECK_EQ(ST()->halfopen, 1);
		fake_clear();
	}
	/* A SYN without options gets MSS only; the flow then uses 536. */
	fake_rx(tcp_frame(3333, 25, SYN, 500, 0, 65535, NULL, 0, NULL, 0));
	p = last_pkt();
	CHECK_EQ(p.ws, -1);
	CHECK_EQ(p.ts, 0);
	fake_clear();
	fake_rx(tcp_frame(3333, 25, ACK, 501, p.seq + 1, 65535, NULL, 0, NULL, 0));
	a = app_port(3333);
	CHECK(a != NULL);
	if (a != NULL) {
		static uint8_t big[2000];

		for (int i = 0; i < 2000; i++)
			big[i] = (uint8_t)i;
		fake_clear();
		CHECK_EQ(net_send(F.ctx, a->c, big, sizeof(big), F.now), 2000);
		/* RFC 5681 IW for a 536 MSS: 4 segments (2144 bytes). */
		CHECK_EQ(F.ntx, 4);
		for (unsigned i = 0; i < F.ntx; i++) {
			p = tx_pkt(i);
			CHECK_EQ(p.len, i < 3 ? 536 : 2000 - 3 * 536);
			CHECK_EQ(p.seq, tx_pkt(0).seq + 536 * i);
		}
	}
	fake_clear();

	/* A refused connection gets RST and leaves nothing. */
	F.refuse = 1;
	{
		uint32_t before = (uint32_t)ST()->conns;

		fake_rx(tcp_frame(4444, 25, SYN, 900, 0, 65535, NULL, 0, NULL, 0));
		p = last_pkt();
		fake_clear();
		fake_rx(tcp_frame(4444, 25, ACK, 901, p.seq + 1, 65535, NULL, 0, NULL, 0));
		CHECK_EQ(F.ntx, 1);
		CHECK(last_pkt().flags & RST);
		CHECK_EQ(ST()->conns, before);
		CHECK_EQ(ST()->tcp_refused, 1);
	}
	fake_clear();
	F.refuse = 0;

	/* A SYN to a port nobody listens on: RST|ACK, ACK = SEQ + 1. */
	fake_rx(tcp_frame(5555, 26, SYN, 1234, 0, 65535, NULL, 0, NULL, 0));
	CHECK_EQ(F.ntx, 1);
	p = last_pkt();
	CHECK_EQ(p.flags, RST | ACK);
	CHECK_EQ(p.ack, 1235);
	CHECK_EQ(p.seq, 0);
	fake_clear();
	/* An ACK for no flow: <SEQ=SEG.ACK><CTL=RST>. */
	fake_rx(tcp_frame(5556, 25, ACK, 1234, 99999, 65535, NULL, 0, NULL, 0));
	CHECK_EQ(F.ntx, 1);
	p = last_pkt();
	CHECK_EQ(p.flags, RST);
	CHECK_EQ(p.seq, 99999);
	fake_clear();
	/* ... and a stray RST is never answered. */
	fake_rx(tcp_frame(5557, 25, RST, 1, 0, 0, NULL, 0, NULL, 0));
	CHECK_EQ(F.ntx, 0);
}

/* ---- lost final ACK: SYN-ACK retransmission --------------------------------- */

static void test_synack_rtx(void)
{
	struct pkt p;
	uint32_t iss;
	uint64_t t0;

	fake_default();
	F.greet = "220 x\r\n";
	fake_rx(tcp_frame(1000, 25, SYN, 10, 0, 65535, NULL, 0, NULL, 0));
	t0 = F.now;
	iss = last_pkt().seq;
	fake_clear();
	/* The final ACK is lost; nothing until 1 s, then the SYN-ACK again. */
	fake_run_to(t0 + 999);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t0 + 1000);
	CHECK_EQ(F.ntx, 1);
	p = last_pkt();
	CHECK_EQ(p.flags, SYN | ACK);
	CHECK_EQ(p.seq, iss);
	fake_clear();
	/* Back-off: the next one 2 s later. */
	fake_run_to(t0 + 2999);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t0 + 3000);
	CHECK_EQ(F.ntx, 1);
	fake_clear();
	/* A retransmitted SYN is answered at once from the entry. */
	fake_rx(tcp_frame(1000, 25, SYN, 10, 0, 65535, NULL, 0, NULL, 0));
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().seq, iss);
	fake_clear();
	/* The client's ACK (prompted by the repeat) completes it; 220 flows. */
	fake_rx(tcp_frame(1000, 25, ACK, 11, iss + 1, 65535, NULL, 0, NULL, 0));
	CHECK_EQ(ST()->tcp_accepted, 1);
	CHECK_EQ(ST()->halfopen, 0);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().len, 7);
	fake_clear();
	/* RFC 6298 §5.7: the SYN-ACK timed out, so the 220 waits 3 s, not 1. */
	t0 = F.now;
	fake_run_to(t0 + 2999);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t0 + 3000);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().len, 7);
	fake_rx(tcp_frame(1000, 25, ACK, 11, iss + 8, 65535, NULL, 0, NULL, 0));
	fake_clear();

	/* A client that never answers: the entry expires after the retries. */
	fake_rx(tcp_frame(1001, 25, SYN, 10, 0, 65535, NULL, 0, NULL, 0));
	CHECK_EQ(ST()->halfopen, 1);
	fake_run_to(F.now + 120000);
	CHECK_EQ(ST()->halfopen, 0);
	CHECK_EQ(ST()->tcp_halfopen_expired, 1);
	{
		unsigned n = 0;

		for (unsigned i = 0; i < F.ntx; i++)
			n += tx_pkt(i).sport == 25 && tx_pkt(i).dport == 1001;
		CHECK_EQ(n, 1 + 4); /* SYN-ACK + synack_retries */
	}
	fake_clear();
	/* An exact-match RST removes a half-open entry. */
	fake_rx(tcp_frame(1002, 25, SYN, 10, 0, 65535, NULL, 0, NULL, 0));
	fake_rx(tcp_frame(1002, 25, RST, 12, 0, 0, NULL, 0, NULL, 0));
	CHECK_EQ(ST()->halfopen, 1);
	fake_rx(tcp_frame(1002, 25, RST, 11, 0, 0, NULL, 0, NULL, 0));
	CHECK_EQ(ST()->halfopen, 0);
	fake_clear();
}

/*
 * The final ACK of a handshake whose SYN-ACK was retransmitted echoes the
 * first SYN-ACK's timestamp (the client keeps TS.Recent from it, RFC 7323
 * §4.3): no RTT sample from it (RFC 6298 §3, Karn), so the RTO is the
 * §5.7 value (3 s), not one grown from a sample spanning our back-off.
 */
static void test_synack_rtx_no_rtt(void)
{
	/* MSS 1460, NOP NOP TS(100, 0) */
	uint8_t o[16] = { 2, 4, 1460 >> 8, 1460 & 0xff, 1, 1, 8, 10, 0, 0, 0, 100, 0, 0, 0, 0 };
	struct pkt p;
	uint32_t iss, ts1;
	uint64_t t0;

	fake_default();
	F.greet = "220 x\r\n";
	fake_rx(tcp_frame(1010, 25, SYN, 10, 0, 65535, o, sizeof(o), NULL, 0));
	t0 = F.now;
	p = last_pkt();
	CHECK_EQ(p.flags, SYN | ACK);
	CHECK(p.ts);
	iss = p.seq;
	ts1 = p.tsval;
	fake_clear();
	/* The client's ACKs of the first SYN-ACK are lost twice: the SYN-ACK
	 * goes out again at 1 s and 3 s. */
	fake_run_to(t0 + 3000);
	CHECK_EQ(count_flags(SYN | ACK), 2);
	CHECK_EQ(ST()->halfopen, 1);
	fake_clear();
	/* 6.5 s after the first SYN-ACK, an ACK echoing its TSval arrives. */
	fake_run_to(t0 + 6500);
	memcpy(o + 4, (uint8_t[]){ 1, 1, 8, 10, 0, 0, 0, 101 }, 8);
	{
		uint32_t v = rte_cpu_to_be_32(ts1);

		memcpy(o + 12, &v, 4);
	}
	fake_rx(tcp_frame(1010, 25, ACK, 11, iss + 1, 65535, o + 4, 12, NULL, 0));
	CHECK_EQ(ST()->tcp_accepted, 1);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().len, 7); /* the 220 */
	fake_clear();
	/* It is lost too: RFC 6298 §5.7, the retransmission comes after 3 s
	 * (a sample of 6.5 s would have made the RTO 19.5 s). */
	t0 = F.now;
	fake_run_to(t0 + 2999);
	CHECK_EQ(F.ntx, 0);
	fake_run_to(t0 + 3000);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().len, 7);
	CHECK_EQ(last_pkt().seq, iss + 1);
	fake_clear();
}

/* ---- SYN cookies ------------------------------------------------------------ */

static void test_cookies(void)
{
	struct net_cfg cfg;
	struct pkt p;
	struct app *a;
	uint8_t o[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 50, 0, 0, 0, 0, 1, 3, 3, 4 };
	uint8_t ack_ts[12] = { 1, 1, 8, 10, 0, 0, 0, 51 };

	fake_cfg(&cfg);
	cfg.max_halfopen = 1;
	fake_start(&cfg);
	F.greet = "220 c\r\n";
	/* Fill the half-open table. */
	fake_rx(tcp_frame(9000, 25, SYN, 1, 0, 65535, NULL, 0, NULL, 0));
	CHECK_EQ(ST()->halfopen, 1);
	fake_clear();
	/* Full: a cookie SYN-ACK, no state. */
	fake_rx(tcp_frame(9001, 25, SYN, 7000, 0, 65535, o, sizeof(o), NULL, 0));
	CHECK_EQ(F.ntx, 1);
	p = last_pkt();
	CHECK_EQ(p.flags, SYN | ACK);
	CHECK_EQ(ST()->tcp_cookie_sent, 1);
	CHECK_EQ(ST()->halfopen, 1);
	CHECK(p.ts);
	CHECK_EQ(p.ws, 0);
	CHECK_EQ(p.tsecr, 50);
	CHECK(p.tsval <= (uint32_t)F.now);
	fake_clear();
	/* The final ACK (window 100 << 4 = 1600 bytes) completes it. */
	{
		uint32_t v = rte_cpu_to_be_32(p.tsval);

		memcpy(ack_ts + 8, &v, 4);
	}
	fake_rx(tcp_frame(9001, 25, ACK, 7001, p.seq + 1, 100, ack_ts, 12, NULL, 0));
	CHECK_EQ(ST()->tcp_cookie_ok, 1);
	CHECK_EQ(ST()->conns, 1);
	a = app_port(9001);
	CHECK(a != NULL);
	CHECK_EQ(F.ntx, 1); /* the greeting */
	fake_clear();
	if (a != NULL) {
		/* The window scale rode in the timestamp: 3000 bytes stop at 1600. */
		static uint8_t big[3000];
		uint32_t sent = 0;

		CHECK_EQ(net_send(F.ctx, a->c, big, sizeof(big), F.now), 3000);
		for (unsigned i = 0; i < F.ntx; i++)
			sent += tx_pkt(i).len;
		/* 1593 bytes of window: one full segment; the 145-byte rest
		 * waits (sender SWS avoidance). Unscaled, 100 bytes would
		 * let nothing out. */
		CHECK_EQ(sent, 1448);
		CHECK_EQ(tx_pkt(0).len, 1448); /* MSS 1460 - 12 of timestamps */
	}
	fake_clear();

	/* A forged cookie: RST, no state. */
	fake_rx(tcp_frame(9002, 25, ACK, 5001, 0xdeadbeef, 100, NULL, 0, NULL, 0));
	CHECK_EQ(ST()->tcp_cookie_bad, 1);
	CHECK_EQ(ST()->conns, 1);
	CHECK_EQ(F.ntx, 1);
	CHECK_EQ(last_pkt().flags, RST);
	fake_clear();
	/* A cookie for another tuple does not open this one. */
	fake_rx(tcp_frame(9003, 25, SYN, 3000, 0, 65535, NULL, 0, NULL, 0));
	p = last_pkt();
	fake_clear();
	fake_rx(tcp_frame(9004, 25, ACK, 3001, p.seq + 1, 100, NULL, 0, NULL, 0));
	CHECK_EQ(ST()->tcp_cookie_bad, 2);
	/* ... nor with another ISN. */
	fake_rx(tcp_frame(9003, 25, ACK, 3002, p.seq + 1, 100, NULL, 0, NULL, 0));
	CHECK_EQ(ST()->tcp_cookie_bad, 3);
	CHECK_EQ(ST()->conns, 1);
	fake_clear();
	/* An expired cookie: valid once, not 200 s later. */
	fake_rx(tcp_frame(9005, 25, SYN, 4000, 0, 65535, NULL, 0, NULL, 0));
	p = last_pkt();
	fake_clear();
	F.now += 200000;
	fake_rx(tcp_frame(9005, 25, ACK, 4001, p.seq + 1, 100, NULL, 0, NULL, 0));
	CHECK_EQ(ST()->tcp_cookie_bad, 4);
	CHECK_EQ(ST()->conns, 1);
	fake_clear();
	/* Within its lifetime (and without timestamps) it works: MSS 536. */
	fake_rx(tcp_frame(9006, 25, SYN, 4000, 0, 65535, NULL, 0, NULL, 0));
	p = last_pkt();
	CHECK_EQ(p.ws, -1);
	fake_clear();
	F.now += 70000;
	fake_rx(tcp_frame(9006, 25, ACK, 4001, p.seq + 1, 65535, NULL, 0, NULL, 0));
	CHECK_EQ(ST()->tcp_cookie_ok, 2);
	CHECK_EQ(ST()->conns, 2);
	fake_clear();

	/* The secret rotates: old cookies stay good for one rotation. */
	{
		struct net_cookie_secret sec;
		uint64_t k1[2] = { 1, 2 }, k2[2] = { 3, 4 }, k3[2] = { 5, 6 };
		uint32_t cookie;

		net_cookie_init(&sec, k1);
		fake_cfg(&cfg);
		cfg.syncookies = 2; /* always */
		cfg.secret = &sec;
		fake_start(&cfg);
		fake_rx(tcp_frame(9100, 25, SYN, 10, 0, 65535, NULL, 0, NULL, 0));
		cookie = last_pkt().seq;
		CHECK_EQ(ST()->halfopen, 0);
		fake_clear();
		net_cookie_rotate(&sec, k2);
		fake_rx(tcp_frame(9100, 25, ACK, 11, cookie + 1, 65535, NULL, 0, NULL, 0));
		CHECK_EQ(ST()->tcp_cookie_ok, 1);
		fake_rx(tcp_frame(9101, 25, SYN, 10, 0, 65535, NULL, 0, NULL, 0));
		cookie = last_pkt().seq;
		fake_clear();
		net_cookie_rotate(&sec, k3);
		net_cookie_rotate(&sec, k1);
		fake_rx(tcp_frame(9101, 25, ACK, 11, cookie + 1, 65535, NULL, 0, NULL, 0));
		CHECK_EQ(ST()->tcp_cookie_bad, 1);
		CHECK_EQ(ST()->conns, 1);
		fake_clear();
	}
}

int main(void)
{
	fake_eal();
	test_handshake_table();
	test_synack_rtx();
	test_synack_rtx_no_rtt();
	test_cookies();
	return fake_finish("net_syn");
}
