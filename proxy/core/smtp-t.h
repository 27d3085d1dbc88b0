/*
 * smtp-t.h — the SMTP session object (types only; functions in smtp.h).
 *
 * Fixed size, no pointers to anything the session owns: the caller allocates
 * it (a per-worker pool object), smtp_start() initialises every field.
 * Callers never read or write the fields; they are here so the sizes are
 * known (struct smtp_work for the lent work area, SMTP_WORK_SIZE in smtp.h).
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

/*
 * The work area: everything a session needs only while it is busy (a
 * partial command line, replies queued or awaited from the backend, an open
 * relayed transaction, a DATA body, a first line whose prefix verdict is
 * pending). The caller lends it per call (smtp_work_lend, smtp.h), so that
 * an idle session holds none; the command line's bytes follow it in the
 * same lent memory (buf[], line_max - 2 octets).
 */
struct smtp_work {
	struct smtp_slot q[SMTP_QUEUE_SLOTS]; /* reply queue (ring) */
	struct smtp_data_st data;             /* DATA body */
	struct scan_line line;                /* the command line being assembled */
	uint32_t rcpt_fwd;                    /* RCPTs forwarded in this transaction */
	uint32_t rcpt_ok;                     /* RCPTs the backend accepted */
	uint8_t q_head;
	uint8_t q_n;
	uint8_t verb_known; /* the current line's first word was classified */
	uint8_t verb;       /* enum scan_verb of the current line */
	uint8_t overflow;   /* the current line passed its limit */
	uint8_t line_held;  /* the first line is complete, its verdict pending */
	uint8_t gen;        /* transaction generation */
	uint8_t mail_utf8;  /* the forwarded MAIL had SMTPUTF8 */
	uint8_t close_sig;  /* enum scan_sig of a queued non-SMTP close */
	uint8_t sig;        /* prefix verdict on raw[] (enum scan_sig) */
	uint8_t raw_n;      /* raw[] octets seen (not all consumed) */
	uint8_t raw_pos;    /* octets consumed since the start (up to 16) */
	uint8_t raw[16];    /* the first raw octets of the connection */
	uint8_t buf[];      /* the command line's bytes */
};

/*
 * The session itself: what an idle session keeps (32 bytes). Times are the
 * low 32 bits of the caller's millisecond clock, widened again against the
 * now of each call (every span they measure is bounded by a timeout).
 */
struct smtp_sess {
	const struct smtp_cfg *cfg;
	struct smtp_work *wa;    /* the lent work area, or NULL */
	uint32_t t_start;        /* ms32 */
	uint32_t t_active;       /* ms32: last client input or backend progress */
	uint32_t msgs : 23;      /* messages ended (DATA terminator seen), saturating */
	uint32_t errors : 7;     /* 500..504 replies sent by Bulwark, saturating */
	uint32_t mail_fwd : 1;   /* a MAIL was forwarded in this transaction */
	uint32_t first_line : 1; /* the first command line is not processed yet */
	uint32_t line_max : 14;  /* the largest line limit this listener allows */
	uint32_t q1 : 6;         /* a ready local reply held while no area is lent */
	uint32_t state : 3;      /* enum smtp_state */
	uint32_t helo_kind : 2;  /* 0 none, 1 HELO, 2 EHLO */
	uint32_t tls : 1;
	uint32_t relayed : 1; /* a backend session exists (SMTP_ACT_RELAY given) */
	uint32_t authed : 1;
	uint32_t sasl : 1;   /* the next line is a SASL continuation */
	uint32_t paused : 1; /* waiting for the reply to DATA or AUTH */
	uint32_t draining : 1;
	uint32_t greeted : 1; /* the final 220 was sent */
};

#endif /* BULWARK_SMTP_T_H */
