/*
 * load_script.c — bulwark-load's scenarios: what each kind sends and which
 * reply it expects (the scripts), --expect, the mix's pick, and the reply
 * scanner. No I/O: both engines and tests/unit/test_load.c use it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "payload.h"

const char *const load_kind_names[LK_COUNT] = { "http",     "tls",      "ssh",    "pregreet",
						"garbage",  "longline", "typo",   "slow",
						"idle",     "legit",    "tls465", "starttls",
						"handshake" };
const char *const load_oc_names[LO_COUNT] = { "ok",      "held",    "wrong",   "closed", "reset",
					      "noclose", "timeout", "connect", "tls" };

int load_oc_error(enum load_outcome oc)
{
	return oc != LO_OK && oc != LO_HELD;
}

/* ---- the scenarios ------------------------------------------------------ */

#define S(x) (const uint8_t *)(x), (uint32_t)(sizeof(x) - 1)

static const char p_ssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
static const char p_pregreet[] = "EHLO pregreet.example\r\n";
static const char p_typo[] = "HLEO x\r\n";
static const char p_slow[] = "EHLO slow.example\r\n";
static const char p_ehlo[] = "EHLO load.example\r\n";
static const char p_mail[] = "MAIL FROM:<load@load.example>\r\n";
static const char p_rcpt[] = "RCPT TO:<sink@bench.example>\r\n";
static const char p_data[] = "DATA\r\n";
static const char p_quit[] = "QUIT\r\n";
static const char p_starttls[] = "STARTTLS\r\n";
static uint8_t p_garbage[64];
static uint8_t p_longline[2002];

static void payloads_init(void)
{
	uint32_t x = 0x9e3779b9u;

	/* binary from the first octet on: NUL, controls and high octets only,
	 * never a line end */
	for (size_t i = 0; i < sizeof(p_garbage); i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		p_garbage[i] = (uint8_t)((x & 1) ? 0x80 | (x >> 8) : (x >> 8) % 9);
	}
	memset(p_longline, 'A', sizeof(p_longline) - 2);
	p_longline[sizeof(p_longline) - 2] = '\r';
	p_longline[sizeof(p_longline) - 1] = '\n';
}

/* 80-octet lines: 78 printable octets and CRLF; a body is a prefix of this
 * block repeated, and ends on a line. */
#define BODY_LINE  80u
#define BODY_BLOCK (BODY_LINE * 64u)
static uint8_t body_block[BODY_BLOCK];
static const uint8_t body_end[] = ".\r\n";

static void body_init(void)
{
	for (uint32_t i = 0; i < BODY_BLOCK; i++) {
		uint32_t c = i % BODY_LINE;

		body_block[i] = c == BODY_LINE - 2   ? '\r'
				: c == BODY_LINE - 1 ? '\n'
						     : (uint8_t)('a' + (i / BODY_LINE + c) % 26);
	}
}

uint32_t load_body_len(const struct load_opts *o)
{
	return (o->body_size + BODY_LINE - 1) / BODY_LINE * BODY_LINE;
}

uint32_t load_step_chunk(const struct load_opts *o, const struct load_step *p, uint32_t off,
			 const uint8_t **d)
{
	uint32_t body = load_body_len(o), n;

	if (p->op != LOP_BODY) {
		*d = p->data + off;
		return off < p->len ? p->len - off : 0;
	}
	if (off < body) {
		*d = body_block + off % BODY_BLOCK;
		n = BODY_BLOCK - off % BODY_BLOCK;
		return n < body - off ? n : body - off;
	}
	*d = body_end + (off - body);
	return off < body + sizeof(body_end) - 1 ? body + (uint32_t)sizeof(body_end) - 1 - off : 0;
}

#define SEND(p, c)                                                                                 \
	{                                                                                          \
		.op = LOP_SEND, .code = c, .data = (const uint8_t *)(p), .len = sizeof(p) - 1      \
	}
#define CLOSE                                                                                      \
	{                                                                                          \
		.op = LOP_CLOSE                                                                    \
	}
