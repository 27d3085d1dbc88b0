/*
 * sess_relay.c — a session's link to its backend through a relay lcore
 * (worker side of relay_msg.h; the contract is in sess_int.h and worker.h).
 *
 * Why it is shaped this way:
 * - Nothing the core forwards may be lost, and the core cannot be asked
 *   to take back what it emitted. So before smtp_input() a session that
 *   may forward is admitted only when (a) the worker's stash holds enough
 *   message objects for the worst case of that call and (b) its objects in
 *   flight plus that worst case stay within limits.session_mem (objects
 *   are charged whole, RELAY_MSG_SIZE each: that is the memory they hold).
 *   The worst case of n input bytes is 2n + 8 body bytes (normalize turns
 *   every bare LF into CRLF and dot-stuffs) in full objects, plus one
 *   object per command line (one line per object, relay_msg.h): at most
 *   n / 6 + 2 lines ("DATA\r\n" is the shortest forwarded line; one may
 *   have begun in an earlier call, one RSET may be the core's own), and
 *   never more than the core's reply queue holds: relay_objs(). A line
 *   longer than an object goes in several (the relay joins them: its
 *   reply slot is taken once, relay_io.c): AUTH and SASL lines on AUTH
 *   listeners, up to 12288 octets (RFC 4954 §4). Lines of this call pay
 *   for their extra objects out of the n / 6 term and the n / RELAY_MSG_DATA
 *   one (a line of L octets adds L / RELAY_MSG_DATA objects); the line
 *   begun in an earlier call may need them all at once: the session's
 *   largest line in objects, less the one counted.
 * - A session that is not admitted stops reading (its TCP window closes):
 *   for want of credit it resumes when its in-flight bytes have fallen to
 *   half the cap; for want of objects it waits in a FIFO, first come first
 *   served, woken by sess_relay_poll() as credits return objects.
 * - Credits are the worker's own objects coming back: they refill the
 *   stash before anything goes back to the mempool.
 * - Backend replies queue per session and are given to the core only while
 *   nothing is parked for the client (the core's reply must have room), in
 *   order; an event (NONE/BUSY/GONE) comes after every reply of its
 *   generation (ring order) and is delivered after them.
 * - A stale message (its session ended, or opened a newer backend session:
 *   another gen) is dropped; its object is freed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "log.h"
#include "relay.h"
#include "sess.h"
#include "sess_int.h"
#include "worker.h"

/* Client bytes offered to the core per call while it may forward. */
#define RL_FEED_MAX 8192u

/* Objects one call may fill for n client bytes (see the top): body
 * objects, command lines (those longer than an object in several), one
 * OPEN. line_max: the session's largest line limit. */
static uint32_t relay_objs(size_t n, uint32_t line_max)
{
	size_t lines = n / 6 + 2;

	if (lines > SMTP_QUEUE_SLOTS + 2)
		lines = SMTP_QUEUE_SLOTS + 2;
	lines += n / RELAY_MSG_DATA;
	if (line_max > RELAY_MSG_DATA)
		lines += (line_max + RELAY_MSG_DATA - 1) / RELAY_MSG_DATA - 1;
	return (uint32_t)((2 * n + 8) / RELAY_MSG_DATA + 1 + lines + 1);
}

/* The most client bytes, up to n, whose worst case fits in objs objects
 * (0: none). relay_objs() grows with n: a binary search. */
static size_t relay_fit(uint32_t objs, size_t n, uint32_t lm)
{
	size_t lo = 0, hi = n;

	if (relay_objs(n, lm) <= objs)
		return n;
	if (relay_objs(0, lm) > objs)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi + 1) / 2;

		if (relay_objs(mid, lm) <= objs)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static struct sess_rl *rl_of(struct worker *w, const struct sess *se)
{
	return se->rl ? &w->rl[se->rl - 1] : NULL;
}

/* ---- the stash of message objects ------------------------------------------ */

