/*
 * config.c — loading, and the sections that are not about the network
 * (eal, workers, limits, smtp, relay, tls). Ports, listeners and backends
 * are in config_net.c, the typed getters in config_get.c.
 *
 * The parse stops at the first problem: one precise message beats a page of
 * consequences. Unknown keys are looked for before a section's values are
 * read, so a typo is reported as a typo (with the nearest known key), not as
 * a missing key.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_int.h"

/* ---- sections ----------------------------------------------------------- */

static int parse_eal(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	static const char *const keys[] = { "args", NULL };
	config_setting_t *g, *args;
	int rc, n;

	if ((rc = cfg_group(x, root, "eal", &g)) || !g)
		return rc;
	if ((rc = cfg_keys(x, g, keys)) || (rc = cfg_list(x, g, "args", &args)) || !args)
		return rc;
	n = config_setting_length(args);
	if (n > CFG_EAL_ARGS_MAX)
		return cfg_fail(x, args, "%d arguments, at most %d", n, CFG_EAL_ARGS_MAX);
	for (int i = 0; i < n; i++) {
		config_setting_t *a = config_setting_get_elem(args, (unsigned)i);
		const char *v;

		if (config_setting_type(a) != CONFIG_TYPE_STRING)
			return cfg_fail(x, a, "must be a string, not %s", cfg_type_name(a));
		v = config_setting_get_string(a);
		if (!*v || strlen(v) >= CFG_EAL_ARG_LEN)
			return cfg_fail(x, a, "must be 1..%d bytes", CFG_EAL_ARG_LEN - 1);
		memcpy(c->eal.argv[i], v, strlen(v) + 1);
	}
	c->eal.argc = (uint32_t)n;
	return 0;
}

static int parse_workers(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	static const char *const keys[] = { "count", "burst", "idle_backoff", NULL };
	static const char *const ib_keys[] = { "enabled", "empty_polls", "sleep_us", NULL };
	struct cfg_workers *w = &c->workers;
	config_setting_t *g, *ib;
	int rc;

	if ((rc = cfg_group(x, root, "workers", &g)) || !g)
		return rc;
	if ((rc = cfg_keys(x, g, keys)) || (rc = cfg_u16(x, g, "count", 1, 64, &w->count)) ||
	    (rc = cfg_u16(x, g, "burst", 1, 512, &w->burst)) ||
	    (rc = cfg_group(x, g, "idle_backoff", &ib)) || !ib)
		return rc;
	if ((rc = cfg_keys(x, ib, ib_keys)) ||
	    (rc = cfg_bool(x, ib, "enabled", &w->idle_backoff)) ||
	    (rc = cfg_u32(x, ib, "empty_polls", 1, 1000000, &w->empty_polls)) ||
	    (rc = cfg_u32(x, ib, "sleep_us", 1, 100000, &w->sleep_us)))
		return rc;
	return 0;
}

