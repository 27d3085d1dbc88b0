/*
 * test_load.c — bulwark-load's scripts (bench/load_script.c): --expect in
 * every form it takes and refuses, the reply scanner over split input, the
 * mix's exact counts, which outcomes are errors, the payloads.
 */
#include <errno.h>

#include "check.h"
#include "load.h"

static struct load_opts o;

static void fresh(void)
{
	memset(&o, 0, sizeof(o));
	load_scripts_init(&o);
}

static int expect(const char *arg)
{
	fresh();
	return load_expect_parse(&o, arg);
}

static void test_expect(void)
{
	const struct load_script *sc;

	/* the plain code: the built-in steps after it stay */
	CHECK_EQ(expect("http=521"), 0);
	CHECK_EQ(o.sc[LK_HTTP].st[0].code, 521);
	CHECK_EQ(o.sc[LK_HTTP].n, 2);
	CHECK_EQ(o.sc[LK_HTTP].st[1].op, LOP_CLOSE);

	CHECK_EQ(expect("ssh=502/quit"), 0);
	sc = &o.sc[LK_SSH];
	CHECK_EQ(sc->n, 3);
	CHECK_EQ(sc->st[0].code, 502);
	CHECK_EQ(sc->st[1].op, LOP_SEND);
	CHECK_EQ(sc->st[1].code, 221);
	CHECK_EQ(sc->st[2].op, LOP_CLOSE);

	/* typo's built-in QUIT goes when the server is to close */
	CHECK_EQ(expect("typo=500/close"), 0);
	CHECK_EQ(o.sc[LK_TYPO].n, 2);
	CHECK_EQ(o.sc[LK_TYPO].st[1].op, LOP_CLOSE);

	CHECK_EQ(expect("http=500x*/close"), 0);
	sc = &o.sc[LK_HTTP];
	CHECK_EQ(sc->st[0].code, 500);
	CHECK_EQ(sc->st[0].rep, 1);
	CHECK_EQ(sc->st[1].op, LOP_CLOSE);

	CHECK_EQ(expect("http=500x*/held"), 0);
	CHECK_EQ(o.sc[LK_HTTP].st[0].rep, 1);
	CHECK_EQ(o.sc[LK_HTTP].st[1].op, LOP_HOLD);
	CHECK_EQ(o.sc[LK_HTTP].n, 2);

	CHECK_EQ(expect("tls=none/held"), 0);
	CHECK_EQ(o.sc[LK_TLS].st[0].code, 0);
	CHECK_EQ(o.sc[LK_TLS].st[0].rep, 0);
	CHECK_EQ(o.sc[LK_TLS].st[1].op, LOP_HOLD);
	CHECK_EQ(expect("garbage=none/close"), 0);
	CHECK_EQ(o.sc[LK_GARBAGE].st[1].op, LOP_CLOSE);

	/* legit's key is its body (step 4) */
	CHECK_EQ(expect("legit=450/quit"), 0);
	CHECK_EQ(o.sc[LK_LEGIT].st[4].code, 450);
	CHECK_EQ(o.sc[LK_LEGIT].n, 7);

	/* refused */
	CHECK_EQ(expect("http=500x*"), -EINVAL);      /* x* needs what follows */
	CHECK_EQ(expect("http=none"), -EINVAL);       /* none too */
	CHECK_EQ(expect("http=none/quit"), -EINVAL);  /* QUIT after silence */
	CHECK_EQ(expect("http=500x*/quit"), -EINVAL); /* 221 among the 500s */
	CHECK_EQ(expect("http=99"), -EINVAL);
	CHECK_EQ(expect("http=600"), -EINVAL);
	CHECK_EQ(expect("http=500/"), -EINVAL);
	CHECK_EQ(expect("http=500/stay"), -EINVAL);
	CHECK_EQ(expect("http=500x"), -EINVAL);
	CHECK_EQ(expect("http=abc"), -EINVAL);
	CHECK_EQ(expect("http"), -EINVAL);
	CHECK_EQ(expect("nokind=500"), -EINVAL);
	CHECK_EQ(expect("idle=250"), 0); /* idle's key is its QUIT */
	CHECK_EQ(o.sc[LK_IDLE].st[1].code, 250);
	CHECK_EQ(o.sc[LK_IDLE].st[0].op, LOP_WAIT);
	CHECK_EQ(expect("handshake=220"), -EINVAL); /* its key step is TLS */
	CHECK_EQ(expect("slow=none/held"), -EINVAL);
	/* a refused flag leaves the script as it was */
	fresh();
	CHECK_EQ(load_expect_parse(&o, "http=500x*/quit"), -EINVAL);
	CHECK_EQ(o.sc[LK_HTTP].st[0].code, 500);
	CHECK_EQ(o.sc[LK_HTTP].st[0].rep, 0);
	CHECK_EQ(o.sc[LK_HTTP].st[1].op, LOP_CLOSE);
}