/* Fills the stash up to need objects. Returns 1 when it holds them. */
static int stash_fill(struct worker *w, uint32_t need)
{
	uint32_t want;

	if (w->n_stash >= need)
		return 1;
	want = RL_STASH_MAX - w->n_stash;
	if (rte_mempool_get_bulk(w->rpairs[0].wpool, (void **)&w->stash[w->n_stash], want) == 0) {
		w->n_stash += want;
		return 1;
	}
	while (w->n_stash < need &&
	       rte_mempool_get(w->rpairs[0].wpool, (void **)&w->stash[w->n_stash]) == 0)
		w->n_stash++;
	return w->n_stash >= need;
}

static struct relay_msg *stash_get(struct worker *w)
{
	struct relay_msg *m = NULL;

	if (w->n_stash != 0)
		return w->stash[--w->n_stash];
	if (rte_mempool_get(w->rpairs[0].wpool, (void **)&m) != 0)
		return NULL;
	return m;
}

/* Recycles one of the worker's own objects. */
static void stash_put(struct worker *w, struct relay_msg *m)
{
	if (w->n_stash < RL_STASH_MAX)
		w->stash[w->n_stash++] = m;
	else
		rte_mempool_put(w->rpairs[0].wpool, m);
}

/* ---- to the relay ------------------------------------------------------------- */

static int ring_put(struct worker *w, const struct sess_rl *rl, uintptr_t e)
{
	struct rte_ring *r = w->rpairs[rl->relay].w2r;

	/* cannot fail by sizing (relay_ring_size); counted if it ever does */
	if (rte_ring_sp_enqueue(r, (void *)e) == 0)
		return 0;
	w->st.relay_ring_full++;
	return -1;
}

/* Sends m (filled) to se's relay. Returns 0 or -1 (the object is freed). */
static int msg_send(struct worker *w, struct sess_rl *rl, struct relay_msg *m)
{
	rl->inflight++;
	w->st.relay_bytes += m->len;
	w->st.relay_msgs++;
	if (ring_put(w, rl, (uintptr_t)m) == 0)
		return 0;
	rl->inflight--;
	stash_put(w, m);
	return -1;
}

static void msg_init(struct relay_msg *m, const struct worker *w, uint32_t sid,
		     const struct sess_rl *rl, uint8_t kind)
{
	m->sid = sid;
	m->gen = rl->gen;
	m->kind = kind;
	m->flags = 0;
	m->len = 0;
	m->w = w->id;
	m->next = NULL;
}

/* Frees the replies se's link still holds and the link itself. */
static void rl_release(struct worker *w, struct sess *se)
{
	struct sess_rl *rl = rl_of(w, se);
	struct relay_msg *m;

	if (rl == NULL)
		return;
	while ((m = rl->rq_head) != NULL) {
		rl->rq_head = m->next;
		rte_mempool_put(w->rpairs[rl->relay].rpool, m);
	}
	w->rl_free[w->rl_nfree++] = se->rl - 1;
	se->rl = 0;
	w->rl_live--;
}

/* A terminal control (ABORT/QUIT) for se's backend session, then the link
 * goes (its late credits and replies are stale from now on). */
static void rl_terminate(struct worker *w, struct sess *se, uint8_t kind)
{
	struct sess_rl *rl = rl_of(w, se);

	if (rl == NULL)
		return;
	if (ring_put(w, rl, relay_ctl_pack(kind, (uint32_t)(se - w->sess), rl->gen, 0)) == 0)
		w->st.relay_terminal++;
	rl_release(w, se);
}

