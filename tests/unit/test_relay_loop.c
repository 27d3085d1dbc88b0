/*
 * test_relay_loop.c — the relay lcore end to end over real loopback
 * sockets: EAL without hugepages, one (worker, relay) pair, relay_main on a
 * second lcore sharing CPU 0, and tests/unit/fake_mta.py as the backends.
 * This program plays the worker: it sends OPEN/CMD/BODY/ABORT/QUIT through
 * the rings and checks the REPLY/EVENT/CREDIT that come back, and what the
 * fake MTA received on the wire.
 *
 * argv[1]: the path of fake_mta.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "relay.h"
#include "smtp.h"

#include "check.h"

#define N_SESS  16
#define POOL    64
#define WAIT_MS 5000        /* longest wait for anything the relay owes us */
#define LO      0x0100007fu /* 127.0.0.1, network order (little-endian host) */

enum { M_OK, M_NOPIPE, M_SILENT, M_BAD, M_DIE, M_NOEHLO, M_MUTE, M_COUNT };
static const char *mode_names[M_COUNT] = {
	"ok", "nopipe", "silent", "bad", "die", "noehlo", "mute"
};
static uint16_t ports[M_COUNT];
static uint16_t closed_port; /* nothing listens there: connect refused */
static pid_t mta_pid = -1;
static char logdir[64];

static struct relay_pair pair;
static struct relay rl;
static struct cfg cfg;
static unsigned relay_lcore;
static int outstanding; /* worker objects not yet credited back */

/* What came back from the relay, in order. */
struct got {
	int kind; /* RELAY_M_REPLY or RELAY_M_EVENT */
	uint32_t sid, gen;
	int ev; /* for events */
	char text[RELAY_MSG_DATA + 1];
};

/* ---- The fake MTA ------------------------------------------------------------ */

static void mta_start(const char *script)
{
	int fd[2];
	char line[256];
	FILE *f;
	int sock;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = LO };
	socklen_t sl = sizeof(sa);

	snprintf(logdir, sizeof(logdir), "/tmp/test-relay-%d", (int)getpid());
	mkdir(logdir, 0700);
	if (pipe(fd))
		abort();
	mta_pid = fork();
	if (mta_pid == 0) {
		char *av[4 + M_COUNT];
		int i = 0;

		/* the fake dies with this test, even when the test crashes */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd[1], 1);
		close(fd[0]);
		av[i++] = "/usr/bin/python3";
		av[i++] = (char *)script;
		av[i++] = logdir;
		for (int m = 0; m < M_COUNT; m++)
			av[i++] = (char *)mode_names[m];
		av[i] = NULL;
		execv(av[0], av);
		_exit(127);
	}
	close(fd[1]);
	f = fdopen(fd[0], "r");
	if (!f || !fgets(line, sizeof(line), f) || strncmp(line, "PORTS ", 6)) {
		fprintf(stderr, "fake_mta.py did not start\n");
		exit(1);
	}
	{
		char *p = line + 6;

		for (int m = 0; m < M_COUNT; m++)
			ports[m] = (uint16_t)strtoul(p, &p, 10);
	}
	fclose(f);
	/* A port nobody listens on: bind, read the number, close. */
	sock = socket(AF_INET, SOCK_STREAM, 0);
	bind(sock, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(sock, (struct sockaddr *)&sa, &sl);
	closed_port = ntohs(sa.sin_port);
	close(sock);
}

static void mta_stop(void)
{
	char cmd[128];

	if (mta_pid > 0) {
		kill(mta_pid, SIGTERM);
		waitpid(mta_pid, NULL, 0);
		mta_pid = -1;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", logdir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", logdir);
}

/* Reads everything the fake MTA got on connection n of port p (1-based);
 * returns its length, or -1 when there was no such connection. */
static ssize_t mta_raw(uint16_t p, int n, char *buf, size_t cap)
{
	char path[128];
	ssize_t k;
	int fd;

	snprintf(path, sizeof(path), "%s/%u-%d.raw", logdir, p, n);
	buf[0] = '\0';
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	k = read(fd, buf, cap - 1);
	close(fd);
	if (k < 0)
		k = 0;
	buf[k] = '\0';
	return k;
}

