// SPDX-License-Identifier: GPL-2.0
/*
 * Health of the migrators of page migration copy offload.
 *
 * A migrator whose sub-batches fail mo_max_failures times in a row (device
 * errors, timeouts: not a busy engine, no memory, a bad source page) is
 * taken out of the policy table, and re-admitted on probation after a
 * back-off: its next batch gives it one folio, and a success makes it
 * healthy again.  A relapse doubles the back-off, up to mo_backoff_max_ms.
 * One found reporting a copy it did not make (verify) is taken out at once.
 */
#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include <trace/events/migrate.h>
#include <trace/events/migrate_offload.h>

#include "migrate_offload.h"

unsigned int mo_max_failures = 3;	/* 0: never take a migrator out */
unsigned int mo_backoff_min_ms = 1000;	/* first back-off before probation */
unsigned int mo_backoff_max_ms = 300000;	/* after relapses: 5 minutes */

const char * const mo_health_names[MO_HEALTH_OUT + 1] = {
	[MO_HEALTH_OK] = "ok",
	[MO_HEALTH_PROBATION] = "probation",
	[MO_HEALTH_OUT] = "out",
};

/*
 * A migrator taken out again before it has served as long as it was out
 * relapses: its back-off doubles, up to mo_backoff_max_ms.  One that stays
 * well that long is forgiven: the next back-off starts from the minimum.
 */
static unsigned int mo_next_backoff(struct mo_entry *e)
{
	unsigned int min = READ_ONCE(mo_backoff_min_ms);
	unsigned int max = READ_ONCE(mo_backoff_max_ms);

	if (!e->admitted || time_after_eq(jiffies, e->admitted +
					  msecs_to_jiffies(e->backoff_ms)))
		return min;
	e->relapses++;
	return clamp(e->backoff_ms * 2, min, max);
}

/*
 * Take @e out for a back-off: after too many consecutive failures, a failed
 * probation sub-batch, a wrong copy, or by the administrator.  The data
 * path skips @e from now on already.  It may run inside reclaim: the table
 * is rebuilt and @e re-admitted from work items on system_unbound_wq (the
 * rebuild allocates with GFP_KERNEL under mo_lock, so it must not run on
 * mo_wq, which reclaim flushes).
 */
void mo_health_out(struct mo_entry *e)
{
	spin_lock(&e->health_lock);
	if (e->health == MO_HEALTH_OUT) {
		spin_unlock(&e->health_lock);
		return;
	}
	e->backoff_ms = mo_next_backoff(e);
	e->admitted = 0;
	e->out_until = jiffies + msecs_to_jiffies(e->backoff_ms);
	WRITE_ONCE(e->health, MO_HEALTH_OUT);
	mod_delayed_work(system_unbound_wq, &e->readmit_work,
			 msecs_to_jiffies(e->backoff_ms));
	spin_unlock(&e->health_lock);
	trace_migrate_offload_health(e->name, mo_health_names[MO_HEALTH_OUT],
				     e->backoff_ms, e->relapses);

	pr_warn("migrate_offload: migrator %s taken out for %u ms (relapses: %u)\n",
		e->name, e->backoff_ms, e->relapses);
	queue_work(system_unbound_wq, &mo_rebuild_work);
}

