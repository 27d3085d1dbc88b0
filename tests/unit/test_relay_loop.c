/*
 * test_relay_loop.c — the relay lcore end to end over real loopback
 * sockets: EAL without hugepages, one (worker, relay) pair, relay_main on a
 * second lcore sharing CPU 0, and tests/unit/fake_mta.py as the backends
 * (harness: relay_drv.c). This program plays the worker: it sends
 * OPEN/CMD/BODY/ABORT/QUIT through the rings and checks the
 * REPLY/EVENT/CREDIT that come back, and what the fake MTA received on the
 * wire.
 *
 * argv[1]: the path of fake_mta.py.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/stat.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "check.h"
#include "relay_drv.h"

/* ---- Scenarios ---------------------------------------------------------------- */

/* A whole mail through a PROXY v2 backend; everything credited back. */
static void test_mail_v2(void)
{
	static const uint8_t v2[] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
				      0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c, 192,  0,    2,    1,
				      198,  18,   0,    1,    0x30, 0x39, 0x00, 0x19 };
	const char *after = "EHLO client.example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"
			    "Subject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n";
	char raw[4096];
	ssize_t n;

	rd_cfg_base();
	rd_backend(rd.ports[M_OK], CFG_PROXY_V2, 0, 10);
	rd_start();
	rd_open(3, 7);
	rd_cmd(3, 7, "MAIL FROM:<a@b>\r\n"); /* queued before READY: sent after */
	EXPECT_EVENT(3, 7, SMTP_BACKEND_READY);
	rd_cmd(3, 7, "RCPT TO:<c@d>\r\n");
	rd_cmd(3, 7, "DATA\r\n");
	EXPECT_REPLY(3, 7, "250 ");
	EXPECT_REPLY(3, 7, "250 ");
	EXPECT_REPLY(3, 7, "354 ");
	rd_body(3, 7, "Subject: t\r\n\r\nhel", 0);
	rd_body(3, 7, "lo\r\n.\r\n", 1);
	EXPECT_REPLY(3, 7, "250 2.0.0 queued");
	rd_ctl(RELAY_M_QUIT, 3, 7);
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_sleep_ms(300); /* the 221 and the close */
	rd_stop();
	n = rd_mta_raw(rd.ports[M_OK], 1, raw, sizeof(raw));
	CHECK(n == (ssize_t)(sizeof(v2) + strlen(after)));
	CHECK_MEM(raw, sizeof(v2), v2, sizeof(v2));
	if (n > (ssize_t)sizeof(v2))
		CHECK_MEM(raw + sizeof(v2), n - sizeof(v2), after, strlen(after));
	CHECK_EQ(rd.rl.st.ready, 1);
	CHECK_EQ(rd.rl.st.replies, 4);
	CHECK_EQ(rd.rl.st.quits, 1);
	CHECK_EQ(rd.rl.st.proto_err, 0);
	relay_stats_log(&rd.rl); /* one line on stderr */
}

/* Refused, then a 554 greeting, then a silent one: each fails over; the
 * fourth (PROXY v1 + XCLIENT) serves. Then none left at all: NONE. */
static void test_failover(void)
{
	char raw[4096];

	rd_cfg_base();
	rd_backend(rd.closed_port, 0, 0, 10);
	rd_backend(rd.ports[M_BAD], 0, 0, 10);
	rd_backend(rd.ports[M_SILENT], 0, 0, 10);
	rd_backend(rd.ports[M_OK], CFG_PROXY_V1, 1, 10);
	rd_start();
	rd_open(1, 1);
	EXPECT_EVENT(1, 1, SMTP_BACKEND_READY);
	rd_cmd(1, 1, "NOOP\r\n");
	EXPECT_REPLY(1, 1, "250 ");
	rd_ctl(RELAY_M_ABORT, 1, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.connect_fail, 3);
	CHECK_EQ(rd.rl.st.be_fail[0], 1);
	CHECK_EQ(rd.rl.st.be_fail[1], 1);
	CHECK_EQ(rd.rl.st.be_fail[2], 1);
	CHECK_EQ(rd.rl.st.aborts, 1);
	rd_mta_raw(rd.ports[M_OK], 2, raw, sizeof(raw));
	CHECK(!strcmp(raw, "PROXY TCP4 192.0.2.1 198.18.0.1 12345 25\r\n"
			   "XCLIENT ADDR=192.0.2.1 PORT=12345\r\nEHLO client.example\r\nNOOP\r\n"));

	rd_cfg_base();
	rd_backend(rd.closed_port, 0, 0, 10);
	rd_backend(rd.ports[M_SILENT], 0, 0, 10);
	rd_backend(rd.ports[M_NOEHLO], 0, 0, 10);
	rd_start();
	rd_open(2, 5);
	rd_cmd(2, 5, "MAIL FROM:<a@b>\r\n");
	EXPECT_EVENT(2, 5, SMTP_BACKEND_NONE);
	CHECK(rd_drain(RD_WAIT_MS)); /* the MAIL comes back unsent */
	CHECK_EQ(rd.outstanding, 0);
	rd_stop();
	CHECK_EQ(rd.rl.st.none, 1);
}

/* max_conns 1: the second session is BUSY; after the first QUITs, a new
 * OPEN on the same slot with another gen gets the backend. */
static void test_busy(void)
{
	rd_cfg_base();
	rd_backend(rd.ports[M_OK], 0, 0, 1);
	rd_start();
	rd_open(0, 1);
	EXPECT_EVENT(0, 1, SMTP_BACKEND_READY);
	rd_open(1, 1);
	EXPECT_EVENT(1, 1, SMTP_BACKEND_BUSY);
	rd_ctl(RELAY_M_QUIT, 0, 1);
	rd_sleep_ms(300); /* the 221 frees the connection */
	rd_open(0, 2);
	EXPECT_EVENT(0, 2, SMTP_BACKEND_READY);
	rd_ctl(RELAY_M_ABORT, 0, 2);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.busy, 1);
}

/* A backend without PIPELINING, SMTPUTF8 or SIZE: commands go one at a
 * time (the fake answers 500 to pipelining), the refused MAIL and its RCPT
 * are answered here, and replies stay in command order. */
static void test_refusals(void)
{
	rd_cfg_base();
	rd_backend(rd.ports[M_NOPIPE], 0, 0, 10);
	rd_start();
	rd_open(4, 9);
	EXPECT_EVENT(4, 9, SMTP_BACKEND_READY);
	rd_cmd(4, 9, "MAIL FROM:<a@b> SMTPUTF8\r\n");
	rd_cmd(4, 9, "RCPT TO:<c@d>\r\n");
	rd_cmd(4, 9, "RSET\r\n");
	rd_cmd(4, 9, "MAIL FROM:<a@b> SIZE=10\r\n");
	rd_cmd(4, 9, "MAIL FROM:<a@b> BODY=8BITMIME\r\n");
	rd_cmd(4, 9, "RCPT TO:<c@d>\r\n");
	rd_cmd(4, 9, "NOOP\r\n");
	EXPECT_REPLY(4, 9, "553 5.6.7 ");
	EXPECT_REPLY(4, 9, "503 5.5.1 ");
	EXPECT_REPLY(4, 9, "250 ");
	EXPECT_REPLY(4, 9, "555 5.5.4 ");
	EXPECT_REPLY(4, 9, "250 ");
	EXPECT_REPLY(4, 9, "250 ");
	EXPECT_REPLY(4, 9, "250 ");
	rd_ctl(RELAY_M_QUIT, 4, 9);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_sleep_ms(200);
	rd_stop();
	CHECK_EQ(rd.rl.st.refusals, 3);
	CHECK_EQ(rd.rl.st.replies, 4);
}