#define QUIT SEND(p_quit, 221)

/* Bulwark's policy (docs/architecture.md §3, DESIGN §3): non-SMTP first
 * bytes get 500 and a close; bytes before the greeting 554 and a close; a
 * long line or a typo 500 and the session goes on. */
static const struct load_script scripts[LK_COUNT] = {
	[LK_HTTP] = { .pregreet = 0,
		      .n = 2,
		      .key = 0,
		      .st = { { .op = LOP_SEND,
				.code = 500,
				.data = (const uint8_t *)payload_http_request,
				.len = 0 },
			      CLOSE } },
	[LK_TLS] = { .pregreet = 0,
		     .n = 2,
		     .key = 0,
		     .st = { { .op = LOP_SEND, .code = 500, .data = payload_tls_hello, .len = 0 },
			     CLOSE } },
	[LK_SSH] = { .pregreet = 0, .n = 2, .key = 0, .st = { SEND(p_ssh, 500), CLOSE } },
	[LK_PREGREET] = { .pregreet = 1, .n = 2, .key = 0, .st = { SEND(p_pregreet, 554), CLOSE } },
	[LK_GARBAGE] = { .pregreet = 0,
			 .n = 2,
			 .key = 0,
			 .st = { { .op = LOP_SEND,
				   .code = 500,
				   .data = p_garbage,
				   .len = sizeof(p_garbage) },
				 CLOSE } },
	[LK_LONGLINE] = { .pregreet = 0,
			  .n = 3,
			  .key = 0,
			  .st = { { .op = LOP_SEND,
				    .code = 500,
				    .data = p_longline,
				    .len = sizeof(p_longline) },
				  QUIT,
				  CLOSE } },
	[LK_TYPO] = { .pregreet = 0, .n = 3, .key = 0, .st = { SEND(p_typo, 500), QUIT, CLOSE } },
	[LK_SLOW] = { .pregreet = 0,
		      .n = 3,
		      .key = 0,
		      .st = { { .op = LOP_SLOW,
				.code = 250,
				.data = (const uint8_t *)(p_slow),
				.len = sizeof(p_slow) - 1 },
			      QUIT,
			      CLOSE } },
	[LK_IDLE] = { .pregreet = 0,
		      .n = 3,
		      .key = 1,
		      .st = { { .op = LOP_WAIT, .code = 0, .data = NULL, .len = 0 },
			      QUIT,
			      CLOSE } },
	[LK_LEGIT] = { .pregreet = 0,
		       .n = 7,
		       .key = 4,
		       .st = { SEND(p_ehlo, 250),
			       SEND(p_mail, 250),
			       SEND(p_rcpt, 250),
			       SEND(p_data, 354),
			       { .op = LOP_BODY, .code = 250, .data = NULL, .len = 0 },
			       QUIT,
			       CLOSE } },
	/* RFC 8314 §3.3 (implicit TLS: the handshake first, then the 220) and
	 * RFC 3207 §4 (STARTTLS, 220, handshake; then EHLO again: §4.2) */
	[LK_TLS465] = { .pregreet = 1,
			.n = 4,
			.key = 2,
			.tls_port = 1,
			.st = { { LOP_TLS, 0, NULL, 0, 0 },
				{ LOP_GREET, 220, NULL, 0, 0 },
				QUIT,
				CLOSE } },
	[LK_STARTTLS] = { .n = 6,
			  .key = 1,
			  .st = { SEND(p_ehlo, 250),
				  SEND(p_starttls, 220),
				  { LOP_TLS, 0, NULL, 0, 0 },
				  SEND(p_ehlo, 250),
				  QUIT,
				  CLOSE } },
	[LK_HANDSHAKE] = { .pregreet = 1,
			   .n = 2,
			   .tls_port = 1,
			   .st = { { LOP_TLS, 0, NULL, 0, 0 }, { LOP_END, 0, NULL, 0, 0 } } },
};

