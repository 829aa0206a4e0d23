// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of page migration copy offload: the CPU batch copy, the
 * copied pairs handed back first and no folio field touched, the registry
 * of migrators, the arbitration of a batch among them (split, fallback,
 * concurrency, health), unregistration with a batch in flight, and the
 * sysfs parsers.  Fake migrators in the
 * style of drivers/clk/clk_test.c copy, fail, sleep or block on request;
 * every batch is made of real folios whose contents are checked.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/migrate.h>
#include <linux/migrate_copy_offload.h>
#include <linux/mm.h>
#include <linux/xarray.h>

#include <trace/events/migrate.h>
#include <trace/events/migrate_offload.h>

#include "../migrate_offload.h"

/* A batch of src/dst folio pairs, linked through ->lru like migrate.c's. */
struct test_batch {
	struct list_head src;
	struct list_head dst;
	unsigned int nr;
	unsigned int copied;	/* pairs copied by the last copy_batch() */
	unsigned int held;	/* pairs at the tail whose dst a migrator holds */
};

static u8 test_pattern(unsigned int folio, unsigned long page, size_t off)
{
	return (u8)(folio * 31 + page * 7 + off + 1);
}

static void fill_folio(struct folio *folio, unsigned int idx)
{
	long i;

	for (i = 0; i < folio_nr_pages(folio); i++) {
		u8 *p = kmap_local_folio(folio, i * PAGE_SIZE);
		size_t off;

		for (off = 0; off < PAGE_SIZE; off++)
			p[off] = test_pattern(idx, i, off);
		kunmap_local(p);
	}
}

/* Returns the number of pages of @folio that do not hold pattern @idx. */
static long folio_bad_pages(struct folio *folio, unsigned int idx)
{
	long i, bad = 0;

	for (i = 0; i < folio_nr_pages(folio); i++) {
		u8 *p = kmap_local_folio(folio, i * PAGE_SIZE);
		size_t off;

		for (off = 0; off < PAGE_SIZE; off++) {
			if (p[off] != test_pattern(idx, i, off)) {
				bad++;
				break;
			}
		}
		kunmap_local(p);
	}
	return bad;
}

/*
 * The source folios the tests allocated, by pfn.  A fake copies only
 * batches made of them (fake_copy()): a real migration meanwhile
 * (kcompactd, NUMA balancing, demotion; the suites may be re-run on a live
 * system through debugfs) is declined and copied by the CPU, never by a
 * fake that copies nothing or blocks.
 */
static DEFINE_XARRAY(test_folios);

static bool test_folios_only(struct list_head *src_list)
{
	struct folio *src;

	list_for_each_entry(src, src_list, lru)
		if (xa_load(&test_folios, folio_pfn(src)) != src)
			return false;
	return true;
}

static void free_folio_list(struct list_head *list)
{
	struct folio *folio, *tmp;

	list_for_each_entry_safe(folio, tmp, list, lru) {
		xa_cmpxchg(&test_folios, folio_pfn(folio), folio, NULL, GFP_KERNEL);
		list_del(&folio->lru);
		folio->private = NULL;
		folio_put(folio);
	}
}

static void test_batch_free(void *data)
{
	struct test_batch *b = data;

	free_folio_list(&b->src);
	free_folio_list(&b->dst);
}

static struct test_batch *test_batch_new(struct kunit *test)
{
	struct test_batch *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	INIT_LIST_HEAD(&b->src);
	INIT_LIST_HEAD(&b->dst);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, test_batch_free, b));
	return b;
}

static struct folio *test_folio_alloc(gfp_t gfp, unsigned int order, int nid)
{
	if (nid == NUMA_NO_NODE)
		return folio_alloc(gfp, order);
	return __folio_alloc_node(gfp | __GFP_THISNODE, order, nid);
}

/*
 * Add a pair of order-@order folios from node @from to node @to
 * (NUMA_NO_NODE: any); the source holds a pattern per folio (the folio's
 * index in the batch), the destination is zeroed.  Folio i of the batch is
 * identified by ->index = i on both sides, so a reordered batch can still
 * be checked.
 */
static void test_batch_add(struct kunit *test, struct test_batch *b,
			   unsigned int order, int from, int to)
{
	struct folio *src = test_folio_alloc(GFP_KERNEL, order, from);
	struct folio *dst = test_folio_alloc(GFP_KERNEL | __GFP_ZERO, order, to);

	if (src)
		list_add_tail(&src->lru, &b->src);
	if (dst)
		list_add_tail(&dst->lru, &b->dst);
	KUNIT_ASSERT_NOT_NULL(test, src);
	KUNIT_ASSERT_NOT_NULL(test, dst);
	KUNIT_ASSERT_EQ(test, 0, xa_err(xa_store(&test_folios, folio_pfn(src),
						 src, GFP_KERNEL)));
	src->index = b->nr;
	dst->index = b->nr;
	fill_folio(src, b->nr);
	b->nr++;
}

/* A batch of @n[i] pairs of order-@orders[i] folios for each i, in that order. */
static struct test_batch *test_batch_alloc_mixed(struct kunit *test,
						 const unsigned int *orders,
						 const unsigned int *n, int kinds)
{
	struct test_batch *b = test_batch_new(test);
	unsigned int i, k;

	for (k = 0; k < kinds; k++)
		for (i = 0; i < n[k]; i++)
			test_batch_add(test, b, orders[k], NUMA_NO_NODE, NUMA_NO_NODE);
	return b;
}

static struct test_batch *test_batch_alloc(struct kunit *test,
					   unsigned int nr, unsigned int order)
{
	return test_batch_alloc_mixed(test, &order, &nr, 1);
}

/* Pages of the pairs left to the per-folio copy: those after the copied. */
static unsigned long batch_uncopied_pages(struct test_batch *b)
{
	unsigned long n = 0;
	unsigned int i = 0;
	struct folio *dst;

	list_for_each_entry(dst, &b->dst, lru)
		if (i++ >= b->copied)
			n += folio_nr_pages(dst);
	return n;
}

/* Every pair still paired, the first @copied holding their data. */
static void expect_pairs_copied(struct kunit *test, struct test_batch *b,
				unsigned int copied)
{
	struct folio *src, *dst;
	unsigned int n = 0;

	dst = list_first_entry(&b->dst, struct folio, lru);
	list_for_each_entry(src, &b->src, lru) {
		KUNIT_EXPECT_EQ(test, src->index, dst->index);
		if (n < copied)
			KUNIT_EXPECT_EQ_MSG(test, folio_bad_pages(dst, dst->index), 0,
					    "folio %lu has wrong contents", dst->index);
		dst = list_next_entry(dst, lru);
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, b->nr);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&b->dst), b->nr);
}

/* Every pair reported copied and holding its data. */
static void expect_batch_copied(struct kunit *test, struct test_batch *b)
{
	KUNIT_EXPECT_EQ(test, b->copied, b->nr);
	expect_pairs_copied(test, b, b->nr);
}

static void copy_batch(int reason, struct test_batch *b)
{
	b->copied = migrate_offload_copy_batch(reason, &b->dst, &b->src, b->nr,
					       0, &b->held);
}

static const unsigned int test_orders[] = { 0, 4, 9 };

static void order_to_desc(const unsigned int *order, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "order %u", *order);
}

KUNIT_ARRAY_PARAM(test_order, test_orders, order_to_desc);

/* folios_mc_copy() */

static void folios_mc_copy_copies(struct kunit *test)
{
	unsigned int order = *(const unsigned int *)test->param_value;
	struct test_batch *b = test_batch_alloc(test, 3, order);

	KUNIT_EXPECT_EQ(test, folios_mc_copy(&b->dst, &b->src, b->nr), 0);
	expect_pairs_copied(test, b, b->nr);
}

static void folios_mc_copy_rejects_length_mismatch(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 2, 0);
	struct folio *extra = folio_alloc(GFP_KERNEL, 0);
	struct folio *dst;

	KUNIT_EXPECT_EQ(test, folios_mc_copy(&b->dst, &b->src, 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, folios_mc_copy(&b->dst, &b->src, 1), -EINVAL);
	KUNIT_ASSERT_NOT_NULL(test, extra);
	list_add_tail(&extra->lru, &b->src);
	KUNIT_EXPECT_EQ(test, folios_mc_copy(&b->dst, &b->src, 2), -EINVAL);
	/* Nothing was copied: the destinations still hold zeroes. */
	list_for_each_entry(dst, &b->dst, lru)
		KUNIT_EXPECT_EQ(test, folio_bad_pages(dst, dst->index), 1);
}

/*
 * ->private belongs to whoever owns the folio (hugetlb keeps its flags
 * there, filesystems their data, migrate.c its record): the batch copy
 * neither reads nor writes it, on the CPU or through a migrator.
 */
static void folios_mc_copy_leaves_private(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 2, 0);
	struct folio *folio;

	list_for_each_entry(folio, &b->dst, lru)
		folio->private = (void *)0x4UL;	/* hugetlb's HPG_temporary */
	list_for_each_entry(folio, &b->src, lru)
		folio->private = (void *)0x5UL;
	KUNIT_EXPECT_EQ(test, folios_mc_copy(&b->dst, &b->src, b->nr), 0);
	expect_pairs_copied(test, b, b->nr);
	list_for_each_entry(folio, &b->dst, lru)
		KUNIT_EXPECT_PTR_EQ(test, folio->private, (void *)0x4UL);
	list_for_each_entry(folio, &b->src, lru)
		KUNIT_EXPECT_PTR_EQ(test, folio->private, (void *)0x5UL);
}

static struct kunit_case folios_mc_copy_cases[] = {
	KUNIT_CASE_PARAM(folios_mc_copy_copies, test_order_gen_params),
	KUNIT_CASE(folios_mc_copy_rejects_length_mismatch),
	KUNIT_CASE(folios_mc_copy_leaves_private),
	{}
};

static struct kunit_suite folios_mc_copy_suite = {
	.name = "migrate_offload_folios_mc_copy",
	.test_cases = folios_mc_copy_cases,
};

/* Fake migrators */

enum fake_mode {
	FAKE_COPY,		/* copy every folio */
	FAKE_FAIL,		/* fail every call */
	FAKE_FAIL_ODD,		/* copy half the folios, then fail, every other call */
	FAKE_NOOP,		/* claim success without copying: cost only */
	FAKE_BLOCK,		/* signal "entered", wait for "release", copy */
	FAKE_POISON,		/* fail every call as if a source page were bad */
	FAKE_BUSY,		/* decline every call: engine busy */
	FAKE_NOMEM,		/* decline every call: no memory */
	FAKE_HOLD,		/* time out, transfers running: hold the dsts */
};

struct fake {
	struct migrator m;
	enum fake_mode mode;
	unsigned int sleep_ms;
	unsigned int fail_first;	/* fail the first calls, whatever the mode */
	atomic_t calls;
	atomic_t foreign;		/* batches of folios no test allocated */
	atomic_long_t pages;
	atomic_long_t to_node[2];	/* pages copied to node 0, 1 */
	struct task_struct *task;
	int cpu;			/* where the last call started */
	struct completion entered, release;
};

#define NR_FAKES 3
static struct fake fakes[NR_FAKES];

static int fake_copy(struct fake *f, struct list_head *dst_list,
		     struct list_head *src_list, unsigned int cnt)
{
	unsigned int call, i = 0;
	struct folio *src, *dst;

	if (!test_folios_only(src_list)) {
		atomic_inc(&f->foreign);
		return -EBUSY;
	}
	call = atomic_inc_return(&f->calls);
	f->task = current;
	f->cpu = raw_smp_processor_id();
	if (f->mode == FAKE_BLOCK) {
		complete(&f->entered);
		wait_for_completion(&f->release);
	}
	if (f->sleep_ms)
		msleep(f->sleep_ms);
	if (f->mode == FAKE_FAIL || call <= f->fail_first)
		return -EIO;
	if (f->mode == FAKE_POISON)
		return -EHWPOISON;
	if (f->mode == FAKE_BUSY)
		return -EBUSY;
	if (f->mode == FAKE_NOMEM)
		return -ENOMEM;
	if (f->mode == FAKE_HOLD)
		return -EINPROGRESS;
	dst = list_first_entry(dst_list, struct folio, lru);
	list_for_each_entry(src, src_list, lru) {
		if (f->mode == FAKE_FAIL_ODD && call % 2 && i++ >= cnt / 2)
			return -EIO;
		if (f->mode != FAKE_NOOP)
			folio_copy(dst, src);
		atomic_long_add(folio_nr_pages(src), &f->pages);
		if (folio_nid(dst) < 2)
			atomic_long_add(folio_nr_pages(src), &f->to_node[folio_nid(dst)]);
		dst = list_next_entry(dst, lru);
	}
	return 0;
}

