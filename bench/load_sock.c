/*
 * load_sock.c — bulwark-load's socket mode: the kernel's TCP, one epoll
 * loop, up to --concurrency non-blocking connections in a fixed slot array
 * (nothing is allocated per session). Each slot walks its kind's script
 * (load.h); sessions start at --rate per second, or whenever a slot is free.
 *
 * The server closes first in every script, so the client side keeps no
 * TIME_WAIT and the ephemeral ports last. A failed session is closed with a
 * RST (SO_LINGER 0) so the server forgets it at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "load.h"

enum ss_phase {
	SP_FREE,
	SP_CONNECT, /* handshake in progress */
	SP_GREET,   /* waiting for the 220 */
	SP_SEND,    /* the step's bytes go out (EPOLLOUT when the buffer is full) */
	SP_REPLY,   /* waiting for the step's reply */
	SP_WAIT,    /* LOP_WAIT: quiet until deadline */
	SP_CLOSE,   /* LOP_CLOSE: waiting for the server's close */
	SP_HOLD,    /* LOP_HOLD: the server must keep the session open */
	SP_TLS,     /* LOP_TLS: the handshake (the step's deadline: timeout_ms) */
};

struct ss {
	int fd;
	SSL *ssl; /* from the first LOP_TLS on */
	uint8_t kind, phase, greeted, pollout, early;
	int8_t step;   /* -1: before the first step */
	uint16_t code; /* the key step's reply, or the last one seen */
	uint32_t off;  /* octets of this step sent */
	uint32_t llen; /* the partial reply line */
	uint32_t nseen;
	uint64_t t0, t_greet, t_reply; /* us */
	uint64_t deadline, next_byte;  /* us */
	char line[256];
	uint8_t seen[LOAD_SEEN]; /* the last octets received */
};

struct sk {
	const struct load_opts *o;
	struct load_stats *st;
	struct sockaddr_in dst, dst_tls;
	SSL_CTX *tls; /* when the mix has a TLS kind */
	int ep;
	struct ss *sl;
	uint32_t *free_sl, n_free;
	int32_t wrr[LK_COUNT];
	uint64_t now;
};

static void ss_end(struct sk *k, uint32_t i, enum load_outcome oc)
{
	struct ss *s = &k->sl[i];

	if (oc != LO_OK) {
		struct linger lg = { 1, 0 };

		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	if (load_oc_error(oc)) {
		load_stats_show(k->st, k->o, (enum load_kind)s->kind, oc,
				s->phase == SP_GREET || s->phase == SP_CONNECT ? -1 : s->step,
				s->code, s->seen, s->nseen);
	}
	if (s->ssl != NULL) {
		if (oc == LO_OK)
			load_tls_free(s->ssl);
		else
			SSL_free(s->ssl);
		s->ssl = NULL;
	}
	close(s->fd);
	load_stats_end(k->st, (enum load_kind)s->kind, oc, s->code,
		       s->greeted ? s->t_greet - s->t0 : 0,
		       s->t_reply > s->t0 ? s->t_reply - s->t0 : 0);
	s->phase = SP_FREE;
	s->fd = -1;
	k->free_sl[k->n_free++] = i;
}

static int ss_poll(struct sk *k, uint32_t i, int out)
{
	struct ss *s = &k->sl[i];
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0u), .data.u32 = i };

	if (s->pollout == out)
		return 0;
	s->pollout = (uint8_t)out;
	return epoll_ctl(k->ep, EPOLL_CTL_MOD, s->fd, &ev);
}

static void step_begin(struct sk *k, uint32_t i);
static void ss_read(struct sk *k, uint32_t i);

/* send() or SSL_write(): octets or -1 with errno. */
static long ss_send(struct ss *s, const uint8_t *d, uint32_t n)
{
	int out;

	if (s->ssl != NULL)
		return load_tls_send(s->ssl, d, n, &out);
	return send(s->fd, d, n, MSG_NOSIGNAL);
}

/* Drives the handshake of LOP_TLS; on success the next step. */
static void ss_tls(struct sk *k, uint32_t i)
{
	struct ss *s = &k->sl[i];
	int out = 0, r = load_tls_handshake(k->o, s->ssl, &out);

	if (r < 0) {
		ss_end(k, i, LO_TLS);
		return;
	}
	if (r == 0) {
		ss_poll(k, i, out);
		return;
	}
	s->t_reply = k->now;
	ss_poll(k, i, 0);
	step_begin(k, i);
	/* what the TLS layer has already read (a 220 after an implicit-TLS
	 * handshake) raises no event of its own */
	if (s->phase != SP_FREE && s->phase != SP_TLS)
		ss_read(k, i);
}