/* Scans s in pieces of at most step octets; the codes found, -1 ends. */
static int scan_all(const char *s, uint32_t step, int *codes, int max)
{
	char line[64];
	uint32_t llen = 0, at = 0, n = (uint32_t)strlen(s);
	int nc = 0;

	while (at < n && nc < max) {
		uint32_t piece = n - at < step ? n - at : step, off = 0;

		while (off < piece && nc < max) {
			uint32_t used;
			int c = load_reply_scan(line, sizeof(line), &llen,
						(const uint8_t *)s + at + off, piece - off, &used);

			off += used;
			if (c == 0)
				break;
			codes[nc++] = c;
			if (c < 0)
				return nc;
		}
		at += piece;
	}
	return nc;
}

static void test_scan(void)
{
	static const char multi[] = "220 x\r\n250-a\r\n250-b\r\n250 c\r\n500 5.5.2 no\r\n221\r\n";
	int codes[8];

	for (uint32_t step = 1; step <= sizeof(multi); step++) {
		int n = scan_all(multi, step, codes, 8);

		if (!CHECK_EQ(n, 4))
			break;
		CHECK_EQ(codes[0], 220);
		CHECK_EQ(codes[1], 250);
		CHECK_EQ(codes[2], 500);
		CHECK_EQ(codes[3], 221);
	}
	CHECK_EQ(scan_all("250-a\r\n250", 100, codes, 8), 0); /* incomplete */
	CHECK_EQ(scan_all("HTTP/1.1 400\r\n", 3, codes, 8), 1);
	CHECK_EQ(codes[0], -1);
	CHECK_EQ(scan_all("25\r\n", 100, codes, 8), 1);
	CHECK_EQ(codes[0], -1);
	CHECK_EQ(scan_all("650 x\r\n", 100, codes, 8), 1);
	CHECK_EQ(codes[0], -1);
	/* a line longer than the buffer still ends and keeps its code */
	{
		char longl[300];

		memset(longl, 'x', sizeof(longl));
		memcpy(longl, "554 ", 4);
		memcpy(longl + sizeof(longl) - 3, "\r\n", 3);
		CHECK_EQ(scan_all(longl, 7, codes, 8), 1);
		CHECK_EQ(codes[0], 554);
	}
}

static void test_pick(void)
{
	int32_t cur[LK_COUNT] = { 0 };
	uint32_t n[LK_COUNT] = { 0 };

	fresh();
	memset(o.mix, 0, sizeof(o.mix));
	o.mix[LK_HTTP] = 5;
	o.mix[LK_TLS465] = 2;
	o.mix[LK_LEGIT] = 3;
	/* every window of sum(weights) picks has the weights exactly */
	for (int round = 0; round < 7; round++) {
		memset(n, 0, sizeof(n));
		for (int i = 0; i < 10; i++)
			n[load_pick(&o, cur)]++;
		CHECK_EQ(n[LK_HTTP], 5);
		CHECK_EQ(n[LK_TLS465], 2);
		CHECK_EQ(n[LK_LEGIT], 3);
	}
}

static void test_outcomes_and_names(void)
{
	CHECK(!load_oc_error(LO_OK));
	CHECK(!load_oc_error(LO_HELD));
	for (int oc = LO_WRONG; oc < LO_COUNT; oc++)
		CHECK(load_oc_error((enum load_outcome)oc));
	for (int k = 0; k < LK_COUNT; k++)
		CHECK_EQ(load_kind_find(load_kind_names[k], strlen(load_kind_names[k])), k);
	CHECK_EQ(load_kind_find("tls46", 5), -1);
	CHECK_EQ(strcmp(load_oc_names[LO_HELD], "held"), 0);
	CHECK_EQ(strcmp(load_oc_names[LO_TLS], "tls"), 0);
	/* the TLS kinds connect where they should */
	fresh();
	CHECK_EQ(o.sc[LK_TLS465].tls_port, 1);
	CHECK_EQ(o.sc[LK_HANDSHAKE].tls_port, 1);
	CHECK_EQ(o.sc[LK_STARTTLS].tls_port, 0);
	CHECK_EQ(o.sc[LK_STARTTLS].st[2].op, LOP_TLS);
}

static void test_payloads(void)
{
	const uint8_t *d;
	uint32_t n;

	fresh();
	/* garbage: binary, never a line end */
	n = load_step_chunk(&o, &o.sc[LK_GARBAGE].st[0], 0, &d);
	CHECK_EQ(n, 64);
	CHECK(memchr(d, '\n', n) == NULL);
	/* longline: 2000 octets, then CRLF */
	n = load_step_chunk(&o, &o.sc[LK_LONGLINE].st[0], 0, &d);
	CHECK_EQ(n, 2002);
	CHECK(memchr(d, '\n', n) == d + 2001);
	/* a body of 1000 octets: 13 whole lines of 80, then ".\r\n" */
	o.body_size = 1000;
	CHECK_EQ(load_body_len(&o), 1040);
	n = load_step_chunk(&o, &o.sc[LK_LEGIT].st[4], 1040, &d);
	CHECK_EQ(n, 3);
	CHECK(memcmp(d, ".\r\n", 3) == 0);
	CHECK_EQ(load_step_chunk(&o, &o.sc[LK_LEGIT].st[4], 1043, &d), 0);
}

int main(void)
{
	test_expect();
	test_scan();
	test_pick();
	test_outcomes_and_names();
	test_payloads();
	return check_done("load");
}