/* The slot is in the table already: the next batches use it fully. */
static void mo_health_probation_passed(struct mo_entry *e)
{
	bool passed;

	spin_lock(&e->health_lock);
	passed = e->health == MO_HEALTH_PROBATION;
	if (passed)
		WRITE_ONCE(e->health, MO_HEALTH_OK);
	spin_unlock(&e->health_lock);
	if (passed)
		trace_migrate_offload_health(e->name,
					     mo_health_names[MO_HEALTH_OK],
					     e->backoff_ms, e->relapses);
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

/* The result @ret of a sub-batch of @e counts towards its health. */
void mo_health_account(struct mo_entry *e, int ret)
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

/* Set @health and publish a table with @e in or out of it accordingly. */
static int mo_set_health_locked(struct mo_entry *e, enum mo_health health)
{
	unsigned long admitted;
	int ret, old;

	lockdep_assert_held(&mo_lock);
	if (health == MO_HEALTH_OUT) {
		mo_health_out(e);
		return 0;
	}
	spin_lock(&e->health_lock);
	old = e->health;
	admitted = e->admitted;
	WRITE_ONCE(e->health, health);
	e->admitted = health == MO_HEALTH_PROBATION ? jiffies : 0;
	spin_unlock(&e->health_lock);
	ret = mo_table_rebuild();
	if (ret) {
		/* As it was, unless the data path changed it meanwhile. */
		spin_lock(&e->health_lock);
		if (e->health == health) {
			WRITE_ONCE(e->health, old);
			e->admitted = admitted;
		}
		spin_unlock(&e->health_lock);
		return ret;
	}
	atomic_set(&e->consecutive_errors, 0);
	trace_migrate_offload_health(e->name, mo_health_names[health],
				     e->backoff_ms, e->relapses);
	return 0;
}

/* Probation once the back-off is over; the data path tries one folio. */
void mo_readmit_workfn(struct work_struct *work)
{
	struct mo_entry *e = container_of(to_delayed_work(work),
					  struct mo_entry, readmit_work);

	mutex_lock(&mo_lock);
	/* Without memory for the table, try again after the least back-off. */
	if (e->registered && READ_ONCE(e->health) == MO_HEALTH_OUT &&
	    mo_set_health_locked(e, MO_HEALTH_PROBATION))
		queue_delayed_work(system_unbound_wq, &e->readmit_work,
				   msecs_to_jiffies(READ_ONCE(mo_backoff_min_ms)));
	mutex_unlock(&mo_lock);
}

/*
 * The administrator forces @e in at once (ok), in with one folio first
 * (probation) or out for a back-off.  -ENODEV if @e is unregistered,
 * -ENOMEM (nothing changed).
 */
int mo_set_health(struct mo_entry *e, enum mo_health health)
{
	int ret = -ENODEV;

	mutex_lock(&mo_lock);
	if (e->registered)
		ret = mo_set_health_locked(e, health);
	mutex_unlock(&mo_lock);
	return ret;
}

/*
 * Set @param, one of mo_max_failures and the bounds of the back-off; the
 * latter must keep 1 <= first <= longest <= one hour (-EINVAL otherwise).
 */
int mo_set_health_param(unsigned int *param, unsigned int val)
{
	unsigned int min_ms, max_ms;
	int ret = -EINVAL;

	mutex_lock(&mo_lock);
	if (param == &mo_max_failures)
		WRITE_ONCE(mo_max_failures, val);
	min_ms = param == &mo_backoff_min_ms ? val : mo_backoff_min_ms;
	max_ms = param == &mo_backoff_max_ms ? val : mo_backoff_max_ms;
	if (min_ms && min_ms <= max_ms && max_ms <= 3600 * MSEC_PER_SEC) {
		WRITE_ONCE(mo_backoff_min_ms, min_ms);
		WRITE_ONCE(mo_backoff_max_ms, max_ms);
		ret = 0;
	}
	mutex_unlock(&mo_lock);
	return ret;
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
 * over its life) with its source.  A wrong folio fails the whole call,
 * whose pairs are then copied elsewhere like any failed ones, and takes
 * the migrator out at once: it reported a copy it did not make.
 */
int mo_verify(struct mo_entry *e, struct mo_pairs *p)
{
	unsigned int every = READ_ONCE(e->params.verify);
	unsigned int compared = 0, wrong = 0;
	struct folio *src, *dst;
	unsigned long seq;
	int ret = 0;

	if (!every)
		return 0;
	seq = atomic_long_add_return(p->nr, &e->copied) - p->nr;
	dst = list_first_entry(&p->dst, struct folio, lru);
	list_for_each_entry(src, &p->src, lru) {
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
		trace_migrate_offload_verify(e->name, p->nr, compared, wrong);
	if (!wrong)
		return 0;
	mo_stat_add(e->stats, MO_STAT_VERIFY, wrong);
	mo_health_out(e);
	return -EIO;
}
