// SPDX-License-Identifier: GPL-2.0
/*
 * mtcopy: copy the folios of a page migration batch with several CPU
 * threads.
 *
 * A sub-batch is cut into chunks of base pages (four per thread at least,
 * 256 KiB at most): a large folio may be cut across threads, a list of
 * small folios is dealt out in runs.  The calling thread and its helpers,
 * each bound to a CPU of its own on a private WQ_MEM_RECLAIM | WQ_HIGHPRI
 * workqueue, take the next chunk until none is left, so a helper that
 * starts late, or is preempted, copies less instead of holding the caller
 * up.
 *
 * A helper that queues behind the caller or behind another helper turns a
 * parallel copy into a serial one plus overhead, so helpers go only to CPUs
 * that are idle and that no other mtcopy call has claimed: idle CPUs of the
 * destination node first (the copy writes local memory), then any idle
 * CPU.  There are never more helpers than such CPUs.  With none, a call
 * in the migrating task itself is declined (-EBUSY): the core passes it on
 * to the next migrator, an engine that may still be idle, or copies it on
 * the CPU, as fast as without offload; with "decline" off the caller
 * copies it alone, so that every folio offered is copied by mtcopy.  A
 * call on the core's workqueue is not declined: it runs beside the
 * migrating task, which copies other chunks of the batch meanwhile, so
 * this thread alone is a second CPU at work.  Each page is copied
 * machine-check safe; an error fails the sub-batch, which the core then
 * copies elsewhere.  Nothing is allocated per call: migration runs inside
 * reclaim.
 */
#include <linux/cpumask.h>
#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/migrate_copy_offload.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/workqueue.h>

#define MTCOPY_MAX_THREADS	8
#define MTCOPY_CHUNK_PAGES	(SZ_256K >> PAGE_SHIFT)

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

static bool decline = true;
module_param(decline, bool, 0644);
MODULE_PARM_DESC(decline, "Decline a sub-batch in the migrating task when no other CPU is idle (default Y; N: the caller copies it alone)");

static atomic_long_t helpers_copied;

static int helpers_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&helpers_copied));
}

static const struct kernel_param_ops helpers_ops = { .get = helpers_get };
module_param_cb(helpers, &helpers_ops, NULL, 0444);
MODULE_PARM_DESC(helpers, "Helpers that copied part of a sub-batch");

static struct workqueue_struct *mtcopy_wq;
static struct cpumask mtcopy_claimed;	/* CPUs running a helper */

/*
 * One sub-batch, cut into chunks of base pages counted over its folios in
 * order; the caller and its helpers take the next chunk until none is left.
 */
struct mtcopy_job {
	struct list_head *dst_list, *src_list;
	unsigned long pages, chunk;
	atomic_long_t next;		/* next chunk to take */
	atomic_t poisoned;
};

struct mtcopy_helper {
	struct work_struct work;
	struct mtcopy_job *job;
	unsigned long chunks;		/* taken by this helper */
};

/*
 * Where a thread's walk of the folios stands: it takes chunks in
 * increasing order, so each walk goes over the lists once.
 */
struct mtcopy_cursor {
	struct folio *src, *dst;
	unsigned long pos;		/* the first base page of @src */
};

/* Copy base pages [first, last) of the job, from the cursor on. */
static int mtcopy_copy_pages(struct mtcopy_cursor *c, unsigned long first,
			     unsigned long last)
{
	unsigned long i, nr;

	while (c->pos < last) {
		nr = folio_nr_pages(c->src);
		for (i = first > c->pos ? first - c->pos : 0;
		     i < nr && c->pos + i < last; i++)
			if (copy_mc_highpage(folio_page(c->dst, i), folio_page(c->src, i)))
				return -EHWPOISON;
		if (c->pos + nr > last)
			return 0;	/* the next chunk starts in this folio */
		c->pos += nr;
		c->src = list_next_entry(c->src, lru);
		c->dst = list_next_entry(c->dst, lru);
		cond_resched();
	}
	return 0;
}

/* Take chunks until none is left; the number taken. */
static unsigned long mtcopy_take_chunks(struct mtcopy_job *job)
{
	struct mtcopy_cursor c = {
		.src = list_first_entry(job->src_list, struct folio, lru),
		.dst = list_first_entry(job->dst_list, struct folio, lru),
	};
	unsigned long first, taken;

	for (taken = 0;; taken++) {
		first = atomic_long_fetch_inc(&job->next) * job->chunk;
		if (first >= job->pages)
			return taken;
		if (mtcopy_copy_pages(&c, first, min(job->pages, first + job->chunk)))
			atomic_set(&job->poisoned, 1);
	}
}

static void mtcopy_workfn(struct work_struct *work)
{
	struct mtcopy_helper *h = container_of(work, struct mtcopy_helper, work);

	h->chunks = mtcopy_take_chunks(h->job);
}

static bool mtcopy_claim(int cpu)
{
	return available_idle_cpu(cpu) &&
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

/*
 * A helper that has not started when the caller runs out of chunks is
 * cancelled, not waited for: a CPU that looked idle may not run it soon
 * (a vCPU the host preempted), and the caller then copies everything
 * itself, as fast as the CPU copy.  Only a chunk in progress is waited for.
 */
static void mtcopy_finish_helper(struct mtcopy_helper *h, int cpu)
{
	if (!cancel_work(&h->work))
		flush_work(&h->work);
	destroy_work_on_stack(&h->work);
	cpumask_clear_cpu(cpu, &mtcopy_claimed);
	if (h->chunks)
		atomic_long_inc(&helpers_copied);
}

static int mtcopy_copy(struct list_head *dst_list, struct list_head *src_list,
		       unsigned int cnt)
{
	struct mtcopy_helper h[MTCOPY_MAX_THREADS - 1];
	int cpus[MTCOPY_MAX_THREADS - 1];
	struct mtcopy_job job = {
		.dst_list = dst_list,
		.src_list = src_list,
		.next = ATOMIC_LONG_INIT(0),
		.poisoned = ATOMIC_INIT(0),
	};
	unsigned int want, n, i;
	struct folio *src;

	list_for_each_entry(src, src_list, lru)
		job.pages += folio_nr_pages(src);
	want = min_t(unsigned long, clamp(READ_ONCE(threads), 1U, MTCOPY_MAX_THREADS),
		     job.pages) - 1;
	n = mtcopy_claim_cpus(folio_nid(list_first_entry(dst_list, struct folio, lru)),
			      want, cpus);
	if (want && !n && READ_ONCE(decline) &&
	    !(current->flags & PF_WQ_WORKER))
		return -EBUSY;
	/*
	 * Four chunks per thread at least, 256 KiB at most: whoever finishes
	 * last, or is preempted while copying, holds the others up for one
	 * small chunk only.
	 */
	job.chunk = min(DIV_ROUND_UP(job.pages, 4 * (n + 1)), MTCOPY_CHUNK_PAGES);

	for (i = 0; i < n; i++) {
		h[i].job = &job;
		h[i].chunks = 0;
		INIT_WORK_ONSTACK(&h[i].work, mtcopy_workfn);
		queue_work_on(cpus[i], mtcopy_wq, &h[i].work);
	}
	mtcopy_take_chunks(&job);
	for (i = 0; i < n; i++)
		mtcopy_finish_helper(&h[i], cpus[i]);
	return atomic_read(&job.poisoned) ? -EHWPOISON : 0;
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
