/*
 * log.h — Bulwark's log lines: one event per line on stderr, key=value
 * pairs after a timestamp ("ts=2026-11-28T22:40:01.123Z level=info ...").
 *
 * Control plane only (main lcore, startup, exit, and the relay lcores'
 * one line per relayed session): workers never log on the datapath; they
 * count. log.target = "syslog" sends the same lines to syslog.
 */
#ifndef BULWARK_LOG_H
#define BULWARK_LOG_H

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_INFO = 6,
};

/* Sends every later line to syslog (facility mail, ident "bulwark", the
 * level as its priority, without the ts= pair: syslog stamps it) instead
 * of stderr (error lines go to both). Called once at startup, before any
 * other thread logs. */
void log_to_syslog(void);

/* Writes "ts=... level=LEVEL " then the formatted pairs and a newline, in
 * one write so lines from several threads never interleave. */
__attribute__((format(printf, 2, 3))) void log_kv(enum log_level lvl, const char *fmt, ...);

/* drv_log_fn for drivers/: "comp=drv msg=..." at the matching level. */
void log_drv(void *arg, int level, const char *line);

#endif /* BULWARK_LOG_H */
