// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_check: fill memory on node 0 with a known pattern, migrate it to
 * node 1 with move_pages(2) or mbind(2), and check that every byte arrived
 * and that every page is on node 1.
 *
 * usage: migrate_check pages|thp|mthp|mixed move_pages|mbind SIZE_MIB
 * (mthp: MADV_HUGEPAGE without requiring PMD THPs, for the mTHP sizes the
 * guest enabled under /sys/kernel/mm/transparent_hugepage/hugepages-*;
 * mixed: MADV_HUGEPAGE on every other 64 KiB, so that with 64 KiB mTHPs
 * every batch holds both 4 KiB folios and mTHPs)
 * With REVERSE=1 it migrates from node 1 to node 0 instead; with
 * CHUNK_PAGES=N, move_pages(2) moves N pages a call (a batch of N folios
 * of 4 KiB).
 * Prints one line "size=... thp_pages=... seconds=... mbps=..." and exits
 * 0 when every check passed.
 *
 * With CANARY_MIB and LATE_MS set, it then watches for late DMA: it fills
 * CANARY_MIB of fresh memory on each of node 0 and node 1 (where the
 * migration just freed source and unused destination pages) with a
 * canary, waits LATE_MS, and checks the canary and every byte of the
 * migrated memory again.  A transfer that outlived the copy shows as a
 * changed canary or a changed migrated byte.
 *
 * With UNMIGRATED_OK set, pages the kernel could not migrate (a copy
 * engine that timed out holds their destinations) are allowed: counted,
 * every byte still checked.
 *
 * With HELD_FILE and RELEASE_FILE set (an engine that never completes,
 * whose late transfers the kernel must keep away from live pages), pages
 * the kernel could not migrate are allowed (counted, every byte still
 * checked); after the canaries it writes new contents to all its memory,
 * creates HELD_FILE, waits for RELEASE_FILE to exist (the test then lets
 * the engine complete), waits LATE_MS, and checks the canaries and that
 * its memory holds the new contents: a late transfer may land only in
 * pages the kernel kept out of circulation.
 */
#include <sys/stat.h>
#include <fcntl.h>
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MPOL_BIND	2
#define MPOL_MF_STRICT	(1 << 0)
#define MPOL_MF_MOVE	(1 << 1)
#define HPAGE		(2UL << 20)
#define CANARY		0x5A5A5A5A5A5A5A5AULL

static long page_size;

static long sys_mbind(void *addr, size_t len, int mode, unsigned long nodes,
		      unsigned int flags)
{
	return syscall(SYS_mbind, addr, len, mode, &nodes, 8 * sizeof(nodes),
		       flags);
}

static long sys_move_pages(unsigned long count, void **pages,
			   const int *nodes, int *status)
{
	return syscall(SYS_move_pages, 0, count, pages, nodes, status, 0);
}

static uint64_t pattern(size_t i)
{
	return (i * 0x9E3779B97F4A7C15ULL) ^ 0xA5A5A5A5DEADBEEFULL;
}

static long meminfo_kb(const char *key)
{
	char line[256];
	long val = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			val = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return val;
}

/* Count pages not on @node; -1 on a query error. */
static long pages_off_node(void **pages, unsigned long n, int node, int *status)
{
	unsigned long i;
	long off = 0;

	if (sys_move_pages(n, pages, NULL, status))
		return -1;
	for (i = 0; i < n; i++)
		off += status[i] != node;
	return off;
}

