/*
 * cidr.c — CIDR lists (see cidr.h).
 *
 * Why sorted ranges and not a trie: lists are small to medium (thousands),
 * lookups happen once per connection (not per packet), and a flat array of
 * merged ranges is one allocation, trivially immutable, and answers in
 * log2(n) compares with no pointer chasing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

int cidr_quad(const char *s, size_t len, size_t *pos, uint32_t *addr, const char **why)
{
	uint32_t a = 0;
	size_t i = *pos;

	for (int oct = 0; oct < 4; oct++) {
		uint32_t v = 0;
		size_t d = 0;

		if (oct > 0) {
			if (i >= len || s[i] != '.') {
				*why = "expected a.b.c.d";
				return -1;
			}
			i++;
		}
		for (; i < len && s[i] >= '0' && s[i] <= '9' && d < 4; i++, d++)
			v = v * 10 + (uint32_t)(s[i] - '0');
		if (d == 0 || d > 3 || v > 255) {
			*why = "bad octet (0..255 expected)";
			return -1;
		}
		if (d > 1 && s[i - d] == '0') {
			*why = "octet with a leading zero";
			return -1;
		}
		a = a << 8 | v;
	}
	*pos = i;
	*addr = a;
	return 0;
}

int cidr_parse(const char *s, size_t len, uint32_t *lo, uint32_t *hi, const char **why)
{
	uint32_t a, plen = 32, mask;
	size_t i = 0;

	if (cidr_quad(s, len, &i, &a, why) != 0)
		return -1;
	if (i < len && s[i] == '/') {
		size_t d = 0;

		plen = 0;
		for (i++; i < len && s[i] >= '0' && s[i] <= '9' && d < 3; i++, d++)
			plen = plen * 10 + (uint32_t)(s[i] - '0');
		if (d == 0 || plen > 32 || (d > 1 && s[i - d] == '0')) {
			*why = "bad prefix length (0..32 expected)";
			return -1;
		}
	}
	if (i != len) {
		*why = "unexpected characters after the address";
		return -1;
	}
	mask = plen == 0 ? 0 : ~0u << (32 - plen);
	if (a & ~mask) {
		*why = "host bits set under the prefix length";
		return -1;
	}
	*lo = a;
	*hi = a | ~mask;
	return 0;
}

static int range_cmp(const void *pa, const void *pb)
{
	const struct cidr_range *a = pa, *b = pb;

	return a->lo < b->lo ? -1 : a->lo > b->lo ? 1 : 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

struct cidr_set *cidr_set_parse(const char *t, size_t n, const char *name, uint32_t max, char *err,
				size_t errlen)
{
	struct cidr_set *s;
	uint32_t cap = 16, k = 0, line = 0;
	size_t at = 0;

	if (max > CIDR_ENTRIES_MAX)
		max = CIDR_ENTRIES_MAX;
	s = malloc(sizeof(*s) + cap * sizeof(s->r[0]));
	if (s == NULL)
		goto nomem;
	while (at < n) {
		size_t e = at, b, z;
		const char *why;

		line++;
		while (e < n && t[e] != '\n')
			e++;
		if (e - at > CIDR_LINE_MAX) {
			snprintf(err, errlen, "%s:%u: line longer than %u bytes", name, line,
				 CIDR_LINE_MAX);
			goto fail;
		}
		b = at;
		z = e;
		for (size_t i = b; i < z; i++)
			if (t[i] == '#') {
				z = i;
				break;
			}
		while (b < z && is_space(t[b]))
			b++;
		while (z > b && is_space(t[z - 1]))
			z--;
		at = e + 1;
		if (b == z)
			continue;
		for (size_t i = b; i < z; i++)
			if ((unsigned char)t[i] < 0x20 && t[i] != '\t') {
				why = "control character";
				goto bad;
			}
		if (k == max) {
			snprintf(err, errlen, "%s:%u: more than %u entries", name, line, max);
			goto fail;
		}
		if (k == cap) {
			struct cidr_set *g;

			cap *= 2;
			g = realloc(s, sizeof(*s) + cap * sizeof(s->r[0]));
			if (g == NULL)
				goto nomem;
			s = g;
		}
		if (cidr_parse(t + b, z - b, &s->r[k].lo, &s->r[k].hi, &why) != 0)
			goto bad;
		k++;
		continue;
	bad:
		snprintf(err, errlen, "%s:%u: %.*s: %s", name, line, (int)(z - b > 64 ? 64 : z - b),
			 t + b, why);
		goto fail;
	}
	s->entries = k;
	qsort(s->r, k, sizeof(s->r[0]), range_cmp);
	s->n = 0;
	for (uint32_t i = 0; i < k; i++) {
		struct cidr_range *last = s->n ? &s->r[s->n - 1] : NULL;

		/* overlapping or adjacent: one range */
		if (last != NULL && (last->hi == UINT32_MAX || s->r[i].lo <= last->hi + 1)) {
			if (s->r[i].hi > last->hi)
				last->hi = s->r[i].hi;
			continue;
		}
		s->r[s->n++] = s->r[i];
	}
	return s;
nomem:
	snprintf(err, errlen, "%s: out of memory", name);
fail:
	free(s);
	return NULL;
}

struct cidr_set *cidr_set_load(const char *path, uint32_t max, char *err, size_t errlen)
{
	size_t cap = (size_t)(max ? max : 1) * CIDR_LINE_MAX, n = 0;
	struct cidr_set *s = NULL;
	char *t = NULL;
	FILE *f;

	if (cap > (size_t)CIDR_ENTRIES_MAX * CIDR_LINE_MAX)
		cap = (size_t)CIDR_ENTRIES_MAX * CIDR_LINE_MAX;
	f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	for (size_t have = 0;;) {
		size_t k;

		if (n == have) {
			char *g;

			have = have ? have * 2 : 65536;
			if (have > cap + 1)
				have = cap + 1;
			if (n == have) {
				snprintf(err, errlen,
					 "%s: larger than %zu bytes (lists.max_entries x %u)", path,
					 cap, CIDR_LINE_MAX);
				goto out;
			}
			g = realloc(t, have);
			if (g == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			t = g;
		}
		k = fread(t + n, 1, have - n, f);
		n += k;
		if (k == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	s = cidr_set_parse(t, n, path, max, err, errlen);
out:
	fclose(f);
	free(t);
	return s;
}

int cidr_set_has(const struct cidr_set *s, uint32_t addr)
{
	const uint8_t *o = (const uint8_t *)&addr; /* network order: a first */
	uint32_t a, lo = 0, hi;

	if (s == NULL || s->n == 0)
		return 0;
	a = (uint32_t)o[0] << 24 | (uint32_t)o[1] << 16 | (uint32_t)o[2] << 8 | o[3];
	hi = s->n;
	while (lo < hi) { /* first range with r.hi >= a */
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->r[mid].hi < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->r[lo].lo <= a;
}

void cidr_set_free(struct cidr_set *s)
{
	free(s);
}
