// SPDX-License-Identifier: GPL-2.0
/*
 * dcbm: copy the folios of a page migration batch with dmaengine DMA_MEMCPY
 * channels.
 *
 * At load, dcbm requests up to "channels" private DMA_MEMCPY channels per
 * NUMA node by capability mask and registers one migrator per node its
 * channels' devices sit on, "dcbm-node<N>" (local to node N), or "dcbm"
 * for devices of no node; with "shared" it registers "dcbm" over the
 * shared channel that dma_find_channel() hands out.  One migrator per node
 * rather than one choosing channels per folio: the core then routes each
 * folio to the engine near it (reasons/<r>/locality), and the administrator
 * sees, weighs and the health tracking takes out each engine on its own.
 * A sub-batch is dealt folio by folio over the channels it claims; a folio
 * larger than "segment_kib" is cut into as many pieces as there are
 * channels to spare for it, and every piece is bounded by what the device
 * can map at once (dma_max_mapping_size(): swiotlb bounces 256 KiB at most).
 *
 * Real engines differ in what they report and what they can stop; the
 * contract of each is read from its driver in
 * Documentation/mm/migrate_copy_offload.rst, and dcbm relies only on what
 * every one of them does:
 *
 * - A copy is judged by its completion callback's result, never by
 *   dmaengine_tx_status(): idxd answers DMA_OUT_OF_ORDER for every cookie,
 *   and with out-of-order completion an older cookie may read in progress
 *   after a newer one completed.
 * - Engines whose driver completes a failed descriptor with a NULL result
 *   (ptdma, zynqmp_dma), and drivers dcbm does not know, have every copy
 *   compared with its source on the CPU before it counts.
 * - No transfer is ever abandoned while it may still write: none of the
 *   engines stops work it has taken on terminate (ioat and idxd have no
 *   terminate, hidma no synchronize, ptdma and zynqmp_dma only drop what
 *   the hardware has not taken).  A sub-batch still running after
 *   "timeout_ms" is left to finish on its own: dcbm takes a reference on
 *   each destination folio and returns -EINPROGRESS, so the core fails the
 *   migration of those folios (their sources stay in place) and the
 *   destinations stay out of circulation until the engine's late
 *   completion releases them with the channels.
 * - A sub-batch owns the private channels it claims, so concurrent callers
 *   never share one, and a channel still busy with a late transfer is
 *   claimed by it; with every channel claimed a sub-batch is declined
 *   (-EBUSY) at once.  A mapping, prep or submit failure declines too: a
 *   transient condition, never held against the engine's health.
 * - A sub-batch submits a window of at most DCBM_WINDOW pieces per channel
 *   at a time, the last descriptor of each window interrupting, and waits
 *   for its windows before it reuses them: nothing is allocated per
 *   sub-batch (it runs inside reclaim), the windows are allocated with the
 *   channels at load.  Engines hold fewer descriptors per channel
 *   (zynqmp_dma 32: zynqmp_dma_prep_memcpy() returns NULL once they are all
 *   in use): a prep that fails while the sub-batch has descriptors in
 *   flight on that channel lowers the channel's window to their number.
 * - The copy is not machine-check safe: dcbm never serves memory_failure.
 */
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/migrate_copy_offload.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#define DCBM_MAX_CHANNELS	16
#define DCBM_MAX_NODES		8	/* groups of channels, by device node */
#define DCBM_MAX_SPARE		64	/* channels requested beyond a full node */
/* Pieces in flight per channel, at most: a batch of 512 4 KiB folios on 4 */
#define DCBM_WINDOW		128

static unsigned int channels = 4;
module_param(channels, uint, 0444);
MODULE_PARM_DESC(channels, "Private channels to request per NUMA node (1-16, default 4)");

static bool shared;
module_param(shared, bool, 0444);
MODULE_PARM_DESC(shared, "Use shared channels (dma_find_channel()) instead of private ones");

static int dcbm_set_timeout(const char *val, const struct kernel_param *kp)
{
	unsigned int ms;
	int ret = kstrtouint(val, 0, &ms);

	if (ret || !ms)
		return -EINVAL;
	*(unsigned int *)kp->arg = ms;
	return 0;
}

