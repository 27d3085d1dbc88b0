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
#include <string.h>

#include <rte_byteorder.h>

#include "policy.h"
#include "pxhdr.h"
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
	int tracked;

	se->cl = 0;
	se->junk = 0;
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
	/* the address is not kept: sess_client() gives the same one back
	 * when the session ends (the TCP peer, or the PROXY header's source) */
	se->cl = tracked != 0;
	return SMTP_R_NONE;
}

void sess_limit_junk(struct worker *w, struct sess *se)
{
	(void)w;
	se->junk = 1;
}

void sess_limit_end(struct worker *w, struct sess *se)
{
	const struct policy *p;
	uint32_t addr, laddr;
	uint16_t rport, lport;

	if (!se->cl || se->c == NULL)
		return;
	se->cl = 0;
	sess_client(w, se, &addr, &rport, &laddr, &lport);
	p = policy_now(w);
	if (p != NULL) /* a reload may have turned the limits off: still counted down */
		climit_close(&w->cl, &p->lim, addr, se->s.errors + se->junk, w->now);
}

/* ---- accept_proxy --------------------------------------------------------- */

static int proxy_from_ok(const struct cfg_listener *l, uint32_t raddr)
{
	uint32_t a = rte_be_to_cpu_32(raddr);

	for (uint32_t i = 0; i < l->n_proxy_from; i++)
		if (a >= l->proxy_from[i].lo && a <= l->proxy_from[i].hi)
			return 1;
	return 0;
}

int sess_proxy_wait(struct worker *w, struct sess *se, uint8_t li, uint32_t raddr, uint64_t now)
{
	const struct cfg_listener *l = &w->sh->cfg->listeners[li];

	if (!proxy_from_ok(l, raddr)) {
		w->st.proxy_denied++;
		return -1;
	}
	w->px[se - w->sess].wait = (uint8_t)(li + 1); /* w->px exists: li has accept_proxy */
	wheel_arm(&w->wheel, &se->tm, now + l->proxy_timeout_ms);
	return 0;
}

int sess_proxy_waiting(const struct worker *w, const struct sess *se)
{
	return w->px != NULL && w->px[se - w->sess].wait != 0;
}

long sess_proxy_recv(struct worker *w, struct sess *se, const uint8_t *p, size_t len, uint8_t *li,
		     uint32_t *addr, uint64_t now)
{
	struct sess_px *px = &w->px[se - w->sess];
	struct pxhdr h;
	uint32_t laddr;
	uint16_t rport, lport;
	long k = pxhdr_parse(p, len, &h);

	if (k == 0)
		return 0; /* the flow keeps the bytes (at most PXHDR_MAX matter) */
	if (k < 0) {
		w->st.proxy_bad++;
		wheel_cancel(&w->wheel, &se->tm);
		sess_end(w, se, now, 0);
		return -1;
	}
	*li = (uint8_t)(px->wait - 1);
	px->wait = 0;
	wheel_cancel(&w->wheel, &se->tm);
	if (h.local) {
		w->st.proxy_local++;
	} else {
		w->st.proxy_ok++;
		px->addr = h.src;
		px->port = h.sport;
		px->ok = 1;
	}
	sess_client(w, se, addr, &rport, &laddr, &lport);
	return k;
}

void sess_client(const struct worker *w, const struct sess *se, uint32_t *raddr, uint16_t *rport,
		 uint32_t *laddr, uint16_t *lport)
{
	const struct sess_px *px = w->px != NULL ? &w->px[se - w->sess] : NULL;

	net_conn_peer(se->c, raddr, rport, laddr, lport);
	if (px != NULL && px->ok) {
		*raddr = px->addr;
		*rport = px->port;
	}
}

/* ---- drop mode ------------------------------------------------------------- */

/* 1 when a listener on lport takes PROXY headers: there the TCP peer is
 * the balancer, whose SYNs must never be judged as one client's. */
static int proxy_port(const struct worker *w, uint16_t lport)
{
	const struct cfg *c = w->sh->cfg;

	for (uint32_t i = 0; i < c->n_listeners; i++)
		if (c->listeners[i].port == lport && c->listeners[i].accept_proxy)
			return 1;
	return 0;
}

int sess_syn_filter(void *arg, uint32_t raddr, uint16_t lport, uint64_t now)
{
	struct wport *wp = arg;
	struct worker *w = wp->w;
	const struct policy *p = policy_now(w);

	if (p == NULL || proxy_port(w, lport) || p->action != CFG_LIMIT_DROP ||
	    !policy_limited(p) || policy_list_of(p, raddr) != POLICY_NONE)
		return 0; /* denied clients get their 554 */
	if (climit_check(&w->cl, &p->lim, raddr, now) == CLIMIT_OK)
		return 0;
	w->st.syn_dropped++;
	return 1;
}
