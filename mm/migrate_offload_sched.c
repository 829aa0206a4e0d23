// SPDX-License-Identifier: GPL-2.0
/*
 * Page migration copy offload: the data plane.
 *
 * migrate_offload_copy_batch() splits one batch of unmapped folios among the
 * migrators of the policy table (migrate_offload_split.c) and runs the
 * sub-batches concurrently: the caller runs one, mo_wq the others.  A
 * failed sub-batch goes to the next candidates, then to the machine-check
 * safe CPU copy, folios_mc_copy() (straight there after -EHWPOISON).  With
 * verify set, sampled folios a migrator reports copied are compared with
 * their sources; a wrong one fails the sub-batch.  The copied pairs are
 * handed back first, then those the move phase must copy per folio (no
 * migrator serves them, or the CPU could not copy them either), then those
 * whose destinations a migrator still holds (-EINPROGRESS: a late transfer
 * may write them, so no one else may copy into them and their migration
 * must fail): the copied state travels in the order of the lists, never in
 * the folios themselves.
 *
 * This runs inside reclaim and compaction: nothing here may enter direct
 * reclaim.  Without memory for the bookkeeping the batch is copied on the
 * CPU.
 */
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include <trace/events/migrate.h>
#include <trace/events/migrate_offload.h>

#include "migrate_offload.h"

static void mo_pairs_init(struct mo_pairs *p)
{
	INIT_LIST_HEAD(&p->src);
	INIT_LIST_HEAD(&p->dst);
	p->nr = 0;
	p->pages = 0;
}

static void mo_pairs_splice(struct mo_pairs *from, struct mo_pairs *to)
{
	list_splice_tail_init(&from->src, &to->src);
	list_splice_tail_init(&from->dst, &to->dst);
	to->nr += from->nr;
	to->pages += from->pages;
	from->nr = 0;
	from->pages = 0;
}

/**
 * folios_mc_copy - copy a list of folios on the CPU, machine-check safe
 * @dst_list: destination folios, linked through folio->lru
 * @src_list: source folios, in the same order and of the same sizes
 * @nr: number of folios on each list
 *
 * Context: process context, may sleep.
 * Return: 0 if every folio was copied, -EINVAL if the lists do not hold @nr
 * folios each (nothing is copied then), -EHWPOISON if some folio could not
 * be copied (a poisoned source page, folios of different sizes).
 */
int folios_mc_copy(struct list_head *dst_list, struct list_head *src_list,
		   unsigned int nr)
{
	struct folio *src, *dst;
	int ret = 0;

	if (list_count_nodes(dst_list) != nr || list_count_nodes(src_list) != nr)
		return -EINVAL;

	dst = list_first_entry(dst_list, struct folio, lru);
	list_for_each_entry(src, src_list, lru) {
		if (folio_nr_pages(dst) != folio_nr_pages(src) ||
		    folio_mc_copy(dst, src))
			ret = -EHWPOISON;
		dst = list_next_entry(dst, lru);
		cond_resched();
	}
	return ret;
}

static void mo_count(int reason, enum mo_stat i, long n)
{
	mo_stat_add(&mo_global_stats, i, n);
	mo_stat_add(&mo_reason_stats[reason], i, n);
}

/* Decayed average of bytes per busy microsecond. */
static void mo_update_throughput(struct mo_entry *e, unsigned long bytes,
				 u64 ns)
{
	long sample = div64_u64((u64)bytes * NSEC_PER_USEC, max_t(u64, ns, 1));
	long old = atomic_long_read(&e->throughput);

	atomic_long_set(&e->throughput, old ? (old * 7 + sample) / 8 : sample ?: 1);
}

