/*
 * sess_tls.c — TLS on the sessions (proxy/tls over the worker's TCP
 * endpoint): STARTTLS (RFC 3207) and implicit TLS (465). Contracts in
 * sess_int.h.
 *
 * Why it is shaped this way:
 * - The TLS side of a session lives in a per-worker array indexed like the
 *   sessions (w->tls), so struct sess stays within SESS_BYTES; workers
 *   without a TLS listener have none.
 * - Ciphertext that the flow's send buffer cannot take stays in the TLS
 *   session's own tx queue (bounded by tx_cap). The session then holds an
 *   empty parking buffer as a marker: every "something waits to leave"
 *   check of sess.c and sess_relay.c (se->ovf) holds for TLS as well, and
 *   the writable upcall sends plaintext parked before TLS began (the 220
 *   to STARTTLS) first, then the ciphertext (sess_unpark).
 * - The core writes at most one call's replies (plus a timer's) between
 *   flushes, and it is not called while ciphertext waits, so a tx_cap of a
 *   few core outputs always takes them; a reply that does not fit ends
 *   the session (tls_overflow), as a full parking buffer does.
 * - Decrypted bytes are peeked into a per-worker buffer, offered to the
 *   core, and only what it consumed is read (tls_conn_read): the rest stays
 *   in OpenSSL and is offered again when the session resumes (a resume
 *   with no held TCP bytes would not reach ops->recv, hence
 *   sess_tls_pump at every resume point).
 * - STARTTLS: sess_carry returns 1 after the 220, so the receive upcall
 *   consumes (drops) every byte the flow held after the command — all of
 *   them came before the 220 (CVE-2011-0411) — and the core drops input
 *   until smtp_tls_started(). During the handshake the session timer is
 *   the handshake deadline; the core's own deadline is armed again by the
 *   first core call after it.
 * - Implicit TLS: the core is not started until the handshake is done
 *   (smtp.h: cfg->tls_implicit), so the greeting is the first TLS record.
 */
#include <errno.h>
#include <string.h>

#include "sess.h"
#include "sess_int.h"
#include "worker.h"

/* Ciphertext queued per session, each way (tls.h: struct tls_conn_lim):
 * a full record (16 KiB + expansion) must fit to be decrypted. */
#define SESS_TLS_RX_CAP 20480u
#define SESS_TLS_TX_CAP 20480u

struct sess_tls *sess_tls_of(const struct worker *w, const struct sess *se)
{
	struct sess_tls *t;

	if (w->tls == NULL)
		return NULL;
	t = &w->tls[se - w->sess];
	return t->c != NULL ? t : NULL;
}

int sess_tls_busy(const struct worker *w)
{
	return w->tls != NULL && w->tls_st.handshaking >= w->sh->cfg->tls.max_handshakes;
}

int sess_tls_start(struct worker *w, struct sess *se, uint8_t li, int implicit, uint64_t now)
{
	static const struct tls_conn_lim lim = { SESS_TLS_RX_CAP, SESS_TLS_TX_CAP };
	struct sess_tls *t;

	if (w->tls == NULL || w->sh->tls[li] == NULL)
		return -1;
	if (sess_tls_busy(w)) {
		w->st.tls_busy++;
		return -1;
	}
	t = &w->tls[se - w->sess];
	t->c = tls_conn_new(w->sh->tls[li], &lim, &w->tls_st);
	if (t->c == NULL) {
		w->st.tls_nomem++;
		return -1;
	}
	/* a gauge the main lcore reads (worker_tls_mem_log) */
	__atomic_store_n(&w->st.tls_live, w->st.tls_live + 1, __ATOMIC_RELAXED);
	t->li = li;
	t->hs = 1;
	t->implicit = (uint8_t)implicit;
	wheel_arm(&w->wheel, &se->tm, now + w->sh->cfg->tls.handshake_timeout_ms);
	return 0;
}

/* Sends what the flow takes of the TLS tx queue. Returns 1 when it is
 * empty. */
static int tx_push(struct worker *w, struct sess *se, struct sess_tls *t, uint64_t now)
{
	for (;;) {
		size_t n;
		const uint8_t *q = tls_conn_tx(t->c, &n);
		long k;

		if (n == 0)
			return 1;
		k = net_send(sess_wport(w, se)->net, se->c, q, n, now);
		if (k < 0)
			k = (long)n; /* the peer can no longer be sent to: drop */
		if (k == 0)
			return 0;
		tls_conn_tx_done(t->c, (size_t)k);
	}
}

/* After every TLS call: ciphertext (alerts included) goes out, or waits
 * behind a parking marker. Returns 0, or -1 when se was aborted. */
static int tx_flush(struct worker *w, struct sess *se, struct sess_tls *t, uint64_t now)
{
	if (se->ovf != 0)
		return 0; /* parked bytes go first: the writable upcall */
	if (tx_push(w, se, t, now))
		return 0;
	return sess_park_hold(w, se, now);
}

int sess_tls_unpark(struct worker *w, struct sess *se, uint64_t now)
{
	struct sess_tls *t = sess_tls_of(w, se);

	return t == NULL || tx_push(w, se, t, now);
}

int sess_tls_send(struct worker *w, struct sess *se, const uint8_t *p, size_t n, uint64_t now)
{
	struct sess_tls *t = sess_tls_of(w, se);
	long k;

	if (tls_conn_state(t->c) != TLS_OPEN)
		return 0; /* handshake, closing or failed: nothing can be sent */
	k = tls_conn_write(t->c, p, n);
	if (k < 0)
		return 0;
	if ((size_t)k != n) {
		w->st.tls_overflow++;
		sess_end(w, se, now, 1);
		return -1;
	}
	return tx_flush(w, se, t, now);
}

