// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_offload_stat: what page migration copy offload is doing, one line
 * per migrator and per migration reason, in the manner of vmstat and
 * iostat.
 *
 * usage: migrate_offload_stat [-j] [-a] [interval [count]]
 *
 * Without an interval: the counters since boot (migrators: since they
 * registered).  With one: every interval seconds, the rates over that
 * interval: folios/s and MB/s copied, failed and declined sub-batches,
 * folios copied elsewhere after failures, and busy % (time spent copying
 * over wall time; above 100 when sub-batches run concurrently).  -j prints
 * one JSON object per sample, -a also reasons with no batch.
 *
 * Reads /sys/kernel/mm/migrate_offload/ (see
 * Documentation/ABI/testing/sysfs-kernel-mm-migrate_offload).
 *
 * Compile with: gcc -O2 -o migrate_offload_stat migrate_offload_stat.c
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MO_DIR		"/sys/kernel/mm/migrate_offload"
#define MAX_ROWS	64
#define NAME_LEN	64

enum { BATCHES, FOLIOS, BYTES, ERRORS, DECLINED, FALLBACK, BUSY_NS, CPU, NR_STATS };

static const char * const stat_files[NR_STATS] = {
	"batches", "folios", "bytes", "errors", "declined", "fallback_folios",
	"busy_ns", "cpu_folios",
};

struct row {
	char name[NAME_LEN];
	char health[16];		/* migrators only */
	unsigned long long v[NR_STATS];
};

struct sample {
	double time;
	int nr_migrators, nr_reasons;
	struct row migrators[MAX_ROWS], reasons[MAX_ROWS];
};

static int json, all_reasons;

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = !!fgets(buf, len, f);
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The counters of @dir/stats/ that exist; the others stay 0. */
static void read_row(const char *dir, const char *name, struct row *r)
{
	char path[512], buf[64];
	int i;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	for (i = 0; i < NR_STATS; i++) {
		snprintf(path, sizeof(path), "%s/%s/stats/%s", dir, name, stat_files[i]);
		if (!read_line(path, buf, sizeof(buf)))
			r->v[i] = strtoull(buf, NULL, 10);
	}
	snprintf(path, sizeof(path), "%s/%s/healthy", dir, name);
	if (read_line(path, r->health, sizeof(r->health)))
		r->health[0] = '\0';
}

static int cmp_rows(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->name, ((const struct row *)b)->name);
}

static int read_dir(const char *dir, struct row *rows)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (!dp)
		return -1;
	while ((d = readdir(dp)) && n < MAX_ROWS) {
		if (d->d_name[0] == '.')
			continue;
		read_row(dir, d->d_name, &rows[n++]);
	}
	closedir(dp);
	qsort(rows, n, sizeof(*rows), cmp_rows);
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int take_sample(struct sample *s)
{
	s->time = now();
	s->nr_migrators = read_dir(MO_DIR "/migrators", s->migrators);
	s->nr_reasons = read_dir(MO_DIR "/reasons", s->reasons);
	return s->nr_migrators < 0 || s->nr_reasons < 0 ? -1 : 0;
}

/* @r's counters less those of the row of that name in @old, if any. */
static struct row delta(const struct row *r, const struct row *old, int nr_old)
{
	struct row d = *r;
	int i, j;

	for (j = 0; j < nr_old; j++) {
		if (strcmp(old[j].name, r->name))
			continue;
		for (i = 0; i < NR_STATS; i++)
			d.v[i] = r->v[i] >= old[j].v[i] ? r->v[i] - old[j].v[i] : 0;
		break;
	}
	return d;
}

/* One "key":value of a JSON object, a comma after all but the last. */
static void put(const char *key, double v, int last)
{
	printf("\"%s\":%.2f%s", key, v, last ? "}" : ",");
}

/* Per second over @secs, or the totals when @secs is 0. */
static double rate(unsigned long long v, double secs)
{
	return secs > 0 ? v / secs : v;
}