static void mo_sub_done(struct mo_sub *s, u64 ns)
{
	struct mo_entry *e = s->e;

	trace_migrate_offload_sub(e->name, s->pairs.nr,
				  s->pairs.pages << PAGE_SHIFT, ns, s->ret);
	mo_stat_add(e->stats, MO_STAT_BATCHES, 1);
	mo_stat_add(e->stats, MO_STAT_BUSY_NS, ns);
	mo_health_account(e, s->ret);
	if (mo_declined(s->ret)) {
		mo_stat_add(e->stats, MO_STAT_DECLINED, 1);
	} else if (s->ret) {
		mo_stat_add(e->stats, MO_STAT_ERRORS, 1);
		mo_stat_add(e->stats, s->ret == -EINPROGRESS ? MO_STAT_HELD :
				      MO_STAT_FALLBACK, s->pairs.nr);
	} else {
		mo_stat_add(e->stats, MO_STAT_FOLIOS, s->pairs.nr);
		mo_stat_add(e->stats, MO_STAT_BYTES, s->pairs.pages << PAGE_SHIFT);
		mo_update_throughput(e, s->pairs.pages << PAGE_SHIFT, ns);
	}
}

/*
 * 1 if @dst differs from @src, 0 if not, -EHWPOISON if @src cannot be read.
 * The source may be a page suspected bad: read with copy_mc_to_kernel(), a
 * chunk at a time, on reclaim's stack only while verify compares (noinline).
 */
static noinline int mo_folio_differs(struct folio *dst, struct folio *src)
{
	size_t off, len = folio_size(src), step = 256;
	u8 chunk[256];
	int ret = 0;

	for (off = 0; off < len && !ret; off += step) {
		void *s = kmap_local_folio(src, off);
		void *d = kmap_local_folio(dst, off);

		if (copy_mc_to_kernel(chunk, s, step))
			ret = -EHWPOISON;
		else if (memcmp(chunk, d, step))
			ret = 1;
		kunmap_local(d);
		kunmap_local(s);
		if (!(off & (PAGE_SIZE - 1)))
			cond_resched();
	}
	return ret;
}

/*
 * verify=N: compare every Nth folio the migrator reports copied (counted
 * over its life) with its source.  A wrong folio fails the whole sub-batch,
 * which is then copied elsewhere like any failed one, and takes the
 * migrator out at once: it reported a copy it did not make.
 */
static int mo_sub_verify(struct mo_sub *s)
{
	unsigned int every = READ_ONCE(s->e->params.verify);
	unsigned int compared = 0, wrong = 0;
	struct folio *src, *dst;
	unsigned long seq;
	int ret = 0;

	if (!every)
		return 0;
	seq = atomic_long_add_return(s->pairs.nr, &s->e->copied) - s->pairs.nr;
	dst = list_first_entry(&s->pairs.dst, struct folio, lru);
	list_for_each_entry(src, &s->pairs.src, lru) {
		if (!(++seq % every)) {
			ret = mo_folio_differs(dst, src);
			if (ret < 0)
				return ret;
			compared++;
			wrong += ret;
		}
		dst = list_next_entry(dst, lru);
	}
	if (compared)
		trace_migrate_offload_verify(s->e->name, s->pairs.nr, compared,
					     wrong);
	if (!wrong)
		return 0;
	mo_stat_add(s->e->stats, MO_STAT_VERIFY, wrong);
	mo_health_out(s->e);
	return -EIO;
}

/*
 * A migrator being stopped, or whose module is on its way out, gets no new
 * work: its sub-batch fails over.  migrate_offload_stop() waits for the
 * calls counted in users, and @m may be freed after it.
 */
static void mo_sub_run(struct mo_sub *s)
{
	struct mo_entry *e = s->e;
	struct migrator *m = e->m;
	u64 start = ktime_get_ns();

	s->ret = -ENODEV;
	if (!atomic_inc_not_zero(&e->users))
		return;
	if (try_module_get(m->owner)) {
		if (m->copy)
			s->ret = m->copy(m, &s->pairs.dst, &s->pairs.src,
					 s->pairs.nr);
		else
			s->ret = m->offload_copy(&s->pairs.dst, &s->pairs.src,
						 s->pairs.nr);
		module_put(m->owner);
		if (!s->ret)
			s->ret = mo_sub_verify(s);
		mo_sub_done(s, ktime_get_ns() - start);
	}
	if (atomic_dec_and_test(&e->users))
		wake_up_var(&e->users);
}

