/*
 * sess.c — the session glue (see sess.h for the contract).
 *
 * Why it is shaped this way:
 * - The core writes into one per-worker struct smtp_out (out.cap =
 *   SMTP_OUT_MIN); every call's output is carried out at once (sess_carry),
 *   so it is always empty between calls.
 * - Replies go straight into the flow's send buffer. A short net_send (the
 *   buffer is full, or the shared buffer pool is empty) parks the rest and
 *   the session stops consuming (recv returns 0, so the bytes stay in the
 *   flow and its window shrinks) until the writable upcall flushed it. The
 *   parked state is at most one core call plus a timer's reply, so a
 *   buffer of SESS_OVF_SIZE always suffices.
 * - A close the core asks for while replies are parked waits for the flush
 *   (SESS_F_CLOSE): net_close queues the FIN after the bytes it holds, and
 *   the parked ones must go first.
 * - FIN from the client: once everything it sent has been answered, close
 *   too (FIN after our replies, then the endpoint's linger).
 * - Work areas (the core's struct smtp_work with the command line) are
 *   lent to the core per call (smtp.h): taken before smtp_input() if the
 *   session has none, given back after any call that leaves
 *   smtp_work_busy() at 0, so an idle session holds none. When
 *   the pool is empty the core runs without one; if it then needs one
 *   (SMTP_ACT_NEED_WORK) the session stops consuming like a parked one and
 *   joins a per-worker FIFO. sess_lines_wake() hands freed buffers to the
 *   FIFO's head from the worker loop (never from inside an upcall, which
 *   would re-enter the endpoint) and re-offers its bytes: first come, first
 *   served, so no session starves. A session is in the FIFO at most once
 *   (lq), also after it died there, which bounds the FIFO by the sessions.
 *   Listeners that offer AUTH have a pool (and FIFO, laq) of their own, of
 *   areas for 12288-octet lines (below: struct lpool).
 * - The EHLO/HELO argument the core hands over (SMTP_ACT_HELO, pointing
 *   into the lent area) is copied into the worker's slab (sess_helo.h)
 *   before the area can go back; no room there aborts the flow
 *   (helo_lost), as a relayed session could not replay it.
 * - Parking buffers keep their offset and length in their own first bytes,
 *   so an idle session holds only its index field (0).
 * - Deadlines live in the worker's own timing wheel (the net layer's wheel
 *   module, a second instance): O(1) to arm on every call.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_common.h>

#include "net_asan.h"
#include "sess.h"
#include "sess_int.h"
#include "worker.h"

/* Free sessions, work areas, parking buffers and slab objects are poisoned
 * for ASan (it does not see inside DPDK memory otherwise): net_asan.h. */

_Static_assert(sizeof(struct sess) <= SESS_BYTES, "struct sess outgrew SESS_BYTES");
_Static_assert(CFG_PORTS_MAX <= 8, "struct sess.port has 3 bits");
_Static_assert(CFG_SESSIONS_MAX < (1u << 25),
	       "struct sess.line has 25 bits (work areas <= sessions)");

struct wport *sess_wport(struct worker *w, const struct sess *se)
{
	return &w->port[se->port];
}

/* How long a closing session waits for its parked replies to leave. */
#define SESS_CLOSE_WAIT_MS 10000u

uint32_t sess_ovf_count(uint32_t n_sess)
{
	uint32_t n = n_sess / 32;

	/* struct sess.ovf has 18 bits (index + 1) */
	return n < 64 ? 64 : n < (1u << 18) - 1 ? n : (1u << 18) - 1;
}

void sess_pool_init(struct worker *w)
{
	/* free slots form a list through their (unarmed) timer's next word,
	 * sess[0] first */
	w->free1 = 0;
	for (uint32_t i = w->n_sess; i-- > 0;) {
		w->sess[i].tm.next = w->free1;
		w->free1 = i + 1;
		NET_POISON(&w->sess[i].s, sizeof(w->sess[i].s));
	}
	w->lbuf_nfree = 0;
	for (uint32_t i = w->n_lbuf; i-- > 0;)
		w->lbuf_free[w->lbuf_nfree++] = i;
	NET_POISON(w->lbuf, (size_t)w->n_lbuf * SESS_WORK_SIZE);
	w->lq_head = w->lq_n = 0;
	w->abuf_nfree = 0;
	for (uint32_t i = w->n_abuf; i-- > 0;)
		w->abuf_free[w->abuf_nfree++] = i;
	if (w->abuf != NULL)
		NET_POISON(w->abuf, (size_t)w->n_abuf * SESS_AUTH_WORK_SIZE);
	w->laq_head = w->laq_n = 0;
	w->ovf_nfree = 0;
	for (uint32_t i = w->n_ovf; i-- > 0;)
		w->ovf_free[w->ovf_nfree++] = i;
	NET_POISON(w->ovf, (size_t)w->n_ovf * SESS_OVF_STRIDE);
	w->live = 0;
}

