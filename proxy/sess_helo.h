/*
 * sess_helo.h — a per-worker slab for the clients' EHLO/HELO arguments.
 *
 * The SMTP core keeps no copy of the argument (SMTP_ACT_HELO, smtp.h); the
 * session glue stores it here to replay it when the session is relayed.
 * Objects come in size classes of 16, 32, 64, 128 and 256 bytes (one length
 * octet, then the argument), each a fixed array with an intrusive free list
 * (a free object holds the index of the next one), so an object in use costs
 * exactly its class size. Counts per class follow the session count; a
 * class that runs out lends from the next larger one. Free objects are
 * poisoned for ASan (but their link word).
 */
#ifndef BULWARK_SESS_HELO_H
#define BULWARK_SESS_HELO_H

#include <stddef.h>
#include <stdint.h>

#define SESS_HELO_CLASSES 5 /* 16 << 0 .. 16 << 4 */

struct sess_helo_class {
	uint8_t *obj;   /* count objects of (16 << class) bytes */
	uint32_t count; /* objects */
	uint32_t free1; /* index + 1 of the first free object, 0: none */
	uint32_t used;  /* objects in use */
};

struct sess_helo_pool {
	struct sess_helo_class c[SESS_HELO_CLASSES];
};

/* Bytes sess_helo_init() needs for a worker of n_sess sessions. */
size_t sess_helo_mem(uint32_t n_sess);

/* Lays the pool out in mem (sess_helo_mem(n_sess) bytes, 64-byte aligned). */
void sess_helo_init(struct sess_helo_pool *p, void *mem, uint32_t n_sess);

/* Unpoisons the pool before its memory goes back to DPDK's heap. */
void sess_helo_fini(struct sess_helo_pool *p);

/*
 * Stores p[0..n) (1 <= n <= 255) in the smallest free object that holds it.
 * Returns its reference (never 0), or 0 when every class that could hold it
 * is exhausted.
 */
uint32_t sess_helo_put(struct sess_helo_pool *p, const uint8_t *s, size_t n);

/* The bytes behind ref (non-zero, from sess_helo_put) and their length. */
const uint8_t *sess_helo_get(const struct sess_helo_pool *p, uint32_t ref, size_t *n);

/* Frees ref (0: nothing). */
void sess_helo_free(struct sess_helo_pool *p, uint32_t ref);

/* Bytes of the objects in use (for the footprint in bench-junk). */
size_t sess_helo_in_use(const struct sess_helo_pool *p);

#endif /* BULWARK_SESS_HELO_H */
