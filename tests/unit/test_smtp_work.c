/*
 * test_smtp_work.c — the lent work area and the EHLO/HELO hand-over
 * (smtp.h: smtp_work_lend, smtp_work_busy, SMTP_ACT_HELO), call by call:
 * when the core needs an area and when it gives it back, that a session
 * runs with none while idle, and that the argument it reports is exactly
 * the client's. The script driver (smtp_drv.c) runs every other session
 * test with areas lent per call as well.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "smtp.h"

struct t {
	struct smtp_sess s;
	struct smtp_cfg cfg;
	_Alignas(struct smtp_work) uint8_t area[SMTP_WORK_SIZE(SCAN_LINE_MAX_PARAMS - 2)];
	uint8_t obuf[SMTP_OUT_MIN];
	struct smtp_span fwd[SMTP_FWD_MIN];
	uint8_t fbuf[SMTP_FWD_BUF_MIN];
	struct smtp_out out;
	uint64_t now;
};

static void out_init(struct t *t)
{
	memset(&t->out, 0, sizeof(t->out));
	t->out.buf = t->obuf;
	t->out.cap = sizeof(t->obuf);
	t->out.fwd = t->fwd;
	t->out.fwd_cap = SMTP_FWD_MIN;
	t->out.fwd_buf = t->fbuf;
	t->out.fwd_buf_cap = sizeof(t->fbuf);
	smtp_out_reset(&t->out);
}

/* A session with the default config (greeting at once) and no area. */
static void start(struct t *t)
{
	memset(t, 0, sizeof(*t));
	smtp_cfg_defaults(&t->cfg, "mx.test", scan_pick(NULL, NULL));
	CHECK_EQ(smtp_cfg_init(&t->cfg, NULL), 0);
	t->now = 1000;
	out_init(t);
	smtp_start(&t->s, &t->cfg, NULL, sizeof(t->area), t->now, &t->out);
	CHECK(t->out.len > 0 && memcmp(t->obuf, "220 ", 4) == 0);
	CHECK_EQ(smtp_work_busy(&t->s), 0);
	out_init(t);
}

/* Feeds str with the area lent; returns the bytes consumed. */
static size_t feed(struct t *t, const char *str)
{
	size_t k;

	out_init(t);
	smtp_work_lend(&t->s, t->area, sizeof(t->area));
	k = smtp_input(&t->s, (const uint8_t *)str, strlen(str), t->now, &t->out);
	return k;
}

/* Gives the area back if the core allows it; returns smtp_work_busy(). */
static int give_back(struct t *t)
{
	int busy = smtp_work_busy(&t->s);

	if (!busy)
		smtp_work_lend(&t->s, NULL, 0);
	return busy;
}

static int out_is(const struct t *t, const char *s)
{
	return t->out.len == strlen(s) && memcmp(t->obuf, s, t->out.len) == 0;
}

static void test_helo_action(void)
{
	static const char arg[] = "client.example.org";
	struct t t;
	size_t k;

	start(&t);
	k = feed(&t, "EHLO client.example.org\r\nNOOP\r\n");
	/* smtp_input returns right after the EHLO line, its argument reported */
	CHECK_EQ(k, strlen("EHLO client.example.org\r\n"));
	CHECK(t.out.actions & SMTP_ACT_HELO);
	CHECK(t.out.actions & SMTP_ACT_MORE); /* input is left: call again */
	CHECK_MEM(t.out.helo, t.out.helo_len, arg, strlen(arg));
	CHECK(t.out.helo >= t.area && t.out.helo < t.area + sizeof(t.area));
	CHECK(memcmp(t.obuf, "250-mx.test\r\n", 13) == 0);
	CHECK_EQ(give_back(&t), 0); /* EHLO answered: idle */
	/* the rest, with no area: NEED_WORK, nothing consumed */
	out_init(&t);
	k = smtp_input(&t.s, (const uint8_t *)"NOOP\r\n", 6, t.now, &t.out);
	CHECK_EQ(k, 0);
	CHECK(t.out.actions & SMTP_ACT_NEED_WORK);
	CHECK_EQ(feed(&t, "NOOP\r\n"), 6);
	CHECK(!(t.out.actions & SMTP_ACT_HELO));
	CHECK(out_is(&t, "250 2.0.0 OK\r\n"));
	CHECK_EQ(give_back(&t), 0);

	/* HELO, then a refused EHLO (no domain): only the accepted one is reported */
	k = feed(&t, "HELO a.b\r\n");
	CHECK_EQ(k, 10);
	CHECK(t.out.actions & SMTP_ACT_HELO);
	CHECK(!(t.out.actions & SMTP_ACT_MORE)); /* nothing left */
	CHECK_MEM(t.out.helo, t.out.helo_len, "a.b", 3);
	CHECK_EQ(give_back(&t), 0);
	feed(&t, "EHLO\r\n");
	CHECK(!(t.out.actions & SMTP_ACT_HELO));
	CHECK_EQ(give_back(&t), 0);

	/* the longest argument: 255 octets, one more is refused */
	{
		char line[300], dom[256];

		memset(dom, 'a', 255);
		for (int i = 63; i < 255; i += 64)
			dom[i] = '.';
		dom[255] = '\0';
		snprintf(line, sizeof(line), "EHLO %s\r\n", dom);
		feed(&t, line);
		CHECK(t.out.actions & SMTP_ACT_HELO);
		CHECK_MEM(t.out.helo, t.out.helo_len, dom, 255);
		snprintf(line, sizeof(line), "EHLO a%s\r\n", dom);
		feed(&t, line);
		CHECK(!(t.out.actions & SMTP_ACT_HELO));
	}
}

