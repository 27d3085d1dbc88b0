/*
 * climit.h — per-client limits on one worker: a fixed-size table keyed by
 * the client's IPv4 address that counts its concurrent sessions, its new
 * sessions per second and its errors per minute. Plain C, no allocation
 * after climit_init (the caller owns the memory), time passed in (ms), so
 * it runs under unit tests with virtual time.
 *
 * Exact per address within one worker (see docs/architecture.md, "Limits,
 * lists and reload", for box-wide exactness with rss_hash = "src-addr").
 *
 * Table: 8-entry buckets (open addressing within a bucket, a keyed hash
 * picks the bucket). An address that finds its bucket full evicts the
 * entry with no live session that was touched longest ago (its history is
 * forgotten); when every entry of the bucket has live sessions the new
 * session is not tracked (climit_open says so; counted as st.untracked) —
 * the table never grows and never blocks.
 *
 * Rate and errors are token buckets kept as debts (so a reload that changes
 * a limit needs no conversion): a session adds 1000 to rate_debt, which
 * drains at `rate` per ms; a session is refused when it would push the debt
 * over rate * 1000 (a burst of `rate`, then `rate` per second). An error
 * reply adds 60000 to err_debt, which drains at errors_per_min per ms; new
 * sessions are refused while one more error would not fit the budget of
 * errors_per_min * 60000 (errors_per_min errors within the last minute, as
 * a leaky bucket; the debt stops where a refusal lasts at most a minute
 * after the last error). Refused
 * attempts are not charged. A limit of 0 is off.
 */
#ifndef BULWARK_CLIMIT_H
#define BULWARK_CLIMIT_H

#include <stddef.h>
#include <stdint.h>

#define CLIMIT_BUCKET       8u
#define CLIMIT_RATE_MAX     100000u /* sessions per second */
#define CLIMIT_ERRORS_MAX   10000u  /* errors per minute */
#define CLIMIT_SESSIONS_MAX 1000000u

struct climit_cfg {
	uint32_t sessions;       /* concurrent sessions per address, 0: off */
	uint32_t rate;           /* new sessions per second per address, 0: off */
	uint32_t errors_per_min; /* 500..504 replies per minute per address, 0: off */
};

enum climit_verdict {
	CLIMIT_OK = 0,
	CLIMIT_SESSIONS, /* at its concurrent-session limit */
	CLIMIT_RATE,     /* over its new-session rate */
	CLIMIT_ERRORS,   /* over its error budget */
	CLIMIT_VERDICTS
};

struct climit_entry {
	uint32_t addr;      /* network order; 0: free */
	uint32_t live;      /* open sessions */
	uint32_t rate_debt; /* +1000 per session, -rate per ms, floor 0 */
	uint32_t err_debt;  /* +60000 per error, -errors_per_min per ms, floor 0 */
	uint32_t t;         /* ms (low 32 bits) of the last decay */
};

struct climit_stats {
	uint64_t refused[CLIMIT_VERDICTS]; /* by verdict ([0]: unused) */
	uint64_t evicted;                  /* idle entries replaced */
	uint64_t untracked;                /* bucket full of live entries */
};

struct climit {
	struct climit_entry *e;
	uint32_t mask; /* buckets - 1 */
	uint64_t key[2];
	struct climit_stats st;
};

/* Bytes climit_init needs for about `entries` entries (rounded up to a
 * power of two of buckets, at least one bucket). */
size_t climit_mem(uint32_t entries);

/* Lays the table out in mem (climit_mem(entries) bytes, any alignment of
 * 8), empty; key seeds the bucket hash (random per worker, so a client
 * cannot aim at one bucket). */
void climit_init(struct climit *t, void *mem, uint32_t entries, const uint64_t key[2]);

/* What climit_open would answer for addr at now, without changing
 * anything (the SYN filter of action = "drop"). */
enum climit_verdict climit_check(const struct climit *t, const struct climit_cfg *c, uint32_t addr,
				 uint64_t now);

/*
 * A session from addr starts at now. CLIMIT_OK: it is counted (*tracked =
 * 1, or 0 when the table had no room for addr: climit_close must then not
 * be called for it). Any other verdict: nothing is counted, the caller
 * refuses the session (counted in st.refused).
 */
enum climit_verdict climit_open(struct climit *t, const struct climit_cfg *c, uint32_t addr,
				uint64_t now, int *tracked);

/* A tracked session from addr ended at now after `errors` error replies
 * (charged to the address's error budget). */
void climit_close(struct climit *t, const struct climit_cfg *c, uint32_t addr, unsigned errors,
		  uint64_t now);

/* Entries in use (tests, stats). */
uint32_t climit_used(const struct climit *t);

#endif /* BULWARK_CLIMIT_H */
