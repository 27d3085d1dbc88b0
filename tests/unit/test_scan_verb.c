/*
 * test_scan_verb.c — scan_verb: every verb in every mix of case, with and
 * without arguments, near misses, and random words against an obvious
 * letter-by-letter version. Every input sits against PROT_NONE pages.
 */
#include "check.h"
#include "scan.h"

static uint64_t rng_state = 0x6a09e667f3bcc909ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static const char *const verbs[SCAN_V_COUNT] = {
	NULL,   "HELO", "EHLO", "MAIL", "RCPT",     "DATA", "BDAT", "QUIT",    "RSET",     "VRFY",
	"EXPN", "NOOP", "HELP", "AUTH", "STARTTLS", "ETRN", "TURN", "XCLIENT", "XFORWARD",
};

static struct check_guard g_v;

/* scan_verb on p[0..n) placed against both guards; both must agree. */
static enum scan_verb verb_of(const void *p, size_t n, size_t *arg)
{
	size_t a2 = 7;
	enum scan_verb v = scan_verb(check_guard_end(&g_v, p, n), n, arg);

	CHECK_EQ(scan_verb(check_guard_start(&g_v, p, n), n, &a2), v);
	CHECK_EQ(a2, *arg);
	return v;
}

/* The obvious version: find the word, compare it letter by letter. */
static enum scan_verb naive_verb(const uint8_t *p, size_t n, size_t *arg)
{
	size_t end = 0, i;
	int v;

	while (end < n && p[end] > 0x20)
		end++;
	for (v = 1; v < SCAN_V_COUNT; v++) {
		if (strlen(verbs[v]) != end)
			continue;
		for (i = 0; i < end; i++) {
			uint8_t c = p[i];
			if (c >= 'a' && c <= 'z')
				c -= 0x20;
			if (c != (uint8_t)verbs[v][i])
				break;
		}
		if (i == end && (end == n || p[end] == ' ')) {
			*arg = end == n ? n : end + 1;
			return (enum scan_verb)v;
		}
	}
	*arg = 0;
	return SCAN_V_UNKNOWN;
}

