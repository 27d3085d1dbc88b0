/*
 * fuzz_pxhdr.c — libFuzzer target for proxy/pxhdr.c (the PROXY header of
 * accept_proxy listeners).
 *
 * Every prefix of the input goes through the parser from an exactly-sized
 * heap copy (ASan sees any over-read). Checked besides crashes: a complete
 * header's length is within the input and PXHDR_MAX; the answer is
 * monotone in the bytes offered (once "bad", every longer prefix is bad;
 * once complete, every longer prefix gives the same length and fields);
 * "need more" never happens past PXHDR_MAX bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxhdr.h"

#define INV(c)                                                                                     \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__);         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pxhdr first, h;
	long done = 0;
	int bad = 0;

	if (size > 4 * PXHDR_MAX)
		size = 4 * PXHDR_MAX;
	for (size_t n = 0; n <= size; n++) {
		uint8_t *b = malloc(n + 1);
		long k;

		if (b == NULL)
			abort();
		memcpy(b, data, n);
		k = pxhdr_parse(b, n, &h);
		free(b);
		if (bad) {
			INV(k == -1);
			continue;
		}
		if (done > 0) {
			INV(k == done);
			INV(memcmp(&h, &first, sizeof(h)) == 0);
			continue;
		}
		if (k < 0) {
			bad = 1;
			continue;
		}
		if (k == 0) {
			INV(n < PXHDR_MAX);
			continue;
		}
		INV((size_t)k <= n && (size_t)k <= PXHDR_MAX);
		INV(h.version == 1 || h.version == 2);
		INV(h.version != 1 || (size_t)k <= PXHDR_V1_MAX);
		done = k;
		first = h;
	}
	return 0;
}
