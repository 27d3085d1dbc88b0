/*
 * smtp.h — the SMTP session state machine: Bulwark's brain.
 *
 * (session, bytes in, now) -> (bytes out, actions). No I/O, no clock reads,
 * no logging, no allocation: the caller owns every buffer and passes the
 * time (milliseconds on any monotonic clock) into every call.
 *
 * Policy: ../shared/DESIGN.md §3 and docs/architecture.md. The same session
 * object covers the local part of a session (greeting, EHLO, junk) and the
 * decisions of the relayed part (what to forward, what to refuse, which
 * replies the client sees and in which order).
 */
#ifndef BULWARK_SMTP_H
#define BULWARK_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "scan.h"
#include "smtp-t.h"
#include "smtp_args.h"
#include "smtp_reply.h"

/* ---- Configuration (built once, shared read-only by all sessions) ------ */

/* Capabilities advertised in the EHLO reply (struct smtp_cfg.caps). */
#define SMTP_CAP_SIZE                0x01u
#define SMTP_CAP_PIPELINING          0x02u
#define SMTP_CAP_8BITMIME            0x04u
#define SMTP_CAP_ENHANCEDSTATUSCODES 0x08u
#define SMTP_CAP_STARTTLS            0x10u /* only when a certificate is configured */
#define SMTP_CAP_SMTPUTF8            0x20u
#define SMTP_CAP_AUTH                0x40u /* submission listeners: mechanisms in auth_mechs */
#define SMTP_CAP_CHUNKING            0x80u /* never advertised yet (DESIGN §3) */

/* DATA policy for bare CR, bare LF and NUL in a body (DESIGN §3). */
enum smtp_data_policy {
	SMTP_DATA_REJECT = 0, /* abort the backend transaction, answer 550 5.5.2 */
	SMTP_DATA_NORMALIZE,  /* bare CR/LF line ends become CRLF, re-dot-stuffed */
};

struct smtp_cfg {
	const struct scan_kernels *scan; /* from scan_pick() */
	char hostname[256];              /* in the greeting, 221, 421 */
	uint32_t caps;                   /* SMTP_CAP_* */
	uint64_t size_max;               /* SIZE limit, octets of message body */
	char auth_mechs[128];            /* "PLAIN LOGIN" when SMTP_CAP_AUTH */
	uint8_t require_tls;             /* MAIL/AUTH before STARTTLS: 530 5.7.0 */
	uint8_t tls_implicit;            /* the listener is implicit TLS (465) */
	uint8_t greet_teaser;            /* send "220-" at once, "220 " after wait */
	uint8_t data_policy;             /* enum smtp_data_policy */
	uint32_t greet_wait_ms;          /* pregreet window; 0 = greet at once */
	uint32_t error_limit;            /* N-th 500..504 from Bulwark -> 421; <= SMTP_ERRORS_MAX */
	uint32_t cmd_timeout_ms;         /* waiting for a command (5 min) */
	uint32_t data_timeout_ms;        /* per DATA block (3 min) */
	uint32_t dot_timeout_ms;         /* after the final dot (10 min) */
	uint32_t session_max_ms;         /* whole session, 0 = unlimited */
	uint32_t max_rcpts;              /* per transaction (>= 100, RFC 5321 §4.5.3.1.8) */
	uint32_t max_msgs;               /* per session, 0 = unlimited; <= SMTP_MSGS_MAX */
	uint32_t max_data_line;          /* body line limit, 0 = unlimited */
	struct smtp_reply_table replies; /* rendered by smtp_cfg_init() */
};

/* The longest EHLO/HELO argument accepted (RFC 5321 §4.5.3.1.2: a domain). */
#define SMTP_HELO_MAX 255u

/* What the session's saturating counters can compare against. */
#define SMTP_ERRORS_MAX 127u
#define SMTP_MSGS_MAX   ((1u << 23) - 1)

/*
 * Fills cfg with the defaults of DESIGN §3 for hostname and the given scan
 * kernels. The caller may then change fields and must call smtp_cfg_init().
 */
void smtp_cfg_defaults(struct smtp_cfg *cfg, const char *hostname, const struct scan_kernels *scan);

/*
 * Validates cfg and renders its reply table (greeting, EHLO replies, ...).
 * Returns 0, or -EINVAL with *why naming the offending field.
 */
int smtp_cfg_init(struct smtp_cfg *cfg, const char **why);

/* ---- Output of every call ----------------------------------------------- */

/* Actions (struct smtp_out.actions), to be carried out in this order:
 * send out->buf to the client; hand out->fwd to the backend; then the rest. */
