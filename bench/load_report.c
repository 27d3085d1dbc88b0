/*
 * load_report.c — bulwark-load's counters: the log-bucketed latency
 * histograms, one progress line per second, the summary table, --csv and
 * --png (gnuplot, when installed).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

/* ---- histogram ---------------------------------------------------------- */

/* Bucket of v: v itself below 16, else 16 sub-buckets per power of two. */
static uint32_t hist_idx(uint64_t v)
{
	uint32_t e;

	if (v < LOAD_HIST_SUB)
		return (uint32_t)v;
	e = 63u - (uint32_t)__builtin_clzll(v); /* >= 4 */
	if (e >= 40u)
		return LOAD_HIST_BKTS - 1;
	return (e - 3u) * LOAD_HIST_SUB + (uint32_t)((v >> (e - 4u)) & (LOAD_HIST_SUB - 1));
}

/* The upper edge of bucket i. */
static uint64_t hist_edge(uint32_t i)
{
	uint32_t e = i / LOAD_HIST_SUB + 3u, sub = i % LOAD_HIST_SUB;

	if (i < LOAD_HIST_SUB)
		return i;
	return ((uint64_t)(LOAD_HIST_SUB + sub + 1) << (e - 4u)) - 1;
}

void load_hist_add(struct load_hist *h, uint64_t us)
{
	h->b[hist_idx(us)]++;
	h->n++;
	if (us > h->max)
		h->max = us;
}

