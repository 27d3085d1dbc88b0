/*
 * pxhdr.h — the PROXY protocol header a load balancer sends first
 * (HAProxy's proxy-protocol.txt, versions 1 and 2), parsed strictly and
 * resumably on listeners with accept_proxy: the caller offers the bytes
 * received so far (from the first byte of the connection) until the
 * answer is not "need more". Plain C, bounded, no allocation.
 *
 * Accepted: v1 "PROXY TCP4 <src> <dst> <sport> <dport>\r\n" (<= 107
 * bytes) and "PROXY UNKNOWN...\r\n"; v2 PROXY over TCP/IPv4 (family 0x11,
 * TLVs skipped) and LOCAL / AF_UNSPEC (health checks: the TCP peer
 * stands). Refused: TCP6 / IPv6 families (Bulwark is IPv4-only for now),
 * UDP, unix sockets, any other version or command, a v2 length over
 * PXHDR_V2_LEN_MAX, and anything malformed (leading zeros, spaces where
 * none belong, a bare LF).
 */
#ifndef BULWARK_PXHDR_H
#define BULWARK_PXHDR_H

#include <stddef.h>
#include <stdint.h>

#include "relay_proxy.h" /* the wire constants (macros only) */

#define PXHDR_V1_MAX     RELAY_PROXY_V1_MAX /* the whole v1 line, CRLF included */
#define PXHDR_V2_LEN_MAX 216u /* v2 payload accepted: 12 address bytes + TLVs */
#define PXHDR_MAX        (RELAY_PP2_HDR_LEN + PXHDR_V2_LEN_MAX)

struct pxhdr {
	uint8_t version;       /* 1 or 2 */
	uint8_t local;         /* LOCAL or UNKNOWN: no addresses, keep the TCP peer */
	uint32_t src, dst;     /* network order (unless local) */
	uint16_t sport, dport; /* network order (unless local) */
};

/*
 * Parses the header at the start of p[0..n). Returns its length (> 0;
 * the bytes after it belong to the application), 0 when the bytes so far
 * are a valid beginning but incomplete, or -1 when they cannot be a
 * header this parser accepts.
 */
long pxhdr_parse(const uint8_t *p, size_t n, struct pxhdr *h);

#endif /* BULWARK_PXHDR_H */
