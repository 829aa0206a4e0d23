// SPDX-License-Identifier: GPL-2.0
/*
 * testdma: a software DMA_MEMCPY dmaengine provider, for testing only.
 *
 * QEMU emulates no memcpy-capable DMA engine, so the tests of dcbm need a
 * provider of their own.  testdma registers a real dma_device with a few
 * DMA_MEMCPY channels; descriptors issued on a channel are copied with the
 * CPU by a worker, which completes them and runs their callbacks.  Faults
 * are injected with module parameters: fail every Nth descriptor, delay
 * each burst, complete a burst in reverse order.  Other parameters make it
 * behave like the impolite real engines: no device_terminate_all (ioat,
 * idxd), no device_synchronize, a failure reported only in the descriptor
 * status with a NULL callback result (ptdma), and the callbacks of
 * terminated descriptors run as successes (qcom hidma).
 *
 * With per_node, one device sits on each online NUMA node, as one engine
 * per socket or die does on real machines.
 *
 * Completions run on a WQ_MEM_RECLAIM workqueue of its own: clients call
 * device_synchronize() from reclaim, which must not wait on a workqueue
 * that reclaim cannot count on.
 *
 * Addresses are CPU physical addresses (dma-direct without an IOMMU): this
 * is not a model of a real device and never will be.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "dmaengine.h"

#define TESTDMA_MAX_CHANNELS	16

static unsigned int channels = 4;
module_param(channels, uint, 0444);
MODULE_PARM_DESC(channels, "Number of DMA_MEMCPY channels (1-16, default 4)");

static unsigned int fail_every;
module_param(fail_every, uint, 0644);
MODULE_PARM_DESC(fail_every, "Fail every Nth descriptor, 0 = never");

static unsigned int delay_ms;
module_param(delay_ms, uint, 0644);
MODULE_PARM_DESC(delay_ms, "Delay before each burst of descriptors, in ms");

static bool out_of_order;
module_param(out_of_order, bool, 0644);
MODULE_PARM_DESC(out_of_order, "Complete each burst in reverse order");

static bool no_terminate;
module_param(no_terminate, bool, 0444);
MODULE_PARM_DESC(no_terminate, "No device_terminate_all, like ioat and idxd");

static bool no_synchronize;
module_param(no_synchronize, bool, 0444);
MODULE_PARM_DESC(no_synchronize, "No device_synchronize");

static bool status_error;
module_param(status_error, bool, 0644);
MODULE_PARM_DESC(status_error, "Report a failure only as DMA_ERROR in the status, with a NULL callback result, like ptdma");

static bool terminated_complete;
module_param(terminated_complete, bool, 0644);
MODULE_PARM_DESC(terminated_complete, "Run the callbacks of terminated descriptors as successes, like qcom hidma");

static bool per_node;
module_param(per_node, bool, 0444);
MODULE_PARM_DESC(per_node, "One device per online NUMA node, instead of one of no node");

static unsigned long completed, failed;
module_param(completed, ulong, 0444);
module_param(failed, ulong, 0444);

struct testdma_desc {
	struct dma_async_tx_descriptor tx;
	struct list_head node;
	dma_addr_t dst, src;
	size_t len;
};

struct testdma_chan {
	struct dma_chan chan;
	spinlock_t lock;		/* submitted, issued, cookies */
	struct list_head submitted;
	struct list_head issued;
	struct work_struct work;
	struct xarray errors;		/* cookies that failed (status_error) */
};

struct testdma {
	struct dma_device dd;
	struct testdma_chan chan[TESTDMA_MAX_CHANNELS];
};

static atomic_t testdma_seq = ATOMIC_INIT(0);
#define TESTDMA_MAX_DEVICES	8
static struct platform_device *testdma_pdevs[TESTDMA_MAX_DEVICES];
static struct workqueue_struct *testdma_wq;

static struct testdma_chan *to_testdma_chan(struct dma_chan *chan)
{
	return container_of(chan, struct testdma_chan, chan);
}

static struct testdma_desc *to_testdma_desc(struct dma_async_tx_descriptor *tx)
{
	return container_of(tx, struct testdma_desc, tx);
}

static dma_cookie_t testdma_tx_submit(struct dma_async_tx_descriptor *tx)
{
	struct testdma_chan *c = to_testdma_chan(tx->chan);
	dma_cookie_t cookie;

	spin_lock_bh(&c->lock);
	cookie = dma_cookie_assign(tx);
	list_add_tail(&to_testdma_desc(tx)->node, &c->submitted);
	spin_unlock_bh(&c->lock);
	return cookie;
}

