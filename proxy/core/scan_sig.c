/*
 * scan_sig.c — non-SMTP signatures on the first bytes / first line of a
 * connection.
 *
 * Each signature is a small checker that returns a verdict and the number
 * of bytes that decided it: YES (proved by p[0..at)), NO (ruled out by
 * p[0..at)) or OPEN (needs a byte not yet received). The prefix test
 * answers what the earliest decision was, so once it has returned something
 * other than PENDING, more bytes never change the answer:
 *   - the earliest YES wins (ties go to the order the checkers run in);
 *   - binary bytes are proved when seen but never "ruled out", so they win
 *     only if seen before every other signature was ruled out;
 *   - NONE when every checker says NO.
 * The line test runs the same checkers with the end of the line as a
 * terminator, then the checks that need the whole line.
 *
 * Nothing here may match a plain SMTP command line: the word-based checks
 * reject the 18 SMTP verbs as tokens ("MAIL:" and "MAILFROM:<a@b>" are
 * malformed SMTP lines, not headers; "HELP x HTTP/1.0" is a HELP with an
 * argument), and the POP3 and IMAP words were chosen because no SMTP verb
 * collides with them.
 */
#include <string.h>

#include "scan.h"

#define SIG_WINDOW 16 /* bytes the prefix test looks at */

#define SIG_MORE (-1) /* a byte not received yet */
#define SIG_EOL  256  /* the end of the line (line test) */

enum { C_TCHAR = 0x1, C_TAG = 0x2, C_ALPHA = 0x4, C_TARGET = 0x8 };

#define C_AL (C_TCHAR | C_TAG | C_ALPHA | C_TARGET)
#define C_DG (C_TCHAR | C_TAG | C_TARGET)
#define C_SY (C_TCHAR | C_TAG)

/*
 * C_TCHAR: RFC 7230 tchar. C_TAG: IMAP tag characters, tchar without the
 * list wildcards '%' '*' and '+'. C_TARGET: bytes that can start an HTTP
 * request target: '/', '*' (OPTIONS, PRI), a scheme or an authority.
 */
static const uint8_t sig_cls[256] = {
	['0' ... '9'] = C_DG, ['A' ... 'Z'] = C_AL, ['a' ... 'z'] = C_AL,
	['!'] = C_SY,         ['#'] = C_SY,         ['$'] = C_SY,
	['&'] = C_SY,         ['\''] = C_SY,        ['-'] = C_SY,
	['.'] = C_SY,         ['^'] = C_SY,         ['_'] = C_SY,
	['`'] = C_SY,         ['|'] = C_SY,         ['~'] = C_SY,
	['%'] = C_TCHAR,      ['+'] = C_TCHAR,      ['*'] = C_TCHAR | C_TARGET,
	['/'] = C_TARGET,     ['['] = C_TARGET,
};

static const uint8_t proxy2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* HTTP methods are case-sensitive (RFC 7230 §3.1.1). */
static const char *const http_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH", "PRI",
};

static const char *const imap_cmds[] = {
	"LOGIN", "CAPABILITY", "AUTHENTICATE", "STARTTLS", "LOGOUT",
	"NOOP",  "SELECT",     "EXAMINE",      "LIST",     "ID",
};

static const char *const pop3_cmds[] = {
	"USER", "PASS", "APOP", "CAPA", "STLS", "UIDL", "STAT", "RETR", "LIST", "TOP",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* What the checkers see: p[0..n), then more bytes (prefix) or the end. */
struct sig_in {
	const uint8_t *p;
	size_t n;
	int eol;
};

enum { SIG_OPEN, SIG_NO, SIG_YES };

struct sig_v {
	int st;
	size_t at;
};

/* The first word: its tchar run p[0..t), and whether that run is final. */
struct sig_word {
	size_t t;
	int open;
	int verb;   /* p[0..t) is an SMTP verb */
	int verbed; /* p[0..t) starts with one ("MAILFROM" in "MAILFROM:<a@b>") */
};

/* Returns byte i, SIG_EOL past the end of a line, SIG_MORE if unseen. */
static int sig_at(const struct sig_in *in, size_t i)
{
	if (i < in->n)
		return in->p[i];
	return in->eol ? SIG_EOL : SIG_MORE;
}

/* Returns the class bits of c (none for SIG_EOL / SIG_MORE). */
static unsigned sig_class(int c)
{
	return c >= 0 && c < 256 ? sig_cls[c] : 0;
}

/* Returns whether c ends the line: CR, LF, or the end of the line test. */
static int sig_is_end(int c)
{
	return c == SIG_EOL || c == '\r' || c == '\n';
}

static struct sig_v sig_verdict(int st, size_t at)
{
	struct sig_v v = { st, at };

	return v;
}

/* Returns whether p[0..len) equals the letters of w, ignoring case. */
static int sig_word_is(const uint8_t *p, size_t len, const char *w)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!w[i] || (p[i] | 0x20) != (w[i] | 0x20))
			return 0;
	return !w[len];
}

