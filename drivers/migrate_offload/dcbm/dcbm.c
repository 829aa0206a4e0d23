// SPDX-License-Identifier: GPL-2.0
/*
 * dcbm: copy the folios of a page migration batch with dmaengine DMA_MEMCPY
 * channels.
 *
 * At load, dcbm requests up to "channels" private DMA_MEMCPY channels by
 * capability mask; with none to be had it uses the shared ones that
 * dma_find_channel() hands out.  A sub-batch is dealt folio by folio over
 * the channels, one descriptor per folio.  Every mapping is checked, every
 * descriptor has a completion callback (engines may complete out of
 * order), and on any error everything is unmapped and the sub-batch fails,
 * so that the core copies it elsewhere.
 *
 * Real engines differ in what they report and what they can abort, and the
 * core marks a folio copied on our word, so:
 *
 * - A sub-batch succeeds only if every callback reported no error and every
 *   cookie reads DMA_COMPLETE from dmaengine_tx_status() (ptdma reports a
 *   failed descriptor only there, with a NULL callback result).
 * - A sub-batch owns its private channels exclusively: it claims free ones,
 *   one per folio at most, so concurrent callers (kswapd, move_pages, NUMA faults) never share
 *   a channel and an abort can only hit the aborting caller's own
 *   descriptors; hidma runs the callbacks of terminated descriptors as
 *   successes, which must never reach another caller.  With every channel
 *   claimed, a sub-batch is declined (-EBUSY) at once instead of queued:
 *   the core gives it to the next candidate or the CPU, which is never
 *   slower than waiting.  The cost: at most as many concurrent sub-batches
 *   as channels.
 * - A timeout aborts only channels whose device can both terminate and
 *   synchronize (no DMA in flight and no callback running afterwards).
 *   Otherwise (ioat and idxd cannot terminate) and on shared channels,
 *   which other dmaengine clients use, dcbm never abandons a transfer: it
 *   waits for completion, so no DMA outlives the copy and the wait state on
 *   the stack outlives every callback.
 * - The copy is not machine-check safe: dcbm never serves memory_failure.
 */
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/migrate.h>
#include <linux/migrate_copy_offload.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#define DCBM_MAX_CHANNELS	16

static unsigned int channels = 4;
module_param(channels, uint, 0444);
MODULE_PARM_DESC(channels, "Private channels to request (1-16, default 4)");

static bool shared;
module_param(shared, bool, 0444);
MODULE_PARM_DESC(shared, "Use shared channels (dma_find_channel()) instead of private ones");

static unsigned int timeout_ms = 5000;
module_param(timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "Time after which a sub-batch fails, aborted where the engine can abort (default 5000)");

static int priority = 20;
module_param(priority, int, 0444);
MODULE_PARM_DESC(priority, "Default priority (default 20: above mtcopy)");

static unsigned long orders = ~1UL;
module_param(orders, ulong, 0444);
MODULE_PARM_DESC(orders, "Folio orders served, BIT(order) mask (default all but order 0)");

static unsigned int min_batch_pages = 512;
module_param(min_batch_pages, uint, 0444);
MODULE_PARM_DESC(min_batch_pages, "Smallest batch taken, in base pages (default 512)");

static struct dma_chan *dcbm_chans[DCBM_MAX_CHANNELS];
static unsigned int dcbm_nr_chans;
static unsigned long dcbm_busy;		/* private channels claimed */

struct dcbm_xfer {
	struct dma_chan *chan;
	dma_addr_t src, dst;
	size_t len;
	dma_cookie_t cookie;
};

struct dcbm_wait {
	atomic_t pending;
	atomic_t errors;
	struct completion done;
};

static void dcbm_callback(void *arg, const struct dmaengine_result *res)
{
	struct dcbm_wait *w = arg;

	if (res && res->result != DMA_TRANS_NOERROR)
		atomic_inc(&w->errors);
	if (atomic_dec_and_test(&w->pending))
		complete(&w->done);
}

