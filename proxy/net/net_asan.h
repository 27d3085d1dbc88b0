/*
 * net_asan.h — ASan poisoning for memory the endpoint hands out from its own
 * arrays and DPDK pools (ASan does not see inside them otherwise): free
 * objects are poisoned, taken ones unpoisoned, so a use after free crashes.
 * No-ops without ASan; recognises gcc (__SANITIZE_ADDRESS__) and clang
 * (__has_feature(address_sanitizer)). The daemon's session pools use it too.
 */
#ifndef BULWARK_NET_ASAN_H
#define BULWARK_NET_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define NET_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NET_ASAN 1
#endif
#endif

#ifdef NET_ASAN
#include <sanitizer/asan_interface.h>
#define NET_POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define NET_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define NET_POISON(p, n)   ((void)(p), (void)(n))
#define NET_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#endif /* BULWARK_NET_ASAN_H */
