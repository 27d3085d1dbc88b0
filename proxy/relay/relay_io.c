/*
 * relay_io.c — a backend session's bytes: writing the handshake lines and
 * the queued worker objects (committing each command to its reply slot, or
 * refusing it locally), reading replies and passing them to the worker in
 * command order (relay.h). Session life and failover: relay_sess.c.
 */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <rte_mempool.h>

#include "log.h"
#include "relay_int.h"

/* The relay's own replies (RFC 3463 enhanced codes; DESIGN §3). */
static const char *const local_text[RL_COUNT] = {
	[RL_UTF8] = "553 5.6.7 backend does not support UTF-8 addresses\r\n",
	[RL_8BIT] = "555 5.5.4 backend does not support BODY=8BITMIME\r\n",
	[RL_SIZEP] = "555 5.5.4 backend does not support SIZE\r\n",
	[RL_TOOBIG] = "552 5.3.4 message size exceeds the backend's fixed limit\r\n",
	[RL_NOMAIL] = "503 5.5.1 sender was refused, no transaction\r\n",
};

/* relay_mail_check() verdict -> local reply. */
static const uint8_t mail_local[] = {
	[RELAY_MAIL_UTF8] = RL_UTF8,
	[RELAY_MAIL_8BIT] = RL_8BIT,
	[RELAY_MAIL_SIZEPARM] = RL_SIZEP,
	[RELAY_MAIL_TOOBIG] = RL_TOOBIG,
};

/* ---- Replies to the worker ---------------------------------------------------- */

/* Returns a relay message object, or NULL (s stalls until one comes back). */
static struct relay_msg *sess_obj(struct relay *r, struct relay_sess *s)
{
	void *o;

	if (rte_mempool_get(r->ws[s->w].pair->rpool, &o)) {
		r->st.rpool_empty++;
		relay_sess_stall(r, s, 1);
		return NULL;
	}
	return o;
}

static void sess_reply_out(struct relay *r, struct relay_sess *s, struct relay_msg *m,
			   const void *p, size_t n)
{
	m->sid = s->sid;
	m->gen = s->gen;
	m->kind = RELAY_M_REPLY;
	m->flags = 0;
	m->len = (uint16_t)n;
	m->w = s->w;
	m->next = NULL;
	memcpy(m->data, p, n);
	relay_put(r, s->w, (uintptr_t)m);
}

/* Frees the oldest reply slot; returns 1 when it answered AUTH or a SASL
 * line. */
static int pend_pop(struct relay_sess *s)
{
	uint64_t bit = 1ull << s->p_head;
	int sasl = (s->p_sasl & bit) != 0;

	s->p_sasl &= ~bit;
	if (s->pend[s->p_head] == RL_BACKEND)
		s->n_be_wait--;
	s->p_head = (uint8_t)((s->p_head + 1) % RELAY_PEND_MAX);
	s->p_n--;
	return sasl;
}

/* Takes a reply slot in command order (sasl: for AUTH or a SASL line);
 * -1 when the worker passed the bound the SMTP core keeps. */
static int pend_push(struct relay *r, struct relay_sess *s, uint8_t what, int sasl)
{
	unsigned i = (s->p_head + s->p_n) % RELAY_PEND_MAX;

	if (s->p_n == RELAY_PEND_MAX) {
		r->st.proto_err++;
		return -1;
	}
	s->pend[i] = what;
	if (sasl)
		s->p_sasl |= 1ull << i;
	s->p_n++;
	if (what == RL_BACKEND && !s->n_be_wait++)
		s->t_wait = r->now;
	return 0;
}

/* Sends the relay's own replies that are next in order; 0, or -1 when s
 * stalled for want of an object. */
int relay_io_emit(struct relay *r, struct relay_sess *s)
{
	while (s->p_n && s->pend[s->p_head] != RL_BACKEND) {
		if (s->st == RS_READY) {
			const char *t = local_text[s->pend[s->p_head]];
			struct relay_msg *m = sess_obj(r, s);

			if (!m)
				return -1;
			sess_reply_out(r, s, m, t, strlen(t));
		}
		pend_pop(s); /* after QUIT nobody wants them */
	}
	return 0;
}