/*
 * Claim free private channels, at most one per folio: a sub-batch of one
 * THP leaves the others to concurrent callers.  False if none is free.
 */
static bool dcbm_claim(unsigned long *mine, unsigned int folios)
{
	unsigned int i, n = 0;

	*mine = 0;
	for (i = 0; i < dcbm_nr_chans && n < folios; i++)
		if (!test_and_set_bit(i, &dcbm_busy)) {
			*mine |= BIT(i);
			n++;
		}
	return *mine;
}

static void dcbm_release(unsigned long mine)
{
	unsigned int i;

	for_each_set_bit(i, &mine, dcbm_nr_chans)
		clear_bit(i, &dcbm_busy);
}

/* The @n-th channel of the claimed set @mine, or a shared one. */
static struct dma_chan *dcbm_chan(unsigned long mine, unsigned int n)
{
	unsigned int i;

	if (shared)
		return dma_find_channel(DMA_MEMCPY);
	n %= hweight_long(mine);
	for_each_set_bit(i, &mine, dcbm_nr_chans)
		if (!n--)
			break;
	return dcbm_chans[i];
}

/* Can a transfer on @chan be abandoned with nothing left running? */
static bool dcbm_abortable(struct dma_chan *chan)
{
	return !shared && chan->device->device_terminate_all &&
	       chan->device->device_synchronize;
}

/* Map both folios and submit one descriptor copying them. */
static int dcbm_submit(struct dcbm_xfer *x, struct folio *dst, struct folio *src,
		       struct dcbm_wait *w)
{
	struct device *dev = x->chan->device->dev;
	struct dma_async_tx_descriptor *tx;

	x->len = folio_size(src);
	x->src = dma_map_page(dev, folio_page(src, 0), 0, x->len, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, x->src))
		return -ENOMEM;
	x->dst = dma_map_page(dev, folio_page(dst, 0), 0, x->len, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, x->dst))
		goto unmap_src;
	tx = dmaengine_prep_dma_memcpy(x->chan, x->dst, x->src, x->len,
				       DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
	if (!tx)
		goto unmap_dst;
	tx->callback_result = dcbm_callback;
	tx->callback_param = w;
	atomic_inc(&w->pending);
	x->cookie = dmaengine_submit(tx);
	if (dma_submit_error(x->cookie)) {
		atomic_dec(&w->pending);
		goto unmap_dst;
	}
	return 0;
unmap_dst:
	dma_unmap_page(dev, x->dst, x->len, DMA_FROM_DEVICE);
unmap_src:
	dma_unmap_page(dev, x->src, x->len, DMA_TO_DEVICE);
	return -EIO;
}

static void dcbm_unmap(struct dcbm_xfer *x)
{
	struct device *dev = x->chan->device->dev;

	dma_unmap_page(dev, x->dst, x->len, DMA_FROM_DEVICE);
	dma_unmap_page(dev, x->src, x->len, DMA_TO_DEVICE);
}

/* Wait for all; on a timeout abort what can be, else keep waiting. */
static int dcbm_wait(struct dcbm_wait *w, struct dcbm_xfer *x, unsigned int n)
{
	unsigned long timeout = msecs_to_jiffies(READ_ONCE(timeout_ms));
	unsigned int i;

	if (wait_for_completion_timeout(&w->done, timeout))
		return 0;
	for (i = 0; i < n; i++)
		if (!dcbm_abortable(x[i].chan))
			break;
	if (i < n) {
		wait_for_completion(&w->done);
		return -ETIMEDOUT;
	}
	/* Our channels only: after this no DMA and no callback of ours runs. */
	for (i = 0; i < n; i++)
		dmaengine_terminate_sync(x[i].chan);
	return -ETIMEDOUT;
}

/* Every descriptor reported complete by its engine, whatever the callback said. */
static int dcbm_confirm(struct dcbm_xfer *x, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (dmaengine_tx_status(x[i].chan, x[i].cookie, NULL) != DMA_COMPLETE)
			return -EIO;
	return 0;
}

