/*
 * scan.h — Bulwark's line scanner: SIMD byte classification, incremental
 * command-line assembly, verb recognition and non-SMTP signatures.
 *
 * Pure library: no allocation, no I/O, no globals that change after
 * startup. Every function reads only the bytes it is given, never past them.
 */
#ifndef BULWARK_SCAN_H
#define BULWARK_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* ---- SIMD kernels ------------------------------------------------------ */

enum scan_level { SCAN_SCALAR = 0, SCAN_SSE42, SCAN_AVX2, SCAN_AVX512, SCAN_LEVEL_COUNT };

struct scan_line;

/* What scan_line_feed (below) reports. */
enum scan_line_ev {
	SCAN_LINE_MORE = 0, /* all input consumed, line not finished */
	SCAN_LINE_END,      /* an LF ended the line; flags are final */
	SCAN_LINE_OVERFLOW, /* the line just passed its limit (reported once) */
};

/* Bit flags a kernel may OR into *flags. */
#define SCAN_K_HIGH 0x1u /* a byte >= 0x80 was passed over */

/*
 * One instruction set's kernels. Each reads only p[0..n). The scalar ones
 * are the reference: every other level must return exactly what they return.
 */
struct scan_kernels {
	const char *name; /* "scalar", "sse42", "avx2", "avx512" */
	enum scan_level level;
	/*
	 * Command mode. Returns the index of the first control byte in p[0..n)
	 * (a byte < 0x20 or == 0x7f: CR, LF, NUL, HT, DEL, ...), or n if none.
	 * ORs SCAN_K_HIGH into *flags when a byte >= 0x80 lies before that index.
	 */
	size_t (*find_ctl)(const uint8_t *p, size_t n, unsigned *flags);
	/* DATA mode. Returns the index of the first CR, LF or NUL, or n. */
	size_t (*find_data)(const uint8_t *p, size_t n);
	/*
	 * scan_line_feed for this level, which scan_line_feed calls (callers
	 * use scan_line_feed). The SIMD levels answer the common case, a
	 * clean line that ends with CR LF within the next 64 bytes (32 for
	 * SSE4.2), in one vector step, verb included; anything else goes
	 * through the shared byte-exact path. The scalar level always takes
	 * the shared path: it is the reference the others are checked against.
	 */
	enum scan_line_ev (*line_feed)(struct scan_line *l, const struct scan_kernels *k,
				       const uint8_t *p, size_t n, uint8_t *buf, size_t *used);
};

/*
 * Kernels for one level. Returns NULL when this build lacks the level or the
 * running CPU cannot execute it.
 */
const struct scan_kernels *scan_kernels_get(enum scan_level level);

/*
 * Chooses kernels once at startup. want is NULL, "" or "auto" for the best
 * level this CPU runs well (AVX-512 only on cores with AVX512-VBMI2, where
 * 512-bit instructions do not lower the clock; else AVX2, SSE4.2, scalar),
 * or a level name ("scalar", "sse42", "avx2", "avx512") to force one
 * (BULWARK_SIMD or the config key, read by the caller).
 * Returns the kernels, or NULL with *err = -EINVAL (unknown name) or
 * -ENOTSUP (the CPU or the build lacks that level).
 */
const struct scan_kernels *scan_pick(const char *want, int *err);

/* ---- Command lines ----------------------------------------------------- */

/* Limits from RFC 5321 §4.5.3.1.4 and RFC 4954 §4, octets including CRLF. */
#define SCAN_LINE_MAX        512u
#define SCAN_LINE_MAX_PARAMS 1000u
#define SCAN_LINE_MAX_AUTH   12288u

/* What a command line contained (flags of struct scan_line). */
#define SCAN_L_HIGH   0x01u /* a byte >= 0x80 */
#define SCAN_L_NUL    0x02u /* a NUL byte */
#define SCAN_L_CTL    0x04u /* another control byte (HT, DEL, 0x01..) */
#define SCAN_L_BARECR 0x08u /* a CR not followed by LF (kept in the line) */
#define SCAN_L_BARELF 0x10u /* the line ended with LF without CR */
#define SCAN_L_LONG   0x20u /* the line passed its limit; the rest was dropped */
#define SCAN_L_BAD    (SCAN_L_NUL | SCAN_L_CTL | SCAN_L_BARECR | SCAN_L_BARELF)

/*
 * Resumable state of the command line being assembled. The caller zeroes it
 * (scan_line_reset) before each line and sets limit. len counts the line's
 * octets so far except the terminator (a pending CR is not counted until the
 * next byte shows it is bare); kept is how many of them are in the caller's
 * buffer.
 */
struct scan_line {
	uint32_t len;
	uint32_t kept;
	uint32_t limit; /* octets including CRLF; the buffer holds limit - 2 */
	uint16_t flags;
	uint8_t cr; /* the last byte consumed was a CR whose successor is unseen */
	/*
	 * Set with SCAN_LINE_END (unless SCAN_L_LONG): the enum scan_verb that
	 * scan_verb(buf, kept, ...) returns for the line, found while the line
	 * was scanned (read it with scan_line_verb). Was padding before.
	 */
	uint8_t verb;
};

/* Starts a new line with the given limit (octets including CRLF, >= 3). */
void scan_line_reset(struct scan_line *l, uint32_t limit);

