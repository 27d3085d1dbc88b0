/*
 * relay_drv.c — the harness of test_relay_loop.c (relay_drv.h).
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

#include <rte_launch.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "relay_drv.h"

struct rdrv rd = { .mta_pid = -1 };

static const char *mode_names[M_COUNT] = {
	[M_OK] = "ok",
	[M_NOPIPE] = "nopipe",
	[M_SILENT] = "silent",
	[M_BAD] = "bad",
	[M_DIE] = "die",
	[M_NOEHLO] = "noehlo",
	[M_MUTE] = "mute",
	[M_LATE] = "late",
	[M_PROXY] = "proxy",
	[M_SLOW] = "slow",
	[M_REJECT] = "reject",
	[M_REJECT_OPEN] = "rejectopen",
	[M_REJECT_LATE] = "rejectlate",
	[M_EARLY250] = "early250",
	[M_UNASKED] = "unasked",
	[M_AUTH] = "auth",
	[M_TLS] = "tls",
	[M_TLS_INJECT] = "tlsinject",
	[M_TLS_DIE] = "tlsdie",
	[M_TLS_SLOW] = "tlsslow",
};

/* ---- The fake MTA ------------------------------------------------------------ */

void rd_mta_start(const char *script)
{
	int fd[2];
	char line[256];
	FILE *f;
	int sock;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = RD_LO };
	socklen_t sl = sizeof(sa);

	snprintf(rd.logdir, sizeof(rd.logdir), "/tmp/test-relay-%d", (int)getpid());
	mkdir(rd.logdir, 0700);
	if (pipe(fd))
		abort();
	rd.mta_pid = fork();
	if (rd.mta_pid == 0) {
		char *av[4 + M_COUNT];
		int i = 0;

		/* the fake dies with this test, even when the test crashes */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd[1], 1);
		close(fd[0]);
		av[i++] = "/usr/bin/python3";
		av[i++] = (char *)script;
		av[i++] = rd.logdir;
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

		for (int m = 0; m < M_COUNT; m++) {
			rd.ports[m] = (uint16_t)strtoul(p, &p, 10);
			if (!rd.ports[m]) {
				fprintf(stderr, "fake_mta.py gave no port for %s\n", mode_names[m]);
				exit(1);
			}
		}
	}
	fclose(f);
	/* A port nobody listens on: bind, read the number, close. */
	sock = socket(AF_INET, SOCK_STREAM, 0);
	bind(sock, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(sock, (struct sockaddr *)&sa, &sl);
	rd.closed_port = ntohs(sa.sin_port);
	close(sock);
}

void rd_mta_stop(void)
{
	char cmd[128];

	if (rd.mta_pid > 0) {
		kill(rd.mta_pid, SIGTERM);
		waitpid(rd.mta_pid, NULL, 0);
		rd.mta_pid = -1;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", rd.logdir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", rd.logdir);
}

/* Reads everything the fake MTA got on connection n of port p (1-based);
 * returns its length, or -1 when there was no such connection. */