static int parse_limits(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	static const char *const keys[] = { "sessions",
					    "half_open",
					    "time_wait",
					    "time_wait_ms",
					    "linger_ms",
					    "buffers",
					    "buffer_size",
					    "ooo_segments",
					    "ooo_bytes",
					    "arp_entries",
					    "arp_ttl_ms",
					    "rto_initial_ms",
					    "rto_min_ms",
					    "rto_max_ms",
					    "retransmits",
					    "synack_retries",
					    "challenge_acks_per_s",
					    "syncookies",
					    "syncookie_rotate_s",
					    "drain_ms",
					    "session_mem",
					    "line_buffers",
					    "auth_line_buffers",
					    "shed_at",
					    "shed_critical_at",
					    "shed_timeout_ms",
					    NULL };
	static const char *const cookies[] = { "never", "auto", "always", NULL };
	struct cfg_limits *l = &c->limits;
	uint32_t shed = l->shed_at, crit = l->shed_critical_at;
	config_setting_t *g;
	int rc;

	if ((rc = cfg_group(x, root, "limits", &g)) || !g)
		return rc;
	if ((rc = cfg_keys(x, g, keys)) ||
	    (rc = cfg_u32(x, g, "sessions", 1, CFG_SESSIONS_MAX, &l->sessions)) ||
	    (rc = cfg_u32(x, g, "half_open", 1, 16u << 20, &l->half_open)) ||
	    (rc = cfg_u32(x, g, "time_wait", 1, 16u << 20, &l->time_wait)) ||
	    (rc = cfg_u32(x, g, "time_wait_ms", 1000, 240000, &l->time_wait_ms)) ||
	    (rc = cfg_u32(x, g, "linger_ms", 0, 60000, &l->linger_ms)) ||
	    (rc = cfg_u32(x, g, "buffers", 16, 16u << 20, &l->buffers)) ||
	    (rc = cfg_u32(x, g, "buffer_size", 2048, 1u << 20, &l->buffer_size)) ||
	    (rc = cfg_u32(x, g, "ooo_segments", 0, 64, &l->ooo_segments)) ||
	    (rc = cfg_u32(x, g, "ooo_bytes", 0, 1u << 20, &l->ooo_bytes)) ||
	    (rc = cfg_u32(x, g, "arp_entries", 16, 1u << 20, &l->arp_entries)) ||
	    (rc = cfg_u32(x, g, "arp_ttl_ms", 1000, 3600000, &l->arp_ttl_ms)) ||
	    (rc = cfg_u32(x, g, "rto_initial_ms", 200, 60000, &l->rto_initial_ms)) ||
	    (rc = cfg_u32(x, g, "rto_min_ms", 10, 60000, &l->rto_min_ms)) ||
	    (rc = cfg_u32(x, g, "rto_max_ms", 60000, 600000, &l->rto_max_ms)) ||
	    (rc = cfg_u32(x, g, "retransmits", 1, 30, &l->retransmits)) ||
	    (rc = cfg_u32(x, g, "synack_retries", 0, 10, &l->synack_retries)) ||
	    (rc = cfg_u32(x, g, "challenge_acks_per_s", 1, 1000, &l->challenge_acks_per_s)) ||
	    (rc = cfg_enum(x, g, "syncookies", cookies, &l->syncookies)) ||
	    (rc = cfg_u32(x, g, "syncookie_rotate_s", 128, 86400, &l->syncookie_rotate_s)) ||
	    (rc = cfg_u32(x, g, "drain_ms", 0, 3600000, &l->drain_ms)) ||
	    (rc = cfg_u32(x, g, "session_mem", 262144, 64u << 20, &l->session_mem)) ||
	    (rc = cfg_u32(x, g, "line_buffers", 0, 16u << 20, &l->line_buffers)) ||
	    (rc = cfg_u32(x, g, "auth_line_buffers", 0, 1u << 20, &l->auth_line_buffers)) ||
	    (rc = cfg_u32(x, g, "shed_at", 0, 100, &shed)) ||
	    (rc = cfg_u32(x, g, "shed_critical_at", 1, 100, &crit)) ||
	    (rc = cfg_u32(x, g, "shed_timeout_ms", 1000, 300000, &l->shed_timeout_ms)))
		return rc;
	l->shed_at = (uint8_t)shed;
	l->shed_critical_at = (uint8_t)crit;
	if (shed != 0 && crit < shed)
		return cfg_fail(x,
				config_setting_get_member(g, "shed_critical_at")
				    ? config_setting_get_member(g, "shed_critical_at")
				    : config_setting_get_member(g, "shed_at"),
				"shed_critical_at %u is below shed_at %u", crit, shed);
	if (l->rto_min_ms > l->rto_initial_ms)
		return cfg_fail(x,
				config_setting_get_member(g, "rto_min_ms")
				    ? config_setting_get_member(g, "rto_min_ms")
				    : g,
				"rto_min_ms %u is above rto_initial_ms %u", l->rto_min_ms,
				l->rto_initial_ms);
	return 0;
}

/* A domain name as it goes into "220 <hostname> ESMTP". */
static int valid_hostname(const char *h)
{
	size_t label = 0, n = strlen(h);

	if (n == 0 || n > 253 || h[0] == '.' || h[n - 1] == '.')
		return 0;
	for (const char *p = h; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
		if ((label == 0 && *p == '-') || ++label > 63)
			return 0;
	}
	return 1;
}

