/*
 * load.c — bulwark-load: many SMTP clients, junk and legit, against any SMTP
 * server; every session's outcome is checked against what its kind expects.
 *
 * This file: options and main. The scenarios (what each kind sends and
 * which reply it expects), --expect, the mix and the reply scanner are
 * load_script.c. The engines are load_sock.c (kernel TCP, epoll; TLS in
 * load_tls.c) and load_dpdk.c (a DPDK port); the counters and the report
 * are load_report.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load.h"

uint64_t load_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *load_plan(const struct load_opts *o)
{
	static char buf[160];
	char rate[48];

	if (o->rate > 0)
		snprintf(rate, sizeof(rate), "%.0f new sessions/s", o->rate);
	else
		snprintf(rate, sizeof(rate), "new sessions as fast as possible");
	snprintf(buf, sizeof(buf), "%s, concurrency %u, %.1f s", rate, o->conc, o->duration);
	return buf;
}

static int mix_parse(struct load_opts *o, const char *arg)
{
	const char *p = arg;

	memset(o->mix, 0, sizeof(o->mix));
	while (*p) {
		const char *eq = strchr(p, '='), *comma;
		char *end;
		unsigned long w;
		int k;

		if (eq == NULL || (k = load_kind_find(p, (size_t)(eq - p))) < 0)
			return -EINVAL;
		w = strtoul(eq + 1, &end, 10);
		if (end == eq + 1 || (*end != ',' && *end != '\0') || w > 1000000)
			return -EINVAL;
		o->mix[k] = (uint32_t)w;
		comma = end;
		p = *comma == ',' ? comma + 1 : comma;
	}
	for (int k = 0; k < LK_COUNT; k++)
		if (o->mix[k])
			return 0;
	return -EINVAL;
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: bulwark-load [--mode socket|dpdk] [options] [-- EAL args (dpdk)]\n"
		   "  --host ADDR        server address (socket mode; dpdk: the target's)\n"
		   "  --port N           server port (25)\n"
		   "  --mix K=W,...      kinds and weights: http tls ssh pregreet garbage\n"
		   "                     longline typo slow idle legit (default http=1)\n"
		   "  --rate N           new sessions/s (0: as fast as possible; default 0)\n"
		   "  --concurrency N    sessions in flight at most (default 256)\n"
		   "  --duration S       seconds of new sessions (default 10)\n"
		   "  --timeout MS       wait for each reply (default 5000)\n"
		   "  --slow-ms MS       slow: a byte per MS (default 50)\n"
		   "  --idle-ms MS       idle: wait after the greeting (default 2000)\n"
		   "  --size N           legit: body octets (default 1000)\n"
		   "  --expect K=CODE[x*][/close|/quit|/held] or K=none/close|/held\n"
		   "                     what kind K must get from this server (a peer\n"
		   "                     may answer otherwise): reply CODE (x*: one or\n"
		   "                     more of them; none: no reply), then the server\n"
		   "                     closes (/close), or QUIT gets 221 and a close\n"
		   "                     (/quit), or the session is still open after\n"
		   "                     --hold-ms (/held: outcome \"held\", not an error\n"
		   "                     and not ok: the junk was not absorbed)\n"
		   "  --hold-ms MS       /held: how long the session must stay open (1000)\n"
		   "  TLS kinds (socket mode; TLS 1.3, full handshakes, no chain check):\n"
		   "    tls465 (implicit TLS on --tls-port), starttls (on --port),\n"
		   "    handshake (--tls-port: handshake, close; any TLS server)\n"
		   "  --tls-port N       tls465 and handshake (465)\n"
		   "  --tls-groups LIST  key exchange groups, e.g. X25519 or P-256\n"
		   "  --tls-cert TYPE    the server key must be ecdsa or rsa (any)\n"
		   "  --show-errors N    failed sessions to print (default 5)\n"
		   "  --csv FILE         per-second rates   --png FILE  a chart (gnuplot)\n"
		   "  --print-payload K  write the octets kind K sends first to stdout, exit\n"
		   "                     (bench/compare-probe sends the same)\n"
		   "  --scenario FILE    options from FILE, one \"name value\" a line\n"
		   "                     (\"mix http=40,legit=10\"); later flags override\n"
		   "  dpdk mode: --vdev DEVARGS (e.g. net_memif0,role=client,socket=PATH,\n"
		   "             socket-abstract=no), --src ADDR (a /17 of 198.18.0.0/15\n"
		   "             for the clients, default 198.19.128.0), --gw ADDR (the\n"
		   "             target's gateway, answered for ARP; 198.18.0.1),\n"
		   "             --queues N (flows spread over N queues); EAL arguments\n"
		   "             after -- (default -l 0; --no-pci --in-memory and a\n"
		   "             --file-prefix of its own always)\n"
		   "exit: 0 no errors, 3 some session failed its check, 1 setup, 2 usage\n");
}

enum {
	O_MODE = 256,
	O_HOST,
	O_PORT,
	O_MIX,
	O_RATE,
	O_CONC,
	O_DUR,
	O_TMO,
	O_SLOW,
	O_IDLE,
	O_SIZE,
	O_EXPECT,
	O_SHOW,
	O_CSV,
	O_PNG,
	O_VDEV,
	O_SRC,
	O_GW,
	O_QUEUES,
	O_SCENARIO,
	O_HOLD,
	O_TLS_PORT,
	O_TLS_GROUPS,
	O_TLS_CERT,
	O_PRINT,
};

static const struct option lopts[] = {
	{ "mode", required_argument, NULL, O_MODE },
	{ "host", required_argument, NULL, O_HOST },
	{ "port", required_argument, NULL, O_PORT },
	{ "mix", required_argument, NULL, O_MIX },
	{ "rate", required_argument, NULL, O_RATE },
	{ "concurrency", required_argument, NULL, O_CONC },
	{ "duration", required_argument, NULL, O_DUR },
	{ "timeout", required_argument, NULL, O_TMO },
	{ "slow-ms", required_argument, NULL, O_SLOW },
	{ "idle-ms", required_argument, NULL, O_IDLE },
	{ "size", required_argument, NULL, O_SIZE },
	{ "expect", required_argument, NULL, O_EXPECT },
	{ "show-errors", required_argument, NULL, O_SHOW },
	{ "csv", required_argument, NULL, O_CSV },
	{ "png", required_argument, NULL, O_PNG },
	{ "vdev", required_argument, NULL, O_VDEV },
	{ "src", required_argument, NULL, O_SRC },
	{ "gw", required_argument, NULL, O_GW },
	{ "queues", required_argument, NULL, O_QUEUES },
	{ "scenario", required_argument, NULL, O_SCENARIO },
	{ "hold-ms", required_argument, NULL, O_HOLD },
	{ "tls-port", required_argument, NULL, O_TLS_PORT },
	{ "tls-groups", required_argument, NULL, O_TLS_GROUPS },
	{ "tls-cert", required_argument, NULL, O_TLS_CERT },
	{ "print-payload", required_argument, NULL, O_PRINT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int num(const char *s, double lo, double hi, double *v)
{
	char *end;

	*v = strtod(s, &end);
	return end != s && *end == '\0' && *v >= lo && *v <= hi ? 0 : -1;
}

/* Applies option id with its argument; 0 or -1 (a bad value). arg must
 * outlive the run. */