static const struct kernel_param_ops dcbm_timeout_ops = {
	.set = dcbm_set_timeout,
	.get = param_get_uint,
};

static unsigned int timeout_ms = 5000;
module_param_cb(timeout_ms, &dcbm_timeout_ops, &timeout_ms, 0644);
MODULE_PARM_DESC(timeout_ms, "Time after which a sub-batch fails and its destinations are held until the engine is done (1 or more, default 5000)");

static int priority = 20;
module_param(priority, int, 0444);
MODULE_PARM_DESC(priority, "Default priority (default 20: above mtcopy)");

static int dcbm_set_orders(const char *val, const struct kernel_param *kp)
{
	unsigned long mask;
	int ret = kstrtoul(val, 0, &mask);

	if (ret || !(mask & GENMASK(NR_PAGE_ORDERS - 1, 0)))
		return -EINVAL;
	*(unsigned long *)kp->arg = mask;
	return 0;
}

static const struct kernel_param_ops dcbm_orders_ops = {
	.set = dcbm_set_orders,
	.get = param_get_ulong,
};

static unsigned long orders = ~1UL;
module_param_cb(orders, &dcbm_orders_ops, &orders, 0444);
MODULE_PARM_DESC(orders, "Folio orders served, BIT(order) mask with a valid order (default all but order 0)");

static unsigned int min_batch_pages = 512;
module_param(min_batch_pages, uint, 0444);
MODULE_PARM_DESC(min_batch_pages, "Smallest batch taken, in base pages (default 512)");

static unsigned int segment_kib = 256;
module_param(segment_kib, uint, 0644);
MODULE_PARM_DESC(segment_kib, "Smallest piece a large folio is cut into to use more channels, KiB (default 256)");

static atomic_t held = ATOMIC_INIT(0);
module_param_named(held, held.counter, int, 0444);
MODULE_PARM_DESC(held, "Sub-batches timed out whose destinations are held until the engine completes them");

/*
 * What dcbm relies on of an engine, by the name of its driver: does a
 * failed descriptor's callback say so?  Each entry cites where the driver
 * completes a descriptor; see Documentation/mm/migrate_copy_offload.rst.
 */
static const struct dcbm_engine {
	const char *driver;
	bool reports_errors;
} dcbm_engines[] = {
	{ "ioatdma", true },		/* ioat_eh(), ioat_abort_descs() */
	{ "idxd", true },		/* idxd_dma_complete_txd() */
	{ "hidma", true },		/* hidma_process_completed() */
	{ "ptdma", false },		/* pt_handle_active_desc(): NULL */
	{ "xilinx-zynqmp-dma", false },	/* zynqmp_dma_reset(): NULL */
	{ "testdma", true },		/* testdma_complete() */
};

/* Must the copies of @chan be compared with their sources? */
static bool dcbm_must_verify(struct dma_chan *chan)
{
	const char *driver = dev_driver_string(chan->device->dev);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dcbm_engines); i++)
		if (!strcmp(driver, dcbm_engines[i].driver))
			return !dcbm_engines[i].reports_errors;
	return true;
}

/* May only the last descriptor of a channel interrupt? */
static bool dcbm_in_order(struct dma_chan *chan)
{
	return !dma_has_cap(DMA_COMPLETION_NO_ORDER, chan->device->cap_mask);
}

/*
 * The largest piece @chan's device can map at once, in base pages.  Not
 * dma_get_max_seg_size(): that bounds the segments of a scatterlist (64
 * KiB for every PCI device unless its driver raises it, and none of the
 * memcpy engines does); a memcpy prep applies the engine's own limit.
 */
static unsigned long dcbm_max_piece(struct dma_chan *chan)
{
	size_t max = dma_max_mapping_size(dmaengine_get_dma_device(chan));

	return max_t(unsigned long, max >> PAGE_SHIFT, 1);
}

struct dcbm_xfer {
	struct dma_chan *chan;
	struct folio *dst_folio;	/* referenced while held */
	struct page *dst_page, *src_page;
	dma_addr_t src, dst;
	size_t len;
	bool verify;
};

