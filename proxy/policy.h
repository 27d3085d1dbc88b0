/*
 * policy.h — what the workers consult when a client connects: the
 * per-client limits (climit.h) and the allow/deny lists (cidr.h), built
 * from the configuration into one immutable object that SIGHUP (or the
 * /bulwark/reload telemetry command) replaces while the workers run
 * (reload.h: published with RCU, the old one freed after every worker
 * reported quiescent).
 *
 * Precedence: deny wins over allow (an address on both is denied); an
 * allowed address skips the per-client limits (and nothing else: the SMTP
 * checks, timeouts and session caps still apply).
 */
#ifndef BULWARK_POLICY_H
#define BULWARK_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "climit.h"

struct cfg;

struct policy {
	uint32_t generation;           /* 1 at startup, +1 per reload */
	struct climit_cfg lim;         /* all 0: no limit */
	uint8_t action;                /* enum cfg_limit_action */
	struct cidr_set *allow, *deny; /* NULL: no list */
};

enum policy_list {
	POLICY_NONE = 0,
	POLICY_ALLOW,
	POLICY_DENY,
};

/* Builds the policy of c (reads the list files). Returns it, or NULL with
 * err = "FILE:LINE: problem" naming the key for a missing file. */
struct policy *policy_build(const struct cfg *c, uint32_t generation, char *err, size_t errlen);

/* Frees p (a struct policy *; the type fits reload_free_fn). NULL: no-op. */
void policy_free(void *p);

/* Which list addr (network order) is on. */
static inline enum policy_list policy_list_of(const struct policy *p, uint32_t addr)
{
	if (cidr_set_has(p->deny, addr))
		return POLICY_DENY;
	if (cidr_set_has(p->allow, addr))
		return POLICY_ALLOW;
	return POLICY_NONE;
}

/* 1 when any per-client limit is on. */
static inline int policy_limited(const struct policy *p)
{
	return p->lim.sessions || p->lim.rate || p->lim.errors_per_min;
}

#endif /* BULWARK_POLICY_H */
