/*
 * sess_shed.c — memory-pressure shedding on a worker (issue 7; keys
 * limits.shed_at, shed_critical_at, shed_timeout_ms in config/bulwark.conf).
 *
 * Every SESS_SHED_CHECK_MS the worker measures its pressure: the fullest,
 * in percent, of its session pool, each port's mbuf pool (above what the
 * started port's RX rings hold for good, measured at worker_init) and its
 * relay message pool (objects out of the pool and not in its own stash:
 * held by sessions, rings and the relay). Level 1 (shedding) from shed_at, level 2
 * (critical) from shed_critical_at; back to 0 only below shed_at - 5, so
 * that a level does not flap around its threshold.
 *
 * What shedding does is junk-first: a session that has not reached MAIL
 * (smtp_retune refuses any that asked for a backend) runs on its
 * listener's shed configuration (worker_shared.smtp_shed: shed_timeout_ms
 * as its command timeout and greeting wait, error_limit 1), so idle and
 * erring clients leave sooner; at level 2 a new connection reads 421 4.3.2
 * instead of the greeting (on implicit TLS, where nothing can precede the
 * handshake, it is closed before it: sess_begin; a handshake that ends
 * while shedding starts on the shed configuration, and a STARTTLS session
 * whose handshake spanned a level change takes the level of its end:
 * tls_opened). A relayed session is never touched. Entering
 * and leaving a level walks the session array once (not per packet).
 */
#include <stdint.h>

#include <rte_mempool.h>

#include "relay.h"
#include "sess.h"
#include "sess_int.h"
#include "worker.h"

#define SESS_SHED_CHECK_MS 100u
#define SESS_SHED_HYST     5u /* percent below shed_at before shedding stops */

static uint32_t pct(uint64_t used, uint64_t size)
{
	return size ? (uint32_t)(used * 100u / size) : 0;
}

uint32_t sess_shed_pressure(const struct worker *w)
{
	uint32_t p = pct(w->live, w->n_sess);

	for (uint32_t i = 0; i < w->n_ports; i++) {
		/* above what the RX rings hold for good (worker_init): a pool
		 * that is mostly ring must not read as pressure */
		const struct rte_mempool *mp = w->port[i].pool;
		uint32_t base = w->port[i].mbuf_base, used = rte_mempool_in_use_count(mp), q;

		q = base < mp->size ? pct(used > base ? used - base : 0, mp->size - base) : 0;
		p = q > p ? q : p;
	}
	if (w->n_relays != 0) {
		const struct rte_mempool *mp = w->rpairs[0].wpool;
		uint32_t used = rte_mempool_in_use_count(mp), q;

		used = used > w->n_stash ? used - w->n_stash : 0;
		q = pct(used, mp->size);
		p = q > p ? q : p;
	}
	return p;
}

int sess_shed_is(const struct worker *w, const struct sess *se)
{
	const struct smtp_cfg *c = se->s.cfg;

	return c >= w->sh->smtp_shed && c < w->sh->smtp_shed + CFG_LISTENERS_MAX;
}

uint8_t sess_li(const struct worker *w, const struct sess *se)
{
	return (uint8_t)(sess_shed_is(w, se) ? se->s.cfg - w->sh->smtp_shed
					     : se->s.cfg - w->sh->smtp);
}

/* Moves every session that may be moved to its listener's shed (on) or
 * normal configuration. */
static void retune_all(struct worker *w, int on, uint64_t now)
{
	for (uint32_t i = 0; i < w->n_sess; i++) {
		struct sess *se = &w->sess[i];
		const struct smtp_cfg *to;
		uint8_t li;

		if (!se->used || (se->flags & SESS_F_CLOSE) || se->s.cfg == NULL ||
		    sess_shed_is(w, se) == on)
			continue;
		if (sess_tls_of(w, se) != NULL && sess_tls_of(w, se)->hs)
			continue; /* its core has not started yet, or waits for it */
		li = sess_li(w, se);
		to = on ? &w->sh->smtp_shed[li] : &w->sh->smtp[li];
		smtp_out_reset(&w->out);
		if (smtp_retune(&se->s, to, now, &w->out) != 0)
			continue; /* relayed: never shed */
		if (on)
			w->st.shed_tuned++;
		sess_carry(w, se, now);
	}
}

void sess_shed_poll(struct worker *w, uint64_t now)
{
	const struct cfg_limits *l = &w->sh->cfg->limits;
	uint32_t p;
	uint8_t lvl;

	if (now < w->shed_next || w->draining)
		return;
	w->shed_next = now + SESS_SHED_CHECK_MS;
	p = sess_shed_pressure(w);
	if (p > w->st.shed_peak)
		w->st.shed_peak = p;
	if (l->shed_at == 0) /* shedding off */
		lvl = 0;
	else if (p >= l->shed_critical_at)
		lvl = 2;
	else if (p >= l->shed_at || (w->shed && p + SESS_SHED_HYST >= l->shed_at))
		lvl = 1;
	else
		lvl = 0;
	if (lvl != 0 && w->shed == 0) {
		w->st.shed_enter++;
		w->shed = lvl;
		retune_all(w, 1, now);
	} else if (lvl == 0 && w->shed != 0) {
		w->shed = 0;
		retune_all(w, 0, now);
	}
	w->shed = lvl;
	__atomic_store_n(&w->pub_shed, lvl, __ATOMIC_RELAXED);
	__atomic_store_n(&w->pub_pressure, (uint8_t)(p > 100 ? 100 : p), __ATOMIC_RELAXED);
}
