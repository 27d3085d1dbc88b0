/*
 * junk.c — bench-junk: SMTP sessions per second on one worker core, and
 * bytes per idle established session (issue 3's last Proof bullet).
 *
 * Two lcores: lcore 1 runs the daemon's own worker loop (worker_main over a
 * drv port, the net_ctx, the session glue and the SMTP core, configured
 * through cfg_load_string like bulwark.conf); lcore 0 (the main lcore) runs
 * a client emulator. They meet through a net_ring pair made with
 * rte_eth_from_rings: two ethdevs over two rings, crossed.
 *
 * The emulator keeps `flows` clients in flight. Client slot s uses source
 * port 1024 + (s & 32767) and address 198.19.0.0 | (gen << 2 | s >> 15):
 * every new session of a slot takes the next generation, so a 4-tuple comes
 * back only after 16384 sessions of that slot. Each next frame is derived
 * from the frame received (our seq = its ack, our ack = its seq + length);
 * per flow the emulator keeps only a phase, its next seq and a start time.
 *
 * Not a test (STYLE §12): it prints figures and exits 0, or 1 when setup
 * fails.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "config.h"
#include "drv.h"
#include "net.h"
#include "payload.h"
#include "pkt.h"
#include "sess.h"
#include "smtp.h"
#include "wheel.h"
#include "worker.h"

#define BJ_SLOTS_MAX  131072u
#define BJ_RING_SIZE  32768u
#define BJ_BURST      64u
#define BJ_TXQ        4096u
#define BJ_TIMEOUT_MS 3000u
#define BJ_SRV_PORT   25
#define BJ_CLI_PORT0  1024
#define BJ_ISS        1000u
#define BJ_REPS_MAX   32

enum bj_mode { BJ_JUNK_HTTP, BJ_JUNK_TLS, BJ_LEGIT, BJ_IDLE };

enum bj_phase {
	PH_FREE = 0,
	PH_SYN,   /* SYN sent, waiting for SYN-ACK */
	PH_GREET, /* ACK sent, waiting for 220 */
	PH_R1,    /* junk or EHLO sent */
	PH_R2,    /* NOOP sent */
	PH_R3,    /* QUIT sent */
	PH_FIN,   /* final reply seen, waiting for the server's FIN */
	PH_LAST,  /* our FIN sent, waiting for its ACK */
	PH_IDLE,  /* idle test: EHLO answered and ACKed */
};

enum bj_outcome { OC_OK, OC_WRONG, OC_RST, OC_TIMEOUT, OC_COUNT };

static const char *const oc_names[OC_COUNT] = { "ok", "wrong_reply", "rst", "timeout" };

struct bj_flow {
	uint32_t snd_nxt; /* our next sequence number */
	uint32_t t0;      /* ms32 the session started */
	uint16_t gen;
	uint8_t phase;
	uint8_t pad;
};

struct bj_counts {
	uint64_t oc[OC_COUNT];
	uint64_t tx, rx, stale;
	uint64_t idled;         /* idle test: sessions that reached PH_IDLE */
	uint64_t ebusy, etotal; /* emulator loop cycles: with frames received, all */
};

struct bj {
	enum bj_mode mode;
	uint32_t n_flows;
	uint16_t cport, sport;
	struct rte_mempool *pool;
	struct rte_ether_addr cmac, smac;
	uint32_t saddr; /* the server's address, network order */
	struct bj_flow *fl;
	uint32_t *idle; /* free slots, a stack */
	uint32_t n_idle;
	uint8_t restart; /* 1: a finished slot starts its next session */
	struct rte_mbuf *txq[BJ_TXQ];
	uint32_t ntx;
	struct bj_counts c;
	uint64_t per_ms;
};

/* RX callback on the worker's queue: approximates its busy share as the time
 * of loop iterations that began with a non-empty rx_burst. */
struct bj_busy {
	uint64_t last, busy, total;
	uint16_t last_n;
	int tid; /* the worker thread's, for its schedstat */
} __rte_cache_aligned;

static uint16_t busy_cb(uint16_t port, uint16_t q, struct rte_mbuf **pkts, uint16_t n, uint16_t max,
			void *arg)
{
	struct bj_busy *b = arg;
	uint64_t t = rte_rdtsc();

	(void)port, (void)q, (void)pkts, (void)max;
	if (b->tid == 0)
		__atomic_store_n(&b->tid, rte_sys_gettid(), __ATOMIC_RELEASE);
	if (b->last != 0) {
		uint64_t d = t - b->last;

		b->total += d;
		if (b->last_n != 0)
			b->busy += d;
	}
	b->last = t;
	b->last_n = n;
	return n;
}

