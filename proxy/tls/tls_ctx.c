/*
 * tls_ctx.c — per-listener TLS contexts (see tls.h for the contract).
 *
 * Why it is shaped this way:
 * - A reload builds a whole new SSL_CTX and swaps one pointer: an SSL_CTX
 *   is effectively immutable once sessions use it, and every SSL holds
 *   its own reference (SSL_new up-refs), so live sessions keep the old
 *   certificate and the old SSL_CTX goes with the last of them.
 * - Workers call SSL_new() on the current SSL_CTX while the control thread
 *   may swap it; a spinlock held for the pointer read and an up-ref keeps
 *   the old one alive across that window (SSL_new itself runs outside
 *   it). It is taken once per TLS session, never sleeps, and costs tens
 *   of nanoseconds next to a handshake's hundreds of microseconds.
 * - Policy choices are in tls.h; the cipher list below is TLS 1.2's only
 *   (TLS 1.3 suites are all AEAD with ephemeral key exchange already):
 *   ECDHE with AES-GCM or ChaCha20-Poly1305, ECDSA before RSA so an ECDSA
 *   certificate is preferred where a chain of each exists.
 * - Tickets off in both versions: SSL_OP_NO_TICKET stops TLS 1.2 tickets,
 *   num_tickets = 0 TLS 1.3's NewSessionTicket messages (which would
 *   otherwise be sent after every handshake, RFC 8446 §4.6.1).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"
#include "tls_int.h"

struct tls_ctx {
	pthread_spinlock_t lock; /* guards cur across SSL_new */
	SSL_CTX *cur;
	BIO_METHOD *bio;
	atomic_uint refs;
	atomic_uint gen;
};

#define TLS_CIPHERS12                                                                              \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS "X25519:P-256:P-384"

/* Writes "what path: OpenSSL's reason" into err and clears the queue. The
 * first entry is the root cause ("no start line", "bad base64 decode");
 * the SSL library's own ("PEM lib") only repeats that it failed. */
static void tls_err(char *err, size_t errlen, const char *what, const char *path)
{
	const char *data = NULL;
	int flags = 0;
	unsigned long e = ERR_peek_error_all(NULL, NULL, NULL, &data, &flags);
	const char *why = e ? ERR_reason_error_string(e) : NULL;

	if (!(flags & ERR_TXT_STRING) || data == NULL)
		data = "";
	if (errlen != 0)
		snprintf(err, errlen, "%s%s%s: %s%s%s%s", what, path ? " " : "", path ? path : "",
			 why ? why : "OpenSSL error", data[0] ? " (" : "", data,
			 data[0] ? ")" : "");
	ERR_clear_error();
}

/* Returns 0 when path can be read, else -errno with err set. */
static int tls_readable(const char *what, const char *path, char *err, size_t errlen)
{
	int e;

	if (path == NULL || path[0] == '\0') {
		if (errlen != 0)
			snprintf(err, errlen, "%s: no file configured", what);
		return -ENOENT;
	}
	if (access(path, R_OK) == 0)
		return 0;
	e = errno;
	if (errlen != 0)
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
	return -e;
}

