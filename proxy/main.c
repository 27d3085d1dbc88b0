/*
 * main.c — the bulwark binary: command line, configuration, EAL, ports,
 * workers, and the main lcore's control loop (signals, drain, counters).
 *
 * Startup fails fast with one line naming what is wrong; once "ready" is
 * printed the main lcore only sleeps, watches for SIGTERM/SIGINT and, on
 * one, drains (DESIGN §3): every worker answers new and idle sessions with
 * 421 4.3.2, busy ones finish or time out, and the process exits 0 when
 * nothing is left or limits.drain_ms has passed. A second signal ends the
 * drain at once.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_malloc.h>
#include <rte_pdump.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include "config.h"
#include "drv.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "policy.h"
#include "relay.h"
#include "reload.h"
#include "scan.h"
#include "smtp.h"
#include "stats.h"
#include "tls.h"
#include "tls_client.h"
#include "worker.h"

#ifndef BULWARK_VERSION
#define BULWARK_VERSION "unknown"
#endif

#define MAIN_POLL_MS 10

/* The only mutable file-level variables: what the signal handlers touch
 * (SIGTERM/SIGINT, SIGHUP: reload the TLS certificates, SIGUSR1: log the
 * workers' live gauges). */
static volatile sig_atomic_t main_signals;
static volatile sig_atomic_t main_hups;
static volatile sig_atomic_t main_usr1s; /* SIGUSR1: log the gauges and TLS memory */
/* the telemetry command /bulwark/reload (its callback gets no context):
 * bumped by the telemetry thread, read by the main lcore (__atomic) */
static uint32_t main_tele_reloads;

struct main_ctx {
	struct cfg *cfg;
	struct worker_shared sh;
	struct drv_port ports[CFG_PORTS_MAX];
	uint32_t n_open;
	struct net_cookie_secret secret;
	struct worker *workers[DRV_MAX_QUEUES];
	uint16_t n_workers;
	uint16_t n_launched;
	/* relay lcores and their rings (only with backends configured) */
	struct relay_pair *pairs;
	uint32_t n_pairs;
	struct relay *relays[CFG_RELAYS_MAX];
	unsigned rlcore[CFG_RELAYS_MAX];
	uint16_t n_relays, n_rlaunched;
	/* backend reload (main_reload_backends): the relays' configuration
	 * when it is not cfg (NULL), and the one published to them and not
	 * yet acknowledged by all */
	struct cfg *rcfg, *rcfg_next;
	int eal_up;
	/* one TLS context per distinct (cert, key, min_version) */
	struct tls_ctx *tls_own[CFG_LISTENERS_MAX];
	uint8_t tls_li[CFG_LISTENERS_MAX]; /* a listener of each, for its files */
	uint32_t n_tls;
	/* observability (stats.h, metrics.h) */
	struct stats_src src;
	struct metrics metrics;
	struct stats_junk junk;
	int tel_up, pdump_up;
	/* lists and per-client limits (policy.h), published to the workers
	 * with RCU (reload.h); first: built by load_config, not yet published */
	struct policy *first;
	struct reload policy;
	uint32_t policy_gen;
	uint64_t policy_freed; /* reload.freed last logged */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bulwark -c FILE [--check-config]\n"
		   "       bulwark --help | --version\n"
		   "\n"
		   "Kernel-bypass SMTP front proxy (DPDK). Runs in the foreground and logs\n"
		   "key=value lines to stderr; prints a line with 'ready' once every port and\n"
		   "worker is up; SIGTERM or SIGINT drains gracefully (limits.drain_ms) and\n"
		   "exits 0; SIGHUP (or the telemetry command /bulwark/reload) reloads the TLS\n"
		   "certificates and keys, the allow/deny lists, client_limits and the\n"
		   "backends (relay.* knobs too; other changes need a restart and are\n"
		   "logged); SIGUSR1 logs the gauges and each worker's TLS memory.\n"
		   "\n"
		   "  -c, --config FILE   the configuration (libconfig; see config/bulwark.conf)\n"
		   "      --check-config  validate FILE and exit: 0 valid, 1 with the problem\n"
		   "  -h, --help          this text\n"
		   "  -V, --version       the version\n"
		   "\n"
		   "Environment: BULWARK_SIMD=scalar|sse42|avx2|avx512 overrides smtp.simd.\n");
}

/* For msg="...": the messages quote config values with '"'. */
static const char *unquote(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '"')
			*p = '\'';
	return s;
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		main_hups++;
	else if (sig == SIGUSR1)
		main_usr1s++;
	else
		main_signals++;
}

/* ---- checks the parser cannot make (what this build can run) ------------ */

/*
 * The EAL probes every PCI device it may use unless told otherwise: without
 * --no-pci and without an allow list a run could take over the NIC the
 * operator is logged in through. Returns 0 or -EINVAL with err.
 */
static int check_eal(const struct cfg *c, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < c->eal.argc; i++) {
		const char *a = c->eal.argv[i];

		if (strcmp(a, "--no-pci") == 0 || strcmp(a, "-a") == 0 ||
		    strncmp(a, "--allow", 7) == 0 || (strncmp(a, "-a", 2) == 0 && a[2] != '\0'))
			return 0;
	}
	snprintf(err, errlen,
		 "%s: eal.args: neither --no-pci nor an allow list (-a/--allow PCI address): "
		 "refusing to start, since the EAL would probe every PCI NIC of this machine, "
		 "including the one it is reached through; add \"--no-pci\" for virtual ports "
		 "or \"-a\", \"<PCI address>\" for the NIC Bulwark should own",
		 c->file);
	return -EINVAL;
}