static struct dma_async_tx_descriptor *
testdma_prep_memcpy(struct dma_chan *chan, dma_addr_t dst, dma_addr_t src,
		    size_t len, unsigned long flags)
{
	struct testdma_desc *d = kzalloc(sizeof(*d), GFP_NOWAIT);

	if (!d)
		return NULL;
	dma_async_tx_descriptor_init(&d->tx, chan);
	d->tx.flags = flags;
	d->tx.tx_submit = testdma_tx_submit;
	d->dst = dst;
	d->src = src;
	d->len = len;
	return &d->tx;
}

static void testdma_complete(struct testdma_chan *c, struct testdma_desc *d)
{
	unsigned int every = READ_ONCE(fail_every);
	struct dmaengine_result res = { .result = DMA_TRANS_NOERROR };
	bool in_status = READ_ONCE(status_error);

	if (every && atomic_inc_return(&testdma_seq) % every == 0) {
		res.result = DMA_TRANS_WRITE_FAILED;
		res.residue = d->len;
		failed++;
		if (in_status)
			xa_store(&c->errors, d->tx.cookie, xa_mk_value(1), GFP_ATOMIC);
	} else {
		memcpy(phys_to_virt(d->dst), phys_to_virt(d->src), d->len);
		completed++;
	}
	spin_lock_bh(&c->lock);
	dma_cookie_complete(&d->tx);
	spin_unlock_bh(&c->lock);
	dmaengine_desc_get_callback_invoke(&d->tx, in_status ? NULL : &res);
	kfree(d);
}

static void testdma_workfn(struct work_struct *work)
{
	struct testdma_chan *c = container_of(work, struct testdma_chan, work);
	struct testdma_desc *d, *tmp;
	LIST_HEAD(burst);

	spin_lock_bh(&c->lock);
	list_splice_tail_init(&c->issued, &burst);
	spin_unlock_bh(&c->lock);
	if (list_empty(&burst))
		return;
	if (READ_ONCE(delay_ms))
		msleep(READ_ONCE(delay_ms));
	if (READ_ONCE(out_of_order)) {
		list_for_each_entry_safe_reverse(d, tmp, &burst, node)
			testdma_complete(c, d);
	} else {
		list_for_each_entry_safe(d, tmp, &burst, node)
			testdma_complete(c, d);
	}
}

static void testdma_issue_pending(struct dma_chan *chan)
{
	struct testdma_chan *c = to_testdma_chan(chan);

	spin_lock_bh(&c->lock);
	list_splice_tail_init(&c->submitted, &c->issued);
	spin_unlock_bh(&c->lock);
	queue_work(testdma_wq, &c->work);
}

static enum dma_status testdma_tx_status(struct dma_chan *chan,
					 dma_cookie_t cookie,
					 struct dma_tx_state *state)
{
	enum dma_status status = dma_cookie_status(chan, cookie, state);

	if (status == DMA_COMPLETE && xa_load(&to_testdma_chan(chan)->errors, cookie))
		return DMA_ERROR;
	return status;
}

/*
 * Drop what is not being copied yet; the worker finishes its burst.  With
 * terminated_complete, the dropped descriptors' callbacks run with a NULL
 * result, which dmaengine reports as a success: what hidma does.
 */
static int testdma_terminate_all(struct dma_chan *chan)
{
	struct testdma_chan *c = to_testdma_chan(chan);
	struct testdma_desc *d, *tmp;
	LIST_HEAD(drop);

	spin_lock_bh(&c->lock);
	list_splice_tail_init(&c->submitted, &drop);
	list_splice_tail_init(&c->issued, &drop);
	spin_unlock_bh(&c->lock);
	list_for_each_entry_safe(d, tmp, &drop, node) {
		if (READ_ONCE(terminated_complete))
			dmaengine_desc_get_callback_invoke(&d->tx, NULL);
		kfree(d);
	}
	return 0;
}

static void testdma_synchronize(struct dma_chan *chan)
{
	flush_work(&to_testdma_chan(chan)->work);
}

static int testdma_alloc_chan_resources(struct dma_chan *chan)
{
	dma_cookie_init(chan);
	return 1;
}

