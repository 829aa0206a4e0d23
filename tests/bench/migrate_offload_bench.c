// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel benchmark of the copy phase of page migration, in the style of
 * dmatest: real folios on node 0 copied to node 1 through the real entry
 * point of the batch copy, so that the figures hold the copy and the
 * arbitration and nothing of unmapping, TLB flushes or page tables.
 *
 * Write "MODE ORDER FOLIOS ROUNDS [MIGRATORS]" to
 * /sys/kernel/debug/migrate_offload/bench and read one line of key=value
 * pairs back (modes cpu, offload, paired, and arbitration among MIGRATORS
 * null migrators: Documentation/admin-guide/mm/migrate_offload.rst).
 * After every round that copies, every byte of every destination is
 * compared with its source.  Mode paired runs each offload round right
 * before or after a CPU copy of the same folios: the speed of a TCG host
 * changes within a second, and a ratio to a CPU run taken seconds apart
 * measured the host.
 */
#include <linux/debugfs.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "../migrate_offload.h"

#define BENCH_MAX_ROUNDS	1000
#define BENCH_MAX_BYTES		(128UL << 20)	/* per node */

enum bench_mode {
	BENCH_CPU, BENCH_OFFLOAD, BENCH_PAIRED, BENCH_ARBITRATION, BENCH_SPLIT
};

static const char * const bench_modes[] = {
	"cpu", "offload", "paired", "arbitration", "split"
};

static DEFINE_MUTEX(bench_lock);
static char bench_result[320];
static struct task_struct *bench_task;	/* whose batches null migrators take */

/*
 * Copies nothing, for the benchmark's own batches only; declines those of
 * other tasks (busy: no failure, so the core never takes it out).  Up to
 * MO_MAX_MIGRATORS of them share a priority: the split's worst case.
 */
static int bench_null_copy(struct list_head *dst, struct list_head *src,
			   unsigned int cnt)
{
	return current == READ_ONCE(bench_task) ? 0 : -EBUSY;
}

static struct migrator bench_nulls[MO_MAX_MIGRATORS];

static void bench_nulls_stop(unsigned int n)
{
	while (n--)
		migrate_offload_stop(&bench_nulls[n]);
	WRITE_ONCE(bench_task, NULL);
}

static int bench_nulls_start(unsigned int n)
{
	unsigned int i;
	int ret = 0;

	WRITE_ONCE(bench_task, current);
	for (i = 0; i < n && !ret; i++) {
		bench_nulls[i] = (struct migrator) {
			.offload_copy = bench_null_copy,
			.owner = THIS_MODULE,
			.priority = INT_MAX,
			.reasons = BIT(MR_SYSCALL),
			.weight = 1,
		};
		snprintf(bench_nulls[i].name, MIGRATOR_NAME_LEN, "bench_null%u", i);
		ret = migrate_offload_start(&bench_nulls[i]);
	}
	if (ret)
		bench_nulls_stop(i - 1);
	return ret;
}

static void bench_free(struct list_head *list)
{
	struct folio *folio, *next;

	list_for_each_entry_safe(folio, next, list, lru) {
		list_del(&folio->lru);
		folio_put(folio);
	}
}

/* @nr folios of @order on @nid, each filled with its own pattern. */
static int bench_alloc(struct list_head *list, int nid, unsigned int order,
		       unsigned int nr)
{
	gfp_t gfp = GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN;
	struct folio *folio;
	unsigned int i, p;

	for (i = 0; i < nr; i++) {
		folio = __folio_alloc_node(gfp, order, nid);
		if (!folio)
			return -ENOMEM;
		list_add_tail(&folio->lru, list);
		for (p = 0; p < folio_nr_pages(folio); p++)
			memset_page(folio_page(folio, p), 0, (i + p) | 1,
				    PAGE_SIZE);
		cond_resched();
	}
	return 0;
}

/*
 * The folios of the last run, kept for the next one of the same order and
 * batch size: make bench runs every configuration of a shape in a row, and
 * allocating and filling 128 MiB took longer than copying it.  The same
 * folios for every configuration of a round also pair the runs better.
 */
static LIST_HEAD(bench_src);
static LIST_HEAD(bench_dst);
static unsigned int bench_order, bench_nr;
static unsigned int bench_turn;	/* which of a pair runs first */

static void bench_release(void)
{
	bench_free(&bench_src);
	bench_free(&bench_dst);
	bench_nr = 0;
}

static int bench_folios(unsigned int order, unsigned int nr)
{
	int ret = 0;

	if (order != bench_order || nr != bench_nr) {
		bench_release();
		ret = bench_alloc(&bench_src, 0, order, nr);
		if (!ret)
			ret = bench_alloc(&bench_dst, 1, order, nr);
		if (ret) {
			bench_release();
			return ret;
		}
		bench_order = order;
		bench_nr = nr;
	}
	return 0;
}

