/*
 * sess_helo.c — the EHLO/HELO argument slab (see sess_helo.h).
 *
 * Why these counts: nearly every client names itself in under 32 octets
 * (a host name), so the two small classes get one object per session and
 * one per two sessions; long arguments (up to 255 octets, RFC 5321
 * §4.5.3.1.2) are rare and share the last three classes, which borrow from
 * each other upwards. 52 bytes per session are reserved in all.
 */
#include <string.h>

#include "net_asan.h"
#include "sess_helo.h"

/* Objects of class k for n sessions: n, n/2, n/8, n/32, n/32, at least 64. */
static uint32_t class_count(unsigned k, uint32_t n)
{
	static const uint8_t shift[SESS_HELO_CLASSES] = { 0, 1, 3, 5, 5 };
	uint32_t c = n >> shift[k];

	return c < 64 ? 64 : c;
}

static size_t class_size(unsigned k)
{
	return (size_t)16 << k;
}

size_t sess_helo_mem(uint32_t n_sess)
{
	size_t sz = 0;

	for (unsigned k = 0; k < SESS_HELO_CLASSES; k++)
		sz += class_size(k) * class_count(k, n_sess);
	return sz;
}

/* The link word of a free object (the index + 1 of the next free one). */
static uint32_t *link_of(uint8_t *o)
{
	return (uint32_t *)(void *)o;
}

void sess_helo_init(struct sess_helo_pool *p, void *mem, uint32_t n_sess)
{
	uint8_t *m = mem;

	for (unsigned k = 0; k < SESS_HELO_CLASSES; k++) {
		struct sess_helo_class *c = &p->c[k];
		size_t sz = class_size(k);

		c->obj = m;
		c->count = class_count(k, n_sess);
		c->used = 0;
		c->free1 = 1;
		for (uint32_t i = 0; i < c->count; i++) {
			uint8_t *o = c->obj + (size_t)i * sz;

			*link_of(o) = i + 1 < c->count ? i + 2 : 0;
			NET_POISON(o + sizeof(uint32_t), sz - sizeof(uint32_t));
		}
		m += sz * c->count;
	}
}

void sess_helo_fini(struct sess_helo_pool *p)
{
	for (unsigned k = 0; k < SESS_HELO_CLASSES; k++)
		NET_UNPOISON(p->c[k].obj, class_size(k) * p->c[k].count);
}

uint32_t sess_helo_put(struct sess_helo_pool *p, const uint8_t *s, size_t n)
{
	unsigned k = 0;

	if (n == 0 || n > 255)
		return 0;
	while (class_size(k) < n + 1)
		k++;
	for (; k < SESS_HELO_CLASSES; k++) {
		struct sess_helo_class *c = &p->c[k];
		uint32_t i;
		uint8_t *o;

		if (c->free1 == 0)
			continue;
		i = c->free1 - 1;
		o = c->obj + (size_t)i * class_size(k);
		c->free1 = *link_of(o);
		NET_UNPOISON(o, class_size(k));
		o[0] = (uint8_t)n;
		memcpy(o + 1, s, n);
		c->used++;
		return ((i + 1) << 3) | k;
	}
	return 0;
}

const uint8_t *sess_helo_get(const struct sess_helo_pool *p, uint32_t ref, size_t *n)
{
	const uint8_t *o = p->c[ref & 7].obj + (size_t)((ref >> 3) - 1) * class_size(ref & 7);

	*n = o[0];
	return o + 1;
}

void sess_helo_free(struct sess_helo_pool *p, uint32_t ref)
{
	struct sess_helo_class *c;
	uint32_t i;
	uint8_t *o;

	if (ref == 0)
		return;
	c = &p->c[ref & 7];
	i = (ref >> 3) - 1;
	o = c->obj + (size_t)i * class_size(ref & 7);
	*link_of(o) = c->free1;
	NET_POISON(o + sizeof(uint32_t), class_size(ref & 7) - sizeof(uint32_t));
	c->free1 = i + 1;
	c->used--;
}

size_t sess_helo_in_use(const struct sess_helo_pool *p)
{
	size_t b = 0;

	for (unsigned k = 0; k < SESS_HELO_CLASSES; k++)
		b += class_size(k) * p->c[k].used;
	return b;
}
