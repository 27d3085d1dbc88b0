/*
 * config_limits.c — the client_limits and lists groups (issue 7): per-client
 * limits on the workers and the allow/deny CIDR files. The files themselves
 * are read by policy.c (at startup and on every reload), so that a reload
 * re-reads them; this file checks the keys.
 */
#include <string.h>

#include "cidr.h"
#include "climit.h"
#include "config_int.h"

void cfg_limits_defaults(struct cfg *c)
{
	c->client_limits = (struct cfg_client_limits){
		.sessions = 0,
		.rate = 0,
		.errors_per_min = 0,
		.action = CFG_LIMIT_REPLY,
		.table_size = 65536,
	};
	memset(&c->lists, 0, sizeof(c->lists));
	c->lists.max_entries = 100000;
}

int cfg_parse_listener_proxy(struct cfg_ctx *x, const config_setting_t *g, struct cfg_listener *l)
{
	config_setting_t *from;
	int rc;

	l->proxy_timeout_ms = 3000;
	if ((rc = cfg_bool(x, g, "accept_proxy", &l->accept_proxy)) ||
	    (rc = cfg_u32(x, g, "proxy_timeout_ms", 100, 60000, &l->proxy_timeout_ms)) ||
	    (rc = cfg_list(x, g, "proxy_from", &from)))
		return rc;
	if (from != NULL) {
		int n = config_setting_length(from);

		if (n == 0 || n > CFG_PROXY_FROM_MAX)
			return cfg_fail(x, from, "needs 1..%d entries, not %d", CFG_PROXY_FROM_MAX,
					n);
		for (int i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(from, (unsigned)i);
			const char *v, *why;

			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				return cfg_fail(x, e, "must be a string, not %s", cfg_type_name(e));
			v = config_setting_get_string(e);
			if (cidr_parse(v, strlen(v), &l->proxy_from[i].lo, &l->proxy_from[i].hi,
				       &why) != 0)
				return cfg_fail(x, e, "\"%s\": %s", v, why);
		}
		l->n_proxy_from = (uint8_t)n;
	}
	if (l->accept_proxy && l->n_proxy_from == 0)
		return cfg_fail(x, config_setting_get_member(g, "accept_proxy"),
				"needs proxy_from: the load balancers allowed to send a header");
	if (!l->accept_proxy && (from || config_setting_get_member(g, "proxy_timeout_ms")))
		return cfg_fail(x, from ? from : config_setting_get_member(g, "proxy_timeout_ms"),
				"applies only with accept_proxy = true");
	return 0;
}

int cfg_parse_client_limits(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c)
{
	static const char *const keys[] = { "sessions", "rate",       "errors_per_min",
					    "action",   "table_size", NULL };
	static const char *const l_keys[] = { "allow", "deny", "max_entries", NULL };
	static const char *const actions[] = { "reply", "drop", NULL };
	struct cfg_client_limits *cl = &c->client_limits;
	struct cfg_lists *ls = &c->lists;
	config_setting_t *g;
	int rc;

	if ((rc = cfg_group(x, root, "client_limits", &g)))
		return rc;
	if (g &&
	    ((rc = cfg_keys(x, g, keys)) ||
	     (rc = cfg_u32(x, g, "sessions", 0, CLIMIT_SESSIONS_MAX, &cl->sessions)) ||
	     (rc = cfg_u32(x, g, "rate", 0, CLIMIT_RATE_MAX, &cl->rate)) ||
	     (rc = cfg_u32(x, g, "errors_per_min", 0, CLIMIT_ERRORS_MAX, &cl->errors_per_min)) ||
	     (rc = cfg_enum(x, g, "action", actions, &cl->action)) ||
	     (rc = cfg_u32(x, g, "table_size", 64, 16u << 20, &cl->table_size))))
		return rc;
	if ((rc = cfg_group(x, root, "lists", &g)) || !g)
		return rc;
	if ((rc = cfg_keys(x, g, l_keys)) ||
	    (rc = cfg_str(x, g, "allow", ls->allow, sizeof(ls->allow))) ||
	    (rc = cfg_str(x, g, "deny", ls->deny, sizeof(ls->deny))) ||
	    (rc = cfg_u32(x, g, "max_entries", 1, CIDR_ENTRIES_MAX, &ls->max_entries)))
		return rc;
	return 0;
}
