// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_kinds: one cell of the migration matrix.  Put memory of one folio
 * kind on node 0, fill every byte with a pattern, migrate it to node 1 (or
 * just elsewhere) for one migration reason, and check every byte and where
 * every page went.
 *
 * usage: migrate_kinds KIND HOW SIZE_KIB [FILE]
 *
 * KIND: anon (4 KiB), mthp (MADV_HUGEPAGE, whatever mTHP sizes the guest
 * enabled), thp, shared (MAP_SHARED anonymous), fork (private anonymous
 * shared with a child until it checks its view too), file (MAP_SHARED of
 * FILE: tmpfs, a block filesystem, hugetlbfs), hugetlb (MAP_HUGETLB
 * anonymous), ksm (pages merged by KSM), mlock, writers (threads keep
 * writing the first half of every page while it migrates; each checks its
 * own last values, the second halves keep the pattern).
 *
 * HOW: move_pages, migrate_pages, mbind (to node 1); soft_offline
 * (MADV_SOFT_OFFLINE, memory_failure); compact (/proc/sys/vm/compact_memory
 * with every other page freed first); offline (the memory blocks holding
 * the memory go offline and back online, memory_hotplug); numa (NUMA
 * balancing: the task runs on node 1's CPU and touches the memory until
 * nine tenths of it are there, numa_misplaced); demote (the task's cgroup
 * reclaims the memory, which goes to node 2, the lower tier: demotion);
 * kswapd (memory preferring node 0 fills it until kswapd demotes the data
 * to node 2: demotion, from kswapd);
 * promote (demote, then NUMA balancing in tiering mode brings half of it
 * back to node 0 as it is touched: numa_misplaced); pin (io_uring fixed
 * buffers pin the memory FOLL_LONGTERM, which moves it out of
 * ZONE_MOVABLE first: longterm_pin); contig (the data is placed in the CMA
 * area, which is then allocated whole through CMA's debugfs:
 * contig_range); damon (a DAMON scheme migrates the cold physical range
 * of the data to node 1: damon).  demote and promote need the task in its
 * own cgroup: CGROUP names its directory.
 *
 * EXPECT_FOLIO_KIB: the folio size the data must have before the move
 * (/proc/kpageflags), and after it unless EXPECT_FOLIO_KIB_AFTER says
 * otherwise (0: not checked).
 *
 * Prints "size=... moved=... seconds=... bad_bytes=..." and exits 0 when
 * every byte is intact and the memory went where HOW says.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MPOL_DEFAULT	0
#define MPOL_BIND	2
#define MPOL_MF_STRICT	(1 << 0)
#define MPOL_MF_MOVE	(1 << 1)
#define MPOL_MF_MOVE_ALL (1 << 2)
#define HPAGE		(2UL << 20)
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE	101
#endif
#define NR_WRITERS	2

static long psize;
static size_t size;
static unsigned char *buf;

static long sys_mbind(void *addr, size_t len, int mode, unsigned long nodes,
		      unsigned int flags)
{
	return syscall(SYS_mbind, addr, len, mode, &nodes, 8 * sizeof(nodes),
		       flags);
}

static long set_policy(int mode, unsigned long nodes)
{
	return syscall(SYS_set_mempolicy, mode, mode ? &nodes : NULL,
		       mode ? 8 * sizeof(nodes) : 0);
}

/* MOVE_ALL: pages shared with a child or merged by KSM move too. */
static long sys_move_pages(unsigned long count, void **pages,
			   const int *nodes, int *status)
{
	return syscall(SYS_move_pages, 0, count, pages, nodes, status,
		       nodes ? MPOL_MF_MOVE_ALL : 0);
}

/*
 * Each run has patterns of its own (seeded by its pid): a page freed by an
 * earlier run and reused as a destination never holds the right bytes.
 */
static uint64_t run_seed;

/*
 * Byte i of the data is byte i % 8 of word i / 8, little-endian: filled and
 * checked a word at a time (a byte at a time took most of the time of a
 * 4 MiB cell under TCG besides its migration).
 */
static uint64_t pattern_word(size_t w, unsigned int seed)
{
	return htole64(w * 0x9E3779B97F4A7C15ULL + seed + run_seed);
}

static unsigned char pattern(size_t i, unsigned int seed)
{
	return (unsigned char)(le64toh(pattern_word(i / 8, seed)) >> (8 * (i % 8)));
}

