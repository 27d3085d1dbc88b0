/*
 * tls_drv.c — see tls_drv.h. Test harness code: it may print and abort.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tls_drv.h"

double td_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int td_certs_make(struct td_certs *tc)
{
	static const char *const newkey[TD_CERTS] = { "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
						      "-newkey rsa:2048" };
	static const char *const name[TD_CERTS] = { "ec", "rsa" };
	char cmd[512];
	FILE *f;

	snprintf(tc->dir, sizeof(tc->dir), "/tmp/bulwark-tls-XXXXXX");
	if (mkdtemp(tc->dir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	for (int i = 0; i < TD_CERTS; i++) {
		snprintf(tc->cert[i], sizeof(tc->cert[i]), "%s/%s.pem", tc->dir, name[i]);
		snprintf(tc->key[i], sizeof(tc->key[i]), "%s/%s.key", tc->dir, name[i]);
		snprintf(cmd, sizeof(cmd),
			 "openssl req -x509 %s -nodes -keyout %s -out %s -days 2 "
			 "-subj /CN=bulwark.test >/dev/null 2>&1",
			 newkey[i], tc->key[i], tc->cert[i]);
		if (system(cmd) != 0) {
			fprintf(stderr, "failed: %s\n", cmd);
			return -1;
		}
	}
	snprintf(tc->junk, sizeof(tc->junk), "%s/junk.pem", tc->dir);
	f = fopen(tc->junk, "w");
	if (f == NULL)
		return -1;
	fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", f);
	fclose(f);
	return 0;
}

void td_certs_remove(struct td_certs *tc)
{
	for (int i = 0; i < TD_CERTS; i++) {
		unlink(tc->cert[i]);
		unlink(tc->key[i]);
	}
	unlink(tc->junk);
	rmdir(tc->dir);
}

SSL_CTX *td_client_ctx(int minv, int maxv, const char *groups)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	if (c == NULL)
		abort();
	if (minv < TLS1_2_VERSION) {
		SSL_CTX_set_security_level(c, 0);
		SSL_CTX_set_cipher_list(c, "DEFAULT:@SECLEVEL=0");
	}
	SSL_CTX_set_min_proto_version(c, minv);
	SSL_CTX_set_max_proto_version(c, maxv);
	if (groups != NULL && !SSL_CTX_set1_groups_list(c, groups))
		abort();
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	return c;
}

void td_srv_begin(struct td_pair *p)
{
	if (p->a_srv != NULL)
		tls_mem_arena_use(p->a_srv);
	if (p->timing)
		p->srv_ns -= td_now_ns();
}

void td_srv_end(struct td_pair *p)
{
	if (p->timing)
		p->srv_ns += td_now_ns();
	if (p->a_cli != NULL)
		tls_mem_arena_use(p->a_cli);
}

int td_pair_init(struct td_pair *p, SSL_CTX *cctx, struct tls_ctx *ctx,
		 const struct tls_conn_lim *lim, struct tls_stats *st)
{
	const struct tls_mem_arena *a_cli = p->a_cli, *a_srv = p->a_srv;
	int bytewise = p->bytewise, timing = p->timing;
	double srv_ns = p->srv_ns;

	memset(p, 0, sizeof(*p));
	p->a_cli = a_cli;
	p->a_srv = a_srv;
	p->bytewise = bytewise;
	p->timing = timing;
	p->srv_ns = srv_ns;
	if (a_cli != NULL)
		tls_mem_arena_use(a_cli);
	p->c = SSL_new(cctx);
	p->crb = BIO_new(BIO_s_mem());
	p->cwb = BIO_new(BIO_s_mem());
	if (p->c == NULL || p->crb == NULL || p->cwb == NULL)
		abort();
	SSL_set_bio(p->c, p->crb, p->cwb);
	SSL_set_connect_state(p->c);
	td_srv_begin(p);
	p->s = tls_conn_new(ctx, lim, st);
	td_srv_end(p);
	return p->s ? 0 : -1;
}

void td_pair_free(struct td_pair *p)
{
	SSL_free(p->c);
	td_srv_begin(p);
	tls_conn_free(p->s);
	td_srv_end(p);
	free(p->c2s);
	p->c = NULL;
	p->s = NULL;
	p->c2s = NULL;
}

size_t td_move(struct td_pair *p)
{
	size_t moved = 0, n, k;
	const uint8_t *q;
	int r;

	/* client -> staging */
	while ((r = (int)BIO_ctrl_pending(p->cwb)) > 0) {
		if (p->c2s_len + (size_t)r > p->c2s_cap) {
			p->c2s_cap = (p->c2s_len + (size_t)r) * 2;
			p->c2s = realloc(p->c2s, p->c2s_cap);
			if (p->c2s == NULL)
				abort();
		}
		r = BIO_read(p->cwb, p->c2s + p->c2s_len, r);
		if (r <= 0)
			break;
		p->c2s_len += (size_t)r;
	}
	/* staging -> server */
	td_srv_begin(p);
	for (n = 0; n < p->c2s_len;) {
		size_t off = p->bytewise ? 1 : p->c2s_len - n;

		k = tls_conn_rx(p->s, p->c2s + n, off);
		n += k;
		if (k == 0)
			break;
	}
	td_srv_end(p);
	if (n != 0) {
		memmove(p->c2s, p->c2s + n, p->c2s_len - n);
		p->c2s_len -= n;
	}
	moved += n;
	/* server -> client */
	q = tls_conn_tx(p->s, &n);
	if (n != 0) {
		if (BIO_write(p->crb, q, (int)n) != (int)n)
			abort();
		td_srv_begin(p);
		tls_conn_tx_done(p->s, n);
		td_srv_end(p);
		moved += n;
	}
	return moved;
}

