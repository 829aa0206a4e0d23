// SPDX-License-Identifier: GPL-2.0
/*
 * Page migration copy offload: the data plane.
 *
 * migrate_offload_copy_batch() splits one batch of unmapped folios among the
 * migrators of the policy table (migrate_offload_split.c), cuts each
 * sub-batch into chunks and runs them concurrently on mo_wq: a migrator
 * claims chunks from the head, the migrating CPU from the tail, so that
 * offload only adds bandwidth (or, where a reason's cpu_copy is "fallback",
 * the CPU copies only what migrators fail).  A failed chunk goes to the
 * next candidates, then to folios_mc_copy().  The lists come back as copied
 * pairs, pairs the move phase copies per folio, and pairs whose
 * destinations a migrator holds (-EINPROGRESS): the copied state travels in
 * the order of the lists, never in the folios themselves.
 *
 * This runs inside reclaim and compaction: nothing here may enter direct
 * reclaim; without memory for its bookkeeping the CPU copies the batch.
 */
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <kunit/visibility.h>

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

/* Counted per reason only: the global statistics are their sum. */
static void mo_count(int reason, enum mo_stat i, long n)
{
	mo_stat_add(&mo_reason_stats[reason], i, n);
}

/* Decayed averages of bytes per busy microsecond, per mo_tp_class(). */
atomic_long_t mo_cpu_throughput[MO_TP_CLASSES];

/*
 * The size class of a call: a fixed cost per call (waking a helper, an
 * interrupt) weighs on a call of less than a chunk, a whole batch that
 * small, as it does not on a chunk; a fixed cost per folio or descriptor
 * weighs on 4 KiB folios as it does not on a THP.  An engine may be faster
 * than the CPU at one and slower at another.  Calls of less than a chunk;
 * then folios below 64 KiB, below PMD size, PMD size and above.
 */
static unsigned int mo_size_class(unsigned long pages, unsigned int nr)
{
	unsigned int order = ilog2(pages / max(nr, 1U));

	if (pages < MO_CHUNK_PAGES)
		return 0;
	return order < 4 ? 1 : order < PMD_ORDER ? 2 : 3;
}

static unsigned int mo_tp_class(const struct mo_pairs *p)
{
	return mo_size_class(p->pages, p->nr);
}

/*
 * Copies are timed with local_clock(), which never reads a slow clocksource:
 * where the TSC is marked unstable, ktime_get_ns() reads the HPET, and two
 * reads cost as much as the copy of a small chunk.  The time feeds averages;
 * a worker moved to another CPU meanwhile may read a little off, never less
 * than 1 ns.
 */
static u64 mo_ns_since(u64 start)
{
	return max_t(s64, local_clock() - start, 1);
}

static void mo_update_throughput(atomic_long_t *tp, unsigned long bytes, u64 ns)
{
	long sample = div64_u64((u64)bytes * NSEC_PER_USEC, ns);
	long old = atomic_long_read(tp);

	atomic_long_set(tp, old ? (old * 7 + sample) / 8 : sample ?: 1);
}

static void mo_call_done(struct mo_entry *e, struct mo_pairs *p, int ret,
			 u64 ns)
{
	trace_migrate_offload_sub(e->name, p->nr, p->pages << PAGE_SHIFT, ns, ret);
	mo_stat_add(e->stats, MO_STAT_BATCHES, 1);
	mo_stat_add(e->stats, MO_STAT_BUSY_NS, ns);
	mo_health_account(e, ret);
	if (mo_declined(ret)) {
		mo_stat_add(e->stats, MO_STAT_DECLINED, 1);
	} else if (ret) {
		mo_stat_add(e->stats, MO_STAT_ERRORS, 1);
		mo_stat_add(e->stats, ret == -EINPROGRESS ? MO_STAT_HELD :
				      MO_STAT_FALLBACK, p->nr);
	} else {
		mo_stat_add(e->stats, MO_STAT_FOLIOS, p->nr);
		mo_stat_add(e->stats, MO_STAT_BYTES, p->pages << PAGE_SHIFT);
		mo_update_throughput(&e->throughput, p->pages << PAGE_SHIFT, ns);
		mo_update_throughput(&e->class_tp[mo_tp_class(p)],
				     p->pages << PAGE_SHIFT, ns);
	}
}