/* ABORT mid-DATA never sends a final dot; a backend that dies is GONE. */
static void test_abort_gone(void)
{
	char raw[4096];

	rd_cfg_base();
	rd_backend(rd.ports[M_OK], 0, 0, 10);
	rd_start();
	rd_open(5, 1);
	EXPECT_EVENT(5, 1, SMTP_BACKEND_READY);
	rd_cmd(5, 1, "MAIL FROM:<a@b>\r\n");
	rd_cmd(5, 1, "RCPT TO:<c@d>\r\n");
	rd_cmd(5, 1, "DATA\r\n");
	EXPECT_REPLY(5, 1, "250 ");
	EXPECT_REPLY(5, 1, "250 ");
	EXPECT_REPLY(5, 1, "354 ");
	rd_body(5, 1, "partial body\r\n", 0);
	rd_ctl(RELAY_M_ABORT, 5, 1);
	/* objects for the aborted gen still come back */
	rd_cmd(5, 1, "NOOP\r\n");
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_stop();
	rd_sleep_ms(100);
	/* connection 1 of M_OK's port was test_mail_v2's; find this one */
	for (int c = 1; c < 1000; c++) {
		if (rd_mta_raw(rd.ports[M_OK], c, raw, sizeof(raw)) < 0)
			break;
		if (strstr(raw, "partial body")) {
			CHECK(!strstr(raw, "\r\n.\r\n"));
			CHECK(!strstr(raw, "NOOP"));
		}
	}

	rd_cfg_base();
	rd_backend(rd.ports[M_DIE], 0, 0, 10);
	rd_start();
	rd_open(6, 3);
	EXPECT_EVENT(6, 3, SMTP_BACKEND_READY);
	rd_cmd(6, 3, "MAIL FROM:<a@b>\r\n");
	EXPECT_EVENT(6, 3, SMTP_BACKEND_GONE);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_ctl(RELAY_M_ABORT, 6, 3); /* the worker's terminal control: nothing left */
	rd_sleep_ms(50);
	rd_stop();
	CHECK_EQ(rd.rl.st.gone, 1);
	CHECK_EQ(rd.rl.st.aborts, 0);
}

/* Health checks mark a silent backend down after `fall` failures; a
 * session then skips it without trying. */
static void test_health(void)
{
	rd_cfg_base();
	rd.cfg.relay.health_interval_ms = 100;
	rd.cfg.relay.health_timeout_ms = 400; /* fake_mta.py greets after 0.1 s */
	rd.cfg.relay.health_fall = 2;
	rd_backend(rd.ports[M_SILENT], 0, 0, 10);
	rd_backend(rd.ports[M_OK], 0, 0, 10);
	rd_start();
	rd_sleep_ms(1500);
	rd_open(7, 1); /* one at a time: the two may get ready in any order */
	EXPECT_EVENT(7, 1, SMTP_BACKEND_READY);
	rd_open(8, 1);
	EXPECT_EVENT(8, 1, SMTP_BACKEND_READY);
	rd_ctl(RELAY_M_ABORT, 7, 1);
	rd_ctl(RELAY_M_ABORT, 8, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.health_down, 1);
	CHECK(rd.rl.st.health_ok >= 2);
	CHECK_EQ(rd.rl.st.be_connects[0], 0); /* never picked while down */
	CHECK_EQ(rd.rl.st.be_connects[1], 2);
}

/* A backend that is silent for its first three connections: down after
 * `fall` failed checks, up again after `rise` good ones, logged once each. */
static void test_health_rise(void)
{
	uint64_t end;

	rd_cfg_base();
	rd.cfg.relay.health_interval_ms = 100;
	rd.cfg.relay.health_timeout_ms = 400;
	rd.cfg.relay.health_fall = 2;
	rd.cfg.relay.health_rise = 2;
	rd_backend(rd.ports[M_LATE], 0, 0, 10);
	rd_start();
	end = rd_now_ms() + 8000;
	while (rd_now_ms() < end && !__atomic_load_n(&rd.rl.st.health_up, __ATOMIC_RELAXED))
		rd_sleep_ms(50);
	rd_stop();
	CHECK_EQ(rd.rl.st.health_down, 1);
	CHECK_EQ(rd.rl.st.health_up, 1);
	CHECK(rd.rl.be[0].up);
	CHECK(rd.rl.st.health_ok >= 2);
}

/* Backends that greet only after a PROXY header: the health checks send
 * PROXY UNKNOWN / v2 LOCAL and keep them up; a session still gets through
 * with the client's addresses. */
static void test_health_proxy(void)
{
	rd_cfg_base();
	rd.cfg.relay.health_interval_ms = 100;
	rd.cfg.relay.health_timeout_ms = 400;
	rd.cfg.relay.health_fall = 1;
	rd_backend(rd.ports[M_PROXY], CFG_PROXY_V1, 0, 10);
	rd_backend(rd.ports[M_PROXY], CFG_PROXY_V2, 0, 10);
	rd_start();
	rd_sleep_ms(1200);
	rd_open(13, 1);
	EXPECT_EVENT(13, 1, SMTP_BACKEND_READY);
	rd_ctl(RELAY_M_ABORT, 13, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.health_down, 0);
	CHECK_EQ(rd.rl.st.health_fail, 0);
	CHECK(rd.rl.st.health_ok >= 4);
}

/* No relay object free: the reply waits (nothing lost, nothing out of
 * order) and goes out once objects come back. */
static void test_stall(void)
{
	void *held[RD_POOL];
	unsigned n = 0;
	struct got g;

	rd_cfg_base();
	rd_backend(rd.ports[M_OK], 0, 0, 10);
	/* Taken before the relay runs: the pool has one getter at a time. */
	while (n < RD_POOL && !rte_mempool_get(rd.pair.rpool, &held[n]))
		n++;
	CHECK_EQ(n, RD_POOL);
	rd_start();
	rd_open(9, 4);
	EXPECT_EVENT(9, 4, SMTP_BACKEND_READY); /* a control word: no object */
	rd_cmd(9, 4, "NOOP\r\n");
	rd_cmd(9, 4, "RSET\r\n");
	CHECK_EQ(rd_next(&g, 300), -1);
	for (unsigned i = 0; i < n; i++)
		rte_mempool_put(rd.pair.rpool, held[i]);
	EXPECT_REPLY(9, 4, "250 ");
	EXPECT_REPLY(9, 4, "250 ");
	rd_ctl(RELAY_M_ABORT, 9, 4);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK(rd.rl.st.rpool_empty >= 1);
	CHECK_EQ(rd.rl.st.replies, 2);

	/* QUIT while stalled: the replies are dropped, QUIT goes out and the
	 * connection ends on the 221, pool still empty. */
	n = 0;
	while (n < RD_POOL && !rte_mempool_get(rd.pair.rpool, &held[n]))
		n++;
	rd_start();
	rd_open(9, 5);
	EXPECT_EVENT(9, 5, SMTP_BACKEND_READY);
	rd_cmd(9, 5, "NOOP\r\n");
	rd_sleep_ms(200);
	rd_ctl(RELAY_M_QUIT, 9, 5);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_sleep_ms(300);
	CHECK_EQ(__atomic_load_n(&rd.rl.be[0].conns, __ATOMIC_RELAXED), 0);
	rd_stop();
	for (unsigned i = 0; i < n; i++)
		rte_mempool_put(rd.pair.rpool, held[i]);
	CHECK_EQ(rd.rl.st.replies, 0);
}

/* A backend that stops answering: GONE after reply_timeout_ms. */
static void test_reply_timeout(void)
{
	uint64_t t0;

	rd_cfg_base();
	rd.cfg.relay.reply_timeout_ms = 300;
	rd_backend(rd.ports[M_MUTE], 0, 0, 10);
	rd_start();
	rd_open(10, 2);
	EXPECT_EVENT(10, 2, SMTP_BACKEND_READY);
	t0 = rd_now_ms();
	rd_cmd(10, 2, "MAIL FROM:<a@b>\r\n");
	EXPECT_EVENT(10, 2, SMTP_BACKEND_GONE);
	CHECK(rd_now_ms() - t0 >= 300);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.gone, 1);
}

