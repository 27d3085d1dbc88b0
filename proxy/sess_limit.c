/*
 * sess_limit.c — the session glue's side of the lists and per-client
 * limits (policy.h, climit.h): which new session is denied (554 5.7.1),
 * which is over a limit (421 4.7.0, or its SYN dropped), and the
 * accounting when a session ends.
 *
 * The policy pointer is read from the RCU slot (reload.h) inside an
 * upcall; the worker loop reports quiescent only after the upcalls, so the
 * object cannot be freed while it is used here.
 */
#include "policy.h"
#include "reload.h"
#include "sess.h"
#include "sess_int.h"
#include "worker.h"

static const struct policy *policy_now(const struct worker *w)
{
	return w->sh->policy != NULL ? reload_get(w->sh->policy) : NULL;
}

int sess_admit(struct worker *w, struct sess *se, uint32_t addr, uint64_t now)
{
	const struct policy *p = policy_now(w);
	struct sess_cl *cl = &w->cl_s[se - w->sess];
	int tracked;

	cl->addr = 0;
	cl->junk = 0;
	if (p == NULL)
		return SMTP_R_NONE;
	switch (policy_list_of(p, addr)) {
	case POLICY_DENY:
		w->st.denied++;
		return SMTP_R_DENIED;
	case POLICY_ALLOW:
		w->st.allowed++;
		return SMTP_R_NONE;
	default:
		break;
	}
	if (!policy_limited(p))
		return SMTP_R_NONE;
	if (climit_open(&w->cl, &p->lim, addr, now, &tracked) != CLIMIT_OK)
		return SMTP_R_CLIENT_LIMIT;
	if (tracked)
		cl->addr = addr;
	return SMTP_R_NONE;
}

void sess_limit_junk(struct worker *w, const struct sess *se)
{
	w->cl_s[se - w->sess].junk = 1;
}

void sess_limit_end(struct worker *w, struct sess *se)
{
	struct sess_cl *cl = &w->cl_s[se - w->sess];
	const struct policy *p;

	if (cl->addr == 0)
		return;
	p = policy_now(w);
	if (p != NULL) /* a reload may have turned the limits off: still counted down */
		climit_close(&w->cl, &p->lim, cl->addr, se->s.errors + cl->junk, w->now);
	cl->addr = 0;
}

int sess_syn_filter(void *arg, uint32_t raddr, uint16_t lport, uint64_t now)
{
	struct wport *wp = arg;
	struct worker *w = wp->w;
	const struct policy *p = policy_now(w);

	(void)lport;
	if (p == NULL || p->action != CFG_LIMIT_DROP || !policy_limited(p) ||
	    policy_list_of(p, raddr) != POLICY_NONE)
		return 0; /* denied clients get their 554 */
	if (climit_check(&w->cl, &p->lim, raddr, now) == CLIMIT_OK)
		return 0;
	w->st.syn_dropped++;
	return 1;
}
