/*
 * metrics.c — the Prometheus endpoint (libmicrohttpd) and the DPDK
 * telemetry commands over stats.h (see metrics.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <rte_telemetry.h>

#include "config.h"
#include "metrics.h"

#define METRICS_BUF_MIN (64u << 10)
#define METRICS_BUF_MAX (8u << 20)  /* far above any table: a bound, not a size */
#define METRICS_MEM     (32u << 10) /* per connection: request headers */
#define METRICS_CT      "text/plain; version=0.0.4; charset=utf-8"

/* ---- Prometheus ---------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *ctype,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result rc;

	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **req)
{
	struct metrics *m = cls;
	static char not_found[] = "not found: try /metrics\n";
	static char not_allowed[] = "method not allowed: GET /metrics\n";
	size_t cap = METRICS_BUF_MIN, len = 0;
	char *buf = NULL;

	(void)version;
	(void)upload;
	if (*req == NULL) {
		/* first call: headers only; answer on the second */
		*req = m;
		return MHD_YES;
	}
	if (*upload_len != 0) {
		*upload_len = 0; /* a body on a GET: ignored */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
			     sizeof(not_allowed) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, sizeof(not_found) - 1,
			     MHD_RESPMEM_PERSISTENT);
	for (; cap <= METRICS_BUF_MAX; cap *= 2) {
		char *nb = realloc(buf, cap);

		if (nb == NULL)
			break;
		buf = nb;
		if ((len = stats_prom(&m->src, buf, cap)) != 0)
			break;
	}
	if (len == 0) {
		free(buf);
		return MHD_NO; /* out of memory or over the bound: the client sees a close */
	}
	return reply(c, MHD_HTTP_OK, METRICS_CT, buf, len, MHD_RESPMEM_MUST_FREE);
}

int metrics_start(struct metrics *m, const struct stats_src *src, const struct cfg_metrics *c,
		  char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char ip[INET_ADDRSTRLEN] = "?";

	m->src = *src;
	m->d = NULL;
	if (c->port == 0)
		return 0;
	sa.sin_addr.s_addr = c->addr;
	sa.sin_port = htons(c->port);
	inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
	errno = 0;
	m->d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, c->port, NULL, NULL, on_request, m,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)c->max_clients, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_MEM, MHD_OPTION_LISTEN_BACKLOG_SIZE,
	    (unsigned)c->max_clients, MHD_OPTION_END);
	if (m->d == NULL) {
		int e = errno ? errno : EINVAL;

		snprintf(err, errlen, "metrics.listen: cannot serve /metrics on %s:%u: %s", ip,
			 c->port, strerror(e));
		return -e;
	}
	return 0;
}

void metrics_stop(struct metrics *m)
{
	if (m->d != NULL)
		MHD_stop_daemon(m->d);
	m->d = NULL;
}

/* ---- DPDK telemetry ------------------------------------------------------ */

/* Telemetry callbacks get no argument: the one process-wide pointer to
 * what they read, set at startup and cleared (under tel_mu, so never while
 * a command runs) before the workers are freed. */
static pthread_mutex_t tel_mu = PTHREAD_MUTEX_INITIALIZER;
static const struct stats_src *tel_src;

