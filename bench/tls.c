/*
 * tls-bench — TLS handshakes per second on one core through proxy/tls,
 * against `openssl s_server` + `openssl s_time -new` on loopback in the
 * same run, and memory per TLS session from the jemalloc arena counters.
 *
 * In process: an OpenSSL client (memory BIOs) and a tls_conn in one
 * thread, full handshakes (no resumption on either side), the bytes moved
 * by tests/unit/tls_drv.c. "both" counts the client's work too; "server"
 * times only the tls_conn calls (what a worker core would spend).
 * Baseline: s_server (tickets off, like ours) and s_time on 127.0.0.1
 * over kernel TCP, each in its own process; conn/s is s_time's wall rate,
 * "server" divides the connections by s_server's CPU time (/proc, 10 ms
 * ticks). s_time has no groups option: both processes read an OPENSSL_CONF
 * whose system_default section sets Groups, so the client's key share
 * matches and no HelloRetryRequest is needed.
 *
 * Usage: tls-bench [-t seconds] [-r runs] [-n sessions] [-B]
 *   -t  seconds per in-process run (default 1), -r runs (median, default
 *   5), -n idle sessions for the memory figures (default 1000), -B skip
 *   the s_server baseline.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tls_drv.h"

extern char **environ;

#define RUNS_MAX 15
#define PORT     24433

static struct td_certs certs;
static const struct tls_conn_lim lim = { 32768, 32768 };

struct bcase {
	int cert, ver;
	const char *group;   /* the one group both sides use */
	const char *cgroups; /* the client's list */
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct tls_ctx *srv_ctx(int cert)
{
	struct tls_ctx_conf conf = { certs.cert[cert], certs.key[cert], 12 };
	struct tls_ctx *ctx;
	char err[256];

	if (tls_ctx_new(&conf, &ctx, err, sizeof(err)) != 0) {
		fprintf(stderr, "tls_ctx_new: %s\n", err);
		exit(1);
	}
	return ctx;
}

/* One run of secs: handshakes/s counting both sides, and server-only. */
static void run_inproc(const struct bcase *b, double secs, double *both, double *srv)
{
	struct tls_ctx *ctx = srv_ctx(b->cert);
	SSL_CTX *cctx = td_client_ctx(b->ver, b->ver, b->cgroups);
	struct tls_stats st = { 0 };
	struct td_pair p = { .timing = 1 };
	double t0 = td_now_ns(), t;
	long n = 0;

	do {
		if (td_pair_init(&p, cctx, ctx, &lim, &st) != 0 || td_handshake(&p) != 0) {
			fprintf(stderr, "handshake failed\n");
			exit(1);
		}
		td_pair_free(&p);
		n++;
		t = td_now_ns();
	} while (t - t0 < secs * 1e9);
	*both = (double)n / ((t - t0) / 1e9);
	*srv = (double)n / (p.srv_ns / 1e9);
	SSL_CTX_free(cctx);
	tls_ctx_free(ctx);
}

/* ---- Baseline: openssl s_server + s_time ----------------------------------- */

static pid_t spawn(char *const argv[], int out_fd)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* CPU seconds a process has used so far: user + system, and *user. */
static double proc_cpu(pid_t pid, double *user)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, stt = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL) {
		*user = 0;
		return 0;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	*user = 0;
	p = strrchr(buf, ')'); /* fields after the command name */
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) != 2)
		return 0;
	*user = (double)ut / (double)sysconf(_SC_CLK_TCK);
	return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