/* Reads each STARTTLS backend's CA file now, before the EAL starts, so
 * a bad path fails at once and names its key (the relay lcores build
 * their own contexts again in relay_init). */
static int check_backend_tls(const struct cfg *c, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < c->n_backends; i++) {
		const struct cfg_backend *b = &c->backends[i];
		struct tls_cctx_conf cc = { .verify = b->tls_verify == CFG_TLS_VERIFY_CA
							  ? TLS_CLI_VERIFY_CA
							  : TLS_CLI_VERIFY_NONE,
					    .ca = b->tls_ca };
		struct tls_cctx *ctx;
		char why[200];
		int rc;

		if (b->tls == CFG_TLS_NONE)
			continue;
		rc = tls_cctx_new(&cc, &ctx, why, sizeof(why));
		if (rc) {
			snprintf(err, errlen, "%s:%u: backends[%u] (%s): %s", c->file, b->line, i,
				 b->name, why);
			return rc;
		}
		tls_cctx_free(ctx);
	}
	return 0;
}

/* What listener l's TLS context is made of: its own cert/key, else
 * tls.cert/tls.key (make_tls at startup, reload_tls on SIGHUP). */
static struct tls_ctx_conf listener_tls_conf(const struct cfg *c, const struct cfg_listener *l)
{
	int own = l->cert[0] != '\0';

	return (struct tls_ctx_conf){
		.cert = own ? l->cert : c->tls.cert,
		.key = own ? l->key : c->tls.key,
		.min_version = c->tls.min_version,
	};
}

/*
 * One TLS context per distinct (cert, key, min_version) among the listeners
 * with tls other than none (their own cert/key, else tls.cert/tls.key),
 * shared by those listeners (m->sh.tls). Certificates and keys are read
 * now, so --check-config catches a bad file too.
 */
static int make_tls(struct main_ctx *m, char *err, size_t errlen)
{
	const struct cfg *c = m->cfg;
	const char *paths[CFG_LISTENERS_MAX][2];

	for (uint32_t i = 0; i < c->n_listeners; i++) {
		const struct cfg_listener *l = &c->listeners[i];
		int own = l->cert[0] != '\0';
		struct tls_ctx_conf tc = listener_tls_conf(c, l);
		char why[512] = "";
		int rc;

		paths[i][0] = tc.cert;
		paths[i][1] = tc.key;
		if (l->tls == CFG_TLS_NONE)
			continue;
		for (uint32_t j = 0; j < i && m->sh.tls[i] == NULL; j++)
			if (m->sh.tls[j] != NULL && strcmp(paths[j][0], tc.cert) == 0 &&
			    strcmp(paths[j][1], tc.key) == 0)
				m->sh.tls[i] = m->sh.tls[j];
		if (m->sh.tls[i] != NULL)
			continue;
		rc = tls_ctx_new(&tc, &m->sh.tls[i], why, sizeof(why));
		if (rc != 0) {
			snprintf(err, errlen, "%s:%u: listeners[%u] (port %u): %s: %s", c->file,
				 l->line, i, l->port,
				 own ? "listeners.cert/key" : "tls.cert/tls.key", why);
			m->sh.tls[i] = NULL;
			return rc;
		}
		m->tls_li[m->n_tls] = (uint8_t)i;
		m->tls_own[m->n_tls++] = m->sh.tls[i];
	}
	return 0;
}

/* SIGHUP: every TLS context reads its files again; new sessions get the
 * new certificate, live ones keep theirs (tls_ctx_reload). A file that
 * fails leaves that context as it was. */
static void reload_tls(struct main_ctx *m)
{
	const struct cfg *c = m->cfg;

	for (uint32_t k = 0; k < m->n_tls; k++) {
		const struct cfg_listener *l = &c->listeners[m->tls_li[k]];
		struct tls_ctx_conf tc = listener_tls_conf(c, l);
		char why[512] = "";
		int rc = tls_ctx_reload(m->tls_own[k], &tc, why, sizeof(why));

		if (rc == 0)
			log_kv(LOG_LVL_INFO, "event=tls_reload port=%u cert=%s generation=%u",
			       l->port, tc.cert, tls_ctx_generation(m->tls_own[k]));
		else
			log_kv(LOG_LVL_ERR, "event=tls_reload_failed port=%u msg=\"%s\"", l->port,
			       unquote(why));
	}
}

static void free_tls(struct main_ctx *m)
{
	for (uint32_t i = 0; i < m->n_tls; i++)
		tls_ctx_free(m->tls_own[i]);
	m->n_tls = 0;
	memset(m->sh.tls, 0, sizeof(m->sh.tls));
}

/* Listener i's configuration while shedding (proxy/sess_shed.c): the
 * same, with limits.shed_timeout_ms as command timeout and greeting wait
 * (when shorter) and error_limit 1. */
static int make_shed_cfg(struct main_ctx *m, uint32_t i, char *err, size_t errlen)
{
	const struct cfg_limits *l = &m->cfg->limits;
	struct smtp_cfg *s = &m->sh.smtp_shed[i];
	const char *why = NULL;

	*s = m->sh.smtp[i];
	if (s->cmd_timeout_ms > l->shed_timeout_ms)
		s->cmd_timeout_ms = l->shed_timeout_ms;
	if (s->greet_wait_ms > l->shed_timeout_ms)
		s->greet_wait_ms = l->shed_timeout_ms;
	s->error_limit = 1;
	if (smtp_cfg_init(s, &why) != 0) {
		snprintf(err, errlen,
			 "%s: limits.shed_timeout_ms: the shed configuration of "
			 "listeners[%u] is invalid: %s",
			 m->cfg->file, i, why ? why : "?");
		return -EINVAL;
	}
	return 0;
}

