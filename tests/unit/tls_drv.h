/*
 * tls_drv.h — the harness of test_tls.c and bench/tls.c: throwaway
 * certificates made with the openssl CLI, and an in-process OpenSSL
 * client (its own memory BIOs) wired to a tls_conn, with the bytes moved
 * between them by the harness, one-shot or byte by byte.
 *
 * Allocation accounting: when td_cli / td_srv arenas are given, every
 * client call runs with the client's arena selected and every tls_conn
 * call with the server's, so the server's arena counts the server alone.
 */
#ifndef BULWARK_TLS_DRV_H
#define BULWARK_TLS_DRV_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "tls.h"

/* Certificates: ECDSA P-256 and RSA-2048, self-signed, in a temp dir. */
enum { TD_EC = 0, TD_RSA, TD_CERTS };
struct td_certs {
	char dir[64];
	char cert[TD_CERTS][96];
	char key[TD_CERTS][96];
	char junk[96]; /* a file that is not PEM */
};

/* Makes the directory and the files. Returns 0 or -1 (message printed). */
int td_certs_make(struct td_certs *tc);
void td_certs_remove(struct td_certs *tc);

/* A client context: versions min..max (TLS1_x_VERSION), groups ("X25519",
 * "P-256"; NULL: OpenSSL's default), no verification. For versions below
 * TLS 1.2 the security level drops to 0 so the client can offer them. */
SSL_CTX *td_client_ctx(int minv, int maxv, const char *groups);

struct td_pair {
	SSL *c;         /* the client */
	BIO *crb, *cwb; /* its memory BIOs: what it reads, what it wrote */
	struct tls_conn *s;
	uint8_t *c2s; /* client bytes not yet taken by the server */
	size_t c2s_len, c2s_cap;
	int bytewise;                              /* offer the server one byte per tls_conn_rx */
	const struct tls_mem_arena *a_cli, *a_srv; /* NULL: leave as is */
	double srv_ns;                             /* time spent in server calls (when timing) */
	int timing;
};

/* Sets p up (the server session from ctx with lim and st). Returns 0 or
 * -1. */
int td_pair_init(struct td_pair *p, SSL_CTX *cctx, struct tls_ctx *ctx,
		 const struct tls_conn_lim *lim, struct tls_stats *st);
void td_pair_free(struct td_pair *p);

/* Moves bytes both ways once. Returns how many moved. */
size_t td_move(struct td_pair *p);

/* Runs the handshake until both sides finished or one failed (or nothing
 * moves). Returns 0 when both finished, -1 otherwise. */
int td_handshake(struct td_pair *p);

/* Client writes p[0..n) / reads into buf; the server reads or writes via
 * tls_conn. The helpers pump until done or stuck. Return bytes moved. */
size_t td_c2s(struct td_pair *p, const uint8_t *data, size_t n, uint8_t *got, size_t cap);
size_t td_s2c(struct td_pair *p, const uint8_t *data, size_t n, uint8_t *got, size_t cap);

/* Server calls under the server arena and the timer. */
void td_srv_begin(struct td_pair *p);
void td_srv_end(struct td_pair *p);

/* Monotonic nanoseconds. */
double td_now_ns(void);

#endif /* BULWARK_TLS_DRV_H */
