/*
 * relay_drv.h — the harness of test_relay_loop.c: a fake backend MTA
 * (tests/unit/fake_mta.py, one loopback port per behaviour), one
 * (worker, relay) pair with relay_main on a second lcore, and the worker's
 * side of the rings played by the test. One instance: rd.
 */
#ifndef BULWARK_RELAY_DRV_H
#define BULWARK_RELAY_DRV_H

#include <stdint.h>
#include <sys/types.h>

#include "relay.h"
#include "smtp.h"

#define RD_SESS    16
#define RD_POOL    64
#define RD_WAIT_MS 5000        /* longest wait for anything the relay owes us */
#define RD_LO      0x0100007fu /* 127.0.0.1, network order (little-endian host) */

/* The fake MTA's behaviours (fake_mta.py's modes), one port each. */
enum {
	M_OK,
	M_NOPIPE,
	M_SILENT,
	M_BAD,
	M_DIE,
	M_NOEHLO,
	M_MUTE,
	M_LATE,
	M_PROXY,
	M_SLOW,
	M_REJECT,
	M_REJECT_OPEN,
	M_REJECT_LATE,
	M_EARLY250,
	M_UNASKED,
	M_AUTH,
	M_TLS,        /* STARTTLS; certificate for mta.test / 127.0.0.1 from ca.pem */
	M_TLS_INJECT, /* the same, with a line injected after its 220 to STARTTLS */
	M_TLS_DIE,    /* the same, closes (FIN) once body bytes arrive */
	M_TLS_SLOW,   /* the same, sleeps 1 s after each 354 */
	M_COUNT
};

struct rdrv {
	struct relay_pair pair;
	struct relay rl;
	struct cfg cfg;
	unsigned lcore;  /* the relay's */
	int outstanding; /* worker objects not yet credited back */
	uint16_t ports[M_COUNT];
	uint16_t closed_port; /* nothing listens there: connect refused */
	pid_t mta_pid;
	char logdir[64];
};

extern struct rdrv rd;

/* What came back from the relay, in order. */
struct got {
	int kind; /* RELAY_M_REPLY or RELAY_M_EVENT */
	uint32_t sid, gen;
	int ev; /* for events */
	char text[RELAY_MSG_DATA + 1];
};

/* Starts fake_mta.py (script) and picks a closed port; exits on failure. */
void rd_mta_start(const char *script);
/* Kills it and removes its logs. */
void rd_mta_stop(void);
/* What the fake MTA got on connection n (1-based) of port p: its length,
 * or -1 when there was no such connection. */
ssize_t rd_mta_raw(uint16_t p, int n, char *buf, size_t cap);

uint64_t rd_now_ms(void);
void rd_sleep_ms(unsigned ms);

/* rd.cfg: no backends, short timeouts, no health checks. */
void rd_cfg_base(void);
void rd_backend(uint16_t port, uint8_t proxy, uint8_t xclient, uint32_t max_conns);
/* Makes the last backend added a tls = "starttls" one: verify "ca" with
 * rd.logdir/<ca> when ca is not NULL (name: tls_name, NULL for none),
 * else verify "none". */
void rd_backend_tls(const char *ca, const char *name);
/* relay_init over rd.cfg and launch; stop, wait and relay_destroy. */
void rd_start(void);
void rd_stop(void);

/* The worker's side: objects from the worker pool, onto w2r. */
struct relay_msg *rd_obj(uint32_t sid, uint32_t gen, uint8_t kind);
void rd_put(void *e);
void rd_open(uint32_t sid, uint32_t gen);
void rd_cmd(uint32_t sid, uint32_t gen, const char *line);
void rd_body(uint32_t sid, uint32_t gen, const char *b, int end);
void rd_ctl(uint8_t kind, uint32_t sid, uint32_t gen);
/* The next REPLY or EVENT within wait_ms (credits taken in passing):
 * 0 or -1. */
int rd_next(struct got *g, unsigned wait_ms);
/* Takes credits until none is outstanding or wait_ms pass; returns 1 when
 * nothing but credits came. */
int rd_drain(unsigned wait_ms);

#define EXPECT_EVENT(s_, n_, e)                                                                    \
	do {                                                                                       \
		struct got g_;                                                                     \
		if (CHECK_EQ(rd_next(&g_, RD_WAIT_MS), 0)) {                                       \
			CHECK_EQ(g_.kind, RELAY_M_EVENT);                                          \
			CHECK_EQ(g_.sid, s_);                                                      \
			CHECK_EQ(g_.gen, n_);                                                      \
			CHECK_EQ(g_.ev, e);                                                        \
		}                                                                                  \
	} while (0)

#define EXPECT_REPLY(s_, n_, prefix)                                                               \
	do {                                                                                       \
		struct got g_;                                                                     \
		if (CHECK_EQ(rd_next(&g_, RD_WAIT_MS), 0)) {                                       \
			CHECK_EQ(g_.kind, RELAY_M_REPLY);                                          \
			CHECK_EQ(g_.sid, s_);                                                      \
			CHECK_EQ(g_.gen, n_);                                                      \
			if (!CHECK(!strncmp(g_.text, prefix, strlen(prefix))) && check_show())     \
				fprintf(stderr, "  got \"%s\"\n", g_.text);                        \
		}                                                                                  \
	} while (0)

#endif /* BULWARK_RELAY_DRV_H */