/* Opens a backend session for se. Returns 0 or -1 (no link or object). */
static int rl_open(struct worker *w, struct sess *se, const struct smtp_out *o)
{
	uint32_t sid = (uint32_t)(se - w->sess);
	struct relay_open *op;
	struct relay_msg *m;
	struct sess_rl *rl;
	uint16_t lport, rport;
	uint32_t laddr, raddr;
	const uint8_t *helo;
	size_t helo_len;
	struct sess_tls *t;

	if (se->rl != 0) /* an earlier one the core has let go of */
		rl_terminate(w, se, RELAY_M_ABORT);
	if (w->rl_nfree == 0 || (m = stash_get(w)) == NULL)
		return -1;
	se->rl = w->rl_free[--w->rl_nfree] + 1;
	w->rl_live++;
	rl = rl_of(w, se);
	memset(rl, 0, sizeof(*rl));
	w->rgen = relay_gen_next(w->rgen);
	rl->gen = w->rgen;
	rl->relay = (uint16_t)(rl->gen % w->n_relays); /* round robin over the relays */
	msg_init(m, w, sid, rl, RELAY_M_OPEN);
	op = (struct relay_open *)m->data;
	memset(op, 0, sizeof(*op));
	sess_client(w, se, &raddr, &rport, &laddr, &lport); /* a PROXY header's client */
	op->client_addr = raddr;
	op->client_port = rport;
	op->local_addr = laddr;
	op->local_port = lport;
	op->ehlo = o->relay_ehlo;
	op->listener = sess_listener(w, laddr, rte_be_to_cpu_16(lport));
	if ((t = sess_tls_of(w, se)) != NULL && tls_conn_version(t->c) != NULL) {
		/* cut to fit (snprintf), never more than the TLVs take */
		op->tls = 1;
		snprintf(op->tls_version, sizeof(op->tls_version), "%s", tls_conn_version(t->c));
		snprintf(op->tls_cipher, sizeof(op->tls_cipher), "%s",
			 tls_conn_cipher(t->c) ? tls_conn_cipher(t->c) : "");
	}
	helo = sess_helo_arg(w, se, &helo_len);
	op->helo_len = (uint8_t)(helo_len > sizeof(op->helo) ? sizeof(op->helo) : helo_len);
	if (helo != NULL)
		memcpy(op->helo, helo, op->helo_len);
	m->len = (uint16_t)sizeof(*op);
	w->st.relay_open++;
	rl->inflight = 1; /* the OPEN comes back as a credit too */
	if (ring_put(w, rl, (uintptr_t)m) != 0) {
		stash_put(w, m);
		rl_release(w, se);
		return -1;
	}
	return 0;
}

/*
 * Copies out->fwd[from..to) into objects of kind (RELAY_M_BODY: filled up;
 * RELAY_M_CMD: one line each) and sends them. last_flags go on the last
 * object. Returns 0 or -1.
 */
static int fwd_copy(struct worker *w, struct sess *se, const struct smtp_out *o, uint32_t from,
		    uint32_t to, uint8_t kind, uint8_t last_flags)
{
	uint32_t sid = (uint32_t)(se - w->sess);
	struct sess_rl *rl = rl_of(w, se);
	struct relay_msg *m = NULL;

	for (uint32_t i = from; i < to; i++) {
		const uint8_t *p = o->fwd[i].p;
		size_t n = o->fwd[i].len;

		while (n != 0) {
			size_t k = n;

			if (kind == RELAY_M_CMD) {
				const uint8_t *lf = memchr(p, '\n', n);

				k = lf ? (size_t)(lf - p) + 1 : n; /* one line */
			}
			/* full, or a line done: send it */
			if (m != NULL && (m->len == RELAY_MSG_DATA ||
					  (kind == RELAY_M_CMD && m->data[m->len - 1] == '\n'))) {
				if (msg_send(w, rl, m) != 0)
					return -1;
				m = NULL;
			}
			if (m == NULL) {
				if ((m = stash_get(w)) == NULL) {
					w->st.relay_lost++;
					return -1;
				}
				msg_init(m, w, sid, rl, kind);
			}
			if (k > RELAY_MSG_DATA - m->len)
				k = RELAY_MSG_DATA - m->len; /* the rest in the next object */
			memcpy(m->data + m->len, p, k);
			m->len = (uint16_t)(m->len + k);
			p += k;
			n -= k;
		}
	}
	if (m == NULL)
		return 0;
	m->flags = last_flags;
	return msg_send(w, rl, m);
}

