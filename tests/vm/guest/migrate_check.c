// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_check: fill memory on node 0 with a known pattern, migrate it to
 * node 1 with move_pages(2) or mbind(2), and check that every byte arrived
 * and that every page is on node 1.
 *
 * usage: migrate_check pages|thp|mthp move_pages|mbind SIZE_MIB
 * (mthp: MADV_HUGEPAGE without requiring PMD THPs, for the mTHP sizes the
 * guest enabled under /sys/kernel/mm/transparent_hugepage/hugepages-*)
 * Prints one line "size=... thp_pages=... seconds=... mbps=..." and exits
 * 0 when every check passed.
 */
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

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long i, n, words, bad = 0;
	int thp, huge, use_mbind, *nodes, *status;
	size_t size;
	long thp_kb;
	uint64_t *buf;
	double t0, t1;
	void **pages;
	char *raw;

	if (argc != 4) {
		fprintf(stderr, "usage: %s pages|thp|mthp move_pages|mbind SIZE_MIB\n",
			argv[0]);
		return 2;
	}
	thp = !strcmp(argv[1], "thp");
	huge = thp || !strcmp(argv[1], "mthp");
	use_mbind = !strcmp(argv[2], "mbind");
	size = strtoul(argv[3], NULL, 0) << 20;
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
	if (madvise(buf, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) {
		perror("madvise");
		return 1;
	}
	if (sys_mbind(buf, size, MPOL_BIND, 1UL << 0, 0)) {
		perror("mbind node 0");
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
		nodes[i] = 1;
	}
	if (pages_off_node(pages, n, 0, status)) {
		fprintf(stderr, "memory not on node 0 before migration\n");
		return 1;
	}
	if (thp && thp_kb * 1024 < (long)size / 2) {
		fprintf(stderr, "only %ld KiB of THP backing\n", thp_kb);
		return 1;
	}

	t0 = now();
	if (use_mbind) {
		if (sys_mbind(buf, size, MPOL_BIND, 1UL << 1,
			      MPOL_MF_MOVE | MPOL_MF_STRICT)) {
			perror("mbind node 1");
			return 1;
		}
	} else {
		if (sys_move_pages(n, pages, nodes, status)) {
			perror("move_pages");
			return 1;
		}
	}
	t1 = now();

	for (i = 0; i < words; i++)
		bad += buf[i] != pattern(i);
	printf("size=%zu thp_kb=%ld seconds=%.3f mbps=%.0f off_node=%ld bad_words=%lu\n",
	       size, thp_kb, t1 - t0, size / (t1 - t0) / 1e6,
	       pages_off_node(pages, n, 1, status), bad);
	if (bad) {
		fprintf(stderr, "%lu words corrupted\n", bad);
		return 1;
	}
	if (pages_off_node(pages, n, 1, status)) {
		fprintf(stderr, "pages left off node 1\n");
		return 1;
	}
	return 0;
}
