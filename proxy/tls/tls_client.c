/*
 * tls_client.c — TLS client sessions to backend MTAs (contract in
 * tls_client.h).
 *
 * Why it is shaped this way:
 * - The relay's sockets are kernel sockets on epoll, so the session sits
 *   on the socket itself (SSL_set_fd): no queues to size, and OpenSSL's
 *   WANT_READ/WANT_WRITE map straight to epoll interest.
 * - SSL_OP_IGNORE_UNEXPECTED_EOF: a backend that closes without a
 *   close_notify is simply closed, as over plaintext; SMTP frames its own
 *   replies, so a truncated reply is caught by the reply parser.
 * - Partial writes and a moving write buffer are allowed: the relay
 *   writes from its queue's head object, which stays put until written.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_client.h"

#define TLS_CLI_CIPHERS12                                                                          \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_CLI_GROUPS "X25519:P-256:P-384"

struct tls_cctx {
	SSL_CTX *ssl;
};

struct tls_cli {
	SSL *ssl;
	int want;
	char reason[160];
};

static void cctx_err(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_peek_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;

	if (errlen)
		snprintf(err, errlen, "%s%s%s: %s", what, path ? " " : "", path ? path : "",
			 why ? why : "OpenSSL error");
	ERR_clear_error();
}

int tls_cctx_new(const struct tls_cctx_conf *conf, struct tls_cctx **out, char *err, size_t errlen)
{
	struct tls_cctx *ctx;
	SSL_CTX *s;
	int has_ca = conf->ca && conf->ca[0];

	*out = NULL;
	ERR_clear_error();
	if (conf->verify == TLS_CLI_VERIFY_CA && has_ca && access(conf->ca, R_OK)) {
		int e = errno;

		if (errlen)
			snprintf(err, errlen, "tls_ca %s: %s", conf->ca, strerror(e));
		return -e;
	}
	ctx = OPENSSL_zalloc(sizeof(*ctx));
	if (!ctx)
		goto nomem;
	s = SSL_CTX_new(TLS_client_method());
	if (!s) {
		OPENSSL_free(ctx);
		goto nomem;
	}
	ctx->ssl = s;
	if (!SSL_CTX_set_min_proto_version(s, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(s, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(s, TLS_CLI_CIPHERS12) ||
	    !SSL_CTX_set1_groups_list(s, TLS_CLI_GROUPS)) {
		cctx_err(err, errlen, "TLS client policy", NULL);
		tls_cctx_free(ctx);
		return -EPROTO;
	}
	SSL_CTX_set_options(s, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET |
				   SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(s, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
				SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
	if (conf->verify == TLS_CLI_VERIFY_CA) {
		int ok = has_ca ? SSL_CTX_load_verify_file(s, conf->ca)
				: SSL_CTX_set_default_verify_paths(s);

		if (ok != 1) {
			cctx_err(err, errlen, has_ca ? "tls_ca" : "the system's CA store",
				 has_ca ? conf->ca : NULL);
			tls_cctx_free(ctx);
			return -EPROTO;
		}
		/* A file OpenSSL reads without error may still hold no
		 * certificate at all (a key, an empty file). */
		if (has_ca) {
			X509_STORE *st = SSL_CTX_get_cert_store(s);
			STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(st);

			if (!objs || sk_X509_OBJECT_num(objs) == 0) {
				if (errlen)
					snprintf(err, errlen, "tls_ca %s: no certificate in it",
						 conf->ca);
				tls_cctx_free(ctx);
				return -EPROTO;
			}
		}
		SSL_CTX_set_verify(s, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(s, SSL_VERIFY_NONE, NULL);
	}
	*out = ctx;
	return 0;
nomem:
	if (errlen)
		snprintf(err, errlen, "out of memory for a TLS client context");
	return -ENOMEM;
}

void tls_cctx_free(struct tls_cctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl);
	OPENSSL_free(ctx);
}