static void testdma_free_chan_resources(struct dma_chan *chan)
{
	testdma_terminate_all(chan);
	testdma_synchronize(chan);
	xa_destroy(&to_testdma_chan(chan)->errors);
}

static int testdma_probe(struct platform_device *pdev)
{
	unsigned int i, n = clamp(channels, 1U, TESTDMA_MAX_CHANNELS);
	struct testdma *t;
	int ret;

	ret = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	t = devm_kzalloc(&pdev->dev, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	dma_cap_set(DMA_MEMCPY, t->dd.cap_mask);
	t->dd.dev = &pdev->dev;
	t->dd.copy_align = DMAENGINE_ALIGN_1_BYTE;
	t->dd.device_alloc_chan_resources = testdma_alloc_chan_resources;
	t->dd.device_free_chan_resources = testdma_free_chan_resources;
	t->dd.device_prep_dma_memcpy = testdma_prep_memcpy;
	t->dd.device_issue_pending = testdma_issue_pending;
	t->dd.device_tx_status = testdma_tx_status;
	if (!no_terminate)
		t->dd.device_terminate_all = testdma_terminate_all;
	if (!no_synchronize)
		t->dd.device_synchronize = testdma_synchronize;
	INIT_LIST_HEAD(&t->dd.channels);
	for (i = 0; i < n; i++) {
		struct testdma_chan *c = &t->chan[i];

		spin_lock_init(&c->lock);
		INIT_LIST_HEAD(&c->submitted);
		INIT_LIST_HEAD(&c->issued);
		INIT_WORK(&c->work, testdma_workfn);
		xa_init(&c->errors);
		c->chan.device = &t->dd;
		list_add_tail(&c->chan.device_node, &t->dd.channels);
	}
	platform_set_drvdata(pdev, t);
	ret = dma_async_device_register(&t->dd);
	if (!ret)
		dev_info(&pdev->dev, "test-only memcpy DMA engine, %u channels, node %d\n",
			 n, dev_to_node(&pdev->dev));
	return ret;
}

static void testdma_remove(struct platform_device *pdev)
{
	struct testdma *t = platform_get_drvdata(pdev);

	dma_async_device_unregister(&t->dd);
}

static struct platform_driver testdma_driver = {
	.driver.name = "testdma",
	.probe = testdma_probe,
	.remove = testdma_remove,
};

static void testdma_del_devices(void)
{
	unsigned int i;

	for (i = 0; i < TESTDMA_MAX_DEVICES; i++)
		if (testdma_pdevs[i])
			platform_device_unregister(testdma_pdevs[i]);
}

/* Device @id on node @nid (NUMA_NO_NODE: none), probed at once. */
static int testdma_add_device(unsigned int id, int nid)
{
	struct platform_device *pdev;
	int ret;

	pdev = platform_device_alloc("testdma", per_node ? id : PLATFORM_DEVID_NONE);
	if (!pdev)
		return -ENOMEM;
	set_dev_node(&pdev->dev, nid);
	ret = platform_device_add(pdev);
	if (ret) {
		platform_device_put(pdev);
		return ret;
	}
	testdma_pdevs[id] = pdev;
	return 0;
}

static int testdma_add_devices(void)
{
	unsigned int id = 0;
	int nid, ret;

	if (!per_node)
		return testdma_add_device(0, NUMA_NO_NODE);
	for_each_online_node(nid) {
		if (id == TESTDMA_MAX_DEVICES)
			break;
		ret = testdma_add_device(id++, nid);
		if (ret)
			return ret;
	}
	return 0;
}

static int __init testdma_init(void)
{
	int ret;

	testdma_wq = alloc_workqueue("testdma", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!testdma_wq)
		return -ENOMEM;
	ret = platform_driver_register(&testdma_driver);
	if (ret)
		goto err_wq;
	ret = testdma_add_devices();
	if (ret) {
		testdma_del_devices();
		platform_driver_unregister(&testdma_driver);
		goto err_wq;
	}
	return 0;
err_wq:
	destroy_workqueue(testdma_wq);
	return ret;
}
module_init(testdma_init);

static void __exit testdma_exit(void)
{
	testdma_del_devices();
	platform_driver_unregister(&testdma_driver);
	destroy_workqueue(testdma_wq);
}
module_exit(testdma_exit);

MODULE_DESCRIPTION("Test-only software memcpy DMA engine with fault injection");
MODULE_LICENSE("GPL");