/* ---- The relay, started per scenario -------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void cfg_base(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.limits.sessions = N_SESS;
	cfg.relay.lcores = 1;
	cfg.relay.ring_size = POOL;
	cfg.relay.balance = CFG_BALANCE_RR;
	cfg.relay.connect_timeout_ms = 400;
	cfg.relay.reply_timeout_ms = 2000;
	cfg.relay.health_interval_ms = 3600000; /* no checks unless a test wants them */
	cfg.relay.health_timeout_ms = 200;
	cfg.relay.health_fall = 3;
	cfg.relay.health_rise = 2;
	snprintf(cfg.smtp.hostname, sizeof(cfg.smtp.hostname), "bulwark.test");
}

static void backend(uint16_t port, uint8_t proxy, uint8_t xclient, uint32_t max_conns)
{
	struct cfg_backend *b = &cfg.backends[cfg.n_backends];

	snprintf(b->name, sizeof(b->name), "be%u", cfg.n_backends);
	b->addr = LO;
	b->port = port;
	b->weight = 1;
	b->max_conns = max_conns;
	b->proxy_protocol = proxy;
	b->xclient = xclient;
	cfg.n_backends++;
}

static void relay_start(void)
{
	char err[256] = "";

	if (relay_init(&rl, &cfg, &pair, 1, 1, 0, err, sizeof(err))) {
		fprintf(stderr, "relay_init: %s\n", err);
		exit(1);
	}
	if (rte_eal_remote_launch(relay_main, &rl, relay_lcore)) {
		fprintf(stderr, "cannot launch the relay lcore\n");
		exit(1);
	}
}

static void relay_stop(void)
{
	/* Let the relay take in what was last put on its ring. */
	while (!rte_ring_empty(pair.w2r))
		sleep_ms(1);
	sleep_ms(50);
	__atomic_store_n(&rl.ctl_stop, 1, __ATOMIC_RELEASE);
	rte_eal_wait_lcore(relay_lcore);
	relay_destroy(&rl);
}

/* ---- Playing the worker ----------------------------------------------------------- */

static struct relay_msg *obj(uint32_t sid, uint32_t gen, uint8_t kind)
{
	void *o;

	if (rte_mempool_get(pair.wpool, &o))
		abort();
	memset(o, 0, RELAY_MSG_HDR);
	((struct relay_msg *)o)->sid = sid;
	((struct relay_msg *)o)->gen = gen;
	((struct relay_msg *)o)->kind = kind;
	outstanding++;
	return o;
}

static void put(void *e)
{
	if (rte_ring_sp_enqueue(pair.w2r, e))
		abort();
}

static void open_sess(uint32_t sid, uint32_t gen)
{
	struct relay_msg *m = obj(sid, gen, RELAY_M_OPEN);
	struct relay_open *o = (struct relay_open *)m->data;

	o->client_addr = htonl(0xc0000201); /* 192.0.2.1 */
	o->client_port = htons(12345);
	o->local_addr = htonl(0xc6120001); /* 198.18.0.1 */
	o->local_port = htons(25);
	o->ehlo = 1;
	o->helo_len = 14;
	memcpy(o->helo, "client.example", 14);
	m->len = sizeof(*o);
	put(m);
}

static void cmd(uint32_t sid, uint32_t gen, const char *line)
{
	struct relay_msg *m = obj(sid, gen, RELAY_M_CMD);

	m->len = (uint16_t)strlen(line);
	memcpy(m->data, line, m->len);
	put(m);
}

static void body(uint32_t sid, uint32_t gen, const char *b, int end)
{
	struct relay_msg *m = obj(sid, gen, RELAY_M_BODY);

	m->len = (uint16_t)strlen(b);
	m->flags = end ? RELAY_F_DATA_END : 0;
	memcpy(m->data, b, m->len);
	put(m);
}