void sess_pool_fini(struct worker *w)
{
	if (w->sess == NULL)
		return;
	for (uint32_t i = 0; i < w->n_sess; i++)
		NET_UNPOISON(&w->sess[i].s, sizeof(w->sess[i].s));
	NET_UNPOISON(w->lbuf, (size_t)w->n_lbuf * SESS_WORK_SIZE);
	if (w->abuf != NULL)
		NET_UNPOISON(w->abuf, (size_t)w->n_abuf * SESS_AUTH_WORK_SIZE);
	NET_UNPOISON(w->ovf, (size_t)w->n_ovf * SESS_OVF_STRIDE);
	sess_helo_fini(&w->helo);
}

/*
 * Two pools of work areas: SESS_WORK_SIZE for most listeners, and
 * SESS_AUTH_WORK_SIZE for the sessions of listeners that offer AUTH
 * (smtp_start got that size, so their largest line limit is 12288 and the
 * core takes no smaller area). Each pool has its own FIFO of waiting
 * sessions and its own "has an entry" bit in struct sess (lq, laq), so a
 * slot reused by a session of the other kind never waits behind a stale
 * entry. A view of either pool:
 */
struct lpool {
	uint8_t *buf;
	size_t size;
	uint32_t *free, *nfree, *used, *q, *q_head, *q_n;
	uint64_t *peak, *waits;
};

/* 1 when se's session takes its work areas from the AUTH pool. */
static int line_auth(const struct sess *se)
{
	return se->s.line_max > SESS_LINE_CAP;
}

static struct lpool lpool_of(struct worker *w, int auth)
{
	if (auth)
		return (struct lpool){ .buf = w->abuf,
				       .size = SESS_AUTH_WORK_SIZE,
				       .free = w->abuf_free,
				       .nfree = &w->abuf_nfree,
				       .used = &w->abuf_used,
				       .q = w->laq,
				       .q_head = &w->laq_head,
				       .q_n = &w->laq_n,
				       .peak = &w->st.auth_line_peak,
				       .waits = &w->st.auth_line_wait };
	return (struct lpool){ .buf = w->lbuf,
			       .size = SESS_WORK_SIZE,
			       .free = w->lbuf_free,
			       .nfree = &w->lbuf_nfree,
			       .used = &w->lbuf_used,
			       .q = w->lq,
			       .q_head = &w->lq_head,
			       .q_n = &w->lq_n,
			       .peak = &w->st.line_peak,
			       .waits = &w->st.line_wait };
}

static uint8_t *line_buf(const struct lpool *lp, uint32_t line)
{
	return lp->buf + (size_t)(line - 1) * lp->size;
}

/* Lends a work area to se's core if it has none and one is free. */
static void line_get(struct worker *w, struct sess *se)
{
	struct lpool lp = lpool_of(w, line_auth(se));

	if (se->line != 0 || *lp.nfree == 0)
		return;
	se->line = lp.free[--*lp.nfree] + 1;
	NET_UNPOISON(line_buf(&lp, se->line), lp.size);
	smtp_work_lend(&se->s, line_buf(&lp, se->line), lp.size);
	if (++*lp.used > *lp.peak)
		*lp.peak = *lp.used;
}

/* Takes se's work area back (force: the session ends, busy or not). */
static void line_put(struct worker *w, struct sess *se, int force)
{
	struct lpool lp;

	if (se->line == 0 || (!force && smtp_work_busy(&se->s)))
		return;
	lp = lpool_of(w, line_auth(se));
	smtp_work_lend(&se->s, NULL, 0);
	NET_POISON(line_buf(&lp, se->line), lp.size);
	lp.free[(*lp.nfree)++] = se->line - 1;
	--*lp.used;
	se->line = 0;
}

/* The core needs a work area and none is free: se waits in its pool's
 * FIFO. */