/* Builds an SSL_CTX from conf. Returns 0 and *out, or -errno with err. */
static int tls_ssl_ctx(const struct tls_ctx_conf *conf, SSL_CTX **out, char *err, size_t errlen)
{
	SSL_CTX *s;
	int rc, minv;

	ERR_clear_error();
	if (conf->min_version != 12 && conf->min_version != 13) {
		if (errlen != 0)
			snprintf(err, errlen, "min_version %u: not 12 or 13", conf->min_version);
		return -EINVAL;
	}
	minv = conf->min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
	if ((rc = tls_readable("cert", conf->cert, err, errlen)) != 0 ||
	    (rc = tls_readable("key", conf->key, err, errlen)) != 0)
		return rc;
	s = SSL_CTX_new(TLS_server_method());
	if (s == NULL) {
		tls_err(err, errlen, "SSL_CTX_new", NULL);
		return -ENOMEM;
	}
	if (!SSL_CTX_set_min_proto_version(s, minv) ||
	    !SSL_CTX_set_max_proto_version(s, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(s, TLS_CIPHERS12) ||
	    !SSL_CTX_set1_groups_list(s, TLS_GROUPS) || !SSL_CTX_set_num_tickets(s, 0)) {
		tls_err(err, errlen, "TLS policy", NULL);
		SSL_CTX_free(s);
		return -EPROTO;
	}
	SSL_CTX_set_options(s, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
				   SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	/* buffers go back while idle; writes may stop mid-buffer (we bound
	 * them ourselves) and resume from another address */
	SSL_CTX_set_mode(s, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
				SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(s, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_info_callback(s, tls_conn_info_cb);
	if (SSL_CTX_use_certificate_chain_file(s, conf->cert) != 1) {
		tls_err(err, errlen, "cert", conf->cert);
		SSL_CTX_free(s);
		return -EPROTO;
	}
	if (SSL_CTX_use_PrivateKey_file(s, conf->key, SSL_FILETYPE_PEM) != 1) {
		tls_err(err, errlen, "key", conf->key);
		SSL_CTX_free(s);
		return -EPROTO;
	}
	if (SSL_CTX_check_private_key(s) != 1) {
		ERR_clear_error();
		if (errlen != 0)
			snprintf(err, errlen, "key %s does not match cert %s", conf->key,
				 conf->cert);
		SSL_CTX_free(s);
		return -EPROTO;
	}
	*out = s;
	return 0;
}

int tls_ctx_new(const struct tls_ctx_conf *conf, struct tls_ctx **out, char *err, size_t errlen)
{
	struct tls_ctx *ctx;
	int rc;

	*out = NULL;
	ctx = OPENSSL_zalloc(sizeof(*ctx));
	if (ctx == NULL)
		return -ENOMEM;
	rc = tls_ssl_ctx(conf, &ctx->cur, err, errlen);
	if (rc != 0)
		goto fail_ctx;
	ctx->bio = tls_conn_bio_method();
	if (ctx->bio == NULL) {
		rc = -ENOMEM;
		goto fail_ssl;
	}
	if (pthread_spin_init(&ctx->lock, PTHREAD_PROCESS_PRIVATE) != 0) {
		rc = -ENOMEM;
		goto fail_bio;
	}
	atomic_init(&ctx->refs, 1);
	atomic_init(&ctx->gen, 1);
	*out = ctx;
	return 0;

fail_bio:
	BIO_meth_free(ctx->bio);
fail_ssl:
	SSL_CTX_free(ctx->cur);
fail_ctx:
	if (rc == -ENOMEM && errlen != 0)
		snprintf(err, errlen, "out of memory");
	OPENSSL_free(ctx);
	return rc;
}

int tls_ctx_reload(struct tls_ctx *ctx, const struct tls_ctx_conf *conf, char *err, size_t errlen)
{
	SSL_CTX *s, *old;
	int rc = tls_ssl_ctx(conf, &s, err, errlen);

	if (rc != 0)
		return rc;
	pthread_spin_lock(&ctx->lock);
	old = ctx->cur;
	ctx->cur = s;
	pthread_spin_unlock(&ctx->lock);
	atomic_fetch_add(&ctx->gen, 1);
	SSL_CTX_free(old); /* ours only: live sessions hold their own */
	return 0;
}

uint32_t tls_ctx_generation(const struct tls_ctx *ctx)
{
	return atomic_load(&ctx->gen);
}

void tls_ctx_free(struct tls_ctx *ctx)
{
	if (ctx == NULL || atomic_fetch_sub(&ctx->refs, 1) != 1)
		return;
	SSL_CTX_free(ctx->cur);
	BIO_meth_free(ctx->bio);
	pthread_spin_destroy(&ctx->lock);
	OPENSSL_free(ctx);
}

SSL *tls_ctx_ssl_new(struct tls_ctx *ctx)
{
	SSL *ssl;
	SSL_CTX *s;

	pthread_spin_lock(&ctx->lock);
	s = ctx->cur;
	SSL_CTX_up_ref(s);
	pthread_spin_unlock(&ctx->lock);
	ssl = SSL_new(s);
	SSL_CTX_free(s); /* the SSL holds its own reference now */
	if (ssl != NULL)
		atomic_fetch_add(&ctx->refs, 1);
	return ssl;
}

BIO_METHOD *tls_ctx_bio(const struct tls_ctx *ctx)
{
	return ctx->bio;
}

const char *tls_fail_name(unsigned reason)
{
	static const char *const names[TLS_FAIL_COUNT] = {
		[TLS_FAIL_OTHER] = "other",           [TLS_FAIL_VERSION] = "version",
		[TLS_FAIL_NEGOTIATE] = "negotiate",   [TLS_FAIL_RECORD] = "record",
		[TLS_FAIL_PEER_ALERT] = "peer_alert", [TLS_FAIL_LIMIT] = "limit",
		[TLS_FAIL_NOMEM] = "nomem",
	};

	return reason < TLS_FAIL_COUNT ? names[reason] : "other";
}
