/*
 * cidr.h — IPv4 address sets from CIDR lists (the allow/deny lists,
 * accept_proxy's balancers): a strict parser and an immutable lookup
 * structure (sorted, merged ranges; binary search). Plain C, no DPDK:
 * sets are built on the main lcore and only read by the workers.
 *
 * List syntax: one "a.b.c.d" or "a.b.c.d/len" per line; blank lines and
 * '#' comments (whole line or after the entry) are ignored; octets are
 * decimal without leading zeros; host bits under the prefix must be zero
 * ("198.18.0.1/24" is an error: it is almost always a typo). Errors name
 * "NAME:LINE: problem".
 */
#ifndef BULWARK_CIDR_H
#define BULWARK_CIDR_H

#include <stddef.h>
#include <stdint.h>

#define CIDR_LINE_MAX    256u     /* longest line accepted */
#define CIDR_ENTRIES_MAX 1048576u /* hard ceiling of any list */

struct cidr_range {
	uint32_t lo, hi; /* host order, inclusive */
};

/* Immutable once built: n ranges, sorted, disjoint, not adjacent. */
struct cidr_set {
	uint32_t n;
	uint32_t entries; /* lines that carried an entry (before merging) */
	struct cidr_range r[];
};

/* Parses the dotted quad at s[*pos..len) (decimal octets 0..255 without
 * leading zeros), the one syntax of every IPv4 address Bulwark reads (the
 * config, the lists, PROXY v1 headers). Sets *addr (host order) and
 * advances *pos past it; returns 0, or -1 with *why set. What follows is
 * the caller's to check. */
int cidr_quad(const char *s, size_t len, size_t *pos, uint32_t *addr, const char **why);

/* Parses "a.b.c.d" or "a.b.c.d/len" (the whole of s[0..len)) into the
 * inclusive range [*lo, *hi] (host order). Returns 0, or -1 with *why set. */
int cidr_parse(const char *s, size_t len, uint32_t *lo, uint32_t *hi, const char **why);

/*
 * Builds a set from list text t[0..n) (name stands for the file in
 * messages), at most max entries. Returns the set (free with cidr_free),
 * or NULL with err = "NAME:LINE: problem" (or "NAME: ..." for memory).
 */
struct cidr_set *cidr_set_parse(const char *t, size_t n, const char *name, uint32_t max, char *err,
				size_t errlen);

/* The same for the file at path (read whole, at most max entries and
 * max * CIDR_LINE_MAX bytes). */
struct cidr_set *cidr_set_load(const char *path, uint32_t max, char *err, size_t errlen);

/* Returns 1 when addr (network order) is in s (NULL: the empty set). */
int cidr_set_has(const struct cidr_set *s, uint32_t addr);

/* NULL is a no-op. */
void cidr_set_free(struct cidr_set *s);

#endif /* BULWARK_CIDR_H */
