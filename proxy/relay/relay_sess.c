/*
 * relay_sess.c — the life of one backend session on a relay lcore:
 * backend choice, connect and failover, the terminal controls, timeouts
 * and the epoll events (relay.h). Its bytes: relay_io.c.
 *
 * Life: OPEN -> RS_CONNECT -> RS_GREET -> [tls: RS_TLS_EHLO0 -> RS_TLS_START
 * -> RS_TLS_HS -> [RS_TLS_EHLO1 with XCLIENT]] -> [RS_XCLIENT] -> RS_EHLO ->
 * RS_READY -> (ABORT: closed at once | QUIT: RS_QUIT, detached from its
 * slot | backend dead: GONE | early end-of-data reply: closed, then its
 * reply to the final dot and GONE) -> RS_DEAD. A failure before RS_READY
 * goes through RS_RETRY to the next backend.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/socket.h>

#include <rte_mempool.h>

#include "relay_int.h"

/* ---- Bookkeeping ------------------------------------------------------------- */

static void live_add(struct relay *r, struct relay_sess *s)
{
	s->prev = NULL;
	s->next = r->live;
	if (r->live)
		r->live->prev = s;
	r->live = s;
}

static void live_del(struct relay *r, struct relay_sess *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		r->live = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

void relay_sess_event(struct relay *r, struct relay_sess *s, enum smtp_backend_ev ev)
{
	relay_put(r, s->w, relay_ctl_pack(RELAY_M_EVENT, s->sid, s->gen, (uint8_t)ev));
}

static void sess_detach(struct relay *r, struct relay_sess *s)
{
	if (s->attached && r->ws[s->w].slot[s->sid] == s)
		r->ws[s->w].slot[s->sid] = NULL;
	s->attached = 0;
}

/* Closes the socket; rst: drop unsent bytes and reset (SO_LINGER 0), so
 * that nothing queued in the kernel, never a partial body, is sent after
 * an ABORT or a dead backend. */
static void sess_close_fd(struct relay *r, struct relay_sess *s, int rst)
{
	if (s->tls) {
		/* A clean end (after the 221) says close_notify if the socket
		 * takes it; a reset says nothing more. */
		if (!rst)
			tls_cli_close(s->tls);
		tls_cli_free(s->tls);
		s->tls = NULL;
	}
	s->tls_rd_out = s->tls_wr_in = 0;
	if (s->fd >= 0) {
		if (rst) {
			struct linger l = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		}
		close(s->fd); /* also leaves the epoll set */
		s->fd = -1;
	}
	s->ep_mask = 0;
	s->want_out = 0;
	if (s->has_be) {
		if (s->be == RELAY_BE_RETIRED)
			r->n_retired--;
		else
			r->be[s->be].conns--;
		s->has_be = 0;
	}
}

void relay_sess_stall(struct relay *r, struct relay_sess *s, int on)
{
	if (s->stalled == on)
		return;
	s->stalled = (uint8_t)on;
	if (on)
		r->n_stalled++;
	else
		r->n_stalled--;
}

/* Frees s after this pass: closes, hands every queued object back. */
void relay_sess_free(struct relay *r, struct relay_sess *s, int rst)
{
	struct relay_msg *m;

	sess_close_fd(r, s, rst);
	while ((m = s->q_head)) {
		s->q_head = m->next;
		relay_credit(r, m);
	}
	s->q_tail = NULL;
	sess_detach(r, s);
	relay_sess_stall(r, s, 0);
	live_del(r, s);
	s->st = RS_DEAD;
	s->next = r->dead;
	r->dead = s;
}

/* Ends the session with an event to its worker. */
static void sess_end(struct relay *r, struct relay_sess *s, enum smtp_backend_ev ev)
{
	relay_log_end(r, s,
		      ev == SMTP_BACKEND_GONE   ? "gone"
		      : ev == SMTP_BACKEND_BUSY ? "busy"
						: "none");
	if (s->attached)
		relay_sess_event(r, s, ev);
	relay_sess_free(r, s, 1);
}

/* Sets the epoll interest from the state; returns -1 when that failed
 * (the session is then handled as broken by the caller). */
static int sess_mask(struct relay *r, struct relay_sess *s)
{
	uint32_t m = 0;

	if (s->fd < 0)
		return 0;
	if (s->st == RS_CONNECT) {
		m = EPOLLOUT;
	} else if (s->st == RS_TLS_HS) {
		m = s->tls_rd_out ? EPOLLOUT : EPOLLIN;
	} else {
		/* TLS may turn a read into a write and back (tls_rd_out,
		 * tls_wr_in): the socket's direction is OpenSSL's call. */
		if (!s->stalled || s->tls_wr_in)
			m |= EPOLLIN;
		if ((s->want_out && !s->tls_wr_in) || (s->tls_rd_out && !s->stalled))
			m |= EPOLLOUT;
	}
	return relay_ep_set(r, s->fd, s, &s->ep_mask, m) ? -1 : 0;
}

/* ---- Backends and failover -------------------------------------------------- */

/* Connects to the next backend not tried yet, or ends with NONE/BUSY. */
static void sess_next_backend(struct relay *r, struct relay_sess *s)
{
	for (;;) {
		const struct cfg_backend *cb;
		int full = 0, b = relay_be_pick(r, s->tried, &full), fd, n = 0;

		s->saw_full |= (uint8_t)full;
		if (b < 0) {
			/* BUSY only when caps, not failures, left nothing. */
			int busy = s->saw_full && !s->failed;

			if (busy)
				r->st.busy++;
			else
				r->st.none++;
			sess_end(r, s, busy ? SMTP_BACKEND_BUSY : SMTP_BACKEND_NONE);
			return;
		}
		s->tried |= 1ull << b;
		cb = &r->cfg->backends[b];
		r->st.connects++;
		r->st.be_connects[b]++;
		fd = relay_connect(r, (uint8_t)b);
		if (fd < 0) {
			r->st.connect_fail++;
			r->st.be_fail[b]++;
			relay_be_result(r, (uint8_t)b, 0);
			s->failed = 1;
			continue;
		}
		s->fd = fd;
		s->be = (uint8_t)b;
		s->xclient = cb->xclient;
		s->starttls = cb->tls == CFG_TLS_STARTTLS;
		s->has_be = 1;
		r->be[b].conns++;
		s->st = RS_CONNECT;
		s->t_phase = r->now;
		/* The PROXY header goes first, before the greeting is read
		 * (the spec: the receiver reads it before anything else). */
		if (cb->proxy_protocol == CFG_PROXY_V1)
			n = relay_proxy_v1((char *)s->hs, sizeof(s->hs), s->open.client_addr,
					   s->open.client_port, s->open.local_addr,
					   s->open.local_port);
		else if (cb->proxy_protocol == CFG_PROXY_V2 && s->open.tls)
			n = relay_proxy_v2_ssl(s->hs, sizeof(s->hs), s->open.client_addr,
					       s->open.client_port, s->open.local_addr,
					       s->open.local_port, s->open.tls_version,
					       s->open.tls_cipher);
		else if (cb->proxy_protocol == CFG_PROXY_V2)
			n = relay_proxy_v2(s->hs, sizeof(s->hs), s->open.client_addr,
					   s->open.client_port, s->open.local_addr,
					   s->open.local_port);
		s->hs_len = (uint16_t)(n > 0 ? n : 0);
		s->hs_off = 0;
		if (!sess_mask(r, s))
			return;
		sess_close_fd(r, s, 1);
		s->failed = 1;
	}
}

/* A failure before READY: counts against the backend, then the next one
 * (after the current epoll batch: stale events may still name s). */
static void sess_fail(struct relay *r, struct relay_sess *s)
{
	if (s->st == RS_RETRY)
		return; /* already on its way */
	r->st.connect_fail++;
	if (s->be != RELAY_BE_RETIRED) {
		r->st.be_fail[s->be]++;
		relay_be_result(r, s->be, 0);
	}
	s->failed = 1;
	sess_close_fd(r, s, 1);
	s->hs_len = s->hs_off = 0;
	s->rlen = 0;
	relay_rscan_init(&s->rs);
	memset(&s->caps, 0, sizeof(s->caps));
	s->st = RS_RETRY;
	s->rnext = r->retry;
	r->retry = s;
}

/* The socket broke or the backend misbehaved. */
void relay_sess_broken(struct relay *r, struct relay_sess *s)
{
	if (s->st < RS_READY) {
		sess_fail(r, s);
	} else if (s->st == RS_READY) {
		r->st.gone++;
		sess_end(r, s, SMTP_BACKEND_GONE);
	} else {
		relay_sess_free(r, s, 1);
	}
}

void relay_sess_early(struct relay *r, struct relay_sess *s, size_t len)
{
	/* The backend has ended the transaction: nothing more goes to it,
	 * never a final dot, and what it does next (close, more replies)
	 * does not matter any more. The reset drops body bytes still in the
	 * kernel's send buffer. */
	sess_close_fd(r, s, 1);
	s->early = 1;
	s->body = 0;
	s->rlen = (uint32_t)len; /* the kept reply; anything after it is dropped */
	relay_rscan_init(&s->rs);
	relay_io_early(r, s);
}

void relay_sess_retry(struct relay *r, struct relay_sess *s)
{
	if (s->st == RS_RETRY)
		sess_next_backend(r, s);
}

struct relay_sess *relay_sess_open(struct relay *r, uint16_t w, const struct relay_msg *m)
{
	struct relay_sess *s = calloc(1, sizeof(*s));

	r->st.opens++;
	if (!s) {
		r->st.none++;
		relay_put(r, w, relay_ctl_pack(RELAY_M_EVENT, m->sid, m->gen, SMTP_BACKEND_NONE));
		return NULL;
	}
	s->tag = RELAY_EP_SESS;
	s->fd = -1;
	s->w = w;
	s->sid = m->sid;
	s->gen = m->gen;
	s->lg.t_open = r->now;
	memcpy(&s->open, m->data, m->len < sizeof(s->open) ? m->len : sizeof(s->open));
	relay_rscan_init(&s->rs);
	s->attached = 1;
	r->ws[w].slot[m->sid] = s;
	live_add(r, s);
	sess_next_backend(r, s);
	return s;
}

void relay_sess_queue(struct relay *r, struct relay_sess *s, struct relay_msg *m)
{
	m->next = NULL;
	relay_log_body(r, s, m);
	if (s->q_tail)
		s->q_tail->next = m;
	else
		s->q_head = m;
	s->q_tail = m;
	if (s->st == RS_READY && !s->want_out && !relay_io_write(r, s) && sess_mask(r, s))
		relay_sess_broken(r, s);
}

/* ---- Events from the ring, epoll and the clock ----------------------------------- */

void relay_sess_io(struct relay *r, struct relay_sess *s, uint32_t events)
{
	if (s->st == RS_DEAD || s->st == RS_RETRY || s->fd < 0)
		return;
	if (s->st == RS_CONNECT) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l) || err ||
		    (events & (EPOLLERR | EPOLLHUP))) {
			sess_fail(r, s);
			return;
		}
		s->st = RS_GREET;
		if (relay_io_write(r, s) || sess_mask(r, s) == 0)
			return;
		relay_sess_broken(r, s);
		return;
	}
	if (s->st == RS_TLS_HS) {
		if (relay_io_read(r, s)) /* drives the handshake */
			return;
	} else {
		int rd_ev = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ||
			    (s->tls_rd_out && (events & EPOLLOUT));

		if (((events & EPOLLOUT) || (s->tls_wr_in && rd_ev)) && relay_io_write(r, s))
			return;
		if (rd_ev && relay_io_read(r, s))
			return;
	}
	if (sess_mask(r, s))
		relay_sess_broken(r, s);
}

