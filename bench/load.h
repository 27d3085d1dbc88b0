/*
 * load.h — bulwark-load: scenarios, expectations, counters and the report,
 * shared by the socket engine (load_sock.c) and the DPDK engine
 * (load_dpdk.c).
 *
 * A session is a script of steps (struct load_step) chosen by its kind:
 * the greeting (220, unless the kind sends first), then send something and
 * expect a reply code, and at the end the server's close. Every engine walks
 * the same scripts, so both modes check the same things.
 */
#ifndef BULWARK_LOAD_H
#define BULWARK_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum load_kind {
	LK_HTTP,
	LK_TLS,
	LK_SSH,
	LK_PREGREET,
	LK_GARBAGE,
	LK_LONGLINE,
	LK_TYPO,
	LK_SLOW,
	LK_IDLE,
	LK_LEGIT,
	LK_TLS465,    /* implicit TLS (--tls-port): handshake, 220, QUIT, 221 */
	LK_STARTTLS,  /* 220, EHLO, STARTTLS, 220, handshake, EHLO, QUIT */
	LK_HANDSHAKE, /* --tls-port: handshake, then we close (any TLS server) */
	LK_COUNT
};
#define LK_TLS_FIRST LK_TLS465 /* the kinds from here on need OpenSSL */

enum load_op {
	LOP_SEND,  /* send data, expect code */
	LOP_SLOW,  /* send data a byte per slow_ms, expect code */
	LOP_WAIT,  /* send nothing for idle_ms; anything received is wrong */
	LOP_BODY,  /* body_size octets of 80-octet lines and ".\r\n", expect code */
	LOP_CLOSE, /* the server closes; anything received is wrong */
	LOP_END,   /* we close (the session stays open at the server until then) */
	LOP_HOLD,  /* the server keeps the session open: after hold_ms it ends
		    * as "held" (we reset it); its close before is wrong */
	LOP_TLS,   /* a TLS handshake (socket mode); from here on all is TLS */
	LOP_GREET, /* wait for the 220 (after an implicit-TLS handshake) */
};

/* LO_OK and LO_HELD are what the script expected; every other outcome is
 * an error. Only LO_OK is a junk session absorbed (answered and closed). */
enum load_outcome {
	LO_OK,
	LO_HELD,    /* expected: still open hold_ms after its last reply */
	LO_WRONG,   /* a reply other than the expected code, or data when none */
	LO_CLOSED,  /* the server closed before the script's end */
	LO_RESET,   /* RST */
	LO_NOCLOSE, /* the server did not close when it should have */
	LO_TIMEOUT, /* no reply within timeout_ms */
	LO_CONNECT, /* the handshake failed */
	LO_TLS,     /* the TLS handshake failed, or the certificate's key is
		     * not of the type --tls-cert asks */
	LO_COUNT
};

#define LOAD_STEPS_MAX 8
#define LOAD_CODE_MAX  600 /* reply codes 0..599 are counted; 0 = none */
#define LOAD_SEEN      160 /* bytes of a session kept for an error report */

struct load_step {
	uint8_t op;
	uint16_t code; /* expected reply code (LOP_SEND, LOP_SLOW, LOP_BODY);
			* LOP_SEND with 0: no reply, the next step at once */
	const uint8_t *data;
	uint32_t len;
	uint8_t rep; /* 1: more replies of the same code may follow, until the
		      * next step (LOP_CLOSE or LOP_HOLD) ends the session */
};

struct load_script {
	uint8_t pregreet; /* 1: step 0 goes out before the greeting */
	uint8_t n;
	uint8_t key; /* the step whose reply is "the" reply (--expect) */
	struct load_step st[LOAD_STEPS_MAX];
	uint8_t tls_port; /* 1: connects to --tls-port, not --port */
};

/* HDR-like histogram of microseconds: 16 linear sub-buckets per power of
 * two (about 6 % resolution), up to 2^40 us. */
#define LOAD_HIST_SUB  16u
#define LOAD_HIST_BKTS ((40u - 3u) * LOAD_HIST_SUB)

struct load_hist {
	uint64_t n, max;
	uint64_t b[LOAD_HIST_BKTS];
};

/* Counters of one second (or the whole run). */
struct load_tick {
	uint64_t started;
	uint64_t oc[LO_COUNT];
	uint64_t pkts_tx, pkts_rx; /* dpdk mode */
};

struct load_stats {
	struct load_tick tot;
	uint64_t kind_oc[LK_COUNT][LO_COUNT];
	uint32_t codes[LK_COUNT][LOAD_CODE_MAX];
	struct load_hist greet[LK_COUNT], fin[LK_COUNT];
	struct load_tick *sec; /* per second, n_sec of them */
	uint32_t n_sec, cap_sec;
	uint32_t shown;    /* errors printed so far */
	uint64_t deferred; /* sessions due by the rate that found no free slot */
	uint64_t in_flight;
	double elapsed;        /* seconds from the first session to the last end */
	double t_last;         /* the time of the last tick */
	uint64_t ok_in_window; /* ok sessions ended within --duration */
};