/* Nanoseconds thread tid has run on a CPU (schedstat), 0 when unknown. A
 * lcore that got less than the wall time shared its vCPU with someone. */
static uint64_t run_ns(int tid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

static uint32_t bj_ms(const struct bj *b)
{
	return (uint32_t)(rte_rdtsc() / b->per_ms);
}

/* Client address of slot s in generation gen (network order). */
static uint32_t cli_addr(uint32_t s, uint16_t gen)
{
	uint32_t a = (198u << 24) | (19u << 16) | ((((uint32_t)gen << 2) | (s >> 15)) & 0xffffu);

	return rte_cpu_to_be_32(a);
}

/* ---- frames ------------------------------------------------------------- */

/* Writes a TCP/IPv4 frame from slot s into m (reset first). Returns m. */
static struct rte_mbuf *frame(struct bj *b, struct rte_mbuf *m, uint32_t s, uint8_t flags,
			      uint32_t seq, uint32_t ack, const void *data, uint16_t len)
{
	return pkt_tcp4(m, &b->cmac, &b->smac, cli_addr(s, b->fl[s].gen), b->saddr,
			(uint16_t)(BJ_CLI_PORT0 + (s & 32767)), BJ_SRV_PORT, flags, seq, ack, data,
			len);
}

static void tx_flush(struct bj *b)
{
	uint32_t sent = 0;

	while (sent < b->ntx) {
		uint16_t k = rte_eth_tx_burst(b->cport, 0, b->txq + sent,
					      (uint16_t)RTE_MIN(b->ntx - sent, 512u));
		if (k == 0)
			break;
		sent += k;
	}
	b->c.tx += sent;
	if (sent < b->ntx) /* the ring is full: keep the rest for the next loop */
		memmove(b->txq, b->txq + sent, (b->ntx - sent) * sizeof(b->txq[0]));
	b->ntx -= sent;
}

static void tx_push(struct bj *b, struct rte_mbuf *m)
{
	if (b->ntx == BJ_TXQ)
		tx_flush(b);
	if (b->ntx == BJ_TXQ) {
		rte_pktmbuf_free(m);
		return;
	}
	b->txq[b->ntx++] = m;
}

/* ---- the client state machine ------------------------------------------ */

static void slot_start(struct bj *b, uint32_t s, uint32_t now)
{
	struct bj_flow *f = &b->fl[s];
	struct rte_mbuf *m = rte_pktmbuf_alloc(b->pool);

	if (m == NULL) {
		b->idle[b->n_idle++] = s;
		return;
	}
	f->gen++;
	f->phase = PH_SYN;
	f->t0 = now;
	f->snd_nxt = BJ_ISS + 1;
	tx_push(b, frame(b, m, s, RTE_TCP_SYN_FLAG, BJ_ISS, 0, NULL, 0));
}

/* The session on slot s ended with outcome oc. m: a mbuf to reuse, or NULL. */
static void slot_end(struct bj *b, uint32_t s, enum bj_outcome oc, uint32_t rst_ack,
		     struct rte_mbuf *m)
{
	struct bj_flow *f = &b->fl[s];

	b->c.oc[oc]++;
	if (oc == OC_WRONG || oc == OC_TIMEOUT) {
		/* free the server's state at once */
		if (m == NULL)
			m = rte_pktmbuf_alloc(b->pool);
		if (m != NULL)
			tx_push(b, frame(b, m, s, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, f->snd_nxt,
					 rst_ack, NULL, 0));
	} else if (m != NULL) {
		rte_pktmbuf_free(m);
	}
	f->phase = PH_FREE;
	b->idle[b->n_idle++] = s;
}


/* The last line of p[0..n) starts with code (and the reply ends in CRLF). */
static int reply_is(const uint8_t *p, uint32_t n, const char *code)
{
	uint32_t i, cl = (uint32_t)strlen(code);

	if (n < cl + 2 || p[n - 2] != '\r' || p[n - 1] != '\n')
		return 0;
	for (i = n - 2; i > 0 && p[i - 1] != '\n'; i--)
		;
	return n - i >= cl && memcmp(p + i, code, cl) == 0;
}

/* Sends data (with ACK) on slot s, reusing m. */
static void send_data(struct bj *b, uint32_t s, struct rte_mbuf *m, uint32_t ack, const void *p,
		      uint16_t n, uint8_t next)
{
	struct bj_flow *f = &b->fl[s];

	tx_push(b, frame(b, m, s, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, f->snd_nxt, ack, p, n));
	f->snd_nxt += n;
	f->phase = next;
}

static void on_frame(struct bj *b, struct rte_mbuf *m)
{
	struct pkt_tcp4 pt;
	const uint8_t *data;
	uint32_t s, seq, ack, len;
	uint8_t fl;
	struct bj_flow *f;

	if (pkt_tcp4_parse(m, &pt) != 0 || pt.dport < BJ_CLI_PORT0)
		goto stale;
	s = (uint32_t)(pt.dport - BJ_CLI_PORT0) | ((rte_be_to_cpu_32(pt.daddr) & 3u) << 15);
	if (s >= b->n_flows)
		goto stale;
	f = &b->fl[s];
	if (f->phase == PH_FREE || pt.daddr != cli_addr(s, f->gen))
		goto stale;
	len = pt.len;
	data = pt.data;
	seq = pt.seq;
	ack = pt.ack;
	fl = pt.flags;

	if (fl & RTE_TCP_RST_FLAG) {
		slot_end(b, s, OC_RST, 0, m);
		return;
	}
	if (f->phase == PH_SYN) {
		if ((fl & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) !=
			(RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG) ||
		    ack != f->snd_nxt) {
			slot_end(b, s, OC_WRONG, seq + 1, m);
			return;
		}
		tx_push(b, frame(b, m, s, RTE_TCP_ACK_FLAG, f->snd_nxt, seq + 1, NULL, 0));
		f->phase = PH_GREET;
		return;
	}
	if (len == 0 && !(fl & RTE_TCP_FIN_FLAG)) {
		if (f->phase == PH_LAST && ack == f->snd_nxt) {
			slot_end(b, s, OC_OK, 0, m);
			return;
		}
		rte_pktmbuf_free(m); /* a pure ACK of our data */
		return;
	}
	ack = seq + len + ((fl & RTE_TCP_FIN_FLAG) ? 1 : 0);
	if (len != 0) {
		const char *cmd = NULL;
		const char *want = "220 ";
		uint8_t next = 0;

		switch (f->phase) {
		case PH_GREET:
			want = "220 ";
			next = PH_R1;
			cmd = b->mode == BJ_JUNK_HTTP ? payload_http_line : "EHLO bench.example\r\n";
			break;
		case PH_R1:
			want = b->mode == BJ_LEGIT || b->mode == BJ_IDLE ? "250 " : "500 5.5.2";
			next = b->mode == BJ_LEGIT ? PH_R2 : b->mode == BJ_IDLE ? PH_IDLE : PH_FIN;
			cmd = b->mode == BJ_LEGIT ? "NOOP\r\n" : NULL;
			break;
		case PH_R2:
			want = "250 ";
			next = PH_R3;
			cmd = "QUIT\r\n";
			break;
		case PH_R3:
			want = "221 ";
			next = PH_FIN;
			break;
		default:
			slot_end(b, s, OC_WRONG, ack, m);
			return;
		}
		if (!reply_is(data, len, want)) {
			slot_end(b, s, OC_WRONG, ack, m);
			return;
		}
		if (cmd != NULL && !(fl & RTE_TCP_FIN_FLAG)) {
			if (f->phase == PH_GREET && b->mode == BJ_JUNK_TLS)
				send_data(b, s, m, ack, payload_tls_hello, payload_tls_hello_len, next);
			else
				send_data(b, s, m, ack, cmd, (uint16_t)strlen(cmd), next);
			return;
		}
		if (cmd != NULL) { /* the server closed before our command */
			slot_end(b, s, OC_WRONG, ack, m);
			return;
		}
		f->phase = next;
		if (next == PH_IDLE)
			b->c.idled++;
		if (!(fl & RTE_TCP_FIN_FLAG)) {
			/* ACK the reply so the server's send buffer goes back */
			tx_push(b, frame(b, m, s, RTE_TCP_ACK_FLAG, f->snd_nxt, ack, NULL, 0));
			return;
		}
	}
	/* FIN */
	if (f->phase != PH_FIN) {
		slot_end(b, s, OC_WRONG, ack, m);
		return;
	}
	tx_push(b, frame(b, m, s, RTE_TCP_ACK_FLAG | RTE_TCP_FIN_FLAG, f->snd_nxt, ack, NULL, 0));
	f->snd_nxt++;
	f->phase = PH_LAST;
	return;
stale:
	b->c.stale++;
	rte_pktmbuf_free(m);
}

static void sweep(struct bj *b, uint32_t now)
{
	for (uint32_t s = 0; s < b->n_flows; s++) {
		struct bj_flow *f = &b->fl[s];

		if (f->phase != PH_FREE && f->phase != PH_IDLE && now - f->t0 > BJ_TIMEOUT_MS)
			slot_end(b, s, OC_TIMEOUT, 0, NULL);
	}
}

/* Runs the emulator for ms milliseconds. */
static void emulate(struct bj *b, uint32_t ms)
{
	uint32_t t_end = bj_ms(b) + ms, last_sweep = bj_ms(b);
	uint64_t t_prev = rte_rdtsc();
	struct rte_mbuf *pkts[BJ_BURST];

	for (;;) {
		uint32_t now = bj_ms(b);
		uint16_t n = rte_eth_rx_burst(b->cport, 0, pkts, BJ_BURST);
		uint64_t t;

		b->c.rx += n;
		for (uint16_t i = 0; i < n; i++)
			on_frame(b, pkts[i]);
		while (b->restart && b->n_idle != 0 && b->ntx < BJ_TXQ - 2)
			slot_start(b, b->idle[--b->n_idle], now);
		if (b->ntx)
			tx_flush(b);
		if (now - last_sweep >= 100) {
			sweep(b, now);
			last_sweep = now;
		}
		t = rte_rdtsc();
		b->c.etotal += t - t_prev;
		if (n != 0)
			b->c.ebusy += t - t_prev;
		t_prev = t;
		if ((int32_t)(now - t_end) >= 0)
			break;
	}
}

/* ---- setup -------------------------------------------------------------- */

static int cfg_text(char *buf, size_t cap, uint32_t sessions, uint32_t bufs)
{
	return snprintf(
	    buf, cap,
	    "eal = { args = [ \"--no-pci\" ]; };\n"
	    "ports = ( { name = \"bench0\"; devargs = \"net_ring_bjsrv\";\n"
	    "  address = \"198.18.0.2/15\"; mtu = 1500; mbufs = 65535; mbuf_cache = 256; } );\n"
	    "listeners = ( { port = 25; tls = \"none\"; public_mx = true; } );\n"
	    "workers = { count = 1; burst = 32;\n"
	    "  idle_backoff = { enabled = false; empty_polls = 256; sleep_us = 100; }; };\n"
	    "limits = { sessions = %u; half_open = 8192; time_wait = 65536;\n"
	    "  time_wait_ms = 60000; linger_ms = 2000; buffers = %u; buffer_size = 4096;\n"
	    /* shedding off: the idle run (-r 0) fills the session pool on purpose */
	    "  shed_at = 0; };\n"
	    "smtp = { hostname = \"mx.bench.example\"; };\n",
	    sessions, bufs);
}

static struct rte_ring *mk_ring(const char *name)
{
	return rte_ring_create(name, BJ_RING_SIZE, (int)rte_socket_id(),
			       RING_F_SP_ENQ | RING_F_SC_DEQ);
}

static int client_port_start(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;

	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 1024, (unsigned)rte_socket_id(), NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 1024, (unsigned)rte_socket_id(), NULL) != 0 ||
	    rte_eth_dev_start(port) != 0)
		return -1;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