/*
 * One sub-batch's transfers, in the windows of the channels it claimed.
 * The caller ends it, or, once it gave up waiting (held), the last
 * callback's work item does; the channels are released at the end.
 */
struct dcbm_req {
	struct dcbm_node *g;
	unsigned long mine;		/* channels claimed (shared: bit 0) */
	spinlock_t lock;		/* pending, errors, held */
	unsigned int pending;		/* callbacks to come, +1 while issuing */
	unsigned int errors;
	bool held;
	struct completion done;
	struct work_struct late;
	struct list_head node;		/* on dcbm_held_list while held */
	bool wrong;			/* a piece read back wrong */
	unsigned int total;		/* pieces planned */
	unsigned int open[DCBM_MAX_CHANNELS];	/* in the current window */
};

/* The channels of one NUMA node (or of none) and their migrator. */
struct dcbm_node {
	struct migrator m;
	int nid;
	struct dma_chan *chans[DCBM_MAX_CHANNELS];
	unsigned int nr_chans;
	/*
	 * Per channel (shared: one): its window, allocated at load, and the
	 * request of the sub-batch it is the first channel of.
	 */
	struct dcbm_xfer *windows[DCBM_MAX_CHANNELS];
	struct dcbm_req reqs[DCBM_MAX_CHANNELS];
	unsigned long busy;		/* channels claimed */
	unsigned long verify;		/* channels whose copies are compared */
	unsigned long max_piece;	/* base pages, over all channels */
	/* descriptors a channel takes at once: DCBM_WINDOW or learned */
	unsigned int window[DCBM_MAX_CHANNELS];
	bool registered;
};

static struct dcbm_node *dcbm_nodes[DCBM_MAX_NODES];
static unsigned int dcbm_nr_nodes;

/*
 * The piece of @r's open windows after the one at *@pos (0: the first),
 * or NULL; *@pos then points past it.
 */
static struct dcbm_xfer *dcbm_next_open(struct dcbm_req *r, unsigned int *pos)
{
	unsigned int i = *pos / DCBM_WINDOW, j = *pos % DCBM_WINDOW;

	for (; i < DCBM_MAX_CHANNELS; i++, j = 0) {
		if ((r->mine & BIT(i)) && j < r->open[i]) {
			*pos = i * DCBM_WINDOW + j + 1;
			return &r->g->windows[i][j];
		}
	}
	return NULL;
}

static struct workqueue_struct *dcbm_wq;
static LIST_HEAD(dcbm_held_list);
static DEFINE_SPINLOCK(dcbm_held_lock);
static DECLARE_WAIT_QUEUE_HEAD(dcbm_held_wait);
static DECLARE_WAIT_QUEUE_HEAD(dcbm_window_wait);

/* Count @d more callbacks to come; earlier ones may be running. */
static void dcbm_req_add(struct dcbm_req *r, int d)
{
	unsigned long flags;

	spin_lock_irqsave(&r->lock, flags);
	r->pending += d;
	spin_unlock_irqrestore(&r->lock, flags);
}

/* Drop one pending count; true if it was the last. */
static bool dcbm_req_put(struct dcbm_req *r, bool error, bool *held_now)
{
	unsigned long flags;
	bool last;

	spin_lock_irqsave(&r->lock, flags);
	r->errors += error;
	last = !--r->pending;
	*held_now = r->held;
	spin_unlock_irqrestore(&r->lock, flags);
	return last;
}

static void dcbm_callback(void *arg, const struct dmaengine_result *res)
{
	struct dcbm_req *r = arg;
	bool held_now;

	if (!dcbm_req_put(r, res && res->result != DMA_TRANS_NOERROR, &held_now)) {
		if (wq_has_sleeper(&dcbm_window_wait))
			wake_up(&dcbm_window_wait);
		return;
	}
	if (held_now)
		queue_work(dcbm_wq, &r->late);
	else
		complete(&r->done);
}

