/*
 * drv_fault.c — a lossy, reordering, duplicating link in front of a port.
 *
 * Each packet offered in a direction gets one uniform draw in [0, 1e6):
 * below drop_ppm it is freed; below drop+dup it goes out twice (original,
 * then a copy: a copy rather than a second reference, because the stack
 * above may rewrite a received packet in place to answer it); below
 * drop+dup+reorder it is held; otherwise it passes. So each share is exactly
 * the configured share of the packets offered. A held packet leaves after
 * 1..depth later packets have passed, or after reorder_max_calls bursts,
 * whichever comes first, so a quiet link still delivers it. A full hold
 * buffer releases its oldest packet before taking a new one.
 *
 * The generator is xorshift64* seeded through splitmix64 from (seed, queue,
 * direction): decisions are the same on every run that offers the same
 * packets to the same queue in the same bursts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "drv.h"

#define FAULT_DEPTH_MAX 64
#define FAULT_CHUNK     32 /* inputs handled per step: bounds the staging arrays */
#define FAULT_STAGE     (2 * FAULT_CHUNK + 2 * FAULT_DEPTH_MAX)
#define FAULT_FIFO      256 /* RX: ready packets; a power of two >= FAULT_STAGE */

enum { DIR_RX = 0, DIR_TX = 1 };

struct fault_held {
	struct rte_mbuf *m;
	uint16_t pkts_left;  /* leaves after this many more packets pass */
	uint16_t calls_left; /* ... or after this many more bursts */
};

struct fault_q {
	uint64_t rng;
	struct drv_fault_dir_stats st;
	uint16_t n_held;
	struct fault_held held[FAULT_DEPTH_MAX]; /* oldest first */
	/* RX only: packets ready for the caller */
	uint16_t fifo_head, fifo_len;
	struct rte_mbuf *fifo[FAULT_FIFO];
};

struct drv_fault {
	uint16_t port_id;
	uint16_t n_queues;
	struct drv_fault_conf c;
	struct fault_q q[]; /* [queue * 2 + direction] */
};