static const char *mode_name(enum bj_mode m)
{
	return m == BJ_JUNK_HTTP  ? "junk-http"
	       : m == BJ_JUNK_TLS ? "junk-tls"
	       : m == BJ_LEGIT    ? "legit"
				  : "idle";
}

/* One throughput variant: warm-up then reps windows of secs each. */
static void run_rate(struct bj *b, struct worker *w, struct bj_busy *busy, enum bj_mode mode,
		     uint32_t warm_ms, uint32_t secs, int reps)
{
	uint64_t ok[BJ_REPS_MAX], err[BJ_REPS_MAX], mtx[BJ_REPS_MAX], mrx[BJ_REPS_MAX];
	uint64_t bsy[BJ_REPS_MAX], ebsy[BJ_REPS_MAX], cpu[BJ_REPS_MAX], tot_oc[OC_COUNT] = { 0 };

	b->mode = mode;
	b->restart = 1;
	printf("\n%s: %u clients in flight\n", mode_name(mode), b->n_flows);
	printf("  rep   sess/s ok  wrong    rst  tmout   Mpps c->s  Mpps s->c  worker busy  "
	       "emulator busy  on-CPU w/e\n");
	for (int r = 0; r < reps; r++) {
		struct bj_counts c0;
		struct bj_busy bz0;
		uint64_t t0, dt;
		double sec;

		uint64_t wr0, er0, wr, er;

		emulate(b, warm_ms);
		c0 = b->c;
		bz0 = *busy;
		wr0 = run_ns(__atomic_load_n(&busy->tid, __ATOMIC_ACQUIRE));
		er0 = run_ns(rte_sys_gettid());
		t0 = rte_rdtsc();
		emulate(b, secs * 1000);
		dt = rte_rdtsc() - t0;
		sec = (double)dt / (double)rte_get_tsc_hz();
		wr = run_ns(__atomic_load_n(&busy->tid, __ATOMIC_ACQUIRE)) - wr0;
		er = run_ns(rte_sys_gettid()) - er0;
		ok[r] = (uint64_t)((double)(b->c.oc[OC_OK] - c0.oc[OC_OK]) / sec);
		err[r] = 0;
		for (int k = 1; k < OC_COUNT; k++) {
			err[r] += b->c.oc[k] - c0.oc[k];
			tot_oc[k] += b->c.oc[k] - c0.oc[k];
		}
		tot_oc[OC_OK] += b->c.oc[OC_OK] - c0.oc[OC_OK];
		mtx[r] = (uint64_t)((double)(b->c.tx - c0.tx) / sec);
		mrx[r] = (uint64_t)((double)(b->c.rx - c0.rx) / sec);
		bsy[r] = busy->total == bz0.total
			     ? 0
			     : (busy->busy - bz0.busy) * 1000 / (busy->total - bz0.total);
		/* per second the worker's thread really ran: what a core of
		 * its own would do, when the vCPU is shared */
		cpu[r] =
		    wr == 0
			? 0
			: (uint64_t)((double)(b->c.oc[OC_OK] - c0.oc[OC_OK]) * 1e9 / (double)wr);
		ebsy[r] = b->c.etotal == c0.etotal
			      ? 0
			      : (b->c.ebusy - c0.ebusy) * 1000 / (b->c.etotal - c0.etotal);
		printf(
		    "  %3d %12lu %6lu %6lu %6lu %10.3f %10.3f %11.1f%% %13.1f%%  %3.0f%%/%3.0f%%\n",
		    r, (unsigned long)ok[r], (unsigned long)(b->c.oc[OC_WRONG] - c0.oc[OC_WRONG]),
		    (unsigned long)(b->c.oc[OC_RST] - c0.oc[OC_RST]),
		    (unsigned long)(b->c.oc[OC_TIMEOUT] - c0.oc[OC_TIMEOUT]), (double)mtx[r] / 1e6,
		    (double)mrx[r] / 1e6, (double)bsy[r] / 10.0, (double)ebsy[r] / 10.0,
		    (double)wr / 1e7 / sec, (double)er / 1e7 / sec);
	}
	printf("  median: %lu sessions/s ok, %.3f Mpps client->server, %.3f Mpps "
	       "server->client, worker busy %.1f%%, emulator busy %.1f%%\n",
	       (unsigned long)median(ok, reps), (double)median(mtx, reps) / 1e6,
	       (double)median(mrx, reps) / 1e6, (double)median(bsy, reps) / 10.0,
	       (double)median(ebsy, reps) / 10.0);
	printf("  median per second of worker thread CPU time (schedstat): %lu sessions ok\n",
	       (unsigned long)median(cpu, reps));
	printf("  outcomes over the measured windows:");
	for (int k = 0; k < OC_COUNT; k++)
		printf(" %s=%lu", oc_names[k], (unsigned long)tot_oc[k]);
	printf(" (worker: refused=%lu tx_drop=%lu peak=%lu)\n", (unsigned long)w->st.refused,
	       (unsigned long)w->st.tx_drop, (unsigned long)w->st.peak);
	/* let every slot finish, with no new sessions */
	b->restart = 0;
	emulate(b, BJ_TIMEOUT_MS + 200);
}