/* Smooth weighted round-robin 2:1 gives a, b, a; least-connections goes
 * where the fewest sessions are. */
static void test_balance(void)
{
	rd_cfg_base();
	rd_backend(rd.ports[M_OK], 0, 0, 10);
	rd_backend(rd.ports[M_OK], 0, 0, 10);
	rd.cfg.backends[0].weight = 2;
	rd_start();
	for (uint32_t i = 0; i < 3; i++) {
		rd_open(i, 1);
		EXPECT_EVENT(i, 1, SMTP_BACKEND_READY);
	}
	for (uint32_t i = 0; i < 3; i++)
		rd_ctl(RELAY_M_ABORT, i, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.be_connects[0], 2);
	CHECK_EQ(rd.rl.st.be_connects[1], 1);

	rd_cfg_base();
	rd.cfg.relay.balance = CFG_BALANCE_LEASTCONN;
	rd_backend(rd.ports[M_OK], 0, 0, 10);
	rd_backend(rd.ports[M_OK], 0, 0, 10);
	rd_start();
	rd_open(0, 1);
	EXPECT_EVENT(0, 1, SMTP_BACKEND_READY);
	rd_open(1, 1);
	EXPECT_EVENT(1, 1, SMTP_BACKEND_READY);
	rd_ctl(RELAY_M_ABORT, 0, 1);
	rd_open(2, 1); /* the backend session 0 left is the emptier one */
	EXPECT_EVENT(2, 1, SMTP_BACKEND_READY);
	rd_ctl(RELAY_M_ABORT, 1, 1);
	rd_ctl(RELAY_M_ABORT, 2, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.be_connects[0] + rd.rl.st.be_connects[1], 3);
	CHECK(rd.rl.st.be_connects[0] == 2 || rd.rl.st.be_connects[1] == 2);
	CHECK_EQ(rd.rl.be[0].conns + rd.rl.be[1].conns, 0);
}

/* A command line longer than one object (a long AUTH line) arrives in
 * two CMD objects and takes one reply slot; serialised, it must not wait
 * for its own reply. */
static void test_long_line(void)
{
	static char line[6000];
	struct relay_msg *m;
	size_t n;

	memcpy(line, "AUTH PLAIN ", 11);
	memset(line + 11, 'Q', 5000);
	memcpy(line + 5011, "\r\n", 3);
	n = strlen(line);
	rd_cfg_base();
	rd_backend(rd.ports[M_NOPIPE], 0, 0, 10);
	rd_start();
	rd_open(11, 1);
	EXPECT_EVENT(11, 1, SMTP_BACKEND_READY);
	m = rd_obj(11, 1, RELAY_M_CMD);
	m->len = RELAY_MSG_DATA;
	memcpy(m->data, line, m->len);
	rd_put(m);
	m = rd_obj(11, 1, RELAY_M_CMD);
	m->len = (uint16_t)(n - RELAY_MSG_DATA);
	memcpy(m->data, line + RELAY_MSG_DATA, m->len);
	rd_put(m);
	rd_cmd(11, 1, "NOOP\r\n");
	EXPECT_REPLY(11, 1, "502 5.5.2 what"); /* the fake knows no AUTH */
	EXPECT_REPLY(11, 1, "250 ");
	rd_ctl(RELAY_M_ABORT, 11, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.replies, 2);
	CHECK_EQ(rd.rl.st.proto_err, 0);

	/* Two lines in one object break the contract, but each still gets
	 * its reply, in order. */
	rd_cfg_base();
	rd_backend(rd.ports[M_OK], 0, 0, 10);
	rd_start();
	rd_open(11, 2);
	EXPECT_EVENT(11, 2, SMTP_BACKEND_READY);
	rd_cmd(11, 2, "NOOP\r\nXYZZY\r\n");
	rd_cmd(11, 2, "RSET\r\n");
	EXPECT_REPLY(11, 2, "250 ");
	EXPECT_REPLY(11, 2, "502 ");
	EXPECT_REPLY(11, 2, "250 ");
	rd_ctl(RELAY_M_ABORT, 11, 2);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.replies, 3);
	CHECK_EQ(rd.rl.st.proto_err, 1);
	CHECK_EQ(rd.rl.st.gone, 0);
}

/* A body of 40 full objects arrives intact and in order (gathered
 * writes), then the final dot gets the backend's reply. */
static void test_big_body(void)
{
	enum { N_OBJ = 40 };
	static char want[N_OBJ * RELAY_MSG_DATA + 1];
	static char raw[N_OBJ * RELAY_MSG_DATA + 4096];
	size_t n = 0, got;
	const char *at;

	/* numbered lines: any lost, doubled or reordered bytes show */
	while (n + 32 < sizeof(want) - 1)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "line %08zu abcdefghijklmno\r\n",
				      n);
	memset(want + n, 'x', sizeof(want) - 1 - n);
	rd_cfg_base();
	rd_backend(rd.ports[M_OK], 0, 0, 10);
	rd_start();
	rd_open(12, 1);
	EXPECT_EVENT(12, 1, SMTP_BACKEND_READY);
	rd_cmd(12, 1, "MAIL FROM:<a@b>\r\n");
	rd_cmd(12, 1, "RCPT TO:<c@d>\r\n");
	rd_cmd(12, 1, "DATA\r\n");
	EXPECT_REPLY(12, 1, "250 ");
	EXPECT_REPLY(12, 1, "250 ");
	EXPECT_REPLY(12, 1, "354 ");
	for (int i = 0; i < N_OBJ; i++) {
		struct relay_msg *m = rd_obj(12, 1, RELAY_M_BODY);

		m->len = RELAY_MSG_DATA;
		memcpy(m->data, want + (size_t)i * RELAY_MSG_DATA, RELAY_MSG_DATA);
		rd_put(m);
	}
	rd_body(12, 1, "\r\n.\r\n", 1);
	EXPECT_REPLY(12, 1, "250 2.0.0 queued");
	rd_ctl(RELAY_M_QUIT, 12, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_sleep_ms(200);
	rd_stop();
	got = 0;
	for (int c = 1; c < 1000 && !got; c++) {
		ssize_t k = rd_mta_raw(rd.ports[M_OK], c, raw, sizeof(raw));

		if (k < 0)
			break;
		at = strstr(raw, "DATA\r\nline 00000000");
		if (at) {
			got = (size_t)k;
			at += 6;
			CHECK_MEM(at, sizeof(want) - 1, want, sizeof(want) - 1);
			CHECK(!strcmp(at + sizeof(want) - 1, "\r\n.\r\nQUIT\r\n"));
		}
	}
	CHECK(got > 0);
}

/* Backpressure: a backend that does not read for a second while 8 MiB
 * of body wait. The relay holds the objects it cannot write (no credit
 * comes back, so the worker's pool bounds the memory), and the message
 * completes intact once the backend reads. */