/*
 * Copy @p with the migrator of @e.  One being stopped, or whose module is
 * on its way out, gets no new work: -ENODEV.  migrate_offload_stop() waits
 * for the calls counted in users, and the migrator may be freed after it.
 */
static int mo_call(struct mo_entry *e, struct mo_pairs *p)
{
	u64 start = local_clock();
	struct migrator *m;
	int ret = -ENODEV;

	if (!atomic_inc_not_zero(&e->users))
		return ret;
	m = e->m;
	if (try_module_get(m->owner)) {
		if (m->copy)
			ret = m->copy(m, &p->dst, &p->src, p->nr);
		else
			ret = m->offload_copy(&p->dst, &p->src, p->nr);
		module_put(m->owner);
		if (!ret)
			ret = mo_verify(e, p);
		mo_call_done(e, p, ret, mo_ns_since(start));
	}
	if (atomic_dec_and_test(&e->users))
		wake_up_var(&e->users);
	return ret;
}

/*
 * Whether @n unclaimed chunks are too few for the migrator of @s to claim
 * one: the CPU would copy them before the migrator copied one (s->ratio),
 * and, once it took a chunk of @s (@cpu_took), the half it has left on
 * average of the one it copies.  Counted in whole chunks, a migrator a
 * little slower than the CPU (mtcopy with one thread) needed two left; its
 * worker, starting after the CPU took the tail of a batch of two chunks
 * (order 4 x 8), claimed nothing: 0.92x the CPU alone, 1.09x with the
 * chunk in progress counted.  Before the CPU took one, nothing is in
 * progress: a migrator slower than the CPU does not take a last chunk.
 */
static bool mo_too_few(struct mo_sub *s, int n, bool cpu_took)
{
	return n * MO_RATIO_ONE + (cpu_took ? MO_RATIO_ONE / 2 : 0) <
	       (int)READ_ONCE(s->ratio);
}

/* The chunks of @s no one has claimed, from the @from th on. */
static int mo_unclaimed(struct mo_sub *s, unsigned int from)
{
	int claim = atomic_read(&s->claim);

	return claim / MO_CLAIM_END -
	       max_t(int, from, claim & (MO_CLAIM_END - 1));
}

/*
 * Claim a chunk of @s: the next from the head for its migrator, while not
 * too few are unclaimed; the last from the tail for the migrating CPU, but
 * not the first s->keep.  The index in mo_batch.chunk[], or -1.
 */
VISIBLE_IF_KUNIT int mo_claim(struct mo_sub *s, bool tail)
{
	int old = atomic_read(&s->claim), head, end;

	do {
		head = old & (MO_CLAIM_END - 1);
		end = old / MO_CLAIM_END;
		if (tail ? end <= max_t(int, head, s->keep) :
			   mo_too_few(s, end - head, end < (int)s->chunks))
			return -1;
	} while (!atomic_try_cmpxchg(&s->claim, &old,
				     tail ? old - MO_CLAIM_END : old + 1));
	return s->first + (tail ? end - 1 : head);
}

/*
 * How many times slower than the CPU @e copies calls of size class @c: 0
 * if it is not, or either is not measured yet.
 */
static long mo_slowness(struct mo_entry *e, unsigned int c)
{
	long tp = atomic_long_read(&e->class_tp[c]);
	long cpu = atomic_long_read(&mo_cpu_throughput[c]);

	return tp && tp < cpu ? min_t(long, DIV_ROUND_UP(cpu, tp), U16_MAX) : 0;
}