/*
 * KSM needs identical pages: page j of the second half repeats page j of
 * the first, and no two pages of a half are alike, so a merged page that
 * lands at another page's address shows.
 */
static size_t pattern_index(size_t i, int ksm)
{
	return ksm ? i % (size / 2) : i;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static long read_long(const char *path)
{
	char s[64] = "";
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, s, sizeof(s) - 1) < 0)
		s[0] = 0;
	close(fd);
	return strtol(s, NULL, 0);
}

static unsigned long pages_count(void)
{
	return size / psize;
}

static void *page_addr(unsigned long i)
{
	return buf + i * psize;
}

/* Nodes of all pages into @status; the number on @node, or -1. */
static long pages_on_node(int node, int *status)
{
	unsigned long i, n = pages_count();
	void **pages = malloc(n * sizeof(*pages));
	long on = 0;

	if (!pages)
		return -1;
	for (i = 0; i < n; i++)
		pages[i] = page_addr(i);
	if (sys_move_pages(n, pages, NULL, status))
		on = -1;
	for (i = 0; on >= 0 && i < n; i++)
		on += status[i] == node;
	free(pages);
	return on;
}

/* Physical frame of each page (root reads PFNs from pagemap). */
static int page_pfns(uint64_t *pfn)
{
	unsigned long i, n = pages_count();
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e;

	if (fd < 0)
		return -1;
	for (i = 0; i < n; i++) {
		off_t off = ((uintptr_t)page_addr(i) / psize) * 8;

		if (pread(fd, &e, 8, off) != 8) {
			close(fd);
			return -1;
		}
		pfn[i] = e & ((1ULL << 55) - 1);
	}
	close(fd);
	return 0;
}

/* Pages of the data whose frame is not the one in @before. */
static long pages_moved(const uint64_t *before)
{
	unsigned long i, n = pages_count();
	uint64_t *now = malloc(n * sizeof(*now));
	long moved = 0;

	if (!now || page_pfns(now))
		return -1;
	for (i = 0; i < n; i++)
		moved += now[i] != before[i];
	free(now);
	return moved;
}

/*
 * The ways that do not name a node must still have moved the data itself,
 * not merely some page of the system: at least one page of it each.
 */
static int moved_enough(const char *how, long moved)
{
	static const char * const ways[] = { "compact", "pin", "contig",
		"offline", "soft_offline", "demote", "kswapd", NULL };
	int i;

	for (i = 0; ways[i]; i++)
		if (!strcmp(how, ways[i]) && moved <= 0) {
			fprintf(stderr, "%s moved none of the data\n", how);
			return -1;
		}
	return 0;
}

static int do_move_pages(void)
{
	unsigned long i, n = pages_count();
	void **pages = malloc(n * sizeof(*pages));
	int *nodes = malloc(n * sizeof(*nodes));
	int *status = malloc(n * sizeof(*status));
	int ret;

	if (!pages || !nodes || !status)
		return -1;
	for (i = 0; i < n; i++) {
		pages[i] = page_addr(i);
		nodes[i] = 1;
	}
	/* Tail pages of a folio moved already report -EBUSY: main() checks. */
	ret = sys_move_pages(n, pages, nodes, status);
	free(pages);
	free(nodes);
	free(status);
	return ret;
}

static int do_soft_offline(void)
{
	const char *folio_kib = getenv("FOLIO_KIB");
	unsigned long i, step = psize;

	/*
	 * Soft offline splits a THP and migrates its pages one by one:
	 * khugepaged must not collapse them again before the folio check.
	 */
	if (folio_kib) {
		step = strtoul(folio_kib, NULL, 0) << 10;
	} else if (madvise(buf, size, MADV_NOHUGEPAGE)) {
		perror("madvise(MADV_NOHUGEPAGE)");
		return -1;
	}

	/* One call per hugetlb folio: it is offlined whole. */
	for (i = 0; i < size; i += step)
		if (madvise(buf + i, psize, MADV_SOFT_OFFLINE)) {
			perror("madvise(MADV_SOFT_OFFLINE)");
			return -1;
		}
	return 0;
}