void relay_sess_unstall(struct relay *r, struct relay_sess *s)
{
	/* Looked at every pass: a glance at the pool before any work. */
	if (!rte_mempool_avail_count(r->ws[s->w].pair->rpool))
		return;
	relay_sess_stall(r, s, 0);
	if (relay_io_emit(r, s))
		return;
	if (relay_io_read(r, s))
		return;
	if (sess_mask(r, s))
		relay_sess_broken(r, s);
}

void relay_sess_abort(struct relay *r, struct relay_sess *s)
{
	r->st.aborts++;
	relay_log_end(r, s, "abort");
	/* Nothing more is written, never a final dot: reset and forget. */
	relay_sess_free(r, s, 1);
}

void relay_sess_quit(struct relay *r, struct relay_sess *s)
{
	r->st.quits++;
	relay_log_end(r, s, "quit");
	if (s->st != RS_READY || s->early) {
		relay_sess_free(r, s, 1); /* nothing worth a QUIT was said, or no socket */
		return;
	}
	/* The slot is free for a new OPEN at once; s finishes on its own,
	 * dropping replies: it needs no relay object any more. */
	sess_detach(r, s);
	relay_sess_stall(r, s, 0);
	s->st = RS_QUIT;
	s->t_phase = r->now;
	relay_io_emit(r, s);
	if (!s->want_out && relay_io_write(r, s))
		return;
	if (s->rlen && relay_io_read(r, s)) /* replies read while stalled */
		return;
	if (sess_mask(r, s))
		relay_sess_broken(r, s);
}