#define SMTP_ACT_CLOSE         0x001u /* after out->buf: FIN, linger, discard */
#define SMTP_ACT_STARTTLS      0x002u /* after out->buf: TLS handshake; drop unconsumed input */
#define SMTP_ACT_RELAY         0x004u /* open a backend session (relay_ehlo) */
#define SMTP_ACT_BACKEND_ABORT 0x008u /* close the backend without a final dot */
#define SMTP_ACT_BACKEND_QUIT  0x010u /* QUIT to the backend after out->fwd, then close */
#define SMTP_ACT_DATA_END      0x020u /* out->fwd ends with the final dot */
#define SMTP_ACT_PAUSE         0x040u /* stop reading: waiting for the backend */
/* out/fwd ran short: flush them, call smtp_input() again (n may be 0) */
#define SMTP_ACT_MORE 0x080u
/* smtp_input() has a command line to assemble (or another use for the work
 * area) but none is lent (smtp_work_lend): the rest of the input is not
 * consumed; lend one and call again. Flow control, like MORE. */
#define SMTP_ACT_NEED_WORK 0x100u
/* The client's EHLO/HELO argument was accepted: out->helo[0..helo_len),
 * valid until the call returns (it points into the lent work area); the
 * caller keeps a copy, replacing any earlier one, to replay at
 * SMTP_ACT_RELAY. helo_len == 0: forget the stored copy (STARTTLS, RFC 3207
 * §4.2). smtp_input() returns right after the line that accepted it, with
 * SMTP_ACT_MORE when input is left (call again). */
#define SMTP_ACT_HELO 0x200u

/* A piece of bytes for the backend: points into the caller's input (DATA
 * bodies: the caller must keep those input bytes until it has handed
 * out->fwd to the backend), into out->fwd_buf, into the session (never) or
 * into static storage. */
struct smtp_span {
	const uint8_t *p;
	uint32_t len;
};

struct smtp_out {
	/* to the client; the caller sets buf/cap, the core appends at len */
	uint8_t *buf;
	size_t cap; /* at least SMTP_OUT_MIN */
	size_t len;
	/* to the backend, in order */
	struct smtp_span *fwd;
	uint32_t fwd_cap;
	uint32_t fwd_n;
	uint8_t *fwd_buf; /* copies of command lines */
	size_t fwd_buf_cap;
	size_t fwd_buf_len;
	/* the first fwd_body spans are message body (with the final dot when
	 * SMTP_ACT_DATA_END); the rest are whole command lines. Body never
	 * follows a command line within one call (DATA waits for its 354). */
	uint32_t fwd_body;
	uint32_t actions; /* SMTP_ACT_* */
	/* with SMTP_ACT_RELAY: what the caller's stored argument is to be
	 * replayed with (the core keeps no copy: see SMTP_ACT_HELO) */
	uint8_t relay_ehlo; /* 1 EHLO, 0 HELO */
	/* with SMTP_ACT_HELO: the accepted argument, or helo_len 0: forget it */
	const uint8_t *helo;
	size_t helo_len;
	/* with SMTP_ACT_CLOSE: why, for counters and logs */
	uint8_t close_reason; /* enum smtp_close */
	uint8_t sig;          /* enum scan_sig, when close_reason is SMTP_CLOSE_NONSMTP */
	/* set by every call: the next time (ms) smtp_tick() must run */
	uint64_t deadline;
	/* set by the caller before smtp_input() (smtp_out_reset leaves it):
	 * no handshake can start now (the cap on concurrent handshakes), so
	 * STARTTLS gets 454 4.7.0 and the session goes on in plaintext */
	uint8_t tls_busy;
};

/*
 * Minimum room per call: out->cap >= SMTP_OUT_MIN; out->fwd_cap >=
 * SMTP_FWD_MIN spans; out->fwd_buf_cap >= the listener's largest line
 * (SCAN_LINE_MAX_PARAMS, or SMTP_FWD_BUF_MIN where AUTH is offered). With
 * less free room the core consumes nothing more and sets SMTP_ACT_MORE.
 */
#define SMTP_OUT_MIN     4096u
#define SMTP_FWD_MIN     8u
#define SMTP_FWD_BUF_MIN SCAN_LINE_MAX_AUTH

/* Clears the per-call fields of out (len, fwd_n, fwd_buf_len, actions). */
void smtp_out_reset(struct smtp_out *out);