static int fake0_copy(struct list_head *d, struct list_head *s, unsigned int n)
{
	return fake_copy(&fakes[0], d, s, n);
}

static int fake1_copy(struct list_head *d, struct list_head *s, unsigned int n)
{
	return fake_copy(&fakes[1], d, s, n);
}

static int fake2_copy(struct list_head *d, struct list_head *s, unsigned int n)
{
	return fake_copy(&fakes[2], d, s, n);
}

static int (*const fake_copy_fns[NR_FAKES])(struct list_head *,
					    struct list_head *, unsigned int) = {
	fake0_copy, fake1_copy, fake2_copy,
};

/* The form that receives the migrator: one function for every fake. */
static int fake_self_copy(struct migrator *m, struct list_head *d,
			  struct list_head *s, unsigned int n)
{
	return fake_copy(container_of(m, struct fake, m), d, s, n);
}

static bool fake_demotion_only(int reason)
{
	return reason == MR_DEMOTION;
}

struct fake_caps {
	int priority;
	unsigned long reasons, orders;
	unsigned int weight, min_batch_pages;
};

static struct fake *fake_setup(unsigned int i, const struct fake_caps *caps)
{
	struct fake *f = &fakes[i];

	memset(f, 0, sizeof(*f));
	snprintf(f->m.name, sizeof(f->m.name), "fake%u", i);
	f->m.offload_copy = fake_copy_fns[i];
	if (caps) {
		f->m.priority = caps->priority;
		f->m.reasons = caps->reasons;
		f->m.orders = caps->orders;
		f->m.weight = caps->weight;
		f->m.min_batch_pages = caps->min_batch_pages;
	}
	init_completion(&f->entered);
	init_completion(&f->release);
	return f;
}

static struct mo_reason_policy saved_reasons[MR_TYPES];
static unsigned int saved_max_failures, saved_backoff[2];

/*
 * Every test starts with no migrator, default policy, and ends the same;
 * but the CPU copies only what the fakes fail (cpu_copy "fallback"), so
 * that a test knows which fake copies what: the share suite turns the
 * CPU's part on.
 */
static int fake_test_init(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < NR_FAKES; i++)
		fake_setup(i, NULL);
	memcpy(saved_reasons, mo_reasons, sizeof(saved_reasons));
	for (i = 0; i < MR_TYPES; i++)
		mo_set_reason_policy(i, MO_REASON_CPU_COPY, MO_CPU_FALLBACK);
	saved_max_failures = mo_max_failures;
	saved_backoff[0] = mo_backoff_min_ms;
	saved_backoff[1] = mo_backoff_max_ms;
	return 0;
}

static void fake_test_exit(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < NR_FAKES; i++) {
		complete_all(&fakes[i].release);
		migrate_offload_stop(&fakes[i].m);
	}
	for (i = 0; i < MR_TYPES; i++) {
		mo_set_reason_policy(i, MO_REASON_MIN_BATCH,
				     saved_reasons[i].min_batch_pages);
		mo_set_reason_policy(i, MO_REASON_SPLIT, saved_reasons[i].split);
		mo_set_reason_policy(i, MO_REASON_LOCALITY,
				     saved_reasons[i].locality);
		mo_set_reason_policy(i, MO_REASON_CPU_COPY,
				     saved_reasons[i].cpu_copy);
	}
	mo_max_failures = saved_max_failures;
	mo_backoff_min_ms = saved_backoff[0];
	mo_backoff_max_ms = saved_backoff[1];
	mo_set_enabled(true);
}

/* @f's entry, NULL if it is not registered. */
static struct mo_entry *fake_find(struct fake *f)
{
	struct mo_entry *e, *found = NULL;

	mutex_lock(&mo_lock);
	list_for_each_entry(e, &mo_entries, node)
		if (e->m == &f->m)
			found = e;
	mutex_unlock(&mo_lock);
	return found;
}

/* The test keeps @f registered while it uses the entry. */
static struct mo_entry *fake_entry(struct kunit *test, struct fake *f)
{
	struct mo_entry *e = fake_find(f);

	KUNIT_ASSERT_NOT_NULL(test, e);
	return e;
}

/* Registry */

static void registry_many_at_once(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 2, 0);
	unsigned int i;

	for (i = 0; i < NR_FAKES; i++)
		KUNIT_EXPECT_EQ(test, migrate_offload_start(&fake_setup(i, NULL)->m), 0);
	KUNIT_EXPECT_TRUE(test, migrate_offload_active());
	KUNIT_EXPECT_NE(test, migrate_offload_batch_orders(MR_COMPACTION), 0);
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	for (i = 0; i < NR_FAKES; i++)
		KUNIT_EXPECT_EQ(test, migrate_offload_stop(&fakes[i].m), 0);
	KUNIT_EXPECT_FALSE(test, migrate_offload_active());
	KUNIT_EXPECT_EQ(test, migrate_offload_batch_orders(MR_COMPACTION), 0);
}

static void registry_rejects_duplicates(struct kunit *test)
{
	struct migrator same_name = { .name = "fake0", .offload_copy = fake1_copy };

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	KUNIT_EXPECT_EQ(test, migrate_offload_start(&fakes[0].m), -EEXIST);
	KUNIT_EXPECT_EQ(test, migrate_offload_start(&same_name), -EEXIST);
	KUNIT_EXPECT_EQ(test, migrate_offload_stop(&same_name), -ENOENT);
}

static void registry_rejects_invalid(struct kunit *test)
{
	static struct migrator bad[] = {
		{ .offload_copy = fake0_copy },
		{ .name = "nocopy" },
		{ .name = "a/b", .offload_copy = fake0_copy },
		{ .name = "reasons", .offload_copy = fake0_copy,
		  .reasons = BIT(MR_TYPES) },
		{ .name = "orders", .offload_copy = fake0_copy,
		  .orders = BIT(MO_NR_ORDERS) },
		{ .name = "twocopies", .offload_copy = fake0_copy,
		  .copy = fake_self_copy },
		{ .offload_copy = fake0_copy },
	};
	unsigned int i;

	memset(bad[ARRAY_SIZE(bad) - 1].name, 'x', MIGRATOR_NAME_LEN);
	KUNIT_EXPECT_EQ(test, migrate_offload_start(NULL), -EINVAL);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ_MSG(test, migrate_offload_start(&bad[i]), -EINVAL,
				    "bad migrator %u", i);
	KUNIT_EXPECT_FALSE(test, migrate_offload_active());
}

/* copy() is called with the migrator it belongs to. */
static void registry_copy_gets_migrator(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 2, 0);

	fakes[1].m.offload_copy = NULL;
	fakes[1].m.copy = fake_self_copy;
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[1].m), 0);
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[1].pages), 2);
}

static void registry_stop_unregistered(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, migrate_offload_stop(NULL), -ENOENT);
	KUNIT_EXPECT_EQ(test, migrate_offload_stop(&fakes[0].m), -ENOENT);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	KUNIT_EXPECT_EQ(test, migrate_offload_stop(&fakes[0].m), 0);
	KUNIT_EXPECT_EQ(test, migrate_offload_stop(&fakes[0].m), -ENOENT);
}

static void registry_limit(struct kunit *test)
{
	struct migrator *many = kunit_kcalloc(test, MO_MAX_MIGRATORS + 1,
					      sizeof(*many), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, many);
	for (i = 0; i <= MO_MAX_MIGRATORS; i++) {
		snprintf(many[i].name, MIGRATOR_NAME_LEN, "many%u", i);
		many[i].offload_copy = fake0_copy;
		KUNIT_EXPECT_EQ(test, migrate_offload_start(&many[i]),
				i < MO_MAX_MIGRATORS ? 0 : -ENOSPC);
	}
	for (i = 0; i <= MO_MAX_MIGRATORS; i++)
		migrate_offload_stop(&many[i]);
	KUNIT_EXPECT_FALSE(test, migrate_offload_active());
}

/* A migrator written for the single-migrator API works unchanged. */
static void registry_seed_api(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 4, 0);
	struct migrator *m = &fakes[0].m;

	m->should_batch = fake_demotion_only;
	KUNIT_ASSERT_EQ(test, migrate_offload_start(m), 0);
	KUNIT_EXPECT_NE(test, migrate_offload_batch_orders(MR_DEMOTION), 0);
	KUNIT_EXPECT_EQ(test, migrate_offload_batch_orders(MR_SYSCALL), 0);
	copy_batch(MR_SYSCALL, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 0);
	KUNIT_EXPECT_EQ(test, batch_uncopied_pages(b), 4);
	copy_batch(MR_DEMOTION, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 1);
	expect_batch_copied(test, b);
}

static void registry_stopped_never_called(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 2, 0);

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_stop(&fakes[0].m), 0);
	copy_batch(MR_SYSCALL, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 0);
	KUNIT_EXPECT_EQ(test, batch_uncopied_pages(b), 2);
}

