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
 * migrators whose batches fail.  set=liar registers "liar" (every reason
 * and order, priority 100), which reports every sub-batch copied but gets
 * one folio of every lie_every wrong (the one whose count since load,
 * modulo lie_every, is seed): "lie" says how, "lies" counts them.  It lies
 * only to the process "pid" (its migrations copy in the migrating task: the
 * liar is alone), so that no other task's memory is corrupted by a test;
 * to none with pid 0 (the default), to every task with -1.
 * "registered" starts and stops the set; module_exit() stops it too.
 */
#include <linux/migrate.h>
#include <linux/migrate_copy_offload.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/highmem.h>
#include <linux/sched.h>
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

/*
 * How the liar gets a folio wrong: untouched (the destination keeps what the
 * allocator left there), flip (one byte, the last, inverted), neighbour (the
 * next folio of the sub-batch copied instead, or the previous one; a lone
 * folio gets its source shifted by 8 bytes), half (the first half copied).
 */
enum { LIE_UNTOUCHED, LIE_FLIP, LIE_NEIGHBOUR, LIE_HALF };
static const char * const lie_names[] = { "untouched", "flip", "neighbour",
					  "half", NULL };
static int lie;
static unsigned int lie_every = 16, seed;
static int pid;
static atomic_long_t liar_folios;
static unsigned long lies;
module_param(lie_every, uint, 0644);
module_param(seed, uint, 0644);
module_param(pid, int, 0644);
module_param(lies, ulong, 0444);

static int lie_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(lie_names, val);

	if (i < 0)
		return i;
	WRITE_ONCE(lie, i);
	return 0;
}

static int lie_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", lie_names[READ_ONCE(lie)]);
}

static const struct kernel_param_ops lie_ops = {
	.set = lie_set,
	.get = lie_get,
};
module_param_cb(lie, &lie_ops, NULL, 0644);

/* Copy @len bytes from @src at @soff to @dst at @doff, page by page. */
static void copy_bytes(struct folio *dst, size_t doff, struct folio *src,
		       size_t soff, size_t len)
{
	while (len) {
		size_t n = min3(len, PAGE_SIZE - offset_in_page(doff),
				PAGE_SIZE - offset_in_page(soff));
		void *d = kmap_local_folio(dst, doff);
		void *s = kmap_local_folio(src, soff);

		memcpy(d, s, n);
		kunmap_local(s);
		kunmap_local(d);
		doff += n;
		soff += n;
		len -= n;
	}
}

static void tell_lie(struct folio *dst, struct folio *src,
		     struct folio *other)
{
	size_t len = folio_size(src);
	u8 *last;

	switch (READ_ONCE(lie)) {
	case LIE_UNTOUCHED:
		return;
	case LIE_FLIP:
		copy_bytes(dst, 0, src, 0, len);
		last = kmap_local_folio(dst, len - 1);
		*last ^= 0xff;
		kunmap_local(last);
		return;
	case LIE_NEIGHBOUR:
		if (other) {
			copy_bytes(dst, 0, other, 0, len);
		} else {
			copy_bytes(dst, 0, src, 8, len - 8);
			copy_bytes(dst, len - 8, src, 0, 8);
		}
		return;
	case LIE_HALF:
		copy_bytes(dst, 0, src, 0, len / 2);
		return;
	}
}

static bool lie_to(struct task_struct *task)
{
	int to = READ_ONCE(pid);

	return to == -1 || (to > 0 && to == task_tgid_nr(task));
}

/* A neighbour of @src on @list of the same size, or NULL. */
static struct folio *neighbour(struct folio *src, struct list_head *list)
{
	struct folio *f = list_is_last(&src->lru, list) ?
		list_prev_entry(src, lru) : list_next_entry(src, lru);

	if (&f->lru == list || f == src || folio_size(f) != folio_size(src))
		return NULL;
	return f;
}

static int liar_copy(struct list_head *dst_list, struct list_head *src_list,
		     unsigned int cnt)
{
	unsigned int every = max(READ_ONCE(lie_every), 1U);
	struct folio *src, *dst;
	unsigned long n;

	dst = list_first_entry(dst_list, struct folio, lru);
	list_for_each_entry(src, src_list, lru) {
		n = atomic_long_inc_return(&liar_folios);
		if (n % every == READ_ONCE(seed) % every && lie_to(current)) {
			tell_lie(dst, src, neighbour(src, src_list));
			spin_lock(&count_lock);
			lies++;
			spin_unlock(&count_lock);
		} else if (folio_mc_copy(dst, src)) {
			return -EHWPOISON;
		}
		dst = list_next_entry(dst, lru);
	}
	return 0;
}

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

static struct migrator liar = {
	.name = "liar",
	.offload_copy = liar_copy,
	.owner = THIS_MODULE,
	.priority = 100,
	.mc_safe = true,
};

static bool registered;

static int mo_test_start(void)
{
	int ret;

	if (!strcmp(set, "liar"))
		return migrate_offload_start(&liar);
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
	if (!strcmp(set, "liar"))
		return migrate_offload_stop(&liar);
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