static void backpressure_on(int mode, int tls)
{
	enum { N_OBJ = 2048 };
	uint64_t t0, last_credit, longest = 0;
	int sent = 0, before;
	struct got g;

	rd_cfg_base();
	rd_backend(rd.ports[mode], 0, 0, 10);
	if (tls)
		rd_backend_tls("ca.pem", "mta.test");
	rd_start();
	rd_open(14, 1);
	EXPECT_EVENT(14, 1, SMTP_BACKEND_READY);
	rd_cmd(14, 1, "MAIL FROM:<a@b>\r\n");
	rd_cmd(14, 1, "RCPT TO:<c@d>\r\n");
	rd_cmd(14, 1, "DATA\r\n");
	EXPECT_REPLY(14, 1, "250 ");
	EXPECT_REPLY(14, 1, "250 ");
	EXPECT_REPLY(14, 1, "354 ");
	t0 = last_credit = rd_now_ms();
	while (sent < N_OBJ && rd_now_ms() - t0 < 20000) {
		while (rd.outstanding < RD_POOL - 1 && sent < N_OBJ) {
			struct relay_msg *m = rd_obj(14, 1, RELAY_M_BODY);

			m->len = RELAY_MSG_DATA;
			memset(m->data, 'a' + sent % 26, RELAY_MSG_DATA - 2);
			memcpy(m->data + RELAY_MSG_DATA - 2, "\r\n", 2);
			rd_put(m);
			sent++;
		}
		before = rd.outstanding;
		CHECK_EQ(rd_next(&g, 5), -1); /* nothing but credits meanwhile */
		if (rd.outstanding < before)
			last_credit = rd_now_ms();
		else if (rd_now_ms() - last_credit > longest)
			longest = rd_now_ms() - last_credit;
	}
	CHECK_EQ(sent, N_OBJ);
	CHECK(longest >= 500); /* the writes blocked: credits stopped */
	rd_body(14, 1, "\r\n.\r\n", 1);
	EXPECT_REPLY(14, 1, "250 2.0.0 queued");
	rd_ctl(RELAY_M_QUIT, 14, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.gone, 0);
	CHECK(rd.rl.st.bytes_out >= (uint64_t)N_OBJ * RELAY_MSG_DATA);
	if (tls) {
		/* every body byte arrived through TLS, in order (the fake found
		 * the final dot after them: its 250 above) */
		char path[160];
		struct stat sb;

		snprintf(path, sizeof(path), "%s/%u-1.raw", rd.logdir, rd.ports[mode]);
		CHECK(stat(path, &sb) == 0 && sb.st_size >= (off_t)N_OBJ * RELAY_MSG_DATA);
		CHECK_EQ(rd.rl.st.tls_done, 1);
	}
}

static void test_backpressure(void)
{
	backpressure_on(M_SLOW, 0);
}

/* The same over TLS: SSL_write meets a full socket (WANT_WRITE), the
 * same record is offered again on EPOLLOUT, credits stop meanwhile. */
static void test_tls_backpressure(void)
{
	backpressure_on(M_TLS_SLOW, 1);
}

/* What the fake MTA on port p got on the connection whose bytes hold
 * mark, in raw; returns 1 when there was one. */
static int raw_with(uint16_t p, const char *mark, char *raw, size_t cap)
{
	for (int c = 1; c < 1000; c++) {
		if (rd_mta_raw(p, c, raw, cap) < 0)
			break;
		if (strstr(raw, mark))
			return 1;
	}
	raw[0] = '\0';
	return 0;
}

/* Session sid/gen on a fresh relay over backend mode: READY, MAIL, RCPT,
 * DATA answered, then a first body object marked mark. */
static void early_start(int mode, uint32_t sid, uint32_t gen, const char *mark)
{
	rd_cfg_base();
	rd_backend(rd.ports[mode], 0, 0, 10);
	rd_start();
	rd_open(sid, gen);
	EXPECT_EVENT(sid, gen, SMTP_BACKEND_READY);
	rd_cmd(sid, gen, "MAIL FROM:<a@b>\r\n");
	rd_cmd(sid, gen, "RCPT TO:<c@d>\r\n");
	rd_cmd(sid, gen, "DATA\r\n");
	EXPECT_REPLY(sid, gen, "250 ");
	EXPECT_REPLY(sid, gen, "250 ");
	EXPECT_REPLY(sid, gen, "354 ");
	rd_body(sid, gen, mark, 0);
}

#define REJECT2 "550-5.7.1 rejected\r\n550 5.7.1 early\r\n"

/* The next thing from the relay is the REPLY text (exactly), then GONE. */
static void expect_reply_gone(uint32_t sid, uint32_t gen, const char *text)
{
	struct got g;

	if (CHECK_EQ(rd_next(&g, RD_WAIT_MS), 0)) {
		CHECK_EQ(g.kind, RELAY_M_REPLY);
		CHECK_EQ(g.sid, sid);
		CHECK_EQ(g.gen, gen);
		if (!CHECK(!strcmp(g.text, text)) && check_show())
			fprintf(stderr, "  got \"%s\"\n", g.text);
	}
	EXPECT_EVENT(sid, gen, SMTP_BACKEND_GONE);
}

/* A backend that rejects the message mid-body (smtp-sink -A): its 550 is
 * kept, no more body and never the final dot reach it, and the final dot
 * gets exactly its reply, then GONE; every object comes back. */
static void test_early_reject(void)
{
	static char raw[1 << 16];
	struct got g;

	/* 550, then the backend closes */
	early_start(M_REJECT, 15, 1, "first part\r\n");
	CHECK_EQ(rd_next(&g, 300), -1); /* kept until the final dot */
	rd_body(15, 1, "second part\r\n", 0);
	rd_body(15, 1, "last line\r\n.\r\n", 1);
	expect_reply_gone(15, 1, REJECT2);
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_ctl(RELAY_M_ABORT, 15, 1); /* the worker's terminal control: nothing left */
	rd_cmd(15, 1, "RSET\r\n");    /* and a late one comes back */
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_stop();
	CHECK_EQ(rd.rl.st.early, 1);
	CHECK_EQ(rd.rl.st.gone, 1);
	CHECK_EQ(rd.rl.st.replies, 4);
	CHECK_EQ(rd.rl.st.aborts, 0);
	CHECK_EQ(rd.rl.st.proto_err, 0);
	CHECK_EQ(rd.rl.be[0].conns, 0);
	CHECK(raw_with(rd.ports[M_REJECT], "first part", raw, sizeof(raw)));
	CHECK(!strstr(raw, "second part"));
	CHECK(!strstr(raw, "last line"));

	/* 550 and the backend stays open: not waited for, closed by the
	 * relay; the final dot comes with the next objects */
	early_start(M_REJECT_OPEN, 15, 2, "first part\r\n");
	CHECK_EQ(rd_next(&g, 300), -1);
	rd_body(15, 2, "second part\r\n", 0);
	CHECK_EQ(rd_next(&g, 100), -1);
	rd_body(15, 2, "last line\r\n.\r\n", 1);
	expect_reply_gone(15, 2, "550 5.7.1 early\r\n");
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_stop();
	CHECK_EQ(rd.rl.st.early, 1);
	CHECK_EQ(rd.rl.st.gone, 1);
	CHECK_EQ(rd.rl.st.proto_err, 0);
	rd_sleep_ms(100); /* the fake logs until it sees the reset */
	CHECK(raw_with(rd.ports[M_REJECT_OPEN], "first part", raw, sizeof(raw)));
	CHECK(!strstr(raw, "second part"));
	CHECK(!strstr(raw, "last line"));

	/* the client goes away before its final dot: ABORT, nothing more */
	early_start(M_REJECT_OPEN, 15, 3, "first part\r\n");
	CHECK_EQ(rd_next(&g, 300), -1);
	rd_body(15, 3, "second part\r\n", 0);
	rd_ctl(RELAY_M_ABORT, 15, 3);
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_stop();
	CHECK_EQ(rd.rl.st.early, 1);
	CHECK_EQ(rd.rl.st.gone, 0);
	CHECK_EQ(rd.rl.st.aborts, 1);
}

/* The backend stops reading while body objects and the final dot wait in
 * the relay (writes blocked), then rejects and resets: the reply is still
 * read, and the final dot, queued already, gets it. */
