/*
 * test_config.c — proxy/config.c: the shipped files validate, and each kind
 * of broken file fails with a message naming the file:line and the key.
 *
 * argv[1]: the config/ directory of the source tree.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "smtp.h"

static struct cfg cfg; /* ~35 KiB: not on the stack */

/* err must contain needle. */
#define CHECK_ERR(err, needle)                                                                     \
	do {                                                                                       \
		if (!check_one(strstr((err), (needle)) != NULL, "error text has " #needle,         \
			       __FILE__, __LINE__) &&                                              \
		    check_show())                                                                  \
			fprintf(stderr, "  error text: \"%s\"\n", (err));                          \
	} while (0)

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Replaces every from with to in s (to no longer than from + 64). */
static char *replace(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	char *out, *o, *p;

	for (p = s; (p = strstr(p, from)); p += fl)
		n++;
	out = calloc(1, strlen(s) + n * (tl + 1) + 1);
	if (!out)
		return s;
	for (o = out, p = s;;) {
		char *q = strstr(p, from);

		if (!q) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
		p = q + fl;
	}
	free(s);
	return out;
}

static void test_lab(const char *dir)
{
	char path[512], err[CFG_ERR_MAX] = "";
	struct smtp_cfg sc;
	int has_inmem = 0, has_nopci = 0, has_prefix = 0;

	snprintf(path, sizeof(path), "%s/lab.conf", dir);
	CHECK_EQ(cfg_load(&cfg, path, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "lab.conf: %s\n", err);
	CHECK_EQ(cfg.n_ports, 1);
	CHECK(strcmp(cfg.ports[0].name, "bw0") == 0);
	CHECK(strncmp(cfg.ports[0].devargs, "net_tap", 7) == 0);
	CHECK_EQ(cfg.ports[0].addr, ip("198.18.0.2"));
	CHECK_EQ(cfg.ports[0].prefix, 24);
	CHECK_EQ(cfg.ports[0].gateway, ip("198.18.0.1"));
	CHECK_EQ(cfg.ports[0].rss, CFG_OFF);
	CHECK_EQ(cfg.workers.count, 1);
	CHECK_EQ(cfg.workers.idle_backoff, 1);
	CHECK_EQ(cfg.n_listeners, 1);
	CHECK_EQ(cfg.listeners[0].port, 25);
	CHECK_EQ(cfg.listeners[0].public_mx, 1);
	CHECK_EQ(cfg.listeners[0].tls, CFG_TLS_NONE);
	for (uint32_t i = 0; i < cfg.eal.argc; i++) {
		has_inmem |= strcmp(cfg.eal.argv[i], "--in-memory") == 0;
		has_nopci |= strcmp(cfg.eal.argv[i], "--no-pci") == 0;
		has_prefix |= strncmp(cfg.eal.argv[i], "--file-prefix=", 14) == 0;
	}
	CHECK(has_inmem && has_nopci && has_prefix);
	/* defaults of DESIGN §3 where lab.conf says nothing */
	CHECK_EQ(cfg.smtp.max_rcpts, 1000);
	CHECK_EQ(cfg.smtp.error_limit, 5);
	CHECK_EQ(cfg.smtp.cmd_timeout_ms, 300000);
	CHECK_EQ(cfg.smtp.data_timeout_ms, 180000);
	CHECK_EQ(cfg.smtp.dot_timeout_ms, 600000);
	CHECK_EQ(cfg.smtp.data_policy, 0);
	CHECK_EQ(cfg.smtp.max_data_line, 0);
	CHECK(strcmp(cfg.smtp.simd, "auto") == 0);
	CHECK_EQ(cfg.limits.line_buffers, 0);
	CHECK_EQ(cfg.limits.syncookie_rotate_s, 600);
	/* observability defaults: loopback /metrics, stderr, a summary a minute */
	CHECK_EQ(cfg.metrics.addr, ip("127.0.0.1"));
	CHECK_EQ(cfg.metrics.port, 9890);
	CHECK_EQ(cfg.log.target, CFG_LOG_STDERR);
	CHECK_EQ(cfg.log.sessions, 1);
	CHECK_EQ(cfg.log.junk_interval_s, 60);
	CHECK_EQ(cfg.limits.shed_at, 80);
	CHECK_EQ(cfg.limits.shed_critical_at, 95);
	CHECK_EQ(cfg.limits.shed_timeout_ms, 10000);
	CHECK_EQ(cfg_line_buffers(&cfg.limits),
		 cfg.limits.sessions / 8 < 64 ? 64 : cfg.limits.sessions / 8);
	CHECK_EQ(cfg.limits.auth_line_buffers, 0);
	CHECK_EQ(cfg_auth_line_buffers(&cfg.limits),
		 cfg.limits.sessions / 64 < 16 ? 16 : cfg.limits.sessions / 64);

	/* and the core accepts what it becomes */
	CHECK_EQ(cfg_smtp_fill(&cfg, &cfg.listeners[0], NULL, &sc, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "fill: %s\n", err);
	CHECK(strcmp(sc.hostname, "bulwark.lab") == 0);
	CHECK_EQ(sc.max_rcpts, 1000);
	CHECK_EQ(sc.size_max, 67108864);
	CHECK(sc.caps & SMTP_CAP_PIPELINING);
	CHECK(!(sc.caps & (SMTP_CAP_STARTTLS | SMTP_CAP_AUTH | SMTP_CAP_CHUNKING)));
}

static void test_production(const char *dir)
{
	char path[512], tmp[] = "/tmp/bw-cfg-XXXXXX", cert[600], key[600];
	char err[CFG_ERR_MAX] = "";
	struct smtp_cfg sc;
	char *text;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bulwark.conf", dir);
	/* As shipped it points at /etc/bulwark/tls/, absent here: the only
	 * complaint must be that. */
	if (access("/etc/bulwark/tls/cert.pem", R_OK) != 0) {
		CHECK_EQ(cfg_load(&cfg, path, err, sizeof(err)), -EINVAL);
		CHECK_ERR(err, "tls.cert: cannot read \"/etc/bulwark/tls/cert.pem\"");
	}
	/* With readable files in their place, all of it validates. */
	if (!CHECK(mkdtemp(tmp) != NULL))
		return;
	snprintf(cert, sizeof(cert), "%s/cert.pem", tmp);
	snprintf(key, sizeof(key), "%s/key.pem", tmp);
	if ((f = fopen(cert, "w")))
		fclose(f);
	if ((f = fopen(key, "w")))
		fclose(f);
	text = slurp(path);
	CHECK(text != NULL);
	if (text) {
		text = replace(text, "/etc/bulwark/tls/cert.pem", cert);
		text = replace(text, "/etc/bulwark/tls/key.pem", key);
		CHECK_EQ(cfg_load_string(&cfg, text, "bulwark.conf", err, sizeof(err)), 0);
		if (err[0])
			fprintf(stderr, "bulwark.conf: %s\n", err);
		free(text);
	}
	unlink(cert);
	unlink(key);
	rmdir(tmp);

	CHECK_EQ(cfg.n_ports, 1);
	CHECK_EQ(cfg.ports[0].rss_key_len, 40);
	CHECK_EQ(cfg.ports[0].rss_key[0], 0x6d);
	CHECK_EQ(cfg.ports[0].rss_key[1], 0x5a);
	CHECK_EQ(cfg.n_listeners, 3);
	CHECK_EQ(cfg.listeners[1].port, 587);
	CHECK_EQ(cfg.listeners[1].require_tls, 1);
	CHECK_EQ(cfg.listeners[1].public_mx, 0);
	CHECK(strcmp(cfg.listeners[1].auth, "PLAIN LOGIN") == 0);
	CHECK_EQ(cfg.listeners[2].tls, CFG_TLS_IMPLICIT);
	CHECK_EQ(cfg.workers.count, 4);
	CHECK_EQ(cfg.n_backends, 2);
	CHECK_EQ(cfg.backends[0].proxy_protocol, CFG_PROXY_V2);
	CHECK_EQ(cfg.backends[0].weight, 2);
	CHECK_EQ(cfg.backends[1].xclient, 1);
	CHECK_EQ(cfg.backends[1].port, 25);
	CHECK(strcmp(cfg.backends[1].name, "mta2") == 0);
	CHECK_EQ(cfg.backends[0].tls, CFG_TLS_NONE);
	CHECK_EQ(cfg.backends[1].tls, CFG_TLS_STARTTLS);
	CHECK_EQ(cfg.backends[1].tls_verify, CFG_TLS_VERIFY_CA);
	CHECK(strcmp(cfg.backends[1].tls_ca, "/etc/bulwark/tls/internal-ca.pem") == 0);
	CHECK(strcmp(cfg.backends[1].tls_name, "mta2.internal.example") == 0);
	CHECK_EQ(cfg.tls.min_version, 12);
	CHECK_EQ(cfg.relay.health_fall, 3);
	CHECK_EQ(cfg.metrics.addr, ip("127.0.0.1"));
	CHECK_EQ(cfg.metrics.port, 9890);
	CHECK_EQ(cfg.metrics.max_clients, 8);
	CHECK_EQ(cfg.metrics.timeout_s, 5);
	CHECK_EQ(cfg.log.target, CFG_LOG_STDERR);
	CHECK_EQ(cfg.log.sessions, 1);
	CHECK_EQ(cfg.log.junk_interval_s, 60);
	CHECK_EQ(cfg.log.junk_samples, 4);

	/* submission on 587: STARTTLS + AUTH + require_tls reach the core */
	CHECK_EQ(cfg_smtp_fill(&cfg, &cfg.listeners[1], NULL, &sc, err, sizeof(err)), 0);
	CHECK((sc.caps & SMTP_CAP_STARTTLS) && (sc.caps & SMTP_CAP_AUTH));
	CHECK(sc.require_tls && strcmp(sc.auth_mechs, "PLAIN LOGIN") == 0);
	CHECK_EQ(cfg_smtp_fill(&cfg, &cfg.listeners[2], NULL, &sc, err, sizeof(err)), 0);
	CHECK(sc.tls_implicit && !(sc.caps & SMTP_CAP_STARTTLS));
}

/* Broken files. Each is BASE with lines appended or swapped; line is where
 * the error must point (0: no line, the file as a whole). */
#define PORT                                                                                       \
	"ports = ( { name = \"p0\"; devargs = \"net_ring0\"; address = \"198.18.0.2/24\"; } );\n"
#define LSTN "listeners = ( { port = 25; } );\n"
#define SMTP "smtp = { hostname = \"t.example\"; };\n"
#define BASE PORT LSTN SMTP

static const struct bad {
	const char *text;
	unsigned line;
	const char *key;
	const char *what;
} bad[] = {
	/* wrong types */
	{ PORT LSTN "smtp = {\n hostname = \"t.example\";\n max_rcpts = \"many\";\n};\n", 5,
	  "smtp.max_rcpts", "must be an integer, not a string" },
	{ BASE "limits = { time_wait_ms = 1.5; };\n", 4, "limits.time_wait_ms",
	  "must be an integer, not a float" },
	{ "ports = ( { name = \"p0\"; devargs = \"net_ring0\";\n address = \"198.18.0.2/24\";\n"
	  " rss = \"yes\"; } );\n" LSTN SMTP,
	  3, "ports[0].rss", "true, false or \"auto\"" },
	{ BASE "workers = { idle_backoff = { enabled = 1; }; };\n", 4,
	  "workers.idle_backoff.enabled", "must be true or false" },
	{ BASE "eal = { args = ( \"-l\", 5 ); };\n", 4, "eal.args[1]", "must be a string" },
	{ BASE "workers = 4;\n", 4, "workers", "must be a group" },
	/* out of range */
	{ BASE "limits = {\n linger_ms = 70000;\n};\n", 5, "limits.linger_ms",
	  "70000 is out of range 0..60000" },
	{ BASE "workers = { count = 0; };\n", 4, "workers.count", "out of range 1..64" },
	{ BASE "limits = { line_buffers = 20000000; };\n", 4, "limits.line_buffers",
	  "20000000 is out of range 0..16777216" },
	{ BASE "limits = { auth_line_buffers = 2000000; };\n", 4, "limits.auth_line_buffers",
	  "2000000 is out of range 0..1048576" },
	{ BASE "limits = { auth_line_buffers = -1; };\n", 4, "limits.auth_line_buffers",
	  "out of range" },
	{ BASE "limits = { syncookie_rotate_s = 60; };\n", 4, "limits.syncookie_rotate_s",
	  "60 is out of range 128..86400" },
	{ BASE "limits = { shed_at = 101; };\n", 4, "limits.shed_at", "101 is out of range 0..100" },
	{ BASE "limits = { shed_critical_at = 101; };\n", 4, "limits.shed_critical_at",
	  "101 is out of range 1..100" },
	{ BASE "limits = {\n shed_at = 90;\n shed_critical_at = 85;\n};\n", 6,
	  "limits.shed_critical_at", "shed_critical_at 85 is below shed_at 90" },
	{ BASE "limits = { shed_timeout_ms = 500; };\n", 4, "limits.shed_timeout_ms",
	  "500 is out of range 1000..300000" },
	{ BASE "smtp2 = 1;\n", 4, "smtp2", "unknown key (did you mean 'smtp'?)" },
	{ PORT LSTN "smtp = { hostname = \"t.example\"; max_rcpts = 50; };\n", 3, "smtp.max_rcpts",
	  "RFC 5321 §4.5.3.1.8" },
	{ PORT LSTN "smtp = { hostname = \"t.example\";\n size_max = 2000000000000L; };\n", 4,
	  "smtp.size_max", "out of range" },
	{ PORT LSTN "smtp = { hostname = \"t.example\"; max_data_line = 500; };\n", 3,
	  "smtp.max_data_line", "below 1000" },
	{ PORT LSTN "smtp = { hostname = \"t.example\"; data_policy = \"drop\"; };\n", 3,
	  "smtp.data_policy", "\"drop\" is not one of \"reject\", \"normalize\"" },
	{ PORT LSTN "smtp = { hostname = \"t.example\";\n caps = [ \"SIZE\", \"CHUNKING\" ]; };\n",
	  4, "smtp.caps[1]", "CHUNKING" },
	{ PORT LSTN "smtp = { hostname = \"bad_host!\"; };\n", 3, "smtp.hostname",
	  "not a valid domain" },
	{ BASE "relay = { ring_size = 1000; };\n", 4, "relay.ring_size", "power of two" },
	/* unknown keys: a typo is never ignored */
	{ PORT LSTN "smtp = {\n hostname = \"t.example\";\n max_rcpt = 500;\n};\n", 5,
	  "smtp.max_rcpt", "unknown key (did you mean 'max_rcpts'?)" },
	{ PORT "listener = ( { port = 25; } );\n" SMTP, 2, "listener",
	  "unknown key (did you mean 'listeners'?)" },
	{ BASE "workers = { idle_backoff = {\n sleep = 5; }; };\n", 5, "workers.idle_backoff.sleep",
	  "did you mean 'sleep_us'?" },
	{ "ports = ( { name = \"p0\"; devargs = \"net_ring0\"; address = \"198.18.0.2/24\";\n"
	  " mtu_size = 1500; } );\n" LSTN SMTP,
	  2, "ports[0].mtu_size", "unknown key" },
	/* missing required keys */
	{ "ports = (\n { name = \"p0\"; devargs = \"net_ring0\"; }\n);\n" LSTN SMTP, 2, "ports[0]",
	  "missing required key 'address'" },
	{ PORT "listeners = ( { tls = \"none\"; } );\n" SMTP, 2, "listeners[0]",
	  "missing required key 'port'" },
	{ LSTN SMTP, 0, "", "missing required key 'ports'" },
	{ PORT SMTP, 0, "", "missing required key 'listeners'" },
	{ BASE "backends = ( { port = 25; } );\n", 4, "backends[0]",
	  "missing required key 'address'" },
	/* bad addresses and CIDRs */
	{ "ports = ( { name = \"p0\"; devargs = \"net_ring0\";\n address = \"198.18.0.256/24\"; } "
	  ");\n" LSTN SMTP,
	  2, "ports[0].address", "not an IPv4 address" },
	{ "ports = ( { name = \"p0\"; devargs = \"net_ring0\";\n address = \"198.18.0.2\"; } "
	  ");\n" LSTN SMTP,
	  2, "ports[0].address", "bad CIDR \"198.18.0.2\": needs a prefix length" },
	{ "ports = ( { name = \"p0\"; devargs = \"net_ring0\";\n address = \"198.18.0.2/33\"; } "
	  ");\n" LSTN SMTP,
	  2, "ports[0].address", "bad CIDR: prefix length \"/33\"" },
	{ "ports = ( { name = \"p0\"; devargs = \"net_ring0\";\n address = \"198.18.0.0/24\"; } "
	  ");\n" LSTN SMTP,
	  2, "ports[0].address", "network address" },
	{ "ports = ( { name = \"p0\"; devargs = \"net_ring0\";\n address = \"198.18.0.2/24\";\n"
	  " gateway = \"198.19.0.1\"; } );\n" LSTN SMTP,
	  3, "ports[0].gateway", "not a host on the port's subnet" },
	{ BASE "backends = ( { address = \"mta.example\"; } );\n", 4, "backends[0].address",
	  "not an IPv4 address" },
	/* the dotted-quad syntax shared with the lists (cidr_quad) */
	{ BASE "backends = ( { address = \"198.18.01.2\"; } );\n", 4, "backends[0].address",
	  "not an IPv4 address" },
	{ BASE "backends = ( { address = \"198.18.0\"; } );\n", 4, "backends[0].address",
	  "not an IPv4 address" },
	{ BASE "backends = ( { address = \"198.18.0.2.\"; } );\n", 4, "backends[0].address",
	  "not an IPv4 address" },
	{ BASE "backends = ( { address = \"198.18.0.2000\"; } );\n", 4, "backends[0].address",
	  "not an IPv4 address" },
	{ PORT "listeners = ( { port = 25; address = \"198.18.0.9\"; } );\n" SMTP, 2,
	  "listeners[0].address", "not the address of any port" },
	/* contradictions */
	{ PORT "listeners = ( { port = 25; tls = \"starttls\";\n require_tls = true; } );\n" SMTP,
	  3, "listeners[0].require_tls", "RFC 3207" },
	{ PORT "listeners = ( { port = 587; tls = \"starttls\"; } );\n" SMTP, 2, "listeners[0]",
	  "needs a certificate" },
	{ PORT "listeners = ( { port = 587; auth = [ \"PLAIN\" ]; } );\n" SMTP, 2,
	  "listeners[0].auth", "only after TLS" },
	{ PORT "listeners = ( { port = 25; },\n { port = 25; } );\n" SMTP, 3, "listeners[1].port",
	  "already taken" },
	{ PORT LSTN "smtp = { hostname = \"t.example\"; greet_teaser = true; };\n", 3,
	  "smtp.greet_teaser", "greet_wait_ms" },
	{ "ports = ( { name = \"p0\"; devargs = \"net_ring0\"; address = \"198.18.0.2/24\";\n"
	  " fault = { rx = {\n drop = 101; }; }; } );\n" LSTN SMTP,
	  3, "ports[0].fault.rx.drop", "out of range 0..100" },
	/* TLS to backends */
	{ BASE "backends = ( { address = \"198.19.0.1\";\n tls_ca = \"/x.pem\"; } );\n", 5,
	  "backends[0].tls_ca", "needs tls = \"starttls\"" },
	{ BASE "backends = ( { address = \"198.19.0.1\";\n tls_verify = \"none\"; } );\n", 5,
	  "backends[0].tls_verify", "needs tls = \"starttls\"" },
	{ BASE "backends = ( { address = \"198.19.0.1\"; tls = \"starttls\";\n"
	       " tls_verify = \"none\";\n tls_ca = \"/x.pem\"; } );\n",
	  6, "backends[0].tls_ca", "unused with tls_verify = \"none\"" },
	{ BASE "backends = ( { address = \"198.19.0.1\"; tls = \"starttls\";\n"
	       " tls_verify = \"peer\"; } );\n",
	  5, "backends[0].tls_verify", "\"peer\" is not one of \"none\", \"ca\"" },
	{ BASE "backends = ( { address = \"198.19.0.1\"; tls = \"starttls\";\n"
	       " tls_name = \"mta_1..x\"; } );\n",
	  5, "backends[0].tls_name", "not a DNS name" },
	{ BASE "backends = ( { address = \"198.19.0.1\"; tls = \"starttls\";\n"
	       " tls_name = \"\"; } );\n",
	  5, "backends[0].tls_name", "must not be empty" },
	{ BASE "backends = ( { address = \"198.19.0.1\"; tls = \"implicit\"; } );\n", 4,
	  "backends[0].tls", "\"implicit\" is not one of" },
	/* observability */
	{ BASE "metrics = { listen = \"127.0.0.1\"; };\n", 4, "metrics.listen",
	  "needs address:port" },
	{ BASE "metrics = { listen = \"127.0.0.1:0\"; };\n", 4, "metrics.listen",
	  "port \"0\" must be 1..65535" },
	{ BASE "metrics = { listen = \"localhost:9890\"; };\n", 4, "metrics.listen",
	  "\"localhost\" is not an IPv4 address" },
	{ BASE "metrics = { max_clients = 0; };\n", 4, "metrics.max_clients",
	  "out of range 1..1024" },
	{ BASE "metrics = { timeout_s = 601; };\n", 4, "metrics.timeout_s", "out of range 1..600" },
	{ BASE "metrics = { port = 9890; };\n", 4, "metrics.port", "unknown key" },
	{ BASE "log = { target = \"file\"; };\n", 4, "log.target",
	  "\"file\" is not one of \"stderr\", \"syslog\"" },
	{ BASE "log = { junk_interval_s = 0; };\n", 4, "log.junk_interval_s",
	  "out of range 1..86400" },
	{ BASE "log = { junk_samples = 17; };\n", 4, "log.junk_samples", "out of range 0..16" },
	{ BASE "log = { sessions = 1; };\n", 4, "log.sessions", "must be true or false" },
	/* client_limits and lists (issue 7) */
	{ BASE "client_limits = { sessions = 2000000; };\n", 4, "client_limits.sessions",
	  "out of range 0..1000000" },
	{ BASE "client_limits = { rate = 100001; };\n", 4, "client_limits.rate",
	  "out of range 0..100000" },
	{ BASE "client_limits = { errors_per_min = 10001; };\n", 4, "client_limits.errors_per_min",
	  "out of range 0..10000" },
	{ BASE "client_limits = { action = \"reset\"; };\n", 4, "client_limits.action",
	  "\"reset\" is not one of \"reply\", \"drop\"" },
	{ BASE "client_limits = { table_size = 10; };\n", 4, "client_limits.table_size",
	  "out of range 64..16777216" },
	{ BASE "client_limits = { session = 3; };\n", 4, "client_limits.session",
	  "did you mean 'sessions'?" },
	{ BASE "lists = { deny = \"\"; };\n", 4, "lists.deny", "must not be empty" },
	{ BASE "lists = { allow = 5; };\n", 4, "lists.allow", "must be a string" },
	{ BASE "lists = { max_entries = 0; };\n", 4, "lists.max_entries", "out of range" },
	{ BASE "lists = { denny = \"x\"; };\n", 4, "lists.denny", "did you mean 'deny'?" },
	/* accept_proxy (issue 7) */
	{ PORT "listeners = ( { port = 25;\n accept_proxy = true; } );\n" SMTP, 3,
	  "listeners[0].accept_proxy", "needs proxy_from" },
	{ PORT "listeners = ( { port = 25;\n proxy_from = [ \"198.18.0.0/24\" ]; } );\n" SMTP, 3,
	  "listeners[0].proxy_from", "applies only with accept_proxy = true" },
	{ PORT "listeners = ( { port = 25; accept_proxy = true;\n"
	       " proxy_from = [ \"198.18.0.1/24\" ]; } );\n" SMTP,
	  3, "listeners[0].proxy_from[0]", "host bits set" },
	{ PORT "listeners = ( { port = 25; accept_proxy = true;\n proxy_from = [ ]; } );\n" SMTP, 3,
	  "listeners[0].proxy_from", "needs 1..16 entries" },
	{ PORT "listeners = ( { port = 25; accept_proxy = true; proxy_from = [ \"198.18.0.9\" ];\n"
	       " proxy_timeout_ms = 50; } );\n" SMTP,
	  3, "listeners[0].proxy_timeout_ms", "out of range 100..60000" },
	{ PORT "listeners = ( { port = 25; accept_proxy = true; proxy_from = [ 5 ]; } );\n" SMTP, 2,
	  "listeners[0].proxy_from[0]", "must be a string" },
	/* syntax */
	{ BASE "limits = { sessions = ; };\n", 4, "", "syntax error" },
};

static void test_broken(void)
{
	char err[CFG_ERR_MAX], want[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad *b = &bad[i];
		int rc;

		err[0] = '\0';
		rc = cfg_load_string(&cfg, b->text, "test.conf", err, sizeof(err));
		if (getenv("CFG_SHOW")) /* to read the messages: CFG_SHOW=1 test_config */
			printf("%s\n", err);
		if (!CHECK_EQ(rc, -EINVAL) && check_show())
			fprintf(stderr, "  case %zu (%s)\n", i, b->key);
		if (b->line && !b->key[0])
			snprintf(want, sizeof(want), "test.conf:%u: ", b->line);
		else if (b->line)
			snprintf(want, sizeof(want), "test.conf:%u: %s", b->line, b->key);
		else
			snprintf(want, sizeof(want), "test.conf: ");
		CHECK_ERR(err, want);
		CHECK_ERR(err, b->what);
	}
	/* the base itself is fine */
	CHECK_EQ(cfg_load_string(&cfg, BASE, "test.conf", err, sizeof(err)), 0);
	CHECK_EQ(cfg.n_ports, 1);
	/* STARTTLS to a backend: verified against the system's store by default */
	CHECK_EQ(cfg_load_string(
		     &cfg,
		     BASE "backends = ( { address = \"198.19.0.1\"; tls = \"starttls\"; } );\n",
		     "test.conf", err, sizeof(err)),
		 0);
	CHECK_EQ(cfg.backends[0].tls, CFG_TLS_STARTTLS);
	CHECK_EQ(cfg.backends[0].tls_verify, CFG_TLS_VERIFY_CA);
	CHECK(cfg.backends[0].tls_ca[0] == '\0' && cfg.backends[0].tls_name[0] == '\0');
	/* auth_line_buffers: as given, but never more than sessions */
	CHECK_EQ(cfg_load_string(&cfg,
				 BASE "limits = { sessions = 100; auth_line_buffers = 40; };\n",
				 "test.conf", err, sizeof(err)),
		 0);
	CHECK_EQ(cfg.limits.auth_line_buffers, 40);
	CHECK_EQ(cfg_auth_line_buffers(&cfg.limits), 40);
	cfg.limits.auth_line_buffers = 500;
	CHECK_EQ(cfg_auth_line_buffers(&cfg.limits), 100);
	cfg.limits.auth_line_buffers = 0;
	cfg.limits.sessions = 6400;
	CHECK_EQ(cfg_auth_line_buffers(&cfg.limits), 100);
	/* metrics.listen "" turns the endpoint off; syslog, another address */
	CHECK_EQ(cfg_load_string(&cfg,
				 BASE "metrics = { listen = \"\"; };\nlog = { target = \"syslog\"; "
				      "sessions = false; junk_samples = 0; };\n",
				 "test.conf", err, sizeof(err)),
		 0);
	CHECK_EQ(cfg.metrics.port, 0);
	CHECK_EQ(cfg.log.target, CFG_LOG_SYSLOG);
	CHECK_EQ(cfg.log.sessions, 0);
	CHECK_EQ(cfg.log.junk_samples, 0);
	CHECK_EQ(cfg_load_string(&cfg, BASE "metrics = { listen = \"10.1.2.3:19890\"; };\n",
				 "test.conf", err, sizeof(err)),
		 0);
	CHECK_EQ(cfg.metrics.addr, ip("10.1.2.3"));
	CHECK_EQ(cfg.metrics.port, 19890);
	/* client_limits and lists: defaults (off), then every key */
	CHECK_EQ(cfg.client_limits.sessions, 0);
	CHECK_EQ(cfg.client_limits.rate, 0);
	CHECK_EQ(cfg.client_limits.errors_per_min, 0);
	CHECK_EQ(cfg.client_limits.action, CFG_LIMIT_REPLY);
	CHECK_EQ(cfg.client_limits.table_size, 65536);
	CHECK_EQ(cfg.lists.allow[0], 0);
	CHECK_EQ(cfg.lists.max_entries, 100000);
	CHECK_EQ(cfg_load_string(
		     &cfg,
		     BASE "client_limits = { sessions = 20; rate = 10; errors_per_min = 30;\n"
			  " action = \"drop\"; table_size = 4096; };\n"
			  "lists = { allow = \"/a.txt\"; deny = \"/d.txt\"; max_entries = 7; };\n",
		     "test.conf", err, sizeof(err)),
		 0);
	CHECK_EQ(cfg.client_limits.sessions, 20);
	CHECK_EQ(cfg.client_limits.rate, 10);
	CHECK_EQ(cfg.client_limits.errors_per_min, 30);
	CHECK_EQ(cfg.client_limits.action, CFG_LIMIT_DROP);
	CHECK_EQ(cfg.client_limits.table_size, 4096);
	CHECK(strcmp(cfg.lists.allow, "/a.txt") == 0);
	CHECK(strcmp(cfg.lists.deny, "/d.txt") == 0);
	CHECK_EQ(cfg.lists.max_entries, 7);
	/* accept_proxy: the balancers as ranges, the deadline */
	CHECK_EQ(cfg_load_string(&cfg,
				 PORT "listeners = ( { port = 25; accept_proxy = true;\n"
				      " proxy_from = [ \"198.18.0.0/24\", \"198.19.0.7\" ];\n"
				      " proxy_timeout_ms = 500; }, { port = 26; } );\n" SMTP,
				 "test.conf", err, sizeof(err)),
		 0);
	CHECK_EQ(cfg.listeners[0].accept_proxy, 1);
	CHECK_EQ(cfg.listeners[0].n_proxy_from, 2);
	CHECK_EQ(cfg.listeners[0].proxy_from[0].lo, 0xc6120000u);
	CHECK_EQ(cfg.listeners[0].proxy_from[0].hi, 0xc61200ffu);
	CHECK_EQ(cfg.listeners[0].proxy_from[1].lo, 0xc6130007u);
	CHECK_EQ(cfg.listeners[0].proxy_timeout_ms, 500);
	CHECK_EQ(cfg.listeners[1].accept_proxy, 0);
	CHECK_EQ(cfg.listeners[1].proxy_timeout_ms, 3000);
	/* accept_proxy on implicit TLS (465): the header before the ClientHello
	 * (the files are only checked readable here) */
	CHECK_EQ(cfg_load_string(
		     &cfg,
		     PORT "tls = { cert = \"/dev/null\"; key = \"/dev/null\"; };\n"
			  "listeners = ( { port = 465; tls = \"implicit\";\n"
			  " accept_proxy = true; proxy_from = [ \"198.18.0.9\" ]; } );\n" SMTP,
		     "test.conf", err, sizeof(err)),
		 0);
	CHECK_EQ(cfg.listeners[0].tls, CFG_TLS_IMPLICIT);
	CHECK_EQ(cfg.listeners[0].accept_proxy, 1);
	/* shed_at = 0 turns shedding off; shed_critical_at is then not checked */
	CHECK_EQ(cfg_load_string(&cfg, BASE "limits = { shed_at = 0; shed_critical_at = 1; };\n",
				 "test.conf", err, sizeof(err)),
		 0);
	CHECK_EQ(cfg.limits.shed_at, 0);
	/* a file that is not there */
	CHECK_EQ(cfg_load(&cfg, "/nonexistent/bulwark.conf", err, sizeof(err)), -ENOENT);
	CHECK_ERR(err, "/nonexistent/bulwark.conf: cannot read");
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "config";

	test_lab(dir);
	test_production(dir);
	test_broken();
	return check_done("config");
}
