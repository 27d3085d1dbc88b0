/*
 * smtp_reply.h — Bulwark's fixed reply table: every reply the core can send
 * on its own, with its RFC 5321 code and RFC 3463 enhanced status code.
 *
 * The table is rendered once per listener configuration (hostname,
 * capabilities) by smtp_reply_render() — smtp_cfg_init() calls it — and then
 * only read: a reply is an (offset, length) into one flat buffer of
 * CRLF-terminated lines, ready to be copied to the client.
 */
#ifndef BULWARK_SMTP_REPLY_H
#define BULWARK_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

enum smtp_reply_id {
	SMTP_R_NONE = 0, /* no reply (a command's check passed) */
	/* greeting and local successes */
	SMTP_R_GREETING, /* 220 <host> ESMTP */
	SMTP_R_TEASER,   /* 220-<host> ESMTP (postscreen-style teaser) */
	SMTP_R_EHLO,     /* 250-<host> + capabilities, before TLS */
	SMTP_R_EHLO_TLS, /* the same after TLS: no STARTTLS, AUTH if offered */
	SMTP_R_HELO,     /* 250 <host> */
	SMTP_R_OK,       /* 250 2.0.0 OK (NOOP, RSET before relay) */
	SMTP_R_HELP,     /* 214 2.0.0 */
	SMTP_R_BYE,      /* 221 2.0.0 <host> closing */
	SMTP_R_STARTTLS, /* 220 2.0.0 Ready to start TLS */
	/* 500..504: counted towards the error limit */
	SMTP_R_UNKNOWN,     /* 500 5.5.2 command not recognized */
	SMTP_R_LONG,        /* 500 5.5.2 line too long */
	SMTP_R_BADCHARS,    /* 500 5.5.2 NUL, control, bare CR/LF or 8-bit byte */
	SMTP_R_NONSMTP,     /* 500 5.5.2 non-SMTP protocol: closes */
	SMTP_R_SYNTAX,      /* 501 5.5.4 generic argument syntax */
	SMTP_R_BAD_SENDER,  /* 501 5.1.7 */
	SMTP_R_BAD_RCPT,    /* 501 5.1.3 */
	SMTP_R_BAD_DOMAIN,  /* 501 5.5.4 bad EHLO/HELO domain */
	SMTP_R_NO_DOMAIN,   /* 501 5.5.4 EHLO/HELO without a domain */
	SMTP_R_SASL,        /* 501 5.5.2 SASL line is not base64 */
	SMTP_R_DISABLED,    /* 502 5.5.1 VRFY, EXPN, TURN, ETRN */
	SMTP_R_NOT_OFFERED, /* 502 5.5.1 BDAT, STARTTLS, AUTH not advertised */
	SMTP_R_NEED_HELO,   /* 503 5.5.1 MAIL before EHLO/HELO */
	SMTP_R_NEED_MAIL,   /* 503 5.5.1 RCPT before MAIL */
	SMTP_R_NEED_RCPT,   /* 503 5.5.1 DATA before RCPT */
	SMTP_R_NESTED,      /* 503 5.5.1 MAIL inside a transaction */
	SMTP_R_TLS_ACTIVE,  /* 503 5.5.1 second STARTTLS */
	SMTP_R_BAD_SEQ,     /* 503 5.5.1 STARTTLS/AUTH where not allowed now */
	SMTP_R_AUTH_MECH,   /* 504 5.5.4 mechanism not offered */
	/* other refusals */
	SMTP_R_PREGREET,  /* 554 5.5.1 talked before the greeting: closes */
	SMTP_R_FORBIDDEN, /* 550 5.7.0 XCLIENT, XFORWARD */
	SMTP_R_NEED_TLS,  /* 530 5.7.0 Must issue a STARTTLS command first */
	SMTP_R_PARAM,     /* 555 5.5.4 unsupported parameter */
	SMTP_R_SIZE_DECL, /* 552 5.3.4 declared SIZE over the limit */
	SMTP_R_UTF8,      /* 553 5.6.7 UTF-8 address without SMTPUTF8 */
	SMTP_R_RCPTS,     /* 452 4.5.3 too many recipients */
	SMTP_R_TLS_BUSY,  /* 454 4.7.0 TLS not available now (handshake cap) */
	SMTP_R_DATA_BARE, /* 550 5.5.2 message has bare CR, LF or NUL */
	SMTP_R_DATA_LINE, /* 550 5.5.2 message line too long (max_data_line) */
	SMTP_R_DATA_SIZE, /* 552 5.3.4 message too big */
	SMTP_R_DATA_GONE, /* 451 4.4.2 backend lost before end-of-data reply */
	/* 421: the session closes after them */
	SMTP_R_ERRORS,     /* 421 4.7.0 <host> too many errors */
	SMTP_R_TIMEOUT,    /* 421 4.4.2 <host> timeout */
	SMTP_R_NO_BACKEND, /* 421 4.3.0 <host> no backend */
	SMTP_R_BUSY,       /* 421 4.3.2 <host> all backends busy */
	SMTP_R_SHUTDOWN,   /* 421 4.3.2 <host> shutting down */
	SMTP_R_MSGS,       /* 421 4.7.0 <host> too many messages */
	SMTP_R_GONE,       /* 421 4.4.2 <host> backend connection lost */
	SMTP_R_CLIENT_LIMIT, /* 421 4.7.0 <host> too many connections from the address */
	SMTP_R_DENIED,       /* 554 5.7.1 access denied (deny list), instead of the greeting */
	SMTP_R_COUNT
};

/* Enough for the largest rendered table (two EHLO lists, hosts of 255). */
#define SMTP_REPLY_BUF 6144u
/* No single reply is longer than this; the core keeps this much room. */
#define SMTP_REPLY_MAX 1024u

struct smtp_reply_table {
	uint16_t off[SMTP_R_COUNT];
	uint16_t len[SMTP_R_COUNT];
	uint16_t code[SMTP_R_COUNT]; /* 220, 250, 500, ... */
	char buf[SMTP_REPLY_BUF];
};

/* What the EHLO replies advertise (mirrors struct smtp_cfg). */
struct smtp_reply_caps {
	uint32_t caps;          /* SMTP_CAP_* of smtp.h */
	uint64_t size_max;      /* for "SIZE n" */
	const char *auth_mechs; /* "PLAIN LOGIN" */
	uint8_t require_tls;    /* AUTH only in the post-TLS list */
};

/*
 * Renders every reply for host (1..255 printable octets, no SP) into t.
 * Returns 0, or -EINVAL when host is unusable or the table does not fit.
 */
int smtp_reply_render(struct smtp_reply_table *t, const char *host,
		      const struct smtp_reply_caps *caps);

/* The reply's bytes (CRLF-terminated lines) and *len. id < SMTP_R_COUNT. */
static inline const uint8_t *smtp_reply_get(const struct smtp_reply_table *t, enum smtp_reply_id id,
					    size_t *len)
{
	*len = t->len[id];
	return (const uint8_t *)t->buf + t->off[id];
}

/* Returns 1 if the reply is one of 500..504 (counted by the error limit). */
static inline int smtp_reply_is_error(const struct smtp_reply_table *t, enum smtp_reply_id id)
{
	return t->code[id] >= 500 && t->code[id] <= 504;
}

#endif /* BULWARK_SMTP_REPLY_H */
