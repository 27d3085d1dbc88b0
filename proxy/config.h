/*
 * config.h — Bulwark's configuration: one libconfig file, parsed and fully
 * validated at startup into struct cfg (prefix cfg_).
 *
 * Every key is documented in config/bulwark.conf; defaults are those of
 * ../shared/DESIGN.md §3. Validation is strict: wrong types, values out of
 * range, unknown keys (a typo is never ignored), missing required keys, bad
 * addresses and contradictions (require_tls on a public MX, ...) all fail
 * with one message "FILE:LINE: KEY: what is wrong", KEY being the full path
 * ("ports[0].address", "smtp.max_rcpts").
 *
 * struct cfg is one flat object without pointers into libconfig: it can be
 * copied, and freed with free() or kept on the stack (it is ~35 KiB).
 * Addresses are IPv4 in network byte order (IPv6 comes later: the string
 * keys stay the same).
 */
#ifndef BULWARK_CONFIG_H
#define BULWARK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CFG_ERR_MAX       512 /* a good size for err buffers */
#define CFG_EAL_ARGS_MAX  64
#define CFG_EAL_ARG_LEN   256
#define CFG_PORTS_MAX     8
#define CFG_LISTENERS_MAX 16
#define CFG_RELAYS_MAX    16 /* relay.lcores */
#define CFG_BACKENDS_MAX  64
#define CFG_SESSIONS_MAX  (16u << 20) /* limits.sessions (struct sess.line holds one more) */
#define CFG_NAME_MAX      32
#define CFG_PATH_MAX      256
#define CFG_HOST_MAX      256
#define CFG_AUTH_MAX      128 /* "PLAIN LOGIN ..." */
#define CFG_RSS_KEY_MAX   64
#define CFG_PROXY_FROM_MAX 16 /* listeners[].proxy_from entries */

/* A feature the hardware may or may not have. */
enum cfg_tri {
	CFG_AUTO = 0, /* "auto": use it when the device has it */
	CFG_OFF,      /* false */
	CFG_ON,       /* true: required, startup fails without it */
};

enum cfg_rss_hash {
	CFG_RSS_L4 = 0,   /* "l4": addresses and ports */
	CFG_RSS_SRC_L4,   /* "src-l4": source address and port */
	CFG_RSS_SRC_ADDR, /* "src-addr": source address only */
};

enum cfg_tls_mode {
	CFG_TLS_NONE = 0, /* "none" */
	CFG_TLS_STARTTLS, /* "starttls" */
	CFG_TLS_IMPLICIT, /* "implicit" (465) */
};

enum cfg_proxy_proto {
	CFG_PROXY_NONE = 0, /* "none" */
	CFG_PROXY_V1,       /* "v1" */
	CFG_PROXY_V2,       /* "v2" */
};

enum cfg_balance {
	CFG_BALANCE_RR = 0,   /* "round-robin" (weighted) */
	CFG_BALANCE_LEASTCONN /* "least-connections" */
};

enum cfg_syncookies {
	CFG_SYNCOOKIES_NEVER = 0, /* "never" */
	CFG_SYNCOOKIES_AUTO,      /* "auto": when the half-open table is full */
	CFG_SYNCOOKIES_ALWAYS,    /* "always" */
};

/* struct cfg_smtp.caps */
#define CFG_CAP_SIZE                0x01u
#define CFG_CAP_PIPELINING          0x02u
#define CFG_CAP_8BITMIME            0x04u
#define CFG_CAP_ENHANCEDSTATUSCODES 0x08u
#define CFG_CAP_SMTPUTF8            0x10u

struct cfg_eal {
	uint32_t argc; /* not counting argv[0], which the program adds */
	char argv[CFG_EAL_ARGS_MAX][CFG_EAL_ARG_LEN];
};

/* Fault injection on a port (tests): shares in parts per million. */
struct cfg_fault_dir {
	uint32_t drop_ppm, reorder_ppm, dup_ppm;
};

struct cfg_fault {
	uint8_t enabled; /* the port has a fault { } group */
	uint64_t seed;
	uint16_t depth;
	struct cfg_fault_dir rx, tx;
};