enum smtp_close {
	SMTP_CLOSE_NONE = 0,
	SMTP_CLOSE_QUIT,     /* 221 */
	SMTP_CLOSE_NONSMTP,  /* 500 5.5.2 on a non-SMTP first line (sig) */
	SMTP_CLOSE_PREGREET, /* bytes before the final 220 */
	SMTP_CLOSE_ERRORS,   /* 421 4.7.0 too many errors */
	SMTP_CLOSE_TIMEOUT,  /* 421 4.4.2 idle or session too long */
	SMTP_CLOSE_BACKEND,  /* 421 4.3.0 / 4.3.2 no backend */
	SMTP_CLOSE_SHUTDOWN, /* 421 4.3.2 draining */
	SMTP_CLOSE_MSGS,     /* 421 4.7.0 too many messages */
	SMTP_CLOSE_LIMIT,    /* 421 4.7.0 client over a per-address limit (smtp_refuse) */
	SMTP_CLOSE_DENIED,   /* 554 5.7.1 client on the deny list (smtp_refuse) */
	SMTP_CLOSE_COUNT
};

/* ---- The session --------------------------------------------------------- */

struct smtp_sess; /* defined in smtp-t.h; the caller allocates it */

/* The size of a work area whose command line holds line_bytes octets (a
 * listener needs its largest limit minus 2: SCAN_LINE_MAX_PARAMS - 2, or
 * SCAN_LINE_MAX_AUTH - 2 where AUTH is offered). */
#define SMTP_WORK_SIZE(line_bytes) (sizeof(struct smtp_work) + (size_t)(line_bytes))

/*
 * Starts a session at now. cfg must have passed smtp_cfg_init() and outlive
 * the session. work_cap: the size of every work area the caller will lend
 * (smtp_work_lend); it should be >= SMTP_WORK_SIZE(SCAN_LINE_MAX_PARAMS - 2)
 * (SCAN_LINE_MAX_AUTH - 2 where cfg offers AUTH): a smaller size lowers
 * every line limit to what its line bytes hold + 2. work: the first lent
 * area, or NULL to start without one (smtp_start itself never needs it).
 * With cfg->tls_implicit the session starts with TLS active (the caller ran
 * the handshake first). Emits the greeting (or the teaser) into out.
 * Returns the next deadline (ms) the caller must honour by calling
 * smtp_tick(); every call also stores it in out->deadline.
 *
 * Every call below appends to out (the caller resets it with
 * smtp_out_reset() after carrying it out, so that each call starts with at
 * least SMTP_OUT_MIN of room) and follows the same rules: actions are
 * carried out in the order given above SMTP_ACT_CLOSE; after SMTP_ACT_CLOSE
 * no call emits anything any more.
 *
 * Client vanishing: if the client's connection dies (RST, FIN mid-command,
 * linger) the caller simply closes the backend without sending anything
 * more; in particular a DATA body is never ended with a final dot by anyone
 * but the core (SMTP_ACT_DATA_END).
 */
uint64_t smtp_start(struct smtp_sess *s, const struct smtp_cfg *cfg, void *work, size_t work_cap,
		    uint64_t now, struct smtp_out *out);

/*
 * Work areas are lent per call, so that an idle session holds none (it
 * keeps only struct smtp_sess). The core needs one while it is busy: a
 * command line is partial (or being discarded after its limit), a complete
 * first line waits for its prefix verdict, the first raw octets are being
 * tested, replies are queued (out was short) or awaited from the backend,
 * a relayed transaction is open (MAIL forwarded), or a DATA body streams.
 * Protocol: before smtp_input(), if the session has no area, lend one (any
 * content: the core initialises it; aligned for struct smtp_work); after
 * any call, if smtp_work_busy() is 0, the caller may take it back with
 * smtp_work_lend(s, NULL, 0). While smtp_work_busy() is 1 the caller must
 * leave the same area lent and untouched (until the session ends). Without
 * an area smtp_input() consumes nothing that needs one and sets
 * SMTP_ACT_NEED_WORK; every other call works without one (an idle session
 * needs none for its greeting, a timeout, the drain or a backend loss).
 */

/* Lends work[0..cap) to s (NULL: takes it back). An area smaller than
 * smtp_start()'s work_cap, or misaligned, is not taken (as if NULL). */
void smtp_work_lend(struct smtp_sess *s, void *work, size_t cap);

/* Returns 1 while the lent area holds state s still needs, else 0. */
int smtp_work_busy(const struct smtp_sess *s);

/*
 * Client bytes p[0..n) arrived at now. Returns how many were consumed; the
 * core stops early when out is short of room (SMTP_ACT_MORE), when it waits
 * for the backend (SMTP_ACT_PAUSE: after forwarding DATA, AUTH or a SASL
 * line, or with 29+ replies pending), or at STARTTLS / close. The caller
 * keeps unconsumed bytes and offers them again later (after flushing out:
 * MORE; after the next smtp_backend_reply()/smtp_backend_event(): PAUSE) —
 * except after SMTP_ACT_STARTTLS and SMTP_ACT_CLOSE, where they must be
 * dropped (the core also drops whatever it is offered then). n == 0 just
 * flushes queued replies. The outcome never depends on how the client's
 * bytes were cut into calls.
 */