/* Sends what the current step still has to send. */
static void ss_pump(struct sk *k, uint32_t i)
{
	struct ss *s = &k->sl[i];
	const struct load_step *p = &k->o->sc[s->kind].st[s->step];

	for (;;) {
		const uint8_t *d;
		uint32_t n = load_step_chunk(k->o, p, s->off, &d);
		ssize_t w;

		if (n == 0)
			break;
		if (p->op == LOP_SLOW) {
			if (k->now < s->next_byte)
				return;
			n = 1;
			s->next_byte = k->now + (uint64_t)k->o->slow_ms * 1000u;
		}
		w = ss_send(s, d, n);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ss_poll(k, i, 1);
			return;
		}
		if (w < 0) {
			ss_end(k, i, errno == ECONNRESET || errno == EPIPE ? LO_RESET : LO_CLOSED);
			return;
		}
		s->off += (uint32_t)w;
		if (p->op == LOP_SLOW)
			return;
	}
	ss_poll(k, i, 0);
	if (s->early || p->code == 0) { /* its reply came while we were still
					   * sending, or none is expected */
		s->early = 0;
		step_begin(k, i);
		return;
	}
	s->phase = SP_REPLY;
	s->deadline = k->now + (uint64_t)k->o->timeout_ms * 1000u;
}

static void step_begin(struct sk *k, uint32_t i)
{
	struct ss *s = &k->sl[i];
	const struct load_script *sc = &k->o->sc[s->kind];

	s->step++;
	s->off = 0;
	if (s->step >= sc->n) {
		ss_end(k, i, LO_OK);
		return;
	}
	switch (sc->st[s->step].op) {
	case LOP_WAIT:
		s->phase = SP_WAIT;
		s->deadline = k->now + (uint64_t)k->o->idle_ms * 1000u;
		return;
	case LOP_CLOSE:
		s->phase = SP_CLOSE;
		s->deadline = k->now + (uint64_t)k->o->timeout_ms * 1000u;
		return;
	case LOP_END:
		ss_end(k, i, LO_OK);
		return;
	case LOP_HOLD:
		s->phase = SP_HOLD;
		s->deadline = k->now + (uint64_t)k->o->hold_ms * 1000u;
		return;
	case LOP_GREET:
		s->phase = SP_GREET;
		s->deadline = k->now + (uint64_t)k->o->timeout_ms * 1000u;
		return;
	case LOP_TLS:
		if (s->ssl == NULL && (s->ssl = load_tls_new(k->tls, s->fd)) == NULL) {
			ss_end(k, i, LO_TLS);
			return;
		}
		s->phase = SP_TLS;
		s->deadline = k->now + (uint64_t)k->o->timeout_ms * 1000u;
		ss_tls(k, i);
		return;
	default:
		s->phase = SP_SEND;
		s->next_byte = 0;
		ss_pump(k, i);
		return;
	}
}

static void ss_connected(struct sk *k, uint32_t i)
{
	struct ss *s = &k->sl[i];

	s->deadline = k->now + (uint64_t)k->o->timeout_ms * 1000u;
	if (k->o->sc[s->kind].pregreet) {
		step_begin(k, i); /* step 0 before the greeting */
		return;
	}
	s->phase = SP_GREET;
	ss_poll(k, i, 0);
}

/* 1 when the previous step allows more replies of code c (--expect
 * K=CODEx*). */
static int rep_ok(const struct sk *k, const struct ss *s, int c)
{
	const struct load_step *p;

	if (s->step <= 0)
		return 0;
	p = &k->o->sc[s->kind].st[s->step - 1];
	return p->rep && p->code == c;
}

/* A complete reply with code c. */
static void ss_reply(struct sk *k, uint32_t i, int c)
{
	struct ss *s = &k->sl[i];
	const struct load_script *sc = &k->o->sc[s->kind];

	if (c == 220 && !s->greeted) {
		s->greeted = 1;
		s->t_greet = k->now;
		if (s->phase == SP_GREET)
			step_begin(k, i);
		return; /* pregreet: the server had greeted before our bytes came */
	}
	if ((s->phase == SP_CLOSE || s->phase == SP_HOLD) && rep_ok(k, s, c))
		return; /* one more of the replies "CODEx*" allows */
	if (s->phase != SP_REPLY && !(s->phase == SP_SEND && !s->early)) {
		s->code = (uint16_t)c;
		ss_end(k, i, LO_WRONG);
		return;
	}
	if (s->step == sc->key || c != sc->st[s->step].code)
		s->code = (uint16_t)c;
	if (c != sc->st[s->step].code) {
		ss_end(k, i, LO_WRONG);
		return;
	}
	s->t_reply = k->now;
	if (s->phase == SP_SEND) /* e.g. "line too long" before the line's end */
		s->early = 1;
	else
		step_begin(k, i);
}