int sess_relay_carry(struct worker *w, struct sess *se, uint64_t now, int *ev)
{
	const struct smtp_out *o = &w->out;
	uint32_t act = o->actions;
	struct sess_rl *rl;

	(void)now;
	if (act & SMTP_ACT_RELAY) {
		if (w->n_relays == 0) {
			/* no backend configured: the client hears 421 4.3.0 */
			w->st.relay_none++;
			*ev = SMTP_BACKEND_NONE;
			return 1;
		}
		if (rl_open(w, se, o) != 0) {
			w->st.relay_lost++;
			*ev = SMTP_BACKEND_NONE;
			return 1;
		}
	}
	rl = rl_of(w, se);
	if (rl != NULL && o->fwd_n != 0) {
		uint8_t end = (act & SMTP_ACT_DATA_END) ? RELAY_F_DATA_END : 0;

		if (fwd_copy(w, se, o, 0, o->fwd_body, RELAY_M_BODY, end) != 0 ||
		    fwd_copy(w, se, o, o->fwd_body, o->fwd_n, RELAY_M_CMD, 0) != 0) {
			/* cannot happen (admission reserved the objects): the
			 * backend session is lost, never half-forwarded */
			rl_terminate(w, se, RELAY_M_ABORT);
			*ev = SMTP_BACKEND_GONE;
			return 1;
		}
	}
	if (act & SMTP_ACT_BACKEND_ABORT)
		rl_terminate(w, se, RELAY_M_ABORT);
	else if (act & SMTP_ACT_BACKEND_QUIT)
		rl_terminate(w, se, RELAY_M_QUIT);
	return 0;
}

void sess_relay_end(struct worker *w, struct sess *se)
{
	/* a FIFO entry of se (se->rq) stays: the slot's next occupant uses
	 * it, so the FIFO never holds a slot twice */
	rl_terminate(w, se, RELAY_M_ABORT);
}

/* ---- admission ------------------------------------------------------------------ */

/* se waits for objects, first come first served. */
static void rwait_objs(struct worker *w, struct sess *se)
{
	se->flags |= SESS_F_RWAIT;
	w->st.relay_wait++;
	if (se->rq)
		return;
	se->rq = 1;
	w->rq[(w->rq_head + w->rq_n++) % w->n_sess] = (uint32_t)(se - w->sess);
}

size_t sess_relay_admit(struct worker *w, struct sess *se, size_t n)
{
	struct sess_rl *rl;
	uint32_t max, held;
	size_t fit;

	if (w->n_relays == 0 || !smtp_may_forward(&se->s))
		return n;
	if (n > RL_FEED_MAX)
		n = RL_FEED_MAX;
	/* held + relay_objs(n) <= the cap in objects (limits.session_mem is at
	 * least 256 KiB = 64 objects, above relay_objs(RL_FEED_MAX,
	 * SESS_AUTH_LINE_CAP) = 45: a session with nothing in flight is always
	 * admitted) */
	rl = rl_of(w, se);
	max = w->sh->cfg->limits.session_mem / RELAY_MSG_SIZE;
	held = rl != NULL ? rl->inflight : 0;
	fit = relay_fit(held < max ? max - held : 0, n, se->s.line_max);
	if (fit == 0 && held != 0) {
		se->flags |= SESS_F_CWAIT;
		w->st.relay_credit_wait++;
		return 0;
	}
	if (n > fit)
		n = fit ? fit : 1;
	/* waiters first, unless se is the one being woken */
	if ((w->rq_n != 0 && w->rq_waking != (uint32_t)(se - w->sess) + 1) ||
	    !stash_fill(w, relay_objs(n, se->s.line_max))) {
		rwait_objs(w, se);
		return 0;
	}
	return n;
}

/* ---- from the relay ---------------------------------------------------------- */

/* Re-offers se the bytes it held back, unless something still blocks it. */
static void resume(struct worker *w, struct sess *se, uint64_t now)
{
	struct tcp_conn *c = se->c;

	if (!se->used || c == NULL || se->ovf != 0 ||
	    (se->flags &
	     (SESS_F_CLOSE | SESS_F_LWAIT | SESS_F_RWAIT | SESS_F_CWAIT | SESS_F_PAUSE)))
		return;
	if (sess_tls_of(w, se) != NULL &&
	    (sess_tls_pump(w, se, now) < 0 || !se->used || se->c != c))
		return; /* decrypted bytes first */
	net_resume(sess_wport(w, se)->net, c, now);
	if (se->used && se->c == c)
		sess_fin_done(w, se, now);
}

