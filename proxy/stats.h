/*
 * stats.h — the one place that knows every counter Bulwark exposes: its
 * name, help text, type, labels and where it lives (the workers' struct
 * worker_stats, tls_stats and climit_stats, each port queue's struct net_stats, the relay
 * lcores' struct relay_stats and per-backend state, the ports' ethdev
 * counters). Readers: the Prometheus endpoint (metrics.c), the DPDK
 * telemetry commands /bulwark/... (metrics.c), the junk summary and the
 * exit lines. Names, types and meanings: docs/architecture.md §13.
 *
 * Tear-free live reads. Every counter has a single writer (its worker or
 * relay lcore) and is a naturally aligned uint64_t (the structs are
 * cache-aligned and hold only 64-bit words before any narrower member the
 * table reads). The writers keep their plain increments — an atomic
 * read-modify-write on the datapath would cost a locked instruction per
 * event for nothing, since nobody else writes the word — and the readers
 * here use __atomic_load_n(..., __ATOMIC_RELAXED). On the 64-bit targets
 * Bulwark builds for (x86-64, aarch64; stats.c refuses others at compile
 * time) a naturally aligned 64-bit store is a single instruction the
 * compiler never splits, and the relaxed load is a single 64-bit load, so
 * a reader sees either the old or the new value, never a mix. Values from
 * different counters are not a consistent snapshot (a session may show in
 * accepted before its close reason): each counter is exact on its own,
 * and exact across the board once the traffic stops.
 */
#ifndef BULWARK_STATS_H
#define BULWARK_STATS_H

#include <stddef.h>
#include <stdint.h>

struct cfg;
struct drv_port;
struct relay;
struct worker;

/* What the readers see: the running process's parts (filled by main.c
 * once everything is up, valid until the readers are stopped). */
struct stats_src {
	const struct cfg *cfg;
	struct worker *const *workers;
	uint16_t n_workers;
	struct relay *const *relays;
	uint16_t n_relays;
	const struct drv_port *ports;
	uint32_t n_ports;
};

enum stats_type { STATS_COUNTER = 0, STATS_GAUGE };

/* Where a row's value lives. */
enum stats_obj {
	STATS_O_WORKER = 0, /* struct worker_stats, per worker */
	STATS_O_TLS,        /* struct tls_stats, per worker */
	STATS_O_NET,        /* struct net_stats, per worker and port (queue) */
	STATS_O_RELAY,      /* struct relay_stats, per relay lcore */
	STATS_O_LIVE,       /* the worker's published session gauge */
	STATS_O_BE_UP,      /* struct relay_be: health state, per relay and backend */
	STATS_O_BE_CONNS,   /* struct relay_be: open connections */
	STATS_O_ETH,        /* struct rte_eth_stats, per port (the device's view) */
	STATS_O_CLIMIT,     /* struct climit_stats, per worker (the per-client limits) */
};

/* The row's own label (besides worker / port+queue / relay). */
enum stats_lab {
	STATS_L_NONE = 0,
	STATS_L_REASON,    /* smtp close reason: closes[] */
	STATS_L_SIGNATURE, /* non-SMTP signature: sigs[] */
	STATS_L_CODE,      /* reply code: replies[] (non-zero ones only) */
	STATS_L_TLSFAIL,   /* TLS failure reason: failed[] */
	STATS_L_BACKEND,   /* backend name: relay per-backend arrays */
	STATS_L_PORT,      /* port name (+ queue = worker): worker tx_bytes[] */
	STATS_L_CAUSE,     /* a fixed cause (def->cause): drops_total */
	STATS_L_LIMIT,     /* per-client limit: climit refused[] (sessions, rate, errors) */
	STATS_L_RESULT,    /* a fixed result (def->cause): proxy_headers_total */
	STATS_L_POOL,      /* a fixed work-area pool (def->cause): line, auth */
};

struct stats_def {
	const char *name; /* Prometheus name, "bulwark_" included */
	const char *key;  /* telemetry key (short) */
	const char *help;
	uint8_t type; /* enum stats_type */
	uint8_t obj;  /* enum stats_obj */
	uint16_t off; /* byte offset of the word (or array) in its struct */
	uint8_t lab;  /* enum stats_lab */
	uint16_t n;   /* array length (1: a scalar) */
	const char *cause;
};

/* The table, in output order; rows of one name are adjacent. */
const struct stats_def *stats_defs(size_t *n);

/* One value as it is read. Labels: worker (or -1), relay (or -1), port
 * (index or -1), and the row's own label value (lval, NULL without). */
struct stats_val {
	const struct stats_def *def;
	size_t def_idx;
	uint32_t idx; /* array index within the row */
	int worker, relay, port;
	const char *lval;
	uint64_t v;
};

typedef void (*stats_emit_fn)(void *arg, const struct stats_val *v);

/* Reads every row of every instance live (relaxed loads) and calls emit
 * for each value, in table order. Array rows skip unnamed slots; reply
 * codes are emitted only when non-zero. */
void stats_walk(const struct stats_src *src, stats_emit_fn emit, void *arg);

/* Writes the Prometheus text exposition (format 0.0.4) into buf. Returns
 * the length, or 0 when cap was too small (the caller grows it). */
size_t stats_prom(const struct stats_src *src, char *buf, size_t cap);

/* The junk summary (log.junk_interval_s): the totals it compares against
 * and the junk sample ring positions it has read up to. */
struct stats_junk {
	uint64_t nonsmtp, pregreet, errors, replies_500;
	uint64_t sigs[16];
	uint64_t seq[64]; /* per worker */
	int primed;
};

/* Logs one event=junk_summary line of what changed since the last call
 * (nothing when nothing did), with up to samples client addresses. */
void stats_junk_summary(const struct stats_src *src, struct stats_junk *j, uint32_t interval_s,
			uint32_t samples);

#endif /* BULWARK_STATS_H */