static int parse_caps(struct cfg_ctx *x, const config_setting_t *g, struct cfg_smtp *s)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} known[] = {
		{ "SIZE", CFG_CAP_SIZE },
		{ "PIPELINING", CFG_CAP_PIPELINING },
		{ "8BITMIME", CFG_CAP_8BITMIME },
		{ "ENHANCEDSTATUSCODES", CFG_CAP_ENHANCEDSTATUSCODES },
		{ "SMTPUTF8", CFG_CAP_SMTPUTF8 },
	};
	config_setting_t *l;
	int rc, n;

	if ((rc = cfg_list(x, g, "caps", &l)) || !l)
		return rc;
	s->caps = 0;
	n = config_setting_length(l);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		const char *v;
		size_t k;

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return cfg_fail(x, e, "must be a string, not %s", cfg_type_name(e));
		v = config_setting_get_string(e);
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strcasecmp(v, known[k].name) == 0)
				break;
		if (k < sizeof(known) / sizeof(known[0])) {
			s->caps |= known[k].bit;
			continue;
		}
		if (strcasecmp(v, "CHUNKING") == 0)
			return cfg_fail(x, e,
					"CHUNKING is not offered until BDAT framing is "
					"enforced end to end (DESIGN §3)");
		if (strcasecmp(v, "STARTTLS") == 0 || strcasecmp(v, "AUTH") == 0)
			return cfg_fail(x, e, "%s comes from the listener (tls, auth), not caps",
					v);
		return cfg_fail(x, e,
				"unknown capability \"%s\" (known: SIZE, PIPELINING, "
				"8BITMIME, ENHANCEDSTATUSCODES, SMTPUTF8)",
				v);
	}
	return 0;
}

static int parse_smtp(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	static const char *const keys[] = { "hostname",    "greet_wait_ms", "greet_teaser",
					    "error_limit", "timeouts",      "max_rcpts",
					    "max_msgs",    "size_max",      "caps",
					    "data_policy", "max_data_line", "simd",
					    NULL };
	static const char *const t_keys[] = { "command_ms", "data_ms", "dot_ms", "session_ms",
					      NULL };
	static const char *const policies[] = { "reject", "normalize", NULL };
	static const char *const simd[] = { "auto", "scalar", "sse42", "avx2", "avx512", NULL };
	struct cfg_smtp *s = &c->smtp;
	config_setting_t *g, *t, *m;
	uint8_t level = 0;
	int rc;

	if ((rc = cfg_group(x, root, "smtp", &g)) || !g)
		return rc;
	if ((rc = cfg_keys(x, g, keys)) ||
	    (rc = cfg_str(x, g, "hostname", s->hostname, sizeof(s->hostname))))
		return rc;
	if ((m = config_setting_get_member(g, "hostname")) && !valid_hostname(s->hostname))
		return cfg_fail(x, m, "\"%s\" is not a valid domain name", s->hostname);
	if ((rc = cfg_u32(x, g, "greet_wait_ms", 0, 60000, &s->greet_wait_ms)) ||
	    (rc = cfg_bool(x, g, "greet_teaser", &s->greet_teaser)) ||
	    (rc = cfg_u32(x, g, "error_limit", 1, 100, &s->error_limit)) ||
	    (rc = cfg_u32(x, g, "max_msgs", 0, 100000, &s->max_msgs)) ||
	    (rc = cfg_u64(x, g, "size_max", 0, 1ull << 40, &s->size_max)) ||
	    (rc = cfg_enum(x, g, "data_policy", policies, &s->data_policy)) ||
	    (rc = cfg_u32(x, g, "max_data_line", 0, 1u << 20, &s->max_data_line)) ||
	    (rc = cfg_enum(x, g, "simd", simd, &level)) || (rc = parse_caps(x, g, s)))
		return rc;
	snprintf(s->simd, sizeof(s->simd), "%s", simd[level]);
	if (s->greet_teaser && s->greet_wait_ms == 0)
		return cfg_fail(x, config_setting_get_member(g, "greet_teaser"),
				"a teaser needs greet_wait_ms > 0 (the wait after \"220-\")");
	if ((m = config_setting_get_member(g, "max_data_line")) && s->max_data_line != 0 &&
	    s->max_data_line < 1000)
		return cfg_fail(x, m, "%u is below 1000 (RFC 5321 §4.5.3.1.6); 0 = unlimited",
				s->max_data_line);
	if ((m = config_setting_get_member(g, "max_rcpts"))) {
		if ((rc = cfg_u32(x, g, "max_rcpts", 0, 1000000, &s->max_rcpts)))
			return rc;
		if (s->max_rcpts < 100)
			return cfg_fail(x, m,
					"%u is below 100: RFC 5321 §4.5.3.1.8 requires "
					"accepting at least 100 recipients",
					s->max_rcpts);
	}
	if ((rc = cfg_group(x, g, "timeouts", &t)) || !t)
		return rc;
	if ((rc = cfg_keys(x, t, t_keys)) ||
	    (rc = cfg_u32(x, t, "command_ms", 1000, 3600000, &s->cmd_timeout_ms)) ||
	    (rc = cfg_u32(x, t, "data_ms", 1000, 3600000, &s->data_timeout_ms)) ||
	    (rc = cfg_u32(x, t, "dot_ms", 1000, 3600000, &s->dot_timeout_ms)) ||
	    (rc = cfg_u32(x, t, "session_ms", 0, 86400000, &s->session_max_ms)))
		return rc;
	return 0;
}

