/*
 * payload.h — what the bench's client emulators (bench-junk, bulwark-load)
 * send: the junk a screener sees first on port 25.
 */
#ifndef BULWARK_BENCH_PAYLOAD_H
#define BULWARK_BENCH_PAYLOAD_H

#include <stdint.h>

/* The start of a TLS 1.2 ClientHello record (what a client that expects
 * implicit TLS sends first): no line end anywhere. */
extern const uint8_t payload_tls_hello[];
extern const uint16_t payload_tls_hello_len;

/* An HTTP request line alone, and a whole request with headers. */
extern const char payload_http_line[];
extern const char payload_http_request[];

#endif
