/*
 * config_net.c — the sections about addresses: ports, listeners, backends.
 *
 * Addresses are checked as hosts, not just as dotted quads: a port's
 * address may not be its subnet's network or broadcast address, its gateway
 * must be on-link, and a listener may only bind an address some port has.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cidr.h"
#include "config.h"
#include "config_int.h"

int cfg_parse_ipv4(const char *s, uint32_t *out)
{
	size_t i = 0, n = strlen(s);
	const char *why;
	uint32_t a;

	/* no leading zeros (octal ambiguity): the lists' own syntax */
	if (cidr_quad(s, n, &i, &a, &why) != 0 || i != n)
		return -1;
	*out = htonl(a);
	return 0;
}

int cfg_ipv4(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint32_t *out)
{
	config_setting_t *s = config_setting_get_member(g, key);
	char buf[64] = "";
	int rc;

	if (!s)
		return 0;
	if ((rc = cfg_str(x, g, key, buf, sizeof(buf))))
		return rc;
	if (strchr(buf, '/'))
		return cfg_fail(x, s, "\"%s\": an address without a prefix length here", buf);
	if (cfg_parse_ipv4(buf, out) != 0)
		return cfg_fail(x, s, "\"%s\" is not an IPv4 address (a.b.c.d)", buf);
	return 0;
}

/* Not 0/8, not loopback, not multicast or reserved: an address a peer can reach. */
static int unicast(uint32_t be)
{
	uint32_t a = ntohl(be);

	return (a >> 24) != 0 && (a >> 24) != 127 && (a >> 28) < 14;
}

static uint32_t mask_of(uint8_t prefix)
{
	return prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
}

/* "a.b.c.d/p" */
static int parse_cidr(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint32_t *addr,
		      uint8_t *prefix)
{
	config_setting_t *s = config_setting_get_member(g, key);
	char buf[64] = "", *slash, *end;
	unsigned long p;
	uint32_t m;
	int rc;

	if (!s)
		return 0;
	if ((rc = cfg_str(x, g, key, buf, sizeof(buf))))
		return rc;
	slash = strchr(buf, '/');
	if (!slash)
		return cfg_fail(x, s, "bad CIDR \"%s\": needs a prefix length, e.g. \"%s/24\"", buf,
				buf);
	*slash = '\0';
	if (cfg_parse_ipv4(buf, addr) != 0)
		return cfg_fail(x, s, "bad CIDR: \"%s\" is not an IPv4 address", buf);
	p = strtoul(slash + 1, &end, 10);
	if (!isdigit((unsigned char)slash[1]) || *end || p < 1 || p > 32)
		return cfg_fail(x, s, "bad CIDR: prefix length \"/%s\" must be 1..32", slash + 1);
	*prefix = (uint8_t)p;
	m = mask_of(*prefix);
	if (!unicast(*addr))
		return cfg_fail(x, s, "%s is not a unicast host address", buf);
	if (p <= 30 && ((*addr & ~m) == 0 || (*addr & ~m) == ~m))
		return cfg_fail(x, s, "%s is the %s address of %s/%lu, not a host", buf,
				(*addr & ~m) == 0 ? "network" : "broadcast", buf, p);
	return 0;
}

static int valid_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

/* A group of a list: the elements of ports ( ... ) must be groups. */
static int list_of_groups(struct cfg_ctx *x, const config_setting_t *root, const char *key,
			  unsigned max, config_setting_t **out, unsigned *n)
{
	int rc;

	*n = 0;
	if ((rc = cfg_list(x, root, key, out)) || !*out)
		return rc;
	*n = (unsigned)config_setting_length(*out);
	if (*n > max)
		return cfg_fail(x, *out, "%u entries, at most %u", *n, max);
	for (unsigned i = 0; i < *n; i++) {
		config_setting_t *e = config_setting_get_elem(*out, i);

		if (!config_setting_is_group(e))
			return cfg_fail(x, e, "must be a group { ... }");
	}
	return 0;
}