struct cfg_port {
	char name[CFG_NAME_MAX];
	char devargs[CFG_PATH_MAX];
	uint32_t addr;    /* network order */
	uint8_t prefix;   /* 1..32 */
	uint32_t gateway; /* network order, 0: none */
	uint16_t mtu;
	uint8_t rss;         /* enum cfg_tri */
	uint8_t rss_hash;    /* enum cfg_rss_hash */
	uint8_t rss_key_len; /* 0: the symmetric key */
	uint8_t rss_key[CFG_RSS_KEY_MAX];
	uint8_t csum_offload; /* enum cfg_tri */
	uint16_t rx_desc, tx_desc;
	uint32_t mbufs; /* per pool */
	uint16_t mbuf_cache;
	uint8_t pool_per_queue;
	uint8_t promiscuous;
	uint32_t link_wait_ms;
	struct cfg_fault fault;
	unsigned line;
};

struct cfg_listener {
	uint16_t port;
	uint32_t addr; /* network order, 0: every port address */
	uint8_t tls;   /* enum cfg_tls_mode */
	uint8_t require_tls;
	uint8_t public_mx;
	char auth[CFG_AUTH_MAX]; /* mechanisms, space-separated; "" = no AUTH */
	char cert[CFG_PATH_MAX]; /* "" = tls.cert */
	char key[CFG_PATH_MAX];  /* "" = tls.key */
	/* accept_proxy (issue 7): a PROXY v1/v2 header first, from these
	 * sources only (host-order ranges), within proxy_timeout_ms */
	uint8_t accept_proxy;
	uint8_t n_proxy_from;
	struct {
		uint32_t lo, hi;
	} proxy_from[CFG_PROXY_FROM_MAX];
	uint32_t proxy_timeout_ms;
	unsigned line;
};

struct cfg_workers {
	uint16_t count;
	uint16_t burst;
	uint8_t idle_backoff; /* idle_backoff.enabled */
	uint32_t empty_polls; /* idle_backoff.empty_polls */
	uint32_t sleep_us;    /* idle_backoff.sleep_us */
};

/* Per worker unless said otherwise; the names of struct net_cfg. */
struct cfg_limits {
	uint32_t sessions, half_open, time_wait, time_wait_ms, linger_ms;
	uint32_t buffers, buffer_size, ooo_segments, ooo_bytes;
	uint32_t arp_entries, arp_ttl_ms;
	uint32_t rto_initial_ms, rto_min_ms, rto_max_ms, retransmits, synack_retries;
	uint32_t challenge_acks_per_s;
	uint8_t syncookies;          /* enum cfg_syncookies */
	uint32_t syncookie_rotate_s; /* cookie secret lifetime, >= 128 (net_cookie_rotate) */
	uint32_t drain_ms;           /* whole process */
	uint32_t session_mem;        /* relay bytes buffered per session (issue 4) */
	uint32_t line_buffers;       /* work areas (sess.h); 0: cfg_line_buffers() picks */
	uint32_t auth_line_buffers;  /* AUTH listeners' work areas; 0: cfg_auth_line_buffers() */
	/* memory-pressure shedding (issue 7, worker.c): percent of the
	 * fullest of session pool, mbuf pool and relay message pool */
	uint8_t shed_at, shed_critical_at;
	uint32_t shed_timeout_ms; /* greet wait / command timeout while shedding */
};

/* Work areas per worker: limits.line_buffers, or when 0
 * max(64, sessions / 8); never more than sessions. */
uint32_t cfg_line_buffers(const struct cfg_limits *l);

/* Work areas per worker for the sessions of listeners that offer AUTH
 * (12288-octet lines, RFC 4954 §4): limits.auth_line_buffers, or when 0
 * max(16, sessions / 64); never more than sessions. The daemon makes none
 * when no listener offers AUTH. */
uint32_t cfg_auth_line_buffers(const struct cfg_limits *l);

struct cfg_smtp {
	char hostname[CFG_HOST_MAX];
	uint32_t greet_wait_ms;
	uint8_t greet_teaser;
	uint32_t error_limit;
	uint32_t cmd_timeout_ms, data_timeout_ms, dot_timeout_ms, session_max_ms;
	uint32_t max_rcpts, max_msgs;
	uint64_t size_max;
	uint32_t caps;       /* CFG_CAP_* */
	uint8_t data_policy; /* 0 "reject", 1 "normalize" */
	uint32_t max_data_line;
	char simd[16]; /* "auto", "scalar", "sse42", "avx2", "avx512" */
};

enum cfg_tls_verify {
	CFG_TLS_VERIFY_NONE = 0, /* "none": encrypt, do not authenticate */
	CFG_TLS_VERIFY_CA,       /* "ca": chain against tls_ca, name tls_name */
};