/* Loads and validates everything that does not need the EAL. */
static int load_config(struct main_ctx *m, const char *path, char *err, size_t errlen)
{
	const char *simd = getenv("BULWARK_SIMD");
	const struct scan_kernels *scan = NULL;
	int rc;

	if ((rc = cfg_load(m->cfg, path, err, errlen)) != 0 ||
	    (rc = check_eal(m->cfg, err, errlen)) != 0 ||
	    (rc = check_backend_tls(m->cfg, err, errlen)) != 0)
		return rc;
	if (simd != NULL && *simd) {
		int e = 0;

		scan = scan_pick(simd, &e);
		if (scan == NULL) {
			snprintf(err, errlen, "BULWARK_SIMD=%s: %s", simd,
				 e == -ENOTSUP ? "not supported by this CPU or build" : "unknown");
			return -EINVAL;
		}
	}
	for (uint32_t i = 0; i < m->cfg->n_listeners; i++)
		if ((rc = cfg_smtp_fill(m->cfg, &m->cfg->listeners[i], scan, &m->sh.smtp[i], err,
					errlen)) != 0 ||
		    (rc = make_shed_cfg(m, i, err, errlen)) != 0)
			return rc;
	if ((rc = make_tls(m, err, errlen)) != 0)
		return rc;
	m->first = policy_build(m->cfg, 1, err, errlen);
	return m->first != NULL ? 0 : -EINVAL;
}

/* SIGHUP: the file is read again; its lists and client_limits become a
 * new policy object, published to the workers (reload.h); the old one is
 * freed by reclaim_policy() once every worker reported quiescent. A file
 * that fails keeps the old policy. Live sessions are not touched. */
static void reload_policy(struct main_ctx *m, const struct cfg *c)
{
	char err[CFG_ERR_MAX + 256] = "";
	struct policy *p;
	int rc;

	if (m->policy.qs == NULL)
		return;
	if ((p = policy_build(c, m->policy_gen + 1, err, sizeof(err))) == NULL) {
		log_kv(LOG_LVL_ERR, "event=policy_reload_failed generation=%u msg=\"%s\"",
		       m->policy_gen, unquote(err));
		return;
	}
	if (c->client_limits.table_size != m->cfg->client_limits.table_size)
		log_kv(LOG_LVL_WARN, "event=policy_reload msg=\"client_limits.table_size changes "
				     "only at a restart\"");
	if ((rc = reload_publish(&m->policy, p)) != 0) {
		log_kv(LOG_LVL_ERR,
		       "event=policy_reload_failed generation=%u msg=\"%u old policies still "
		       "wait for a worker to report quiescent\"",
		       m->policy_gen, m->policy.n_pending);
		policy_free(p);
	} else {
		m->policy_gen = p->generation;
		log_kv(LOG_LVL_INFO,
		       "event=policy_reload generation=%u allow=%u deny=%u sessions=%u rate=%u "
		       "errors_per_min=%u action=%s pending=%u",
		       p->generation, p->allow ? p->allow->entries : 0,
		       p->deny ? p->deny->entries : 0, p->lim.sessions, p->lim.rate,
		       p->lim.errors_per_min, p->action == CFG_LIMIT_DROP ? "drop" : "reply",
		       m->policy.n_pending);
	}
}

/* Frees the old policies whose grace period ended (never blocks). */
static void reclaim_policy(struct main_ctx *m)
{
	uint32_t left;

	if (m->policy.qs == NULL || m->policy.n_pending == 0)
		return;
	left = reload_reclaim(&m->policy);
	if (m->policy.freed != m->policy_freed) {
		log_kv(LOG_LVL_INFO, "event=policy_freed freed=%lu pending=%u",
		       (unsigned long)(m->policy.freed - m->policy_freed), left);
		m->policy_freed = m->policy.freed;
	}
}

/* ---- startup ------------------------------------------------------------- */

static int start_eal(struct main_ctx *m, char *err, size_t errlen)
{
	static char prog[] = "bulwark";
	char *argv[CFG_EAL_ARGS_MAX + 2];
	int argc = 0, rc;
	unsigned relays;

	argv[argc++] = prog;
	for (uint32_t i = 0; i < m->cfg->eal.argc; i++)
		argv[argc++] = m->cfg->eal.argv[i];
	argv[argc] = NULL;
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		snprintf(err, errlen, "%s: eal.args: EAL initialisation failed: %s", m->cfg->file,
			 rte_strerror(rte_errno));
		return -EINVAL;
	}
	m->eal_up = 1;
	relays = m->cfg->n_backends ? m->cfg->relay.lcores : 0;
	if (rte_lcore_count() < (unsigned)m->cfg->workers.count + relays + 1) {
		snprintf(err, errlen,
			 "%s: workers.count = %u and relay.lcores = %u need %u lcores (main + "
			 "workers + relays), eal.args gives %u (-l or --lcores, e.g. "
			 "--lcores=0@0,1@1,2@0 to share a core)",
			 m->cfg->file, m->cfg->workers.count, relays,
			 m->cfg->workers.count + relays + 1, rte_lcore_count());
		return -EINVAL;
	}
	return 0;
}

static enum drv_want want_of(uint8_t tri)
{
	return tri == CFG_ON ? DRV_ON : tri == CFG_OFF ? DRV_OFF : DRV_AUTO;
}