/* Returns whether p[0..len) is one of the words, ignoring case. */
static int sig_word_in(const uint8_t *p, size_t len, const char *const *words, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (sig_word_is(p, len, words[i]))
			return 1;
	return 0;
}

static struct sig_v sig_lit(const struct sig_in *in, const uint8_t *s, size_t len)
{
	size_t i;
	int c;

	for (i = 0; i < len; i++) {
		c = sig_at(in, i);
		if (c == SIG_MORE)
			return sig_verdict(SIG_OPEN, 0);
		if (c != s[i])
			return sig_verdict(SIG_NO, i + 1);
	}
	return sig_verdict(SIG_YES, len);
}

/* Returns a verdict for "a or b". */
static struct sig_v sig_either(struct sig_v a, struct sig_v b)
{
	if (a.st == SIG_YES && (b.st != SIG_YES || a.at <= b.at))
		return a;
	if (b.st == SIG_YES)
		return b;
	if (a.st == SIG_OPEN || b.st == SIG_OPEN)
		return sig_verdict(SIG_OPEN, 0);
	return sig_verdict(SIG_NO, a.at > b.at ? a.at : b.at);
}

static struct sig_v sig_tls(const struct sig_in *in)
{
	struct sig_v v = sig_lit(in, (const uint8_t *)"\x16\x03", 2);
	int c;

	if (v.st != SIG_YES)
		return v;
	c = sig_at(in, 2);
	if (c == SIG_MORE)
		return sig_verdict(SIG_OPEN, 0);
	return sig_verdict(c <= 0x04 ? SIG_YES : SIG_NO, 3);
}

static struct sig_v sig_proxy1(const struct sig_in *in)
{
	return sig_either(sig_either(sig_lit(in, (const uint8_t *)"PROXY TCP4 ", 11),
				     sig_lit(in, (const uint8_t *)"PROXY TCP6 ", 11)),
			  sig_lit(in, (const uint8_t *)"PROXY UNKNOWN", 13));
}

static void sig_word(const struct sig_in *in, struct sig_word *w)
{
	size_t i = 0, arg;
	int c;

	while (sig_class(c = sig_at(in, i)) & C_TCHAR)
		i++;
	w->t = i;
	w->open = c == SIG_MORE;
	w->verb = !w->open && i && scan_verb(in->p, i, &arg) != SCAN_V_UNKNOWN;
	/* verbs are 4, 7 or 8 letters long */
	w->verbed = w->verb || (!w->open && ((i > 4 && scan_verb(in->p, 4, &arg)) ||
					     (i > 7 && scan_verb(in->p, 7, &arg)) ||
					     (i > 8 && scan_verb(in->p, 8, &arg))));
}

/* "METHOD SP" then a byte that can start a request target. */
static struct sig_v sig_http(const struct sig_in *in, const struct sig_word *w)
{
	size_t i;
	int c;

	if (w->open)
		return sig_verdict(SIG_OPEN, 0);
	for (i = 0; i < COUNT(http_methods); i++)
		if (strlen(http_methods[i]) == w->t && !memcmp(in->p, http_methods[i], w->t))
			break;
	if (i == COUNT(http_methods) || sig_at(in, w->t) != ' ')
		return sig_verdict(SIG_NO, w->t + 1);
	c = sig_at(in, w->t + 1);
	if (c == SIG_MORE)
		return sig_verdict(SIG_OPEN, 0);
	return sig_verdict(sig_class(c) & C_TARGET ? SIG_YES : SIG_NO, w->t + 2);
}

