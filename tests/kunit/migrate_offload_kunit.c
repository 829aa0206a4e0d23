// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of page migration copy offload: the CPU batch copy, the
 * content-copied marker and the migrator registry, on real folios.
 */
#include <kunit/test.h>
#include <linux/highmem.h>
#include <linux/migrate_copy_offload.h>
#include <linux/mm.h>

#include "../migrate_offload.h"

/* A batch of src/dst folio pairs, linked through ->lru like migrate.c's. */
struct test_batch {
	struct list_head src;
	struct list_head dst;
	unsigned int nr;
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

static void free_folio_list(struct list_head *list)
{
	struct folio *folio, *tmp;

	list_for_each_entry_safe(folio, tmp, list, lru) {
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

/* @nr pairs of order-@order folios; sources filled, destinations zeroed. */
static struct test_batch *test_batch_alloc(struct kunit *test,
					   unsigned int nr, unsigned int order)
{
	struct test_batch *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, b);
	INIT_LIST_HEAD(&b->src);
	INIT_LIST_HEAD(&b->dst);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, test_batch_free, b));
	for (i = 0; i < nr; i++) {
		struct folio *src = folio_alloc(GFP_KERNEL, order);
		struct folio *dst = folio_alloc(GFP_KERNEL | __GFP_ZERO, order);

		if (src)
			list_add_tail(&src->lru, &b->src);
		if (dst)
			list_add_tail(&dst->lru, &b->dst);
		KUNIT_ASSERT_NOT_NULL(test, src);
		KUNIT_ASSERT_NOT_NULL(test, dst);
		fill_folio(src, i);
		b->nr++;
	}
	return b;
}

static unsigned int batch_copied(struct test_batch *b)
{
	struct folio *dst;
	unsigned int n = 0;

	list_for_each_entry(dst, &b->dst, lru)
		n += folio_test_content_copied(dst);
	return n;
}

static void expect_batch_copied(struct kunit *test, struct test_batch *b)
{
	struct folio *dst;
	unsigned int i = 0;

	list_for_each_entry(dst, &b->dst, lru) {
		KUNIT_EXPECT_TRUE_MSG(test, folio_test_content_copied(dst),
				      "folio %u not marked", i);
		KUNIT_EXPECT_EQ_MSG(test, folio_bad_pages(dst, i), 0,
				    "folio %u has wrong contents", i);
		i++;
	}
	KUNIT_EXPECT_EQ(test, i, b->nr);
}

static const unsigned int test_orders[] = { 0, 4, 9 };

static void order_to_desc(const unsigned int *order, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "order %u", *order);
}

KUNIT_ARRAY_PARAM(test_order, test_orders, order_to_desc);

static void folios_mc_copy_copies_and_marks(struct kunit *test)
{
	unsigned int order = *(const unsigned int *)test->param_value;
	struct test_batch *b = test_batch_alloc(test, 3, order);

	KUNIT_EXPECT_EQ(test, folios_mc_copy(&b->dst, &b->src, b->nr), 0);
	expect_batch_copied(test, b);
}

static void folios_mc_copy_rejects_length_mismatch(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 2, 0);
	struct folio *extra = folio_alloc(GFP_KERNEL, 0);

	KUNIT_EXPECT_EQ(test, folios_mc_copy(&b->dst, &b->src, 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, folios_mc_copy(&b->dst, &b->src, 1), -EINVAL);
	KUNIT_ASSERT_NOT_NULL(test, extra);
	list_add_tail(&extra->lru, &b->src);
	KUNIT_EXPECT_EQ(test, folios_mc_copy(&b->dst, &b->src, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, batch_copied(b), 0);
}

static void folios_mc_copy_skips_marked(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 2, 0);
	struct folio *first = list_first_entry(&b->dst, struct folio, lru);

	folio_set_content_copied(first);
	KUNIT_EXPECT_EQ(test, folios_mc_copy(&b->dst, &b->src, b->nr), 0);
	/* The marked one was not touched: it still holds zeroes. */
	KUNIT_EXPECT_EQ(test, folio_bad_pages(first, 0), 1);
	KUNIT_EXPECT_EQ(test, folio_bad_pages(list_next_entry(first, lru), 1), 0);
}

/* Fake migrators: count calls and folios, copy or fail on request. */
static atomic_t fake_calls, fake_folios;
static int fake_ret;

static int fake_copy(struct list_head *dst, struct list_head *src,
		     unsigned int cnt)
{
	struct folio *s, *d;

	atomic_inc(&fake_calls);
	if (fake_ret)
		return fake_ret;
	d = list_first_entry(dst, struct folio, lru);
	list_for_each_entry(s, src, lru) {
		folio_copy(d, s);
		atomic_inc(&fake_folios);
		d = list_next_entry(d, lru);
	}
	return 0;
}

static bool fake_only_demotion(int reason)
{
	return reason == MR_DEMOTION;
}

static struct migrator fake_a = {
	.name = "fake_a",
	.offload_copy = fake_copy,
};

static struct migrator fake_b = {
	.name = "fake_b",
	.offload_copy = fake_copy,
	.should_batch = fake_only_demotion,
};