static void ctl(uint8_t kind, uint32_t sid, uint32_t gen)
{
	put((void *)relay_ctl_pack(kind, sid, gen, 0));
}

/* Waits for the next REPLY or EVENT (credits are taken in passing);
 * returns 0, or -1 after WAIT_MS. */
static int next(struct got *g, unsigned wait_ms)
{
	uint64_t end = now_ms() + wait_ms;
	void *e;

	while (now_ms() < end) {
		if (rte_ring_sc_dequeue(pair.r2w, &e)) {
			sleep_ms(1);
			continue;
		}
		if (relay_is_ctl((uintptr_t)e)) {
			g->kind = relay_ctl_kind((uintptr_t)e);
			g->sid = relay_ctl_sid((uintptr_t)e);
			g->gen = relay_ctl_gen((uintptr_t)e);
			g->ev = relay_ctl_arg((uintptr_t)e);
			return 0;
		}
		struct relay_msg *m = e;

		if (m->kind == RELAY_M_CREDIT) {
			outstanding--;
			rte_mempool_put(pair.wpool, m);
			continue;
		}
		g->kind = m->kind;
		g->sid = m->sid;
		g->gen = m->gen;
		memcpy(g->text, m->data, m->len);
		g->text[m->len] = '\0';
		rte_mempool_put(pair.rpool, m);
		return 0;
	}
	return -1;
}

/* Takes credits until none is outstanding or wait_ms pass; returns 1 when
 * nothing but credits came. */
static int drain_credits(unsigned wait_ms)
{
	struct got g;
	uint64_t end = now_ms() + wait_ms;
	int only = 1;

	while (outstanding && now_ms() < end)
		if (!next(&g, 10))
			only = 0;
	return only;
}

#define EXPECT_EVENT(s_, n_, e)                                                                    \
	do {                                                                                       \
		struct got g_;                                                                     \
		if (CHECK_EQ(next(&g_, WAIT_MS), 0)) {                                             \
			CHECK_EQ(g_.kind, RELAY_M_EVENT);                                          \
			CHECK_EQ(g_.sid, s_);                                                      \
			CHECK_EQ(g_.gen, n_);                                                      \
			CHECK_EQ(g_.ev, e);                                                        \
		}                                                                                  \
	} while (0)

#define EXPECT_REPLY(s_, n_, prefix)                                                               \
	do {                                                                                       \
		struct got g_;                                                                     \
		if (CHECK_EQ(next(&g_, WAIT_MS), 0)) {                                             \
			CHECK_EQ(g_.kind, RELAY_M_REPLY);                                          \
			CHECK_EQ(g_.sid, s_);                                                      \
			CHECK_EQ(g_.gen, n_);                                                      \
			if (!CHECK(!strncmp(g_.text, prefix, strlen(prefix))) && check_show())     \
				fprintf(stderr, "  got \"%s\"\n", g_.text);                        \
		}                                                                                  \
	} while (0)

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

	cfg_base();
	backend(ports[M_OK], CFG_PROXY_V2, 0, 10);
	relay_start();
	open_sess(3, 7);
	cmd(3, 7, "MAIL FROM:<a@b>\r\n"); /* queued before READY: sent after */
	EXPECT_EVENT(3, 7, SMTP_BACKEND_READY);
	cmd(3, 7, "RCPT TO:<c@d>\r\n");
	cmd(3, 7, "DATA\r\n");
	EXPECT_REPLY(3, 7, "250 ");
	EXPECT_REPLY(3, 7, "250 ");
	EXPECT_REPLY(3, 7, "354 ");
	body(3, 7, "Subject: t\r\n\r\nhel", 0);
	body(3, 7, "lo\r\n.\r\n", 1);
	EXPECT_REPLY(3, 7, "250 2.0.0 queued");
	ctl(RELAY_M_QUIT, 3, 7);
	CHECK(drain_credits(WAIT_MS));
	CHECK_EQ(outstanding, 0);
	sleep_ms(300); /* the 221 and the close */
	relay_stop();
	n = mta_raw(ports[M_OK], 1, raw, sizeof(raw));
	CHECK(n == (ssize_t)(sizeof(v2) + strlen(after)));
	CHECK_MEM(raw, sizeof(v2), v2, sizeof(v2));
	if (n > (ssize_t)sizeof(v2))
		CHECK_MEM(raw + sizeof(v2), n - sizeof(v2), after, strlen(after));
	CHECK_EQ(rl.st.ready, 1);
	CHECK_EQ(rl.st.replies, 4);
	CHECK_EQ(rl.st.quits, 1);
	CHECK_EQ(rl.st.proto_err, 0);
	relay_stats_log(&rl); /* one line on stderr */
}