size_t smtp_input(struct smtp_sess *s, const uint8_t *p, size_t n, uint64_t now,
		  struct smtp_out *out);

/*
 * One complete reply from the backend (all its lines, CRLF-terminated,
 * "NNN-" ... "NNN " with one code, first digit 2..5), in answer to the
 * oldest command forwarded; the caller bounds its size. It is copied to
 * out->buf verbatim unless the core swallows it (the RSET sent for a
 * mid-session EHLO/HELO, the "*" sent to cancel a bad SASL exchange).
 * Returns 0, -ENOBUFS when out lacks room (flush, call smtp_input() with
 * n == 0, retry), or -EPROTO when no reply was expected or it is malformed
 * (nothing changed; the caller should treat the backend as gone).
 */
int smtp_backend_reply(struct smtp_sess *s, const uint8_t *p, size_t n, uint64_t now,
		       struct smtp_out *out);

enum smtp_backend_ev {
	SMTP_BACKEND_READY = 0, /* connected, greeted, EHLO replayed */
	SMTP_BACKEND_NONE,      /* no backend reachable: 421 4.3.0 */
	SMTP_BACKEND_BUSY,      /* every backend at its cap: 421 4.3.2 */
	SMTP_BACKEND_GONE,      /* the backend died or timed out mid-session */
};

/* Tells the session what happened to its backend (after SMTP_ACT_RELAY).
 * NONE/BUSY answer the command that asked for the relay with 421 and close;
 * GONE: see the policy block in smtp.c (451 4.4.2 for a pending end-of-data
 * reply, else 421 4.4.2 and close). READY changes nothing: forwarded bytes
 * simply wait in the relay until the backend is ready. */
void smtp_backend_event(struct smtp_sess *s, enum smtp_backend_ev ev, uint64_t now,
			struct smtp_out *out);

/* The TLS handshake the core asked for (SMTP_ACT_STARTTLS) completed: reset
 * to a fresh session (RFC 3207 §4.2: forget everything learnt before,
 * including EHLO and AUTH; the error count stays); no new greeting. */
void smtp_tls_started(struct smtp_sess *s, uint64_t now, struct smtp_out *out);

/* Graceful drain: an idle session (or one not greeted yet) answers
 * 421 4.3.2 and closes at once; a busy one at its next command outside a
 * transaction, or as soon as it becomes idle. */
void smtp_drain(struct smtp_sess *s, uint64_t now, struct smtp_out *out);

/*
 * Right after smtp_start() (nothing read yet): the greeting is replaced by
 * a refusal that closes — SMTP_R_CLIENT_LIMIT ("421 4.7.0", per-client
 * limits), SMTP_R_DENIED ("554 5.7.1", deny list; RFC 5321 §3.1 lets a
 * server answer the connection with 554 instead of 220) or SMTP_R_BUSY
 * ("421 4.3.2", memory pressure: shedding). The caller resets
 * out after smtp_start() so the greeting never leaves. Other ids: -EINVAL.
 */
int smtp_refuse(struct smtp_sess *s, enum smtp_reply_id id, uint64_t now, struct smtp_out *out);

/*
 * Memory-pressure shedding (issue 7): moves s to cfg, a configuration of
 * the same listener with other limits (timeouts, error_limit; the same
 * capabilities, hostname and line limits), then runs smtp_tick() at now so
 * that a deadline the new limits have already passed fires (421 4.4.2).
 * Only a session that never asked for a backend (no SMTP_ACT_RELAY) and is
 * not in its TLS handshake is moved: returns 0, or -EBUSY (nothing changed,
 * nothing emitted).
 */
int smtp_retune(struct smtp_sess *s, const struct smtp_cfg *cfg, uint64_t now,
		struct smtp_out *out);

/* Returns 1 when s may forward bytes to a backend on its next
 * smtp_input() (EHLO/HELO done, or a backend session open), else 0: a
 * caller can skip reserving relay buffers for sessions that cannot. */
int smtp_may_forward(const struct smtp_sess *s);

/* Returns 1 while s waits for a reply from its backend, else 0. */
int smtp_backend_waiting(const struct smtp_sess *s);

/* Time passed: fires the delayed greeting and the timeouts (421 4.4.2;
 * 451 4.4.2 for a missing end-of-data reply). Returns the next deadline
 * (UINT64_MAX once closed). */
uint64_t smtp_tick(struct smtp_sess *s, uint64_t now, struct smtp_out *out);

#endif /* BULWARK_SMTP_H */