static void line_wait(struct worker *w, struct sess *se)
{
	int auth = line_auth(se);
	struct lpool lp = lpool_of(w, auth);
	uint32_t idx = (uint32_t)(se - w->sess);

	se->flags |= SESS_F_LWAIT;
	++*lp.waits;
	if (auth ? se->laq : se->lq)
		return; /* an entry of an earlier occupant of the slot serves */
	if (auth)
		se->laq = 1;
	else
		se->lq = 1;
	lp.q[(*lp.q_head + (*lp.q_n)++) % w->n_sess] = idx;
}

/* The head of a parking buffer: where its parked bytes are. */
struct sess_park {
	uint16_t off, len;
};

static struct sess_park *park_of(struct worker *w, uint32_t ovf)
{
	return (struct sess_park *)(void *)(w->ovf + (size_t)(ovf - 1) * SESS_OVF_STRIDE);
}

static uint8_t *ovf_buf(struct worker *w, uint32_t ovf)
{
	return w->ovf + (size_t)(ovf - 1) * SESS_OVF_STRIDE + (SESS_OVF_STRIDE - SESS_OVF_SIZE);
}

/* Takes a parking buffer for se. Returns 0, or -1 when none is left. */
static int ovf_get(struct worker *w, struct sess *se)
{
	if (w->ovf_nfree == 0)
		return -1;
	se->ovf = w->ovf_free[--w->ovf_nfree] + 1;
	NET_UNPOISON(park_of(w, se->ovf), SESS_OVF_STRIDE);
	park_of(w, se->ovf)->off = park_of(w, se->ovf)->len = 0;
	w->st.ovf_used++;
	return 0;
}

static void ovf_put(struct worker *w, struct sess *se)
{
	NET_POISON(park_of(w, se->ovf), SESS_OVF_STRIDE);
	w->ovf_free[w->ovf_nfree++] = se->ovf - 1;
	se->ovf = 0;
}

static struct sess *sess_get(struct worker *w)
{
	struct sess *se;

	if (w->free1 == 0)
		return NULL;
	se = &w->sess[w->free1 - 1];
	w->free1 = se->tm.next;
	NET_UNPOISON(&se->s, sizeof(se->s));
	memset(&se->tm, 0, sizeof(se->tm));
	se->c = NULL;
	se->ovf = 0;
	se->line = 0;
	se->helo = 0;
	se->flags = 0;
	se->used = 1;
	se->cl = 0;
	se->junk = 0;
	if (w->px != NULL)
		memset(&w->px[se - w->sess], 0, sizeof(w->px[0]));
	if (++w->live > w->st.peak)
		w->st.peak = w->live;
	return se;
}

static void sess_put(struct worker *w, struct sess *se)
{
	sess_limit_end(w, se);
	wheel_cancel(&w->wheel, &se->tm);
	sess_tls_put(w, se);
	if (se->rl)
		sess_relay_end(w, se);
	if (se->ovf)
		ovf_put(w, se);
	line_put(w, se, 1);
	sess_helo_free(&w->helo, se->helo);
	se->helo = 0;
	if (se->c != NULL)
		net_conn_set_app(se->c, NULL);
	se->c = NULL;
	se->used = 0;
	NET_POISON(&se->s, sizeof(se->s));
	w->live--;
	se->tm.next = w->free1; /* cancelled above: the word is ours */
	w->free1 = (uint32_t)(se - w->sess) + 1;
}

/* Ends the flow the hard way (no room to keep its replies in, or they
 * could not leave) and frees se. */
static void sess_abort(struct worker *w, struct sess *se, uint64_t now)
{
	struct tcp_conn *c = se->c;
	struct net_ctx *net = sess_wport(w, se)->net;

	w->st.ovf_lost++;
	sess_put(w, se);
	net_abort(net, c, now);
}

/* Graceful end: FIN after everything queued, linger; frees se. */
static void sess_close(struct worker *w, struct sess *se, uint64_t now)
{
	struct tcp_conn *c = se->c;
	struct net_ctx *net = sess_wport(w, se)->net;

	sess_tls_close(w, se, now);
	sess_put(w, se);
	net_close(net, c, now);
}

void sess_end(struct worker *w, struct sess *se, uint64_t now, int hard)
{
	if (hard)
		sess_abort(w, se, now);
	else
		sess_close(w, se, now);
}