/*
 * Take the memory blocks holding the pages offline, then online again, each
 * once: the data of one lands in others, and a block taken offline again
 * whenever the pages went back to it was taken offline 98 times for a
 * 128 MiB cell (106 s on the KASAN kernel).
 */
static int do_offline(void)
{
	unsigned long i, n = pages_count(), done = 0;
	uint64_t *pfn = malloc(n * sizeof(*pfn));
	unsigned int nr_tried = 0, j;
	char path[128] = "";
	long b, block, tried[256];
	int fd;

	if (!pfn || page_pfns(pfn))
		return -1;
	/* block_size_bytes is hex without 0x. */
	fd = open("/sys/devices/system/memory/block_size_bytes", O_RDONLY);
	if (fd < 0 || read(fd, path, sizeof(path) - 1) <= 0)
		return -1;
	close(fd);
	block = strtol(path, NULL, 16);
	if (block <= 0)
		return -1;
	for (i = 0; i < n; i++) {
		b = pfn[i] * psize / block;
		for (j = 0; j < nr_tried && tried[j] != b; j++)
			;
		if (j < nr_tried || nr_tried == sizeof(tried) / sizeof(*tried))
			continue;
		tried[nr_tried++] = b;
		snprintf(path, sizeof(path),
			 "/sys/devices/system/memory/memory%ld/state", b);
		if (!write_file(path, "offline")) {
			done++;
			write_file(path, "online_movable");
		} else {
			char zones[64] = "";
			int zfd;

			fprintf(stderr, "memory%ld: offline: %s\n", b, strerror(errno));
			snprintf(path, sizeof(path),
				 "/sys/devices/system/memory/memory%ld/valid_zones", b);
			zfd = open(path, O_RDONLY);
			if (zfd >= 0 && read(zfd, zones, sizeof(zones) - 1) > 0)
				fprintf(stderr, "memory%ld: valid_zones %s", b, zones);
			if (zfd >= 0)
				close(zfd);
		}
	}
	free(pfn);
	printf("blocks_offlined=%lu\n", done);
	return done ? 0 : -1;
}

