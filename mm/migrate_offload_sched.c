// SPDX-License-Identifier: GPL-2.0
/*
 * Arbitration of page migration copy offload: the data plane.
 *
 * migrate_offload_copy_batch() splits one batch of unmapped folios among the
 * migrators of the policy table: each folio goes to the highest-priority
 * migrator that serves the batch's migration reason and the folio's order
 * and whose minimum batch size the batch meets; equal priorities share the
 * folios by weight counted in base pages, through a virtual clock per
 * migrator carried from batch to batch (mo_pick(); in adaptive mode the
 * weights are scaled by measured throughput, so that their sub-batches
 * finish together).  The sub-batches run concurrently:
 * the caller runs one, mo_wq the others.  A failed sub-batch goes to the
 * next candidates, then to the machine-check safe CPU copy, folios_mc_copy()
 * (straight there after -EHWPOISON).  With verify set, sampled folios a migrator reports
 * copied are compared with their sources; a wrong one fails the sub-batch.
 * The copied pairs are handed back first, followed by
 * those the move phase must copy per folio (no migrator serves them, or the
 * CPU could not copy them either), then those whose destinations a
 * migrator still holds (-EINPROGRESS: a late transfer may write them, so
 * no one else may copy into them and their migration must fail): the
 * copied state travels in the order of the lists, never in the folios
 * themselves.
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
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include <trace/events/migrate.h>
#include <trace/events/migrate_offload.h>

#include "migrate_offload.h"

/* Folios linked through ->lru in two lists walked in lockstep. */
struct mo_pairs {
	struct list_head src;
	struct list_head dst;
	unsigned int nr;
	unsigned long pages;
};

struct mo_sub {
	struct mo_pairs pairs;
	struct mo_entry *e;
	int ret;
	struct work_struct work;
};

struct mo_batch {
	const struct mo_table *t;
	int reason;
	unsigned long excluded;		/* slots that failed in this batch */
	unsigned long competed;		/* slots a folio could go to */
	unsigned long probe;		/* slots on probation: one folio */
	unsigned int subs;		/* sub-batches run */
	unsigned long weight[MO_MAX_MIGRATORS];	/* 1..MO_VT_ONE */
	unsigned long vt[MO_MAX_MIGRATORS];	/* virtual clocks */
	unsigned long charged[MO_MAX_MIGRATORS];	/* by this batch */
	unsigned long largest;		/* base pages of its largest folio */
	struct mo_sub sub[];		/* one per table slot */
};

static void mo_pairs_init(struct mo_pairs *p)
{
	INIT_LIST_HEAD(&p->src);
	INIT_LIST_HEAD(&p->dst);
	p->nr = 0;
	p->pages = 0;
}

static void mo_pairs_add(struct mo_pairs *p, struct folio *src,
			 struct folio *dst)
{
	list_move_tail(&src->lru, &p->src);
	list_move_tail(&dst->lru, &p->dst);
	p->nr++;
	p->pages += folio_nr_pages(src);
}