/* Tunables: bad values are refused and change nothing. */
static void registry_tunables(struct kunit *test)
{
	struct fake_caps caps = { .orders = BIT(0) | BIT(9),
				  .reasons = BIT(MR_SYSCALL) };
	struct mo_entry *e;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &caps)->m), 0);
	e = fake_entry(test, &fakes[0]);
	KUNIT_EXPECT_EQ(test, mo_entry_set(e, MO_PARAM_ORDERS, BIT(4)), -EINVAL);
	KUNIT_EXPECT_EQ(test, mo_entry_set(e, MO_PARAM_ORDERS, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, mo_entry_set(e, MO_PARAM_REASONS, BIT(MR_DEMOTION)), -EINVAL);
	KUNIT_EXPECT_EQ(test, mo_entry_set(e, MO_PARAM_WEIGHT, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, mo_entry_set(e, MO_PARAM_WEIGHT, MO_WEIGHT_MAX + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, e->params.orders, BIT(0) | BIT(9));
	KUNIT_EXPECT_EQ(test, e->params.reasons, BIT(MR_SYSCALL));
	KUNIT_EXPECT_EQ(test, e->params.weight, 1);
	KUNIT_EXPECT_EQ(test, mo_entry_set(e, MO_PARAM_ORDERS, BIT(9)), 0);
	KUNIT_EXPECT_EQ(test, mo_entry_set(e, MO_PARAM_PRIORITY, -5), 0);
	KUNIT_EXPECT_EQ(test, e->params.priority, -5);
	KUNIT_EXPECT_EQ(test, mo_entry_set(e, MO_PARAM_ENABLED, false), 0);
	KUNIT_EXPECT_EQ(test, migrate_offload_batch_orders(MR_SYSCALL), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_stop(&fakes[0].m), 0);
	KUNIT_EXPECT_NULL(test, fake_find(&fakes[0]));
}

static struct kunit_case registry_cases[] = {
	KUNIT_CASE(registry_many_at_once),
	KUNIT_CASE(registry_rejects_duplicates),
	KUNIT_CASE(registry_rejects_invalid),
	KUNIT_CASE(registry_copy_gets_migrator),
	KUNIT_CASE(registry_stop_unregistered),
	KUNIT_CASE(registry_limit),
	KUNIT_CASE(registry_seed_api),
	KUNIT_CASE(registry_stopped_never_called),
	KUNIT_CASE(registry_tunables),
	{}
};

static struct kunit_suite registry_suite = {
	.name = "migrate_offload_registry",
	.init = fake_test_init,
	.exit = fake_test_exit,
	.test_cases = registry_cases,
};

/*
 * The split: one batch of 1 order-9, 2 order-4 and 8 order-0 folios (552
 * base pages, in that order) under a grid of reasons, capabilities,
 * priorities, weights and minimum batches; the exact base pages each fake
 * gets, and those left to the per-folio copy.
 */
#define ALL	0
struct split_case {
	const char *desc;
	int reason;
	unsigned int nr_fakes;
	struct fake_caps caps[NR_FAKES];
	unsigned long want[NR_FAKES];
	unsigned long want_left;
};

static const struct split_case split_cases[] = {
	{ "one serves all", MR_SYSCALL, 1,
	  { { 0, ALL, ALL } }, { 552 }, 0 },
	{ "reason not served", MR_SYSCALL, 1,
	  { { 0, BIT(MR_DEMOTION), ALL } }, { 0 }, 552 },
	{ "reason served", MR_DEMOTION, 1,
	  { { 0, BIT(MR_DEMOTION), ALL } }, { 552 }, 0 },
	{ "order not served", MR_COMPACTION, 1,
	  { { 0, ALL, BIT(4) } }, { 32 }, 520 },
	{ "orders split by capability", MR_NUMA_MISPLACED, 2,
	  { { 0, ALL, BIT(9) }, { 0, ALL, BIT(0) | BIT(4) } }, { 512, 40 }, 0 },
	{ "higher priority wins", MR_SYSCALL, 2,
	  { { 10, ALL, ALL }, { 20, ALL, ALL } }, { 0, 552 }, 0 },
	{ "priority per order", MR_SYSCALL, 2,
	  { { 10, ALL, ALL }, { 20, ALL, BIT(0) } }, { 544, 8 }, 0 },
	{ "priority per reason", MR_DEMOTION, 2,
	  { { 10, ALL, ALL }, { 20, BIT(MR_SYSCALL), ALL } }, { 552, 0 }, 0 },
	{ "equal weights share base pages", MR_SYSCALL, 2,
	  { { 5, ALL, BIT(0) | BIT(4), 1 }, { 5, ALL, BIT(0) | BIT(4), 1 } },
	  { 20, 20 }, 512 },
	{ "weights 3:1", MR_SYSCALL, 2,
	  { { 5, ALL, BIT(0), 3 }, { 5, ALL, BIT(0), 1 } }, { 6, 2 }, 544 },
	{ "weights count base pages", MR_SYSCALL, 2,
	  { { 5, ALL, ALL, 1 }, { 5, ALL, BIT(0), 1 } }, { 544, 8 }, 0 },
	{ "min batch not met", MR_SYSCALL, 2,
	  { { 20, ALL, ALL, 1, 1000 }, { 10, ALL, ALL } }, { 0, 552 }, 0 },
	{ "min batch counts what it could take", MR_SYSCALL, 2,
	  { { 20, ALL, BIT(0), 1, 16 }, { 10, ALL, ALL } }, { 0, 552 }, 0 },
	{ "min batch met", MR_SYSCALL, 2,
	  { { 20, ALL, BIT(0), 1, 8 }, { 10, ALL, ALL } }, { 8, 544 }, 0 },
	{ "three migrators", MR_SYSCALL, 3,
	  { { 10, ALL, BIT(9) }, { 10, ALL, BIT(0) }, { 5, ALL, ALL } },
	  { 512, 8, 32 }, 0 },
	{ "lowest priority only when alone", MR_DEMOTION, 3,
	  { { 10, BIT(MR_SYSCALL), ALL }, { 10, BIT(MR_SYSCALL), ALL },
	    { -5, ALL, ALL } }, { 0, 0, 552 }, 0 },
};

KUNIT_ARRAY_PARAM_DESC(split, split_cases, desc);

static const unsigned int split_orders[] = { 9, 4, 0 };
static const unsigned int split_counts[] = { 1, 2, 8 };

static void split_assigns_exactly(struct kunit *test)
{
	const struct split_case *c = test->param_value;
	struct test_batch *b = test_batch_alloc_mixed(test, split_orders,
						      split_counts, 3);
	unsigned int i;

	struct mo_stats __percpu *rs = &mo_reason_stats[c->reason];
	long batches, folios, cpu;

	for (i = 0; i < c->nr_fakes; i++)
		KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(i, &c->caps[i])->m), 0);
	batches = mo_stat_read(rs, MO_STAT_BATCHES);
	folios = mo_stat_read(rs, MO_STAT_FOLIOS);
	cpu = mo_stat_read(rs, MO_STAT_CPU);
	copy_batch(c->reason, b);
	for (i = 0; i < c->nr_fakes; i++)
		KUNIT_EXPECT_EQ_MSG(test, atomic_long_read(&fakes[i].pages),
				    c->want[i], "fake%u", i);
	KUNIT_EXPECT_EQ(test, batch_uncopied_pages(b), c->want_left);
	expect_pairs_copied(test, b, b->copied);
	/* The reason's statistics say where the folios went. */
	KUNIT_EXPECT_EQ(test, mo_stat_read(rs, MO_STAT_BATCHES) - batches, 1);
	KUNIT_EXPECT_EQ(test, mo_stat_read(rs, MO_STAT_FOLIOS) - folios,
			b->copied);
	KUNIT_EXPECT_EQ(test, mo_stat_read(rs, MO_STAT_CPU) - cpu,
			b->nr - b->copied);
}

/* The per-reason minimum batch keeps small batches on the CPU. */
static void split_reason_min_batch(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 8, 0);

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	KUNIT_ASSERT_EQ(test, mo_set_reason_policy(MR_SYSCALL, MO_REASON_MIN_BATCH, 9), 0);
	copy_batch(MR_SYSCALL, b);
	KUNIT_EXPECT_EQ(test, batch_uncopied_pages(b), 8);
	KUNIT_ASSERT_EQ(test, mo_set_reason_policy(MR_SYSCALL, MO_REASON_MIN_BATCH, 8), 0);
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, mo_set_reason_policy(MR_TYPES, MO_REASON_MIN_BATCH, 8),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, mo_set_reason_policy(MR_SYSCALL, MO_REASON_SPLIT, 7),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, mo_reasons[MR_SYSCALL].split, MO_SPLIT_WEIGHT);
}

/* Adaptive mode splits by measured throughput: the slow one gets less. */
static void split_adaptive(struct kunit *test)
{
	struct fake_caps caps = { .priority = 1, .orders = BIT(0), .weight = 1 };
	struct test_batch *b1 = test_batch_alloc(test, 64, 0);
	struct test_batch *b2 = test_batch_alloc(test, 64, 0);
	long slow, fast;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &caps)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &caps)->m), 0);
	fakes[0].sleep_ms = 200;	/* slower than any host makes the other */
	copy_batch(MR_SYSCALL, b1);	/* by weight: 32 pages each, measured */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[0].pages), 32);
	slow = atomic_long_read(&fake_entry(test, &fakes[0])->throughput);
	fast = atomic_long_read(&fake_entry(test, &fakes[1])->throughput);
	kunit_info(test, "measured: slow %ld, fast %ld bytes/us\n", slow, fast);
	KUNIT_EXPECT_LT(test, slow, fast);

	KUNIT_ASSERT_EQ(test, mo_set_reason_policy(MR_SYSCALL, MO_REASON_SPLIT,
						   MO_SPLIT_ADAPTIVE), 0);
	atomic_long_set(&fakes[0].pages, 0);
	atomic_long_set(&fakes[1].pages, 0);
	copy_batch(MR_SYSCALL, b2);
	expect_batch_copied(test, b2);
	KUNIT_EXPECT_LT(test, atomic_long_read(&fakes[0].pages), 16);
	KUNIT_EXPECT_GT(test, atomic_long_read(&fakes[1].pages), 48);
}

/*
 * A THP is a batch of its own: equal priorities still share such batches by
 * weight, through the virtual clock each migrator carries from batch to
 * batch.
 */
static void split_single_folio_batches(struct kunit *test)
{
	struct fake_caps a = { .priority = 1, .weight = 2 };
	struct fake_caps b = { .priority = 1, .weight = 1 };
	int i;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &a)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &b)->m), 0);
	for (i = 0; i < 6; i++) {
		struct test_batch *batch = test_batch_alloc(test, 1, 9);

		copy_batch(MR_NUMA_MISPLACED, batch);
		expect_batch_copied(test, batch);
	}
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[0].pages), 4 * 512);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[1].pages), 2 * 512);
}

/*
 * A migrator that stands aside (an order it does not serve) neither gains
 * nor loses: after 1000 batches of one 64 KiB mTHP that only B takes, A's
 * clock was carried along with B's, and a batch both may take is shared by
 * weight.  Letting A keep its clock gave it every page of the next 1000
 * batches.
 */
static void split_lead_bounded_by_candidates(struct kunit *test)
{
	struct fake_caps a = { .priority = 1, .orders = BIT(0), .weight = 1 };
	struct fake_caps b = { .priority = 1, .orders = BIT(0) | BIT(4), .weight = 1 };
	struct test_batch *mthp = test_batch_alloc(test, 1, 4);
	struct test_batch *small = test_batch_alloc(test, 64, 0);
	int i;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &a)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &b)->m), 0);
	for (i = 0; i < 1000; i++)
		copy_batch(MR_SYSCALL, mthp);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[1].pages), 1000 * 16);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fake_entry(test, &fakes[0])->vtime),
			atomic_long_read(&fake_entry(test, &fakes[1])->vtime));
	copy_batch(MR_SYSCALL, small);
	expect_batch_copied(test, small);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[0].pages), 32);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[1].pages), 1000 * 16 + 32);
}

/*
 * 300 batches of one THP that A (weight 2) and B (weight 1) both take: A
 * gets two thirds of the pages within the bound of mo_pick(), two THPs:
 * |dA - 2 dB| = 3 |dA - 2/3 (dA + dB)| <= 3 * 1024.
 */
static void expect_shared_2_1(struct kunit *test, struct test_batch *thp,
			      int batches, const char *after)
{
	long a = atomic_long_read(&fakes[0].pages);
	long b = atomic_long_read(&fakes[1].pages);
	long drift;
	int i;

	for (i = 0; i < batches; i++)
		copy_batch(MR_SYSCALL, thp);
	a = atomic_long_read(&fakes[0].pages) - a;
	b = atomic_long_read(&fakes[1].pages) - b;
	drift = abs(a - 2 * b);
	KUNIT_EXPECT_EQ_MSG(test, a + b, 512L * batches, "after %s", after);
	KUNIT_EXPECT_LE_MSG(test, drift, 3072L, "after %s: A %ld, B %ld pages",
			    after, a, b);
}

static void run_batches(struct test_batch *b, int reason, int n)
{
	while (n--)
		copy_batch(reason, b);
}

/*
 * The bound holds whatever came before: batches only one migrator could
 * take (locality one way and the other, a reason or an order A does not
 * serve), batches both took in part (locality, half the folios local to
 * each), A declining, A failing, A on probation; and over 10,000 batches
 * of one THP.  The fakes copy nothing: the split alone is under test.
 */
static void split_drift_bounded(struct kunit *test)
{
	struct fake_caps ca = { .priority = 1, .weight = 2,
				.reasons = BIT(MR_SYSCALL), .orders = BIT(0) | BIT(9) };
	struct fake_caps cb = { .priority = 1, .weight = 1 };
	struct test_batch *thp = test_batch_alloc(test, 1, 9);
	struct test_batch *mthp = test_batch_alloc(test, 1, 4);
	struct test_batch *to[2], *half = test_batch_new(test);
	struct mo_entry *ea;
	int n, i;

	for (n = 0; n < 2; n++) {
		to[n] = test_batch_new(test);
		for (i = 0; i < 8; i++)
			test_batch_add(test, to[n], 0, 1 - n, n);
		test_batch_add(test, half, 0, 1 - n, n);
	}
	fake_setup(0, &ca)->m.nodes = nodemask_of_node(0);
	fake_setup(1, &cb)->m.nodes = nodemask_of_node(1);
	fakes[0].mode = FAKE_NOOP;
	fakes[1].mode = FAKE_NOOP;
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[1].m), 0);
	ea = fake_entry(test, &fakes[0]);
	expect_shared_2_1(test, thp, 300, "nothing");

	KUNIT_ASSERT_EQ(test, mo_set_reason_policy(MR_SYSCALL, MO_REASON_LOCALITY,
						   MO_LOCALITY_DST), 0);
	run_batches(to[1], MR_SYSCALL, 200);
	KUNIT_ASSERT_EQ(test, mo_set_reason_policy(MR_SYSCALL, MO_REASON_LOCALITY,
						   MO_LOCALITY_NONE), 0);
	expect_shared_2_1(test, thp, 300, "B alone by locality");
	mo_set_reason_policy(MR_SYSCALL, MO_REASON_LOCALITY, MO_LOCALITY_DST);
	run_batches(to[0], MR_SYSCALL, 200);
	mo_set_reason_policy(MR_SYSCALL, MO_REASON_LOCALITY, MO_LOCALITY_NONE);
	expect_shared_2_1(test, thp, 300, "A alone by locality");
	mo_set_reason_policy(MR_SYSCALL, MO_REASON_LOCALITY, MO_LOCALITY_DST);
	for (n = 0; n < 200; n++) {
		copy_batch(MR_SYSCALL, half);
		run_batches(to[1], MR_SYSCALL, 1);
	}
	mo_set_reason_policy(MR_SYSCALL, MO_REASON_LOCALITY, MO_LOCALITY_NONE);
	expect_shared_2_1(test, thp, 300, "partial locality");

	run_batches(thp, MR_DEMOTION, 200);
	expect_shared_2_1(test, thp, 300, "a reason A does not serve");
	run_batches(mthp, MR_SYSCALL, 200);
	expect_shared_2_1(test, thp, 300, "an order A does not serve");

	mo_max_failures = 0;
	fakes[0].mode = FAKE_BUSY;
	run_batches(thp, MR_SYSCALL, 200);
	fakes[0].mode = FAKE_FAIL;
	run_batches(thp, MR_SYSCALL, 200);
	fakes[0].mode = FAKE_NOOP;
	expect_shared_2_1(test, thp, 300, "A declining, then failing");

	KUNIT_ASSERT_EQ(test, mo_set_health(ea, MO_HEALTH_PROBATION), 0);
	run_batches(thp, MR_SYSCALL, 20);
	KUNIT_EXPECT_EQ(test, READ_ONCE(ea->health), MO_HEALTH_OK);
	expect_shared_2_1(test, thp, 300, "probation");

	expect_shared_2_1(test, thp, 10000, "10,000 batches of one THP");
}