static void test_verbs(void)
{
	char line[64];
	size_t len, arg, m, i;
	int v;

	for (v = 1; v < SCAN_V_COUNT; v++) {
		len = strlen(verbs[v]);
		CHECK(!strcmp(scan_verb_name((enum scan_verb)v), verbs[v]));
		/* every upper/lower combination, bare and with an argument */
		for (m = 0; m < (1u << len); m++) {
			for (i = 0; i < len; i++)
				line[i] = (char)(m >> i & 1 ? verbs[v][i] | 0x20 : verbs[v][i]);
			CHECK_EQ(verb_of(line, len, &arg), v);
			CHECK_EQ(arg, len);
			memcpy(line + len, " x@y", 4);
			CHECK_EQ(verb_of(line, len + 4, &arg), v);
			CHECK_EQ(arg, len + 1);
			line[len] = ' ';
			CHECK_EQ(verb_of(line, len + 1, &arg), v);
			CHECK_EQ(arg, len + 1);
		}
		memcpy(line, verbs[v], len);
		memcpy(line + len, "  two", 5);
		CHECK_EQ(verb_of(line, len + 5, &arg), v);
		CHECK_EQ(arg, len + 1);
		/* near misses */
		static const char *const after[] = { ":", "X", "\t",   "\r",   "\0",
						     "0", "-", "\x80", "\x01", "s" };
		for (i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
			memcpy(line, verbs[v], len);
			line[len] = after[i][0];
			memcpy(line + len + 1, " x", 2);
			if (!CHECK_EQ(verb_of(line, len + 3, &arg), SCAN_V_UNKNOWN) && check_show())
				fprintf(stderr, "  %s + %02x\n", verbs[v], (uint8_t)after[i][0]);
			CHECK_EQ(verb_of(line, len + 1, &arg), SCAN_V_UNKNOWN);
			CHECK_EQ(arg, 0);
		}
		CHECK_EQ(verb_of(verbs[v], len - 1, &arg), SCAN_V_UNKNOWN);
		line[0] = ' ';
		memcpy(line + 1, verbs[v], len);
		CHECK_EQ(verb_of(line, len + 1, &arg), SCAN_V_UNKNOWN);
		/* a letter one step off in the ASCII table: '@'/'[' around A-Z, etc. */
		for (i = 0; i < len; i++) {
			memcpy(line, verbs[v], len);
			line[i] ^= 0x40; /* 'A' -> 0x01, keeps nothing a letter */
			CHECK_EQ(verb_of(line, len, &arg), SCAN_V_UNKNOWN);
			memcpy(line, verbs[v], len);
			line[i] |= (char)0x80;
			CHECK_EQ(verb_of(line, len, &arg), SCAN_V_UNKNOWN);
			for (m = 0; m < 4; m++) {
				memcpy(line, verbs[v], len);
				line[i] = "@[`{"[m];
				CHECK_EQ(verb_of(line, len, &arg), SCAN_V_UNKNOWN);
			}
		}
	}
	CHECK(!strcmp(scan_verb_name(SCAN_V_UNKNOWN), "unknown"));
	CHECK(!strcmp(scan_verb_name(SCAN_V_COUNT), "unknown"));
	CHECK_EQ(verb_of("", 0, &arg), SCAN_V_UNKNOWN);
	CHECK_EQ(scan_verb(NULL, 0, &arg), SCAN_V_UNKNOWN);
	CHECK_EQ(verb_of("MAIL:<a@b>", 10, &arg), SCAN_V_UNKNOWN);
	CHECK_EQ(verb_of("EHLOX", 5, &arg), SCAN_V_UNKNOWN);
	CHECK_EQ(verb_of("HLEO x", 6, &arg), SCAN_V_UNKNOWN);
	CHECK_EQ(verb_of("STARTTLSS", 9, &arg), SCAN_V_UNKNOWN);
	CHECK_EQ(verb_of("XCLIENTS", 8, &arg), SCAN_V_UNKNOWN);
	CHECK_EQ(verb_of("XCLIENT\0", 8, &arg), SCAN_V_UNKNOWN);
	CHECK_EQ(verb_of("\0\0\0\0\0\0\0\0\0", 9, &arg), SCAN_V_UNKNOWN);
	CHECK_EQ(verb_of("\xff\xff\xff\xff\xff\xff\xff\xff\xff", 9, &arg), SCAN_V_UNKNOWN);
	CHECK_EQ(verb_of("mail FROM:<a@b>", 15, &arg), SCAN_V_MAIL);
	CHECK_EQ(arg, 5);
	CHECK_EQ(verb_of("sTaRtTlS", 8, &arg), SCAN_V_STARTTLS);
	CHECK_EQ(verb_of("xforward NAME=x", 15, &arg), SCAN_V_XFORWARD);
	CHECK_EQ(arg, 9);
}

/* Random words over verb letters and their case/bit neighbours vs naive. */
static void test_verbs_random(void)
{
	static const uint8_t alpha[] = "HELOMAIRCPTDBQUSVFYXNGW hlo mairc ptdb "
				       "\x00\x09\x20\x21\x40\x60\x5b\x7b\xc8\xe8\xcd\xed\x3a";
	uint8_t in[16];
	size_t n, i, a1, a2;
	int t, v;

	for (t = 0; t < 400000; t++) {
		n = rnd() % 14;
		v = (int)(rnd() % SCAN_V_COUNT);
		if (v && rnd() % 2) {
			/* start from a real verb, then mutate a byte or two */
			memcpy(in, verbs[v], strlen(verbs[v]));
			for (i = strlen(verbs[v]); i < sizeof(in); i++)
				in[i] = alpha[rnd() % (sizeof(alpha) - 1)];
			if (rnd() % 2)
				in[rnd() % 10] = alpha[rnd() % (sizeof(alpha) - 1)];
			if (rnd() % 2)
				in[rnd() % 10] ^= 0x20;
		} else {
			for (i = 0; i < n; i++)
				in[i] = alpha[rnd() % (sizeof(alpha) - 1)];
		}
		if (!CHECK_EQ(scan_verb(in, n, &a1), naive_verb(in, n, &a2)) && check_show()) {
			for (i = 0; i < n; i++)
				fprintf(stderr, " %02x", in[i]);
			fprintf(stderr, "\n");
		}
		CHECK_EQ(a1, a2);
	}
}

int main(void)
{
	check_guard_init(&g_v, 1);
	test_verbs();
	test_verbs_random();
	check_guard_free(&g_v);
	return check_done("test_scan_verb");
}