/* Free every other page of a scratch area, so compaction has work. */
static int do_compact(void)
{
	size_t scratch = 64UL << 20, i;
	char *s = mmap(NULL, scratch, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (s == MAP_FAILED || madvise(s, scratch, MADV_NOHUGEPAGE))
		return -1;
	memset(s, 1, scratch);
	for (i = 0; i < scratch; i += 2 * psize)
		munmap(s + i, psize);
	return write_file("/proc/sys/vm/compact_memory", "1");
}

static int run_on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * NUMA balancing: touch the memory from node 1's CPU until nine tenths of
 * it is there (its heuristics may leave a few pages behind).
 */
static long numa_enough(void)
{
	return pages_count() - pages_count() / 10;
}

static int do_numa(int *status)
{
	volatile unsigned char sink = 0;
	time_t end = time(NULL) + 60;
	unsigned long i;

	if (run_on_cpu(1))
		return -1;
	while (time(NULL) < end) {
		for (i = 0; i < size; i += 64)
			sink += buf[i];
		if (pages_on_node(1, status) >= numa_enough())
			return 0;
		usleep(20000);
	}
	fprintf(stderr, "only %ld of %lu pages on node 1 after 60 s\n",
		pages_on_node(1, status), pages_count());
	return -1;
}

struct writer {
	pthread_t thread;
	unsigned char *area;
	size_t len;
	volatile int *stop;
	volatile uint32_t pass;
	size_t bad;
};

/* Word @i of the words a writer owns: the first half of every page. */
static uint32_t *writer_word(struct writer *w, size_t i)
{
	size_t per_page = psize / 8;

	return (uint32_t *)(w->area + (i / per_page) * psize) + i % per_page;
}

/*
 * Write passes over its words until stopped; then check every one against
 * its last write, or the pattern where the first pass did not reach.
 */
static void *writer_fn(void *arg)
{
	struct writer *w = arg;
	size_t n = w->len / 8, pos = 0, i;
	uint32_t pass = 1;

	while (!*w->stop) {
		*writer_word(w, pos) = pass << 20 | (pos & 0xfffff);
		if (++pos == n) {
			pos = 0;
			w->pass = ++pass;
		}
	}
	for (i = 0; i < n; i++) {
		uint32_t want = (i < pos ? pass : pass - 1) << 20 | (i & 0xfffff);
		size_t off = (unsigned char *)writer_word(w, i) - buf, b;

		if (pass > 1 || i < pos) {
			w->bad += *writer_word(w, i) != want;
			continue;
		}
		for (b = 0; b < 4; b++)
			w->bad += buf[off + b] != pattern(off + b, 0);
	}
	return NULL;
}

/* memory.reclaim of our cgroup: anonymous pages go to the lower tier. */
static int do_demote(int *status)
{
	const char *cg = getenv("CGROUP");
	char path[256], val[32];
	long on2;

	if (!cg)
		return -1;
	snprintf(path, sizeof(path), "%s/memory.reclaim", cg);
	snprintf(val, sizeof(val), "%zu", size);
	write_file(path, val);	/* EAGAIN when it fell short: checked below */
	on2 = pages_on_node(2, status);
	printf("demoted=%ld\n", on2);
	/* The cell's only reclaimable memory is its data: all of it. */
	return on2 == (long)pages_count() ? 0 : -1;
}

/* MemFree of node @nid in bytes, from its meminfo. */
static long node_free(int nid)
{
	char path[64], line[128];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", nid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Node %*d MemFree: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib << 10;
}

/*
 * kswapd demotes: memory bound to node 0 fills it past its low watermark,
 * which wakes kswapd there; kswapd demotes the oldest anonymous pages to
 * node 2.  (Memory merely preferring node 0 would spill to node 1 at the
 * watermark without waking kswapd.)  Which pages go first is the LRU's
 * choice: the data is the oldest, but reclaim may first take filler
 * (seen: 64 MiB of filler demoted and none of the data, under KASAN).  So
 * the pressure does not stop at one fill: the filler is cycled, each 4 MiB
 * chunk freed and faulted in again, which takes node 0 back to its
 * watermark whenever a chunk had gone to node 2, until the untouched data
 * reaches the tail of the LRU.  It stops as soon as the data is demoted.
 */
static int do_kswapd(int *status)
{
	const size_t chunk = 4UL << 20;
	size_t len = (node_free(0) + (64UL << 20)) & ~(chunk - 1), i;
	time_t end = time(NULL) + 90;
	unsigned long cycled = 0;
	long on2 = 0;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED || madvise(p, len, MADV_HUGEPAGE) ||
	    sys_mbind(p, len, MPOL_BIND, 1UL << 0, 0))
		return -1;
	for (i = 0; on2 <= 0 && time(NULL) < end; i = (i + chunk) % len) {
		if (madvise(p + i, chunk, MADV_DONTNEED))
			break;
		memset(p + i, 1, chunk);
		cycled += chunk >> 20;
		on2 = pages_on_node(2, status);
	}
	munmap(p, len);
	printf("demoted by kswapd: %ld of %lu pages, filler %zu MiB, %lu MiB faulted\n",
	       on2, pages_count(), len >> 20, cycled);
	return on2 > 0 ? 0 : -1;
}

/* NUMA balancing in tiering mode promotes what is touched from node 0. */
static int do_promote(int *status)
{
	volatile unsigned char sink = 0;
	time_t end = time(NULL) + 60;
	long on2, on0;
	size_t i;

	if (do_demote(status))
		return -1;
	on2 = pages_on_node(2, status);
	if (write_file("/proc/sys/kernel/numa_balancing", "2"))
		return -1;
	while (time(NULL) < end) {
		for (i = 0; i < size; i += 64)
			sink += buf[i];
		on0 = pages_on_node(0, status);
		if (pages_on_node(2, status) <= on2 / 2)
			break;
		usleep(20000);
	}
	write_file("/proc/sys/kernel/numa_balancing", "0");
	on0 = pages_on_node(0, status);
	printf("promoted: node2 %ld -> %ld, node0 %ld\n", on2,
	       pages_on_node(2, status), on0);
	return pages_on_node(2, status) <= on2 / 2 ? 0 : -1;
}