/*
 * "Token:" — a tchar run directly followed by a colon. A token that starts
 * with an SMTP verb is a client that forgot a space ("MAILFROM:<a@b>",
 * "RCPTTO:<a@b>"), answered 500 like any typo rather than cut off.
 */
static struct sig_v sig_header(const struct sig_in *in, const struct sig_word *w)
{
	if (w->open)
		return sig_verdict(SIG_OPEN, 0);
	if (w->t && !w->verbed && sig_at(in, w->t) == ':')
		return sig_verdict(SIG_YES, w->t + 1);
	return sig_verdict(SIG_NO, w->t + 1);
}

/* A POP3 command as the first word, then SP or the end of the line. */
static struct sig_v sig_pop3(const struct sig_in *in, const struct sig_word *w)
{
	int c;

	if (w->open)
		return sig_verdict(SIG_OPEN, 0);
	c = sig_at(in, w->t);
	if ((c == ' ' || sig_is_end(c)) && sig_word_in(in->p, w->t, pop3_cmds, COUNT(pop3_cmds)))
		return sig_verdict(SIG_YES, w->t + 1);
	return sig_verdict(SIG_NO, w->t + 1);
}

/* "tag SP command" then SP or the end of the line; the tag is no SMTP verb. */
static struct sig_v sig_imap(const struct sig_in *in, const struct sig_word *w)
{
	size_t i, j;
	int c;

	if (w->open)
		return sig_verdict(SIG_OPEN, 0);
	if (!w->t || w->verb || sig_at(in, w->t) != ' ')
		return sig_verdict(SIG_NO, w->t + 1);
	for (i = 0; i < w->t; i++)
		if (!(sig_cls[in->p[i]] & C_TAG))
			return sig_verdict(SIG_NO, w->t + 1);
	j = w->t + 1;
	while (sig_class(c = sig_at(in, j)) & C_ALPHA)
		j++;
	if (c == SIG_MORE)
		return sig_verdict(SIG_OPEN, 0);
	if ((c == ' ' || sig_is_end(c)) &&
	    sig_word_in(in->p + w->t + 1, j - w->t - 1, imap_cmds, COUNT(imap_cmds)))
		return sig_verdict(SIG_YES, j + 1);
	return sig_verdict(SIG_NO, j + 1);
}

/*
 * A control byte other than CR/LF before the first LF, or a byte >= 0x80
 * in the first word. Proved when seen, never ruled out: returns YES or NO
 * (meaning "not seen"). In the line test the caller's flags cover the
 * control bytes, so only the first word is read.
 */
static struct sig_v sig_binary(const struct sig_in *in)
{
	int c, word = 1;
	size_t i;

	for (i = 0; (c = sig_at(in, i)) >= 0 && c < 256 && c != '\n'; i++) {
		if ((c < 0x20 && c != '\r') || c == 0x7f || (c >= 0x80 && word))
			return sig_verdict(SIG_YES, i + 1);
		if (c == ' ' || c == '\r') {
			if (in->eol)
				break;
			word = 0;
		}
	}
	return sig_verdict(SIG_NO, 0);
}

struct sig_best {
	enum scan_sig kind; /* earliest YES, or SCAN_SIG_NONE */
	size_t at;
	int open;       /* some checker is still OPEN */
	size_t none_at; /* the latest NO */
};

static void sig_take(struct sig_best *b, struct sig_v v, enum scan_sig kind)
{
	if (v.st == SIG_YES) {
		if (b->kind == SCAN_SIG_NONE || v.at < b->at) {
			b->kind = kind;
			b->at = v.at;
		}
	} else if (v.st == SIG_OPEN) {
		b->open = 1;
	} else if (v.at > b->none_at) {
		b->none_at = v.at;
	}
}