static int opt_set(struct load_opts *o, int id, const char *arg)
{
	double v;
	int bad = 0;

	switch (id) {
	case O_MODE:
		o->mode = arg;
		break;
	case O_HOST:
		o->host = arg;
		break;
	case O_PORT:
		bad |= num(arg, 1, 65535, &v);
		o->port = (uint16_t)v;
		break;
	case O_MIX:
		bad |= mix_parse(o, arg) != 0;
		break;
	case O_RATE:
		bad |= num(arg, 0, 1e8, &o->rate);
		break;
	case O_CONC:
		bad |= num(arg, 1, 1 << 20, &v);
		o->conc = (uint32_t)v;
		break;
	case O_DUR:
		bad |= num(arg, 0.1, 86400, &o->duration);
		break;
	case O_TMO:
		bad |= num(arg, 1, 3600000, &v);
		o->timeout_ms = (uint32_t)v;
		break;
	case O_SLOW:
		bad |= num(arg, 0, 60000, &v);
		o->slow_ms = (uint32_t)v;
		break;
	case O_IDLE:
		bad |= num(arg, 0, 3600000, &v);
		o->idle_ms = (uint32_t)v;
		break;
	case O_TLS_PORT:
		bad |= num(arg, 1, 65535, &v);
		o->tls_port = (uint16_t)v;
		break;
	case O_TLS_GROUPS:
		o->tls_groups = arg;
		break;
	case O_TLS_CERT:
		bad |= (o->tls_cert = load_tls_cert_type(arg)) < 0;
		break;
	case O_HOLD:
		bad |= num(arg, 1, 3600000, &v);
		o->hold_ms = (uint32_t)v;
		break;
	case O_SIZE:
		bad |= num(arg, 0, 1 << 30, &v);
		o->body_size = (uint32_t)v;
		break;
	case O_EXPECT:
		bad |= load_expect_parse(o, arg) != 0;
		break;
	case O_SHOW:
		bad |= num(arg, 0, 1e6, &v);
		o->show_errors = (uint32_t)v;
		break;
	case O_CSV:
		o->csv = arg;
		break;
	case O_PNG:
		o->png = arg;
		break;
	case O_VDEV:
		o->eal = arg;
		break;
	case O_SRC:
		o->src = arg;
		break;
	case O_GW:
		o->gw = arg;
		break;
	case O_QUEUES:
		bad |= num(arg, 1, 16, &v);
		o->queues = (uint32_t)v;
		break;
	default:
		return -1;
	}
	return bad ? -1 : 0;
}