static int port_open(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* One s_time run of secs against a fresh s_server: conn/s (wall), and
 * connections per s_server CPU second (user + system, and user only).
 * Returns 0 or -1. */
static int run_baseline(const struct bcase *b, int secs, double *rate, double *srv, double *usr)
{
	char conf[128], port[16], tsecs[16], line[256];
	const char *ver = b->ver == TLS1_3_VERSION ? "-tls1_3" : "-tls1_2";
	char *sargv[] = {
		"openssl", "s_server",          "-quiet", "-accept",          port,
		"-cert",   certs.cert[b->cert], "-key",   certs.key[b->cert], "-num_tickets",
		"0",       "-no_ticket",        NULL
	};
	char *targv[] = { "openssl",   "s_time", "-connect", port, "-new",
			  (char *)ver, "-time",  tsecs,      NULL };
	int pfd[2], devnull = open("/dev/null", O_WRONLY), conns = -1;
	pid_t sp, tp;
	double c0, c1, u0, u1, t0, t1;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/groups.cnf", certs.dir);
	f = fopen(conf, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
		"openssl_conf = c\n[c]\nssl_conf = s\n[s]\nsystem_default = d\n"
		"[d]\nGroups = %s\n",
		b->cgroups);
	fclose(f);
	setenv("OPENSSL_CONF", conf, 1);
	snprintf(port, sizeof(port), "127.0.0.1:%d", PORT);
	snprintf(tsecs, sizeof(tsecs), "%d", secs);
	sp = spawn(sargv, devnull);
	for (int i = 0; i < 200 && !port_open(); i++)
		usleep(10000);
	if (pipe(pfd) != 0)
		return -1;
	c0 = proc_cpu(sp, &u0);
	t0 = td_now_ns();
	tp = spawn(targv, pfd[1]);
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (conns < 0 && strstr(line, "connections in") && strstr(line, "s;"))
			conns = atoi(line);
	if (f != NULL)
		fclose(f);
	waitpid(tp, NULL, 0);
	t1 = td_now_ns();
	c1 = proc_cpu(sp, &u1);
	kill(sp, SIGTERM);
	waitpid(sp, NULL, 0);
	close(devnull);
	unsetenv("OPENSSL_CONF");
	unlink(conf);
	if (conns <= 0 || c1 <= c0)
		return -1;
	*rate = conns / ((t1 - t0) / 1e9);
	*srv = conns / (c1 - c0);
	*usr = u1 > u0 ? conns / (u1 - u0) : 0;
	return 0;
}

/* ---- Memory ------------------------------------------------------------------- */

/* Bytes per session in the server's arena with n sessions mid-handshake
 * (the server's flight sent) and idle after it (one line each way). */
static void memory(const struct bcase *b, int n)
{
	struct tls_mem_arena a_cli, a_srv;
	struct td_pair *p = calloc((size_t)n, sizeof(*p));
	struct tls_ctx *ctx;
	SSL_CTX *cctx;
	struct tls_stats st = { 0 };
	size_t b0 = 0, b1 = 0, b2 = 0;
	uint8_t buf[8];

	if (p == NULL || tls_mem_arena_new(&a_cli) != 0 || tls_mem_arena_new(&a_srv) != 0) {
		printf("memory: not measured (no jemalloc arenas)\n");
		free(p);
		return;
	}
	ctx = srv_ctx(b->cert);
	cctx = td_client_ctx(b->ver, b->ver, b->cgroups);
	tls_mem_arena_use(&a_srv);
	tls_mem_arena_bytes(&a_srv, &b0);
	tls_mem_arena_use(&a_cli);
	for (int i = 0; i < n; i++) {
		p[i].a_cli = &a_cli;
		p[i].a_srv = &a_srv;
		if (td_pair_init(&p[i], cctx, ctx, &lim, &st) != 0)
			exit(1);
		SSL_do_handshake(p[i].c);
		td_move(&p[i]);
	}
	tls_mem_arena_use(&a_srv);
	tls_mem_arena_bytes(&a_srv, &b1);
	tls_mem_arena_use(&a_cli);
	for (int i = 0; i < n; i++) {
		if (td_handshake(&p[i]) != 0 ||
		    td_c2s(&p[i], (const uint8_t *)"NOOP\r\n", 6, buf, 6) != 6 ||
		    td_s2c(&p[i], (const uint8_t *)"250 ok\r\n", 8, buf, 8) != 8)
			exit(1);
	}
	tls_mem_arena_use(&a_srv);
	tls_mem_arena_bytes(&a_srv, &b2);
	tls_mem_arena_use(&a_cli);
	for (int i = 0; i < n; i++)
		td_pair_free(&p[i]);
	tls_mem_arena_use(NULL);
	printf("  %-6s %-7s %s  mid-handshake %6zu B/session  idle %6zu B/session  (%d sessions)\n",
	       b->cert == TD_EC ? "ECDSA" : "RSA", b->group,
	       b->ver == TLS1_3_VERSION ? "TLS1.3" : "TLS1.2", (b1 - b0) / (size_t)n,
	       (b2 - b0) / (size_t)n, n);
	free(p);
	SSL_CTX_free(cctx);
	tls_ctx_free(ctx);
}

int main(int argc, char **argv)
{
	static const struct bcase cases[] = {
		{ TD_EC, TLS1_3_VERSION, "X25519", "X25519" },
		{ TD_EC, TLS1_3_VERSION, "P-256", "P-256" },
		{ TD_RSA, TLS1_3_VERSION, "X25519", "X25519" },
		{ TD_RSA, TLS1_3_VERSION, "P-256", "P-256" },
		/* TLS 1.2 needs the certificate's curve in the client's list */
		{ TD_EC, TLS1_2_VERSION, "X25519", "X25519:P-256" },
	};
	double secs = 1, both[RUNS_MAX], srv[RUNS_MAX], brate[RUNS_MAX], bsrv[RUNS_MAX];
	double busr[RUNS_MAX];
	int runs = 5, nsess = 1000, baseline = 1, opt;

	if (tls_mem_init() != 0)
		fprintf(stderr, "tls_mem_init failed: OpenSSL on libc\n");
	while ((opt = getopt(argc, argv, "t:r:n:B")) != -1) {
		switch (opt) {
		case 't':
			secs = atof(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'n':
			nsess = atoi(optarg);
			break;
		case 'B':
			baseline = 0;
			break;
		default:
			fprintf(stderr,
				"usage: tls-bench [-t seconds] [-r runs] [-n sessions] [-B]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > RUNS_MAX || secs <= 0 || nsess < 1)
		return 2;
	if (td_certs_make(&certs) != 0)
		return 1;
	printf("tls-bench: %s, %d runs of %.1f s (medians), allocator %s\n",
	       OpenSSL_version(OPENSSL_VERSION), runs, secs,
	       tls_mem_active() ? "jemalloc arenas" : "libc");
	printf("handshakes/s on one core (in process: client+server / server calls only)");
	printf("%s\n", baseline ? "; s_server+s_time on 127.0.0.1 (conn/s wall; per s_server "
				  "CPU s: user+sys, user)"
				: "");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bcase *b = &cases[i];
		int nb = 0;

		for (int r = 0; r < runs; r++)
			run_inproc(b, secs, &both[r], &srv[r]);
		printf("  %-5s %-6s %s  in-process %7.0f /s  server %7.0f /s",
		       b->cert == TD_EC ? "ECDSA" : "RSA", b->group,
		       b->ver == TLS1_3_VERSION ? "TLS1.3" : "TLS1.2", median(both, runs),
		       median(srv, runs));
		for (int r = 0; baseline && r < (runs + 1) / 2; r++)
			if (run_baseline(b, (int)(secs * 2 + 0.5), &brate[nb], &bsrv[nb],
					 &busr[nb]) == 0)
				nb++;
		if (nb > 0)
			printf("  | s_time %5.0f /s  s_server %5.0f /CPU s %5.0f /user s",
			       median(brate, nb), median(bsrv, nb), median(busr, nb));
		else if (baseline)
			printf("  | baseline failed");
		printf("\n");
		fflush(stdout);
	}
	printf("memory per TLS session, server arena (jemalloc stats.arenas.<i>.{small,large}"
	       ".allocated):\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i += 2)
		memory(&cases[i], nsess);
	td_certs_remove(&certs);
	return 0;
}