/*
 * How many chunks, in 1/MO_RATIO_ONE of one, the CPU copies while @e
 * copies one of size class @c: MO_RATIO_ONE if it is not slower, or either
 * is not measured yet.
 */
static unsigned int mo_claim_ratio(struct mo_entry *e, unsigned int c)
{
	long tp = atomic_long_read(&e->class_tp[c]);
	long cpu = atomic_long_read(&mo_cpu_throughput[c]);

	if (!tp || tp >= cpu)
		return MO_RATIO_ONE;
	return min_t(u64, mul_u64_u64_div_u64(cpu, MO_RATIO_ONE, tp), U16_MAX);
}

/* Whether @e, @r times slower than the CPU, is to be measured this round. */
static bool mo_measure_turn(struct mo_entry *e, long r)
{
	return !(atomic_inc_return(&e->slow_rounds) % (32 * r));
}

/*
 * What a migrator may claim beside the CPU, from the throughputs measured
 * per call and per CPU chunk in the size class of its first chunk.  One at
 * least as fast, or not measured yet, keeps its first chunk (the CPU does
 * not take it).  One r times slower claims the next chunk only while r are
 * left, the CPU's work meanwhile (mo_too_few()): it adds bandwidth to long
 * batches and none to a batch the CPU copies before one of its chunks,
 * where it gets no work (a THP alone).  Once every 32 * r rounds it keeps
 * its first chunk as a fast one, to be measured: alike batches lose at
 * most 1/32 of the CPU's time.  After each chunk it copied, r follows the
 * measurement (mo_sub_run()): an engine measured for the first time in
 * this batch, a fresh one at a quarter of the CPU's speed, claimed every
 * chunk it could and held 8 THPs at 0.67x the CPU alone.  Until the CPU is
 * measured, no chunk is kept.  A migrator on probation keeps its one folio.
 */
static void mo_sub_limits(struct mo_batch *b, unsigned int i)
{
	struct mo_sub *s = &b->sub[i];
	long r;

	s->tp_class = mo_tp_class(&b->chunk[s->first].pairs);
	r = mo_slowness(s->e, s->tp_class);
	s->keep = !!atomic_long_read(&mo_cpu_throughput[s->tp_class]);
	s->ratio = MO_RATIO_ONE;
	s->paced = b->share && !(b->probe & BIT(i));
	if (!s->paced) {
		s->keep = U16_MAX;
	} else if (r && !(b->measure & BIT(i)) && !mo_measure_turn(s->e, r)) {
		s->keep = 0;
		s->ratio = mo_claim_ratio(s->e, s->tp_class);
	}
}

/* A migrator copies chunks of its sub-batch until one fails or it may not. */
static void mo_sub_run(struct mo_batch *b, struct mo_sub *s)
{
	struct mo_chunk *k;
	int c;

	while ((c = mo_claim(s, false)) >= 0) {
		k = &b->chunk[c];
		k->ret = mo_call(s->e, &k->pairs);
		if (k->ret)
			break;
		if (s->paced)
			WRITE_ONCE(s->ratio, mo_claim_ratio(s->e, s->tp_class));
	}
}

static void mo_sub_workfn(struct work_struct *work)
{
	struct mo_sub *s = container_of(work, struct mo_sub, work);

	mo_sub_run(s->batch, s);
}

/* The migrating CPU copies @p, and is measured. */
static int mo_cpu_copy(struct mo_pairs *p)
{
	u64 start = local_clock();
	int ret = folios_mc_copy(&p->dst, &p->src, p->nr);

	if (!ret)
		mo_update_throughput(&mo_cpu_throughput[mo_tp_class(p)],
				     p->pages << PAGE_SHIFT, mo_ns_since(start));
	return ret;
}