static int open_ports(struct main_ctx *m, char *err, size_t errlen)
{
	const struct cfg *c = m->cfg;

	for (uint32_t i = 0; i < c->n_ports; i++) {
		const struct cfg_port *cp = &c->ports[i];
		struct drv_port_conf pc = {
			.name = cp->name,
			.devargs = cp->devargs,
			.n_queues = c->workers.count,
			.rx_desc = cp->rx_desc,
			.tx_desc = cp->tx_desc,
			.mbufs = cp->mbufs,
			.mbuf_cache = cp->mbuf_cache,
			.pool_per_queue = cp->pool_per_queue,
			.mtu = cp->mtu,
			.rss = want_of(cp->rss),
			.rss_hash = (enum drv_rss_hash)cp->rss_hash,
			.rss_key = cp->rss_key_len ? cp->rss_key : NULL,
			.rss_key_len = cp->rss_key_len,
			.csum = want_of(cp->csum_offload),
			.promisc = cp->promiscuous,
			.link_wait_ms = cp->link_wait_ms,
			.log = log_drv,
		};
		int rc = drv_port_open(&m->ports[i], &pc, err, errlen);

		if (rc != 0)
			return rc;
		m->n_open = i + 1;
		if (cp->fault.enabled) {
			struct drv_fault_conf fc = {
				.seed = cp->fault.seed,
				.rx = { cp->fault.rx.drop_ppm, cp->fault.rx.reorder_ppm,
					cp->fault.rx.dup_ppm },
				.tx = { cp->fault.tx.drop_ppm, cp->fault.tx.reorder_ppm,
					cp->fault.tx.dup_ppm },
				.reorder_depth = cp->fault.depth,
			};

			m->sh.faults[i] = drv_fault_create(m->ports[i].port_id, c->workers.count,
							   &fc, err, errlen);
			if (m->sh.faults[i] == NULL)
				return -EINVAL;
			log_kv(LOG_LVL_WARN, "event=fault_injection port=%s seed=%lu", cp->name,
			       (unsigned long)cp->fault.seed);
		}
		log_kv(LOG_LVL_INFO,
		       "event=port_up port=%s driver=%s queues=%u mtu=%u sw_cksum=%s "
		       "rss=%s",
		       cp->name, m->ports[i].driver, m->ports[i].n_queues, m->ports[i].mtu,
		       m->ports[i].sw_cksum ? "yes" : "no", m->ports[i].rss_hf ? "yes" : "no");
	}
	return 0;
}

/* The relay lcores' rings and state (before the workers, which need the
 * rings). Nothing without backends: MAIL then gets 421 4.3.0. */
static int make_relays(struct main_ctx *m, char *err, size_t errlen)
{
	const struct cfg *c = m->cfg;
	uint16_t nw = c->workers.count, nr = c->relay.lcores;
	unsigned lcore, skip = nw;
	int rc;

	if (c->n_backends == 0)
		return 0;
	m->n_pairs = (uint32_t)nw * nr;
	m->pairs = rte_zmalloc("bulwark_pairs", sizeof(*m->pairs) * m->n_pairs, 0);
	if (m->pairs == NULL) {
		snprintf(err, errlen, "relay: no memory for %u rings", m->n_pairs);
		return -ENOMEM;
	}
	if ((rc = relay_pairs_create(m->pairs, nw, nr, c->relay.ring_size, c->limits.sessions,
				     SOCKET_ID_ANY, err, errlen)) != 0)
		return rc;
	m->sh.relay_pairs = m->pairs;
	m->sh.n_relays = nr;
	/* relay lcores come after the workers' */
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		struct relay *r;

		if (skip != 0) {
			skip--;
			continue;
		}
		if (m->n_relays == nr)
			break;
		r = rte_zmalloc_socket("bulwark_relay", sizeof(*r), RTE_CACHE_LINE_SIZE,
				       (int)rte_lcore_to_socket_id(lcore));
		if (r == NULL) {
			snprintf(err, errlen, "relay %u: no memory", m->n_relays);
			return -ENOMEM;
		}
		m->relays[m->n_relays++] = r;
		if ((rc = relay_init(r, c, m->pairs, nw, nr, (uint16_t)(m->n_relays - 1), err,
				     errlen)) != 0) {
			rte_free(r);
			m->n_relays--;
			return rc;
		}
		m->rlcore[m->n_relays - 1] = lcore;
	}
	return 0;
}

static int start_workers(struct main_ctx *m, char *err, size_t errlen)
{
	uint64_t now = worker_now_ms();
	unsigned lcore;
	uint16_t id = 0;
	int rc;

	m->sh.cfg = m->cfg;
	m->sh.ports = m->ports;
	m->sh.secret = &m->secret;
	if ((rc = reload_init(&m->policy, m->cfg->workers.count, m->first, policy_free)) != 0) {
		snprintf(err, errlen, "policy: RCU setup failed: %s", strerror(-rc));
		return rc;
	}
	m->first = NULL; /* owned by m->policy now */
	m->policy_gen = 1;
	m->sh.policy = &m->policy;
	if ((rc = make_relays(m, err, errlen)) != 0)
		return rc;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		struct worker *w;

		if (id == m->cfg->workers.count)
			break;
		w = rte_zmalloc_socket("bulwark_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
				       (int)rte_lcore_to_socket_id(lcore));
		if (w == NULL) {
			snprintf(err, errlen, "worker %u: no memory", id);
			return -ENOMEM;
		}
		m->workers[id] = w;
		m->n_workers = (uint16_t)(id + 1);
		if ((rc = worker_init(w, &m->sh, id, lcore, now, err, errlen)) != 0)
			return rc;
		id++;
	}
	for (uint16_t i = 0; i < m->n_relays; i++) {
		struct relay *r = m->relays[i];

		if ((rc = rte_eal_remote_launch(relay_main, r, m->rlcore[i])) != 0) {
			snprintf(err, errlen, "relay %u: cannot launch on lcore %u: %s", i,
				 m->rlcore[i], strerror(-rc));
			return rc;
		}
		m->n_rlaunched = (uint16_t)(i + 1);
		log_kv(LOG_LVL_INFO, "event=relay_up relay=%u lcore=%u backends=%u", i,
		       m->rlcore[i], m->cfg->n_backends);
	}
	for (uint16_t i = 0; i < m->n_workers; i++) {
		struct worker *w = m->workers[i];

		if ((rc = rte_eal_remote_launch(worker_main, w, w->lcore)) != 0) {
			snprintf(err, errlen, "worker %u: cannot launch on lcore %u: %s", i,
				 w->lcore, strerror(-rc));
			return rc;
		}
		m->n_launched = (uint16_t)(i + 1);
		log_kv(LOG_LVL_INFO, "event=worker_up worker=%u lcore=%u socket=%d sessions=%u", i,
		       w->lcore, w->socket, w->n_sess);
	}
	return 0;
}