/* Refused, then a 554 greeting, then a silent one: each fails over; the
 * fourth (PROXY v1 + XCLIENT) serves. Then none left at all: NONE. */
static void test_failover(void)
{
	char raw[4096];

	cfg_base();
	backend(closed_port, 0, 0, 10);
	backend(ports[M_BAD], 0, 0, 10);
	backend(ports[M_SILENT], 0, 0, 10);
	backend(ports[M_OK], CFG_PROXY_V1, 1, 10);
	relay_start();
	open_sess(1, 1);
	EXPECT_EVENT(1, 1, SMTP_BACKEND_READY);
	cmd(1, 1, "NOOP\r\n");
	EXPECT_REPLY(1, 1, "250 ");
	ctl(RELAY_M_ABORT, 1, 1);
	CHECK(drain_credits(WAIT_MS));
	relay_stop();
	CHECK_EQ(rl.st.connect_fail, 3);
	CHECK_EQ(rl.st.be_fail[0], 1);
	CHECK_EQ(rl.st.be_fail[1], 1);
	CHECK_EQ(rl.st.be_fail[2], 1);
	CHECK_EQ(rl.st.aborts, 1);
	mta_raw(ports[M_OK], 2, raw, sizeof(raw));
	CHECK(!strcmp(raw, "PROXY TCP4 192.0.2.1 198.18.0.1 12345 25\r\n"
			   "XCLIENT ADDR=192.0.2.1 PORT=12345\r\nEHLO client.example\r\nNOOP\r\n"));

	cfg_base();
	backend(closed_port, 0, 0, 10);
	backend(ports[M_SILENT], 0, 0, 10);
	backend(ports[M_NOEHLO], 0, 0, 10);
	relay_start();
	open_sess(2, 5);
	cmd(2, 5, "MAIL FROM:<a@b>\r\n");
	EXPECT_EVENT(2, 5, SMTP_BACKEND_NONE);
	CHECK(drain_credits(WAIT_MS)); /* the MAIL comes back unsent */
	CHECK_EQ(outstanding, 0);
	relay_stop();
	CHECK_EQ(rl.st.none, 1);
}

/* max_conns 1: the second session is BUSY; after the first QUITs, a new
 * OPEN on the same slot with another gen gets the backend. */
static void test_busy(void)
{
	cfg_base();
	backend(ports[M_OK], 0, 0, 1);
	relay_start();
	open_sess(0, 1);
	EXPECT_EVENT(0, 1, SMTP_BACKEND_READY);
	open_sess(1, 1);
	EXPECT_EVENT(1, 1, SMTP_BACKEND_BUSY);
	ctl(RELAY_M_QUIT, 0, 1);
	sleep_ms(300); /* the 221 frees the connection */
	open_sess(0, 2);
	EXPECT_EVENT(0, 2, SMTP_BACKEND_READY);
	ctl(RELAY_M_ABORT, 0, 2);
	CHECK(drain_credits(WAIT_MS));
	relay_stop();
	CHECK_EQ(rl.st.busy, 1);
}

/* A backend without PIPELINING, SMTPUTF8 or SIZE: commands go one at a
 * time (the fake answers 500 to pipelining), the refused MAIL and its RCPT
 * are answered here, and replies stay in command order. */
