// SPDX-License-Identifier: GPL-2.0
/*
 * dcbm: copy the folios of a page migration batch with dmaengine DMA_MEMCPY
 * channels.
 *
 * At load, dcbm requests up to "channels" private DMA_MEMCPY channels per
 * NUMA node by capability mask and registers one migrator per node its
 * channels' devices sit on, "dcbm-node<N>" (local to node N), or "dcbm"
 * for devices of no node; with no private channel to be had it registers
 * "dcbm" over the shared ones that dma_find_channel() hands out.  One
 * migrator per node rather than one choosing channels per folio: the core
 * then routes each folio to the engine near it (reasons/<r>/locality),
 * and the administrator sees, weighs and the health tracking takes out
 * each engine on its own.  A sub-batch is dealt folio by folio over
 * the channels, one descriptor per folio; a folio larger than "segment_kib"
 * is cut into as many pieces as there are channels to spare for it, so
 * that a batch of one THP (move_pages(2) migrates THPs one per batch)
 * still keeps every channel busy.  Every mapping is checked, every
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
 *   one per folio or segment at most, so concurrent callers (kswapd,
 *   move_pages, NUMA faults) never share a channel and an abort can only
 *   hit the aborting caller's own descriptors; hidma runs the callbacks
 *   of terminated descriptors as successes, which must never reach
 *   another caller.  With every channel
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
#define DCBM_MAX_NODES		8	/* groups of channels, by device node */
#define DCBM_MAX_SPARE		64	/* channels requested beyond a full node */

static unsigned int channels = 4;
module_param(channels, uint, 0444);
MODULE_PARM_DESC(channels, "Private channels to request per NUMA node (1-16, default 4)");

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

static unsigned int segment_kib = 256;
module_param(segment_kib, uint, 0644);
MODULE_PARM_DESC(segment_kib, "Smallest piece a large folio is cut into to use more channels, KiB (default 256)");

/* The channels of one NUMA node (or of none) and their migrator. */
struct dcbm_node {
	struct migrator m;
	int nid;
	struct dma_chan *chans[DCBM_MAX_CHANNELS];
	unsigned int nr_chans;
	unsigned long busy;		/* private channels claimed */
	bool registered;
};

static struct dcbm_node *dcbm_nodes[DCBM_MAX_NODES];
static unsigned int dcbm_nr_nodes;

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
 * Claim up to @want free private channels; the others are left to
 * concurrent callers.  False if none is free.
 */
static bool dcbm_claim(struct dcbm_node *g, unsigned long *mine,
		       unsigned int want)
{
	unsigned int i, n = 0;

	*mine = 0;
	for (i = 0; i < g->nr_chans && n < want; i++)
		if (!test_and_set_bit(i, &g->busy)) {
			*mine |= BIT(i);
			n++;
		}
	return *mine;
}

static void dcbm_release(struct dcbm_node *g, unsigned long mine)
{
	unsigned int i;

	for_each_set_bit(i, &mine, g->nr_chans)
		clear_bit(i, &g->busy);
}

/* The @n-th channel of the claimed set @mine, or a shared one. */
static struct dma_chan *dcbm_chan(struct dcbm_node *g, unsigned long mine,
				  unsigned int n)
{
	unsigned int i;

	if (shared)
		return dma_find_channel(DMA_MEMCPY);
	n %= hweight_long(mine);
	for_each_set_bit(i, &mine, g->nr_chans)
		if (!n--)
			break;
	return g->chans[i];
}

/* Can a transfer on @chan be abandoned with nothing left running? */
static bool dcbm_abortable(struct dma_chan *chan)
{
	return !shared && chan->device->device_terminate_all &&
	       chan->device->device_synchronize;
}

/* Map pages [@first, @first + @nr) of both folios and submit their copy. */
static int dcbm_submit(struct dcbm_xfer *x, struct folio *dst, struct folio *src,
		       unsigned long first, unsigned long nr, struct dcbm_wait *w)
{
	struct device *dev = x->chan->device->dev;
	struct dma_async_tx_descriptor *tx;

	x->len = nr << PAGE_SHIFT;
	x->src = dma_map_page(dev, folio_page(src, first), 0, x->len, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, x->src))
		return -ENOMEM;
	x->dst = dma_map_page(dev, folio_page(dst, first), 0, x->len, DMA_FROM_DEVICE);
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

static unsigned long dcbm_segment_pages(void)
{
	return max(READ_ONCE(segment_kib) >> (PAGE_SHIFT - 10), 1U);
}

/*
 * Channels a sub-batch of @cnt folios and @pages base pages can use: one
 * per folio or per segment, whichever gives more.
 */
static unsigned int dcbm_want(struct dcbm_node *g, unsigned int cnt,
			      unsigned long pages)
{
	return min_t(unsigned long, g->nr_chans,
		     max_t(unsigned long, cnt, pages / dcbm_segment_pages()));
}

/*
 * Map and submit folio @src's copy to @dst, cut into @k pieces dealt over
 * the channels from the @n-th on; @n counts the pieces submitted.
 */
static int dcbm_submit_folio(struct dcbm_node *g, unsigned long mine,
			     struct dcbm_xfer *x, unsigned int *n,
			     struct folio *dst, struct folio *src,
			     unsigned long k, struct dcbm_wait *w)
{
	unsigned long nr = folio_nr_pages(src), j;
	int ret;

	for (j = 0; j < k; j++, (*n)++) {
		x[*n].chan = dcbm_chan(g, mine, *n);
		if (!x[*n].chan)
			return -ENODEV;
		ret = dcbm_submit(&x[*n], dst, src, j * nr / k,
				  (j + 1) * nr / k - j * nr / k, w);
		if (ret)
			return ret;
	}
	return 0;
}