int sess_relay_deliver(struct worker *w, struct sess *se, uint64_t now)
{
	struct sess_rl *rl;
	struct relay_msg *m;
	int rc, ev, tries = 0;

	while ((rl = rl_of(w, se)) != NULL && se->ovf == 0) {
		if ((se->flags & SESS_F_MORE) && sess_feed(w, se, NULL, 0, now) == SIZE_MAX)
			return -1;
		if ((rl = rl_of(w, se)) == NULL || se->ovf != 0)
			break;
		if ((m = rl->rq_head) == NULL) {
			if (rl->ev == 0)
				return 0;
			ev = rl->ev - 1;
			rl_release(w, se); /* the relay has forgotten it */
			smtp_out_reset(&w->out);
			smtp_backend_event(&se->s, (enum smtp_backend_ev)ev, now, &w->out);
			se->flags &= (uint8_t)~SESS_F_PAUSE;
			return sess_carry(w, se, now) < 0 ? -1 : 0;
		}
		smtp_out_reset(&w->out);
		rc = smtp_backend_reply(&se->s, m->data, m->len, now, &w->out);
		if (rc == -ENOBUFS && ++tries < 4) {
			/* local replies first: flush them and retry */
			if (sess_carry(w, se, now) < 0)
				return -1;
			if (se->ovf != 0)
				return 0;
			if (sess_feed(w, se, NULL, 0, now) == SIZE_MAX)
				return -1;
			continue;
		}
		rl->rq_head = m->next;
		rte_mempool_put(w->rpairs[rl->relay].rpool, m);
		w->st.relay_replies++;
		if (rc != 0) {
			/* a reply the core did not expect: the backend is broken */
			w->st.relay_bad_reply++;
			rl_terminate(w, se, RELAY_M_ABORT);
			smtp_out_reset(&w->out);
			smtp_backend_event(&se->s, SMTP_BACKEND_GONE, now, &w->out);
			return sess_carry(w, se, now) < 0 ? -1 : 0;
		}
		se->flags &= (uint8_t)~SESS_F_PAUSE;
		if (sess_carry(w, se, now) < 0)
			return -1;
	}
	return 0;
}

/* The session a message is for, or NULL when it is stale. */
static struct sess *owner(struct worker *w, uint32_t sid, uint32_t gen)
{
	struct sess *se;

	if (sid >= w->n_sess)
		return NULL;
	se = &w->sess[sid];
	if (!se->used || se->rl == 0 || w->rl[se->rl - 1].gen != gen)
		return NULL;
	return se;
}

static void on_credit(struct worker *w, struct relay_msg *m, uint64_t now)
{
	struct sess *se = owner(w, m->sid, m->gen);

	w->st.relay_credits++;
	if (se != NULL) {
		struct sess_rl *rl = rl_of(w, se);

		if (rl->inflight != 0)
			rl->inflight--;
		if ((se->flags & SESS_F_CWAIT) &&
		    rl->inflight <= w->sh->cfg->limits.session_mem / RELAY_MSG_SIZE / 2) {
			se->flags &= (uint8_t)~SESS_F_CWAIT;
			resume(w, se, now);
		}
	}
	stash_put(w, m);
}

static void on_reply(struct worker *w, struct relay_msg *m, uint16_t relay, uint64_t now)
{
	struct sess *se = owner(w, m->sid, m->gen);
	struct sess_rl *rl;

	if (se == NULL) {
		w->st.relay_stale++;
		rte_mempool_put(w->rpairs[relay].rpool, m);
		return;
	}
	rl = rl_of(w, se);
	m->next = NULL;
	if (rl->rq_head == NULL)
		rl->rq_head = m;
	else
		rl->rq_tail->next = m;
	rl->rq_tail = m;
	if (sess_relay_deliver(w, se, now) == 0)
		resume(w, se, now);
}

