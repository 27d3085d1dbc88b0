/*
 * tls_mem.h — OpenSSL's allocations on jemalloc arenas (DESIGN §2).
 *
 * tls_mem_init() routes every OpenSSL allocation (CRYPTO_set_mem_functions)
 * through mallocx/rallocx/dallocx with the calling thread's flags: a thread
 * that selected an arena (tls_mem_arena_use) allocates from that arena and
 * its own explicit tcache, so worker cores never contend on an allocator
 * and the arena's counters give memory per core (and, divided by the
 * sessions, per TLS session). Threads that selected none use jemalloc's
 * automatic arena.
 *
 * Under ASan (and so the fuzzers) OpenSSL keeps libc's allocator, which
 * ASan instruments: tls_mem_init() sets nothing, the arena calls return
 * -ENOTSUP and tls_mem_arena_use() is a no-op.
 *
 * Thread safety: tls_mem_init() once, before anything else calls OpenSSL.
 * The per-thread selection is thread-local. An arena (with its tcache) is
 * used by one thread at a time.
 */
#ifndef BULWARK_TLS_MEM_H
#define BULWARK_TLS_MEM_H

#include <stddef.h>

/* A jemalloc arena with its own explicit tcache. */
struct tls_mem_arena {
	unsigned arena;
	unsigned tcache;
};

/*
 * Installs the allocation functions. Must run before any other OpenSSL
 * call (OpenSSL refuses once it has allocated). Returns 0, or -EBUSY when
 * OpenSSL already allocated (it then stays on libc; the caller decides
 * whether that is fatal). Under ASan: 0, nothing installed.
 */
int tls_mem_init(void);

/* Returns 1 when OpenSSL allocates from jemalloc (tls_mem_init succeeded
 * in a non-ASan build), else 0. */
int tls_mem_active(void);

/* Creates an arena and a tcache for it. Returns 0, -ENOTSUP (ASan, or
 * jemalloc refused), or -ENOMEM. Arenas are never destroyed. */
int tls_mem_arena_new(struct tls_mem_arena *a);

/* OpenSSL allocations of the calling thread go to a from now on (NULL:
 * back to jemalloc's automatic arena). a must outlive the selection. */
void tls_mem_arena_use(const struct tls_mem_arena *a);

/* tls_mem_arena_new() then tls_mem_arena_use(): what each worker lcore
 * calls once at start. a is the caller's (per-worker state). */
int tls_mem_thread_init(struct tls_mem_arena *a);

/*
 * Bytes allocated from a's arena now (small + large), after flushing a's
 * tcache (cached free regions would count as allocated) and advancing
 * jemalloc's stats epoch. Call from the thread that uses a. Returns 0, or
 * -ENOTSUP (ASan, or jemalloc built without statistics).
 */
int tls_mem_arena_bytes(const struct tls_mem_arena *a, size_t *bytes);

/*
 * Bytes jemalloc has allocated in the whole process now (stats.allocated
 * after advancing the stats epoch), and of those the bytes freed but still
 * cached in the threads' tcaches (stats.arenas.<all>.tcache_bytes): live
 * memory is their difference. Any thread. Returns 0, or -ENOTSUP (ASan, or
 * no statistics).
 */
int tls_mem_process_bytes(size_t *bytes, size_t *cached);

#endif /* BULWARK_TLS_MEM_H */