static void test_refusals(void)
{
	cfg_base();
	backend(ports[M_NOPIPE], 0, 0, 10);
	relay_start();
	open_sess(4, 9);
	EXPECT_EVENT(4, 9, SMTP_BACKEND_READY);
	cmd(4, 9, "MAIL FROM:<a@b> SMTPUTF8\r\n");
	cmd(4, 9, "RCPT TO:<c@d>\r\n");
	cmd(4, 9, "RSET\r\n");
	cmd(4, 9, "MAIL FROM:<a@b> SIZE=10\r\n");
	cmd(4, 9, "MAIL FROM:<a@b> BODY=8BITMIME\r\n");
	cmd(4, 9, "RCPT TO:<c@d>\r\n");
	cmd(4, 9, "NOOP\r\n");
	EXPECT_REPLY(4, 9, "553 5.6.7 ");
	EXPECT_REPLY(4, 9, "503 5.5.1 ");
	EXPECT_REPLY(4, 9, "250 ");
	EXPECT_REPLY(4, 9, "555 5.5.4 ");
	EXPECT_REPLY(4, 9, "250 ");
	EXPECT_REPLY(4, 9, "250 ");
	EXPECT_REPLY(4, 9, "250 ");
	ctl(RELAY_M_QUIT, 4, 9);
	CHECK(drain_credits(WAIT_MS));
	sleep_ms(200);
	relay_stop();
	CHECK_EQ(rl.st.refusals, 3);
	CHECK_EQ(rl.st.replies, 4);
}

/* ABORT mid-DATA never sends a final dot; a backend that dies is GONE. */
static void test_abort_gone(void)
{
	char raw[4096];

	cfg_base();
	backend(ports[M_OK], 0, 0, 10);
	relay_start();
	open_sess(5, 1);
	EXPECT_EVENT(5, 1, SMTP_BACKEND_READY);
	cmd(5, 1, "MAIL FROM:<a@b>\r\n");
	cmd(5, 1, "RCPT TO:<c@d>\r\n");
	cmd(5, 1, "DATA\r\n");
	EXPECT_REPLY(5, 1, "250 ");
	EXPECT_REPLY(5, 1, "250 ");
	EXPECT_REPLY(5, 1, "354 ");
	body(5, 1, "partial body\r\n", 0);
	ctl(RELAY_M_ABORT, 5, 1);
	/* objects for the aborted gen still come back */
	cmd(5, 1, "NOOP\r\n");
	CHECK(drain_credits(WAIT_MS));
	CHECK_EQ(outstanding, 0);
	relay_stop();
	sleep_ms(100);
	/* connection 1 of M_OK's port was test_mail_v2's; find this one */
	for (int c = 1; c < 1000; c++) {
		if (mta_raw(ports[M_OK], c, raw, sizeof(raw)) < 0)
			break;
		if (strstr(raw, "partial body")) {
			CHECK(!strstr(raw, "\r\n.\r\n"));
			CHECK(!strstr(raw, "NOOP"));
		}
	}

	cfg_base();
	backend(ports[M_DIE], 0, 0, 10);
	relay_start();
	open_sess(6, 3);
	EXPECT_EVENT(6, 3, SMTP_BACKEND_READY);
	cmd(6, 3, "MAIL FROM:<a@b>\r\n");
	EXPECT_EVENT(6, 3, SMTP_BACKEND_GONE);
	CHECK(drain_credits(WAIT_MS));
	ctl(RELAY_M_ABORT, 6, 3); /* the worker's terminal control: nothing left */
	sleep_ms(50);
	relay_stop();
	CHECK_EQ(rl.st.gone, 1);
	CHECK_EQ(rl.st.aborts, 0);
}

/* Health checks mark a silent backend down after `fall` failures; a
 * session then skips it without trying. */