struct load_opts {
	const char *mode; /* "socket" or "dpdk" */
	const char *host;
	uint16_t port;
	uint32_t mix[LK_COUNT]; /* weights */
	double rate;            /* new sessions/s; 0: as fast as possible */
	uint32_t conc;          /* sessions in flight at most */
	double duration;        /* seconds of new sessions */
	uint32_t timeout_ms;    /* per reply */
	uint32_t slow_ms, idle_ms;
	uint32_t hold_ms; /* LOP_HOLD */
	uint32_t body_size;
	uint32_t show_errors; /* how many failed sessions to print */
	const char *csv, *png;
	const char *eal;        /* dpdk: the vdev devargs */
	const char *src;        /* dpdk: first client address (198.18.0.0/15) */
	const char *gw;         /* dpdk: the address the generator answers ARP for */
	uint32_t queues;        /* dpdk: queues to spread flows over */
	uint16_t tls_port;      /* tls465, handshake */
	const char *tls_groups; /* SSL_CTX_set1_groups_list; NULL: OpenSSL's */
	int tls_cert;           /* the server key's EVP_PKEY type; 0: any */
	struct load_script sc[LK_COUNT];
};

extern const char *const load_kind_names[LK_COUNT];
extern const char *const load_oc_names[LO_COUNT];

/* The kind named s[0..n), or -1. */
int load_kind_find(const char *s, size_t n);
/* Fills o->sc from the built-in table; returns 0. */
int load_scripts_init(struct load_opts *o);
/* Applies "--expect KIND=CODE[x*][/close|/quit|/held]" or
 * "KIND=none/close|/held" (see usage); 0 or -EINVAL. */
int load_expect_parse(struct load_opts *o, const char *arg);

/* The octets of step p from off on that are contiguous in memory: their
 * count (0: the step has sent everything) and *d. */
uint32_t load_step_chunk(const struct load_opts *o, const struct load_step *p, uint32_t off,
			 const uint8_t **d);
/* LOP_BODY's octets before the final ".\r\n" (body_size in whole lines). */
uint32_t load_body_len(const struct load_opts *o);

/* Picks the next kind by smooth weighted round robin over o->mix: over any
 * run of sum(mix) picks each kind comes exactly mix[k] times. */
enum load_kind load_pick(const struct load_opts *o, int32_t *cur);

/* Scans p[0..n) for complete reply lines starting from *line (the partial
 * line, llen octets kept in line[0..cap)). Returns the code of the first
 * complete final reply line ("NNN " or "NNN\r\n"), 0 when none is complete
 * yet, -1 when a line is not a reply; *used: octets of p consumed. */
int load_reply_scan(char *line, uint32_t cap, uint32_t *llen, const uint8_t *p, uint32_t n,
		    uint32_t *used);

void load_hist_add(struct load_hist *h, uint64_t us);
/* The value at quantile q (0..1), the bucket's upper edge; 0 when empty. */
uint64_t load_hist_quantile(const struct load_hist *h, double q);

/* The stats' per-second ring: room for secs seconds. 0 or -ENOMEM. */
int load_stats_init(struct load_stats *s, uint32_t secs);
/* 1 when outcome oc is an error (neither ok nor held). */
int load_oc_error(enum load_outcome oc);
void load_stats_end(struct load_stats *s, enum load_kind k, enum load_outcome oc, uint16_t code,
		    uint64_t greet_us, uint64_t fin_us);
/* Closes the current second: stores its deltas and prints the progress line. */
void load_stats_tick(struct load_stats *s, const struct load_opts *o, double t);
/* Prints a failed session (at most o->show_errors of them). */
void load_stats_show(struct load_stats *s, const struct load_opts *o, enum load_kind k,
		     enum load_outcome oc, int step, uint16_t code, const uint8_t *seen,
		     uint32_t n);
/* The summary table, and --csv/--png. Returns the number of errors. */
uint64_t load_report(struct load_stats *s, const struct load_opts *o);

/* TLS for the socket engine (load_tls.c). load_tls_ctx: a client context
 * for TLS 1.3 only, o->tls_groups, no verification of the chain (a bench
 * measures handshakes, not PKI), no session resumption (every handshake is
 * a full one); NULL and a message on failure. */
struct ssl_ctx_st *load_tls_ctx(const struct load_opts *o);
/* A client session on fd; NULL when out of memory. */
struct ssl_st *load_tls_new(struct ssl_ctx_st *ctx, int fd);
/* Drives the handshake: 1 done (and the server's key is of o->tls_cert's
 * type), 0 in progress (*out: 1 when it waits to write), -1 failed. */
int load_tls_handshake(const struct load_opts *o, struct ssl_st *ssl, int *out);
/* send/recv over TLS: octets, 0 (recv: the server closed), or -1 with
 * errno EAGAIN (*out: 1 when it waits to write), ECONNRESET or EPROTO. */
long load_tls_send(struct ssl_st *ssl, const void *d, uint32_t n, int *out);
long load_tls_recv(struct ssl_st *ssl, void *d, uint32_t n, int *out);
/* Sends close_notify (once, not waiting for the server's) and frees. */
void load_tls_free(struct ssl_st *ssl);
/* --tls-cert NAME: 0 (any), or the EVP_PKEY type of ecdsa / rsa; -1. */
int load_tls_cert_type(const char *name);

/* The engines: 0 or 1 (setup failed, message printed). */
int load_sock_run(const struct load_opts *o, struct load_stats *s);
int load_dpdk_run(const struct load_opts *o, struct load_stats *s, int argc, char **argv);

/* "N new sessions/s, concurrency C, D s" for the banner (a static buffer). */
const char *load_plan(const struct load_opts *o);

/* Milliseconds / microseconds of CLOCK_MONOTONIC. */
uint64_t load_now_us(void);

#endif
