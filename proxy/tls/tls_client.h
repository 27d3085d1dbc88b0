/*
 * tls_client.h — TLS client sessions for the relay lcores: STARTTLS to a
 * backend MTA (RFC 3207) over the relay's own non-blocking kernel socket.
 *
 * Unlike the workers' server sessions (tls.h, memory BIOs), a client
 * session reads and writes its socket itself (SSL_set_fd): the relay's
 * sockets are kernel sockets on epoll, and OpenSSL's socket BIO is the
 * shortest correct path there. Every call returns at once; -EAGAIN says
 * the session waits for the socket, and tls_cli_want() says for which
 * direction (epoll interest). After -EAGAIN from tls_cli_write, the next
 * write must offer the same bytes again (OpenSSL's rule; the relay's
 * queue head stays put until it is written).
 *
 * Protocol policy (one struct tls_cctx per backend): TLS 1.2 and 1.3 only,
 * ECDHE with AEAD in 1.2, groups X25519, P-256, P-384, no renegotiation,
 * no compression, no session resumption (a full handshake per backend
 * session). Verification (TLS_CLI_VERIFY_CA): the chain against the CA
 * file (or the system's trust store when none is given) and the name:
 * the DNS name given to tls_cli_new (also sent as SNI), else the IP
 * address given (an iPAddress SAN; no SNI: RFC 6066 §3 forbids literal
 * addresses there). TLS_CLI_VERIFY_NONE encrypts without authenticating.
 *
 * Threads: a context may be shared; a session belongs to one thread.
 * Nothing is logged: failures come back with a reason string.
 */
#ifndef BULWARK_TLS_CLIENT_H
#define BULWARK_TLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct tls_cctx;
struct tls_cli;

enum tls_cli_verify {
	TLS_CLI_VERIFY_NONE = 0, /* encrypt only */
	TLS_CLI_VERIFY_CA,       /* chain and name */
};

struct tls_cctx_conf {
	uint8_t verify; /* enum tls_cli_verify */
	const char *ca; /* PEM bundle of trusted CAs; NULL or "": the system's store */
};

/*
 * Builds a client context (the CA file is read now). Returns 0 and *out,
 * or -ENOENT/-EACCES (the CA file cannot be read), -EPROTO (OpenSSL
 * refused it or it holds no certificate), -ENOMEM; err then names the file
 * and OpenSSL's reason. tls_cctx_free() when done.
 */
int tls_cctx_new(const struct tls_cctx_conf *conf, struct tls_cctx **out, char *err, size_t errlen);

/* Frees ctx (sessions made from it hold their own reference). NULL: no-op. */
void tls_cctx_free(struct tls_cctx *ctx);

/*
 * A client session on connected non-blocking socket fd (not owned: the
 * caller closes it after tls_cli_free). name: the DNS name to send as SNI
 * and, when verifying, to match; NULL or "": none, then ip (dotted quad)
 * is matched when verifying. Returns NULL when memory is short.
 */
struct tls_cli *tls_cli_new(struct tls_cctx *ctx, int fd, const char *name, const char *ip);

/* Frees the session; sends nothing (tls_cli_close first for a clean end). */
void tls_cli_free(struct tls_cli *c);

#define TLS_CLI_WANT_READ  1
#define TLS_CLI_WANT_WRITE 2

/* Drives the handshake: 0 once it is done, -EAGAIN (see tls_cli_want),
 * -EPROTO when it failed (tls_cli_reason says why). */
int tls_cli_handshake(struct tls_cli *c);

/* Plaintext into buf[0..cap): bytes (> 0), 0 when the peer closed (its
 * close_notify or a plain EOF), -EAGAIN, or -EPROTO / -ECONNRESET. */
long tls_cli_read(struct tls_cli *c, void *buf, size_t cap);

/* Encrypts and sends p[0..n): bytes taken (> 0, maybe fewer than n),
 * -EAGAIN (offer the same bytes again later), -EPIPE / -EPROTO. */
long tls_cli_write(struct tls_cli *c, const void *p, size_t n);

/* After -EAGAIN: TLS_CLI_WANT_READ or TLS_CLI_WANT_WRITE. */
int tls_cli_want(const struct tls_cli *c);

/* Sends our close_notify if the socket takes it at once (never waits). */
void tls_cli_close(struct tls_cli *c);

/* Why the session failed, a static or session-owned string valid until
 * the next call on c ("certificate verify failed: unable to get local
 * issuer certificate", "wrong version number", ...). */
const char *tls_cli_reason(const struct tls_cli *c);

/* "TLSv1.3" and OpenSSL's cipher name, or NULL before the handshake. */
const char *tls_cli_version(const struct tls_cli *c);
const char *tls_cli_cipher(const struct tls_cli *c);

#endif /* BULWARK_TLS_CLIENT_H */
