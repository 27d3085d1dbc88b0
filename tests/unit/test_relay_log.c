/*
 * test_relay_log.c — proxy/relay/relay_log.c: the queue id taken from a
 * backend's 2xx to the final dot for the per-session log line (Postfix,
 * Exim, aiosmtpd, the lab recorder, multi-line, bounds, characters that
 * could break a key=value line). Inputs end at a guard page.
 */
#include <string.h>

#include "relay_int.h"

#include "check.h"

static struct check_guard g;

static void qid(int line, const char *reply, const char *want)
{
	char out[RELAY_QID_MAX];
	size_t n = strlen(reply);
	size_t k = relay_log_qid(check_guard_end(&g, reply, n), n, out, sizeof(out));

	if (!CHECK_EQ(k, strlen(want)) || !CHECK(strcmp(out, want) == 0))
		fprintf(stderr, "  line %d: got \"%s\", want \"%s\"\n", line, out, want);
}

int main(void)
{
	char longid[200], want[RELAY_QID_MAX];

	check_guard_init(&g, 4);
	qid(__LINE__, "250 2.0.0 Ok: queued as 4XyZ12ab\r\n", "4XyZ12ab");      /* Postfix */
	qid(__LINE__, "250 2.0.0 Ok: queued as 7\r\n", "7");                    /* recorder */
	qid(__LINE__, "250 Ok: Queued As B3F1 (and more)\r\n", "B3F1");         /* case, trailer */
	qid(__LINE__, "250 OK id=1qXyZa-0001Ab-Cd\r\n", "id=1qXyZa-0001Ab-Cd"); /* Exim */
	qid(__LINE__, "250 OK\r\n", "OK");                                      /* aiosmtpd */
	qid(__LINE__, "250-first line\r\n250 2.0.0 queued as Q1\r\n", "Q1");    /* multi-line */
	qid(__LINE__, "250-queued as NOT\r\n250 fine\r\n", "fine");             /* last line only */
	qid(__LINE__, "250 \r\n", "");
	qid(__LINE__, "250\r\n", "");
	qid(__LINE__, "250 2.0.0 queued as \r\n", "");
	qid(__LINE__, "250 2.0.0 Ok <id\"x=1>\r\n", ""); /* a quote: nothing, not a part */
	qid(__LINE__, "250 2.0.0 Ok tab\there\r\n", ""); /* control byte */
	qid(__LINE__, "", "");
	memset(longid, 'A', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	memcpy(longid, "250 queued as ", 14);
	memset(want, 'A', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	qid(__LINE__, longid, want); /* cut at RELAY_QID_MAX - 1 */
	check_guard_free(&g);
	return check_done("relay_log");
}