static void fault_stats_log(const char *port, const struct drv_fault *f)
{
	struct drv_fault_stats st;

	drv_fault_stats(f, &st);
	log_kv(LOG_LVL_INFO,
	       "event=fault_stats port=%s rx_in=%lu rx_dropped=%lu rx_reordered=%lu "
	       "rx_duplicated=%lu tx_in=%lu tx_dropped=%lu tx_reordered=%lu tx_duplicated=%lu "
	       "tx_full=%lu",
	       port, (unsigned long)st.rx.in, (unsigned long)st.rx.dropped,
	       (unsigned long)st.rx.reordered, (unsigned long)st.rx.duplicated,
	       (unsigned long)st.tx.in, (unsigned long)st.tx.dropped,
	       (unsigned long)st.tx.reordered, (unsigned long)st.tx.duplicated,
	       (unsigned long)st.tx.tx_full);
}

/*
 * The live readers (stats.h): the /metrics endpoint, the telemetry
 * commands, and rte_pdump so that dpdk-dumpcap can attach (a secondary
 * process: it needs a primary started without --in-memory). Returns 0 or
 * -errno with err.
 */
static int start_obs(struct main_ctx *m, char *err, size_t errlen)
{
	int rc;

	m->src = (struct stats_src){
		.cfg = m->cfg,
		.workers = m->workers,
		.n_workers = m->n_workers,
		.relays = m->relays,
		.n_relays = m->n_relays,
		.ports = m->ports,
		.n_ports = m->n_open,
	};
	stats_junk_summary(&m->src, &m->junk, 0, 0); /* learns the start */
	if ((rc = metrics_telemetry_start(&m->src)) != 0) {
		snprintf(err, errlen, "telemetry: cannot register /bulwark/ commands: %s",
			 strerror(-rc));
		return rc;
	}
	m->tel_up = 1;
	if (rte_pdump_init() != 0) {
		snprintf(err, errlen, "rte_pdump_init failed: %s", rte_strerror(rte_errno));
		return -EINVAL;
	}
	m->pdump_up = 1;
	if ((rc = metrics_start(&m->metrics, &m->src, &m->cfg->metrics, err, errlen)) != 0)
		return rc;
	if (m->cfg->metrics.port != 0) {
		char ip[INET_ADDRSTRLEN];
		struct in_addr a = { .s_addr = m->cfg->metrics.addr };

		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		log_kv(LOG_LVL_INFO, "event=metrics_up listen=%s:%u max_clients=%u timeout_s=%u",
		       ip, m->cfg->metrics.port, m->cfg->metrics.max_clients,
		       m->cfg->metrics.timeout_s);
	}
	return 0;
}

/* Stops the workers, then the relays, prints the counters, frees
 * everything. */
static void shutdown_all(struct main_ctx *m, int print)
{
	/* the readers first: nothing may read a worker being freed */
	metrics_stop(&m->metrics);
	if (m->tel_up)
		metrics_telemetry_stop();
	m->tel_up = 0;
	if (m->pdump_up)
		rte_pdump_uninit();
	m->pdump_up = 0;
	for (uint16_t i = 0; i < m->n_launched; i++)
		__atomic_store_n(&m->workers[i]->ctl_stop, 1, __ATOMIC_RELEASE);
	for (uint16_t i = 0; i < m->n_launched; i++)
		rte_eal_wait_lcore(m->workers[i]->lcore);
	for (uint16_t i = 0; i < m->n_rlaunched; i++)
		__atomic_store_n(&m->relays[i]->ctl_stop, 1, __ATOMIC_RELEASE);
	for (uint16_t i = 0; i < m->n_rlaunched; i++)
		rte_eal_wait_lcore(m->rlcore[i]);
	if (print) /* the last interval's junk */
		stats_junk_summary(&m->src, &m->junk, m->cfg->log.junk_interval_s,
				   m->cfg->log.junk_samples);
	for (uint16_t i = 0; i < m->n_workers; i++) {
		if (print)
			worker_stats_log(m->workers[i]);
		worker_destroy(m->workers[i]);
		rte_free(m->workers[i]);
	}
	for (uint16_t i = 0; i < m->n_relays; i++) {
		if (print)
			relay_stats_log(m->relays[i]);
		relay_destroy(m->relays[i]);
		rte_free(m->relays[i]);
	}
	if (m->pairs != NULL) {
		relay_pairs_free(m->pairs, m->n_pairs);
		rte_free(m->pairs);
	}
	for (uint32_t i = 0; i < m->n_open; i++) {
		if (print && m->sh.faults[i] != NULL)
			fault_stats_log(m->cfg->ports[i].name, m->sh.faults[i]);
		drv_fault_destroy(m->sh.faults[i]);
		drv_port_close(&m->ports[i]);
	}
	reload_fini(&m->policy);
	policy_free(m->first);
	m->first = NULL;
	if (m->eal_up)
		rte_eal_cleanup();
}

