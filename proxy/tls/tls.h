/*
 * tls.h — TLS server sessions for the workers: OpenSSL over caller-driven
 * byte queues (STARTTLS per RFC 3207, implicit TLS on 465).
 *
 * Driven like the core: no sockets, no I/O, no clock, no logging.
 * Ciphertext comes in through tls_conn_rx() and leaves through
 * tls_conn_tx()/tls_conn_tx_done(); plaintext leaves through
 * tls_conn_peek()/tls_conn_read() and enters through tls_conn_write().
 * Deadlines (the handshake timeout) and the cap on concurrent handshakes
 * belong to the caller; struct tls_stats gives it the live count.
 *
 * Protocol policy (one struct tls_ctx per listener configuration): TLS 1.2
 * (RFC 5246) and 1.3 (RFC 8446) only, min version from the config; ECDHE
 * with AEAD ciphers only in 1.2; groups X25519, P-256, P-384; the server's
 * cipher order wins; renegotiation refused (SSL_OP_NO_RENEGOTIATION: a
 * TLS 1.2 client's ClientHello after the handshake gets a no_renegotiation
 * warning alert, RFC 5246 §7.2.2); no compression; no ALPN; no client
 * certificates; no resumption: no session cache, no tickets (RFC 8446
 * §4.6.1 tickets need a key shared by every worker and box, rotated —
 * left for later), so every handshake is a full one.
 *
 * Threads: a tls_ctx is shared by all workers (tls_conn_new may run on any
 * thread concurrently with tls_ctx_reload on the control thread). A
 * tls_conn belongs to one thread. OpenSSL's per-thread error queue is
 * cleared by every call here; nothing is logged.
 */
#ifndef BULWARK_TLS_H
#define BULWARK_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "tls_mem.h"

struct tls_ctx;
struct tls_conn;

/* ---- Contexts (control plane: startup and SIGHUP) ---------------------- */

struct tls_ctx_conf {
	const char *cert;    /* PEM: leaf certificate first, then the chain */
	const char *key;     /* PEM private key matching cert */
	uint8_t min_version; /* 12 (TLS 1.2) or 13 (TLS 1.3) */
};

/*
 * Builds a context from conf (files are read now). Returns 0 and *out, or
 * -EINVAL (bad min_version), -ENOENT/-EACCES (a file cannot be read),
 * -EPROTO (OpenSSL refused a file, or key and certificate do not match),
 * -ENOMEM; then err (if errlen) holds one line naming the file and
 * OpenSSL's reason. The caller owns the context: tls_ctx_free().
 */
int tls_ctx_new(const struct tls_ctx_conf *conf, struct tls_ctx **out, char *err, size_t errlen);

/*
 * SIGHUP: builds a new OpenSSL context from conf and swaps it in for
 * sessions created from now on; live sessions keep the one they started
 * with (OpenSSL's reference), which goes when the last of them does. On
 * error (same codes and message as tls_ctx_new) ctx is unchanged.
 */
int tls_ctx_reload(struct tls_ctx *ctx, const struct tls_ctx_conf *conf, char *err, size_t errlen);

/* How many times ctx was loaded (1 after tls_ctx_new, +1 per reload). */
uint32_t tls_ctx_generation(const struct tls_ctx *ctx);

/* Drops the caller's reference; ctx goes with the last tls_conn made from
 * it. NULL is a no-op. */
void tls_ctx_free(struct tls_ctx *ctx);

/* ---- Counters (owned by the caller: one per worker) -------------------- */

enum tls_fail {
	TLS_FAIL_OTHER = 0,
	TLS_FAIL_VERSION,    /* no common version (SSLv3, TLS 1.0/1.1, below min) */
	TLS_FAIL_NEGOTIATE,  /* no shared cipher, group or signature algorithm */
	TLS_FAIL_RECORD,     /* not TLS, bad record or message, decrypt error */
	TLS_FAIL_PEER_ALERT, /* the client sent a fatal alert */
	TLS_FAIL_LIMIT,      /* the caller's limits (tls_conn_lim) were exceeded */
	TLS_FAIL_NOMEM,      /* OpenSSL could not allocate */
	TLS_FAIL_COUNT
};

struct tls_stats {
	uint64_t started;                /* tls_conn_new calls that succeeded */
	uint64_t done;                   /* handshakes completed */
	uint64_t failed[TLS_FAIL_COUNT]; /* sessions failed, by reason (also
					  * after the handshake) */
	uint64_t peer_closed;            /* close_notify received */
	uint64_t reneg_refused;          /* TLS 1.2 renegotiation attempts */
	uint64_t handshaking;            /* gauge: sessions not yet past the handshake
				 * (neither done, failed nor freed) */
};

/* Name of a failure reason ("version", "record", ...) for logs. */
const char *tls_fail_name(unsigned reason);

/* ---- Sessions (datapath, one thread) ------------------------------------ */

