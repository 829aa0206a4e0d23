// SPDX-License-Identifier: GPL-2.0
/*
 * mo_test: test-only migrators that copy on the CPU, for the VM tests.
 *
 * set=seed registers "mo_count", written for the single-migrator API (name,
 * offload_copy, owner only); /sys/module/mo_test/parameters/{calls,folios,
 * pages} count what it was given.  set=pair registers "fake_a" (every
 * reason and order, priority 20) and "fake_b" (4 KiB folios of move_pages(2)
 * and mbind(2) only, priority 10); the core's sysfs statistics tell what
 * they copied.  "fail" is a bitmask (bit 0 mo_count, 1 fake_a, 2 fake_b) of
 * migrators whose batches fail.  "registered" starts and stops the set;
 * module_exit() stops it too.
 */
#include <linux/migrate.h>
#include <linux/migrate_copy_offload.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/spinlock.h>

static unsigned long calls, folios, pages;
module_param(calls, ulong, 0444);
module_param(folios, ulong, 0444);
module_param(pages, ulong, 0444);
static unsigned int fail;
module_param(fail, uint, 0644);
static char *set = "seed";
module_param(set, charp, 0444);
static DEFINE_SPINLOCK(count_lock);

static int mo_test_copy(unsigned int id, struct list_head *dst_list,
			struct list_head *src_list, unsigned int cnt)
{
	unsigned long nr_folios = 0, nr_pages = 0;
	struct folio *src, *dst;

	if (READ_ONCE(fail) & BIT(id))
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
	if (id == 0) {
		spin_lock(&count_lock);
		folios += nr_folios;
		pages += nr_pages;
		spin_unlock(&count_lock);
	}
	return 0;
}

static int mo_count_copy(struct list_head *dst, struct list_head *src,
			 unsigned int cnt)
{
	spin_lock(&count_lock);
	calls++;
	spin_unlock(&count_lock);
	return mo_test_copy(0, dst, src, cnt);
}

static int fake_a_copy(struct list_head *dst, struct list_head *src,
		       unsigned int cnt)
{
	return mo_test_copy(1, dst, src, cnt);
}

static int fake_b_copy(struct list_head *dst, struct list_head *src,
		       unsigned int cnt)
{
	return mo_test_copy(2, dst, src, cnt);
}

static struct migrator mo_count = {
	.name = "mo_count",
	.offload_copy = mo_count_copy,
	.owner = THIS_MODULE,
};

static struct migrator fake_a = {
	.name = "fake_a",
	.offload_copy = fake_a_copy,
	.owner = THIS_MODULE,
	.priority = 20,
};

static struct migrator fake_b = {
	.name = "fake_b",
	.offload_copy = fake_b_copy,
	.owner = THIS_MODULE,
	.priority = 10,
	.reasons = BIT(MR_SYSCALL) | BIT(MR_MEMPOLICY_MBIND),
	.orders = BIT(0),
};

static bool registered;

static int mo_test_start(void)
{
	int ret;

	if (strcmp(set, "pair"))
		return migrate_offload_start(&mo_count);
	ret = migrate_offload_start(&fake_a);
	if (!ret) {
		ret = migrate_offload_start(&fake_b);
		if (ret)
			migrate_offload_stop(&fake_a);
	}
	return ret;
}

static int mo_test_stop(void)
{
	if (strcmp(set, "pair"))
		return migrate_offload_stop(&mo_count);
	return migrate_offload_stop(&fake_b) ?: migrate_offload_stop(&fake_a);
}

static int registered_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret || on == registered)
		return ret;
	ret = on ? mo_test_start() : mo_test_stop();
	if (!ret)
		registered = on;
	return ret;
}

static const struct kernel_param_ops registered_ops = {
	.set = registered_set,
	.get = param_get_bool,
};
module_param_cb(registered, &registered_ops, &registered, 0644);

static int __init mo_test_init(void)
{
	return registered_set("1", NULL);
}
module_init(mo_test_init);

static void __exit mo_test_exit(void)
{
	registered_set("0", NULL);
}
module_exit(mo_test_exit);

MODULE_DESCRIPTION("Test-only migrators for the migration copy offload VM tests");
MODULE_LICENSE("GPL");