/* ---- The socket, in the clear or through TLS -------------------------------- */

/* send() or, once TLS is up, SSL_write: bytes written, or -1 with errno
 * (EAGAIN: wait; with TLS the direction is in tls_wr_in). */
static ssize_t sio_send(struct relay_sess *s, const void *p, size_t n)
{
	long k;

	if (!s->tls)
		return send(s->fd, p, n, MSG_NOSIGNAL);
	k = tls_cli_write(s->tls, p, n);
	if (k >= 0) {
		s->tls_wr_in = 0;
		return k;
	}
	if (k == -EAGAIN)
		s->tls_wr_in = tls_cli_want(s->tls) == TLS_CLI_WANT_READ;
	errno = (int)-k;
	return -1;
}

/* recv() or SSL_read: bytes, 0 at the end, or -1 with errno. */
static ssize_t sio_recv(struct relay_sess *s, void *p, size_t n)
{
	long k;

	if (!s->tls)
		return recv(s->fd, p, n, 0);
	k = tls_cli_read(s->tls, p, n);
	if (k >= 0) {
		s->tls_rd_out = 0;
		return k;
	}
	if (k == -EAGAIN)
		s->tls_rd_out = tls_cli_want(s->tls) == TLS_CLI_WANT_WRITE;
	errno = (int)-k;
	return -1;
}

/* ---- Writing ------------------------------------------------------------- */

enum { HEAD_WRITE, HEAD_WAIT, HEAD_DONE, HEAD_BAD };

/* The contract is one line per CMD object; should an object hold more,
 * each line that starts inside it after the first (after an LF that is
 * not its last byte) still gets its reply slot, so that replies stay in
 * order (counted as a contract breach). Returns -1 when the slots ran
 * out. */
static int extra_lines(struct relay *r, struct relay_sess *s, const struct relay_msg *m)
{
	const uint8_t *p = m->data, *end = m->data + m->len, *lf;
	int n = 0;

	while (p < end && (lf = memchr(p, '\n', (size_t)(end - p))) && lf + 1 < end) {
		if (!n++)
			r->st.proto_err++;
		if (pend_push(r, s, RL_BACKEND, 0))
			return -1;
		p = lf + 1;
	}
	return 0;
}

/* Decides the queue head's fate before its first byte is written: forward
 * it (taking its reply slot), refuse it with a local reply, or wait. */
