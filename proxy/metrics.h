/*
 * metrics.h — the live readers of stats.h, all on the main lcore's CPU and
 * never on a worker or relay lcore:
 *
 * - a Prometheus endpoint (metrics.listen, default 127.0.0.1:9890):
 *   libmicrohttpd's own polling thread, created by the main thread after
 *   the EAL pinned it to the main lcore, so it inherits that CPU; at most
 *   metrics.max_clients connections, each closed after metrics.timeout_s
 *   idle. GET /metrics answers the text format 0.0.4; other paths 404,
 *   other methods 405.
 * - DPDK telemetry commands (the EAL's telemetry thread; readable with
 *   dpdk-telemetry.py -f FILE_PREFIX): /bulwark/stats (every counter
 *   summed over workers and relays, "name" or "name/label"), /bulwark/workers
 *   (each worker counter as an array indexed by worker), /bulwark/backends
 *   (names, then per-backend arrays summed over relay lcores).
 */
#ifndef BULWARK_METRICS_H
#define BULWARK_METRICS_H

#include <stddef.h>

#include "stats.h"

struct cfg_metrics;
struct MHD_Daemon;

struct metrics {
	struct stats_src src;
	struct MHD_Daemon *d; /* NULL: no endpoint */
};

/*
 * Starts the endpoint of c over src (copied; what it points at must live
 * until metrics_stop). c->port 0: nothing to start. Returns 0, or -errno
 * with err naming the key and the cause.
 */
int metrics_start(struct metrics *m, const struct stats_src *src, const struct cfg_metrics *c,
		  char *err, size_t errlen);

/* Stops the endpoint (joins its thread): src may be freed afterwards. */
void metrics_stop(struct metrics *m);

/* Registers the /bulwark/... telemetry commands over src (they answer an
 * empty dict before this and after metrics_telemetry_stop). Returns 0 or
 * -errno. */
int metrics_telemetry_start(const struct stats_src *src);

/* Detaches the commands from src, waiting for a command being answered. */
void metrics_telemetry_stop(void);

#endif /* BULWARK_METRICS_H */