static int advise(uint64_t *buf, size_t size, int huge, int mixed)
{
	size_t off, step = 64 << 10;

	if (!mixed)
		return madvise(buf, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	for (off = 0; off < size; off += step)
		if (madvise((char *)buf + off, step,
			    (off / step) % 2 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
			return -1;
	return 0;
}

#define NEW_SEED	0x0123456789ABCDEFULL

static unsigned long check(const uint64_t *buf, size_t words, uint64_t seed)
{
	unsigned long i, bad = 0;

	for (i = 0; i < words; i++)
		bad += buf[i] != (pattern(i) ^ seed);
	return bad;
}

/* Fresh memory on @node filled with a canary; NULL on failure. */
static uint64_t *canary_fill(size_t size, int node)
{
	uint64_t *c = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (c == MAP_FAILED || madvise(c, size, MADV_NOHUGEPAGE) ||
	    sys_mbind(c, size, MPOL_BIND, 1UL << node, 0))
		return NULL;
	for (i = 0; i < size / sizeof(*c); i++)
		c[i] = pattern(i) ^ CANARY;
	return c;
}

/* Late DMA: changed canary words on nodes 0 and 1, changed migrated words. */
static int watch_late_writes(uint64_t *buf, size_t words)
{
	size_t csize = strtoul(getenv("CANARY_MIB"), NULL, 0) << 20;
	uint64_t *c0 = canary_fill(csize, 0), *c1 = canary_fill(csize, 1);
	unsigned long late, again;
	uint64_t seed = 0;
	size_t i;

	if (!c0 || !c1) {
		perror("canary");
		return -1;
	}
	if (getenv("RELEASE_FILE")) {
		seed = NEW_SEED;
		for (i = 0; i < words; i++)
			buf[i] = pattern(i) ^ seed;
		close(open(getenv("HELD_FILE"), O_CREAT | O_WRONLY, 0644));
		while (access(getenv("RELEASE_FILE"), F_OK))
			usleep(10000);
	}
	usleep(strtoul(getenv("LATE_MS") ?: "0", NULL, 0) * 1000);
	late = check(c0, csize / 8, CANARY) + check(c1, csize / 8, CANARY);
	again = check(buf, words, seed);
	printf("canary_words=%zu late_writes=%lu changed_after=%lu\n",
	       2 * csize / 8, late, again);
	return late || again ? -1 : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long i, n, words, bad = 0;
	int thp, huge, mixed, use_mbind, from, to, *nodes, *status;
	size_t size;
	long thp_kb;
	uint64_t *buf;
	double t0, t1;
	int held_ok = getenv("RELEASE_FILE") || getenv("UNMIGRATED_OK");
	long unmigrated = 0;
	void **pages;
	char *raw;

	if (argc != 4) {
		fprintf(stderr, "usage: %s pages|thp|mthp|mixed move_pages|mbind SIZE_MIB\n",
			argv[0]);
		return 2;
	}
	thp = !strcmp(argv[1], "thp");
	huge = thp || !strcmp(argv[1], "mthp");
	mixed = !strcmp(argv[1], "mixed");
	use_mbind = !strcmp(argv[2], "mbind");
	size = strtoul(argv[3], NULL, 0) << 20;
	from = getenv("REVERSE") && atoi(getenv("REVERSE")) ? 1 : 0;
	to = !from;
	page_size = sysconf(_SC_PAGESIZE);
	n = size / page_size;
	words = size / sizeof(uint64_t);

	raw = mmap(NULL, size + HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	buf = (uint64_t *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
	if (advise(buf, size, huge, mixed)) {
		perror("madvise");
		return 1;
	}
	if (sys_mbind(buf, size, MPOL_BIND, 1UL << from, 0)) {
		perror("mbind source node");
		return 1;
	}
	thp_kb = meminfo_kb("AnonHugePages:");
	for (i = 0; i < words; i++)
		buf[i] = pattern(i);
	thp_kb = meminfo_kb("AnonHugePages:") - thp_kb;

	pages = malloc(n * sizeof(*pages));
	nodes = malloc(n * sizeof(*nodes));
	status = malloc(n * sizeof(*status));
	if (!pages || !nodes || !status)
		return 1;
	for (i = 0; i < n; i++) {
		pages[i] = (char *)buf + i * page_size;
		nodes[i] = to;
	}
	if (pages_off_node(pages, n, from, status)) {
		fprintf(stderr, "memory not on node %d before migration\n", from);
		return 1;
	}
	if (thp && thp_kb * 1024 < (long)size / 2) {
		fprintf(stderr, "only %ld KiB of THP backing\n", thp_kb);
		return 1;
	}

	t0 = now();
	if (use_mbind) {
		if (sys_mbind(buf, size, MPOL_BIND, 1UL << to,
			      MPOL_MF_MOVE | MPOL_MF_STRICT)) {
			perror("mbind destination node");
			return 1;
		}
	} else {
		unsigned long step = strtoul(getenv("CHUNK_PAGES") ?: "0", NULL, 0);
		long ret;

		for (i = 0; i < n && unmigrated >= 0; i += step) {
			step = step && step < n - i ? step : n - i;
			ret = sys_move_pages(step, pages + i, nodes + i, status + i);
			unmigrated = ret < 0 ? ret : unmigrated + ret;
		}
		if (unmigrated < 0 || (unmigrated && !held_ok)) {
			perror("move_pages");
			return 1;
		}
	}
	t1 = now();

	bad = check(buf, words, 0);
	printf("size=%zu thp_kb=%ld seconds=%.3f mbps=%.0f off_node=%ld bad_words=%lu\n",
	       size, thp_kb, t1 - t0, size / (t1 - t0) / 1e6,
	       pages_off_node(pages, n, to, status), bad);
	if (bad) {
		fprintf(stderr, "%lu words corrupted\n", bad);
		return 1;
	}
	if (unmigrated)
		printf("not_migrated=%ld\n", unmigrated);
	if (pages_off_node(pages, n, to, status) && !held_ok) {
		fprintf(stderr, "pages left off node %d\n", to);
		return 1;
	}
	return getenv("CANARY_MIB") && watch_late_writes(buf, words) ? 1 : 0;
}
