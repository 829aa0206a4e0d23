// SPDX-License-Identifier: GPL-2.0
/*
 * Registry of page migration copy offload providers ("migrators"): the
 * control plane.
 *
 * Any number of migrators may be registered.  Registration, unregistration,
 * health changes and every sysfs write rebuild an immutable policy table
 * (struct mo_table: for each migration reason and folio order, the slots of
 * the migrators serving it, by priority) and publish it with
 * rcu_assign_pointer().  The data path (migrate_offload_sched.c) reads the
 * table under migrate_offload_srcu; old tables, and the entries of
 * unregistered migrators, are freed an SRCU grace period later.  Every call
 * into a migrator is counted in its entry (users): unregistration closes
 * that count and waits for that migrator's calls only, so a migrator stuck
 * in a call delays no other's unregistration.  The data path also holds a
 * reference on the migrator's module around every call into it, so a
 * module that is going away gets no new work; its module_exit() calls
 * migrate_offload_stop(), which waits for the calls in flight.  Registration
 * does not pin the module: that would make a self-registering driver
 * impossible to unload.
 *
 * Locking: mo_lock protects the entry list, every tunable and the table
 * pointer; sysfs store() methods take it.  mo_register_lock serializes
 * registration against unregistration and covers the creation and removal
 * of a migrator's sysfs directory, which must never happen under mo_lock:
 * kobject_del() waits for store() methods that take mo_lock.
 */
#include <linux/migrate.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

/* MIGRATE_REASON, with EM() mapping each reason to its name */
#include <trace/events/migrate.h>
#define CREATE_TRACE_POINTS
#include <trace/events/migrate_offload.h>

#include "migrate_offload.h"

DEFINE_STATIC_KEY_FALSE(migrate_offload_key);
DEFINE_SRCU(migrate_offload_srcu);
struct mo_table __rcu *mo_table;
unsigned long mo_batch_orders[MR_TYPES];	/* orders with a route, per reason */
DEFINE_PER_CPU(struct mo_stats, mo_reason_stats[MR_TYPES]);
struct workqueue_struct *mo_wq;

/* The sum over all CPUs of counter @i of @s. */
long mo_stat_read(struct mo_stats __percpu *s, enum mo_stat i)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(s, cpu)->v[i];
	return sum;
}

/* The global counter @i: the sum over all reasons. */
long mo_stat_total(enum mo_stat i)
{
	long sum = 0;
	int r;

	for (r = 0; r < MR_TYPES; r++)
		sum += mo_stat_read(&mo_reason_stats[r], i);
	return sum;
}

DEFINE_MUTEX(mo_lock);			/* see "Locking" above */
LIST_HEAD(mo_entries);			/* in registration order */
bool mo_enabled = true;
struct mo_reason_policy mo_reasons[MR_TYPES];
/* Serializes (un)registration, with sysfs directory creation and removal. */
static DEFINE_MUTEX(mo_register_lock);

/*
 * Only the slots of migrators that are enabled and healthy, sorted by
 * priority, equal priorities in registration order.
 */
static struct mo_table *mo_table_build(gfp_t gfp)
{
	struct mo_table *t = kzalloc(sizeof(*t), gfp);
	struct mo_entry *e;
	unsigned int i;

	if (!t)
		return NULL;
	memcpy(t->reason, mo_reasons, sizeof(t->reason));
	if (!mo_enabled)
		return t;

	list_for_each_entry(e, &mo_entries, node) {
		if (!e->params.enabled || READ_ONCE(e->health) == MO_HEALTH_OUT)
			continue;
		/* Insertion keeps equal priorities in registration order. */
		for (i = t->nr; i > 0 && t->slot[i - 1].priority < e->params.priority; i--)
			t->slot[i] = t->slot[i - 1];
		t->slot[i] = (struct mo_slot) {
			.e = e,
			.priority = e->params.priority,
			.weight = e->params.weight,
			.min_batch_pages = e->params.min_batch_pages,
		};
		t->nr++;
	}

	for (i = 0; i < t->nr; i++) {
		struct mo_params *p = &t->slot[i].e->params;
		struct migrator *m = t->slot[i].e->m;
		unsigned long r, o;
		unsigned int j;

		for (j = 0; j < t->nr; j++)
			if (t->slot[j].priority == t->slot[i].priority)
				t->slot[i].level |= BIT(j);
		if (t->slot[i].min_batch_pages > 1)
			t->limited |= BIT(i);
		for_each_set_bit(r, &p->reasons, MR_TYPES) {
			if (m->should_batch && !m->should_batch(r))
				continue;
			for_each_set_bit(o, &p->orders, MO_NR_ORDERS)
				t->route[r][o] |= BIT(i);
		}
	}
	return t;
}

