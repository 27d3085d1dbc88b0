/*
 * policy.c — building the workers' policy object (see policy.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "policy.h"

struct policy *policy_build(const struct cfg *c, uint32_t generation, char *err, size_t errlen)
{
	struct policy *p = calloc(1, sizeof(*p));
	char why[CFG_ERR_MAX];

	if (p == NULL) {
		snprintf(err, errlen, "policy: out of memory");
		return NULL;
	}
	p->generation = generation;
	p->lim.sessions = c->client_limits.sessions;
	p->lim.rate = c->client_limits.rate;
	p->lim.errors_per_min = c->client_limits.errors_per_min;
	p->action = c->client_limits.action;
	if (c->lists.allow[0] != '\0' &&
	    (p->allow = cidr_set_load(c->lists.allow, c->lists.max_entries, why, sizeof(why))) ==
		NULL) {
		snprintf(err, errlen, "lists.allow: %s", why);
		goto fail;
	}
	if (c->lists.deny[0] != '\0' &&
	    (p->deny = cidr_set_load(c->lists.deny, c->lists.max_entries, why, sizeof(why))) ==
		NULL) {
		snprintf(err, errlen, "lists.deny: %s", why);
		goto fail;
	}
	return p;
fail:
	policy_free(p);
	return NULL;
}

void policy_free(void *obj)
{
	struct policy *p = obj;

	if (p == NULL)
		return;
	cidr_set_free(p->allow);
	cidr_set_free(p->deny);
	free(p);
}