static int parse_rss_key(struct cfg_ctx *x, const config_setting_t *g, struct cfg_port *p)
{
	config_setting_t *s = config_setting_get_member(g, "rss_key");
	char buf[3 * CFG_RSS_KEY_MAX + 1] = "";
	unsigned n = 0;
	int rc;

	if (!s)
		return 0;
	if ((rc = cfg_str(x, g, "rss_key", buf, sizeof(buf))))
		return rc;
	for (const char *q = buf; *q;) {
		unsigned v;

		if (*q == ':' || *q == ' ') {
			q++;
			continue;
		}
		if (!isxdigit((unsigned char)q[0]) || !isxdigit((unsigned char)q[1]) ||
		    sscanf(q, "%2x", &v) != 1 || n == CFG_RSS_KEY_MAX)
			return cfg_fail(x, s, "must be hex bytes (\"6d5a6d5a...\", at most %d)",
					CFG_RSS_KEY_MAX);
		p->rss_key[n++] = (uint8_t)v;
		q += 2;
	}
	if (n == 0)
		return cfg_fail(x, s, "must be hex bytes");
	p->rss_key_len = (uint8_t)n;
	return 0;
}

static int parse_fault_dir(struct cfg_ctx *x, const config_setting_t *f, const char *key,
			   struct cfg_fault_dir *d)
{
	static const char *const keys[] = { "drop", "reorder", "dup", NULL };
	config_setting_t *g;
	int rc;

	if ((rc = cfg_group(x, f, key, &g)) || !g)
		return rc;
	if ((rc = cfg_keys(x, g, keys)) || (rc = cfg_ppm(x, g, "drop", &d->drop_ppm)) ||
	    (rc = cfg_ppm(x, g, "reorder", &d->reorder_ppm)) ||
	    (rc = cfg_ppm(x, g, "dup", &d->dup_ppm)))
		return rc;
	if ((uint64_t)d->drop_ppm + d->reorder_ppm + d->dup_ppm > 1000000)
		return cfg_fail(x, g, "drop + reorder + dup exceed 100%%");
	return 0;
}

static int parse_fault(struct cfg_ctx *x, const config_setting_t *port, struct cfg_fault *f)
{
	static const char *const keys[] = { "seed", "depth", "rx", "tx", NULL };
	config_setting_t *g;
	uint64_t seed = 1;
	int rc;

	if ((rc = cfg_group(x, port, "fault", &g)) || !g)
		return rc;
	f->depth = 8;
	if ((rc = cfg_keys(x, g, keys)) ||
	    (rc = cfg_u64(x, g, "seed", 0, UINT64_MAX >> 1, &seed)) ||
	    (rc = cfg_u16(x, g, "depth", 1, 64, &f->depth)) ||
	    (rc = parse_fault_dir(x, g, "rx", &f->rx)) ||
	    (rc = parse_fault_dir(x, g, "tx", &f->tx)))
		return rc;
	f->seed = seed;
	f->enabled = 1;
	return 0;
}

static int parse_port(struct cfg_ctx *x, const config_setting_t *g, struct cfg_port *p)
{
	static const char *const keys[] = {
		"name",       "devargs",        "address",      "gateway",      "mtu",     "rss",
		"rss_hash",   "rss_key",        "csum_offload", "rx_desc",      "tx_desc", "mbufs",
		"mbuf_cache", "pool_per_queue", "promiscuous",  "link_wait_ms", "fault",   NULL
	};
	static const char *const hashes[] = { "l4", "src-l4", "src-addr", NULL };
	config_setting_t *s;
	int rc;

	*p = (struct cfg_port){ .mtu = 1500,
				.rss = CFG_AUTO,
				.csum_offload = CFG_AUTO,
				.rx_desc = 1024,
				.tx_desc = 1024,
				.mbufs = 8191,
				.mbuf_cache = 256,
				.pool_per_queue = 1,
				.link_wait_ms = 3000,
				.line = config_setting_source_line(g) };
	if ((rc = cfg_keys(x, g, keys)) || (rc = cfg_need(x, g, "name")) ||
	    (rc = cfg_need(x, g, "devargs")) || (rc = cfg_need(x, g, "address")) ||
	    (rc = cfg_str(x, g, "name", p->name, sizeof(p->name))) ||
	    (rc = cfg_str(x, g, "devargs", p->devargs, sizeof(p->devargs))) ||
	    (rc = parse_cidr(x, g, "address", &p->addr, &p->prefix)) ||
	    (rc = cfg_ipv4(x, g, "gateway", &p->gateway)) ||
	    (rc = cfg_u16(x, g, "mtu", 576, 9600, &p->mtu)) ||
	    (rc = cfg_tri(x, g, "rss", &p->rss)) ||
	    (rc = cfg_enum(x, g, "rss_hash", hashes, &p->rss_hash)) ||
	    (rc = parse_rss_key(x, g, p)) ||
	    (rc = cfg_tri(x, g, "csum_offload", &p->csum_offload)) ||
	    (rc = cfg_u16(x, g, "rx_desc", 32, 32768, &p->rx_desc)) ||
	    (rc = cfg_u16(x, g, "tx_desc", 32, 32768, &p->tx_desc)) ||
	    (rc = cfg_u32(x, g, "mbufs", 511, 16u << 20, &p->mbufs)) ||
	    (rc = cfg_u16(x, g, "mbuf_cache", 0, 512, &p->mbuf_cache)) ||
	    (rc = cfg_bool(x, g, "pool_per_queue", &p->pool_per_queue)) ||
	    (rc = cfg_bool(x, g, "promiscuous", &p->promiscuous)) ||
	    (rc = cfg_u32(x, g, "link_wait_ms", 0, 60000, &p->link_wait_ms)) ||
	    (rc = parse_fault(x, g, &p->fault)))
		return rc;
	if (!valid_name(p->name))
		return cfg_fail(x, config_setting_get_member(g, "name"),
				"\"%s\": only letters, digits, '-' and '_'", p->name);
	if (strchr(p->devargs, ' '))
		return cfg_fail(x, config_setting_get_member(g, "devargs"),
				"\"%s\" contains a space", p->devargs);
	if ((s = config_setting_get_member(g, "gateway"))) {
		uint32_t m = mask_of(p->prefix);

		if (p->gateway == p->addr)
			return cfg_fail(x, s, "is the port's own address");
		if ((p->gateway & m) != (p->addr & m) || !unicast(p->gateway))
			return cfg_fail(x, s, "is not a host on the port's subnet (address/%u)",
					p->prefix);
	}
	return 0;
}