/* ---- backend reload (SIGHUP) --------------------------------------------- */

/*
 * What a reload cannot change while Bulwark runs: each section of c that
 * differs from n (line numbers aside) is logged as needing a restart and
 * ignored. Returns how many differ.
 */
static int reload_fixed(const struct cfg *c, const struct cfg *n)
{
	struct cfg_port pa[CFG_PORTS_MAX], pb[CFG_PORTS_MAX];
	struct cfg_listener la[CFG_LISTENERS_MAX], lb[CFG_LISTENERS_MAX];
	struct {
		const char *key;
		int differs;
	} t[] = {
		{ "eal", memcmp(&c->eal, &n->eal, sizeof(c->eal)) != 0 },
		{ "ports", c->n_ports != n->n_ports },
		{ "listeners", c->n_listeners != n->n_listeners },
		{ "workers", memcmp(&c->workers, &n->workers, sizeof(c->workers)) != 0 },
		{ "limits", memcmp(&c->limits, &n->limits, sizeof(c->limits)) != 0 },
		{ "smtp", memcmp(&c->smtp, &n->smtp, sizeof(c->smtp)) != 0 },
		{ "tls", memcmp(&c->tls, &n->tls, sizeof(c->tls)) != 0 },
		{ "relay.lcores", c->relay.lcores != n->relay.lcores },
		{ "relay.ring_size", c->relay.ring_size != n->relay.ring_size },
		/* no relay lcore runs without backends (make_relays) */
		{ "backends (none to some or back)", !c->n_backends != !n->n_backends },
	};
	int k = 0;

	if (!t[1].differs) {
		memcpy(pa, c->ports, sizeof(pa));
		memcpy(pb, n->ports, sizeof(pb));
		for (uint32_t i = 0; i < CFG_PORTS_MAX; i++)
			pa[i].line = pb[i].line = 0;
		t[1].differs = memcmp(pa, pb, sizeof(pa)) != 0;
	}
	if (!t[2].differs) {
		memcpy(la, c->listeners, sizeof(la));
		memcpy(lb, n->listeners, sizeof(lb));
		for (uint32_t i = 0; i < CFG_LISTENERS_MAX; i++)
			la[i].line = lb[i].line = 0;
		t[2].differs = memcmp(la, lb, sizeof(la)) != 0;
	}
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].differs) {
			log_kv(LOG_LVL_WARN,
			       "event=reload_needs_restart key=%s msg=\"changed in %s: needs a "
			       "restart, the running value stays\"",
			       t[i].key, c->file);
			k++;
		}
	return k;
}

/*
 * SIGHUP: reads the config file again and hands its backend set
 * (backends[], relay.balance, the relay's timeouts and health knobs) to
 * every relay lcore through relay.ctl_cfg. A file that does not load
 * changes nothing. The relays swap at a safe point of their loop
 * (relay_reload) and acknowledge; the set they had is freed only once
 * every one of them has (main_reload_poll): that is the grace period of
 * a quiescent-state scheme, with one explicit ack word per relay instead
 * of rte_rcu, since each relay must also rewrite its own state at the
 * swap, which a plain quiescent-state report would not do. One reload at
 * a time: a SIGHUP during one is taken after it.
 */
static void main_reload_backends(struct main_ctx *m, struct cfg *n)
{
	const struct cfg *cur = m->rcfg ? m->rcfg : m->cfg;
	struct cfg *rc;

	reload_fixed(m->cfg, n);
	if (m->n_relays == 0 || !n->n_backends) {
		free(n);
		return;
	}
	/* What the relays run: the running configuration (the workers'),
	 * with the new file's backend set. */
	rc = n;
	{
		struct cfg_backend be[CFG_BACKENDS_MAX];
		uint32_t nb = n->n_backends;
		struct cfg_relay rl = n->relay;

		memcpy(be, n->backends, sizeof(be));
		memcpy(rc, m->cfg, sizeof(*rc));
		memcpy(rc->backends, be, sizeof(be));
		rc->n_backends = nb;
		rl.lcores = m->cfg->relay.lcores;
		rl.ring_size = m->cfg->relay.ring_size;
		rc->relay = rl;
	}
	if (memcmp(rc->backends, cur->backends, sizeof(rc->backends)) == 0 &&
	    rc->n_backends == cur->n_backends &&
	    memcmp(&rc->relay, &cur->relay, sizeof(rc->relay)) == 0) {
		log_kv(LOG_LVL_INFO, "event=backend_reload backends=%u msg=\"unchanged\"",
		       rc->n_backends);
		free(rc);
		return;
	}
	/* The client TLS contexts of the new set, one per relay as at
	 * startup, made here (they read the CA files) and handed with it in
	 * ctl_tls (written before the release store of ctl_cfg; no relay
	 * touches ctl_tls between two reloads). A file that does not load
	 * keeps the running set. */
	for (uint16_t i = 0; i < m->n_rlaunched; i++) {
		char err[CFG_ERR_MAX + 256] = "";

		if (relay_tls_build(rc, m->relays[i]->ctl_tls, err, sizeof(err)) != 0) {
			log_kv(LOG_LVL_ERR,
			       "event=reload_failed key=backends msg=\"%s\" kept=\"the running "
			       "backends\"",
			       unquote(err));
			while (i-- > 0)
				relay_tls_free(m->relays[i]->ctl_tls);
			free(rc);
			return;
		}
	}
	m->rcfg_next = rc;
	for (uint16_t i = 0; i < m->n_rlaunched; i++)
		__atomic_store_n(&m->relays[i]->ctl_cfg, rc, __ATOMIC_RELEASE);
	log_kv(LOG_LVL_INFO, "event=backend_reload backends=%u relays=%u", rc->n_backends,
	       m->n_rlaunched);
}