/* Runs the checkers shared by both tests, most specific first. */
static void sig_structured(const struct sig_in *in, struct sig_best *b)
{
	struct sig_word w;

	memset(b, 0, sizeof(*b));
	sig_word(in, &w);
	sig_take(b, sig_proxy1(in), SCAN_SIG_PROXY_V1);
	sig_take(b, sig_lit(in, (const uint8_t *)"SSH-", 4), SCAN_SIG_SSH);
	sig_take(b, sig_http(in, &w), SCAN_SIG_HTTP);
	sig_take(b, sig_imap(in, &w), SCAN_SIG_IMAP);
	sig_take(b, sig_pop3(in, &w), SCAN_SIG_POP3);
	sig_take(b, sig_header(in, &w), SCAN_SIG_HEADER);
}

static enum scan_sig sig_of(struct sig_v v, enum scan_sig yes, enum scan_sig no)
{
	if (v.st == SIG_YES)
		return yes;
	return v.st == SIG_OPEN ? SCAN_SIG_PENDING : no;
}

enum scan_sig scan_sig_prefix(const uint8_t *p, size_t n)
{
	struct sig_in in = { p, n < SIG_WINDOW ? n : SIG_WINDOW, 0 };
	struct sig_best b;
	struct sig_v bin;

	if (!n)
		return SCAN_SIG_PENDING;
	/* 0x16 is a control byte: not TLS after all means binary. */
	if (p[0] == 0x16)
		return sig_of(sig_tls(&in), SCAN_SIG_TLS, SCAN_SIG_BINARY);
	/* A CR first can only be PROXY v2; otherwise the first line is empty. */
	if (p[0] == '\r')
		return sig_of(sig_lit(&in, proxy2_sig, sizeof(proxy2_sig)), SCAN_SIG_PROXY_V2,
			      SCAN_SIG_NONE);

	sig_structured(&in, &b);
	bin = sig_binary(&in);
	if (bin.st == SIG_YES && (b.kind == SCAN_SIG_NONE || bin.at < b.at) &&
	    (b.kind != SCAN_SIG_NONE || b.open || bin.at <= b.none_at))
		return SCAN_SIG_BINARY;
	if (b.kind != SCAN_SIG_NONE)
		return b.kind;
	if (b.open && n < SIG_WINDOW)
		return SCAN_SIG_PENDING;
	return SCAN_SIG_NONE;
}

/* "token SP target SP HTTP/1.0|1.1" to the end; target is 1+ non-SP bytes. */
static int sig_http_line(const uint8_t *p, size_t n)
{
	struct sig_in in = { p, n, 1 };
	struct sig_word w;

	sig_word(&in, &w);
	if (!w.t || w.verb || n < w.t + 2 + 9 || p[w.t] != ' ')
		return 0;
	if (memcmp(p + n - 9, " HTTP/1.", 8) || (p[n - 1] != '0' && p[n - 1] != '1'))
		return 0;
	return !memchr(p + w.t + 1, ' ', n - 9 - (w.t + 1));
}

enum scan_sig scan_sig_line(const uint8_t *p, size_t n, unsigned flags)
{
	struct sig_in in = { p, n, 1 };
	struct sig_best b;

	if (n && p[0] == 0x16 && sig_tls(&in).st == SIG_YES)
		return SCAN_SIG_TLS;
	if (n) {
		sig_structured(&in, &b);
		if (b.kind != SCAN_SIG_NONE)
			return b.kind;
		if (sig_http_line(p, n))
			return SCAN_SIG_HTTP;
	}
	if (flags & (SCAN_L_NUL | SCAN_L_CTL) || sig_binary(&in).st == SIG_YES)
		return SCAN_SIG_BINARY;
	return SCAN_SIG_NONE;
}

static const char *const sig_names[SCAN_SIG_COUNT] = {
	[SCAN_SIG_NONE] = "none",         [SCAN_SIG_PENDING] = "pending",
	[SCAN_SIG_HTTP] = "http",         [SCAN_SIG_HEADER] = "header",
	[SCAN_SIG_SSH] = "ssh",           [SCAN_SIG_TLS] = "tls",
	[SCAN_SIG_PROXY_V1] = "proxy_v1", [SCAN_SIG_PROXY_V2] = "proxy_v2",
	[SCAN_SIG_IMAP] = "imap",         [SCAN_SIG_POP3] = "pop3",
	[SCAN_SIG_BINARY] = "binary",
};

const char *scan_sig_name(enum scan_sig s)
{
	if ((unsigned)s >= SCAN_SIG_COUNT)
		return "unknown";
	return sig_names[s];
}