/* Keys may hold [A-Za-z0-9_/] only: anything else becomes '_'. */
static void tel_key(char *out, size_t cap, const char *a, const char *b)
{
	size_t n = 0;

	for (const char *p = a; *p && n + 1 < cap; p++)
		out[n++] = *p;
	if (b != NULL && n + 1 < cap)
		out[n++] = '/';
	for (const char *p = b; p && *p && n + 1 < cap; p++)
		out[n++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				   (*p >= '0' && *p <= '9') || *p == '_'
			       ? *p
			       : '_';
	out[n] = '\0';
}

/* Sums per (row, slot) into a table sized by the rows. */
struct tel_sum {
	size_t *base; /* first slot of each row */
	uint64_t *v;
	uint8_t *seen;
	const char **lval; /* stable names only (codes are rebuilt) */
	int worker;        /* -1: all; else only that worker's values */
	int by_be;         /* only per-backend rows */
};

static void tel_emit(void *arg, const struct stats_val *v)
{
	struct tel_sum *t = arg;
	size_t i = t->base[v->def_idx] + v->idx;

	if (t->worker >= 0 && v->worker != t->worker)
		return;
	t->v[i] += v->v;
	t->seen[i] = 1;
	t->lval[i] = v->def->lab == STATS_L_CODE ? NULL : v->lval;
}

/* Walks src into t; returns the number of slots, 0 on no memory. */
static size_t tel_collect(const struct stats_src *src, struct tel_sum *t, int worker)
{
	size_t nd, n = 0;
	const struct stats_def *d = stats_defs(&nd);

	memset(t, 0, sizeof(*t));
	t->worker = worker;
	t->base = calloc(nd, sizeof(*t->base));
	for (size_t k = 0; t->base && k < nd; k++) {
		t->base[k] = n;
		n += d[k].n;
	}
	t->v = calloc(n, sizeof(*t->v));
	t->seen = calloc(n, 1);
	t->lval = calloc(n, sizeof(*t->lval));
	if (!t->base || !t->v || !t->seen || !t->lval)
		return 0;
	stats_walk(src, tel_emit, t);
	return n;
}

static void tel_free(struct tel_sum *t)
{
	free(t->base);
	free(t->v);
	free(t->seen);
	free(t->lval);
}

/* The key of slot i of row k. */
static void slot_key(const struct stats_def *d, size_t k, const struct tel_sum *t, size_t i,
		     char *key, size_t cap)
{
	char code[16];
	size_t idx = i - t->base[k];

	if (d[k].lab == STATS_L_CODE) {
		snprintf(code, sizeof(code), "%zu", idx + 200);
		tel_key(key, cap, d[k].key, code);
	} else if (d[k].n > 1) {
		tel_key(key, cap, d[k].key, t->lval[i]);
	} else {
		tel_key(key, cap, d[k].key, NULL);
	}
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *info)
{
	struct tel_sum t;
	size_t nd;
	const struct stats_def *d = stats_defs(&nd);

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(info);
	pthread_mutex_lock(&tel_mu);
	if (tel_src != NULL && tel_collect(tel_src, &t, -1) != 0) {
		for (size_t k = 0; k < nd; k++)
			for (size_t i = t.base[k]; i < t.base[k] + d[k].n; i++) {
				char key[RTE_TEL_MAX_STRING_LEN];

				if (!t.seen[i])
					continue;
				slot_key(d, k, &t, i, key, sizeof(key));
				rte_tel_data_add_dict_u64(info, key, t.v[i]);
			}
	}
	if (tel_src != NULL)
		tel_free(&t);
	pthread_mutex_unlock(&tel_mu);
	return 0;
}

/* Every per-worker row: key -> array indexed by worker. */
static int tel_workers(const char *cmd, const char *params, struct rte_tel_data *info)
{
	size_t nd;
	const struct stats_def *d = stats_defs(&nd);
	struct tel_sum t[64];
	uint16_t nw;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(info);
	pthread_mutex_lock(&tel_mu);
	nw = tel_src ? (tel_src->n_workers < 64 ? tel_src->n_workers : 64) : 0;
	for (uint16_t w = 0; w < nw; w++)
		if (tel_collect(tel_src, &t[w], w) == 0) {
			tel_free(&t[w]);
			nw = w;
		}
	rte_tel_data_add_dict_int(info, "workers", nw);
	for (size_t k = 0; nw > 0 && k < nd; k++)
		for (size_t i = t[0].base[k]; i < t[0].base[k] + d[k].n; i++) {
			char key[RTE_TEL_MAX_STRING_LEN];
			struct rte_tel_data *a;
			int seen = 0;

			for (uint16_t w = 0; w < nw; w++)
				seen |= t[w].seen[i] && (d[k].lab != STATS_L_CODE || t[w].v[i]);
			if (!seen || (a = rte_tel_data_alloc()) == NULL)
				continue;
			rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
			for (uint16_t w = 0; w < nw; w++)
				rte_tel_data_add_array_u64(a, t[w].v[i]);
			for (uint16_t w = 0; w < nw && !t[0].lval[i]; w++)
				t[0].lval[i] = t[w].lval[i];
			slot_key(d, k, &t[0], i, key, sizeof(key));
			if (rte_tel_data_add_dict_container(info, key, a, 0) != 0)
				rte_tel_data_free(a);
		}
	for (uint16_t w = 0; w < nw; w++)
		tel_free(&t[w]);
	pthread_mutex_unlock(&tel_mu);
	return 0;
}

/* Backend names, then each per-backend row as an array indexed like them. */
static int tel_backends(const char *cmd, const char *params, struct rte_tel_data *info)
{
	size_t nd;
	const struct stats_def *d = stats_defs(&nd);
	struct tel_sum t;
	struct rte_tel_data *names;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(info);
	pthread_mutex_lock(&tel_mu);
	if (tel_src != NULL && tel_collect(tel_src, &t, -1) != 0) {
		uint32_t nb = tel_src->cfg->n_backends;

		if ((names = rte_tel_data_alloc()) != NULL) {
			rte_tel_data_start_array(names, RTE_TEL_STRING_VAL);
			for (uint32_t b = 0; b < nb; b++)
				rte_tel_data_add_array_string(names,
							      tel_src->cfg->backends[b].name);
			if (rte_tel_data_add_dict_container(info, "names", names, 0) != 0)
				rte_tel_data_free(names);
		}
		for (size_t k = 0; k < nd; k++) {
			struct rte_tel_data *a;

			if (d[k].lab != STATS_L_BACKEND || (a = rte_tel_data_alloc()) == NULL)
				continue;
			rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
			for (uint32_t b = 0; b < nb; b++)
				rte_tel_data_add_array_u64(a, t.v[t.base[k] + b]);
			if (rte_tel_data_add_dict_container(info, d[k].key, a, 0) != 0)
				rte_tel_data_free(a);
		}
	}
	if (tel_src != NULL)
		tel_free(&t);
	pthread_mutex_unlock(&tel_mu);
	return 0;
}

int metrics_telemetry_start(const struct stats_src *src)
{
	int rc;

	pthread_mutex_lock(&tel_mu);
	tel_src = src;
	pthread_mutex_unlock(&tel_mu);
	if ((rc = rte_telemetry_register_cmd("/bulwark/stats", tel_stats,
					     "Every Bulwark counter, summed. No parameters")) ||
	    (rc = rte_telemetry_register_cmd(
		 "/bulwark/workers", tel_workers,
		 "Bulwark counters per worker: arrays indexed by worker. No parameters")) ||
	    (rc = rte_telemetry_register_cmd(
		 "/bulwark/backends", tel_backends,
		 "Bulwark backends: names, then per-backend arrays. No parameters")))
		return rc;
	return 0;
}

void metrics_telemetry_stop(void)
{
	pthread_mutex_lock(&tel_mu);
	tel_src = NULL;
	pthread_mutex_unlock(&tel_mu);
}
