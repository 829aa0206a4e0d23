/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interface of migration copy offload: the hooks mm/migrate.c
 * calls, and what the registry (migrate_copy_offload.c) shares with the
 * data path (migrate_offload_sched.c).
 */
#ifndef _MM_MIGRATE_OFFLOAD_H
#define _MM_MIGRATE_OFFLOAD_H

#include <linux/jump_label.h>
#include <linux/migrate_copy_offload.h>

#ifdef CONFIG_MIGRATION_COPY_OFFLOAD
#include <linux/srcu.h>
#include <linux/static_call.h>

DECLARE_STATIC_KEY_FALSE(migrate_offload_key);
extern struct srcu_struct migrate_offload_srcu;

bool migrate_offload_batch_all(int reason);
DECLARE_STATIC_CALL(migrate_offload_copy, folios_mc_copy);
DECLARE_STATIC_CALL(migrate_offload_should_batch, migrate_offload_batch_all);

/* True while a migrator is registered: the only cost when none is. */
static inline bool migrate_offload_active(void)
{
	return static_branch_unlikely(&migrate_offload_key);
}

bool migrate_offload_should_batch(int reason);
void migrate_offload_copy_batch(int reason, struct list_head *dst_list,
				struct list_head *src_list, unsigned int nr);
#else
static inline bool migrate_offload_active(void)
{
	return false;
}

static inline bool migrate_offload_should_batch(int reason)
{
	return false;
}

static inline void migrate_offload_copy_batch(int reason,
		struct list_head *dst_list, struct list_head *src_list,
		unsigned int nr)
{
}
#endif /* CONFIG_MIGRATION_COPY_OFFLOAD */

#endif /* _MM_MIGRATE_OFFLOAD_H */
