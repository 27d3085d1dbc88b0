/*
 * config_smtp.c — struct cfg (smtp section + one listener) -> struct
 * smtp_cfg of the core. Separate from config.c because it links the core
 * library; the parser itself does not.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "scan.h"
#include "smtp.h"

int cfg_smtp_fill(const struct cfg *c, const struct cfg_listener *l,
		  const struct scan_kernels *scan, struct smtp_cfg *out, char *err, size_t errlen)
{
	static const struct {
		uint32_t from, to;
	} caps[] = {
		{ CFG_CAP_SIZE, SMTP_CAP_SIZE },
		{ CFG_CAP_PIPELINING, SMTP_CAP_PIPELINING },
		{ CFG_CAP_8BITMIME, SMTP_CAP_8BITMIME },
		{ CFG_CAP_ENHANCEDSTATUSCODES, SMTP_CAP_ENHANCEDSTATUSCODES },
		{ CFG_CAP_SMTPUTF8, SMTP_CAP_SMTPUTF8 },
	};
	const struct cfg_smtp *s = &c->smtp;
	const char *why = NULL;
	int rc;

	if (!scan) {
		int e = 0;

		scan = scan_pick(s->simd, &e);
		if (!scan) {
			snprintf(err, errlen, "%s: smtp.simd: \"%s\" %s", c->file, s->simd,
				 e == -ENOTSUP ? "is not supported by this CPU or build"
					       : "is unknown");
			return e ? e : -EINVAL;
		}
	}
	smtp_cfg_defaults(out, s->hostname, scan);
	out->caps = 0;
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (s->caps & caps[i].from)
			out->caps |= caps[i].to;
	if (l->tls == CFG_TLS_STARTTLS)
		out->caps |= SMTP_CAP_STARTTLS;
	if (l->auth[0]) {
		out->caps |= SMTP_CAP_AUTH;
		snprintf(out->auth_mechs, sizeof(out->auth_mechs), "%s", l->auth);
	}
	out->tls_implicit = l->tls == CFG_TLS_IMPLICIT;
	out->require_tls = l->require_tls;
	out->size_max = s->size_max;
	out->greet_teaser = s->greet_teaser;
	out->greet_wait_ms = s->greet_wait_ms;
	out->data_policy = s->data_policy ? SMTP_DATA_NORMALIZE : SMTP_DATA_REJECT;
	out->error_limit = s->error_limit;
	out->cmd_timeout_ms = s->cmd_timeout_ms;
	out->data_timeout_ms = s->data_timeout_ms;
	out->dot_timeout_ms = s->dot_timeout_ms;
	out->session_max_ms = s->session_max_ms;
	out->max_rcpts = s->max_rcpts;
	out->max_msgs = s->max_msgs;
	out->max_data_line = s->max_data_line;
	rc = smtp_cfg_init(out, &why);
	if (rc)
		snprintf(err, errlen, "%s:%u: listeners (port %u): the SMTP core refused %s",
			 c->file, l->line, l->port, why ? why : "the configuration");
	return rc;
}