int sess_close_soon(struct worker *w, struct sess *se, uint64_t now)
{
	if (se->ovf) {
		/* a client that never reads must not pin the session: the
		 * flush gets the linger time, then a reset */
		se->flags |= SESS_F_CLOSE;
		wheel_arm(&w->wheel, &se->tm, now + SESS_CLOSE_WAIT_MS);
		return 1;
	}
	sess_close(w, se, now);
	return -1;
}

/*
 * Sends p[0..n) to the client, parking what the flow cannot take. Returns 0,
 * or -1 when se had to be aborted (and is freed).
 */
static int sess_send(struct worker *w, struct sess *se, const uint8_t *p, size_t n, uint64_t now)
{
	struct sess_park *pk;
	long k = 0;

	if (n == 0)
		return 0;
	if (sess_tls_of(w, se) != NULL)
		return sess_tls_send(w, se, p, n, now);
	if (se->ovf == 0) {
		k = net_send(sess_wport(w, se)->net, se->c, p, n, now);
		if (k < 0) /* the peer can no longer be sent to: nothing to keep */
			return 0;
		if ((size_t)k == n)
			return 0;
		if (ovf_get(w, se) != 0) {
			sess_abort(w, se, now);
			return -1;
		}
	}
	p += k;
	n -= (size_t)k;
	pk = park_of(w, se->ovf);
	if (pk->off + pk->len + n > SESS_OVF_SIZE) {
		uint8_t *b = ovf_buf(w, se->ovf);

		memmove(b, b + pk->off, pk->len);
		pk->off = 0;
		if (pk->len + n > SESS_OVF_SIZE) {
			sess_abort(w, se, now);
			return -1;
		}
	}
	memcpy(ovf_buf(w, se->ovf) + pk->off + pk->len, p, n);
	pk->len = (uint16_t)(pk->len + n);
	return 0;
}

/* Sends parked replies. Returns 1 when nothing is parked any more. */
static int sess_unpark(struct worker *w, struct sess *se, uint64_t now)
{
	struct sess_park *pk;
	long k;

	if (se->ovf == 0)
		return 1;
	pk = park_of(w, se->ovf);
	k = net_send(sess_wport(w, se)->net, se->c, ovf_buf(w, se->ovf) + pk->off, pk->len, now);
	if (k < 0)
		k = pk->len; /* the peer is gone: drop them */
	pk->off = (uint16_t)(pk->off + k);
	pk->len = (uint16_t)(pk->len - k);
	if (pk->len != 0)
		return 0;
	/* plaintext parked before TLS began (the 220 to STARTTLS) goes
	 * first, then the ciphertext */
	if (sess_tls_of(w, se) != NULL && !sess_tls_unpark(w, se, now))
		return 0;
	ovf_put(w, se);
	return 1;
}

int sess_park_hold(struct worker *w, struct sess *se, uint64_t now)
{
	if (se->ovf != 0)
		return 0;
	if (ovf_get(w, se) == 0)
		return 0;
	sess_abort(w, se, now);
	return -1;
}

/* Keeps the argument of SMTP_ACT_HELO (it points into the lent work area).
 * Returns 0, or -1 when the slab has no room (se is aborted and freed). */
static int sess_helo_keep(struct worker *w, struct sess *se, const struct smtp_out *o, uint64_t now)
{
	struct tcp_conn *c = se->c;
	struct net_ctx *net = sess_wport(w, se)->net;

	sess_helo_free(&w->helo, se->helo);
	se->helo = 0;
	if (o->helo_len == 0)
		return 0; /* STARTTLS: forgotten */
	se->helo = sess_helo_put(&w->helo, o->helo, o->helo_len);
	if (se->helo != 0)
		return 0;
	w->st.helo_lost++;
	sess_put(w, se);
	net_abort(net, c, now);
	return -1;
}

const uint8_t *sess_helo_arg(const struct worker *w, const struct sess *se, size_t *n)
{
	if (se->helo == 0) {
		*n = 0;
		return NULL;
	}
	return sess_helo_get(&w->helo, se->helo, n);
}

/* Counts the final line of every reply in p[0..n) ("NNN " or "NNN\r\n"
 * at a line start) by code: the core appends whole replies only, local
 * and the backend's alike. */
static void sess_count_replies(struct worker *w, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i + 4 <= n) {
		const uint8_t *l = p + i;
		const uint8_t *e = memchr(l, '\n', n - i);
		unsigned code = (unsigned)(l[0] - '0') * 100 + (unsigned)(l[1] - '0') * 10 +
				(unsigned)(l[2] - '0');

		if (l[0] >= '2' && l[0] <= '5' && l[1] >= '0' && l[1] <= '9' && l[2] >= '0' &&
		    l[2] <= '9' && (l[3] == ' ' || l[3] == '\r'))
			w->st.replies[code - WORKER_CODE_MIN]++;
		if (e == NULL)
			break;
		i = (size_t)(e - p) + 1;
	}
}

