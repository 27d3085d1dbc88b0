/*
 * net_ctx.c — context creation (every table sized once, from the config),
 * timers, counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "net_asan.h"
#include "net_ctx.h"

#define WHEEL_SLOTS   4096u
#define WHEEL_TICK_MS 1u

void net_cfg_defaults(struct net_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
	cfg->socket_id = SOCKET_ID_ANY;
	cfg->name = "net0";
	cfg->max_conns = 4096;
	cfg->max_halfopen = 1024;
	cfg->max_tw = 4096;
	cfg->n_bufs = 1024;
	cfg->buf_size = 16384;
	cfg->ooo_segs = 8;
	cfg->ooo_bytes = 16384;
	cfg->arp_entries = 256;
	cfg->arp_ttl_ms = 300000;
	cfg->rto_init_ms = 1000;
	cfg->rto_min_ms = 1000;
	cfg->rto_max_ms = 60000;
	cfg->rtx_max = 8;
	cfg->synack_retries = 4;
	cfg->tw_ms = 60000;
	cfg->linger_ms = 10000;
	cfg->challenge_per_s = 10;
	cfg->syncookies = 1;
}

static const char *cfg_check(const struct net_cfg *c)
{
	if (c->n_addrs == 0 || c->n_addrs > NET_ADDR_MAX)
		return "n_addrs";
	if (c->n_ports > NET_LISTEN_MAX)
		return "n_ports";
	if (c->mtu < 576 || c->mtu > 9000)
		return "mtu";
	if (c->max_conns == 0 || c->max_conns > (1u << 24))
		return "max_conns";
	if (c->max_halfopen == 0 || c->max_halfopen > (1u << 24))
		return "max_halfopen";
	if (c->max_tw > (1u << 24))
		return "max_tw";
	if (c->n_bufs == 0)
		return "n_bufs";
	if (c->buf_size < 1024 || c->buf_size > (1u << 24))
		return "buf_size";
	if (c->ooo_segs == 0 || c->ooo_segs > NET_OOO_MAX)
		return "ooo_segs";
	if (c->arp_entries == 0 || c->arp_entries > (1u << 20))
		return "arp_entries";
	if (c->rto_min_ms == 0 || c->rto_init_ms < c->rto_min_ms ||
	    c->rto_max_ms < c->rto_init_ms || c->rto_max_ms > 600000)
		return "rto_*_ms";
	if (c->rtx_max == 0 || c->rtx_max > 30 || c->synack_retries > 10)
		return "rtx_max";
	if (c->challenge_per_s > 255)
		return "challenge_per_s";
	if (c->syncookies > 2)
		return "syncookies";
	if (c->linger_ms > 3600000 || c->tw_ms > 3600000)
		return "linger_ms";
	if (c->name == NULL || strlen(c->name) > 16)
		return "name";
	return NULL;
}

static size_t up64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

#ifdef NET_ASAN
static void buf_poison(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	(void)idx;
	if (arg != NULL)
		NET_POISON(obj, mp->elt_size);
	else
		NET_UNPOISON(obj, mp->elt_size);
}
#endif

struct net_ctx *net_create(const struct net_cfg *cfg, const struct net_ops *ops, uint64_t now,
			   const char **why)
{
	struct net_ctx *ctx;
	size_t o_conns, o_ftab, o_syns, o_sfree, o_stab, o_tws, o_twtab, o_wheel, o_arp,
	    total;
	uint32_t arp_n = 1;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint8_t *mem;

	*why = cfg_check(cfg);
	if (*why == NULL &&
	    (ops->alloc == NULL || ops->xmit == NULL || ops->accept == NULL || ops->recv == NULL))
		*why = "ops";
	if (*why != NULL)
		return NULL;
	while (arp_n < cfg->arp_entries)
		arp_n <<= 1;
	ctx = rte_zmalloc_socket("net_ctx", sizeof(*ctx), 64, cfg->socket_id);
	if (ctx == NULL) {
		*why = "no memory for the context";
		return NULL;
	}
	ctx->cfg = *cfg;
	ctx->ops = *ops;
	ctx->mss = (uint16_t)(cfg->mtu - 40);
	while (ctx->rcv_ws < 14 && (cfg->buf_size >> ctx->rcv_ws) > 0xffff)
		ctx->rcv_ws++;
	ctx->ooo_segs = cfg->ooo_segs;
	ctx->hkey[0] = rte_rand();
	ctx->hkey[1] = rte_rand();
	if (ctx->cfg.isn_key[0] == 0 && ctx->cfg.isn_key[1] == 0) {
		ctx->cfg.isn_key[0] = rte_rand();
		ctx->cfg.isn_key[1] = rte_rand();
	}
	if (cfg->secret != NULL) {
		ctx->secret = cfg->secret;
	} else {
		uint64_t k[2] = { rte_rand(), rte_rand() };

		net_cookie_init(&ctx->own_secret, k);
		ctx->secret = &ctx->own_secret;
	}

	/* One block for every fixed table. */
	o_conns = 0;
	o_ftab = o_conns + up64((size_t)cfg->max_conns * sizeof(struct tcp_conn));
	o_syns = o_ftab + up64(tcp_ftab_mem(cfg->max_conns));
	o_sfree = o_syns + up64((size_t)cfg->max_halfopen * sizeof(struct tcp_syn));
	o_stab = o_sfree + up64((size_t)cfg->max_halfopen * sizeof(uint32_t));
	o_tws = o_stab + up64(tcp_ftab_mem(cfg->max_halfopen));
	o_twtab = o_tws + up64((size_t)(cfg->max_tw ? cfg->max_tw : 1) * sizeof(struct tcp_tw));
	o_wheel = o_twtab + up64(tcp_ftab_mem(cfg->max_tw ? cfg->max_tw : 1));
	o_arp = o_wheel + up64(wheel_mem_size(WHEEL_SLOTS));
	total = o_arp + up64((size_t)arp_n * sizeof(struct net_arp));
	mem = rte_zmalloc_socket("net_tables", total, 64, cfg->socket_id);
	if (mem == NULL) {
		*why = "no memory for the tables";
		goto fail;
	}
	ctx->mem = mem;
	ctx->conns = (struct tcp_conn *)(mem + o_conns);
	tcp_ftab_init(&ctx->ftab, mem + o_ftab, cfg->max_conns, ctx->conns, sizeof(struct tcp_conn),
		      ctx->hkey);
	ctx->syns = (struct tcp_syn *)(mem + o_syns);
	ctx->syn_free = (uint32_t *)(mem + o_sfree);
	for (uint32_t i = 0; i < cfg->max_halfopen; i++)
		ctx->syn_free[i] = cfg->max_halfopen - 1 - i;
	ctx->syn_nfree = cfg->max_halfopen;
	tcp_ftab_init(&ctx->stab, mem + o_stab, cfg->max_halfopen, ctx->syns,
		      sizeof(struct tcp_syn), ctx->hkey);
	ctx->tws = (struct tcp_tw *)(mem + o_tws);
	tcp_ftab_init(&ctx->twtab, mem + o_twtab, cfg->max_tw ? cfg->max_tw : 1, ctx->tws,
		      sizeof(struct tcp_tw), ctx->hkey);
	wheel_init(&ctx->wheel, mem + o_wheel, WHEEL_SLOTS, WHEEL_TICK_MS, now, mem);
	ctx->arp = (struct net_arp *)(mem + o_arp);
	ctx->arp_mask = arp_n - 1;
	ctx->conn_free1 = 0;
	for (uint32_t i = cfg->max_conns; i-- > 0;) /* conns[0] is taken first */
		tcp_conn_poison_free(ctx, &ctx->conns[i]);

	snprintf(name, sizeof(name), "nb_%s", cfg->name);
	ctx->bufs = rte_mempool_create(name, cfg->n_bufs, sizeof(struct tcp_buf) + cfg->buf_size, 0,
				       0, NULL, NULL, NULL, NULL, cfg->socket_id,
				       RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	if (ctx->bufs == NULL) {
		*why = "no memory for the buffer pool";
		goto fail;
	}
#ifdef NET_ASAN
	rte_mempool_obj_iter(ctx->bufs, buf_poison, ctx);
#endif
	return ctx;
fail:
	rte_free(ctx->mem);
	rte_free(ctx);
	return NULL;
}