int load_scripts_init(struct load_opts *o)
{
	payloads_init();
	body_init();
	memcpy(o->sc, scripts, sizeof(scripts));
	o->sc[LK_HTTP].st[0].len = (uint32_t)strlen(payload_http_request);
	o->sc[LK_TLS].st[0].len = payload_tls_hello_len;
	return 0;
}

int load_kind_find(const char *s, size_t n)
{
	for (int k = 0; k < LK_COUNT; k++)
		if (strlen(load_kind_names[k]) == n && memcmp(load_kind_names[k], s, n) == 0)
			return k;
	return -1;
}

int load_expect_parse(struct load_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '='), *p;
	struct load_script *sc;
	struct load_step *key;
	char *end;
	long code = 0;
	int k, rep = 0;

	if (eq == NULL || (k = load_kind_find(arg, (size_t)(eq - arg))) < 0)
		return -EINVAL;
	sc = &o->sc[k];
	key = &sc->st[sc->key];
	if (key->op != LOP_SEND && key->op != LOP_SLOW && key->op != LOP_BODY)
		return -EINVAL;
	if (strncmp(eq + 1, "none", 4) == 0) {
		/* no reply at all: only a plain send can expect that */
		if (key->op != LOP_SEND)
			return -EINVAL;
		p = eq + 5;
	} else {
		code = strtol(eq + 1, &end, 10);
		if (end == eq + 1 || code < 100 || code >= LOAD_CODE_MAX)
			return -EINVAL;
		p = end;
		if (strncmp(p, "x*", 2) == 0) {
			rep = 1;
			p += 2;
		}
	}
	if (*p == '\0') {
		if (code == 0 || rep) /* the built-in next step may not fit */
			return -EINVAL;
		key->code = (uint16_t)code;
		return 0;
	}
	if (*p != '/')
		return -EINVAL;
	p++;
	if (sc->key + 3 > LOAD_STEPS_MAX)
		return -EINVAL;
	/* each form is recognised before it changes the script */
	if (strcmp(p, "close") == 0) {
		sc->st[sc->key + 1] = (struct load_step)CLOSE;
		sc->n = (uint8_t)(sc->key + 2);
	} else if (strcmp(p, "held") == 0) {
		sc->st[sc->key + 1] = (struct load_step){ LOP_HOLD, 0, NULL, 0, 0 };
		sc->n = (uint8_t)(sc->key + 2);
	} else if (strcmp(p, "quit") == 0 && code != 0 && !rep) {
		sc->st[sc->key + 1] = (struct load_step)QUIT;
		sc->st[sc->key + 2] = (struct load_step)CLOSE;
		sc->n = (uint8_t)(sc->key + 3);
	} else {
		return -EINVAL;
	}
	key->code = (uint16_t)code;
	key->rep = (uint8_t)rep;
	return 0;
}

enum load_kind load_pick(const struct load_opts *o, int32_t *cur)
{
	int32_t total = 0;
	int best = -1;

	for (int k = 0; k < LK_COUNT; k++) {
		if (o->mix[k] == 0)
			continue;
		cur[k] += (int32_t)o->mix[k];
		total += (int32_t)o->mix[k];
		if (best < 0 || cur[k] > cur[best])
			best = k;
	}
	cur[best] -= total;
	return (enum load_kind)best;
}

/* ---- replies ------------------------------------------------------------ */

int load_reply_scan(char *line, uint32_t cap, uint32_t *llen, const uint8_t *p, uint32_t n,
		    uint32_t *used)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (*llen < cap)
			line[*llen] = (char)c;
		(*llen)++;
		if (c != '\n')
			continue;
		/* a complete line: "NNN-..." goes on, "NNN ..." or "NNN" ends */
		{
			uint32_t l = *llen < cap ? *llen : cap;
			int code;

			*llen = 0;
			if (l < 4 || line[0] < '1' || line[0] > '5' || line[1] < '0' ||
			    line[1] > '9' || line[2] < '0' || line[2] > '9') {
				*used = i + 1;
				return -1;
			}
			code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
			if (line[3] == '-')
				continue;
			*used = i + 1;
			return code;
		}
	}
	*used = n;
	return 0;
}
