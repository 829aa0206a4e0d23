// SPDX-License-Identifier: GPL-2.0
/*
 * mtcopy: copy the folios of a page migration batch with several CPU
 * threads.
 *
 * A sub-batch is cut into equal ranges of base pages: a large folio may be
 * cut across threads, a list of small folios is dealt out in runs.  The
 * calling thread copies the first range; each other range runs on a CPU of
 * its own, bound there on a private WQ_MEM_RECLAIM | WQ_HIGHPRI workqueue.
 *
 * A helper that queues behind the caller or behind another helper turns a
 * parallel copy into a serial one plus overhead, so helpers go only to CPUs
 * that are idle and that no other mtcopy call has claimed: idle CPUs of the
 * destination node first (the copy writes local memory), then any idle
 * CPU.  There are never more helpers than such CPUs; with none, the caller
 * copies the whole sub-batch itself, as fast as the CPU copy without
 * offload.  Each page is copied machine-check safe; an error fails the
 * sub-batch, which the core then copies elsewhere.  Nothing is allocated
 * per call: migration runs inside reclaim.
 */
#include <linux/cpumask.h>
#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/migrate_copy_offload.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/workqueue.h>

#define MTCOPY_MAX_THREADS	8

static unsigned int threads = 4;
module_param(threads, uint, 0644);
MODULE_PARM_DESC(threads, "Threads per sub-batch, caller included (1-8, default 4)");

static int priority = 10;
module_param(priority, int, 0444);
MODULE_PARM_DESC(priority, "Default priority (default 10)");

static unsigned long orders = ~1UL;
module_param(orders, ulong, 0444);
MODULE_PARM_DESC(orders, "Folio orders served, BIT(order) mask (default all but order 0)");

static unsigned long reasons;
module_param(reasons, ulong, 0444);
MODULE_PARM_DESC(reasons, "Migration reasons served, BIT(MR_*) mask (default 0: all)");

static unsigned int min_batch_pages = 512;
module_param(min_batch_pages, uint, 0444);
MODULE_PARM_DESC(min_batch_pages, "Smallest batch taken, in base pages (default 512)");

static unsigned long helpers, alone;
module_param(helpers, ulong, 0444);
MODULE_PARM_DESC(helpers, "Ranges copied by helper CPUs");
module_param(alone, ulong, 0444);
MODULE_PARM_DESC(alone, "Sub-batches the caller copied alone: no idle CPU to help");

static struct workqueue_struct *mtcopy_wq;
static struct cpumask mtcopy_claimed;	/* CPUs running a helper */

/* Base pages [first, last) of a batch, counted over its folios in order. */
struct mtcopy_range {
	struct work_struct work;
	struct list_head *dst_list, *src_list;
	unsigned long first, last;
	int ret;
};

static int mtcopy_copy_range(struct mtcopy_range *r)
{
	struct folio *src, *dst = list_first_entry(r->dst_list, struct folio, lru);
	unsigned long pos = 0, i, nr;

	list_for_each_entry(src, r->src_list, lru) {
		nr = folio_nr_pages(src);
		for (i = max(r->first, pos) - pos; i < nr && pos + i < r->last; i++)
			if (copy_mc_highpage(folio_page(dst, i), folio_page(src, i)))
				return -EHWPOISON;
		pos += nr;
		if (pos >= r->last)
			break;
		dst = list_next_entry(dst, lru);
		cond_resched();
	}
	return 0;
}

static void mtcopy_workfn(struct work_struct *work)
{
	struct mtcopy_range *r = container_of(work, struct mtcopy_range, work);

	r->ret = mtcopy_copy_range(r);
}

static bool mtcopy_claim(int cpu)
{
	return migrate_offload_idle_cpu(cpu) &&
	       !cpumask_test_and_set_cpu(cpu, &mtcopy_claimed);
}

/* Up to @want idle CPUs for helpers, those of node @nid first. */
static unsigned int mtcopy_claim_cpus(int nid, unsigned int want, int *cpus)
{
	unsigned int n = 0;
	int cpu;

	for_each_cpu(cpu, cpumask_of_node(nid))
		if (n < want && cpu_online(cpu) && mtcopy_claim(cpu))
			cpus[n++] = cpu;
	for_each_online_cpu(cpu)
		if (n < want && cpu_to_node(cpu) != nid && mtcopy_claim(cpu))
			cpus[n++] = cpu;
	return n;
}

static int mtcopy_copy(struct list_head *dst_list, struct list_head *src_list,
		       unsigned int cnt)
{
	struct folio *dst = list_first_entry(dst_list, struct folio, lru);
	struct mtcopy_range r[MTCOPY_MAX_THREADS];
	int cpus[MTCOPY_MAX_THREADS - 1];
	unsigned long pages = 0, per;
	unsigned int n, i;
	struct folio *src;
	int ret;

	list_for_each_entry(src, src_list, lru)
		pages += folio_nr_pages(src);
	n = clamp(READ_ONCE(threads), 1U, MTCOPY_MAX_THREADS);
	n = min_t(unsigned long, n, pages);
	n = 1 + mtcopy_claim_cpus(folio_nid(dst), n - 1, cpus);
	per = DIV_ROUND_UP(pages, n);
	if (n > 1)
		helpers += n - 1;	/* statistics: races are fine */
	else if (READ_ONCE(threads) > 1)
		alone++;

	for (i = 0; i < n; i++) {
		r[i].dst_list = dst_list;
		r[i].src_list = src_list;
		r[i].first = min(pages, i * per);
		r[i].last = min(pages, (i + 1) * per);
	}
	for (i = 1; i < n; i++) {
		INIT_WORK_ONSTACK(&r[i].work, mtcopy_workfn);
		queue_work_on(cpus[i - 1], mtcopy_wq, &r[i].work);
	}
	ret = mtcopy_copy_range(&r[0]);
	for (i = 1; i < n; i++) {
		flush_work(&r[i].work);
		destroy_work_on_stack(&r[i].work);
		cpumask_clear_cpu(cpus[i - 1], &mtcopy_claimed);
		ret = ret ?: r[i].ret;
	}
	return ret;
}

static struct migrator mtcopy = {
	.name = "mtcopy",
	.offload_copy = mtcopy_copy,
	.owner = THIS_MODULE,
	.mc_safe = true,	/* copy_mc_highpage() */
};

static int __init mtcopy_init(void)
{
	int ret;

	mtcopy_wq = alloc_workqueue("mtcopy", WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	if (!mtcopy_wq)
		return -ENOMEM;
	mtcopy.priority = priority;
	mtcopy.orders = orders & GENMASK(NR_PAGE_ORDERS - 1, 0);
	mtcopy.reasons = reasons;
	mtcopy.min_batch_pages = min_batch_pages;
	ret = migrate_offload_start(&mtcopy);
	if (ret)
		destroy_workqueue(mtcopy_wq);
	return ret;
}
module_init(mtcopy_init);

static void __exit mtcopy_exit(void)
{
	migrate_offload_stop(&mtcopy);
	destroy_workqueue(mtcopy_wq);
}
module_exit(mtcopy_exit);

MODULE_DESCRIPTION("Multi-threaded CPU copy of migrating folios");
MODULE_LICENSE("GPL");
