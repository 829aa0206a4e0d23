// SPDX-License-Identifier: GPL-2.0
/*
 * Registry of page migration copy offload providers ("migrators").
 *
 * One migrator at a time may take over the batch copy of
 * migrate_pages_batch().  Its callbacks are patched into static calls under
 * migrator_lock and called under SRCU, so that migrate_offload_stop() can
 * wait for every call in flight before dropping the module reference.
 */
#include <linux/jump_label.h>
#include <linux/migrate.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/string.h>

#include "migrate_offload.h"

DEFINE_STATIC_KEY_FALSE(migrate_offload_key);
DEFINE_SRCU(migrate_offload_srcu);
DEFINE_STATIC_CALL(migrate_offload_copy, folios_mc_copy);
DEFINE_STATIC_CALL(migrate_offload_should_batch, migrate_offload_batch_all);

static DEFINE_MUTEX(migrator_lock);
static struct migrator *active_migrator;	/* under migrator_lock */

bool migrate_offload_batch_all(int reason)
{
	return true;
}

static bool migrator_valid(const struct migrator *m)
{
	return m && m->offload_copy && m->name[0] &&
	       strnlen(m->name, MIGRATOR_NAME_LEN) < MIGRATOR_NAME_LEN;
}

/**
 * migrate_offload_start - register a migrator for the batch copy
 * @m: the migrator; must stay valid until migrate_offload_stop() returns.
 *
 * From now on, migrate_pages_batch() hands the folios of the reasons that
 * @m->should_batch() accepts to @m->offload_copy().  A reference on
 * @m->owner is held while @m is registered.
 *
 * Context: process context, may sleep.
 * Return: 0 on success, -EINVAL if @m has no name or no offload_copy,
 * -EBUSY if another migrator is registered, -ENODEV if @m->owner is going
 * away.
 */
int migrate_offload_start(struct migrator *m)
{
	int ret = 0;

	if (!migrator_valid(m))
		return -EINVAL;

	mutex_lock(&migrator_lock);
	if (active_migrator) {
		ret = -EBUSY;
		goto unlock;
	}
	if (!try_module_get(m->owner)) {
		ret = -ENODEV;
		goto unlock;
	}
	static_call_update(migrate_offload_copy, m->offload_copy);
	static_call_update(migrate_offload_should_batch,
			   m->should_batch ?: migrate_offload_batch_all);
	active_migrator = m;
	static_branch_enable(&migrate_offload_key);
	pr_info("migrate_offload: migrator %s registered\n", m->name);
unlock:
	mutex_unlock(&migrator_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(migrate_offload_start);

/**
 * migrate_offload_stop - unregister a migrator
 * @m: the migrator passed to migrate_offload_start().
 *
 * Returns only when no call into @m can be running or start any more, so
 * the caller may free @m and unload its module right after.
 *
 * Context: process context, may sleep.
 * Return: 0 on success, -ENOENT if @m is not the registered migrator.
 */
int migrate_offload_stop(struct migrator *m)
{
	mutex_lock(&migrator_lock);
	if (!m || active_migrator != m) {
		mutex_unlock(&migrator_lock);
		return -ENOENT;
	}
	static_branch_disable(&migrate_offload_key);
	static_call_update(migrate_offload_copy, folios_mc_copy);
	static_call_update(migrate_offload_should_batch,
			   migrate_offload_batch_all);
	active_migrator = NULL;
	mutex_unlock(&migrator_lock);

	/* Callers that saw the old static call target are done after this. */
	synchronize_srcu(&migrate_offload_srcu);
	module_put(m->owner);
	pr_info("migrate_offload: migrator %s unregistered\n", m->name);
	return 0;
}
EXPORT_SYMBOL_GPL(migrate_offload_stop);
