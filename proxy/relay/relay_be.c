/*
 * relay_be.c — backend choice and health checks for one relay lcore
 * (relay.h). Each relay lcore keeps its own view of every backend: its
 * share of the connection cap, its balancing credit and its health.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/socket.h>

#include "log.h"
#include "relay_int.h"

/* ---- Balancing -------------------------------------------------------------- */

int relay_be_pick(struct relay *r, uint64_t tried, int *full)
{
	const struct cfg *c = r->cfg;
	uint32_t n = c->n_backends;
	int64_t total = 0;
	int best = -1;

	*full = 0;
	for (uint32_t i = 0; i < n; i++) {
		/* least-connections: start where the last pick left off, so
		 * ties rotate instead of always landing on the first. */
		uint32_t b = c->relay.balance == CFG_BALANCE_LEASTCONN ? (r->lc_next + i) % n : i;
		struct relay_be *be = &r->be[b];
		uint64_t w = c->backends[b].weight;

		if ((tried >> b) & 1u || !be->up)
			continue;
		if (be->conns >= be->cap) {
			*full = 1;
			continue;
		}
		if (c->relay.balance == CFG_BALANCE_LEASTCONN) {
			/* fewest connections per unit of weight */
			if (best < 0 || (uint64_t)be->conns * c->backends[best].weight <
					    (uint64_t)r->be[best].conns * w)
				best = (int)b;
		} else {
			/* smooth weighted round-robin: every candidate earns its
			 * weight, the richest is picked and pays the total. */
			be->rr_cur += (int64_t)w;
			total += (int64_t)w;
			if (best < 0 || be->rr_cur > r->be[best].rr_cur)
				best = (int)b;
		}
	}
	if (best >= 0 && c->relay.balance == CFG_BALANCE_LEASTCONN)
		r->lc_next = ((uint32_t)best + 1) % n;
	else if (best >= 0)
		r->be[best].rr_cur -= total;
	return best;
}

void relay_be_result(struct relay *r, uint8_t b, int ok)
{
	const struct cfg_relay *c = &r->cfg->relay;
	struct relay_be *be = &r->be[b];

	if (b >= r->cfg->n_backends) /* RELAY_BE_RETIRED: no health any more */
		return;
	if (ok) {
		be->fails = 0;
		be->oks++;
		if (!be->up && be->oks >= c->health_rise) {
			be->up = 1;
			r->st.health_up++;
			log_kv(LOG_LVL_INFO, "event=backend_up relay=%u backend=%s successes=%u",
			       r->id, r->cfg->backends[b].name, be->oks);
		}
		return;
	}
	be->oks = 0;
	be->fails++;
	if (be->up && be->fails >= c->health_fall) {
		be->up = 0;
		r->st.health_down++;
		log_kv(LOG_LVL_WARN, "event=backend_down relay=%u backend=%s failures=%u", r->id,
		       r->cfg->backends[b].name, be->fails);
	}
}

/* ---- Health checks ---------------------------------------------------------- */

/*
 * connect, read the 220 (RFC 5321 §3.1), EHLO <our hostname>, read the 250
 * (which must offer STARTTLS for a tls = "starttls" backend), QUIT — always QUIT once connected, so the MTA logs a clean session — and
 * close. The whole check must finish within relay.health.timeout_ms.
 */

void relay_hc_close(struct relay *r, struct relay_hc *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->ep_mask = 0;
	h->st = HC_IDLE;
	h->rlen = 0;
	relay_rscan_init(&h->rs);
	if (r->cfg)
		r->be[h->be].next_check = r->now + r->cfg->relay.health_interval_ms;
}

