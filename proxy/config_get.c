/*
 * config_get.c — messages and the typed getters of config_int.h.
 *
 * Unknown keys are reported with the nearest known key (edit distance <= 2,
 * or a known key the typo is a prefix of), because "unknown key" alone
 * leaves the reader to guess.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"

/* ---- messages ----------------------------------------------------------- */

void cfg_key_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *chain[32];
	size_t n = 0, off = 0;

	buf[0] = '\0';
	for (; s && config_setting_parent(s) && n < 32; s = config_setting_parent(s))
		chain[n++] = s;
	while (n-- > 0 && off < len) {
		const config_setting_t *e = chain[n];
		const config_setting_t *par = config_setting_parent(e);
		int w;

		if (config_setting_is_list(par) || config_setting_is_array(par))
			w = snprintf(buf + off, len - off, "[%d]", config_setting_index(e));
		else
			w = snprintf(buf + off, len - off, "%s%s", off ? "." : "",
				     config_setting_name(e) ? config_setting_name(e) : "?");
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

int cfg_fail(struct cfg_ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	char key[256], msg[384];
	const char *file = x->file;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!x->err || !x->errlen)
		return -EINVAL;
	if (s && config_setting_source_file(s))
		file = config_setting_source_file(s);
	if (!s || !config_setting_parent(s)) {
		snprintf(x->err, x->errlen, "%s: %s", file, msg);
		return -EINVAL;
	}
	cfg_key_path(s, key, sizeof(key));
	snprintf(x->err, x->errlen, "%s:%u: %s: %s", file, config_setting_source_line(s), key, msg);
	return -EINVAL;
}

const char *cfg_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ]";
	case CONFIG_TYPE_LIST:
		return "a list ( )";
	case CONFIG_TYPE_GROUP:
		return "a group { }";
	default:
		return "nothing";
	}
}

/* Edit distance, for "did you mean". Short keys only. */
static unsigned distance(const char *a, const char *b)
{
	unsigned row[64], la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la >= 63 || lb >= 63)
		return 99;
	for (unsigned j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned i = 1; i <= la; i++) {
		unsigned diag = row[0], tmp;

		row[0] = i;
		for (unsigned j = 1; j <= lb; j++) {
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			diag = tmp;
		}
	}
	return row[lb];
}

int cfg_keys(struct cfg_ctx *x, const config_setting_t *g, const char *const *allowed)
{
	int n;

	if (!config_setting_is_group(g))
		return cfg_fail(x, g, "must be a group { ... }, not %s", cfg_type_name(g));
	n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m), *near = NULL;
		unsigned best = 3;
		size_t k;

		for (k = 0; allowed[k]; k++) {
			unsigned d;

			if (strcmp(allowed[k], name) == 0)
				break;
			d = distance(allowed[k], name);
			/* "sleep" for "sleep_us": a prefix is a near miss too */
			if (d >= best && strlen(name) >= 4 &&
			    strncmp(allowed[k], name, strlen(name)) == 0)
				d = best - 1;
			if (d < best) {
				best = d;
				near = allowed[k];
			}
		}
		if (allowed[k])
			continue;
		if (near)
			return cfg_fail(x, m, "unknown key (did you mean '%s'?)", near);
		return cfg_fail(x, m, "unknown key");
	}
	return 0;
}

int cfg_group(struct cfg_ctx *x, const config_setting_t *g, const char *key, config_setting_t **out)
{
	config_setting_t *s = config_setting_get_member(g, key);

	*out = NULL;
	if (!s)
		return 0;
	if (!config_setting_is_group(s))
		return cfg_fail(x, s, "must be a group { ... }, not %s", cfg_type_name(s));
	*out = s;
	return 0;
}

int cfg_list(struct cfg_ctx *x, const config_setting_t *g, const char *key, config_setting_t **out)
{
	config_setting_t *s = config_setting_get_member(g, key);

	*out = NULL;
	if (!s)
		return 0;
	if (!config_setting_is_list(s) && !config_setting_is_array(s))
		return cfg_fail(x, s, "must be a list ( ... ) or array [ ... ], not %s",
				cfg_type_name(s));
	*out = s;
	return 0;
}