static void on_event(struct worker *w, uintptr_t e, uint64_t now)
{
	struct sess *se = owner(w, relay_ctl_sid(e), relay_ctl_gen(e));
	uint8_t ev = relay_ctl_arg(e);

	if (se == NULL) {
		w->st.relay_stale++;
		return;
	}
	if (ev == SMTP_BACKEND_READY) {
		w->st.relay_ready++;
		return; /* forwarded bytes are already on their way */
	}
	rl_of(w, se)->ev = (uint8_t)(ev + 1);
	if (sess_relay_deliver(w, se, now) == 0)
		resume(w, se, now);
}

/* Hands objects that came back to the sessions waiting for them. */
static void wake_waiters(struct worker *w, uint64_t now)
{
	while (w->rq_n != 0) {
		uint32_t sid = w->rq[w->rq_head];
		struct sess *se = &w->sess[sid];
		int waits = se->used && (se->flags & SESS_F_RWAIT);

		if (waits && !stash_fill(w, relay_objs(RL_FEED_MAX, se->s.line_max)))
			return; /* the head still waits: first come, first served */
		w->rq_head = (w->rq_head + 1) % w->n_sess;
		w->rq_n--;
		se->rq = 0; /* also for an entry left by an earlier occupant */
		if (!waits)
			continue;
		se->flags &= (uint8_t)~SESS_F_RWAIT;
		w->rq_waking = sid + 1; /* it may pass the waiters behind it */
		resume(w, se, now);
		w->rq_waking = 0;
	}
}

void sess_relay_poll(struct worker *w, uint64_t now)
{
	void *burst[64];

	for (uint16_t r = 0; r < w->n_relays; r++) {
		unsigned n = rte_ring_sc_dequeue_burst(w->rpairs[r].r2w, burst, 64, NULL);

		for (unsigned i = 0; i < n; i++) {
			uintptr_t e = (uintptr_t)burst[i];
			struct relay_msg *m = burst[i];

			if (relay_is_ctl(e)) {
				if (relay_ctl_kind(e) == RELAY_M_EVENT)
					on_event(w, e, now);
				else
					w->st.relay_proto_err++;
			} else if (m->kind == RELAY_M_CREDIT) {
				on_credit(w, m, now);
			} else if (m->kind == RELAY_M_REPLY) {
				on_reply(w, m, r, now);
			} else {
				w->st.relay_proto_err++;
				rte_mempool_put(w->rpairs[r].rpool, m);
			}
		}
	}
	if (w->rq_n != 0)
		wake_waiters(w, now);
}

/* ---- setup ------------------------------------------------------------------------ */

size_t sess_relay_mem(uint32_t n_sess)
{
	return (size_t)n_sess * (sizeof(struct sess_rl) + 2 * sizeof(uint32_t));
}

void sess_relay_init(struct worker *w, void *mem)
{
	uint8_t *p = mem;

	w->rl = (struct sess_rl *)p;
	p += (size_t)w->n_sess * sizeof(struct sess_rl);
	w->rl_free = (uint32_t *)p;
	p += (size_t)w->n_sess * sizeof(uint32_t);
	w->rq = (uint32_t *)p;
	w->rl_nfree = 0;
	for (uint32_t i = w->n_sess; i-- > 0;)
		w->rl_free[w->rl_nfree++] = i;
	w->rq_head = w->rq_n = 0;
	w->rl_live = 0;
	w->n_stash = 0;
}

void sess_relay_fini(struct worker *w)
{
	for (uint32_t i = 0; w->rl != NULL && i < w->n_sess; i++)
		if (w->sess[i].rl != 0)
			rl_release(w, &w->sess[i]);
	if (w->n_relays != 0 && w->n_stash != 0)
		rte_mempool_put_bulk(w->rpairs[0].wpool, (void **)w->stash, w->n_stash);
	w->n_stash = 0;
}