static void bench_zero(struct list_head *dst_list)
{
	struct folio *dst;

	list_for_each_entry(dst, dst_list, lru) {
		folio_zero_range(dst, 0, folio_size(dst));
		cond_resched();
	}
}

/*
 * The split alone of the batch among the migrators registered: the work of
 * migrate_offload_copy_batch() before any migrator is called.  The pairs
 * come back reordered, as the split dealt them.
 */
static void bench_split(struct mo_batch *b, struct list_head *dst_list,
			struct list_head *src_list, unsigned int nr,
			unsigned long pages)
{
	struct mo_pairs all = { .nr = nr, .pages = pages };
	unsigned int i;
	int idx;

	list_replace_init(src_list, &all.src);
	list_replace_init(dst_list, &all.dst);
	idx = srcu_read_lock(&migrate_offload_srcu);
	memset(b, 0, offsetof(struct mo_batch, chunk));
	b->t = srcu_dereference(mo_table, &migrate_offload_srcu);
	b->reason = MR_SYSCALL;
	mo_split_begin(b);
	mo_split_assign(b, &all, true);
	mo_split_end(b);
	for_each_set_bit(i, &b->started, MO_MAX_MIGRATORS) {
		list_splice_tail(&b->sub[i].pairs.src, &all.src);
		list_splice_tail(&b->sub[i].pairs.dst, &all.dst);
	}
	srcu_read_unlock(&migrate_offload_srcu, idx);
	list_splice(&all.src, src_list);
	list_splice(&all.dst, dst_list);
}

/*
 * One round: through the migrators unless @cpu, then on the CPU what they
 * did not copy, as the move phase would; *@first_ns: until the first folio
 * the CPU copied.  Destinations a migrator still holds end the run: they
 * are not the benchmark's to reuse.
 */
static int bench_round(struct list_head *dst_list, struct list_head *src_list,
		       unsigned int nr, bool cpu, unsigned int *copied,
		       u64 *first_ns)
{
	u64 start = ktime_get_ns();
	unsigned int i = 0, held = 0;
	struct folio *src, *dst;

	*first_ns = 0;
	*copied = cpu ? nr : migrate_offload_copy_batch(MR_SYSCALL, dst_list,
							src_list, nr, 0, &held);
	if (held)
		return -ETIMEDOUT;
	dst = list_first_entry(dst_list, struct folio, lru);
	list_for_each_entry(src, src_list, lru) {
		if ((cpu || i++ >= *copied) && folio_mc_copy(dst, src))
			return -EHWPOISON;
		if (!*first_ns)
			*first_ns = ktime_get_ns() - start;
		dst = list_next_entry(dst, lru);
	}
	return 0;
}

/* One round of @mode: its time *@ns, until the first folio *@first_ns. */
static int bench_time(enum bench_mode mode, struct mo_batch *b,
		      unsigned int order, unsigned int nr, unsigned int *copied,
		      u64 *ns, u64 *first_ns)
{
	u64 start = ktime_get_ns();
	int ret = 0;

	if (mode == BENCH_SPLIT)
		bench_split(b, &bench_dst, &bench_src, nr, nr << order);
	else
		ret = bench_round(&bench_dst, &bench_src, nr, mode == BENCH_CPU,
				  copied, first_ns);
	*ns = ktime_get_ns() - start;
	/* Batched, no folio is usable before the whole batch is. */
	if (mode != BENCH_CPU)
		*first_ns = *ns;
	return ret;
}

static unsigned long bench_mismatched(struct list_head *dst_list,
				      struct list_head *src_list)
{
	struct folio *src, *dst = list_first_entry(dst_list, struct folio, lru);
	unsigned long bad = 0;
	unsigned int p;