static int dcbm_copy(struct migrator *m, struct list_head *dst_list,
		     struct list_head *src_list, unsigned int cnt)
{
	struct dcbm_node *g = container_of(m, struct dcbm_node, m);
	struct folio *src, *dst = list_first_entry(dst_list, struct folio, lru);
	unsigned int i, n = 0, chans = 1;
	unsigned long mine = 0, pages = 0, k;
	struct dcbm_wait w;
	struct dcbm_xfer *x;
	int ret = 0, wret = 0;

	list_for_each_entry(src, src_list, lru)
		pages += folio_nr_pages(src);
	if (!shared) {
		if (!dcbm_claim(g, &mine, dcbm_want(g, cnt, pages)))
			return -EBUSY;
		chans = hweight_long(mine);
	}
	/* A folio is cut into pieces only if cnt < chans: cnt + chans at most. */
	x = kcalloc(cnt + chans, sizeof(*x), GFP_NOWAIT | __GFP_NOWARN);
	if (!x) {
		dcbm_release(g, mine);
		return -ENOMEM;
	}
	atomic_set(&w.pending, 1);	/* ours, dropped once all are issued */
	atomic_set(&w.errors, 0);
	init_completion(&w.done);

	list_for_each_entry(src, src_list, lru) {
		/* More than one piece only for folios of a segment or more. */
		k = min_t(unsigned long, DIV_ROUND_UP(chans, cnt),
			  folio_nr_pages(src) / dcbm_segment_pages());
		ret = dcbm_submit_folio(g, mine, x, &n, dst, src, max(k, 1UL), &w);
		if (ret)
			break;
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
	dcbm_release(g, mine);
	kfree(x);
	return ret;
}

/* The group of node @nid (NUMA_NO_NODE: of none), created on first use. */
static struct dcbm_node *dcbm_node(int nid)
{
	struct dcbm_node *g;
	unsigned int i;

	for (i = 0; i < dcbm_nr_nodes; i++)
		if (dcbm_nodes[i]->nid == nid)
			return dcbm_nodes[i];
	if (dcbm_nr_nodes == DCBM_MAX_NODES)
		return NULL;
	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g)
		return NULL;
	g->nid = nid;
	g->m = (struct migrator) {
		.copy = dcbm_copy,
		.owner = THIS_MODULE,
		.priority = priority,
		.orders = orders & GENMASK(NR_PAGE_ORDERS - 1, 0),
		.min_batch_pages = min_batch_pages,
		/* A DMA read of poisoned memory is fatal on many platforms. */
		.mc_safe = false,
	};
	if (nid == NUMA_NO_NODE) {
		strscpy(g->m.name, "dcbm");
	} else {
		snprintf(g->m.name, sizeof(g->m.name), "dcbm-node%d", nid);
		node_set(nid, g->m.nodes);
	}
	dcbm_nodes[dcbm_nr_nodes++] = g;
	return g;
}

static void dcbm_free_nodes(void)
{
	struct dcbm_node *g;

	while (dcbm_nr_nodes) {
		g = dcbm_nodes[--dcbm_nr_nodes];
		if (g->registered)
			migrate_offload_stop(&g->m);
		while (g->nr_chans)
			dma_release_channel(g->chans[--g->nr_chans]);
		kfree(g);
	}
	if (shared)
		dmaengine_put();
}

/*
 * Request private channels until every node has "channels" or none is
 * left; channels of a node already served are held until the end, so that
 * the next request finds another one, then released.
 */
static int dcbm_get_private(void)
{
	unsigned int want = clamp(channels, 1U, DCBM_MAX_CHANNELS), nr_spare = 0;
	struct dma_chan *chan, *spare[DCBM_MAX_SPARE];
	struct dcbm_node *g;
	dma_cap_mask_t mask;

	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	while (nr_spare < DCBM_MAX_SPARE) {
		chan = dma_request_chan_by_mask(&mask);
		if (IS_ERR(chan))
			break;
		g = dcbm_node(dev_to_node(chan->device->dev));
		if (!g || g->nr_chans == want) {
			spare[nr_spare++] = chan;
			continue;
		}
		if (!dcbm_abortable(chan))
			pr_info("dcbm: %s cannot abort a transfer: never abandoned on a timeout\n",
				dma_chan_name(chan));
		g->chans[g->nr_chans++] = chan;
	}
	while (nr_spare)
		dma_release_channel(spare[--nr_spare]);
	return dcbm_nr_nodes ? 0 : -ENODEV;
}

static int dcbm_get_channels(void)
{
	if (!shared)
		return dcbm_get_private();
	dmaengine_get();
	if (dma_find_channel(DMA_MEMCPY) && dcbm_node(NUMA_NO_NODE))
		return 0;
	dmaengine_put();
	return -ENODEV;
}

static int __init dcbm_init(void)
{
	int ret = dcbm_get_channels();
	struct dcbm_node *g;
	unsigned int i;

	if (ret) {
		pr_info("dcbm: no DMA_MEMCPY channel\n");
		return ret;
	}
	for (i = 0; i < dcbm_nr_nodes; i++) {
		g = dcbm_nodes[i];
		ret = migrate_offload_start(&g->m);
		if (ret) {
			dcbm_free_nodes();
			return ret;
		}
		g->registered = true;
		pr_info("dcbm: %s: %u %s channel(s)\n", g->m.name,
			shared ? 1 : g->nr_chans, shared ? "shared" : "private");
	}
	return 0;
}
module_init(dcbm_init);

static void __exit dcbm_exit(void)
{
	dcbm_free_nodes();
}
module_exit(dcbm_exit);

MODULE_DESCRIPTION("dmaengine copy of migrating folios");
MODULE_LICENSE("GPL");
