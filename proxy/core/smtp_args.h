/*
 * smtp_args.h — argument syntax of SMTP commands (RFC 5321 §4.1.2, §4.1.4,
 * §4.5.3.1; RFC 1870 SIZE; RFC 6152 8BITMIME; RFC 6531 SMTPUTF8; RFC 4954
 * AUTH).
 *
 * Pure functions over one command line's argument bytes (the part after
 * "VERB SP", no terminator). Results point into those bytes; nothing is
 * copied or allocated.
 */
#ifndef BULWARK_SMTP_ARGS_H
#define BULWARK_SMTP_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* RFC 5321 §4.5.3.1.1-3 */
#define SMTP_LOCAL_MAX  64u
#define SMTP_DOMAIN_MAX 255u
#define SMTP_PATH_MAX   256u /* including the angle brackets */

/* Verdict of a parse; the session maps each to one reply. */
enum smtp_arg_err {
	SMTP_ARG_OK = 0,
	SMTP_ARG_SYNTAX,     /* 501 5.5.4 generic argument syntax */
	SMTP_ARG_BAD_SENDER, /* 501 5.1.7 bad sender address syntax */
	SMTP_ARG_BAD_RCPT,   /* 501 5.1.3 bad recipient address syntax */
	SMTP_ARG_BAD_DOMAIN, /* 501 5.5.4 bad EHLO/HELO argument */
	SMTP_ARG_PARAM,      /* 555 5.5.4 unknown or unsupported parameter */
	SMTP_ARG_SIZE,       /* 552 5.3.4 declared SIZE over the limit */
	SMTP_ARG_UTF8,       /* 553 5.6.7 UTF-8 address without SMTPUTF8 */
	SMTP_ARG_AUTH_MECH,  /* 504 5.5.4 mechanism not offered */
	SMTP_ARG_COUNT
};

/* Which extensions were advertised, so which parameters are accepted. */
struct smtp_args_cfg {
	uint64_t size_max; /* SIZE limit in octets; 0 = SIZE not advertised */
	uint8_t eightbit;  /* 8BITMIME advertised: BODY=7BIT|8BITMIME */
	uint8_t smtputf8;  /* SMTPUTF8 advertised: SMTPUTF8 parameter, UTF-8 paths */
	uint8_t auth;      /* AUTH advertised: AUTH=<mailbox>|<> on MAIL */
	/* Space-separated upper-case SASL mechanisms offered ("PLAIN LOGIN"), or NULL. */
	const char *auth_mechs;
};

/* A reverse-path or forward-path; pointers into the argument bytes. */
struct smtp_path {
	const uint8_t *local; /* local part as written (quoted string kept quoted) */
	const uint8_t *domain;
	uint16_t local_len;
	uint16_t domain_len;
	uint8_t null_path;  /* "<>" */
	uint8_t postmaster; /* "<Postmaster>" without domain (RCPT only) */
	uint8_t utf8;       /* the path holds bytes >= 0x80 (valid UTF-8) */
};

#define SMTP_BODY_NONE     0
#define SMTP_BODY_7BIT     1
#define SMTP_BODY_8BITMIME 2

struct smtp_mail_args {
	struct smtp_path path;
	uint64_t size; /* SIZE=n, 0 when absent */
	uint8_t has_size;
	uint8_t body; /* SMTP_BODY_* */
	uint8_t smtputf8;
	uint8_t has_params; /* any ESMTP parameter present (line limit 1000) */
};

struct smtp_rcpt_args {
	struct smtp_path path;
	uint8_t has_params;
};

/*
 * MAIL: p[0..n) is what follows "MAIL " ("FROM:<path> [SP params]").
 * RFC 5321 §4.1.1.2: no space is allowed between "FROM:" and the path.
 */
enum smtp_arg_err smtp_args_mail(const uint8_t *p, size_t n, const struct smtp_args_cfg *cfg,
				 struct smtp_mail_args *out);

/*
 * RCPT: p[0..n) is what follows "RCPT " ("TO:<path> [SP params]").
 * utf8_ok: the transaction's MAIL carried SMTPUTF8 (RFC 6531 §3.4).
 */
enum smtp_arg_err smtp_args_rcpt(const uint8_t *p, size_t n, const struct smtp_args_cfg *cfg,
				 int utf8_ok, struct smtp_rcpt_args *out);

/*
 * EHLO/HELO: p[0..n) is the argument: a domain or (EHLO only) an address
 * literal ("[198.18.0.1]", "[IPv6:...]"). Returns SMTP_ARG_OK or
 * SMTP_ARG_BAD_DOMAIN.
 */
enum smtp_arg_err smtp_args_helo(const uint8_t *p, size_t n, int ehlo);

/*
 * AUTH: p[0..n) is "MECH [SP initial-response]". *mech and *mech_len receive the
 * mechanism; the initial response (if any) must be base64 or "=".
 * Returns SMTP_ARG_OK, SMTP_ARG_SYNTAX or SMTP_ARG_AUTH_MECH.
 */
enum smtp_arg_err smtp_args_auth(const uint8_t *p, size_t n, const struct smtp_args_cfg *cfg,
				 const uint8_t **mech, size_t *mech_len);

/*
 * A SASL continuation line (RFC 4954 §4): base64 characters with correct
 * padding, or "*" to cancel. Returns 1 if p[0..n) is one, 0 if not.
 */
int smtp_args_sasl_line(const uint8_t *p, size_t n);

/* 1 if p[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates). */
int smtp_args_utf8_valid(const uint8_t *p, size_t n);

#endif /* BULWARK_SMTP_ARGS_H */
