/*
 * relay_int.h — what the relay's own files share: the backend session and
 * health check states and the functions between relay.c (loop, rings),
 * relay_sess.c (a backend session's life), relay_io.c (its bytes) and
 * relay_be.c (balancing, health).
 */
#ifndef BULWARK_RELAY_INT_H
#define BULWARK_RELAY_INT_H

#include <stdint.h>

#include "relay.h"
#include "relay_proxy.h"
#include "relay_reply.h"
#include "smtp.h"
#include "tls_client.h"

#define RELAY_BURST        32 /* ring entries dequeued per pair and pass */
#define RELAY_EP_EVENTS    64 /* epoll events per epoll_wait */
#define RELAY_IDLE_WAIT_MS 1  /* epoll_wait timeout when no ring had work (DESIGN §1) */
#define RELAY_SWEEP_MS     20 /* timeouts and health checks are looked at this often */
#define RELAY_IOV_MAX      16 /* body objects written by one sendmsg */
/* Replies a session may await at once: the worker's SMTP core forwards
 * no more commands than its reply queue holds (SMTP_QUEUE_SLOTS), plus
 * the final dot and the QUIT; twice that leaves room. */
#define RELAY_PEND_MAX 64
_Static_assert(RELAY_PEND_MAX >= SMTP_QUEUE_SLOTS + 2, "RELAY_PEND_MAX below the core's bound");
_Static_assert(RELAY_PEND_MAX <= 64, "relay_sess.p_sasl has one bit per reply slot");
/* How long a closing session waits for the 221 to its QUIT at most
 * (never longer than relay.reply_timeout_ms): the client has its answer
 * already, this only spares the backend a reset. */
#define RELAY_QUIT_WAIT_MS 3000
/* Handshake bytes: a PROXY header and XCLIENT, or an EHLO line, or QUIT. */
#define RELAY_HS_MAX (RELAY_PROXY_V1_MAX + RELAY_XCLIENT_MAX + RELAY_HELO_MAX)
_Static_assert(RELAY_PROXY_V2_SSL_MAX <= RELAY_HS_MAX, "PROXY v2 with SSL TLVs outgrew hs[]");
_Static_assert(RELAY_TLS_CIPHER_MAX <= RELAY_PROXY_TLS_STR_MAX &&
		   RELAY_TLS_VERSION_MAX <= RELAY_PROXY_TLS_STR_MAX,
	       "relay_open's TLS names must fit the SSL TLVs");

/* relay_sess.be of a session whose backend a reload removed: it keeps
 * its connection, counted in relay.n_retired, not in any relay_be. */
#define RELAY_BE_RETIRED 0xffu
_Static_assert(CFG_BACKENDS_MAX < RELAY_BE_RETIRED, "RELAY_BE_RETIRED is a backend index");

/* epoll_event.data.ptr points at a struct whose first byte is one of these. */
enum relay_ep_tag {
	RELAY_EP_SESS = 1,
	RELAY_EP_HC,
};

enum relay_sess_st {
	RS_RETRY = 0, /* waits (on r->retry) to connect to its next backend */
	RS_CONNECT,   /* non-blocking connect in progress */
	RS_GREET,     /* PROXY header sent (if any); waits for the 220 */
	RS_TLS_EHLO0, /* tls: our EHLO sent in the clear; waits for a 250 with STARTTLS */
	RS_TLS_START, /* tls: STARTTLS sent; waits for its 220 */
	RS_TLS_HS,    /* tls: the handshake runs */
	RS_TLS_EHLO1, /* tls + xclient: our EHLO sent over TLS; waits for the 250 */
	RS_XCLIENT,   /* XCLIENT sent; waits for its reply (a fresh 220) */
	RS_EHLO,      /* EHLO/HELO replayed; waits for the 250 */
	RS_READY,     /* forwarding */
	RS_QUIT,      /* detached: flushes its queue, then QUIT, then the 221 */
	RS_DEAD,      /* closed, on r->dead */
};

/* Local replies, in the order of relay_local_text[] (1-based: 0 in a
 * pending slot means "the backend's reply"). */
enum relay_local {
	RL_BACKEND = 0,
	RL_UTF8,   /* 553 5.6.7 */
	RL_8BIT,   /* 555 5.5.4 BODY=8BITMIME */
	RL_SIZEP,  /* 555 5.5.4 SIZE= */
	RL_TOOBIG, /* 552 5.3.4 */
	RL_NOMAIL, /* 503 5.5.1 RCPT/DATA after a refused MAIL */
	RL_COUNT
};