/* The TLS session failed: the alert (if any) leaves, then FIN. */
static int fail_close(struct worker *w, struct sess *se, struct sess_tls *t, uint64_t now)
{
	if (tx_flush(w, se, t, now) < 0)
		return -1;
	sess_close_soon(w, se, now);
	return -1;
}

int sess_tls_pump(struct worker *w, struct sess *se, uint64_t now)
{
	struct sess_tls *t = sess_tls_of(w, se);
	struct tcp_conn *c = se->c;

	if (t == NULL || t->hs)
		return 0;
	for (;;) {
		long n;
		size_t used;

		if (!se->used || se->c != c)
			return -1;
		if (se->ovf != 0 || (se->flags & (SESS_F_CLOSE | SESS_F_PAUSE | SESS_F_LWAIT |
						  SESS_F_RWAIT | SESS_F_CWAIT)))
			return 0;
		n = tls_conn_peek(t->c, w->tls_pt, sizeof(w->tls_pt));
		if (n == -EPIPE) {
			/* close_notify: no more client bytes, like a FIN */
			if (tx_flush(w, se, t, now) < 0)
				return -1;
			se->flags |= SESS_F_FIN;
			return sess_fin_done(w, se, now) ? -1 : 0;
		}
		if (n < 0)
			return fail_close(w, se, t, now);
		if (tx_flush(w, se, t, now) < 0)
			return -1;
		if (n == 0)
			return 0;
		used = sess_feed(w, se, w->tls_pt, (size_t)n, now);
		if (used == SIZE_MAX)
			return -1;
		if (used != 0 && tls_conn_read(t->c, w->tls_pt, used) < 0)
			return fail_close(w, se, t, now);
		if (used < (size_t)n)
			return 0;
	}
}

/* The handshake completed: the core starts (implicit) or resets
 * (STARTTLS). Returns -1 when se closed or ended, else 0. */
static int tls_opened(struct worker *w, struct sess *se, struct sess_tls *t, uint64_t now)
{
	t->hs = 0;
	wheel_cancel(&w->wheel, &se->tm);
	smtp_out_reset(&w->out);
	if (t->implicit)
		/* shedding (sess_shed.c) began during the handshake: junk-first
		 * limits from the start, as sess_begin gives plaintext ones */
		smtp_start(&se->s, w->shed ? &w->sh->smtp_shed[t->li] : &w->sh->smtp[t->li], NULL,
			   sess_work_cap(&w->sh->smtp[t->li]), now, &w->out);
	else
		smtp_tls_started(&se->s, now, &w->out);
	if (!t->implicit && sess_shed_is(w, se) != (w->shed != 0)) {
		/* shedding began or ended during the handshake (sess_shed.c
		 * leaves handshaking sessions alone): the level of now */
		uint8_t li = sess_li(w, se);

		if (smtp_retune(&se->s, w->shed ? &w->sh->smtp_shed[li] : &w->sh->smtp[li], now,
				&w->out) == 0 &&
		    w->shed)
			w->st.shed_tuned++;
	}
	if (w->draining) {
		/* DESIGN §3: a new session reads 421 4.3.2 */
		smtp_out_reset(&w->out);
		smtp_drain(&se->s, now, &w->out);
		w->st.drained++;
	} else if (t->implicit && w->shed == 2) {
		/* critical pressure came during the handshake: now a 421
		 * 4.3.2 can be sent, in TLS, instead of the greeting
		 * (RFC 5321 §3.8: 421, then close) */
		smtp_out_reset(&w->out);
		smtp_refuse(&se->s, SMTP_R_BUSY, now, &w->out);
		w->st.shed_refused++;
	}
	return sess_carry(w, se, now) != 0 ? -1 : 0;
}

size_t sess_tls_recv(struct worker *w, struct sess *se, const uint8_t *p, size_t len, uint64_t now)
{
	struct sess_tls *t = sess_tls_of(w, se);
	size_t k = tls_conn_rx(t->c, p, len);
	enum tls_state st = tls_conn_state(t->c);

	if (st == TLS_FAILED) {
		fail_close(w, se, t, now);
		return len;
	}
	if (tx_flush(w, se, t, now) < 0)
		return len;
	if (t->hs) {
		if (st == TLS_HANDSHAKE)
			return k;
		if (tls_opened(w, se, t, now) < 0)
			return len;
	}
	if (sess_tls_pump(w, se, now) < 0)
		return len;
	return k;
}

void sess_tls_close(struct worker *w, struct sess *se, uint64_t now)
{
	struct sess_tls *t = sess_tls_of(w, se);

	if (t == NULL || se->c == NULL)
		return;
	if (tls_conn_close(t->c) == 0)
		(void)tx_push(w, se, t, now); /* best effort: FIN follows */
}

void sess_tls_put(struct worker *w, struct sess *se)
{
	struct sess_tls *t;

	if (w->tls == NULL)
		return;
	t = &w->tls[se - w->sess];
	if (t->c != NULL)
		__atomic_store_n(&w->st.tls_live, w->st.tls_live - 1, __ATOMIC_RELAXED);
	tls_conn_free(t->c);
	t->c = NULL;
	t->hs = 0;
}

int sess_tls_fire(struct worker *w, struct sess *se, uint64_t now)
{
	struct sess_tls *t = sess_tls_of(w, se);

	if (t == NULL || !t->hs)
		return 0;
	w->st.tls_timeout++;
	sess_end(w, se, now, 0);
	return 1;
}

void sess_tls_fini(struct worker *w)
{
	if (w->tls == NULL)
		return;
	for (uint32_t i = 0; i < w->n_sess; i++) {
		tls_conn_free(w->tls[i].c);
		w->tls[i].c = NULL;
	}
}