static int commit_head(struct relay *r, struct relay_sess *s)
{
	struct relay_msg *m = s->q_head;
	uint8_t local = RL_BACKEND;
	int ends = m->len && m->data[m->len - 1] == '\n';

	if (m->kind == RELAY_M_CMD && s->cmd_cont) {
		/* The rest of a line longer than one object (AUTH and SASL
		 * lines reach 12288 octets, RFC 4954 §4): its reply slot was
		 * taken with its first part. */
		s->cmd_cont = (uint8_t)!ends;
		if (extra_lines(r, s, m))
			return HEAD_BAD;
	} else if (m->kind == RELAY_M_CMD) {
		int sasl, v;

		/* Without PIPELINING (RFC 2920) one command at a time. */
		if (!s->caps.pipelining && s->n_be_wait)
			return HEAD_WAIT;
		/* What follows AUTH or a SASL line is a SASL line when the
		 * backend answered 334 (RFC 4954 §4): base64 or "*", never a
		 * command, even when it reads "MAIL" or "RSET". The worker
		 * cannot tell, so the line waits for that reply (AUTH ends a
		 * pipelined group anyway, and the worker pauses there). */
		if (s->p_sasl)
			return HEAD_WAIT;
		sasl = (m->flags & RELAY_F_SASL) || s->sasl_next;
		s->sasl_next = 0;
		s->body = 0;
		v = sasl ? RELAY_V_OTHER : relay_verb(m->data, m->len);
		if (v == RELAY_V_MAIL) {
			int mv = relay_mail_check(m->data, m->len, &s->caps);

			s->refused_tx = mv != RELAY_MAIL_OK;
			if (mv != RELAY_MAIL_OK)
				local = mail_local[mv];
		} else if ((v == RELAY_V_RCPT || v == RELAY_V_DATA) && s->refused_tx) {
			local = RL_NOMAIL;
		} else if (v == RELAY_V_RSET) {
			s->refused_tx = 0;
		}
		if (pend_push(r, s, local, local == RL_BACKEND && (sasl || v == RELAY_V_AUTH)))
			return HEAD_BAD;
		if (local == RL_BACKEND && extra_lines(r, s, m))
			return HEAD_BAD;
		/* MAIL, RCPT and DATA lines (<= 1000 octets) always fit one
		 * object: a refused line never has a continuation. */
		s->cmd_cont = (uint8_t)(!ends && local == RL_BACKEND);
		if (local != RL_BACKEND) {
			r->st.refusals++;
			s->q_head = m->next;
			if (!s->q_head)
				s->q_tail = NULL;
			relay_credit(r, m);
			relay_io_emit(r, s);
			return HEAD_DONE;
		}
	} else if (m->flags & RELAY_F_DATA_END) {
		s->body = 0; /* a reply from now on answers the final dot */
		s->lg.dot_wait = 1;
		if (pend_push(r, s, RL_BACKEND, 0))
			return HEAD_BAD;
	}
	s->head_done = 1;
	return HEAD_WRITE;
}

/* Sends the body head's n bytes at p and the plain body objects behind it
 * in one call: a message is streamed in few syscalls. A final-dot object
 * is never gathered (its reply slot is taken when it becomes the head). */
static ssize_t body_send(struct relay_sess *s, const uint8_t *p, size_t n)
{
	struct iovec iov[RELAY_IOV_MAX];
	struct msghdr mh = { .msg_iov = iov };
	const struct relay_msg *m = s->q_head;

	iov[0].iov_base = (void *)p;
	iov[0].iov_len = n;
	mh.msg_iovlen = 1;
	if (!(m->flags & RELAY_F_DATA_END))
		for (m = m->next; m && mh.msg_iovlen < RELAY_IOV_MAX && m->kind == RELAY_M_BODY &&
				  !(m->flags & RELAY_F_DATA_END);
		     m = m->next) {
			iov[mh.msg_iovlen].iov_base = (void *)m->data;
			iov[mh.msg_iovlen].iov_len = m->len;
			mh.msg_iovlen++;
		}
	return sendmsg(s->fd, &mh, MSG_NOSIGNAL);
}

/* Hands the queue head back unwritten (or the rest of it). */
static void q_drop_head(struct relay *r, struct relay_sess *s)
{
	struct relay_msg *m = s->q_head;

	s->q_head = m->next;
	if (!s->q_head)
		s->q_tail = NULL;
	s->q_off = 0;
	s->head_done = 0;
	relay_credit(r, m);
}

/* k bytes of the queue were written: credits what is done. */
static void q_consume(struct relay *r, struct relay_sess *s, size_t k)
{
	while (s->q_head) {
		struct relay_msg *m = s->q_head;
		size_t rest = m->len - s->q_off;

		if (k < rest) {
			s->q_off += (uint32_t)k;
			return;
		}
		k -= rest;
		s->q_head = m->next;
		if (!s->q_head)
			s->q_tail = NULL;
		s->q_off = 0;
		/* Objects after the head were plain body bytes: no reply slot
		 * to take, commit_head() would do nothing for them. */
		s->head_done = 0;
		relay_credit(r, m);
		if (!k)
			return;
	}
}