/* What the session's log line says (relay_log.c), kept as it goes. */
#define RELAY_QID_MAX 64
struct relay_slog {
	uint64_t t_open; /* ms */
	uint64_t bytes;  /* body bytes queued */
	uint32_t msgs;   /* 2xx to the final dot */
	uint8_t logged;
	uint8_t dot_wait; /* the final dot was queued: the next backend reply is its */
	uint8_t be_seen;  /* be holds the last backend that reached READY */
	uint8_t be;
	uint8_t qid_len;
	char qid[RELAY_QID_MAX]; /* from the last 2xx to a final dot */
};

struct relay_sess {
	uint8_t tag; /* RELAY_EP_SESS */
	uint8_t st;  /* enum relay_sess_st */
	uint8_t be;  /* backend index, valid from RS_CONNECT while holding a conn;
		      * RELAY_BE_RETIRED: a reload removed it (relay_reload) */
	uint8_t has_be;
	uint8_t stalled;    /* waits for a relay object (not reading) */
	uint8_t attached;   /* r->ws[w].slot[sid] points here */
	uint8_t refused_tx; /* the transaction's MAIL was refused here: 503 the rest */
	uint8_t quit_sent;
	uint8_t cmd_cont;  /* the last CMD object written did not end its line */
	uint8_t head_done; /* the queue head's reply slot is taken (writing it) */
	uint8_t failed;    /* some backend failed for this session */
	uint8_t saw_full;  /* some backend was skipped for its cap */
	uint8_t want_out;  /* the socket refused bytes: waits for EPOLLOUT */
	uint8_t body;      /* a 354 was passed on: body bytes stream until the final dot */
	uint8_t early;     /* a 4xx/5xx came mid-body: kept at rbuf[0..rlen), socket closed */
	uint8_t sasl_next; /* the last backend reply was a 334 to AUTH or a SASL line */
	uint8_t xclient;   /* the backend's xclient, copied at connect (it may be reloaded) */
	uint8_t starttls;  /* the backend's tls = "starttls", copied at connect; a reload
			    * never changes or retires a tls backend (main.c) */
	int fd;

	/* tls backends: from RS_TLS_HS on every byte goes through tls; the
	 * socket's direction is then OpenSSL's call: a read may wait for
	 * EPOLLOUT (tls_rd_out), a write for EPOLLIN (tls_wr_in). */
	struct tls_cli *tls;
	uint8_t tls_rd_out, tls_wr_in;

	uint32_t ep_mask; /* events registered; 0: not in the epoll set */
	uint16_t w;
	uint32_t sid, gen;
	uint64_t tried;    /* backends tried, bit per index */
	uint64_t t_phase;  /* start of the connect phase / of the QUIT wait */
	uint64_t t_wait;   /* the oldest awaited reply's clock */
	uint64_t t_wblock; /* last progress while want_out: the backend reads */
	struct relay_open open;
	struct relay_caps caps;
	uint16_t hs_len, hs_off; /* handshake bytes to write first */
	uint8_t hs[RELAY_HS_MAX];
	struct relay_msg *q_head, *q_tail; /* worker objects to write */
	uint32_t q_off;                    /* bytes of q_head written */
	uint8_t pend[RELAY_PEND_MAX];      /* enum relay_local per awaited reply */
	uint8_t p_head, p_n;
	uint8_t n_be_wait; /* of those, the backend's */
	uint64_t p_sasl;   /* bit i: pend[i] answers AUTH or a SASL line */
	struct relay_rscan rs;
	uint32_t rlen;
	struct relay_sess *prev, *next; /* r->live; after RS_DEAD r->dead (next only) */
	struct relay_sess *rnext;       /* r->retry */
	struct relay_slog lg;
	uint8_t rbuf[RELAY_MSG_DATA];
};

enum relay_hc_st {
	HC_IDLE = 0,
	HC_CONNECT,
	HC_GREET,
	HC_EHLO, /* tls backends: the reply must offer STARTTLS */
	HC_QUIT,
};

struct relay_hc {
	uint8_t tag; /* RELAY_EP_HC */
	uint8_t st;  /* enum relay_hc_st */
	uint8_t be;
	int fd;
	uint32_t ep_mask;
	uint64_t t0;
	struct relay_rscan rs;
	uint32_t rlen;
	uint8_t rbuf[RELAY_MSG_DATA];
};

/* Per worker: its pair, session slots and the r2w backlog. */
struct relay_ws {
	struct relay_pair *pair;
	struct relay_sess **slot; /* cfg->limits.sessions */
	uintptr_t *bl;            /* r2w entries that did not fit (FIFO) */
	uint32_t bl_head, bl_n, bl_cap;
};