static int registry_test_init(struct kunit *test)
{
	atomic_set(&fake_calls, 0);
	atomic_set(&fake_folios, 0);
	fake_ret = 0;
	return 0;
}

static void registry_test_exit(struct kunit *test)
{
	migrate_offload_stop(&fake_a);
	migrate_offload_stop(&fake_b);
}

static void registry_rejects_invalid(struct kunit *test)
{
	struct migrator noname = { .offload_copy = fake_copy };
	struct migrator nocopy = { .name = "nocopy" };
	struct migrator longname = { .offload_copy = fake_copy };

	memset(longname.name, 'x', sizeof(longname.name));
	KUNIT_EXPECT_EQ(test, migrate_offload_start(NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, migrate_offload_start(&noname), -EINVAL);
	KUNIT_EXPECT_EQ(test, migrate_offload_start(&nocopy), -EINVAL);
	KUNIT_EXPECT_EQ(test, migrate_offload_start(&longname), -EINVAL);
	KUNIT_EXPECT_FALSE(test, migrate_offload_active());
}

static void registry_one_at_a_time(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, migrate_offload_active());
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_a), 0);
	KUNIT_EXPECT_TRUE(test, migrate_offload_active());
	KUNIT_EXPECT_EQ(test, migrate_offload_start(&fake_b), -EBUSY);
	KUNIT_EXPECT_EQ(test, migrate_offload_start(&fake_a), -EBUSY);
	KUNIT_EXPECT_EQ(test, migrate_offload_stop(&fake_b), -ENOENT);
	KUNIT_EXPECT_EQ(test, migrate_offload_stop(&fake_a), 0);
	KUNIT_EXPECT_FALSE(test, migrate_offload_active());
	KUNIT_EXPECT_EQ(test, migrate_offload_stop(&fake_a), -ENOENT);
	KUNIT_EXPECT_EQ(test, migrate_offload_start(&fake_b), 0);
}

static void registry_should_batch_honoured(struct kunit *test)
{
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_b), 0);
	KUNIT_EXPECT_TRUE(test, migrate_offload_should_batch(MR_DEMOTION));
	KUNIT_EXPECT_FALSE(test, migrate_offload_should_batch(MR_SYSCALL));
	KUNIT_ASSERT_EQ(test, migrate_offload_stop(&fake_b), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_a), 0);
	KUNIT_EXPECT_TRUE(test, migrate_offload_should_batch(MR_SYSCALL));
}

static void copy_batch_through_migrator(struct kunit *test)
{
	unsigned int order = *(const unsigned int *)test->param_value;
	struct test_batch *b = test_batch_alloc(test, 4, order);

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_a), 0);
	migrate_offload_copy_batch(MR_SYSCALL, &b->dst, &b->src, b->nr);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake_calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake_folios), 4);
	expect_batch_copied(test, b);
}

static void copy_batch_falls_back_to_cpu(struct kunit *test)
{
	unsigned int order = *(const unsigned int *)test->param_value;
	struct test_batch *b = test_batch_alloc(test, 4, order);

	fake_ret = -EIO;
	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_a), 0);
	migrate_offload_copy_batch(MR_SYSCALL, &b->dst, &b->src, b->nr);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake_calls), 1);
	expect_batch_copied(test, b);
}

static void stopped_migrator_never_called(struct kunit *test)
{
	struct test_batch *b = test_batch_alloc(test, 2, 0);

	KUNIT_ASSERT_EQ(test, migrate_offload_start(&fake_a), 0);
	KUNIT_ASSERT_EQ(test, migrate_offload_stop(&fake_a), 0);
	migrate_offload_copy_batch(MR_SYSCALL, &b->dst, &b->src, b->nr);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake_calls), 0);
	expect_batch_copied(test, b);
}

static struct kunit_case folios_mc_copy_cases[] = {
	KUNIT_CASE_PARAM(folios_mc_copy_copies_and_marks, test_order_gen_params),
	KUNIT_CASE(folios_mc_copy_rejects_length_mismatch),
	KUNIT_CASE(folios_mc_copy_skips_marked),
	{}
};

static struct kunit_suite folios_mc_copy_suite = {
	.name = "migrate_offload_folios_mc_copy",
	.test_cases = folios_mc_copy_cases,
};

static struct kunit_case registry_cases[] = {
	KUNIT_CASE(registry_rejects_invalid),
	KUNIT_CASE(registry_one_at_a_time),
	KUNIT_CASE(registry_should_batch_honoured),
	KUNIT_CASE_PARAM(copy_batch_through_migrator, test_order_gen_params),
	KUNIT_CASE_PARAM(copy_batch_falls_back_to_cpu, test_order_gen_params),
	KUNIT_CASE(stopped_migrator_never_called),
	{}
};

static struct kunit_suite registry_suite = {
	.name = "migrate_offload_registry",
	.init = registry_test_init,
	.exit = registry_test_exit,
	.test_cases = registry_cases,
};

kunit_test_suites(&folios_mc_copy_suite, &registry_suite);

MODULE_DESCRIPTION("KUnit tests for page migration copy offload");
MODULE_LICENSE("GPL");