ssize_t rd_mta_raw(uint16_t p, int n, char *buf, size_t cap)
{
	char path[128];
	ssize_t k;
	int fd;

	snprintf(path, sizeof(path), "%s/%u-%d.raw", rd.logdir, p, n);
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

uint64_t rd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void rd_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void rd_cfg_base(void)
{
	memset(&rd.cfg, 0, sizeof(rd.cfg));
	rd.cfg.limits.sessions = RD_SESS;
	rd.cfg.relay.lcores = 1;
	rd.cfg.relay.ring_size = RD_POOL;
	rd.cfg.relay.balance = CFG_BALANCE_RR;
	rd.cfg.relay.connect_timeout_ms = 400;
	rd.cfg.relay.reply_timeout_ms = 2000;
	rd.cfg.relay.health_interval_ms = 3600000; /* no checks unless a test wants them */
	rd.cfg.relay.health_timeout_ms = 200;
	rd.cfg.relay.health_fall = 3;
	rd.cfg.relay.health_rise = 2;
	snprintf(rd.cfg.smtp.hostname, sizeof(rd.cfg.smtp.hostname), "bulwark.test");
}

void rd_backend(uint16_t port, uint8_t proxy, uint8_t xclient, uint32_t max_conns)
{
	struct cfg_backend *b = &rd.cfg.backends[rd.cfg.n_backends];

	snprintf(b->name, sizeof(b->name), "be%u", rd.cfg.n_backends);
	b->addr = RD_LO;
	b->port = port;
	b->weight = 1;
	b->max_conns = max_conns;
	b->proxy_protocol = proxy;
	b->xclient = xclient;
	rd.cfg.n_backends++;
}

void rd_backend_tls(const char *ca, const char *name)
{
	struct cfg_backend *b = &rd.cfg.backends[rd.cfg.n_backends - 1];

	b->tls = CFG_TLS_STARTTLS;
	b->tls_verify = ca ? CFG_TLS_VERIFY_CA : CFG_TLS_VERIFY_NONE;
	if (ca)
		snprintf(b->tls_ca, sizeof(b->tls_ca), "%s/%s", rd.logdir, ca);
	if (name)
		snprintf(b->tls_name, sizeof(b->tls_name), "%s", name);
}

void rd_start(void)
{
	char err[256] = "";

	if (relay_init(&rd.rl, &rd.cfg, &rd.pair, 1, 1, 0, err, sizeof(err))) {
		fprintf(stderr, "relay_init: %s\n", err);
		exit(1);
	}
	if (rte_eal_remote_launch(relay_main, &rd.rl, rd.lcore)) {
		fprintf(stderr, "cannot launch the relay lcore\n");
		exit(1);
	}
}

void rd_stop(void)
{
	/* Let the relay take in what was last put on its ring. */
	while (!rte_ring_empty(rd.pair.w2r))
		rd_sleep_ms(1);
	rd_sleep_ms(50);
	__atomic_store_n(&rd.rl.ctl_stop, 1, __ATOMIC_RELEASE);
	rte_eal_wait_lcore(rd.lcore);
	relay_destroy(&rd.rl);
}

/* ---- Playing the worker ----------------------------------------------------------- */

struct relay_msg *rd_obj(uint32_t sid, uint32_t gen, uint8_t kind)
{
	void *o;

	if (rte_mempool_get(rd.pair.wpool, &o))
		abort();
	memset(o, 0, RELAY_MSG_HDR);
	((struct relay_msg *)o)->sid = sid;
	((struct relay_msg *)o)->gen = gen;
	((struct relay_msg *)o)->kind = kind;
	rd.outstanding++;
	return o;
}

void rd_put(void *e)
{
	if (rte_ring_sp_enqueue(rd.pair.w2r, e))
		abort();
}

void rd_open(uint32_t sid, uint32_t gen)
{
	struct relay_msg *m = rd_obj(sid, gen, RELAY_M_OPEN);
	struct relay_open *o = (struct relay_open *)m->data;

	o->client_addr = htonl(0xc0000201); /* 192.0.2.1 */
	o->client_port = htons(12345);
	o->local_addr = htonl(0xc6120001); /* 198.18.0.1 */
	o->local_port = htons(25);
	o->ehlo = 1;
	o->helo_len = 14;
	memcpy(o->helo, "client.example", 14);
	m->len = sizeof(*o);
	rd_put(m);
}

void rd_cmd(uint32_t sid, uint32_t gen, const char *line)
{
	struct relay_msg *m = rd_obj(sid, gen, RELAY_M_CMD);

	m->len = (uint16_t)strlen(line);
	memcpy(m->data, line, m->len);
	rd_put(m);
}

void rd_body(uint32_t sid, uint32_t gen, const char *b, int end)
{
	struct relay_msg *m = rd_obj(sid, gen, RELAY_M_BODY);

	m->len = (uint16_t)strlen(b);
	m->flags = end ? RELAY_F_DATA_END : 0;
	memcpy(m->data, b, m->len);
	rd_put(m);
}

void rd_ctl(uint8_t kind, uint32_t sid, uint32_t gen)
{
	rd_put((void *)relay_ctl_pack(kind, sid, gen, 0));
}

/* Waits for the next REPLY or EVENT (credits are taken in passing);
 * returns 0, or -1 after RD_WAIT_MS. */
int rd_next(struct got *g, unsigned wait_ms)
{
	uint64_t end = rd_now_ms() + wait_ms;
	void *e;

	while (rd_now_ms() < end) {
		if (rte_ring_sc_dequeue(rd.pair.r2w, &e)) {
			rd_sleep_ms(1);
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
			rd.outstanding--;
			rte_mempool_put(rd.pair.wpool, m);
			continue;
		}
		g->kind = m->kind;
		g->sid = m->sid;
		g->gen = m->gen;
		memcpy(g->text, m->data, m->len);
		g->text[m->len] = '\0';
		rte_mempool_put(rd.pair.rpool, m);
		return 0;
	}
	return -1;
}

/* Takes credits until none is rd.outstanding or wait_ms pass; returns 1 when
 * nothing but credits came. */
int rd_drain(unsigned wait_ms)
{
	struct got g;
	uint64_t end = rd_now_ms() + wait_ms;
	int only = 1;

	while (rd.outstanding && rd_now_ms() < end)
		if (!rd_next(&g, 10))
			only = 0;
	return only;
}