/* Private channels each have a window; the shared one has one. */
static unsigned int dcbm_nr_windows(struct dcbm_node *g)
{
	return shared ? 1 : g->nr_chans;
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
	for (i = 0; i < dcbm_nr_windows(g) && n < want; i++)
		if (!test_and_set_bit(i, &g->busy)) {
			*mine |= BIT(i);
			n++;
		}
	return *mine;
}

static void dcbm_release(struct dcbm_node *g, unsigned long mine)
{
	unsigned int i;

	for_each_set_bit(i, &mine, DCBM_MAX_CHANNELS)
		clear_bit(i, &g->busy);
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
	return min_t(unsigned long, dcbm_nr_windows(g),
		     max_t(unsigned long, cnt, pages / dcbm_segment_pages()));
}

/*
 * Pieces of a folio of @nr pages: more than one only for folios of a
 * segment or more and fewer folios than channels, and as many as the
 * device needs to map them.
 */
static unsigned long dcbm_pieces(unsigned long nr, unsigned int chans,
				 unsigned int cnt, unsigned long max_piece)
{
	unsigned long k = min_t(unsigned long, DIV_ROUND_UP(chans, cnt),
				nr / dcbm_segment_pages());

	return max3(k, 1UL, DIV_ROUND_UP(nr, max_piece));
}

/* The @n-th channel of the claimed set, or the shared one. */
static unsigned int dcbm_chan_index(struct dcbm_req *r, unsigned int n)
{
	unsigned int i;

	n %= hweight_long(r->mine);
	for_each_set_bit(i, &r->mine, r->g->nr_chans)
		if (!n--)
			break;
	return i;
}

static void dcbm_unmap(struct dcbm_xfer *x)
{
	struct device *dev = dmaengine_get_dma_device(x->chan);

	dma_unmap_page(dev, x->dst, x->len, DMA_FROM_DEVICE);
	dma_unmap_page(dev, x->src, x->len, DMA_TO_DEVICE);
}

/*
 * Map @x and submit its copy; interrupt only where the engine may
 * complete out of order or this is the channel's last descriptor.  Any
 * failure declines: nothing of it reached the engine.
 */
static int dcbm_submit(struct dcbm_req *r, struct dcbm_xfer *x, bool last)
{
	struct device *dev = dmaengine_get_dma_device(x->chan);
	unsigned long flags = DMA_CTRL_ACK;
	struct dma_async_tx_descriptor *tx;
	dma_cookie_t cookie;

	x->src = dma_map_page(dev, x->src_page, 0, x->len, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, x->src))
		return -ENOMEM;
	x->dst = dma_map_page(dev, x->dst_page, 0, x->len, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, x->dst)) {
		dma_unmap_page(dev, x->src, x->len, DMA_TO_DEVICE);
		return -ENOMEM;
	}
	if (last || !dcbm_in_order(x->chan))
		flags |= DMA_PREP_INTERRUPT;
	tx = dmaengine_prep_dma_memcpy(x->chan, x->dst, x->src, x->len, flags);
	if (!tx)
		goto busy;
	tx->callback_result = dcbm_callback;
	tx->callback_param = r;
	dcbm_req_add(r, 1);
	cookie = dmaengine_submit(tx);
	if (!dma_submit_error(cookie))
		return 0;
	dcbm_req_add(r, -1);
busy:
	dcbm_unmap(x);
	return -EBUSY;
}

static void dcbm_issue(struct dcbm_req *r, struct dma_chan *chan)
{
	unsigned int i;

	if (chan) {
		dma_async_issue_pending(chan);
		return;
	}
	for_each_set_bit(i, &r->mine, r->g->nr_chans)
		dma_async_issue_pending(r->g->chans[i]);
}

/* Only our own count is left: every piece submitted so far completed. */
static bool dcbm_req_drained(struct dcbm_req *r)
{
	unsigned long flags;
	bool drained;

	spin_lock_irqsave(&r->lock, flags);
	drained = r->pending == 1;
	spin_unlock_irqrestore(&r->lock, flags);
	return drained;
}