static void test_relay_replays(void)
{
	struct t t;

	start(&t);
	feed(&t, "HELO relay.test\r\n");
	CHECK(give_back(&t) == 0);
	feed(&t, "MAIL FROM:<a@b.test>\r\n");
	CHECK(t.out.actions & SMTP_ACT_RELAY);
	CHECK_EQ(t.out.relay_ehlo, 0); /* HELO: the caller replays its copy with HELO */
	CHECK(t.out.helo == NULL && !(t.out.actions & SMTP_ACT_HELO));
	CHECK_EQ(t.out.fwd_n, 1);
	CHECK_EQ(give_back(&t), 1); /* the MAIL reply is awaited */
	out_init(&t);
	CHECK_EQ(smtp_backend_reply(&t.s, (const uint8_t *)"250 ok\r\n", 8, t.now, &t.out), 0);
	CHECK(out_is(&t, "250 ok\r\n"));
	CHECK_EQ(give_back(&t), 1); /* a relayed transaction is open */
	feed(&t, "RSET\r\n");
	CHECK_EQ(give_back(&t), 1); /* the RSET reply is awaited */
	out_init(&t);
	CHECK_EQ(smtp_backend_reply(&t.s, (const uint8_t *)"250 reset\r\n", 11, t.now, &t.out), 0);
	CHECK(out_is(&t, "250 reset\r\n"));
	CHECK_EQ(give_back(&t), 0); /* relayed, between transactions: idle */
	/* a backend loss while idle and without an area: 421 and close */
	out_init(&t);
	smtp_backend_event(&t.s, SMTP_BACKEND_GONE, t.now, &t.out);
	CHECK(t.out.actions & SMTP_ACT_CLOSE);
	CHECK(t.out.len > 4 && memcmp(t.obuf, "421 4.4.2", 9) == 0);
}

static void test_busy_states(void)
{
	struct t t;

	/* a partial line, then its end */
	start(&t);
	CHECK_EQ(feed(&t, "EHL"), 3);
	CHECK_EQ(give_back(&t), 1);
	CHECK_EQ(feed(&t, "O x.test\r\n"), 10);
	CHECK(t.out.actions & SMTP_ACT_HELO);
	CHECK_EQ(give_back(&t), 0);
	/* a lone CR is pending state too */
	feed(&t, "NOOP\r");
	CHECK_EQ(give_back(&t), 1);
	feed(&t, "\n");
	CHECK(out_is(&t, "250 2.0.0 OK\r\n"));
	CHECK_EQ(give_back(&t), 0);
	/* a line past its limit is busy until its LF */
	{
		char big[700];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		feed(&t, big);
		CHECK_EQ(give_back(&t), 1);
		feed(&t, "\r\n");
		CHECK_EQ(give_back(&t), 0);
	}

	/* the first line's prefix verdict: an empty first line is held */
	start(&t);
	feed(&t, "\r\n");
	CHECK_EQ(give_back(&t), 1);
	feed(&t, "EHLO a.test\r\n");
	CHECK_EQ(give_back(&t), 0);

	/* DATA: busy from MAIL to the end-of-data reply, then idle */
	start(&t);
	feed(&t, "EHLO a.test\r\n");
	feed(&t, "MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n");
	CHECK_EQ(give_back(&t), 1);
	out_init(&t);
	CHECK_EQ(smtp_backend_reply(&t.s, (const uint8_t *)"250 a\r\n", 7, t.now, &t.out), 0);
	CHECK_EQ(smtp_backend_reply(&t.s, (const uint8_t *)"250 b\r\n", 7, t.now, &t.out), 0);
	CHECK_EQ(smtp_backend_reply(&t.s, (const uint8_t *)"354 go\r\n", 8, t.now, &t.out), 0);
	CHECK_EQ(give_back(&t), 1);
	feed(&t, "body\r\n.\r\n");
	CHECK(t.out.actions & SMTP_ACT_DATA_END);
	CHECK_EQ(give_back(&t), 1); /* the end-of-data reply is awaited */
	out_init(&t);
	CHECK_EQ(smtp_backend_reply(&t.s, (const uint8_t *)"250 q\r\n", 7, t.now, &t.out), 0);
	CHECK(out_is(&t, "250 q\r\n"));
	CHECK_EQ(give_back(&t), 0);
}