static void ss_read(struct sk *k, uint32_t i)
{
	struct ss *s = &k->sl[i];
	uint8_t buf[16384];

	for (;;) {
		ssize_t r;
		uint32_t n, at = 0;
		int out;

		if (s->phase == SP_TLS) /* the handshake reads on its own */
			return;
		r = s->ssl != NULL ? load_tls_recv(s->ssl, buf, sizeof(buf), &out)
				   : recv(s->fd, buf, sizeof(buf), 0);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			enum load_outcome oc = r < 0                  ? LO_RESET
					       : s->phase == SP_CLOSE ? LO_OK
								      : LO_CLOSED;

			if (oc == LO_OK) {
				s->step++;
				if (s->step < k->o->sc[s->kind].n)
					oc = LO_CLOSED;
			}
			ss_end(k, i, oc);
			return;
		}
		n = (uint32_t)r;
		/* keep the last LOAD_SEEN octets for an error report */
		if (n >= LOAD_SEEN) {
			memcpy(s->seen, buf + n - LOAD_SEEN, LOAD_SEEN);
			s->nseen = LOAD_SEEN;
		} else {
			uint32_t keep = s->nseen + n > LOAD_SEEN ? LOAD_SEEN - n : s->nseen;

			memmove(s->seen, s->seen + s->nseen - keep, keep);
			memcpy(s->seen + keep, buf, n);
			s->nseen = keep + n;
		}
		while (at < n) {
			uint32_t used;
			int c;

			if (s->phase != SP_GREET && s->phase != SP_REPLY && s->phase != SP_SEND &&
			    !((s->phase == SP_CLOSE || s->phase == SP_HOLD) && s->step > 0 &&
			      k->o->sc[s->kind].st[s->step - 1].rep)) {
				ss_end(k, i, LO_WRONG); /* data when none may come */
				return;
			}
			c = load_reply_scan(s->line, sizeof(s->line), &s->llen, buf + at, n - at,
					    &used);
			at += used;
			if (c < 0) {
				s->code = 0;
				ss_end(k, i, LO_WRONG);
				return;
			}
			if (c == 0)
				break;
			ss_reply(k, i, c);
			if (s->phase == SP_FREE || s->phase == SP_TLS)
				return;
		}
	}
}

static void ss_event(struct sk *k, uint32_t i, uint32_t ev)
{
	struct ss *s = &k->sl[i];

	if (s->phase == SP_CONNECT) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err != 0) {
			ss_end(k, i, LO_CONNECT);
			return;
		}
		ss_connected(k, i);
		if (s->phase == SP_FREE)
			return;
	}
	if (s->phase == SP_TLS) {
		ss_tls(k, i);
		return;
	}
	if ((ev & EPOLLOUT) && s->phase == SP_SEND) {
		ss_pump(k, i);
		if (s->phase == SP_FREE)
			return;
	}
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
		ss_read(k, i);
}

static void ss_start(struct sk *k)
{
	uint32_t i = k->free_sl[--k->n_free];
	struct ss *s = &k->sl[i];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = i };
	int one = 1;

	memset(s, 0, offsetof(struct ss, line));
	s->kind = (uint8_t)load_pick(k->o, k->wrr);
	s->step = -1;
	s->t0 = k->now;
	s->phase = SP_CONNECT;
	s->pollout = 1;
	s->deadline = k->now + (uint64_t)k->o->timeout_ms * 1000u;
	k->st->tot.started++;
	k->st->in_flight++;
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ss_end(k, i, LO_CONNECT);
		return;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((connect(s->fd,
		     (const struct sockaddr *)(k->o->sc[s->kind].tls_port ? &k->dst_tls : &k->dst),
		     sizeof(k->dst)) != 0 &&
	     errno != EINPROGRESS) ||
	    epoll_ctl(k->ep, EPOLL_CTL_ADD, s->fd, &ev) != 0)
		ss_end(k, i, LO_CONNECT);
}