/* Output of one step: packets in the order they leave. */
struct fault_out {
	uint16_t n;
	struct rte_mbuf *m[FAULT_STAGE];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Returns the next 64 random bits of fq's generator. */
static inline uint64_t rng_next(struct fault_q *fq)
{
	uint64_t x = fq->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	fq->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

struct drv_fault *drv_fault_create(uint16_t port_id, uint16_t n_queues,
				   const struct drv_fault_conf *c, char *err, size_t errlen)
{
	const struct drv_fault_dir *dirs[2] = { &c->rx, &c->tx };
	struct drv_fault *f;

	for (int d = 0; d < 2; d++) {
		uint64_t sum =
		    (uint64_t)dirs[d]->drop_ppm + dirs[d]->reorder_ppm + dirs[d]->dup_ppm;

		if (sum > 1000000) {
			if (err)
				snprintf(err, errlen,
					 "fault: %s drop + reorder + dup = %llu ppm, above 100%%",
					 d ? "tx" : "rx", (unsigned long long)sum);
			return NULL;
		}
	}
	if (c->reorder_depth > FAULT_DEPTH_MAX || n_queues == 0) {
		if (err)
			snprintf(err, errlen, "fault: reorder_depth %u (max %d), queues %u (min 1)",
				 c->reorder_depth, FAULT_DEPTH_MAX, n_queues);
		return NULL;
	}
	f = calloc(1, sizeof(*f) + (size_t)n_queues * 2 * sizeof(struct fault_q));
	if (!f) {
		if (err)
			snprintf(err, errlen, "fault: %s", strerror(ENOMEM));
		return NULL;
	}
	f->port_id = port_id;
	f->n_queues = n_queues;
	f->c = *c;
	if (!f->c.reorder_depth)
		f->c.reorder_depth = 8;
	if (!f->c.reorder_max_calls)
		f->c.reorder_max_calls = 4;
	for (uint32_t i = 0; i < (uint32_t)n_queues * 2; i++) {
		uint64_t s = c->seed ^ ((uint64_t)(i + 1) << 48);

		splitmix64(&s);
		f->q[i].rng = splitmix64(&s) | 1; /* xorshift state must not be 0 */
	}
	return f;
}

static void out_push(struct fault_out *o, struct rte_mbuf *m)
{
	o->m[o->n++] = m;
}

/* Moves held entry i to o and closes the gap. */
static void release(struct fault_q *fq, uint16_t i, struct fault_out *o)
{
	out_push(o, fq->held[i].m);
	memmove(&fq->held[i], &fq->held[i + 1], (size_t)(fq->n_held - i - 1) * sizeof(fq->held[0]));
	fq->n_held--;
}

/* A fresh packet left: every held packet has one fewer to wait for. */
static void passed_one(struct fault_q *fq, struct fault_out *o)
{
	for (uint16_t i = 0; i < fq->n_held;) {
		if (--fq->held[i].pkts_left == 0)
			release(fq, i, o);
		else
			i++;
	}
}

/* Start of a burst: held packets that waited too many bursts leave. */
static void age(struct fault_q *fq, struct fault_out *o)
{
	for (uint16_t i = 0; i < fq->n_held;) {
		if (--fq->held[i].calls_left == 0)
			release(fq, i, o);
		else
			i++;
	}
}

/* Decides the fate of m and appends what leaves now to o (at most 2 +
 * n_held packets). */
static void decide(const struct drv_fault *f, struct fault_q *fq, const struct drv_fault_dir *d,
		   struct rte_mbuf *m, struct fault_out *o)
{
	uint64_t r = rng_next(fq) % 1000000u;

	fq->st.in++;
	if (r < d->drop_ppm) {
		fq->st.dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	r -= d->drop_ppm;
	if (r < d->dup_ppm) {
		struct rte_mempool *mp = f->c.dup_pool ? f->c.dup_pool : m->pool;
		struct rte_mbuf *copy = rte_pktmbuf_copy(m, mp, 0, UINT32_MAX);

		out_push(o, m);
		passed_one(fq, o);
		if (copy) {
			fq->st.duplicated++;
			out_push(o, copy);
			passed_one(fq, o);
		} else {
			fq->st.dup_failed++;
		}
		return;
	}
	r -= d->dup_ppm;
	if (r < d->reorder_ppm) {
		struct fault_held *h;

		if (fq->n_held == f->c.reorder_depth)
			release(fq, 0, o);
		h = &fq->held[fq->n_held++];
		h->m = m;
		h->pkts_left = (uint16_t)(1 + rng_next(fq) % f->c.reorder_depth);
		h->calls_left = f->c.reorder_max_calls;
		fq->st.reordered++;
		return;
	}
	out_push(o, m);
	passed_one(fq, o);
}

static void fifo_push(struct fault_q *fq, const struct fault_out *o)
{
	for (uint16_t i = 0; i < o->n; i++) {
		fq->fifo[(fq->fifo_head + fq->fifo_len) & (FAULT_FIFO - 1)] = o->m[i];
		fq->fifo_len++;
	}
}

uint16_t drv_fault_rx_burst(struct drv_fault *f, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct fault_q *fq;
	struct fault_out o;
	struct rte_mbuf *in[FAULT_CHUNK];
	uint16_t k, got, done;

	if (queue >= f->n_queues)
		return 0;
	fq = &f->q[queue * 2 + DIR_RX];
	o.n = 0;
	age(fq, &o);
	fifo_push(fq, &o);
	/* k inputs leave at most 2k + n_held packets: keep that within the FIFO. */
	k = (uint16_t)((FAULT_FIFO - fq->fifo_len - fq->n_held) / 2);
	if (k > FAULT_CHUNK)
		k = FAULT_CHUNK;
	if (k > n)
		k = n;
	if (fq->fifo_len < n && k > 0) {
		got = rte_eth_rx_burst(f->port_id, queue, in, k);
		o.n = 0;
		for (uint16_t i = 0; i < got; i++)
			decide(f, fq, &f->c.rx, in[i], &o);
		fifo_push(fq, &o);
	}
	for (done = 0; done < n && fq->fifo_len > 0; done++) {
		pkts[done] = fq->fifo[fq->fifo_head];
		fq->fifo_head = (fq->fifo_head + 1) & (FAULT_FIFO - 1);
		fq->fifo_len--;
	}
	fq->st.out += done;
	return done;
}

/* Sends o to the device; what it refuses is freed and counted. */
static void tx_out(struct drv_fault *f, struct fault_q *fq, uint16_t queue, struct fault_out *o)
{
	uint16_t sent = o->n ? rte_eth_tx_burst(f->port_id, queue, o->m, o->n) : 0;

	fq->st.out += sent;
	if (sent < o->n) {
		fq->st.tx_full += (uint64_t)(o->n - sent);
		rte_pktmbuf_free_bulk(&o->m[sent], (unsigned)(o->n - sent));
	}
	o->n = 0;
}

uint16_t drv_fault_tx_burst(struct drv_fault *f, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct fault_q *fq;
	struct fault_out o;

	if (queue >= f->n_queues)
		return 0;
	fq = &f->q[queue * 2 + DIR_TX];
	o.n = 0;
	age(fq, &o);
	for (uint16_t i = 0; i < n; i++) {
		decide(f, fq, &f->c.tx, pkts[i], &o);
		if (o.n >= FAULT_STAGE - 2 - FAULT_DEPTH_MAX)
			tx_out(f, fq, queue, &o);
	}
	tx_out(f, fq, queue, &o);
	return n;
}

void drv_fault_flush(struct drv_fault *f, uint16_t queue)
{
	struct fault_q *fq;
	struct fault_out o;

	if (queue >= f->n_queues)
		return;
	fq = &f->q[queue * 2 + DIR_TX];
	o.n = 0;
	while (fq->n_held)
		release(fq, 0, &o);
	tx_out(f, fq, queue, &o);

	fq = &f->q[queue * 2 + DIR_RX];
	o.n = 0;
	while (fq->n_held && fq->fifo_len + o.n < FAULT_FIFO)
		release(fq, 0, &o);
	fifo_push(fq, &o);
}

static void stats_add(struct drv_fault_dir_stats *a, const struct drv_fault_dir_stats *b)
{
	a->in += b->in;
	a->out += b->out;
	a->dropped += b->dropped;
	a->reordered += b->reordered;
	a->duplicated += b->duplicated;
	a->dup_failed += b->dup_failed;
	a->tx_full += b->tx_full;
}

void drv_fault_stats(const struct drv_fault *f, struct drv_fault_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (uint16_t q = 0; q < f->n_queues; q++) {
		stats_add(&st->rx, &f->q[q * 2 + DIR_RX].st);
		stats_add(&st->tx, &f->q[q * 2 + DIR_TX].st);
	}
}

void drv_fault_destroy(struct drv_fault *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; i < (uint32_t)f->n_queues * 2; i++) {
		struct fault_q *fq = &f->q[i];

		for (uint16_t h = 0; h < fq->n_held; h++)
			rte_pktmbuf_free(fq->held[h].m);
		for (uint16_t j = 0; j < fq->fifo_len; j++)
			rte_pktmbuf_free(fq->fifo[(fq->fifo_head + j) & (FAULT_FIFO - 1)]);
	}
	free(f);
}