/* SIGHUP and /bulwark/reload: the certificates (each TLS context reads
 * its files), then the file once for the lists and client_limits (RCU to
 * the workers) and the backend set (to the relays). A file that does not
 * load changes none of those. */
static void main_reload(struct main_ctx *m)
{
	char err[CFG_ERR_MAX + 256] = "";
	struct cfg *n = calloc(1, sizeof(*n));
	int e = n ? cfg_load(n, m->cfg->file, err, sizeof(err)) : -ENOMEM;

	reload_tls(m);
	if (e != 0) {
		log_kv(LOG_LVL_ERR,
		       "event=reload_failed msg=\"%s\" kept=\"the running configuration\"",
		       n ? unquote(err) : "out of memory");
		free(n);
		return;
	}
	reload_policy(m, n);
	main_reload_backends(m, n); /* keeps n or frees it */
}

/* /bulwark/reload: the same as SIGHUP, on the main lcore's next poll. */
static int main_tele_reload(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	__atomic_add_fetch(&main_tele_reloads, 1, __ATOMIC_RELEASE);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(
	    d, "reload", "queued: see the log (event=policy_reload, event=backend_reload)");
	return 0;
}

/* Frees the relays' previous backend set once every relay has taken the
 * new one. Returns 1 while a reload is still pending. */
static int main_reload_poll(struct main_ctx *m)
{
	if (m->rcfg_next == NULL)
		return 0;
	for (uint16_t i = 0; i < m->n_rlaunched; i++)
		if (__atomic_load_n(&m->relays[i]->ack_cfg, __ATOMIC_ACQUIRE) != m->rcfg_next)
			return 1;
	/* every relay adopted the new contexts: the ones each left in
	 * ctl_tls are no longer picked (sessions in TLS keep theirs alive) */
	for (uint16_t i = 0; i < m->n_rlaunched; i++)
		relay_tls_free(m->relays[i]->ctl_tls);
	free(m->rcfg);
	m->rcfg = m->rcfg_next;
	m->rcfg_next = NULL;
	log_kv(LOG_LVL_INFO, "event=backend_reload_done backends=%u", m->rcfg->n_backends);
	return 0;
}

/* ---- gauges and shedding, seen from the main lcore ------------------------ */

static void mempool_gauge(struct rte_mempool *mp, void *arg)
{
	(void)arg;
	log_kv(LOG_LVL_INFO, "event=mempool_gauge pool=%s size=%u in_use=%u", mp->name, mp->size,
	       rte_mempool_in_use_count(mp));
}

/* SIGUSR1: one event=worker_gauges line per worker, one event=mempool_gauge
 * per DPDK mempool (mbufs, relay messages, ...), one event=ring_gauges per
 * (worker, relay) pair, then the process's (jemalloc's allocated bytes):
 * what the soak test compares. */
static void main_gauges_log(const struct main_ctx *m)
{
	size_t je = 0, cached = 0;
	int rc = tls_mem_process_bytes(&je, &cached);

	for (uint16_t i = 0; i < m->n_launched; i++)
		worker_gauges_log(m->workers[i]);
	rte_mempool_walk(mempool_gauge, NULL);
	for (uint32_t i = 0; i < m->n_pairs; i++)
		log_kv(LOG_LVL_INFO, "event=ring_gauges pair=%u w2r=%u r2w=%u", i,
		       rte_ring_count(m->pairs[i].w2r), rte_ring_count(m->pairs[i].r2w));
	if (rc == 0)
		log_kv(LOG_LVL_INFO,
		       "event=process_gauges jemalloc_allocated=%lu jemalloc_tcache=%lu "
		       "jemalloc_live=%lu",
		       (unsigned long)je, (unsigned long)cached,
		       (unsigned long)(je > cached ? je - cached : 0));
	else
		log_kv(LOG_LVL_INFO, "event=process_gauges jemalloc_allocated=unavailable");
}

/* Logs every change of a worker's shed level (the workers never log). */
static void main_shed_watch(const struct main_ctx *m, uint8_t *seen)
{
	for (uint16_t i = 0; i < m->n_launched; i++) {
		uint8_t lvl = __atomic_load_n(&m->workers[i]->pub_shed, __ATOMIC_RELAXED);

		if (lvl == seen[i])
			continue;
		log_kv(lvl ? LOG_LVL_WARN : LOG_LVL_INFO,
		       "event=shed worker=%u level=%u was=%u pressure=%u", i, lvl, seen[i],
		       __atomic_load_n(&m->workers[i]->pub_pressure, __ATOMIC_RELAXED));
		seen[i] = lvl;
	}
}

/* ---- the control loop ---------------------------------------------------- */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void random_key(uint64_t key[2])
{
	if (getrandom(key, 2 * sizeof(uint64_t), 0) != 2 * sizeof(uint64_t)) {
		key[0] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
		key[1] = (uint64_t)clock() ^ 0xda942042e4dd58b5ull;
	}
}

static void drain(struct main_ctx *m)
{
	uint64_t t0 = worker_now_ms(), limit = m->cfg->limits.drain_ms;
	sig_atomic_t seen = main_signals;
	const char *why = "quiet";
	uint32_t left = 0;

	log_kv(LOG_LVL_INFO, "event=drain_start drain_ms=%lu", (unsigned long)limit);
	for (uint16_t i = 0; i < m->n_workers; i++)
		__atomic_store_n(&m->workers[i]->ctl_drain, 1, __ATOMIC_RELEASE);
	for (;;) {
		int quiet = 1;

		left = 0;
		for (uint16_t i = 0; i < m->n_workers; i++) {
			left += __atomic_load_n(&m->workers[i]->pub_live, __ATOMIC_RELAXED);
			quiet &= __atomic_load_n(&m->workers[i]->pub_quiet, __ATOMIC_ACQUIRE);
		}
		if (quiet)
			break;
		if (worker_now_ms() - t0 >= limit) {
			why = "timeout";
			break;
		}
		if (main_signals != seen) {
			why = "signal";
			break;
		}
		sleep_ms(MAIN_POLL_MS);
	}
	log_kv(LOG_LVL_INFO, "event=drain_end reason=%s sessions_left=%u elapsed_ms=%lu", why, left,
	       (unsigned long)(worker_now_ms() - t0));
}

