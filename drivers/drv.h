/*
 * drv.h — port bring-up over DPDK ethdev, and a fault-injecting wrapper
 * around a port's bursts for tests.
 *
 * Startup code only, except drv_fault_*_burst (datapath, never aborts).
 * A port is described by struct drv_port_conf; drv_port_open() probes it
 * (hot-plugging a vdev from its devargs when needed), checks every request
 * against the device's capabilities, enables RSS and checksum offloads where
 * the device really has them, creates the mbuf pools, sets up one RX and one
 * TX queue per worker, starts the port and logs its link. Virtual devices
 * (vdev bus: net_tap, net_memif, net_af_packet, net_af_xdp, net_ring,
 * net_null, ...) get neither RSS nor offloads: the peer picks the queue and
 * the worker computes checksums itself (struct drv_port.sw_cksum).
 *
 * Errors: functions return 0 or -errno and write one line naming the port
 * and the feature into err (when err is not NULL).
 */
#ifndef BULWARK_DRV_H
#define BULWARK_DRV_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

struct rte_mbuf;
struct rte_mempool;
struct rte_eth_conf;
struct rte_eth_dev_info;
struct rte_device;

#define DRV_MAX_QUEUES  64 /* RX = TX queues per port (= workers) */
#define DRV_RSS_KEY_MAX 64 /* bytes */
#define DRV_NAME_MAX    32
#define DRV_DEVARGS_MAX 256
#define DRV_ERR_MAX     256 /* a good size for err buffers */

/* One line of log text (no newline). level: DRV_LOG_*. */
typedef void drv_log_fn(void *arg, int level, const char *line);

#define DRV_LOG_ERR  3
#define DRV_LOG_WARN 4
#define DRV_LOG_INFO 6

/* Writes "drv: <line>" to stderr. The default when conf->log is NULL. */
void drv_log_stderr(void *arg, int level, const char *line);

/* What the config asks of a feature. */
enum drv_want {
	DRV_AUTO = 0, /* use it when the device really has it */
	DRV_OFF,      /* never */
	DRV_ON,       /* required: drv_port_open fails when it is missing */
};

/* Which fields the RSS hash covers (for TCP/IPv4 and, later, IPv6). */
enum drv_rss_hash {
	DRV_RSS_L4 = 0,   /* both addresses and both ports */
	DRV_RSS_SRC_L4,   /* source address and source port */
	DRV_RSS_SRC_ADDR, /* source address only: a client always hits one
			   * worker, so per-client limits are exact box-wide */
};

struct drv_port_conf {
	const char *name;       /* label in logs and errors, e.g. "bw0" */
	const char *devargs;    /* "net_tap0,iface=bw0", "0000:03:00.0", or an
			       * ethdev name already probed by EAL (--vdev/-a);
			       * NULL: name is the ethdev name */
	uint16_t n_queues;      /* RX queues = TX queues = workers, >= 1 */
	uint16_t rx_desc;       /* 0: 1024, clamped to the device's limits */
	uint16_t tx_desc;       /* 0: 1024, clamped likewise */
	uint32_t mbufs;         /* mbufs per pool; 0: 8191 */
	uint16_t mbuf_cache;    /* per-lcore cache; 0: 256 (or mbufs / 4) */
	uint8_t pool_per_queue; /* 1: one pool per queue (NUMA/lock-free), 0: shared */
	uint16_t mtu;           /* 0: 1500 */
	enum drv_want rss;
	enum drv_rss_hash rss_hash;
	const uint8_t *rss_key; /* NULL: the symmetric key (0x6d5a repeated) */
	uint8_t rss_key_len;
	enum drv_want csum; /* IPv4 + TCP checksum offloads, RX and TX */
	uint8_t promisc;
	uint32_t link_wait_ms; /* how long to wait for link up before logging */
	drv_log_fn *log;       /* NULL: drv_log_stderr */
	void *log_arg;
};

/* struct drv_port.hw: what was enabled on the device. */
#define DRV_HW_RSS           0x01u
#define DRV_HW_RX_IPV4_CKSUM 0x02u /* mbuf ol_flags carry RTE_MBUF_F_RX_IP_CKSUM_* */
#define DRV_HW_RX_TCP_CKSUM  0x04u /* mbuf ol_flags carry RTE_MBUF_F_RX_L4_CKSUM_* */
#define DRV_HW_TX_IPV4_CKSUM 0x08u /* set RTE_MBUF_F_TX_IP_CKSUM + l2/l3_len */
#define DRV_HW_TX_TCP_CKSUM  0x10u /* set RTE_MBUF_F_TX_TCP_CKSUM + pseudo csum */

/* struct drv_port.sw_cksum: what the worker must compute itself. */
#define DRV_SW_RX_CKSUM 0x01u /* verify IPv4 and TCP checksums on receive */
#define DRV_SW_TX_CKSUM 0x02u /* fill IPv4 and TCP checksums on transmit */

struct drv_port {
	uint16_t port_id;
	uint16_t n_queues;
	uint16_t rx_desc, tx_desc; /* after clamping */
	uint16_t mtu;
	uint8_t is_virtual; /* on the vdev bus */
	uint8_t hotplugged; /* we probed devargs: detach on close */
	uint8_t started;
	uint32_t hw;       /* DRV_HW_* */
	uint32_t sw_cksum; /* DRV_SW_* (the complement of hw csum bits) */
	uint64_t rss_hf;   /* RTE_ETH_RSS_* in use, 0 without RSS */
	struct rte_ether_addr mac;
	char name[DRV_NAME_MAX];
	char devname[DRV_DEVARGS_MAX]; /* the ethdev name */
	char driver[DRV_NAME_MAX];     /* "net_tap", "net_ixgbe", ... */
	/* pools[q]: the pool for queue q (all the same when shared) */
	struct rte_mempool *pools[DRV_MAX_QUEUES];
	uint16_t n_pools;
	struct rte_device *dev;
	drv_log_fn *log;
	void *log_arg;
};