/* Establishes n idle sessions (EHLO answered and ACKed) and prints the
 * footprint. */
static void run_idle(struct bj *b, struct worker *w, uint32_t n, uint32_t window)
{
	const struct net_stats *ns = net_stats(w->port[0].net);
	uint32_t started = 0, t_start = bj_ms(b), idle = 0;
	uint64_t base_err;
	size_t sess_rq, sess_rl, rl_res, sess_tls, sess_laq, sess_px, sess_cl, cl_res;
	uint32_t cl_used;
	size_t conn_fp, sess_obj, sess_line, sess_lq, sess_wheel, sess_ovf, sess_helo, per_sess,
	    total, held;
	size_t line_res, ovf_res, helo_res;
	uint32_t lines_used, ovf_used, helo_objs = 0;
	uint32_t N = w->n_sess;

	b->mode = BJ_IDLE;
	b->restart = 0;
	b->n_idle = 0;
	for (uint32_t s = 0; s < n; s++)
		b->fl[s].phase = PH_FREE; /* gen goes on: fresh 4-tuples */
	b->c.idled = 0;
	base_err = b->c.oc[OC_WRONG] + b->c.oc[OC_RST] + b->c.oc[OC_TIMEOUT];
	for (;;) {
		uint32_t now = bj_ms(b);
		uint64_t done = b->c.idled + b->c.oc[OC_WRONG] + b->c.oc[OC_RST] +
				b->c.oc[OC_TIMEOUT] - base_err;
		uint64_t inflight = started - done;

		while (started < n && inflight < window && b->ntx < BJ_TXQ - 2) {
			slot_start(b, started++, now);
			inflight++;
		}
		emulate(b, 1);
		if (done >= n || now - t_start > 120000)
			break;
	}
	emulate(b, 500); /* let the last ACKs land */
	idle = 0;
	for (uint32_t s = 0; s < n; s++)
		idle += b->fl[s].phase == PH_IDLE;

	conn_fp = net_conn_footprint(w->port[0].net);
	/* struct sess as budgeted: with the relay's 32-bit field (sess.h) */
	sess_obj = RTE_MAX(sizeof(struct sess), (size_t)SESS_BYTES);
	/* pooled pieces count as in use (each with its free-stack entry), not
	 * as reserved: an idle session holds no work area, no parking buffer,
	 * and one slab object for its EHLO argument */
	lines_used = __atomic_load_n(&w->lbuf_used, __ATOMIC_RELAXED);
	sess_line = ((size_t)lines_used * (SESS_WORK_SIZE + sizeof(uint32_t)) + N - 1) / N;
	line_res = ((size_t)w->n_lbuf * (SESS_WORK_SIZE + sizeof(uint32_t)) + N - 1) / N;
	ovf_used = w->n_ovf - __atomic_load_n(&w->ovf_nfree, __ATOMIC_RELAXED);
	sess_ovf = ((size_t)ovf_used * (SESS_OVF_STRIDE + sizeof(uint32_t)) + N - 1) / N;
	ovf_res = ((size_t)w->n_ovf * (SESS_OVF_STRIDE + sizeof(uint32_t)) + N - 1) / N;
	for (unsigned k = 0; k < SESS_HELO_CLASSES; k++)
		helo_objs += __atomic_load_n(&w->helo.c[k].used, __ATOMIC_RELAXED);
	sess_helo = (sess_helo_in_use(&w->helo) + N - 1) / N;
	helo_res = (sess_helo_mem(N) + N - 1) / N;
	sess_lq = sizeof(uint32_t); /* the wait FIFO has a slot per session */
	/* the relay link: a slot per session in the FIFO of sessions waiting
	 * for relay objects, and links (with their free-stack entries) only
	 * while a backend session is open (none here: no relay runs) */
	sess_rq = sizeof(uint32_t);
	sess_rl = ((size_t)w->rl_live * (sizeof(struct sess_rl) + sizeof(uint32_t)) + N - 1) / N;
	rl_res = (sess_relay_mem(N) + N - 1) / N - sess_rq;
	sess_wheel = (wheel_mem_size(SESS_WHEEL_SLOTS) + N - 1) / N;
	/* the per-slot arrays that only some configurations allocate (worker.c):
	 * TLS sides (TLS listeners), the AUTH work-area FIFO (AUTH listeners),
	 * PROXY headers (accept_proxy listeners); a slot each, in use or not */
	sess_tls = w->tls != NULL ? sizeof(struct sess_tls) : 0;
	sess_laq = w->laq != NULL ? sizeof(uint32_t) : 0;
	sess_px = w->px != NULL ? sizeof(struct sess_px) : 0;
	/* the per-client limits' table: its entries in use (the addresses
	 * tracked now); the whole table is reserved (client_limits.table_size) */
	cl_used = climit_used(&w->cl);
	sess_cl = ((size_t)cl_used * sizeof(struct climit_entry) + N - 1) / N;
	cl_res = (climit_mem(w->sh->cfg->client_limits.table_size) + N - 1) / N;
	per_sess = sess_obj + sess_line + sess_helo + sess_lq + sess_rq + sess_rl + sess_wheel +
		   sess_ovf + sess_tls + sess_laq + sess_px + sess_cl;
	total = conn_fp + per_sess;
	held = total - sess_line - sess_ovf - sess_helo - sess_rl - sess_cl + line_res + ovf_res +
	       helo_res + rl_res + cl_res;

	printf("\nidle: %u sessions asked, %u idle after EHLO (server: live=%u conns=%lu bufs in "
	       "use=%lu), %.1f s to establish; limits.sessions = %u\n",
	       n, idle, w->live, (unsigned long)ns->conns, (unsigned long)ns->bufs,
	       (double)(bj_ms(b) - t_start) / 1000.0, N);
	printf(
	    "  errors: %lu (wrong reply, RST or timeout)\n",
	    (unsigned long)(b->c.oc[OC_WRONG] + b->c.oc[OC_RST] + b->c.oc[OC_TIMEOUT] - base_err));
	printf("  net (net_conn_footprint): %zu B = struct tcp_conn %zu + flow table share + "
	       "wheel share\n",
	       conn_fp, net_conn_size());
	printf("  sess: %zu B = struct sess %zu (sizeof %zu, budget SESS_BYTES with the relay's "
	       "field) + work areas in use %zu (%u of %u lent) + EHLO slab in use %zu (%u "
	       "objects) + work-wait FIFO entry %zu + relay-wait FIFO entry %zu + relay links in "
	       "use %zu (%u) + wheel share %zu + parking in use %zu (%u of %u) + TLS sides %zu + "
	       "AUTH work-wait FIFO entry %zu + PROXY headers %zu + client-limit entries in use "
	       "%zu (%u)\n",
	       per_sess, sess_obj, sizeof(struct sess), sess_line, lines_used, w->n_lbuf, sess_helo,
	       helo_objs, sess_lq, sess_rq, sess_rl, w->rl_live, sess_wheel, sess_ovf, ovf_used,
	       w->n_ovf, sess_tls, sess_laq, sess_px, sess_cl, cl_used);
	printf("  bytes per idle session: %zu (net %zu + sess %zu)\n", total, conn_fp, per_sess);
	printf("  reserved for limits.sessions = %u (work areas: limits.line_buffers = %u, %zu B "
	       "per session; parking %zu B; EHLO slab %zu B; client-limit table %zu B): %.1f MiB, "
	       "i.e. %.0f B per idle session held (the arrays are sized by the limits, not by "
	       "use)\n",
	       N, w->n_lbuf, line_res, ovf_res, helo_res, cl_res, (double)held * N / 1048576.0,
	       idle ? (double)held * N / idle : 0.0);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-junk [-f FLOWS] [-s SECS] [-w WARM_MS] [-r REPS] [-n IDLE]\n"
		   "  -f  clients in flight (default 1024, at most 32768)\n"
		   "  -s  seconds per measured window (5)   -w  warm-up ms before each (1000)\n"
		   "  -r  windows per variant (5, 0: none: the idle part only)\n"
		   "  -n  idle sessions to hold (100000, "
		   "0: skip)\n");
}

