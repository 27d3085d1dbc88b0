/*
 * siphash.h — SipHash-2-4 (Aumasson & Bernstein), for ISNs (RFC 6528), SYN
 * cookies (RFC 4987 §3.6) and flow-table hashing.
 */
#ifndef BULWARK_SIPHASH_H
#define BULWARK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* Returns SipHash-2-4 of p[0..len) under the 128-bit key k. */
uint64_t net_siphash(const uint64_t k[2], const void *p, size_t len);

#endif
