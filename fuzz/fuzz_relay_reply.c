/*
 * fuzz_relay_reply.c — libFuzzer target for proxy/relay/relay_reply.c.
 *
 * Input: one selector byte (which capabilities the backend has, and where
 * the bytes are cut), then the bytes a backend sent. Each call gets an
 * exactly-sized heap copy, so ASan sees any over-read.
 *
 * Checked besides crashes: the scanner's verdict does not depend on how the
 * bytes were cut (whole, growing by one byte, or at the selector's cut);
 * every reply it accepts passes an independent check of RFC 5321 §4.2
 * (the one the worker's SMTP core applies) and its own line bounds; the
 * capability parser and the MAIL check run on what the scanner accepts and
 * on the raw bytes.
 */
#include "relay_reply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INV(c)                                                                                     \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__);         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define MAX 4064u /* RELAY_MSG_DATA: what the relay passes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Independent reference: lines "NNN-..."/"NNN ..."/"NNN", CRLF each, one
 * code, first digit 2..5; returns the code or -1. */
static int ref_code(const uint8_t *p, size_t n)
{
	size_t i = 0;
	int code = -1;

	while (i < n) {
		size_t e = i;
		int c;

		while (e + 1 < n && !(p[e] == '\r' && p[e + 1] == '\n'))
			e++;
		if (e + 1 >= n || e - i < 3)
			return -1;
		if (p[i] < '2' || p[i] > '5' || p[i + 1] < '0' || p[i + 1] > '9' ||
		    p[i + 2] < '0' || p[i + 2] > '9')
			return -1;
		c = (p[i] - '0') * 100 + (p[i + 1] - '0') * 10 + (p[i + 2] - '0');
		if (code >= 0 && c != code)
			return -1;
		code = c;
		if (e + 2 - i > RELAY_REPLY_LINE_MAX)
			return -1;
		for (size_t k = i + 3; k < e; k++)
			if (p[k] == '\r' || p[k] == '\n' || p[k] == 0)
				return -1;
		if (e > i + 3 && p[i + 3] == '-') {
			if (e + 2 == n)
				return -1; /* a continuation cannot end the reply */
		} else if (e != i + 3 && p[i + 3] != ' ') {
			return -1;
		} else if (e + 2 != n) {
			return -1;
		}
		i = e + 2;
	}
	return code;
}

static int scan_whole(const uint8_t *p, size_t n, int *code)
{
	struct relay_rscan s;

	relay_rscan_init(&s);
	return relay_reply_scan(&s, p, n, MAX, code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relay_caps caps = { 0 };
	struct relay_rscan s;
	uint8_t sel;
	uint8_t *b;
	size_t n, cut;
	int v, w, code = 0, code2 = 0;

	if (size < 1)
		return 0;
	sel = data[0];
	n = size - 1;
	b = malloc(n + 1);
	if (b == NULL)
		abort();
	memcpy(b, data + 1, n);

	v = scan_whole(b, n, &code);
	INV(v == 0 || v == -EPROTO || v == -EMSGSIZE || (v > 0 && (size_t)v <= n));
	if (v > 0) {
		INV(ref_code(b, (size_t)v) == code);
		INV((size_t)v <= MAX);
		relay_caps_parse(b, (size_t)v, &caps);
	}

	/* Growing by one byte with one state: 0 until the same verdict. */
	relay_rscan_init(&s);
	w = 0;
	for (size_t k = 1; k <= n && w == 0; k++)
		w = relay_reply_scan(&s, b, k, MAX, &code2);
	if (v != 0)
		INV(w == v);
	if (v > 0)
		INV(code2 == code);
	if (v == 0)
		INV(w == 0);

	/* Cut once where the selector says. */
	cut = n ? (size_t)sel % (n + 1) : 0;
	relay_rscan_init(&s);
	w = relay_reply_scan(&s, b, cut, MAX, &code2);
	if (w == 0)
		w = relay_reply_scan(&s, b, n, MAX, &code2);
	INV(w == v);

	/* The MAIL check and the verb on the raw bytes, against caps from
	 * the selector. */
	caps.pipelining = sel & 1;
	caps.size = (sel >> 1) & 1;
	caps.eightbit = (sel >> 2) & 1;
	caps.smtputf8 = (sel >> 3) & 1;
	caps.size_max = (sel >> 4) * 100u;
	v = relay_mail_check(b, n, &caps);
	INV(v >= RELAY_MAIL_OK && v <= RELAY_MAIL_TOOBIG);
	if (v == RELAY_MAIL_UTF8)
		INV(!caps.smtputf8);
	if (v == RELAY_MAIL_8BIT)
		INV(!caps.eightbit);
	if (v == RELAY_MAIL_SIZEPARM)
		INV(!caps.size);
	if (v == RELAY_MAIL_TOOBIG)
		INV(caps.size && caps.size_max);
	v = relay_verb(b, n);
	INV(v >= RELAY_V_OTHER && v <= RELAY_V_RSET);
	free(b);
	return 0;
}