void net_destroy(struct net_ctx *ctx)
{
	if (ctx == NULL)
		return;
#ifdef NET_ASAN
	NET_UNPOISON(ctx->conns,
				    (size_t)ctx->cfg.max_conns * sizeof(struct tcp_conn));
	/* The memory goes back to the heap: unpoison it for its next user. */
	rte_mempool_obj_iter(ctx->bufs, buf_poison, NULL);
#endif
	rte_mempool_free(ctx->bufs);
	rte_free(ctx->mem);
	rte_free(ctx);
}

static void timer_fire(struct wheel_timer *t, void *arg, uint64_t now)
{
	struct net_ctx *ctx = arg;
	uintptr_t p = (uintptr_t)t;
	uintptr_t c0 = (uintptr_t)ctx->conns;
	uintptr_t c1 = (uintptr_t)(ctx->conns + ctx->cfg.max_conns);

	if (p >= c0 && p < c1) {
		struct tcp_conn *c =
		    (struct tcp_conn *)(void *)((uint8_t *)t - offsetof(struct tcp_conn, tm));

		tcp_conn_timer(ctx, c, now);
	} else {
		struct tcp_syn *s =
		    (struct tcp_syn *)(void *)((uint8_t *)t - offsetof(struct tcp_syn, tm));

		tcp_syn_timer(ctx, s, now);
	}
}

uint64_t net_timers(struct net_ctx *ctx, uint64_t now)
{
	uint64_t a, b;

	wheel_expire(&ctx->wheel, now, timer_fire, ctx);
	tcp_buf_wake(ctx, now);
	a = tcp_tw_expire(ctx, now);
	b = wheel_next(&ctx->wheel, now);
	return a < b ? a : b;
}

const struct net_stats *net_stats(const struct net_ctx *ctx)
{
	return &ctx->st;
}