static void mo_sub_workfn(struct work_struct *work)
{
	mo_sub_run(container_of(work, struct mo_sub, work));
}

/* Run the @pending sub-batches concurrently; the caller runs the first. */
static void mo_run_subs(struct mo_batch *b, unsigned long pending)
{
	unsigned long queued = pending & (pending - 1);
	unsigned int i;

	for_each_set_bit(i, &queued, MO_MAX_MIGRATORS) {
		INIT_WORK(&b->sub[i].work, mo_sub_workfn);
		queue_work(mo_wq, &b->sub[i].work);
	}
	mo_sub_run(&b->sub[__ffs(pending)]);
	for_each_set_bit(i, &queued, MO_MAX_MIGRATORS)
		flush_work(&b->sub[i].work);
}

/*
 * Re-route the folios of the failed sub-batch of slot @i to the remaining
 * candidates; those no one takes go to @cpu, as all of a sub-batch that
 * met a bad source page, which no other migrator may read.
 */
static unsigned long mo_reroute(struct mo_batch *b, unsigned int i,
				struct mo_pairs *cpu)
{
	unsigned int before[MO_MAX_MIGRATORS], j;
	struct mo_sub *s = &b->sub[i];
	unsigned long to = 0;

	mo_split_uncharge(b, i);
	if (s->ret != -EHWPOISON) {
		for (j = 0; j < b->t->nr; j++)
			before[j] = b->sub[j].pairs.nr;
		to = mo_split_assign(b, &s->pairs, false);
		for_each_set_bit(j, &to, MO_MAX_MIGRATORS)
			trace_migrate_offload_fallback(s->e->name,
						       b->sub[j].e->name,
						       b->sub[j].pairs.nr - before[j]);
	}
	if (s->pairs.nr)
		trace_migrate_offload_fallback(s->e->name, "cpu", s->pairs.nr);
	mo_pairs_splice(&s->pairs, cpu);
	return to;
}

/*
 * Run, re-route what failed, copy on the CPU what no candidate is left for,
 * leave on @left what the move phase must copy per folio and on @held the
 * pairs whose destinations a migrator holds.
 */
static void mo_batch_run(struct mo_batch *b, struct mo_pairs *left,
			 struct mo_pairs *done, struct mo_pairs *held)
{
	unsigned long pending = mo_split_assign(b, left, true), failed;
	struct mo_pairs cpu;
	unsigned int i;

	mo_pairs_init(&cpu);
	while (pending) {
		mo_run_subs(b, pending);
		b->subs += hweight_long(pending);
		/* First take the copied pairs out, and the failed slots. */
		failed = 0;
		for_each_set_bit(i, &pending, MO_MAX_MIGRATORS) {
			if (b->sub[i].ret)
				b->excluded |= BIT(i);
			if (b->sub[i].ret == -EINPROGRESS)
				mo_pairs_splice(&b->sub[i].pairs, held);
			else if (b->sub[i].ret)
				failed |= BIT(i);
			else
				mo_pairs_splice(&b->sub[i].pairs, done);
		}
		pending = 0;
		for_each_set_bit(i, &failed, MO_MAX_MIGRATORS)
			pending |= mo_reroute(b, i, &cpu);
	}
	/* Should a source page be bad, the move phase copies folio by folio. */
	if (cpu.nr && !folios_mc_copy(&cpu.dst, &cpu.src, cpu.nr)) {
		mo_count(b->reason, MO_STAT_FALLBACK, cpu.nr);
		mo_pairs_splice(&cpu, done);
	}
	mo_pairs_splice(&cpu, left);
}

/*
 * The batch state, too big for the stack of reclaim, is kept per CPU and
 * reused: a batch allocates only when it finds its CPU's state in use (by
 * a batch preempted on this CPU) or not allocated yet.
 */