/*
 * The pick at full size, on a table of its own: 16 slots, 12 of a higher
 * priority (weights 1..12) and 4 of a lower (1..4); order 4 routed to 8 of
 * the 12, order 9 to the lower 4 only; clocks in no order.  Every folio of
 * a batch of 84 4 KiB, 12 order-4 and one order-9 folios, mixed, goes where
 * a scan of every candidate's clock sends it, and every clock ends where
 * that scan's does.
 */
static void split_pick_many(struct kunit *test)
{
	struct mo_entry *e = kunit_kcalloc(test, MO_MAX_MIGRATORS, sizeof(*e),
					   GFP_KERNEL);
	struct mo_table *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	struct mo_batch *mb = kunit_kzalloc(test, struct_size(mb, sub, MO_MAX_MIGRATORS),
					    GFP_KERNEL);
	unsigned long vt[MO_MAX_MIGRATORS] = {}, mask, level;
	unsigned int want[97], i, n, best;
	struct test_batch *b = test_batch_new(test);
	struct mo_pairs all = { .src = LIST_HEAD_INIT(all.src),
				.dst = LIST_HEAD_INIT(all.dst) };
	u16 *route = t->route[MR_SYSCALL];
	struct folio *src;

	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_ASSERT_NOT_NULL(test, mb);
	for (i = 0; i < ARRAY_SIZE(want); i++)
		test_batch_add(test, b, i == 50 ? 9 : i % 8 == 3 ? 4 : 0,
			       NUMA_NO_NODE, NUMA_NO_NODE);
	t->nr = MO_MAX_MIGRATORS;
	for (i = 0; i < t->nr; i++) {
		t->slot[i] = (struct mo_slot) { .e = &e[i], .priority = i < 12,
			.level = i < 12 ? GENMASK(11, 0) : GENMASK(15, 12),
			.weight = i < 12 ? i + 1 : i - 11 };
		route[0] |= BIT(i);
		route[4] |= i % 3 && i < 12 ? BIT(i) : 0;
		route[9] |= i >= 12 ? BIT(i) : 0;
		/* Apart by less than a THP's cost, which mo_vt_place() keeps. */
		vt[i] = (i * 5 % 16) * 600;
		atomic_long_set(&e[i].vtime, vt[i]);
	}
	list_splice_init(&b->src, &all.src);
	list_splice_init(&b->dst, &all.dst);
	list_for_each_entry(src, &all.src, lru) {
		mask = route[folio_order(src)];
		level = mask & t->slot[__ffs(mask)].level;
		best = __ffs(level);
		for_each_set_bit(i, &level, MO_MAX_MIGRATORS)
			if (vt[i] < vt[best])
				best = i;
		vt[best] += folio_nr_pages(src) * MO_WEIGHT_MAX / t->slot[best].weight;
		want[src->index] = best;
		all.nr++;
		all.pages += folio_nr_pages(src);
	}

	mb->t = t;
	mb->reason = MR_SYSCALL;
	mo_split_begin(mb);
	mo_split_assign(mb, &all, true);
	mo_split_end(mb);
	KUNIT_EXPECT_EQ(test, all.nr, 0);
	for (i = 0, n = 0; i < t->nr; i++) {
		KUNIT_EXPECT_EQ_MSG(test, mb->vt[i], vt[i], "slot %u", i);
		/* Only the sub-batches that got folios started. */
		if (!(mb->started & BIT(i)))
			continue;
		list_for_each_entry(src, &mb->sub[i].pairs.src, lru) {
			KUNIT_EXPECT_EQ_MSG(test, i, want[src->index], "folio %lu",
					    src->index);
			n++;
		}
		list_splice_tail_init(&mb->sub[i].pairs.src, &b->src);
		list_splice_tail_init(&mb->sub[i].pairs.dst, &b->dst);
	}
	KUNIT_EXPECT_EQ(test, n, ARRAY_SIZE(want));
	list_splice_tail_init(&all.src, &b->src);
	list_splice_tail_init(&all.dst, &b->dst);
}

static struct kunit_case split_cases_list[] = {
	KUNIT_CASE_PARAM(split_assigns_exactly, split_gen_params),
	KUNIT_CASE(split_pick_many),
	KUNIT_CASE(split_single_folio_batches),
	KUNIT_CASE(split_lead_bounded_by_candidates),
	KUNIT_CASE_SLOW(split_drift_bounded),
	KUNIT_CASE(split_reason_min_batch),
	KUNIT_CASE_SLOW(split_adaptive),
	{}
};

static struct kunit_suite split_suite = {
	.name = "migrate_offload_split",
	.init = fake_test_init,
	.exit = fake_test_exit,
	.test_cases = split_cases_list,
};

/* Fallback: nothing is lost, nothing copied twice, errors counted. */

static void fallback_to_next_candidate(struct kunit *test)
{
	unsigned int order = *(const unsigned int *)test->param_value;
	struct fake_caps hi = { .priority = 20 }, lo = { .priority = 10 };
	struct test_batch *b = test_batch_alloc(test, 4, order);
	struct mo_entry *e;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &hi)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &lo)->m), 0);
	fakes[0].mode = FAKE_FAIL;
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[1].pages), 4L << order);
	e = fake_entry(test, &fakes[0]);
	KUNIT_EXPECT_EQ(test, mo_stat_read(e->stats, MO_STAT_ERRORS), 1);
	KUNIT_EXPECT_EQ(test, mo_stat_read(e->stats, MO_STAT_FALLBACK), 4);
}

static void fallback_to_cpu(struct kunit *test)
{
	unsigned int order = *(const unsigned int *)test->param_value;
	struct test_batch *b = test_batch_alloc(test, 4, order);
	long cpu = mo_stat_total(MO_STAT_FALLBACK);

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[1].m), 0);
	fakes[0].mode = FAKE_FAIL;
	fakes[1].mode = FAKE_FAIL;
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[1].calls), 1);
	KUNIT_EXPECT_EQ(test, mo_stat_total(MO_STAT_FALLBACK) - cpu, 4);
}

/* A migrator that copies some folios and then fails: all arrive intact. */
static void fallback_fails_some(struct kunit *test)
{
	unsigned int order = *(const unsigned int *)test->param_value;
	struct test_batch *b1 = test_batch_alloc(test, 6, order);
	struct test_batch *b2 = test_batch_alloc(test, 6, order);

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	fakes[0].mode = FAKE_FAIL_ODD;
	copy_batch(MR_SYSCALL, b1);	/* call 1: fails after 3 folios */
	expect_batch_copied(test, b1);
	copy_batch(MR_SYSCALL, b2);	/* call 2: copies all */
	expect_batch_copied(test, b2);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 2);
}

/* A sleeping migrator delays its sub-batch only; the result is complete. */
static void fallback_sleeper(struct kunit *test)
{
	struct fake_caps caps = { .priority = 1, .weight = 1 };
	struct test_batch *b = test_batch_alloc(test, 8, 0);

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &caps)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &caps)->m), 0);
	fakes[0].sleep_ms = 100;
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[0].pages), 4);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[1].pages), 4);
}

/* Health: max_failures consecutive failures take a migrator out. */
static void fallback_health(struct kunit *test)
{
	struct test_batch *b;
	struct mo_entry *e;
	int i;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	e = fake_entry(test, &fakes[0]);
	mo_max_failures = 2;
	fakes[0].mode = FAKE_FAIL;
	for (i = 0; i < 4; i++) {
		b = test_batch_alloc(test, 2, 0);
		copy_batch(MR_SYSCALL, b);
		/* Once taken out, batches are left to the per-folio copy. */
		if (i < 2)
			expect_batch_copied(test, b);
		else
			KUNIT_EXPECT_EQ(test, batch_uncopied_pages(b), 2);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 2);
	KUNIT_EXPECT_EQ(test, READ_ONCE(e->health), MO_HEALTH_OUT);
	flush_work(&mo_rebuild_work);
	KUNIT_EXPECT_EQ(test, migrate_offload_batch_orders(MR_SYSCALL), 0);

	fakes[0].mode = FAKE_COPY;
	KUNIT_ASSERT_EQ(test, mo_set_health(e, MO_HEALTH_OK), 0);
	KUNIT_EXPECT_NE(test, migrate_offload_batch_orders(MR_SYSCALL), 0);
	b = test_batch_alloc(test, 2, 0);
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 3);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[0].pages), 2);
}

/*
 * verify=1: a migrator that reports copies it did not make (FAKE_NOOP) is
 * caught on its first sub-batch: every folio is compared, each wrong one
 * counted, the sub-batch goes to the next candidate, which copies it, and
 * the liar is taken out.
 */
static void fallback_verify_catches_lies(struct kunit *test)
{
	struct fake_caps hi = { .priority = 20 }, lo = { .priority = 10 };
	struct test_batch *b = test_batch_alloc(test, 4, 0);
	struct mo_entry *e;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &hi)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &lo)->m), 0);
	e = fake_entry(test, &fakes[0]);
	fakes[0].mode = FAKE_NOOP;
	KUNIT_ASSERT_EQ(test, mo_entry_set(e, MO_PARAM_VERIFY, 1), 0);
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[1].pages), 4);
	KUNIT_EXPECT_EQ(test, mo_stat_read(e->stats, MO_STAT_VERIFY), 4);
	KUNIT_EXPECT_EQ(test, mo_stat_read(e->stats, MO_STAT_FOLIOS), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(e->health), MO_HEALTH_OUT);
}

/*
 * verify=N compares every Nth folio reported copied, counted over the
 * migrator's life: three lies pass unseen, the fourth is caught.  A
 * truthful migrator is never failed by verify.
 */
static void fallback_verify_samples(struct kunit *test)
{
	struct test_batch *b1 = test_batch_alloc(test, 3, 0);
	struct test_batch *b2 = test_batch_alloc(test, 1, 0);
	struct test_batch *b3 = test_batch_alloc(test, 8, 4);
	struct folio *dst;
	struct mo_entry *e;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	e = fake_entry(test, &fakes[0]);
	fakes[0].mode = FAKE_NOOP;
	KUNIT_ASSERT_EQ(test, mo_entry_set(e, MO_PARAM_VERIFY, 4), 0);
	copy_batch(MR_SYSCALL, b1);
	KUNIT_EXPECT_EQ(test, b1->copied, 3);
	dst = list_first_entry(&b1->dst, struct folio, lru);
	KUNIT_EXPECT_EQ(test, folio_bad_pages(dst, dst->index), 1);
	KUNIT_EXPECT_EQ(test, mo_stat_read(e->stats, MO_STAT_VERIFY), 0);
	copy_batch(MR_SYSCALL, b2);
	KUNIT_EXPECT_EQ(test, b2->copied, 1);	/* by the CPU, after the lie */
	expect_batch_copied(test, b2);
	KUNIT_EXPECT_EQ(test, mo_stat_read(e->stats, MO_STAT_VERIFY), 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(e->health), MO_HEALTH_OUT);

	fakes[0].mode = FAKE_COPY;
	KUNIT_ASSERT_EQ(test, mo_set_health(e, MO_HEALTH_OK), 0);
	KUNIT_ASSERT_EQ(test, mo_entry_set(e, MO_PARAM_VERIFY, 1), 0);
	copy_batch(MR_SYSCALL, b3);
	expect_batch_copied(test, b3);
	/* The three lies verify did not sample count as copied too. */
	KUNIT_EXPECT_EQ(test, mo_stat_read(e->stats, MO_STAT_FOLIOS), 3 + 8);
	KUNIT_EXPECT_EQ(test, mo_stat_read(e->stats, MO_STAT_VERIFY), 1);
}