static int dcbm_copy(struct list_head *dst_list, struct list_head *src_list,
		     unsigned int cnt)
{
	struct folio *src, *dst = list_first_entry(dst_list, struct folio, lru);
	unsigned long mine = 0;
	unsigned int i, n = 0;
	struct dcbm_wait w;
	struct dcbm_xfer *x;
	int ret = 0, wret = 0;

	x = kcalloc(cnt, sizeof(*x), GFP_NOWAIT | __GFP_NOWARN);
	if (!x)
		return -ENOMEM;
	if (!shared && !dcbm_claim(&mine, cnt)) {
		kfree(x);
		return -EBUSY;
	}
	atomic_set(&w.pending, 1);	/* ours, dropped once all are issued */
	atomic_set(&w.errors, 0);
	init_completion(&w.done);

	list_for_each_entry(src, src_list, lru) {
		x[n].chan = dcbm_chan(mine, n);
		if (!x[n].chan) {
			ret = -ENODEV;
			break;
		}
		ret = dcbm_submit(&x[n], dst, src, &w);
		if (ret)
			break;
		n++;
		dst = list_next_entry(dst, lru);
	}
	for (i = 0; i < n; i++)
		dma_async_issue_pending(x[i].chan);

	if (!atomic_dec_and_test(&w.pending))
		wret = dcbm_wait(&w, x, n);
	ret = ret ?: wret;
	if (!ret && atomic_read(&w.errors))
		ret = -EIO;
	if (!ret)
		ret = dcbm_confirm(x, n);
	for (i = 0; i < n; i++)
		dcbm_unmap(&x[i]);
	if (!shared)
		dcbm_release(mine);
	kfree(x);
	return ret;
}

static struct migrator dcbm = {
	.name = "dcbm",
	.offload_copy = dcbm_copy,
	.owner = THIS_MODULE,
	/* A DMA read of poisoned memory is fatal on many platforms. */
	.mc_safe = false,
};

static void dcbm_release_channels(void)
{
	while (dcbm_nr_chans)
		dma_release_channel(dcbm_chans[--dcbm_nr_chans]);
	if (shared)
		dmaengine_put();
}

static int dcbm_get_channels(void)
{
	unsigned int want = clamp(channels, 1U, DCBM_MAX_CHANNELS);
	dma_cap_mask_t mask;
	struct dma_chan *chan;

	if (shared) {
		dmaengine_get();
		if (dma_find_channel(DMA_MEMCPY))
			return 0;
		dmaengine_put();
		return -ENODEV;
	}
	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	while (dcbm_nr_chans < want) {
		chan = dma_request_chan_by_mask(&mask);
		if (IS_ERR(chan))
			break;
		if (!dcbm_abortable(chan))
			pr_info("dcbm: %s cannot abort a transfer: never abandoned on a timeout\n",
				dma_chan_name(chan));
		dcbm_chans[dcbm_nr_chans++] = chan;
	}
	return dcbm_nr_chans ? 0 : -ENODEV;
}

static int __init dcbm_init(void)
{
	int ret = dcbm_get_channels();

	if (ret) {
		pr_info("dcbm: no DMA_MEMCPY channel\n");
		return ret;
	}
	dcbm.priority = priority;
	dcbm.orders = orders & GENMASK(NR_PAGE_ORDERS - 1, 0);
	dcbm.min_batch_pages = min_batch_pages;
	ret = migrate_offload_start(&dcbm);
	if (ret) {
		dcbm_release_channels();
		return ret;
	}
	pr_info("dcbm: %u %s channel(s)\n", shared ? 1 : dcbm_nr_chans,
		shared ? "shared" : "private");
	return 0;
}
module_init(dcbm_init);

static void __exit dcbm_exit(void)
{
	migrate_offload_stop(&dcbm);
	dcbm_release_channels();
}
module_exit(dcbm_exit);

MODULE_DESCRIPTION("dmaengine copy of migrating folios");
MODULE_LICENSE("GPL");
