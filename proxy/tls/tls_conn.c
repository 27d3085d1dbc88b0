/*
 * tls_conn.c — one TLS server session over byte queues (see tls.h).
 *
 * Why it is shaped this way:
 * - Our own BIO_METHOD over two per-session queues rather than BIO_s_mem:
 *   a memory BIO keeps its BUF_MEM at the high-water mark for the
 *   session's life and grows without a bound of ours. Our queues are
 *   allocated when bytes arrive and freed as soon as they drain, so an
 *   idle session holds no ciphertext buffer at all (with
 *   SSL_MODE_RELEASE_BUFFERS OpenSSL frees its record buffers too), and
 *   the caps are checked where bytes enter. The copy in is the same one a
 *   memory BIO makes; the tx side is handed out in place (tls_conn_tx) so
 *   the caller copies it straight into its TCP send buffer.
 * - The BIO's write never refuses (except at the hard ceiling), so OpenSSL
 *   never sits in a WANT_WRITE state with a half-written record: the
 *   bound is enforced on what enters instead (tls_conn_write takes only
 *   what fits once encrypted; tls_conn_rx takes nothing while tx is at
 *   its cap), and alerts — a failed handshake's included — always land.
 * - Renegotiation (RFC 5246 §7.4.1.2) is refused by OpenSSL itself
 *   (SSL_OP_NO_RENEGOTIATION answers a warning no_renegotiation alert);
 *   the info callback only counts those alerts. TLS 1.3 has none
 *   (RFC 8446 §4.1.2: a ClientHello after the handshake is fatal).
 * - OpenSSL reports through a thread-local error queue: each operation
 *   clears it first and classifies its first entry, so errors never leak
 *   between sessions on a worker.
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#include "tls.h"
#include "tls_int.h"

/* TLS record overhead we allow per 16 KiB of plaintext: AEAD only, so at
 * most 5 (header) + 8 (TLS 1.2 explicit nonce) + 16 (tag) = 29 bytes;
 * TLS 1.3 adds 1 (content type) to 5 + 16. Rounded up. */
#define TLS_REC_OVER  64u
#define TLS_REC_MAX   16384u
#define TLS_HARD_MORE (64u * 1024u)

struct tls_q {
	uint8_t *p; /* NULL while empty */
	uint32_t off, len, cap;
};

struct tls_conn {
	SSL *ssl;
	struct tls_ctx *ctx;
	struct tls_stats *st;
	struct tls_q rx, tx;
	struct tls_conn_lim lim;
	uint8_t state;   /* enum tls_state */
	uint8_t fail;    /* enum tls_fail, in TLS_FAILED */
	uint8_t bio_err; /* TLS_FAIL_LIMIT / TLS_FAIL_NOMEM seen in the BIO */
};

/* ---- Queues ----------------------------------------------------------- */

/* Appends p[0..n); returns 0 or -ENOMEM. */
static int q_push(struct tls_q *q, const void *p, size_t n)
{
	size_t need = (size_t)q->len + n;

	if (q->p != NULL && q->off + need > q->cap && need <= q->cap) {
		memmove(q->p, q->p + q->off, q->len);
		q->off = 0;
	}
	if (q->off + need > q->cap) {
		size_t cap = q->cap ? q->cap : 2048;
		uint8_t *np;

		while (cap < q->off + need)
			cap *= 2;
		np = OPENSSL_realloc(q->p, cap);
		if (np == NULL)
			return -ENOMEM;
		q->p = np;
		q->cap = (uint32_t)cap;
	}
	memcpy(q->p + q->off + q->len, p, n);
	q->len = (uint32_t)need;
	return 0;
}

/* Drops the first n bytes; an emptied queue gives its memory back. */
static void q_pop(struct tls_q *q, size_t n)
{
	q->off += (uint32_t)n;
	q->len -= (uint32_t)n;
	if (q->len == 0) {
		OPENSSL_free(q->p);
		q->p = NULL;
		q->off = q->cap = 0;
	}
}