/* The migrating CPU copies the unclaimed chunks, the longest queue's first. */
static void mo_steal(struct mo_batch *b, unsigned long pending)
{
	unsigned int i, best = 0;
	int left, most, c;

	for (;;) {
		most = 0;
		for_each_set_bit(i, &pending, MO_MAX_MIGRATORS) {
			left = mo_unclaimed(&b->sub[i], b->sub[i].keep);
			if (left > most) {
				most = left;
				best = i;
			}
		}
		if (!most)
			return;
		c = mo_claim(&b->sub[best], true);
		if (c >= 0) {
			b->chunk[c].cpu = true;
			b->chunk[c].ret = mo_cpu_copy(&b->chunk[c].pairs);
		}
	}
}

/* @cpu is idle, not the migrating CPU, nor one of the @n in @taken. */
static bool mo_cpu_free(int cpu, const int *taken, unsigned int n)
{
	unsigned int i;

	if (cpu == raw_smp_processor_id() || !available_idle_cpu(cpu))
		return false;
	for (i = 0; i < n; i++)
		if (taken[i] == cpu)
			return false;
	return true;
}

#define MO_IDLE_PROBES		64

/*
 * Where to queue a worker of the batch: an idle CPU of node @nid, the
 * destination of its first folio, or else of any node, that no other
 * worker of the batch was queued on (@taken, @n).  mo_wq is unbound and
 * runs a work item in the pod, by default the last-level cache, of the
 * CPU it is queued on.  Queued from the migrating CPU, whose pod may be
 * itself alone (one CPU a socket, as on the test VMs), the worker started
 * there, beside the batch's copy, until the scheduler moved it: every
 * worker of four batches of 64 THPs did.  At most MO_IDLE_PROBES CPUs are
 * looked at; none idle, WORK_CPU_UNBOUND.
 */
static int mo_worker_cpu(int nid, const int *taken, unsigned int n)
{
	unsigned int probes = 0;
	int cpu;

	for_each_cpu_and(cpu, cpumask_of_node(nid), cpu_online_mask) {
		if (mo_cpu_free(cpu, taken, n))
			return cpu;
		if (++probes == MO_IDLE_PROBES)
			return WORK_CPU_UNBOUND;
	}
	for_each_online_cpu(cpu) {
		if (cpu_to_node(cpu) == nid)
			continue;
		if (mo_cpu_free(cpu, taken, n))
			return cpu;
		if (++probes == MO_IDLE_PROBES)
			break;
	}
	return WORK_CPU_UNBOUND;
}

static int mo_sub_nid(struct mo_batch *b, struct mo_sub *s)
{
	return folio_nid(list_first_entry(&b->chunk[s->first].pairs.dst,
					  struct folio, lru));
}

/*
 * Run the @pending sub-batches concurrently on mo_wq.  Sharing, the caller
 * copies what no migrator has claimed, then waits for what is in flight;
 * a worker that has not started by then and has nothing left to claim is
 * cancelled.  Otherwise the caller runs the first sub-batch itself.
 */
static void mo_run_subs(struct mo_batch *b, unsigned long pending)
{
	unsigned long queued = b->share ? pending : pending & (pending - 1);
	int cpus[MO_MAX_MIGRATORS];
	unsigned int i, n = 0;
	struct mo_sub *s;

	for_each_set_bit(i, &pending, MO_MAX_MIGRATORS) {
		s = &b->sub[i];
		mo_sub_limits(b, i);
		/* Not woken to find fewer chunks than it may claim. */
		if (mo_too_few(s, s->chunks, false) || !(queued & BIT(i))) {
			queued &= ~BIT(i);
			continue;
		}
		INIT_WORK(&s->work, mo_sub_workfn);
		cpus[n] = mo_worker_cpu(mo_sub_nid(b, s), cpus, n);
		queue_work_on(cpus[n++], mo_wq, &s->work);
	}
	if (b->share)
		mo_steal(b, pending);
	else
		mo_sub_run(b, &b->sub[__ffs(pending)]);
	for_each_set_bit(i, &queued, MO_MAX_MIGRATORS) {
		s = &b->sub[i];
		if (!b->share || !mo_too_few(s, mo_unclaimed(s, 0), false) ||
		    !cancel_work(&s->work))
			flush_work(&s->work);
	}
}