static void test_early_blocked(void)
{
	enum { N_OBJ = 4096 };
	uint64_t t0, last_credit;
	int sent = 0, before;
	struct got g;

	early_start(M_REJECT_LATE, 14, 1, "first part\r\n");
	rd_sleep_ms(50); /* the fake has read that, and sleeps */
	t0 = last_credit = rd_now_ms();
	/* until the writes block: no credit for 200 ms */
	while (sent < N_OBJ && rd_now_ms() - last_credit < 200 && rd_now_ms() - t0 < 800) {
		while (rd.outstanding < RD_POOL - 2 && sent < N_OBJ) {
			struct relay_msg *m = rd_obj(14, 1, RELAY_M_BODY);

			m->len = RELAY_MSG_DATA;
			memset(m->data, 'a' + sent % 26, RELAY_MSG_DATA - 2);
			memcpy(m->data + RELAY_MSG_DATA - 2, "\r\n", 2);
			rd_put(m);
			sent++;
		}
		before = rd.outstanding;
		CHECK_EQ(rd_next(&g, 5), -1);
		if (rd.outstanding < before)
			last_credit = rd_now_ms();
	}
	rd_body(14, 1, "last line\r\n.\r\n", 1);
	expect_reply_gone(14, 1, REJECT2);
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_stop();
	CHECK_EQ(rd.rl.st.early, 1);
	CHECK_EQ(rd.rl.st.gone, 1);
	CHECK_EQ(rd.rl.st.proto_err, 0);
}

/* Still a broken backend: a 2xx mid-body, a 5xx when no body streams. */
static void test_early_bad(void)
{
	struct got g;

	early_start(M_EARLY250, 13, 1, "first part\r\n");
	EXPECT_EVENT(13, 1, SMTP_BACKEND_GONE);
	rd_body(13, 1, "last line\r\n.\r\n", 1);
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_stop();
	CHECK_EQ(rd.rl.st.early, 0);
	CHECK_EQ(rd.rl.st.gone, 1);
	CHECK_EQ(rd.rl.st.proto_err, 1);

	rd_cfg_base();
	rd_backend(rd.ports[M_UNASKED], 0, 0, 10);
	rd_start();
	rd_open(13, 2);
	EXPECT_EVENT(13, 2, SMTP_BACKEND_READY);
	rd_cmd(13, 2, "MAIL FROM:<a@b>\r\n");
	EXPECT_REPLY(13, 2, "250 ");
	EXPECT_EVENT(13, 2, SMTP_BACKEND_GONE);
	CHECK_EQ(rd_next(&g, 100), -1);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.early, 0);
	CHECK_EQ(rd.rl.st.gone, 1);
	CHECK_EQ(rd.rl.st.proto_err, 1);
}

/* SASL lines after a 334 are not commands, even when they read "RCPT",
 * "MAIL" or "RSET": forwarded as they are, never refused or counted as a
 * transaction's end. The relay finds that out by itself (no
 * RELAY_F_SASL), also when the line came right behind the AUTH. */
static void test_sasl(void)
{
	static char raw[4096];
	const char *want = "EHLO client.example\r\n"
			   "AUTH PLAIN\r\nRCPT\r\n"
			   "AUTH LOGIN\r\nMAIL\r\nRSET\r\n"
			   "AUTH LOGIN\r\n*\r\nRSET\r\nRCPT TO:<c@d>\r\n"
			   "AUTH PLAIN AGFAYg==\r\n";

	rd_cfg_base();
	rd_backend(rd.ports[M_AUTH], 0, 0, 10);
	rd_start();
	rd_open(12, 1);
	EXPECT_EVENT(12, 1, SMTP_BACKEND_READY);
	/* no SMTPUTF8 at the backend: refused here, RCPT/DATA then get 503
	 * until RSET or a new MAIL */
	rd_cmd(12, 1, "MAIL FROM:<a@b> SMTPUTF8\r\n");
	EXPECT_REPLY(12, 1, "553 5.6.7 ");
	/* PLAIN, its SASL line right behind it */
	rd_cmd(12, 1, "AUTH PLAIN\r\n");
	rd_cmd(12, 1, "RCPT\r\n");
	EXPECT_REPLY(12, 1, "334 ");
	EXPECT_REPLY(12, 1, "235 ");
	/* LOGIN: two SASL lines, each after its 334 */
	rd_cmd(12, 1, "AUTH LOGIN\r\n");
	EXPECT_REPLY(12, 1, "334 VXNlcm5hbWU6");
	rd_cmd(12, 1, "MAIL\r\n");
	EXPECT_REPLY(12, 1, "334 UGFzc3dvcmQ6");
	rd_cmd(12, 1, "RSET\r\n");
	EXPECT_REPLY(12, 1, "235 ");
	/* the SASL "MAIL" and "RSET" ended nothing */
	rd_cmd(12, 1, "RCPT TO:<c@d>\r\n");
	EXPECT_REPLY(12, 1, "503 5.5.1 ");
	/* "*" cancels: what follows the 501 is a command again */
	rd_cmd(12, 1, "AUTH LOGIN\r\n");
	EXPECT_REPLY(12, 1, "334 ");
	rd_cmd(12, 1, "*\r\n");
	EXPECT_REPLY(12, 1, "501 ");
	rd_cmd(12, 1, "RSET\r\n");
	rd_cmd(12, 1, "RCPT TO:<c@d>\r\n");
	EXPECT_REPLY(12, 1, "250 ");
	EXPECT_REPLY(12, 1, "250 ");
	/* an initial response: the 235 ends it, the next line is a command */
	rd_cmd(12, 1, "AUTH PLAIN AGFAYg==\r\n");
	rd_cmd(12, 1, "MAIL FROM:<a@b> SMTPUTF8\r\n");
	EXPECT_REPLY(12, 1, "235 ");
	EXPECT_REPLY(12, 1, "553 5.6.7 ");
	rd_ctl(RELAY_M_ABORT, 12, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_stop();
	CHECK_EQ(rd.rl.st.refusals, 3);
	CHECK_EQ(rd.rl.st.replies, 10);
	CHECK_EQ(rd.rl.st.proto_err, 0);
	CHECK_EQ(rd.rl.st.gone, 0);
	rd_mta_raw(rd.ports[M_AUTH], 1, raw, sizeof(raw));
	if (!CHECK(!strcmp(raw, want)) && check_show())
		fprintf(stderr, "  got \"%s\"\n", raw);
}

/* ---- STARTTLS to backends ----------------------------------------------------- */

/* What the fake MTA's connection n of port p says about its TLS: "TLSv1.3
 * <cipher>", "FAILED ...", or "" when it never got to a handshake. */
static void mta_tls(uint16_t p, int n, char *buf, size_t cap)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u-%d.tls", rd.logdir, p, n);
	buf[0] = '\0';
	if ((f = fopen(path, "r"))) {
		if (!fgets(buf, (int)cap, f))
			buf[0] = '\0';
		fclose(f);
	}
}

/* A whole mail over TLS, verified against the CA and the name: PROXY v1
 * first in the clear, our EHLO and STARTTLS, then over TLS our EHLO,
 * XCLIENT and the client's EHLO, and the mail (the fake refuses MAIL in
 * the clear, so a 250 to MAIL is proof too). */