uint64_t load_hist_quantile(const struct load_hist *h, double q)
{
	uint64_t want, acc = 0;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(q * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (uint32_t i = 0; i < LOAD_HIST_BKTS; i++) {
		acc += h->b[i];
		if (acc > want)
			return hist_edge(i) < h->max ? hist_edge(i) : h->max;
	}
	return h->max;
}

static void hist_merge(struct load_hist *d, const struct load_hist *s)
{
	for (uint32_t i = 0; i < LOAD_HIST_BKTS; i++)
		d->b[i] += s->b[i];
	d->n += s->n;
	if (s->max > d->max)
		d->max = s->max;
}

/* ---- counters ----------------------------------------------------------- */

int load_stats_init(struct load_stats *s, uint32_t secs)
{
	s->sec = calloc(secs, sizeof(*s->sec));
	s->cap_sec = secs;
	return s->sec == NULL ? -ENOMEM : 0;
}

void load_stats_end(struct load_stats *s, enum load_kind k, enum load_outcome oc, uint16_t code,
		    uint64_t greet_us, uint64_t fin_us)
{
	s->tot.oc[oc]++;
	s->kind_oc[k][oc]++;
	s->codes[k][code < LOAD_CODE_MAX ? code : 0]++;
	if (greet_us != 0)
		load_hist_add(&s->greet[k], greet_us);
	if (oc == LO_OK)
		load_hist_add(&s->fin[k], fin_us);
	s->in_flight--;
}

static uint64_t errs(const uint64_t *oc)
{
	uint64_t e = 0;

	for (int i = 0; i < LO_COUNT; i++)
		if (load_oc_error((enum load_outcome)i))
			e += oc[i];
	return e;
}

void load_stats_tick(struct load_stats *s, const struct load_opts *o, double t)
{
	struct load_tick d, prev = { 0 };
	double dt = t - s->t_last;

	if (dt <= 0)
		return;
	for (uint32_t i = 0; i < s->n_sec; i++) {
		prev.started += s->sec[i].started;
		prev.pkts_tx += s->sec[i].pkts_tx;
		prev.pkts_rx += s->sec[i].pkts_rx;
		for (int k = 0; k < LO_COUNT; k++)
			prev.oc[k] += s->sec[i].oc[k];
	}
	d.started = s->tot.started - prev.started;
	d.pkts_tx = s->tot.pkts_tx - prev.pkts_tx;
	d.pkts_rx = s->tot.pkts_rx - prev.pkts_rx;
	for (int k = 0; k < LO_COUNT; k++)
		d.oc[k] = s->tot.oc[k] - prev.oc[k];
	if (s->n_sec < s->cap_sec)
		s->sec[s->n_sec++] = d;
	s->t_last = t;
	if (dt < 0.2) /* the run's last slice: counted, too short for a rate */
		return;
	printf("%6.1fs new %7.0f/s  ok %7.0f/s", t, (double)d.started / dt,
	       (double)d.oc[LO_OK] / dt);
	for (int k = 1; k < LO_COUNT; k++)
		if (d.oc[k])
			printf("  %s %.0f/s", load_oc_names[k], (double)d.oc[k] / dt);
	if (strcmp(o->mode, "dpdk") == 0)
		printf("  kpps tx %.1f rx %.1f", (double)d.pkts_tx / dt / 1e3,
		       (double)d.pkts_rx / dt / 1e3);
	printf("  in flight %lu  errors %lu\n", (unsigned long)s->in_flight,
	       (unsigned long)errs(s->tot.oc));
}

void load_stats_show(struct load_stats *s, const struct load_opts *o, enum load_kind k,
		     enum load_outcome oc, int step, uint16_t code, const uint8_t *seen, uint32_t n)
{
	const struct load_script *sc = &o->sc[k];
	char txt[LOAD_SEEN * 4 + 1], want[24];
	uint32_t j = 0;

	if (s->shown >= o->show_errors)
		return;
	s->shown++;
	for (uint32_t i = 0; i < n && i < LOAD_SEEN; i++) {
		uint8_t c = seen[i];

		if (c == '\r' || c == '\n')
			j += (uint32_t)snprintf(txt + j, sizeof(txt) - j, "\\%c",
						c == '\r' ? 'r' : 'n');
		else if (c < 0x20 || c >= 0x7f)
			j += (uint32_t)snprintf(txt + j, sizeof(txt) - j, "\\x%02x", c);
		else
			txt[j++] = (char)c;
	}
	txt[j] = '\0';
	if (step >= 0 && sc->st[step].op == LOP_CLOSE)
		snprintf(want, sizeof(want), "the server's close");
	else if (step >= 0 && sc->st[step].op == LOP_WAIT)
		snprintf(want, sizeof(want), "silence");
	else if (step >= 0 && sc->st[step].op == LOP_TLS)
		snprintf(want, sizeof(want), "a TLS handshake");
	else if (step >= 0 && sc->st[step].op == LOP_GREET)
		snprintf(want, sizeof(want), "the 220");
	else if (step >= 0 && sc->st[step].op == LOP_HOLD)
		snprintf(want, sizeof(want), "held open");
	else if (step >= 0 && sc->st[step].code == 0)
		snprintf(want, sizeof(want), "no reply");
	else if (step >= 0)
		snprintf(want, sizeof(want), "%u", sc->st[step].code);
	if (step < 0)
		printf("error: %s %s before the greeting: code %u; received \"%s\"\n",
		       load_kind_names[k], load_oc_names[oc], code, txt);
	else
		printf("error: %s %s at step %d (expected %s): code %u; received \"%s\"\n",
		       load_kind_names[k], load_oc_names[oc], step + 1, want, code, txt);
}

/* ---- the report --------------------------------------------------------- */

static void codes_str(char *buf, size_t cap, const uint32_t *codes)
{
	uint32_t done[4] = { 0 };
	size_t j = 0;

	buf[0] = '\0';
	for (int r = 0; r < 4; r++) {
		uint32_t best = LOAD_CODE_MAX;

		for (uint32_t c = 0; c < LOAD_CODE_MAX; c++) {
			int taken = 0;

			for (int q = 0; q < r; q++)
				taken |= done[q] == c;
			if (codes[c] && !taken && (best == LOAD_CODE_MAX || codes[c] > codes[best]))
				best = c;
		}
		if (best == LOAD_CODE_MAX)
			break;
		done[r] = best;
		j += (size_t)snprintf(buf + j, cap - j, "%s%u:%u", r ? "," : "", best, codes[best]);
		if (j >= cap)
			break;
	}
	if (buf[0] == '\0')
		snprintf(buf, cap, "-");
}

static void csv_write(FILE *f, const struct load_stats *s)
{
	fprintf(f, "second,started");
	for (int k = 0; k < LO_COUNT; k++)
		fprintf(f, ",%s", load_oc_names[k]);
	fprintf(f, ",pkts_tx,pkts_rx\n");
	for (uint32_t i = 0; i < s->n_sec; i++) {
		fprintf(f, "%u,%lu", i + 1, (unsigned long)s->sec[i].started);
		for (int k = 0; k < LO_COUNT; k++)
			fprintf(f, ",%lu", (unsigned long)s->sec[i].oc[k]);
		fprintf(f, ",%lu,%lu\n", (unsigned long)s->sec[i].pkts_tx,
			(unsigned long)s->sec[i].pkts_rx);
	}
}

/* The chart of sessions/s over time; gnuplot reads the CSV. */
static void png_write(const struct load_opts *o, const struct load_stats *s)
{
	char tmp[] = "/tmp/bulwark-load-XXXXXX";
	const char *csv = o->csv;
	FILE *g;
	int fd = -1;

	if (csv == NULL) {
		FILE *f;

		fd = mkstemp(tmp);
		if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "bulwark-load: --png: no temporary file\n");
			return;
		}
		csv_write(f, s);
		fclose(f);
		csv = tmp;
	}
	if (access("/usr/bin/gnuplot", X_OK) != 0) {
		fprintf(stderr, "bulwark-load: --png: no /usr/bin/gnuplot (apt-get install "
				"gnuplot-nox); skipped\n");
	} else if ((g = popen("/usr/bin/gnuplot", "w")) != NULL) {
		fprintf(g,
			"set terminal png size 900,480\nset output '%s'\n"
			"set datafile separator ','\nset key autotitle columnhead outside\n"
			"set xlabel 'second'\nset ylabel 'sessions/s'\nset grid\n"
			"set title 'bulwark-load --mode %s: sessions per second'\n"
			"plot '%s' using 1:2 with lines lw 2, '' using 1:3 with lines lw 2, "
			"'' using 1:4 with lines lw 2, "
			"'' using 1:($5+$6+$7+$8+$9+$10) title 'errors' with lines lw 2\n",
			o->png, o->mode, csv);
		if (pclose(g) != 0)
			fprintf(stderr, "bulwark-load: --png: gnuplot failed\n");
		else
			printf("chart: %s\n", o->png);
	}
	if (fd >= 0)
		unlink(tmp);
}