static DEFINE_PER_CPU(struct mo_batch *, mo_batch_cache);

static struct mo_batch *mo_batch_get(void)
{
	struct mo_batch *b = this_cpu_xchg(mo_batch_cache, NULL);

	return b ?: kmalloc(struct_size(b, sub, MO_MAX_MIGRATORS),
			    GFP_NOWAIT | __GFP_NOWARN | __GFP_NOMEMALLOC);
}

/* Keep @b for the next batch on this CPU, unless it already has one. */
static void mo_batch_put(struct mo_batch *b)
{
	if (this_cpu_cmpxchg(mo_batch_cache, NULL, b))
		kfree(b);
}

/**
 * migrate_offload_copy_batch - copy a batch of unmapped folios
 * @reason: enum migrate_reason of the batch
 * @dst_list: destination folios, linked through folio->lru
 * @src_list: source folios, in the same order and of the same sizes
 * @nr: number of folios on each list
 * @skipped: folios of the batch the caller left out (not batchable), for
 *	the statistics
 * @held: set to the number of pairs whose destinations a migrator holds
 *
 * Splits the batch among the migrators of the policy table, runs the
 * sub-batches concurrently and copies on the CPU whatever they failed to
 * copy.  The lists come back with the same pairs, reordered: the copied
 * pairs first, then those the move phase must copy per folio, then @held
 * pairs at the tail whose destinations must not be used: a migrator that
 * could not stop its transfers holds them until its engine is done.
 *
 * Context: process context, may sleep; called by migrate_pages_batch().
 * Return: the number of copied pairs at the head of the lists.
 */
unsigned int migrate_offload_copy_batch(int reason, struct list_head *dst_list,
					struct list_head *src_list,
					unsigned int nr, unsigned int skipped,
					unsigned int *held)
{
	struct mo_pairs left, done, kept;
	unsigned int i, subs = 0;
	const struct mo_table *t;
	struct folio *folio;
	unsigned long pages;
	struct mo_batch *b;
	int idx;

	mo_pairs_init(&left);
	mo_pairs_init(&done);
	mo_pairs_init(&kept);
	list_splice_init(src_list, &left.src);
	list_splice_init(dst_list, &left.dst);
	left.nr = nr;
	list_for_each_entry(folio, &left.src, lru)
		left.pages += folio_nr_pages(folio);
	pages = left.pages;
	mo_count(reason, MO_STAT_BATCHES, 1);

	idx = srcu_read_lock(&migrate_offload_srcu);
	t = srcu_dereference(mo_table, &migrate_offload_srcu);
	if (!nr || !t->nr || left.pages < t->reason[reason].min_batch_pages)
		goto out;

	/* Without memory for the bookkeeping, the move phase copies. */
	b = mo_batch_get();
	if (!b)
		goto out;
	memset(b, 0, offsetof(struct mo_batch, sub));
	b->t = t;
	b->reason = reason;
	for (i = 0; i < t->nr; i++) {
		mo_pairs_init(&b->sub[i].pairs);
		b->sub[i].ret = 0;
		b->sub[i].e = t->slot[i].e;
	}
	mo_split_begin(b);
	mo_batch_run(b, &left, &done, &kept);
	mo_split_end(b);
	subs = b->subs;
	mo_batch_put(b);
out:
	srcu_read_unlock(&migrate_offload_srcu, idx);
	mo_count(reason, MO_STAT_FOLIOS, done.nr);
	mo_count(reason, MO_STAT_BYTES, done.pages << PAGE_SHIFT);
	mo_count(reason, MO_STAT_CPU, left.nr + skipped);
	mo_count(reason, MO_STAT_HELD, kept.nr);
	trace_migrate_offload_batch(reason, nr, pages, done.nr, subs,
				    left.nr + skipped);
	nr = done.nr;
	*held = kept.nr;
	mo_pairs_splice(&left, &done);
	mo_pairs_splice(&kept, &done);
	list_splice(&done.src, src_list);
	list_splice(&done.dst, dst_list);
	return nr;
}