/* relay.c */
uint64_t relay_now_ms(void);
/* Queues ring entry e for worker w's r2w ring, in order. */
void relay_put(struct relay *r, uint16_t w, uintptr_t e);
/* Hands worker object m back as a credit. */
void relay_credit(struct relay *r, struct relay_msg *m);
/* Sets the epoll interest of fd for owner to mask (0: out of the set). */
int relay_ep_set(struct relay *r, int fd, void *owner, uint32_t *cur, uint32_t mask);
/* Opens a non-blocking TCP connection to backend b; returns the fd
 * (connect in progress or done) or -errno. */
int relay_connect(struct relay *r, uint8_t b);

/* relay_sess.c: life of a session */
struct relay_sess *relay_sess_open(struct relay *r, uint16_t w, const struct relay_msg *m);
void relay_sess_queue(struct relay *r, struct relay_sess *s, struct relay_msg *m);
void relay_sess_abort(struct relay *r, struct relay_sess *s);
void relay_sess_quit(struct relay *r, struct relay_sess *s);
void relay_sess_io(struct relay *r, struct relay_sess *s, uint32_t events);
void relay_sess_retry(struct relay *r, struct relay_sess *s); /* on r->retry */
void relay_sess_unstall(struct relay *r, struct relay_sess *s);
void relay_sess_timer(struct relay *r, struct relay_sess *s);
/* Closes without a word to anyone and frees (relay_destroy). */
void relay_sess_drop(struct relay *r, struct relay_sess *s);
void relay_sess_event(struct relay *r, struct relay_sess *s, enum smtp_backend_ev ev);
/* Frees s after this pass: closes (rst: with a reset), credits its queue. */
void relay_sess_free(struct relay *r, struct relay_sess *s, int rst);
/* The socket broke or the backend misbehaved: failover before READY, GONE
 * after, a plain close after QUIT. */
void relay_sess_broken(struct relay *r, struct relay_sess *s);
void relay_sess_stall(struct relay *r, struct relay_sess *s, int on);
/* The backend rejected the message mid-body with the reply at
 * s->rbuf[0..len): keeps it for the final dot, closes the socket, hands
 * back the body objects queued; ends s when the final dot is queued
 * already (handled: the caller must not touch s). */
void relay_sess_early(struct relay *r, struct relay_sess *s, size_t len);

/* relay_io.c: a session's bytes. Each returns 0, or -1 when s was closed
 * or moved on (handled: the caller must not touch it). */
int relay_io_write(struct relay *r, struct relay_sess *s);
int relay_io_read(struct relay *r, struct relay_sess *s);
/* Sends the relay's own replies that are next in order; -1: s stalled. */
int relay_io_emit(struct relay *r, struct relay_sess *s);
/* After an early end-of-data reply (s->early): hands body objects back
 * unsent and answers the final dot with the kept reply, then GONE. 0
 * (waiting for the final dot or a relay object), or -1 when s ended. */
int relay_io_early(struct relay *r, struct relay_sess *s);

/* relay_log.c: the per-session line (log.sessions) and its counters */
/* Body object m was queued for s. */
void relay_log_body(struct relay *r, struct relay_sess *s, const struct relay_msg *m);
/* The backend answered the final dot with code (the reply at p[0..n)). */
void relay_log_dot(struct relay *r, struct relay_sess *s, unsigned code, const uint8_t *p,
		   size_t n);
/* The session ended for the client (quit, abort, gone, none, busy,
 * shutdown): logs its line once. */
void relay_log_end(struct relay *r, struct relay_sess *s, const char *outcome);
/* Copies the queue id from a 2xx reply to a final dot: the token after
 * "queued as" (Postfix), else the last token of the last line; at most
 * cap - 1 bytes of [A-Za-z0-9.:@_+=/-]. Returns its length. Pure. */
size_t relay_log_qid(const uint8_t *p, size_t n, char *out, size_t cap);

/* relay_be.c */
/* Picks a backend not in tried; -1: none (*full set when some were
 * skipped for their cap). */
int relay_be_pick(struct relay *r, uint64_t tried, int *full);
/* A connect/greeting/EHLO failure of a real session counts as a failed
 * check; ok from a check. */
void relay_be_result(struct relay *r, uint8_t b, int ok);
void relay_hc_io(struct relay *r, struct relay_hc *h, uint32_t events);
void relay_hc_timer(struct relay *r);
void relay_hc_close(struct relay *r, struct relay_hc *h);

#endif /* BULWARK_RELAY_INT_H */