int relay_io_early(struct relay *r, struct relay_sess *s)
{
	struct relay_msg *m, *o;

	while ((m = s->q_head)) {
		if (m->kind != RELAY_M_BODY) {
			r->st.proto_err++; /* a command before the final dot */
			relay_sess_broken(r, s);
			return -1;
		}
		if (!(m->flags & RELAY_F_DATA_END)) {
			q_drop_head(r, s);
			continue;
		}
		/* The final dot is never sent: its reply is the kept one,
		 * after any local reply still ahead of it. */
		if (relay_io_emit(r, s))
			return 0;
		o = sess_obj(r, s);
		if (!o)
			return 0;
		sess_reply_out(r, s, o, s->rbuf, s->rlen);
		r->st.replies++;
		/* The backend's transaction ended without a final dot: its
		 * session is over (the final dot's object is credited too). */
		relay_sess_broken(r, s);
		return -1;
	}
	return 0;
}

/* Writes what may be written; 0, or -1 when s broke (handled). */
int relay_io_write(struct relay *r, struct relay_sess *s)
{
	if (s->early)
		return relay_io_early(r, s);
	for (;;) {
		const uint8_t *p;
		size_t n;
		ssize_t k;

		if (s->hs_off < s->hs_len) {
			p = s->hs + s->hs_off;
			n = (size_t)(s->hs_len - s->hs_off);
		} else {
			s->hs_len = s->hs_off = 0;
			if (s->st != RS_READY && s->st != RS_QUIT)
				break;
			if (!s->q_head) {
				if (s->st != RS_QUIT || s->quit_sent ||
				    (!s->caps.pipelining && s->n_be_wait))
					break;
				memcpy(s->hs, "QUIT\r\n", 6);
				s->hs_len = 6;
				s->quit_sent = 1;
				pend_push(r, s, RL_BACKEND, 0); /* the QUIT leaves room */
				continue;
			}
			if (!s->head_done) {
				int h = commit_head(r, s);

				if (h == HEAD_WAIT)
					break;
				if (h == HEAD_DONE)
					continue;
				if (h == HEAD_BAD) {
					relay_sess_broken(r, s);
					return -1;
				}
			}
			p = s->q_head->data + s->q_off;
			n = s->q_head->len - s->q_off;
		}
		/* Over TLS each object is its own SSL_write (a record of at
		 * most RELAY_MSG_DATA bytes), offered again as is after
		 * EAGAIN: the head stays put until written. */
		if (s->hs_off < s->hs_len || s->q_head->kind != RELAY_M_BODY || s->tls)
			k = n ? sio_send(s, p, n) : 0;
		else
			k = body_send(s, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* A backend that rejects a message mid-body may
				 * close right after its reply: read that first. */
				if (s->st == RS_READY && s->body && relay_io_read(r, s))
					return -1;
				relay_sess_broken(r, s);
				return -1;
			}
			if (!s->want_out)
				s->t_wblock = r->now;
			s->want_out = 1;
			return 0;
		}
		r->st.bytes_out += (uint64_t)k;
		s->t_wblock = r->now; /* progress: a slow reader is not a dead one */
		if (s->hs_off < s->hs_len) {
			s->hs_off = (uint16_t)(s->hs_off + k);
			continue;
		}
		q_consume(r, s, (size_t)k);
	}
	s->want_out = 0;
	return 0;
}

/* ---- Reading ------------------------------------------------------------- */

/* Sets up the handshake line after the greeting (XCLIENT or EHLO). */
static int hs_next(struct relay *r, struct relay_sess *s, int xclient)
{
	int n;

	if (xclient) {
		n = relay_xclient((char *)s->hs, sizeof(s->hs), s->open.client_addr,
				  s->open.client_port);
		s->st = RS_XCLIENT;
	} else {
		n = relay_helo((char *)s->hs, sizeof(s->hs), s->open.ehlo, s->open.helo,
			       s->open.helo_len);
		s->st = RS_EHLO;
	}
	if (n <= 0) {
		r->st.proto_err++; /* a HELO argument with CR/LF: never sent */
		return -1;
	}
	s->hs_len = (uint16_t)n;
	s->hs_off = 0;
	return 0;
}