/* Keeps the client of a junk session for the summary (a small ring,
 * overwritten: bounded whatever the flood). */
static void sess_junk_sample(struct worker *w, const struct sess *se)
{
	uint32_t raddr, laddr;
	uint16_t rport, lport;
	uint64_t q = w->st.junk_seq;

	sess_client(w, se, &raddr, &rport, &laddr, &lport); /* a PROXY header's client */
	__atomic_store_n(&w->st.junk_addr[q % WORKER_SAMPLES], raddr, __ATOMIC_RELAXED);
	__atomic_store_n(&w->st.junk_seq, q + 1, __ATOMIC_RELEASE);
}

/* In the order of smtp.h: the EHLO argument kept, client bytes, then the
 * backend's (sess_relay.c), then the rest. */
int sess_carry(struct worker *w, struct sess *se, uint64_t now)
{
	struct smtp_out *o = &w->out;
	uint32_t act = o->actions;
	uint8_t reason = o->close_reason, sig = o->sig;
	uint64_t deadline = o->deadline;
	int rc, ev = -1;

	if ((act & SMTP_ACT_HELO) && sess_helo_keep(w, se, o, now) != 0) {
		smtp_out_reset(o);
		return -1;
	}
	sess_count_replies(w, o->buf, o->len);
	rc = sess_send(w, se, o->buf, o->len, now);
	if (rc == 0) {
		line_put(w, se, 0);
		if (o->fwd_n != 0 ||
		    (act & (SMTP_ACT_RELAY | SMTP_ACT_BACKEND_ABORT | SMTP_ACT_BACKEND_QUIT)))
			sess_relay_carry(w, se, now, &ev);
	}
	smtp_out_reset(o);
	if (rc < 0)
		return -1;
	if (ev >= 0 && !(act & SMTP_ACT_CLOSE)) {
		/* no backend can be asked (none configured), or the link
		 * broke: the core answers for it */
		smtp_backend_event(&se->s, (enum smtp_backend_ev)ev, now, o);
		return sess_carry(w, se, now);
	}
	if ((act & SMTP_ACT_STARTTLS) && !(act & SMTP_ACT_CLOSE)) {
		/* the 220 is out (or parked ahead of the handshake); the
		 * caller drops every plaintext byte after the command
		 * (CVE-2011-0411): returning 1 makes sess_feed consume all */
		w->st.starttls++;
		if (sess_tls_start(w, se, sess_li(w, se), 0, now) != 0)
			return sess_close_soon(w, se, now);
		return 1;
	}
	if (act & SMTP_ACT_CLOSE) {
		w->st.closes[reason < SMTP_CLOSE_COUNT ? reason : 0]++;
		if (sess_shed_is(w, se))
			w->st.shed_cut++;
		if (reason == SMTP_CLOSE_NONSMTP && sig < SCAN_SIG_COUNT)
			w->st.sigs[sig]++;
		if (reason == SMTP_CLOSE_NONSMTP || reason == SMTP_CLOSE_PREGREET ||
		    reason == SMTP_CLOSE_ERRORS)
			sess_junk_sample(w, se);
		if (reason == SMTP_CLOSE_NONSMTP || reason == SMTP_CLOSE_PREGREET)
			sess_limit_junk(w, se);
		return sess_close_soon(w, se, now);
	}
	if (act & SMTP_ACT_MORE)
		se->flags |= SESS_F_MORE;
	if (act & SMTP_ACT_PAUSE)
		se->flags |= SESS_F_PAUSE;
	if (deadline != UINT64_MAX)
		wheel_arm(&w->wheel, &se->tm, deadline);
	else
		wheel_cancel(&w->wheel, &se->tm);
	return 0;
}