static void test_health(void)
{
	cfg_base();
	cfg.relay.health_interval_ms = 100;
	cfg.relay.health_timeout_ms = 400; /* fake_mta.py greets after 0.1 s */
	cfg.relay.health_fall = 2;
	backend(ports[M_SILENT], 0, 0, 10);
	backend(ports[M_OK], 0, 0, 10);
	relay_start();
	sleep_ms(1500);
	open_sess(7, 1); /* one at a time: the two may get ready in any order */
	EXPECT_EVENT(7, 1, SMTP_BACKEND_READY);
	open_sess(8, 1);
	EXPECT_EVENT(8, 1, SMTP_BACKEND_READY);
	ctl(RELAY_M_ABORT, 7, 1);
	ctl(RELAY_M_ABORT, 8, 1);
	CHECK(drain_credits(WAIT_MS));
	relay_stop();
	CHECK_EQ(rl.st.health_down, 1);
	CHECK(rl.st.health_ok >= 2);
	CHECK_EQ(rl.st.be_connects[0], 0); /* never picked while down */
	CHECK_EQ(rl.st.be_connects[1], 2);
}

/* No relay object free: the reply waits (nothing lost, nothing out of
 * order) and goes out once objects come back. */
static void test_stall(void)
{
	void *held[POOL];
	unsigned n = 0;
	struct got g;

	cfg_base();
	backend(ports[M_OK], 0, 0, 10);
	/* Taken before the relay runs: the pool has one getter at a time. */
	while (n < POOL && !rte_mempool_get(pair.rpool, &held[n]))
		n++;
	CHECK_EQ(n, POOL);
	relay_start();
	open_sess(9, 4);
	EXPECT_EVENT(9, 4, SMTP_BACKEND_READY); /* a control word: no object */
	cmd(9, 4, "NOOP\r\n");
	cmd(9, 4, "RSET\r\n");
	CHECK_EQ(next(&g, 300), -1);
	for (unsigned i = 0; i < n; i++)
		rte_mempool_put(pair.rpool, held[i]);
	EXPECT_REPLY(9, 4, "250 ");
	EXPECT_REPLY(9, 4, "250 ");
	ctl(RELAY_M_ABORT, 9, 4);
	CHECK(drain_credits(WAIT_MS));
	relay_stop();
	CHECK(rl.st.rpool_empty >= 1);
	CHECK_EQ(rl.st.replies, 2);
}

/* A backend that stops answering: GONE after reply_timeout_ms. */
static void test_reply_timeout(void)
{
	uint64_t t0;

	cfg_base();
	cfg.relay.reply_timeout_ms = 300;
	backend(ports[M_MUTE], 0, 0, 10);
	relay_start();
	open_sess(10, 2);
	EXPECT_EVENT(10, 2, SMTP_BACKEND_READY);
	t0 = now_ms();
	cmd(10, 2, "MAIL FROM:<a@b>\r\n");
	EXPECT_EVENT(10, 2, SMTP_BACKEND_GONE);
	CHECK(now_ms() - t0 >= 300);
	CHECK(drain_credits(WAIT_MS));
	relay_stop();
	CHECK_EQ(rl.st.gone, 1);
}

/* Smooth weighted round-robin 2:1 gives a, b, a; least-connections goes
 * where the fewest sessions are. */