static void mo_table_free(struct rcu_head *rcu)
{
	kfree(container_of(rcu, struct mo_table, rcu));
}

/* Publish @t, and for migrate.c the orders each reason has a route for. */
static void mo_table_publish(struct mo_table *t)
{
	unsigned long orders, any = 0;
	struct mo_table *old;
	int r, o;

	old = rcu_replace_pointer(mo_table, t, lockdep_is_held(&mo_lock));
	for (r = 0; r < MR_TYPES; r++) {
		for (orders = 0, o = 0; o < MO_NR_ORDERS; o++)
			if (t->route[r][o])
				orders |= BIT(o);
		WRITE_ONCE(mo_batch_orders[r], orders);
		any |= orders;
	}
	if (any)
		static_branch_enable(&migrate_offload_key);
	else
		static_branch_disable(&migrate_offload_key);
	if (old)
		call_srcu(&migrate_offload_srcu, &old->rcu, mo_table_free);
}

/* Under mo_lock: 0, or -ENOMEM with the old table still in place. */
int mo_table_rebuild(void)
{
	struct mo_table *t;

	lockdep_assert_held(&mo_lock);
	t = mo_table_build(GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	mo_table_publish(t);
	return 0;
}

static void mo_rebuild_workfn(struct work_struct *work)
{
	mutex_lock(&mo_lock);
	mo_table_rebuild();
	mutex_unlock(&mo_lock);
}

DECLARE_WORK(mo_rebuild_work, mo_rebuild_workfn);

static bool mo_params_valid(const struct mo_entry *e, const struct mo_params *p)
{
	return p->weight >= 1 && p->weight <= MO_WEIGHT_MAX &&
	       p->reasons && p->orders &&
	       !(p->reasons & ~e->cap_reasons) && !(p->orders & ~e->cap_orders);
}

static void mo_params_set(struct mo_params *p, enum mo_param which, long val)
{
	switch (which) {
	case MO_PARAM_PRIORITY:
		p->priority = val;
		break;
	case MO_PARAM_ENABLED:
		p->enabled = val;
		break;
	case MO_PARAM_REASONS:
		p->reasons = val;
		break;
	case MO_PARAM_ORDERS:
		p->orders = val;
		break;
	case MO_PARAM_MIN_BATCH:
		p->min_batch_pages = val;
		break;
	case MO_PARAM_WEIGHT:
		p->weight = val;
		break;
	case MO_PARAM_VERIFY:
		p->verify = val;
		break;
	}
}

/*
 * Set one tunable of @e.  -EINVAL if reasons or orders would be empty or
 * beyond the capability, or the weight out of range; -ENODEV if @e is
 * unregistered; -ENOMEM.  Nothing changes on error.
 */
int mo_entry_set(struct mo_entry *e, enum mo_param which, long val)
{
	struct mo_params old;
	int ret = -ENODEV;

	mutex_lock(&mo_lock);
	if (!e->registered)
		goto unlock;
	old = e->params;
	mo_params_set(&e->params, which, val);
	ret = -EINVAL;
	if (mo_params_valid(e, &e->params))
		ret = mo_table_rebuild();
	if (ret)
		e->params = old;
unlock:
	mutex_unlock(&mo_lock);
	return ret;
}

/* The global switch: off sends every batch to the CPU. */
int mo_set_enabled(bool on)
{
	bool old;
	int ret;

	mutex_lock(&mo_lock);
	old = mo_enabled;
	mo_enabled = on;
	ret = mo_table_rebuild();
	if (ret)
		mo_enabled = old;
	mutex_unlock(&mo_lock);
	return ret;
}

/*
 * Set one policy of @reason to @val: base pages, an enum mo_split, an
 * enum mo_locality or an enum mo_cpu_copy.  -EINVAL for a bad reason or
 * value, -ENOMEM (nothing changed).
 */
int mo_set_reason_policy(int reason, enum mo_reason_param which,
			 unsigned int val)
{
	struct mo_reason_policy old;
	int ret;

	if (reason < 0 || reason >= MR_TYPES ||
	    (which == MO_REASON_SPLIT && val > MO_SPLIT_ADAPTIVE) ||
	    (which == MO_REASON_LOCALITY && val > MO_LOCALITY_SRC) ||
	    (which == MO_REASON_CPU_COPY && val > MO_CPU_FALLBACK))
		return -EINVAL;
	mutex_lock(&mo_lock);
	old = mo_reasons[reason];
	if (which == MO_REASON_SPLIT)
		mo_reasons[reason].split = val;
	else if (which == MO_REASON_LOCALITY)
		mo_reasons[reason].locality = val;
	else if (which == MO_REASON_CPU_COPY)
		mo_reasons[reason].cpu_copy = val;
	else
		mo_reasons[reason].min_batch_pages = val;
	ret = mo_table_rebuild();
	if (ret)
		mo_reasons[reason] = old;
	mutex_unlock(&mo_lock);
	return ret;
}

static struct mo_entry *mo_entry_find_locked(const char *name,
					     const struct migrator *m)
{
	struct mo_entry *e;

	list_for_each_entry(e, &mo_entries, node)
		if (e->m == m || (name && !strcmp(e->m->name, name)))
			return e;
	return NULL;
}

static bool migrator_valid(const struct migrator *m)
{
	return m && !m->copy != !m->offload_copy && m->name[0] &&
	       strnlen(m->name, MIGRATOR_NAME_LEN) < MIGRATOR_NAME_LEN &&
	       !strchr(m->name, '/') &&
	       !(m->reasons & ~MO_ALL_REASONS) && !(m->orders & ~MO_ALL_ORDERS) &&
	       m->weight <= MO_WEIGHT_MAX &&
	       nodes_subset(m->nodes, node_possible_map) &&
	       (m->mc_safe || !(m->reasons & BIT(MR_MEMORY_FAILURE)));
}

/* Pages suspected bad are copied only machine-check safe. */
static unsigned long migrator_cap_reasons(const struct migrator *m)
{
	unsigned long reasons = m->reasons ?: MO_ALL_REASONS;

	return m->mc_safe ? reasons : reasons & ~BIT(MR_MEMORY_FAILURE);
}

/* The last reference to the entry is its directory's. */
static void mo_entry_release(struct kobject *kobj)
{
	struct mo_entry *e = container_of(kobj, struct mo_entry, kobj);

	free_percpu(e->stats);
	kfree(e);
}

static const struct kobj_type mo_entry_ktype = {
	.release = mo_entry_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = mo_entry_groups,
};

static struct mo_entry *mo_entry_alloc(struct migrator *m)
{
	struct mo_entry *e = kzalloc(sizeof(*e), GFP_KERNEL);

	if (!e)
		return NULL;
	e->stats = alloc_percpu(struct mo_stats);
	if (!e->stats) {
		kfree(e);
		return NULL;
	}
	e->m = m;
	strscpy(e->name, m->name);
	atomic_set(&e->users, 1);
	spin_lock_init(&e->health_lock);
	INIT_DELAYED_WORK(&e->readmit_work, mo_readmit_workfn);
	e->cap_reasons = migrator_cap_reasons(m);
	e->cap_orders = m->orders ?: MO_ALL_ORDERS;
	e->nodes = nodes_empty(m->nodes) ? node_possible_map : m->nodes;
	e->params = (struct mo_params) {
		.priority = m->priority,
		.enabled = true,
		.reasons = e->cap_reasons,
		.orders = e->cap_orders,
		.min_batch_pages = m->min_batch_pages,
		.weight = m->weight ?: 1,
	};
	kobject_init(&e->kobj, &mo_entry_ktype);
	return e;
}

static int mo_entry_link(struct mo_entry *e)
{
	int ret = -EEXIST;

	mutex_lock(&mo_lock);
	if (mo_entry_find_locked(e->m->name, e->m))
		goto unlock;
	ret = -ENOSPC;
	if (list_count_nodes(&mo_entries) >= MO_MAX_MIGRATORS)
		goto unlock;
	ret = -ENODEV;
	if (!try_module_get(e->m->owner))
		goto unlock;
	module_put(e->m->owner);
	list_add_tail(&e->node, &mo_entries);
	e->registered = true;
	ret = mo_table_rebuild();
	if (ret) {
		list_del(&e->node);
		e->registered = false;
	}
unlock:
	mutex_unlock(&mo_lock);
	return ret;
}

/**
 * migrate_offload_start - register a migrator for the batch copy
 * @m: the migrator; must stay valid until migrate_offload_stop() returns.
 *
 * From now on, migrate_pages_batch() hands @m the folios it is the best
 * candidate for, by migration reason, folio order, priority, minimum batch
 * size and weight (see struct migrator).  Several migrators may be
 * registered at once.  A reference on @m->owner is held around every call
 * into @m; @m->owner must call migrate_offload_stop() before it unloads.
 * A directory migrators/<name>/ appears under
 * /sys/kernel/mm/migrate_offload/.
 *
 * Context: process context, may sleep.
 * Return: 0 on success; -EINVAL if @m has no valid name, not exactly one of
 * copy and offload_copy, capability masks naming unknown reasons or
 * orders, a weight above 255, nodes that are not possible, or
 * %MR_MEMORY_FAILURE without @m->mc_safe; -EEXIST if @m or
 * another migrator of that name is registered; -ENOSPC if %MO_MAX_MIGRATORS
 * are; -ENODEV if @m->owner is going away; -ENOMEM, also when the core
 * could not set up at boot.
 */
int migrate_offload_start(struct migrator *m)
{
	struct mo_entry *e;
	int ret;

	if (!migrator_valid(m))
		return -EINVAL;
	/* Without the workqueue sub-batches cannot run: nothing registers. */
	if (!mo_wq)
		return -ENOMEM;
	e = mo_entry_alloc(m);
	if (!e)
		return -ENOMEM;

	mutex_lock(&mo_register_lock);
	ret = mo_entry_link(e);
	if (!ret) {
		if (mo_sysfs_add_entry(e))
			pr_warn("migrate_offload: no sysfs directory for migrator %s\n",
				m->name);
		/* A stop may free @e as soon as the lock is dropped. */
		pr_info("migrate_offload: migrator %s registered (priority %d)\n",
			m->name, e->params.priority);
	}
	mutex_unlock(&mo_register_lock);
	if (ret)
		kobject_put(&e->kobj);
	return ret;
}
EXPORT_SYMBOL_GPL(migrate_offload_start);

static void mo_entry_put_rcu(struct rcu_head *rcu)
{
	kobject_put(&container_of(rcu, struct mo_entry, rcu)->kobj);
}

/**
 * migrate_offload_stop - unregister a migrator
 * @m: the migrator passed to migrate_offload_start().
 *
 * Returns only when no call into @m can be running or start any more, so
 * the caller may free @m and unload its module right after: call it from
 * module_exit().
 *
 * Context: process context, may sleep.
 * Return: 0 on success, -ENOENT if @m is not registered.
 */
int migrate_offload_stop(struct migrator *m)
{
	struct mo_entry *e;

	mutex_lock(&mo_register_lock);
	mutex_lock(&mo_lock);
	e = m ? mo_entry_find_locked(NULL, m) : NULL;
	if (!e) {
		mutex_unlock(&mo_lock);
		mutex_unlock(&mo_register_lock);
		return -ENOENT;
	}
	list_del(&e->node);
	e->registered = false;
	/* The table must stop pointing at @e: this allocation may not fail. */
	mo_table_publish(mo_table_build(GFP_KERNEL | __GFP_NOFAIL));
	mutex_unlock(&mo_lock);

	/*
	 * Wait for the calls into @m in flight, and let none start, whatever
	 * table a batch holds: only @m's own calls, never a grace period of
	 * every batch, so that a migrator stuck in a call (an engine that does
	 * not complete) delays no one else's unregistration.
	 */
	if (!atomic_dec_and_test(&e->users))
		wait_var_event(&e->users, !atomic_read(&e->users));
	/* No batch or administrator can take @e out any more. */
	mo_sysfs_del_entry(e);
	cancel_delayed_work_sync(&e->readmit_work);
	mutex_unlock(&mo_register_lock);

	pr_info("migrate_offload: migrator %s unregistered\n", e->name);
	/* Batches holding an older table may still read @e: free it after. */
	call_srcu(&migrate_offload_srcu, &e->rcu, mo_entry_put_rcu);
	return 0;
}
EXPORT_SYMBOL_GPL(migrate_offload_stop);

static int __init migrate_offload_init(void)
{
	int ret;

	mo_wq = alloc_workqueue("migrate_offload", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!mo_wq)
		return -ENOMEM;
	mutex_lock(&mo_lock);
	ret = mo_table_rebuild();
	mutex_unlock(&mo_lock);
	if (ret)
		return ret;
	/* Without sysfs the defaults hold and migrators still register. */
	mo_sysfs_init();
	return 0;
}
subsys_initcall(migrate_offload_init);