/*
 * Cut the sub-batches of @pending into their chunks: one each, or, where
 * the CPU shares, chunks of MO_CHUNK_PAGES at least and few enough for
 * mo_batch.chunk[] (each but a sub-batch's last holds that many pages).
 */
static void mo_cut(struct mo_batch *b, unsigned long pending)
{
	unsigned long pages = ULONG_MAX, total = 0;
	unsigned int i, next = 0;
	struct mo_chunk *k;
	struct mo_sub *s;

	for_each_set_bit(i, &pending, MO_MAX_MIGRATORS)
		total += b->sub[i].pairs.pages;
	if (b->share)
		pages = max(MO_CHUNK_PAGES, DIV_ROUND_UP(total, MO_MAX_CHUNKS -
							 MO_MAX_MIGRATORS));
	for_each_set_bit(i, &pending, MO_MAX_MIGRATORS) {
		s = &b->sub[i];
		s->first = next;
		for (k = NULL; s->pairs.nr;) {
			if (!k || k->pairs.pages >= pages) {
				k = &b->chunk[next++];
				mo_pairs_init(&k->pairs);
				k->ret = -ECANCELED;	/* not claimed */
				k->cpu = false;
			}
			mo_pairs_move(&s->pairs, &k->pairs,
				      list_first_entry(&s->pairs.src, struct folio, lru),
				      list_first_entry(&s->pairs.dst, struct folio, lru));
		}
		s->chunks = next - s->first;
		atomic_set(&s->claim, s->chunks * MO_CLAIM_END);
	}
}

/*
 * Sort the chunks of the round: the copied ones to @done, those the CPU
 * could not copy to @left, held ones to @held, and what a migrator did not
 * copy back to its sub-batch with its first error.  Returns the slots to
 * re-route.  A migrator is not charged for what the CPU took.
 */
static unsigned long mo_collect(struct mo_batch *b, unsigned long pending,
				struct mo_pairs *left, struct mo_pairs *done,
				struct mo_pairs *held)
{
	unsigned long failed = 0;
	struct mo_chunk *k;
	struct mo_sub *s;
	unsigned int i;

	for_each_set_bit(i, &pending, MO_MAX_MIGRATORS) {
		s = &b->sub[i];
		s->ret = 0;
		for (k = &b->chunk[s->first]; k < &b->chunk[s->first + s->chunks]; k++) {
			if (k->cpu) {
				mo_split_uncharge(b, i, k->pairs.pages);
				if (!k->ret)
					b->shared += k->pairs.nr;
			} else if (k->ret && !s->ret) {
				s->ret = k->ret;
			}
			mo_pairs_splice(&k->pairs, k->ret == -EINPROGRESS ? held :
					!k->ret ? done : k->cpu ? left : &s->pairs);
		}
		if (s->ret)
			b->excluded |= BIT(i);
		if (s->pairs.nr)
			failed |= BIT(i);
	}
	return failed;
}

/*
 * Re-route the folios the migrator of slot @i failed to copy to the
 * remaining candidates; those no one takes go to @cpu, as all of them if
 * it met a bad source page, which no other migrator may read.
 */
static unsigned long mo_reroute(struct mo_batch *b, unsigned int i,
				struct mo_pairs *cpu)
{
	unsigned int before[MO_MAX_MIGRATORS] = {}, j;
	struct mo_sub *s = &b->sub[i];
	unsigned long to = 0;