/*
 * Feeds p[0..n) into the current line (through k->line_feed). Content
 * bytes (everything but the terminating CR LF / LF) are copied into buf while they fit in limit - 2
 * octets; buf must hold limit - 2 bytes. Stops right after the LF that ends
 * the line, or right after the byte that made len pass limit - 2
 * (SCAN_LINE_OVERFLOW; later calls discard through the next LF and then
 * return SCAN_LINE_END with SCAN_L_LONG set). *used receives the number of
 * bytes consumed. A line cut anywhere across calls yields the same buffer,
 * flags and events as the line fed whole. Bytes of buf past kept are
 * scratch: the call may overwrite them. limit may be raised between calls
 * (once the verb is known); lowered below the octets already taken, the next
 * call reports SCAN_LINE_OVERFLOW.
 */
enum scan_line_ev scan_line_feed(struct scan_line *l, const struct scan_kernels *k,
				 const uint8_t *p, size_t n, uint8_t *buf, size_t *used);

/* ---- Verbs ------------------------------------------------------------- */

enum scan_verb {
	SCAN_V_UNKNOWN = 0,
	SCAN_V_HELO,
	SCAN_V_EHLO,
	SCAN_V_MAIL,
	SCAN_V_RCPT,
	SCAN_V_DATA,
	SCAN_V_BDAT,
	SCAN_V_QUIT,
	SCAN_V_RSET,
	SCAN_V_VRFY,
	SCAN_V_EXPN,
	SCAN_V_NOOP,
	SCAN_V_HELP,
	SCAN_V_AUTH,
	SCAN_V_STARTTLS,
	SCAN_V_ETRN,
	SCAN_V_TURN,
	SCAN_V_XCLIENT,
	SCAN_V_XFORWARD,
	SCAN_V_COUNT
};

/*
 * Recognises the first word of a command line p[0..n) (content, without
 * terminator), case-insensitively, without a branch per byte. The verb must
 * be followed by the end of the line or a SP. *arg receives the offset just
 * past that SP (or n). Returns SCAN_V_UNKNOWN for anything else.
 */
enum scan_verb scan_verb(const uint8_t *p, size_t n, size_t *arg);

/*
 * The verb of the line scan_line_feed just ended with SCAN_LINE_END (not
 * SCAN_L_LONG): returns what scan_verb(buf, l->kept, arg) would, and sets
 * *arg as it would, without reading the line again.
 */
static inline enum scan_verb scan_line_verb(const struct scan_line *l, size_t *arg)
{
	/* letters of each verb less 4, three bits per verb: STARTTLS, XCLIENT, XFORWARD */
	const uint64_t extra =
	    4ull << 3 * SCAN_V_STARTTLS | 3ull << 3 * SCAN_V_XCLIENT | 4ull << 3 * SCAN_V_XFORWARD;
	unsigned v = l->verb;
	size_t w = 4 + (extra >> (3 * v & 63) & 7);

	*arg = v == SCAN_V_UNKNOWN ? 0 : w < l->kept ? w + 1 : l->kept;
	return (enum scan_verb)v;
}

/* Upper-case name of a verb ("EHLO"), "unknown" for SCAN_V_UNKNOWN. */
const char *scan_verb_name(enum scan_verb v);

/* ---- Non-SMTP signatures ----------------------------------------------- */

enum scan_sig {
	SCAN_SIG_NONE = 0, /* no signature matches, and none can any more */
	SCAN_SIG_PENDING,  /* more bytes could still decide */
	SCAN_SIG_HTTP,     /* HTTP request line (any method, HTTP/1.x, PRI *) */
	SCAN_SIG_HEADER,   /* header-style line: "Token: value" */
	SCAN_SIG_SSH,      /* "SSH-" banner */
	SCAN_SIG_TLS,      /* TLS handshake record: 0x16 0x03 xx */
	SCAN_SIG_PROXY_V1, /* "PROXY TCP4 ..." */
	SCAN_SIG_PROXY_V2, /* the 12-octet PROXY v2 signature */
	SCAN_SIG_IMAP,     /* "a001 LOGIN", "A1 CAPABILITY", ... */
	SCAN_SIG_POP3,     /* "USER x", "CAPA", "STLS", ... */
	SCAN_SIG_BINARY,   /* NUL, control or 8-bit bytes where a verb belongs */
	SCAN_SIG_COUNT
};

/*
 * Prefix test on the first raw bytes of a connection, p[0..n) exactly as
 * received (CR and LF included), n may be anything from 1 up. Returns a
 * signature as soon as the bytes prove one, SCAN_SIG_NONE as soon as they
 * rule every prefix signature out, SCAN_SIG_PENDING otherwise. Only the first
 * 16 bytes are examined.
 */
enum scan_sig scan_sig_prefix(const uint8_t *p, size_t n);

/*
 * Line test on the complete first command line: content p[0..n) without its
 * terminator and the SCAN_L_* flags scan_line_feed reported. Catches what
 * needs the whole line: "... HTTP/1.x" at the end, header-style lines of any
 * length, IMAP tagged commands, binary bytes anywhere. Returns a signature
 * or SCAN_SIG_NONE.
 */
enum scan_sig scan_sig_line(const uint8_t *p, size_t n, unsigned flags);

/* Short lower-case name for counters and logs ("http", "tls", ...). */
const char *scan_sig_name(enum scan_sig s);

#endif /* BULWARK_SCAN_H */