int cfg_need(struct cfg_ctx *x, const config_setting_t *g, const char *key)
{
	if (config_setting_get_member(g, key))
		return 0;
	return cfg_fail(x, g, "missing required key '%s'", key);
}

int cfg_u64(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint64_t min,
	    uint64_t max, uint64_t *out)
{
	config_setting_t *s = config_setting_get_member(g, key);
	long long v;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return cfg_fail(x, s, "must be an integer, not %s", cfg_type_name(s));
	v = config_setting_get_int64(s);
	if (v < 0 || (uint64_t)v < min || (uint64_t)v > max)
		return cfg_fail(x, s, "%lld is out of range %llu..%llu", v, (unsigned long long)min,
				(unsigned long long)max);
	*out = (uint64_t)v;
	return 0;
}

int cfg_u32(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint32_t min,
	    uint32_t max, uint32_t *out)
{
	uint64_t v = *out;
	int rc = cfg_u64(x, g, key, min, max, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

int cfg_u16(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint16_t min,
	    uint16_t max, uint16_t *out)
{
	uint64_t v = *out;
	int rc = cfg_u64(x, g, key, min, max, &v);

	if (rc == 0)
		*out = (uint16_t)v;
	return rc;
}

int cfg_bool(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint8_t *out)
{
	config_setting_t *s = config_setting_get_member(g, key);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfg_fail(x, s, "must be true or false, not %s", cfg_type_name(s));
	*out = config_setting_get_bool(s) ? 1 : 0;
	return 0;
}

int cfg_str(struct cfg_ctx *x, const config_setting_t *g, const char *key, char *out, size_t cap)
{
	config_setting_t *s = config_setting_get_member(g, key);
	const char *v;
	size_t n;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(x, s, "must be a string, not %s", cfg_type_name(s));
	v = config_setting_get_string(s);
	n = strlen(v);
	if (n == 0)
		return cfg_fail(x, s, "must not be empty");
	if (n >= cap)
		return cfg_fail(x, s, "too long (%zu bytes, at most %zu)", n, cap - 1);
	memcpy(out, v, n + 1);
	return 0;
}

int cfg_enum(struct cfg_ctx *x, const config_setting_t *g, const char *key,
	     const char *const *names, uint8_t *out)
{
	config_setting_t *s = config_setting_get_member(g, key);
	char list[256];
	size_t off = 0;
	const char *v;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(x, s, "must be a string, not %s", cfg_type_name(s));
	v = config_setting_get_string(s);
	for (uint8_t i = 0; names[i]; i++) {
		if (strcmp(names[i], v) == 0) {
			*out = i;
			return 0;
		}
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s\"%s\"", i ? ", " : "",
					names[i]);
		if (off >= sizeof(list))
			off = sizeof(list) - 1;
	}
	return cfg_fail(x, s, "\"%s\" is not one of %s", v, list);
}

int cfg_tri(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint8_t *out)
{
	config_setting_t *s = config_setting_get_member(g, key);

	if (!s)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
		*out = config_setting_get_bool(s) ? CFG_ON : CFG_OFF;
		return 0;
	}
	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    strcmp(config_setting_get_string(s), "auto") == 0) {
		*out = CFG_AUTO;
		return 0;
	}
	return cfg_fail(x, s, "must be true, false or \"auto\"");
}

int cfg_ppm(struct cfg_ctx *x, const config_setting_t *g, const char *key, uint32_t *out)
{
	config_setting_t *s = config_setting_get_member(g, key);
	double v;

	if (!s)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT ||
		 config_setting_type(s) == CONFIG_TYPE_INT64)
		v = (double)config_setting_get_int64(s);
	else
		return cfg_fail(x, s, "must be a percentage (number), not %s", cfg_type_name(s));
	if (!(v >= 0.0 && v <= 100.0))
		return cfg_fail(x, s, "%g%% is out of range 0..100", v);
	*out = (uint32_t)(v * 10000.0 + 0.5);
	return 0;
}