static void test_tls_mail(void)
{
	const char *want = "PROXY TCP4 192.0.2.1 198.18.0.1 12345 25\r\n"
			   "EHLO bulwark.test\r\nSTARTTLS\r\n"
			   "EHLO bulwark.test\r\nXCLIENT ADDR=192.0.2.1 PORT=12345\r\n"
			   "EHLO client.example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"
			   "Subject: t\r\n\r\nover TLS\r\n.\r\nQUIT\r\n";
	char raw[4096], tls[256];

	rd_cfg_base();
	rd_backend(rd.ports[M_TLS], CFG_PROXY_V1, 1, 10);
	rd_backend_tls("ca.pem", "mta.test");
	rd_start();
	rd_open(3, 1);
	rd_cmd(3, 1, "MAIL FROM:<a@b>\r\n");
	EXPECT_EVENT(3, 1, SMTP_BACKEND_READY);
	rd_cmd(3, 1, "RCPT TO:<c@d>\r\n");
	rd_cmd(3, 1, "DATA\r\n");
	EXPECT_REPLY(3, 1, "250 ");
	EXPECT_REPLY(3, 1, "250 ");
	EXPECT_REPLY(3, 1, "354 ");
	rd_body(3, 1, "Subject: t\r\n\r\nover ", 0);
	rd_body(3, 1, "TLS\r\n.\r\n", 1);
	EXPECT_REPLY(3, 1, "250 2.0.0 queued");
	rd_ctl(RELAY_M_QUIT, 3, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_sleep_ms(300); /* the 221 and the close */
	rd_stop();
	rd_mta_raw(rd.ports[M_TLS], 1, raw, sizeof(raw));
	if (!CHECK(!strcmp(raw, want)) && check_show())
		fprintf(stderr, "  got \"%s\"\n", raw);
	mta_tls(rd.ports[M_TLS], 1, tls, sizeof(tls));
	if (!CHECK(!strncmp(tls, "TLSv1.3 ", 8)) && check_show())
		fprintf(stderr, "  tls \"%s\"\n", tls);
	CHECK_EQ(rd.rl.st.tls_started, 1);
	CHECK_EQ(rd.rl.st.tls_done, 1);
	CHECK_EQ(rd.rl.st.tls_fail, 0);
	CHECK_EQ(rd.rl.st.tls_discard, 0);
	CHECK_EQ(rd.rl.st.replies, 4);
	CHECK_EQ(rd.rl.st.proto_err, 0);
	CHECK_EQ(rd.rl.st.gone, 0);
}

/* "220 go\r\n250 injected\r\n" in one send: the injected line is dropped
 * (RFC 3207 §4.2), so the 250 to the EHLO over TLS is the real one and
 * every later reply is the one it seems. Unverified TLS here. */
static void test_tls_inject(void)
{
	char raw[4096], tls[256];

	rd_cfg_base();
	rd_backend(rd.ports[M_TLS_INJECT], 0, 0, 10);
	rd_backend_tls(NULL, NULL);
	rd_start();
	rd_open(4, 1);
	EXPECT_EVENT(4, 1, SMTP_BACKEND_READY);
	rd_cmd(4, 1, "MAIL FROM:<a@b>\r\n");
	rd_cmd(4, 1, "RCPT TO:<c@d>\r\n");
	rd_cmd(4, 1, "DATA\r\n");
	EXPECT_REPLY(4, 1, "250 2.1.0 ok");
	EXPECT_REPLY(4, 1, "250 2.1.0 ok");
	EXPECT_REPLY(4, 1, "354 ");
	rd_body(4, 1, "x\r\n.\r\n", 1);
	EXPECT_REPLY(4, 1, "250 2.0.0 queued");
	rd_ctl(RELAY_M_QUIT, 4, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_sleep_ms(300);
	rd_stop();
	CHECK_EQ(rd.rl.st.tls_discard, strlen("250 injected\r\n"));
	CHECK_EQ(rd.rl.st.tls_done, 1);
	CHECK_EQ(rd.rl.st.proto_err, 0);
	CHECK_EQ(rd.rl.st.gone, 0);
	rd_mta_raw(rd.ports[M_TLS_INJECT], 1, raw, sizeof(raw));
	CHECK(!strncmp(raw, "EHLO bulwark.test\r\nSTARTTLS\r\nEHLO client.example\r\nMAIL ",
		       strlen("EHLO bulwark.test\r\nSTARTTLS\r\nEHLO client.example\r\nMAIL ")));
	mta_tls(rd.ports[M_TLS_INJECT], 1, tls, sizeof(tls));
	CHECK(!strncmp(tls, "TLSv1.", 6));
}

/* A tls backend whose EHLO lacks STARTTLS has failed for the session
 * (nothing but our EHLO reached it); the next one serves. With none
 * left: NONE (the client gets 421). */
static void test_tls_nocap(void)
{
	char raw[4096];

	rd_cfg_base();
	rd_backend(rd.ports[M_OK], 0, 0, 10);
	rd_backend_tls(NULL, NULL);
	rd_backend(rd.ports[M_TLS], 0, 0, 10);
	rd_backend_tls("ca.pem", "mta.test");
	rd_start();
	rd_open(5, 1);
	EXPECT_EVENT(5, 1, SMTP_BACKEND_READY);
	rd_cmd(5, 1, "MAIL FROM:<a@b>\r\n");
	EXPECT_REPLY(5, 1, "250 ");
	rd_ctl(RELAY_M_ABORT, 5, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.tls_nocap, 1);
	CHECK_EQ(rd.rl.st.be_fail[0], 1);
	CHECK_EQ(rd.rl.st.be_connects[1], 1);
	CHECK_EQ(rd.rl.st.tls_done, 1);
	/* the plain backend's last connection: our EHLO only, never MAIL */
	for (int c = 1; c < 1000; c++) {
		if (rd_mta_raw(rd.ports[M_OK], c + 1, raw, sizeof(raw)) < 0) {
			rd_mta_raw(rd.ports[M_OK], c, raw, sizeof(raw));
			break;
		}
	}
	CHECK(!strcmp(raw, "EHLO bulwark.test\r\n"));

	rd_cfg_base();
	rd_backend(rd.ports[M_OK], 0, 0, 10);
	rd_backend_tls(NULL, NULL);
	rd_start();
	rd_open(6, 1);
	rd_cmd(6, 1, "MAIL FROM:<a@b>\r\n");
	EXPECT_EVENT(6, 1, SMTP_BACKEND_NONE);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.none, 1);
	CHECK_EQ(rd.rl.st.tls_started, 0);
}

/* Verification: a wrong CA, then the right CA with a wrong name, fail
 * their handshakes (counted per backend) and fail over; the right CA
 * with no name matches the address SAN (127.0.0.1) and serves. */
static void test_tls_verify(void)
{
	char tls[256];

	rd_cfg_base();
	rd_backend(rd.ports[M_TLS], 0, 0, 10);
	rd_backend_tls("wrongca.pem", "mta.test");
	rd_backend(rd.ports[M_TLS], 0, 0, 10);
	rd_backend_tls("ca.pem", "other.test");
	rd_backend(rd.ports[M_TLS], 0, 0, 10);
	rd_backend_tls("ca.pem", NULL);
	rd_start();
	rd_open(7, 1);
	EXPECT_EVENT(7, 1, SMTP_BACKEND_READY);
	rd_cmd(7, 1, "MAIL FROM:<a@b>\r\n");
	EXPECT_REPLY(7, 1, "250 ");
	rd_ctl(RELAY_M_ABORT, 7, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.tls_started, 3);
	CHECK_EQ(rd.rl.st.tls_fail, 2);
	CHECK_EQ(rd.rl.st.tls_done, 1);
	CHECK_EQ(rd.rl.st.be_tls_fail[0], 1);
	CHECK_EQ(rd.rl.st.be_tls_fail[1], 1);
	CHECK_EQ(rd.rl.st.be_tls_fail[2], 0);
	CHECK_EQ(rd.rl.st.be_fail[0], 1);
	CHECK_EQ(rd.rl.st.be_fail[1], 1);
	CHECK_EQ(rd.rl.st.ready, 1);
	/* the fake saw the first two handshakes fail: connections 3 and 4
	 * of its port (after test_tls_mail's and test_tls_nocap's) */
	mta_tls(rd.ports[M_TLS], 3, tls, sizeof(tls));
	CHECK(!strncmp(tls, "FAILED ", 7));
	mta_tls(rd.ports[M_TLS], 5, tls, sizeof(tls));
	CHECK(!strncmp(tls, "TLSv1.3 ", 8));

	/* Only a wrong CA: NONE. */
	rd_cfg_base();
	rd_backend(rd.ports[M_TLS], 0, 0, 10);
	rd_backend_tls("wrongca.pem", NULL);
	rd_start();
	rd_open(8, 1);
	EXPECT_EVENT(8, 1, SMTP_BACKEND_NONE);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_stop();
	CHECK_EQ(rd.rl.st.tls_fail, 1);
	CHECK_EQ(rd.rl.st.none, 1);
}

/* A backend that dies mid-body over TLS (FIN, no close_notify) while
 * body records keep coming: GONE, its connection released, every object
 * credited. (The SIGPIPE that OpenSSL's write() could raise on such a
 * connection is blocked on the relay lcore; this scenario does not reach
 * a write after the reset, so it does not prove that part.) */
static void test_tls_die(void)
{
	static char chunk[RELAY_MSG_DATA - 64];
	uint64_t end;
	int gone = 0;

	memset(chunk, 'x', sizeof(chunk) - 2);
	chunk[sizeof(chunk) - 2] = '\r';
	chunk[sizeof(chunk) - 1] = '\0';
	rd_cfg_base();
	rd_backend(rd.ports[M_TLS_DIE], 0, 0, 10);
	rd_backend_tls(NULL, NULL);
	rd_start();
	rd_open(9, 1);
	EXPECT_EVENT(9, 1, SMTP_BACKEND_READY);
	rd_cmd(9, 1, "MAIL FROM:<a@b>\r\n");
	rd_cmd(9, 1, "RCPT TO:<c@d>\r\n");
	rd_cmd(9, 1, "DATA\r\n");
	EXPECT_REPLY(9, 1, "250 ");
	EXPECT_REPLY(9, 1, "250 ");
	EXPECT_REPLY(9, 1, "354 ");
	/* body objects until GONE comes back (the fake closed) */
	end = rd_now_ms() + RD_WAIT_MS;
	while (!gone && rd_now_ms() < end) {
		struct got g;

		if (rd.outstanding < RD_POOL / 2)
			rd_body(9, 1, chunk, 0);
		rd_sleep_ms(5);
		if (rd_next(&g, 1) == 0)
			gone = CHECK(g.kind == RELAY_M_EVENT && g.ev == SMTP_BACKEND_GONE);
	}
	CHECK(gone);
	rd_ctl(RELAY_M_ABORT, 9, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_stop();
	CHECK_EQ(rd.rl.st.gone, 1);
	CHECK_EQ(rd.rl.st.tls_done, 1);
	CHECK_EQ(rd.rl.be[0].conns, 0);
}

/* Health checks of a tls backend need STARTTLS in the EHLO reply: the
 * plain one goes down, the tls one stays up. */
static void test_tls_health(void)
{
	rd_cfg_base();
	rd.cfg.relay.health_interval_ms = 100;
	rd.cfg.relay.health_timeout_ms = 400;
	rd.cfg.relay.health_fall = 2;
	rd_backend(rd.ports[M_OK], 0, 0, 10);
	rd_backend_tls(NULL, NULL);
	rd_backend(rd.ports[M_TLS], 0, 0, 10);
	rd_backend_tls("ca.pem", "mta.test");
	rd_start();
	rd_sleep_ms(1500);
	rd_stop();
	CHECK_EQ(rd.rl.st.health_down, 1);
	CHECK(!rd.rl.be[0].up);
	CHECK(rd.rl.be[1].up);
	CHECK(rd.rl.st.tls_nocap >= 2);
	CHECK(rd.rl.st.health_ok >= 2);
}

/* How many connections the fake MTA on port p has logged so far. */
static int mta_conns(uint16_t p)
{
	char raw[4096];
	int n = 0;

	while (rd_mta_raw(p, n + 1, raw, sizeof(raw)) >= 0)
		n++;
	return n;
}

/* rd.rl takes nc (relay_reload) and acknowledges it. */
static void reload_to(const struct cfg *nc)
{
	uint64_t t0 = rd_now_ms();

	__atomic_store_n(&rd.rl.ctl_cfg, nc, __ATOMIC_RELEASE);
	while (__atomic_load_n(&rd.rl.ack_cfg, __ATOMIC_ACQUIRE) != nc &&
	       rd_now_ms() - t0 < RD_WAIT_MS)
		rd_sleep_ms(1);
	CHECK(__atomic_load_n(&rd.rl.ack_cfg, __ATOMIC_ACQUIRE) == nc);
}

/* Backend reload (issue 7): a session open on a backend the reload
 * removes keeps it to its end; new sessions go to the new set; a second
 * reload that moves a kept backend to another index keeps its count. */
static void test_reload(void)
{
	static struct cfg nc1, nc2;
	int c_ok = mta_conns(rd.ports[M_OK]), c_np = mta_conns(rd.ports[M_NOPIPE]);
	char raw[4096];

	rd_cfg_base();
	rd_backend(rd.ports[M_OK], 0, 0, 10); /* "be0" */
	nc1 = rd.cfg;
	snprintf(nc1.backends[0].name, sizeof(nc1.backends[0].name), "new");
	nc1.backends[0].port = rd.ports[M_NOPIPE];
	nc2 = nc1; /* "be0" back at index 0, "new" moves to 1 */
	nc2.backends[1] = nc1.backends[0];
	nc2.backends[0] = rd.cfg.backends[0];
	nc2.n_backends = 2;
	rd_start();
	rd_open(1, 1);
	EXPECT_EVENT(1, 1, SMTP_BACKEND_READY);
	reload_to(&nc1);
	CHECK_EQ(rd.rl.n_retired, 1);
	rd_cmd(1, 1, "NOOP\r\n"); /* still on "be0" */
	EXPECT_REPLY(1, 1, "250 ");
	rd_open(2, 1);
	EXPECT_EVENT(2, 1, SMTP_BACKEND_READY);
	rd_cmd(2, 1, "NOOP\r\n");
	EXPECT_REPLY(2, 1, "250 ");
	rd_ctl(RELAY_M_ABORT, 1, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	/* the abort ends session 1 on the relay lcore a little later (its
	 * backend connection closes there): wait for it, within a bound */
	for (uint64_t t0 = rd_now_ms(); __atomic_load_n(&rd.rl.n_retired, __ATOMIC_RELAXED) != 0 &&
					rd_now_ms() - t0 < RD_WAIT_MS;)
		rd_sleep_ms(1);
	reload_to(&nc2);
	CHECK_EQ(rd.rl.n_retired, 0);
	CHECK_EQ(rd.rl.be[1].conns, 1); /* session 2 on "new", now index 1 */
	CHECK_EQ(rd.rl.be[0].conns, 0);
	CHECK_EQ(rd.rl.st.be_connects[1], 1);
	rd_cmd(2, 1, "NOOP\r\n");
	EXPECT_REPLY(2, 1, "250 ");
	rd_ctl(RELAY_M_ABORT, 2, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_stop();
	CHECK_EQ(rd.rl.st.reloads, 2);
	CHECK_EQ(rd.rl.st.proto_err, 0);
	CHECK_EQ(rd.rl.be[1].conns, 0);
	/* "be0" saw session 1 only (its NOOP after the reload included),
	 * "new" session 2 only */
	CHECK(rd_mta_raw(rd.ports[M_OK], c_ok + 1, raw, sizeof(raw)) > 0 &&
	      strstr(raw, "NOOP\r\n"));
	CHECK_EQ(mta_conns(rd.ports[M_OK]), c_ok + 1);
	CHECK(rd_mta_raw(rd.ports[M_NOPIPE], c_np + 1, raw, sizeof(raw)) > 0 &&
	      strstr(raw, "NOOP\r\n"));
	CHECK_EQ(mta_conns(rd.ports[M_NOPIPE]), c_np + 1);
}

/* Backend reload with TLS backends: the client contexts of the new set
 * are made as the main lcore makes them (relay_tls_build) and handed in
 * ctl_tls; the relay adopts them and leaves its own there, which are freed
 * at once here, while a session is still in TLS on one of them.
 * 1. A reload removes the TLS backend "be0" that session 5 is open on and
 *    adds "tls2" (the same MTA under another name: another backend): the
 *    open session completes its mail over its TLS connection (its SSL
 *    keeps its SSL_CTX), a new one goes to "tls2" with the new context.
 * 2. A kept backend whose tls_ca changes (wrong CA: its session fails,
 *    NONE) takes the new context on the reload: the next session is
 *    verified and delivers. */
static void test_reload_tls(void)
{
	static struct cfg nc1, nc2;
	int c0 = mta_conns(rd.ports[M_TLS]);
	char err[256] = "", raw[4096], tls[256];

	rd_cfg_base();
	rd_backend(rd.ports[M_TLS], 0, 0, 10); /* "be0" */
	rd_backend_tls("ca.pem", "mta.test");
	nc1 = rd.cfg;
	snprintf(nc1.backends[0].name, sizeof(nc1.backends[0].name), "tls2");
	rd_start();
	rd_open(5, 1);
	rd_cmd(5, 1, "MAIL FROM:<a@b>\r\n");
	EXPECT_EVENT(5, 1, SMTP_BACKEND_READY);
	EXPECT_REPLY(5, 1, "250 ");
	if (!CHECK_EQ(relay_tls_build(&nc1, rd.rl.ctl_tls, err, sizeof(err)), 0) && check_show())
		fprintf(stderr, "  %s\n", err);
	CHECK(rd.rl.ctl_tls[0] != NULL && rd.rl.ctl_tls[0] != rd.rl.tls[0]);
	reload_to(&nc1);
	CHECK_EQ(rd.rl.n_retired, 1);
	CHECK(rd.rl.ctl_tls[0] != NULL); /* the one session 5 was opened with */
	relay_tls_free(rd.rl.ctl_tls);   /* freed while session 5 is in TLS */
	rd_cmd(5, 1, "RCPT TO:<c@d>\r\n");
	rd_cmd(5, 1, "DATA\r\n");
	EXPECT_REPLY(5, 1, "250 ");
	EXPECT_REPLY(5, 1, "354 ");
	rd_body(5, 1, "Subject: r\r\n\r\nacross a reload\r\n.\r\n", 1);
	EXPECT_REPLY(5, 1, "250 2.0.0 queued");
	rd_ctl(RELAY_M_QUIT, 5, 1);
	rd_open(6, 1);
	rd_cmd(6, 1, "MAIL FROM:<e@f>\r\n");
	EXPECT_EVENT(6, 1, SMTP_BACKEND_READY);
	EXPECT_REPLY(6, 1, "250 ");
	CHECK_EQ(rd.rl.be[0].conns, 1); /* session 6 on "tls2" */
	rd_ctl(RELAY_M_QUIT, 6, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(rd.outstanding, 0);
	rd_sleep_ms(300); /* the 221s and the closes */
	rd_stop();
	CHECK_EQ(rd.rl.st.reloads, 1);
	CHECK_EQ(rd.rl.st.tls_started, 2);
	CHECK_EQ(rd.rl.st.tls_done, 2);
	CHECK_EQ(rd.rl.st.tls_fail, 0);
	CHECK_EQ(rd.rl.st.be_connects[0], 1);
	CHECK_EQ(rd.rl.st.proto_err, 0);
	CHECK_EQ(rd.rl.st.gone, 0);
	CHECK_EQ(mta_conns(rd.ports[M_TLS]), c0 + 2);
	rd_mta_raw(rd.ports[M_TLS], c0 + 1, raw, sizeof(raw));
	CHECK(strstr(raw, "RCPT TO:<c@d>\r\nDATA\r\n") && strstr(raw, "across a reload\r\n.\r\n"));
	mta_tls(rd.ports[M_TLS], c0 + 1, tls, sizeof(tls));
	CHECK(!strncmp(tls, "TLSv1.3 ", 8));
	mta_tls(rd.ports[M_TLS], c0 + 2, tls, sizeof(tls));
	CHECK(!strncmp(tls, "TLSv1.3 ", 8));

	/* 2. the same backend, its CA fixed by a reload */
	rd_cfg_base();
	rd_backend(rd.ports[M_TLS], 0, 0, 10);
	rd_backend_tls("wrongca.pem", "mta.test");
	nc2 = rd.cfg;
	snprintf(nc2.backends[0].tls_ca, sizeof(nc2.backends[0].tls_ca), "%s/ca.pem", rd.logdir);
	rd_start();
	rd_open(7, 1);
	EXPECT_EVENT(7, 1, SMTP_BACKEND_NONE);
	CHECK(rd_drain(RD_WAIT_MS));
	CHECK_EQ(relay_tls_build(&nc2, rd.rl.ctl_tls, err, sizeof(err)), 0);
	reload_to(&nc2);
	relay_tls_free(rd.rl.ctl_tls);
	rd_open(8, 1);
	EXPECT_EVENT(8, 1, SMTP_BACKEND_READY);
	rd_ctl(RELAY_M_QUIT, 8, 1);
	CHECK(rd_drain(RD_WAIT_MS));
	rd_sleep_ms(300);
	rd_stop();
	CHECK_EQ(rd.rl.st.tls_fail, 1);
	CHECK_EQ(rd.rl.st.tls_done, 1);
	CHECK_EQ(rd.rl.st.none, 1);
	CHECK_EQ(mta_conns(rd.ports[M_TLS]), c0 + 4);
	mta_tls(rd.ports[M_TLS], c0 + 4, tls, sizeof(tls));
	CHECK(!strncmp(tls, "TLSv1.3 ", 8));
}

int main(int argc, char **argv)
{
	char prefix[64], err[256] = "";
	char *eal[] = { argv[0],
			"--no-huge",
			"-m",
			"64",
			"--no-pci",
			"--no-shconf",
			"--no-telemetry",
			prefix,
			"--lcores=0@0,1@0",
			"--log-level=lib.eal:error" };
	int n = (int)(sizeof(eal) / sizeof(eal[0]));
	char rundir[4096];

	if (argc < 2) {
		fprintf(stderr, "usage: %s fake_mta.py\n", argv[0]);
		return 2;
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=test-relay-%d", (int)getpid());
	if (rte_eal_init(n, eal) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	rd.lcore = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	if (relay_pairs_create(&rd.pair, 1, 1, RD_POOL, RD_SESS, (int)rte_socket_id(), err,
			       sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* A tls backend whose CA file cannot be read: no start, never the
	 * clear instead; the message names the backend and the file. */
	rd_cfg_base();
	rd_backend(25, 0, 0, 10);
	rd.cfg.backends[0].tls = CFG_TLS_STARTTLS;
	rd.cfg.backends[0].tls_verify = CFG_TLS_VERIFY_CA;
	snprintf(rd.cfg.backends[0].tls_ca, sizeof(rd.cfg.backends[0].tls_ca),
		 "/nonexistent/ca.pem");
	CHECK_EQ(relay_init(&rd.rl, &rd.cfg, &rd.pair, 1, 1, 0, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "backends[0] (be0): tls_ca /nonexistent/ca.pem") != NULL);
	rd_mta_start(argv[1]);
	test_mail_v2();
	test_failover();
	test_busy();
	test_refusals();
	test_abort_gone();
	test_health();
	test_health_rise();
	test_health_proxy();
	test_stall();
	test_reply_timeout();
	test_balance();
	test_long_line();
	test_big_body();
	test_backpressure();
	test_early_reject();
	test_early_blocked();
	test_reload();
	test_early_bad();
	test_sasl();
	test_tls_mail();
	test_tls_inject();
	test_tls_nocap();
	test_tls_verify();
	test_tls_health();
	test_tls_die();
	test_tls_backpressure();
	test_reload_tls(); /* last: counts the TLS MTA's connections from here */
	rd_mta_stop();
	relay_pairs_free(&rd.pair, 1);
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (rundir[0])
		rmdir(rundir);
	return check_done("relay_loop");
}