/* Queues "EHLO <our hostname>": the relay speaking for itself, before
 * TLS and, with XCLIENT, after it (the client's own EHLO is replayed once
 * the backend knows whom it talks to). */
static int hs_own_ehlo(struct relay *r, struct relay_sess *s, uint8_t st)
{
	const char *host = r->cfg->smtp.hostname;
	int n = relay_helo((char *)s->hs, sizeof(s->hs), 1, (const uint8_t *)host, strlen(host));

	if (n <= 0) {
		r->st.proto_err++;
		return -1;
	}
	s->hs_len = (uint16_t)n;
	s->hs_off = 0;
	s->st = st;
	return 0;
}

/* s's backend's name; a reload may have removed it (RELAY_BE_RETIRED). */
static const char *be_name(const struct relay *r, const struct relay_sess *s)
{
	return s->be < r->cfg->n_backends ? r->cfg->backends[s->be].name : "(removed by a reload)";
}

/* TLS to the backend failed: counted and logged once per session and
 * backend; the caller fails the backend over. */
static void tls_failed(struct relay *r, struct relay_sess *s, const char *why)
{
	r->st.tls_fail++;
	if (s->be < r->cfg->n_backends)
		r->st.be_tls_fail[s->be]++;
	log_kv(LOG_LVL_WARN, "event=backend_tls_fail relay=%u backend=%s reason=\"%s\"", r->id,
	       be_name(r, s), why);
}

/* The 220 to our STARTTLS was read (and is off rbuf): drops every byte
 * the backend sent after it and starts the handshake. Returns 0, or -1
 * when the session cannot go on with this backend (the caller fails
 * over). */
static int tls_begin(struct relay *r, struct relay_sess *s)
{
	const struct cfg_backend *cb;
	char ip[INET_ADDRSTRLEN];
	uint32_t drained = 0;
	ssize_t k;

	if (s->be >= r->cfg->n_backends || r->tls[s->be] == NULL) {
		/* A reload removed its backend before its handshake: the
		 * context and name it was opened with are gone, and the
		 * clear is never an option; it fails over, before any of
		 * the client's commands went to this backend. */
		tls_failed(r, s, "backend removed by a reload before its TLS handshake");
		return -1;
	}
	cb = &r->cfg->backends[s->be];
	/* RFC 3207 §4.2: the client MUST discard any knowledge obtained
	 * from the server that was not obtained from the TLS negotiation
	 * itself. Bytes after the 220 are not part of any reply we asked
	 * for (the response-injection mirror of CVE-2011-0411): those read
	 * already, and those waiting in the socket (a TLS server says
	 * nothing before our ClientHello, so all of it is plaintext). What
	 * is still in flight breaks the handshake instead: never read as
	 * a reply. */
	r->st.tls_discard += s->rlen;
	s->rlen = 0;
	relay_rscan_init(&s->rs);
	while ((k = recv(s->fd, s->rbuf, sizeof(s->rbuf), MSG_DONTWAIT)) > 0) {
		r->st.tls_discard += (uint64_t)k;
		drained += (uint32_t)k;
		if (drained > 16 * sizeof(s->rbuf)) {
			tls_failed(r, s, "plaintext flood after the 220 to STARTTLS");
			return -1;
		}
	}
	if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		tls_failed(r, s, "connection closed after the 220 to STARTTLS");
		return -1;
	}
	inet_ntop(AF_INET, &cb->addr, ip, sizeof(ip));
	s->tls = tls_cli_new(r->tls[s->be], s->fd, cb->tls_name, ip);
	if (!s->tls) {
		tls_failed(r, s, "out of memory");
		return -1;
	}
	r->st.tls_started++;
	s->st = RS_TLS_HS;
	s->tls_rd_out = 0;
	return 0;
}

/* Drives the handshake (RS_TLS_HS). Returns 1 when it is done and the
 * next line is on its way, 0 when it waits for the socket, -1 when s was
 * handled (failed over). */