struct cfg_backend {
	char name[CFG_NAME_MAX];
	uint32_t addr; /* network order */
	uint16_t port;
	uint16_t weight;
	uint32_t max_conns;
	uint8_t proxy_protocol; /* enum cfg_proxy_proto */
	uint8_t xclient;
	uint8_t tls; /* CFG_TLS_NONE or CFG_TLS_STARTTLS */
	/* With tls = "starttls": verification of the backend's certificate
	 * (enum cfg_tls_verify; the config's default is "ca"), the trusted CAs
	 * ("" = the system's store) and the name to match and send as SNI
	 * ("" = match the backend's address, send no SNI). */
	uint8_t tls_verify;
	char tls_ca[CFG_PATH_MAX];
	char tls_name[CFG_PATH_MAX];
	unsigned line;
};

struct cfg_relay {
	uint16_t lcores;
	uint32_t ring_size;
	uint8_t balance; /* enum cfg_balance */
	uint32_t connect_timeout_ms, reply_timeout_ms;
	uint32_t health_interval_ms, health_timeout_ms, health_fall, health_rise;
};

struct cfg_tls {
	char cert[CFG_PATH_MAX]; /* PEM chain, "" = none */
	char key[CFG_PATH_MAX];
	uint32_t handshake_timeout_ms;
	uint32_t max_handshakes; /* per worker */
	uint8_t min_version;     /* 12 or 13 */
};

/* Observability (config_obs.c; docs/architecture.md "Observability"). */
enum cfg_log_target { CFG_LOG_STDERR = 0, CFG_LOG_SYSLOG };

struct cfg_metrics {
	uint32_t addr; /* network order; metrics.listen "" leaves port 0: off */
	uint16_t port; /* 0: no /metrics endpoint */
	uint32_t max_clients;
	uint32_t timeout_s;
};

struct cfg_log {
	uint8_t target;   /* enum cfg_log_target */
	uint8_t sessions; /* one line per relayed session */
	uint32_t junk_interval_s;
	uint32_t junk_samples; /* client addresses per summary */
};

enum cfg_limit_action {
	CFG_LIMIT_REPLY = 0, /* "reply": 421 4.7.0 and close */
	CFG_LIMIT_DROP,      /* "drop": the SYN is dropped silently */
};

/* client_limits: per client address, per worker (0 = off); reloadable
 * except table_size (config_limits.c). */
struct cfg_client_limits {
	uint32_t sessions, rate, errors_per_min;
	uint8_t action; /* enum cfg_limit_action */
	uint32_t table_size;
};

/* lists: CIDR files (cidr.h), "" = none; reloadable. */
struct cfg_lists {
	char allow[CFG_PATH_MAX];
	char deny[CFG_PATH_MAX];
	uint32_t max_entries; /* per file */
};

struct cfg {
	char file[CFG_PATH_MAX];
	struct cfg_eal eal;
	uint32_t n_ports;
	struct cfg_port ports[CFG_PORTS_MAX];
	uint32_t n_listeners;
	struct cfg_listener listeners[CFG_LISTENERS_MAX];
	struct cfg_workers workers;
	struct cfg_limits limits;
	struct cfg_smtp smtp;
	struct cfg_relay relay;
	uint32_t n_backends;
	struct cfg_backend backends[CFG_BACKENDS_MAX];
	struct cfg_tls tls;
	struct cfg_metrics metrics;
	struct cfg_log log;
	struct cfg_client_limits client_limits;
	struct cfg_lists lists;
};

/* Fills c with every default (no ports, no listeners, no backends). */
void cfg_defaults(struct cfg *c);

/*
 * Reads and validates the file at path into c (defaults first). Returns 0,
 * or -EINVAL (invalid), -ENOENT/-EACCES/-EIO (cannot read) with err holding
 * one line "FILE:LINE: KEY: problem".
 */
int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);

/* The same for text in memory; name stands for the file in messages. */
int cfg_load_string(struct cfg *c, const char *text, const char *name, char *err, size_t errlen);

/* Name of an enum value as written in the file ("starttls", "v2", ...). */
const char *cfg_tls_name(uint8_t mode);

struct smtp_cfg;
struct scan_kernels;

/*
 * Fills an SMTP core configuration for listener l from c (config_smtp.c,
 * which links the core): smtp_cfg_defaults, then c->smtp, the listener's
 * TLS/AUTH facts, then smtp_cfg_init. scan: NULL picks kernels from
 * c->smtp.simd. Returns 0 or -errno with err naming the key.
 */
int cfg_smtp_fill(const struct cfg *c, const struct cfg_listener *l,
		  const struct scan_kernels *scan, struct smtp_cfg *out, char *err, size_t errlen);

#endif /* BULWARK_CONFIG_H */
