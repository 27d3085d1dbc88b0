/*
 * smtp-t.h — the SMTP session object (types only; functions in smtp.h).
 *
 * Fixed size, no pointers to anything the session owns: the caller allocates
 * it (a per-worker mempool object), smtp_start() initialises every field.
 * Callers never read or write the fields; they are here so the size is known.
 */
#ifndef BULWARK_SMTP_T_H
#define BULWARK_SMTP_T_H

#include <stdint.h>

#include "scan.h"

struct smtp_cfg;

/* Replies in flight, in command order (RFC 2920). */
#define SMTP_QUEUE_SLOTS 32u

enum smtp_slot_kind {
	SMTP_SLOT_LOCAL = 1, /* a reply-table id, ready to send */
	SMTP_SLOT_BACKEND,   /* the backend's reply to a forwarded command */
	SMTP_SLOT_SWALLOW,   /* a backend reply the client never sees */
};

/* What a BACKEND/SWALLOW slot waits for (which forwarded command). */
enum smtp_fwd_verb {
	SMTP_FV_MAIL = 1,
	SMTP_FV_RCPT,
	SMTP_FV_RSET,
	SMTP_FV_DATA,
	SMTP_FV_DOT,  /* the end-of-data reply */
	SMTP_FV_AUTH, /* AUTH or a SASL continuation line */
};

struct smtp_slot {
	uint8_t kind;  /* enum smtp_slot_kind */
	uint8_t what;  /* LOCAL: enum smtp_reply_id; else enum smtp_fwd_verb */
	uint8_t close; /* LOCAL: enum smtp_close to close with after it, or 0 */
	uint8_t gen;   /* transaction generation the command belonged to */
};

/* Phases of a session (enter_state() in smtp.c). */
enum smtp_state {
	SMTP_S_GREET = 0, /* before the final "220 " line */
	SMTP_S_CMD,       /* reading command lines */
	SMTP_S_DATA,      /* streaming a message body */
	SMTP_S_TLS,       /* STARTTLS accepted: waiting for smtp_tls_started() */
	SMTP_S_CLOSING,   /* a closing reply is queued: input is dropped */
	SMTP_S_CLOSED,    /* SMTP_ACT_CLOSE was returned */
};

/* Streaming state of the DATA body (smtp_data.c). */
struct smtp_data_st {
	uint8_t st;      /* position: mid-line, CR seen, line start, ".", ".\r" ... */
	uint8_t init;    /* still on the first line (after the DATA command's CRLF) */
	uint8_t held;    /* pending octets held back from earlier input */
	uint8_t abort;   /* enum smtp_reply_id to answer at the end, or 0 */
	uint32_t line;   /* octets of the current body line so far */
	uint64_t octets; /* body octets consumed */
};

struct smtp_sess {
	const struct smtp_cfg *cfg;
	uint8_t *line_buf; /* the caller's lent line buffer, or NULL */
	uint32_t line_cap; /* the size of every lent buffer */
	uint32_t line_max; /* the largest limit this listener allows */

	struct scan_line line;
	uint8_t state;      /* enum smtp_state */
	uint8_t verb_known; /* the current line's first word was classified */
	uint8_t verb;       /* enum scan_verb of the current line */
	uint8_t overflow;   /* the current line passed its limit */

	uint8_t first_line; /* the first command line is not processed yet */
	uint8_t sig;        /* prefix verdict on raw[] (enum scan_sig) */
	uint8_t raw_n;
	uint8_t raw[16];  /* the first raw octets of the connection */
	uint32_t raw_pos; /* octets consumed since the start (up to 16) */

	/* session facts */
	uint8_t greeted; /* the final 220 was sent */
	uint8_t tls;
	uint8_t helo_kind; /* 0 none, 1 HELO, 2 EHLO */
	uint8_t relayed;   /* a backend session exists (SMTP_ACT_RELAY given) */
	uint8_t authed;
	uint8_t sasl;   /* the next line is a SASL continuation */
	uint8_t paused; /* waiting for the reply to DATA or AUTH */
	uint8_t draining;
	uint8_t close_reason;
	uint8_t close_sig;
	uint8_t gen;       /* transaction generation */
	uint8_t mail_fwd;  /* a MAIL was forwarded in this transaction */
	uint8_t mail_utf8; /* ... with SMTPUTF8 */
	uint8_t line_held; /* the first line is complete, its verdict pending */
	uint8_t pad[2];
	uint32_t rcpt_fwd; /* RCPTs forwarded in this transaction */
	uint32_t rcpt_ok;  /* RCPTs the backend accepted */
	uint32_t msgs;     /* messages ended (DATA terminator seen) */
	uint32_t errors;   /* 500..504 replies sent by Bulwark */
	uint8_t helo_len;
	uint8_t helo[255]; /* the client's EHLO/HELO argument */

	/* reply queue (ring) */
	uint8_t q_head;
	uint8_t q_n;
	struct smtp_slot q[SMTP_QUEUE_SLOTS];

	struct smtp_data_st data;

	/* clock (ms) */
	uint64_t t_start;
	uint64_t t_active; /* last client input or backend progress */
};

#endif /* BULWARK_SMTP_T_H */