/* ---- The BIO ------------------------------------------------------------ */

static int bio_read(BIO *b, char *out, size_t outl, size_t *done)
{
	struct tls_conn *c = BIO_get_data(b);
	size_t k = outl < c->rx.len ? outl : c->rx.len;

	BIO_clear_retry_flags(b);
	*done = 0;
	if (k == 0) {
		BIO_set_retry_read(b);
		return 0;
	}
	memcpy(out, c->rx.p + c->rx.off, k);
	q_pop(&c->rx, k);
	*done = k;
	return 1;
}

static int bio_write(BIO *b, const char *in, size_t inl, size_t *done)
{
	struct tls_conn *c = BIO_get_data(b);
	size_t ceiling = (size_t)c->lim.tx_cap + c->lim.rx_cap + TLS_HARD_MORE;

	BIO_clear_retry_flags(b);
	*done = 0;
	if ((size_t)c->tx.len + inl > ceiling) {
		c->bio_err = TLS_FAIL_LIMIT;
		return 0;
	}
	if (q_push(&c->tx, in, inl) != 0) {
		c->bio_err = TLS_FAIL_NOMEM;
		return 0;
	}
	*done = inl;
	return 1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tls_conn *c = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return c ? (long)c->rx.len : 0;
	case BIO_CTRL_WPENDING:
		return c ? (long)c->tx.len : 0;
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

BIO_METHOD *tls_conn_bio_method(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "bulwark-tls");

	if (m == NULL)
		return NULL;
	if (!BIO_meth_set_read_ex(m, bio_read) || !BIO_meth_set_write_ex(m, bio_write) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create)) {
		BIO_meth_free(m);
		return NULL;
	}
	return m;
}

void tls_conn_info_cb(const SSL *ssl, int where, int ret)
{
	struct tls_conn *c = SSL_get_app_data(ssl);

	if (c != NULL && (where & SSL_CB_WRITE_ALERT) && (ret & 0xff) == SSL_AD_NO_RENEGOTIATION)
		c->st->reneg_refused++;
}

/* ---- Errors -------------------------------------------------------------- */

/* The reason an OpenSSL error code stands for. */
static unsigned tls_classify(unsigned long e)
{
	int r = ERR_GET_REASON(e);

	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return TLS_FAIL_OTHER;
	if (r >= SSL_AD_REASON_OFFSET)
		return TLS_FAIL_PEER_ALERT; /* "sslv3/tlsv1 alert ...": theirs */
	switch (r) {
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_UNSUPPORTED_SSL_VERSION:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
		return TLS_FAIL_VERSION;
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_SHARED_GROUPS:
	case SSL_R_NO_SUITABLE_KEY_SHARE:
	case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
	case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
	case SSL_R_NO_CIPHERS_AVAILABLE:
		return TLS_FAIL_NEGOTIATE;
	default:
		/* everything else the SSL library reports is about what the
		 * peer sent: records, messages, extensions, MACs */
		return TLS_FAIL_RECORD;
	}
}

/* The reason behind the errors queued now (the queue is emptied): the
 * SSL library's entry explains; lower layers (providers) only echo it. */
static unsigned tls_queue_reason(void)
{
	unsigned long e, first = 0, ssl = 0;
	int nomem = 0;

	while ((e = ERR_get_error()) != 0) {
		if (first == 0)
			first = e;
		if (ssl == 0 && ERR_GET_LIB(e) == ERR_LIB_SSL)
			ssl = e;
		nomem |= ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE;
	}
	if (nomem)
		return TLS_FAIL_NOMEM;
	return ssl ? tls_classify(ssl) : first ? tls_classify(first) : TLS_FAIL_OTHER;
}

static void tls_failed(struct tls_conn *c, unsigned reason)
{
	if (c->state == TLS_FAILED)
		return;
	if (c->state == TLS_HANDSHAKE)
		c->st->handshaking--;
	c->state = TLS_FAILED;
	c->fail = (uint8_t)reason;
	c->st->failed[reason < TLS_FAIL_COUNT ? reason : TLS_FAIL_OTHER]++;
}