	list_for_each_entry(src, src_list, lru) {
		for (p = 0; p < folio_nr_pages(src); p++)
			bad += !!memcmp(page_address(folio_page(src, p)),
					page_address(folio_page(dst, p)), PAGE_SIZE);
		dst = list_next_entry(dst, lru);
	}
	return bad;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static int bench_run(enum bench_mode mode, unsigned int order, unsigned int nr,
		     unsigned int rounds, unsigned int nulls)
{
	u64 *ns, *first, *ref, *ref_first, *paired;
	u64 bytes = (u64)nr << (order + PAGE_SHIFT);
	struct mo_batch *b = NULL;
	unsigned int r, copied = nr, cpu_copied;
	unsigned long bad = 0;
	int ret;

	/* Node 1 may have no memory, or not exist. */
	if (!node_state(0, N_MEMORY) || !node_state(1, N_MEMORY))
		return -ENODEV;
	ns = kcalloc(5 * rounds, sizeof(*ns), GFP_KERNEL);
	b = kmalloc(struct_size(b, sub, MO_MAX_MIGRATORS), GFP_KERNEL);
	if (!ns || !b) {
		ret = -ENOMEM;
		goto out;
	}
	first = ns + rounds;
	ref = first + rounds;
	ref_first = ref + rounds;
	paired = ref_first + rounds;
	ret = bench_folios(order, nr);
	if (ret)
		goto out;
	if (mode >= BENCH_ARBITRATION) {
		ret = bench_nulls_start(nulls);
		if (ret)
			goto out;
	}
	for (r = 0; r < rounds && !ret; r++) {
		bool pair = mode == BENCH_PAIRED, cpu_first = bench_turn++ & 1;

		if (pair && cpu_first)
			ret = bench_time(BENCH_CPU, b, order, nr, &cpu_copied,
					 &ref[r], &ref_first[r]);
		/* Zeroed and checked: a round that copied nothing fails. */
		if (!ret && mode <= BENCH_PAIRED)
			bench_zero(&bench_dst);
		if (!ret)
			ret = bench_time(pair ? BENCH_OFFLOAD : mode, b, order, nr,
					 &copied, &ns[r], &first[r]);
		/* Before the CPU copy of the pair writes over the offload's. */
		if (!ret && mode <= BENCH_PAIRED)
			bad += bench_mismatched(&bench_dst, &bench_src);
		if (!ret && pair && !cpu_first)
			ret = bench_time(BENCH_CPU, b, order, nr, &cpu_copied,
					 &ref[r], &ref_first[r]);
		paired[r] = div64_u64(ref[r] * 1000, max_t(u64, ns[r], 1));
		cond_resched();
	}
	if (mode >= BENCH_ARBITRATION)
		bench_nulls_stop(nulls);
	if (ret)
		goto out;
	sort(ns, rounds, sizeof(*ns), cmp_u64, NULL);
	sort(first, rounds, sizeof(*first), cmp_u64, NULL);
	sort(ref, rounds, sizeof(*ref), cmp_u64, NULL);
	sort(ref_first, rounds, sizeof(*ref_first), cmp_u64, NULL);
	sort(paired, rounds, sizeof(*paired), cmp_u64, NULL);
	snprintf(bench_result, sizeof(bench_result),
		 "mode=%s order=%u folios=%u rounds=%u migrators=%u bytes=%llu median_ns=%llu min_ns=%llu max_ns=%llu mbps=%llu first_ns=%llu copied=%u bad_pages=%lu cpu_median_ns=%llu cpu_first_ns=%llu paired_permille=%llu\n",
		 bench_modes[mode], order, nr, rounds, nulls, bytes, ns[rounds / 2],
		 ns[0], ns[rounds - 1],
		 div64_u64(bytes * NSEC_PER_USEC, max_t(u64, ns[rounds / 2], 1)),
		 first[rounds / 2], copied, bad, ref[rounds / 2],
		 ref_first[rounds / 2], paired[rounds / 2]);
	ret = bad ? -EIO : 0;
out:
	/* Destinations a migrator may still hold are not ours to reuse. */
	if (ret)
		bench_release();
	kfree(ns);
	kfree(b);
	return ret;
}

static ssize_t bench_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	unsigned int order, nr, rounds, nulls = 1;
	char buf[64], mode[16];
	int m, ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (sscanf(buf, "%15s %u %u %u %u", mode, &order, &nr, &rounds,
		   &nulls) < 4)
		return -EINVAL;
	m = match_string(bench_modes, ARRAY_SIZE(bench_modes), mode);
	if (m < 0 || order > MAX_PAGE_ORDER || !nr || !rounds ||
	    rounds > BENCH_MAX_ROUNDS || !nulls || nulls > MO_MAX_MIGRATORS ||
	    ((u64)nr << (order + PAGE_SHIFT)) > BENCH_MAX_BYTES)
		return -EINVAL;

	mutex_lock(&bench_lock);
	bench_result[0] = '\0';
	ret = bench_run(m, order, nr, rounds, nulls);
	mutex_unlock(&bench_lock);
	return ret ?: count;
}

static ssize_t bench_read(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&bench_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, bench_result,
				      strlen(bench_result));
	mutex_unlock(&bench_lock);
	return ret;
}

static const struct file_operations bench_fops = {
	.owner = THIS_MODULE,
	.read = bench_read,
	.write = bench_write,
	.llseek = default_llseek,
};

static int __init migrate_offload_bench_init(void)
{
	struct dentry *dir = debugfs_create_dir("migrate_offload", NULL);

	debugfs_create_file("bench", 0600, dir, NULL, &bench_fops);
	return 0;
}
late_initcall(migrate_offload_bench_init);