	mo_split_uncharge(b, i, s->pairs.pages);
	if (s->ret != -EHWPOISON) {
		for_each_set_bit(j, &b->started, MO_MAX_MIGRATORS)
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
		mo_cut(b, pending);
		mo_run_subs(b, pending);
		b->subs += hweight_long(pending);
		failed = mo_collect(b, pending, left, done, held);
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

/*
 * How many times slower than the CPU @e copies a batch of one chunk of size
 * class @c: at least 1 unless it is faster by a quarter, 0 if either is not
 * measured yet.  Nothing runs beside one chunk: the CPU waits for the
 * migrator that has it, and waking that costs a hop the copy must win
 * back.  A copier of the CPU's own speed (mtcopy with one thread) kept
 * such batches of 64 x 4 KiB at 0.88x the CPU alone.
 */
static long mo_alone_slowness(struct mo_entry *e, unsigned int c)
{
	long tp = atomic_long_read(&e->class_tp[c]);
	long cpu = atomic_long_read(&mo_cpu_throughput[c]);

	if (!tp || !cpu || tp > cpu + cpu / 4)
		return 0;
	return max(mo_slowness(e, c), 1L);
}

/*
 * Whether the migrating CPU copies the batch of @src alone, without the
 * split: where the CPU shares, a batch of one chunk (one folio, or
 * MO_CHUNK_PAGES at most) that no migrator which could take it copies
 * faster (mo_alone_slowness()).  A slower one would get it only in its
 * turn to be measured anyway, its sub-batch of one chunk fewer than it may
 * claim (mo_sub_limits()), after bookkeeping that costs as much as a small
 * copy.  Such a migrator is no faster in the size class @c of the batch,
 * nor in that of a call of less than a chunk where the split may deal a
 * part of the batch to it (several candidates, or one that not every folio
 * goes to).  Any doubt takes the split: no migrator, one on probation,
 * faster or not measured.  The slots whose turn to be measured comes
 * (mo_measure_turn()) are set in @measure for the split.
 */
static bool mo_cpu_alone(const struct mo_table *t, int reason,
			 struct list_head *src, unsigned int nr,
			 unsigned long pages, unsigned int c,
			 unsigned long *measure)
{
	unsigned long slots = 0, every = ULONG_MAX;
	bool slow = false, part;
	enum mo_health health;
	struct folio *folio;
	struct mo_entry *e;
	unsigned int i;
	long r;

	if (t->reason[reason].cpu_copy != MO_CPU_SHARE ||
	    (pages > MO_CHUNK_PAGES && nr > 1))
		return false;
	list_for_each_entry(folio, src, lru) {
		slots |= t->route[reason][folio_order(folio)];
		every &= t->route[reason][folio_order(folio)];
	}
	part = nr > 1 && c && (slots != every || hweight_long(slots) > 1);
	for_each_set_bit(i, &slots, MO_MAX_MIGRATORS) {
		e = t->slot[i].e;
		health = READ_ONCE(e->health);
		if (pages < t->slot[i].min_batch_pages ||
		    health == MO_HEALTH_OUT)
			continue;
		r = health == MO_HEALTH_OK ? mo_alone_slowness(e, c) : 0;
		if (!r || (part && !mo_alone_slowness(e, 0)))
			return false;
		if (mo_measure_turn(e, r))
			*measure |= BIT(i);
		slow = true;
	}
	return slow && !*measure;
}

/* What became of a batch: for the statistics and the tracepoint. */
struct mo_outcome {
	unsigned int copied;	/* pairs at the head of the lists */
	unsigned long pages;	/* base pages of those */
	unsigned int shared;	/* of those, copied by the migrating CPU */
	unsigned int held;	/* pairs at the tail a migrator holds */
	unsigned int subs;	/* sub-batches run */
};

/*
 * Timing a copy costs two clock reads and an update of the average: under
 * QEMU TCG, 0.5 us of a 13.5 us batch of one 4 KiB folio.  Of the batches
 * of less than a chunk the CPU copies alone, one in MO_ALONE_TIMED is
 * timed: the average follows the machine all the same, a little later.
 */
#define MO_ALONE_TIMED		8
static DEFINE_PER_CPU(unsigned int, mo_alone_batches);

static void mo_copy_alone(struct list_head *dst, struct list_head *src,
			  unsigned int nr, unsigned long pages, unsigned int c,
			  struct mo_outcome *o)
{
	bool timed = c || !(this_cpu_inc_return(mo_alone_batches) % MO_ALONE_TIMED);
	u64 start = timed ? local_clock() : 0;

	if (folios_mc_copy(dst, src, nr))
		return;
	if (timed)
		mo_update_throughput(&mo_cpu_throughput[c], pages << PAGE_SHIFT,
				     mo_ns_since(start));
	o->copied = nr;
	o->pages = pages;
	o->shared = nr;
}

/*
 * Copy the pairs of the lists through the split of @t; they come back with
 * the copied pairs first, then those the move phase copies per folio, then
 * the held ones.  Without memory for the bookkeeping, the move phase copies.
 */
static void mo_copy_split(const struct mo_table *t, int reason,
			  unsigned long measure, struct list_head *dst_list,
			  struct list_head *src_list, unsigned int nr,
			  unsigned long pages, struct mo_outcome *o)
{
	struct mo_pairs left, done, kept;
	struct mo_batch *b = mo_batch_get();

	if (!b)
		return;
	mo_pairs_init(&left);
	mo_pairs_init(&done);
	mo_pairs_init(&kept);
	list_splice_init(src_list, &left.src);
	list_splice_init(dst_list, &left.dst);
	left.nr = nr;
	left.pages = pages;
	memset(b, 0, offsetof(struct mo_batch, chunk));
	b->t = t;
	b->reason = reason;
	b->share = t->reason[reason].cpu_copy == MO_CPU_SHARE;
	b->measure = measure;
	mo_split_begin(b);
	mo_batch_run(b, &left, &done, &kept);
	mo_split_end(b);
	o->copied = done.nr;
	o->pages = done.pages;
	o->shared = b->shared;
	o->held = kept.nr;
	o->subs = b->subs;
	mo_batch_put(b);
	mo_pairs_splice(&left, &done);
	mo_pairs_splice(&kept, &done);
	list_splice(&done.src, src_list);
	list_splice(&done.dst, dst_list);
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
	struct mo_outcome o = {};
	unsigned long measure = 0;
	const struct mo_table *t;
	unsigned long pages = 0;
	struct folio *folio;
	unsigned int cpu, c;
	int idx;

	list_for_each_entry(folio, src_list, lru)
		pages += folio_nr_pages(folio);
	idx = srcu_read_lock(&migrate_offload_srcu);
	t = srcu_dereference(mo_table, &migrate_offload_srcu);
	if (nr && t->nr && pages >= t->reason[reason].min_batch_pages) {
		c = mo_size_class(pages, nr);
		if (mo_cpu_alone(t, reason, src_list, nr, pages, c, &measure))
			mo_copy_alone(dst_list, src_list, nr, pages, c, &o);
		else
			mo_copy_split(t, reason, measure, dst_list, src_list,
				      nr, pages, &o);
	}
	srcu_read_unlock(&migrate_offload_srcu, idx);
	cpu = nr - o.copied - o.held + skipped;
	mo_count(reason, MO_STAT_BATCHES, 1);
	mo_count(reason, MO_STAT_FOLIOS, o.copied);
	mo_count(reason, MO_STAT_BYTES, o.pages << PAGE_SHIFT);
	mo_count(reason, MO_STAT_SHARED, o.shared);
	mo_count(reason, MO_STAT_CPU, cpu);
	mo_count(reason, MO_STAT_HELD, o.held);
	trace_migrate_offload_batch(reason, nr, pages, o.copied, o.subs, cpu);
	*held = o.held;
	return o.copied;
}