static void test_idle_calls(void)
{
	struct t t;

	/* a timeout, the drain and STARTTLS's reset need no area */
	start(&t);
	feed(&t, "EHLO a.test\r\n");
	CHECK_EQ(give_back(&t), 0);
	t.now += t.cfg.cmd_timeout_ms;
	out_init(&t);
	smtp_tick(&t.s, t.now, &t.out);
	CHECK(t.out.actions & SMTP_ACT_CLOSE);
	CHECK(memcmp(t.obuf, "421 4.4.2", 9) == 0);

	start(&t);
	out_init(&t);
	smtp_drain(&t.s, t.now, &t.out);
	CHECK(t.out.actions & SMTP_ACT_CLOSE);
	CHECK(memcmp(t.obuf, "421 4.3.2", 9) == 0);

	/* teaser, then the greeting from smtp_tick, all without an area */
	memset(&t, 0, sizeof(t));
	smtp_cfg_defaults(&t.cfg, "mx.test", scan_pick(NULL, NULL));
	t.cfg.greet_wait_ms = 100;
	t.cfg.greet_teaser = 1;
	CHECK_EQ(smtp_cfg_init(&t.cfg, NULL), 0);
	out_init(&t);
	smtp_start(&t.s, &t.cfg, NULL, sizeof(t.area), 0, &t.out);
	CHECK(out_is(&t, "220-mx.test ESMTP\r\n"));
	out_init(&t);
	smtp_tick(&t.s, 100, &t.out);
	CHECK(out_is(&t, "220 mx.test ESMTP\r\n"));
	CHECK_EQ(smtp_work_busy(&t.s), 0);

	/* STARTTLS forgets the argument: SMTP_ACT_HELO with helo_len 0 */
	memset(&t, 0, sizeof(t));
	smtp_cfg_defaults(&t.cfg, "mx.test", scan_pick(NULL, NULL));
	t.cfg.caps |= SMTP_CAP_STARTTLS;
	CHECK_EQ(smtp_cfg_init(&t.cfg, NULL), 0);
	out_init(&t);
	smtp_start(&t.s, &t.cfg, NULL, sizeof(t.area), 0, &t.out);
	feed(&t, "EHLO a.test\r\n");
	CHECK(t.out.actions & SMTP_ACT_HELO);
	feed(&t, "STARTTLS\r\n");
	CHECK(t.out.actions & SMTP_ACT_STARTTLS);
	CHECK_EQ(give_back(&t), 0);
	out_init(&t);
	smtp_tls_started(&t.s, 0, &t.out);
	CHECK(t.out.actions & SMTP_ACT_HELO);
	CHECK_EQ(t.out.helo_len, 0);
	feed(&t, "MAIL FROM:<a@b.test>\r\n");
	CHECK(memcmp(t.obuf, "503 5.5.1", 9) == 0); /* EHLO first, again */
}

static void test_lend_checks(void)
{
	struct t t;

	start(&t);
	/* too small, or misaligned: not taken */
	smtp_work_lend(&t.s, t.area, sizeof(t.area) - 1);
	out_init(&t);
	CHECK_EQ(smtp_input(&t.s, (const uint8_t *)"NOOP\r\n", 6, t.now, &t.out), 0);
	CHECK(t.out.actions & SMTP_ACT_NEED_WORK);
	smtp_work_lend(&t.s, t.area + 1, sizeof(t.area) - 1);
	out_init(&t);
	CHECK_EQ(smtp_input(&t.s, (const uint8_t *)"NOOP\r\n", 6, t.now, &t.out), 0);
	CHECK(t.out.actions & SMTP_ACT_NEED_WORK);
	/* a lent area full of garbage is initialised, never read */
	memset(t.area, 0xff, sizeof(t.area));
	CHECK_EQ(feed(&t, "NOOP\r\n"), 6);
	CHECK(out_is(&t, "250 2.0.0 OK\r\n"));
	/* the idle session keeps 32 bytes */
	CHECK_EQ(sizeof(struct smtp_sess), 32);
}

int main(void)
{
	test_helo_action();
	test_relay_replays();
	test_busy_states();
	test_idle_calls();
	test_lend_checks();
	return check_done("test_smtp_work");
}
