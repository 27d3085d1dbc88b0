/*
 * relay_proxy.h — pure encoders for what the relay says first to a backend:
 * the HAProxy PROXY protocol header (v1 text, v2 binary), Postfix XCLIENT
 * and the replayed EHLO/HELO line. No I/O, no allocation.
 *
 * Addresses and ports are in network byte order, as in struct relay_open.
 * Each encoder returns the number of bytes written to buf, or -ENOSPC when
 * cap is too small (nothing useful written then).
 */
#ifndef BULWARK_RELAY_PROXY_H
#define BULWARK_RELAY_PROXY_H

#include <stddef.h>
#include <stdint.h>

/* The PROXY protocol on the wire, shared by these encoders and the parser
 * of accept_proxy listeners (proxy/pxhdr.c): macros only, so the parser
 * needs no link to this library. v2 (spec §2.2): the 12-byte signature
 * (it holds CR LF CR LF NUL: never a v1 line or SMTP), version/command,
 * family/protocol, a 16-bit big-endian length, then the address block. */
#define RELAY_PP2_SIG                                                                    \
	{ 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a }
#define RELAY_PP2_SIG_LEN   12u
#define RELAY_PP2_HDR_LEN   16u  /* signature, version/command, family, length */
#define RELAY_PP2_LOCAL     0x20 /* version 2, command LOCAL */
#define RELAY_PP2_PROXY     0x21 /* version 2, command PROXY */
#define RELAY_PP2_UNSPEC    0x00 /* AF_UNSPEC, UNSPEC */
#define RELAY_PP2_TCP4      0x11 /* AF_INET, STREAM */
#define RELAY_PP2_ADDR4_LEN 12u  /* src, dst, sport, dport */

/* PROXY v1's longest line, CRLF included (spec §2.1: 107 bytes). */
#define RELAY_PROXY_V1_MAX 107u
/* PROXY v2 for TCP over IPv4: 16-byte header + 12 address bytes. */
#define RELAY_PROXY_V2_LEN (RELAY_PP2_HDR_LEN + RELAY_PP2_ADDR4_LEN)
/* "XCLIENT ADDR=255.255.255.255 PORT=65535\r\n" */
#define RELAY_XCLIENT_MAX 48u
/* "EHLO " + a 255-byte argument + CRLF */
#define RELAY_HELO_MAX 262u

/* "PROXY TCP4 <src> <dst> <sport> <dport>\r\n" (spec §2.1). */
int relay_proxy_v1(char *buf, size_t cap, uint32_t src, uint16_t sport, uint32_t dst,
		   uint16_t dport);

/* The 12-byte signature, version 2 / command PROXY (0x21), AF_INET over
 * STREAM (0x11), length 12, then src, dst, sport, dport (spec §2.2). */
int relay_proxy_v2(uint8_t *buf, size_t cap, uint32_t src, uint16_t sport, uint32_t dst,
		   uint16_t dport);

/*
 * relay_proxy_v2 followed by a PP2_TYPE_SSL TLV (spec §2.2.5): client
 * PP2_CLIENT_SSL, verify 1 (no client certificate was presented: the spec
 * keeps 0 for one that was and verified), then the sub-TLVs
 * PP2_SUBTYPE_SSL_VERSION and PP2_SUBTYPE_SSL_CIPHER with version and
 * cipher (US-ASCII, no NUL; at most RELAY_PROXY_TLS_STR_MAX bytes each,
 * longer ones are -EINVAL; an empty one is left out). Returns the length
 * (at most RELAY_PROXY_V2_SSL_MAX) or -ENOSPC / -EINVAL.
 */
#define RELAY_PROXY_TLS_STR_MAX 63u
#define RELAY_PROXY_V2_SSL_MAX  (RELAY_PROXY_V2_LEN + 3u + 5u + 2u * (3u + RELAY_PROXY_TLS_STR_MAX))
int relay_proxy_v2_ssl(uint8_t *buf, size_t cap, uint32_t src, uint16_t sport, uint32_t dst,
		       uint16_t dport, const char *version, const char *cipher);

/* PROXY v2 LOCAL header: 16 bytes, no address block. */
#define RELAY_PROXY_V2_LOCAL_LEN RELAY_PP2_HDR_LEN

/* The headers of a connection the relay makes on its own behalf (health
 * checks), so that a backend that insists on a header still answers: v1
 * "PROXY UNKNOWN\r\n" (spec §2.1), v2 command LOCAL with family UNSPEC and
 * no addresses (spec §2.2: the receiver uses the real connection's). */
int relay_proxy_v1_unknown(char *buf, size_t cap);
int relay_proxy_v2_local(uint8_t *buf, size_t cap);

/* "XCLIENT ADDR=a.b.c.d PORT=n\r\n" (Postfix XCLIENT_README). */
int relay_xclient(char *buf, size_t cap, uint32_t addr, uint16_t port);

/* "EHLO <arg>\r\n" (ehlo != 0) or "HELO <arg>\r\n". An argument with CR,
 * LF or NUL is refused with -EINVAL (it would smuggle a command). */
int relay_helo(char *buf, size_t cap, int ehlo, const uint8_t *arg, size_t len);

#endif /* BULWARK_RELAY_PROXY_H */