int cfg_parse_ports(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	config_setting_t *l;
	unsigned n;
	int rc;

	if ((rc = cfg_need(x, root, "ports")) ||
	    (rc = list_of_groups(x, root, "ports", CFG_PORTS_MAX, &l, &n)))
		return rc;
	if (n == 0)
		return cfg_fail(x, l, "at least one port is required");
	for (unsigned i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(l, i);
		struct cfg_port *p = &c->ports[i];

		if ((rc = parse_port(x, g, p)))
			return rc;
		for (unsigned j = 0; j < i; j++) {
			if (strcmp(c->ports[j].name, p->name) == 0)
				return cfg_fail(x, config_setting_get_member(g, "name"),
						"\"%s\" is already the name of ports[%u]", p->name,
						j);
			if (strcmp(c->ports[j].devargs, p->devargs) == 0)
				return cfg_fail(x, config_setting_get_member(g, "devargs"),
						"same device as ports[%u]", j);
			if (c->ports[j].addr == p->addr)
				return cfg_fail(x, config_setting_get_member(g, "address"),
						"same address as ports[%u]", j);
		}
	}
	c->n_ports = n;
	return 0;
}

static int parse_auth(struct cfg_ctx *x, const config_setting_t *g, struct cfg_listener *l)
{
	config_setting_t *a;
	size_t off = 0;
	int rc, n;

	if ((rc = cfg_list(x, g, "auth", &a)) || !a)
		return rc;
	n = config_setting_length(a);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(a, (unsigned)i);
		const char *v;
		size_t len;

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return cfg_fail(x, e, "must be a SASL mechanism name (a string)");
		v = config_setting_get_string(e);
		len = strlen(v);
		if (len == 0 || len > 20)
			return cfg_fail(x, e, "\"%s\" is not a SASL mechanism name", v);
		for (size_t k = 0; k < len; k++)
			if (!isupper((unsigned char)v[k]) && !isdigit((unsigned char)v[k]) &&
			    v[k] != '-' && v[k] != '_')
				return cfg_fail(x, e,
						"\"%s\" is not a SASL mechanism name "
						"(upper case, digits, '-', '_')",
						v);
		if (off + len + 2 > sizeof(l->auth))
			return cfg_fail(x, a, "too many mechanisms");
		off += (size_t)snprintf(l->auth + off, sizeof(l->auth) - off, "%s%s",
					off ? " " : "", v);
	}
	return 0;
}