/* io_uring fixed buffers: pinned FOLL_LONGTERM, out of ZONE_MOVABLE first. */
static int do_pin(void)
{
	struct io_uring_params p = {};
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	uint64_t *before = malloc(pages_count() * sizeof(*before));
	uint64_t *after = malloc(pages_count() * sizeof(*after));
	unsigned long i, moved = 0;
	int fd, ret;

	if (!before || !after || page_pfns(before))
		return -1;
	fd = syscall(__NR_io_uring_setup, 4, &p);
	if (fd < 0)
		return -1;
	ret = syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, &iov, 1);
	if (!ret && !page_pfns(after))
		for (i = 0; i < pages_count(); i++)
			moved += before[i] != after[i];
	close(fd);	/* unpins */
	printf("pinned: %lu of %lu pages moved\n", moved, pages_count());
	free(before);
	free(after);
	/* Bound to node 0, faulted in ZONE_MOVABLE (movablecore): all move. */
	return ret || moved != pages_count() ? -1 : 0;
}

#define CMA_DIR	"/sys/kernel/debug/cma/reserved"

/*
 * Allocate (@what "alloc") or give back ("free") the whole CMA area: the
 * allocation migrates out whatever lies there, and fails an attempt when a
 * page is under a reference for a while (seconds, right after an earlier
 * cell gave the area back): up to 10 s of attempts.
 */
static int cma_all(const char *what)
{
	char path[64], count[32];
	int tries;

	snprintf(path, sizeof(path), CMA_DIR "/%s", what);
	snprintf(count, sizeof(count), "%ld", read_long(CMA_DIR "/count"));
	for (tries = 0; tries < 100; tries++) {
		if (!write_file(path, count))
			return 0;
		usleep(100000);
	}
	return -1;
}

/*
 * Place the data in the CMA area (cma=32M@448M, node 0's ZONE_MOVABLE):
 * allocate the whole area and give it back from CPU 0.  The pages go to
 * CPU 0's lists of free movable pages, which the data, faulted in next on
 * CPU 0, takes first.
 */
static int cma_place_data(void)
{
	if (run_on_cpu(0) || cma_all("alloc") || cma_all("free")) {
		fprintf(stderr, "could not cycle the CMA area\n");
		return -1;
	}
	return 0;
}

/* Pages of the data inside the CMA area. */
static long pages_in_cma(void)
{
	unsigned long i, n = pages_count();
	uint64_t *pfn = malloc(n * sizeof(*pfn));
	long base = read_long(CMA_DIR "/base_pfn");
	long count = read_long(CMA_DIR "/count"), in = 0;

	if (!pfn || page_pfns(pfn) || base <= 0 || count <= 0)
		return -1;
	for (i = 0; i < n; i++)
		in += pfn[i] >= (uint64_t)base && pfn[i] < (uint64_t)(base + count);
	free(pfn);
	return in;
}

/* Allocate the whole CMA area: alloc_contig_range() moves the data out. */
static int do_contig(void)
{
	long before = pages_in_cma(), after;
	int ret = cma_all("alloc");

	after = pages_in_cma();
	if (!ret)
		ret = cma_all("free");
	printf("pages in the CMA area: %ld before, %ld after\n", before, after);
	return !ret && before > 0 && !after ? 0 : -1;
}

#define DAMON_CTX "/sys/kernel/mm/damon/admin/kdamonds/0/contexts/0"

static int damon_write(const char *rel, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), DAMON_CTX "/%s", rel);
	if (!write_file(path, val))
		return 0;
	perror(path);
	return -1;
}

/*
 * DAMON on the physical range of the data, one scheme: migrate_cold to
 * node 1 of every region not accessed in an aggregation interval.
 */