/*
 * Bounds per session, in bytes (STYLE §5: hard limits from the config).
 * rx_cap: received ciphertext waiting to be decrypted; tls_conn_rx takes
 * no more (what it leaves stays in the caller's TCP flow, whose window
 * closes). tx_cap: ciphertext waiting to leave; tls_conn_write takes only
 * what still fits once encrypted, and tls_conn_rx takes nothing while the
 * queue is at the cap (so a peer cannot make us answer without reading).
 * Beyond that only the handshake flight (about the size of the
 * certificate chain) and alerts are queued, and a hard ceiling of
 * tx_cap + rx_cap + 64 KiB fails the session (TLS_FAIL_LIMIT). Plaintext
 * is never buffered here: OpenSSL holds at most one decrypted record
 * (16 KiB, RFC 8446 §5.1). Each at least TLS_CAP_MIN.
 */
#define TLS_CAP_MIN 4096u
struct tls_conn_lim {
	uint32_t rx_cap;
	uint32_t tx_cap;
};

enum tls_state {
	TLS_HANDSHAKE = 0, /* handshake running */
	TLS_OPEN,          /* data both ways */
	TLS_PEER_CLOSED,   /* the client sent close_notify: no more plaintext
			    * will come; tls_conn_close() answers it */
	TLS_CLOSING,       /* tls_conn_close() queued our close_notify */
	TLS_FAILED,        /* fatal error: send tx (the alert, if any), close */
};

/*
 * A server session from ctx (the context current now; the session keeps
 * it across reloads). lim is copied; st is the caller's and must outlive
 * the session. Returns NULL when memory is short or lim is below the
 * minimum. Queues are allocated only while they hold bytes: an idle
 * session holds the SSL object and what OpenSSL keeps per session.
 */
struct tls_conn *tls_conn_new(struct tls_ctx *ctx, const struct tls_conn_lim *lim,
			      struct tls_stats *st);

/* Frees the session, its queues and its reference on the context. Counts
 * nothing (a session freed mid-handshake leaves the gauge). NULL: no-op. */
void tls_conn_free(struct tls_conn *c);

/*
 * Offers received ciphertext p[0..n). Returns how many bytes were taken
 * (copied; the caller drops them from its flow): fewer than n when the rx
 * queue is full or the tx queue is at its cap, 0 after failure or close.
 * Drives the handshake; its replies (and a failed handshake's alert) land
 * in the tx queue, so check tls_conn_tx() after every call. After the
 * handshake nothing is decrypted here: call tls_conn_peek/read next (that
 * is also where the peer's alerts and close_notify show).
 */
size_t tls_conn_rx(struct tls_conn *c, const uint8_t *p, size_t n);

/*
 * Decrypts into buf[0..cap) and consumes it. Returns the plaintext bytes
 * (> 0); 0 when more ciphertext is needed (or the handshake is still
 * running); -EPIPE once the peer sent close_notify (TLS_PEER_CLOSED);
 * -EPROTO on failure (TLS_FAILED: send tx, then close). May queue
 * ciphertext (alerts, TLS 1.3 KeyUpdate replies).
 */
long tls_conn_read(struct tls_conn *c, uint8_t *buf, size_t cap);

/* As tls_conn_read, but the bytes stay to be read again: the caller
 * offers them to the SMTP core, then tls_conn_read()s as many as it took
 * (into a scratch buffer) to consume them. */
long tls_conn_peek(struct tls_conn *c, uint8_t *buf, size_t cap);

/*
 * Encrypts plaintext p[0..n). Returns the bytes taken (all or a prefix:
 * what fits in the tx queue once encrypted; 0 while the handshake runs or
 * the queue is full), -EPIPE after tls_conn_close(), -EPROTO on failure.
 */
long tls_conn_write(struct tls_conn *c, const uint8_t *p, size_t n);

/*
 * Ciphertext waiting to leave: returns a pointer to the first *n bytes
 * (NULL and *n = 0 when none). Valid until the next call on c. The caller
 * sends what it can, then tls_conn_tx_done() with that count.
 */
const uint8_t *tls_conn_tx(const struct tls_conn *c, size_t *n);

/* Drops the first n bytes of the tx queue (n <= what tls_conn_tx gave). */
void tls_conn_tx_done(struct tls_conn *c, size_t n);

/* Bytes waiting in the tx queue. */
size_t tls_conn_tx_pending(const struct tls_conn *c);

/*
 * Queues our close_notify (RFC 8446 §6.1, RFC 5246 §7.2.1) once the
 * handshake is done; we never wait for the peer's. After it: send tx,
 * then close the TCP flow. Returns 0, or -EPROTO when the session
 * failed or never finished its handshake (nothing queued).
 */
int tls_conn_close(struct tls_conn *c);

enum tls_state tls_conn_state(const struct tls_conn *c);

/* The reason the session failed (enum tls_fail), valid in TLS_FAILED. */
unsigned tls_conn_fail(const struct tls_conn *c);

/* Facts for the PROXY v2 SSL TLVs (PP2_SUBTYPE_SSL_VERSION / _CIPHER),
 * valid from TLS_OPEN on, static strings: "TLSv1.3", and OpenSSL's cipher
 * name ("TLS_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256"). NULL
 * before the handshake completed. */
const char *tls_conn_version(const struct tls_conn *c);
const char *tls_conn_cipher(const struct tls_conn *c);

/* The key exchange group's name ("x25519", "prime256v1"), or NULL. */
const char *tls_conn_group(const struct tls_conn *c);

#endif /* BULWARK_TLS_H */