/* Every piece reads back as its source: the word of a silent engine. */
static bool dcbm_verified(struct dcbm_xfer *x)
{
	unsigned long i, nr = x->len >> PAGE_SHIFT;
	bool same = true;

	for (i = 0; i < nr && same; i++) {
		void *d = kmap_local_page(nth_page(x->dst_page, i));
		void *s = kmap_local_page(nth_page(x->src_page, i));

		same = !memcmp(d, s, PAGE_SIZE);
		kunmap_local(s);
		kunmap_local(d);
	}
	return same;
}

/*
 * Unmap the pieces of the open windows of @r, completed, and compare those
 * of silent engines with their sources; the windows are free again.
 */
static void dcbm_close_windows(struct dcbm_req *r)
{
	struct dcbm_xfer *x;
	unsigned int pos;

	for (pos = 0; (x = dcbm_next_open(r, &pos));) {
		dcbm_unmap(x);
		if (x->verify && !r->wrong && !dcbm_verified(x))
			r->wrong = true;
	}
	memset(r->open, 0, sizeof(r->open));
}

/*
 * Issue what the sub-batch submitted and wait for all of it, so that its
 * channels take a new window.  -EBUSY if the engine did not complete it
 * within timeout_ms, -EIO if a piece is wrong: the sub-batch submits no
 * more.
 */
static int dcbm_drain(struct dcbm_req *r, struct dma_chan *chan)
{
	dcbm_issue(r, chan);
	if (!wait_event_timeout(dcbm_window_wait, dcbm_req_drained(r),
				msecs_to_jiffies(READ_ONCE(timeout_ms))))
		return -EBUSY;
	dcbm_close_windows(r);
	return r->wrong ? -EIO : 0;
}

/*
 * Submit @piece on channel @i of the group, in its window: a full window
 * is drained first; a prep that fails with descriptors of ours in flight
 * on the channel learns the window, drains it and tries once more.
 */
static int dcbm_submit_windowed(struct dcbm_req *r,
				const struct dcbm_xfer *piece, unsigned int i,
				struct dma_chan *chan, bool last)
{
	unsigned int *window = &r->g->window[i];
	struct dcbm_xfer *x;
	int ret;

	if (r->open[i] == READ_ONCE(*window)) {
		ret = dcbm_drain(r, chan);
		if (ret)
			return ret;
	}
	x = &r->g->windows[i][r->open[i]];
	*x = *piece;
	ret = dcbm_submit(r, x, last || r->open[i] + 1 == READ_ONCE(*window));
	if (ret == -EBUSY && r->open[i]) {
		WRITE_ONCE(*window, r->open[i]);
		ret = dcbm_drain(r, chan);
		if (ret)
			return ret;
		x = &r->g->windows[i][0];
		*x = *piece;
		ret = dcbm_submit(r, x, last || *window == 1);
	}
	if (!ret)
		r->open[i]++;
	return ret;
}

/* Describe and submit the pieces of every folio, dealt over the channels. */
static int dcbm_submit_all(struct dcbm_req *r, struct list_head *dst_list,
			   struct list_head *src_list, unsigned int cnt,
			   unsigned int chans, struct dma_chan *chan)
{
	struct folio *src, *dst = list_first_entry(dst_list, struct folio, lru);
	unsigned long nr, k, j, first, max_piece = chan ?
		dcbm_max_piece(chan) : r->g->max_piece;
	unsigned int n = 0, i;
	struct dcbm_xfer x;
	int ret;

	list_for_each_entry(src, src_list, lru) {
		nr = folio_nr_pages(src);
		k = dcbm_pieces(nr, chans, cnt, max_piece);
		for (j = 0; j < k; j++, n++) {
			i = chan ? 0 : dcbm_chan_index(r, n);
			x.chan = chan ?: r->g->chans[i];
			x.verify = chan ? dcbm_must_verify(chan) :
					  test_bit(i, &r->g->verify);
			first = j * nr / k;
			x.len = ((j + 1) * nr / k - first) << PAGE_SHIFT;
			x.dst_folio = dst;
			x.dst_page = folio_page(dst, first);
			x.src_page = folio_page(src, first);
			ret = dcbm_submit_windowed(r, &x, i, chan,
						   n + chans >= r->total);
			if (ret)
				return ret;
		}
		dst = list_next_entry(dst, lru);
	}
	return 0;
}