static int parse_relay(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	static const char *const keys[] = {
		"lcores",           "ring_size", "balance", "connect_timeout_ms",
		"reply_timeout_ms", "health",    NULL
	};
	static const char *const h_keys[] = { "interval_ms", "timeout_ms", "fall", "rise", NULL };
	static const char *const bal[] = { "round-robin", "least-connections", NULL };
	struct cfg_relay *r = &c->relay;
	config_setting_t *g, *h;
	int rc;

	if ((rc = cfg_group(x, root, "relay", &g)) || !g)
		return rc;
	if ((rc = cfg_keys(x, g, keys)) || (rc = cfg_u16(x, g, "lcores", 1, CFG_RELAYS_MAX, &r->lcores)) ||
	    (rc = cfg_u32(x, g, "ring_size", 64, 1u << 20, &r->ring_size)) ||
	    (rc = cfg_enum(x, g, "balance", bal, &r->balance)) ||
	    (rc = cfg_u32(x, g, "connect_timeout_ms", 100, 600000, &r->connect_timeout_ms)) ||
	    (rc = cfg_u32(x, g, "reply_timeout_ms", 1000, 3600000, &r->reply_timeout_ms)))
		return rc;
	if (r->ring_size & (r->ring_size - 1))
		return cfg_fail(x, config_setting_get_member(g, "ring_size"),
				"%u is not a power of two", r->ring_size);
	if ((rc = cfg_group(x, g, "health", &h)) || !h)
		return rc;
	if ((rc = cfg_keys(x, h, h_keys)) ||
	    (rc = cfg_u32(x, h, "interval_ms", 100, 3600000, &r->health_interval_ms)) ||
	    (rc = cfg_u32(x, h, "timeout_ms", 100, 600000, &r->health_timeout_ms)) ||
	    (rc = cfg_u32(x, h, "fall", 1, 100, &r->health_fall)) ||
	    (rc = cfg_u32(x, h, "rise", 1, 100, &r->health_rise)))
		return rc;
	return 0;
}

static int readable(struct cfg_ctx *x, const config_setting_t *g, const char *key, const char *path)
{
	if (!path[0] || access(path, R_OK) == 0)
		return 0;
	return cfg_fail(x, config_setting_get_member(g, key), "cannot read \"%s\": %s", path,
			strerror(errno));
}