/*
 * Through a failing migrator, a copying one and the CPU fallback, no
 * folio's ->private is read or written, and the folios the caller left out
 * are counted as left to the per-folio copy.
 */
static void fallback_leaves_private(struct kunit *test)
{
	struct fake_caps hi = { .priority = 20 }, lo = { .priority = 10 };
	struct mo_stats __percpu *rs = &mo_reason_stats[MR_COMPACTION];
	struct test_batch *b = test_batch_alloc(test, 4, 0);
	long cpu = mo_stat_read(rs, MO_STAT_CPU);
	struct folio *folio;
	int round;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &hi)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &lo)->m), 0);
	list_for_each_entry(folio, &b->dst, lru)
		folio->private = (void *)0x4UL;
	for (round = 0; round < 2; round++) {
		/* Round 0: the next candidate copies; round 1: the CPU. */
		fakes[0].mode = FAKE_FAIL;
		fakes[1].mode = round ? FAKE_FAIL : FAKE_COPY;
		b->copied = migrate_offload_copy_batch(MR_COMPACTION, &b->dst,
						       &b->src, b->nr, 3,
						       &b->held);
		expect_batch_copied(test, b);
		list_for_each_entry(folio, &b->dst, lru)
			KUNIT_EXPECT_PTR_EQ(test, folio->private, (void *)0x4UL);
	}
	KUNIT_EXPECT_EQ(test, mo_stat_read(rs, MO_STAT_CPU) - cpu, 6);
}

/*
 * Folios the first candidate failed that the second may not take go to
 * the CPU copy: after -EHWPOISON (a bad source page no other migrator may
 * read; the CPU copy is machine-check safe), or when they are fewer than
 * the second's minimum batch (B, 512 pages at least, never gets the 16
 * pages A declined).
 */
struct fallback_cpu_case {
	const char *desc;
	enum fake_mode mode;
	unsigned int min_batch_pages;
};

static const struct fallback_cpu_case fallback_cpu_cases[] = {
	{ "poisoned source", FAKE_POISON, 0 },
	{ "remnant below the next minimum batch", FAKE_BUSY, 512 },
};

KUNIT_ARRAY_PARAM_DESC(fallback_cpu, fallback_cpu_cases, desc);

static void fallback_skips_to_cpu(struct kunit *test)
{
	const struct fallback_cpu_case *c = test->param_value;
	struct fake_caps hi = { .priority = 20 };
	struct fake_caps lo = { .priority = 10,
				.min_batch_pages = c->min_batch_pages };
	struct test_batch *b = test_batch_alloc(test, 16, 0);

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &hi)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &lo)->m), 0);
	fakes[0].mode = c->mode;
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[1].calls), 0);
}

/*
 * A migrator that holds the destinations of a sub-batch (-EINPROGRESS: its
 * transfers may still write them) gets them used by no one: not another
 * migrator, not the CPU; the pairs come back last, counted as held, and
 * the migrator is unwell.  The other sub-batch of the batch is copied.
 */
static void fallback_held_not_reused(struct kunit *test)
{
	struct fake_caps caps = { .priority = 20 }, lo = { .priority = 10 };
	struct test_batch *b = test_batch_alloc(test, 8, 0);
	long held = mo_stat_total(MO_STAT_HELD);
	struct folio *dst;
	unsigned int i = 0;
	struct mo_entry *e;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &caps)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &caps)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(2, &lo)->m), 0);
	fakes[0].mode = FAKE_HOLD;
	copy_batch(MR_SYSCALL, b);
	KUNIT_EXPECT_EQ(test, b->copied, 4);
	KUNIT_EXPECT_EQ(test, b->held, 4);
	expect_pairs_copied(test, b, b->copied);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[2].calls), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[1].pages), 4);
	/* The held destinations were written by no one. */
	list_for_each_entry(dst, &b->dst, lru)
		if (i++ >= b->copied)
			KUNIT_EXPECT_EQ(test, folio_bad_pages(dst, dst->index),
					folio_nr_pages(dst));
	e = fake_entry(test, &fakes[0]);
	KUNIT_EXPECT_EQ(test, mo_stat_read(e->stats, MO_STAT_HELD), 4);
	KUNIT_EXPECT_EQ(test, mo_stat_read(e->stats, MO_STAT_FALLBACK), 0);
	KUNIT_EXPECT_EQ(test, mo_stat_total(MO_STAT_HELD) - held, 4);
	KUNIT_EXPECT_EQ(test, atomic_read(&e->consecutive_errors), 1);
}

/* Only machine-check safe migrators copy pages suspected bad. */
static void fallback_memory_failure_mc_safe_only(struct kunit *test)
{
	struct fake_caps hi = { .priority = 20 }, lo = { .priority = 10 };
	struct test_batch *b = test_batch_alloc(test, 4, 0);
	struct fake *unsafe = fake_setup(0, &hi), *safe = fake_setup(1, &lo);

	unsafe->m.reasons = BIT(MR_MEMORY_FAILURE);
	KUNIT_EXPECT_EQ(test, migrate_offload_start(&unsafe->m), -EINVAL);
	unsafe->m.reasons = 0;
	safe->m.mc_safe = true;
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&unsafe->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&safe->m), 0);
	KUNIT_EXPECT_FALSE(test, fake_entry(test, unsafe)->cap_reasons &
			   BIT(MR_MEMORY_FAILURE));
	copy_batch(MR_MEMORY_FAILURE, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&unsafe->calls), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&safe->pages), 4);
	copy_batch(MR_SYSCALL, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&unsafe->calls), 1);
}

static void fallback_global_switch(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 2, 0);

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	KUNIT_ASSERT_EQ(test, mo_set_enabled(false), 0);
	KUNIT_EXPECT_FALSE(test, migrate_offload_active());
	copy_batch(MR_SYSCALL, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 0);
	KUNIT_EXPECT_EQ(test, batch_uncopied_pages(b), 2);
	KUNIT_ASSERT_EQ(test, mo_set_enabled(true), 0);
	KUNIT_EXPECT_TRUE(test, migrate_offload_active());
}

static const enum fake_mode decline_modes[] = { FAKE_BUSY, FAKE_NOMEM, FAKE_POISON };

static void decline_mode_desc(const enum fake_mode *mode, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s",
		 *mode == FAKE_BUSY ? "busy" : *mode == FAKE_NOMEM ? "nomem" : "poison");
}

KUNIT_ARRAY_PARAM(decline_mode, decline_modes, decline_mode_desc);

/*
 * A busy engine or no memory declines: the next candidate copies, health is
 * untouched.  A bad source page is an error the CPU copies, but no sign of a
 * failing migrator either.
 */
static void fallback_declined_not_a_failure(struct kunit *test)
{
	struct fake_caps hi = { .priority = 2 }, lo = { .priority = 1 };
	enum fake_mode mode = *(const enum fake_mode *)test->param_value;
	struct mo_entry *e;
	int i;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &hi)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &lo)->m), 0);
	e = fake_entry(test, &fakes[0]);
	mo_max_failures = 1;
	fakes[0].mode = mode;
	for (i = 0; i < 3; i++) {
		struct test_batch *b = test_batch_alloc(test, 4, 0);

		copy_batch(MR_SYSCALL, b);
		expect_batch_copied(test, b);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 3);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[1].pages),
			mode == FAKE_POISON ? 0 : 12);
	KUNIT_EXPECT_EQ(test, mo_stat_read(e->stats, MO_STAT_DECLINED),
			mode == FAKE_POISON ? 0 : 3);
	KUNIT_EXPECT_EQ(test, mo_stat_read(e->stats, MO_STAT_ERRORS),
			mode == FAKE_POISON ? 3 : 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(e->health), MO_HEALTH_OK);
}

/* Fail max_failures batches of 4 folios, once healthy. */
static void health_take_out(struct kunit *test, struct mo_entry *e)
{
	while (READ_ONCE(e->health) == MO_HEALTH_OK)
		copy_batch(MR_SYSCALL, test_batch_alloc(test, 4, 0));
	flush_work(&mo_rebuild_work);
}

/* End the back-off now: the re-admission work runs at once. */
static void health_readmit(struct kunit *test, struct mo_entry *e)
{
	KUNIT_ASSERT_EQ(test, READ_ONCE(e->health), MO_HEALTH_OUT);
	flush_delayed_work(&e->readmit_work);
	KUNIT_ASSERT_EQ(test, READ_ONCE(e->health), MO_HEALTH_PROBATION);
}

/*
 * A migrator failing max_failures times is taken out, re-admitted on
 * probation after the back-off with one folio, then used fully again; no
 * sysfs write, no relapse.
 */
static void health_heals(struct kunit *test)
{
	struct test_batch *b;
	struct mo_entry *e;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	e = fake_entry(test, &fakes[0]);
	mo_max_failures = 2;
	mo_backoff_min_ms = 1000;
	fakes[0].fail_first = 2;
	health_take_out(test, e);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 2);
	KUNIT_EXPECT_EQ(test, e->backoff_ms, 1000);
	KUNIT_EXPECT_EQ(test, migrate_offload_batch_orders(MR_SYSCALL), 0);

	health_readmit(test, e);
	KUNIT_EXPECT_NE(test, migrate_offload_batch_orders(MR_SYSCALL), 0);
	b = test_batch_alloc(test, 4, 0);
	copy_batch(MR_SYSCALL, b);
	/* The probe: one folio; the rest is left to the per-folio copy. */
	expect_pairs_copied(test, b, 1);
	KUNIT_EXPECT_EQ(test, batch_uncopied_pages(b), 3);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[0].pages), 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(e->health), MO_HEALTH_OK);

	b = test_batch_alloc(test, 4, 0);
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[0].pages), 5);
	KUNIT_EXPECT_EQ(test, e->relapses, 0);
}

/*
 * A migrator failing its probation relapses: out again at once, for twice
 * the back-off, up to the maximum; the other migrator copies meanwhile.
 */
static void health_relapse_doubles_backoff(struct kunit *test)
{
	struct fake_caps hi = { .priority = 2 }, lo = { .priority = 1 };
	static const unsigned int backoff[] = { 100, 200, 400, 500, 500 };
	struct test_batch *b;
	struct mo_entry *e;
	int i;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &hi)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &lo)->m), 0);
	e = fake_entry(test, &fakes[0]);
	mo_max_failures = 3;
	mo_backoff_min_ms = 100;
	mo_backoff_max_ms = 500;
	fakes[0].mode = FAKE_FAIL;
	health_take_out(test, e);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 3);
	for (i = 0; i < ARRAY_SIZE(backoff); i++) {
		KUNIT_EXPECT_EQ(test, e->backoff_ms, backoff[i]);
		KUNIT_EXPECT_EQ(test, e->relapses, i);
		health_readmit(test, e);
		b = test_batch_alloc(test, 4, 0);
		copy_batch(MR_SYSCALL, b);
		expect_batch_copied(test, b);
		/* One failed folio on probation is enough to take it out. */
		KUNIT_EXPECT_EQ(test, READ_ONCE(e->health), MO_HEALTH_OUT);
		flush_work(&mo_rebuild_work);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 3 + ARRAY_SIZE(backoff));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[1].pages),
			4 * (3 + ARRAY_SIZE(backoff)));

	/* Forced in by the administrator: the next taking-out starts afresh. */
	fakes[0].mode = FAKE_COPY;
	KUNIT_ASSERT_EQ(test, mo_set_health(e, MO_HEALTH_OK), 0);
	fakes[0].mode = FAKE_FAIL;
	health_take_out(test, e);
	KUNIT_EXPECT_EQ(test, e->backoff_ms, 100);
}

/* While one batch probes a migrator, the others leave it alone. */
static void health_one_probe_at_a_time(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 4, 0);
	struct mo_entry *e;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	e = fake_entry(test, &fakes[0]);
	KUNIT_ASSERT_EQ(test, mo_set_health(e, MO_HEALTH_PROBATION), 0);
	atomic_set(&e->probing, 1);
	copy_batch(MR_SYSCALL, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 0);
	atomic_set(&e->probing, 0);
	copy_batch(MR_SYSCALL, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&e->probing), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(e->health), MO_HEALTH_OK);
}