/* Everything counts as consumed once the session closed or ended. */
size_t sess_feed(struct worker *w, struct sess *se, const uint8_t *p, size_t n, uint64_t now)
{
	size_t used = 0;

	for (;;) {
		uint32_t need;
		size_t k, offer = n - used;
		int rc;

		se->flags &= (uint8_t) ~(SESS_F_MORE | SESS_F_PAUSE);
		if (offer != 0 && (offer = sess_relay_admit(w, se, offer)) == 0)
			return used; /* the relay link resumes it */
		if (offer != 0 && *lpool_of(w, line_auth(se)).q_n == 0)
			line_get(w, se); /* else the FIFO comes first */
		w->out.tls_busy = (uint8_t)sess_tls_busy(w);
		k = smtp_input(&se->s, p + used, offer, now, &w->out);
		need = w->out.actions & SMTP_ACT_NEED_WORK;
		used += k;
		rc = sess_carry(w, se, now);
		if (rc != 0)
			return SIZE_MAX;
		if (need) {
			line_wait(w, se);
			return used; /* sess_lines_wake() resumes */
		}
		if (se->ovf != 0 || (se->flags & SESS_F_PAUSE))
			return used; /* writable (or the backend) resumes */
		if (!(se->flags & SESS_F_MORE) && (k == 0 || used == n))
			return used;
	}
}

int sess_fin_done(struct worker *w, struct sess *se, uint64_t now)
{
	if (!(se->flags & SESS_F_FIN) || se->ovf != 0 ||
	    (se->flags & (SESS_F_MORE | SESS_F_LWAIT | SESS_F_RWAIT | SESS_F_CWAIT)) ||
	    smtp_backend_waiting(&se->s))
		return 0;
	w->st.peer_fin++;
	sess_close(w, se, now);
	return 1;
}

/* ---- upcalls (net_ops) ------------------------------------------------- */

uint8_t sess_listener(const struct worker *w, uint32_t laddr, uint16_t lport)
{
	const struct cfg *cfg = w->sh->cfg;

	for (uint32_t i = 0; i < cfg->n_listeners; i++) {
		const struct cfg_listener *l = &cfg->listeners[i];

		if (l->port == lport && (l->addr == 0 || l->addr == laddr))
			return (uint8_t)i;
	}
	return UINT8_MAX;
}

/* The session of listener li starts for client addr (network order: the
 * TCP peer, or a PROXY header's source): lists and limits, then the
 * core's greeting (or the refusal, or the drain's 421). Returns -1 when se
 * ended or is closing, else 0. */
static int sess_begin(struct worker *w, struct sess *se, uint8_t li, uint32_t addr, uint64_t now)
{
	int refuse = sess_admit(w, se, addr, now);

	if (refuse != SMTP_R_NONE && w->sh->smtp[li].tls_implicit) {
		/* no plaintext reply makes sense before a TLS handshake */
		memset(&se->s, 0, sizeof(se->s));
		sess_close(w, se, now);
		return -1;
	}
	if (w->sh->smtp[li].tls_implicit) {
		/* implicit TLS: the core starts once the handshake is done
		 * (sess_tls.c; during the drain it then answers 421 4.3.2);
		 * at the handshake cap the connection is closed before any
		 * handshake. So is it at critical memory pressure: no 421 can
		 * be sent before TLS (RFC 8314 §3: implicit TLS is
		 * negotiated at once on connecting), and a handshake is what
		 * costs memory. */
		memset(&se->s, 0, sizeof(se->s));
		if (w->shed == 2) {
			w->st.shed_refused++;
			sess_close(w, se, now);
			return -1;
		}
		if (sess_tls_start(w, se, li, 1, now) != 0) {
			sess_close(w, se, now);
			return -1;
		}
		return 0;
	}
	smtp_out_reset(&w->out);
	/* shedding (sess_shed.c): junk-first limits from the start */
	smtp_start(&se->s, w->shed ? &w->sh->smtp_shed[li] : &w->sh->smtp[li], NULL,
		   sess_work_cap(&w->sh->smtp[li]), now, &w->out);
	if (refuse != SMTP_R_NONE) {
		/* the deny list (554 5.7.1) or a per-client limit (421 4.7.0)
		 * answers instead of the greeting, then the session closes */
		smtp_out_reset(&w->out);
		smtp_refuse(&se->s, (enum smtp_reply_id)refuse, now, &w->out);
	} else if (w->draining) {
		/* DESIGN §3: during the drain a new client completes its
		 * handshake and reads 421 4.3.2 instead of the greeting. */
		smtp_out_reset(&w->out);
		smtp_drain(&se->s, now, &w->out);
		w->st.drained++;
	} else if (w->shed == 2) {
		/* critical pressure: 421 4.3.2 instead of the greeting (the
		 * client retries later: RFC 5321 §3.8, 421 then close) */
		smtp_out_reset(&w->out);
		smtp_refuse(&se->s, SMTP_R_BUSY, now, &w->out);
		w->st.shed_refused++;
	}
	return sess_carry(w, se, now) == 0 ? 0 : -1;
}

