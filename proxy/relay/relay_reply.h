/*
 * relay_reply.h — pure helpers for what a backend MTA says: the reply
 * scanner (one complete, well-formed reply out of a byte stream), the EHLO
 * capability parser and the check of a client's MAIL parameters against
 * those capabilities. No I/O, no allocation, no clock.
 */
#ifndef BULWARK_RELAY_REPLY_H
#define BULWARK_RELAY_REPLY_H

#include <stddef.h>
#include <stdint.h>

/*
 * Longest reply line accepted, CRLF included. RFC 5321 §4.5.3.1.5 makes 512
 * octets the length every implementation must accept; real MTAs send
 * longer lines (long EHLO keyword lists, verbose rejections), so the relay
 * accepts four times that and treats anything longer as a broken backend.
 */
#define RELAY_REPLY_LINE_MAX 2048u

/*
 * Resumable scanner state; the caller zeroes it once per stream and after
 * every complete reply relay_reply_scan() returns (it does so itself).
 */
struct relay_rscan {
	uint32_t off; /* bytes of complete continuation lines already checked */
	int16_t code; /* their code, -1 before the first line */
};

static inline void relay_rscan_init(struct relay_rscan *s)
{
	s->off = 0;
	s->code = -1;
}

/*
 * Looks for one complete reply at the start of p[0..n) (RFC 5321 §4.2):
 * lines "NNN-text" ... then "NNN text" or "NNN", each CRLF-terminated, one
 * code in all lines, first digit 2..5, text bytes HT, SP..'~' or 8-bit
 * (RFC 6531 allows UTF-8 text). The bytes before s->off were checked by an
 * earlier call and are not read again: call again with the same start and
 * more bytes. Returns the reply's length (> 0; s is reset for the next
 * reply, which starts at p + ret), 0 when more bytes are needed, -EPROTO
 * for a malformed line, -EMSGSIZE when a line passes RELAY_REPLY_LINE_MAX
 * or the reply would pass max bytes. *code gets the code on success.
 */
int relay_reply_scan(struct relay_rscan *s, const uint8_t *p, size_t n, size_t max, int *code);

/* What a backend announced in its EHLO reply (RFC 5321 §4.1.1.1). */
struct relay_caps {
	uint8_t pipelining; /* RFC 2920 */
	uint8_t size;       /* RFC 1870: SIZE keyword present */
	uint8_t eightbit;   /* RFC 6152: 8BITMIME */
	uint8_t smtputf8;   /* RFC 6531 */
	uint8_t auth;       /* RFC 4954: AUTH (or the old "AUTH=") */
	uint8_t starttls;   /* RFC 3207 */
	uint64_t size_max;  /* SIZE's argument; 0: none given (no fixed limit) */
};

/*
 * Parses a complete 250 reply to EHLO (as relay_reply_scan() delimits it):
 * the first line is the greeting, every further line one keyword with its
 * parameters, case-insensitive. Unknown keywords are ignored. Fills *c
 * (zeroed first). Returns 0, or -EPROTO when the reply is not a 250.
 */
int relay_caps_parse(const uint8_t *p, size_t n, struct relay_caps *c);

/* What the relay does with a client's MAIL line, given the backend's caps. */
enum relay_mail_verdict {
	RELAY_MAIL_OK = 0,   /* forward it */
	RELAY_MAIL_UTF8,     /* SMTPUTF8 without backend support: 553 5.6.7 */
	RELAY_MAIL_8BIT,     /* BODY=8BITMIME without 8BITMIME: 555 5.5.4 */
	RELAY_MAIL_SIZEPARM, /* SIZE= without SIZE: 555 5.5.4 */
	RELAY_MAIL_TOOBIG,   /* SIZE= above the backend's limit: 552 5.3.4 */
};

/*
 * Checks the ESMTP parameters of one "MAIL FROM:<path> params\r\n" line
 * p[0..n) (already validated by the SMTP core) against c. Returns an enum
 * relay_mail_verdict; a line it cannot split is RELAY_MAIL_OK (the backend
 * judges it).
 */
int relay_mail_check(const uint8_t *p, size_t n, const struct relay_caps *c);

/* The verb of a command line, as far as the relay cares. */
enum relay_verb {
	RELAY_V_OTHER = 0,
	RELAY_V_MAIL,
	RELAY_V_RCPT,
	RELAY_V_DATA,
	RELAY_V_RSET,
	RELAY_V_AUTH,
};

/* Returns the enum relay_verb of command line p[0..n) (case-insensitive). */
int relay_verb(const uint8_t *p, size_t n);

#endif /* BULWARK_RELAY_REPLY_H */