static void test_balance(void)
{
	cfg_base();
	backend(ports[M_OK], 0, 0, 10);
	backend(ports[M_OK], 0, 0, 10);
	cfg.backends[0].weight = 2;
	relay_start();
	for (uint32_t i = 0; i < 3; i++) {
		open_sess(i, 1);
		EXPECT_EVENT(i, 1, SMTP_BACKEND_READY);
	}
	for (uint32_t i = 0; i < 3; i++)
		ctl(RELAY_M_ABORT, i, 1);
	CHECK(drain_credits(WAIT_MS));
	relay_stop();
	CHECK_EQ(rl.st.be_connects[0], 2);
	CHECK_EQ(rl.st.be_connects[1], 1);

	cfg_base();
	cfg.relay.balance = CFG_BALANCE_LEASTCONN;
	backend(ports[M_OK], 0, 0, 10);
	backend(ports[M_OK], 0, 0, 10);
	relay_start();
	open_sess(0, 1);
	EXPECT_EVENT(0, 1, SMTP_BACKEND_READY);
	open_sess(1, 1);
	EXPECT_EVENT(1, 1, SMTP_BACKEND_READY);
	ctl(RELAY_M_ABORT, 0, 1);
	open_sess(2, 1); /* the backend session 0 left is the emptier one */
	EXPECT_EVENT(2, 1, SMTP_BACKEND_READY);
	ctl(RELAY_M_ABORT, 1, 1);
	ctl(RELAY_M_ABORT, 2, 1);
	CHECK(drain_credits(WAIT_MS));
	relay_stop();
	CHECK_EQ(rl.st.be_connects[0] + rl.st.be_connects[1], 3);
	CHECK(rl.st.be_connects[0] == 2 || rl.st.be_connects[1] == 2);
	CHECK_EQ(rl.be[0].conns + rl.be[1].conns, 0);
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
	cfg_base();
	backend(ports[M_NOPIPE], 0, 0, 10);
	relay_start();
	open_sess(11, 1);
	EXPECT_EVENT(11, 1, SMTP_BACKEND_READY);
	m = obj(11, 1, RELAY_M_CMD);
	m->len = RELAY_MSG_DATA;
	memcpy(m->data, line, m->len);
	put(m);
	m = obj(11, 1, RELAY_M_CMD);
	m->len = (uint16_t)(n - RELAY_MSG_DATA);
	memcpy(m->data, line + RELAY_MSG_DATA, m->len);
	put(m);
	cmd(11, 1, "NOOP\r\n");
	EXPECT_REPLY(11, 1, "502 5.5.2 what"); /* the fake knows no AUTH */
	EXPECT_REPLY(11, 1, "250 ");
	ctl(RELAY_M_ABORT, 11, 1);
	CHECK(drain_credits(WAIT_MS));
	relay_stop();
	CHECK_EQ(rl.st.replies, 2);
	CHECK_EQ(rl.st.proto_err, 0);
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
	cfg_base();
	backend(ports[M_OK], 0, 0, 10);
	relay_start();
	open_sess(12, 1);
	EXPECT_EVENT(12, 1, SMTP_BACKEND_READY);
	cmd(12, 1, "MAIL FROM:<a@b>\r\n");
	cmd(12, 1, "RCPT TO:<c@d>\r\n");
	cmd(12, 1, "DATA\r\n");
	EXPECT_REPLY(12, 1, "250 ");
	EXPECT_REPLY(12, 1, "250 ");
	EXPECT_REPLY(12, 1, "354 ");
	for (int i = 0; i < N_OBJ; i++) {
		struct relay_msg *m = obj(12, 1, RELAY_M_BODY);

		m->len = RELAY_MSG_DATA;
		memcpy(m->data, want + (size_t)i * RELAY_MSG_DATA, RELAY_MSG_DATA);
		put(m);
	}
	body(12, 1, "\r\n.\r\n", 1);
	EXPECT_REPLY(12, 1, "250 2.0.0 queued");
	ctl(RELAY_M_QUIT, 12, 1);
	CHECK(drain_credits(WAIT_MS));
	CHECK_EQ(outstanding, 0);
	sleep_ms(200);
	relay_stop();
	got = 0;
	for (int c = 1; c < 1000 && !got; c++) {
		ssize_t k = mta_raw(ports[M_OK], c, raw, sizeof(raw));

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
	relay_lcore = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	if (relay_pairs_create(&pair, 1, 1, POOL, N_SESS, (int)rte_socket_id(), err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* TLS to a backend is refused at startup, never sent in the clear */
	cfg_base();
	backend(25, 0, 0, 10);
	cfg.backends[0].tls = CFG_TLS_STARTTLS;
	CHECK_EQ(relay_init(&rl, &cfg, &pair, 1, 1, 0, err, sizeof(err)), -ENOTSUP);
	CHECK(strstr(err, "backends[0].tls") != NULL);
	mta_start(argv[1]);
	test_mail_v2();
	test_failover();
	test_busy();
	test_refusals();
	test_abort_gone();
	test_health();
	test_stall();
	test_reply_timeout();
	test_balance();
	test_long_line();
	test_big_body();
	mta_stop();
	relay_pairs_free(&pair, 1);
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (rundir[0])
		rmdir(rundir);
	return check_done("relay_loop");
}