static int up_accept(void *arg, struct tcp_conn *c, uint16_t lport, uint64_t now)
{
	struct wport *wp = arg;
	struct worker *w = wp->w;
	struct sess *se;
	uint32_t raddr, laddr;
	uint16_t rport, lp;
	uint8_t li;

	net_conn_peer(c, &raddr, &rport, &laddr, &lp);
	if ((li = sess_listener(w, laddr, lport)) == UINT8_MAX)
		return -1;
	se = sess_get(w);
	if (se == NULL) {
		w->st.refused++;
		return -1;
	}
	se->c = c;
	se->port = wp - w->port;
	net_conn_set_app(c, se);
	w->st.accepted++;
	if (w->sh->cfg->listeners[li].accept_proxy) {
		/* behind a load balancer: nothing is sent before its PROXY
		 * header (sess_proxy_recv); a source not allowed to send
		 * one is closed at once */
		memset(&se->s, 0, sizeof(se->s));
		if (sess_proxy_wait(w, se, li, raddr, now) != 0)
			sess_close(w, se, now);
		return 0;
	}
	sess_begin(w, se, li, raddr, now);
	return 0;
}

static size_t up_recv(void *arg, struct tcp_conn *c, const uint8_t *p, size_t len, uint64_t now)
{
	struct wport *wp = arg;
	struct sess *se = net_conn_app(c);
	size_t used;

	if (se == NULL || (se->flags & SESS_F_CLOSE))
		return len; /* closing: the core drops input now */
	if (se->ovf != 0 ||
	    (se->flags & (SESS_F_PAUSE | SESS_F_LWAIT | SESS_F_RWAIT | SESS_F_CWAIT)))
		return 0; /* replies parked, no work area, or the backend's turn */
	if (sess_proxy_waiting(wp->w, se)) {
		/* the PROXY header: complete, the session begins with its
		 * address and the bytes after it go to the core */
		uint32_t addr;
		uint8_t li;
		long k = sess_proxy_recv(wp->w, se, p, len, &li, &addr, now);

		if (k <= 0)
			return k == 0 ? 0 : len;
		if (sess_begin(wp->w, se, li, addr, now) != 0 || !se->used || se->c != c)
			return len;
		/* implicit TLS (465) behind a balancer: the header came in
		 * the clear; the bytes after it (the ClientHello, maybe in
		 * the same segment) are offered again at once (tcp_rcv.c's
		 * offer loop) and reach sess_tls_recv below */
		if ((size_t)k == len || se->ovf != 0 || (se->flags & SESS_F_CLOSE) ||
		    sess_tls_of(wp->w, se) != NULL)
			return (size_t)k;
		used = sess_feed(wp->w, se, p + k, len - (size_t)k, now);
		return used == SIZE_MAX ? len : (size_t)k + used;
	}
	if (sess_tls_of(wp->w, se) != NULL)
		return sess_tls_recv(wp->w, se, p, len, now);
	used = sess_feed(wp->w, se, p, len, now);
	return used == SIZE_MAX ? len : used;
}

static void up_peer_fin(void *arg, struct tcp_conn *c, uint64_t now)
{
	struct wport *wp = arg;
	struct sess *se = net_conn_app(c);

	if (se == NULL)
		return;
	se->flags |= SESS_F_FIN;
	if (se->flags & SESS_F_CLOSE)
		return; /* closing anyway once the parked replies are out */
	sess_fin_done(wp->w, se, now);
}

static void up_closed(void *arg, struct tcp_conn *c, enum net_close_reason why, uint64_t now)
{
	struct wport *wp = arg;
	struct sess *se = net_conn_app(c);

	(void)now;
	if (se == NULL)
		return;
	if (why == NET_CLOSE_TIMEOUT)
		wp->w->st.net_timeout++;
	else
		wp->w->st.net_reset++;
	sess_limit_end(wp->w, se); /* reads the client's address from the handle */
	se->c = NULL;              /* the handle dies with this upcall */
	sess_put(wp->w, se);
}