static int parse_tls(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	static const char *const keys[] = { "cert",           "key",         "handshake_timeout_ms",
					    "max_handshakes", "min_version", NULL };
	static const char *const versions[] = { "1.2", "1.3", NULL };
	struct cfg_tls *t = &c->tls;
	config_setting_t *g;
	uint8_t v = 0;
	int rc;

	if ((rc = cfg_group(x, root, "tls", &g)) || !g)
		return rc;
	if ((rc = cfg_keys(x, g, keys)) || (rc = cfg_str(x, g, "cert", t->cert, sizeof(t->cert))) ||
	    (rc = cfg_str(x, g, "key", t->key, sizeof(t->key))) ||
	    (rc = cfg_u32(x, g, "handshake_timeout_ms", 100, 600000, &t->handshake_timeout_ms)) ||
	    (rc = cfg_u32(x, g, "max_handshakes", 1, 1u << 20, &t->max_handshakes)) ||
	    (rc = cfg_enum(x, g, "min_version", versions, &v)))
		return rc;
	if (config_setting_get_member(g, "min_version"))
		t->min_version = v ? 13 : 12;
	if (!t->cert[0] != !t->key[0])
		return cfg_fail(x, g, "cert and key go together: missing required key '%s'",
				t->cert[0] ? "key" : "cert");
	if ((rc = readable(x, g, "cert", t->cert)) || (rc = readable(x, g, "key", t->key)))
		return rc;
	return 0;
}

uint32_t cfg_line_buffers(const struct cfg_limits *l)
{
	uint32_t n = l->line_buffers ? l->line_buffers : l->sessions / 8;

	if (l->line_buffers == 0 && n < 64)
		n = 64;
	return n < l->sessions ? n : l->sessions;
}

uint32_t cfg_auth_line_buffers(const struct cfg_limits *l)
{
	uint32_t n = l->auth_line_buffers ? l->auth_line_buffers : l->sessions / 64;

	if (l->auth_line_buffers == 0 && n < 16)
		n = 16;
	return n < l->sessions ? n : l->sessions;
}

/* ---- whole file --------------------------------------------------------- */

void cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = (struct cfg_workers){
		.count = 1, .burst = 32, .idle_backoff = 0, .empty_polls = 256, .sleep_us = 100
	};
	c->limits = (struct cfg_limits){
		.sessions = 65536,
		.half_open = 4096,
		.time_wait = 65536,
		.time_wait_ms = 60000,
		.linger_ms = 2000,
		.buffers = 8192,
		.buffer_size = 16384,
		.ooo_segments = 8,
		.ooo_bytes = 65536,
		.arp_entries = 1024,
		.arp_ttl_ms = 60000,
		.rto_initial_ms = 1000,
		.rto_min_ms = 1000,
		.rto_max_ms = 60000,
		.retransmits = 8,
		.synack_retries = 4,
		.challenge_acks_per_s = 10,
		.syncookies = CFG_SYNCOOKIES_AUTO,
		.syncookie_rotate_s = 600,
		.drain_ms = 30000,
		.session_mem = 1u << 20,
		.shed_at = 80,
		.shed_critical_at = 95,
		.shed_timeout_ms = 10000,
	};
	c->smtp = (struct cfg_smtp){
		.greet_wait_ms = 0,
		.greet_teaser = 0,
		.error_limit = 5,
		.cmd_timeout_ms = 300000,
		.data_timeout_ms = 180000,
		.dot_timeout_ms = 600000,
		.session_max_ms = 0,
		.max_rcpts = 1000,
		.max_msgs = 0,
		.size_max = 10240000,
		.caps = CFG_CAP_SIZE | CFG_CAP_PIPELINING | CFG_CAP_8BITMIME |
			CFG_CAP_ENHANCEDSTATUSCODES,
		.data_policy = 0,
		.max_data_line = 0,
	};
	snprintf(c->smtp.simd, sizeof(c->smtp.simd), "auto");
	cfg_limits_defaults(c);
	c->relay = (struct cfg_relay){
		.lcores = 1,
		.ring_size = 1024,
		.balance = CFG_BALANCE_RR,
		.connect_timeout_ms = 5000,
		.reply_timeout_ms = 300000,
		.health_interval_ms = 5000,
		.health_timeout_ms = 3000,
		.health_fall = 3,
		.health_rise = 2,
	};
	c->tls = (struct cfg_tls){ .handshake_timeout_ms = 10000,
				   .max_handshakes = 256,
				   .min_version = 12 };
	cfg_obs_defaults(c);
}