static struct kunit_case fallback_cases[] = {
	KUNIT_CASE_PARAM(fallback_to_next_candidate, test_order_gen_params),
	KUNIT_CASE_PARAM(fallback_to_cpu, test_order_gen_params),
	KUNIT_CASE_PARAM(fallback_fails_some, test_order_gen_params),
	KUNIT_CASE(fallback_sleeper),
	KUNIT_CASE(fallback_health),
	KUNIT_CASE(fallback_leaves_private),
	KUNIT_CASE_PARAM(fallback_skips_to_cpu, fallback_cpu_gen_params),
	KUNIT_CASE(fallback_held_not_reused),
	KUNIT_CASE(fallback_verify_catches_lies),
	KUNIT_CASE(fallback_verify_samples),
	KUNIT_CASE_PARAM(fallback_declined_not_a_failure, decline_mode_gen_params),
	KUNIT_CASE(health_heals),
	KUNIT_CASE(health_relapse_doubles_backoff),
	KUNIT_CASE(health_one_probe_at_a_time),
	KUNIT_CASE(fallback_memory_failure_mc_safe_only),
	KUNIT_CASE(fallback_global_switch),
	{}
};

static struct kunit_suite fallback_suite = {
	.name = "migrate_offload_fallback",
	.init = fake_test_init,
	.exit = fake_test_exit,
	.test_cases = fallback_cases,
};

/* Locality */

/*
 * A batch of 4 base pages: pairs 0 and 1 from node 0 to node 1, pairs 2
 * and 3 from node 1 to node 0.
 */
static struct test_batch *test_batch_crossing(struct kunit *test)
{
	struct test_batch *b = test_batch_new(test);

	while (b->nr < 4)
		test_batch_add(test, b, 0, b->nr < 2 ? 0 : 1, b->nr < 2 ? 1 : 0);
	return b;
}

/*
 * fake0 is local to node 0, fake1 to node 1 (if registered), fake2 to all
 * nodes (if registered, as a CPU copier); all priority 1 but fake0's.
 * to[i][n]: the pages fake i must have copied to node n.
 */
struct locality_case {
	const char *name;
	enum mo_locality locality;
	int prio0;
	bool fake1, copier;
	long to[3][2];
};

static const struct locality_case locality_cases[] = {
	/* No policy: shared by weight, one folio each way each. */
	{ "none", MO_LOCALITY_NONE, 1, true, false, { { 1, 1 }, { 1, 1 } } },
	{ "dst", MO_LOCALITY_DST, 1, true, false, { { 2, 0 }, { 0, 2 } } },
	{ "src", MO_LOCALITY_SRC, 1, true, false, { { 0, 2 }, { 2, 0 } } },
	/* Priority first: locality only chooses among equals. */
	{ "dst_priority", MO_LOCALITY_DST, 2, true, false, { { 2, 2 } } },
	{ "src_priority", MO_LOCALITY_SRC, 2, true, false, { { 2, 2 } } },
	/* No local migrator: a remote one copies rather than the CPU. */
	{ "dst_alone", MO_LOCALITY_DST, 1, false, false, { { 2, 2 } } },
	/* Local to all nodes: shares by weight with the local engine. */
	{ "dst_copier", MO_LOCALITY_DST, 1, true, true,
	  { { 2, 0 }, { 0, 1 }, { 0, 1 } } },
	{ "src_copier", MO_LOCALITY_SRC, 1, true, true,
	  { { 0, 1 }, { 2, 0 }, { 0, 1 } } },
};

static void locality_case_desc(const struct locality_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(locality, locality_cases, locality_case_desc);

static void locality_grid(struct kunit *test)
{
	const struct locality_case *c = test->param_value;
	struct fake_caps caps = { .priority = 1 };
	struct test_batch *b;
	unsigned int i, n;

	/* scripts/kunit.sh boots QEMU with two nodes. */
	KUNIT_ASSERT_TRUE_MSG(test, node_online(1), "needs NUMA nodes 0 and 1");
	b = test_batch_crossing(test);
	node_set(0, fake_setup(0, &caps)->m.nodes);
	fakes[0].m.priority = c->prio0;
	node_set(1, fake_setup(1, &caps)->m.nodes);
	fake_setup(2, &caps);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	if (c->fake1)
		KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[1].m), 0);
	if (c->copier)
		KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[2].m), 0);
	KUNIT_ASSERT_EQ(test, mo_set_reason_policy(MR_SYSCALL, MO_REASON_LOCALITY,
						   c->locality), 0);
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	for (i = 0; i < 3; i++)
		for (n = 0; n < 2; n++)
			KUNIT_EXPECT_EQ_MSG(test, atomic_long_read(&fakes[i].to_node[n]),
					    c->to[i][n], "fake%u to node %u", i, n);
}

/* nodes defaults to every node; a node that is not possible is refused. */
static void locality_nodes_validated(struct kunit *test)
{
	struct mo_entry *e;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	e = fake_entry(test, &fakes[0]);
	KUNIT_EXPECT_TRUE(test, nodes_equal(e->nodes, node_possible_map));
	if (nr_node_ids < MAX_NUMNODES) {
		node_set(nr_node_ids, fakes[1].m.nodes);
		KUNIT_EXPECT_EQ(test, migrate_offload_start(&fakes[1].m), -EINVAL);
	}
	KUNIT_EXPECT_EQ(test, mo_set_reason_policy(MR_SYSCALL, MO_REASON_LOCALITY,
						   MO_LOCALITY_SRC + 1), -EINVAL);
}

static struct kunit_case locality_test_cases[] = {
	KUNIT_CASE_PARAM(locality_grid, locality_gen_params),
	KUNIT_CASE(locality_nodes_validated),
	{}
};

static struct kunit_suite locality_suite = {
	.name = "migrate_offload_locality",
	.init = fake_test_init,
	.exit = fake_test_exit,
	.test_cases = locality_test_cases,
};

/* Concurrency and unregistration */

struct kthread_call {
	struct completion done;
	int ret;
	struct test_batch *b;
	struct migrator *m;	/* to stop; fakes[0]'s if NULL */
	struct task_struct *task;
};

static int batch_thread(void *data)
{
	struct kthread_call *c = data;

	c->task = current;
	copy_batch(MR_SYSCALL, c->b);
	complete(&c->done);
	return 0;
}

/*
 * Two equal-priority migrators: their sub-batches run at once, each in its
 * own task, the batch's caller running one.  Both are seen inside their
 * copy before either may return: a handshake, not a timing.
 */
static void concurrent_sub_batches(struct kunit *test)
{
	struct fake_caps caps = { .priority = 1, .weight = 1 };
	struct kthread_call batch = { .b = test_batch_alloc(test, 16, 0) };

	init_completion(&batch.done);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &caps)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &caps)->m), 0);
	fakes[0].mode = FAKE_BLOCK;
	fakes[1].mode = FAKE_BLOCK;
	KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(batch_thread, &batch, "mo_batch")));
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&fakes[0].entered, 10 * HZ), 0);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&fakes[1].entered, 10 * HZ), 0);
	complete(&fakes[0].release);
	complete(&fakes[1].release);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&batch.done, 10 * HZ), 0);
	expect_batch_copied(test, batch.b);
	KUNIT_EXPECT_PTR_NE(test, fakes[0].task, fakes[1].task);
	KUNIT_EXPECT_TRUE(test, fakes[0].task == batch.task ||
			  fakes[1].task == batch.task);
}

static int stop_thread(void *data)
{
	struct kthread_call *c = data;

	c->ret = migrate_offload_stop(c->m ?: &fakes[0].m);
	complete(&c->done);
	return 0;
}

/*
 * migrate_offload_stop() waits for a batch blocked inside the migrator,
 * and after it returns the migrator is never called again.
 */
static void unregister_with_batch_in_flight(struct kunit *test)
{
	struct kthread_call batch = { .b = test_batch_alloc(test, 4, 0) };
	struct kthread_call stop = { };
	struct test_batch *after = test_batch_alloc(test, 4, 0);
	struct mo_entry *e;
	int i;

	init_completion(&batch.done);
	init_completion(&stop.done);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	fakes[0].mode = FAKE_BLOCK;
	KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(batch_thread, &batch, "mo_batch")));
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&fakes[0].entered, 10 * HZ), 0);
	e = fake_entry(test, &fakes[0]);
	KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(stop_thread, &stop, "mo_stop")));

	/*
	 * Stop has unregistered the migrator and waits for the one call in
	 * flight (users: that call alone); it must not return while the batch
	 * is inside the migrator.
	 */
	for (i = 0; i < 500; i++) {
		if (!READ_ONCE(e->registered) && atomic_read(&e->users) == 1)
			break;
		msleep(20);
	}
	KUNIT_EXPECT_FALSE(test, READ_ONCE(e->registered));
	KUNIT_EXPECT_EQ(test, atomic_read(&e->users), 1);
	msleep(100);
	KUNIT_EXPECT_FALSE(test, completion_done(&stop.done));
	KUNIT_EXPECT_FALSE(test, completion_done(&batch.done));
	complete(&fakes[0].release);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&batch.done, 10 * HZ), 0);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&stop.done, 10 * HZ), 0);
	KUNIT_EXPECT_EQ(test, stop.ret, 0);
	expect_batch_copied(test, batch.b);

	copy_batch(MR_SYSCALL, after);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 1);
	KUNIT_EXPECT_EQ(test, batch_uncopied_pages(after), 4);
}

/*
 * Stopping a migrator waits for its own calls only: with another migrator
 * stuck in a call of the same batch (an engine that never completes), the
 * stop returns at once, and the stuck batch ends intact once released.
 */
static void unregister_not_held_by_another(struct kunit *test)
{
	struct fake_caps caps = { .priority = 1, .weight = 1 };
	struct kthread_call batch = { .b = test_batch_alloc(test, 4, 0) };
	struct kthread_call stop = { .m = &fakes[1].m };

	init_completion(&batch.done);
	init_completion(&stop.done);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &caps)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &caps)->m), 0);
	fakes[0].mode = FAKE_BLOCK;
	KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(batch_thread, &batch, "mo_batch")));
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&fakes[0].entered, 10 * HZ), 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(stop_thread, &stop, "mo_stop")));

	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&stop.done, 5 * HZ), 0);
	KUNIT_EXPECT_EQ(test, stop.ret, 0);
	KUNIT_EXPECT_FALSE(test, completion_done(&batch.done));
	complete(&fakes[0].release);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&batch.done, 10 * HZ), 0);
	expect_batch_copied(test, batch.b);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[1].pages), 2);
}

/*
 * A migration by another task, of folios no test allocated (kcompactd's,
 * say, while the suite runs), never reaches a fake: one that copies
 * nothing would hand its destinations back uninitialised, one that blocks
 * would stall it.  The fakes decline it and the CPU copies every byte.
 */
static void foreign_batch_never_reaches_fakes(struct kunit *test)
{
	struct fake_caps caps = { .priority = 1, .weight = 1 };
	struct kthread_call batch = { .b = test_batch_alloc(test, 8, 0) };
	struct folio *src;

	list_for_each_entry(src, &batch.b->src, lru)
		xa_erase(&test_folios, folio_pfn(src));
	init_completion(&batch.done);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &caps)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &caps)->m), 0);
	fakes[0].mode = FAKE_NOOP;
	fakes[1].mode = FAKE_BLOCK;
	KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(batch_thread, &batch, "mo_batch")));
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&batch.done, 10 * HZ), 0);
	expect_batch_copied(test, batch.b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls) + atomic_read(&fakes[1].calls), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&fakes[0].foreign) + atomic_read(&fakes[1].foreign), 0);
}

/* Real folios of several orders through two concurrent migrators. */
static void concurrent_real_folios(struct kunit *test)
{
	unsigned int order = *(const unsigned int *)test->param_value;
	struct fake_caps caps = { .priority = 1, .weight = 1 };
	struct test_batch *b = test_batch_alloc(test, 6, order);

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &caps)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &caps)->m), 0);
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[0].pages), 3L << order);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[1].pages), 3L << order);
}

/*
 * The cost of arbitration for a batch of 512 order-0 folios: migrators that
 * claim success without copying, against folios_mc_copy() of that batch.
 * A measurement printed for the record, not a timed assertion.
 */