static int parse_listener(struct cfg_ctx *x, const config_setting_t *g, const struct cfg *c,
			  struct cfg_listener *l)
{
	static const char *const keys[] = {
		"port", "address", "tls",          "require_tls", "public_mx",        "auth",
		"cert", "key",     "accept_proxy", "proxy_from",  "proxy_timeout_ms", NULL
	};
	static const char *const modes[] = { "none", "starttls", "implicit", NULL };
	config_setting_t *s;
	uint32_t i;
	int rc;

	*l = (struct cfg_listener){ .line = config_setting_source_line(g) };
	if ((rc = cfg_keys(x, g, keys)) || (rc = cfg_need(x, g, "port")) ||
	    (rc = cfg_u16(x, g, "port", 1, 65535, &l->port)) ||
	    (rc = cfg_ipv4(x, g, "address", &l->addr)) ||
	    (rc = cfg_enum(x, g, "tls", modes, &l->tls)))
		return rc;
	l->public_mx = l->port == 25;
	if ((rc = cfg_bool(x, g, "require_tls", &l->require_tls)) ||
	    (rc = cfg_bool(x, g, "public_mx", &l->public_mx)) || (rc = parse_auth(x, g, l)) ||
	    (rc = cfg_str(x, g, "cert", l->cert, sizeof(l->cert))) ||
	    (rc = cfg_str(x, g, "key", l->key, sizeof(l->key))) ||
	    (rc = cfg_parse_listener_proxy(x, g, l)))
		return rc;
	if ((s = config_setting_get_member(g, "address"))) {
		for (i = 0; i < c->n_ports && c->ports[i].addr != l->addr; i++)
			;
		if (i == c->n_ports)
			return cfg_fail(x, s, "is not the address of any port");
	}
	if (l->require_tls && l->public_mx)
		return cfg_fail(x, config_setting_get_member(g, "require_tls"),
				"a public MX must not require TLS (RFC 3207 §4); set public_mx "
				"= false for a submission listener");
	if (l->require_tls && l->tls == CFG_TLS_NONE)
		return cfg_fail(x, config_setting_get_member(g, "require_tls"),
				"needs tls = \"starttls\" or \"implicit\"");
	if (l->auth[0] && l->tls == CFG_TLS_NONE)
		return cfg_fail(x, config_setting_get_member(g, "auth"),
				"AUTH is offered only after TLS: needs tls = \"starttls\" or "
				"\"implicit\"");
	if (l->auth[0] && l->public_mx)
		return cfg_fail(x, config_setting_get_member(g, "auth"),
				"AUTH belongs on submission listeners (public_mx = false)");
	if (!l->cert[0] != !l->key[0])
		return cfg_fail(x, g, "cert and key go together: missing required key '%s'",
				l->cert[0] ? "key" : "cert");
	if (l->cert[0] && access(l->cert, R_OK) != 0)
		return cfg_fail(x, config_setting_get_member(g, "cert"), "cannot read \"%s\": %s",
				l->cert, strerror(errno));
	if (l->key[0] && access(l->key, R_OK) != 0)
		return cfg_fail(x, config_setting_get_member(g, "key"), "cannot read \"%s\": %s",
				l->key, strerror(errno));
	return 0;
}

int cfg_parse_listeners(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	config_setting_t *l;
	unsigned n;
	int rc;

	if ((rc = cfg_need(x, root, "listeners")) ||
	    (rc = list_of_groups(x, root, "listeners", CFG_LISTENERS_MAX, &l, &n)))
		return rc;
	if (n == 0)
		return cfg_fail(x, l, "at least one listener is required");
	for (unsigned i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(l, i);
		struct cfg_listener *li = &c->listeners[i];

		if ((rc = parse_listener(x, g, c, li)))
			return rc;
		for (unsigned j = 0; j < i; j++)
			if (c->listeners[j].port == li->port &&
			    (!c->listeners[j].addr || !li->addr ||
			     c->listeners[j].addr == li->addr))
				return cfg_fail(x, config_setting_get_member(g, "port"),
						"port %u is already taken by listeners[%u]",
						li->port, j);
	}
	c->n_listeners = n;
	return 0;
}

/* A DNS name as a certificate carries it (RFC 1123 §2.1 labels, RFC 6125
 * §6.4): letters, digits, '-' and '.', labels of 1..63, at most 253. */
static int valid_dns_name(const char *s)
{
	size_t n = strlen(s), lab = 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-') ||
		    ++lab > 63)
			return 0;
	}
	return lab != 0;
}

