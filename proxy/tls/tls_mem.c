/*
 * tls_mem.c — OpenSSL on jemalloc arenas (see tls_mem.h for the contract).
 *
 * Why it is shaped this way:
 * - CRYPTO_set_mem_functions() takes plain function pointers with no
 *   context argument, so the arena a thread allocates from can only be
 *   thread-local state (one word of mallocx flags). That is the one piece
 *   of per-thread state here; it is written only by its own thread.
 * - Each arena gets an explicit tcache (tcache.create) passed with
 *   MALLOCX_TCACHE: the thread's automatic tcache would hand out regions
 *   of whatever arena filled it (libc-style malloc calls from the same
 *   thread), which would blur the per-arena counts.
 * - OpenSSL calls the hooks with size 0 and pointer NULL (CRYPTO_malloc's
 *   own checks are bypassed once hooks are set); jemalloc's *allocx calls
 *   are undefined for both, so the hooks handle them.
 * - Memory freed by another thread (an SSL_CTX whose last reference goes
 *   with a session on a worker) goes through the freeing thread's tcache;
 *   jemalloc returns it to the owning arena when that tcache flushes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "tls_mem.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TLS_MEM_LIBC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TLS_MEM_LIBC 1
#endif

#ifdef TLS_MEM_LIBC

int tls_mem_init(void)
{
	return 0;
}

int tls_mem_active(void)
{
	return 0;
}

int tls_mem_arena_new(struct tls_mem_arena *a)
{
	a->arena = a->tcache = 0;
	return -ENOTSUP;
}

void tls_mem_arena_use(const struct tls_mem_arena *a)
{
	(void)a;
}

int tls_mem_thread_init(struct tls_mem_arena *a)
{
	return tls_mem_arena_new(a);
}

int tls_mem_process_bytes(size_t *bytes, size_t *cached)
{
	*bytes = *cached = 0;
	return -ENOTSUP;
}

int tls_mem_arena_bytes(const struct tls_mem_arena *a, size_t *bytes)
{
	(void)a;
	*bytes = 0;
	return -ENOTSUP;
}

#else /* jemalloc */

#include <jemalloc/jemalloc.h>

/* mallocx flags of this thread's OpenSSL allocations (0: automatic). */
static __thread int tls_mem_flags;
/* Set once by tls_mem_init() before any worker starts; read-only after. */
static int tls_mem_on;

static void *tls_mem_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return mallocx(n ? n : 1, tls_mem_flags);
}

static void *tls_mem_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (p == NULL)
		return mallocx(n ? n : 1, tls_mem_flags);
	if (n == 0) {
		dallocx(p, tls_mem_flags);
		return NULL; /* CRYPTO_realloc(p, 0) frees */
	}
	return rallocx(p, n, tls_mem_flags);
}

static void tls_mem_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	if (p != NULL)
		dallocx(p, tls_mem_flags);
}

int tls_mem_init(void)
{
	if (!CRYPTO_set_mem_functions(tls_mem_malloc, tls_mem_realloc, tls_mem_free))
		return -EBUSY;
	tls_mem_on = 1;
	return 0;
}

int tls_mem_active(void)
{
	return tls_mem_on;
}

int tls_mem_arena_new(struct tls_mem_arena *a)
{
	size_t sz = sizeof(unsigned);

	if (mallctl("arenas.create", &a->arena, &sz, NULL, 0) != 0)
		return -ENOTSUP;
	sz = sizeof(unsigned);
	if (mallctl("tcache.create", &a->tcache, &sz, NULL, 0) != 0)
		return -ENOMEM;
	return 0;
}

void tls_mem_arena_use(const struct tls_mem_arena *a)
{
	tls_mem_flags = a == NULL ? 0 : (int)(MALLOCX_ARENA(a->arena) | MALLOCX_TCACHE(a->tcache));
}

int tls_mem_thread_init(struct tls_mem_arena *a)
{
	int rc = tls_mem_arena_new(a);

	if (rc == 0)
		tls_mem_arena_use(a);
	return rc;
}

int tls_mem_arena_bytes(const struct tls_mem_arena *a, size_t *bytes)
{
	char name[64];
	uint64_t epoch = 1;
	size_t small = 0, large = 0, sz = sizeof(size_t);
	unsigned tc = a->tcache;

	*bytes = 0;
	if (mallctl("tcache.flush", NULL, NULL, &tc, sizeof(tc)) != 0 ||
	    mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)) != 0)
		return -ENOTSUP;
	snprintf(name, sizeof(name), "stats.arenas.%u.small.allocated", a->arena);
	if (mallctl(name, &small, &sz, NULL, 0) != 0)
		return -ENOTSUP;
	sz = sizeof(size_t);
	snprintf(name, sizeof(name), "stats.arenas.%u.large.allocated", a->arena);
	if (mallctl(name, &large, &sz, NULL, 0) != 0)
		return -ENOTSUP;
	*bytes = small + large;
	return 0;
}

int tls_mem_process_bytes(size_t *bytes, size_t *cached)
{
	char name[64];
	uint64_t epoch = 1;
	size_t sz = sizeof(*bytes);

	*bytes = *cached = 0;
	if (mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)) != 0 ||
	    mallctl("stats.allocated", bytes, &sz, NULL, 0) != 0)
		return -ENOTSUP;
	/* MALLCTL_ARENAS_ALL: the sum over every arena */
	snprintf(name, sizeof(name), "stats.arenas.%u.tcache_bytes", (unsigned)MALLCTL_ARENAS_ALL);
	sz = sizeof(*cached);
	if (mallctl(name, cached, &sz, NULL, 0) != 0)
		*cached = 0;
	return 0;
}

#endif /* jemalloc */