static int tls_step(struct relay *r, struct relay_sess *s)
{
	int rc = tls_cli_handshake(s->tls);

	if (rc == -EAGAIN) {
		s->tls_rd_out = tls_cli_want(s->tls) == TLS_CLI_WANT_WRITE;
		return 0;
	}
	s->tls_rd_out = 0;
	if (rc) {
		tls_failed(r, s, tls_cli_reason(s->tls));
		relay_sess_broken(r, s);
		return -1;
	}
	r->st.tls_done++;
	/* RFC 3207 §4.2: EHLO again; only what the backend says now counts.
	 * With XCLIENT: our EHLO, XCLIENT, then the client's EHLO; else the
	 * client's EHLO at once. */
	if ((s->xclient ? hs_own_ehlo(r, s, RS_TLS_EHLO1) : hs_next(r, s, 0)) ||
	    relay_io_write(r, s)) {
		if (s->st != RS_DEAD && s->st != RS_RETRY)
			relay_sess_broken(r, s);
		return -1;
	}
	return 1;
}

/* The reply of n bytes at the start of rbuf is done with. */
static void rbuf_drop(struct relay_sess *s, size_t n)
{
	memmove(s->rbuf, s->rbuf + n, s->rlen - n);
	s->rlen -= (uint32_t)n;
}

/* One complete reply of len bytes at s->rbuf. Returns 1 (consumed: it is
 * off rbuf before anything is written, as a write may read), 0 (s
 * stalled: keep it) or -1 (s was closed or moved on: hands off). */