/* The TLS keys of a backend: only with tls = "starttls", and consistent. */
static int backend_tls_check(struct cfg_ctx *x, const config_setting_t *g,
			     const struct cfg_backend *b)
{
	static const char *const only[] = { "tls_verify", "tls_ca", "tls_name", NULL };

	if (b->tls == CFG_TLS_NONE) {
		for (unsigned i = 0; only[i]; i++)
			if (config_setting_get_member(g, only[i]))
				return cfg_fail(x, config_setting_get_member(g, only[i]),
						"needs tls = \"starttls\" (this backend is "
						"spoken to in the clear)");
		return 0;
	}
	if (b->tls_ca[0] && b->tls_verify == CFG_TLS_VERIFY_NONE)
		return cfg_fail(x, config_setting_get_member(g, "tls_ca"),
				"is unused with tls_verify = \"none\": remove it, or set "
				"tls_verify = \"ca\"");
	if (b->tls_name[0] && !valid_dns_name(b->tls_name))
		return cfg_fail(x, config_setting_get_member(g, "tls_name"),
				"\"%s\" is not a DNS name (letters, digits, '-', '.'; the "
				"backend's address is matched when tls_name is not set)",
				b->tls_name);
	return 0;
}

static int parse_backend(struct cfg_ctx *x, const config_setting_t *g, unsigned idx,
			 struct cfg_backend *b)
{
	static const char *const keys[] = { "name",       "address",        "port",     "weight",
					    "max_conns",  "proxy_protocol", "xclient",  "tls",
					    "tls_verify", "tls_ca",         "tls_name", NULL };
	static const char *const pp[] = { "none", "v1", "v2", NULL };
	static const char *const tls[] = { "none", "starttls", NULL };
	static const char *const verify[] = { "none", "ca", NULL };
	int rc;

	*b = (struct cfg_backend){ .port = 25,
				   .weight = 1,
				   .max_conns = 100,
				   .tls_verify = CFG_TLS_VERIFY_CA,
				   .line = config_setting_source_line(g) };
	snprintf(b->name, sizeof(b->name), "backend%u", idx);
	if ((rc = cfg_keys(x, g, keys)) || (rc = cfg_need(x, g, "address")) ||
	    (rc = cfg_str(x, g, "name", b->name, sizeof(b->name))) ||
	    (rc = cfg_ipv4(x, g, "address", &b->addr)) ||
	    (rc = cfg_u16(x, g, "port", 1, 65535, &b->port)) ||
	    (rc = cfg_u16(x, g, "weight", 1, 1000, &b->weight)) ||
	    (rc = cfg_u32(x, g, "max_conns", 1, 1000000, &b->max_conns)) ||
	    (rc = cfg_enum(x, g, "proxy_protocol", pp, &b->proxy_protocol)) ||
	    (rc = cfg_bool(x, g, "xclient", &b->xclient)) ||
	    (rc = cfg_enum(x, g, "tls", tls, &b->tls)) ||
	    (rc = cfg_enum(x, g, "tls_verify", verify, &b->tls_verify)) ||
	    (rc = cfg_str(x, g, "tls_ca", b->tls_ca, sizeof(b->tls_ca))) ||
	    (rc = cfg_str(x, g, "tls_name", b->tls_name, sizeof(b->tls_name))) ||
	    (rc = backend_tls_check(x, g, b)))
		return rc;
	if (!valid_name(b->name))
		return cfg_fail(x, config_setting_get_member(g, "name"),
				"\"%s\": only letters, digits, '-' and '_'", b->name);
	if (!unicast(b->addr) && (ntohl(b->addr) >> 24) != 127)
		return cfg_fail(x, config_setting_get_member(g, "address"),
				"is not a unicast address");
	return 0;
}

int cfg_parse_backends(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	config_setting_t *l;
	unsigned n;
	int rc;

	if ((rc = list_of_groups(x, root, "backends", CFG_BACKENDS_MAX, &l, &n)))
		return rc;
	for (unsigned i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(l, i);
		struct cfg_backend *b = &c->backends[i];

		if ((rc = parse_backend(x, g, i, b)))
			return rc;
		for (unsigned j = 0; j < i; j++) {
			if (strcmp(c->backends[j].name, b->name) == 0)
				return cfg_fail(x, g, "name \"%s\" is already backends[%u]'s",
						b->name, j);
			if (c->backends[j].addr == b->addr && c->backends[j].port == b->port)
				return cfg_fail(x, g, "same address and port as backends[%u]", j);
		}
	}
	c->n_backends = n;
	return 0;
}
