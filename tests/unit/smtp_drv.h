/*
 * smtp_drv.h — script driver for the SMTP session tests.
 *
 * A script is a list of steps (client bytes, a backend reply, a backend
 * event, time passing, TLS up, drain). The driver runs it and records three
 * transcripts: the bytes sent to the client, the bytes forwarded to the
 * backend, and the actions (PAUSE and MORE, which are flow control, are left
 * out). Every script is run with its client bytes fed whole, byte by byte,
 * and cut in two at every position (all client steps at once), with every
 * scanner level; every run must give the same transcripts, equal to the
 * expected ones. Each of those runs is repeated with the work area lent
 * per call (smtp.h): a fresh one full of garbage before every call that
 * finds none lent, taken back after every call that leaves it idle; and
 * lent only after SMTP_ACT_NEED_WORK.
 */
#ifndef BULWARK_TEST_SMTP_DRV_H
#define BULWARK_TEST_SMTP_DRV_H

#include <stddef.h>
#include <stdint.h>

#include "smtp.h"

enum drv_kind {
	DRV_END = 0,
	DRV_CLIENT,    /* s, n: client bytes */
	DRV_BACKEND,   /* s, n: one complete backend reply */
	DRV_EVENT,     /* v: enum smtp_backend_ev */
	DRV_TIME,      /* v: ms to advance, then smtp_tick() */
	DRV_TLS,       /* smtp_tls_started() */
	DRV_DRAIN,     /* smtp_drain() */
	DRV_BACKEND_N, /* s, n: the same backend reply, v times */
	DRV_TLS_BUSY,  /* v: out->tls_busy for the smtp_input() calls from now on */
};

struct drv_step {
	int kind;
	const char *s;
	size_t n;
	uint64_t v;
};

#define C(str)                                                                                     \
	{                                                                                          \
		DRV_CLIENT, str, sizeof(str) - 1, 0                                                \
	}
#define B(str)                                                                                     \
	{                                                                                          \
		DRV_BACKEND, str, sizeof(str) - 1, 0                                               \
	}
#define EV(e)                                                                                      \
	{                                                                                          \
		DRV_EVENT, NULL, 0, e                                                              \
	}
#define T(ms)                                                                                      \
	{                                                                                          \
		DRV_TIME, NULL, 0, ms                                                              \
	}
#define TLS                                                                                        \
	{                                                                                          \
		DRV_TLS, NULL, 0, 0                                                                \
	}
#define DRAIN                                                                                      \
	{                                                                                          \
		DRV_DRAIN, NULL, 0, 0                                                              \
	}
#define BUSY(v)                                                                                    \
	{                                                                                          \
		DRV_TLS_BUSY, NULL, 0, v                                                           \
	}
#define BN(str, k)                                                                                 \
	{                                                                                          \
		DRV_BACKEND_N, str, sizeof(str) - 1, k                                             \
	}

#define DRV_MAX_STEPS 48

struct drv_case {
	const char *name;
	void (*tweak)(struct smtp_cfg *cfg); /* NULL: defaults */
	struct drv_step steps[DRV_MAX_STEPS];
	const char *cli; /* expected bytes to the client */
	const char *bk;  /* expected bytes to the backend */
	const char *act; /* expected actions, e.g. "RELAY(ehlo:a.test) DATA_END " */
};

/* Runs one case in every mode; prints failures; returns 0 if all passed. */
int drv_run_case(const struct drv_case *tc);

/* Runs an array of cases; prints a summary; returns the number failed. */
int drv_run_cases(const struct drv_case *tc, size_t n, const char *suite);

/* Expected replies for the default test config (host "mx.test"). */
#define R_GREET "220 mx.test ESMTP\r\n"
#define R_EHLO                                                                                     \
	"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"                   \
	"250 ENHANCEDSTATUSCODES\r\n"
#define R_OK      "250 2.0.0 OK\r\n"
#define R_BYE     "221 2.0.0 mx.test closing\r\n"
#define R_500     "500 5.5.2 Error: command not recognized\r\n"
#define R_LONG    "500 5.5.2 Error: line too long\r\n"
#define R_BAD     "500 5.5.2 Error: invalid characters in command\r\n"
#define R_NONSMTP "500 5.5.2 Error: not an SMTP client\r\n"
#define R_501     "501 5.5.4 Syntax error in parameters or arguments\r\n"
#define R_502     "502 5.5.1 Command not implemented\r\n"
#define R_502N    "502 5.5.1 Command not offered\r\n"
#define R_ERRS    "421 4.7.0 mx.test Error: too many errors\r\n"
#define R_TIMEOUT "421 4.4.2 mx.test Error: timeout exceeded\r\n"

#endif /* BULWARK_TEST_SMTP_DRV_H */
