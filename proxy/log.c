/*
 * log.c — key=value lines on stderr (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Set once by log_to_syslog() before other threads exist, read-only
 * after: the process's one log target. */
static int log_syslog;

void log_to_syslog(void)
{
	openlog("bulwark", LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_syslog = 1;
}

static const char *level_name(enum log_level lvl)
{
	return lvl <= LOG_LVL_ERR ? "error" : lvl == LOG_LVL_WARN ? "warn" : "info";
}

void log_kv(enum log_level lvl, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	if (log_syslog) {
		n = snprintf(line, sizeof(line), "level=%s ", level_name(lvl));
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
		syslog((int)lvl, "%s", line);
		if (lvl > LOG_LVL_ERR)
			return;
		/* errors also on stderr: a failing start must be seen where
		 * it was started from */
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000000, level_name(lvl));
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}

void log_drv(void *arg, int level, const char *line)
{
	char msg[512];
	size_t i;

	(void)arg;
	/* Link lines are key=value already ("port=bw0 link=up ..."); the
	 * others are sentences naming the port and the feature: quoted. */
	if (strncmp(line, "port=", 5) == 0) {
		log_kv((enum log_level)level, "comp=drv %s", line);
		return;
	}
	for (i = 0; line[i] && i < sizeof(msg) - 1; i++)
		msg[i] = line[i] == '"' ? '\'' : line[i];
	msg[i] = '\0';
	log_kv((enum log_level)level, "comp=drv msg=\"%s\"", msg);
}