/* Move the pair @src, @dst of @from to @to. */
static void mo_pairs_move(struct mo_pairs *from, struct mo_pairs *to,
			  struct folio *src, struct folio *dst)
{
	from->nr--;
	from->pages -= folio_nr_pages(src);
	mo_pairs_add(to, src, dst);
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
 * Copies each source folio to the destination at the same position: the
 * CPU's copy of what no migrator copied.  Neither folio's fields are
 * touched.
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

/* A busy engine or no memory is no sign of a failing migrator. */
static bool mo_declined(int ret)
{
	return ret == -EBUSY || ret == -ENOMEM;
}

/*
 * Neither is a bad source page (-EHWPOISON) nor a module going away
 * (-ENODEV): the other errors (device errors, timeouts) mean the migrator
 * is unwell.
 */
static bool mo_unwell(int ret)
{
	return ret && !mo_declined(ret) && ret != -EHWPOISON && ret != -ENODEV;
}

static void mo_sub_health(struct mo_entry *e, int ret)
{
	unsigned int max_failures = READ_ONCE(mo_max_failures);

	if (!ret) {
		atomic_set(&e->consecutive_errors, 0);
		if (READ_ONCE(e->health) == MO_HEALTH_PROBATION)
			mo_health_probation_passed(e);
		return;
	}
	if (!mo_unwell(ret) || !max_failures)
		return;
	/* On probation, one failure is a relapse. */
	if (atomic_inc_return(&e->consecutive_errors) >= max_failures ||
	    READ_ONCE(e->health) == MO_HEALTH_PROBATION)
		mo_health_out(e);
}

static void mo_sub_done(struct mo_sub *s, u64 ns)
{
	struct mo_entry *e = s->e;

	trace_migrate_offload_sub(e->name, s->pairs.nr,
				  s->pairs.pages << PAGE_SHIFT, ns, s->ret);
	mo_stat_add(e->stats, MO_STAT_BATCHES, 1);
	mo_stat_add(e->stats, MO_STAT_BUSY_NS, ns);
	mo_sub_health(e, s->ret);
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
 * The source may be a page suspected bad (memory failure): it is read with
 * copy_mc_to_kernel(), a chunk at a time, on the stack of reclaim.
 */
static int mo_folio_differs(struct folio *dst, struct folio *src)
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
 * The split among equal priorities, as weighted fair queueing: serving a
 * folio of p base pages advances the migrator's virtual clock by
 * p * MO_VT_ONE / w, w its weight scaled to 1..MO_VT_ONE, and each folio
 * goes to the candidate whose clock, so advanced, is earliest.  The clocks
 * persist from batch to batch, so that batches of one folio (a THP is a
 * batch of its own) are shared by weight too.  Two rules bound the drift:
 * a migrator that could take no folio of a batch (an order or a reason it
 * does not serve, locality, health) neither gains nor loses, its clock is
 * carried along to the earliest of those that could; and none enters a
 * batch with more credit over the latest of its competitors than the
 * batch's largest folio.  Failed and declined sub-batches are not
 * charged.  While two migrators compete, neither gets more than two of
 * the largest folios beyond its weighted share.
 */
#define MO_VT_ONE		(MO_WEIGHT_MAX * MO_WEIGHT_MAX)

static unsigned long mo_vt_cost(struct mo_batch *b, unsigned int i,
				unsigned long pages)
{
	return pages * MO_VT_ONE / b->weight[i];
}

/* Raise @e's clock to @to; concurrent batches only ever raise it more. */
static void mo_vt_raise(struct mo_entry *e, unsigned long to)
{
	long old = atomic_long_read(&e->vtime);

	while ((unsigned long)old < to &&
	       !atomic_long_try_cmpxchg(&e->vtime, &old, to))
		;
}

/* The slots of @mask of the priority of slot @i. */
static unsigned long mo_level(struct mo_batch *b, unsigned long mask,
			      unsigned int i)
{
	unsigned long level = 0;
	unsigned int j;

	for_each_set_bit(j, &mask, b->t->nr)
		if (b->t->slot[j].priority == b->t->slot[i].priority)
			level |= BIT(j);
	return level;
}

/*
 * Weights: static, or in adaptive mode scaled by the measured throughput
 * relative to the fastest of the same priority; one not measured yet
 * counts as the fastest, so it gets work and a measurement.
 */
static void mo_batch_weights(struct mo_batch *b)
{
	const struct mo_table *t = b->t;
	unsigned long all = GENMASK(t->nr - 1, 0), level;
	bool adaptive = t->reason[b->reason].split == MO_SPLIT_ADAPTIVE;
	long tp, best;
	unsigned int i, j;

	for (i = 0; i < t->nr; i++) {
		b->weight[i] = t->slot[i].weight * MO_WEIGHT_MAX;
		b->vt[i] = atomic_long_read(&t->slot[i].e->vtime);
	}
	if (!adaptive)
		return;
	for (i = 0; i < t->nr; i++) {
		level = mo_level(b, all, i);
		best = 0;
		for_each_set_bit(j, &level, t->nr)
			best = max(best, atomic_long_read(&t->slot[j].e->throughput));
		tp = atomic_long_read(&t->slot[i].e->throughput) ?: best;
		if (best)
			b->weight[i] = t->slot[i].weight *
				clamp_t(long, div64_long((s64)tp * MO_WEIGHT_MAX, best),
					1, MO_WEIGHT_MAX);
	}
}

/*
 * The highest-priority slot of @mask; among equal priorities, the one whose
 * clock, advanced by @pages, is earliest.  All of them competed for it.
 */
static unsigned int mo_pick(struct mo_batch *b, unsigned long mask,
			    unsigned long pages)
{
	unsigned long end, best_end = ULONG_MAX;
	unsigned int best = __ffs(mask), i;

	mask = mo_level(b, mask, best);
	b->competed |= mask;
	for_each_set_bit(i, &mask, b->t->nr) {
		end = b->vt[i] + mo_vt_cost(b, i, pages);
		if (end < best_end) {
			best = i;
			best_end = end;
		}
	}
	b->charged[best] += best_end - b->vt[best];
	b->vt[best] = best_end;
	return best;
}

/* No slot of @offered enters with more credit than the largest folio. */
static void mo_vt_place(struct mo_batch *b, unsigned long offered)
{
	unsigned long level, top, floor;
	unsigned int i, j;

	for_each_set_bit(i, &offered, b->t->nr) {
		level = mo_level(b, offered, i);
		top = 0;
		for_each_set_bit(j, &level, b->t->nr)
			top = max(top, b->vt[j]);
		floor = top - min(top, mo_vt_cost(b, i, b->largest));
		if (b->vt[i] < floor) {
			b->vt[i] = floor;
			mo_vt_raise(b->t->slot[i].e, floor);
		}
	}
}

/*
 * Keep what the batch charged; carry the slots of a priority that could
 * take nothing of it along to the earliest clock of those that could.
 */
static void mo_vt_save(struct mo_batch *b)
{
	const struct mo_table *t = b->t;
	unsigned long level, v;
	unsigned int i, j;

	for (i = 0; i < t->nr; i++) {
		if (b->charged[i])
			atomic_long_add(b->charged[i], &t->slot[i].e->vtime);
		if (b->competed & BIT(i))
			continue;
		level = mo_level(b, b->competed, i);
		if (!level)
			continue;
		v = ULONG_MAX;
		for_each_set_bit(j, &level, t->nr)
			v = min(v, b->vt[j]);
		mo_vt_raise(t->slot[i].e, v);
	}
}

/*
 * Of the highest-priority slots of @mask, those local to the folio's
 * destination or source node, as the reason's locality policy asks; all of
 * @mask if none is local or there is no policy.
 */
static unsigned long mo_local(struct mo_batch *b, unsigned long mask,
			      struct folio *src, struct folio *dst)
{
	enum mo_locality locality = b->t->reason[b->reason].locality;
	unsigned long local = 0;
	unsigned int i;
	int prio, nid;

	if (locality == MO_LOCALITY_NONE || !mask)
		return mask;
	nid = folio_nid(locality == MO_LOCALITY_DST ? dst : src);
	prio = b->t->slot[__ffs(mask)].priority;
	for_each_set_bit(i, &mask, b->t->nr) {
		if (b->t->slot[i].priority != prio)
			break;
		if (node_isset(nid, b->t->slot[i].e->nodes))
			local |= BIT(i);
	}
	return local ?: mask;
}

/*
 * The slots that may take folios: healthy ones, and on the first round one
 * batch at a time for each migrator on probation.
 */
static unsigned long mo_usable(struct mo_batch *b, bool first)
{
	unsigned long usable = 0;
	struct mo_entry *e;
	unsigned int i;

	for (i = 0; i < b->t->nr; i++) {
		e = b->t->slot[i].e;
		if (b->excluded & BIT(i))
			continue;
		switch (READ_ONCE(e->health)) {
		case MO_HEALTH_OK:
			usable |= BIT(i);
			break;
		case MO_HEALTH_PROBATION:
			if (first && !atomic_cmpxchg(&e->probing, 0, 1)) {
				b->probe |= BIT(i);
				usable |= BIT(i);
			}
			break;
		}
	}
	return usable;
}

/* Let the next batch probe the migrators this one did not need. */
static void mo_probes_end(struct mo_batch *b, unsigned long probes)
{
	unsigned int i;

	for_each_set_bit(i, &probes, MO_MAX_MIGRATORS)
		atomic_set(&b->t->slot[i].e->probing, 0);
}

/* Drop the slots not offered at least their minimum batch of @from. */
static unsigned long mo_offer(struct mo_batch *b, struct mo_pairs *from,
			      unsigned long usable)
{
	unsigned long offer[MO_MAX_MIGRATORS] = {};
	const u16 *route = b->t->route[b->reason];
	struct folio *src;
	unsigned long mask;
	unsigned int i;

	list_for_each_entry(src, &from->src, lru) {
		mask = route[folio_order(src)] & usable;
		for_each_set_bit(i, &mask, b->t->nr)
			offer[i] += folio_nr_pages(src);
		b->largest = max_t(unsigned long, b->largest, folio_nr_pages(src));
	}
	for (i = 0; i < b->t->nr; i++)
		if (!offer[i] || offer[i] < b->t->slot[i].min_batch_pages)
			usable &= ~BIT(i);
	return usable;
}

/*
 * Deal the folios of @from to the sub-batches of the slots that may take
 * them; those none may take stay on @from.  A slot must be offered at
 * least its minimum batch, on the first round and when later rounds
 * re-route the folios of failed sub-batches.  A migrator on probation
 * tries one folio of the first round and is not charged for it.
 */
static unsigned long mo_assign(struct mo_batch *b, struct mo_pairs *from,
			       bool first)
{
	const u16 *route = b->t->route[b->reason];
	unsigned long usable, pending = 0, mask, probe;
	struct folio *src, *src2, *dst, *dst2;
	unsigned int i;

	usable = mo_offer(b, from, mo_usable(b, first));
	if (first) {
		mo_probes_end(b, b->probe & ~usable);
		b->probe &= usable;
		mo_vt_place(b, usable & ~b->probe);
	}
	dst = list_first_entry(&from->dst, struct folio, lru);
	list_for_each_entry_safe(src, src2, &from->src, lru) {
		dst2 = list_next_entry(dst, lru);
		mask = route[folio_order(src)] & usable;
		probe = mo_local(b, mask & b->probe & ~pending, src, dst);
		mask = mo_local(b, mask & ~b->probe, src, dst);
		if (probe || mask) {
			i = probe ? __ffs(probe) :
				    mo_pick(b, mask, folio_nr_pages(src));
			mo_pairs_move(from, &b->sub[i].pairs, src, dst);
			pending |= BIT(i);
		}
		dst = dst2;
	}
	return pending;
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

	/* What it did not copy is not charged. */
	b->vt[i] -= b->charged[i];
	b->charged[i] = 0;
	if (s->ret != -EHWPOISON) {
		for (j = 0; j < b->t->nr; j++)
			before[j] = b->sub[j].pairs.nr;
		to = mo_assign(b, &s->pairs, false);
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
	unsigned long pending = mo_assign(b, left, true), failed;
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

static unsigned long folio_list_pages(struct list_head *list)
{
	unsigned long pages = 0;
	struct folio *folio;

	list_for_each_entry(folio, list, lru)
		pages += folio_nr_pages(folio);
	return pages;
}

/**
 * migrate_offload_copy_batch - copy a batch of unmapped folios
 * @reason: enum migrate_reason of the batch
 * @dst_list: destination folios, linked through folio->lru
 * @src_list: source folios, in the same order and of the same sizes
 * @nr: number of folios on each list
 * @skipped: folios of the batch the caller left out (not batchable), for
 *	the statistics
 *
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
	unsigned long pages;
	struct mo_batch *b;
	int idx;

	mo_pairs_init(&left);
	mo_pairs_init(&done);
	mo_pairs_init(&kept);
	list_splice_init(src_list, &left.src);
	list_splice_init(dst_list, &left.dst);
	left.nr = nr;
	left.pages = folio_list_pages(&left.src);
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
	mo_batch_weights(b);
	mo_batch_run(b, &left, &done, &kept);
	mo_probes_end(b, b->probe);
	mo_vt_save(b);
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
