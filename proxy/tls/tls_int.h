/*
 * tls_int.h — what tls_ctx.c and tls_conn.c share; nothing outside
 * proxy/tls includes it.
 */
#ifndef BULWARK_TLS_INT_H
#define BULWARK_TLS_INT_H

#include <openssl/bio.h>
#include <openssl/ssl.h>

struct tls_ctx;

/* A new server SSL from ctx's current OpenSSL context (its own reference
 * on it), plus a reference on ctx; NULL when memory is short. */
SSL *tls_ctx_ssl_new(struct tls_ctx *ctx);

/* The BIO method of ctx's sessions (immutable, lives as long as ctx). */
BIO_METHOD *tls_ctx_bio(const struct tls_ctx *ctx);

/* tls_conn.c: the BIO method over a session's queues (the caller frees it
 * with BIO_meth_free), and the SSL info callback that counts refused
 * renegotiations. */
BIO_METHOD *tls_conn_bio_method(void);
void tls_conn_info_cb(const SSL *ssl, int where, int ret);

#endif /* BULWARK_TLS_INT_H */
