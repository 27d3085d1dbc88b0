/*
 * load_tls.c — bulwark-load's TLS client (socket mode): OpenSSL on the
 * non-blocking sockets of load_sock.c, for the kinds tls465, starttls and
 * handshake. Every session is a full TLS 1.3 handshake (no resumption);
 * the chain is not verified (a lab certificate is self-signed, and what is
 * measured is the handshake), but the type of the server's key can be
 * required (--tls-cert), so a run proves which certificate it measured.
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "load.h"

int load_tls_cert_type(const char *name)
{
	if (strcmp(name, "any") == 0)
		return 0;
	if (strcmp(name, "ecdsa") == 0)
		return EVP_PKEY_EC;
	if (strcmp(name, "rsa") == 0)
		return EVP_PKEY_RSA;
	return -1;
}

SSL_CTX *load_tls_ctx(const struct load_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		goto fail;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION))
		goto fail;
	if (o->tls_groups != NULL && !SSL_CTX_set1_groups_list(ctx, o->tls_groups)) {
		fprintf(stderr, "bulwark-load: --tls-groups %s: not a group list OpenSSL knows\n",
			o->tls_groups);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* a server that closes without close_notify ends the session as a
	 * close, not as an error */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
	return ctx;
fail:
	fprintf(stderr, "bulwark-load: TLS client context: %s\n",
		ERR_reason_error_string(ERR_get_error()));
	SSL_CTX_free(ctx);
	return NULL;
}

SSL *load_tls_new(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL)
		return NULL;
	if (!SSL_set_fd(ssl, fd)) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

/* Maps SSL_get_error(ssl, r) to -1 with errno, *out for WANT_WRITE. */
static long io_error(SSL *ssl, int r, int *out)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*out = 0;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*out = 1;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (errno == 0 || errno == EPIPE)
			errno = ECONNRESET;
		return -1;
	default:
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

int load_tls_handshake(const struct load_opts *o, SSL *ssl, int *out)
{
	int r = SSL_do_handshake(ssl);
	EVP_PKEY *key;

	if (r != 1) {
		errno = 0;
		if (io_error(ssl, r, out) < 0 && errno == EAGAIN)
			return 0;
		return -1;
	}
	if (o->tls_cert == 0)
		return 1;
	key = SSL_get0_peer_certificate(ssl) ? X509_get0_pubkey(SSL_get0_peer_certificate(ssl))
					     : NULL;
	return key != NULL && EVP_PKEY_get_base_id(key) == o->tls_cert ? 1 : -1;
}

long load_tls_send(SSL *ssl, const void *d, uint32_t n, int *out)
{
	int r;

	errno = 0;
	r = SSL_write(ssl, d, (int)n);
	return r > 0 ? r : io_error(ssl, r, out);
}

long load_tls_recv(SSL *ssl, void *d, uint32_t n, int *out)
{
	int r;

	errno = 0;
	r = SSL_read(ssl, d, (int)n);
	return r > 0 ? r : io_error(ssl, r, out);
}

void load_tls_free(SSL *ssl)
{
	if (SSL_is_init_finished(ssl))
		SSL_shutdown(ssl);
	ERR_clear_error();
	SSL_free(ssl);
}
