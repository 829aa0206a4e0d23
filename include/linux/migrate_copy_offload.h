/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Batch copy of migrating folios, offloaded to registered migrators.
 *
 * migrate_pages_batch() unmaps a batch of folios, flushes the TLB once and
 * then copies all eligible folios in one call.  The batch is split among the
 * registered migrators (DMA engine drivers, multi-threaded CPU copiers, ...)
 * by migration reason, folio order, priority and weight, and the sub-batches
 * run concurrently.  Whatever a migrator fails to copy goes to the next
 * candidate and finally to the CPU.  The move phase skips the copy for the
 * folios copied; every other folio is copied by the ordinary per-folio path,
 * so a failing migrator never loses data.  Which folios were copied is known
 * only to mm/migrate.c and the core: a migrator never marks a folio.
 */
#ifndef _LINUX_MIGRATE_COPY_OFFLOAD_H
#define _LINUX_MIGRATE_COPY_OFFLOAD_H

#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/nodemask.h>
#include <linux/types.h>

#define MIGRATOR_NAME_LEN	32

/**
 * struct migrator - a provider of batch folio copies for page migration
 * @name: unique name; the directory name under
 *	/sys/kernel/mm/migrate_offload/migrators/.
 * @copy: copy the contents of each folio on @src (linked through
 *	folio->lru) to the folio at the same position on @dst; @cnt is the
 *	number of folios on each list.  Both lists hold folios of equal sizes
 *	pairwise.  May sleep; must not allocate memory that may enter direct
 *	reclaim (it runs inside reclaim and compaction).  Returns 0 when every
 *	folio was copied, or a negative errno: the core then copies the
 *	sub-batch elsewhere.  -EBUSY (engine busy) and -ENOMEM decline the
 *	sub-batch without counting as a failure for health tracking.
 *	-EINPROGRESS: transfers the migrator could not stop may still write
 *	the destinations; it holds a reference on each destination folio
 *	until they are done.  The core then uses none of them: the migration
 *	of those folios fails and their sources stay where they are.
 *	@m is the migrator itself: one driver may register several.
 * @offload_copy: as @copy without @m, the single-migrator API's form; set
 *	one of the two.
 * @should_batch: optional; return false for a migration reason (enum
 *	migrate_reason) this migrator does not want.  Evaluated when the
 *	policy table is rebuilt, not per batch, under the registry's lock
 *	while the migrator is registered.
 * @owner: the module providing the callbacks (THIS_MODULE); referenced
 *	around every copy.  Its module_exit() must call
 *	migrate_offload_stop().
 * @priority: default priority; the highest-priority migrator that can take
 *	a folio copies it.  The administrator may change it in sysfs.
 * @reasons: capability: BIT(MR_*) of the migration reasons served; 0 = all.
 * @orders: capability: BIT(order) of the folio orders copied; 0 = all.
 * @min_batch_pages: default minimum number of base pages of a batch this
 *	migrator can take; below it the batch stays with others or the CPU.
 * @weight: default share among migrators of equal priority, 1 to 255 as
 *	the weights of weighted interleave; 0 = 1.
 * @mc_safe: the copy survives a machine check on the source (it reads with
 *	copy_mc_*() or the engine reports poison as an error).  Only such
 *	migrators serve %MR_MEMORY_FAILURE, whose pages are suspected bad: a
 *	migrator that is not may not name it in @reasons.
 * @nodes: the NUMA nodes the migrator is local to (a DMA engine: its
 *	device's node); empty: all nodes, as a CPU copier.  Where a reason's
 *	locality policy asks for it, a folio goes to a migrator local to its
 *	destination (or source) node before the others of equal priority.
 *
 * Where the copy runs: in the migrating task, which may be kswapd or
 * kcompactd or be in direct reclaim or compaction (PF_MEMALLOC), or on the
 * core's WQ_MEM_RECLAIM workqueue.  It may sleep, but must not allocate
 * with direct reclaim, and must not wait for work on a workqueue without
 * WQ_MEM_RECLAIM (no flush of system_wq, no dmaengine_terminate_sync() on
 * a provider that completes from one): reclaim would wait on itself.  A
 * failed sub-batch returns -EHWPOISON if a source page was bad (the CPU
 * then copies it, machine-check safe), another negative errno otherwise.
 *
 * A migrator written for the single-migrator API (name, offload_copy,
 * should_batch, owner) registers and works unchanged: priority 0, every
 * reason its should_batch() accepts, every order.
 */
struct migrator {
	char name[MIGRATOR_NAME_LEN];
	int (*copy)(struct migrator *m, struct list_head *dst,
		    struct list_head *src, unsigned int cnt);
	int (*offload_copy)(struct list_head *dst, struct list_head *src,
			    unsigned int cnt);
	bool (*should_batch)(int reason);
	struct module *owner;
	int priority;
	unsigned long reasons;
	unsigned long orders;
	unsigned int min_batch_pages;
	unsigned int weight;
	bool mc_safe;
	nodemask_t nodes;
};

#ifdef CONFIG_MIGRATION_COPY_OFFLOAD
int migrate_offload_start(struct migrator *m);
int migrate_offload_stop(struct migrator *m);
#endif /* CONFIG_MIGRATION_COPY_OFFLOAD */

#endif /* _LINUX_MIGRATE_COPY_OFFLOAD_H */