static int do_damon(int *status)
{
	unsigned long i, n = pages_count();
	uint64_t *pfn = malloc(n * sizeof(*pfn)), lo = ~0ULL, hi = 0;
	time_t end = time(NULL) + 60;
	char start[32], stop[32];
	int ret;

	if (!pfn || page_pfns(pfn))
		return -1;
	for (i = 0; i < n; i++) {
		lo = pfn[i] < lo ? pfn[i] : lo;
		hi = pfn[i] > hi ? pfn[i] : hi;
	}
	free(pfn);
	snprintf(start, sizeof(start), "%llu", (unsigned long long)lo * psize);
	snprintf(stop, sizeof(stop), "%llu", (unsigned long long)(hi + 1) * psize);
	if (write_file("/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds", "1") ||
	    write_file("/sys/kernel/mm/damon/admin/kdamonds/0/contexts/nr_contexts", "1") ||
	    damon_write("operations", "paddr") ||
	    damon_write("targets/nr_targets", "1") ||
	    damon_write("targets/0/regions/nr_regions", "1") ||
	    damon_write("targets/0/regions/0/start", start) ||
	    damon_write("targets/0/regions/0/end", stop) ||
	    damon_write("schemes/nr_schemes", "1") ||
	    damon_write("schemes/0/action", "migrate_cold") ||
	    damon_write("schemes/0/target_nid", "1") ||
	    damon_write("schemes/0/access_pattern/sz/max", "1099511627776") ||
	    damon_write("schemes/0/access_pattern/age/max", "1000000") ||
	    write_file("/sys/kernel/mm/damon/admin/kdamonds/0/state", "on"))
		return -1;
	/* Best effort, as NUMA balancing: a page busy at every try stays. */
	while (pages_on_node(1, status) < numa_enough() && time(NULL) < end)
		usleep(100000);
	ret = write_file("/sys/kernel/mm/damon/admin/kdamonds/0/state", "off");
	return ret || pages_on_node(1, status) < numa_enough() ? -1 : 0;
}

static int migrate(const char *how, int *status)
{
	if (!strcmp(how, "move_pages"))
		return do_move_pages();
	if (!strcmp(how, "migrate_pages")) {
		unsigned long from = 1, to = 2;

		/* >= 0: pages not migrated; main() checks the region. */
		return syscall(SYS_migrate_pages, 0, 8 * sizeof(long), &from,
			       &to) < 0;
	}
	if (!strcmp(how, "mbind"))
		return sys_mbind(buf, size, MPOL_BIND, 1UL << 1,
				 MPOL_MF_MOVE | MPOL_MF_STRICT);
	if (!strcmp(how, "soft_offline"))
		return do_soft_offline();
	if (!strcmp(how, "compact"))
		return do_compact();
	if (!strcmp(how, "offline"))
		return do_offline();
	if (!strcmp(how, "numa"))
		return do_numa(status);
	if (!strcmp(how, "pin"))
		return do_pin();
	if (!strcmp(how, "demote"))
		return do_demote(status);
	if (!strcmp(how, "promote"))
		return do_promote(status);
	if (!strcmp(how, "contig"))
		return do_contig();
	if (!strcmp(how, "kswapd"))
		return do_kswapd(status);
	if (!strcmp(how, "damon"))
		return do_damon(status);
	fprintf(stderr, "unknown HOW %s\n", how);
	return -1;
}

static void *map_kind(const char *kind, const char *file)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS, fd = -1;
	size_t len = size + HPAGE;
	char *raw;

	if (!strcmp(kind, "shared"))
		flags = MAP_SHARED | MAP_ANONYMOUS;
	if (!strcmp(kind, "hugetlb")) {
		flags |= MAP_HUGETLB;
		len = size;
	}
	if (!strcmp(kind, "file")) {
		fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, size)) {
			perror(file);
			return NULL;
		}
		flags = MAP_SHARED;
		len = size;
	}
	raw = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (fd >= 0)
		close(fd);
	if (raw == MAP_FAILED) {
		perror("mmap");
		return NULL;
	}
	if (len == size)
		return raw;
	return (void *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
}