static void run(struct main_ctx *m)
{
	time_t rotated = time(NULL);
	sig_atomic_t hups = main_hups, usr1s = main_usr1s;
	uint32_t tele = __atomic_load_n(&main_tele_reloads, __ATOMIC_ACQUIRE);
	uint8_t shed[DRV_MAX_QUEUES] = { 0 };
	uint64_t junk_at = worker_now_ms();

	while (main_signals == 0) {
		int pending;

		sleep_ms(MAIN_POLL_MS);
		if (worker_now_ms() - junk_at >= (uint64_t)m->cfg->log.junk_interval_s * 1000) {
			junk_at = worker_now_ms();
			stats_junk_summary(&m->src, &m->junk, m->cfg->log.junk_interval_s,
					   m->cfg->log.junk_samples);
		}
		pending = main_reload_poll(m);
		main_shed_watch(m, shed);
		if (main_usr1s != usr1s) {
			usr1s = main_usr1s;
			main_gauges_log(m);
			for (uint16_t i = 0; i < m->n_workers; i++)
				worker_tls_mem_log(m->workers[i]);
		}
		if ((main_hups != hups ||
		     __atomic_load_n(&main_tele_reloads, __ATOMIC_ACQUIRE) != tele) &&
		    !pending) {
			hups = main_hups;
			tele = __atomic_load_n(&main_tele_reloads, __ATOMIC_ACQUIRE);
			main_reload(m);
		}
		reclaim_policy(m);
		if (time(NULL) - rotated >= (time_t)m->cfg->limits.syncookie_rotate_s) {
			uint64_t key[2];

			random_key(key);
			net_cookie_rotate(&m->secret, key);
			rotated = time(NULL);
		}
	}
	drain(m);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct main_ctx m = { 0 };
	const char *path = NULL;
	char err[CFG_ERR_MAX + 256] = "";
	int check = 0, opt, rc;
	uint64_t key[2];
	struct sigaction sa;

	while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("bulwark %s\n", BULWARK_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* before the EAL and any OpenSSL call: OpenSSL on jemalloc arenas */
	if (tls_mem_init() != 0)
		log_kv(LOG_LVL_WARN,
		       "event=tls_mem msg=\"OpenSSL allocated before tls_mem_init: it "
		       "stays on libc malloc\"");
	m.cfg = calloc(1, sizeof(*m.cfg));
	if (m.cfg == NULL) {
		fprintf(stderr, "bulwark: out of memory\n");
		return 1;
	}
	rc = load_config(&m, path, err, sizeof(err));
	if (check) {
		if (rc != 0)
			fprintf(stderr, "bulwark: %s\n", err);
		else
			printf("%s: ok\n", path);
		policy_free(m.first);
		free_tls(&m);
		free(m.cfg);
		return rc != 0;
	}
	if (rc != 0) {
		log_kv(LOG_LVL_ERR, "event=config_error msg=\"%s\"", unquote(err));
		policy_free(m.first);
		free_tls(&m);
		free(m.cfg);
		return 1;
	}
	if (m.cfg->log.target == CFG_LOG_SYSLOG)
		log_to_syslog();
	if (m.cfg->n_backends == 0)
		log_kv(LOG_LVL_WARN, "event=no_backends msg=\"no backends configured: MAIL is "
				     "answered 421 4.3.0\"");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	random_key(key);
	net_cookie_init(&m.secret, key);
	if ((rc = start_eal(&m, err, sizeof(err))) != 0 ||
	    (rc = open_ports(&m, err, sizeof(err))) != 0 ||
	    (rc = start_workers(&m, err, sizeof(err))) != 0 ||
	    (rc = start_obs(&m, err, sizeof(err))) != 0) {
		log_kv(LOG_LVL_ERR, "event=startup_failed msg=\"%s\"", unquote(err));
		shutdown_all(&m, 0);
		free_tls(&m);
		free(m.cfg);
		return 1;
	}
	/* without --no-telemetry in eal.args: `/bulwark/reload` on the
	 * telemetry socket does what SIGHUP does */
	rte_telemetry_register_cmd(
	    "/bulwark/reload", main_tele_reload,
	    "Reloads TLS certificates, allow/deny lists, client_limits and the "
	    "backend set, as SIGHUP does");
	log_kv(LOG_LVL_INFO,
	       "event=ready version=%s ports=%u workers=%u relays=%u backends=%u listeners=%u "
	       "pid=%d",
	       BULWARK_VERSION, m.n_open, m.n_workers, m.n_relays, m.cfg->n_backends,
	       m.cfg->n_listeners, (int)getpid());
	if (m.cfg->log.target == CFG_LOG_SYSLOG) /* DESIGN §4: "ready" where it was started */
		fprintf(stderr, "level=info event=ready pid=%d log_target=syslog\n", (int)getpid());
	run(&m);
	shutdown_all(&m, 1);
	log_kv(LOG_LVL_INFO, "event=exit status=0");
	free(m.rcfg_next); /* the relays are stopped: whichever set they had */
	free(m.rcfg);
	free_tls(&m);
	free(m.cfg);
	return 0;
}
