/*
 * test_cidr.c — CIDR lists (proxy/cidr.c): the strict entry parser, list
 * files with comments and errors naming the line, merging, the bound on
 * entries, and lookups at every range edge against a brute-force model.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cidr.h"

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr; /* network order */
}

static void test_parse_one(void)
{
	static const struct {
		const char *s;
		int ok;
		uint32_t lo, hi;
	} cases[] = {
		{ "198.18.0.0/15", 1, 0xc6120000u, 0xc613ffffu },
		{ "10.0.0.1", 1, 0x0a000001u, 0x0a000001u },
		{ "10.0.0.1/32", 1, 0x0a000001u, 0x0a000001u },
		{ "0.0.0.0/0", 1, 0, 0xffffffffu },
		{ "255.255.255.255", 1, 0xffffffffu, 0xffffffffu },
		{ "198.18.0.1/24", 0, 0, 0 }, /* host bits */
		{ "198.18.0.0/33", 0, 0, 0 },
		{ "198.18.0.0/", 0, 0, 0 },
		{ "198.18.0.0/024", 0, 0, 0 },
		{ "198.18.0", 0, 0, 0 },
		{ "198.18.0.0.0", 0, 0, 0 },
		{ "198.018.0.0", 0, 0, 0 }, /* leading zero: octal or typo? */
		{ "256.0.0.0", 0, 0, 0 },
		{ "1.2.3.4 x", 0, 0, 0 },
		{ "1.2.3.-4", 0, 0, 0 },
		{ "", 0, 0, 0 },
		{ "1234.1.1.1", 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t lo = 7, hi = 7;
		const char *why = NULL;
		int rc = cidr_parse(cases[i].s, strlen(cases[i].s), &lo, &hi, &why);

		if (!CHECK_EQ(rc, cases[i].ok ? 0 : -1))
			fprintf(stderr, "  case %s\n", cases[i].s);
		if (cases[i].ok) {
			CHECK_EQ(lo, cases[i].lo);
			CHECK_EQ(hi, cases[i].hi);
		} else {
			CHECK(why != NULL);
		}
	}
}

static void test_lists(void)
{
	static const char text[] = "# balancers and friends\n"
				   "198.18.0.0/24   # lab\n"
				   "\n"
				   "  198.18.1.0/24\r\n" /* adjacent: merged */
				   "198.18.0.128/25\n"   /* inside: merged */
				   "10.1.2.3\n"
				   "\t# indented comment\n"
				   "192.0.2.0/28"; /* no final newline */
	char err[256] = "";
	struct cidr_set *s = cidr_set_parse(text, strlen(text), "allow.txt", 100, err, sizeof(err));

	if (!CHECK(s != NULL)) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK_EQ(s->entries, 5);
	CHECK_EQ(s->n, 3);
	CHECK(cidr_set_has(s, ip("198.18.0.0")));
	CHECK(cidr_set_has(s, ip("198.18.1.255")));
	CHECK(!cidr_set_has(s, ip("198.18.2.0")));
	CHECK(!cidr_set_has(s, ip("198.17.255.255")));
	CHECK(cidr_set_has(s, ip("10.1.2.3")));
	CHECK(!cidr_set_has(s, ip("10.1.2.4")));
	CHECK(!cidr_set_has(s, ip("10.1.2.2")));
	CHECK(cidr_set_has(s, ip("192.0.2.15")));
	CHECK(!cidr_set_has(s, ip("192.0.2.16")));
	CHECK(!cidr_set_has(NULL, ip("10.1.2.3")));
	cidr_set_free(s);

	/* errors name the file and the line */
	s = cidr_set_parse("10.0.0.0/8\n# x\n10.0.0.1/8\n", 26, "deny.txt", 100, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "deny.txt:3: 10.0.0.1/8: host bits") != NULL);
	s = cidr_set_parse("1.1.1.1\n2.2.2.2\n3.3.3.3\n", 24, "d", 2, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "d:3: more than 2 entries") != NULL);
	s = cidr_set_parse("1.1.1.1\x01\n", 9, "d", 2, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "d:1:") != NULL);
	{
		char longl[CIDR_LINE_MAX + 10];

		memset(longl, ' ', sizeof(longl));
		memcpy(longl, "1.1.1.1", 7);
		s = cidr_set_parse(longl, sizeof(longl), "d", 2, err, sizeof(err));
		CHECK(s == NULL);
		CHECK(strstr(err, "d:1: line longer") != NULL);
	}
	/* empty and comment-only lists are empty sets */
	s = cidr_set_parse("# nothing\n\n", 11, "e", 2, err, sizeof(err));
	CHECK(s != NULL && s->n == 0 && !cidr_set_has(s, ip("1.2.3.4")));
	cidr_set_free(s);
	/* everything */
	s = cidr_set_parse("0.0.0.0/0\n1.2.3.4\n", 18, "all", 4, err, sizeof(err));
	CHECK(s != NULL && s->n == 1 && cidr_set_has(s, ip("255.255.255.255")) &&
	      cidr_set_has(s, ip("0.0.0.0")));
	cidr_set_free(s);
}

/* Random prefixes against a brute-force model: every range edge and its
 * neighbours. */
static void test_model(void)
{
	enum { N = 300 };
	static uint32_t lo[N], hi[N];
	char *text = malloc(N * 24), err[256];
	size_t n = 0;
	struct cidr_set *s;

	srand(7);
	for (int i = 0; i < N; i++) {
		uint32_t a = (uint32_t)rand() << 16 ^ (uint32_t)rand();
		int p = 8 + rand() % 25;
		uint32_t mask = ~0u << (32 - p);

		lo[i] = a & mask;
		hi[i] = lo[i] | ~mask;
		n += (size_t)sprintf(text + n, "%u.%u.%u.%u/%d\n", lo[i] >> 24, lo[i] >> 16 & 255,
				     lo[i] >> 8 & 255, lo[i] & 255, p);
	}
	s = cidr_set_parse(text, n, "model", N, err, sizeof(err));
	if (!CHECK(s != NULL))
		return;
	for (int i = 0; i < N; i++) {
		uint32_t probes[6] = {
			lo[i],           hi[i], lo[i] - 1, hi[i] + 1, lo[i] + (hi[i] - lo[i]) / 2,
			(uint32_t)rand()
		};

		for (int k = 0; k < 6; k++) {
			uint32_t a = probes[k], be = htonl(a);
			int want = 0;

			for (int j = 0; j < N && !want; j++)
				want = a >= lo[j] && a <= hi[j];
			CHECK_EQ(cidr_set_has(s, be), want);
		}
	}
	for (uint32_t i = 1; i < s->n; i++)
		CHECK(s->r[i].lo > s->r[i - 1].hi + 1u);
	cidr_set_free(s);
	free(text);
}

static void test_file(void)
{
	char path[] = "/tmp/bw-cidr-XXXXXX", err[256];
	int fd = mkstemp(path);
	struct cidr_set *s;

	if (!CHECK(fd >= 0))
		return;
	CHECK(write(fd, "198.18.7.0/24\n", 14) == 14);
	close(fd);
	s = cidr_set_load(path, 10, err, sizeof(err));
	CHECK(s != NULL && cidr_set_has(s, ip("198.18.7.9")));
	cidr_set_free(s);
	unlink(path);
	s = cidr_set_load(path, 10, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "cannot read") != NULL);
}

int main(void)
{
	test_parse_one();
	test_lists();
	test_model();
	test_file();
	return check_done("cidr");
}