/* --scenario FILE: one option a line, "name value" as on the command line
 * without the dashes ("mix http=40,tls=20", "rate 500", "expect http=500");
 * blank lines and lines starting with # are skipped. 0 or -1 (printed). */
static int scenario_read(struct load_opts *o, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int no = 0;

	if (f == NULL) {
		fprintf(stderr, "bulwark-load: --scenario %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *name = line, *val, *end;
		const struct option *lo;

		no++;
		line[strcspn(line, "\r\n")] = '\0';
		name += strspn(name, " \t");
		if (*name == '\0' || *name == '#')
			continue;
		val = name + strcspn(name, " \t");
		if (*val != '\0')
			*val++ = '\0';
		val += strspn(val, " \t");
		for (end = val + strlen(val); end > val && (end[-1] == ' ' || end[-1] == '\t');)
			*--end = '\0';
		for (lo = lopts; lo->name != NULL; lo++)
			if (strcmp(lo->name, name) == 0 && lo->has_arg == required_argument &&
			    lo->val != O_SCENARIO)
				break;
		if (lo->name == NULL || (val = strdup(val)) == NULL ||
		    opt_set(o, lo->val, val) != 0) {
			fprintf(stderr, "bulwark-load: %s:%d: bad option or value: %s\n", path, no,
				name);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/* --print-payload KIND: the octets of the kind's first sending step. */
static int print_payload(const struct load_opts *o, const char *kind)
{
	int k = load_kind_find(kind, strlen(kind));

	if (k < 0) {
		fprintf(stderr, "bulwark-load: --print-payload: no kind '%s'\n", kind);
		return 2;
	}
	for (int i = 0; i < o->sc[k].n; i++) {
		const struct load_step *p = &o->sc[k].st[i];

		if ((p->op == LOP_SEND || p->op == LOP_SLOW) && p->len != 0)
			return fwrite(p->data, 1, p->len, stdout) == p->len ? 0 : 1;
	}
	fprintf(stderr, "bulwark-load: --print-payload: kind %s sends no payload of its own\n",
		kind);
	return 2;
}

int main(int argc, char **argv)
{
	static struct load_opts o;
	static struct load_stats st;
	int opt, rc;
	uint64_t errors;

	o.mode = "socket";
	o.port = 25;
	o.conc = 256;
	o.duration = 10;
	o.timeout_ms = 5000;
	o.slow_ms = 50;
	o.idle_ms = 2000;
	o.hold_ms = 1000;
	o.tls_port = 465;
	o.body_size = 1000;
	o.show_errors = 5;
	o.queues = 1;
	o.mix[LK_HTTP] = 1;
	load_scripts_init(&o);
	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 0;
		}
		if (opt == O_PRINT)
			return print_payload(&o, optarg);
		if (opt == O_SCENARIO) {
			if (scenario_read(&o, optarg) != 0)
				return 2;
			continue;
		}
		if (opt == '?' || opt_set(&o, opt, optarg) != 0) {
			if (opt != '?')
				fprintf(stderr, "bulwark-load: bad value for --%s: %s\n",
					lopts[opt - O_MODE].name, optarg ? optarg : "");
			usage(stderr);
			return 2;
		}
	}
	if (o.host == NULL) {
		fprintf(stderr, "bulwark-load: --host is required\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (load_stats_init(&st, (uint32_t)o.duration + o.timeout_ms / 1000u + o.idle_ms / 1000u +
				     o.hold_ms / 1000u + o.slow_ms * 20u / 1000u + 30u) != 0) {
		fprintf(stderr, "bulwark-load: out of memory\n");
		return 1;
	}
	if (strcmp(o.mode, "socket") == 0) {
		rc = load_sock_run(&o, &st);
	} else if (strcmp(o.mode, "dpdk") == 0) {
		for (int k = LK_TLS_FIRST; k < LK_COUNT; k++)
			if (o.mix[k] != 0) {
				fprintf(stderr,
					"bulwark-load: the TLS kinds (%s) need --mode socket\n",
					load_kind_names[k]);
				return 2;
			}
#ifdef LOAD_DPDK
		rc = load_dpdk_run(&o, &st, argc - optind + 1, argv + optind - 1);
#else
		fprintf(stderr, "bulwark-load: built without DPDK: --mode dpdk is not available\n");
		return 2;
#endif
	} else {
		fprintf(stderr, "bulwark-load: --mode socket or dpdk, not '%s'\n", o.mode);
		return 2;
	}
	if (rc != 0)
		return 1;
	errors = load_report(&st, &o);
	return errors == 0 ? 0 : 3;
}
