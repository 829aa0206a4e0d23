/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Batch copy of migrating folios, offloaded to a registered migrator.
 *
 * migrate_pages_batch() unmaps a batch of folios, flushes the TLB once and
 * then copies all eligible folios in one call: through the registered
 * migrator (a DMA engine driver, a multi-threaded CPU copier, ...) or, when
 * it fails, on the CPU with folios_mc_copy().  Each destination folio whose
 * contents were copied is marked, and the move phase skips the copy for it;
 * an unmarked folio is copied by the ordinary per-folio path, so a migrator
 * that fails never loses data.
 */
#ifndef _LINUX_MIGRATE_COPY_OFFLOAD_H
#define _LINUX_MIGRATE_COPY_OFFLOAD_H

#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/types.h>

#define MIGRATOR_NAME_LEN	32

/**
 * struct migrator - a provider of batch folio copies for page migration
 * @name: unique name, shown to the administrator.
 * @offload_copy: copy the contents of each folio on @src (linked through
 *	folio->lru) to the folio at the same position on @dst; @cnt is the
 *	number of folios on each list.  Both lists hold folios of equal sizes
 *	pairwise.  May sleep.  Returns 0 when every folio was copied, or a
 *	negative errno, in which case the core copies the batch on the CPU.
 * @should_batch: optional; return false for a migration reason (enum
 *	migrate_reason) whose folios this migrator does not want.
 * @owner: the module providing the callbacks (THIS_MODULE).
 */
struct migrator {
	char name[MIGRATOR_NAME_LEN];
	int (*offload_copy)(struct list_head *dst, struct list_head *src,
			    unsigned int cnt);
	bool (*should_batch)(int reason);
	struct module *owner;
};

/*
 * The "content copied" marker lives in bit 2 of the destination folio's
 * ->private, next to the anon_vma pointer and the PAGE_WAS_* bits that
 * mm/migrate.c keeps there during migration.  anon_vma is at least 8-byte
 * aligned only on 64-bit, hence CONFIG_MIGRATION_COPY_OFFLOAD depends on
 * 64BIT.
 */
#define MIGRATE_CONTENT_COPIED	0x4UL

#ifdef CONFIG_MIGRATION_COPY_OFFLOAD
int migrate_offload_start(struct migrator *m);
int migrate_offload_stop(struct migrator *m);
int folios_mc_copy(struct list_head *dst_list, struct list_head *src_list,
		   unsigned int nr);

static inline void folio_set_content_copied(struct folio *dst)
{
	dst->private = (void *)((unsigned long)dst->private |
				MIGRATE_CONTENT_COPIED);
}

static inline bool folio_test_content_copied(const struct folio *dst)
{
	return (unsigned long)dst->private & MIGRATE_CONTENT_COPIED;
}
#endif /* CONFIG_MIGRATION_COPY_OFFLOAD */

#endif /* _LINUX_MIGRATE_COPY_OFFLOAD_H */