static void arbitration_cost(struct kunit *test)
{
	struct fake_caps caps = { .priority = 1, .weight = 1 };
	struct test_batch *b = test_batch_alloc(test, 512, 0);
	u64 t0, copy_ns, one_ns, two_ns;
	const int runs = 20;
	int i;

	t0 = ktime_get_ns();
	for (i = 0; i < runs; i++)
		folios_mc_copy(&b->dst, &b->src, b->nr);
	copy_ns = (ktime_get_ns() - t0) / runs;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &caps)->m), 0);
	fakes[0].mode = FAKE_NOOP;
	t0 = ktime_get_ns();
	for (i = 0; i < runs; i++)
		copy_batch(MR_SYSCALL, b);
	one_ns = (ktime_get_ns() - t0) / runs;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &caps)->m), 0);
	fakes[1].mode = FAKE_NOOP;
	t0 = ktime_get_ns();
	for (i = 0; i < runs; i++)
		copy_batch(MR_SYSCALL, b);
	two_ns = (ktime_get_ns() - t0) / runs;

	kunit_info(test, "512 x 4K: CPU copy %llu ns; arbitration, 1 migrator %llu ns, 2 migrators (with workqueue hop) %llu ns\n",
		   copy_ns, one_ns, two_ns);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[0].pages) +
			atomic_long_read(&fakes[1].pages), 2L * runs * 512);
}

static struct kunit_case concurrency_cases[] = {
	KUNIT_CASE_SLOW(concurrent_sub_batches),
	KUNIT_CASE_SLOW(unregister_with_batch_in_flight),
	KUNIT_CASE_SLOW(unregister_not_held_by_another),
	KUNIT_CASE(foreign_batch_never_reaches_fakes),
	KUNIT_CASE_PARAM(concurrent_real_folios, test_order_gen_params),
	KUNIT_CASE_SLOW(arbitration_cost),
	{}
};

static struct kunit_suite concurrency_suite = {
	.name = "migrate_offload_concurrency",
	.init = fake_test_init,
	.exit = fake_test_exit,
	.test_cases = concurrency_cases,
};

/* The migrating CPU as a copier (cpu_copy "share") */

static int share_test_init(struct kunit *test)
{
	fake_test_init(test);
	return mo_set_reason_policy(MR_SYSCALL, MO_REASON_CPU_COPY, MO_CPU_SHARE);
}

/* The destinations of @b holding their data, by a snapshot of the list. */
static unsigned int dsts_copied(struct folio **dsts, unsigned int n)
{
	unsigned int i, copied = 0;

	for (i = 0; i < n; i++)
		copied += !folio_bad_pages(dsts[i], dsts[i]->index);
	return copied;
}

/*
 * The caller never idles: while a migrator holds one chunk of the batch,
 * the migrating task copies all the others itself (seen in the data, the
 * migrator still inside its call), then waits only for that chunk.  The
 * migrator is charged for its chunk alone.  It keeps its first chunk as
 * one faster than the CPU, which a first batch measures: the fake declines
 * its one chunk there, and the CPU copies the others.
 */
static void share_cpu_copies_the_rest(struct kunit *test)
{
	struct kthread_call batch = { .b = test_batch_alloc(test, 512, 0) };
	struct mo_stats __percpu *rs = &mo_reason_stats[MR_SYSCALL];
	struct test_batch *first = test_batch_alloc(test, 512, 0);
	struct folio **dsts, *dst;
	unsigned int n = 0, i;
	long shared;

	dsts = kunit_kcalloc(test, 512, sizeof(*dsts), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dsts);
	list_for_each_entry(dst, &batch.b->dst, lru)
		dsts[n++] = dst;
	init_completion(&batch.done);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	fakes[0].mode = FAKE_BUSY;
	copy_batch(MR_SYSCALL, first);
	expect_batch_copied(test, first);
	atomic_long_set(&fake_entry(test, &fakes[0])->class_tp[1], LONG_MAX / 8);
	shared = mo_stat_read(rs, MO_STAT_SHARED);
	fakes[0].mode = FAKE_BLOCK;
	KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(batch_thread, &batch, "mo_batch")));
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&fakes[0].entered, 10 * HZ), 0);
	for (i = 0; i < 500 && dsts_copied(dsts, n) < n - MO_CHUNK_PAGES; i++)
		msleep(20);
	KUNIT_EXPECT_EQ(test, dsts_copied(dsts, n), n - MO_CHUNK_PAGES);
	KUNIT_EXPECT_FALSE(test, completion_done(&batch.done));
	complete(&fakes[0].release);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&batch.done, 10 * HZ), 0);
	expect_batch_copied(test, batch.b);
	KUNIT_EXPECT_PTR_NE(test, fakes[0].task, batch.task);
	KUNIT_EXPECT_LE(test, atomic_read(&fakes[0].calls), 2);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[0].pages), MO_CHUNK_PAGES);
	KUNIT_EXPECT_EQ(test, mo_stat_read(rs, MO_STAT_SHARED) - shared,
			512 - MO_CHUNK_PAGES);
}

/*
 * Throughputs count per folio size class: a migrator fast on the whole but
 * measured many times slower than the CPU at 4 KiB folios gets none of a
 * batch of them, and is not even woken for it; the CPU copies it all.
 */
static void share_slow_class_gets_nothing(struct kunit *test)
{
	struct mo_stats __percpu *rs = &mo_reason_stats[MR_SYSCALL];
	struct test_batch *first = test_batch_alloc(test, 512, 0);
	struct test_batch *b = test_batch_alloc(test, 512, 0);
	struct mo_entry *e;
	long shared;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	e = fake_entry(test, &fakes[0]);
	fakes[0].mode = FAKE_BUSY;	/* the CPU copies, and is measured */
	copy_batch(MR_SYSCALL, first);
	expect_batch_copied(test, first);
	atomic_long_set(&e->throughput, LONG_MAX / 8);
	atomic_long_set(&e->class_tp[1], 1);
	atomic_set(&e->slow_rounds, 0);
	fakes[0].mode = FAKE_COPY;
	atomic_set(&fakes[0].calls, 0);
	shared = mo_stat_read(rs, MO_STAT_SHARED);
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 0);
	KUNIT_EXPECT_EQ(test, mo_stat_read(rs, MO_STAT_SHARED) - shared, 512);
}

/*
 * A migrator r times slower than the CPU claims as a fast one, to be
 * measured, once every 32 * r rounds: here the CPU is as much faster as
 * can be at calls of less than a chunk, so none of 63 one-folio batches
 * reaches it (every 16th did before, each at r times the CPU's cost): the
 * CPU copies them without the split (mo_cpu_alone()), one in
 * MO_ALONE_TIMED timed, so the CPU's average moves.  The one
 * whose round is its turn does reach it: the CPU leaves the migrator its
 * turn.  Calls that small are a class of their own: the same migrator,
 * measured fast at chunks of 4 KiB folios, keeps its first chunk of a
 * batch of them (with one class for all 4 KiB folios, a migrator fast at
 * long batches took every one-folio batch, at the cost of waking it).
 */
static void share_slow_measured_rarely(struct kunit *test)
{
	long cpu_tp = atomic_long_read(&mo_cpu_throughput[0]);
	struct test_batch *b = test_batch_alloc(test, 512, 0);
	struct mo_entry *e;
	int i;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	e = fake_entry(test, &fakes[0]);
	/* The CPU copies, and is measured at chunks. */
	fakes[0].mode = FAKE_BUSY;
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	/*
	 * Not measured at short calls: under TCG on a loaded host the CPU's
	 * first few were as slow as the migrator's least, 1 byte/us.
	 */
	atomic_long_set(&mo_cpu_throughput[0], LONG_MAX / 8);
	atomic_long_set(&e->class_tp[0], 1);
	atomic_long_set(&e->class_tp[1], LONG_MAX / 8);
	atomic_set(&e->slow_rounds, 0);
	fakes[0].mode = FAKE_COPY;
	atomic_set(&fakes[0].calls, 0);
	for (i = 0; i < 63; i++) {
		b = test_batch_alloc(test, 1, 0);
		copy_batch(MR_SYSCALL, b);
		expect_batch_copied(test, b);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&e->slow_rounds), 63);
	KUNIT_EXPECT_LT(test, atomic_long_read(&mo_cpu_throughput[0]), LONG_MAX / 8);
	/* Its turn comes: that one-folio batch is its, through the split. */
	atomic_set(&e->slow_rounds, -1);
	b = test_batch_alloc(test, 1, 0);
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 1);
	atomic_long_set(&fakes[0].pages, 0);
	b = test_batch_alloc(test, 512, 0);
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_GE(test, atomic_long_read(&fakes[0].pages), MO_CHUNK_PAGES);
	atomic_long_set(&mo_cpu_throughput[0], cpu_tp);
}

/* The sub-batches of the last batch of @data, the task under test. */
static unsigned int traced_subs;

static void trace_subs(void *data, int reason, unsigned int folios,
		       unsigned long pages, unsigned int copied,
		       unsigned int subs, unsigned int left)
{
	if (current == data)
		WRITE_ONCE(traced_subs, subs);
}

/*
 * A batch of one chunk, a THP or MO_CHUNK_PAGES folios of 4 KiB, that the
 * only migrator is measured slower at in its size class goes to the CPU
 * without the split: no sub-batch is set up (the batch's tracepoint counts
 * none).  The migrator is not measured at calls of less than a chunk,
 * which the split would not make of such a batch.  One page more is two
 * chunks, and takes the split, whose one sub-batch the CPU copies all the
 * same: the migrator is never called.
 */
static void share_one_chunk_alone(struct kunit *test)
{
	static const struct {
		unsigned int order, nr, subs;
	} cases[] = {
		{ PMD_ORDER, 1, 0 },
		{ 0, MO_CHUNK_PAGES, 0 },
		{ 0, MO_CHUNK_PAGES + 1, 1 },
	};
	long saved[MO_TP_CLASSES];
	unsigned int i, subs;
	struct test_batch *b;
	struct mo_entry *e;

	if (!IS_ENABLED(CONFIG_TRACEPOINTS))
		kunit_skip(test, "needs CONFIG_TRACEPOINTS");
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	e = fake_entry(test, &fakes[0]);
	for (i = 0; i < MO_TP_CLASSES; i++) {
		saved[i] = atomic_long_read(&mo_cpu_throughput[i]);
		atomic_long_set(&mo_cpu_throughput[i], LONG_MAX / 8);
		atomic_long_set(&e->class_tp[i], i ? 1 : 0);
	}
	atomic_set(&e->slow_rounds, 0);
	fakes[0].mode = FAKE_COPY;
	KUNIT_ASSERT_EQ(test, register_trace_migrate_offload_batch(trace_subs,
								   current), 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		b = test_batch_alloc(test, cases[i].nr, cases[i].order);
		WRITE_ONCE(traced_subs, UINT_MAX);
		copy_batch(MR_SYSCALL, b);
		expect_batch_copied(test, b);
		subs = READ_ONCE(traced_subs);
		KUNIT_EXPECT_EQ_MSG(test, subs, cases[i].subs, "order %u x %u",
				    cases[i].order, cases[i].nr);
	}
	unregister_trace_migrate_offload_batch(trace_subs, current);
	tracepoint_synchronize_unregister();
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 0);
	for (i = 0; i < MO_TP_CLASSES; i++)
		atomic_long_set(&mo_cpu_throughput[i], saved[i]);
}

/*
 * Nothing runs beside a batch of one chunk: the CPU would wait for the
 * migrator that has it, and pay the hop to wake it.  A migrator measured at
 * the CPU's speed, or a fifth faster, does not get a THP alone; one twice
 * as fast does.
 */
static void share_one_chunk_needs_faster(struct kunit *test)
{
	static const struct {
		long tp;
		int calls;
	} cases[] = { { 1000, 0 }, { 1200, 0 }, { 2000, 1 } };
	long saved = atomic_long_read(&mo_cpu_throughput[3]);
	struct test_batch *b;
	struct mo_entry *e;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	e = fake_entry(test, &fakes[0]);
	fakes[0].mode = FAKE_COPY;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		atomic_long_set(&mo_cpu_throughput[3], 1000);
		atomic_long_set(&e->class_tp[3], cases[i].tp);
		atomic_set(&e->slow_rounds, 0);
		atomic_set(&fakes[0].calls, 0);
		b = test_batch_alloc(test, 1, PMD_ORDER);
		copy_batch(MR_SYSCALL, b);
		expect_batch_copied(test, b);
		KUNIT_EXPECT_EQ_MSG(test, atomic_read(&fakes[0].calls),
				    cases[i].calls, "measured at %ld, the CPU at 1000",
				    cases[i].tp);
	}
	atomic_long_set(&mo_cpu_throughput[3], saved);
}

/*
 * A migrator's claims follow its measurement from its first chunk on: one
 * not measured yet keeps its first chunk of a batch, as one that may be
 * faster than the CPU, and, measured by that chunk many times slower,
 * claims no other while fewer chunks than that are left; the CPU copies
 * them.  (Paced by the measurement taken before the batch only, it
 * claimed every chunk it reached first.)
 */
