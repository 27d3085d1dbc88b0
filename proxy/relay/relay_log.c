/*
 * relay_log.c — one key=value line per relayed session, written by the
 * relay lcore when the session ends for its client (log.sessions), and the
 * message and DATA byte counters it shares with them.
 *
 *   event=session client=198.18.1.2:40312 helo=client.example backend=lab
 *   queue_id=4XyZ12 msgs=1 bytes=1834 duration_ms=41 outcome=quit
 *
 * A line per relayed session is bounded by the backends' pace (every such
 * session passed the SMTP scanner and holds a backend connection): junk
 * never reaches this file, it is summarised by the main lcore.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "relay_int.h"

static int qid_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr(".:@_+=/-", c) != NULL;
}

size_t relay_log_qid(const uint8_t *p, size_t n, char *out, size_t cap)
{
	static const char key[] = "queued as ";
	size_t ls = 0, i, a, b, k = 0;

	if (cap == 0)
		return 0;
	/* the last line: "NNN ..." after the last "NNN-" continuation */
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	for (i = 0; i < n; i++)
		if (p[i] == '\n')
			ls = i + 1;
	a = ls + 4 <= n ? ls + 4 : n; /* after "NNN " */
	b = n;
	for (i = a; i + sizeof(key) - 1 <= n; i++)
		if (strncasecmp((const char *)p + i, key, sizeof(key) - 1) == 0) {
			a = i + sizeof(key) - 1;
			for (b = a; b < n && p[b] != ' '; b++)
				;
			break;
		}
	if (i + sizeof(key) - 1 > n) { /* no "queued as": the last token */
		while (b > a && p[b - 1] == ' ')
			b--;
		for (a = b; a > ls + 4 && p[a - 1] != ' '; a--)
			;
	}
	for (i = a; i < b && k + 1 < cap && qid_char(p[i]); i++)
		out[k++] = (char)p[i];
	if (i < b && k + 1 < cap) /* a character we do not print: none at all */
		k = 0;
	out[k] = '\0';
	return k;
}

void relay_log_body(struct relay *r, struct relay_sess *s, const struct relay_msg *m)
{
	if (m->kind != RELAY_M_BODY)
		return;
	r->st.data_bytes += m->len;
	s->lg.bytes += m->len;
}

void relay_log_dot(struct relay *r, struct relay_sess *s, unsigned code, const uint8_t *p, size_t n)
{
	if (code / 100 != 2) {
		r->st.msgs_refused++;
		return;
	}
	r->st.msgs++;
	if (s->has_be && s->be < r->cfg->n_backends) /* not RELAY_BE_RETIRED */
		r->st.be_msgs[s->be]++;
	s->lg.msgs++;
	s->lg.qid_len = (uint8_t)relay_log_qid(p, n, s->lg.qid, sizeof(s->lg.qid));
}

void relay_log_end(struct relay *r, struct relay_sess *s, const char *outcome)
{
	char helo[sizeof(s->open.helo) + 1], ip[INET_ADDRSTRLEN] = "?";
	size_t hl =
	    s->open.helo_len < sizeof(s->open.helo) ? s->open.helo_len : sizeof(s->open.helo);
	struct in_addr a = { .s_addr = s->open.client_addr };

	if (s->lg.logged)
		return;
	s->lg.logged = 1;
	if (!r->cfg->log.sessions)
		return;
	/* the core accepted it as a domain or an address literal; still,
	 * nothing that could break the line's key=value shape goes out */
	for (size_t i = 0; i < hl; i++) {
		uint8_t c = s->open.helo[i];

		helo[i] = c > ' ' && c < 0x7f && c != '"' && c != '=' ? (char)c : '?';
	}
	helo[hl] = '\0';
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	log_kv(LOG_LVL_INFO,
	       "event=session client=%s:%u helo=%s backend=%s queue_id=%s msgs=%u bytes=%lu "
	       "duration_ms=%lu outcome=%s relay=%u",
	       ip, ntohs(s->open.client_port), hl ? helo : "-",
	       !s->lg.be_seen                  ? "-"
	       : s->lg.be < r->cfg->n_backends ? r->cfg->backends[s->lg.be].name
					       : "(removed by a reload)",
	       s->lg.qid_len ? s->lg.qid : "-", s->lg.msgs, (unsigned long)s->lg.bytes,
	       (unsigned long)(r->now - s->lg.t_open), outcome, r->id);
}