static void hist_line(const char *what, const struct load_hist *h)
{
	printf("%s p50 %.2f ms  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", what,
	       (double)load_hist_quantile(h, 0.5) / 1e3, (double)load_hist_quantile(h, 0.9) / 1e3,
	       (double)load_hist_quantile(h, 0.99) / 1e3,
	       (double)load_hist_quantile(h, 0.999) / 1e3, (double)h->max / 1e3);
}

uint64_t load_report(struct load_stats *s, const struct load_opts *o)
{
	static struct load_hist all_greet, all_fin;
	uint64_t sessions = 0, ok = s->tot.oc[LO_OK], e = errs(s->tot.oc);
	char codes[64];

	printf("\n%-9s %9s %9s %9s %7s  %-26s %9s %9s %9s %9s %9s\n", "kind", "sessions", "ok",
	       "held", "errors", "reply codes (code:n)", "220 p50", "end p50", "end p99",
	       "end p99.9", "end max");
	for (int k = 0; k < LK_COUNT; k++) {
		uint64_t n = 0;

		for (int c = 0; c < LO_COUNT; c++)
			n += s->kind_oc[k][c];
		if (n == 0)
			continue;
		sessions += n;
		hist_merge(&all_greet, &s->greet[k]);
		hist_merge(&all_fin, &s->fin[k]);
		codes_str(codes, sizeof(codes), s->codes[k]);
		printf("%-9s %9lu %9lu %9lu %7lu  %-26s %7.2fms %7.2fms %7.2fms %7.2fms %7.2fms\n",
		       load_kind_names[k], (unsigned long)n, (unsigned long)s->kind_oc[k][LO_OK],
		       (unsigned long)s->kind_oc[k][LO_HELD], (unsigned long)errs(s->kind_oc[k]),
		       codes, (double)load_hist_quantile(&s->greet[k], 0.5) / 1e3,
		       (double)load_hist_quantile(&s->fin[k], 0.5) / 1e3,
		       (double)load_hist_quantile(&s->fin[k], 0.99) / 1e3,
		       (double)load_hist_quantile(&s->fin[k], 0.999) / 1e3,
		       (double)s->fin[k].max / 1e3);
	}
	printf("%-9s %9lu %9lu %9lu %7lu\n", "total", (unsigned long)sessions, (unsigned long)ok,
	       (unsigned long)s->tot.oc[LO_HELD], (unsigned long)e);
	printf("outcomes:");
	for (int c = 0; c < LO_COUNT; c++)
		printf(" %s=%lu", load_oc_names[c], (unsigned long)s->tot.oc[c]);
	hist_line("\nlatency to the 220 (all kinds that wait for it):", &all_greet);
	hist_line("latency to the final reply (ok sessions, from connect):", &all_fin);
	printf("rate: %.0f sessions/s ok during the %.1f s of new sessions, %.0f/s over the "
	       "whole run (%.2f s, the drain included; offered ",
	       (double)s->ok_in_window / o->duration, o->duration,
	       s->elapsed > 0 ? (double)ok / s->elapsed : 0.0, s->elapsed);
	if (o->rate > 0)
		printf("%.0f/s", o->rate);
	else
		printf("as fast as possible");
	printf(", concurrency %u; %lu sessions due found no free slot)\n", o->conc,
	       (unsigned long)s->deferred);
	if (strcmp(o->mode, "dpdk") == 0 && s->elapsed > 0)
		printf("packets: %.3f Mpps tx, %.3f Mpps rx\n",
		       (double)s->tot.pkts_tx / s->elapsed / 1e6,
		       (double)s->tot.pkts_rx / s->elapsed / 1e6);
	printf("result: sessions=%lu ok=%lu errors=%lu held=%lu\n", (unsigned long)sessions,
	       (unsigned long)ok, (unsigned long)e, (unsigned long)s->tot.oc[LO_HELD]);
	if (o->csv != NULL) {
		FILE *f = fopen(o->csv, "w");

		if (f == NULL) {
			fprintf(stderr, "bulwark-load: --csv %s: %s\n", o->csv, strerror(errno));
		} else {
			csv_write(f, s);
			fclose(f);
		}
	}
	if (o->png != NULL)
		png_write(o, s);
	return e;
}