int td_handshake(struct td_pair *p)
{
	for (int i = 0; i < 1000; i++) {
		int rc = SSL_do_handshake(p->c);
		size_t moved;
		enum tls_state st;

		if (rc <= 0 && SSL_get_error(p->c, rc) != SSL_ERROR_WANT_READ) {
			td_move(p); /* deliver what the client still has */
			ERR_clear_error();
			return -1;
		}
		moved = td_move(p);
		st = tls_conn_state(p->s);
		if (rc == 1 && st == TLS_OPEN)
			return 0;
		if (st == TLS_FAILED || (moved == 0 && rc != 1))
			return -1;
		if (moved == 0 && rc == 1) {
			/* the client is done; the server needs a read to see
			 * its last flight (nothing pending means stuck) */
			return st == TLS_OPEN ? 0 : -1;
		}
	}
	return -1;
}

size_t td_c2s(struct td_pair *p, const uint8_t *data, size_t n, uint8_t *got, size_t cap)
{
	size_t sent = 0, have = 0;

	for (int idle = 0; idle < 4 && have < cap;) {
		long r;
		size_t moved = 0;

		if (sent < n) {
			size_t w = 0;

			if (SSL_write_ex(p->c, data + sent, n - sent, &w) == 1)
				sent += w;
		}
		moved += td_move(p);
		td_srv_begin(p);
		while (have < cap && (r = tls_conn_read(p->s, got + have, cap - have)) > 0) {
			have += (size_t)r;
			moved += (size_t)r;
		}
		td_srv_end(p);
		moved += td_move(p);
		idle = moved ? 0 : idle + 1;
	}
	return have;
}

size_t td_s2c(struct td_pair *p, const uint8_t *data, size_t n, uint8_t *got, size_t cap)
{
	size_t sent = 0, have = 0;

	for (int idle = 0; idle < 4 && have < cap;) {
		size_t moved = 0, r = 0;

		td_srv_begin(p);
		while (sent < n) {
			long w = tls_conn_write(p->s, data + sent, n - sent);

			if (w <= 0)
				break;
			sent += (size_t)w;
			moved += (size_t)w;
		}
		td_srv_end(p);
		moved += td_move(p);
		while (have < cap && SSL_read_ex(p->c, got + have, cap - have, &r) == 1) {
			have += r;
			moved += r;
		}
		ERR_clear_error();
		idle = moved ? 0 : idle + 1;
	}
	return have;
}