/* The late completion of a held sub-batch: give everything back. */
static void dcbm_late_workfn(struct work_struct *work)
{
	struct dcbm_req *r = container_of(work, struct dcbm_req, late);
	struct dcbm_xfer *x;
	unsigned int pos;

	spin_lock(&dcbm_held_lock);
	list_del(&r->node);
	spin_unlock(&dcbm_held_lock);
	for (pos = 0; (x = dcbm_next_open(r, &pos));) {
		dcbm_unmap(x);
		folio_put(x->dst_folio);
	}
	dcbm_release(r->g, r->mine);
	if (atomic_dec_and_test(&held))
		wake_up(&dcbm_held_wait);
}

/*
 * Wait for every callback.  On a timeout the transfers may still write
 * their destinations: hold those folios until the last callback, which
 * then ends the request; -EINPROGRESS tells the core not to use them.
 */
static int dcbm_wait(struct dcbm_req *r)
{
	unsigned long timeout = msecs_to_jiffies(READ_ONCE(timeout_ms));
	struct dcbm_xfer *x;
	unsigned long flags;
	unsigned int pos;
	bool now_held;

	if (wait_for_completion_timeout(&r->done, timeout))
		return 0;
	spin_lock_irqsave(&r->lock, flags);
	now_held = r->pending;
	if (now_held) {
		for (pos = 0; (x = dcbm_next_open(r, &pos));)
			folio_get(x->dst_folio);
		r->held = true;
		atomic_inc(&held);
		spin_lock(&dcbm_held_lock);
		list_add_tail(&r->node, &dcbm_held_list);
		spin_unlock(&dcbm_held_lock);
	}
	spin_unlock_irqrestore(&r->lock, flags);
	if (now_held)
		return -EINPROGRESS;
	/* The last callback is on its way to complete(). */
	wait_for_completion(&r->done);
	return 0;
}

/* Unmap, then judge: an error reported, or a silent engine's copy wrong. */
static int dcbm_finish(struct dcbm_req *r, int ret)
{
	dcbm_close_windows(r);
	if (!ret && (r->errors || r->wrong))
		ret = -EIO;
	dcbm_release(r->g, r->mine);
	return ret;
}

/* The request of a sub-batch on the channels @mine: their first one's. */
static struct dcbm_req *dcbm_req_start(struct dcbm_node *g, unsigned long mine,
				       struct list_head *src_list,
				       unsigned int cnt, unsigned int chans,
				       unsigned long max_piece)
{
	struct dcbm_req *r = &g->reqs[__ffs(mine)];
	struct folio *src;

	memset(r, 0, sizeof(*r));
	list_for_each_entry(src, src_list, lru)
		r->total += dcbm_pieces(folio_nr_pages(src), chans, cnt, max_piece);
	r->g = g;
	r->mine = mine;
	spin_lock_init(&r->lock);
	r->pending = 1;		/* ours, dropped once all are issued */
	init_completion(&r->done);
	INIT_WORK(&r->late, dcbm_late_workfn);
	return r;
}

static int dcbm_copy(struct migrator *m, struct list_head *dst_list,
		     struct list_head *src_list, unsigned int cnt)
{
	struct dcbm_node *g = container_of(m, struct dcbm_node, m);
	unsigned long mine = 0, pages = 0;
	struct dma_chan *chan = NULL;
	struct dcbm_req *r;
	unsigned int chans;
	struct folio *src;
	bool held_now;
	int ret;