static int sess_reply(struct relay *r, struct relay_sess *s, size_t len, int code)
{
	struct relay_msg *m;
	int sasl;

	switch (s->st) {
	case RS_GREET:
		/* RFC 5321 §3.1: anything but 220 (554 included) means no
		 * session with this backend. */
		if (code != 220)
			break;
		if (s->starttls ? hs_own_ehlo(r, s, RS_TLS_EHLO0) : hs_next(r, s, s->xclient))
			break;
		rbuf_drop(s, len);
		return relay_io_write(r, s) ? -1 : 1;
	case RS_TLS_EHLO0: {
		struct relay_caps pre = { 0 };

		if (code != 250)
			break;
		relay_caps_parse(s->rbuf, len, &pre);
		rbuf_drop(s, len);
		if (!pre.starttls) {
			/* The config says TLS: never the clear instead. */
			r->st.tls_nocap++;
			log_kv(LOG_LVL_WARN,
			       "event=backend_tls_fail relay=%u backend=%s reason=\"no STARTTLS "
			       "in the EHLO reply\"",
			       r->id, be_name(r, s));
			break;
		}
		if (s->rlen) { /* nothing was asked: a reply to nothing */
			r->st.proto_err++;
			break;
		}
		/* The capabilities before TLS are not kept (RFC 3207 §4.2). */
		memcpy(s->hs, "STARTTLS\r\n", 10);
		s->hs_len = 10;
		s->hs_off = 0;
		s->st = RS_TLS_START;
		return relay_io_write(r, s) ? -1 : 1;
	}
	case RS_TLS_START:
		/* RFC 3207 §4: 220 to go ahead; 454 (or anything else) is no
		 * TLS, and then no session with this backend. */
		if (code != 220) {
			tls_failed(r, s, "STARTTLS refused");
			break;
		}
		rbuf_drop(s, len);
		if (tls_begin(r, s))
			break;
		return 1; /* relay_io_read drives the handshake next */
	case RS_TLS_EHLO1:
		if (code != 250 || hs_next(r, s, 1))
			break;
		rbuf_drop(s, len);
		return relay_io_write(r, s) ? -1 : 1;
	case RS_XCLIENT:
		/* Postfix answers a successful XCLIENT with a new 220. */
		if (code / 100 != 2 || hs_next(r, s, 0))
			break;
		rbuf_drop(s, len);
		return relay_io_write(r, s) ? -1 : 1;
	case RS_EHLO:
		if (code != 250)
			break;
		if (s->open.ehlo)
			relay_caps_parse(s->rbuf, len, &s->caps);
		rbuf_drop(s, len);
		/* The backend's own EHLO reply is never shown to the client:
		 * only the fact that it is ready. */
		s->st = RS_READY;
		s->lg.be_seen = 1;
		s->lg.be = s->be;
		r->st.ready++;
		if (s->be != RELAY_BE_RETIRED)
			relay_be_result(r, s->be, 1);
		relay_sess_event(r, s, SMTP_BACKEND_READY);
		return relay_io_write(r, s) ? -1 : 1;
	case RS_READY:
		if (relay_io_emit(r, s))
			return 0;
		if (!s->n_be_wait) {
			/* A server may reject a message before its end
			 * (RFC 5321 §4.1.1.4 lets it answer at any time): a
			 * 4xx/5xx while the body streams is the reply the
			 * final dot will get (DESIGN §3: the backend's own). */
			if (s->body && code >= 400) {
				r->st.early++;
				relay_log_dot(r, s, code, s->rbuf, len);
				relay_sess_early(r, s, len);
				return -1;
			}
			r->st.proto_err++; /* a reply to nothing */
			relay_sess_broken(r, s);
			return -1;
		}
		m = sess_obj(r, s);
		if (!m)
			return 0;
		if (s->lg.dot_wait) { /* the first backend reply after the final dot */
			s->lg.dot_wait = 0;
			relay_log_dot(r, s, code, s->rbuf, len);
		}
		sess_reply_out(r, s, m, s->rbuf, len);
		rbuf_drop(s, len);
		r->st.replies++;
		sasl = pend_pop(s);
		s->sasl_next = (uint8_t)(sasl && code == 334);
		s->body = code == 354;
		s->t_wait = r->now;
		relay_io_emit(r, s);
		/* A reply may free the next serialised command, or the line
		 * that waited for the reply to AUTH or a SASL line. */
		if ((!s->caps.pipelining || sasl) && s->q_head && relay_io_write(r, s))
			return -1;
		return 1;
	case RS_QUIT:
		rbuf_drop(s, len);
		while (s->p_n && s->pend[s->p_head] != RL_BACKEND)
			pend_pop(s);
		if (s->p_n)
			pend_pop(s);
		if (s->quit_sent && !s->n_be_wait) {
			relay_sess_free(r, s, 0); /* the 221: done */
			return -1;
		}
		return relay_io_write(r, s) ? -1 : 1;
	default:
		return -1;
	}
	relay_sess_broken(r, s); /* a handshake reply that was not the one expected */
	return -1;
}

/* Reads and passes on replies; 0, or -1 when s is no longer to be touched. */
int relay_io_read(struct relay *r, struct relay_sess *s)
{
	for (;;) {
		ssize_t k;

		if (s->stalled)
			return 0;
		if (s->early)
			return relay_io_early(r, s); /* nothing more is read */
		if (s->rlen) {
			int code = 0,
			    n = relay_reply_scan(&s->rs, s->rbuf, s->rlen, sizeof(s->rbuf), &code);

			if (n < 0 || (n == 0 && s->rlen == sizeof(s->rbuf))) {
				r->st.proto_err++; /* malformed or too long: gone */
				relay_sess_broken(r, s);
				return -1;
			}
			if (n > 0) {
				int v = sess_reply(r, s, (size_t)n, code);

				if (v < 0)
					return -1;
				if (v == 0)
					return 0;
				continue;
			}
		}
		if (s->st == RS_TLS_HS) {
			int h = tls_step(r, s);

			if (h <= 0)
				return h;
			continue;
		}
		k = sio_recv(s, s->rbuf + s->rlen, sizeof(s->rbuf) - s->rlen);
		if (k > 0) {
			s->rlen += (uint32_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (s->st == RS_QUIT && s->quit_sent) {
			relay_sess_free(r, s, 0); /* closed after our QUIT: fine */
			return -1;
		}
		relay_sess_broken(r, s); /* EOF or error */
		return -1;
	}
}