void relay_sess_timer(struct relay *r, struct relay_sess *s)
{
	const struct cfg_relay *c = &r->cfg->relay;
	uint64_t now = r->now;
	uint64_t qw =
	    c->reply_timeout_ms < RELAY_QUIT_WAIT_MS ? c->reply_timeout_ms : RELAY_QUIT_WAIT_MS;

	switch (s->st) {
	case RS_CONNECT:
	case RS_GREET:
	case RS_TLS_EHLO0:
	case RS_TLS_START:
	case RS_TLS_HS:
	case RS_TLS_EHLO1:
	case RS_XCLIENT:
	case RS_EHLO:
		/* The whole way to READY, TLS included, within one timeout. */
		if (now - s->t_phase >= c->connect_timeout_ms)
			sess_fail(r, s);
		break;
	case RS_READY:
		/* A stalled session is waiting for its worker, not its backend. */
		if ((!s->stalled && s->n_be_wait && now - s->t_wait >= c->reply_timeout_ms) ||
		    (s->want_out && now - s->t_wblock >= c->reply_timeout_ms))
			relay_sess_broken(r, s);
		break;
	case RS_QUIT:
		if (now - s->t_phase >= qw)
			relay_sess_free(r, s, 1);
		break;
	default:
		break;
	}
}

void relay_sess_drop(struct relay *r, struct relay_sess *s)
{
	relay_log_end(r, s, "shutdown");
	sess_close_fd(r, s, 1);
	sess_detach(r, s);
	live_del(r, s);
	free(s);
}