static void share_paced_after_first_chunk(struct kunit *test)
{
	struct mo_stats __percpu *rs = &mo_reason_stats[MR_SYSCALL];
	struct test_batch *b = test_batch_alloc(test, 32 * MO_CHUNK_PAGES, 0);
	long saved = atomic_long_read(&mo_cpu_throughput[1]);
	long shared = mo_stat_read(rs, MO_STAT_SHARED);
	struct mo_entry *e;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	e = fake_entry(test, &fakes[0]);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&e->class_tp[1]), 0);
	atomic_long_set(&mo_cpu_throughput[1], LONG_MAX / 8);
	fakes[0].mode = FAKE_COPY;
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[0].pages), MO_CHUNK_PAGES);
	KUNIT_EXPECT_GT(test, atomic_long_read(&e->class_tp[1]), 0);
	KUNIT_EXPECT_EQ(test, mo_stat_read(rs, MO_STAT_SHARED) - shared,
			31 * MO_CHUNK_PAGES);
	atomic_long_set(&mo_cpu_throughput[1], saved);
}

/*
 * A migrator's worker is queued on an idle CPU, not on the migrating one:
 * queued from the migrating CPU, whose pod on the test VMs (one CPU a
 * socket) is that CPU alone, it started there, beside the batch's copy.
 */
static void share_worker_beside_migrating_cpu(struct kunit *test)
{
	struct kthread_call batch = { .b = test_batch_alloc(test, 512, 0) };
	struct task_struct *task;
	int cpu;

	if (num_online_cpus() < 2 || !cpu_online(0))
		kunit_skip(test, "needs CPU 0 and another");
	init_completion(&batch.done);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	fakes[0].mode = FAKE_BLOCK;
	task = kthread_create(batch_thread, &batch, "mo_batch");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	kthread_bind(task, 0);
	wake_up_process(task);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&fakes[0].entered, 10 * HZ), 0);
	cpu = READ_ONCE(fakes[0].cpu);
	complete_all(&fakes[0].release);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&batch.done, 10 * HZ), 0);
	expect_batch_copied(test, batch.b);
	KUNIT_EXPECT_NE(test, cpu, 0);
}

/*
 * A migrator claims the next chunk from the head while the CPU would not
 * copy the chunks left before the migrator copied one (the ratio, in
 * 1/MO_RATIO_ONE of a chunk), counting, once the CPU took a chunk of the
 * sub-batch, the half it has left on average of the one it copies: at 0.8
 * times the CPU's speed it claims the last chunk while the CPU copies
 * another, and not before the CPU took one; at half the CPU's speed it
 * needs two left.  The CPU claims from the tail, never the first s->keep.
 */
static void share_claim_counts_cpu_chunk(struct kunit *test)
{
	static const struct {
		unsigned int ratio, left;
		bool cpu_took;
		unsigned int keep;
		bool tail;
		int chunk;
	} cases[] = {
		{ MO_RATIO_ONE, 1, false, 0, false, 1 },
		{ MO_RATIO_ONE * 5 / 4, 1, true, 0, false, 1 },
		{ MO_RATIO_ONE * 5 / 4, 1, false, 0, false, -1 },
		{ MO_RATIO_ONE * 3 / 2, 1, true, 0, false, 1 },
		{ MO_RATIO_ONE * 3 / 2 + 1, 1, true, 0, false, -1 },
		{ MO_RATIO_ONE * 2, 1, true, 0, false, -1 },
		{ MO_RATIO_ONE * 2, 2, true, 0, false, 1 },
		{ MO_RATIO_ONE * 5 / 2, 2, true, 0, false, 1 },
		{ MO_RATIO_ONE * 5 / 2 + 1, 2, true, 0, false, -1 },
		{ MO_RATIO_ONE * 2, 2, false, 0, false, 1 },
		{ MO_RATIO_ONE * 2 + 1, 2, false, 0, false, -1 },
		{ U16_MAX, 1, false, 0, true, 1 },
		{ U16_MAX, 1, false, 2, true, -1 },
	};
	static const char * const ends[] = { "head", "tail" };
	struct mo_sub s = {};
	unsigned int i;

	/* One chunk of the head claimed, cases[i].left after it. */
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		s.ratio = cases[i].ratio;
		s.keep = cases[i].keep;
		s.chunks = 1 + cases[i].left + cases[i].cpu_took;
		atomic_set(&s.claim, (1 + cases[i].left) * MO_CLAIM_END + 1);
		KUNIT_EXPECT_EQ_MSG(test, mo_claim(&s, cases[i].tail), cases[i].chunk,
				    "%s, ratio %u/%u, %u left, the CPU took %d, %u kept",
				    ends[cases[i].tail], cases[i].ratio, MO_RATIO_ONE,
				    cases[i].left, cases[i].cpu_took, cases[i].keep);
	}
}

/*
 * Whatever a migrator does with its chunks, every pair is copied, once:
 * by a migrator, by the CPU beside it, or by the CPU after a failure.
 */
static const enum fake_mode share_modes[] = {
	FAKE_COPY, FAKE_FAIL, FAKE_FAIL_ODD, FAKE_POISON, FAKE_BUSY,
};

static void share_mode_desc(const enum fake_mode *mode, char *desc)
{
	static const char * const names[] = {
		[FAKE_COPY] = "copy", [FAKE_FAIL] = "fail",
		[FAKE_FAIL_ODD] = "fail half", [FAKE_POISON] = "poison",
		[FAKE_BUSY] = "busy",
	};

	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", names[*mode]);
}

KUNIT_ARRAY_PARAM(share_mode, share_modes, share_mode_desc);

static void share_every_pair_once(struct kunit *test)
{
	enum fake_mode mode = *(const enum fake_mode *)test->param_value;
	struct fake_caps caps = { .priority = 1, .weight = 1 };
	unsigned int orders[] = { 0, 4 }, n[] = { 256, 16 };
	struct test_batch *b = test_batch_alloc_mixed(test, orders, n, 2);
	struct mo_stats __percpu *rs = &mo_reason_stats[MR_SYSCALL];
	long shared = mo_stat_read(rs, MO_STAT_SHARED);
	long fallback = mo_stat_read(rs, MO_STAT_FALLBACK);
	long copied;

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(0, &caps)->m), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_setup(1, &caps)->m), 0);
	fakes[0].mode = mode;
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	copied = mo_stat_read(fake_entry(test, &fakes[0])->stats, MO_STAT_FOLIOS) +
		 mo_stat_read(fake_entry(test, &fakes[1])->stats, MO_STAT_FOLIOS);
	KUNIT_EXPECT_EQ(test, copied + mo_stat_read(rs, MO_STAT_SHARED) - shared +
			mo_stat_read(rs, MO_STAT_FALLBACK) - fallback, b->nr);
}

/*
 * With cpu_copy "fallback" the CPU copies nothing while a migrator copies:
 * the administrator's choice where offload is to free the CPU.
 */
static void share_off_cpu_copies_nothing(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 512, 0);
	struct mo_stats __percpu *rs = &mo_reason_stats[MR_SYSCALL];
	long shared = mo_stat_read(rs, MO_STAT_SHARED);

	KUNIT_ASSERT_EQ(test, mo_set_reason_policy(MR_SYSCALL, MO_REASON_CPU_COPY,
						   MO_CPU_FALLBACK), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fakes[0].m), 0);
	fakes[0].sleep_ms = 20;
	copy_batch(MR_SYSCALL, b);
	expect_batch_copied(test, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&fakes[0].calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fakes[0].pages), 512);
	KUNIT_EXPECT_EQ(test, mo_stat_read(rs, MO_STAT_SHARED) - shared, 0);
}

static struct kunit_case share_cases[] = {
	KUNIT_CASE_SLOW(share_cpu_copies_the_rest),
	KUNIT_CASE(share_slow_class_gets_nothing),
	KUNIT_CASE(share_slow_measured_rarely),
	KUNIT_CASE(share_one_chunk_alone),
	KUNIT_CASE(share_one_chunk_needs_faster),
	KUNIT_CASE(share_paced_after_first_chunk),
	KUNIT_CASE(share_worker_beside_migrating_cpu),
	KUNIT_CASE(share_claim_counts_cpu_chunk),
	KUNIT_CASE_PARAM(share_every_pair_once, share_mode_gen_params),
	KUNIT_CASE(share_off_cpu_copies_nothing),
	{}
};

static struct kunit_suite share_suite = {
	.name = "migrate_offload_share",
	.init = share_test_init,
	.exit = fake_test_exit,
	.test_cases = share_cases,
};

/* sysfs parsers */

struct parse_case {
	const char *desc;
	bool orders;		/* mo_parse_orders(), else mo_parse_reasons() */
	const char *buf;
	unsigned long cap;
	int ret;
	unsigned long want;
};

#define R(x)	BIT(MR_##x)
static const struct parse_case parse_cases[] = {
	{ "one reason", false, "syscall_or_cpuset\n", MO_ALL_REASONS, 0, R(SYSCALL) },
	{ "reasons, commas", false, "demotion,compaction", MO_ALL_REASONS, 0,
	  R(DEMOTION) | R(COMPACTION) },
	{ "reasons, blanks", false, " numa_misplaced  damon ", MO_ALL_REASONS, 0,
	  R(NUMA_MISPLACED) | R(DAMON) },
	{ "all reasons", false, "all", R(SYSCALL) | R(DEMOTION), 0,
	  R(SYSCALL) | R(DEMOTION) },
	{ "unknown reason", false, "syscall", MO_ALL_REASONS, -EINVAL },
	{ "reason outside cap", false, "demotion", R(SYSCALL), -EINVAL },
	{ "no reason", false, "\t\n", MO_ALL_REASONS, -EINVAL },
	{ "reason prefix", false, "demotionx", MO_ALL_REASONS, -EINVAL },
	{ "orders", true, "0 9\n", MO_ALL_ORDERS, 0, BIT(0) | BIT(9) },
	{ "sizes", true, "4K,64K,2M", MO_ALL_ORDERS, 0, BIT(0) | BIT(4) | BIT(9) },
	{ "size in bytes", true, "8192", MO_ALL_ORDERS, 0, BIT(1) },
	{ "all orders", true, "all", BIT(9), 0, BIT(9) },
	{ "order too big", true, "11", MO_ALL_ORDERS, -EINVAL },
	{ "size not a power of 2", true, "3M", MO_ALL_ORDERS, -EINVAL },
	{ "size too big", true, "1G", MO_ALL_ORDERS, -EINVAL },
	{ "size too small", true, "2K", MO_ALL_ORDERS, -EINVAL },
	{ "order outside cap", true, "0", BIT(9), -EINVAL },
	{ "garbage", true, "9x", MO_ALL_ORDERS, -EINVAL },
	{ "negative", true, "-1", MO_ALL_ORDERS, -EINVAL },
	{ "no order", true, "", MO_ALL_ORDERS, -EINVAL },
	{ "lower-case suffix", true, "64k", MO_ALL_ORDERS, 0, BIT(4) },
	{ "K overflowing to 2M", true, "18014398509484032K", MO_ALL_ORDERS, -EINVAL },
	{ "M overflowing to 2M", true, "17592186044418M", MO_ALL_ORDERS, -EINVAL },
	{ "suffix alone", true, "M", MO_ALL_ORDERS, -EINVAL },
	{ "two suffixes", true, "2MM", MO_ALL_ORDERS, -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(parse, parse_cases, desc);

static void parse_sets(struct kunit *test)
{
	const struct parse_case *c = test->param_value;
	unsigned long out = 0xdead;
	int ret;

	ret = c->orders ? mo_parse_orders(c->buf, c->cap, &out) :
			  mo_parse_reasons(c->buf, c->cap, &out);
	KUNIT_EXPECT_EQ(test, ret, c->ret);
	KUNIT_EXPECT_EQ(test, out, c->ret ? 0xdead : c->want);
}

static struct kunit_case parse_cases_list[] = {
	KUNIT_CASE_PARAM(parse_sets, parse_gen_params),
	{}
};

static struct kunit_suite parse_suite = {
	.name = "migrate_offload_sysfs_parse",
	.test_cases = parse_cases_list,
};

kunit_test_suites(&folios_mc_copy_suite, &registry_suite, &split_suite,
		  &fallback_suite, &locality_suite, &concurrency_suite,
		  &share_suite, &parse_suite);

MODULE_DESCRIPTION("KUnit tests for page migration copy offload");
MODULE_LICENSE("GPL");