static void print_migrator(const struct row *d, double secs, int first)
{
	double busy = secs > 0 ? d->v[BUSY_NS] / (secs * 1e7) : d->v[BUSY_NS] / 1e9;

	if (json) {
		printf("%s{\"name\":\"%s\",\"health\":\"%s\",",
		       first ? "" : ",", d->name, d->health);
		put("subs", rate(d->v[BATCHES], secs), 0);
		put("folios", rate(d->v[FOLIOS], secs), 0);
		put("mb", rate(d->v[BYTES], secs) / 1e6, 0);
		put("errors", rate(d->v[ERRORS], secs), 0);
		put("declined", rate(d->v[DECLINED], secs), 0);
		put("fallback_folios", rate(d->v[FALLBACK], secs), 0);
		put(secs > 0 ? "busy_pct" : "busy_s", busy, 1);
		return;
	}
	printf("%-20s %-9s %10.0f %10.0f %9.1f %8.0f %8.0f %9.0f %7.1f\n",
	       d->name, d->health, rate(d->v[BATCHES], secs), rate(d->v[FOLIOS], secs),
	       rate(d->v[BYTES], secs) / 1e6, rate(d->v[ERRORS], secs),
	       rate(d->v[DECLINED], secs), rate(d->v[FALLBACK], secs), busy);
}

static void print_reason(const struct row *d, double secs, int first)
{
	if (json) {
		printf("%s{\"name\":\"%s\",", first ? "" : ",", d->name);
		put("batches", rate(d->v[BATCHES], secs), 0);
		put("folios", rate(d->v[FOLIOS], secs), 0);
		put("mb", rate(d->v[BYTES], secs) / 1e6, 0);
		put("fallback_folios", rate(d->v[FALLBACK], secs), 0);
		put("cpu_folios", rate(d->v[CPU], secs), 1);
		return;
	}
	printf("%-20s %10.0f %10.0f %9.1f %9.0f %10.0f\n", d->name,
	       rate(d->v[BATCHES], secs), rate(d->v[FOLIOS], secs),
	       rate(d->v[BYTES], secs) / 1e6, rate(d->v[FALLBACK], secs),
	       rate(d->v[CPU], secs));
}

/* One report: of @cur since @old over @secs, or since boot if @old is NULL. */
static void report(const struct sample *cur, const struct sample *old, double secs)
{
	const char *per = secs > 0 ? "/s" : "";
	int i, n = 0;
	struct row d;

	if (json)
		printf("{\"interval\":%.3f,\"migrators\":[", secs);
	else
		printf("%-20s %-9s %8s%-2s %8s%-2s %7s%-2s %6s%-2s %6s%-2s %7s%-2s %7s\n",
		       "migrator", "health", "subs", per, "folios", per, "MB", per,
		       "errors", per, "declin", per, "fallbk", per,
		       secs > 0 ? "busy%" : "busy_s");
	for (i = 0; i < cur->nr_migrators; i++) {
		d = old ? delta(&cur->migrators[i], old->migrators, old->nr_migrators) :
			  cur->migrators[i];
		print_migrator(&d, secs, !n++);
	}
	if (json)
		printf("],\"reasons\":[");
	else
		printf("%-20s %8s%-2s %8s%-2s %7s%-2s %7s%-2s %8s%-2s\n", "reason",
		       "batches", per, "folios", per, "MB", per, "fallbk", per,
		       "cpu", per);
	for (i = 0, n = 0; i < cur->nr_reasons; i++) {
		d = old ? delta(&cur->reasons[i], old->reasons, old->nr_reasons) :
			  cur->reasons[i];
		if (d.v[BATCHES] || all_reasons)
			print_reason(&d, secs, !n++);
	}
	printf(json ? "]}\n" : "\n");
	fflush(stdout);
}

static void bad_args(const char *prog)
{
	fprintf(stderr, "usage: %s [-j] [-a] [interval [count]]\n"
		"  -j  JSON, one object per sample\n"
		"  -a  all reasons, also those with no batch\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	static struct sample a, b;
	struct sample *cur = &a, *old = &b, *t;
	long interval = 0, count = -1;
	int opt;

	while ((opt = getopt(argc, argv, "jah")) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'a':
			all_reasons = 1;
			break;
		default:
			bad_args(argv[0]);
		}
	}
	if (optind < argc)
		interval = strtol(argv[optind++], NULL, 10);
	if (optind < argc)
		count = strtol(argv[optind++], NULL, 10);
	if (optind < argc || interval < 0 || (interval && !count))
		bad_args(argv[0]);

	if (take_sample(old)) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], MO_DIR, strerror(errno));
		return 1;
	}
	if (!interval) {
		report(old, NULL, 0);
		return 0;
	}
	while (count < 0 || count--) {
		sleep(interval);
		if (take_sample(cur)) {
			fprintf(stderr, "%s: %s: %s\n", argv[0], MO_DIR, strerror(errno));
			return 1;
		}
		report(cur, old, cur->time - old->time);
		t = old;
		old = cur;
		cur = t;
	}
	return 0;
}