/* Sends a short line in one go (a fresh socket always has the room). */
static int hc_send(struct relay_hc *h, const void *p, size_t n)
{
	return send(h->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n ? 0 : -1;
}

/* Sends the PROXY header the backend is configured for, if any. */
static int hc_proxy(struct relay *r, struct relay_hc *h)
{
	uint8_t hdr[RELAY_PROXY_V2_LOCAL_LEN];
	int n;

	switch (r->cfg->backends[h->be].proxy_protocol) {
	case CFG_PROXY_V1:
		n = relay_proxy_v1_unknown((char *)hdr, sizeof(hdr));
		break;
	case CFG_PROXY_V2:
		n = relay_proxy_v2_local(hdr, sizeof(hdr));
		break;
	default:
		return 0;
	}
	return n > 0 ? hc_send(h, hdr, (size_t)n) : -1;
}

static void hc_done(struct relay *r, struct relay_hc *h, int ok)
{
	if (ok)
		r->st.health_ok++;
	else
		r->st.health_fail++;
	relay_be_result(r, h->be, ok);
}

static void hc_fail(struct relay *r, struct relay_hc *h)
{
	if (h->st == HC_GREET || h->st == HC_EHLO)
		hc_send(h, "QUIT\r\n", 6);
	if (h->st != HC_QUIT)
		hc_done(r, h, 0);
	relay_hc_close(r, h);
}

/* One complete reply, p[0..n). */
static void hc_reply(struct relay *r, struct relay_hc *h, int code, const uint8_t *p, size_t n_)
{
	char line[RELAY_HELO_MAX];
	const char *host = r->cfg->smtp.hostname;
	int n;

	switch (h->st) {
	case HC_GREET:
		n = relay_helo(line, sizeof(line), 1, (const uint8_t *)host, strlen(host));
		if (code != 220 || n <= 0 || hc_send(h, line, (size_t)n)) {
			hc_fail(r, h);
			return;
		}
		h->st = HC_EHLO;
		return;
	case HC_EHLO:
		if (code != 250) {
			hc_fail(r, h);
			return;
		}
		/* A STARTTLS backend that stops offering it would fail every
		 * session: it is down (the check stops short of the handshake;
		 * sessions that fail theirs count against the backend too). */
		if (r->cfg->backends[h->be].tls == CFG_TLS_STARTTLS) {
			struct relay_caps caps = { 0 };

			relay_caps_parse(p, n_, &caps);
			if (!caps.starttls) {
				r->st.tls_nocap++;
				hc_fail(r, h);
				return;
			}
		}
		hc_done(r, h, 1);
		h->st = HC_QUIT;
		if (hc_send(h, "QUIT\r\n", 6))
			relay_hc_close(r, h);
		return;
	default: /* the 221 */
		relay_hc_close(r, h);
		return;
	}
}

void relay_hc_io(struct relay *r, struct relay_hc *h, uint32_t events)
{
	if (h->st == HC_IDLE || h->fd < 0)
		return;
	if (h->st == HC_CONNECT) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &l) || err ||
		    (events & (EPOLLERR | EPOLLHUP)) ||
		    relay_ep_set(r, h->fd, h, &h->ep_mask, EPOLLIN)) {
			hc_fail(r, h);
			return;
		}
		/* A backend that reads a PROXY header first waits for one
		 * before it greets: send the kind for our own connections. */
		if (hc_proxy(r, h)) {
			hc_fail(r, h);
			return;
		}
		h->st = HC_GREET;
		return;
	}
	while (h->st != HC_IDLE) {
		ssize_t k;
		int code = 0, n;

		if (h->rlen) {
			n = relay_reply_scan(&h->rs, h->rbuf, h->rlen, sizeof(h->rbuf), &code);
			if (n < 0 || (n == 0 && h->rlen == sizeof(h->rbuf))) {
				hc_fail(r, h);
				return;
			}
			if (n > 0) {
				uint8_t st = h->st;

				hc_reply(r, h, code, h->rbuf, (size_t)n);
				if (h->st == HC_IDLE && st != HC_IDLE)
					return; /* closed: rbuf was reset */
				memmove(h->rbuf, h->rbuf + n, h->rlen - (uint32_t)n);
				h->rlen -= (uint32_t)n;
				continue;
			}
		}
		k = recv(h->fd, h->rbuf + h->rlen, sizeof(h->rbuf) - h->rlen, 0);
		if (k > 0) {
			h->rlen += (uint32_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (h->st == HC_QUIT)
			relay_hc_close(r, h);
		else
			hc_fail(r, h); /* EOF or error before the 250 */
		return;
	}
}

void relay_hc_timer(struct relay *r)
{
	const struct cfg_relay *c = &r->cfg->relay;

	for (uint32_t b = 0; b < r->cfg->n_backends; b++) {
		struct relay_hc *h = r->be[b].hc;
		int fd;

		if (h == NULL) /* a reload found no memory for it (relay_reload) */
			continue;
		if (h->st != HC_IDLE) {
			if (r->now - h->t0 >= c->health_timeout_ms)
				hc_fail(r, h);
			continue;
		}
		if (r->now < r->be[b].next_check)
			continue;
		fd = relay_connect(r, (uint8_t)b);
		h->t0 = r->now;
		if (fd < 0) {
			hc_done(r, h, 0);
			relay_hc_close(r, h);
			continue;
		}
		h->fd = fd;
		h->st = HC_CONNECT;
		if (relay_ep_set(r, fd, h, &h->ep_mask, EPOLLOUT)) {
			h->st = HC_CONNECT;
			hc_fail(r, h);
		}
	}
}
