/*
 * config_obs.c — the observability sections: metrics (the Prometheus
 * endpoint on the main lcore) and log (target, per-session lines, the junk
 * summary). Documented in config/bulwark.conf.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

void cfg_obs_defaults(struct cfg *c)
{
	c->metrics = (struct cfg_metrics){
		.addr = htonl(0x7f000001u), /* 127.0.0.1: loopback by default */
		.port = 9890,
		.max_clients = 8,
		.timeout_s = 5,
	};
	c->log = (struct cfg_log){
		.target = CFG_LOG_STDERR,
		.sessions = 1,
		.junk_interval_s = 60,
		.junk_samples = 4,
	};
}

/* metrics.listen: "a.b.c.d:port", or "" (no endpoint). */
static int parse_listen(struct cfg_ctx *x, const config_setting_t *g, struct cfg_metrics *m)
{
	config_setting_t *s = config_setting_get_member(g, "listen");
	char buf[64] = "", *colon, *end;
	unsigned long port;
	int rc;

	if (!s)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    config_setting_get_string(s)[0] == '\0') {
		m->addr = 0; /* "": no endpoint (cfg_str refuses empty strings) */
		m->port = 0;
		return 0;
	}
	if ((rc = cfg_str(x, g, "listen", buf, sizeof(buf))))
		return rc;
	colon = strrchr(buf, ':');
	if (!colon)
		return cfg_fail(x, s,
				"\"%s\": needs address:port, e.g. \"127.0.0.1:9890\" (\"\" "
				"disables the endpoint)",
				buf);
	*colon = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (!isdigit((unsigned char)colon[1]) || *end || port < 1 || port > 65535)
		return cfg_fail(x, s, "port \"%s\" must be 1..65535", colon + 1);
	if (cfg_parse_ipv4(buf, &m->addr) != 0)
		return cfg_fail(x, s, "\"%s\" is not an IPv4 address (a.b.c.d)", buf);
	m->port = (uint16_t)port;
	return 0;
}

int cfg_parse_obs(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	static const char *const m_keys[] = { "listen", "max_clients", "timeout_s", NULL };
	static const char *const l_keys[] = { "target", "sessions", "junk_interval_s",
					      "junk_samples", NULL };
	static const char *const targets[] = { "stderr", "syslog", NULL };
	config_setting_t *g;
	int rc;

	if ((rc = cfg_group(x, root, "metrics", &g)))
		return rc;
	if (g && ((rc = cfg_keys(x, g, m_keys)) || (rc = parse_listen(x, g, &c->metrics)) ||
		  (rc = cfg_u32(x, g, "max_clients", 1, 1024, &c->metrics.max_clients)) ||
		  (rc = cfg_u32(x, g, "timeout_s", 1, 600, &c->metrics.timeout_s))))
		return rc;
	if ((rc = cfg_group(x, root, "log", &g)))
		return rc;
	if (g && ((rc = cfg_keys(x, g, l_keys)) ||
		  (rc = cfg_enum(x, g, "target", targets, &c->log.target)) ||
		  (rc = cfg_bool(x, g, "sessions", &c->log.sessions)) ||
		  (rc = cfg_u32(x, g, "junk_interval_s", 1, 86400, &c->log.junk_interval_s)) ||
		  (rc = cfg_u32(x, g, "junk_samples", 0, 16, &c->log.junk_samples))))
		return rc;
	return 0;
}