/* Deadlines and slow senders. */
static void ss_sweep(struct sk *k)
{
	for (uint32_t i = 0; i < k->o->conc; i++) {
		struct ss *s = &k->sl[i];

		switch (s->phase) {
		case SP_FREE:
			break;
		case SP_SEND:
			if (k->o->sc[s->kind].st[s->step].op == LOP_SLOW && k->now >= s->next_byte)
				ss_pump(k, i);
			break;
		case SP_WAIT:
			if (k->now >= s->deadline)
				step_begin(k, i);
			break;
		case SP_CLOSE:
			if (k->now >= s->deadline)
				ss_end(k, i, LO_NOCLOSE);
			break;
		case SP_HOLD:
			if (k->now >= s->deadline)
				ss_end(k, i, LO_HELD);
			break;
		default:
			if (k->now >= s->deadline)
				ss_end(k, i, s->phase == SP_CONNECT ? LO_CONNECT : LO_TIMEOUT);
			break;
		}
	}
}

int load_sock_run(const struct load_opts *o, struct load_stats *st)
{
	static struct sk k;
	struct epoll_event evs[256];
	struct rlimit rl;
	uint64_t t_start, t_end, t_sweep, t_tick, due_done = 0;
	int window_done = 0;

	k.o = o;
	k.st = st;
	k.dst.sin_family = AF_INET;
	k.dst.sin_port = htons(o->port);
	for (int kd = LK_TLS_FIRST; kd < LK_COUNT; kd++)
		if (o->mix[kd] != 0 && k.tls == NULL && (k.tls = load_tls_ctx(o)) == NULL)
			return 1;
	if (inet_pton(AF_INET, o->host, &k.dst.sin_addr) != 1) {
		fprintf(stderr, "bulwark-load: --host %s: not an IPv4 address\n", o->host);
		return 1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < o->conc + 64u) {
		rl.rlim_cur = o->conc + 64u;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			fprintf(stderr, "bulwark-load: cannot raise the open files limit to %u\n",
				o->conc + 64u);
			return 1;
		}
	}
	k.dst_tls = k.dst;
	k.dst_tls.sin_port = htons(o->tls_port);
	k.sl = calloc(o->conc, sizeof(*k.sl));
	k.free_sl = calloc(o->conc, sizeof(*k.free_sl));
	k.ep = epoll_create1(EPOLL_CLOEXEC);
	if (k.sl == NULL || k.free_sl == NULL || k.ep < 0) {
		fprintf(stderr, "bulwark-load: setup: %s\n", strerror(errno));
		return 1;
	}
	for (uint32_t i = o->conc; i-- > 0;) {
		k.sl[i].fd = -1;
		k.free_sl[k.n_free++] = i;
	}
	printf("bulwark-load: socket mode to %s:%u, %s\n", o->host, o->port, load_plan(o));
	t_start = k.now = load_now_us();
	t_end = t_start + (uint64_t)(o->duration * 1e6);
	t_sweep = t_start;
	t_tick = t_start + 1000000u;
	for (;;) {
		int n;

		if (k.now < t_end) {
			uint64_t due =
			    o->rate > 0
				? (uint64_t)((double)(k.now - t_start) * o->rate / 1e6) - due_done
				: k.n_free;

			while (due > 0 && k.n_free > 0) {
				ss_start(&k);
				due--, due_done++;
			}
			if (o->rate > 0 &&
			    due > 0) { /* no free slot: the offered rate is not met */
				st->deferred += due;
				due_done += due;
			}
		} else {
			if (!window_done)
				st->ok_in_window = st->tot.oc[LO_OK];
			window_done = 1;
			if (st->in_flight == 0)
				break;
		}
		n = epoll_wait(k.ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), o->rate > 0 ? 1 : 5);
		k.now = load_now_us();
		for (int e = 0; e < n; e++)
			if (k.sl[evs[e].data.u32].phase != SP_FREE)
				ss_event(&k, evs[e].data.u32, evs[e].events);
		if (k.now - t_sweep >= 10000u) {
			ss_sweep(&k);
			t_sweep = k.now;
		}
		if (k.now >= t_tick) {
			load_stats_tick(st, o, (double)(k.now - t_start) / 1e6);
			t_tick += 1000000u;
		}
	}
	st->elapsed = (double)(k.now - t_start) / 1e6;
	load_stats_tick(st, o, st->elapsed);
	close(k.ep);
	SSL_CTX_free(k.tls);
	return 0;
}