struct tls_cli *tls_cli_new(struct tls_cctx *ctx, int fd, const char *name, const char *ip)
{
	struct tls_cli *c = OPENSSL_zalloc(sizeof(*c));
	int verify = SSL_CTX_get_verify_mode(ctx->ssl) & SSL_VERIFY_PEER;

	ERR_clear_error();
	if (!c)
		return NULL;
	c->ssl = SSL_new(ctx->ssl);
	if (!c->ssl || !SSL_set_fd(c->ssl, fd))
		goto fail;
	if (name && name[0]) {
		/* RFC 6066 §3: SNI carries a DNS name, never an address. */
		if (!SSL_set_tlsext_host_name(c->ssl, name))
			goto fail;
		if (verify && !SSL_set1_host(c->ssl, name))
			goto fail;
	} else if (verify && ip && ip[0]) {
		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), ip))
			goto fail;
	}
	SSL_set_connect_state(c->ssl);
	return c;
fail:
	ERR_clear_error();
	tls_cli_free(c);
	return NULL;
}

void tls_cli_free(struct tls_cli *c)
{
	if (!c)
		return;
	SSL_free(c->ssl);
	OPENSSL_free(c);
}

/* Maps OpenSSL's verdict on the last call that returned rc <= 0. */
static long cli_result(struct tls_cli *c, int rc, int eof_ok)
{
	int e = SSL_get_error(c->ssl, rc);
	unsigned long q;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		c->want = TLS_CLI_WANT_READ;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->want = TLS_CLI_WANT_WRITE;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		if (eof_ok)
			return 0;
		snprintf(c->reason, sizeof(c->reason), "peer closed");
		return -EPIPE;
	case SSL_ERROR_SYSCALL:
		snprintf(c->reason, sizeof(c->reason), "socket: %s",
			 errno ? strerror(errno) : "EOF");
		ERR_clear_error();
		if (eof_ok && !errno)
			return 0;
		return -ECONNRESET;
	default:
		q = ERR_peek_error();
		if (SSL_get_verify_result(c->ssl) != X509_V_OK)
			snprintf(c->reason, sizeof(c->reason), "certificate verify failed: %s",
				 X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
		else
			snprintf(c->reason, sizeof(c->reason), "%s",
				 q ? ERR_reason_error_string(q) : "TLS error");
		ERR_clear_error();
		return -EPROTO;
	}
}

int tls_cli_handshake(struct tls_cli *c)
{
	int rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(c->ssl);
	if (rc == 1)
		return 0;
	return (int)cli_result(c, rc, 0);
}

long tls_cli_read(struct tls_cli *c, void *buf, size_t cap)
{
	size_t got = 0;
	int rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_read_ex(c->ssl, buf, cap, &got);
	if (rc == 1)
		return (long)got;
	return cli_result(c, 0, 1);
}

long tls_cli_write(struct tls_cli *c, const void *p, size_t n)
{
	size_t put = 0;
	int rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_write_ex(c->ssl, p, n, &put);
	if (rc == 1)
		return (long)put;
	rc = (int)cli_result(c, 0, 0);
	return rc == 0 ? -EPIPE : rc;
}

int tls_cli_want(const struct tls_cli *c)
{
	return c->want;
}

void tls_cli_close(struct tls_cli *c)
{
	if (!c || !SSL_is_init_finished(c->ssl))
		return;
	ERR_clear_error();
	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
}

const char *tls_cli_reason(const struct tls_cli *c)
{
	return c->reason[0] ? c->reason : "unknown";
}

const char *tls_cli_version(const struct tls_cli *c)
{
	return SSL_is_init_finished(c->ssl) ? SSL_get_version(c->ssl) : NULL;
}

const char *tls_cli_cipher(const struct tls_cli *c)
{
	return SSL_is_init_finished(c->ssl) ? SSL_get_cipher_name(c->ssl) : NULL;
}