const char *cfg_tls_name(uint8_t mode)
{
	static const char *const names[] = { "none", "starttls", "implicit" };

	return mode < 3 ? names[mode] : "?";
}

/* Checks between sections, once each is valid on its own. */
static int cross_check(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	config_setting_t *ls = config_setting_get_member(root, "listeners");

	if (!c->smtp.hostname[0]) {
		char h[CFG_HOST_MAX] = "";

		if (gethostname(h, sizeof(h) - 1) != 0 || !valid_hostname(h))
			return cfg_fail(x, config_setting_get_member(root, "smtp"),
					"missing required key 'hostname' (the system's name "
					"\"%s\" is not a valid domain)",
					h);
		memcpy(c->smtp.hostname, h, sizeof(h));
	}
	for (uint32_t i = 0; i < c->n_listeners; i++) {
		struct cfg_listener *l = &c->listeners[i];
		config_setting_t *s = config_setting_get_elem(ls, i);

		if (l->tls != CFG_TLS_NONE && !l->cert[0] && !c->tls.cert[0])
			return cfg_fail(x, s,
					"tls = \"%s\" needs a certificate: set tls.cert and "
					"tls.key (or cert/key here)",
					cfg_tls_name(l->tls));
	}
	return 0;
}

static int parse_root(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	static const char *const keys[] = { "eal",     "ports",   "listeners", "workers", "limits",
					    "smtp",    "relay",   "backends",  "tls",     "metrics",
					    "log",     "client_limits", "lists", NULL };
	int rc;

	if ((rc = cfg_keys(x, root, keys)) || (rc = parse_eal(x, root, c)) ||
	    (rc = parse_workers(x, root, c)) || (rc = parse_limits(x, root, c)) ||
	    (rc = parse_smtp(x, root, c)) || (rc = parse_tls(x, root, c)) ||
	    (rc = parse_relay(x, root, c)) || (rc = cfg_parse_ports(x, root, c)) ||
	    (rc = cfg_parse_listeners(x, root, c)) || (rc = cfg_parse_backends(x, root, c)) ||
	    (rc = cfg_parse_obs(x, root, c)) || (rc = cfg_parse_client_limits(x, root, c)) ||
	    (rc = cross_check(x, root, c)))
		return rc;
	return 0;
}

static int load(struct cfg *c, const char *path, const char *text, char *err, size_t errlen)
{
	struct cfg_ctx x = { .file = path, .err = err, .errlen = errlen };
	config_t lc;
	int rc = 0, ok;

	cfg_defaults(c);
	snprintf(c->file, sizeof(c->file), "%s", path);
	if (err && errlen)
		err[0] = '\0';
	config_init(&lc);
	config_set_options(&lc, 0); /* no auto-conversion: types are checked */
	ok = text ? config_read_string(&lc, text) : config_read_file(&lc, path);
	if (!ok) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO) {
			int e = errno ? errno : EIO;

			if (err && errlen)
				snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
			rc = -e;
		} else {
			if (err && errlen)
				snprintf(err, errlen, "%s:%d: %s%s",
					 config_error_file(&lc) ? config_error_file(&lc) : path,
					 config_error_line(&lc),
					 strstr(config_error_text(&lc), "syntax")
					     ? ""
					     : "syntax error: ",
					 config_error_text(&lc));
			rc = -EINVAL;
		}
	} else {
		rc = parse_root(&x, config_root_setting(&lc), c);
	}
	config_destroy(&lc);
	return rc;
}

int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen)
{
	errno = 0;
	return load(c, path, NULL, err, errlen);
}

int cfg_load_string(struct cfg *c, const char *text, const char *name, char *err, size_t errlen)
{
	return load(c, name ? name : "<string>", text, err, errlen);
}
