// SPDX-License-Identifier: GPL-2.0
/*
 * Data path of page migration copy offload: copy one batch of unmapped
 * folios through the registered migrator, fall back to the CPU, and mark
 * every destination whose contents were copied.
 */
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/sched.h>

#include "migrate_offload.h"

static unsigned int folio_list_count(struct list_head *list)
{
	return list_count_nodes(list);
}

/**
 * folios_mc_copy - copy a list of folios on the CPU, machine-check safe
 * @dst_list: destination folios, linked through folio->lru
 * @src_list: source folios, in the same order and of the same sizes
 * @nr: number of folios on each list
 *
 * Copies each source folio to the destination at the same position and marks
 * each destination whose contents were copied (folio_test_content_copied()).
 * Destinations that are marked already are skipped.  A pair that cannot be
 * copied (a poisoned source page, folios of different sizes) stays unmarked:
 * the migration path copies it again per folio and fails it there.
 *
 * Context: process context, may sleep.
 * Return: 0 if every folio was copied, -EINVAL if the lists do not hold @nr
 * folios each (nothing is copied then), -EHWPOISON if some folio could not be
 * copied.
 */
int folios_mc_copy(struct list_head *dst_list, struct list_head *src_list,
		   unsigned int nr)
{
	struct folio *src, *dst;
	int ret = 0;

	if (folio_list_count(dst_list) != nr || folio_list_count(src_list) != nr)
		return -EINVAL;

	dst = list_first_entry(dst_list, struct folio, lru);
	list_for_each_entry(src, src_list, lru) {
		if (!folio_test_content_copied(dst)) {
			if (folio_nr_pages(dst) == folio_nr_pages(src) &&
			    !folio_mc_copy(dst, src))
				folio_set_content_copied(dst);
			else
				ret = -EHWPOISON;
		}
		dst = list_next_entry(dst, lru);
		cond_resched();
	}
	return ret;
}
EXPORT_SYMBOL_GPL(folios_mc_copy);

/**
 * migrate_offload_should_batch - does the migrator want this batch?
 * @reason: enum migrate_reason of the batch
 *
 * Called by migrate_pages_batch() only while a migrator is registered.
 */
bool migrate_offload_should_batch(int reason)
{
	bool ret;
	int idx;

	idx = srcu_read_lock(&migrate_offload_srcu);
	ret = static_call(migrate_offload_should_batch)(reason);
	srcu_read_unlock(&migrate_offload_srcu, idx);
	return ret;
}

static void mark_all_copied(struct list_head *dst_list)
{
	struct folio *dst;

	list_for_each_entry(dst, dst_list, lru)
		folio_set_content_copied(dst);
}

/**
 * migrate_offload_copy_batch - copy a batch of unmapped folios
 * @reason: enum migrate_reason of the batch
 * @dst_list: destination folios, linked through folio->lru
 * @src_list: source folios, in the same order and of the same sizes
 * @nr: number of folios on each list
 *
 * Copies through the registered migrator, and on the CPU whatever it failed
 * to copy.  Every destination whose contents were copied is marked; the
 * move phase of migration copies the unmarked ones itself.
 */
void migrate_offload_copy_batch(int reason, struct list_head *dst_list,
				struct list_head *src_list, unsigned int nr)
{
	int idx, ret;

	idx = srcu_read_lock(&migrate_offload_srcu);
	ret = static_call(migrate_offload_copy)(dst_list, src_list, nr);
	srcu_read_unlock(&migrate_offload_srcu, idx);

	if (ret)
		folios_mc_copy(dst_list, src_list, nr);
	else
		mark_all_copied(dst_list);
}