int main(int argc, char **argv)
{
	uint32_t flows = 1024, secs = 5, warm = 1000, n_idle = 100000;
	int reps = 5, opt;
	char prefix[64], cfgbuf[2048], err[CFG_ERR_MAX + 256];
	char *eal_argv[] = { argv[0],
			     "--no-pci",
			     "--in-memory",
			     prefix,
			     "-l",
			     "0-1",
			     "--log-level=lib.eal:warning",
			     NULL };
	struct rte_ring *c2s, *s2c;
	struct cfg *cfg;
	struct worker_shared sh;
	struct drv_port port;
	struct worker *w;
	struct bj *b;
	struct bj_busy *busy;
	struct net_cookie_secret secret;
	uint64_t key[2] = { 0x0123456789abcdefull, 0xfedcba9876543210ull };
	int cport, rc;
	unsigned wl;

	while ((opt = getopt(argc, argv, "f:s:w:r:n:h")) != -1) {
		switch (opt) {
		case 'f':
			flows = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			secs = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			warm = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		case 'n':
			n_idle = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (flows == 0 || flows > 32768 || reps < 0 || reps > BJ_REPS_MAX || secs == 0 ||
	    n_idle > BJ_SLOTS_MAX) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(prefix, sizeof(prefix), "--file-prefix=bench-junk-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "bench-junk: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	wl = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	if (wl >= RTE_MAX_LCORE) {
		fprintf(stderr, "bench-junk: needs two lcores\n");
		return 1;
	}

	/* the ring pair: bjsrv (the worker's) and bjcli (the emulator's) */
	c2s = mk_ring("bj_c2s");
	s2c = mk_ring("bj_s2c");
	if (c2s == NULL || s2c == NULL ||
	    rte_eth_from_rings("bjsrv", &c2s, 1, &s2c, 1, rte_socket_id()) < 0 ||
	    (cport = rte_eth_from_rings("bjcli", &s2c, 1, &c2s, 1, rte_socket_id())) < 0) {
		fprintf(stderr, "bench-junk: net_ring pair: %s\n", rte_strerror(rte_errno));
		return 1;
	}

	cfg = calloc(1, sizeof(*cfg));
	b = rte_zmalloc("bj", sizeof(*b), RTE_CACHE_LINE_SIZE);
	w = rte_zmalloc("bj_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	busy = rte_zmalloc("bj_busy", sizeof(*busy), RTE_CACHE_LINE_SIZE);
	if (cfg == NULL || b == NULL || w == NULL || busy == NULL) {
		fprintf(stderr, "bench-junk: out of memory\n");
		return 1;
	}
	/* sessions: room for the idle test; buffers: every in-flight session
	 * holds at most a send buffer and a receive buffer briefly */
	cfg_text(cfgbuf, sizeof(cfgbuf), RTE_MAX(n_idle, flows * 2u), RTE_MAX(8192u, flows * 4u));
	memset(&sh, 0, sizeof(sh));
	if (cfg_load_string(cfg, cfgbuf, "bench-junk.conf", err, sizeof(err)) != 0 ||
	    cfg_smtp_fill(cfg, &cfg->listeners[0], NULL, &sh.smtp[0], err, sizeof(err)) != 0) {
		fprintf(stderr, "bench-junk: config: %s\n", err);
		return 1;
	}
	{
		struct drv_port_conf pc = {
			.name = cfg->ports[0].name,
			.devargs = cfg->ports[0].devargs,
			.n_queues = 1,
			.mbufs = cfg->ports[0].mbufs,
			.mbuf_cache = cfg->ports[0].mbuf_cache,
			.pool_per_queue = 1,
			.mtu = cfg->ports[0].mtu,
		};

		memset(&port, 0, sizeof(port));
		if (drv_port_open(&port, &pc, err, sizeof(err)) != 0) {
			fprintf(stderr, "bench-junk: %s\n", err);
			return 1;
		}
	}
	net_cookie_init(&secret, key);
	sh.cfg = cfg;
	sh.ports = &port;
	sh.secret = &secret;
	if ((rc = worker_init(w, &sh, 0, wl, worker_now_ms(), err, sizeof(err))) != 0) {
		fprintf(stderr, "bench-junk: %s\n", err);
		return 1;
	}

	b->n_flows = RTE_MAX(flows, n_idle);
	b->fl = rte_zmalloc("bj_flows", sizeof(b->fl[0]) * b->n_flows, RTE_CACHE_LINE_SIZE);
	b->idle = rte_zmalloc("bj_idle", sizeof(uint32_t) * b->n_flows, RTE_CACHE_LINE_SIZE);
	b->pool = rte_pktmbuf_pool_create("bj_cli", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (b->fl == NULL || b->idle == NULL || b->pool == NULL ||
	    client_port_start((uint16_t)cport, b->pool) != 0) {
		fprintf(stderr, "bench-junk: emulator setup failed\n");
		return 1;
	}
	b->cport = (uint16_t)cport;
	b->sport = port.port_id;
	b->per_ms = rte_get_tsc_hz() / 1000;
	b->saddr = cfg->ports[0].addr;
	b->smac = port.mac;
	b->cmac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0x0b, 0x01 } };
	if (rte_eth_add_rx_callback(port.port_id, 0, busy_cb, busy) == NULL)
		fprintf(stderr, "bench-junk: no rx callback: the busy share reads 0\n");

	printf("bench-junk: worker (worker_main, the daemon's loop) on lcore %u, client emulator "
	       "on lcore %u; net_ring pair, sw checksums; limits.sessions=%u buffers=%u\n",
	       wl, rte_get_main_lcore(), cfg->limits.sessions, cfg->limits.buffers);
	printf("windows: %d x %u s, each after %u ms of warm-up; figures are medians\n", reps, secs,
	       warm);
	if (rte_eal_remote_launch(worker_main, w, wl) != 0) {
		fprintf(stderr, "bench-junk: cannot launch the worker\n");
		return 1;
	}

	b->n_flows = flows;
	for (uint32_t s = flows; s-- > 0;)
		b->idle[b->n_idle++] = s;
	if (reps > 0) {
		run_rate(b, w, busy, BJ_JUNK_HTTP, warm, secs, reps);
		run_rate(b, w, busy, BJ_JUNK_TLS, warm, secs, reps);
		run_rate(b, w, busy, BJ_LEGIT, warm, secs, reps);
	}
	if (n_idle != 0) {
		b->n_flows = n_idle;
		run_idle(b, w, n_idle, 2048);
	}

	__atomic_store_n(&w->ctl_stop, 1, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	printf("\nstale frames at the emulator: %lu\n", (unsigned long)b->c.stale);
	worker_stats_log(w);
	worker_destroy(w);
	/* the ports, rings and pools go with the EAL's memory (--in-memory) */
	rte_eal_cleanup();
	free(cfg);
	return 0;
}