/* After an OpenSSL call returned ret <= 0: returns 0 (wants more bytes),
 * -EPIPE (close_notify received) or -EPROTO (failed). */
static long tls_result(struct tls_conn *c, int ret)
{
	int e = SSL_get_error(c->ssl, ret);
	unsigned reason;

	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		ERR_clear_error();
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		if (c->state == TLS_OPEN) {
			c->state = TLS_PEER_CLOSED;
			c->st->peer_closed++;
		}
		return -EPIPE;
	default:
		reason = tls_queue_reason();
		tls_failed(c, c->bio_err ? c->bio_err : reason);
		return -EPROTO;
	}
}

/* Runs the handshake while it is not done. Returns 0 (done, or waiting
 * for bytes) or -EPROTO. */
static long tls_handshake(struct tls_conn *c)
{
	int ret;

	if (c->state != TLS_HANDSHAKE)
		return c->state == TLS_FAILED ? -EPROTO : 0;
	ERR_clear_error();
	ret = SSL_do_handshake(c->ssl);
	if (ret == 1) {
		c->state = TLS_OPEN;
		c->st->handshaking--;
		c->st->done++;
		return 0;
	}
	if (tls_result(c, ret) == 0)
		return 0;
	/* a close_notify before the handshake finished is a failure too */
	tls_failed(c, TLS_FAIL_PEER_ALERT);
	return -EPROTO;
}

/* ---- Sessions --------------------------------------------------------------- */

struct tls_conn *tls_conn_new(struct tls_ctx *ctx, const struct tls_conn_lim *lim,
			      struct tls_stats *st)
{
	struct tls_conn *c;
	BIO *bio;

	if (lim->rx_cap < TLS_CAP_MIN || lim->tx_cap < TLS_CAP_MIN)
		return NULL;
	c = OPENSSL_zalloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	c->ssl = tls_ctx_ssl_new(ctx);
	if (c->ssl == NULL)
		goto fail_conn;
	c->ctx = ctx; /* tls_ctx_ssl_new took a reference */
	bio = BIO_new(tls_ctx_bio(ctx));
	if (bio == NULL)
		goto fail_ssl;
	BIO_set_data(bio, c);
	SSL_set_bio(c->ssl, bio, bio); /* one reference, the SSL's */
	SSL_set_app_data(c->ssl, c);
	SSL_set_accept_state(c->ssl);
	c->lim = *lim;
	c->st = st;
	c->state = TLS_HANDSHAKE;
	st->started++;
	st->handshaking++;
	return c;

fail_ssl:
	SSL_free(c->ssl);
	tls_ctx_free(ctx);
fail_conn:
	OPENSSL_free(c);
	ERR_clear_error();
	return NULL;
}

void tls_conn_free(struct tls_conn *c)
{
	if (c == NULL)
		return;
	if (c->state == TLS_HANDSHAKE)
		c->st->handshaking--;
	SSL_free(c->ssl);
	OPENSSL_free(c->rx.p);
	OPENSSL_free(c->tx.p);
	tls_ctx_free(c->ctx);
	OPENSSL_free(c);
}

size_t tls_conn_rx(struct tls_conn *c, const uint8_t *p, size_t n)
{
	size_t room;

	if (c->state == TLS_FAILED || c->state == TLS_CLOSING || c->tx.len >= c->lim.tx_cap)
		return 0;
	room = c->lim.rx_cap - c->rx.len;
	if (n > room)
		n = room;
	if (n != 0 && q_push(&c->rx, p, n) != 0) {
		tls_failed(c, TLS_FAIL_NOMEM);
		return 0;
	}
	(void)tls_handshake(c);
	return n;
}