/*
 * Probes, configures and starts the port described by c. EAL must be up.
 * Returns 0, or -errno with err naming the port and the feature, e.g.
 * "port bw0: rss = on, but net_tap0 (net_tap) is a virtual device without
 * RSS". On failure everything done so far is undone. p is written in full.
 */
int drv_port_open(struct drv_port *p, const struct drv_port_conf *c, char *err, size_t errlen);

/* Stops and closes the port, frees its pools, detaches a hot-plugged vdev.
 * Every mbuf must be back in its pool. Safe on a zeroed or closed port. */
void drv_port_close(struct drv_port *p);

/*
 * The pure part of drv_port_open: from the device's info (and whether it is
 * virtual), checks c and fills eth_conf (RSS, offloads, MTU) and p's
 * hw/sw_cksum/rss_hf/rx_desc/tx_desc/n_queues. rss_key (DRV_RSS_KEY_MAX
 * bytes) receives the key eth_conf points to. Exposed for tests, which can
 * feed it the info of a NIC they do not have. Returns 0 or -errno with err.
 */
int drv_port_plan(struct drv_port *p, const struct drv_port_conf *c,
		  const struct rte_eth_dev_info *info, int is_virtual,
		  struct rte_eth_conf *eth_conf, uint8_t *rss_key, char *err, size_t errlen);

/* Logs the port's link state (one line: port, state, speed, duplex). Returns
 * 1 when the link is up. Waits up to wait_ms for it to come up. */
int drv_port_link_log(const struct drv_port *p, uint32_t wait_ms);

/* The symmetric Toeplitz key (0x6d5a repeated, len bytes, len even):
 * hash(a -> b) == hash(b -> a), so both directions of a flow share a queue. */
void drv_rss_key_symmetric(uint8_t *key, size_t len);

/* ---- Fault injection (tests) ------------------------------------------- */

/* Shares are in parts per million of the packets offered in a direction. */
struct drv_fault_dir {
	uint32_t drop_ppm;    /* freed */
	uint32_t reorder_ppm; /* held back, delivered after later packets */
	uint32_t dup_ppm;     /* delivered twice (the second is a copy) */
};

struct drv_fault_conf {
	uint64_t seed;
	struct drv_fault_dir rx, tx;
	uint16_t reorder_depth;       /* held packets per queue and direction, 1..64; 0: 8 */
	uint16_t reorder_max_calls;   /* a held packet leaves after this many bursts
				     * even when nothing passes it; 0: 4 */
	struct rte_mempool *dup_pool; /* for copies; NULL: the packet's own pool */
};

struct drv_fault_dir_stats {
	uint64_t in;        /* offered: from the device (rx) or the caller (tx) */
	uint64_t out;       /* delivered: to the caller (rx) or the device (tx) */
	uint64_t dropped;   /* by decision */
	uint64_t reordered; /* held back */
	uint64_t duplicated;
	uint64_t dup_failed; /* no mbuf for the copy: delivered once */
	uint64_t tx_full;    /* tx only: the device refused them; freed */
};

struct drv_fault_stats {
	struct drv_fault_dir_stats rx, tx;
};

struct drv_fault;

/*
 * Wraps queues 0..n_queues-1 of port_id. Each (queue, direction) draws from
 * its own generator seeded from (seed, queue, direction), so the decisions
 * for a queue depend only on the seed and the packets offered to that queue.
 * Returns the wrapper, or NULL with err (shares above 100% in total, depth
 * out of range, no memory).
 */
struct drv_fault *drv_fault_create(uint16_t port_id, uint16_t n_queues,
				   const struct drv_fault_conf *c, char *err, size_t errlen);

/*
 * Like rte_eth_rx_burst on (port, queue), with faults applied to what the
 * device delivered. Returns up to n mbufs; the caller owns them.
 */
uint16_t drv_fault_rx_burst(struct drv_fault *f, uint16_t queue, struct rte_mbuf **pkts,
			    uint16_t n);

/*
 * Like rte_eth_tx_burst, except that the wrapper takes all n mbufs (returns
 * n): it frees dropped ones, holds reordered ones, and frees (counting
 * tx_full) those the device refused — a lossy link, not a queue. Returns 0
 * (the caller keeps the mbufs) for a queue it does not wrap. n == 0
 * ages held packets; call it on idle loops so they leave.
 */
uint16_t drv_fault_tx_burst(struct drv_fault *f, uint16_t queue, struct rte_mbuf **pkts,
			    uint16_t n);

/* Sends every held TX packet now and makes held RX packets next in line. */
void drv_fault_flush(struct drv_fault *f, uint16_t queue);

/* Sums the counters of all queues into st. */
void drv_fault_stats(const struct drv_fault *f, struct drv_fault_stats *st);

/* Frees every mbuf still held or staged, then the wrapper. NULL is a no-op. */
void drv_fault_destroy(struct drv_fault *f);

#endif /* BULWARK_DRV_H */