static int prepare(const char *kind, const char *how)
{
	int huge = !strcmp(kind, "thp") || !strcmp(kind, "mthp");
	int ksm = !strcmp(kind, "ksm");
	size_t i;

	if (strcmp(kind, "hugetlb") && strcmp(kind, "file") &&
	    madvise(buf, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) {
		perror("madvise");
		return -1;
	}
	/*
	 * First touch on node 0: NUMA balancing needs the default policy
	 * (it does not scan a VMA bound without MPOL_F_NUMA_BALANCING);
	 * page cache follows the task's policy, not the mapping's.
	 */
	if (!strcmp(how, "numa") || !strcmp(how, "promote")) {
		if (run_on_cpu(0))
			return -1;
	} else if (sys_mbind(buf, size, MPOL_BIND, 1UL << 0, 0) ||
		   set_policy(MPOL_BIND, 1UL << 0)) {
		perror("mbind node 0");
		return -1;
	}
	for (i = 0; i < size / 8; i++)
		((uint64_t *)buf)[i] = pattern_word(pattern_index(i * 8, ksm) / 8, 0);
	if (set_policy(MPOL_DEFAULT, 0))
		return -1;
	if (!strcmp(kind, "mlock") && mlock(buf, size)) {
		perror("mlock");
		return -1;
	}
	if (ksm) {
		time_t end = time(NULL) + 60;

		/* ksmd runs only to merge: its references make moves retry. */
		if (write_file("/sys/kernel/mm/ksm/run", "1") ||
		    madvise(buf, size, MADV_MERGEABLE)) {
			perror("madvise(MADV_MERGEABLE)");
			return -1;
		}
		while (read_long("/proc/self/ksm_merging_pages") <
		       (long)pages_count() / 2) {
			if (time(NULL) > end) {
				fprintf(stderr, "KSM merged too little\n");
				return -1;
			}
			usleep(50000);
		}
		if (write_file("/sys/kernel/mm/ksm/run", "0"))
			return -1;
	}
	return 0;
}

/* Bytes off the pattern @seed; writers own the first half of each page. */
static size_t check_pattern(const char *kind, unsigned int seed)
{
	int ksm = !strcmp(kind, "ksm"), writers = !strcmp(kind, "writers");
	const uint64_t *word = (const uint64_t *)buf;
	size_t i, b, bad = 0;
	uint64_t diff;

	for (i = 0; i < size / 8; i++) {
		if (writers && i * 8 % psize < (size_t)psize / 2)
			continue;
		diff = word[i] ^ pattern_word(pattern_index(i * 8, ksm) / 8, seed);
		for (b = 0; diff && b < 8; b++)	/* bytes, as they lie */
			bad += !!((unsigned char *)&diff)[b];
	}
	return bad;
}

static size_t check_bytes(const char *kind)
{
	return check_pattern(kind, 0);
}

static void fill(unsigned int seed)
{
	size_t i;

	for (i = 0; i < size / 8; i++)
		((uint64_t *)buf)[i] = pattern_word(i, seed);
}

/*
 * fork: the child shares the pages until the parent has migrated them; then
 * both see the data, and each writes its own over the moved pages (breaking
 * copy-on-write of every page) and must read back its own, not the other's.
 */
static pid_t fork_sharer(int *go)
{
	pid_t pid;
	char c;

	if (pipe(go))
		return -1;
	pid = fork();
	if (pid)
		return pid;
	close(go[1]);
	if (read(go[0], &c, 1) != 1)
		_exit(2);
	if (check_bytes("fork"))
		_exit(1);
	fill(2);
	usleep(100000);		/* the parent writes meanwhile */
	_exit(check_pattern("fork", 2) ? 3 : 0);
}

/* The folio size of the data in KiB, 0 if mixed; -1 on error. */
static long folio_kib(void)
{
	unsigned long i, n = pages_count(), heads = 0, large = 0;
	uint64_t *pfn = malloc(n * sizeof(*pfn)), flags;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (!pfn || fd < 0 || page_pfns(pfn))
		return -1;
	for (i = 0; i < n; i++) {
		if (pread(fd, &flags, 8, pfn[i] * 8) != 8)
			return -1;
		heads += (flags >> 15) & 1;	/* KPF_COMPOUND_HEAD */
		large += ((flags >> 15) | (flags >> 16)) & 1;	/* _TAIL */
	}
	close(fd);
	free(pfn);
	if (!large)
		return psize >> 10;
	return large == n && heads ? (long)(n / heads * psize) >> 10 : 0;
}

/* EXPECT_FOLIO_KIB (@after: EXPECT_FOLIO_KIB_AFTER first) against the data. */
static int check_folio_kib(int after)
{
	const char *want = getenv("EXPECT_FOLIO_KIB");
	long got;

	if (after && getenv("EXPECT_FOLIO_KIB_AFTER"))
		want = getenv("EXPECT_FOLIO_KIB_AFTER");
	if (!want || !strcmp(want, "0"))
		return 0;
	got = folio_kib();
	printf("folio_kib_%s=%ld\n", after ? "after" : "before", got);
	if (got == strtol(want, NULL, 0))
		return 0;
	fprintf(stderr, "folios of %ld KiB %s the move, want %s\n", got,
		after ? "after" : "before", want);
	return -1;
}

int main(int argc, char **argv)
{
	const char *kind, *how;
	struct writer w[NR_WRITERS] = {};
	volatile int stop = 0;
	size_t bad, wbad = 0;
	int *status, go[2], i, rc, child_rc = 0;
	pid_t child = 0;
	long on1, moved;
	uint64_t *pfn0;
	struct timespec t0, t1;

	if (argc < 4) {
		fprintf(stderr, "usage: %s KIND HOW SIZE_KIB [FILE]\n", argv[0]);
		return 2;
	}
	kind = argv[1];
	how = argv[2];
	size = strtoul(argv[3], NULL, 0) << 10;
	psize = sysconf(_SC_PAGESIZE);
	run_seed = (uint64_t)getpid() * 0x2545F4914F6CDD1DULL;
	if (getenv("CGROUP")) {
		char path[256];

		snprintf(path, sizeof(path), "%s/cgroup.procs", getenv("CGROUP"));
		if (write_file(path, "0")) {
			perror(path);
			return 1;
		}
	}
	if (!strcmp(how, "contig") && cma_place_data())
		return 1;
	/*
	 * Reclaim by the cell demotes its data only, not the program's own
	 * heap and stack: locked, as they are faulted in; the data is not.
	 */
	if ((!strcmp(how, "demote") || !strcmp(how, "promote")) &&
	    mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) {
		perror("mlockall");
		return 1;
	}
	buf = map_kind(kind, argc > 4 ? argv[4] : "");
	if (buf && munlock(buf, size)) {
		perror("munlock");
		return 1;
	}
	status = malloc(pages_count() * sizeof(*status));
	if (!buf || !status || prepare(kind, how) || check_folio_kib(0))
		return 1;
	/* A page another task migrates meanwhile (compaction) reads busy. */
	for (i = 0; pages_on_node(0, status) != (long)pages_count(); i++) {
		if (i == 50) {
			fprintf(stderr, "memory not on node 0 before migration\n");
			return 1;
		}
		usleep(20000);
	}
	if (!strcmp(kind, "fork")) {
		child = fork_sharer(go);
		if (child < 0)
			return 1;
	}
	if (!strcmp(kind, "writers")) {
		for (i = 0; i < NR_WRITERS; i++) {
			w[i].area = buf + i * (size / NR_WRITERS);
			w[i].len = size / NR_WRITERS;
			w[i].stop = &stop;
			pthread_create(&w[i].thread, NULL, writer_fn, &w[i]);
		}
		/* Each has written all its words once before the move. */
		for (i = 0; i < NR_WRITERS; i++)
			while (w[i].pass < 2)
				usleep(1000);
	}

	pfn0 = malloc(pages_count() * sizeof(*pfn0));
	if (!pfn0 || page_pfns(pfn0))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = migrate(how, status);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc)
		perror(how);

	/* Stopped as the move ends: a wrong word has no time to be rewritten. */
	stop = 1;
	if (!strcmp(kind, "writers")) {
		for (i = 0; i < NR_WRITERS; i++) {
			pthread_join(w[i].thread, NULL);
			wbad += w[i].bad;
		}
	}
	bad = wbad + check_bytes(kind);
	/* Before copy-on-write moves pages: */
	on1 = pages_on_node(1, status);
	moved = pages_moved(pfn0);
	if (child) {
		if (write(go[1], "x", 1) != 1)
			return 1;
		fill(1);
		if (waitpid(child, &child_rc, 0) < 0)
			return 1;
		child_rc = WIFEXITED(child_rc) ? WEXITSTATUS(child_rc) : 1;
		bad += check_pattern(kind, 1);
	}
	printf("size=%zu pages=%lu on_node1=%ld moved_pages=%ld seconds=%.3f bad_bytes=%zu child=%d\n",
	       size, pages_count(), on1, moved,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, bad,
	       child_rc);
	if (rc || bad || child_rc || check_folio_kib(1) || moved_enough(how, moved))
		return 1;
	/* The ways that name node 1 must have put every page there. */
	if ((!strcmp(how, "numa") || !strcmp(how, "damon")) && on1 < numa_enough()) {
		fprintf(stderr, "too few pages on node 1\n");
		return 1;
	}
	if ((!strcmp(how, "move_pages") || !strcmp(how, "migrate_pages") ||
	     !strcmp(how, "mbind")) && on1 != (long)pages_count()) {
		fprintf(stderr, "pages left off node 1\n");
		return 1;
	}
	return 0;
}