static void up_writable(void *arg, struct tcp_conn *c, uint64_t now)
{
	struct wport *wp = arg;
	struct worker *w = wp->w;
	struct sess *se = net_conn_app(c);

	if (se == NULL || !sess_unpark(w, se, now))
		return;
	if (se->flags & SESS_F_CLOSE) {
		sess_close(w, se, now);
		return;
	}
	if ((se->flags & SESS_F_MORE) && sess_feed(w, se, NULL, 0, now) == SIZE_MAX)
		return;
	if (se->ovf == 0 && se->rl != 0 && sess_relay_deliver(w, se, now) < 0)
		return; /* backend replies that waited for room */
	if (!se->used || se->c != c)
		return;
	if (se->ovf != 0)
		return;
	if (sess_tls_of(w, se) != NULL &&
	    (sess_tls_pump(w, se, now) < 0 || !se->used || se->c != c || se->ovf != 0))
		return; /* decrypted bytes first */
	/* offer the bytes held while we were not reading, then see whether a
	 * FIN that came meanwhile ends the session */
	net_resume(wp->net, c, now);
	if (se->used && se->c == c)
		sess_fin_done(w, se, now);
}

void sess_ops(struct net_ops *ops)
{
	ops->accept = up_accept;
	ops->recv = up_recv;
	ops->peer_fin = up_peer_fin;
	ops->closed = up_closed;
	ops->writable = up_writable;
	ops->syn_filter = sess_syn_filter;
}

/* ---- timers and drain ---------------------------------------------------- */

static void sess_fire(struct wheel_timer *t, void *arg, uint64_t now)
{
	struct worker *w = arg;
	struct sess *se = container_of(t, struct sess, tm);

	if (!se->used)
		return;
	if (se->flags & SESS_F_CLOSE) {
		sess_abort(w, se, now); /* its replies never left: see sess_carry */
		return;
	}
	if (sess_proxy_waiting(w, se)) { /* no PROXY header in time */
		w->st.proxy_timeout++;
		sess_close(w, se, now);
		return;
	}
	if (sess_tls_fire(w, se, now))
		return;
	smtp_out_reset(&w->out);
	smtp_tick(&se->s, now, &w->out);
	sess_carry(w, se, now);
}

void sess_timers(struct worker *w, uint64_t now)
{
	wheel_expire(&w->wheel, now, sess_fire, w);
}

size_t sess_work_cap(const struct smtp_cfg *cfg)
{
	return (cfg->caps & SMTP_CAP_AUTH) ? SESS_AUTH_WORK_SIZE : SESS_WORK_SIZE;
}

/* sess_lines_wake for one pool. */
static void lines_wake(struct worker *w, int auth, uint64_t now)
{
	struct lpool lp = lpool_of(w, auth);

	while (*lp.q_n != 0 && *lp.nfree != 0) {
		struct sess *se = &w->sess[lp.q[*lp.q_head]];
		struct tcp_conn *c = se->c;

		*lp.q_head = (*lp.q_head + 1) % w->n_sess;
		--*lp.q_n;
		if (auth)
			se->laq = 0;
		else
			se->lq = 0;
		if (!se->used || !(se->flags & SESS_F_LWAIT) || line_auth(se) != auth)
			continue; /* it ended while waiting (another waits elsewhere) */
		se->flags &= (uint8_t)~SESS_F_LWAIT;
		line_get(w, se);
		if (sess_tls_of(w, se) != NULL &&
		    (sess_tls_pump(w, se, now) < 0 || !se->used || se->c != c))
			continue;
		net_resume(sess_wport(w, se)->net, c, now);
		if (!se->used || se->c != c)
			continue;
		line_put(w, se, 0); /* in case nothing was offered after all */
		sess_fin_done(w, se, now);
	}
}

void sess_lines_wake(struct worker *w, uint64_t now)
{
	if (w->lq_n != 0)
		lines_wake(w, 0, now);
	if (w->laq_n != 0)
		lines_wake(w, 1, now);
}

void sess_drain_all(struct worker *w, uint64_t now)
{
	w->draining = 1;
	for (uint32_t i = 0; i < w->n_sess; i++) {
		struct sess *se = &w->sess[i];

		if (!se->used || (se->flags & SESS_F_CLOSE))
			continue;
		if (sess_proxy_waiting(w, se))
			continue; /* drained when its PROXY header came */
		if (sess_tls_of(w, se) != NULL && sess_tls_of(w, se)->hs)
			continue; /* drained when its handshake is done */
		smtp_out_reset(&w->out);
		smtp_drain(&se->s, now, &w->out);
		w->st.drained++;
		sess_carry(w, se, now);
	}
}