/* SSL_read_ex or SSL_peek_ex into buf. */
static long tls_pull(struct tls_conn *c, uint8_t *buf, size_t cap, int peek)
{
	size_t got = 0;
	int ret;

	if (c->state == TLS_FAILED)
		return -EPROTO;
	if (c->state == TLS_PEER_CLOSED)
		return -EPIPE;
	if (tls_handshake(c) != 0)
		return -EPROTO;
	if (c->state == TLS_HANDSHAKE || cap == 0)
		return 0;
	ERR_clear_error();
	ret = peek ? SSL_peek_ex(c->ssl, buf, cap, &got) : SSL_read_ex(c->ssl, buf, cap, &got);
	if (ret == 1)
		return (long)got;
	return tls_result(c, 0);
}

long tls_conn_read(struct tls_conn *c, uint8_t *buf, size_t cap)
{
	return tls_pull(c, buf, cap, 0);
}

long tls_conn_peek(struct tls_conn *c, uint8_t *buf, size_t cap)
{
	return tls_pull(c, buf, cap, 1);
}

long tls_conn_write(struct tls_conn *c, const uint8_t *p, size_t n)
{
	size_t room, k, done = 0;

	if (c->state == TLS_FAILED)
		return -EPROTO;
	if (c->state == TLS_CLOSING)
		return -EPIPE;
	if (c->state == TLS_HANDSHAKE || c->tx.len >= c->lim.tx_cap)
		return 0;
	/* what fits once every 16 KiB record has its overhead */
	room = c->lim.tx_cap - c->tx.len;
	if (room <= TLS_REC_OVER)
		return 0;
	k = room - TLS_REC_OVER * (room / TLS_REC_MAX + 1);
	if (n < k)
		k = n;
	if (k == 0)
		return 0;
	ERR_clear_error();
	if (SSL_write_ex(c->ssl, p, k, &done) == 1)
		return (long)done;
	return tls_result(c, 0) == -EPROTO ? -EPROTO : 0;
}

const uint8_t *tls_conn_tx(const struct tls_conn *c, size_t *n)
{
	*n = c->tx.len;
	return c->tx.len ? c->tx.p + c->tx.off : NULL;
}

void tls_conn_tx_done(struct tls_conn *c, size_t n)
{
	if (n > c->tx.len)
		n = c->tx.len;
	if (n != 0)
		q_pop(&c->tx, n);
}

size_t tls_conn_tx_pending(const struct tls_conn *c)
{
	return c->tx.len;
}

int tls_conn_close(struct tls_conn *c)
{
	if (c->state == TLS_CLOSING)
		return 0;
	if (c->state != TLS_OPEN && c->state != TLS_PEER_CLOSED)
		return -EPROTO;
	ERR_clear_error();
	/* 0: our close_notify is queued, theirs not awaited; 1: theirs had
	 * come already; < 0 only if the BIO failed */
	if (SSL_shutdown(c->ssl) < 0) {
		tls_failed(c, c->bio_err ? c->bio_err : TLS_FAIL_OTHER);
		ERR_clear_error();
		return -EPROTO;
	}
	c->state = TLS_CLOSING;
	return 0;
}

enum tls_state tls_conn_state(const struct tls_conn *c)
{
	return (enum tls_state)c->state;
}

unsigned tls_conn_fail(const struct tls_conn *c)
{
	return c->fail;
}

const char *tls_conn_version(const struct tls_conn *c)
{
	return c->state == TLS_HANDSHAKE || !SSL_is_init_finished(c->ssl) ? NULL
									  : SSL_get_version(c->ssl);
}

const char *tls_conn_cipher(const struct tls_conn *c)
{
	const SSL_CIPHER *ci;

	if (c->state == TLS_HANDSHAKE || !SSL_is_init_finished(c->ssl))
		return NULL;
	ci = SSL_get_current_cipher(c->ssl);
	return ci ? SSL_CIPHER_get_name(ci) : NULL;
}

const char *tls_conn_group(const struct tls_conn *c)
{
	int nid;

	if (c->state == TLS_HANDSHAKE || !SSL_is_init_finished(c->ssl))
		return NULL;
	nid = SSL_get_negotiated_group(c->ssl);
	return nid > 0 ? OBJ_nid2sn(nid) : NULL;
}
