/*
 * config_int.h — helpers shared by config.c, config_get.c and config_net.c
 * (not for other modules). Every getter leaves *out untouched when the key
 * is absent, returns 0 when fine and -EINVAL after writing the error (with
 * the file, the line and the key's full path) into the context.
 */
#ifndef BULWARK_CONFIG_INT_H
#define BULWARK_CONFIG_INT_H

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct cfg_ctx {
	const char *file; /* for messages when libconfig has none */
	char *err;
	size_t errlen;
};

/* Writes "FILE:LINE: KEY: message" (s may be NULL: "FILE: message").
 * Returns -EINVAL. */
__attribute__((format(printf, 3, 4))) int cfg_fail(struct cfg_ctx *x, const config_setting_t *s,
						   const char *fmt, ...);

/* "an integer", "a string", ... for messages. */
const char *cfg_type_name(const config_setting_t *s);

/* s's full key path: "ports[0].address". */
void cfg_key_path(const config_setting_t *s, char *buf, size_t len);

/* Checks that g is a group and that every member is in allowed (NULL-ended). */
int cfg_keys(struct cfg_ctx *x, const config_setting_t *g, const char *const *allowed);

/* The member key of g when it is a group (NULL when absent). */
int cfg_group(struct cfg_ctx *x, const config_setting_t *g, const char *key,
	      config_setting_t **out);

/* The member key of g when it is a list ( ... ) or array [ ... ]. */
int cfg_list(struct cfg_ctx *x, const config_setting_t *g, const char *key, config_setting_t **out);

/* Fails when key is absent from g. */
int cfg_need(struct cfg_ctx *x, const config_setting_t *g, const char *key);

int cfg_u64(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint64_t min,
	    uint64_t max, uint64_t *out);
int cfg_u32(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint32_t min,
	    uint32_t max, uint32_t *out);
int cfg_u16(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint16_t min,
	    uint16_t max, uint16_t *out);
int cfg_bool(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint8_t *out);
/* A string of 1..cap-1 bytes. */
int cfg_str(struct cfg_ctx *x, const config_setting_t *g, const char *key, char *out, size_t cap);
/* One of names[] (NULL-ended); *out = its index. */
int cfg_enum(struct cfg_ctx *x, const config_setting_t *g, const char *key,
	     const char *const *names, uint8_t *out);
/* true, false or "auto" (enum cfg_tri). */
int cfg_tri(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint8_t *out);
/* A percentage 0..100 (integer or float) as parts per million. */
int cfg_ppm(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint32_t *out);

/* Parses "a.b.c.d" (network order). Returns 0 or -1. */
int cfg_parse_ipv4(const char *s, uint32_t *out);
/* An IPv4 address key (no prefix). */
int cfg_ipv4(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint32_t *out);

/* config_net.c */
/* config_obs.c: the metrics and log sections, and their defaults. */
void cfg_obs_defaults(struct cfg *c);
int cfg_parse_obs(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c);
int cfg_parse_ports(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c);
int cfg_parse_listeners(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c);
int cfg_parse_backends(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c);

/* config_limits.c: client_limits and lists (defaults, parse) */
void cfg_limits_defaults(struct cfg *c);
int cfg_parse_client_limits(struct cfg_ctx *x, const config_setting_t *root, struct cfg *c);
/* accept_proxy, proxy_from, proxy_timeout_ms of listener group g */
int cfg_parse_listener_proxy(struct cfg_ctx *x, const config_setting_t *g, struct cfg_listener *l);

#endif /* BULWARK_CONFIG_INT_H */
