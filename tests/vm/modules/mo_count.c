// SPDX-License-Identifier: GPL-2.0
/*
 * mo_count: a test-only migrator that copies on the CPU and counts what it
 * copied, so that VM tests can prove the batch copy path was taken.
 *
 * /sys/module/mo_count/parameters/{calls,folios,pages} count the batches,
 * folios and base pages copied; writing 1 to "fail" makes every batch fail
 * (after counting the call) so that the core must copy on the CPU.
 * "registered" starts and stops the migrator: the registry holds a reference
 * on this module while it is registered, so it unloads only once stopped.
 */
#include <linux/migrate_copy_offload.h>
#include <linux/mm.h>
#include <linux/module.h>

static unsigned long calls, folios, pages;
module_param(calls, ulong, 0444);
module_param(folios, ulong, 0444);
module_param(pages, ulong, 0444);
static bool fail;
module_param(fail, bool, 0644);

static int mo_count_copy(struct list_head *dst_list, struct list_head *src_list,
			 unsigned int cnt)
{
	struct folio *src, *dst;
	unsigned long nr_folios = 0, nr_pages = 0;

	WRITE_ONCE(calls, READ_ONCE(calls) + 1);
	if (READ_ONCE(fail))
		return -EIO;
	dst = list_first_entry(dst_list, struct folio, lru);
	list_for_each_entry(src, src_list, lru) {
		if (folio_mc_copy(dst, src))
			return -EHWPOISON;
		nr_folios++;
		nr_pages += folio_nr_pages(src);
		dst = list_next_entry(dst, lru);
	}
	if (nr_folios != cnt)
		return -EINVAL;
	WRITE_ONCE(folios, READ_ONCE(folios) + nr_folios);
	WRITE_ONCE(pages, READ_ONCE(pages) + nr_pages);
	return 0;
}

static struct migrator mo_count = {
	.name = "mo_count",
	.offload_copy = mo_count_copy,
	.owner = THIS_MODULE,
};

static bool registered;

static int registered_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret || on == registered)
		return ret;
	ret = on ? migrate_offload_start(&mo_count) : migrate_offload_stop(&mo_count);
	if (!ret)
		registered = on;
	return ret;
}

static const struct kernel_param_ops registered_ops = {
	.set = registered_set,
	.get = param_get_bool,
};
module_param_cb(registered, &registered_ops, &registered, 0644);

static int __init mo_count_init(void)
{
	return registered_set("1", NULL);
}
module_init(mo_count_init);

static void __exit mo_count_exit(void)
{
	migrate_offload_stop(&mo_count);
}
module_exit(mo_count_exit);

MODULE_DESCRIPTION("Test-only migrator counting the folios it copies");
MODULE_LICENSE("GPL");
