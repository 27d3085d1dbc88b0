/*
 * test_smtp_shed.c — the core's side of memory-pressure shedding (issue 7):
 * smtp_retune() moves a session that has not asked for a backend to
 * stricter limits (a deadline already passed fires at once; the first
 * error closes), refuses a relayed one; smtp_refuse(SMTP_R_BUSY) answers
 * 421 4.3.2 instead of the greeting.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "smtp.h"

struct t {
	struct smtp_cfg cfg, shed;
	struct smtp_sess s;
	struct smtp_out out;
	struct smtp_span fwd[SMTP_FWD_MIN];
	uint8_t obuf[SMTP_OUT_MIN], fbuf[SMTP_FWD_BUF_MIN];
	_Alignas(struct smtp_work) uint8_t work[SMTP_WORK_SIZE(SCAN_LINE_MAX_PARAMS)];
	char seen[8192]; /* every reply so far */
	size_t seen_n;
	uint32_t acts; /* every action so far */
};

static void take(struct t *t)
{
	size_t n = t->out.len;

	if (n > sizeof(t->seen) - 1 - t->seen_n)
		n = sizeof(t->seen) - 1 - t->seen_n;
	memcpy(t->seen + t->seen_n, t->out.buf, n);
	t->seen_n += n;
	t->seen[t->seen_n] = '\0';
	t->acts |= t->out.actions;
	smtp_out_reset(&t->out);
}

static void start(struct t *t, uint64_t now)
{
	const char *why = NULL;

	memset(t, 0, sizeof(*t));
	smtp_cfg_defaults(&t->cfg, "mx.test", scan_kernels_get(SCAN_SCALAR));
	CHECK_EQ(smtp_cfg_init(&t->cfg, &why), 0);
	t->shed = t->cfg;
	t->shed.cmd_timeout_ms = 1000;
	t->shed.error_limit = 1;
	CHECK_EQ(smtp_cfg_init(&t->shed, &why), 0);
	t->out.buf = t->obuf;
	t->out.cap = sizeof(t->obuf);
	t->out.fwd = t->fwd;
	t->out.fwd_cap = SMTP_FWD_MIN;
	t->out.fwd_buf = t->fbuf;
	t->out.fwd_buf_cap = sizeof(t->fbuf);
	smtp_start(&t->s, &t->cfg, t->work, sizeof(t->work), now, &t->out);
	take(t);
}

static void in(struct t *t, const char *line, uint64_t now)
{
	smtp_input(&t->s, (const uint8_t *)line, strlen(line), now, &t->out);
	take(t);
}

int main(void)
{
	static struct t t;

	/* idle past the shed timeout: the move fires it at once */
	start(&t, 1000);
	in(&t, "EHLO client.test\r\n", 1000);
	CHECK(strstr(t.seen, "250 ") != NULL);
	CHECK_EQ(smtp_retune(&t.s, &t.shed, 2500, &t.out), 0);
	take(&t);
	CHECK(strstr(t.seen, "421 4.4.2 mx.test") != NULL);
	CHECK(t.acts & SMTP_ACT_CLOSE);
	CHECK_EQ(t.out.close_reason, 0); /* reset by take(); the reason came with the close */

	/* not idle long enough yet: the new, shorter deadline */
	start(&t, 1000);
	in(&t, "EHLO client.test\r\n", 1000);
	CHECK_EQ(smtp_retune(&t.s, &t.shed, 1200, &t.out), 0);
	CHECK_EQ(t.out.deadline, 2000);
	take(&t);
	CHECK(!(t.acts & SMTP_ACT_CLOSE));
	CHECK_EQ(smtp_tick(&t.s, 2000, &t.out), UINT64_MAX);
	take(&t);
	CHECK(strstr(t.seen, "421 4.4.2") != NULL);

	/* on the shed limits the first error closes (error_limit 1) */
	start(&t, 1000);
	CHECK_EQ(smtp_retune(&t.s, &t.shed, 1000, &t.out), 0);
	take(&t);
	in(&t, "HLEO x\r\n", 1100);
	CHECK(strstr(t.seen, "421 4.7.0") != NULL);
	CHECK(t.acts & SMTP_ACT_CLOSE);

	/* back to the normal limits: the old timeout again */
	start(&t, 1000);
	CHECK_EQ(smtp_retune(&t.s, &t.shed, 1000, &t.out), 0);
	take(&t);
	CHECK_EQ(smtp_retune(&t.s, &t.cfg, 1100, &t.out), 0);
	CHECK_EQ(t.out.deadline, 1000 + 300000);
	take(&t);

	/* a session that asked for a backend is never moved */
	start(&t, 1000);
	in(&t, "EHLO client.test\r\n", 1000);
	in(&t, "MAIL FROM:<a@b.test>\r\n", 1000);
	CHECK(t.acts & SMTP_ACT_RELAY);
	CHECK_EQ(smtp_retune(&t.s, &t.shed, 99000, &t.out), -EBUSY);
	CHECK_EQ(t.out.len, 0);
	CHECK_EQ(t.out.actions, 0);

	/* critical: 421 4.3.2 instead of the greeting, then close */
	start(&t, 1000);
	t.seen_n = 0;
	t.acts = 0;
	CHECK_EQ(smtp_refuse(&t.s, SMTP_R_BUSY, 1000, &t.out), 0);
	take(&t);
	CHECK(strncmp(t.seen, "421 4.3.2 mx.test ", 18) == 0);
	CHECK(strstr(t.seen, "220") == NULL);
	CHECK(t.acts & SMTP_ACT_CLOSE);
	return check_done("test_smtp_shed");
}