	list_for_each_entry(src, src_list, lru)
		pages += folio_nr_pages(src);
	if (!dcbm_claim(g, &mine, dcbm_want(g, cnt, pages)))
		return -EBUSY;
	if (shared) {
		chan = dma_find_channel(DMA_MEMCPY);
		if (!chan) {
			dcbm_release(g, mine);
			return -EBUSY;
		}
	}
	chans = hweight_long(mine);
	r = dcbm_req_start(g, mine, src_list, cnt, chans,
			   chan ? dcbm_max_piece(chan) : g->max_piece);
	ret = dcbm_submit_all(r, dst_list, src_list, cnt, chans, chan);
	dcbm_issue(r, chan);
	if (!dcbm_req_put(r, false, &held_now) && dcbm_wait(r))
		return -EINPROGRESS;
	return dcbm_finish(r, ret);
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
	g->max_piece = ULONG_MAX;
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

/* The window of channel @i of @g, allocated once, at load. */
static int dcbm_add_window(struct dcbm_node *g, unsigned int i)
{
	g->windows[i] = kcalloc(DCBM_WINDOW, sizeof(*g->windows[i]), GFP_KERNEL);
	g->window[i] = DCBM_WINDOW;
	return g->windows[i] ? 0 : -ENOMEM;
}

static int dcbm_add_chan(struct dcbm_node *g, struct dma_chan *chan)
{
	if (dcbm_add_window(g, g->nr_chans))
		return -ENOMEM;
	if (dcbm_must_verify(chan)) {
		set_bit(g->nr_chans, &g->verify);
		pr_info("dcbm: %s (%s) does not report failed copies: every copy is compared with its source\n",
			dma_chan_name(chan), dev_driver_string(chan->device->dev));
	}
	g->max_piece = min(g->max_piece, dcbm_max_piece(chan));
	g->chans[g->nr_chans++] = chan;
	return 0;
}

/* Terminate the channels of @g that can be; the mask of those stopped. */
static unsigned long dcbm_stop_chans(struct dcbm_node *g)
{
	unsigned long stopped = 0;
	unsigned int c;

	for (c = 0; c < g->nr_chans; c++)
		if (g->chans[c] && g->chans[c]->device->device_synchronize &&
		    !dmaengine_terminate_sync(g->chans[c]))
			stopped |= BIT(c);
	return stopped;
}

/*
 * Wait for the late completions of held sub-batches.  What an engine that
 * can be stopped will never complete (its driver dropped it: zynqmp_dma
 * after an error) is given up after terminating it; its destinations stay
 * held for good, since the engine may have taken the transfer.  The others
 * are waited for: dcbm's unload is all that a hung engine blocks.
 */
static void dcbm_drain_held(void)
{
	unsigned long stopped[DCBM_MAX_NODES] = {};
	struct dcbm_req *r, *tmp;
	LIST_HEAD(given_up);
	struct dcbm_xfer *x;
	unsigned int i, pos;

	if (!atomic_read(&held))
		return;
	for (i = 0; i < dcbm_nr_nodes && !shared; i++)
		stopped[i] = dcbm_stop_chans(dcbm_nodes[i]);
	flush_workqueue(dcbm_wq);
	spin_lock(&dcbm_held_lock);
	list_for_each_entry_safe(r, tmp, &dcbm_held_list, node)
		for (i = 0; i < dcbm_nr_nodes && !shared; i++)
			if (r->g == dcbm_nodes[i] && !(r->mine & ~stopped[i]))
				list_move(&r->node, &given_up);
	spin_unlock(&dcbm_held_lock);
	list_for_each_entry_safe(r, tmp, &given_up, node) {
		pr_warn("dcbm: %u transfer(s) never completed: their destinations stay held\n",
			r->pending);
		for (pos = 0; (x = dcbm_next_open(r, &pos));)
			dcbm_unmap(x);
		atomic_dec(&held);
	}
	wait_event(dcbm_held_wait, !atomic_read(&held));
}

/*
 * Channels can go away: their device leaves its driver (unbind, removal).
 * Before the driver's remove() runs, dcbm claims the channel for good,
 * after the sub-batch or held transfer using it has ended, and releases
 * it, so that the driver unregisters a channel no client holds.  The
 * node's other channels go on; a reload of dcbm picks up a device bound
 * again.  Shared channels are dmaengine's to rebalance.
 */
#define DCBM_MAX_BUSES	4
static struct notifier_block dcbm_bus_nb[DCBM_MAX_BUSES];
static const struct bus_type *dcbm_buses[DCBM_MAX_BUSES];

static void dcbm_give_back(struct dcbm_node *g, unsigned int c)
{
	while (test_and_set_bit(c, &g->busy))
		msleep(20);
	pr_info("dcbm: %s: %s leaves its driver: channel released\n",
		g->m.name, dma_chan_name(g->chans[c]));
	dma_release_channel(g->chans[c]);
	g->chans[c] = NULL;
}

static int dcbm_bus_notify(struct notifier_block *nb, unsigned long action,
			   void *data)
{
	struct device *dev = data;
	unsigned int i, c;

	if (action != BUS_NOTIFY_UNBIND_DRIVER)
		return NOTIFY_DONE;
	for (i = 0; i < dcbm_nr_nodes; i++)
		for (c = 0; c < dcbm_nodes[i]->nr_chans; c++)
			if (dcbm_nodes[i]->chans[c] &&
			    dcbm_nodes[i]->chans[c]->device->dev == dev)
				dcbm_give_back(dcbm_nodes[i], c);
	return NOTIFY_OK;
}

/* Watch the buses of the devices of our channels. */
static int dcbm_watch_buses(void)
{
	unsigned int i, c, b;
	const struct bus_type *bus;
	int ret;

	for (i = 0; i < dcbm_nr_nodes; i++) {
		for (c = 0; c < dcbm_nodes[i]->nr_chans; c++) {
			bus = dcbm_nodes[i]->chans[c]->device->dev->bus;
			for (b = 0; b < DCBM_MAX_BUSES && dcbm_buses[b]; b++)
				if (dcbm_buses[b] == bus)
					break;
			if (!bus || b == DCBM_MAX_BUSES || dcbm_buses[b])
				continue;
			dcbm_bus_nb[b].notifier_call = dcbm_bus_notify;
			ret = bus_register_notifier(bus, &dcbm_bus_nb[b]);
			if (ret)
				return ret;
			dcbm_buses[b] = bus;
		}
	}
	return 0;
}

static void dcbm_unwatch_buses(void)
{
	unsigned int b;

	for (b = 0; b < DCBM_MAX_BUSES && dcbm_buses[b]; b++)
		bus_unregister_notifier(dcbm_buses[b], &dcbm_bus_nb[b]);
}

static void dcbm_free_nodes(void)
{
	struct dcbm_node *g;
	unsigned int i;

	dcbm_unwatch_buses();
	for (i = 0; i < dcbm_nr_nodes; i++)
		if (dcbm_nodes[i]->registered)
			migrate_offload_stop(&dcbm_nodes[i]->m);
	dcbm_drain_held();
	while (dcbm_nr_nodes) {
		g = dcbm_nodes[--dcbm_nr_nodes];
		while (g->nr_chans)
			if (g->chans[--g->nr_chans])
				dma_release_channel(g->chans[g->nr_chans]);
		for (i = 0; i < DCBM_MAX_CHANNELS; i++)
			kfree(g->windows[i]);
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
		if (!g || g->nr_chans == want || dcbm_add_chan(g, chan))
			spare[nr_spare++] = chan;
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
		return dcbm_add_window(dcbm_nodes[0], 0);
	return -ENODEV;
}

static int __init dcbm_init(void)
{
	struct dcbm_node *g;
	unsigned int i;
	int ret;

	dcbm_wq = alloc_workqueue("dcbm", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!dcbm_wq)
		return -ENOMEM;
	ret = dcbm_get_channels();
	if (ret) {
		pr_info("dcbm: no DMA_MEMCPY channel\n");
		dcbm_free_nodes();
		destroy_workqueue(dcbm_wq);
		return ret;
	}
	ret = shared ? 0 : dcbm_watch_buses();
	if (ret) {
		dcbm_free_nodes();
		destroy_workqueue(dcbm_wq);
		return ret;
	}
	for (i = 0; i < dcbm_nr_nodes; i++) {
		g = dcbm_nodes[i];
		ret = migrate_offload_start(&g->m);
		if (ret) {
			dcbm_free_nodes();
			destroy_workqueue(dcbm_wq);
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
	destroy_workqueue(dcbm_wq);
}
module_exit(dcbm_exit);

MODULE_DESCRIPTION("dmaengine copy of migrating folios");
MODULE_LICENSE("GPL");
