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
 * order), and the wait has a timeout; on a timeout the channels are
 * terminated, and on any error everything is unmapped and the sub-batch
 * fails, so that the core copies it elsewhere.  Channels are held only
 * while dcbm is loaded.
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
MODULE_PARM_DESC(timeout_ms, "Time a sub-batch may take before it is aborted (default 5000)");

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

struct dcbm_xfer {
	struct dma_chan *chan;
	dma_addr_t src, dst;
	size_t len;
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

static struct dma_chan *dcbm_chan(unsigned int i)
{
	return shared ? dma_find_channel(DMA_MEMCPY) : dcbm_chans[i % dcbm_nr_chans];
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
	if (dma_submit_error(dmaengine_submit(tx))) {
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

static int dcbm_copy(struct list_head *dst_list, struct list_head *src_list,
		     unsigned int cnt)
{
	struct folio *src, *dst = list_first_entry(dst_list, struct folio, lru);
	unsigned int i, n = 0;
	struct dcbm_wait w;
	struct dcbm_xfer *x;
	int ret = 0;

	x = kcalloc(cnt, sizeof(*x), GFP_NOWAIT | __GFP_NOWARN);
	if (!x)
		return -ENOMEM;
	atomic_set(&w.pending, 1);	/* ours, dropped once all are issued */
	atomic_set(&w.errors, 0);
	init_completion(&w.done);

	list_for_each_entry(src, src_list, lru) {
		x[n].chan = dcbm_chan(n);
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

	if (!atomic_dec_and_test(&w.pending) &&
	    !wait_for_completion_timeout(&w.done,
					 msecs_to_jiffies(READ_ONCE(timeout_ms)))) {
		/* After this no callback of ours runs: w may go. */
		for (i = 0; i < n; i++)
			dmaengine_terminate_sync(x[i].chan);
		ret = -ETIMEDOUT;
	}
	if (!ret && atomic_read(&w.errors))
		ret = -EIO;
	for (i = 0; i < n; i++)
		dcbm_unmap(&x[i]);
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
